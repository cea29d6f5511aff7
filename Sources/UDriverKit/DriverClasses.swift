// SPDX-License-Identifier: GPL-2.0
import XPC

/// What a u-driver learns about its device in the HELLO exchange.
public struct DeviceInfo: Sendable {
    public let instance: UInt32
    public let driverName: String
    public let deviceClass: XPCDeviceClass
    public let vendor: UInt16
    public let device: UInt16
    public let revision: UInt8
    public let slot: String
    public let barSize: UInt32
    /// DMA buffers the nucleus kept for this instance (handed over after a
    /// restart), by role.
    public let heldBuffers: [DMABuffer]

    public init(instance: UInt32, driverName: String, deviceClass: XPCDeviceClass, vendor: UInt16, device: UInt16,
                revision: UInt8, slot: String, barSize: UInt32, heldBuffers: [DMABuffer] = []) {
        self.instance = instance
        self.driverName = driverName
        self.deviceClass = deviceClass
        self.vendor = vendor
        self.device = device
        self.revision = revision
        self.slot = slot
        self.barSize = barSize
        self.heldBuffers = heldBuffers
    }

    /// Decodes a HELLO request.
    public init(hello m: XPCMessage) throws {
        guard let cls = XPCDeviceClass(rawValue: try m.u8(.deviceClass)) else {
            throw XPCError(.outOfRange, attribute: .deviceClass)
        }
        self.init(instance: m.instance, driverName: try m.string(.driverName), deviceClass: cls,
                  vendor: try m.u16(.pciVendor), device: try m.u16(.pciDevice),
                  revision: m.attribute(.pciRevision)?.u8 ?? 0, slot: m.attribute(.pciSlot)?.string ?? "",
                  barSize: try m.u32(.barSize),
                  heldBuffers: m.all(.object).map { o in
                      let c = o.children
                      return DMABuffer(handle: c.first { $0.id == .objectID }?.u32 ?? 0,
                                       size: c.first { $0.id == .dmaSize }?.u32 ?? 0,
                                       role: c.first { $0.id == .objectRole }?.u8 ?? 0)
                  })
    }
}

/// PCM parameters of an SND_HW_PARAMS upcall.
public struct PCMParams: Sendable, Equatable {
    public let rate: UInt32
    public let channels: UInt8
    /// SNDRV_PCM_FORMAT_*: 0 = S8, 1 = U8, 2 = S16_LE.
    public let format: UInt8
    public let periodFrames: UInt32
    public let bufferFrames: UInt32
    /// The PCM buffer the nucleus allocated.
    public let buffer: DMABuffer

    public init(rate: UInt32, channels: UInt8, format: UInt8, periodFrames: UInt32, bufferFrames: UInt32, buffer: DMABuffer) {
        self.rate = rate
        self.channels = channels
        self.format = format
        self.periodFrames = periodFrames
        self.bufferFrames = bufferFrames
        self.buffer = buffer
    }

    /// Bytes per frame.
    public var frameBytes: UInt32 { UInt32(channels) * (format == 2 ? 2 : 1) }
}

/// Mixer controls (`enum drvxpc_mixer`).
public enum MixerControl: UInt16, Sendable, CaseIterable {
    case master = 1, pcm = 2, masterMute = 3
    /// The name `drvctl call … mixer-set NAME` takes.
    public var name: String {
        switch self {
        case .master: return "master"
        case .pcm: return "pcm"
        case .masterMute: return "master-mute"
        }
    }
}

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

/// A sound u-driver: the non-data-path half of an ALSA PCI driver, in the
/// order of snd_pcm_ops and the mixer. Each method is an upcall; the runtime
/// calls them one at a time.
public protocol SoundDriver: Actor {
    /// Created once per process after HELLO.
    init(device: Device, info: DeviceInfo)
    /// Identify the chip and register the card. With `reattach` the device is
    /// running: adopt it, do not reset it. Returns the chip's name.
    func probe(reattach: Bool) async throws -> String
    func open() async throws
    func close() async throws
    func hwParams(_ params: PCMParams) async throws
    /// With `reattach` the stream is running: rebuild software state from
    /// the parameters, do not touch the registers.
    func prepare(reattach: Bool) async throws
    /// Value 0...100 (percent) or 0/1 for switches.
    func mixerGet(_ control: MixerControl) async throws -> UInt32
    func mixerPut(_ control: MixerControl, _ value: UInt32) async throws
}

/// A network u-driver: everything of a PCI NIC driver but start_xmit,
/// interrupt and poll, in the order of net_device_ops.
public protocol NetDriver: Actor {
    init(device: Device, info: DeviceInfo)
    /// Identify the chip, read the MAC, register the netdev. With `reattach`
    /// adopt the running device. Returns the chip's name.
    func probe(reattach: Bool) async throws -> String
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
