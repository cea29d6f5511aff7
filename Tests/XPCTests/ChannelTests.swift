// SPDX-License-Identifier: GPL-2.0
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
@testable import XPC

@Suite struct PendingCallsTests {
    /// Deadlines are driven by a manual clock: exactly the calls that fell
    /// due expire, oldest first.
    @Test func expiresExactlyWhatIsDue() {
        var p = PendingCalls<Int>()
        let a = p.add(op: .ping, deadline: 100, completion: 1)
        let b = p.add(op: .probe, deadline: 50, completion: 2)
        let c = p.add(op: .hello, deadline: .max, completion: 3)
        #expect(Set([a, b, c]).count == 3 && !Set([a, b, c]).contains(0))
        #expect(p.nextDeadline == 50)
        #expect(p.expire(now: 49).isEmpty)
        #expect(p.expire(now: 100).map(\.completion) == [2, 1])
        #expect(p.nextDeadline == nil)
        #expect(p.complete(seq: a) == nil, "an expired call cannot be answered")
        #expect(p.complete(seq: c)?.completion == 3)
        #expect(p.count == 0)
    }

    /// A call sent again gets its whole time again from then; a call whose
    /// bytes were not kept is not sent again.
    @Test func resendGivesTheWholeTimeAgain() {
        var p = PendingCalls<Int>()
        let kept = p.add(op: .regRead, deadline: 1_000, completion: 1)
        p.keep(seq: kept, request: [1, 2, 3], timeout: 1_000)
        _ = p.add(op: .ping, deadline: 1_000, completion: 2)
        #expect(p.resend(now: 900) == [[1, 2, 3]])
        let due = p.expire(now: 1_500)
        #expect(due.map(\.completion) == [2], "only the one not sent again expired")
        #expect(p.expire(now: 1_900).map(\.completion) == [1], "the other at 900 + 1,000")
    }

    /// A peer that spent half its window or more waiting for a CPU gets the
    /// window again, at most maxStarvedExtensions times; one that was not
    /// starved, or that starved only a little, is due on time.
    @Test func aStarvedPeerGetsItsWindowAgainBoundedly() {
        var p = PendingCalls<Int>()
        _ = p.add(op: .ping, deadline: 1_000, timeout: 1_000, peerWait: 5_000, completion: 1)
        _ = p.add(op: .probe, deadline: 1_000, timeout: 1_000, peerWait: 5_000, completion: 2)
        #expect(p.expire(now: 1_000, peerWait: 5_499).map(\.completion) == [1, 2], "waited under half the window")
        let s = p.add(op: .ping, deadline: 2_000, timeout: 1_000, peerWait: 0, completion: 3)
        var now: UInt64 = 2_000
        var wait: UInt64 = 0
        for round in 1...PendingCalls<Int>.maxStarvedExtensions {
            wait += 600
            #expect(p.expire(now: now, peerWait: wait).isEmpty, "starved: extended (round \(round))")
            #expect(p.starvedExtensions(of: s) == round)
            #expect(p.nextDeadline == now + 1_000)
            now += 1_000
        }
        wait += 600
        #expect(p.expire(now: now, peerWait: wait).map(\.completion) == [3], "starved or not, a bounded number of windows")
        // Unknown wait (no schedstat): on time.
        _ = p.add(op: .ping, deadline: 10, timeout: 10, peerWait: nil, completion: 4)
        #expect(p.expire(now: 10, peerWait: 100).map(\.completion) == [4])
    }

    /// A peer waiting on a slow call of its own (a PS/2 reset at the
    /// nucleus) gets its window again after that call's deadline, at most
    /// maxAwaitExtensions times; a peer that awaits nothing, or whose slow
    /// call ended before the deadline, is due on time.
    @Test func aPeerAwaitingASlowCallGetsItsWindowAfterIt() {
        var p = PendingCalls<Int>()
        _ = p.add(op: .inputResync, deadline: 1_000, timeout: 250, completion: 1)
        #expect(p.expire(now: 1_000, peerAwaits: 6_500).isEmpty, "awaiting a slow call: not due")
        #expect(p.nextDeadline == 6_750, "its window again, from the slow call's deadline")
        #expect(p.expire(now: 6_750, peerAwaits: nil).map(\.completion) == [1], "the slow call over: due")
        _ = p.add(op: .inputResync, deadline: 1_000, timeout: 250, completion: 2)
        #expect(p.expire(now: 1_000, peerAwaits: 900).map(\.completion) == [2], "a slow call that ended already excuses nothing")
        _ = p.add(op: .inputResync, deadline: 1_000, timeout: 250, completion: 3)
        var now: UInt64 = 1_000
        for round in 1...PendingCalls<Int>.maxAwaitExtensions {
            #expect(p.expire(now: now, peerAwaits: now + 100).isEmpty, "round \(round)")
            now += 350
            #expect(p.nextDeadline == now)
        }
        #expect(p.expire(now: now, peerAwaits: now + 100).map(\.completion) == [3], "a bounded number of windows")
    }

    /// With messages still queued for this side's reader, a deadline waits
    /// up to one more window for the reply among them, then falls due.
    @Test func aBusyReaderDefersByAtMostOneWindow() {
        var p = PendingCalls<Int>()
        _ = p.add(op: .ping, deadline: 1_000, timeout: 500, completion: 1)
        #expect(p.expire(now: 1_200, readerBusy: true).isEmpty)
        #expect(p.expire(now: 1_500, readerBusy: true).map(\.completion) == [1])
        _ = p.add(op: .ping, deadline: 2_000, timeout: 500, completion: 2)
        #expect(p.expire(now: 2_000, readerBusy: false).map(\.completion) == [2])
    }

    @Test func drainReturnsEverything() {
        var p = PendingCalls<Int>()
        _ = p.add(op: .ping, deadline: 10, completion: 1)
        _ = p.add(op: .ping, deadline: 20, completion: 2)
        #expect(p.drain().map(\.completion) == [1, 2])
        #expect(p.count == 0)
    }
}

/// drivermgrd's end of a u-driver's channel never waits for the u-driver to
/// read: a full queue fails the send at once, and the other end still waits.
@Suite struct NonWaitingSendTests {
    @Test func aFullQueueFailsTheSendAtOnceAndLosesNothingQueued() throws {
        let (daemonEnd, driverEnd) = try XPCSocket.pair(firstSendsWithoutWaiting: true)
        #expect(daemonEnd.sendsWithoutWaiting)
        #expect(!driverEnd.sendsWithoutWaiting)
        let message = [UInt8](repeating: 0xA5, count: 4096)
        var sent = 0
        var failure: XPCError?
        // The driver end reads nothing; the kernel's send buffer fills.
        while sent < 100_000 {
            do { try daemonEnd.send(message); sent += 1 } catch let e as XPCError { failure = e; break }
        }
        let error = try #require(failure, "a send to a peer that never reads must fail, not wait")
        #expect(error.code == .system)
        #expect(error.errno == EAGAIN)
        #expect(sent > 0)
        // Every message that was accepted is there to be read, whole.
        var received = 0
        var fds = [pollfd(fd: driverEnd.fd, events: Int16(POLLIN), revents: 0)]
        while poll(&fds, 1, 0) == 1 {
            let m = try driverEnd.receive()
            #expect(m == message)
            received += 1
        }
        #expect(received == sent)
    }
}

@Suite struct ConnectionTests {
    final class Box<T: Sendable>: Sendable {
        let v: Mutex<T>
        init(_ v: T) { self.v = Mutex(v) }
    }

    /// An echo peer: answers every request with its own attributes.
    func echoPair(delayFor op: XPCOp? = nil) throws -> (XPCConnection, XPCConnection) {
        let (a, b) = try XPCSocket.pair()
        let server = XPCConnection(name: "server", socket: b) { conn, ev in
            guard case .message(let m) = ev, m.isRequest else { return }
            if m.op == op { return } // never answers this op
            try? conn.send(XPCMessage.reply(to: m, attributes: m.attributes))
        }
        let client = XPCConnection(name: "client", socket: a, onEvent: { _, _ in })
        server.start()
        client.start()
        return (client, server)
    }

    @Test func callGetsItsReply() async throws {
        let (client, server) = try echoPair()
        for i in 0..<100 {
            let r = try await client.call(XPCMessage(op: .ping, flags: .request, attributes: [.u32(.version, UInt32(i))]),
                                          timeout: .seconds(5))
            #expect(try r.u32(.version) == UInt32(i))
        }
        #expect(client.pendingCount == 0)
        client.close(); server.close()
    }

    @Test func pipelinedCallsGoOutInOrderAndEachGetsItsOwnResult() async throws {
        let (a, b) = try XPCSocket.pair()
        let seen = Box<[UInt32]>([])
        let server = XPCConnection(name: "server", socket: b) { conn, ev in
            guard case .message(let m) = ev, m.isRequest else { return }
            seen.v.withLock { $0.append(m.attribute(.version)?.u32 ?? 0) }
            if m.op == .probe { return } // never answered
            try? conn.send(XPCMessage.reply(to: m, attributes: m.attributes))
        }
        let client = XPCConnection(name: "client", socket: a, onEvent: { _, _ in })
        server.start(); client.start()
        #expect(await client.calls([], timeout: .seconds(1)).isEmpty)
        let ops: [XPCOp] = [.ping, .ping, .probe, .ping]
        let results = await client.calls(ops.enumerated().map { i, op in
            XPCMessage(op: op, flags: .request, attributes: [.u32(.version, UInt32(i))])
        }, timeout: .milliseconds(300))
        #expect(results.count == 4)
        let answeredAt = results.compactMap { r -> UInt64? in if case .success = r.result { r.at } else { nil } }
        #expect(answeredAt.count == 3 && answeredAt == answeredAt.sorted(), "answered in order")
        for (i, r) in results.enumerated() {
            switch r.result {
            case .success(let m): #expect(i != 2 && m.attribute(.version)?.u32 == UInt32(i))
            case .failure(let e): #expect(i == 2 && e.code == .timeout, "\(e)")
            }
        }
        #expect(seen.v.withLock { $0 } == [0, 1, 2, 3], "sent in order")
        #expect(client.pendingCount == 0)
        client.close(); server.close()
    }

    /// The name of the thread running the caller.
    static func threadName() -> String {
        let fd = open("/proc/thread-self/comm", O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return String(decoding: buf.prefix(max(0, n)).filter { $0 != 0x0a }, as: UTF8.self)
    }

    @Test func aTaskPreferringTheReaderRunsThereAndItsReplyResumesItThere() async throws {
        let (client, server) = try echoPair()
        let names = try await withTaskExecutorPreference(client.executor) { () async throws -> [String] in
            var seen = [Self.threadName()]
            for i in 0..<20 {
                let r = try await client.call(XPCMessage(op: .ping, flags: .request, attributes: [.u32(.version, UInt32(i))]),
                                              timeout: .seconds(5))
                #expect(try r.u32(.version) == UInt32(i))
                seen.append(Self.threadName())
            }
            return seen
        }
        #expect(Set(names) == ["xpc-client"], "\(Set(names))")
        client.close(); server.close()
    }

    @Test func aTaskPreferringAClosedChannelsReaderRunsOn() async throws {
        let (client, server) = try echoPair()
        client.close()
        await client.closeAndWait()
        let done = await withTaskExecutorPreference(client.executor) { () async -> Bool in
            try? await Task.sleep(for: .milliseconds(5))
            return true
        }
        #expect(done)
        server.close()
    }

    /// The timer is armed only for an earlier deadline than the one it is
    /// armed for; a later call's deadline must still fire after an earlier
    /// call was answered.
    @Test func aLaterCallsDeadlineFiresAfterAnEarlierCallWasAnswered() async throws {
        let (client, server) = try echoPair(delayFor: .probe)
        _ = try await client.call(XPCMessage(op: .ping, flags: .request), timeout: .milliseconds(100))
        let t0 = ContinuousClock.now
        // A lost deadline would wait for ever: 10 s (a loaded CI machine
        // can be seconds late) decide, and closing the channel ends the call.
        let outcome = await withTaskGroup(of: String.self) { g in
            g.addTask {
                do {
                    _ = try await client.call(XPCMessage(op: .probe, flags: .request), timeout: .milliseconds(300))
                    return "answered"
                } catch let e as XPCError where e.code == .timeout {
                    return "timed out"
                } catch {
                    return "\(error)"
                }
            }
            g.addTask {
                try? await Task.sleep(for: .seconds(10))
                return "lost"
            }
            let first = await g.next() ?? "none"
            g.cancelAll()
            if first == "lost" { client.close() }
            return first
        }
        #expect(outcome == "timed out")
        #expect(ContinuousClock.now - t0 >= .milliseconds(290))
        client.close(); server.close()
    }

    @Test func unansweredCallTimesOut() async throws {
        let (client, server) = try echoPair(delayFor: .probe)
        await #expect(throws: XPCError(.timeout)) {
            _ = try await client.call(XPCMessage(op: .probe, flags: .request), timeout: .milliseconds(20))
        }
        #expect(client.pendingCount == 0)
        // the channel still works afterwards
        _ = try await client.call(XPCMessage(op: .ping, flags: .request), timeout: .seconds(5))
        client.close(); server.close()
    }

    @Test func peerCloseFailsPendingCalls() async throws {
        let (client, server) = try echoPair(delayFor: .probe)
        let closed = Box(false)
        let c2 = XPCConnection(name: "c2", transport: client.transport, onEvent: { _, _ in }) { _ in closed.v.withLock { $0 = true } }
        _ = c2
        Task { try? await Task.sleep(for: .milliseconds(20)); server.close() }
        await #expect(throws: XPCError(.closed)) {
            _ = try await client.call(XPCMessage(op: .probe, flags: .request), timeout: .seconds(30))
        }
        #expect(client.isClosed)
    }

    @Test func malformedRequestIsAnsweredWithEPROTO() async throws {
        let (a, b) = try XPCSocket.pair()
        let seen = Box<[String]>([])
        let server = XPCConnection(name: "server", socket: b) { _, ev in
            if case .malformed(let e, _) = ev { seen.v.withLock { $0.append(e.code.name) } }
        }
        server.start()
        // a PING request whose only attribute is a 3-byte PCM_RATE
        var bad = XPCMessage(op: .ping, flags: .request, seq: 5).bytes + [7, 0, 27, 0, 1, 2, 3, 0]
        bad.replaceSubrange(0..<4, with: XPCAttribute.le(UInt32(bad.count)))
        try a.send(bad)
        let reply = try #require(try a.receive())
        let r = try XPCMessage.decode(reply)
        #expect(r.isReply && r.seq == 5 && r.status == -71)
        #expect(r.remoteError?.attribute == .pcmRate)
        for _ in 0..<200 where seen.v.withLock({ $0 }).isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(seen.v.withLock { $0 } == ["wrong-length"])
        server.close()
    }

    /// A reply whose header reads but whose body does not (a nucleus that
    /// reported MOUSE_RESOLUTION 20 against the wire's 0...3) fails its
    /// call at once with the named field, not at its deadline.
    @Test func malformedReplyFailsItsCallWithTheField() async throws {
        let (a, b) = try XPCSocket.pair()
        let client = XPCConnection(name: "daemon", socket: a) { _, _ in }
        client.start()
        defer { client.close() }
        let call = Task {
            try await client.call(XPCMessage(op: .deviceInfo, flags: .request, instance: 65), timeout: .seconds(60))
        }
        let req = try XPCMessage.decode(try #require(try b.receive()))
        var bad = XPCMessage(op: .deviceInfo, flags: .reply, seq: req.seq, instance: 65).bytes + [5, 0] + XPCAttribute.le(XPCAttributeID.mouseResolution.rawValue) + [20, 0, 0, 0]
        bad.replaceSubrange(0..<4, with: XPCAttribute.le(UInt32(bad.count)))
        try b.send(bad)
        let clock = ContinuousClock(), started = clock.now
        do {
            _ = try await call.value
            Issue.record("a malformed reply was taken")
        } catch let e as XPCError {
            #expect(e.code == .outOfRange && e.attribute == .mouseResolution, "\(e)")
        }
        #expect(clock.now - started < .seconds(5), "failed at once, not at the 60 s deadline")
    }

    @Test func replyToNothingIsReported() async throws {
        let (a, b) = try XPCSocket.pair()
        let seen = Box(0)
        let conn = XPCConnection(name: "x", socket: b) { _, ev in
            if case .unexpectedReply = ev { seen.v.withLock { $0 += 1 } }
        }
        conn.start()
        try a.send(XPCMessage(op: .ping, flags: .reply, seq: 4242).bytes)
        // a round trip after it proves the first packet was processed
        try a.send(XPCMessage(op: .ping, flags: .reply, seq: 4243).bytes)
        for _ in 0..<200 where seen.v.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(seen.v.withLock { $0 } == 2)
        conn.close()
    }
    /// A daemon that died may have read a call and never answered it: the
    /// caller sends what is unanswered again, same bytes, same seq, and a
    /// second reply to it is reported, not taken. (That it gets its whole
    /// time again is PendingCallsTests' to show, on a manual clock.)
    @Test func unansweredCallsGoOutAgainAsFirstSent() async throws {
        let (a, b) = try XPCSocket.pair()
        let stray = Box(0)
        let client = XPCConnection(name: "u-driver", socket: a, keepsRequests: true) { _, ev in
            if case .unexpectedReply = ev { stray.v.withLock { $0 += 1 } }
        }
        // The daemon's side, on its own reader thread: no blocking read in
        // the test's task.
        let (inbox, k) = AsyncStream<XPCMessage>.makeStream()
        let daemon = XPCConnection(name: "daemon", socket: b) { _, ev in
            if case .message(let m) = ev { k.yield(m) }
        }
        client.start()
        daemon.start()
        defer {
            client.close()
            daemon.close()
        }
        var it = inbox.makeAsyncIterator()
        let pending = Task {
            try await client.call(XPCMessage(op: .dmaAlloc, flags: .request, instance: 3, attributes: [.u32(.dmaSize, 64)]),
                                  timeout: .seconds(120))
        }
        // The first daemon read it and died.
        let first = try #require(await it.next())
        let resent = client.resendPending()
        #expect(resent == 1)
        guard resent == 1 else { return }
        let again = try #require(await it.next())
        #expect(again.bytes == first.bytes, "the same request, same seq")
        try daemon.send(XPCMessage.reply(to: again, attributes: [.u32(.dmaHandle, 9)]))
        try daemon.send(XPCMessage.reply(to: again, attributes: [.u32(.dmaHandle, 10)]))
        #expect(try await pending.value.u32(.dmaHandle) == 9)
        for _ in 0..<2000 where stray.v.withLock({ $0 }) < 1 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(stray.v.withLock { $0 } == 1, "the second reply finds no call")
        #expect(client.resendPending() == 0, "nothing is waiting")
    }

    @Test func aConnectionThatKeepsNothingResendsNothing() async throws {
        let (a, b) = try XPCSocket.pair()
        let client = XPCConnection(name: "daemon", socket: a, onEvent: { _, _ in })
        client.start()
        client.call(XPCMessage(op: .ping, flags: .request), timeout: .seconds(5)) { _ in }
        _ = try b.receive()
        #expect(client.resendPending() == 0)
        client.close()
    }
}
