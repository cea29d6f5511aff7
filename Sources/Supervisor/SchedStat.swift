// SPDX-License-Identifier: GPL-2.0
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How long a process has waited for a CPU: the sum over its threads of the
/// second field of /proc/PID/task/TID/schedstat (run_delay, nanoseconds
/// spent runnable on a run queue but not running; CONFIG_SCHED_INFO, which
/// Debian's kernels have).
///
/// drivermgrd reads it when a call to a u-driver passes its deadline: a
/// u-driver that spent the window waiting for a CPU on a loaded host is
/// starved, not hung, and gets its window again
/// (``XPC/PendingCalls/expire(now:peerWait:readerBusy:)``).
public enum SchedStat {
    /// The process's total run-queue wait, or nil when it cannot be read
    /// (gone, or no schedstat in this kernel).
    public static func runQueueWait(pid: Int32) -> UInt64? {
        guard pid > 0, let dir = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(dir) }
        var total: UInt64 = 0
        var found = false
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let tid = Int32(name), tid > 0, let w = threadWait("/proc/\(pid)/task/\(tid)/schedstat") else { continue }
            total &+= w
            found = true
        }
        return found ? total : nil
    }

    /// The run_delay field of one schedstat file ("cpu_ns run_delay_ns slices").
    static func threadWait(_ path: String) -> UInt64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return threadWait(fd: fd)
    }

    /// The run_delay field read from an open schedstat file, from its start.
    static func threadWait(fd: Int32) -> UInt64? {
        var buf = [UInt8](repeating: 0, count: 96)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return parse(buf[..<n])
    }

    /// The num_threads field of /proc/PID/stat (the 20th; the command name
    /// in parentheses before it may hold spaces and parentheses itself).
    static func threadCount<S: BidirectionalCollection>(stat text: S) -> Int? where S.Element == UInt8 {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After the name: state (3rd field), ppid (4th), ... num_threads.
        let fields = text[text.index(after: close)...].split(whereSeparator: { $0 == 0x20 || $0 == 0x0a })
        guard fields.count > 17 else { return nil }
        return Int(String(decoding: fields[17], as: UTF8.self))
    }

    /// The second of the space-separated numbers in `text`.
    static func parse<S: Collection>(_ text: S) -> UInt64? where S.Element == UInt8 {
        let fields = text.split(whereSeparator: { $0 == 0x20 || $0 == 0x0a })
        guard fields.count >= 2 else { return nil }
        return UInt64(String(decoding: fields[1], as: UTF8.self))
    }
}

/// One process's run-queue wait (``SchedStat/runQueueWait(pid:)``), read
/// again and again cheaply: each thread's schedstat file stays open and is
/// read with pread, and the task directory is listed again only when
/// /proc/PID/stat's thread count changed or a thread's file stopped
/// answering (the thread ended). drivermgrd reads it at the start of calls
/// to a u-driver, heartbeats included: with a thousand idle drivers, the
/// opendir, readdir and an open per thread at every ping were a sixth of
/// the daemon's CPU.
public final class RunQueueWaitReader: Sendable {
    private struct Files {
        var stat: Int32 = -1
        var threads: [Int32] = []
        var count = -1
    }

    /// The process read.
    public let pid: Int32
    private let files = Mutex(Files())

    /// A reader for `pid`; nothing is opened before the first ``read()``.
    public init(pid: Int32) { self.pid = pid }

    deinit {
        files.withLock { f in
            if f.stat >= 0 { close(f.stat) }
            for fd in f.threads { close(fd) }
        }
    }

    /// The process's total run-queue wait now, or nil when it cannot be read.
    public func read() -> UInt64? {
        guard pid > 0 else { return nil }
        return files.withLock { f -> UInt64? in
            if f.stat < 0 {
                f.stat = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
                if f.stat < 0 { return nil }
            }
            var buf = [UInt8](repeating: 0, count: 1024)
            let n = buf.withUnsafeMutableBytes { pread(f.stat, $0.baseAddress, $0.count, 0) }
            guard n > 0, let count = SchedStat.threadCount(stat: buf[..<n]) else { return nil }
            if count == f.count, let total = Self.sum(f.threads) { return total }
            Self.rescan(pid, &f)
            f.count = count
            return Self.sum(f.threads)
        }
    }

    /// The sum over the open files, nil if one of them failed.
    private static func sum(_ fds: [Int32]) -> UInt64? {
        guard !fds.isEmpty else { return nil }
        var total: UInt64 = 0
        for fd in fds {
            guard let w = SchedStat.threadWait(fd: fd) else { return nil }
            total &+= w
        }
        return total
    }

    /// Opens the schedstat file of every thread the task directory lists now.
    private static func rescan(_ pid: Int32, _ f: inout Files) {
        for fd in f.threads { close(fd) }
        f.threads = []
        guard let dir = opendir("/proc/\(pid)/task") else { return }
        defer { closedir(dir) }
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let tid = Int32(name), tid > 0 else { continue }
            let fd = open("/proc/\(pid)/task/\(tid)/schedstat", O_RDONLY | O_CLOEXEC)
            if fd >= 0 { f.threads.append(fd) }
        }
    }
}
