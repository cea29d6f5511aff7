// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import UDriverKit

@Suite struct UpcallQueueTests {
    func request(_ seq: UInt32) -> XPCMessage { XPCMessage(op: .ping, flags: .request, seq: seq) }

    @Test func givesRequestsInOrderThenNilOnceFinished() async {
        let q = UpcallQueue()
        for i in 1...5 { q.push(request(UInt32(i))) }
        q.finish()
        q.push(request(99)) // after the close: dropped
        var seqs: [UInt32] = []
        while let m = await q.next() { seqs.append(m.seq) }
        #expect(seqs == [1, 2, 3, 4, 5])
    }

    @Test func aWaitingServeLoopIsWokenByTheNextRequest() async {
        let q = UpcallQueue()
        async let first = q.next()
        try? await Task.sleep(for: .milliseconds(20))
        q.push(request(7))
        #expect(await first?.seq == 7)
        q.push(request(8))
        #expect(await q.next()?.seq == 8)
        q.finish()
        #expect(await q.next() == nil)
    }
}
