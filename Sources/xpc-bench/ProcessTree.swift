// SPDX-License-Identifier: GPL-2.0
import Foundation

/// What /proc says of the processes a benchmark started: memory and CPU
/// time. A process that ended meanwhile reads as 0.
enum ProcessTree {
    /// A `Key:   N kB` line of a /proc file, in KiB.
    static func kib(_ path: String, _ key: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }

    /// Resident set size (VmRSS).
    static func rssKiB(_ pid: Int32) -> Int { kib("/proc/\(pid)/status", "VmRSS") }

    /// Proportional set size: the process's private pages plus its share
    /// of every page it maps with others (the Swift runtime, libc).
    static func pssKiB(_ pid: Int32) -> Int { kib("/proc/\(pid)/smaps_rollup", "Pss") }

    /// CPU time of every thread of `pid` so far, in nanoseconds (schedstat's
    /// run time, exact where /proc/PID/stat counts clock ticks).
    static func cpuNanos(_ pid: Int32) -> UInt64 {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.reduce(0) { sum, t in
            let s = (try? String(contentsOfFile: "/proc/\(pid)/task/\(t)/schedstat", encoding: .utf8)) ?? ""
            return sum + (UInt64(s.split(separator: " ").first ?? "") ?? 0)
        }
    }

    /// Threads of `pid`.
    static func threads(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"))?.count ?? 0
    }

    /// The children of `parent` running `executable`.
    static func running(_ executable: String, childrenOf parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { e in
            guard let pid = Int32(e), parentPID(pid) == parent,
                  let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(e)/exe"),
                  exe == executable else { return nil }
            return pid
        }
    }

    /// The parent's pid, from /proc/PID/stat (after the command's closing
    /// parenthesis: state, then ppid).
    static func parentPID(_ pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}
