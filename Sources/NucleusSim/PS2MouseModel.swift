// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// A PS/2 mouse behind the i8042's AUX port, at the byte level: the
/// command set and the IntelliMouse knocks as QEMU's hw/input/ps2.c
/// answers them (ps2_write_mouse), and a stream of motion packets while it
/// is enabled. It has no registers: the host reaches it only by sending
/// bytes (``receive(_:)``) and reading what it sends (``takeOutput()``).
///
/// The motion is a known sequence (``packet(_:speaking:)``): packet n moves
/// by a 14-bit count spread over x and y, turns the wheel one notch up or
/// down and holds the left button in runs of 32, so a reader can tell
/// every packet lost, repeated or reordered, and that the wheel still
/// works. Accessed under the nucleus lock only.
public final class PS2MouseModel: DeviceModel, @unchecked Sendable {
    public let identity: DeviceIdentity

    /// GETID's answer: 0 PS/2, 3 ImPS/2, 4 ImExPS/2 (QEMU's mouse_type).
    public private(set) var id = UInt8(PSM_ID_PS2)
    public private(set) var rate: UInt8 = 100
    public private(set) var resolution: UInt8 = 2
    public private(set) var scale21 = false
    public private(set) var enabled = false
    public private(set) var remote = false
    private var wrap = false
    /// A command waiting for its parameter byte (SETRATE, SETRES).
    private var awaitingParameter: UInt8?
    /// QEMU's mouse_detect_state: how far the last rates went into a knock.
    private var knock = 0
    /// Bytes sent to the host and not yet taken.
    private var output: [UInt8] = []
    /// Packets sent since power-on.
    public private(set) var packetsSent: UInt64 = 0
    /// Device time since the last packet, ns.
    private var elapsed: UInt64 = 0
    /// Resets (RESET_BAT) so far: a u-driver recovering by reattaching
    /// must not add one.
    public private(set) var resets = 0
    /// The hand is off the mouse: enabled, it sends nothing (the silence
    /// the idle check is for).
    public var still = false

    /// A mouse on serio port `port` (the kernel's name: `serio1` is the
    /// i8042's AUX port), type SERIO_8042.
    /// How long the mouse takes to answer a reset (RESET_BAT), in ms: its
    /// self-test, which libps2 waits up to 4 s for. 0: at once, as QEMU's.
    public let resetMillis: UInt32
    /// How long it takes to answer a resolution change (SETRES), in ms: a
    /// mouse slow to answer a command an upcall sends. 0: at once.
    public let resolutionMillis: UInt32

    public init(port: String = "serio1", irq: UInt32 = 12, resetMillis: UInt32 = 0, resolutionMillis: UInt32 = 0) {
        identity = DeviceIdentity(bus: .serio, vendor: 0x01, device: 0x00, slot: port, barSize: 0, irq: irq)
        self.resetMillis = resetMillis
        self.resolutionMillis = resolutionMillis
    }

    public func read(offset: UInt32, width: Int) -> UInt32 { UInt32.max >> (32 - 8 * UInt32(width)) }
    public func write(offset: UInt32, width: Int, value: UInt32) {}
    public var irqAsserted: Bool { !output.isEmpty }
    public func snapshot() -> [UInt8] { [] }

    public func tick(nanos: UInt64, memory: SimMemory) {
        guard enabled, !remote, !wrap, !still else {
            elapsed = 0
            return
        }
        let period = 1_000_000_000 / UInt64(max(rate, 10))
        elapsed += nanos
        // A slow tick does not make a burst of more than a few packets.
        elapsed = min(elapsed, 8 * period)
        while elapsed >= period {
            elapsed -= period
            output += Self.packet(packetsSent, speaking: id)
            packetsSent += 1
        }
    }

    /// Bytes on the line that are no packet's (noise, a glitch), for tests
    /// of the reader's resynchronisation.
    public func noise(_ bytes: [UInt8]) { output += bytes }

    /// The bytes sent since the last call.
    public func takeOutput() -> [UInt8] {
        defer { output = [] }
        return output
    }

    /// The host sends `byte` (a command or a command's parameter); returns
    /// what the mouse answers to it: ACK, then any reply bytes.
    public func receive(_ byte: UInt8) -> [UInt8] {
        let ack = UInt8(PSM_RET_ACK)
        if let cmd = awaitingParameter {
            awaitingParameter = nil
            if UInt32(cmd) == PSM_CMD_SETRATE & PSM_CMD_BYTE_MASK {
                rate = byte
                detectKnock(byte)
            } else {
                resolution = byte
            }
            return [ack]
        }
        if wrap && byte != 0xff && byte != 0xec { return [byte] }
        switch UInt32(byte) {
        case PSM_CMD_SETSCALE11 & PSM_CMD_BYTE_MASK: scale21 = false
        case PSM_CMD_SETSCALE21 & PSM_CMD_BYTE_MASK: scale21 = true
        case PSM_CMD_SETSTREAM & PSM_CMD_BYTE_MASK: remote = false
        case PSM_CMD_SETPOLL & PSM_CMD_BYTE_MASK: remote = true
        case PSM_CMD_RESET_WRAP & PSM_CMD_BYTE_MASK: wrap = false
        case 0xee: wrap = true
        case PSM_CMD_GETID & PSM_CMD_BYTE_MASK: return [ack, id]
        case PSM_CMD_SETRES & PSM_CMD_BYTE_MASK, PSM_CMD_SETRATE & PSM_CMD_BYTE_MASK: awaitingParameter = byte
        case PSM_CMD_GETINFO & PSM_CMD_BYTE_MASK:
            var status: UInt8 = 0
            if scale21 { status |= UInt8(PSM_STATUS_SCALE21) }
            if enabled { status |= UInt8(PSM_STATUS_ENABLED) }
            if remote { status |= UInt8(PSM_STATUS_REMOTE) }
            return [ack, status, resolution, rate]
        case PSM_CMD_ENABLE & PSM_CMD_BYTE_MASK: enabled = true
        case PSM_CMD_DISABLE & PSM_CMD_BYTE_MASK: enabled = false
        case PSM_CMD_RESET_DIS & PSM_CMD_BYTE_MASK: defaults()
        case PSM_CMD_RESET_BAT & PSM_CMD_BYTE_MASK:
            defaults()
            id = UInt8(PSM_ID_PS2)
            resets += 1
            return [ack, UInt8(PSM_RET_BAT), id]
        default:
            return [UInt8(PSM_RET_NAK)]
        }
        return [ack]
    }

    private func defaults() {
        rate = 100
        resolution = 2
        scale21 = false
        enabled = false
        remote = false
        knock = 0
        elapsed = 0
    }

    /// QEMU's mouse_detect_state machine: 200, 100, 80 → ImPS/2;
    /// 200, 200, 80 → ImExPS/2.
    private func detectKnock(_ r: UInt8) {
        switch (knock, r) {
        case (0, 200): knock = 1
        case (1, 100): knock = 2
        case (1, 200): knock = 3
        case (2, 80):
            id = UInt8(PSM_ID_IMPS)
            knock = 0
        case (3, 80):
            id = UInt8(PSM_ID_EXPS)
            knock = 0
        case (0, _): break
        default: knock = 0
        }
    }

    /// Packet `n` of the motion sequence as a mouse speaking protocol `id`
    /// sends it: x = n's low 7 bits, y = its next 7 bits, the wheel up on
    /// even n and down on odd, the left button on in odd runs of 32.
    public static func packet(_ n: UInt64, speaking id: UInt8) -> [UInt8] {
        let x = UInt8(n & 0x7f), y = UInt8((n >> 7) & 0x7f)
        var b0 = UInt8(PSM_PKT_SYNC)
        if (n >> 5) & 1 == 1 { b0 |= UInt8(PSM_PKT_LEFT) }
        let wheel: Int8 = n % 2 == 0 ? 1 : -1
        switch UInt32(id) {
        case PSM_ID_IMPS: return [b0, x, y, UInt8(bitPattern: wheel)]
        case PSM_ID_EXPS: return [b0, x, y, UInt8(bitPattern: wheel) & UInt8(PSM_PKT_EX_WHEEL_MASK)]
        default: return [b0, x, y]
        }
    }
}
