#!/usr/bin/env bash
# Web UI latency and throughput on the realistic-size synthetic index
# (storetest.RealisticSize: 2 branches × ~3,500 recipes, loaded through the
# store by bench/webdata), on SQLite and PostgreSQL, with wrk on loopback.
# Prints, per page: requests/s, p50 and p99 latency, and the targets
# (20× upstream's request rate, p99 ≤ 25 ms), twice: "cached" repeats the
# same URL, as the server's page cache serves it to anonymous visitors until
# the index changes; "uncached" adds a unique dummy parameter to every
# request, so each one is rendered from the database (the worst case, e.g.
# right after an update run). The machine is shared, so each line also
# gives the server's own CPU time per request ("cpu/req", from /proc), which
# does not depend on what else runs: 2 cores / cpu/req bounds the rate on
# a dedicated 2-core machine.
#
# Usage: bench/web.sh [sqlite|postgres|both] [SECONDS] [CONNECTIONS]
#   WEBDATA=corpus: index the real layers of the shared corpus instead
#   (openembedded-core + meta-openembedded's ten layers on master and
#   scarthgap, through the real ingestion), as the issue's figures ask.
#   PostgreSQL: a throw-away database is created through
#   $LAYERINDEX_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
# Needs wrk (apt-get install wrk), curl and psql (for PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-both}
secs=${2:-10}
conns=${3:-16}
admin=${LAYERINDEX_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
pgdb=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$pgdb" ] && psql "$admin" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -trimpath -o "$tmp/layerindex" ./cmd/layerindex
go build -o "$tmp/webdata" ./bench/webdata
cat >"$tmp/nocache.lua" <<'LUA'
-- A unique dummy parameter per request defeats the page cache.
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local sep = wrk.path:find("?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "nocache=" .. math.random(1, 2^31))
end
LUA
webdata_args=()
detail_layer=meta-syn-1
if [ "${WEBDATA:-}" = corpus ]; then
  shared=${LAYERINDEX_SHARED:-}
  for d in "$shared" ../shared /work/shared; do [ -n "$d" ] && [ -d "$d/corpus" ] && { shared=$(cd "$d" && pwd); break; }; done
  webdata_args=(-corpus "$shared")
  detail_layer=meta-oe
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# page name | path | upstream req/s (for the 20× target)
pages() {
  local busybox=$1
  cat <<LIST
layer list|/layerindex/branch/master/layers/|226
layer detail|/layerindex/branch/master/layer/$detail_layer/|23
search glib|/layerindex/branch/master/recipes/?q=glib|29
search pn:busybox|/layerindex/branch/master/recipes/?q=pn%3Abusybox|29
search depends:zlib|/layerindex/branch/master/recipes/?q=depends%3Azlib|29
recipe detail|$busybox|77
LIST
}

run_db() {
  local name=$1; shift
  local args=("$@")
  echo
  echo "== $name: loading the ${WEBDATA:-synthetic} index"
  "$tmp/webdata" "${webdata_args[@]}" "${args[@]}"
  "$tmp/layerindex" serve --listen "127.0.0.1:$port" --embedded-worker=false --log-level warn "${args[@]}" >"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  local busybox
  busybox=$(curl -s -o /dev/null -w '%{redirect_url}' "$base/layerindex/branch/master/recipes/?q=pn%3Abusybox")
  busybox=${busybox#"$base"}
  [ -n "$busybox" ] || { echo "pn:busybox did not redirect to a recipe" >&2; exit 1; }
  for mode in cached uncached; do
  local lua=()
  [ "$mode" = uncached ] && lua=(-s "$tmp/nocache.lua")
  echo "-- $mode"
  printf '%-20s %10s %9s %9s %9s %12s  %s\n' page "req/s" p50 p99 "cpu/req" "target req/s" verdict
  while IFS='|' read -r label path upstream; do
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
    case $code in 200|302) ;; *) echo "$label: HTTP $code for $path" >&2; exit 1 ;; esac
    wrk -t2 -c"$conns" -d2s "${lua[@]}" "$base$path" >/dev/null            # warm-up
    local out rps p50 p99 bad t0 t1 n cpu
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "${lua[@]}" "$base$path")
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0fus", (b - a) / hz * 1e6 / n }')
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    local target=$((upstream * 20)) verdict
    verdict=$(awk -v r="$rps" -v t="$target" -v p="$p99" 'BEGIN {
      ms = p + 0; if (p ~ /us$/) ms /= 1000; else if (p ~ /[^m]s$/) ms *= 1000;
      print ((r + 0 >= t && ms <= 25) ? "meets" : "MISSES") }')
    [ -n "$bad" ] && verdict="$verdict ($bad bad responses)"
    printf '%-20s %10.0f %9s %9s %9s %12d  %s\n' "$label" "$rps" "$p50" "$p99" "$cpu" "$target" "$verdict"
  done < <(pages "$busybox")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

echo "web benchmark: wrk -t2 -c$conns -d${secs}s on $(nproc) cores, $(go env GOVERSION); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$which_db" = sqlite ] || [ "$which_db" = both ]; then
  run_db SQLite --data-dir "$tmp/data"
fi
if [ "$which_db" = postgres ] || [ "$which_db" = both ]; then
  pgdb="layerindex_bench_$$"
  psql "$admin" -qc "CREATE DATABASE $pgdb" >/dev/null
  url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin" "$pgdb")
  run_db PostgreSQL --data-dir "$tmp/pgdata" --database-url "$url"
fi
