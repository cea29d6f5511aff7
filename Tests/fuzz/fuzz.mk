# SPDX-License-Identifier: GPL-2.0
# Coverage-guided fuzzing (libFuzzer): one harness per parser that takes
# input from outside a process.  Included by the top Makefile; see
# docs/fuzzing.md.
#
#   make fuzz                 every harness, FUZZ_SECONDS (600) each, one at a time
#   make fuzz FUZZ_HARNESSES=xpc_decode FUZZ_SECONDS=60
#   make check-fuzz           every harness FUZZ_CHECK_SECONDS (12) each
#
# C harnesses build with the Swift toolchain's clang (it ships
# libclang_rt.fuzzer); Swift ones with swiftc -sanitize=fuzzer,address,
# compiling the project's sources directly, one static library per module.

FUZZ_DIR           ?= $(BUILD_DIR)/fuzz
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 12
FUZZ_HARNESSES     ?= nucleus_checks xpc_decode config_parse varlink_request slicer_parse slice_serve
SWIFTC             ?= $(dir $(shell readlink -f "$$(command -v $(SWIFT))" 2>/dev/null))swiftc
FUZZ_CC            ?= $(dir $(SWIFTC))clang

FUZZ_CFLAGS  := -g -O1 -Wall -Wextra -Wno-sign-compare -Werror -fuse-ld=lld \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SWIFTFLAGS := -g -O -parse-as-library -swift-version 6 -sanitize=fuzzer,address \
                -I $(FUZZ_DIR)/modules -I Tests/fuzz/modules -Xcc -I/usr/lib/llvm-14/include
FUZZ_SWIFT_LINK := -use-ld=lld -L $(FUZZ_DIR)/modules -L/usr/lib/llvm-14/lib

# A module's sources, in SwiftPM's order of dependencies.
FUZZ_MOD_XPC              := $(wildcard Sources/XPC/*.swift)
FUZZ_MOD_ControlInterface := Sources/ControlInterface/VarlinkFraming.swift Sources/ControlInterface/ManagerInterface.swift \
                             Sources/ControlInterface/VarlinkInterface.swift Sources/ControlInterface/VarlinkDefinitions.swift \
                             $(FUZZ_DIR)/gen/PackageResources.swift
FUZZ_MOD_ShadowDriver     := $(wildcard Sources/ShadowDriver/*.swift)
FUZZ_MOD_DeviceClasses    := $(wildcard Sources/DeviceClasses/*.swift Sources/DeviceClasses/*/*.swift)
FUZZ_MOD_Supervisor       := $(wildcard Sources/Supervisor/*.swift)
FUZZ_MOD_SliceAnalysis    := $(wildcard Sources/SliceAnalysis/*.swift)

FUZZ_DEPS_XPC              :=
FUZZ_DEPS_ControlInterface :=
FUZZ_DEPS_ShadowDriver     := XPC
FUZZ_DEPS_DeviceClasses    := XPC ShadowDriver ControlInterface
FUZZ_DEPS_Supervisor       := XPC
FUZZ_DEPS_SliceAnalysis    :=
# The slicer harness reaches internal parsers (@testable).
FUZZ_MODFLAGS_SliceAnalysis := -enable-testing -I Sources/CClang

# What SwiftPM's .embedInCode generates for ControlInterface's .varlink
# files (Package.swift), generated the same way for the harness builds.
$(FUZZ_DIR)/gen/PackageResources.swift: Sources/ControlInterface/io.drivermgr.Manager.varlink Sources/ControlInterface/org.varlink.service.varlink
	@mkdir -p $(dir $@)
	{ echo 'struct PackageResources {'; for f in $^; do \
	  n=$$(basename $$f | tr '.' '_'); \
	  printf 'static let %s: [UInt8] = [%s]\n' $$n "$$(od -An -v -tu1 $$f | tr -s ' \n' ',' | sed 's/^,//; s/,$$//')"; \
	done; echo '}'; } > $@

# C code the Swift modules call, built once, without coverage.
FUZZ_CSHIMS := $(FUZZ_DIR)/modules/libcshims.a
$(FUZZ_CSHIMS): Sources/CSpawn/spawn.c Sources/CSpawn/proc_exits.c Sources/CSandbox/sandbox.c Sources/CDrvXPC/peercred.c
	@mkdir -p $(FUZZ_DIR)/modules/cshims
	cd $(FUZZ_DIR)/modules/cshims && for f in $^; do \
	  $(FUZZ_CC) -g -O1 -fsanitize=address -c $(CURDIR)/$$f -I$(CURDIR)/$$(dirname $$f)/include || exit 1; done
	ar rcs $@ $(FUZZ_DIR)/modules/cshims/*.o

# lib<Module>.a and <Module>.swiftmodule, instrumented like the harnesses.
define fuzz_module
$(FUZZ_DIR)/modules/lib$(1).a: $$(FUZZ_MOD_$(1)) $$(foreach d,$$(FUZZ_DEPS_$(1)),$(FUZZ_DIR)/modules/lib$$(d).a)
	@mkdir -p $(FUZZ_DIR)/modules
	$(SWIFTC) $(FUZZ_SWIFTFLAGS) -module-name $(1) -emit-module \
	  -emit-module-path $(FUZZ_DIR)/modules/$(1).swiftmodule \
	  -emit-library -static -o $$@ $$(FUZZ_MODFLAGS_$(1)) $$(FUZZ_MOD_$(1))
endef
$(foreach m,XPC ControlInterface ShadowDriver DeviceClasses Supervisor SliceAnalysis,$(eval $(call fuzz_module,$(m))))

FUZZ_MODLIB = $(FUZZ_DIR)/modules/lib$(1).a

# 1. The nucleus's checks (module/xpccheck.c as it is) and drvxpc.h's table.
$(FUZZ_DIR)/nucleus_checks: Tests/fuzz/nucleus_checks.c module/xpccheck.c module/xpccheck.h \
                            module/include/uapi/drvxpc.h $(wildcard Tests/fuzz/kshim/*/*.h)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -ITests/fuzz/kshim -Imodule/include -Imodule \
	  Tests/fuzz/nucleus_checks.c module/xpccheck.c -o $@

# 2. The XPC decoder and RegisterSequence, against the nucleus's validator.
$(FUZZ_DIR)/xpc_decode: Tests/fuzz/xpc_decode.swift $(call FUZZ_MODLIB,XPC) $(FUZZ_DIR)/nucleus_checks \
                        Tests/fuzz/xpccheck_bridge.c
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer-no-link,address -ITests/fuzz/kshim -Imodule/include -Imodule \
	  -c Tests/fuzz/xpccheck_bridge.c -o $(FUZZ_DIR)/xpccheck_bridge.o
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer-no-link,address -ITests/fuzz/kshim -Imodule/include -Imodule \
	  -c module/xpccheck.c -o $(FUZZ_DIR)/xpccheck.o
	$(SWIFTC) $(FUZZ_SWIFTFLAGS) $(FUZZ_SWIFT_LINK) -module-name FuzzXPCDecode \
	  Tests/fuzz/xpc_decode.swift $(FUZZ_DIR)/xpccheck_bridge.o $(FUZZ_DIR)/xpccheck.o -lXPC -lcshims -o $@

$(FUZZ_DIR)/xpc_decode: $(FUZZ_CSHIMS)

# 3. drivermgrd's configuration parser: Config.swift compiled in as it is
# (with PCIBinding.swift, where Bind='s values are parsed).
FUZZ_CONFIG_MODS := XPC ShadowDriver ControlInterface DeviceClasses Supervisor
$(FUZZ_DIR)/config_parse: Tests/fuzz/config_parse.swift Sources/drivermgrd/Config.swift Sources/drivermgrd/PCIBinding.swift \
                          $(FUZZ_CSHIMS) $(foreach m,$(FUZZ_CONFIG_MODS),$(call FUZZ_MODLIB,$(m)))
	$(SWIFTC) $(FUZZ_SWIFTFLAGS) $(FUZZ_SWIFT_LINK) -module-name FuzzConfig \
	  Sources/drivermgrd/Config.swift Sources/drivermgrd/PCIBinding.swift Tests/fuzz/config_parse.swift \
	  $(addprefix -l,$(FUZZ_CONFIG_MODS)) -lcshims -lseccomp -o $@

# 4. The control server's request parsing (framing, calls, parameters).
$(FUZZ_DIR)/varlink_request: Tests/fuzz/varlink_request.swift $(call FUZZ_MODLIB,ControlInterface)
	$(SWIFTC) $(FUZZ_SWIFTFLAGS) $(FUZZ_SWIFT_LINK) -module-name FuzzVarlink \
	  Tests/fuzz/varlink_request.swift -lControlInterface -o $@

# 5. DriverSlicer's .iface and .slice parsers (SliceAnalysis, libclang linked).
$(FUZZ_DIR)/slicer_parse: Tests/fuzz/slicer_parse.swift $(call FUZZ_MODLIB,SliceAnalysis)
	$(SWIFTC) $(FUZZ_SWIFTFLAGS) $(FUZZ_SWIFT_LINK) -I Sources/CClang -module-name FuzzSlicer \
	  Tests/fuzz/slicer_parse.swift -lSliceAnalysis -lclang-14 -o $@

# 6. The sliced drivers' runtime core (module/slice_core.c as it is): a
# message served by either side, or taken as a reply.
$(FUZZ_DIR)/slice_serve: Tests/fuzz/slice_serve.c module/slice_core.c module/include/drvslice.h \
                         module/include/uapi/drvxpc.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Imodule/include Tests/fuzz/slice_serve.c module/slice_core.c -o $@

.PHONY: fuzz fuzz-build check-fuzz fuzz-seeds
fuzz-build: $(addprefix $(FUZZ_DIR)/,$(FUZZ_HARNESSES))

fuzz: deps fuzz-build
	@fail=0; for h in $(FUZZ_HARNESSES); do \
	  ./Tests/fuzz/run-harness.sh $(FUZZ_DIR) $$h $(FUZZ_SECONDS) || fail=1; \
	done; exit $$fail

# The harnesses build two at a time (their modules are independent but for
# XPC): most of check-fuzz's time is swiftc -O on one core otherwise.
check-fuzz: deps
	@$(MAKE) --no-print-directory -j2 fuzz-build
	@fail=0; for h in $(FUZZ_HARNESSES); do \
	  ./Tests/fuzz/run-harness.sh $(FUZZ_DIR) $$h $(FUZZ_CHECK_SECONDS) || fail=1; \
	done; exit $$fail

# The XPC seed corpus, from the encoder (committed; rerun after a wire change).
fuzz-seeds:
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -c Sources/CDrvXPC/peercred.c -ISources/CDrvXPC/include -o $(FUZZ_DIR)/peercred.o
	$(SWIFTC) -parse-as-library -I Tests/fuzz/modules -module-name XPCSeeds \
	  Sources/XPC/*.swift Tests/fuzz/seeds/XPCSeeds.swift $(FUZZ_DIR)/peercred.o -o $(FUZZ_DIR)/xpc-seeds
	$(FUZZ_DIR)/xpc-seeds Tests/fuzz/corpus/nucleus_checks Tests/fuzz/corpus/xpc_decode
	$(FUZZ_CC) -g -DSLICE_SEEDS -Imodule/include Tests/fuzz/slice_serve.c module/slice_core.c -o $(FUZZ_DIR)/slice-seeds
	@mkdir -p Tests/fuzz/corpus/slice_serve
	$(FUZZ_DIR)/slice-seeds Tests/fuzz/corpus/slice_serve
