// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import XPC

/// A NIC model the net class can put on a cable: frames out, frames in,
/// the PHY's link and the chip's own drop counters.
protocol SimNICModel: DeviceModel {
    /// Frames the chip put on the wire, oldest first; the net class drains it.
    var transmitted: [[UInt8]] { get set }
    /// A frame arrives from the wire; whether it reached host memory.
    @discardableResult
    func receive(_ frame: [UInt8], memory: SimMemory) -> Bool
    /// The link as the PHY sees it.
    var linkUp: Bool { get }
    /// Frames lost for want of a receive buffer (the chip's missed count).
    var missed: UInt64 { get }
    /// Frames the address filter dropped.
    var filtered: UInt64 { get }
}

/// The object roles (enum drvxpc_role) a NIC's data path looks its rings up by.
enum ObjectRole {
    static let rxRing = UInt8(DRVXPC_ROLE_RX_RING.rawValue)
    static let txBuffers = UInt8(DRVXPC_ROLE_TX_BUFFERS.rawValue)
    static let txRing = UInt8(DRVXPC_ROLE_TX_RING.rawValue)
    static let rxBuffers = UInt8(DRVXPC_ROLE_RX_BUFFERS.rawValue)
    static let initBlock = UInt8(DRVXPC_ROLE_INIT_BLOCK.rawValue)
}

/// The netdev's counters (dev->stats), which a chip's data path counts into.
struct NetStats {
    var rxPackets: UInt64 = 0, txPackets: UInt64 = 0
    var rxBytes: UInt64 = 0, txBytes: UInt64 = 0
    var multicast: UInt64 = 0
    var rxErrors: UInt64 = 0, txErrors: UInt64 = 0, txDropped: UInt64 = 0
}

/// What a chip's data path sees of the net class: module/net.h's struct
/// drvnucleus_net. The chip's hooks do nothing to the chip while
/// `datapath` is false.
final class NetDev {
    /// DATAPATH_ENABLE handed the data path over and no DISABLE took it back.
    var datapath = false
    var stats = NetStats()
    /// start_xmit refused a frame: the ring was full or the data path off.
    var txBusy: UInt64 = 0
    /// Set by a chip's interrupt handler on a link-change interrupt
    /// (drvnucleus_net_link_event): the net class sends NET_WATCHDOG.
    var linkEvent = false
}

/// Why DATAPATH_ENABLE was refused: errno, offending attribute, message.
struct NetEnableError: Error {
    let errno: Int32
    let attribute: XPCAttributeID?
    let message: String
}

/// One NIC's data path, what struct drvnucleus_net_ops is in the kernel:
/// the part of its Linux driver that stays in the nucleus. Everything else
/// (NET_REGISTER, carrier, DATAPATH_ENABLE/DISABLE bookkeeping, counters,
/// DEVICE_INFO's class part, the workload client) is ``NetPath``'s. Every
/// hook runs under the nucleus lock and mirrors module/CHIP.c.
protocol SimNICPath: AnyObject {
    /// The chip's model.
    var nic: any SimNICModel { get }
    /// The MAC the chip's registers hold at power-on (dev_addr before
    /// NET_REGISTER names one).
    var registerMAC: MACAddress? { get }
    /// DATAPATH_ENABLE: find and check the rings the u-driver allocated
    /// (by role); without `reattach` start the positions from zero, with
    /// it keep them (the chip never stopped).
    func enable(_ n: NetDev, memory: SimMemory, instance: UInt32, reattach: Bool) throws(NetEnableError)
    /// ndo_start_xmit: false when the frame cannot be queued (busy).
    func startXmit(_ n: NetDev, _ frame: [UInt8]) -> Bool
    /// The interrupt handler with the NAPI poll it schedules: frames up
    /// through `deliver`, transmit completions reaped.
    func interrupt(_ n: NetDev, deliver: ([UInt8]) -> Void)
    /// QUIESCE, the data path just turned off: mask the chip's interrupts.
    func quiesce(_ n: NetDev)
    /// The chip's DEVICE_INFO: MAC, RX_FLAGS and MC_HASH read back from its
    /// registers, and its own raw views (RX_CONFIG, MC_FILTER).
    func info(_ n: NetDev) -> [XPCAttribute]
    /// The chip's write check (``SimChipNucleus/checkWrite(_:memory:)``);
    /// `instance` owns the buffers a DMA register may point into;
    /// `dataPathOn`: the u-driver has handed the data path over
    /// (drvnucleus_net_datapath_on).
    func checkWrite(_ w: RegisterWrite, memory: SimMemory, instance: UInt32, dataPathOn: Bool) -> WriteRefusal?
    /// The chip's `writes_done` (``SimChipNucleus/writesDone()``).
    func writesDone(dataPathOn: Bool) -> WriteRefusal?
}

extension SimNICPath {
    func checkWrite(_ w: RegisterWrite, memory: SimMemory, instance: UInt32, dataPathOn: Bool) -> WriteRefusal? { nil }
    func writesDone(dataPathOn: Bool) -> WriteRefusal? { nil }
}

/// The network class of the sim nucleus, module/net.c's counterpart: the
/// netdev a NIC u-driver registers by downcall (NET_REGISTER, NET_CARRIER,
/// DATAPATH_ENABLE/DISABLE, QUIESCE), its counters and DEVICE_INFO, the link
/// check upcall after a link-change interrupt — plus the sim's "network
/// stack" client that sends sequence-numbered frames to a peer on the
/// cable (``WirePeer``) and counts the echoes. The chip brings only its
/// data path (``SimNICPath``).
///
/// Runs under the nucleus lock; never waits for the u-driver.
final class NetPath {
    let chip: any SimNICPath
    let instance: UInt32
    let n = NetDev()
    /// The far end of this NIC's cable.
    let peer = WirePeer()
    /// The address the netdev carries (dev->dev_addr).
    var devAddr: MACAddress
    var ifname: String?
    /// netif_carrier_ok: off at open until the u-driver's NET_CARRIER.
    var carrier = false
    private var upcalls: [XPCOp] = []
    /// Upcalls with attributes asked for since the last step (RESYNC_CLIENTS's).
    private var upcallsWithAttributes: [(XPCOp, [XPCAttribute])] = []
    /// The stack's receive filter as the client last set it (RX_FLAGS,
    /// MC_LIST): what `__dev_open` would program again.
    var rxModeAttributes: [XPCAttribute] = [.u32(.rxFlags, 0), .nested(.mcList, [])]

    // the sim's traffic client
    var clientUp = false
    /// Whether the client sends (SIM_TRAFFIC pauses it so the cable drains).
    var clientSending = true
    var sendEveryTicks = 5
    private var tickCount = 0
    private var seq: UInt64 = 0
    private(set) var echoed: UInt64 = 0
    private(set) var clientSent: UInt64 = 0
    private(set) var clientErrors: UInt64 = 0
    /// The sim's peer, where every client frame goes.
    static let peerMAC = MACAddress(bytes: [0x52, 0x54, 0x00, 0x00, 0x00, 0x01]) ?? .broadcast
    /// The client's frames' EtherType (IEEE 802 local experimental 1).
    static let clientEtherType: [UInt8] = [0x88, 0xb5]

    /// The netdev starts with the address in the chip's registers.
    init(_ chip: any SimNICPath, instance: UInt32) {
        self.chip = chip
        self.instance = instance
        self.devAddr = chip.registerMAC ?? .broadcast
    }

    /// Client side: a frame reached "the stack".
    func stackReceive(_ frame: [UInt8]) {
        if frame.count >= 22, Array(frame[0..<6]) == devAddr.bytes, Array(frame[12..<14]) == Self.clientEtherType {
            echoed += 1
        }
    }

    /// Client side: a frame every few ticks once the interface is up with
    /// carrier; a frame start_xmit refuses is retried (the qdisc keeps it).
    func clientTick() {
        guard clientUp && clientSending && carrier && n.datapath else { return }
        tickCount += 1
        guard tickCount % sendEveryTicks == 0 else { return }
        var f: [UInt8] = Self.peerMAC.bytes
        f += devAddr.bytes
        f += Self.clientEtherType
        f += withUnsafeBytes(of: seq.bigEndian) { Array($0) }
        if chip.startXmit(n, f) { seq += 1; clientSent += 1 }
    }

    /// Status attributes for DEVICE_INFO: the chip's read-back, then the class's.
    func info() -> [XPCAttribute] {
        let s = n.stats
        var a = chip.info(n)
        if !a.contains(where: { $0.id == .mac }) { a.append(.mac(.mac, devAddr)) }
        a += [
            .u8(.linkUp, chip.nic.linkUp ? 1 : 0),
            .u64(.statRxPackets, s.rxPackets), .u64(.statTxPackets, s.txPackets),
            .u64(.statRxBytes, s.rxBytes), .u64(.statTxBytes, s.txBytes),
            .u64(.statRxErrors, s.rxErrors), .u64(.statTxErrors, s.txErrors),
            .u64(.statMulticast, s.multicast), .u64(.statRxDropped, chip.nic.missed),
            .u64(.statFiltered, chip.nic.filtered), .u64(.statEchoed, echoed),
            .u64(.statClientSent, clientSent), .u64(.clientErrors, clientErrors),
            .u8(.datapathOn, n.datapath ? 1 : 0)]
        if let ifname { a.append(.string(.ifname, ifname)) }
        return a
    }
}

extension NetPath: SimChipNucleus {
    var deviceClass: XPCDeviceClass { .net }

    func step(memory: SimMemory, nanos: UInt64) {
        peer.tick(nanos: nanos)
        peer.fromNIC(chip.nic.transmitted)
        chip.nic.transmitted = []
        for f in peer.take() { chip.nic.receive(f, memory: memory) }
        if chip.nic.irqAsserted { chip.interrupt(n, deliver: stackReceive) }
        if n.linkEvent {
            n.linkEvent = false
            if !upcalls.contains(.netWatchdog) { upcalls.append(.netWatchdog) }
        }
    }

    func checkWrite(_ w: RegisterWrite, memory: SimMemory) -> WriteRefusal? {
        chip.checkWrite(w, memory: memory, instance: instance, dataPathOn: n.datapath)
    }

    func writesDone() -> WriteRefusal? { chip.writesDone(dataPathOn: n.datapath) }

    func takeUpcalls() -> [XPCOp] {
        defer { upcalls = [] }
        return upcalls
    }

    func takeAsyncUpcalls() -> [(XPCOp, [XPCAttribute])] {
        defer { upcallsWithAttributes = [] }
        return takeUpcalls().map { ($0, []) } + upcallsWithAttributes
    }

    func downcall(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage? {
        switch m.op {
        case .netRegister:
            // The netdev once, as net.c's: a later u-driver's NET_REGISTER
            // (a fresh probe that reset the chip) finds it, with the
            // address the stack has, and gets its name back.
            let mac = try m.mac(.mac)
            if ifname == nil { devAddr = mac }
            let name = ifname ?? "sim\(d.instance - 1)"
            ifname = name
            d.registeredName = name
            d.chipName = m.attribute(.chipName)?.string
            return XPCMessage.reply(to: m, attributes: [.string(.ifname, name)])
        case .netCarrier:
            carrier = try m.u8(.linkUp) != 0
            return XPCMessage.reply(to: m)
        case .datapathEnable:
            do {
                try chip.enable(n, memory: memory, instance: instance, reattach: m.flags.contains(.reattach))
            } catch {
                return .errorReply(to: m, errno: error.errno, attribute: error.attribute, message: error.message)
            }
            n.datapath = true
            return XPCMessage.reply(to: m)
        case .datapathDisable:
            n.datapath = false
            return XPCMessage.reply(to: m)
        case .resyncClients:
            // net.c's net_resync: an interface still up under a u-driver
            // that started afresh is opened again, its filter programmed.
            if clientUp && !n.datapath {
                carrier = false
                upcallsWithAttributes += [(.netOpen, []), (.netSetRxMode, rxModeAttributes)]
            }
            return XPCMessage.reply(to: m)
        default:
            return nil
        }
    }

    /// net.c's quiesce as DEVICE_READD runs it: the data path and the
    /// carrier off, the chip's hook; the client keeps the interface up and
    /// waits for the data path (netif_stop_queue).
    func holdForReadd() {
        n.datapath = false
        carrier = false
        chip.quiesce(n)
    }

    /// net.c's quiesce: the data path and the carrier off, then the
    /// chip's hook. The interface stays up (IFF_UP is the admin's), its
    /// client waiting for the data path.
    func quiesce() {
        n.datapath = false
        carrier = false
        chip.quiesce(n)
    }

    var workload: SimWorkload {
        { sim, instance in
            try await sim.bringUp(instance)
            try await sim.setRxMode(instance, flags: 0, multicast: [WirePeer.joinedGroup])
        }
    }
}

/// The far end of one NIC's simulated cable: echoes frames sent to it and
/// announces on two multicast groups, one of which the client joins.
final class WirePeer {
    static let joinedGroup = MACAddress(bytes: [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]) ?? .broadcast
    static let otherGroup = MACAddress(bytes: [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc]) ?? .broadcast
    private var elapsed: UInt64 = 0
    private(set) var outbox: [[UInt8]] = []

    /// Frames the NIC put on the wire.
    func fromNIC(_ frames: [[UInt8]]) {
        for f in frames where f.count >= 14 && Array(f[0..<6]) == NetPath.peerMAC.bytes {
            var echo: [UInt8] = Array(f[6..<12])
            echo += NetPath.peerMAC.bytes
            echo += f[12...]
            outbox.append(echo)
        }
    }

    func tick(nanos: UInt64) {
        elapsed += nanos
        if elapsed >= 100_000_000 {
            elapsed = 0
            for g in [Self.joinedGroup, Self.otherGroup] {
                var ann: [UInt8] = g.bytes
                ann += NetPath.peerMAC.bytes
                ann += [0x88, 0xb6]
                ann += [UInt8](repeating: 0, count: 46)
                outbox.append(ann)
            }
        }
    }

    func take() -> [[UInt8]] {
        defer { outbox = [] }
        return outbox
    }
}

// MARK: little-endian views of host memory, for descriptors

extension SimMemory.Buffer {
    func le16(_ off: Int) -> UInt16 {
        guard off >= 0, off + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[off]) | UInt16(bytes[off + 1]) << 8
    }
    func le32(_ off: Int) -> UInt32 {
        guard off >= 0, off + 4 <= bytes.count else { return 0 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[off + $1]) << (8 * UInt32($1)) }
    }
    func setLE16(_ off: Int, _ v: UInt16) {
        guard off >= 0, off + 2 <= bytes.count else { return }
        bytes[off] = UInt8(truncatingIfNeeded: v)
        bytes[off + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }
    func setLE32(_ off: Int, _ v: UInt32) {
        guard off >= 0, off + 4 <= bytes.count else { return }
        for i in 0..<4 { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
    /// Copies `data` to `off`; false (nothing written) past the end.
    @discardableResult
    func copyIn(_ data: [UInt8], at off: Int) -> Bool {
        guard off >= 0, off + data.count <= bytes.count else { return false }
        bytes.replaceSubrange(off..<(off + data.count), with: data)
        return true
    }
    /// `count` bytes at `off`, or nil past the end.
    func slice(_ off: Int, _ count: Int) -> [UInt8]? {
        guard off >= 0, count >= 0, off + count <= bytes.count else { return nil }
        return Array(bytes[off..<(off + count)])
    }
}

extension SimMemory {
    /// Device-side little-endian reads and writes of descriptor fields.
    func le16(bus: UInt32) -> UInt16 {
        let b = read(bus: bus, count: 2)
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }
    func le32(bus: UInt32) -> UInt32 {
        read(bus: bus, count: 4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
    func setLE16(bus: UInt32, _ v: UInt16) {
        write(bus: bus, [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)])
    }
    func setLE32(bus: UInt32, _ v: UInt32) {
        write(bus: bus, (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) })
    }
}

extension RTL8139Model: SimNICModel {}
extension E1000Model: SimNICModel {}
extension PCNet32Model: SimNICModel {}
extension NE2KModel: SimNICModel {}
