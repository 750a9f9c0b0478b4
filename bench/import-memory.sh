#!/usr/bin/env bash
#===- bench/import-memory.sh - peak RAM of terminator-import ---------------===#
#
# Generates a random-weight Llama with TinyLlama-1.1B's shapes (weights as
# ONNX external data, about 4.4 GB of f32), imports it with terminator-import
# and reports the peak resident set size against the weight bytes. The target
# (issue: ONNX frontend) is at most about 1.5x the weight bytes.
#
#   bench/import-memory.sh [SIZE]     SIZE: 1b (default), 110m or tiny
#
# Needs ./dev test to have built the tools and the Python venv. Writes to a
# temporary folder (about 2x the model size on disk) and removes it.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
size=${1:-1b}
work=$(mktemp -d "${TMPDIR:-/tmp}/terminator-import-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$build/venv/bin/python" "$here/tools/convert/random_model.py" --arch llama \
  --size "$size" -o "$work/model.onnx" >/dev/null
weights=$(du -b "$work"/model.onnx* | awk '{s += $1} END {print s}')
/usr/bin/time -v "$build/bin/terminator-import" "$work/model.onnx" \
  -o "$work/model.mlir" --dim sequence_length=1 --dim past_sequence_length=0 \
  2>"$work/time.txt"
rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$work/time.txt")
secs=$(sed -nE 's/.*Elapsed \(wall clock\) time.*: (.*)/\1/p' "$work/time.txt")
archive=$(du -b "$work/model.tpar" | cut -f1)
mlir=$(du -b "$work/model.mlir" | cut -f1)
awk -v w="$weights" -v r="$rss_kb" -v a="$archive" -v m="$mlir" -v s="$secs" -v z="$size" 'BEGIN {
  printf "llama-%s: model files %.2f GB, archive %.2f GB, IR %.1f KB, import %s wall\n", z, w/1e9, a/1e9, m/1e3, s
  printf "peak RSS %.2f GB = %.3fx the weight bytes (target <= 1.5x)\n", r*1024/1e9, r*1024/w
}'
