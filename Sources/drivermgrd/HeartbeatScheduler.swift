// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import HeapModule
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// Something whose heartbeat ``HeartbeatScheduler`` keeps: a driver
/// instance, pinging its u-driver when it is due.
protocol HeartbeatTarget: AnyObject, Sendable {
    /// The heartbeat is due (`now`, monotonic ns): ping, and say when it is
    /// due next; nil ends this target's heartbeat.
    func heartbeatDue(now: UInt64) -> UInt64?
}

/// Every driver's heartbeat on one thread: a heap of due times, the thread
/// asleep in poll(2) until the earliest, and the targets due by then (or
/// within ``coalescing`` of it) pinged together.
///
/// It replaces a task per driver asleep in `Task.sleep`: with a thousand
/// drivers backed off to a 5 s period, libdispatch's timer thread woke
/// for each of 200 sleeps a second and handed each to the cooperative pool,
/// a sixth of an idle daemon's CPU (perf). Here a wake-up costs a
/// poll(2) return and a heap pop, and pings due a few milliseconds apart
/// share it. A ping is sent with its completion (``XPCConnection/call(_:timeout:completion:)``),
/// whose deadline the channel's reader keeps, so nothing waits here.
///
/// Targets are held weakly: a driver removed by a reload drops out when
/// its entry comes up.
final class HeartbeatScheduler: Sendable {
    /// The daemon's scheduler; its thread starts with the first schedule.
    static let shared = HeartbeatScheduler()

    /// Heartbeats due this close after the earliest are sent with it: a
    /// ping a few milliseconds early costs nothing, a wake-up each does.
    static let coalescing: UInt64 = 10_000_000

    private struct Weak: @unchecked Sendable {
        weak var target: (any HeartbeatTarget)?
    }

    private struct Entry: Comparable {
        var due: UInt64
        var token: UInt64
        var id: ObjectIdentifier
        var ref: Weak
        static func < (a: Entry, b: Entry) -> Bool { (a.due, a.token) < (b.due, b.token) }
        static func == (a: Entry, b: Entry) -> Bool { a.due == b.due && a.token == b.token }
    }

    private struct State: ~Copyable {
        var heap = Heap<Entry>()
        /// Each target's current entry; an entry whose token is no longer
        /// here was replaced and is skipped when it comes up.
        var current: [ObjectIdentifier: UInt64] = [:]
        var nextToken: UInt64 = 0
        var started = false
    }

    private let state = Mutex(State())
    /// Written to wake the thread: an entry earlier than the one it sleeps for.
    private let wakeFD: Int32

    init() {
        wakeFD = eventfd(0, drv_efd_cloexec | drv_efd_nonblock)
    }

    /// How many targets have a heartbeat (for the tests).
    var count: Int { state.withLock { $0.current.count } }

    /// The target's heartbeat is due at `due` (monotonic ns), replacing
    /// the time it had: sooner when a call cut a backed-off period short.
    func schedule(_ target: any HeartbeatTarget, at due: UInt64) {
        put(target, at: due, unless: nil)
    }

    /// `schedule`, unless the target was scheduled again since `token`
    /// came up (a call's wake-up during its ping stays).
    private func put(_ target: any HeartbeatTarget, at due: UInt64, unless token: UInt64?) {
        let (wake, start) = state.withLock { s -> (Bool, Bool) in
            let id = ObjectIdentifier(target)
            if let token, s.current[id] != token { return (false, false) }
            s.nextToken &+= 1
            s.current[id] = s.nextToken
            let earliest = s.heap.min?.due
            s.heap.insert(Entry(due: due, token: s.nextToken, id: id, ref: Weak(target: target)))
            defer { s.started = true }
            return (earliest.map { due < $0 } ?? true, !s.started)
        }
        if start { XPC.startThread(name: "heartbeat") { [self] in self.run() } }
        if wake, wakeFD >= 0 {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Ends the target's heartbeat.
    func remove(_ target: any HeartbeatTarget) {
        state.withLock { _ = $0.current.removeValue(forKey: ObjectIdentifier(target)) }
    }

    private func run() {
        var due: [Entry] = []
        while true {
            let now = monotonicNanos()
            let sleepMs = state.withLock { s -> Int32 in
                while let top = s.heap.min, top.due <= now &+ Self.coalescing {
                    let e = s.heap.removeMin()
                    guard s.current[e.id] == e.token else { continue }
                    if e.ref.target == nil {
                        s.current[e.id] = nil
                        continue
                    }
                    due.append(e)
                }
                guard due.isEmpty else { return 0 }
                guard let top = s.heap.min else { return -1 }
                return Int32(clamping: (top.due - now + 999_999) / 1_000_000)
            }
            if due.isEmpty {
                var p = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, sleepMs) > 0 {
                    var n: UInt64 = 0
                    _ = read(wakeFD, &n, 8)
                }
                continue
            }
            for e in due {
                // Gone since it was taken off the heap, or done: dropped.
                if let t = e.ref.target, let next = t.heartbeatDue(now: now) {
                    put(t, at: next, unless: e.token)
                } else {
                    state.withLock { s in if s.current[e.id] == e.token { s.current[e.id] = nil } }
                }
            }
            due.removeAll(keepingCapacity: true)
        }
    }
}
