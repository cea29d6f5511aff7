// SPDX-License-Identifier: GPL-2.0
import XPC

/// The answers to the last upcalls this u-driver served, by the nucleus's
/// UPCALL_ID: when drivermgrd dies between passing an upcall on and passing
/// its answer back, the nucleus sends the upcall again to the next daemon,
/// which passes it on to this same process (it survived the daemon); the
/// runtime answers it from here instead of acting twice.
///
/// A ring of the last ``capacity`` answers: more than a daemon can leave
/// unanswered (the nucleus keeps at most 256 asynchronous upcalls, and a
/// u-driver serves one upcall at a time).
struct ServedUpcalls {
    static let capacity = 512
    private var answers: [UInt32: XPCMessage] = [:]
    private var ring: [UInt32] = []
    private var next = 0

    /// The answer given to upcall `id`, if it was served and is still kept.
    func reply(to id: UInt32) -> XPCMessage? { answers[id] }

    /// Keeps `reply` as upcall `id`'s answer, forgetting the oldest.
    mutating func keep(_ reply: XPCMessage, for id: UInt32) {
        if answers.updateValue(reply, forKey: id) != nil { return }
        if ring.count < Self.capacity {
            ring.append(id)
            return
        }
        answers.removeValue(forKey: ring[next])
        ring[next] = id
        next = (next + 1) % Self.capacity
    }

    /// How many answers are kept.
    var count: Int { answers.count }
}
