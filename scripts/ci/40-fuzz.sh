#!/bin/sh
# Fuzzing (docs/testing.md, "Fuzzing"): builds the libFuzzer targets of tests/fuzz with clang,
# ASan and UBSan in build-fuzz/, replays the committed corpora, then runs each target for
# FUZZ_SECONDS (default 30) starting from its corpus. New inputs go to a scratch corpus under
# build-fuzz/fuzz-out/; a crash or a broken invariant fails the stage and leaves the reproducer
# there (replay it with `build-fuzz/tests/fuzz/fuzz_NAME FILE`).
set -e
dir=build-fuzz
seconds=${FUZZ_SECONDS:-30}
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" --buildtype=debugoptimized -Dfuzz=true -Dblas=disabled >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
for t in load roundtrip csv libsvm api; do
    out="$dir/fuzz-out/$t"
    mkdir -p "$out/corpus"
    if ! "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$out/" "$out/corpus" "tests/fuzz/corpus/$t" >"$out/log" 2>&1; then
        tail -n 40 "$out/log"
        echo "fuzz_$t: failure, reproducer in $out/"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
    echo "fuzz_$t: ${runs:-?} runs in ${seconds} s, no finding"
done
