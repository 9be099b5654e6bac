#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer (docs/testing.md): builds build-asan/ with
# -Db_sanitize=address,undefined and runs the whole meson test suite. Any ASan report (overflow,
# use after free, leak) or UBSan report (overflow, misaligned access, bad shift, ...) fails it.
# Tests in suite 'python' load the library into the interpreter through ctypes: they run with
# the sanitizer runtimes preloaded and leak detection off (the interpreter's own allocations
# are not the library's).
set -e
dir=build-asan
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=debugoptimized -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
meson test -C "$dir" --print-errorlogs --no-suite python

preload="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)"
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 \
    meson test -C "$dir" --print-errorlogs --suite python
