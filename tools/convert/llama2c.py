"""Readers for llama2.c checkpoints and tokenizers.

llama2.c (https://github.com/karpathy/llama2.c) stores a model in its legacy
fp32 format ("version 0", written by export.py's legacy_export):

    header  7 x int32: dim, hidden_dim, n_layers, n_heads, n_kv_heads,
                       vocab_size (negative: the classifier is NOT shared with
                       the token embedding), seq_len
    weights float32, in this order:
        token_embedding [vocab][dim]
        rms_att         [layer][dim]
        wq              [layer][dim][dim]
        wk              [layer][kv_dim][dim]
        wv              [layer][kv_dim][dim]
        wo              [layer][dim][dim]
        rms_ffn         [layer][dim]
        w1              [layer][hidden][dim]
        w2              [layer][dim][hidden]
        w3              [layer][hidden][dim]
        rms_final       [dim]
        freq_cis_real   [seq_len][head_size/2]   (unused: RoPE is recomputed)
        freq_cis_imag   [seq_len][head_size/2]   (unused)
        wcls            [vocab][dim]             (only when vocab_size < 0)

Matrices are row-major [out][in], so y = W @ x.

The tokenizer file (tokenizer.bin / tok512.bin) is

    int32 max_token_length
    per token: float32 score, int32 length, `length` bytes (no terminator)

`Tokenizer.encode` reproduces llama2.c's run.c `encode()` step by step,
including its C-string quirks; `Tokenizer.decode` reproduces `decode()`.

Every reader error is a `FormatError` whose message names the file and says
what was expected and what was found.
"""

import hashlib
import heapq
import math
import re
import struct

import numpy as np

HEADER_FIELDS = ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads",
                 "vocab_size", "seq_len")
HEADER_BYTES = 4 * len(HEADER_FIELDS)

BOS = 1
EOS = 2


class FormatError(Exception):
    """A llama2.c file that cannot be read; the message names the file."""


class Config:
    """The 7-field llama2.c header plus the derived sizes."""

    def __init__(self, dim, hidden_dim, n_layers, n_heads, n_kv_heads,
                 vocab_size, seq_len):
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads
        # A negative vocab_size in the file means an unshared classifier.
        self.shared_classifier = vocab_size > 0
        self.vocab_size = abs(vocab_size)
        self.seq_len = seq_len
        self.head_size = dim // n_heads if n_heads else 0
        self.kv_dim = self.head_size * n_kv_heads

    def as_dict(self):
        return {
            "dim": self.dim, "hidden_dim": self.hidden_dim,
            "n_layers": self.n_layers, "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads, "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
            "shared_classifier": self.shared_classifier,
        }

    def weight_shapes(self):
        """(name, shape) of every tensor in file order."""
        L, d, h, kv = self.n_layers, self.dim, self.hidden_dim, self.kv_dim
        shapes = [
            ("token_embedding", (self.vocab_size, d)),
            ("rms_att", (L, d)),
            ("wq", (L, d, d)),
            ("wk", (L, kv, d)),
            ("wv", (L, kv, d)),
            ("wo", (L, d, d)),
            ("rms_ffn", (L, d)),
            ("w1", (L, h, d)),
            ("w2", (L, d, h)),
            ("w3", (L, h, d)),
            ("rms_final", (d,)),
            ("freq_cis_real", (self.seq_len, self.head_size // 2)),
            ("freq_cis_imag", (self.seq_len, self.head_size // 2)),
        ]
        if not self.shared_classifier:
            shapes.append(("wcls", (self.vocab_size, d)))
        return shapes

    def expected_bytes(self):
        return HEADER_BYTES + 4 * sum(
            int(np.prod(s)) for _, s in self.weight_shapes())


class Checkpoint:
    """A loaded llama2.c checkpoint: `config`, `weights` (name -> float32
    array, shapes as in Config.weight_shapes), `sha256` of the file."""

    def __init__(self, path, config, weights, sha256):
        self.path = path
        self.config = config
        self.weights = weights
        self.sha256 = sha256

    @property
    def wcls(self):
        """The classifier [vocab][dim] (the embedding when shared)."""
        if self.config.shared_classifier:
            return self.weights["token_embedding"]
        return self.weights["wcls"]


def _read_bytes(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, expected a {what}")
    except OSError as e:
        raise FormatError(f"{path}: cannot open the {what}: {e.strerror}; "
                          "check the path and its permissions")


def load_checkpoint(path):
    """Reads a legacy (fp32, version 0) llama2.c checkpoint."""
    data = _read_bytes(path, "llama2.c checkpoint")
    if len(data) < HEADER_BYTES:
        raise FormatError(
            f"{path}: the file has {len(data)} bytes, too few for the "
            f"{HEADER_BYTES}-byte llama2.c header")
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic == 0x616B3432:  # "ak42": llama2.c's versioned export
        raise FormatError(
            f"{path}: this is a versioned llama2.c export (magic 'ak42'); "
            "only the legacy fp32 format (export.py --version 0) is supported")
    fields = struct.unpack_from("<7i", data, 0)
    cfg = dict(zip(HEADER_FIELDS, fields))
    header = ", ".join(f"{k} {v}" for k, v in cfg.items())
    bad = [k for k in HEADER_FIELDS if k != "vocab_size" and cfg[k] <= 0]
    if cfg["vocab_size"] == 0:
        bad.append("vocab_size")
    if bad:
        raise FormatError(
            f"{path}: invalid llama2.c header ({header}): {', '.join(bad)} must be "
            "positive; this is not a llama2.c checkpoint")
    if cfg["dim"] % cfg["n_heads"] or cfg["n_heads"] % cfg["n_kv_heads"]:
        raise FormatError(
            f"{path}: invalid llama2.c header ({header}): dim must be a multiple of "
            "n_heads and n_heads a multiple of n_kv_heads")
    if (cfg["dim"] // cfg["n_heads"]) % 2:
        raise FormatError(
            f"{path}: invalid llama2.c header ({header}): the head size "
            f"{cfg['dim'] // cfg['n_heads']} must be even for RoPE")
    config = Config(**cfg)
    expected = config.expected_bytes()
    if len(data) != expected:
        kind = "is truncated" if len(data) < expected else "has extra bytes"
        raise FormatError(
            f"{path}: expected {expected} bytes for a llama2.c checkpoint with "
            f"header ({header}), but the file has {len(data)} bytes; the "
            f"file {kind} or is not a legacy fp32 llama2.c checkpoint")
    weights = {}
    offset = HEADER_BYTES
    for name, shape in config.weight_shapes():
        count = int(np.prod(shape))
        weights[name] = np.frombuffer(
            data, dtype="<f4", count=count, offset=offset).reshape(shape)
        offset += 4 * count
    for name, w in weights.items():
        if not np.all(np.isfinite(w)):
            raise FormatError(f"{path}: tensor '{name}' holds NaN or Inf values")
    return Checkpoint(path, config, weights, hashlib.sha256(data).hexdigest())


ROPE_THETA = 10000.0


def rope_angles(head_size, seq_len):
    """cos and sin [seq_len][head_size/2] (float32) of the RoPE angles as
    run.c computes them: freq_i = 1.0f / powf(10000.0f, 2i / (float)head_size),
    val = pos * freq_i (float32 products), then cosf/sinf. Computed with
    Python's libm in double and rounded to float32, so the tables are the
    same bytes on every machine (numpy's SIMD float32 cos may differ)."""
    f32 = np.float32
    freqs = []
    for hd in range(0, head_size, 2):
        p = f32(math.pow(ROPE_THETA, float(f32(hd) / f32(head_size))))
        freqs.append(f32(1.0) / p)
    cos = np.empty((seq_len, head_size // 2), np.float32)
    sin = np.empty((seq_len, head_size // 2), np.float32)
    for pos in range(seq_len):
        for i, fr in enumerate(freqs):
            val = float(f32(pos) * fr)
            cos[pos, i] = math.cos(val)
            sin[pos, i] = math.sin(val)
    return cos, sin


_BYTE_PIECE = re.compile(rb"<0x([0-9A-Fa-f]{2})>")


def _c_string(b):
    """The bytes a C string holding `b` would show (cut at the first NUL)."""
    nul = b.find(b"\0")
    return b if nul < 0 else b[:nul]


class Tokenizer:
    """A llama2.c tokenizer: `vocab` (list of bytes), `scores` (list of
    float32 values as Python floats), `max_token_length`, `data` (the file's
    bytes), `path`."""

    def __init__(self, path, vocab, scores, max_token_length, data):
        self.path = path
        self.vocab = vocab
        self.scores = scores
        self.max_token_length = max_token_length
        self.data = data
        # run.c looks pieces up with strcmp/bsearch: C strings. When two
        # pieces compare equal, bsearch may return either; the first wins here.
        self._lookup = {}
        for i, piece in enumerate(vocab):
            self._lookup.setdefault(_c_string(piece), i)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def lookup(self, piece):
        """The id of `piece` (bytes) or -1, as run.c's str_lookup."""
        return self._lookup.get(piece, -1)

    def encode(self, text, bos=True, eos=False):
        """Token ids of `text` (str or UTF-8 bytes), exactly as llama2.c's
        encode(): optional BOS, the dummy-prefix piece " " (if text is not
        empty), one lookup per UTF-8 codepoint with byte fallback to id
        byte+3, then repeated merging of the adjacent pair whose merged piece
        has the highest score (first pair on ties) until no pair merges."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        text = _c_string(bytes(text))
        tokens = []
        if bos:
            tokens.append(BOS)
        if text:
            prefix = self.lookup(b" ")
            if prefix < 0:
                raise FormatError(
                    f"{self.path}: the vocabulary has no piece ' ' for "
                    "sentencepiece's dummy prefix")
            tokens.append(prefix)
        # Codepoints: run.c starts a new piece at every non-continuation byte
        # and cuts a piece at 4 bytes.
        buf = bytearray()
        n = len(text)
        for i in range(n):
            c = text[i]
            if (c & 0xC0) != 0x80:
                buf = bytearray()
            buf.append(c)
            nxt = text[i + 1] if i + 1 < n else 0
            if (nxt & 0xC0) == 0x80 and len(buf) < 4:
                continue
            tid = self.lookup(bytes(buf))
            if tid != -1:
                tokens.append(tid)
            else:
                tokens.extend(b + 3 for b in buf)
            buf = bytearray()
        tokens = self._merge(tokens)
        if eos:
            tokens.append(EOS)
        return tokens

    def _merge(self, tokens):
        """run.c's merge loop: while some adjacent pair (a, b) has a merged
        piece in the vocabulary, replace the pair with the best-scoring one
        (strictly greater than -1e10; the leftmost pair on ties).

        run.c rescans all pairs after every merge (quadratic); this keeps the
        candidate pairs in a heap ordered by (-score, position) and drops
        stale entries lazily, which picks the same pair at every step."""
        n = len(tokens)
        if n < 2:
            return list(tokens)
        tokens = list(tokens)
        pieces = [_c_string(self.vocab[t]) for t in tokens]
        nxt = list(range(1, n)) + [-1]
        prv = list(range(-1, n - 1))
        version = [0] * n  # bumped when a node's token changes or it dies
        heap = []

        def push(i):
            j = nxt[i]
            if j < 0:
                return
            tid = self._lookup.get(pieces[i] + pieces[j], -1)
            if tid != -1 and self.scores[tid] > -1e10:
                heapq.heappush(heap, (-self.scores[tid], i, version[i], j,
                                      version[j], tid))

        for i in range(n - 1):
            push(i)
        while heap:
            _, i, vi, j, vj, tid = heapq.heappop(heap)
            if version[i] != vi or version[j] != vj or nxt[i] != j:
                continue
            tokens[i] = tid
            pieces[i] = _c_string(self.vocab[tid])
            version[i] += 1
            version[j] += 1  # j is removed
            k = nxt[j]
            nxt[i] = k
            if k >= 0:
                prv[k] = i
            nxt[j] = -1
            if prv[i] >= 0:
                push(prv[i])
            push(i)
        out = []
        i = 0
        while i >= 0:
            out.append(tokens[i])
            i = nxt[i]
        return out

    def decode_piece(self, prev_token, token):
        """The bytes run.c's decode(prev_token, token) returns: a leading
        space is dropped after BOS and "<0xNN>" pieces become the byte NN."""
        piece = _c_string(self.vocab[token])
        if prev_token == BOS and piece[:1] == b" ":
            piece = piece[1:]
        m = _BYTE_PIECE.match(piece)
        if m:
            piece = bytes([int(m.group(1), 16)])
        return piece

    def decode(self, tokens, prev_token=None):
        """The text of a token sequence as run.c's generate() would print it
        (without safe_printf's filtering of control bytes). BOS and EOS
        produce nothing. Invalid UTF-8 is replaced."""
        out = bytearray()
        prev = prev_token
        for t in tokens:
            if t in (BOS, EOS):
                prev = t
                continue
            out += self.decode_piece(prev, t)
            prev = t
        return out.decode("utf-8", errors="replace")


def load_tokenizer(path, vocab_size=None):
    """Reads a llama2.c tokenizer file. With `vocab_size`, the number of
    pieces must match it (run.c reads exactly vocab_size pieces)."""
    data = _read_bytes(path, "llama2.c tokenizer")
    if len(data) < 4:
        raise FormatError(
            f"{path}: the file has {len(data)} bytes, too few for a llama2.c "
            "tokenizer (int32 max_token_length, then per token: float32 "
            "score, int32 length, bytes)")
    max_len = struct.unpack_from("<i", data, 0)[0]
    if not 0 < max_len <= 1024:
        raise FormatError(
            f"{path}: max_token_length {max_len} is not in 1..1024; this is "
            "not a llama2.c tokenizer")
    vocab, scores = [], []
    off = 4
    while off < len(data):
        i = len(vocab)
        if off + 8 > len(data):
            raise FormatError(
                f"{path}: token {i} at offset {off}: expected an 8-byte "
                f"(score, length) record, but only {len(data) - off} bytes "
                "remain; the file is truncated or not a llama2.c tokenizer")
        score, n = struct.unpack_from("<fi", data, off)
        off += 8
        if not 0 <= n <= max_len:
            raise FormatError(
                f"{path}: token {i} at offset {off - 4}: length {n} is not in "
                f"0..{max_len} (max_token_length); this is not a llama2.c "
                "tokenizer")
        if off + n > len(data):
            raise FormatError(
                f"{path}: token {i}: expected {n} bytes at offset {off}, but "
                f"only {len(data) - off} remain; the file is truncated")
        if not np.isfinite(score):
            raise FormatError(f"{path}: token {i} has score {score}")
        vocab.append(data[off:off + n])
        scores.append(score)
        off += n
    if vocab_size is not None and len(vocab) != vocab_size:
        raise FormatError(
            f"{path}: expected {vocab_size} tokens (the model's vocab_size), "
            f"but the file has {len(vocab)}; this tokenizer belongs to "
            "another model")
    if len(vocab) <= EOS:
        raise FormatError(f"{path}: only {len(vocab)} tokens; BOS=1 and EOS=2 "
                          "must exist")
    return Tokenizer(path, vocab, scores, max_len, data)


def main(argv=None):
    """Small CLI: `info MODEL.bin`, `encode TOK.bin TEXT`, `decode TOK.bin IDS`."""
    import argparse
    import json
    import sys

    p = argparse.ArgumentParser(
        prog="llama2c.py",
        description="Inspect llama2.c checkpoints and tokenizers.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("info", help="print a checkpoint's header as JSON")
    s.add_argument("model")
    s = sub.add_parser("encode", help="print the token ids of a text")
    s.add_argument("tokenizer")
    s.add_argument("text")
    s.add_argument("--no-bos", action="store_true")
    s.add_argument("--eos", action="store_true")
    s = sub.add_parser("decode", help="print the text of token ids")
    s.add_argument("tokenizer")
    s.add_argument("ids", nargs="+", type=int)
    args = p.parse_args(argv)
    try:
        if args.cmd == "info":
            ck = load_checkpoint(args.model)
            info = ck.config.as_dict()
            info["sha256"] = ck.sha256
            print(json.dumps(info, indent=1))
        elif args.cmd == "encode":
            tok = load_tokenizer(args.tokenizer)
            ids = tok.encode(args.text, bos=not args.no_bos, eos=args.eos)
            print(" ".join(map(str, ids)))
        else:
            tok = load_tokenizer(args.tokenizer)
            bad = [i for i in args.ids if not 0 <= i < tok.vocab_size]
            if bad:
                raise FormatError(f"token ids {bad} are out of range "
                                  f"0..{tok.vocab_size - 1}")
            sys.stdout.write(tok.decode(args.ids) + "\n")
    except FormatError as e:
        print(f"llama2c.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
