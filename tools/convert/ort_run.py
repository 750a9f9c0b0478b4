"""Run any model written by these tools in onnxruntime, without a reference.

    python tools/convert/ort_run.py MODEL.onnx [--tokens 12] [--prefill 7] [--seed 0]

Feeds random token ids three ways (one call; prefill then 1-token decode
steps feeding present.* back as past_key_values.*; prefill then 3-token
chunks with past; see validate.py) and checks that all logits are finite
and that the three ways agree: max |x - full| / max |full| <= --tol.
Prints the metadata (long values cut at 64 characters), the interface, the
logits' shape and range, and the disagreements.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate  # noqa: E402
from ort_model import OrtModel  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(prog="ort_run.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("onnx")
    p.add_argument("--tokens", type=int, default=12)
    p.add_argument("--prefill", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args(argv)
    try:
        om = OrtModel(args.onnx)
    except Exception as e:  # onnxruntime raises its own exception types
        print(f"ort_run.py: error: {args.onnx}: onnxruntime cannot load the "
              f"model: {e}", file=sys.stderr)
        return 1
    vocab = om.sess.get_outputs()[0].shape[2]
    meta = om.sess.get_modelmeta().custom_metadata_map
    for k in sorted(meta):
        v = meta[k]
        print(f"metadata: {k} = {v if len(v) <= 64 else v[:64] + '...'}")
    print(f"inputs: {len(om.sess.get_inputs())} (past for "
          f"{len(om.past_names) // 2} layers, {om.n_kv} KV heads of "
          f"{om.head_dim}), vocab {vocab}")
    ids = np.random.default_rng(args.seed).integers(0, vocab, args.tokens)
    got = validate.run_modes(om, [int(i) for i in ids], args.prefill)
    full = got["full"]
    ok = all(np.all(np.isfinite(v)) for v in got.values())
    print(f"logits: {list(full.shape)}, range [{full.min():.4g}, "
          f"{full.max():.4g}], finite: {'yes' if ok else 'NO'}")
    for k in ("decode", "chunk"):
        e = validate.rel_err(got[k], full)
        print(f"{k} vs full: max rel err {e:.2e}")
        ok = ok and e <= args.tol
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
