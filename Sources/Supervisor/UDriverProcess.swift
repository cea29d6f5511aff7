// SPDX-License-Identifier: GPL-2.0
import CSpawn
import Foundation
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// How a u-driver process ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(code: Int32)
    case killed(signal: Int32, coreDumped: Bool)
    /// Ended, how is unknown: a u-driver adopted from a previous daemon is
    /// not this process's child, and its exit status went to its new parent.
    case unknown
    /// Ended while another process ptraced it: the status goes to the
    /// tracer first, and it had not let go within two seconds.
    case heldByTracer

    public var description: String {
        switch self {
        case .exited(let c): return "exited with status \(c)"
        case .unknown: return "ended (adopted from a previous drivermgrd: its exit status went to its new parent)"
        case .heldByTracer: return "ended while ptraced (its status went to the tracer)"
        case .killed(let s, let core): return "killed by signal \(s) (\(ExitStatus.signalName(s)))\(core ? ", core dumped" : "")"
        }
    }

    /// SIGKILL → "SIGKILL".
    public static func signalName(_ s: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS",
                                      8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM", 31: "SIGSYS"]
        return names[s] ?? "signal \(s)"
    }
}

/// A running u-driver: its pid, its pidfd, and a watcher that reports its
/// end exactly once.
public final class UDriverProcess: Sendable {
    public let pid: Int32
    /// The pidfd (owned; closed on deinit), e.g. for systemd's fd store.
    public let pidfd: Int32
    /// Whether a previous daemon started it (not this process's child).
    public let adopted: Bool
    /// Its stderr, if it writes into a pipe of the daemon's (else it shares
    /// the daemon's own stderr).
    public let output: ProcessOutput?
    private let ended = Mutex<ExitStatus?>(nil)
    private let waiters = Mutex<[CheckedContinuation<ExitStatus, Never>]>([])

    /// The environment every u-driver gets: Swift's crash backtracer off, so
    /// a crash ends the process at once instead of after a symbolicated dump;
    /// two malloc arenas, because glibc reserves 64 MiB of address space per
    /// arena and MemoryMax= is an address-space limit (RLIMIT_AS): with an
    /// arena per thread, libdispatch's thread pool would run out of address
    /// space under load, fail to create threads, and try to syslog about it.
    /// libdispatch logs to stderr (the daemon's log), not syslog: syslog()
    /// would open /etc/localtime and a socket, which stage 2 forbids.
    public static let environment = ["SWIFT_BACKTRACE=enable=no", "MALLOC_ARENA_MAX=2", "LIBDISPATCH_LOG=stderr"]

    private init(pid: Int32, pidfd: Int32, adopted: Bool = false, output: ProcessOutput?) {
        self.pid = pid
        self.pidfd = pidfd
        self.adopted = adopted
        self.output = output
    }

    /// Its last stderr lines, once the pipe has ended or `limit` passed
    /// (empty without a pipe).
    public func lastOutput(waitingUpTo limit: Duration = .milliseconds(500)) async -> [String] {
        await output?.lastLines(waitingUpTo: limit) ?? []
    }

    /// Takes over a u-driver a previous daemon started, through the pidfd it
    /// left in systemd's fd store (owned from here on). The pidfd must name
    /// `pid` (its fdinfo says which process it is) and the process must
    /// still run. `stderr` is the read end of its stderr pipe, if the
    /// store kept it (owned from here on; read into `output`).
    public static func adopt(pid: Int32, pidfd: Int32, stderr: Int32? = nil,
                             output: (@Sendable (_ pid: Int32, _ line: String) -> Void)? = nil) throws -> UDriverProcess {
        let info = (try? String(contentsOfFile: "/proc/self/fdinfo/\(pidfd)", encoding: .utf8)) ?? ""
        let named = info.split(separator: "\n").first { $0.hasPrefix("Pid:") }
            .flatMap { Int32($0.dropFirst(4).trimmingCharacters(in: .whitespaces)) }
        guard named == pid else {
            throw SupervisorError(.spawnFailed, "fd \(pidfd) is not a pidfd for \(pid) (fdinfo Pid: \(named.map(String.init) ?? "none"))")
        }
        guard drv_pidfd_ended(pidfd) == 0 else {
            throw SupervisorError(.spawnFailed, "u-driver \(pid) ended while drivermgrd was down")
        }
        ProcessExitFeed.shared.watch(pid)
        var out: ProcessOutput?
        if let stderr {
            out = ProcessOutput(fd: stderr) { line in output?(pid, line) }
        }
        return UDriverProcess(pid: pid, pidfd: pidfd, adopted: true, output: out)
    }

    deinit { Glibc.close(pidfd) }

    /// Starts `executable` with `socket` as its fd 3 and nothing else open,
    /// an empty environment unless given, and `arguments` (argv[0] included).
    /// Runs on the spawner thread, so PR_SET_PDEATHSIG follows the daemon's
    /// life rather than a worker thread's. With `dieWithDaemon` false the
    /// u-driver outlives the daemon (its channel is kept elsewhere, e.g. in
    /// systemd's fd store) and ends on EOF instead. With `output`, its
    /// stderr is a pipe and every line it writes goes there (see
    /// ``ProcessOutput``); without, it writes to the daemon's stderr.
    ///
    /// With `payload`, `executable` is a tool that runs it (valgrind,
    /// strace): the payload is opened by the daemon and reaches the tool,
    /// sandboxed like a u-driver, as ``payloadPath``.
    public static func spawn(executable: String, arguments: [String], environment: [String] = UDriverProcess.environment,
                             socket: XPCSocket, sandbox: SandboxPolicy? = nil,
                             dieWithDaemon: Bool = true, payload: String? = nil,
                             output: (@Sendable (_ pid: Int32, _ line: String) -> Void)? = nil) async throws -> UDriverProcess {
        try await SpawnThread.shared.run {
            try spawnNow(executable: executable, payload: payload, arguments: arguments, environment: environment,
                         fd: socket.fd, sandbox: sandbox, die: dieWithDaemon ? 1 : 0, output: output)
        }
    }

    /// Where a tool spawned with a payload finds it.
    public static let payloadPath = "/proc/self/fd/\(DRV_PAYLOAD_FD)"

    private static func spawnNow(executable: String, payload: String?, arguments: [String], environment: [String], fd: Int32,
                                 sandbox: SandboxPolicy?, die: Int32,
                                 output: (@Sendable (_ pid: Int32, _ line: String) -> Void)?) throws -> UDriverProcess {
        var errPipe: [Int32] = [-1, -1]
        if output != nil {
            let r = drv_pipe(&errPipe)
            guard r == 0 else { throw SupervisorError(.spawnFailed, errno: -r, "stderr pipe: \(String(cString: strerror(-r)))") }
        }
        defer { if errPipe[1] >= 0 { Glibc.close(errPipe[1]) } }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        var pidfd: Int32 = -1
        let r: Int32
        if let sandbox {
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            defer { if null >= 0 { Glibc.close(null) } }
            r = sandbox.stage1.withUnsafeBufferPointer { bpf in
                // The shared network namespace once it is there (joined,
                // not made: SharedNetworkNamespace), else one of its own.
                let net = sandbox.privateNamespaces ? SharedNetworkNamespace.descriptor : -1
                var sb = drv_sandbox(bpf: bpf.isEmpty ? nil : bpf.baseAddress, bpf_len: bpf.count,
                                     drop_user: sandbox.user == nil ? 0 : 1,
                                     uid: sandbox.user?.uid ?? 0, gid: sandbox.user?.gid ?? 0,
                                     ns_flags: !sandbox.privateNamespaces ? 0
                                        : net >= 0 ? SandboxPolicy.namespaceFlags & ~SandboxPolicy.newNet : SandboxPolicy.namespaceFlags,
                                     net_fd: net,
                                     as_limit: sandbox.memoryMax, nofile: sandbox.maxFiles, null_fd: null,
                                     files_writable: sandbox.filesWritable ? 1 : 0)
                return drv_spawn(executable, payload, &argv, &envp, fd, errPipe[1], &sb, die, &pid, &pidfd)
            }
        } else {
            r = drv_spawn(executable, payload, &argv, &envp, fd, errPipe[1], nil, die, &pid, &pidfd)
        }
        guard r == 0 else {
            if errPipe[0] >= 0 { Glibc.close(errPipe[0]) }
            var why = "\(payload ?? executable): \(String(cString: strerror(-r)))"
            if -r == EACCES, let u = sandbox?.user {
                // drivermgrd opened the file itself, so no directory on the
                // way is at fault: the file or what it loads is.
                why += " (uid \(u.uid) may not execute the file, or read a library it loads)"
            }
            throw SupervisorError(.spawnFailed, errno: -r, why)
        }
        let out = output.map { handler in ProcessOutput(fd: errPipe[0]) { [pid] line in handler(pid, line) } }
        return UDriverProcess(pid: pid, pidfd: pidfd, output: out)
    }

    /// Calls `onExit` once, on the ``ReadinessWatcher``'s thread, when the
    /// process ends (its pidfd turns readable).
    public func watch(_ onExit: @escaping @Sendable (ExitStatus) -> Void) {
        let watched = ReadinessWatcher.shared.watch(pidfd) { [self] in
            // Every thread has exited (the pidfd says so).
            if let s = reap() {
                ended(s, onExit)
                return .stop(then: nil)
            }
            // Being ptraced (gdb, the fault campaign's injector), it is
            // first reported to its tracer: that wait is not the watcher's.
            return .stop(then: { [self] in startThread(name: "pidfd-\(pid)") { [self] in awaitTracer(onExit) } })
        }
        if !watched { startThread(name: "pidfd-\(pid)") { [self] in awaitTracer(onExit) } }
    }

    private func ended(_ status: ExitStatus, _ onExit: @Sendable (ExitStatus) -> Void) {
        for w in waiters.withLock({ w in defer { w = [] }; return w }) { w.resume(returning: status) }
        onExit(status)
    }

    /// A process that ended while ptraced becomes reapable only once its
    /// tracer lets go: wait a little, then report it ended anyway, since it
    /// can no longer touch the device, and keep reaping in the background
    /// so no zombie is left. (Also the whole watch where epoll refused the
    /// pidfd: it polls it first.)
    private func awaitTracer(_ onExit: @Sendable (ExitStatus) -> Void) {
        var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        while poll(&p, 1, -1) < 0 && errno == EINTR {}
        var s = reap()
        var tries = 0
        while s == nil && tries < 200 {
            usleep(10_000)
            tries += 1
            s = reap()
        }
        let status = s ?? ended.withLock { e in
            if let e { return e }
            e = .heldByTracer
            return .heldByTracer
        }
        ended(status, onExit)
        if s == nil {
            var code: Int32 = 0, st: Int32 = 0
            var left = 600
            while left > 0 && drv_reap(pidfd, &code, &st) == 0 {
                usleep(100_000)
                left -= 1
            }
        }
    }

    /// Waits until the watcher saw the process end (``watch(_:)`` must run).
    public func exited() async -> ExitStatus {
        await withCheckedContinuation { (k: CheckedContinuation<ExitStatus, Never>) in
            let done: ExitStatus? = waiters.withLock { w in
                if let s = ended.withLock({ $0 }) { return s }
                w.append(k)
                return nil
            }
            if let done { k.resume(returning: done) }
        }
    }

    /// Its exit status once it has ended, polling for up to `limit` (for a
    /// process nobody ``watch(_:)``es yet); nil if it still runs.
    public func ended(within limit: Duration) async -> ExitStatus? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: limit)
        while true {
            if let s = reap() { return s }
            if clock.now >= end { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Reaps the process if it has ended; the status is kept.
    @discardableResult
    public func reap() -> ExitStatus? {
        ended.withLock { e in
            if let e { return e }
            var code: Int32 = 0, status: Int32 = 0
            let r = drv_reap(pidfd, &code, &status)
            if r == -ECHILD {
                // Not our child (adopted): ended shows on the pidfd, the
                // status comes from the proc connector when it runs.
                guard drv_pidfd_ended(pidfd) == 1 else { return nil }
                let s = ProcessExitFeed.shared.status(of: pid) ?? .unknown
                e = s
                return s
            }
            guard r == 1 else { return nil }
            let s: ExitStatus = code == drv_cld_exited ? .exited(code: status)
                : .killed(signal: status, coreDumped: code == drv_cld_dumped)
            e = s
            return s
        }
    }

    /// SIGKILL, and reap it in the background so no zombie is left, for a
    /// process nobody waits on (a discarded standby).
    public func discard() {
        kill(SIGKILL)
        watch { _ in }
    }

    /// SIGKILL to the process behind a pidfd no ``UDriverProcess`` owns
    /// (one handed back by systemd that could not be adopted); closes it.
    public static func end(pidfd: Int32) {
        _ = drv_pidfd_signal(pidfd, SIGKILL)
        Glibc.close(pidfd)
    }

    /// Sends `signal` through the pidfd (no pid-reuse race).
    public func kill(_ signal: Int32 = SIGKILL) { _ = drv_pidfd_signal(pidfd, signal) }
}

/// One long-lived thread that performs every spawn. PR_SET_PDEATHSIG fires
/// when the thread that forked the child exits; Swift's cooperative pool
/// retires idle threads, so spawning from it would kill u-drivers at random.
final class SpawnThread: Sendable {
    static let shared = SpawnThread()
    private typealias Job = @Sendable () -> Void
    private let queue = Mutex<[Job]>([])
    private let wake = DispatchSemaphore(value: 0)

    private init() {
        let t = Thread { [self] in
            while true {
                wake.wait()
                let job = queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                job?()
            }
        }
        t.name = "spawner"
        t.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, Error>) in
            queue.withLock { $0.append { k.resume(with: Result { try body() }) } }
            wake.signal()
        }
    }
}
