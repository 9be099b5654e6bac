#!/bin/sh
# ABI gate (docs/abi.md): builds the shared library with debug info in build-abi/ and compares
# it with the released baseline in abi/ (abidiff), then checks the SONAME and the released
# constants. The meson suite 'abi' runs the same checks on any build with debug info.
set -e
dir=build-abi
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=debugoptimized -Dblas=disabled -Dtests=false >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
major=$(sed -n 's/^#define RILL_VERSION_MAJOR \([0-9]*\).*/\1/p' include/rill.h)
sh tests/abi_check.sh "$dir/lib/librill.so.$major" "abi/librill.so.$major.abi" include
sh tests/abi_constants.sh "$dir/lib/librill.so.$major" include/rill.h abi/constants.txt
