// SPDX-License-Identifier: GPL-2.0
import ShadowDriver
import XPC

/// The network class's shadow: up/down, MAC, rx mode; link and stats for
/// getters.
public struct NetShadow: ClassShadow {
    var up = false
    var mac: [XPCAttribute]?
    var rxMode: [XPCAttribute]?
    var link: [XPCAttribute]?
    var stats: [XPCAttribute]?

    public init() {}

    static let kept: Set<XPCOp> = [.netOpen, .netStop, .netSetMac, .netSetRxMode, .netGetLink, .netGetStats]
    public var keptOps: Set<XPCOp> { Self.kept }

    public mutating func record(_ m: XPCMessage, reply: XPCMessage) {
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

    public func answer(_ m: XPCMessage) -> ShadowAnswer {
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

    public var log: [ShadowCall] {
        var out: [ShadowCall] = []
        if let mac { out.append(ShadowCall(.netSetMac, mac)) }
        if up { out.append(ShadowCall(.netOpen)) }
        if let rxMode { out.append(ShadowCall(.netSetRxMode, rxMode)) }
        return out
    }

    public var records: [ShadowRecord] {
        var out = log.map { ShadowRecord($0.op, request: $0.attributes) }
        if let link { out.append(ShadowRecord(.netGetLink, reply: link)) }
        if let stats { out.append(ShadowRecord(.netGetStats, reply: stats)) }
        return out
    }

    /// MAC (IDR/RAL/PAR read back), and for an open interface the receive
    /// mode (RX_FLAGS and whether the MC_HASH holds any group) and the data
    /// path.
    public func divergences(from info: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) {
        var n = 0
        var out: [ShadowDivergence] = []
        if let want = mac?.first(where: { $0.id == .mac }).flatMap({ MACAddress(bytes: $0.payload) }) {
            n += 1
            let got = info.attribute(.mac).flatMap { MACAddress(bytes: $0.payload) }
            if got != want { out.append(ShadowDivergence(setting: "MAC", expected: "\(want)", found: got.map { "\($0)" } ?? "none")) }
        }
        // A closed interface's chip need not hold the mode yet: drivers
        // program it at open, as Linux's do.
        if up, let rx = rxMode, let flags = info.attribute(.rxFlags)?.u32 {
            n += 1
            let want = (rx.first { $0.id == .rxFlags }?.u32 ?? 0) & (NetClass.promiscuous | NetClass.allMulticast)
            let groups = rx.first { $0.id == .mcList }?.children.count ?? 0
            let hashed = !NetClass.hashBits(info.attribute(.mcHash)?.payload ?? []).isEmpty
            let expected = NetClass.rxMode(flags: want, hashBits: groups > 0 ? [0] : [])
            let found = NetClass.rxMode(flags: flags, hashBits: hashed ? [0] : [])
            // A chip may fall back to all-multicast for a long group list
            // (Linux drivers do above their filter's limit).
            let fallback = expected == "multicast" && found == "allmulti"
            if expected != found && !fallback {
                out.append(ShadowDivergence(setting: "rx mode", expected: expected, found: found))
            }
        }
        if up, let on = info.attribute(.datapathOn)?.u8 {
            n += 1
            if on == 0 { out.append(ShadowDivergence(setting: "data path", expected: "on (interface up)", found: "off")) }
        }
        return (n, out)
    }
}
