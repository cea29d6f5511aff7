// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import drivermgrd

@Suite struct PendingReplyTests {
    static let ping = XPCMessage(op: .ping, flags: .request, seq: 7)

    @Test func anAnswerThatCameBeforeTheWaitIsGivenAtOnce() async throws {
        let p = PendingReply()
        p.complete(.success(.reply(to: Self.ping)))
        #expect(try await p.value().seq == 7)
        #expect(try await p.value().seq == 7, "and again")
    }

    @Test func waitersBeforeTheAnswerAllGetItAndOnlyTheFirstAnswerCounts() async throws {
        let p = PendingReply()
        async let a = p.value()
        async let b = p.value()
        try await Task.sleep(for: .milliseconds(20))
        p.complete(.success(.reply(to: Self.ping)))
        p.complete(.failure(XPCError(.timeout)))
        #expect(try await a.seq == 7)
        #expect(try await b.seq == 7)
    }

    @Test func aFailedCallIsThrown() async throws {
        let p = PendingReply()
        p.complete(.failure(XPCError(.timeout)))
        await #expect(throws: XPCError(.timeout)) { _ = try await p.value() }
    }
}
