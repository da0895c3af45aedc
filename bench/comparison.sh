#!/bin/sh
# Other-distribution comparison: CPU time and peak memory of importing a
# Debian Packages file of N packages (default 60000, about Debian main's
# size) into a fresh SQLite database (or DATABASE_URL's), importing it again
# unchanged, and matching again. Prints the figures; asserts nothing.
set -eu
N=${1:-60000}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/layerindex" ./cmd/layerindex
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "Package: pkg%d-lib%d-dev\nVersion: 1.%d-1\nSection: libs\nProvides: virt%d\nDescription: package number %d\n long description\n\n", i, i % 97, i, i % 500, i }' > "$work/Packages"
export LAYERINDEX_DATA_DIR="$work/data" LAYERINDEX_LOG_LEVEL=error
"$work/layerindex" branch add "bench-master-$$" >/dev/null
run() {
	label=$1; shift
	/usr/bin/time -f "$label: user %U s, sys %S s, wall %e s, peak RSS %M KB" "$work/layerindex" "$@" >/dev/null
}
db=SQLite
if [ -n "${DATABASE_URL:-}" ]; then db=PostgreSQL; fi
echo "$N packages ($(wc -c < "$work/Packages") bytes), $db"
run "first import" comparison import --branch "bench-$$" --match-branch "bench-master-$$" --format deb "$work/Packages"
run "unchanged re-import" comparison import --branch "bench-$$" --format deb "$work/Packages"
run "match again" comparison match --branch "bench-$$"
