#!/bin/sh
# Parse the shared corpus layers with `layerindex parse`, measure wall time
# and peak RSS, and score the output with the external metric.
# Usage: bench/parse-corpus.sh [SHARED_DIR]   (default /work/shared)
set -eu
shared=${1:-/work/shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$(cd "$(dirname "$0")/.." && pwd)
go build -o "$work/layerindex" "$root/cmd/layerindex"
tar -C "$work" -xf "$shared/corpus/openembedded-core.git.tar"
tar -C "$work" -xf "$shared/corpus/meta-openembedded.git.tar"
mkdir -p "$work/oe" "$work/moe"
git --git-dir "$work/oe-core.git" archive 35a2c6ed7987 meta | tar -C "$work/oe" -x
git --git-dir "$work/meta-openembedded.git" archive 43fd2c88f1ab meta-oe | tar -C "$work/moe" -x
echo "== oe-core meta"
/usr/bin/time -f "wall %e s, user %U s, peak RSS %M KB" "$work/layerindex" parse "$work/oe/meta" > "$work/oe.jsonl"
python3 "$shared/tools/accuracy.py" "$shared/groundtruth/openembedded-core@35a2c6ed-meta.jsonl" "$work/oe.jsonl"
echo "== meta-oe (with oe-core meta)"
/usr/bin/time -f "wall %e s, user %U s, peak RSS %M KB" "$work/layerindex" parse --with "$work/oe/meta" "$work/moe/meta-oe" > "$work/moe.jsonl"
python3 "$shared/tools/accuracy.py" "$shared/groundtruth/meta-openembedded@43fd2c88-meta-oe.jsonl" "$work/moe.jsonl"
