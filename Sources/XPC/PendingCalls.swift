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
    }
    private var entries: [UInt32: Entry] = [:]
    private var nextSeq: UInt32

    /// Starts numbering at `firstSeq` (0 is skipped). A channel taken over
    /// from a previous daemon starts far from where that one was, so a late
    /// reply to one of its calls cannot match a new call.
    public init(firstSeq: UInt32 = 1) { nextSeq = firstSeq }

    /// Registers a call and returns its sequence number (never 0).
    public mutating func add(op: XPCOp, deadline: UInt64, completion: Completion) -> UInt32 {
        var seq = nextSeq
        while seq == 0 || entries[seq] != nil { seq &+= 1 }
        nextSeq = seq &+ 1
        entries[seq] = Entry(op: op, deadline: deadline, completion: completion)
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
        return out.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Removes and returns the call answered by `seq`, or nil if none is
    /// pending (a reply to a call never made, or one that already timed out).
    public mutating func complete(seq: UInt32) -> (op: XPCOp, completion: Completion)? {
        guard let e = entries.removeValue(forKey: seq) else { return nil }
        return (e.op, e.completion)
    }

    /// Removes and returns every call whose deadline is at or before `now`,
    /// oldest deadline first.
    public mutating func expire(now: UInt64) -> [(seq: UInt32, op: XPCOp, completion: Completion)] {
        let due = entries.filter { $0.value.deadline <= now }
            .sorted { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
        for (k, _) in due { entries.removeValue(forKey: k) }
        return due.map { ($0.key, $0.value.op, $0.value.completion) }
    }

    /// Removes and returns every pending call (the channel closed).
    public mutating func drain() -> [(seq: UInt32, op: XPCOp, completion: Completion)] {
        let all = entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value.op, $0.value.completion) }
        entries.removeAll()
        return all
    }

    /// The earliest deadline, if any call has one.
    public var nextDeadline: UInt64? {
        entries.values.lazy.map(\.deadline).filter { $0 != .max }.min()
    }

    /// How many calls are pending.
    public var count: Int { entries.count }
}
