// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Logging
import Nucleus
import Supervisor
import XPC

// Live update: a running u-driver swapped for another build through the
// recovery path, the old one kept until the new one serves.
extension DriverInstance {
    /// What ``liveUpdate(executable:)`` did.
    struct UpdateOutcome: Sendable {
        /// The u-driver replaced, and the one serving now.
        let previousPID: Int32
        let pid: Int32
        /// The new one's executable and build (HELLO's BUILD_ID).
        let executable: String
        let buildID: String
        /// From the request to the new u-driver serving.
        let usec: UInt64
        let replayed: Int
        let drained: Int
    }

    /// `drvctl update`: swaps the running u-driver for a fresh process of
    /// `executable` (nil: the configured one again, e.g. rebuilt in place)
    /// without resetting the device.
    ///
    /// 1. Requests queue (or the shadow answers them) as during a recovery;
    ///    the old u-driver finishes the calls it has in flight and is kept.
    /// 2. The new one is spawned and sandboxed and answers HELLO; a reply in
    ///    another protocol version refuses it before it is sent anything
    ///    else. It adopts the device (PROBE with REATTACH), gets the
    ///    shadow's log replayed, then the queue.
    /// 3. Serving: the old one is shut down. Any failure before that kills
    ///    the new one and resumes the old one with the queue (rollback); the
    ///    error says why. If the old one ended meanwhile, the driver
    ///    recovers as from a crash.
    ///
    /// The executable stays until the next reload (whose Executable= wins)
    /// or daemon start.
    func liveUpdate(executable: String?) async throws -> UpdateOutcome {
        if let tool = runtime.withLock({ $0.debugSession?.run.tool.name }) {
            throw ManagerError.badState(name, "under \(tool); drvctl debug \(name) --off first")
        }
        var newConfig = config
        if let executable { newConfig.executable = executable }
        return try await swapUDriver(to: newConfig)
    }

    /// The swap behind ``liveUpdate(executable:)`` and `drvctl debug`: the
    /// new u-driver is spawned from `newConfig`, which stays if it serves.
    /// `announce`: journal and record it as an update (debug says its own).
    func swapUDriver(to newConfig: DriverConfig, announce: Bool = true) async throws -> UpdateOutcome {
        let t0 = monotonicNanos()
        let oldConfig = config
        enum Begin {
            case go(UDriverProcess, XPCConnection, UInt64, NucleusDevice, UDriverProcess?, build: String)
            case refused(String)
        }
        let begin = runtime.withLock { r -> Begin in
            guard !r.updating else { return .refused("an update is already under way") }
            guard r.state == .active, let p = r.process, let c = r.conn, let d = r.device else {
                return .refused("not active (\(r.state.rawValue)); drvctl start runs the configured executable")
            }
            r.state = .recovering
            r.updating = true
            r.process = nil
            r.conn = nil
            defer { r.standby = nil }
            return .go(p, c, r.generation, d, r.standby?.process, build: r.buildID)
        }
        guard case .go(let oldP, let oldC, let oldGen, let dev, let spare, let oldBuild) = begin else {
            if case .refused(let why) = begin { throw ManagerError.badState(name, why) }
            throw ManagerError.badState(name, "not active")
        }
        // A standby was spawned from the old executable.
        spare?.discard()
        configuration.withLock { $0 = newConfig }
        if announce {
            record("updating", "pid \(oldP.pid) → \(newConfig.executable)")
            logger.notice("updating: pid \(oldP.pid) to \(newConfig.executable)", metadata: ["PID": "\(oldP.pid)"])
        }

        // The old u-driver answers what it was asked before the swap.
        // Bounded: a debugged u-driver's deadline is a day.
        let settleBy = ContinuousClock.now + min(config.xpcTimeout, .seconds(30))
        while runtime.withLock({ $0.upcallsInFlight }) > 0, ContinuousClock.now < settleBy {
            try? await Task.sleep(for: .milliseconds(2))
        }

        var proc: UDriverProcess?
        var channel: XPCConnection?
        do {
            let (p, conn, _, store, _) = try await launch(dev, reattach: true, deferStore: true)
            proc = p
            channel = conn
            let (replayed, drainedFirst) = try await replayAndDrain(conn, dev)
            let (flipped, drainedLate) = try await serveWhenDrained(p, conn) { r -> ([CheckedContinuation<DriverState, Never>], String)? in
                guard !r.stopping else { return nil }
                r.state = .active
                r.updating = false
                defer { r.settleWaiters = [] }
                return (r.settleWaiters, r.buildID)
            }
            let drained = drainedFirst + drainedLate
            guard case let (waiters, build)? = flipped else { throw ManagerError.startFailed(name, "the new u-driver ended, or the driver was stopped, before it served") }
            store()
            persist()
            let usec = (monotonicNanos() - t0) / 1000
            if announce {
                logger.notice("updated in \(usec) us: pid \(oldP.pid) → \(p.pid), \(newConfig.executable) (build \(build.isEmpty ? "unknown" : build)); replayed \(replayed) calls, drained \(drained) requests",
                              metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.updated)", "PID": "\(p.pid)", "UPDATE_USEC": "\(usec)",
                                                                 "BUILD_ID": "\(build)"]) { $1 })
                record("updated", "pid \(oldP.pid) → \(p.pid), \(newConfig.executable), build \(build.isEmpty ? "unknown" : build)",
                       recoveryUSec: usec, replayed: replayed, queued: drained)
            }
            for w in waiters { w.resume(returning: .active) }
            // The old one: asked to exit, then made sure of. Its exit is
            // stale (an older generation) and reports nothing.
            await Self.shutDown(oldP, oldC, grace: oldConfig.shutdownGrace)
            refillStandby()
            return UpdateOutcome(previousPID: oldP.pid, pid: p.pid, executable: newConfig.executable, buildID: build,
                                 usec: usec, replayed: replayed, drained: drained)
        } catch {
            proc?.kill()
            if let proc { _ = await proc.exited() }
            await channel?.closeAndWait()
            configuration.withLock { $0 = oldConfig }
            let why = "\(error)"
            enum Resume { case resumed([Queued], [CheckedContinuation<DriverState, Never>]), ended, stopping }
            let resume = runtime.withLock { r -> Resume in
                r.updating = false
                r.buildID = oldBuild
                r.generation = oldGen
                if r.stopping { return .stopping }
                // Ended meanwhile: active again without a process, so that
                // failure() below recovers it as from a crash.
                r.state = .active
                guard oldP.reap() == nil else { return .ended }
                r.process = oldP
                r.conn = oldC
                defer { r.retry = []; r.queue = []; r.settleWaiters = [] }
                return .resumed(r.retry + r.queue, r.settleWaiters)
            }
            switch resume {
            case .resumed(let waiting, let waiters):
                // In order, to the old u-driver, as if nothing had happened.
                for q in waiting { send(q.message, oldC, oldGen, q.done) }
                for w in waiters { w.resume(returning: .active) }
                logger.error("update to \(newConfig.executable) failed, pid \(oldP.pid) serves again: \(why)",
                             metadata: ["PID": "\(oldP.pid)"])
                record("update-failed", "\(newConfig.executable): \(why); rolled back to pid \(oldP.pid)")
                refillStandby()
                throw ManagerError.updateFailed(name, "\(why); rolled back: pid \(oldP.pid) serves")
            case .ended:
                record("update-failed", "\(newConfig.executable): \(why); the old u-driver ended meanwhile")
                failure(.crash, "u-driver ended during an update", generation: oldGen)
                throw ManagerError.updateFailed(name, "\(why); the old u-driver had ended: recovering")
            case .stopping:
                // stop() found no process to end (the swap held both).
                oldP.kill()
                _ = await oldP.exited()
                await oldC.closeAndWait()
                throw ManagerError.updateFailed(name, "\(why); the driver was stopped meanwhile")
            }
        }
    }
}
