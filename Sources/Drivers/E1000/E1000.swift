// SPDX-License-Identifier: GPL-2.0
import CChips
import UDriverKit
import XPC

/// The e1000 u-driver: Linux's e1000 for the 82540EM without its data path
/// (Decaf's case study). Probe, EEPROM and MAC, reset, receive filter, PHY
/// and link, the watchdog, transmit-timeout recovery and statistics run
/// here; start_xmit, the interrupt handler, the rx poll and tx completion
/// stay in the nucleus (module/e1000.c), which owns RDH/RDT/TDH/TDT and the
/// descriptors once the data path is handed over. Methods follow
/// e1000_netdev_ops' order.
public actor E1000: NetDriver {
    /// Descriptors per ring: a multiple of 8 (RDLEN/TDLEN are multiples of
    /// 128 bytes). Linux defaults to 256; 128 keeps each buffer object at
    /// 256 KiB.
    static let rxDescriptors: UInt32 = 128
    static let txDescriptors: UInt32 = 128

    let device: Device
    let info: DeviceInfo
    private var chip: ChipInfo?
    private(set) var mac: MACAddress?
    private var rxMode = RxMode()
    /// RCTL as last written or read back: writes happen only on a change
    /// (QEMU holds reception off for a second after any RCTL write).
    private var rctl: UInt32 = 0
    /// The MTA as last written or read back: only changed dwords are written.
    private var mta = [UInt32](repeating: 0, count: Int(E1000_MTA_REGS))
    private var rxRing: DMABuffer?
    private var txRing: DMABuffer?
    private var rxBuffers: DMABuffer?
    private var txBuffers: DMABuffer?
    private var linkUp = false
    /// The interface is open: the receiver runs and RCTL.EN stays set.
    private var running = false
    /// Missed packets summed over reads (MPC clears on read).
    private var missed: UInt64 = 0

    public init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
        let held = { (r: DMARole) in info.heldBuffers.last { $0.role == r.rawValue } }
        rxRing = held(.rxRing)
        txRing = held(.txRing)
        rxBuffers = held(.rxBuffers)
        txBuffers = held(.txBuffers)
    }

    // MARK: probe (e1000_probe)

    /// e1000_probe: identify the part, check it answers, then either adopt
    /// the running chip (`reattach`: MAC from RAL0/RAH0, filter from RCTL and
    /// the MTA, nothing reset) or reset it, validate the EEPROM, take the MAC
    /// from its words 0-2 and set up the PHY. Registers the netdev.
    public func probe(reattach: Bool) async throws -> String {
        guard let c = identifyChip(vendor: info.vendor, device: info.device) else {
            throw UDriverError.noDevice("unsupported device \(hex(info.vendor)):\(hex(info.device))")
        }
        guard info.barSize >= E1000_BAR_SIZE else {
            throw UDriverError.noDevice("BAR of \(info.barSize) bytes, the 8254x has \(E1000_BAR_SIZE)")
        }
        let status = try await device.read32(E1000_STATUS)
        guard status != 0xffff_ffff else { throw UDriverError(errno: 5, "chip not responding (STATUS reads all ones)") }
        chip = c
        let addr: MACAddress
        if reattach {
            let r = try await device.sequence([.read(E1000_RAL0, width: 4), .read(E1000_RAH0, width: 4),
                                               .read(E1000_RCTL, width: 4)]
                                              + (0..<E1000_MTA_REGS).map { .read(E1000_MTA + 4 * $0, width: 4) })
            guard r.count == 3 + Int(E1000_MTA_REGS), let a = receiveAddress(low: r[0], high: r[1]) else {
                throw UDriverError(errno: 5, "the running chip has no valid receive address 0")
            }
            addr = a
            rctl = r[2]
            mta = Array(r[3...])
        } else {
            try await resetHardware()
            let words = try await readEEPROM()
            let sum = words.reduce(UInt16(0), &+)
            guard sum == UInt16(E1000_EEPROM_SUM) else {
                throw UDriverError(errno: 5, "EEPROM checksum 0x\(hex(sum)), want 0x\(hex(UInt16(E1000_EEPROM_SUM)))")
            }
            addr = MACAddress(bytes: words[0..<3].flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }) ?? .broadcast
        }
        guard !addr.isMulticast, addr.bytes != [0, 0, 0, 0, 0, 0] else {
            throw UDriverError(errno: 5, "invalid MAC \(addr)")
        }
        mac = addr
        if !reattach {
            try await initHardware()
            try await setupPHY()
        }
        _ = try await device.registerNetdev(mac: addr, chip: c.name)
        return c.name
    }

    /// e1000_reset_hw: mask interrupts, stop both units, global reset, mask
    /// again and clear the causes. Only with the data path off: it reads ICR.
    func resetHardware() async throws {
        _ = try await device.sequence([
            .write(E1000_IMC, E1000_IMC_ALL, width: 4),
            .write(E1000_RCTL, 0, width: 4),
            .write(E1000_TCTL, E1000_TCTL_PSP, width: 4),
            .delay(micros: 10_000), // outstanding PCI transactions
        ])
        let ctrl = try await device.read32(E1000_CTRL)
        _ = try await device.sequence([
            .write(E1000_CTRL, ctrl | E1000_CTRL_RST, width: 4),
            .delay(micros: 5_000), // EEPROM reload
            .poll(E1000_CTRL, mask: E1000_CTRL_RST, equals: 0, width: 4),
            .write(E1000_IMC, E1000_IMC_ALL, width: 4),
            .read(E1000_ICR, width: 4),
        ])
        rctl = 0
    }

    /// The whole EEPROM through EERD, one word per START/DONE handshake, in
    /// one register sequence.
    func readEEPROM() async throws -> [UInt16] {
        var steps: [RegisterStep] = []
        for w in 0..<E1000_EEPROM_WORDS {
            steps += [.write(E1000_EERD, E1000_EERD_START | w << E1000_EERD_ADDR_SHIFT, width: 4),
                      .poll(E1000_EERD, mask: E1000_EERD_DONE, equals: E1000_EERD_DONE, width: 4)]
        }
        let r = try await device.sequence(steps)
        guard r.count == Int(E1000_EEPROM_WORDS) else {
            throw UDriverError(errno: 5, "EEPROM read returned \(r.count) words")
        }
        return r.map { UInt16(truncatingIfNeeded: $0 >> E1000_EERD_DATA_SHIFT) }
    }

    /// e1000_init_hw's part for a copper 82540: receive address 0 (the MAC),
    /// the other 14 exact filters and the MTA cleared, link set up with
    /// speed and duplex from autonegotiation.
    private func initHardware() async throws {
        guard let mac else { throw UDriverError.noDevice("init before the MAC is known") }
        let ra = receiveAddress(mac)
        var steps: [RegisterStep] = [.write(E1000_RAL0, ra.low, width: 4), .write(E1000_RAH0, ra.high, width: 4)]
        for i in 1..<E1000_RAR_ENTRIES {
            steps += [.write(E1000_RAL0 + 8 * i, 0, width: 4), .write(E1000_RAH0 + 8 * i, 0, width: 4)]
        }
        // From the top: the 82544's odd-offset erratum, as Linux writes it.
        for i in stride(from: Int(E1000_MTA_REGS) - 1, through: 0, by: -1) {
            steps.append(.write(E1000_MTA + 4 * UInt32(i), 0, width: 4))
        }
        steps.append(.read(E1000_CTRL, width: 4))
        let r = try await device.sequence(steps)
        mta = [UInt32](repeating: 0, count: Int(E1000_MTA_REGS))
        guard let ctrl = r.last else { throw UDriverError(errno: 5, "short register read") }
        try await device.write32(E1000_CTRL, (ctrl | E1000_CTRL_SLU) & ~(E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPLX))
    }

    /// e1000_setup_copper_link for the M88 PHY: check the PHY is the one the
    /// part carries, advertise 10/100 half and full, 1000 full and pause,
    /// restart autonegotiation. The link comes up later: the link-change
    /// interrupt or the watchdog reports it.
    private func setupPHY() async throws {
        let id = try await phyRead([E1000_PHY_ID1, E1000_PHY_ID2])
        let phyID = UInt32(id[0]) << 16 | UInt32(id[1])
        guard let chip, phyID & E1000_PHY_REV_MASK == chip.phyID else {
            throw UDriverError(errno: 19, "PHY id 0x\(hex(phyID)), the \(chip?.name ?? "part") carries an M88E1011")
        }
        let bmcr = try await phyRead([E1000_PHY_CTRL])[0]
        _ = try await phySequence([
            MDIC.write(E1000_PHY_AUTONEG_ADV, UInt16(E1000_NWAY_AR_ALL)),
            MDIC.write(E1000_PHY_1000T_CTRL, UInt16(E1000_CR_1000T_FD_CAPS)),
            MDIC.write(E1000_PHY_CTRL, bmcr | UInt16(E1000_MII_CR_AUTONEG_EN | E1000_MII_CR_RESTART_AUTONEG)),
        ])
    }

    /// Reads PHY registers `regs` in one sequence.
    private func phyRead(_ regs: [UInt32]) async throws -> [UInt16] {
        try await phySequence(regs.map(MDIC.read))
    }

    /// Runs MDIC `commands` in one sequence; the data of each, or EIO if
    /// the PHY flagged an error.
    private func phySequence(_ commands: [UInt32]) async throws -> [UInt16] {
        let r = try await device.sequence(commands.flatMap(MDIC.steps))
        guard r.count == commands.count else { throw UDriverError(errno: 5, "short MDIC sequence") }
        if let bad = r.firstIndex(where: { $0 & E1000_MDIC_ERROR != 0 }) {
            throw UDriverError(errno: 5, "PHY refused MDIC command 0x\(hex(commands[bad]))")
        }
        return r.map { UInt16(truncatingIfNeeded: $0 & E1000_MDIC_DATA_MASK) }
    }

    // MARK: net_device_ops

    /// e1000_open. With `reattach` the chip runs on the rings the nucleus
    /// kept: adopt them and the registers, reset nothing. Otherwise the
    /// rings (allocated once, kept across restarts), e1000_configure, the
    /// data path handed over, interrupts unmasked, the link reported.
    public func open(reattach: Bool) async throws {
        if reattach {
            guard rxRing != nil, txRing != nil, rxBuffers != nil, txBuffers != nil else {
                throw UDriverError(errno: 2, "reattach without the rings the nucleus held")
            }
            try await repairRunningChip()
            running = true
            linkUp = try await getLink().up
            try await device.enableDataPath(reattach: true)
            return
        }
        let ringBytes = { (n: UInt32) in n * E1000_DESC_SIZE }
        if rxRing == nil { rxRing = try await device.allocateDMA(size: ringBytes(Self.rxDescriptors), role: .rxRing) }
        if txRing == nil { txRing = try await device.allocateDMA(size: ringBytes(Self.txDescriptors), role: .txRing) }
        if rxBuffers == nil {
            rxBuffers = try await device.allocateDMA(size: Self.rxDescriptors * E1000_BUF_SIZE, role: .rxBuffers)
        }
        if txBuffers == nil {
            txBuffers = try await device.allocateDMA(size: Self.txDescriptors * E1000_BUF_SIZE, role: .txBuffers)
        }
        try await hwStart()
        linkUp = false
        try await checkLink()
    }

    /// The adopted chip's units as an open interface runs them: RCTL's base
    /// (receiver on, broadcast, the descriptor threshold; the filter bits
    /// are the replayed rx mode's), TCTL, and CTRL's link set up, unforced;
    /// IMS written, whichever of the others reads back otherwise written (a u-driver that went
    /// wrong before its restart may have left them so; nothing else would
    /// notice a chip that reads back as configured and moves no frame).
    private func repairRunningChip() async throws {
        // IMS with the mask the interface runs with (the nucleus's poll
        // keeps it; IMS only sets bits, so a masked chip is unmasked).
        let r = try await device.sequence([.read(E1000_RCTL, width: 4), .read(E1000_TCTL, width: 4),
                                           .read(E1000_CTRL, width: 4),
                                           .write(E1000_IMS, E1000_IMS_ENABLE_MASK, width: 4)])
        guard r.count == 3 else { throw UDriverError(errno: 5, "short register read") }
        let filter = E1000_RCTL_UPE | E1000_RCTL_MPE
        let wantRCTL = receiveControlBase | r[0] & filter
        let wantCTRL = (r[2] | E1000_CTRL_SLU)
            & ~(E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPLX | E1000_CTRL_LRST | E1000_CTRL_RST | E1000_CTRL_PHY_RST)
        var steps: [RegisterStep] = []
        if r[2] != wantCTRL { steps.append(.write(E1000_CTRL, wantCTRL, width: 4)) }
        if r[1] != transmitControl { steps.append(.write(E1000_TCTL, transmitControl, width: 4)) }
        if r[0] != wantRCTL { steps.append(.write(E1000_RCTL, wantRCTL, width: 4)) }
        if !steps.isEmpty { _ = try await device.sequence(steps) }
        rctl = wantRCTL
    }

    /// e1000_configure and e1000_up: reset, MAC and filter, the tx unit
    /// (e1000_configure_tx), the rx unit (e1000_configure_rx), the data
    /// path handed to the nucleus, which fills the descriptors and sets the
    /// heads and tails, and then the interrupt mask.
    private func hwStart() async throws {
        guard let rxRing, let txRing, rxBuffers != nil, txBuffers != nil else {
            throw UDriverError(errno: 19, "start before the rings exist")
        }
        try await resetHardware()
        try await initHardware()
        _ = try await device.sequence([
            .write(E1000_TDBAH, 0, width: 4), // the nucleus's DMA mask is 32 bits
            .write(E1000_TDLEN, txRing.size, width: 4),
            .write(E1000_TIPG, E1000_TIPG_COPPER, width: 4),
            .write(E1000_TIDV, 8, width: 4),
            .write(E1000_TADV, 32, width: 4),
            .write(E1000_RDBAH, 0, width: 4),
            .write(E1000_RDLEN, rxRing.size, width: 4),
            .write(E1000_RDTR, 0, width: 4),
            .write(E1000_RADV, 8, width: 4),
            .write(E1000_ITR, interruptThrottle, width: 4),
        ])
        try await device.writeDMAAddress(E1000_TDBAL, buffer: txRing)
        try await device.writeDMAAddress(E1000_RDBAL, buffer: rxRing)
        try await device.write32(E1000_TCTL, transmitControl)
        running = true
        try await applyRxMode()
        try await device.enableDataPath()
        try await device.write32(E1000_IMS, E1000_IMS_ENABLE_MASK)
    }

    /// e1000_close / e1000_down: take the data path back (the nucleus
    /// refuses the units' stop while it runs them), then mask interrupts and
    /// stop both units.
    public func stop() async throws {
        running = false
        try await device.disableDataPath()
        rctl &= ~E1000_RCTL_EN
        _ = try await device.sequence([
            .write(E1000_IMC, E1000_IMC_ALL, width: 4),
            .write(E1000_RCTL, rctl, width: 4),
            .write(E1000_TCTL, transmitControl & ~E1000_TCTL_EN, width: 4),
        ])
        linkUp = false
    }

    /// e1000_set_rx_mode.
    public func setRxMode(_ mode: RxMode) async throws {
        rxMode = mode
        try await applyRxMode()
    }

    /// Writes RCTL if its filter bits change (only while open: a closed
    /// interface keeps its receiver off) and the MTA dwords that differ from
    /// the chip's, in one sequence (none if nothing changed: a replay after
    /// a restart costs no register write).
    private func applyRxMode() async throws {
        var wantRCTL = rctl
        if running {
            // Starting the receiver: e1000_setup_rctl's base; else its bits kept.
            let base = rctl & E1000_RCTL_EN != 0 ? rctl & ~(E1000_RCTL_UPE | E1000_RCTL_MPE) : receiveControlBase
            wantRCTL = base | RxFilter.rctlBits(rxMode)
        }
        let wantMTA = RxFilter.table(rxMode)
        var steps: [RegisterStep] = []
        for i in stride(from: Int(E1000_MTA_REGS) - 1, through: 0, by: -1) where wantMTA[i] != mta[i] {
            steps.append(.write(E1000_MTA + 4 * UInt32(i), wantMTA[i], width: 4))
        }
        if wantRCTL != rctl { steps.append(.write(E1000_RCTL, wantRCTL, width: 4)) }
        guard !steps.isEmpty else { return }
        _ = try await device.sequence(steps)
        rctl = wantRCTL
        mta = wantMTA
    }

    /// e1000_set_mac: receive address 0, valid.
    public func setMAC(_ newMAC: MACAddress) async throws {
        guard !newMAC.isMulticast, newMAC.bytes != [0, 0, 0, 0, 0, 0] else {
            throw UDriverError.invalid(.mac, "\(newMAC) is not a unicast address")
        }
        let ra = receiveAddress(newMAC)
        _ = try await device.sequence([.write(E1000_RAL0, ra.low, width: 4), .write(E1000_RAH0, ra.high, width: 4)])
        mac = newMAC
    }

    /// ethtool's link: the PHY's link bit (latched low, so read twice, as
    /// e1000_check_for_link) and the MAC's STATUS for speed and duplex
    /// (e1000_get_speed_and_duplex). One register sequence.
    public func getLink() async throws -> LinkState {
        let r = try await device.sequence(MDIC.steps(MDIC.read(E1000_PHY_STATUS)) + MDIC.steps(MDIC.read(E1000_PHY_STATUS))
                                          + [.read(E1000_STATUS, width: 4)])
        guard r.count == 3 else { throw UDriverError(errno: 5, "short link read") }
        guard r[1] & E1000_MDIC_ERROR == 0 else { throw UDriverError(errno: 5, "PHY status read failed") }
        let bmsr = r[1] & E1000_MDIC_DATA_MASK, status = r[2]
        let up = bmsr & E1000_MII_SR_LINK_STATUS != 0 && status & E1000_STATUS_LU != 0
        let speed: UInt32
        switch status & E1000_STATUS_SPEED_MASK {
        case E1000_STATUS_SPEED_1000: speed = 1000
        case E1000_STATUS_SPEED_100: speed = 100
        default: speed = 10
        }
        return LinkState(up: up, speed: speed, fullDuplex: status & E1000_STATUS_FD != 0)
    }

    /// e1000_update_stats' missed packets: MPC clears on read, so it is
    /// summed here (a restarted u-driver starts the sum again).
    public func getStats() async throws -> NetHardwareStats {
        missed += UInt64(try await device.read32(E1000_MPC))
        return NetHardwareStats(rxMissed: missed)
    }

    /// e1000_watchdog, every 2 s and at once on a link-change interrupt:
    /// the link check, carrier reported when it changed.
    public func watchdog() async throws { try await checkLink() }

    private func checkLink() async throws {
        let link = try await getLink()
        if link.up != linkUp {
            linkUp = link.up
            try await device.setCarrier(link.up, link: link)
        }
    }

    /// e1000_reset_task after ndo_tx_timeout: the nucleus stopped its data
    /// path and dropped the tx ring; reset and reconfigure the chip on the
    /// same rings (e1000_down + e1000_up) and hand the data path back.
    public func txTimeout() async throws {
        try await hwStart()
        linkUp = false
        try await checkLink()
    }
}

/// Lower-case hex without a prefix.
func hex<T: BinaryInteger>(_ v: T) -> String { String(v, radix: 16) }
