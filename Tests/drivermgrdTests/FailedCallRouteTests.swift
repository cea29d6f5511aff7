// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Testing
@testable import drivermgrd

/// Where a call goes whose channel failed under it (DriverInstance.send).
@Suite struct FailedCallRouteTests {
    typealias Route = DriverInstance.FailedCallRoute

    /// The campaign's hang: a call to a u-driver SIGKILLed just before it,
    /// whose recovery finished before the call's channel said it closed.
    /// Kept on the retry queue, it waited for a recovery that never came.
    @Test func aCallWhoseUDriverWasAlreadyRecoveredGoesToTheNewOne() {
        #expect(Route(state: .active, stopping: false, generation: 8, callGeneration: 7) == .resend)
    }

    @Test func aCallCutOffByAFailureWaitsForTheRecovery() {
        #expect(Route(state: .active, stopping: false, generation: 7, callGeneration: 7) == .kept,
                "the failure is not handled yet: its recovery drains the queue")
        #expect(Route(state: .recovering, stopping: false, generation: 7, callGeneration: 7) == .kept)
        #expect(Route(state: .recovering, stopping: false, generation: 8, callGeneration: 7) == .kept,
                "a recovery under way (its new u-driver launched) drains it")
    }

    @Test func aDriverThatDoesNotServeFailsTheCall() {
        #expect(Route(state: .active, stopping: true, generation: 8, callGeneration: 7) == .refused)
        for s in [DriverState.failed, .stopped, .starting] {
            #expect(Route(state: s, stopping: false, generation: 7, callGeneration: 7) == .refused, "\(s)")
        }
    }
}
