#!/usr/bin/env bash
# Measures the REST API of the real binary with wrk over loopback, on an
# index of realistic size (storetest.RealisticSize: 2 branches x 11 layers x
# 320 recipes, about 3,520 recipes per branch), on SQLite and PostgreSQL:
#
#   requests/s and p99 latency, 16 connections, for
#     recipes/?filter=layerbranch__branch__name:master   (1.7 MB; what bitbake/Toaster pull)
#        uncached (Cache-Control: no-cache: database scan + encoding every time),
#        cached (the response cache of the current index version), gzip, and 304
#     layerBranches/ and layerItems/
#   peak server RSS (VmHWM) of a fresh server during 16 concurrent full dumps
#     (the branch's recipes, and every recipe of both branches), uncached.
#
# Upstream (Django) serves that recipes dump at 18 req/s (p99 1.2 s) and
# layerItems/layerBranches at about 800 req/s on this kind of machine.
#
# Usage: bench/api.sh [sqlite|postgres|both] [SECONDS_PER_RUN]
# PostgreSQL: $LAYERINDEX_TEST_POSTGRES (an admin URL; default
# postgres://postgres@127.0.0.1:5432/postgres), a throw-away database is
# created and dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
secs=${2:-10}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
pgdb=
admin=${LAYERINDEX_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$pgdb" ] && psql "$admin" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$tmp/layerindex" ./cmd/layerindex
CGO_ENABLED=0 go build -o "$tmp/seed" ./bench/seed
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
api="http://127.0.0.1:$port/layerindex/api"

start() { # starts a fresh server with the dialect's settings in $dbargs
  "$tmp/layerindex" serve --listen "127.0.0.1:$port" --embedded-worker=false --log-level warn "${dbargs[@]}" >>"$tmp/log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.05; done
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }

run() { # name, path, [header]: one wrk run, one result line
  local name=$1 path=$2 out
  shift 2
  local hdr=()
  for h in "$@"; do hdr+=(-H "$h"); done
  out=$(wrk -t2 -c16 -d"${secs}s" --latency "${hdr[@]}" "$api/$path")
  printf '  %-44s %9s req/s   p99 %9s   %s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(awk '/Transfer\/sec/ {print $2 "/s"}' <<<"$out")"
}

peak() { # name, path, [header]: fresh server, 16 concurrent dumps, peak RSS
  local name=$1 path=$2
  shift 2
  local hdr=()
  for h in "$@"; do hdr+=(-H "$h"); done
  start
  curl -fs -o /dev/null "$api/$path"
  local before after
  before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wrk -t2 -c16 -d"${secs}s" "${hdr[@]}" "$api/$path" >/dev/null
  after=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  printf '  %-44s RSS before %4d MB, peak %4d MB\n' "$name" $((before / 1024)) $((after / 1024))
  stop
}

bench() {
  echo "== $1 (load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
  "$tmp/seed" "${seedargs[@]}" | sed 's/^/  /'
  start
  local b="recipes/?filter=layerbranch__branch__name:master"
  curl -fs -o "$tmp/dump.json" "$api/$b"
  echo "  recipes dump: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$tmp/dump.json") recipes, $(stat -c %s "$tmp/dump.json") bytes, gzipped $(curl -fs -H 'Accept-Encoding: gzip' "$api/$b" | wc -c) bytes"
  run "recipes (branch) uncached" "$b" "Cache-Control: no-cache"
  run "recipes (branch) cached" "$b"
  run "recipes (branch) gzip, uncached" "$b" "Accept-Encoding: gzip" "Cache-Control: no-cache"
  run "recipes (branch) gzip, cached" "$b" "Accept-Encoding: gzip"
  etag=$(curl -fsI "$api/$b" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
  run "recipes (branch) If-None-Match -> 304" "$b" "If-None-Match: $etag"
  run "layerBranches uncached" "layerBranches/" "Cache-Control: no-cache"
  run "layerBranches cached" "layerBranches/"
  run "layerItems uncached" "layerItems/" "Cache-Control: no-cache"
  run "layerItems cached" "layerItems/"
  run "layerDependencies?filter=branch (bitbake)" "layerDependencies/?filter=layerbranch__branch__name:master"
  stop
  peak "16 x recipes (branch) uncached" "$b" "Cache-Control: no-cache"
  peak "16 x recipes (all, 3.4 MB) uncached" "recipes/" "Cache-Control: no-cache"
  peak "16 x recipes (branch) cached" "$b"
}

if [ "$which" = sqlite ] || [ "$which" = both ]; then
  dbargs=(--data-dir "$tmp/data")
  seedargs=(--data-dir "$tmp/data")
  bench SQLite
fi
if [ "$which" = postgres ] || [ "$which" = both ]; then
  pgdb=layerindex_bench_$$
  psql "$admin" -qc "CREATE DATABASE $pgdb" >/dev/null
  url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$admin" "$pgdb")
  dbargs=(--database-url "$url" --data-dir "$tmp/pgdata")
  seedargs=(--database-url "$url")
  bench PostgreSQL
fi
