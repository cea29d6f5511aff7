// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import NucleusSim
import CChips

@Suite struct RTL8139ModelTests {
    let mac = MACAddress("52:54:00:12:34:56") ?? .broadcast

    @Test func revisionBitsAreReadOnly() {
        let m = RTL8139Model(mac: mac)
        #expect(m.read(offset: 0x40, width: 4) & 0x7cc0_0000 == 0x7480_0000)
        m.write(offset: 0x40, width: 4, value: 0x0300_0600)
        #expect(m.read(offset: 0x40, width: 4) == 0x7780_0600)
    }

    @Test func resetSelfClearsAndEmptiesTheRing() {
        let m = RTL8139Model(mac: mac)
        m.write(offset: 0x37, width: 1, value: 0x10)
        #expect(m.read(offset: 0x37, width: 1) & 0x10 == 0)
        #expect(m.read(offset: 0x37, width: 1) & 0x01 == 1, "RxBufEmpty")
    }

    /// Bit-bangs a 93C46 READ exactly as 8139too's read_eeprom does.
    func readEEPROM(_ m: RTL8139Model, _ loc: Int, addrLen: Int) -> UInt16 {
        let enb: UInt32 = 0x88
        let cmd = UInt32(loc) | 6 << UInt32(addrLen)
        m.write(offset: 0x50, width: 1, value: enb & ~0x08)
        m.write(offset: 0x50, width: 1, value: enb)
        for i in stride(from: 4 + addrLen, through: 0, by: -1) {
            let d: UInt32 = cmd & (1 << UInt32(i)) != 0 ? 2 : 0
            m.write(offset: 0x50, width: 1, value: enb | d)
            m.write(offset: 0x50, width: 1, value: enb | d | 4)
        }
        m.write(offset: 0x50, width: 1, value: enb)
        var v: UInt16 = 0
        for _ in 0..<16 {
            m.write(offset: 0x50, width: 1, value: enb | 4)
            v = v << 1 | UInt16(m.read(offset: 0x50, width: 1) & 1)
            m.write(offset: 0x50, width: 1, value: enb)
        }
        m.write(offset: 0x50, width: 1, value: 0)
        return v
    }

    @Test func eepromHoldsIdAndMAC() {
        let m = RTL8139Model(mac: mac)
        #expect(readEEPROM(m, 0, addrLen: 6) == 0x8129)
        #expect(readEEPROM(m, 0, addrLen: 8) != 0x8129, "a 93C46 has a 6-bit address")
        #expect(readEEPROM(m, 7, addrLen: 6) == 0x5452)
        #expect(readEEPROM(m, 9, addrLen: 6) == 0x5634)
    }

    @Test func filterFollowsRxConfigAndHash() {
        let m = RTL8139Model(mac: mac)
        let group = MACAddress("01:00:5e:00:00:fb") ?? .broadcast
        #expect(!m.accepts(.broadcast) && !m.accepts(mac))
        m.write(offset: 0x44, width: 4, value: 0x0a) // broadcast + my phys
        #expect(m.accepts(.broadcast) && m.accepts(mac) && !m.accepts(group))
        #expect(!m.accepts(MACAddress("52:54:00:12:34:57") ?? .broadcast))
        m.write(offset: 0x44, width: 4, value: 0x0e)
        #expect(!m.accepts(group), "multicast accepted only through the hash filter")
        let bit = group.multicastHashBit
        m.write(offset: UInt32(0x08 + bit / 32 * 4), width: 4, value: 1 << UInt32(bit % 32))
        #expect(m.accepts(group))
        m.write(offset: 0x44, width: 4, value: 0x0f)
        #expect(m.accepts(MACAddress("52:54:00:12:34:57") ?? .broadcast), "promiscuous")
    }

    /// 8139too indexes the filter with ether_crc(ETH_ALEN, addr) >> 26.
    /// Reference values: bitrev32(crc32_le(~0, addr)) computed independently
    /// with Python's zlib CRC (crc32 ^ 0xffffffff, bits reversed).
    @Test func linuxEtherCRCHashBits() {
        #expect(MACAddress("01:00:5e:00:00:01")?.etherCRC == 0x7fa3_2d9b)
        #expect(MACAddress("01:00:5e:00:00:fb")?.etherCRC == 0x3f7b_3b21)
        #expect(MACAddress("33:33:00:00:00:01")?.multicastHashBit == 62)
    }
}

@Suite struct ES137xModelTests {
    @Test func srcRateRoundTrips() {
        let m = ES137xModel(chip: .es1371)
        for rate: UInt32 in [8000, 22050, 44100, 48000] {
            let freq = ((rate << 15) + 1500) / 3000
            m.write(offset: 0x10, width: 4, value: (0x75 << 25) | (1 << 24) | ((freq >> 5) & 0xfc00))
            m.write(offset: 0x10, width: 4, value: (0x77 << 25) | (1 << 24) | (freq & 0x7fff))
            #expect(m.dac2Rate == rate)
        }
    }

    /// The DAC consumes frames at the programmed rate and interrupts once per
    /// period; the handler's P2_INT_EN toggle acknowledges it.
    @Test func dac2InterruptsOncePerPeriod() {
        let m = ES137xModel(chip: .es1370)
        let mem = SimMemory()
        let buf = mem.allocate(instance: 1, size: 4096 * 4, role: 1)
        m.write(offset: 0x0c, width: 4, value: 0x0c)
        m.write(offset: 0x38, width: 4, value: buf?.busAddress ?? 0)
        m.write(offset: 0x3c, width: 4, value: 4095)
        m.write(offset: 0x28, width: 4, value: 1023)
        m.write(offset: 0x20, width: 4, value: (1 << 9) | (3 << 2))
        let div = 1_411_200 / 44100 - 2
        m.write(offset: 0x00, width: 4, value: UInt32(div) << 16 | (1 << 5))
        var irqs = 0
        for _ in 0..<1000 { // one second in 1 ms steps
            m.tick(nanos: 1_000_000, memory: mem)
            if m.irqAsserted {
                irqs += 1
                m.write(offset: 0x20, width: 4, value: (3 << 2))
                m.write(offset: 0x20, width: 4, value: (1 << 9) | (3 << 2))
            }
        }
        #expect(m.framesPlayed == 44100)
        #expect(irqs == 44100 / 1024)
        #expect(m.glitches > 0, "a buffer of zeros is not the ramp")
    }
}

@Suite struct SimNucleusTests {
    @Test func deviceInfoAnswersKnownInstancesOnly() throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let info = n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
        #expect(try info.u8(.datapathOn) == 0)
        let bad = n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 9))
        #expect(bad.remoteError?.errno == 19)
    }
}

/// DEVICE_INFO's chip-independent receive filter: RX_FLAGS and MC_HASH,
/// decoded by the RTL8139's nucleus from RxConfig and MAR0-7.
@Suite struct ReceiveFilterInfoTests {
    let n = SimNucleus(models: [RTL8139Model(mac: MACAddress("52:54:00:12:34:56") ?? .broadcast)])

    func info(rxConfig: UInt32, mar: (UInt32, UInt32)) throws -> (UInt32, [UInt8]) {
        for (off, v) in [(UInt32(0x44), rxConfig), (0x08, mar.0), (0x0c, mar.1)] {
            let w = n.handleDowncall(XPCMessage(op: .regWrite, flags: .request, instance: 1,
                                                attributes: [.u32(.regOffset, off), .u8(.regWidth, 4), .u32(.regValue, v)]))
            #expect(w.status == 0)
        }
        let m = n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
        return (try m.u32(.rxFlags), try #require(m.attribute(.mcHash)).payload)
    }

    @Test func acceptAllPhysIsPromiscuous() throws {
        // 8139too's promiscuous mode: AcceptBroadcast | AcceptMulticast | AcceptMyPhys | AcceptAllPhys, MAR all ones.
        let (flags, hash) = try info(rxConfig: 0x0f, mar: (0xffff_ffff, 0xffff_ffff))
        #expect(flags == 1 && hash == [UInt8](repeating: 0xff, count: 8))
    }

    @Test func everyHashBitIsAllMulticast() throws {
        let (flags, _) = try info(rxConfig: 0x0e, mar: (0xffff_ffff, 0xffff_ffff))
        #expect(flags == 2)
    }

    @Test func theHashTableIsALittleEndianBitmap() throws {
        // Hash values 3 and 40: MAR0 bit 3, MAR5 bit 0.
        let (flags, hash) = try info(rxConfig: 0x0e, mar: (0x0000_0008, 0x0000_0100))
        #expect(flags == 0 && hash == [0x08, 0, 0, 0, 0, 0x01, 0, 0])
    }

    @Test func withoutAcceptMulticastTheTableDoesNotCount() throws {
        let (flags, hash) = try info(rxConfig: 0x0a, mar: (0x0000_0008, 0))
        #expect(flags == 0 && hash.allSatisfy { $0 == 0 })
    }

    @Test func classDowncallsReachOnlyTheirClass() {
        let snd = n.handleDowncall(XPCMessage(op: .sndRegister, flags: .request, instance: 1,
                                              attributes: [.string(.cardName, "x")]))
        #expect(snd.remoteError?.errno == 95)
        let both = SimNucleus(models: [ES137xModel(chip: .es1370)])
        let carrier = both.handleDowncall(XPCMessage(op: .netCarrier, flags: .request, instance: 1, attributes: [.u8(.linkUp, 1)]))
        #expect(carrier.remoteError?.errno == 95)
        let card = both.handleDowncall(XPCMessage(op: .sndRegister, flags: .request, instance: 1,
                                                  attributes: [.string(.cardName, "Ensoniq AudioPCI")]))
        #expect(card.status == 0 && both.isRegistered(1))
        let info = both.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
        #expect(info.attribute(.cardName)?.string == "Ensoniq AudioPCI")
    }
}

/// The NIC data paths' table lines and DATAPATH_ENABLE's checks, and the
/// chips' receive paths at register level.
@Suite struct NICDataPathModelTests {
    static let mac = MACAddress("52:54:00:12:34:56") ?? .broadcast

    static func enable(_ n: SimNucleus, reattach: Bool = false) -> XPCMessage {
        n.handleDowncall(XPCMessage(op: .datapathEnable, flags: reattach ? [.request, .reattach] : .request, instance: 1))
    }

    @Test func everyNICModelGetsTheNetClassWithTheMACFromItsRegisters() throws {
        let models: [DeviceModel] = [RTL8139Model(mac: Self.mac), E1000Model(mac: Self.mac),
                                     PCNet32Model(mac: Self.mac), NE2KModel(mac: Self.mac)]
        for m in models {
            let d = SimDevice(instance: 1, model: m)
            #expect(d.nucleus is NetPath && d.deviceClass == .net, "\(type(of: m))")
            let info = SimNucleus(models: [m]).handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
            #expect(try info.u8(.datapathOn) == 0 && info.attribute(.statClientSent)?.u64 == 0, "\(type(of: m))")
        }
        // NE2K's PAR is empty until the u-driver writes it; the others hold the MAC at reset.
        for m in models.prefix(3) {
            let info = SimNucleus(models: [m]).handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
            #expect(try info.mac(.mac) == Self.mac, "\(type(of: m))")
        }
    }

    @Test func enableWithoutTheRingsIsRefusedNamingTheRole() {
        for m: DeviceModel in [RTL8139Model(mac: Self.mac), PCNet32Model(mac: Self.mac)] {
            let r = Self.enable(SimNucleus(models: [m]))
            #expect(r.remoteError?.errno == 2 && r.remoteError?.attribute == .objectRole, "\(type(of: m))")
        }
        // The e1000 checks the ring lengths the u-driver programmed first;
        // a length takes a ring object to fit in (the write check), and
        // the rings without their buffers are refused naming the role.
        let e = SimNucleus(models: [E1000Model(mac: Self.mac)])
        #expect(Self.enable(e).remoteError?.errno == 22)
        func write(_ reg: UInt32, _ v: UInt32) -> XPCMessage {
            e.handleDowncall(XPCMessage(op: .regWrite, flags: .request, instance: 1,
                                        attributes: [.u32(.regOffset, reg), .u8(.regWidth, 4), .u32(.regValue, v)]))
        }
        #expect(write(E1000_RDLEN, 128).remoteError?.errno == 22, "no RX_RING object yet")
        for role in [ObjectRole.rxRing, ObjectRole.txRing] {
            _ = e.handleDowncall(XPCMessage(op: .dmaAlloc, flags: .request, instance: 1,
                                            attributes: [.u32(.dmaSize, 128), .u8(.objectRole, role)]))
        }
        for reg in [E1000_RDLEN, E1000_TDLEN] { #expect(write(reg, 128).status == 0) }
        let r = Self.enable(e)
        #expect(r.remoteError?.errno == 2 && r.remoteError?.attribute == .objectRole)
        // NE2K has no DMA objects: its ring is read back from PSTART/PSTOP, 0 after reset.
        #expect(Self.enable(SimNucleus(models: [NE2KModel(mac: Self.mac)])).remoteError?.errno == 22)
    }

    @Test func e1000StoresIntoTheDescriptorAtRDHAndCountsMissesAtRDT() {
        let m = E1000Model(mac: Self.mac), mem = SimMemory()
        guard let ring = mem.allocate(instance: 1, size: 128, role: 2), let buf = mem.allocate(instance: 1, size: 2048 * 8, role: 5) else {
            Issue.record("allocation")
            return
        }
        for i in 0..<8 { ring.setLE32(16 * i, buf.busAddress + UInt32(2048 * i)) }
        for (r, v) in [(E1000_RDBAL, ring.busAddress), (E1000_RDLEN, 128), (E1000_RDH, 0), (E1000_RDT, 0),
                       (E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM), (E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_RXO)] {
            m.write(offset: r, width: 4, value: v)
        }
        let frame = [UInt8](repeating: 0xff, count: 6) + Self.mac.bytes + [0x88, 0xb5] + [UInt8](repeating: 7, count: 46)
        #expect(!m.receive(frame, memory: mem), "RDH == RDT: no descriptor")
        #expect(m.missed == 1 && m.read(offset: E1000_MPC, width: 4) == 1 && m.read(offset: E1000_ICR, width: 4) & E1000_ICR_RXO != 0)
        m.write(offset: E1000_RDT, width: 4, value: 7)
        #expect(m.receive(frame, memory: mem) && m.irqAsserted)
        #expect(ring.le16(8) == UInt16(frame.count + 4), "length with the CRC")
        #expect(ring.bytes[12] == UInt8(E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP))
        #expect(buf.slice(0, frame.count) == frame && m.read(offset: E1000_RDH, width: 4) == 1)
        let other = MACAddress("52:54:00:12:34:57") ?? .broadcast
        #expect(!m.receive(other.bytes + Self.mac.bytes + [0x88, 0xb5], memory: mem) && m.filtered == 1)
    }

    @Test func ne2kRingHeadersChainAndAFullRingDropsIntoCNTR2() {
        let m = NE2KModel(mac: Self.mac), mem = SimMemory()
        // NS8390_init's ring: 0x4c..0x80, BNRY one page behind CURR; started, broadcast accepted.
        for (o, v) in [(NE2K_P0_PSTART, NE2K_RX_START_PG), (NE2K_P0_PSTOP, NE2K_RX_STOP_PG), (NE2K_P0_BNRY, NE2K_RX_STOP_PG - 1),
                       (NE2K_P0_RCR, NE2K_RCR_AB)] {
            m.write(offset: o, width: 1, value: v)
        }
        m.write(offset: NE2K_CR, width: 1, value: NE2K_CR_PAGE1 | NE2K_CR_RD_ABORT | NE2K_CR_STP)
        m.write(offset: NE2K_P1_CURR, width: 1, value: NE2K_RX_START_PG)
        m.write(offset: NE2K_CR, width: 1, value: NE2K_CR_RD_ABORT | NE2K_CR_STA)
        let frame = [UInt8](repeating: 0xff, count: 6) + Self.mac.bytes + [0x88, 0xb5] + [UInt8](repeating: 1, count: 300)
        var stored = 0
        while m.receive(frame, memory: mem) { stored += 1 }
        // 51 pages free before BNRY; each frame takes 2; a longest frame
        // and a page (7 pages) must stay free: 23 frames.
        #expect(stored == 23, "\(stored)")
        #expect(m.missed == 1 && m.counters[2] == 1)
        #expect(m.curr == UInt8(NE2K_RX_START_PG) + 46 && m.isr & UInt8(NE2K_ISR_PRX) != 0)
        // The first header: RSR PRX|PHY (broadcast), next page, count = 4 + frame.
        m.write(offset: NE2K_P0_RBCR0, width: 1, value: 4)
        m.write(offset: NE2K_P0_RBCR1, width: 1, value: 0)
        m.write(offset: NE2K_P0_RSAR0, width: 1, value: 0)
        m.write(offset: NE2K_P0_RSAR1, width: 1, value: NE2K_RX_START_PG)
        m.write(offset: NE2K_CR, width: 1, value: NE2K_CR_RD_READ | NE2K_CR_STA)
        let hdr = m.read(offset: NE2K_DATAPORT, width: 4)
        #expect(hdr == UInt32(NE2K_RSR_PRX | NE2K_RSR_PHY) | (NE2K_RX_START_PG + 2) << 8 | UInt32(frame.count + 4) << 16)
    }
}
