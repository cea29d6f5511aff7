// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Logging
import Supervisor
import XPC

// Failure detection: exits, deadlines, protocol errors, heartbeats; the
// sandbox watcher (Supervisor) reports through failure() too.
extension DriverInstance {
    // MARK: detection

    func exited(_ status: ExitStatus, _ gen: UInt64) {
        enum Act { case ignore, fail, stopped }
        let act = runtime.withLock { r -> Act in
            guard gen == r.generation else { return .ignore }
            if r.stopping { return .stopped }
            // An exit nobody asked for (no SHUTDOWN) left a bound device:
            // a failure even with status 0 (a corrupted runtime loop that
            // took its channel for closed ends that way).
            r.lastExitClean = false
            return r.state == .active ? .fail : .ignore
        }
        switch act {
        case .ignore: break
        case .stopped: logger.info("u-driver \(status)")
        case .fail:
            var signal: String?, exitStatus: Int32?
            if case .killed(let s, _) = status { signal = ExitStatus.signalName(s) }
            if case .exited(let code) = status { exitStatus = code }
            failure(.crash, "u-driver \(status)", generation: gen, signal: signal, exitStatus: exitStatus)
        }
    }

    /// A failure of the current u-driver: mark `recovering`, let the shadow
    /// answer, and recover in the background. Stale or repeated reports for
    /// the same process are ignored.
    func failure(_ kind: FailureKind, _ detail: String, generation gen: UInt64, op: XPCOp? = nil,
                 parameter: XPCAttributeID? = nil, signal: String? = nil, syscall: String? = nil,
                 exitStatus: Int32? = nil) {
        let now = monotonicNanos()
        enum Act { case ignore, recover(UDriverProcess?, XPCConnection?), killLaunching(UDriverProcess?) }
        let act = runtime.withLock { r -> Act in
            guard gen == r.generation else { return .ignore }
            switch r.state {
            case .active:
                r.state = .recovering
                r.failedGeneration = gen
                if kind != .restart {
                    r.lastFailure = "\(kind.rawValue): \(detail)"
                    r.failureTimes.append(now)
                }
                defer {
                    r.process = nil
                    r.conn = nil
                }
                return .recover(r.process, r.conn)
            case .starting, .recovering:
                // The u-driver being started or replayed misbehaves: end it;
                // start() fails, or the recovery loop starts over and counts.
                guard gen != r.failedGeneration else { return .ignore }
                r.lastFailure = "\(kind.rawValue): \(detail)"
                r.killedLaunch = gen
                return .killLaunching(r.process)
            default:
                return .ignore
            }
        }
        // The recovery starts now, beside the journal entry and the
        // history record below (a JSON encode and two writes); it records
        // nothing of its own before they are done.
        let recorded = Latch()
        if case .recover(let p, let c) = act {
            Task { await recover(from: p, c, detectedAt: now, kind: kind, after: recorded) }
        }
        defer { recorded.open() }
        var meta = journalFields()
        meta["MESSAGE_ID"] = "\(JournalMessageID.failure)"
        meta["FAILURE_KIND"] = "\(kind.rawValue)"
        if let exitStatus { meta["EXIT_STATUS"] = "\(exitStatus)" }
        if let op { meta["XPC_OP"] = "\(op.name)" }
        if let parameter { meta["PARAMETER"] = "\(parameter.name)" }
        if let signal { meta["SIGNAL"] = "\(signal)" }
        if let syscall { meta["SYSCALL"] = "\(syscall)" }
        switch act {
        case .ignore: return
        case .killLaunching(let p):
            logger.error("failure while starting: \(detail)", metadata: meta)
            record("failure", detail, kind: kind)
            p?.kill()
            return
        case .recover: break
        }
        if kind == .restart {
            logger.info("restarting: \(detail)", metadata: meta)
        } else {
            logger.error("failure: \(detail)", metadata: meta)
        }
        record(kind == .restart ? "restart" : "failure", detail, kind: kind)
    }

    func driverEvent(_ conn: XPCConnection, _ ev: XPCConnection.Event, _ gen: UInt64) {
        switch ev {
        case .message(let m) where m.isRequest:
            forwardDowncall(conn, m, gen)
        case .message(let m):
            failure(.protocol, "unexpected \(m.op.name) notification", generation: gen, op: m.op)
        case .malformed(let e, _):
            failure(.protocol, "malformed message: \(e)", generation: gen, parameter: e.attribute)
        case .unexpectedReply(let m):
            if monotonicNanos() < runtime.withLock({ $0.adoptedUntil }) {
                logger.debug("late reply to the previous drivermgrd: \(m.op.name) seq \(m.seq)")
                return
            }
            failure(.badParameter, "reply to a call never made: \(m.op.name) seq \(m.seq)", generation: gen, op: m.op)
        }
    }

    /// Pings an idle u-driver, every HeartbeatSec after its last call and
    /// backing off (doubling) to HeartbeatMaxSec while it stays idle; no
    /// answer within XPCTimeoutSec is a `heartbeat` failure. A thousand
    /// idle drivers then cost the host a few hundred pings a second, not
    /// five thousand. The daemon's ``HeartbeatScheduler`` keeps the times,
    /// for as long as the instance lives.
    func startHeartbeat(_ scheduler: HeartbeatScheduler = .shared) {
        guard config.heartbeat > .zero else { return }
        heartbeats.withLock { $0 = scheduler }
        scheduler.schedule(self, at: monotonicNanos() &+ Self.nanos(config.heartbeat))
    }

    /// Ends the heartbeat: a reload removed the driver. (One that is
    /// never removed goes with the instance: the scheduler holds it weakly.)
    func stopHeartbeat() {
        heartbeats.withLock { s -> HeartbeatScheduler? in
            defer { s = nil }
            return s
        }?.remove(self)
    }

    /// A call was made while the heartbeat was backed off: ping now (once
    /// an upcall was answered: a ping sent beside it would be answered
    /// before the u-driver served the call), then every HeartbeatSec again.
    /// A hang that follows the call is found within XPCTimeoutSec, one
    /// later within HeartbeatSec + XPCTimeoutSec, not HeartbeatMaxSec.
    func heartbeatNow() {
        heartbeats.withLock { $0 }?.schedule(self, at: monotonicNanos())
    }

    static func nanos(_ d: Duration) -> UInt64 {
        let c = d.components
        return UInt64(max(0, c.seconds)) &* 1_000_000_000 &+ UInt64(max(0, c.attoseconds / 1_000_000_000))
    }

    /// The heartbeat is due: the period grows while the driver was idle
    /// since the last one, the u-driver is pinged unless a call of its own
    /// is pending (that call's deadline watches it), and the next is due a
    /// period from now.
    func heartbeatDue(now: UInt64) -> UInt64? {
        guard config.heartbeat > .zero else { return nil }
        let base = Self.nanos(config.heartbeat), cap = max(Self.nanos(config.heartbeatMax), base)
        let (conn, gen, period) = runtime.withLock { r -> (XPCConnection?, UInt64, UInt64) in
            let seen = (activity: r.activity, generation: r.generation)
            let idle = r.heartbeatSeen.map { $0 == seen } ?? false
            r.heartbeatPeriod = idle ? min(max(r.heartbeatPeriod, base) &* 2, cap) : base
            r.heartbeatSeen = seen
            r.heartbeatBackedOff = r.heartbeatPeriod > base
            return (r.state == .active ? r.conn : nil, r.generation, r.heartbeatPeriod)
        }
        if let conn, conn.pendingCount == 0 { ping(conn, generation: gen) }
        return now &+ period
    }

    /// The deadline of a call to the u-driver: XPCTimeoutSec, but
    /// ``warmingDeadline(xpcTimeout:probeTimeout:)`` for a u-driver taken
    /// over from the previous daemon, within the take-over's grace
    /// (XPCTimeoutSec + 3 s). The daemon's own
    /// start (taking the fleet over, spawning every standby) loads the host
    /// exactly then, as a fresh process's warm-up does: under QEMU's TCG a
    /// NIC just taken over missed its first ping's 1 s, and in a later run
    /// one that had answered a ping missed a NET_WATCHDOG upcall's 1 s
    /// (its link check's downcalls wait on the same busy daemon); each time
    /// a healthy driver was restarted instead of taken over (kernel-path
    /// campaign, 1 of 171 and 1 of 173 daemon kills). So an answer does not
    /// end it; an answered INJECT does (``injected(generation:)``). Past
    /// the grace a hang is found within XPCTimeoutSec again.
    func callDeadline(warming: Bool? = nil) -> Duration {
        let w = warming ?? runtime.withLock { $0.warmingAfterTakeOver }
        return w ? Self.warmingDeadline(xpcTimeout: config.xpcTimeout, probeTimeout: config.probeTimeout) : config.xpcTimeout
    }

    /// The longest a warm-up after a take-over waits for an answer.
    static let warmingCap: Duration = .seconds(5)

    /// A call's deadline while a u-driver taken over warms up:
    /// ProbeTimeoutSec, but at most ``warmingCap`` (XPCTimeoutSec if that is
    /// longer). The probe's own bound can be a minute (a sliced driver's
    /// probe under TCG), and a u-driver that hangs just after the take-over
    /// must still be found within seconds: with 60 s, one hung in an
    /// upcall right after a daemon kill was found only by drvnucleus's own
    /// 20 s bound, the data path stopped meanwhile (slice campaign,
    /// docs/reliability.md).
    static func warmingDeadline(xpcTimeout: Duration, probeTimeout: Duration) -> Duration {
        max(xpcTimeout, min(probeTimeout, warmingCap))
    }

    /// Until when u-driver `gen` awaits a downcall the wire header declares
    /// slow, if it does: its calls are not judged hung before then.
    func awaitingSlowDowncall(_ gen: UInt64) -> UInt64? {
        runtime.withLock { $0.generation == gen ? $0.downcalls.awaitingSlowUntil : nil }
    }

    /// An INJECT of this generation was answered: a fault acted out on
    /// purpose is to be found within XPCTimeoutSec, take-over or not.
    func injected(generation gen: UInt64) {
        runtime.withLock { r in if r.generation == gen { r.takenOverWarming = false } }
    }

    private func ping(_ conn: XPCConnection, generation gen: UInt64) {
        let timeout = callDeadline()
        conn.call(XPCMessage(op: .ping, flags: .request), timeout: timeout) { [weak self] result in
            guard let self else { return }
            guard case .failure(let e) = result else { return }
            if e.code == .timeout {
                self.failure(.heartbeat, "no answer to a ping within \(timeout)", generation: gen, op: .ping)
                return
            }
            // Closed: the process is ending and its pidfd will say how.
            // One that closed its channel and lives on serves nobody.
            Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(200))
                guard let self else { return }
                let alive = self.runtime.withLock { r in r.generation == gen && r.state == .active && r.process?.reap() == nil }
                if alive { self.failure(.protocol, "closed its XPC channel but still runs", generation: gen) }
            }
        }
    }
}

extension DriverInstance: HeartbeatTarget {}
