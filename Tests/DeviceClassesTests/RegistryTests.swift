// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import ShadowDriver
import Testing
import XPC
@testable import DeviceClasses

/// Checks every registered class, so a new class is checked by adding its
/// registry line.
@Suite struct RegistryTests {
    @Test func classesAreFoundByWireIdAndName() {
        #expect(!DeviceClasses.all.isEmpty)
        #expect(Set(DeviceClasses.all.map(\.wireClass)).count == DeviceClasses.all.count, "one descriptor per wire class")
        for c in DeviceClasses.all {
            #expect(DeviceClasses.descriptor(c.wireClass)?.name == c.name)
            #expect(DeviceClasses.named(c.name)?.wireClass == c.wireClass)
            #expect(XPCDeviceClass(name: c.name) == c.wireClass, "the name round-trips through the wire enum")
            for a in c.aliases { #expect(DeviceClasses.named(a)?.wireClass == c.wireClass) }
        }
        #expect(DeviceClasses.named("network")?.wireClass == .net)
        #expect(DeviceClasses.named("sounds") == nil)
        #expect(DeviceClasses.names == "sound, net, input, usb-host")
        #expect(DeviceClasses.named("mouse")?.wireClass == .input)
    }

    @Test func wireClassNamesAreConfigSpellings() {
        #expect(XPCDeviceClass.sound.name == "sound" && XPCDeviceClass.net.name == "net")
        for c in XPCDeviceClass.allCases {
            #expect(c.name.allSatisfy { $0.isLowercase || $0 == "-" }, "\(c.name)")
        }
    }

    @Test func everyClassIsComplete() {
        for c in DeviceClasses.all {
            #expect(!c.operations.isEmpty, "\(c.name) offers drvctl call operations")
            #expect(Set(c.operations.map(\.name)).count == c.operations.count, "\(c.name): operation names are unique")
            #expect(c.operation(CallParameters.listOperations) == nil, "\(c.name): `help` is the daemon's")
            let shadow = c.makeShadow()
            #expect(shadow.replayLog(instance: 1).isEmpty && shadow.records(instance: 1).isEmpty, "\(c.name): an empty shadow")
            #expect(!c.registration("x").isEmpty)
            // Nothing in an empty DEVICE_INFO: no values, no lines, no trap.
            let empty = c.decodeStatus(XPCMessage.reply(to: XPCMessage(op: .deviceInfo, flags: .request)))
            #expect(empty.fields.isEmpty && empty.values.isEmpty, "\(c.name)")
        }
    }

    /// Each operation refuses surplus arguments and garbage, naming what
    /// it expected; an upcall it builds is one its shadow keeps or a getter.
    @Test func everyOperationRejectsBadArguments() throws {
        for c in DeviceClasses.all {
            for op in c.operations {
                let surplus = Array(repeating: "zz", count: 9)
                #expect(throws: OperationArgumentError.self, "\(c.name) \(op.name) \(surplus)") { try op.parse(surplus) }
                let garbage = ["\u{1}not-an-argument"]
                if !op.synopsis.isEmpty {
                    #expect(throws: OperationArgumentError.self, "\(c.name) \(op.name)") { try op.parse(garbage) }
                    #expect(throws: OperationArgumentError.self, "\(c.name) \(op.name) needs arguments") { try op.parse([]) }
                }
            }
        }
    }

    @Test func soundOperationsParse() throws {
        let s = SoundClass.descriptor
        let (op, a) = try #require(s.operation("mixer-set")).parse(["pcm", "55"])
        #expect(op == .sndMixerPut && a == [.u16(.mixerControl, 2), .u32(.mixerValue, 55)])
        let (g, ga) = try #require(s.operation("mixer-get")).parse(["master-mute"])
        #expect(g == .sndMixerGet && ga == [.u16(.mixerControl, 3)])
        func message(_ args: [String]) -> String {
            do { _ = try s.operation("mixer-set")?.parse(args); return "" } catch { return "\(error)" }
        }
        #expect(message(["master", "101"]) == "value must be 0...100")
        #expect(message(["master-mute", "2"]) == "value must be 0...1")
        #expect(message(["bass", "1"]) == "no mixer control bass; expected master, pcm or master-mute")
        #expect(message(["master"]) == "mixer-set needs a value")
        let reply = XPCMessage.reply(to: XPCMessage(op: .sndMixerGet, flags: .request), attributes: [.u32(.mixerValue, 42)])
        #expect(try #require(s.operation("mixer-get")).result(reply) == ["value": "42"])
    }

    @Test func netOperationsParse() throws {
        let n = NetClass.descriptor
        let group = try #require(MACAddress("01:00:5e:00:00:fb"))
        let (op, a) = try #require(n.operation("rx-mode")).parse(["allmulti", "01:00:5e:00:00:fb"])
        #expect(op == .netSetRxMode && a == [.u32(.rxFlags, 2), .nested(.mcList, [.mac(.mac, group)])])
        #expect(try #require(n.operation("rx-mode")).parse(["promisc"]).1.first == .u32(.rxFlags, 1))
        #expect(throws: OperationArgumentError("not a multicast address: 02:00:00:00:00:01")) {
            try n.operation("rx-mode")?.parse(["normal", "02:00:00:00:00:01"])
        }
        #expect(throws: OperationArgumentError("get-link takes no arguments")) { try n.operation("get-link")?.parse(["x"]) }
        let (m, ma) = try #require(n.operation("set-mac")).parse(["02:00:00:00:00:07"])
        let unicast = try #require(MACAddress("02:00:00:00:00:07"))
        #expect(m == .netSetMac && ma == [.mac(.mac, unicast)])
        let link = XPCMessage.reply(to: XPCMessage(op: .netGetLink, flags: .request),
                                    attributes: [.u8(.linkUp, 1), .u32(.linkSpeed, 100), .u8(.linkDuplex, 0)])
        #expect(try #require(n.operation("get-link")).result(link) == ["link": "up", "speed": "100", "duplex": "half"])
    }

    @Test func replyContractsAreTheClasses() {
        let get = XPCMessage(op: .sndMixerGet, flags: .request, attributes: [.u16(.mixerControl, 3)])
        #expect(SoundClass.descriptor.replyViolation(get, .reply(to: get, attributes: [.u32(.mixerValue, 1)])) == nil)
        #expect(SoundClass.descriptor.replyViolation(get, .reply(to: get, attributes: [.u32(.mixerValue, 2)]))
                == ReplyViolation("MIXER_VALUE 2 outside 0...1", attribute: .mixerValue))
        #expect(SoundClass.descriptor.replyViolation(get, .reply(to: get))?.attribute == .mixerValue)
        let link = XPCMessage(op: .netGetLink, flags: .request)
        #expect(NetClass.descriptor.replyViolation(link, .reply(to: link, attributes: [.u8(.linkUp, 1), .u32(.linkSpeed, 1000)])) == nil)
        #expect(NetClass.descriptor.replyViolation(link, .reply(to: link, attributes: [.u8(.linkUp, 1), .u32(.linkSpeed, 42)]))?
            .message == "LINK_SPEED 42 Mbit/s is not 10, 100 or 1000")
        // A class checks only its own ops.
        #expect(NetClass.descriptor.replyViolation(get, .reply(to: get, attributes: [.u32(.mixerValue, 900)])) == nil)
    }
}

@Suite struct StatusDecodingTests {
    func info(_ a: [XPCAttribute]) -> XPCMessage {
        XPCMessage.reply(to: XPCMessage(op: .deviceInfo, flags: .request), attributes: a)
    }

    /// RX_FLAGS and MC_HASH decide the mode, whatever the chip; RX_CONFIG
    /// and MC_FILTER are shown when a chip sends them, never interpreted.
    @Test func netRxModeComesFromRxFlagsAndTheHashBitmap() {
        func mode(_ flags: UInt32, _ hash: [UInt8], rxConfig: UInt32? = nil) -> String? {
            var a: [XPCAttribute] = [.u32(.rxFlags, flags), .binary(.mcHash, hash)]
            if let rxConfig { a.append(.u32(.rxConfig, rxConfig)) }
            return NetClass.descriptor.decodeStatus(info(a)).values["rxMode"].flatMap { if case .string(let s) = $0 { s } else { nil } }
        }
        #expect(mode(1, [0xff]) == "promiscuous")
        #expect(mode(3, []) == "promiscuous")
        #expect(mode(2, [0, 0]) == "allmulti")
        #expect(mode(0, [0, 0, 0, 0x10]) == "multicast")
        #expect(mode(0, [0, 0, 0, 0]) == "normal")
        #expect(mode(0, []) == "normal")
        // RxConfig's AcceptAllPhys (bit 0) is RTL8139's business, not the daemon's.
        #expect(mode(0, [], rxConfig: 0x0f) == "normal")
    }

    @Test func netStatusValuesAndLines() {
        let mac = MACAddress("52:54:00:12:34:56") ?? .broadcast
        let s = NetClass.descriptor.decodeStatus(info([
            .mac(.mac, mac), .u32(.rxFlags, 0), .binary(.mcHash, [0x01, 0, 0, 0, 0, 0, 0x80, 0x00, 0x04]),
            .u32(.rxConfig, 0x0000_f70e), .u64(.mcFilter, 0x0080_0000_0000_0001),
            .u8(.linkUp, 1), .u64(.statRxPackets, 5), .u64(.statTxPackets, 6), .u64(.statRxBytes, 2048),
            .u64(.statTxBytes, 100), .u64(.statEchoed, 4)]))
        #expect(s.values["mac"] == .string("52:54:00:12:34:56"))
        #expect(s.values["rxMode"] == .string("multicast"))
        #expect(s.values["multicastHashBits"] == .array([.int(0), .int(55), .int(66)]))
        #expect(s.values["multicastFilter"] == .string("0x0080000000000001"))
        #expect(s.values["rxConfig"] == .int(0xf70e))
        #expect(s.values["linkUp"] == .bool(true) && s.values["echoed"] == .int(4))
        #expect(s.fields.map(\.label) == ["MAC", "Rx mode", "Link", "Packets"])
        #expect(s.fields[1].text == "multicast (hash bits 0, 55, 66; filter 0x0080000000000001; RxConfig 0x0000f70e)")
        #expect(s.fields[3].text == "rx 5 (2.0K), tx 6 (100 B), multicast 0, dropped 0, filtered 0")
    }

    @Test func aChipWithoutRxConfigStillHasAMode() {
        let s = NetClass.descriptor.decodeStatus(info([.u32(.rxFlags, 2), .binary(.mcHash, [0xff, 0xff])]))
        #expect(s.values["rxMode"] == .string("allmulti") && s.values["rxConfig"] == nil && s.values["multicastFilter"] == nil)
        #expect(s.fields.map(\.text) == ["allmulti (hash bits 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)"])
    }

    @Test func hashBitsAreLittleEndian() {
        #expect(NetClass.hashBits([]) == [])
        #expect(NetClass.hashBits([0b1000_0001, 0, 0b0000_0010]) == [0, 7, 17])
    }

    @Test func inputOperationsParseAndStatusReads() throws {
        let c = InputClass.descriptor
        #expect(try #require(c.operation("rate")).parse(["40"]) == (.inputSet, [.u8(.mouseRate, 40)]))
        #expect(try #require(c.operation("resolution")).parse(["8"]) == (.inputSet, [.u8(.mouseResolution, 3)]))
        #expect(try #require(c.operation("scaling")).parse(["2:1"]) == (.inputSet, [.u8(.mouseScaling, 2)]))
        #expect(try #require(c.operation("stream")).parse(["off"]) == (.inputSet, [.u8(.datapathOn, 0)]))
        #expect(throws: OperationArgumentError("rate 50: 10, 20, 40, 60, 80, 100 or 200 reports a second")) {
            try c.operation("rate")?.parse(["50"])
        }
        #expect(throws: OperationArgumentError("resolution 3: 1, 2, 4 or 8 counts/mm")) { try c.operation("resolution")?.parse(["3"]) }
        #expect(try #require(c.operation("resync-time")).parse(["5"]) == (.inputSet, [.u16(.mouseResyncTime, 5)]))
        #expect(try #require(c.operation("resync-time")).parse(["0"]) == (.inputSet, [.u16(.mouseResyncTime, 0)]))
        #expect(throws: OperationArgumentError("resync-time 3601: 0 (off) to 3600 seconds")) {
            try c.operation("resync-time")?.parse(["3601"])
        }
        #expect(throws: OperationArgumentError("resync-time -1: 0 (off) to 3600 seconds")) {
            try c.operation("resync-time")?.parse(["-1"])
        }
        let checking = c.decodeStatus(info([.u16(.mouseResyncTime, 5), .u64(.inputIdleChecks, 3), .u8(.inputCheckPending, 1)]))
        #expect(checking.values["resyncTime"] == .int(5) && checking.values["idleChecks"] == .int(3))
        #expect(checking.values["checkPending"] == .bool(true))
        #expect(checking.fields == [StatusField(label: "Idle check", text: "after 5 s of silence, 3 run, one under way")])
        #expect(c.decodeStatus(info([.u16(.mouseResyncTime, 0), .u64(.inputIdleChecks, 0)])).fields
                == [StatusField(label: "Idle check", text: "off, 0 run")])
        let s = c.decodeStatus(info([.u8(.inputProtocol, 3), .string(.inputName, "ImExPS/2 Generic Explorer Mouse"),
                                     .u8(.mouseRate, 100), .u8(.mouseResolution, 3), .u8(.mouseScaling, 1), .u8(.datapathOn, 1),
                                     .u64(.inputPackets, 500), .u64(.inputResyncs, 2), .u64(.inputLost, 0)]))
        #expect(s.values["protocol"] == .string("ImExPS/2 (wheel, 5 buttons)") && s.values["packets"] == .int(500))
        #expect(s.values["streaming"] == .bool(true) && s.values["lost"] == .int(0))
        #expect(s.fields == [StatusField(label: "Protocol", text: "ImExPS/2 (wheel, 5 buttons)"),
                             StatusField(label: "Mouse", text: "100 reports/s, 8 counts/mm (200 dpi), scaling 1:1, streaming"),
                             StatusField(label: "Packets", text: "500 reported, 2 bytes dropped to resync, 0 lost")])
    }

    @Test func usbHostOperationStatusAndReplyContract() throws {
        let c = USBHostClass.descriptor
        #expect(DeviceClasses.named("usb")?.wireClass == .usbHost && DeviceClasses.named("usb-host") == c)
        #expect(c.registration("usb3") == "bus usb3" && c.registeredName == .usbBusName)
        #expect(try #require(c.operation("fsbr")).parse(["on"]) == (.usbHcSet, [.u8(.usbFSBR, 1)]))
        #expect(try #require(c.operation("fsbr")).parse(["off"]) == (.usbHcSet, [.u8(.usbFSBR, 0)]))
        #expect(try #require(c.operation("fsbr")).parse(["auto"]) == (.usbHcSet, [.u8(.usbFSBR, 2)]))
        #expect(throws: OperationArgumentError("fsbr maybe: on, off or auto")) { try c.operation("fsbr")?.parse(["maybe"]) }
        let looping = c.decodeStatus(info([.u8(.usbHcState, 2), .u8(.usbFSBR, 2), .u8(.usbFSBRActive, 1), .u64(.usbFSBROns, 3)]))
        #expect(looping.values["fsbr"] == .string("auto") && looping.values["fsbrActive"] == .bool(true))
        #expect(looping.values["fsbrOns"] == .int(3))
        #expect(looping.fields == [StatusField(label: "Controller", text: "running, FSBR auto (looping now, linked 3 times)")])
        let s = c.decodeStatus(info([.u8(.usbHcState, 2), .u8(.usbFSBR, 0), .u8(.usbPorts, 2), .string(.usbBusName, "usb3"),
                                     .u32(.usbPortChanges, 0b100), .binary(.usbAddresses, [0b110] + Array(repeating: 0, count: 15)),
                                     .u64(.usbURBs, 40), .u64(.usbURBErrors, 1), .u64(.usbBytes, 1234), .u64(.usbHcErrors, 0),
                                     .u64(.usbPortPolls, 7), .u8(.datapathOn, 1)]))
        #expect(s.values["controller"] == .string("running") && s.values["fsbr"] == .string("off"))
        #expect(s.values["ports"] == .int(2) && s.values["portChanges"] == .int(4))
        #expect(s.values["addresses"] == .array([.int(1), .int(2)]) && s.values["urbs"] == .int(40))
        #expect(s.values["dataPath"] == .bool(true) && s.values["portPolls"] == .int(7))
        #expect(s.fields == [StatusField(label: "Controller", text: "running, FSBR off, 2 root-hub ports"),
                             StatusField(label: "Port changes", text: "2, 7 hub polls"),
                             StatusField(label: "Devices", text: "2 (addresses 1, 2)"),
                             StatusField(label: "URBs", text: "40 given back, 1 with an error, 1234 bytes, 0 controller errors")])
        // A data stage longer than usbcore asked for is outside the contract.
        let get = XPCMessage(op: .usbHubControl, flags: .request, attributes: USBHubRequest.portStatus(port: 1).attributes)
        #expect(c.replyViolation(get, .reply(to: get, attributes: [.binary(.usbData, [1, 1, 1, 0])])) == nil)
        #expect(c.replyViolation(get, .reply(to: get, attributes: [.binary(.usbData, [1, 1, 1, 0, 0])]))?.attribute == .usbData)
        #expect(c.replyViolation(get, .reply(to: get)) == nil, "an OUT request has no data stage")
    }

    @Test func soundStatus() {
        let s = SoundClass.descriptor.decodeStatus(info([
            .u32(.pcmRate, 44100), .u16(.codecMaster, 0x0c0c), .u64(.framesPlayed, 1000), .u64(.periods, 1),
            .u64(.underruns, 0), .u64(.glitches, 0)]))
        #expect(s.values["sampleRate"] == .int(44100) && s.values["masterVolumeRegister"] == .int(0x0c0c))
        #expect(s.fields == [StatusField(label: "Rate", text: "44100 Hz"), StatusField(label: "Master", text: "61% (register 0x0c0c)"),
                             StatusField(label: "Frames", text: "1000 played, 1 periods, 0 underruns, 0 glitches")])
    }

    @Test func volumeDecodesAttenuationAndMute() {
        #expect(SoundClass.volume(0x0808) == "74% (register 0x0808)")
        #expect(SoundClass.volume(0x0000) == "100% (register 0x0000)")
        #expect(SoundClass.volume(0x9f1f) == "0%, muted (register 0x9f1f)")
    }
}
