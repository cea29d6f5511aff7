#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A sliced legacy driver on the kernel path: 8139cp.c from Debian's
# linux-source-6.1, split by driverslicer --halves, runs as a microdriver in
# a QEMU guest (Debian's kernel, TCG) on QEMU's rtl8139 (an RTL8139C+, the
# chip 8139cp drives). The kernel half (the driver's own critical
# functions) is a module on drvnucleus.ko's runtime of sliced drivers; the
# user half (the rest of the same source) is a u-driver process drivermgrd
# spawns, linked with the driver library. Its probe, cp_init_one, runs in
# the u-driver: the PCI calls, the EEPROM read through the registers, the
# netdev's registration all cross as SLICE_DOWNCALLs, and the interface
# appears with the MAC QEMU gave the NIC. Decaf's step: cp_init_hw, which
# every open runs (reset, MAC, receive mode, transmit configuration), and
# read_eeprom with its bit-banging helpers, which the probe runs for the
# MAC, are moved to Swift (driverslicer --decaf; slicer/decaf/8139cp/), the
# rest of the user half calling them and they calling the C through the
# bindings.
#
# Last, with SLICE_CAMPAIGN_FAULTS set (`make campaign-slice`; not in make
# check, which it would lengthen by minutes; docs/reliability.md), a fault
# campaign into the sliced u-driver
# (drvcampaign attach): SIGKILLs, the runtime's crash, abort, hang, slow,
# garbage and bad parameters, and the code mutations in the user half's
# own functions (8139cp.c's, named from its object), with an echo stream through the
# kernel half counted per request and ethtool's -S, -i, -d and link
# settings in turn (upcalls into the user half) five times a second.
# Then, for SLICE_FUZZ_SECONDS (30; `make fuzz-slice-kernel` for longer),
# a hostile u-driver's SLICE_DOWNCALLs (Tests/vm/slice-fuzz.c,
# docs/fuzzing.md) with drivermgrd gone, before the removal.
# SLICE_CONSOLE_LOG=FILE keeps the guest's whole console.
#
# usage: Tests/vm/slice-guest.sh
set -euo pipefail
SLICE_CAMPAIGN_FAULTS=${SLICE_CAMPAIGN_FAULTS:-0}
SLICE_CAMPAIGN_SECONDS=${SLICE_CAMPAIGN_SECONDS:-240}
# The campaign's plan (drvcampaign --seed): the same faults each run.
SLICE_CAMPAIGN_SEED=${SLICE_CAMPAIGN_SEED:-1}
# drivermgrd's own SIGKILL every N faults of the campaign (0: never).
SLICE_CAMPAIGN_DAEMON_KILL_EVERY=${SLICE_CAMPAIGN_DAEMON_KILL_EVERY:-10}
# Seconds of slice-fuzz (a hostile u-driver's SLICE_DOWNCALLs) before the
# removal, drivermgrd gone (0: none); its seed.
SLICE_FUZZ_SECONDS=${SLICE_FUZZ_SECONDS:-20}
SLICE_FUZZ_SEED=${SLICE_FUZZ_SEED:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
KDIR=/lib/modules/$KVER/build
WORK=$(mktemp -d /tmp/drvnucleus-slice.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
BIN=$(cd "$ROOT" && swift build --show-bin-path)
MAC=52:54:00:12:34:61

# 8139cp as Kbuild compiles it (check-slicer's tree: its flags, its headers).
M="$ROOT/.build/slicer/m-8139cp"
[ -f "$M/.8139cp.o.cmd" ] || "$ROOT/Tests/slicer/check-slicer.sh" > "$WORK/check-slicer.log" 2>&1 || {
  echo "slice guest: check-slicer failed:"; tail -20 "$WORK/check-slicer.log"; exit 1; }
H="$WORK/halves"
"$BIN/driverslicer" "$M/8139cp.c" --kbuild-cmd "$M/.8139cp.o.cmd" --kbuild-dir "$KDIR" --halves "$H" --name 8139cp \
  --annotations "$ROOT/slicer/annotations/8139cp.slice" --decaf cp_init_hw,read_eeprom,eeprom_cmd_start,eeprom_cmd,eeprom_cmd_end > "$WORK/halves.txt"

# make check runs guests side by side: one Kbuild in module/ at a time.
flock "$ROOT/module" make -s -C "$KDIR" M="$ROOT/module" modules
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
gcc -static -O2 -Wall -o "$WORK/slice-fuzz" "$ROOT/Tests/vm/slice-fuzz.c"
# The kernel half: the driver's file as --halves wrote it, its module init
# registering through drvnucleus (drvslice-kernel.h), linked against
# drvnucleus.ko's symbols.
K="$H/kernel"
cat > "$K/Kbuild" <<KB
obj-m := slice-8139cp.o
slice-8139cp-y := 8139cp.o
ccflags-y := -Werror -I$ROOT/module/include -I$H -I$M -include $ROOT/module/include/drvslice-kernel.h \
  -DDRVSLICE_DESC=slice_8139cp_kernel -DDRVSLICE_CLASS=DRVXPC_CLASS_NET
KB
make -s -C "$KDIR" M="$K" KBUILD_EXTRA_SYMBOLS="$ROOT/module/Module.symvers" modules > "$WORK/k.log" 2>&1 || {
  echo "slice guest: the kernel half does not build:"; grep -E "error|warning|undefined" "$WORK/k.log" | head; exit 1; }
# The u-driver: the user half, the driver library and the host.
DECAF_SWIFT="$ROOT/slicer/decaf/8139cp" "$ROOT/slicer/build-udriver.sh" "$H" 8139cp "$M/.8139cp.o.cmd" "$KDIR" "$WORK/8139cp-udriver" > "$WORK/u.log" 2>&1 || {
  echo "slice guest: the u-driver does not build:"; tail -20 "$WORK/u.log"; exit 1; }
# cp_init_hw's C body is the call of the Swift, which the u-driver has
# from the Swift module (not from the C half).
decaf=""
for fn in cp_init_hw read_eeprom eeprom_cmd_start eeprom_cmd eeprom_cmd_end; do
  if grep -q "slice_8139cp_swift_$fn(" "$H/user/8139cp.c" \
     && nm --defined-only "$WORK/8139cp-udriver.obj/decaf.o" | grep -q " T slice_8139cp_swift_$fn$" \
     && ! nm --defined-only "$WORK/8139cp-udriver.obj/half.o" | grep -q "slice_8139cp_swift_$fn$"; then
    decaf="$decaf $fn"
  fi
done
decaf="${decaf# } in Swift"
echo "== decaf: $decaf"

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/stock"
cp /bin/busybox "$WORK/root/bin/busybox"
cp "$ROOT/module/drvnucleus.ko" "$K/slice-8139cp.ko" "$WORK/nucleus-client" "$WORK/slice-fuzz" "$WORK/root/"
for m in sound/soundcore sound/core/snd sound/core/snd-timer sound/core/snd-pcm \
         drivers/usb/common/usb-common drivers/usb/core/usbcore drivers/net/mii; do
  cp "/lib/modules/$KVER/kernel/$m.ko" "$WORK/root/stock/"
done
mkdir -p "$WORK/root$BIN" "$WORK/root/etc/drivermgrd/drivers.d" "$WORK/root/slices"
cp "$WORK/8139cp-udriver" "$WORK/root/slices/"
guest_install "$WORK/root" "$BIN/drivermgrd" "$BIN/drvctl" "$WORK/8139cp-udriver" "$(command -v ethtool)"
# drivermgrd under fdstore (systemd's Restart=always and fd store), so
# that the test and the campaign can SIGKILL it and the next one take the
# u-driver over.
gcc -static -O2 -Wall -o "$WORK/root/fdstore" "$ROOT/Sources/fdstore/fdstore.c"
if [ "$SLICE_CAMPAIGN_FAULTS" -gt 0 ]; then
  guest_install "$WORK/root" "$BIN/drvcampaign"
  # The code mutations' targets: the user half's own functions (8139cp.c's
  # code that runs in the u-driver), not the driver library's or the host's.
  nm --defined-only "$WORK/8139cp-udriver.obj/half.o" | awk '$2 ~ /^[Tt]$/ { print $3 }' > "$WORK/root/own-functions"
fi
cat > "$WORK/root/etc/drivermgrd/drivers.d/8139cp.conf" <<CONF
[Driver]
Name=8139cp
Class=net
Match=pci:10ec:8139
Executable=/slices/8139cp-udriver
[Recovery]
# TCG is slow, and the probe (one upcall) reads the EEPROM a register at
# a time through the nucleus.
XPCTimeoutSec=30s
ProbeTimeoutSec=60s
Restart=on-failure
FaultInjection=yes
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF

guest_init_head > "$WORK/root/init"
cat >> "$WORK/root/init" <<INIT
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
ctl=$BIN/drvctl
for m in soundcore snd snd-timer snd-pcm usb-common usbcore mii; do insmod /stock/\$m.ko; done
insmod /drvnucleus.ko upcall_timeout_ms=20000 && echo "== insmod drvnucleus ok"
insmod /slice-8139cp.ko && echo "== insmod slice-8139cp ok"
/fdstore /tmp/notify /tmp/drivermgrd.pid \\
  $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN --fd-store > /tmp/d.log 2>&1 &
for i in \$(seq 120); do \$ctl list --no-legend 2>/dev/null | grep -qE ' (active|failed) ' && break; sleep 0.5; done
# SLICE_STREAM_LOG=1: drivermgrd's log on the console as it is written
# (a guest that hangs never reaches the log's dump at the end).
[ -n "${SLICE_STREAM_LOG:-}" ] && { tail -F /tmp/d.log 2>/dev/null | sed 's/^/  d: /' > /dev/console & }
\$ctl list --no-legend | sed 's/^/== list: /'
slot=\$(for d in /sys/bus/pci/devices/*; do [ "\$(cat \$d/vendor):\$(cat \$d/device)" = 0x10ec:0x8139 ] && basename \$d; done | head -1)
ifc=\$(ls /sys/bus/pci/devices/\$slot/net 2>/dev/null | head -1)
echo "== interface: \${ifc:-none}, mac \$(cat /sys/class/net/\$ifc/address 2>/dev/null), driver \$(basename \$(readlink /sys/bus/pci/devices/\$slot/driver))"
# Open (cp_open in the u-driver: rings, the chip's init, the interrupt,
# NAPI, the PHY's link through mdio_read), then echoes through the kernel
# half's data path.
# What crossed the kernel hop (the nucleus's drvxpc counters for the
# device, both ways): the probe, then the open; reported, not asserted.
xpc() { /nucleus-client bytes 10ec:8139 | awk '{ print \$2, \$5 }'; }
x0=\$(xpc)
ip link set "\$ifc" up && echo "== link up ok"
x1=\$(xpc)
echo "== xpc: probe \$(echo \$x0 | awk '{ printf "%d bytes in %d messages", \$1, \$2 }'), open \$(echo \$x0 \$x1 | awk '{ printf "%d bytes in %d messages", \$3 - \$1, \$4 - \$2 }')"
ip addr add 10.0.2.15/24 dev "\$ifc"
for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
echo "== carrier: \$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)"
/nucleus-client echo 10.0.2.2 5 1000 3 | sed "s/^/== ping: /"
# Close and open again (cp_close frees the rings, cp_open makes new ones).
timeout 60 ip link set "\$ifc" down && timeout 60 ip link set "\$ifc" up && echo "== reopened ok"
for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
/nucleus-client echo 10.0.2.2 5 1000 3 | sed "s/^/== ping after reopening: /"
# A new MTU while up: cp_change_mtu in the u-driver closes and opens the
# device inside the one upcall (rings freed and made again, with the
# receive buffer size it derives); full-size echoes go through.
timeout 60 ip link set "\$ifc" mtu 1400 && echo "== mtu 1400 ok"
for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
ping -c 3 -W 3 -s 1372 10.0.2.2 | grep transmitted | sed 's/^/== full-size ping: /'
# The ComboLock (slicer/annotations/8139cp.slice: combolock
# cp_private.lock): the u-driver's ethtool operations take the kernel's
# lock (and, while they hold it, the kernel half's interrupt, NAPI and
# transmit wait), while echoes run through the kernel half and
# /proc/net/dev calls its cp_get_stats, which waits for the u-driver.
ethtool -i "\$ifc" | grep -E "^(driver|bus-info):" | tr '\n' ' ' | sed 's/^/== ethtool -i: /; s/ \$//'; echo
ethtool "\$ifc" | grep -E "Wake-on|Link detected" | tr -d '\t' | tr '\n' ' ' | sed 's/^/== ethtool: /; s/ \$//'; echo
# The link settings the MII library fills in the u-driver (cp_get_link_ksettings's
# struct crosses as bytes, both ways): what QEMU's PHY negotiated.
ethtool "\$ifc" | grep -E "^\s+(Speed|Duplex|Auto-negotiation):" | tr -d '\t' | tr '\n' ' ' | sed 's/^/== link settings: /; s/ \$//'; echo
ethtool -s "\$ifc" wol g && echo "== wol: \$(ethtool "\$ifc" | awk '/^\tWake-on:/ { print \$2 }')"
ethtool -s "\$ifc" wol d && echo "== wol: \$(ethtool "\$ifc" | awk '/^\tWake-on:/ { print \$2 }')"
# Buffers the kernel hands the u-driver's functions, annotated with their
# lengths (array FN.PARAM COUNT in 8139cp.slice): they go with the upcall
# and come back. ethtool -d: cp_get_regs reads the chip's 256 registers
# (memcpy_fromio) into the kernel's buffer, whose first six bytes are the
# station address; ethtool -e: cp_get_eeprom reads the EEPROM words that
# hold it; ethtool -S: the names and the chip's DMA'd counters.
hexrow() { awk -v at="\$1" '\$1 == at":" { print \$2":"\$3":"\$4":"\$5":"\$6":"\$7 }'; }
mac=\$(cat /sys/class/net/\$ifc/address)
echo "== ethtool -d: \$(ethtool -d "\$ifc" raw off hex on 2>&1 | hexrow 0x0000) (address \$mac)"
echo "== ethtool -e: \$(ethtool -e "\$ifc" offset 14 length 6 2>&1 | hexrow 0x000e) (address \$mac)"
ethtool -S "\$ifc" > /tmp/S 2>&1
echo "== ethtool -S: \$(grep -c ': ' /tmp/S) counters, \$(grep -E '^ +(tx_ok|rx_ok|rx_ok_phys|rx_ok_bcast):' /tmp/S | tr -d ' ' | tr '\n' ' ')"
# A new station address: cp_set_mac_address gets the sockaddr's bytes
# and writes the chip's ID registers, which ethtool -d reads back; echoes
# go through at the new address, then the old one is put back.
ip link set "\$ifc" address 52:54:00:12:34:99 && \
  echo "== new address: \$(cat /sys/class/net/\$ifc/address), registers \$(ethtool -d "\$ifc" raw off hex on 2>&1 | hexrow 0x0000)"
/nucleus-client echo 10.0.2.2 5 1000 3 | sed "s/^/== ping at the new address: /"
ip link set "\$ifc" address "\$mac" && echo "== address back: \$(cat /sys/class/net/\$ifc/address)"
# A buffer whose length no annotation gives (cp_set_eeprom's u8 *data) is
# not sent: the call fails, the u-driver lives on.
pid_of() { \$ctl list --no-legend | awk '\$1 == "8139cp" { print \$5 }'; }
p_before=\$(pid_of)
ethtool -E "\$ifc" magic 0x8139 offset 0x7e value 0 > /dev/null 2> /tmp/e; echo "== ethtool -E: \$(head -1 /tmp/e)"
echo "== the u-driver after it: \$([ "\$(pid_of)" = "\$p_before" ] && echo same || echo "\$p_before -> \$(pid_of)"), \$(dmesg | grep -c 'is a buffer of a length the description does not give') refusals logged"
ethtool -K "\$ifc" rx off; echo "== rx checksumming: \$(ethtool -k "\$ifc" | awk '/^rx-checksumming/ { print \$2 }')"
ethtool -K "\$ifc" rx on; echo "== rx checksumming: \$(ethtool -k "\$ifc" | awk '/^rx-checksumming/ { print \$2 }')"
# In TCG, ethtool -i's EEPROM word holds the lock 0.3-0.8 s (about 130
# register accesses, each a round trip through drivermgrd; microseconds
# on hardware), and past 1 s when two guests share the host's two cores,
# as in make check: one CI run saw the kernel half's default spin bound
# (slice_combolock_spin_ms, 1 s) overrun. For this loop the bound is 3 s,
# and 25 echoes a second let the receive ring's 64 descriptors outlast a
# hold up to it (the thunk stops the interrupt and NAPI while the
# u-driver holds the lock).
echo 3000 > /sys/module/drvnucleus/parameters/slice_combolock_spin_ms
/nucleus-client echo 10.0.2.2 150 40 3 > /tmp/s0 2>&1 &
p0=\$!
n=0
while kill -0 \$p0 2>/dev/null; do
  ethtool -i "\$ifc" > /dev/null &
  for i in \$(seq 20); do cat /proc/net/dev > /dev/null; done
  wait \$!
  ethtool "\$ifc" > /dev/null & for i in \$(seq 20); do cat /proc/net/dev > /dev/null; done; wait \$!
  n=\$((n + 1))
done
wait \$p0
echo 1000 > /sys/module/drvnucleus/parameters/slice_combolock_spin_ms
echo "== under the ComboLock: \$(cat /tmp/s0), \$n rounds of ethtool -i and ethtool"
# SIGKILL of the u-driver while it holds the lock (ethtool -i's
# get_eeprom_len reads an EEPROM word under it: half a second here; the
# kill comes when drvnucleus's counters show it held): the
# next u-driver's adoption gives it back (and answers ethtool again), and
# the kernel half runs on.
for try in 1 2 3; do
  before=\$(pid_of)
  ethtool -i "\$ifc" > /dev/null 2>&1 &
  # drvnucleus says when the u-driver holds it.
  for i in \$(seq 500); do grep -q ', held\$' /sys/module/drvnucleus/parameters/slice_combolocks && break; sleep 0.01; done
  kill -9 \$before
  wait \$!
  for i in \$(seq 40); do \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$before" ] && break; sleep 0.5; done
  dmesg | grep -q "held 1 ComboLock(s): given back" && break
done
dmesg | grep -o "the last u-driver held 1 ComboLock(s): given back" | head -1 | sed 's/^/== killed holding it: /'
/nucleus-client echo 10.0.2.2 5 1000 3 | sed "s/^/== ping after the kill under the ComboLock: /"
# The u-driver SIGKILLed one second into an echo stream (5 s at 100 a
# second): the kernel half's data path goes on; drivermgrd starts a new
# u-driver, which adopts the device (no second probe).
restarts0=\$(\$ctl show 8139cp -p NRestarts --value)
before=\$(pid_of)
/nucleus-client echo 10.0.2.2 500 10 3 > /tmp/s1 2>&1 &
p1=\$!
sleep 1
kill -9 \$before
wait \$p1
for i in \$(seq 40); do \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$before" ] && break; sleep 0.5; done
echo "== during the kill: \$(cat /tmp/s1)"
echo "== after the kill: \$(\$ctl list --no-legend | awk '{ print \$4 }'), restarts +\$((\$(\$ctl show 8139cp -p NRestarts --value) - restarts0)), pid \$before -> \$(pid_of)"
# The adopting u-driver never ran the probe that set cp->regs (the
# register window): it gets the kernel's objects with SLICE_PROBE's
# answer. Its first call is the link settings, whose field sets do not
# name cp->regs (mdio_read reads it through mii_if_info's function
# pointer, which the MII library calls); then ethtool -d (memcpy_fromio
# from cp->regs). Both answer as before the kill, and the kernel refused
# none of the u-driver's calls.
n0=\$(wc -l < /tmp/d.log)
ethtool "\$ifc" | grep -E "^\s+(Speed|Duplex|Auto-negotiation):" | tr -d '\t' | tr '\n' ' ' | sed 's/^/== link settings after the adoption: /; s/ \$//'; echo
echo "== ethtool -d after the adoption: \$(ethtool -d "\$ifc" raw off hex on 2>&1 | hexrow 0x0000) (address \$mac)"
sleep 1
echo "== calls refused after the adoption: \$(tail -n +\$((n0 + 1)) /tmp/d.log | grep -c -E 'refused|did not run it')"
# The new u-driver serves the driver's functions: close and open again.
timeout 60 ip link set "\$ifc" down && timeout 60 ip link set "\$ifc" up && echo "== down and up again ok"
for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
/nucleus-client echo 10.0.2.2 5 1000 3 | sed "s/^/== ping after the recovery: /"
echo "== mtu after the recovery: \$(cat /sys/class/net/\$ifc/mtu)"
ping -c 3 -W 3 -s 1372 10.0.2.2 | grep transmitted | sed 's/^/== full-size ping after the recovery: /'
# What the ComboLock did, as drvnucleus counts it.
sed 's/^/== ComboLock /' /sys/module/drvnucleus/parameters/slice_combolocks
# drivermgrd SIGKILLed after drvnucleus answered a SLICE_DOWNCALL and
# before the answer reached the u-driver (drvnucleus keeps the next answer
# and does not send it: slice_drop_answers, what the dead daemon would
# have lost): fdstore starts the next daemon, which takes the u-driver
# over; the u-driver sends its call again, and drvnucleus answers it from
# the first time instead of running it twice. ethtool -i's first call is
# the ComboLock's spin_lock, which taken twice would be refused and the
# driver library's BUG would end the u-driver.
before=\$(pid_of)
d_before=\$(cat /tmp/drivermgrd.pid)
echo 1 > /sys/module/drvnucleus/parameters/slice_drop_answers
ethtool -i "\$ifc" > /tmp/ei 2>&1 &
ei=\$!
for i in \$(seq 500); do [ "\$(cat /sys/module/drvnucleus/parameters/slice_drop_answers)" = 0 ] && break; sleep 0.01; done
kill -9 \$d_before
wait \$ei && echo "== ethtool -i across drivermgrd's restart: \$(grep ^driver: /tmp/ei)"
for i in \$(seq 60); do [ "\$(cat /tmp/drivermgrd.pid)" != "\$d_before" ] && \$ctl list --no-legend 2>/dev/null | grep -q ' active ' && break; sleep 0.5; done
echo "== after drivermgrd's restart: \$(\$ctl list --no-legend | awk '{ print \$4 }'), u-driver \$([ "\$(pid_of)" = "\$before" ] && echo same || echo "\$before -> \$(pid_of)"), \$(dmesg | grep -c 'SLICE_DOWNCALL (call [0-9a-f]*) sent again after the daemon.s restart: answered from the first time') answered again"
/nucleus-client echo 10.0.2.2 5 1000 3 | sed "s/^/== ping after drivermgrd's restart: /"
echo "== ethtool -d after drivermgrd's restart: \$(ethtool -d "\$ifc" raw off hex on 2>&1 | hexrow 0x0000) (address \$mac)"
# The fault campaign's sequence: a u-driver SIGKILLed, the next one adopts
# the device, drivermgrd is SIGKILLed right after and the next one takes
# that u-driver over; its ethtool -d reads the register window it got with
# the adoption.
before=\$(pid_of)
kill -9 \$before
for i in \$(seq 40); do \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$before" ] && break; sleep 0.5; done
adopter=\$(pid_of)
d_before=\$(cat /tmp/drivermgrd.pid)
kill -9 \$d_before
for i in \$(seq 60); do [ "\$(cat /tmp/drivermgrd.pid)" != "\$d_before" ] && \$ctl list --no-legend 2>/dev/null | grep -q ' active ' && break; sleep 0.5; done
echo "== ethtool -d after an adoption and drivermgrd's restart: \$(ethtool -d "\$ifc" raw off hex on 2>&1 | hexrow 0x0000) (address \$mac), u-driver \$([ "\$(pid_of)" = "\$adopter" ] && echo same || echo "\$adopter -> \$(pid_of)")"
# A u-driver whose call names an object the kernel never made (drvctl
# inject bad-param: a wild pointer as the first argument of a call of the
# kernel half's): drvnucleus refuses it, drivermgrd judges the u-driver
# failed (bad-parameter) and recovers it; ethtool -d answers after it.
before=\$(pid_of)
\$ctl inject 8139cp bad-param
for i in \$(seq 40); do \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$before" ] && break; sleep 0.5; done
echo "== after a wild pointer: \$(grep -o 'FAILURE_KIND=bad-parameter.*failure: SLICE_DOWNCALL: the nucleus refused it' /tmp/d.log | tail -1 | sed 's/.*failure: //'), \$(\$ctl list --no-legend | awk '{ print \$4 }'), pid \$([ "\$(pid_of)" != "\$before" ] && echo new || echo same)"
echo "== ethtool -d after the wild pointer: \$(ethtool -d "\$ifc" raw off hex on 2>&1 | hexrow 0x0000) (address \$mac)"
if [ $SLICE_CAMPAIGN_FAULTS -gt 0 ]; then
# The campaign. A hang is found by the heartbeat within XPCTimeoutSec=,
# 3 s here (the probe's 60 s is ProbeTimeoutSec='s), after up to
# HeartbeatMaxSec= (5 s) of an idle driver's back-off: hang and slow are
# watched for 10 s (--deadline-window-ms), the other kinds 2 s. The
# reload that sets it restarts the driver through recovery (adopted, not probed).
mkdir -p /etc/drivermgrd/drivers.d/8139cp.conf.d
printf '[Recovery]\nXPCTimeoutSec=3s\nStartLimitBurst=1000\nStartLimitIntervalSec=1s\n' > /etc/drivermgrd/drivers.d/8139cp.conf.d/60-campaign.conf
p_reload=\$(pid_of)
kill -HUP \$(pidof drivermgrd)
for i in \$(seq 60); do \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$p_reload" ] && break; sleep 0.5; done
echo "== slice campaign: \$(\$ctl list --no-legend | awk '{ print \$1, \$4 }') after the reload, \$(wc -l < /own-functions) functions of the user half as targets"
rm -f /tmp/camp.done
# Not ethtool -e: cp_get_eeprom reads 64 EEPROM words under the ComboLock,
# longer in TCG than the XPCTimeoutSec=3s above, so each one was a
# timeout failure, sent again to every recovering u-driver (a SLICE_UPCALL
# goes to the u-driver being started): the first runs' livelock.
( n=0; bad=0
  while [ ! -e /tmp/camp.done ]; do
    for o in -S -i -d ''; do
      n=\$((n + 1)); timeout 30 ethtool \$o "\$ifc" > /dev/null 2>> /tmp/eth.err || bad=\$((bad + 1)); sleep 0.2
    done
  done
  echo "\$n \$bad" > /tmp/eth.count ) &
eth=\$!
/nucleus-client echo 10.0.2.2 65535 50 3 /tmp/cping.lost > /tmp/cping 2>&1 & cping=\$!
$BIN/drvcampaign attach --runtime-dir /tmp/run --drivers 8139cp --no-exercise --functions-file /own-functions \\
  $([ "$SLICE_CAMPAIGN_DAEMON_KILL_EVERY" -gt 0 ] && echo "--daemon-pid \$(cat /tmp/drivermgrd.pid) --daemon-kill-every $SLICE_CAMPAIGN_DAEMON_KILL_EVERY --daemon-pid-file /tmp/drivermgrd.pid") \\
  --faults $SLICE_CAMPAIGN_FAULTS --seed $SLICE_CAMPAIGN_SEED --seconds $SLICE_CAMPAIGN_SECONDS --workers 1 --window-ms 2000 --deadline-window-ms 10000 \\
  --kinds sigkill crash abort hang slow garbage bad-param bit-flip invert-branch nop --out /tmp/scamp.jsonl 2>&1 | tail -1 | sed 's/^/== slice campaign: /'
touch /tmp/camp.done; wait \$eth
kill -INT \$cping; wait \$cping
echo "== slice campaign ping: \$(cat /tmp/cping)"
set -- \$(cat /tmp/eth.count)
echo "== slice campaign ethtool: \$1 runs, \$2 failed"
sort /tmp/eth.err 2>/dev/null | uniq -c | head -3 | sed 's/^/== ethtool said: /'
$BIN/drvcampaign report /tmp/scamp.jsonl --echo-losses 8139cp=/tmp/cping.lost > /tmp/scamp.md; echo "== slice campaign report exit \$?"
sed 's/^/  /' /tmp/scamp.md
# Each code mutation that manifested, as its row says (function, address,
# detector): the seed's plan is the same every run, so one that recurs is
# the same fault.
grep '"manifested":true' /tmp/scamp.jsonl | grep -E '"kind":"(bit-flip|invert-branch|nop)"' | head -10 | cut -c1-900 | sed 's/^/== slice campaign mutation that manifested: /'
# And every fault the report counts against the targets (not transparent,
# or echo requests lost in its window), whole, to be reproduced by its seed.
grep -E '"manifested":true.*"transparent":false|"echoLost":[1-9]' /tmp/scamp.jsonl | head -10 | sed 's/^/== slice campaign miss: /'
fi
# Removal after an adoption (the last recovery's u-driver adopted the
# device): it got the drvdata the first one's probe set (device.driver_data
# crosses with the kernel's objects), so the driver's remove (cp_remove_one:
# the netdev unregistered, the window unmapped, the regions released, the
# device disabled) runs in it and leaves drvnucleus nothing to release.
# Bound again after it: drivermgrd hears of neither (the protocol has no
# DEVICE_REMOVE; the DEVICE_ADD is of a device its u-driver serves), so the
# u-driver is killed, and its recovery's SLICE_PROBE finds the device not
# probed: a new probe, which what follows uses.
seg0=0
[ $SLICE_CAMPAIGN_FAULTS -gt 0 ] && seg0=\$(dmesg | grep -c segfault || true)
echo "\$slot" > /sys/bus/pci/drivers/8139cp/unbind && echo "== unbind after an adoption: interfaces \$(ls /sys/class/net | tr '\n' ' ')"
sleep 1
r0=\$(dmesg | grep -c "drvnucleus releases what the driver left")
echo "== after the unbind: \$(dmesg | grep -c "remove goes to the u-driver that adopted") remove in the adopting u-driver, \$r0 left to release, \$((\$(dmesg | grep -c segfault) - seg0)) segfaults"
dmesg | grep -o "drvnucleus releases what the driver left: .*" | sed 's/^/== after the unbind, /'
echo "\$slot" > /sys/bus/pci/drivers/8139cp/bind
before=\$(pid_of)
kill -9 \$before
ifc=
for i in \$(seq 120); do
  ifc=\$(ls /sys/bus/pci/devices/\$slot/net 2>/dev/null | head -1)
  [ -n "\$ifc" ] && \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$before" ] && break; sleep 0.5
done
ip link set "\$ifc" up; ip addr add 10.0.2.15/24 dev "\$ifc"
for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
/nucleus-client echo 10.0.2.2 5 200 3 | sed "s/^/== ping after the unbind and bind: /"
# A hostile u-driver: drivermgrd and its u-driver gone (fdstore first, so
# that nothing restarts them), slice-fuzz registers as the daemon, adopts
# the device and sends SLICE_DOWNCALLs for SLICE_FUZZ_SECONDS. Whatever it
# stops, the kernel must go on: dmesg is checked below, and the removal
# after it must release everything.
if [ $SLICE_FUZZ_SECONDS -gt 0 ]; then
  killall -9 fdstore 2>/dev/null; kill -9 \$(cat /tmp/drivermgrd.pid) 2>/dev/null; sleep 0.5; killall -9 8139cp-udriver 2>/dev/null; sleep 0.5
  inst=\$(dmesg | sed -n 's/.*drvnucleus instance \([0-9]*\): sliced 8139cp.*/\1/p' | tail -1)
  /nucleus-client echo 10.0.2.2 65535 100 3 > /tmp/fping 2>&1 & fping=\$!
  timeout \$(($SLICE_FUZZ_SECONDS + 300)) /slice-fuzz --instance "\$inst" --seed $SLICE_FUZZ_SEED --seconds $SLICE_FUZZ_SECONDS > /tmp/fuzz.out 2>&1
  echo "== slice fuzz exit \$?"
  kill -INT \$fping 2>/dev/null; wait \$fping
  cat /tmp/fuzz.out
  echo "== slice fuzz ping (not judged: the fuzzer may stop the device): \$(cat /tmp/fping)"
fi
# The removal: after the fuzzer (which adopted the device and is gone)
# no drivermgrd is registered, so the driver's remove is not tried (its
# upcall would wait upcall_timeout_ms for one) and drvnucleus releases
# what the probe took; without it, the u-driver the bind started runs
# the remove.
# No u-driver crashes on the way. (Segfaults counted from the campaign's
# end, whose mutations make their own; else from the boot.)
timeout 60 rmmod slice-8139cp && echo "== rmmod ok: interfaces \$(ls /sys/class/net | tr '\n' ' ')"
sleep 2
echo "== after rmmod: \$(dmesg | grep -c "no drivermgrd is registered to serve it") without a daemon, \$((\$(dmesg | grep -c "drvnucleus releases what the driver left") - r0)) release(s), \$((\$(dmesg | grep -c segfault) - seg0)) segfaults, \$(\$ctl list --no-legend | awk '{ print \$1, \$4 }')"
# A campaign's run keeps everything (the console goes to
# SLICE_CONSOLE_LOG on the host): a recovery that went wrong started
# far before the last lines.
keep=\$([ $SLICE_CAMPAIGN_FAULTS -gt 0 ] && echo 1000000 || echo 100)
# (A campaign's with the times, to line it up with dmesg and the rows.)
echo "== drivermgrd log:"; sed "$([ $SLICE_CAMPAIGN_FAULTS -gt 0 ] && echo 's/^/  /' || echo 's/^[^ ]* /  /')" /tmp/d.log | tail -\$keep
dmesg | grep -vE "^\\[ *[0-9.]+\\] (ACPI|PCI|pci|usb|clocksource|x86|Memory|smpboot|devtmpfs)" | tail -\$((keep * 2 / 5)) | sed 's/^/  dmesg: /'
killall drivermgrd; sleep 1
INIT
guest_init_tail >> "$WORK/root/init"
guest_initrd "$WORK"

timeout "${SLICE_VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 $([ "$SLICE_CAMPAIGN_FAULTS" -gt 0 ] && echo log_buf_len=8M)" \
  -netdev user,id=n1,net=10.0.2.0/24 -device rtl8139,netdev=n1,mac=$MAC > "$WORK/console.log" 2>&1 || true

tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
if [ -n "${SLICE_CONSOLE_LOG:-}" ]; then
  cp "$WORK/c.log" "$SLICE_CONSOLE_LOG" && echo "slice guest: the console is in $SLICE_CONSOLE_LOG"
fi
grep -E "^(== |  )" "$WORK/c.log" || true
ok=1
has() { grep -qE "$1" "$WORK/c.log" || { echo "FAILED: $2"; ok=0; }; }
has "== insmod drvnucleus ok" "insmod drvnucleus"
has "== insmod slice-8139cp ok" "insmod the kernel half"
has "^== list: 8139cp +net +[0-9a-f:.]+ +active " "the sliced u-driver active"
has "^== interface: [a-z0-9]+, mac $MAC, driver 8139cp$" "the interface cp_init_one registered, with the MAC it read from the EEPROM"
has "info drivermgrd: DRIVER=8139cp .*u-driver: 8139cp 0000:00:03\\.0 eth0: RTL-8139C\\+ at " "the probe's netdev_info in the log: info, the driver's and the device's names, no (uninitialized)"
has "^== link up ok" "ip link set up (cp_open in the u-driver)"
has "^== carrier: 1" "the carrier the u-driver's PHY check found"
has "^== ping: 5 echo requests sent, 5 replies received$" "ping through the kernel half's data path"
has "^== reopened ok" "cp_close and cp_open"
has "^== ping after reopening: 5 echo requests sent, 5 replies received$" "ping after reopening"
has "^== mtu 1400 ok" "cp_change_mtu (close and open inside one upcall)"
has "^== full-size ping: 3 packets transmitted, 3 packets received" "1400-byte packets at the new MTU"
has "^== during the kill: ([0-9]+) echo requests sent, \\1 replies received$" "echoes lost while the u-driver was killed"
has "^== after the kill: active, restarts \\+1, pid ([0-9]+) -> [0-9]+$" "recovered: a new u-driver, active"
has "^== down and up again ok" "cp_close and cp_open in the new u-driver"
has "^== ping after the recovery: 5 echo requests sent, 5 replies received$" "ping after the recovery"
has "^== mtu after the recovery: 1400$" "the MTU kept across the recovery"
has "^== ethtool -d after the adoption: ([0-9a-f:]{17}) \\(address \\1\\)$" "ethtool -d after the adoption (the register window the first u-driver mapped, read by the next)"
has "^== link settings after the adoption: Speed: 100Mb/s Duplex: Full Auto-negotiation: on$" "the link settings after the adoption (mdio_read's readw on cp->regs)"
has "^== calls refused after the adoption: 0$" "no kernel API call of the adopting u-driver refused"
has "^== full-size ping after the recovery: 3 packets transmitted, 3 packets received" "1400-byte packets after the recovery"
has "^== ethtool -i: driver: 8139cp bus-info: 0000:00:03\\.0$" "ethtool -i (cp_get_drvinfo: the driver's name, the device's as pci_name gives it)"
has "^== ethtool: Supports Wake-on: [a-z]+ Wake-on: [a-z]+ Link detected: yes" "ethtool's wake-on settings (netdev_get_wol under the ComboLock)"
has "^== link settings: Speed: 100Mb/s Duplex: Full Auto-negotiation: on$" "ethtool's link settings (cp_get_link_ksettings: the MII library's struct back as bytes)"
has "^== wol: g$" "ethtool -s wol g (netdev_set_wol under the ComboLock)"
has "^== wol: d$" "ethtool -s wol d"
has "^== ethtool -d: ([0-9a-f:]{17}) \\(address \\1\\)$" "ethtool -d (cp_get_regs: 256 registers into the kernel's buffer, the station address first)"
has "^== ethtool -e: ([0-9a-f:]{17}) \\(address \\1\\)$" "ethtool -e (cp_get_eeprom: the EEPROM words that hold the station address)"
has "^== ethtool -S: 14 counters, tx_ok:[1-9][0-9]* rx_ok:[0-9]+ rx_ok_phys:[0-9]+ rx_ok_bcast:[0-9]+ $" "ethtool -S (cp_get_strings, cp_get_ethtool_stats: the chip's counters)"
has "^== new address: 52:54:00:12:34:99, registers 52:54:00:12:34:99$" "ip link set address (cp_set_mac_address: the sockaddr's bytes, the chip's ID registers)"
has "^== ping at the new address: 5 echo requests sent, 5 replies received$" "ping at the new station address"
has "^== address back: " "the old station address put back"
has "^== ethtool -E: Cannot set EEPROM data: Operation not supported$" "a buffer of unknown length refused (cp_set_eeprom)"
has "^== the u-driver after it: same, 1 refusals logged$" "the u-driver alive after the refused buffer, the refusal logged"
has "^== rx checksumming: off$" "ethtool -K rx off (cp_set_features under the ComboLock)"
has "^== rx checksumming: on$" "ethtool -K rx on"
has "^== under the ComboLock: 150 echo requests sent, 150 replies received, [1-9][0-9]* rounds" "echoes lost while the u-driver's ethtool operations held the ComboLock"
has "^== killed holding it: the last u-driver held 1 ComboLock" "a u-driver killed holding the ComboLock: given back at the adoption"
has "^== ping after the kill under the ComboLock: 5 echo requests sent, 5 replies received$" "ping after the u-driver died holding the ComboLock"
has "^== ethtool -i across drivermgrd's restart: driver: 8139cp$" "a SLICE_DOWNCALL whose answer died with drivermgrd, sent again"
has "^== after drivermgrd's restart: active, u-driver same, 1 answered again$" "the SLICE_DOWNCALL sent again answered from the first time, not run twice (the u-driver lives on)"
has "^== ping after drivermgrd's restart: 5 echo requests sent, 5 replies received$" "ping after drivermgrd's restart"
has "^== ethtool -d after drivermgrd's restart: ([0-9a-f:]{17}) \\(address \\1\\)$" "ethtool -d by the u-driver drivermgrd's restart took over"
has "^== ethtool -d after an adoption and drivermgrd's restart: ([0-9a-f:]{17}) \\(address \\1\\), u-driver same$" "ethtool -d by an adopting u-driver that drivermgrd's restart took over"
has "^== after a wild pointer: SLICE_DOWNCALL: the nucleus refused it, active, pid new$" "a call with a wild pointer refused by drvnucleus, the u-driver judged failed (bad-parameter) and recovered"
has "^== ethtool -d after the wild pointer: ([0-9a-f:]{17}) \\(address \\1\\)$" "ethtool -d after the recovery from the wild pointer"
has "^== ComboLock 0000:00:03\\.0 cp_private.lock: [1-9][0-9]* holds by the u-driver, [1-9][0-9]* waits of the kernel half \\(longest [0-9]+ us\\), 0 overruns$" \
  "the ComboLock held by the u-driver, the kernel half waiting for it, never overrun"
if [ "$SLICE_CAMPAIGN_FAULTS" -gt 0 ]; then
  has "^== slice campaign: done: [1-9][0-9]* faults injected" "the campaign into the sliced u-driver ran"
  has "^== slice campaign report exit 0$" "the campaign's targets on the sliced driver (every manifested fault detected, recovered transparently, no echo lost)"
  has "^== slice campaign ping: ([0-9]+) echo requests sent, \\1 replies received$" "echo requests lost during the slice campaign"
fi
if [ "$SLICE_FUZZ_SECONDS" -gt 0 ]; then
  has "^== slice fuzz exit 0$" "slice-fuzz: every SLICE_DOWNCALL of a hostile u-driver answered, well-formed"
  has "^== slice fuzz: [1-9][0-9]* calls in [0-9]+ s: [1-9][0-9]* ran, [1-9][0-9]* refused" "slice-fuzz: calls that ran and calls refused"
  has "^== slice fuzz: dma_free_attrs of the kernel's buffers: [0-9]+ calls, [1-9][0-9]* refused while in use, 0 freed: dma_free_attrs: cp_private\\.[a-z_]+ points into it and the interrupt handler is requested$" \
    "dma_free_attrs of the rings refused while the kernel half's interrupt handler is requested"
fi
has "^== rmmod ok: interfaces lo $" "rmmod of the kernel half after an adoption: the netdev gone"
has "^== unbind after an adoption: interfaces lo \$" "unbind after an adoption: the netdev gone"
if [ "$SLICE_CAMPAIGN_FAULTS" -gt 0 ]; then
  # A buffer a u-driver killed inside a call had allocated for it (ethtool
  # -S's statistics) is left after a campaign: released at the unbind, and
  # said; nothing else may be.
  has "^== after the unbind: 1 remove in the adopting u-driver, [01] left to release, 0 segfaults\$" \
    "removal after an adoption: the driver's remove in the adopting u-driver (its drvdata crossed), no u-driver crashed"
  grep "^== after the unbind, drvnucleus releases" "$WORK/c.log" | grep -qvE "left: 0 window\(s\), [0-9]+ DMA buffer\(s\)\$" && \
    { echo "FAILED: the unbind after a campaign left more than DMA buffers to release"; ok=0; }
else
  has "^== after the unbind: 1 remove in the adopting u-driver, 0 left to release, 0 segfaults\$" \
    "removal after an adoption: the driver's remove in the adopting u-driver (its drvdata crossed), nothing left to release, no u-driver crashed"
fi
has "^== ping after the unbind and bind: 5 echo requests sent, 5 replies received\$" "bound again after the unbind: a new probe, echoes through it"
if [ "$SLICE_FUZZ_SECONDS" -gt 0 ]; then
  has "^== after rmmod: 1 without a daemon, 1 release\\(s\\), 0 segfaults" "removal after the fuzzer: no remove tried without a daemon, the kernel's resources released, no u-driver crashed"
else
  has "^== after rmmod: 0 without a daemon, 0 release\\(s\\), 0 segfaults" "removal: the driver's remove in the u-driver, nothing left to release, no u-driver crashed"
fi
grep -q "(uninitialized)" "$WORK/c.log" && { echo "FAILED: a u-driver's netdev message says (uninitialized) (the adopting u-driver's copy of reg_state)"; ok=0; }
has "^== dmesg clean$" "dmesg"
[ "$decaf" = "cp_init_hw read_eeprom eeprom_cmd_start eeprom_cmd eeprom_cmd_end in Swift" ] \
  || { echo "slice guest: not every moved function is the Swift one (decaf: $decaf)"; ok=0; }
if [ "$ok" = 1 ]; then echo "slice guest test: ok"; else
  echo "slice guest test: FAILED; console:"; tail -60 "$WORK/c.log"; exit 1; fi
