#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The structured genetlink fuzzer (Tests/vm/genl-fuzz.c) against
# drvnucleus.ko in a busybox guest under QEMU (TCG, -smp 1) with the five
# chips the module drives: rtl8139, e1000, pcnet, ne2k_pci (net) and
# ES1370 (sound).  The guest loads the module, records what DEVICE_INFO
# shows, runs the fuzzer, checks that every device still answers
# DEVICE_INFO, that the tracker holds only what a data path pinned, that
# rmmod works and leaves 0 DMA objects live, and that dmesg is clean.
#
# usage: Tests/vm/genl-fuzz.sh [MESSAGES [SEED]]
#   GENL_FUZZ_SECONDS bounds the fuzzer's own run (0: none);
#   GENL_FUZZ_ARGS adds options (--raw-writes, --max-live N, --verbose);
#   GENL_FUZZ_TIMEOUT bounds QEMU (default: enough for MESSAGES at 1,000/s).
#
# dmesg verdict: any line matching $BAD below fails the run.  The module's
# own ratelimited complaints about bad input ("message length N does not
# match its header", "upcall X not answered", "daemon went away",
# "callbacks suppressed") and the class registrations are expected.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls /lib/modules | sort -V | tail -1)
MESSAGES=${1:-1000000}
SEED=${2:-$(date +%s)}
SECONDS_LIMIT=${GENL_FUZZ_SECONDS:-0}
EXTRA_ARGS=${GENL_FUZZ_ARGS:-}
TIMEOUT=${GENL_FUZZ_TIMEOUT:-$((120 + MESSAGES / 1000))}
WORK=$(mktemp -d /tmp/drvnucleus-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
BAD='BUG|Oops|WARNING|Call Trace|KASAN|UBSAN|list_del corruption|list_add corruption|refcount_t|general protection|unable to handle|soft lockup|hard LOCKUP|blocked for more than|nobody cared|Disabling IRQ|stack-protector|double free|use-after-free|self-detected stall|detected stalls'

# make check runs guests side by side: one Kbuild in module/ at a time.
flock "$ROOT/module" make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
gcc -static -O2 -Wall -pthread -o "$WORK/genl-fuzz" "$ROOT/Tests/vm/genl-fuzz.c"

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/snd"
cp /bin/busybox "$WORK/root/bin/busybox"
cp "$ROOT/module/drvnucleus.ko" "$WORK/genl-fuzz" "$WORK/root/"
# drvnucleus.ko needs ALSA's core (snd, snd-pcm): Debian builds it as modules.
for m in soundcore core/snd core/snd-timer core/snd-pcm; do
  cp "/lib/modules/$KVER/kernel/sound/$m.ko" "$WORK/root/snd/"
done
# and USB's core for the usb-host class (CONFIG_USB=m in Debian).
cp "/lib/modules/$KVER/kernel/drivers/usb/common/usb-common.ko" \
   "/lib/modules/$KVER/kernel/drivers/usb/core/usbcore.ko" "$WORK/root/snd/"
cat > "$WORK/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in soundcore snd snd-timer snd-pcm usb-common usbcore; do insmod /snd/\$m.ko; done
# A dropped upcall reply costs its deadline: 200 ms here, not 3 s.
insmod /drvnucleus.ko upcall_timeout_ms=200 ids=10ec:8139,1274:5000,10ec:8029,1022:2000,8086:100e && echo "== insmod ok"
for d in /sys/bus/pci/devices/*; do
  [ -e "\$d/driver" ] && [ "\$(basename "\$(readlink "\$d/driver")")" = drvnucleus ] && \
    echo "== bound: \$(cat "\$d/vendor"):\$(cat "\$d/device")"
done
/genl-fuzz --info | sed 's/^/== before: /'
t0=\$(cut -d' ' -f1 /proc/uptime)
/genl-fuzz --seed $SEED --messages $MESSAGES --seconds $SECONDS_LIMIT $EXTRA_ARGS
echo "== fuzzer exit \$?"
echo "== fuzzer wall \$(awk -v a=\$t0 '{ printf "%.1f", \$1 - a }' /proc/uptime) s"
/genl-fuzz --info | sed 's/^/== after: /'
if rmmod drvnucleus; then echo "== rmmod ok"; fi
dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
dmesg > /tmp/dmesg
echo "== dmesg drvnucleus lines: \$(grep -c drvnucleus /tmp/dmesg)"
grep -E "drvnucleus|callbacks suppressed" /tmp/dmesg | sed 's/^\[[ 0-9.]*\] //' | sort | uniq -c | sort -rn | head -20 | sed 's/^/== dmesg: /'
# The only upcall the guest waits for is the PING of SIM_CONTROL (the
# fuzzer drops a few replies on purpose); the timeout's message must name
# it (it named whatever reused the freed skb before runtime.c kept the op).
echo "== upcalls not answered: \$(grep -c 'not answered within' /tmp/dmesg), named other than PING: \$(grep 'not answered within' /tmp/dmesg | grep -vc 'upcall PING ')"
if grep -E "$BAD" /tmp/dmesg; then grep -E -A12 "$BAD" /tmp/dmesg | head -60; echo "== dmesg: the kernel complained"; else echo "== dmesg clean"; fi
poweroff -f
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$WORK/initrd.gz"

start=$(date +%s)
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -netdev user,id=n0 -device rtl8139,netdev=n0 \
  -netdev user,id=n1 -device e1000,netdev=n1 \
  -netdev user,id=n2 -device pcnet,netdev=n2 \
  -netdev user,id=n3 -device ne2k_pci,netdev=n3 \
  -audiodev none,id=snd0 -device ES1370,audiodev=snd0 > "$WORK/console.log" 2>&1 || true
end=$(date +%s)
tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
grep -E "^(== |genl-fuzz: |info: )" "$WORK/c.log" || true
echo "wall time including boot: $((end - start)) s"

ok=1
has() { grep -qE "$1" "$WORK/c.log" || { echo "missing: $2"; ok=0; }; }
has "== insmod ok" "insmod"
[ "$(grep -c '^== bound: ' "$WORK/c.log")" = 5 ] || { echo "not all five devices bound"; ok=0; }
has "^== fuzzer exit 0$" "the fuzzer's verdict"
has "^genl-fuzz: ok$" "the fuzzer's verdict"
has "^genl-fuzz: check: SIM_CONTROL PING COUNT 2048 answered with 2048 samples" "a PING of COUNT 2048 answered in one reply"
has "^genl-fuzz: check: a PING left unanswered failed with -EAGAIN" "a PING left unanswered times out"
has "^genl-fuzz: check: DEVICE_INFO lists [0-9]+ objects" "DEVICE_INFO of a device with 160 more objects"
has "^== after: info: 5 devices" "DEVICE_INFO from every device after the run"
has "^== rmmod ok" "rmmod"
has "^== drvnucleus: unloaded, 0 DMA objects live" "0 DMA objects live after rmmod"
has "^== dmesg clean$" "dmesg clean"
has "^== upcalls not answered: [1-9][0-9]*, named other than PING: 0$" "upcall timeouts that name the upcall"
# What the tracker holds after the fuzzer freed what it could: exactly the
# objects the fuzzer's model says a data path pinned.
after=$(grep -o "^== after: info: 5 devices, [0-9]* DMA objects" "$WORK/c.log" | grep -o "[0-9]* DMA" | grep -o "[0-9]*" || echo x)
pinned=$(grep -o "^genl-fuzz: objects live at the end [0-9]* (pinned [0-9]*)" "$WORK/c.log" | grep -o "pinned [0-9]*" | grep -o "[0-9]*" || echo y)
live=$(grep -o "^genl-fuzz: objects live at the end [0-9]*" "$WORK/c.log" | grep -o "[0-9]*$" || echo z)
[ "$after" = "$live" ] && [ "$live" = "$pinned" ] || { echo "objects after the run: DEVICE_INFO $after, model $live, pinned $pinned"; ok=0; }
if [ "$ok" = 1 ]; then echo "genl fuzz VM test: ok (seed $SEED, $MESSAGES messages)"; else
  echo "genl fuzz VM test: FAILED (seed $SEED); console:"; tail -60 "$WORK/c.log"; exit 1; fi
