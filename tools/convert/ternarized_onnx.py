#!/usr/bin/env python3
"""Writes an ONNX model whose linear weights are replaced by their ternarized
values, decoded from an archive written by `terminator-opt
--ternary-ternarize=output-archive=...`, so that onnxruntime (and
`reference.py perplexity --onnx`) can measure the quality of a recipe.
Prints the real bits per linear weight: 2-bit codes for ternary matrices,
8 bits for int8 ones (codes beyond ±1: absmax scaling puts ±127 in every
nonzero row), plus f32 scales and offsets.

    ternarized_onnx.py MODEL.onnx TERNARY.tpar -o OUT.onnx
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from tpar import TparError, read_tpar


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("archive")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    try:
        entries = read_tpar(a.archive)
    except (OSError, TparError) as e:
        sys.exit(f"ternarized_onnx.py: error: {e}")
    model = onnx.load(a.model)
    inits = {t.name: t for t in model.graph.initializer}
    weights = bits = 0
    replaced = 0
    for name in sorted(n[:-len(".codes")] for n in entries if n.endswith(".codes")):
        raw = entries[name + ".codes"]
        code_bits = 8 if np.abs(raw.astype(np.int16)).max(initial=0) > 1 else 2
        codes = raw.astype(np.float32)                             # [N, K]
        scales = entries[name + ".scales"]                         # [N, G]
        offsets = entries.get(name + ".offsets")
        n, k = codes.shape
        group = -(-k // scales.shape[1])
        expand = lambda m: np.repeat(m, group, axis=1)[:, :k]
        w = codes * expand(scales)
        if offsets is not None:
            w = w + expand(offsets)
        if name not in inits:
            sys.exit(f"ternarized_onnx.py: error: {a.model} has no "
                     f"initializer '{name}' for the archive's '{name}.codes'")
        old = numpy_helper.to_array(inits[name])
        # MatMul weights are [K, N] in the ONNX file, [N, K] in the archive.
        new = w.T if old.shape == (k, n) else w
        if new.shape != old.shape:
            sys.exit(f"ternarized_onnx.py: error: '{name}' is {old.shape} in "
                     f"the model but {w.shape} in the archive")
        inits[name].CopyFrom(numpy_helper.from_array(
            np.ascontiguousarray(new, dtype=np.float32), name))
        weights += n * k
        bits += n * k * code_bits + scales.size * 32 + (
            offsets.size * 32 if offsets is not None else 0)
        replaced += 1
    if not replaced:
        sys.exit(f"ternarized_onnx.py: error: {a.archive} holds no "
                 f"'NAME.codes' entries")
    onnx.save(model, a.output)
    print(f"{replaced} linear weights, {weights} weights, "
          f"{bits / weights:.3f} real bits per linear weight")


if __name__ == "__main__":
    main()
