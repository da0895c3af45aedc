#!/bin/sh
# Parse the shared ground-truth layers with `layerindex parse` (each with
# the dependency layers BitBake had on BBPATH, in its order), measure wall
# time and peak RSS, and score the output with the external metrics: the
# core fields (accuracy.py) and every key layerindex stores
# (accuracy_full.py).
# Usage: bench/parse-corpus.sh [SHARED_DIR]   (default /work/shared)
set -eu
shared=${1:-/work/shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$(cd "$(dirname "$0")/.." && pwd)
go build -o "$work/layerindex" "$root/cmd/layerindex"
for r in openembedded-core meta-openembedded meta-virtualization meta-swupdate; do
	tar -C "$work" -xf "$shared/corpus/$r.git.tar"
done
mkdir -p "$work/oe" "$work/moe" "$work/virt" "$work/swu"
git --git-dir "$work/oe-core.git" archive 35a2c6ed7987 meta | tar -C "$work/oe" -x
git --git-dir "$work/meta-openembedded.git" archive 43fd2c88f1ab | tar -C "$work/moe" -x
git --git-dir "$work/meta-virtualization.git" archive 4ba5825ee16f | tar -C "$work/virt" -x
git --git-dir "$work/meta-swupdate.git" archive 5e069ecc5c5d | tar -C "$work/swu" -x
gt=$shared/groundtruth
layer() {
	name=$1 truth=$2
	shift 2
	echo "== $name"
	/usr/bin/time -f "wall %e s, user %U s, peak RSS %M KB" "$work/layerindex" parse "$@" > "$work/out.jsonl"
	python3 "$shared/tools/accuracy.py" --quiet "$gt/$truth" "$work/out.jsonl"
	python3 "$shared/tools/accuracy_full.py" "$gt/$truth" "$work/out.jsonl" | tail -1
}
oe=$work/oe/meta moe=$work/moe
layer "oe-core meta" openembedded-core@35a2c6ed-meta.jsonl "$oe"
layer "meta-oe" meta-openembedded@43fd2c88-meta-oe.jsonl --with "$oe" "$moe/meta-oe"
layer "meta-gnome" meta-openembedded@43fd2c88-meta-gnome.jsonl --with "$oe" --with "$moe/meta-oe" \
	--with "$moe/meta-networking" --with "$moe/meta-python" "$moe/meta-gnome"
layer "meta-virtualization" meta-virtualization@4ba5825e.jsonl --with "$oe" --with "$moe/meta-oe" \
	--with "$moe/meta-networking" --with "$moe/meta-filesystems" --with "$moe/meta-python" \
	--with "$moe/meta-webserver" "$work/virt"
layer "meta-swupdate" meta-swupdate@5e069ecc.jsonl --with "$moe/meta-oe" --with "$oe" "$work/swu"
