#!/usr/bin/env bash
#===- examples/stories260K/make-text.sh - in-domain text from the model ---===#
#
# Writes the stories260K model's own stories, sampled from the f32 program
# (temperature 1.0, top-p 0.95, seeds FIRST..LAST, up to 512 tokens each, one
# story per line):
#
#   examples/stories260K/make-text.sh 1 128 > calibration.txt
#   examples/stories260K/make-text.sh 1001 1064 > heldout.txt
#
# No TinyStories text is available here, and WikiText-2 test is the
# evaluation set, so calibration uses the model's own samples (data-free
# calibration, as in LLM-QAT) and in-domain quality is measured on samples
# from other seeds. Needs `./dev run` first (build/examples/stories260K-f32).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
prog=${PROGRAM:-$here/build/examples/stories260K-f32}
[ $# -eq 2 ] || { echo "usage: $0 FIRST_SEED LAST_SEED" >&2; exit 2; }
[ -x "$prog" ] || { echo "$0: $prog is missing; run ./dev run first" >&2; exit 1; }
for seed in $(seq "$1" "$2"); do
  "$prog" generate --temp 1.0 --top-p 0.95 --seed "$seed" -n 512 2>/dev/null | tr '\n' ' '
  echo
done
