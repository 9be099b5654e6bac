#!/usr/bin/python3
"""Coverage thresholds of rill, from gcovr's JSON report (scripts/coverage.sh writes it).

  lib/                        lines >= 95%, branches >= 90%
  the model loader            branches 100% (the functions below, in lib/blob.c)
  tools/reader.c              branches 100%

Prints the figures, lists what is missing where a threshold fails, exits 1 if one does.
"""
import json
import re
import sys

LIB_LINES, LIB_BRANCHES = 95.0, 90.0

# The load path: rill_model_load_alloc and every function it calls to read and check a blob.
LOADER = ("lib/blob.c", ["crc32_ieee", "blob_bytes", "get_bytes", "get_u32", "get_u64",
                         "get_f64", "get_int", "get_param", "get_count", "get_number",
                         "get_array", "rill_model_load_alloc"])
READER = "tools/reader.c"


def function_lines(path, names):
    """Line numbers (1-based) of the bodies of the named top-level C functions."""
    with open(path, encoding="utf-8") as f:
        src = f.read().split("\n")
    lines, found = set(), set()
    for i, text in enumerate(src):
        m = re.match(r"^[A-Za-z_][^;(]*?\b([A-Za-z_]\w*)\(", text)
        if not m or m.group(1) not in names or text.rstrip().endswith(";"):
            continue
        j = i
        while j < len(src) and src[j] != "}":
            j += 1
        lines.update(range(i + 1, j + 2))
        found.add(m.group(1))
    missing = set(names) - found
    if missing:
        sys.exit("coverage_check: functions not found in %s: %s" % (path, sorted(missing)))
    return lines


def tally(entries, only=None):
    """(lines, lines hit, branches, branches taken, missing: [(line, what)])."""
    n_l = h_l = n_b = h_b = 0
    missing = []
    for e in entries:
        if e.get("gcovr/noncode") or e.get("gcovr/excluded"):
            continue
        ln = e["line_number"]
        if only is not None and ln not in only:
            continue
        n_l += 1
        h_l += e["count"] > 0
        if e["count"] == 0:
            missing.append((ln, "line"))
        br = e.get("branches", [])
        n_b += len(br)
        taken = sum(b["count"] > 0 for b in br)
        h_b += taken
        if taken < len(br):
            missing.append((ln, "%d/%d branches" % (taken, len(br))))
    return n_l, h_l, n_b, h_b, missing


def pct(hit, total):
    return 100.0 * hit / total if total else 100.0


def main():
    report = json.load(open(sys.argv[1], encoding="utf-8"))
    files = {f["file"]: f["lines"] for f in report["files"]}
    ok = True

    lib = [0, 0, 0, 0]
    for name, entries in files.items():
        if name.startswith("lib/"):
            t = tally(entries)
            for k in range(4):
                lib[k] += t[k]
    lib_l, lib_b = pct(lib[1], lib[0]), pct(lib[3], lib[2])
    print("lib/            lines %6.2f%% (%d/%d)  branches %6.2f%% (%d/%d)"
          % (lib_l, lib[1], lib[0], lib_b, lib[3], lib[2]))
    if lib_l < LIB_LINES or lib_b < LIB_BRANCHES:
        print("FAIL: lib/ needs >= %g%% of lines and >= %g%% of branches" % (LIB_LINES, LIB_BRANCHES))
        ok = False

    path, names = LOADER
    if path not in files:
        sys.exit("coverage_check: no coverage data for %s" % path)
    n_l, h_l, n_b, h_b, missing = tally(files[path], function_lines(path, names))
    print("model loader    lines %6.2f%% (%d/%d)  branches %6.2f%% (%d/%d)"
          % (pct(h_l, n_l), h_l, n_l, pct(h_b, n_b), h_b, n_b))
    if h_b < n_b:
        print("FAIL: the model loader needs 100%% of branches; missing in %s:" % path)
        for ln, what in missing:
            print("  line %d: %s" % (ln, what))
        ok = False

    if READER not in files:
        print("FAIL: no coverage data for %s (are the CLI tests built?)" % READER)
        ok = False
    else:
        n_l, h_l, n_b, h_b, missing = tally(files[READER])
        print("text readers    lines %6.2f%% (%d/%d)  branches %6.2f%% (%d/%d)"
              % (pct(h_l, n_l), h_l, n_l, pct(h_b, n_b), h_b, n_b))
        if h_b < n_b:
            print("FAIL: %s needs 100%% of branches; missing:" % READER)
            for ln, what in missing:
                print("  line %d: %s" % (ln, what))
            ok = False

    print("coverage thresholds met" if ok else "coverage below the thresholds")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
