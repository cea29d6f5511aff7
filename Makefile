# SPDX-License-Identifier: GPL-2.0
# drivermgr — `make run` and `make check` are all a new machine needs.

SWIFT      ?= swift
BUILD_DIR  ?= .build
RUN_DIR    ?= $(CURDIR)/run-sim
APT_PKGS   := pkg-config libsystemd-dev libnl-3-dev libnl-genl-3-dev libseccomp-dev passwd
# The kernel path: Debian's kernel + headers, QEMU, a static busybox guest.
VM_PKGS    := qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio gcc libc6-dev alsa-utils
# The account u-drivers run as (drivers.d [Sandbox] User=).
UDRIVER_USER ?= drivermgr

.PHONY: all deps vm-deps build run check check-vm test bench clean

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
	id -u $(UDRIVER_USER) >/dev/null 2>&1 || { echo "Creating system user $(UDRIVER_USER) for the u-drivers"; \
	  $$SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $(UDRIVER_USER); }

# The QEMU guest's packages, for check.
vm-deps:
	@$(MAKE) --no-print-directory deps APT_PKGS="$(VM_PKGS)"

build: deps
	$(SWIFT) build

# The simulated nucleus plus drivermgrd in the foreground, sample config from etc/.
run: build
	RUN_DIR=$(RUN_DIR) BIN=$$($(SWIFT) build --show-bin-path) ./scripts/run-sim.sh

check: build vm-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
	$(MAKE) --no-print-directory check-vm

# drvnucleus.ko in a QEMU guest (Debian's kernel, TCG) with QEMU's rtl8139 and ES1370.
check-vm:
	./Tests/vm/kernel-nucleus.sh

test: check

# Benchmarks: XPC round trips beside a raw socketpair baseline, daemon RSS.
bench: deps
	$(SWIFT) build -c release
	./scripts/bench.sh $$($(SWIFT) build -c release --show-bin-path)

clean:
	rm -rf $(BUILD_DIR) $(RUN_DIR)
	-$(MAKE) -C /lib/modules/$$(ls /lib/modules | sort -V | tail -1)/build M=$(CURDIR)/module clean
