#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# One configuration for two identical NICs on the kernel path: Debian's
# kernel under QEMU (TCG) with two rtl8139s, each on its own user-mode
# network, drvnucleus.ko, and drivermgrd with a template,
# drivers.d/rtl8139@.conf, and no other driver. Each NIC gets an instance
# named after its PCI function, its own u-driver and netdev; pings go
# through both; a SIGKILL of one instance's u-driver in the middle of echo
# streams through both loses nothing on either and leaves the other
# instance alone; a reload of a changed template reconfigures both; a
# SIGKILL of drivermgrd itself (run with --fd-store under fdstore, as
# systemd runs it) in the middle of echo streams: the next daemon takes
# both instances' u-drivers over, nothing lost; a reload without the
# template removes both; then rmmod with 0 DMA objects and dmesg clean.
#
# usage: Tests/vm/template-guest.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
WORK=$(mktemp -d /tmp/drvnucleus-template.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# make check runs guests side by side: one Kbuild in module/ at a time.
flock "$ROOT/module" make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
gcc -static -O2 -Wall -o "$WORK/fdstore" "$ROOT/Sources/fdstore/fdstore.c"

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/stock"
cp /bin/busybox "$WORK/root/bin/busybox"
cp "$ROOT/module/drvnucleus.ko" "$WORK/nucleus-client" "$WORK/fdstore" "$WORK/root/"
# drvnucleus.ko links against ALSA's and USB's cores (Debian builds both
# as modules).
for m in sound/soundcore sound/core/snd sound/core/snd-timer sound/core/snd-pcm \
         drivers/usb/common/usb-common drivers/usb/core/usbcore; do
  cp "/lib/modules/$KVER/kernel/$m.ko" "$WORK/root/stock/"
done
BIN=$(cd "$ROOT" && swift build --show-bin-path)
mkdir -p "$WORK/root$BIN" "$WORK/root/etc/drivermgrd/drivers.d"
guest_install "$WORK/root" "$BIN/drivermgrd" "$BIN/drvctl" "$BIN/rtl8139"
# The admin's one file for every RTL8139 (README: templates).
cat > "$WORK/root/etc/drivermgrd/drivers.d/rtl8139@.conf" <<CONF
[Driver]
Class=net
Match=pci:10ec:8139
Executable=rtl8139
[Recovery]
# TCG is slow: upcalls get a deadline a real machine would not need.
XPCTimeoutSec=1s
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF

guest_init_head > "$WORK/root/init"
cat >> "$WORK/root/init" <<INIT
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
ctl=$BIN/drvctl
for m in soundcore snd snd-timer snd-pcm usb-common usbcore; do insmod /stock/\$m.ko; done
insmod /drvnucleus.ko ids=10ec:8139 && echo "== insmod ok"
# As systemd runs it: --fd-store under /fdstore (Restart=always and the
# file-descriptor store, which this guest lacks).
/fdstore /tmp/notify /tmp/drivermgrd.pid $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd \\
  --runtime-dir /tmp/run --driver-dir $BIN --fd-store > /tmp/d.log 2>&1 &
fdstore=\$!
active() { [ "\$(\$ctl list --no-legend 2>/dev/null | grep -cE '^rtl8139@[0-9a-f:.]+ .* active ')" = 2 ]; }
for i in \$(seq 120); do active && break; sleep 0.5; done
\$ctl list --no-legend | sed 's/^/== list: /'
# QEMU's -device order is the slots' order: NIC k on 10.0.(k+1).0/24.
slots=\$(for d in /sys/bus/pci/devices/*; do [ "\$(cat \$d/vendor):\$(cat \$d/device)" = 0x10ec:0x8139 ] && basename \$d; done | sort)
k=0
for s in \$slots; do
  k=\$((k + 1))
  ifc=\$(ls /sys/bus/pci/devices/\$s/net 2>/dev/null | head -1)
  echo "== nic \$k: \$s, instance rtl8139@\$s, interface \$ifc, chip \$(\$ctl show rtl8139@\$s -p Chip --value)"
  ip link set "\$ifc" up; ip addr add 10.0.\$((k + 1)).15/24 dev "\$ifc"
  for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
  /nucleus-client echo 10.0.\$((k + 1)).2 3 1000 3 | sed "s/^/== nic \$k ping: /"
done
first=\$(echo \$slots | cut -d' ' -f1); second=\$(echo \$slots | cut -d' ' -f2)
pid_of() { \$ctl list --no-legend | awk -v n="rtl8139@\$1" '\$1 == n { print \$5 }'; }
pids_before="\$(pid_of \$first) \$(pid_of \$second)"
# Echo streams through both (5 s at 100 a second), the first instance's
# u-driver killed one second in.
/nucleus-client echo 10.0.2.2 500 10 3 > /tmp/s1 2>&1 &
p1=\$!
/nucleus-client echo 10.0.3.2 500 10 3 > /tmp/s2 2>&1 &
p2=\$!
sleep 1
kill -9 \$(pid_of \$first)
wait \$p1 \$p2
for i in \$(seq 40); do active && break; sleep 0.5; done
echo "== nic 1 during the kill: \$(cat /tmp/s1)"
echo "== nic 2 during the kill: \$(cat /tmp/s2)"
echo "== restarts: nic 1 \$(\$ctl show rtl8139@\$first -p NRestarts --value), nic 2 \$(\$ctl show rtl8139@\$second -p NRestarts --value)"
echo "== pids: \$pids_before -> \$(pid_of \$first) \$(pid_of \$second)"
\$ctl history rtl8139@\$first | grep -oE "recovered .*" | head -1 | sed 's/^/== nic 1 history: /'
# A reload that changes the template (a drop-in) reconfigures both instances.
timeouts() { echo \$(\$ctl show rtl8139@\$first -p XPCTimeoutUSec --value) \$(\$ctl show rtl8139@\$second -p XPCTimeoutUSec --value); }
mkdir -p /etc/drivermgrd/drivers.d/rtl8139@.conf.d
printf '[Recovery]\nXPCTimeoutSec=2s\n' > /etc/drivermgrd/drivers.d/rtl8139@.conf.d/50-timeout.conf
killall -HUP drivermgrd
for i in \$(seq 40); do [ "\$(timeouts)" = "2000000 2000000" ] && active && break; sleep 0.5; done
echo "== after the reload: XPCTimeoutUSec \$(timeouts), \$(\$ctl list --no-legend | grep -c ' active ') active"
/nucleus-client echo 10.0.2.2 3 1000 3 | sed "s/^/== nic 1 after the reload: /"
/nucleus-client echo 10.0.3.2 3 1000 3 | sed "s/^/== nic 2 after the reload: /"
# drivermgrd itself SIGKILLed one second into echo streams through both:
# the next one (fdstore starts it 200 ms later) adopts both instances'
# u-drivers from the template, the same processes.
pids_before="\$(pid_of \$first) \$(pid_of \$second)"
daemon=\$(cat /tmp/drivermgrd.pid)
/nucleus-client echo 10.0.2.2 500 10 3 > /tmp/s1 2>&1 &
p1=\$!
/nucleus-client echo 10.0.3.2 500 10 3 > /tmp/s2 2>&1 &
p2=\$!
sleep 1
kill -9 \$daemon
wait \$p1 \$p2
for i in \$(seq 40); do [ "\$(cat /tmp/drivermgrd.pid)" != "\$daemon" ] && active && break; sleep 0.5; done
echo "== daemon kill: pid \$daemon -> \$(cat /tmp/drivermgrd.pid), \$(\$ctl list --no-legend | grep -c ' active ') active"
echo "== nic 1 during the daemon kill: \$(cat /tmp/s1)"
echo "== nic 2 during the daemon kill: \$(cat /tmp/s2)"
echo "== pids across the daemon kill: \$pids_before -> \$(pid_of \$first) \$(pid_of \$second)"
grep -o "took over [0-9]* of [0-9]* u-driver(s)" /tmp/d.log | tail -1 | sed 's/^/== /'
# Without the template, no instance.
rm -r /etc/drivermgrd/drivers.d/rtl8139@.conf /etc/drivermgrd/drivers.d/rtl8139@.conf.d
killall -HUP drivermgrd
for i in \$(seq 40); do [ -z "\$(\$ctl list --no-legend)" ] && break; sleep 0.5; done
echo "== without the template: \$(\$ctl list --no-legend | grep -c .) drivers, u-drivers left: \$(pidof rtl8139 | wc -w)"
echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log | tail -30
kill \$fdstore; sleep 1
rmmod drvnucleus && echo "== rmmod ok"
dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
INIT
guest_init_tail >> "$WORK/root/init"
guest_initrd "$WORK"

timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -netdev user,id=n1,net=10.0.2.0/24 -device rtl8139,netdev=n1 \
  -netdev user,id=n2,net=10.0.3.0/24 -device rtl8139,netdev=n2 > "$WORK/console.log" 2>&1 || true

tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
grep -E "^(== |  )" "$WORK/c.log" || true
ok=1
has() { grep -qE "$1" "$WORK/c.log" || { echo "FAILED: $2"; ok=0; }; }
has "== insmod ok" "insmod"
[ "$(grep -cE '^== list: rtl8139@0000:00:[0-9a-f]{2}\.[0-7] +net +0000:00:[0-9a-f]{2}\.[0-7] +active ' "$WORK/c.log")" = 2 ] \
  || { echo "FAILED: two instances of the template, each named after its device and active"; ok=0; }
for k in 1 2; do
  has "^== nic $k: (0000:00:[0-9a-f]{2}\.[0-7]), instance rtl8139@\1, interface [a-z0-9]+, chip RTL-8139" "nic $k: its instance, netdev and chip"
  has "^== nic $k ping: 3 echo requests sent, 3 replies received$" "nic $k: ping"
  has "^== nic $k during the kill: ([0-9]+) echo requests sent, \1 replies received$" "nic $k: echoes lost during the kill of nic 1's u-driver"
done
has "^== restarts: nic 1 1, nic 2 0$" "the kill restarted nic 1's instance alone"
has "^== pids: ([0-9]+) ([0-9]+) -> [0-9]+ \2$" "nic 2's u-driver untouched, nic 1's replaced"
has "^== nic 1 history: recovered " "nic 1's recovery in its history"
has "^== after the reload: XPCTimeoutUSec 2000000 2000000, 2 active$" "a reload of the changed template reconfigured both instances"
has "^== nic 1 after the reload: 3 echo requests sent, 3 replies received$" "nic 1: ping after the reload"
has "^== nic 2 after the reload: 3 echo requests sent, 3 replies received$" "nic 2: ping after the reload"
has "^== daemon kill: pid ([0-9]+) -> [0-9]+, 2 active$" "the next drivermgrd serving both instances"
grep -qE "^== daemon kill: pid ([0-9]+) -> \1," "$WORK/c.log" && { echo "FAILED: drivermgrd was not restarted"; ok=0; }
for k in 1 2; do
  has "^== nic $k during the daemon kill: ([0-9]+) echo requests sent, \1 replies received$" "nic $k: echoes lost during drivermgrd's kill"
done
has "^== pids across the daemon kill: ([0-9]+) ([0-9]+) -> \1 \2$" "both u-drivers taken over by the next drivermgrd (same pids)"
has "^== took over 2 of 2 u-driver\(s\)" "the next drivermgrd took both instances over"
has "^== without the template: 0 drivers, u-drivers left: 0$" "a reload without the template removed both instances"
has "^== rmmod ok" "rmmod"
has "^== drvnucleus: unloaded, 0 DMA objects live" "DMA objects left at rmmod"
has "^== dmesg clean$" "dmesg"
if [ "$ok" = 1 ]; then echo "template guest test: ok"; else
  echo "template guest test: FAILED; console:"; tail -40 "$WORK/c.log"; exit 1; fi
