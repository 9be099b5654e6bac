#!/bin/sh
# Regenerates abi/librill.so.<major>.abi and abi/constants.txt, the ABI baseline the `abi` test compares the built
# shared library against (see docs/abi.md). Run it at a release, after the version macros in
# include/rill.h are final, and commit the result:
#   sh scripts/abi-baseline.sh            builds build-abi-baseline/ (debug info, portable kernels)
#   sh scripts/abi-baseline.sh LIB        records an already built librill.so (needs -g)
# Only what the public header declares is recorded (types private to lib/ are dropped), and no
# build path, source location or DT_NEEDED entry, so the file depends on the API alone.
set -e
cd "$(dirname "$0")/.."
major=$(sed -n 's/^#define RILL_VERSION_MAJOR \([0-9]*\).*/\1/p' include/rill.h)
out="abi/librill.so.$major.abi"
if [ $# -ge 1 ]; then
    lib="$1"
else
    dir=build-abi-baseline
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" --buildtype=debugoptimized -Dblas=disabled -Dtests=false >/dev/null
    fi
    ninja -C "$dir" >/dev/null
    lib="$dir/lib/librill.so.$major"
fi
mkdir -p abi
abidw --headers-dir include --drop-private-types --no-corpus-path --no-comp-dir-path \
    --no-show-locs --no-elf-needed --drop-undefined-syms --exported-interfaces-only \
    --type-id-style hash --out-file "$out" "$lib"
{
    echo "# Named constants of the released ABI (name value), from include/rill.h by"
    echo "# scripts/abi-baseline.sh. Values are never renumbered (docs/abi.md)."
    sed -n 's/^[[:space:]]*\(RILL_[A-Z0-9_]*\) = \(-\{0,1\}[0-9][0-9]*\).*/\1 \2/p' include/rill.h
} > abi/constants.txt
echo "wrote $out from $lib, and abi/constants.txt"
