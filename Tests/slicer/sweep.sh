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
#   SWEEP_BIN    the directory of the driverslicer to run (default: the
#                package's build directory); the runtime, interfaces and
#                annotations are those of the checkout it was built in.
#                A sweep takes an hour: `sweep.sh snapshot DIR` builds one
#                from the committed tree in DIR/src, apart from .build, so
#                that a rebuild or an edit of the checkout meanwhile does
#                not change the run.
#
# The trees' Makefiles are built out of tree (M=), where $(src) is already
# the directory's absolute path: their `-I $(srctree)/$(src)…` (iwlwifi,
# brcm80211, rtl818x, atlantic, hns3, …) and `-I $(srctree)/TREE/…` name
# nothing, so the extracted copies say `$(src)…` and the tree's own path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${1:-}" = snapshot ]; then
  DIR=${2:?usage: sweep.sh snapshot DIR}
  rm -rf "$DIR/src"
  mkdir -p "$DIR/src/.build"
  git -C "$ROOT" archive HEAD | tar -x -C "$DIR/src"
  git -C "$ROOT" log -1 --format='%h (%cs)' > "$DIR/src/REVISION"
  # The package's dependencies as the checkout resolved them (no network).
  cp -r "$ROOT/.build/checkouts" "$ROOT/.build/repositories" "$ROOT/.build/workspace-state.json" "$DIR/src/.build/" 2> /dev/null || true
  (cd "$DIR/src" && swift build -c release --product driverslicer)
  echo "SWEEP_BIN=$(cd "$DIR/src" && swift build -c release --show-bin-path)"
  exit 0
fi

KVER=$(ls /lib/modules | sort -V | tail -1)
KDIR=/lib/modules/$KVER/build
BIN=${SWEEP_BIN:-$(cd "$ROOT" && swift build --show-bin-path)}
SRCROOT=$(cd "$BIN" && while [ ! -f Package.swift ] && [ "$PWD" != / ]; do cd ..; done; pwd)
[ -f "$SRCROOT/Package.swift" ] || SRCROOT=$ROOT
REV=$(cat "$SRCROOT/REVISION" 2> /dev/null || git -C "$SRCROOT" log -1 --format='%h (%cs)')
SRC=/usr/src/linux-source-6.1.tar.xz
TREES=${SWEEP_TREES:-drivers/net/ethernet drivers/net/wireless sound/pci}
WORK=${SWEEP_DIR:-$ROOT/.build/sweep}
OUT=${SWEEP_OUT:-$ROOT/docs/driverslicer-sweep.md}
JOBS=$(nproc)
T=linux-source-6.1
mkdir -p "$WORK"
t0=$(date +%s)
declare -A secs
for tree in $TREES; do
  t1=$(date +%s)
  if [ ! -f "$WORK/$T/$tree/.extracted" ]; then
    # The tree (an M= build reads only its own Makefiles), and for sound
    # the sibling directories its drivers include by relative path.
    tar -C "$WORK" -xJf "$SRC" "$T/$tree"
    [ "${tree#sound/}" != "$tree" ] && tar -C "$WORK" -xJf "$SRC" "$T/sound/i2c" "$T/sound/synth" 2> /dev/null || true
    touch "$WORK/$T/$tree/.extracted"
  fi
  { grep -rlE '\$\(srctree\)/(\$\(src\)|'"$tree"'/)' --include=Makefile "$WORK/$T/$tree" || true; } \
    | xargs -r sed -i -e 's|\$(srctree)/\$(src)|$(src)|g' -e "s|\\\$(srctree)/$tree/|$WORK/$T/$tree/|g"
  echo "== Kbuild: $tree (make -k -j$JOBS; errors in $WORK/kbuild-${tree//\//-}.log)"
  make -k -j"$JOBS" -C "$KDIR" M="$WORK/$T/$tree" KBUILD_MODPOST_WARN=1 modules \
    > "$WORK/kbuild-${tree//\//-}.log" 2>&1 || true
  echo "   $(find "$WORK/$T/$tree" -name '*.mod' | wc -l) modules built, $(grep -cE ': (fatal )?error:' "$WORK/kbuild-${tree//\//-}.log" || true) compile errors"
  secs[$tree]=$(( $(date +%s) - t1 ))
done
mkdir -p "$WORK/rows"
for tree in $TREES; do
  t1=$(date +%s)
  rm -rf "$WORK/gen/${tree//\//-}" "$WORK/rows/${tree//\//-}.md"
  "$BIN/driverslicer" --sweep "$WORK/$T/$tree" --kbuild-dir "$KDIR" --annotations-dir "$SRCROOT/slicer/annotations" \
    --generate "$WORK/gen/${tree//\//-}" --cflags="-I$SRCROOT/module/include/uapi" > "$WORK/rows/${tree//\//-}.md"
  secs[$tree]=$(( ${secs[$tree]} + $(date +%s) - t1 ))
  echo "== $tree: $(grep '^Totals:' "$WORK/rows/${tree//\//-}.md") (${secs[$tree]} s)"
done
{
  echo "# DriverSlicer over linux-source-6.1's PCI drivers"
  echo
  echo "Made by \`make sweep\` ($(date -u +%F), driverslicer $REV, Linux $KVER headers, Debian's configuration,"
  echo "$(( $(date +%s) - t0 )) s on $(nproc) cores). Each tree is built with Kbuild; every module whose sources define a"
  echo "\`struct pci_driver\` is split with the flags it was compiled with; its marshaling code is"
  echo "generated (\`--generate\`), the C built with Kbuild and the Swift type-checked. Columns: see"
  echo "docs/driverslicer.md, \"The sweep\"."
  for tree in $TREES; do
    echo
    echo "## $tree"
    echo
    echo "Kbuild, split, generated code and its builds: ${secs[$tree]} s."
    echo
    cat "$WORK/rows/${tree//\//-}.md"
  done
  # The trees together, from their tables' rows.
  echo
  echo "## All trees"
  echo
  python3 - $(for tree in $TREES; do echo "$WORK/rows/${tree//\//-}.md"; done) << 'EOF'
import statistics, sys
rows = []
for path in sys.argv[1:]:
    for line in open(path):
        c = [x.strip() for x in line.strip().strip('|').split('|')]
        if len(c) == 15 and c[0] not in ('driver', '---'):
            rows.append(c)
split = [r for r in rows if r[4] == 'yes']
moved = sorted(float(r[5].split()[0]) for r in split)
up = sum(int(r[7].split()[0]) for r in split)
uncl = sum(int(r[7].split('(')[1].rstrip(')')) for r in split)
def count(i, rs):
    tried = [r for r in rs if r[i] != '–']
    return sum(r[i] == 'yes' for r in tried), len(tried)
s = f"Totals: {len(rows)} drivers, {sum(r[3] == 'yes' for r in rows)} parsed, {len(split)} split"
if moved:
    s += f"; moved to user space: median {statistics.median(moved):.1f} %, {moved[0]:.1f}–{moved[-1]:.1f} %"
s += f"; {up} upcalls ({uncl} unclassified), {sum(int(r[8]) for r in split)} downcalls, "
s += f"{sum(int(r[10]) for r in split)} annotations needed (none for {sum(r[10] == '0' for r in split)} of the {len(split)})"
for i, what in ((11, 'generated C builds'), (12, 'generated Swift type-checks'), (13, 'the kernel half builds'), (14, 'the user half builds')):
    ok, n = count(i, rows)
    if n:
        s += f"; {what} for {ok} of {n}"
print(s + ".")
EOF
} > "$OUT"
echo "== wrote $OUT ($(( $(date +%s) - t0 )) s)"
