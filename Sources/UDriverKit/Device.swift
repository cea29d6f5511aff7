// SPDX-License-Identifier: GPL-2.0
import XPC

/// An error a u-driver reports back through its reply: an errno, the
/// attribute it concerns (if any) and words for the report.
public struct UDriverError: Error, Sendable, CustomStringConvertible {
    /// Positive errno (EINVAL = 22, ENODEV = 19, EIO = 5, ...).
    public let errno: Int32
    /// The offending attribute, named in the error reply.
    public let attribute: XPCAttributeID?
    /// What went wrong, for a person.
    public let message: String

    public init(errno: Int32, attribute: XPCAttributeID? = nil, _ message: String) {
        self.errno = errno
        self.attribute = attribute
        self.message = message
    }
    public static func invalid(_ a: XPCAttributeID, _ m: String) -> UDriverError { .init(errno: 22, attribute: a, m) }
    public static func noDevice(_ m: String) -> UDriverError { .init(errno: 19, m) }
    public var description: String { message }
}

/// One step of a batched register sequence, run by the nucleus in order
/// and atomically with respect to its data path.
public enum RegisterStep: Sendable {
    case read(UInt32, width: Int)
    case write(UInt32, UInt32, width: Int)
    /// Read until `(value & mask) == equals`; fails with ETIMEDOUT.
    case poll(UInt32, mask: UInt32, equals: UInt32, width: Int)
    case delay(micros: UInt32)

    /// The step as the wire carries it.
    var op: RegisterOp {
        switch self {
        case .read(let o, let w): return RegisterOp(kind: RegisterOp.read, offset: o, width: UInt8(w))
        case .write(let o, let v, let w): return RegisterOp(kind: RegisterOp.write, offset: o, width: UInt8(w), value: v)
        case .poll(let o, let m, let e, let w):
            return RegisterOp(kind: RegisterOp.poll, offset: o, width: UInt8(w), value: e, mask: m)
        case .delay(let us): return RegisterOp(kind: RegisterOp.delay, value: us)
        }
    }
}

/// A DMA buffer the nucleus allocated for this device instance. The
/// u-driver never sees its bus address: it asks the nucleus to write it.
public struct DMABuffer: Sendable, Hashable {
    /// Object id, stable across a u-driver restart.
    public let handle: UInt32
    /// Size in bytes.
    public let size: UInt32
    /// What it is for (`enum drvxpc_role`).
    public let role: UInt8
    public init(handle: UInt32, size: UInt32, role: UInt8) {
        self.handle = handle
        self.size = size
        self.role = role
    }
}

/// DMA roles (`enum drvxpc_role`), so the nucleus knows what a buffer is for.
public enum DMARole: UInt8, Sendable {
    case none = 0, pcmPlayback = 1, rxRing = 2, txBuffers = 3, txRing = 4, rxBuffers = 5, initBlock = 6, frameList = 7
}

/// The handle a u-driver reaches its device through: every method is one
/// downcall (u-driver → drivermgrd → nucleus), checked by the daemon and
/// again by the nucleus. Calls may block for a round trip; they never run
/// on the data path.
public struct Device: Sendable {
    /// Sends a downcall and returns the reply (already checked for a
    /// negative status).
    public typealias Transport = @Sendable (XPCMessage) async throws -> XPCMessage

    /// Device instance the calls are addressed to.
    public let instance: UInt32
    private let transport: Transport

    /// A device reached through `transport`.
    public init(instance: UInt32, transport: @escaping Transport) {
        self.instance = instance
        self.transport = transport
    }

    private func call(_ op: XPCOp, _ attrs: [XPCAttribute], flags: XPCFlags = .request) async throws -> XPCMessage {
        let r = try await transport(XPCMessage(op: op, flags: flags, instance: instance, attributes: attrs))
        if let e = r.remoteError {
            // Name the downcall, so the probe's error says which one was refused.
            throw XPCError(.remote, attribute: e.attribute, errno: e.errno, "\(op.name): \(e.message ?? XPCError.errnoName(e.errno))")
        }
        return r
    }

    public func read8(_ off: UInt32) async throws -> UInt8 { UInt8(truncatingIfNeeded: try await read(off, width: 1)) }
    public func read16(_ off: UInt32) async throws -> UInt16 { UInt16(truncatingIfNeeded: try await read(off, width: 2)) }
    public func read32(_ off: UInt32) async throws -> UInt32 { try await read(off, width: 4) }
    public func write8(_ off: UInt32, _ v: UInt8) async throws { try await write(off, UInt32(v), width: 1) }
    public func write16(_ off: UInt32, _ v: UInt16) async throws { try await write(off, UInt32(v), width: 2) }
    public func write32(_ off: UInt32, _ v: UInt32) async throws { try await write(off, v, width: 4) }

    /// Sends `message` as given and returns the reply, negative status
    /// included. For bring-up tools and tests; the daemon and the nucleus
    /// check it like any downcall.
    public func send(raw message: XPCMessage) async throws -> XPCMessage { try await transport(message) }

    /// Register read (REG_READ).
    public func read(_ off: UInt32, width: Int) async throws -> UInt32 {
        try await call(.regRead, [.u32(.regOffset, off), .u8(.regWidth, UInt8(width))]).u32(.regValue)
    }
    /// Register write (REG_WRITE).
    public func write(_ off: UInt32, _ v: UInt32, width: Int) async throws {
        _ = try await call(.regWrite, [.u32(.regOffset, off), .u8(.regWidth, UInt8(width)), .u32(.regValue, v)])
    }

    /// Runs `steps` in one downcall (REG_SEQ); returns one value per read or
    /// poll step, in order.
    public func sequence(_ steps: [RegisterStep]) async throws -> [UInt32] {
        var out: [UInt32] = []
        let ops = steps.map(\.op)
        var i = 0
        while i < ops.count { // split long sequences at the protocol's limits
            var end = i, slots = 0
            while end < ops.count, end - i < XPCLimits.sequenceMaxOps, slots + ops[end].slots <= RegisterSequence.maxSlots {
                slots += ops[end].slots
                end += 1
            }
            let chunk = Array(ops[i..<end])
            // The packed form (8 bytes a step) unless an offset needs 32 bits.
            let seq: XPCAttribute = RegisterSequence.packable(chunk)
                ? .binary(.regSteps, RegisterSequence.packed(chunk)) : RegisterSequence.nested(chunk)
            let r = try await call(.regSeq, [seq])
            let b = r.attribute(.regResults)?.payload ?? []
            for j in stride(from: 0, to: b.count - 3, by: 4) {
                out.append(UInt32(b[j]) | UInt32(b[j + 1]) << 8 | UInt32(b[j + 2]) << 16 | UInt32(b[j + 3]) << 24)
            }
            i += chunk.count
        }
        return out
    }

    /// Allocates DMA memory (DMA_ALLOC); the nucleus owns it and keeps it
    /// across a u-driver restart.
    public func allocateDMA(size: UInt32, role: DMARole) async throws -> DMABuffer {
        let r = try await call(.dmaAlloc, [.u32(.dmaSize, size), .u8(.objectRole, role.rawValue)])
        return DMABuffer(handle: try r.u32(.dmaHandle), size: size, role: role.rawValue)
    }
    /// Frees DMA memory (DMA_FREE).
    public func freeDMA(_ b: DMABuffer) async throws { _ = try await call(.dmaFree, [.u32(.dmaHandle, b.handle)]) }

    /// Writes the bus address of `buffer` + `offset` into register
    /// `register` (REG_WRITE_DMA): the u-driver never learns the address.
    /// A 32-bit register takes the low 32 bits; a 16-bit one (`width` 2)
    /// takes the 16 bits from bit `shift` on (0 or 16: a chip whose ring
    /// base is split over two 16-bit registers).
    public func writeDMAAddress(_ register: UInt32, buffer: DMABuffer, offset: UInt32 = 0,
                                width: Int = 4, shift: UInt8 = 0) async throws {
        var a: [XPCAttribute] = [.u32(.regOffset, register), .u8(.regWidth, UInt8(width)),
                                 .u32(.dmaHandle, buffer.handle), .u32(.dmaOffset, offset)]
        if shift != 0 { a.append(.u8(.dmaShift, shift)) }
        _ = try await call(.regWriteDMA, a)
    }

    /// Lets the nucleus run the data path (DATAPATH_ENABLE). With `reattach`
    /// the nucleus keeps its ring positions: the device never stopped.
    public func enableDataPath(reattach: Bool = false) async throws {
        _ = try await call(.datapathEnable, [], flags: reattach ? [.request, .reattach] : .request)
    }
    /// Stops the nucleus's data path for this device (DATAPATH_DISABLE).
    public func disableDataPath() async throws { _ = try await call(.datapathDisable, []) }

    /// Registers the sound card (SND_REGISTER).
    public func registerCard(name: String, chip: String) async throws {
        _ = try await call(.sndRegister, [.string(.cardName, name), .string(.chipName, chip)])
    }
    /// Registers the network interface (NET_REGISTER); returns its name.
    public func registerNetdev(mac: MACAddress, chip: String) async throws -> String {
        try await call(.netRegister, [.mac(.mac, mac), .string(.chipName, chip)]).string(.ifname)
    }
    /// Reports carrier (NET_CARRIER), as netif_carrier_on/off.
    public func setCarrier(_ up: Bool, link: LinkState? = nil) async throws {
        var a: [XPCAttribute] = [.u8(.linkUp, up ? 1 : 0)]
        if let link { a += [.u32(.linkSpeed, link.speed), .u8(.linkDuplex, link.fullDuplex ? 1 : 0)] }
        _ = try await call(.netCarrier, a)
    }
}

extension Device {
    /// Runs one PS/2 command on the device's serio port (PS2_COMMAND, as
    /// libps2's ps2_command): `command` in libps2's encoding (PS2_CMD_* in
    /// ps2mouse_regs.h), `params` its parameter bytes out. Returns the bytes
    /// the device answered after its ACK (fewer than asked if it stopped).
    /// `pausing` (DISABLE only) says the stream stops for commands the
    /// caller ends with ENABLE: until then the nucleus tells a reattaching
    /// u-driver a check is pending, so one that dies in between leaves no
    /// mouse silent for good.
    public func ps2Command(_ command: UInt32, _ params: [UInt8] = [], pausing: Bool = false) async throws -> [UInt8] {
        var a: [XPCAttribute] = [.u16(.ps2Cmd, UInt16(truncatingIfNeeded: command))]
        if !params.isEmpty { a.append(.binary(.ps2Param, params)) }
        if pausing { a.append(.u8(.inputCheckPending, 1)) }
        return try await call(.ps2Command, a).attribute(.ps2Param)?.payload ?? []
    }

    /// Registers the input device (INPUT_REGISTER) that the nucleus reports
    /// packets of protocol `proto` to, named `name`. Returns the nucleus's
    /// registration, which with `reattach` is the one already running
    /// (the mouse keeps speaking what it negotiated before).
    public func registerInput(name: String?, protocol proto: UInt8?, reattach: Bool = false) async throws -> InputRegistration {
        var a: [XPCAttribute] = []
        if let name { a.append(.string(.inputName, name)) }
        if let proto { a.append(.u8(.inputProtocol, proto)) }
        let r = try await call(.inputRegister, a, flags: reattach ? [.request, .reattach] : .request)
        return InputRegistration(name: try r.string(.inputName), protocol: try r.u8(.inputProtocol),
                                 rate: r.attribute(.mouseRate)?.u8, resolution: r.attribute(.mouseResolution)?.u8,
                                 scaling: r.attribute(.mouseScaling)?.u8,
                                 streaming: r.attribute(.datapathOn).map { $0.u8 != 0 },
                                 resyncTime: r.attribute(.mouseResyncTime)?.u16,
                                 checkPending: r.attribute(.inputCheckPending).map { $0.u8 != 0 })
    }

    /// Sets the idle check's silence (INPUT_RESYNC_TIME, psmouse's
    /// resync_time): the first packet after `seconds` (0...3600) without
    /// a byte has the nucleus ask for a check (INPUT_RESYNC); 0: never.
    public func setInputResyncTime(_ seconds: UInt16) async throws {
        _ = try await call(.inputResyncTime, [.u16(.mouseResyncTime, seconds)])
    }
}

/// The nucleus's input device: its name, the protocol it assembles
/// packets by, and the settings the mouse was last told through it.
public struct InputRegistration: Sendable, Equatable {
    public let name: String
    /// `enum drvxpc_mouse_proto`.
    public let `protocol`: UInt8
    public let rate: UInt8?
    public let resolution: UInt8?
    public let scaling: UInt8?
    public let streaming: Bool?
    /// The idle check's silence in seconds (0: never).
    public let resyncTime: UInt16?
    /// A check the nucleus asked for and no ENABLE ended: the u-driver
    /// that asked died before finishing it.
    public let checkPending: Bool?
    public init(name: String, protocol p: UInt8, rate: UInt8? = nil, resolution: UInt8? = nil, scaling: UInt8? = nil,
                streaming: Bool? = nil, resyncTime: UInt16? = nil, checkPending: Bool? = nil) {
        self.name = name
        self.protocol = p
        self.rate = rate
        self.resolution = resolution
        self.scaling = scaling
        self.streaming = streaming
        self.resyncTime = resyncTime
        self.checkPending = checkPending
    }
}

extension Device {
    /// The nucleus's schedule for a USB host controller (USB_SCHEDULE): built
    /// on the first call (UHCI: a 1024-entry frame list and its skeleton
    /// queues), the same one on every later call (a reattaching u-driver).
    /// Returns its frame list, for ``writeDMAAddress(_:buffer:offset:width:shift:)``
    /// into the controller's base register; its size is the reply's
    /// DMA_SIZE, or 4096 bytes (1024 four-byte links) without one.
    public func usbSchedule() async throws -> DMABuffer {
        let r = try await call(.usbSchedule, [])
        return DMABuffer(handle: try r.u32(.dmaHandle), size: r.attribute(.dmaSize)?.u32 ?? 4096, role: DMARole.frameList.rawValue)
    }

    /// Registers the host controller with usbcore (USB_REGISTER), its root
    /// hub having `ports` ports (required the first time; a later call,
    /// reattaching, finds the registered bus and changes nothing). Returns
    /// usbcore's name of the bus (`usb3`) when the nucleus already knows it;
    /// the first registration may finish after the reply, without a name.
    public func usbRegister(ports: UInt8?) async throws -> String? {
        var a: [XPCAttribute] = []
        if let ports { a.append(.u8(.usbPorts, ports)) }
        return try await call(.usbRegister, a).attribute(.usbBusName)?.string
    }

    /// Tells the nucleus which root-hub ports have a change the hub driver
    /// has not cleared (USB_PORT_CHANGE; bit n = port n, 1...7). It answers
    /// usbcore's hub_status_data from this bitmap and, when it is not zero,
    /// has usbcore poll the root hub.
    public func usbPortChange(_ bitmap: UInt32) async throws {
        _ = try await call(.usbPortChange, [.u32(.usbPortChanges, bitmap)])
    }

    /// The nucleus's side of a host controller setting (USB_SET): the FSBR
    /// policy (when its full-speed queues are linked into a loop) and the
    /// controller's state (a halted one has its URBs given back at once).
    /// At least one must be given; the nucleus refuses neither with EINVAL.
    public func usbSet(fsbr: XPCUSBFSBR? = nil, hcState: XPCUSBHCState? = nil) async throws {
        var a: [XPCAttribute] = []
        if let fsbr { a.append(.u8(.usbFSBR, fsbr.rawValue)) }
        if let hcState { a.append(.u8(.usbHcState, hcState.rawValue)) }
        _ = try await call(.usbSet, a)
    }
}
