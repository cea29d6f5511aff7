// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import XPC

@Suite struct CodecTests {
    /// The exact bytes of a small request: a change in the header layout or
    /// the attribute ids breaks the kernel ABI, and this test.
    @Test func goldenBytes() throws {
        let m = XPCMessage(op: .sndHwParams, flags: .request, seq: 7, instance: 2, timeoutMicros: 250_000,
                           attributes: [.u32(.pcmRate, 48000), .u8(.pcmChannels, 2)])
        let expected: [UInt8] = [
            40, 0, 0, 0,            // len
            82, 0, 1, 0,            // op SND_HW_PARAMS, flags REQUEST
            7, 0, 0, 0,             // seq
            2, 0, 0, 0,             // instance
            0, 0, 0, 0,             // status
            0x90, 0xd0, 0x03, 0,    // timeout_us 250000
            8, 0, 27, 0, 0x80, 0xbb, 0, 0,  // PCM_RATE (27) = 48000
            5, 0, 28, 0, 2, 0, 0, 0,        // PCM_CHANNELS (28) = 2, padded
        ]
        #expect(m.bytes == expected)
        let d = try XPCMessage.decode(expected)
        #expect(d.op == .sndHwParams && d.seq == 7 && d.instance == 2 && d.header.timeoutMicros == 250_000)
        #expect(try d.u32(.pcmRate) == 48000)
        #expect(try d.u8(.pcmChannels) == 2)
    }

    @Test func roundTripEveryKind() throws {
        let mac = try #require(MACAddress("52:54:00:12:34:56"))
        let m = XPCMessage(op: .hello, flags: .request, seq: 1, attributes: [
            .u32(.version, 1), .string(.driverName, "ens1371"), .u8(.deviceClass, 1),
            .u16(.pciVendor, 0x1274), .u64(.statRxBytes, 1 << 40), .mac(.mac, mac),
            .binary(.regDump, [1, 2, 3]),
            .nested(.mcList, [.mac(.mac, mac), .mac(.mac, .broadcast)]),
            .nested(.regSeq, [.nested(.regOp, [.u8(.regOpKind, 2), .u32(.regOffset, 0x44), .u32(.regValue, 9)])]),
        ])
        let d = try XPCMessage.decode(m.bytes)
        #expect(try d.string(.driverName) == "ens1371")
        #expect(try d.u16(.pciVendor) == 0x1274)
        #expect(try d.u64(.statRxBytes) == 1 << 40)
        #expect(try d.mac(.mac) == mac)
        #expect(d.attribute(.regDump)?.payload == [1, 2, 3])
        #expect(d.attribute(.mcList)?.children.map { MACAddress(bytes: $0.payload) } == [mac, .broadcast])
        let op = try #require(d.attribute(.regSeq)?.children.first)
        #expect(op.children.map(\.id) == [.regOpKind, .regOffset, .regValue])
        #expect(d.bytes == m.bytes)
    }

    @Test func seqPatchedInPlace() throws {
        let m = XPCMessage(op: .ping, flags: .request, seq: 1, attributes: [.u32(.version, 1)])
        let p = m.withSeq(0xdeadbeef)
        let d = try XPCMessage.decode(p.bytes)
        #expect(d.seq == 0xdeadbeef)
        #expect(Array(p.bytes[24...]) == Array(m.bytes[24...]))
    }

    private func expectError(_ code: XPCError.Code, _ bytes: [UInt8], attribute: XPCAttributeID? = nil) {
        do {
            _ = try XPCMessage.decode(bytes)
            Issue.record("decoded malformed input, expected \(code)")
        } catch let e as XPCError {
            #expect(e.code == code, "got \(e)")
            if let attribute { #expect(e.attribute == attribute) }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    private func header(len: Int, op: UInt16 = 2, flags: UInt16 = 1) -> [UInt8] {
        XPCAttribute.le(UInt32(len)) + XPCAttribute.le(op) + XPCAttribute.le(flags) + [UInt8](repeating: 0, count: 16)
    }

    @Test func malformedInputIsNamed() {
        expectError(.truncated, [])
        expectError(.truncated, Array(header(len: 24).prefix(23)))
        expectError(.badLength, header(len: 28))
        expectError(.oversized, header(len: 70000) + [UInt8](repeating: 0, count: 70000 - 24))
        expectError(.unknownOp, header(len: 24, op: 999))
        expectError(.badFlags, header(len: 24, flags: 0x100))
        expectError(.badFlags, header(len: 24, flags: 0x3))
        expectError(.badFlags, header(len: 24, flags: 0))
        // attribute header cut short
        expectError(.truncated, header(len: 26) + [8, 0])
        // attribute longer than what is left
        expectError(.truncated, header(len: 32) + [12, 0, 27, 0, 0, 0, 0, 0], attribute: .pcmRate)
        // unknown attribute id
        expectError(.unknownAttribute, header(len: 32) + [8, 0, 0x00, 0x30, 0, 0, 0, 0])
        // PCM_RATE with 3 bytes
        expectError(.wrongLength, header(len: 32) + [7, 0, 27, 0, 1, 2, 3, 0], attribute: .pcmRate)
        // the last attribute without its padding, at the top and nested
        // (drvnucleus.ko refuses both; found by Tests/fuzz/xpc_decode)
        expectError(.truncated, header(len: 29) + [5, 0, 12, 0, 4], attribute: .regWidth)
        expectError(.truncated, header(len: 36) + [9, 0, 0x0f, 0x80, 5, 0, 0x10, 0, 1, 0, 0, 0], attribute: .regOpKind)
        // attribute length below its own header
        expectError(.wrongLength, header(len: 28) + [2, 0, 27, 0])
        // PCM_RATE = 1 (range 4000...192000)
        expectError(.outOfRange, header(len: 32) + [8, 0, 27, 0, 1, 0, 0, 0], attribute: .pcmRate)
        // REG_WIDTH = 9
        expectError(.outOfRange, header(len: 32) + [5, 0, 12, 0, 9, 0, 0, 0], attribute: .regWidth)
        // string without NUL, with inner NUL, not UTF-8
        expectError(.badString, header(len: 32) + [8, 0, 2, 0, 65, 66, 67, 68], attribute: .driverName)
        expectError(.badString, header(len: 32) + [8, 0, 2, 0, 65, 0, 67, 0], attribute: .driverName)
        expectError(.badString, header(len: 32) + [7, 0, 2, 0, 0xff, 0xfe, 0, 0], attribute: .driverName)
        // nested bit on a plain attribute, and missing on a nested one
        expectError(.badNesting, header(len: 32) + [8, 0, 27, 0x80, 0x80, 0xbb, 0, 0], attribute: .pcmRate)
        expectError(.badNesting, header(len: 28) + [4, 0, UInt8(XPCAttributeID.mcList.rawValue), 0])
        // a bad attribute inside a nested one
        let inner: [UInt8] = [7, 0, UInt8(XPCAttributeID.mac.rawValue), 0, 1, 2, 3, 0]
        expectError(.wrongLength, header(len: 36) + [12, 0, UInt8(XPCAttributeID.mcList.rawValue), 0x80] + inner,
                    attribute: .mac)
    }

    @Test func nestingDepthIsBounded() {
        var a = XPCAttribute.nested(.regOp, [.u8(.regOpKind, 1)])
        for _ in 0..<6 { a = .nested(.regOp, [a]) }
        let m = XPCMessage(op: .regSeq, flags: .request, attributes: [a])
        expectError(.badNesting, m.bytes)
    }

    /// Random garbage and random mutations of a valid message: the decoder
    /// either decodes or throws, never traps.
    @Test func garbageNeverTraps() {
        var rng = SystemRandomNumberGenerator()
        let valid = XPCMessage(op: .netSetRxMode, flags: .request, seq: 3, attributes: [
            .u32(.rxFlags, 1), .nested(.mcList, [.mac(.mac, .broadcast)]), .string(.ifname, "eth0")]).bytes
        var decoded = 0
        for i in 0..<20_000 {
            var b: [UInt8]
            if i % 2 == 0 {
                b = (0..<Int.random(in: 0..<96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if b.count >= 4 { b.replaceSubrange(0..<4, with: XPCAttribute.le(UInt32(b.count))) }
            } else {
                b = valid
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if (try? XPCMessage.decode(b)) != nil { decoded += 1 }
        }
        #expect(decoded < 20_000)
    }

    @Test func errorReplyCarriesAttribute() throws {
        let req = XPCMessage(op: .regRead, flags: .request, seq: 9, instance: 1, attributes: [.u32(.regOffset, 0x400)])
        let r = XPCMessage.errorReply(to: req, errno: 13, attribute: .regOffset, message: "offset 0x400 outside BAR (256 bytes)")
        let d = try XPCMessage.decode(r.bytes)
        let e = try #require(d.remoteError)
        #expect(e.errno == 13 && e.attribute == .regOffset)
        #expect(e.description == "remote: REG_OFFSET: EACCES: offset 0x400 outside BAR (256 bytes)")
    }

    @Test func namesComeFromTheHeader() {
        #expect(XPCOp.sndHwParams.name == "SND_HW_PARAMS")
        #expect(XPCOp(rawValue: 999).name == "OP_999")
        #expect(XPCAttributeID.pcmRate.name == "PCM_RATE")
        #expect(XPCAttributeID.pcmRate.range == 4000...192000)
        #expect(XPCOp.regWrite.isDowncall && XPCOp.probe.isUpcall && XPCOp.hello.isControl && XPCOp.register.isManagement)
    }

    /// A downcall's deadline comes from the header: 2 s, but a PS/2
    /// command's covers libps2's longest wait (a reset: 2 x 1 s for its
    /// ACK, 4 s for its self-test).
    @Test func aDowncallsDeadlineIsItsOpsFromTheHeader() {
        #expect(XPCLimits.downcallDeadline == .seconds(2))
        #expect(XPCOp.regRead.downcallDeadline == XPCLimits.downcallDeadline)
        #expect(XPCOp.regSeq.downcallDeadline == XPCLimits.downcallDeadline)
        #expect(XPCOp.ps2Command.downcallDeadline >= .seconds(6))
        #expect(XPCOp(rawValue: 999).downcallDeadline == XPCLimits.downcallDeadline)
    }
}
