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

/// `make bench`: XPC round trips beside a raw socketpair baseline measured in
/// the same run, and drivermgrd's resident memory with two drivers.
///
///     xpc-bench BIN_DIR [COUNT]      the benchmark
///     xpc-bench --echo               the baseline's echo peer (fd 3)
@main
enum XPCBench {
    static func main() async {
        let args = CommandLine.arguments
        if args.count > 1 && args[1] == "--echo" { echo() }
        guard args.count > 1 else {
            FileHandle.standardError.write(Data("usage: xpc-bench BIN_DIR [COUNT]\n".utf8))
            exit(2)
        }
        let bin = args[1]
        let count = args.count > 2 ? Int(args[2]) ?? 2000 : 2000
        let crashes = args.count > 3 ? Int(args[3]) ?? 200 : 200
        do {
            try await run(bin: bin, count: count)
            try await recovery(bin: bin, crashes: crashes)
        } catch {
            FileHandle.standardError.write(Data("xpc-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    /// The baseline peer: echo every packet on fd 3, nothing else.
    static func echo() -> Never {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(3, $0.baseAddress, $0.count, 0) }
            if n <= 0 { exit(0) }
            _ = buf.withUnsafeBytes { send(3, $0.baseAddress, n, drv_msg_nosignal) }
        }
    }

    /// HELLO for a u-driver of `cls` on a fake PCI function.
    static func hello(_ name: String, cls: UInt8, device: UInt16) -> XPCMessage {
        XPCMessage(op: .hello, flags: .request, instance: 1, attributes: [
            .u32(.version, XPCLimits.version), .string(.driverName, name), .u8(.deviceClass, cls),
            .u16(.pciVendor, cls == 2 ? 0x10ec : 0x1274), .u16(.pciDevice, device), .u32(.barSize, 256)])
    }

    struct Stats {
        let p50: Double, p99: Double, mean: Double
        init(_ ns: [UInt64]) {
            let s = ns.sorted()
            p50 = Double(s[s.count / 2]) / 1000
            p99 = Double(s[min(s.count - 1, s.count * 99 / 100)]) / 1000
            mean = Double(s.reduce(0, +)) / Double(s.count) / 1000
        }
        var line: String { String(format: "p50 %7.1f us   p99 %7.1f us   mean %7.1f us", p50, p99, mean) }
    }

    static func run(bin: String, count: Int) async throws {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        print("xpc-bench: \(count) round trips each, \(ProcessInfo.processInfo.activeProcessorCount) CPUs\n")

        // 1. Raw baseline: 24-byte packets over a socketpair to a child that echoes.
        let (a, b) = try XPCSocket.pair()
        let echoProc = try await UDriverProcess.spawn(executable: me, arguments: [me, "--echo"], socket: b)
        let ping = XPCMessage(op: .ping, flags: .request, seq: 1).bytes
        var raw: [UInt64] = []
        for i in 0..<(count + 200) {
            let t0 = monotonicNanos()
            try a.send(ping)
            _ = try a.receive()
            if i >= 200 { raw.append(monotonicNanos() - t0) }
        }
        echoProc.kill()
        let rawStats = Stats(raw)
        print("raw socketpair ping-pong (baseline)        \(rawStats.line)")

        // 2. daemon <-> u-driver: the daemon's XPCConnection to a real u-driver,
        //    PING answered by its runtime loop (the path every upcall takes).
        let (d, u) = try XPCSocket.pair()
        let drv = try await UDriverProcess.spawn(executable: bin + "/rtl8139", arguments: ["rtl8139"], socket: u)
        let conn = XPCConnection(name: "bench", socket: d, onEvent: { _, _ in })
        conn.start()
        let hello = try await conn.call(Self.hello("rtl8139", cls: 2, device: 0x8139), timeout: .seconds(5))
        guard hello.status == 0 else { throw XPCError(.remote, errno: -hello.status, "HELLO") }
        var dx: [UInt64] = []
        for i in 0..<(count + 200) {
            let t0 = monotonicNanos()
            _ = try await conn.call(XPCMessage(op: .ping, flags: .request, instance: 1), timeout: .seconds(2))
            if i >= 200 { dx.append(monotonicNanos() - t0) }
        }
        conn.close()
        drv.kill()
        let dxStats = Stats(dx)
        print("daemon <-> u-driver XPC null call          \(dxStats.line)   \(String(format: "%.2fx", dxStats.p50 / rawStats.p50)) baseline (p50)")

        // 3. nucleus -> daemon -> u-driver -> nucleus with the real processes.
        let dir = NSTemporaryDirectory() + "xpc-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/etc/drivers.d", withIntermediateDirectories: true)
        let etc = URL(fileURLWithPath: bin).appendingPathComponent("../../../etc/drivers.d").standardized.path
        for f in ["ens1371.conf", "rtl8139.conf"] {
            try? FileManager.default.copyItem(atPath: etc + "/" + f, toPath: dir + "/etc/drivers.d/" + f)
        }
        let sim = Process(), daemon = Process()
        sim.executableURL = URL(fileURLWithPath: bin + "/nucleus-sim")
        sim.arguments = ["--socket", dir + "/nucleus-sim.sock"]
        daemon.executableURL = URL(fileURLWithPath: bin + "/drivermgrd")
        daemon.arguments = ["--config", dir + "/etc", "--runtime-dir", dir, "--driver-dir", bin, "--log-level", "warning"]
        sim.standardOutput = FileHandle.nullDevice
        try sim.run()
        defer {
            daemon.terminate(); daemon.waitUntilExit()
            sim.terminate(); sim.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
        while !FileManager.default.fileExists(atPath: dir + "/nucleus-sim.sock") { try await Task.sleep(for: .milliseconds(10)) }
        try daemon.run()
        let ctl = XPCConnection(name: "bench-sim", socket: try XPCSocket.connect(path: dir + "/nucleus-sim.sock"), onEvent: { _, _ in })
        ctl.start()
        func simPing(_ n: Int) async throws -> [UInt64] {
            let r = try await ctl.call(XPCMessage(op: .simControl, flags: .request, instance: 2, attributes: [
                .u8(.simAction, 4), .u32(.count, UInt32(n))]), timeout: .seconds(30))
            if let e = r.remoteError { throw e }
            let p = r.attribute(.samplesNanos)?.payload ?? []
            return stride(from: 0, to: p.count - 3, by: 4).map {
                UInt64(p[$0]) | UInt64(p[$0 + 1]) << 8 | UInt64(p[$0 + 2]) << 16 | UInt64(p[$0 + 3]) << 24
            }
        }
        var up = false
        for _ in 0..<500 where !up {
            if (try? await simPing(1)) != nil { up = true } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard up else { throw XPCError(.timeout, "drivers did not come up") }
        _ = try await simPing(200)
        var chain: [UInt64] = []
        while chain.count < count { chain += try await simPing(min(2048, count - chain.count)) }
        let chainStats = Stats(chain)
        print("nucleus -> daemon -> u-driver -> nucleus   \(chainStats.line)   \(String(format: "%.2fx", chainStats.p50 / rawStats.p50)) baseline (p50)")
        ctl.close()

        // 4. drivermgrd's resident memory, supervising both drivers.
        let status = (try? String(contentsOfFile: "/proc/\(daemon.processIdentifier)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) } ?? "?"
        print("\ndrivermgrd RSS with 2 drivers: \(rss)")
        print(String(format: "target: daemon <-> u-driver p50 within 2x the raw baseline: %@",
                     dxStats.p50 <= 2 * rawStats.p50 ? "met" : "NOT met"))
    }

    /// Spawn to HELLO answered for rtl8139: no sandbox, stage 1 filter only,
    /// and the whole sandbox (user, namespaces, rlimits, both stages with the
    /// SANDBOX handshake and the /proc check), interleaved in one run.
    static func sandboxCost(bin: String, count: Int) async throws {
        let stage2 = SyscallSets.steadyState
        let stage1 = try compileStage1(Array(Set(stage2 + SyscallSets.startup)).sorted())
        print("sandbox allowlist: stage 1 \(Set(stage2 + SyscallSets.startup).count) calls (\(stage1.count / 8) BPF instructions), "
              + "stage 2 \(stage2.count) calls + clone(CLONE_THREAD), kill/tgkill(self)")
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
        print("spawn to HELLO, stage 1 filter only         \(b.line)   \(String(format: "%+.2f ms", (b.p50 - a.p50) / 1000)) (p50)")
        print("spawn to HELLO, whole sandbox + stage 2     \(f.line)   \(String(format: "%+.2f ms", (f.p50 - a.p50) / 1000)) (p50)")
    }

    /// A sim nucleus and drivermgrd in a scratch directory, with fault
    /// injection on and a start limit no benchmark reaches.
    final class Stack: @unchecked Sendable {
        let dir: String
        let sim = Process(), daemon = Process()
        init(bin: String, standby: Bool) throws {
            dir = NSTemporaryDirectory() + "xpc-bench-rec-\(getpid())-\(standby)"
            let etc = URL(fileURLWithPath: bin).appendingPathComponent("../../../etc/drivers.d").standardized.path
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
    static func recovery(bin: String, crashes: Int) async throws {
        print("\nrecovery: \(crashes) SIGKILLs of each u-driver, workload running")
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
        }
        try await sandboxCost(bin: bin, count: min(crashes, 200))

        for standby in [false, true] {
            try recoveries(bin: bin, crashes: crashes, standby: standby)
        }
    }

    static func recoveries(bin: String, crashes: Int, standby: Bool) throws {
        print("Standby=\(standby ? "yes" : "no"):")
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
            for i in 0..<crashes {
                guard let pid = try stack.list().first(where: { $0.name == name })?.pid else { throw XPCError(.closed, "no pid") }
                kill(pid, SIGKILL)
                try stack.waitUntil("recovery \(i)") {
                    try stack.list().first { $0.name == name }.map { $0.state == .active && $0.restarts == i + 1 } == true
                }
            }
            let recovered = try stack.history(name).filter { $0.event == "recovered" }
            let rec = recovered.compactMap(\.recoveryUSec).map { $0 * 1000 }
            print(String(format: "  recovery of %-8@ (detection to serving) ", name as NSString) + Stats(rec).line
                  + "   over \(rec.count)")
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
            }
            let after = try stack.status(name)
            if name == "ens1371" {
                print("    data path: \((after?.number("framesPlayed") ?? 0) - (before?.number("framesPlayed") ?? 0)) frames played meanwhile, "
                      + "\(after?.number("underruns") ?? 0) underruns, \(after?.number("glitches") ?? 0) glitches")
            } else {
                let tx = after?.number("txPackets") ?? 0, echoed = after?.number("echoed") ?? 0
                print("    data path: \(tx - (before?.number("txPackets") ?? 0)) packets sent meanwhile, \(echoed - (before?.number("echoed") ?? 0)) echoed back, "
                      + "\(tx - echoed) in flight at the end, \(after?.number("rxDropped") ?? 0) dropped")
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
            print(String(format: "  update of %-8@ (drvctl round trip)      ", name as NSString) + Stats(command).line)
            let after = try stack.status(name)
            if name == "ens1371" {
                print("    data path: \(after?.number("underruns") ?? 0) underruns, \(after?.number("glitches") ?? 0) glitches")
            } else {
                let tx = after?.number("txPackets") ?? 0, echoed = after?.number("echoed") ?? 0
                print("    data path: \(tx - (before?.number("txPackets") ?? 0)) packets sent meanwhile, \(tx - echoed) in flight at the end, "
                      + "\(after?.number("rxDropped") ?? 0) dropped")
            }
        }
    }
}
