// SPDX-License-Identifier: GPL-2.0
import ShadowDriver
import XPC

/// The input class's shadow: the mouse's rate, resolution, scaling and
/// whether it streams, each as last set. The protocol the mouse negotiated
/// is the nucleus's (its input device assembles packets by it) and is
/// handed to a reattaching u-driver by INPUT_REGISTER, so the mouse is
/// never reset to learn it again.
public struct InputShadow: ClassShadow {
    var rate: UInt8?
    var resolution: UInt8?
    var scaling: UInt8?
    var streaming: Bool?

    public init() {}

    static let kept: Set<XPCOp> = [.inputSet]
    public var keptOps: Set<XPCOp> { Self.kept }

    public mutating func record(_ m: XPCMessage, reply: XPCMessage) {
        guard m.op == .inputSet else { return }
        if let v = m.attribute(.mouseRate)?.u8 { rate = v }
        if let v = m.attribute(.mouseResolution)?.u8 { resolution = v }
        if let v = m.attribute(.mouseScaling)?.u8 { scaling = v }
        if let v = m.attribute(.datapathOn)?.u8 { streaming = v != 0 }
    }

    public func answer(_ m: XPCMessage) -> ShadowAnswer {
        // A resync while the driver is down: the nucleus goes on
        // assembling; the recovered driver checks the mouse if it
        // loses sync again.
        m.op == .inputResync ? .reply([]) : .queue
    }

    /// One INPUT_SET with every setting ever made: a reattaching driver
    /// sends none of them that the mouse already has.
    public var log: [ShadowCall] {
        var a: [XPCAttribute] = []
        if let rate { a.append(.u8(.mouseRate, rate)) }
        if let resolution { a.append(.u8(.mouseResolution, resolution)) }
        if let scaling { a.append(.u8(.mouseScaling, scaling)) }
        if let streaming { a.append(.u8(.datapathOn, streaming ? 1 : 0)) }
        return a.isEmpty ? [] : [ShadowCall(.inputSet, a)]
    }

    public var records: [ShadowRecord] { log.map { ShadowRecord($0.op, request: $0.attributes) } }

    /// Each setting made against what the nucleus says the mouse was last
    /// told (DEVICE_INFO's MOUSE_RATE, MOUSE_RESOLUTION, MOUSE_SCALING,
    /// DATAPATH_ON).
    public func divergences(from info: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) {
        var compared = 0, out: [ShadowDivergence] = []
        func compare(_ name: String, _ want: UInt8?, _ id: XPCAttributeID, _ show: (UInt8) -> String) {
            guard let want, let got = info.attribute(id)?.u8 else { return }
            compared += 1
            if got != want { out.append(ShadowDivergence(setting: name, expected: show(want), found: show(got))) }
        }
        compare("rate", rate, .mouseRate) { "\($0)/s" }
        compare("resolution", resolution, .mouseResolution) { InputClass.resolutionText($0) }
        compare("scaling", scaling, .mouseScaling) { "\($0):1" }
        compare("streaming", streaming.map { $0 ? 1 : 0 }, .datapathOn) { $0 != 0 ? "on" : "off" }
        return (compared, out)
    }
}
