// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One end of an XPC channel: sends calls with a sequence number and a
/// deadline, matches replies, and hands incoming requests to a handler.
///
/// A dedicated reader thread polls the transport, a timerfd armed for the
/// earliest deadline (so deadlines fire on time without a timer per call,
/// and a call does not wake the reader) and an eventfd (close, and jobs of
/// ``executor`` from other threads). Completions and the handlers run on
/// that thread: they must not block on another reply from this channel.
public final class XPCConnection: Sendable {
    /// What the reader hands out.
    public enum Event: Sendable {
        /// A request or notification from the peer.
        case message(XPCMessage)
        /// Bytes that did not decode, with the error (the reader replies
        /// EPROTO itself when it can read the header).
        case malformed(XPCError, [UInt8])
        /// A reply whose sequence number matches no pending call.
        case unexpectedReply(XPCMessage)
    }

    public typealias Completion = @Sendable (Result<XPCMessage, XPCError>) -> Void

    private struct State: Sendable {
        var pending = PendingCalls<Completion>()
        var closed = false
        /// ``close()`` was called: the reader stops at its next wake-up,
        /// whether or not the transport can shut down.
        var closing = false
        var started = false
        /// Set once every pending call has failed and `onClose` has run.
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
        /// The peer's run-queue wait as last read, and when: a call's
        /// baseline, read again only when older than ``waitSampleAge``.
        var waitSample: (at: UInt64, wait: UInt64?)?
        /// The deadline the timerfd is armed for; at or before it the
        /// reader wakes and looks at every deadline again.
        var armed: UInt64?
    }

    /// How old a reading of the peer's run-queue wait may be to serve as a
    /// new call's baseline: at most 20 reads of /proc a second per channel,
    /// whatever the call rate (the window then starts up to this much
    /// earlier, which only makes a starved peer easier to call starved).
    static let waitSampleAge: UInt64 = 50_000_000

    /// A short name for logs ("nucleus", "ens1371").
    public let name: String
    /// What carries the messages.
    public let transport: any XPCTransport
    private let state: Mutex<State>
    private let wakeFD: Int32
    private let timerFD: Int32
    /// Runs tasks that prefer it on this connection's reader thread (see
    /// ``XPCReaderExecutor``).
    public let executor: XPCReaderExecutor
    private let onEvent: @Sendable (XPCConnection, Event) -> Void
    private let onClose: @Sendable (XPCConnection) -> Void
    /// Whether calls keep the bytes they sent, for ``resendPending()``.
    private let keepsRequests: Bool
    /// The peer's cumulative run-queue wait in nanoseconds, if known: a
    /// deadline the peer missed while starved for CPU is extended
    /// (``PendingCalls/expire(now:peerWait:readerBusy:)``).
    private let peerWait: (@Sendable () -> UInt64?)?
    /// Until when (CLOCK_MONOTONIC ns) the peer waits for a slow call of its
    /// own, if it does (``PendingCalls/expire(now:peerWait:readerBusy:peerAwaits:)``).
    private let peerAwaits: (@Sendable () -> UInt64?)?

    /// Wraps `transport`. Nothing is read until ``start()``.
    /// - Parameters:
    ///   - onEvent: called on the reader thread for every incoming request,
    ///     notification, malformed packet or unmatched reply.
    ///   - onClose: called once, on the reader thread, after the peer closed
    ///     or ``close()`` was called and every pending call has failed.
    ///   - firstSeq: the first sequence number this end uses for its calls.
    ///   - keepsRequests: keep each call's bytes until it is answered, so
    ///     ``resendPending()`` can send it again.
    ///   - peerWait: reads the peer's cumulative run-queue wait (e.g.
    ///     ``SchedStat``), so that a starved peer is not declared hung.
    ///   - peerAwaits: until when the peer waits for a slow call of its own
    ///     (nil: it does not), so that a call it can only answer after that
    ///     one is not declared hung.
    public init(name: String, transport: any XPCTransport, firstSeq: UInt32 = 1, keepsRequests: Bool = false,
                peerWait: (@Sendable () -> UInt64?)? = nil,
                peerAwaits: (@Sendable () -> UInt64?)? = nil,
                onEvent: @escaping @Sendable (XPCConnection, Event) -> Void,
                onClose: @escaping @Sendable (XPCConnection) -> Void = { _ in }) {
        self.name = name
        self.keepsRequests = keepsRequests
        self.peerWait = peerWait
        self.peerAwaits = peerAwaits
        self.transport = transport
        self.state = Mutex(State(pending: PendingCalls(firstSeq: firstSeq)))
        let wakeFD = eventfd(0, drv_efd_cloexec | drv_efd_nonblock)
        self.wakeFD = wakeFD
        self.timerFD = timerfd_create(CLOCK_MONOTONIC, drv_tfd_cloexec | drv_tfd_nonblock)
        self.executor = XPCReaderExecutor(wake: {
            var one: UInt64 = 1
            _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
        })
        self.onEvent = onEvent
        self.onClose = onClose
    }

    /// A connection over a seqpacket socket.
    public convenience init(name: String, socket: XPCSocket, firstSeq: UInt32 = 1, keepsRequests: Bool = false,
                            peerWait: (@Sendable () -> UInt64?)? = nil,
                            peerAwaits: (@Sendable () -> UInt64?)? = nil,
                            onEvent: @escaping @Sendable (XPCConnection, Event) -> Void,
                            onClose: @escaping @Sendable (XPCConnection) -> Void = { _ in }) {
        self.init(name: name, transport: socket, firstSeq: firstSeq, keepsRequests: keepsRequests,
                  peerWait: peerWait, peerAwaits: peerAwaits, onEvent: onEvent, onClose: onClose)
    }

    deinit {
        Glibc.close(wakeFD)
        if timerFD >= 0 { Glibc.close(timerFD) }
    }

    /// Starts the reader thread (once).
    public func start() {
        let first = state.withLock { s -> Bool in
            if s.started { return false }
            s.started = true
            return true
        }
        guard first else { return }
        startThread(name: "xpc-\(name)") { [self] in self.readLoop() }
    }

    /// Whether the channel is closed.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// How many calls await a reply.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Sends `message` as a request with a fresh sequence number and
    /// `timeout`; `completion` runs once, with the reply or an error
    /// (``XPCError/Code/timeout``, ``XPCError/Code/closed``). A reply with a
    /// negative status is delivered as a success: callers decide.
    public func call(_ message: XPCMessage, timeout: Duration, completion: @escaping Completion) {
        let ns = UInt64(max(0, timeout.components.seconds)) * 1_000_000_000
            + UInt64(max(0, timeout.components.attoseconds / 1_000_000_000))
        let deadline = monotonicNanos() &+ ns
        let micros = UInt32(clamping: ns / 1000)
        let wait = peerWaitBaseline(now: deadline &- ns)
        let now = deadline &- ns
        let r = state.withLock { s -> UInt32? in
            if s.closed { return nil }
            let seq = s.pending.add(op: message.op, deadline: deadline, timeout: ns, peerWait: wait, completion: completion)
            // The reader wakes at the armed deadline at the latest and then
            // sees this one: the timer is set again only for an earlier
            // deadline, which back-to-back calls of one timeout never are.
            if s.armed.map({ $0 <= now || deadline < $0 }) ?? true {
                s.armed = deadline
                arm(deadline)
            }
            return seq
        }
        guard let seq = r else { completion(.failure(XPCError(.closed, "\(name)"))); return }
        let m = message.withSeq(seq).with(timeoutMicros: micros)
        let bytes = m.bytes
        if keepsRequests { state.withLock { $0.pending.keep(seq: seq, request: bytes, timeout: ns) } }
        do {
            try transport.send(bytes)
        } catch let e as XPCError {
            if let c = state.withLock({ $0.pending.complete(seq: seq) }) { c.completion(.failure(e)) }
        } catch {
            if let c = state.withLock({ $0.pending.complete(seq: seq) }) {
                c.completion(.failure(XPCError(.system, "\(error)")))
            }
        }
    }

    /// The peer's run-queue wait for a call sent `now`: the last reading if
    /// it is recent enough, else a fresh one.
    private func peerWaitBaseline(now: UInt64) -> UInt64? {
        guard let peerWait else { return nil }
        if let s = state.withLock({ $0.waitSample }), now &- s.at < Self.waitSampleAge { return s.wait }
        let w = peerWait()
        state.withLock { $0.waitSample = (now, w) }
        return w
    }

    /// `call` for async callers; throws ``XPCError`` on timeout or close.
    public func call(_ message: XPCMessage, timeout: Duration) async throws -> XPCMessage {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<XPCMessage, Error>) in
            call(message, timeout: timeout) { k.resume(with: $0.mapError { $0 as Error }) }
        }
    }

    /// A pipelined call's result and the CLOCK_MONOTONIC time (ns) it came in.
    public typealias Timed = (result: Result<XPCMessage, XPCError>, at: UInt64)

    /// Sends `messages` back to back, without waiting for a reply between
    /// them (a pipeline: the peer reads and serves them in the order sent),
    /// then waits for all the replies: the caller is woken once for the
    /// batch, not once a call. Each result is in its message's place, with
    /// the CLOCK_MONOTONIC time it came in; a failed call does not stop
    /// those sent after it.
    public func calls(_ messages: [XPCMessage], timeout: Duration) async -> [Timed] {
        guard !messages.isEmpty else { return [] }
        struct Batch { var results: [Timed?]; var left: Int }
        return await withCheckedContinuation { (k: CheckedContinuation<[Timed], Never>) in
            let batch = Mutex(Batch(results: Array(repeating: nil, count: messages.count), left: messages.count))
            for (i, m) in messages.enumerated() {
                call(m, timeout: timeout) { r in
                    let at = monotonicNanos()
                    let done = batch.withLock { b -> [Timed]? in
                        b.results[i] = (r, at)
                        b.left -= 1
                        return b.left == 0 ? b.results.compactMap { $0 } : nil
                    }
                    if let done { k.resume(returning: done) }
                }
            }
        }
    }

    /// Sends every call still waiting for its reply again, as first sent
    /// (same sequence number), with its whole time again; only on a
    /// connection made with `keepsRequests`. Returns how many went out.
    /// A second reply to one of them finds no call and is an
    /// ``Event/unexpectedReply(_:)``.
    @discardableResult
    public func resendPending() -> Int {
        let again = state.withLock { $0.pending.resend(now: monotonicNanos()) }
        wake()
        var sent = 0
        for r in again where (try? transport.send(r)) != nil { sent += 1 }
        return sent
    }

    /// Sends a reply or notification as is.
    public func send(_ message: XPCMessage) throws {
        if isClosed { throw XPCError(.closed, "\(name)") }
        try transport.send(message.bytes)
    }

    /// Closes the channel: the reader stops, pending calls fail with
    /// ``XPCError/Code/closed``, and `onClose` runs.
    public func close() {
        state.withLock { $0.closing = true }
        transport.shutdown()
        wake()
    }

    /// The timerfd to expire at `deadline` (CLOCK_MONOTONIC, absolute); an
    /// eventfd wake-up where there is no timerfd.
    private func arm(_ deadline: UInt64) {
        guard timerFD >= 0 else { wake(); return }
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(deadline / 1_000_000_000)
        spec.it_value.tv_nsec = Int(deadline % 1_000_000_000)
        if timerfd_settime(timerFD, drv_tfd_timer_abstime, &spec, nil) != 0 { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }

    private func readLoop() {
        var fds = [pollfd(fd: transport.fd, events: drv_pollin, revents: 0),
                   pollfd(fd: wakeFD, events: drv_pollin, revents: 0),
                   pollfd(fd: timerFD, events: drv_pollin, revents: 0)]
        executor.attach()
        loop: while true {
            executor.runPending()
            let next = state.withLock { s -> UInt64? in
                if let a = s.armed, a <= monotonicNanos() { s.armed = nil }
                return s.pending.nextDeadline
            }
            var timeoutMs: Int32 = -1
            if let next {
                let now = monotonicNanos()
                timeoutMs = next <= now ? 0 : Int32(clamping: (next - now + 999_999) / 1_000_000)
            }
            fds[0].revents = 0
            fds[1].revents = 0
            fds[2].revents = 0
            let n = poll(&fds, timerFD >= 0 ? 3 : 2, timeoutMs)
            if n < 0 && errno != EINTR { break loop }
            if state.withLock({ $0.closing }) { break loop }
            for i in 1...2 where fds[i].revents & drv_pollin != 0 {
                var v: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &v) { read(fds[i].fd, $0.baseAddress, 8) }
            }
            let readable = fds[0].revents & (drv_pollin | drv_pollhup | drv_pollerr) != 0
            if readable {
                let bytes: [UInt8]?
                do {
                    bytes = try transport.receive()
                } catch let e as XPCError {
                    onEvent(self, .malformed(e, []))
                    continue
                } catch {
                    break loop
                }
                guard let bytes else { break loop }
                dispatch(bytes)
            }
            let now = monotonicNanos()
            guard state.withLock({ $0.pending.nextDeadline.map { $0 <= now } ?? false }) else { continue }
            // Only when a deadline passed: the peer's schedstat is read then.
            let wait = peerWait?()
            let awaits = peerAwaits?()
            let due = state.withLock { $0.pending.expire(now: now, peerWait: wait, readerBusy: readable, peerAwaits: awaits) }
            for d in due {
                d.completion(.failure(XPCError(.timeout, "\(d.op.name) seq \(d.seq) on \(name)")))
            }
        }
        let rest = state.withLock { s -> [(seq: UInt32, op: XPCOp, completion: Completion)] in
            s.closed = true
            return s.pending.drain()
        }
        for d in rest { d.completion(.failure(XPCError(.closed, "\(d.op.name) on \(name)"))) }
        onClose(self)
        executor.stop()
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.finished = true
            defer { s.finishWaiters = [] }
            return s.finishWaiters
        }
        for w in waiters { w.resume() }
    }

    /// Closes the channel and returns once the reader has stopped, every
    /// pending call has failed and `onClose` has run. A channel never
    /// started counts as finished at once.
    public func closeAndWait() async {
        close()
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.finished || !s.started { return true }
                s.finishWaiters.append(k)
                return false
            }
            if now { k.resume() }
        }
    }

    private func dispatch(_ bytes: [UInt8]) {
        let m: XPCMessage
        do {
            m = try XPCMessage.decode(bytes)
        } catch {
            let e = error as? XPCError ?? XPCError(.system, "\(error)")
            replyProtocolError(bytes, e)
            // A reply whose header reads but whose body does not: its call
            // fails now with the named field, not at its deadline.
            if let seq = Self.replySeq(bytes), let c = state.withLock({ $0.pending.complete(seq: seq) }) {
                c.completion(.failure(e))
            }
            onEvent(self, .malformed(e, bytes))
            return
        }
        if m.isReply {
            if let c = state.withLock({ $0.pending.complete(seq: m.seq) }) {
                c.completion(.success(m))
            } else {
                onEvent(self, .unexpectedReply(m))
            }
            return
        }
        onEvent(self, .message(m))
    }

    /// The sequence number of a reply whose header is readable (flags say
    /// reply, not request); nil otherwise.
    static func replySeq(_ bytes: [UInt8]) -> UInt32? {
        guard bytes.count >= XPCLimits.headerSize else { return nil }
        let flags = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        guard flags & XPCFlags.reply.rawValue != 0, flags & XPCFlags.request.rawValue == 0 else { return nil }
        return UInt32(XPCAttribute.read(bytes, at: 8, 4))
    }

    /// Answers a malformed request with EPROTO when its header is readable,
    /// so the caller fails at once instead of waiting for its deadline.
    private func replyProtocolError(_ bytes: [UInt8], _ e: XPCError) {
        guard bytes.count >= XPCLimits.headerSize else { return }
        let flags = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        guard flags & XPCFlags.request.rawValue != 0, flags & XPCFlags.reply.rawValue == 0 else { return }
        let op = XPCOp(rawValue: UInt16(bytes[4]) | UInt16(bytes[5]) << 8)
        let seq = UInt32(XPCAttribute.read(bytes, at: 8, 4))
        let inst = UInt32(XPCAttribute.read(bytes, at: 12, 4))
        var attrs: [XPCAttribute] = []
        if let a = e.attribute { attrs.append(.u16(.errAttr, a.rawValue)) }
        attrs.append(.string(.errMsg, String(e.description.utf8.prefix(120)) ?? "malformed"))
        // An unknown op cannot be echoed back as is; answer as PING.
        let replyOp = op.isKnown ? op : .ping
        let r = XPCMessage(op: replyOp, flags: .reply, seq: seq, instance: inst, status: -EPROTO, attributes: attrs)
        try? transport.send(r.bytes)
    }
}

/// Starts a detached OS thread running `body`. pthreads directly, not
/// Foundation's Thread: Foundation initialises lazily (reading
/// /etc/localtime among others), which a sandboxed u-driver may not do once
/// its second seccomp stage is in place.
public func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let label = String(name.utf8.prefix(15)) ?? "xpc"
    let arg = Unmanaged.passRetained(Box({ _ = drv_set_thread_name(label); body() })).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    var tid = pthread_t()
    let r = pthread_create(&tid, &attr, { raw in
        guard let raw else { return nil }
        Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
        return nil
    }, arg)
    pthread_attr_destroy(&attr)
    if r != 0 { Unmanaged<Box>.fromOpaque(arg).release() }
}
