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

/// A gate that opens once: the tasks that wait for it go on when it opens,
/// at once if it is open. A recovery starts as soon as the failure is
/// seen, while the failure is still being logged and recorded; it waits
/// here before it records anything itself, so the history keeps its order.
final class Latch: Sendable {
    private enum State {
        case shut([CheckedContinuation<Void, Never>])
        case open
    }
    private let state = Mutex(State.shut([]))

    init() {}

    /// Opens it; the waiters go on.
    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard case .shut(let w) = s else { return [] }
            s = .open
            return w
        }
        for k in waiters { k.resume() }
    }

    /// Returns once it is open.
    func wait() async {
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { s -> Bool in
                switch s {
                case .open: return true
                case .shut(let w):
                    s = .shut(w + [k])
                    return false
                }
            }
            if isOpen { k.resume() }
        }
    }
}
