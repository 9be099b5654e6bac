#!/bin/sh
# Valgrind memcheck (docs/testing.md): builds build-valgrind/ and runs the Check suites (suite
# 'check') under the 'valgrind' test setup of meson.build. Invalid reads and writes, jumps on
# uninitialised values, bad frees and leaks (definite, indirect, possible) fail the stage.
# Scripts and interpreters are not run under valgrind: their own errors are not rill's.
set -e
dir=build-valgrind
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
meson test -C "$dir" --setup=valgrind --suite check --num-processes 2 --print-errorlogs
