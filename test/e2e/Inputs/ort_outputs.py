#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime on the deterministic input that
add_entry.py --f32 builds, and writes every output, flattened and
concatenated in order, as text (the oracle of compare_logits.py).

    ort_outputs.py MODEL.onnx OUT.txt [--dim NAME=N ...]
"""
import argparse

import numpy as np
import onnxruntime as ort


def pattern(shape):
    """x[k] = ((37 k) mod 17 - 8) / 4, row-major; add_entry.py makes the same."""
    n = int(np.prod(shape))
    return ((np.arange(n) * 37 % 17 - 8) / 4).astype(np.float32).reshape(shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("output")
    p.add_argument("--dim", action="append", default=[])
    a = p.parse_args()
    dims = dict(d.split("=") for d in a.dim)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        shape = [int(dims[d]) if isinstance(d, str) else d for d in i.shape]
        feeds[i.name] = pattern(shape)
    outs = sess.run(None, feeds)
    np.savetxt(a.output, np.concatenate([o.astype(np.float64).reshape(-1)
                                         for o in outs]), fmt="%.9e")


if __name__ == "__main__":
    main()
