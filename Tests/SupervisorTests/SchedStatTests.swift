// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import Supervisor
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SchedStatTests {
    @Test func parsesTheSecondField() {
        #expect(SchedStat.parse(Array("1234 5678 9\n".utf8)) == 5678)
        #expect(SchedStat.parse(Array("1234\n".utf8)) == nil)
        #expect(SchedStat.parse(Array("a b c".utf8)) == nil)
        #expect(SchedStat.parse([UInt8]()) == nil)
    }

    /// This process's wait is read from its threads and never goes down; a
    /// pid that does not exist has none.
    @Test func readsALiveProcessAndNotAMissingOne() throws {
        let a = try #require(SchedStat.runQueueWait(pid: getpid()))
        var x: UInt64 = 0
        for i in 0..<2_000_000 { x &+= UInt64(i) }
        let b = try #require(SchedStat.runQueueWait(pid: getpid()))
        #expect(b >= a)
        withExtendedLifetime(x) {}
        #expect(SchedStat.runQueueWait(pid: 0) == nil)
        #expect(SchedStat.runQueueWait(pid: Int32.max) == nil)
    }
}
