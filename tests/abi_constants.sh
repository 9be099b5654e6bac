#!/bin/sh
# The ABI facts abidiff cannot see (see docs/abi.md):
#  - the SONAME is librill.so.<RILL_VERSION_MAJOR>;
#  - every enumerator in the header has an explicit value;
#  - every named constant of the released baseline keeps its value (new ones may be added).
#   abi_constants.sh LIB HEADER CONSTANTS
lib="$1"
header="$2"
baseline="$3"
failed=0
major=$(sed -n 's/^#define RILL_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" = "librill.so.$major" ]; then
    echo "ok: SONAME $soname"
else
    echo "FAIL: SONAME '$soname', expected librill.so.$major"
    failed=1
fi
unvalued=$(awk '/^(typedef )?enum/ { e = 1 } e && /^[[:space:]]*RILL_[A-Z0-9_]*[[:space:]]*[,}]?[[:space:]]*(\/\*.*)?$/ { print } /}/ { e = 0 }' "$header")
if [ -n "$unvalued" ]; then
    echo "FAIL: enumerators without an explicit value:"
    echo "$unvalued"
    failed=1
fi
current=$(sed -n 's/^[[:space:]]*\(RILL_[A-Z0-9_]*\) = \(-\{0,1\}[0-9][0-9]*\).*/\1 \2/p' "$header")
n=0
while read -r name value; do
    case "$name" in '#'* | '') continue ;; esac
    n=$((n + 1))
    now=$(printf '%s\n' "$current" | awk -v n="$name" '$1 == n { print $2 }')
    if [ -z "$now" ]; then
        echo "FAIL: $name (= $value in the released ABI) is gone"
        failed=1
    elif [ "$now" != "$value" ]; then
        echo "FAIL: $name was $value in the released ABI, is now $now"
        failed=1
    fi
done < "$baseline"
[ "$failed" -eq 0 ] && echo "ok: $n released constants keep their values"
exit "$failed"
