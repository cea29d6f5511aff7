// SPDX-License-Identifier: GPL-2.0
import CDrvXPC

/// One step of a REG_SEQ downcall as the nucleus runs it (`enum drvxpc_regop`),
/// whichever of the two wire forms carried it.
public struct RegisterOp: Sendable, Equatable {
    /// `enum drvxpc_regop`: 1 read, 2 write, 3 poll, 4 delay.
    public let kind: UInt8
    public let offset: UInt32
    /// 1, 2 or 4 (0 for a delay).
    public let width: UInt8
    /// Write: the value; poll: the wanted value; delay: microseconds.
    public let value: UInt32
    /// Poll: the mask.
    public let mask: UInt32

    public static let read: UInt8 = UInt8(DRVXPC_REGOP_READ.rawValue)
    public static let write: UInt8 = UInt8(DRVXPC_REGOP_WRITE.rawValue)
    public static let poll: UInt8 = UInt8(DRVXPC_REGOP_POLL.rawValue)
    public static let delay: UInt8 = UInt8(DRVXPC_REGOP_DELAY.rawValue)

    public init(kind: UInt8, offset: UInt32 = 0, width: UInt8 = 0, value: UInt32 = 0, mask: UInt32 = .max) {
        self.kind = kind
        self.offset = offset
        self.width = width
        self.value = value
        self.mask = mask
    }

    /// Slots this step takes in the packed form (a poll carries its mask in a second one).
    public var slots: Int { kind == Self.poll ? 2 : 1 }
}

/// The two forms of a register sequence: nested `REG_SEQ` (one `REG_OP`
/// per step, 28–36 bytes each) and packed `REG_STEPS` (`struct
/// drvxpc_regstep`, 8 bytes a slot), which is what the u-drivers send.
public enum RegisterSequence {
    /// Bytes of one packed slot, from drvxpc.h.
    public static let slotSize = MemoryLayout<drvxpc_regstep>.size
    /// Most slots in one REG_STEPS attribute.
    public static var maxSlots: Int { XPCAttributeID.regSteps.maxLength / slotSize }

    /// Whether every step fits the packed form (offsets below 64 KiB).
    public static func packable(_ ops: [RegisterOp]) -> Bool { ops.allSatisfy { $0.offset <= 0xffff } }

    /// The REG_STEPS payload for `ops` (little-endian slots).
    public static func packed(_ ops: [RegisterOp]) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(ops.reduce(0) { $0 + $1.slots } * slotSize)
        for op in ops {
            b += [op.kind, op.width] + XPCAttribute.le(UInt16(truncatingIfNeeded: op.offset)) + XPCAttribute.le(op.value)
            if op.kind == RegisterOp.poll { b += [0, 0, 0, 0] + XPCAttribute.le(op.mask) }
        }
        return b
    }

    /// The REG_SEQ attribute (nested form) for `ops`.
    public static func nested(_ ops: [RegisterOp]) -> XPCAttribute {
        .nested(.regSeq, ops.map { op in
            switch op.kind {
            case RegisterOp.delay:
                return .nested(.regOp, [.u8(.regOpKind, op.kind), .u32(.delayMicros, op.value)])
            case RegisterOp.poll:
                return .nested(.regOp, [.u8(.regOpKind, op.kind), .u32(.regOffset, op.offset), .u8(.regWidth, op.width),
                                        .u32(.regMask, op.mask), .u32(.regValue, op.value)])
            case RegisterOp.write:
                return .nested(.regOp, [.u8(.regOpKind, op.kind), .u32(.regOffset, op.offset), .u8(.regWidth, op.width),
                                        .u32(.regValue, op.value)])
            default:
                return .nested(.regOp, [.u8(.regOpKind, op.kind), .u32(.regOffset, op.offset), .u8(.regWidth, op.width)])
            }
        })
    }

    /// The steps of a REG_SEQ message, from whichever form it carries;
    /// throws an error naming the attribute at fault. Offsets and widths
    /// are not checked against a BAR here.
    public static func decode(_ m: XPCMessage) throws -> [RegisterOp] {
        let seq = m.attribute(.regSeq), packed = m.attribute(.regSteps)
        switch (seq, packed) {
        case (nil, let p?): return try decode(packed: p.payload)
        case (let s?, nil): return try decode(nested: s)
        default:
            throw XPCError(.missingAttribute, attribute: .regSeq, "REG_SEQ needs REG_SEQ or REG_STEPS (one of them)")
        }
    }

    static func decode(packed b: [UInt8]) throws -> [RegisterOp] {
        guard b.count % slotSize == 0 else {
            throw XPCError(.wrongLength, attribute: .regSteps, "\(b.count) bytes, not whole \(slotSize)-byte slots")
        }
        func u32(_ i: Int) -> UInt32 { UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 }
        var ops: [RegisterOp] = []
        var i = 0
        while i < b.count {
            let kind = b[i], width = b[i + 1], off = UInt32(b[i + 2]) | UInt32(b[i + 3]) << 8, value = u32(i + 4)
            i += slotSize
            guard (RegisterOp.read...RegisterOp.delay).contains(kind) else {
                throw XPCError(.outOfRange, attribute: .regSteps, "step \(ops.count): kind \(kind)")
            }
            var mask = UInt32.max
            if kind == RegisterOp.poll {
                guard i < b.count, b[i] == 0 else {
                    throw XPCError(.truncated, attribute: .regSteps, "step \(ops.count): a POLL without its mask slot")
                }
                mask = u32(i + 4)
                i += slotSize
            }
            ops.append(RegisterOp(kind: kind, offset: off, width: kind == RegisterOp.delay ? 0 : width, value: value, mask: mask))
        }
        guard ops.count <= XPCLimits.sequenceMaxOps else {
            throw XPCError(.oversized, attribute: .regSteps, "\(ops.count) steps, at most \(XPCLimits.sequenceMaxOps)")
        }
        try checkDelays(ops, attribute: .regSteps)
        return ops
    }

    /// The delay steps together, each as the nucleus clamps it, at most
    /// `XPCLimits.sequenceMaxDelayMicros` (xpccheck.c's E2BIG).
    static func checkDelays(_ ops: [RegisterOp], attribute: XPCAttributeID) throws {
        var total: UInt64 = 0
        for op in ops where op.kind == RegisterOp.delay {
            total += UInt64(min(op.value, XPCLimits.delayMaxMicros))
            guard total <= UInt64(XPCLimits.sequenceMaxDelayMicros) else {
                throw XPCError(.oversized, attribute: attribute,
                               "delays of more than \(XPCLimits.sequenceMaxDelayMicros) µs in one sequence")
            }
        }
    }

    static func decode(nested seq: XPCAttribute) throws -> [RegisterOp] {
        let steps = seq.children
        guard steps.count <= XPCLimits.sequenceMaxOps else {
            throw XPCError(.oversized, attribute: .regSeq, "\(steps.count) steps, at most \(XPCLimits.sequenceMaxOps)")
        }
        let ops = try steps.map { s in
            guard s.id == .regOp else { throw XPCError(.unknownAttribute, attribute: s.id, "REG_SEQ holds only REG_OP") }
            let a = s.children
            func find(_ id: XPCAttributeID) -> XPCAttribute? { a.first { $0.id == id } }
            let kind = find(.regOpKind)?.u8 ?? 0
            switch kind {
            case RegisterOp.delay:
                return RegisterOp(kind: kind, value: find(.delayMicros)?.u32 ?? 1000)
            case RegisterOp.read, RegisterOp.write, RegisterOp.poll:
                guard let off = find(.regOffset)?.u32 else { throw XPCError(.missingAttribute, attribute: .regOffset) }
                let value = find(.regValue)?.u32
                if kind == RegisterOp.write && value == nil { throw XPCError(.missingAttribute, attribute: .regValue) }
                return RegisterOp(kind: kind, offset: off, width: find(.regWidth)?.u8 ?? 4, value: value ?? 0,
                                  mask: find(.regMask)?.u32 ?? .max)
            default:
                throw XPCError(.outOfRange, attribute: .regOpKind, "step kind \(kind)")
            }
        }
        try checkDelays(ops, attribute: .regSeq)
        return ops
    }
}
