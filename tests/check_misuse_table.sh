#!/bin/sh
# Every function exported by lib/rill.sym has at least one row in the misuse table of
# tests/test_misuse.c (a line "R(rill_name, ..."): a new export without a row fails here.
set -e
sym="$1"
table="$2"
missing=""
n=0
for f in $(sed -n 's/^[[:space:]]*\(rill_[a-z0-9_]*\);.*/\1/p' "$sym"); do
    n=$((n + 1))
    grep -Eq "^[[:space:]]*R\\($f," "$table" || missing="$missing $f"
done
if [ "$n" -eq 0 ]; then
    echo "no exported functions found in $sym"
    exit 1
fi
if [ -n "$missing" ]; then
    echo "exported functions without a row in $table:$missing"
    exit 1
fi
echo "$n exported functions, each with a misuse row"
