// SPDX-License-Identifier: GPL-2.0

/// An error starting or watching a u-driver.
public struct SupervisorError: Error, Sendable, CustomStringConvertible {
    /// Stable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ n: String) { name = n }
        /// The executable could not be started (errno in `errno`).
        public static let spawnFailed = Code("spawn-failed")
        /// The u-driver did not complete HELLO/PROBE.
        public static let handshakeFailed = Code("handshake-failed")
        public var description: String { name }
    }
    public let code: Code
    public let errno: Int32
    public let message: String
    public let file: String
    public let line: Int

    public init(_ code: Code, errno: Int32 = 0, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.errno = errno
        self.message = message
        self.file = file
        self.line = line
    }
    public var description: String { "\(code): \(message)" }
}
