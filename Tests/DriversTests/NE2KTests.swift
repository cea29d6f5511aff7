// SPDX-License-Identifier: GPL-2.0
import CChips
import Synchronization
import Testing
@testable import NE2K
@testable import NucleusSim
import UDriverKit
import XPC

/// The ne2k u-driver against the NE2000 model. Register downcalls go
/// through the sim nucleus's own checks; the net class's downcalls
/// (NET_REGISTER, DATAPATH_*, NET_CARRIER) are answered by `NetClassFake`,
/// which records them (NICDataPathTests runs the sim's own ne2k data
/// path). After every register downcall
/// the fake checks the chip is back on page 0.
@Suite struct NE2KTests {
    static let prom = MACAddress("52:54:00:12:34:56")

    /// What the net class was asked, and the pages the chip was left on.
    final class NetClassFake: Sendable {
        struct Log: Sendable {
            var registered: [MACAddress] = []
            var enables: [Bool] = [] // reattach flag of each DATAPATH_ENABLE
            var disables = 0
            var carrier: [Bool] = []
            var registerDowncalls = 0
            /// Register downcalls after which CR selected a page other than 0.
            var leftOffPage0: [String] = []
        }
        let log = Mutex(Log())
        let nucleus: SimNucleus

        init(_ n: SimNucleus) { nucleus = n }

        func handle(_ m: XPCMessage) -> XPCMessage {
            switch m.op {
            case .netRegister:
                log.withLock { $0.registered.append((try? m.mac(.mac)) ?? .broadcast) }
                return XPCMessage.reply(to: m, attributes: [.string(.ifname, "eth0")])
            case .datapathEnable:
                log.withLock { $0.enables.append(m.flags.contains(.reattach)) }
                return XPCMessage.reply(to: m)
            case .datapathDisable:
                log.withLock { $0.disables += 1 }
                return XPCMessage.reply(to: m)
            case .netCarrier:
                log.withLock { $0.carrier.append(((try? m.u8(.linkUp)) ?? 0) != 0) }
                return XPCMessage.reply(to: m)
            default:
                let r = nucleus.handleDowncall(m)
                let page = nucleus.inspect(m.instance) { ($0 as? NE2KModel)?.page } ?? nil
                log.withLock {
                    $0.registerDowncalls += 1
                    if page != 0 { $0.leftOffPage0.append("\(m.op.name) left page \(page.map(String.init) ?? "?")") }
                }
                return r
            }
        }
    }

    struct Rig {
        let nucleus: SimNucleus
        let fake: NetClassFake
        let device: Device
        let info: DeviceInfo

        init(_ model: NE2KModel) {
            nucleus = SimNucleus(models: [model])
            let f = NetClassFake(nucleus)
            fake = f
            device = Device(instance: 1) { m in f.handle(m) }
            let pci = model.identity
            info = DeviceInfo(instance: 1, driverName: "ne2k", deviceClass: .net, vendor: pci.vendor,
                              device: pci.device, revision: pci.revision, slot: pci.slot, barSize: pci.barSize)
        }

        func driver() -> NE2K { NE2K(device: device, info: info) }

        func chip<R: Sendable>(_ body: @Sendable (NE2KModel) -> R) throws -> R {
            try #require(nucleus.inspect(1) { m in (m as? NE2KModel).map(body) } ?? nil)
        }

        var log: NetClassFake.Log { fake.log.withLock { $0 } }
    }

    @Test func probeReadsTheStationPROM() async throws {
        let mac = try #require(Self.prom)
        let rig = Rig(NE2KModel(mac: mac))
        let drv = rig.driver()
        #expect(try await drv.probe(reattach: false) == "RealTek RTL-8029(AS)")
        #expect(await drv.mac == mac)
        #expect(await drv.hasNE2000Signature)
        #expect(rig.log.registered == [mac])
        #expect(try rig.chip { $0.resets } == 1, "probe resets the board once")
        // NS8390_init(dev, 0): the address is in PAR, the chip stopped, nothing unmasked.
        #expect(try rig.chip { $0.par } == mac.bytes)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_STP) != 0)
        #expect(try rig.chip { $0.irqAsserted } == false)
        #expect(rig.log.leftOffPage0.isEmpty, "\(rig.log.leftOffPage0)")
    }

    @Test func aBoardReadingAllOnesIsRefused() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom), absent: true))
        let drv = rig.driver()
        await #expect(throws: UDriverError.self) { _ = try await drv.probe(reattach: false) }
        #expect(rig.log.registered.isEmpty)
    }

    @Test func aPROMWithoutAUnicastAddressIsRefused() async throws {
        let rig = Rig(NE2KModel(mac: try #require(MACAddress("01:00:5e:00:00:01"))))
        await #expect(throws: UDriverError.self) { _ = try await rig.driver().probe(reattach: false) }
        #expect(rig.log.registered.isEmpty)
    }

    /// ei_open: the layout NS8390_init programs, the chip started with the
    /// data path's interrupts, carrier reported at 10 Mbit/s.
    @Test func openStartsTheChipOnTheSharedLayout() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let cr = try rig.chip { $0.cr }
        #expect(cr & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA))
        #expect(try rig.chip { $0.curr } == UInt8(NE2K_RX_START_PG))
        #expect(try rig.chip { $0.rcr } == UInt8(NE2K_RCR_AB))
        // What the nucleus reads back at DATAPATH_ENABLE: page 2 PSTART/PSTOP, page 0 BNRY.
        let layout = try rig.chip { m -> [UInt32] in
            m.write(offset: NE2K_CR, width: 1, value: NE2K_CR_RD_ABORT | NE2K_CR_PAGE2 | NE2K_CR_STA)
            let r = [m.read(offset: NE2K_P2_PSTART, width: 1), m.read(offset: NE2K_P2_PSTOP, width: 1),
                     m.read(offset: NE2K_P2_TPSR, width: 1), m.read(offset: NE2K_P2_IMR, width: 1)]
            m.write(offset: NE2K_CR, width: 1, value: NE2K_CR_RD_ABORT | NE2K_CR_PAGE0 | NE2K_CR_STA)
            return r + [m.read(offset: NE2K_P0_BNRY, width: 1)]
        }
        #expect(layout == [NE2K_RX_START_PG, NE2K_RX_STOP_PG, NE2K_TX_START_PG, NE2K_IMR_DATAPATH, NE2K_RX_STOP_PG - 1])
        #expect(rig.log.enables == [false])
        #expect(rig.log.carrier == [true])
        let link = try await drv.getLink()
        #expect(link == LinkState(up: true, speed: 10, fullDuplex: false))
        #expect(rig.log.leftOffPage0.isEmpty, "\(rig.log.leftOffPage0)")
    }

    /// make_mc_bits: bit (crc >> 26) & 7 of MAR[crc >> 29], crc = ether_crc.
    /// The CRCs were worked out apart from the driver (bitwise, polynomial
    /// 0x04c11db7, LSB of each byte first): 01:00:5e:00:00:01 → 0x7fa32d9b,
    /// MAR3 bit 7; 33:33:00:00:00:01 → 0xf99baaba, MAR7 bit 6.
    @Test func rxModeSetsTheMARBitsLinuxSets() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let allHosts = try #require(MACAddress("01:00:5e:00:00:01"))
        let allNodes = try #require(MACAddress("33:33:00:00:00:01"))
        try await drv.setRxMode(RxMode(multicast: [allHosts]))
        #expect(try rig.chip { $0.mar } == [0, 0, 0, 0x80, 0, 0, 0, 0])
        #expect(try rig.chip { $0.rcr } == UInt8(NE2K_RCR_AB | NE2K_RCR_AM))
        #expect(try rig.chip { $0.accepts(allHosts) })
        let other = try #require(MACAddress("01:00:5e:00:00:fb"))
        #expect(try rig.chip { $0.accepts(other) } == false)
        try await drv.setRxMode(RxMode(multicast: [allHosts, allNodes]))
        #expect(try rig.chip { $0.mar } == [0, 0, 0, 0x80, 0, 0, 0, 0x40])
        try await drv.setRxMode(RxMode(allMulticast: true))
        #expect(try rig.chip { $0.mar } == [UInt8](repeating: 0xff, count: 8))
        #expect(try rig.chip { $0.rcr } == UInt8(NE2K_RCR_AB | NE2K_RCR_AM))
        try await drv.setRxMode(RxMode(promiscuous: true))
        #expect(try rig.chip { $0.rcr } == UInt8(NE2K_RCR_AB | NE2K_RCR_AM | NE2K_RCR_PRO))
        let stranger = try #require(MACAddress("02:00:00:00:00:99"))
        #expect(try rig.chip { $0.accepts(stranger) })
        try await drv.setRxMode(RxMode())
        #expect(try rig.chip { $0.mar } == [UInt8](repeating: 0, count: 8))
        #expect(try rig.chip { $0.rcr } == UInt8(NE2K_RCR_AB))
        #expect(try rig.chip { $0.accepts(allHosts) } == false)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA), "page switches kept the chip running")
        #expect(rig.log.leftOffPage0.isEmpty, "\(rig.log.leftOffPage0)")
    }

    @Test func setMACWritesPAR() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await drv.setMAC(newMAC)
        #expect(try rig.chip { $0.par } == newMAC.bytes)
        #expect(try rig.chip { $0.accepts(newMAC) })
        let old = try #require(Self.prom)
        #expect(try rig.chip { $0.accepts(old) } == false)
        await #expect(throws: UDriverError.self) { try await drv.setMAC(.broadcast) }
        #expect(try rig.chip { $0.par } == newMAC.bytes)
        // The write into the PROM window for QEMU: a PROM keeps its
        // contents, the remote DMA ran its count down and is idle, RDC acked.
        #expect(try rig.chip { $0.promWindow } == old.bytes.flatMap { [$0, $0] } + Self.promTail)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RD_ABORT | NE2K_CR_RD_WRITE | NE2K_CR_RD_READ)
            == UInt8(NE2K_CR_RD_ABORT))
        #expect(try rig.chip { $0.isr } & UInt8(NE2K_ISR_RDC) == 0)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA))
        #expect(rig.log.leftOffPage0.isEmpty, "\(rig.log.leftOffPage0)")
    }

    /// PROM bytes 6-15 doubled: zeros, then the 0x57 0x57 signature.
    static let promTail = [UInt8](repeating: 0, count: 16) + [UInt8](repeating: UInt8(NE2K_PROM_SIG), count: 4)

    /// QEMU's ne2000 matches unicast frames against its PROM window, which
    /// remote DMA writes and a board reset reloads: the address set with
    /// setMAC is written there too, and again wherever NS8390_init runs
    /// (txTimeout after its reset, open after a stop).
    @Test func setMACReachesQEMUsStationWindow() async throws {
        let old = try #require(Self.prom)
        let rig = Rig(NE2KModel(mac: old, qemuPROMWindow: true))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        #expect(await drv.mac == old, "the PROM is read before anything is written to it")
        try await drv.open(reattach: false)
        #expect(try rig.chip { $0.accepts(old) })
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await drv.setMAC(newMAC)
        #expect(try rig.chip { $0.promWindow } == newMAC.bytes.flatMap { [$0, $0] } + Self.promTail,
                "six words, each byte doubled; the signature untouched")
        #expect(try rig.chip { $0.accepts(newMAC) })
        #expect(try rig.chip { $0.accepts(old) } == false)
        #expect(try rig.chip { $0.isr } & UInt8(NE2K_ISR_RDC) == 0)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA))

        // The reset reloads QEMU's window from its own MAC; NS8390_init puts
        // the address back.
        try await drv.txTimeout()
        #expect(try rig.chip { $0.resets } == 2)
        #expect(try rig.chip { $0.accepts(newMAC) })
        try await drv.stop()
        try await drv.open(reattach: false)
        #expect(try rig.chip { $0.accepts(newMAC) })
        #expect(try rig.chip { $0.accepts(old) } == false)
        #expect(rig.log.leftOffPage0.isEmpty, "\(rig.log.leftOffPage0)")
    }

    @Test func countersAreSummedAndCNTAcknowledged() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        try rig.chip { $0.counters = [1, 2, 130] }
        #expect(try await drv.getStats().rxMissed == 130)
        #expect(try rig.chip { $0.counters } == [0, 0, 0], "a read clears CNTR0-2")
        #expect(try rig.chip { $0.isr } & UInt8(NE2K_ISR_CNT) == 0)
        try rig.chip { $0.counters = [0, 0, 5] }
        try await drv.watchdog()
        #expect(try await drv.getStats().rxMissed == 135)
        #expect(await drv.crcErrors == 2)
        #expect(await drv.frameAlignmentErrors == 1)
    }

    @Test func txTimeoutResetsAndRestarts() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let group = try #require(MACAddress("01:00:5e:00:00:01"))
        try await drv.setRxMode(RxMode(multicast: [group]))
        // The transmitter wedged: the chip stopped behind the driver's back.
        try rig.chip { $0.write(offset: NE2K_CR, width: 1, value: NE2K_CR_RD_ABORT | NE2K_CR_STP) }
        try await drv.txTimeout()
        #expect(try rig.chip { $0.resets } == 2)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA))
        #expect(try rig.chip { $0.mar } == [0, 0, 0, 0x80, 0, 0, 0, 0], "the filter is reloaded")
        #expect(rig.log.enables == [false, false])
    }

    @Test func stopHandsBackTheDataPathAndStopsTheChip() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        try await drv.stop()
        #expect(rig.log.disables == 1)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_STP) != 0)
        #expect(try rig.chip { $0.rcr } == UInt8(NE2K_RCR_MON))
        try await drv.open(reattach: false)
        #expect(rig.log.carrier == [true, true], "carrier is reported again after a stop")
    }

    /// A restarted u-driver adopts the running chip: no reset, no
    /// NS8390_init; PAR (as set by setMAC, not the PROM's) and MAR stay.
    @Test func reattachResetsNothing() async throws {
        let rig = Rig(NE2KModel(mac: try #require(Self.prom)))
        let first = rig.driver()
        _ = try await first.probe(reattach: false)
        try await first.open(reattach: false)
        let group = try #require(MACAddress("33:33:00:00:00:01"))
        try await first.setRxMode(RxMode(promiscuous: false, multicast: [group]))
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await first.setMAC(newMAC)
        let before = try rig.chip { ($0.resets, $0.mar, $0.par, $0.rcr, $0.curr) }

        let second = rig.driver()
        #expect(try await second.probe(reattach: true) == "RealTek RTL-8029(AS)")
        #expect(await second.mac == newMAC)
        try await second.open(reattach: true)
        let after = try rig.chip { ($0.resets, $0.mar, $0.par, $0.rcr, $0.curr) }
        #expect(after.0 == before.0, "no reset")
        #expect(after.1 == before.1 && after.2 == before.2 && after.3 == before.3 && after.4 == before.4)
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA))
        #expect(rig.log.enables == [false, true], "the data path is taken back with REATTACH")
        #expect(rig.log.registered == [try #require(Self.prom), newMAC])
        // The adopted driver's page switches keep the chip running.
        try await second.setRxMode(RxMode(multicast: [group]))
        #expect(try rig.chip { $0.cr } & UInt8(NE2K_CR_RUN_MASK) == UInt8(NE2K_CR_STA))
        #expect(rig.log.leftOffPage0.isEmpty, "\(rig.log.leftOffPage0)")
    }
}
