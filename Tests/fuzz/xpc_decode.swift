// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: the Swift XPC decoder (XPCMessage.decode, nested
// attributes) and RegisterSequence.decode, held to the nucleus's own checks
// (module/xpccheck.c, linked in through xpccheck_bridge.c).
//
// An input is one message as a channel delivers it. Asserted:
//  - the decoder never traps, and accepts exactly what the nucleus accepts
//    (the daemon forwards a u-driver's bytes to the kernel unchanged), except
//    strings that are not UTF-8, which only Swift refuses;
//  - decode → encode → decode gives the same header and attributes, and the
//    encoder's bytes are a fixed point; nested children re-encode to a
//    payload of their parent's length that decodes to them;
//  - typed reads agree with the payload bytes;
//  - RegisterSequence.decode accepts a REG_SEQ exactly when the nucleus's
//    parsers do (for a BAR covering every aligned offset) and yields the same
//    steps; its steps re-encoded in the nested and the packed form decode
//    back to themselves.
import FuzzNucleusChecks
import XPC
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkMessage(bytes)
    // The same bytes with the header's length fixed up, so that mutations
    // which change the size still reach the attributes.
    if bytes.count >= XPCLimits.headerSize, bytes.count <= XPCLimits.messageMax {
        var fixed = bytes
        for i in 0..<4 { fixed[i] = UInt8(truncatingIfNeeded: bytes.count >> (8 * i)) }
        checkMessage(fixed)
    }
    return 0
}

/// Stops the run with `what` when a property does not hold.
func require(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
    if !ok {
        let text = Array("xpc_decode.swift:\(line): property violated: \(what())\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

func nucleusVerdict(_ bytes: [UInt8]) -> Int32 {
    bytes.withUnsafeBufferPointer { fuzz_nucleus_validate($0.baseAddress, $0.count) }
}

func checkMessage(_ bytes: [UInt8]) {
    let kernel = nucleusVerdict(bytes)
    let message: XPCMessage
    do {
        message = try XPCMessage.decode(bytes)
    } catch let e as XPCError {
        let onlySwift = e.code == .badString && e.message == "not UTF-8"
        require(kernel != 0 || onlySwift, "Swift refuses (\(e)), the nucleus accepts")
        return
    } catch {
        require(false, "decode threw a non-XPC error: \(error)")
        return
    }
    require(kernel == 0, "Swift accepts, the nucleus refuses (\(kernel)): \(bytes)")
    require(message.bytes == bytes, "decode kept other bytes")
    checkRoundTrip(message)
    for a in message.attributes { checkAttribute(a, depth: 0) }
    if message.op == .regSeq { checkRegisterSequence(message) }
}

func sameHeader(_ a: XPCMessage, _ b: XPCMessage) -> Bool {
    a.op == b.op && a.flags == b.flags && a.seq == b.seq && a.instance == b.instance
        && a.status == b.status && a.header.timeoutMicros == b.header.timeoutMicros
}

func checkRoundTrip(_ m: XPCMessage) {
    let again = XPCMessage(op: m.op, flags: m.flags, seq: m.seq, instance: m.instance, status: m.status,
                           timeoutMicros: m.header.timeoutMicros, attributes: m.attributes)
    require(again.bytes.count == m.bytes.count, "re-encoded \(again.bytes.count) bytes, decoded \(m.bytes.count)")
    let decoded: XPCMessage
    do { decoded = try XPCMessage.decode(again.bytes) } catch {
        require(false, "the encoder's bytes do not decode: \(error)")
        return
    }
    require(sameHeader(decoded, m), "header changed in the round trip")
    require(decoded.attributes == m.attributes, "attributes changed in the round trip")
    require(decoded.bytes == again.bytes, "the encoder's bytes are not a fixed point")
}

func checkAttribute(_ a: XPCAttribute, depth: Int) {
    guard let kind = a.id.kind else {
        require(false, "decoded an unknown attribute \(a.id.rawValue)")
        return
    }
    require(a.payload.count <= a.id.maxLength, "\(a.id) longer than its limit")
    func le(_ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(a.payload[i]) << (8 * UInt64(i)) }
        return v
    }
    switch kind {
    case .u8: require(a.payload.count == 1 && UInt64(a.u8) == le(1), "\(a.id) u8")
    case .u16: require(a.payload.count == 2 && UInt64(a.u16) == le(2), "\(a.id) u16")
    case .u32, .s32: require(a.payload.count == 4 && UInt64(a.u32) == le(4), "\(a.id) u32")
    case .u64: require(a.payload.count == 8 && a.u64 == le(8), "\(a.id) u64")
    case .mac: require(a.payload.count == 6, "\(a.id) mac")
    case .flag: require(a.payload.isEmpty, "\(a.id) flag")
    case .string:
        require(a.payload.last == 0 && a.string.utf8.count == a.payload.count - 1, "\(a.id) string")
    case .binary: break
    case .nested:
        require(depth + 1 < XPCLimits.nestMax, "\(a.id) nested too deep")
        let children = a.children
        // Padding bytes are not checked (by either side), so compare
        // lengths and what decodes, not bytes.
        let again = XPCAttribute.nested(a.id, children)
        require(again.payload.count == a.payload.count && again.children == children,
                "\(a.id): children do not re-encode to the payload")
        for c in children { checkAttribute(c, depth: depth + 1) }
    }
    if let r = a.id.range, [.u8, .u16, .u32, .u64].contains(kind) {
        require(r.contains(le(a.payload.count)), "\(a.id) out of its range")
    }
}

/// A step as it comes back from one wire form: what that form does not
/// carry for its kind is reset (a nested READ has no value, a nested DELAY
/// no offset; neither form keeps a mask but for POLL).
func normalized(_ s: RegisterOp, packed: Bool) -> RegisterOp {
    switch s.kind {
    case RegisterOp.delay:
        return RegisterOp(kind: s.kind, offset: packed ? s.offset : 0, value: s.value)
    case RegisterOp.read:
        return RegisterOp(kind: s.kind, offset: s.offset, width: s.width, value: packed ? s.value : 0)
    case RegisterOp.write:
        return RegisterOp(kind: s.kind, offset: s.offset, width: s.width, value: s.value)
    default:
        return s
    }
}

func checkRegisterSequence(_ m: XPCMessage) {
    var steps = [fuzz_regstep](repeating: fuzz_regstep(), count: XPCLimits.sequenceMaxOps)
    let count = m.bytes.withUnsafeBufferPointer { b in
        steps.withUnsafeMutableBufferPointer { fuzz_nucleus_reg_seq(b.baseAddress, b.count, .max, $0.baseAddress) }
    }
    let ops: [RegisterOp]
    do { ops = try RegisterSequence.decode(m) } catch {
        // Swift does not check targets; so the nucleus must refuse too.
        require(count < 0, "Swift refuses a REG_SEQ (\(error)) the nucleus runs")
        return
    }
    require(ops.count <= XPCLimits.sequenceMaxOps, "\(ops.count) steps")
    let targetsOK = ops.allSatisfy { op in
        op.kind == RegisterOp.delay
            || ([1, 2, 4].contains(op.width) && op.offset % UInt32(op.width) == 0
                && UInt64(op.offset) + UInt64(op.width) <= UInt64(UInt32.max))
    }
    require((count >= 0) == targetsOK, "nucleus \(count), Swift \(ops.count) steps, targets ok: \(targetsOK)")
    if count >= 0 {
        require(Int(count) == ops.count, "nucleus \(count) steps, Swift \(ops.count)")
        for (op, s) in zip(ops, steps) {
            require(op.kind == s.kind, "kinds differ")
            if op.kind == RegisterOp.delay {
                require(min(op.value, XPCLimits.delayMaxMicros) == s.wait, "delays differ")
            } else {
                require(op.offset == s.off && UInt32(op.width) == s.width && op.value == s.value && op.mask == s.mask,
                        "steps differ: \(op) vs \(s)")
            }
        }
    }
    func again(_ attr: XPCAttribute) -> [RegisterOp]? {
        try? RegisterSequence.decode(XPCMessage(op: .regSeq, flags: .request, attributes: [attr]))
    }
    // The nested form carries widths and delays as attributes with declared
    // ranges (REG_WIDTH 1...4, DELAY_US up to 100 ms); the packed one does not.
    let nestable = ops.allSatisfy { op in
        op.kind == RegisterOp.delay ? op.value <= XPCLimits.delayMaxMicros : (1...4).contains(op.width)
    }
    if nestable {
        require(again(RegisterSequence.nested(ops)) == ops.map { normalized($0, packed: false) },
                "nested form does not round-trip")
    }
    if RegisterSequence.packable(ops), ops.count * 2 * RegisterSequence.slotSize <= XPCAttributeID.regSteps.maxLength {
        require(again(.binary(.regSteps, RegisterSequence.packed(ops))) == ops.map { normalized($0, packed: true) },
                "packed form does not round-trip")
    }
}
