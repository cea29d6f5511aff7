// SPDX-License-Identifier: GPL-2.0
import Foundation
import DeviceClasses
import Supervisor
import XPC

/// A problem in a configuration file, with its place: `file:line: what`.
struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    let file: String
    let line: Int
    let message: String
    var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// A systemd time span: "250ms", "1s", "2min 30s", "0"; a bare number is seconds.
enum TimeSpan {
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("usec", 1e-6), ("us", 1e-6), ("msec", 1e-3), ("ms", 1e-3),
                                         ("seconds", 1), ("second", 1), ("sec", 1), ("s", 1),
                                         ("minutes", 60), ("minute", 60), ("min", 60), ("m", 60),
                                         ("hours", 3600), ("hour", 3600), ("hr", 3600), ("h", 3600)]
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { return nil }
        var total = 0.0
        for p in parts {
            let s = String(p)
            let digits = s.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let v = Double(digits) else { return nil }
            let unit = String(s.dropFirst(digits.count))
            if unit.isEmpty { total += v; continue }
            guard let f = units.first(where: { $0.0 == unit })?.1 else { return nil }
            total += v * f
        }
        guard total.isFinite, total >= 0, total < 86400 * 365 else { return nil }
        return .microseconds(Int64((total * 1e6).rounded()))
    }

    static func micros(_ d: Duration) -> UInt64 {
        UInt64(max(0, d.components.seconds)) * 1_000_000 + UInt64(max(0, d.components.attoseconds) / 1_000_000_000_000)
    }
}

/// One `[Section]` `Key=Value` file, systemd style, keeping line numbers.
struct INIFile {
    struct Entry { let section: String; let key: String; let value: String; let line: Int }
    let path: String
    let entries: [Entry]

    /// Parses `text`; syntax errors are fatal for the file.
    init(path: String, text: String) throws {
        self.path = path
        var section: String?
        var out: [Entry] = []
        // Lines end at each "\n" scalar, an optional "\r" before it
        // included, as systemd's read_line() has it: splitting the String
        // by Character would keep "\r\n" (one grapheme) and a "\n" that
        // a combining mark follows inside one line.
        for (i, scalars) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var raw = Substring(scalars)
            if raw.unicodeScalars.last == "\r" { raw.unicodeScalars.removeLast() }
            // " \t\r" and Unicode spaces at either end do not count (systemd
            // strips its WHITESPACE, "\r" included).
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let n = i + 1
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ConfigError(file: path, line: n, message: "Invalid section header '\(line)'")
                }
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError(file: path, line: n, message: "Missing '=', ignoring line '\(line)'")
            }
            guard let section else {
                throw ConfigError(file: path, line: n, message: "Assignment outside of section")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespacesAndNewlines)
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { throw ConfigError(file: path, line: n, message: "Missing key name before '='") }
            out.append(Entry(section: section, key: key, value: value, line: n))
        }
        entries = out
    }
}

/// A driver's configuration from drivers.d/NAME.conf and its drop-ins.
struct DriverConfig: Sendable, Equatable {
    var name: String
    /// The device class (`Class=`), from the registry.
    var deviceClass: DeviceClassDescriptor
    /// `Match=`: the bus and its two ids (PCI vendor:device, serio type:proto).
    var bus: DeviceBus = .pci
    var vendor: UInt16
    var device: UInt16
    var executable: String
    /// Deadline of an upcall (XPCTimeoutSec=, default 250 ms).
    var xpcTimeout: Duration = .milliseconds(250)
    /// Deadline of HELLO and PROBE, which touch the whole chip.
    var probeTimeout: Duration = .seconds(5)
    /// Idle ping period (HeartbeatSec=, default 200 ms; 0 = off). A ping is
    /// answered within XPCTimeoutSec or the driver has failed.
    var heartbeat: Duration = .milliseconds(200)
    /// The longest ping period an idle driver backs off to (HeartbeatMaxSec=,
    /// default 5 s): each ping that finds the driver idle since the last
    /// doubles the period up to this, and any upcall or downcall brings it
    /// back to HeartbeatSec. A busy driver's calls have deadlines of their
    /// own; an idle one's hang is found within this + XPCTimeoutSec, or by
    /// the deadline of the next call made to it. Equal to HeartbeatSec (or
    /// less): no back-off.
    var heartbeatMax: Duration = .seconds(5)
    /// Restart=, RestartSec=, StartLimitBurst=, StartLimitIntervalSec=.
    var restart = RestartPolicy()
    /// FaultInjection=: whether `drvctl inject` is allowed.
    var faultInjection = false
    /// Standby=: keep one idle u-driver spawned, so recovery skips process
    /// start-up (default yes).
    var standby = true
    /// VerifySettings=: after every setter the u-driver acknowledged, read
    /// the device back through the nucleus and compare it with the shadow;
    /// a difference is a `divergence` failure (default yes).
    var verifySettings = true
    /// ResetAfter=: after this many recovery attempts in a row failed to
    /// adopt the running device (PROBE with REATTACH, then the replay),
    /// the next one resets it: a fresh PROBE (the chip's own reset), then
    /// the shadow's configuration replayed (default 2; 0 = never).
    var resetAfter = 2
    /// ReaddAfter=: after this many recovery attempts in a row failed
    /// (those that adopted and those that reset the device), each next one
    /// first has the nucleus re-add the device (DEVICE_READD: the PCI
    /// function disabled, its config space restored, enabled again, the
    /// class's registrations kept), then resets it as ResetAfter= does
    /// (default 3; 0 = never).
    var readdAfter = 3
    /// RequestRetries=: a request in flight when its u-driver failed goes
    /// to the next u-driver, at most this many times; one in flight at
    /// more failures than that (a request that fails every u-driver it
    /// reaches) is answered EIO instead of failing the driver until its
    /// start limit (default 2).
    var requestRetries = 2
    /// [Sandbox] Sandbox=: confine the u-driver (default yes).
    var sandboxed = true
    /// DynamicUser=: run the u-drivers under a uid of their own, picked
    /// from a reserved range for this driver (``DynamicUIDs``), with no
    /// account. Default yes, unless `User=` names an account.
    var dynamicUser = true
    /// User=: the account u-drivers run as when DynamicUser=no (default
    /// `drivermgr`); setting it without DynamicUser= turns DynamicUser off.
    var user = "drivermgr"
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    /// SystemCallFilter=: stage 2's allowlist (`@udriver` plus extra names).
    var syscalls: [String] = SyscallSets.steadyState
    /// Stage 1 BPF, compiled once at load.
    var stage1: [UInt8] = []
    /// MemoryMax=: RLIMIT_AS in bytes.
    var memoryMax: UInt64 = 4 << 30
    /// PrivateNamespaces=: new mount, IPC, network, UTS and PID namespaces.
    var privateNamespaces = true
    /// Bind=: the PCI functions drivermgrd hands to drvnucleus when the
    /// driver starts, and gives back on `drvctl unbind` or when a reload
    /// removes the driver (default no).
    var bind: BindSetting = .no
    /// ReleaseOnExit=: when drivermgrd exits (`systemctl stop`), give the
    /// Bind= functions back to the stock driver, as `drvctl unbind` does,
    /// instead of leaving them with drvnucleus, quiesced (default no).
    var releaseOnExit = false
    /// The file, then its drop-ins, in the order applied.
    var files: [String]
    /// Set by `drvctl debug` on the running configuration, never by a
    /// file: the tool the u-driver runs under (``debugging(_:)``).
    var debug: DebugRun?
    /// A template (`drivers.d/NAME@.conf`, as systemd's `NAME@.service`):
    /// not a driver itself; every device it matches gets an instance of
    /// its own, `NAME@SLOT` (``instance(for:)``).
    var template = false
    /// An instance of a template: the template's name and the device's
    /// PCI address it was made for (it takes no other device).
    var instanceOf: TemplateInstance?

    /// The template's instance for the device at `slot`: named `NAME@SLOT`,
    /// its Bind= narrowed to that one function.
    func instance(for slot: String) -> DriverConfig {
        var c = self
        c.template = false
        c.name = "\(name)@\(slot)"
        c.instanceOf = TemplateInstance(template: name, slot: slot)
        c.bind = bind.claims(slot) ? .slots([slot]) : .no
        return c
    }

    /// Whether this driver may take the device at `slot` (an instance takes
    /// only its own).
    func accepts(slot: String) -> Bool { instanceOf.map { $0.slot == slot } ?? true }

    var match: String { bus.match(vendor, device) }

    /// How long a u-driver asked to exit gets before it is killed: longer
    /// under a slow tool (valgrind prints its summary on the way out).
    var shutdownGrace: Duration {
        if case .scaled(let n)? = debug?.tool.deadlines { return .milliseconds(500) * n }
        return .milliseconds(500)
    }

    /// This configuration with the u-driver run under `run.tool`: the
    /// sandbox widened and the deadlines relaxed exactly as the tool's
    /// table entry says, no standby (it would be spawned without the tool).
    func debugging(_ run: DebugRun) throws -> DriverConfig {
        var c = self
        c.debug = run
        c.standby = false
        let tool = run.tool
        switch tool.deadlines {
        case .off:
            c.xpcTimeout = DebugRun.noDeadline
            c.probeTimeout = DebugRun.noDeadline
            c.heartbeat = .zero
        case .scaled(let n):
            c.xpcTimeout = xpcTimeout * n
            c.probeTimeout = probeTimeout * n
        }
        if tool.liftsLimits { c.memoryMax = 0 }
        if sandboxed, tool.mode == .wrap {
            c.stage1 = try compileStage1(Array(Set(syscalls + SyscallSets.startup + tool.stage1Syscalls)).sorted())
        }
        return c
    }
}

/// What makes a driver an instance of a template: the template's name and
/// the PCI address of the device the instance was made for.
struct TemplateInstance: Sendable, Equatable {
    let template: String
    let slot: String
}

/// A u-driver run under a debugging tool (`drvctl debug`).
struct DebugRun: Sendable, Equatable {
    let tool: DebugTool
    /// The tool's program, found in PATH.
    let program: String
    /// Where a debugger connects (attach tools): a socket path or
    /// 127.0.0.1:PORT.
    let endpoint: String?
    /// "Deadlines off": long enough for any breakpoint, short of forever
    /// so that a forgotten session still ends in a report.
    static let noDeadline: Duration = .seconds(86_400)
}

/// Reads drivers.d: every `*.conf` file plus `NAME.conf.d/*.conf` drop-ins
/// (applied in name order, later keys win). A bad file yields its errors and
/// no driver; the other files are unaffected.
struct ConfigLoader {
    /// Recognised keys per section; anything else gets a warning, as systemd does.
    static let known: [String: Set<String>] = [
        "Driver": ["Name", "Class", "Match", "Executable", "Bind", "ReleaseOnExit"],
        "Sandbox": ["Sandbox", "DynamicUser", "User", "SystemCallFilter", "MemoryMax", "PrivateNamespaces"],
        "Recovery": ["XPCTimeoutSec", "ProbeTimeoutSec", "HeartbeatSec", "HeartbeatMaxSec", "Restart", "RestartSec", "RestartMaxDelaySec",
                     "StartLimitBurst", "StartLimitIntervalSec", "FaultInjection", "Standby",
                     "VerifySettings", "ResetAfter", "ReaddAfter", "RequestRetries"],
    ]

    struct Result {
        var drivers: [DriverConfig] = []
        var errors: [ConfigError] = []
        var warnings: [ConfigError] = []
    }

    /// Loads every driver in `directory/drivers.d`. Relative `Executable=`
    /// names resolve against `driverDirectory`.
    static func load(directory: String, driverDirectory: String) -> Result {
        load(directories: [directory], driverDirectory: driverDirectory)
    }

    /// Loads every driver of a search path, highest priority first (as
    /// systemd's unit search path: /etc before /usr/local/lib before
    /// /usr/lib):
    /// - `NAME.conf` in the first directory that has it is the driver's
    ///   file; one there that is a symlink to /dev/null masks the driver
    ///   (no driver of that name, whatever lower directories ship);
    /// - drop-ins `NAME.conf.d/*.conf` come from every directory, in name
    ///   order, a name in a higher directory hiding the same name in a lower
    ///   one, so an admin's /etc drop-in amends a packaged /usr/lib file.
    static func load(directories: [String], driverDirectory: String) -> Result {
        var result = Result()
        let fm = FileManager.default
        var listed: [(dir: String, names: [String])] = []
        for d in directories {
            let dir = (d as NSString).appendingPathComponent("drivers.d")
            if let names = try? fm.contentsOfDirectory(atPath: dir) { listed.append((dir, names)) }
        }
        guard !listed.isEmpty else {
            let where_ = directories.map { ($0 as NSString).appendingPathComponent("drivers.d") }.joined(separator: ", ")
            result.errors.append(ConfigError(file: where_, line: 0, message: "Failed to read directory"))
            return result
        }
        // The winning file of each driver, in the order of its name.
        var mains: [String: String] = [:]
        for (dir, names) in listed {
            for file in names where file.hasSuffix(".conf") && mains[file] == nil {
                mains[file] = (dir as NSString).appendingPathComponent(file)
            }
        }
        var seen: [String: String] = [:]
        for file in mains.keys.sorted() {
            guard let path = mains[file] else { continue }
            if (try? fm.destinationOfSymbolicLink(atPath: path)) == "/dev/null" { continue }
            var drops: [String: String] = [:]
            for (dir, _) in listed {
                let dropDir = (dir as NSString).appendingPathComponent(file + ".d")
                for d in (try? fm.contentsOfDirectory(atPath: dropDir)) ?? [] where d.hasSuffix(".conf") && drops[d] == nil {
                    drops[d] = (dropDir as NSString).appendingPathComponent(d)
                }
            }
            let files = [path] + drops.keys.sorted().compactMap { drops[$0] }
                .filter { (try? fm.destinationOfSymbolicLink(atPath: $0)) != "/dev/null" }
            switch parse(files: files, defaultName: String(file.dropLast(5)), driverDirectory: driverDirectory) {
            case .success(let (cfg, warnings)):
                result.warnings += warnings
                if let other = seen[cfg.name] {
                    result.errors.append(ConfigError(file: path, line: 0, message: "Name=\(cfg.name) already defined in \(other), skipping"))
                    continue
                }
                seen[cfg.name] = path
                result.drivers.append(cfg)
            case .failure(let e):
                result.errors.append(e)
            }
        }
        return result
    }

    /// Parses one driver from its file and drop-ins.
    static func parse(files: [String], defaultName: String, driverDirectory: String)
        -> Swift.Result<(DriverConfig, [ConfigError]), ConfigError>
    {
        var warnings: [ConfigError] = []
        var values: [String: (String, String, Int)] = [:] // "Section.Key" -> (value, file, line)
        for f in files {
            guard let data = FileManager.default.contents(atPath: f), let text = String(data: data, encoding: .utf8) else {
                return .failure(ConfigError(file: f, line: 0, message: "Failed to read file"))
            }
            let ini: INIFile
            do { ini = try INIFile(path: f, text: text) } catch let e as ConfigError { return .failure(e) } catch {
                return .failure(ConfigError(file: f, line: 0, message: "\(error)"))
            }
            for e in ini.entries {
                guard let keys = known[e.section] else {
                    warnings.append(ConfigError(file: f, line: e.line, message: "Unknown section '\(e.section)', ignoring"))
                    continue
                }
                guard keys.contains(e.key) else {
                    warnings.append(ConfigError(file: f, line: e.line, message: "Unknown key name '\(e.key)' in section '\(e.section)', ignoring"))
                    continue
                }
                values["\(e.section).\(e.key)"] = (e.value, f, e.line)
            }
        }
        func require(_ k: String) -> Swift.Result<(String, String, Int), ConfigError> {
            guard let v = values[k] else {
                let parts = k.split(separator: ".")
                return .failure(ConfigError(file: files[0], line: 0, message: "Missing \(parts[1])= in [\(parts[0])]"))
            }
            return .success(v)
        }
        // NAME@.conf: a template, instantiated per matching device.
        let template = defaultName.hasSuffix("@")
        let name = values["Driver.Name"]?.0 ?? (template ? String(defaultName.dropLast()) : defaultName)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.count <= 31 else {
            let (_, f, l) = values["Driver.Name"] ?? ("", files[0], 0)
            return .failure(ConfigError(file: f, line: l, message: "Invalid Name=\(name): letters, digits, '-' and '_' only, at most 31"))
        }
        let cls: DeviceClassDescriptor
        switch require("Driver.Class") {
        case .failure(let e): return .failure(e)
        case .success(let (v, f, l)):
            guard let c = DeviceClasses.named(v) else {
                return .failure(ConfigError(file: f, line: l, message: "Invalid Class=\(v): expected one of \(DeviceClasses.names)"))
            }
            cls = c
        }
        var vendor: UInt16 = 0, device: UInt16 = 0, bus = DeviceBus.pci
        switch require("Driver.Match") {
        case .failure(let e): return .failure(e)
        case .success(let (v, f, l)):
            guard let m = DeviceBus.parseMatch(v) else {
                return .failure(ConfigError(file: f, line: l, message: "Invalid Match=\(v): expected \(DeviceBus.matchForms) (hex)"))
            }
            (bus, vendor, device) = (m.bus, m.first, m.second)
        }
        var exe: String
        switch require("Driver.Executable") {
        case .failure(let e): return .failure(e)
        case .success(let (v, f, l)):
            guard !v.isEmpty else { return .failure(ConfigError(file: f, line: l, message: "Executable= is empty")) }
            exe = v
        }
        if !exe.hasPrefix("/") { exe = (driverDirectory as NSString).appendingPathComponent(exe) }
        var cfg = DriverConfig(name: name, deviceClass: cls, bus: bus, vendor: vendor, device: device, executable: exe, files: files)
        cfg.template = template
        if let (v, f, l) = values["Driver.Bind"] {
            guard let b = BindSetting(v, bus: bus) else {
                let example = bus == .serio ? "serio ports such as serio1" : "PCI addresses such as 0000:00:04.0"
                return .failure(ConfigError(file: f, line: l, message: "Invalid Bind=\(v): expected no, yes, or \(example)"))
            }
            cfg.bind = b
        }
        if let (v, f, l) = values["Driver.ReleaseOnExit"] {
            guard let on = yesNo(v) else {
                return .failure(ConfigError(file: f, line: l, message: "Invalid ReleaseOnExit=\(v): expected yes or no"))
            }
            cfg.releaseOnExit = on
        }
        for (key, keyPath) in [("Recovery.XPCTimeoutSec", \DriverConfig.xpcTimeout), ("Recovery.ProbeTimeoutSec", \DriverConfig.probeTimeout)] {
            guard let (v, f, l) = values[key] else { continue }
            guard let d = TimeSpan.parse(v), d > .zero else {
                let k = key.split(separator: ".")[1]
                return .failure(ConfigError(file: f, line: l, message: "Invalid \(k)=\(v): expected a time span such as 250ms or 2s"))
            }
            cfg[keyPath: keyPath] = d
        }
        // Each key: parse its value or name the file and line it came from.
        for key in ["HeartbeatSec", "HeartbeatMaxSec", "Restart", "RestartSec", "RestartMaxDelaySec", "StartLimitBurst", "StartLimitIntervalSec",
                    "FaultInjection", "Standby", "VerifySettings", "ResetAfter", "ReaddAfter", "RequestRetries"] {
            guard let (v, f, l) = values["Recovery.\(key)"] else { continue }
            var problem: String?
            switch key {
            case "HeartbeatSec":
                if let d = TimeSpan.parse(v) { cfg.heartbeat = d } else { problem = "expected a time span, 0 to disable" }
            case "HeartbeatMaxSec":
                if let d = TimeSpan.parse(v) { cfg.heartbeatMax = d } else { problem = "expected a time span such as 5s" }
            case "Restart":
                if let m = RestartPolicy.Mode(rawValue: v) { cfg.restart.mode = m } else { problem = "expected no, on-failure or always" }
            case "RestartSec":
                if let d = TimeSpan.parse(v) { cfg.restart.restartDelay = d } else { problem = "expected a time span such as 0 or 100ms" }
            case "RestartMaxDelaySec":
                if let d = TimeSpan.parse(v) { cfg.restart.backoffCap = d } else { problem = "expected a time span; 0 disables back-off" }
            case "StartLimitBurst":
                if let n = Int(v), n >= 1, n <= 100_000 { cfg.restart.burst = n } else { problem = "expected a count of 1 or more" }
            case "ResetAfter":
                if let n = Int(v), n >= 0, n <= 1000 { cfg.resetAfter = n } else { problem = "expected a count of attempts, 0 to never reset" }
            case "ReaddAfter":
                if let n = Int(v), n >= 0, n <= 1000 { cfg.readdAfter = n } else { problem = "expected a count of attempts, 0 to never re-add" }
            case "RequestRetries":
                if let n = Int(v), n >= 0, n <= 1000 { cfg.requestRetries = n } else { problem = "expected a count of retries, 0 to never send a request again" }
            case "StartLimitIntervalSec":
                if let d = TimeSpan.parse(v), d > .zero { cfg.restart.interval = d } else { problem = "expected a time span above 0" }
            default: // FaultInjection, Standby, VerifySettings
                if let on = yesNo(v) {
                    switch key {
                    case "Standby": cfg.standby = on
                    case "VerifySettings": cfg.verifySettings = on
                    default: cfg.faultInjection = on
                    }
                } else {
                    problem = "expected yes or no"
                }
            }
            if let problem { return .failure(ConfigError(file: f, line: l, message: "Invalid \(key)=\(v): \(problem)")) }
        }
        if let problem = sandbox(&cfg, values, files[0]) { return .failure(problem) }
        return .success((cfg, warnings))
    }

    static func yesNo(_ v: String) -> Bool? {
        switch v.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: return nil
        }
    }

    /// [Sandbox]: user, syscall allowlist, memory, namespaces; stage 1 compiled here.
    static func sandbox(_ cfg: inout DriverConfig, _ values: [String: (String, String, Int)], _ file: String) -> ConfigError? {
        func bad(_ key: String, _ why: String) -> ConfigError {
            let (v, f, l) = values["Sandbox.\(key)"] ?? ("", file, 0)
            return ConfigError(file: f, line: l, message: "Invalid \(key)=\(v): \(why)")
        }
        if let (v, _, _) = values["Sandbox.Sandbox"] {
            guard let on = yesNo(v) else { return bad("Sandbox", "expected yes or no") }
            cfg.sandboxed = on
        }
        if let (v, _, _) = values["Sandbox.PrivateNamespaces"] {
            guard let on = yesNo(v) else { return bad("PrivateNamespaces", "expected yes or no") }
            cfg.privateNamespaces = on
        }
        if let (v, _, _) = values["Sandbox.MemoryMax"] {
            guard let n = ByteSize.parse(v), n >= 64 << 20 else { return bad("MemoryMax", "expected a size of 64M or more, e.g. 512M") }
            cfg.memoryMax = n
        }
        if let (v, _, _) = values["Sandbox.SystemCallFilter"] {
            var names: [String] = []
            for word in v.split(separator: " ").map(String.init) {
                if let set = SyscallSets.named[word] { names += set; continue }
                guard SyscallSets.isKnown(word) else { return bad("SystemCallFilter", "unknown system call or set \(word)") }
                names.append(word)
            }
            cfg.syscalls = names
        }
        if let (v, _, _) = values["Sandbox.User"] { cfg.user = v }
        // User= alone names the account; DynamicUser= given says it outright.
        cfg.dynamicUser = values["Sandbox.User"] == nil
        if let (v, _, _) = values["Sandbox.DynamicUser"] {
            guard let on = yesNo(v) else { return bad("DynamicUser", "expected yes or no") }
            cfg.dynamicUser = on
        }
        guard cfg.sandboxed else { return nil }
        do {
            cfg.stage1 = try compileStage1(Array(Set(cfg.syscalls + SyscallSets.startup)).sorted())
        } catch {
            return bad("SystemCallFilter", "\(error)")
        }
        if cfg.dynamicUser { return nil }
        guard let u = lookupUser(cfg.user) else {
            let (_, f, l) = values["Sandbox.User"] ?? ("", file, 0)
            return ConfigError(file: f, line: l, message: "User=\(cfg.user): no such user (make run creates drivermgr; or useradd --system \(cfg.user))")
        }
        guard u.uid != 0 else { return bad("User", "u-drivers never run as root") }
        (cfg.uid, cfg.gid) = u
        return nil
    }
}

/// "512M", "1G", "65536": systemd-style sizes (1024-based).
enum ByteSize {
    static func parse(_ s: String) -> UInt64? {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = s.last else { return nil }
        if let u = units[last] { return UInt64(s.dropLast()).flatMap { $0.multipliedReportingOverflow(by: u).overflow ? nil : $0 * u } }
        return UInt64(s)
    }
}

/// Where drivermgrd looks for drivermgrd.conf and drivers.d, highest
/// priority first: the admin's /etc, a source install's /usr/local/lib,
/// the package's /usr/lib (systemd's own search path has the same shape).
enum ConfigSearchPath {
    static let defaults = ["/etc/drivermgrd", "/usr/local/lib/drivermgrd", "/usr/lib/drivermgrd"]
}
