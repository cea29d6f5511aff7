// SPDX-License-Identifier: GPL-2.0
import XPC

/// What a u-driver learns about its device in the HELLO exchange.
public struct DeviceInfo: Sendable {
    public let instance: UInt32
    public let driverName: String
    public let deviceClass: XPCDeviceClass
    /// Who the device is on its bus.
    public let identity: DeviceIdentity
    /// DMA buffers the nucleus kept for this instance (handed over after a
    /// restart), by role.
    public let heldBuffers: [DMABuffer]

    /// The bus; `vendor` and `device` are its two ids (serio: type, proto).
    public var bus: DeviceBus { identity.bus }
    public var vendor: UInt16 { identity.vendor }
    public var device: UInt16 { identity.device }
    public var revision: UInt8 { identity.revision }
    public var slot: String { identity.slot }
    public var barSize: UInt32 { identity.barSize }

    public init(instance: UInt32, driverName: String, deviceClass: XPCDeviceClass, identity: DeviceIdentity,
                heldBuffers: [DMABuffer] = []) {
        self.instance = instance
        self.driverName = driverName
        self.deviceClass = deviceClass
        self.identity = identity
        self.heldBuffers = heldBuffers
    }

    public init(instance: UInt32, driverName: String, deviceClass: XPCDeviceClass, bus: DeviceBus = .pci, vendor: UInt16, device: UInt16,
                revision: UInt8, slot: String, barSize: UInt32, heldBuffers: [DMABuffer] = []) {
        self.init(instance: instance, driverName: driverName, deviceClass: deviceClass,
                  identity: DeviceIdentity(bus: bus, vendor: vendor, device: device, revision: revision, slot: slot, barSize: barSize),
                  heldBuffers: heldBuffers)
    }

    /// Decodes a HELLO request.
    public init(hello m: XPCMessage) throws {
        guard let cls = XPCDeviceClass(rawValue: try m.u8(.deviceClass)) else {
            throw XPCError(.outOfRange, attribute: .deviceClass)
        }
        self.init(instance: m.instance, driverName: try m.string(.driverName), deviceClass: cls,
                  identity: try DeviceIdentity(decoding: m),
                  heldBuffers: m.all(.object).map { o in
                      let c = o.children
                      return DMABuffer(handle: c.first { $0.id == .objectID }?.u32 ?? 0,
                                       size: c.first { $0.id == .dmaSize }?.u32 ?? 0,
                                       role: c.first { $0.id == .objectRole }?.u8 ?? 0)
                  })
    }
}

/// What every u-driver is, whatever its class: created after HELLO,
/// probed, then handed its class's upcalls. (A standby is greeted twice:
/// once ahead of need, to warm it, and again when it takes over; the second
/// HELLO makes the driver object anew. Nothing but HELLO reaches the first.) A class protocol
/// (``SoundDriver``, ``NetDriver``, …) refines it and, in an extension,
/// names its wire class and turns each upcall into a call of its own
/// methods (``dispatch(_:)``); a driver conforms to the class protocol
/// only. ``UDriverRuntime/run(_:)`` serves any of them.
public protocol UDriver: Actor {
    /// The class the driver serves; HELLO for another is refused.
    static var deviceClass: XPCDeviceClass { get }
    /// Created after each HELLO (see above): keep `init` free of work on
    /// the device.
    init(device: Device, info: DeviceInfo)
    /// Identify the chip and register the card, netdev… With `reattach` the
    /// device is running: adopt it, do not reset it. Returns the chip's name.
    func probe(reattach: Bool) async throws -> String
    /// One upcall of the class (not PROBE), answered with the reply's
    /// attributes; an op the class does not have throws EBADRQC ("invalid
    /// request code": EOPNOTSUPP stays a chip's "not on this chip").
    func dispatch(_ m: XPCMessage) async throws -> [XPCAttribute]
    /// The class's upcalls that change a setting of the device (the
    /// `lost-write` fault acknowledges the next of them without running it).
    static var settingOps: Set<XPCOp> { get }
    /// The class's own step before the driver serves `m` (the runtime calls
    /// it before ``dispatch(_:)``): a fresh NET_OPEN takes back a data path
    /// that a u-driver which died during its open left running. None by
    /// default.
    static func beforeServing(_ m: XPCMessage, on device: Device) async throws
}

extension UDriver {
    public static func beforeServing(_ m: XPCMessage, on device: Device) async throws {}
}
