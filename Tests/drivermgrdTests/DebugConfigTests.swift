// SPDX-License-Identifier: GPL-2.0
import Foundation
import Supervisor
import Testing
@testable import drivermgrd

/// `drvctl debug`'s tools (the DebugTool table) and the configuration a
/// debugged u-driver is spawned from (`DriverConfig.debugging`).
struct DebugConfigTests {
    func shipped(_ name: String) throws -> DriverConfig {
        let r = ConfigLoader.load(directory: ConfigTests.root.appendingPathComponent("etc").path, driverDirectory: "/x")
        return try #require(r.drivers.first { $0.name == name })
    }

    /// Every tool has a unique name, its additions are system calls this
    /// kernel's libseccomp knows and the one-line widening names each.
    @Test func theToolTableIsConsistent() {
        #expect(Set(DebugTool.all.map(\.name)).count == DebugTool.all.count)
        for t in DebugTool.all {
            #expect(DebugTool.named(t.name) == t)
            for c in t.stage1Syscalls {
                #expect(SyscallSets.isKnown(c), "\(t.name): \(c)")
                #expect(t.widening.contains(" \(c)"), "\(t.name)'s widening names \(c)")
            }
            #expect(t.mode == .wrap || t.stage1Syscalls.isEmpty, "an attached tool runs outside the sandbox")
        }
        #expect(DebugTool.named("ltrace") == nil)
    }

    /// gdb: deadlines and heartbeats off, the sandbox unchanged.
    @Test func gdbTurnsTheDeadlinesOffAndLeavesTheSandbox() throws {
        let base = try shipped("rtl8139")
        let c = try base.debugging(DebugRun(tool: .gdb, program: "/usr/bin/gdbserver", endpoint: "/run/x.gdb"))
        #expect(c.heartbeat == .zero && c.xpcTimeout == DebugRun.noDeadline && c.probeTimeout == DebugRun.noDeadline)
        #expect(c.stage1 == base.stage1 && c.syscalls == base.syscalls && c.memoryMax == base.memoryMax)
        #expect(!c.standby && c.debug?.tool == .gdb)
        #expect(c.shutdownGrace == base.shutdownGrace)
        #expect(SavedDriver.processConfig(c) != SavedDriver.processConfig(base), "a restarted daemon replaces it")
    }

    /// valgrind and strace: stage 1 recompiled with their additions, the
    /// deadlines scaled, valgrind's limits lifted.
    @Test func wrappingToolsWidenStageOneAndScaleTheDeadlines() throws {
        let base = try shipped("ens1371")
        let v = try base.debugging(DebugRun(tool: .valgrind, program: "/usr/bin/valgrind.bin", endpoint: nil))
        #expect(v.stage1 != base.stage1 && v.syscalls == base.syscalls)
        #expect(v.memoryMax == 0 && v.xpcTimeout == base.xpcTimeout * 40 && v.heartbeat == base.heartbeat)
        #expect(v.shutdownGrace == .milliseconds(500) * 40)
        let s = try base.debugging(DebugRun(tool: .strace, program: "/usr/bin/strace", endpoint: nil))
        #expect(s.stage1 != base.stage1 && s.stage1 != v.stage1 && s.memoryMax == base.memoryMax)
        #expect(s.probeTimeout == base.probeTimeout * 10)
    }
}
