// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
import ShadowDriver

/// A class shadow that remembers which requests reached it, to see what
/// ``Shadow`` passes through.
private struct RecordingShadow: ClassShadow {
    var seen: [XPCOp] = []
    var keptOps: Set<XPCOp> { [.netOpen, .netStop] }
    mutating func record(_ request: XPCMessage, reply: XPCMessage) { seen.append(request.op) }
    func answer(_ request: XPCMessage) -> ShadowAnswer { request.op == .netGetLink ? .reply([.u8(.linkUp, 1)]) : .queue }
    var log: [ShadowCall] { seen.map { ShadowCall($0, [.u32(.rxFlags, 1)]) } }
    var records: [ShadowRecord] { seen.map { ShadowRecord($0, request: [.u32(.rxFlags, 1)], reply: [.u8(.linkUp, 0)]) } }
    func divergences(from deviceInfo: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) { (0, []) }
}

@Suite struct ShadowTests {
    func req(_ op: XPCOp) -> XPCMessage { XPCMessage(op: op, flags: .request, instance: 1) }

    @Test func onlyKeptOpsThatSucceededReachTheClassShadow() {
        var s = Shadow(RecordingShadow())
        for (op, status) in [(XPCOp.netOpen, Int32(0)), (.netSetMac, 0), (.netStop, -5), (.netStop, 0), (.ping, 0)] {
            s.record(req(op), reply: XPCMessage.reply(to: req(op), status: status))
        }
        #expect((s.state as? RecordingShadow)?.seen == [.netOpen, .netStop])
        #expect(s.keeps(.netOpen) && !s.keeps(.netSetMac))
    }

    @Test func answersComeFromTheClassShadow() {
        let s = Shadow(RecordingShadow())
        #expect(s.answer(req(.netGetLink)) == .reply([.u8(.linkUp, 1)]))
        #expect(s.answer(req(.netOpen)) == .queue)
    }

    @Test func replayIsFlaggedReattachForTheInstance() {
        var s = Shadow(RecordingShadow())
        s.record(req(.netOpen), reply: XPCMessage.reply(to: req(.netOpen)))
        let log = s.replayLog(instance: 7)
        #expect(log.count == 1 && log[0].op == .netOpen && log[0].instance == 7)
        #expect(log[0].flags.contains(.reattach) && log[0].flags.contains(.request))
        #expect(log[0].attribute(.rxFlags)?.u32 == 1)
        let recs = s.records(instance: 7)
        #expect(recs.count == 1 && recs[0].reply.isReply && recs[0].reply.seq == recs[0].request.seq)
        #expect(recs[0].reply.attribute(.linkUp)?.u8 == 0)
        let rebuilt = Shadow(RecordingShadow(), rebuiltFrom: recs)
        #expect((rebuilt.state as? RecordingShadow)?.seen == [.netOpen])
    }
}
