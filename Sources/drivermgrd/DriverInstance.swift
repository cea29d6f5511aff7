// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Logging
import Nucleus
import ShadowDriver
import Supervisor
import Synchronization
import XPC

/// One configured driver and, once a device matched, its u-driver process.
///
/// The broker's per-driver half: every upcall (from the nucleus or from
/// drvctl) enters through ``submit(_:done:)`` and every downcall through
/// `forwardDowncall`. The shadow watches both, failures of every kind end in
/// ``failure(_:_:generation:op:parameter:)``, and recovery replays the shadow's
/// log into a fresh u-driver while requests wait in order.
final class DriverInstance: Sendable {
    /// The driver's configuration; a reload may replace it (`update(config:)`).
    var config: DriverConfig { configuration.withLock { $0 } }
    let configuration: Mutex<DriverConfig>
    let nucleus: NucleusLink
    let logger: Logger
    let emit: @Sendable (DriverEvent) -> Void
    let runtime: Mutex<Runtime>
    /// Where the u-driver's descriptors and state go so a restarted daemon
    /// can adopt it (`--fd-store`); nil: the u-driver dies with the daemon.
    let handover: HandoverStore?
    /// Where DynamicUser= uids come from (one allocator per daemon).
    let uids: DynamicUIDs
    /// The scheduler that keeps this driver's heartbeat, once started.
    let heartbeats = Mutex<HeartbeatScheduler?>(nil)

    /// A request waiting for a u-driver, with who gets the answer.
    struct Queued: Sendable {
        let message: XPCMessage
        let done: @Sendable (XPCMessage) -> Void
        /// How many u-drivers failed with it in flight (RequestRetries=).
        var failures = 0
    }

    struct Runtime: Sendable {
        var device: NucleusDevice?
        var state: DriverState = .stopped
        var process: UDriverProcess?
        var conn: XPCConnection?
        /// Bumped for every u-driver process; callbacks from an older one are
        /// stale. A rolled-back update makes the old one's current again.
        var generation: UInt64 = 0
        /// The highest generation handed out (``newGeneration()``).
        var issued: UInt64 = 0
        /// The running u-driver's build (HELLO's BUILD_ID).
        var buildID = ""
        /// `drvctl update` is swapping the u-driver.
        var updating = false
        /// `drvctl debug` in effect, and whether one is being switched.
        var debugSession: DebugSession?
        var debugChanging = false
        /// The generation whose failure started the current recovery: more
        /// reports about it (a second timeout, its exit) add nothing.
        var failedGeneration: UInt64 = 0
        /// A u-driver being started or replayed that misbehaved and is
        /// being killed: its downcalls are refused as a failed one's are.
        var killedLaunch: UInt64 = 0
        var startedAt: UInt64 = 0
        var starts = 0
        var stopping = false
        var lastFailure: String?
        var lastExitClean = false
        var chip: String?
        var ownedDMA: Set<UInt32> = []
        /// Downcalls the broker began to forward to the nucleus, and those
        /// whose send returned: a DEVICE_INFO asked for early is still
        /// true when no forward was under way as it was sent and none
        /// began since (``DriverInstance/askObjects(_:)``).
        var forwardsBegun: UInt64 = 0
        var forwardsSent: UInt64 = 0
        var shadow: Shadow
        /// Requests in flight when the driver failed: first to be re-sent.
        var retry: [Queued] = []
        /// Requests that arrived while recovering.
        var queue: [Queued] = []
        /// Monotonic times of failures, for the start limit.
        var failureTimes: [UInt64] = []
        /// `drvctl restart` callers waiting for the outcome.
        var settleWaiters: [CheckedContinuation<DriverState, Never>] = []
        /// An idle u-driver waiting for HELLO (Standby=yes), and whether one
        /// is being spawned.
        var standby: SpawnedUDriver?
        var spawningStandby = false
        /// Bumped for every change worth persisting (``persist()``).
        var version: UInt64 = 0
        /// Until then (CLOCK_MONOTONIC ns), replies to calls this daemon
        /// never made are late answers to its predecessor, not a failure.
        var adoptedUntil: UInt64 = 0
        /// A u-driver taken over from the previous daemon, until an INJECT
        /// it answered: within the take-over's grace its calls get
        /// ProbeTimeoutSec, at most 5 s (``DriverInstance/callDeadline(warming:)``).
        var takenOverWarming = false

        /// A u-driver taken over, within the take-over's grace, that no
        /// fault was injected into since.
        var warmingAfterTakeOver: Bool { takenOverWarming && monotonicNanos() < adoptedUntil }
        /// The current u-driver's downcalls: at the nucleus now, and in
        /// the current ``DowncallRate`` window.
        var downcalls = DowncallRate()
        /// Upcalls sent to the u-driver and not yet answered.
        var upcallsInFlight = 0
        /// Bumped for every upcall sent and every downcall forwarded (the
        /// heartbeat backs off while it stays the same).
        var activity: UInt64 = 0
        /// As ``activity``, but for the calls that may change the device:
        /// every upcall, every downcall but REG_READ. A read-back that saw
        /// it change may have caught the device between two settings
        /// (``verifyAfter(_:generation:attempt:)``); a u-driver's polling
        /// reads (uhci's root hub, every 250 ms) cannot.
        var changes: UInt64 = 0
        /// The heartbeat's period now (ns): HeartbeatSec, doubled while
        /// the driver stays idle up to HeartbeatMaxSec.
        var heartbeatPeriod: UInt64 = 0
        /// ``activity`` and ``generation`` at the last heartbeat: the same
        /// at the next, and the driver was idle in between.
        var heartbeatSeen: (activity: UInt64, generation: UInt64)?
        /// Whether the period is past HeartbeatSec: the next call cuts it
        /// short (``takeIdleHeartbeat()``), so the driver is pinged again
        /// once the call is answered and then every HeartbeatSec.
        var heartbeatBackedOff = false

        /// Whether the heartbeat was backed off, and is no longer: a call
        /// was made, and the heartbeat is to be brought forward.
        mutating func takeIdleHeartbeat() -> Bool {
            defer { heartbeatBackedOff = false }
            return heartbeatBackedOff
        }

        /// A generation never used before, made current.
        mutating func newGeneration() -> UInt64 {
            issued = max(issued, generation) + 1
            generation = issued
            return generation
        }
    }

    /// What ``adopt(_:from:)`` made of a u-driver a previous daemon left.
    enum Adoption: Sendable, Equatable {
        /// Running and served again: same process, nothing replayed.
        case adopted
        /// Running, but this daemon's configuration shapes the process
        /// differently: restart it (through recovery) once the nucleus is up.
        case reconfigured
        /// It ended while no daemon watched: recover it from the saved
        /// shadow once the nucleus is up (generation to report against).
        case lost(UInt64)
        /// Nothing usable was saved: the driver starts afresh.
        case none
    }

    /// How long the daemon's own calls to the nucleus (DEVICE_INFO,
    /// QUIESCE, …) may take; a downcall it forwards gets its op's
    /// ``XPCOp/downcallDeadline``.
    static let downcallTimeout = XPCLimits.downcallDeadline
    /// Read-backs after one setter (``verifyAfter(_:generation:attempt:)``)
    /// before it is left to the next one: 20 ms apart, doubling, so about
    /// 2.5 s of a busy driver in all (on a loaded host five tries 20 ms
    /// apart all overlapped a call, and a lost write went unseen).
    static let verifyAttempts = 8
    /// How often `drvctl verify` reads back before it reports the driver
    /// busy: 50 × 20 ms, a second of calls to the u-driver back to back.
    static let manualVerifyAttempts = 50

    init(config: DriverConfig, nucleus: NucleusLink, logger: Logger, handover: HandoverStore? = nil,
         uids: DynamicUIDs, emit: @escaping @Sendable (DriverEvent) -> Void) {
        self.configuration = Mutex(config)
        self.nucleus = nucleus
        self.handover = handover
        self.uids = uids
        var l = logger
        l[metadataKey: "DRIVER"] = .string(config.name)
        self.logger = l
        self.emit = emit
        self.runtime = Mutex(Runtime(shadow: config.deviceClass.makeShadow()))
    }

    var name: String { config.name }

    /// Fields every journal entry about this driver carries: DRIVER= comes
    /// from the logger; DRIVER_CLASS=, DEVICE= (PCI slot), RESTART_COUNT=.
    func journalFields() -> Logger.Metadata {
        let (dev, starts) = runtime.withLock { ($0.device, $0.starts) }
        var m: Logger.Metadata = ["DRIVER_CLASS": "\(config.deviceClass.name)", "RESTART_COUNT": "\(max(0, starts - 1))"]
        if let dev { m["DEVICE"] = "\(dev.slot)" }
        return m
    }
    var state: DriverState { runtime.withLock { $0.state } }
    var device: NucleusDevice? { runtime.withLock { $0.device } }

    /// Binds the device the nucleus announced; false if another is bound.
    func bind(_ d: NucleusDevice) -> Bool {
        runtime.withLock { r in
            if let cur = r.device { return cur == d }
            r.device = d
            return true
        }
    }

    /// Forgets the device (given back to the stock driver); the next one
    /// the nucleus announces binds anew.
    func releaseDevice() {
        runtime.withLock { $0.device = nil }
    }

    func record(_ event: String, _ detail: String, kind: FailureKind? = nil, recoveryUSec: UInt64? = nil,
                replayed: Int? = nil, queued: Int? = nil, phases: [RecoveryPhase]? = nil) {
        emit(DriverEvent(timeUSec: UInt64(Date().timeIntervalSince1970 * 1e6), driver: name, event: event, detail: detail,
                         state: state, failureKind: kind, recoveryUSec: recoveryUSec, replayedCalls: replayed,
                         queuedRequests: queued, phases: phases))
    }
}

/// A pipelined call's answer and when it came (``XPCConnection/Timed``).
typealias Timed = XPCConnection.Timed

/// Where a recovery's time went: each phase's end, marked as it happens
/// (``mark(_:)``), read as durations from the detection on.
final class RecoveryTimeline: Sendable {
    private let marks = Mutex<[(String, UInt64)]>([])
    let start: UInt64

    /// `start`: CLOCK_MONOTONIC ns of the detection.
    init(start: UInt64) { self.start = start }

    /// The phase `name` ends now (or at `t`, CLOCK_MONOTONIC ns).
    func mark(_ name: String, at t: UInt64 = monotonicNanos()) { marks.withLock { $0.append((name, t)) } }

    /// Each phase and its length in microseconds, in order.
    var phases: [RecoveryPhase] {
        var last = start
        return marks.withLock { $0 }.map { name, t in
            defer { last = t }
            return RecoveryPhase(name: name, usec: (t &- last) / 1000)
        }
    }
}

/// A u-driver spawned and, if sandboxed, with its sandbox confirmed and its
/// violation watcher running; not yet sent HELLO. A fresh one, or the
/// standby a recovery adopts.
final class SpawnedUDriver: Sendable {
    let socket: XPCSocket
    let process: UDriverProcess
    /// The generation it serves once launched; nil while it is a standby.
    let serving = Mutex<UInt64?>(nil)
    /// A standby that answered its first HELLO (``DriverInstance/greet(_:_:)``):
    /// it speaks this daemon's protocol, so its take-over may send HELLO,
    /// PROBE and the replay in one pipeline.
    let greeted = Mutex(false)
    /// A copy of its seccomp listener for systemd's fd store (owned).
    let listenerCopy: Int32?

    init(socket: XPCSocket, process: UDriverProcess, listenerCopy: Int32?) {
        self.socket = socket
        self.process = process
        self.listenerCopy = listenerCopy
    }

    deinit { if let listenerCopy { close(listenerCopy) } }
}

/// A u-driver that died (or was refused) before it could be served, with
/// why: its exit status and its last stderr lines.
struct EarlyDeath: Error, Sendable, CustomStringConvertible {
    let kind: FailureKind
    let description: String
    let signal: String?
    let exitStatus: Int32?
}

extension DriverInstance {
    /// The uid and gid its u-drivers run as: with DynamicUser=yes the
    /// driver's own (taken on its first spawn, the same for every u-driver
    /// of it, standby included, until it stops), else User='s account.
    func identity() throws -> (uid: UInt32, gid: UInt32) {
        let cfg = config
        guard cfg.dynamicUser else { return (cfg.uid, cfg.gid) }
        let first = uids.lease(of: name) == nil
        let l = try uids.acquire(name)
        if first { logger.info("dynamic uid \(l.uid) for \(name)", metadata: ["UID": "\(l.uid)"]) }
        return (l.uid, l.uid)
    }
}
