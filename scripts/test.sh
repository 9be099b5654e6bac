#!/bin/sh
# Builds rill and runs every test: the meson test suites on the release build, then each
# stage in scripts/ci/ (sanitizers, valgrind, cross builds, ...), each in its own build
# directory. `sh scripts/test.sh quick` runs the meson suites only.
set -e
cd "$(dirname "$0")/.."
if [ "${1:-}" = quick ]; then
    sh scripts/setup.sh
    meson test -C build --print-errorlogs
    exit 0
fi
sh scripts/setup.sh test
meson test -C build --print-errorlogs
for stage in scripts/ci/[0-9]*.sh; do
    [ -f "$stage" ] || continue
    echo "==== $stage"
    start=$(date +%s)
    sh "$stage"
    echo "==== $stage passed in $(( $(date +%s) - start )) s"
done
echo "all tests passed"
