#!/usr/bin/env python3
"""Checks that two `eval --format json` outputs detect the same (id, classes) set.

Used around speed changes: `python3 same_detections.py before.jsonl after.jsonl` exits 1 and
lists the differing ids when any request's detection or classes changed. Points are compared
too and reported, but only (id, detected, classes) decides.
"""
import json
import sys


def load(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        v = json.loads(line)
        if v.get("type") == "summary":
            continue
        out[json.dumps(v["id"])] = (v["detected"], tuple(v["classes"]), tuple(sorted(v["points"])))
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    bad = 0
    point_diffs = 0
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x is None or y is None or x[:2] != y[:2]:
            bad += 1
            print(f"DIFF {k}: {x[:2] if x else None} -> {y[:2] if y else None}")
        elif x[2] != y[2]:
            point_diffs += 1
    print(f"{len(a)} vs {len(b)} requests, {bad} differ in (detected, classes), {point_diffs} only in points")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
