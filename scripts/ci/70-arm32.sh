#!/bin/sh
# 32-bit ARM (armhf) under qemu-arm (cross/arm-linux-gnueabihf.txt): builds the library and the
# Check suites for a 32-bit target and runs them there — 32-bit size_t (overflow checks, sizes),
# a 32-bit ABI's alignment, and the model file format across machines (the blob suite loads
# tests/data/model_v1.blob, written on x86-64). Needs Debian's multiarch check:armhf
# (scripts/ci/packages.txt; .ci/run adds the armhf architecture).
set -e
dir=build-arm32
if ! dpkg -s check:armhf >/dev/null 2>&1; then
    echo "FAIL: check:armhf is not installed (dpkg --add-architecture armhf; apt-get update;"
    echo "      apt-get install check:armhf)"
    exit 1
fi
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --cross-file cross/arm-linux-gnueabihf.txt --buildtype=release \
        -Dblas=disabled >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
# Emulation is several times slower than native: stretch both meson's and Check's timeouts.
export CK_TIMEOUT_MULTIPLIER=10

# Known to fail on this target, each "suite:test:loop index" (Check's F: lines). These two fit
# logistic regression on the raw diabetes features to RILL_TOL = 1e-8, which sits at the
# double-precision floor of that problem: on x86-64 it converges at epoch 116 with
# |pg| = 1.8e-8 against a threshold of 2.8e-8; with armhf's libm the line search stalls at
# epoch 130 just above it (same objective to 15 digits), so rill_fit stops unconverged.
xfail="fit:test_converged_flag_and_criterion:0 fit:test_one_optimizer_three_drivers:0"

status=0
log="$dir/meson-logs/arm32-check.txt"
if meson test -C "$dir" --suite check --timeout-multiplier 10 --num-processes 2 \
    --print-errorlogs >"$log" 2>&1; then
    grep -E "^ *[0-9]+/[0-9]+ " "$log"
else
    grep -E "^ *[0-9]+/[0-9]+ " "$log" | sort -u
    # Passes only if every failing test's failures (Check's F:/E: lines) are all in $xfail.
    for name in $(sed -n -E 's%^ *[0-9]+/[0-9]+ rill:check / ([a-z_0-9]+) +(FAIL|TIMEOUT|ERROR).*%\1%p' "$log" | sort -u); do
        failures=$(sed -n "s|^[^ ]*tests/test_$name\\.c:[0-9]*:[FE]:[^:]*:\\([^:]*\\):\\([0-9]*\\):.*|\\1:\\2|p" "$log" | sort -u)
        unexpected=""
        for f in $failures; do
            case " $xfail " in
            *" $name:$f "*) echo "expected failure on armhf: $name:$f" ;;
            *) unexpected="$unexpected $f" ;;
            esac
        done
        if [ -z "$failures" ] || [ -n "$unexpected" ]; then
            echo "FAIL: $name under qemu-arm${unexpected:+:$unexpected}"
            status=1
        fi
    done
    [ "$status" = 0 ] || cat "$log"
fi
# The public header alone, and the version/ABI program, on the target.
meson test -C "$dir" header_c99 abi_version --print-errorlogs || status=1
exit $status
