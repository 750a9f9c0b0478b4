"""Numpy reference forward of a llama2.c model, and three commands on it.

The forward follows llama2.c's run.c `forward()` operation by operation
(RMSNorm with eps 1e-5, RoPE rotating the interleaved pairs (2i, 2i+1) of
every head, grouped-query attention, SwiGLU FFN, shared or separate
classifier) but processes a window of S tokens at once with a causal mask,
which gives the same numbers as S single-token steps and is much faster.

    python tools/convert/reference.py perplexity MODEL.bin TOK.bin TEXT_FILE
    python tools/convert/reference.py generate   MODEL.bin TOK.bin [--steps N] [--prompt TEXT]
    python tools/convert/reference.py logits     MODEL.bin TOK.bin PROMPT -o OUT.npy

`perplexity` implements the protocol of DESIGN.md ("Real data at hand"):
every line of the file that is not empty or all spaces is one document; it
is encoded as llama2.c does (BOS first, dummy-prefix space, byte fallback, no
EOS); the tokens are cut into windows of seq_len tokens that overlap by one
token, each window a fresh context; the negative log-likelihood of every token
after the first of each window is summed; perplexity = exp(NLL / tokens).
"""

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama2c  # noqa: E402

RMS_EPS = 1e-5


class Model:
    """A llama2.c checkpoint prepared for the reference forward.

    `dtype` is the arithmetic precision: float32 (as run.c) or float64 (an
    oracle for checking other implementations)."""

    def __init__(self, checkpoint, dtype=np.float32):
        self.ck = checkpoint
        self.cfg = checkpoint.config
        self.dtype = np.dtype(dtype)
        w = checkpoint.weights
        cast = lambda a: np.ascontiguousarray(a, dtype=self.dtype)
        self.emb = cast(w["token_embedding"])
        self.layers = []
        for l in range(self.cfg.n_layers):
            self.layers.append({
                "rms_att": cast(w["rms_att"][l]),
                # Stored [out][in]; keep the transposes for x @ W^T.
                "wqT": cast(w["wq"][l].T), "wkT": cast(w["wk"][l].T),
                "wvT": cast(w["wv"][l].T), "woT": cast(w["wo"][l].T),
                "rms_ffn": cast(w["rms_ffn"][l]),
                "w1T": cast(w["w1"][l].T), "w2T": cast(w["w2"][l].T),
                "w3T": cast(w["w3"][l].T),
            })
        self.rms_final = cast(w["rms_final"])
        self.wclsT = cast(checkpoint.wcls.T)
        cos, sin = llama2c.rope_angles(self.cfg.head_size, self.cfg.seq_len)
        self.cos = cos.astype(self.dtype)
        self.sin = sin.astype(self.dtype)

    def _rmsnorm(self, x, w):
        ss = np.mean(x * x, axis=-1, keepdims=True) + self.dtype.type(RMS_EPS)
        return w * (x / np.sqrt(ss))

    def _rope(self, x, positions):
        """x: [S, n, head_size]; rotates pairs (2i, 2i+1) by pos * freq_i."""
        c = self.cos[positions][:, None, :]
        s = self.sin[positions][:, None, :]
        v0 = x[..., 0::2]
        v1 = x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = v0 * c - v1 * s
        out[..., 1::2] = v0 * s + v1 * c
        return out

    def forward(self, tokens, start_pos=0):
        """Logits [S, vocab] of a window of tokens at positions start_pos...
        start_pos+S-1, each position attending to the window's earlier tokens
        only (a fresh context: no earlier window is visible)."""
        cfg = self.cfg
        tokens = np.asarray(tokens, dtype=np.int64)
        S = len(tokens)
        if S == 0:
            return np.zeros((0, cfg.vocab_size), self.dtype)
        if start_pos + S > cfg.seq_len:
            raise ValueError(f"positions up to {start_pos + S - 1} exceed the "
                             f"context length {cfg.seq_len}")
        if tokens.min() < 0 or tokens.max() >= cfg.vocab_size:
            raise ValueError(f"token ids must be in 0..{cfg.vocab_size - 1}")
        positions = np.arange(start_pos, start_pos + S)
        nh, nkv, hs = cfg.n_heads, cfg.n_kv_heads, cfg.head_size
        rep = nh // nkv
        scale = self.dtype.type(1.0 / math.sqrt(hs))
        mask = np.triu(np.full((S, S), -np.inf, self.dtype), k=1)
        x = self.emb[tokens]
        for L in self.layers:
            xb = self._rmsnorm(x, L["rms_att"])
            q = (xb @ L["wqT"]).reshape(S, nh, hs)
            k = (xb @ L["wkT"]).reshape(S, nkv, hs)
            v = (xb @ L["wvT"]).reshape(S, nkv, hs)
            q = self._rope(q, positions)
            k = self._rope(k, positions)
            # Query head h reads KV head h // rep (run.c: h / kv_mul).
            qh = q.transpose(1, 0, 2).reshape(nkv, rep * S, hs)
            kh = k.transpose(1, 2, 0)  # [nkv, hs, S]
            att = (qh @ kh).reshape(nkv, rep, S, S) * scale + mask
            att = att - att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            o = att.reshape(nkv, rep * S, S) @ v.transpose(1, 0, 2)
            o = o.reshape(nh, S, hs).transpose(1, 0, 2).reshape(S, cfg.dim)
            x = x + o @ L["woT"]
            xb = self._rmsnorm(x, L["rms_ffn"])
            h1 = xb @ L["w1T"]
            h3 = xb @ L["w3T"]
            h = h1 * (1.0 / (1.0 + np.exp(-h1))) * h3
            x = x + h @ L["w2T"]
        x = self._rmsnorm(x, self.rms_final)
        return x @ self.wclsT


def log_softmax_nll(logits, targets):
    """Sum over rows of -log softmax(logits)[target], in float64."""
    z = logits.astype(np.float64)
    m = z.max(axis=-1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(z - m).sum(axis=-1)))
    return float(np.sum(lse - z[np.arange(len(targets)), targets]))


def documents(path):
    """The documents of a text file under the perplexity protocol: every
    line (without its newline) that is not empty and not all spaces."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise llama2c.FormatError(f"{path}: cannot open the text file: "
                                  f"{e.strerror}")
    return [line for line in data.split(b"\n") if line.strip(b" ")]


def windows(n, seq_len):
    """(start, end) of the windows of `seq_len` tokens overlapping by one
    token that cover tokens 0..n-1 (none when n < 2)."""
    out = []
    start = 0
    while start + 1 < n:
        end = min(start + seq_len, n)
        out.append((start, end))
        start = end - 1
    return out


def kl_divergence(ref_logits, logits):
    """Sum over rows of KL(softmax(ref) || softmax(logits)), in float64."""
    def log_softmax(z):
        z = z.astype(np.float64)
        m = z.max(axis=-1, keepdims=True)
        return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    lp, lq = log_softmax(ref_logits), log_softmax(logits)
    return float(np.sum(np.exp(lp) * (lp - lq)))


def perplexity(model, tok, path, seq_len, progress=False, reference=None):
    """Returns (tokens scored, total NLL in nats, documents, total KL). `model`
    has forward(tokens) -> logits [S, vocab] of a fresh window (Model, or
    ort_model.OrtModel for an ONNX model). With `reference` (another such
    model), the KL divergence of model's next-token distribution from the
    reference's is summed over the same tokens (else total KL is None)."""
    docs = documents(path)
    total_nll = 0.0
    total_kl = 0.0 if reference is not None else None
    scored = 0
    t0 = time.time()
    for i, doc in enumerate(docs):
        ids = tok.encode(doc, bos=True, eos=False)
        for start, end in windows(len(ids), seq_len):
            win = ids[start:end]
            logits = model.forward(win[:-1])
            total_nll += log_softmax_nll(logits, np.asarray(win[1:]))
            if reference is not None:
                total_kl += kl_divergence(reference.forward(win[:-1]), logits)
            scored += len(win) - 1
        if progress and (i + 1) % 250 == 0:
            print(f"  {i + 1}/{len(docs)} documents, {scored} tokens, "
                  f"{total_nll / max(scored, 1):.4f} nats/token, "
                  f"{time.time() - t0:.0f} s", file=sys.stderr)
    return scored, total_nll, len(docs), total_kl


def generate(model, tok, prompt="", steps=64):
    """Greedy decoding from BOS (+ prompt); returns the token ids."""
    ids = tok.encode(prompt, bos=True, eos=False)
    steps = min(steps, model.cfg.seq_len)
    while len(ids) < steps:
        nxt = int(np.argmax(model.forward(ids)[-1]))
        if nxt == llama2c.BOS:  # run.c stops at BOS, the sequence delimiter
            break
        ids.append(nxt)
    return ids


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="reference.py",
        description="Numpy reference of a llama2.c model (run.c semantics).")
    p.add_argument("--float64", action="store_true",
                   help="compute in float64 instead of float32")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("perplexity",
                       help="perplexity of a text file (DESIGN.md protocol)")
    s.add_argument("model")
    s.add_argument("tokenizer")
    s.add_argument("text")
    s.add_argument("--progress", action="store_true")
    s.add_argument("--onnx", metavar="MODEL.onnx",
                   help="score with onnxruntime running this ONNX model "
                        "(e.g. the converter's output) instead of the numpy "
                        "forward; MODEL.bin still gives the context length")
    s.add_argument("--threads", type=int, default=1,
                   help="onnxruntime threads with --onnx")
    s.add_argument("--kl-reference", metavar="REF.onnx",
                   help="also print the mean KL divergence (nats/token) of "
                        "the scored model's next-token distribution from "
                        "this ONNX model's (e.g. the f32 model)")

    s = sub.add_parser("generate", help="greedy generation from BOS")
    s.add_argument("model")
    s.add_argument("tokenizer")
    s.add_argument("--prompt", default="")
    s.add_argument("--steps", type=int, default=64,
                   help="total tokens including BOS and prompt (run.c -n)")
    s.add_argument("--ids", action="store_true", help="also print the ids")

    s = sub.add_parser("logits", help="dump the logits of a prompt to .npy")
    s.add_argument("model")
    s.add_argument("tokenizer")
    s.add_argument("prompt")
    s.add_argument("-o", "--output", required=True,
                   help=".npy file: float array [tokens, vocab]")
    s.add_argument("--no-bos", action="store_true")
    args = p.parse_args(argv)

    try:
        ck = llama2c.load_checkpoint(args.model)
        tok = llama2c.load_tokenizer(args.tokenizer, ck.config.vocab_size)
        model = Model(ck, np.float64 if args.float64 else np.float32)
        if args.cmd == "perplexity":
            t0 = time.time()
            scorer = model
            if args.onnx:
                from ort_model import OrtModel
                scorer = OrtModel(args.onnx, args.threads)
            reference = None
            if args.kl_reference:
                from ort_model import OrtModel
                reference = OrtModel(args.kl_reference, args.threads)
            scored, nll, ndocs, kl = perplexity(scorer, tok, args.text,
                                                ck.config.seq_len,
                                                args.progress, reference)
            if scored == 0:
                raise llama2c.FormatError(f"{args.text}: no token to score")
            print(f"documents: {ndocs}")
            print(f"tokens scored: {scored}")
            print(f"total nll: {nll:.4f} nats")
            print(f"nats/token: {nll / scored:.4f}")
            print(f"perplexity: {math.exp(nll / scored):.1f}")
            if kl is not None:
                print(f"kl to reference: {kl / scored:.4f} nats/token")
            print(f"seconds: {time.time() - t0:.1f}", file=sys.stderr)
        elif args.cmd == "generate":
            ids = generate(model, tok, args.prompt, args.steps)
            sys.stdout.write(tok.decode(ids) + "\n")
            if args.ids:
                print(" ".join(map(str, ids)))
        else:
            ids = tok.encode(args.prompt, bos=not args.no_bos, eos=False)
            logits = model.forward(ids)
            np.save(args.output, logits)
            print(f"tokens: {' '.join(map(str, ids))}")
            print(f"logits: {list(logits.shape)} {logits.dtype} -> "
                  f"{args.output}")
    except (llama2c.FormatError, ValueError) as e:
        print(f"reference.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
