// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import CDrvXPC
import ControlInterface
import Foundation
import Supervisor
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// `make bench`: every figure beside its baseline measured in the same run,
/// written as one report (bench.json and the plots' data) in `--out`.
/// The entry point: the command on the concurrency pool while the main
/// thread waits. Not an async main: that ends in dispatch_main(), on which
/// Debian 12's valgrind 3.19 crashes, and scripts/instruction-counts.sh
/// runs this program under callgrind.
@main
enum XPCBenchMain {
    static func main() {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await XPCBench.main()
            done.signal()
        }
        done.wait()
    }
}

struct XPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xpc-bench",
        abstract: "drivermgr's benchmarks: XPC round trips, recovery, live update and scale, each beside its baseline.",
        discussion: """
            Writes OUT/bench.json (figures, machine, targets met or not) and OUT/*.dat \
            (samples for scripts/bench-plots.gp). Run by `make bench` on release binaries.
            """)

    @Argument(help: "The directory holding the release binaries (drivermgrd, nucleus-sim, the u-drivers).")
    var bin: String = ""

    @Option(help: "Round trips per repetition of each XPC measurement.")
    var count = 2000

    @Option(help: "Interleaved repetitions of the XPC measurements and their baseline.")
    var repetitions = 5

    @Option(help: "SIGKILLs of each u-driver in the recovery measurement.")
    var crashes = 200

    @Option(help: "Driver counts of the scale measurement, comma-separated (empty: skip it).")
    var scale = "1,10,100,1000"

    @Option(help: "SIGKILLs during the scale measurement's recovery figures, at each count.")
    var scaleKills = 60

    @Option(help: "What to measure, comma-separated: xpc, recovery, scale; or chain alone (for a profiler).")
    var sections = "xpc,recovery,scale"

    @Option(help: "Where bench.json and the plots' data go.")
    var out = "bench"

    @Option(help: ArgumentHelp("Run one workload N times (see --iterations) for scripts/instruction-counts.sh, and nothing else.",
                               valueName: "codec|shadow"))
    var instructions: String?

    @Option(help: "Iterations of the --instructions workload.")
    var iterations = 1000

    @Flag(help: "Internal: the baseline's echo peer on fd 3.")
    var echo = false

    func run() async throws {
        if echo { Self.echoPeer() }
        if let kind = instructions {
            guard let w = InstructionWorkload(rawValue: kind) else {
                throw ValidationError("--instructions: expected codec or shadow, not \(kind)")
            }
            print("\(w.rawValue): \(iterations) iterations, checksum \(try w.run(iterations))")
            return
        }
        guard !bin.isEmpty else { throw ValidationError("BIN_DIR is required") }
        let report = try BenchReport(dir: out)
        print("xpc-bench: \(ProcessInfo.processInfo.activeProcessorCount) CPUs, report in \(out)/bench.json\n")
        fflush(nil)
        let what = Set(sections.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if what.contains("chain") {
            let stack = try ChainStack(bin: bin)
            defer { stack.stop() }
            try await stack.waitUp()
            print("chain alone: \(Stats(try await stack.ping(count * repetitions)).line)")
            fflush(nil)
        }
        if what.contains("null") {
            try await Self.roundTrips(bin: bin, count: count, repetitions: repetitions, report: report, nullOnly: true)
        }
        if what.contains("xpc") { try await Self.roundTrips(bin: bin, count: count, repetitions: repetitions, report: report) }
        if what.contains("recovery") { try await Self.recovery(bin: bin, crashes: crashes, report: report) }
        let sizes = scale.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        if what.contains("scale") && !sizes.isEmpty { try await Self.scale(bin: bin, sizes: sizes, kills: scaleKills, report: report) }
        try report.write()
        print("\nreport: \(out)/bench.json")
        fflush(nil)
    }

    /// The baseline peer: echo every packet on fd 3, nothing else.
    static func echoPeer() -> Never {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(3, $0.baseAddress, $0.count, 0) }
            if n <= 0 { Glibc.exit(0) }
            _ = buf.withUnsafeBytes { send(3, $0.baseAddress, n, drv_msg_nosignal) }
        }
    }

    /// HELLO for a u-driver of `cls` on a fake PCI function: the identity
    /// encoded as drivermgrd encodes it (``DeviceIdentity``), so that the
    /// bench's HELLO cannot fall behind what the u-drivers require.
    static func hello(_ name: String, cls: UInt8, device: UInt16) -> XPCMessage {
        let identity = DeviceIdentity(bus: .pci, vendor: cls == 2 ? 0x10ec : 0x1274, device: device, revision: 0,
                                      slot: "0000:00:03.0", barSize: 256)
        return XPCMessage(op: .hello, flags: .request, instance: 1, attributes: [
            .u32(.version, XPCLimits.version), .string(.driverName, name), .u8(.deviceClass, cls)] + identity.attributes)
    }

    /// The sample configurations' directory, from the binaries' (.build/CONF/).
    static func sampleConfigs(_ bin: String) -> String {
        URL(fileURLWithPath: bin).resolvingSymlinksInPath().appendingPathComponent("../../../etc/drivers.d").standardized.path
    }

    /// XPC round trips, `repetitions` times, each repetition measuring the
    /// raw socketpair baseline, the daemon⇄u-driver null call and the
    /// nucleus→daemon→u-driver→nucleus chain back to back, so that the
    /// machine's drift lands on all three alike. Ratios are per repetition
    /// (its p50 over its baseline's), reported as median and spread.
    static func roundTrips(bin: String, count: Int, repetitions: Int, report: BenchReport, nullOnly: Bool = false) async throws {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        print("XPC round trips: \(repetitions) interleaved repetitions of \(count) each")
        fflush(nil)

        // The raw baseline: 24-byte packets over a socketpair to a child that echoes.
        let (a, b) = try XPCSocket.pair()
        let echoProc = try await UDriverProcess.spawn(executable: me, arguments: [me, "--echo"], socket: b)
        defer { echoProc.kill() }
        let ping = XPCMessage(op: .ping, flags: .request, seq: 1).bytes
        func raw(_ n: Int) throws -> [UInt64] {
            var v: [UInt64] = []
            v.reserveCapacity(n)
            for _ in 0..<n {
                let t0 = monotonicNanos()
                try a.send(ping)
                _ = try a.receive()
                v.append(monotonicNanos() - t0)
            }
            return v
        }

        // daemon⇄u-driver: an XPCConnection to a real u-driver, PING
        // answered by its runtime loop (the path every upcall takes).
        let (d, u) = try XPCSocket.pair()
        let drv = try await UDriverProcess.spawn(executable: bin + "/rtl8139", arguments: ["rtl8139"], socket: u)
        defer { drv.kill() }
        let conn = XPCConnection(name: "bench", socket: d, onEvent: { _, _ in })
        conn.start()
        defer { conn.close() }
        let hello = try await conn.call(Self.hello("rtl8139", cls: 2, device: 0x8139), timeout: .seconds(5))
        guard hello.status == 0 else { throw hello.remoteError ?? XPCError(.remote, errno: -hello.status, "HELLO") }
        func null(_ n: Int) async throws -> [UInt64] {
            var v: [UInt64] = []
            v.reserveCapacity(n)
            for _ in 0..<n {
                let t0 = monotonicNanos()
                _ = try await conn.call(XPCMessage(op: .ping, flags: .request, instance: 1), timeout: .seconds(2))
                v.append(monotonicNanos() - t0)
            }
            return v
        }

        // The same calls issued as drivermgrd's broker issues them: from
        // the completion of the previous one, on the connection's reader
        // thread, with no task to resume.
        final class Loop: @unchecked Sendable {
            var left = 0, t0: UInt64 = 0, samples: [UInt64] = []
            let done = DispatchSemaphore(value: 0)
        }
        func nullFromReader(_ n: Int) throws -> [UInt64] {
            let l = Loop()
            l.left = n
            l.samples.reserveCapacity(n)
            @Sendable func next() {
                l.t0 = monotonicNanos()
                conn.call(XPCMessage(op: .ping, flags: .request, instance: 1), timeout: .seconds(2)) { r in
                    l.samples.append(monotonicNanos() - l.t0)
                    l.left -= 1
                    if case .success = r, l.left > 0 { next() } else { l.done.signal() }
                }
            }
            next()
            l.done.wait()
            guard l.samples.count == n else { throw XPCError(.closed, "null call loop ended early") }
            return l.samples
        }

        // The chain, with the real processes: nucleus-sim's SIM ping (action
        // 4) times an upcall it sends through drivermgrd to the u-driver.
        if nullOnly {
            print("null call alone: \(Stats(try nullFromReader(count * repetitions)).line)")
            fflush(nil)
            return
        }
        let stack = try ChainStack(bin: bin)
        defer { stack.stop() }
        try await stack.waitUp()

        _ = try raw(200)
        _ = try await null(200)
        _ = try nullFromReader(200)
        _ = try await stack.ping(200)
        var rawAll: [UInt64] = [], nullAll: [UInt64] = [], asyncAll: [UInt64] = [], chainAll: [UInt64] = []
        var nullRatio: [Double] = [], asyncRatio: [Double] = [], chainRatio: [Double] = [], rawP50: [Double] = []
        var daemonCPU: UInt64 = 0
        for rep in 0..<repetitions {
            let r = try raw(count), n = try nullFromReader(count), an = try await null(count)
            let cpu0 = ProcessTree.cpuNanos(stack.daemon.processIdentifier)
            let c = try await stack.ping(count)
            daemonCPU += ProcessTree.cpuNanos(stack.daemon.processIdentifier) &- cpu0
            let rs = Stats(r), ns = Stats(n), asy = Stats(an), cs = Stats(c)
            rawP50.append(rs.p50)
            nullRatio.append(ns.p50 / rs.p50)
            asyncRatio.append(asy.p50 / rs.p50)
            chainRatio.append(cs.p50 / rs.p50)
            print(String(format: "  repetition %d: raw p50 %.1f us, null call %.1f us (%.2fx), from a task %.1f us (%.2fx), chain %.1f us (%.2fx)",
                         rep + 1, rs.p50, ns.p50, ns.p50 / rs.p50, asy.p50, asy.p50 / rs.p50, cs.p50, cs.p50 / rs.p50))
            fflush(nil)
            rawAll += r; nullAll += n; asyncAll += an; chainAll += c
        }
        let rs = Stats(rawAll), ns = Stats(nullAll), asy = Stats(asyncAll), cs = Stats(chainAll)
        let nr = Spread(nullRatio), ar = Spread(asyncRatio), cr = Spread(chainRatio)
        print("raw socketpair ping-pong (baseline)        \(rs.line)")
        fflush(nil)
        print("daemon <-> u-driver XPC null call          \(ns.line)   \(nr.line()) baseline (p50, median of repetitions)")
        fflush(nil)
        print("  the same, awaited from a task            \(asy.line)   \(ar.line()) baseline")
        fflush(nil)
        print("nucleus -> daemon -> u-driver -> nucleus   \(cs.line)   \(cr.line()) baseline")
        fflush(nil)
        report.set(["xpc", "raw"], rs.json)
        report.set(["xpc", "null_call"], ns.json.merging(["ratio_to_raw": nr.json]) { $1 })
        report.set(["xpc", "null_call_awaited"], asy.json.merging(["ratio_to_raw": ar.json]) { $1 })
        report.set(["xpc", "chain"], cs.json.merging(["ratio_to_raw": cr.json]) { $1 })
        report.set(["xpc", "repetitions"], repetitions)
        // The broker's cost in drivermgrd itself: its CPU time (all threads)
        // over the chain's round trips, each one upcall forwarded and its
        // answer passed back.
        let perUpcall = Double(daemonCPU) / Double(max(1, chainAll.count)) / 1000
        print(String(format: "drivermgrd CPU per forwarded upcall       %.1f us", perUpcall))
        report.set(["xpc", "daemon_cpu_us_per_upcall"], perUpcall)
        report.set(["xpc", "raw_p50_us_per_repetition"], rawP50)
        report.samples("xpc-raw", rawAll)
        report.samples("xpc-null", nullAll)
        report.samples("xpc-null-awaited", asyncAll)
        report.samples("xpc-chain", chainAll)
        report.target("XPC null call / raw socketpair (p50, median)", measured: nr.median, limit: 1.5, unit: "x")
        report.target("XPC chain / raw socketpair (p50, median)", measured: cr.median, limit: 2.5, unit: "x")

        let rss = stack.daemonRSSKiB()
        print("drivermgrd RSS with 2 drivers: \(rss) kB\n")
        fflush(nil)
        report.set(["memory", "daemon_rss_kib_2_drivers"], rss)
    }

    /// nucleus-sim (es1371 and rtl8139, no workload) and drivermgrd with the
    /// sample configurations, for the chain measurement.
    final class ChainStack: @unchecked Sendable {
        let dir: String
        let sim = Process(), daemon = Process()
        var ctl: XPCConnection?

        init(bin: String) throws {
            dir = NSTemporaryDirectory() + "xpc-bench-\(getpid())"
            try FileManager.default.createDirectory(atPath: dir + "/etc/drivers.d", withIntermediateDirectories: true)
            for f in ["ens1371.conf", "rtl8139.conf"] {
                try? FileManager.default.copyItem(atPath: XPCBench.sampleConfigs(bin) + "/" + f, toPath: dir + "/etc/drivers.d/" + f)
            }
            sim.executableURL = URL(fileURLWithPath: bin + "/nucleus-sim")
            sim.arguments = ["--socket", dir + "/nucleus-sim.sock", "--no-workload"]
            daemon.executableURL = URL(fileURLWithPath: bin + "/drivermgrd")
            daemon.arguments = ["--config", dir + "/etc", "--runtime-dir", dir, "--driver-dir", bin, "--log-level", "warning"]
            sim.standardOutput = FileHandle.nullDevice
            try sim.run()
            while !FileManager.default.fileExists(atPath: dir + "/nucleus-sim.sock") { usleep(10_000) }
            try daemon.run()
            let c = XPCConnection(name: "bench-sim", socket: try XPCSocket.connect(path: dir + "/nucleus-sim.sock"), onEvent: { _, _ in })
            c.start()
            ctl = c
        }

        func waitUp(seconds: Int = 10) async throws {
            var last: (any Error)?
            for _ in 0..<(seconds * 50) {
                do { _ = try await ping(1); return } catch { last = error }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw XPCError(.timeout, "drivers did not come up: \(last.map { "\($0)" } ?? "")")
        }

        /// `n` chain round trips timed by the sim (its SIM ping action).
        func ping(_ n: Int) async throws -> [UInt64] {
            guard let ctl else { throw XPCError(.closed, "no sim control channel") }
            var all: [UInt64] = []
            while all.count < n {
                let r = try await ctl.call(XPCMessage(op: .simControl, flags: .request, instance: 2, attributes: [
                    .u8(.simAction, 4), .u32(.count, UInt32(min(2048, n - all.count)))]), timeout: .seconds(30))
                if let e = r.remoteError { throw e }
                let p = r.attribute(.samplesNanos)?.payload ?? []
                all += stride(from: 0, to: p.count - 3, by: 4).map {
                    UInt64(p[$0]) | UInt64(p[$0 + 1]) << 8 | UInt64(p[$0 + 2]) << 16 | UInt64(p[$0 + 3]) << 24
                }
            }
            return all
        }

        func daemonRSSKiB() -> Int { ProcessTree.rssKiB(daemon.processIdentifier) }

        func stop() {
            ctl?.close()
            daemon.terminate(); daemon.waitUntilExit()
            sim.terminate(); sim.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}
