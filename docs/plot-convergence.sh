#!/bin/sh
# Convergence of rill's three ways to train, drawn from the rill command's --trace output.
#
#   sh docs/plot-convergence.sh [OUTPUT.png]        (default: docs/convergence.png)
#
# On the bundled iris (softmax) and diabetes (least squares, raw features) data with l2 = 1e-3,
# trains in the batch, sgd and stream modes for 120 passes (--tol 0: every pass runs) and plots
# the relative suboptimality (objective - optimum) / optimum, log scale, after each pass over
# the data. The optimum is batch-fit run until it stalls (least squares: the exact mode).
# Needs gnuplot (Debian: gnuplot-nox or gnuplot); RILL=path/to/rill picks the command.
set -e
cd "$(dirname "$0")/.."
export LC_ALL=C
out=${1:-docs/convergence.png}
rill=${RILL:-build/tools/rill}
[ -x "$rill" ] || sh scripts/setup.sh >/dev/null
command -v gnuplot >/dev/null || { echo "plot-convergence: gnuplot is needed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passes=120

# optimum DATA OPTIONS...: the objective at the optimum
optimum() {
    data=$1
    shift
    "$rill" fit "$@" --l2 1e-3 "examples/data/$data" -o "$tmp/optimum.model" >/dev/null
    "$rill" eval "$tmp/optimum.model" "examples/data/$data" | awk '$1 == "objective" { print $2 }'
}

# trace NAME MODE DATA FSTAR OPTIONS...: pass, relative suboptimality -> $tmp/NAME-MODE.dat
trace() {
    name=$1 mode=$2 data=$3 fstar=$4
    shift 4
    "$rill" fit "$@" --mode "$mode" --l2 1e-3 --tol 0 --epochs $passes \
        --trace "$tmp/$name-$mode.csv" "examples/data/$data" -o "$tmp/model" >/dev/null
    # the objective column is filled at the end of each pass
    awk -F, -v f="$fstar" 'NR > 1 && $5 != "" {
            r = ($5 - f) / f; print $2, (r > 1e-16 ? r : 1e-16) }' \
        "$tmp/$name-$mode.csv" >"$tmp/$name-$mode.dat"
}

f_iris=$(optimum iris.csv --loss softmax --tol 0 --epochs 5000)
f_diab=$(optimum diabetes.csv --mode exact)
for mode in batch sgd stream; do
    case $mode in
    batch) opts="" ;;
    sgd) opts="--average 1" ;;                       # one row per step, averaged iterate
    stream) opts="--average 1 --batch-rows 16" ;;    # micro-batches of 16 rows
    esac
    trace iris "$mode" iris.csv "$f_iris" --loss softmax $opts
    trace diabetes "$mode" diabetes.csv "$f_diab" $opts
done

if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
    term="pngcairo size 900,360 font 'sans,9'"
else
    term="png size 900,360"
fi
gnuplot <<EOF
set terminal $term
set output '$out'
set multiplot layout 1,2 title "rill: (objective - optimum) / optimum after each pass over the data (l2 = 1e-3)"
set logscale y
set format y "1e%T"
set xlabel 'passes over the data (batch-fit: gradient evaluations)'
set ylabel 'relative suboptimality'
set yrange [1e-16:*]
set key left bottom Left reverse samplen 2
set grid
set title 'iris, softmax (150 rows, 4 raw features)'
plot '$tmp/iris-batch.dat' with linespoints pt 7 ps 0.4 title 'batch-fit (L-BFGS)', \
     '$tmp/iris-sgd.dat' with linespoints pt 5 ps 0.4 title 'SGD (1 row, averaged)', \
     '$tmp/iris-stream.dat' with linespoints pt 9 ps 0.5 title 'stream (16-row batches)'
set title 'diabetes, least squares (442 rows, 10 raw features)'
plot '$tmp/diabetes-batch.dat' with linespoints pt 7 ps 0.4 title 'batch-fit (L-BFGS)', \
     '$tmp/diabetes-sgd.dat' with linespoints pt 5 ps 0.4 title 'SGD (1 row, averaged)', \
     '$tmp/diabetes-stream.dat' with linespoints pt 9 ps 0.5 title 'stream (16-row batches)'
unset multiplot
EOF
echo "wrote $out"
