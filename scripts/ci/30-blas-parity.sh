#!/bin/sh
# CBLAS parity (docs/testing.md): the CBLAS kernels are held to the same optimum as the portable
# ones, not to the same bits. Builds tests/optima in build-blas/ (-Dblas=enabled) and in
# build-noblas/ (-Dblas=disabled), runs both on the bundled data sets (batch-fit with and
# without L1, PASS and EXACT streams, the three losses) and requires every problem converged in
# both builds with objectives within 1e-10 relative (tests/compare_optima.py).
set -e
for cfg in blas:enabled noblas:disabled; do
    dir=build-${cfg%%:*}
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" --buildtype=release -Dblas="${cfg#*:}" >/dev/null
    fi
    ninja -C "$dir" -j2 tests/optima >/dev/null
    "$dir/tests/optima" examples/data > "$dir/optima.txt"
done
/usr/bin/python3 tests/compare_optima.py build-blas/optima.txt build-noblas/optima.txt 1e-10
