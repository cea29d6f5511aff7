// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import ControlInterface
import XPC

/// The input class: a PS/2 mouse on a serio port, its packets reported by
/// the nucleus's input device.
public enum InputClass {
    /// Protocols by `enum drvxpc_mouse_proto`, as psmouse names them.
    static let protocols: [UInt8: String] = [
        XPCMouseProtocol.ps2.rawValue: "PS/2",
        XPCMouseProtocol.imps.rawValue: "ImPS/2 (wheel)",
        XPCMouseProtocol.exps.rawValue: "ImExPS/2 (wheel, 5 buttons)",
    ]

    /// `4 counts/mm (100 dpi)` for resolution code 2.
    public static func resolutionText(_ code: UInt8) -> String {
        let perMM = 1 << Int(min(code, 3))
        return "\(perMM) count\(perMM == 1 ? "" : "s")/mm (\(perMM * 25) dpi)"
    }

    public static let descriptor = DeviceClassDescriptor(
        wireClass: .input,
        aliases: ["mouse"],
        registeredName: .inputName,
        registration: { "input device \"\($0)\"" },
        makeClassShadow: { InputShadow() },
        replyViolation: { _, _ in nil },
        operations: [
            ClassOperation(name: "rate", synopsis: "10|20|40|60|80|100|200", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "rate")
                let s = try ClassOperation.argument(a, 0, of: "rate", "reports a second")
                guard let v = UInt8(s), [10, 20, 40, 60, 80, 100, 200].contains(v) else {
                    throw OperationArgumentError("rate \(s): 10, 20, 40, 60, 80, 100 or 200 reports a second")
                }
                return (.inputSet, [.u8(.mouseRate, v)])
            }),
            ClassOperation(name: "resolution", synopsis: "1|2|4|8 (counts/mm)", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "resolution")
                let s = try ClassOperation.argument(a, 0, of: "resolution", "counts per millimetre")
                guard let v = [1: 0, 2: 1, 4: 2, 8: 3][Int(s) ?? -1] else {
                    throw OperationArgumentError("resolution \(s): 1, 2, 4 or 8 counts/mm")
                }
                return (.inputSet, [.u8(.mouseResolution, UInt8(v))])
            }),
            ClassOperation(name: "scaling", synopsis: "1:1|2:1", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "scaling")
                let s = try ClassOperation.argument(a, 0, of: "scaling", "1:1 or 2:1")
                guard let v: UInt8 = ["1:1": 1, "2:1": 2][s] else { throw OperationArgumentError("scaling \(s): 1:1 or 2:1") }
                return (.inputSet, [.u8(.mouseScaling, v)])
            }),
            ClassOperation(name: "stream", synopsis: "on|off", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "stream")
                let s = try ClassOperation.argument(a, 0, of: "stream", "on or off")
                guard let v: UInt8 = ["on": 1, "off": 0][s] else { throw OperationArgumentError("stream \(s): on or off") }
                return (.inputSet, [.u8(.datapathOn, v)])
            }),
            ClassOperation(name: "resync-time", synopsis: "SECONDS (0: off; psmouse's resync_time)", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "resync-time")
                let s = try ClassOperation.argument(a, 0, of: "resync-time", "seconds of silence before the mouse is checked")
                guard let v = UInt16(s), v <= 3600 else {
                    throw OperationArgumentError("resync-time \(s): 0 (off) to 3600 seconds")
                }
                return (.inputSet, [.u16(.mouseResyncTime, v)])
            }),
        ],
        decodeStatus: decodeStatus)

    static func decodeStatus(_ m: XPCMessage) -> ClassStatus {
        var s = ClassStatus()
        let proto = m.attribute(.inputProtocol)?.u8, rate = m.attribute(.mouseRate)?.u8
        let res = m.attribute(.mouseResolution)?.u8, scaling = m.attribute(.mouseScaling)?.u8
        let streaming = m.attribute(.datapathOn).map { $0.u8 != 0 }
        let packets = m.attribute(.inputPackets)?.u64, resyncs = m.attribute(.inputResyncs)?.u64
        let lost = m.attribute(.inputLost)?.u64
        s.text("protocol", proto.map { protocols[$0] ?? "protocol \($0)" })
        s.number("rate", rate)
        s.number("resolution", res)
        s.number("scaling", scaling)
        s.flag("streaming", streaming)
        s.number("packets", packets)
        s.number("resyncs", resyncs)
        s.number("lost", lost)
        s.number("clientErrors", m.attribute(.clientErrors)?.u64)
        let commands = m.attribute(.inputCommands)?.u64, resets = m.attribute(.inputResets)?.u64
        s.number("commands", commands)
        s.number("resets", resets)
        let resyncTime = m.attribute(.mouseResyncTime)?.u16, idleChecks = m.attribute(.inputIdleChecks)?.u64
        let pending = m.attribute(.inputCheckPending).map { $0.u8 != 0 }
        s.number("resyncTime", resyncTime)
        s.number("idleChecks", idleChecks)
        s.flag("checkPending", pending)
        if let proto { s.line("Protocol", protocols[proto] ?? "protocol \(proto)") }
        if let rate {
            var t = "\(rate) reports/s"
            if let res { t += ", " + resolutionText(res) }
            if let scaling { t += ", scaling \(scaling):1" }
            if let streaming { t += streaming ? ", streaming" : ", not streaming" }
            s.line("Mouse", t)
        }
        if let packets {
            s.line("Packets", "\(packets) reported, \(resyncs ?? 0) bytes dropped to resync" + (lost.map { ", \($0) lost" } ?? ""))
        }
        if let commands { s.line("Commands", "\(commands) PS/2 commands, \(resets ?? 0) resets") }
        if let resyncTime {
            var t = resyncTime == 0 ? "off" : "after \(resyncTime) s of silence"
            if let idleChecks { t += ", \(idleChecks) run" }
            if pending == true { t += ", one under way" }
            s.line("Idle check", t)
        }
        return s
    }
}
