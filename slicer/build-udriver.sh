#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The u-driver of a sliced driver: its user half (driverslicer --halves)
# run by the host (slicer/host/slice-host.c) over the driver library.
#
#   build-udriver.sh HALVES_DIR NAME KBUILD_CMD KDIR OUT
#
# HALVES_DIR is what driverslicer --halves wrote (user/*.c, NAME-slice.h),
# NAME the --name it was given (the user half's description is
# slice_NAME_user, NAME's other characters than letters, digits and _ as
# _), KBUILD_CMD the .FILE.o.cmd Kbuild left beside the driver's object
# (its flags; its directory holds the driver's own headers), KDIR the
# kernel build directory Kbuild ran in.  OUT is the executable.
#
# As Tests/slicer/check-driverlib.sh does: the kernel-facing objects (the
# user half, slicer/lib/k-*.c, k-api.c among them once it exists, and the
# host's slicer/host/k-host.c) are compiled as the user half is
# (driverslicer --user-cflags) and partially linked into one object, in
# which the names they share with the C library (the printf family) are
# made local; the libc-facing ones (slicer/lib/os-*.c, the host, the
# runtime's core module/slice_core.c, the sandbox's and the build-id's C
# from Sources/) are ordinary C.  Linked with -lseccomp and a GNU
# build-id (HELLO's BUILD_ID).
#
# DECAF_SWIFT=DIR: the Swift of the functions driverslicer --decaf moved
# (HALVES_DIR/decaf/ has their bindings); compiled into one module with the
# generated bindings, and the u-driver linked by swiftc (the Swift runtime).
# Halves with a decaf/ and no DECAF_SWIFT do not build.
#
# LIBDRVSLICE=ARCHIVE: the driver library as check-driverlib.sh left it
# (libdrvslice-local.a, compiled with the same kernel's flags) instead of
# compiling slicer/lib again.  BIN: where driverslicer is (default: swift
# build --show-bin-path in a source tree; PREFIX/bin where make install put
# this script in PREFIX/share/drivermgr/slicer).  Objects go to OUT.obj/.
set -euo pipefail
export LC_ALL=C
[ $# -eq 5 ] || { echo "usage: $0 HALVES_DIR NAME KBUILD_CMD KDIR OUT" >&2; exit 2; }
HALVES=$(realpath "$1")
NAME=$2
CMD=$(realpath "$3")
KDIR=$(realpath "$4")
OUT=$(realpath -m "$5")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB="$ROOT/slicer/lib"

OBJ="$OUT.obj"
fail() { echo "build-udriver: $*" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  # A source tree: its build. Installed (PREFIX/share/drivermgr/slicer/):
  # PREFIX/bin, then the PATH.
  if [ -f "$ROOT/Package.swift" ]; then BIN=$(cd "$ROOT" && swift build --show-bin-path)
  elif [ -x "$ROOT/../../bin/driverslicer" ]; then BIN=$(cd "$ROOT/../../bin" && pwd)
  else BIN=$(dirname "$(command -v driverslicer || echo /nonexistent/driverslicer)")
  fi
fi
[ -x "$BIN/driverslicer" ] || fail "no driverslicer in $BIN (BIN=)"

users=("$HALVES"/user/*.c)
[ -f "${users[0]}" ] || fail "no user half in $HALVES/user"
desc="slice_$(printf '%s' "$NAME" | tr -c 'A-Za-z0-9_' '_')_user"
grep -q "^const struct drvslice_driver $desc = " "${users[@]}" \
  || fail "the user half in $HALVES/user has no description $desc (a driver of several files gets none)"
mapfile -t uflags < <("$BIN/driverslicer" "${users[0]}" --kbuild-cmd "$CMD" --kbuild-dir "$KDIR" --user-cflags)
[ "${#uflags[@]}" -gt 10 ] || fail "driverslicer --user-cflags gave no flags"

rm -rf "$OBJ"
mkdir -p "$OBJ/lib" "$(dirname "$OUT")"
kcc() { # kcc SRC OBJ [FLAGS]: kernel-facing, compiled as a user half (relative -I paths from KDIR)
  (cd "$KDIR" && gcc "${uflags[@]}" -Werror "${@:3}" -fmacro-prefix-map="$ROOT/"= -I"$ROOT/module/include" \
     -I"$LIB" -I"$(dirname "$CMD")" -c "$1" -o "$2") || fail "$1 does not build"
}
ucc() { # ucc SRC OBJ [FLAGS]: libc-facing
  gcc -O2 -g -Wall "${@:3}" -c "$1" -o "$2" || fail "$1 does not build"
}

kobjs=() libk=() oobjs=()
for f in "${users[@]}"; do
  o="$OBJ/user-$(basename "${f%.c}").o"; kcc "$f" "$o"; kobjs+=("$o")
done
kcc "$ROOT/slicer/host/k-host.c" "$OBJ/k-host.o" -Wall
kobjs+=("$OBJ/k-host.o")
if [ -n "${LIBDRVSLICE:-}" ]; then
  archive=$(realpath "$LIBDRVSLICE")
  (cd "$OBJ/lib" && ar x "$archive") || fail "cannot read $LIBDRVSLICE"
  for o in "$OBJ"/lib/k-*.o; do libk+=("$o"); done
  for o in "$OBJ"/lib/os-*.o; do oobjs+=("$o"); done
else
  for f in "$LIB"/k-*.c; do
    o="$OBJ/lib/$(basename "${f%.c}").o"; kcc "$f" "$o" -Wall; libk+=("$o")
  done
  for f in "$LIB"/os-*.c; do
    o="$OBJ/lib/$(basename "${f%.c}").o"; ucc "$f" "$o" -fPIC -Wextra -Werror -I"$LIB"; oobjs+=("$o")
  done
fi
[ "${#libk[@]}" -gt 0 ] && [ "${#oobjs[@]}" -gt 0 ] || fail "no driver library"
# The library's kernel-facing part as an archive: what the half uses of
# it (the MII library's calls into the kernel stay out of a driver
# without MII), what the host calls (the PCI driver registry) and the
# kernel API's description, if it has one.
ar rcs "$OBJ/libk.a" "${libk[@]}"
need=(-u drvslice_pci_driver)
! nm -g --defined-only "$OBJ/libk.a" 2>/dev/null | awk '{ print $NF }' | grep -qx drvslice_api_user \
  || need+=(-u drvslice_api_user)

# One object of the kernel-facing ones, the C library's names local to it.
ld -r -o "$OBJ/half.o" "${need[@]}" "${kobjs[@]}" "$OBJ/libk.a"
LIBC=$(gcc -print-file-name=libc.so.6)
nm -D --defined-only "$LIBC" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u > "$OBJ/libc-symbols.txt"
# The driver's init_module stays global: the host calls it (the C
# library's init_module is the system call's, which the executable's own
# definition overrides).
nm -g --defined-only "$OBJ/half.o" | awk 'NF == 3 { print $3 }' | sort -u > "$OBJ/half-symbols.txt"
grep -qx init_module "$OBJ/half-symbols.txt" || fail "the user half has no module init (module_init, module_pci_driver)"
comm -12 "$OBJ/half-symbols.txt" "$OBJ/libc-symbols.txt" | grep -vx init_module > "$OBJ/libc-clashes.txt" || true
localise=()
while read -r s; do localise+=("--localize-symbol=$s"); done < "$OBJ/libc-clashes.txt"
[ "${#localise[@]}" -eq 0 ] || objcopy "${localise[@]}" "$OBJ/half.o"

ucc "$ROOT/module/slice_core.c" "$OBJ/slice_core.o" -Werror -I"$ROOT/module/include"
ucc "$ROOT/slicer/host/slice-host.c" "$OBJ/slice-host.o" -Wextra -Werror -DDRVSLICE_USER_DESC="$desc" \
  -I"$ROOT/module/include" -I"$LIB" -I"$ROOT/Sources/CSandbox/include" -I"$ROOT/Sources/CBuildID/include" \
  -I"$ROOT/Sources/CRuntimeFaults/include"
ucc "$ROOT/Sources/CSandbox/sandbox.c" "$OBJ/sandbox.o" -I"$ROOT/Sources/CSandbox/include"
ucc "$ROOT/Sources/CBuildID/build_id.c" "$OBJ/build_id.o" -I"$ROOT/Sources/CBuildID/include"
ucc "$ROOT/Sources/CRuntimeFaults/runtime_faults.c" "$OBJ/runtime_faults.o" -I"$ROOT/Sources/CRuntimeFaults/include"

# Decaf's step: the functions moved to Swift, and their bindings.
link=(gcc -rdynamic -Wl,--build-id)
swiftobjs=()
if [ -d "$HALVES/decaf" ]; then
  [ -n "${DECAF_SWIFT:-}" ] || fail "$HALVES/decaf: functions were moved to Swift (driverslicer --decaf); DECAF_SWIFT names no directory of their Swift"
  mapfile -t swifts < <(ls "$DECAF_SWIFT"/*.swift 2>/dev/null)
  [ "${#swifts[@]}" -gt 0 ] || fail "DECAF_SWIFT=$DECAF_SWIFT holds no .swift file"
  module="Decaf_$(printf '%s' "$NAME" | tr -c 'A-Za-z0-9_' '_')"
  swiftc -swift-version 6 -emit-object -parse-as-library -wmo -O -g -module-name "$module" -I "$HALVES/decaf" \
    "$HALVES"/decaf/*.swift "${swifts[@]}" -o "$OBJ/decaf.o" > "$OBJ/swift.log" 2>&1 \
    || { cat "$OBJ/swift.log" >&2; fail "the Swift of the moved functions does not build"; }
  swiftobjs=("$OBJ/decaf.o")
  link=(swiftc -Xlinker --export-dynamic -Xlinker --build-id)
fi

if ! "${link[@]}" -o "$OUT" "$OBJ/half.o" "$OBJ/slice-host.o" "$OBJ/slice_core.o" "${oobjs[@]}" "${swiftobjs[@]}" \
     "$OBJ/sandbox.o" "$OBJ/build_id.o" "$OBJ/runtime_faults.o" -lseccomp -lpthread > "$OBJ/link.log" 2>&1; then
  missing=$(grep -o "undefined reference to \`[^']*'" "$OBJ/link.log" | sed "s/undefined reference to \`//; s/'$//" | sort -u | tr '\n' ' ')
  [ -z "$missing" ] || fail "$(basename "$OUT") does not link: nothing defines $missing(kernel API the driver library does not have yet: slicer/lib/k-api.c)"
  cat "$OBJ/link.log" >&2
  fail "$(basename "$OUT") does not link"
fi
# The user half never calls up: the kernel half's runtime is not here.
! nm "$OUT" | awk '{ print $NF }' | grep -qx drvslice_upcall || fail "$(basename "$OUT") defines drvslice_upcall"
echo "== $(basename "$OUT"): $desc, $(wc -l < "$OBJ/libc-clashes.txt") names local to the half: $(tr '\n' ' ' < "$OBJ/libc-clashes.txt")"
