// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Logging
import Nucleus
import Supervisor
import Synchronization
import XPC

/// One configured driver and, once a device matched, its u-driver process.
///
/// This is the broker's per-driver half: every upcall from the nucleus and
/// every downcall from the u-driver passes through here, so later layers
/// (shadow log, parameter checks, recovery) hang on these two paths.
final class DriverInstance: Sendable {
    let config: DriverConfig
    private let nucleus: NucleusLink
    private let logger: Logger
    private let emit: @Sendable (DriverEvent) -> Void
    private let runtime = Mutex(Runtime())

    struct Runtime: Sendable {
        var device: NucleusDevice?
        var state: DriverState = .stopped
        var process: UDriverProcess?
        var conn: XPCConnection?
        var startedAt: UInt64 = 0
        var starts = 0
        var stopping = false
        var lastFailure: String?
        var chip: String?
        var ownedDMA: Set<UInt32> = []
    }

    /// How long a forwarded downcall may take at the nucleus.
    static let downcallTimeout: Duration = .seconds(2)

    init(config: DriverConfig, nucleus: NucleusLink, logger: Logger, emit: @escaping @Sendable (DriverEvent) -> Void) {
        self.config = config
        self.nucleus = nucleus
        var l = logger
        l[metadataKey: "DRIVER"] = .string(config.name)
        self.logger = l
        self.emit = emit
    }

    var name: String { config.name }
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

    private func record(_ event: String, _ detail: String) {
        let st = state
        emit(DriverEvent(timeUSec: UInt64(Date().timeIntervalSince1970 * 1e6), driver: name, event: event, detail: detail, state: st))
    }

    // MARK: life cycle

    /// Spawns the u-driver, HELLO, PROBE. Throws ``ManagerError`` with the
    /// reason; the driver is then `failed`.
    func start() async throws {
        let dev: NucleusDevice = try runtime.withLock { r in
            guard let d = r.device else { throw ManagerError.badState(name, "no device matches \(config.match)") }
            guard r.state == .stopped || r.state == .failed else { throw ManagerError.badState(name, "already \(r.state.rawValue)") }
            r.state = .starting
            r.stopping = false
            r.ownedDMA = []
            return d
        }
        let (daemonEnd, driverEnd) = try XPCSocket.pair()
        let process: UDriverProcess
        do {
            process = try await UDriverProcess.spawn(executable: config.executable, arguments: [config.executable],
                                                     socket: driverEnd)
        } catch {
            fail("spawn failed: \(error)")
            throw ManagerError.startFailed(name, "\(error)")
        }
        let conn = XPCConnection(name: name, socket: daemonEnd, onEvent: { [self] c, ev in
            self.driverEvent(c, ev)
        })
        runtime.withLock { r in
            r.process = process
            r.conn = conn
            r.startedAt = monotonicNanos()
            r.starts += 1
        }
        logger.info("spawned \(config.executable)", metadata: ["PID": "\(process.pid)"])
        record("spawned", "pid \(process.pid)")
        process.watch { [self] status in self.exited(process, status) }
        conn.start()
        do {
            let objects = try await heldObjects(dev)
            let hello = try await conn.call(XPCMessage(op: .hello, flags: .request, instance: dev.instance, attributes: [
                .u32(.version, XPCLimits.version), .string(.driverName, name), .u8(.deviceClass, dev.deviceClass.rawValue),
                .u16(.pciVendor, dev.vendor), .u16(.pciDevice, dev.device), .u8(.pciRevision, dev.revision),
                .string(.pciSlot, dev.slot), .u32(.barSize, dev.barSize), .u32(.irq, dev.irq)] + objects),
                timeout: config.probeTimeout)
            if let e = hello.remoteError { throw e }
            let probe = try await conn.call(XPCMessage(op: .probe, flags: .request, instance: dev.instance),
                                            timeout: config.probeTimeout)
            if let e = probe.remoteError { throw e }
            let chip = probe.attribute(.chipName)?.string
            runtime.withLock { r in
                r.state = .active
                r.chip = chip
                r.lastFailure = nil
            }
            logger.info("probed \(chip ?? "device") at \(dev.slot)")
            record("active", "probed \(chip ?? "device") at \(dev.slot)")
        } catch {
            process.kill()
            fail("probe failed: \(error)")
            record("probe-failed", "\(error)")
            throw ManagerError.startFailed(name, "\(error)")
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

    private func fail(_ why: String) {
        runtime.withLock { r in
            r.state = .failed
            r.lastFailure = why
            r.conn?.close()
            r.conn = nil
        }
        logger.error("\(why)")
    }

    /// Asks the u-driver to exit (SHUTDOWN), then makes sure it is gone.
    func stop() async {
        let (conn, process) = runtime.withLock { r -> (XPCConnection?, UDriverProcess?) in
            r.stopping = true
            return (r.conn, r.process)
        }
        guard let process else {
            runtime.withLock { $0.state = .stopped }
            return
        }
        if let conn { _ = try? await conn.call(XPCMessage(op: .shutdown, flags: .request), timeout: .milliseconds(500)) }
        for _ in 0..<50 where process.reap() == nil { try? await Task.sleep(for: .milliseconds(10)) }
        if process.reap() == nil { process.kill() }
        runtime.withLock { r in
            r.state = .stopped
            r.conn?.close()
            r.conn = nil
        }
        record("stopped", "by request")
    }

    private func exited(_ p: UDriverProcess, _ status: ExitStatus) {
        let (expected, current) = runtime.withLock { r -> (Bool, Bool) in
            let current = r.process === p
            if current {
                r.process = nil
                r.conn?.close()
                r.conn = nil
                if !r.stopping && r.state != .failed {
                    r.state = .failed
                    r.lastFailure = "u-driver \(status)"
                } else if r.stopping {
                    r.state = .stopped
                }
            }
            return (r.stopping, current)
        }
        guard current else { return }
        if expected {
            logger.info("u-driver \(status)")
        } else {
            logger.error("u-driver \(status)", metadata: ["EXIT": "\(status)"])
        }
        record("exited", "\(status)")
    }

    // MARK: the broker paths

    /// An upcall from the nucleus: forward to the u-driver with the
    /// driver's deadline; answer the nucleus itself (EAGAIN / ETIMEDOUT)
    /// when the u-driver is not there or too slow.
    func forwardUpcall(_ m: XPCMessage) {
        let conn = runtime.withLock { r -> XPCConnection? in
            if m.op == .sndHwParams, let h = m.attribute(.dmaHandle) { r.ownedDMA.insert(h.u32) }
            return r.state == .active ? r.conn : nil
        }
        guard let conn else {
            try? nucleus.send(.errorReply(to: m, errno: 11, message: "\(name) is not running"))
            return
        }
        conn.call(m, timeout: config.xpcTimeout) { [self] r in
            switch r {
            case .success(let reply):
                try? nucleus.send(reply.withSeq(m.seq))
            case .failure(let e):
                let errno: Int32 = e.code == .timeout ? 110 : 11
                try? nucleus.send(.errorReply(to: m, errno: errno, message: "\(name): \(e)"))
                logger.warning("upcall \(m.op.name) failed: \(e)", metadata: ["XPC_OP": "\(m.op.name)"])
                record("upcall-failed", "\(m.op.name): \(e)")
            }
        }
    }

    /// A daemon-originated upcall (drvctl call) through the same path.
    func call(_ op: XPCOp, _ attrs: [XPCAttribute]) async throws -> XPCMessage {
        let (conn, inst) = runtime.withLock { r in (r.state == .active ? r.conn : nil, r.device?.instance ?? 0) }
        guard let conn else { throw ManagerError.badState(name, state.rawValue) }
        return try await conn.call(XPCMessage(op: op, flags: .request, instance: inst, attributes: attrs),
                                   timeout: config.xpcTimeout)
    }

    private func driverEvent(_ conn: XPCConnection, _ ev: XPCConnection.Event) {
        switch ev {
        case .message(let m) where m.isRequest:
            forwardDowncall(conn, m)
        case .message(let m):
            record("protocol", "unexpected \(m.op.name) notification")
        case .malformed(let e, _):
            logger.warning("malformed message from the u-driver: \(e)")
            record("protocol", "malformed message: \(e)")
        case .unexpectedReply(let m):
            record("protocol", "reply to a call never made: \(m.op.name) seq \(m.seq)")
        }
    }

    /// A downcall from the u-driver: check, forward to the nucleus, pass the
    /// reply back under the u-driver's own sequence number.
    private func forwardDowncall(_ conn: XPCConnection, _ m: XPCMessage) {
        let (dev, owned) = runtime.withLock { r in (r.device, r.ownedDMA) }
        guard let dev else { return }
        let policy = DowncallPolicy(instance: dev.instance, barSize: dev.barSize)
        if let no = policy.check(m, ownedDMA: owned) {
            try? conn.send(.errorReply(to: m, errno: no.errno, attribute: no.attribute, message: no.message))
            logger.warning("refused \(m.op.name): \(no.message)",
                           metadata: ["XPC_OP": "\(m.op.name)", "PARAMETER": "\(no.attribute?.name ?? "-")"])
            record("refused", "\(m.op.name): \(no.message)")
            return
        }
        nucleus.call(m, timeout: Self.downcallTimeout) { [self] r in
            switch r {
            case .success(let reply):
                if reply.status == 0 {
                    if m.op == .dmaAlloc, let h = reply.attribute(.dmaHandle) {
                        runtime.withLock { _ = $0.ownedDMA.insert(h.u32) }
                    } else if m.op == .dmaFree, let h = m.attribute(.dmaHandle) {
                        runtime.withLock { _ = $0.ownedDMA.remove(h.u32) }
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
            state = DeviceStateDecoder.decode(info, pciID: dev.pciID, chip: chip)
        }
        return DriverStatus(summary: summary(), executable: config.executable, configFiles: config.files,
                            match: config.match, xpcTimeoutUSec: TimeSpan.micros(config.xpcTimeout),
                            lastFailure: lastFailure, device: state)
    }
}

/// DEVICE_INFO attributes → the status view.
enum DeviceStateDecoder {
    static func decode(_ m: XPCMessage, pciID: String, chip: String?) -> DeviceState {
        var s = DeviceState()
        s.pciID = pciID
        s.chip = m.attribute(.chipName)?.string ?? chip
        s.registeredAs = (m.attribute(.cardName) ?? m.attribute(.ifname))?.string
        s.dataPath = m.attribute(.datapathOn).map { $0.u8 != 0 }
        s.sampleRate = m.attribute(.pcmRate)?.u32
        s.masterVolumeRegister = m.attribute(.codecMaster)?.u16
        s.framesPlayed = m.attribute(.framesPlayed)?.u64
        s.periods = m.attribute(.periods)?.u64
        s.underruns = m.attribute(.underruns)?.u64
        s.glitches = m.attribute(.glitches)?.u64
        s.mac = (try? m.mac(.mac))?.description
        if let rc = m.attribute(.rxConfig)?.u32 {
            s.rxConfig = rc
            let mf = m.attribute(.mcFilter)?.u64 ?? 0
            s.rxMode = rc & 1 != 0 ? "promiscuous" : (rc & 4 == 0 ? "normal" : (mf == .max ? "allmulti" : "multicast"))
        }
        s.multicastFilter = m.attribute(.mcFilter).map { String(format: "0x%016llx", $0.u64) }
        s.linkUp = m.attribute(.linkUp).map { $0.u8 != 0 }
        s.rxPackets = m.attribute(.statRxPackets)?.u64
        s.txPackets = m.attribute(.statTxPackets)?.u64
        s.rxBytes = m.attribute(.statRxBytes)?.u64
        s.txBytes = m.attribute(.statTxBytes)?.u64
        s.multicastPackets = m.attribute(.statMulticast)?.u64
        s.rxDropped = m.attribute(.statRxDropped)?.u64
        s.filtered = m.attribute(.statFiltered)?.u64
        s.echoed = m.attribute(.statEchoed)?.u64
        return s
    }
}
