// SPDX-License-Identifier: GPL-2.0
import CChips
import Synchronization
import Testing
@testable import NucleusSim
@testable import PSMouse
import UDriverKit
import XPC

/// The psmouse u-driver against the PS/2 mouse model behind the sim's
/// input nucleus, in process: every command is a PS2_COMMAND downcall the
/// nucleus runs byte by byte; the assertions read the mouse's own state
/// and what the nucleus's input device reported.
@Suite struct PSMouseTests {
    /// The downcalls a driver made, by op.
    final class Calls: Sendable {
        let ops = Mutex<[XPCOp]>([])
        var ps2: Int { ops.withLock { $0.filter { $0 == .ps2Command }.count } }
    }

    static func driver(_ n: SimNucleus, _ calls: Calls = Calls()) -> PSMouse {
        let device = Device(instance: 1) { m in
            calls.ops.withLock { $0.append(m.op) }
            return n.handleDowncall(m)
        }
        let id = n.inspect(1) { $0.identity } ?? DeviceIdentity(bus: .serio, vendor: 1, device: 0, slot: "serio1", barSize: 0)
        return PSMouse(device: device, info: DeviceInfo(instance: 1, driverName: "psmouse", deviceClass: .input, identity: id))
    }

    static func mouse<R: Sendable>(_ n: SimNucleus, _ f: @Sendable (PS2MouseModel) -> R) -> R? {
        n.inspect(1) { m in (m as? PS2MouseModel).map(f) } ?? nil
    }

    static func info(_ n: SimNucleus) throws -> XPCMessage {
        let r = n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
        if let e = r.remoteError { throw e }
        return r
    }

    /// The nucleus's idle checks asked for, and whether one is pending.
    static func checks(_ n: SimNucleus) throws -> [UInt64] {
        let i = try info(n)
        return [i.attribute(.inputIdleChecks)?.u64 ?? 99, UInt64(i.attribute(.inputCheckPending)?.u8 ?? 99)]
    }

    @Test func probeResetsKnocksUpToTheExplorerProtocolAndStreams() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let drv = Self.driver(n)
        #expect(try await drv.probe(reattach: false) == "ImExPS/2 Generic Explorer Mouse")
        #expect(Self.mouse(n) { $0.id } == UInt8(PSM_ID_EXPS))
        #expect(Self.mouse(n) { $0.resets } == 1)
        #expect(Self.mouse(n) { $0.enabled } == true)
        #expect(Self.mouse(n) { [$0.rate, $0.resolution] } == [100, 3], "psmouse's defaults: 100/s, 200 dpi")
        // 100 packets a second: a tenth of a second of motion, all of it
        // assembled as 4-byte Explorer packets with the wheel in them.
        for _ in 0..<10 { n.step(nanos: 10_000_000) }
        let i = try Self.info(n)
        #expect(i.attribute(.inputProtocol)?.u8 == XPCMouseProtocol.exps.rawValue)
        #expect(i.attribute(.inputPackets)?.u64 == 10)
        #expect(i.attribute(.inputLost)?.u64 == 0)
        #expect(i.attribute(.clientErrors)?.u64 == 0)
        #expect(i.attribute(.mouseRate)?.u8 == 100)
        #expect(i.attribute(.datapathOn)?.u8 == 1)
    }

    @Test func aSettingStopsStreamingAroundItAndAReplayOfItSendsNothing() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let calls = Calls()
        let drv = Self.driver(n, calls)
        _ = try await drv.probe(reattach: false)
        let before = calls.ps2
        try await drv.set(MouseSettings(rate: 40, scaling: 2), reattach: false)
        // DISABLE, SETRATE, SETSCALE21, ENABLE.
        #expect(calls.ps2 - before == 4)
        #expect(Self.mouse(n) { [$0.rate] } == [40])
        #expect(Self.mouse(n) { $0.scale21 } == true)
        #expect(Self.mouse(n) { $0.enabled } == true)
        let replayed = calls.ps2
        try await drv.set(MouseSettings(rate: 40, resolution: 3, scaling: 2, streaming: true), reattach: true)
        #expect(calls.ps2 == replayed, "a replayed setting the mouse has goes nowhere")
        try await drv.set(MouseSettings(streaming: false), reattach: false)
        #expect(Self.mouse(n) { $0.enabled } == false)
        #expect(try Self.info(n).attribute(.datapathOn)?.u8 == 0)
    }

    /// Found by the campaign: its rate exercises 200, 100, 80 in a row were
    /// QEMU's IntelliMouse knock, and the mouse changed protocol mid-stream.
    @Test func ratesSetInAKnocksOrderDoNotChangeTheProtocol() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let drv = Self.driver(n)
        _ = try await drv.probe(reattach: false)
        for rates: [UInt8] in [[200, 100, 80], [200, 200, 80]] {
            for r in rates { try await drv.set(MouseSettings(rate: r), reattach: false) }
            #expect(Self.mouse(n) { $0.id } == UInt8(PSM_ID_EXPS), "\(rates)")
            #expect(Self.mouse(n) { [$0.rate] } == [80])
        }
        for _ in 0..<5 { n.step(nanos: 25_000_000) }
        let i = try Self.info(n)
        #expect(i.attribute(.inputPackets)?.u64 ?? 0 > 0)
        #expect(i.attribute(.clientErrors)?.u64 == 0 && i.attribute(.inputLost)?.u64 == 0)
    }

    @Test func aNewDriverReattachesWithoutACommandAndTheStreamGoesOn() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let first = Self.driver(n)
        _ = try await first.probe(reattach: false)
        try await first.set(MouseSettings(rate: 200), reattach: false)
        for _ in 0..<5 { n.step(nanos: 10_000_000) }
        let calls = Calls()
        let second = Self.driver(n, calls)
        #expect(try await second.probe(reattach: true) == "ImExPS/2 Generic Explorer Mouse")
        #expect(calls.ps2 == 0)
        #expect(await second.proto == XPCMouseProtocol.exps.rawValue)
        #expect(await second.rate == 200, "the rate comes from the nucleus, not from a reset")
        #expect(Self.mouse(n) { $0.resets } == 1)
        for _ in 0..<5 { n.step(nanos: 10_000_000) }
        let i = try Self.info(n)
        #expect(i.attribute(.inputPackets)?.u64 == 20)
        #expect(i.attribute(.inputLost)?.u64 == 0)
        #expect(i.attribute(.clientErrors)?.u64 == 0)
    }

    @Test func aLossOfSyncIsResynchronisedAndAResetMouseIsBroughtBack() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let drv = Self.driver(n)
        _ = try await drv.probe(reattach: false)
        try await drv.set(MouseSettings(rate: 80), reattach: false)
        // Line noise between packets: dropped, the packets after it intact.
        n.step(nanos: 12_500_000)
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.noise([0x00, 0x01]) }
        n.step(nanos: 12_500_000)
        var i = try Self.info(n)
        #expect(i.attribute(.inputResyncs)?.u64 == 2)
        #expect(i.attribute(.inputPackets)?.u64 == 2)
        #expect(i.attribute(.clientErrors)?.u64 == 0)
        // The mouse reset behind the driver's back (as after a glitch):
        // the check finds it speaking bare PS/2 and knocks it back.
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.receive(UInt8(PSM_CMD_RESET_BAT & PSM_CMD_BYTE_MASK)) }
        #expect(Self.mouse(n) { $0.id } == UInt8(PSM_ID_PS2))
        try await drv.resync()
        #expect(Self.mouse(n) { $0.id } == UInt8(PSM_ID_EXPS))
        #expect(Self.mouse(n) { [$0.rate] } == [80])
        #expect(Self.mouse(n) { $0.enabled } == true)
        // A mouse still as it was is asked its id and its settings with
        // its stream stopped: DISABLE, GETID, GETINFO, ENABLE.
        let calls = Calls()
        let checked = Self.driver(n, calls)
        _ = try await checked.probe(reattach: true)
        try await checked.resync()
        #expect(calls.ps2 == 4)
        #expect(Self.mouse(n) { $0.resets } == 3, "the probe's, the glitch's, the first check's: none from the second")
        n.step(nanos: 12_500_000)
        i = try Self.info(n)
        #expect(i.attribute(.clientErrors)?.u64 == 0)
    }

    /// The idle check: silence past the resync time, then motion. The
    /// nucleus reports the packet that ended the silence and asks for one
    /// check; the driver's check finds the mouse as it was told and
    /// restarts the stream, not one packet lost.
    @Test func theFirstPacketAfterASilenceHasTheMouseCheckedAndLosesNothing() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let calls = Calls()
        let drv = Self.driver(n, calls)
        _ = try await drv.probe(reattach: false)
        try await drv.set(MouseSettings(resyncTime: 1), reattach: false)
        #expect(try Self.info(n).attribute(.mouseResyncTime)?.u16 == 1)
        for _ in 0..<5 { n.step(nanos: 10_000_000) }
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = true }
        for _ in 0..<15 { n.step(nanos: 100_000_000) }
        #expect(try Self.checks(n) == [0, 0], "silence alone asks for nothing")
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = false }
        n.step(nanos: 10_000_000)
        var i = try Self.info(n)
        #expect(i.attribute(.inputIdleChecks)?.u64 == 1)
        #expect(i.attribute(.inputCheckPending)?.u8 == 1)
        #expect(i.attribute(.inputPackets)?.u64 == 6, "the packet that ended the silence is reported")
        // More motion while the check is pending asks for no other.
        n.step(nanos: 10_000_000)
        #expect(try Self.checks(n) == [1, 1])
        let before = calls.ps2
        try await drv.resync()
        #expect(calls.ps2 - before == 4, "DISABLE, GETID, GETINFO, ENABLE")
        #expect(Self.mouse(n) { $0.resets } == 1)
        #expect(Self.mouse(n) { $0.enabled } == true)
        for _ in 0..<5 { n.step(nanos: 10_000_000) }
        i = try Self.info(n)
        #expect(i.attribute(.inputCheckPending)?.u8 == 0)
        #expect(i.attribute(.inputPackets)?.u64 == 12)
        #expect(i.attribute(.inputLost)?.u64 == 0)
        #expect(i.attribute(.clientErrors)?.u64 == 0)
        // Off: silence and motion ask for nothing.
        try await drv.set(MouseSettings(resyncTime: 0), reattach: false)
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = true }
        for _ in 0..<15 { n.step(nanos: 100_000_000) }
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = false }
        n.step(nanos: 10_000_000)
        #expect(try Self.checks(n) == [1, 0])
        // Streaming off on purpose: a byte after the silence (noise on
        // the line) is no packet, asks for no check and counts as none.
        try await drv.set(MouseSettings(streaming: false, resyncTime: 1), reattach: false)
        for _ in 0..<15 { n.step(nanos: 100_000_000) }
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.noise([0x08]) }
        n.step(nanos: 10_000_000)
        #expect(try Self.checks(n) == [1, 0], "noise while not streaming")
    }

    /// The check finds a mouse reset during the silence (its settings are
    /// the defaults again) and brings it back; and a check the failed
    /// u-driver left half done (the stream stopped) is finished by the
    /// one that reattaches.
    @Test func theCheckRestoresAResetMouseAndARecoveredDriverFinishesAnUnendedOne() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        let drv = Self.driver(n)
        _ = try await drv.probe(reattach: false)
        try await drv.set(MouseSettings(rate: 40, resyncTime: 2), reattach: false)
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = true }
        for _ in 0..<25 { n.step(nanos: 100_000_000) }
        // Reset and re-knocked to Explorer by someone else: the id is
        // right, the rate and resolution are not.
        _ = n.inspect(1) { m -> Void in
            guard let m = m as? PS2MouseModel else { return }
            for b: UInt8 in [0xff, 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf3, 200, 0xf3, 200, 0xf3, 80, 0xf4] { _ = m.receive(b) }
            m.still = false
        }
        #expect(Self.mouse(n) { [$0.id, $0.rate] } == [UInt8(PSM_ID_EXPS), 80])
        n.step(nanos: 30_000_000)
        #expect(try Self.checks(n) == [1, 1])
        try await drv.resync()
        #expect(Self.mouse(n) { [$0.rate, $0.resolution] } == [40, 3])
        #expect(Self.mouse(n) { $0.enabled } == true)
        #expect(Self.mouse(n) { $0.resets } == 3, "the stranger's reset and the check's own")
        // Another silence; the driver that gets the check stops the
        // stream and dies there.
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = true }
        for _ in 0..<25 { n.step(nanos: 100_000_000) }
        _ = n.inspect(1) { ($0 as? PS2MouseModel)?.still = false }
        n.step(nanos: 30_000_000)
        #expect(try Self.checks(n) == [2, 1])
        _ = try await Device(instance: 1) { n.handleDowncall($0) }.ps2Command(PSM_CMD_DISABLE, pausing: true)
        #expect(try Self.checks(n) == [2, 1])
        let calls = Calls()
        let next = Self.driver(n, calls)
        _ = try await next.probe(reattach: true)
        #expect(calls.ps2 == 3, "GETID, GETINFO, ENABLE: the stream was already stopped")
        #expect(await next.resyncTime == 2)
        #expect(Self.mouse(n) { $0.enabled } == true)
        #expect(Self.mouse(n) { $0.resets } == 3)
        let packets = try Self.info(n).attribute(.inputPackets)?.u64 ?? 0
        for _ in 0..<4 { n.step(nanos: 25_000_000) }
        let i = try Self.info(n)
        #expect(i.attribute(.inputCheckPending)?.u8 == 0)
        #expect((i.attribute(.inputPackets)?.u64 ?? 0) > packets)
        #expect(i.attribute(.clientErrors)?.u64 == 0 && i.attribute(.inputLost)?.u64 == 0)
    }

    /// A driver that died inside a setting, after its pausing DISABLE and
    /// a SETRATE: the next one is told a check is pending, finds the mouse
    /// as the nucleus says it was told and restarts the stream. A stream
    /// turned off on purpose (a plain DISABLE) stays off.
    @Test func aStreamPausedByASettingThatNeverEndedIsRestartedByTheNextDriver() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        _ = try await Self.driver(n).probe(reattach: false)
        let dying = Device(instance: 1) { n.handleDowncall($0) }
        _ = try await dying.ps2Command(PSM_CMD_DISABLE, pausing: true)
        _ = try await dying.ps2Command(PSM_CMD_SETRATE, [40])
        #expect(try Self.checks(n) == [0, 1])
        let calls = Calls()
        let next = Self.driver(n, calls)
        _ = try await next.probe(reattach: true)
        #expect(calls.ps2 == 3, "GETID, GETINFO, ENABLE")
        #expect(Self.mouse(n) { $0.enabled } == true && Self.mouse(n) { [$0.rate] } == [40])
        #expect(Self.mouse(n) { $0.resets } == 1)
        #expect(try Self.checks(n) == [0, 0])
        try await next.set(MouseSettings(streaming: false), reattach: false)
        let off = Calls()
        _ = try await Self.driver(n, off).probe(reattach: true)
        #expect(off.ps2 == 0 && Self.mouse(n) { $0.enabled } == false, "off on purpose: no check, no ENABLE")
        // PS2_COMMAND pauses with DISABLE only.
        let r = n.handleDowncall(XPCMessage(op: .ps2Command, flags: .request, instance: 1,
                                            attributes: [.u16(.ps2Cmd, UInt16(PSM_CMD_ENABLE)), .u8(.inputCheckPending, 1)]))
        #expect(r.status == -22 && r.remoteError?.attribute == .inputCheckPending)
    }

    @Test func theNucleusRefusesMalformedCommandsByField() async throws {
        let n = SimNucleus(models: [PS2MouseModel()])
        func call(_ op: XPCOp, _ a: [XPCAttribute], flags: XPCFlags = .request) -> XPCMessage {
            n.handleDowncall(XPCMessage(op: op, flags: flags, instance: 1, attributes: a))
        }
        // SETRATE takes one parameter byte.
        var r = call(.ps2Command, [.u16(.ps2Cmd, UInt16(PSM_CMD_SETRATE))])
        #expect(r.status == -22 && r.remoteError?.attribute == .ps2Param)
        r = call(.ps2Command, [.u16(.ps2Cmd, 0x0ff2)])
        #expect(r.status == -22 && r.remoteError?.attribute == .ps2Cmd, "15 bytes back do not fit PS2_PARAM")
        // What the nucleus reports must stay in the wire's ranges: a rate
        // or resolution outside them never reaches the mouse (a corrupted
        // u-driver's SETRES 20 made every DEVICE_INFO after it malformed).
        for (cmd, p) in [(PSM_CMD_SETRES, UInt8(20)), (PSM_CMD_SETRATE, 5), (PSM_CMD_SETRATE, 250)] {
            r = call(.ps2Command, [.u16(.ps2Cmd, UInt16(cmd)), .binary(.ps2Param, [p])])
            #expect(r.status == -22 && r.remoteError?.attribute == .ps2Param, "\(cmd) \(p)")
        }
        #expect(Self.mouse(n) { [$0.rate, $0.resolution] } == [100, 2], "the mouse was not told")
        r = call(.ps2Command, [.u16(.ps2Cmd, UInt16(PSM_CMD_SETRES)), .binary(.ps2Param, [3])])
        #expect(r.status == 0)
        r = call(.deviceInfo, [])
        #expect(r.status == 0 && r.attribute(.mouseResolution)?.u8 == 3)
        // A byte the mouse does not know is NAKed: EIO.
        r = call(.ps2Command, [.u16(.ps2Cmd, 0x0001)])
        #expect(r.status == -5)
        // No registers on a serio port.
        r = call(.regRead, [.u32(.regOffset, 0), .u8(.regWidth, 1)])
        #expect(r.status == -22 && r.remoteError?.attribute == .regOffset)
        // Nothing to reattach to yet.
        r = call(.inputRegister, [], flags: [.request, .reattach])
        #expect(r.status == -19)
        // The idle check's time is named, and an hour at most.
        r = call(.inputResyncTime, [])
        #expect(r.status == -22 && r.remoteError?.attribute == .mouseResyncTime)
        #expect(throws: XPCError.self) {
            try XPCMessage.decode(XPCMessage(op: .inputResyncTime, flags: .request, instance: 1,
                                             attributes: [.u16(.mouseResyncTime, 3601)]).bytes)
        }
        // A protocol outside drvxpc_mouse_proto never reaches the nucleus.
        #expect(throws: XPCError.self) {
            try XPCMessage.decode(XPCMessage(op: .inputRegister, flags: .request, instance: 1,
                                             attributes: [.u8(.inputProtocol, 9), .string(.inputName, "x")]).bytes)
        }
    }
}
