// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
import ShadowDriver
@testable import DeviceClasses

/// `drvctl verify` and the campaign's silent-corruption check: the device
/// read back (DEVICE_INFO) against what the shadow recorded.
@Suite struct ShadowDivergenceTests {
    func req(_ op: XPCOp, _ a: [XPCAttribute] = []) -> XPCMessage { XPCMessage(op: op, flags: .request, instance: 1, attributes: a) }
    func info(_ a: [XPCAttribute]) -> XPCMessage { XPCMessage(op: .deviceInfo, flags: .reply, instance: 1, attributes: a) }
    func shadow(_ cls: DeviceClassDescriptor, _ calls: [XPCMessage]) -> Shadow {
        var s = cls.makeShadow()
        for m in calls { s.record(m, reply: XPCMessage.reply(to: m)) }
        return s
    }
    let mac = MACAddress("52:54:00:aa:bb:cc")!
    let other = MACAddress("52:54:00:aa:bb:cd")!
    let group = MACAddress("01:00:5e:00:00:fb")!

    @Test func netMACReadBackMustEqualTheLastSetMAC() {
        let s = shadow(NetClass.descriptor, [req(.netSetMac, [.mac(.mac, mac)])])
        let same = s.divergences(from: info([.mac(.mac, mac)]))
        #expect(same.compared == 1 && same.differing.isEmpty)
        let (n, d) = s.divergences(from: info([.mac(.mac, other)]))
        #expect(n == 1)
        #expect(d == [ShadowDivergence(setting: "MAC", expected: "\(mac)", found: "\(other)")])
        #expect(s.divergences(from: info([])).differing.map(\.found) == ["none"], "no MAC read back at all")
    }

    /// INPUT_SETs merge: the log is one call with each setting's last
    /// value, and each is compared with what the nucleus says the mouse
    /// was told.
    @Test func inputSettingsMergeIntoOneReplayAndEachIsCompared() {
        let s = shadow(InputClass.descriptor, [req(.inputSet, [.u8(.mouseRate, 40)]),
                                               req(.inputSet, [.u8(.mouseScaling, 2), .u8(.datapathOn, 1)]),
                                               req(.inputSet, [.u8(.mouseRate, 200)])])
        #expect(s.replayLog(instance: 1).map(\.attributes)
                == [[.u8(.mouseRate, 200), .u8(.mouseScaling, 2), .u8(.datapathOn, 1)]])
        #expect(s.replayLog(instance: 1).first?.flags.contains(.reattach) == true)
        let same = s.divergences(from: info([.u8(.mouseRate, 200), .u8(.mouseResolution, 3), .u8(.mouseScaling, 2),
                                              .u8(.datapathOn, 1)]))
        #expect(same.compared == 3 && same.differing.isEmpty, "resolution was never set: not compared")
        let lost = s.divergences(from: info([.u8(.mouseRate, 40), .u8(.mouseScaling, 2), .u8(.datapathOn, 0)]))
        #expect(lost.differing == [ShadowDivergence(setting: "rate", expected: "200/s", found: "40/s"),
                                   ShadowDivergence(setting: "streaming", expected: "on", found: "off")])
        // The idle check's time is a setting too, compared with the
        // nucleus's MOUSE_RESYNC_TIME.
        let timed = shadow(InputClass.descriptor, [req(.inputSet, [.u16(.mouseResyncTime, 5)]),
                                                   req(.inputSet, [.u8(.mouseRate, 40)])])
        #expect(timed.replayLog(instance: 1).map(\.attributes) == [[.u8(.mouseRate, 40), .u16(.mouseResyncTime, 5)]])
        #expect(timed.divergences(from: info([.u8(.mouseRate, 40), .u16(.mouseResyncTime, 0)])).differing
                == [ShadowDivergence(setting: "resync-time", expected: "5 s", found: "0 s")])
        // A resync while the driver is down is answered; a setting waits.
        #expect(s.answer(req(.inputResync)) == .reply([]))
        #expect(s.answer(req(.inputSet, [.u8(.mouseRate, 10)])) == .queue)
        #expect(InputClass.descriptor.makeShadow().replayLog(instance: 1).isEmpty)
    }

    /// usb-host: FSBR and the root hub's software state (reset changes,
    /// suspended ports) from completed hub requests; one USB_HC_SET to
    /// replay; everything queued while recovering.
    @Test func usbHostKeepsFSBRAndTheRootHubsSoftwareState() throws {
        func hub(_ r: USBHubRequest) -> XPCMessage { req(.usbHubControl, r.attributes) }
        var s = shadow(USBHostClass.descriptor, [req(.usbHcSet, [.u8(.usbFSBR, 1)]),
                                                  hub(.setPort(.reset, port: 1)), hub(.setPort(.reset, port: 2)),
                                                  hub(.clearPort(.cReset, port: 1)), hub(.setPort(.suspend, port: 2)),
                                                  hub(.portStatus(port: 1)), hub(.clearPort(.cConnection, port: 2))])
        let log = s.replayLog(instance: 1)
        #expect(log.map(\.op) == [.usbHcSet])
        #expect(log.first?.flags.contains(.reattach) == true)
        #expect(log.first?.attributes == [.u8(.usbFSBR, 1), .u32(.usbResetChanges, 0b100), .u32(.usbSuspended, 0b100)])
        // A stalled request changed nothing; a resume clears the port.
        let stalled = hub(.setPort(.reset, port: 1))
        s.record(stalled, reply: XPCMessage.errorReply(to: stalled, errno: 32, message: "stall"))
        s.record(hub(.clearPort(.suspend, port: 2)), reply: XPCMessage.reply(to: hub(.clearPort(.suspend, port: 2))))
        #expect(s.replayLog(instance: 1).first?.attributes == [.u8(.usbFSBR, 1), .u32(.usbResetChanges, 0b100), .u32(.usbSuspended, 0)])
        // Out-of-range ports are not the root hub's.
        s.record(hub(.setPort(.reset, port: 0)), reply: XPCMessage.reply(to: hub(.setPort(.reset, port: 0))))
        s.record(hub(.setPort(.reset, port: 9)), reply: XPCMessage.reply(to: hub(.setPort(.reset, port: 9))))
        #expect(s.replayLog(instance: 1).first?.attributes[1] == .u32(.usbResetChanges, 0b100))
        // Recovering: root-hub requests and controller errors wait for the driver.
        #expect(s.answer(hub(.portStatus(port: 1))) == .queue)
        #expect(s.answer(req(.usbHcError, [.u32(.regValue, 0x28)])) == .queue)
        #expect(s.answer(req(.usbHcSet, [.u8(.usbFSBR, 0)])) == .queue)
        // The records rebuild it through the wire.
        let recs = try s.records(instance: 1).map {
            (request: try XPCMessage.decode($0.request.bytes), reply: try XPCMessage.decode($0.reply.bytes))
        }
        let rebuilt = Shadow(USBHostClass.descriptor.makeClassShadow(), rebuiltFrom: recs)
        #expect(rebuilt.replayLog(instance: 1).map(\.bytes) == s.replayLog(instance: 1).map(\.bytes))
        // Only a reset change alone is still handed over; nothing at all is no call.
        let resetOnly = shadow(USBHostClass.descriptor, [hub(.setPort(.reset, port: 1))])
        #expect(resetOnly.replayLog(instance: 1).first?.attributes == [.u32(.usbResetChanges, 0b10), .u32(.usbSuspended, 0)])
        let cleared = shadow(USBHostClass.descriptor, [hub(.setPort(.reset, port: 1)), hub(.clearPort(.cReset, port: 1))])
        #expect(cleared.replayLog(instance: 1).isEmpty)
    }

    @Test func usbHostComparesFSBRAndARegisteredControllerRuns() {
        let s = shadow(USBHostClass.descriptor, [req(.usbHcSet, [.u8(.usbFSBR, 1)])])
        let running: [XPCAttribute] = [.u8(.usbHcState, 2), .string(.usbBusName, "usb3")]
        let same = s.divergences(from: info([.u8(.usbFSBR, 1)] + running))
        #expect(same.compared == 2 && same.differing.isEmpty)
        let lost = s.divergences(from: info([.u8(.usbFSBR, 0), .u8(.usbHcState, 1), .string(.usbBusName, "usb3")]))
        #expect(lost.differing == [ShadowDivergence(setting: "FSBR", expected: "on", found: "off"),
                                   ShadowDivergence(setting: "controller", expected: "running", found: "halted")])
        let unregistered = USBHostClass.descriptor.makeShadow().divergences(from: info([.u8(.usbFSBR, 0), .u8(.usbHcState, 1)]))
        #expect(unregistered.compared == 0, "FSBR never set; not registered yet: a halted controller is no divergence")
    }

    @Test func netRxModeComparesFlagsAndWhetherGroupsAreHashed() {
        let promisc = shadow(NetClass.descriptor, [req(.netOpen), req(.netSetRxMode, [.u32(.rxFlags, 1), .nested(.mcList, [])])])
        #expect(promisc.divergences(from: info([.u32(.rxFlags, 1)])).differing.isEmpty)
        #expect(promisc.divergences(from: info([.u32(.rxFlags, 0)])).differing
                == [ShadowDivergence(setting: "rx mode", expected: "promiscuous", found: "normal")])

        let groups = shadow(NetClass.descriptor, [req(.netOpen), req(.netSetRxMode, [.u32(.rxFlags, 0), .nested(.mcList, [.mac(.mac, group)])])])
        #expect(groups.divergences(from: info([.u32(.rxFlags, 0), .binary(.mcHash, [0, 0x10])])).differing.isEmpty)
        #expect(groups.divergences(from: info([.u32(.rxFlags, 2)])).differing.isEmpty, "all-multicast fallback is allowed")
        #expect(groups.divergences(from: info([.u32(.rxFlags, 0), .binary(.mcHash, [0, 0])])).differing.map(\.found) == ["normal"],
                "a group asked for but nothing hashed")

        let normal = shadow(NetClass.descriptor, [req(.netOpen), req(.netSetRxMode, [.u32(.rxFlags, 0), .nested(.mcList, [])])])
        #expect(normal.divergences(from: info([.u32(.rxFlags, 0), .binary(.mcHash, [1])])).differing.map(\.found) == ["multicast"],
                "stray hash bits are a divergence")
        let closed = shadow(NetClass.descriptor, [req(.netSetRxMode, [.u32(.rxFlags, 1), .nested(.mcList, [])])])
        #expect(closed.divergences(from: info([.u32(.rxFlags, 0)])).compared == 0, "not open: the chip need not hold it yet")
    }

    @Test func netOpenInterfaceNeedsTheDataPathOn() {
        let s = shadow(NetClass.descriptor, [req(.netOpen)])
        #expect(s.divergences(from: info([.u8(.datapathOn, 1)])).differing.isEmpty)
        #expect(s.divergences(from: info([.u8(.datapathOn, 0)])).differing.map(\.setting) == ["data path"])
        #expect(NetClass.descriptor.makeShadow().divergences(from: info([.u8(.datapathOn, 0)])).compared == 0,
                "nothing recorded, nothing compared")
    }

    @Test func soundRateWithinTheDividerTolerance() {
        let s = shadow(SoundClass.descriptor, [req(.sndOpen), req(.sndHwParams, [.u32(.pcmRate, 48000)]), req(.sndPrepare)])
        #expect(s.divergences(from: info([.u32(.pcmRate, 48662)])).differing.isEmpty, "ES1370 divider for 48 kHz")
        #expect(s.divergences(from: info([.u32(.pcmRate, 44100)])).differing
                == [ShadowDivergence(setting: "PCM rate", expected: "48000 Hz", found: "44100 Hz")])
        let closed = shadow(SoundClass.descriptor, [req(.sndOpen), req(.sndHwParams, [.u32(.pcmRate, 48000)]), req(.sndClose)])
        #expect(closed.divergences(from: info([.u32(.pcmRate, 8000)])).compared == 0)
        // hw_params alone programs nothing (prepare does, as in
        // snd_ensoniq_playback2_prepare): the chip keeps its last rate.
        let unprepared = shadow(SoundClass.descriptor, [req(.sndOpen), req(.sndHwParams, [.u32(.pcmRate, 8000)])])
        #expect(unprepared.divergences(from: info([.u32(.pcmRate, 22050)])).compared == 0)
    }
}
