// SPDX-License-Identifier: GPL-2.0
import CSandbox
import ControlInterface
import DeviceClasses
import Foundation
import Logging
import Nucleus
import ShadowDriver
import Supervisor
import Synchronization
import XPC

/// One configured driver and, once a device matched, its u-driver process.
///
/// The broker's per-driver half: every upcall (from the nucleus or from
/// drvctl) enters through ``submit(_:done:)`` and every downcall through
/// `forwardDowncall`. The shadow watches both, failures of every kind end in
/// ``failure(_:_:generation:op:parameter:)``, and recovery replays the shadow's
/// log into a fresh u-driver while requests wait in order.
final class DriverInstance: Sendable {
    /// The driver's configuration; a reload may replace it (`update(config:)`).
    var config: DriverConfig { configuration.withLock { $0 } }
    private let configuration: Mutex<DriverConfig>
    private let nucleus: NucleusLink
    private let logger: Logger
    private let emit: @Sendable (DriverEvent) -> Void
    private let runtime: Mutex<Runtime>
    /// Where the u-driver's descriptors and state go so a restarted daemon
    /// can adopt it (`--fd-store`); nil: the u-driver dies with the daemon.
    private let handover: HandoverStore?

    /// A request waiting for a u-driver, with who gets the answer.
    struct Queued: Sendable {
        let message: XPCMessage
        let done: @Sendable (XPCMessage) -> Void
    }

    struct Runtime: Sendable {
        var device: NucleusDevice?
        var state: DriverState = .stopped
        var process: UDriverProcess?
        var conn: XPCConnection?
        /// Bumped for every u-driver process; callbacks from an older one are stale.
        var generation: UInt64 = 0
        /// The generation whose failure started the current recovery: more
        /// reports about it (a second timeout, its exit) add nothing.
        var failedGeneration: UInt64 = 0
        var startedAt: UInt64 = 0
        var starts = 0
        var stopping = false
        var lastFailure: String?
        var lastExitClean = false
        var chip: String?
        var ownedDMA: Set<UInt32> = []
        var shadow: Shadow
        /// Requests in flight when the driver failed: first to be re-sent.
        var retry: [Queued] = []
        /// Requests that arrived while recovering.
        var queue: [Queued] = []
        /// Monotonic times of failures, for the start limit.
        var failureTimes: [UInt64] = []
        /// `drvctl restart` callers waiting for the outcome.
        var settleWaiters: [CheckedContinuation<DriverState, Never>] = []
        /// An idle u-driver waiting for HELLO (Standby=yes), and whether one
        /// is being spawned.
        var standby: (XPCSocket, UDriverProcess)?
        var spawningStandby = false
        /// Bumped for every change worth persisting (``persist()``).
        var version: UInt64 = 0
        /// Until then (CLOCK_MONOTONIC ns), replies to calls this daemon
        /// never made are late answers to its predecessor, not a failure.
        var adoptedUntil: UInt64 = 0
    }

    /// What ``adopt(_:from:)`` made of a u-driver a previous daemon left.
    enum Adoption: Sendable, Equatable {
        /// Running and served again: same process, nothing replayed.
        case adopted
        /// Running, but this daemon's configuration shapes the process
        /// differently: restart it (through recovery) once the nucleus is up.
        case reconfigured
        /// It ended while no daemon watched: recover it from the saved
        /// shadow once the nucleus is up (generation to report against).
        case lost(UInt64)
        /// Nothing usable was saved: the driver starts afresh.
        case none
    }

    /// How long a forwarded downcall may take at the nucleus.
    static let downcallTimeout: Duration = .seconds(2)

    init(config: DriverConfig, nucleus: NucleusLink, logger: Logger, handover: HandoverStore? = nil,
         emit: @escaping @Sendable (DriverEvent) -> Void) {
        self.configuration = Mutex(config)
        self.nucleus = nucleus
        self.handover = handover
        var l = logger
        l[metadataKey: "DRIVER"] = .string(config.name)
        self.logger = l
        self.emit = emit
        self.runtime = Mutex(Runtime(shadow: config.deviceClass.makeShadow()))
    }

    var name: String { config.name }

    /// Fields every journal entry about this driver carries: DRIVER= comes
    /// from the logger; DRIVER_CLASS=, DEVICE= (PCI slot), RESTART_COUNT=.
    private func journalFields() -> Logger.Metadata {
        let (dev, starts) = runtime.withLock { ($0.device, $0.starts) }
        var m: Logger.Metadata = ["DRIVER_CLASS": "\(config.deviceClass.name)", "RESTART_COUNT": "\(max(0, starts - 1))"]
        if let dev { m["DEVICE"] = "\(dev.slot)" }
        return m
    }
    var state: DriverState { runtime.withLock { $0.state } }
    var device: NucleusDevice? { runtime.withLock { $0.device } }

    /// Binds the device the nucleus announced; false if another is bound.
    func bind(_ d: NucleusDevice) -> Bool {
        runtime.withLock { r in
            if let cur = r.device { return cur == d }
            r.device = d
            return true
        }
    }

    private func record(_ event: String, _ detail: String, kind: FailureKind? = nil, recoveryUSec: UInt64? = nil,
                        replayed: Int? = nil, queued: Int? = nil) {
        emit(DriverEvent(timeUSec: UInt64(Date().timeIntervalSince1970 * 1e6), driver: name, event: event, detail: detail,
                         state: state, failureKind: kind, recoveryUSec: recoveryUSec, replayedCalls: replayed,
                         queuedRequests: queued))
    }

    // MARK: life cycle

    /// A fresh start: spawn, HELLO, full PROBE (the chip is reset). From
    /// `stopped` or `failed`; clears the failure count.
    func start() async throws {
        let dev: NucleusDevice = try runtime.withLock { r in
            guard let d = r.device else { throw ManagerError.badState(name, "no device matches \(config.match)") }
            guard r.state == .stopped || r.state == .failed else { throw ManagerError.badState(name, "already \(r.state.rawValue)") }
            r.state = .starting
            r.stopping = false
            r.lastFailure = nil
            r.ownedDMA = []
            r.shadow = config.deviceClass.makeShadow()
            r.failureTimes = []
            return d
        }
        do {
            let (p, _, _) = try await launch(dev, reattach: false)
            runtime.withLock { r in
                r.state = .active
                r.lastFailure = nil
            }
            refillStandby()
            persist()
            logger.info("probed \(runtime.withLock { $0.chip } ?? "device") at \(dev.slot)", metadata: ["PID": "\(p.pid)"])
            record("active", "probed \(runtime.withLock { $0.chip } ?? "device") at \(dev.slot)")
        } catch {
            runtime.withLock { r in
                r.state = .failed
                r.lastFailure = "start failed: " + (r.lastFailure ?? "\(error)")
                r.process = nil
                r.conn = nil
            }
            logger.error("start failed: \(error)")
            record("probe-failed", "\(error)")
            throw ManagerError.startFailed(name, "\(error)")
        }
    }

    /// Spawns a u-driver, HELLO (with the objects the nucleus holds), PROBE.
    /// On failure the process is gone when this throws.
    private func launch(_ dev: NucleusDevice, reattach: Bool) async throws -> (UDriverProcess, XPCConnection, UInt64) {
        let spare = runtime.withLock { r -> (XPCSocket, UDriverProcess)? in
            defer { r.standby = nil }
            return r.standby
        }
        let (daemonEnd, p): (XPCSocket, UDriverProcess)
        if let spare, spare.1.reap() == nil {
            (daemonEnd, p) = spare
        } else {
            spare?.1.discard()
            (daemonEnd, p) = try await spawn()
        }
        let gen = runtime.withLock { r -> UInt64 in
            r.generation += 1
            return r.generation
        }
        let conn = XPCConnection(name: name, socket: daemonEnd, onEvent: { [self] c, ev in
            self.driverEvent(c, ev, gen)
        })
        runtime.withLock { r in
            r.process = p
            r.conn = conn
            r.startedAt = monotonicNanos()
            r.starts += 1
        }
        record("spawned", "pid \(p.pid)")
        p.watch { [self] status in self.exited(status, gen) }
        var listenerCopy: Int32?
        defer { if let l = listenerCopy { Glibc.close(l) } }
        do {
            if config.sandboxed { listenerCopy = try await confirmSandbox(daemonEnd, p, gen) }
        } catch {
            p.kill()
            _ = await p.exited()
            failure(.sandbox, "\(error)", generation: gen)
            throw error
        }
        conn.start()
        do {
            let objects = try await heldObjects(dev)
            let hello = try await conn.call(XPCMessage(op: .hello, flags: .request, instance: dev.instance, attributes: [
                .u32(.version, XPCLimits.version), .string(.driverName, name), .u8(.deviceClass, dev.deviceClass.rawValue),
                .u16(.pciVendor, dev.vendor), .u16(.pciDevice, dev.device), .u8(.pciRevision, dev.revision),
                .string(.pciSlot, dev.slot), .u32(.barSize, dev.barSize), .u32(.irq, dev.irq)] + objects),
                timeout: config.probeTimeout)
            if let e = hello.remoteError { throw e }
            let probe = try await conn.call(XPCMessage(op: .probe, flags: reattach ? [.request, .reattach] : .request,
                                                       instance: dev.instance), timeout: config.probeTimeout)
            if let e = probe.remoteError { throw e }
            runtime.withLock { $0.chip = probe.attribute(.chipName)?.string }
            handover?.keep(name, xpc: daemonEnd.fd, pidfd: p.pidfd, seccomp: listenerCopy)
            return (p, conn, gen)
        } catch {
            p.kill()
            _ = await p.exited()
            await conn.closeAndWait()
            throw error
        }
    }

    /// Spawns the u-driver on one end of a fresh socketpair and returns the
    /// other. The child's end is closed here as soon as the child has it:
    /// were the daemon to keep it, a u-driver dying mid-handshake would leave
    /// no EOF and every call would wait out its deadline.
    private func spawn() async throws -> (XPCSocket, UDriverProcess) {
        let (daemonEnd, driverEnd) = try XPCSocket.pair()
        var policy: SandboxPolicy?
        if config.sandboxed {
            policy = SandboxPolicy(stage1: config.stage1, user: (config.uid, config.gid),
                                   privateNamespaces: config.privateNamespaces, memoryMax: config.memoryMax)
        }
        let p = try await UDriverProcess.spawn(executable: config.executable, arguments: [config.executable],
                                               socket: driverEnd, sandbox: policy, dieWithDaemon: handover == nil)
        if config.sandboxed {
            // The first thing the runtime reads: stack stage 2 with these calls.
            try daemonEnd.send(XPCMessage(op: .sandbox, flags: .request, attributes: config.syscalls.map { .string(.syscallName, $0) }).bytes)
        }
        return (daemonEnd, p)
    }

    /// Waits for the runtime's SANDBOX reply and its listener fd, checks in
    /// /proc that no_new_privs is set and two filters are stacked, and starts
    /// the violation watcher. A u-driver that skips stage 2 is refused.
    /// Returns a copy of the listener for systemd's fd store (the watcher
    /// closes its own when the process ends), if there is a store.
    private func confirmSandbox(_ sock: XPCSocket, _ p: UDriverProcess, _ gen: UInt64) async throws -> Int32? {
        let timeoutMs = Int32(clamping: TimeSpan.micros(config.probeTimeout) / 1000)
        let (reply, listener): ([UInt8], Int32) = try await onThread {
            var pfd = pollfd(fd: sock.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, timeoutMs) == 1 else { throw ManagerError.startFailed(self.name, "no SANDBOX reply within \(self.config.probeTimeout)") }
            var buf = [UInt8](repeating: 0, count: 4096)
            var fd: Int32 = -1
            let n = buf.withUnsafeMutableBytes { drv_recv_with_fd(sock.fd, $0.baseAddress, $0.count, &fd) }
            guard n > 0 else { throw ManagerError.startFailed(self.name, "u-driver closed its channel before the sandbox was up") }
            return (Array(buf[0..<n]), fd)
        }
        let m = try? XPCMessage.decode(reply)
        guard let m, m.op == .sandbox, m.isReply else {
            if listener >= 0 { Glibc.close(listener) }
            throw ManagerError.startFailed(name, "first message was not the SANDBOX reply")
        }
        if let e = m.remoteError {
            if listener >= 0 { Glibc.close(listener) }
            throw ManagerError.startFailed(name, "stage 2 refused: \(e)")
        }
        guard listener >= 0 else { throw ManagerError.startFailed(name, "SANDBOX reply without the listener fd") }
        func field(_ k: String, of pid: String) -> Int? {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            return status.split(separator: "\n").first { $0.hasPrefix(k + ":") }
                .flatMap { Int($0.dropFirst(k.count + 1).trimmingCharacters(in: .whitespaces)) }
        }
        func field(_ k: String) -> Int? { field(k, of: "\(p.pid)") }
        // Both stages on top of whatever filters the daemon itself runs under
        // (a systemd unit's hardening adds its own): own count + 2.
        let inherited = field("Seccomp_filters", of: "self") ?? 0
        guard field("NoNewPrivs") == 1, field("Seccomp") == 2, (field("Seccomp_filters") ?? 0) >= inherited + 2 else {
            Glibc.close(listener)
            throw ManagerError.startFailed(name, "sandbox not in place (NoNewPrivs \(field("NoNewPrivs") ?? -1), "
                                           + "Seccomp_filters \(field("Seccomp_filters") ?? -1), \(inherited) inherited)")
        }
        let copy = handover != nil ? fcntl(listener, F_DUPFD_CLOEXEC, 0) : -1
        watchViolations(listener, p, gen)
        return copy >= 0 ? copy : nil
    }

    /// One thread per u-driver reads its seccomp notifications: each is a
    /// forbidden call, named (openat's path read from the caller's memory),
    /// the process killed before the call can run, and reported as `sandbox`.
    private func watchViolations(_ listener: Int32, _ p: UDriverProcess, _ gen: UInt64) {
        let t = Thread { [self] in
            defer { Glibc.close(listener) }
            var id: UInt64 = 0, tid: pid_t = 0, nr: Int32 = 0
            var args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
            while withUnsafeMutableBytes(of: &args, { raw in
                drv_notify_next(listener, &id, &tid, &nr, raw.baseAddress?.assumingMemoryBound(to: UInt64.self))
            }) == 0 {
                let call = SyscallSets.name(of: nr)
                var detail = call
                // libdispatch's worker monitor reading its own thread's stat: serve it.
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
                        continue
                    }
                }
                let pathArg: UInt64? = call == "openat" || call == "openat2" ? args.1 : (call == "open" || call == "execve" ? args.0 : nil)
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
                // Report first, so the exit that follows is not taken for a crash.
                failure(.sandbox, "\(detail) [syscall \(nr)]: forbidden system call", generation: gen, syscall: call)
                p.kill()
                _ = drv_notify_deny(listener, id, 1)
            }
        }
        t.name = "seccomp-\(p.pid)"
        t.start()
    }

    /// Runs blocking work on a thread of its own, off the cooperative pool.
    private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, Error>) in
            let t = Thread { k.resume(with: Result { try body() }) }
            t.start()
        }
    }

    /// Spawns the idle u-driver the next recovery adopts (Standby=yes). It
    /// waits for HELLO on its socket; nothing is sent to it until then.
    private func refillStandby() {
        guard config.standby else { return }
        let go = runtime.withLock { r -> Bool in
            guard r.standby == nil, !r.spawningStandby, r.state == .active else { return false }
            r.spawningStandby = true
            return true
        }
        guard go else { return }
        Task {
            let spare = try? await spawn()
            let extra = runtime.withLock { r -> UDriverProcess? in
                r.spawningStandby = false
                guard let spare, r.standby == nil, r.state == .active || r.state == .recovering, !r.stopping else { return spare?.1 }
                r.standby = spare
                return nil
            }
            extra?.discard()
        }
    }

    /// The DMA buffers the nucleus holds for this device, as HELLO's OBJECT
    /// attributes, so a fresh u-driver adopts them instead of allocating.
    private func heldObjects(_ dev: NucleusDevice) async throws -> [XPCAttribute] {
        let info = try await nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance),
                                          timeout: Self.downcallTimeout)
        let objs = info.all(.object)
        let ids = objs.compactMap { $0.children.first { $0.id == .objectID }?.u32 }
        runtime.withLock { $0.ownedDMA.formUnion(ids) }
        return objs
    }

    /// Asks the u-driver to exit (SHUTDOWN), then makes sure it is gone.
    func stop() async {
        let (conn, process, waiting, spare) = runtime.withLock { r -> (XPCConnection?, UDriverProcess?, [Queued], UDriverProcess?) in
            r.stopping = true
            let w = r.retry + r.queue
            r.retry = []
            r.queue = []
            defer { r.standby = nil }
            return (r.conn, r.process, w, r.standby?.1)
        }
        // An idle standby exits on EOF; SIGKILL makes sure.
        spare?.discard()
        for q in waiting { q.done(.errorReply(to: q.message, errno: 11, message: "\(name) is stopping")) }
        if let process {
            if let conn { _ = try? await conn.call(XPCMessage(op: .shutdown, flags: .request), timeout: .milliseconds(500)) }
            for _ in 0..<50 where process.reap() == nil { try? await Task.sleep(for: .milliseconds(10)) }
            if process.reap() == nil { process.kill() }
            _ = await process.exited()
            await conn?.closeAndWait()
        }
        let (was, version) = runtime.withLock { r -> (DriverState, UInt64) in
            let was = r.state
            r.state = .stopped
            r.conn = nil
            r.process = nil
            r.version += 1
            return (was, r.version)
        }
        handover?.forget(name, version: version)
        if was != .stopped { record("stopped", "by request") }
    }

    /// `drvctl restart`: through the recovery path (the running device is
    /// adopted, not reset), or a fresh start if the driver is not running.
    /// Returns the state it settled in.
    func restart(reason: String = "requested by drvctl restart") async throws -> DriverState {
        let gen: UInt64? = runtime.withLock { r in r.state == .active ? r.generation : nil }
        guard let gen else {
            if state == .recovering { return await settled() }
            try await start()
            return state
        }
        // failure() marks the driver recovering before it returns, so the
        // wait below cannot see the state from before the restart.
        failure(.restart, reason, generation: gen)
        return await settled()
    }

    /// A reload changed this driver's configuration: take the new one and,
    /// if the driver runs, restart it through the recovery path (the device
    /// is adopted and the shadow replays, as for `drvctl restart`). A standby
    /// spawned from the old configuration is discarded first.
    func update(config new: DriverConfig) async throws -> DriverState {
        configuration.withLock { $0 = new }
        let spare = runtime.withLock { r -> UDriverProcess? in
            defer { r.standby = nil }
            return r.standby?.1
        }
        spare?.discard()
        switch state {
        case .active, .recovering: return try await restart(reason: "configuration reloaded")
        default: return state
        }
    }

    // MARK: surviving the daemon's own crash

    /// Writes what a restarted daemon needs to adopt this u-driver (device,
    /// shadow, counters) through the handover store; only while it runs.
    private func persist() {
        guard let handover else { return }
        let cfg = config
        let snap = runtime.withLock { r -> (SavedDriver, UInt64)? in
            guard r.state == .active, let d = r.device, let p = r.process else { return nil }
            r.version += 1
            return (SavedDriver(name: cfg.name, pid: p.pid, device: d, generation: r.generation, starts: r.starts,
                                startedAt: r.startedAt, chip: r.chip, ownedDMA: r.ownedDMA, failureTimes: r.failureTimes,
                                lastFailure: r.lastFailure, processConfig: SavedDriver.processConfig(cfg), shadow: r.shadow),
                    r.version)
        }
        if let snap { handover.save(snap.0, version: snap.1) }
    }

    /// Takes over the u-driver a previous daemon left running, from its
    /// saved state and the descriptors systemd kept: the same process goes
    /// on serving, nothing is probed or replayed, the device was never
    /// touched. Runs before the nucleus is connected (its DEVICE_ADD then
    /// finds the driver bound and running).
    func adopt(_ saved: SavedDriver, from store: HandoverStore) -> Adoption {
        let xpc = store.take("\(name).xpc"), pidfd = store.take("\(name).pid"), seccomp = store.take("\(name).seccomp")
        func closeAll() { for fd in [xpc, pidfd, seccomp] { if let fd { Glibc.close(fd) } } }
        let dev: NucleusDevice, shadow: Shadow
        do {
            dev = try saved.nucleusDevice()
            shadow = try saved.rebuiltShadow(config.deviceClass)
            guard dev.deviceClass == config.deviceClass.wireClass, dev.vendor == config.vendor, dev.device == config.device else {
                throw ManagerError.invalidParameter("device", "\(dev.pciID) does not match \(config.match)")
            }
        } catch {
            logger.warning("cannot take over from the previous drivermgrd: \(error); starting afresh")
            closeAll()
            store.forget(name)
            return .none
        }
        let gen = runtime.withLock { r -> UInt64 in
            r.device = dev
            r.generation = max(r.generation, saved.generation) + 1
            r.starts = saved.starts
            r.startedAt = saved.startedAt
            r.chip = saved.chip
            r.ownedDMA = Set(saved.ownedDMA)
            r.shadow = shadow
            r.failureTimes = saved.failureTimes
            r.lastFailure = saved.lastFailure
            r.state = .active
            r.stopping = false
            return r.generation
        }
        let process: UDriverProcess, channel: Int32
        do {
            guard let xpc, let pidfd else { throw ManagerError.startFailed(name, "systemd passed no channel or pidfd back") }
            process = try UDriverProcess.adopt(pid: saved.pid, pidfd: pidfd)
            channel = xpc
        } catch {
            if let xpc { Glibc.close(xpc) }
            if let seccomp { Glibc.close(seccomp) }
            if let pidfd {
                // adopt() did not take it. Whatever still runs behind it serves
                // nobody (no channel): end it before a new u-driver takes the device.
                UDriverProcess.end(pidfd: pidfd)
            }
            logger.warning("u-driver \(saved.pid) cannot be taken over: \(error)")
            return .lost(gen)
        }
        // Late answers to the old daemon's calls may still come: its calls
        // had XPCTimeoutSec, the u-driver's own downcalls 2 s.
        let grace = TimeSpan.micros(config.xpcTimeout) * 1000 + 3_000_000_000
        let conn = XPCConnection(name: name, socket: XPCSocket(adopting: channel), firstSeq: UInt32.random(in: 0x1000_0000...0x7000_0000),
                                 onEvent: { [self] c, ev in self.driverEvent(c, ev, gen) })
        runtime.withLock { r in
            r.process = process
            r.conn = conn
            r.adoptedUntil = monotonicNanos() + grace
        }
        process.watch { [self] status in self.exited(status, gen) }
        if let seccomp { watchViolations(seccomp, process, gen) }
        conn.start()
        persist()
        logger.notice("took over u-driver \(process.pid) from the previous drivermgrd: \(shadow.records(instance: dev.instance).count) shadow calls, nothing replayed",
                      metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.adopted)", "PID": "\(process.pid)"]) { $1 })
        record("adopted", "pid \(process.pid) from the previous drivermgrd")
        if saved.processConfig != SavedDriver.processConfig(config) { return .reconfigured }
        refillStandby()
        return .adopted
    }

    /// Waits until the driver is `active` or `failed` again.
    private func settled() async -> DriverState {
        await withCheckedContinuation { (k: CheckedContinuation<DriverState, Never>) in
            let now: DriverState? = runtime.withLock { r in
                if r.state == .active || r.state == .failed || r.state == .stopped {
                    if r.state != .active || r.retry.isEmpty { return r.state }
                }
                r.settleWaiters.append(k)
                return nil
            }
            if let now { k.resume(returning: now) }
        }
    }

    /// `drvctl reset-failed`: forget the failures; the driver is `stopped`.
    func resetFailed() throws {
        try runtime.withLock { r in
            guard r.state == .failed else { throw ManagerError.badState(name, "not failed (\(r.state.rawValue))") }
            r.state = .stopped
            r.failureTimes = []
            r.lastFailure = nil
        }
        record("reset-failed", "failure count cleared")
    }

    /// `drvctl inject`: asks the u-driver runtime to fail on purpose.
    func inject(_ fault: XPCFault) async throws {
        guard config.faultInjection else { throw ManagerError.injectionRefused(name) }
        let conn: XPCConnection? = runtime.withLock { r in r.state == .active ? r.conn : nil }
        guard let conn else { throw ManagerError.badState(name, "not active") }
        let r = try await conn.call(XPCMessage(op: .inject, flags: .request, attributes: [.u8(.faultKind, fault.rawValue)]),
                                    timeout: config.xpcTimeout)
        if let e = r.remoteError { throw ManagerError.callFailed(errno: e.errno, attribute: e.attribute?.name, message: "\(e)") }
        record("inject", fault.name)
    }

    // MARK: detection

    private func exited(_ status: ExitStatus, _ gen: UInt64) {
        enum Act { case ignore, fail, stopped }
        let act = runtime.withLock { r -> Act in
            guard gen == r.generation else { return .ignore }
            if r.stopping { return .stopped }
            r.lastExitClean = status == .exited(code: 0)
            return r.state == .active ? .fail : .ignore
        }
        switch act {
        case .ignore: break
        case .stopped: logger.info("u-driver \(status)")
        case .fail:
            var signal: String?, exitStatus: Int32?
            if case .killed(let s, _) = status { signal = ExitStatus.signalName(s) }
            if case .exited(let code) = status { exitStatus = code }
            failure(.crash, "u-driver \(status)", generation: gen, signal: signal, exitStatus: exitStatus)
        }
    }

    /// A failure of the current u-driver: mark `recovering`, let the shadow
    /// answer, and recover in the background. Stale or repeated reports for
    /// the same process are ignored.
    func failure(_ kind: FailureKind, _ detail: String, generation gen: UInt64, op: XPCOp? = nil,
                 parameter: XPCAttributeID? = nil, signal: String? = nil, syscall: String? = nil,
                 exitStatus: Int32? = nil) {
        let now = monotonicNanos()
        enum Act { case ignore, recover(UDriverProcess?, XPCConnection?), killLaunching(UDriverProcess?) }
        let act = runtime.withLock { r -> Act in
            guard gen == r.generation else { return .ignore }
            switch r.state {
            case .active:
                r.state = .recovering
                r.failedGeneration = gen
                if kind != .restart {
                    r.lastFailure = "\(kind.rawValue): \(detail)"
                    r.failureTimes.append(now)
                }
                defer {
                    r.process = nil
                    r.conn = nil
                }
                return .recover(r.process, r.conn)
            case .starting, .recovering:
                // The u-driver being started or replayed misbehaves: end it;
                // start() fails, or the recovery loop starts over and counts.
                guard gen != r.failedGeneration else { return .ignore }
                r.lastFailure = "\(kind.rawValue): \(detail)"
                return .killLaunching(r.process)
            default:
                return .ignore
            }
        }
        var meta = journalFields()
        meta["MESSAGE_ID"] = "\(JournalMessageID.failure)"
        meta["FAILURE_KIND"] = "\(kind.rawValue)"
        if let exitStatus { meta["EXIT_STATUS"] = "\(exitStatus)" }
        if let op { meta["XPC_OP"] = "\(op.name)" }
        if let parameter { meta["PARAMETER"] = "\(parameter.name)" }
        if let signal { meta["SIGNAL"] = "\(signal)" }
        if let syscall { meta["SYSCALL"] = "\(syscall)" }
        let old: (UDriverProcess?, XPCConnection?)
        switch act {
        case .ignore: return
        case .killLaunching(let p):
            logger.error("failure while starting: \(detail)", metadata: meta)
            record("failure", detail, kind: kind)
            p?.kill()
            return
        case .recover(let p, let c): old = (p, c)
        }
        if kind == .restart {
            logger.info("restarting: \(detail)", metadata: meta)
        } else {
            logger.error("failure: \(detail)", metadata: meta)
        }
        record(kind == .restart ? "restart" : "failure", detail, kind: kind)
        Task { await recover(from: old.0, old.1, detectedAt: now, kind: kind) }
    }

    private func driverEvent(_ conn: XPCConnection, _ ev: XPCConnection.Event, _ gen: UInt64) {
        switch ev {
        case .message(let m) where m.isRequest:
            forwardDowncall(conn, m, gen)
        case .message(let m):
            failure(.protocol, "unexpected \(m.op.name) notification", generation: gen, op: m.op)
        case .malformed(let e, _):
            failure(.protocol, "malformed message: \(e)", generation: gen, parameter: e.attribute)
        case .unexpectedReply(let m):
            if monotonicNanos() < runtime.withLock({ $0.adoptedUntil }) {
                logger.debug("late reply to the previous drivermgrd: \(m.op.name) seq \(m.seq)")
                return
            }
            failure(.badParameter, "reply to a call never made: \(m.op.name) seq \(m.seq)", generation: gen, op: m.op)
        }
    }

    /// Pings an idle u-driver every HeartbeatSec; no answer within
    /// XPCTimeoutSec is a `heartbeat` failure. Runs for the daemon's life.
    func startHeartbeat() {
        guard config.heartbeat > .zero else { return }
        Task { [weak self] in
            while let self {
                try? await Task.sleep(for: self.config.heartbeat)
                let (conn, gen) = self.runtime.withLock { r in (r.state == .active ? r.conn : nil, r.generation) }
                guard let conn, conn.pendingCount == 0 else { continue }
                do {
                    _ = try await conn.call(XPCMessage(op: .ping, flags: .request), timeout: self.config.xpcTimeout)
                } catch let e as XPCError where e.code == .timeout {
                    self.failure(.heartbeat, "no answer to a ping within \(self.config.xpcTimeout)", generation: gen, op: .ping)
                } catch {
                    // Closed: the process is ending and its pidfd will say how.
                    // One that closed its channel and lives on serves nobody.
                    try? await Task.sleep(for: .milliseconds(200))
                    let alive = self.runtime.withLock { r in r.generation == gen && r.state == .active && r.process?.reap() == nil }
                    if alive { self.failure(.protocol, "closed its XPC channel but still runs", generation: gen) }
                }
            }
        }
    }

    // MARK: recovery

    private func recover(from oldProcess: UDriverProcess?, _ oldConn: XPCConnection?, detectedAt t0: UInt64, kind: FailureKind) async {
        // 1. The old process is certainly gone, and every call it had in
        //    flight has come back (into `retry`).
        oldProcess?.kill()
        if let oldProcess { _ = await oldProcess.exited() }
        await oldConn?.closeAndWait()

        while true {
            // 2. Restart policy.
            let (decision, dev) = runtime.withLock { r in
                (kind == .restart && r.failureTimes.isEmpty ? .restart(after: .zero)
                    : config.restart.decide(failures: r.failureTimes, now: monotonicNanos(), cleanExit: r.lastExitClean), r.device)
            }
            guard case .restart(let delay) = decision, let dev else {
                if case .giveUp(let why) = decision { await giveUp(why) } else { await giveUp("no device") }
                return
            }
            if delay > .zero { try? await Task.sleep(for: delay) }
            if runtime.withLock({ $0.stopping }) { return }

            // 3. A fresh u-driver adopts the running device, 4. replays the log,
            // 5. drains what waited, in order.
            var proc: UDriverProcess?
            var channel: XPCConnection?
            do {
                let (p, conn, _) = try await launch(dev, reattach: true)
                proc = p
                channel = conn
                let log = runtime.withLock { $0.shadow.replayLog(instance: dev.instance) }
                for m in log {
                    let r = try await conn.call(m, timeout: config.xpcTimeout)
                    if let v = ReplyContract.violation(request: m, reply: r, of: config.deviceClass) {
                        throw ManagerError.callFailed(errno: 22, attribute: v.attribute?.name, message: v.message)
                    }
                    if let e = r.remoteError { throw ManagerError.callFailed(errno: e.errno, attribute: e.attribute?.name, message: "replay \(m.op.name): \(e)") }
                }
                var drained = 0
                while true {
                    let batch: [Queued]? = runtime.withLock { r in
                        if r.retry.isEmpty && r.queue.isEmpty { return nil }
                        defer { r.retry = []; r.queue = [] }
                        return r.retry + r.queue
                    }
                    guard let batch else { break }
                    for (i, q) in batch.enumerated() {
                        let reply: XPCMessage
                        do {
                            reply = try await conn.call(q.message, timeout: config.xpcTimeout)
                        } catch {
                            runtime.withLock { $0.retry.insert(contentsOf: batch[i...], at: 0) }
                            throw error
                        }
                        if let v = ReplyContract.violation(request: q.message, reply: reply, of: config.deviceClass) {
                            runtime.withLock { $0.retry.insert(contentsOf: batch[i...], at: 0) }
                            throw ManagerError.callFailed(errno: 22, attribute: v.attribute?.name, message: v.message)
                        }
                        runtime.withLock { $0.shadow.record(q.message, reply: reply) }
                        q.done(reply)
                        drained += 1
                    }
                }
                // Serving again, unless the new process died meanwhile.
                let waiters: [CheckedContinuation<DriverState, Never>]? = runtime.withLock { r in
                    guard p.reap() == nil, r.retry.isEmpty, r.queue.isEmpty else { return nil }
                    r.state = .active
                    defer { r.settleWaiters = [] }
                    return r.settleWaiters
                }
                guard let waiters else { throw ManagerError.startFailed(name, "the new u-driver ended during recovery") }
                let usec = (monotonicNanos() - t0) / 1000
                logger.info("recovered in \(usec) us: replayed \(log.count) calls, drained \(drained) requests",
                            metadata: journalFields().merging([
                                "MESSAGE_ID": "\(JournalMessageID.recovery)", "FAILURE_KIND": "\(kind.rawValue)",
                                "RECOVERY_USEC": "\(usec)", "REPLAYED_CALLS": "\(log.count)",
                                "QUEUED_REQUESTS": "\(drained)", "PID": "\(p.pid)"]) { $1 })
                record("recovered", "pid \(p.pid)", kind: kind,
                       recoveryUSec: usec, replayed: log.count, queued: drained)
                for w in waiters { w.resume(returning: .active) }
                refillStandby()
                persist()
                return
            } catch {
                // A failure during recovery: start over; it counts against the limit.
                proc?.kill()
                if let proc { _ = await proc.exited() }
                await channel?.closeAndWait()
                runtime.withLock { r in
                    r.failureTimes.append(monotonicNanos())
                    r.lastFailure = "recovery failed: \(error)"
                }
                logger.error("recovery failed: \(error)", metadata: ["FAILURE_KIND": "\(kind.rawValue)"])
                record("recovery-failed", "\(error)", kind: kind)
            }
        }
    }

    /// Past the start limit (or Restart=no): the nucleus quiesces the
    /// device, waiting requests fail, the driver is `failed`.
    private func giveUp(_ why: String) async {
        let (waiting, waiters, dev) = runtime.withLock { r in
            r.state = .failed
            r.lastFailure = "\(why)" + (r.lastFailure.map { "; last: \($0)" } ?? "")
            defer { r.retry = []; r.queue = []; r.settleWaiters = [] }
            return (r.retry + r.queue, r.settleWaiters, r.device)
        }
        for q in waiting { q.done(.errorReply(to: q.message, errno: 5, message: "\(name) failed: \(why)")) }
        if let dev {
            _ = try? await nucleus.call(XPCMessage(op: .quiesce, flags: .request, instance: dev.instance), timeout: Self.downcallTimeout)
        }
        logger.error("giving up: \(why); device quiesced",
                     metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.gaveUp)"]) { $1 })
        record("failed", "\(why); device quiesced")
        for w in waiters { w.resume(returning: .failed) }
    }

    // MARK: the broker paths

    /// An upcall from the nucleus or drvctl. Active: forwarded with the
    /// driver's deadline. Recovering: answered by the shadow or queued.
    /// Otherwise: EAGAIN. `done` gets the reply, under the driver channel's
    /// sequence number; the caller restores its own.
    func submit(_ m: XPCMessage, done: @escaping @Sendable (XPCMessage) -> Void) {
        enum Route { case send(XPCConnection, UInt64), answer(XPCMessage), held }
        let route = runtime.withLock { r -> Route in
            if m.op == .sndHwParams, let h = m.attribute(.dmaHandle) { r.ownedDMA.insert(h.u32) }
            switch r.state {
            case .active:
                if let c = r.conn { return .send(c, r.generation) }
                return .answer(.errorReply(to: m, errno: 11, message: "\(name) has no channel"))
            case .recovering:
                switch r.shadow.answer(m) {
                case .reply(let a): return .answer(.reply(to: m, attributes: a))
                case .queue:
                    r.queue.append(Queued(message: m, done: done))
                    return .held
                }
            default:
                return .answer(.errorReply(to: m, errno: 11, message: "\(name) is \(r.state.rawValue)"))
            }
        }
        switch route {
        case .answer(let a): done(a)
        case .held: break
        case .send(let conn, let gen): send(m, conn, gen, done)
        }
    }

    private func send(_ m: XPCMessage, _ conn: XPCConnection, _ gen: UInt64, _ done: @escaping @Sendable (XPCMessage) -> Void) {
        conn.call(m, timeout: config.xpcTimeout) { [self] result in
            switch result {
            case .success(let reply):
                if let v = ReplyContract.violation(request: m, reply: reply, of: config.deviceClass) {
                    runtime.withLock { $0.retry.append(Queued(message: m, done: done)) }
                    failure(.badParameter, "\(m.op.name): \(v.message)", generation: gen, op: m.op, parameter: v.attribute)
                    return
                }
                let kept = runtime.withLock { r in
                    r.shadow.record(m, reply: reply)
                    return r.shadow.keeps(m.op)
                }
                done(reply)
                // After the answer: the caller does not wait for the file.
                if kept && reply.status == 0 { persist() }
            case .failure(let e):
                // In flight when the driver failed: it goes first to the recovered driver.
                let keep = runtime.withLock { r -> Bool in
                    guard !r.stopping, r.state == .active || r.state == .recovering else { return false }
                    r.retry.append(Queued(message: m, done: done))
                    return true
                }
                if !keep { done(.errorReply(to: m, errno: 11, message: "\(name): \(e)")); return }
                if e.code == .timeout {
                    failure(.timeout, "\(m.op.name) unanswered after \(config.xpcTimeout)", generation: gen, op: m.op)
                }
            }
        }
    }

    /// An upcall from the nucleus: `submit`, answered under its own seq.
    func forwardUpcall(_ m: XPCMessage) {
        submit(m) { [nucleus] reply in try? nucleus.send(reply.withSeq(m.seq)) }
    }

    /// A daemon-originated upcall (drvctl call) through the same path.
    func call(_ op: XPCOp, _ attrs: [XPCAttribute]) async -> XPCMessage {
        let inst = runtime.withLock { $0.device?.instance ?? 0 }
        return await withCheckedContinuation { (k: CheckedContinuation<XPCMessage, Never>) in
            submit(XPCMessage(op: op, flags: .request, instance: inst, attributes: attrs)) { k.resume(returning: $0) }
        }
    }

    /// A downcall from the u-driver: check, forward to the nucleus, pass the
    /// reply back under the u-driver's own sequence number. A refused
    /// downcall is a `bad-parameter` failure.
    private func forwardDowncall(_ conn: XPCConnection, _ m: XPCMessage, _ gen: UInt64) {
        let (dev, owned) = runtime.withLock { r in (r.device, r.ownedDMA) }
        guard let dev else { return }
        let policy = DowncallPolicy(instance: dev.instance, barSize: dev.barSize)
        if let no = policy.check(m, ownedDMA: owned) {
            try? conn.send(.errorReply(to: m, errno: no.errno, attribute: no.attribute, message: no.message))
            record("refused", "\(m.op.name): \(no.message)")
            failure(.badParameter, "\(m.op.name): \(no.message)", generation: gen, op: m.op, parameter: no.attribute)
            return
        }
        nucleus.call(m, timeout: Self.downcallTimeout) { [self] r in
            switch r {
            case .success(let reply):
                if reply.status == 0 {
                    if m.op == .dmaAlloc, let h = reply.attribute(.dmaHandle) {
                        runtime.withLock { _ = $0.ownedDMA.insert(h.u32) }
                        persist()
                    } else if m.op == .dmaFree, let h = m.attribute(.dmaHandle) {
                        runtime.withLock { _ = $0.ownedDMA.remove(h.u32) }
                        persist()
                    }
                }
                try? conn.send(reply.withSeq(m.seq))
            case .failure(let e):
                try? conn.send(.errorReply(to: m, errno: e.code == .timeout ? 110 : 5, message: "nucleus: \(e)"))
            }
        }
    }

    // MARK: views

    func summary() -> DriverSummary {
        runtime.withLock { r in
            DriverSummary(name: name, driverClass: config.deviceClass.name, device: r.device?.slot, state: r.state,
                          pid: r.process?.pid,
                          uptimeUSec: r.process != nil ? (monotonicNanos() - r.startedAt) / 1000 : nil,
                          restarts: max(0, r.starts - 1))
        }
    }

    func status() async -> DriverStatus {
        let (lastFailure, dev, chip) = runtime.withLock { ($0.lastFailure, $0.device, $0.chip) }
        var state: DeviceState?
        if let dev, let info = try? await nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance),
                                                       timeout: Self.downcallTimeout), info.status == 0 {
            state = DeviceStateDecoder.decode(info, pciID: dev.pciID, chip: chip, as: config.deviceClass)
        }
        return DriverStatus(summary: summary(), executable: config.executable, configFiles: config.files,
                            match: config.match, xpcTimeoutUSec: TimeSpan.micros(config.xpcTimeout),
                            heartbeatUSec: TimeSpan.micros(config.heartbeat), restart: config.restart.mode.rawValue,
                            lastFailure: lastFailure, device: state)
    }
}

/// DEVICE_INFO attributes → the status view: the fields every class has,
/// then the class's own, decoded by its descriptor.
enum DeviceStateDecoder {
    static func decode(_ m: XPCMessage, pciID: String, chip: String?, as cls: DeviceClassDescriptor) -> DeviceState {
        let registered = (m.attribute(.cardName) ?? m.attribute(.ifname))?.string
        let own = cls.decodeStatus(m)
        return DeviceState(pciID: pciID, chip: m.attribute(.chipName)?.string ?? chip, registeredAs: registered,
                           registration: registered.map(cls.registration), dataPath: m.attribute(.datapathOn).map { $0.u8 != 0 },
                           fields: own.fields, values: own.values)
    }
}
