// SPDX-License-Identifier: GPL-2.0
import CDrvXPC

/// A bus devices sit on (`enum drvxpc_bus`): how DEVICE_ADD and HELLO name
/// a device on it, and how a driver's `Match=` spells its ids.
///
/// A table, not a switch: the nucleus, the daemon and the u-drivers decode
/// and encode a device through its bus's entry and never name a bus.
/// Adding one is a descriptor here, its line in ``all`` and its
/// `DRVXPC_BUS_*` in drvxpc.h.
public struct DeviceBus: Sendable, Equatable, CustomStringConvertible {
    /// `enum drvxpc_bus`.
    public let wire: UInt8
    /// `Match=`'s prefix: `pci`, `serio`.
    public let name: String
    /// Hex digits of each id in `Match=` (PCI: 4, serio: 2).
    public let idDigits: Int
    /// `Match=`'s form, naming the two ids: `pci:VVVV:DDDD` (vendor,
    /// device), `serio:TT:PP` (type, protocol).
    public let matchForm: String
    let decode: @Sendable (DeviceBus, XPCMessage) throws -> DeviceIdentity
    let encode: @Sendable (DeviceIdentity) -> [XPCAttribute]

    public static func == (a: DeviceBus, b: DeviceBus) -> Bool { a.wire == b.wire }
    public var description: String { name }

    /// A PCI function: vendor and device id, revision, slot, BAR.
    public static let pci: DeviceBus = DeviceBus(
        wire: UInt8(DRVXPC_BUS_PCI.rawValue), name: "pci", idDigits: 4, matchForm: "pci:VVVV:DDDD",
        decode: { bus, m in
            DeviceIdentity(bus: bus, vendor: try m.u16(.pciVendor), device: try m.u16(.pciDevice),
                           revision: m.attribute(.pciRevision)?.u8 ?? 0, slot: try m.string(.pciSlot),
                           barSize: try m.u32(.barSize), irq: m.attribute(.irq)?.u32 ?? 0)
        },
        encode: { d in
            [.u16(.pciVendor, d.vendor), .u16(.pciDevice, d.device), .u8(.pciRevision, d.revision),
             .string(.pciSlot, d.slot), .u32(.barSize, d.barSize), .u32(.irq, d.irq)]
        })

    /// A serio port (the i8042's AUX port is type SERIO_8042 = 0x01): type
    /// and protocol, the port's kernel name. It has no registers.
    public static let serio: DeviceBus = DeviceBus(
        wire: UInt8(DRVXPC_BUS_SERIO.rawValue), name: "serio", idDigits: 2, matchForm: "serio:TT:PP",
        decode: { bus, m in
            DeviceIdentity(bus: bus, vendor: UInt16(try m.u8(.serioType)), device: UInt16(try m.u8(.serioProto)),
                           revision: 0, slot: try m.string(.serioPort), barSize: 0, irq: m.attribute(.irq)?.u32 ?? 0)
        },
        encode: { d in
            [.u8(.bus, d.bus.wire), .u8(.serioType, UInt8(truncatingIfNeeded: d.vendor)),
             .u8(.serioProto, UInt8(truncatingIfNeeded: d.device)), .string(.serioPort, d.slot), .u32(.irq, d.irq)]
        })

    /// Every bus.
    public static let all: [DeviceBus] = [.pci, .serio]

    /// The bus of `wire`, if there is one.
    public static func of(wire: UInt8) -> DeviceBus? { all.first { $0.wire == wire } }

    /// Parses `Match=`'s value (`pci:10ec:8139`, `serio:01:00`) into the
    /// bus and its two ids; nil with the accepted forms in `expected`.
    public static func parseMatch(_ s: String) -> (bus: DeviceBus, first: UInt16, second: UInt16)? {
        let p = s.split(separator: ":", omittingEmptySubsequences: false)
        guard p.count == 3, let bus = all.first(where: { $0.name == p[0] }),
              p[1].count == bus.idDigits, p[2].count == bus.idDigits,
              let a = UInt16(p[1], radix: 16), let b = UInt16(p[2], radix: 16) else { return nil }
        return (bus, a, b)
    }

    /// The forms `Match=` takes, for an error message.
    public static var matchForms: String { all.map(\.matchForm).joined(separator: " or ") }

    /// `pci:10ec:8139`, `serio:01:00`.
    public func match(_ first: UInt16, _ second: UInt16) -> String {
        func hex(_ v: UInt16) -> String {
            let h = String(v, radix: 16)
            return String(repeating: "0", count: max(0, idDigits - h.count)) + h
        }
        return name + ":" + hex(first) + ":" + hex(second)
    }
}

/// Who a device is, whatever its bus: what DEVICE_ADD announces and HELLO
/// passes on. `vendor` and `device` are the bus's two ids (see
/// ``DeviceBus/matchForm``); `slot` is its address on the bus.
public struct DeviceIdentity: Sendable, Equatable {
    public var bus: DeviceBus
    /// PCI vendor id; serio type.
    public var vendor: UInt16
    /// PCI device id; serio protocol.
    public var device: UInt16
    public var revision: UInt8
    /// `0000:00:04.0`; `serio1`.
    public var slot: String
    /// Bytes of the register window (0: none, as on serio).
    public var barSize: UInt32
    public var irq: UInt32

    public init(bus: DeviceBus = .pci, vendor: UInt16, device: UInt16, revision: UInt8 = 0, slot: String,
                barSize: UInt32, irq: UInt32 = 0) {
        self.bus = bus
        self.vendor = vendor
        self.device = device
        self.revision = revision
        self.slot = slot
        self.barSize = barSize
        self.irq = irq
    }

    /// Decodes the identity in a DEVICE_ADD or HELLO: BUS (absent: PCI),
    /// then the bus's own attributes. Throws naming the missing attribute.
    public init(decoding m: XPCMessage) throws {
        let wire = m.attribute(.bus)?.u8 ?? UInt8(DRVXPC_BUS_PCI.rawValue)
        guard let bus = DeviceBus.of(wire: wire) else { throw XPCError(.outOfRange, attribute: .bus, "no bus \(wire)") }
        self = try bus.decode(bus, m)
    }

    /// The attributes that carry this identity.
    public var attributes: [XPCAttribute] { bus.encode(self) }

    /// `pci:10ec:8139`, `serio:01:00`: as `Match=` spells it.
    public var match: String { bus.match(vendor, device) }
}
