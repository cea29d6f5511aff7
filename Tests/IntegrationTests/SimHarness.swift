// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Synchronization
import XPC

/// Starts the real programs — nucleus-sim, drivermgrd (which spawns the real
/// u-drivers) — in a private runtime directory, and runs drvctl against them.
final class SimHarness: @unchecked Sendable {
    let dir: String
    let bin: String
    private var processes: [Process] = []

    /// The directory holding the built executables, next to the test bundle.
    static let binDir: String = {
        let fromArg = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        if FileManager.default.fileExists(atPath: fromArg + "/nucleus-sim") { return fromArg }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }()

    static let etcDir: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("etc").path

    /// The checkout.
    static let rootDir: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The python with the tests' PyPI packages (`make test-python`).
    static let testPython: String = ProcessInfo.processInfo.environment["DRIVERMGR_TEST_PYTHON"]
        ?? rootDir + "/.build/test-venv/bin/python"

    /// Runs ``testPython`` with `args`: its exit status and its output
    /// (stdout and stderr together). Fails when the venv is missing.
    func python(_ args: [String]) throws -> (Int32, String) {
        guard FileManager.default.isExecutableFile(atPath: Self.testPython) else {
            throw HarnessError("no \(Self.testPython): `make test-python` installs the tests' PyPI packages there (make check does)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.testPython)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    init() throws {
        dir = NSTemporaryDirectory() + "drvsim-\(UUID().uuidString.prefix(8))"
        bin = Self.binDir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { stopAll() }

    func stopAll() {
        for p in processes where p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
        processes = []
        try? FileManager.default.removeItem(atPath: dir)
    }

    var socketPath: String { dir + "/nucleus-sim.sock" }
    var logPath: String { dir + "/drivermgrd.log" }

    @discardableResult
    func launch(_ name: String, _ args: [String], log: String, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/" + name)
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = h
        p.standardError = h
        try p.run()
        processes.append(p)
        return p
    }

    func startSim(_ extra: [String] = []) throws {
        try launch("nucleus-sim", ["--socket", socketPath] + extra, log: dir + "/nucleus-sim.log")
        try wait("nucleus-sim socket") { FileManager.default.fileExists(atPath: self.socketPath) }
    }

    @discardableResult
    func startDaemon(config: String = SimHarness.etcDir, environment: [String: String] = [:]) throws -> Process {
        try launch("drivermgrd", ["--config", config, "--runtime-dir", dir, "--driver-dir", bin], log: logPath,
                   environment: environment)
    }

    /// Runs drvctl; returns exit status, stdout and stderr.
    /// A configuration directory of this harness's own holding the driver's
    /// shipped etc/drivers.d/DRIVER.conf (what `make install` ships) and
    /// `dropIn` as its 50-test.conf: the simulator's Tests/etc stays as it is.
    func shippedConfig(_ driver: String, dropIn: String) throws -> String {
        let cfg = dir + "/etc", d = cfg + "/drivers.d"
        try FileManager.default.createDirectory(atPath: d + "/\(driver).conf.d", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.rootDir + "/etc/drivers.d/\(driver).conf", toPath: d + "/\(driver).conf")
        try dropIn.write(toFile: d + "/\(driver).conf.d/50-test.conf", atomically: true, encoding: .utf8)
        return cfg
    }

    /// A configuration directory of this harness's own whose drivers.d
    /// holds `files` (name → contents).
    func driverConfig(_ files: [String: String]) throws -> String {
        let cfg = dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: cfg + "/drivers.d/\(name)", atomically: true, encoding: .utf8)
        }
        return cfg
    }

    func drvctl(_ args: String...) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/drvctl")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["DRIVERMGRD_RUNTIME_DIR"] = dir
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Runs `nucleus-sim client` against this sim (a workload client's
    /// action): exit status and stderr.
    func simClient(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/nucleus-sim")
        p.arguments = ["client", "--socket", socketPath] + args
        return try Self.runToEnd(p)
    }

    /// Runs `p` to its end, its stdout discarded: exit status and stderr.
    static func runToEnd(_ p: Process) throws -> (Int32, String) {
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// SIGTERM to `pid` (a daemon started by hand, not by ``launch``) and
    /// its reaping; nothing if `pid` is 0.
    static func terminate(_ pid: pid_t) {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
    }

    /// Starts drvctl without waiting for it.
    func background(_ args: String...) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/drvctl")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["DRIVERMGRD_RUNTIME_DIR"] = dir
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func status(_ name: String) throws -> DriverStatus {
        let (rc, out, err) = try drvctl("status", name, "--json=short")
        // 3: the driver is not active (systemctl status's code), still a status.
        guard rc == 0 || rc == 3 else { throw HarnessError("drvctl status \(name): \(rc) \(err)") }
        let r = try JSONDecoder().decode(StatusReply.self, from: Data(out.utf8))
        guard let s = r.drivers.first else { throw HarnessError("no status for \(name)") }
        return s
    }

    func list() throws -> [DriverSummary] {
        let (rc, out, err) = try drvctl("list", "--json=short")
        guard rc == 0 else { throw HarnessError("drvctl list: \(rc) \(err)") }
        return try JSONDecoder().decode(ListReply.self, from: Data(out.utf8)).drivers
    }

    /// Polls `cond` every 20 ms for up to `seconds`.
    func wait(_ what: String, seconds: Double = 20, _ cond: () throws -> Bool) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if (try? cond()) == true { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        if try cond() { return }
        throw HarnessError("timed out waiting for \(what); daemon log:\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    /// nucleus-sim with both models and their workloads, drivermgrd on
    /// `config`: returns once both drivers are active, the NIC's packets
    /// are echoed and the sound card plays.
    func startWithWorkload(config: String = SimHarness.etcDir) throws {
        try startSim()
        try startDaemon(config: config)
        try waitActive(["ens1371", "rtl8139"])
        try wait("packets moving") { try status("rtl8139").device?.number("echoed") ?? 0 > 20 }
        try wait("playing") { try status("ens1371").device?.dataPath == true }
    }

    func waitActive(_ names: [String]) throws {
        try wait("\(names) active") {
            let l = try list()
            return names.allSatisfy { n in l.contains { $0.name == n && $0.state == .active } }
        }
    }

    /// What a workload client does in the sim (the sim's `aplay -r`,
    /// `ip maddr add`): sent to nucleus-sim, answered once done.
    func simControl(instance: UInt32, _ attrs: [XPCAttribute]) async throws {
        let c = XPCConnection(name: "test", socket: try XPCSocket.connect(path: socketPath), onEvent: { _, _ in })
        c.start()
        defer { c.close() }
        let r = try await c.call(XPCMessage(op: .simControl, flags: .request, instance: instance, attributes: attrs),
                                 timeout: .seconds(10))
        if let e = r.remoteError { throw e }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
