// SPDX-License-Identifier: GPL-2.0
import CSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a u-driver writes to its stderr: a pipe whose read end the daemon
/// holds. Every complete line goes to a handler (the daemon logs it under
/// the driver's name); the last lines are kept, so a u-driver that dies
/// before it could answer (before its sandbox is up, say) still says why.
///
/// One thread (``OutputReader``) reads every u-driver's pipe; the pipe ends
/// when the last process holding its write end has gone.
public final class ProcessOutput: Sendable {
    /// The read end (non-blocking, close-on-exec). Closed once the pipe
    /// ended; until then, e.g. for systemd's fd store.
    public let fd: Int32
    /// How many lines ``recentLines`` keeps.
    public static let keptLines = 8
    /// Longer lines are cut (and the rest dropped) so one line cannot flood the log.
    public static let maxLineBytes = 1024

    private struct State {
        var partial: [UInt8] = []
        var recent: [String] = []
        var ended = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let handler: @Sendable (String) -> Void

    /// Starts reading `fd` (owned from here on) on the reader thread.
    public init(fd: Int32, handler: @escaping @Sendable (String) -> Void) {
        self.fd = fd
        self.handler = handler
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        OutputReader.shared.add(self)
    }

    /// The last lines read (at most ``keptLines``), oldest first.
    public var recentLines: [String] { state.withLock { $0.recent } }

    /// Whether the pipe has ended (every writer gone, all of it read).
    public var ended: Bool { state.withLock { $0.ended } }

    /// Waits until the pipe has ended, or `limit` passed; returns the last
    /// lines. A process that died leaves the pipe once the kernel closed its
    /// fds, which follows its exit at once unless a child of it lives on.
    public func lastLines(waitingUpTo limit: Duration) async -> [String] {
        await withTaskGroup(of: Void.self) { g in
            g.addTask {
                await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
                    let done = self.state.withLock { s -> Bool in
                        if s.ended { return true }
                        s.waiters.append(k)
                        return false
                    }
                    if done { k.resume() }
                }
            }
            g.addTask { try? await Task.sleep(for: limit) }
            await g.next()
            g.cancelAll()
            // The waiter (if it is still parked) is resumed when the pipe ends.
        }
        return recentLines
    }

    /// Reads what is there; false once the pipe has ended (then the reader
    /// forgets the fd and closes it).
    func drain() -> Bool {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                take(buf[0..<n])
                continue
            }
            if n < 0 && (errno == EINTR) { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            finish()
            return false
        }
    }

    private func take(_ bytes: ArraySlice<UInt8>) {
        var lines: [String] = []
        state.withLock { s in
            for b in bytes {
                if b == 10 {
                    lines.append(Self.text(s.partial))
                    s.partial = []
                } else if s.partial.count < Self.maxLineBytes {
                    s.partial.append(b)
                }
            }
            s.recent = Array((s.recent + lines).suffix(Self.keptLines))
        }
        for l in lines { handler(l) }
    }

    private func finish() {
        let (line, waiters) = state.withLock { s -> (String?, [CheckedContinuation<Void, Never>]) in
            let line = s.partial.isEmpty ? nil : Self.text(s.partial)
            if let line { s.recent = Array((s.recent + [line]).suffix(Self.keptLines)) }
            s.partial = []
            s.ended = true
            defer { s.waiters = [] }
            return (line, s.waiters)
        }
        if let line { handler(line) }
        for w in waiters { w.resume() }
    }

    /// Printable text: invalid UTF-8 repaired, control characters but tab shown as `?`.
    static func text(_ bytes: [UInt8]) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 32 && $0 != "\t" || $0.value == 127 ? "?" : $0 }))
    }
}

/// The one thread that reads every u-driver's stderr pipe (epoll), so a
/// few hundred u-drivers cost no thread each.
final class OutputReader: Sendable {
    static let shared = OutputReader()
    private let epfd: Int32
    private let outputs = Mutex<[Int32: ProcessOutput]>([:])

    private init() {
        epfd = drv_epoll_create()
        let t = Thread { [self] in loop() }
        t.name = "u-driver-stderr"
        t.start()
    }

    func add(_ o: ProcessOutput) {
        outputs.withLock { $0[o.fd] = o }
        if drv_epoll_add(epfd, o.fd) < 0 {
            // Not watched (no epoll): read what is there now; the rest is lost.
            outputs.withLock { _ = $0.removeValue(forKey: o.fd) }
            if !o.drain() { close(o.fd) }
        }
    }

    private func loop() {
        var ready = [Int32](repeating: -1, count: 64)
        while true {
            let n = drv_epoll_wait(epfd, &ready, Int32(ready.count))
            if n < 0 {
                if n == -EINTR { continue }
                return
            }
            for i in 0..<Int(n) {
                let fd = ready[i]
                guard let o = outputs.withLock({ $0[fd] }) else { continue }
                if !o.drain() {
                    // Out of the set before the number can be reused; and
                    // explicitly, since a copy (systemd's fd store) keeps the
                    // pipe's file open and with it the epoll entry.
                    _ = drv_epoll_del(epfd, fd)
                    outputs.withLock { m in if m[fd] === o { m.removeValue(forKey: fd) } }
                    close(fd)
                }
            }
        }
    }
}
