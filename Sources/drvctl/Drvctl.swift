// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import ControlInterface
import Foundation

/// JSON output choice, as systemd's `--json=`.
enum JSONMode: String, ExpressibleByArgument, CaseIterable {
    case pretty, short, off
}

/// Options every verb shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Print JSON: pretty, short or off. A bare --json means pretty.")
    var json: JSONMode = .off

    @Flag(name: .customLong("no-legend"), help: "Do not print the column headers and the footer.")
    var noLegend = false

    @Flag(name: .customLong("no-pager"), help: "Accepted as systemctl does; drvctl never pages.")
    var noPager = false

    @Option(name: .customLong("runtime-dir"), help: "drivermgrd's runtime directory.")
    var runtimeDirectory = ProcessInfo.processInfo.environment["DRIVERMGRD_RUNTIME_DIR"] ?? ManagerInterface.defaultRuntimeDirectory

    var socketPath: String { (runtimeDirectory as NSString).appendingPathComponent(ManagerInterface.socketName) }

    func client() throws -> ManagerClient { try ManagerClient(path: socketPath) }

    /// Colour, as systemd decides it: on a terminal, unless NO_COLOR is set
    /// or TERM is unset or dumb (a serial console, a script's pty).
    var color: Bool {
        let env = ProcessInfo.processInfo.environment
        guard let term = env["TERM"], term != "dumb" else { return false }
        return isatty(1) != 0 && env["NO_COLOR"] == nil
    }

    func emit<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = json == .pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        print(String(decoding: try e.encode(value), as: UTF8.self))
    }
}

/// Runs `body`, turning a failure into its message on stderr and its exit
/// code. `notFound`: the code for an unknown driver, as systemctl has it for
/// the verb (5 for a verb that acts, 4 for `status`).
func runVerb(notFound: Int32 = 5, _ body: () throws -> Void) throws {
    do { try body() } catch let f as ManagerClientError {
        FileHandle.standardError.write(Data((f.message + "\n").utf8))
        throw ExitCode(f.exitCode == 5 ? notFound : f.exitCode)
    }
}

@main
struct Drvctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drvctl",
        abstract: "Control drivermgrd and its user-space drivers.",
        discussion: "Exit status, as systemctl's: 0 ok, 1 failed, 2 invalid argument, 3 not active (status, is-active), "
            + "4 permission denied or no such driver (status), 5 no such driver.",
        version: DrivermgrVersion.string,
        subcommands: [List.self, Status.self, Show.self, IsActive.self, IsFailed.self, Start.self, Stop.self, Unbind.self, Restart.self,
                      Update.self, Debug.self, Call.self, History.self, Monitor.self, Inject.self, ResetFailed.self, Verify.self],
        defaultSubcommand: List.self)

    /// Accepts what systemctl users type: a bare `--json` means
    /// `--json=pretty`, and options may come before the verb.
    static func main() {
        var args = CommandLine.arguments.dropFirst().map { $0 == "--json" ? "--json=pretty" : $0 }
        let verbs = Set(configuration.subcommands.compactMap { $0.configuration.commandName ?? String(describing: $0).lowercased() })
        if let v = args.firstIndex(where: { verbs.contains($0) }), v > 0,
           !args[..<v].contains(where: { $0 == "-h" || $0 == "--help" }) {
            let verb = args.remove(at: v)
            args.insert(verb, at: 0)
        }
        do {
            var cmd = try parseAsRoot(args)
            try cmd.run()
        } catch {
            // argument-parser's usage errors exit 64 (EX_USAGE); systemctl's
            // exit 2.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List drivers: name, class, device, state, pid, uptime, restarts.")
        @OptionGroup var common: CommonOptions
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.list, as: ListReply.self, what: "list drivers")
                if common.json != .off { try common.emit(r) } else {
                    print(Render.list(r.drivers, legend: !common.noLegend, color: common.color), terminator: "")
                }
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show drivers' details and the device state their u-driver configured.",
            discussion: "Exit status 3 when a driver shown is not active, 4 when one is unknown (as systemctl status).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver names; all if none.") var names: [String] = []
        func run() throws {
            var allActive = true
            try runVerb(notFound: 4) {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.status, ["names": .array(names.map { .string($0) })], as: StatusReply.self,
                                   what: "get status of \(names.isEmpty ? "drivers" : names.joined(separator: " "))")
                allActive = r.drivers.allSatisfy { $0.summary.state == .active }
                if common.json != .off { try common.emit(r) } else {
                    print(r.drivers.map { Render.status($0, color: common.color) }.joined(separator: "\n"), terminator: "")
                }
            }
            if !allActive { throw ExitCode(3) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show drivers' properties as KEY=VALUE lines, as systemctl show does.",
            discussion: "Properties: " + Render.propertyNames.joined(separator: ", ") + ".")
        @OptionGroup var common: CommonOptions
        @Option(name: [.customShort("p"), .customLong("property")],
                help: "Only this property (repeat it, or separate names by commas).")
        var property: [String] = []
        @Flag(name: .customLong("value"), help: "Print only the values, not the KEY= part.")
        var valueOnly = false
        @Argument(help: "Driver names; all if none.") var names: [String] = []
        func validate() throws {
            let wanted = property.flatMap { $0.split(separator: ",").map(String.init) }
            if let bad = wanted.first(where: { !Render.propertyNames.contains($0) }) {
                throw ValidationError("no property \(bad); known: " + Render.propertyNames.joined(separator: ", "))
            }
        }
        func run() throws {
            let wanted = Set(property.flatMap { $0.split(separator: ",").map(String.init) })
            try runVerb(notFound: 4) {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.status, ["names": .array(names.map { .string($0) })], as: StatusReply.self,
                                   what: "show \(names.isEmpty ? "drivers" : names.joined(separator: " "))")
                let blocks = r.drivers.map { s in
                    Render.properties(s).filter { wanted.isEmpty || wanted.contains($0.0) }
                        .map { valueOnly ? $0.1 : "\($0.0)=\($0.1)" }.joined(separator: "\n")
                }
                print(blocks.joined(separator: "\n\n"))
            }
        }
    }

    struct IsActive: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "is-active",
            abstract: "Print each driver's state; exit 0 if any is active, 3 otherwise (as systemctl is-active).")
        @OptionGroup var common: CommonOptions
        @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print nothing; only the exit status.") var quiet = false
        @Argument(help: "Driver names.") var names: [String]
        func run() throws { try stateQuery(names, common, quiet: quiet, matches: { $0 == .active }, otherwise: 3) }
    }

    struct IsFailed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "is-failed",
            abstract: "Print each driver's state; exit 0 if any has failed, 1 otherwise (as systemctl is-failed).")
        @OptionGroup var common: CommonOptions
        @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Print nothing; only the exit status.") var quiet = false
        @Argument(help: "Driver names.") var names: [String]
        func run() throws { try stateQuery(names, common, quiet: quiet, matches: { $0 == .failed }, otherwise: 1) }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a stopped or failed driver.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        func run() throws { try stateVerb(.start, "start", name, common) }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a driver's u-driver.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        func run() throws { try stateVerb(.stop, "stop", name, common) }
    }

    struct Unbind: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a driver and give its device back to the stock driver.",
            discussion: "The device leaves drvnucleus and its driver_override is cleared, so the kernel binds the driver it would without drivermgr (if its module is loaded). `drvctl start` takes it again when the driver has Bind=. drvnucleus.ko only.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.unbind, ["name": .string(name)], as: UnbindReply.self, what: "unbind \(name)")
                if common.json != .off { try common.emit(r) } else { print("\(r.device): \(r.driver ?? "no driver")") }
            }
        }
    }

    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restart drivers' u-drivers transparently (replay, no device reset).",
            discussion: "A running driver goes through the recovery path: a fresh u-driver adopts the running device and replays its state. A stopped or failed one is started.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver names.") var names: [String]
        func run() throws { for n in names { try stateVerb(.restart, "restart", n, common) } }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Swap a running driver's u-driver for another build, the device running.",
            discussion: "Requests queue while a fresh u-driver (of --executable, or the configured one again) is spawned, "
                + "answers HELLO in drivermgrd's protocol version, adopts the device and gets the driver's state replayed; "
                + "then the old one exits. If the new one is refused or fails, the old one serves again and the command fails "
                + "(exit 1) saying why. The executable holds until the next reload (Executable= wins) or daemon start.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        @Option(help: "The u-driver executable to run instead (default: the configured one).") var executable: String?
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                var params: [String: JSONValue] = ["name": .string(name)]
                if let executable {
                    // The daemon resolves nothing against drvctl's directory.
                    let abs = executable.hasPrefix("/") ? executable
                        : FileManager.default.currentDirectoryPath + "/" + executable
                    params["executable"] = .string(abs)
                }
                let r = try c.call(.update, params, as: UpdateReply.self, what: "update \(name)")
                if common.json != .off { try common.emit(r) } else {
                    let ms = String(format: "%.1f", Double(r.usec) / 1000)
                    print("\(name): pid \(r.previousPid) → \(r.pid), \(r.executable) (build \(r.buildId.isEmpty ? "unknown" : r.buildId)), "
                          + "serving after \(ms) ms; replayed \(r.replayedCalls) calls, \(r.queuedRequests) requests waited")
                }
            }
        }
    }

    struct Debug: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a driver's u-driver under gdb, valgrind or strace, the device running.",
            discussion: "The u-driver is swapped, as by update, for one under the tool; --off swaps back to the configured one. "
                + "--gdb: connect with gdb -ex 'target remote ENDPOINT' (the printed socket, yours, mode 0600; or "
                + "127.0.0.1:PORT with --tcp PORT, which any local user can reach); a gdbserver attaches for each connection "
                + "and detaches when gdb leaves. Upcall deadlines and heartbeats are off meanwhile: a breakpoint is not a hang. "
                + "--valgrind (memcheck) and --strace: their output goes to the journal (journalctl -u drivermgrd); "
                + "deadlines are scaled. What the sandbox gives each tool is printed, and shown by status. "
                + "A stop or a reload ends debugging.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        @Flag(help: "Attach gdb through gdbserver, per connection.") var gdb = false
        @Flag(help: "Run under valgrind's memcheck.") var valgrind = false
        @Flag(help: "Run under strace -f.") var strace = false
        @Flag(help: "Back to the configured u-driver.") var off = false
        @Option(help: ArgumentHelp("With --gdb: listen on 127.0.0.1:PORT instead of a Unix socket.", valueName: "port")) var tcp: Int?

        func validate() throws {
            let n = [gdb, valgrind, strace, off].filter { $0 }.count
            guard n == 1 else { throw ValidationError("exactly one of --gdb, --valgrind, --strace, --off") }
            if tcp != nil, !gdb { throw ValidationError("--tcp goes with --gdb") }
        }

        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let tool = gdb ? "gdb" : valgrind ? "valgrind" : strace ? "strace" : DebugParameters.off
                var params: [String: JSONValue] = ["name": .string(name), "tool": .string(tool)]
                if let tcp { params["tcpPort"] = .int(Int64(tcp)) }
                let r = try c.call(.debug, params, as: DebugReply.self, what: "debug \(name)")
                if common.json != .off { try common.emit(r) } else if r.tool == DebugParameters.off {
                    print("\(name): pid \(r.previousPid) → \(r.pid), the configured u-driver again")
                } else {
                    print("\(name): pid \(r.previousPid) → \(r.pid) under \(r.tool)")
                    if let e = r.endpoint { print("connect: gdb -ex 'target remote \(e)'") }
                    print("sandbox: \(r.widening)")
                }
            }
        }
    }

    struct Call: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an upcall to a u-driver.",
            discussion: "The operations are the driver's class's (a sound driver's mixer-get and mixer-set, a network "
                + "driver's set-mac, rx-mode, get-link and get-stats…). `drvctl call NAME \(CallParameters.listOperations)` "
                + "lists them with their arguments.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        @Argument(help: "Operation.") var operation: String
        @Argument(help: "Arguments.") var arguments: [String] = []
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.call, ["name": .string(name), "operation": .string(operation),
                                           "arguments": .array(arguments.map { .string($0) })],
                                   as: CallReply.self, what: "call \(operation) on \(name)")
                if common.json != .off { try common.emit(r) } else {
                    for k in r.result.keys.sorted() { print("\(k)=\(r.result[k] ?? "")") }
                }
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a driver's newest 64 events (kept across daemon restarts): starts, failures, recoveries, refusals.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.history, ["name": .string(name)], as: HistoryReply.self, what: "get history of \(name)")
                if common.json != .off { try common.emit(r) } else { print(Render.history(r.events, legend: !common.noLegend), terminator: "") }
            }
        }
    }

    struct Monitor: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print driver events as they happen, until interrupted.")
        @OptionGroup var common: CommonOptions
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                try c.stream(.monitor)
                while true {
                    let r = try c.receive()
                    if let e = r.error { throw ManagerClient.failure(e, r.parameters ?? [:], what: "monitor") }
                    let m = try VarlinkCodec.decode(MonitorReply.self, from: r.parameters ?? [:])
                    // Written unbuffered, so a pipe sees each event at once.
                    let line: String
                    if common.json != .off {
                        let e = JSONEncoder()
                        e.outputFormatting = [.sortedKeys]
                        line = String(decoding: try e.encode(m.event), as: UTF8.self) + "\n"
                    } else {
                        line = Render.history([m.event], legend: false)
                    }
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            }
        }
    }
}

extension Drvctl {
    struct Inject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a u-driver fail on purpose (needs FaultInjection=yes).",
            discussion: "Kinds: " + XPCFaultNames.all.joined(separator: ", ") + ".")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        @Argument(help: ArgumentHelp("The fault: " + XPCFaultNames.all.joined(separator: ", ") + ".")) var kind: String
        func run() throws {
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.inject, ["name": .string(name), "kind": .string(kind)], as: StateReply.self,
                                   what: "inject \(kind) into \(name)")
                if common.json != .off { try common.emit(r) }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the device holds the settings the driver's shadow recorded.",
            discussion: """
                The nucleus reads the device's registers back (the MAC, the receive mode, the PCM rate...) \
                and drivermgrd compares them with what its shadow says the u-driver programmed. \
                Exit status 1 when any differs: a silent corruption.
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        func run() throws {
            var diverged = false
            try runVerb {
                var c = try common.client()
                defer { c.close() }
                let r = try c.call(.verify, ["name": .string(name)], as: VerifyReply.self, what: "verify \(name)")
                diverged = !r.divergences.isEmpty
                if common.json != .off { try common.emit(r) } else if r.divergences.isEmpty {
                    print("\(name): the device holds the shadow's settings (\(r.compared) compared)")
                } else {
                    for d in r.divergences { print("\(name): \(d.setting): shadow has \(d.expected), device has \(d.found)") }
                }
            }
            if diverged { throw ExitCode(1) }
        }
    }

    struct ResetFailed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-failed",
            abstract: "Forget a failed driver's failures; it becomes stopped and can be started.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Driver name.") var name: String
        func run() throws { try stateVerb(.resetFailed, "reset-failed", name, common) }
    }
}

/// The fault names drvctl lists in its help; drivermgrd validates the
/// name against drvxpc.h's `enum drvxpc_fault` (drvctl does not link the
/// XPC module; drvctlTests checks the two lists agree).
enum XPCFaultNames {
    static let all = ["crash", "abort", "hang", "slow", "bad-param", "garbage", "memory", "syscall", "fork-bomb", "flood",
                      "lost-write"]
}

/// is-active / is-failed: each driver's state in systemctl's words (an
/// unknown or stopped driver is "inactive"), exit 0 if any `matches`.
private func stateQuery(_ names: [String], _ common: CommonOptions, quiet: Bool,
                        matches: (DriverState) -> Bool, otherwise: Int32) throws {
    var any = false
    try runVerb {
        var c = try common.client()
        defer { c.close() }
        let r = try c.call(.list, as: ListReply.self, what: "list drivers")
        for n in names {
            let state = r.drivers.first { $0.name == n }?.state
            if let state, matches(state) { any = true }
            if !quiet { print(state.map { $0 == .stopped ? "inactive" : $0.rawValue } ?? "inactive") }
        }
    }
    if !any { throw ExitCode(otherwise) }
}

private func stateVerb(_ m: ManagerInterface.Method, _ verb: String, _ name: String, _ common: CommonOptions) throws {
    try runVerb {
        var c = try common.client()
        defer { c.close() }
        let r = try c.call(m, ["name": .string(name)], as: StateReply.self, what: "\(verb) \(name)")
        if common.json != .off { try common.emit(r) }
    }
}
