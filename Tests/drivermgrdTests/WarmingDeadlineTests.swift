// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import drivermgrd

/// The deadline of calls to a u-driver just taken over
/// (``DriverInstance/warmingDeadline(xpcTimeout:probeTimeout:)``).
@Suite struct WarmingDeadlineTests {
    @Test func theProbesBoundWhenItIsShort() {
        // The defaults: XPCTimeoutSec=250ms, ProbeTimeoutSec=5s.
        #expect(DriverInstance.warmingDeadline(xpcTimeout: .milliseconds(250), probeTimeout: .seconds(5)) == .seconds(5))
        #expect(DriverInstance.warmingDeadline(xpcTimeout: .seconds(1), probeTimeout: .seconds(2)) == .seconds(2))
    }

    @Test func aLongProbeBoundIsCapped() {
        // The slice guests: XPCTimeoutSec=3s, ProbeTimeoutSec=60s. A hang
        // right after a take-over is found within 5 s, not 60.
        #expect(DriverInstance.warmingDeadline(xpcTimeout: .seconds(3), probeTimeout: .seconds(60)) == .seconds(5))
    }

    @Test func neverShorterThanXPCTimeout() {
        #expect(DriverInstance.warmingDeadline(xpcTimeout: .seconds(30), probeTimeout: .seconds(60)) == .seconds(30))
        #expect(DriverInstance.warmingDeadline(xpcTimeout: .seconds(3), probeTimeout: .seconds(1)) == .seconds(3))
    }
}
