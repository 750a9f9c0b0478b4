"""Random-weight ONNX language models of real architectures, for benchmarks.

    python tools/convert/random_model.py --arch llama|gpt2 --size tiny|110m|1b \\
        -o out.onnx [--seed N] [--inline]

Sizes (parameters counted once; a shared classifier's transposed copy
lm_head.weight is stored but not counted):

  llama tiny  dim 64,   ffn 176,  2 layers,  4 heads, 2 KV heads, vocab 256,
              context 128, separate lm_head (tests)
  llama 110m  dim 768,  ffn 2048, 12 layers, 12 heads, 12 KV heads, vocab 32000,
              context 1024, classifier shared with the embedding
              (llama2.c's stories110M shape), ~110M
  llama 1b    TinyLlama-1.1B: dim 2048, ffn 5632, 22 layers, 32 heads,
              4 KV heads, vocab 32000, context 2048, separate lm_head, ~1.1B
  gpt2 tiny   dim 64,   2 layers,  4 heads, vocab 256,   context 128 (tests)
  gpt2 110m   GPT-2 small: dim 768, 12 layers, 12 heads, vocab 50257,
              context 1024, tied head, ~124M
  gpt2 1b     GPT-2 style, dim 2048, 20 layers, 16 heads, vocab 50257,
              context 1024, tied head, ~1.1B (the size of TinyLlama)

Graphs are those of graphs.py (the Llama one is the same code that
llama2c_to_onnx.py uses). Weights go to ONNX external data in OUT.data
(--inline keeps them in the .onnx, only for small models), written tensor by
tensor in chunks of rows, so peak memory stays far below the model size.

Initialization (GPT-2's): every matrix and embedding normal(0, 0.02), the
residual projections (o_proj/down_proj, attn.c_proj/mlp.c_proj) normal(0,
0.02/sqrt(2*n_layers)), GPT-2's position embedding normal(0, 0.01), norm
weights 1, biases 0. Each tensor draws from its own PCG64 stream seeded by
(seed, tensor index), so the output depends only on the options.

Metadata: terminator.context_length, terminator.source = "random:ARCH-SIZE
seed N", terminator.architecture.
"""

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graphs  # noqa: E402
import llama2c  # noqa: E402
import onnx_builder  # noqa: E402

CHUNK_ELEMS = 1 << 22  # 16 MiB of float32 per write

SIZES = {
    ("llama", "tiny"): dict(dim=64, hidden_dim=176, n_layers=2, n_heads=4,
                            n_kv_heads=2, vocab_size=256, seq_len=128,
                            shared_classifier=False),
    ("llama", "110m"): dict(dim=768, hidden_dim=2048, n_layers=12,
                            n_heads=12, n_kv_heads=12, vocab_size=32000,
                            seq_len=1024, shared_classifier=True),
    ("llama", "1b"): dict(dim=2048, hidden_dim=5632, n_layers=22, n_heads=32,
                          n_kv_heads=4, vocab_size=32000, seq_len=2048,
                          shared_classifier=False),
    ("gpt2", "tiny"): dict(dim=64, n_layers=2, n_heads=4, vocab_size=256,
                           seq_len=128),
    ("gpt2", "110m"): dict(dim=768, n_layers=12, n_heads=12, vocab_size=50257,
                           seq_len=1024),
    ("gpt2", "1b"): dict(dim=2048, n_layers=20, n_heads=16, vocab_size=50257,
                         seq_len=1024),
}

RESIDUAL_PROJECTIONS = ("o_proj", "down_proj", "attn.c_proj", "mlp.c_proj")


def normal_chunks(rng, shape, std):
    """Float32 normal(0, std) values of `shape`, yielded in row chunks."""
    shape = list(shape)
    row = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    rows = shape[0] if len(shape) > 1 else int(np.prod(shape))
    per = max(1, CHUNK_ELEMS // row)
    for r0 in range(0, rows, per):
        n = min(per, rows - r0) * row
        c = rng.standard_normal(n, dtype=np.float32)
        c *= np.float32(std)
        yield c


def init_std(name, n_layers):
    if any(f".{p}.weight" in name for p in RESIDUAL_PROJECTIONS):
        return 0.02 / math.sqrt(2 * n_layers)
    if name == "transformer.wpe.weight":
        return 0.01
    return 0.02


def make_weights(arch, cfg, seed):
    """The weight callback of graphs.build_* for random initialization."""
    index = [0]
    tied_src = ("model.embed_tokens.weight" if arch == "llama"
                else "transformer.wte.weight")
    tied = arch == "gpt2" or cfg.shared_classifier

    def weights(g, name, shape):
        k = index[0]
        index[0] += 1
        if name == "lm_head.weight" and tied:
            return g.weight_transpose_of(name, tied_src)
        if name.startswith("model.rotary_emb."):
            cos, sin = llama2c.rope_angles(cfg.head_dim, cfg.seq_len)
            half = cos if name.endswith("cos_cached") else sin
            return g.weight(name, np.concatenate([half, half], axis=1))
        if name.endswith("norm.weight") or (
                ".ln_" in name and name.endswith(".weight")):
            return g.weight(name, np.ones(shape, np.float32))
        if name.endswith(".bias"):
            return g.weight(name, np.zeros(shape, np.float32))
        rng = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence([seed, k])))
        return g.weight_chunks(name, shape, normal_chunks(
            rng, shape, init_std(name, cfg.n_layers)))

    return weights


def build(arch, size, output, seed=0, inline=False, opset=18):
    if (arch, size) not in SIZES:
        raise ValueError(f"unknown model {arch} {size}")
    if arch == "llama":
        cfg = graphs.LlamaConfig(**SIZES[arch, size])
    else:
        cfg = graphs.Gpt2Config(**SIZES[arch, size])
    if inline:
        storage = onnx_builder.InlineStorage()
    else:
        storage = onnx_builder.ExternalStorage(output + ".data")
    try:
        g = onnx_builder.Graph(storage)
        builder = graphs.build_llama if arch == "llama" else graphs.build_gpt2
        builder(g, cfg, make_weights(arch, cfg, seed))
    finally:
        storage.close()
    metadata = [
        ("terminator.architecture", arch),
        ("terminator.context_length", str(cfg.seq_len)),
        ("terminator.source", f"random:{arch}-{size} seed {seed}"),
    ]
    model = g.make_model(f"random_{arch}_{size}", opset,
                         "terminator random_model.py", metadata)
    onnx_builder.save_model(model, output)
    return model, cfg


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="random_model.py",
        description="Write a random-weight ONNX language model of a real "
                    "architecture (weights as external data).")
    p.add_argument("--arch", required=True, choices=["llama", "gpt2"])
    p.add_argument("--size", required=True, choices=["tiny", "110m", "1b"])
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--opset", type=int, default=18)
    p.add_argument("--inline", action="store_true",
                   help="weights inside the .onnx (small models only)")
    args = p.parse_args(argv)
    if args.opset < onnx_builder.MIN_OPSET:
        print(f"random_model.py: error: opset {args.opset} is not supported "
              f"(needs {onnx_builder.MIN_OPSET} or newer)", file=sys.stderr)
        return 1
    t0 = time.time()
    try:
        model, cfg = build(args.arch, args.size, args.output, args.seed,
                           args.inline, args.opset)
    except (ValueError, OSError) as e:
        print(f"random_model.py: error: {e}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.output)
    if not args.inline:
        size += os.path.getsize(args.output + ".data")
    print(f"wrote {args.output}: {args.arch} {args.size}, "
          f"{cfg.params() / 1e6:.1f}M parameters, {size / 2**20:.1f} MiB, "
          f"{len(model.graph.node)} nodes, {time.time() - t0:.1f} s")
    print("op types: " + " ".join(onnx_builder.op_types(model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
