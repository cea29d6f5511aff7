// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// Register-level model of an Intel 82540EM (QEMU's `-device e1000`): the
/// EEPROM behind EERD, the M88 PHY behind MDIC (link, autonegotiation that
/// takes device time), receive address and multicast table, RCTL/TCTL, the
/// interrupt registers, a self-clearing global reset and clear-on-read
/// statistics.
///
/// Register names are e1000_regs.h's (shared with the nucleus and the
/// u-driver). Where QEMU and the SDM differ the model follows the SDM: a
/// reset (CTRL.RST) returns the registers to their power-on values and
/// reloads the MAC from the EEPROM (QEMU only clears the bit), MPC clears
/// on read.
///
/// The data path, as QEMU's: legacy descriptors only. The transmitter
/// (TCTL.EN) sends the descriptors from TDH up to TDT at each tick,
/// writing DD back where RS asks for it, short frames padded with
/// TCTL.PSP, and raises TXDW; the receiver (RCTL.EN, link up) stores a
/// frame the filter takes into the buffer of the descriptor at RDH, with
/// 4 bytes of CRC unless RCTL.SECRC, writes length and DD|EOP, moves RDH
/// and raises RXT0 — or, with RDH at RDT, counts it missed (MPC) and
/// raises RXO.
public final class E1000Model: DeviceModel, @unchecked Sendable {
    public let identity: DeviceIdentity
    /// One dword per register of the 128 KiB BAR.
    private var regs = [UInt32](repeating: 0, count: Int(E1000_BAR_SIZE) / 4)
    /// The 64-word EEPROM: MAC in words 0-2, device id in 11 and 13,
    /// checksum in 0x3f (the words sum to 0xbaba), as QEMU lays it out.
    public var eeprom = [UInt16](repeating: 0, count: Int(E1000_EEPROM_WORDS))
    private var phy = [UInt16](repeating: 0, count: 32)
    /// BMSR's link bit is latched low: a drop stays visible until read.
    private var linkLatchedLow = false
    /// Device time left until autonegotiation completes; nil when idle.
    private var autonegRemaining: UInt64?
    /// Device time autonegotiation takes (QEMU: 500 ms).
    public let autonegNanos: UInt64 = 500_000_000

    /// Whether the cable is in (QEMU's `set_link`).
    public var linkUp: Bool = true {
        didSet { if linkUp != oldValue { linkChanged() } }
    }
    /// A dead chip: every register reads all ones (a surprise-removed card).
    public var readsAllOnes = false
    /// Global resets (CTRL.RST writes) and PHY resets, for tests.
    public private(set) var resets = 0
    public private(set) var phyResets = 0
    /// Autonegotiation restarts (BMCR.RESTART_AUTONEG writes).
    public private(set) var autonegRestarts = 0
    /// Every register write, oldest first: (offset, value).
    public private(set) var writeLog: [(offset: UInt32, value: UInt32)] = []
    /// Frames the transmitter put on the wire, oldest first.
    public var transmitted: [[UInt8]] = []
    /// Frames dropped for want of a receive descriptor (MPC, not cleared by reads).
    public private(set) var missed: UInt64 = 0
    /// Frames the receive filter dropped.
    public private(set) var filtered: UInt64 = 0
    /// A frame being gathered from descriptors without EOP.
    private var txPending: [UInt8] = []

    public init(mac: MACAddress, deviceID: UInt16 = 0x100e, slot: String = "0000:00:03.0", irq: UInt32 = 11) {
        identity = DeviceIdentity(vendor: 0x8086, device: deviceID, revision: 0x03, slot: slot, barSize: E1000_BAR_SIZE, irq: irq)
        for i in 0..<3 { eeprom[i] = UInt16(mac.bytes[2 * i]) | UInt16(mac.bytes[2 * i + 1]) << 8 }
        eeprom[11] = deviceID
        eeprom[13] = deviceID
        let sum = eeprom[0..<Int(E1000_EEPROM_CHECKSUM_REG)].reduce(UInt16(0), &+)
        eeprom[Int(E1000_EEPROM_CHECKSUM_REG)] = UInt16(E1000_EEPROM_SUM) &- sum
        powerOn()
    }

    /// Power-on values (QEMU's mac_reg_init and phy_reg_init): link up at
    /// 1000 full, autonegotiation not yet complete, MAC from the EEPROM.
    private func powerOn() {
        phyReset()
        macReset()
    }

    /// CTRL.RST: the MAC's registers to their power-on values, the MAC
    /// reloaded from the EEPROM. The PHY keeps its state (CTRL.PHY_RST and
    /// BMCR.RESET reset it), so STATUS.LU still follows the link.
    private func macReset() {
        regs = [UInt32](repeating: 0, count: regs.count)
        let up = phy[Int(E1000_PHY_STATUS)] & UInt16(E1000_MII_SR_LINK_STATUS) != 0
        setRegister(E1000_CTRL, E1000_CTRL_SLU | 0x0000_0200) // SPD_1000
        setRegister(E1000_STATUS, 0x8000_0000 | E1000_STATUS_SPEED_1000 | E1000_STATUS_FD | (up ? E1000_STATUS_LU : 0))
        setRegister(E1000_PBA, 0x0010_0030)
        setRegister(E1000_RAL0, UInt32(eeprom[0]) | UInt32(eeprom[1]) << 16)
        setRegister(E1000_RAH0, UInt32(eeprom[2]) | E1000_RAH_AV)
    }

    private func phyReset() {
        phy = [UInt16](repeating: 0, count: 32)
        phy[Int(E1000_PHY_CTRL)] = 0x1140 // 1000 Mbit/s, full duplex, autoneg enabled
        phy[Int(E1000_PHY_STATUS)] = 0x7949 | (linkUp ? UInt16(E1000_MII_SR_LINK_STATUS) : 0)
        phy[Int(E1000_PHY_ID1)] = UInt16(E1000_M88E1011_I_PHY_ID >> 16)
        phy[Int(E1000_PHY_ID2)] = UInt16(E1000_M88E1011_I_PHY_ID & 0xffff)
        phy[Int(E1000_PHY_AUTONEG_ADV)] = 0x0de1
        phy[5] = 0x01e0 // link partner: 10/100 half and full
        phy[Int(E1000_PHY_1000T_CTRL)] = 0x0e00
        phy[10] = 0x3c00
        phy[Int(E1000_M88_PHY_SPEC_STATUS)] = 0xac00 // 1000, full, link
        linkLatchedLow = false
        autonegRemaining = nil
    }

    private func register(_ off: UInt32) -> UInt32 { regs[Int(off / 4)] }
    private func setRegister(_ off: UInt32, _ v: UInt32) { regs[Int(off / 4)] = v }

    // MARK: register access

    public func read(offset: UInt32, width: Int) -> UInt32 {
        if readsAllOnes { return width == 4 ? 0xffff_ffff : (1 << (8 * UInt32(width))) - 1 }
        let off = offset & ~3
        let v = readDword(off)
        return width == 4 ? v : (v >> (8 * (offset & 3))) & ((1 << (8 * UInt32(width))) - 1)
    }

    private func readDword(_ off: UInt32) -> UInt32 {
        switch off {
        case E1000_ICR:
            let v = register(E1000_ICR)
            setRegister(E1000_ICR, 0)
            return v
        case E1000_ICS:
            return register(E1000_ICR) // reads as ICR without clearing (QEMU)
        case E1000_IMC:
            return 0 // write-only
        case E1000_EERD:
            let v = register(E1000_EERD)
            guard v & E1000_EERD_START != 0 else { return v }
            let word = Int((v >> E1000_EERD_ADDR_SHIFT) & 0xff)
            let data = word < eeprom.count ? UInt32(eeprom[word]) : 0
            return (v & ~E1000_EERD_START & 0xffff) | E1000_EERD_DONE | data << E1000_EERD_DATA_SHIFT
        case E1000_MPC, E1000_GPRC, E1000_GPTC, E1000_CRCERRS:
            let v = register(off)
            setRegister(off, 0)
            return v
        default:
            return register(off)
        }
    }

    public func write(offset: UInt32, width: Int, value: UInt32) {
        // Sub-dword writes merge into the dword (QEMU takes dwords only).
        let off = offset & ~3
        var v = value
        if width != 4 {
            let shift = 8 * (offset & 3), mask: UInt32 = ((1 << (8 * UInt32(width))) - 1) << shift
            v = (register(off) & ~mask) | ((value << shift) & mask)
        }
        if writeLog.count >= 65536 { writeLog.removeFirst(32768) }
        writeLog.append((off, v))
        guard !readsAllOnes else { return }
        switch off {
        case E1000_CTRL:
            if v & E1000_CTRL_RST != 0 {
                resets += 1
                macReset() // self-clearing: reads back without RST
            } else {
                if v & E1000_CTRL_PHY_RST != 0 {
                    phyResets += 1
                    phyReset()
                    linkChanged()
                }
                setRegister(off, v & ~E1000_CTRL_PHY_RST)
            }
        case E1000_STATUS:
            break // read-only
        case E1000_MDIC:
            mdic(v)
        case E1000_ICR:
            setRegister(E1000_ICR, register(E1000_ICR) & ~v) // write 1 to clear
        case E1000_ICS:
            raise(v)
        case E1000_IMS:
            setRegister(E1000_IMS, register(E1000_IMS) | v)
        case E1000_IMC:
            setRegister(E1000_IMS, register(E1000_IMS) & ~v)
        case E1000_RDLEN, E1000_TDLEN:
            setRegister(off, v & 0x000f_ff80)
        case E1000_RDH, E1000_RDT, E1000_TDH, E1000_TDT:
            setRegister(off, v & 0xffff)
        default:
            setRegister(off, v)
        }
    }

    /// One MDIC command: PHY address 1 only; READY at once (QEMU).
    private func mdic(_ v: UInt32) {
        let reg = Int((v >> E1000_MDIC_REG_SHIFT) & 0x1f)
        let data = UInt16(v & E1000_MDIC_DATA_MASK)
        var out = v & ~(E1000_MDIC_READY | E1000_MDIC_ERROR)
        if (v >> E1000_MDIC_PHY_SHIFT) & 0x1f != E1000_MDIC_PHY_ADDR {
            out |= E1000_MDIC_ERROR
        } else if v & E1000_MDIC_OP_READ != 0 {
            out = (out & ~E1000_MDIC_DATA_MASK) | UInt32(phyRead(reg))
        } else if v & E1000_MDIC_OP_WRITE != 0 {
            phyWrite(reg, data)
        }
        setRegister(E1000_MDIC, out | E1000_MDIC_READY)
        if v & E1000_MDIC_INT_EN != 0 { raise(E1000_ICR_MDAC) }
    }

    private func phyRead(_ reg: Int) -> UInt16 {
        var v = phy[reg]
        if reg == Int(E1000_PHY_STATUS) {
            if linkLatchedLow { v &= ~UInt16(E1000_MII_SR_LINK_STATUS) }
            linkLatchedLow = false
        }
        return v
    }

    private func phyWrite(_ reg: Int, _ data: UInt16) {
        switch reg {
        case Int(E1000_PHY_CTRL):
            if data & UInt16(E1000_MII_CR_RESET) != 0 { phyResets += 1 }
            phy[reg] = data & ~UInt16(E1000_MII_CR_RESET | E1000_MII_CR_RESTART_AUTONEG | 0x3f)
            if data & UInt16(E1000_MII_CR_RESTART_AUTONEG) != 0, data & UInt16(E1000_MII_CR_AUTONEG_EN) != 0 {
                autonegRestarts += 1
                setLink(false)
                autonegRemaining = autonegNanos
            }
        case Int(E1000_PHY_STATUS), Int(E1000_PHY_ID1), Int(E1000_PHY_ID2), 5, 10, Int(E1000_M88_PHY_SPEC_STATUS):
            break // read-only
        default:
            phy[reg] = data
        }
    }

    // MARK: link and interrupts

    /// STATUS.LU and the PHY's link bit follow `up`; a drop latches.
    private func setLink(_ up: Bool) {
        let lu = E1000_STATUS_LU, ls = UInt16(E1000_MII_SR_LINK_STATUS), an = UInt16(E1000_MII_SR_AUTONEG_COMPLETE)
        let was = register(E1000_STATUS) & lu != 0
        setRegister(E1000_STATUS, up ? register(E1000_STATUS) | lu : register(E1000_STATUS) & ~lu)
        phy[Int(E1000_PHY_STATUS)] = up ? phy[Int(E1000_PHY_STATUS)] | ls | an : phy[Int(E1000_PHY_STATUS)] & ~(ls | an)
        if was && !up { linkLatchedLow = true }
        if was != up { raise(E1000_ICR_LSC) }
    }

    private func linkChanged() {
        if linkUp {
            // As QEMU: with autonegotiation on and not complete, negotiate.
            if phy[Int(E1000_PHY_CTRL)] & UInt16(E1000_MII_CR_AUTONEG_EN) != 0,
               phy[Int(E1000_PHY_STATUS)] & UInt16(E1000_MII_SR_AUTONEG_COMPLETE) == 0 {
                autonegRemaining = autonegNanos
            } else {
                setLink(true)
            }
        } else {
            autonegRemaining = nil
            setLink(false)
        }
    }

    private func raise(_ causes: UInt32) { setRegister(E1000_ICR, register(E1000_ICR) | causes) }

    public var irqAsserted: Bool { register(E1000_ICR) & register(E1000_IMS) != 0 }

    public func tick(nanos: UInt64, memory: SimMemory) {
        if let left = autonegRemaining {
            if nanos >= left {
                autonegRemaining = nil
                if linkUp { setLink(true) }
            } else {
                autonegRemaining = left - nanos
            }
        }
        transmit(memory)
    }

    // MARK: data path

    /// Descriptors in a ring of `lenReg` bytes.
    private func descriptors(_ lenReg: UInt32) -> UInt32 { register(lenReg) / E1000_DESC_SIZE }

    /// The transmitter: every descriptor from TDH up to TDT.
    private func transmit(_ memory: SimMemory) {
        guard !readsAllOnes, register(E1000_TCTL) & E1000_TCTL_EN != 0 else { return }
        let count = descriptors(E1000_TDLEN)
        guard count > 0 else { return }
        var sent = false
        while register(E1000_TDH) != register(E1000_TDT), register(E1000_TDH) < count {
            let head = register(E1000_TDH)
            let desc = register(E1000_TDBAL) &+ head * E1000_DESC_SIZE
            let addr = memory.le32(bus: desc)
            let lower = memory.le32(bus: desc + E1000_TXD_LOWER)
            txPending += memory.read(bus: addr, count: Int(lower & 0xffff))
            if lower & E1000_TXD_CMD_EOP != 0 {
                var frame = txPending
                txPending = []
                if register(E1000_TCTL) & E1000_TCTL_PSP != 0 && frame.count < 60 {
                    frame += [UInt8](repeating: 0, count: 60 - frame.count)
                }
                if frame.count >= 14 && linkUp {
                    transmitted.append(frame)
                    setRegister(E1000_GPTC, register(E1000_GPTC) &+ 1)
                }
            }
            if lower & E1000_TXD_CMD_RS != 0 {
                memory.setLE32(bus: desc + E1000_TXD_UPPER, memory.le32(bus: desc + E1000_TXD_UPPER) | E1000_TXD_STAT_DD)
            }
            setRegister(E1000_TDH, (head + 1) % count)
            sent = true
        }
        if sent { raise(E1000_ICR_TXDW | E1000_ICR_TXQE) }
    }

    /// A frame from the wire. Returns whether it reached a receive buffer.
    @discardableResult
    public func receive(_ frame: [UInt8], memory: SimMemory) -> Bool {
        guard !readsAllOnes, linkUp, frame.count >= 14, register(E1000_RCTL) & E1000_RCTL_EN != 0,
              let dst = MACAddress(bytes: Array(frame[0..<6])) else { return false }
        guard accepts(dst) else { filtered += 1; return false }
        let count = descriptors(E1000_RDLEN), head = register(E1000_RDH)
        guard count > 0, head != register(E1000_RDT), head < count else {
            missed += 1
            setRegister(E1000_MPC, register(E1000_MPC) &+ 1)
            raise(E1000_ICR_RXO)
            return false
        }
        var data = frame
        if register(E1000_RCTL) & E1000_RCTL_SECRC == 0 { data += [0, 0, 0, 0] }
        let desc = register(E1000_RDBAL) &+ head * E1000_DESC_SIZE
        let addr = memory.le32(bus: desc)
        memory.write(bus: addr, Array(data.prefix(Int(E1000_BUF_SIZE))))
        memory.setLE16(bus: desc + E1000_RXD_LENGTH, UInt16(min(data.count, Int(E1000_BUF_SIZE))))
        memory.write(bus: desc + E1000_RXD_STATUS, [UInt8(E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP), 0])
        setRegister(E1000_RDH, (head + 1) % count)
        setRegister(E1000_GPRC, register(E1000_GPRC) &+ 1)
        raise(E1000_ICR_RXT0)
        return true
    }

    // MARK: filter

    /// The 4096-bit multicast table, as 128 dwords.
    public var multicastTable: [UInt32] { (0..<Int(E1000_MTA_REGS)).map { regs[Int(E1000_MTA / 4) + $0] } }

    /// Whether the receive filter takes a frame for `dst` (QEMU's
    /// e1000x_rx_group_filter: broadcast by BAM, promiscuous bits, the 15
    /// exact filters, then the MTA hash at RCTL.MO's offset).
    public func accepts(_ dst: MACAddress) -> Bool {
        let rctl = register(E1000_RCTL)
        guard rctl & E1000_RCTL_EN != 0 else { return false }
        let promiscuous = dst == .broadcast ? E1000_RCTL_BAM : dst.isMulticast ? E1000_RCTL_MPE : E1000_RCTL_UPE
        if rctl & promiscuous != 0 { return true }
        for i in 0..<E1000_RAR_ENTRIES {
            let low = register(E1000_RAL0 + 8 * i), high = register(E1000_RAH0 + 8 * i)
            guard high & E1000_RAH_AV != 0 else { continue }
            let b = [low, low >> 8, low >> 16, low >> 24, high, high >> 8].map { UInt8(truncatingIfNeeded: $0) }
            if b == dst.bytes { return true }
        }
        let shift: [UInt32] = [4, 3, 2, 0]
        let f = ((UInt32(dst.bytes[5]) << 8 | UInt32(dst.bytes[4])) >> shift[Int((rctl & E1000_RCTL_MO_MASK) >> E1000_RCTL_MO_SHIFT)]) & 0xfff
        return register(E1000_MTA + 4 * (f >> 5)) & (1 << (f & 31)) != 0
    }

    /// The first 4 KiB of the BAR (control, interrupt and filter-control
    /// registers); REG_DUMP holds no more.
    public func snapshot() -> [UInt8] {
        (0..<1024).flatMap { i -> [UInt8] in
            let v = regs[i]
            return [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8),
                    UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24)]
        }
    }
}
