#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The input class on the kernel path: Debian's kernel under QEMU (TCG) with
# the i440fx machine's i8042 and QEMU's PS/2 mouse on its AUX port (serio1
# in the guest). The host moves the mouse through QEMU's monitor, a burst of
# MOVES `mouse_move dx dy dz` over one connection, each move a known step of
# a sequence; in the guest Tests/vm/evread.c reads /dev/input/eventN and
# checks every report against the sequence (lost, merged, repeated or
# reordered reports are gaps).
#
#   A  the stock driver, Debian's psmouse.ko, which binds serio1 itself:
#      the baseline. Then rmmod psmouse: serio1 is free.
#   B  drvnucleus.ko's serio driver (manual_bind: bound through serio1's
#      drvctl), drivermgrd with the psmouse u-driver: the same burst, with
#      the u-driver SIGKILLed a quarter of the way in and hung (drvctl
#      inject) half way. Every move arrives once and in order, the same sums
#      as the stock driver; the mouse keeps its protocol (ImExPS/2) and is
#      not reset to recover (resets stays 1), two restarts.
#   S  after B, the burst once more with no fault: steady use must cross
#      the kernel hop 0 times (the device's XPC_MESSAGES stands still).
#   R  the idle check (`drvctl call psmouse resync-time 4`, psmouse's
#      resync_time): after 5 s of silence the host moves once, waits, then
#      sends RMOVES-1 more. The first move's packet is reported and has the
#      u-driver check the mouse: DISABLE, GETID, GETINFO, ENABLE (4
#      commands), the mouse found as it was told (no reset); every move
#      arrives, and the moves after it ask for no other check.
#   Q  a crash storm past StartLimitBurst: the driver ends failed, QUIESCE
#      disables the mouse, and a burst then makes no packet.
#
# Then dmesg must be clean (BUG, WARNING, Oops, refcount, Call Trace).
#
# usage: Tests/vm/mouse-guest.sh
#   MOUSE_PHASES="A B"  the phases to run (A alone: the baseline only)
#   MOVES=400           moves per burst; DELAY=0.025 s between two moves
#   RMOVES=100          moves of R's burst
#   KEEP=1              keep the work directory (console.log, initrd)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Tests/vm/lib.sh"
KVER=$(ls /lib/modules | sort -V | tail -1)
PHASES=${MOUSE_PHASES:-A B}
MOVES=${MOVES:-400}
RMOVES=${RMOVES:-100}
DELAY=${DELAY:-0.025}
WORK=$(mktemp -d /tmp/drvnucleus-mouse.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then trap 'echo "work directory kept: $WORK"' EXIT; else trap 'rm -rf "$WORK"' EXIT; fi
phase() { case " $PHASES " in *" $1 "*) return 0;; esac; return 1; }
t_start=$(date +%s)

# What the guest loads, in load order, from this machine's modules.
modpaths() { for m in "$@"; do modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'; done | awk '!seen[$0]++'; }
mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" "$WORK/root/mods"
cp /bin/busybox "$WORK/root/bin/busybox"
gcc -static -O2 -Wall -o "$WORK/root/evread" "$ROOT/Tests/vm/evread.c"
# evdev for /dev/input/eventN (CONFIG_INPUT_EVDEV=m in Debian's kernel);
# psmouse for the baseline (CONFIG_MOUSE_PS2=m; libps2 and i8042 are
# built in, CONFIG_SERIO_LIBPS2=y, CONFIG_SERIO_I8042=y).
grep -qE "^CONFIG_INPUT_EVDEV=(y|m)" "/boot/config-$KVER" || { echo "mouse-guest: the kernel has no evdev"; exit 2; }
: > "$WORK/root/mods/base.list"; : > "$WORK/root/mods/stock.list"; : > "$WORK/root/mods/nucleus.list"
if grep -q "^CONFIG_INPUT_EVDEV=m" "/boot/config-$KVER"; then
  for p in $(modpaths evdev); do cp "$p" "$WORK/root/mods/"; basename "$p" >> "$WORK/root/mods/base.list"; done
fi
for p in $(modpaths psmouse); do cp "$p" "$WORK/root/mods/"; basename "$p" >> "$WORK/root/mods/stock.list"; done

BIN=$(cd "$ROOT" && swift build --show-bin-path)
if phase B; then
  # make check runs guests side by side: one Kbuild in module/ at a time.
  flock "$ROOT/module" make -s -C "/lib/modules/$KVER/build" M="$ROOT/module" modules
  [ -x "$BIN/psmouse" ] || (cd "$ROOT" && swift build)
  cp "$ROOT/module/drvnucleus.ko" "$WORK/root/"
  # drvnucleus.ko links against ALSA's core (snd, snd-pcm) for its sound class.
  deps=$(modinfo -F depends "$ROOT/module/drvnucleus.ko" | tr , ' ')
  for p in $(modpaths $deps); do cp "$p" "$WORK/root/mods/"; basename "$p" >> "$WORK/root/mods/nucleus.list"; done
  # The serio driver is module/input.c's; without it phase B cannot bind.
  if ! nm "$ROOT/module/drvnucleus.ko" | grep " U __serio_register_driver" > /dev/null; then
    echo "mouse-guest: module/drvnucleus.ko has no serio driver (module/input.c not built): phase B will fail"
  fi
  # drivermgrd, drvctl and the psmouse u-driver at their host paths, with
  # the shared libraries they load (the Swift runtime, Foundation, glibc).
  mkdir -p "$WORK/root$BIN" "$WORK/root/etc/drivermgrd/drivers.d"
  guest_install "$WORK/root" "$BIN/drivermgrd" "$BIN/drvctl" "$BIN/psmouse"
  cat > "$WORK/root/etc/drivermgrd/drivers.d/psmouse.conf" <<CONF
[Driver]
Name=psmouse
Class=input
Match=serio:01:00
Executable=psmouse
# drivermgrd hands serio1 to drvnucleus through its drvctl, and back
# (rescan) when it stops.
Bind=yes
ReleaseOnExit=yes
[Recovery]
# TCG is slow: upcalls get a deadline a real machine would not need.
XPCTimeoutSec=1s
FaultInjection=yes
# B's two failures are within it; Q's crash storm is not.
StartLimitBurst=3
[Sandbox]
# The shipped sandbox: a dynamic uid of its own, both seccomp stages, namespaces.
Sandbox=yes
CONF
fi
cat > "$WORK/root/env" <<ENV
BIN=$BIN
MOVES=$MOVES
RMOVES=$RMOVES
PHASES="$PHASES"
ENV

cat > "$WORK/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
# drvctl's tables plain: the serial console is a terminal with TERM=linux.
export NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /env
export DRIVERMGRD_RUNTIME_DIR=/tmp/run
phase() { case " $PHASES " in *" $1 "*) return 0;; esac; return 1; }
echo "== guest kernel $(uname -r)"
for m in $(cat /mods/base.list); do insmod /mods/$m || echo "== insmod $m failed"; done
S=/sys/bus/serio/devices/serio1
holder() { d=$(readlink $S/driver 2>/dev/null); if [ -n "$d" ]; then basename "$d"; else echo none; fi; }
echo "== serio1: $(cat $S/description 2>/dev/null) $(cat $S/modalias 2>/dev/null), driver $(holder)"
# The burst: evread is listening when the host is told to start; the
# result line is evread's, with the phase's name.
listen() { # PHASE DEV SECONDS [MOVES]
  rm -f /tmp/ready$1 /tmp/prog$1
  /evread read "$2" ${4:-$MOVES} "$3" /tmp/ready$1 /tmp/prog$1 > /tmp/ev$1 2> /tmp/ev$1.err &
  reader=$!
  for i in $(seq 100); do [ -e /tmp/ready$1 ] && break; sleep 0.1; done
  echo "== mouse: ready $1"
}
result() { # PHASE
  wait $reader
  echo "== $1 evread exit $?"
  sed "s/^== /== $1 /" /tmp/ev$1
  head -5 /tmp/ev$1.err | sed 's/^/  /'
}
progress() { cat /tmp/prog$1 2>/dev/null || echo 0; }
upto() { # PHASE COUNT SECONDS: until evread has read COUNT reports
  t=0; while [ "$(progress $1)" -lt "$2" ] && [ $t -lt $(($3 * 10)) ]; do sleep 0.1; t=$((t + 1)); done
}

if phase A; then
  # A: the stock driver binds serio1 by itself when it loads.
  for m in $(cat /mods/stock.list); do insmod /mods/$m; done
  dev=$(/evread find 60 Mouse PS/2)
  echo "== A device: $dev; serio1 driver $(holder)"
  listen A "${dev%% *}" 120
  result A
  rmmod psmouse && echo "== A: rmmod psmouse ok, serio1 driver $(holder)"
fi

if phase B; then
  for m in $(cat /mods/nucleus.list); do insmod /mods/$m; done
  insmod /drvnucleus.ko && echo "== B: insmod drvnucleus ok"
  echo "== B: serio1 driver after insmod: $(holder)"
  $BIN/drivermgrd --nucleus kernel --config /etc/drivermgrd --runtime-dir /tmp/run --driver-dir $BIN > /tmp/d.log 2>&1 &
  for i in $(seq 60); do grep -q "connected to drvnucleus.ko" /tmp/d.log && break; sleep 0.5; done
  grep -o "connected to drvnucleus.ko.*" /tmp/d.log | head -1 | sed 's/^/== B: drivermgrd /'
  # manual_bind: the port is drvnucleus's only when told so; Bind=yes is
  # drivermgrd telling it, through serio1's drvctl.
  for i in $(seq 60); do [ "$(holder)" = drvnucleus ] && break; sleep 0.5; done
  echo "== B: serio1 driver $(holder)"
  grep -o "serio1 → drvnucleus for psmouse.*" /tmp/d.log | head -1 | sed 's/^/== B: drivermgrd: /'
  for i in $(seq 120); do [ "$($BIN/drvctl is-active psmouse 2>/dev/null)" = active ] && break; sleep 0.5; done
  echo "== B: psmouse $($BIN/drvctl is-active psmouse 2>&1)"
  $BIN/drvctl list --no-legend | sed 's/^/== B list: /'
  vals() {
    j=$($BIN/drvctl status psmouse --json=short 2>/dev/null | sed 's#\\/#/#g')
    for k in protocol resets commands packets rate xpcMessages streaming idleChecks checkPending; do
      v=$(echo "$j" | grep -oE "\"$k\":(\"[^\"]*\"|[0-9a-z]+)" | head -1 | cut -d: -f2- | tr -d '"')
      printf '%s=%s; ' "$k" "${v:--}"
    done
  }
  restarts() { $BIN/drvctl list --no-legend 2>/dev/null | awk '$1 == "psmouse" { print $NF }'; }
  udpid() { $BIN/drvctl list --no-legend 2>/dev/null | awk '$1 == "psmouse" && $4 == "active" { print $5 }'; }
  # drivermgrd's log says when a recovery is done; drvctl (a Swift program,
  # slow to start under TCG) would say it a second or two late.
  recovered() { # RECOVERIES SECONDS
    t=0; while [ $t -lt $(($2 * 10)) ]; do
      [ "$(grep -c "recovered in" /tmp/d.log)" -ge "$1" ] && return 0
      sleep 0.1; t=$((t + 1)); done
    return 1
  }
  echo "== B status before: $(vals)"
  dev=$(/evread find 60 Mouse PS/2)
  echo "== B device: $dev"
  # drvctl is a Swift program: under TCG it takes a while to start, so the
  # pid is read before the burst.
  pid=$(udpid)
  listen B "${dev%% *}" 150
  # A quarter of the way in: SIGKILL.
  upto B $((MOVES / 4)) 60
  kill -9 $pid && echo "== B: u-driver $pid SIGKILLed at report $(progress B) of $MOVES"
  recovered 1 30 && echo "== B: recovered from the kill by report $(progress B)"
  # Half way: a hung u-driver (found by the heartbeat, replaced).
  upto B $((MOVES / 2)) 60
  $BIN/drvctl inject psmouse hang > /dev/null && echo "== B: hang injected at report $(progress B) of $MOVES"
  recovered 2 30 && echo "== B: recovered from the hang by report $(progress B)"
  result B
  recovered 2 30
  for i in $(seq 20); do [ "$($BIN/drvctl is-active psmouse 2>/dev/null)" = active ] && break; sleep 0.5; done
  echo "== B restarts: $(restarts)"
  echo "== B status after: $(vals)"
  $BIN/drvctl list --no-legend | sed 's/^/== B list: /'
  $BIN/drvctl status psmouse | sed 's/^/  /'
  $BIN/drvctl history psmouse | grep -E "failure|recovered" | sed 's/^/== B history: /'
  # Steady use: the same burst again, no fault: what crosses the kernel
  # hop for the device (DEVICE_INFO's XPC_MESSAGES) must not move.
  echo "== S status before: $(vals)"
  listen S "${dev%% *}" 150
  result S
  echo "== S status after: $(vals)"
  # R: the idle check. The nucleus counts the silence from the setting.
  $BIN/drvctl call psmouse resync-time 4 > /dev/null && echo "== R: resync-time 4"
  echo "== R status before: $(vals)"
  sleep 5
  listen R "${dev%% *}" 150 $RMOVES
  result R
  echo "== R status after: $(vals)"
  $BIN/drvctl call psmouse resync-time 0 > /dev/null && echo "== R: resync-time 0"
  # Q: a crash storm. Past the start limit the driver is failed and
  # QUIESCE stops the mouse's stream (DISABLE): moves then make no packet.
  for i in 1 2 3 4 5; do
    [ "$($BIN/drvctl is-active psmouse 2>/dev/null)" = failed ] && break
    $BIN/drvctl inject psmouse crash > /dev/null 2>&1
    for j in $(seq 40); do
      st=$($BIN/drvctl is-active psmouse 2>/dev/null)
      [ "$st" = active ] || [ "$st" = failed ] && break; sleep 0.25
    done
  done
  echo "== Q: psmouse $($BIN/drvctl is-active psmouse 2>&1)"
  echo "== Q status before: $(vals)"
  echo "== mouse: ready Q"
  # The host's 40 moves take 40 x DELAY and a second; then what the
  # nucleus counted.
  sleep $(awk -v d=$DELAY 'BEGIN { printf "%.0f", 40 * d + 6 }')
  echo "== Q status after: $(vals)"

  echo "== drivermgrd log:"; sed 's/^[^ ]* /  /' /tmp/d.log | tail -40
  # The daemon stops and gives the port back (ReleaseOnExit=yes).
  # The stock driver loaded meanwhile does not take a bound port ...
  for m in $(cat /mods/stock.list); do insmod /mods/$m 2>/dev/null; done
  echo "== B: serio1 driver with psmouse loaded: $(holder)"
  killall drivermgrd
  for i in $(seq 20); do pidof drivermgrd > /dev/null || break; sleep 0.5; done
  # ... and ReleaseOnExit=yes gives it back: drvctl rescan, psmouse binds.
  for i in $(seq 20); do [ "$(holder)" = drvnucleus ] || break; sleep 0.5; done
  echo "== B: serio1 driver after drivermgrd stopped: $(holder)"
  rmmod drvnucleus && echo "== B: rmmod drvnucleus ok"
  dmesg | grep "drvnucleus: unloaded" | tail -1 | sed 's/^.*drvnucleus/== drvnucleus/'
fi
echo "== kernel log (input, serio, psmouse, drvnucleus):"
dmesg | grep -iE "input|serio|psmouse|i8042|drvnucleus" | tail -40 | sed 's/^/  /'
if dmesg | grep -E "BUG|WARNING|Oops|refcount|Call Trace"; then echo "== dmesg: the kernel complained"; else echo "== dmesg clean"; fi
poweroff -f
INIT
chmod +x "$WORK/root/init"
(cd "$WORK/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$WORK/initrd.gz"

# The host's hand on the mouse: at each "== mouse: ready X" the burst, over
# one monitor connection, move i = mouse_move (i % 50 + 1) (i % 7 - 3) ±1
# (dz -1 every third move), as evread.c expects it.
MONPORT=$((20000 + RANDOM % 20000))
touch "$WORK/console.log"
burst() { # PHASE [MOVES [PAUSE]]: PAUSE s after the first move
  local t0 t1 i dz n=${2:-$MOVES}
  exec 3<>"/dev/tcp/127.0.0.1/$MONPORT" || { echo "== host: $1: no monitor" >> "$WORK/host.log"; return; }
  cat <&3 > "$WORK/monitor-$1.log" &
  local reader=$!
  t0=$(date +%s.%N)
  for ((i = 0; i < n; i++)); do
    dz=1; [ $((i % 3)) = 2 ] && dz=-1
    echo "mouse_move $((i % 50 + 1)) $((i % 7 - 3)) $dz" >&3
    sleep "$DELAY"
    [ "$i" = 0 ] && [ -n "${3:-}" ] && sleep "$3"
  done
  t1=$(date +%s.%N)
  sleep 1; exec 3>&-; kill "$reader" 2>/dev/null || true
  echo "== host: $1: $n moves sent in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >> "$WORK/host.log"
}
(
  for p in $PHASES $(phase B && echo S R Q); do
    for _ in $(seq 1200); do tr -d '\r' < "$WORK/console.log" | grep "^== mouse: ready $p" > /dev/null && break; sleep 0.25; done
    # Q (the quiesced mouse) needs a few moves only; R waits 2.5 s after
    # its first move for the check to end (under 4 s: no second check).
    case $p in Q) args="40";; R) args="$RMOVES 2.5";; *) args="";; esac
    tr -d '\r' < "$WORK/console.log" | grep "^== mouse: ready $p" > /dev/null && burst "$p" $args
  done
) &
monitor=$!
timeout "${VM_TIMEOUT:-330}" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot -nic none -machine pc,vmport=off \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -monitor "tcp:127.0.0.1:$MONPORT,server,nowait" > "$WORK/console.log" 2>&1 || true
kill "$monitor" 2>/dev/null || true
wait

tr -d '\r' < "$WORK/console.log" > "$WORK/c.log"
grep -E "^(== |  )" "$WORK/c.log" || true
cat "$WORK/host.log" 2>/dev/null || true
ok=1
fail() { echo "FAILED: $*"; ok=0; }
has() { grep -qE "$1" "$WORK/c.log" || fail "$2"; }
# The sums of the sequence the host sent, N moves.
events_of() { # N
  local i sx=0 sy=0 sw=0
  for ((i = 0; i < $1; i++)); do
    sx=$((sx + i % 50 + 1)); sy=$((sy + i % 7 - 3)); [ $((i % 3)) = 2 ] && sw=$((sw - 1)) || sw=$((sw + 1))
  done
  echo "packets $1 relx $sx rely $sy wheel $sw syn [0-9]+ gaps 0 \(matched $1 of $1, ybad 0, wheelbad 0, keys [0-9]+, dropped 0"
}
events=$(events_of "$MOVES")
ev() { sed -n "s/^== $1 events: //p" "$WORK/c.log" | sed -n 1p; }
for p in $PHASES; do
  grep -q "^== host: $p: $MOVES moves sent" "$WORK/host.log" 2>/dev/null || fail "$p: the host did not send the burst (no \"== mouse: ready $p\"?)"
  has "^== $p events: $events" "$p: expected \"$events\", got \"$(ev $p)\""
done
if phase A && phase B; then
  a=$(ev A | awk '{ print $4, $6, $8 }'); b=$(ev B | awk '{ print $4, $6, $8 }')
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "relx rely wheel sums differ: stock psmouse $a, drvnucleus $b"
fi
if phase A; then
  has "^== A device: /dev/input/event[0-9]+ .*Mouse" "A: no psmouse input device"
  has "^== A: rmmod psmouse ok, serio1 driver none" "A: psmouse did not let serio1 go"
fi
if phase B; then
  val() { sed -n "s/^== B status $1: .*$2=\([^;]*\);.*/\1/p" "$WORK/c.log" | sed -n 1p; }
  has "^== B: insmod drvnucleus ok" "B: insmod drvnucleus.ko"
  has "^== B: serio1 driver drvnucleus" "B: serio1 not bound to drvnucleus"
  has "^== B: drivermgrd: serio1 → drvnucleus for psmouse" "B: drivermgrd's Bind=yes did not hand serio1 over"
  has "^== B: serio1 driver with psmouse loaded: drvnucleus" "B: psmouse took a port drvnucleus held"
  has "^== B: serio1 driver after drivermgrd stopped: psmouse" "B: ReleaseOnExit=yes did not give serio1 back to psmouse"

  has "^== B: psmouse active" "B: the psmouse u-driver never became active"
  has "^== B device: /dev/input/event[0-9]+ " "B: no input device from drvnucleus"
  has "^== B: u-driver [0-9]+ SIGKILLed at report" "B: the SIGKILL"
  has "^== B: hang injected at report" "B: the hang injection"
  has "^== B restarts: 2$" "B: expected 2 restarts, got $(sed -n 's/^== B restarts: //p' "$WORK/c.log")"
  for w in before after; do
    case "$(val $w protocol)" in "ImExPS/2"*) ;; *) fail "B: protocol $w the faults: \"$(val $w protocol)\", not ImExPS/2";; esac
    [ "$(val $w resets)" = 1 ] || fail "B: resets $w the faults: \"$(val $w resets)\", not 1"
  done
  [ "$(val before commands)" = "$(val after commands)" ] || \
    fail "B: the recoveries sent the mouse commands ($(val before commands) -> $(val after commands))"
  # QEMU's PS/2 mouse sends two packets a move with a wheel step: the move
  # with the wheel button's press, and the release's (all zero, which the
  # input core reports nothing for). The nucleus counts both.
  pb=$(val before packets); pa=$(val after packets)
  [[ "$pb" =~ ^[0-9]+$ && "$pa" =~ ^[0-9]+$ ]] && [ $((pa - pb)) = $((2 * MOVES)) ] || \
    fail "B: the nucleus counted $(val before packets) -> $(val after packets) PS/2 packets for $MOVES moves, not $((2 * MOVES))"
  # Not a failure, but the faults should land while the mouse moves.
  k=$(sed -n 's/^== B: u-driver [0-9]* SIGKILLed at report \([0-9]*\) .*/\1/p' "$WORK/c.log")
  h=$(sed -n 's/^== B: recovered from the hang by report \([0-9]*\)/\1/p' "$WORK/c.log")
  if [ -n "$k" ] && [ -n "$h" ] && [ "$k" -gt 0 ] && [ "$h" -lt "$MOVES" ]; then
    echo "== host: B: both faults and their recoveries inside the burst (kill at report $k, hang recovered by report $h of $MOVES)"
  else
    echo "NOTE: B: the faults were not both inside the burst (kill at report ${k:-?}, hang recovered by report ${h:-?} of $MOVES)"
  fi
  has "^== B history: .*recovered crash" "B: no recovered crash in the history"
  has "^== B history: .*recovered (heartbeat|timeout)" "B: no recovered hang in the history"
  # Steady use after the faults: every move again, and not one XPC message.
  grep -q "^== host: S: $MOVES moves sent" "$WORK/host.log" 2>/dev/null || fail "S: the host did not send the steady burst"
  has "^== S events: $events" "S: expected \"$events\", got \"$(ev S)\""
  sv() { sed -n "s/^== S status $1: .*$2=\([^;]*\);.*/\1/p" "$WORK/c.log" | sed -n 1p; }
  xb=$(sv before xpcMessages); xa=$(sv after xpcMessages)
  [[ "$xb" =~ ^[0-9]+$ ]] && [ "$xb" = "$xa" ] || fail "S: $MOVES moves crossed the kernel hop: XPC messages $xb -> $xa"
  echo "== host: S: XPC messages for $MOVES moves of steady use: $xb -> $xa"
  [ "$(sv before commands)" = "$(sv after commands)" ] || fail "S: PS/2 commands during steady use"
  # Q: the crash storm quiesced the mouse.
  qv() { sed -n "s/^== Q status $1: .*$2=\([^;]*\);.*/\1/p" "$WORK/c.log" | sed -n 1p; }
  has "^== Q: psmouse failed" "Q: a crash storm past StartLimitBurst=3 did not end failed"
  grep -q "^== host: Q: 40 moves sent" "$WORK/host.log" 2>/dev/null || fail "Q: the host did not send its moves to the quiesced mouse"
  [ "$(qv before streaming)" = false ] || fail "Q: QUIESCE left the mouse streaming ($(qv before streaming))"
  [ -n "$(qv before packets)" ] && [ "$(qv before packets)" = "$(qv after packets)" ] || \
    fail "Q: a quiesced mouse made packets ($(qv before packets) -> $(qv after packets))"
  echo "== host: Q: quiesced mouse, packets across 40 moves: $(qv before packets) -> $(qv after packets)"
  # R: one idle check, the mouse as it was told, every move.
  rv() { sed -n "s/^== R status $1: .*$2=\([^;]*\);.*/\1/p" "$WORK/c.log" | sed -n 1p; }
  has "^== R: resync-time 4" "R: drvctl call psmouse resync-time 4"
  grep -q "^== host: R: $RMOVES moves sent" "$WORK/host.log" 2>/dev/null || fail "R: the host did not send R's burst"
  has "^== R events: $(events_of "$RMOVES")" "R: expected $RMOVES moves, every one, got \"$(ev R)\""
  ib=$(rv before idleChecks); ia=$(rv after idleChecks); cb=$(rv before commands); ca=$(rv after commands)
  [[ "$ib" =~ ^[0-9]+$ && "$ia" =~ ^[0-9]+$ ]] && [ $((ia - ib)) = 1 ] || fail "R: idle checks $ib -> $ia, not one"
  [[ "$cb" =~ ^[0-9]+$ && "$ca" =~ ^[0-9]+$ ]] && [ $((ca - cb)) = 4 ] || \
    fail "R: the check ran $cb -> $ca PS/2 commands, not 4 (DISABLE, GETID, GETINFO, ENABLE)"
  [ "$(rv before resets)" = "$(rv after resets)" ] || fail "R: the check reset the mouse ($(rv before resets) -> $(rv after resets))"
  [ "$(rv after checkPending)" = false ] && [ "$(rv after streaming)" = true ] || \
    fail "R: after the check: pending $(rv after checkPending), streaming $(rv after streaming)"
  case "$(rv after protocol)" in "ImExPS/2"*) ;; *) fail "R: protocol after the check: $(rv after protocol)";; esac
  echo "== host: R: idle checks $ib -> $ia, PS/2 commands $cb -> $ca, resets $(rv after resets)"

fi
has "^== dmesg clean$" "the kernel complained (BUG/WARNING/Oops/refcount)"
echo "== runtime: $(( $(date +%s) - t_start )) s"
if [ "$ok" = 1 ]; then echo "mouse guest test: ok"; else
  echo "mouse guest test: FAILED; console:"; tail -40 "$WORK/c.log"; exit 1; fi
