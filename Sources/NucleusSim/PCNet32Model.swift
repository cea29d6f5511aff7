// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// Register-level model of an AMD PCnet-PCI II (Am79C970A) in word I/O mode,
/// as QEMU's hw/net/pcnet.c and pcnet-pci.c present it: the address PROM,
/// RAP/RDP/BDP indirection, the RESET register, CSR0's STOP/STRT/INIT/INEA
/// and interrupt bits, CSR5's suspend, the chip id in CSR88/89, the
/// filter and address CSRs 8-15, BCR4's link status and BCR20's style.
///
/// The data path, 32-bit structures (SWSTYLE 2): INIT reads the
/// initialisation block (CSR1/CSR2) — mode, address, filter, ring bases
/// and lengths — and sets IDON at once; while started the
/// transmitter sends every descriptor the host owns no more (OWN set),
/// clears OWN and raises TINT; the receiver stores a frame the filter
/// takes (PROM, DRCVBC, LADRF, PADR) with 4 bytes of CRC in the next
/// descriptor it owns and raises RINT, or counts it missed (CSR112, MISS)
/// when the host still has it. Like the data
/// sheet (and unlike current QEMU, which takes them any time), CSR8-15 and
/// the other set-up CSRs take writes only while the chip is stopped or
/// suspended, so a driver that forgets to suspend is caught.
public final class PCNet32Model: DeviceModel, @unchecked Sendable {
    public let identity: DeviceIdentity
    /// The 16-byte address PROM: MAC, reserved, 0x11, checksum, "WW".
    public private(set) var aprom = [UInt8](repeating: 0, count: Int(PCNET32_APROM_LEN))
    private var csr = [UInt16](repeating: 0, count: Int(PCNET32_NUM_CSR))
    private var bcr = [UInt16](repeating: 0, count: 64)
    private var rap: UInt16 = 0
    /// CSR88/89 after reset.
    private let chipID: UInt32
    /// false: the card does not answer, every read is all ones.
    public let responding: Bool
    /// Whether a reset loads PADR from the PROM (QEMU's and most chips do).
    public let padrFromPROM: Bool
    /// The link as the transceiver sees it (QEMU's set_link).
    public var linkUp = true
    /// RESET register reads so far.
    public private(set) var resets = 0
    /// CSR0 INIT commands so far.
    public private(set) var initialisations = 0
    /// Times CSR5 SPND went from 0 to 1.
    public private(set) var suspends = 0
    /// CSR writes dropped because the chip was neither stopped nor suspended.
    public private(set) var refusedWrites = 0
    /// Frames the transmitter put on the wire, oldest first.
    public var transmitted: [[UInt8]] = []
    /// Frames lost for want of a receive descriptor.
    public private(set) var missed: UInt64 = 0
    /// Frames the address filter dropped.
    public private(set) var filtered: UInt64 = 0
    /// An INIT whose block is read at the next tick (no memory attached yet).
    private var initPending = false
    /// Host memory, for INIT's read of the block.
    private var hostMemory: SimMemory?
    /// The rings as the last initialisation block gave them.
    private var rxBase: UInt32 = 0, txBase: UInt32 = 0
    private var rxEntries = 0, txEntries = 0
    private var rxIndex = 0, txIndex = 0

    /// A 79C970A (part 0x2621) unless `partID` says otherwise.
    public init(mac: MACAddress, partID: UInt32 = 0x2621, responding: Bool = true, padrFromPROM: Bool = true,
                slot: String = "0000:00:06.0", irq: UInt32 = 11) {
        // 1022:2000 revision 0x10, a 32-byte I/O BAR, as QEMU's "pcnet".
        identity = DeviceIdentity(vendor: 0x1022, device: 0x2000, revision: 0x10, slot: slot, barSize: PCNET32_IO_SIZE, irq: irq)
        chipID = partID << PCNET32_CHIP_PART_SHIFT | PCNET32_CHIP_AMD
        self.responding = responding
        self.padrFromPROM = padrFromPROM
        for i in 0..<6 { aprom[i] = mac.bytes[i] }
        aprom[9] = 0x11
        aprom[14] = 0x57
        aprom[15] = 0x57
        let sum = aprom.reduce(UInt16(0)) { $0 &+ UInt16($1) }
        aprom[12] = UInt8(sum & 0xff)
        aprom[13] = UInt8(sum >> 8)
        hardReset()
    }

    /// pcnet_h_reset: the BCRs' defaults, then a software reset.
    private func hardReset() {
        bcr[Int(PCNET32_BCR2)] = 0x0002
        bcr[Int(PCNET32_BCR4)] = UInt16(PCNET32_BCR4_NO_LINK)
        bcr[Int(PCNET32_BCR9)] = 0
        bcr[Int(PCNET32_BCR18)] = 0x9001
        bcr[Int(PCNET32_BCR20)] = 0x0200
        softReset()
    }

    /// pcnet_s_reset (a RESET read): stopped, filter cleared, PADR from the PROM.
    private func softReset() {
        rap = 0
        bcr[Int(PCNET32_BCR18)] &= ~UInt16(PCNET32_BCR18_DWIO)
        csr[Int(PCNET32_CSR0)] = UInt16(PCNET32_CSR0_STOP)
        csr[Int(PCNET32_CSR3)] = 0
        csr[Int(PCNET32_CSR4)] = 0x0115
        csr[Int(PCNET32_CSR5)] = 0
        for i in 8...11 { csr[i] = 0 }
        for i in 0..<3 { csr[12 + i] = padrFromPROM ? UInt16(aprom[2 * i]) | UInt16(aprom[2 * i + 1]) << 8 : 0 }
        csr[15] &= 0x21c4
        csr[Int(PCNET32_CSR76)] = 1
        csr[Int(PCNET32_CSR78)] = 1
        csr[Int(PCNET32_CSR88)] = UInt16(chipID & 0xffff)
        csr[Int(PCNET32_CSR89)] = UInt16(chipID >> 16)
        csr[Int(PCNET32_CSR112)] = 0
        csr[Int(PCNET32_CSR124)] = 0
    }

    private var stopped: Bool { csr[0] & UInt16(PCNET32_CSR0_STOP) != 0 }
    private var suspended: Bool { csr[5] & UInt16(PCNET32_CSR5_SPND) != 0 }

    // MARK: register access

    public func read(offset o: UInt32, width: Int) -> UInt32 {
        let ones: UInt32 = width >= 4 ? .max : (1 << (8 * UInt32(width))) - 1
        guard responding else { return ones }
        if o < PCNET32_WIO_RDP {
            // The PROM takes byte and aligned word reads in word I/O mode.
            switch width {
            case 1: return UInt32(aprom[Int(o)])
            case 2 where o % 2 == 0: return UInt32(aprom[Int(o)]) | UInt32(aprom[Int(o) + 1]) << 8
            default: return ones
            }
        }
        guard width == 2 else { return ones }
        switch o {
        case PCNET32_WIO_RDP: return UInt32(csrRead(Int(rap)))
        case PCNET32_WIO_RAP: return UInt32(rap)
        case PCNET32_WIO_RESET:
            resets += 1
            softReset()
            return 0
        case PCNET32_WIO_BDP: return UInt32(bcrRead(Int(rap)))
        default: return ones
        }
    }

    public func write(offset o: UInt32, width: Int, value: UInt32) {
        guard responding, width == 2 else { return } // the PROM is read-only, dword I/O is not modelled
        let v = UInt16(truncatingIfNeeded: value)
        switch o {
        case PCNET32_WIO_RDP: csrWrite(Int(rap), v)
        case PCNET32_WIO_RAP: rap = v & 0x7f
        case PCNET32_WIO_BDP: bcrWrite(Int(rap), v)
        default: break
        }
    }

    /// pcnet_csr_readw: CSR0 with INTR and ERR computed.
    private func csrRead(_ n: Int) -> UInt16 {
        guard n == 0 else { return csr[n] }
        var v = csr[0] & ~UInt16(PCNET32_CSR0_INTR | PCNET32_CSR0_ERR)
        if v & 0x7800 != 0 { v |= UInt16(PCNET32_CSR0_ERR) }
        if interruptPending { v |= UInt16(PCNET32_CSR0_INTR) }
        return v
    }

    private func csrWrite(_ n: Int, _ v: UInt16) {
        switch n {
        case 0:
            // Interrupt flags are written 1 to clear; INEA and TDMD as given.
            var c = csr[0] & ~(v & 0x7f00)
            c = c & ~UInt16(PCNET32_CSR0_INEA) | v & UInt16(PCNET32_CSR0_INEA | PCNET32_CSR0_TDMD)
            var cmd = v & 0x0007
            if cmd == 0x0007 { cmd = UInt16(PCNET32_CSR0_STOP) }
            if cmd & UInt16(PCNET32_CSR0_STOP) != 0 {
                // pcnet_stop: everything off, INEA included; suspend ends.
                c = UInt16(PCNET32_CSR0_STOP)
                csr[5] &= ~0x0011
            }
            if cmd & UInt16(PCNET32_CSR0_INIT) != 0 && c & UInt16(PCNET32_CSR0_INIT) == 0 {
                initialisations += 1
                if let hostMemory { loadInitBlock(hostMemory) } else { initPending = true }
                c = c & ~UInt16(PCNET32_CSR0_STOP) | UInt16(PCNET32_CSR0_INIT | PCNET32_CSR0_IDON)
            }
            if cmd & UInt16(PCNET32_CSR0_STRT) != 0 && c & UInt16(PCNET32_CSR0_STRT) == 0 {
                c = c & ~UInt16(PCNET32_CSR0_STOP)
                    | UInt16(PCNET32_CSR0_STRT | PCNET32_CSR0_TXON | PCNET32_CSR0_RXON)
            }
            csr[0] = c
        case 1, 2, 8...15, 24, 25, 30, 31, 76, 78, 112:
            guard stopped || suspended else { refusedWrites += 1; return }
            csr[n] = v
        case 3, 80, 124:
            csr[n] = v
        case 4:
            let w1c = UInt16(0x026a)
            csr[4] = (csr[4] & ~(v & w1c)) & w1c | v & ~w1c
        case 5:
            // The W1C flags clear; SPND takes effect at once.
            let w1c = UInt16(PCNET32_CSR5_W1C)
            if !suspended && v & UInt16(PCNET32_CSR5_SPND) != 0 { suspends += 1 }
            csr[5] = (csr[5] & ~(v & w1c)) & w1c | v & ~w1c
        default:
            break // read-only (CSR88/89) or not modelled
        }
    }

    /// pcnet_bcr_readw: BCR4 shows the link in LEDOUT; no MII behind BCR32+.
    private func bcrRead(_ n: Int) -> UInt16 {
        switch n {
        case Int(PCNET32_BCR4):
            let v = bcr[n] & ~UInt16(PCNET32_BCR4_LEDOUT)
            return v & 0x017f & (linkUp ? 0x40 : 0) != 0 ? v | UInt16(PCNET32_BCR4_LEDOUT) : v
        case 32...: return 0
        default: return bcr[n]
        }
    }

    private func bcrWrite(_ n: Int, _ v: UInt16) {
        switch n {
        case Int(PCNET32_BCR20):
            // Only while stopped or suspended; SSIZE32 and CSRPCNET follow the style.
            guard stopped || suspended else { refusedWrites += 1; return }
            let style = v & UInt16(PCNET32_SWSTYLE_MASK)
            bcr[n] = style | (style == 0 ? 0x0200 : style == 1 ? 0x0100 : 0x0300)
        case Int(PCNET32_BCR2), Int(PCNET32_BCR4), 5, 6, 7, Int(PCNET32_BCR9), Int(PCNET32_BCR18), 19, 22:
            bcr[n] = v
        default:
            break
        }
    }

    // MARK: views for tests and status

    private var interruptPending: Bool { csr[0] & ~csr[3] & 0x5f00 != 0 }

    public var irqAsserted: Bool { interruptPending && csr[0] & UInt16(PCNET32_CSR0_INEA) != 0 }

    /// CSR `n` as stored.
    public func csrValue(_ n: UInt32) -> UInt16 { csr[Int(n & 0x7f)] }
    /// BCR `n` as read through BDP.
    public func bcrValue(_ n: UInt32) -> UInt16 { bcrRead(Int(n & 0x3f)) }
    /// The selected register (RAP).
    public var registerAddress: UInt16 { rap }
    /// LADRF, CSR8 in the low bits.
    public var logicalAddressFilter: UInt64 { (0..<4).reduce(UInt64(0)) { $0 | UInt64(csr[8 + $1]) << (16 * UInt64($1)) } }
    /// PADR as a MAC.
    public var physicalAddress: MACAddress? {
        MACAddress(bytes: (12...14).flatMap { [UInt8(csr[$0] & 0xff), UInt8(csr[$0] >> 8)] })
    }
    /// The missed-frame counter a test may set (the model has no receiver).
    public func setMissedFrames(_ n: UInt16) { csr[Int(PCNET32_CSR112)] = n }

    /// ladr_match: whether the filter takes multicast `dst` (hash: CRC-32
    /// little-endian from all ones, not inverted, top six bits).
    public func acceptsMulticast(_ dst: MACAddress) -> Bool {
        if csr[15] & UInt16(PCNET32_MODE_PROM) != 0 { return true }
        var crc: UInt32 = 0xffff_ffff
        for var b in dst.bytes {
            for _ in 0..<8 {
                crc = (crc >> 1) ^ ((crc ^ UInt32(b)) & 1 != 0 ? 0xedb8_8320 : 0)
                b >>= 1
            }
        }
        let index = Int(crc >> 26)
        return csr[8 + index / 16] & (1 << UInt16(index % 16)) != 0
    }

    public func tick(nanos: UInt64, memory: SimMemory) {
        guard responding else { return }
        if initPending { loadInitBlock(memory) }
        transmit(memory)
    }

    // MARK: data path

    public func attach(memory: SimMemory) { hostMemory = memory }

    /// pcnet_init: the 28-byte block at IADR (CSR2:CSR1).
    private func loadInitBlock(_ memory: SimMemory) {
        initPending = false
        let iadr = UInt32(csr[1]) | UInt32(csr[2]) << 16
        let b = memory.read(bus: iadr, count: Int(PCNET32_IB_SIZE))
        func le16(_ o: UInt32) -> UInt16 { UInt16(b[Int(o)]) | UInt16(b[Int(o) + 1]) << 8 }
        func le32(_ o: UInt32) -> UInt32 { UInt32(le16(o)) | UInt32(le16(o + 2)) << 16 }
        csr[15] = le16(PCNET32_IB_MODE)
        for i in 0..<3 { csr[12 + i] = le16(PCNET32_IB_PADR + 2 * UInt32(i)) }
        for i in 0..<4 { csr[8 + i] = le16(PCNET32_IB_FILTER + 2 * UInt32(i)) }
        let lens = le16(PCNET32_IB_TLEN_RLEN)
        rxEntries = 1 << Int(min((lens >> PCNET32_IB_RLEN_SHIFT) & 0xf, 9))
        txEntries = 1 << Int(min((lens >> PCNET32_IB_TLEN_SHIFT) & 0xf, 9))
        rxBase = le32(PCNET32_IB_RX_RING)
        txBase = le32(PCNET32_IB_TX_RING)
        csr[24] = UInt16(rxBase & 0xffff)
        csr[25] = UInt16(rxBase >> 16)
        csr[30] = UInt16(txBase & 0xffff)
        csr[31] = UInt16(txBase >> 16)
        csr[Int(PCNET32_CSR76)] = UInt16(rxEntries)
        csr[Int(PCNET32_CSR78)] = UInt16(txEntries)
        rxIndex = 0
        txIndex = 0
    }

    /// Started, not stopped or suspended.
    private var running: Bool {
        csr[0] & UInt16(PCNET32_CSR0_STRT) != 0 && !stopped && !suspended && !initPending
    }

    /// A descriptor's byte count from its two's-complement length field.
    private static func byteCount(_ length: UInt16) -> Int { Int((~length &+ 1) & UInt16(PCNET32_BCNT_MASK)) }

    /// pcnet_poll's transmit side: every descriptor the host gave the chip.
    private func transmit(_ memory: SimMemory) {
        guard running, csr[15] & UInt16(PCNET32_MODE_DTX) == 0, txEntries > 0 else { return }
        csr[0] &= ~UInt16(PCNET32_CSR0_TDMD)
        var frame: [UInt8] = []
        var sent = false
        for _ in 0..<txEntries {
            let desc = txBase &+ UInt32(txIndex) * PCNET32_DESC_SIZE
            let status = memory.le16(bus: desc + PCNET32_DESC_STATUS)
            guard status & UInt16(PCNET32_TMD_OWN) != 0 else { break }
            let base = memory.le32(bus: desc + PCNET32_DESC_BASE)
            frame += memory.read(bus: base, count: Self.byteCount(memory.le16(bus: desc + PCNET32_DESC_LENGTH)))
            if status & UInt16(PCNET32_TMD_ENP) != 0 {
                if frame.count >= 14 && linkUp { transmitted.append(frame) }
                frame = []
            }
            memory.setLE32(bus: desc + PCNET32_DESC_MISC, 0)
            memory.setLE16(bus: desc + PCNET32_DESC_STATUS, status & ~UInt16(PCNET32_TMD_OWN | PCNET32_TMD_ERR))
            txIndex = (txIndex + 1) % txEntries
            sent = true
        }
        if sent { csr[0] |= UInt16(PCNET32_CSR0_TINT) }
    }

    /// Whether the address filter takes a frame for `dst` (QEMU's
    /// padr_match, padr_bcast, ladr_match; CSR15 PROM takes all).
    public func accepts(_ dst: MACAddress) -> Bool {
        let mode = csr[15]
        if mode & UInt16(PCNET32_MODE_PROM) != 0 { return true }
        if dst == .broadcast { return mode & UInt16(PCNET32_MODE_DRCVBC) == 0 }
        if dst.isMulticast { return acceptsMulticast(dst) }
        return mode & UInt16(PCNET32_MODE_DRCVPA) == 0 && physicalAddress == dst
    }

    /// A frame from the wire. Returns whether it reached a receive buffer.
    @discardableResult
    public func receive(_ frame: [UInt8], memory: SimMemory) -> Bool {
        guard responding, running, linkUp, csr[15] & UInt16(PCNET32_MODE_DRX) == 0, rxEntries > 0, frame.count >= 14,
              let dst = MACAddress(bytes: Array(frame[0..<6])) else { return false }
        guard accepts(dst) else { filtered += 1; return false }
        let desc = rxBase &+ UInt32(rxIndex) * PCNET32_DESC_SIZE
        let status = memory.le16(bus: desc + PCNET32_DESC_STATUS)
        guard status & UInt16(PCNET32_RMD_OWN) != 0 else {
            missed += 1
            csr[Int(PCNET32_CSR112)] &+= 1
            csr[0] |= UInt16(PCNET32_CSR0_MISS)
            return false
        }
        let data = frame + [0, 0, 0, 0] // the FCS
        let room = Self.byteCount(memory.le16(bus: desc + PCNET32_DESC_LENGTH))
        memory.write(bus: memory.le32(bus: desc + PCNET32_DESC_BASE), Array(data.prefix(room)))
        memory.setLE32(bus: desc + PCNET32_DESC_MISC, UInt32(min(data.count, room)) & PCNET32_RMD_MCNT_MASK)
        let err: UInt16 = data.count > room ? UInt16(PCNET32_RMD_ERR | PCNET32_RMD_BUFF) : 0
        memory.setLE16(bus: desc + PCNET32_DESC_STATUS, UInt16(PCNET32_RMD_STP | PCNET32_RMD_ENP) | err)
        rxIndex = (rxIndex + 1) % rxEntries
        csr[0] |= UInt16(PCNET32_CSR0_RINT)
        return true
    }

    public func snapshot() -> [UInt8] {
        var b = aprom
        let words = [csrRead(Int(rap)), rap, 0, bcrRead(Int(rap))]
        for w in words { b += [UInt8(w & 0xff), UInt8(w >> 8)] }
        return b + [UInt8](repeating: 0, count: Int(PCNET32_IO_SIZE) - b.count)
    }
}
