// SPDX-License-Identifier: GPL-2.0
import CChips
import Synchronization
import Testing
@testable import NucleusSim
@testable import PCNet32
import UDriverKit
import XPC

/// The pcnet32 u-driver against the register-level PCnet model. Register
/// and DMA downcalls go through the sim nucleus's own checks; the net-class
/// downcalls pass a recorder, so the tests see when the data path was
/// handed over and what carrier was reported. DATAPATH_ENABLE/DISABLE go
/// on to the sim's pcnet data path, which fills the rings and the init
/// block that INIT then loads (as module/pcnet32.c does); NET_REGISTER and
/// NET_CARRIER are answered by the recorder.
@Suite struct PCNet32Tests {
    static let mac = MACAddress(bytes: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]) ?? .broadcast

    /// One net-class downcall as the recorder saw it.
    struct NetCall: Sendable {
        let op: XPCOp
        let reattach: Bool
        let attributes: [XPCAttribute]
        /// The model's INIT count when the call arrived.
        let initsBefore: Int
    }

    /// The sim nucleus, a PCnet model, and the net-class recorder.
    final class Bench: Sendable {
        let nucleus: SimNucleus
        let calls = Mutex<[NetCall]>([])

        init(_ model: PCNet32Model) { nucleus = SimNucleus(models: [model]) }

        var device: Device {
            Device(instance: 1) { [self] m in
                switch m.op {
                case .netRegister, .datapathEnable, .datapathDisable, .netCarrier:
                    let inits = model { $0.initialisations } ?? -1
                    calls.withLock {
                        $0.append(NetCall(op: m.op, reattach: m.flags.contains(.reattach), attributes: m.attributes,
                                          initsBefore: inits))
                    }
                    if m.op == .datapathEnable || m.op == .datapathDisable {
                        let r = nucleus.handleDowncall(m)
                        if let e = r.remoteError { throw e }
                        return r
                    }
                    return XPCMessage.reply(to: m, attributes: m.op == .netRegister ? [.string(.ifname, "eth0")] : [])
                default:
                    return nucleus.handleDowncall(m)
                }
            }
        }

        /// HELLO's device information, with the DMA objects the nucleus holds.
        func info() throws -> DeviceInfo {
            let r = nucleus.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
            if let e = r.remoteError { throw e }
            let held = r.all(.object).map { o in
                let c = o.children
                return DMABuffer(handle: c.first { $0.id == .objectID }?.u32 ?? 0, size: c.first { $0.id == .dmaSize }?.u32 ?? 0,
                                 role: c.first { $0.id == .objectRole }?.u8 ?? 0)
            }
            return DeviceInfo(instance: 1, driverName: "pcnet32", deviceClass: .net, vendor: 0x1022, device: 0x2000,
                              revision: 0x10, slot: "0000:00:06.0", barSize: PCNET32_IO_SIZE, heldBuffers: held)
        }

        func driver() throws -> PCNet32 { PCNet32(device: device, info: try info()) }

        func model<R: Sendable>(_ f: @Sendable (PCNet32Model) -> R) -> R? {
            nucleus.inspect(1) { m in (m as? PCNet32Model).map(f) } ?? nil
        }

        func recorded(_ op: XPCOp) -> [NetCall] { calls.withLock { $0.filter { $0.op == op } } }
    }

    static func csr(_ b: Bench, _ n: UInt32) -> UInt32 { UInt32(b.model { $0.csrValue(n) } ?? 0xdead) }

    // MARK: probe

    @Test func chipTableDecodesCSR88And89() throws {
        // QEMU's reset values: CSR88 0x1003, CSR89 0x0262.
        let a = try identifyChip(csr88: 0x1003, csr89: 0x0262).get()
        #expect(a.name == "PCnet/PCI II 79C970A" && a.canSuspend && !a.features.contains(.mii))
        let fast = try identifyChip(csr88: 0x3003, csr89: 0x0262).get()
        #expect(fast.name == "PCnet/FAST 79C971" && fast.features.contains(.mii))
        #expect(try identifyChip(csr88: 0x0003, csr89: 0x0242).get().canSuspend == false, "79C970: stop, not suspend")
        #expect(throws: ChipIDError.notAMD(0x0262_1001)) { try identifyChip(csr88: 0x1001, csr89: 0x0262).get() }
        #expect(throws: ChipIDError.unknownPart(0x2629)) { try identifyChip(csr88: 0x9003, csr89: 0x0262).get() }
    }

    @Test func probeResetsIdentifiesAndReadsTheStationAddress() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        // State a reset must clear.
        _ = b.model { m in
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR8)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: 0xffff)
        }
        #expect(Self.csr(b, PCNET32_CSR8) == 0xffff)
        let drv = try b.driver()
        #expect(try await drv.probe(reattach: false) == "PCnet/PCI II 79C970A")
        #expect(b.model { $0.resets } == 1)
        #expect(Self.csr(b, PCNET32_CSR8) == 0, "the reset cleared the filter")
        #expect(await drv.mac == Self.mac)
        let reg = try #require(b.recorded(.netRegister).first)
        #expect(reg.attributes.first { $0.id == .mac }?.payload == Self.mac.bytes)
        #expect(b.model { $0.bcrValue(PCNET32_BCR2) & UInt16(PCNET32_BCR2_LEDPE) } != 0, "LED writes enabled")
    }

    /// A chip whose reset leaves PADR empty: the address comes from the PROM.
    @Test func probeTakesTheAddressPROMWhenPADRIsInvalid() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac, padrFromPROM: false))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        #expect(b.model { $0.physicalAddress } == MACAddress(bytes: [0, 0, 0, 0, 0, 0]))
        #expect(await drv.mac == Self.mac)
    }

    @Test func probeRefusesAChipThatReadsAllOnes() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac, responding: false))
        let drv = try b.driver()
        await #expect { _ = try await drv.probe(reattach: false) } throws: { e in
            (e as? UDriverError)?.errno == 19
        }
        #expect(b.recorded(.netRegister).isEmpty)
    }

    @Test func probeRefusesAnUnknownPart() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac, partID: 0x2629))
        let drv = try b.driver()
        await #expect { _ = try await drv.probe(reattach: false) } throws: { e in
            (e as? UDriverError)?.message.contains("0x2629") == true
        }
    }

    // MARK: open and the rings

    @Test func openProgramsTheChipAndHandsTheRingsOverBeforeINIT() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        #expect(b.model { $0.resets } == 2, "probe and open reset the chip")
        #expect(b.model { $0.bcrValue(PCNET32_BCR20) } == 0x0302, "SWSTYLE 2: 32-bit structures")
        #expect(Self.csr(b, PCNET32_CSR15) == PCNET32_MODE_PORT_10BT, "79C970A: 10BASE-T, not promiscuous")
        #expect(Self.csr(b, PCNET32_CSR4) == PCNET32_CSR4_DEFAULT)
        #expect(b.model { $0.physicalAddress } == Self.mac)
        let csr0 = Self.csr(b, PCNET32_CSR0)
        #expect(csr0 & (PCNET32_CSR0_STRT | PCNET32_CSR0_INEA | PCNET32_CSR0_IDON) == 0x0142)
        #expect(csr0 & PCNET32_CSR0_STOP == 0)
        // The nucleus got the rings before the chip read the init block.
        let enable = try #require(b.recorded(.datapathEnable).first)
        #expect(!enable.reattach && enable.initsBefore == 0)
        #expect(b.model { $0.initialisations } == 1)
        let carrier = try #require(b.recorded(.netCarrier).last)
        #expect(carrier.attributes.first { $0.id == .linkUp }?.u8 == 1)
        #expect(carrier.attributes.first { $0.id == .linkSpeed }?.u32 == 10)
        // pcnet32's five objects, by role and size.
        let held = try b.info().heldBuffers
        let want: [(DMARole, UInt32)] = [(.initBlock, 28), (.rxRing, 32 * 16), (.txRing, 16 * 16),
                                         (.rxBuffers, 32 * 1544), (.txBuffers, 16 * 1544)]
        for (role, size) in want { #expect(held.contains { $0.role == role.rawValue && $0.size == size }, "\(role)") }
        #expect(held.count == 5)
    }

    /// CSR1/CSR2 hold the init block's bus address, low half in CSR1 and
    /// high half in CSR2, each written by REG_WRITE_DMA with shift 0 and
    /// 16. The nucleus takes REG_WRITE_DMA through RDP for CSR1/CSR2 only:
    /// the same halves aimed at CSR24/25 (the rx ring's base, which comes
    /// from the init block) are refused and do not reach the chip.
    @Test func initBlockAddressIsWrittenAsTwoHalves() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        try await drv.stop() // CSR24/25 would take writes only while stopped
        let ib = try #require(await drv.rings?.initBlock)
        let d = b.device
        let (lo, hi) = (Self.csr(b, PCNET32_CSR1), Self.csr(b, PCNET32_CSR2))
        #expect(hi != 0 && lo != hi, "two different halves, the high one non-zero")
        let base = (Self.csr(b, PCNET32_CSR24), Self.csr(b, PCNET32_CSR25))
        _ = try await d.sequence([PCNetIO.select(PCNET32_CSR24)])
        let refused = await #expect(throws: XPCError.self) {
            try await d.writeDMAAddress(PCNET32_WIO_RDP, buffer: ib, width: 2, shift: 0)
        }
        #expect(refused?.errno == 1 && refused?.attribute == .regOffset)
        #expect(Self.csr(b, PCNET32_CSR24) == base.0 && Self.csr(b, PCNET32_CSR25) == base.1)
        #expect(b.model { $0.refusedWrites } == 0)
    }

    // MARK: receive filter and MAC

    @Test func rxModeSetsExactlyTheLinuxHashBit() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        // 224.0.0.1's group: ether_crc_le(6, 01:00:5e:00:00:01) = 0xd9b4c5fe,
        // >> 26 = 54 (by hand: ~crc32 of the six bytes); CSR11 bit 6.
        let allHosts = try #require(MACAddress("01:00:5e:00:00:01"))
        try await drv.setRxMode(RxMode(multicast: [allHosts]))
        #expect(b.model { $0.logicalAddressFilter } == 1 << 54)
        #expect(Self.csr(b, PCNET32_CSR11) == 0x0040)
        #expect(b.model { $0.acceptsMulticast(allHosts) } == true)
        // 01:00:5e:00:00:fb hashes to 33: not taken.
        #expect(b.model { $0.acceptsMulticast(MACAddress("01:00:5e:00:00:fb") ?? .broadcast) } == false)
        #expect(b.model { $0.suspends } == 1, "written while suspended")
        #expect(Self.csr(b, PCNET32_CSR5) & PCNET32_CSR5_SPND == 0, "and resumed")
        #expect(b.model { $0.refusedWrites } == 0)

        try await drv.setRxMode(RxMode(promiscuous: true, multicast: [allHosts]))
        #expect(Self.csr(b, PCNET32_CSR15) == PCNET32_MODE_PROM | PCNET32_MODE_PORT_10BT)
        #expect(b.model { $0.logicalAddressFilter } == 1 << 54, "promiscuous leaves LADRF alone, as pcnet32")

        try await drv.setRxMode(RxMode(allMulticast: true))
        #expect(Self.csr(b, PCNET32_CSR15) == PCNET32_MODE_PORT_10BT)
        #expect(b.model { $0.logicalAddressFilter } == .max)

        try await drv.setRxMode(RxMode())
        #expect(b.model { $0.logicalAddressFilter } == 0)
        #expect(b.model { $0.refusedWrites } == 0)
    }

    @Test func setMACWritesPADROfTheRunningChip() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await drv.setMAC(newMAC)
        #expect(b.model { $0.physicalAddress } == newMAC)
        #expect(Self.csr(b, PCNET32_CSR5) & PCNET32_CSR5_SPND == 0)
        #expect(b.model { $0.refusedWrites } == 0)
        await #expect(throws: UDriverError.self) { try await drv.setMAC(try #require(MACAddress("01:00:5e:00:00:01"))) }
        #expect(b.model { $0.physicalAddress } == newMAC)
    }

    // MARK: reattach

    /// A restarted u-driver adopts the running chip: no reset, no INIT, the
    /// filter and address it finds are kept, and replaying the same rx mode
    /// does not even suspend the chip.
    @Test func reattachResetsNothingAndKeepsFilterAndAddress() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let first = try b.driver()
        _ = try await first.probe(reattach: false)
        try await first.open(reattach: false)
        let group = try #require(MACAddress("01:00:5e:00:00:fb"))
        try await first.setRxMode(RxMode(multicast: [group]))
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await first.setMAC(newMAC)
        let before = (b.model { $0.resets }, b.model { $0.initialisations }, b.model { $0.suspends })
        let regs = [PCNET32_CSR0, PCNET32_CSR8, PCNET32_CSR9, PCNET32_CSR10, PCNET32_CSR11, PCNET32_CSR12,
                    PCNET32_CSR13, PCNET32_CSR14, PCNET32_CSR15].map { Self.csr(b, $0) }

        let second = try b.driver()
        #expect(await second.rings != nil, "the nucleus's objects are handed over")
        #expect(try await second.probe(reattach: true) == "PCnet/PCI II 79C970A")
        try await second.open(reattach: true)
        #expect(await second.mac == newMAC, "the address the chip filters on")
        try await second.setRxMode(RxMode(multicast: [group])) // the shadow's replay
        try await second.setMAC(newMAC)
        #expect(b.model { $0.resets } == before.0)
        #expect(b.model { $0.initialisations } == before.1)
        #expect(b.model { $0.suspends } == before.2, "nothing to change, nothing written")
        #expect(regs == [PCNET32_CSR0, PCNET32_CSR8, PCNET32_CSR9, PCNET32_CSR10, PCNET32_CSR11, PCNET32_CSR12,
                         PCNET32_CSR13, PCNET32_CSR14, PCNET32_CSR15].map { Self.csr(b, $0) })
        let enable = try #require(b.recorded(.datapathEnable).last)
        #expect(enable.reattach)
        #expect(try b.info().heldBuffers.count == 5, "no new objects")
        // A real change after reattach still reaches the chip.
        try await second.setRxMode(RxMode(promiscuous: true))
        #expect(Self.csr(b, PCNET32_CSR15) & PCNET32_MODE_PROM != 0)
    }

    // MARK: link, watchdog, statistics, tx timeout, stop

    @Test func watchdogReportsLinkChangesFromBCR4() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let reported = b.recorded(.netCarrier).count
        try await drv.watchdog()
        #expect(b.recorded(.netCarrier).count == reported, "no change, no report")
        _ = b.model { $0.linkUp = false }
        #expect(b.model { $0.bcrValue(PCNET32_BCR4) } == UInt16(PCNET32_BCR4_NO_LINK))
        #expect(try await drv.getLink() == LinkState(up: false, speed: 10, fullDuplex: false))
        try await drv.watchdog()
        #expect(b.recorded(.netCarrier).last?.attributes.first { $0.id == .linkUp }?.u8 == 0)
        _ = b.model { $0.linkUp = true }
        try await drv.watchdog()
        #expect(b.recorded(.netCarrier).last?.attributes.first { $0.id == .linkUp }?.u8 == 1)
        #expect(b.recorded(.netCarrier).count == reported + 2)
    }

    @Test func statisticsReadTheMissedFrameCounter() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        _ = b.model { $0.setMissedFrames(7) }
        #expect(try await drv.getStats().rxMissed == 7)
    }

    @Test func txTimeoutRestartsTheChipOnTheSameRings() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        // The transmitter wedged: the chip stopped behind the driver's back.
        _ = b.model { m in
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR0)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: PCNET32_CSR0_STOP)
        }
        #expect(Self.csr(b, PCNET32_CSR0) & PCNET32_CSR0_STOP != 0)
        try await drv.txTimeout()
        #expect(Self.csr(b, PCNET32_CSR0) & (PCNET32_CSR0_STRT | PCNET32_CSR0_STOP) == PCNET32_CSR0_STRT)
        #expect(b.model { $0.initialisations } == 2, "re-initialised from the block")
        #expect(b.model { $0.resets } == 2, "but not reset")
        let enable = try #require(b.recorded(.datapathEnable).last)
        #expect(!enable.reattach && enable.initsBefore == 1, "fresh rings handed over before INIT")
        #expect(try b.info().heldBuffers.count == 5)
    }

    @Test func stopStopsTheChipThenTheDataPath() async throws {
        let b = Bench(PCNet32Model(mac: Self.mac))
        let drv = try b.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        try await drv.stop()
        #expect(Self.csr(b, PCNET32_CSR0) == PCNET32_CSR0_STOP)
        #expect(b.recorded(.datapathDisable).count == 1)
        // Down: the filter is remembered and programmed by the next open.
        try await drv.setRxMode(RxMode(allMulticast: true))
        #expect(b.model { $0.logicalAddressFilter } == 0)
        try await drv.open(reattach: false)
        #expect(b.model { $0.logicalAddressFilter } == .max)
    }
}
