// SPDX-License-Identifier: GPL-2.0
import CChips
import UDriverKit
import XPC

/// The psmouse u-driver: Linux's psmouse-base.c for the generic protocols
/// (PS/2, ImPS/2, ImExPS/2) without the byte interrupt and the packet
/// assembly, which the nucleus keeps. Here: the reset and self-test, the
/// protocol detection by the IntelliMouse knocks, rate, resolution and
/// scaling, streaming on and off, and the check of the mouse after a loss
/// of sync or a silence (psmouse's resync_time, `resync-time` here), which
/// the nucleus asks for. Every PS/2 command goes out as one PS2_COMMAND
/// downcall.
public actor PSMouse: InputDriver {
    let device: Device
    let info: DeviceInfo
    /// What the mouse speaks (`enum drvxpc_mouse_proto`).
    private(set) var proto = XPCMouseProtocol.ps2.rawValue
    /// What the mouse was last told.
    private(set) var rate: UInt8 = 100
    private(set) var resolution: UInt8 = 2
    private(set) var scaling: UInt8 = 1
    private(set) var streaming = false
    /// The idle check's silence in seconds, as the nucleus has it (0: never).
    private(set) var resyncTime: UInt16 = 0

    /// psmouse's defaults: 100 reports a second, 200 dpi (8 counts/mm, code 3), 1:1.
    static let defaultRate: UInt8 = 100
    static let defaultResolution: UInt8 = 3

    public init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
    }

    /// Names by protocol, as psmouse registers them (vendor + name).
    static func name(of proto: UInt8) -> String {
        switch UInt32(proto) {
        case UInt32(XPCMouseProtocol.exps.rawValue): return "ImExPS/2 Generic Explorer Mouse"
        case UInt32(XPCMouseProtocol.imps.rawValue): return "ImPS/2 Generic Wheel Mouse"
        default: return "PS/2 Generic Mouse"
        }
    }

    /// The GETID answer of a mouse speaking `proto`.
    static func id(of proto: UInt8) -> UInt8 {
        switch UInt32(proto) {
        case UInt32(XPCMouseProtocol.exps.rawValue): return UInt8(PSM_ID_EXPS)
        case UInt32(XPCMouseProtocol.imps.rawValue): return UInt8(PSM_ID_IMPS)
        default: return UInt8(PSM_ID_PS2)
        }
    }

    // MARK: probe

    public func probe(reattach: Bool) async throws -> String {
        guard info.bus == .serio else {
            throw UDriverError.noDevice("psmouse drives a serio port, not a \(info.bus.name) device")
        }
        if reattach {
            // The mouse kept streaming under the nucleus: adopt it as it is,
            // protocol and settings, without a command to it.
            let r = try await device.registerInput(name: nil, protocol: nil, reattach: true)
            adopt(r)
            // A check, or a setting, the failed u-driver began and did
            // not end (it may have stopped the stream): this one checks
            // the mouse and restarts it.
            if r.checkPending == true { try await check(wasStreaming: true) }
            return r.name
        }
        try await detect()
        try await configure()
        let name = Self.name(of: proto)
        adopt(try await device.registerInput(name: name, protocol: proto))
        try await enable(true)
        return name
    }

    private func adopt(_ r: InputRegistration) {
        proto = r.protocol
        rate = r.rate ?? rate
        resolution = r.resolution ?? resolution
        scaling = r.scaling ?? scaling
        streaming = r.streaming ?? streaming
        resyncTime = r.resyncTime ?? resyncTime
    }

    /// psmouse_probe + psmouse_reset + the protocol knocks
    /// (im_explorer_detect, intellimouse_detect).
    func detect() async throws {
        // A keyboard answers GETID with two bytes (0xab …); a mouse with one.
        let id = try await device.ps2Command(PSM_CMD_GETID)
        guard let first = id.first, [PSM_ID_PS2, PSM_ID_IMPS, PSM_ID_EXPS].contains(UInt32(first)) else {
            throw UDriverError.noDevice("no mouse on \(info.slot): GETID answered \(id.map { String($0, radix: 16) })")
        }
        let bat = try await device.ps2Command(PSM_CMD_RESET_BAT)
        guard bat.first == UInt8(PSM_RET_BAT) else {
            throw UDriverError(errno: 5, "mouse on \(info.slot) failed its self-test: \(bat.map { String($0, radix: 16) })")
        }
        proto = XPCMouseProtocol.ps2.rawValue
        if try await knock([200, 100, 80]) == UInt8(PSM_ID_IMPS) {
            proto = XPCMouseProtocol.imps.rawValue
            if try await knock([200, 200, 80]) == UInt8(PSM_ID_EXPS) {
                proto = XPCMouseProtocol.exps.rawValue
                // Explorer 4.0's horizontal-scroll magic, as psmouse sends it.
                _ = try await knock([200, 80, 40], getID: false)
            }
        }
    }

    /// Three SETRATEs, then GETID's answer.
    private func knock(_ rates: [UInt8], getID: Bool = true) async throws -> UInt8? {
        for r in rates { _ = try await device.ps2Command(PSM_CMD_SETRATE, [r]) }
        return getID ? try await device.ps2Command(PSM_CMD_GETID).first : nil
    }

    /// psmouse_initialize + the defaults: resolution, rate, scaling 1:1.
    func configure() async throws {
        try await setResolution(Self.defaultResolution)
        try await setRate(Self.defaultRate)
        try await setScaling(1)
    }

    /// The rate that completes an IntelliMouse knock (200, 100, 80 or
    /// 200, 200, 80 switch the mouse's protocol), and one that breaks any.
    static let knockEnd: UInt8 = 80, knockBreaker: UInt8 = 60

    private func setRate(_ r: UInt8) async throws {
        // Rates set one after another by an admin (200, then 100, then 80)
        // would knock the mouse into another protocol under the nucleus's
        // packet assembly: 80 goes out only after a rate that ends any knock.
        if r == Self.knockEnd { _ = try await device.ps2Command(PSM_CMD_SETRATE, [Self.knockBreaker]) }
        _ = try await device.ps2Command(PSM_CMD_SETRATE, [r])
        rate = r
    }
    private func setResolution(_ code: UInt8) async throws {
        _ = try await device.ps2Command(PSM_CMD_SETRES, [code])
        resolution = code
    }
    private func setScaling(_ s: UInt8) async throws {
        _ = try await device.ps2Command(s == 2 ? PSM_CMD_SETSCALE21 : PSM_CMD_SETSCALE11)
        scaling = s
    }
    private func enable(_ on: Bool) async throws {
        _ = try await device.ps2Command(on ? PSM_CMD_ENABLE : PSM_CMD_DISABLE)
        streaming = on
    }
    /// DISABLE for commands this driver ends with ENABLE: should it die in
    /// between, the nucleus has the next one check the mouse and restart it.
    private func pause() async throws {
        _ = try await device.ps2Command(PSM_CMD_DISABLE, pausing: true)
        streaming = false
    }

    // MARK: upcalls

    /// psmouse_attr_set_helper: streaming stops around the change (a mouse
    /// mid-packet would garble the command's answer) and starts again.
    /// Replayed (`reattach`), a setting the mouse already has is skipped,
    /// so a recovery sends nothing to a mouse whose settings held.
    public func set(_ s: MouseSettings, reattach: Bool) async throws {
        let newRate = s.rate.flatMap { $0 != rate || !reattach ? $0 : nil }
        let newRes = s.resolution.flatMap { $0 != resolution || !reattach ? $0 : nil }
        let newScaling = s.scaling.flatMap { $0 != scaling || !reattach ? $0 : nil }
        let changes = newRate != nil || newRes != nil || newScaling != nil
        let wasStreaming = streaming
        if changes && streaming { try await pause() }
        if let r = newRate { try await setRate(r) }
        if let r = newRes { try await setResolution(r) }
        if let r = newScaling { try await setScaling(r) }
        let want = s.streaming ?? wasStreaming
        if want != streaming || (s.streaming != nil && !reattach) { try await enable(want) }
        // The nucleus keeps the idle check's time: nothing goes to the mouse.
        if let t = s.resyncTime, t != resyncTime || !reattach {
            try await device.setInputResyncTime(t)
            resyncTime = t
        }
    }

    /// psmouse_resync, for a mouse that streams.
    public func resync() async throws {
        try await check(wasStreaming: streaming)
    }

    /// psmouse_resync, checked by the mouse's own account: the stream stops
    /// first if it runs (an answer must not mix with packets; a check
    /// taken over from a failed u-driver may find it stopped already and
    /// `wasStreaming` says it ran), then GETID must give
    /// the protocol's id and GETINFO the rate, resolution and scaling the
    /// mouse was told. Each is asked twice before a mismatch is believed:
    /// a packet byte sent before the DISABLE took can answer the first. A
    /// mouse that was reset (unplugged, a glitch) is brought back to its
    /// protocol and settings. ENABLE restarts the stream and ends the
    /// nucleus's pending check.
    func check(wasStreaming: Bool) async throws {
        if streaming {
            // A packet byte equal to NAK can spoil the first DISABLE.
            do { try await pause() } catch { try await pause() }
        }
        var intact = try await isAsTold()
        if !intact { intact = try await isAsTold() }
        if !intact { try await restore() }
        if wasStreaming { try await enable(true) }
    }

    /// Whether the mouse answers as one speaking `proto` with the rate,
    /// resolution and scaling it was told.
    private func isAsTold() async throws -> Bool {
        let id = try await device.ps2Command(PSM_CMD_GETID)
        guard id.first == Self.id(of: proto) else { return false }
        let info = try await device.ps2Command(PSM_CMD_GETINFO)
        guard info.count == 3 else { return false }
        let scale21 = UInt32(info[0]) & PSM_STATUS_SCALE21 != 0
        return info[1] == resolution && info[2] == rate && scale21 == (scaling == 2)
    }

    /// A reset mouse: the protocol detected again (it must be the one the
    /// input device assembles), then the settings it had.
    private func restore() async throws {
        let kept = proto
        try await detect()
        guard proto == kept else {
            throw UDriverError(errno: 5, "mouse on \(info.slot) came back speaking \(Self.name(of: proto)), not \(Self.name(of: kept))")
        }
        let (r, res, sc) = (rate, resolution, scaling)
        try await setResolution(res)
        try await setRate(r)
        try await setScaling(sc)
        streaming = false
    }
}
