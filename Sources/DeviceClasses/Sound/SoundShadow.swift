// SPDX-License-Identifier: GPL-2.0
import ShadowDriver
import XPC

/// The sound class's shadow: open, hw_params, prepare, mixer values.
public struct SoundShadow: ClassShadow {
    var open = false
    var hwParams: [XPCAttribute]?
    var prepared = false
    /// Last value per mixer control, in the order they were last set.
    var mixer: [(control: UInt16, value: UInt32)] = []
    /// Last value read per control (answers getters never set).
    var seen: [UInt16: UInt32] = [:]

    public init() {}

    static let kept: Set<XPCOp> = [.sndOpen, .sndClose, .sndHwParams, .sndPrepare, .sndMixerPut, .sndMixerGet]
    public var keptOps: Set<XPCOp> { Self.kept }

    public mutating func record(_ m: XPCMessage, reply: XPCMessage) {
        switch m.op {
        case .sndOpen:
            open = true
        case .sndClose:
            open = false
            hwParams = nil
            prepared = false
        case .sndHwParams:
            hwParams = m.attributes
            prepared = false
        case .sndPrepare:
            prepared = true
        case .sndMixerPut:
            guard let c = m.attribute(.mixerControl)?.u16, let v = m.attribute(.mixerValue)?.u32 else { return }
            mixer.removeAll { $0.control == c }
            mixer.append((c, v))
            seen[c] = v
        case .sndMixerGet:
            if let c = m.attribute(.mixerControl)?.u16, let v = reply.attribute(.mixerValue)?.u32 { seen[c] = v }
        default:
            break
        }
    }

    public func answer(_ m: XPCMessage) -> ShadowAnswer {
        if m.op == .sndMixerGet, let c = m.attribute(.mixerControl)?.u16, let v = seen[c] {
            return .reply([.u16(.mixerControl, c), .u32(.mixerValue, v)])
        }
        return .queue
    }

    public var log: [ShadowCall] {
        var out: [ShadowCall] = []
        if open { out.append(ShadowCall(.sndOpen)) }
        if let hwParams { out.append(ShadowCall(.sndHwParams, hwParams)) }
        if prepared { out.append(ShadowCall(.sndPrepare)) }
        for (c, v) in mixer { out.append(ShadowCall(.sndMixerPut, [.u16(.mixerControl, c), .u32(.mixerValue, v)])) }
        return out
    }

    public var records: [ShadowRecord] {
        var out = log.map { ShadowRecord($0.op, request: $0.attributes) }
        for (c, v) in seen.sorted(by: { $0.key < $1.key }) where !mixer.contains(where: { $0.control == c }) {
            out.append(ShadowRecord(.sndMixerGet, request: [.u16(.mixerControl, c)],
                                    reply: [.u16(.mixerControl, c), .u32(.mixerValue, v)]))
        }
        return out
    }

    /// How far the rate the chip's clock divider or sample-rate converter
    /// runs at may be from the one asked for (the ES1370's divider gives
    /// 48,662 Hz for 48,000).
    static let rateTolerance = 0.02

    /// The PCM rate of the last hw_params, as the nucleus reads it back
    /// from the chip's rate registers. Mixer values are not compared: the
    /// nucleus reports only the chip's raw codec registers.
    public func divergences(from info: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) {
        // The rate reaches the chip at prepare, not at hw_params: until
        // then the device keeps whatever rate it had.
        guard open, prepared, let want = hwParams?.first(where: { $0.id == .pcmRate })?.u32,
              let got = info.attribute(.pcmRate)?.u32 else { return (0, []) }
        let off = abs(Double(got) - Double(want)) / Double(max(want, 1))
        if off > Self.rateTolerance {
            return (1, [ShadowDivergence(setting: "PCM rate", expected: "\(want) Hz", found: "\(got) Hz")])
        }
        return (1, [])
    }
}
