// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
import Testing
@testable import drivermgrd
import XPC

/// A target that records when its heartbeat came and asks for the next
/// one a fixed period later, a given number of times.
private final class Beat: HeartbeatTarget {
    let period: UInt64
    let times = Mutex<[UInt64]>([])
    let limit: Int

    init(periodMs: UInt64, limit: Int = .max) {
        period = periodMs * 1_000_000
        self.limit = limit
    }

    func heartbeatDue(now: UInt64) -> UInt64? {
        let n = times.withLock { t in
            t.append(now)
            return t.count
        }
        return n >= limit ? nil : now + period
    }

    var count: Int { times.withLock { $0.count } }
}

private func waitUntil(_ what: String, seconds: Double = 5, _ cond: () -> Bool) async throws {
    let end = Date().addingTimeInterval(seconds)
    while !cond() {
        if Date() > end { Issue.record("timed out: \(what)"); return }
        try await Task.sleep(for: .milliseconds(5))
    }
}

@Suite struct HeartbeatSchedulerTests {
    /// Each target's heartbeats come at its own period, never early by
    /// more than the coalescing window, on one thread of its own (the
    /// cooperative pool may be busy: the counts are taken against the time
    /// that really passed).
    @Test func targetsBeatAtTheirOwnPeriods() async throws {
        let s = HeartbeatScheduler()
        let fast = Beat(periodMs: 20), slow = Beat(periodMs: 200)
        let t0 = monotonicNanos()
        s.schedule(fast, at: t0 + 20_000_000)
        s.schedule(slow, at: t0 + 200_000_000)
        try await Task.sleep(for: .milliseconds(620))
        let f = fast.times.withLock { $0 }, w = slow.times.withLock { $0 }
        let elapsed = monotonicNanos() - t0
        #expect(f.count <= Int(elapsed / 20_000_000) + 1 && f.count >= 5, "\(f.count) fast beats in \(elapsed / 1_000_000) ms")
        #expect(w.count <= Int(elapsed / 200_000_000) + 1 && w.count >= 1, "\(w.count) slow beats in \(elapsed / 1_000_000) ms")
        #expect(f.count > 3 * w.count)
        for (name, times, period) in [("fast", f, UInt64(20_000_000)), ("slow", w, UInt64(200_000_000))] {
            let intervals = zip(times.dropFirst(), times).map { $0 - $1 }
            #expect(intervals.allSatisfy { $0 + HeartbeatScheduler.coalescing >= period }, "\(name): \(intervals)")
            #expect(times.first.map { $0 + HeartbeatScheduler.coalescing >= t0 + period } ?? true, "\(name)'s first beat came early")
        }
    }

    /// Scheduling again replaces the time a target had: a call that cuts a
    /// long period short brings the beat forward, and the old time does
    /// not beat as well.
    @Test func aNewTimeReplacesTheOldOne() async throws {
        let s = HeartbeatScheduler()
        let b = Beat(periodMs: 10_000)
        let t0 = monotonicNanos()
        s.schedule(b, at: t0 + 60_000_000_000)
        try await Task.sleep(for: .milliseconds(50))
        #expect(b.count == 0)
        let brought = monotonicNanos()
        s.schedule(b, at: brought)
        try await waitUntil("the beat brought forward") { b.count == 1 }
        #expect(b.times.withLock { $0[0] } - brought < 1_000_000_000)
        try await Task.sleep(for: .milliseconds(100))
        #expect(b.count == 1, "the replaced time beat too, or the next came early")
        #expect(s.count == 1)
    }

    /// A target that says nil, one that is removed and one that no longer
    /// exists all drop out.
    @Test func targetsDropOut() async throws {
        let s = HeartbeatScheduler()
        let ending = Beat(periodMs: 10, limit: 3), removed = Beat(periodMs: 10)
        var gone: Beat? = Beat(periodMs: 10)
        let now = monotonicNanos()
        s.schedule(ending, at: now)
        s.schedule(removed, at: now)
        s.schedule(try #require(gone), at: now)
        try await waitUntil("three beats each") { ending.count == 3 && removed.count >= 3 && (gone?.count ?? 0) >= 3 }
        s.remove(removed)
        gone = nil
        try await waitUntil("all dropped out") { s.count == 0 }
        let r = removed.count
        try await Task.sleep(for: .milliseconds(60))
        #expect(removed.count == r, "a removed target beat on")
        #expect(ending.count == 3, "a target that said nil beat on")
    }
}
