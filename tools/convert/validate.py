"""Check a converted ONNX model with onnxruntime against reference.py.

    python tools/convert/validate.py MODEL.onnx CHECKPOINT.bin TOK.bin \\
        [--prompt TEXT]... [--prefill 7] [--decode 8] [--tol 1e-4]

For every prompt, the token sequence is BOS + prompt, extended greedily by
the reference to prefill + decode tokens. The reference (float64) computes
the logits of the whole sequence in one window. onnxruntime runs it three
ways and each is compared position by position:

  full    one call, no past (P = 0, S = all tokens)
  decode  prefill the first `prefill` tokens (P = 0), then one token per call,
          feeding present.* back as past_key_values.*
  chunk   prefill, then the rest in chunks of 3 tokens with past (S > 1 and
          P > 0 together: checks the causal mask offset)

The error of a run is  max |ort - ref| / max |ref|  over all its logits
(relative to the largest reference logit magnitude). Exit status 1 if any
run exceeds --tol.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama2c  # noqa: E402
import reference  # noqa: E402
from ort_model import OrtModel  # noqa: E402

DEFAULT_PROMPTS = ["Once upon a time", "Lily and Tom went to the park",
                   "The cat sat on the mat. It was happy."]


def rel_err(got, ref):
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def run_modes(om, ids, prefill, chunk=3):
    """The logits of `ids` from the three ways of running (see module doc)."""
    out = {}
    out["full"], _ = om.run(ids, 0, om.empty_past())
    parts, past = [], om.empty_past()
    lg, past = om.run(ids[:prefill], 0, past)
    parts.append(lg)
    for p in range(prefill, len(ids)):
        lg, past = om.run(ids[p:p + 1], p, past)
        parts.append(lg)
    out["decode"] = np.concatenate(parts)
    parts, past = [], om.empty_past()
    lg, past = om.run(ids[:prefill], 0, past)
    parts.append(lg)
    for p in range(prefill, len(ids), chunk):
        lg, past = om.run(ids[p:p + chunk], p, past)
        parts.append(lg)
    out["chunk"] = np.concatenate(parts)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="validate.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("onnx")
    p.add_argument("checkpoint")
    p.add_argument("tokenizer")
    p.add_argument("--prompt", action="append")
    p.add_argument("--prefill", type=int, default=7)
    p.add_argument("--decode", type=int, default=8)
    p.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args(argv)
    try:
        ck = llama2c.load_checkpoint(args.checkpoint)
        tok = llama2c.load_tokenizer(args.tokenizer, ck.config.vocab_size)
    except llama2c.FormatError as e:
        print(f"validate.py: error: {e}", file=sys.stderr)
        return 1
    ref = reference.Model(ck, np.float64)
    om = OrtModel(args.onnx)
    worst = 0.0
    for prompt in args.prompt or DEFAULT_PROMPTS:
        ids = tok.encode(prompt)
        total = max(len(ids), args.prefill) + args.decode
        while len(ids) < total:
            ids.append(int(np.argmax(ref.forward(ids)[-1])))
        want = ref.forward(ids)
        got = run_modes(om, ids, args.prefill)
        errs = {k: rel_err(v, want) for k, v in got.items()}
        worst = max(worst, *errs.values())
        print(f"prompt {prompt!r}: {len(ids)} tokens, max rel err "
              + ", ".join(f"{k} {v:.2e}" for k, v in errs.items()))
    ok = worst <= args.tol
    print(f"worst {worst:.2e} {'<=' if ok else '>'} tol {args.tol:.0e}: "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
