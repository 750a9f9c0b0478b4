#!/usr/bin/env bash
#===- bench/results-table.sh - the README's stories260K results table ------===#
#
# For each recipe: compile examples/stories260K/stories260K.onnx with
# terminator-compile, then
#   - real bits per linear weight: the compiler's own count (codes, scales,
#     offsets);
#   - WikiText-2 test perplexity and the mean KL divergence of the next-token
#     distribution to the f32 model: onnxruntime on the program's decoded
#     weights (tools/convert/ternarized_onnx.py, reference.py --kl-reference),
#     DESIGN.md protocol;
#   - held-out stories perplexity: the program itself
#     (examples/stories260K/heldout.txt, the model's own samples);
#   - decode tokens/s: the program's `bench` (1 thread, best of 3).
# Prints a markdown table. About 90 minutes on this machine (each 21-stage
# calibration takes about 10). Needs ./dev test (or ./dev run) first.
#
#   bench/results-table.sh [TEXT]   (default: examples/wikitext-2/wiki.test.raw)
#   ONLY=sequential bench/results-table.sh   (only the recipes so named; the
#   later sequential ones reuse the first one's calibration, so keep it:
#   ONLY="block 64" runs the block-64 rows, the first calibrating;
#   ONLY=asymmetric the five asymmetric rows)
#
#===------------------------------------------------------------------------===#
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
text=${1:-$here/examples/wikitext-2/wiki.test.raw}
model=$here/examples/stories260K
py=$build/venv/bin/python
work=$(mktemp -d "${TMPDIR:-/tmp}/terminator-results.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The sequential recipes share one calibration (6 stages; the head does not
# change what the stages observe; these mixed rows choose precisions on the
# shared statistics, while the asymmetric mixed rows calibrate behind their
# chosen precisions). They fit
# each layer's own weights (--fit-target self --no-refit-scales: the recipe
# before asymmetric calibration).
seq="--method pt2 --calib $work/seq6.tpar --fit-target self --no-refit-scales"
# Asymmetric calibration, one stage per input group (21 on stories260K),
# each fitting the f32 program's outputs (the default fit of pt2).
seq21="--method pt2 --calib $work/seq21.tpar --percdamp 0.1"
# The block-64 recipes calibrate on their own (the stages then observe
# earlier layers ternarized per block, SSR-reordered), and share that.
seq64="--method pt2 --calib $work/seq6-b64.tpar --block-size 64 --fit-target self --no-refit-scales"
recipes=(
  "f32|--no-ternarize"
  "absmean (per row)|--method absmean"
  "ALS (per row)|--method als"
  "ITF (per row)|--method itf"
  "pt2 (GPTQ+ITF, calibrated, one stage)|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 1"
  "pt2, sequential calibration (6 stages)|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 6 --fit-target self --no-refit-scales --save-calib $work/seq6.tpar"
  "pt2, sequential, head ternary|$seq --head ternary"
  "pt2, sequential + 0.5 % outliers|$seq --outliers 0.005"
  "pt2, sequential, mixed int4/int8 within 3.0 bits|$seq --bits-per-weight 3.0"
  "pt2, sequential, mixed int4/int8 within 3.5 bits|$seq --bits-per-weight 3.5"
  "pt2, sequential, block 64 + SSR|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 6 --fit-target self --no-refit-scales --block-size 64 --save-calib $work/seq6-b64.tpar"
  "pt2, sequential, block 64 without SSR|$seq64 --no-ssr"
  "pt2, sequential, block 64 + SSR + 0.5 % outliers|$seq64 --outliers 0.005"
  "pt2, sequential, block 64 + SSR, mixed int4/int8 within 3.0 bits|$seq64 --bits-per-weight 3.0"
  "pt2, asymmetric, 21 stages, percdamp 0.1|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 21 --percdamp 0.1 --save-calib $work/seq21.tpar"
  "pt2, asymmetric, 21 stages, percdamp 0.1, mixed int4/int8 within 3.0 bits|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 21 --percdamp 0.1 --bits-per-weight 3.0"
  "pt2, asymmetric, 21 stages, mixed int4/int8 within 3.0 bits|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 21 --bits-per-weight 3.0"
  "pt2, asymmetric, 21 stages|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 21"
  "pt2, asymmetric, 21 stages, block 64 + SSR|--method pt2 --calib-text $model/calibration.txt --calib-seq-len 512 --calib-stages 21 --block-size 64"
)
echo "| recipe | real bits / linear weight | WikiText-2 ppl | KL to f32 (nats/token) | held-out stories ppl | decode tokens/s |"
echo "|---|---|---|---|---|---|"
for entry in "${recipes[@]}"; do
  name=${entry%%|*}
  flags=${entry#*|}
  # ONLY=substring runs the recipes whose name contains it.
  [[ -n "${ONLY:-}" && "$name" != *"$ONLY"* ]] && continue
  # shellcheck disable=SC2086
  "$build/bin/terminator-compile" "$model/stories260K.onnx" -o "$work/p" $flags \
    2>"$work/compile.log" || { cat "$work/compile.log" >&2; exit 1; }
  # Bits per linear weight without the int8 head, and with it.
  bits=$(sed -nE 's/^wrote .*, ([0-9.]+) bits per linear weight(, head .* int8 \(([0-9.]+) bits.*)?.*/\1 \3/p' \
    "$work/compile.log" | awk '{print $2 ? $1 " (" $2 " with the head)" : $1}')
  onnx=$model/stories260K.onnx
  if [ "$flags" != "--no-ternarize" ]; then
    "$py" "$here/tools/convert/ternarized_onnx.py" "$model/stories260K.onnx" \
      "$work/p.tpar" -o "$work/t.onnx" >/dev/null
    onnx=$work/t.onnx
  fi
  "$py" "$here/tools/convert/reference.py" perplexity "$model/stories260K.bin" \
    "$model/tok512.bin" "$text" --onnx "$onnx" \
    --kl-reference "$model/stories260K.onnx" >"$work/score.txt"
  ppl=$(sed -nE 's/^perplexity: ([0-9.]+)/\1/p' "$work/score.txt")
  kl=$(sed -nE 's/^kl to reference: ([0-9.]+).*/\1/p' "$work/score.txt")
  held=$("$work/p" perplexity "$model/heldout.txt" 2>/dev/null | awk '{print $2}')
  tps=$("$work/p" bench 2>/dev/null | sed -nE 's/^decode: [0-9]+ tokens, ([0-9.]+) tokens.*/\1/p')
  printf '| %s | %s | %s | %s | %.2f | %s |\n' "$name" "$bits" "$ppl" "$kl" "$held" "$tps"
done
