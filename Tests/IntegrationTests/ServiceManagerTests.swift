// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// drivermgrd's sd_notify side, against a NOTIFY_SOCKET the test binds (what
/// systemd does for a Type=notify service): READY=1 with the STATUS line
/// once both drivers run, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1
/// on SIGTERM. Under real systemd in the
/// QEMU guest: Tests/vm/systemd-guest.sh.
@Suite(.serialized) struct ServiceManagerTests {
    /// A bound unix datagram socket collecting notifications.
    final class NotifySocket: @unchecked Sendable {
        let path: String
        let fd: Int32
        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { b in
                for (i, c) in path.utf8.enumerated() where i < b.count - 1 { b[i] = c }
            }
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard fd >= 0, r == 0 else { throw HarnessError("bind \(path): errno \(errno)") }
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd); unlink(path) }

        /// Datagrams received within `seconds` until `until` holds for one.
        func collect(seconds: Double, until: (String) -> Bool) -> [String] {
            var got: [String] = []
            let end = Date().addingTimeInterval(seconds)
            var buf = [UInt8](repeating: 0, count: 4096)
            while Date() < end {
                let n = recv(fd, &buf, buf.count, 0)
                guard n > 0 else { continue }
                let m = String(decoding: buf[0..<n], as: UTF8.self)
                got.append(m)
                if until(m) { break }
            }
            return got
        }
    }

    @Test func readyStatusWatchdogAndStopping() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let sock = try NotifySocket(path: h.dir + "/notify")
        try h.startSim()
        let d = try h.startDaemon(environment: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "400000"])

        let boot = sock.collect(seconds: 20) { $0.contains("READY=1") }
        let ready = try #require(boot.first { $0.contains("READY=1") }, "no READY=1 in \(boot)")
        #expect(ready.contains("STATUS=2 drivers: 2 running, 0 recovering, 0 failed"))
        // READY only once both drivers are up: drvctl agrees at that moment.
        #expect(try h.list().allSatisfy { $0.state == .active })

        let pings = sock.collect(seconds: 1.5) { _ in false }.filter { $0 == "WATCHDOG=1" }
        #expect(pings.count >= 3, "WATCHDOG=1 every 200 ms (half of WATCHDOG_USEC): got \(pings.count) in 1.5 s")

        kill(d.processIdentifier, SIGTERM)
        let end = sock.collect(seconds: 10) { $0.contains("STOPPING=1") }
        #expect(end.contains { $0.contains("STOPPING=1") })
        d.waitUntilExit()
    }

    /// SIGHUP re-reads the configuration: a new driver starts on the device
    /// the nucleus announced earlier, a changed one restarts transparently
    /// (the stream plays on, no underrun), a removed one stops and goes.
    @Test func reloadAddsChangesAndRemoves() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        let dir = cfg + "/drivers.d"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SimHarness.etcDir + "/drivers.d/ens1371.conf", toPath: dir + "/ens1371.conf")
        let sock = try NotifySocket(path: h.dir + "/notify")
        try h.startSim()
        let d = try h.startDaemon(config: cfg, environment: ["NOTIFY_SOCKET": sock.path])
        try h.waitActive(["ens1371"])
        #expect(try h.list().map(\.name) == ["ens1371"], "the RTL8139 waits for a driver")
        let before = try h.status("ens1371")
        _ = sock.collect(seconds: 3) { $0.contains("READY=1") }

        // Add rtl8139, change ens1371 (a drop-in), SIGHUP.
        try FileManager.default.copyItem(atPath: SimHarness.etcDir + "/drivers.d/rtl8139.conf", toPath: dir + "/rtl8139.conf")
        try FileManager.default.createDirectory(atPath: dir + "/ens1371.conf.d", withIntermediateDirectories: true)
        try "[Recovery]\nXPCTimeoutSec=400ms\n".write(toFile: dir + "/ens1371.conf.d/50-reload.conf", atomically: true, encoding: .utf8)
        kill(d.processIdentifier, SIGHUP)
        let notes = sock.collect(seconds: 20) { $0.contains("READY=1") }
        #expect(notes.contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") }, "\(notes)")
        #expect(notes.last?.contains("STATUS=2 drivers: 2 running") == true, "\(notes)")
        try h.waitActive(["ens1371", "rtl8139"])
        let after = try h.status("ens1371")
        #expect(after.summary.pid != before.summary.pid && after.summary.restarts == before.summary.restarts + 1,
                "ens1371 restarted")
        #expect(after.xpcTimeoutUSec == 400_000, "with the new XPCTimeoutSec")
        #expect(after.device?.number("underruns") == 0 && after.device?.number("glitches") == 0, "transparently: the stream played on")
        #expect((after.device?.number("framesPlayed") ?? 0) > (before.device?.number("framesPlayed") ?? 0))
        #expect(d.isRunning)

        // Remove rtl8139, SIGHUP: it stops and leaves the list.
        try FileManager.default.removeItem(atPath: dir + "/rtl8139.conf")
        kill(d.processIdentifier, SIGHUP)
        try h.wait("rtl8139 gone") { try h.list().map(\.name) == ["ens1371"] }
        let log = try String(contentsOfFile: h.logPath, encoding: .utf8)
        #expect(log.contains("added rtl8139; removed none; restarted ens1371"))
        #expect(log.contains("added none; removed rtl8139; restarted none"))
    }

    @Test func notStartedBySystemdNothingIsSent() throws {
        // Without NOTIFY_SOCKET sd_notify does nothing: the daemon runs as before.
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        try h.wait("the ready line") {
            try String(contentsOfFile: h.logPath, encoding: .utf8).contains("ready: 2 drivers: 2 running, 0 recovering, 0 failed")
        }
    }
}
