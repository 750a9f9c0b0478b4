#!/usr/bin/env python3
"""Exports tiny random Hugging Face Llama and GPT-2 models with the real
torch.onnx.export (torch's default, torch.export-based exporter), for the
frontend's tests. Run on a machine with torch, transformers, onnx and
onnxruntime (the workplace's device machine; no network needed: the models
are built from configs with random weights, seed 0):

    python export_hf.py OUTDIR

Writes OUTDIR/{llama,gpt2}.onnx (weights inside), OUTDIR/{llama,gpt2}.ids.txt
(the input ids) and OUTDIR/{llama,gpt2}.logits.txt (onnxruntime's logits for
them, the oracle of later numerical tests), and OUTDIR/versions.txt.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers


def export(name, model, outdir, vocab):
    model.eval()
    ids = torch.tensor([[1, 5, 9, 17, 33, 65, 100]], dtype=torch.long) % vocab

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m(input_ids=input_ids, use_cache=False).logits

    path = os.path.join(outdir, name + ".onnx")
    seq = torch.export.Dim("sequence_length", min=1, max=64)
    prog = torch.onnx.export(Wrapper(model), (ids,), dynamo=True,
                             input_names=["input_ids"], output_names=["logits"],
                             dynamic_shapes={"input_ids": {1: seq}},
                             opset_version=20)
    prog.save(path, external_data=False)
    m = onnx.load(path)
    ops = sorted({n.op_type for n in m.graph.node})
    print(name, "opset", [(o.domain, o.version) for o in m.opset_import],
          "ops", ops, "nodes", len(m.graph.node))
    with torch.no_grad():
        ref = Wrapper(model)(ids).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": ids.numpy()})[0]
    print(name, "ort vs torch max abs diff", float(np.abs(got - ref).max()))
    np.savetxt(os.path.join(outdir, name + ".ids.txt"), ids.numpy(), fmt="%d")
    np.savetxt(os.path.join(outdir, name + ".logits.txt"),
               got.reshape(-1, got.shape[-1]), fmt="%.7e")


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    llama = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=128, hidden_size=64, intermediate_size=172,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=128, rms_norm_eps=1e-5, tie_word_embeddings=False))
    export("llama", llama, outdir, 128)
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=128, n_positions=128, n_embd=64, n_layer=2, n_head=4))
    export("gpt2", gpt2, outdir, 128)
    with open(os.path.join(outdir, "versions.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\n"
                f"onnx {onnx.__version__}\nonnxruntime {ort.__version__}\n")


if __name__ == "__main__":
    main()
