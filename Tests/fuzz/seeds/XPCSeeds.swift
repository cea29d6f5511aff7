// SPDX-License-Identifier: GPL-2.0
// Writes the seed corpus of the XPC harnesses (nucleus_checks, xpc_decode):
// real messages from the encoder, one of each shape the daemon, the
// u-drivers and the nucleus exchange.  `make fuzz-seeds` runs it.
import Foundation

@main
struct XPCSeeds {
    static func main() throws {
        let dirs = CommandLine.arguments.dropFirst()
        let mac = MACAddress("52:54:00:12:34:56") ?? .broadcast
        let group = MACAddress("01:00:5e:00:00:01") ?? .broadcast
        let steps = [RegisterOp(kind: RegisterOp.write, offset: 0x37, width: 1, value: 0x10),
                     RegisterOp(kind: RegisterOp.poll, offset: 0x37, width: 1, value: 0, mask: 0x10),
                     RegisterOp(kind: RegisterOp.read, offset: 0x00, width: 4),
                     RegisterOp(kind: RegisterOp.delay, value: 100)]
        let messages: [(String, XPCMessage)] = [
            ("hello", XPCMessage(op: .hello, flags: .request, seq: 1, attributes: [
                .u32(.version, 1), .string(.driverName, "rtl8139"), .u8(.deviceClass, 2)])),
            ("device-add", XPCMessage(op: .deviceAdd, flags: .notify, instance: 1, attributes: [
                .u16(.pciVendor, 0x10ec), .u16(.pciDevice, 0x8139), .u8(.pciRevision, 0x20),
                .string(.pciSlot, "0000:00:04.0"), .u32(.barSize, 256), .u32(.irq, 11), .u8(.deviceClass, 2)])),
            ("reg-read", XPCMessage(op: .regRead, flags: .request, seq: 7, instance: 1, timeoutMicros: 256, attributes: [
                .u32(.regOffset, 0x44), .u8(.regWidth, 4)])),
            ("reg-write", XPCMessage(op: .regWrite, flags: .request, seq: 8, instance: 1, timeoutMicros: 256, attributes: [
                .u32(.regOffset, 0x37), .u8(.regWidth, 1), .u32(.regValue, 0x0c)])),
            ("reg-seq-nested", XPCMessage(op: .regSeq, flags: .request, seq: 9, instance: 1, timeoutMicros: 256,
                                          attributes: [RegisterSequence.nested(steps)])),
            ("reg-seq-packed", XPCMessage(op: .regSeq, flags: .request, seq: 10, instance: 1, timeoutMicros: 256,
                                          attributes: [.binary(.regSteps, RegisterSequence.packed(steps))])),
            ("dma-alloc", XPCMessage(op: .dmaAlloc, flags: .request, seq: 11, instance: 1, attributes: [
                .u32(.dmaSize, 8192 + 16), .u8(.objectRole, 2)])),
            ("reg-write-dma", XPCMessage(op: .regWriteDMA, flags: .request, seq: 12, instance: 1, timeoutMicros: 0x20000,
                                         attributes: [.u32(.dmaHandle, 3), .u32(.regOffset, 0x2800), .u8(.regWidth, 4),
                                                      .u32(.dmaOffset, 0), .u8(.dmaShift, 0)])),
            ("net-register", XPCMessage(op: .netRegister, flags: .request, seq: 13, instance: 1, attributes: [.mac(.mac, mac)])),
            ("net-rx-mode", XPCMessage(op: .netSetRxMode, flags: .request, seq: 14, instance: 1, attributes: [
                .u32(.rxFlags, 2), .nested(.mcList, [.mac(.mac, group), .mac(.mac, mac)])])),
            ("net-carrier", XPCMessage(op: .netCarrier, flags: .request, seq: 15, instance: 1, attributes: [
                .u8(.linkUp, 1), .u32(.linkSpeed, 100), .u8(.linkDuplex, 1)])),
            ("snd-register", XPCMessage(op: .sndRegister, flags: .request, seq: 16, instance: 2, attributes: [
                .string(.cardName, "ENS1370"), .string(.chipName, "ES1370")])),
            ("snd-hw-params", XPCMessage(op: .sndHwParams, flags: .request, seq: 17, instance: 2, attributes: [
                .u32(.pcmRate, 44100), .u8(.pcmChannels, 2), .u8(.pcmFormat, 2), .u32(.pcmPeriodFrames, 1024),
                .u32(.pcmBufferFrames, 4096), .u32(.dmaHandle, 1)])),
            ("device-info-reply", XPCMessage(op: .deviceInfo, flags: .reply, seq: 18, instance: 1, attributes: [
                .u16(.pciVendor, 0x8086), .u16(.pciDevice, 0x100e), .string(.pciSlot, "0000:00:03.0"),
                .string(.ifname, "eth0"), .u64(.statRxPackets, 12345), .u64(.xpcBytes, 1 << 33),
                .nested(.object, [.u32(.objectID, 1), .u8(.objectKind, 1), .u8(.objectRole, 4), .u32(.dmaSize, 4096)]),
                .binary(.mcHash, [UInt8](repeating: 0, count: 512))])),
            ("error-reply", XPCMessage.errorReply(
                to: XPCMessage(op: .regRead, flags: .request, seq: 19, instance: 1),
                errno: 13, attribute: .regOffset, message: "register refused")),
            ("slice-struct", XPCMessage(op: .netOpen, flags: .request, seq: 20, instance: 1, attributes: [
                .nested(.sliceStruct, [.u16(.sliceStructID, 3),
                                       .nested(.sliceField, [.u16(.sliceFieldID, 1), .binary(.sliceFieldValue, [1, 0, 0, 0])]),
                                       .nested(.sliceField, [.u16(.sliceFieldID, 2), .binary(.sliceFieldValue, [0xff])])])])),
            ("sim-ping", XPCMessage(op: .simControl, flags: .request, seq: 21, instance: 1, attributes: [
                .u8(.simAction, 4), .u32(.count, 16)])),
            ("sandbox", XPCMessage(op: .sandbox, flags: .request, seq: 22, attributes: [
                .string(.syscallName, "read"), .string(.syscallName, "ioctl"), .u8(.faultKind, 5)])),
        ]
        for dir in dirs {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, m) in messages {
                _ = try XPCMessage.decode(m.bytes) // every seed is a valid message
                try Data(m.bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
            }
        }
    }
}
