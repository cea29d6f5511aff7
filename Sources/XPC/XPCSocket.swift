// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What carries XPC messages for an ``XPCConnection``: one message per
/// send/receive, whatever the framing underneath (a seqpacket socket, a
/// generic netlink socket).
public protocol XPCTransport: Sendable {
    /// A descriptor that polls readable when ``receive()`` has something.
    var fd: Int32 { get }
    /// Sends one message. Throws ``XPCError/Code/closed`` if the peer is gone.
    func send(_ bytes: [UInt8]) throws
    /// Receives one message; nil at end of stream.
    func receive() throws -> [UInt8]?
    /// Stops both directions; a blocked reader returns end of stream.
    func shutdown()
}

/// A connected unix `SOCK_SEQPACKET` socket carrying one XPC message per packet.
///
/// Sending is safe from any thread (each packet is atomic). Receiving is
/// done by one reader, normally an ``XPCConnection``.
public final class XPCSocket: XPCTransport {
    /// The descriptor; owned by this object and closed on deinit.
    public let fd: Int32
    /// Reused for every receive (one reader at a time), so a message costs
    /// no 64 KiB allocation. Allocated, not filled: only the pages the
    /// messages reach become resident. A zero-filled one was 64 KiB of
    /// memory per channel, a quarter of drivermgrd's at 1,000 drivers
    /// (each one's u-driver and standby).
    private let buffer = Mutex(ReceiveBuffer())

    private struct ReceiveBuffer: @unchecked Sendable {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: XPCLimits.messageMax + 1, alignment: 8)
    }

    /// Whether ``send(_:)`` refuses to wait for room (see ``init(adopting:sendsWithoutWaiting:)``).
    public let sendsWithoutWaiting: Bool

    /// Adopts `fd`; it is closed when this object goes away.
    ///
    /// `sendsWithoutWaiting`: a send that finds the peer's queue full fails
    /// at once (``XPCError/Code/system``, EAGAIN) instead of waiting until
    /// the peer reads. drivermgrd's end of a u-driver's channel is so: a
    /// u-driver that stops reading (stopped, wedged, or flooding from the
    /// thread that reads) must not block the daemon's thread that answers
    /// it, which for downcall replies is the one that serves every
    /// driver's nucleus traffic; the failed call is the driver's failure.
    public init(adopting fd: Int32, sendsWithoutWaiting: Bool = false) {
        self.fd = fd
        self.sendsWithoutWaiting = sendsWithoutWaiting
    }

    deinit {
        Glibc.close(fd)
        buffer.withLock { $0.bytes.deallocate() }
    }

    /// A connected pair (close-on-exec), e.g. daemon end + u-driver end.
    /// `firstSendsWithoutWaiting`: the first end's sends never wait.
    public static func pair(firstSendsWithoutWaiting: Bool = false) throws -> (XPCSocket, XPCSocket) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, drv_sock_seqpacket | drv_sock_cloexec, 0, &fds) == 0 else {
            throw XPCError(.system, errno: errno, "socketpair")
        }
        return (XPCSocket(adopting: fds[0], sendsWithoutWaiting: firstSendsWithoutWaiting), XPCSocket(adopting: fds[1]))
    }

    /// Connects to a listening seqpacket socket at `path`.
    public static func connect(path: String) throws -> XPCSocket {
        let fd = socket(AF_UNIX, drv_sock_seqpacket | drv_sock_cloexec, 0)
        guard fd >= 0 else { throw XPCError(.system, errno: errno, "socket") }
        let s = XPCSocket(adopting: fd)
        var addr = try UnixAddress(path)
        let r = addr.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard r == 0 else { throw XPCError(.system, errno: errno, "connect \(path)") }
        return s
    }

    /// Sends one message. Throws ``XPCError/Code/closed`` if the peer is gone.
    public func send(_ bytes: [UInt8]) throws {
        let flags = drv_msg_nosignal | (sendsWithoutWaiting ? drv_msg_dontwait : 0)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, flags) }
        if n < 0 {
            let e = errno
            if e == EPIPE || e == ECONNRESET || e == ENOTCONN { throw XPCError(.closed, errno: e) }
            if e == EAGAIN { throw XPCError(.system, errno: e, "send: the peer is not reading its channel") }
            throw XPCError(.system, errno: e, "send")
        }
    }

    /// Receives one packet; nil at end of stream. A packet larger than the
    /// protocol's limit is reported as ``XPCError/Code/oversized``, not cut.
    public func receive() throws -> [UInt8]? {
        try buffer.withLock { buf in try receive(into: buf.bytes) }
    }

    private func receive(into buf: UnsafeMutableRawBufferPointer) throws -> [UInt8]? {
        while true {
            let n = recv(fd, buf.baseAddress, buf.count, drv_msg_trunc)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return nil }
                throw XPCError(.system, errno: errno, "recv")
            }
            if n == 0 { return nil }
            if n > XPCLimits.messageMax { throw XPCError(.oversized, "\(n) byte packet") }
            return Array(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }

    /// Stops both directions; a blocked reader returns end of stream.
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}

/// A listening unix seqpacket socket (nucleus-sim's side).
public final class XPCListener: Sendable {
    /// The listening descriptor.
    public let fd: Int32
    /// The filesystem path bound.
    public let path: String

    /// Binds `path` (removing a stale socket first) and listens.
    public init(path: String, mode: mode_t = 0o600) throws {
        self.fd = try listenUnix(path: path, type: drv_sock_seqpacket, mode: mode, backlog: 16)
        self.path = path
    }

    deinit { Glibc.close(fd) }

    /// Blocks until a peer connects; nil once the listener is shut down.
    public func accept() -> XPCSocket? {
        while true {
            let c = drv_accept_cloexec(fd)
            if c >= 0 { return XPCSocket(adopting: c) }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    /// Wakes a blocked ``accept()``.
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}

/// A listening Unix socket of `type` (`drv_sock_stream`,
/// `drv_sock_seqpacket`) at `path`, close-on-exec, a stale socket there
/// removed first. `owner` (when given) and `mode` are set between bind
/// and listen, so nobody connects before they hold; not through umask,
/// which is the whole process's. Errors name the step and the path; a
/// socket left half made is closed and unlinked.
public func listenUnix(path: String, type: Int32, mode: mode_t, owner: (uid: uid_t, gid: gid_t)? = nil,
                       backlog: Int32) throws -> Int32 {
    var addr = try UnixAddress(path)
    unlink(path)
    let fd = socket(AF_UNIX, type | drv_sock_cloexec, 0)
    guard fd >= 0 else { throw XPCError(.system, errno: errno, "socket for \(path)") }
    func fail(_ step: String) -> XPCError {
        let e = errno
        Glibc.close(fd)
        unlink(path)
        return XPCError(.system, errno: e, "\(step) \(path)")
    }
    guard addr.withSockaddr({ bind(fd, $0, $1) }) == 0 else { throw fail("bind") }
    if let owner, chown(path, owner.uid, owner.gid) != 0 { throw fail("chown") }
    guard chmod(path, mode) == 0 else { throw fail("chmod") }
    guard listen(fd, backlog) == 0 else { throw fail("listen") }
    return fd
}

/// A `sockaddr_un` for a path, checked for length.
public struct UnixAddress {
    var storage = sockaddr_un()

    /// Fails with ``XPCError/Code/oversized`` if the path does not fit.
    public init(_ path: String) throws {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let cap = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count < cap else { throw XPCError(.oversized, "socket path longer than \(cap - 1) bytes: \(path)") }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
    }

    /// Calls `body` with the address and its length.
    public mutating func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let len = socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, len) }
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the clock every deadline uses (the kernel
/// nucleus uses the same clock).
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
