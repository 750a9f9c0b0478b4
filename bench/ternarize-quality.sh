#!/usr/bin/env bash
#===- bench/ternarize-quality.sh - WikiText-2 perplexity per recipe --------===#
#
# For each ternarization recipe: import the bundled stories260K.onnx, run
# ternary-ternarize with the recipe's options (every linear layer, the
# classifier included; no calibration), decode the archive back into an ONNX
# model (tools/convert/ternarized_onnx.py) and score it with onnxruntime under
# the perplexity protocol of DESIGN.md (tools/convert/reference.py --onnx).
#
#   bench/ternarize-quality.sh [TEXT]   (default: examples/wikitext-2/wiki.test.raw)
#
# About a minute per recipe on this machine. Needs ./dev test first.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
text=${1:-$here/examples/wikitext-2/wiki.test.raw}
model=$here/examples/stories260K
py=$build/venv/bin/python
work=$(mktemp -d "${TMPDIR:-/tmp}/terminator-quality.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$build/bin/terminator-import" "$model/stories260K.onnx" -o "$work/s.mlir" \
  --dim sequence_length=1 --dim past_sequence_length=0
score() { # ONNX -> "tokens nats/token perplexity"
  "$py" "$here/tools/convert/reference.py" perplexity "$model/stories260K.bin" \
    "$model/tok512.bin" "$text" --onnx "$1" >"$work/score.txt" 2>&1 ||
    { cat "$work/score.txt" >&2; exit 1; }
  sed -nE 's/.*tokens scored: ([0-9,]+).*/\1/p; s/.*nats\/token: ([0-9.]+).*/\1/p; s/.*perplexity: ([0-9.]+).*/\1/p' \
    "$work/score.txt" |
    tr '\n' ' '
}
printf '%-28s %10s %s\n' "recipe" "bits/lin.w" "tokens nats/token perplexity"
printf '%-28s %10s %s\n' "fp32" "32" "$(score "$model/stories260K.onnx")"
for recipe in "method=absmean granularity=tensor" "method=absmean" \
              "method=als" "method=itf" "method=itf block-size=32" \
              "method=absmean int8-layers=lm_head.weight"; do
  (cd "$work" && "$build/bin/terminator-opt" s.mlir \
     --ternary-ternarize="$recipe output-archive=t.tpar" -o t.mlir)
  bits=$("$py" "$here/tools/convert/ternarized_onnx.py" "$model/stories260K.onnx" \
           "$work/t.tpar" -o "$work/t.onnx" | sed -nE 's/.* ([0-9.]+) real bits.*/\1/p')
  printf '%-28s %10s %s\n' "$recipe" "$bits" "$(score "$work/t.onnx")"
done
