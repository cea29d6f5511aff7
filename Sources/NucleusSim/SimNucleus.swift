// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
import XPC

/// One device the sim nucleus has bound, with its chip's nucleus.
final class SimDevice {
    let instance: UInt32
    let model: DeviceModel
    /// Its chip's nucleus and data path (``SimChips``); nil: none.
    let nucleus: (any SimChipNucleus)?
    /// Set by SND_REGISTER / NET_REGISTER downcalls.
    var registeredName: String?
    var chipName: String?
    /// Replies to the last downcalls, by CALL_ID.
    var answers = AnsweredDowncalls()
    /// Whether the PCI function decodes its BAR and masters the bus.
    /// SIM_WEDGE clears it, as `setpci COMMAND=0` does to a real function:
    /// the u-driver's register reads then return all-ones, its writes are
    /// dropped and the device does no DMA (the model's time stops). Only
    /// DEVICE_READD sets it again; the chip's own reset cannot.
    var decoding = true
    /// DEVICE_READDs served.
    var readds = 0

    /// A register read as the bus delivers it.
    func busRead(offset: UInt32, width: Int) -> UInt32 {
        decoding ? model.read(offset: offset, width: width) : UInt32.max >> (32 - 8 * width)
    }

    /// A register write as the bus delivers it.
    func busWrite(offset: UInt32, width: Int, value: UInt32) {
        if decoding { model.write(offset: offset, width: width, value: value) }
    }

    init(instance: UInt32, model: DeviceModel) {
        self.instance = instance
        self.model = model
        self.nucleus = SimChips.nucleus(for: model, instance: instance)
    }

    /// The class announced in DEVICE_ADD; a model without a nucleus is
    /// announced as a network device no u-driver can bring up.
    var deviceClass: XPCDeviceClass { nucleus?.deviceClass ?? .net }
}

/// Everything the nucleus lock protects.
final class SimCore {
    let memory = SimMemory()
    var devices: [UInt32: SimDevice] = [:]
    var order: [UInt32] = []
}

/// nucleus-sim's runtime: the simulated kernel half of every driver.
///
/// It owns the device models and their data paths (ticked by one thread
/// every millisecond), serves the XPC protocol on a unix seqpacket socket
/// exactly as drvnucleus.ko serves generic netlink — a daemon REGISTERs as
/// the broker, receives DEVICE_ADD, forwards downcalls, answers upcalls — and
/// keeps the data path running whether or not a daemon or u-driver is there.
public final class SimNucleus: Sendable {
    private let core: Mutex<SimCore>
    /// The registered daemon and the upcalls it has not answered.
    private let upcalls: SimUpcalls
    private let stopped = Mutex(false)
    /// SIM_LOSE_REPLY: instance → which of its next downcalls (1: the
    /// next) runs without its reply being sent.
    private let lostReplies = Mutex<[UInt32: UInt32]>([:])
    /// The audio rate ``runWorkload(rate:)`` plays at.
    let workloadRate = Mutex<UInt32>(48000)
    /// How long the nucleus waits for an upcall's answer.
    public let upcallTimeout: Duration

    /// A nucleus with `models`, numbered as instances 1, 2, … in order.
    /// `daemonRestart`: how long past its deadline an upcall waits for a
    /// daemon to register again after the one it was sent to died
    /// (drvnucleus.ko's daemon_restart_ms).
    public init(models: [DeviceModel], upcallTimeout: Duration = .seconds(5), daemonRestart: Duration = .seconds(10)) {
        self.upcallTimeout = upcallTimeout
        upcalls = SimUpcalls(daemonRestart: daemonRestart)
        let c = SimCore()
        for (i, m) in models.enumerated() {
            let id = UInt32(i + 1)
            m.attach(memory: c.memory)
            c.devices[id] = SimDevice(instance: id, model: m)
            c.order.append(id)
        }
        self.core = Mutex(c)
    }

    // MARK: threads

    /// Accepts connections on `listener` until ``stop()``; returns at once.
    public func serve(_ listener: XPCListener) {
        startServices()
        let t = Thread { [self] in
            while let sock = listener.accept() {
                let conn = XPCConnection(name: "peer", socket: sock, onEvent: { [self] c, ev in
                    self.handle(c, ev)
                }, onClose: { [self] c in
                    self.upcalls.brokerClosed(c)
                })
                conn.start()
            }
        }
        t.name = "nucleus-accept"
        t.start()
    }

    /// Starts the data-path thread: every `period` it advances the models,
    /// runs interrupt handlers and moves frames. Returns at once.
    public func startDataPath(period: Duration = .milliseconds(1)) {
        let nanos = UInt64(period.components.attoseconds / 1_000_000_000) + UInt64(period.components.seconds) * 1_000_000_000
        let t = Thread { [self] in
            var last = monotonicNanos()
            while !stopped.withLock({ $0 }) {
                var ts = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
                nanosleep(&ts, nil)
                let now = monotonicNanos()
                step(nanos: now - last)
                last = now
            }
        }
        t.name = "nucleus-datapath"
        t.start()
    }

    /// Stops the data-path thread (and the nucleus's own services).
    public func stop() { stopped.withLock { $0 = true } }

    /// Whether ``stop()`` was called.
    public var isStopped: Bool { stopped.withLock { $0 } }

    /// Whether the services were started (once).
    private let servicesStarted = Mutex(false)

    /// Starts each device's service (``SimChipNucleus/service``: usbcore's
    /// hub driver) once; ``serve(_:)`` does it.
    public func startServices() {
        guard servicesStarted.withLock({ s in defer { s = true }; return !s }) else { return }
        let services = core.withLock { c in
            c.order.compactMap { id in c.devices[id]?.nucleus?.service.map { (id, $0) } }
        }
        for (id, service) in services {
            Task { [self] in try? await service(self, id) }
        }
    }

    /// Runs `body` on `instance`'s usb-host nucleus under the lock; nil
    /// if the instance is none.
    func withUSBPath<R: Sendable>(_ instance: UInt32, _ body: @Sendable (USBHostPath) -> R) -> R? {
        core.withLock { c in (c.devices[instance]?.nucleus as? USBHostPath).map(body) }
    }

    /// The usb-host client's figures for `instance` (blocks read, their
    /// checksum, the tablet's reports), or nil if it is no USB host.
    public func usbClientReport(_ instance: UInt32) -> USBClientReport? {
        withUSBPath(instance) { $0.client }
    }

    /// Advances simulated time by `nanos`: one data-path pass. Public so
    /// tests can drive time by hand.
    public func step(nanos: UInt64) {
        let asked: [(UInt32, XPCOp, [XPCAttribute])] = core.withLock { c in
            let mem = c.memory
            var asked: [(UInt32, XPCOp, [XPCAttribute])] = []
            for id in c.order {
                guard let d = c.devices[id] else { continue }
                d.nucleus?.clientTick()
                if d.decoding {
                    d.model.tick(nanos: nanos, memory: mem) { d.nucleus?.interrupt(memory: mem) }
                }
                d.nucleus?.step(memory: mem, nanos: nanos)
                asked += (d.nucleus?.takeAsyncUpcalls() ?? []).map { (id, $0.0, $0.1) }
            }
            return asked
        }
        for (id, op, attrs) in asked { self.upcalls.sendAsync(id, op, attrs) }
    }

    // MARK: upcalls

    /// Sends upcall `op` for `instance` to the registered daemon and waits
    /// for the answer; throws at once with EAGAIN when no daemon is there.
    /// If the daemon dies before it answers, the next one gets the upcall
    /// again (``SimUpcalls``). Never called with the nucleus lock held.
    public func upcall(_ instance: UInt32, _ op: XPCOp, _ attrs: [XPCAttribute] = [],
                       timeout: Duration? = nil) async throws -> XPCMessage {
        let r = try await upcalls.call(instance, op, attrs, timeout: timeout ?? upcallTimeout)
        if let e = r.remoteError { throw e }
        return r
    }

    /// Upcalls sent again to a daemon that registered after the one they
    /// went to died, since start.
    public var redeliveredUpcalls: UInt64 { upcalls.redeliveredCount }

    /// Upcalls sent and not answered yet.
    public var pendingUpcalls: Int { upcalls.pendingCount }

    /// The pending-upcall table itself, for tests that play a chip.
    var upcallsForTesting: SimUpcalls { upcalls }

    /// Whether the device's card or netdev has been registered by its u-driver.
    public func isRegistered(_ instance: UInt32) -> Bool {
        core.withLock { $0.devices[instance]?.registeredName != nil }
    }

    /// Performs a downcall or DEVICE_INFO in process, as if it had arrived
    /// from the daemon (tests drive u-drivers against the models this way).
    public func handleDowncall(_ m: XPCMessage) -> XPCMessage {
        core.withLock { c in downcallOnce(c, m) }
    }

    /// Runs `body` on instance's model under the nucleus lock (tests and
    /// status views read registers this way); nil if there is no such device.
    public func inspect<R: Sendable>(_ instance: UInt32, _ body: @Sendable (DeviceModel) throws -> R) rethrows -> R? {
        try core.withLock { c in try c.devices[instance].map { try body($0.model) } }
    }

    /// Whether a daemon is registered.
    public var hasBroker: Bool { upcalls.broker != nil }

    // MARK: incoming

    private func handle(_ conn: XPCConnection, _ ev: XPCConnection.Event) {
        if case .unexpectedReply(let r) = ev {
            upcalls.answered(r, from: conn)
            return
        }
        guard case .message(let m) = ev, m.isRequest else { return }
        if m.op == .register {
            let left = upcalls.takeOver(conn)
            try? conn.send(XPCMessage.reply(to: m, attributes: [.u32(.version, XPCLimits.version)]))
            announceDevices(to: conn)
            upcalls.redeliver(left, to: conn)
            return
        }
        if m.op == .unregister {
            // runtime.c's daemon_unregister(): stopped on purpose, nobody expected.
            let ok = upcalls.unregister(conn)
            try? conn.send(ok ? XPCMessage.reply(to: m) : .errorReply(to: m, errno: 1, message: "only the registered daemon"))
            return
        }
        if m.op == .simControl {
            Task { [self] in
                let r = await simControl(m)
                try? conn.send(r)
            }
            return
        }
        let (reply, delay) = core.withLock { c in (downcallOnce(c, m), c.devices[m.instance]?.nucleus?.answerDelay(m)) }
        if m.op != .deviceInfo { upcalls.countDowncall(m.instance) }
        let lost = m.op.isDowncall && lostReplies.withLock { l -> Bool in
            guard let nth = l[m.instance] else { return false }
            l[m.instance] = nth > 1 ? nth - 1 : nil
            return nth == 1
        }
        if lost { return }
        if let delay {
            Task {
                try? await Task.sleep(for: delay)
                try? conn.send(reply)
            }
            return
        }
        try? conn.send(reply)
    }

    private func announceDevices(to conn: XPCConnection) {
        let adds = core.withLock { c in
            c.order.compactMap { c.devices[$0] }.map { d in
                XPCMessage(op: .deviceAdd, flags: .notify, instance: d.instance, attributes: [
                    .u8(.deviceClass, d.deviceClass.rawValue)] + d.model.identity.attributes)
            }
        }
        for a in adds { try? conn.send(a) }
    }

    /// A downcall drivermgrd named with a CALL_ID runs once: a repeat (sent
    /// again after a daemon's death) gets the first reply. Under the lock.
    func downcallOnce(_ c: SimCore, _ m: XPCMessage) -> XPCMessage {
        guard m.op.isDowncall, let id = m.attribute(.callID)?.u64, id != 0, let d = c.devices[m.instance] else {
            return downcall(c, m)
        }
        if let again = d.answers.reply(to: id, op: m.op, seq: m.seq) {
            FileHandle.standardError.write(Data("nucleus-sim: \(m.op.name) (call \(String(id, radix: 16))) sent again after the daemon's restart: answered from the first time\n".utf8))
            return again
        }
        let r = downcall(c, m)
        d.answers.keep(r, for: id)
        return r
    }

    /// Validates and performs one management call or downcall under the lock.
    func downcall(_ c: SimCore, _ m: XPCMessage) -> XPCMessage {
        func fail(_ e: Int32, _ a: XPCAttributeID?, _ msg: String) -> XPCMessage {
            XPCMessage.errorReply(to: m, errno: e, attribute: a, message: msg)
        }
        guard let d = c.devices[m.instance] else { return fail(19, nil, "no device instance \(m.instance)") }
        do {
            switch m.op {
            case .deviceInfo:
                return XPCMessage.reply(to: m, attributes: info(c, d))
            case .quiesce:
                d.nucleus?.quiesce()
                return XPCMessage.reply(to: m)
            case .deviceReadd:
                // runtime.c's readd(): the data path stopped, the kept
                // replies dropped, the function enabled again.
                d.nucleus?.holdForReadd()
                d.answers = AnsweredDowncalls()
                d.decoding = true
                d.readds += 1
                FileHandle.standardError.write(Data("nucleus-sim: instance \(d.instance) re-added for the u-driver's recovery (\(d.readds) so far)\n".utf8))
                return XPCMessage.reply(to: m)
            case .regRead:
                let (off, w) = try checkedRegister(m.attributes, d)
                return XPCMessage.reply(to: m, attributes: [.u32(.regValue, d.busRead(offset: off, width: w))])
            case .regWrite:
                let (off, w) = try checkedRegister(m.attributes, d)
                let v = try m.u32(.regValue)
                if let r = d.nucleus?.checkWrite(RegisterWrite(offset: off, width: w, value: v, dma: false), memory: c.memory) {
                    return fail(r.errno, .regValue, r.why)
                }
                d.busWrite(offset: off, width: w, value: v)
                if let r = d.nucleus?.writesDone() { return fail(r.errno, .regValue, r.why) }
                return XPCMessage.reply(to: m)
            case .regSeq:
                return try runSequence(m, d, memory: c.memory)
            case .dmaAlloc:
                let size = Int(try m.u32(.dmaSize))
                let role = m.attribute(.objectRole)?.u8 ?? 0
                guard let b = c.memory.allocate(instance: d.instance, size: size, role: role) else {
                    return fail(12, .dmaSize, "cannot allocate \(size) bytes for instance \(d.instance)")
                }
                return XPCMessage.reply(to: m, attributes: [.u32(.dmaHandle, b.id)])
            case .dmaFree:
                let h = try m.u32(.dmaHandle)
                guard c.memory.free(h, ownedBy: d.instance) else { return fail(2, .dmaHandle, "no DMA handle \(h) for this device") }
                return XPCMessage.reply(to: m)
            case .regWriteDMA:
                let (off, w) = try checkedRegister(m.attributes, d)
                guard w == 4 || w == 2 else { return fail(22, .regWidth, "a DMA address goes to a 16- or 32-bit register") }
                let shift = UInt32(m.attribute(.dmaShift)?.u8 ?? 0)
                let h = try m.u32(.dmaHandle)
                guard let b = c.memory.buffer(h, ownedBy: d.instance) else {
                    return fail(2, .dmaHandle, "no DMA handle \(h) for this device")
                }
                let o = m.attribute(.dmaOffset)?.u32 ?? 0
                guard Int(o) < b.bytes.count else { return fail(34, .dmaOffset, "offset \(o) past the \(b.bytes.count)-byte buffer") }
                let address = ((b.busAddress + o) >> shift) & (w == 2 ? 0xffff : .max)
                if let r = d.nucleus?.checkWrite(RegisterWrite(offset: off, width: w, value: address, dma: true), memory: c.memory) {
                    return fail(r.errno, .regOffset, r.why)
                }
                d.busWrite(offset: off, width: w, value: address)
                return XPCMessage.reply(to: m)
            default:
                if let r = try d.nucleus?.downcall(m, d, memory: c.memory) { return r }
                return fail(95, nil, "\(m.op.name) is not a downcall of this device")
            }
        } catch let e as XPCError {
            // E2BIG for a sequence past its limits, as xpccheck.c says it.
            return fail(e.code == .oversized ? 7 : 22, e.attribute, e.description)
        } catch {
            return fail(22, nil, "\(error)")
        }
    }

    /// Offset and width from REG_OFFSET/REG_WIDTH, inside the BAR and aligned.
    private func checkedRegister(_ attrs: [XPCAttribute], _ d: SimDevice) throws -> (UInt32, Int) {
        guard let o = attrs.first(where: { $0.id == .regOffset }) else { throw XPCError(.missingAttribute, attribute: .regOffset) }
        return try checkedRegister(o.u32, Int(attrs.first { $0.id == .regWidth }?.u8 ?? 4), d, attribute: nil)
    }

    /// Width, BAR bounds, alignment; errors name `attribute` (REG_STEPS for
    /// a packed step) or REG_WIDTH/REG_OFFSET.
    private func checkedRegister(_ off: UInt32, _ w: Int, _ d: SimDevice, attribute: XPCAttributeID?) throws -> (UInt32, Int) {
        guard w == 1 || w == 2 || w == 4 else { throw XPCError(.outOfRange, attribute: attribute ?? .regWidth, "width \(w)") }
        guard UInt64(off) + UInt64(w) <= UInt64(d.model.identity.barSize) else {
            throw XPCError(.outOfRange, attribute: attribute ?? .regOffset,
                           "offset 0x\(String(off, radix: 16)) outside the \(d.model.identity.barSize)-byte BAR")
        }
        guard off % UInt32(w) == 0 else {
            throw XPCError(.outOfRange, attribute: attribute ?? .regOffset, "unaligned \(w)-byte access")
        }
        return (off, w)
    }

    /// REG_SEQ, then the chip's ``SimChipNucleus/writesDone()`` whatever
    /// the steps did: a refusal of its own replaces a success, an earlier
    /// refusal or timeout stands.
    private func runSequence(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage {
        let r = try runSteps(m, d, memory: memory)
        guard let done = d.nucleus?.writesDone(), r.status == 0 else { return r }
        return .errorReply(to: m, errno: done.errno, attribute: m.attribute(.regSteps) != nil ? .regSteps : .regSeq, message: done.why)
    }

    private func runSteps(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage {
        let ops = try RegisterSequence.decode(m)
        let packed = m.attribute(.regSteps) != nil
        // Every step is checked before the first one runs, as in drvnucleus.
        for op in ops where op.kind != RegisterOp.delay {
            _ = try checkedRegister(op.offset, Int(op.width), d, attribute: packed ? .regSteps : nil)
        }
        var results: [UInt8] = []
        for op in ops {
            let (off, w) = (op.offset, Int(op.width))
            switch op.kind {
            case RegisterOp.read:
                results += XPCAttribute.le(d.busRead(offset: off, width: w))
            case RegisterOp.write:
                // Checked as it comes: a step before may have moved an
                // index register (the PCnet's RAP, the ES137x's page).
                if let r = d.nucleus?.checkWrite(RegisterWrite(offset: off, width: w, value: op.value, dma: false), memory: memory) {
                    return XPCMessage.errorReply(to: m, errno: r.errno, attribute: packed ? .regSteps : .regOp, message: r.why)
                }
                d.busWrite(offset: off, width: w, value: op.value)
            case RegisterOp.poll:
                // The models answer at once: a condition not met now never will be.
                let v = d.busRead(offset: off, width: w)
                guard v & op.mask == op.value else {
                    return XPCMessage.errorReply(to: m, errno: 110, attribute: packed ? .regSteps : .regOp,
                                                 message: "poll of 0x\(String(off, radix: 16)) timed out (0x\(String(v, radix: 16)))")
                }
                results += XPCAttribute.le(v)
            default:
                break // a delay: device time is not wall time in the sim
            }
        }
        return XPCMessage.reply(to: m, attributes: [.binary(.regResults, results)])
    }

    private func info(_ c: SimCore, _ d: SimDevice) -> [XPCAttribute] {
        var a: [XPCAttribute] = d.model.identity.attributes.filter { $0.id != .irq && $0.id != .barSize && $0.id != .pciRevision }
        let dump = d.model.snapshot()
        if !dump.isEmpty { a.append(.binary(.regDump, d.decoding ? dump : dump.map { _ in 0xff })) }
        if let ch = d.chipName { a.append(.string(.chipName, ch)) }
        a += d.nucleus?.info() ?? []
        a.append(.u64(.xpcMessages, upcalls.messages(d.instance)))
        for b in c.memory.buffers(of: d.instance) {
            a.append(.nested(.object, [.u32(.objectID, b.id), .u8(.objectKind, 1), .u8(.objectRole, b.role),
                                       .u32(.dmaSize, UInt32(b.bytes.count))]))
        }
        return a
    }

    // MARK: workload clients

    /// What a workload client asked of the driver, answered once done.
    private func simControl(_ m: XPCMessage) async -> XPCMessage {
        do {
            switch try m.u8(.simAction) {
            case 1: try await setRate(m.instance, try m.u32(.pcmRate))
            case 2:
                let macs = m.attribute(.mcList)?.children.compactMap { MACAddress(bytes: $0.payload) } ?? []
                try await setRxMode(m.instance, flags: m.attribute(.rxFlags)?.u32 ?? 0, multicast: macs)
            case 3: try await setMAC(m.instance, try m.mac(.mac))
            case 5: try setTraffic(m.instance, sending: try m.u8(.datapathOn) != 0)
            case 6:
                _ = try await upcall(m.instance, .sndMixerPut, [.u16(.mixerControl, try m.u16(.mixerControl)),
                                                               .u32(.mixerValue, try m.u32(.mixerValue))])
            case 7:
                let nth = try m.u32(.count)
                lostReplies.withLock { $0[m.instance] = nth }
            case 8:
                let (off, width, value) = (try m.u32(.regOffset), Int(try m.u8(.regWidth)), try m.u32(.regValue))
                guard inspect(m.instance, { $0.write(offset: off, width: width, value: value) }) != nil else {
                    throw XPCError(.remote, errno: 19, "no device instance \(m.instance)")
                }
            case 9:
                guard core.withLock({ c in c.devices[m.instance].map { $0.decoding = false } }) != nil else {
                    throw XPCError(.remote, errno: 19, "no device instance \(m.instance)")
                }
            case 4:
                let samples = try await pingRoundTrips(m.instance, count: Int(try m.u32(.count)))
                return XPCMessage.reply(to: m, attributes: [.binary(.samplesNanos, samples.flatMap { XPCAttribute.le(UInt32(clamping: $0)) })])
            default: return XPCMessage.errorReply(to: m, errno: 22, attribute: .simAction, message: "unknown action")
            }
            return XPCMessage.reply(to: m)
        } catch let e as XPCError {
            return XPCMessage.errorReply(to: m, errno: e.errno != 0 ? e.errno : 5, attribute: e.attribute, message: e.description)
        } catch {
            return XPCMessage.errorReply(to: m, errno: 5, message: "\(error)")
        }
    }

    /// `count` null upcalls (PING) to `instance`'s u-driver, one after the
    /// other; each round trip nucleus → daemon → u-driver → nucleus, in ns.
    public func pingRoundTrips(_ instance: UInt32, count: Int) async throws -> [UInt64] {
        // Awaited on the daemon channel's reader thread, as drvnucleus.ko's
        // caller sleeps in the kernel: the reply wakes the waiter itself.
        try await withTaskExecutorPreference(upcalls.broker?.executor) {
            var out: [UInt64] = []
            out.reserveCapacity(count)
            for _ in 0..<count {
                let t0 = monotonicNanos()
                _ = try await upcall(instance, .ping, timeout: .seconds(2))
                out.append(monotonicNanos() - t0)
            }
            return out
        }
    }

    /// The audio client's "aplay": open, hw_params (the nucleus allocates the
    /// PCM buffer, as ALSA's core does), prepare, then trigger in the nucleus.
    public func startPlayback(_ instance: UInt32, rate: UInt32, periodFrames: Int = 1024, bufferFrames: Int = 4096) async throws {
        _ = try await upcall(instance, .sndOpen)
        try await configurePlayback(instance, rate: rate, periodFrames: periodFrames, bufferFrames: bufferFrames)
    }

    private func configurePlayback(_ instance: UInt32, rate: UInt32, periodFrames: Int, bufferFrames: Int) async throws {
        let handle: UInt32 = try core.withLock { c in
            guard let s = c.devices[instance]?.nucleus as? SoundPath else { throw XPCError(.remote, errno: 19, "not a sound device") }
            if s.running { s.trigger(start: false) }
            s.periodFrames = periodFrames
            s.bufferFrames = bufferFrames
            if let b = s.buffer, b.bytes.count == bufferFrames * 4 { return b.id }
            if let b = s.buffer { c.memory.free(b.id, ownedBy: instance) }
            guard let b = c.memory.allocate(instance: instance, size: bufferFrames * 4, role: 1) else {
                throw XPCError(.remote, errno: 12, "PCM buffer")
            }
            s.buffer = b
            return b.id
        }
        _ = try await upcall(instance, .sndHwParams, [
            .u32(.pcmRate, rate), .u8(.pcmChannels, 2), .u8(.pcmFormat, 2),
            .u32(.pcmPeriodFrames, UInt32(periodFrames)), .u32(.pcmBufferFrames, UInt32(bufferFrames)),
            .u32(.dmaHandle, handle)])
        _ = try await upcall(instance, .sndPrepare)
        core.withLock { c in (c.devices[instance]?.nucleus as? SoundPath)?.trigger(start: true) }
    }

    /// The client changes rate: stop, hw_params + prepare, start.
    public func setRate(_ instance: UInt32, _ rate: UInt32) async throws {
        let (p, b) = core.withLock { c in ((c.devices[instance]?.nucleus as? SoundPath)?.periodFrames ?? 1024, (c.devices[instance]?.nucleus as? SoundPath)?.bufferFrames ?? 4096) }
        try await configurePlayback(instance, rate: rate, periodFrames: p, bufferFrames: b)
    }

    /// The network client's `ip link set up` (the carrier off until the
    /// u-driver reports it, as net.c's ndo_open), then start sending.
    public func bringUp(_ instance: UInt32) async throws {
        core.withLock { c in (c.devices[instance]?.nucleus as? NetPath)?.carrier = false }
        _ = try await upcall(instance, .netOpen)
        core.withLock { c in (c.devices[instance]?.nucleus as? NetPath)?.clientUp = true }
    }

    /// The network client's interface state as ``bringUp(_:)`` leaves it,
    /// set directly: for tests that drive a u-driver in process (no daemon
    /// to carry NET_OPEN). `up` false also drops the carrier, as net.c's
    /// ndo_open before the u-driver reports it.
    func setNetClient(_ instance: UInt32, up: Bool) {
        core.withLock { c in
            guard let p = c.devices[instance]?.nucleus as? NetPath else { return }
            p.clientUp = up
            if !up { p.carrier = false }
        }
    }

    /// Pauses (`sending` false) or resumes the network client's frames; a
    /// paused client lets the cable drain, so sent − echoed is what was lost.
    public func setTraffic(_ instance: UInt32, sending: Bool) throws {
        try core.withLock { c in
            guard let p = c.devices[instance]?.nucleus as? NetPath else { throw XPCError(.remote, errno: 19, "not a network device") }
            p.clientSending = sending
        }
    }

    /// `ip link set promisc/allmulti` and `ip maddr add`: the rx mode upcall.
    public func setRxMode(_ instance: UInt32, flags: UInt32, multicast: [MACAddress]) async throws {
        let attributes: [XPCAttribute] = [.u32(.rxFlags, flags), .nested(.mcList, multicast.map { .mac(.mac, $0) })]
        _ = try await upcall(instance, .netSetRxMode, attributes)
        core.withLock { c in (c.devices[instance]?.nucleus as? NetPath)?.rxModeAttributes = attributes }
    }

    /// `ip link set address`: the set_mac upcall, then the netdev takes it.
    public func setMAC(_ instance: UInt32, _ mac: MACAddress) async throws {
        _ = try await upcall(instance, .netSetMac, [.mac(.mac, mac)])
        core.withLock { c in (c.devices[instance]?.nucleus as? NetPath)?.devAddr = mac }
    }

    /// Runs the standard workload: once each device is registered by its
    /// u-driver, audio plays at `rate` and the NIC comes up, joins the
    /// peer's multicast group and exchanges frames. Returns when both started.
    public func runWorkload(rate: UInt32 = 48000) async {
        let ids = core.withLock { c in c.order.compactMap { c.devices[$0] }.compactMap { d in d.nucleus.map { (d.instance, $0.workload) } } }
        workloadRate.withLock { $0 = rate }
        await withTaskGroup(of: Void.self) { g in
            for (id, start) in ids {
                g.addTask { [self] in
                    while true {
                        while !isRegistered(id) { try? await Task.sleep(for: .milliseconds(50)) }
                        do {
                            try await start(self, id)
                            return
                        } catch {
                            try? await Task.sleep(for: .milliseconds(200))
                        }
                    }
                }
            }
        }
    }
}
