// SPDX-License-Identifier: GPL-2.0
import CChips
import UDriverKit
import XPC

/// The pcnet32 u-driver: pcnet32.c's probe (chip id from CSR88/89, MAC from
/// the address PROM), open and close, receive filter, MAC, link, watchdog,
/// transmit-timeout restart and statistics. start_xmit, the interrupt
/// handler, the NAPI poll, tx completion and the descriptor rings stay in
/// the nucleus (module/pcnet32.c). Methods follow pcnet32_netdev_ops' order.
///
/// The rings: the u-driver allocates them (tracked DMA objects the nucleus
/// keeps across restarts) and points the chip at the initialisation block
/// (CSR1/CSR2, written by the nucleus as two 16-bit halves of its bus
/// address); the nucleus fills the descriptors and the block's ring bases
/// at DATAPATH_ENABLE, and INIT loads them. QEMU's model takes ring bases
/// only from an initialisation block, never from CSR24/25 and CSR30/31.
public actor PCNet32: NetDriver {
    /// The DMA objects the chip works from, by role.
    struct Rings: Sendable {
        let initBlock: DMABuffer, rxRing: DMABuffer, txRing: DMABuffer, rxBuffers: DMABuffer, txBuffers: DMABuffer

        /// The role and size of each object pcnet32 allocates (pcnet32_alloc_ring).
        static let layout: [(DMARole, UInt32)] = [
            (.initBlock, PCNET32_IB_SIZE),
            (.rxRing, PCNET32_RX_RING_SIZE * PCNET32_DESC_SIZE),
            (.txRing, PCNET32_TX_RING_SIZE * PCNET32_DESC_SIZE),
            (.rxBuffers, PCNET32_RX_RING_SIZE * PCNET32_PKT_BUF_SIZE),
            (.txBuffers, PCNET32_TX_RING_SIZE * PCNET32_PKT_BUF_SIZE),
        ]

        /// The newest object of every role from `buffers`, or nil if one is missing.
        init?(_ buffers: [DMABuffer]) {
            func last(_ r: DMARole) -> DMABuffer? { buffers.last { $0.role == r.rawValue } }
            guard let ib = last(.initBlock), let rr = last(.rxRing), let tr = last(.txRing),
                  let rb = last(.rxBuffers), let tb = last(.txBuffers) else { return nil }
            (initBlock, rxRing, txRing, rxBuffers, txBuffers) = (ib, rr, tr, rb, tb)
        }
    }

    let device: Device
    let info: DeviceInfo
    private(set) var chip: PCNetChip?
    private(set) var mac: MACAddress?
    /// pcnet32's port options: the 79C970A is forced to 10BASE-T so that
    /// link detection works; the others auto-select.
    private var autoSelect = true
    private var phyID: UInt32 = 0
    private var phyCount = 0
    /// CSR15 and CSR8-11 as last programmed, or read back on reattach.
    private(set) var mode: UInt32 = 0
    private(set) var filter: UInt64 = 0
    private var rxMode = RxMode()
    private(set) var rings: Rings?
    /// Open: the chip runs (a filter or MAC change suspends it).
    private var running = false
    private var linkUp = false

    public init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
        rings = Rings(info.heldBuffers)
    }

    // MARK: probe (pcnet32_probe_pci + pcnet32_probe1)

    public func probe(reattach: Bool) async throws -> String {
        // AMD, and the IBM-sold cards with Trident's vendor id.
        guard info.vendor == 0x1022 || info.vendor == 0x1023 else {
            throw UDriverError.noDevice("unsupported vendor \(String(info.vendor, radix: 16))")
        }
        guard info.barSize >= PCNET32_IO_SIZE else { throw UDriverError.noDevice("I/O space of \(info.barSize) bytes is too small") }
        let c: PCNetChip
        let addr: MACAddress?
        if reattach {
            // The chip is running: read its id and the address it filters on; reset nothing.
            let r = try await device.sequence(PCNetIO.readCSR(PCNET32_CSR88) + PCNetIO.readCSR(PCNET32_CSR89)
                                              + (0..<3).flatMap { PCNetIO.readCSR(PCNET32_CSR12 + $0) })
            guard r.count == 5 else { throw UDriverError(errno: 5, "short register read") }
            c = try Self.chip(csr88: r[0], csr89: r[1])
            addr = Self.address(words: Array(r[2...4]))
            if c.features.contains(.mii) {
                let b33 = try await device.sequence(PCNetIO.readBCR(PCNET32_BCR33))
                phyID = (b33.first ?? 0) >> PCNET32_MII_PHY_SHIFT & 0x1f
            }
        } else {
            // pcnet32_wio_reset, then CSR0 must read STOP and RAP hold 88.
            let r = try await device.sequence([PCNetIO.reset] + PCNetIO.readCSR(PCNET32_CSR0)
                                              + [PCNetIO.select(PCNET32_CSR88), .read(PCNET32_WIO_RAP, width: 2),
                                                 .read(PCNET32_WIO_RDP, width: 2)] + PCNetIO.readCSR(PCNET32_CSR89))
            guard r.count == 5 else { throw UDriverError(errno: 5, "short register read") }
            guard r[1] == PCNET32_CSR0_STOP, r[2] == PCNET32_CSR88 else {
                throw UDriverError.noDevice("no word I/O access: CSR0 0x\(String(r[1], radix: 16)) after reset, RAP 0x\(String(r[2], radix: 16))")
            }
            c = try Self.chip(csr88: r[3], csr89: r[4])
            try await setUpChip(c)
            addr = try await readStationAddress()
            if c.features.contains(.mii) { try await scanPHYs(c) }
        }
        guard let addr, Self.isUnicast(addr) else {
            throw UDriverError(errno: 5, "no valid station address in CSR12-14 or the address PROM")
        }
        chip = c
        mac = addr
        autoSelect = c.partID != PCNetChip.am79C970A
        mode = autoSelect ? 0 : PCNET32_MODE_PORT_10BT
        _ = try await device.registerNetdev(mac: addr, chip: c.name)
        if !reattach {
            // Enable LED writes, as pcnet32 does after register_netdev.
            let b2 = try await device.sequence(PCNetIO.readBCR(PCNET32_BCR2))
            _ = try await device.sequence(PCNetIO.writeBCR(PCNET32_BCR2, (b2.first ?? 0) | PCNET32_BCR2_LEDPE))
            try await allocateRings()
        }
        return c.name
    }

    /// pcnet32_alloc_ring (at probe, as pcnet32): the objects the nucleus
    /// does not hold yet. They outlive this process.
    private func allocateRings() async throws {
        guard rings == nil else { return }
        var held = info.heldBuffers
        for (role, size) in Rings.layout where !held.contains(where: { $0.role == role.rawValue && $0.size >= size }) {
            held.append(try await device.allocateDMA(size: size, role: role))
        }
        rings = Rings(held)
    }

    static func chip(csr88: UInt32, csr89: UInt32) throws -> PCNetChip {
        switch identifyChip(csr88: csr88, csr89: csr89) {
        case .success(let c): return c
        case .failure(.notAMD(let v)): throw UDriverError.noDevice("unsupported chip version 0x\(String(v, radix: 16))")
        case .failure(.unknownPart(let p)): throw UDriverError.noDevice("PCnet version 0x\(String(p, radix: 16)), no PCnet32 chip")
        }
    }

    /// The per-chip set-up of pcnet32_probe1: burst and FIFO settings ("fset"),
    /// the SRAM split, the 79C978's media.
    private func setUpChip(_ c: PCNetChip) async throws {
        let f = c.features
        guard !f.isDisjoint(with: [.fastSetup, .sram, .homePNA]) else { return }
        let r = try await device.sequence(PCNetIO.readBCR(PCNET32_BCR18) + PCNetIO.readBCR(PCNET32_BCR49))
        guard r.count == 2 else { throw UDriverError(errno: 5, "short register read") }
        var bcr18 = r[0]
        var steps: [RegisterStep] = []
        if f.contains(.fastSetup) {
            bcr18 |= PCNET32_BCR18_BURST | PCNET32_BCR18_NOUFLO
            steps += PCNetIO.writeCSR(PCNET32_CSR80, PCNET32_CSR80_XMTSP)
        }
        if f.contains(.sram) {
            steps += PCNetIO.writeBCR(PCNET32_BCR25, 0x17) + PCNetIO.writeBCR(PCNET32_BCR26, 0x0c)
            bcr18 |= PCNET32_BCR18_NOUFLO
        }
        if f.contains(.homePNA) { steps += PCNetIO.writeBCR(PCNET32_BCR49, r[1] & ~3) } // 10 Mbit/s Ethernet
        steps += PCNetIO.writeBCR(PCNET32_BCR18, bcr18)
        _ = try await device.sequence(steps)
    }

    /// pcnet32_probe1: PADR (CSR12-14) unless it is invalid or differs from
    /// a valid address PROM, then the PROM's.
    private func readStationAddress() async throws -> MACAddress? {
        let r = try await device.sequence((0..<3).flatMap { PCNetIO.readCSR(PCNET32_CSR12 + $0) }
                                          + (0..<6).map { .read(PCNET32_APROM + $0, width: 1) })
        guard r.count == 9 else { throw UDriverError(errno: 5, "short register read") }
        let csrAddr = Self.address(words: Array(r[0..<3]))
        let promAddr = MACAddress(bytes: r[3..<9].map { UInt8(truncatingIfNeeded: $0) })
        if let p = promAddr, Self.isUnicast(p), csrAddr != p || !(csrAddr.map(Self.isUnicast) ?? false) {
            return p
        }
        return csrAddr
    }

    /// The MII PHYs pcnet32_probe1 finds (ids not all ones; the 79C971/972's
    /// phantom PHY 31 skipped); the last one found is used.
    private func scanPHYs(_ c: PCNetChip) async throws {
        var steps = PCNetIO.readBCR(PCNET32_BCR33)
        for phy in UInt32(0)..<32 {
            steps += PCNetIO.readMII(phy: phy, register: MII.physID1) + PCNetIO.readMII(phy: phy, register: MII.physID2)
        }
        let r = try await device.sequence(steps)
        guard r.count == 65 else { throw UDriverError(errno: 5, "short MII scan") }
        phyID = r[0] >> PCNET32_MII_PHY_SHIFT & 0x1f
        phyCount = 0
        for phy in 0..<32 where r[1 + 2 * phy] != 0xffff && r[2 + 2 * phy] != 0xffff {
            if phy == 31 && (c.partID == 0x2623 || c.partID == 0x2624) { continue }
            phyCount += 1
            phyID = UInt32(phy)
        }
        _ = try await device.sequence(PCNetIO.writeBCR(PCNET32_BCR33, phyID << PCNET32_MII_PHY_SHIFT))
    }

    // MARK: net_device_ops

    /// pcnet32_open. On reattach the chip is running on the rings the
    /// nucleus kept: adopt them and read the filter back, reset nothing,
    /// and make the chip run as an open interface runs it
    /// (``repairAdoptedChip(csr0:csr3:csr5:)``).
    public func open(reattach: Bool) async throws {
        if reattach {
            guard rings != nil else { throw UDriverError(errno: 2, "reattach without the rings the nucleus held") }
            // With the reads, INEA: the interrupts on as the nucleus's poll
            // leaves them (CSR0 INEA alone acknowledges and commands nothing).
            let r = try await device.sequence(PCNetIO.readCSR(PCNET32_CSR15)
                                              + (0..<4).flatMap { PCNetIO.readCSR(PCNET32_CSR8 + $0) }
                                              + PCNetIO.readCSR(PCNET32_CSR3) + PCNetIO.readCSR(PCNET32_CSR5)
                                              + PCNetIO.readCSR(PCNET32_CSR0)
                                              + [.write(PCNET32_WIO_RDP, PCNET32_CSR0_INEA, width: 2)])
            guard r.count == 8 else { throw UDriverError(errno: 5, "short register read") }
            mode = r[0]
            filter = (0..<4).reduce(UInt64(0)) { $0 | UInt64(r[1 + $1] & 0xffff) << (16 * UInt64($1)) }
            running = true
            linkUp = try await getLink().up
            if try await repairAdoptedChip(csr0: r[7], csr3: r[5], csr5: r[6]) { return }
            try await device.enableDataPath(reattach: true)
            return
        }
        try await allocateRings()
        try await hwStart()
        running = true
        try await checkMedia(verbose: true)
    }

    /// The adopted chip as an open interface runs it, from the CSRs read at
    /// reattach (`mode` is CSR15). A u-driver that went wrong before the
    /// restart may have left it otherwise, or a read of the RESET register
    /// (which the nucleus cannot refuse) may have; nothing else would
    /// notice a chip that reads back as configured and moves no frame.
    /// Started with both units on and no receive, transmit or loopback mode
    /// that stops them: else it is restarted as pcnet32_restart does (the
    /// data path taken back first, what was queued to send dropped, CSR15
    /// without those modes; what a RESET read may have reset written as
    /// open writes it: 32-bit structures, CSR4, the init block's address;
    /// the block refilled, INIT, START), and this returns true: the data
    /// path is handed over afresh. Otherwise CSR3 unmasks RINT and TINT and
    /// CSR5 ends a suspend, each only if it reads back otherwise, and this
    /// returns false.
    private func repairAdoptedChip(csr0: UInt32, csr3: UInt32, csr5: UInt32) async throws -> Bool {
        let runs = PCNET32_CSR0_STRT | PCNET32_CSR0_TXON | PCNET32_CSR0_RXON
        var steps: [RegisterStep] = []
        if csr3 & PCNET32_CSR3_DATAPATH != 0 { steps += PCNetIO.writeCSR(PCNET32_CSR3, csr3 & PCNET32_CSR3_KEEP) }
        if csr0 & (runs | PCNET32_CSR0_STOP) != runs || mode & PCNET32_MODE_STOPS != 0 {
            guard let rings else { throw UDriverError(errno: 2, "reattach without the rings the nucleus held") }
            mode &= ~PCNET32_MODE_STOPS
            steps += PCNetIO.writeCSR(PCNET32_CSR15, mode) + PCNetIO.writeBCR(PCNET32_BCR20, PCNET32_SWSTYLE_PCNET32)
                + PCNetIO.writeCSR(PCNET32_CSR4, PCNET32_CSR4_DEFAULT)
            try await restart(dropTransmits: true, reprogramming: steps, initBlock: rings.initBlock)
            return true
        }
        if csr5 & PCNET32_CSR5_SPND != 0 { steps += PCNetIO.writeCSR(PCNET32_CSR5, Self.csr5Enables) }
        if !steps.isEmpty { _ = try await device.sequence(steps) }
        return false
    }

    /// pcnet32_open's chip programming: reset, 32-bit structures, port and
    /// duplex, mode, filter, address, the init block's address; then the
    /// nucleus fills the rings and the block, and INIT + START.
    private func hwStart() async throws {
        guard let rings, let mac, let c = chip else { throw UDriverError(errno: 19, "open before probe") }
        let mii = c.features.contains(.mii)
        let r = try await device.sequence([PCNetIO.reset] + PCNetIO.readBCR(PCNET32_BCR2) + PCNetIO.readBCR(PCNET32_BCR9)
                                          + PCNetIO.readCSR(PCNET32_CSR124) + (mii ? PCNetIO.readBCR(PCNET32_BCR32) : []))
        guard r.count == (mii ? 5 : 4) else { throw UDriverError(errno: 5, "short register read") }
        var steps = PCNetIO.writeBCR(PCNET32_BCR20, PCNET32_SWSTYLE_PCNET32)
        steps += PCNetIO.writeBCR(PCNET32_BCR2, r[1] & ~PCNET32_BCR2_ASEL | (autoSelect ? PCNET32_BCR2_ASEL : 0))
        if c.features.contains(.fullDuplex) {
            // No forced full duplex by default; the 79C975 (xSeries 250) wants it on under auto-select.
            let fd: UInt32 = autoSelect && c.partID == 0x2627 ? PCNET32_BCR9_FDEN | PCNET32_BCR9_AUIFD : 0
            steps += PCNetIO.writeBCR(PCNET32_BCR9, r[2] & ~(PCNET32_BCR9_FDEN | PCNET32_BCR9_AUIFD) | fd)
        }
        steps += PCNetIO.writeCSR(PCNET32_CSR124, r[3] & ~PCNET32_CSR124_GPSIEN)
        if mii && phyCount < 2 && autoSelect {
            // Auto-negotiation on, set up by the MII manager.
            let b32 = r[4] | PCNET32_BCR32_DANAS
            steps += PCNetIO.writeBCR(PCNET32_BCR32, b32) + PCNetIO.writeBCR(PCNET32_BCR32, b32 & ~0x98 | 0x20)
        }
        mode = (autoSelect ? 0 : PCNET32_MODE_PORT_10BT) | (rxMode.promiscuous ? PCNET32_MODE_PROM : 0)
        filter = Self.logicalAddressFilter(rxMode)
        steps += PCNetIO.writeCSR(PCNET32_CSR15, mode) + PCNetIO.writeFilter(filter) + PCNetIO.writePhysicalAddress(mac)
        steps += PCNetIO.writeCSR(PCNET32_CSR4, PCNET32_CSR4_DEFAULT)
        // The init block's address, a 16-bit half at a time: RAP stays put
        // between the downcalls (the chip is stopped, the data path off, and
        // the nucleus puts RAP back whenever it moves it).
        steps.append(PCNetIO.select(PCNET32_CSR1))
        _ = try await device.sequence(steps)
        try await device.writeDMAAddress(PCNET32_WIO_RDP, buffer: rings.initBlock, width: 2, shift: 0)
        _ = try await device.sequence([PCNetIO.select(PCNET32_CSR2)])
        try await device.writeDMAAddress(PCNET32_WIO_RDP, buffer: rings.initBlock, width: 2, shift: 16)
        try await device.enableDataPath()
        try await initAndStart()
    }

    /// CSR0 INIT, wait for IDON, then STRT | INEA (pcnet32_open, pcnet32_restart).
    private func initAndStart() async throws {
        _ = try await device.sequence(PCNetIO.writeCSR(PCNET32_CSR0, PCNET32_CSR0_INIT)
                                      + [.poll(PCNET32_WIO_RDP, mask: PCNET32_CSR0_IDON, equals: PCNET32_CSR0_IDON, width: 2),
                                         .write(PCNET32_WIO_RDP, PCNET32_CSR0_NORMAL, width: 2)])
    }

    /// pcnet32_close: the data path back (the nucleus refuses STOP while
    /// it runs it; pcnet32_close too stops the queue first), the
    /// missed-frame count, STOP. (pcnet32 also sets BCR20 back to 16-bit
    /// structures for DOS drivers after a warm reboot; QEMU logs that value
    /// as a bad SWSTYLE. Not done.)
    public func stop() async throws {
        running = false
        try await device.disableDataPath()
        _ = try await device.sequence(PCNetIO.readCSR(PCNET32_CSR112) + PCNetIO.writeCSR(PCNET32_CSR0, PCNET32_CSR0_STOP))
    }

    /// pcnet32_set_multicast_list: PROM in CSR15, else the hash filter
    /// (pcnet32_load_multicast), with the chip suspended. Nothing is written
    /// when the chip already filters this way (a replay after a restart).
    public func setRxMode(_ m: RxMode) async throws {
        rxMode = m
        let newFilter = m.promiscuous ? filter : Self.logicalAddressFilter(m)
        let newMode = m.promiscuous ? mode | PCNET32_MODE_PROM : mode & ~PCNET32_MODE_PROM
        guard running, newMode != mode || newFilter != filter else {
            if !running { mode = newMode; filter = newFilter } // open programs them
            return
        }
        var steps = PCNetIO.writeCSR(PCNET32_CSR15, newMode)
        if !m.promiscuous { steps += PCNetIO.writeFilter(newFilter) }
        try await whileSuspended(steps)
        mode = newMode
        filter = newFilter
    }

    /// pcnet32_load_multicast: all ones for ALLMULTI, else bit
    /// ether_crc_le(6, addr) >> 26 for each group.
    static func logicalAddressFilter(_ m: RxMode) -> UInt64 {
        if m.allMulticast { return .max }
        return m.multicast.reduce(UInt64(0)) { $0 | 1 << UInt64(etherCRCLE($1.bytes) >> 26) }
    }

    /// Linux's ether_crc_le: CRC-32 (reflected, 0xedb88320) from all ones,
    /// not inverted at the end.
    static func etherCRCLE(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc >> 1 ^ (crc & 1 != 0 ? 0xedb8_8320 : 0) }
        }
        return crc
    }

    /// Writes PADR (CSR12-14). pcnet32 leaves this to the next open
    /// (eth_mac_addr); here the running chip is suspended and takes it now.
    public func setMAC(_ newMAC: MACAddress) async throws {
        guard Self.isUnicast(newMAC) else { throw UDriverError.invalid(.mac, "\(newMAC) is not a unicast address") }
        // Unchanged (a replay after a restart, which read PADR back): no suspend.
        let unchanged = newMAC == mac
        mac = newMAC
        guard running, !unchanged else { return } // open writes it
        try await whileSuspended(PCNetIO.writePhysicalAddress(newMAC))
    }

    /// CSR5 as this driver programs it: no extended interrupts (reset value).
    static let csr5Enables: UInt32 = 0

    /// Runs `steps` on a suspended chip (pcnet32_suspend, pcnet32_clr_suspend);
    /// chips older than the 79C970A are stopped and restarted instead, the
    /// data path taken back first (the nucleus refuses STOP while it runs
    /// it).
    private func whileSuspended(_ steps: [RegisterStep]) async throws {
        guard chip?.canSuspend == true else {
            try await restart(dropTransmits: true, reprogramming: steps)
            return
        }
        // pcnet32 reads CSR5 and sets SPND in what it read; this driver
        // leaves CSR5's enables at their reset value (0), so it writes
        // SPND alone and saves a round trip.
        let csr5 = Self.csr5Enables
        do {
            _ = try await device.sequence(PCNetIO.writeCSR(PCNET32_CSR5, csr5 | PCNET32_CSR5_SPND)
                                          + [.poll(PCNET32_WIO_RDP, mask: PCNET32_CSR5_SPND, equals: PCNET32_CSR5_SPND, width: 2)]
                                          + steps + PCNetIO.writeCSR(PCNET32_CSR5, csr5))
        } catch {
            // Never leave the chip suspending: it would stop receiving for good.
            _ = try? await device.sequence(PCNetIO.writeCSR(PCNET32_CSR5, csr5))
            throw error
        }
    }

    /// pcnet32_restart: STOP, then `steps` on the stopped chip; the nucleus
    /// re-initialises the rings (forgetting what was in flight) and the
    /// block, INIT loads them, START. With `dropTransmits` the data path is
    /// taken back first (the nucleus refuses STOP while it runs it); without,
    /// it is off already (the transmit timeout turned it off).
    /// With `initBlock`, CSR1/CSR2 are pointed at it again first (as
    /// hwStart does, a 16-bit half at a time).
    private func restart(dropTransmits: Bool, reprogramming steps: [RegisterStep] = [],
                         initBlock: DMABuffer? = nil) async throws {
        if dropTransmits { try await device.disableDataPath() }
        _ = try await device.sequence(PCNetIO.writeCSR(PCNET32_CSR0, PCNET32_CSR0_STOP)
                                      + [.poll(PCNET32_WIO_RDP, mask: PCNET32_CSR0_STOP, equals: PCNET32_CSR0_STOP, width: 2)]
                                      + steps + (initBlock == nil ? [] : [PCNetIO.select(PCNET32_CSR1)]))
        if let initBlock {
            try await device.writeDMAAddress(PCNET32_WIO_RDP, buffer: initBlock, width: 2, shift: 0)
            _ = try await device.sequence([PCNetIO.select(PCNET32_CSR2)])
            try await device.writeDMAAddress(PCNET32_WIO_RDP, buffer: initBlock, width: 2, shift: 16)
        }
        try await device.enableDataPath()
        try await initAndStart()
    }

    /// ethtool get_link: the MII's link, or BCR4 (LNKST) on the 79C970A and
    /// the other PHY-less parts after it; older parts always have link.
    public func getLink() async throws -> LinkState {
        guard let c = chip else { throw UDriverError(errno: 19, "link before probe") }
        if c.features.contains(.mii) {
            let regs = [MII.bmsr, MII.bmsr, MII.bmcr, MII.advertise, MII.lpa]
            let r = try await device.sequence(regs.flatMap { PCNetIO.readMII(phy: phyID, register: $0) })
            guard r.count == 5 else { throw UDriverError(errno: 5, "short MII read") }
            let up = r[1] & MII.bmsrLinkStatus != 0 // the first read clears the latched-low link bit
            if r[2] & MII.bmcrAutoneg != 0 {
                let common = r[3] & r[4]
                let fast = common & (MII.full100 | MII.half100) != 0
                let full = fast ? common & MII.full100 != 0 : common & MII.full10 != 0
                return LinkState(up: up, speed: fast ? 100 : 10, fullDuplex: full)
            }
            return LinkState(up: up, speed: r[2] & MII.bmcrSpeed100 != 0 ? 100 : 10, fullDuplex: r[2] & MII.bmcrFullDuplex != 0)
        }
        guard c.hasLinkStatus else { return LinkState(up: true, speed: 10, fullDuplex: false) }
        let r = try await device.sequence(PCNetIO.readBCR(PCNET32_BCR4) + PCNetIO.readBCR(PCNET32_BCR9))
        guard r.count == 2 else { throw UDriverError(errno: 5, "short register read") }
        return LinkState(up: r[0] != PCNET32_BCR4_NO_LINK, speed: 10, fullDuplex: r[1] & PCNET32_BCR9_FDEN != 0)
    }

    /// pcnet32_get_stats: the missed-frame counter CSR112.
    public func getStats() async throws -> NetHardwareStats {
        let r = try await device.sequence(PCNetIO.readCSR(PCNET32_CSR112))
        return NetHardwareStats(rxMissed: UInt64((r.first ?? 0) & 0xffff))
    }

    /// pcnet32_watchdog: the periodic media check (79C970A and later).
    public func watchdog() async throws {
        guard chip?.hasLinkStatus == true else { return }
        try await checkMedia(verbose: false)
    }

    /// pcnet32_check_media: carrier on a change, or always when `verbose` (open).
    private func checkMedia(verbose: Bool) async throws {
        let link = try await getLink()
        guard verbose || link.up != linkUp else { return }
        linkUp = link.up
        try await device.setCarrier(link.up, link: link)
    }

    /// pcnet32_tx_timeout: STOP and pcnet32_restart. The nucleus has already
    /// dropped what was in flight and stopped its data path.
    public func txTimeout() async throws {
        try await restart(dropTransmits: false)
    }

    // MARK: helpers

    /// A MAC from CSR12-14's three little-endian words.
    static func address(words: [UInt32]) -> MACAddress? {
        MACAddress(bytes: words.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] })
    }

    /// is_valid_ether_addr: not multicast, not all zeros.
    static func isUnicast(_ a: MACAddress) -> Bool { !a.isMulticast && a.bytes.contains { $0 != 0 } }
}
