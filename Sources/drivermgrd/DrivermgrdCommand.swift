// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import ControlInterface
import Foundation
import Logging
import Nucleus
import Supervisor
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
            Reads drivers.d/*.conf (drop-ins in NAME.conf.d/) from its configuration search path \
            (/etc/drivermgrd, then /usr/local/lib/drivermgrd, then /usr/lib/drivermgrd: a file in /etc \
            replaces one of the same name below it, drop-ins add to it), connects to the nucleus, spawns one \
            u-driver per matched device and serves io.drivermgr.Manager on RUNTIME/io.drivermgr.Manager \
            for drvctl. The nucleus is drvnucleus.ko (generic netlink) when it is loaded, else nucleus-sim.
            """,
        version: DrivermgrVersion.string)

    @Option(name: .customLong("config"),
            help: ArgumentHelp("A configuration directory; repeat for a search path, highest priority first.",
                               discussion: "Default: \(ConfigSearchPath.defaults.joined(separator: ", ")).",
                               valueName: "dir"))
    var configDirectories: [String] = []

    /// The search path in effect.
    var configSearchPath: [String] { configDirectories.isEmpty ? ConfigSearchPath.defaults : configDirectories }

    @Option(name: .customLong("runtime-dir"), help: "Runtime directory for the control socket.")
    var runtimeDirectory = ManagerInterface.defaultRuntimeDirectory

    /// Which nucleus to broker for.
    enum NucleusChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, kernel, sim
    }

    @Option(help: "kernel (drvnucleus.ko over generic netlink), sim (nucleus-sim), or auto: the module when it is loaded, nucleus-sim's socket otherwise, tried again until one answers.")
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

    /// Where the daemon's own log goes.
    enum LogTarget: String, ExpressibleByArgument, CaseIterable {
        case auto, journal, console
    }

    @Option(name: .customLong("log-target"),
            help: "journal (structured entries, fields per metadata key), console (stderr text), or auto: journal when stderr is the journal's stream.")
    var logTarget: LogTarget = .auto

    @Flag(name: .customLong("fd-store"),
          help: "Survive the daemon's own crash under systemd: keep each u-driver's channel, pidfd, seccomp listener, stderr pipe and uid lock in the service's file-descriptor store (FDSTORE=1) and its state in RUNTIME/drivers, and take running u-drivers over at start. Needs FileDescriptorStoreMax= (5 per driver), KillMode=process and RuntimeDirectoryPreserve=restart in the unit.")
    var fdStore = false

    @Option(name: .customLong("dynamic-uid-range"),
            help: "FIRST-LAST: where DynamicUser= uids come from (default systemd's range for dynamic users).")
    var dynamicUIDRange = "\(DynamicUIDs.systemdRange.lowerBound)-\(DynamicUIDs.systemdRange.upperBound)"

    @Option(name: .customLong("dynamic-uid-dir"),
            help: "Lock files of the dynamic uids in use; systemd's own directory by default, so that neither hands out a uid the other holds.")
    var dynamicUIDDirectory = DynamicUIDs.systemdLockDirectory

    /// `--dynamic-uid-range` parsed: FIRST-LAST, 1 ≤ FIRST ≤ LAST < 2^31.
    static func uidRange(_ text: String) -> ClosedRange<UInt32>? {
        let p = text.split(separator: "-")
        guard p.count == 2, let a = UInt32(p[0]), let b = UInt32(p[1]), a >= 1, a <= b, b < 1 << 31 else { return nil }
        return a...b
    }

    static func groupID(_ name: String) -> UInt32? { getgrnam(name).map { $0.pointee.gr_gid } }

    func validate() throws {
        if let g = controlGroup, Self.groupID(g) == nil { throw ValidationError("--control-group: no such group \(g)") }
        if let g = adminGroup, Self.groupID(g) == nil { throw ValidationError("--admin-group: no such group \(g)") }
        guard Self.uidRange(dynamicUIDRange) != nil else { throw ValidationError("--dynamic-uid-range: expected FIRST-LAST, e.g. 61184-65519") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
    }

    /// The service manager's side of the main loop, every 250 ms: READY=1
    /// once start-up has settled (drivers without a device get 3 s), STATUS=
    /// whenever the summary changes, and WATCHDOG=1 at half of WatchdogSec,
    /// each time only after the summary was computed: a daemon wedged on a
    /// driver's state stops the pings and systemd restarts it.
    static func serviceLoop(_ manager: Manager, _ logger: Logger) async {
        let notifier = ServiceNotifier()
        let start = ContinuousClock.now
        let watchdog = notifier.watchdogInterval.map { $0 / 2 }
        var lastPing = ContinuousClock.now, ready = false, status = ""
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let line = manager.summary()
            if !ready, manager.settled(deviceGraceOver: now - start > .seconds(3)) || now - start > .seconds(60) {
                ready = true
                status = line
                notifier.send("READY=1\nSTATUS=\(line)")
                logger.info("ready: \(line)")
            } else if ready, line != status {
                status = line
                notifier.send("STATUS=\(line)")
            }
            if let watchdog, now - lastPing >= watchdog {
                notifier.send("WATCHDOG=1")
                lastPing = now
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// SIGHUP: re-read the configuration directory and apply it (RELOADING=1
    /// ... READY=1 around it, as systemd expects). A directory with errors
    /// applies what parsed; the errors are logged with file:line.
    func reload(_ manager: Manager, _ logger: Logger) async {
        let notifier = ServiceNotifier()
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        notifier.send("RELOADING=1\nMONOTONIC_USEC=\(Int(ts.tv_sec) * 1_000_000 + ts.tv_nsec / 1000)\nSTATUS=reloading")
        let cfg = ConfigLoader.load(directories: configSearchPath, driverDirectory: driverDirectory)
        for w in cfg.warnings { logger.warning("\(w)") }
        for e in cfg.errors { logger.error("\(e)") }
        let out = await manager.reload(configs: cfg.drivers)
        func names(_ n: [String]) -> String { n.isEmpty ? "none" : n.joined(separator: ", ") }
        logger.notice("reloaded \(configSearchPath.joined(separator: ":")): added \(names(out.added)); removed \(names(out.removed)); restarted \(names(out.changed)); devices given back by \(names(out.released))")
        notifier.send("READY=1\nSTATUS=\(manager.summary())")
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let journal = logTarget == .journal || (logTarget == .auto && JournaldLogHandler.stderrIsJournal)
        LoggingSystem.bootstrap { label in
            if journal {
                var h = JournaldLogHandler(identifier: "drivermgrd")
                h.logLevel = level
                return h
            }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "drivermgrd")
        signal(SIGPIPE, SIG_IGN)
        // Several descriptors per driver (channel, pidfd, listener, stderr,
        // uid lock, the standby's): the soft limit (1024 under systemd) is
        // too low for a few hundred drivers. The daemon uses no select().
        var nofile = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &nofile) == 0, nofile.rlim_cur < nofile.rlim_max {
            nofile.rlim_cur = nofile.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &nofile)
        }

        let cfg = ConfigLoader.load(directories: configSearchPath, driverDirectory: driverDirectory)
        for w in cfg.warnings { logger.warning("\(w)") }
        for e in cfg.errors { logger.error("\(e)") }
        logger.info("loaded \(cfg.drivers.count) driver(s) from \(configSearchPath.joined(separator: ":"))")

        try? FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true)
        let simPath = nucleusSocket ?? (runtimeDirectory as NSString).appendingPathComponent("nucleus-sim.sock")
        let link: XPCNucleusLink
        switch nucleus {
        case .kernel: link = .kernel()
        case .sim: link = .sim(path: simPath)
        case .auto: link = .auto(simPath: simPath)
        }
        let handover = fdStore ? HandoverStore(runtimeDirectory: runtimeDirectory, logger: logger) : nil
        // The network namespace sandboxed u-drivers join: the last daemon's
        // from the fd store, else made in the background (it waits for the
        // RTNL) and stored; until it is there each gets one of its own.
        if cfg.drivers.contains(where: { $0.sandboxed && $0.privateNamespaces }) {
            if let fd = handover?.takeShared(SharedNetworkNamespace.fdName) {
                SharedNetworkNamespace.adopt(fd)
            } else {
                SharedNetworkNamespace.prepare(made: { fd in handover?.keepShared(SharedNetworkNamespace.fdName, fd) },
                                               failed: { why in logger.warning("\(why); each u-driver makes its own") })
            }
        }
        let uids = DynamicUIDs(range: Self.uidRange(dynamicUIDRange) ?? DynamicUIDs.systemdRange, lockDirectory: dynamicUIDDirectory)
        let manager = Manager(configs: cfg.drivers, nucleus: link, logger: logger, handover: handover, uids: uids,
                              historyPath: (runtimeDirectory as NSString).appendingPathComponent("history.jsonl"))
        DaemonMetrics.bootstrap()
        DaemonMetrics.shared.observe(manager)
        let metricsConfig = MetricsSettings.load(directories: configSearchPath, runtimeDirectory: runtimeDirectory)
        for w in metricsConfig.warnings { logger.warning("\(w)") }
        for e in metricsConfig.errors { logger.error("\(e)") }
        let metrics = try MetricsExporter(settings: metricsConfig.0, manager: manager, logger: logger)
        let adopted = manager.adoptFromPreviousDaemon()
        let server = try ControlServer(path: (runtimeDirectory as NSString).appendingPathComponent(ManagerInterface.socketName),
                                       manager: manager, logger: logger,
                                       controlGroup: controlGroup.flatMap(Self.groupID), adminGroup: adminGroup.flatMap(Self.groupID))
        server.start()
        await manager.connectNucleus()
        await manager.finishHandover(adopted)
        manager.claimConfiguredDevices()
        logger.info("supervising \(cfg.drivers.count) driver(s); control socket \(server.path)")

        let service = Task { await Self.serviceLoop(manager, logger) }
        metrics.start()
        let metricsWriter = Task { await metrics.run() }
        for await s in await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup) {
            if s == .sighup {
                await reload(manager, logger)
                continue
            }
            logger.info("received \(s), stopping drivers")
            break
        }
        service.cancel()
        metricsWriter.cancel()
        ServiceNotifier().send("STOPPING=1\nSTATUS=stopping drivers")
        await manager.shutdown()
        server.remove()
        _ = await metricsWriter.value
    }
}
