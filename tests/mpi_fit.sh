#!/bin/sh
# Runs examples/mpi_fit on n ranks over the bundled data and requires, for every problem, that
# the distributed fit reaches single-process rill_fit's optimum (objective to 1e-9 relative,
# weights to 1e-6 of the largest; with one rank, the same bits), that every rank holds the
# same weights bit for bit, (exact least squares) that it equals rill's EXACT stream, and
# that driver mode makes the same iterates as the replicated loop.
# Also: a rank that cannot read its shard makes every rank exit non-zero (no hang).
#   mpi_fit.sh MPI_FIT DATA_DIR N_RANKS
set -u
exe=$1 data=$2 n=$3

# Open MPI refuses root and more ranks than cores unless told; the machine may be busy, so do
# not bind ranks to cores. The shared-memory transport's single-copy mode needs ptrace rights
# that containers often lack.
if mpirun --version 2>&1 | grep -q "Open MPI"; then
    export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none \
        OMPI_MCA_mpi_yield_when_idle=1
    run() { mpirun --allow-run-as-root --oversubscribe --bind-to none -n "$@"; }
else
    run() { mpirun -n "$@"; }
fi

fail=0
check() { # description, then mpi_fit's arguments
    what=$1
    shift
    if out=$(run "$n" "$exe" --check "$@" 2>&1) && echo "$out" | grep -qx "check ok"; then
        echo "ok: $what on $n ranks: $(echo "$out" | grep -E '^(epochs|objective) ' | tr '\n' ' ')"
    else
        echo "FAILED: $what on $n ranks"
        echo "$out"
        fail=1
    fi
}

check "least squares, diabetes" --l2 1e-3 "$data/diabetes.csv"
check "least squares exact, diabetes" --exact --l2 1e-3 "$data/diabetes.csv"
check "logistic, diabetes y > 140" --loss logistic --threshold 140 --l2 1e-3 "$data/diabetes.csv"
check "softmax, iris" --loss softmax --classes 3 --l2 1e-3 "$data/iris.csv"
check "softmax, iris, tree reduction" --reduce tree --loss softmax --classes 3 --l2 1e-3 \
    "$data/iris.csv"
check "least squares exact, tree reduction" --reduce tree --exact --l2 1e-3 "$data/diabetes.csv"
# Columns in very different units (age x 1e4, bmi x 1e-4): the exact solve judges each column
# against its own scale, as rill's EXACT stream does (one test against the largest diagonal
# took bmi for collinear).
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
scaled=$tmp/scaled.csv
awk -F, 'BEGIN { OFS = ","; CONVFMT = "%.17g" } NR == 1 { print; next }
         { $1 = $1 * 1e4; $3 = $3 * 1e-4; print }' "$data/diabetes.csv" >"$scaled"
check "least squares exact, columns x 1e4 and x 1e-4" --exact --l2 1e-3 "$scaled"

# Driver mode (only rank 0 holds the optimizer; the others evaluate at the point it
# broadcasts, as Spark executors would) makes the same iterates as the replicated loop.
same_as_replicated() { # mpi_fit's arguments
    a=$(run "$n" "$exe" --weights "$@" 2>&1) && b=$(run "$n" "$exe" --weights --driver "$@" 2>&1)
    if [ -n "$a" ] && [ "$(echo "$a" | grep -E '^(w|epochs|objective) ')" = \
        "$(echo "$b" | grep -E '^(w|epochs|objective) ')" ]; then
        echo "ok: driver mode equals the replicated loop: $*"
    else
        echo "FAILED: driver mode differs from the replicated loop: $*"
        echo "$a"
        echo "$b"
        fail=1
    fi
}
check "softmax, iris, driver mode" --driver --loss softmax --classes 3 "$data/iris.csv"
same_as_replicated --loss logistic --threshold 140 "$data/diabetes.csv"
same_as_replicated --loss softmax --classes 3 "$data/iris.csv"

# One file per rank ("{rank}" in the path): the diabetes rows split into n files.
rows=$(($(wc -l <"$data/diabetes.csv") - 1))
r=0
while [ "$r" -lt "$n" ]; do
    { head -n 1 "$data/diabetes.csv"
      tail -n +2 "$data/diabetes.csv" | sed -n "$((r * rows / n + 1)),$(((r + 1) * rows / n))p"
    } >"$tmp/part-$r.csv"
    r=$((r + 1))
done
check "logistic, one file per rank" --loss logistic --threshold 140 "$tmp/part-{rank}.csv"

# A rank whose file has a header and no rows takes part with no rows (docs/distributed.md).
if [ "$n" -gt 1 ]; then
    cat "$tmp/part-$((n - 2)).csv" >"$tmp/empty-$((n - 2)).csv"
    tail -n +2 "$tmp/part-$((n - 1)).csv" >>"$tmp/empty-$((n - 2)).csv"
    head -n 1 "$data/diabetes.csv" >"$tmp/empty-$((n - 1)).csv"
    r=0
    while [ "$r" -lt "$((n - 2))" ]; do
        cp "$tmp/part-$r.csv" "$tmp/empty-$r.csv"
        r=$((r + 1))
    done
    check "least squares, the last rank's file has no rows" --l2 1e-3 "$tmp/empty-{rank}.csv"
    check "least squares exact, the last rank's file has no rows" --exact --l2 1e-3 \
        "$tmp/empty-{rank}.csv"
fi

# Option values that are not numbers, or out of range, are usage errors (exit 2).
for bad in "--l2 abc" "--max-epochs 0" "--classes x --loss softmax" "--loss softmax" "--tol 2"; do
    run 1 "$exe" $bad "$data/iris.csv" >/dev/null 2>&1
    status=$?
    if [ "$status" -eq 2 ]; then
        echo "ok: mpi_fit $bad is a usage error"
    else
        echo "FAILED: mpi_fit $bad exits $status, not 2"
        fail=1
    fi
done

# The last rank's file is missing: every rank must give up, with a non-zero status.
if [ "$n" -gt 1 ]; then
    rm "$tmp/part-$((n - 1)).csv"
    if run "$n" "$exe" "$tmp/part-{rank}.csv" >/dev/null 2>&1; then
        echo "FAILED: a missing shard was not reported"
        fail=1
    else
        echo "ok: a missing shard stops every rank"
    fi
fi
exit $fail
