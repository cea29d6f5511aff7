// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Logging
import Nucleus
import ShadowDriver
import Supervisor
import XPC

// Recovery: restart policy, replay of the shadow's log, the queue drained
// in order; giving up.

/// What ``DriverInstance/serveWhenDrained(_:_:_:)`` saw under the lock.
private enum FlipLook<T> {
    case ended, queued, flipped(T?)
}
extension DriverInstance {
    // MARK: recovery

    /// `recorded`: open once the failure is in the journal and the history;
    /// nothing is recorded here before.
    func recover(from oldProcess: UDriverProcess?, _ oldConn: XPCConnection?, detectedAt t0: UInt64, kind: FailureKind,
                 after recorded: Latch? = nil) async {
        // The objects the nucleus holds, asked for at once: the answer
        // comes while the old process is reaped (the first attempt's HELLO
        // takes it if no downcall was forwarded meanwhile).
        var asked = runtime.withLock { $0.device }.flatMap { askObjects($0) }
        wakeStandby()
        // 1. The old process is certainly gone, and every call it had in
        //    flight has come back (into `retry`).
        oldProcess?.kill()
        if let oldProcess { _ = await oldProcess.exited() }
        await oldConn?.closeAndWait()
        let reaped = monotonicNanos()

        // Attempts of this recovery that failed: past ResetAfter= the next
        // ones reset the device instead of adopting it (tier 2).
        var failedAttempts = 0
        while true {
            // 2. Restart policy. An asked-for restart (drvctl restart or
            //    update, a reload) is not a failure: its first attempt
            //    waits for no back-off, whatever failed before it (as
            //    systemd's RestartSec= only spaces automatic restarts).
            let (decision, dev) = runtime.withLock { r in
                (kind == .restart && failedAttempts == 0 ? .restart(after: .zero)
                    : config.restart.decide(failures: r.failureTimes, now: monotonicNanos(), cleanExit: r.lastExitClean), r.device)
            }
            guard case .restart(let delay) = decision, let dev else {
                await recorded?.wait()
                if case .giveUp(let why) = decision { await giveUp(why) } else { await giveUp("no device") }
                return
            }
            if delay > .zero { try? await Task.sleep(for: delay) }
            if runtime.withLock({ $0.stopping }) { return }

            // 3. A fresh u-driver adopts the running device (or, escalated,
            // resets it, after the nucleus re-added it), 4. replays the log,
            // 5. drains what waited, in order.
            let readd = config.readdAfter > 0 && failedAttempts >= config.readdAfter
            let reset = readd || (config.resetAfter > 0 && failedAttempts >= config.resetAfter)
            if reset && failedAttempts == config.resetAfter {
                logger.warning("recovery escalated: \(failedAttempts) attempts could not adopt the device; resetting it",
                               metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.escalated)",
                                                                  "ATTEMPTS": "\(failedAttempts)"]) { $1 })
                record("escalated", "\(failedAttempts) attempts could not adopt the device: a fresh probe resets it", kind: kind)
            }
            var proc: UDriverProcess?
            var channel: XPCConnection?
            // Phases of this attempt, from the detection: the old process
            // reaped, the policy's wait, a u-driver (standby or spawned),
            // HELLO, PROBE, the replay, its read-back, the queue drained.
            let timeline = RecoveryTimeline(start: t0)
            timeline.mark("reap", at: reaped)
            timeline.mark("wait")
            do {
                if readd {
                    try await readdDevice(dev, after: failedAttempts, kind: kind)
                    timeline.mark("readd")
                } else if reset {
                    await holdClients(dev)
                }
                let log = runtime.withLock { $0.shadow.replayLog(instance: dev.instance, reattach: !reset) }
                // For the first attempt only; a re-add or a reset may change
                // the objects: asked again.
                let early = readd || reset ? nil : asked
                asked = nil
                let (p, conn, _, _, answered) = try await launch(dev, reattach: !reset, timeline: timeline, replaying: log,
                                                                  asked: early, after: recorded)
                proc = p
                channel = conn
                let (replayed, drainedFirst) = try await replayAndDrain(conn, dev, reattach: !reset, verify: true, timeline: timeline,
                                                                        log: log, answered: answered)
                if reset { try await releaseClients(dev) }
                // Serving again, unless the new process died meanwhile.
                let (flipped, drainedLate) = try await serveWhenDrained(p, conn) { r in
                    r.state = .active
                    defer { r.settleWaiters = [] }
                    return r.settleWaiters
                }
                guard let waiters = flipped else { throw ManagerError.startFailed(name, "the new u-driver ended during recovery") }
                let drained = drainedFirst + drainedLate
                // The state with the new process first: systemd's store
                // already holds its descriptors, and a daemon killed from
                // here on must find the same pid in the file to take it over.
                persist()
                let usec = (monotonicNanos() - t0) / 1000
                let phases = timeline.phases
                // Serving already; the failure's own record first.
                await recorded?.wait()
                let breakdown = phases.map { "\($0.name) \($0.usec)" }.joined(separator: ", ")
                var fields: Logger.Metadata = [
                    "MESSAGE_ID": "\(JournalMessageID.recovery)", "FAILURE_KIND": "\(kind.rawValue)",
                    "RECOVERY_USEC": "\(usec)", "REPLAYED_CALLS": "\(replayed)",
                    "QUEUED_REQUESTS": "\(drained)", "PID": "\(p.pid)"]
                for ph in phases { fields["RECOVERY_\(ph.name.uppercased())_USEC"] = "\(ph.usec)" }
                logger.info("recovered in \(usec) us (\(breakdown) us): replayed \(replayed) calls, drained \(drained) requests",
                            metadata: journalFields().merging(fields) { $1 })
                record("recovered", "pid \(p.pid)" + (readd ? ", the device re-added and reset" : reset ? ", the device reset" : ""), kind: kind,
                       recoveryUSec: usec, replayed: replayed, queued: drained, phases: phases)
                for w in waiters { w.resume(returning: .active) }
                refillStandby()
                return
            } catch {
                // A failure during recovery: start over; it counts against the limit.
                proc?.kill()
                if let proc { _ = await proc.exited() }
                await channel?.closeAndWait()
                failedAttempts += 1
                // The failure's record before this attempt's (and before
                // a later attempt's escalation).
                await recorded?.wait()
                runtime.withLock { r in
                    r.failureTimes.append(monotonicNanos())
                    r.lastFailure = "recovery failed: \(error)"
                }
                logger.error("recovery failed: \(error)", metadata: ["FAILURE_KIND": "\(kind.rawValue)"])
                record("recovery-failed", "\(error)", kind: kind)
            }
        }
    }

    /// A PING notification (no reply wanted) to a greeted standby, as soon
    /// as a failure is seen. An idle process's thread is asleep and its
    /// memory cold in the CPU's caches; woken now, it is awake when HELLO
    /// comes, a reap and a DEVICE_INFO later.
    func wakeStandby() {
        guard let s = runtime.withLock({ $0.standby }), s.greeted.withLock({ $0 }) else { return }
        try? s.socket.send(XPCMessage(op: .ping, flags: [], instance: runtime.withLock { $0.device?.instance } ?? 0).bytes)
    }

    /// Before an attempt that resets the device: the nucleus holds the data
    /// path's clients (the class's ``DeviceClassDescriptor/holdClients``
    /// call), so that they wait rather than feed a chip in reset, until
    /// the replay or ``releaseClients(_:)`` lets them go. A refusal is
    /// logged, and the attempt goes on: the reset is still worth trying.
    func holdClients(_ dev: NucleusDevice) async {
        guard let op = config.deviceClass.holdClients else { return }
        do {
            try await deviceCall(op, dev)
        } catch {
            logger.warning("the nucleus did not hold the data path's clients before the reset: \(error)",
                           metadata: journalFields())
        }
    }

    /// After the replay into a reset device: the class's release call, for
    /// a class whose clients the replay does not release itself. A refusal
    /// fails the attempt: the clients would wait for ever.
    func releaseClients(_ dev: NucleusDevice) async throws {
        if let op = config.deviceClass.releaseClients { try await deviceCall(op, dev) }
    }

    /// Recovery's third tier: the nucleus re-adds the device under the same
    /// instance (DEVICE_READD), before an attempt that resets it. A refusal
    /// (an older nucleus, a function that still does not decode its BAR)
    /// fails the attempt like any other.
    func readdDevice(_ dev: NucleusDevice, after attempts: Int, kind: FailureKind) async throws {
        logger.warning("recovery escalated: \(attempts) attempts failed; the nucleus re-adds the device",
                       metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.readded)",
                                                          "ATTEMPTS": "\(attempts)"]) { $1 })
        record("readded", "\(attempts) attempts failed: the nucleus re-adds the device, then a fresh probe resets it",
               kind: kind)
        try await deviceCall(.deviceReadd, dev)
    }

    /// `op` from drivermgrd itself to the nucleus, about this driver's
    /// device; a refusal is thrown naming the op.
    func deviceCall(_ op: XPCOp, _ dev: NucleusDevice) async throws {
        let r = try await nucleus.call(XPCMessage(op: op, flags: .request, instance: dev.instance),
                                       timeout: Self.downcallTimeout)
        if let e = r.remoteError {
            throw ManagerError.callFailed(errno: e.errno, attribute: e.attribute?.name, message: "\(op.name): \(e)")
        }
    }

    /// A fresh u-driver that adopted (or reset) the device gets the shadow's log, then
    /// what waited meanwhile, in order (calls in flight at the failure
    /// first). A request not served goes back to the front of the queue.
    /// `verify`: between the replay and the drain (the shadow then says
    /// what the replay wrote), ``verifyRecovered(_:)``.
    /// `log`: the shadow's log if the caller took it already (else it is
    /// taken here); `answered`: its answers, if ``launch(_:reattach:deferStore:timeline:replaying:asked:after:)``
    /// sent it in the pipeline after PROBE (else it is sent here).
    func replayAndDrain(_ conn: XPCConnection, _ dev: NucleusDevice, reattach: Bool = true, verify: Bool = false,
                        timeline: RecoveryTimeline? = nil, log taken: [XPCMessage]? = nil,
                        answered: [Timed]? = nil) async throws -> (replayed: Int, drained: Int) {
        let log = taken ?? runtime.withLock { $0.shadow.replayLog(instance: dev.instance, reattach: reattach) }
        // The fresh process is still warming up (its first calls
        // fault in code and data): replay and drain run under
        // ProbeTimeoutSec, as HELLO and PROBE do. On a loaded
        // machine XPCTimeoutSec made a healthy replay time out.
        let deadline = max(config.xpcTimeout, config.probeTimeout)
        // Sent as one pipeline: the u-driver serves them in order, and the
        // recovery waits once for the batch, not once a call. A refusal
        // fails the attempt all the same (the calls after it were served,
        // but the process that served them is killed and the next attempt
        // adopts the device and replays the whole log again).
        let replies: [Timed]
        if let answered { replies = answered } else { replies = await conn.calls(log, timeout: deadline) }
        guard replies.count == log.count else { throw XPCError(.closed, "\(name): a replayed call lost") }
        for (m, answer) in zip(log, replies) {
            let r = try answer.result.get()
            if let v = ReplyContract.violation(request: m, reply: r, of: config.deviceClass) {
                throw ManagerError.callFailed(errno: 22, attribute: v.attribute?.name, message: v.message)
            }
            if let e = r.remoteError { throw ManagerError.callFailed(errno: e.errno, attribute: e.attribute?.name, message: "replay \(m.op.name): \(e)") }
        }
        timeline?.mark("replay", at: answered?.last?.at ?? monotonicNanos())
        if verify && config.verifySettings {
            try await verifyRecovered(dev)
            timeline?.mark("verify")
        }
        let drained = try await drainQueued(conn, deadline: deadline)
        timeline?.mark("drain")
        return (log.count, drained)
    }

    /// The requests that waited (calls in flight at the failure first),
    /// in order, to the fresh u-driver, until both queues are empty. A
    /// request not served goes back to the front of the queue.
    ///
    /// The request that failed it (unanswered, or answered against the
    /// class's contract) is counted against RequestRetries= and, past it,
    /// answered EIO rather than kept for the next attempt.
    private func drainQueued(_ conn: XPCConnection, deadline: Duration) async throws -> Int {
        var drained = 0
        let limit = requestRetries
        func putBack(_ batch: [Queued], from i: Int) {
            let past = runtime.withLock { r -> Queued? in
                r.retry.insert(contentsOf: batch[(i + 1)...], at: 0)
                return r.keepForRetry(batch[i], limit: limit, atFront: true)
            }
            if let past { refuseRetried(past) }
        }
        while true {
            let batch: [Queued]? = runtime.withLock { r in
                if r.retry.isEmpty && r.queue.isEmpty { return nil }
                defer { r.retry = []; r.queue = [] }
                return r.retry + r.queue
            }
            guard let batch else { break }
            for (i, q) in batch.enumerated() {
                let reply: XPCMessage
                do {
                    reply = try await conn.call(q.message, timeout: deadline)
                } catch {
                    putBack(batch, from: i)
                    throw error
                }
                if let v = ReplyContract.violation(request: q.message, reply: reply, of: config.deviceClass) {
                    putBack(batch, from: i)
                    throw ManagerError.callFailed(errno: 22, attribute: v.attribute?.name, message: v.message)
                }
                runtime.withLock { $0.shadow.record(q.message, reply: reply) }
                q.done(reply)
                drained += 1
            }
        }
        return drained
    }

    /// The flip to serving, for a recovery or an update: under the lock
    /// that sees both queues empty, `flip` runs (the state set active). A
    /// request that arrived after the drain's last look (a client calling
    /// while the clients were released, or while a phase awaited) is
    /// drained first and the lock taken again; it used to fail a healthy
    /// attempt. Returns `flip`'s result (nil if the new process ended
    /// meanwhile) and the number of requests drained here.
    func serveWhenDrained<T>(_ p: UDriverProcess, _ conn: XPCConnection,
                             _ flip: (inout Runtime) -> T?) async throws -> (T?, Int) {
        let deadline = max(config.xpcTimeout, config.probeTimeout)
        var drained = 0
        while true {
            let look = runtime.withLock { r -> FlipLook<T> in
                guard p.reap() == nil else { return .ended }
                guard r.retry.isEmpty, r.queue.isEmpty else { return .queued }
                return .flipped(flip(&r))
            }
            switch look {
            case .ended: return (nil, drained)
            case .flipped(let t): return (t, drained)
            case .queued: drained += try await drainQueued(conn, deadline: deadline)
            }
        }
    }

    /// After the replay, before the queue is drained and the driver serves
    /// again: the device read back (DEVICE_INFO) against the class shadow. A recovered
    /// u-driver whose replay did not take (a reattach that wrote nothing, a
    /// process corrupted again as it started) fails the attempt, which
    /// starts over and, past ResetAfter=, resets the device: a driver is
    /// not declared recovered while its device is configured otherwise
    /// than its clients set it. A difference is read again 20, 40 and
    /// 80 ms later (a chip that applies a setting a moment after the
    /// write) before it fails the attempt. VerifySettings=no turns it off
    /// with the read-back after setters.
    func verifyRecovered(_ dev: NucleusDevice) async throws {
        var diffs: [ShadowDivergence] = []
        for attempt in 0..<4 {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(20 << (attempt - 1))) }
            // A nucleus that cannot read the device back has nothing to
            // compare: the replay's own replies stand, as before.
            guard let info = try? await nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance),
                                                     timeout: Self.downcallTimeout),
                  info.status == 0 else { return }
            diffs = runtime.withLock { $0.shadow.divergences(from: info).differing }
            if diffs.isEmpty { return }
        }
        let what = diffs.map { "\($0.setting) \($0.found), expected \($0.expected)" }.joined(separator: "; ")
        throw ManagerError.startFailed(name, "after the replay the device does not hold what the shadow says: \(what)")
    }

    /// Past the start limit (or Restart=no): the nucleus quiesces the
    /// device, waiting requests fail, the driver is `failed`.
    func giveUp(_ why: String) async {
        let (waiting, waiters, dev) = runtime.withLock { r in
            r.state = .failed
            r.lastFailure = "\(why)" + (r.lastFailure.map { "; last: \($0)" } ?? "")
            defer { r.retry = []; r.queue = []; r.settleWaiters = [] }
            return (r.retry + r.queue, r.settleWaiters, r.device)
        }
        for q in waiting { q.done(.errorReply(to: q.message, errno: 5, message: "\(name) failed: \(why)")) }
        if let dev {
            _ = try? await nucleus.call(XPCMessage(op: .quiesce, flags: .request, instance: dev.instance), timeout: Self.downcallTimeout)
        }
        logger.error("giving up: \(why); device quiesced",
                     metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.gaveUp)"]) { $1 })
        record("failed", "\(why); device quiesced")
        for w in waiters { w.resume(returning: .failed) }
    }
}
