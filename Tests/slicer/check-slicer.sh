#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# DriverSlicer on real drivers from Debian's linux-source-6.1: each driver
# is built once with Kbuild against the installed headers (for the flags
# it is compiled with, from .NAME.o.cmd), then split. 8139too's split must
# keep the interrupt handler, start_xmit and the rx path in the kernel and
# move the EEPROM read, set_mac and ethtool to user space. psmouse's must
# keep the serio byte interrupt and the packet processing in the kernel and
# move connect, the protocol probes and the rate/resolution commands out.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls /lib/modules | sort -V | tail -1)
KDIR=/lib/modules/$KVER/build
BIN=$(cd "$ROOT" && swift build --show-bin-path)
SRC=/usr/src/linux-source-6.1.tar.xz
WORK="$ROOT/.build/slicer"
mkdir -p "$WORK"
T=linux-source-6.1
STAMP="$WORK/$T/.extracted-2"
if [ ! -f "$STAMP" ]; then
  tar -C "$WORK" -xJf "$SRC" "$T/drivers/net/ethernet/realtek" "$T/sound/pci/ens1370.c" \
    "$T/drivers/net/ethernet/amd/pcnet32.c" "$T/drivers/net/ethernet/8390" "$T/drivers/usb/host" \
    "$T/drivers/net/ethernet/intel/e1000" "$T/drivers/input/mouse"
  touch "$STAMP"
fi
ok=1
# split NAME DIR "SOURCES" [CFLAGS]: Kbuild builds the module NAME from
# SOURCES (in DIR of the tree, copied with its local headers and included
# .c files), then driverslicer splits the sources with the first one's flags.
split() {
  local name=$1 dir=$2 srcs=$3 extra=${4:-}
  local m="$WORK/m-$name" objs="" files="" first=""
  rm -rf "$m"; mkdir -p "$m"
  cp "$WORK/$T/$dir"/*.[ch] "$m/"
  for s in $srcs; do
    objs="$objs ${s%.c}.o"; files="$files $m/$s"; first=${first:-${s%.c}}
  done
  if [ "$srcs" = "$name.c" ]; then echo "obj-m := $name.o" > "$m/Kbuild"
  elif [ -n "${SEPARATE:-}" ]; then echo "obj-m :=$objs" > "$m/Kbuild"
  else printf 'obj-m := %s.o\n%s-y :=%s\n' "$name" "$name" "$objs" > "$m/Kbuild"; fi
  [ -n "$extra" ] && echo "ccflags-y := $extra" >> "$m/Kbuild"
  # The driver's annotation side file, if the project has one.
  [ -f "$ROOT/slicer/annotations/$name.slice" ] && cp "$ROOT/slicer/annotations/$name.slice" "$m/${first}.slice"
  # Only the compile matters (modpost may miss symbols of sibling modules).
  make -s -C "$KDIR" M="$m" KBUILD_MODPOST_WARN=1 modules > "$m/kbuild.log" 2>&1 || { echo "Kbuild failed for $name:"; tail -5 "$m/kbuild.log"; ok=0; return; }
  # shellcheck disable=SC2086
  "$BIN/driverslicer" $files --kbuild-cmd "$m/.$first.o.cmd" --kbuild-dir "$KDIR" > "$m/split.txt" || { ok=0; return; }
  echo "== $name: $(head -1 "$m/split.txt" | sed 's/^driverslicer: //')"
  grep -E "^(kernel|user) \(|^moved to user space|^note:|^annotations:" "$m/split.txt" | sed "s/^/   /"
}
# The functions on one side of a split. (Checked with grep > /dev/null, not
# grep -q: -q ends the pipe early and, with pipefail, awk's SIGPIPE fails it.)
side() { awk -v want="$2" '/^kernel \(nucleus\)/ { s = "kernel" } /^user \(u-driver\)/ { s = "user" } /^$/ { s = "" }
  s == want && /^  / { print $1 }' "$WORK/m-$1/split.txt"; }
split 8139too drivers/net/ethernet/realtek 8139too.c
split 8139cp drivers/net/ethernet/realtek 8139cp.c
split ens1370 sound/pci ens1370.c
split ens1371 sound/pci ens1370.c -DCHIP1371
split pcnet32 drivers/net/ethernet/amd pcnet32.c
# ne2k-pci's data path is in the 8390 core module it uses (8390.c
# includes lib8390.c): both modules, split as one driver.
SEPARATE=1 split ne2k-pci drivers/net/ethernet/8390 "ne2k-pci.c 8390.c"
split uhci-hcd drivers/usb/host uhci-hcd.c
split e1000 drivers/net/ethernet/intel/e1000 "e1000_main.c e1000_hw.c e1000_ethtool.c e1000_param.c"
# psmouse: psmouse-base.c alone, then the module as Debian's 6.1 config
# builds it (drivers/input/mouse/Makefile: psmouse-objs plus the
# CONFIG_MOUSE_PS2_* protocols set =y; OLPC's hgpk and TOUCHKIT are not set).
split psmouse-base drivers/input/mouse psmouse-base.c
split psmouse drivers/input/mouse "psmouse-base.c synaptics.c focaltech.c alps.c byd.c elantech.c logips2pp.c \
lifebook.c sentelic.c trackpoint.c cypress_ps2.c vmmouse.c psmouse-smbus.c"

for f in rtl8139_interrupt rtl8139_start_xmit rtl8139_rx rtl8139_poll rtl8139_tx_interrupt __set_rx_mode; do
  side 8139too kernel | grep -x "$f" > /dev/null || { echo "FAIL: 8139too: $f is not in the nucleus"; ok=0; }
done
for f in read_eeprom rtl8139_set_mac_address rtl8139_get_drvinfo rtl8139_init_one rtl8139_open mdio_read; do
  side 8139too user | grep -x "$f" > /dev/null || { echo "FAIL: 8139too: $f is not in the u-driver"; ok=0; }
done
for f in snd_audiopci_interrupt snd_ensoniq_playback2_pointer snd_ensoniq_trigger; do
  side ens1370 kernel | grep -x "$f" > /dev/null || { echo "FAIL: ens1370: $f is not in the nucleus"; ok=0; }
done
for f in snd_ensoniq_playback2_open snd_ensoniq_playback2_prepare snd_audiopci_probe; do
  side ens1370 user | grep -x "$f" > /dev/null || { echo "FAIL: ens1370: $f is not in the u-driver"; ok=0; }
done
# 8139too's side file answers every annotation the tool asks for.
grep -q "^annotations: 9 given, 0 needed" "$WORK/m-8139too/split.txt" || { echo "FAIL: 8139too: $(grep '^annotations:' "$WORK/m-8139too/split.txt")"; ok=0; }
# The seeds' marshaling measure: 8139cp's initialisation (probe + open as
# the kernel calls them), field-minimal against whole reachable structures.
m="$WORK/m-8139cp"
"$BIN/driverslicer" "$m/8139cp.c" --kbuild-cmd "$m/.8139cp.o.cmd" --kbuild-dir "$KDIR" --init cp_init_one,cp_open \
  | tail -1 | sed 's/^/== 8139cp /; s/$/; seeds: field-minimal 1729 B, naive 2931212 B/' | tee "$WORK/init.txt"
awk '{ for (i = 1; i <= NF; i++) { if ($i == "field-minimal" && !fm) fm = $(i + 1); if ($i == "naive" && !nv) nv = $(i + 1) } }
     END { exit !(fm > 0 && fm * 10 < nv) }' "$WORK/init.txt" || { echo "FAIL: field-minimal is not well under naive"; ok=0; }
"$BIN/driverslicer" "$m/8139cp.c" --kbuild-cmd "$m/.8139cp.o.cmd" --kbuild-dir "$KDIR" --spec > "$m/spec.txt"
grep -A3 "^upcall cp_open " "$m/spec.txt" | grep -q "cp_private:.*rx_ring" || { echo "FAIL: cp_open's spec lacks cp_private.rx_ring"; ok=0; }
# The Swift types 8139too's split implies compile.
m="$WORK/m-8139too"
"$BIN/driverslicer" "$m/8139too.c" --kbuild-cmd "$m/.8139too.o.cmd" --kbuild-dir "$KDIR" --swift-types > "$m/RTL8139Types.swift"
if swiftc -typecheck "$m/RTL8139Types.swift"; then
  echo "== 8139too: $(grep -c '^public struct' "$m/RTL8139Types.swift") Swift types, $(grep -c '    public var' "$m/RTL8139Types.swift") fields, type-check ok"
else echo "FAIL: 8139too's generated Swift types do not compile"; ok=0; fi
# The generated marshaling code: the C side builds with Kbuild (-Werror) as a
# module object around the driver itself, the Swift side type-checks with
# warnings as errors.
for d in 8139too ens1370; do
  m="$WORK/m-$d" g="$ROOT/.build/slicer-gen/$d"
  rm -rf "$g"
  "$BIN/driverslicer" "$m/$d.c" --kbuild-cmd "$m/.$d.o.cmd" --kbuild-dir "$KDIR" --generate "$g" > /dev/null || { ok=0; continue; }
  printf 'obj-m := slice%s.o\nslice%s-y := slice_%s.o\nccflags-y := -I%s/module/include/uapi -Werror\n' "$d" "$d" "$d" "$ROOT" > "$g/Kbuild"
  if make -s -C "$KDIR" M="$g" KBUILD_MODPOST_WARN=1 modules > "$g/kbuild.log" 2>&1 && [ -f "$g/slice_$d.o" ]; then
    echo "== $d: generated C builds ($(grep -c '^static const struct slice_dir' "$g/slice_$d.c") entry directions, $(wc -l < "$g/slice_$d.c") lines)"
  else echo "FAIL: $d: the generated C does not build:"; grep -E "error|warning" "$g/kbuild.log" | head -5; ok=0; fi
  if swiftc -typecheck -warnings-as-errors "$g"/*Slice.swift; then
    echo "== $d: generated Swift type-checks ($(grep -c '^public enum .*Slice {' "$g"/*Slice.swift) entry points)"
  else echo "FAIL: $d: the generated Swift does not type-check"; ok=0; fi
done
# The halves (driverslicer --halves): the kernel half builds with Kbuild
# (-Werror) as a module with the runtime's core, the user half with the kernel's headers as
# user-space code (--user-cflags, -Werror). What the user half still needs
# from outside (nm -u) is the driver library's to provide: MMIO/port I/O
# through drvslice-user.h, the rest kernel API the slicer listed.
for d in 8139cp:8139cp ens1370:snd-ens1370; do
  f=${d%%:*} name=${d#*:} m="$WORK/m-${d%%:*}" h="$ROOT/.build/slicer-halves/${d%%:*}"
  rm -rf "$h"; mkdir -p "$h"
  "$BIN/driverslicer" "$m/$f.c" --kbuild-cmd "$m/.$f.o.cmd" --kbuild-dir "$KDIR" --halves "$h" --name "$name" > "$h.txt" \
    || { echo "FAIL: $f: --halves"; ok=0; continue; }
  # The kernel half and the runtime's core (module/slice_core.c) as one module.
  cp "$ROOT/module/slice_core.c" "$h/kernel/"
  printf 'obj-m := slice-%s.o\nslice-%s-y := %s.o slice_core.o\nccflags-y := -Werror -I%s/module/include -I%s\n' \
    "$f" "$f" "$f" "$ROOT" "$m" > "$h/kernel/Kbuild"
  if make -s -C "$KDIR" M="$h/kernel" KBUILD_MODPOST_WARN=1 modules > "$h/kbuild.log" 2>&1 && [ -f "$h/kernel/slice-$f.ko" ]; then
    # Its one undefined symbol of ours: the runtime's upcall.
    undefined=$(grep -o 'modpost: "[a-z_]*"' "$h/kbuild.log" | sort -u | tr '\n' ' ')
    [ "$undefined" = 'modpost: "drvslice_upcall" ' ] || { echo "FAIL: $f: kernel half's undefined symbols: $undefined"; ok=0; }
  else echo "FAIL: $f: the kernel half does not build:"; grep -E "error|warning" "$h/kbuild.log" | head -5; ok=0; fi
  mapfile -t uflags < <("$BIN/driverslicer" "$m/$f.c" --kbuild-cmd "$m/.$f.o.cmd" --kbuild-dir "$KDIR" --user-cflags)
  if (cd "$KDIR" && gcc "${uflags[@]}" -Werror -I"$ROOT/module/include" -I"$ROOT/slicer/lib" -I"$m" \
        -c "$h/user/$f.c" -o "$h/user/$f.o") > "$h/user.log" 2>&1; then
    needs=$(nm -u "$h/user/$f.o" | awk '$2 !~ /^(_GLOBAL_OFFSET_TABLE_|drvslice_)/ { n++ } END { print n + 0 }')
    echo "== $f: halves build: $(sed 's/^wrote .*: //' "$h.txt"); the user half needs $needs kernel symbols from the driver library"
  else echo "FAIL: $f: the user half does not build as user-space code:"; head -5 "$h/user.log"; ok=0; fi
  # Each half holds only its own side's bodies.
  # The interrupt handler: its body in the kernel half, a stub in the user half.
  isr() { awk '/^static irqreturn_t (cp_interrupt|snd_audiopci_interrupt) ?\(/ && !/;$/ { getline; getline; print ($0 ~ /drvslice_arg/) ? "stub" : "body" }' "$1"; }
  [ "$(isr "$h/kernel/$f.c"):$(isr "$h/user/$f.c")" = body:stub ] || { echo "FAIL: $f: interrupt handler: $(isr "$h/kernel/$f.c") in the kernel half, $(isr "$h/user/$f.c") in the user half"; ok=0; }
  grep -q "drvslice_downcall(&slice_entry" "$h/user/$f.c" || { echo "FAIL: $f: the user half makes no downcall"; ok=0; }
  if grep -q "drvslice_downcall(" "$h/kernel/$f.c" || grep -q "drvslice_upcall(" "$h/user/$f.c"; then
    echo "FAIL: $f: a half calls itself across the split"; ok=0; fi
done
# The driver library's local part (slicer/lib): its test program, and each
# user half linked against it (what is left is the kernel side's: the
# library's downcalls, MMIO, the runtime).
for d in 8139cp ens1370; do
  if ! USER_HALF="$ROOT/.build/slicer-halves/$d/user/$d.c" BIN="$BIN" bash "$ROOT/Tests/slicer/check-driverlib.sh" \
       "$WORK/m-$d/.$d.o.cmd" "$KDIR" "$ROOT/.build/driverlib-$d" > "$WORK/driverlib-$d.log" 2>&1; then
    echo "FAIL: driver library with $d:"; grep -E "FAIL|error" "$WORK/driverlib-$d.log" | head -5; ok=0; continue
  fi
  grep -E "^== $d.c: [0-9]+ symbols left" "$WORK/driverlib-$d.log" | sed 's/: \([0-9]*\) symbols left for the kernel side:.*/: \1 symbols left for the kernel side after the driver library/'
done
grep "^== driver library: [0-9]* symbols, test ok" "$WORK/driverlib-8139cp.log" || { echo "FAIL: the driver library's test"; ok=0; }
# A call through the driver's own struct field (adapter->clean_rx) is
# resolved: the rx routine it reaches from NAPI poll is in the nucleus.
for f in e1000_intr e1000_clean e1000_clean_rx_irq e1000_xmit_frame; do
  side e1000 kernel | grep -x "$f" > /dev/null || { echo "FAIL: e1000: $f is not in the nucleus"; ok=0; }
done
for f in e1000_probe e1000_open e1000_read_eeprom; do
  side e1000 user | grep -x "$f" > /dev/null || { echo "FAIL: e1000: $f is not in the u-driver"; ok=0; }
done
side uhci-hcd kernel | grep -x uhci_irq > /dev/null || { echo "FAIL: uhci-hcd: uhci_irq is not in the nucleus"; ok=0; }
# psmouse: the serio byte interrupt (serio.iface) and the packet path it
# reaches (psmouse->protocol_handler resolved) stay; connect, the protocol
# probes, the PS/2 settings and the resync work item (process context) move.
for d in psmouse-base psmouse; do
  for f in psmouse_interrupt psmouse_handle_byte psmouse_process_byte psmouse_report_standard_packet psmouse_handle_oob_data; do
    side $d kernel | grep -x "$f" > /dev/null || { echo "FAIL: $d: $f is not in the nucleus"; ok=0; }
  done
  for f in psmouse_connect psmouse_probe psmouse_reset intellimouse_detect im_explorer_detect psmouse_set_rate psmouse_set_resolution psmouse_resync psmouse_poll; do
    side $d user | grep -x "$f" > /dev/null || { echo "FAIL: $d: $f is not in the u-driver"; ok=0; }
  done
done
# In the whole module the protocols' packet handlers are reached through
# the same field; their detection and set-up are process context.
for f in synaptics_process_byte alps_process_byte elantech_process_byte ps2pp_process_byte; do
  side psmouse kernel | grep -x "$f" > /dev/null || { echo "FAIL: psmouse: $f is not in the nucleus"; ok=0; }
done
for f in synaptics_detect synaptics_init alps_detect alps_init elantech_detect ps2pp_detect; do
  side psmouse user | grep -x "$f" > /dev/null || { echo "FAIL: psmouse: $f is not in the u-driver"; ok=0; }
done
# Bad input: a file that does not parse is named with its line; exit 1.
printf 'int f(void) { return 1 +; }\n' > "$WORK/bad.c"
if "$BIN/driverslicer" "$WORK/bad.c" 2> "$WORK/bad.err"; then echo "FAIL: bad.c parsed"; ok=0; fi
grep -q "bad.c:1:.*error" "$WORK/bad.err" || { echo "FAIL: no file:line for bad.c: $(cat "$WORK/bad.err")"; ok=0; }
# The sweep (make sweep runs it over whole trees) on the modules built
# above: every PCI driver among them parsed and split but ne2k-pci, and the
# generated code and the halves of 8139too, 8139cp and ens1370 built.
g="$ROOT/.build/slicer-sweep-gen"
rm -rf "$g"
if "$BIN/driverslicer" --sweep "$WORK" --kbuild-dir "$KDIR" --annotations-dir "$ROOT/slicer/annotations" \
     --generate "$g" --cflags="-I$ROOT/module/include/uapi" > "$WORK/sweep.md" 2> "$WORK/sweep.err"; then
  echo "== sweep of the modules above: $(grep '^Totals:' "$WORK/sweep.md")"
  for d in 8139too 8139cp ens1370 ens1371 pcnet32 e1000; do
    grep -q "^| $d | m-$d | [0-9]* | yes | yes |" "$WORK/sweep.md" || { echo "FAIL: sweep: $d not parsed and split: $(grep "^| $d " "$WORK/sweep.md")"; ok=0; }
  done
  # Their marshaling code builds and type-checks, and their halves build.
  for d in 8139too 8139cp ens1370; do
    grep "^| $d " "$WORK/sweep.md" | grep -q "| yes | yes | yes | yes |$" || { echo "FAIL: sweep: $d's generated code: $(grep "^| $d " "$WORK/sweep.md")"; ok=0; }
  done
  # ne2k-pci's data path is in the 8390 module: alone it has no root.
  grep -q "^- ne2k-pci: no critical root" "$WORK/sweep.md" || { echo "FAIL: sweep: ne2k-pci alone split: $(grep "^| ne2k-pci " "$WORK/sweep.md")"; ok=0; }
  grep -q "^| psmouse " "$WORK/sweep.md" && { echo "FAIL: sweep: psmouse is no PCI driver"; ok=0; }
else echo "FAIL: driverslicer --sweep: $(tail -3 "$WORK/sweep.err")"; ok=0; fi
# The seeds' table beside ours (Microdrivers, ASPLOS'08: code moved to user
# space per class, annotation lines per class).
echo "== the split beside the seeds' figures:"
printf '   %-12s %-22s %-18s %s\n' driver "moved (seeds, class)" "annotations needed" "(seeds, class)"
for d in 8139too 8139cp pcnet32 ne2k-pci e1000 ens1370 ens1371 uhci-hcd psmouse-base psmouse; do
  f="$WORK/m-$d/split.txt"
  case $d in ens*) seeds="46 %"; ann="7 lines";; uhci*) seeds="19 %"; ann="146 lines";;
    psmouse*) seeds="Decaf: n/a"; ann="n/a";; *) seeds="65 %"; ann="12 lines";; esac
  printf '   %-12s %-22s %-18s %s\n' "$d" "$(grep -o '[0-9.]* %' "$f" | head -1) ($seeds)" \
    "$(sed -n 's/^annotations: \([0-9]*\) given, \([0-9]*\) needed/\2 (\1 given)/p' "$f")" "($ann)"
done
BIN="$BIN" bash "$ROOT/Tests/slicer/check-host.sh" "$KDIR" || ok=0
# Decaf's step for ens1370: snd_es1370_codec_write in Swift
# (slicer/decaf/ens1370); its u-driver builds with it. (The slice guest
# runs 8139cp's moved functions.)
hd="$ROOT/.build/slicer-halves/ens1370-decaf"
rm -rf "$hd"
if "$BIN/driverslicer" "$WORK/m-ens1370/ens1370.c" --kbuild-cmd "$WORK/m-ens1370/.ens1370.o.cmd" --kbuild-dir "$KDIR" \
     --halves "$hd" --name ens1370 --decaf snd_es1370_codec_write > "$WORK/decaf-ens1370.log" 2>&1 \
   && BIN="$BIN" DECAF_SWIFT="$ROOT/slicer/decaf/ens1370" bash "$ROOT/slicer/build-udriver.sh" "$hd" ens1370 \
        "$WORK/m-ens1370/.ens1370.o.cmd" "$KDIR" "$hd/ens1370-udriver" >> "$WORK/decaf-ens1370.log" 2>&1 \
   && nm --defined-only "$hd/ens1370-udriver.obj/decaf.o" | grep -q " T slice_ens1370_swift_snd_es1370_codec_write$"; then
  echo "== ens1370: its u-driver builds with snd_es1370_codec_write in Swift"
else
  echo "FAIL: ens1370 with snd_es1370_codec_write in Swift:"; tail -5 "$WORK/decaf-ens1370.log"; ok=0
fi
if [ "$ok" = 1 ]; then echo "driverslicer check: ok"; else echo "driverslicer check: FAILED"; exit 1; fi
