#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The scenario every NIC microdriver passes on the kernel path (run in the
# busybox guest by net-guest.sh, with drivermgrd running): one line per
# finding, "== NAME: ...", which the host side checks.
#
# usage: net-scenario.sh NAME VVVV:DDDD K SPEED   (network 10.0.(K+2).0/24)
name=$1 pciid=$2 k=$3
net=10.0.$((k + 2))
gw=$net.2
ctl=$BIN/drvctl

say() { echo "== $name: $*"; }
state() { $ctl list --no-legend | awk -v n="$name" '$1 == n { print $4 }'; }
upid() { $ctl list --no-legend | awk -v n="$name" '$1 == n { print $5 }'; }
status_field() { $ctl status "$name" --json=short | grep -o "\"$1\":[^,}]*" | head -1 | sed 's/^[^:]*://; s/"//g'; }
hash_bits() { $ctl status "$name" --json=short | grep -o '"multicastHashBits":\[[0-9,]*\]' | sed 's/.*\[//; s/\]//'; }
wait_active() { for _ in $(seq 60); do [ "$(state)" = active ] && return 0; sleep 0.5; done; return 1; }
# What crossed the kernel hop for an operation (drvxpc bytes and messages,
# the nucleus's counters): measured for the report, not asserted. Periods
# of seconds include the u-driver's periodic link check.
xpc() { /nucleus-client bytes "$pciid" | awk '{ print $2, $5 }'; }
cost() { echo "$1 $2" | awk '{ printf "%d bytes in %d messages", $3 - $1, $4 - $2 }'; }
wait_carrier() { for _ in $(seq 30); do [ "$(cat /sys/class/net/$ifc/carrier 2>/dev/null)" = "$1" ] && return 0; sleep 0.5; done; return 1; }
# COUNT echo requests a second apart, each given 3 s for its reply (the
# NICs' scenarios run side by side on a TCG guest, where busybox ping's
# one second is too short and a late reply would be counted lost).
pings() { /nucleus-client echo "$gw" "$1" 1000 3 | sed "s/^/== $name: $2: /"; }
# A ping stream (5 s at 100 a second) with a failure of the u-driver one
# second in.  nucleus-client counts the replies to its own stream (its
# ICMP id), waiting up to 3 s for the last ones: busybox ping waits only
# about a second, so a reply delayed by a TCG stall (the new u-driver being
# spawned) would be counted lost though the nucleus delivered it, and the
# stack's counters in /proc/net/snmp are shared by the NICs' scenarios,
# which run side by side.
stream() {
	/nucleus-client echo "$gw" 500 10 3 > /tmp/stream.$name 2>&1 &
	p=$!
	sleep 1
	"$@"
	wait $p
	wait_active || say "not active again after $*"
}

wait_active || { say "never active: $($ctl list --no-legend | grep "$name")"; exit 0; }
ifc=
for i in /sys/class/net/*; do
	[ "$(cat "$i/device/vendor" 2>/dev/null):$(cat "$i/device/device" 2>/dev/null)" = "0x${pciid%:*}:0x${pciid#*:}" ] && ifc=$(basename "$i")
done
[ -n "$ifc" ] || { say "no interface for $pciid"; exit 0; }
say "probed as $ifc (pci $pciid), chip $(status_field chip)"
ip link set "$ifc" up
ip addr add "$net.15/24" dev "$ifc"
wait_carrier 1
say "xpc for probe and open: $(cost "0 0" "$(xpc)")"
pings 5 ping

# Failures in the middle of a ping stream: nothing lost, no carrier flap.
cc0=$(cat "/sys/class/net/$ifc/carrier_changes")
x0=$(xpc)
stream kill -9 "$(upid)"
say "xpc for a SIGKILL's recovery (a 5 s echo stream): $(cost "$x0" "$(xpc)")"
sed "s/^/== $name: ping during kill: /" "/tmp/stream.$name"
stream "$ctl" inject "$name" hang
sed "s/^/== $name: ping during hang: /" "/tmp/stream.$name"
stream "$ctl" inject "$name" bad-param
sed "s/^/== $name: ping during bad-param: /" "/tmp/stream.$name"
say "carrier changes during the failures: $(( $(cat "/sys/class/net/$ifc/carrier_changes") - cc0 ))"
say "recovered $($ctl history "$name" | grep -o "recovered [a-z-]*" | sed 's/recovered //' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"

# The configuration reaches the chip's registers (read back by the nucleus)
# and survives a kill of the u-driver.
x0=$(xpc)
ip link set "$ifc" address "52:54:00:12:34:9$k"
sleep 2
say "xpc for set address (2 s): $(cost "$x0" "$(xpc)")"
say "mac after set address: $(status_field mac)"
x0=$(xpc)
ip link set "$ifc" promisc on
sleep 2
say "xpc for promisc on (2 s): $(cost "$x0" "$(xpc)")"
say "rx mode after promisc on: $(status_field rxMode)"
ip link set "$ifc" promisc off
sleep 2
say "rx mode after promisc off: $(status_field rxMode)"
# The membership lasts until the filter has been read after the kill (its
# process is killed then, which leaves the group): a fixed length could
# run out first on a loaded TCG guest.
/nucleus-client join "239.1.2.$k" "$ifc" 300 &
j=$!
sleep 2
before=$(hash_bits)
say "hash bits after the join: $before"
kill -9 "$(upid)"
sleep 1
wait_active
after=$(hash_bits)
if [ "$after" = "$before" ]; then say "hash bits after a kill: same"; else say "hash bits after a kill: $after"; fi
kill $j; wait $j
ip link set "$ifc" promisc on
sleep 2
kill -9 "$(upid)"
sleep 1
wait_active
say "config after a kill: mac $(status_field mac) $(status_field rxMode)"
ip link set "$ifc" promisc off
pings 3 "ping after the kills"

# The cable: QEMU's monitor takes the link down and up (the host forwards
# "monitor:" lines); the chip's link interrupt or the periodic check sends
# the u-driver to the PHY, and the carrier follows.
echo "== monitor: set_link n$k off"
wait_carrier 0
say "carrier with the cable out: $(cat "/sys/class/net/$ifc/carrier")"
echo "== monitor: set_link n$k on"
wait_carrier 1
say "carrier with the cable in: $(cat "/sys/class/net/$ifc/carrier")"
sleep 1
pings 3 "ping after the cable"
say "link speed $(cat "/sys/class/net/$ifc/speed") Mbit/s, duplex $(cat "/sys/class/net/$ifc/duplex")"

# Steady state: what crosses the kernel hop during a 5 s UDP stream
# (the link check only, if the data path is all in the nucleus).
m0=$(/nucleus-client bytes "$pciid" | awk '{ print $5 }')
/nucleus-client udp "$gw" "$ifc" 5 > /dev/null
m1=$(/nucleus-client bytes "$pciid" | awk '{ print $5 }')
say "xpc messages during a 5 s udp stream: $((m1 - m0))"

# A crash storm past StartLimitBurst: drivermgrd gives up, the nucleus
# quiesces the device (queue stopped, carrier off).
# A crash each time the driver is active again, for up to 60 s: on a
# loaded host a recovery takes seconds, and a fixed number of tries could
# end before StartLimitBurst is reached.
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$end" ]; do
	st=$(state)
	[ "$st" = failed ] && break
	[ "$st" = active ] && "$ctl" inject "$name" crash > /dev/null 2>&1
	sleep 0.3
done
sleep 1
say "after the storm: $(state), carrier $(cat "/sys/class/net/$ifc/carrier")"
slot=$($ctl list --no-legend | awk -v n="$name" '$1 == n { print $3 }')
dmesg | grep -q "$slot: quiesced" && say "nucleus quiesced"
ip link set "$ifc" down
exit 0
