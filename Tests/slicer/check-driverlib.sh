#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The driver library's local part (slicer/lib/k-*.c over slicer/lib/os-*.c):
# the kernel API a sliced driver's user half runs inside its own process.
#
#   check-driverlib.sh KBUILD_CMD_FILE KDIR OUTDIR
#
# KBUILD_CMD_FILE is the .NAME.o.cmd Kbuild left beside a driver's object,
# KDIR the kernel build directory it ran in.  The kernel-facing files are
# compiled as a user half is (driverslicer --user-cflags: the kernel's
# headers, user-space code generation), the libc-facing ones as ordinary C,
# into OUTDIR/libdrvslice-local.a.  Then:
#  - no kernel-facing object may contain what faults in a process (%gs
#    per-CPU accesses, ud2 from BUG/WARN, cli/sti, paravirt calls);
#  - the names it shares with the C library (the printf family) are listed;
#  - what it leaves to the kernel side must be exactly drvslice_downcall
#    (the host's): the kernel API that changes the kernel's objects
#    (k-api.c: netif_carrier_on/off, pci_enable_device, the MMIO
#    accessors, ...) is the library's own downcalls, and the test program,
#    which stands in for the kernel (netif_carrier_on/off), links the
#    library without k-api.o;
#  - a test program (Tests/slicer/driverlib/k-test.c, a "driver", and
#    main.c) runs and its stdout and stderr must match the kernel's output
#    exactly (see the expectations below).  The test's kernel-facing objects
#    are partially linked and the shared names localised in them, as a
#    u-driver should, and main.c checks that its snprintf stayed glibc's.
# With USER_HALF=FILE.c (a driverslicer --halves user half of that driver)
# the half is also compiled and linked against the library, and the kernel
# symbols it still needs from elsewhere are listed.  8139cp's user half
# must need nothing but drvslice_downcall: all of its kernel API is the
# library's.
set -euo pipefail
export LC_ALL=C
[ $# -eq 3 ] || { echo "usage: $0 KBUILD_CMD_FILE KDIR OUTDIR" >&2; exit 2; }
CMD=$(realpath "$1")
KDIR=$(realpath "$2")
OUT=$(realpath -m "$3")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB="$ROOT/slicer/lib"
TDIR="$ROOT/Tests/slicer/driverlib"
BIN=${BIN:-$(cd "$ROOT" && swift build --show-bin-path)}
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$OUT/obj"
rm -f "$OUT"/obj/*.o "$OUT/libdrvslice-local.a"

# The user-space flags for the kernel's headers (the .c argument is only a name).
mapfile -t uflags < <("$BIN/driverslicer" "$TDIR/k-test.c" --kbuild-cmd "$CMD" --kbuild-dir "$KDIR" --user-cflags)
[ "${#uflags[@]}" -gt 10 ] || fail "driverslicer --user-cflags gave no flags"
# CONFIG_HZ of the kernel the driver was built for: jiffies count at it.
HZ=$(awk '$2 == "CONFIG_HZ" { print $3 }' "$KDIR/include/generated/autoconf.h")
[ -n "$HZ" ] || fail "no CONFIG_HZ in $KDIR/include/generated/autoconf.h"

kcc() { # kcc SRC OBJ [FLAGS]: a kernel-facing file, compiled as a user half (relative -I paths from KDIR)
  (cd "$KDIR" && gcc "${uflags[@]}" -Wall -Werror -fmacro-prefix-map="$ROOT/"= -I"$LIB" -I"$ROOT/module/include" "${@:3}" -c "$1" -o "$2") \
    || fail "$(basename "$1") does not build"
}
kobjs=() oobjs=()
for f in "$LIB"/k-*.c; do
  o="$OUT/obj/$(basename "${f%.c}").o"; kcc "$f" "$o"; kobjs+=("$o")
done
for f in "$LIB"/os-*.c; do
  o="$OUT/obj/$(basename "${f%.c}").o"
  gcc -O2 -g -fPIC -Wall -Wextra -Werror -I"$LIB" -c "$f" -o "$o" || fail "$(basename "$f") does not build"
  oobjs+=("$o")
done
ar rcs "$OUT/libdrvslice-local.a" "${kobjs[@]}" "${oobjs[@]}"

# What would fault in a process: per-CPU data through %gs, BUG/WARN's ud2,
# interrupt flag changes, paravirt indirect calls.
bad=$(objdump -d --no-show-raw-insn "${kobjs[@]}" | grep -E '%gs:|[[:space:]](ud2|cli|sti|hlt)([[:space:]]|$)' || true)
[ -z "$bad" ] || { echo "$bad" | head -5; fail "kernel-facing objects contain instructions that fault in a process"; }
pv=$(nm -u "${kobjs[@]}" | awk '{ print $2 }' | grep -E '^(pv_ops|__per_cpu_offset|pcpu_hot|current_task|__preempt_count|__SCT__|__static_call)' || true)
[ -z "$pv" ] || fail "kernel-facing objects reference kernel-only data: $pv"

# The kernel symbols the library provides (not its own drvslice_ ones), and
# those the C library has too.
nm -g --defined-only "${kobjs[@]}" | awk 'NF == 3 && $3 !~ /^drvslice_/ { print $3 }' | sort -u > "$OUT/symbols.txt"
nsyms=$(wc -l < "$OUT/symbols.txt")
LIBC=$(gcc -print-file-name=libc.so.6)
nm -D --defined-only "$LIBC" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u > "$OUT/libc-symbols.txt"
comm -12 "$OUT/symbols.txt" "$OUT/libc-symbols.txt" > "$OUT/libc-clashes.txt"
echo "== driver library: $nsyms kernel symbols in $(basename "$OUT")/libdrvslice-local.a; also in the C library (localise them in the user half): $(tr '\n' ' ' < "$OUT/libc-clashes.txt")"
# What the C library, the dynamic loader and libgcc provide.
{ cat "$OUT/libc-symbols.txt"
  nm -D --defined-only "$(gcc -print-file-name=ld-linux-x86-64.so.2)"
  nm --defined-only "$(gcc -print-libgcc-file-name)" "$(gcc -print-file-name=libc_nonshared.a)" 2>/dev/null
} | awk 'NF >= 2 { s = $NF; sub(/@.*/, "", s); print s } NF == 1 { print $1 }' | sort -u > "$OUT/system-symbols.txt"
# The library's own calls into the kernel side: only the host's downcall
# (k-api.c makes the kernel API that changes the kernel's objects, e.g. the
# MII library's netif_carrier_on/off, downcalls) and its question whether
# a lock is a ComboLock (k-api.c's spin locks of one are downcalls), and
# why its last call failed (for the log line of a kernel API call that did
# not run). Exactly these (weak references, the driver's init_module and
# cleanup_module, aside), and the library must not define them itself.
KERNEL_CALLS="drvslice_downcall drvslice_host_combolock drvslice_host_why"
ld -r -o "$OUT/obj/lib-whole.o" --whole-archive "$OUT/libdrvslice-local.a"
nm -u "$OUT/obj/lib-whole.o" | awk '$1 == "U" { print $2 }' | sort -u | comm -23 - "$OUT/system-symbols.txt" \
  | grep -v '^_GLOBAL_OFFSET_TABLE_$' > "$OUT/library-kernel-calls.txt" || true
[ "$(tr '\n' ' ' < "$OUT/library-kernel-calls.txt")" = "$KERNEL_CALLS " ] \
  || fail "the library's calls into the kernel side are \"$(tr '\n' ' ' < "$OUT/library-kernel-calls.txt")\", not \"$KERNEL_CALLS \""
for s in $KERNEL_CALLS; do
  ! grep -qx "$s" "$OUT/symbols.txt" || fail "the library defines $s, which is the kernel side's"
done
echo "== driver library: calls into the kernel side: $KERNEL_CALLS"
# Everything in it links into a program with nothing but the C library
# (and those calls, stubbed).
echo 'int main(void) { return 0; }' > "$OUT/obj/empty-main.c"
for s in $KERNEL_CALLS; do echo "void $s(void) { }"; done > "$OUT/obj/kernel-stubs.c"
gcc -o "$OUT/obj/linkcheck" "$OUT/obj/empty-main.c" "$OUT/obj/kernel-stubs.c" \
  -Wl,--whole-archive "$OUT/libdrvslice-local.a" -Wl,--no-whole-archive -lpthread > "$OUT/linkcheck.log" 2>&1 \
  || { grep -o "undefined reference to .*" "$OUT/linkcheck.log" | sort -u | head; fail "the library does not link on its own"; }
# A ComboLock the kernel refuses (Tests/slicer/driverlib/combolock-refused.c
# stands in for the kernel side): a trylock not taken, an unlock with
# nothing to give back, a spin_lock that ends the process, and never the
# copy's lock instead.
gcc -Wall -Werror -o "$OUT/obj/combolock-refused" "$TDIR/combolock-refused.c" \
  -Wl,--whole-archive "$OUT/libdrvslice-local.a" -Wl,--no-whole-archive -lpthread > "$OUT/combolock.log" 2>&1 \
  || { head -20 "$OUT/combolock.log"; fail "the ComboLock test does not build"; }
"$OUT/obj/combolock-refused" > "$OUT/combolock.out" 2> "$OUT/combolock.err" \
  || { cat "$OUT/combolock.out"; head -5 "$OUT/combolock.err"; fail "the library's spin locks on a refused ComboLock"; }
grep -q "kernel BUG at .*k-api.c" "$OUT/combolock.err" \
  || { head -5 "$OUT/combolock.err"; fail "a refused ComboLock spin_lock did not say BUG"; }
echo "== driver library: $(cat "$OUT/combolock.out")"

# The test program: the "driver" and the library's kernel-facing objects in
# one partially linked object, the shared names local to it.  Not k-api.o:
# the test stands in for the kernel (its netif_carrier_on/off record the
# MII library's calls) and has no nucleus to call down to.
# (It formats NULL and overlong strings on purpose, and its printf calls
# must reach the library, not be folded by the compiler as the C library's.)
kcc "$TDIR/k-test.c" "$OUT/obj/k-test.o.test" -Wno-format-truncation -Wno-format-overflow \
  -fno-builtin-sprintf -fno-builtin-snprintf -fno-builtin-vsnprintf -fno-builtin-vsprintf
testobjs=()
for o in "${kobjs[@]}"; do [ "$(basename "$o")" = k-api.o ] || testobjs+=("$o"); done
ld -r -o "$OUT/obj/ktest-half.o.test" "$OUT/obj/k-test.o.test" "${testobjs[@]}"
localise=()
while read -r s; do localise+=("--localize-symbol=$s"); done < "$OUT/libc-clashes.txt"
[ "${#localise[@]}" -eq 0 ] || objcopy "${localise[@]}" "$OUT/obj/ktest-half.o.test"
gcc -O2 -g -Wall -Werror -c "$TDIR/main.c" -o "$OUT/obj/main.o.test" || fail "main.c does not build"
gcc -rdynamic -o "$OUT/driverlib-test" "$OUT/obj/main.o.test" "$OUT/obj/ktest-half.o.test" "${oobjs[@]}" -lpthread \
  || fail "the test program does not link"
rc=0
timeout 120 "$OUT/driverlib-test" > "$OUT/test.stdout" 2> "$OUT/test.stderr" || rc=$?

# Values that depend on the kernel's configuration.
M2J=$(( (20 * HZ + 999) / 1000 ))
U2J=$(( (1 * HZ + 999999) / 1000000 ))
MODNAME=
for f in "${uflags[@]}"; do
  case $f in -DKBUILD_MODNAME=*) MODNAME=${f#-DKBUILD_MODNAME=}; MODNAME=${MODNAME//\"/} ;; esac
done
DEFLVL=$(awk '$2 == "CONFIG_MESSAGE_LOGLEVEL_DEFAULT" { print $3 }' "$KDIR/include/generated/autoconf.h")
cat > "$OUT/expected.stdout" <<EOF
libc snprintf("%#x", 0) outside the user half: "0"
ok: kmalloc(64) is 64-byte aligned
ok: kmalloc(100) is kmalloc-128's, 128-byte aligned
ok: ksize(kmalloc(100)) is a kmalloc size of at least 128
kmalloc_size_roundup: 1 -> 8, 65 -> 96, 100 -> 128, 129 -> 192, 9000 -> 16384
ok: kzalloc(300) is zeroed
ok: kmalloc(0) is ZERO_SIZE_PTR
ok: kmalloc(KMALLOC_MAX_SIZE + 1) fails
kstrdup then krealloc(4000): "eth%d"
ok: krealloc(4000) moves to kmalloc-4k
ok: krealloc(p, 0) frees and returns ZERO_SIZE_PTR
kmemdup: 6162006364
kstrndup("abcdef", 3): "abc"
kasprintf: "eth-3"
ok: kvmalloc(3 pages) is page-aligned
kmem_cache: size 40, object constructed, ctor calls 1, 64-byte aligned 1
spin_lock_irqsave, 2 threads x 100000: 200000
mutex_lock, 2 threads x 20000: 40000
ok: mutex_is_locked() while held
spin_trylock on a held lock: 0
spin_trylock on a free lock: 1
mutex_trylock: 1, again: 0, is_locked: 1
after mutex_unlock: is_locked 0, mutex_lock_interruptible 0
msecs_to_jiffies(20) = $M2J, jiffies_to_msecs(HZ) = 1000, usecs_to_jiffies(1) = $U2J
ok: jiffies is INITIAL_JIFFIES + CLOCK_MONOTONIC at HZ
ok: msleep(20) sleeps msecs_to_jiffies(20) + 1 ticks
ok: jiffies advance at HZ across msleep(20)
ok: jiffies advance at HZ while busy-waiting
ok: mdelay(20) waits 20 ms
ok: udelay(1000) waits 1 ms
ok: ndelay(900) waits 900 ns
ok: usleep_range(3000, 4000) sleeps 3 ms
schedule_timeout_uninterruptible(3) = 0
ok: schedule_timeout_uninterruptible(3) sleeps 3 ticks
msleep_interruptible(1) = 0
ok: ktime_get and ktime_get_real_seconds
strscpy("hello", 8) = 5 "hello"
strscpy("hello world", 8) = -7 "hello w"
strscpy("x", 0) = -7
strscpy_pad("ab", 6) = 2, bytes 61 62 00 00 00 00 7a
strlcpy("hello world", 8) = 11 "hello w"
strlcat("ab", "cdefghij", 8) = 10 "abcdefg"
sprintf = 7 "-5-7-ff"
snprintf(8, "hello world") = 11 "hello w"
scnprintf(8, "hello world") = 7 "hello w"
scnprintf(0) = 0, snprintf(NULL, 0) = 5
[0x0] [010] [0] [  007] [ab    ] [+5] [ 5] [ff] [4464] [ok] [100%]
[18446744073709551615] [-2] [-9223372036854775808] [deadbeefcafe] [0XABC] [18446744073709551615] [   7] [7   ] [ab] [abc]
[(null)] [(efault)] [     right] [left      |] [tru]
%n stops: 1 "a"
kstrtoint("-42\n") = 0, -42
kstrtoint("0x1f") = 0, 31
kstrtoint("010") = 0, 8
kstrtoint("42x") = -22, kstrtou8("256") = -34, kstrtoint("2147483648") = -34
kstrtouint("+7") = 0, 7; kstrtouint("-7") = -22
kstrtobool("on") = 0, 1; ("x") = -22
simple_strtoul("0x1fz") = 31, rest "z"
errname: -EIO EIO -EPROBE_DEFER (none)
strim: "padded", sysfs_streq("on\n", "on") 1, match_string 2
hex2bin("0aFf") = 0, 0aff; hex_to_bin('g') = -1
memchr_inv: 3, all zero: 1
%pM 00:1b:21:0a:bc:de %pMR de:bc:0a:21:1b:00 %pMF 00-1b-21-0a-bc-de %pm 001b210abcde
%pI4 192.168.1.20 %pi4 192.168.001.020 %pI6 fe80:0000:0000:0000:021b:21ff:fe0a:bcde
%pI6c fe80::21b:21ff:fe0a:bcde ::ffff:10.0.0.1 %pi6 fe80000000000000021b21fffe0abcde
%pe -ENOMEM -EPROBE_DEFER -1234 -EAGAIN
%*ph 00 1b 21 0a bc de %*phC 00:1b:21:0a:bc:de %*phN 001b210abcde %ph 00
%px ffff888012345678 %p 0000000000000000 0000000000001234 %pK 0000000000000042 %pe 0000000000001000
%pa 0x00000000febf0000 %pR [mem 0xfebf0000-0xfebf00ff] [io  0xc000-0xc0ff] %pr [mem 0xfebf0000-0xfebf00ff flags 0x200]
%pU 00112233-4455-6677-8899-aabbccddeeff %pUl 33221100-5544-7766-8899-aabbccddeeff %pUB 00112233-4455-6677-8899-AABBCCDDEEFF
%pb 2f1 %pbl 0,4-7,9
%pM(null) (null) %pI4(efault) (efault) %pMfoo 00:1b:21:0a:bc:de|
%ps ktest_symbol_target
ok: %pS is symbol+0x0/size
%pd (%pd?) %pE (%pE?)
%pV [x=7]
printk(KERN_ERR "error %d\n", 5) = 7
KERN_CONT printk = 10
___ratelimit(burst 3) x5: 11100
THIS_MODULE: "$MODNAME", param owner is THIS_MODULE: 1
debug=42: 0, debug = 42
get: 3 "42|"
debug=0x10: 0, debug = 16
debug=abc: -22, debug=99999999999: -34, debug still 16
bool NOARG flag: 1
use_io (no value): 0, get "Y|"
use_io=off: 0, get "N|"
model: "rtl8139d", get "rtl8139d|"
ints=1,-2,0x3: 0, nints 3, get "1,-2,3|"
ints=1,2,3,4,5: -22
port=0x310: 0, get "784|"
mii_link_ok, link up: 1, mdio r01 r01
mii_link_ok, up after a drop (latched low): 1, down: 0
mii_nway_restart: 0, mdio r00 w00=3300
mii_nway_restart, autoneg off: -22, mdio r00
mii_check_gmii_support, 1000BASE-T full: 1, mdio r01 r0f
mii_check_gmii_support, no 1000BASE-T: 0, no extended status: 0, mdio r01 r0f r01
mii_check_link, carrier on, link down: off
mii_check_link, carrier off, link up: on
mii_check_link, no change: none
mii_check_media(init), 100 half partner: 1, carrier on, full_duplex 0, advertising 0x1e1, mdio r01 r01 r04 r05
mii_check_media, no change: 0, carrier none, mdio r01 r01
mii_check_media, link down: 0, carrier off, mdio r01 r01
mii_check_media, link up, 100 full partner: 1, carrier on, full_duplex 1, mdio r01 r01 r05
mii_check_media, link down, quiet: 0, carrier off
mii_check_media, forced media, link up: 0, carrier on, mdio r01 r01
mii_check_media(init), gmii, 1000 full partner: 1, carrier on, full_duplex 1, mdio r01 r01 r04 r05 r0a
get_link_ksettings, autoneg: autoneg 1 speed 100 duplex 0 port 2 phy 1 mdio_support 1 supported 0x2cf advertising 0x2cf lp 0x46, full_duplex 0, mdio r00 r01 r04 r05
get_link_ksettings, gmii: autoneg 1 speed 1000 duplex 1 port 2 phy 1 mdio_support 1 supported 0x2ff advertising 0x2ef lp 0x66, full_duplex 1, mdio r00 r01 r09 r0a r04 r05
get_link_ksettings, forced: autoneg 0 speed 100 duplex 1 port 2 phy 1 mdio_support 1 supported 0x2cf advertising 0x28f lp 0x0, full_duplex 1, mdio r00 r01 r04
gset: autoneg 1 speed 100 duplex 0 port 2 transceiver 0 phy 1 supported 0x2cf advertising 0x2cf lp 0x46, mdio r00 r01 r04 r05
set_link_ksettings 10 half: 0, force_media 1, full_duplex 0, mdio r00 w00=0000
set_link_ksettings autoneg 10 half, 100 full: 0, force_media 0, advertising 0x121, mdio r04 w04=0121 r00 w00=1200
set_link_ksettings refused: 1000 without gmii -22, phy 2 -22, duplex unknown -22, nothing to advertise -22, mdio -
sset 100 full: external transceiver -22, internal 0, full_duplex 1, mdio r00 w00=2100
ethtool_convert_link_mode_to_legacy_u32: 1 0x8, with 1000baseX_Full (bit 41): 0 0x8; back from 0x1: modes 0
SIOCGMIIPHY: 0, phy_id 1, val_out 0x001c, mdio r02
SIOCGMIIREG phy 0x21 reg 0x25 (masked 0x1f): 0, phy_id 1, reg_num 5, val_out 0x40c1, mdio r05
SIOCGMIIREG phy 2: 0, val_out 0xffff, mdio r2:01
SIOCSMIIREG BMCR 100 full forced: 0, duplex changed 1, force_media 1, full_duplex 1, mdio w00=2100
SIOCSMIIREG BMCR autoneg: 0, duplex changed 1, force_media 0, full_duplex 0, mdio w00=1200
SIOCSMIIREG ADVERTISE: 0, duplex changed 0, advertising 0x61, register 0x0061, mdio w04=0061
SIOCSMIIREG phy 2 BMCR: 0, duplex changed 0, force_media 0, full_duplex 0, mdio w2:00=0100
generic_mii_ioctl(SIOCGIFFLAGS): -95, duplex changed 0, mdio -
ok: mdio_read/mdio_write are called with mii->dev
no driver yet: first NULL
pci_register_driver: 0, 0; driver.name "ktest-pci", owner is THIS_MODULE 1, mod_name "$MODNAME"
drvslice_pci_driver: first "ktest-pci", by name 1 1, unknown NULL
match 10ec:8139 1186:1300 ethernet: 1 (entry 1); 10ec:8129 1043:8109 other network: 1 (entry 2)
match 10ec:8139 1186:1301 ethernet: 1 (entry 3); prog-if 01: 1 (entry 3); other network: 0 (-)
match 1234:0001 (override only): 0 (-); 8086:100e display: 0 (-); no table: 0 (-)
register again: -16, another driver of the same name: -16, with device_driver methods: 0
after pci_unregister_driver: first "ktest-pci2", "ktest-pci" NULL
registered again: 0, first "ktest-pci2"
all unregistered: first NULL
failures: 0
EOF
cat > "$OUT/expected.stderr" <<EOF
<4>------------[ cut here ]------------
<$DEFLVL>Please remove unsupported %n in format string
<4>WARNING: CPU: N PID: N at slicer/lib/k-vsprintf.c:N
<$DEFLVL>CPU: N PID: N Comm: driverlib-test
<$DEFLVL>Call Trace:
<$DEFLVL> <TASK>
<$DEFLVL> (frames)
<$DEFLVL> </TASK>
<4>---[ end trace 0000000000000000 ]---
<3>error 5
<$DEFLVL>default level
<6>part one, part two and three
<5>line one
<5>line two
<4>pr_warn: 00:11:22:33:44:55 10.0.0.2 -ETIMEDOUT
<7>debug 01:02:03
<6>unterminated, closed by the next message
<3>next message
<3>8139cp 0000:00:03.0: probe failed: -ENODEV
<4>pci 0000:00:04.0: no driver bound, 2 BARs
<6>sound card0: kobject name and class name
<5>(NULL device *): no device
<2>8139cp 0000:00:03.0: _dev_printk at KERN_CRIT
<6>8139cp 0000:00:03.0 (unnamed net_device) (uninitialized): link down
<6>8139cp 0000:00:03.0 eth3: link up, 100 Mbps
<4>8139cp 0000:00:03.0 eth3 (unregistering): going away
<3>eth3: no parent
<5>(NULL net_device): no net_device
<7>ktest:ktest_probe:42: dynamic 1
<7>ktest:ktest_probe:42: 8139cp 0000:00:03.0 eth3: dynamic netdev
<7>8139cp 0000:00:03.0: dynamic dev
<4>------------[ cut here ]------------
<$DEFLVL>warned 1
<6>dump: 00000000: 41 42 43 7f 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABC.EFGHIJKLMNOP
<6>dump: 00000010: 51 52 53 54                                      QRST
<6>dump4: 7f434241 48474645
<3>ints: can only take 4 arguments
<6>eth0: link up, 100Mbps, half-duplex, lpa 0x40C1
<6>eth0: link down
<6>eth0: link up, 100Mbps, full-duplex, lpa 0x41E1
<6>eth0: link up
<6>eth0: link up, 1000Mbps, full-duplex, lpa 0x41E1
<3>Error: Driver 'ktest-pci' is already registered, aborting...
<3>Error: Driver 'ktest-pci' is already registered, aborting...
<4>Driver 'ktest-old' needs updating - please use bus_type methods
<4>------------[ cut here ]------------
<$DEFLVL>Unexpected driver unregister!
<4>WARNING: CPU: N PID: N at slicer/lib/k-pci-driver.c:N
<$DEFLVL>CPU: N PID: N Comm: driverlib-test
<$DEFLVL>Call Trace:
<$DEFLVL> <TASK>
<$DEFLVL> (frames)
<$DEFLVL> </TASK>
<4>---[ end trace 0000000000000000 ]---
EOF
ok=1
diff -u "$OUT/expected.stdout" "$OUT/test.stdout" > "$OUT/stdout.diff" || { echo "FAIL: the test's stdout differs from the kernel's output:"; cat "$OUT/stdout.diff"; ok=0; }
# A WARN's CPU, PID, line number, code address and stack frames vary:
# they are reduced to N and "(frames)" (at least one frame).
sed -E 's/^(<[0-7]>WARNING: CPU: )[0-9]+ PID: [0-9]+ at ([^: ]+):[0-9]+ .*/\1N PID: N at \2:N/;
        s/^(<[0-7]>CPU: )[0-9]+ PID: [0-9]+ (Comm: .*)/\1N PID: N \2/' "$OUT/test.stderr" \
  | awk '/Call Trace:$/ { print; trace = 1; next }
         trace && / <TASK>$/ { print; next }
         trace && / <\/TASK>$/ { if (frames) print substr($0, 1, 3) " (frames)"; print; trace = frames = 0; next }
         trace { frames++; next }
         { print }' > "$OUT/test.stderr.normalized"
diff -u "$OUT/expected.stderr" "$OUT/test.stderr.normalized" > "$OUT/stderr.diff" || { echo "FAIL: the test's log (stderr) differs from the kernel's:"; cat "$OUT/stderr.diff"; ok=0; }
[ "$rc" -eq 0 ] || { echo "FAIL: the test program exited with $rc"; ok=0; }
[ "$ok" = 1 ] || exit 1

# A real user half linked against the library: what it still needs is
# kernel API that must go to the kernel (and the MMIO/downcall runtime).
if [ -n "${USER_HALF:-}" ]; then
  u="$OUT/obj/user-half.o.test"
  (cd "$KDIR" && gcc "${uflags[@]}" -I"$ROOT/module/include" -I"$LIB" -I"$(dirname "$CMD")" -c "$(realpath "$USER_HALF")" -o "$u") \
    || fail "the user half $USER_HALF does not build"
  # What the C library, the dynamic loader and libgcc provide (system-symbols.txt) is not left.
  ld -r -o "$OUT/obj/user-linked.o.test" "$u" "$OUT/libdrvslice-local.a"
  nm -u "$OUT/obj/user-linked.o.test" | awk 'NF == 2 { print $2 }' | sort -u \
    | comm -23 - "$OUT/system-symbols.txt" | grep -v '^_GLOBAL_OFFSET_TABLE_$' > "$OUT/user-half-undefined.txt" || true
  echo "== $(basename "$USER_HALF"): $(wc -l < "$OUT/user-half-undefined.txt") symbols left for the kernel side: $(tr '\n' ' ' < "$OUT/user-half-undefined.txt")"
  # The drivers whose kernel API the library covers whole.
  case $(basename "$USER_HALF") in
    8139cp.c) want="drvslice_dev_name drvslice_downcall drvslice_host_combolock drvslice_host_why " ;;
    *) want= ;;
  esac
  if [ -n "$want" ] && [ "$(tr '\n' ' ' < "$OUT/user-half-undefined.txt")" != "$want" ]; then
    fail "$(basename "$USER_HALF") needs \"$(tr '\n' ' ' < "$OUT/user-half-undefined.txt")\" from outside the library, not \"$want\""
  fi
fi
echo "== driver library: $nsyms symbols, test ok"
