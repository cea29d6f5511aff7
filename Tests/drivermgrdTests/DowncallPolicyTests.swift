// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import drivermgrd

@Suite struct DowncallPolicyTests {
    let policy = DowncallPolicy(instance: 2, barSize: 0x100)

    func msg(_ op: XPCOp, instance: UInt32 = 2, _ a: [XPCAttribute]) -> XPCMessage {
        XPCMessage(op: op, flags: .request, instance: instance, attributes: a)
    }

    @Test func registerAccessInsideTheBARPasses() {
        #expect(policy.check(msg(.regRead, [.u32(.regOffset, 0xfc), .u8(.regWidth, 4)]), ownedDMA: []) == nil)
        #expect(policy.check(msg(.regWrite, [.u32(.regOffset, 0xff), .u8(.regWidth, 1), .u32(.regValue, 1)]), ownedDMA: []) == nil)
    }

    @Test func outsideTheBARIsRefusedNamingTheOffset() {
        let r = policy.check(msg(.regRead, [.u32(.regOffset, 0xfe), .u8(.regWidth, 4)]), ownedDMA: [])
        #expect(r?.errno == 13 && r?.attribute == .regOffset)
        #expect(r?.message == "register 0xfe (+4) outside the 256-byte BAR")
        #expect(policy.check(msg(.regRead, [.u32(.regOffset, 0xffff_fffe), .u8(.regWidth, 4)]), ownedDMA: [])?.errno == 13,
                "no wrap-around")
        #expect(policy.check(msg(.regRead, [.u32(.regOffset, 0x41), .u8(.regWidth, 2)]), ownedDMA: [])?.attribute == .regOffset)
        #expect(policy.check(msg(.regRead, [.u8(.regWidth, 2)]), ownedDMA: [])?.attribute == .regOffset)
    }

    @Test func aSequenceIsCheckedStepByStep() {
        let ok: XPCAttribute = .nested(.regOp, [.u8(.regOpKind, 1), .u32(.regOffset, 0x10), .u8(.regWidth, 4)])
        let delay: XPCAttribute = .nested(.regOp, [.u8(.regOpKind, 4), .u32(.delayMicros, 10)])
        let bad: XPCAttribute = .nested(.regOp, [.u8(.regOpKind, 2), .u32(.regOffset, 0x200), .u8(.regWidth, 4), .u32(.regValue, 0)])
        #expect(policy.check(msg(.regSeq, [.nested(.regSeq, [ok, delay, ok])]), ownedDMA: []) == nil)
        #expect(policy.check(msg(.regSeq, [.nested(.regSeq, [ok, bad])]), ownedDMA: [])?.attribute == .regOffset)
    }

    /// The packed form the u-drivers send is checked step by step too, and
    /// a refusal names REG_STEPS.
    @Test func aPackedSequenceIsCheckedStepByStep() {
        let ok = RegisterOp(kind: RegisterOp.read, offset: 0x10, width: 4)
        let poll = RegisterOp(kind: RegisterOp.poll, offset: 0xfc, width: 4, value: 0, mask: 1)
        let delay = RegisterOp(kind: RegisterOp.delay, value: 10)
        #expect(policy.check(msg(.regSeq, [.binary(.regSteps, RegisterSequence.packed([ok, poll, delay, ok]))]),
                             ownedDMA: []) == nil)
        let outside = RegisterOp(kind: RegisterOp.write, offset: 0x100, width: 1, value: 0)
        let r = policy.check(msg(.regSeq, [.binary(.regSteps, RegisterSequence.packed([ok, outside]))]), ownedDMA: [])
        #expect(r?.errno == 13 && r?.attribute == .regSteps)
        let unaligned = RegisterOp(kind: RegisterOp.read, offset: 0x11, width: 4)
        #expect(policy.check(msg(.regSeq, [.binary(.regSteps, RegisterSequence.packed([unaligned]))]), ownedDMA: [])?.errno == 22)
        #expect(policy.check(msg(.regSeq, [.binary(.regSteps, [3, 4, 0, 0, 0, 0, 0, 0])]), ownedDMA: [])?.attribute == .regSteps,
                "a POLL without its mask slot")
    }

    @Test func aCallIDFromTheUDriverIsRefused() {
        let r = policy.check(msg(.regRead, [.u32(.regOffset, 0), .u8(.regWidth, 4), .u64(.callID, 7)]), ownedDMA: [])
        #expect(r?.attribute == .callID && r?.errno == 22)
    }

    @Test func foreignDMAHandlesAreRefused() {
        let w = msg(.regWriteDMA, [.u32(.regOffset, 0x30), .u8(.regWidth, 4), .u32(.dmaHandle, 7)])
        #expect(policy.check(w, ownedDMA: [7]) == nil)
        let r = policy.check(w, ownedDMA: [6])
        #expect(r?.attribute == .dmaHandle && r?.errno == 13)
        #expect(policy.check(msg(.dmaFree, [.u32(.dmaHandle, 9)]), ownedDMA: [7])?.attribute == .dmaHandle)
    }

    @Test func onlyDowncallsForTheOwnInstance() {
        #expect(policy.check(msg(.regRead, instance: 1, [.u32(.regOffset, 0)]), ownedDMA: [])?.errno == 1)
        #expect(policy.check(msg(.sndMixerPut, [.u16(.mixerControl, 1)]), ownedDMA: [])?.errno == 1)
        #expect(policy.check(msg(.register, []), ownedDMA: [])?.errno == 1)
    }
}

@Suite struct DowncallRateTests {
    @Test func aBurstAboveTheWindowIsAFlood() {
        var r = DowncallRate()
        var why: String?
        for i in 0..<DowncallRate.maxPerWindow {
            why = r.admit(now: 1_000 + UInt64(i))
            r.done()
            #expect(why == nil)
        }
        why = r.admit(now: 2_000)
        #expect(why?.contains("within 100 ms") == true)
    }

    @Test func theSameCountSpreadOverWindowsIsNot() {
        var r = DowncallRate()
        for i in 0..<(3 * DowncallRate.maxPerWindow) {
            let now = UInt64(i) * (DowncallRate.windowNanos / UInt64(DowncallRate.maxPerWindow / 2))
            #expect(r.admit(now: now) == nil)
            r.done()
        }
    }

    @Test func tooManyWaitingAtTheNucleusIsAFlood() {
        var r = DowncallRate()
        for i in 0..<DowncallRate.maxInFlight {
            #expect(r.admit(now: UInt64(i) * DowncallRate.windowNanos) == nil)
        }
        #expect(r.admit(now: UInt64(DowncallRate.maxInFlight) * DowncallRate.windowNanos)?.contains("waiting") == true)
        r.done()
        r.done()
        #expect(r.inFlight == DowncallRate.maxInFlight - 1)
    }
}

@Suite struct ReplyMisreadTests {
    @Test func eprotoToAWellFormedRequestIsTheDriversFault() {
        let m = XPCMessage(op: .netSetRxMode, flags: .request, seq: 3, instance: 1,
                           attributes: [.u32(.rxFlags, 1), .nested(.mcList, [])])
        #expect(ReplyContract.misread(request: m, reply: .errorReply(to: m, errno: 71, attribute: .rxFlags, message: "wrong-length")))
        #expect(!ReplyContract.misread(request: m, reply: .errorReply(to: m, errno: 22, message: "no such mode")),
                "EINVAL is the driver's answer about the content")
        #expect(!ReplyContract.misread(request: m, reply: .reply(to: m)))
    }

    /// A class operation's arguments were checked by its class: an answer
    /// calling them wrong is the u-driver's fault; one saying "not now"
    /// (EAGAIN, EBUSY, ENETDOWN, EOPNOTSUPP) is not.
    @Test func aRefusalOfValidatedArgumentsIsOneThatCallsThemWrong() {
        let m = XPCMessage(op: .sndMixerPut, flags: .request, seq: 4, instance: 1,
                           attributes: [.u16(.mixerControl, 0), .u32(.mixerValue, 47)])
        for e: Int32 in [22, 34, 2, 5, 56, 71, 74, 61, 110] {
            #expect(ReplyContract.refusesValidated(request: m, reply: .errorReply(to: m, errno: e, message: "47 outside 0...1")), "errno \(e)")
        }
        for e: Int32 in [11, 16, 100, 95, 19, 1] {
            #expect(!ReplyContract.refusesValidated(request: m, reply: .errorReply(to: m, errno: e, message: "busy")), "errno \(e)")
        }
        #expect(!ReplyContract.refusesValidated(request: m, reply: .reply(to: m)))
    }
}
