#!/usr/bin/env python3
"""Compares the values printed by printMemrefF32 (one or more memrefs, in
order), or a plain table of numbers, with a reference file.

    compare_logits.py PRINTED.txt REFERENCE.{txt,npy} --rtol R

Prints `max abs diff A, max rel diff B (of the largest |logit| L)` and exits 1
when B > R. The relative difference is taken against the largest reference
magnitude, so near-zero logits do not dominate; printMemrefF32 prints six
significant digits, which bounds the attainable agreement near 1e-6.
"""
import argparse
import re
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("printed")
    p.add_argument("reference")
    p.add_argument("--rtol", type=float, required=True)
    p.add_argument("--atol", type=float,
                   help="check every element: |got - ref| <= atol + rtol |ref|")
    a = p.parse_args()
    text = open(a.printed).read()
    if "data =" not in text:
        # A plain table of numbers (a compiled program's `logits` command).
        text = "Unranked Memref data = " + text
    number = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
    # Every printed memref, in order: the values follow "data =" up to the
    # next "Unranked Memref" header.
    got = []
    for block in text.split("Unranked Memref")[1:]:
        got += [float(x) for x in re.findall(number, block[block.index("data =") + 6:])]
    got = np.array(got)
    ref = (np.load(a.reference) if a.reference.endswith(".npy")
           else np.loadtxt(a.reference)).reshape(-1)
    if got.size != ref.size:
        sys.exit(f"compare_logits.py: {got.size} printed values, "
                 f"{ref.size} reference values")
    if a.atol is not None:
        excess = np.abs(got - ref) - (a.atol + a.rtol * np.abs(ref))
        worst = int(np.argmax(excess))
        print(f"{got.size} values, worst element {worst}: got {got[worst]:.7g}, "
              f"expected {ref[worst]:.7g}")
        return 1 if not np.all(np.isfinite(got)) or excess[worst] > 0 else 0
    scale = float(np.abs(ref).max())
    diff = float(np.abs(got - ref).max())
    rel = diff / scale
    print(f"max abs diff {diff:.3g}, max rel diff {rel:.3g} "
          f"(of the largest |logit| {scale:.3g})")
    return 1 if not np.isfinite(rel) or rel > a.rtol else 0


if __name__ == "__main__":
    sys.exit(main())
