#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer (docs/testing.md): builds build-asan/ with
# -Db_sanitize=address,undefined and runs the whole meson test suite. An ASan report (overflow,
# use after free, double free, leak) or a UBSan report (signed overflow, misaligned access, bad
# shift, ...) fails the stage.
#  - Tests that run a built program directly (the Check suites, the header and ABI programs,
#    ...) run with leak detection on.
#  - Tests run by Python load the library into the interpreter through ctypes: the sanitizer
#    runtimes are preloaded and leak detection is off (the interpreter's allocations are not
#    the library's). The programs they start still report any memory error.
#  - Tests run by a shell script (MPI ranks under mpirun, ...) run with leak detection off:
#    Open MPI keeps allocations until exit that LeakSanitizer cannot attribute.
# The library's own leaks are covered by the first group and by the valgrind stage.
set -e
dir=build-asan
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=debugoptimized -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1

# name <tab> kind (program, python, script), from meson's list of tests
tests=$(meson introspect "$dir" --tests | /usr/bin/python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
for t in json.load(sys.stdin):
    exe = os.path.realpath(t["cmd"][0])
    kind = ("program" if exe.startswith(build + os.sep)
            else "python" if os.path.basename(t["cmd"][0]).startswith("python") else "script")
    print(t["name"] + "\t" + kind)
' "$dir")
select() { printf '%s\n' "$tests" | awk -F '\t' -v k="$1" '$2 == k { print $1 }'; }

status=0
# shellcheck disable=SC2046
meson test -C "$dir" --print-errorlogs $(select program) || status=1

preload="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)"
if [ -n "$(select python)" ]; then
    # shellcheck disable=SC2046
    LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 \
        meson test -C "$dir" --print-errorlogs $(select python) || status=1
fi
if [ -n "$(select script)" ]; then
    # shellcheck disable=SC2046
    ASAN_OPTIONS=detect_leaks=0 meson test -C "$dir" --print-errorlogs $(select script) ||
        status=1
fi
exit $status
