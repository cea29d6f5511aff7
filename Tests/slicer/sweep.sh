#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# DriverSlicer over every PCI driver of SWEEP_TREES in Debian's
# linux-source-6.1 (make sweep; KSplit's kind of table): Kbuild builds
# each tree with Debian's configuration against the installed headers
# (make -k: a driver that does not build is left out, and said), then
# `driverslicer --sweep` splits every module whose sources define a
# struct pci_driver, generates its marshaling code, builds that with one
# Kbuild run and type-checks its Swift. The table goes to SWEEP_OUT.
#
#   SWEEP_TREES  trees of the source to sweep (default below)
#   SWEEP_DIR    where the trees are extracted and built
#   SWEEP_OUT    the Markdown table (default: docs/driverslicer-sweep.md)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls /lib/modules | sort -V | tail -1)
KDIR=/lib/modules/$KVER/build
BIN=$(cd "$ROOT" && swift build --show-bin-path)
SRC=/usr/src/linux-source-6.1.tar.xz
TREES=${SWEEP_TREES:-drivers/net/ethernet drivers/net/wireless sound/pci}
WORK=${SWEEP_DIR:-$ROOT/.build/sweep}
OUT=${SWEEP_OUT:-$ROOT/docs/driverslicer-sweep.md}
JOBS=$(nproc)
T=linux-source-6.1
mkdir -p "$WORK"
t0=$(date +%s)
for tree in $TREES; do
  if [ ! -f "$WORK/$T/$tree/.extracted" ]; then
    # The tree (an M= build reads only its own Makefiles), and for sound
    # the sibling directories its drivers include by relative path.
    tar -C "$WORK" -xJf "$SRC" "$T/$tree"
    [ "${tree#sound/}" != "$tree" ] && tar -C "$WORK" -xJf "$SRC" "$T/sound/i2c" "$T/sound/synth" 2> /dev/null || true
    touch "$WORK/$T/$tree/.extracted"
  fi
  echo "== Kbuild: $tree (make -k -j$JOBS; errors in $WORK/kbuild-${tree//\//-}.log)"
  make -k -j"$JOBS" -C "$KDIR" M="$WORK/$T/$tree" KBUILD_MODPOST_WARN=1 modules \
    > "$WORK/kbuild-${tree//\//-}.log" 2>&1 || true
  echo "   $(find "$WORK/$T/$tree" -name '*.mod' | wc -l) modules built, $(grep -c ': error:' "$WORK/kbuild-${tree//\//-}.log" || true) compile errors"
done
rm -rf "$WORK/gen" "$WORK/rows"
mkdir -p "$WORK/rows"
for tree in $TREES; do
  "$BIN/driverslicer" --sweep "$WORK/$T/$tree" --kbuild-dir "$KDIR" --annotations-dir "$ROOT/slicer/annotations" \
    --generate "$WORK/gen/${tree//\//-}" --cflags="-I$ROOT/module/include/uapi" > "$WORK/rows/${tree//\//-}.md"
  echo "== $tree: $(grep '^Totals:' "$WORK/rows/${tree//\//-}.md")"
done
{
  echo "# DriverSlicer over linux-source-6.1's PCI drivers"
  echo
  echo "Made by \`make sweep\` ($(date -u +%F), Linux $KVER headers, Debian's configuration, $(( $(date +%s) - t0 )) s"
  echo "on $(nproc) cores). Each tree is built with Kbuild; every module whose sources define a"
  echo "\`struct pci_driver\` is split with the flags it was compiled with; its marshaling code is"
  echo "generated (\`--generate\`), the C built with Kbuild and the Swift type-checked. Columns: see"
  echo "docs/driverslicer.md, \"The sweep\"."
  for tree in $TREES; do
    echo
    echo "## $tree"
    echo
    cat "$WORK/rows/${tree//\//-}.md"
  done
} > "$OUT"
echo "== wrote $OUT ($(( $(date +%s) - t0 )) s)"
