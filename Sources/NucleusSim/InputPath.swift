// SPDX-License-Identifier: GPL-2.0
import CChips
import Foundation
import XPC

/// The input class's nucleus for a PS/2 mouse on a serio port: what the
/// kernel's serio half of psmouse is. It keeps the byte interrupt and the
/// packet assembly with its resynchronisation (psmouse_handle_byte), runs
/// the u-driver's PS2_COMMANDs as libps2's ps2_command does, and reports
/// each packet to its input device, whose reader here is the workload's
/// client: it checks every packet of the mouse's known motion sequence
/// arrives once and in order, wheel included.
final class InputPath: SimChipNucleus {
    let model: PS2MouseModel
    let instance: UInt32
    var deviceClass: XPCDeviceClass { .input }

    /// INPUT_REGISTER's input device: its name and the protocol its
    /// packets are assembled by; nil until registered.
    private var registered: (name: String, proto: UInt8)?
    /// What the mouse was last told through PS2_COMMAND.
    private var rate: UInt8 = 100, resolution: UInt8 = 2, scaling: UInt8 = 1, streaming = false
    /// QUIESCE: the u-driver is gone for good; the mouse was disabled.
    private var quiesced = false
    /// The packet being assembled.
    private var packet: [UInt8] = []
    private var packets: UInt64 = 0
    /// Bytes dropped to find a packet's first byte again.
    private var resyncs: UInt64 = 0
    /// PS/2 commands run, and of them resets.
    private var commands: UInt64 = 0, resets: UInt64 = 0
    private var outOfSync = false
    /// The idle check (psmouse's resync_time): its silence in seconds
    /// (0: never), the silence so far, a check asked for and not yet
    /// ended by ENABLE, and the idle checks asked for.
    private var resyncTime: UInt16 = 0
    private var silence: UInt64 = 0
    private var checkPending = false
    private var idleChecks: UInt64 = 0
    private var upcalls: [XPCOp] = []
    /// The reader: the next packet number it expects, gaps it saw, and
    /// packets whose wheel or buttons were not the ones sent.
    private var expected: UInt64?
    private var lost: UInt64 = 0
    private var wrong: UInt64 = 0

    init(model: PS2MouseModel, instance: UInt32) {
        self.model = model
        self.instance = instance
    }

    private var packetSize: Int {
        registered.map { $0.proto == XPCMouseProtocol.ps2.rawValue ? 3 : 4 } ?? 3
    }

    func step(memory: SimMemory, nanos: UInt64) {
        silence += nanos
        drain()
    }

    /// The byte interrupt for everything the mouse sent: without an input
    /// device the bytes go nowhere (serio's unbound port).
    private func drain() {
        for b in model.takeOutput() where registered != nil { handle(byte: b) }
    }

    /// Has the u-driver check a streaming mouse (INPUT_RESYNC), once
    /// until the check's ENABLE.
    private func askCheck() {
        guard streaming, !checkPending else { return }
        checkPending = true
        upcalls.append(.inputResync)
    }

    /// psmouse_handle_byte: a first byte without its sync bit is dropped
    /// and the u-driver asked to check the mouse (once per loss of sync);
    /// so is the first byte after the idle check's silence, which is kept.
    private func handle(byte b: UInt8) {
        defer { silence = 0 }
        if packet.isEmpty && UInt32(b) & PSM_PKT_SYNC == 0 {
            if !outOfSync { askCheck() }
            outOfSync = true
            resyncs += 1
            return
        }
        if packet.isEmpty && resyncTime > 0 && streaming && !checkPending && silence > UInt64(resyncTime) * 1_000_000_000 {
            idleChecks += 1
            askCheck()
        }
        packet.append(b)
        guard packet.count == packetSize else { return }
        report(packet)
        packet = []
        outOfSync = false
    }

    /// input_report_rel/key + input_sync, and the reader's check.
    private func report(_ p: [UInt8]) {
        packets += 1
        let n = UInt64(p[1] & 0x7f) | UInt64(p[2] & 0x7f) << 7
        if let e = expected {
            let gap = (n &- e) & 0x3fff
            if gap != 0 { lost += gap < 0x2000 ? gap : 1 }
        }
        expected = (n + 1) & 0x3fff
        // The same packet as the mouse speaking this protocol would send.
        let proto = registered?.proto ?? 0
        let id = proto == XPCMouseProtocol.exps.rawValue ? UInt8(PSM_ID_EXPS)
            : proto == XPCMouseProtocol.imps.rawValue ? UInt8(PSM_ID_IMPS) : UInt8(PSM_ID_PS2)
        let want = PS2MouseModel.packet(n, speaking: id)
        if want.count != p.count || want[0] != p[0] || (p.count > 3 && want[3] != p[3]) { wrong += 1 }
    }

    func downcall(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage? {
        switch m.op {
        case .ps2Command:
            return try command(m)
        case .inputResyncTime:
            guard let t = m.attribute(.mouseResyncTime)?.u16 else {
                return .errorReply(to: m, errno: 22, attribute: .mouseResyncTime, message: "missing MOUSE_RESYNC_TIME")
            }
            resyncTime = t
            silence = 0
            return XPCMessage.reply(to: m, attributes: [])
        case .inputRegister:
            if let proto = m.attribute(.inputProtocol)?.u8, !m.flags.contains(.reattach) {
                let name = try m.string(.inputName)
                // The input device once, as the kernel nucleus keeps it:
                // a fresh probe after a reset finds it again.
                if registered?.proto != proto { packet = [] }
                registered = (name, proto)
                quiesced = false
            }
            guard let r = registered else {
                return .errorReply(to: m, errno: 19, attribute: .inputProtocol, message: "no input device registered to reattach to")
            }
            d.registeredName = r.name
            d.chipName = r.name
            return XPCMessage.reply(to: m, attributes: [.string(.inputName, r.name), .u8(.inputProtocol, r.proto)] + settings)
        default:
            return nil
        }
    }

    /// libps2's __ps2_command: the command byte, then each parameter byte,
    /// each to be ACKed; then up to `receive` bytes of answer. Packet bytes
    /// already sent go to the assembler first.
    private func command(_ m: XPCMessage) throws -> XPCMessage {
        let cmd = UInt32(try m.u16(.ps2Cmd))
        let send = Int((cmd >> PSM_CMD_SEND_SHIFT) & PSM_CMD_COUNT_MASK)
        let receive = Int((cmd >> PSM_CMD_RECEIVE_SHIFT) & PSM_CMD_COUNT_MASK)
        let params = m.attribute(.ps2Param)?.payload ?? []
        guard params.count == send else {
            return .errorReply(to: m, errno: 22, attribute: .ps2Param,
                               message: "command 0x\(String(cmd, radix: 16)) sends \(send) parameter bytes, not \(params.count)")
        }
        guard receive <= XPCAttributeID.ps2Param.maxLength else {
            return .errorReply(to: m, errno: 22, attribute: .ps2Cmd, message: "command 0x\(String(cmd, radix: 16)) receives \(receive) bytes, at most 8")
        }
        let pausing = m.attribute(.inputCheckPending).map { $0.u8 != 0 }
        guard pausing == nil || cmd == PSM_CMD_DISABLE else {
            return .errorReply(to: m, errno: 22, attribute: .inputCheckPending, message: "INPUT_CHECK_PENDING goes with DISABLE only")
        }
        // What the nucleus tracks it reports in DEVICE_INFO, in the wire's
        // ranges: a value outside them never reaches the mouse (input.c).
        if (cmd == PSM_CMD_SETRATE && !(10...200).contains(params.first ?? 0))
            || (cmd == PSM_CMD_SETRES && (params.first ?? 0) > 3) {
            return .errorReply(to: m, errno: 22, attribute: .ps2Param, message: "rate outside 10..200 or resolution outside 0..3")
        }
        drain()
        commands += 1
        if cmd == PSM_CMD_RESET_BAT { resets += 1 }
        // A stream about to start: half a packet from before it is stale,
        // and its silence so far is not idleness.
        if cmd == PSM_CMD_ENABLE {
            packet = []
            silence = 0
        }
        var answer: [UInt8] = []
        for (i, b) in ([UInt8(cmd & PSM_CMD_BYTE_MASK)] + params).enumerated() {
            let a = model.receive(b)
            guard a.first == UInt8(PSM_RET_ACK) else {
                return .errorReply(to: m, errno: 5, attribute: i == 0 ? .ps2Cmd : .ps2Param,
                                   message: "the mouse answered 0x\(String(a.first ?? 0, radix: 16)) to byte 0x\(String(b, radix: 16)), not ACK")
            }
            answer = Array(a.dropFirst())
        }
        track(cmd, params, pausing: pausing ?? false)
        return XPCMessage.reply(to: m, attributes: answer.isEmpty ? [] : [.binary(.ps2Param, Array(answer.prefix(receive)))])
    }

    /// A reset is answered after the mouse's self-test, a resolution
    /// change after the model's delay for it.
    func answerDelay(_ m: XPCMessage) -> Duration? {
        guard m.op == .ps2Command, let cmd = m.attribute(.ps2Cmd)?.u16 else { return nil }
        let ms = cmd == UInt16(PSM_CMD_RESET_BAT) ? model.resetMillis : cmd == UInt16(PSM_CMD_SETRES) ? model.resolutionMillis : 0
        return ms > 0 ? .milliseconds(Int(ms)) : nil
    }

    /// What the mouse was told, for DEVICE_INFO and a reattaching u-driver.
    /// A DISABLE that pauses the stream for commands leaves a check
    /// pending until ENABLE; a plain one means the stream is off.
    private func track(_ cmd: UInt32, _ params: [UInt8], pausing: Bool) {
        switch cmd {
        case PSM_CMD_SETRATE: rate = params.first ?? rate
        case PSM_CMD_SETRES: resolution = params.first ?? resolution
        case PSM_CMD_SETSCALE11: scaling = 1
        case PSM_CMD_SETSCALE21: scaling = 2
        case PSM_CMD_ENABLE:
            streaming = true
            checkPending = false
        case PSM_CMD_DISABLE:
            streaming = false
            checkPending = pausing
        case PSM_CMD_RESET_BAT, PSM_CMD_RESET_DIS:
            (rate, resolution, scaling, streaming) = (100, 2, 1, false)
            packet = []
        default: break
        }
    }

    private var settings: [XPCAttribute] {
        [.u8(.mouseRate, rate), .u8(.mouseResolution, resolution), .u8(.mouseScaling, scaling), .u8(.datapathOn, streaming ? 1 : 0),
         .u16(.mouseResyncTime, resyncTime), .u8(.inputCheckPending, checkPending ? 1 : 0)]
    }

    func quiesce() {
        // psmouse_deactivate: the mouse stops streaming; its input device stays.
        drain()
        _ = model.receive(UInt8(PSM_CMD_DISABLE & PSM_CMD_BYTE_MASK))
        streaming = false
        quiesced = true
    }

    func info() -> [XPCAttribute] {
        var a: [XPCAttribute] = settings + [.u64(.inputPackets, packets), .u64(.inputResyncs, resyncs),
                                            .u64(.inputLost, lost), .u64(.clientErrors, wrong),
                                            .u64(.inputCommands, commands), .u64(.inputResets, resets),
                                            .u64(.inputIdleChecks, idleChecks)]
        if let r = registered { a += [.u8(.inputProtocol, r.proto), .string(.inputName, r.name)] }
        return a
    }

    func takeUpcalls() -> [XPCOp] {
        defer { upcalls = [] }
        return upcalls
    }

    /// The motion is the mouse's own: nothing to start.
    var workload: SimWorkload { { _, _ in } }
}
