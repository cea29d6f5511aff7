// SPDX-License-Identifier: GPL-2.0
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tool `drvctl debug` runs a u-driver under, and exactly how far the
/// u-driver's sandbox and deadlines open for it. A table, not a switch:
/// the daemon and drvctl only read these fields, so a new tool is one more
/// entry in ``all``.
public struct DebugTool: Sendable, Equatable {
    /// How the tool reaches the u-driver.
    public enum Mode: String, Sendable {
        /// The u-driver is exec'd under the tool (`valgrind PROG`), inside
        /// the sandbox: the tool's own system calls go through it.
        case wrap
        /// The u-driver runs as usual; the tool is started outside the
        /// sandbox, by the daemon, once per debugger connection, and
        /// attaches with ptrace (`gdbserver --attach`).
        case attach
    }

    /// How the driver's deadlines change while the tool runs.
    public enum Deadlines: Sendable, Equatable {
        /// Upcalls wait as long as it takes and idle pings stop: a process
        /// stopped at a breakpoint is not hung. Crashes are still failures.
        case off
        /// Every deadline (XPCTimeoutSec=, ProbeTimeoutSec=) times this.
        case scaled(Int)
    }

    /// `drvctl debug --NAME`.
    public let name: String
    /// The program run (looked up in PATH) and the Debian package that
    /// carries it, for the error when it is missing.
    public let program: String
    public let package: String
    public let mode: Mode
    /// For ``Mode/wrap``: the tool's options, before the u-driver's path.
    /// For ``Mode/attach``: before the pid (the transport, `-`, is stdio:
    /// the debugger's connection).
    public let options: [String]
    /// System calls added to stage 1 (the filter set before exec, for the
    /// process's whole life): what the tool calls itself that a u-driver
    /// does not.
    public let stage1Syscalls: [String]
    /// Whether the u-driver stacks stage 2 under the tool (the steady-state
    /// filter whose violations end the process). Without it, stage 1 alone
    /// confines the process: a call outside it fails with ENOSYS.
    public let stage2: Bool
    /// MemoryMax= (RLIMIT_AS) and the sandbox's 0-byte RLIMIT_FSIZE are
    /// not applied: the tool maps its own shadow memory and writes files
    /// of its own.
    public let liftsLimits: Bool
    public let deadlines: Deadlines
    /// One line saying what opens, for the journal entry and `drvctl status`.
    public var widening: String {
        var parts: [String] = []
        switch mode {
        case .attach:
            parts.append("u-driver's sandbox unchanged; \(program) runs outside it as the u-driver's uid with CAP_SYS_PTRACE, "
                         + "attached per connection")
        case .wrap:
            parts.append(stage1Syscalls.isEmpty ? "stage 1 unchanged"
                         : "stage 1 + " + stage1Syscalls.joined(separator: " "))
            parts.append(stage2 ? "stage 2 unchanged" : "stage 2 not stacked (stage 1 alone: other calls fail with ENOSYS)")
        }
        if liftsLimits { parts.append("MemoryMax= and RLIMIT_FSIZE=0 not applied") }
        switch deadlines {
        case .off: parts.append("upcall deadlines and heartbeats off")
        case .scaled(let n): parts.append("deadlines ×\(n)")
        }
        parts.append("no standby")
        return parts.joined(separator: "; ")
    }

    /// gdb, through gdbserver: `drvctl debug NAME --gdb`, then `gdb -ex
    /// 'target remote SOCKET'`. gdbserver is started when gdb connects and
    /// detaches when it leaves, so the u-driver runs freely in between.
    public static let gdb = DebugTool(
        name: "gdb", program: "gdbserver", package: "gdbserver", mode: .attach,
        options: ["--once", "--attach", "-"],
        stage1Syscalls: [], stage2: true, liftsLimits: false, deadlines: .off)

    /// valgrind's memcheck, its report on stderr (so in the journal); the
    /// error summary when the u-driver exits (`drvctl debug NAME --off`).
    /// Debian's /usr/bin/valgrind is a shell script around valgrind.bin
    /// (it adds /usr/lib/debug to LD_LIBRARY_PATH): the binary is run.
    /// Stage 1: what valgrind's start-up calls beyond a u-driver's
    /// (measured by taking each away): `open` of /proc/self/maps, the
    /// client's command line written to a file in /tmp and unlinked, a
    /// pipe for its thread lock, `stat` of the client, `fcntl` to move its
    /// fds out of the client's way; and gettimeofday, which the client
    /// calls through the vDSO natively but as a real system call under
    /// valgrind. Stage 2 cannot be stacked: valgrind 3.19 does not emulate
    /// seccomp(2) (it answers ENOSYS).
    public static let valgrind = DebugTool(
        name: "valgrind", program: "valgrind.bin", package: "valgrind", mode: .wrap,
        options: ["--tool=memcheck", "--vgdb=no", "--log-fd=2"],
        stage1Syscalls: ["open", "unlink", "pipe", "fcntl", "stat", "gettimeofday"],
        stage2: false, liftsLimits: true, deadlines: .scaled(40))

    /// strace of every thread, one line per call on stderr (the journal).
    /// `-D`: strace runs as a detached grandchild, so the u-driver keeps
    /// the pid the daemon spawned and checks. Stage 1: what strace calls
    /// beyond a u-driver's (measured by taking each away): ptrace, wait4,
    /// process_vm_readv to read the tracee, fork for the tracer,
    /// getuid/setreuid (it drops set-uid rights before exec), fcntl and
    /// pipe2 for its start-up handshake, and pause: strace's
    /// test_ptrace_seize forks a child that pauses until SIGKILLed; refused,
    /// the child exits at once and strace dies of "unexpected wait status
    /// 0" whenever the child runs before the kill (seen under load).
    public static let strace = DebugTool(
        name: "strace", program: "strace", package: "strace", mode: .wrap,
        options: ["-D", "-f", "-tt", "-qq"],
        stage1Syscalls: ["ptrace", "wait4", "process_vm_readv", "fork", "getuid", "setreuid", "fcntl", "pipe2", "pause"],
        stage2: true, liftsLimits: false, deadlines: .scaled(10))

    /// Every tool, in `drvctl debug --help`'s order.
    public static let all: [DebugTool] = [.gdb, .valgrind, .strace]

    public static func named(_ name: String) -> DebugTool? { all.first { $0.name == name } }

    /// The tool's program in `path` (PATH's directories), or nil.
    public func locate(path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        -> String? {
        var dirs = path.split(separator: ":").map(String.init)
        // systemd's default PATH lacks none of these; a test's may.
        for d in ["/usr/local/bin", "/usr/bin", "/bin"] where !dirs.contains(d) { dirs.append(d) }
        return dirs.map { $0 + "/" + program }.first { access($0, X_OK) == 0 }
    }
}
