#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The kernel path, for real: build drvnucleus.ko against Debian's headers,
# boot Debian's kernel in QEMU (TCG) with QEMU's rtl8139 and ES1370, load
# the module, run the genetlink client, then drivermgrd with the rtl8139
# and ens137x u-drivers: ping and aplay through the nucleus while the
# u-drivers are killed and hung (QEMU records the ES1370's output in a wav
# that wavtool checks), unload, and fail on any kernel complaint. Nothing autoloads the stock 8139cp/snd-ens1370 here (no udev in
# the busybox initramfs), so drvnucleus is what binds the devices.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
WORK=$(mktemp -d /tmp/drvnucleus-vm.XXXXXX)
# UDP streams through the microdriver and then the stock driver (measured,
# not asserted: the figures are bench-vm's).
UDP_ROUNDS=${UDP_ROUNDS:-1}
trap 'rm -rf "$WORK"' EXIT

# make check runs guests side by side: one Kbuild in module/ at a time.
flock "$ROOT/module" make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
gcc -static -O2 -Wall -o "$WORK/wavtool" "$ROOT/Tests/vm/wavtool.c" -lm
gcc -static -O2 -Wall -o "$WORK/fdstore" "$ROOT/Sources/fdstore/fdstore.c"

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp"
cp /bin/busybox "$WORK/root/bin/busybox"
cp "$ROOT/module/drvnucleus.ko" "$WORK/nucleus-client" "$WORK/wavtool" "$WORK/fdstore" "$WORK/root/"
# drvnucleus.ko needs ALSA's core (snd, snd-pcm): Debian builds it as modules.
mkdir -p "$WORK/root/snd"
for m in soundcore core/snd core/snd-timer core/snd-pcm; do
  cp "/lib/modules/$KVER/kernel/sound/$m.ko" "$WORK/root/snd/"
done
# and USB's core for the usb-host class (CONFIG_USB=m in Debian).
cp "/lib/modules/$KVER/kernel/drivers/usb/common/usb-common.ko" \
   "/lib/modules/$KVER/kernel/drivers/usb/core/usbcore.ko" "$WORK/root/snd/"
# The stock driver for the baseline: QEMU's rtl8139 is a C+ chip (rev 0x20),
# which 8139too refuses ("use 8139cp"), so the stock driver is 8139cp.
cp "/lib/modules/$KVER/kernel/drivers/net/mii.ko" \
   "/lib/modules/$KVER/kernel/drivers/net/ethernet/realtek/8139cp.ko" "$WORK/root/snd/"
# aplay and amixer with alsa-lib's configuration.
mkdir -p "$WORK/root/usr/share"
cp -r /usr/share/alsa "$WORK/root/usr/share/"

# drivermgrd, drvctl and the rtl8139 u-driver at their host paths, with the
# shared libraries they load (the Swift runtime, Foundation, libnl, glibc).
BIN=$(cd "$ROOT" && swift build --show-bin-path)
mkdir -p "$WORK/root$BIN"
guest_install "$WORK/root" "$BIN/drivermgrd" "$BIN/drvctl" "$BIN/rtl8139" "$BIN/ens137x" /usr/bin/aplay /usr/bin/amixer /usr/bin/chrt
mkdir -p "$WORK/root/etc/drivermgrd/drivers.d"
cat > "$WORK/root/etc/drivermgrd/drivers.d/rtl8139.conf" <<CONF
[Driver]
Name=rtl8139
Class=net
Match=pci:10ec:8139
Executable=rtl8139
[Recovery]
# TCG is slow, slower still on a loaded host: open's two dozen downcalls
# (and, with --fd-store, the state written at each DMA allocation) can
# take longer than the 250 ms a real machine is given.
XPCTimeoutSec=1s
FaultInjection=yes
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF
cat > "$WORK/root/etc/drivermgrd/drivers.d/ens1370.conf" <<CONF
[Driver]
Name=ens1370
Class=sound
Match=pci:1274:5000
Executable=ens137x
[Recovery]
# TCG is slow: a chip-wide hw_params takes longer than on hardware.
XPCTimeoutSec=1s
FaultInjection=yes
[Sandbox]
Sandbox=yes
CONF
cat > "$WORK/root/daemon-test.sh" <<SH
#!/bin/sh
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
$BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN > /tmp/d.log 2>&1 &
sleep 8
echo "== drvctl list:"; $BIN/drvctl list --no-legend
# ip link set up: ndo_open upcalls the u-driver, which opens the chip and
# enables the nucleus's data path; then traffic to QEMU's user-net gateway.
ip link set eth0 up
sleep 4
# What crossed the kernel <-> daemon hop for the rtl8139 from its probe
# to the end of open (chip id, EEPROM MAC, netdev, rings, rx mode).
/nucleus-client bytes 10ec:8139 | sed 's/^/== rtl8139 probe+open /'
ip addr add 10.0.2.15/24 dev eth0
ip link show eth0 | sed 's/^/  /'
ping -c 5 -W 3 10.0.2.2 | sed 's/^/== ping: /'
for i in \$(seq $UDP_ROUNDS); do /nucleus-client udp 10.0.2.2 eth0 4 | sed 's/^/== microdriver /'; done
/nucleus-client rtt 10ec:8139 200 | sed 's/^/== rtl8139 /'
/nucleus-client rtt 1274:5000 200 | sed 's/^/== ens1370 /'
# Kill the u-driver in the middle of a ping stream: the nucleus keeps moving
# packets while drivermgrd recovers a fresh u-driver that reattaches.
ping -c 40 -i 0.1 -W 3 10.0.2.2 > /tmp/ping2 2>&1 &
sleep 1
kill -9 \$($BIN/drvctl list --no-legend | awk '\$1 == "rtl8139" { print \$5 }')
wait \$!
tail -2 /tmp/ping2 | sed 's/^/== ping during recovery: /'
echo "== drvctl list after the kill:"; $BIN/drvctl list --no-legend
# A hung u-driver (no CPU, no answers): found by the heartbeat, replaced.
ping -c 40 -i 0.1 -W 3 10.0.2.2 > /tmp/ping3 2>&1 &
sleep 1
$BIN/drvctl inject rtl8139 hang
wait \$!
tail -2 /tmp/ping3 | sed 's/^/== ping during hang recovery: /'
echo "== drvctl list after the hang:"; $BIN/drvctl list --no-legend
# A downcall outside the BAR: refused by the broker (bad-parameter), the
# u-driver replaced, the pings answered throughout.
ping -c 30 -i 0.1 -W 3 10.0.2.2 > /tmp/ping4 2>&1 &
sleep 1
$BIN/drvctl inject rtl8139 bad-param
wait \$!
tail -2 /tmp/ping4 | sed 's/^/== ping during bad-param recovery: /'
echo "== drvctl list after bad-param:"; $BIN/drvctl list --no-legend
$BIN/drvctl history rtl8139 | grep -E "failure|recovered" | sed 's/^/== history: /'
ip link show eth0 | sed 's/^/  /'
# rtl8139's status field \$1 ("name":"value") once \$2 says so of it (up to
# 20 s: the rx mode reaches the chip through an upcall, which a loaded
# host's TCG can hold back for seconds); the last value read if never.
field() { $BIN/drvctl status rtl8139 --json=short | grep -o "\"\$1\":\"[^\"]*\""; }
await() { for _ in \$(seq 40); do v=\$(field \$1); eval "\$2" && break; sleep 0.5; done; echo "\$v"; }
upid() { $BIN/drvctl list --no-legend | awk '\$1 == "rtl8139" { print \$5 }'; }
wait_active() { for _ in \$(seq 40); do $BIN/drvctl list --no-legend | grep -q "^rtl8139 .* active " && return; sleep 0.5; done; }
# promisc and allmulti: ndo_set_rx_mode → upcall → u-driver → RxConfig/MAR.
ip link set eth0 promisc on
await rxMode '[ "\$v" = "\\"rxMode\\":\\"promiscuous\\"" ]' | sed 's/^/== after promisc on: /'
# QEMU rewinds its receive ring when RxConfig is written; the nucleus
# follows the chip (CAPR) and keeps receiving.
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping in promisc mode: /'
ip link set eth0 promisc off
await rxMode '[ "\$v" = "\\"rxMode\\":\\"multicast\\"" ]' | sed 's/^/== after promisc off: /'
# A multicast join: 239.1.2.3 = 01:00:5e:01:02:03, hash bit 57 of MAR0-7,
# held 8 s; the filter is read once it changed, and again once it is
# back to what it was (the checks on the host look for bit 57).
before=\$(field multicastFilter)
/nucleus-client join 239.1.2.3 eth0 8 &
await multicastFilter '[ "\$v" != "\$before" ]' | sed 's/^/== after the join: /'
wait \$!
await multicastFilter '[ "\$v" = "\$before" ]' | sed 's/^/== after leaving: /'
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after the rx mode changes: /'
# set_mac: the stack takes the address, the u-driver writes IDR0-5.
ip link set eth0 address 52:54:00:12:34:99
await mac '[ "\$v" = "\\"mac\\":\\"52:54:00:12:34:99\\"" ]' | sed 's/^/== after set address: /'
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping with the new address: /'
# The configuration survives recovery: with the new address and a group
# joined, then in promisc mode, the u-driver is killed; the chip's IDR,
# RxConfig and MAR0-7 read the same after the new one has taken over.
# The group is held until the read (SIGTERM: the socket closes, the
# stack leaves it).
/nucleus-client join 239.1.2.3 eth0 60 &
joiner=\$!
await multicastFilter '[ "\$v" != "\$before" ]' > /dev/null
kill -9 \$(upid)
sleep 1
wait_active
$BIN/drvctl status rtl8139 --json=short | grep -oE '"(mac|rxMode|multicastFilter)":"[^"]*"' | tr '\n' ' ' | sed 's/^/== config after a kill: /'; echo
kill \$joiner; wait \$joiner
ip link set eth0 promisc on
await rxMode '[ "\$v" = "\\"rxMode\\":\\"promiscuous\\"" ]' > /dev/null
kill -9 \$(upid)
sleep 1
wait_active
$BIN/drvctl status rtl8139 --json=short | grep -oE '"rxMode":"[^"]*"' | sed 's/^/== promisc after a kill: /'
ip link set eth0 promisc off
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after two more kills: /'
ip link set eth0 address 52:54:00:12:34:56
sleep 1
# The link: QEMU's monitor takes the cable out and puts it back (the host
# side of this script watches for these lines); the chip's link-change
# interrupt sends the u-driver to the MII, which reports the carrier.
echo "== unplug the cable"
for i in \$(seq 24); do [ "\$(cat /sys/class/net/eth0/carrier)" = 0 ] && break; sleep 0.5; done
echo "== carrier with the cable out: \$(cat /sys/class/net/eth0/carrier)"
echo "== plug the cable in"
for i in \$(seq 24); do [ "\$(cat /sys/class/net/eth0/carrier)" = 1 ] && break; sleep 0.5; done
echo "== carrier with the cable in: \$(cat /sys/class/net/eth0/carrier)"
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after the cable: /'
echo "== drvctl status:"; $BIN/drvctl status rtl8139
# Sound: the ES1370's card, registered by the ens137x u-driver's downcall.
aplay -l | grep -E "^card" | sed 's/^/== aplay -l: /'
amixer -c 0 cset name='Master Playback Volume' 60 | grep -E ": values=" | sed 's/^/== master set: /'
# Each tone ends with 0.75 s of silence, more than aplay's 0.5 s buffer: a
# drain's last period interrupt comes late on a loaded host (QEMU's audio
# timer moves the DAC in bursts), and until the nucleus stops the DAC it
# plays on into the ring - the tone's samples of one buffer before, a
# stale stretch that wavtool counted as a glitch of the tone (a CI run:
# "997 Hz: 3.036 s, 1 glitches, gap 0.0 ms", no underrun, the hang's
# recovery at the tone's end). The stock snd-ens1370 on kernel 6.1 does
# the same (6.5 added drain silencing); now the ring holds silence there.
/wavtool gen /tmp/t1.wav 501 3 44100 0.75; /wavtool gen /tmp/t2.wav 749 3 44100 0.75; /wavtool gen /tmp/t3.wav 997 3 44100 0.75
# aplay runs SCHED_FIFO, as desktop audio servers do (rtkit): on a loaded
# host the TCG guest's vCPUs are slow, and a recovery's spawns compete with
# aplay for them. aplay's stderr (its underruns) is shown.
# Baseline: a tone with nothing else going on.
# What the kernel hop carries for sound, from the nucleus's counters: the
# probe and the card so far (and the mixer set above), one aplay of
# silence (open, hw_params, prepare and close upcalls with their
# downcalls), then the 3 s tone (the same, and periods that never cross).
sndx() { /nucleus-client bytes 1274:5000 | awk '{ print \$2, \$5 }'; }
/wavtool gen /tmp/quiet.wav 501 0 44100 0.2
set -- \$(sndx); b0=\$1; m0=\$2
aplay -q -D hw:0,0 /tmp/quiet.wav
set -- \$(sndx); b1=\$1; m1=\$2
echo "== ens1370 probe, card and a mixer set: \$b0 B in \$m0 messages"
echo "== ens1370 one aplay's stream setup and teardown: \$((b1 - b0)) B in \$((m1 - m0)) messages"
chrt -f 10 aplay -q -D hw:0,0 /tmp/t1.wav 2>> /tmp/aplay.err && echo "== aplay baseline ok"
set -- \$(sndx)
echo "== ens1370 a 3 s tone, its setup included: \$((\$1 - b1)) B in \$((\$2 - m1)) messages"
# SIGKILL of the u-driver one second into the tone; a mixer change while
# it recovers is queued by the shadow and applied by the new u-driver.
chrt -f 10 aplay -q -D hw:0,0 /tmp/t2.wav 2>> /tmp/aplay.err &
sleep 1
kill -9 \$($BIN/drvctl list --no-legend | awk '\$1 == "ens1370" { print \$5 }')
amixer -c 0 cset name='PCM Playback Volume' 80 > /dev/null && echo "== pcm volume set during recovery"
wait \$! && echo "== aplay through the kill ok"
# A hung u-driver during playback: found by the heartbeat, replaced.
chrt -f 10 aplay -q -D hw:0,0 /tmp/t3.wav 2>> /tmp/aplay.err &
sleep 1
$BIN/drvctl inject ens1370 hang
wait \$! && echo "== aplay through the hang ok"
sed 's/^/== aplay stderr: /' /tmp/aplay.err; : > /tmp/aplay.err
amixer -c 0 cget name='Master Playback Volume' | grep -E ": values=" | sed 's/^/== master after recovery: /'
amixer -c 0 cget name='PCM Playback Volume' | grep -E ": values=" | sed 's/^/== pcm after recovery: /'
# A malformed message from the u-driver: a protocol failure.
$BIN/drvctl inject ens1370 garbage
sleep 2
$BIN/drvctl list --no-legend | grep ens1370 | sed 's/^/== sound: /'
$BIN/drvctl history ens1370 | grep -E "failure|recovered" | sed 's/^/== sound history: /'
$BIN/drvctl status ens1370 --json=short | grep -o '"sampleRate":[0-9]*' | sed 's/^/== sound status: /'
# A crash storm past StartLimitBurst during playback: drivermgrd gives up,
# the nucleus quiesces the device (DAC and stream stopped, aplay told).
/wavtool gen /tmp/t4.wav 1301 40 44100
aplay -q -D hw:0,0 /tmp/t4.wav 2> /tmp/aplay4 &
sleep 1
# A crash each time it is active again, up to 60 s (a loaded host's TCG
# makes a recovery take seconds; a fixed number of tries could end first).
end=\$((\$(date +%s) + 60))
while [ "\$(date +%s)" -lt "\$end" ]; do
  st=\$($BIN/drvctl list --no-legend | awk '\$1 == "ens1370" { print \$4 }')
  [ "\$st" = failed ] && break
  [ "\$st" = active ] && $BIN/drvctl inject ens1370 crash > /dev/null 2>&1
  sleep 0.3
done
wait \$! || echo "== aplay stopped by the quiesce: \$(head -1 /tmp/aplay4)"
$BIN/drvctl list --no-legend | grep ens1370 | sed 's/^/== after the storm: /'
dmesg | grep -o "quiesced: .*" | sed 's/^/== nucleus /'
echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log
# The daemon and the u-driver stay up: init unloads the module under them.
SH
cat > "$WORK/root/daemon-stop.sh" <<SH
#!/bin/sh
killall drivermgrd 2>/dev/null
sleep 1
echo "== daemon stopped"
# No daemon: the nucleus answers upcalls itself, with EAGAIN, at once.
amixer -c 0 cget name='Master Playback Volume' 2>&1 | grep -q "Resource temporarily unavailable" && echo "== mixer without a daemon: EAGAIN"
# A daemon that never answers: the upcall's deadline (upcall_timeout_ms,
# 3 s) passes and the nucleus answers EAGAIN itself.
/nucleus-client mute 8 | sed 's/^/== /' &
sleep 1
t0=\$(cut -d. -f1 /proc/uptime)
amixer -c 0 cget name='Master Playback Volume' 2>&1 | grep -q "Resource temporarily unavailable" && \
  echo "== mixer with a mute daemon: EAGAIN after \$(( \$(cut -d. -f1 /proc/uptime) - t0 )) s"
wait
# The nucleus keeps eth0 running without a daemon.  A test program takes
# the daemon's place and holds the RTL8139's ComboLock in user mode, 20 ms
# at a time, while pings cross: the data path defers (interrupt line held
# off, queue stopped, NAPI parked) and resumes at each release.
# The stream outlasts the holds: busybox ping waits only about a second
# (twice its slowest reply, rounded up) for the replies after its last
# request, so a stream that ended inside a TCG stall would miscount replies
# still on their way as lost.
# What counts is what the stack received (its ICMP counters, read after a
# grace period), not ping's tally, which gives up on late replies.
icmp() { awk -v want="\$1" '/^Icmp:/ { if (!h) { for (i = 2; i <= NF; i++) col[\$i] = i; h = 1 } else print \$col[want] }' /proc/net/snmp; }
o0=\$(icmp OutEchos); r0=\$(icmp InEchoReps)
ping -c 100 -i 0.05 -W 3 10.0.2.2 > /tmp/ping5 2>&1 &
/nucleus-client combo 10ec:8139 60 20000 | sed 's/^/== /'
wait \$!
sleep 3
echo "== ping while downcalls hold the ComboLock: \$(( \$(icmp OutEchos) - o0 )) echo requests sent, \$(( \$(icmp InEchoReps) - r0 )) replies received"
tail -2 /tmp/ping5 | sed 's/^/== ping tally while downcalls hold the ComboLock: /'
if dmesg | grep -E "BUG|Oops|WARNING|Call Trace"; then echo "== dmesg: the kernel complained"; else echo "== dmesg clean"; fi
# A transmit timeout: the test program (as the daemon) switches the
# transmitter off; pings pile up, the stack's watchdog fires after 6 s
# (with its own NETDEV WATCHDOG warning), the nucleus drops the ring and
# upcalls NET_TX_TIMEOUT; the program restarts the chip as the u-driver
# would and the pings get through again.
ping -c 40 -i 0.5 -W 2 10.0.2.2 > /tmp/ping6 2>&1 &
/nucleus-client txtimeout 10ec:8139 | sed 's/^/== /'
wait \$!
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after the tx timeout: /'
dmesg | grep -o "transmit timed out; .*" | sed 's/^/== nucleus: /'
SH
cat > "$WORK/root/daemon-start.sh" <<SH
#!/bin/sh
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
# This time as systemd runs it: --fd-store, under /fdstore (systemd's
# Restart=always and file-descriptor store, which this guest lacks), and
# --nucleus auto, started before the module is loaded: it must take the
# module once it is there.
/fdstore /tmp/notify /tmp/drivermgrd.pid $BIN/drivermgrd --nucleus auto --config /etc/drivermgrd \\
  --runtime-dir /tmp/run --driver-dir $BIN --fd-store > /tmp/d2.log 2>&1 &
sleep 3
grep -q "waiting for drvnucleus.ko" /tmp/d2.log && echo "== daemon before the module: waiting"
insmod /drvnucleus.ko ids=10ec:8139,1274:5000,10ec:8029,1022:2000,8086:100e
active() { [ "\$($BIN/drvctl list --no-legend 2>/dev/null | grep -c ' active ')" = 2 ]; }
for i in \$(seq 40); do active && break; sleep 0.5; done
grep -o "connected to drvnucleus.ko (generic netlink)" /tmp/d2.log | head -1 | sed 's/^/== auto: /'
$BIN/drvctl list --no-legend | sed 's/^/== restarted: /'
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
ping -c 3 -W 3 10.0.2.2 > /dev/null
# drivermgrd's own crash, on the kernel path: SIGKILL during a ping stream
# and a tone. The u-drivers run on (same pids, not restarted), the nucleus
# carries packets and audio, the next daemon adopts them.
$BIN/drvctl history rtl8139 | sed 's/^/== before the kill of the daemon: /'
grep -E 'rtl8139|NET_OPEN' /tmp/d2.log | tail -40 | sed 's/^/== d2: /'
pids_before=\$($BIN/drvctl list --no-legend | awk '{ printf "%s=%s/%s ", \$1, \$5, \$NF }')
/wavtool gen /tmp/t5.wav 1103 3 44100 0.75
ping -c 30 -i 0.1 -W 3 10.0.2.2 > /tmp/ping7 2>&1 &
pinger=\$!
chrt -f 10 aplay -q -D hw:0,0 /tmp/t5.wav 2>> /tmp/aplay.err &
sleep 1
daemon=\$(cat /tmp/drivermgrd.pid)
kill -9 \$daemon
wait \$! && echo "== aplay through the daemon's SIGKILL ok"
sed 's/^/== aplay stderr (daemon kill): /' /tmp/aplay.err
wait \$pinger
for i in \$(seq 40); do [ "\$(cat /tmp/drivermgrd.pid)" != "\$daemon" ] && active && break; sleep 0.5; done
tail -2 /tmp/ping7 | head -1 | sed "s/^/== ping through the daemon's SIGKILL: /"
echo "== u-drivers across the daemon's SIGKILL: \$pids_before-> \$($BIN/drvctl list --no-legend | awk '{ printf "%s=%s/%s ", \$1, \$5, \$NF }')"
grep -o "took over [0-9] of [0-9] u-driver(s)" /tmp/d2.log | sed 's/^/== /'
grep -c "probed" /tmp/d2.log | sed 's/^/== probes logged (both daemons): /'
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after the adoption: /'
amixer -c 0 cset name='Master Playback Volume' 50 > /dev/null && echo "== mixer through the adopted u-driver ok"
# An upcall in flight when the daemon dies is answered once. What one
# \`amixer cset\` costs at the nucleus first; then the u-driver is stopped
# before it reads the next one, the daemon passes that on and dies, the
# u-driver serves it into the channel /fdstore holds, and the nucleus sends
# it again to the next daemon: the u-driver answers that from its cache.
msgs() { /nucleus-client bytes 1274:5000 | awk '{ print \$5 }'; }
master() { amixer -c 0 cget name='Master Playback Volume' | sed -n 's/^ *: values=//p'; }
amixer -c 0 cset name='Master Playback Volume' 20 > /dev/null
echo "== mixer at 20 %: \$(master)"
m0=\$(msgs)
amixer -c 0 cset name='Master Playback Volume' 40 > /dev/null
m1=\$(msgs)
echo "== mixer at 40 %: \$(master)"
snd=\$($BIN/drvctl list --no-legend | awk '\$1 == "ens1370" { print \$5 }')
kill -STOP \$snd
amixer -c 0 cset name='Master Playback Volume' 20 > /tmp/eo.out 2>&1 &
mixer=\$!
sleep 0.3
daemon=\$(cat /tmp/drivermgrd.pid)
kill -9 \$daemon
kill -CONT \$snd
wait \$mixer && echo "== mixer across the daemon's SIGKILL ok"
for i in \$(seq 40); do [ "\$(cat /tmp/drivermgrd.pid)" != "\$daemon" ] && active && break; sleep 0.5; done
m2=\$(msgs)
# For the record, not checked: the upcall held across the kill is amixer's
# first read, which costs no downcall, so serving it twice would not show
# here (the host test, DaemonRestartTests, counts a put); the new daemon's
# REGISTER adds a DEVICE_ADD.
echo "== messages at the nucleus: one cset \$((m1 - m0)), the one across the kill \$((m2 - m1))"
dmesg | grep -o "[0-9]* unanswered upcall(s) sent again" | tail -1 | sed 's/^/== nucleus: /'
echo "== mixer after the kill (20 %): \$(master)"
grep -o "SND_MIXER_[A-Z]* (upcall [0-9]*) sent again after drivermgrd's restart: answered from the first time" /tmp/d2.log | tail -1 | sed 's/^/== u-driver: /'
echo "== ens1370 across that kill: \$snd -> \$($BIN/drvctl list --no-legend | awk '\$1 == "ens1370" { print \$5 }')"
SH
# Bind=: the stock driver has the NIC and drvnucleus, loaded without ids=,
# takes nothing by itself; drivermgrd with Bind=yes hands the NIC over
# (driver_override, unbind, drivers_probe) and `drvctl unbind` gives it back.
cat > "$WORK/root/bind-test.sh" <<SH
#!/bin/sh
nic=\$(basename \$(dirname \$(grep -l 0x8139 /sys/bus/pci/devices/*/device)))
holder() { basename "\$(readlink /sys/bus/pci/devices/\$nic/driver 2>/dev/null)" 2>/dev/null || echo none; }
insmod /drvnucleus.ko
sleep 1
echo "== bind: after insmod without ids= \$nic is \$(holder)'s"
mkdir -p /tmp/etc-bind/drivers.d
{ cat /etc/drivermgrd/drivers.d/rtl8139.conf; printf '\\n[Driver]\\nBind=yes\\n'; } > /tmp/etc-bind/drivers.d/rtl8139.conf
export DRIVERMGRD_RUNTIME_DIR=/tmp/runb
$BIN/drivermgrd --nucleus kernel --config /tmp/etc-bind --runtime-dir /tmp/runb --driver-dir $BIN > /tmp/db.log 2>&1 &
for i in \$(seq 40); do $BIN/drvctl list --no-legend 2>/dev/null | grep -q ' active ' && break; sleep 0.5; done
echo "== bind: with drivermgrd \$nic is \$(holder)'s, rtl8139 \$($BIN/drvctl is-active rtl8139)"
grep -o "\$nic → drvnucleus for rtl8139 (from [a-z0-9_]*)" /tmp/db.log | head -1 | sed 's/^/== bind: /'
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== bind: ping through drvnucleus: /'
$BIN/drvctl unbind rtl8139 | sed 's/^/== unbind: /'
sleep 1
echo "== bind: after drvctl unbind \$nic is \$(holder)'s, rtl8139 \$($BIN/drvctl is-active rtl8139)"
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0 2>/dev/null; sleep 3
ping -c 3 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== bind: ping through the stock driver again: /'
$BIN/drvctl start rtl8139 > /dev/null
for i in \$(seq 40); do [ "\$($BIN/drvctl is-active rtl8139)" = active ] && break; sleep 0.5; done
echo "== bind: drvctl start: \$nic is \$(holder)'s, rtl8139 \$($BIN/drvctl is-active rtl8139)"
# A reload whose Bind= no longer names the function gives it back.
mkdir -p /tmp/etc-bind/drivers.d/rtl8139.conf.d
printf '[Driver]\\nBind=no\\n' > /tmp/etc-bind/drivers.d/rtl8139.conf.d/50-off.conf
killall -HUP drivermgrd
for i in \$(seq 40); do grep -q "devices given back by" /tmp/db.log && break; sleep 0.5; done
grep -o "devices given back by [a-z0-9, ]*" /tmp/db.log | sed 's/^/== bind: reload: /'
echo "== bind: after the reload \$nic is \$(holder)'s, rtl8139 \$($BIN/drvctl is-active rtl8139)"
killall drivermgrd; sleep 1
SH
chmod +x "$WORK/root/daemon-test.sh" "$WORK/root/daemon-stop.sh" "$WORK/root/daemon-start.sh" "$WORK/root/bind-test.sh"
# init is written as is (a quoted here-document): what it needs from here, in files.
echo "$UDP_ROUNDS" > "$WORK/root/udp-rounds"
cat > "$WORK/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
# The checks read drvctl's tables plain: the serial console is a terminal
# with TERM=linux, where drvctl (like systemctl) would colour them.
export NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "== guest kernel $(uname -r)"
for m in soundcore snd snd-timer snd-pcm usb-common usbcore; do insmod /snd/$m.ko; done
if insmod /drvnucleus.ko ids=10ec:8139,1274:5000,10ec:8029,1022:2000,8086:100e; then echo "== insmod ok"; fi
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/driver" ] && echo "== $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") bound to $(basename "$(readlink "$d/driver")")"
done
# The mouse on the i8042's AUX port, for the client's check that a slow
# downcall on one device holds up no other; given back afterwards.
echo -n drvnucleus > /sys/bus/serio/devices/serio1/drvctl
/nucleus-client
echo -n none > /sys/bus/serio/devices/serio1/drvctl
/daemon-test.sh
# The card and eth0 stay registered when the daemon stops; then unload.
/daemon-stop.sh
if rmmod drvnucleus; then echo "== rmmod with the daemon stopped ok"; fi
dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
# Again with drivermgrd and both u-drivers running: unload under them.
# daemon-start.sh loads the module after starting the daemon.
/daemon-start.sh
if rmmod drvnucleus; then echo "== rmmod with the daemon running ok"; fi
dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
# The baseline in the same guest: the stock driver, the same stream.
killall fdstore; sleep 2
insmod /snd/mii.ko; insmod /snd/8139cp.ko
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 3
ping -c 2 -W 3 10.0.2.2 > /dev/null
for i in $(seq "$(cat /udp-rounds)"); do /nucleus-client udp 10.0.2.2 eth0 4 | sed 's/^/== stock 8139cp /'; done
/bind-test.sh

# The tx timeout's NETDEV WATCHDOG warning is the stack's; nothing else.
if dmesg | grep -E "BUG|Oops" || dmesg | grep "WARNING:" | grep -v dev_watchdog; then
  echo "== dmesg: the kernel complained"; else echo "== dmesg clean after the tx timeout"; fi
poweroff -f
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$WORK/initrd.gz"

# The QEMU monitor, for the link test: the guest asks on its console.
MONPORT=$((20000 + RANDOM % 20000))
(
  for cmd in "unplug the cable:set_link n0 off" "plug the cable in:set_link n0 on"; do
    for _ in $(seq 600); do grep -q "== ${cmd%%:*}" "$WORK/console.log" 2>/dev/null && break; sleep 0.5; done
    exec 3<>"/dev/tcp/127.0.0.1/$MONPORT" && { echo "${cmd#*:}" >&3; sleep 0.5; exec 3>&-; }
  done
) &
timeout 480 qemu-system-x86_64 -accel tcg -m 1536 -smp 2 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -netdev user,id=n0 -device rtl8139,netdev=n0 \
  -audiodev wav,id=snd0,path="$WORK/out.wav" -device ES1370,audiodev=snd0 \
  -monitor "tcp:127.0.0.1:$MONPORT,server,nowait" > "$WORK/console.log" 2>&1 || true
wait

grep -E "^(== |  |PASS|FAIL|fuzz|slow downcall|TxConfig|EEPROM|RxBuf|[0-9]+ passed|rtl8139 |\{|.*drvnucleus)" "$WORK/console.log" | tr -d '\r' || true
ok=1
# A check that fails says which: this script's line, and its text.
failed() {
  echo "FAILED: $0:$1: $(sed -n "$1p" "$0" | sed 's/^[[:space:]]*//' | cut -c1-200)"
  ok=0
}
grep -q "== daemon before the module: waiting" "$WORK/console.log" || failed $LINENO
grep -q "== auto: connected to drvnucleus.ko (generic netlink)" "$WORK/console.log" || failed $LINENO
grep -q "== insmod ok" "$WORK/console.log" || failed $LINENO
grep -q "0000:00:0[0-9a-f].0 0x10ec:0x8139 bound to drvnucleus" "$WORK/console.log" || failed $LINENO
grep -qE "^[0-9]+ passed, 0 failed" <(tr -d '\r' < "$WORK/console.log") || failed $LINENO
grep -q "== rmmod with the daemon running ok" "$WORK/console.log" || failed $LINENO
# drivermgrd's own crash (--fd-store under /fdstore): same u-driver pids,
# no restart, every ping answered, the tone whole (checked with the wav).
grep -q "== aplay through the daemon's SIGKILL ok" "$WORK/console.log" || failed $LINENO
grep -qE "== ping through the daemon's SIGKILL: 30 packets transmitted, 30 (packets )?received" "$WORK/console.log" || failed $LINENO
grep -qE "== u-drivers across the daemon's SIGKILL: (ens1370=[0-9]+/0 rtl8139=[0-9]+/0 )-> \1" "$WORK/console.log" || failed $LINENO
grep -q "== took over 2 of 2 u-driver(s)" "$WORK/console.log" || failed $LINENO
grep -q "== probes logged (both daemons): 2" "$WORK/console.log" || failed $LINENO
grep -qE "== ping after the adoption: 3 packets transmitted, 3 (packets )?received" "$WORK/console.log" || failed $LINENO
grep -q "== mixer through the adopted u-driver ok" "$WORK/console.log" || failed $LINENO
# Exactly once across the daemon's SIGKILL (runtime.c's pending upcalls,
# the u-driver's UPCALL_ID cache).
grep -q "== mixer across the daemon's SIGKILL ok" "$WORK/console.log" || failed $LINENO
grep -qE "== nucleus: [1-9][0-9]* unanswered upcall\(s\) sent again" "$WORK/console.log" || failed $LINENO
grep -q "== u-driver: SND_MIXER_[A-Z]* (upcall [0-9]*) sent again after drivermgrd's restart: answered from the first time" "$WORK/console.log" || failed $LINENO
v20=$(tr -d '\r' < "$WORK/console.log" | sed -n 's/^== mixer at 20 %: //p')
v40=$(tr -d '\r' < "$WORK/console.log" | sed -n 's/^== mixer at 40 %: //p')
[ -n "$v20" ] && [ "$v20" != "$v40" ] && grep -q "== mixer after the kill (20 %): $v20" "$WORK/console.log" || failed $LINENO
grep -qE "== ens1370 across that kill: ([0-9]+) -> \1[[:space:]]*$" "$WORK/console.log" || failed $LINENO
grep -q "== rmmod with the daemon stopped ok" "$WORK/console.log" || failed $LINENO
# Bind=: handed over from the stock driver and back, pings through both.
grep -qE "== bind: after insmod without ids= 0000:00:0[0-9a-f].0 is 8139cp's" "$WORK/console.log" || failed $LINENO
grep -qE "== bind: with drivermgrd 0000:00:0[0-9a-f].0 is drvnucleus's, rtl8139 active" "$WORK/console.log" || failed $LINENO
grep -qE "== bind: 0000:00:0[0-9a-f].0 → drvnucleus for rtl8139 \(from 8139cp\)" "$WORK/console.log" || failed $LINENO
grep -q "== bind: ping through drvnucleus: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -qE "== unbind: 0000:00:0[0-9a-f].0: 8139cp" "$WORK/console.log" || failed $LINENO
grep -qE "== bind: after drvctl unbind 0000:00:0[0-9a-f].0 is 8139cp's, rtl8139 inactive" "$WORK/console.log" || failed $LINENO
grep -q "== bind: ping through the stock driver again: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -qE "== bind: drvctl start: 0000:00:0[0-9a-f].0 is drvnucleus's, rtl8139 active" "$WORK/console.log" || failed $LINENO
grep -q "== bind: reload: devices given back by rtl8139" "$WORK/console.log" || failed $LINENO
grep -qE "== bind: after the reload 0000:00:0[0-9a-f].0 is 8139cp's, rtl8139 inactive" "$WORK/console.log" || failed $LINENO
[ "$(grep -cE "== restarted: (rtl8139|ens1370) .* active " "$WORK/console.log")" = 2 ] || failed $LINENO
grep -q "== dmesg clean$" <(tr -d '\r' < "$WORK/console.log") || failed $LINENO
grep -q "== dmesg clean after the tx timeout" "$WORK/console.log" || failed $LINENO
grep -q "== txtimeout: REG_WRITE of ChipCmd without TxEnb refused while the data path runs" "$WORK/console.log" || failed $LINENO
grep -q "== txtimeout: NET_TX_TIMEOUT upcall received" "$WORK/console.log" || failed $LINENO
grep -q "== txtimeout: transmitter restarted, data path enabled" "$WORK/console.log" || failed $LINENO
grep -q "== ping after the tx timeout: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -q "== nucleus: transmit timed out; the u-driver restarts the transmitter" "$WORK/console.log" || failed $LINENO
[ "$(grep -c "== drvnucleus: unloaded, 0 DMA objects live" "$WORK/console.log")" = 2 ] || failed $LINENO
# drivermgrd over generic netlink: registered, got DEVICE_ADD, spawned the
# u-driver, whose probe identified the chip, read the MAC from the EEPROM and
# registered eth0 by downcall; `ip link set up` reached it as an upcall, it
# opened the chip and the nucleus's data path carried the pings.
grep -q "connected to drvnucleus.ko (generic netlink)" "$WORK/console.log" || failed $LINENO
grep -qE "10ec:8139 at 0000:00:0[0-9a-f].0 → rtl8139" "$WORK/console.log" || failed $LINENO
grep -qE "^rtl8139 +net +0000:00:0[0-9a-f].0 +active " <(tr -d '\r' < "$WORK/console.log") || failed $LINENO
grep -q "== ping: 5 packets transmitted, 5 packets received" "$WORK/console.log" || failed $LINENO
# Recovery on the kernel path: every packet of the stream answered, the
# u-driver recovered once, by reattaching.
grep -q "== ping during recovery: 40 packets transmitted, 40 packets received" "$WORK/console.log" || failed $LINENO
grep -qE "^rtl8139 +net +0000:00:0[0-9a-f].0 +active +[0-9]+ +[0-9a-z ]+ +1$" <(tr -d '\r' < "$WORK/console.log") || failed $LINENO
grep -q "== history: .*recovered crash" "$WORK/console.log" || failed $LINENO
grep -q "== ping during hang recovery: 40 packets transmitted, 40 packets received" "$WORK/console.log" || failed $LINENO
grep -qE "^rtl8139 +net +0000:00:0[0-9a-f].0 +active +[0-9]+ +[0-9a-z ]+ +2$" <(tr -d '\r' < "$WORK/console.log") || failed $LINENO
grep -qE "== history: .*recovered (heartbeat|timeout)" "$WORK/console.log" || failed $LINENO
grep -q "== ping during bad-param recovery: 30 packets transmitted, 30 packets received" "$WORK/console.log" || failed $LINENO
grep -q "== history: .*recovered bad-parameter" "$WORK/console.log" || failed $LINENO
# The rx mode travels the upcall path to the chip's filter registers.
grep -q '== after promisc on: "rxMode":"promiscuous"' "$WORK/console.log" || failed $LINENO
grep -q '== after promisc off: "rxMode":"multicast"' "$WORK/console.log" || failed $LINENO
grep -q "== ping in promisc mode: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -q "== ping after the rx mode changes: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -q '== after set address: "mac":"52:54:00:12:34:99"' "$WORK/console.log" || failed $LINENO
grep -q "== ping with the new address: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -q '== config after a kill: "mac":"52:54:00:12:34:99" "multicastFilter":"0x[0-9a-f]*" "rxMode":"multicast"' "$WORK/console.log" || failed $LINENO
# The filter after the kill is the one the join programmed, bit 57 and all.
[ "$(grep -o '== config after a kill: .*"multicastFilter":"0x[0-9a-f]*' "$WORK/console.log" | grep -o '0x[0-9a-f]*$')" = \
  "$(grep -o '== after the join: "multicastFilter":"0x[0-9a-f]*' "$WORK/console.log" | grep -o '0x[0-9a-f]*$')" ] || failed $LINENO
grep -q '== promisc after a kill: "rxMode":"promiscuous"' "$WORK/console.log" || failed $LINENO
grep -q "== ping after two more kills: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
grep -q "== carrier with the cable out: 0" "$WORK/console.log" || failed $LINENO
grep -q "== carrier with the cable in: 1" "$WORK/console.log" || failed $LINENO
grep -q "== ping after the cable: 3 packets transmitted, 3 packets received" "$WORK/console.log" || failed $LINENO
# Hash bit 57 (ether_crc(01:00:5e:01:02:03) >> 26, checked against zlib's
# CRC) is set in MAR0-7 while the group is joined, and clear after.
joined=$(grep -o '== after the join: "multicastFilter":"0x[0-9a-f]*' "$WORK/console.log" | grep -o '0x[0-9a-f]*$' || echo 0)
left=$(grep -o '== after leaving: "multicastFilter":"0x[0-9a-f]*' "$WORK/console.log" | grep -o '0x[0-9a-f]*$' || echo 0)
(( (joined >> 57) & 1 )) || failed $LINENO
(( ((left >> 57) & 1) == 0 )) || failed $LINENO
# Sound through the kernel path: the card, the three tones in the wav QEMU
# recorded, the mixer values kept across two recoveries, the rate read back
# from PCLKDIV, and EAGAIN from the nucleus when no daemon is there.
grep -q "== aplay -l: card 0: .*Ensoniq AudioPCI ENS1370" "$WORK/console.log" || failed $LINENO
grep -q "== aplay baseline ok" "$WORK/console.log" || failed $LINENO
# A stream's setup crosses the hop; its periods do not: the 3 s tone
# costs what a stream of silence costs, give or take a message.
setup=$(tr -d '\r' < "$WORK/console.log" | sed -n 's/^== ens1370 one aplay.s stream setup and teardown: [0-9]* B in \([0-9]*\) messages$/\1/p')
tone=$(tr -d '\r' < "$WORK/console.log" | sed -n 's/^== ens1370 a 3 s tone, its setup included: [0-9]* B in \([0-9]*\) messages$/\1/p')
[ -n "$setup" ] && [ -n "$tone" ] && [ "$setup" -gt 0 ] && [ "$tone" -le $((setup + 2)) ] || failed $LINENO
grep -q "== aplay through the kill ok" "$WORK/console.log" || failed $LINENO
grep -q "== aplay through the hang ok" "$WORK/console.log" || failed $LINENO
# 60 % and 80 % land on the codec's 31 attenuation steps: 61 % and 81 %.
grep -q "== master set: .*values=61" "$WORK/console.log" || failed $LINENO
grep -q "== master after recovery: .*values=61" "$WORK/console.log" || failed $LINENO
grep -q "== pcm after recovery: .*values=81" "$WORK/console.log" || failed $LINENO
grep -qE "^== sound: ens1370 +sound +0000:00:0[0-9a-f].0 +active +[0-9]+ +[0-9a-z ]+ +3$" <(tr -d '\r' < "$WORK/console.log") || failed $LINENO
grep -q "== sound history: .*recovered crash" "$WORK/console.log" || failed $LINENO
grep -qE "== sound history: .*recovered (heartbeat|timeout)" "$WORK/console.log" || failed $LINENO
grep -q "== sound history: .*recovered protocol" "$WORK/console.log" || failed $LINENO
grep -q '== sound status: "sampleRate":44100' "$WORK/console.log" || failed $LINENO
grep -q "== mixer without a daemon: EAGAIN" "$WORK/console.log" || failed $LINENO
grep -qE "== mixer with a mute daemon: EAGAIN after [2-5] s" "$WORK/console.log" || failed $LINENO
grep -q "== aplay stopped by the quiesce" "$WORK/console.log" || failed $LINENO
grep -q "== ping while downcalls hold the ComboLock: 100 echo requests sent, 100 replies received" "$WORK/console.log" || failed $LINENO
grep -qE "== combo: 60 sequences \(0 failed\), [0-9]+ user holds, [1-9][0-9]* data-path deferrals" "$WORK/console.log" || failed $LINENO
grep -qE "== after the storm: ens1370 .* failed" "$WORK/console.log" || failed $LINENO
grep -q "== nucleus quiesced: the u-driver was given up on" "$WORK/console.log" || failed $LINENO
# Measured, not asserted: the UDP stream through the microdriver vs the
# stock driver, the null-upcall round trip, the bytes of probe+open.
# UDP_ROUNDS 4-second streams each (1 in make check; check-net measures
# the same pair, and bench-vm the figures); TCG makes single runs noisy,
# so with more rounds the medians are compared.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
micro=$(grep -o "== microdriver udp: .*" "$WORK/console.log" | tr -d '\r' | awk '{print $6}' | median || true)
stock=$(grep -o "== stock 8139cp udp: .*" "$WORK/console.log" | tr -d '\r' | awk '{print $7}' | median || true)
mcpu=$(grep -o "== microdriver udp: .*" "$WORK/console.log" | tr -d '\r' | awk '{print $9}' | median || true)
scpu=$(grep -o "== stock 8139cp udp: .*" "$WORK/console.log" | tr -d '\r' | awk '{print $10}' | median || true)
if [ -n "$micro" ] && [ -n "$stock" ]; then
  awk -v n="$UDP_ROUNDS" -v m="$micro" -v s="$stock" -v mc="$mcpu" -v sc="$scpu" 'BEGIN {
    printf "udp throughput microdriver/stock 8139cp (medians of %d): %.3f (%s vs %s Mbit/s), cpu %s vs %s %%\n",
      n, m / s, m, s, mc, sc }'
fi
if [ -s "$WORK/out.wav" ]; then
  # 1301 Hz (the crash storm's tone) is classified too, though not checked:
  # unclassified, its seconds counted as a "gap" of the 997 Hz tone before
  # it whenever a 997-like interval followed (two CI runs failed so).
  "$WORK/wavtool" check "$WORK/out.wav" 501 749 997 1301 1103 | tee "$WORK/wav.txt"
  # Each tone played (>= 2.9 of its 3 s) and the two with a recovery in
  # the middle have no more glitches than the baseline.
  base=$(awk '/^tone 501 /{print $6}' "$WORK/wav.txt")
  for hz in 501 749 997 1103; do
    awk -v hz="$hz" -v base="${base:-0}" '$1 == "tone" && $2 == hz { exit !($4 >= 2.9 && $6 <= base) }' "$WORK/wav.txt" || failed $LINENO
  done
  # On a failure: where each tone's stretches and glitches lie, and
  # aplay's underruns (none is printed when it had none).
  if [ "$ok" != 1 ]; then
    "$WORK/wavtool" timeline "$WORK/out.wav" 501 749 997 1301 1103 | grep -v "^tone" || true
    grep "== aplay stderr" "$WORK/console.log" | tr -d '\r' || true
  fi
else
  echo "no wav recorded"; ok=0
fi
if [ "$ok" = 1 ]; then echo "kernel nucleus VM test: ok"; else
  echo "kernel nucleus VM test: FAILED; console:"; tr -d '\r' < "$WORK/console.log" | tail -40; exit 1; fi
