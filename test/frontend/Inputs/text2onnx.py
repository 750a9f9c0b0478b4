#!/usr/bin/env python3
"""Turns an ONNX text-format model (onnx.parser syntax) into a binary .onnx.

    text2onnx.py IN.onnxtxt OUT.onnx [--external-data FILE] [--raw]

--external-data moves every initializer into FILE next to OUT (ONNX external
data); without --raw, initializers keep the typed fields the parser writes
(float_data, int64_data); with --raw they are converted to raw_data.
For negative tests:
  --location LOC     rewrite every external-data location to LOC
  --drop-bytes NAME  cut 4 bytes off the raw data of initializer NAME
"""
import argparse
import os
import sys

import onnx
import onnx.parser
from onnx import numpy_helper


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--external-data")
    p.add_argument("--raw", action="store_true")
    p.add_argument("--location")
    p.add_argument("--drop-bytes")
    a = p.parse_args()
    with open(a.input) as f:
        model = onnx.parser.parse_model(f.read())
    if a.raw or a.external_data:
        inits = model.graph.initializer
        converted = [numpy_helper.from_array(numpy_helper.to_array(t), t.name)
                     for t in inits]
        del inits[:]
        inits.extend(converted)
    if a.drop_bytes:
        for t in model.graph.initializer:
            if t.name == a.drop_bytes:
                t.raw_data = t.raw_data[:-4]
    if a.external_data:
        onnx.save(model, a.output, save_as_external_data=True,
                  all_tensors_to_one_file=True, location=a.external_data,
                  size_threshold=0)
        if a.location:
            m = onnx.load(a.output, load_external_data=False)
            for t in m.graph.initializer:
                for kv in t.external_data:
                    if kv.key == "location":
                        kv.value = a.location
            with open(a.output, "wb") as f:
                f.write(m.SerializeToString())
    else:
        onnx.save(model, a.output)


if __name__ == "__main__":
    sys.exit(main())
