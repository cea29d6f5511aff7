// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import CSandbox
import ControlInterface
import Foundation
import Supervisor
import XPC
#if canImport(Glibc)
import Glibc
#endif

extension XPCBench {
    /// Spawn to HELLO answered for rtl8139: no sandbox, stage 1 filter only,
    /// and the whole sandbox (user, namespaces, rlimits, both stages with the
    /// SANDBOX handshake and the /proc check), interleaved in one run.
    static func sandboxCost(bin: String, count: Int, report: BenchReport) async throws {
        let stage2 = SyscallSets.steadyState
        let stage1 = try compileStage1(Array(Set(stage2 + SyscallSets.startup)).sorted())
        print("sandbox allowlist: stage 1 \(Set(stage2 + SyscallSets.startup).count) calls (\(stage1.count / 8) BPF instructions), "
              + "stage 2 \(stage2.count) calls + clone(CLONE_THREAD), kill/tgkill(self)")
        fflush(nil)
        let user = lookupUser("drivermgr")
        var plain: [UInt64] = [], filtered: [UInt64] = [], full: [UInt64] = []
        for _ in 0..<count {
            for mode in 0..<3 {
                let t0 = monotonicNanos()
                let (d, u) = try XPCSocket.pair()
                var policy: SandboxPolicy?
                if mode == 1 { policy = SandboxPolicy(stage1: stage1, user: nil, privateNamespaces: false, memoryMax: 0) }
                if mode == 2 { policy = SandboxPolicy(stage1: stage1, user: user, privateNamespaces: true, memoryMax: 4 << 30) }
                let p = try await UDriverProcess.spawn(executable: bin + "/rtl8139", arguments: ["rtl8139"], socket: u, sandbox: policy)
                p.watch { _ in }
                if mode == 2 {
                    try d.send(XPCMessage(op: .sandbox, flags: .request, attributes: stage2.map { .string(.syscallName, $0) }).bytes)
                    var buf = [UInt8](repeating: 0, count: 4096)
                    var fd: Int32 = -1
                    let n = buf.withUnsafeMutableBytes { drv_recv_with_fd(d.fd, $0.baseAddress, $0.count, &fd) }
                    guard n > 0, fd >= 0 else { throw XPCError(.closed, "no SANDBOX reply") }
                    close(fd)
                    let st = (try? String(contentsOfFile: "/proc/\(p.pid)/status", encoding: .utf8)) ?? ""
                    guard st.contains("Seccomp_filters:\t2") else { throw XPCError(.remote, "stage 2 missing") }
                }
                let c = XPCConnection(name: "bare", socket: d, onEvent: { _, _ in })
                c.start()
                _ = try await c.call(Self.hello("rtl8139", cls: 2, device: 0x8139), timeout: .seconds(5))
                let dt = monotonicNanos() - t0
                [0: { plain.append(dt) }, 1: { filtered.append(dt) }, 2: { full.append(dt) }][mode]?()
                p.kill()
                _ = await p.exited()
                await c.closeAndWait()
            }
        }
        let a = Stats(plain), b = Stats(filtered), f = Stats(full)
        print("spawn to HELLO, no sandbox                  \(a.line)")
        fflush(nil)
        print("spawn to HELLO, stage 1 filter only         \(b.line)   \(String(format: "%+.2f ms", (b.p50 - a.p50) / 1000)) (p50)")
        fflush(nil)
        print("spawn to HELLO, whole sandbox + stage 2     \(f.line)   \(String(format: "%+.2f ms", (f.p50 - a.p50) / 1000)) (p50)")
        fflush(nil)
        report.set(["spawn", "rtl8139_no_sandbox"], a.json)
        report.set(["spawn", "rtl8139_stage1_only"], b.json)
        report.set(["spawn", "rtl8139_whole_sandbox"], f.json)
    }

    /// A sim nucleus and drivermgrd in a scratch directory, with fault
    /// injection on and a start limit no benchmark reaches.
    final class Stack: @unchecked Sendable {
        let dir: String
        let sim = Process(), daemon = Process()
        init(bin: String, standby: Bool) throws {
            dir = NSTemporaryDirectory() + "xpc-bench-rec-\(getpid())-\(standby)"
            let etc = XPCBench.sampleConfigs(bin)
            for d in ["ens1371", "rtl8139"] {
                try FileManager.default.createDirectory(atPath: dir + "/etc/drivers.d/\(d).conf.d", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: etc + "/\(d).conf", toPath: dir + "/etc/drivers.d/\(d).conf")
                try "[Recovery]\nFaultInjection=yes\nStartLimitBurst=100000\nRestartMaxDelaySec=0\nStandby=\(standby ? "yes" : "no")\n"
                    .write(toFile: dir + "/etc/drivers.d/\(d).conf.d/bench.conf", atomically: true, encoding: .utf8)
            }
            sim.executableURL = URL(fileURLWithPath: bin + "/nucleus-sim")
            sim.arguments = ["--socket", dir + "/nucleus-sim.sock"]
            sim.standardOutput = FileHandle.nullDevice
            daemon.executableURL = URL(fileURLWithPath: bin + "/drivermgrd")
            daemon.arguments = ["--config", dir + "/etc", "--runtime-dir", dir, "--driver-dir", bin, "--log-level", "critical"]
            try sim.run()
            while !FileManager.default.fileExists(atPath: dir + "/nucleus-sim.sock") { usleep(10_000) }
            try daemon.run()
        }
        func stop() {
            daemon.terminate(); daemon.waitUntilExit()
            sim.terminate(); sim.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        func client() throws -> ManagerClient { try ManagerClient(path: dir + "/" + ManagerInterface.socketName) }
        func list() throws -> [DriverSummary] {
            var c = try client(); defer { c.close() }
            return try c.call(.list, as: ListReply.self, what: "list").drivers
        }
        func status(_ n: String) throws -> DeviceState? {
            var c = try client(); defer { c.close() }
            return try c.call(.status, ["names": .array([.string(n)])], as: StatusReply.self, what: "status").drivers.first?.device
        }
        func history(_ n: String) throws -> [DriverEvent] {
            var c = try client(); defer { c.close() }
            return try c.call(.history, ["name": .string(n)], as: HistoryReply.self, what: "history").events
        }
        func update(_ n: String) throws -> UpdateReply {
            var c = try client(); defer { c.close() }
            return try c.call(.update, ["name": .string(n)], as: UpdateReply.self, what: "update")
        }
        func inject(_ n: String, _ kind: String) throws {
            var c = try client(); defer { c.close() }
            _ = try c.call(.inject, ["name": .string(n), "kind": .string(kind)], as: StateReply.self, what: "inject")
        }
        func waitUntil(_ what: String, _ cond: () throws -> Bool) throws {
            for _ in 0..<2000 { if (try? cond()) == true { return }; usleep(5000) }
            throw XPCError(.timeout, what)
        }
    }

    /// Recovery: bare spawn of the u-driver binary vs recovery time over
    /// `crashes` SIGKILLs each, data-path loss meanwhile, and hang detection
    /// latency against the configured deadlines.
    static func recovery(bin: String, crashes: Int, report: BenchReport) async throws {
        print("\nrecovery: \(crashes) SIGKILLs of each u-driver, workload running")
        fflush(nil)
        // Bare spawn: spawn + exec + Swift start-up + HELLO answered.
        for (exe, cls, dev) in [("rtl8139", UInt8(2), UInt16(0x8139)), ("ens137x", UInt8(1), UInt16(0x1371))] {
            var bare: [UInt64] = []
            for _ in 0..<min(crashes, 200) {
                let t0 = monotonicNanos()
                let (d, u) = try XPCSocket.pair()
                let p = try await UDriverProcess.spawn(executable: bin + "/" + exe, arguments: [exe], socket: u)
                p.watch { _ in }
                let c = XPCConnection(name: "bare", socket: d, onEvent: { _, _ in })
                c.start()
                _ = try await c.call(Self.hello(exe, cls: cls, device: dev), timeout: .seconds(5))
                bare.append(monotonicNanos() - t0)
                p.kill()
                _ = await p.exited()
                await c.closeAndWait()
            }
            print("bare spawn of \(exe) (spawn to HELLO answered)   \(Stats(bare).line)")
            fflush(nil)
            report.set(["spawn", "\(exe)_bare"], Stats(bare).json)
            report.samples("spawn-\(exe)", bare)
        }
        try await sandboxCost(bin: bin, count: min(crashes, 200), report: report)

        for standby in [false, true] {
            try recoveries(bin: bin, crashes: crashes, standby: standby, report: report)
        }
    }

    static func recoveries(bin: String, crashes: Int, standby: Bool, report: BenchReport) throws {
        print("Standby=\(standby ? "yes" : "no"):")
        fflush(nil)
        let stack = try Stack(bin: bin, standby: standby)
        defer { stack.stop() }
        try stack.waitUntil("drivers active") {
            let l = try stack.list()
            return l.count == 2 && l.allSatisfy { $0.state == .active }
        }
        try stack.waitUntil("workload running") {
            let playing = try stack.status("ens1371")?.dataPath ?? false
            let echoed = try stack.status("rtl8139")?.number("echoed") ?? 0
            return playing && echoed > 10
        }
        for name in ["rtl8139", "ens1371"] {
            let before = try stack.status(name)
            let exe = bin + "/" + (name == "rtl8139" ? "rtl8139" : "ens137x")
            // Each recovery's event as it comes: the history keeps only a
            // driver's latest events (about 20 recoveries' worth).
            var recovered: [DriverEvent] = []
            var lastTime = try stack.history(name).last { $0.event == "recovered" }?.timeUSec ?? 0
            for i in 0..<crashes {
                guard let pid = try stack.list().first(where: { $0.name == name })?.pid else { throw XPCError(.closed, "no pid") }
                // With standbys, the next failure comes once the standby is
                // back (as failures that are not back to back do): the
                // back-to-back case, which finds none and spawns, is the
                // spawn row of Standby=no.
                if standby {
                    for _ in 0..<100 where ProcessTree.running(exe, childrenOf: stack.daemon.processIdentifier).count < 2 { usleep(5000) }
                }
                kill(pid, SIGKILL)
                try stack.waitUntil("recovery \(i)") {
                    try stack.list().first { $0.name == name }.map { $0.state == .active && $0.restarts == i + 1 } == true
                }
                // The driver serves again a moment before its event is kept.
                try stack.waitUntil("the recovered event \(i)") {
                    guard let e = try stack.history(name).last(where: { $0.event == "recovered" }), e.timeUSec > lastTime else { return false }
                    recovered.append(e)
                    lastTime = e.timeUSec
                    return true
                }
            }
            let rec = recovered.compactMap(\.recoveryUSec).map { $0 * 1000 }
            print(String(format: "  recovery of %-8@ (detection to serving) ", name as NSString) + Stats(rec).line
                  + "   over \(rec.count)")
            fflush(nil)
            let key = "\(name)_standby_\(standby ? "yes" : "no")"
            report.set(["recovery", key, "total"], Stats(rec).json)
            report.samples("recovery-\(key)", rec)
            let fromStandby = recovered.filter { e in e.phases?.contains { $0.name == "standby" } == true }.count
            report.set(["recovery", key, "from_standby"], fromStandby)
            if standby && name == "rtl8139" {
                report.target("recovery p50 with a standby (rtl8139)", measured: Stats(rec).p50 / 1000, limit: 1, unit: "ms")
                report.target("recovery p99 with a standby (rtl8139)", measured: Stats(rec).p99 / 1000, limit: 5, unit: "ms")
            }
            // Where the time went, per phase (the journal's RECOVERY_*_USEC).
            var byPhase: [String: [UInt64]] = [:], order: [String] = []
            for e in recovered {
                for ph in e.phases ?? [] {
                    if byPhase[ph.name] == nil { order.append(ph.name) }
                    byPhase[ph.name, default: []].append(ph.usec * 1000)
                }
            }
            for ph in order {
                guard let v = byPhase[ph], !v.isEmpty else { continue }
                print(String(format: "    %-8@ ", ph as NSString) + Stats(v).line + "   over \(v.count)")
                fflush(nil)
                report.set(["recovery", key, "phases", ph], Stats(v).json)
            }
            let after = try stack.status(name)
            for ph in order { if let v = byPhase[ph] { report.phase(ph, config: key, p50: Stats(v).p50) } }
            if name == "ens1371" {
                report.set(["recovery", key, "underruns"], after?.number("underruns") ?? 0)
                print("    data path: \((after?.number("framesPlayed") ?? 0) - (before?.number("framesPlayed") ?? 0)) frames played meanwhile, "
                      + "\(after?.number("underruns") ?? 0) underruns, \(after?.number("glitches") ?? 0) glitches")
                fflush(nil)
            } else {
                let tx = after?.number("txPackets") ?? 0, echoed = after?.number("echoed") ?? 0
                report.set(["recovery", key, "rx_dropped"], after?.number("rxDropped") ?? 0)
                print("    data path: \(tx - (before?.number("txPackets") ?? 0)) packets sent meanwhile, \(echoed - (before?.number("echoed") ?? 0)) echoed back, "
                      + "\(tx - echoed) in flight at the end, \(after?.number("rxDropped") ?? 0) dropped")
                fflush(nil)
            }
        }
        // Hang detection: inject a hang, time from the inject to the failure event.
        guard standby else { return }
        var lat: [UInt64] = []
        for i in 0..<20 {
            let name = i % 2 == 0 ? "rtl8139" : "ens1371"
            let n = try stack.list().first { $0.name == name }?.restarts ?? 0
            try stack.inject(name, "hang")
            try stack.waitUntil("hang recovered") {
                try stack.list().first { $0.name == name }.map { $0.state == .active && $0.restarts == n + 1 } == true
            }
            let ev = try stack.history(name)
            if let inj = ev.last(where: { $0.event == "inject" }), let f = ev.last(where: { $0.event == "failure" }) {
                lat.append((f.timeUSec - inj.timeUSec) * 1000)
            }
        }
        let hs = Stats(lat)
        print(String(format: "hang detection (inject to failure)         p50 %7.1f ms   max %7.1f ms   vs XPCTimeoutSec 250 ms + HeartbeatSec 200 ms",
                     hs.p50 / 1000, Double(lat.max() ?? 0) / 1e6))
        fflush(nil)
        report.set(["hang_detection"], hs.json)
        // Live update: drvctl update of each driver, workload running; the
        // swap's own time (request to the new u-driver serving, the old one
        // still to be shut down) and the command's round trip.
        let updates = min(crashes, 100)
        for name in ["rtl8139", "ens1371"] {
            let before = try stack.status(name)
            var swap: [UInt64] = [], command: [UInt64] = []
            for _ in 0..<updates {
                let t0 = monotonicNanos()
                let r = try stack.update(name)
                command.append(monotonicNanos() - t0)
                swap.append(r.usec * 1000)
            }
            print(String(format: "  update of %-8@ (request to serving)     ", name as NSString) + Stats(swap).line + "   over \(swap.count)")
            fflush(nil)
            print(String(format: "  update of %-8@ (drvctl round trip)      ", name as NSString) + Stats(command).line)
            fflush(nil)
            report.set(["update", name, "swap"], Stats(swap).json)
            report.set(["update", name, "command"], Stats(command).json)
            let after = try stack.status(name)
            if name == "ens1371" {
                print("    data path: \(after?.number("underruns") ?? 0) underruns, \(after?.number("glitches") ?? 0) glitches")
                fflush(nil)
            } else {
                let tx = after?.number("txPackets") ?? 0, echoed = after?.number("echoed") ?? 0
                print("    data path: \(tx - (before?.number("txPackets") ?? 0)) packets sent meanwhile, \(tx - echoed) in flight at the end, "
                      + "\(after?.number("rxDropped") ?? 0) dropped")
                fflush(nil)
            }
        }
    }
}
