#!/bin/sh
# Line and branch coverage of the library (lib/) and the rill command's text readers
# (tools/reader.c) by every meson test, with thresholds (docs/testing.md, "Coverage"):
#   lib/                       >= 95% of lines and >= 90% of branches
#   the model loader           100% of branches (lib/blob.c: rill_model_load_alloc and the
#                              functions it reads with; scripts/coverage_check.py lists them)
#   tools/reader.c             100% of branches
# Builds build-coverage/ (-Db_coverage=true, debug), clears old counters, runs the tests,
# prints the per-file table and exits non-zero below a threshold. gcovr >= 5.
# Branches the compiler adds for exceptions or proves unreachable are left out
# (--exclude-throw-branches, --exclude-unreachable-branches); see docs/testing.md for the few
# lines marked GCOVR_EXCL.
set -e
cd "$(dirname "$0")/.."
dir=build-coverage
if [ ! -f "$dir/build.ninja" ]; then
    # atomic counters: the threads tests run the kernels on two threads at once, and plain
    # counter updates can be lost, which gcov then reports as negative branch counts
    meson setup "$dir" -Db_coverage=true --buildtype=debug -Dc_args=-fprofile-update=atomic \
        >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
find "$dir" -name '*.gcda' -delete
meson test -C "$dir" --num-processes 2 --print-errorlogs ${RILL_COVERAGE_TESTS:-} >/dev/null ||
    { echo "coverage: the tests failed (see $dir/meson-logs/testlog.txt)"; exit 1; }

opts="-r . --exclude-unreachable-branches --exclude-throw-branches"
gcovr $opts --filter 'lib/' --filter 'tools/reader\.c' --txt --branches "$dir" |
    sed -n '/^File/,$p'
gcovr $opts --filter 'lib/' --filter 'tools/reader\.c' --json "$dir/coverage.json" "$dir"
/usr/bin/python3 scripts/coverage_check.py "$dir/coverage.json"
