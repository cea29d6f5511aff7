// SPDX-License-Identifier: GPL-2.0
import CSandbox
import CSpawn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The system calls a Swift u-driver needs, measured by tracing the real
/// u-drivers (start-up, XPC, the concurrency runtime, a crash) and then
/// removing what they live without. Two sets:
///
/// - ``steadyState`` (`@udriver`): stage 2, stacked by the u-driver runtime
///   itself before any driver code runs or any request is read. No open,
///   socket, connect, execve, ptrace, mount, bpf, io_uring; clone only for
///   threads; kill/tgkill only towards itself (added as rules, not here).
/// - ``startup`` (`@udriver-startup`): what the dynamic loader and the Swift
///   runtime need before that (they open libraries, /proc/self/maps,
///   /sys/devices/system/cpu/possible). Stage 1 = both sets.
public enum SyscallSets {
    public static let steadyState: [String] = [
        "read", "write", "close", "futex", "mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
        "poll", "ppoll", "recvfrom", "sendto", "recvmsg", "sendmsg", "shutdown",
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
        "timerfd_create", "timerfd_settime", "timerfd_gettime",
        "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "rt_sigsuspend", "sigaltstack",
        "gettid", "getpid", "getppid", "set_robust_list", "rseq", "prctl", "setpriority", "getrandom",
        "sched_getaffinity", "sched_yield", "nanosleep", "clock_nanosleep", "clock_gettime",
        "restart_syscall", "exit", "exit_group",
        // The vDSO's fallbacks: with a clocksource it cannot read (a VM's
        // unstable TSC; QEMU's TCG guest) gettimeofday and time are real
        // system calls, and the uhci u-driver was killed for one there.
        "gettimeofday", "time", "clock_getres",
        // stdio's first write to stderr (libdispatch's log) stats the fd.
        "newfstatat", "fstat", "lseek",
    ]

    public static let startup: [String] = [
        "execve", "execveat", "openat", "newfstatat", "fstat", "lseek", "pread64", "readlink", "access",
        "ioctl", "arch_prctl", "set_tid_address", "prlimit64", "clone", "clone3", "seccomp",
        "kill", "tgkill", "uname",
    ]

    /// Named sets a `SystemCallFilter=` line may use.
    public static let named: [String: [String]] = ["@udriver": steadyState, "@udriver-startup": startup]

    /// Whether the kernel (through libseccomp) knows `name` on this architecture.
    public static func isKnown(_ name: String) -> Bool { drv_syscall_number(name) >= 0 }

    /// The name of syscall `nr`, or "syscall N".
    public static func name(of nr: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        guard drv_syscall_name(nr, &buf, buf.count) == 0 else { return "syscall \(nr)" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An error building a seccomp filter.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Compiles stage 1: `names` allowed, anything else SECCOMP_RET_TRACE (with
/// no tracer, ENOSYS). Returns BPF bytes for ``SandboxPolicy``.
public func compileStage1(_ names: [String]) throws -> [UInt8] {
    let cstrs = names.map { strdup($0) }
    defer { cstrs.forEach { free($0) } }
    var ptrs: [UnsafePointer<CChar>?] = cstrs.map { UnsafePointer($0) }
    var out: UnsafeMutablePointer<UInt8>?
    var bad: Int32 = -1
    let n = drv_seccomp_stage1(&ptrs, Int32(ptrs.count), &out, &bad)
    guard n > 0, let out else {
        if bad >= 0 && Int(bad) < names.count { throw SandboxError(message: "unknown system call \(names[Int(bad)])") }
        throw SandboxError(message: "libseccomp: \(String(cString: strerror(Int32(-n))))")
    }
    defer { free(out) }
    return Array(UnsafeBufferPointer(start: out, count: n))
}

/// How a u-driver is confined before exec.
public struct SandboxPolicy: Sendable {
    /// Stage 1 BPF (``compileStage1(_:)``); empty = no filter.
    public var stage1: [UInt8]
    /// Become this user and group (no supplementary groups, no capabilities).
    public var user: (uid: UInt32, gid: UInt32)?
    /// New mount, IPC, network, UTS and PID namespaces.
    public var privateNamespaces: Bool
    /// RLIMIT_AS in bytes (MemoryMax=); 0 = unchanged.
    public var memoryMax: UInt64
    /// RLIMIT_NOFILE.
    public var maxFiles: UInt64
    /// No RLIMIT_FSIZE of 0 (a tool in the sandbox writes files of its own).
    public var filesWritable = false

    public init(stage1: [UInt8], user: (uid: UInt32, gid: UInt32)?, privateNamespaces: Bool, memoryMax: UInt64, maxFiles: UInt64 = 64) {
        self.stage1 = stage1
        self.user = user
        self.privateNamespaces = privateNamespaces
        self.memoryMax = memoryMax
        self.maxFiles = maxFiles
    }

    /// CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS. No PID
    /// namespace: libdispatch reads /proc/<tid>/stat of its own workers, and
    /// the daemon serves that open (see ``procStatPath(_:of:)``) only when a
    /// tid means the same thing on both sides; seccomp already forbids
    /// ptrace and kill of other processes.
    static let namespaceFlags: UInt64 = 0x0002_0000 | 0x0800_0000 | 0x4000_0000 | 0x0400_0000
    /// CLONE_NEWNET: left out when the u-driver joins
    /// ``SharedNetworkNamespace`` instead.
    static let newNet: UInt64 = 0x4000_0000
}

/// A user's uid and primary gid, from the password database.
public func lookupUser(_ name: String) -> (uid: UInt32, gid: UInt32)? {
    guard let pw = getpwnam(name) else { return nil }
    return (pw.pointee.pw_uid, pw.pointee.pw_gid)
}

/// Whether `path` is `/proc/<tid>/stat` (or `/proc/<pid>/task/<tid>/stat`)
/// of a thread of process `pid`: the one file a sandboxed u-driver may open
/// after start-up, for libdispatch's worker-pool monitor. The daemon opens
/// it and hands the fd over; nil for anything else.
public func procStatPath(_ path: String, of pid: Int32) -> String? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    var tid: Int32?
    if parts.count == 4, parts[0] == "", parts[1] == "proc", parts[3] == "stat" {
        tid = Int32(parts[2])
    } else if parts.count == 6, parts[0] == "", parts[1] == "proc", parts[3] == "task", parts[5] == "stat",
              Int32(parts[2]) == pid {
        tid = Int32(parts[4])
    }
    guard let tid, tid > 0 else { return nil }
    let own = "/proc/\(pid)/task/\(tid)/stat"
    return access(own, F_OK) == 0 ? own : nil
}
