// SPDX-License-Identifier: GPL-2.0
import XPC

/// What a shadow does with a request while its driver is being recovered.
public enum ShadowAnswer: Sendable, Equatable {
    /// Answer now, from the shadow's state (getters).
    case reply([XPCAttribute])
    /// Keep it for the recovered driver, in order (setters).
    case queue
}

/// The shadow of one driver instance, by class (Shadow Drivers, OSDI'04).
///
/// Passive, it records every state-building call the driver completed,
/// keeping only what still matters (the last value per control, the last
/// hw_params, the last MAC…). Active, it answers getters from that state and
/// queues setters. For recovery it produces the compacted log to replay, each
/// call flagged REATTACH so the fresh driver adopts the running device.
///
/// A value type: the broker keeps it under its lock.
public enum Shadow: Sendable {
    case sound(SoundShadow)
    case net(NetShadow)

    /// An empty shadow for `cls`.
    public init(for cls: XPCDeviceClass) {
        self = cls == .sound ? .sound(SoundShadow()) : .net(NetShadow())
    }

    /// Whether calls of `op` are part of the shadow's state (what
    /// ``record(_:reply:)`` keeps); others leave it as it was.
    public static func keeps(_ op: XPCOp) -> Bool {
        [.sndOpen, .sndClose, .sndHwParams, .sndPrepare, .sndMixerPut, .sndMixerGet,
         .netOpen, .netStop, .netSetMac, .netSetRxMode, .netGetLink, .netGetStats].contains(op)
    }

    /// Passive mode: `request` completed with `reply` (status 0).
    public mutating func record(_ request: XPCMessage, reply: XPCMessage) {
        guard reply.status == 0 else { return }
        switch self {
        case .sound(var s): s.record(request, reply: reply); self = .sound(s)
        case .net(var n): n.record(request, reply: reply); self = .net(n)
        }
    }

    /// Active mode: answer `request` or queue it.
    public func answer(_ request: XPCMessage) -> ShadowAnswer {
        switch self {
        case .sound(let s): return s.answer(request)
        case .net(let n): return n.answer(request)
        }
    }

    /// The calls to replay after PROBE(reattach), in order.
    public func replayLog(instance: UInt32) -> [XPCMessage] {
        let calls: [(XPCOp, [XPCAttribute])]
        switch self {
        case .sound(let s): calls = s.log
        case .net(let n): calls = n.log
        }
        return calls.map { XPCMessage(op: $0.0, flags: [.request, .reattach], instance: instance, attributes: $0.1) }
    }
}

/// The sound class: open, hw_params, prepare, mixer values.
public struct SoundShadow: Sendable {
    var open = false
    var hwParams: [XPCAttribute]?
    var prepared = false
    /// Last value per mixer control, in the order they were last set.
    var mixer: [(control: UInt16, value: UInt32)] = []
    /// Last value read per control (answers getters never set).
    var seen: [UInt16: UInt32] = [:]

    public init() {}

    mutating func record(_ m: XPCMessage, reply: XPCMessage) {
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

    func answer(_ m: XPCMessage) -> ShadowAnswer {
        if m.op == .sndMixerGet, let c = m.attribute(.mixerControl)?.u16, let v = seen[c] {
            return .reply([.u16(.mixerControl, c), .u32(.mixerValue, v)])
        }
        return .queue
    }

    var log: [(XPCOp, [XPCAttribute])] {
        var out: [(XPCOp, [XPCAttribute])] = []
        if open { out.append((.sndOpen, [])) }
        if let hwParams { out.append((.sndHwParams, hwParams)) }
        if prepared { out.append((.sndPrepare, [])) }
        for (c, v) in mixer { out.append((.sndMixerPut, [.u16(.mixerControl, c), .u32(.mixerValue, v)])) }
        return out
    }
}

/// The network class: up/down, MAC, rx mode; link and stats for getters.
public struct NetShadow: Sendable {
    var up = false
    var mac: [XPCAttribute]?
    var rxMode: [XPCAttribute]?
    var link: [XPCAttribute]?
    var stats: [XPCAttribute]?

    public init() {}

    mutating func record(_ m: XPCMessage, reply: XPCMessage) {
        switch m.op {
        case .netOpen: up = true
        case .netStop: up = false
        case .netSetMac: mac = m.attributes
        case .netSetRxMode: rxMode = m.attributes
        case .netGetLink: link = reply.attributes
        case .netGetStats: stats = reply.attributes
        default: break
        }
    }

    func answer(_ m: XPCMessage) -> ShadowAnswer {
        switch m.op {
        case .netGetLink:
            // The nucleus kept the carrier; the link did not change for a user-space restart.
            return .reply(link ?? [.u8(.linkUp, 1), .u32(.linkSpeed, 100), .u8(.linkDuplex, 1)])
        case .netGetStats:
            return .reply(stats ?? [.u64(.statRxDropped, 0)])
        case .netWatchdog:
            // The periodic link check skips a beat while the driver is down.
            return .reply([])
        default:
            return .queue
        }
    }

    var log: [(XPCOp, [XPCAttribute])] {
        var out: [(XPCOp, [XPCAttribute])] = []
        if let mac { out.append((.netSetMac, mac)) }
        if up { out.append((.netOpen, [])) }
        if let rxMode { out.append((.netSetRxMode, rxMode)) }
        return out
    }
}

// MARK: persistence

extension Shadow {
    /// The shadow as the completed calls that rebuild it: fed in order to
    /// ``record(_:reply:)`` of an empty shadow of the same class, they give
    /// back this one (setters, and the getters' last answers). This is what
    /// drivermgrd persists, so a restarted daemon can still replay a driver
    /// it adopted from its predecessor.
    public func records(instance: UInt32) -> [(request: XPCMessage, reply: XPCMessage)] {
        let calls: [(XPCOp, [XPCAttribute], [XPCAttribute])]
        switch self {
        case .sound(let s): calls = s.records
        case .net(let n): calls = n.records
        }
        return calls.map { op, req, rep in
            let m = XPCMessage(op: op, flags: .request, instance: instance, attributes: req)
            return (m, XPCMessage.reply(to: m, attributes: rep))
        }
    }

    /// A shadow of class `cls` rebuilt from ``records(instance:)``. Calls
    /// that are not the class's state are ignored, as ``record(_:reply:)``
    /// ignores them.
    public init(for cls: XPCDeviceClass, rebuiltFrom records: [(request: XPCMessage, reply: XPCMessage)]) {
        self.init(for: cls)
        for r in records { record(r.request, reply: r.reply) }
    }
}

extension SoundShadow {
    var records: [(XPCOp, [XPCAttribute], [XPCAttribute])] {
        var out = log.map { ($0.0, $0.1, [XPCAttribute]()) }
        for (c, v) in seen.sorted(by: { $0.key < $1.key }) where !mixer.contains(where: { $0.control == c }) {
            out.append((.sndMixerGet, [.u16(.mixerControl, c)], [.u16(.mixerControl, c), .u32(.mixerValue, v)]))
        }
        return out
    }
}

extension NetShadow {
    var records: [(XPCOp, [XPCAttribute], [XPCAttribute])] {
        var out = log.map { ($0.0, $0.1, [XPCAttribute]()) }
        if let link { out.append((.netGetLink, [], link)) }
        if let stats { out.append((.netGetStats, [], stats)) }
        return out
    }
}
