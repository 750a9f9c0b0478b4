#!/usr/bin/env python3
"""onnxruntime's logits for a decoder ONNX model (the interface of
docs/compile.md) on one sequence of token ids from an empty KV cache: the
oracle of the compiled programs' `logits` command.

    ort_decoder_logits.py MODEL.onnx OUT.txt --ids 1,5,9

Writes one row of logits per position, as text.
"""
import argparse

import numpy as np
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("output")
    p.add_argument("--ids", required=True)
    a = p.parse_args()
    ids = np.array([[int(x) for x in a.ids.split(",")]], dtype=np.int64)
    n = ids.shape[1]
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        if i.name == "input_ids":
            feeds[i.name] = ids
        elif i.name == "position_ids":
            feeds[i.name] = np.arange(n, dtype=np.int64)[None, :]
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones((1, n), dtype=np.int64)
        elif i.name.startswith("past_key_values."):
            shape = [0 if isinstance(d, str) else d for d in i.shape]
            feeds[i.name] = np.zeros(shape, dtype=np.float32)
        else:
            raise SystemExit(f"ort_decoder_logits.py: unexpected input {i.name}")
    logits = sess.run(["logits"], feeds)[0].reshape(n, -1)
    np.savetxt(a.output, logits, fmt="%.9g")


if __name__ == "__main__":
    main()
