// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import ControlInterface
import Foundation
import Logging
import Nucleus
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// drivermgrd: supervises u-drivers and brokers every call between them and
/// the nucleus.
@main
struct DrivermgrdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drivermgrd",
        abstract: "Supervise user-space device drivers (u-drivers) and broker their calls to the nucleus.",
        discussion: """
            Reads CONFIG/drivers.d/*.conf (drop-ins in NAME.conf.d/), connects to the nucleus, spawns one \
            u-driver per matched device and serves io.drivermgr.Manager on RUNTIME/io.drivermgr.Manager \
            for drvctl. The nucleus is drvnucleus.ko (generic netlink) when it is loaded, else nucleus-sim.
            """)

    @Option(name: .customLong("config"), help: "Configuration directory.")
    var configDirectory = "/etc/drivermgrd"

    @Option(name: .customLong("runtime-dir"), help: "Runtime directory for the control socket.")
    var runtimeDirectory = ManagerInterface.defaultRuntimeDirectory

    /// Which nucleus to broker for.
    enum NucleusChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, kernel, sim
    }

    @Option(help: "kernel (drvnucleus.ko over generic netlink), sim (nucleus-sim), or auto: kernel when the module is loaded.")
    var nucleus: NucleusChoice = .auto

    @Option(name: .customLong("nucleus-socket"), help: "nucleus-sim's socket (default: RUNTIME/nucleus-sim.sock).")
    var nucleusSocket: String?

    @Option(name: .customLong("driver-dir"), help: "Where relative Executable= names are found.")
    var driverDirectory = "/usr/libexec/drivermgrd"

    @Option(name: .customLong("control-group"), help: "Group that may connect to the control socket (read-only verbs).")
    var controlGroup: String?

    @Option(name: .customLong("admin-group"), help: "Group that may also start, stop, restart, call and inject (root always may).")
    var adminGroup: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    static func groupID(_ name: String) -> UInt32? { getgrnam(name).map { $0.pointee.gr_gid } }

    func validate() throws {
        if let g = controlGroup, Self.groupID(g) == nil { throw ValidationError("--control-group: no such group \(g)") }
        if let g = adminGroup, Self.groupID(g) == nil { throw ValidationError("--admin-group: no such group \(g)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        let logger = Logger(label: "drivermgrd")
        signal(SIGPIPE, SIG_IGN)

        let cfg = ConfigLoader.load(directory: configDirectory, driverDirectory: driverDirectory)
        for w in cfg.warnings { logger.warning("\(w)") }
        for e in cfg.errors { logger.error("\(e)") }
        logger.info("loaded \(cfg.drivers.count) driver(s) from \(configDirectory)")

        try? FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true)
        let simPath = nucleusSocket ?? (runtimeDirectory as NSString).appendingPathComponent("nucleus-sim.sock")
        let useKernel = nucleus == .kernel || (nucleus == .auto && GenlTransport.available)
        let link = useKernel ? XPCNucleusLink.kernel() : XPCNucleusLink.sim(path: simPath)
        let manager = Manager(configs: cfg.drivers, nucleus: link, logger: logger)
        let server = try ControlServer(path: (runtimeDirectory as NSString).appendingPathComponent(ManagerInterface.socketName),
                                       manager: manager, logger: logger,
                                       controlGroup: controlGroup.flatMap(Self.groupID), adminGroup: adminGroup.flatMap(Self.groupID))
        server.start()
        await manager.connectNucleus()
        logger.info("supervising \(cfg.drivers.count) driver(s); control socket \(server.path)")

        for await s in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            logger.info("received \(s), stopping drivers")
            break
        }
        await manager.shutdown()
        server.remove()
    }
}
