// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Logging
import Supervisor

/// A `drvctl debug` in effect: the configuration to go back to, and where a
/// debugger connects (gdb).
struct DebugSession: Sendable {
    let base: DriverConfig
    let run: DebugRun
    let endpoint: DebuggerEndpoint?
}

// Live debugging: the u-driver swapped, by the live-update path, for one
// that runs under a tool, and back.
extension DriverInstance {
    /// What ``startDebugging(_:tcpPort:socketPath:owner:)`` and
    /// ``stopDebugging()`` did.
    struct DebugOutcome: Sendable {
        let swap: UpdateOutcome
        /// The tool now ("off" after stopDebugging).
        let tool: String
        let endpoint: String?
        let widening: String
    }

    /// The u-driver serving now, for a debugger that connects.
    var servingPID: Int32? { runtime.withLock { r in r.state == .active ? r.process?.pid : nil } }

    /// `drvctl debug NAME --TOOL`: a fresh u-driver under `tool` takes over
    /// through the update path (queue, HELLO, reattach, replay; the old one
    /// serves again if it fails). Its configuration is this one widened as
    /// the tool's table entry says; for gdb, a socket at `socketPath` owned
    /// by `owner` (or 127.0.0.1:`tcpPort`) starts gdbserver per connection.
    func startDebugging(_ tool: DebugTool, tcpPort: UInt16?, socketPath: String,
                        owner: (uid: UInt32, gid: UInt32)) async throws -> DebugOutcome {
        let claim: String? = runtime.withLock { r in
            if let s = r.debugSession { return "already under \(s.run.tool.name); drvctl debug \(name) --off first" }
            if r.debugChanging { return "a debug change is under way" }
            r.debugChanging = true
            return nil
        }
        if let claim { throw ManagerError.badState(name, claim) }
        defer { runtime.withLock { $0.debugChanging = false } }
        guard let program = tool.locate() else {
            throw ManagerError.invalidValue("tool", "\(tool.program) is not installed (Debian package \(tool.package))")
        }
        var endpoint: DebuggerEndpoint?
        if tool.mode == .attach {
            endpoint = try tcpPort.map { try DebuggerEndpoint(tcpPort: $0) }
                ?? DebuggerEndpoint(path: socketPath, uid: owner.uid, gid: owner.gid)
        }
        let base = config
        let run = DebugRun(tool: tool, program: program, endpoint: endpoint?.address)
        let swap: UpdateOutcome
        do {
            swap = try await swapUDriver(to: try base.debugging(run), announce: false)
        } catch {
            endpoint?.close()
            throw error
        }
        runtime.withLock { $0.debugSession = DebugSession(base: base, run: run, endpoint: endpoint) }
        endpoint?.serve(program: program, options: tool.options, target: { [weak self] in self?.servingPID }, logger: logger)
        let where_ = endpoint.map { "; debugger endpoint \($0.address)" } ?? ""
        logger.notice("under \(tool.name): pid \(swap.previousPID) → \(swap.pid) (\(program))\(where_); \(tool.widening)",
                      metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.debug)", "PID": "\(swap.pid)",
                                                         "DEBUG_TOOL": "\(tool.name)", "DEBUG_ENDPOINT": "\(endpoint?.address ?? "")",
                                                         "SANDBOX_WIDENING": "\(tool.widening)"]) { $1 })
        record("debug", "\(tool.name): pid \(swap.previousPID) → \(swap.pid)\(where_); \(tool.widening)",
               recoveryUSec: swap.usec, replayed: swap.replayed, queued: swap.drained)
        return DebugOutcome(swap: swap, tool: tool.name, endpoint: endpoint?.address, widening: tool.widening)
    }

    /// `drvctl debug NAME --off`: back to the u-driver and configuration of
    /// before, by the same path. A debugger still attached is detached
    /// first (its gdbserver ends), so nothing waits on a breakpoint.
    func stopDebugging() async throws -> DebugOutcome {
        let claim = runtime.withLock { r -> Result<DebugSession, ManagerError> in
            guard let s = r.debugSession else { return .failure(.badState(name, "not under a debugging tool")) }
            if r.debugChanging { return .failure(.badState(name, "a debug change is under way")) }
            r.debugChanging = true
            return .success(s)
        }
        let session = try claim.get()
        defer { runtime.withLock { $0.debugChanging = false } }
        session.endpoint?.detach()
        let swap = try await swapUDriver(to: session.base, announce: false)
        runtime.withLock { $0.debugSession = nil }
        session.endpoint?.close()
        logger.notice("debugging ended (\(session.run.tool.name)): pid \(swap.previousPID) → \(swap.pid), sandbox and deadlines as configured",
                      metadata: journalFields().merging(["MESSAGE_ID": "\(JournalMessageID.debug)", "PID": "\(swap.pid)",
                                                         "DEBUG_TOOL": "off"]) { $1 })
        record("debug-off", "\(session.run.tool.name) ended: pid \(swap.previousPID) → \(swap.pid)",
               recoveryUSec: swap.usec, replayed: swap.replayed, queued: swap.drained)
        return DebugOutcome(swap: swap, tool: "off", endpoint: nil, widening: "")
    }

    /// A stop or a reload ends debugging: the configured u-driver is what
    /// starts next. Returns the configuration to go back to.
    @discardableResult
    func endDebugSession(_ why: String) -> DriverConfig? {
        guard let s = runtime.withLock({ r -> DebugSession? in
            defer { r.debugSession = nil }
            return r.debugSession
        }) else { return nil }
        s.endpoint?.close()
        record("debug-off", "\(s.run.tool.name) ended: \(why)")
        return s.base
    }

    /// For `drvctl status`.
    var debugStatus: DebugStatus? {
        guard let s = runtime.withLock({ $0.debugSession }) else { return nil }
        return DebugStatus(tool: s.run.tool.name, program: s.run.program, endpoint: s.endpoint?.address,
                           widening: s.run.tool.widening, attachedPid: s.endpoint?.attachedPID.map(Int.init))
    }
}
