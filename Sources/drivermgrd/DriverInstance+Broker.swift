// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import DeviceClasses
import Nucleus
import ShadowDriver
import XPC

// The broker paths: upcalls forwarded or answered by the shadow, downcalls
// checked and forwarded to the nucleus.
extension DriverInstance {
    // MARK: the broker paths

    /// An upcall from the nucleus or drvctl. Active: forwarded with the
    /// driver's deadline. Recovering: answered by the shadow or queued.
    /// Otherwise: EAGAIN. `done` gets the reply, under the driver channel's
    /// sequence number; the caller restores its own.
    ///
    /// `validated`: the request is a class operation (`drvctl call`) whose
    /// arguments its class checked, so the u-driver has no ground to call
    /// them wrong (``ReplyContract/refusesValidated(request:reply:)``).
    ///
    /// `failures`: how many u-drivers already failed with this request in
    /// flight (a request sent again after a failure), for RequestRetries=.
    func submit(_ m: XPCMessage, validated: Bool = false, failures: Int = 0,
                done: @escaping @Sendable (XPCMessage) -> Void) {
        enum Route { case send(XPCConnection, UInt64), answer(XPCMessage), held }
        let route = runtime.withLock { r -> Route in
            if m.op == .sndHwParams, let h = m.attribute(.dmaHandle) { r.ownedDMA.insert(h.u32) }
            // A sliced driver's probe is one of its own functions: the
            // nucleus calls it (SLICE_UPCALL) while the u-driver's PROBE is
            // under way, and it goes to the u-driver being started, not to
            // the shadow; so does a call nested in one of its downcalls
            // (module/slice.c flags both). A client's (ethtool's) is held
            // for the recovery like any upcall: sent to the recovering
            // u-driver, a slow one failed every attempt of its recovery.
            if m.op == .sliceUpcall, m.flags.contains(.within), r.state == .starting || r.state == .recovering,
               let c = r.conn {
                return .send(c, r.generation)
            }
            switch r.state {
            case .active:
                if let c = r.conn { return .send(c, r.generation) }
                // Active without a channel: a u-driver the previous daemon
                // left died before this one could take it over, and its
                // recovery starts once the nucleus is connected. The
                // upcalls the nucleus sends again when this daemon
                // registers come first: held for that recovery, as during
                // any other.
                fallthrough
            case .recovering:
                switch r.shadow.answer(m) {
                case .reply(let a): return .answer(.reply(to: m, attributes: a))
                case .queue:
                    r.queue.append(Queued(message: m, done: done, failures: failures))
                    return .held
                }
            default:
                return .answer(.errorReply(to: m, errno: 11, message: "\(name) is \(r.state.rawValue)"))
            }
        }
        switch route {
        case .answer(let a):
            DaemonMetrics.shared.xpcCall(.upcall, m.op, failed: a.status != 0)
            done(a)
        case .held: break
        case .send(let conn, let gen): send(m, conn, gen, validated: validated, failures: failures, done)
        }
    }

    /// RequestRetries=, without copying the whole configuration (the
    /// configuration's lock is never held while the runtime's is taken).
    var requestRetries: Int { configuration.withLock { $0.requestRetries } }

    /// A request past RequestRetries=: its caller gets EIO, and the
    /// journal and the driver's history say which request it was.
    func refuseRetried(_ q: Queued) {
        let why = "\(q.message.op.name) was in flight at \(q.failures) failures of the u-driver: not sent again (RequestRetries=\(requestRetries))"
        DaemonMetrics.shared.xpcCall(.upcall, q.message.op, failed: true)
        logger.warning("\(why)", metadata: journalFields().merging(["XPC_OP": "\(q.message.op.name)", "REQUEST_FAILURES": "\(q.failures)"]) { $1 })
        record("request-refused", why)
        q.done(.errorReply(to: q.message, errno: 5, message: "\(name): \(why)"))
    }

    /// Where a call goes whose channel failed under it (closed, timed out).
    enum FailedCallRoute: Equatable {
        /// Onto the retry queue, first to the u-driver the coming (or
        /// running) recovery starts.
        case kept
        /// To the u-driver that serves now: the failure was detected and
        /// recovered before this call learned of it, and the retry queue
        /// is drained only by a recovery.
        case resend
        /// Failed back to the caller: the driver is stopping or not serving.
        case refused

        /// - Parameters:
        ///   - generation: the driver's u-driver now.
        ///   - callGeneration: the one the call was sent to.
        init(state: DriverState, stopping: Bool, generation: UInt64, callGeneration: UInt64) {
            guard !stopping, state == .active || state == .recovering else { self = .refused; return }
            self = state == .active && generation != callGeneration ? .resend : .kept
        }
    }

    func send(_ m: XPCMessage, _ conn: XPCConnection, _ gen: UInt64, validated: Bool = false, failures: Int = 0,
              _ done: @escaping @Sendable (XPCMessage) -> Void) {
        // One lock for the bookkeeping and the deadline, one for the
        // answer's: this is every upcall's path.
        let (idleHeartbeat, warming) = runtime.withLock { r in
            r.upcallsInFlight += 1
            r.activity &+= 1
            r.changes &+= 1
            return (r.takeIdleHeartbeat(), r.warmingAfterTakeOver)
        }
        let timeout = callDeadline(warming: warming)
        conn.call(m, timeout: timeout) { [self] result in
            runtime.withLock { r in
                r.upcallsInFlight = max(0, r.upcallsInFlight - 1)
            }
            // Answered (or not): the heartbeat that was backed off pings
            // now and then every HeartbeatSec, watching what the call left.
            if idleHeartbeat { heartbeatNow() }
            switch result {
            case .success(let reply):
                // Answered by a process already judged failed (its reply
                // outran its death: an error about a downcall the daemon no
                // longer served, say): not an answer. The recovered u-driver
                // is asked, as for a call the failure cut off.
                enum Late { case no, queued, resend, retried(Queued), refused }
                let late = runtime.withLock { r -> Late in
                    guard r.failedGeneration == gen else { return .no }
                    guard !r.stopping else { return .refused }
                    // Read only here: this closure runs for every answer.
                    let limit = requestRetries
                    let q = Queued(message: m, done: done, failures: failures)
                    if r.state == .recovering {
                        return r.keepForRetry(q, limit: limit).map { .retried($0) } ?? .queued
                    }
                    guard r.state == .active && r.generation != gen else { return .refused }
                    return failures + 1 > limit ? .retried(Queued(message: m, done: done, failures: failures + 1)) : .resend
                }
                switch late {
                case .no: break
                case .queued: return
                case .retried(let q): refuseRetried(q); return
                case .resend: submit(m, validated: validated, failures: failures + 1, done: done); return
                case .refused:
                    done(.errorReply(to: m, errno: 11, message: "\(name): the u-driver that took the call failed"))
                    return
                }
                let violation = ReplyContract.violation(request: m, reply: reply, of: config.deviceClass)
                DaemonMetrics.shared.xpcCall(.upcall, m.op, failed: reply.status != 0 || violation != nil)
                if let v = violation {
                    retryOrRefuse(Queued(message: m, done: done, failures: failures))
                    failure(.badParameter, "\(m.op.name): \(v.message)", generation: gen, op: m.op, parameter: v.attribute)
                    return
                }
                if ReplyContract.misread(request: m, reply: reply) {
                    retryOrRefuse(Queued(message: m, done: done, failures: failures))
                    failure(.protocol, "\(m.op.name): answered EPROTO to a well-formed request: \(reply.remoteError?.message ?? "")",
                            generation: gen, op: m.op, parameter: reply.remoteError?.attribute)
                    return
                }
                // A refusal of arguments the class validated: the u-driver's
                // own checks are broken (a corrupted process). Asked once
                // more of the recovered one, whose answer stands: a refusal
                // it repeats reaches the caller (drained requests are not
                // checked again).
                if validated, ReplyContract.refusesValidated(request: m, reply: reply) {
                    retryOrRefuse(Queued(message: m, done: done, failures: failures))
                    failure(.protocol, "\(m.op.name): refused arguments its class validated: \(reply.remoteError.map { "\($0)" } ?? "")",
                            generation: gen, op: m.op, parameter: reply.remoteError?.attribute)
                    return
                }
                let kept = runtime.withLock { r in
                    r.shadow.record(m, reply: reply)
                    return r.shadow.keeps(m.op)
                }
                done(reply)
                // After the answer: the caller does not wait for the file
                // or the check.
                if kept && reply.status == 0 {
                    persist()
                    if config.verifySettings { verifyAfter(m.op, generation: gen) }
                }
            case .failure(let e):
                DaemonMetrics.shared.xpcCall(.upcall, m.op, failed: true)
                // In flight when the driver failed: it goes first to the recovered driver.
                // If the driver already serves again (the failure was
                // detected and recovered before this call's channel said it
                // closed or timed out), the new u-driver is asked now: the
                // retry queue is drained only by a recovery, and none is
                // coming for that u-driver.
                let limit = requestRetries
                let (after, retried) = runtime.withLock { r -> (FailedCallRoute, Queued?) in
                    let route = FailedCallRoute(state: r.state, stopping: r.stopping, generation: r.generation, callGeneration: gen)
                    let q = Queued(message: m, done: done, failures: failures)
                    switch route {
                    case .kept: return (route, r.keepForRetry(q, limit: limit))
                    case .resend where failures + 1 > limit:
                        return (route, Queued(message: m, done: done, failures: failures + 1))
                    default: return (route, nil)
                    }
                }
                // Past RequestRetries=: the caller is answered; the failure
                // is still reported (kept) for the u-driver that has it.
                if let retried { refuseRetried(retried) }
                switch after {
                case .kept: break
                case .resend:
                    if retried == nil { submit(m, validated: validated, failures: failures + 1, done: done) }
                    return
                case .refused: done(.errorReply(to: m, errno: 11, message: "\(name): \(e)")); return
                }
                if e.code == .timeout {
                    failure(.timeout, "\(m.op.name) unanswered after \(timeout)", generation: gen, op: m.op)
                } else if e.code == .system {
                    // The channel broke under the call (the u-driver closed
                    // its end): recover now rather than at the next ping.
                    failure(.protocol, "\(m.op.name): the channel to the u-driver broke: \(e)", generation: gen, op: m.op)
                }
            }
        }
    }

    /// ``Runtime/keepForRetry(_:limit:atFront:)`` under the lock, then
    /// the caller answered if the request is past RequestRetries=.
    func retryOrRefuse(_ q: Queued) {
        let limit = requestRetries
        if let past = runtime.withLock({ $0.keepForRetry(q, limit: limit) }) { refuseRetried(past) }
    }

    /// After a setter the u-driver acknowledged: the nucleus reads the
    /// device back (DEVICE_INFO) and the class shadow compares it with what
    /// the u-driver said it programmed. A difference is a `divergence`
    /// failure, and recovery's replay programs the shadow's settings into
    /// the device again: a u-driver that acknowledges a setting it did not
    /// make (a corrupted branch, a wrong register) is caught at once, not
    /// at the next `drvctl verify`.
    ///
    /// A read-back that overlaps another upcall or a downcall that may
    /// change the device (not a REG_READ) may catch it between two
    /// settings: it is not compared, and is made again 20 ms later, then
    /// 40, 80…, at most ``verifyAttempts`` times in all.
    func verifyAfter(_ op: XPCOp, generation gen: UInt64, attempt: Int = 1) {
        enum Start { case gone, busy, read(UInt32, UInt64) }
        let start = runtime.withLock { r -> Start in
            guard r.generation == gen, r.state == .active, let d = r.device else { return .gone }
            return r.upcallsInFlight == 0 ? .read(d.instance, r.changes) : .busy
        }
        @Sendable func again() {
            guard attempt < Self.verifyAttempts else { return }
            Task {
                try? await Task.sleep(for: .milliseconds(20 << (attempt - 1)))
                verifyAfter(op, generation: gen, attempt: attempt + 1)
            }
        }
        guard case .read(let instance, let activity) = start else {
            if case .busy = start { again() }
            return
        }
        nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: instance), timeout: Self.downcallTimeout) { [self] result in
            guard case .success(let info) = result, info.status == 0 else { return }
            let diffs = runtime.withLock { r -> [ShadowDivergence]? in
                guard r.generation == gen, r.state == .active else { return [] }
                guard r.upcallsInFlight == 0, r.changes == activity else { return nil }
                return r.shadow.divergences(from: info).differing
            }
            guard let diffs else { again(); return }
            guard !diffs.isEmpty else { return }
            let what = diffs.map { "\($0.setting) \($0.found), expected \($0.expected)" }.joined(separator: "; ")
            failure(.divergence, "after \(op.name) the device does not hold what the u-driver acknowledged: \(what)",
                    generation: gen, op: op)
        }
    }

    /// An upcall from the nucleus: `submit`, answered under its own seq.
    /// The seq goes along as UPCALL_ID: a nucleus sends an upcall a dead
    /// daemon left unanswered again, and a u-driver that has served it
    /// answers from its cache, so the upcall takes effect once.
    func forwardUpcall(_ m: XPCMessage) {
        let tagged = m.has(.upcallID) ? m : XPCMessage(op: m.op, flags: m.flags, seq: m.seq, instance: m.instance,
                                                     timeoutMicros: m.header.timeoutMicros,
                                                     attributes: m.attributes + [.u32(.upcallID, m.seq)])
        submit(tagged) { [nucleus] reply in try? nucleus.send(reply.withSeq(m.seq)) }
    }

    /// A daemon-originated upcall (drvctl call: a class operation whose
    /// arguments the class parsed and checked) through the same path.
    func call(_ op: XPCOp, _ attrs: [XPCAttribute]) async -> XPCMessage {
        let inst = runtime.withLock { $0.device?.instance ?? 0 }
        return await withCheckedContinuation { (k: CheckedContinuation<XPCMessage, Never>) in
            submit(XPCMessage(op: op, flags: .request, instance: inst, attributes: attrs), validated: true) { k.resume(returning: $0) }
        }
    }

    /// A downcall from the u-driver: check, forward to the nucleus, pass the
    /// reply back under the u-driver's own sequence number. A refused
    /// downcall is a `bad-parameter` failure.
    func forwardDowncall(_ conn: XPCConnection, _ m: XPCMessage, _ gen: UInt64) {
        let now = monotonicNanos()
        let deadline = m.op.downcallDeadline
        // While it waits for one the header declares slow, the u-driver's
        // upcalls are not judged (DowncallRate.awaitingSlowUntil).
        let slow = deadline > XPCLimits.downcallDeadline
        typealias Look = (NucleusDevice?, Set<UInt32>, String?, Int32?, Bool, Bool)
        let (dev, owned, flood, pid, idleHeartbeat, judged) = runtime.withLock { r -> Look in
            // A u-driver already judged failed is being killed: what it
            // still sends must not reach the device, where it could undo
            // what its replacement writes.
            if gen == r.failedGeneration || gen == r.killedLaunch { return (r.device, r.ownedDMA, nil, nil, false, true) }
            r.activity &+= 1
            if m.op != .regRead { r.changes &+= 1 }
            if slow && r.generation == gen { r.downcalls.slowBegun(until: now &+ TimeSpan.micros(deadline) &* 1000) }
            return (r.device, r.ownedDMA, r.generation == gen ? r.downcalls.admit(now: now) : nil, r.process?.pid,
                    r.takeIdleHeartbeat(), false)
        }
        if idleHeartbeat { heartbeatNow() }
        guard let dev else { return }
        if judged {
            try? conn.send(.errorReply(to: m, errno: 11, message: "\(name): this u-driver was judged failed"))
            return
        }
        if let flood {
            failure(.protocol, flood, generation: gen, op: m.op)
            return
        }
        let policy = DowncallPolicy(instance: dev.instance, barSize: dev.barSize)
        if let no = policy.check(m, ownedDMA: owned) {
            DaemonMetrics.shared.xpcCall(.downcall, m.op, failed: true)
            // Judged failed before it hears the refusal: its answer to the
            // upcall it serves (the refusal passed on, as a corrupted
            // driver's would be) must find it failed and go to the
            // recovered u-driver, not to the caller.
            failure(.badParameter, "\(m.op.name): \(no.message)", generation: gen, op: m.op, parameter: no.attribute)
            try? conn.send(.errorReply(to: m, errno: no.errno, attribute: no.attribute, message: no.message))
            record("refused", "\(m.op.name): \(no.message)")
            return
        }
        // Named by the u-driver's pid and seq: sent again after this
        // daemon's death, it is answered by the nucleus from the first time.
        let named = pid.map { m.appending(.u64(.callID, UInt64(UInt32(bitPattern: $0)) << 32 | UInt64(m.seq))) } ?? m
        runtime.withLock { $0.forwardsBegun &+= 1 }
        defer { runtime.withLock { $0.forwardsSent &+= 1 } }
        nucleus.call(named, timeout: deadline) { [self] r in
            runtime.withLock { rt in
                guard rt.generation == gen else { return }
                rt.downcalls.done()
                if slow { rt.downcalls.slowDone() }
            }
            switch r {
            case .success(let reply):
                DaemonMetrics.shared.xpcCall(.downcall, m.op, failed: reply.status != 0)
                // A register write the chip's write check refused (a bus
                // address not from REG_WRITE_DMA, a DMA size past its
                // buffer: drvnucleus.h's write_check) is the u-driver's
                // fault, as the policy's refusals above are. So is a
                // sliced driver's call whose message broke the driver's
                // description (drvnucleus names SLICE_ENTRY: an argument
                // that is no object of the kernel's, a field that does not
                // cross): the u-driver's encoder writes none (it ends the
                // process on such an argument), so one that came is a
                // corrupted u-driver's. A kernel API function's refusal of
                // the device's state names no field and is the driver's.
                if let e = reply.remoteError, e.errno == 1 || e.errno == 22,
                   [.regWrite, .regSeq, .regWriteDMA].contains(m.op) || (m.op == .sliceDowncall && e.attribute != nil) {
                    // The failure first, as for the policy's refusals: this
                    // runs on the nucleus's reader, the u-driver's answer
                    // to its upcall comes in on its own channel's, and one
                    // that came in before the failure was marked reached
                    // the caller as the answer (a campaign's ne2k-pci
                    // rx-mode, answered EPERM).
                    failure(.badParameter, "\(m.op.name): the nucleus refused it: \(e)", generation: gen, op: m.op,
                            parameter: e.attribute)
                    try? conn.send(reply.withSeq(m.seq))
                    record("refused", "\(m.op.name) by the nucleus: \(e.message ?? "")")
                    return
                }
                if reply.status == 0 {
                    if m.op == .dmaFree, let h = m.attribute(.dmaHandle) {
                        runtime.withLock { _ = $0.ownedDMA.remove(h.u32) }
                        persist()
                    } else if let h = reply.attribute(.dmaHandle) {
                        // A buffer the nucleus names in its answer to this
                        // instance is this instance's: DMA_ALLOC's, or an
                        // object the nucleus made itself (USB_SCHEDULE's
                        // frame list).
                        // Saved when it is new: a repeat (a reattach's
                        // USB_SCHEDULE) changes nothing.
                        if runtime.withLock({ $0.ownedDMA.insert(h.u32).inserted }) { persist() }
                    }
                }
                try? conn.send(reply.withSeq(m.seq))
            case .failure(let e):
                DaemonMetrics.shared.xpcCall(.downcall, m.op, failed: true)
                try? conn.send(.errorReply(to: m, errno: e.code == .timeout ? 110 : 5, message: "nucleus: \(e)"))
            }
        }
    }
}

extension DriverInstance.Runtime {
    /// A request whose u-driver failed with it in flight (the call's
    /// channel closed or timed out, its answer broke the class's contract,
    /// or the process was judged failed meanwhile), counted once more and
    /// kept for the next u-driver: at the back of the retry queue, or at
    /// its front (`atFront`: the drain's first unserved request). Past
    /// `limit` (RequestRetries=) it is not kept but returned, for
    /// ``DriverInstance/refuseRetried(_:)``: a request that fails every
    /// u-driver it reaches (a deterministic bug its arguments trigger, or
    /// one slower than XPCTimeoutSec=) would otherwise fail the driver
    /// until its start limit, taking every other caller down with it.
    /// Shadow Drivers (OSDI'04) names the case and fails the request.
    mutating func keepForRetry(_ q: DriverInstance.Queued, limit: Int, atFront: Bool = false) -> DriverInstance.Queued? {
        var q = q
        q.failures += 1
        guard q.failures <= limit else { return q }
        if atFront { retry.insert(q, at: 0) } else { retry.append(q) }
        return nil
    }
}
