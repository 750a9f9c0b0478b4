#!/usr/bin/env bash
#===- bench/decode-speed.sh - decode tokens/s against onnxruntime ---------===#
#
# Decode speed of compiled programs, f32 and ternary (default recipe), at 1
# and 2 threads, against onnxruntime FP32 on the same ONNX model, with the
# weight bytes each decoded token reads and the implied fraction of the
# memory-read bandwidth measured in the same run (numpy sum over 1 GiB, one
# thread, best of 3).
#
#   bench/decode-speed.sh [stories260K | llama-110m | llama-1b]
#   RECIPES=ternary bench/decode-speed.sh llama-1b   # skip the f32 program
#   TERNARY_FLAGS="--head int4" RECIPES=ternary bench/decode-speed.sh llama-1b
#
# llama-110m / llama-1b are random-weight models of real shapes made by
# tools/convert/random_model.py (1b: TinyLlama-1.1B's shapes, 4.4 GB of f32
# weights and minutes of compilation), compiled with a 512-token context
# (a decode step attends over the in-place cache of 64, 128, 256 or 512
# slots that holds the sequence). Needs ./dev test first. The ternary program
# runs the micro-kernels of the host's ISA (docs/kernels.md); f32 layers and
# every other op run the fused loops of the AOT pipeline.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
py=$build/venv/bin/python
which=${1:-stories260K}
work=$(mktemp -d "${TMPDIR:-/tmp}/terminator-decode.XXXXXX")
trap 'rm -rf "$work"' EXIT

case "$which" in
  stories260K) onnx=$here/examples/stories260K/stories260K.onnx; flags=() ;;
  llama-110m|llama-1b)
    "$py" "$here/tools/convert/random_model.py" --arch llama --size "${which#llama-}" \
      -o "$work/model.onnx" >/dev/null
    onnx=$work/model.onnx; flags=(--no-tokenizer --context 512) ;;
  *) echo "usage: $0 [stories260K | llama-110m | llama-1b]" >&2; exit 2 ;;
esac

bw=$("$py" -c "
import time, numpy as np
a = np.ones(1 << 28, dtype=np.float32)
best = 0.0
for _ in range(3):
    t = time.perf_counter(); a.sum(); dt = time.perf_counter() - t
    best = max(best, a.nbytes / dt / 1e9)
print(f'{best:.1f}')")
echo "memory read bandwidth (numpy sum of 1 GiB, 1 thread, best of 3): $bw GB/s"

weight_bytes() { # archive -> bytes of the entries a decode step reads
  "$build/bin/terminator-archive" list "$1" |
    awk '$1 !~ /^terminator\./ && $1 !~ /embed_tokens/ && $1 !~ /rotary_emb/ {
           for (i = 1; i <= NF; i++) if ($i ~ /^nbytes=/) { sub("nbytes=", "", $i); s += $i } }
         END { print s }'
}

echo "| program | weight bytes / token | threads | decode tokens/s | implied GB/s | fraction of bandwidth |"
echo "|---|---|---|---|---|---|"
for recipe in ${RECIPES:-f32 ternary}; do
  # TERNARY_FLAGS: extra terminator-compile flags of the ternary program.
  read -r -a extra <<< "${TERNARY_FLAGS:-}"
  [ "$recipe" = f32 ] && extra=(--no-ternarize)
  "$build/bin/terminator-compile" "$onnx" -o "$work/$recipe" "${flags[@]}" "${extra[@]}" \
    --prefill-lengths 16 2>"$work/compile.log" || { cat "$work/compile.log" >&2; exit 1; }
  bytes=$(weight_bytes "$work/$recipe.tpar")
  for threads in 1 2; do
    tps=$("$work/$recipe" bench --prompt-tokens 16 --decode-tokens 64 --threads "$threads" |
          sed -nE 's/^decode: [0-9]+ tokens, ([0-9.]+) tokens.*/\1/p')
    awk -v r="$recipe" -v b="$bytes" -v t="$threads" -v s="$tps" -v bw="$bw" 'BEGIN {
      g = b * s / 1e9; printf "| %s | %.0f | %d | %.1f | %.2f | %.3f |\n", r, b, t, s, g, g / bw }'
  done
done

# onnxruntime FP32 on the same model: one token per step with the KV cache.
for threads in 1 2; do
  tps=$(cd "$here/tools/convert" && "$py" -c "
import sys, time
import numpy as np
from ort_model import OrtModel
m = OrtModel('$onnx', $threads)
past = m.empty_past()
logits, past = m.run([1] * 16, 0, past)
t = time.perf_counter()
for k in range(64):
    logits, past = m.run([int(np.argmax(logits[-1]))], 16 + k, past)
print(f'{64 / (time.perf_counter() - t):.1f}')")
  echo "| onnxruntime fp32 | | $threads | $tps | | |"
done
