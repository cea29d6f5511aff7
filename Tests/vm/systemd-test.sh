#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the systemd guest (Tests/vm/systemd-guest.sh) as a oneshot
# unit, as root, with BIN (the built binaries) and ROOT (the checkout) set.
# Every line for the host starts with "== "; the last line says ok or not.
R=/mnt/results
exec > "$R/log" 2>&1
ok=1
fail() { echo "FAIL: $*"; ok=0; }
FAILURE_ID=9dbd74484c514218a1b66bb15387f923
RECOVERY_ID=7ccb056015b74975800fb2395dc3eb16

echo "== guest: $(uname -r), systemd $(systemctl --version | head -1 | cut -d' ' -f2)"
make -s -C "$ROOT" install-files BIN="$BIN" PREFIX=/usr/local CONF_SRC=Tests/etc > /dev/null || fail "make install-files"

# The test's own configuration: nucleus-sim as a service for drivermgrd to
# broker for, a short watchdog, fault injection for ens1371.
cat > /etc/systemd/system/nucleus-sim.service <<EOF
[Unit]
Description=drivermgr simulated nucleus (test)
[Service]
# It stands in for kernel code, but runs as a process under TCG, where a
# thread can stall for tens of ms: at 8 kHz its 4096-frame ring lasts
# 512 ms, so a stall shows as a glitch only if it is really long.
ExecStart=/usr/local/bin/nucleus-sim --socket /run/nucleus-sim/nucleus-sim.sock --rate 8000 --devices es1371 rtl8139 ne2k
RuntimeDirectory=nucleus-sim
Nice=-10
EOF
mkdir -p /etc/systemd/system/drivermgrd.service.d /etc/drivermgrd/drivers.d/ens1371.conf.d
cat > /etc/systemd/system/drivermgrd.service.d/test.conf <<EOF
[Unit]
Requires=nucleus-sim.service
After=nucleus-sim.service
[Service]
ExecStart=
ExecStart=/usr/local/sbin/drivermgrd --runtime-dir /run/drivermgrd --driver-dir /usr/local/libexec/drivermgrd --nucleus sim --nucleus-socket /run/nucleus-sim/nucleus-sim.sock --fd-store
WatchdogSec=4s
TimeoutAbortSec=2s
EOF
# TCG is slow: the sample configs' 250 ms call deadline is too tight here.
printf '[Recovery]\nFaultInjection=yes\nXPCTimeoutSec=1s\n' > /etc/drivermgrd/drivers.d/ens1371.conf.d/test.conf
mkdir -p /etc/drivermgrd/drivers.d/rtl8139.conf.d
printf '[Recovery]\nXPCTimeoutSec=1s\n' > /etc/drivermgrd/drivers.d/rtl8139.conf.d/test.conf
# Metrics from the unit as installed: the textfile in its RuntimeDirectory
# every second, and the HTTP listener.
printf '[Metrics]\nTextfileIntervalSec=1s\nListenAddress=127.0.0.1:9559\n' > /etc/drivermgrd/drivermgrd.conf
systemctl daemon-reload
journalctl --update-catalog

# Type=notify: `systemctl start` returns once READY=1 came.
if systemctl start drivermgrd; then echo "== systemctl start: ok"; else
  fail "systemctl start"
  journalctl --no-pager -q -b -u drivermgrd -n 30 | sed 's/^/== journal: /'
fi
echo "== state: $(systemctl show -p ActiveState --value drivermgrd)"
echo "== status text: $(systemctl show -p StatusText --value drivermgrd)"
systemctl status drivermgrd --no-pager 2>&1 | grep -E "^ +Status:" | sed 's/^ */== systemctl status: /'
drvctl list --no-legend | sed 's/^/== list: /'
# The sandbox holds under the unit's hardening: the u-drivers run under
# dynamic uids with their two filters stacked on the service's own.
filters() { grep -E '^Seccomp_filters' "/proc/$1/status" | tr -cd '0-9'; }
daemon_filters=$(filters "$(systemctl show -p MainPID --value drivermgrd)")
echo "== drivermgrd: $daemon_filters seccomp filters from the unit's hardening"
for p in $(drvctl list --no-legend | awk '{ print $5 }'); do
  echo "== u-driver $p uid $(stat -c %u /proc/$p) filters +$(( $(filters "$p") - daemon_filters ))"
done

# A failure and its recovery, as journald entries with their fields.
drvctl inject ens1371 crash > /dev/null || fail "drvctl inject"
for i in $(seq 20); do
  journalctl --no-pager -q MESSAGE_ID=$RECOVERY_ID | grep -q ens1371 && break
  sleep 0.5
done
journalctl --no-pager -q -o verbose MESSAGE_ID=$FAILURE_ID DRIVER=ens1371 |
  grep -E "^ +(MESSAGE|PRIORITY|SYSLOG_IDENTIFIER|DRIVER|DRIVER_CLASS|DEVICE|FAILURE_KIND|SIGNAL|RESTART_COUNT)=" |
  sed 's/^ */== failure entry: /'
journalctl --no-pager -q -o verbose MESSAGE_ID=$RECOVERY_ID DRIVER=ens1371 |
  grep -E "^ +(MESSAGE|DRIVER|FAILURE_KIND|RECOVERY_USEC|REPLAYED_CALLS|QUEUED_REQUESTS|RESTART_COUNT)=" |
  sed 's/^ */== recovery entry: /'
# journalctl -x explains the entry with the catalog's text.
journalctl --no-pager -q -x MESSAGE_ID=$FAILURE_ID DRIVER=ens1371 | grep -E "^░░ (Subject|The kernel nucleus keeps)" | head -2 |
  sed 's/^░░ /== catalog: /'
echo "== status text after the recovery: $(systemctl show -p StatusText --value drivermgrd)"

# Reload: a drop-in changes rtl8139; `systemctl reload` (SIGHUP) restarts
# it transparently with the new setting, the other driver is not touched.
# (zz-: drop-ins apply in name order, after the test.conf above.)
ens_pid=$(drvctl list --no-legend | awk '$1 == "ens1371" { print $5 }')
printf '[Recovery]\nXPCTimeoutSec=2s\n' > /etc/drivermgrd/drivers.d/rtl8139.conf.d/zz-reload.conf
systemctl reload drivermgrd || fail "systemctl reload"
for i in $(seq 40); do
  drvctl status rtl8139 --json=short | grep -q '"xpcTimeoutUSec":2000000' && break
  sleep 0.5
done
drvctl status rtl8139 --json=short | grep -o '"xpcTimeoutUSec":[0-9]*' | sed 's/^/== rtl8139 after reload: /'
echo "== ens1371 pid across the reload: $ens_pid -> $(drvctl list --no-legend | awk '$1 == "ens1371" { print $5 }')"
journalctl --no-pager -q -u drivermgrd | grep -o "reloaded /etc/drivermgrd:/usr/local/lib/drivermgrd:/usr/lib/drivermgrd: .*" | tail -1 | sed 's/^/== /'

# The daemon's own crash: SIGKILL. systemd restarts it (Restart=always);
# KillMode=process leaves the u-drivers running, the fd store holds their
# channels, and the new daemon adopts them: same pids, nothing replayed,
# and the sim's data path (audio, echoed frames) never stopped.
ADOPTED_ID=f931c37cde9e48e79c9517bc3f96a51a
field() { drvctl status "$1" --json=short | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
drvctl call ens1371 mixer-set master 40 > /dev/null || fail "mixer-set"
master_before=$(drvctl call ens1371 mixer-get master)
pids_before=$(drvctl list --no-legend | awk '{ printf "%s=%s ", $1, $5 }')
frames_before=$(field ens1371 framesPlayed)
glitches_before=$(field ens1371 glitches)
echoed_before=$(field rtl8139 echoed)
echo "== fd store before the crash: $(systemctl show -p NFileDescriptorStore --value drivermgrd) descriptors"
ls /run/drivermgrd/drivers | sed 's/^/== state file: /'
pid=$(systemctl show -p MainPID --value drivermgrd)
kill -9 "$pid"
for i in $(seq 80); do
  n=$(systemctl show -p MainPID --value drivermgrd)
  [ "$n" != "$pid" ] && [ "$n" != 0 ] && systemctl is-active -q drivermgrd &&
    [ "$(drvctl list --no-legend 2>/dev/null | grep -c ' active ')" = 2 ] && break
  sleep 0.5
done
sleep 1
pids_after=$(drvctl list --no-legend | awk '{ printf "%s=%s ", $1, $5 }')
echo "== after SIGKILL: main pid $pid -> $(systemctl show -p MainPID --value drivermgrd)"
echo "== u-driver pids across the daemon's SIGKILL: $pids_before-> $pids_after"
drvctl list --no-legend | sed 's/^/== list after the daemon crash: /'
echo "== adopted entries: $(journalctl --no-pager -q MESSAGE_ID=$ADOPTED_ID | grep -c 'took over u-driver')"
# From systemd seeing the main process die to the new daemon's takeover.
journalctl --no-pager -q -o short-monotonic -u drivermgrd |
  awk '{ match($0, /[0-9]+\.[0-9]+/); ts = substr($0, RSTART, RLENGTH) + 0 }
       /Main process exited, code=killed, status=9/ { t0 = ts }
       /took over 2 of 2/ && t0 { printf "== daemon down for %.0f ms (SIGKILL seen to u-drivers taken over)\n", (ts - t0) * 1000; exit }'
journalctl --no-pager -q -x MESSAGE_ID=$ADOPTED_ID | grep -E "^░░ Subject" | head -1 | sed 's/^░░ /== catalog: /'
# What systemd's fd store gave the new daemon: the u-drivers' channels,
# pidfds, seccomp listeners, uid locks and output pipes, and the network
# namespace the sandboxed u-drivers share (an nsfs descriptor), so that
# the new daemon's u-drivers join the one its predecessor made.
journalctl --no-pager -q -u drivermgrd | grep -o "systemd passed [0-9]* stored descriptor(s): .*" | tail -1 | sed 's/^/== /'
echo "== ens1371 frames $frames_before -> $(field ens1371 framesPlayed), underruns $(field ens1371 underruns), glitches $glitches_before -> $(field ens1371 glitches)"
echo "== rtl8139 echoed $echoed_before -> $(field rtl8139 echoed)"
echo "== master across the daemon's crash: $master_before -> $(drvctl call ens1371 mixer-get master)"
# The first daemon's shadow survived as well: a crash of the adopted
# u-driver replays it (open, hw_params, prepare, the mixer).
n_rec=$(journalctl --no-pager -q MESSAGE_ID=$RECOVERY_ID DRIVER=ens1371 | wc -l)
drvctl inject ens1371 crash > /dev/null || fail "inject after the daemon crash"
for i in $(seq 40); do
  [ "$(journalctl --no-pager -q MESSAGE_ID=$RECOVERY_ID DRIVER=ens1371 | wc -l)" -gt "$n_rec" ] && break
  sleep 0.5
done
journalctl --no-pager -q -o verbose MESSAGE_ID=$RECOVERY_ID DRIVER=ens1371 | grep -E "^ +REPLAYED_CALLS=" | tail -1 |
  sed 's/^ */== recovery of the adopted u-driver: /'
echo "== master after that recovery: $(drvctl call ens1371 mixer-get master), underruns $(field ens1371 underruns)"

# The watchdog: a stopped daemon sends no WATCHDOG=1; systemd kills it and
# starts it again.
pids_before=$(drvctl list --no-legend | awk '{ printf "%s=%s ", $1, $5 }')
pid=$(systemctl show -p MainPID --value drivermgrd)
kill -STOP "$pid"
for i in $(seq 80); do
  n=$(systemctl show -p MainPID --value drivermgrd)
  [ "$n" != "$pid" ] && [ "$n" != 0 ] && systemctl is-active -q drivermgrd && break
  sleep 0.5
done
echo "== after SIGSTOP: main pid $pid -> $(systemctl show -p MainPID --value drivermgrd), restarts $(systemctl show -p NRestarts --value drivermgrd)"
journalctl --no-pager -q -u drivermgrd | grep -o "Watchdog timeout (limit [0-9a-z]*)" | head -1 | sed 's/^/== systemd: /'
for i in $(seq 40); do [ "$(drvctl list --no-legend 2>/dev/null | grep -c ' active ')" = 2 ] && break; sleep 0.5; done
drvctl list --no-legend | sed 's/^/== list after the watchdog restart: /'
echo "== u-driver pids across the watchdog restart: $pids_before-> $(drvctl list --no-legend | awk '{ printf "%s=%s ", $1, $5 }')"

# A hostile u-driver under the unit: its socket(AF_INET) must reach stage
# 2's listener and be named (SYSCALL=), the driver failed. A filter of the
# unit's own returning an errno (RestrictAddressFamilies=) would win over
# the listener, as seccomp ranks ERRNO above USER_NOTIF, and the call would
# just fail with EAFNOSUPPORT, unreported.
# Installed beside the others: the unit's ProtectHome= hides a checkout
# under /root from the daemon.
install -m 0755 "$BIN/misbehave" /usr/local/libexec/drivermgrd/misbehave
cat > /etc/drivermgrd/drivers.d/misbehave-socket.conf <<EOF
[Driver]
Name=misbehave-socket
Class=net
Match=pci:10ec:8029
Executable=misbehave
[Recovery]
Restart=no
XPCTimeoutSec=1s
EOF
systemctl reload drivermgrd || fail "reload for the hostile driver"
for i in $(seq 40); do drvctl status misbehave-socket --json=short 2>/dev/null | grep -q '"state":"failed"' && break; sleep 0.5; done
drvctl status misbehave-socket --json=short | grep -o '"state":"[a-z]*"' | sed 's/^/== hostile driver: /'
journalctl --no-pager -q -o verbose MESSAGE_ID=$FAILURE_ID DRIVER=misbehave-socket |
  grep -E "^ +(FAILURE_KIND|SYSCALL)=" | sed 's/^ */== hostile entry: /'
sleep 1.5
grep -E '^drivermgr_(sandbox_violations_total|driver_state)\{driver="misbehave-socket"[^}]*\} 1(\.0)?$' /run/drivermgrd/metrics.prom |
  sed 's/^/== metrics file: /'
rm /etc/drivermgrd/drivers.d/misbehave-socket.conf
systemctl reload drivermgrd
sleep 1.5
echo "== misbehave-socket series after its removal: $(grep -c 'driver="misbehave-socket"' /run/drivermgrd/metrics.prom)"
busybox wget -q -O - http://127.0.0.1:9559/metrics | grep -E '^drivermgr_driver_state\{driver="(ens1371|rtl8139)".*state="active"\} 1(\.0)?$' |
  sed 's/^/== metrics over http: /'
# What systemd makes of the unit's hardening (the u-drivers have their own).
systemd-analyze security drivermgrd --no-pager 2>/dev/null | tail -1 | sed 's/^/== systemd-analyze security: /'

# Checks.
grep -q '^== hostile driver: "state":"failed"' "$R/log" || fail "hostile driver failed"
grep -q '^== metrics file: drivermgr_sandbox_violations_total{driver="misbehave-socket"} 1' "$R/log" || fail "violation in the metrics textfile"
grep -qE '^== metrics file: drivermgr_driver_state\{driver="misbehave-socket",class="net",state="failed"\} 1(\.0)?$' "$R/log" || fail "failed state in the metrics textfile"
grep -q '^== misbehave-socket series after its removal: 0$' "$R/log" || fail "a removed driver's series"
[ "$(grep -c '^== metrics over http: ' "$R/log")" = 2 ] || fail "metrics over http"
grep -q "^== hostile entry: FAILURE_KIND=sandbox" "$R/log" || fail "hostile call caught by the sandbox"
grep -q "^== hostile entry: SYSCALL=socket" "$R/log" || fail "hostile call named"
grep -qE "^== fd store before the crash: ([5-9]|[1-9][0-9]) descriptors" "$R/log" || fail "descriptors in the fd store"
[ "$(grep -cE '^== state file: (ens1371|rtl8139).state$' "$R/log")" = 2 ] || fail "state files"
grep -qE "^== after SIGKILL: main pid ([0-9]+) -> [0-9]+$" "$R/log" && ! grep -qE "^== after SIGKILL: main pid ([0-9]+) -> \1$" "$R/log" || fail "restart after SIGKILL"
grep -qE "^== u-driver pids across the daemon's SIGKILL: (ens1371=[0-9]+ rtl8139=[0-9]+ )-> \1$" "$R/log" || fail "u-drivers kept their pids"
[ "$(grep -cE '^== list after the daemon crash: (ens1371|rtl8139) .* active ' "$R/log")" = 2 ] || fail "drivers after the daemon crash"
grep -qE "^== adopted entries: [2-9]" "$R/log" || fail "adopted journal entries"
grep -qE "^== systemd passed [0-9]+ stored descriptor\(s\): .*ens1371\.xpc, .*netns" "$R/log" || fail "the fd store kept the channels and the shared network namespace"
grep -q "^== catalog: Subject: drivermgrd took over the running u-driver" "$R/log" || fail "adopted catalog entry"
grep -qE "^== ens1371 frames ([0-9]+) -> ([0-9]+), underruns 0, glitches ([0-9]+) -> \3$" "$R/log" || fail "audio across the daemon crash"
awk '/^== ens1371 frames/ { exit !(($6 + 0) > ($4 + 0)) }' "$R/log" || fail "frames advanced"
awk '/^== rtl8139 echoed/ { exit !(($6 + 0) > ($4 + 0)) }' "$R/log" || fail "echoes advanced"
grep -qE "^== master across the daemon's crash: (value=[0-9]+) -> \1$" "$R/log" || fail "mixer across the daemon crash"
grep -qE "^== recovery of the adopted u-driver: REPLAYED_CALLS=([4-9]|[1-9][0-9])" "$R/log" || fail "shadow survived the daemon"
grep -qE "^== master after that recovery: value=[0-9]+, underruns 0" "$R/log" || fail "after the adopted recovery"

grep -q "^== systemctl start: ok" "$R/log" || fail "start"
grep -q "^== status text: 2 drivers: 2 running, 0 recovering, 0 failed" "$R/log" || fail "STATUS at READY"
grep -q "^== systemctl status: .*Status: \"2 drivers: 2 running" "$R/log" || fail "systemctl status line"
[ "$(grep -cE '^== list: (ens1371|rtl8139) .* active ' "$R/log")" = 2 ] || fail "drvctl list"
# DynamicUser= (the default): a uid of systemd's dynamic range, not root.
[ "$(awk '/^== u-driver [0-9]+ uid [0-9]+ filters \+2$/ && $5 >= 61184 && $5 <= 65519' "$R/log" | wc -l)" = 2 ] ||
  fail "sandboxed u-drivers"
grep -q "^== failure entry: FAILURE_KIND=crash" "$R/log" || fail "FAILURE_KIND"
grep -q "^== failure entry: SIGNAL=SIGSEGV" "$R/log" || fail "SIGNAL"
grep -q "^== failure entry: DRIVER_CLASS=sound" "$R/log" || fail "DRIVER_CLASS"
grep -q "^== failure entry: DEVICE=0000:" "$R/log" || fail "DEVICE"
grep -q "^== failure entry: PRIORITY=3" "$R/log" || fail "PRIORITY"
grep -qE "^== recovery entry: RECOVERY_USEC=[0-9]+" "$R/log" || fail "RECOVERY_USEC"
grep -qE "^== recovery entry: REPLAYED_CALLS=[0-9]+" "$R/log" || fail "REPLAYED_CALLS"
grep -q "^== catalog: Subject: u-driver ens1371 failed (crash)" "$R/log" || fail "catalog subject"
grep -q "^== catalog: The kernel nucleus keeps" "$R/log" || fail "catalog text"
grep -q '^== rtl8139 after reload: "xpcTimeoutUSec":2000000' "$R/log" || fail "reload applied"
grep -qE "^== ens1371 pid across the reload: ([0-9]+) -> \1$" "$R/log" || fail "ens1371 untouched by the reload"
grep -q "^== reloaded /etc/drivermgrd:/usr/local/lib/drivermgrd:/usr/lib/drivermgrd: added none; removed none; restarted rtl8139" "$R/log" || fail "reload logged"
grep -qE "^== after SIGSTOP: main pid ([0-9]+) -> [0-9]+, restarts [1-9]" "$R/log" || fail "watchdog restart"
grep -q "^== systemd: Watchdog timeout" "$R/log" || fail "watchdog timeout in the journal"
[ "$(grep -cE '^== list after the watchdog restart: (ens1371|rtl8139) .* active ' "$R/log")" = 2 ] || fail "drivers after the restart"
grep -qE "^== u-driver pids across the watchdog restart: (ens1371=[0-9]+ rtl8139=[0-9]+ )-> \1$" "$R/log" || fail "u-drivers kept across the watchdog restart"

if [ "$ok" = 1 ]; then echo "systemd guest test: ok"; else
  echo "== drivermgrd's journal:"; journalctl --no-pager -q -u drivermgrd | tail -30
  echo "systemd guest test: FAILED"; fi
sync
