// SPDX-License-Identifier: GPL-2.0
import XPC

/// The daemon's check of a u-driver's downcall before it reaches the
/// nucleus: the op must be a downcall, addressed to the driver's own
/// instance, without a CALL_ID, every register access inside the BAR and aligned, every DMA
/// handle one this instance owns. The nucleus checks again.
struct DowncallPolicy: Sendable {
    let instance: UInt32
    let barSize: UInt32

    /// Why the message is refused: the attribute at fault and words; nil = allowed.
    struct Refusal: Error, Sendable, Equatable {
        let errno: Int32
        let attribute: XPCAttributeID?
        let message: String
    }

    func check(_ m: XPCMessage, ownedDMA: Set<UInt32>) -> Refusal? {
        guard m.op.isDowncall else {
            return Refusal(errno: 1, attribute: nil, message: "\(m.op.name) is not a downcall")
        }
        guard m.instance == instance else {
            return Refusal(errno: 1, attribute: nil, message: "instance \(m.instance) is not this driver's (\(instance))")
        }
        // The daemon names the call to the nucleus; a u-driver naming it
        // could be answered with another call's reply.
        if m.has(.callID) {
            return Refusal(errno: 22, attribute: .callID, message: "CALL_ID is drivermgrd's to set")
        }
        switch m.op {
        case .regRead, .regWrite:
            return register(m.attributes)
        case .regWriteDMA:
            if let r = register(m.attributes) { return r }
            return dma(m.attribute(.dmaHandle), ownedDMA)
        case .dmaFree:
            return dma(m.attribute(.dmaHandle), ownedDMA)
        case .netRegister:
            guard let mac = m.attribute(.mac).flatMap({ MACAddress(bytes: $0.payload) }) else {
                return Refusal(errno: 22, attribute: .mac, message: "NET_REGISTER without a MAC")
            }
            if mac.isMulticast || mac.bytes == [0, 0, 0, 0, 0, 0] {
                return Refusal(errno: 22, attribute: .mac, message: "MAC \(mac) is not a unicast address")
            }
            return nil
        case .regSeq:
            let ops: [RegisterOp]
            do { ops = try RegisterSequence.decode(m) } catch let e as XPCError {
                return Refusal(errno: e.code == .oversized ? 7 : 22, attribute: e.attribute ?? .regSeq, message: e.description)
            } catch { return Refusal(errno: 22, attribute: .regSeq, message: "\(error)") }
            let packed = m.attribute(.regSteps) != nil
            for op in ops where op.kind != RegisterOp.delay {
                if let r = register(offset: op.offset, width: UInt32(op.width), packed ? .regSteps : nil) { return r }
            }
            return nil
        default:
            return nil
        }
    }

    private func register(_ a: [XPCAttribute]) -> Refusal? {
        guard let off = a.first(where: { $0.id == .regOffset })?.u32 else {
            return Refusal(errno: 22, attribute: .regOffset, message: "missing REG_OFFSET")
        }
        return register(offset: off, width: UInt32(a.first { $0.id == .regWidth }?.u8 ?? 4), nil)
    }

    /// Width, BAR bounds and alignment of one access; errors name
    /// `attribute` (REG_STEPS for a packed step) or REG_OFFSET/REG_WIDTH.
    private func register(offset off: UInt32, width w: UInt32, _ attribute: XPCAttributeID?) -> Refusal? {
        guard w == 1 || w == 2 || w == 4 else {
            return Refusal(errno: 22, attribute: attribute ?? .regWidth, message: "width \(w): 1, 2 or 4")
        }
        guard UInt64(off) + UInt64(w) <= UInt64(barSize) else {
            return Refusal(errno: 13, attribute: attribute ?? .regOffset,
                           message: "register 0x\(String(off, radix: 16)) (+\(w)) outside the \(barSize)-byte BAR")
        }
        guard off % w == 0 else {
            return Refusal(errno: 22, attribute: attribute ?? .regOffset, message: "unaligned \(w)-byte access at 0x\(String(off, radix: 16))")
        }
        return nil
    }

    private func dma(_ a: XPCAttribute?, _ owned: Set<UInt32>) -> Refusal? {
        guard let h = a?.u32 else { return Refusal(errno: 22, attribute: .dmaHandle, message: "missing DMA_HANDLE") }
        guard owned.contains(h) else {
            return Refusal(errno: 13, attribute: .dmaHandle, message: "DMA handle \(h) is not owned by this driver")
        }
        return nil
    }
}

/// How fast a u-driver may send downcalls before it counts as a flood (a
/// `protocol` failure): at most ``maxInFlight`` waiting at the nucleus, and
/// at most ``maxPerWindow`` within ``windowNanos``. A driver's whole probe
/// is a few hundred downcalls (the e1000's EEPROM is the largest); its data
/// path is in the kernel, so a legitimate driver stays far below both.
struct DowncallRate: Sendable {
    static let maxInFlight = 512
    static let maxPerWindow = 1024
    static let windowNanos: UInt64 = 100_000_000

    private(set) var inFlight = 0
    private var windowStart: UInt64 = 0
    private var inWindow = 0

    /// One more downcall at `now` (CLOCK_MONOTONIC ns): why it is a flood,
    /// or nil.
    mutating func admit(now: UInt64) -> String? {
        if now &- windowStart >= Self.windowNanos {
            windowStart = now
            inWindow = 0
        }
        inWindow += 1
        inFlight += 1
        if inFlight > Self.maxInFlight {
            return "flood: more than \(Self.maxInFlight) downcalls waiting at the nucleus"
        }
        if inWindow > Self.maxPerWindow {
            return "flood: more than \(Self.maxPerWindow) downcalls within \(Self.windowNanos / 1_000_000) ms"
        }
        return nil
    }

    /// A downcall was answered.
    mutating func done() { inFlight = max(0, inFlight - 1) }

    /// The downcalls at the nucleus whose op the wire header declares slow
    /// (``XPCOp/downcallDeadline`` past ``XPCLimits/downcallDeadline``: a
    /// PS/2 reset), and the latest of their deadlines.
    private(set) var slowInFlight = 0
    private var slowUntil: UInt64 = 0

    /// A slow downcall forwarded, to be answered by `until` at the latest.
    mutating func slowBegun(until: UInt64) {
        slowInFlight += 1
        slowUntil = max(slowUntil, until)
    }

    /// A slow downcall answered (or out of time).
    mutating func slowDone() {
        slowInFlight = max(0, slowInFlight - 1)
        if slowInFlight == 0 { slowUntil = 0 }
    }

    /// Until when the u-driver awaits a slow downcall, if it does: an
    /// upcall it serves cannot be answered sooner
    /// (``PendingCalls/expire(now:peerWait:readerBusy:peerAwaits:)``).
    var awaitingSlowUntil: UInt64? { slowInFlight > 0 ? slowUntil : nil }
}
