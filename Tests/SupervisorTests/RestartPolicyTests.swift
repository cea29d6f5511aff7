// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import Supervisor

@Suite struct RestartPolicyTests {
    let s: UInt64 = 1_000_000_000

    @Test func firstRestartAtOnceThenDoubling() {
        let p = RestartPolicy(mode: .onFailure, restartDelay: .zero, burst: 5, interval: .seconds(60))
        #expect(p.decide(failures: [10 * s], now: 10 * s) == .restart(after: .zero))
        #expect(p.decide(failures: [10 * s, 11 * s], now: 11 * s) == .restart(after: .milliseconds(10)))
        #expect(p.decide(failures: [10 * s, 11 * s, 12 * s], now: 12 * s) == .restart(after: .milliseconds(20)))
        #expect(p.decide(failures: [10 * s, 11 * s, 12 * s, 13 * s], now: 13 * s) == .restart(after: .milliseconds(40)))
    }

    @Test func theLimitCountsOnlyTheInterval() {
        let p = RestartPolicy(mode: .onFailure, restartDelay: .zero, burst: 2, interval: .seconds(10))
        let three = [1 * s, 2 * s, 3 * s]
        if case .giveUp(let why) = p.decide(failures: three, now: 3 * s) {
            #expect(why.hasPrefix("start limit hit: 3 failures"))
        } else {
            Issue.record("three failures in 10 s with StartLimitBurst=2 must give up")
        }
        // Twenty seconds later the old failures no longer count.
        #expect(p.decide(failures: three + [23 * s], now: 23 * s) == .restart(after: .zero))
    }

    @Test func backoffIsCapped() {
        var p = RestartPolicy(mode: .always, restartDelay: .milliseconds(100), burst: 100, interval: .seconds(600))
        p.backoffCap = .seconds(1)
        let many = (1...40).map { UInt64($0) * s }
        #expect(p.decide(failures: many, now: 40 * s) == .restart(after: .seconds(1)))
        p.backoffCap = .zero
        #expect(p.decide(failures: many, now: 40 * s) == .restart(after: .milliseconds(100)), "RestartMaxDelaySec=0: no back-off")
    }

    @Test func modes() {
        #expect(RestartPolicy(mode: .no).decide(failures: [s], now: s) == .giveUp("Restart=no"))
        #expect(RestartPolicy(mode: .onFailure).decide(failures: [s], now: s, cleanExit: true)
                == .giveUp("exited cleanly and Restart=on-failure"))
        #expect(RestartPolicy(mode: .always).decide(failures: [s], now: s, cleanExit: true) == .restart(after: .zero))
    }
}
