// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import UDriverKit

@Suite struct ServedUpcallsTests {
    func answer(_ v: UInt32) -> XPCMessage {
        .reply(to: XPCMessage(op: .sndMixerGet, flags: .request, seq: v), attributes: [.u32(.mixerValue, v % 100)])
    }

    @Test func keepsTheLastAnswersByUpcallID() {
        var s = ServedUpcalls()
        s.keep(answer(7), for: 1007)
        #expect(s.reply(to: 1007)?.attribute(.mixerValue)?.u32 == 7)
        #expect(s.reply(to: 1008) == nil)
        // The same id again (a nucleus redelivery served anew) keeps one entry.
        s.keep(answer(8), for: 1007)
        #expect(s.count == 1 && s.reply(to: 1007)?.attribute(.mixerValue)?.u32 == 8)
    }

    @Test func forgetsTheOldestBeyondItsCapacity() {
        var s = ServedUpcalls()
        let n = UInt32(ServedUpcalls.capacity)
        for id in 0..<(n + 10) { s.keep(answer(id), for: id) }
        #expect(s.count == ServedUpcalls.capacity)
        for id in 0..<10 as Range<UInt32> { #expect(s.reply(to: id) == nil, "\(id) forgotten") }
        for id in 10..<(n + 10) { #expect(s.reply(to: id) != nil, "\(id) kept") }
    }
}
