// SPDX-License-Identifier: GPL-2.0
import DeviceClasses
import XPC

/// What a u-driver's reply must satisfy beyond decoding: the op it answers,
/// a status of 0 or a negative errno, and the values its class allows (the
/// class descriptor's part). A violation is a `bad-parameter` failure.
enum ReplyContract {
    static func violation(request m: XPCMessage, reply r: XPCMessage, of cls: DeviceClassDescriptor) -> ReplyViolation? {
        guard r.op == m.op else { return ReplyViolation("reply to \(m.op.name) carries op \(r.op.name)") }
        guard r.status <= 0, r.status >= -4095 else { return ReplyViolation("status \(r.status) is neither 0 nor a negative errno") }
        guard r.status == 0 else { return nil }
        return cls.replyViolation(m, r)
    }

    /// Errnos that say the request, or the driver's own work on it, went
    /// wrong, not the moment: a class operation's arguments were checked
    /// by its class, so a u-driver that answers one of these to them has
    /// broken checks or lost its way with the chip (ETIMEDOUT: a register
    /// poll that never ended), which a fresh u-driver re-probes. EAGAIN,
    /// EBUSY, ENODEV, ENETDOWN, EOPNOTSUPP and the like say the driver
    /// cannot now, and stand.
    /// EBADRQC is a u-driver's "not an upcall of my class", which a class
    /// operation's op never is.
    static let argumentErrnos: Set<Int32> = [0, 2 /* ENOENT */, 5 /* EIO */, 22 /* EINVAL */, 34 /* ERANGE */,
                                             56 /* EBADRQC */, 61 /* ENODATA */, 71 /* EPROTO */, 74 /* EBADMSG */,
                                             75 /* EOVERFLOW */, 110 /* ETIMEDOUT */]

    /// Whether `r` refuses, with an errno of ``argumentErrnos``, a class
    /// operation's request whose arguments its class validated.
    static func refusesValidated(request m: XPCMessage, reply r: XPCMessage) -> Bool {
        guard r.status != 0, let e = r.remoteError else { return false }
        return argumentErrnos.contains(e.errno)
    }

    /// A u-driver answered EPROTO ("your request does not decode") to a
    /// request that decodes here with the same codec and attribute table:
    /// its decoding is broken (a corrupted process), not the request.
    static func misread(request m: XPCMessage, reply r: XPCMessage) -> Bool {
        guard r.status == -71 else { return false }
        return (try? XPCMessage.decode(m.bytes)) != nil
    }
}
