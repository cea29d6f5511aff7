#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The usb-host class on the kernel path: Debian's kernel under QEMU (TCG)
# with QEMU's piix3-usb-uhci (PCI 8086:7020, 2 root-hub ports), a
# usb-storage disk on port 1 (DISK_MB of random data made here, its sha256
# known) and a usb-tablet on port 2. The host moves the tablet through QMP's
# input-send-event: an absolute position and a wheel step a move, MOVES
# moves DELAY s apart, each a known step of a sequence (a monitor
# mouse_move is a relative motion, which QEMU routes to the PS/2 mouse
# only: the tablet takes absolute events; the HMP monitor's info mice /
# mouse_set make it the current mouse). In the guest Tests/vm/evread.c
# (evread tablet) checks every report against the sequence: all moves
# reached, in order, with the wheel's sum (QEMU folds moves the guest has
# not polled yet into one report: counted as merged, not lost).
#
#   A  the stock drivers, Debian's uhci-hcd with usbcore, usb-storage,
#      sd_mod, usbhid, hid-generic: the baseline. /dev/sda read whole
#      (iflag=direct) while the tablet moves: the checksum equals the
#      host's, every move reported. Then the read throughput (RUNS reads of
#      RUN_MB, median), the devices' busnum/devnum; rmmod uhci-hcd frees
#      the controller.
#   B  drvnucleus.ko (module/uhci.c: the schedule, usbcore's usb_hcd),
#      drivermgrd with the uhci u-driver (Bind=yes hands the controller
#      over): the disk and the tablet enumerate; the whole disk read again
#      while the tablet moves, the u-driver SIGKILLed and then hung (drvctl
#      inject) during the read: dd exits 0, the checksum is the host's, no
#      I/O error, no USB disconnect, the same busnum/devnum, every move
#      reported, two restarts. The throughput beside A's; the XPC messages
#      the device crosses the kernel hop with over 5 s idle and 5 s of dd.
#   H  (with B) hot-plug: the tablet unplugged and plugged back through
#      the monitor (device_del, device_add), once with the u-driver
#      running and once while it hangs. UHCI has no port-change interrupt:
#      the u-driver's root-hub poll finds the change (USB_PORT_CHANGE), the
#      recovered one in the second round; the tablet leaves and comes back
#      as a new device, the disk keeps its number. Then a root-hub request
#      made during a hang (port 2's sysfs "disable") waits for the
#      recovered u-driver and gets its answer: EPIPE, as uhci-hub.c gives
#      for ClearPortFeature(POWER). And one made while drivermgrd itself
#      is gone (SIGKILLed, started again 2 s later): held in the nucleus
#      until the new daemon is there, the same answer.
#   Q  (with B) a crash storm past StartLimitBurst: the driver ends failed
#      and the devices are disconnected cleanly. drivermgrd's exit gives
#      the controller back (ReleaseOnExit=yes) to uhci-hcd.
#
# Then dmesg must be clean (BUG, WARNING, Oops, refcount, Call Trace).
#
# usage: Tests/vm/usb-guest.sh
#   USB_PHASES="A B"  the phases to run (A alone: the baseline only)
#   DISK_MB=8         the disk's size; RUN_MB=2 read per throughput run,
#                     RUNS=5 runs (the median is printed)
#   MOVES=300         tablet moves per burst; DELAY=0.03 s between two
#   FAULT_AT=1.5      s into B's read before the SIGKILL
#   B_FSBR=on|off|auto  drvctl call uhci fsbr before B's throughput runs
#                     (default: auto, as the u-driver leaves it)
#   KEEP=1            keep the work directory (console.log, initrd, disk)
#   VM_TIMEOUT=300    s before QEMU is killed
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
PHASES=${USB_PHASES:-A B}
DISK_MB=${DISK_MB:-8}
RUN_MB=${RUN_MB:-2}
RUNS=${RUNS:-5}
MOVES=${MOVES:-300}
DELAY=${DELAY:-0.03}
FAULT_AT=${FAULT_AT:-1.5}
WORK=$(mktemp -d /tmp/drvnucleus-usb.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then trap 'echo "work directory kept: $WORK"' EXIT; else trap 'rm -rf "$WORK"' EXIT; fi
phase() { case " $PHASES " in *" $1 "*) return 0;; esac; return 1; }
t_start=$(date +%s)

# The disk: random data, its checksum known here.
head -c $((DISK_MB << 20)) /dev/urandom > "$WORK/disk.img"
DISK_SHA=$(sha256sum "$WORK/disk.img" | cut -d' ' -f1)

# What the guest loads, in load order, from this machine's modules.
modpaths() { for m in "$@"; do modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'; done | awk '!seen[$0]++'; }
mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/mods"
cp /bin/busybox "$WORK/root/bin/busybox"
gcc -static -O2 -Wall -o "$WORK/root/evread" "$ROOT/Tests/vm/evread.c"
for c in USB USB_UHCI_HCD USB_STORAGE BLK_DEV_SD USB_HID HID_GENERIC INPUT_EVDEV; do
  grep -qE "^CONFIG_$c=(y|m)" "/boot/config-$KVER" || { echo "usb-guest: the kernel has no CONFIG_$c"; exit 2; }
done
# base: usbcore and the class drivers (they stay for B: usb-storage and
# usbhid bind the devices on drvnucleus's bus too), evdev; stock: the host
# controller driver (uhci-hcd; ehci-hcd is its soft dependency).
: > "$WORK/root/mods/base.list"; : > "$WORK/root/mods/stock.list"; : > "$WORK/root/mods/nucleus.list"
for p in $(modpaths usbcore usb-storage sd_mod usbhid hid-generic evdev); do
  cp "$p" "$WORK/root/mods/"; basename "$p" >> "$WORK/root/mods/base.list"
done
for p in $(modpaths uhci-hcd); do
  grep -qx "$(basename "$p")" "$WORK/root/mods/base.list" && continue
  cp "$p" "$WORK/root/mods/"; basename "$p" >> "$WORK/root/mods/stock.list"
done

BIN=$(cd "$ROOT" && swift build --show-bin-path)
if phase B; then
  # make check runs guests side by side: one Kbuild in module/ at a time.
  flock "$ROOT/module" make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
  [ -e "$ROOT/module/uhci.c" ] || echo "usb-guest: module/uhci.c does not exist: phase B will fail"
  [ -x "$BIN/uhci" ] || { echo "usb-guest: no $BIN/uhci (swift build): phase B will fail"; }
  cp "$ROOT/module/drvnucleus.ko" "$WORK/root/"
  # drvnucleus.ko's dependencies (ALSA's core for the sound class, usbcore
  # for this one), those not in base.list already.
  deps=$(modinfo -F depends "$ROOT/module/drvnucleus.ko" | tr , ' ')
  for p in $(modpaths $deps); do
    grep -qx "$(basename "$p")" "$WORK/root/mods/base.list" && continue
    cp "$p" "$WORK/root/mods/"; basename "$p" >> "$WORK/root/mods/nucleus.list"
  done
  if ! nm "$ROOT/module/drvnucleus.ko" | grep " U usb_add_hcd" > /dev/null; then
    echo "usb-guest: module/drvnucleus.ko registers no usb_hcd (module/uhci.c not built): phase B will fail"
  fi
  # XPC messages of the device read straight from the nucleus (a C client:
  # drvctl, a Swift program, takes seconds to start under TCG).
  gcc -static -O2 -Wall -o "$WORK/root/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
  # drivermgrd, drvctl and the uhci u-driver at their host paths, with the
  # shared libraries they load (the Swift runtime, Foundation, glibc).
  mkdir -p "$WORK/root$BIN" "$WORK/root/etc/drivermgrd/drivers.d"
  guest_install "$WORK/root" "$BIN/drivermgrd" "$BIN/drvctl" "$BIN/uhci"
  cat > "$WORK/root/etc/drivermgrd/drivers.d/uhci.conf" <<CONF
[Driver]
Name=uhci
Class=usb-host
Match=pci:8086:7020
Executable=uhci
# drivermgrd takes the controller from uhci-hcd (if bound) for drvnucleus,
# and gives it back when it stops.
Bind=yes
ReleaseOnExit=yes
[Recovery]
# TCG is slow: upcalls get a deadline a real machine would not need.
XPCTimeoutSec=1s
FaultInjection=yes
# B's two failures and H's two hangs are within it; Q's crash storm is not.
StartLimitBurst=5
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF
fi
cat > "$WORK/root/env" <<ENV
BIN=$BIN
MOVES=$MOVES
PHASES="$PHASES"
DISK_MB=$DISK_MB
RUN_MB=$RUN_MB
RUNS=$RUNS
FAULT_AT=$FAULT_AT
B_FSBR=${B_FSBR:-}
ENV

cat > "$WORK/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
# drvctl's tables plain: the serial console is a terminal with TERM=linux.
export NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /env
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
phase() { case " $PHASES " in *" $1 "*) return 0;; esac; return 1; }
echo "== guest kernel $(uname -r)"
# crct10dif-pclmul needs PCLMULQDQ, which QEMU's TCG CPU lacks: sd_mod
# does with crct10dif_generic.
for m in $(cat /mods/base.list); do insmod /mods/$m 2>/dev/null || echo "== insmod $m failed (not needed)"; done
# centiseconds since boot
cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
mark() { echo "usb-guest: $1" > /dev/kmsg; }
# The kernel log since mark $1.
since() { dmesg | sed -n "/usb-guest: $1\$/,\$p"; }
# The controller's PCI function and its driver.
PCI=
for d in /sys/bus/pci/devices/*; do
  [ "$(cat $d/vendor):$(cat $d/device)" = 0x8086:0x7020 ] && PCI=$d
done
echo "== controller: ${PCI##*/} $(cat $PCI/vendor 2>/dev/null):$(cat $PCI/device 2>/dev/null)"
holder() { d=$(readlink $PCI/driver 2>/dev/null); if [ -n "$d" ]; then basename "$d"; else echo none; fi; }
# Every USB device (no interfaces): name busnum/devnum vendor:product.
usbdevs() {
  for d in /sys/bus/usb/devices/*; do
    case ${d##*/} in *:*) continue;; esac
    [ -e $d/devnum ] || continue
    echo "${d##*/}=$(cat $d/busnum)/$(cat $d/devnum)/$(cat $d/idVendor):$(cat $d/idProduct)"
  done | sort | tr '\n' ' '
}
# Waits for the disk and the tablet; the tablet's event node in $tab.
enumerated() { # PHASE SINCE(cs)
  for i in $(seq 300); do [ -e /sys/block/sda ] && break; sleep 0.1; done
  tab=$(/evread find 30 "USB Tablet")
  echo "== $1 enumerated in $(( ($(cs) - $2) * 10 )) ms: sda $(cat /sys/block/sda/size 2>/dev/null) sectors," \
       "$(cat /sys/block/sda/device/vendor 2>/dev/null | tr -s ' ')$(cat /sys/block/sda/device/model 2>/dev/null | tr -s ' '); tablet ${tab:-none}"
  tab=${tab%% *}
  echo "== $1 devices: $(usbdevs)"
}
# The tablet's burst: evread is listening when the host is told to start.
listen() { # PHASE SECONDS
  rm -f /tmp/ready$1 /tmp/prog$1
  /evread tablet "$tab" $MOVES "$2" /tmp/ready$1 /tmp/prog$1 > /tmp/ev$1 2> /tmp/ev$1.err &
  reader=$!
  for i in $(seq 100); do [ -e /tmp/ready$1 ] && break; sleep 0.1; done
  echo "== usb: ready $1"
}
result() { # PHASE
  wait $reader
  echo "== $1 evread exit $?"
  sed "s/^== /== $1 /" /tmp/ev$1
  head -5 /tmp/ev$1.err | sed 's/^/  /'
}
progress() { cat /tmp/prog$1 2>/dev/null || echo 0; }
# The whole disk, read past the page cache, into /tmp (checksummed after).
readall() { # PHASE
  dd if=/dev/sda of=/tmp/disk$1 bs=64k iflag=direct 2> /tmp/dd$1.err
  echo $? > /tmp/dd$1.rc
}
readall_result() { # PHASE
  echo "== $1 dd exit $(cat /tmp/dd$1.rc): $(cat /tmp/dd$1.err | tr '\n' ' ')"
  echo "== $1 sha256 $(sha256sum /tmp/disk$1 | cut -d' ' -f1)"
  rm -f /tmp/disk$1
}
# Read throughput: RUNS reads of RUN_MB from the start, iflag=direct (every
# run reads the device), timed by /proc/uptime (10 ms: Debian's busybox dd
# prints no time); KB/s, the median.
throughput() { # PHASE
  all=
  for r in $(seq $RUNS); do
    c0=$(cs)
    dd if=/dev/sda of=/dev/null bs=64k count=$((RUN_MB * 16)) iflag=direct 2> /tmp/tp.err || echo "== $1 throughput run $r: dd failed: $(cat /tmp/tp.err)"
    all="$all $(( (RUN_MB << 10) * 100 / ($(cs) - c0) ))"
  done
  echo "== $1 throughput KB/s:$all median $(echo $all | tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

if phase A; then
  mark A
  ta=$(cs)
  for m in $(cat /mods/stock.list); do insmod /mods/$m || echo "== insmod $m failed"; done
  echo "== A: controller driver $(holder)"
  enumerated A $ta
  listen A 120
  t1=$(cs); readall A; t2=$(cs)
  echo "== A: whole disk read in $(( (t2 - t1) * 10 )) ms, tablet at move $(progress A) of $MOVES when it ended"
  result A
  readall_result A
  throughput A
  echo "== A I/O errors: $(since A | grep -ciE 'I/O error|critical (target|medium)') resets: $(since A | grep -c 'reset full-speed USB device')"
  rmmod uhci_hcd && echo "== A: rmmod uhci-hcd ok, controller driver $(holder)"
  for i in $(seq 30); do [ -e /sys/block/sda ] || break; sleep 0.1; done
  echo "== A: after rmmod: sda $([ -e /sys/block/sda ] && echo present || echo gone), devices: $(usbdevs)"
  echo "== A: phase took $(( ($(cs) - ta) * 10 )) ms"
fi

# Until a deadline (seconds from now), or a condition holds.
until_s() { # SECONDS COMMAND...
  end=$(( $(cs) + $1 * 100 )); shift
  while [ $(cs) -lt $end ]; do "$@" && return 0; sleep 0.25; done
  return 1
}
# B cannot go on: what drivermgrd said, then the daemon and the nucleus go.
b_abort() { # WHY
  echo "== B: aborted: $1"
  echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log 2>/dev/null | tail -25
  dmesg | grep -iE "drvnucleus|usb" | tail -15 | sed 's/^/  /'
  killall drivermgrd 2>/dev/null
  until_s 10 sh -c '! pidof drivermgrd > /dev/null'
  rmmod drvnucleus 2>/dev/null && echo "== B: rmmod drvnucleus ok"
}

if phase B; then
  mark B
  tb=$(cs)
  ctl=$BIN/drvctl
  for m in $(cat /mods/nucleus.list); do insmod /mods/$m; done
  b_setup() {
    insmod /drvnucleus.ko || { b_abort "insmod drvnucleus.ko"; return 1; }
    echo "== B: insmod drvnucleus ok"
    [ -x $BIN/uhci ] || { b_abort "no u-driver $BIN/uhci in the guest (not built on the host)"; return 1; }
    $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN > /tmp/d.log 2>&1 &
    daemon=$!
    until_s 30 grep -q "connected to drvnucleus.ko" /tmp/d.log
    grep -o "connected to drvnucleus.ko.*" /tmp/d.log | head -1 | sed 's/^/== B: drivermgrd /'
    kill -0 $daemon 2>/dev/null || { b_abort "drivermgrd exited"; return 1; }
    until_s 20 sh -c "[ \"\$(basename \"\$(readlink $PCI/driver)\")\" = drvnucleus ]"
    echo "== B: controller driver $(holder)"
    [ "$(holder)" = drvnucleus ] || { b_abort "Bind=yes did not hand the controller to drvnucleus"; return 1; }
    # drvctl is a Swift program: slow to start under TCG; a state but
    # activating ends the wait (60 s at most).
    end=$(( $(cs) + 6000 ))
    while [ $(cs) -lt $end ]; do
      st=$($ctl is-active uhci 2>/dev/null)
      case $st in active|failed) break;; esac
      kill -0 $daemon 2>/dev/null || break
      sleep 0.5
    done
    echo "== B: uhci $($ctl is-active uhci 2>&1)"
    $ctl list --no-legend | sed 's/^/== B list: /'
    [ "$st" = active ] || { b_abort "the uhci u-driver is not active ($st)"; return 1; }
  }
fi
if phase B && b_setup; then
  # drivermgrd's log says when a recovery is done; drvctl (a Swift program,
  # slow to start under TCG) would say it a second or two late.
  recovered() { # RECOVERIES SECONDS
    t=0; while [ $t -lt $(($2 * 10)) ]; do
      [ "$(grep -c "recovered in" /tmp/d.log)" -ge "$1" ] && return 0
      sleep 0.1; t=$((t + 1)); done
    return 1
  }
  # DEVICE_INFO as drvctl decodes it: every number, boolean and string field.
  vals() { $ctl status uhci --json=short 2>/dev/null | sed 's#\\/#/#g' | grep -oE '"[A-Za-z]+":("[^"]*"|[0-9]+|true|false)' | tr -d '"' | tr '\n' ' '; }
  xpc() { /nucleus-client bytes 8086:7020 | awk '{ print $5 }'; }
  # (from insmod drvnucleus.ko: drivermgrd's start, the hand-over, the
  # u-driver's probe and usbcore's enumeration)
  enumerated B $tb
  echo "== B status before: $(vals)"
  $ctl status uhci | sed 's/^/  /'
  pid=$($ctl show uhci -p MainPID --value)
  mark B-faults
  listen B 150
  readall B &
  rd=$!
  sleep $FAULT_AT
  running() { kill -0 $rd 2>/dev/null && echo "dd running" || echo "dd done"; }
  kill -9 $pid && echo "== B: u-driver $pid SIGKILLed at move $(progress B) of $MOVES, $(running)"
  recovered 1 30 && echo "== B: recovered from the kill at move $(progress B), $(running)"
  $ctl inject uhci hang > /dev/null && echo "== B: hang injected at move $(progress B) of $MOVES, $(running)"
  recovered 2 30 && echo "== B: recovered from the hang at move $(progress B), $(running)"
  wait $rd
  echo "== B: whole disk read ended at move $(progress B) of $MOVES"
  result B
  readall_result B
  for i in $(seq 20); do [ "$($ctl is-active uhci 2>/dev/null)" = active ] && break; sleep 0.5; done
  echo "== B restarts: $($ctl show uhci -p NRestarts --value)"
  echo "== B devices after: $(usbdevs)"
  echo "== B I/O errors: $(since B-faults | grep -ciE 'I/O error|critical (target|medium)') disconnects: $(since B-faults | grep -c 'USB disconnect') resets: $(since B-faults | grep -c 'reset full-speed USB device')"
  since B-faults | grep -iE "usb|sd[a-z]|I/O|scsi" | head -10 | sed 's/^/  /'
  echo "== B status after: $(vals)"
  $ctl history uhci | grep -E "failure|recovered" | sed 's/^/== B history: /'
  if [ -n "$B_FSBR" ]; then
    $ctl call uhci fsbr $B_FSBR 2>&1 | head -3 | sed 's/^/== B fsbr: /'
    sleep 1
    echo "== B throughput with: $(vals | grep -oE 'fsbr:[a-z]+')"
  fi
  throughput B
  # Steady state: the XPC messages the device crosses the kernel hop with,
  # 5 s idle, then 5 s of reads.
  x0=$(xpc); c0=$(cs)
  sleep 5
  x1=$(xpc); c1=$(cs)
  while [ $(( $(cs) - c1 )) -lt 500 ]; do dd if=/dev/sda of=/dev/null bs=64k count=16 iflag=direct 2> /dev/null; done
  x2=$(xpc); c2=$(cs)
  echo "== B xpc: idle $((x1 - x0)) messages in $(( (c1 - c0) * 10 )) ms; dd $((x2 - x1)) messages in $(( (c2 - c1) * 10 )) ms"
  # FSBR as uhci-hcd runs it (auto, unless B_FSBR): the loop went on with
  # the reads and is off again 10 ms after them.
  echo "== B fsbr after the reads: $(vals | grep -oE 'fsbr[A-Za-z]*:[a-z0-9]+' | tr '\n' ' ')"
  # H: hot-plug, which only the u-driver's root-hub poll sees (UHCI has no
  # port-change interrupt): it sends USB_PORT_CHANGE, the nucleus's
  # hub_status_data answers usbcore's hub driver from it. The host unplugs
  # and plugs the tablet through the monitor (device_del / device_add) at
  # each "== usb: do X": once with the u-driver running, once while it
  # hangs (the change is found by the recovered u-driver). The disk stays.
  mark H
  h_log=$(wc -l < /tmp/d.log)
  tabnum() { cat /sys/bus/usb/devices/1-2/devnum 2>/dev/null || echo none; }
  disknum() { cat /sys/bus/usb/devices/1-1/devnum 2>/dev/null || echo none; }
  d0=$(disknum)
  for round in 1 2; do
    t0=$(tabnum)
    if [ $round = 2 ]; then
      $ctl inject uhci hang > /dev/null && echo "== H2: hang injected"
    fi
    echo "== usb: do unplug$round"
    [ $round = 2 ] && recovered 3 30 && echo "== H2: recovered from the hang"
    until_s 15 sh -c '[ ! -e /sys/bus/usb/devices/1-2 ]'
    echo "== H$round: tablet $t0 unplugged: $([ -e /sys/bus/usb/devices/1-2 ] && echo no || echo yes)"
    echo "== usb: do plug$round"
    until_s 20 sh -c "[ -e /sys/bus/usb/devices/1-2/devnum ] && [ \"\$(cat /sys/bus/usb/devices/1-2/devnum)\" != $t0 ]"
    until_s 10 sh -c 'ls /sys/bus/usb/devices/1-2/1-2:1.0/*/input 2> /dev/null | grep -q input'
    echo "== H$round: tablet plugged back as device $(tabnum) (was $t0), input $(ls /sys/bus/usb/devices/1-2/1-2:1.0/*/input 2> /dev/null | grep input | head -1)"
  done
  echo "== H: disk device $d0 -> $(disknum); disconnects: $(since H | grep -c 'USB disconnect'), new devices: $(since H | grep -c 'new full-speed USB device')"
  # What drivermgrd said during H, for the host to show if H fails.
  tail -n +$((h_log + 1)) /tmp/d.log | sed 's/^[^ ]* /== H log: /' | cut -c1-300
  # H3: a root-hub request made while the u-driver hangs: usbcore's port
  # "disable" (hub_control in process context: ClearPortFeature POWER,
  # then C_CONNECTION) waits in drivermgrd's queue and is answered by the
  # recovered u-driver, as uhci-hub.c answers it: POWER is a stall (UHCI
  # has no power switching), so the write ends in EPIPE, after the recovery.
  P2=/sys/bus/usb/devices/1-0:1.0/usb1-port2/disable
  if [ -e $P2 ]; then
    $ctl inject uhci hang > /dev/null && echo "== H3: hang injected"
    t0=$(cs)
    err=$( (echo 1 > $P2) 2>&1 ); rc=$?
    echo "== H3: port 2 disabled during the hang: rc $rc ($(echo "$err" | sed 's/.*: //')) after $(( ($(cs) - t0) * 10 )) ms, recoveries $(grep -c 'recovered in' /tmp/d.log)"
    echo 0 > $P2
  else
    echo "== H3: no $P2"
  fi
  # H4: a root-hub request made while drivermgrd itself is gone (SIGKILLed,
  # then started again): the nucleus asks again until a daemon is there,
  # for hub_control_patience_ms (raised here: a Swift daemon starts slowly
  # under TCG), and the u-driver under the new daemon answers: EPIPE again.
  if [ -e $P2 ]; then
    echo 60000 > /sys/module/drvnucleus/parameters/hub_control_patience_ms
    kill -9 $daemon; wait $daemon 2>/dev/null
    echo "== H4: drivermgrd SIGKILLed"
    (
      t0=$(cs)
      err=$( (echo 1 > $P2) 2>&1 ); rc=$?
      echo "== H4: port 2 disabled with no daemon: rc $rc ($(echo "$err" | sed 's/.*: //')) after $(( ($(cs) - t0) * 10 )) ms" > /tmp/h4
    ) &
    w=$!
    sleep 2
    $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN >> /tmp/d.log 2>&1 &
    daemon=$!
    wait $w
    cat /tmp/h4
    echo 0 > $P2
    echo 10000 > /sys/module/drvnucleus/parameters/hub_control_patience_ms
    until_s 30 sh -c "[ \"\$($ctl is-active uhci 2>/dev/null)\" = active ]"
    echo "== H4: uhci $($ctl is-active uhci 2>&1) under the new drivermgrd; devices: $(usbdevs)"
  fi
  # Q: a crash storm past StartLimitBurst: the driver ends failed.
  mark Q
  for i in 1 2 3 4 5 6 7 8; do
    [ "$($ctl is-active uhci 2>/dev/null)" = failed ] && break
    $ctl inject uhci crash > /dev/null 2>&1
    for j in $(seq 40); do
      st=$($ctl is-active uhci 2>/dev/null)
      [ "$st" = active ] || [ "$st" = failed ] && break; sleep 0.25
    done
  done
  echo "== Q: uhci $($ctl is-active uhci 2>&1)"
  for i in $(seq 100); do [ -e /sys/block/sda ] || break; sleep 0.1; done
  echo "== Q: sda $([ -e /sys/block/sda ] && echo present || echo gone); devices: $(usbdevs)"
  echo "== Q disconnects: $(since Q | grep -c 'USB disconnect')"
  since Q | grep -iE "usb|drvnucleus|quiesc" | head -12 | sed 's/^/  /'
  echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log | tail -30
  # drivermgrd's exit gives the controller back (ReleaseOnExit=yes) to
  # uhci-hcd, loaded meanwhile (it does not take a bound controller).
  for m in $(cat /mods/stock.list); do insmod /mods/$m 2>/dev/null; done
  echo "== B: controller driver with uhci-hcd loaded: $(holder)"
  killall drivermgrd
  for i in $(seq 20); do pidof drivermgrd > /dev/null || break; sleep 0.5; done
  for i in $(seq 20); do [ "$(holder)" = drvnucleus ] || break; sleep 0.5; done
  echo "== B: controller driver after drivermgrd stopped: $(holder)"
  rmmod drvnucleus && echo "== B: rmmod drvnucleus ok"
  dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
  echo "== B: phases B and Q took $(( ($(cs) - tb) * 10 )) ms"
fi
echo "== kernel log (usb, scsi, drvnucleus):"
dmesg | grep -iE "usb|uhci|sd[a-z]|scsi|drvnucleus" | tail -30 | sed 's/^/  /'
if dmesg | grep -E "BUG|WARNING|Oops|refcount|Call Trace"; then echo "== dmesg: the kernel complained"; else echo "== dmesg clean"; fi
poweroff -f
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$WORK/initrd.gz"

# The host's hand on the tablet: at each "== usb: ready X" a burst over one
# QMP connection, move i = abs x(i) y(i) and a wheel step, as evread.c
# (tablet) expects it. First the HMP monitor makes the tablet the current
# mouse (mouse_set), which is where QEMU sends the wheel's button events.
MONPORT=$((20000 + RANDOM % 20000))
QMPPORT=$((MONPORT + 1))
touch "$WORK/console.log"
hmp() { # LOG CMD...
  local log=$1 c; shift
  exec 4<>"/dev/tcp/127.0.0.1/$MONPORT" || return 1
  cat <&4 >> "$log" &
  local reader=$!
  for c in "$@"; do echo "$c" >&4; sleep 0.3; done
  exec 4>&-; kill "$reader" 2>/dev/null || true; wait "$reader" 2>/dev/null || true
}
burst() { # PHASE
  local t0 t1 i x y b n=$MOVES log="$WORK/monitor-$1.log"
  hmp "$log" "info mice"
  local id; id=$(tr -d '\r' < "$log" | sed -n 's/^.*Mouse #\([0-9]*\): .*Tablet.*/\1/p' | tail -1)
  [ -n "$id" ] && hmp "$log" "mouse_set $id" "info mice"
  echo "== host: $1: $(tr -d '\r' < "$log" | grep -a "Mouse #" | tail -2 | sed 's/^[^*M]*//' | tr '\n' ';')" >> "$WORK/host.log"
  exec 3<>"/dev/tcp/127.0.0.1/$QMPPORT" || { echo "== host: $1: no QMP" >> "$WORK/host.log"; return; }
  cat <&3 > "$WORK/qmp-$1.log" &
  local reader=$!
  echo '{"execute": "qmp_capabilities"}' >&3
  t0=$(date +%s.%N)
  for ((i = 0; i < n; i++)); do
    x=$((100 + 37 * (i % 800))); y=$((30000 - 31 * (i % 800)))
    b=wheel-up; [ $((i % 3)) = 2 ] && b=wheel-down
    echo "{\"execute\": \"input-send-event\", \"arguments\": {\"events\": [{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": $x}}, {\"type\": \"abs\", \"data\": {\"axis\": \"y\", \"value\": $y}}, {\"type\": \"btn\", \"data\": {\"button\": \"$b\", \"down\": true}}, {\"type\": \"btn\", \"data\": {\"button\": \"$b\", \"down\": false}}]}}" >&3
    sleep "$DELAY"
  done
  t1=$(date +%s.%N)
  sleep 1; exec 3>&-; kill "$reader" 2>/dev/null || true
  echo "== host: $1: $n moves sent in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, $(($(grep -c '"return"' "$WORK/qmp-$1.log") - 1)) accepted" >> "$WORK/host.log"
}
# The guest's "== usb: do X": X on the monitor (H: the tablet unplugged
# and plugged back).
act() { # WHAT
  for _ in $(seq 1200); do tr -d '\r' < "$WORK/console.log" | grep "^== usb: do $1$" > /dev/null && break; sleep 0.25; done
  tr -d '\r' < "$WORK/console.log" | grep "^== usb: do $1$" > /dev/null || return 1
  case $1 in
    unplug*) hmp "$WORK/monitor-H.log" "device_del tablet" ;;
    plug*) hmp "$WORK/monitor-H.log" "device_add usb-tablet,id=tablet,bus=uhci.0,port=2" ;;
  esac
  echo "== host: H: $1 done" >> "$WORK/host.log"
}
(
  for p in $PHASES; do
    [ "$p" = A ] || [ "$p" = B ] || continue
    for _ in $(seq 1200); do tr -d '\r' < "$WORK/console.log" | grep "^== usb: ready $p" > /dev/null && break; sleep 0.25; done
    tr -d '\r' < "$WORK/console.log" | grep "^== usb: ready $p" > /dev/null && burst "$p"
  done
  if phase B; then act unplug1 && act plug1 && act unplug2 && act plug2; fi
) &
monitor=$!
timeout "${VM_TIMEOUT:-300}" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot -nic none -machine pc,vmport=off \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -device piix3-usb-uhci,id=uhci \
  -drive if=none,id=usbdisk,format=raw,readonly=on,file="$WORK/disk.img" \
  -device usb-storage,bus=uhci.0,port=1,drive=usbdisk \
  -device usb-tablet,id=tablet,bus=uhci.0,port=2 \
  -monitor "tcp:127.0.0.1:$MONPORT,server,nowait" \
  -qmp "tcp:127.0.0.1:$QMPPORT,server,nowait" > "$WORK/console.log" 2>&1 || true
kill "$monitor" 2>/dev/null || true
wait

tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
grep -aE "^(== |  )" "$WORK/c.log" || true
cat "$WORK/host.log" 2>/dev/null || true
echo "== host: disk $DISK_MB MiB, sha256 $DISK_SHA"
ok=1
fail() { echo "FAILED: $*"; ok=0; }
has() { grep -qaE "$1" "$WORK/c.log" || fail "$2"; }
line() { sed -n "s|^== $1||p" "$WORK/c.log" | sed -n 1p; }
ws=0; for ((i = 0; i < MOVES; i++)); do [ $((i % 3)) = 2 ] && ws=$((ws - 1)) || ws=$((ws + 1)); done
tablet_ok="reports [0-9]+ moves $MOVES of $MOVES merged [0-9]+ gaps 0 wheel $ws \(expected $ws\) \(ybad 0, wheelbad 0, keys [0-9]+, dropped 0,"
median() { line "$1 throughput KB/s:" | awk '{ print $NF }'; }
for p in $PHASES; do
  [ "$p" = A ] || [ "$p" = B ] || continue
  [ "$p" = B ] && grep -q "^== B: aborted: " "$WORK/c.log" && continue
  grep -q "^== host: $p: $MOVES moves sent.* $MOVES accepted" "$WORK/host.log" 2>/dev/null || \
    fail "$p: the host's QMP did not take the burst ($(sed -n "s/^== host: $p: \([0-9]* moves.*\)/\1/p" "$WORK/host.log"))"
  grep -q "^== host: $p: .*\* Mouse #[0-9]*: QEMU HID Tablet" "$WORK/host.log" 2>/dev/null || fail "$p: mouse_set did not make the tablet the current mouse"
  has "^== $p tablet: $tablet_ok" "$p: tablet: expected \"moves $MOVES of $MOVES ... gaps 0 wheel $ws (expected $ws) (ybad 0, wheelbad 0, ... dropped 0\", got \"$(line "$p tablet: ")\""
  has "^== $p enumerated in [0-9]+ ms: sda $((DISK_MB * 2048)) sectors" "$p: no disk of $((DISK_MB * 2048)) sectors"
  has "^== $p enumerated in .*tablet /dev/input/event[0-9]+" "$p: no tablet input device"
  has "^== $p dd exit 0:" "$p: dd of the whole disk failed: $(line "$p dd exit")"
  has "^== $p sha256 $DISK_SHA$" "$p: the disk read back as $(line "$p sha256 "), not $DISK_SHA"
  has "^== $p I/O errors: 0 " "$p: I/O errors: $(line "$p I/O errors: ")"
  m=$(median "$p"); [[ "$m" =~ ^[0-9]+$ ]] && [ "$m" -gt 0 ] || fail "$p: no throughput figure ($(line "$p throughput KB/s:"))"
done
if phase A; then
  has "^== A: controller driver uhci_hcd" "A: uhci-hcd did not bind the controller"
  has "^== A: rmmod uhci-hcd ok, controller driver none" "A: uhci-hcd did not let the controller go"
  has "^== A: after rmmod: sda gone" "A: the disk stayed after rmmod uhci-hcd"
fi
if phase B && grep -q "^== B: aborted: " "$WORK/c.log"; then
  fail "B: $(line "B: aborted: ")"
  ok=0
elif phase B; then
  has "^== B: insmod drvnucleus ok" "B: insmod drvnucleus.ko"
  has "^== B: controller driver drvnucleus" "B: the controller not bound to drvnucleus (Bind=yes)"
  has "^== B: uhci active" "B: the uhci u-driver never became active"
  has "^== B: u-driver [0-9]+ SIGKILLed at move" "B: the SIGKILL"
  has "^== B: recovered from the kill" "B: no recovery from the SIGKILL within 30 s"
  has "^== B: hang injected at move" "B: the hang injection"
  has "^== B: recovered from the hang" "B: no recovery from the hang within 30 s"
  has "^== B restarts: 2$" "B: expected 2 restarts, got $(line "B restarts: ")"
  has "^== B status after: .* restarts:2 state:active" "B: drvctl status does not show 2 restarts and active: $(line "B status after: " | grep -oE "restarts:[0-9]+ state:[a-z]+")"
  has "^== B I/O errors: 0 disconnects: 0 " "B: the faults showed in the kernel log: $(line "B I/O errors: ")"
  bb=$(line "B devices: "); ba=$(line "B devices after: ")
  [ -n "$bb" ] && [ "$bb" = "$ba" ] || fail "B: the devices changed across the faults: before \"$bb\", after \"$ba\""
  case "$(line "B: hang injected at move")" in *"dd running"*) ;; *)
    echo "NOTE: B: the read had ended before the hang was injected (FAULT_AT=$FAULT_AT, DISK_MB=$DISK_MB): $(line "B: hang injected at move")";; esac
  case "$(line "B: u-driver [0-9]* SIGKILLed at move")" in *"dd running"*) ;; *)
    fail "B: the read had ended before the SIGKILL";; esac
  has "^== B history: .*recovered crash" "B: no recovered crash in the history"
  has "^== B history: .*recovered (heartbeat|timeout)" "B: no recovered hang in the history"
  if phase A; then
    # QEMU's HID queue folds moves the guest has not polled yet into one
    # report (evread counts them merged, not lost); more of them in B means
    # the tablet's interrupt URB was late during the faults.
    ma=$(line "A tablet: " | sed -n 's/.* merged \([0-9]*\) .*/\1/p'); mb=$(line "B tablet: " | sed -n 's/.* merged \([0-9]*\) .*/\1/p')
    [ -n "$ma" ] && [ -n "$mb" ] && [ "$mb" -gt "$ma" ] && echo "NOTE: B: $mb tablet moves folded into later reports by QEMU (A: $ma): the guest polled late"
    a=$(median A); b=$(median B)
    [[ "$a" =~ ^[0-9]+$ && "$b" =~ ^[0-9]+$ ]] && [ "$a" -gt 0 ] && \
      echo "== host: read throughput median: stock uhci-hcd $a KB/s, drvnucleus + uhci $b KB/s, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
    [ "$(line "A devices: " | sed 's/=[0-9]*\//=/g')" = "$(line "B devices: " | sed 's/=[0-9]*\//=/g')" ] || \
      echo "NOTE: the devices' numbers differ between A and B: \"$(line "A devices: ")\" / \"$bb\""
  fi
  x=$(line "B xpc: ")
  if [[ "$x" =~ ^idle\ [0-9]+\ messages\ in\ [1-9][0-9]*\ ms\;\ dd\ [0-9]+\ messages\ in\ [1-9][0-9]*\ ms$ ]]; then
    echo "== host: B: XPC messages: $x ($(awk -v s="$x" 'BEGIN { split(s, w, " "); printf "%.1f/s idle, %.1f/s under dd", w[2] / w[5] * 1000, w[8] / w[11] * 1000 }'))"
    # The data path is the nucleus's: reads should add next to nothing to
    # the root-hub polling's messages.
    awk -v s="$x" 'BEGIN { split(s, w, " "); exit !(w[8] / w[11] > 2 * w[2] / w[5] + 1 / 1000) }' && \
      echo "NOTE: B: reads more than doubled the XPC messages' rate: the data path crosses the kernel hop"
  else
    fail "B: no XPC message counts (\"$x\")"
  fi
  if [ -z "${B_FSBR:-}" ] || [ "${B_FSBR:-}" = auto ]; then
    has "^== B fsbr after the reads: fsbr:auto fsbrActive:false fsbrOns:[1-9][0-9]* $" \
      "B: auto FSBR should have looped during the reads and be off after them: $(line "B fsbr after the reads: ")"
  fi
  for r in 1 2; do
    has "^== H$r: tablet [0-9]+ unplugged: yes" "H$r: the unplugged tablet was not seen gone ($(line "H$r: tablet "))"
    has "^== H$r: tablet plugged back as device [0-9]+ .*input input[0-9]+$" "H$r: the tablet plugged back was not enumerated ($(line "H$r: tablet plugged"))"
  done
  has "^== H2: recovered from the hang" "H2: no recovery from the hang"
  has "^== H4: port 2 disabled with no daemon: rc 1 \(Broken pipe\) after [0-9]+ ms" "H4: a root-hub request with no daemon was not held for the next one and answered EPIPE: $(line "H4: port 2 disabled")"
  has "^== H4: uhci active under the new drivermgrd" "H4: uhci not active under the restarted drivermgrd"
  has "^== H3: port 2 disabled during the hang: rc 1 \(Broken pipe\) after [0-9]+ ms, recoveries 4$" "H3: a root-hub request during the hang was not answered (EPIPE, as uhci-hub.c) by the recovered u-driver: $(line "H3: port 2 disabled")"
  dh=$(line "H: disk device ")
  [[ "$dh" =~ ^([0-9]+)\ -\>\ ([0-9]+)\;\ disconnects:\ 2, ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || \
    fail "H: the disk must keep its number and only the tablet disconnect, twice: \"$dh\""
  has "^== Q: uhci failed" "Q: a crash storm past StartLimitBurst=5 did not end failed"
  has "^== Q: sda gone" "Q: the disk stayed after the driver failed"
  has "^== B: controller driver after drivermgrd stopped: uhci_hcd" "B: ReleaseOnExit=yes did not give the controller back to uhci-hcd"
  has "^== B: rmmod drvnucleus ok" "B: rmmod drvnucleus"
fi
has "^== dmesg clean$" "the kernel complained (BUG/WARNING/Oops/refcount/Call Trace)"
echo "== runtime: $(( $(date +%s) - t_start )) s"
if [ "$ok" = 1 ]; then echo "usb guest test: ok"; else
  echo "usb guest test: FAILED; console:"
  # The phase H lines first (the last 40 are of a later phase).
  grep -a "^== H" "$WORK/c.log" | tail -40
  tail -40 "$WORK/c.log"; exit 1; fi
