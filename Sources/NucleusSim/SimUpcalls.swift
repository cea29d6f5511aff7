// SPDX-License-Identifier: GPL-2.0
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// The upcalls nucleus-sim has sent and the daemon has not answered, as
/// drvnucleus.ko keeps them (runtime.c, pending_upcalls): each with its
/// message, under a seq of the nucleus's own, until its answer comes.
///
/// When the daemon dies, what it left unanswered goes again, in order and
/// under the same seq, to the next daemon that registers; the u-driver,
/// which gets the seq as UPCALL_ID, answers one it has served from its
/// cache. A waiter's deadline starts anew at the redelivery. Once a daemon
/// has registered, an upcall nobody waits for that is made with no daemon
/// there waits for the next one. A waited-for one does too while the last
/// daemon died (its connection closed without UNREGISTER): an upcall made
/// during the restart is answered by the next daemon; before any daemon,
/// and after one UNREGISTERed (stopped on purpose), it fails with EAGAIN at
/// once. A waited-for upcall whose deadline passes while no daemon is
/// registered waits once more, ``daemonRestartNanos``, for the next
/// (daemon_restart_ms).
final class SimUpcalls: Sendable {
    typealias Waiter = CheckedContinuation<XPCMessage, any Error>

    struct Entry {
        var message: XPCMessage
        var waiter: Waiter?
        /// The answer, when it came before the waiter was stored.
        var answer: XPCMessage?
        var waited: Bool
        /// Monotonic ns; asynchronous entries are dropped after it.
        var expires: UInt64
        /// A waited-for upcall's time (ns), and when it runs out.
        var timeout: UInt64 = 0
        var deadline: UInt64 = .max
        /// Its deadline passed once with no daemon, and was extended.
        var graced = false
    }

    struct Table {
        var broker: XPCConnection?
        var daemonSeen = false
        /// The last daemon died: the next is expected (drvnucleus.ko's
        /// daemon_expected).
        var daemonExpected = false
        /// Random at start, as drvnucleus.ko's: a u-driver must not take a
        /// new nucleus's upcall for one an earlier nucleus sent.
        var nextSeq = UInt32.random(in: 0...UInt32.max)
        var entries: [UInt32: Entry] = [:]
        var order: [UInt32] = []
        var redelivered: UInt64 = 0
        /// Messages that crossed the nucleus ⇄ daemon hop per instance, as
        /// drvnucleus.ko's XPC_MESSAGES counts them: downcalls and their
        /// replies, upcalls sent (once, not their redeliveries) and answered.
        var messages: [UInt32: UInt64] = [:]

        mutating func remove(_ seq: UInt32) -> Entry? {
            guard let e = entries.removeValue(forKey: seq) else { return nil }
            order.removeAll { $0 == seq }
            return e
        }

        /// Waited-for upcalls whose time ran out, removed; one whose
        /// deadline passed with no daemon registered gets `grace` more,
        /// once.
        mutating func overdue(now: UInt64, grace: UInt64) -> [(Entry, UInt32)] {
            var due: [UInt32] = []
            for seq in order {
                guard var e = entries[seq], e.waited, e.deadline <= now else { continue }
                if broker == nil && !e.graced && grace > 0 {
                    e.graced = true
                    e.deadline = now &+ grace
                    entries[seq] = e
                    continue
                }
                due.append(seq)
            }
            return due.compactMap { seq in remove(seq).map { ($0, seq) } }
        }

        mutating func expire(now: UInt64) {
            for seq in order where entries[seq].map({ !$0.waited && $0.expires <= now }) ?? false {
                _ = remove(seq)
            }
        }
    }

    /// How long an unanswered upcall nobody waits for is kept (runtime.c's
    /// async_upcall_keep_ms).
    static let asyncKeepNanos: UInt64 = 30_000_000_000
    /// At most this many of them (DRVNUCLEUS_MAX_ASYNC).
    static let maxAsync = 256

    let table = Mutex(Table())
    /// How long past its deadline a waited-for upcall waits for a daemon
    /// to register again after the one it was sent to died.
    let daemonRestartNanos: UInt64

    init(daemonRestart: Duration = .seconds(10)) {
        let c = daemonRestart.components
        daemonRestartNanos = UInt64(clamping: c.seconds) &* 1_000_000_000 &+ UInt64(clamping: c.attoseconds / 1_000_000_000)
    }
    /// Whether the thread that fails overdue upcalls runs.
    private let sweeping = Mutex(false)
    /// How often it looks: timeouts are hundreds of milliseconds.
    static let sweepNanos: UInt64 = 10_000_000

    /// One thread for every waited-for upcall's deadline, rather than a
    /// timer task per upcall: that task's creation, sleep and cancellation
    /// cost more than the upcall's round trip.
    private func startSweeper() {
        guard sweeping.withLock({ s in defer { s = true }; return !s }) else { return }
        startThread(name: "sim-upcall-timer") { [self] in
            while true {
                usleep(UInt32(Self.sweepNanos / 1000))
                let due = table.withLock { $0.overdue(now: monotonicNanos(), grace: daemonRestartNanos) }
                for (e, _) in due {
                    e.waiter?.resume(throwing: XPCError(.timeout, "\(e.message.op.name) unanswered after \(Duration.nanoseconds(Int64(e.timeout)))"))
                }
            }
        }
    }

    /// The registered daemon, if any.
    var broker: XPCConnection? { table.withLock { $0.broker } }

    /// Upcalls sent again to a new daemon since start.
    var redeliveredCount: UInt64 { table.withLock { $0.redelivered } }

    /// Counts a downcall and its reply for `instance`.
    func countDowncall(_ instance: UInt32) { table.withLock { $0.messages[instance, default: 0] += 2 } }

    /// XPC_MESSAGES of `instance`.
    func messages(_ instance: UInt32) -> UInt64 { table.withLock { $0.messages[instance] ?? 0 } }

    /// Unanswered upcalls (waited for or not).
    var pendingCount: Int { table.withLock { $0.entries.count } }

    /// `conn` registered: it becomes the daemon; returns the messages the
    /// one before left unanswered, in order, for ``redeliver(_:to:)`` after
    /// the DEVICE_ADDs.
    func takeOver(_ conn: XPCConnection) -> [XPCMessage] {
        table.withLock { t in
            t.expire(now: monotonicNanos())
            t.broker = conn
            t.daemonSeen = true
            t.daemonExpected = false
            let now = monotonicNanos()
            return t.order.compactMap { seq in
                if let e = t.entries[seq], e.waited { t.entries[seq]?.deadline = now &+ e.timeout }
                return t.entries[seq]?.message
            }
        }
    }

    func redeliver(_ messages: [XPCMessage], to conn: XPCConnection) {
        var n: UInt64 = 0
        for m in messages where (try? conn.send(m)) != nil { n += 1 }
        table.withLock { $0.redelivered += n }
    }

    /// The daemon's connection closed: its upcalls stay for the next one,
    /// and upcalls made meanwhile wait for it.
    func brokerClosed(_ conn: XPCConnection) {
        table.withLock { t in
            if t.broker === conn {
                t.broker = nil
                t.daemonExpected = true
            }
        }
    }

    /// UNREGISTER from `conn`: the daemon stops on purpose. Its waited-for
    /// upcalls fail now (EAGAIN), later ones at once; false if `conn` is
    /// not the registered daemon.
    func unregister(_ conn: XPCConnection) -> Bool {
        let failed = table.withLock { t -> [Waiter]? in
            guard t.broker === conn else { return nil }
            t.broker = nil
            t.daemonExpected = false
            var out: [Waiter] = []
            for seq in t.order {
                guard let e = t.entries[seq], e.waited else { continue }
                _ = t.remove(seq)
                if let w = e.waiter { out.append(w) }
            }
            return out
        }
        guard let failed else { return false }
        for w in failed { w.resume(throwing: XPCError(.remote, errno: 11, "the daemon unregistered")) }
        return true
    }

    /// An upcall nobody waits for (drvnucleus_upcall_async). The sim's
    /// chips ask for one mostly without attributes (the u-driver reads the
    /// state itself), so one of each kind unanswered per device is enough.
    func sendAsync(_ instance: UInt32, _ op: XPCOp, _ attrs: [XPCAttribute] = []) {
        let (msg, conn) = table.withLock { t -> (XPCMessage?, XPCConnection?) in
            guard t.daemonSeen else { return (nil, nil) }
            let now = monotonicNanos()
            t.expire(now: now)
            let unanswered = t.entries.values.filter { !$0.waited }
            guard unanswered.count < Self.maxAsync,
                  !unanswered.contains(where: { $0.message.instance == instance && $0.message.op == op }) else { return (nil, nil) }
            t.nextSeq &+= 1
            if t.nextSeq == 0 { t.nextSeq = 1 }
            let m = XPCMessage(op: op, flags: .request, seq: t.nextSeq, instance: instance, attributes: attrs)
            t.entries[m.seq] = Entry(message: m, waited: false, expires: now &+ Self.asyncKeepNanos)
            t.order.append(m.seq)
            t.messages[instance, default: 0] += 1
            return (m, t.broker)
        }
        if let msg, let conn { try? conn.send(msg) }
    }

    /// A waited-for upcall (drvnucleus_upcall_wait): EAGAIN at once with no
    /// daemon and none expected; otherwise the answer, or EAGAIN after
    /// `timeout` (counted anew when it is sent, or sent again, to a new
    /// daemon; extended once by the restart grace while none is there).
    func call(_ instance: UInt32, _ op: XPCOp, _ attrs: [XPCAttribute], timeout: Duration) async throws -> XPCMessage {
        let micros = UInt32(clamping: timeout.components.seconds * 1_000_000 + timeout.components.attoseconds / 1_000_000_000_000)
        let ns = UInt64(micros) * 1000
        startSweeper()
        let started = table.withLock { t -> (XPCMessage, XPCConnection?)? in
            guard t.broker != nil || t.daemonExpected else { return nil }
            let b = t.broker
            t.nextSeq &+= 1
            if t.nextSeq == 0 { t.nextSeq = 1 }
            let m = XPCMessage(op: op, flags: .request, seq: t.nextSeq, instance: instance,
                               timeoutMicros: micros, attributes: attrs)
            t.entries[m.seq] = Entry(message: m, waited: true, expires: .max, timeout: ns, deadline: monotonicNanos() &+ ns)
            t.order.append(m.seq)
            t.messages[instance, default: 0] += 1
            return (m, b)
        }
        guard let (m, conn) = started else { throw XPCError(.remote, errno: 11, "no daemon registered") }
        let seq = m.seq
        // With no daemon yet, the next one gets it at its REGISTER.
        if let conn { try? conn.send(m) }
        return try await withCheckedThrowingContinuation { (k: Waiter) in
            let ready = table.withLock { t -> XPCMessage?? in
                guard t.entries[seq] != nil else { return .some(nil) }
                if let a = t.entries[seq]?.answer {
                    _ = t.remove(seq)
                    return .some(a)
                }
                t.entries[seq]?.waiter = k
                return .none
            }
            switch ready {
            case .none: break
            case .some(.some(let a)): k.resume(returning: a)
            case .some(.none): k.resume(throwing: XPCError(.timeout, "\(op.name) unanswered after \(timeout)"))
            }
        }
    }

    /// A reply from `conn`: the answer of the upcall with its seq, if that
    /// is still pending and `conn` is the registered daemon.
    func answered(_ reply: XPCMessage, from conn: XPCConnection) {
        let waiter = table.withLock { t -> Waiter? in
            guard t.broker === conn, let e = t.entries[reply.seq] else { return nil }
            t.messages[e.message.instance, default: 0] += 1
            if !e.waited {
                _ = t.remove(reply.seq)
                return nil
            }
            guard let w = e.waiter else {
                t.entries[reply.seq]?.answer = reply
                return nil
            }
            _ = t.remove(reply.seq)
            return w
        }
        waiter?.resume(returning: reply)
    }
}
