// SPDX-License-Identifier: GPL-2.0
import CSpawn
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// One thread, waiting with epoll for any of many file descriptors to turn
/// readable, and calling each one's handler on that thread: how drivermgrd
/// learns that a u-driver ended (its pidfd) or attempted a forbidden call
/// (its seccomp listener), for a thousand u-drivers, without a thread for
/// each of those descriptors (which cost 2 to 3 threads a driver, their
/// stacks in the daemon's memory and their wake-ups in its CPU time).
///
/// A handler runs on the watcher's thread and must not block: what takes
/// time goes elsewhere (a task, or a thread of its own in a rare case).
public final class ReadinessWatcher: Sendable {
    /// What a handler wants next.
    public enum Next: Sendable {
        /// Call again when the descriptor is readable again.
        case keep
        /// Stop watching it; `then` runs once it is out of the epoll set
        /// (where the handler may close it).
        case stop(then: (@Sendable () -> Void)?)
    }
    public typealias Handler = @Sendable () -> Next

    /// The daemon's one watcher.
    public static let shared = ReadinessWatcher()

    private struct State: Sendable {
        var next: UInt64 = 1
        var watched: [UInt64: (fd: Int32, handler: Handler)] = [:]
        var started = false
    }
    private let state = Mutex(State())
    private let epfd: Int32

    init() { epfd = drv_epoll_create() }

    /// How many descriptors are watched.
    public var count: Int { state.withLock { $0.watched.count } }

    /// Calls `handler` (on the watcher's thread) whenever `fd` is readable
    /// or hung up, until it returns `.stop`. False if epoll refused `fd`:
    /// the caller then watches it some other way.
    @discardableResult
    public func watch(_ fd: Int32, _ handler: @escaping Handler) -> Bool {
        guard epfd >= 0 else { return false }
        let (token, start) = state.withLock { s -> (UInt64, Bool) in
            let t = s.next
            s.next += 1
            s.watched[t] = (fd, handler)
            defer { s.started = true }
            return (t, !s.started)
        }
        if start { startThread(name: "fd-watcher") { [self] in loop() } }
        guard drv_epoll_add_token(epfd, fd, token) == 0 else {
            _ = state.withLock { $0.watched.removeValue(forKey: token) }
            return false
        }
        return true
    }

    private func loop() {
        var tokens = [UInt64](repeating: 0, count: 64)
        var events = [UInt32](repeating: 0, count: 64)
        while true {
            let n = drv_epoll_wait_tokens(epfd, &tokens, &events, 64)
            if n == -EINTR { continue }
            guard n > 0 else { return }
            for i in 0..<Int(n) {
                guard let w = state.withLock({ $0.watched[tokens[i]] }) else { continue }
                guard case .stop(let then) = w.handler() else { continue }
                _ = drv_epoll_del(epfd, w.fd)
                _ = state.withLock { $0.watched.removeValue(forKey: tokens[i]) }
                then?()
            }
        }
    }
}
