// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import XPC

/// Register-level model of a Realtek RTL8139C+ in its classic (non-C+) mode,
/// as QEMU's hw/net/rtl8139.c presents it: rx ring buffer, four tx slots,
/// 93C46 EEPROM behind Cfg9346, multicast hash filter, MII status.
///
/// Offsets and bit names are Linux's drivers/net/ethernet/realtek/8139too.c.
/// Frames leave through ``transmitted`` and arrive through ``receive(_:)``.
public final class RTL8139Model: DeviceModel, @unchecked Sendable {
    // Registers and bits: module/include/chips/rtl8139_regs.h, as Ints to
    // index the register file.
    static let mac0 = Int(RTL_IDR0), mar0 = Int(RTL_MAR0), txStatus0 = Int(RTL_TX_STATUS0), txAddr0 = Int(RTL_TX_ADDR0)
    static let rxBuf = Int(RTL_RX_BUF), chipCmd = Int(RTL_CHIP_CMD), rxBufPtr = Int(RTL_RX_BUF_PTR)
    static let rxBufAddr = Int(RTL_RX_BUF_ADDR), intrMask = Int(RTL_INTR_MASK), intrStatus = Int(RTL_INTR_STATUS)
    static let txConfig = Int(RTL_TX_CONFIG), rxConfig = Int(RTL_RX_CONFIG), rxMissed = Int(RTL_RX_MISSED)
    static let cfg9346 = Int(RTL_CFG9346), mediaStatus = Int(RTL_MEDIA_STATUS)
    static let basicModeCtrl = Int(RTL_BASIC_MODE_CTRL), basicModeStatus = Int(RTL_BASIC_MODE_STATUS), cscr = Int(RTL_CSCR)
    // ChipCmd bits.
    static let cmdReset = UInt8(RTL_CMD_RESET), cmdRxEnb = UInt8(RTL_CMD_RX_ENB), cmdTxEnb = UInt8(RTL_CMD_TX_ENB)
    static let rxBufEmpty = UInt8(RTL_RX_BUF_EMPTY)
    // IntrStatus bits.
    static let rxOK = UInt16(RTL_INT_RX_OK), txOK = UInt16(RTL_INT_TX_OK), rxOverflow = UInt16(RTL_INT_RX_OVERFLOW)
    // TxStatus bits.
    static let txHostOwns = RTL_TX_HOST_OWNS, txStatOK = RTL_TX_STAT_OK
    // RxConfig accept bits.
    static let acceptBroadcast = RTL_ACCEPT_BROADCAST, acceptMulticast = RTL_ACCEPT_MULTICAST
    static let acceptMyPhys = RTL_ACCEPT_MY_PHYS, acceptAllPhys = RTL_ACCEPT_ALL_PHYS, rxNoWrap = RTL_RX_NO_WRAP

    public let identity: DeviceIdentity
    private var regs = RegisterFile(size: 0x100)
    /// 93C46: 64 16-bit words; word 0 = 0x8129 id, words 7..9 = MAC.
    public private(set) var eeprom = [UInt16](repeating: 0xffff, count: 64)
    private var ee = EEPROMState()
    private var curRxWrite = 0 // ring offset the chip writes next (CBR)
    private var pendingTx: [Int] = []
    /// Frames the chip put on the wire, oldest first; the nucleus drains it.
    public var transmitted: [[UInt8]] = []
    /// Link state as the PHY reports it.
    public var linkUp = true
    /// Frames dropped by the address filter.
    public private(set) var filtered: UInt64 = 0
    /// Frames lost because the rx ring was full (RxMissed counts them too).
    public private(set) var missed: UInt64 = 0

    public init(mac: MACAddress, slot: String = "0000:00:04.0", irq: UInt32 = 10) {
        // 10ec:8139 revision 0x20 = RTL8139C+, as QEMU emulates.
        identity = DeviceIdentity(vendor: 0x10ec, device: 0x8139, revision: 0x20, slot: slot, barSize: 0x100, irq: irq)
        eeprom[0] = 0x8129
        for i in 0..<3 { eeprom[7 + i] = UInt16(mac.bytes[2 * i]) | UInt16(mac.bytes[2 * i + 1]) << 8 }
        reset()
        // The MAC registers load from EEPROM at power-on.
        for i in 0..<6 { regs.bytes[Self.mac0 + i] = mac.bytes[i] }
    }

    private func reset() {
        // TxConfig hardware revision: HW_REVID(1,1,1,0,1,1,0) = RTL8139C+.
        regs.set(Self.txConfig, 4, RTL_TX_HWREV_8139CP)
        regs.set(Self.rxConfig, 4, 0)
        regs.set(Self.intrMask, 2, 0)
        regs.set(Self.intrStatus, 2, 0)
        regs.bytes[Self.chipCmd] = Self.rxBufEmpty
        regs.set(Self.rxBufPtr, 2, 0xfff0)
        regs.set(Self.rxBufAddr, 2, 0)
        for i in 0..<Int(RTL_NUM_TX) { regs.set(Self.txStatus0 + 4 * i, 4, Self.txHostOwns) }
        curRxWrite = 0
        pendingTx = []
        regs.set(Self.basicModeCtrl, 2, RTL_BMCR_SPEED100 | RTL_BMCR_ANENABLE | RTL_BMCR_FULL_DUPLEX)
    }

    // MARK: register access

    public func read(offset o: UInt32, width: Int) -> UInt32 {
        let off = Int(o)
        switch off {
        case Self.chipCmd:
            var v = regs.bytes[Self.chipCmd] & ~Self.rxBufEmpty
            if rxEmpty { v |= Self.rxBufEmpty }
            return UInt32(v)
        case Self.cfg9346:
            var v = regs.bytes[Self.cfg9346] & ~UInt8(RTL_EE_DATA_READ)
            if ee.dataOut { v |= UInt8(RTL_EE_DATA_READ) }
            return UInt32(v)
        case Self.rxBufAddr:
            return UInt32(curRxWrite & 0xffff)
        case Self.mediaStatus:
            // MSR: LINKB is "link fail"; SPEED_10 clear = 100 Mbit/s.
            return linkUp ? 0 : RTL_MSR_LINK_FAIL
        case Self.basicModeStatus:
            // BMSR: 100BASE-TX FD/HD, 10 FD/HD, autoneg able (+complete), link.
            return RTL_BMSR_CAPS | (linkUp ? RTL_BMSR_LINK | RTL_BMSR_ANEGCOMPLETE : 0)
        case Self.cscr:
            return linkUp ? RTL_CSCR_LINK_OK : 0
        default:
            return regs.get(off, width)
        }
    }

    public func write(offset o: UInt32, width: Int, value: UInt32) {
        let off = Int(o)
        switch off {
        case Self.chipCmd:
            if UInt8(value) & Self.cmdReset != 0 {
                reset() // self-clearing: reads back without CmdReset
            } else {
                regs.bytes[Self.chipCmd] = UInt8(value) & (Self.cmdRxEnb | Self.cmdTxEnb)
            }
        case Self.intrStatus:
            // Write 1 to clear.
            regs.set(off, 2, UInt32(regs.u16(off)) & ~value)
        case Self.txStatus0..<(Self.txStatus0 + 4 * Int(RTL_NUM_TX)):
            let slot = (off - Self.txStatus0) / 4
            regs.set(Self.txStatus0 + 4 * slot, 4, value & ~(Self.txHostOwns | Self.txStatOK))
            if value & Self.txHostOwns == 0 { pendingTx.append(slot) }
        case Self.rxMissed:
            regs.set(off, 4, 0)
        case Self.cfg9346:
            regs.bytes[off] = UInt8(value)
            ee.clock(UInt8(value), eeprom)
        case Self.rxBufPtr:
            regs.set(off, 2, value)
        case Self.txConfig:
            // The hardware revision bits (30:26, 23:22) are read-only.
            let rev = regs.u32(off) & RTL_TX_REVISION_MASK
            regs.set(off, 4, (value & ~RTL_TX_REVISION_MASK) | rev)
        default:
            regs.set(off, width, value)
        }
    }

    // MARK: data path

    private var ringSize: Int { Int(RTL_RX_RING_LEN) << Int((regs.u32(Self.rxConfig) >> RTL_RX_RING_SHIFT) & 3) }
    /// The driver's read position: CAPR + 16 (8139too writes cur_rx - 16).
    private var readPos: Int { (Int(regs.u16(Self.rxBufPtr)) + 16) & 0xffff % max(ringSize, 1) }
    private var rxEmpty: Bool { readPos % ringSize == curRxWrite % ringSize }

    public var irqAsserted: Bool { regs.u16(Self.intrStatus) & regs.u16(Self.intrMask) != 0 }

    private func raise(_ bits: UInt16) { regs.set(Self.intrStatus, 2, UInt32(regs.u16(Self.intrStatus) | bits)) }

    /// Whether the filter takes a frame for `dst`.
    func accepts(_ dst: MACAddress) -> Bool {
        let rcr = regs.u32(Self.rxConfig)
        if dst == .broadcast { return rcr & Self.acceptBroadcast != 0 }
        if dst.isMulticast {
            guard rcr & Self.acceptMulticast != 0 else { return false }
            let bit = dst.multicastHashBit
            return regs.bytes[Self.mar0 + bit / 8] & (1 << UInt8(bit % 8)) != 0
        }
        if rcr & Self.acceptAllPhys != 0 { return true }
        return rcr & Self.acceptMyPhys != 0 && Array(regs.bytes[0..<6]) == dst.bytes
    }

    /// The receive filter in the class's terms (DEVICE_INFO's RX_FLAGS and
    /// MC_HASH), decoded from RxConfig and MAR0-7 as 8139too set them:
    /// AcceptAllPhys is promiscuous; AcceptMulticast with every hash bit set
    /// is all-multicast; the hash table counts only while AcceptMulticast is on.
    var receiveFilter: (flags: UInt32, hash: [UInt8]) {
        let rcr = regs.u32(Self.rxConfig)
        let mar = Array(regs.bytes[Self.mar0..<(Self.mar0 + 8)])
        let hash = rcr & Self.acceptMulticast != 0 ? mar : [UInt8](repeating: 0, count: 8)
        if rcr & Self.acceptAllPhys != 0 { return (UInt32(DRVXPC_RX_PROMISC), hash) }
        if hash.allSatisfy({ $0 == 0xff }) { return (UInt32(DRVXPC_RX_ALLMULTI), hash) }
        return (0, hash)
    }

    /// A frame arrives from the wire. Returns whether it reached the ring.
    @discardableResult
    public func receive(_ frame: [UInt8], memory: SimMemory) -> Bool {
        guard regs.bytes[Self.chipCmd] & Self.cmdRxEnb != 0, frame.count >= 14,
              let dst = MACAddress(bytes: Array(frame[0..<6])) else { return false }
        guard accepts(dst) else { filtered += 1; return false }
        let size = ringSize
        let len = frame.count + 4 // + CRC
        let need = (len + 4 + 3) & ~3
        let used = (curRxWrite - readPos + size) % size
        guard used + need < size - 16 else {
            missed += 1
            regs.set(Self.rxMissed, 4, regs.u32(Self.rxMissed) &+ 1)
            raise(Self.rxOverflow)
            return false
        }
        var status = UInt16(RTL_RX_HDR_OK)
        if dst == .broadcast {
            status |= UInt16(RTL_RX_HDR_BROADCAST)
        } else {
            status |= UInt16(dst.isMulticast ? RTL_RX_HDR_MULTICAST : RTL_RX_HDR_PHYS)
        }
        let packet = [UInt8(status & 0xff), UInt8(status >> 8), UInt8(len & 0xff), UInt8(len >> 8)]
            + frame + [0, 0, 0, 0]
        let base = regs.u32(Self.rxBuf)
        if regs.u32(Self.rxConfig) & Self.rxNoWrap != 0 {
            // The ring has slack past its end; the packet is written linearly.
            memory.write(bus: base &+ UInt32(curRxWrite), packet)
        } else {
            for (i, b) in packet.enumerated() { memory.write(bus: base &+ UInt32((curRxWrite + i) % size), [b]) }
        }
        curRxWrite = (curRxWrite + need) % size
        raise(Self.rxOK)
        return true
    }

    public func tick(nanos: UInt64, memory: SimMemory) {
        guard regs.bytes[Self.chipCmd] & Self.cmdTxEnb != 0 else { return }
        while !pendingTx.isEmpty {
            let slot = pendingTx.removeFirst()
            let tsd = regs.u32(Self.txStatus0 + 4 * slot)
            let size = Int(tsd & RTL_TX_SIZE_MASK)
            let addr = regs.u32(Self.txAddr0 + 4 * slot)
            if size >= 14 { transmitted.append(memory.read(bus: addr, count: size)) }
            regs.set(Self.txStatus0 + 4 * slot, 4, tsd | Self.txHostOwns | Self.txStatOK)
            raise(Self.txOK)
        }
    }

    public func snapshot() -> [UInt8] {
        var r = regs
        r.bytes[Self.chipCmd] = UInt8(read(offset: UInt32(Self.chipCmd), width: 1))
        r.set(Self.rxBufAddr, 2, UInt32(curRxWrite))
        r.bytes[Self.mediaStatus] = UInt8(read(offset: UInt32(Self.mediaStatus), width: 1))
        r.set(Self.basicModeStatus, 2, read(offset: UInt32(Self.basicModeStatus), width: 2))
        return r.bytes
    }
}

/// The 93C46 serial EEPROM as wired to Cfg9346: EEM1 (bit 7) selects
/// programming mode, EECS bit 3, EESK bit 2 (clock), EEDI bit 1, EEDO bit 0.
/// Implements the READ command (110 + 6-bit address, then 16 data bits).
struct EEPROMState {
    var lastClock = false
    var selected = false
    var shiftIn: UInt32 = 0
    var bitsIn = 0
    var shiftOut: UInt16 = 0
    var bitsOut = 0
    var dataOut = false

    mutating func clock(_ v: UInt8, _ rom: [UInt16]) {
        let program = UInt32(v) & RTL_CFG9346_EEM_MASK == RTL_CFG9346_EEM_PROGRAM
        let cs = UInt32(v) & RTL_EE_CS != 0, sk = UInt32(v) & RTL_EE_SHIFT_CLK != 0, di = UInt32(v) & RTL_EE_DATA_WRITE != 0
        guard program, cs else {
            selected = false; bitsIn = 0; shiftIn = 0; bitsOut = 0; lastClock = sk; dataOut = false
            return
        }
        if !selected { selected = true; bitsIn = 0; shiftIn = 0; bitsOut = 0 }
        defer { lastClock = sk }
        guard sk && !lastClock else { return } // rising edge
        if bitsOut > 0 {
            // Shift the next data bit out, MSB first.
            bitsOut -= 1
            dataOut = shiftOut & (1 << UInt16(bitsOut)) != 0
            return
        }
        shiftIn = shiftIn << 1 | (di ? 1 : 0)
        bitsIn += 1
        // Leading zeros before the start bit are ignored (8139too sends
        // 5 + addr_len bits: 0 0 1 1 0 a5..a0 with a 6-bit address).
        if bitsIn == 1 && shiftIn == 0 { bitsIn = 0; return }
        if bitsIn == 9 {
            if (shiftIn >> 6) & 0x7 == RTL_EE_READ_CMD {
                shiftOut = rom[Int(shiftIn & 0x3f)]
                bitsOut = 16
                dataOut = false // the dummy zero bit
            }
            bitsIn = 0
            shiftIn = 0
        }
    }
}
