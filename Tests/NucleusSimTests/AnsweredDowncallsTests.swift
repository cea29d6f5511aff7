// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import NucleusSim

/// A downcall drivermgrd named with a CALL_ID runs once at nucleus-sim, as
/// at drvnucleus.ko: a repeat gets the first reply under its own seq.
@Suite struct AnsweredDowncallsTests {
    func alloc(_ id: UInt64?, seq: UInt32) -> XPCMessage {
        XPCMessage(op: .dmaAlloc, flags: .request, seq: seq, instance: 1,
                   attributes: [.u32(.dmaSize, 256)] + (id.map { [.u64(.callID, $0)] } ?? []))
    }

    func objects(_ n: SimNucleus) -> Int {
        n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1)).all(.object).count
    }

    @Test func aRepeatedCallIsAnsweredFromTheFirstTime() throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let before = objects(n)
        let first = n.handleDowncall(alloc(0x1234_0000_0007, seq: 7))
        let again = n.handleDowncall(alloc(0x1234_0000_0007, seq: 90))
        #expect(first.status == 0)
        #expect(again.seq == 90, "under the repeat's seq")
        #expect(try again.u32(.dmaHandle) == first.u32(.dmaHandle))
        #expect(objects(n) == before + 1, "allocated once")
        // Another id, or none, runs.
        let other = n.handleDowncall(alloc(0x1234_0000_0008, seq: 8))
        let plain = n.handleDowncall(alloc(nil, seq: 9))
        #expect(try other.u32(.dmaHandle) != first.u32(.dmaHandle))
        #expect(try plain.u32(.dmaHandle) != other.u32(.dmaHandle))
        #expect(objects(n) == before + 3)
    }

    @Test func theSameIDForAnotherOpRunsIt() throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let a = n.handleDowncall(alloc(42, seq: 1))
        let free = n.handleDowncall(XPCMessage(op: .dmaFree, flags: .request, seq: 2, instance: 1,
                                               attributes: [.u32(.dmaHandle, try a.u32(.dmaHandle)), .u64(.callID, 42)]))
        #expect(free.status == 0, "a DMA_FREE, not the DMA_ALLOC's reply")
        #expect(free.op == .dmaFree)
    }

    @Test func onlyTheLastCallsAreKept() throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let first = n.handleDowncall(alloc(1, seq: 1))
        for i in 0..<XPCLimits.answersKept {
            _ = n.handleDowncall(XPCMessage(op: .regRead, flags: .request, seq: UInt32(100 + i), instance: 1,
                                            attributes: [.u32(.regOffset, 0), .u8(.regWidth, 4), .u64(.callID, UInt64(100 + i))]))
        }
        let late = n.handleDowncall(alloc(1, seq: 2))
        #expect(try late.u32(.dmaHandle) != first.u32(.dmaHandle), "forgotten after \(XPCLimits.answersKept) others: run again")
    }
}
