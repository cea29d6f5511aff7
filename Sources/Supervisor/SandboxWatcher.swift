// SPDX-License-Identifier: GPL-2.0
import CSandbox
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's side of a u-driver's stage-2 sandbox: the check that
/// it is in place, and the thread that reads its seccomp notifications.
public enum SandboxWatcher {
    /// A forbidden system call a u-driver attempted.
    public struct Violation: Sendable, Equatable {
        /// The call's name (`openat`, `socket`…).
        public let call: String
        /// Its number on this architecture.
        public let number: Int32
        /// The call with what could be read of its arguments
        /// (`openat("/etc/passwd")`, `kill(pid 1, signal 9)`).
        public let detail: String
    }

    /// Reads `/proc/PID/status` and says what is wrong with `pid`'s
    /// sandbox, or nil when no_new_privs is set and both stages are stacked
    /// on top of whatever filters this process runs under (a systemd unit's
    /// hardening adds its own): its own count + 2.
    public static func stage2Problem(pid: Int32) -> String? {
        func field(_ k: String, of pid: String) -> Int? {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            return status.split(separator: "\n").first { $0.hasPrefix(k + ":") }
                .flatMap { Int($0.dropFirst(k.count + 1).trimmingCharacters(in: .whitespaces)) }
        }
        func field(_ k: String) -> Int? { field(k, of: "\(pid)") }
        let inherited = field("Seccomp_filters", of: "self") ?? 0
        guard field("NoNewPrivs") == 1, field("Seccomp") == 2, (field("Seccomp_filters") ?? 0) >= inherited + 2 else {
            return "sandbox not in place (NoNewPrivs \(field("NoNewPrivs") ?? -1), "
                + "Seccomp_filters \(field("Seccomp_filters") ?? -1), \(inherited) inherited)"
        }
        return nil
    }

    /// The ``ReadinessWatcher``'s thread reads the notifications of a
    /// u-driver's seccomp `listener` (closed once the process has ended and
    /// the listener hangs up): each is a forbidden call,
    /// named (openat's path read from the caller's memory), reported to
    /// `onViolation` first — so the exit that follows is not taken for a
    /// crash — then the process is killed before the call can run.
    /// libdispatch's worker monitor reading its own thread's stat is served.
    public static func watch(listener: Int32, process p: UDriverProcess,
                             onViolation: @escaping @Sendable (Violation) -> Void) {
        let closeListener: @Sendable () -> Void = { Glibc.close(listener) }
        let watched = ReadinessWatcher.shared.watch(listener) {
            // Readable: a notification is there; hung up: the process is
            // gone, and NOTIF_RECV fails at once rather than waiting.
            var id: UInt64 = 0, tid: pid_t = 0, nr: Int32 = 0
            var args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
            guard withUnsafeMutableBytes(of: &args, { raw in
                drv_notify_next(listener, &id, &tid, &nr, raw.baseAddress?.assumingMemoryBound(to: UInt64.self))
            }) == 0 else { return .stop(then: closeListener) }
            do {
                let call = SyscallSets.name(of: nr)
                var detail = call
                if call == "openat", args.2 & 3 == 0 {
                    var buf = [UInt8](repeating: 0, count: 64)
                    let n = buf.withUnsafeMutableBytes { drv_read_remote(p.pid, args.1, $0.baseAddress, $0.count) }
                    if n > 0, drv_notify_valid(listener, id) == 0,
                       let own = procStatPath(String(decoding: buf[0..<Int(n)].prefix { $0 != 0 }, as: UTF8.self), of: p.pid) {
                        let fd = open(own, O_RDONLY | O_CLOEXEC)
                        if fd >= 0 {
                            _ = drv_notify_addfd(listener, id, fd)
                            Glibc.close(fd)
                        } else {
                            _ = drv_notify_deny(listener, id, errno)
                        }
                        return .keep
                    }
                }
                let pathArg: UInt64? = call == "openat" || call == "openat2" || call == "execveat" ? args.1 : (call == "open" || call == "execve" ? args.0 : nil)
                if let addr = pathArg {
                    var buf = [UInt8](repeating: 0, count: 256)
                    let n = buf.withUnsafeMutableBytes { drv_read_remote(p.pid, addr, $0.baseAddress, $0.count) }
                    // Only trust what was read while the call is still pending.
                    if n > 0, drv_notify_valid(listener, id) == 0 {
                        detail += "(\"\(String(decoding: buf[0..<Int(n)].prefix { $0 != 0 }, as: UTF8.self))\")"
                    }
                } else if call == "kill" || call == "tgkill" || call == "ptrace" {
                    detail += call == "ptrace" ? "(request \(args.0), pid \(args.1))" : "(pid \(Int32(truncatingIfNeeded: args.0)), signal \(args.1))"
                } else if call == "socket" {
                    detail += "(domain \(args.0), type \(args.1))"
                }
                onViolation(Violation(call: call, number: nr, detail: detail))
                p.kill()
                _ = drv_notify_deny(listener, id, 1)
            }
            return .keep
        }
        if !watched { closeListener() }
    }
}
