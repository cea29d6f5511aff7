// SPDX-License-Identifier: GPL-2.0

/// What an INPUT_SET carries: each setting present is to be made, the
/// others left as they are. The u-driver makes them; the input shadow
/// keeps each one's last value.
public struct MouseSettings: Sendable, Equatable {
    /// Reports a second (10...200).
    public var rate: UInt8?
    /// 0...3: 1 << n counts per millimetre.
    public var resolution: UInt8?
    /// 1 (1:1) or 2 (2:1).
    public var scaling: UInt8?
    /// Whether the mouse streams packets.
    public var streaming: Bool?
    /// Seconds of silence after which the mouse is checked (psmouse's
    /// resync_time, 0...3600; 0: never).
    public var resyncTime: UInt16?

    public init(rate: UInt8? = nil, resolution: UInt8? = nil, scaling: UInt8? = nil, streaming: Bool? = nil,
                resyncTime: UInt16? = nil) {
        self.rate = rate
        self.resolution = resolution
        self.scaling = scaling
        self.streaming = streaming
        self.resyncTime = resyncTime
    }

    /// The settings `m` names (MOUSE_RATE, MOUSE_RESOLUTION, MOUSE_SCALING,
    /// DATAPATH_ON, MOUSE_RESYNC_TIME); a value outside its range was
    /// refused by the decoder.
    public init(_ m: XPCMessage) {
        self.init(rate: m.attribute(.mouseRate)?.u8, resolution: m.attribute(.mouseResolution)?.u8,
                  scaling: m.attribute(.mouseScaling)?.u8, streaming: m.attribute(.datapathOn).map { $0.u8 != 0 },
                  resyncTime: m.attribute(.mouseResyncTime)?.u16)
    }

    /// Whether no setting is named.
    public var isEmpty: Bool { rate == nil && resolution == nil && scaling == nil && streaming == nil && resyncTime == nil }

    /// These settings, then `later`'s over them.
    public func merged(with later: MouseSettings) -> MouseSettings {
        MouseSettings(rate: later.rate ?? rate, resolution: later.resolution ?? resolution,
                      scaling: later.scaling ?? scaling, streaming: later.streaming ?? streaming,
                      resyncTime: later.resyncTime ?? resyncTime)
    }

    /// The attributes of an INPUT_SET making these settings.
    public var attributes: [XPCAttribute] {
        var a: [XPCAttribute] = []
        if let rate { a.append(.u8(.mouseRate, rate)) }
        if let resolution { a.append(.u8(.mouseResolution, resolution)) }
        if let scaling { a.append(.u8(.mouseScaling, scaling)) }
        if let streaming { a.append(.u8(.datapathOn, streaming ? 1 : 0)) }
        if let resyncTime { a.append(.u16(.mouseResyncTime, resyncTime)) }
        return a
    }
}
