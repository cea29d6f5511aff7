#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The install path without a guest (make check-install): the man pages and
# completion generated from the built tools, `make install-files` into a
# scratch root with the package's layout (PREFIX=/usr), and what a package
# or `make install` must hold checked there: every file in place, each man
# page formatted without a warning and naming its tool's subcommands and
# options, the completion sourcing cleanly, the packaged configuration
# loading through drivermgrd's search path. Usage: check-install.sh BIN
set -eu
BIN=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/drivermgr-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "check-install: FAILED: $*"; exit 1; }
make -s -C "$ROOT" gen-docs BIN="$BIN" GEN_DIR="$T/gen" > "$T/gen.log" 2>&1 || { cat "$T/gen.log"; fail "gen-docs"; }
make -s -C "$ROOT" install-files BIN="$BIN" GEN_DIR="$T/gen" DESTDIR="$T/root" PREFIX=/usr \
  UNITDIR=/lib/systemd/system > "$T/install.log" 2>&1 || { cat "$T/install.log"; fail "install-files"; }
R=$T/root
for f in usr/sbin/drivermgrd usr/bin/drvctl usr/bin/nucleus-sim usr/bin/driverslicer \
         usr/libexec/drivermgrd/rtl8139 usr/libexec/drivermgrd/ens137x usr/libexec/drivermgrd/ne2k \
         usr/libexec/drivermgrd/pcnet32 usr/libexec/drivermgrd/e1000 usr/libexec/drivermgrd/psmouse \
         usr/libexec/drivermgrd/uhci \
         lib/systemd/system/drivermgrd.service usr/lib/systemd/catalog/drivermgrd.catalog \
         usr/lib/sysusers.d/drivermgr.conf usr/lib/tmpfiles.d/drivermgr.conf \
         usr/lib/drivermgrd/drivermgrd.conf usr/lib/drivermgrd/drivers.d/rtl8139.conf \
         usr/lib/drivermgrd/drivers.d/ens1370.conf usr/share/bash-completion/completions/drvctl \
         usr/share/man/man8/drvctl.8 usr/share/man/man8/drivermgrd.8 usr/share/man/man1/driverslicer.1 \
         usr/share/man/man1/nucleus-sim.1 usr/share/man/man5/drivermgrd.conf.5; do
  [ -e "$R/$f" ] || fail "$f not installed"
done
[ ! -e "$R/etc/drivermgrd" ] || fail "/etc/drivermgrd is the admin's: nothing may be installed there"
grep -q '^ExecStart=/usr/sbin/drivermgrd .*--driver-dir /usr/libexec/drivermgrd' "$R/lib/systemd/system/drivermgrd.service" \
  || fail "the unit's ExecStart does not name PREFIX's paths"
grep -q "/usr/local" "$R/lib/systemd/system/drivermgrd.service" && fail "the unit still names /usr/local"
# Man pages: groff's own warnings are failures; each names what --help says.
for m in "$R"/usr/share/man/man*/*; do
  w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 > "$T/page") || fail "man -l $m"
  [ -z "$w" ] || fail "$(basename "$m"): $w"
  grep -q "NAME" "$T/page" || fail "$(basename "$m") has no NAME section"
done
for sub in list status restart inject unbind is-active show; do
  LC_ALL=C.UTF-8 man -l "$R/usr/share/man/man8/drvctl.8" 2>/dev/null | grep -qw "$sub" || fail "drvctl(8) lacks $sub"
done
LC_ALL=C.UTF-8 man -l "$R/usr/share/man/man8/drivermgrd.8" 2>/dev/null | grep -q -- "--fd-store" || fail "drivermgrd(8) lacks --fd-store"
# The completion defines drvctl's completion function and completes a verb.
bash -c ". '$R/usr/share/bash-completion/completions/drvctl'; complete -p drvctl" > /dev/null 2>&1 || fail "bash completion"
# The packaged configuration as drivermgrd reads it: no file named, the
# search path gives the /usr/lib files; every chip loads.
for f in "$R"/usr/lib/drivermgrd/drivers.d/*.conf; do
  exe=$(sed -n 's/^Executable=//p' "$f")
  [ -x "$R/usr/libexec/drivermgrd/$exe" ] || fail "$(basename "$f") names $exe, not installed"
done
# The sliced-driver kit: the installed driverslicer (its interfaces found
# beside it) splits 8139cp and the installed build-udriver.sh (driverslicer
# found in PREFIX/bin, the library, host and core beside the script) builds
# its u-driver. 8139cp as check-slicer's Kbuild left it (it runs before this
# in make check's chain).
for f in usr/share/drivermgr/slicer/build-udriver.sh usr/share/drivermgr/slicer/lib/k-api.c \
         usr/share/drivermgr/slicer/host/slice-host.c usr/share/drivermgr/module/slice_core.c \
         usr/share/drivermgr/module/include/drvslice.h usr/share/drivermgr/module/include/drvslice-kernel.h \
         usr/share/drivermgr/module/include/uapi/drvxpc.h usr/share/drivermgr/Sources/CSandbox/sandbox.c; do
  [ -e "$R/$f" ] || fail "$f not installed"
done
kit="no Kbuild of 8139cp (make check-slicer first): the kit's files only"
M=$ROOT/.build/slicer/m-8139cp
KDIR=/lib/modules/$(ls /lib/modules | sort -V | tail -1)/build
if [ -f "$M/.8139cp.o.cmd" ]; then
  "$R/usr/bin/driverslicer" "$M/8139cp.c" --kbuild-cmd "$M/.8139cp.o.cmd" --kbuild-dir "$KDIR" \
    --halves "$T/halves" --name 8139cp > "$T/halves.log" 2>&1 || { cat "$T/halves.log"; fail "the installed driverslicer --halves"; }
  env -u BIN bash "$R/usr/share/drivermgr/slicer/build-udriver.sh" "$T/halves" 8139cp "$M/.8139cp.o.cmd" "$KDIR" \
    "$T/8139cp-udriver" > "$T/kit.log" 2>&1 || { cat "$T/kit.log"; fail "the installed build-udriver.sh"; }
  [ -x "$T/8139cp-udriver" ] || fail "the installed kit made no u-driver"
  kit="the installed kit built 8139cp's sliced u-driver"
fi
echo "check-install: $kit"
echo "check-install: $(find "$R" -type f | wc -l) files; $(ls "$R"/usr/share/man/man*/ | grep -c '\.[0-9]$') man pages formatted cleanly; unit, sysusers, tmpfiles, completion, configuration in place"
