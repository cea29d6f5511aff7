// SPDX-License-Identifier: GPL-2.0

/// An error of the XPC layer: a malformed message, a failed or timed-out call,
/// or a closed channel.
///
/// Shaped like swift-service-lifecycle's `ServiceGroupError`: a stable ``Code``,
/// the place it was raised, an optional attribute it concerns and a message.
/// Equality compares the code only.
public struct XPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, stable across releases; the `name` is the one spelling
    /// used in logs, reports and varlink errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// Short machine-readable name, e.g. `truncated`.
        public let name: String
        private init(_ name: String) { self.name = name }

        /// Fewer bytes than a header or an attribute needs.
        public static let truncated = Code("truncated")
        /// Longer than `DRVXPC_MSG_MAX` or than the attribute's limit.
        public static let oversized = Code("oversized")
        /// The header's length disagrees with the bytes received.
        public static let badLength = Code("bad-length")
        /// An operation number the protocol does not define.
        public static let unknownOp = Code("unknown-op")
        /// Flags outside `DRVXPC_F_ALL`, or not exactly one of request/reply/notify.
        public static let badFlags = Code("bad-flags")
        /// An attribute id the protocol does not define.
        public static let unknownAttribute = Code("unknown-attribute")
        /// A payload whose size does not fit the attribute's kind.
        public static let wrongLength = Code("wrong-length")
        /// An integer outside the attribute's declared range.
        public static let outOfRange = Code("out-of-range")
        /// A string without its NUL, with an inner NUL, or not UTF-8.
        public static let badString = Code("bad-string")
        /// Nesting deeper than `DRVXPC_NEST_MAX`, or the nested bit misused.
        public static let badNesting = Code("bad-nesting")
        /// A required attribute is absent.
        public static let missingAttribute = Code("missing-attribute")
        /// A call passed its deadline.
        public static let timeout = Code("timeout")
        /// The channel is closed.
        public static let closed = Code("closed")
        /// The peer answered with a negative status.
        public static let remote = Code("remote")
        /// A system call on the channel failed.
        public static let system = Code("system")

        public var description: String { name }
    }

    /// What went wrong.
    public let code: Code
    /// The attribute the error concerns, if any.
    public let attribute: XPCAttributeID?
    /// For ``Code/remote`` and ``Code/system``: the errno (positive).
    public let errno: Int32
    /// Extra words for a person.
    public let message: String?
    /// Where the error was raised.
    public let file: String
    /// Where the error was raised.
    public let line: Int

    /// Makes an error; `file` and `line` default to the caller's.
    public init(_ code: Code, attribute: XPCAttributeID? = nil, errno: Int32 = 0,
                _ message: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.attribute = attribute
        self.errno = errno
        self.message = message
        self.file = file
        self.line = line
    }

    public static func == (a: XPCError, b: XPCError) -> Bool { a.code == b.code }

    /// One readable line, e.g. `wrong-length: PCM_RATE: 3 bytes, expected 4`.
    public var description: String {
        var s = code.name
        if let attribute { s += ": \(attribute.name)" }
        if errno != 0 { s += ": \(XPCError.errnoName(errno))" }
        if let message { s += ": \(message)" }
        return s
    }

    /// `strerror`-like text for the errnos the protocol uses.
    public static func errnoName(_ e: Int32) -> String {
        switch e {
        case 1: return "EPERM"
        case 2: return "ENOENT"
        case 5: return "EIO"
        case 11: return "EAGAIN"
        case 12: return "ENOMEM"
        case 13: return "EACCES"
        case 16: return "EBUSY"
        case 19: return "ENODEV"
        case 22: return "EINVAL"
        case 34: return "ERANGE"
        case 71: return "EPROTO"
        case 95: return "EOPNOTSUPP"
        case 110: return "ETIMEDOUT"
        default: return "errno \(e)"
        }
    }
}
