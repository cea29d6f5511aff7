// SPDX-License-Identifier: GPL-2.0
import CSandbox
import ControlInterface
import Foundation
import Logging
import Nucleus
import Supervisor
import XPC

// Start, launch (spawn, sandbox check, HELLO, PROBE), standby, stop,
// restart, reload, reset-failed and fault injection.
extension DriverInstance {
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
        if let op = config.deviceClass.takeBackBeforeProbe {
            // A previous u-driver's data path may still run (a daemon that
            // could not take it over starts afresh): taken back before the
            // probe resets the chip.
            do {
                try await deviceCall(op, dev)
            } catch ManagerError.callFailed(errno: let e, attribute: _, message: _) where e == EOPNOTSUPP {
                // A sliced driver's kernel half runs its data path itself:
                // the nucleus has nothing to take back, and says so.
                logger.debug("no data path for the nucleus to take back before the probe",
                             metadata: journalFields())
            } catch {
                logger.warning("the nucleus did not take the data path back before the probe: \(error)",
                               metadata: journalFields())
            }
        }
        do {
            let (p, _, _, _, _) = try await launch(dev, reattach: false)
            runtime.withLock { r in
                r.state = .active
                r.lastFailure = nil
            }
            refillStandby()
            persist()
            logger.info("probed \(runtime.withLock { $0.chip } ?? "device") at \(dev.slot)", metadata: ["PID": "\(p.pid)"])
            record("active", "probed \(runtime.withLock { $0.chip } ?? "device") at \(dev.slot)")
            if let op = config.deviceClass.resyncAfterFreshStart {
                // Clients the device had before this start (an interface
                // left up) are served again: the nucleus repeats their
                // upcalls, which come through the shadow as any others.
                do {
                    try await deviceCall(op, dev)
                } catch ManagerError.callFailed(errno: 95, _, _) {
                    // EOPNOTSUPP: a device the class's nucleus code does
                    // not run (a sliced driver's kernel half has its own).
                } catch {
                    logger.warning("the nucleus did not resynchronise the device's clients: \(error)",
                                   metadata: journalFields())
                }
            }
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

    /// Spawns a u-driver (or takes the standby), HELLO (with the objects the
    /// nucleus holds; a reply in another protocol version is refused),
    /// PROBE. On failure the process is gone when this throws. Its
    /// descriptors go to systemd's store at once, or, with `deferStore`
    /// (an update that may still roll back), when the caller runs the
    /// returned closure.
    ///
    /// `replaying`: the shadow's log, for a recovery. Into a greeted
    /// standby (whose protocol version is known), HELLO, PROBE and the log
    /// go out as one pipeline: the u-driver serves them in order, and the
    /// daemon waits once, not once a call. Their answers are returned for
    /// ``replayAndDrain(_:_:reattach:verify:timeline:log:answered:)`` to
    /// check; nil when the log was not sent (a fresh u-driver: HELLO's
    /// answer is checked before anything else is sent).
    ///
    /// `asked`: DEVICE_INFO sent earlier (``askObjects(_:)``); if none, it
    /// is sent before the channel's connection is made, whose making then
    /// overlaps the nucleus's answer.
    func launch(_ dev: NucleusDevice, reattach: Bool, deferStore: Bool = false, timeline: RecoveryTimeline? = nil,
                replaying log: [XPCMessage] = [], asked: AskedObjects? = nil, after recorded: Latch? = nil)
        async throws -> (UDriverProcess, XPCConnection, UInt64, @Sendable () -> Void, [Timed]?) {
        let spare = runtime.withLock { r -> SpawnedUDriver? in
            defer { r.standby = nil }
            return r.standby
        }
        let spawned: SpawnedUDriver
        if let spare, spare.process.reap() == nil {
            spawned = spare
        } else {
            spare?.process.discard()
            do {
                spawned = try await spawn()
            } catch let e as EarlyDeath {
                // Reported like any failure of a u-driver being started: the
                // journal entry, the history, the status's last failure.
                let gen = runtime.withLock { r in r.newGeneration() }
                failure(e.kind, e.description, generation: gen, signal: e.signal, exitStatus: e.exitStatus)
                throw e
            }
        }
        timeline?.mark(spawned === spare ? "standby" : "spawn")
        let asked = asked ?? askObjects(dev)
        let (daemonEnd, p) = (spawned.socket, spawned.process)
        let gen = runtime.withLock { r -> UInt64 in
            r.downcalls = DowncallRate()
            return r.newGeneration()
        }
        spawned.serving.withLock { $0 = gen }
        let waits = RunQueueWaitReader(pid: p.pid)
        let conn = XPCConnection(name: name, socket: daemonEnd, peerWait: { waits.read() },
                                 peerAwaits: { [weak self] in self?.awaitingSlowDowncall(gen) },
                                 onEvent: { [self] c, ev in
            self.driverEvent(c, ev, gen)
        })
        runtime.withLock { r in
            r.process = p
            r.conn = conn
            r.takenOverWarming = false
            r.startedAt = monotonicNanos()
            r.starts += 1
        }
        // A recovery's failure (or asked restart) is in the history before
        // the process that replaces it: `drvctl monitor` sees them in order.
        await recorded?.wait()
        record("spawned", "pid \(p.pid)")
        p.watch { [self] status in self.exited(status, gen) }
        conn.start()
        timeline?.mark("channel")
        do {
            let objects = try await heldObjects(dev, asked: asked)
            timeline?.mark("objects")
            let hello = helloMessage(dev, objects: objects)
            let probeRequest = XPCMessage(op: .probe, flags: reattach ? [.request, .reattach] : .request, instance: dev.instance)
            let build: String, probe: XPCMessage
            var answered: [Timed]?
            if spawned === spare, spawned.greeted.withLock({ $0 }) {
                let batch = await conn.calls([hello, probeRequest] + log, timeout: max(config.xpcTimeout, config.probeTimeout))
                guard batch.count == 2 + log.count else { throw XPCError(.closed, "\(name): a pipelined call lost") }
                build = try checkHello(try batch[0].result.get())
                timeline?.mark("hello", at: batch[0].at)
                probe = try batch[1].result.get()
                timeline?.mark("probe", at: batch[1].at)
                answered = Array(batch.dropFirst(2))
            } else {
                build = try checkHello(try await conn.call(hello, timeout: config.probeTimeout))
                timeline?.mark("hello")
                probe = try await conn.call(probeRequest, timeout: config.probeTimeout)
                timeline?.mark("probe")
            }
            if let e = probe.remoteError { throw e }
            runtime.withLock { r in
                r.chip = probe.attribute(.chipName)?.string
                r.buildID = build
            }
            let store: @Sendable () -> Void = { [self] in
                handover?.keep(name, xpc: daemonEnd.fd, pidfd: p.pidfd, seccomp: spawned.listenerCopy, stderr: p.output?.fd,
                               uidLock: config.dynamicUser ? uids.lease(of: name)?.lockFD : nil)
            }
            if !deferStore { store() }
            return (p, conn, gen, store, answered)
        } catch {
            p.kill()
            _ = await p.exited()
            await conn.closeAndWait()
            throw error
        }
    }

    /// Spawns the u-driver on one end of a fresh socketpair, its stderr into
    /// a pipe whose lines the daemon logs under the driver's name, and (when
    /// sandboxed) waits until its sandbox is up: the SANDBOX reply and its
    /// seccomp listener are taken at once, so no descriptor is left in
    /// flight on the channel (the kernel counts those per user against
    /// RLIMIT_NOFILE: a standby's unread listener, one per driver, made
    /// sendmsg fail with ETOOMANYREFS past 64 standbys of one user), and the
    /// violation watcher runs from the start, standby or not.
    ///
    /// The child's end is closed here as soon as the child has it: were the
    /// daemon to keep it, a u-driver dying mid-handshake would leave no EOF
    /// and every call would wait out its deadline.
    func spawn() async throws -> SpawnedUDriver {
        let cfg = config
        var policy: SandboxPolicy?
        if cfg.sandboxed {
            let account = try identity()
            policy = SandboxPolicy(stage1: cfg.stage1, user: (account.uid, account.gid),
                                   privateNamespaces: cfg.privateNamespaces, memoryMax: cfg.memoryMax)
            policy?.filesWritable = cfg.debug?.tool.liftsLimits == true
        }
        let log = logger
        let sandbox = policy, die = handover == nil
        let (daemonEnd, p) = try await { () async throws -> (XPCSocket, UDriverProcess) in
            let (daemonEnd, driverEnd) = try XPCSocket.pair(firstSendsWithoutWaiting: true)
            // Under a wrapping tool (`drvctl debug --valgrind`), the tool
            // is exec'd in the sandbox and runs the u-driver.
            var exe = cfg.executable, argv = [cfg.executable], payload: String?
            if let d = cfg.debug, d.tool.mode == .wrap {
                exe = d.program
                argv = [d.program] + d.tool.options + [UDriverProcess.payloadPath]
                payload = cfg.executable
            }
            let p = try await UDriverProcess.spawn(executable: exe, arguments: argv,
                                                   socket: driverEnd, sandbox: sandbox, dieWithDaemon: die, payload: payload,
                                                   output: { pid, line in
                                                       let (level, text) = JournaldLogHandler.stderrLine(line)
                                                       log.log(level: level, "u-driver: \(text)", metadata: ["PID": "\(pid)", "STREAM": "stderr"])
                                                   })
            return (daemonEnd, p)
        }() // driverEnd is closed here
        // A tool under which the u-driver cannot stack stage 2 (valgrind):
        // stage 1, set before exec, confines it alone; nothing to confirm.
        guard cfg.sandboxed, cfg.debug?.tool.stage2 != false else {
            return SpawnedUDriver(socket: daemonEnd, process: p, listenerCopy: nil)
        }
        do {
            // The first thing the runtime reads: stack stage 2 with these calls.
            do {
                try daemonEnd.send(XPCMessage(op: .sandbox, flags: .request, attributes: cfg.syscalls.map { .string(.syscallName, $0) }).bytes)
            } catch {
                // EPIPE: it is gone already.
                throw ManagerError.startFailed(name, "u-driver closed its channel before the sandbox was up (sending SANDBOX: \(error))")
            }
            let listener = try await confirmSandbox(daemonEnd, p)
            let copy = handover != nil ? fcntl(listener, F_DUPFD_CLOEXEC, 0) : -1
            let spawned = SpawnedUDriver(socket: daemonEnd, process: p, listenerCopy: copy >= 0 ? copy : nil)
            SandboxWatcher.watch(listener: listener, process: p) { [self] v in
                let detail = "\(v.detail) [syscall \(v.number)]: forbidden system call"
                if let gen = spawned.serving.withLock({ $0 }) {
                    failure(.sandbox, detail, generation: gen, syscall: v.call)
                } else {
                    logger.error("standby u-driver \(p.pid): \(detail); it is discarded",
                                 metadata: ["PID": "\(p.pid)", "SYSCALL": "\(v.call)"])
                }
            }
            return spawned
        } catch {
            p.kill()
            let status = await p.ended(within: .seconds(1))
            let lines = await p.lastOutput(waitingUpTo: .milliseconds(500))
            var why = "\(error)"
            if let status { why += " (\(status))" }
            if !lines.isEmpty { why += "; its stderr: " + lines.joined(separator: " | ") }
            var signal: String?, exitStatus: Int32?
            if case .killed(let s, _)? = status, s != SIGKILL { signal = ExitStatus.signalName(s) }
            if case .exited(let c)? = status { exitStatus = c }
            throw EarlyDeath(kind: .sandbox, description: why, signal: signal, exitStatus: exitStatus)
        }
    }

    /// Waits for the runtime's SANDBOX reply and its listener fd, and checks
    /// in /proc that no_new_privs is set and two filters are stacked. A
    /// u-driver that skips stage 2 is refused. Returns the listener.
    func confirmSandbox(_ sock: XPCSocket, _ p: UDriverProcess) async throws -> Int32 {
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
        if let problem = SandboxWatcher.stage2Problem(pid: p.pid) {
            Glibc.close(listener)
            throw ManagerError.startFailed(name, problem)
        }
        return listener
    }

    /// Starts the violation watcher of Supervisor on the u-driver's listener:
    /// a forbidden call is reported as a `sandbox` failure before the
    /// process is killed.
    func watchViolations(_ listener: Int32, _ p: UDriverProcess, _ gen: UInt64) {
        SandboxWatcher.watch(listener: listener, process: p) { [self] v in
            failure(.sandbox, "\(v.detail) [syscall \(v.number)]: forbidden system call", generation: gen, syscall: v.call)
        }
    }

    /// Runs blocking work on a thread of its own, off the cooperative pool.
    func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, Error>) in
            let t = Thread { k.resume(with: Result { try body() }) }
            t.start()
        }
    }

    /// HELLO to a u-driver for `dev`, with the DMA buffers the nucleus
    /// holds (`objects`).
    func helloMessage(_ dev: NucleusDevice, objects: [XPCAttribute]) -> XPCMessage {
        XPCMessage(op: .hello, flags: .request, instance: dev.instance, attributes: [
            .u32(.version, XPCLimits.version), .string(.driverName, name), .u8(.deviceClass, dev.deviceClass.rawValue),
        ] + dev.identity.attributes + objects)
    }

    /// HELLO's reply: a refusal is thrown, as is a reply in another protocol
    /// version. Returns the u-driver's build id.
    func checkHello(_ hello: XPCMessage) throws -> String {
        if let e = hello.remoteError { throw e }
        let spoken = hello.attribute(.version)?.u32
        guard spoken == XPCLimits.version else {
            throw ManagerError.startFailed(name, "\(config.executable) speaks protocol version "
                                           + "\(spoken.map { String($0) } ?? "(none)"), drivermgrd \(XPCLimits.version)")
        }
        return hello.attribute(.buildID)?.string ?? ""
    }

    /// A standby's first HELLO, long before it is needed. The u-driver
    /// decodes it, makes its `Device` and driver object and answers: code
    /// that a fresh process runs for the first time (page faults, Swift
    /// metadata, its channel's first call), and that a recovery's HELLO
    /// would otherwise run cold; it also tells the protocol version, so
    /// the take-over can pipeline HELLO, PROBE and the replay.
    /// ``launch(_:reattach:deferStore:timeline:replaying:asked:after:)`` greets it again with the
    /// objects the nucleus holds by then, and that HELLO makes the driver
    /// object anew. Sent on the bare socket, sequence number 0 (the
    /// connection made at the take-over starts at 1): no reader thread is
    /// kept for a standby.
    func greet(_ spawned: SpawnedUDriver, _ dev: NucleusDevice) async throws {
        let sock = spawned.socket
        try sock.send(helloMessage(dev, objects: []).bytes)
        let timeoutMs = Int32(clamping: TimeSpan.micros(config.probeTimeout) / 1000)
        let reply: [UInt8] = try await onThread {
            var pfd = pollfd(fd: sock.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, timeoutMs) == 1 else { throw ManagerError.startFailed(self.name, "no answer to the standby's HELLO within \(self.config.probeTimeout)") }
            guard let bytes = try sock.receive() else { throw ManagerError.startFailed(self.name, "the standby closed its channel before answering HELLO") }
            return bytes
        }
        let m = try XPCMessage.decode(reply)
        guard m.op == .hello, m.isReply, m.seq == 0 else {
            throw ManagerError.startFailed(name, "the standby answered HELLO with \(m.op.name)")
        }
        _ = try checkHello(m)
        spawned.greeted.withLock { $0 = true }
    }

    /// Spawns the idle u-driver the next recovery adopts (Standby=yes),
    /// and greets it (``greet(_:_:)``); then nothing is sent to it until
    /// it takes over.
    func refillStandby() {
        guard config.standby else { return }
        let go = runtime.withLock { r -> Bool in
            guard r.standby == nil, !r.spawningStandby, r.state == .active else { return false }
            r.spawningStandby = true
            return true
        }
        guard go else { return }
        Task {
            var spare: SpawnedUDriver?
            do {
                spare = try await spawn()
                if let spare, let dev = runtime.withLock({ $0.device }) { try await greet(spare, dev) }
            } catch {
                spare?.process.discard()
                spare = nil
                logger.warning("standby u-driver did not start: \(error)")
                record("standby-failed", "\(error)")
            }
            let extra = runtime.withLock { r -> UDriverProcess? in
                r.spawningStandby = false
                guard let spare, r.standby == nil, r.state == .active || r.state == .recovering, !r.stopping else { return spare?.process }
                r.standby = spare
                return nil
            }
            extra?.discard()
        }
    }

    /// DEVICE_INFO asked for now, its answer taken later
    /// (``heldObjects(_:asked:)``), with the count of the broker's forwards
    /// begun as it was sent; nil if a forward was being sent then.
    struct AskedObjects: Sendable {
        let reply: PendingReply
        let forwardsBegun: UInt64
    }

    /// Sends DEVICE_INFO for `dev` without waiting for the answer. The
    /// nucleus serves one daemon's messages in the order sent, so the
    /// answer holds every object a downcall forwarded before it made, and
    /// is still the truth when no downcall was being forwarded as it went
    /// out and none began since.
    func askObjects(_ dev: NucleusDevice) -> AskedObjects? {
        let begun: UInt64? = runtime.withLock { r in r.forwardsBegun == r.forwardsSent ? r.forwardsBegun : nil }
        guard let begun else { return nil }
        let reply = PendingReply()
        nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance), timeout: Self.downcallTimeout,
                     completion: reply.complete)
        return AskedObjects(reply: reply, forwardsBegun: begun)
    }

    /// The DMA buffers the nucleus holds for this device, as HELLO's OBJECT
    /// attributes, so a fresh u-driver adopts them instead of allocating:
    /// from `asked` if no downcall was forwarded since it was sent, else
    /// asked for again.
    func heldObjects(_ dev: NucleusDevice, asked: AskedObjects? = nil) async throws -> [XPCAttribute] {
        let info: XPCMessage
        if let asked, runtime.withLock({ $0.forwardsBegun == asked.forwardsBegun }) {
            info = try await asked.reply.value()
        } else {
            info = try await nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance),
                                          timeout: Self.downcallTimeout)
        }
        let objs = info.all(.object)
        let ids = objs.compactMap { $0.children.first { $0.id == .objectID }?.u32 }
        runtime.withLock { $0.ownedDMA.formUnion(ids) }
        return objs
    }

    /// Asks the u-driver to exit (SHUTDOWN), then makes sure it is gone.
    func stop() async {
        // The next start runs the configured u-driver.
        if let base = endDebugSession("the driver was stopped") { configuration.withLock { $0 = base } }
        let (conn, process, waiting, spare) = runtime.withLock { r -> (XPCConnection?, UDriverProcess?, [Queued], UDriverProcess?) in
            r.stopping = true
            let w = r.retry + r.queue
            r.retry = []
            r.queue = []
            defer { r.standby = nil }
            return (r.conn, r.process, w, r.standby?.process)
        }
        // An idle standby exits on EOF; SIGKILL makes sure.
        spare?.discard()
        for q in waiting { q.done(.errorReply(to: q.message, errno: 11, message: "\(name) is stopping")) }
        if let process { await Self.shutDown(process, conn) }
        let (was, version) = runtime.withLock { r -> (DriverState, UInt64) in
            let was = r.state
            r.state = .stopped
            r.conn = nil
            r.process = nil
            r.version += 1
            return (was, r.version)
        }
        handover?.forget(name, version: version)
        // No process of this driver is left (the standby's end is awaited
        // too): its dynamic uid may go to another driver.
        if let spare { _ = await spare.exited() }
        uids.release(name)
        if was != .stopped { record("stopped", "by request") }
    }

    /// Asks a u-driver to exit (SHUTDOWN, half a second), then kills it if
    /// it has not, and waits until it is gone and its channel closed.
    /// `grace` is longer for a u-driver under a slow tool (valgrind prints
    /// its summary on the way out).
    static func shutDown(_ process: UDriverProcess, _ conn: XPCConnection?, grace: Duration = .milliseconds(500)) async {
        if let conn { _ = try? await conn.call(XPCMessage(op: .shutdown, flags: .request), timeout: grace) }
        let until = ContinuousClock.now + grace
        while process.reap() == nil, ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(10)) }
        if process.reap() == nil { process.kill() }
        _ = await process.exited()
        await conn?.closeAndWait()
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
        endDebugSession("configuration reloaded")
        configuration.withLock { $0 = new }
        let spare = runtime.withLock { r -> UDriverProcess? in
            defer { r.standby = nil }
            return r.standby?.process
        }
        spare?.discard()
        switch state {
        case .active, .recovering: return try await restart(reason: "configuration reloaded")
        default: return state
        }
    }

    /// Waits until the driver is `active` or `failed` again.
    func settled() async -> DriverState {
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
        let (conn, idleHeartbeat, gen) = runtime.withLock { r -> (XPCConnection?, Bool, UInt64) in
            guard r.state == .active else { return (nil, false, r.generation) }
            r.activity &+= 1
            return (r.conn, r.takeIdleHeartbeat(), r.generation)
        }
        guard let conn else { throw ManagerError.badState(name, "not active") }
        // A call like any other: once answered, the heartbeat comes back
        // to HeartbeatSec; and a u-driver just taken over leaves its
        // warm-up (a hang it acts out is then found within XPCTimeoutSec).
        let r: XPCMessage
        do {
            defer { if idleHeartbeat { heartbeatNow() } }
            r = try await conn.call(XPCMessage(op: .inject, flags: .request, attributes: [.u8(.faultKind, fault.rawValue)]),
                                    timeout: callDeadline())
            injected(generation: gen)
        } catch let e as XPCError where e.code == .closed || e.code == .system {
            // The runtime answers before it acts; the channel can close
            // (a crash, an abort) before the daemon read that answer.
            record("inject", "\(fault.name) (the u-driver ended before its answer was read)")
            return
        }
        if let e = r.remoteError { throw ManagerError.callFailed(errno: e.errno, attribute: e.attribute?.name, message: "\(e)") }
        record("inject", fault.name)
    }
}
