#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The u-driver host (slicer/host/slice-host.c) without a kernel: a small
# PCI driver (Tests/slicer/host/hostdrv.c) is built with Kbuild, split by
# driverslicer --halves, and its u-driver built by slicer/build-udriver.sh.
# A fake daemon + kernel (Tests/slicer/host/fakek.c, with the driver's
# kernel half, the driver library and module/slice_core.c on the kernel's
# side) starts it on a socketpair as drivermgrd does and talks to it:
# SANDBOX (stage 2 with the steady-state list of Sources/Supervisor/
# Sandbox.swift: a call outside it fails the test), HELLO, three PROBEs
# (the driver's probe refusing the device; succeeding through a downcall
# that runs an upcall nested in it while the daemon's PING is answered and
# its NET_GET_STATS waits; failing when the downcall's answer comes after
# the deadline), malformed SLICE_UPCALLs, a repeated UPCALL_ID (after its
# answer, and while it is served: its downcall waiting), what the
# host does not serve, garbage, SHUTDOWN.  The conversation (fakek's
# stdout) and the host's log (stderr) must be exactly as expected below.
#
#   check-host.sh [KDIR]
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KDIR=${1:-/lib/modules/$(ls /lib/modules | sort -V | tail -1)/build}
BIN=${BIN:-$(cd "$ROOT" && swift build --show-bin-path)}
export BIN
T="$ROOT/Tests/slicer/host"
W="$ROOT/.build/slicer-host"
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$W"
mkdir -p "$W/m" "$W/fakek"
cp "$T/hostdrv.c" "$W/m/"
echo "obj-m := hostdrv.o" > "$W/m/Kbuild"
make -s -C "$KDIR" M="$W/m" KBUILD_MODPOST_WARN=1 modules > "$W/kbuild.log" 2>&1 \
  || { tail -5 "$W/kbuild.log"; fail "hostdrv does not build with Kbuild"; }
"$BIN/driverslicer" "$W/m/hostdrv.c" --kbuild-cmd "$W/m/.hostdrv.o.cmd" --kbuild-dir "$KDIR" \
  --halves "$W/halves" --name hostdrv > "$W/split.txt" || fail "driverslicer --halves"
bash "$ROOT/slicer/build-udriver.sh" "$W/halves" hostdrv "$W/m/.hostdrv.o.cmd" "$KDIR" "$W/hostdrv-udriver" \
  > "$W/build.txt" || fail "build-udriver.sh"

# The fake kernel: the kernel half and k-fakek.c over the driver library's
# kernel-facing objects (build-udriver.sh's), partially linked with the C
# library's names local; fakek.c, the core and the library's os layer.
O="$W/fakek"
mapfile -t uflags < <("$BIN/driverslicer" "$W/m/hostdrv.c" --kbuild-cmd "$W/m/.hostdrv.o.cmd" --kbuild-dir "$KDIR" --user-cflags)
kcc() {
  (cd "$KDIR" && gcc "${uflags[@]}" -Wall -Werror -I"$ROOT/module/include" -I"$ROOT/slicer/lib" -I"$T" -I"$W/m" \
     -c "$1" -o "$2") || fail "$(basename "$1") does not build"
}
kcc "$W/halves/kernel/hostdrv.c" "$O/kernel-half.o"
kcc "$T/k-fakek.c" "$O/k-fakek.o"
ld -r -o "$O/kernel.o" -u drvslice_pci_driver "$O/kernel-half.o" "$O/k-fakek.o" "$W/hostdrv-udriver.obj/libk.a"
nm -g --defined-only "$O/kernel.o" | awk 'NF == 3 { print $3 }' | sort -u \
  | comm -12 - "$W/hostdrv-udriver.obj/libc-symbols.txt" | grep -vx init_module > "$O/libc-clashes.txt" || true
localise=()
while read -r s; do localise+=("--localize-symbol=$s"); done < "$O/libc-clashes.txt"
[ "${#localise[@]}" -eq 0 ] || objcopy "${localise[@]}" "$O/kernel.o"
gcc -O2 -g -Wall -Wextra -Werror -I"$ROOT/module/include" -I"$W/halves" -I"$ROOT/Sources/CSandbox/include" -I"$T" \
  -c "$T/fakek.c" -o "$O/fakek.o" || fail "fakek.c does not build"
gcc -rdynamic -o "$O/fakek" "$O/fakek.o" "$O/kernel.o" "$W/hostdrv-udriver.obj/slice_core.o" \
  "$W/hostdrv-udriver.obj/sandbox.o" "$W/hostdrv-udriver.obj"/lib/os-*.o -lseccomp -lpthread \
  || fail "fakek does not link"

# Stage 2 as drivermgrd stacks it: SyscallSets.steadyState.
sed -n '/steadyState: \[String\] = \[/,/^    \]/p' "$ROOT/Sources/Supervisor/Sandbox.swift" \
  | grep -o '"[a-z0-9_]*"' | tr -d '"' > "$W/syscalls.txt"
[ "$(wc -l < "$W/syscalls.txt")" -gt 40 ] || fail "no steady-state system calls in Sandbox.swift"
ID=$(readelf -n "$W/hostdrv-udriver" | awk '/Build ID:/ { print $3 }')
[ -n "$ID" ] || fail "hostdrv-udriver has no build-id"

rc=0
timeout 60 "$O/fakek" "$W/hostdrv-udriver" "$ID" "$W/syscalls.txt" > "$W/conversation.txt" 2> "$W/host.log" || rc=$?

# The conversation.  What it shows:
#  - SANDBOX: stage 2 stacked, the listener handed over; HELLO's reply
#    names the protocol's version, the class asked for and the build-id
#    readelf reads; an upcall before PROBE is refused;
#  - PROBE: the module's init ran, SLICE_PROBE (with the device's
#    instance) answered, the probe upcall served: its -ENODEV is the
#    PROBE's error;
#  - the second: probe's downcall (hostdrv_kick) runs the reset work in the
#    kernel, an upcall the host serves nested in its downcall; the PING
#    sent meanwhile is answered at once, NET_GET_STATS only after the
#    PROBE (it waited); the kernel's copy of the driver's state holds what
#    probe and the reset work wrote (resets 103 = 100 + kicks 3);
#  - the third: the downcall's answer comes after the host's deadline
#    (1 s here): the driver's probe gets -ETIMEDOUT; the TAKEOVER sent
#    meanwhile had the host send the downcall again under its seq;
#  - malformed upcalls, each refused by name (the host's own checks:
#    -EPROTO with ERR_ATTR; the core's: its reason); the host stays;
#  - an UPCALL_ID seen before is answered from the first time (open
#    returns 1 twice: not run again), a new one is served (2);
#  - what a sliced u-driver does not serve, unsupported faults, garbage
#    and a header that lies; PING and SHUTDOWN (exit status 0); every
#    request of the host's with its own seq and the device's instance.
cat > "$W/expected.txt" <<'EOF'
-> SANDBOX request: the steady-state system calls
<- SANDBOX reply: status 0, with the seccomp listener
   host: NoNewPrivs 1, Seccomp 2
-> HELLO request
<- HELLO reply: status 0, VERSION 1, CLASS 2, BUILD_ID the executable's
-> PING request
<- PING reply: status 0
-> SLICE_UPCALL request: hostdrv_open before PROBE
<- SLICE_UPCALL reply: status -19, ERR_MSG "SLICE_UPCALL: the module's init has not run (PROBE) or failed"
-> PROBE request
<- SLICE_PROBE request: instance 7, 0 attribute bytes
-> SLICE_PROBE reply: status 0
   pci: probing 1af4:10f0 revision 0 irq 11
-> SLICE_UPCALL request: hostdrv_probe
<- SLICE_UPCALL reply: status 0
   pci: the driver's probe returned -19
<- PROBE reply: status -19, ERR_MSG "hostdrv_probe returned -19"
-> PROBE request
<- SLICE_PROBE request: instance 7, 0 attribute bytes
-> SLICE_PROBE reply: status 0
   pci: probing 1af4:10f0 revision 3 irq 11
-> SLICE_UPCALL request: hostdrv_probe
<- SLICE_DOWNCALL request: hostdrv_kick, instance 7
   kernel: hostdrv_kick queues the reset work
-> NET_GET_STATS request
-> PING request
-> SLICE_UPCALL request: hostdrv_reset
<- PING reply: status 0
<- SLICE_UPCALL reply: status 0
-> SLICE_DOWNCALL reply: status 0
<- SLICE_UPCALL reply: status 0
   pci: the driver's probe returned 0
<- PROBE reply: status 0, CHIP_NAME "hostdrv"
   kernel's hostdrv_state: vendor 1af4 device 10f0 irq 11 kicks 3 last_kick 30 resets 103 probes 2 opens 0
<- NET_GET_STATS reply: status -95, ERR_MSG "NET_GET_STATS: a sliced driver's u-driver serves PROBE and SLICE_UPCALL"
-> PROBE request
<- SLICE_PROBE request: instance 7, 0 attribute bytes
-> SLICE_PROBE reply: status 0
   pci: probing 1af4:10f0 revision 5 irq 11
-> SLICE_UPCALL request: hostdrv_probe
<- SLICE_DOWNCALL request: hostdrv_kick, instance 7
   kernel: hostdrv_kick queues the reset work (not run)
-> TAKEOVER notification
   (the reply waits 2500 ms)
-> SLICE_DOWNCALL reply: status 0
<- SLICE_DOWNCALL request: hostdrv_kick, instance 7, the last one's seq
-> SLICE_DOWNCALL reply: the first one's again
<- SLICE_UPCALL reply: status 0
   pci: the driver's probe returned -110
<- PROBE reply: status -110, ERR_MSG "hostdrv_probe returned -110"
   kernel's hostdrv_state: vendor 1af4 device 10f0 irq 11 kicks 8 last_kick -110 resets 103 probes 3 opens 0
-> SLICE_UPCALL request: entry 999
<- SLICE_UPCALL reply: status -22, ERR_MSG "SLICE_ENTRY: no entry 999"
-> SLICE_UPCALL request: hostdrv_kick, the kernel half's
<- SLICE_UPCALL reply: status -22, ERR_MSG "SLICE_ENTRY: hostdrv_kick is not served by this half"
-> SLICE_UPCALL request: entry 0
<- SLICE_UPCALL reply: status -71, ERR_ATTR SLICE_ENTRY, ERR_MSG "SLICE_UPCALL: SLICE_ENTRY: 0 not in 1..65534"
-> SLICE_UPCALL request: SLICE_ENTRY of 200 bytes in 8
<- SLICE_UPCALL reply: status -71, ERR_ATTR SLICE_ENTRY, ERR_MSG "SLICE_UPCALL: SLICE_ENTRY: attribute length 200, 8 bytes left"
-> SLICE_UPCALL request: an unknown attribute
<- SLICE_UPCALL reply: status -71, ERR_ATTR 999, ERR_MSG "SLICE_UPCALL: attribute 999: unknown attribute"
-> SLICE_UPCALL request: hostdrv_remove with a 4-byte pointer
<- SLICE_UPCALL reply: status -22, ERR_MSG "hostdrv_remove: argument 0: 4 bytes, expected 12"
-> SLICE_UPCALL request: hostdrv_remove with two arguments
<- SLICE_UPCALL reply: status -22, ERR_MSG "hostdrv_remove: 2 arguments, expected 1"
-> SLICE_UPCALL request: hostdrv_open, UPCALL_ID 77
<- SLICE_UPCALL reply: status 0
   kernel: hostdrv_open returned 1 (call 0)
-> SLICE_UPCALL request: hostdrv_open, UPCALL_ID 77
<- SLICE_UPCALL reply: status 0
   kernel: hostdrv_open returned 1 (call 0)
-> SLICE_UPCALL request: hostdrv_open, UPCALL_ID 78
<- SLICE_UPCALL reply: status 0
   kernel: hostdrv_open returned 2 (call 0)
   kernel's hostdrv_state: vendor 1af4 device 10f0 irq 11 kicks 8 last_kick -110 resets 103 probes 3 opens 2
-> SLICE_UPCALL request: hostdrv_stop, UPCALL_ID 79
<- SLICE_DOWNCALL request: hostdrv_kick, instance 7
   kernel: hostdrv_kick queues the reset work (not run)
-> SLICE_UPCALL request: hostdrv_stop again, the same UPCALL_ID (it is being served)
-> SLICE_DOWNCALL reply: status 0
<- SLICE_UPCALL reply: status 0
<- SLICE_UPCALL reply: status 0
   kernel: hostdrv_stop returned 30 (call 0); sent again: the same answer
   kernel's hostdrv_state: vendor 1af4 device 10f0 irq 11 kicks 3 last_kick -110 resets 103 probes 3 opens 2
-> NET_OPEN request
<- NET_OPEN reply: status -95, ERR_MSG "NET_OPEN: a sliced driver's u-driver serves PROBE and SLICE_UPCALL"
-> op 250 request
<- op 250 reply: status -71, ERR_MSG "operation 250: unknown"
-> INJECT request: lost-write
<- INJECT reply: status -95, ERR_ATTR FAULT_KIND, ERR_MSG "FAULT_KIND lost-write: not supported by a sliced driver's u-driver"
-> INJECT request: no FAULT_KIND
<- INJECT reply: status -22, ERR_ATTR FAULT_KIND, ERR_MSG "no such fault"
-> 10 bytes of garbage
-> PING request: the header says 100 bytes
<- PING reply: status -71, ERR_MSG "PING: the header says 100 bytes, 24 came"
-> PING request
<- PING reply: status 0
-> SHUTDOWN request
<- SHUTDOWN reply: status 0
   host: exited with status 0
host requests: 6, seqs distinct, each with the instance
EOF
# The host's log: the driver's printk, and the host's notes on the late
# replies, the refused upcalls, the TAKEOVER, the repeated upcall and the
# garbage.
cat > "$W/expected-host.log" <<'EOF'
<6>hostdrv: 1af4:10f0 revision 0 is not supported
<6>hostdrv: 1af4:10f0 irq 11: kick 30, resets 103
hostdrv-udriver: drivermgrd restarted: 1 unanswered downcall(s) sent again
hostdrv-udriver: a SLICE_DOWNCALL reply that no call waits for (its deadline passed?): dropped
hostdrv-udriver: a SLICE_DOWNCALL reply that no call waits for (its deadline passed?): dropped
hostdrv-udriver: SLICE_UPCALL refused: SLICE_ENTRY: no entry 999
hostdrv-udriver: SLICE_UPCALL refused: SLICE_ENTRY: hostdrv_kick is not served by this half
hostdrv-udriver: SLICE_UPCALL hostdrv_remove refused: hostdrv_remove: argument 0: 4 bytes, expected 12
hostdrv-udriver: SLICE_UPCALL hostdrv_remove refused: hostdrv_remove: 2 arguments, expected 1
hostdrv-udriver: SLICE_UPCALL (upcall 77) sent again after drivermgrd's restart: answered from the first time
hostdrv-udriver: SLICE_UPCALL sent again while it is served: answered when it ends
hostdrv-udriver: SLICE_UPCALL (upcall 79) sent again after drivermgrd's restart: answered from the first time
hostdrv-udriver: a malformed message dropped: 10 bytes, the header needs 24
EOF
ok=1
diff -u "$W/expected.txt" "$W/conversation.txt" > "$W/conversation.diff" \
  || { echo "FAIL: the conversation with the host differs:"; cat "$W/conversation.diff"; ok=0; }
diff -u "$W/expected-host.log" "$W/host.log" > "$W/host.diff" \
  || { echo "FAIL: the host's log differs:"; cat "$W/host.diff"; ok=0; }
[ "$rc" -eq 0 ] || { echo "FAIL: fakek exited with $rc"; ok=0; }
[ "$ok" = 1 ] || exit 1
echo "== u-driver host: hostdrv's u-driver (slicer/build-udriver.sh) against a fake kernel: $(grep -cE '^(<-|->) ' "$W/conversation.txt") messages as expected"
