#!/bin/sh
# The performance table of docs/performance.md: builds rill in release mode (build-bench/),
# runs bench/compare.py (rill_bench against scikit-learn, LIBLINEAR and numpy on the same
# data) and writes the table, the raw figures and the plot to bench/results/.
#   bench/run.sh [--quick] [compare.py options...]
# Needs /usr/bin/python3 with numpy, scikit-learn, matplotlib and python3-liblinear.
# Takes about half an hour at full size; --quick runs small shapes in a few minutes.
set -e
cd "$(dirname "$0")/.."
dir=build-bench
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$dir" -j2 bench/rill_bench >/dev/null
out=bench/results
mkdir -p "$out"
/usr/bin/python3 bench/compare.py --bench "$dir/bench/rill_bench" \
    --json "$out/results.json" --markdown "$out/table.md" --plot "$out/performance.png" "$@"
echo "wrote $out/table.md, $out/results.json, $out/performance.png" >&2
