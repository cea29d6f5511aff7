// SPDX-License-Identifier: GPL-2.0
import Foundation

/// A varlink call: `{"method": …, "parameters": {…}, "more": true?,
/// "oneway": true?, "upgrade": true?}`.
public struct VarlinkCall: Codable, Sendable {
    public var method: String
    public var parameters: [String: JSONValue]?
    /// The caller takes a stream of replies (`continues: true` on all but the last).
    public var more: Bool?
    /// The caller wants no reply at all.
    public var oneway: Bool?
    /// The caller would switch the connection to another protocol (not served here).
    public var upgrade: Bool?
    public init(method: String, parameters: [String: JSONValue]? = nil, more: Bool? = nil, oneway: Bool? = nil) {
        self.method = method
        self.parameters = parameters
        self.more = more
        self.oneway = oneway
    }
}

/// A varlink reply: parameters, or an error name with parameters;
/// `continues` while a `more` call streams.
public struct VarlinkReply: Codable, Sendable {
    public var parameters: [String: JSONValue]?
    public var error: String?
    public var continues: Bool?
    public init(parameters: [String: JSONValue]? = nil, error: String? = nil, continues: Bool? = nil) {
        self.parameters = parameters
        self.error = error
        self.continues = continues
    }
}

/// A reply whose parameters are a method's own reply type.
struct TypedReply<P: Encodable>: Encodable {
    let parameters: P
}

/// Any JSON value, so parameters can be checked field by field before they
/// are decoded into a method's type.
///
/// Integers stay integers: a number written without a fraction or an
/// exponent that fits 64 bits is ``int`` (or ``uint`` above `Int64.max`),
/// exact, and is written back the same; only other numbers are ``double``.
public enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), int(Int64), uint(UInt64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    /// An unsigned value as the integer case it belongs in (``int`` up to `Int64.max`).
    public static func integer<I: BinaryInteger>(_ v: I) -> JSONValue {
        if let i = Int64(exactly: v) { return .int(i) }
        if let u = UInt64(exactly: v) { return .uint(u) }
        return .double(Double(v))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .uint(u) }
        else if let n = try? c.decode(Double.self) { self = .double(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let n): try c.encode(n)
        case .uint(let n): try c.encode(n)
        case .double(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The value as an unsigned integer, if it is a whole number in range.
    public var unsignedValue: UInt64? {
        switch self {
        case .int(let i): return UInt64(exactly: i)
        case .uint(let u): return u
        case .double(let d): return d.rounded() == d ? UInt64(exactly: d) : nil
        default: return nil
        }
    }
}

/// Converts between Codable values and JSONValue dictionaries.
public enum VarlinkCodec {
    /// `value` as a parameters object.
    public static func parameters<T: Encodable>(_ value: T) throws -> [String: JSONValue] {
        let data = try JSONEncoder().encode(value)
        return try JSONDecoder().decode([String: JSONValue].self, from: data)
    }
    /// Decodes parameters into `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from params: [String: JSONValue]) throws -> T {
        try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(params))
    }
    /// A reply carrying `parameters` as its own JSON, framed: what
    /// `frame(VarlinkReply(parameters: parameters(p)))` gives, encoded once.
    public static func frameReply<P: Encodable>(_ parameters: P) throws -> [UInt8] {
        try frame(TypedReply(parameters: parameters))
    }
    /// One framed message: JSON then NUL.
    public static func frame<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return Array(try e.encode(value)) + [0]
    }
}

/// The receiving side of the framing: bytes in as they arrive, whole
/// messages (without their NUL) out.
public struct VarlinkFramer: Sendable {
    /// Most bytes held while waiting for a NUL; no client needs a megabyte.
    public static let bufferMax = 1 << 20
    private var buffer: [UInt8] = []

    public init() {}

    /// Appends received bytes; false once the unanswered bytes reach
    /// ``bufferMax`` (the connection is then dropped).
    public mutating func append<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        buffer += bytes
        return buffer.count < Self.bufferMax
    }

    /// The next whole message, or nil until its NUL has arrived.
    public mutating func next() -> [UInt8]? {
        guard let nul = buffer.firstIndex(of: 0) else { return nil }
        let message = Array(buffer[..<nul])
        buffer.removeFirst(nul + 1)
        return message
    }

    /// Bytes received after the last whole message.
    public var pending: Int { buffer.count }
}

extension VarlinkCall {
    /// A message as a call, or nil if it is not one.
    public init?(message: [UInt8]) {
        guard let call = try? JSONDecoder().decode(VarlinkCall.self, from: Data(message)) else { return nil }
        self = call
    }
}

/// A call's parameters read by type, once the interface definition's check
/// (``VarlinkInterface/check(_:against:)``) has passed them.
public enum VarlinkParameters {
    /// A parameter that is missing, unexpected or of the wrong type.
    public struct Invalid: Error, Equatable, Sendable {
        public let parameter: String
        public let message: String
    }

    /// The string parameter `k`.
    public static func string(_ p: [String: JSONValue], _ k: String) throws(Invalid) -> String {
        guard let v = p[k] else { throw Invalid(parameter: k, message: "missing") }
        guard case .string(let s) = v else { throw Invalid(parameter: k, message: "expected a string") }
        return s
    }

    /// The optional string parameter `k` (absent or null: nil, as Varlink's
    /// `?string`).
    public static func optionalString(_ p: [String: JSONValue], _ k: String) throws(Invalid) -> String? {
        guard let v = p[k], v != .null else { return nil }
        guard case .string(let s) = v else { throw Invalid(parameter: k, message: "expected a string") }
        return s
    }

    /// The optional integer parameter `k` (absent or null: nil, as
    /// Varlink's `?int`); a value out of Int's range is invalid.
    public static func optionalInt(_ p: [String: JSONValue], _ k: String) throws(Invalid) -> Int? {
        guard let v = p[k], v != .null else { return nil }
        switch v {
        case .int(let i): if let n = Int(exactly: i) { return n }
        case .uint(let u): if let n = Int(exactly: u) { return n }
        case .double(let d): if let n = Int(exactly: d) { return n }
        default: throw Invalid(parameter: k, message: "expected an integer")
        }
        throw Invalid(parameter: k, message: "out of range")
    }

    /// The optional string-array parameter `k` (absent or null: nil, as
    /// Varlink's `?[]string`).
    public static func strings(_ p: [String: JSONValue], _ k: String) throws(Invalid) -> [String]? {
        guard let v = p[k], v != .null else { return nil }
        guard case .array(let a) = v else { throw Invalid(parameter: k, message: "expected an array of strings") }
        var out: [String] = []
        for e in a {
            guard case .string(let s) = e else { throw Invalid(parameter: k, message: "expected an array of strings") }
            out.append(s)
        }
        return out
    }
}
