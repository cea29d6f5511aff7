// SPDX-License-Identifier: GPL-2.0

/// One attribute: an id and its payload bytes (for nested attributes, the
/// encoded children).
public struct XPCAttribute: Sendable, Equatable {
    /// Which attribute.
    public let id: XPCAttributeID
    /// The payload, without header or padding.
    public let payload: [UInt8]

    /// An attribute with a raw payload; no checking happens until encoded
    /// bytes are decoded on the other side.
    public init(_ id: XPCAttributeID, payload: [UInt8]) {
        self.id = id
        self.payload = payload
    }

    public static func flag(_ id: XPCAttributeID) -> XPCAttribute { .init(id, payload: []) }
    public static func u8(_ id: XPCAttributeID, _ v: UInt8) -> XPCAttribute { .init(id, payload: [v]) }
    public static func u16(_ id: XPCAttributeID, _ v: UInt16) -> XPCAttribute { .init(id, payload: le(v)) }
    public static func u32(_ id: XPCAttributeID, _ v: UInt32) -> XPCAttribute { .init(id, payload: le(v)) }
    public static func u64(_ id: XPCAttributeID, _ v: UInt64) -> XPCAttribute { .init(id, payload: le(v)) }
    public static func s32(_ id: XPCAttributeID, _ v: Int32) -> XPCAttribute {
        .init(id, payload: le(UInt32(bitPattern: v)))
    }
    /// A NUL-terminated string.
    public static func string(_ id: XPCAttributeID, _ s: String) -> XPCAttribute {
        .init(id, payload: Array(s.utf8) + [0])
    }
    public static func binary(_ id: XPCAttributeID, _ b: [UInt8]) -> XPCAttribute { .init(id, payload: b) }
    public static func mac(_ id: XPCAttributeID, _ m: MACAddress) -> XPCAttribute { .init(id, payload: m.bytes) }
    /// A nested attribute holding `children`.
    public static func nested(_ id: XPCAttributeID, _ children: [XPCAttribute]) -> XPCAttribute {
        var out: [UInt8] = []
        for c in children { XPCMessage.append(c, to: &out) }
        return .init(id, payload: out)
    }

    /// Little-endian bytes of `v`.
    public static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    // MARK: typed reads (payload already validated by the decoder)

    public var u8: UInt8 { payload.first ?? 0 }
    public var u16: UInt16 { UInt16(Self.read(payload, 2)) }
    public var u32: UInt32 { UInt32(Self.read(payload, 4)) }
    public var u64: UInt64 { Self.read(payload, 8) }
    public var s32: Int32 { Int32(bitPattern: u32) }
    /// The string without its NUL.
    public var string: String { String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self) }
    /// The children of a nested attribute (validated when the message was decoded).
    public var children: [XPCAttribute] {
        (try? XPCMessage.decodeAttributes(payload[...], depth: 1)) ?? []
    }

    static func read(_ p: [UInt8], _ n: Int) -> UInt64 { read(p, at: 0, n) }

    /// Little-endian integer of `n` bytes at `at` (no copy).
    static func read(_ p: [UInt8], at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<min(n, max(0, p.count - at)) { v |= UInt64(p[at + i]) << (8 * UInt64(i)) }
        return v
    }

    /// The integer value of any integer kind, widened.
    var integer: UInt64 { Self.read(payload, payload.count) }
}

/// The fixed header (`struct drvxpc_hdr`), host-endian fields.
public struct XPCHeader: Sendable, Equatable {
    public var length: UInt32
    public var op: XPCOp
    public var flags: XPCFlags
    public var seq: UInt32
    public var instance: UInt32
    public var status: Int32
    public var timeoutMicros: UInt32
}

/// A decoded or built message: the header, its attributes, and its exact
/// encoding, so a broker can forward it without re-encoding.
public struct XPCMessage: Sendable {
    /// The header as decoded or built.
    public private(set) var header: XPCHeader
    /// Top-level attributes in wire order.
    public let attributes: [XPCAttribute]
    /// The wire bytes.
    public private(set) var bytes: [UInt8]

    /// Builds and encodes a message.
    public init(op: XPCOp, flags: XPCFlags, seq: UInt32 = 0, instance: UInt32 = 0,
                status: Int32 = 0, timeoutMicros: UInt32 = 0, attributes: [XPCAttribute] = []) {
        var body: [UInt8] = []
        for a in attributes { Self.append(a, to: &body) }
        let len = UInt32(XPCLimits.headerSize + body.count)
        self.header = XPCHeader(length: len, op: op, flags: flags, seq: seq, instance: instance,
                                status: status, timeoutMicros: timeoutMicros)
        self.attributes = attributes
        var out: [UInt8] = []
        out.reserveCapacity(Int(len))
        out += XPCAttribute.le(len)
        out += XPCAttribute.le(op.rawValue)
        out += XPCAttribute.le(flags.rawValue)
        out += XPCAttribute.le(seq)
        out += XPCAttribute.le(instance)
        out += XPCAttribute.le(UInt32(bitPattern: status))
        out += XPCAttribute.le(timeoutMicros)
        out += body
        self.bytes = out
    }

    /// Builds the reply to `request`: same op, seq and instance.
    public static func reply(to request: XPCMessage, status: Int32 = 0,
                             attributes: [XPCAttribute] = []) -> XPCMessage {
        XPCMessage(op: request.op, flags: .reply, seq: request.seq, instance: request.instance,
                   status: status, attributes: attributes)
    }

    /// An error reply naming the offending attribute, like netlink's extack.
    public static func errorReply(to request: XPCMessage, errno: Int32, attribute: XPCAttributeID? = nil,
                                  message: String) -> XPCMessage {
        var attrs: [XPCAttribute] = []
        if let attribute { attrs.append(.u16(.errAttr, attribute.rawValue)) }
        attrs.append(.string(.errMsg, String(message.utf8.prefix(120)) ?? "error"))
        return reply(to: request, status: -abs(errno), attributes: attrs)
    }

    public var op: XPCOp { header.op }
    public var flags: XPCFlags { header.flags }
    public var seq: UInt32 { header.seq }
    public var instance: UInt32 { header.instance }
    public var status: Int32 { header.status }
    public var isReply: Bool { header.flags.contains(.reply) }
    public var isRequest: Bool { header.flags.contains(.request) }

    /// The same message with another sequence number, patched in place in
    /// the bytes (what a broker does when it forwards).
    public func withSeq(_ seq: UInt32) -> XPCMessage {
        var m = self
        m.header.seq = seq
        Self.patch(&m.bytes, at: 8, seq)
        return m
    }

    /// The same message with another instance and timeout, patched in place.
    public func with(instance: UInt32? = nil, timeoutMicros: UInt32? = nil) -> XPCMessage {
        var m = self
        if let instance { m.header.instance = instance; Self.patch(&m.bytes, at: 12, instance) }
        if let timeoutMicros { m.header.timeoutMicros = timeoutMicros; Self.patch(&m.bytes, at: 20, timeoutMicros) }
        return m
    }

    /// The same message with `attribute` added after the others: the
    /// bytes are extended and the length patched, nothing re-encoded.
    public func appending(_ attribute: XPCAttribute) -> XPCMessage {
        var tail: [UInt8] = []
        Self.append(attribute, to: &tail)
        var h = header
        h.length += UInt32(tail.count)
        var b = bytes + tail
        Self.patch(&b, at: 0, h.length)
        return XPCMessage(header: h, attributes: attributes + [attribute], bytes: b)
    }

    private static func patch(_ b: inout [UInt8], at off: Int, _ v: UInt32) {
        for i in 0..<4 { b[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }

    // MARK: attribute access

    /// The first attribute with `id`, or nil.
    public func attribute(_ id: XPCAttributeID) -> XPCAttribute? { attributes.first { $0.id == id } }
    /// Every attribute with `id`, in order.
    public func all(_ id: XPCAttributeID) -> [XPCAttribute] { attributes.filter { $0.id == id } }
    /// Whether a flag attribute is present.
    public func has(_ id: XPCAttributeID) -> Bool { attribute(id) != nil }

    /// The attribute or ``XPCError/Code/missingAttribute`` naming it.
    public func require(_ id: XPCAttributeID, file: String = #fileID, line: Int = #line) throws -> XPCAttribute {
        guard let a = attribute(id) else {
            throw XPCError(.missingAttribute, attribute: id, "in \(op.name)", file: file, line: line)
        }
        return a
    }
    public func u8(_ id: XPCAttributeID) throws -> UInt8 { try require(id).u8 }
    public func u16(_ id: XPCAttributeID) throws -> UInt16 { try require(id).u16 }
    public func u32(_ id: XPCAttributeID) throws -> UInt32 { try require(id).u32 }
    public func u64(_ id: XPCAttributeID) throws -> UInt64 { try require(id).u64 }
    public func string(_ id: XPCAttributeID) throws -> String { try require(id).string }
    public func mac(_ id: XPCAttributeID) throws -> MACAddress {
        guard let m = MACAddress(bytes: try require(id).payload) else {
            throw XPCError(.wrongLength, attribute: id)
        }
        return m
    }

    /// The error carried by a reply with a negative status, or nil.
    public var remoteError: XPCError? {
        guard header.status < 0 else { return nil }
        let attr = attribute(.errAttr).map { XPCAttributeID(rawValue: $0.u16) }
        return XPCError(.remote, attribute: attr, errno: -header.status, attribute(.errMsg)?.string)
    }

    // MARK: encoding

    static func append(_ a: XPCAttribute, to out: inout [UInt8]) {
        let len = 4 + a.payload.count
        out += XPCAttribute.le(UInt16(truncatingIfNeeded: len))
        var type = a.id.rawValue
        if a.id.kind == .nested { type |= 0x8000 }
        out += XPCAttribute.le(type)
        out += a.payload
        let pad = (4 - len % 4) % 4
        if pad > 0 { out += [UInt8](repeating: 0, count: pad) }
    }

    // MARK: decoding

    /// Decodes and validates `bytes`: lengths, op, flags, every attribute's
    /// id, kind, size and declared range, nesting. Never traps.
    public static func decode(_ bytes: [UInt8]) throws -> XPCMessage {
        let h = XPCLimits.headerSize
        guard bytes.count >= h else {
            throw XPCError(.truncated, "\(bytes.count) bytes, header needs \(h)")
        }
        guard bytes.count <= XPCLimits.messageMax else {
            throw XPCError(.oversized, "\(bytes.count) bytes, limit \(XPCLimits.messageMax)")
        }
        let len = UInt32(XPCAttribute.read(bytes, at: 0, 4))
        guard Int(len) == bytes.count else {
            throw XPCError(.badLength, "header says \(len), received \(bytes.count)")
        }
        let op = XPCOp(rawValue: UInt16(XPCAttribute.read(bytes, at: 4, 2)))
        guard op.isKnown else { throw XPCError(.unknownOp, "\(op.rawValue)") }
        let flags = XPCFlags(rawValue: UInt16(XPCAttribute.read(bytes, at: 6, 2)))
        guard XPCFlags.all.isSuperset(of: flags) else {
            throw XPCError(.badFlags, "0x\(String(flags.rawValue, radix: 16))")
        }
        let kinds = flags.intersection([.request, .reply, .notify])
        guard kinds == .request || kinds == .reply || kinds == .notify else {
            throw XPCError(.badFlags, "need exactly one of REQUEST, REPLY, NOTIFY")
        }
        let header = XPCHeader(
            length: len, op: op, flags: flags,
            seq: UInt32(XPCAttribute.read(bytes, at: 8, 4)),
            instance: UInt32(XPCAttribute.read(bytes, at: 12, 4)),
            status: Int32(bitPattern: UInt32(XPCAttribute.read(bytes, at: 16, 4))),
            timeoutMicros: UInt32(XPCAttribute.read(bytes, at: 20, 4)))
        let attrs = try decodeAttributes(bytes[h...], depth: 0)
        return XPCMessage(header: header, attributes: attrs, bytes: bytes)
    }

    private init(header: XPCHeader, attributes: [XPCAttribute], bytes: [UInt8]) {
        self.header = header
        self.attributes = attributes
        self.bytes = bytes
    }

    static func decodeAttributes(_ b: ArraySlice<UInt8>, depth: Int) throws -> [XPCAttribute] {
        var out: [XPCAttribute] = []
        var i = b.startIndex
        while i < b.endIndex {
            guard b.endIndex - i >= 4 else {
                throw XPCError(.truncated, "\(b.endIndex - i) trailing bytes, attribute header needs 4")
            }
            let alen = Int(b[i]) | Int(b[i + 1]) << 8
            let rawType = UInt16(b[i + 2]) | UInt16(b[i + 3]) << 8
            let id = XPCAttributeID(rawValue: rawType & 0x3fff)
            guard alen >= 4 else { throw XPCError(.wrongLength, attribute: id, "attribute length \(alen) < 4") }
            guard alen <= b.endIndex - i else {
                throw XPCError(.truncated, attribute: id, "attribute length \(alen), \(b.endIndex - i) bytes left")
            }
            guard let kind = id.kind else { throw XPCError(.unknownAttribute, attribute: id) }
            let payload = Array(b[(i + 4)..<(i + alen)])
            try validate(id: id, kind: kind, nestedBit: rawType & 0x8000 != 0,
                         payload: payload, depth: depth)
            out.append(XPCAttribute(id, payload: payload))
            // Padded to 4 bytes, the last attribute too: drvnucleus.ko
            // refuses a message without it, so a u-driver's must not get by
            // the daemon, which forwards the bytes unchanged.
            let next = i + ((alen + 3) & ~3)
            guard next <= b.endIndex else {
                throw XPCError(.truncated, attribute: id, "attribute length \(alen) without its padding")
            }
            i = next
        }
        return out
    }

    private static func validate(id: XPCAttributeID, kind: XPCAttributeKind, nestedBit: Bool,
                                 payload p: [UInt8], depth: Int) throws {
        guard nestedBit == (kind == .nested) else {
            throw XPCError(.badNesting, attribute: id, nestedBit ? "nested bit on a plain attribute" : "nested bit missing")
        }
        func exactly(_ n: Int) throws {
            guard p.count == n else {
                throw XPCError(.wrongLength, attribute: id, "\(p.count) bytes, expected \(n)")
            }
        }
        guard p.count <= id.maxLength else {
            throw XPCError(.oversized, attribute: id, "\(p.count) bytes, limit \(id.maxLength)")
        }
        switch kind {
        case .flag: try exactly(0)
        case .u8: try exactly(1)
        case .u16: try exactly(2)
        case .u32, .s32: try exactly(4)
        case .u64: try exactly(8)
        case .mac: try exactly(6)
        case .binary: break
        case .string:
            guard let nul = p.firstIndex(of: 0), nul == p.count - 1 else {
                throw XPCError(.badString, attribute: id, "needs one NUL, at the end")
            }
            guard String(validating: p[..<nul], as: UTF8.self) != nil else {
                throw XPCError(.badString, attribute: id, "not UTF-8")
            }
        case .nested:
            guard depth + 1 < XPCLimits.nestMax else {
                throw XPCError(.badNesting, attribute: id, "deeper than \(XPCLimits.nestMax)")
            }
            _ = try decodeAttributes(p[...], depth: depth + 1)
        }
        if [.u8, .u16, .u32, .u64].contains(kind), let r = id.range {
            let v = XPCAttribute.read(p, p.count)
            guard r.contains(v) else {
                throw XPCError(.outOfRange, attribute: id, "\(v) not in \(r.lowerBound)...\(r.upperBound)")
            }
        }
    }
}

/// A 48-bit Ethernet address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    /// The six bytes, first transmitted first.
    public let bytes: [UInt8]

    /// From six bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }
    /// From `52:54:00:12:34:56`; nil if malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var b: [UInt8] = []
        for p in parts {
            guard p.count == 2, let v = UInt8(p, radix: 16) else { return nil }
            b.append(v)
        }
        self.bytes = b
    }
    /// Lower-case colon form.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }
    /// Group (multicast/broadcast) bit.
    public var isMulticast: Bool { bytes[0] & 1 == 1 }
    public static let broadcast = MACAddress(uncheckedBytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    private init(uncheckedBytes: [UInt8]) { self.bytes = uncheckedBytes }
}

extension MACAddress {
    /// Linux's `ether_crc()`: the bit-reversed little-endian CRC-32 without
    /// final inversion. Its top six bits index the 64-bit multicast hash
    /// filter that RTL8139 (and many NICs) use.
    public var etherCRC: UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0xedb8_8320 : 0) }
        }
        var r: UInt32 = 0
        for i in 0..<32 where crc & (1 << UInt32(i)) != 0 { r |= 1 << UInt32(31 - i) }
        return r
    }
    /// Bit index (0..63) in a 64-bit multicast hash filter.
    public var multicastHashBit: Int { Int(etherCRC >> 26) }
}
