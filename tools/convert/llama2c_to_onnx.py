"""Convert a llama2.c checkpoint to an ONNX LlamaForCausalLM graph with KV cache.

    python tools/convert/llama2c_to_onnx.py MODEL.bin -o model.onnx \\
        [--tokenizer tok.bin] [--opset 18] [--external-data]

The graph has the form of Hugging Face's LlamaForCausalLM exported with
torch.onnx.export and past key/values (see graphs.py for the interface).
Weights, as initializers named like HF parameters:

    model.embed_tokens.weight              [vocab, dim]    (Gather)
    model.layers.{i}.input_layernorm.weight         [dim]
    model.layers.{i}.self_attn.{q,k,v,o}_proj.weight [in, out]  = W^T
    model.layers.{i}.post_attention_layernorm.weight [dim]
    model.layers.{i}.mlp.{gate,up,down}_proj.weight [in, out]   = W^T
    model.norm.weight                      [dim]
    lm_head.weight                         [dim, vocab]    = W^T
    model.rotary_emb.{cos,sin}_cached      [seq_len, head_dim]

Note: every linear weight is stored TRANSPOSED relative to the torch
parameter of the same name (torch's nn.Linear weight is [out, in]); this is
what torch.onnx.export produces for `MatMul(x, W^T)` after constant folding.
gate_proj = llama2.c w1, up_proj = w3, down_proj = w2. The rows of wq and wk
are permuted per head as HF's convert_llama_weights_to_hf.py does, so that
RoPE's rotate_half (pairs (i, i + head_dim/2)) computes what llama2.c computes
on interleaved pairs (2i, 2i+1). When the classifier is shared with the
embedding, lm_head.weight is a separate transposed copy of it.

Metadata (model.metadata_props): terminator.tokenizer.format = llama2c,
terminator.tokenizer.data = base64 of the tokenizer file (with --tokenizer),
terminator.bos = 1, terminator.eos = 2, terminator.context_length = seq_len,
terminator.source = sha256 of the checkpoint file.

The output is deterministic: the same checkpoint and options give the same
bytes.
"""

import argparse
import base64
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graphs  # noqa: E402
import llama2c  # noqa: E402
import onnx_builder  # noqa: E402


def permute_rope(w, n_heads):
    """HF's permute(): within each head, output row 2i -> i and
    2i+1 -> i + head_dim/2. w: [n_heads*head_dim, in]."""
    rows, cols = w.shape
    return (w.reshape(n_heads, rows // n_heads // 2, 2, cols)
            .transpose(0, 2, 1, 3).reshape(rows, cols))


def hf_weights(ck):
    """The HF-named initializers of a llama2.c checkpoint, in graph order."""
    c, w = ck.config, ck.weights
    t = lambda a: np.ascontiguousarray(a.T)
    out = {"model.embed_tokens.weight": w["token_embedding"]}
    cos, sin = llama2c.rope_angles(c.head_size, c.seq_len)
    out["model.rotary_emb.cos_cached"] = np.concatenate([cos, cos], axis=1)
    out["model.rotary_emb.sin_cached"] = np.concatenate([sin, sin], axis=1)
    for i in range(c.n_layers):
        p = f"model.layers.{i}"
        out[f"{p}.input_layernorm.weight"] = w["rms_att"][i]
        out[f"{p}.self_attn.q_proj.weight"] = t(permute_rope(w["wq"][i],
                                                             c.n_heads))
        out[f"{p}.self_attn.k_proj.weight"] = t(permute_rope(w["wk"][i],
                                                             c.n_kv_heads))
        out[f"{p}.self_attn.v_proj.weight"] = t(w["wv"][i])
        out[f"{p}.self_attn.o_proj.weight"] = t(w["wo"][i])
        out[f"{p}.post_attention_layernorm.weight"] = w["rms_ffn"][i]
        out[f"{p}.mlp.gate_proj.weight"] = t(w["w1"][i])
        out[f"{p}.mlp.up_proj.weight"] = t(w["w3"][i])
        out[f"{p}.mlp.down_proj.weight"] = t(w["w2"][i])
    out["model.norm.weight"] = w["rms_final"]
    out["lm_head.weight"] = t(ck.wcls)
    return out


def convert(model_path, output, tokenizer_path=None, opset=18,
            external_data=False):
    """Writes the ONNX model; returns the onnx ModelProto (without weight
    bytes when external_data)."""
    if opset < onnx_builder.MIN_OPSET:
        raise ValueError(f"opset {opset} is not supported: the graph needs "
                         f"opset {onnx_builder.MIN_OPSET} or newer "
                         "(ReduceMean with axes as an input)")
    onnx_builder.ir_version_for(opset)  # rejects unknown opsets
    ck = llama2c.load_checkpoint(model_path)
    c = ck.config
    metadata = [("terminator.tokenizer.format", "llama2c")]
    if tokenizer_path:
        tok = llama2c.load_tokenizer(tokenizer_path, c.vocab_size)
        metadata.append(("terminator.tokenizer.data",
                         base64.b64encode(tok.data).decode("ascii")))
    metadata += [
        ("terminator.bos", str(llama2c.BOS)),
        ("terminator.eos", str(llama2c.EOS)),
        ("terminator.context_length", str(c.seq_len)),
        ("terminator.source", ck.sha256),
    ]
    cfg = graphs.LlamaConfig(c.dim, c.hidden_dim, c.n_layers, c.n_heads,
                             c.n_kv_heads, c.vocab_size, c.seq_len,
                             c.shared_classifier)
    arrays = hf_weights(ck)

    def weights(g, name, shape):
        a = arrays[name]
        if list(a.shape) != list(shape):
            raise AssertionError(f"{name}: shape {a.shape} != {shape}")
        return g.weight(name, a)

    if external_data:
        storage = onnx_builder.ExternalStorage(output + ".data")
    else:
        storage = onnx_builder.InlineStorage()
    try:
        g = onnx_builder.Graph(storage)
        graphs.build_llama(g, cfg, weights)
    finally:
        storage.close()
    model = g.make_model("llama2c", opset, "terminator llama2c_to_onnx.py",
                         metadata)
    onnx_builder.save_model(model, output)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="llama2c_to_onnx.py",
        description="Convert a llama2.c checkpoint (legacy fp32) to an ONNX "
                    "LlamaForCausalLM graph with KV cache.")
    p.add_argument("model", help="llama2.c checkpoint (.bin)")
    p.add_argument("-o", "--output", required=True, help="output .onnx")
    p.add_argument("--tokenizer", help="llama2.c tokenizer to embed in the "
                   "metadata (terminator.tokenizer.data)")
    p.add_argument("--opset", type=int, default=18,
                   help="ONNX opset of the default domain (>= 18)")
    p.add_argument("--external-data", action="store_true",
                   help="write the weights to OUTPUT.data (ONNX external "
                        "data) instead of inside the .onnx")
    args = p.parse_args(argv)
    try:
        model = convert(args.model, args.output, args.tokenizer, args.opset,
                        args.external_data)
    except (llama2c.FormatError, ValueError) as e:
        print(f"llama2c_to_onnx.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"llama2c_to_onnx.py: error: {e.filename}: {e.strerror}",
              file=sys.stderr)
        return 1
    n = sum(1 for _ in model.graph.node)
    print(f"wrote {args.output}: {n} nodes, "
          f"{len(model.graph.initializer)} initializers, opset {args.opset}"
          + (f", weights in {args.output}.data" if args.external_data else ""))
    print("op types: " + " ".join(onnx_builder.op_types(model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
