// SPDX-License-Identifier: GPL-2.0
import CChips
import Testing
@testable import E1000
@testable import NE2K
@testable import NucleusSim
@testable import PCNet32
@testable import RTL8139
import UDriverKit
import XPC

/// Every NIC u-driver, unchanged, against the sim nucleus's data path for
/// its chip (the net class in NetPath, the chip's ring code in CHIPPath),
/// in process: downcalls go straight to the sim, device time is stepped by
/// hand. The client's frames must come back from the peer, none lost, and
/// a u-driver replaced mid-stream (reattach, as after a SIGKILL) must find
/// the data path still running with the MAC and filter it left.
@Suite struct NICDataPathTests {
    /// One NIC: its model and its u-driver.
    struct NIC: Sendable, CustomTestStringConvertible {
        let name: String
        let model: @Sendable (MACAddress) -> DeviceModel
        let driver: @Sendable (Device, DeviceInfo) -> any NetDriver
        var testDescription: String { name }
    }

    static let nics: [NIC] = [
        NIC(name: "rtl8139", model: { RTL8139Model(mac: $0) }, driver: { RTL8139(device: $0, info: $1) }),
        NIC(name: "e1000", model: { E1000Model(mac: $0) }, driver: { E1000(device: $0, info: $1) }),
        NIC(name: "pcnet32", model: { PCNet32Model(mac: $0) }, driver: { PCNet32(device: $0, info: $1) }),
        NIC(name: "ne2k-pci", model: { NE2KModel(mac: $0) }, driver: { NE2K(device: $0, info: $1) }),
    ]

    static let mac = MACAddress("52:54:00:12:34:56") ?? .broadcast
    static let group = MACAddress("01:00:5e:00:00:fb") ?? .broadcast

    /// The sim with one NIC and a transport to it that throws error replies.
    struct Rig {
        let nucleus: SimNucleus
        let device: Device

        init(_ nic: NIC) {
            let n = SimNucleus(models: [nic.model(NICDataPathTests.mac)])
            nucleus = n
            device = Device(instance: 1) { m in
                let r = n.handleDowncall(m)
                if let e = r.remoteError { throw e }
                return r
            }
        }

        func info() throws -> DeviceInfo {
            let m = nucleus.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
            let p = try #require(nucleus.inspect(1) { $0.identity })
            return DeviceInfo(instance: 1, driverName: "test", deviceClass: .net, vendor: p.vendor, device: p.device,
                              revision: p.revision, slot: p.slot, barSize: p.barSize,
                              heldBuffers: m.all(.object).map { o in
                                  let c = o.children
                                  return DMABuffer(handle: c.first { $0.id == .objectID }?.u32 ?? 0,
                                                   size: c.first { $0.id == .dmaSize }?.u32 ?? 0,
                                                   role: c.first { $0.id == .objectRole }?.u8 ?? 0)
                              })
        }

        func deviceInfo() -> XPCMessage { nucleus.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1)) }
        func counter(_ id: XPCAttributeID) -> UInt64 { deviceInfo().attribute(id)?.u64 ?? 0 }

        /// `ms` milliseconds of device time, one data-path pass each.
        func run(ms: Int) { for _ in 0..<ms { nucleus.step(nanos: 1_000_000) } }

        /// Stops the client, lets the cable and rings drain; sent, echoed.
        func drain() throws -> (sent: UInt64, echoed: UInt64) {
            try nucleus.setTraffic(1, sending: false)
            run(ms: 50)
            defer { try? nucleus.setTraffic(1, sending: true) }
            return (counter(.statClientSent), counter(.statEchoed))
        }

        /// The receive filter as DEVICE_INFO reads it back from the chip.
        func filter() throws -> (mac: MACAddress, flags: UInt32, hash: [UInt8]) {
            let m = deviceInfo()
            return (try m.mac(.mac), try m.u32(.rxFlags), try #require(m.attribute(.mcHash)).payload)
        }
    }

    /// Probe, open (the net class's ndo_open first), the group joined, the
    /// client on; the link checked again once autonegotiation had time.
    func bringUp(_ nic: NIC, _ rig: Rig) async throws -> any NetDriver {
        let drv = nic.driver(rig.device, try rig.info())
        _ = try await drv.probe(reattach: false)
        rig.nucleus.setNetClient(1, up: false)
        try await drv.open(reattach: false)
        try await drv.setRxMode(RxMode(multicast: [Self.group]))
        rig.nucleus.setNetClient(1, up: true)
        rig.run(ms: 600)
        try await drv.watchdog() // net.c's NET_WATCHDOG after the link-change interrupt
        return drv
    }

    @Test(arguments: nics) func framesComeBackAndNoneIsLost(_ nic: NIC) async throws {
        let rig = Rig(nic)
        _ = try await bringUp(nic, rig)
        rig.run(ms: 1000)
        let (sent, echoed) = try rig.drain()
        #expect(sent >= 150, "the client sends a frame every 5 ms once carrier is on")
        #expect(echoed == sent)
        #expect(rig.counter(.statRxDropped) == 0)
        #expect(rig.counter(.statMulticast) >= 10, "the joined group's announcements come in")
        #expect(rig.counter(.statFiltered) >= 10, "the other group's are filtered by the chip")
        let f = try rig.filter()
        #expect(f.mac == Self.mac && f.flags == 0)
        #expect(f.hash.contains { $0 != 0 }, "the joined group's hash bit")
        #expect(try rig.deviceInfo().u8(.datapathOn) == 1 && rig.deviceInfo().attribute(.linkUp)?.u8 == 1)
    }

    /// A NET_OPEN sent again to a recovered u-driver, after the one before
    /// died during its open past enabling the data path (a timeout): a
    /// fresh open resets the chip, which the nucleus refuses under a
    /// running data path (rtl8139 shows it), so the net class's step before
    /// serving takes the data path back first; the open then runs and
    /// frames come back, none lost.
    @Test(arguments: nics) func anOpenSentAgainFindsTheDataPathTakenBack(_ nic: NIC) async throws {
        let open = XPCMessage(op: .netOpen, flags: .request, instance: 1)
        if nic.name == "rtl8139" {
            let rig = Rig(nic)
            _ = try await bringUp(nic, rig)
            let second = nic.driver(rig.device, try rig.info())
            _ = try await second.probe(reattach: true)
            await #expect(throws: (any Error).self, "ChipCmd's reset refused while DATAPATH_ON") {
                _ = try await second.dispatch(open)
            }
        }
        let rig = Rig(nic)
        _ = try await bringUp(nic, rig)
        let second = nic.driver(rig.device, try rig.info())
        _ = try await second.probe(reattach: true)
        try await type(of: second).beforeServing(open, on: rig.device)
        _ = try await second.dispatch(open)
        try await second.setRxMode(RxMode(multicast: [Self.group]))
        rig.run(ms: 600)
        try await second.watchdog()
        rig.run(ms: 500)
        let (sent, echoed) = try rig.drain()
        #expect(sent > 0 && echoed == sent, "\(echoed) of \(sent) echoed after the open")
        #expect(try rig.deviceInfo().u8(.datapathOn) == 1)
    }

    @Test(arguments: nics) func aReplacedDriverFindsTheDataPathRunning(_ nic: NIC) async throws {
        let rig = Rig(nic)
        _ = try await bringUp(nic, rig)
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        rig.run(ms: 200)
        let before = try rig.filter()
        let echoedBefore = rig.counter(.statEchoed)
        // The u-driver dies here (SIGKILL): nothing serves upcalls, the
        // nucleus keeps moving frames.
        rig.run(ms: 300)
        #expect(rig.counter(.statEchoed) > echoedBefore + 30, "echoes continue with no u-driver")
        // A fresh one adopts the running chip; the shadow replays the rx mode.
        let second = nic.driver(rig.device, try rig.info())
        _ = try await second.probe(reattach: true)
        try await second.open(reattach: true)
        try await second.setRxMode(RxMode(multicast: [Self.group]))
        rig.run(ms: 500)
        #expect(try rig.filter() == before, "MAC and rx mode read back unchanged")
        let (sent, echoed) = try rig.drain()
        #expect(echoed == sent, "\(sent - echoed) of \(sent) lost")
        #expect(rig.counter(.statRxDropped) == 0)
        // And the new u-driver serves: a MAC change reaches the chip.
        try await second.setMAC(newMAC)
        #expect(try rig.filter().mac == newMAC)
    }

    /// A write the nucleus must refuse: `width` bytes of `value` at
    /// `offset`, after `select` (steps that set an index register, as the
    /// PCnet's RAP) in the same register sequence.
    struct StoppingWrite: Sendable {
        let select: [RegisterStep]
        let offset: UInt32, value: UInt32, width: Int

        init(_ offset: UInt32, _ value: UInt32, _ width: Int, after select: [RegisterStep] = []) {
            (self.offset, self.value, self.width, self.select) = (offset, value, width, select)
        }
    }

    /// Writes that would stop a NIC's data path under the nucleus (as a
    /// u-driver whose code went wrong might make them), given the chip's
    /// registers as they run.
    static let stoppingWrites: [String: @Sendable (Device) async throws -> [StoppingWrite]] = [
        "e1000": { d in
            let rctl = try await d.read32(E1000_RCTL), ctrl = try await d.read32(E1000_CTRL)
            return [.init(E1000_IMC, E1000_IMC_ALL, 4), .init(E1000_RCTL, rctl & ~E1000_RCTL_EN, 4), .init(E1000_TCTL, 0, 4),
                    .init(E1000_CTRL, ctrl | E1000_CTRL_RST, 4), .init(E1000_CTRL, ctrl | E1000_CTRL_PHY_RST, 4),
                    .init(E1000_CTRL, ctrl & ~E1000_CTRL_SLU, 4),
                    .init(E1000_MDIC, E1000_MDIC_OP_WRITE | E1000_MDIC_PHY_ADDR << E1000_MDIC_PHY_SHIFT | 0x0800, 4)]
        },
        "rtl8139": { _ in
            [.init(RTL_CHIP_CMD, 0, 1), .init(RTL_CHIP_CMD, RTL_CMD_RESET | RTL_CMD_RX_ENB | RTL_CMD_TX_ENB, 1),
             .init(RTL_CHIP_CMD, RTL_CMD_TX_ENB, 1), .init(RTL_INTR_MASK, 0, 2),
             .init(RTL_INTR_MASK, RTL_INT_ALL & ~RTL_INT_RX_OK, 2), .init(RTL_INTR_MASK, 0, 1), .init(RTL_CHIP_CMD - 3, 0, 4)]
        },
        // Through RDP with RAP selecting the CSR: CSR0 with STOP, with INIT,
        // without INEA (a plain bit, not write-1-to-clear: a write without
        // it turns the interrupts off); CSR15
        // with a receive, transmit or loopback mode that stops the wire;
        // CSR3 masking RINT or TINT.
        "pcnet32": { d in
            let mode = try await d.sequence(PCNetIO.readCSR(PCNET32_CSR15)).first ?? 0
            let csr0 = [PCNetIO.select(PCNET32_CSR0)], csr15 = [PCNetIO.select(PCNET32_CSR15)]
            let csr3 = [PCNetIO.select(PCNET32_CSR3)], rdp = PCNET32_WIO_RDP
            return [.init(rdp, PCNET32_CSR0_STOP | PCNET32_CSR0_INEA, 2, after: csr0),
                    .init(rdp, PCNET32_CSR0_INIT | PCNET32_CSR0_INEA, 2, after: csr0),
                    .init(rdp, 0, 2, after: csr0), .init(rdp, PCNET32_CSR0_STRT | PCNET32_CSR0_TDMD, 2, after: csr0),
                    .init(rdp, mode | PCNET32_MODE_DRX, 2, after: csr15), .init(rdp, mode | PCNET32_MODE_DTX, 2, after: csr15),
                    .init(rdp, mode | PCNET32_MODE_LOOP, 2, after: csr15),
                    .init(rdp, mode | PCNET32_MODE_INTL, 2, after: csr15),
                    .init(rdp, PCNET32_CSR3_MASK_ALL, 2, after: csr3), .init(rdp, PCNET32_CSR0_RINT, 2, after: csr3),
                    // A suspend the downcall does not end (the nucleus
                    // ends it and refuses the downcall after the fact).
                    .init(rdp, PCNET32_CSR5_SPND, 2, after: [PCNetIO.select(PCNET32_CSR5)])]
        },
        // Page 0 is selected between downcalls. CR setting STP or dropping
        // STA (a page switch too), in any lane; IMR without the data path's
        // interrupts; RCR in monitor mode; TCR in either loopback, in a byte
        // or in a wider write's lane; the reset port.
        "ne2k-pci": { _ in
            let noDMA = NE2K_CR_RD_ABORT
            return [.init(NE2K_CR, noDMA | NE2K_CR_STP, 1), .init(NE2K_CR, noDMA | NE2K_CR_STA | NE2K_CR_STP, 1),
                    .init(NE2K_CR, noDMA, 1), .init(NE2K_CR, noDMA | NE2K_CR_PAGE1, 1), .init(NE2K_CR, noDMA | NE2K_CR_STP, 4),
                    .init(NE2K_P0_IMR, 0, 1), .init(NE2K_P0_IMR, NE2K_IMR_DATAPATH & ~NE2K_ISR_PRX, 1),
                    .init(NE2K_P0_RCR, NE2K_RCR_AB | NE2K_RCR_MON, 1), .init(NE2K_P0_TCR, NE2K_TCR_LOOPBACK, 1),
                    .init(NE2K_P0_TCR, NE2K_TCR_LB_MASK & ~NE2K_TCR_LOOPBACK, 1),
                    .init(NE2K_P0_RCR, NE2K_RCR_AB | NE2K_TCR_LOOPBACK << 8, 2), .init(NE2K_RESET, 0, 1)]
        },
    ]

    /// While the data path is the nucleus's, the nucleus refuses the writes
    /// that would stop it (receiver or transmitter off, a reset, the data
    /// path's interrupts masked, a loopback or monitor mode, for the e1000
    /// a PHY write too). Each is EPERM and no frame is lost; the u-driver's
    /// own stop takes the data path back first and then stops the chip.
    @Test(arguments: nics.filter { stoppingWrites[$0.name] != nil })
    func theDataPathCannotBeStoppedUnderTheNucleus(_ nic: NIC) async throws {
        let rig = Rig(nic)
        let drv = try await bringUp(nic, rig)
        let stoppingWrites = try #require(Self.stoppingWrites[nic.name])
        let writes = try await stoppingWrites(rig.device)
        let info = rig.deviceInfo()
        for w in writes {
            let what = "\(w.width)-byte write of 0x\(String(w.value, radix: 16)) to 0x\(String(w.offset, radix: 16))"
            do {
                if w.select.isEmpty {
                    try await rig.device.write(w.offset, w.value, width: w.width)
                } else {
                    _ = try await rig.device.sequence(w.select + [.write(w.offset, w.value, width: w.width)])
                }
                Issue.record("\(what) accepted")
            } catch let e as XPCError {
                #expect(e.errno == 1, "\(what): \(e)")
            }
            rig.run(ms: 20)
        }
        #expect(rig.deviceInfo().all(.rxConfig) == info.all(.rxConfig))
        // What keeps the chip running is still allowed: the rx mode.
        try await drv.setRxMode(RxMode(promiscuous: true))
        rig.run(ms: 300)
        let (sent, echoed) = try rig.drain()
        #expect(sent > 50 && echoed == sent, "\(sent - echoed) of \(sent) lost")
        try await drv.stop()
        #expect(try rig.deviceInfo().u8(.datapathOn) == 0)
    }

    /// The state such writes would leave, made on the chip directly (as
    /// if something had got past the checks, or a reset-port read, which
    /// no write check sees, had left it): no echo comes back until a
    /// restarted u-driver adopts the chip, which makes it run again without
    /// a reset.
    static let stoppedChip: [String: @Sendable (DeviceModel) -> Void] = [
        "e1000": { m in
            m.write(offset: E1000_IMC, width: 4, value: E1000_IMC_ALL)
            m.write(offset: E1000_RCTL, width: 4, value: m.read(offset: E1000_RCTL, width: 4) & ~(E1000_RCTL_EN | E1000_RCTL_BAM))
            m.write(offset: E1000_TCTL, width: 4, value: 0)
        },
        "rtl8139": { m in
            m.write(offset: RTL_INTR_MASK, width: 2, value: 0)
            m.write(offset: RTL_CHIP_CMD, width: 1, value: 0)
        },
        // A RESET read, which no write check sees (stopped, the filter
        // cleared), then the receiver off in loopback and RINT/TINT masked.
        "pcnet32": { m in
            _ = m.read(offset: PCNET32_WIO_RESET, width: 2)
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR15)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: PCNET32_MODE_DRX | PCNET32_MODE_LOOP)
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR3)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: PCNET32_CSR3_MASK_ALL)
        },
        // A read of the reset port, which no write check sees (stopped,
        // IMR 0, a transmit's PTX lost), then monitor mode and loopback.
        "ne2k-pci": { m in
            _ = m.read(offset: NE2K_RESET, width: 1)
            m.write(offset: NE2K_P0_RCR, width: 1, value: NE2K_RCR_AB | NE2K_RCR_MON)
            m.write(offset: NE2K_P0_TCR, width: 1, value: NE2K_TCR_LOOPBACK)
        },
    ]

    @Test(arguments: nics.filter { stoppedChip[$0.name] != nil })
    func aReattachedDriverRestartsAStoppedChip(_ nic: NIC) async throws {
        let rig = Rig(nic)
        _ = try await bringUp(nic, rig)
        rig.run(ms: 200)
        let stop = try #require(Self.stoppedChip[nic.name])
        _ = rig.nucleus.inspect(1) { m in stop(m) }
        rig.run(ms: 100)
        let echoedStopped = rig.counter(.statEchoed)
        rig.run(ms: 300)
        #expect(rig.counter(.statEchoed) == echoedStopped, "the stopped chip moves no frame")
        let second = nic.driver(rig.device, try rig.info())
        _ = try await second.probe(reattach: true)
        try await second.open(reattach: true)
        try await second.setRxMode(RxMode(multicast: [Self.group]))
        rig.run(ms: 500)
        #expect(rig.counter(.statEchoed) > echoedStopped + 50, "echoes come back after the reattach")
    }

    /// A PCnet left running but suspended (CSR5 SPND: the nucleus ends a
    /// suspend any downcall leaves, so here it is made behind its back),
    /// its interrupts off (CSR0 without INEA) and RINT/TINT masked: the
    /// reattached u-driver resumes and unmasks it without a restart (no
    /// INIT: the rings and what is queued on them are kept).
    @Test func aReattachedPCnetResumesASuspendedChipWithoutARestart() async throws {
        let nic = try #require(Self.nics.first { $0.name == "pcnet32" })
        let rig = Rig(nic)
        _ = try await bringUp(nic, rig)
        rig.run(ms: 200)
        _ = rig.nucleus.inspect(1) { m in
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR5)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: PCNET32_CSR5_SPND)
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR3)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: PCNET32_CSR3_MASK_ALL)
            m.write(offset: PCNET32_WIO_RAP, width: 2, value: PCNET32_CSR0)
            m.write(offset: PCNET32_WIO_RDP, width: 2, value: 0)
        }
        rig.run(ms: 100)
        let echoedStopped = rig.counter(.statEchoed)
        rig.run(ms: 300)
        #expect(rig.counter(.statEchoed) == echoedStopped, "the suspended chip moves no frame")
        let inits = rig.nucleus.inspect(1) { ($0 as? PCNet32Model)?.initialisations }
        let second = nic.driver(rig.device, try rig.info())
        _ = try await second.probe(reattach: true)
        try await second.open(reattach: true)
        try await second.setRxMode(RxMode(multicast: [Self.group]))
        #expect(rig.nucleus.inspect(1) { ($0 as? PCNet32Model)?.initialisations } == inits, "resumed, not restarted")
        rig.run(ms: 500)
        #expect(rig.counter(.statEchoed) > echoedStopped + 50, "echoes come back after the reattach")
    }

    /// A PCnet older than the 79C970A cannot suspend: its rx mode is
    /// written with the chip stopped, the data path taken back first (the
    /// nucleus refuses STOP under it) and handed over afresh.
    @Test func aPCnetThatCannotSuspendStillChangesItsRxModeWhileUp() async throws {
        let nic = NIC(name: "pcnet32-79C970", model: { PCNet32Model(mac: $0, partID: 0x2420) },
                      driver: { PCNet32(device: $0, info: $1) })
        let rig = Rig(nic)
        let drv = try await bringUp(nic, rig)
        try await drv.setRxMode(RxMode(promiscuous: true))
        let mode = rig.nucleus.inspect(1) { ($0 as? PCNet32Model)?.csrValue(PCNET32_CSR15) } ?? nil
        #expect(mode.map { UInt32($0) & PCNET32_MODE_PROM } == PCNET32_MODE_PROM)
        let echoedBefore = rig.counter(.statEchoed)
        rig.run(ms: 300)
        #expect(rig.counter(.statEchoed) > echoedBefore + 30, "echoes continue after the restart")
        #expect(try rig.deviceInfo().u8(.datapathOn) == 1)
    }

    /// All four NICs in one sim, as a campaign against every driver runs
    /// them: each is on its own cable, so each gets its own echoes.
    @Test func everyNICInOneSimGetsItsOwnEchoes() async throws {
        let macs = (0..<Self.nics.count).compactMap { MACAddress(bytes: [0x52, 0x54, 0, 0x12, 0x34, UInt8(0x60 + $0)]) }
        let n = SimNucleus(models: zip(Self.nics, macs).map { $0.model($1) })
        var drivers: [any NetDriver] = []
        for (i, nic) in Self.nics.enumerated() {
            let instance = UInt32(i + 1)
            let device = Device(instance: instance) { m in
                let r = n.handleDowncall(m)
                if let e = r.remoteError { throw e }
                return r
            }
            let p = try #require(n.inspect(instance) { $0.identity })
            let drv = nic.driver(device, DeviceInfo(instance: instance, driverName: nic.name, deviceClass: .net, vendor: p.vendor,
                                                    device: p.device, revision: p.revision, slot: p.slot, barSize: p.barSize))
            _ = try await drv.probe(reattach: false)
            try await drv.open(reattach: false)
            n.setNetClient(instance, up: true)
            drivers.append(drv)
        }
        for _ in 0..<600 { n.step(nanos: 1_000_000) }
        for d in drivers { try await d.watchdog() }
        for _ in 0..<500 { n.step(nanos: 1_000_000) }
        for i in 1...UInt32(Self.nics.count) { try n.setTraffic(i, sending: false) }
        for _ in 0..<50 { n.step(nanos: 1_000_000) }
        for i in 1...UInt32(Self.nics.count) {
            let m = n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: i))
            let sent = m.attribute(.statClientSent)?.u64 ?? 0, echoed = m.attribute(.statEchoed)?.u64 ?? 0
            #expect(sent >= 50 && echoed == sent, "\(Self.nics[Int(i) - 1].name): sent \(sent), echoed \(echoed)")
            #expect(try m.mac(.mac) == macs[Int(i) - 1])
        }
    }
}
