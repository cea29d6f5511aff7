// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import CNLGenl
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// XPC over the generic netlink family "drvnucleus" (drvnucleus.ko), with
/// libnl-genl-3: each drvxpc message is the family's user header + its
/// attributes after the genlmsghdr, so the bytes are exactly those the sim
/// transport carries.
///
/// Receiving reads the socket directly (libnl's callback machinery adds
/// nothing here): a datagram may hold several netlink messages, kept in a
/// queue; a netlink-level error (the kernel refused the message before the
/// family saw it) is reported as ``XPCError/Code/remote``.
public final class GenlTransport: XPCTransport, @unchecked Sendable {
    /// The family's numeric id on this kernel.
    public let familyID: Int32
    private let sock: OpaquePointer
    public let fd: Int32
    /// Messages received but not yet handed out; only the reader touches it.
    private let pending = Mutex<[[UInt8]]>([])
    /// The next netlink sequence number. Sends run concurrently: a
    /// genetlink request runs its `doit` in the sender's own system call,
    /// so a lock around `nl_send_auto` would hold every other device's
    /// downcall, and every upcall's answer, behind the slowest one (a PS/2
    /// command waiting for the mouse). With the sequence number set here,
    /// libnl's `nl_complete_msg` writes nothing in the shared `nl_sock`
    /// (its `s_seq_next++` is the one write it would make), and
    /// `sendmsg(2)` on one socket from several threads is the kernel's to
    /// order.
    private let nextSeq = Atomic<UInt32>(1)
    /// Reused for every datagram (one reader at a time).
    private let buffer = Mutex([UInt8](repeating: 0, count: 1 << 17))
    /// genetlink command that carries a drvxpc message (module/nucleus.c).
    static let command: UInt8 = 1

    /// Connects and resolves the family; fails when drvnucleus.ko is not loaded.
    public init() throws {
        guard let s = nl_socket_alloc() else { throw XPCError(.system, "nl_socket_alloc") }
        guard genl_connect(s) == 0 else {
            nl_socket_free(s)
            throw XPCError(.system, "genl_connect")
        }
        let id = genl_ctrl_resolve(s, DRVXPC_GENL_NAME)
        guard id >= 0 else {
            nl_socket_free(s)
            throw XPCError(.closed, "generic netlink family \(DRVXPC_GENL_NAME) not found (is drvnucleus.ko loaded?)")
        }
        _ = nl_socket_set_buffer_size(s, 1 << 20, 1 << 20)
        sock = s
        familyID = id
        fd = nl_socket_get_fd(s)
    }

    deinit { nl_socket_free(sock) }

    /// Whether the kernel nucleus is there (the family resolves).
    public static var available: Bool { (try? GenlTransport()) != nil }

    public func send(_ bytes: [UInt8]) throws {
        guard let msg = nlmsg_alloc() else { throw XPCError(.system, "nlmsg_alloc") }
        defer { nlmsg_free(msg) }
        var seq = nextSeq.add(1, ordering: .relaxed).oldValue
        if seq == UInt32(bitPattern: drv_nl_auto_seq) { seq = nextSeq.add(1, ordering: .relaxed).oldValue }
        guard let user = genlmsg_put(msg, UInt32(bitPattern: drv_nl_auto_port), seq,
                                     familyID, Int32(bytes.count), 0, Self.command, UInt8(DRVXPC_GENL_VERSION)) else {
            throw XPCError(.oversized, "\(bytes.count) bytes do not fit a netlink message")
        }
        bytes.withUnsafeBytes { if let base = $0.baseAddress { user.copyMemory(from: base, byteCount: $0.count) } }
        let r = nl_send_auto(sock, msg)
        guard r >= 0 else { throw XPCError(.closed, "nl_send_auto: \(String(cString: nl_geterror(r)))") }
    }

    public func receive() throws -> [UInt8]? {
        while true {
            if let m = pending.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return m }
            let (n, err, buf): (Int, Int32, [UInt8]) = buffer.withLock { b in
                let n = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                return (n, errno, n > 0 ? Array(b[0..<n]) : [])
            }
            if n < 0 {
                if err == EINTR { continue }
                if err == EBADF || err == ENOTSOCK { return nil }
                throw XPCError(.system, errno: err, "recv on the netlink socket")
            }
            if n == 0 { return nil }
            var off = 0
            var out: [[UInt8]] = []
            var nlError: Int32 = 0
            while off + Int(drv_nlmsg_hdrlen) <= n {
                let len = Int(buf[off]) | Int(buf[off + 1]) << 8 | Int(buf[off + 2]) << 16 | Int(buf[off + 3]) << 24
                let type = Int(buf[off + 4]) | Int(buf[off + 5]) << 8
                guard len >= Int(drv_nlmsg_hdrlen), off + len <= n else { break }
                if type == Int(drv_nlmsg_error), len >= Int(drv_nlmsg_hdrlen) + 4 {
                    let p = off + Int(drv_nlmsg_hdrlen)
                    nlError = Int32(bitPattern: UInt32(buf[p]) | UInt32(buf[p + 1]) << 8 | UInt32(buf[p + 2]) << 16 | UInt32(buf[p + 3]) << 24)
                } else if type == Int(familyID) {
                    let start = off + Int(drv_nlmsg_hdrlen) + Int(drv_genl_hdrlen)
                    if start <= off + len { out.append(Array(buf[start..<(off + len)])) }
                }
                off += (len + 3) & ~3
            }
            if !out.isEmpty { pending.withLock { $0 += out } }
            if nlError < 0 && out.isEmpty {
                throw XPCError(.remote, errno: -nlError, "the kernel refused a message at the netlink level")
            }
        }
    }

    /// Netlink sockets do not shut down; ``XPCConnection/close()`` ends its
    /// reader through its own flag and eventfd.
    public func shutdown() {}
}
