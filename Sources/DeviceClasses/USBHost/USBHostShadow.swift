// SPDX-License-Identifier: GPL-2.0
import ShadowDriver
import XPC

/// The usb-host class's shadow: FSBR as last set, and the root hub's state
/// that only software holds: the ports whose reset ended with C_PORT_RESET
/// not yet cleared by the hub driver, and the ports the hub driver
/// suspended. Everything else about the bus (the devices, their
/// addresses, the schedule) is the nucleus's and survives a u-driver
/// restart there; what the port registers hold the new u-driver reads.
public struct USBHostShadow: ClassShadow {
    /// FSBR's last value (nil: never set) and the two port bitmaps (bit n
    /// = port n).
    var settings = USBHostSettings()

    public init() {}

    static let kept: Set<XPCOp> = [.usbHcSet, .usbHubControl]
    public var keptOps: Set<XPCOp> { Self.kept }

    /// Ports 1...7 of a port bitmap.
    static let portBits: UInt32 = 0xfe

    public mutating func record(_ m: XPCMessage, reply: XPCMessage) {
        switch m.op {
        case .usbHcSet:
            // FSBR from drvctl; the bitmaps too when the records of a
            // persisted shadow (its log) are fed back.
            settings = settings.merged(with: USBHostSettings(m))
        case .usbHubControl:
            guard let r = USBHubRequest(m), (1...7).contains(r.index), let feature = USBPortFeature(rawValue: r.value) else { return }
            let bit = UInt32(1) << UInt32(r.index)
            switch (r.request, feature) {
            case (USBHubRequest.setPortFeature, .reset): settings.resetChanges = (settings.resetChanges ?? 0) | bit
            case (USBHubRequest.clearPortFeature, .cReset): settings.resetChanges = (settings.resetChanges ?? 0) & ~bit
            case (USBHubRequest.setPortFeature, .suspend): settings.suspended = (settings.suspended ?? 0) | bit
            case (USBHubRequest.clearPortFeature, .suspend): settings.suspended = (settings.suspended ?? 0) & ~bit
            default: return
            }
        default:
            return
        }
    }

    /// Nothing is answered from the shadow: a root-hub request, a
    /// controller error and a setting all wait for the recovered driver
    /// (usbcore's hub_control waits for its reply meanwhile).
    public func answer(_ m: XPCMessage) -> ShadowAnswer { .queue }

    /// One USB_HC_SET: FSBR if it was ever set, the ports with a reset
    /// change and the suspended ports (both always, 0 for none). Nothing
    /// when there is nothing to hand over.
    public var log: [ShadowCall] {
        let resets = (settings.resetChanges ?? 0) & Self.portBits, suspended = (settings.suspended ?? 0) & Self.portBits
        guard settings.fsbr != nil || resets != 0 || suspended != 0 else { return [] }
        return [ShadowCall(.usbHcSet, USBHostSettings(fsbr: settings.fsbr, resetChanges: resets, suspended: suspended).attributes)]
    }

    public var records: [ShadowRecord] { log.map { ShadowRecord($0.op, request: $0.attributes) } }

    /// FSBR as set against DEVICE_INFO's USB_FSBR; and, once the controller
    /// is registered with usbcore (USB_BUS_NAME), that it runs
    /// (USB_HC_STATE).
    public func divergences(from info: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) {
        var compared = 0, out: [ShadowDivergence] = []
        if let want = settings.fsbr, let got = info.attribute(.usbFSBR)?.u8 {
            compared += 1
            if got != want.rawValue {
                out.append(ShadowDivergence(setting: "FSBR", expected: want.name, found: XPCUSBFSBR(rawValue: got)?.name ?? "\(got)"))
            }
        }
        if info.has(.usbBusName), let state = info.attribute(.usbHcState)?.u8 {
            compared += 1
            if state != XPCUSBHCState.running.rawValue {
                let found = XPCUSBHCState(rawValue: state)?.name ?? "state \(state)"
                out.append(ShadowDivergence(setting: "controller", expected: XPCUSBHCState.running.name, found: found))
            }
        }
        return (compared, out)
    }
}
