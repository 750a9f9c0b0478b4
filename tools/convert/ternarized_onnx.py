#!/usr/bin/env python3
"""Writes an ONNX model whose linear weights are replaced by their ternarized
values, decoded from an archive written by `terminator-opt
--ternary-ternarize=output-archive=...`, so that onnxruntime (and
`reference.py perplexity --onnx`) can measure the quality of a recipe.
Reads both forms: KEY.codes/.scales/.offsets (ternary-ternarize) and the
kernels' KEY.packed/.meta (ternary-pack, docs/kernels.md), with outliers
(KEY.outlier_*) and SSR permutations (KEY.input_permutation). Prints the real
bits per linear weight: 2-bit codes for ternary matrices, 8 bits for int8
ones (codes beyond ±1), plus f32 scales and offsets; packed rows count
their padding to 256 columns.

    ternarized_onnx.py MODEL.onnx TERNARY.tpar -o OUT.onnx
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from tpar import TparError, read_tpar


def unpack(packed, meta, k):
    """Decodes the kernels' layout (docs/kernels.md): 2-bit codes c = T + 1,
    byte j of each 64-byte block b holding column 256b + 64s + j in bits
    2s..2s+1, two nibbles c = Q + 8 per byte (int4), or one byte
    c = Q + 128 per column; meta [N, G, 2] = (a, b)
    per group with W = a*c + b."""
    n = packed.shape[0]
    raw = packed.view(np.uint8)
    if meta.ndim != 3 or meta.shape[0] != n or meta.shape[2] != 2:
        raise ValueError(f"meta of shape {meta.shape} for {n} rows")
    if raw.shape[1] * 4 == -(-k // 256) * 256:                    # Kp / 4
        blocks = raw.reshape(n, -1, 64)                            # [N, B, 64]
        codes = np.stack([(blocks >> (2 * s)) & 3 for s in range(4)], axis=2)
        codes = codes.reshape(n, -1)                               # [N, Kp]
        code_bits = 2
    elif raw.shape[1] * 2 == -(-k // 256) * 256:                  # Kp / 2
        # int4: byte 64h + j of a 128-byte block holds columns 128h + j (low
        # nibble) and 128h + 64 + j (high nibble).
        halves = raw.reshape(n, -1, 2, 64)                         # [N, B, 2, 64]
        codes = np.stack([halves & 15, halves >> 4], axis=3)       # [N, B, 2, 2, 64]
        codes = codes.reshape(n, -1)                               # [N, Kp]
        code_bits = 4
    else:
        codes = raw
        code_bits = 8
    kp = codes.shape[1]
    group = -(-kp // meta.shape[1])
    a = np.repeat(meta[:, :, 0], group, axis=1)[:, :kp]
    b = np.repeat(meta[:, :, 1], group, axis=1)[:, :kp]
    w = (a.astype(np.float32) * codes.astype(np.float32)
         + b.astype(np.float32))[:, :k]
    return w, n * kp * code_bits + meta.size * meta.itemsize * 8


def group_size(name, k, groups, block_size):
    """Columns per scale group of a [N, K] layer with `groups` groups: the
    block size given, or else the power of two that gives that many groups
    (ternary-ternarize's block sizes are powers of two in practice), or else
    ceil(K / groups). The last group of a row may be partial."""
    if groups == 1:
        return k
    if block_size:
        if -(-k // block_size) != groups:
            sys.exit(f"ternarized_onnx.py: error: '{name}': --block-size {block_size} "
                     f"gives {-(-k // block_size)} groups of a {k}-column "
                     f"row, but the archive has {groups}")
        return block_size
    b = 1
    while -(-k // b) > groups:
        b *= 2
    return b if -(-k // b) == groups else -(-k // groups)


def decoded(entries, inits, block_size=0):
    """Yields (name, W [N, K], real bits) for every linear weight in the
    archive: KEY.codes/.scales/.offsets as ternary-ternarize writes them, or
    KEY.packed/.meta as ternary-pack does."""
    for name in sorted(n[:-len(".codes")] for n in entries if n.endswith(".codes")):
        raw = entries[name + ".codes"]
        code_bits = 8 if np.abs(raw.astype(np.int16)).max(initial=0) > 1 else 2
        codes = raw.astype(np.float32)                             # [N, K]
        scales = entries[name + ".scales"]                         # [N, G]
        offsets = entries.get(name + ".offsets")
        n, k = codes.shape
        group = group_size(name, k, scales.shape[1], block_size)
        expand = lambda m: np.repeat(m, group, axis=1)[:, :k]
        w = codes * expand(scales.astype(np.float32))
        if offsets is not None:
            w = w + expand(offsets.astype(np.float32))
        check(name, inits, ".codes")
        yield name, w, n * k * code_bits + scales.size * scales.itemsize * 8 + (
            offsets.size * offsets.itemsize * 8 if offsets is not None else 0)
    for name in sorted(n[:-len(".packed")] for n in entries if n.endswith(".packed")):
        check(name, inits, ".packed")
        dims = numpy_helper.to_array(inits[name]).shape
        # The column count comes from the model: [K, N] MatMul or [N, K].
        n = entries[name + ".packed"].shape[0]
        k = dims[0] if dims[1] == n and dims[0] != n else dims[1]
        try:
            w, layer_bits = unpack(entries[name + ".packed"],
                                   entries[name + ".meta"], k)
        except (KeyError, ValueError) as e:
            sys.exit(f"ternarized_onnx.py: error: '{name}': cannot decode the "
                     f"packed layout: {e}")
        yield name, w, layer_bits


def add_outliers(entries, name, w):
    """W + S for the sparse residual of ternary-split-outliers (CSR:
    NAME.outlier_rows [N + 1], NAME.outlier_cols and NAME.outlier_values
    [nnz]), and its real bits; (W, 0) without one."""
    if name + ".outlier_values" not in entries:
        return w, 0
    rows = entries[name + ".outlier_rows"].astype(np.int64)
    cols = entries[name + ".outlier_cols"].astype(np.int64)
    vals = entries[name + ".outlier_values"].astype(np.float32)
    n, k = w.shape
    if rows.shape != (n + 1,) or cols.shape != vals.shape or \
            rows[-1] != vals.size or (cols.size and cols.max() >= k):
        sys.exit(f"ternarized_onnx.py: error: '{name}': malformed outliers")
    w = np.array(w, dtype=np.float32)
    for r in range(n):
        w[r, cols[rows[r]:rows[r + 1]]] += vals[rows[r]:rows[r + 1]]
    bits = sum(entries[name + s].nbytes * 8 for s in
               (".outlier_rows", ".outlier_cols", ".outlier_values"))
    return w, bits


def unpermute(entries, name, w):
    """The SSR reordering of ternary-ssr-reorder undone: where the layer
    reads its input through a permutation (NAME.input_permutation, column i
    holds original column perm[i]), W's columns go back to the model's
    order; its real bits at 16 per index (as the program stores them).
    Permutations folded into the producers need nothing: the archive then
    holds an equivalent model with its hidden features reordered."""
    perm = entries.get(name + ".input_permutation")
    if perm is None:
        return w, 0
    n, k = w.shape
    perm = perm.astype(np.int64)
    if perm.shape != (k,) or not np.array_equal(np.sort(perm), np.arange(k)):
        sys.exit(f"ternarized_onnx.py: error: '{name}': malformed "
                 f"input_permutation")
    out = np.empty_like(w)
    out[:, perm] = w
    return out, 16 * k


def check(name, inits, suffix):
    if name not in inits:
        sys.exit(f"ternarized_onnx.py: error: the model has no initializer "
                 f"'{name}' for the archive's '{name}{suffix}'")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("archive")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--block-size", type=int, default=0,
                   help="columns per scale group of ternary-ternarize "
                        "(default: inferred, a power of two)")
    a = p.parse_args()
    try:
        entries = read_tpar(a.archive)
    except (OSError, TparError) as e:
        sys.exit(f"ternarized_onnx.py: error: {e}")
    model = onnx.load(a.model)
    inits = {t.name: t for t in model.graph.initializer}
    weights = bits = 0
    replaced = 0
    for name, w, layer_bits in decoded(entries, inits, a.block_size):
        w, outlier_bits = add_outliers(entries, name, w)
        w, permutation_bits = unpermute(entries, name, w)
        layer_bits += outlier_bits + permutation_bits
        n, k = w.shape
        old = numpy_helper.to_array(inits[name])
        # MatMul weights are [K, N] in the ONNX file, [N, K] in the archive.
        new = w.T if old.shape == (k, n) else w
        if new.shape != old.shape:
            sys.exit(f"ternarized_onnx.py: error: '{name}' is {old.shape} in "
                     f"the model but {w.shape} in the archive")
        inits[name].CopyFrom(numpy_helper.from_array(
            np.ascontiguousarray(new, dtype=np.float32), name))
        weights += n * k
        bits += layer_bits
        replaced += 1
    if not replaced:
        sys.exit(f"ternarized_onnx.py: error: {a.archive} holds no "
                 f"'NAME.codes' or 'NAME.packed' entries")
    onnx.save(model, a.output)
    print(f"{replaced} linear weights, {weights} weights, "
          f"{bits / weights:.3f} real bits per linear weight")


if __name__ == "__main__":
    main()
