// SPDX-License-Identifier: GPL-2.0
#if canImport(Glibc)
import Glibc
#endif

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
        var buf = [UInt8](repeating: 0, count: 96)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
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
