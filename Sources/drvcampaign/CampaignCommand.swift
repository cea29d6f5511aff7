// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import ControlInterface
import FaultCampaign
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// drvcampaign: the fault-injection campaign (`make campaign`).
@main
struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drvcampaign",
        abstract: "Inject faults into running u-drivers and record what each one caused.",
        discussion: """
            Every fault is one JSONL row: its kind, where it landed, whether it manifested, which detector \
            caught it, whether recovery was transparent (the client saw no error, the device reads back as \
            the shadow says, nothing lost), and the detection and recovery times.
            """,
        subcommands: [Sim.self, Attach.self, Report.self, Replay.self])
}

/// Options shared by the two ways of running.
struct RunOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Stop once this many faults are placed.",
                               discussion: "A fault drawn for a driver that is not active is recorded apart (not placed) and does not count."))
    var faults: UInt64 = 1000
    @Option(help: "Stop after this many seconds.") var seconds: Double = 2700
    @Option(help: "Worker threads (each owns a share of the drivers).") var workers: Int = 32
    @Option(help: "Milliseconds to watch for a failure after the exercise call.") var windowMs: Int = 600
    @Option(help: ArgumentHelp(
        "Milliseconds to watch after a fault found only by a deadline (hang, slow).",
        discussion: "At least --window-ms; default --window-ms. Give it the drivers' heartbeat period plus XPCTimeoutSec= and some."))
    var deadlineWindowMs: Int?
    @Option(help: "Campaign seed (each fault's own seed derives from it).") var seed: UInt64 = 1
    @Option(parsing: .upToNextOption, help: "Fault kinds (default: every kind but the code mutations when no injector).")
    var kinds: [String] = []
    @Option(help: "Where the rows go (JSONL, appended).") var out: String = "campaign.jsonl"
    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "After each fault, a setter of the driver's class through drvctl call.",
        discussion: "--no-exercise for drivers that serve no class operation (a sliced driver)."))
    var exercise = true

    func validate() throws {
        guard workers >= 1, windowMs >= 0, faults >= 1, seconds > 0 else { throw ValidationError("--workers, --faults and --seconds must be positive") }
        if let d = deadlineWindowMs, d < windowMs {
            throw ValidationError("--deadline-window-ms \(d) is shorter than --window-ms \(windowMs)")
        }
        for k in kinds where FaultKind.named(k) == nil {
            throw ValidationError("--kinds: no fault \(k); expected " + FaultKind.all.map(\.name).joined(separator: ", "))
        }
    }

    /// The ptrace injector for the code mutations, when this process may
    /// use ptrace (root or CAP_SYS_PTRACE); nil otherwise.
    static func codeInjector() -> (any CodeFaultInjector)? { PtraceInjector.available() }

    func plan(mutations: Bool) -> FaultPlan {
        let chosen = kinds.isEmpty ? FaultKind.all.filter { mutations || $0.family != .mutation } : kinds.compactMap(FaultKind.named)
        return FaultPlan(kinds: chosen, seed: seed)
    }

    func run(socket: String, drivers: [CampaignDriver], daemonPID: Int32?, daemonKills: DaemonKills? = nil) throws -> CampaignTally {
        let injector = Self.codeInjector()
        var settings = CampaignRunner.Settings(socket: socket, drivers: drivers, plan: plan(mutations: injector != nil),
                                               faults: faults, seconds: seconds, workers: workers,
                                               window: .milliseconds(windowMs), daemonPID: daemonPID, injector: injector)
        settings.daemonKills = daemonKills
        settings.exercise = exercise
        settings.deadlineWindow = deadlineWindowMs.map { .milliseconds($0) }
        let runner = try CampaignRunner(settings, jsonl: out)
        let t0 = Date()
        let tally = try runner.run { t in
            let s = Date().timeIntervalSince(t0)
            let line = String(format: "%6.0f s  %7d faults  %6.1f/s  manifested %d  detected %d  transparent %d  silent %d  lost %llu\n",
                              s, t.injected + t.notInjected, Double(t.injected + t.notInjected) / max(s, 0.001),
                              t.manifested, t.detected, t.transparent, t.silent, t.lost)
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        let s = Date().timeIntervalSince(t0)
        print(String(format: "done: %d faults injected (%d not placed) in %.0f s, %.1f faults/s; rows in %@",
                     tally.injected, tally.notInjected, s, Double(tally.injected + tally.notInjected) / max(s, 0.001), out))
        for e in tally.errors { print("error: \(e)") }
        return tally
    }
}

extension CampaignCommand {
    /// nucleus-sim with many devices, drivermgrd with one configuration per
    /// device (fault injection on), then the campaign.
    struct Sim: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the campaign on nucleus-sim: N devices per chip, one drivermgrd.")
        @OptionGroup var options: RunOptions
        @Option(help: "Directory with the built binaries.") var bin: String
        @Option(help: "Scratch directory (configs, sockets, logs).") var dir: String = "campaign-run"
        @Option(help: "The shipped configuration the drivers' files are made from.") var etc: String = "etc"
        @Option(parsing: .upToNextOption, help: "chip=count, e.g. rtl8139=40 es1371=20 (chips nucleus-sim models).")
        var devices: [String] = ["rtl8139=24", "es1371=12", "es1370=12"]
        @Option(help: ArgumentHelp(
            "SIGKILL drivermgrd itself every N faults (0: never).",
            discussion: "drivermgrd then runs with --fd-store under fdstore (systemd's Restart=always and fd store); each kill is a row of kind daemon-kill."))
        var daemonKillEvery: UInt64 = 0

        func run() throws {
            let bench = try SimBench(bin: bin, dir: dir, etc: etc, devices: try SimBench.parse(devices))
            bench.restartable = daemonKillEvery > 0
            defer { bench.stop() }
            bench.stopOnSignals()
            try bench.start()
            let kills = daemonKillEvery > 0 ? DaemonKills(every: daemonKillEvery) { bench.currentDaemonPID() } : nil
            let tally = try options.run(socket: bench.controlSocket, drivers: bench.drivers, daemonPID: bench.daemonPID,
                                        daemonKills: kills)
            if tally.daemonDown > 0 || !bench.daemonAlive { throw CampaignError("drivermgrd died; see \(dir)/drivermgrd.log") }
        }
    }

    /// A drivermgrd already running (the QEMU guest on drvnucleus.ko).
    struct Attach: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the campaign against a running drivermgrd (every driver with FaultInjection=yes).")
        @OptionGroup var options: RunOptions
        @Option(help: "drivermgrd's runtime directory.") var runtimeDir: String = ManagerInterface.defaultRuntimeDirectory
        @Option(parsing: .upToNextOption, help: "Drivers to inject into (default: every active one).") var drivers: [String] = []
        @Option(help: "drivermgrd's pid, to check it stays up.") var daemonPid: Int32?
        @Option(help: ArgumentHelp(
            "A file naming the drivers' own C functions, a symbol a line: the code mutations' targets.",
            discussion: "For a driver in C (a sliced driver's user half: `nm --defined-only` of its object); without it, the Swift module of the u-driver's $main."))
        var functionsFile: String?
        @Option(help: ArgumentHelp(
            "SIGKILL drivermgrd itself every N faults (0: never); needs --daemon-pid-file.",
            discussion: "drivermgrd must run with --fd-store under a restarter (systemd, or fdstore in the guest); each kill is a row of kind daemon-kill."))
        var daemonKillEvery: UInt64 = 0
        @Option(help: "The file the restarter writes drivermgrd's current pid to (fdstore's PIDFILE).")
        var daemonPidFile: String?

        func validate() throws {
            if daemonKillEvery > 0 && daemonPidFile == nil {
                throw ValidationError("--daemon-kill-every needs --daemon-pid-file: the pid changes at every restart")
            }
        }

        func run() throws {
            let socket = runtimeDir + "/" + ManagerInterface.socketName
            var c = try ManagerClient(path: socket)
            defer { c.close() }
            let list = try c.call(.list, as: ListReply.self, what: "list drivers").drivers
            let chosen = list.filter { drivers.isEmpty ? $0.state == .active : drivers.contains($0.name) }
            guard !chosen.isEmpty else { throw ValidationError("no driver to inject into") }
            var functions: [String] = []
            if let functionsFile {
                guard let text = try? String(contentsOfFile: functionsFile, encoding: .utf8) else {
                    throw ValidationError("--functions-file: cannot read \(functionsFile)")
                }
                functions = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !functions.isEmpty else { throw ValidationError("--functions-file: \(functionsFile) names no function") }
            }
            let targets = chosen.map { CampaignDriver(name: $0.name, driverClass: $0.driverClass, modules: [], functions: functions) }
            let kills = daemonKillEvery > 0 ? daemonPidFile.map { file in
                DaemonKills(every: daemonKillEvery) { Self.pid(in: file) }
            } : nil
            let tally = try options.run(socket: socket, drivers: targets, daemonPID: daemonPid, daemonKills: kills)
            if tally.daemonDown > 0 { throw CampaignError("drivermgrd died") }
        }

        /// The pid a restarter last wrote to `file`; nil while there is none.
        static func pid(in file: String) -> Int32? {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
            return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Reproducers (rows of earlier runs) injected again into a fresh
    /// nucleus-sim fleet: the regression test of a fault that was not
    /// recovered.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inject the faults of earlier rows again (same kind, same seed) on nucleus-sim and judge them.",
            discussion: "Exit status 1 when a target is missed, as for report.")
        @Argument(help: "JSONL files of rows to inject again.") var rows: [String]
        @Option(help: "Directory with the built binaries.") var bin: String
        @Option(help: "Scratch directory.") var dir: String = "campaign-replay"
        @Option(help: "The shipped configuration the drivers' files are made from.") var etc: String = "etc"
        @Option(help: "Where the new rows go (JSONL, appended).") var out: String = "replay.jsonl"
        @Option(help: "Milliseconds to watch for a failure after the exercise call.") var windowMs: Int = 600
        @Option(help: "The least share of manifested faults that must recover transparently, in percent.")
        var minTransparent: Double = 99.99

        func run() throws {
            var want: [FaultRecord] = []
            for r in rows { want += try CampaignReport.load(r) }
            guard !want.isEmpty else { print("nothing to replay"); return }
            // One device of every chip the rows name.
            let types = Set(want.map { CampaignReport.driverType($0.driver) })
            let chips = SimBench.chips.filter { types.contains($0.value.config) }.map { ($0.key, 1) }
            let bench = try SimBench(bin: bin, dir: dir, etc: etc, devices: chips)
            defer { bench.stop() }
            bench.stopOnSignals()
            try bench.start()
            let settings = CampaignRunner.Settings.replaying(want, socket: bench.controlSocket, drivers: bench.drivers,
                                                             window: .milliseconds(windowMs), daemonPID: bench.daemonPID,
                                                             injector: RunOptions.codeInjector())
            _ = try CampaignRunner(settings, jsonl: out).run()
            let report = CampaignReport(rows: try CampaignReport.load(out))
            print(report.markdown(), terminator: "")
            let (met, why) = report.targetsMet(minTransparentPercent: minTransparent)
            if !met {
                for w in why { print("target missed: \(w)") }
                // The rows behind the verdict, last, where a CI log's tail
                // still shows them (at most 20; the rest are in --reproducers).
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                for row in report.unrecovered.prefix(20) {
                    print("not transparent: " + String(decoding: (try? enc.encode(row)) ?? Data(), as: UTF8.self))
                }
                throw ExitCode(1)
            }
        }
    }

    /// Rows → tables, plots, and the targets' verdict.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sum up campaign rows: a table per driver and fault kind, CDF data and PNG plots.",
            discussion: "Exit status 1 when a target is missed (a manifested fault undetected, less than --min-transparent % transparent, silent corruption, loss, daemon down).")
        @Argument(help: "JSONL files of rows.") var rows: [String]
        @Option(help: "Write the Markdown tables here.") var markdown: String?
        @Option(help: "Write gnuplot data and PNGs here (gnuplot must be installed for the PNGs).") var plots: String?
        @Option(help: "Write the rows that were not recovered transparently here (JSONL reproducers).") var reproducers: String?
        @Option(help: ArgumentHelp("The least share of manifested faults that must recover transparently, in percent.",
                                   discussion: "99.99 (the campaign's target) unless set; a short run cannot resolve that."))
        var minTransparent: Double = 99.99
        @Option(help: ArgumentHelp(
            "DRIVER=FILE: echo requests lost on DRIVER's interface (lines 'lost SEQ SENT_USEC'); repeatable.",
            discussion: "Each loss is charged to the driver's fault whose window holds its send time (that fault is then not transparent); a loss outside every window misses a target."))
        var echoLosses: [String] = []

        func run() throws {
            var all: [FaultRecord] = []
            for r in rows { all += try CampaignReport.load(r) }
            var outside: Int?
            for arg in echoLosses {
                let losses = try EchoLosses.load(arg) { path in
                    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                }
                outside = (outside ?? 0) + losses.charge(&all).count
            }
            let report = CampaignReport(rows: all, echoLostOutside: outside)
            let md = report.markdown()
            print(md, terminator: "")
            if let markdown { try md.write(toFile: markdown, atomically: true, encoding: .utf8) }
            if let plots {
                try report.writePlotData(to: plots)
                try Plots.render(in: plots)
            }
            if let reproducers {
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                let text = try report.unrecovered.map { String(decoding: try enc.encode($0), as: UTF8.self) + "\n" }.joined()
                try text.write(toFile: reproducers, atomically: true, encoding: .utf8)
            }
            let (met, why) = report.targetsMet(minTransparentPercent: minTransparent)
            if !met {
                for w in why { print("target missed: \(w)") }
                // The rows behind the verdict, last, where a CI log's tail
                // still shows them (at most 20; the rest are in --reproducers).
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                for row in report.unrecovered.prefix(20) {
                    print("not transparent: " + String(decoding: (try? enc.encode(row)) ?? Data(), as: UTF8.self))
                }
                throw ExitCode(1)
            }
        }
    }
}
