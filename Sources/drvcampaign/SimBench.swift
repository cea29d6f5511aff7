// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import FaultCampaign
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// nucleus-sim with N devices per chip and drivermgrd with one
/// configuration per device, made from the shipped configuration of the
/// chip (etc/drivers.d) plus a drop-in that allows fault injection.
final class SimBench: @unchecked Sendable {
    // @unchecked: set up on the main thread before any signal handler can run.
    /// A chip nucleus-sim models → its shipped configuration and the Swift
    /// module that is its u-driver's own code. One line per chip.
    static let chips: [String: (config: String, module: String)] = [
        "rtl8139": ("rtl8139", "RTL8139"),
        "es1371": ("ens1371", "ENS137x"),
        "es1370": ("ens1370", "ENS137x"),
        "e1000": ("e1000", "E1000"),
        "pcnet32": ("pcnet32", "PCNet32"),
        "ne2k": ("ne2k-pci", "NE2K"),
        "psmouse": ("psmouse", "PSMouse"),
        "uhci": ("uhci", "UHCI"),
    ]

    /// The campaign's drop-in: injection on; a start limit that many
    /// faults a second across the fleet do not reach; no back-off, so each
    /// recovery is measured alone; a small address space for `memory`.
    static let dropIn = """
        [Recovery]
        FaultInjection=yes
        XPCTimeoutSec=250ms
        HeartbeatSec=200ms
        StartLimitBurst=50
        StartLimitIntervalSec=1s
        RestartMaxDelaySec=0

        [Sandbox]
        MemoryMax=256M

        """

    let bin: String
    let dir: String
    let etc: String
    let devices: [(chip: String, count: Int)]
    private(set) var drivers: [CampaignDriver] = []
    private var sim: Process?
    private var daemon: Process?

    /// drivermgrd runs under `fdstore` (systemd's Restart=always and fd
    /// store) with --fd-store, so the campaign can SIGKILL it.
    var restartable = false

    var controlSocket: String { dir + "/" + ManagerInterface.socketName }
    var daemonPID: Int32? {
        guard restartable else { return daemon?.processIdentifier }
        return currentDaemonPID()
    }
    var daemonAlive: Bool { daemon?.isRunning ?? false }

    /// drivermgrd's pid as `fdstore` last wrote it.
    func currentDaemonPID() -> Int32? { CampaignCommand.Attach.pid(in: dir + "/drivermgrd.pid") }

    static func parse(_ specs: [String]) throws -> [(chip: String, count: Int)] {
        try specs.map { s in
            let p = s.split(separator: "=", maxSplits: 1).map(String.init)
            guard p.count == 2, let n = Int(p[1]), n >= 1, chips[p[0]] != nil else {
                throw CampaignError("--devices \(s): expected CHIP=COUNT with CHIP one of " + chips.keys.sorted().joined(separator: ", "))
            }
            return (p[0], n)
        }
    }

    init(bin: String, dir: String, etc: String = "etc", devices: [(chip: String, count: Int)]) throws {
        self.bin = bin
        self.dir = (dir as NSString).standardizingPath.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        self.etc = etc
        self.devices = devices
    }

    func start() throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir + "/etc")
        try fm.createDirectory(atPath: dir + "/etc/drivers.d", withIntermediateDirectories: true)
        var kinds: [String] = []
        for (chip, count) in devices {
            guard let c = Self.chips[chip] else { continue }
            let template = etc + "/drivers.d/\(c.config).conf"
            guard let text = fm.contents(atPath: template).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw CampaignError("cannot read \(template)")
            }
            let cls = text.split(separator: "\n").first { $0.hasPrefix("Class=") }.map { String($0.dropFirst(6)) } ?? "net"
            for i in 1...count {
                let name = "\(c.config)-\(i)"
                let conf = text.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix("Name=") ? "Name=\(name)" : String($0) }.joined(separator: "\n")
                try conf.write(toFile: dir + "/etc/drivers.d/\(name).conf", atomically: true, encoding: .utf8)
                try fm.createDirectory(atPath: dir + "/etc/drivers.d/\(name).conf.d", withIntermediateDirectories: true)
                try Self.dropIn.write(toFile: dir + "/etc/drivers.d/\(name).conf.d/90-campaign.conf", atomically: true, encoding: .utf8)
                drivers.append(CampaignDriver(name: name, driverClass: cls, modules: [c.module]))
                kinds.append(chip)
            }
        }
        try? fm.removeItem(atPath: dir + "/nucleus-sim.sock")
        // 8 kHz: a 4,096-frame ring lasts 512 ms, so the sim's own player
        // thread, starved by a saturated machine, does not glitch; the data
        // path the campaign measures is the nucleus's, not the sim's CPU share.
        sim = try launch("nucleus-sim", ["--socket", dir + "/nucleus-sim.sock", "--rate", "8000", "--devices"] + kinds,
                         log: "nucleus-sim.log")
        if let pid = sim?.processIdentifier { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), -10) }
        try wait(seconds: 20, "nucleus-sim's socket") { fm.fileExists(atPath: self.dir + "/nucleus-sim.sock") }
        let daemonArgs = ["--config", dir + "/etc", "--runtime-dir", dir, "--nucleus", "sim",
                          "--nucleus-socket", dir + "/nucleus-sim.sock", "--driver-dir", bin]
        if restartable {
            try? fm.removeItem(atPath: dir + "/drivermgrd.pid")
            daemon = try launch("fdstore", [dir + "/notify", dir + "/drivermgrd.pid", bin + "/drivermgrd"] + daemonArgs + ["--fd-store"],
                                log: "drivermgrd.log")
        } else {
            daemon = try launch("drivermgrd", daemonArgs, log: "drivermgrd.log")
        }
        try wait(seconds: 30, "the control socket") { fm.fileExists(atPath: self.controlSocket) }
        try wait(seconds: 60 + Double(drivers.count) / 5, "\(drivers.count) drivers active") {
            guard var c = try? ManagerClient(path: self.controlSocket) else { return false }
            defer { c.close() }
            let l = (try? c.call(.list, as: ListReply.self, what: "list"))?.drivers ?? []
            return l.count == self.drivers.count && l.allSatisfy { $0.state == .active }
        }
        print("nucleus-sim and drivermgrd up: \(drivers.count) drivers active (\(dir))")
    }

    /// SIGTERM/SIGINT (`timeout`, Ctrl-C) stop nucleus-sim and drivermgrd
    /// too, so an interrupted campaign leaves nothing running.
    private var signalSources: [DispatchSourceSignal] = []
    func stopOnSignals() {
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler { [self] in
                stop()
                exit(128 + sig)
            }
            src.resume()
            signalSources.append(src)
        }
    }

    func stop() {
        for p in [daemon, sim].compactMap({ $0 }) where p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
    }

    private func launch(_ exe: String, _ args: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + "/" + exe)
        p.arguments = args
        _ = FileManager.default.createFile(atPath: dir + "/" + log, contents: nil)
        let h = FileHandle(forWritingAtPath: dir + "/" + log)
        p.standardOutput = h
        p.standardError = h
        do { try p.run() } catch { throw CampaignError("cannot start \(bin)/\(exe): \(error)") }
        return p
    }

    private func wait(seconds: Double, _ what: String, _ ok: () -> Bool) throws {
        let end = Date().addingTimeInterval(seconds)
        while !ok() {
            if Date() > end { throw CampaignError("timed out waiting for \(what); logs in \(dir)") }
            if let d = daemon, !d.isRunning { throw CampaignError("drivermgrd exited; see \(dir)/drivermgrd.log") }
            usleep(50_000)
        }
    }
}
