#!/bin/sh
# ThreadSanitizer on the thread-safety contract (tests/test_threads.c): distinct models on
# distinct threads, and concurrent const calls on one shared model. Portable kernels only
# (OpenBLAS runs threads of its own). Uses clang when present, else gcc.
set -e
dir=build-tsan
if [ ! -f "$dir/build.ninja" ]; then
    cc_for_tsan=gcc
    command -v clang >/dev/null 2>&1 && cc_for_tsan=clang
    CC=$cc_for_tsan meson setup "$dir" --buildtype=debugoptimized -Db_sanitize=thread \
        -Db_lundef=false -Dblas=disabled >/dev/null
fi
ninja -C "$dir" -j2 tests/test_threads >/dev/null
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
    meson test -C "$dir" --no-rebuild --print-errorlogs threads
