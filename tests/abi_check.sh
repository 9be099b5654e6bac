#!/bin/sh
# ABI gate: compares the built shared library with the released baseline (abi/, see
# docs/abi.md). Added functions pass (a compatible change; the report lists them); a removed
# function or a changed signature or public type fails.
#   abi_check.sh LIB BASELINE.abi INCLUDE_DIR
# Exit 77 (skipped) when LIB has no debug info: without it abidiff sees symbols only.
lib="$1"
baseline="$2"
headers="$3"
if [ ! -f "$baseline" ]; then
    echo "no baseline $baseline (a new major version?): run scripts/abi-baseline.sh"
    exit 77
fi
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "skipped: $lib has no debug info (build with -g, e.g. --buildtype=debugoptimized)"
    exit 77
fi
# Bits of abidiff's status: 1 error, 2 usage error, 4 ABI change, 8 incompatible ABI change.
abidiff --hd2 "$headers" --drop-private-types "$baseline" "$lib"
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
    echo "abidiff failed (status $rc)"
    exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    echo "FAIL: incompatible ABI change against $baseline"
    exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
    # Some change: acceptable only if it is nothing but added functions or variables.
    abidiff --hd2 "$headers" --drop-private-types --no-added-syms "$baseline" "$lib" >/dev/null
    rc2=$?
    if [ "$rc2" -ne 0 ]; then
        echo "FAIL: ABI change beyond added functions against $baseline (status $rc2)"
        exit 1
    fi
    echo "ok: only additions (compatible); regenerate the baseline at the next release"
    exit 0
fi
echo "ok: ABI identical to $baseline"
