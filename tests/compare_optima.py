#!/usr/bin/env python3
"""Compares two outputs of tests/optima ("name objective stopped epochs" per line): the same
problems, each stopped by the optimizer itself (converged, or at the numerical floor) in both,
objectives within a relative tolerance. Exit 1 otherwise.

    compare_optima.py A_FILE B_FILE [REL_TOL]
"""
import sys


def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) != 4:
                raise SystemExit("%s: malformed line %r" % (path, line))
            rows[fields[0]] = (float(fields[1]), fields[2] == "1", fields[3])
    if not rows:
        raise SystemExit("%s: no problems" % path)
    return rows


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-10
    a, b = read(a_path), read(b_path)
    ok = True
    if sorted(a) != sorted(b):
        print("different problems: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    print("%-26s %-24s %-24s %-9s %s" % ("problem", a_path, b_path, "rel diff", "epochs"))
    for name in a:
        fa, ca, ea = a[name]
        fb, cb, eb = b[name]
        scale = max(abs(fa), abs(fb))
        rel = abs(fa - fb) / scale if scale > 0 else 0.0
        bad = rel > tol or not ca or not cb
        ok = ok and not bad
        print("%-26s %-24.17g %-24.17g %-9.2g %s/%s%s%s" % (
            name, fa, fb, rel, ea, eb, "" if ca and cb else "  EPOCH CAP REACHED",
            "  FAIL" if rel > tol else ""))
    print("all within %g relative" % tol if ok else "FAILED (tolerance %g relative)" % tol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
