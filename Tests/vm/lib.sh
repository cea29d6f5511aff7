# SPDX-License-Identifier: GPL-2.0
# Shared by the busybox guests' scripts (sourced).

# guest_install ROOT FILE...: each executable at its own path under ROOT
# (the guest's initramfs), with every shared library it loads (ldd).
guest_install() {
  local root=$1 f
  shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp "$f" "$root$f"
    ldd "$f" | awk '/=>/ {print $3} /ld-linux/ {print $1}'
  done | sort -u | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# The first lines of a busybox guest's /init: the applets, plain drvctl
# tables, /proc, /sys and /dev.
guest_init_head() {
  cat <<'HEAD'
#!/bin/busybox sh
/bin/busybox --install -s /bin
# The checks read drvctl's tables plain: the serial console is a terminal
# with TERM=linux, where drvctl (like systemctl) would colour them.
export NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
HEAD
}

# The last lines of a busybox guest's /init: what the kernel complained of
# goes to the host's log ("== dmesg clean" otherwise), then power off.
# An oops for a page fault taken in user mode whose error code lacks the
# user bit ("#PF: supervisor ... access in user mode": a campaign's code
# mutation turned a u-driver's ret into retf, and TCG faulted its stack read
# so) is a user instruction's: the kernel ends the process (drivermgrd
# recovers it), and no kernel code ran. It is said apart, not taken for the
# kernel's complaint.
guest_init_tail() {
  cat <<'TAIL'
dmesg > /tmp/dmesg.all
n_user=$(grep -cE "#PF: supervisor [a-z ]+ access in user mode" /tmp/dmesg.all)
[ "$n_user" -gt 0 ] && echo "== dmesg: $n_user oops(es) of a user-mode instruction's implicit supervisor access (the process ended): $(grep -E "CPU: .* Comm: " /tmp/dmesg.all | grep -oE "Comm: [^ ]+" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
if awk '
  { l[NR] = $0 }
  END {
    for (i = 1; i <= NR; i++) {
      if (l[i] ~ /BUG: unable to handle page fault/ && l[i + 1] ~ /#PF: supervisor [a-z ]+ access in user mode/) { user = 1; continue }
      if (user && l[i] ~ /Oops:/) { user = 0; continue }
      if (l[i] ~ /BUG|Oops/ || (l[i] ~ /WARNING:/ && l[i] !~ /dev_watchdog/)) bad = 1
    }
    exit !bad
  }' /tmp/dmesg.all; then
  grep -E -A14 "BUG|Oops|WARNING:" /tmp/dmesg.all | head -60 | sed 's/^/  dmesg: /'
  echo "== dmesg: the kernel complained"; else echo "== dmesg clean"; fi
poweroff -f
TAIL
}

# guest_initrd WORK: WORK/root, /init executable, packed as WORK/initrd.gz.
guest_initrd() {
  chmod +x "$1/root/init"
  (cd "$1/root" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$1/initrd.gz"
}
