// SPDX-License-Identifier: GPL-2.0
import ShadowDriver
import XPC

/// The input class's shadow: the mouse's rate, resolution, scaling,
/// whether it streams and the idle check's time, each as last set. The protocol the mouse negotiated
/// is the nucleus's (its input device assembles packets by it) and is
/// handed to a reattaching u-driver by INPUT_REGISTER, so the mouse is
/// never reset to learn it again.
public struct InputShadow: ClassShadow {
    /// Each setting's last value.
    var settings = MouseSettings()

    public init() {}

    static let kept: Set<XPCOp> = [.inputSet]
    public var keptOps: Set<XPCOp> { Self.kept }

    public mutating func record(_ m: XPCMessage, reply: XPCMessage) {
        guard m.op == .inputSet else { return }
        settings = settings.merged(with: MouseSettings(m))
    }

    public func answer(_ m: XPCMessage) -> ShadowAnswer {
        // A check asked for while the driver is down: the nucleus goes
        // on assembling and keeps the check pending; the recovered
        // driver finds it in INPUT_REGISTER's reply and runs it.
        m.op == .inputResync ? .reply([]) : .queue
    }

    /// One INPUT_SET with every setting ever made: a reattaching driver
    /// sends none of them that the mouse already has.
    public var log: [ShadowCall] { settings.isEmpty ? [] : [ShadowCall(.inputSet, settings.attributes)] }

    public var records: [ShadowRecord] { log.map { ShadowRecord($0.op, request: $0.attributes) } }

    /// Each setting made against what the nucleus says the mouse was last
    /// told (DEVICE_INFO's MOUSE_RATE, MOUSE_RESOLUTION, MOUSE_SCALING,
    /// DATAPATH_ON) and the idle check's time it keeps (MOUSE_RESYNC_TIME).
    public func divergences(from info: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) {
        var compared = 0, out: [ShadowDivergence] = []
        func compare(_ name: String, _ want: UInt8?, _ id: XPCAttributeID, _ show: (UInt8) -> String) {
            guard let want, let got = info.attribute(id)?.u8 else { return }
            compared += 1
            if got != want { out.append(ShadowDivergence(setting: name, expected: show(want), found: show(got))) }
        }
        compare("rate", settings.rate, .mouseRate) { "\($0)/s" }
        compare("resolution", settings.resolution, .mouseResolution) { InputClass.resolutionText($0) }
        compare("scaling", settings.scaling, .mouseScaling) { "\($0):1" }
        compare("streaming", settings.streaming.map { $0 ? 1 : 0 }, .datapathOn) { $0 != 0 ? "on" : "off" }
        if let want = settings.resyncTime, let got = info.attribute(.mouseResyncTime)?.u16 {
            compared += 1
            if got != want { out.append(ShadowDivergence(setting: "resync-time", expected: "\(want) s", found: "\(got) s")) }
        }
        return (compared, out)
    }
}
