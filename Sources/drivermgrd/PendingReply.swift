// SPDX-License-Identifier: GPL-2.0
import Synchronization
import XPC

/// The answer to a call sent now and awaited later: a recovery sends the
/// nucleus DEVICE_INFO as soon as a failure is seen, and takes the answer
/// once the old process is reaped and its channel closed, instead of
/// waiting a round trip after them. Hand ``complete(_:)`` to the call as its
/// completion; ``value()`` may be awaited before or after it runs, by any
/// number of tasks.
final class PendingReply: Sendable {
    private typealias Answer = Result<XPCMessage, XPCError>
    private enum State {
        case waiting([CheckedContinuation<Answer, Never>])
        case done(Answer)
    }
    private let state = Mutex(State.waiting([]))

    init() {}

    /// The call's completion: the answer, or why there is none. Only the
    /// first counts.
    @Sendable func complete(_ answer: Result<XPCMessage, XPCError>) {
        let waiters = state.withLock { s -> [CheckedContinuation<Answer, Never>] in
            guard case .waiting(let w) = s else { return [] }
            s = .done(answer)
            return w
        }
        for k in waiters { k.resume(returning: answer) }
    }

    /// The answer, once it came; the call's error is thrown.
    func value() async throws -> XPCMessage {
        let answer = await withCheckedContinuation { (k: CheckedContinuation<Answer, Never>) in
            let now = state.withLock { s -> Answer? in
                switch s {
                case .done(let a): return a
                case .waiting(let w):
                    s = .waiting(w + [k])
                    return nil
                }
            }
            if let now { k.resume(returning: now) }
        }
        return try answer.get()
    }
}
