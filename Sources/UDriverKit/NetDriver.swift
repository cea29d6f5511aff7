// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import XPC

/// Receive filter of an NET_SET_RX_MODE upcall.
public struct RxMode: Sendable, Equatable {
    public var promiscuous: Bool
    public var allMulticast: Bool
    public var multicast: [MACAddress]
    public init(promiscuous: Bool = false, allMulticast: Bool = false, multicast: [MACAddress] = []) {
        self.promiscuous = promiscuous
        self.allMulticast = allMulticast
        self.multicast = multicast
    }
    /// RX_FLAGS bits (`DRVXPC_RX_*`).
    static let promiscuousFlag = UInt32(DRVXPC_RX_PROMISC), allMulticastFlag = UInt32(DRVXPC_RX_ALLMULTI)
}

/// Link state for NET_GET_LINK.
public struct LinkState: Sendable, Equatable {
    public let up: Bool
    /// Mbit/s.
    public let speed: UInt32
    public let fullDuplex: Bool
    public init(up: Bool, speed: UInt32, fullDuplex: Bool) {
        self.up = up
        self.speed = speed
        self.fullDuplex = fullDuplex
    }
}

/// Hardware counters for NET_GET_STATS (the nucleus adds its packet counts).
public struct NetHardwareStats: Sendable, Equatable {
    public let rxMissed: UInt64
    public init(rxMissed: UInt64) { self.rxMissed = rxMissed }
}

/// A network u-driver: everything of a PCI NIC driver but start_xmit,
/// interrupt and poll, in the order of net_device_ops.
public protocol NetDriver: UDriver {
    /// With `reattach` the interface is up and the data path running: adopt
    /// the rings the nucleus kept, do not reset the chip.
    func open(reattach: Bool) async throws
    func stop() async throws
    func setRxMode(_ mode: RxMode) async throws
    func setMAC(_ mac: MACAddress) async throws
    func getLink() async throws -> LinkState
    func getStats() async throws -> NetHardwareStats
    /// The periodic link timer (8139too's rtl8139_thread), and the
    /// nucleus's link-change interrupt.
    func watchdog() async throws
    /// The transmitter stalled (ndo_tx_timeout): the nucleus has stopped
    /// its data path and dropped what was in flight; restart the chip's
    /// transmitter and hand the data path back.
    func txTimeout() async throws
}

extension NetDriver {
    public static var deviceClass: XPCDeviceClass { .net }
    public static var settingOps: Set<XPCOp> { [.netOpen, .netStop, .netSetRxMode, .netSetMac] }

    /// A fresh NET_OPEN (not REATTACH) resets the chip, which the nucleus
    /// refuses under a running data path. An open the kernel asks for finds
    /// it off, but one sent again after a failure may find it on: the dead
    /// u-driver had enabled it before its open was cut off (a timeout), and
    /// every recovered u-driver's open was then refused in turn. The data
    /// path is taken back first (DATAPATH_DISABLE: nothing if it is off).
    public static func beforeServing(_ m: XPCMessage, on device: Device) async throws {
        if m.op == .netOpen && !m.flags.contains(.reattach) { try await device.disableDataPath() }
    }

    /// The network upcalls → ``NetDriver``'s methods.
    public func dispatch(_ m: XPCMessage) async throws -> [XPCAttribute] {
        switch m.op {
        case .netOpen: try await open(reattach: m.flags.contains(.reattach))
        case .netStop: try await stop()
        case .netSetRxMode:
            let flags = m.attribute(.rxFlags)?.u32 ?? 0
            let macs = m.attribute(.mcList)?.children.compactMap { MACAddress(bytes: $0.payload) } ?? []
            try await setRxMode(RxMode(promiscuous: flags & RxMode.promiscuousFlag != 0,
                                       allMulticast: flags & RxMode.allMulticastFlag != 0, multicast: macs))
        case .netSetMac: try await setMAC(try m.mac(.mac))
        case .netGetLink:
            let l = try await getLink()
            return [.u8(.linkUp, l.up ? 1 : 0), .u32(.linkSpeed, l.speed), .u8(.linkDuplex, l.fullDuplex ? 1 : 0)]
        case .netGetStats:
            return [.u64(.statRxDropped, try await getStats().rxMissed)]
        case .netWatchdog: try await watchdog()
        case .netTxTimeout: try await txTimeout()
        default:
            throw UDriverError(errno: 56, "\(m.op.name) is not a network upcall")
        }
        return []
    }
}
