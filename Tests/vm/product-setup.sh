#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The product set up as an admin would, in the systemd guest: sourced by
# Tests/vm/product-test.sh, run by `make vm`'s boot unit. Needs BIN and
# ROOT; defines nic, snd, ifc, holder() and active(); prints "== " lines.
KVER=$(uname -r)
type fail > /dev/null 2>&1 || fail() { echo "FAIL: $*"; }
if [ -z "${DEBS:-}" ]; then
  # The product as installed from the tree, while udev settles (reading
  # the binaries over 9p the first time is most of its 15 s under TCG).
  make -s -C "$ROOT" install-files BIN="$BIN" PREFIX=/usr/local > /tmp/install-files.log 2>&1 &
  installing=$!
fi
udevadm settle
nic=$(basename "$(dirname "$(grep -l 0x8139 /sys/bus/pci/devices/*/device)")")
snd=$(basename "$(dirname "$(grep -l 0x5000 /sys/bus/pci/devices/*/device)")")
holder() { d=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$d" || echo none; }
echo "== udev bound: $nic to $(holder "$nic"), $snd to $(holder "$snd")"

# The admin's choice (drop-ins over the packaged configuration): these two
# devices to drvnucleus. TCG is slow: a 1 s call deadline. Fault
# injection, for drvctl inject, and room for the recoveries the test
# makes within a minute (the third tier alone takes four failures of the
# default five). Written first: the package starts the
# service when it is installed.
for d in rtl8139 ens1370; do
  mkdir -p /etc/drivermgrd/drivers.d/$d.conf.d
  printf '[Driver]\nBind=yes\n[Recovery]\nXPCTimeoutSec=1s\nFaultInjection=yes\nStartLimitBurst=20\n' > /etc/drivermgrd/drivers.d/$d.conf.d/50-vm.conf
done
if [ -n "${DEBS:-}" ]; then
  # The Debian packages (make deb): DKMS builds drvnucleus.ko for this
  # kernel, then drivermgr's postinst creates its user and tmpfiles,
  # enables and starts drivermgrd, which waits for the module.
  t0=$(date +%s)
  DEBIAN_FRONTEND=noninteractive dpkg -i "$DEBS"/drvnucleus-dkms_*_all.deb > /tmp/dpkg-dkms.log 2>&1 \
    && echo "== dpkg -i drvnucleus-dkms: ok, $(dkms status -m drvnucleus 2>/dev/null | tr "\n" " ")in $(( $(date +%s) - t0 )) s" \
    || { fail "dpkg -i drvnucleus-dkms"; tail -20 /tmp/dpkg-dkms.log; }
  DEBIAN_FRONTEND=noninteractive dpkg -i "$DEBS"/drivermgr_*_amd64.deb > /tmp/dpkg.log 2>&1 \
    && echo "== dpkg -i drivermgr: ok" || { fail "dpkg -i drivermgr"; tail -20 /tmp/dpkg.log; }
  echo "== installed: $(dpkg-query -W -f '${Package} ${Version} ${Status}, ' drivermgr drvnucleus-dkms)"
  echo "== drivermgrd enabled: $(systemctl is-enabled drivermgrd), user: $(id -un drivermgr 2>&1)"
  echo "== man: $(man -w drvctl drivermgrd drivermgrd.conf 2>&1 | tr '\n' ' ')"
  modprobe drvnucleus && echo "== modprobe drvnucleus: ok ($(modinfo -n drvnucleus))"
else
  # The files (started above), drvnucleus.ko for modprobe.
  wait "$installing" || { fail "make install-files"; tail -20 /tmp/install-files.log; }
  install -D -m 0644 "$ROOT/module/drvnucleus.ko" "/lib/modules/$KVER/updates/drvnucleus.ko"
  if [ -f "$WORK/depmod/lib/modules/$KVER/modules.dep" ]; then
    # The same index as depmod -a's, made on the host (systemd-guest.sh).
    cp "$WORK/depmod/lib/modules/$KVER"/modules.* "/lib/modules/$KVER/"
  else
    depmod -a
  fi
  modprobe drvnucleus && echo "== modprobe drvnucleus: ok"
  systemctl daemon-reload
  journalctl --update-catalog
fi
echo "== after modprobe: $nic to $(holder "$nic"), $snd to $(holder "$snd")"

if systemctl start drivermgrd; then echo "== systemctl start: ok"; else
  fail "systemctl start"; journalctl --no-pager -q -b -u drivermgrd -n 30 | sed 's/^/== journal: /'; fi
active() { [ "$(drvctl list --no-legend | grep -cE '^(rtl8139|ens1370) .* active ')" = 2 ]; }
for i in $(seq 60); do active && break; sleep 0.5; done
drvctl list --no-legend | grep -E '^(rtl8139|ens1370) ' | sed 's/^/== list: /'
echo "== Bind= took: $nic to $(holder "$nic"), $snd to $(holder "$snd")"
journalctl --no-pager -q -u drivermgrd | grep -oE "0000:[0-9a-f:.]+ → drvnucleus for [a-z0-9]+ \(from [a-z0-9_]+\)" | sed 's/^/== journal: /'

# The netdev drvnucleus registered (udev names it) on QEMU's user-mode
# network: 10.0.2.15, gateway 10.0.2.2.
ifc=$(ls "/sys/bus/pci/devices/$nic/net" 2>/dev/null | head -1)
echo "== interface: $ifc"
ip link set "$ifc" up; ip addr add 10.0.2.15/24 dev "$ifc"
for i in $(seq 20); do [ "$(cat /sys/class/net/$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
