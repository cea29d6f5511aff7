#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# drivermgrd under real systemd and journald: boot Debian's kernel in QEMU
# (TCG) with this machine's root over 9p (read-only, with a tmpfs overlay
# for the guest's writes) and systemd as PID 1. A oneshot unit runs the
# test script (Tests/vm/systemd-test.sh unless named): `make install-files`
# of the built binaries into the overlay, then `systemctl start drivermgrd`
# and the checks. Results come back over a second, writable 9p share.
#
#   systemd-guest.sh [TEST.sh [QEMU ARGS...]]
#
# VM_INTERACTIVE=1 (make vm): the unit runs the script and the guest stays
# up, root logged in on the serial console; QEMU in the foreground.
set -euo pipefail
INTERACTIVE=${VM_INTERACTIVE:-0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls /lib/modules | sort -V | tail -1)
TEST=${1:-systemd-test.sh}
[ $# -gt 0 ] && shift
WORK=$(mktemp -d "$ROOT/.build/systemd-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
BIN=$(cd "$ROOT" && swift build --show-bin-path)
mkdir -p "$WORK/root/bin" "$WORK/root/mods" "$WORK/results"
# A tone generator and checker for the tests that play sound.
gcc -static -O2 -Wall -o "$WORK/wavtool" "$ROOT/Tests/vm/wavtool.c" -lm
# Echo streams counted per request (the product test's campaign).
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
cp /bin/busybox "$WORK/root/bin/busybox"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache \
         9pnet 9pnet_virtio 9p overlay; do
  cp "$(modinfo -k "$KVER" -n "$m")" "$WORK/root/mods/$m.ko"
done
# modprobe's index with the module built in the tree in updates/, made here:
# `depmod -a` in the guest reads all 4,000 modules over 9p under TCG and
# takes 85 s; here, over the same files (symlinked), about one second.
# product-setup.sh installs it in place of running depmod.
if [ -z "${DEBS:-}" ] && [ -f "$ROOT/module/drvnucleus.ko" ]; then
  idx="$WORK/depmod/lib/modules/$KVER"
  mkdir -p "$idx/updates"
  for f in "/lib/modules/$KVER"/*; do
    case "$(basename "$f")" in modules.*|updates) ;; *) ln -s "$f" "$idx/";; esac
  done
  cp "/lib/modules/$KVER"/modules.order "/lib/modules/$KVER"/modules.builtin* "$idx/"
  cp "$ROOT/module/drvnucleus.ko" "$idx/updates/"
  depmod -b "$WORK/depmod" "$KVER"
fi
# The unit that runs the script once the system is up: it powers the guest
# off after a test; interactive, it stays, and the console logs root in.
if [ "$INTERACTIVE" = 1 ]; then
  after="RemainAfterExit=yes"
  cat > "$WORK/root/autologin.conf" <<CONF
# The prompt comes once the product runs.
[Unit]
After=drivermgr-test.service
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %I \$TERM
CONF
  cat > "$WORK/root/motd" <<MOTD

drivermgr VM: drivermgrd runs under systemd, drvnucleus.ko owns QEMU's rtl8139
and ES1370 (Bind=), the u-drivers run sandboxed, eth at 10.0.2.15. The setup:
  journalctl -u drivermgr-test
Try (README, "A five-minute tour"):
  drvctl list; drvctl status rtl8139; busybox ping -c 3 10.0.2.2
  drvctl inject rtl8139 crash; drvctl history rtl8139; journalctl -x -u drivermgrd
Leave: poweroff (or Ctrl-A X).

MOTD
else
  after="ExecStopPost=/bin/systemctl poweroff --no-block"
fi
# The guest boots into a target of its own: the base system (journald,
# udev, tmpfiles) and the consoles, without the services this host's root
# enables for itself (a database took 17 s of a 42 s boot here).
cat > "$WORK/root/drivermgr-guest.target" <<UNIT
[Unit]
Description=drivermgr guest: the base system, the test unit, the consoles
Requires=basic.target
After=basic.target
Wants=drivermgr-test.service getty.target
AllowIsolate=yes
UNIT
cat > "$WORK/root/drivermgr-test.service" <<UNIT
[Unit]
Description=drivermgr guest: $TEST
After=basic.target
[Service]
Type=oneshot
Environment=BIN=$BIN ROOT=$ROOT WORK=$WORK DEBS=${DEBS:-}
ExecStart=/bin/sh $ROOT/Tests/vm/$TEST
$after
UNIT
cat > "$WORK/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache \\
         9pnet 9pnet_virtio 9p overlay; do insmod /mods/\$m.ko; done
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /lower
mount -t tmpfs -o size=1g tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot
mkdir -p /newroot/mnt/results
mount -t 9p -o trans=virtio,version=9p2000.L results /newroot/mnt/results
mount -t tmpfs tmpfs /newroot/run
cp /drivermgr-test.service /drivermgr-guest.target /newroot/etc/systemd/system/
# The default target (not systemd.unit=: with this host's /.dockerenv in the
# root, systemd takes itself for a container and ignores the command line).
ln -sf drivermgr-guest.target /newroot/etc/systemd/system/default.target
if [ -e /autologin.conf ]; then
  # Whichever getty holds the console: console-getty where this root
  # enables it, serial-getty@ttyS0 (the getty generator's) otherwise.
  for g in serial-getty@ttyS0 console-getty; do
    mkdir -p /newroot/etc/systemd/system/\$g.service.d
    sed "s/%I/\$([ \$g = console-getty ] && echo - || echo %I)/" /autologin.conf > /newroot/etc/systemd/system/\$g.service.d/autologin.conf
  done
  cp /motd /newroot/etc/motd
fi
# systemd-tmpfiles empties /tmp at boot (tmpfiles.d/tmp.conf: "D /tmp"):
# keep it, the checkout may live there.
mkdir -p /newroot/etc/tmpfiles.d
echo "d /tmp 1777 root root -" > /newroot/etc/tmpfiles.d/tmp.conf
# Nothing of the host's own services that would wait for a network.
for u in systemd-networkd-wait-online.service NetworkManager-wait-online.service; do
  ln -sf /dev/null /newroot/etc/systemd/system/\$u
done
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /lib/systemd/systemd
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$WORK/initrd.gz"

if [ "$INTERACTIVE" = 1 ]; then
  # KVM where the CPU has the virtualisation extensions and /dev/kvm is
  # usable (VM_ACCEL=kvm or tcg overrides); TCG otherwise, as the tests
  # always use: a /dev/kvm was seen on a CPU without vmx/svm that hung the
  # guest at boot.
  accel=${VM_ACCEL:-auto}
  if [ "$accel" = auto ]; then
    accel=tcg
    grep -qwE 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ] && accel=kvm
  fi
  cpu=""; [ "$accel" = kvm ] && cpu="-cpu host"
  echo "Booting ($accel; under TCG about a minute); root is logged in on this console once drivermgrd runs. Quit: Ctrl-A X, or poweroff."
  # shellcheck disable=SC2086
  qemu-system-x86_64 -accel "$accel" $cpu -m 1536 -smp 2 -nographic -no-reboot \
    -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4 systemd.show_status=0" \
    -fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=r,mount_tag=hostroot \
    -fsdev local,id=res,path="$WORK/results",security_model=none \
    -device virtio-9p-pci,fsdev=res,mount_tag=results "$@"
  exit 0
fi
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -m 1536 -smp 2 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4 systemd.show_status=0" \
  -fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=r,mount_tag=hostroot \
  -fsdev local,id=res,path="$WORK/results",security_model=none \
  -device virtio-9p-pci,fsdev=res,mount_tag=results "$@" > "$WORK/console.log" 2>&1 || true

if [ ! -s "$WORK/results/log" ]; then
  echo "$TEST: FAILED (no results); console:"; tail -40 "$WORK/console.log"; exit 1
fi
cat "$WORK/results/log"
tail -1 "$WORK/results/log" | grep -q " test: ok$"
