// SPDX-License-Identifier: GPL-2.0
import Foundation
import Logging
import Nucleus
import ShadowDriver
import Supervisor
import XPC

// Surviving the daemon's own restart: persisting the state, adopting the
// u-driver a previous daemon left.
extension DriverInstance {
    // MARK: surviving the daemon's own crash

    /// Writes what a restarted daemon needs to adopt this u-driver (device,
    /// shadow, counters) through the handover store; only while it runs.
    func persist() {
        guard let handover else { return }
        let cfg = config
        let snap = runtime.withLock { r -> (SavedDriver, UInt64)? in
            guard r.state == .active, let d = r.device, let p = r.process else { return nil }
            r.version += 1
            return (SavedDriver(name: cfg.name, pid: p.pid, device: d, generation: r.generation, starts: r.starts,
                                startedAt: r.startedAt, chip: r.chip, ownedDMA: r.ownedDMA, failureTimes: r.failureTimes,
                                lastFailure: r.lastFailure, uid: cfg.dynamicUser ? uids.lease(of: cfg.name)?.uid : nil,
                                processConfig: SavedDriver.processConfig(cfg), shadow: r.shadow),
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
        let xpc = store.take(name, "xpc"), pidfd = store.take(name, "pid"), seccomp = store.take(name, "seccomp")
        let stderr = store.take(name, "stderr")
        // Its dynamic uid first: the lock systemd kept, or the same uid
        // locked anew; without it the process runs under a uid this daemon
        // does not hold, and is restarted under one it does.
        var uidKept = true
        if let uid = saved.uid {
            if let lock = store.take(name, "uidlock"), uids.adopt(name, uid: uid, lockFD: lock) {
                uidKept = true
            } else {
                uidKept = (try? uids.acquire(name, preferring: uid))?.uid == uid
            }
            if !uidKept { logger.warning("dynamic uid \(uid) could not be taken back; the u-driver will be restarted") }
        } else if let lock = store.take(name, "uidlock") {
            Glibc.close(lock)
        }
        func closeAll() { for fd in [xpc, pidfd, seccomp, stderr] { if let fd { Glibc.close(fd) } } }
        let dev: NucleusDevice, shadow: Shadow
        do {
            dev = try saved.nucleusDevice()
            shadow = try saved.rebuiltShadow(config.deviceClass)
            guard dev.deviceClass == config.deviceClass.wireClass, config.matches(dev) else {
                throw ManagerError.invalidValue("device", "\(dev.pciID) does not match \(config.match)")
            }
        } catch {
            logger.warning("cannot take over from the previous drivermgrd: \(error); starting afresh")
            closeAll()
            store.forget(name)
            return .none
        }
        let gen = runtime.withLock { r -> UInt64 in
            r.device = dev
            r.generation = max(r.generation, r.issued, saved.generation) + 1
            r.issued = r.generation
            r.downcalls = DowncallRate()
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
            guard let xpc, let pidfd else {
                // The usual cause: the daemon died while it recovered this
                // driver, after the old u-driver was killed (the state
                // file still names it) and before the new one's descriptors
                // were stored; systemd dropped the dead one's on hang-up.
                let gone = Glibc.kill(saved.pid, 0) != 0 && errno == ESRCH
                throw ManagerError.startFailed(name, gone
                    ? "it has exited (systemd dropped its stored channel and pidfd); it is recovered afresh"
                    : "systemd passed no channel or pidfd back")
            }
            let log = logger
            process = try UDriverProcess.adopt(pid: saved.pid, pidfd: pidfd, stderr: stderr) { pid, line in
                let (level, text) = JournaldLogHandler.stderrLine(line)
                log.log(level: level, "u-driver: \(text)", metadata: ["PID": "\(pid)", "STREAM": "stderr"])
            }
            channel = xpc
        } catch {
            if let xpc { Glibc.close(xpc) }
            if let seccomp { Glibc.close(seccomp) }
            if let stderr { Glibc.close(stderr) }
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
        let waits = RunQueueWaitReader(pid: process.pid)
        let conn = XPCConnection(name: name, socket: XPCSocket(adopting: channel, sendsWithoutWaiting: true), firstSeq: UInt32.random(in: 0x1000_0000...0x7000_0000),
                                 peerWait: { waits.read() }, peerAwaits: { [weak self] in self?.awaitingSlowDowncall(gen) },
                                 onEvent: { [self] c, ev in self.driverEvent(c, ev, gen) })
        runtime.withLock { r in
            r.process = process
            r.conn = conn
            r.adoptedUntil = monotonicNanos() + grace
            r.takenOverWarming = true
        }
        process.watch { [self] status in self.exited(status, gen) }
        if let seccomp { watchViolations(seccomp, process, gen) }
        conn.start()
        // The dead daemon may have read downcalls it never forwarded, or
        // lost their replies: the u-driver sends what is unanswered again,
        // and the nucleus answers those it ran from their first time.
        try? conn.send(XPCMessage(op: .takeover, flags: .notify, instance: dev.instance))
        persist()
        logger.notice("took over u-driver \(process.pid) from the previous drivermgrd: \(shadow.records(instance: dev.instance).count) shadow calls, nothing replayed",
                      metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.adopted)", "PID": "\(process.pid)"]) { $1 })
        record("adopted", "pid \(process.pid) from the previous drivermgrd")
        if saved.processConfig != SavedDriver.processConfig(config) || !uidKept { return .reconfigured }
        refillStandby()
        return .adopted
    }
}
