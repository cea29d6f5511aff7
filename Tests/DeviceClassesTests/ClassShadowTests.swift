// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
import ShadowDriver
@testable import DeviceClasses

@Suite struct ClassShadowTests {
    func req(_ op: XPCOp, _ a: [XPCAttribute] = []) -> XPCMessage { XPCMessage(op: op, flags: .request, instance: 1, attributes: a) }
    func ok(_ m: XPCMessage, _ a: [XPCAttribute] = []) -> XPCMessage { XPCMessage.reply(to: m, attributes: a) }
    func put(_ c: UInt16, _ v: UInt32) -> XPCMessage { req(.sndMixerPut, [.u16(.mixerControl, c), .u32(.mixerValue, v)]) }

    @Test func soundLogIsCompactedAndOrdered() throws {
        var s = SoundClass.descriptor.makeShadow()
        for m in [req(.sndOpen), req(.sndHwParams, [.u32(.pcmRate, 48000)]), req(.sndPrepare),
                  put(1, 60), put(2, 100), put(1, 40), req(.sndHwParams, [.u32(.pcmRate, 44100)]), req(.sndPrepare)] {
            s.record(m, reply: ok(m))
        }
        let log = s.replayLog(instance: 3)
        #expect(log.map(\.op) == [.sndOpen, .sndHwParams, .sndPrepare, .sndMixerPut, .sndMixerPut])
        #expect(log.allSatisfy { $0.flags.contains(.reattach) && $0.instance == 3 })
        #expect(try log[1].u32(.pcmRate) == 44100, "only the last hw_params")
        #expect(log[3...].map { ($0.attribute(.mixerControl)?.u16, $0.attribute(.mixerValue)?.u32) }.map { "\($0.0 ?? 0)=\($0.1 ?? 0)" }
                == ["2=100", "1=40"], "last value per control, in the order last set")
    }

    @Test func failedCallsAndCloseAreNotReplayed() {
        var s = SoundClass.descriptor.makeShadow()
        let hp = req(.sndHwParams, [.u32(.pcmRate, 96000)])
        s.record(hp, reply: XPCMessage.reply(to: hp, status: -22))
        #expect(s.replayLog(instance: 1).isEmpty)
        for m in [req(.sndOpen), req(.sndHwParams, [.u32(.pcmRate, 8000)]), req(.sndPrepare), req(.sndClose)] { s.record(m, reply: ok(m)) }
        #expect(s.replayLog(instance: 1).isEmpty)
        let p = req(.sndHwParams, [.u32(.pcmRate, 8000)])
        s.record(p, reply: ok(p))
        #expect(s.replayLog(instance: 1).map(\.op) == [.sndHwParams], "hw_params after prepare un-prepares")
    }

    @Test func activeSoundShadowAnswersGettersAndQueuesSetters() {
        var s = SoundClass.descriptor.makeShadow()
        let g = req(.sndMixerGet, [.u16(.mixerControl, 2)])
        #expect(s.answer(g) == .queue, "never seen: the driver must answer")
        s.record(g, reply: ok(g, [.u16(.mixerControl, 2), .u32(.mixerValue, 74)]))
        #expect(s.answer(g) == .reply([.u16(.mixerControl, 2), .u32(.mixerValue, 74)]))
        s.record(put(2, 30), reply: ok(put(2, 30)))
        #expect(s.answer(g) == .reply([.u16(.mixerControl, 2), .u32(.mixerValue, 30)]))
        #expect(s.answer(put(2, 10)) == .queue)
        #expect(s.answer(req(.sndHwParams)) == .queue)
    }

    @Test func netLogAndAnswers() throws {
        var s = NetClass.descriptor.makeShadow()
        let mac = req(.netSetMac, [.mac(.mac, MACAddress("02:00:00:00:00:01") ?? .broadcast)])
        let rx1 = req(.netSetRxMode, [.u32(.rxFlags, 0)]), rx2 = req(.netSetRxMode, [.u32(.rxFlags, 1)])
        for m in [req(.netOpen), rx1, mac, rx2] { s.record(m, reply: ok(m)) }
        let log = s.replayLog(instance: 2)
        #expect(log.map(\.op) == [.netSetMac, .netOpen, .netSetRxMode])
        #expect(try log[2].u32(.rxFlags) == 1)
        let link = req(.netGetLink)
        #expect(s.answer(link) == .reply([.u8(.linkUp, 1), .u32(.linkSpeed, 100), .u8(.linkDuplex, 1)]))
        s.record(link, reply: ok(link, [.u8(.linkUp, 1), .u32(.linkSpeed, 10), .u8(.linkDuplex, 0)]))
        #expect(s.answer(link) == .reply([.u8(.linkUp, 1), .u32(.linkSpeed, 10), .u8(.linkDuplex, 0)]))
        #expect(s.answer(req(.netWatchdog)) == .reply([]))
        #expect(s.answer(rx1) == .queue)
        s.record(req(.netStop), reply: ok(req(.netStop)))
        #expect(!s.replayLog(instance: 2).map(\.op).contains(.netOpen))
    }
    /// drivermgrd persists the shadow only after calls `Shadow.keeps`: any
    /// other op must leave the shadow as it was, or a change would be lost
    /// with the daemon.
    @Test func opsTheShadowDoesNotKeepChangeNothing() {
        for cls in DeviceClasses.all {
            var base = cls.makeShadow()
            for m in [req(.sndOpen), put(1, 50), req(.netOpen), req(.netSetRxMode, [.u32(.rxFlags, 1)])] {
                base.record(m, reply: ok(m))
            }
            let before = base.records(instance: 1).map { $0.request.bytes + $0.reply.bytes }
            for raw in UInt16(0)..<256 where !base.keeps(XPCOp(rawValue: raw)) {
                var s = base
                let m = req(XPCOp(rawValue: raw), [.u16(.mixerControl, 1), .u32(.mixerValue, 7), .u32(.rxFlags, 0),
                                                   .u8(.linkUp, 0), .mac(.mac, .broadcast)])
                s.record(m, reply: ok(m, [.u16(.mixerControl, 1), .u32(.mixerValue, 9), .u8(.linkUp, 0)]))
                #expect(s.records(instance: 1).map { $0.request.bytes + $0.reply.bytes } == before, "op \(raw)")
            }
        }
    }

    /// What drivermgrd persists for a restarted daemon: rebuilt through the
    /// wire encoding, the shadow replays and answers as the original did.
    @Test func recordsRebuildTheShadowThroughTheWire() throws {
        func roundTrip(_ s: Shadow, _ cls: DeviceClassDescriptor) throws -> Shadow {
            let recs = try s.records(instance: 4).map {
                (request: try XPCMessage.decode($0.request.bytes), reply: try XPCMessage.decode($0.reply.bytes))
            }
            return Shadow(cls.makeClassShadow(), rebuiltFrom: recs)
        }
        var snd = SoundClass.descriptor.makeShadow()
        let g = req(.sndMixerGet, [.u16(.mixerControl, 3)])
        for (m, r) in [(req(.sndOpen), [XPCAttribute]()), (req(.sndHwParams, [.u32(.pcmRate, 44100), .u32(.dmaHandle, 7)]), []),
                       (req(.sndPrepare), []), (put(2, 70), []), (put(1, 35), []),
                       (g, [.u16(.mixerControl, 3), .u32(.mixerValue, 1)])] {
            snd.record(m, reply: ok(m, r))
        }
        let snd2 = try roundTrip(snd, SoundClass.descriptor)
        #expect(snd2.replayLog(instance: 4).map(\.bytes) == snd.replayLog(instance: 4).map(\.bytes))
        #expect(snd2.answer(g) == .reply([.u16(.mixerControl, 3), .u32(.mixerValue, 1)]), "a getter's last answer survives")
        #expect(snd2.replayLog(instance: 4).map(\.op) == [.sndOpen, .sndHwParams, .sndPrepare, .sndMixerPut, .sndMixerPut])

        var net = NetClass.descriptor.makeShadow()
        let link = req(.netGetLink)
        for (m, r) in [(req(.netSetMac, [.mac(.mac, MACAddress("02:00:00:00:00:09") ?? .broadcast)]), [XPCAttribute]()),
                       (req(.netOpen), []), (req(.netSetRxMode, [.u32(.rxFlags, 2)]), []),
                       (link, [.u8(.linkUp, 0), .u32(.linkSpeed, 10), .u8(.linkDuplex, 0)])] {
            net.record(m, reply: ok(m, r))
        }
        let net2 = try roundTrip(net, NetClass.descriptor)
        #expect(net2.replayLog(instance: 4).map(\.bytes) == net.replayLog(instance: 4).map(\.bytes))
        #expect(net2.answer(link) == .reply([.u8(.linkUp, 0), .u32(.linkSpeed, 10), .u8(.linkDuplex, 0)]))
        #expect(Shadow(NetShadow(), rebuiltFrom: []).replayLog(instance: 4).isEmpty)
        // A sound record given to a net shadow builds nothing.
        #expect(Shadow(NetShadow(), rebuiltFrom: snd.records(instance: 4)).replayLog(instance: 4).isEmpty)
    }
}
