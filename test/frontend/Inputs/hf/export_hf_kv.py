#!/usr/bin/env python3
"""Exports the tiny random HF Llama of export_hf.py with its KV cache (past
key/value inputs, present outputs) through torch.onnx.export's default
exporter, and writes onnxruntime's logits for a 4-token step after a 3-token
past as the oracle.

    python export_hf_kv.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers
from transformers.cache_utils import DynamicCache


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(
        vocab_size=128, hidden_size=64, intermediate_size=172,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=128, rms_norm_eps=1e-5, tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(cfg).eval()
    layers, kv, hd = 2, 2, 16

    class Step(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, position_ids, *past):
            cache = DynamicCache()
            for i in range(layers):
                cache.update(past[2 * i], past[2 * i + 1], i)
            out = self.m(input_ids=input_ids, position_ids=position_ids,
                         past_key_values=cache, use_cache=True)
            presents = []
            for i in range(layers):
                layer = out.past_key_values.layers[i]
                presents += [layer.keys, layer.values]
            return (out.logits, *presents)

    ids = torch.tensor([[7, 11, 13, 17]])
    pos = torch.tensor([[3, 4, 5, 6]])
    past = [torch.randn(1, kv, 3, hd) for _ in range(2 * layers)]
    names = ["input_ids", "position_ids"] + [
        f"past_key_values.{i}.{n}" for i in range(layers) for n in ("key", "value")]
    outs = ["logits"] + [f"present.{i}.{n}" for i in range(layers) for n in ("key", "value")]
    S = torch.export.Dim("sequence_length", min=1, max=64)
    P = torch.export.Dim("past_sequence_length", min=1, max=64)
    dyn = {"input_ids": {1: S}, "position_ids": {1: S},
           "past": tuple({2: P} for _ in range(2 * layers))}
    prog = torch.onnx.export(Step(model), (ids, pos, *past), dynamo=True,
                             input_names=names, output_names=outs,
                             dynamic_shapes=(dyn["input_ids"], dyn["position_ids"], dyn["past"]),
                             opset_version=20)
    path = os.path.join(outdir, "llama-kv.onnx")
    prog.save(path, external_data=False)
    m = onnx.load(path)
    print("inputs", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input])
    print("ops", sorted({n.op_type for n in m.graph.node}))
    with torch.no_grad():
        ref = Step(model)(ids, pos, *past)[0].numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids.numpy(), "position_ids": pos.numpy()}
    for n, t in zip(names[2:], past):
        feeds[n] = t.numpy()
    got = sess.run(None, feeds)[0]
    print("ort vs torch max abs diff", float(np.abs(got - ref).max()))
    np.savetxt(os.path.join(outdir, "llama-kv.logits.txt"), got.reshape(-1, got.shape[-1]), fmt="%.7e")
    np.save(os.path.join(outdir, "llama-kv.past.npy"), np.stack([t.numpy() for t in past]))


if __name__ == "__main__":
    main()
