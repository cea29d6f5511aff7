// SPDX-License-Identifier: GPL-2.0
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real u-driver executable from the build, started by the test with a
/// socketpair end as fd 3: it reads its first message from there and
/// blocks. Killed and reaped on ``stop()`` / deinit.
final class SpawnedDriver: @unchecked Sendable {
    let pid: pid_t
    /// The test's end of the driver's fd 3.
    let channel: Int32
    private var reaped = false

    /// The directory holding the built executables, next to the test bundle.
    static let binDir: String = {
        let fromArg = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        if FileManager.default.fileExists(atPath: fromArg + "/rtl8139") { return fromArg }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }()

    /// The RTL8139 u-driver; FAULT_INJECTION_DRIVER names another build
    /// (e.g. .build/release/rtl8139).
    static var rtl8139: String {
        ProcessInfo.processInfo.environment["FAULT_INJECTION_DRIVER"] ?? binDir + "/rtl8139"
    }

    /// Starts `path` (with `arguments`) with fd 3 = one end of a seqpacket
    /// socketpair, stdout/stderr to /dev/null.
    init(path: String, arguments: [String] = []) throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw TestError("socketpair: \(errno)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        var r = posix_spawn(&child, path, &actions, nil, argv, environ)
        // A file just written may be held open for writing by a child that
        // another thread is forking: ETXTBSY until that child execs.
        for _ in 0..<100 where r == ETXTBSY {
            usleep(10_000)
            r = posix_spawn(&child, path, &actions, nil, argv, environ)
        }
        close(fds[1])
        guard r == 0 else {
            close(fds[0])
            throw TestError("posix_spawn \(path): \(r)")
        }
        pid = child
        channel = fds[0]
    }

    deinit { stop() }

    func stop() {
        guard !reaped else { return }
        reaped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(channel)
    }

    /// Running (not exited, not a zombie).
    var isAlive: Bool {
        guard !reaped else { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == 0 { return true }
        if r == pid { reapedStatus = status }
        reaped = true
        close(channel)
        return false
    }

    /// The wait status, once ``isAlive`` saw the process end.
    private(set) var reapedStatus: Int32?

    /// The `TracerPid:` of /proc/PID/status.
    var tracerPid: Int32? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("TracerPid:") {
            return Int32(line.dropFirst("TracerPid:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Every thread stopped by a tracer ("t (tracing stop)").
    var allThreadsInTracingStop: Bool {
        let tids = threads
        return !tids.isEmpty && tids.allSatisfy { tid in
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8) else { return false }
            return text.contains("State:\tt (tracing stop)")
        }
    }

    /// Alive, and no tracer left attached.
    var aliveAndUntraced: Bool { isAlive && tracerPid == 0 }

    /// The threads' ids (/proc/PID/task).
    var threads: [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap { Int32($0) }
    }

    /// Reads `count` bytes at `address` from /proc/PID/mem.
    func memory(_ address: UInt64, _ count: Int) throws -> [UInt8] {
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestError("open /proc/\(pid)/mem: \(errno)") }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(truncatingIfNeeded: address)) }
        guard n == count else { throw TestError("pread \(count) at \(address): \(n) errno \(errno)") }
        return buf
    }

    /// Waits (polling /proc/PID/task/*/syscall, at most `seconds`) until a
    /// thread sits in recvfrom/recvmsg: the driver waits for its first
    /// message (its async main runs on a dispatch worker, not the main thread).
    func waitUntilBlockedInReceive(seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard isAlive else { throw TestError("driver exited during start-up") }
            if receivingThread != nil { return }
            usleep(2000)
        }
        throw TestError("driver did not block in recv within \(seconds) s")
    }

    /// The thread blocked in recvfrom/recvmsg, if any.
    var receivingThread: Int32? {
        threads.first { tid in
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/syscall", encoding: .utf8),
                  let nr = text.split(separator: " ").first.flatMap({ Int($0) }) else { return false }
            return nr == 45 || nr == 47 // x86-64 recvfrom, recvmsg
        }
    }

    /// Sends one packet on the driver's fd 3 (dropped, without `waiting`,
    /// when the socket is full).
    func send(_ bytes: [UInt8], waiting: Bool = true) {
        let flags = Int32(MSG_NOSIGNAL) | (waiting ? 0 : Int32(MSG_DONTWAIT))
        _ = bytes.withUnsafeBytes { Glibc.send(channel, $0.baseAddress, $0.count, flags) }
    }

    /// Receives one packet, waiting at most `seconds`; nil on timeout or end.
    func receive(seconds: Int) -> [UInt8]? {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(channel, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(channel, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buf.prefix(n)) : nil
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
