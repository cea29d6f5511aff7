// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One configuration for many identical devices: `drivers.d/NAME@.conf`
/// runs an instance per matching device, `NAME@SLOT`, as systemd's template
/// units do.
@Suite(.serialized) struct TemplateInstanceTests {
    static let template = """
        [Driver]
        Class=net
        Match=pci:10ec:8139
        Executable=rtl8139
        [Recovery]
        Standby=no
        """

    func instances(_ h: SimHarness) throws -> [DriverSummary] {
        try h.list().filter { $0.name.hasPrefix("rtl8139@") }.sorted { $0.name < $1.name }
    }

    @Test func aTemplateRunsAnInstancePerDeviceThroughFailuresAndReloads() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc", file = cfg + "/drivers.d/rtl8139@.conf"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try Self.template.write(toFile: file, atomically: true, encoding: .utf8)
        try h.startSim(["--devices", "rtl8139", "rtl8139", "rtl8139", "--no-workload"])
        let daemon = try h.startDaemon(config: cfg)
        try h.wait("three instances active") { try instances(h).filter { $0.state == .active }.count == 3 }
        let first = try instances(h)
        #expect(try h.list().count == 3, "the template itself is no driver")
        for d in first {
            let slot = try #require(d.device)
            #expect(d.name == "rtl8139@\(slot)", "named after its device: \(d.name)")
        }
        #expect(Set(first.compactMap(\.device)).count == 3 && Set(first.compactMap(\.pid)).count == 3)
        // Each u-driver under a dynamic uid of its own.
        let uids = first.compactMap(\.pid).map { pid -> UInt32 in
            var st = stat()
            return stat("/proc/\(pid)", &st) == 0 ? st.st_uid : 0
        }
        #expect(Set(uids).count == 3 && !uids.contains(0), "\(uids)")

        // One instance fails: it alone recovers.
        let victim = first[1]
        kill(try #require(victim.pid), SIGKILL)
        try h.wait("the victim recovered") {
            let now = try instances(h)
            return now.count == 3 && now.allSatisfy { $0.state == .active } && now[1].pid != victim.pid
        }
        let after = try instances(h)
        #expect(after[0].pid == first[0].pid && after[2].pid == first[2].pid, "the others untouched")
        #expect(after[1].restarts == victim.restarts + 1)
        #expect(try h.drvctl("status", victim.name).0 == 0)

        // A reload that changes the template reconfigures every instance.
        try (Self.template + "\nXPCTimeoutSec=300ms\n").write(toFile: file, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        try h.wait("the instances reconfigured") {
            try first.allSatisfy { try h.status($0.name).xpcTimeoutUSec == 300_000 }
        }
        try h.wait("active again") { try instances(h).filter { $0.state == .active }.count == 3 }

        // Without the template, no instance; with it back, one per device again.
        try FileManager.default.removeItem(atPath: file)
        kill(daemon.processIdentifier, SIGHUP)
        try h.wait("the instances gone") { try h.list().isEmpty }
        try Self.template.write(toFile: file, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        try h.wait("three instances again") { try instances(h).filter { $0.state == .active }.count == 3 }
        #expect(try instances(h).map(\.name) == first.map(\.name))
    }

    /// The next drivermgrd (after the first one's SIGKILL) makes the
    /// instances again and adopts their running u-drivers from the fd
    /// store, where their names are escaped (systemd refuses ':').
    @Test func templateInstancesAreAdoptedByTheNextDaemon() throws {
        let h = try SimHarness()
        let store = try DaemonRestartTests.FakeFDStore(path: h.dir + "/notify")
        var second: pid_t = 0
        defer {
            SimHarness.terminate(second)
            store.stop()
            h.stopAll()
        }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try Self.template.write(toFile: cfg + "/drivers.d/rtl8139@.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--devices", "rtl8139", "rtl8139", "--no-workload"])
        let first = try h.launch("drivermgrd", ["--config", cfg, "--runtime-dir", h.dir, "--driver-dir", h.bin, "--fd-store"],
                                 log: h.logPath, environment: ["NOTIFY_SOCKET": store.path])
        try h.wait("two instances active") { try instances(h).filter { $0.state == .active }.count == 2 }
        let before = try instances(h)
        try h.wait("their descriptors stored") {
            before.allSatisfy { d in store.names.contains(d.name.replacingOccurrences(of: ":", with: "%3a")
                .replacingOccurrences(of: ".", with: "%2e") + ".xpc") }
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        second = try DaemonRestartTests().startWithStore(h, store, config: cfg, log: h.dir + "/drivermgrd-2.log")
        try h.wait("the next daemon serves them") { try instances(h).filter { $0.state == .active }.count == 2 }
        let after = try instances(h)
        #expect(after.map(\.name) == before.map(\.name) && after.map(\.pid) == before.map(\.pid), "the same processes")
        #expect(after.allSatisfy { $0.restarts == 0 })
        let log = (try? String(contentsOfFile: h.dir + "/drivermgrd-2.log", encoding: .utf8)) ?? ""
        #expect(log.contains("took over 2 of 2 u-driver(s)"), "\(log.suffix(2000))")
    }
}
