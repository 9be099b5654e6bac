#!/bin/sh
# The main job: builds rill, then trains on the bundled real datasets in every mode, through
# the library (examples/train.c) and through the rill command, and prints comparison tables.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup.sh >/dev/null
./build/examples/train examples/data/diabetes.csv examples/data/iris.csv

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
table() { # data loss classes metric modes...
    data=$1 loss=$2 classes=$3 metric=$4
    shift 4
    printf '\nrill command on %s (%s, l2 = 1e-3)\n' "$data" "$loss"
    printf '(sgd and stream: at most 30 epochs of averaged SGD, stream in 32-row micro-batches;\n'
    printf ' a smaller budget than the library table above, so their figures differ from it)\n'
    printf '%-8s %8s %16s %10s %10s\n' mode epochs objective "$metric" seconds
    for mode in "$@"; do
        case $mode in
        batch | exact) opts="" ;;
        *) opts="--epochs 30 --average 1" ;; # averaged SGD: steadier on raw features
        esac
        fit=$(./build/tools/rill fit --loss "$loss" ${classes:+--classes $classes} --mode "$mode" \
            --l2 1e-3 $opts "examples/data/$data" -o "$tmp/model")
        eval_out=$(./build/tools/rill eval "$tmp/model" "examples/data/$data")
        epochs=$(echo "$fit" | sed -n 's/.*epochs=\([^ ]*\).*/\1/p')
        seconds=$(echo "$fit" | sed -n 's/.*seconds=\([^ ]*\).*/\1/p')
        obj=$(echo "$eval_out" | awk '$1 == "objective" { printf "%.10g", $2 }')
        val=$(echo "$eval_out" | awk -v k="$metric" '$1 == k { print $2 }')
        printf '%-8s %8s %16s %10.4f %10s\n' "$mode" "$epochs" "$obj" "$val" "$seconds"
    done
}
table diabetes.csv squared '' r2 batch sgd stream exact
table iris.csv softmax 3 accuracy batch sgd stream
