// SPDX-License-Identifier: GPL-2.0

/// The calls a channel has sent and not yet seen answered, by sequence
/// number, each with its deadline.
///
/// A plain value with time passed in, so tests drive it with a manual clock;
/// ``XPCConnection`` keeps one under its lock and feeds it CLOCK_MONOTONIC.
public struct PendingCalls<Completion>: Sendable where Completion: Sendable {
    struct Entry: Sendable {
        let op: XPCOp
        var deadline: UInt64 // nanoseconds; UInt64.max = none
        let completion: Completion
        /// The request as sent, kept for ``resend(now:)``; nil if not kept.
        var request: [UInt8]? = nil
        /// How long it was given, in nanoseconds.
        var timeout: UInt64 = 0
        /// The peer's run-queue wait when the window began (see
        /// ``expire(now:peerWait:readerBusy:)``), nil if unknown.
        var waitAtStart: UInt64? = nil
        /// How many times the deadline moved because the peer starved.
        var extensions = 0
        /// How many times it moved because the peer awaited a slow call.
        var awaitExtensions = 0
    }

    /// How many times a call's window is granted again to a peer that
    /// starved for CPU: a hung peer is still declared hung, after at most
    /// this many more windows.
    public static var maxStarvedExtensions: Int { 3 }
    /// How many times a call's window is granted again after a slow call
    /// the peer awaits (see ``expire(now:peerWait:readerBusy:peerAwaits:)``).
    public static var maxAwaitExtensions: Int { 3 }
    private var entries: [UInt32: Entry] = [:]
    private var nextSeq: UInt32

    /// Starts numbering at `firstSeq` (0 is skipped). A channel taken over
    /// from a previous daemon starts far from where that one was, so a late
    /// reply to one of its calls cannot match a new call.
    public init(firstSeq: UInt32 = 1) { nextSeq = firstSeq }

    /// Registers a call and returns its sequence number (never 0).
    /// - Parameters:
    ///   - timeout: the window it was given, in nanoseconds (0: unknown).
    ///   - peerWait: the peer's cumulative run-queue wait now, if known.
    public mutating func add(op: XPCOp, deadline: UInt64, timeout: UInt64 = 0, peerWait: UInt64? = nil,
                             completion: Completion) -> UInt32 {
        var seq = nextSeq
        while seq == 0 || entries[seq] != nil { seq &+= 1 }
        nextSeq = seq &+ 1
        entries[seq] = Entry(op: op, deadline: deadline, completion: completion, timeout: timeout, waitAtStart: peerWait)
        return seq
    }

    /// Keeps the bytes sent for `seq` and the time it was given, so that
    /// ``resend(now:)`` can send it again.
    public mutating func keep(seq: UInt32, request: [UInt8], timeout: UInt64) {
        entries[seq]?.request = request
        entries[seq]?.timeout = timeout
    }

    /// The kept requests of every pending call, by sequence number, each
    /// given its whole time again from `now`: they go out once more.
    public mutating func resend(now: UInt64) -> [[UInt8]] {
        var out: [(UInt32, [UInt8])] = []
        for (seq, e) in entries {
            guard let r = e.request else { continue }
            entries[seq]?.deadline = e.deadline == .max ? .max : now &+ e.timeout
            out.append((seq, r))
        }
        return out.sorted { $0.0 < $1.0 }.map { $0.1 }
    }

    /// Removes and returns the call answered by `seq`, or nil if none is
    /// pending (a reply to a call never made, or one that already timed out).
    public mutating func complete(seq: UInt32) -> (op: XPCOp, completion: Completion)? {
        guard let e = entries.removeValue(forKey: seq) else { return nil }
        return (e.op, e.completion)
    }

    /// Removes and returns every call whose deadline is at or before `now`,
    /// oldest deadline first.
    ///
    /// A deadline measures the peer, so two kinds of lateness that are not
    /// the peer's do not count against it:
    /// - `peerWait` is the peer's cumulative time runnable but waiting for a
    ///   CPU (Linux's schedstat run_delay). If that grew by half the window
    ///   or more since the window began, the peer was starved on a loaded
    ///   host, not hung: the window starts again, at most
    ///   ``maxStarvedExtensions`` times.
    /// - `readerBusy`: this side's reader has messages still queued (it just
    ///   read one), so the reply may be among them. A call is then due only
    ///   once a whole further window has passed, which still bounds a peer
    ///   that floods the channel.
    /// - `peerAwaits`: the peer is itself waiting, until then at the latest,
    ///   for a call the wire header declares slow (a PS/2 reset's 6.5 s:
    ///   `DRVXPC_SLOW_DOWNCALLS`), so a call that needs it cannot be answered
    ///   sooner: its window starts again at that time, at most
    ///   ``maxAwaitExtensions`` times. Calls of ordinary deadline do not
    ///   excuse the peer, so one that hangs in a loop of register reads is
    ///   still found in its window.
    public mutating func expire(now: UInt64, peerWait: UInt64? = nil, readerBusy: Bool = false,
                                peerAwaits: UInt64? = nil)
        -> [(seq: UInt32, op: XPCOp, completion: Completion)] {
        var due: [(UInt32, Entry)] = []
        for (seq, e) in entries where e.deadline <= now {
            if readerBusy && now < e.deadline &+ e.timeout { continue }
            if let until = peerAwaits, until > now, e.timeout > 0, e.awaitExtensions < Self.maxAwaitExtensions {
                entries[seq]?.deadline = until &+ e.timeout
                entries[seq]?.awaitExtensions += 1
                continue
            }
            if let w = peerWait, let w0 = e.waitAtStart, e.timeout > 0, e.extensions < Self.maxStarvedExtensions,
               w >= w0, w - w0 >= e.timeout / 2 {
                entries[seq]?.deadline = now &+ e.timeout
                entries[seq]?.waitAtStart = w
                entries[seq]?.extensions += 1
                continue
            }
            due.append((seq, e))
        }
        due.sort { ($0.1.deadline, $0.0) < ($1.1.deadline, $1.0) }
        for (k, _) in due { entries.removeValue(forKey: k) }
        return due.map { ($0.0, $0.1.op, $0.1.completion) }
    }

    /// How many times the deadline of `seq` moved because its peer starved.
    public func starvedExtensions(of seq: UInt32) -> Int? { entries[seq]?.extensions }

    /// Removes and returns every pending call (the channel closed).
    public mutating func drain() -> [(seq: UInt32, op: XPCOp, completion: Completion)] {
        let all = entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value.op, $0.value.completion) }
        entries.removeAll()
        return all
    }

    /// The earliest deadline, if any call has one.
    /// A plain loop: a key path into this generic type (`map(\.deadline)`)
    /// is instantiated by the runtime, demangling included, at every use,
    /// and the reader asks this at every message.
    public var nextDeadline: UInt64? {
        var earliest: UInt64?
        for e in entries.values where e.deadline != .max && e.deadline < (earliest ?? .max) { earliest = e.deadline }
        return earliest
    }

    /// How many calls are pending.
    public var count: Int { entries.count }
}
