#!/usr/bin/env bash
#===- bench/ternarize-speed.sh - time and memory of ternarization ----------===#
#
# The ternarization issue's speed and memory check:
#   - stories260K: `terminator-opt --terminator-ternarize` with method=pt2
#     (GPTQ + ITF) on the imported model, with calibration statistics made
#     first (terminator-compile --calib-text, 32 windows; not timed);
#   - llama-1b: a random-weight Llama with TinyLlama-1.1B's shapes
#     (tools/convert/random_model.py, 4.4 GB of f32), imported, then
#     ternarized with pt2 on synthetic statistics (every H all ones, so GPTQ
#     does its full work: the cost does not depend on the values) and with
#     ITF (no statistics).
# For each run: wall time, the maximum resident set (/usr/bin/time), and its
# parts sampled every 0.1 s from /proc: RssAnon (what the process allocates)
# and RssFile (pages of the mmapped input archive, page cache the kernel can
# drop). The pass streams:
# it reads one weight at a time from the mmapped archive and writes each
# result to the output archive before the next, so RssAnon should stay near
# a few weights' worth (the largest, 32000 x 2048 f32, is 262 MB).
#
#   bench/ternarize-speed.sh [stories260K | llama-1b | all]   (default all)
#
# Needs ./dev test first. About 15 minutes for llama-1b and 10 GB of disk
# (model, archive, statistics) in a temporary folder it removes.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
py=$build/venv/bin/python
which=${1:-all}
work=$(mktemp -d "${TMPDIR:-/tmp}/terminator-ternarize-speed.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" # imported modules name their archive relative to here

# measure LABEL CMD...: runs CMD, samples its memory, prints one line.
measure() {
  local label=$1
  shift
  local start anon=0 file=0 a f
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$work/maxrss.txt" "$@" 2>"$work/stderr.txt" &
  local pid=$! child
  while kill -0 "$pid" 2>/dev/null; do
    child=$(pgrep -P "$pid" | head -1 || true)
    [ -n "$child" ] || { sleep 0.05; continue; }
    a=$(sed -nE 's/^RssAnon:[[:space:]]+([0-9]+) kB/\1/p' "/proc/$child/status" 2>/dev/null || true)
    f=$(sed -nE 's/^RssFile:[[:space:]]+([0-9]+) kB/\1/p' "/proc/$child/status" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$f" ] && [ "$f" -gt "$file" ] && file=$f
    sleep 0.1
  done
  if ! wait "$pid"; then
    cat "$work/stderr.txt" >&2
    echo "ternarize-speed.sh: $label failed" >&2
    exit 1
  fi
  printf '%-42s %7.1f s  max RSS %6d MB (sampled peaks: anonymous %d MB, mapped files %d MB)\n' \
    "$label" "$(echo "$(date +%s.%N) - $start" | bc)" \
    $(($(tail -1 "$work/maxrss.txt") / 1024)) $((anon / 1024)) $((file / 1024))
}

if [ "$which" = stories260K ] || [ "$which" = all ]; then
  model=$here/examples/stories260K
  "$build/bin/terminator-compile" "$model/stories260K.onnx" -o "$work/p" \
    --calib-text "$model/calibration.txt" --calib-samples 32 --calib-stages 1 \
    --calib-seq-len 512 --save-calib "$work/stats.tpar" 2>/dev/null
  "$build/bin/terminator-import" "$model/stories260K.onnx" -o "$work/s.mlir" \
    --dim sequence_length=1 --dim past_sequence_length=0
  measure "stories260K, pt2 (36 weights)" "$build/bin/terminator-opt" \
    "$work/s.mlir" -o /dev/null --terminator-ternarize="method=pt2 \
calibration=$work/stats.tpar scale-type=f16 output-archive=$work/t.tpar"
fi

if [ "$which" = llama-1b ] || [ "$which" = all ]; then
  "$py" "$here/tools/convert/random_model.py" --arch llama --size 1b \
    -o "$work/model.onnx" >/dev/null
  measure "llama-1b: import (terminator-import)" "$build/bin/terminator-import" \
    "$work/model.onnx" -o "$work/m.mlir" --dim sequence_length=1 \
    --dim past_sequence_length=0
  rm -f "$work"/model.onnx*
  # Synthetic statistics: NAME.hessian [K, K] for every linear weight.
  specs=()
  while read -r name k; do
    specs+=("$name.hessian=f32:${k}x${k}:1")
  done < <(sed -nE 's/.*ternary\.weight #ternary\.param<"([^"]+)"> : tensor<[0-9]+x([0-9]+)xf32>.*/\1 \2/p' \
             "$work/m.mlir" | grep -v "embed_tokens\|rotary_emb" | sort -u)
  "$build/bin/terminator-archive" create "$work/h.tpar" "${specs[@]}"
  echo "llama-1b: ${#specs[@]} linear weights"
  measure "llama-1b, pt2 (GPTQ + ITF, int8 head)" "$build/bin/terminator-opt" \
    "$work/m.mlir" -o /dev/null --terminator-ternarize="method=pt2 \
calibration=$work/h.tpar scale-type=f16 int8-layers=lm_head.weight progress=true \
output-archive=$work/t.tpar"
  grep -c "^ternary-ternarize: " "$work/stderr.txt" | sed 's/^/  progress lines: /'
  rm -f "$work/t.tpar"
  measure "llama-1b, itf (int8 head)" "$build/bin/terminator-opt" \
    "$work/m.mlir" -o /dev/null --terminator-ternarize="method=itf \
scale-type=f16 int8-layers=lm_head.weight output-archive=$work/t.tpar"
fi
