#!/bin/sh
# The main job: builds rill and trains on the bundled real datasets in every mode.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup.sh >/dev/null
./build/examples/train examples/data/diabetes.csv examples/data/iris.csv
