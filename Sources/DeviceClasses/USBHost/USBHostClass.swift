// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import ControlInterface
import XPC

/// The usb-host class: a USB host controller whose schedule, URBs and
/// interrupt the nucleus keeps, registered with usbcore as a bus (`usb3`);
/// the u-driver runs the controller and its root hub.
public enum USBHostClass {
    public static let descriptor = DeviceClassDescriptor(
        wireClass: .usbHost,
        aliases: ["usb"],
        registeredName: .usbBusName,
        registration: { "bus \($0)" },
        makeClassShadow: { USBHostShadow() },
        replyViolation: replyViolation,
        operations: [
            ClassOperation(name: "fsbr", synopsis: "on|off|auto", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "fsbr")
                let s = try ClassOperation.argument(a, 0, of: "fsbr", "on, off or auto")
                guard let v = XPCUSBFSBR.allCases.first(where: { $0.name == s }) else {
                    throw OperationArgumentError("fsbr \(s): on, off or auto")
                }
                return (.usbHcSet, [.u8(.usbFSBR, v.rawValue)])
            }),
        ],
        decodeStatus: decodeStatus)

    /// A root-hub request's data stage is at most the wLength usbcore asked
    /// for.
    static func replyViolation(_ m: XPCMessage, _ r: XPCMessage) -> ReplyViolation? {
        guard m.op == .usbHubControl, let data = r.attribute(.usbData) else { return nil }
        let length = Int(m.attribute(.usbLength)?.u16 ?? 0)
        guard data.payload.count <= length else {
            return ReplyViolation("USB_DATA of \(data.payload.count) bytes for a wLength of \(length)", attribute: .usbData)
        }
        return nil
    }

    /// `1, 2` for ports 1 and 2 of a USB_PORT_CHANGES bitmap; `none`.
    static func portList(_ bitmap: UInt32) -> String {
        let ports = (1...31).filter { bitmap & (1 << UInt32($0)) != 0 }
        return ports.isEmpty ? "none" : ports.map(String.init).joined(separator: ", ")
    }

    /// The addresses set in USB_ADDRESSES (bit n = address n).
    static func addresses(_ bitmap: [UInt8]) -> [Int] {
        bitmap.enumerated().flatMap { i, b in (0..<8).filter { b & (1 << $0) != 0 }.map { i * 8 + $0 } }
    }

    static func decodeStatus(_ m: XPCMessage) -> ClassStatus {
        var s = ClassStatus()
        let state = m.attribute(.usbHcState).map { XPCUSBHCState(rawValue: $0.u8)?.name ?? "state \($0.u8)" }
        let fsbr = m.attribute(.usbFSBR).map { XPCUSBFSBR(rawValue: $0.u8)?.name ?? "fsbr \($0.u8)" }
        let fsbrActive = m.attribute(.usbFSBRActive).map { $0.u8 != 0 }, fsbrOns = m.attribute(.usbFSBROns)?.u64
        let ports = m.attribute(.usbPorts)?.u8, changes = m.attribute(.usbPortChanges)?.u32
        let devices = m.attribute(.usbAddresses).map { addresses($0.payload) }
        let urbs = m.attribute(.usbURBs)?.u64, urbErrors = m.attribute(.usbURBErrors)?.u64
        let bytes = m.attribute(.usbBytes)?.u64, hcErrors = m.attribute(.usbHcErrors)?.u64
        let polls = m.attribute(.usbPortPolls)?.u64
        let dataPath = m.attribute(.datapathOn).map { $0.u8 != 0 }
        s.text("controller", state)
        s.text("fsbr", fsbr)
        s.flag("fsbrActive", fsbrActive)
        s.number("fsbrOns", fsbrOns)
        s.number("ports", ports)
        s.number("portChanges", changes)
        if let devices { s.values["addresses"] = .array(devices.map { .integer($0) }) }
        s.number("urbs", urbs)
        s.number("urbErrors", urbErrors)
        s.number("bytes", bytes)
        s.number("hcErrors", hcErrors)
        s.number("portPolls", polls)
        s.flag("dataPath", dataPath)
        // The sim's client: reads that failed or returned other data, and
        // tablet reports missing or repeated (what a fault campaign counts
        // as data-path loss).
        s.number("clientErrors", m.attribute(.clientErrors)?.u64)
        s.number("lost", m.attribute(.inputLost)?.u64)
        if state != nil || fsbr != nil || ports != nil {
            var parts: [String] = []
            if let state { parts.append(state) }
            if let fsbr {
                var t = "FSBR \(fsbr)"
                if let fsbrActive { t += fsbrActive ? " (looping now" : " (not looping now" }
                if let fsbrOns, fsbrActive != nil { t += ", linked \(fsbrOns) time\(fsbrOns == 1 ? "" : "s")" }
                if fsbrActive != nil { t += ")" }
                parts.append(t)
            }
            if let ports { parts.append("\(ports) root-hub port\(ports == 1 ? "" : "s")") }
            s.line("Controller", parts.joined(separator: ", "))
        }
        if let changes { s.line("Port changes", portList(changes) + (polls.map { ", \($0) hub polls" } ?? "")) }
        if let devices {
            s.line("Devices", devices.isEmpty ? "none" : "\(devices.count) (address\(devices.count == 1 ? "" : "es") "
                   + devices.map(String.init).joined(separator: ", ") + ")")
        }
        if let urbs {
            s.line("URBs", "\(urbs) given back, \(urbErrors ?? 0) with an error, \(bytes ?? 0) bytes"
                   + (hcErrors.map { ", \($0) controller error\($0 == 1 ? "" : "s")" } ?? ""))
        }
        return s
    }
}
