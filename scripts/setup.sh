#!/bin/sh
# Installs what rill needs (Debian/Ubuntu) when missing, then configures and builds ./build.
#   sh scripts/setup.sh          packages for the build and the main job
#   sh scripts/setup.sh test     also every package the full test run uses (scripts/ci/*)
# Safe to run again.
set -e
cd "$(dirname "$0")/.."
packages="gcc meson ninja-build pkg-config check libopenblas-dev python3-numpy python3-sklearn"
if [ "${1:-}" = test ]; then
    packages="$packages $(sed -e 's/#.*//' scripts/ci/packages.txt | tr '\n' ' ')"
fi
missing=""
for p in $packages; do
    # dpkg-query, not dpkg -s: with a package installed for two architectures (multiarch)
    # dpkg -s fails on the bare name.
    dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    case "$missing" in # multiarch packages (check:armhf) need their architecture enabled
    *:armhf*) dpkg --print-foreign-architectures | grep -qx armhf ||
        $sudo dpkg --add-architecture armhf ;;
    esac
    # A mirror mid-sync can fail one index; apt keeps the others, so go on.
    $sudo apt-get update -qq || echo "apt-get update: some indexes failed; going on"
    native=$(echo "$missing" | tr ' ' '\n' | grep -v ':' | tr '\n' ' ')
    foreign=$(echo "$missing" | tr ' ' '\n' | grep ':' | tr '\n' ' ')
    if [ -n "$(echo $native)" ]; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $native >/dev/null
    fi
    # Multiarch packages (check:armhf, for the 32-bit stage) are optional: that stage says it
    # was skipped when they are missing.
    if [ -n "$(echo $foreign)" ]; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $foreign >/dev/null ||
            echo "WARNING: could not install$foreign; the 32-bit ARM stage will be skipped"
    fi
fi
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release ${RILL_MESON_ARGS:-}
fi
ninja -C build
