#!/bin/sh
# The shared library exports exactly the functions named in lib/rill.sym, under its version node.
set -e
lib="$1"
sym="$2"
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
listed=$(sed -n 's/^[[:space:]]*\(rill_[a-z0-9_]*\);.*/\1/p' "$sym" | sort)
if [ "$exported" != "$listed" ]; then
    echo "exported functions differ from $sym:"
    printf '%s\n' "$exported" > /tmp/rill_exported.$$
    printf '%s\n' "$listed" | diff - /tmp/rill_exported.$$ || true
    rm -f /tmp/rill_exported.$$
    exit 1
fi
others=$(nm -D --defined-only "$lib" | awk '$2 != "A" && $3 !~ /^rill_/ { print $3 }')
if [ -n "$others" ]; then
    echo "non-rill symbols exported: $others"
    exit 1
fi
echo "1 passed, 0 failed"
