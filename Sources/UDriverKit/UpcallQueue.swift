// SPDX-License-Identifier: GPL-2.0
import Synchronization
import XPC

/// The requests the reader thread has taken off the channel and the serve
/// loop has not yet served, in order: what an `AsyncStream<XPCMessage>`
/// would be, without its unspecialised generic storage, whose runtime
/// metadata look-ups at every element cost more than the message's own
/// round trip.
final class UpcallQueue: Sendable {
    private struct State: @unchecked Sendable {
        var messages: [XPCMessage] = []
        var head = 0
        var waiter: UnsafeContinuation<XPCMessage?, Never>?
        var finished = false
    }
    private let state = Mutex(State())

    /// One more request, after those already queued.
    func push(_ m: XPCMessage) {
        let w = state.withLock { s -> UnsafeContinuation<XPCMessage?, Never>? in
            if s.finished { return nil }
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.messages.append(m)
            return nil
        }
        w?.resume(returning: m)
    }

    /// The channel closed: ``next()`` returns what is queued, then nil.
    func finish() {
        let w = state.withLock { s -> UnsafeContinuation<XPCMessage?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume(returning: nil)
    }

    /// The next request, waiting for one; nil once finished and empty.
    /// One caller at a time.
    func next() async -> XPCMessage? {
        await withUnsafeContinuation { (k: UnsafeContinuation<XPCMessage?, Never>) in
            let now = state.withLock { s -> XPCMessage?? in
                if s.head < s.messages.count {
                    let m = s.messages[s.head]
                    s.head += 1
                    if s.head == s.messages.count {
                        s.messages.removeAll(keepingCapacity: true)
                        s.head = 0
                    }
                    return .some(m)
                }
                if s.finished { return .some(nil) }
                s.waiter = k
                return .none
            }
            if let now { k.resume(returning: now) }
        }
    }
}
