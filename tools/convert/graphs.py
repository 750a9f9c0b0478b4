"""ONNX graphs of decoder-only language models with a KV cache, written the
way Hugging Face models come out of torch.onnx.export.

Both graphs have the interface of an exported *ForCausalLM with past:

    inputs   input_ids                      int64   [1, S]
             position_ids                   int64   [1, S]
             past_key_values.{i}.key/.value float32 [1, n_kv_heads, P, head_dim]
    outputs  logits                         float32 [1, S, vocab]
             present.{i}.key/.value         float32 [1, n_kv_heads, P+S, head_dim]

S = "sequence_length", P = "past_sequence_length" (symbolic). Query i (0-based
in the new tokens) sees the P cached keys and new keys 0..i (a causal mask
built from the shapes). Position ids select the RoPE angles (Llama) or the
learned position embedding (GPT-2); they are normally P..P+S-1.

Linear layers are MatMul(x, W^T) with W^T a float32 initializer [in, out],
which is what torch.onnx.export emits for nn.Linear (Llama: the initializer
holds the transposed torch weight under the torch parameter's name) and for
GPT-2's Conv1D (whose torch weight is already [in, out]).

`weights(g, name, shape)` is a callback that adds the initializer `name`
with the given shape to graph `g` (see onnx_builder.Graph.weight*) and
returns its name.
"""

import math

import numpy as np
from onnx import TensorProto

FLOAT_MIN = float(np.finfo(np.float32).min)  # HF's mask value


class LlamaConfig:
    def __init__(self, dim, hidden_dim, n_layers, n_heads, n_kv_heads,
                 vocab_size, seq_len, shared_classifier, rms_eps=1e-5):
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads
        self.vocab_size = vocab_size
        self.seq_len = seq_len
        self.shared_classifier = shared_classifier
        self.rms_eps = rms_eps
        self.head_dim = dim // n_heads
        self.kv_dim = self.head_dim * n_kv_heads

    def params(self):
        d, h, L, V = self.dim, self.hidden_dim, self.n_layers, self.vocab_size
        per_layer = 2 * d * d + 2 * d * self.kv_dim + 3 * d * h + 2 * d
        return V * d * (1 if self.shared_classifier else 2) + L * per_layer + d


class Gpt2Config:
    def __init__(self, dim, n_layers, n_heads, vocab_size, seq_len,
                 ln_eps=1e-5):
        self.dim = dim
        self.hidden_dim = 4 * dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.n_kv_heads = n_heads
        self.vocab_size = vocab_size
        self.seq_len = seq_len
        self.ln_eps = ln_eps
        self.head_dim = dim // n_heads

    def params(self):
        d, L = self.dim, self.n_layers
        per_layer = 12 * d * d + 13 * d
        return (self.vocab_size + self.seq_len) * d + L * per_layer + 2 * d


def _interface(g, n_layers, n_kv_heads, head_dim):
    g.input("input_ids", TensorProto.INT64, [1, "sequence_length"])
    g.input("position_ids", TensorProto.INT64, [1, "sequence_length"])
    for i in range(n_layers):
        for kv in ("key", "value"):
            g.input(f"past_key_values.{i}.{kv}", TensorProto.FLOAT,
                    [1, n_kv_heads, "past_sequence_length", head_dim])


def _interface_outputs(g, logits, presents, cfg):
    g.output(logits, "logits", TensorProto.FLOAT,
             [1, "sequence_length", cfg.vocab_size])
    for i, (k, v) in enumerate(presents):
        for kv, val in (("key", k), ("value", v)):
            g.output(val, f"present.{i}.{kv}", TensorProto.FLOAT,
                     [1, cfg.n_kv_heads, "total_sequence_length",
                      cfg.head_dim])


def _causal_mask(g):
    """Float mask [S, P+S]: 0 where key j <= P + i, FLOAT_MIN elsewhere."""
    with g.scope("model/mask"):
        s_shape = g.op("Shape", "input_ids")
        S = g.op("Gather", s_shape, g.const(1), axis=0)
        p_shape = g.op("Shape", "past_key_values.0.key")
        P = g.op("Gather", p_shape, g.const(2), axis=0)
        T = g.op("Add", P, S)
        one = g.const(1)
        rows = g.op("Range", P, T, one)              # query positions [S]
        cols = g.op("Range", g.const(0), T, one)     # key positions [T]
        rows = g.op("Unsqueeze", rows, g.const([1]))  # [S, 1]
        cols = g.op("Unsqueeze", cols, g.const([0]))  # [1, T]
        allowed = g.op("LessOrEqual", cols, rows)    # [S, T]
        return g.op("Where", allowed, g.fconst(0.0), g.fconst(FLOAT_MIN))


def _linear(g, x, name, weights, shape, bias=False):
    """MatMul(x, W^T) [+ b] in scope `name` (e.g. model.layers.0.mlp.up_proj),
    initializer `name.weight` of shape [in, out]."""
    w = weights(g, f"{name}.weight", shape)
    scope = "/".join(_torch_scope(name))
    with g.scope(scope):
        y = g.op("MatMul", x, w)
        if bias:
            b = weights(g, f"{name}.bias", [shape[1]])
            y = g.op("Add", b, y)
    return y


def _torch_scope(name):
    """'model.layers.0.self_attn.q_proj' -> ['model', 'layers.0',
    'self_attn', 'q_proj'] (torch.onnx.export's module path)."""
    parts = name.split(".")
    out = []
    for p in parts:
        if p.isdigit() and out:
            out[-1] += "." + p
        else:
            out.append(p)
    return out


def _rmsnorm(g, x, weight, eps):
    """HF LlamaRMSNorm: weight * (x / sqrt(mean(x^2, -1) + eps))."""
    sq = g.op("Pow", x, g.fconst(2.0))
    ms = g.op("ReduceMean", sq, g.const([-1]), keepdims=1)
    rms = g.op("Sqrt", g.op("Add", ms, g.fconst(eps)))
    return g.op("Mul", weight, g.op("Div", x, rms))


def _to_heads(g, x, n, head_dim):
    """[1, S, n*hd] -> [1, n, S, hd]."""
    x = g.op("Reshape", x, g.const([1, -1, n, head_dim]))
    return g.op("Transpose", x, perm=[0, 2, 1, 3])


def _rotate_half(g, x, head_dim):
    half = head_dim // 2
    ax = g.const([-1])
    x1 = g.op("Slice", x, g.const([0]), g.const([half]), ax)
    x2 = g.op("Slice", x, g.const([half]), g.const([2 ** 63 - 1]), ax)
    return g.op("Concat", g.op("Neg", x2), x1, axis=-1)


def _apply_rope(g, x, cos, sin, head_dim):
    return g.op("Add", g.op("Mul", x, cos),
                g.op("Mul", _rotate_half(g, x, head_dim), sin))


def _repeat_kv(g, x, n_kv, n_rep, head_dim):
    """HF repeat_kv: [1, n_kv, T, hd] -> [1, n_kv*n_rep, T, hd]."""
    if n_rep == 1:
        return x
    x = g.op("Unsqueeze", x, g.const([2]))               # [1, kv, 1, T, hd]
    x = g.op("Expand", x, g.const([1, 1, n_rep, 1, 1]))  # [1, kv, rep, T, hd]
    return g.op("Reshape", x, g.const([1, n_kv * n_rep, -1, head_dim]))


def _attention_core(g, q, k, v, layer, mask, cfg, n_kv, scale_op):
    """q [1, nh, S, hd]; k, v [1, n_kv, S, hd] (new). Concatenates the past,
    returns (context [1, S, dim], present_k, present_v)."""
    hd = cfg.head_dim
    present_k = g.op("Concat", f"past_key_values.{layer}.key", k, axis=2,
                     outputs=[f"present.{layer}.key"])
    present_v = g.op("Concat", f"past_key_values.{layer}.value", v, axis=2,
                     outputs=[f"present.{layer}.value"])
    rep = cfg.n_heads // n_kv
    kr = _repeat_kv(g, present_k, n_kv, rep, hd)
    vr = _repeat_kv(g, present_v, n_kv, rep, hd)
    kt = g.op("Transpose", kr, perm=[0, 1, 3, 2])
    scores = g.op("MatMul", q, kt)                       # [1, nh, S, T]
    if scale_op == "Mul":
        scores = g.op("Mul", scores, g.fconst(1.0 / math.sqrt(hd)))
    else:
        scores = g.op("Div", scores, g.fconst(math.sqrt(hd)))
    scores = g.op("Add", scores, mask)
    probs = g.op("Softmax", scores, axis=-1)
    ctx = g.op("MatMul", probs, vr)                      # [1, nh, S, hd]
    ctx = g.op("Transpose", ctx, perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", ctx, g.const([1, -1, cfg.dim]))
    return ctx, present_k, present_v


def build_llama(g, cfg, weights):
    """A LlamaForCausalLM graph (HF naming). RoPE in HF's rotate_half form:
    q/k projection rows must already be permuted per head so that pair
    (2i, 2i+1) of llama2.c becomes (i, i + head_dim/2) (what HF's
    convert_llama_weights_to_hf.py does). Tables model.rotary_emb.cos_cached /
    sin_cached [seq_len, head_dim] are requested through `weights`."""
    d, hd, nh, nkv = cfg.dim, cfg.head_dim, cfg.n_heads, cfg.n_kv_heads
    _interface(g, cfg.n_layers, nkv, hd)
    emb = weights(g, "model.embed_tokens.weight", [cfg.vocab_size, d])
    with g.scope("model/embed_tokens"):
        x = g.op("Gather", emb, "input_ids", axis=0)      # [1, S, d]
    cos_t = weights(g, "model.rotary_emb.cos_cached", [cfg.seq_len, hd])
    sin_t = weights(g, "model.rotary_emb.sin_cached", [cfg.seq_len, hd])
    with g.scope("model/rotary_emb"):
        cos = g.op("Gather", cos_t, "position_ids", axis=0)   # [1, S, hd]
        sin = g.op("Gather", sin_t, "position_ids", axis=0)
        cos = g.op("Unsqueeze", cos, g.const([1]))            # [1, 1, S, hd]
        sin = g.op("Unsqueeze", sin, g.const([1]))
    mask = _causal_mask(g)
    presents = []
    for i in range(cfg.n_layers):
        p = f"model.layers.{i}"
        w = weights(g, f"{p}.input_layernorm.weight", [d])
        with g.scope(f"model/layers.{i}/input_layernorm"):
            h = _rmsnorm(g, x, w, cfg.rms_eps)
        q = _linear(g, h, f"{p}.self_attn.q_proj", weights, [d, d])
        k = _linear(g, h, f"{p}.self_attn.k_proj", weights, [d, cfg.kv_dim])
        v = _linear(g, h, f"{p}.self_attn.v_proj", weights, [d, cfg.kv_dim])
        with g.scope(f"model/layers.{i}/self_attn"):
            q = _apply_rope(g, _to_heads(g, q, nh, hd), cos, sin, hd)
            k = _apply_rope(g, _to_heads(g, k, nkv, hd), cos, sin, hd)
            v = _to_heads(g, v, nkv, hd)
            ctx, pk, pv = _attention_core(g, q, k, v, i, mask, cfg, nkv, "Mul")
        presents.append((pk, pv))
        o = _linear(g, ctx, f"{p}.self_attn.o_proj", weights, [d, d])
        with g.scope(f"model/layers.{i}"):
            x = g.op("Add", x, o)
        w = weights(g, f"{p}.post_attention_layernorm.weight", [d])
        with g.scope(f"model/layers.{i}/post_attention_layernorm"):
            h = _rmsnorm(g, x, w, cfg.rms_eps)
        gate = _linear(g, h, f"{p}.mlp.gate_proj", weights,
                       [d, cfg.hidden_dim])
        up = _linear(g, h, f"{p}.mlp.up_proj", weights, [d, cfg.hidden_dim])
        with g.scope(f"model/layers.{i}/mlp/act_fn"):
            act = g.op("Mul", gate, g.op("Sigmoid", gate))
        with g.scope(f"model/layers.{i}/mlp"):
            act = g.op("Mul", act, up)
        down = _linear(g, act, f"{p}.mlp.down_proj", weights,
                       [cfg.hidden_dim, d])
        with g.scope(f"model/layers.{i}"):
            x = g.op("Add", x, down)
    w = weights(g, "model.norm.weight", [d])
    with g.scope("model/norm"):
        x = _rmsnorm(g, x, w, cfg.rms_eps)
    head = weights(g, "lm_head.weight", [d, cfg.vocab_size])
    with g.scope("lm_head"):
        logits = g.op("MatMul", x, head, outputs=["logits"])
    _interface_outputs(g, logits, presents, cfg)


def _gelu_tanh(g, x):
    """HF NewGELUActivation:
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))."""
    half_x = g.op("Mul", x, g.fconst(0.5))
    cube = g.op("Pow", x, g.fconst(3.0))
    inner = g.op("Add", x, g.op("Mul", cube, g.fconst(0.044715)))
    t = g.op("Tanh", g.op("Mul", inner, g.fconst(math.sqrt(2.0 / math.pi))))
    return g.op("Mul", half_x, g.op("Add", t, g.fconst(1.0)))


def _layernorm(g, x, prefix, weights, d, eps):
    w = weights(g, f"{prefix}.weight", [d])
    b = weights(g, f"{prefix}.bias", [d])
    with g.scope("/".join(_torch_scope(prefix))):
        return g.op("LayerNormalization", x, w, b, axis=-1, epsilon=eps)


def build_gpt2(g, cfg, weights):
    """A GPT2LMHeadModel graph (HF naming): learned positions, pre-LN blocks
    with LayerNormalization, fused QKV MatMul + Split, GELU (tanh form),
    biases everywhere but the head, lm_head.weight [dim, vocab]."""
    d, hd, nh = cfg.dim, cfg.head_dim, cfg.n_heads
    _interface(g, cfg.n_layers, nh, hd)
    wte = weights(g, "transformer.wte.weight", [cfg.vocab_size, d])
    wpe = weights(g, "transformer.wpe.weight", [cfg.seq_len, d])
    with g.scope("transformer"):
        x = g.op("Add", g.op("Gather", wte, "input_ids", axis=0),
                 g.op("Gather", wpe, "position_ids", axis=0))
    mask = _causal_mask(g)
    presents = []
    for i in range(cfg.n_layers):
        p = f"transformer.h.{i}"
        h = _layernorm(g, x, f"{p}.ln_1", weights, d, cfg.ln_eps)
        qkv = _linear(g, h, f"{p}.attn.c_attn", weights, [d, 3 * d],
                      bias=True)
        with g.scope(f"transformer/h.{i}/attn"):
            q, k, v = g.op("Split", qkv, g.const([d, d, d]), axis=2,
                           outputs=3)
            q = _to_heads(g, q, nh, hd)
            k = _to_heads(g, k, nh, hd)
            v = _to_heads(g, v, nh, hd)
            ctx, pk, pv = _attention_core(g, q, k, v, i, mask, cfg, nh, "Div")
        presents.append((pk, pv))
        o = _linear(g, ctx, f"{p}.attn.c_proj", weights, [d, d], bias=True)
        with g.scope(f"transformer/h.{i}"):
            x = g.op("Add", o, x)
        h = _layernorm(g, x, f"{p}.ln_2", weights, d, cfg.ln_eps)
        f = _linear(g, h, f"{p}.mlp.c_fc", weights, [d, 4 * d], bias=True)
        with g.scope(f"transformer/h.{i}/mlp/act"):
            f = _gelu_tanh(g, f)
        f = _linear(g, f, f"{p}.mlp.c_proj", weights, [4 * d, d], bias=True)
        with g.scope(f"transformer/h.{i}"):
            x = g.op("Add", x, f)
    x = _layernorm(g, x, "transformer.ln_f", weights, d, cfg.ln_eps)
    head = weights(g, "lm_head.weight", [d, cfg.vocab_size])
    with g.scope("lm_head"):
        logits = g.op("MatMul", x, head, outputs=["logits"])
    _interface_outputs(g, logits, presents, cfg)
