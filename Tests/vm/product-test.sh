#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The whole product in one guest (Tests/vm/systemd-guest.sh product-test.sh,
# `make check-product`): Debian's kernel with systemd as PID 1 and udev,
# which loads the stock 8139cp and snd-ens1370 for QEMU's rtl8139 and ES1370;
# the project installed (make install-files: binaries, unit, catalog, the
# shipped configuration) and drvnucleus.ko where modprobe finds it; the admin
# turns Bind= on for the two devices; `systemctl start drivermgrd` hands them
# to drvnucleus and runs the sandboxed u-drivers on the kernel path. Then
# ping and aplay through the nucleus across a u-driver's SIGKILL, a restart,
# a live update (drvctl update), gdb holding a call at a breakpoint and
# valgrind through a stream (drvctl debug), a chip that must be reset (escalation),
# a PCI function that must be re-added in the nucleus (the third tier),
# and drivermgrd's own SIGKILL; the journal's entries; reload (ReleaseOnExit=
# for the NIC); stop (the NIC back to 8139cp, the sound card quiesced).
# Runs as a oneshot unit with BIN, ROOT and WORK set. Every line for the
# host starts with "== "; the last line says ok or not.
R=/mnt/results
exec > "$R/log" 2>&1
ok=1
fail() { echo "FAIL: $*"; ok=0; }
FAILURE_ID=9dbd74484c514218a1b66bb15387f923
ADOPTED_ID=f931c37cde9e48e79c9517bc3f96a51a
ESCALATED_ID=d683e9cc1b2c4677921ff11fb746f630
READDED_ID=fcc15b8a00474b02a2cbeb18b2f0aacc
KVER=$(uname -r)
echo "== guest: $KVER, systemd $(systemctl --version | head -1 | cut -d' ' -f2)"
. "$ROOT/Tests/vm/product-setup.sh"
filters() { awk '/^Seccomp_filters:/ { print $2 }' "/proc/$1/status"; }
for p in $(drvctl list --no-legend | awk '/^(rtl8139|ens1370) / { print $5 }'); do
  echo "== u-driver $(cat /proc/$p/comm) uid $(stat -c %u /proc/$p) seccomp filters $(filters $p)"
done

# The network through drvnucleus's netdev, QEMU's user-mode gateway.
busybox ping -c 5 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping: /'
# Sound: the card drvnucleus registered, a tone.
aplay -l | grep -E "^card" | sed 's/^/== aplay -l: /'
card=$(aplay -l | sed -n 's/^card \([0-9]*\): .*/\1/p' | head -1)
"$WORK/wavtool" gen /tmp/tone.wav 440 3 44100
aplay -q -D "hw:$card,0" /tmp/tone.wav && echo "== aplay: ok"

# A u-driver's SIGKILL and a restart in the middle of streams.
busybox ping -c 30 -i 0.2 -W 3 10.0.2.2 > /tmp/ping1 2>&1 &
sleep 1
kill -9 "$(drvctl list --no-legend | awk '$1 == "rtl8139" { print $5 }')"
wait $!
grep transmitted /tmp/ping1 | sed 's/^/== ping across the u-driver SIGKILL: /'
aplay -q -D "hw:$card,0" /tmp/tone.wav & aplay_pid=$!
sleep 1
drvctl restart ens1370
wait $aplay_pid && echo "== aplay across drvctl restart: ok"
for i in $(seq 20); do active && break; sleep 0.5; done
# Live update in the middle of the same streams: each u-driver swapped
# for a fresh process of its build, the old one kept until it serves.
busybox ping -c 30 -i 0.2 -W 3 10.0.2.2 > /tmp/ping3 2>&1 &
sleep 1
drvctl update rtl8139 2>&1 | sed 's/^/== update: /'
wait $!
grep transmitted /tmp/ping3 | sed 's/^/== ping across drvctl update: /'
aplay -q -D "hw:$card,0" /tmp/tone.wav & aplay_pid=$!
sleep 1
drvctl update ens1370 2>&1 | sed 's/^/== update: /'
wait $aplay_pid && echo "== aplay across drvctl update: ok"
for i in $(seq 20); do active && break; sleep 0.5; done
# Live debugging (drvctl debug --gdb): gdb attaches over the socket
# drivermgrd made for the caller; a breakpoint on the mixer-set path holds
# a drvctl call for two seconds while aplay plays on through the nucleus.
drvctl debug ens1370 --gdb 2>&1 | sed 's/^/== debug: /'
line=$(grep -n 'static func attenuation(fromPercent' "$ROOT/Sources/Drivers/ENS137x/ENS137x.swift" | cut -d: -f1)
gdb -q -batch -ex 'set pagination off' -ex 'set confirm off' -ex 'set complaints 0' -ex 'set sysroot /' \
  -ex 'set remotetimeout 120' -ex 'target remote /run/drivermgrd/debug/ens1370.gdb' -ex "break ENS137x.swift:$line" \
  -ex continue -ex 'print *(unsigned int *)&p' -ex 'shell sleep 2' -ex detach > /tmp/gdb.out 2>&1 &
gdb_pid=$!
for i in $(seq 240); do grep -q "^Breakpoint 1 at " /tmp/gdb.out && break; sleep 0.5; done
"$WORK/wavtool" gen /tmp/tone6.wav 440 6 44100
aplay -D "hw:$card,0" /tmp/tone6.wav 2> /tmp/aplay-gdb.err & aplay_pid=$!
sleep 1
t0=$(date +%s%N); drvctl call ens1370 mixer-set master 57 > /dev/null; t1=$(date +%s%N)
echo "== mixer-set held at the breakpoint: $(( (t1 - t0) / 1000000 )) ms"
wait $gdb_pid
grep -E '^\$1 = ' /tmp/gdb.out | sed 's/^/== gdb read at the breakpoint: /'
wait $aplay_pid && echo "== aplay across the breakpoint: ok, $(grep -c underrun /tmp/aplay-gdb.err) underruns"
drvctl debug ens1370 --off 2>&1 | sed 's/^/== debug off: /'
for i in $(seq 20); do active && break; sleep 0.5; done
# valgrind's memcheck on the kernel path: the u-driver under it adopts the
# device, serves a stream's open, parameters and close (aplay), and exits
# (--off) with its error summary in the journal.
drvctl debug ens1370 --valgrind 2>&1 | head -1 | sed 's/^/== debug: /'
vg=$(drvctl list --no-legend | awk '$1 == "ens1370" { print $5 }')
aplay -q -D "hw:$card,0" /tmp/tone.wav && echo "== aplay under valgrind: ok"
drvctl debug ens1370 --off > /dev/null 2>&1
for i in $(seq 120); do journalctl --no-pager -q -u drivermgrd | grep -q "==$vg== ERROR SUMMARY" && break; sleep 0.5; done
journalctl --no-pager -q -u drivermgrd | grep -oE "==$vg== ERROR SUMMARY: .*" | head -1 | sed 's/^/== valgrind: /'
for i in $(seq 20); do active && break; sleep 0.5; done
drvctl history rtl8139 --no-pager | grep -E " recovered " | tail -1 | awk '{ print $6 }' | sed 's/^/== rtl8139 recovered from: /'
journalctl --no-pager -q -o verbose MESSAGE_ID=$FAILURE_ID DRIVER=rtl8139 |
  grep -E "^ +(FAILURE_KIND|SIGNAL)=" | head -2 | sed 's/^ */== failure entry: /'
journalctl --no-pager -q -x -u drivermgrd | grep -oE "Subject: u-driver rtl8139 failed.*" | head -1 | sed "s/^/== catalog: /"

# Escalation: a chip whose state a fresh u-driver cannot adopt, its station
# address overwritten behind the driver's back through the I/O BAR (IDR0 =
# 0xff, a multicast address the reattach probe refuses). After a crash the
# recovery's first two attempts fail, the third resets the chip
# (ResetAfter=2) and replays the configuration; the NIC answers again.
/usr/bin/python3 - "$nic" <<'PY'
import os, sys
# The I/O BAR through sysfs: a one-byte write at the register's offset.
fd = os.open(f"/sys/bus/pci/devices/{sys.argv[1]}/resource0", os.O_RDWR)
os.pwrite(fd, b"\xff", 0)
print("== poked IDR0: %02x" % os.pread(fd, 1, 0)[0])
PY
busybox ping -c 25 -i 0.2 -W 3 10.0.2.2 > /tmp/ping-esc 2>&1 &
drvctl inject rtl8139 crash > /dev/null
for i in $(seq 60); do drvctl history rtl8139 --no-pager | grep -q "the device reset" && break; sleep 0.5; done
for i in $(seq 20); do active && break; sleep 0.5; done
wait $!
grep transmitted /tmp/ping-esc | sed 's/^/== ping across the reset: /'
echo "== escalation: $(drvctl history rtl8139 --no-pager | grep -c ' recovery-failed ') failed, $(drvctl history rtl8139 --no-pager | grep -c ' escalated ') escalated, $(drvctl history rtl8139 --no-pager | grep -c 'the device reset') reset"
busybox ping -c 5 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after the reset: /'
journalctl --no-pager -q -x MESSAGE_ID=$ESCALATED_ID | grep -oE "Subject: recovery of rtl8139 escalated.*" | head -1 | sed 's/^/== escalated entry: /'

# The third tier: a PCI function that stopped decoding its BAR and mastering
# the bus (its command register set to INTx Disable alone through sysfs's
# config file, as `setpci COMMAND=0400` does; with INTx left enabled, the
# interrupt the chip had raised could never be acknowledged and the line
# would storm until the kernel disabled it). Its registers read all-ones, so neither adopting
# it nor the chip's own reset helps: after a crash two attempts adopt and
# fail, the third resets and fails, then the nucleus re-adds the function
# (ReaddAfter=3) and the next attempt probes it afresh and replays.
failed_before=$(drvctl history rtl8139 --no-pager | grep -c ' recovery-failed ')
( sleep 40; [ -e /tmp/readd-done ] && exit 0
  echo "DIAG: no re-add after 40 s"; dmesg | tail -25
  journalctl --no-pager -q -u drivermgrd | tail -25
  for t in /proc/$(systemctl show -p MainPID --value drivermgrd)/task/*; do echo "$(cat $t/comm): $(tr '\n' ' ' < $t/stack)"; done
  ps -eo pid,stat,wchan:30,comm | grep -vE " (kworker|ksoftirq|migration|rcu_|cpuhp|idle_inject)" | tail -30 ) &
/usr/bin/python3 - "$nic" <<'PY'
import os, sys
fd = os.open(f"/sys/bus/pci/devices/{sys.argv[1]}/config", os.O_RDWR)
os.pwrite(fd, b"\x00\x04", 4)
print("== command register: %04x" % int.from_bytes(os.pread(fd, 2, 4), "little"))
PY
busybox ping -c 40 -i 0.2 -W 3 10.0.2.2 > /tmp/ping-readd 2>&1 &
pinger=$!
timeout 20 drvctl inject rtl8139 crash > /dev/null
for i in $(seq 60); do timeout 5 drvctl history rtl8139 --no-pager | grep -q "re-added and reset" && break; sleep 0.5; done
if ! timeout 10 drvctl history rtl8139 --no-pager | grep -q "re-added and reset"; then
  echo "no re-add: dmesg, the daemon's kernel stacks"; dmesg | tail -30
  for t in /proc/$(systemctl show -p MainPID --value drivermgrd)/task/*; do cat "$t/stack"; done 2>/dev/null | sort | uniq -c | sort -rn | head -30
fi
for i in $(seq 20); do active && break; sleep 0.5; done
touch /tmp/readd-done
wait $pinger
grep transmitted /tmp/ping-readd | sed 's/^/== ping across the re-add: /'
h=$(timeout 10 drvctl history rtl8139 --no-pager)
echo "== re-add: $(( $(echo "$h" | grep -c ' recovery-failed ') - failed_before )) failed, $(echo "$h" | grep -c ' readded ') readded, $(echo "$h" | grep -c 're-added and reset') recovered"
dmesg | grep -oE "re-added for the u-driver's recovery.*" | tail -1 | sed 's/^/== kernel: /'
busybox ping -c 5 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after the re-add: /'
journalctl --no-pager -q -x MESSAGE_ID=$READDED_ID | grep -oE "Subject: recovery of rtl8139: .*" | head -1 | sed 's/^/== readded entry: /'

# Tier 2 for the sound card, aplay playing across it: CONTROL's codec
# interface enable cleared behind the driver's back through the I/O BAR
# (DAC2 plays on, but the AK4531 no longer hears the mixer). The reattach
# probe refuses the card twice; the third attempt holds the stream (its
# periods on the nucleus's clock), resets the chip, replays rate and volume
# and starts the stream again. aplay's own buffer: the data path runs on
# until the hold, so nothing stalls longer than the recovery. The tone
# outlasts the recovery (two refused attempts, their backoff and the reset
# take 3 to 6 s under TCG): a stream that ended on the hold clock has
# nothing to start again.
drvctl call ens1370 mixer-set master 57 > /dev/null
vol_reset=$(drvctl call ens1370 mixer-get master)
held_count() { dmesg | grep -c "the held stream plays again"; }
held0=$(held_count)
"$WORK/wavtool" gen /tmp/mid.wav 440 14 11025
aplay -q -D "hw:$card,0" /tmp/mid.wav > /tmp/aplay-reset 2>&1 &
player=$!
sleep 2
rate_reset=$(drvctl status ens1370 --no-pager | grep -oE "Rate: [0-9]+ Hz")
/usr/bin/python3 - "$snd" <<'PY'
import os, sys
fd = os.open(f"/sys/bus/pci/devices/{sys.argv[1]}/resource0", os.O_RDWR)
v = int.from_bytes(os.pread(fd, 4, 0), "little")
os.pwrite(fd, (v & ~0x2).to_bytes(4, "little"), 0)
print("== poked CONTROL: %08x -> %08x" % (v, int.from_bytes(os.pread(fd, 4, 0), "little")))
PY
injected=$(date +%s.%N)
timeout 20 drvctl inject ens1370 crash > /dev/null
for i in $(seq 60); do timeout 5 drvctl history ens1370 --no-pager | grep -q "the device reset" && break; sleep 0.5; done
reset_seen=$(date +%s.%N)
wait $player
rc=$?
held1=$(held_count)
echo "== held stream started again after the reset: $((held1 - held0))"
[ "$held1" -gt "$held0" ] || echo "the crash at $injected, the reset seen at $reset_seen, aplay done at $(date +%s.%N)"
echo "== aplay across the sound card's reset: exit $rc$(tr '\n' ' ' < /tmp/aplay-reset | sed 's/^./, &/')"
h=$(timeout 10 drvctl history ens1370 --no-pager)
echo "== sound escalation: $(echo "$h" | grep -c ' escalated ') escalated, $(echo "$h" | grep -c 'the device reset') reset"
[ "$(drvctl call ens1370 mixer-get master)" = "$vol_reset" ] && echo "== volume kept across the reset: $vol_reset"
echo "== rate across the reset: $rate_reset -> $(drvctl status ens1370 --no-pager | grep -oE "Rate: [0-9]+ Hz")"

# The sound card wedged the same way under a playing aplay: the nucleus
# holds the stream (DAC2 stopped, the stream RUNNING for ALSA, its pointer
# kept) across the attempts, the re-add, the reset probe and the replay
# (rate, volume), then starts it again: aplay stalls and plays on. ALSA's
# writer gives up (EIO) after about 1.1 buffers' time without a period,
# and the wedge stops DAC2's interrupts before anything notices it: the
# stream gets the largest buffer the card takes (128 KB, 2.9 s at 11025 Hz)
# to cover the time from the wedge to the hold (the crash is injected at
# once; detection, two attempts and the escalation take about a second).
drvctl call ens1370 mixer-set master 57 > /dev/null
vol_before=$(drvctl call ens1370 mixer-get master)
"$WORK/wavtool" gen /tmp/long.wav 440 12 11025
aplay -q -B 2900000 -D "hw:$card,0" /tmp/long.wav > /tmp/aplay-readd 2>&1 &
player=$!
started=$(date +%s.%N)
pcm_state() { tr '\n' ' ' < /proc/asound/card$card/pcm0p/sub0/status; echo; }
sleep 2
st_before=$(pcm_state)
rate_before=$(drvctl status ens1370 --no-pager | grep -oE "Rate: [0-9]+ Hz")
/usr/bin/python3 - "$snd" <<'PY'
import os, sys
fd = os.open(f"/sys/bus/pci/devices/{sys.argv[1]}/config", os.O_RDWR)
os.pwrite(fd, b"\x00\x04", 4)
PY
wedged=$(date +%s.%N)
timeout 20 drvctl inject ens1370 crash > /dev/null
st_wedged=$(pcm_state)
for i in $(seq 60); do timeout 5 drvctl history ens1370 --no-pager | grep -q "re-added and reset" && break; sleep 0.5; done
recovered=$(date +%s.%N)
st_after=$(pcm_state)
wait $player
rc=$?
echo "== aplay across the sound card's re-add: exit $rc$(tr '\n' ' ' < /tmp/aplay-readd | sed 's/^./, &/')"
if [ $rc != 0 ]; then
  echo "aplay started at $started, wedged at $wedged, re-add seen at $recovered, aplay done at $(date +%s.%N)"
  echo "before: $st_before"; echo "wedged: $st_wedged"; echo "after: $st_after"
  journalctl --no-pager -q -u drivermgrd --since=-30s | grep -vE "log file opened|thread priority|u-driver: $" | tail -25
  drvctl history ens1370 --no-pager | tail -12; dmesg | tail -8
fi
h=$(timeout 10 drvctl history ens1370 --no-pager)
echo "== sound re-add: $(echo "$h" | grep -c ' readded ') readded, $(echo "$h" | grep -c 're-added and reset') recovered"
echo "== held stream started again after the re-add: $(($(held_count) - held1))"
[ "$(drvctl call ens1370 mixer-get master)" = "$vol_before" ] && echo "== volume kept across the re-add: $vol_before"
echo "== rate across the re-add: $rate_before -> $(drvctl status ens1370 --no-pager | grep -oE "Rate: [0-9]+ Hz")"

# drivermgrd's own SIGKILL mid-stream: systemd restarts it, it adopts the
# running u-drivers (same pids), nothing lost.
pids() { drvctl list --no-legend | awk '/^(rtl8139|ens1370) / { printf "%s=%s ", $1, $5 }'; }
pids_before=$(pids)
main=$(systemctl show -p MainPID --value drivermgrd)
busybox ping -c 30 -i 0.2 -W 3 10.0.2.2 > /tmp/ping2 2>&1 &
sleep 1
kill -9 "$main"
wait $!
for i in $(seq 40); do [ "$(systemctl show -p MainPID --value drivermgrd)" != "$main" ] && active && break; sleep 0.5; done
echo "== after the daemon's SIGKILL: main pid $main -> $(systemctl show -p MainPID --value drivermgrd)"
echo "== u-driver pids across it: $pids_before-> $(pids)"
grep transmitted /tmp/ping2 | sed 's/^/== ping across the daemon SIGKILL: /'
echo "== adopted entries: $(journalctl --no-pager -q MESSAGE_ID=$ADOPTED_ID | grep -c 'took over u-driver')"

# The sandbox's own faults on the kernel path, under systemd (the NIC
# guest's campaign has them too, without systemd): drvcampaign drives memory
# blow-ups (to MemoryMax=), forbidden system calls, fork bombs, crashes
# and SIGKILLs into the sandboxed u-drivers while an echo stream runs
# through the NIC and aplay plays tone after tone, and it SIGKILLs
# drivermgrd itself every 6 faults (systemd restarts it; drvcampaign
# reads the new pid from a file this loop keeps from MainPID=).
for d in rtl8139 ens1370; do
  printf '[Recovery]\nStartLimitBurst=1000\nStartLimitIntervalSec=1s\nRestartMaxDelaySec=0\n[Sandbox]\nMemoryMax=256M\n' \
    > /etc/drivermgrd/drivers.d/$d.conf.d/60-campaign.conf
done
systemctl reload drivermgrd
sleep 2
for i in $(seq 60); do active && break; sleep 0.5; done
( while [ ! -e /tmp/scampaign.done ]; do
    p=$(systemctl show -p MainPID --value drivermgrd)
    [ "${p:-0}" != 0 ] && echo "$p" > /tmp/dpid.new && mv /tmp/dpid.new /tmp/dpid
    sleep 0.2
  done ) &
sleep 1
"$WORK/nucleus-client" echo 10.0.2.2 65535 50 3 /tmp/sping.lost > /tmp/sping 2>&1 & sping=$!
"$WORK/wavtool" gen /tmp/tone2.wav 440 2 22050 0.5
( runs=0; failed=0
  while [ ! -e /tmp/scampaign.done ]; do
    runs=$((runs + 1)); t=$(date +%s.%N)
    aplay -q -D "hw:$card,0" /tmp/tone2.wav 2> /tmp/saplay.one ||
      { failed=$((failed + 1)); echo "tone from $t to $(date +%s.%N): $(tr '\n' ' ' < /tmp/saplay.one)" >> /tmp/saplay.err; }
  done
  echo "$runs $failed" > /tmp/saplay ) &
splayer=$!
"$BIN/drvcampaign" attach --runtime-dir /run/drivermgrd --drivers rtl8139 ens1370 --daemon-pid "$(cat /tmp/dpid)" \
  --faults 24 --seconds 240 --workers 2 --window-ms 1500 --kinds memory syscall fork-bomb crash sigkill \
  --daemon-kill-every 6 --daemon-pid-file /tmp/dpid --out /tmp/scampaign.jsonl 2>&1 | tail -1 | sed 's/^/== sandbox campaign: /'
touch /tmp/scampaign.done
wait $splayer
kill -INT $sping; wait $sping
echo "== sandbox campaign ping: $(cat /tmp/sping)"
set -- $(cat /tmp/saplay)
echo "== sandbox campaign aplay: $1 tones, $2 failed"
[ "$2" = 0 ] || head -5 /tmp/saplay.err | sed 's/^/== aplay said: /'
"$BIN/drvcampaign" report /tmp/scampaign.jsonl --echo-losses rtl8139=/tmp/sping.lost > /tmp/scampaign.md
echo "== sandbox campaign report exit $?"
sed 's/^/  /' /tmp/scampaign.md
rm -f /etc/drivermgrd/drivers.d/*.conf.d/60-campaign.conf
for i in $(seq 60); do active && break; sleep 0.5; done

# `systemctl restart`: the stop ends the u-drivers (nothing for the next
# daemon to take over), the start probes both devices afresh under the
# interface that stayed up. The kernel opens an interface only on its way
# up: drivermgrd's RESYNC_CLIENTS has the nucleus repeat NET_OPEN and the
# receive filter, and the network works with no `ip link set down/up`.
systemctl restart drivermgrd && echo "== systemctl restart: ok"
for i in $(seq 60); do active && break; sleep 0.5; done
for i in $(seq 20); do busybox ping -c 1 -W 1 10.0.2.2 > /dev/null 2>&1 && break; done
busybox ping -c 5 -W 3 10.0.2.2 | grep transmitted | sed 's/^/== ping after systemctl restart: /'
aplay -q -D "hw:$card,0" /tmp/tone.wav && echo "== aplay after systemctl restart: ok"

# ReleaseOnExit= for the NIC by a reload: on stop it goes back to 8139cp,
# the sound card (default) stays with drvnucleus, quiesced.
printf '[Driver]\nReleaseOnExit=yes\n' > /etc/drivermgrd/drivers.d/rtl8139.conf.d/60-release.conf
systemctl reload drivermgrd && echo "== systemctl reload: ok"
for i in $(seq 40); do active && break; sleep 0.5; done
systemd-analyze security drivermgrd --no-pager 2>/dev/null | tail -1 | sed 's/^/== systemd-analyze security: /'
systemctl stop drivermgrd && echo "== systemctl stop: ok"
echo "== after stop: $nic to $(holder "$nic"), $snd to $(holder "$snd"), u-drivers left: $(pgrep -c -x rtl8139 || true)"

grep -qE "^== udev bound: 0000:[0-9a-f:.]+ to 8139cp, 0000:[0-9a-f:.]+ to snd_ens1370$" "$R/log" || fail "udev gave the stock drivers the devices"
grep -q "^== modprobe drvnucleus: ok" "$R/log" || fail "modprobe"
grep -qE "^== after modprobe: 0000:[0-9a-f:.]+ to 8139cp, 0000:[0-9a-f:.]+ to snd_ens1370$" "$R/log" || fail "drvnucleus took nothing by itself"
grep -q "^== systemctl start: ok" "$R/log" || fail "start"
grep -qE "^== Bind= took: 0000:[0-9a-f:.]+ to drvnucleus, 0000:[0-9a-f:.]+ to drvnucleus$" "$R/log" || fail "Bind= took both devices"
[ "$(grep -cE '^== list: (rtl8139|ens1370) .* active ' "$R/log")" = 2 ] || fail "both drivers active"
[ "$(grep -cE '^== journal: .* → drvnucleus for (rtl8139|ens1370) \(from (8139cp|snd_ens1370)\)' "$R/log")" = 2 ] || fail "hand-overs logged"
# DynamicUser= (systemd's dynamic range) and the two seccomp stages over the unit's own.
[ "$(awk '/^== u-driver (rtl8139|ens137x) uid [0-9]+ seccomp filters [0-9]+$/ && $5 >= 61184 && $5 <= 65519 && $8 >= 2' "$R/log" | wc -l)" = 2 ] ||
  fail "sandboxed u-drivers"
grep -q "^== ping: 5 packets transmitted, 5 packets received" "$R/log" || fail "ping"
grep -q "^== aplay -l: card [0-9]*: ENS1370" "$R/log" || fail "the card drvnucleus registered"
grep -q "^== aplay: ok" "$R/log" || fail "aplay"
grep -q "^== ping across the u-driver SIGKILL: 30 packets transmitted, 30 packets received" "$R/log" || fail "nothing lost across the u-driver's SIGKILL"
grep -q "^== aplay across drvctl restart: ok" "$R/log" || fail "aplay across the restart"
grep -q "^== rtl8139 recovered from: crash" "$R/log" || fail "recovered from the crash"
[ "$(grep -cE '^== update: (rtl8139|ens1370): pid [0-9]+ → [0-9]+, ' "$R/log")" = 2 ] || fail "drvctl update of both"
grep -q "^== ping across drvctl update: 30 packets transmitted, 30 packets received" "$R/log" || fail "nothing lost across drvctl update"
grep -q "^== aplay across drvctl update: ok" "$R/log" || fail "aplay across drvctl update"
grep -qE "^== debug: ens1370: pid [0-9]+ → [0-9]+ under gdb$" "$R/log" || fail "drvctl debug --gdb"
grep -q '^== gdb read at the breakpoint: \$1 = 57$' "$R/log" || { fail "gdb at the breakpoint"; grep -v '^Reading' /tmp/gdb.out | tail -40; }
[ "$(awk '/^== mixer-set held at the breakpoint: / && $7 >= 2000' "$R/log" | wc -l)" = 1 ] || fail "the call held at the breakpoint"
grep -q "^== aplay across the breakpoint: ok, 0 underruns" "$R/log" || fail "aplay across the breakpoint"
grep -qE "^== debug off: ens1370: pid [0-9]+ → [0-9]+, the configured u-driver again$" "$R/log" || fail "drvctl debug --off"
grep -qE "^== debug: ens1370: pid [0-9]+ → [0-9]+ under valgrind$" "$R/log" || fail "drvctl debug --valgrind"
grep -q "^== aplay under valgrind: ok" "$R/log" || fail "aplay under valgrind"
grep -qE "^== valgrind: ==[0-9]+== ERROR SUMMARY: 0 errors from 0 contexts" "$R/log" || fail "valgrind's summary"
grep -q "^== poked IDR0: ff" "$R/log" || fail "the station address overwritten"
grep -qE "^== escalation: 2 failed, 1 escalated, 1 reset$" "$R/log" || fail "two attempts failed, then the reset tier"
grep -q "^== ping after the reset: 5 packets transmitted, 5 packets received" "$R/log" || fail "the NIC answers after the reset"
grep -q "^== escalated entry: Subject: recovery of rtl8139 escalated: the device is reset" "$R/log" || fail "the escalated entry and its catalog text"
grep -q "^== command register: 0400" "$R/log" || fail "the function's decoding and bus mastering off"
grep -qE "^== re-add: [3-9] failed, 1 readded, 1 recovered$" "$R/log" || fail "adopting and resetting failed, then the re-add tier"
grep -qE "^== kernel: re-added for the u-driver's recovery \\(1 so far\\): command register was 0400, now 0[0-9a-f]{3}$" "$R/log" || fail "drvnucleus re-added the function"
grep -q "^== ping after the re-add: 5 packets transmitted, 5 packets received" "$R/log" || fail "the NIC answers after the re-add"
grep -q "^== readded entry: Subject: recovery of rtl8139: the device is re-added in the nucleus" "$R/log" || fail "the readded entry and its catalog text"
grep -qE "^== poked CONTROL: [0-9a-f]*[2367abef] -> [0-9a-f]*[014589cd]$" "$R/log" || fail "the ES1370's CODEC_EN cleared"
grep -q "^== aplay across the sound card's reset: exit 0$" "$R/log" || fail "aplay plays on across the sound card's reset"
grep -q "^== sound escalation: 1 escalated, 1 reset$" "$R/log" || fail "the sound card reset at tier 2"
grep -q "^== volume kept across the reset: value=" "$R/log" || fail "the volume replayed into the reset card (tier 2)"
grep -qE "^== rate across the reset: (Rate: 1[01][0-9]{3} Hz) -> \1$" "$R/log" || fail "the rate replayed into the reset card (tier 2)"
grep -q "^== aplay across the sound card's re-add: exit 0$" "$R/log" || fail "aplay plays on across the sound card's re-add"
grep -q "^== sound re-add: 1 readded, 1 recovered$" "$R/log" || fail "the sound card re-added and reset"
grep -q "^== held stream started again after the reset: 1$" "$R/log" || fail "the nucleus started the held stream again after the reset"
grep -q "^== held stream started again after the re-add: 1$" "$R/log" || fail "the nucleus started the held stream again after the re-add"
grep -q "^== volume kept across the re-add: value=" "$R/log" || fail "the volume replayed into the reset card"
grep -qE "^== rate across the re-add: (Rate: 1[01][0-9]{3} Hz) -> \1$" "$R/log" || fail "the rate replayed into the reset card"
grep -q "^== failure entry: FAILURE_KIND=crash" "$R/log" || fail "FAILURE_KIND"
grep -q "^== failure entry: SIGNAL=SIGKILL" "$R/log" || fail "SIGNAL"
grep -q "^== catalog: Subject: u-driver rtl8139 failed" "$R/log" || fail "catalog"
grep -qE "^== after the daemon's SIGKILL: main pid ([0-9]+) -> [0-9]+$" "$R/log" && ! grep -qE "^== after the daemon's SIGKILL: main pid ([0-9]+) -> \1$" "$R/log" || fail "systemd restarted the daemon"
grep -qE "^== u-driver pids across it: (ens1370=[0-9]+ rtl8139=[0-9]+ |rtl8139=[0-9]+ ens1370=[0-9]+ )-> \1$" "$R/log" || fail "u-drivers adopted"
grep -q "^== ping across the daemon SIGKILL: 30 packets transmitted, 30 packets received" "$R/log" || fail "nothing lost across the daemon's SIGKILL"
grep -qE "^== adopted entries: [2-9]" "$R/log" || fail "adoption in the journal"
grep -qE "^== sandbox campaign: done: [0-9]+ faults injected" "$R/log" || fail "the sandbox campaign ran"
grep -q "^== sandbox campaign report exit 0$" "$R/log" || fail "the sandbox campaign's targets (every manifested fault detected and recovered transparently, nothing lost)"
grep -qE "^== sandbox campaign ping: ([0-9]+) echo requests sent, \1 replies received$" "$R/log" || fail "echo requests lost during the sandbox campaign"
grep -qE "^== sandbox campaign aplay: [1-9][0-9]* tones, 0 failed$" "$R/log" ||
  fail "aplay failed during the sandbox campaign: $(grep '^== aplay said: ' "$R/log" | tr '\n' ' ')"
for k in memory syscall fork-bomb daemon-kill; do
  grep -qE "^  \| (rtl8139|ens1370) \| $k \| [1-9]" "$R/log" || fail "no $k fault placed by the sandbox campaign"
done
grep -q "^== systemctl restart: ok" "$R/log" || fail "systemctl restart"
grep -q "^== ping after systemctl restart: 5 packets transmitted, 5 packets received" "$R/log" ||
  fail "the interface that stayed up works after a fresh probe (systemctl restart)"
grep -q "^== aplay after systemctl restart: ok" "$R/log" || fail "aplay after systemctl restart"
grep -q "^== systemctl reload: ok" "$R/log" || fail "reload"
grep -q "^== systemctl stop: ok" "$R/log" || fail "stop"
grep -qE "^== after stop: 0000:[0-9a-f:.]+ to 8139cp, 0000:[0-9a-f:.]+ to drvnucleus, u-drivers left: 0$" "$R/log" ||
  fail "stop gives the NIC back (ReleaseOnExit=yes) and leaves the sound card quiesced with drvnucleus"

if [ "$ok" = 1 ]; then echo "product guest test: ok"; else
  if [ -s /tmp/saplay.err ]; then
    # What the daemon and the kernel said while the first failed tone played.
    set -- $(sed -n '1s/^tone from \([0-9.]*\) to \([0-9.]*\):.*/\1 \2/p' /tmp/saplay.err)
    echo "== the journal while the first failed tone played:"
    journalctl --no-pager -q -o short-precise --since "@$1" --until "@$2" | grep -E "drivermgrd|kernel|ens137x|rtl8139" | tail -40
  else
    echo "== drivermgrd's journal:"; journalctl --no-pager -q -u drivermgrd | tail -40
  fi
  echo "product guest test: FAILED"; fi
sync
