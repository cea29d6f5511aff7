// SPDX-License-Identifier: GPL-2.0
import CSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How processes that are not drivermgrd's children ended, from the
/// kernel's process-events connector: a u-driver adopted from a previous
/// daemon has PID 1 as its parent, so waitid() cannot say. Started on the
/// first adoption; keeps the statuses of the pids it was asked to watch.
public final class ProcessExitFeed: Sendable {
    /// The one feed of the daemon.
    public static let shared = ProcessExitFeed()

    private struct State {
        var started = false
        var failed: String?
        var watched: Set<Int32> = []
        var ended: [Int32: UInt32] = [:]
    }
    private let state = Mutex(State())

    /// Watches `pid` from now on; false (with the reason logged by the
    /// caller) when the connector is not available, e.g. without
    /// CAP_NET_ADMIN or inside a network namespace.
    @discardableResult
    public func watch(_ pid: Int32) -> Bool {
        let start = state.withLock { s -> Bool in
            s.watched.insert(pid)
            defer { s.started = true }
            return !s.started
        }
        if start { open() }
        return state.withLock { $0.failed == nil }
    }

    /// Why the feed is not running, if it is not.
    public var unavailable: String? { state.withLock { $0.failed } }

    /// The status `pid` ended with, waiting up to `grace` for the
    /// connector's message (it is queued before the pidfd turns readable,
    /// but read on another thread); nil if it never came.
    public func status(of pid: Int32, grace: Duration = .milliseconds(50)) -> ExitStatus? {
        let end = DispatchTime.now() + .milliseconds(Int(grace.components.seconds * 1000 + grace.components.attoseconds / 1_000_000_000_000_000))
        while true {
            let s = state.withLock { st -> UInt32? in
                guard let v = st.ended.removeValue(forKey: pid) else { return nil }
                st.watched.remove(pid)
                return v
            }
            if let s { return Self.decode(s) }
            if DispatchTime.now() >= end || unavailable != nil { return nil }
            usleep(1_000)
        }
    }

    /// A wait status as ``ExitStatus``.
    static func decode(_ s: UInt32) -> ExitStatus {
        let sig = Int32(s & 0x7f)
        if sig == 0 { return .exited(code: Int32((s >> 8) & 0xff)) }
        return .killed(signal: sig, coreDumped: s & 0x80 != 0)
    }

    private func open() {
        let fd = drv_proc_exits_open()
        guard fd >= 0 else {
            state.withLock { $0.failed = "proc connector: \(String(cString: strerror(-fd)))" }
            return
        }
        let t = Thread { [self] in
            var buf = [drv_proc_exit](repeating: drv_proc_exit(), count: 64)
            while true {
                let n = buf.withUnsafeMutableBufferPointer { drv_proc_exits_read(fd, $0.baseAddress, Int32($0.count)) }
                if n == -EINTR || n == -ENOBUFS { continue }
                if n < 0 {
                    state.withLock { $0.failed = "proc connector: \(String(cString: strerror(-n)))" }
                    return
                }
                guard n > 0 else { continue }
                state.withLock { s in
                    for e in buf.prefix(Int(n)) where s.watched.contains(e.pid) { s.ended[e.pid] = e.status }
                }
            }
        }
        t.name = "proc-exits"
        t.start()
    }
}
