// SPDX-License-Identifier: GPL-2.0
// The control interface io.drivermgr.Manager, declared once: drivermgrd
// serves it, drvctl calls it. Varlink framing: one JSON object per message,
// each terminated by a NUL byte, over a unix stream socket.

import Foundation

/// Names of the interface, its socket and its methods and errors.
public enum ManagerInterface {
    /// Interface name; method and error names start with it.
    public static let name = "io.drivermgr.Manager"
    /// Socket file name inside the runtime directory.
    public static let socketName = "io.drivermgr.Manager"
    /// Default runtime directory.
    public static let defaultRuntimeDirectory = "/run/drivermgrd"

    /// Methods, in the order drvctl's verbs mirror them.
    public enum Method: String, CaseIterable, Sendable {
        case list = "List", status = "Status", start = "Start", stop = "Stop", unbind = "Unbind", restart = "Restart"
        case call = "Call", history = "History", monitor = "Monitor"
        case inject = "Inject", resetFailed = "ResetFailed", verify = "Verify", update = "Update", debug = "Debug"
        /// Full name, e.g. `io.drivermgr.Manager.List`.
        public var fullName: String { "\(ManagerInterface.name).\(rawValue)" }
    }

    /// The interface's own errors (io.drivermgr.Manager.varlink declares
    /// their parameters). Varlink's standard ones are ``VarlinkService/ErrorName``.
    public enum ErrorName: String, CaseIterable, Sendable {
        /// No configured driver has that name.
        case driverNotFound = "DriverNotFound"
        /// A parameter of the right type whose value is not accepted.
        case invalidValue = "InvalidValue"
        /// The driver is not in a state that allows this.
        case badState = "BadState"
        /// The u-driver did not start.
        case startFailed = "StartFailed"
        /// The u-driver or nucleus refused the call.
        case callFailed = "CallFailed"
        /// Fault injection is not allowed by the driver's configuration.
        case injectionRefused = "InjectionRefused"
        /// An update was refused or rolled back.
        case updateFailed = "UpdateFailed"
        public var fullName: String { "\(ManagerInterface.name).\(rawValue)" }
    }
}

/// Life-cycle state of a driver instance.
public enum DriverState: String, Codable, Sendable, CaseIterable {
    /// Spawned, handshake or probe under way.
    case starting
    /// Probed and serving.
    case active
    /// Failed; the shadow answers for it while a fresh u-driver replays its state.
    case recovering
    /// Stopped by request or not started.
    case stopped
    /// Failed for good (restart policy exhausted or Restart=no); the nucleus
    /// quiesced the device. `drvctl reset-failed` or `drvctl start` bring it back.
    case failed
}

/// What kind of failure was detected; one spelling for logs, journald's
/// FAILURE_KIND= and the control interface.
public enum FailureKind: String, Codable, Sendable, CaseIterable {
    /// The u-driver died: a signal or an exit status.
    case crash
    /// An XPC call to the u-driver passed its deadline.
    case timeout
    /// No answer to an idle ping within HeartbeatSec.
    case heartbeat
    /// A reply or downcall outside its contract.
    case badParameter = "bad-parameter"
    /// A malformed message.
    case `protocol`
    /// A system call the sandbox forbids (named in the detail).
    case sandbox
    /// After a setter the u-driver acknowledged, the device read back
    /// differs from what the u-driver said it programmed (VerifySettings=).
    case divergence
    /// `drvctl restart`: not a failure, the same path.
    case restart
}

extension FailureKind {
    /// The kind as a Varlink enum value: Varlink's enum values follow its
    /// field-name syntax (`[A-Za-z](_?[A-Za-z0-9])*`), so `bad-parameter`
    /// travels as `bad_parameter`. Logs, journald and drvctl keep
    /// ``rawValue``.
    public var varlinkName: String { rawValue.replacingOccurrences(of: "-", with: "_") }

    /// Reads ``varlinkName`` (and ``rawValue``, as history files before
    /// the Varlink spelling hold it).
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let k = FailureKind.allCases.first(where: { $0.varlinkName == s || $0.rawValue == s }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "no failure kind \(s)")
        }
        self = k
    }

    /// Writes ``varlinkName``.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(varlinkName)
    }
}

/// One line of `drvctl list`.
public struct DriverSummary: Codable, Sendable, Equatable {
    /// Driver instance name from its configuration (`ens1371`).
    public var name: String
    /// The device class (`sound`, `net`, …).
    public var driverClass: String
    /// PCI slot of the device it drives, if one matched.
    public var device: String?
    public var state: DriverState
    /// The u-driver's pid while it runs.
    public var pid: Int32?
    /// Microseconds since the u-driver was spawned.
    public var uptimeUSec: UInt64?
    /// How many times a u-driver was started after the first (recoveries,
    /// restarts, starts after a failure).
    public var restarts: Int

    public init(name: String, driverClass: String, device: String?, state: DriverState, pid: Int32?,
                uptimeUSec: UInt64?, restarts: Int) {
        self.name = name
        self.driverClass = driverClass
        self.device = device
        self.state = state
        self.pid = pid
        self.uptimeUSec = uptimeUSec
        self.restarts = restarts
    }
}

/// One labelled line of a device's status, as `drvctl status` shows it.
public struct StatusField: Codable, Sendable, Equatable {
    /// `Rate`, `MAC`, `Rx mode`…
    public var label: String
    public var text: String
    public init(label: String, text: String) {
        self.label = label
        self.text = text
    }
}

/// The device state the u-driver configured, read back from the nucleus.
///
/// A few fields every class has, then the class's own: labelled lines for
/// people (``fields``) and values by key (``values``). In JSON the values
/// are one object (`"values":{"sampleRate":44100,…}`, Varlink's `object`:
/// the interface definition cannot list every class's keys), so a client
/// needs no knowledge of any class to show or parse them.
public struct DeviceState: Codable, Sendable, Equatable {
    /// PCI vendor:device, e.g. `1274:1371`.
    public var pciID: String?
    /// Chip the u-driver identified.
    public var chip: String?
    /// Card name (sound), interface name (net)… the nucleus registered.
    public var registeredAs: String?
    /// ``registeredAs`` in words, by the class (`card "…"`, `interface eth0`).
    public var registration: String?
    /// Whether the nucleus data path is running.
    public var dataPath: Bool?
    /// The class's lines, in display order.
    public var fields: [StatusField]
    /// The class's values by key (`sampleRate`, `rxMode`, `mac`…).
    public var values: [String: JSONValue]

    public init(pciID: String? = nil, chip: String? = nil, registeredAs: String? = nil, registration: String? = nil,
                dataPath: Bool? = nil, fields: [StatusField] = [], values: [String: JSONValue] = [:]) {
        self.pciID = pciID
        self.chip = chip
        self.registeredAs = registeredAs
        self.registration = registration
        self.dataPath = dataPath
        self.fields = fields
        self.values = values
    }

    /// Value `key` as an unsigned integer (counters, rates, registers).
    public func number(_ key: String) -> UInt64? {
        values[key]?.unsignedValue
    }
    /// Value `key` as a flag.
    public func flag(_ key: String) -> Bool? {
        guard case .bool(let b)? = values[key] else { return nil }
        return b
    }
    /// Value `key` as text.
    public func text(_ key: String) -> String? {
        guard case .string(let s)? = values[key] else { return nil }
        return s
    }
}

/// `drvctl status NAME`.
public struct DriverStatus: Codable, Sendable, Equatable {
    public var summary: DriverSummary
    /// Executable the daemon spawns.
    public var executable: String
    /// The running u-driver's GNU build-id (hex), from its HELLO reply.
    public var buildId: String?
    /// Configuration file (drop-ins listed after).
    public var configFiles: [String]
    /// `pci:VVVV:DDDD` as configured.
    public var match: String
    /// Deadline of an upcall, microseconds.
    public var xpcTimeoutUSec: UInt64
    /// Idle ping period, microseconds.
    public var heartbeatUSec: UInt64
    /// `Restart=` setting.
    public var restart: String
    /// The last failure, in words.
    public var lastFailure: String?
    /// Read back from the nucleus; nil while no device is bound.
    public var device: DeviceState?
    /// The tool the u-driver runs under (`drvctl debug`); nil: none.
    public var debug: DebugStatus?

    public init(summary: DriverSummary, executable: String, configFiles: [String], match: String,
                xpcTimeoutUSec: UInt64, heartbeatUSec: UInt64 = 0, restart: String = "on-failure",
                lastFailure: String?, device: DeviceState?, buildId: String? = nil, debug: DebugStatus? = nil) {
        self.debug = debug
        self.summary = summary
        self.executable = executable
        self.buildId = buildId
        self.configFiles = configFiles
        self.match = match
        self.xpcTimeoutUSec = xpcTimeoutUSec
        self.heartbeatUSec = heartbeatUSec
        self.restart = restart
        self.lastFailure = lastFailure
        self.device = device
    }
}

/// A u-driver under a debugging tool (`drvctl debug`).
public struct DebugStatus: Codable, Sendable, Equatable {
    /// `gdb`, `valgrind`, `strace`.
    public var tool: String
    /// The program run (gdbserver, valgrind, strace), with its path.
    public var program: String
    /// Where a debugger connects: a socket path, or 127.0.0.1:PORT.
    public var endpoint: String?
    /// Exactly what the sandbox and the deadlines give the tool.
    public var widening: String
    /// The u-driver a debugger is attached to now.
    public var attachedPid: Int?
    public init(tool: String, program: String, endpoint: String?, widening: String, attachedPid: Int?) {
        self.tool = tool
        self.program = program
        self.endpoint = endpoint
        self.widening = widening
        self.attachedPid = attachedPid
    }
}

/// Debug's parameters: the driver, the tool (`gdb`, `valgrind`, `strace`,
/// or `off`), and for gdb a TCP port on 127.0.0.1 instead of a socket.
public struct DebugParameters: Codable, Sendable {
    public var name: String
    public var tool: String
    public var tcpPort: Int?
    public init(name: String, tool: String, tcpPort: Int? = nil) {
        self.name = name
        self.tool = tool
        self.tcpPort = tcpPort
    }
    /// The tool that ends debugging.
    public static let off = "off"
}

/// Debug's answer: the swap (as Update's), the tool now, where a debugger
/// connects, and what the sandbox and deadlines give the tool.
public struct DebugReply: Codable, Sendable, Equatable {
    public var state: DriverState
    public var previousPid: Int
    public var pid: Int
    public var tool: String
    public var endpoint: String?
    public var widening: String
    public var usec: UInt64
    public init(state: DriverState, previousPid: Int, pid: Int, tool: String, endpoint: String?, widening: String, usec: UInt64) {
        self.state = state
        self.previousPid = previousPid
        self.pid = pid
        self.tool = tool
        self.endpoint = endpoint
        self.widening = widening
        self.usec = usec
    }
}

/// One entry of `drvctl history NAME`, and one event of `drvctl monitor`.
public struct DriverEvent: Codable, Sendable, Equatable {
    /// Wall-clock time, microseconds since the epoch.
    public var timeUSec: UInt64
    public var driver: String
    /// `spawned`, `active`, `exited`, `stopped`, `probe-failed`, `call`, `refused`.
    public var event: String
    /// Words: exit status, signal, op, refused field.
    public var detail: String
    public var state: DriverState
    /// For `failure` events.
    public var failureKind: FailureKind?
    /// For `recovered` events: microseconds from detection to serving again.
    public var recoveryUSec: UInt64?
    /// For `recovered` events: calls replayed from the shadow log.
    public var replayedCalls: Int?
    /// For `recovered` events: requests queued while recovering, then drained.
    public var queuedRequests: Int?
    /// For `recovered` events: where the time went, phase by phase, in order.
    public var phases: [RecoveryPhase]?

    public init(timeUSec: UInt64, driver: String, event: String, detail: String, state: DriverState,
                failureKind: FailureKind? = nil, recoveryUSec: UInt64? = nil, replayedCalls: Int? = nil,
                queuedRequests: Int? = nil, phases: [RecoveryPhase]? = nil) {
        self.phases = phases
        self.timeUSec = timeUSec
        self.driver = driver
        self.event = event
        self.detail = detail
        self.state = state
        self.failureKind = failureKind
        self.recoveryUSec = recoveryUSec
        self.replayedCalls = replayedCalls
        self.queuedRequests = queuedRequests
    }
}

/// One phase of a recovery and how long it took: `reap` (the failed
/// process gone), `wait` (the restart policy's delay), `standby` or `spawn`
/// (a u-driver ready: the idle one taken, or one started and sandboxed),
/// `hello`, `probe`, `replay` (the shadow's log), `drain` (the requests
/// that waited).
public struct RecoveryPhase: Codable, Sendable, Equatable {
    public var name: String
    public var usec: UInt64
    public init(name: String, usec: UInt64) {
        self.name = name
        self.usec = usec
    }
}

// MARK: method parameters and replies

/// Inject: a fault kind (`crash`, `abort`, `hang`, `slow`, `bad-param`, `garbage`).
/// Update's parameters: the driver, and the executable to run instead
/// (nil: the configured one).
public struct UpdateParameters: Codable, Sendable {
    public var name: String
    public var executable: String?
    public init(name: String, executable: String? = nil) {
        self.name = name
        self.executable = executable
    }
}

public struct InjectParameters: Codable, Sendable {
    public var name: String
    public var kind: String
    public init(name: String, kind: String) {
        self.name = name
        self.kind = kind
    }
}

/// Parameters naming one driver (Start, Stop, Restart, History, ResetFailed).
public struct NameParameters: Codable, Sendable { public var name: String; public init(name: String) { self.name = name } }
/// Status: one or more names; empty = all.
public struct StatusParameters: Codable, Sendable { public var names: [String]; public init(names: [String]) { self.names = names } }
/// Call: an operation of the driver's class and its arguments.
public struct CallParameters: Codable, Sendable {
    public var name: String
    /// An operation of the driver's class (`mixer-get`, `rx-mode`…), or
    /// ``CallParameters/listOperations`` for the class's list.
    public var operation: String
    public var arguments: [String]
    public init(name: String, operation: String, arguments: [String]) {
        self.name = name
        self.operation = operation
        self.arguments = arguments
    }
    /// The operation every class answers: its operations, each with its
    /// argument synopsis.
    public static let listOperations = "help"
}

public struct ListReply: Codable, Sendable { public var drivers: [DriverSummary]; public init(drivers: [DriverSummary]) { self.drivers = drivers } }
public struct StatusReply: Codable, Sendable { public var drivers: [DriverStatus]; public init(drivers: [DriverStatus]) { self.drivers = drivers } }
public struct StateReply: Codable, Sendable { public var state: DriverState; public init(state: DriverState) { self.state = state } }
/// Unbind's answer: the driver's state, the function given back and the
/// driver that has it now (nil: none took it).
public struct UnbindReply: Codable, Sendable, Equatable {
    public var state: DriverState
    public var device: String
    public var driver: String?
    public init(state: DriverState, device: String, driver: String?) {
        self.state = state
        self.device = device
        self.driver = driver
    }
}
/// Update's answer: the u-driver replaced and the one serving now, its
/// executable and build, and how long the swap took.
public struct UpdateReply: Codable, Sendable, Equatable {
    public var state: DriverState
    public var previousPid: Int
    public var pid: Int
    public var executable: String
    public var buildId: String
    public var usec: UInt64
    public var replayedCalls: Int
    public var queuedRequests: Int
    public init(state: DriverState, previousPid: Int, pid: Int, executable: String, buildId: String, usec: UInt64,
                replayedCalls: Int, queuedRequests: Int) {
        self.state = state
        self.previousPid = previousPid
        self.pid = pid
        self.executable = executable
        self.buildId = buildId
        self.usec = usec
        self.replayedCalls = replayedCalls
        self.queuedRequests = queuedRequests
    }
}
/// Call's answer: named values the u-driver returned.
public struct CallReply: Codable, Sendable { public var result: [String: String]; public init(result: [String: String]) { self.result = result } }
/// One setting the device holds differently from the driver's shadow.
public struct DeviceDivergence: Codable, Sendable, Equatable {
    /// The setting, in the class's words (`MAC`, `rx mode`, `PCM rate`).
    public var setting: String
    /// What the shadow recorded the driver programming.
    public var expected: String
    /// What the nucleus read back from the device's registers.
    public var found: String
    public init(setting: String, expected: String, found: String) {
        self.setting = setting
        self.expected = expected
        self.found = found
    }
}

/// `Verify`: the device read back against the shadow.
public struct VerifyReply: Codable, Sendable, Equatable {
    /// How many settings were compared.
    public var compared: Int
    /// The ones that differ; empty: the device is as the shadow says.
    public var divergences: [DeviceDivergence]
    public init(compared: Int, divergences: [DeviceDivergence]) {
        self.compared = compared
        self.divergences = divergences
    }
}

public struct HistoryReply: Codable, Sendable { public var events: [DriverEvent]; public init(events: [DriverEvent]) { self.events = events } }
public struct MonitorReply: Codable, Sendable { public var event: DriverEvent; public init(event: DriverEvent) { self.event = event } }
