// SPDX-License-Identifier: GPL-2.0
import Testing
import CDrvXPC
@testable import XPC

@Suite struct RegisterSequenceTests {
    func message(_ a: [XPCAttribute]) -> XPCMessage { XPCMessage(op: .regSeq, flags: .request, instance: 1, attributes: a) }

    /// The slot layout is the header's struct drvxpc_regstep, byte for byte.
    @Test func packedSlotsAreTheHeadersStruct() {
        #expect(RegisterSequence.slotSize == 8)
        #expect(MemoryLayout<drvxpc_regstep>.offset(of: \drvxpc_regstep.offset) == 2)
        #expect(MemoryLayout<drvxpc_regstep>.offset(of: \drvxpc_regstep.value) == 4)
        let b = RegisterSequence.packed([RegisterOp(kind: RegisterOp.write, offset: 0x50, width: 1, value: 0xc0),
                                          RegisterOp(kind: RegisterOp.poll, offset: 0x10, width: 4, value: 0, mask: 1 << 23)])
        #expect(b == [2, 1, 0x50, 0, 0xc0, 0, 0, 0,   // WRITE 0x50.b = 0xc0
                      3, 4, 0x10, 0, 0, 0, 0, 0,      // POLL 0x10.l == 0 ...
                      0, 0, 0, 0, 0, 0, 0x80, 0])     // ... under mask 1 << 23
    }

    @Test func bothFormsDecodeToTheSameSteps() throws {
        let ops = [RegisterOp(kind: RegisterOp.read, offset: 0x37, width: 1),
                   RegisterOp(kind: RegisterOp.write, offset: 0x3c, width: 2, value: 0x7f),
                   RegisterOp(kind: RegisterOp.poll, offset: 0x04, width: 4, value: 0, mask: 0x400),
                   RegisterOp(kind: RegisterOp.delay, value: 100)]
        #expect(try RegisterSequence.decode(message([.binary(.regSteps, RegisterSequence.packed(ops))])) == ops)
        #expect(try RegisterSequence.decode(message([RegisterSequence.nested(ops)])) == ops)
        // And through the wire codec, as the nucleus and the daemon see it.
        let wire = message([.binary(.regSteps, RegisterSequence.packed(ops))]).bytes
        #expect(try RegisterSequence.decode(XPCMessage.decode(wire)) == ops)
    }

    @Test func malformedPackedStepsAreNamed() {
        func error(_ b: [UInt8]) -> XPCError? {
            do { _ = try RegisterSequence.decode(message([.binary(.regSteps, b)])); return nil } catch { return error as? XPCError }
        }
        #expect(error([1, 1, 0, 0, 0, 0, 0]) == XPCError(.wrongLength), "not whole slots")
        #expect(error([9, 1, 0, 0, 0, 0, 0, 0])?.attribute == .regSteps, "unknown kind")
        #expect(error([3, 4, 0, 0, 0, 0, 0, 0]) == XPCError(.truncated), "a POLL without its mask slot")
        #expect(error([3, 4, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0]) == XPCError(.truncated),
                "the mask slot must have kind 0")
        #expect(error(Array(repeating: 1, count: 8 * 513).enumerated().map { $0.offset % 8 == 0 ? 1 : 0 })
                == XPCError(.oversized), "513 steps")
    }

    /// A sequence that holds the ComboLock holds off the data path for
    /// all its delays: 20 ms of them in all (each clamped to 100 ms first,
    /// as the nucleus does), in both forms.
    @Test func aSequencesDelaysTogetherAreBounded() throws {
        let delay = { (us: UInt32) in RegisterOp(kind: RegisterOp.delay, value: us) }
        let atLimit = [delay(10_000), RegisterOp(kind: RegisterOp.read, offset: 0, width: 4), delay(10_000)]
        #expect(try RegisterSequence.decode(message([.binary(.regSteps, RegisterSequence.packed(atLimit))])) == atLimit)
        #expect(try RegisterSequence.decode(message([RegisterSequence.nested(atLimit)])) == atLimit)
        let over = atLimit + [delay(1)]
        func error(_ a: XPCAttribute) -> XPCError? {
            do { _ = try RegisterSequence.decode(message([a])); return nil } catch { return error as? XPCError }
        }
        let packed = error(.binary(.regSteps, RegisterSequence.packed(over)))
        #expect(packed == XPCError(.oversized) && packed?.attribute == .regSteps)
        let nested = error(RegisterSequence.nested(over))
        #expect(nested == XPCError(.oversized) && nested?.attribute == .regSeq)
        // 200 delays of 100 ms: refused, not summed past UInt32.
        #expect(throws: XPCError(.oversized)) {
            try RegisterSequence.decode(message([.binary(.regSteps, RegisterSequence.packed(Array(repeating: delay(.max), count: 200)))]))
        }
    }

    @Test func neitherOrBothFormsIsAnError() {
        #expect(throws: XPCError(.missingAttribute)) { try RegisterSequence.decode(message([])) }
        #expect(throws: XPCError(.missingAttribute)) {
            try RegisterSequence.decode(message([.binary(.regSteps, [4, 0, 0, 0, 1, 0, 0, 0]), RegisterSequence.nested([])]))
        }
    }
}
