// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Many drivers at once, as a new user would try it: one nucleus-sim with
/// N RTL8139 models, one configuration file per NIC (Standby=yes, the
/// default), and a SIGKILL to a different driver's u-driver every ~0.15 s.
///
/// With every u-driver under one uid this failed from about 65 drivers on:
/// each standby's unread SANDBOX reply held its seccomp listener in flight,
/// the kernel counts those per user against RLIMIT_NOFILE (64), and the
/// next u-driver's sendmsg failed with ETOOMANYREFS ("u-driver closed its
/// channel before the sandbox was up"; drivers ended `failed`).
///
/// It takes both cores for half a minute, which would starve the other
/// suites' real-time workloads (the sim's DAC) if they ran beside it: it
/// runs only with DRIVERMGR_SCALE=1, which `make check-scale` (part of
/// `make check`) sets after the other tests. SCALE_N and SCALE_KILLS in the
/// environment change the size.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DRIVERMGR_SCALE"] == "1",
                             "needs the whole machine: make check-scale"))
struct ScaleTests {
    static func count(_ key: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[key].flatMap { Int($0) }.map { max(1, $0) } ?? fallback
    }

    @Test func twoHundredDriversWithStandbysSurviveAKillEveryFewTenthsOfASecond() throws {
        let n = Self.count("SCALE_N", 200), kills = Self.count("SCALE_KILLS", 40)
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for i in 1...n {
            // The sample rtl8139.conf's settings, one file per NIC. A start
            // limit that 2 loaded cores cannot trip: the kills are the test.
            try """
                [Driver]
                Name=nic\(i)
                Class=net
                Match=pci:10ec:8139
                Executable=rtl8139
                [Recovery]
                Standby=yes
                StartLimitBurst=1000
                """.write(toFile: cfg + "/drivers.d/nic\(i).conf", atomically: true, encoding: .utf8)
        }
        let t0 = Date()
        try h.startSim(["--devices"] + Array(repeating: "rtl8139", count: n) + ["--no-workload"])
        try h.startDaemon(config: cfg)
        let names = (1...n).map { "nic\($0)" }
        try h.wait("\(n) drivers active", seconds: 90) {
            try h.list().filter { $0.state == .active }.count == n
        }
        // Every driver's standby is up (its SANDBOX reply in, its listener taken).
        let udrivers = { () -> Int in
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return pids.filter { p in
                guard Int32(p) != nil, let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p)/exe") else { return false }
                return exe == h.bin + "/rtl8139"
            }.count
        }
        try h.wait("\(n) standbys", seconds: 60) { udrivers() >= 2 * n }
        let started = Date()

        var killed: [String: Int] = [:]
        let before = Dictionary(uniqueKeysWithValues: try h.list().map { ($0.name, $0.restarts) })
        for k in 0..<kills {
            let name = names[(k * 37) % n]
            guard let pid = try h.list().first(where: { $0.name == name && $0.state == .active })?.pid else { continue }
            kill(pid, SIGKILL)
            killed[name, default: 0] += 1
            Thread.sleep(forTimeInterval: 0.15)
        }
        try h.wait("every driver active again", seconds: 60) {
            let l = try h.list()
            return l.count == n && l.allSatisfy { $0.state == .active }
                && killed.allSatisfy { name, times in (l.first { $0.name == name }?.restarts ?? 0) >= (before[name] ?? 0) + times }
        }
        let took = Date().timeIntervalSince(started), total = Date().timeIntervalSince(t0)
        let list = try h.list()
        #expect(list.count == n && list.allSatisfy { $0.state == .active })
        #expect(killed.values.reduce(0, +) == kills, "every kill hit a running u-driver")
        let log = try String(contentsOfFile: h.logPath, encoding: .utf8)
        let recovered = log.split(separator: "\n").filter { $0.contains("FAILURE_KIND=crash") && $0.contains("recovered in") }.count
        #expect(recovered >= kills, "\(recovered) recoveries from a crash for \(kills) kills")
        #expect(!log.contains("before the sandbox was up"))
        #expect(!log.contains("standby u-driver did not start"))
        #expect(!log.contains("ETOOMANYREFS") && !log.contains("Too many references"))
        #expect(!log.contains("giving up"))
        print("scale: \(n) drivers, \(kills) kills over \(killed.count) drivers, \(recovered) recovered; "
              + "kills+recovery \(String(format: "%.1f", took)) s, whole test \(String(format: "%.1f", total)) s")
    }
}
