// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
import Testing
import XPC
@testable import NucleusSim

/// nucleus-sim keeps what a daemon left unanswered for the next one, as
/// drvnucleus.ko does (runtime.c, pending_upcalls): the daemon side is
/// played here by plain connections.
@Suite struct SimUpcallsTests {
    /// A daemon stand-in: registers, and hands every message it gets to a stream.
    struct FakeDaemon {
        let conn: XPCConnection
        let inbox: AsyncStream<XPCMessage>

        init(_ path: String) async throws {
            let (stream, k) = AsyncStream<XPCMessage>.makeStream()
            conn = XPCConnection(name: "daemon", socket: try XPCSocket.connect(path: path), onEvent: { _, ev in
                if case .message(let m) = ev { k.yield(m) }
            }, onClose: { _ in k.finish() })
            inbox = stream
            conn.start()
            let r = try await conn.call(XPCMessage(op: .register, flags: .request), timeout: .seconds(5))
            #expect(r.status == 0)
        }

        /// The next request of `op`, skipping DEVICE_ADD and the like.
        func next(_ op: XPCOp) async -> XPCMessage? {
            for await m in inbox where m.op == op && m.isRequest { return m }
            return nil
        }
    }

    /// Waits (at most 10 s) for the sim's connection threads to see `cond`.
    func until(_ what: String, _ cond: () -> Bool) async throws {
        for _ in 0..<1000 where !cond() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(cond(), "\(what)")
    }

    func nucleus(upcallTimeout: Duration = .seconds(10), daemonRestart: Duration = .seconds(10)) throws -> (SimNucleus, XPCListener, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("simupcalls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/nucleus.sock"
        let l = try XPCListener(path: path)
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)], upcallTimeout: upcallTimeout, daemonRestart: daemonRestart)
        n.serve(l)
        return (n, l, path)
    }

    @Test func anUpcallADeadDaemonLeftGoesToTheNextUnderTheSameSeq() async throws {
        let (n, l, path) = try nucleus()
        defer { l.shutdown() }
        let a = try await FakeDaemon(path)
        let put: [XPCAttribute] = [.u16(.mixerControl, 1), .u32(.mixerValue, 40)]
        let waiting = Task { try await n.upcall(1, .sndMixerPut, put) }
        let first = try #require(await a.next(.sndMixerPut))
        #expect(first.attributes == put)
        a.conn.close()
        // Made while no daemon is there after one died: kept for the next.
        try await until("the daemon's close seen") { !n.hasBroker }
        let during = Task { try await n.upcall(1, .sndMixerGet, [.u16(.mixerControl, 1)], timeout: .seconds(10)) }
        try await until("the upcall made meanwhile kept") { n.pendingUpcalls == 2 }

        let b = try await FakeDaemon(path)
        let again = try #require(await b.next(.sndMixerPut))
        #expect(again.seq == first.seq && again.attributes == first.attributes)
        try b.conn.send(.reply(to: again, attributes: [.u32(.mixerValue, 40)]))
        let get = try #require(await b.next(.sndMixerGet))
        try b.conn.send(.reply(to: get, attributes: [.u32(.mixerValue, 40)]))
        let r = try await waiting.value
        #expect(r.status == 0 && r.attribute(.mixerValue)?.u32 == 40)
        #expect(try await during.value.attribute(.mixerValue)?.u32 == 40, "answered by the next daemon")
        #expect(n.redeliveredUpcalls == 2 && n.pendingUpcalls == 0)

        // Stopped on purpose (UNREGISTER): a waiting upcall fails now, and
        // one made later at once, with EAGAIN; nothing is kept.
        let cut = Task { try await n.upcall(1, .sndMixerGet, [.u16(.mixerControl, 1)], timeout: .seconds(10)) }
        _ = try #require(await b.next(.sndMixerGet))
        let bye = try await b.conn.call(XPCMessage(op: .unregister, flags: .request), timeout: .seconds(5))
        #expect(bye.status == 0)
        for t in [cut, Task { try await n.upcall(1, .sndMixerGet, [.u16(.mixerControl, 1)], timeout: .seconds(10)) }] {
            do {
                _ = try await t.value
                Issue.record("an upcall after UNREGISTER was answered")
            } catch let e as XPCError {
                #expect(e.errno == 11, "\(e)")
            }
        }
        #expect(n.pendingUpcalls == 0)
        b.conn.close()
    }

    /// The daemon died with the upcall and its successor registered only
    /// after the upcall's deadline (systemd's restart on a loaded
    /// machine): the upcall waited for it, and got its answer.
    @Test func anUpcallWhoseDaemonDiedWaitsPastItsDeadlineForTheNext() async throws {
        let (n, l, path) = try nucleus(upcallTimeout: .milliseconds(300), daemonRestart: .seconds(10))
        defer { l.shutdown() }
        let a = try await FakeDaemon(path)
        let get: [XPCAttribute] = [.u16(.mixerControl, 1)]
        let waiting = Task { try await n.upcall(1, .sndMixerGet, get) }
        let first = try #require(await a.next(.sndMixerGet))
        a.conn.close()
        try await Task.sleep(for: .milliseconds(900))
        #expect(n.pendingUpcalls == 1, "still waiting, three deadlines later")
        let b = try await FakeDaemon(path)
        let again = try #require(await b.next(.sndMixerGet))
        #expect(again.seq == first.seq)
        try b.conn.send(.reply(to: again, attributes: [.u32(.mixerValue, 7)]))
        let r = try await waiting.value
        #expect(r.status == 0 && r.attribute(.mixerValue)?.u32 == 7)
        b.conn.close()
    }

    /// No daemon within the grace either: the caller gets the timeout.
    @Test func anUpcallWhoseDaemonNeverCameBackTimesOut() async throws {
        let (n, l, path) = try nucleus(upcallTimeout: .milliseconds(200), daemonRestart: .milliseconds(300))
        defer { l.shutdown() }
        let a = try await FakeDaemon(path)
        let started = ContinuousClock.now
        let waiting = Task { try await n.upcall(1, .sndMixerGet, [.u16(.mixerControl, 1)]) }
        _ = try #require(await a.next(.sndMixerGet))
        a.conn.close()
        do {
            _ = try await waiting.value
            Issue.record("answered with no daemon")
        } catch let e as XPCError {
            #expect(e.code == .timeout)
        }
        let took = ContinuousClock.now - started
        #expect(took >= .milliseconds(450), "the deadline and the grace: \(took)")
        #expect(n.pendingUpcalls == 0)
    }

    @Test func anAsynchronousUpcallMadeWithNoDaemonWaitsForTheNext() async throws {
        let (n, l, path) = try nucleus()
        defer { l.shutdown() }
        let a = try await FakeDaemon(path)
        a.conn.close()
        try await until("the daemon's close seen") { !n.hasBroker }
        // What a chip's data path asks for (drvnucleus_upcall_async), twice:
        // one of a kind per device is kept.
        n.upcallsForTesting.sendAsync(1, .netWatchdog)
        n.upcallsForTesting.sendAsync(1, .netWatchdog)
        #expect(n.pendingUpcalls == 1)
        let b = try await FakeDaemon(path)
        let m = try #require(await b.next(.netWatchdog))
        try b.conn.send(.reply(to: m))
        try await until("the answer taken") { n.pendingUpcalls == 0 }
        b.conn.close()
    }

    @Test func aWaitedForUpcallStillHasADeadline() async throws {
        let (n, l, path) = try nucleus()
        defer { l.shutdown() }
        let a = try await FakeDaemon(path)
        do {
            _ = try await n.upcall(1, .sndMixerGet, [.u16(.mixerControl, 1)], timeout: .milliseconds(300))
            Issue.record("answered by nobody")
        } catch let e as XPCError {
            #expect(e.code == .timeout)
        }
        #expect(n.pendingUpcalls == 0)
        a.conn.close()
    }
}
