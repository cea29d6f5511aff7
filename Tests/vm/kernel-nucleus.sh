#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The kernel path, for real: build drvnucleus.ko against Debian's headers,
# boot Debian's kernel in QEMU (TCG) with QEMU's rtl8139 and ES1370, load
# the module, run the genetlink client, unload, and fail on any kernel
# complaint. Nothing autoloads the stock 8139cp/snd-ens1370 here (no udev in
# the busybox initramfs), so drvnucleus is what binds the devices.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls /lib/modules | sort -V | tail -1)
WORK=$(mktemp -d /tmp/drvnucleus-vm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev"
cp /bin/busybox "$WORK/root/bin/busybox"
cp "$ROOT/module/drvnucleus.ko" "$WORK/nucleus-client" "$WORK/root/"
cat > "$WORK/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "== guest kernel $(uname -r)"
if insmod /drvnucleus.ko; then echo "== insmod ok"; fi
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/driver" ] && echo "== $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") bound to $(basename "$(readlink "$d/driver")")"
done
/nucleus-client
if rmmod drvnucleus; then echo "== rmmod ok"; fi
if dmesg | grep -E "BUG|Oops|WARNING|Call Trace"; then echo "== dmesg: the kernel complained"; else echo "== dmesg clean"; fi
poweroff -f
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$WORK/initrd.gz"

timeout 180 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -device rtl8139 -device ES1370 > "$WORK/console.log" 2>&1 || true

grep -E "^(== |PASS|FAIL|TxConfig|[0-9]+ passed)" "$WORK/console.log" | tr -d '\r' || true
ok=1
grep -q "== insmod ok" "$WORK/console.log" || ok=0
grep -q "0000:00:0[0-9a-f].0 0x10ec:0x8139 bound to drvnucleus" "$WORK/console.log" || ok=0
grep -qE "^[0-9]+ passed, 0 failed" <(tr -d '\r' < "$WORK/console.log") || ok=0
grep -q "== rmmod ok" "$WORK/console.log" || ok=0
grep -q "== dmesg clean" "$WORK/console.log" || ok=0
if [ "$ok" = 1 ]; then echo "kernel nucleus VM test: ok"; else
  echo "kernel nucleus VM test: FAILED; console:"; tr -d '\r' < "$WORK/console.log" | tail -40; exit 1; fi
