// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import ENS137x
@testable import RTL8139
@testable import NucleusSim
import UDriverKit
import XPC

/// The u-drivers against the register-level models, in process: every
/// downcall goes through the nucleus's own validation, and the assertions
/// read the device's registers back.
@Suite struct DriverRegisterTests {
    static func device(_ n: SimNucleus, _ instance: UInt32) -> Device {
        Device(instance: instance) { m in n.handleDowncall(m) }
    }

    static func info(_ n: SimNucleus, _ instance: UInt32, cls: XPCDeviceClass) -> DeviceInfo {
        let id = n.inspect(instance) { $0.identity } ?? DeviceIdentity(vendor: 0, device: 0, revision: 0, slot: "", barSize: 0, irq: 0)
        return DeviceInfo(instance: instance, driverName: "test", deviceClass: cls, identity: id)
    }

    static func es<R: Sendable>(_ n: SimNucleus, _ f: @Sendable (ES137xModel) -> R) -> R? {
        n.inspect(1) { m in (m as? ES137xModel).map(f) } ?? nil
    }

    static func rtl<R: Sendable>(_ n: SimNucleus, _ f: @Sendable (RTL8139Model) -> R) -> R? {
        n.inspect(1) { m in (m as? RTL8139Model).map(f) } ?? nil
    }

    static func deviceInfo(_ n: SimNucleus, _ instance: UInt32) throws -> XPCMessage {
        let r = n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: instance))
        if let e = r.remoteError { throw e }
        return r
    }

    @Test func ens1371ProbeProgramsCodecAndRate() async throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let drv = ENS137x(device: Self.device(n, 1), info: Self.info(n, 1, cls: .sound))
        #expect(try await drv.probe(reattach: false) == "ES1373 rev 8")
        // chip_init programs DAC2 to 22050 Hz through the SRC
        #expect(Self.es(n) { $0.dac2Rate } == 22050)
        // codec init: master at 75 % = attenuation 8, unmuted
        #expect(Self.es(n) { $0.codec[0x02] } == 0x0808)
        try await drv.mixerPut(.master, 60)
        #expect(Self.es(n) { $0.codec[0x02] } == 0x0c0c)
        #expect(try await drv.mixerGet(.master) == 61, "31 steps cannot hold 60 % exactly; amixer shows 61 % too")
        try await drv.mixerPut(.masterMute, 1)
        #expect(Self.es(n) { $0.codec[0x02] } == 0x8c0c)
        await #expect(throws: UDriverError.self) { try await drv.mixerPut(.master, 101) }
        #expect(try Self.deviceInfo(n, 1).string(.cardName) == "Ensoniq AudioPCI ENS1371")
    }

    @Test func ens1371PrepareProgramsDAC2() async throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let drv = ENS137x(device: Self.device(n, 1), info: Self.info(n, 1, cls: .sound))
        _ = try await drv.probe(reattach: false)
        let buf = try await Self.device(n, 1).allocateDMA(size: 4096 * 4, role: .pcmPlayback)
        for rate: UInt32 in [48000, 44100, 8000] {
            try await drv.hwParams(PCMParams(rate: rate, channels: 2, format: 2, periodFrames: 1024, bufferFrames: 4096, buffer: buf))
            try await drv.prepare(reattach: false)
            #expect(Self.es(n) { $0.dac2Rate } == rate)
        }
        let regs = try #require(try Self.deviceInfo(n, 1).attribute(.regDump)?.payload)
        let word = { (o: Int) in UInt32(regs[o]) | UInt32(regs[o + 1]) << 8 | UInt32(regs[o + 2]) << 16 | UInt32(regs[o + 3]) << 24 }
        #expect(word(0x3c) & 0xffff == 4095, "DAC2 size: 16 KiB in dwords - 1")
        #expect(word(0x28) & 0xffff == 1023, "DAC2 count: period in frames - 1")
        #expect(word(0x20) & (1 << 9) != 0, "P2_INT_EN set")
        #expect((word(0x20) >> 2) & 3 == 3, "16-bit stereo")
        #expect(word(0x38) != 0, "DAC2 frame holds the buffer's bus address")
        await #expect(throws: UDriverError.self) {
            try await drv.hwParams(PCMParams(rate: 96000, channels: 2, format: 2, periodFrames: 1024, bufferFrames: 4096, buffer: buf))
        }
    }

    /// A replayed prepare into a running stream mends a rate and mode the
    /// chip does not hold (a failed u-driver acknowledged them unwritten),
    /// without stopping the DAC, and leaves a right stream as it is.
    @Test(arguments: [ES137xModel.Chip.es1371, .es1370])
    func reattachedPrepareMendsWhatTheChipDoesNotHold(chip: ES137xModel.Chip) async throws {
        let n = SimNucleus(models: [ES137xModel(chip: chip)])
        let dev = Self.device(n, 1)
        let first = ENS137x(device: dev, info: Self.info(n, 1, cls: .sound))
        _ = try await first.probe(reattach: false)
        let buf = try await dev.allocateDMA(size: 4096 * 4, role: .pcmPlayback)
        try await first.hwParams(PCMParams(rate: 44100, channels: 2, format: 2, periodFrames: 1024, bufferFrames: 4096, buffer: buf))
        try await first.prepare(reattach: false)
        _ = try await dev.sequence([.write(Reg.control, try await dev.read32(Reg.control) | Control.dac2Enable, width: 4)])
        // What a running stream's registers hold: CONTROL, SERIAL, the SRC's RAM.
        let state = { () async throws -> [UInt32] in
            [try await dev.read32(Reg.control), try await dev.read32(Reg.serial)]
                + (Self.es(n) { $0.srcRAM.map(UInt32.init) } ?? [])
        }

        // The shadow says 8000 Hz mono 8-bit; the chip still plays 44100 Hz 16-bit stereo.
        let second = ENS137x(device: dev, info: Self.info(n, 1, cls: .sound))
        _ = try await second.probe(reattach: true)
        let eight = PCMParams(rate: 8000, channels: 1, format: 1, periodFrames: 1024, bufferFrames: 4096, buffer: buf)
        try await second.hwParams(eight)
        try await second.prepare(reattach: true)
        // The ES1370's clock divider makes 8018 Hz of 8000, as in Linux.
        #expect(Self.es(n) { abs(Int($0.dac2Rate) - 8000) < 80 } == true)
        #expect(try await dev.read32(Reg.serial) & Serial.p2ModeMask == Serial.p2Mode(ENS137x.serialMode(eight)))
        #expect(try await dev.read32(Reg.control) & Control.dac2Enable != 0, "the DAC plays on")

        // A stream that is right is left as it is.
        let before = try await state()
        let third = ENS137x(device: dev, info: Self.info(n, 1, cls: .sound))
        _ = try await third.probe(reattach: true)
        try await third.hwParams(eight)
        try await third.prepare(reattach: true)
        #expect(try await state() == before)
    }

    @Test func ens1370ProgramsClockDivider() async throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1370)])
        let drv = ENS137x(device: Self.device(n, 1), info: Self.info(n, 1, cls: .sound))
        #expect(try await drv.probe(reattach: false) == "ES1370")
        let buf = try await Self.device(n, 1).allocateDMA(size: 4096 * 4, role: .pcmPlayback)
        try await drv.hwParams(PCMParams(rate: 44100, channels: 2, format: 2, periodFrames: 1024, bufferFrames: 4096, buffer: buf))
        try await drv.prepare(reattach: false)
        #expect(Self.es(n) { $0.dac2Rate } == 44100)
        try await drv.mixerPut(.master, 50)
        #expect(Self.es(n) { $0.masterVolumeRegister } == 0x0f0f)
    }

    @Test func rtl8139ProbeReadsEEPROMMAC() async throws {
        let mac = try #require(MACAddress("52:54:00:ab:cd:ef"))
        let n = SimNucleus(models: [RTL8139Model(mac: mac)])
        let drv = RTL8139(device: Self.device(n, 1), info: Self.info(n, 1, cls: .net))
        // Scribble over the MAC registers: probe must read the EEPROM, not IDR.
        _ = Self.rtl(n) { $0.write(offset: 0, width: 4, value: 0) }
        #expect(try await drv.probe(reattach: false) == "RTL-8139C+")
        #expect(await drv.mac == mac)
        #expect(try Self.deviceInfo(n, 1).string(.ifname) == "sim0")
    }

    /// ndo_tx_timeout: the transmitter stalled (here: switched off behind
    /// the driver's back); the u-driver restarts it on the same rings and
    /// the data path comes back.
    @Test func rtl8139TxTimeoutRestartsTheTransmitter() async throws {
        let n = SimNucleus(models: [RTL8139Model(mac: try #require(MACAddress("52:54:00:12:34:56")))])
        let drv = RTL8139(device: Self.device(n, 1), info: Self.info(n, 1, cls: .net))
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let rings = try Self.deviceInfo(n, 1).all(.object).count
        _ = Self.rtl(n) { $0.write(offset: 0x37, width: 1, value: 0x08) } // RxEnb only
        #expect(Self.rtl(n) { $0.read(offset: 0x37, width: 1) & 0x04 } == 0)
        _ = n.handleDowncall(XPCMessage(op: .datapathDisable, flags: .request, instance: 1))
        try await drv.txTimeout()
        #expect(Self.rtl(n) { $0.read(offset: 0x37, width: 1) & 0x0c } == 0x0c, "Rx and Tx enabled again")
        let info = try Self.deviceInfo(n, 1)
        #expect(try info.u8(.datapathOn) == 1)
        #expect(info.all(.object).count == rings, "the same rings, none allocated")
    }

    @Test func rtl8139RxModeProgramsHashFilter() async throws {
        let n = SimNucleus(models: [RTL8139Model(mac: try #require(MACAddress("52:54:00:12:34:56")))])
        let drv = RTL8139(device: Self.device(n, 1), info: Self.info(n, 1, cls: .net))
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        var info = try Self.deviceInfo(n, 1)
        #expect(try info.u32(.rxConfig) & 0x0f == 0x0a, "broadcast + my phys")
        #expect(try info.u8(.datapathOn) == 1)
        let group = try #require(MACAddress("01:00:5e:00:00:fb"))
        try await drv.setRxMode(RxMode(multicast: [group]))
        info = try Self.deviceInfo(n, 1)
        #expect(try info.u32(.rxConfig) & 0x0f == 0x0e)
        #expect(try info.u64(.mcFilter) == 1 << UInt64(group.multicastHashBit))
        #expect(Self.rtl(n) { $0.accepts(group) } == true)
        let other = try #require(MACAddress("01:00:5e:00:00:fc"))
        #expect(other.multicastHashBit != group.multicastHashBit)
        #expect(Self.rtl(n) { $0.accepts(other) } == false)
        try await drv.setRxMode(RxMode(promiscuous: true))
        #expect(try Self.deviceInfo(n, 1).u32(.rxConfig) & 0x0f == 0x0f)
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await drv.setMAC(newMAC)
        #expect(try Self.deviceInfo(n, 1).mac(.mac) == newMAC)
        let link = try await drv.getLink()
        #expect(link.up && link.speed == 100)
    }

    @Test func nucleusRefusesOutOfBARAndForeignDMA() async throws {
        let n = SimNucleus(models: [RTL8139Model(mac: .broadcast), ES137xModel(chip: .es1371)])
        let d1 = Self.device(n, 1), d2 = Self.device(n, 2)
        await #expect(throws: XPCError(.remote)) { _ = try await d1.read32(0x100) }
        await #expect(throws: XPCError(.remote)) { _ = try await d2.read32(0x40) }
        await #expect(throws: XPCError(.remote)) { _ = try await d1.read32(0x02) }  // unaligned
        let b = try await d1.allocateDMA(size: 4096, role: .rxRing)
        do {
            try await d2.writeDMAAddress(0x38, buffer: b)
            Issue.record("instance 2 used instance 1's DMA handle")
        } catch let e as XPCError {
            #expect(e.attribute == .dmaHandle && e.errno == 2)
        }
    }
}
