// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import ControlInterface
import Foundation
import XPC

/// The network class (a net_device without its data path).
public enum NetClass {
    /// Link speeds a 10/100/1000 NIC can report, Mbit/s.
    public static let linkSpeeds: Set<UInt32> = [10, 100, 1000]
    static let promiscuous = UInt32(DRVXPC_RX_PROMISC), allMulticast = UInt32(DRVXPC_RX_ALLMULTI)

    public static let descriptor = DeviceClassDescriptor(
        wireClass: .net,
        aliases: ["network"],
        registeredName: .ifname,
        registration: { "interface \($0)" },
        makeClassShadow: { NetShadow() },
        replyViolation: replyViolation,
        operations: [
            ClassOperation(name: "set-mac", synopsis: "MAC", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "set-mac")
                let s = try ClassOperation.argument(a, 0, of: "set-mac", "a MAC address")
                // A group address is the u-driver's to refuse.
                guard let mac = MACAddress(s) else { throw OperationArgumentError("not a MAC address: \(s)") }
                return (.netSetMac, [.mac(.mac, mac)])
            }),
            ClassOperation(name: "rx-mode", synopsis: "normal|promisc|allmulti [MULTICAST-MAC...]", parse: parseRxMode),
            ClassOperation(name: "get-link", synopsis: "", parse: { a in
                try ClassOperation.noMoreThan(0, a, of: "get-link")
                return (.netGetLink, [])
            }, result: { r in
                ["link": r.attribute(.linkUp)?.u8 == 1 ? "up" : "down",
                 "speed": "\(r.attribute(.linkSpeed)?.u32 ?? 0)",
                 "duplex": r.attribute(.linkDuplex)?.u8 == 1 ? "full" : "half"]
            }),
            ClassOperation(name: "get-stats", synopsis: "", parse: { a in
                try ClassOperation.noMoreThan(0, a, of: "get-stats")
                return (.netGetStats, [])
            }, result: { r in ["rx_missed": "\(r.attribute(.statRxDropped)?.u64 ?? 0)"] }),
        ],
        decodeStatus: decodeStatus,
        holdClients: .datapathDisable, takeBackBeforeProbe: .datapathDisable, resyncAfterFreshStart: .resyncClients)

    static func parseRxMode(_ a: [String]) throws -> (XPCOp, [XPCAttribute]) {
        let flags: UInt32
        switch try ClassOperation.argument(a, 0, of: "rx-mode", "normal, promisc or allmulti") {
        case "normal": flags = 0
        case "promisc": flags = promiscuous
        case "allmulti": flags = allMulticast
        default: throw OperationArgumentError("rx mode must be normal, promisc or allmulti")
        }
        var macs: [XPCAttribute] = []
        for s in a.dropFirst() {
            guard let m = MACAddress(s), m.isMulticast else { throw OperationArgumentError("not a multicast address: \(s)") }
            macs.append(.mac(.mac, m))
        }
        return (.netSetRxMode, [.u32(.rxFlags, flags), .nested(.mcList, macs)])
    }

    static func replyViolation(_ m: XPCMessage, _ r: XPCMessage) -> ReplyViolation? {
        guard m.op == .netGetLink else { return nil }
        guard let s = r.attribute(.linkSpeed)?.u32, r.attribute(.linkUp) != nil else {
            return ReplyViolation("NET_GET_LINK reply without LINK_UP and LINK_SPEED", attribute: .linkSpeed)
        }
        if !linkSpeeds.contains(s) { return ReplyViolation("LINK_SPEED \(s) Mbit/s is not 10, 100 or 1000", attribute: .linkSpeed) }
        return nil
    }

    /// The hash values set in MC_HASH, a little-endian bitmap (bit n of
    /// the bitmap = hash value n), ascending.
    public static func hashBits(_ bitmap: [UInt8]) -> [Int] {
        bitmap.enumerated().flatMap { i, byte in (0..<8).filter { byte & (1 << $0) != 0 }.map { i * 8 + $0 } }
    }

    /// The receive mode in words, from the chip-independent RX_FLAGS and
    /// MC_HASH the chip's own code decoded from its registers.
    public static func rxMode(flags: UInt32, hashBits: [Int]) -> String {
        if flags & promiscuous != 0 { return "promiscuous" }
        if flags & allMulticast != 0 { return "allmulti" }
        return hashBits.isEmpty ? "normal" : "multicast"
    }

    static func bytes(_ b: UInt64) -> String {
        b < 1024 ? "\(b) B" : b < 1 << 20 ? String(format: "%.1fK", Double(b) / 1024) : String(format: "%.1fM", Double(b) / 1048576)
    }

    static func decodeStatus(_ m: XPCMessage) -> ClassStatus {
        var s = ClassStatus()
        let mac = (try? m.mac(.mac))?.description
        s.text("mac", mac)
        if let mac { s.line("MAC", mac) }
        let rxConfig = m.attribute(.rxConfig)?.u32
        let filter = m.attribute(.mcFilter).map { String(format: "0x%016llx", $0.u64) }
        s.number("rxConfig", rxConfig)
        s.text("multicastFilter", filter)
        if let flags = m.attribute(.rxFlags)?.u32 {
            let bits = hashBits(m.attribute(.mcHash)?.payload ?? [])
            let mode = rxMode(flags: flags, hashBits: bits)
            s.text("rxMode", mode)
            s.values["multicastHashBits"] = .array(bits.map { .integer($0) })
            var detail = ["hash bits " + (bits.isEmpty ? "none" : bits.map(String.init).joined(separator: ", "))]
            if let filter { detail.append("filter \(filter)") }
            if let rxConfig { detail.append(String(format: "RxConfig 0x%08x", rxConfig)) }
            s.line("Rx mode", "\(mode) (\(detail.joined(separator: "; ")))")
        }
        let link = m.attribute(.linkUp).map { $0.u8 != 0 }
        s.flag("linkUp", link)
        if let link { s.line("Link", link ? "up" : "down") }
        let counters: [(String, XPCAttributeID)] = [
            ("rxPackets", .statRxPackets), ("txPackets", .statTxPackets), ("rxBytes", .statRxBytes),
            ("txBytes", .statTxBytes), ("multicastPackets", .statMulticast), ("rxDropped", .statRxDropped),
            ("filtered", .statFiltered), ("echoed", .statEchoed), ("clientSent", .statClientSent),
        ]
        var c: [String: UInt64] = [:]
        for (key, id) in counters {
            c[key] = m.attribute(id)?.u64
            s.number(key, c[key])
        }
        if let rx = c["rxPackets"], let tx = c["txPackets"] {
            s.line("Packets", "rx \(rx) (\(bytes(c["rxBytes"] ?? 0))), tx \(tx) (\(bytes(c["txBytes"] ?? 0))), "
                   + "multicast \(c["multicastPackets"] ?? 0), dropped \(c["rxDropped"] ?? 0), filtered \(c["filtered"] ?? 0)")
        }
        if let sent = c["clientSent"], let echoed = c["echoed"] {
            s.line("Sim client", "\(sent) frames sent, \(echoed) echoed back")
        }
        return s
    }
}
