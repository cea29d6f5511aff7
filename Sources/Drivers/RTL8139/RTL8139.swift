// SPDX-License-Identifier: GPL-2.0
import CChips
import UDriverKit
import XPC

/// The rtl8139 u-driver: 8139too's probe, open/stop, rx mode, MAC and link
/// handling. start_xmit, the interrupt handler and the rx poll stay in the
/// nucleus. Methods follow rtl8139_netdev_ops' order.
public actor RTL8139: NetDriver {
    static let numTx = RTL_NUM_TX
    static let txBufSize = RTL_TX_BUF_SIZE
    /// 8K ring + 16 bytes of header slack + one full frame past the end (NoWrap).
    static let rxRingBytes: UInt32 = RTL_RX_RING_LEN + 16 + RTL_TX_BUF_SIZE
    /// Above this many groups the filter accepts all multicast.
    static let multicastFilterLimit = 32

    let device: Device
    let info: DeviceInfo
    private var chip: ChipInfo?
    private(set) var mac: MACAddress?
    private var rxMode = RxMode()
    private var rxConfig: UInt32 = 0
    private var rxRing: DMABuffer?
    private var txBufs: DMABuffer?
    private var linkUp = false

    public init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
        rxRing = info.heldBuffers.last { $0.role == DMARole.rxRing.rawValue }
        txBufs = info.heldBuffers.last { $0.role == DMARole.txBuffers.rawValue }
    }

    // MARK: probe (rtl8139_init_board + rtl8139_init_one)

    public func probe(reattach: Bool) async throws -> String {
        guard info.vendor == 0x10ec || info.vendor == 0x1113 || info.vendor == 0x1186 else {
            throw UDriverError.noDevice("unsupported vendor \(String(info.vendor, radix: 16))")
        }
        guard info.barSize >= 0x80 else { throw UDriverError.noDevice("BAR of \(info.barSize) bytes is too small") }
        // Reattaching, the running chip's MAC is read in the same downcall
        // as TxConfig (IDR0-5 have no read side effects): one round trip
        // less in a recovery.
        let macRegs: [RegisterStep] = reattach ? (0..<6).map { .read(Reg.mac0 + UInt32($0), width: 1) } : []
        let first = try await device.sequence([.read(Reg.txConfig, width: 4)] + macRegs)
        guard first.count == 1 + macRegs.count else {
            throw UDriverError(errno: 71, "REG_SEQ of \(1 + macRegs.count) reads answered with \(first.count) values")
        }
        let tx = first[0]
        guard tx != 0xffff_ffff else { throw UDriverError(errno: 5, "Chip not responding, ignoring board") }
        guard let c = identifyChip(txConfig: tx) else {
            throw UDriverError.noDevice("unknown chip version 0x\(String(tx & TxConfig.revisionMask, radix: 16))")
        }
        chip = c
        let addr: MACAddress
        if reattach {
            // The device is running: take the MAC it has, do not touch the EEPROM.
            addr = MACAddress(bytes: first.dropFirst().map { UInt8(truncatingIfNeeded: $0) }) ?? .broadcast
        } else {
            if c.flags.contains(.hasHltClk) { try await device.write8(Reg.hltClk, UInt8(ascii: "R")) }
            try await chipReset()
            addr = try await readMACFromEEPROM()
        }
        guard !addr.isMulticast, addr.bytes != [0, 0, 0, 0, 0, 0] else {
            throw UDriverError(errno: 5, "EEPROM holds an invalid MAC \(addr)")
        }
        mac = addr
        _ = try await device.registerNetdev(mac: addr, chip: c.name)
        return c.name
    }

    /// rtl8139_chip_reset: soft reset, wait for CmdReset to clear.
    func chipReset() async throws {
        _ = try await device.sequence([
            .write(Reg.chipCmd, UInt32(ChipCmd.reset), width: 1),
            .poll(Reg.chipCmd, mask: UInt32(ChipCmd.reset), equals: 0, width: 1),
        ])
    }

    /// 8139too: addr_len = read_eeprom(0, 8) == 0x8129 ? 8 : 6, then the
    /// three MAC words at 7..9, little-endian.
    func readMACFromEEPROM() async throws -> MACAddress {
        let addrLen = try await readEEPROM(0, addressLength: 8) == 0x8129 ? 8 : 6
        var bytes: [UInt8] = []
        for i in 0..<3 {
            let w = try await readEEPROM(7 + i, addressLength: addrLen)
            bytes += [UInt8(w & 0xff), UInt8(w >> 8)]
        }
        return MACAddress(bytes: bytes) ?? .broadcast
    }

    /// read_eeprom: bit-bang the 93C46 READ command through Cfg9346 in one
    /// register sequence (eeprom_delay is a dummy read in 8139too).
    func readEEPROM(_ location: Int, addressLength: Int) async throws -> UInt16 {
        let cmd = UInt32(location) | Cfg9346.eeReadCommand << UInt32(addressLength)
        let enb = Cfg9346.eeEnable
        func w(_ v: UInt8) -> RegisterStep { .write(Reg.cfg9346, UInt32(v), width: 1) }
        var steps: [RegisterStep] = [w(enb & ~Cfg9346.eeChipSelect), w(enb)]
        for i in stride(from: 4 + addressLength, through: 0, by: -1) {
            let data: UInt8 = cmd & (1 << UInt32(i)) != 0 ? Cfg9346.eeDataWrite : 0
            steps += [w(enb | data), w(enb | data | Cfg9346.eeShiftClock)]
        }
        steps.append(w(enb))
        for _ in 0..<16 {
            steps += [w(enb | Cfg9346.eeShiftClock), .read(Reg.cfg9346, width: 1), w(enb)]
        }
        steps.append(w(0))
        let bits = try await device.sequence(steps)
        guard bits.count == 16 else { throw UDriverError(errno: 5, "EEPROM read returned \(bits.count) bits") }
        return bits.reduce(0) { $0 << 1 | UInt16($1 & UInt32(Cfg9346.eeDataRead)) }
    }

    // MARK: net_device_ops

    /// rtl8139_open: rings (kept by the nucleus across restarts), hw_start,
    /// then the data path. On reattach the chip is running on the rings the
    /// nucleus handed over: adopt them and the registers' state, reset nothing.
    public func open(reattach: Bool) async throws {
        if reattach {
            guard rxRing != nil, txBufs != nil else {
                throw UDriverError(errno: 2, "reattach without the rings the nucleus held")
            }
            // RxConfig, ChipCmd and the link in one downcall (each round
            // trip is a recovery's time).
            // With them, the chip made to run as an open interface runs it,
            // whatever the u-driver before the restart left: the interrupt
            // mask written (the nucleus's poll keeps it; a masked chip is
            // unmasked), receiver and transmitter turned on if off.
            let r = try await device.sequence([.read(Reg.rxConfig, width: 4), .read(Reg.chipCmd, width: 1)]
                                              + Self.linkReads + [.write(Reg.intrMask, UInt32(Intr.all), width: 2)])
            guard r.count == 2 + Self.linkReads.count else { throw UDriverError(errno: 5, "short RxConfig and MII read") }
            rxConfig = r[0]
            linkUp = Self.link(from: Array(r.dropFirst(2))).up
            let on = UInt32(ChipCmd.rxEnable | ChipCmd.txEnable)
            if r[1] & on != on { try await device.write8(Reg.chipCmd, UInt8(on)) }
            try await device.enableDataPath(reattach: true)
            return
        }
        if rxRing == nil { rxRing = try await device.allocateDMA(size: Self.rxRingBytes, role: .rxRing) }
        if txBufs == nil { txBufs = try await device.allocateDMA(size: Self.numTx * Self.txBufSize, role: .txBuffers) }
        try await hwStart()
        try await device.enableDataPath()
        try await checkMedia()
    }

    /// rtl8139_hw_start.
    private func hwStart() async throws {
        guard let rxRing, let txBufs, let mac else { throw UDriverError(errno: 19, "open before probe") }
        if chip?.flags.contains(.hasHltClk) == true { try await device.write8(Reg.hltClk, UInt8(ascii: "R")) }
        try await chipReset()
        _ = try await device.sequence([.write(Reg.cfg9346, UInt32(Cfg9346.unlock), width: 1)] + macSteps(mac))
        try await device.writeDMAAddress(Reg.rxBuf, buffer: rxRing)
        rxConfig = RxConfig.base | RxConfig.acceptBroadcast | RxConfig.acceptMyPhys
        var steps: [RegisterStep] = [
            // Tx/Rx must be enabled before the thresholds are set.
            .write(Reg.chipCmd, UInt32(ChipCmd.rxEnable | ChipCmd.txEnable), width: 1),
            .write(Reg.rxConfig, rxConfig, width: 4),
            .write(Reg.txConfig, TxConfig.base, width: 4),
        ]
        if (chip?.generation ?? 0) >= 4 {
            // Disable magic-packet scanning, enabled when PM is on in Config1.
            let c3 = try await device.read8(Reg.config3)
            steps.append(.write(Reg.config3, UInt32(c3 & ~Config3.magic), width: 1))
        }
        steps.append(.write(Reg.cfg9346, UInt32(Cfg9346.lock), width: 1))
        _ = try await device.sequence(steps)
        for i in 0..<Self.numTx {
            try await device.writeDMAAddress(Reg.txAddr0 + 4 * i, buffer: txBufs, offset: i * Self.txBufSize)
        }
        try await device.write32(Reg.rxMissed, 0)
        try await applyRxMode()
        let mi = try await device.read16(Reg.multiIntr)
        _ = try await device.sequence([
            .write(Reg.multiIntr, UInt32(mi) & RTL_MULTI_INTR_CLEAR, width: 2), // no early-rx interrupts
            .write(Reg.intrMask, UInt32(Intr.all), width: 2),
        ])
    }

    /// rtl8139_close: take the data path back (the nucleus refuses stopping
    /// the chip while it runs it), mask interrupts, stop the chip.
    public func stop() async throws {
        try await device.disableDataPath()
        _ = try await device.sequence([
            .write(Reg.intrMask, 0, width: 2),
            .write(Reg.chipCmd, 0, width: 1),
        ])
        try await device.write32(Reg.rxMissed, 0)
    }

    /// rtl8139_set_rx_mode (__set_rx_mode).
    public func setRxMode(_ mode: RxMode) async throws {
        rxMode = mode
        try await applyRxMode()
    }

    private func applyRxMode() async throws {
        let (bits, filter) = Self.rxFilter(rxMode)
        let tmp = RxConfig.base | bits
        var steps: [RegisterStep] = []
        if tmp != rxConfig {
            steps.append(.write(Reg.rxConfig, tmp, width: 4))
            rxConfig = tmp
        }
        steps += [.write(Reg.mar0, filter.0, width: 4), .write(Reg.mar0 + 4, filter.1, width: 4)]
        _ = try await device.sequence(steps)
    }

    /// The accept bits and the 64-bit hash filter for a mode, as __set_rx_mode.
    static func rxFilter(_ mode: RxMode) -> (UInt32, (UInt32, UInt32)) {
        if mode.promiscuous {
            return (RxConfig.acceptBroadcast | RxConfig.acceptMulticast | RxConfig.acceptMyPhys | RxConfig.acceptAllPhys,
                    (0xffff_ffff, 0xffff_ffff))
        }
        if mode.allMulticast || mode.multicast.count > multicastFilterLimit {
            return (RxConfig.acceptBroadcast | RxConfig.acceptMulticast | RxConfig.acceptMyPhys, (0xffff_ffff, 0xffff_ffff))
        }
        var bits = RxConfig.acceptBroadcast | RxConfig.acceptMyPhys
        var mc: [UInt32] = [0, 0]
        for a in mode.multicast {
            let bit = a.multicastHashBit
            mc[bit >> 5] |= 1 << UInt32(bit & 31)
            bits |= RxConfig.acceptMulticast
        }
        return (bits, (mc[0], mc[1]))
    }

    /// rtl8139_set_mac_address: unlock, write IDR0-5 as two dwords, lock.
    public func setMAC(_ newMAC: MACAddress) async throws {
        guard !newMAC.isMulticast, newMAC.bytes != [0, 0, 0, 0, 0, 0] else {
            throw UDriverError.invalid(.mac, "\(newMAC) is not a unicast address")
        }
        mac = newMAC
        _ = try await device.sequence([.write(Reg.cfg9346, UInt32(Cfg9346.unlock), width: 1)] + macSteps(newMAC)
                                      + [.write(Reg.cfg9346, UInt32(Cfg9346.lock), width: 1)])
    }

    private func macSteps(_ m: MACAddress) -> [RegisterStep] {
        let b = m.bytes.map(UInt32.init)
        return [.write(Reg.mac0, b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24, width: 4),
                .read(Reg.mac0, width: 4),
                .write(Reg.mac0 + 4, b[4] | b[5] << 8, width: 4),
                .read(Reg.mac0 + 4, width: 4)]
    }

    /// ethtool get_link_ksettings / get_link: MII status.
    public func getLink() async throws -> LinkState {
        let r = try await device.sequence(Self.linkReads)
        guard r.count == Self.linkReads.count else { throw UDriverError(errno: 5, "short MII read") }
        return Self.link(from: r)
    }

    /// The reads the link state is made of: BMSR, MediaStatus, BMCR.
    static let linkReads: [RegisterStep] = [.read(Reg.basicModeStatus, width: 2), .read(Reg.mediaStatus, width: 1),
                                            .read(Reg.basicModeCtrl, width: 2)]

    /// The link state from the values of ``linkReads``, in order (the
    /// callers check that all three came).
    static func link(from r: [UInt32]) -> LinkState {
        let up = UInt16(truncatingIfNeeded: r[0]) & Media.bmsrLink != 0
        let speed: UInt32 = UInt8(truncatingIfNeeded: r[1]) & Media.speed10 != 0 ? 10 : 100
        return LinkState(up: up, speed: speed, fullDuplex: UInt16(truncatingIfNeeded: r[2]) & Media.bmcrFullDuplex != 0)
    }

    /// The hardware's missed-packet counter (24 bits).
    public func getStats() async throws -> NetHardwareStats {
        NetHardwareStats(rxMissed: UInt64(try await device.read32(Reg.rxMissed) & RTL_RX_MISSED_MASK))
    }

    /// rtl8139_thread: the periodic media check.
    public func watchdog() async throws { try await checkMedia() }

    /// rtl_check_media: report carrier changes.
    private func checkMedia() async throws {
        let link = try await getLink()
        if link.up != linkUp {
            linkUp = link.up
            try await device.setCarrier(link.up, link: link)
        }
    }

    /// rtl8139_tx_timeout_task: the nucleus dropped the tx ring; restart the
    /// chip on the same rings (rtl8139_hw_start) and give the data path back.
    public func txTimeout() async throws {
        try await hwStart()
        try await device.enableDataPath()
    }
}
