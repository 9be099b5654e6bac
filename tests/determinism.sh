#!/bin/sh
# Same seed, same bits, across processes: runs the determinism test program twice with --hash,
# the second time with another environment (other stack and heap layout), and requires the same
# model hashes line for line.
#   determinism.sh TEST_DETERMINISM
set -eu
exe=$1
a=$("$exe" --hash)
b=$(env RILL_DETERMINISM_PADDING=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \
    MALLOC_PERTURB_=77 "$exe" --hash)
echo "$a"
[ -n "$a" ] || { echo "no hashes printed"; exit 1; }
if [ "$a" != "$b" ]; then
    echo "the second process gave other models:"
    echo "$b"
    exit 1
fi
echo "second process: the same $(echo "$a" | wc -l) hashes"
