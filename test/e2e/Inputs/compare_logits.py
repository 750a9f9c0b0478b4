#!/usr/bin/env python3
"""Compares the logits printed by printMemrefF32 with a reference text file.

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
    a = p.parse_args()
    text = open(a.printed).read()
    if "data =" not in text:
        sys.exit(f"compare_logits.py: {a.printed}: no printed memref")
    body = text[text.index("data =") + 6:]
    number = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
    got = np.array([float(x) for x in re.findall(number, body)])
    ref = (np.load(a.reference) if a.reference.endswith(".npy")
           else np.loadtxt(a.reference)).reshape(-1)
    if got.size != ref.size:
        sys.exit(f"compare_logits.py: {got.size} printed values, "
                 f"{ref.size} reference values")
    scale = float(np.abs(ref).max())
    diff = float(np.abs(got - ref).max())
    rel = diff / scale
    print(f"max abs diff {diff:.3g}, max rel diff {rel:.3g} "
          f"(of the largest |logit| {scale:.3g})")
    return 1 if not np.isfinite(rel) or rel > a.rtol else 0


if __name__ == "__main__":
    sys.exit(main())
