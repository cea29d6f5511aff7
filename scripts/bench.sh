#!/usr/bin/env bash
# make bench: release binaries, one run, every figure beside its baseline.
#   bench.sh BIN_DIR OUT_DIR [xpc-bench options]
# OUT_DIR gets bench.json (figures, machine, targets), instructions.json
# (callgrind's counts per operation), the samples (*.dat) and the plots (*.png).
set -euo pipefail
BIN=${1:?release bin dir}
OUT=${2:?output dir}
shift 2
mkdir -p "$OUT"
"$BIN/xpc-bench" "$BIN" --out "$OUT" "$@"
./scripts/instruction-counts.sh "$BIN" --json "$OUT/instructions.json"
gnuplot -e "dir='$OUT'" scripts/bench-plots.gp
echo "bench: $OUT/bench.json, $OUT/instructions.json, $(cd "$OUT" && ls *.png | tr '\n' ' ')"
