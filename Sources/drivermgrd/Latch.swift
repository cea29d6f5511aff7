// SPDX-License-Identifier: GPL-2.0
import Synchronization

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
