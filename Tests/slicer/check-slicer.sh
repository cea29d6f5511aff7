#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# DriverSlicer on real drivers from Debian's linux-source-6.1: each driver
# is built once with Kbuild against the installed headers (for the flags
# it is compiled with, from .NAME.o.cmd), then split. 8139too's split must
# keep the interrupt handler, start_xmit and the rx path in the kernel and
# move the EEPROM read, set_mac and ethtool to user space.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls /lib/modules | sort -V | tail -1)
KDIR=/lib/modules/$KVER/build
BIN=$(cd "$ROOT" && swift build --show-bin-path)
SRC=/usr/src/linux-source-6.1.tar.xz
WORK="$ROOT/.build/slicer"
mkdir -p "$WORK"
T=linux-source-6.1
if [ ! -f "$WORK/$T/drivers/net/ethernet/realtek/8139too.c" ]; then
  tar -C "$WORK" -xJf "$SRC" "$T/drivers/net/ethernet/realtek/8139too.c" \
    "$T/drivers/net/ethernet/realtek/8139cp.c" "$T/sound/pci/ens1370.c"
fi
ok=1
# split NAME SOURCE [CFLAGS]: Kbuild builds SOURCE as NAME.o, then the split.
split() {
  local name=$1 src=$2 extra=${3:-}
  local m="$WORK/m-$name"
  mkdir -p "$m"
  cp "$WORK/$T/$src" "$m/$name.c"
  echo "obj-m := $name.o" > "$m/Kbuild"
  [ -n "$extra" ] && echo "ccflags-y := $extra" >> "$m/Kbuild"
  # Only the compile matters (modpost may miss symbols of sibling modules).
  make -s -C "$KDIR" M="$m" KBUILD_MODPOST_WARN=1 modules > "$m/kbuild.log" 2>&1 || { echo "Kbuild failed for $name:"; tail -5 "$m/kbuild.log"; ok=0; return; }
  "$BIN/driverslicer" "$m/$name.c" --kbuild-cmd "$m/.$name.o.cmd" --kbuild-dir "$KDIR" > "$m/split.txt" || { ok=0; return; }
  echo "== $name: $(head -1 "$m/split.txt" | sed 's/^driverslicer: //')"
  grep -E "^(kernel|user) \(|^moved to user space" "$m/split.txt" | sed "s/^/   /"
}
side() { awk -v want="$2" '/^kernel \(nucleus\)/ { s = "kernel" } /^user \(u-driver\)/ { s = "user" } /^$/ { s = "" }
  s == want && /^  / { print $1 }' "$WORK/m-$1/split.txt"; }
split 8139too drivers/net/ethernet/realtek/8139too.c
split 8139cp drivers/net/ethernet/realtek/8139cp.c
split ens1370 sound/pci/ens1370.c
split ens1371 sound/pci/ens1370.c -DCHIP1371

for f in rtl8139_interrupt rtl8139_start_xmit rtl8139_rx rtl8139_poll rtl8139_tx_interrupt __set_rx_mode; do
  side 8139too kernel | grep -qx "$f" || { echo "FAIL: 8139too: $f is not in the nucleus"; ok=0; }
done
for f in read_eeprom rtl8139_set_mac_address rtl8139_get_drvinfo rtl8139_init_one rtl8139_open mdio_read; do
  side 8139too user | grep -qx "$f" || { echo "FAIL: 8139too: $f is not in the u-driver"; ok=0; }
done
for f in snd_audiopci_interrupt snd_ensoniq_playback2_pointer snd_ensoniq_trigger; do
  side ens1370 kernel | grep -qx "$f" || { echo "FAIL: ens1370: $f is not in the nucleus"; ok=0; }
done
for f in snd_ensoniq_playback2_open snd_ensoniq_playback2_prepare snd_audiopci_probe; do
  side ens1370 user | grep -qx "$f" || { echo "FAIL: ens1370: $f is not in the u-driver"; ok=0; }
done
# Bad input: a file that does not parse is named with its line; exit 1.
printf 'int f(void) { return 1 +; }\n' > "$WORK/bad.c"
if "$BIN/driverslicer" "$WORK/bad.c" 2> "$WORK/bad.err"; then echo "FAIL: bad.c parsed"; ok=0; fi
grep -q "bad.c:1:.*error" "$WORK/bad.err" || { echo "FAIL: no file:line for bad.c: $(cat "$WORK/bad.err")"; ok=0; }
if [ "$ok" = 1 ]; then echo "driverslicer check: ok"; else echo "driverslicer check: FAILED"; exit 1; fi
