// SPDX-License-Identifier: GPL-2.0
import XPC

/// A USB host controller u-driver: the control half of an HCD (Linux's
/// uhci-hcd): controller reset, start and stop, the root hub, its polling
/// and error recovery. The nucleus keeps the schedule, URB enqueue and
/// dequeue and the interrupt. Each method is an upcall; the runtime calls
/// them one at a time.
public protocol USBHostDriver: UDriver {
    /// One root-hub request (usbcore's hub_control: `request` is typeReq,
    /// bmRequestType << 8 | bRequest; `value`, `index`, `length` are wValue,
    /// wIndex, wLength). Returns the data stage of an IN request (at most
    /// `length` bytes; more are cut), nothing for an OUT one. A request the
    /// root hub refuses (a bad port or feature) throws
    /// ``UDriverError/stall(_:)``: the reply's status is -EPIPE, which the
    /// nucleus hands to usbcore as is.
    func hubControl(request: UInt16, value: UInt16, index: UInt16, length: UInt16) async throws -> [UInt8]
    /// The controller stopped on an error (`status`: the USBSTS the nucleus
    /// saw): reset it and start it again on the same schedule.
    func hcError(status: UInt32) async throws
    /// Make `settings`. With `reattach` (the shadow's replay into a new
    /// u-driver of a controller that kept running) also adopt the root
    /// hub's software state it names, which no register holds.
    func set(_ settings: USBHostSettings, reattach: Bool) async throws
}

extension UDriverError {
    /// A request the root hub refuses: EPIPE, usbcore's stall.
    public static func stall(_ message: String) -> UDriverError { .init(errno: 32, message) }
}

extension USBHostDriver {
    public static var deviceClass: XPCDeviceClass { .usbHost }
    public static var settingOps: Set<XPCOp> { [.usbHcSet] }

    /// The usb-host upcalls → ``USBHostDriver``'s methods. USB_HUB_CONTROL's
    /// reply carries USB_DATA when the request has a data stage.
    public func dispatch(_ m: XPCMessage) async throws -> [XPCAttribute] {
        switch m.op {
        case .usbHubControl:
            let length = m.attribute(.usbLength)?.u16 ?? 0
            let data = try await hubControl(request: try m.u16(.usbRequest), value: m.attribute(.usbValue)?.u16 ?? 0,
                                            index: m.attribute(.usbIndex)?.u16 ?? 0, length: length)
            let sent = data.prefix(Int(length))
            return sent.isEmpty ? [] : [.binary(.usbData, Array(sent))]
        case .usbHcError:
            try await hcError(status: m.attribute(.regValue)?.u32 ?? 0)
        case .usbHcSet:
            let settings = USBHostSettings(m)
            guard !settings.isEmpty else { throw UDriverError.invalid(.usbFSBR, "USB_HC_SET names no setting") }
            try await set(settings, reattach: m.flags.contains(.reattach))
        default:
            throw UDriverError(errno: 56, "\(m.op.name) is not a usb-host upcall")
        }
        return []
    }
}
