#!/bin/sh
# Builds rill and runs every test suite.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup.sh
meson test -C build --print-errorlogs
