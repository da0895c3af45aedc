#!/usr/bin/env bash
# Prints the binary size, the cold and warm start time of `layerindex serve`
# (process start → /healthz answering; cold = empty data directory, so it
# includes creating the SQLite database and every migration), and the idle
# resident memory after IDLE seconds (default 20).
# Usage: bench/startup.sh [IDLE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-20}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=

CGO_ENABLED=0 go build -o "$tmp/layerindex" ./cmd/layerindex
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$tmp/layerindex-stripped" ./cmd/layerindex
printf 'binary size: %.1f MB (stripped: %.1f MB)\n' \
  "$(echo "$(stat -c %s "$tmp/layerindex") / 1000000" | bc -l)" \
  "$(echo "$(stat -c %s "$tmp/layerindex-stripped") / 1000000" | bc -l)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
startup() { # sets pid and ms: milliseconds until /healthz answers
  local t0 t1
  t0=$(date +%s%N)
  "$tmp/layerindex-stripped" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" --log-level warn >>"$tmp/log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.005; done
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
}
startup
echo "cold start (empty data dir, migrations): $ms ms"
kill -TERM $pid; wait $pid
startup
echo "warm start (existing database):          $ms ms"
curl -fs "http://127.0.0.1:$port/" >/dev/null
sleep "$idle"
echo "idle RSS after ${idle}s: $(( $(ps -o rss= -p $pid) / 1024 )) MB"
t0=$(date +%s%N); kill -TERM $pid; wait $pid; t1=$(date +%s%N)
echo "shutdown on SIGTERM: $(( (t1 - t0) / 1000000 )) ms"
