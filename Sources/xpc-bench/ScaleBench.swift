// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import XPC
#if canImport(Glibc)
import Glibc
#endif

extension XPCBench {
    /// One drivermgrd supervising N RTL8139s of one nucleus-sim, all from
    /// one template configuration (`rtl8139@.conf`, the sample's settings,
    /// standbys on): time to ready, memory, idle CPU, `list` latency, and
    /// recovery under a background SIGKILL every 0.1 s, at each N.
    static func scale(bin: String, sizes: [Int], kills: Int, report: BenchReport) async throws {
        print("\nscale: one template, N RTL8139s on one drivermgrd (standbys on), \(kills) SIGKILLs at 10/s for recovery")
        fflush(nil)
        var rows: [[String]] = []
        var byN: [Int: [String: Any]] = [:]
        for n in sizes {
            let r = try scaleRun(bin: bin, n: n, kills: kills)
            byN[n] = r.json
            rows.append(r.row(n))
            print(String(format: "  N=%-5d ready %6.2f s   daemon RSS %6.1f MB (%d threads)   u-driver PSS %5.2f MB (RSS %5.1f MB)   idle CPU %5.2f %% of a core (daemon %5.2f %%)   list %6.2f ms   recovery p50 %6.2f ms p99 %6.2f ms over %d",
                         n, r.ready, r.daemonRSS, r.daemonThreads, r.pss, r.rss, r.idleCPU, r.daemonCPU, r.list, r.recovery.p50 / 1000, r.recovery.p99 / 1000, r.recovery.count))
            fflush(nil)
        }
        report.set(["scale", "by_n"], Dictionary(uniqueKeysWithValues: byN.map { (String($0.key), $0.value) }))
        report.table("scale", header: ["n", "ready_s", "daemon_rss_mb", "udriver_pss_mb", "udriver_rss_mb", "idle_cpu_pct",
                                       "daemon_cpu_pct", "list_ms", "recovery_p50_ms", "recovery_p99_ms"], rows)
        guard let small = sizes.min(), let big = sizes.max(), let s = byN[small], let b = byN[big] else { return }
        let p50 = { (d: [String: Any]) in ((d["recovery"] as? [String: Any])?["p50_us"] as? Double) ?? 0 }
        report.target("recovery p50 at N=\(big) / at N=\(small)", measured: p50(b) / max(p50(s), 1), limit: 1.5, unit: "x")
        report.target("daemon RSS at N=\(big)", measured: b["daemon_rss_mb"] as? Double ?? 0, limit: 150, unit: "MB")
        report.target("idle CPU of \(big) supervised drivers", measured: b["idle_cpu_pct"] as? Double ?? 0, limit: 5, unit: "% of a core")
        report.target("idle u-driver PSS", measured: b["udriver_pss_mb"] as? Double ?? 0, limit: 4, unit: "MB")
    }

    struct ScaleFigures {
        var ready = 0.0, daemonRSS = 0.0, daemonThreads = 0, pss = 0.0, rss = 0.0, idleCPU = 0.0, daemonCPU = 0.0, simCPU = 0.0
        var list = 0.0, standbys = 0
        var recovery = Stats([])
        var json: [String: Any] {
            ["ready_s": ready, "daemon_rss_mb": daemonRSS, "daemon_threads": daemonThreads, "udriver_pss_mb": pss,
             "udriver_rss_mb": rss, "idle_cpu_pct": idleCPU, "daemon_cpu_pct": daemonCPU, "sim_cpu_pct": simCPU,
             "list_ms": list, "udriver_processes": standbys, "recovery": recovery.json]
        }
        func row(_ n: Int) -> [String] {
            [String(n)] + [ready, daemonRSS, pss, rss, idleCPU, daemonCPU, list, recovery.p50 / 1000, recovery.p99 / 1000]
                .map { String(format: "%.3f", $0) }
        }
    }

    static func scaleRun(bin: String, n: Int, kills: Int) throws -> ScaleFigures {
        let dir = NSTemporaryDirectory() + "xpc-bench-scale-\(getpid())-\(n)"
        try? FileManager.default.removeItem(atPath: dir)
        let conf = dir + "/etc/drivers.d"
        try FileManager.default.createDirectory(atPath: conf + "/rtl8139@.conf.d", withIntermediateDirectories: true)
        // The sample's settings as a template (its name comes from the file).
        let sample = try String(contentsOfFile: sampleConfigs(bin) + "/rtl8139.conf", encoding: .utf8)
        try sample.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("Name=") }
            .joined(separator: "\n").write(toFile: conf + "/rtl8139@.conf", atomically: true, encoding: .utf8)
        // The kills are the measurement: no start limit or back-off in the way.
        try "[Recovery]\nStartLimitBurst=100000\nRestartMaxDelaySec=0\n"
            .write(toFile: conf + "/rtl8139@.conf.d/bench.conf", atomically: true, encoding: .utf8)

        let sim = Process(), daemon = Process()
        sim.executableURL = URL(fileURLWithPath: bin + "/nucleus-sim")
        sim.arguments = ["--socket", dir + "/nucleus-sim.sock", "--devices"] + Array(repeating: "rtl8139", count: n) + ["--no-workload"]
        sim.standardOutput = FileHandle.nullDevice
        daemon.executableURL = URL(fileURLWithPath: bin + "/drivermgrd")
        daemon.arguments = ["--config", dir + "/etc", "--runtime-dir", dir, "--driver-dir", bin, "--log-level", "critical"]
        try sim.run()
        defer {
            daemon.terminate(); daemon.waitUntilExit()
            sim.terminate(); sim.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        while !FileManager.default.fileExists(atPath: dir + "/nucleus-sim.sock") { usleep(10_000) }
        let client = { try ManagerClient(path: dir + "/" + ManagerInterface.socketName) }
        func list() throws -> [DriverSummary] {
            var c = try client(); defer { c.close() }
            return try c.call(.list, as: ListReply.self, what: "list").drivers
        }
        func wait(_ what: String, seconds: Double, _ cond: () throws -> Bool) throws {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if (try? cond()) == true { return }
                usleep(20_000)
            }
            throw XPCError(.timeout, "N=\(n): \(what) not within \(Int(seconds)) s")
        }

        var f = ScaleFigures()
        let t0 = monotonicNanos()
        try daemon.run()
        try wait("\(n) drivers active", seconds: 60 + Double(n) * 0.3) { try list().filter { $0.state == .active }.count == n }
        f.ready = Double(monotonicNanos() - t0) / 1e9
        let exe = bin + "/rtl8139"
        try wait("\(n) standbys", seconds: 60 + Double(n) * 0.3) { ProcessTree.running(exe, childrenOf: daemon.processIdentifier).count >= 2 * n }

        // Idle: nothing asked of any driver for 10 s but the daemon's own
        // heartbeats and timers, once the heartbeats have backed off to
        // HeartbeatMaxSec (the sample's 5 s; 200 ms doubled 5 times).
        sleep(8)
        let pids = ProcessTree.running(exe, childrenOf: daemon.processIdentifier)
        f.standbys = pids.count
        let window = 10.0
        // Per process, so that one that ended meanwhile (it reads 0) does
        // not take the others' time with it.
        let tree = pids + [daemon.processIdentifier]
        let before = tree.map(ProcessTree.cpuNanos), s0 = ProcessTree.cpuNanos(sim.processIdentifier)
        usleep(UInt32(window * 1e6))
        let after = tree.map(ProcessTree.cpuNanos), s1 = ProcessTree.cpuNanos(sim.processIdentifier)
        let used = zip(before, after).map { $1 >= $0 ? $1 - $0 : 0 }
        f.daemonCPU = Double(used.last ?? 0) / (window * 1e9) * 100
        f.idleCPU = Double(used.reduce(0, +)) / (window * 1e9) * 100
        f.simCPU = Double(s1 >= s0 ? s1 - s0 : 0) / (window * 1e9) * 100
        f.daemonRSS = Double(ProcessTree.rssKiB(daemon.processIdentifier)) / 1024
        f.daemonThreads = ProcessTree.threads(daemon.processIdentifier)
        let pss = pids.map(ProcessTree.pssKiB).sorted(), rss = pids.map(ProcessTree.rssKiB).sorted()
        f.pss = pss.isEmpty ? 0 : Double(pss[pss.count / 2]) / 1024
        f.rss = rss.isEmpty ? 0 : Double(rss[rss.count / 2]) / 1024

        var lat: [UInt64] = []
        for _ in 0..<20 {
            let t = monotonicNanos()
            _ = try list()
            lat.append(monotonicNanos() - t)
        }
        f.list = Stats(lat).p50 / 1000

        // Recovery with a background kill rate: a SIGKILL every 0.1 s to an
        // active u-driver, spread over the drivers.
        let start = UInt64(Date().timeIntervalSince1970 * 1e6)
        var victims = Set<String>(), recent = Set<String>(), total = 0
        // The recoveries' events, read every few kills: the history keeps
        // only a driver's latest 64 events (about 20 recoveries).
        var rec: [UInt64] = [], seen: [String: UInt64] = [:]
        func collect(_ names: Set<String>) throws {
            for name in names {
                var c = try client(); defer { c.close() }
                let events = try c.call(.history, ["name": .string(name)], as: HistoryReply.self, what: "history").events
                let new = events.filter { $0.event == "recovered" && $0.timeUSec >= start && $0.timeUSec > seen[name, default: 0] }
                rec += new.compactMap(\.recoveryUSec).map { $0 * 1000 }
                if let last = new.last { seen[name] = last.timeUSec }
            }
        }
        for k in 0..<kills {
            let active = try list().filter { $0.state == .active && $0.pid != nil }.sorted { $0.name < $1.name }
            if let v = active.isEmpty ? nil : active[(k * 37) % active.count], let pid = v.pid {
                kill(pid, SIGKILL)
                victims.insert(v.name)
                recent.insert(v.name)
                total += 1
            }
            usleep(100_000)
            if k % 5 == 4 {
                try collect(recent)
                recent = []
            }
        }
        try wait("every driver active again", seconds: 60) {
            let l = try list()
            return l.count == n && l.allSatisfy { $0.state == .active } && l.map(\.restarts).reduce(0, +) >= total
        }
        try collect(victims)
        f.recovery = Stats(rec)
        return f
    }
}
