#!/usr/bin/env bash
# make bench: release binaries, one run, baseline and measurement side by side.
set -euo pipefail
BIN=${1:?release bin dir}
exec "$BIN/xpc-bench" "$BIN" "${COUNT:-5000}" "${CRASHES:-200}"
