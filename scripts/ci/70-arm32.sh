#!/bin/sh
# 32-bit ARM (armhf) under qemu-arm (cross/arm-linux-gnueabihf.txt): builds the library and the
# Check suites for a 32-bit target and runs them there — 32-bit size_t (overflow checks, sizes),
# a 32-bit ABI's alignment, and the model file format across machines (the blob suite loads
# tests/data/model_v1.blob and model_v2.blob, written on x86-64). Needs Debian's multiarch check:armhf
# (scripts/ci/packages.txt; .ci/run adds the armhf architecture).
set -e
dir=build-arm32
if ! dpkg-query -W -f='${db:Status-Status}\n' check:armhf 2>/dev/null | grep -qx installed; then
    echo "SKIPPED: check:armhf is not installed, so the 32-bit suites did not run"
    echo "         (dpkg --add-architecture armhf; apt-get update; apt-get install check:armhf)"
    exit 0
fi
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --cross-file cross/arm-linux-gnueabihf.txt --buildtype=release \
        -Dblas=disabled >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
# Emulation is several times slower than native: stretch both meson's and Check's timeouts.
export CK_TIMEOUT_MULTIPLIER=10

status=0
meson test -C "$dir" --suite check --timeout-multiplier 10 --num-processes 2 --print-errorlogs ||
    status=1
# The public header alone, and the version/ABI program, on the target.
meson test -C "$dir" header_c99 abi_version --print-errorlogs || status=1
exit $status
