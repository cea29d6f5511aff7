#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A sliced sound driver on the kernel path: ens1370.c from Debian's
# linux-source-6.1, split by driverslicer --halves, runs as a microdriver
# in a QEMU guest (Debian's kernel, TCG) on QEMU's ES1370, as
# Tests/vm/slice-guest.sh runs 8139cp. The kernel half (trigger, pointer,
# the MIDI triggers, the interrupt) is a module on drvnucleus.ko's runtime
# of sliced drivers, linked, as Debian's snd-ens1370 is, with the AK4531
# codec library (ak4531_codec.c, no module of its own in Debian; the half
# exports its three calls for the kernel API's thunks). The user half is a
# u-driver process drivermgrd spawns: its probe makes the card, the
# mixer, two PCMs and the MIDI port through the kernel API's downcalls;
# the PCMs' open/prepare/close and the controls' get/put come back to it
# as upcalls. aplay -l lists the card, amixer sets a volume, aplay plays a
# tone that QEMU records in a wav (Tests/vm/wavtool.c checks it). Then
# the u-driver is SIGKILLed one second into a 3 s tone: aplay completes,
# the tone has no more glitches than the first, the next u-driver adopts
# the device and serves a mixer change. Decaf's step: the AK4531 codec
# write, which every mixer change runs, is in Swift (driverslicer --decaf
# snd_es1370_codec_write; slicer/decaf/ens1370/).
#
# Last, with SLICE_SOUND_CAMPAIGN_FAULTS set (`make campaign-slice-sound`;
# not in make check, which it would lengthen by minutes), a fault campaign
# into the sliced u-driver (drvcampaign attach): SIGKILLs, the runtime's
# crash, abort, hang, slow, garbage and bad parameters, and the code
# mutations in the user half's own functions (ens1370.c's, named from its
# object), while aplay plays tone after tone (open, hw_params, prepare and
# close are upcalls into the user half) and amixer sets and reads the
# master volume (the controls' put and get, the codec write in Swift);
# drivermgrd itself runs under fdstore then and is SIGKILLed every
# SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY faults (0: never).
#
# usage: Tests/vm/slice-sound-guest.sh
set -euo pipefail
SLICE_SOUND_CAMPAIGN_FAULTS=${SLICE_SOUND_CAMPAIGN_FAULTS:-0}
SLICE_SOUND_CAMPAIGN_SECONDS=${SLICE_SOUND_CAMPAIGN_SECONDS:-240}
SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY=${SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
KDIR=/lib/modules/$KVER/build
WORK=$(mktemp -d /tmp/drvnucleus-slice-sound.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
BIN=$(cd "$ROOT" && swift build --show-bin-path)

# ens1370 as Kbuild compiles it (check-slicer's tree: its flags, its headers).
M="$ROOT/.build/slicer/m-ens1370"
[ -f "$M/.ens1370.o.cmd" ] || "$ROOT/Tests/slicer/check-slicer.sh" > "$WORK/check-slicer.log" 2>&1 || {
  echo "slice sound guest: check-slicer failed:"; tail -20 "$WORK/check-slicer.log"; exit 1; }
H="$WORK/halves"
"$BIN/driverslicer" "$M/ens1370.c" --kbuild-cmd "$M/.ens1370.o.cmd" --kbuild-dir "$KDIR" --halves "$H" --name ens1370 \
  --annotations "$ROOT/slicer/annotations/ens1370.slice" \
  --decaf snd_es1370_codec_write > "$WORK/halves.txt"

# make check runs guests side by side: one Kbuild in module/ at a time.
flock "$ROOT/module" make -s -C "$KDIR" M="$ROOT/module" modules
gcc -static -O2 -Wall -o "$WORK/wavtool" "$ROOT/Tests/vm/wavtool.c" -lm
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
# The kernel half: the driver's file as --halves wrote it, its module init
# registering through drvnucleus (drvslice-kernel.h), and the AK4531 codec
# library from the same source, as Debian's snd-ens1370 links it.
K="$H/kernel"
SRC=$(ls /usr/src/linux-source-6.1.tar.* | head -1)
tar -xf "$SRC" -C "$WORK" --strip-components=3 linux-source-6.1/sound/pci/ak4531_codec.c
mv "$WORK/ak4531_codec.c" "$K/"
# What drvnucleus's kernel API calls here and does not link itself (see
# "api_sym" in module/slice_api.c): the codec's calls, and snd-rawmidi's
# (not GPL-only exports, which symbol_get refuses) through wrappers.
cat > "$K/sound-exports.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <sound/core.h>
#include <sound/ak4531_codec.h>
#include <sound/rawmidi.h>

EXPORT_SYMBOL_GPL(snd_ak4531_mixer);
#ifdef CONFIG_PM
EXPORT_SYMBOL_GPL(snd_ak4531_suspend);
EXPORT_SYMBOL_GPL(snd_ak4531_resume);
#endif

int drvslice_snd_rawmidi_new(struct snd_card *card, char *id, int device,
			     int output_count, int input_count,
			     struct snd_rawmidi **rmidi);
int drvslice_snd_rawmidi_new(struct snd_card *card, char *id, int device,
			     int output_count, int input_count,
			     struct snd_rawmidi **rmidi)
{
	return snd_rawmidi_new(card, id, device, output_count, input_count, rmidi);
}
EXPORT_SYMBOL_GPL(drvslice_snd_rawmidi_new);

void drvslice_snd_rawmidi_set_ops(struct snd_rawmidi *rmidi, int stream,
				  const struct snd_rawmidi_ops *ops);
void drvslice_snd_rawmidi_set_ops(struct snd_rawmidi *rmidi, int stream,
				  const struct snd_rawmidi_ops *ops)
{
	snd_rawmidi_set_ops(rmidi, stream, ops);
}
EXPORT_SYMBOL_GPL(drvslice_snd_rawmidi_set_ops);
C
cat > "$K/Kbuild" <<KB
obj-m := slice-ens1370.o
slice-ens1370-y := ens1370.o ak4531_codec.o sound-exports.o
ccflags-y := -Werror
CFLAGS_ens1370.o := -I$ROOT/module/include -I$H -I$M -include $ROOT/module/include/drvslice-kernel.h \
  -DDRVSLICE_DESC=slice_ens1370_kernel -DDRVSLICE_CLASS=DRVXPC_CLASS_SOUND
KB
make -s -C "$KDIR" M="$K" KBUILD_EXTRA_SYMBOLS="$ROOT/module/Module.symvers" modules > "$WORK/k.log" 2>&1 || {
  echo "slice sound guest: the kernel half does not build:"; grep -E "error|warning|undefined" "$WORK/k.log" | head; exit 1; }
# The u-driver: the user half, the driver library and the host.
DECAF_SWIFT="$ROOT/slicer/decaf/ens1370" "$ROOT/slicer/build-udriver.sh" "$H" ens1370 "$M/.ens1370.o.cmd" "$KDIR" "$WORK/ens1370-udriver" > "$WORK/u.log" 2>&1 || {
  echo "slice sound guest: the u-driver does not build:"; tail -20 "$WORK/u.log"; exit 1; }

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/stock"
cp /bin/busybox "$WORK/root/bin/busybox"
# snd_es1370_codec_write's C body is the call of the Swift, which the
# u-driver has from the Swift module.
decaf="no"
if grep -q "slice_ens1370_swift_snd_es1370_codec_write((void \*)ak4531, reg, val);" "$H/user/ens1370.c" \
   && nm --defined-only "$WORK/ens1370-udriver.obj/decaf.o" | grep -q " T slice_ens1370_swift_snd_es1370_codec_write$" \
   && ! nm --defined-only "$WORK/ens1370-udriver.obj/half.o" | grep -q "slice_ens1370_swift_snd_es1370_codec_write$"; then
  decaf="snd_es1370_codec_write in Swift"
fi
echo "== decaf: $decaf"
cp "$ROOT/module/drvnucleus.ko" "$K/slice-ens1370.ko" "$WORK/wavtool" "$WORK/nucleus-client" "$WORK/root/"
# drvnucleus's dependencies, and the kernel half's (snd-rawmidi).
for m in sound/soundcore sound/core/snd sound/core/snd-timer sound/core/snd-pcm \
         sound/core/snd-seq-device sound/core/snd-rawmidi \
         drivers/usb/common/usb-common drivers/usb/core/usbcore; do
  cp "/lib/modules/$KVER/kernel/$m.ko" "$WORK/root/stock/"
done
mkdir -p "$WORK/root/usr/share"
cp -r /usr/share/alsa "$WORK/root/usr/share/"
mkdir -p "$WORK/root$BIN" "$WORK/root/etc/drivermgrd/drivers.d" "$WORK/root/slices"
cp "$WORK/ens1370-udriver" "$WORK/root/slices/"
guest_install "$WORK/root" "$BIN/drivermgrd" "$BIN/drvctl" "$WORK/ens1370-udriver" \
  /usr/bin/aplay /usr/bin/amixer /usr/bin/chrt
if [ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ]; then
  guest_install "$WORK/root" "$BIN/drvcampaign"
  # drivermgrd under fdstore (systemd's Restart=always and fd store), so
  # that the campaign can SIGKILL it and the next one take the u-driver over.
  gcc -static -O2 -Wall -o "$WORK/root/fdstore" "$ROOT/Sources/fdstore/fdstore.c"
  # The code mutations' targets: the user half's own functions (ens1370.c's
  # code that runs in the u-driver), not the driver library's or the host's.
  nm --defined-only "$WORK/ens1370-udriver.obj/half.o" | awk '$2 ~ /^[Tt]$/ { print $3 }' > "$WORK/root/own-functions"
fi
cat > "$WORK/root/etc/drivermgrd/drivers.d/ens1370.conf" <<CONF
[Driver]
Name=ens1370
Class=sound
Match=pci:1274:5000
Executable=/slices/ens1370-udriver
[Recovery]
# TCG is slow, and the probe writes the mixer's registers through an
# upcall each, and each of those is a downcall.
XPCTimeoutSec=30s
ProbeTimeoutSec=60s
Restart=on-failure
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF

guest_init_head > "$WORK/root/init"
cat >> "$WORK/root/init" <<INIT
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
ctl=$BIN/drvctl
for m in soundcore snd snd-timer snd-pcm snd-seq-device snd-rawmidi usb-common usbcore; do insmod /stock/\$m.ko; done
insmod /drvnucleus.ko upcall_timeout_ms=20000 && echo "== insmod drvnucleus ok"
insmod /slice-ens1370.ko && echo "== insmod slice-ens1370 ok"
$([ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ] && [ "$SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY" -gt 0 ] && echo "/fdstore /tmp/notify /tmp/drivermgrd.pid") \\
  $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN \\
  $([ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ] && [ "$SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY" -gt 0 ] && echo --fd-store) > /tmp/d.log 2>&1 &
for i in \$(seq 120); do \$ctl list --no-legend 2>/dev/null | grep -qE ' (active|failed) ' && break; sleep 0.5; done
\$ctl list --no-legend | sed 's/^/== list: /'
slot=\$(for d in /sys/bus/pci/devices/*; do [ "\$(cat \$d/vendor):\$(cat \$d/device)" = 0x1274:0x5000 ] && basename \$d; done | head -1)
echo "== driver: \$(basename \$(readlink /sys/bus/pci/devices/\$slot/driver))"
aplay -l 2>&1 | grep -E "^card" | sed 's/^/== aplay -l: /'
# A control's put and get: upcalls to the u-driver's AK4531 code.
amixer -c 0 cset name='Master Playback Volume' 20,20 2>&1 | grep -E ": values=" | sed 's/^/== master set: /'
amixer -c 0 cget name='Master Playback Volume' 2>&1 | grep -E ": values=" | sed 's/^/== master get: /'
# A volume the codec writes (in Swift) put into the chip: QEMU traces the
# ES1370's port writes (its CODEC register, at 0x10 of the I/O
# BAR, written 16 bits at a time, traced as 32: it keeps nothing to read).
amixer -c 0 cset name='Master Playback Volume' 21,21 2>&1 | grep -E ": values=" | sed 's/^/== master set to 21: /'
# Trailing silence past aplay's buffer: a late drain plays on into the
# ring (kernel-nucleus.sh says why), and plays silence.
/wavtool gen /tmp/t1.wav 501 3 44100 0.75; /wavtool gen /tmp/t2.wav 749 3 44100 0.75
# aplay runs SCHED_FIFO, as audio servers do (kernel-nucleus.sh says why).
chrt -f 10 aplay -q -D hw:0,0 /tmp/t1.wav 2>> /tmp/aplay.err && echo "== aplay baseline ok"
# The u-driver SIGKILLed one second into a 3 s tone: trigger, pointer and
# the interrupt are the kernel half's; the tone goes on.
pid_of() { \$ctl list --no-legend | awk '\$1 == "ens1370" { print \$5 }'; }
before=\$(pid_of)
chrt -f 10 aplay -q -D hw:0,0 /tmp/t2.wav 2>> /tmp/aplay.err &
p1=\$!
sleep 1
kill -9 \$before
wait \$p1 && echo "== aplay through the kill ok"
for i in \$(seq 60); do \$ctl list --no-legend | grep -q ' active ' && [ -n "\$(pid_of)" ] && [ "\$(pid_of)" != "\$before" ] && break; sleep 0.5; done
echo "== after the kill: \$(\$ctl list --no-legend | awk '{ print \$4 }'), restarts \$(\$ctl show ens1370 -p NRestarts --value), pid \$before -> \$(pid_of)"
sed 's/^/== aplay stderr: /' /tmp/aplay.err
# The new u-driver serves the controls.
amixer -c 0 cset name='Master Playback Volume' 25,25 2>&1 | grep -E ": values=" | sed 's/^/== master set after the recovery: /'
amixer -c 0 cget name='Master Playback Volume' 2>&1 | grep -E ": values=" | sed 's/^/== master get after the recovery: /'
# And the PCM: open, hw_params, prepare and close are upcalls into the
# u-driver that adopted the card.
chrt -f 10 aplay -q -D hw:0,0 /tmp/t1.wav > /tmp/aplay2.err 2>&1 && echo "== aplay after the recovery ok"
sed 's/^/== aplay after the recovery said: /' /tmp/aplay2.err
# ensoniq.reg_lock is a ComboLock (slicer/annotations/ens1370.slice):
# prepare and the controls took it in the u-driver, the kernel half's
# interrupt, trigger and pointer waited for it.
sed 's/^/== ComboLock /' /sys/module/drvnucleus/parameters/slice_combolocks
# Removal after the adoption: ens1370 has no remove (its card is
# devres-managed: snd_devm_card_new), so drvnucleus releases what devres
# would (the card, the interrupt, the buffer, the regions), and the card
# goes. Bound again, the u-driver is killed (drivermgrd hears of no
# removal) and its recovery's SLICE_PROBE probes the device anew.
drv=\$(basename \$(readlink /sys/bus/pci/devices/\$slot/driver))
echo "\$slot" > /sys/bus/pci/drivers/\$drv/unbind
sleep 1
echo "== after the unbind: \$([ -e /proc/asound/card0 ] && echo "the card is there" || echo "no card"), \$(dmesg | grep -c "remove goes to the u-driver that adopted") remove in the adopting u-driver, \$(dmesg | grep -c "drvnucleus releases what the driver left") left to release"
echo "\$slot" > /sys/bus/pci/drivers/\$drv/bind
before=\$(pid_of)
kill -9 \$before
for i in \$(seq 60); do \$ctl list --no-legend | grep -q ' active ' && [ -n "\$(pid_of)" ] && [ "\$(pid_of)" != "\$before" ] && [ -e /proc/asound/card0 ] && break; sleep 0.5; done
chrt -f 10 aplay -q -D hw:0,0 /tmp/t1.wav > /tmp/aplay3.err 2>&1 && echo "== aplay after the unbind and bind ok"
sed 's/^/== aplay after the unbind and bind said: /' /tmp/aplay3.err
if [ $SLICE_SOUND_CAMPAIGN_FAULTS -gt 0 ]; then
# The campaign. XPCTimeoutSec=3s (the probe keeps ProbeTimeoutSec='s 60 s):
# a hang is found by the heartbeat or the next upcall's deadline, after
# up to HeartbeatMaxSec= (5 s) of an idle driver's back-off, so hang and
# slow are watched for 10 s (--deadline-window-ms), the other kinds 2 s.
# The reload restarts the driver through recovery (adopted, not probed).
mkdir -p /etc/drivermgrd/drivers.d/ens1370.conf.d
printf '[Recovery]\nXPCTimeoutSec=3s\nStartLimitBurst=1000\nStartLimitIntervalSec=1s\nFaultInjection=yes\n' \
  > /etc/drivermgrd/drivers.d/ens1370.conf.d/60-campaign.conf
p_reload=\$(pid_of)
kill -HUP \$(pidof drivermgrd)
for i in \$(seq 60); do \$ctl list --no-legend | grep -q ' active ' && [ "\$(pid_of)" != "\$p_reload" ] && break; sleep 0.5; done
echo "== sound campaign: \$(\$ctl list --no-legend | awk '{ print \$1, \$4 }') after the reload, \$(wc -l < /own-functions) functions of the user half as targets"
rm -f /tmp/camp.done
/wavtool gen /tmp/tc.wav 613 2 44100 0.5
# Tone after tone; a tone aplay could not play (an error, an underrun on
# its stderr) counts as failed.
( n=0; bad=0
  while [ ! -e /tmp/camp.done ]; do
    n=\$((n + 1)); t=\$(date +%s.%N)
    chrt -f 10 aplay -q -D hw:0,0 /tmp/tc.wav > /tmp/caplay.one 2>&1
    rc=\$?
    if [ \$rc != 0 ] || [ -s /tmp/caplay.one ]; then
      bad=\$((bad + 1)); echo "tone from \$t to \$(date +%s.%N): exit \$rc \$(tr '\n' ' ' < /tmp/caplay.one)" >> /tmp/caplay.err
    fi
  done
  echo "\$n \$bad" > /tmp/caplay.count ) &
player=\$!
# The master volume set and read back: the value read must be the one set.
( n=0; bad=0; v=0
  while [ ! -e /tmp/camp.done ]; do
    n=\$((n + 1)); v=\$(( (v + 7) % 32 ))
    got=\$(timeout 30 amixer -c 0 cset name='Master Playback Volume' \$v,\$v 2>> /tmp/cmix.err | sed -n 's/.*: values=//p')
    [ "\$got" = "\$v,\$v" ] || { bad=\$((bad + 1)); echo "set \$v: got '\$got'" >> /tmp/cmix.err; }
    sleep 0.2
  done
  echo "\$n \$bad" > /tmp/cmix.count ) &
mixer=\$!
$BIN/drvcampaign attach --runtime-dir /tmp/run --drivers ens1370 --no-exercise --functions-file /own-functions \\
  $([ "$SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY" -gt 0 ] && echo "--daemon-pid \$(cat /tmp/drivermgrd.pid) --daemon-kill-every $SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY --daemon-pid-file /tmp/drivermgrd.pid") \\
  --faults $SLICE_SOUND_CAMPAIGN_FAULTS --seconds $SLICE_SOUND_CAMPAIGN_SECONDS --workers 1 --window-ms 2000 --deadline-window-ms 10000 \\
  --kinds sigkill crash abort hang slow garbage bad-param bit-flip invert-branch nop --out /tmp/scamp.jsonl 2>&1 | tail -1 | sed 's/^/== sound campaign: /'
touch /tmp/camp.done; wait \$player; wait \$mixer
set -- \$(cat /tmp/caplay.count)
echo "== sound campaign aplay: \$1 tones, \$2 failed"
set -- \$(cat /tmp/cmix.count)
echo "== sound campaign amixer: \$1 sets, \$2 failed"
head -5 /tmp/caplay.err 2>/dev/null | sed 's/^/== aplay said: /'
head -5 /tmp/cmix.err 2>/dev/null | sed 's/^/== amixer said: /'
$BIN/drvcampaign report /tmp/scamp.jsonl > /tmp/scamp.md; echo "== sound campaign report exit \$?"
sed 's/^/  /' /tmp/scamp.md
fi
# The kernel half unloaded with its u-driver gone: what the u-driver made
# (the card and all on it, the interrupt, the buffers, the regions) goes.
killall drivermgrd; sleep 1
timeout 60 rmmod slice_ens1370 && echo "== rmmod slice-ens1370 ok"
[ -e /proc/asound/card0 ] && echo "== the card is still there" || echo "== no card after rmmod"
timeout 60 rmmod drvnucleus && echo "== rmmod drvnucleus ok"
keep=\$([ $SLICE_SOUND_CAMPAIGN_FAULTS -gt 0 ] && echo 1000000 || echo 40)
echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log | tail -\$keep
dmesg | grep -vE "^\\[ *[0-9.]+\\] (ACPI|PCI|pci|usb|clocksource|x86|Memory|smpboot|devtmpfs)" | tail -40 | sed 's/^/  dmesg: /'
INIT
guest_init_tail >> "$WORK/root/init"
guest_initrd "$WORK"

timeout "${SLICE_SOUND_VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 $([ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ] && echo log_buf_len=8M)" \
  -audiodev wav,id=snd0,path="$WORK/out.wav" -device ES1370,audiodev=snd0 \
  -trace memory_region_ops_write -D "$WORK/trace.log" > "$WORK/console.log" 2>&1 || true

tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
if [ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ] && [ -n "${SLICE_SOUND_CONSOLE_LOG:-}" ]; then
  cp "$WORK/c.log" "$SLICE_SOUND_CONSOLE_LOG" && echo "slice sound guest: the console is in $SLICE_SOUND_CONSOLE_LOG"
fi
grep -E "^(== |  )" "$WORK/c.log" || true
ok=1
has() { grep -qE "$1" "$WORK/c.log" || { echo "FAILED: $2"; ok=0; }; }
has "== insmod drvnucleus ok" "insmod drvnucleus"
has "== insmod slice-ens1370 ok" "insmod the kernel half"
has "^== list: ens1370 +sound +[0-9a-f:.]+ +active " "the sliced u-driver active"
has "^== driver: slice_ens1370$" "the kernel half bound to the ES1370"
has "^== aplay -l: card 0: .*Ensoniq AudioPCI.*device 0: ES1370/1 \\[ES1370 DAC2/ADC\\]" "the card the u-driver's probe registered"
has "^== master set: +: values=20,20$" "a control's put"
has "^== master get: +: values=20,20$" "a control's get"
# 2 upcalls (4 messages) and 2 x (inl + outw: 4 messages), beyond the
# unchanged put's.
# The AK4531's master registers (LMASTER 0x00, RMASTER 0x01; volume in
# the low 5 bits, inverted: 31 - 20 = 11, 31 - 21 = 10, then 31 - 25 = 6
# from the new u-driver), the last writes of the chip's CODEC port, as
# the Swift codec write put them there.
codec=$( { grep -E " addr 0x[0-9a-f]*10 value 0x[0-9a-f]+ size [24] name 'es1370'" "$WORK/trace.log" || true; } \
  | sed -n 's/.* value \(0x[0-9a-f]*\) .*/\1/p' \
  | while read -r v; do printf '%04x ' $((v & 0xff1f)); done || true)
[ -n "$codec" ] || { echo "== trace: $(wc -l < "$WORK/trace.log") lines, e.g."; grep -m5 -E " addr 0x[0-9a-f]*1[0-3] value .*es1370" "$WORK/trace.log" || echo "no write at 0x10-0x13"; grep "es1370" "$WORK/trace.log" | awk "{print \$7, \$11}" | sort | uniq -c | sort -rn | head; }
# (The probe after the unbind and bind writes the codec's init after
# them, and a campaign's amixer loop the master volume hundreds of times:
# the three pairs are looked for anywhere, and a campaign's words are not
# all printed.)
if [ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ]; then
  echo "== codec words written (register << 8 | value, the switch bit masked): $(echo "$codec" | cut -d' ' -f1-40) ... ($(echo "$codec" | wc -w) in all)"
else
  echo "== codec words written (register << 8 | value, the switch bit masked): $codec"
fi
echo "$codec" | grep -qE "(^| )000b 010b 000a 010a 0006 0106( |$)" \
  || { echo "FAILED: the master volume's codec writes (Swift's snd_es1370_codec_write)"; ok=0; }
[ "$decaf" = "snd_es1370_codec_write in Swift" ] || { echo "FAILED: snd_es1370_codec_write is not the Swift one (decaf: $decaf)"; ok=0; }
has "^== aplay baseline ok" "aplay"
has "^== aplay through the kill ok" "aplay through the u-driver's SIGKILL"
has "^== aplay after the recovery ok" "aplay through the u-driver that adopted the card (its PCM callbacks)"
has "^== after the unbind: no card, 0 remove in the adopting u-driver, 1 left to release$" \
  "removal after an adoption: no remove (devres), the card and the rest released by drvnucleus"
has "^== aplay after the unbind and bind ok" "bound again after the unbind: a new probe, a tone through it"
has "^== after the kill: active, restarts 1, pid ([0-9]+) -> [0-9]+$" "recovered: a new u-driver, active"
has "slice_ens1370 [0-9a-f:.]+: ens1370: adopted by a new u-driver" "the new u-driver adopted the device (no second probe)"
has "^== master set after the recovery: +: values=25,25$" "a control's put in the new u-driver"
has "^== master get after the recovery: +: values=25,25$" "a control's get in the new u-driver"
has "^== ComboLock [0-9a-f:.]+ ensoniq.reg_lock: [1-9][0-9]* holds by the u-driver, [0-9]+ waits of the kernel half \\(longest [0-9]+ us\\), 0 overruns$" \
  "ensoniq.reg_lock held by the u-driver as a ComboLock, never overrun"
if [ "$SLICE_SOUND_CAMPAIGN_FAULTS" -gt 0 ]; then
  has "^== sound campaign: done: [1-9][0-9]* faults injected" "the campaign into the sliced u-driver ran"
  has "^== sound campaign report exit 0$" "the campaign's targets on the sliced sound driver (every manifested fault detected, recovered transparently)"
  has "^== sound campaign aplay: [1-9][0-9]* tones, 0 failed$" "tones aplay could not play during the campaign"
  has "^== sound campaign amixer: [1-9][0-9]* sets, 0 failed$" "master volume sets that did not read back during the campaign"
fi
has "^== rmmod slice-ens1370 ok" "unloading the kernel half"
has "^== no card after rmmod" "the card freed with the device"
has "^== rmmod drvnucleus ok" "unloading drvnucleus"
has "^== dmesg clean$" "dmesg"
if [ -s "$WORK/out.wav" ]; then
  "$WORK/wavtool" check "$WORK/out.wav" 501 749 | tee "$WORK/wav.txt"
  # Each tone played (>= 2.9 of its 3 s), the one with the kill in the
  # middle with no more glitches than the baseline.
  base=$(awk '/^tone 501 /{print $6}' "$WORK/wav.txt")
  for hz in 501 749; do
    awk -v hz="$hz" -v base="${base:-0}" '$1 == "tone" && $2 == hz { found = 1; good = $4 >= 2.9 && $6 <= base }
      END { exit !(found && good) }' "$WORK/wav.txt" || { echo "FAILED: tone $hz"; ok=0; }
  done
else
  echo "FAILED: no wav recorded"; ok=0
fi
if [ "$ok" = 1 ]; then echo "slice sound guest test: ok"; else
  echo "slice sound guest test: FAILED; console:"; tail -60 "$WORK/c.log"; exit 1; fi
