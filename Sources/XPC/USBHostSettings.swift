// SPDX-License-Identifier: GPL-2.0

/// What a USB_HC_SET carries: each setting present is to be made or
/// adopted, the others left as they are. `drvctl call NAME fsbr on|off|auto`
/// names FSBR alone; the usb-host shadow's replay into a reattaching
/// u-driver names all three. The u-driver makes them; the shadow keeps
/// each one's last value.
public struct USBHostSettings: Sendable, Equatable {
    /// Full-speed bandwidth reclamation: when the nucleus links its
    /// full-speed control and bulk queues into a loop (USB_FSBR).
    public var fsbr: XPCUSBFSBR?
    /// Bit n: port n's reset ended and the hub driver has not cleared its
    /// C_PORT_RESET yet (USB_RESET_CHANGES; ports 1...7, bit 0 unused).
    public var resetChanges: UInt32?
    /// Bit n: the hub driver suspended port n and has not resumed it
    /// (USB_SUSPENDED; ports 1...7).
    public var suspended: UInt32?

    public init(fsbr: XPCUSBFSBR? = nil, resetChanges: UInt32? = nil, suspended: UInt32? = nil) {
        self.fsbr = fsbr
        self.resetChanges = resetChanges
        self.suspended = suspended
    }

    /// The settings `m` names (USB_FSBR, USB_RESET_CHANGES, USB_SUSPENDED);
    /// a value outside its range was refused by the decoder.
    public init(_ m: XPCMessage) {
        self.init(fsbr: m.attribute(.usbFSBR).flatMap { XPCUSBFSBR(rawValue: $0.u8) }, resetChanges: m.attribute(.usbResetChanges)?.u32,
                  suspended: m.attribute(.usbSuspended)?.u32)
    }

    /// Whether no setting is named.
    public var isEmpty: Bool { fsbr == nil && resetChanges == nil && suspended == nil }

    /// These settings, then `later`'s over them.
    public func merged(with later: USBHostSettings) -> USBHostSettings {
        USBHostSettings(fsbr: later.fsbr ?? fsbr, resetChanges: later.resetChanges ?? resetChanges,
                        suspended: later.suspended ?? suspended)
    }

    /// The attributes of a USB_HC_SET making these settings.
    public var attributes: [XPCAttribute] {
        var a: [XPCAttribute] = []
        if let fsbr { a.append(.u8(.usbFSBR, fsbr.rawValue)) }
        if let resetChanges { a.append(.u32(.usbResetChanges, resetChanges)) }
        if let suspended { a.append(.u32(.usbSuspended, suspended)) }
        return a
    }
}

/// Full-speed bandwidth reclamation (`enum drvxpc_usb_fsbr`, USB_FSBR): the
/// u-driver's policy, which the nucleus carries out per transfer.
public enum XPCUSBFSBR: UInt8, Sendable, CaseIterable {
    /// Never loop: each frame walks the queues once.
    case off = 0
    /// Loop whenever a full-speed control or bulk queue exists.
    case on = 1
    /// uhci-hcd's way: loop while a full-speed control or bulk transfer
    /// is on the hardware, and for 10 ms after.
    case auto = 2

    /// `off`, `on`, `auto`.
    public var name: String { ["off", "on", "auto"][Int(rawValue)] }
}

/// The host controller as the u-driver left it (`enum drvxpc_usb_hc_state`,
/// USB_HC_STATE).
public enum XPCUSBHCState: UInt8, Sendable, CaseIterable {
    /// Reset, not walking the schedule: the nucleus gives URBs back at once.
    case halted = 1
    /// Run/Stop set, the schedule walked.
    case running = 2

    /// `halted`, `running`.
    public var name: String { self == .halted ? "halted" : "running" }
}

/// A root-hub request as usbcore's hub_control gets it (USB_HUB_CONTROL's
/// USB_REQUEST, USB_VALUE, USB_INDEX, USB_LENGTH), with the numbers of
/// USB 2.0 chapter 11 (Linux's ch11.h) the u-driver and the shadow both
/// read it by.
public struct USBHubRequest: Sendable, Equatable {
    /// typeReq: bmRequestType << 8 | bRequest.
    public var request: UInt16
    /// wValue: the feature selector of a Set/ClearFeature.
    public var value: UInt16
    /// wIndex: the port (1-based) of a port request.
    public var index: UInt16
    /// wLength: the most bytes the data stage may carry.
    public var length: UInt16

    public init(request: UInt16, value: UInt16 = 0, index: UInt16 = 0, length: UInt16 = 0) {
        self.request = request
        self.value = value
        self.index = index
        self.length = length
    }

    /// The request `m` carries; nil without USB_REQUEST. An absent
    /// USB_VALUE, USB_INDEX or USB_LENGTH reads as 0.
    public init?(_ m: XPCMessage) {
        guard let r = m.attribute(.usbRequest)?.u16 else { return nil }
        self.init(request: r, value: m.attribute(.usbValue)?.u16 ?? 0, index: m.attribute(.usbIndex)?.u16 ?? 0,
                  length: m.attribute(.usbLength)?.u16 ?? 0)
    }

    /// The attributes of a USB_HUB_CONTROL carrying this request.
    public var attributes: [XPCAttribute] {
        [.u16(.usbRequest, request), .u16(.usbValue, value), .u16(.usbIndex, index), .u16(.usbLength, length)]
    }

    // typeReq values (ch11.h: GetHubStatus, ...).
    public static let getHubStatus: UInt16 = 0xa000
    public static let getPortStatus: UInt16 = 0xa300
    public static let setHubFeature: UInt16 = 0x2003
    public static let clearHubFeature: UInt16 = 0x2001
    public static let setPortFeature: UInt16 = 0x2303
    public static let clearPortFeature: UInt16 = 0x2301
    public static let getHubDescriptor: UInt16 = 0xa006

    /// A SetPortFeature of `feature` on port `port`.
    public static func setPort(_ feature: USBPortFeature, port: UInt16) -> USBHubRequest {
        USBHubRequest(request: setPortFeature, value: feature.rawValue, index: port)
    }
    /// A ClearPortFeature of `feature` on port `port`.
    public static func clearPort(_ feature: USBPortFeature, port: UInt16) -> USBHubRequest {
        USBHubRequest(request: clearPortFeature, value: feature.rawValue, index: port)
    }
    /// GetPortStatus of port `port` (4 bytes: wPortStatus, wPortChange).
    public static func portStatus(port: UInt16) -> USBHubRequest {
        USBHubRequest(request: getPortStatus, index: port, length: 4)
    }
}

/// Port feature selectors (wValue of Set/ClearPortFeature; ch11.h's
/// USB_PORT_FEAT_*).
public enum USBPortFeature: UInt16, Sendable, CaseIterable {
    case connection = 0, enable = 1, suspend = 2, overCurrent = 3, reset = 4, power = 8, lowSpeed = 9
    case cConnection = 16, cEnable = 17, cSuspend = 18, cOverCurrent = 19, cReset = 20
}

/// Hub feature selectors (wValue of Set/ClearHubFeature; ch11.h's C_HUB_*).
public enum USBHubFeature: UInt16, Sendable {
    case cHubLocalPower = 0, cHubOverCurrent = 1
}

/// wPortStatus of GetPortStatus (ch11.h's USB_PORT_STAT_*).
public struct USBPortStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let connection = USBPortStatus(rawValue: 0x0001)
    public static let enable = USBPortStatus(rawValue: 0x0002)
    public static let suspend = USBPortStatus(rawValue: 0x0004)
    public static let overCurrent = USBPortStatus(rawValue: 0x0008)
    public static let reset = USBPortStatus(rawValue: 0x0010)
    public static let power = USBPortStatus(rawValue: 0x0100)
    public static let lowSpeed = USBPortStatus(rawValue: 0x0200)
}

/// wPortChange of GetPortStatus (ch11.h's USB_PORT_STAT_C_*).
public struct USBPortChange: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let connection = USBPortChange(rawValue: 0x0001)
    public static let enable = USBPortChange(rawValue: 0x0002)
    public static let suspend = USBPortChange(rawValue: 0x0004)
    public static let overCurrent = USBPortChange(rawValue: 0x0008)
    public static let reset = USBPortChange(rawValue: 0x0010)
}
