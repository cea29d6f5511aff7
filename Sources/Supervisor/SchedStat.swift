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
/// drivermgrd reads it at the start of a call to a u-driver and when the
/// call passes its deadline (through ``RunQueueWaitReader``): a u-driver
/// that spent the window waiting for a CPU on a loaded host is starved, not
/// hung, and gets its window again
/// (``XPC/PendingCalls/expire(now:peerWait:readerBusy:)``).
public enum SchedStat {
    /// The process's total run-queue wait, or nil when it cannot be read
    /// (gone, or no schedstat in this kernel): one reading, files opened
    /// and closed again.
    public static func runQueueWait(pid: Int32) -> UInt64? {
        RunQueueWaitReader(pid: pid).read()
    }

    /// The run_delay field read from an open schedstat file, from its start.
    static func threadWait(fd: Int32) -> UInt64? {
        var buf = [UInt8](repeating: 0, count: 96)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return parse(buf[..<n])
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
/// read with pread; the task directory is listed again when a file stops
/// answering (its thread ended) or the listing is a minute old (a thread
/// started since is counted from then on). drivermgrd reads it at the start
/// of calls to a u-driver, heartbeats included: with a thousand idle
/// drivers, an opendir, readdir and an open per thread at every ping were a
/// sixth of the daemon's CPU, and /proc/PID/stat's thread count, read
/// instead at each call, still a tenth (the kernel walks every thread for
/// it). A u-driver's threads are made at its start: main, reader, and
/// libdispatch's manager once a timer is used.
public final class RunQueueWaitReader: Sendable {
    private struct Files {
        var threads: [Int32] = []
        var listedAt: UInt64 = 0
    }

    /// The process read.
    public let pid: Int32
    /// How old a listing of the task directory may be before it is made
    /// again (nanoseconds).
    public let listingAge: UInt64
    private let files = Mutex(Files())

    /// A reader for `pid`, listing its threads again after `listingAge`
    /// (a minute by default); nothing is opened before the first ``read()``.
    public init(pid: Int32, listingAge: Duration = .seconds(60)) {
        self.pid = pid
        let c = listingAge.components
        self.listingAge = UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000)
    }

    deinit {
        files.withLock { f in
            for fd in f.threads { close(fd) }
        }
    }

    /// The process's total run-queue wait now, or nil when it cannot be read.
    public func read() -> UInt64? {
        guard pid > 0 else { return nil }
        let now = Self.now()
        return files.withLock { f -> UInt64? in
            if now &- f.listedAt < listingAge, let total = Self.sum(&f, dropEnded: false) { return total }
            Self.rescan(pid, &f)
            f.listedAt = now
            return Self.sum(&f, dropEnded: true)
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// The sum over the open files; nil if none answers. A file that no
    /// longer answers (its thread ended) makes it nil too, so that the
    /// caller lists the threads again; with `dropEnded` (they were just
    /// listed: the thread ended in between) it is closed and left out.
    private static func sum(_ f: inout Files, dropEnded: Bool) -> UInt64? {
        var total: UInt64 = 0, answered = 0
        var kept: [Int32] = []
        for fd in f.threads {
            if let w = SchedStat.threadWait(fd: fd) {
                total &+= w
                answered += 1
                if dropEnded { kept.append(fd) }
            } else if dropEnded {
                close(fd)
            } else {
                return nil
            }
        }
        if dropEnded { f.threads = kept }
        return answered > 0 ? total : nil
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
