// SPDX-License-Identifier: GPL-2.0
import Synchronization
import Testing
@testable import drivermgrd

@Suite struct LatchTests {
    final class Count: Sendable {
        let v = Mutex(0)
    }

    @Test(.timeLimit(.minutes(1))) func waitersGoOnOnlyOnceItOpens() async throws {
        let latch = Latch()
        let passed = Count()
        async let a: Void = { await latch.wait(); passed.v.withLock { $0 += 1 } }()
        async let b: Void = { await latch.wait(); passed.v.withLock { $0 += 1 } }()
        try await Task.sleep(for: .milliseconds(50))
        #expect(passed.v.withLock { $0 } == 0, "shut: nobody passed")
        latch.open()
        _ = await (a, b)
        #expect(passed.v.withLock { $0 } == 2)
    }

    @Test(.timeLimit(.minutes(1))) func anOpenLatchLetsAWaiterThroughAtOnceAndOpeningTwiceIsHarmless() async {
        let latch = Latch()
        latch.open()
        latch.open()
        await latch.wait()
        await latch.wait()
    }
}
