// SPDX-License-Identifier: GPL-2.0
import XPC

/// The replies to one device's last downcalls, by the CALL_ID drivermgrd
/// gives each (the u-driver's pid and its seq), as drvnucleus.ko keeps
/// them (`struct drvnucleus_answer`). A daemon killed after the nucleus
/// answered and before it passed the answer on loses it; the u-driver
/// sends the call again through the next daemon under the same id, and it
/// is answered from here instead of running twice.
///
/// A ring of ``XPCLimits/answersKept``, under the nucleus lock.
struct AnsweredDowncalls {
    private struct Answer {
        let id: UInt64
        let op: XPCOp
        let reply: XPCMessage
    }
    private var ring: [Answer] = []
    private var next = 0

    /// The reply kept for `id` as an answer to `op`, under `seq`; nil if
    /// none is kept (the call is run).
    func reply(to id: UInt64, op: XPCOp, seq: UInt32) -> XPCMessage? {
        ring.last { $0.id == id && $0.op == op }.map { $0.reply.withSeq(seq) }
    }

    /// Keeps `reply` as the answer to call `id`, forgetting the oldest.
    mutating func keep(_ reply: XPCMessage, for id: UInt64) {
        let a = Answer(id: id, op: reply.op, reply: reply)
        if ring.count < XPCLimits.answersKept {
            ring.append(a)
            return
        }
        ring[next] = a
        next = (next + 1) % XPCLimits.answersKept
    }
}
