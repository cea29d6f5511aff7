# SPDX-License-Identifier: GPL-2.0
# drivermgr — `make run` and `make check` are all a new machine needs.

SWIFT      ?= swift
# C (ours and swift-system's shim) as DWARF 4: Debian 12's valgrind 3.19
# gives up on clang's default DWARF 5 (`drvctl debug NAME --valgrind`).
SWIFT_FLAGS ?= -Xcc -gdwarf-4
BUILD_DIR  ?= .build
RUN_DIR    ?= $(CURDIR)/run-sim
APT_PKGS   := pkg-config python3-venv libsystemd-dev libnl-3-dev libnl-genl-3-dev libseccomp-dev libclang-dev libcapstone-dev systemd \
              gdb gdbserver valgrind strace
# The kernel path: Debian's kernel + headers, QEMU, a static busybox guest.
VM_PKGS    := qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio gcc libc6-dev alsa-utils systemd ethtool \
              linux-source-6.1 xz-utils make
# The account u-drivers run as with [Sandbox] User= (units/drivermgr.sysusers).
UDRIVER_USER ?= drivermgr

.PHONY: all deps vm-deps build run check check-batch check-batch-fuzzers check-batch-builds deb gen-docs check-deb check-install test-python check-product vm check-scale check-instructions check-guests check-mouse-slice check-usb-sound-template check-template check-slice check-slice-sound check-vm check-mouse check-usb check-net bench-vm check-slicer sweep check-systemd check-campaign campaign campaign-vm campaign-slice campaign-slice-sound campaign-mutations campaign-daemon fuzz-kernel check-fuzz-kernel fuzz-slice-kernel test bench clean install install-files install-dkms install-dkms-files uninstall-dkms check-dkms

all: build

# Installs the Debian packages that are missing and creates the u-driver
# user (as root, or through sudo).
deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi; \
	id -u $(UDRIVER_USER) >/dev/null 2>&1 || { echo "Creating system user $(UDRIVER_USER) for the u-drivers (units/drivermgr.sysusers)"; \
	  $$SUDO systemd-sysusers $(CURDIR)/units/drivermgr.sysusers; }

# The QEMU guest's packages, for check.
vm-deps:
	@$(MAKE) --no-print-directory deps APT_PKGS="$(VM_PKGS)"

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

# The simulated nucleus plus drivermgrd in the foreground, sample config from etc/.
run: build
	RUN_DIR=$(RUN_DIR) BIN=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path) ./scripts/run-sim.sh

# The tests' independent peers from PyPI: the varlink client
# (Tests/varlink/pypi_client.py) and prometheus_client's parser of the
# metrics text format (MetricsTests).
TEST_VENV ?= $(BUILD_DIR)/test-venv
TEST_PY_PKGS := varlink==31.0.0 prometheus-client==0.26.0
test-python: $(TEST_VENV)/.installed
$(TEST_VENV)/.installed: Makefile
	python3 -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install -q $(TEST_PY_PKGS)
	touch $@

# One stage of make check, then how long it took ("== check-net: 540 s"),
# so a CI log shows where the budget goes.
define timed
	@t0=$$(date +%s); $(MAKE) --no-print-directory $(1) || exit 1; echo "== $(1): $$(( $$(date +%s) - t0 )) s"
endef

check: build vm-deps test-python
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	$(SWIFT) test --skip-build --disable-xctest --skip FaultInjectionTests --skip IntegrationTests
	@# The integration tests start the real processes (nucleus-sim, drivermgrd,
	@# u-drivers) with deadlines of 250 ms and count every frame and sample:
	@# one at a time, so that a 2-core machine's load does not decide them.
	$(SWIFT) test --skip-build --disable-xctest --filter IntegrationTests --no-parallel
	@# The ptrace tests in a process of their own: they stop and trace
	@# children while blocking, which the other suites' processes must not share.
	$(SWIFT) test --skip-build --disable-xctest --filter FaultInjectionTests
	$(call timed,check-scale)
	$(call timed,check-batch)
	$(call timed,check-campaign)
	$(call timed,check-vm)
	$(call timed,check-guests)
	$(call timed,check-net)
	$(call timed,check-systemd)
	$(call timed,check-product)

# The whole product in one guest: systemd and udev (the stock drivers bound
# first), make install-files, modprobe drvnucleus, Bind= hands the devices
# over, sandboxed u-drivers on the kernel path; ping and aplay across a
# u-driver's and the daemon's SIGKILL (Tests/vm/product-test.sh).
KVER_NEWEST = $(shell ls /lib/modules 2>/dev/null | sort -V | tail -1)
PRODUCT_QEMU = -netdev user,id=n0 -device rtl8139,netdev=n0 -audiodev none,id=snd0 -device ES1370,audiodev=snd0
check-product: vm-deps
	$(MAKE) -s -C /lib/modules/$(KVER_NEWEST)/build M=$(CURDIR)/module modules
	./Tests/vm/systemd-guest.sh product-test.sh $(PRODUCT_QEMU)

# The same guest from the Debian packages (make deb): dpkg -i of
# drvnucleus-dkms (DKMS builds the module in the guest: about 5 minutes
# under TCG) and drivermgr (postinst: sysusers, tmpfiles, enable and
# start), then the same checks. About 17 minutes.
check-deb: deb vm-deps
	DEBS=$(DEB_DIR) VM_TIMEOUT=1500 ./Tests/vm/systemd-guest.sh product-test.sh $(PRODUCT_QEMU)

# The same guest, interactive: the product installed and running, root
# logged in on the serial console (Ctrl-A X or poweroff to leave).
vm: build vm-deps
	$(MAKE) -s -C /lib/modules/$(KVER_NEWEST)/build M=$(CURDIR)/module modules
	VM_INTERACTIVE=1 ./Tests/vm/systemd-guest.sh product-setup.sh -netdev user,id=n0 -device rtl8139,netdev=n0 \
	  -audiodev none,id=snd0 -device ES1370,audiodev=snd0

# The stages whose checks do not depend on time (no deadline, no rate:
# compilers, libFuzzer and the genetlink fuzzer bounded by count, valgrind's
# instruction counts, DKMS, the install layout), each mostly on one core:
# two chains of them side by side, each stage's output printed whole when
# it ends. Their packages first, so that two apt-gets never race for
# dpkg's lock.
check-batch:
	@$(MAKE) --no-print-directory deps APT_PKGS="dkms valgrind"
	@$(MAKE) --no-print-directory -j2 --output-sync=target check-batch-fuzzers check-batch-builds
check-batch-fuzzers:
	$(call timed,check-fuzz)
	$(call timed,check-fuzz-kernel)
check-batch-builds:
	$(call timed,check-slicer)
	$(call timed,check-dkms)
	$(call timed,check-install)
	$(call timed,check-instructions)

# The input and usb-host guests side by side: each is TCG of its own,
# mostly waiting on QEMU's devices, and none of their checks compares one
# guest's rate with another's (150 s together, 250 s one after the other);
# the sliced 8139cp guest after the mouse's (about 100 + 145 s), the sliced
# ens1370's and the template's after the usb-host's (about 120 + 65 + 70 s).
# Not the others: check-net's four NIC scenarios and check-vm start Swift
# processes (drvctl, u-drivers) under TCG all along, and beside another
# guest their crash storms no longer fit StartLimitIntervalSec; systemd,
# nucleus-sim and the Swift daemon in one TCG guest need both cores.
check-guests: vm-deps
	@$(MAKE) --no-print-directory -j2 --output-sync=line check-mouse-slice check-usb-sound-template
check-usb-sound-template:
	$(call timed,check-usb)
	$(call timed,check-slice-sound)
	$(call timed,check-template)
check-mouse-slice:
	$(call timed,check-mouse)
	$(call timed,check-slice)

# 200 rtl8139 drivers with standbys under a SIGKILL every 0.15 s (ScaleTests),
# alone: it takes both cores for half a minute.
check-scale:
	DRIVERMGR_SCALE=1 $(SWIFT) test --skip-build --disable-xctest --filter ScaleTests

# drvnucleus.ko in a QEMU guest (Debian's kernel, TCG) with QEMU's rtl8139 and ES1370.
check-vm:
	./Tests/vm/kernel-nucleus.sh

# The input class on drvnucleus.ko: QEMU's PS/2 mouse moved from the
# monitor, the stock psmouse beside drvnucleus's serio half with the psmouse
# u-driver killed and hung mid-motion, then steady use (Tests/vm/mouse-guest.sh).
check-mouse:
	./Tests/vm/mouse-guest.sh

# Two identical NICs from one template on drvnucleus.ko: QEMU's two
# rtl8139s, drivers.d/rtl8139@.conf alone, an instance per PCI function with
# its own u-driver and netdev, one instance's u-driver killed under echo
# streams through both, drivermgrd itself killed (under fdstore) and both
# u-drivers taken over, reloads that change and remove the template
# (Tests/vm/template-guest.sh).
check-template:
	./Tests/vm/template-guest.sh

# A sliced legacy driver on drvnucleus.ko: 8139cp.c from linux-source-6.1
# split by driverslicer --halves, its kernel half a module on drvnucleus's
# runtime of sliced drivers, its user half a u-driver drivermgrd spawns
# (Tests/vm/slice-guest.sh; it uses check-slicer's Kbuild of 8139cp).
check-slice:
	./Tests/vm/slice-guest.sh

# The same for a sound driver: ens1370.c on QEMU's ES1370, aplay -l, amixer,
# a tone recorded in a wav, the u-driver SIGKILLed mid-tone, its AK4531
# codec write in Swift (Tests/vm/slice-sound-guest.sh; check-slicer's Kbuild
# of ens1370). In make check after the usb guest, beside mouse-slice.
check-slice-sound:
	./Tests/vm/slice-sound-guest.sh

# The usb-host class on drvnucleus.ko: QEMU's piix3-usb-uhci with a
# usb-storage disk and a usb-tablet, the stock uhci-hcd beside drvnucleus's
# schedule with the uhci u-driver killed and hung mid-read (checksum, no I/O
# error, no disconnect), the read throughput of both, a crash storm
# (Tests/vm/usb-guest.sh; USB_PHASES=A: the stock baseline alone).
check-usb:
	./Tests/vm/usb-guest.sh

# The structured genetlink fuzzer (Tests/vm/genl-fuzz.c) against drvnucleus.ko
# in a guest with the five chips it drives (docs/fuzzing.md): the object
# tracker against the fuzzer's model, DEVICE_INFO, rmmod with 0 DMA objects
# and dmesg checked after.  FUZZ_KERNEL_SEED reproduces a run.
FUZZ_KERNEL_MESSAGES ?= 1000000
FUZZ_KERNEL_SEED     ?= $(shell date +%s)
fuzz-kernel: vm-deps
	./Tests/vm/genl-fuzz.sh $(FUZZ_KERNEL_MESSAGES) $(FUZZ_KERNEL_SEED)

# A short run of it: 200,000 messages, seed 1, at most 120 s of fuzzing.
check-fuzz-kernel: vm-deps
	GENL_FUZZ_SECONDS=120 ./Tests/vm/genl-fuzz.sh 200000 1

# A hostile u-driver of a sliced device (Tests/vm/slice-fuzz.c) in the
# slice guest: its SLICE_DOWNCALLs for FUZZ_SLICE_SECONDS once the guest's
# checks have run (check-slice runs it for 30 s, seed 1).
FUZZ_SLICE_SECONDS ?= 600
FUZZ_SLICE_SEED    ?= $(shell date +%s)
fuzz-slice-kernel: build vm-deps
	SLICE_FUZZ_SECONDS=$(FUZZ_SLICE_SECONDS) SLICE_FUZZ_SEED=$(FUZZ_SLICE_SEED) \
	  SLICE_VM_TIMEOUT=$$(($(FUZZ_SLICE_SECONDS) + 900)) ./Tests/vm/slice-guest.sh

# Every NIC microdriver (Tests/vm/nics/*.row) in one guest boot, the same
# scenario for each, and the stock drivers for the baseline: one round of
# the throughput pair here (bench-vm runs 7 for the figures).
check-net:
	ROUNDS=1 ./Tests/vm/net-guest.sh

# The NIC guest with 7 interleaved microdriver/stock throughput rounds.
bench-vm:
	ROUNDS=7 ./Tests/vm/net-guest.sh

# DriverSlicer on 8139too, 8139cp and ens1370/ens1371 from linux-source-6.1,
# with the flags Kbuild compiles them with.
check-slicer:
	./Tests/slicer/check-slicer.sh

# DriverSlicer over every PCI driver of SWEEP_TREES (drivers/net/ethernet,
# drivers/net/wireless, sound/pci) in linux-source-6.1: Kbuild builds the
# trees, `driverslicer --sweep` splits each driver and builds its generated
# code; the table goes to docs/driverslicer-sweep.md (Tests/slicer/sweep.sh).
# A long target: it compiles whole trees.
sweep: build
	./Tests/slicer/sweep.sh

# drivermgrd as a systemd service in a QEMU guest on this machine's root over
# 9p, with systemd as PID 1 and real journald.
check-systemd:
	./Tests/vm/systemd-guest.sh

# The fault campaign (docs/reliability.md): faults into u-drivers on
# nucleus-sim under their workload, one JSONL row per fault, then the report
# (tables, CDF and outcome plots, reproducers). `make campaign` is the
# scale run: 100,000 faults of every failure kind drvctl inject has, plus
# SIGKILL, in at most 45 minutes. `make campaign-mutations` adds the code
# mutations (ptrace: root), which place at about a third of that rate.
# CAMPAIGN_FAULTS and CAMPAIGN_SECONDS bound the run; CAMPAIGN_DEVICES sets
# the fleet; CAMPAIGN_KINDS="" draws from every kind.
CAMPAIGN_DIR     ?= $(CURDIR)/campaign
CAMPAIGN_FAULTS  ?= 100000
CAMPAIGN_SECONDS ?= 2700
CAMPAIGN_DEVICES ?= rtl8139=32 es1371=16 es1370=16 psmouse=16 uhci=16
CAMPAIGN_KINDS   ?= crash abort hang slow bad-param garbage memory syscall fork-bomb flood lost-write sigkill
CAMPAIGN_WORKERS ?= 64
# SIGKILL drivermgrd itself every N faults (0: never); it then runs under
# fdstore with --fd-store, as under systemd.
CAMPAIGN_DAEMON_KILL_EVERY ?= 0
CAMPAIGN_SEED    ?= $(shell date +%s)
# The share of manifested faults that must recover transparently (percent).
CAMPAIGN_MIN_TRANSPARENT ?= 99.99
# Release binaries by default: nucleus-sim's data path for 64 devices and
# the broker are the campaign's bottleneck in a debug build.
CAMPAIGN_CONF    ?= release
campaign: deps
	@$(MAKE) --no-print-directory deps APT_PKGS="gnuplot-nox"
	$(SWIFT) build $(SWIFT_FLAGS) -c $(CAMPAIGN_CONF)
	rm -rf $(CAMPAIGN_DIR) && mkdir -p $(CAMPAIGN_DIR)
	bin=$$($(SWIFT) build $(SWIFT_FLAGS) -c $(CAMPAIGN_CONF) --show-bin-path); \
	$$bin/drvcampaign sim --bin $$bin --dir $(CAMPAIGN_DIR)/run \
	  --devices $(CAMPAIGN_DEVICES) --faults $(CAMPAIGN_FAULTS) --seconds $(CAMPAIGN_SECONDS) \
	  --seed $(CAMPAIGN_SEED) $(if $(CAMPAIGN_KINDS),--kinds $(CAMPAIGN_KINDS)) --workers $(CAMPAIGN_WORKERS) \
	  --daemon-kill-every $(CAMPAIGN_DAEMON_KILL_EVERY) --out $(CAMPAIGN_DIR)/faults.jsonl && \
	$$bin/drvcampaign report $(CAMPAIGN_DIR)/faults.jsonl --markdown $(CAMPAIGN_DIR)/report.md \
	  --plots $(CAMPAIGN_DIR)/plots --reproducers $(CAMPAIGN_DIR)/reproducers.jsonl \
	  --min-transparent $(CAMPAIGN_MIN_TRANSPARENT)

# The campaign on the kernel path: the NIC guest (drvnucleus.ko, every NIC's
# u-driver) with CAMPAIGN_VM_FAULTS faults under a ping stream.
CAMPAIGN_VM_FAULTS  ?= 1200
CAMPAIGN_VM_SECONDS ?= 2400
# drivermgrd itself SIGKILLed every N faults (under fdstore in the guest).
CAMPAIGN_VM_DAEMON_KILL_EVERY ?= 10
# The drivers faults go into (empty: every one), e.g. "psmouse uhci".
CAMPAIGN_VM_DRIVERS ?=
# The whole console (drivermgrd's log, dmesg and the campaign's rows in
# full) goes to CAMPAIGN_VM_CONSOLE_LOG; empty keeps only the report.
CAMPAIGN_VM_CONSOLE_LOG ?= $(CURDIR)/campaign-vm.log
campaign-vm: build vm-deps
	CAMPAIGN_FAULTS=$(CAMPAIGN_VM_FAULTS) CAMPAIGN_SECONDS=$(CAMPAIGN_VM_SECONDS) ROUNDS=0 \
	  CAMPAIGN_CONSOLE_LOG=$(CAMPAIGN_VM_CONSOLE_LOG) CAMPAIGN_DRIVERS=$(CAMPAIGN_VM_DRIVERS) \
	  CAMPAIGN_DAEMON_KILL_EVERY=$(CAMPAIGN_VM_DAEMON_KILL_EVERY) \
	  CAMPAIGN_KINDS="crash abort hang slow bad-param garbage memory syscall fork-bomb flood lost-write sigkill bit-flip invert-branch nop register stack-pointer" \
	  ./Tests/vm/net-guest.sh

# The campaign into a sliced driver on the kernel path: the slice guest
# (8139cp.c's halves on drvnucleus.ko) with CAMPAIGN_SLICE_FAULTS faults,
# SIGKILLs, the runtime's kinds and the code mutations in the user half's
# own functions, under an echo stream and ethtool; the whole console into
# campaign-slice.log. Not in make check (minutes more); 300 faults take
# about 8 minutes of it (docs/reliability.md).
CAMPAIGN_SLICE_FAULTS ?= 300
CAMPAIGN_SLICE_SECONDS ?= 2400
# drivermgrd SIGKILLed every N faults (0: never).
CAMPAIGN_SLICE_DAEMON_KILL_EVERY ?= 10
# The plan's seed: the same faults, in the same order, each run.
CAMPAIGN_SLICE_SEED ?= 1
campaign-slice: build vm-deps
	SLICE_CAMPAIGN_FAULTS=$(CAMPAIGN_SLICE_FAULTS) SLICE_CAMPAIGN_SECONDS=$(CAMPAIGN_SLICE_SECONDS) SLICE_VM_TIMEOUT=$$(($(CAMPAIGN_SLICE_SECONDS) + 600)) \
	  SLICE_CAMPAIGN_SEED=$(CAMPAIGN_SLICE_SEED) \
	  SLICE_CAMPAIGN_DAEMON_KILL_EVERY=$(CAMPAIGN_SLICE_DAEMON_KILL_EVERY) \
	  SLICE_CONSOLE_LOG=$(CURDIR)/campaign-slice.log \
	  ./Tests/vm/slice-guest.sh

# The same into the sliced sound driver (ens1370.c's halves) under aplay
# and amixer, drivermgrd SIGKILLed every CAMPAIGN_SLICE_SOUND_DAEMON_KILL_EVERY
# faults (0: never); the whole console into campaign-slice-sound.log.
CAMPAIGN_SLICE_SOUND_FAULTS ?= 200
CAMPAIGN_SLICE_SOUND_SECONDS ?= 2400
CAMPAIGN_SLICE_SOUND_DAEMON_KILL_EVERY ?= 10
campaign-slice-sound: build vm-deps
	SLICE_SOUND_CAMPAIGN_FAULTS=$(CAMPAIGN_SLICE_SOUND_FAULTS) SLICE_SOUND_CAMPAIGN_SECONDS=$(CAMPAIGN_SLICE_SOUND_SECONDS) \
	  SLICE_SOUND_CAMPAIGN_DAEMON_KILL_EVERY=$(CAMPAIGN_SLICE_SOUND_DAEMON_KILL_EVERY) \
	  SLICE_SOUND_VM_TIMEOUT=$$(($(CAMPAIGN_SLICE_SOUND_SECONDS) + 600)) \
	  SLICE_SOUND_CONSOLE_LOG=$(CURDIR)/campaign-slice-sound.log \
	  ./Tests/vm/slice-sound-guest.sh

# Every kind, the code mutations included, on the same fleet.
campaign-mutations:
	$(MAKE) --no-print-directory campaign CAMPAIGN_KINDS= CAMPAIGN_FAULTS=20000 CAMPAIGN_DIR=$(CURDIR)/campaign-mutations

# drivermgrd's own death at scale: 1,000 SIGKILLs of the daemon (one every
# 5 faults, half of them while a driver recovers) over 16 drivers, the
# fleet's faults between.
campaign-daemon:
	$(MAKE) --no-print-directory campaign CAMPAIGN_FAULTS=5000 CAMPAIGN_DAEMON_KILL_EVERY=5 \
	  CAMPAIGN_KINDS="crash abort hang slow bad-param garbage sigkill" \
	  CAMPAIGN_DEVICES="rtl8139=8 es1371=4 es1370=4" CAMPAIGN_DIR=$(CURDIR)/campaign-daemon

# A short campaign in make check: the same runner and report, fewer faults,
# the runtime kinds (the code mutations are ptrace stops that place at a
# third of the rate: make campaign-mutations runs them), 30 kills of
# drivermgrd itself, and the targets must hold (exit 1 otherwise): every
# manifested fault detected, no silent corruption, nothing lost, and at most
# 3 of the 600 not transparent (600 faults cannot resolve 99.99 %; a broken
# recovery path fails dozens). The rows that were not are printed last.
check-campaign:
	$(MAKE) --no-print-directory campaign CAMPAIGN_CONF=debug CAMPAIGN_FAULTS=600 CAMPAIGN_SECONDS=150 \
	  CAMPAIGN_MIN_TRANSPARENT=99.5 \
	  CAMPAIGN_KINDS="crash abort hang slow bad-param garbage memory syscall fork-bomb flood sigkill" \
	  CAMPAIGN_DEVICES="rtl8139=6 es1371=3 es1370=3 psmouse=3 uhci=3" CAMPAIGN_SEED=1 CAMPAIGN_DAEMON_KILL_EVERY=20 \
	  CAMPAIGN_DIR=$(CURDIR)/.build/campaign-check

test: check

# Benchmarks: XPC round trips beside a raw socketpair baseline, daemon RSS.
# Installed layout. `make install` builds release binaries with the Swift
# runtime linked in (glibc, libsystemd, libnl and libseccomp stay shared),
# generates the man pages and bash completion, and installs; install-files
# copies what BIN and GEN_DIR hold (the systemd guest test uses it; the
# man pages and completion only when generated). `make deb` does the same
# into Debian packages (debian/).
PREFIX     ?= /usr/local
DESTDIR    ?=
UNITDIR    ?= /etc/systemd/system
CATALOGDIR ?= /usr/lib/systemd/catalog
# The packaged configuration (drivermgrd.conf(5)): drivermgrd reads it
# below /etc/drivermgrd, which stays the admin's.
CONFDIR    ?= $(PREFIX)/lib/drivermgrd
# The driver configurations to install: etc/ has one per supported chip;
# the simulator's tests install Tests/etc (nucleus-sim's devices).
CONF_SRC   ?= etc
GEN_DIR    ?= $(CURDIR)/$(BUILD_DIR)/generated
DOC_DATE   ?= $(shell git log -1 --format=%cs 2>/dev/null || date +%F)
# The static build has a directory of its own (STATIC_BUILD): its objects
# name the static runtime's libraries to the linker, and SwiftPM would reuse
# them in an ordinary build, which then fails to link.
STATIC_BUILD = --scratch-path $(BUILD_DIR)/static -c release --static-swift-stdlib
install: deps
	$(SWIFT) build $(SWIFT_FLAGS) $(STATIC_BUILD)
	$(MAKE) --no-print-directory gen-docs BIN=$$($(SWIFT) build $(SWIFT_FLAGS) $(STATIC_BUILD) --show-bin-path)
	$(MAKE) --no-print-directory install-files BIN=$$($(SWIFT) build $(SWIFT_FLAGS) $(STATIC_BUILD) --show-bin-path)

# Man pages from the commands' own argument parsers (swift-argument-parser's
# generate-manual reads each tool's --experimental-dump-help), so they say
# what --help says; drivermgrd.conf(5) is written by hand (docs/man). The
# bash completion from drvctl --generate-completion-script.
gen-docs:
	@test -n "$(BIN)" || { echo "gen-docs: BIN= (the directory with the built binaries) is required"; exit 2; }
	$(SWIFT) build $(SWIFT_FLAGS) --product generate-manual
	rm -rf $(GEN_DIR) && mkdir -p $(GEN_DIR)/man $(GEN_DIR)/completions
	gm=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)/generate-manual; \
	for t in drvctl:8 drivermgrd:8 driverslicer:1 nucleus-sim:1; do \
	  $$gm $(BIN)/$${t%%:*} --section $${t##*:} --date $(DOC_DATE) --authors "drivermgr developers" -o $(GEN_DIR)/man || exit 1; \
	done
	@# generate-manual counts argument-parser's implicit `help` as a
	@# subcommand; the two tools that have no other put none in the synopsis.
	sed -i '/^\.Ar subcommand$$/d' $(GEN_DIR)/man/drivermgrd.8 $(GEN_DIR)/man/driverslicer.1
	cp docs/man/*.[0-9] $(GEN_DIR)/man/
	@# No #! line: bash-completion sources the file (lintian: bash-completion-with-hashbang).
	$(BIN)/drvctl --generate-completion-script bash | sed '1{/^#!/d}' > $(GEN_DIR)/completions/drvctl

install-files:
	@test -n "$(BIN)" || { echo "install-files: BIN= (the directory with the built binaries) is required"; exit 2; }
	install -D -m 0755 $(BIN)/drivermgrd $(DESTDIR)$(PREFIX)/sbin/drivermgrd
	install -D -m 0755 $(BIN)/drvctl $(DESTDIR)$(PREFIX)/bin/drvctl
	install -D -m 0755 $(BIN)/nucleus-sim $(DESTDIR)$(PREFIX)/bin/nucleus-sim
	@# Every u-driver a shipped configuration names (Executable=).
	@for exe in $$(sed -n 's/^Executable=//p' $(CONF_SRC)/drivers.d/*.conf | sort -u); do \
	  echo "install $(BIN)/$$exe"; \
	  install -D -m 0755 $(BIN)/$$exe $(DESTDIR)$(PREFIX)/libexec/drivermgrd/$$exe || exit 1; \
	done
	install -D -m 0755 $(BIN)/driverslicer $(DESTDIR)$(PREFIX)/bin/driverslicer
	install -d $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/interfaces
	install -m 0644 slicer/interfaces/*.iface $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/interfaces/
	@# The kit a driver author builds a sliced u-driver with (docs/driverslicer.md, item 12):
	@# build-udriver.sh finds the rest beside it, in the source tree's layout.
	install -D -m 0755 slicer/build-udriver.sh $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/build-udriver.sh
	install -d $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/lib $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/host
	install -m 0644 slicer/lib/*.c slicer/lib/*.h $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/lib/
	install -m 0644 slicer/host/*.c $(DESTDIR)$(PREFIX)/share/drivermgr/slicer/host/
	install -D -m 0644 module/slice_core.c $(DESTDIR)$(PREFIX)/share/drivermgr/module/slice_core.c
	install -d $(DESTDIR)$(PREFIX)/share/drivermgr/module/include/uapi
	install -m 0644 module/include/*.h $(DESTDIR)$(PREFIX)/share/drivermgr/module/include/
	install -m 0644 module/include/uapi/*.h $(DESTDIR)$(PREFIX)/share/drivermgr/module/include/uapi/
	@for c in CSandbox:sandbox CBuildID:build_id CRuntimeFaults:runtime_faults; do \
	  d=Sources/$${c%%:*}; \
	  install -D -m 0644 $$d/$${c##*:}.c $(DESTDIR)$(PREFIX)/share/drivermgr/$$d/$${c##*:}.c || exit 1; \
	  install -d $(DESTDIR)$(PREFIX)/share/drivermgr/$$d/include || exit 1; \
	  install -m 0644 $$d/include/*.h $(DESTDIR)$(PREFIX)/share/drivermgr/$$d/include/ || exit 1; \
	done
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/|$(PREFIX)/|g' units/drivermgrd.service > $(DESTDIR)$(UNITDIR)/drivermgrd.service
	install -D -m 0644 units/drivermgr.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/drivermgr.conf
	install -D -m 0644 units/drivermgr.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/drivermgr.conf
	install -D -m 0644 catalog/drivermgrd.catalog $(DESTDIR)$(CATALOGDIR)/drivermgrd.catalog
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/drivermgr/README.md
	install -D -m 0644 etc/drivermgrd.conf $(DESTDIR)$(CONFDIR)/drivermgrd.conf
	install -d $(DESTDIR)$(CONFDIR)/drivers.d
	install -m 0644 $(CONF_SRC)/drivers.d/*.conf $(DESTDIR)$(CONFDIR)/drivers.d/
	@if [ -d $(GEN_DIR)/man ]; then \
	  for m in $(GEN_DIR)/man/*.[0-9]; do \
	    install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$$(basename $$m) || exit 1; \
	  done; \
	  install -D -m 0644 $(GEN_DIR)/completions/drvctl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/drvctl; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
	  systemd-sysusers $(PREFIX)/lib/sysusers.d/drivermgr.conf; \
	  systemd-tmpfiles --create $(PREFIX)/lib/tmpfiles.d/drivermgr.conf || true; \
	  journalctl --update-catalog 2>/dev/null || true; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

# The install layout, man pages and completion in a scratch root (no guest).
check-install: build
	./Tests/install/check-install.sh $$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)

# Debian packages (debian/): drivermgr and drvnucleus-dkms, built by
# dpkg-buildpackage from this tree (release, the Swift runtime linked in),
# into DEB_DIR, then lintian (an error or a warning fails). The .debs are
# written next to the tree first, as dpkg-buildpackage does, then moved.
DEB_DIR        ?= $(CURDIR)/$(BUILD_DIR)/deb
DEB_PKGS       := debhelper dh-dkms dkms lintian
deb: deps
	@$(MAKE) --no-print-directory deps APT_PKGS="$(DEB_PKGS)"
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || \
	  { echo "deb: debian/changelog says $$v, VERSION says $(VERSION)"; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	@# Everything into DEB_DIR: dh_builddeb's --destdir (debian/rules),
	@# and the .buildinfo and .changes beside the packages they list.
	DEB_DIR=$(DEB_DIR) dpkg-buildpackage -b -us -uc \
	  --buildinfo-option=-u$(DEB_DIR) --buildinfo-file=$(DEB_DIR)/drivermgr_$(VERSION)_amd64.buildinfo \
	  --changes-option=-u$(DEB_DIR) --changes-file=$(DEB_DIR)/drivermgr_$(VERSION)_amd64.changes
	lintian --fail-on error,warning $(DEB_DIR)/drivermgr_$(VERSION)_amd64.changes
	@ls -l $(DEB_DIR)

# drvnucleus.ko through DKMS: module/ (with dkms.conf and the version) goes
# to /usr/src/drvnucleus-VERSION; dkms builds and installs it for the
# running kernel and rebuilds it on every kernel upgrade.
VERSION    := $(shell cat VERSION)
DKMS_SRC   ?= /usr/src/drvnucleus-$(VERSION)
DKMS_KERNEL ?= $(shell uname -r)
install-dkms-files:
	install -d $(DESTDIR)$(DKMS_SRC)/include/uapi $(DESTDIR)$(DKMS_SRC)/include/chips
	@# The sources only: an in-tree build leaves drvnucleus.mod.c beside them.
	install -m 0644 module/Kbuild $$(ls module/*.c | grep -v '\.mod\.c$$') module/*.h $(DESTDIR)$(DKMS_SRC)/
	install -m 0644 module/include/uapi/*.h $(DESTDIR)$(DKMS_SRC)/include/uapi/
	install -m 0644 module/include/chips/*.h $(DESTDIR)$(DKMS_SRC)/include/chips/
	@# The sliced drivers' runtime interface (drvslice*.h).
	install -m 0644 module/include/*.h $(DESTDIR)$(DKMS_SRC)/include/
	echo $(VERSION) > $(DESTDIR)$(DKMS_SRC)/VERSION
	sed 's/#MODULE_VERSION#/$(VERSION)/' module/dkms.conf > $(DESTDIR)$(DKMS_SRC)/dkms.conf

install-dkms:
	@$(MAKE) --no-print-directory deps APT_PKGS="dkms"
	$(MAKE) --no-print-directory install-dkms-files
	dkms add -m drvnucleus -v $(VERSION)
	dkms install -m drvnucleus -v $(VERSION) -k $(DKMS_KERNEL)

uninstall-dkms:
	-dkms remove -m drvnucleus -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# DKMS in a tree of its own (nothing of the host's is touched): add, build
# for the newest installed kernel's headers, and check the module's version.
check-dkms:
	@$(MAKE) --no-print-directory deps APT_PKGS="dkms"
	@t=$$(mktemp -d /tmp/drvnucleus-dkms.XXXXXX); k=$$(ls /lib/modules | sort -V | tail -1); mkdir -p $$t/tree; \
	$(MAKE) --no-print-directory install-dkms-files DESTDIR=$$t/src DKMS_SRC=/drvnucleus-$(VERSION) > /dev/null && \
	dkms add --dkmstree $$t/tree --sourcetree $$t/src -m drvnucleus -v $(VERSION) > $$t/log 2>&1 && \
	dkms build --dkmstree $$t/tree --sourcetree $$t/src -m drvnucleus -v $(VERSION) -k $$k >> $$t/log 2>&1 && \
	ko=$$(find $$t/tree/drvnucleus/$(VERSION)/$$k -name 'drvnucleus.ko*' | head -1) && [ -n "$$ko" ] && \
	v=$$(modinfo -F version $$ko) && [ "$$v" = "$(VERSION)" ] && \
	echo "check-dkms: drvnucleus $$v built by DKMS for $$k: $$ko" && rm -rf $$t || \
	{ echo "check-dkms: FAILED"; cat $$t/log; exit 1; }

# make bench: release binaries, every figure beside its baseline from the
# same run, written to BENCH_DIR as bench.json, the samples and PNG plots
# (docs/performance.md shows a run's).  About 10 minutes, 1,000 drivers
# included; BENCH_ARGS passes options to xpc-bench (e.g. --scale 1,10,100).
BENCH_DIR  ?= $(CURDIR)/bench
BENCH_ARGS ?=
bench: deps
	@$(MAKE) --no-print-directory deps APT_PKGS="gnuplot-nox valgrind"
	$(SWIFT) build $(SWIFT_FLAGS) -c release
	./scripts/bench.sh $$($(SWIFT) build $(SWIFT_FLAGS) -c release --show-bin-path) $(BENCH_DIR) $(BENCH_ARGS)

# Instructions per operation of the XPC codec and the net shadow's record
# step, under callgrind, against the committed baseline for make check's
# (debug) build: a path that got more than its tolerance more expensive
# fails. (drivermgrd's broker path is not counted: valgrind 3.19 lacks
# clone3 and pidfd_open; make bench reports its CPU time per upcall.)
check-instructions:
	@$(MAKE) --no-print-directory deps APT_PKGS="valgrind"
	./scripts/instruction-counts.sh $$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path) --check Tests/perf/instructions.debug

clean:
	rm -rf $(BUILD_DIR) $(RUN_DIR)
	-$(MAKE) -C /lib/modules/$$(ls /lib/modules | sort -V | tail -1)/build M=$(CURDIR)/module clean

# The fuzzing harnesses: fuzz, check-fuzz (Tests/fuzz/fuzz.mk).
include Tests/fuzz/fuzz.mk
