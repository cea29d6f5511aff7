#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every NIC microdriver on the kernel path, in one guest boot: Debian's
# kernel under QEMU (TCG) with one emulated NIC per row of the table below,
# each on its own user-mode network, drvnucleus.ko, drivermgrd and the
# u-drivers. The same scenario runs for each NIC, the NICs side by side
# (Tests/vm/net-scenario.sh): probe, ping, a SIGKILL, a hang and a bad
# parameter of the u-driver in the middle of a 100-a-second echo stream with
# 0 lost and no carrier flap, the MAC, promisc and a multicast join read
# back from the chip and unchanged after a kill, QEMU's set_link off/on,
# the XPC messages of a 5 s UDP stream, a
# crash storm ending in QUIESCE; then rmmod with 0 DMA objects, dmesg
# clean, and the same UDP stream through the stock driver.
#
# usage: Tests/vm/net-guest.sh [NAME...]    (default: every row)
set -euo pipefail
# Interleaved microdriver/stock rounds for the throughput figures
# (make bench-vm runs more).
ROUNDS=${ROUNDS:-3}
# Faults the campaign (drvcampaign attach) drives into the NICs' u-drivers
# on drvnucleus.ko under a ping stream through every NIC, within
# CAMPAIGN_SECONDS (make campaign-vm runs more; 0 skips it).
CAMPAIGN_FAULTS=${CAMPAIGN_FAULTS:-40}
CAMPAIGN_SECONDS=${CAMPAIGN_SECONDS:-120}
# The u-drivers run in the shipped sandbox (a dynamic uid each, both
# seccomp stages), so the sandbox's own faults are in the mix.
CAMPAIGN_KINDS=${CAMPAIGN_KINDS:-crash abort hang slow bad-param garbage memory syscall fork-bomb flood lost-write sigkill}
# drivermgrd's own SIGKILL every N faults (0: never): the daemon runs with
# --fd-store under fdstore (systemd's Restart=always and fd store, which
# the guest lacks), half the kills while a driver recovers from a crash.
CAMPAIGN_DAEMON_KILL_EVERY=${CAMPAIGN_DAEMON_KILL_EVERY:-10}
# The drivers the campaign injects into (default: every active one).
CAMPAIGN_DRIVERS=${CAMPAIGN_DRIVERS:-}
# With a campaign: a file on the host that gets the whole console, with
# drivermgrd's log and dmesg in full after the report (the guest and its
# logs are gone after the run; a miss is looked into from this).
CAMPAIGN_CONSOLE_LOG=${CAMPAIGN_CONSOLE_LOG:-}
# How many NICs run the scenario at once (each on its own interface,
# subnet and u-driver; their output lines interleave, each names its NIC).
NET_PARALLEL=${NET_PARALLEL:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
WORK=$(mktemp -d /tmp/drvnucleus-net.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The table: one file per NIC, Tests/vm/nics/NAME.row, one line: name (as
# drvctl knows it), QEMU device, PCI id, u-driver executable, the stock
# driver's modules in load order (under kernel/drivers/net/), the link
# speed the u-driver reports on QEMU's model, and what QEMU's model of the
# chip cannot show ("-", or a comma list of: link (no link state for
# set_link), rxflags (the receive mode does not read back)); those checks
# are reported as not made, with the reason in the row's comment.
NICS=$(cat "$ROOT"/Tests/vm/nics/*.row | grep -v '^#')
if [ $# -gt 0 ]; then
  NICS=$(awk -v want=" $* " 'index(want, " " $1 " ")' <<< "$NICS")
fi
[ -n "$NICS" ] || { echo "net-guest: no such NIC in the table: $*"; exit 2; }

# make check runs guests side by side: one Kbuild in module/ at a time.
flock "$ROOT/module" make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
gcc -static -O2 -Wall -o "$WORK/nucleus-client" "$ROOT/Tests/vm/nucleus-client.c"
gcc -static -O2 -Wall -o "$WORK/fdstore" "$ROOT/Sources/fdstore/fdstore.c"

mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/stock"
cp /bin/busybox "$WORK/root/bin/busybox"
cp "$ROOT/module/drvnucleus.ko" "$WORK/nucleus-client" "$WORK/fdstore" "$ROOT/Tests/vm/net-scenario.sh" "$WORK/root/"
# drvnucleus.ko links against ALSA's core for the sound class.
for m in soundcore core/snd core/snd-timer core/snd-pcm; do
  cp "/lib/modules/$KVER/kernel/sound/$m.ko" "$WORK/root/stock/"
done
# and USB's core for the usb-host class (CONFIG_USB=m in Debian).
cp "/lib/modules/$KVER/kernel/drivers/usb/common/usb-common.ko" \
   "/lib/modules/$KVER/kernel/drivers/usb/core/usbcore.ko" "$WORK/root/stock/"
BIN=$(cd "$ROOT" && swift build --show-bin-path)
mkdir -p "$WORK/root$BIN" "$WORK/root/etc/drivermgrd/drivers.d"
exes="$BIN/drivermgrd $BIN/drvctl $BIN/drvcampaign $BIN/psmouse $BIN/uhci"
idx=0
while read -r name qdev pciid exe stock speed lacks; do
  [ -n "$name" ] || continue
  exes+=" $BIN/$exe"
  for m in ${stock//,/ }; do cp "/lib/modules/$KVER/kernel/drivers/net/$m" "$WORK/root/stock/"; done
  cat > "$WORK/root/etc/drivermgrd/drivers.d/$name.conf" <<CONF
[Driver]
Name=$name
Class=net
Match=pci:$pciid
Executable=$exe
[Recovery]
FaultInjection=yes
# TCG is slow: upcalls get a deadline a real machine would not need.
XPCTimeoutSec=1s
# The scenario fails the u-driver five times before its crash storm.
StartLimitBurst=6
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF
  idx=$((idx + 1))
done <<< "$NICS"
# shellcheck disable=SC2086
guest_install "$WORK/root" $exes
# The table as the guest reads it: NIC number k runs on 10.0.(k+2).0/24.
echo "$NICS" > "$WORK/root/nics"

guest_init_head > "$WORK/root/init"
cat >> "$WORK/root/init" <<INIT
export BIN=$BIN DRIVERMGRD_RUNTIME_DIR=/tmp/run
echo "== guest kernel \$(uname -r)"
for m in soundcore snd snd-timer snd-pcm usb-common usbcore; do insmod /stock/\$m.ko; done
insmod /drvnucleus.ko ids=10ec:8139,1274:5000,10ec:8029,1022:2000,8086:100e && echo "== insmod ok"
$BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN > /tmp/d.log 2>&1 &
k=0 scenarios=
while read -r name qdev pciid exe stock speed lacks; do
  [ -n "\$name" ] || continue
  k=\$((k + 1))
  /net-scenario.sh "\$name" "\$pciid" "\$k" "\$speed" < /dev/null &
  scenarios="\$scenarios \$!"
  if [ \$((k % $NET_PARALLEL)) = 0 ]; then wait \$scenarios; scenarios=; fi
done < /nics
[ -z "\$scenarios" ] || wait \$scenarios
echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log | tail -60
killall drivermgrd; sleep 1
rmmod drvnucleus && echo "== rmmod ok"
dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
# Throughput beside the stock drivers: ROUNDS interleaved pairs, each a
# 4 s UDP stream through every microdriver, then through every stock
# driver, each in a fresh module load.
ifc_of() {
  for i in /sys/class/net/*; do
    [ "\$(cat \$i/device/vendor 2>/dev/null):\$(cat \$i/device/device 2>/dev/null)" = "0x\${1%:*}:0x\${1#*:}" ] && basename \$i
  done | head -1
}
streams() {
  k=0
  while read -r name qdev pciid exe stock speed lacks; do
    [ -n "\$name" ] || continue
    k=\$((k + 1))
    ifc=\$(ifc_of \$pciid)
    [ -n "\$ifc" ] || { echo "== \$name: no \$1 interface"; continue; }
    ip link set "\$ifc" up; ip addr add 10.0.\$((k + 2)).15/24 dev "\$ifc"
    for i in \$(seq 20); do [ "\$(cat /sys/class/net/\$ifc/carrier 2>/dev/null)" = 1 ] && break; sleep 0.5; done
    ping -c 2 -W 3 10.0.\$((k + 2)).2 > /dev/null
    /nucleus-client udp 10.0.\$((k + 2)).2 "\$ifc" 4 | sed "s/^/== \$name \$1 round \$r /"
    ip link set "\$ifc" down; ip addr flush dev "\$ifc"
  done < /nics
}
if [ $CAMPAIGN_FAULTS -gt 0 ]; then
  # The campaign: a fresh module and daemon, a start limit the fault rate
  # does not reach, no back-off; a ping stream through every NIC. Two
  # more classes join the NICs, each handed to drvnucleus by drivermgrd
  # (Bind=yes): the machine's PS/2 mouse (serio1) with the psmouse
  # u-driver, exercised by rate changes (PS/2 commands through the kernel
  # path), and QEMU's UHCI with a tablet on its root hub and the uhci
  # u-driver, exercised by FSBR changes while usbcore polls the tablet.
  cat > /etc/drivermgrd/drivers.d/psmouse.conf <<CONF
[Driver]
Name=psmouse
Class=input
Match=serio:01:00
Executable=psmouse
Bind=yes
ReleaseOnExit=yes
[Recovery]
FaultInjection=yes
XPCTimeoutSec=1s
[Sandbox]
Sandbox=yes
CONF
  sed -e 's/^Name=psmouse/Name=uhci/' -e 's/^Class=input/Class=usb-host/' -e 's/^Match=.*/Match=pci:8086:7020/' \\
    -e 's/^Executable=psmouse/Executable=uhci/' /etc/drivermgrd/drivers.d/psmouse.conf > /etc/drivermgrd/drivers.d/uhci.conf
  drivers=\$((\$(grep -c . /nics) + 2))
  for f in /etc/drivermgrd/drivers.d/*.conf; do
    mkdir -p \$f.d
    # MemoryMax= low enough that four memory blow-ups at once (one a
    # worker) fit the guest's 1.5 GB.
    printf '[Recovery]\nStartLimitBurst=1000\nStartLimitIntervalSec=1s\nRestartMaxDelaySec=0\n[Sandbox]\nMemoryMax=192M\n' > \$f.d/90-campaign.conf
  done
  insmod /drvnucleus.ko ids=10ec:8139,1274:5000,10ec:8029,1022:2000,8086:100e
  /fdstore /tmp/notifyc /tmp/drivermgrd-c.pid $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd \\
    --runtime-dir /tmp/runc --driver-dir $BIN --fd-store > /tmp/dc.log 2>&1 &
  fdstore=\$!
  for i in \$(seq 120); do
    [ "\$(DRIVERMGRD_RUNTIME_DIR=/tmp/runc $BIN/drvctl list --no-legend 2>/dev/null | grep -c ' active ')" = "\$drivers" ] && break
    sleep 0.5
  done
  DRIVERMGRD_RUNTIME_DIR=/tmp/runc $BIN/drvctl list --no-legend | sed 's/^/== campaign drivers: /'
  k=0
  while read -r name qdev pciid exe stock speed lacks; do
    [ -n "\$name" ] || continue
    k=\$((k + 1))
    ifc=\$(ifc_of \$pciid)
    ip link set "\$ifc" up; ip addr add 10.0.\$((k + 2)).15/24 dev "\$ifc"
  done < /nics
  sleep 3
  # One echo stream per NIC, counted by its own ICMP id (not the stack's
  # shared counters), stopped by SIGINT after the campaign, then up to
  # 3 s for the replies still out.
  k=0; pings=""
  while read -r name qdev pciid exe stock speed lacks; do
    [ -n "\$name" ] || continue
    k=\$((k + 1))
    /nucleus-client echo 10.0.\$((k + 2)).2 65535 50 3 /tmp/cping.\$name.lost > /tmp/cping.\$name 2>&1 &
    pings="\$pings \$!"
  done < /nics
  dpid=\$(cat /tmp/drivermgrd-c.pid)
  $BIN/drvcampaign attach --runtime-dir /tmp/runc --daemon-pid \$dpid --faults $CAMPAIGN_FAULTS --seconds $CAMPAIGN_SECONDS \
    --workers 4 --window-ms 1500 --kinds $CAMPAIGN_KINDS --out /tmp/campaign.jsonl \
    --daemon-kill-every $CAMPAIGN_DAEMON_KILL_EVERY --daemon-pid-file /tmp/drivermgrd-c.pid ${CAMPAIGN_DRIVERS:+--drivers $CAMPAIGN_DRIVERS} \\
    2>&1 | tail -1 | sed 's/^/== campaign: /'
  # A u-driver a restarted daemon could not take over says why.
  grep -E "cannot take over|cannot be taken over|could not be taken back" /tmp/dc.log | head -5 | sed 's/^[^ ]* /== campaign take-over: /'
  kill -INT \$pings; wait \$pings
  req=0; rep=0
  while read -r name qdev pciid exe stock speed lacks; do
    [ -n "\$name" ] || continue
    echo "== campaign ping \$name: \$(cat /tmp/cping.\$name)"
    set -- \$(cat /tmp/cping.\$name); req=\$((req + \${1:-0})); rep=\$((rep + \${5:-0}))
  done < /nics
  echo "== campaign ping: \$req echo requests sent, \$rep replies received"
  # Each lost echo charged to the fault whose window holds it (its row is
  # then not transparent); one outside every window misses a target.
  losses=""
  while read -r name qdev pciid exe stock speed lacks; do
    [ -n "\$name" ] && losses="\$losses --echo-losses \$name=/tmp/cping.\$name.lost"
  done < /nics
  $BIN/drvcampaign report /tmp/campaign.jsonl \$losses > /tmp/campaign.md; echo "== campaign report exit \$?"
  sed 's/^/  /' /tmp/campaign.md
  # A NIC that lost echo requests: its rows from 30 s before the first
  # loss to 5 s after, for whoever looks into it (the guest is gone after).
  while read -r name qdev pciid exe stock speed lacks; do
    [ -s "/tmp/cping.\$name.lost" ] || continue
    set -- \$(head -1 "/tmp/cping.\$name.lost"); first=\$3
    echo "== campaign losses \$name: \$(wc -l < "/tmp/cping.\$name.lost") echo requests, the first sent at \$first; its faults around it:"
    awk -v drv="\$name" -v t0="\$first" '
      function field(k,   r) {
        if (!match(\$0, "\"" k "\":[^,}]*")) return ""
        r = substr(\$0, RSTART + length(k) + 3, RLENGTH - length(k) - 3); gsub(/"/, "", r); return r
      }
      field("driver") == drv {
        t = field("injectedAtUSec")
        if (t != "" && t + 0 >= t0 - 30000000 && t + 0 <= t0 + 5000000)
          printf "  %s %s at %d ms: manifested %s, detector %s, echo lost %s, %s %s\n", field("index"), field("kind"),
            (t - t0) / 1000, field("manifested"), field("detector"), field("echoLost"), field("function"), field("detail")
      }' /tmp/campaign.jsonl | tail -40
  done < /nics
  dpid=\$(cat /tmp/drivermgrd-c.pid)
  kill -0 \$dpid 2>/dev/null && echo "== campaign: drivermgrd alive"
  echo "== campaign: drivermgrd pid \$dpid, \$(grep -c 'took over [0-9]* of' /tmp/dc.log) restart(s) that took u-drivers over"
  k=0
  while read -r name qdev pciid exe stock speed lacks; do
    [ -n "\$name" ] || continue
    k=\$((k + 1)); ifc=\$(ifc_of \$pciid); ip link set "\$ifc" down; ip addr flush dev "\$ifc"
  done < /nics
  kill \$fdstore; sleep 1; rmmod drvnucleus
  if [ -n "$CAMPAIGN_CONSOLE_LOG" ]; then
    sed 's/^/dc| /' /tmp/dc.log
    dmesg | sed 's/^/dmesg| /'
    sed 's/^/row| /' /tmp/campaign.jsonl
  fi
  rm -rf /etc/drivermgrd/drivers.d/*.conf.d /etc/drivermgrd/drivers.d/psmouse.conf /etc/drivermgrd/drivers.d/uhci.conf
fi
for r in \$(seq $ROUNDS); do
  insmod /drvnucleus.ko ids=10ec:8139,1274:5000,10ec:8029,1022:2000,8086:100e
  $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run\$r --driver-dir $BIN > /tmp/d\$r.log 2>&1 &
  for i in \$(seq 60); do
    [ "\$(DRIVERMGRD_RUNTIME_DIR=/tmp/run\$r $BIN/drvctl list --no-legend 2>/dev/null | grep -c ' active ')" = "\$(grep -c . /nics)" ] && break
    sleep 0.5
  done
  streams microdriver
  # The first round: each NIC's upcall round trip, kernel -> drivermgrd ->
  # u-driver -> kernel (200 null upcalls, timed by the nucleus).
  if [ \$r = 1 ]; then
    while read -r name qdev pciid exe stock speed lacks; do
      [ -n "\$name" ] && /nucleus-client rtt \$pciid 200 | sed "s/^/== \$name upcall /"
    done < /nics
  fi
  killall drivermgrd; sleep 1; rmmod drvnucleus
  mods=""
  while read -r name qdev pciid exe stock speed lacks; do mods="\$mods \$(echo \$stock | tr , ' ')"; done < /nics
  for m in \$mods; do insmod /stock/\$(basename \$m) 2>/dev/null; done
  sleep 2
  streams stock
  for m in \$(echo \$mods | tr ' ' '\n' | sed '1!G;h;\$!d'); do rmmod /stock/\$(basename \$m) 2>/dev/null; done
done
INIT
guest_init_tail >> "$WORK/root/init"
guest_initrd "$WORK"

# vmport off: the VMware mouse backdoor is not the PS/2 mouse the psmouse
# u-driver drives (mouse-guest.sh runs the same machine).
QARGS=(-machine pc,vmport=off -device piix3-usb-uhci,id=uhci -device usb-tablet,bus=uhci.0,port=1)
k=0
while read -r name qdev pciid exe stock speed lacks; do
  [ -n "$name" ] || continue
  k=$((k + 1))
  QARGS+=(-netdev "user,id=n$k,net=10.0.$((k + 2)).0/24" -device "$qdev,netdev=n$k")
done <<< "$NICS"

# The QEMU monitor: the guest asks on its console ("== monitor: CMD").
MONPORT=$((20000 + RANDOM % 20000))
touch "$WORK/console.log"
(
  done_lines=0
  for _ in $(seq $((2 * (900 + CAMPAIGN_SECONDS)))); do
    mapfile -t cmds < <(tr -d '\r' < "$WORK/console.log" | sed -n 's/^== monitor: //p')
    while [ "$done_lines" -lt "${#cmds[@]}" ]; do
      exec 3<>"/dev/tcp/127.0.0.1/$MONPORT" && { echo "${cmds[$done_lines]}" >&3; sleep 0.3; exec 3>&-; }
      done_lines=$((done_lines + 1))
    done
    sleep 0.5
  done
) &
monitor=$!
timeout $((900 + CAMPAIGN_SECONDS)) qemu-system-x86_64 -accel tcg -m 1536 -smp 2 -nographic -no-reboot \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1${CAMPAIGN_CONSOLE_LOG:+ log_buf_len=8M}" "${QARGS[@]}" \
  -monitor "tcp:127.0.0.1:$MONPORT,server,nowait" > "$WORK/console.log" 2> "$WORK/qemu.err" || true
# QEMU's own messages apart: "Slirp: Failed to send packet" during the
# storms landed inside a guest line of the console and broke its check.
kill "$monitor" 2>/dev/null || true
wait

tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
if [ -n "$CAMPAIGN_CONSOLE_LOG" ]; then
  cp "$WORK/c.log" "$CAMPAIGN_CONSOLE_LOG" && echo "net guest: the console is in $CAMPAIGN_CONSOLE_LOG"
fi
grep -E "^(== |  )" "$WORK/c.log" || true
ok=1
fail() { echo "FAILED: $*"; ok=0; }
# A finding missing: say so, and show what the guest said under that
# heading instead (the pattern up to its last ": ").
has() {
  grep -qE "$1" "$WORK/c.log" && return 0
  fail "$2"
  h=$(printf '%s' "${1#^}" | sed -E 's/: [^:]*$//')
  grep -F -- "$h" "$WORK/c.log" | head -3 | sed 's/^/  the guest said: /'
}
has "^== insmod ok" "insmod"
has "^== rmmod ok" "rmmod"
has "^== drvnucleus: unloaded, 0 DMA objects live" "DMA objects left at rmmod"
has "^== dmesg clean$" "dmesg"
if [ "$CAMPAIGN_FAULTS" -gt 0 ]; then
  has "^== campaign: done: [0-9]+ faults injected" "campaign ran"
  has "^== campaign ping: ([0-9]+) echo requests sent, \1 replies received$" "packets lost during the campaign"
  has "^== campaign report exit 0$" "campaign targets (every manifested fault detected, >= 99.99 % transparent)"
  has "^== campaign: drivermgrd alive$" "drivermgrd died during the campaign"
  has "^== campaign drivers: psmouse +input +[^ ]+ +active " "the PS/2 mouse's u-driver in the campaign"
  has "^== campaign drivers: uhci +usb-host +[^ ]+ +active " "the UHCI's u-driver in the campaign"
  # Faults in each of them, unless CAMPAIGN_DRIVERS named others.
  for d in psmouse uhci; do
    case " ${CAMPAIGN_DRIVERS:-$d} " in *" $d "*) has "^  \| $d \| [a-z-]+ \| [1-9]" "no fault placed in $d" ;; esac
  done
  # Each daemon kill is a row of kind daemon-kill in the report's table
  # (judged with the rest: back, every u-driver taken over, nothing lost).
  if [ "$CAMPAIGN_DAEMON_KILL_EVERY" -gt 0 ] && [ "$CAMPAIGN_FAULTS" -ge "$CAMPAIGN_DAEMON_KILL_EVERY" ]; then
    has "^== campaign: drivermgrd pid [0-9]+, [1-9][0-9]* restart\(s\) that took u-drivers over" "drivermgrd was not killed and restarted"
    has "^  \| [a-z0-9-]+ \| daemon-kill \|" "no daemon-kill row in the report"
  fi
fi
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
k=0
while read -r name qdev pciid exe stock speed lacks; do
  [ -n "$name" ] || continue
  k=$((k + 1))
  n="== $name"
  can() { case ",$lacks," in *",$1,"*) echo "$name: not checked on QEMU's model: $1"; return 1;; esac; return 0; }
  has "^$n: probed as [a-z0-9]+ \(pci $pciid\)" "$name: probe"
  has "^$n: ping: 5 echo requests sent, 5 replies received$" "$name: ping"
  for what in kill hang bad-param; do
    has "^$n: ping during $what: ([0-9]+) echo requests sent, \1 replies received" "$name: packets lost during $what"
  done
  has "^$n: recovered crash, (heartbeat|timeout), bad-parameter$" "$name: the three recoveries"
  has "^$n: carrier changes during the failures: 0$" "$name: carrier flapped"
  has "^$n: mac after set address: 52:54:00:12:34:9$k$" "$name: set_mac"
  if can rxflags; then
    has "^$n: rx mode after promisc on: promiscuous$" "$name: promisc"
    has "^$n: rx mode after promisc off: (normal|multicast)$" "$name: promisc off"
    has "^$n: config after a kill: mac 52:54:00:12:34:9$k promiscuous$" "$name: config after a kill"
  else
    has "^$n: config after a kill: mac 52:54:00:12:34:9$k " "$name: config after a kill"
  fi
  has "^$n: hash bits after the join: [0-9]" "$name: multicast join"
  has "^$n: hash bits after a kill: same$" "$name: filter after a kill"
  has "^$n: ping after the kills: 3 echo requests sent, 3 replies received$" "$name: ping after the kills"
  if can link; then
    has "^$n: carrier with the cable out: 0$" "$name: set_link off"
    has "^$n: carrier with the cable in: 1$" "$name: set_link on"
  fi
  has "^$n: ping after the cable: 3 echo requests sent, 3 replies received$" "$name: ping after the cable"
  has "^$n: link speed $speed " "$name: ethtool speed"
  has "^$n: xpc messages during a 5 s udp stream: [0-9]+" "$name: steady-state count"
  has "^$n: after the storm: failed, carrier 0$" "$name: crash storm and quiesce"
  has "^$n: nucleus quiesced$" "$name: quiesce in dmesg"
  # Per round: "== NAME microdriver|stock round R udp: P packets, X Mbit/s, cpu C %".
  [ "$ROUNDS" -gt 0 ] || continue
  # Measured, not asserted beyond its presence: the upcall round trip.
  has "^$n upcall rtt: 200 round trips, p50 " "$name: no upcall round trip"
  sed -n "s/^$n upcall rtt: /$name: upcall round trip kernel -> u-driver -> kernel: /p" "$WORK/c.log"
  grep -E "^$n (microdriver|stock) round [0-9]+ udp:" "$WORK/c.log" | awk -v n="$name" '
    { r = $5; pk = $7; mb = $9; cpu = $12
      if ($3 == "microdriver") { m[r] = mb; mc[r] = cpu * 4 * 2 * 1e4 / (pk ? pk : 1) }
      else { s[r] = mb; sc[r] = cpu * 4 * 2 * 1e4 / (pk ? pk : 1) } }
    END {
      for (r in m) if (r in s && s[r] > 0) { q[++nq] = m[r] / s[r]; c[nq] = (sc[r] > 0 ? mc[r] / sc[r] : 0) }
      if (!nq) { print n ": no udp figures"; exit 1 }
      for (i = 1; i <= nq; i++) for (j = i + 1; j <= nq; j++) {
        if (q[j] < q[i]) { t = q[i]; q[i] = q[j]; q[j] = t }
        if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t } }
      printf "%s: udp throughput microdriver/stock, median of %d interleaved rounds: %.3f (spread %.3f-%.3f); guest cpu per packet microdriver/stock %.3f (%.3f-%.3f)\n",
        n, nq, q[int((nq + 1) / 2)], q[1], q[nq], c[int((nq + 1) / 2)], c[1], c[nq] }' || fail "$name: no udp figures"
done <<< "$NICS"
if [ "$ok" = 1 ]; then echo "net guest test: ok"; else
  echo "net guest test: FAILED; console:"; tail -60 "$WORK/c.log"
  echo "QEMU said:"; tail -20 "$WORK/qemu.err"; exit 1; fi
