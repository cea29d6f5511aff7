// SPDX-License-Identifier: GPL-2.0
import CChips
import UDriverKit
import XPC

/// The ne2k u-driver: everything of ne2k-pci.c + 8390.c but the data path.
/// Probe (the 8390 check, the board reset, the station address PROM), the
/// chip's initialisation (NS8390_init), the receive filter, the station
/// address, link, tally counters and the transmit-timeout restart. Frames
/// move in the nucleus (module/ne2k.c): start_xmit, the interrupt handler,
/// the receive ring and its overrun recovery. Methods follow
/// ne2k_netdev_ops' order.
///
/// Every access to offsets 0x01-0x0f depends on the page CR selects, and the
/// nucleus's data path switches pages too: anything here that leaves page 0
/// (PAR, CURR, MAR on page 1) or runs the remote DMA (the PROM) is one
/// register sequence, which holds the ComboLock for its whole length, and
/// selects page 0 again at its end.
public actor NE2K: NetDriver {
    let device: Device
    let info: DeviceInfo
    private var clone: CloneInfo?
    private(set) var mac: MACAddress?
    /// PROM bytes 14-15 hold 0x57 0x57 (a by-the-spec NE2000 clone).
    private(set) var hasNE2000Signature = false
    private var rxMode = RxMode()
    /// Whether the chip was started (CR.STA) by open: every page switch
    /// writes it back, so none stops or starts the chip by accident.
    private var running = false
    private var linkUp = false
    /// Tally counters summed since probe: CNTR0-2 clear when read.
    private(set) var frameAlignmentErrors: UInt64 = 0
    private(set) var crcErrors: UInt64 = 0
    private(set) var missedPackets: UInt64 = 0

    public init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
    }

    // MARK: probe (ne2k_pci_init_one)

    public func probe(reattach: Bool) async throws -> String {
        guard let c = identifyClone(vendor: info.vendor, device: info.device) else {
            throw UDriverError.noDevice("not a PCI NE2000 clone: \(hex(UInt32(info.vendor))):\(hex(UInt32(info.device)))")
        }
        guard info.barSize >= NE2K_BAR_LEN else {
            throw UDriverError.noDevice("BAR of \(info.barSize) bytes; an NE2000 has \(NE2K_BAR_LEN)")
        }
        clone = c
        let cr = try await device.read8(Reg.cr)
        guard cr != 0xff else { throw UDriverError.noDevice("command register reads 0xff: no 8390 there") }
        let addr: MACAddress
        if reattach {
            // The chip is running: adopt it and the address it has (PAR),
            // which may differ from the PROM's after setMAC. One found
            // stopped is read as it is (its page switches keep STP, which
            // the nucleus allows on a stopped chip); open starts it.
            running = Self.isRunning(cr)
            addr = try await readStationAddress()
        } else {
            try await check8390(cr)
            try await reset()
            addr = try await readPROM()
            try await initChip(mac: addr, start: false)
        }
        mac = addr
        _ = try await device.registerNetdev(mac: addr, chip: c.name)
        return c.name
    }

    /// ne2k-pci's preliminary check: page 1's offset 0x0d (MAR5) takes a
    /// write, page 0's CNTR0 at the same offset clears when read.
    func check8390(_ cr: UInt8) async throws {
        let r = try await device.sequence([
            .write(Reg.cr, Command.noDMA | Command.page1 | Command.stop, width: 1),
            .write(Reg.mar0 + 5, 0xff, width: 1),
            .write(Reg.cr, Command.noDMA | Command.page0 | Command.stop, width: 1),
            .read(Reg.cntr0, width: 1),
            .read(Reg.cntr0, width: 1),
        ])
        guard r.count == 2, r[1] == 0 else {
            _ = try? await device.write8(Reg.cr, cr)
            throw UDriverError.noDevice("CNTR0 does not clear when read: not an 8390")
        }
    }

    /// ne2k_pci_reset_8390: a read of the reset port resets the board, a
    /// write ends the pulse; ISR.RST says it is done. Then every status bit
    /// is acknowledged.
    func reset() async throws {
        _ = try await device.sequence([
            .read(Reg.reset, width: 1),
            .write(Reg.reset, 0, width: 1),
            .poll(Reg.isr, mask: Intr.reset, equals: Intr.reset, width: 1),
            .write(Reg.isr, Intr.all, width: 1),
        ])
        running = false
    }

    /// The 32-byte station address PROM by remote DMA, the chip set up as
    /// NS8390_init(dev, 0) would (ne2k-pci: "we can't reliably read the
    /// SAPROM address without this"), word-wide: each word holds one PROM
    /// byte, doubled.
    func readPROM() async throws -> MACAddress {
        let words = Int(Layout.promBytes / 2)
        var steps: [RegisterStep] = [
            .write(Reg.cr, Command.noDMA | Command.page0 | Command.stop, width: 1),
            .write(Reg.dcr, Config.dataWord, width: 1),
            .write(Reg.rbcr0, 0, width: 1),
            .write(Reg.rbcr1, 0, width: 1),
            .write(Reg.imr, 0, width: 1),
            .write(Reg.isr, Intr.all, width: 1),
            .write(Reg.rcr, RxConfig.monitor, width: 1),
            .write(Reg.tcr, Config.txLoopback, width: 1),
            .write(Reg.rbcr0, Layout.promBytes, width: 1),
            .write(Reg.rbcr1, 0, width: 1),
            .write(Reg.rsar0, 0, width: 1),
            .write(Reg.rsar1, 0, width: 1),
            .write(Reg.cr, Command.remoteRead | Command.start, width: 1),
        ]
        steps += Array(repeating: .read(Reg.dataPort, width: 2), count: words)
        steps += [
            .write(Reg.isr, NE2K_ISR_RDC, width: 1),
            .write(Reg.cr, Command.noDMA | Command.page0 | Command.stop, width: 1),
        ]
        let r = try await device.sequence(steps)
        guard r.count == words else { throw UDriverError(errno: 5, "PROM read returned \(r.count) words") }
        let prom = r.map { UInt8(truncatingIfNeeded: $0) }
        guard prom.contains(where: { $0 != 0xff }) else { throw UDriverError(errno: 5, "station address PROM reads all ones") }
        hasNE2000Signature = prom[Layout.promSignatureOffset] == Layout.promSignature
            && prom[Layout.promSignatureOffset + 1] == Layout.promSignature
        guard let addr = MACAddress(bytes: Array(prom[0..<6])), Self.isUnicast(addr) else {
            throw UDriverError(errno: 5, "PROM holds an invalid station address \(prom[0..<6].map { hex(UInt32($0)) })")
        }
        return addr
    }

    /// PAR0-5 as the chip has them (page 1).
    private func readStationAddress() async throws -> MACAddress {
        let r = try await device.sequence([pageSelect(Command.page1)]
            + (0..<6).map { .read(Reg.par0 + UInt32($0), width: 1) } + [pageSelect(Command.page0)])
        guard r.count == 6, let a = MACAddress(bytes: r.map { UInt8(truncatingIfNeeded: $0) }) else {
            throw UDriverError(errno: 5, "short PAR read")
        }
        return a
    }

    // MARK: net_device_ops

    /// ne2k_pci_open → ei_open: NS8390_init(dev, 1), then the data path.
    /// On reattach the chip runs and the nucleus serves it: reset nothing,
    /// keep PAR, MAR and the ring, make the chip run as an open interface
    /// runs it (``restartAdoptedChip()``) and take the data path back.
    public func open(reattach: Bool) async throws {
        if reattach {
            let wasStopped = try await restartAdoptedChip()
            // A chip found stopped dropped the transmit it was given (or a
            // reset lost its PTX): the nucleus's slots would wait for it
            // until the transmit timeout. Handed over afresh, they are free.
            try await device.enableDataPath(reattach: !wasStopped)
            return
        }
        guard let mac else { throw UDriverError(errno: 19, "open before probe") }
        try await initChip(mac: mac, start: true)
        try await device.enableDataPath()
        try await checkMedia()
    }

    /// The adopted chip as an open interface runs it, in the one register
    /// sequence that reads it: started (the switch to page 2 writes STA,
    /// which starts a stopped chip and is what every page switch of a
    /// running one writes), the data path's interrupts unmasked (IMR; the
    /// nucleus's poll masks and unmasks the receive ones itself), and,
    /// only if page 2 reads them back so, monitor mode and loopback off (a
    /// DP8390 reads them back there; QEMU's ne2000 reads 0). A u-driver
    /// that went wrong before the restart may have left the chip so, or a
    /// read of the reset port (which the nucleus cannot refuse) may have;
    /// nothing else would notice a chip that reads back as configured and
    /// moves no frame. (An overrun recovery under way in the nucleus shows
    /// loopback too: ended early, the chip may receive while the ring
    /// drains.) Returns whether the chip was found stopped.
    private func restartAdoptedChip() async throws -> Bool {
        let started = Command.noDMA | Command.start
        let r = try await device.sequence([
            .read(Reg.cr, width: 1),
            .write(Reg.cr, started | Command.page2, width: 1),
            .read(NE2K_P2_RCR, width: 1),
            .read(NE2K_P2_TCR, width: 1),
            .write(Reg.cr, started | Command.page0, width: 1),
            .write(Reg.imr, Intr.dataPath, width: 1),
        ])
        guard r.count == 3 else { throw UDriverError(errno: 5, "short CR, RCR and TCR read") }
        let cr = UInt8(truncatingIfNeeded: r[0])
        running = true
        linkUp = Self.link(cr: cr).up
        var repair: [RegisterStep] = []
        if r[1] & RxConfig.monitor != 0 {
            repair.append(.write(Reg.rcr, r[1] & NE2K_RCR_MASK & ~RxConfig.monitor, width: 1))
        }
        if r[2] & NE2K_TCR_LB_MASK != 0 { repair.append(.write(Reg.tcr, Config.txNormal, width: 1)) }
        if !repair.isEmpty { _ = try await device.sequence(repair) } // page 0 is selected
        return !Self.isRunning(cr)
    }

    /// __NS8390_init in one register sequence: stop, word mode, receiver in
    /// monitor and transmitter in loopback while the ring is laid out (the
    /// transmit slots at NE2K_TX_START_PG, the ring after them; BNRY one
    /// page behind CURR), the station address (read back, as 8390.c checks
    /// it), then with `start`: interrupts, start, transmitter and receiver
    /// on, the multicast filter.
    private func initChip(mac: MACAddress, start: Bool) async throws {
        let stopPage = clone?.flags.contains(.stopPage0x60) == true ? 0x60 : Layout.stopPage
        let stopped = Command.noDMA | Command.stop
        var steps: [RegisterStep] = [
            .write(Reg.cr, stopped | Command.page0, width: 1),
            .write(Reg.dcr, Config.dataWord, width: 1),
            .write(Reg.rbcr0, 0, width: 1),
            .write(Reg.rbcr1, 0, width: 1),
            .write(Reg.rcr, RxConfig.monitor, width: 1),
            .write(Reg.tcr, Config.txLoopback, width: 1),
            .write(Reg.tpsr, Layout.txStartPage, width: 1),
            .write(Reg.pstart, Layout.rxStartPage, width: 1),
            .write(Reg.bnry, stopPage - 1, width: 1),
            .write(Reg.pstop, stopPage, width: 1),
            .write(Reg.isr, Intr.all, width: 1),
            .write(Reg.imr, 0, width: 1),
            .write(Reg.cr, stopped | Command.page1, width: 1),
        ]
        steps += mac.bytes.enumerated().map { .write(Reg.par0 + UInt32($0.offset), UInt32($0.element), width: 1) }
        steps += (0..<6).map { .read(Reg.par0 + UInt32($0), width: 1) }
        steps += [
            .write(Reg.curr, Layout.rxStartPage, width: 1),
            .write(Reg.cr, stopped | Command.page0, width: 1),
        ]
        steps += promAddressSteps(mac, run: Command.stop)
        if start {
            steps += [
                .write(Reg.isr, Intr.all, width: 1),
                .write(Reg.imr, Intr.dataPath, width: 1),
                .write(Reg.cr, Command.noDMA | Command.page0 | Command.start, width: 1),
                .write(Reg.tcr, Config.txNormal, width: 1),
                .write(Reg.rcr, RxConfig.acceptBroadcast, width: 1),
            ]
            steps += rxModeSteps(rxMode, run: Command.start)
        }
        let r = try await device.sequence(steps)
        running = start
        guard r.map({ UInt8(truncatingIfNeeded: $0) }) == mac.bytes else {
            throw UDriverError(errno: 5, "station address read back as \(r.map { hex($0) }), not \(mac)")
        }
    }

    /// ne2k_pci_close → ei_close: the nucleus lets go of the chip, then
    /// NS8390_init(dev, 0) stops it with every interrupt masked.
    public func stop() async throws {
        try await device.disableDataPath()
        guard let mac else { return }
        try await initChip(mac: mac, start: false)
        linkUp = false
    }

    /// ei_set_multicast_list: MAR0-7 on page 1, then RCR on page 0.
    public func setRxMode(_ mode: RxMode) async throws {
        rxMode = mode
        _ = try await device.sequence(rxModeSteps(mode, run: runBits))
    }

    /// do_set_multicast_list's writes; RCR is written only while the chip
    /// runs (NS8390_init writes it when it starts the chip).
    private func rxModeSteps(_ mode: RxMode, run: UInt32) -> [RegisterStep] {
        let (rcr, mar) = Self.rxFilter(mode)
        var steps: [RegisterStep] = []
        if run == Command.start { steps.append(.write(Reg.rcr, RxConfig.acceptBroadcast, width: 1)) }
        steps.append(.write(Reg.cr, Command.noDMA | Command.page1 | run, width: 1))
        steps += mar.enumerated().map { .write(Reg.mar0 + UInt32($0.offset), UInt32($0.element), width: 1) }
        steps.append(.write(Reg.cr, Command.noDMA | Command.page0 | run, width: 1))
        if run == Command.start { steps.append(.write(Reg.rcr, rcr, width: 1)) }
        return steps
    }

    /// RCR and MAR0-7 for a mode, as do_set_multicast_list and make_mc_bits:
    /// every group sets bit (crc >> 26) & 7 of MAR[crc >> 29], crc being
    /// ether_crc of the address; promiscuous and all-multicast open the
    /// whole filter.
    static func rxFilter(_ mode: RxMode) -> (UInt32, [UInt8]) {
        if mode.promiscuous || mode.allMulticast {
            let rcr = RxConfig.acceptBroadcast | RxConfig.acceptMulticast | (mode.promiscuous ? RxConfig.promiscuous : 0)
            return (rcr, [UInt8](repeating: 0xff, count: 8))
        }
        var mar = [UInt8](repeating: 0, count: 8)
        for a in mode.multicast {
            let crc = a.etherCRC
            mar[Int(crc >> 29)] |= 1 << UInt8((crc >> 26) & 7)
        }
        let rcr = RxConfig.acceptBroadcast | (mode.multicast.isEmpty ? 0 : RxConfig.acceptMulticast)
        return (rcr, mar)
    }

    /// eth_mac_addr + the PAR writes NS8390_init does: page 1, PAR0-5,
    /// read back, page 0; then the address into the PROM window for QEMU
    /// (``promAddressSteps(_:run:)``).
    public func setMAC(_ newMAC: MACAddress) async throws {
        guard Self.isUnicast(newMAC) else { throw UDriverError.invalid(.mac, "\(newMAC) is not a unicast address") }
        var steps: [RegisterStep] = [pageSelect(Command.page1)]
        steps += newMAC.bytes.enumerated().map { .write(Reg.par0 + UInt32($0.offset), UInt32($0.element), width: 1) }
        steps += (0..<6).map { .read(Reg.par0 + UInt32($0), width: 1) }
        steps.append(pageSelect(Command.page0))
        steps += promAddressSteps(newMAC, run: runBits)
        let r = try await device.sequence(steps)
        guard r.map({ UInt8(truncatingIfNeeded: $0) }) == newMAC.bytes else {
            throw UDriverError(errno: 5, "station address read back as \(r.map { hex($0) }), not \(newMAC)")
        }
        mac = newMAC
    }

    /// The station address written into the PROM window by remote DMA, as
    /// a PROM holds it in word mode (one word per byte, the byte doubled,
    /// at card addresses 0-11), page 0 selected before and after, `run`
    /// kept. QEMU's ne2000 (hw/net/ne2000.c, `ne2000_receive`) matches
    /// unicast frames against bytes 0, 2, ..., 10 of that window, never
    /// against PAR0-5, and its remote DMA writes anything below address 32;
    /// a board-reset read reloads the window from its own MAC. So without
    /// this nothing addressed to a MAC set with setMAC gets in. A real
    /// RTL8029 or NE2000 matches PAR and ignores the write (a PROM, or the
    /// 93C46's image, is read only); the remote DMA still counts the bytes
    /// down and raises RDC, which is acknowledged here. Needs word mode
    /// (DCR.WTS), which NS8390_init sets.
    private func promAddressSteps(_ addr: MACAddress, run: UInt32) -> [RegisterStep] {
        var steps: [RegisterStep] = [
            .write(Reg.cr, Command.noDMA | Command.page0 | run, width: 1),
            .write(Reg.isr, NE2K_ISR_RDC, width: 1),
            .write(Reg.rbcr0, Layout.promMACBytes, width: 1),
            .write(Reg.rbcr1, 0, width: 1),
            .write(Reg.rsar0, 0, width: 1),
            .write(Reg.rsar1, 0, width: 1),
            .write(Reg.cr, Command.remoteWrite | Command.page0 | run, width: 1),
        ]
        steps += addr.bytes.map { .write(Reg.dataPort, UInt32($0) | UInt32($0) << 8, width: 2) }
        steps += [
            .write(Reg.isr, NE2K_ISR_RDC, width: 1),
            .write(Reg.cr, Command.noDMA | Command.page0 | run, width: 1),
        ]
        return steps
    }

    /// The RTL8029 as QEMU models it has no PHY to ask: 10 Mbit/s, half
    /// duplex (ne2k-pci forces full duplex only on request), up while the
    /// chip answers at all.
    public func getLink() async throws -> LinkState {
        Self.link(cr: try await device.read8(Reg.cr))
    }

    /// The link as CR read `cr` shows it: up while the chip answers.
    static func link(cr: UInt8) -> LinkState { LinkState(up: cr != 0xff, speed: 10, fullDuplex: false) }

    /// ei_get_stats: the tally counters, summed here; the nucleus counts
    /// packets and bytes. The missed-packet count is what the stack shows
    /// as rx_missed.
    public func getStats() async throws -> NetHardwareStats {
        try await harvestCounters()
        return NetHardwareStats(rxMissed: missedPackets)
    }

    /// CNTR0-2 (a read clears each) and ISR.CNT, on page 0.
    private func harvestCounters() async throws {
        let r = try await device.sequence([
            pageSelect(Command.page0),
            .read(Reg.cntr0, width: 1), .read(Reg.cntr1, width: 1), .read(Reg.cntr2, width: 1),
            .write(Reg.isr, Intr.counters, width: 1),
        ])
        guard r.count == 3 else { throw UDriverError(errno: 5, "short counter read") }
        frameAlignmentErrors += UInt64(r[0] & 0xff)
        crcErrors += UInt64(r[1] & 0xff)
        missedPackets += UInt64(r[2] & 0xff)
    }

    /// The periodic check: the link, and the tally counters before they
    /// saturate (their interrupt, CNT, is left masked).
    public func watchdog() async throws {
        try await checkMedia()
        try await harvestCounters()
    }

    private func checkMedia() async throws {
        let link = try await getLink()
        if link.up != linkUp {
            linkUp = link.up
            try await device.setCarrier(link.up, link: link)
        }
    }

    /// ei_tx_timeout: the nucleus dropped what was in flight; reset the
    /// board, NS8390_init(dev, 1) with the address and filter it had, and
    /// hand the data path back.
    public func txTimeout() async throws {
        guard let mac else { throw UDriverError(errno: 19, "tx timeout before probe") }
        try await reset()
        try await initChip(mac: mac, start: true)
        try await device.enableDataPath()
    }

    // MARK: helpers

    /// CR's STP/STA as this driver left them.
    private var runBits: UInt32 { running ? Command.start : Command.stop }

    /// Selects `page`, remote DMA idle, the chip kept running or stopped.
    private func pageSelect(_ page: UInt32) -> RegisterStep {
        .write(Reg.cr, Command.noDMA | page | runBits, width: 1)
    }

    /// Whether a chip found running runs: STP clear. STA without STP is
    /// what this driver and the nucleus write; QEMU also runs with both
    /// clear, and writing STP back into such a chip would stop it.
    static func isRunning(_ cr: UInt8) -> Bool { UInt32(cr) & Command.stop == 0 }

    static func isUnicast(_ a: MACAddress) -> Bool { !a.isMulticast && a.bytes != [0, 0, 0, 0, 0, 0] }
}

private func hex(_ v: UInt32) -> String { String(v, radix: 16) }
