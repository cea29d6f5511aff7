// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// Register-level model of a PCI NE2000 clone (RTL8029AS) as the DP8390D
/// datasheet describes it: CR with its four pages, the remote DMA through
/// the data port (station address PROM at 0, 16 KiB of packet memory at
/// 0x4000), the reset port, the receive filter (RCR, PAR, MAR), ISR
/// write-1-to-clear, the tally counters, page 2's read-back. Where QEMU's
/// hw/net/ne2000.c differs (no page-2 RCR/TPSR/IMR read-back, unicast
/// matched against the PROM instead of PAR), the model follows the
/// datasheet; docs/chips/ne2k.md lists the differences. One of them the
/// u-driver works around, so the model can show it on request:
/// ``qemuPROMWindow``.
///
/// The data path: a TXP puts the frame at TPSR on the wire
/// (``transmitted``) at once and raises PTX; the receiver (started, not in
/// monitor mode) stores a frame the filter takes at CURR — the 4-byte
/// header (RSR, next page, count), then the frame padded to 60 bytes,
/// wrapping from PSTOP to PSTART — moves CURR and raises PRX. With less
/// than a longest frame free before BNRY the frame is dropped and counted
/// in CNTR2 as QEMU's ne2000 does (no OVW: its overrun is not modelled).
public final class NE2KModel: DeviceModel, @unchecked Sendable {
    public let identity: DeviceIdentity
    /// A board that is not there: every read answers all ones.
    public let absent: Bool

    public private(set) var cr = UInt8(NE2K_CR_STP | NE2K_CR_RD_ABORT)
    private var pstart: UInt8 = 0, pstop: UInt8 = 0, bnry: UInt8 = 0
    private var tpsr: UInt8 = 0, tbcr: UInt16 = 0
    public private(set) var isr = UInt8(NE2K_ISR_RST)
    private var imr: UInt8 = 0
    private var rsar: UInt16 = 0, rbcr: UInt16 = 0
    public private(set) var rcr: UInt8 = 0
    private var tcr: UInt8 = 0, dcr: UInt8 = 0, tsr: UInt8 = 0
    /// Station address (PAR0-5), current page and multicast filter (page 1).
    public private(set) var par = [UInt8](repeating: 0, count: 6)
    public private(set) var curr: UInt8 = 0
    public private(set) var mar = [UInt8](repeating: 0, count: 8)
    /// CNTR0-2: frame alignment, CRC, missed; a read clears each.
    public var counters: [UInt8] = [0, 0, 0]
    /// The station address PROM: 16 bytes, MAC then 0x57 0x57 at 14-15.
    public let prom: [UInt8]
    /// QEMU's station address window instead of a PROM (hw/net/ne2000.c):
    /// card addresses 0-31 are RAM that remote DMA writes, a reset-port
    /// read reloads with the PROM image (each byte doubled), and unicast
    /// frames are matched against its bytes 0, 2, ..., 10, not PAR0-5.
    /// False: the datasheet's read-only PROM and PAR match.
    public let qemuPROMWindow: Bool
    /// The 32 bytes remote DMA reads at card address 0: the PROM doubled,
    /// or with ``qemuPROMWindow`` what was written there since the last
    /// reset.
    public private(set) var promWindow: [UInt8]
    private var memory = [UInt8](repeating: 0, count: Int(NE2K_MEM_STOP_PG * NE2K_PAGE_SIZE))
    /// How many times the reset port was read.
    public private(set) var resets = 0
    /// Frames a TXP put on the wire, oldest first.
    public var transmitted: [[UInt8]] = []
    /// The cable (QEMU's ne2000 has no link state; a test may pull it).
    public var linkUp = true
    /// Frames dropped because the ring had no room (CNTR2 counts them too).
    public private(set) var missed: UInt64 = 0
    /// Frames the address filter dropped.
    public private(set) var filtered: UInt64 = 0

    public init(mac: MACAddress, slot: String = "0000:00:05.0", irq: UInt32 = 11, absent: Bool = false,
                qemuPROMWindow: Bool = false) {
        identity = DeviceIdentity(vendor: 0x10ec, device: 0x8029, revision: 0, slot: slot, barSize: NE2K_BAR_LEN, irq: irq)
        self.absent = absent
        self.qemuPROMWindow = qemuPROMWindow
        var p = mac.bytes + [UInt8](repeating: 0, count: 10)
        p[Int(NE2K_PROM_SIG_OFF)] = UInt8(NE2K_PROM_SIG)
        p[Int(NE2K_PROM_SIG_OFF) + 1] = UInt8(NE2K_PROM_SIG)
        prom = p
        promWindow = p.flatMap { [$0, $0] }
    }

    /// The page CR selects (0-3).
    public var page: Int { Int(cr) >> 6 }

    /// DP8390 reset: stopped, remote DMA aborted, page 0, RST set,
    /// interrupts masked, loopback off.
    private func reset() {
        resets += 1
        promWindow = prom.flatMap { [$0, $0] }
        cr = UInt8(NE2K_CR_STP | NE2K_CR_RD_ABORT)
        isr = UInt8(NE2K_ISR_RST)
        imr = 0
        tcr &= ~0x06
        dcr &= ~0x04
    }

    // MARK: register access

    public func read(offset o: UInt32, width: Int) -> UInt32 {
        let ones: UInt32 = width == 4 ? 0xffff_ffff : (1 << (8 * UInt32(width))) - 1
        if absent { return ones }
        switch o {
        case NE2K_CR:
            return UInt32(cr)
        case 0x01...0x0f:
            return width == 1 ? UInt32(pagedRead(o, clearing: true)) : ones
        case NE2K_DATAPORT:
            return remoteRead(width: width)
        case NE2K_RESET:
            reset()
            return 0
        default:
            return ones
        }
    }

    /// Offset `o` (0x01-0x0f) of the selected page.
    private func pagedRead(_ o: UInt32, clearing: Bool) -> UInt8 {
        switch (page, o) {
        case (0, NE2K_P0_BNRY): return bnry
        case (0, NE2K_P0_TSR): return tsr
        case (0, NE2K_P0_ISR): return isr
        case (0, NE2K_P0_CRDA0): return UInt8(rsar & 0xff)
        case (0, NE2K_P0_CRDA1): return UInt8(rsar >> 8)
        case (0, NE2K_P0_8029ID0): return 0x50
        case (0, NE2K_P0_8029ID1): return 0x43
        case (0, NE2K_P0_CNTR0...NE2K_P0_CNTR2):
            let i = Int(o - NE2K_P0_CNTR0)
            let v = counters[i]
            if clearing {
                counters[i] = 0
                if !counters.contains(where: { $0 & 0x80 != 0 }) { isr &= ~UInt8(NE2K_ISR_CNT) }
            }
            return v
        case (1, NE2K_P1_PAR0..<(NE2K_P1_PAR0 + 6)): return par[Int(o - NE2K_P1_PAR0)]
        case (1, NE2K_P1_CURR): return curr
        case (1, NE2K_P1_MAR0...(NE2K_P1_MAR0 + 7)): return mar[Int(o - NE2K_P1_MAR0)]
        case (2, NE2K_P2_PSTART): return pstart
        case (2, NE2K_P2_PSTOP): return pstop
        case (2, NE2K_P2_TPSR): return tpsr
        case (2, NE2K_P2_RCR): return rcr
        case (2, NE2K_P2_TCR): return tcr
        case (2, NE2K_P2_DCR): return dcr
        case (2, NE2K_P2_IMR): return imr
        case (3, NE2K_P3_CONFIG2): return 0x40
        default: return 0
        }
    }

    public func write(offset o: UInt32, width: Int, value: UInt32) {
        if absent { return }
        let v = UInt8(truncatingIfNeeded: value)
        switch o {
        case NE2K_CR:
            writeCommand(v)
        case 0x01...0x0f where width == 1:
            pagedWrite(o, v)
        case NE2K_DATAPORT:
            remoteWrite(value, width: width)
        default:
            break // the reset port's write ends the pulse; the rest is not decoded
        }
    }

    private func writeCommand(_ v: UInt8) {
        cr = v & ~UInt8(NE2K_CR_TXP)
        guard v & UInt8(NE2K_CR_STP) == 0 else { return }
        isr &= ~UInt8(NE2K_ISR_RST)
        if v & UInt8(NE2K_CR_RD_READ | NE2K_CR_RD_WRITE) != 0 && rbcr == 0 { isr |= UInt8(NE2K_ISR_RDC) }
        if v & UInt8(NE2K_CR_TXP) != 0 {
            let start = Int(tpsr) * Int(NE2K_PAGE_SIZE), len = Int(tbcr)
            if start + len <= memory.count && linkUp { transmitted.append(Array(memory[start..<(start + len)])) }
            tsr = UInt8(NE2K_TSR_PTX)
            isr |= UInt8(NE2K_ISR_PTX)
        }
    }

    private func pagedWrite(_ o: UInt32, _ v: UInt8) {
        switch (page, o) {
        case (0, NE2K_P0_PSTART): pstart = v
        case (0, NE2K_P0_PSTOP): pstop = v
        case (0, NE2K_P0_BNRY): bnry = v
        case (0, NE2K_P0_TPSR): tpsr = v
        case (0, NE2K_P0_TBCR0): tbcr = tbcr & 0xff00 | UInt16(v)
        case (0, NE2K_P0_TBCR1): tbcr = tbcr & 0x00ff | UInt16(v) << 8
        case (0, NE2K_P0_ISR): isr &= ~(v & 0x7f) // write 1 to clear; RST is state, not an interrupt
        case (0, NE2K_P0_RSAR0): rsar = rsar & 0xff00 | UInt16(v)
        case (0, NE2K_P0_RSAR1): rsar = rsar & 0x00ff | UInt16(v) << 8
        case (0, NE2K_P0_RBCR0): rbcr = rbcr & 0xff00 | UInt16(v)
        case (0, NE2K_P0_RBCR1): rbcr = rbcr & 0x00ff | UInt16(v) << 8
        case (0, NE2K_P0_RCR): rcr = v & 0x3f
        case (0, NE2K_P0_TCR): tcr = v & 0x1f
        case (0, NE2K_P0_DCR): dcr = v & 0x7f
        case (0, NE2K_P0_IMR): imr = v & 0x7f
        case (1, NE2K_P1_PAR0..<(NE2K_P1_PAR0 + 6)): par[Int(o - NE2K_P1_PAR0)] = v
        case (1, NE2K_P1_CURR): curr = v
        case (1, NE2K_P1_MAR0...(NE2K_P1_MAR0 + 7)): mar[Int(o - NE2K_P1_MAR0)] = v
        default: break // page 2 and 3 writes: diagnostics and EEPROM, not modelled
        }
    }

    // MARK: remote DMA

    /// One byte of the card's address space: the PROM (each byte doubled,
    /// as a word-wide board shows it) below 32, packet memory from 0x4000.
    private func memoryByte(_ a: Int) -> UInt8 {
        if a < Int(NE2K_PROM_BYTES) { return promWindow[a] }
        if a >= Int(NE2K_MEM_START_PG * NE2K_PAGE_SIZE) && a < memory.count { return memory[a] }
        return 0xff
    }

    /// Bytes each data-port access moves: DCR.WTS makes even a byte
    /// access a word transfer.
    private func step(_ width: Int) -> Int {
        width == 4 ? 4 : (dcr & UInt8(NE2K_DCR_WTS) != 0 ? 2 : 1)
    }

    private func advance(_ n: Int) {
        rsar &+= UInt16(n)
        if pstop != 0 && rsar == UInt16(pstop) << 8 { rsar = UInt16(pstart) << 8 }
        if Int(rbcr) <= n {
            rbcr = 0
            isr |= UInt8(NE2K_ISR_RDC)
        } else {
            rbcr -= UInt16(n)
        }
    }

    private func remoteRead(width: Int) -> UInt32 {
        let n = step(width)
        var v: UInt32 = 0
        for i in 0..<n { v |= UInt32(memoryByte(Int(rsar) + i)) << (8 * UInt32(i)) }
        advance(n)
        return width == 1 ? v & 0xff : v
    }

    private func remoteWrite(_ value: UInt32, width: Int) {
        guard rbcr > 0 else { return }
        let n = step(width)
        for i in 0..<n {
            let a = Int(rsar) + i, byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            if a >= Int(NE2K_MEM_START_PG * NE2K_PAGE_SIZE) && a < memory.count {
                memory[a] = byte
            } else if qemuPROMWindow && a < Int(NE2K_PROM_BYTES) {
                promWindow[a] = byte // a PROM ignores the write
            }
        }
        advance(n)
    }

    // MARK: the receive filter

    /// Whether the address filter stores a frame for `dst` (DP8390D: PRO
    /// takes every physical address, AB broadcast, AM the multicast groups
    /// whose hash bit is set in MAR, else PAR must match; with
    /// ``qemuPROMWindow``, the window's even bytes 0-10 instead of PAR).
    public func accepts(_ dst: MACAddress) -> Bool {
        if dst == .broadcast { return rcr & UInt8(NE2K_RCR_AB) != 0 }
        if dst.isMulticast {
            guard rcr & UInt8(NE2K_RCR_AM) != 0 else { return false }
            let bit = dst.multicastHashBit
            return mar[bit >> 3] & (1 << UInt8(bit & 7)) != 0
        }
        let station = qemuPROMWindow ? stride(from: 0, to: 12, by: 2).map { promWindow[$0] } : par
        return rcr & UInt8(NE2K_RCR_PRO) != 0 || station == dst.bytes
    }

    public var irqAsserted: Bool { isr & imr & 0x7f != 0 }

    public func tick(nanos: UInt64, memory: SimMemory) {}

    /// The longest frame the receiver must find room for (QEMU's
    /// MAX_ETH_FRAME_SIZE), and the shortest it stores.
    static let maxFrame = 1514, minFrame = 60

    /// A frame from the wire (ne2000_receive): into the card's ring at
    /// CURR. Returns whether it was stored. `memory` is unused: the ring
    /// is on the card.
    @discardableResult
    public func receive(_ frame: [UInt8], memory _: SimMemory) -> Bool {
        guard !absent, linkUp, cr & UInt8(NE2K_CR_STP) == 0, rcr & UInt8(NE2K_RCR_MON) == 0, frame.count >= 14,
              pstart >= UInt8(NE2K_MEM_START_PG), pstop <= UInt8(NE2K_MEM_STOP_PG), pstart < pstop,
              let dst = MACAddress(bytes: Array(frame[0..<6])) else { return false }
        guard accepts(dst) else { filtered += 1; return false }
        let page = Int(NE2K_PAGE_SIZE), start = Int(pstart) * page, stop = Int(pstop) * page
        let index = Int(curr) * page, boundary = Int(bnry) * page
        let avail = index < boundary ? boundary - index : (stop - start) - (index - boundary)
        guard avail >= Self.maxFrame + 4 + page, index >= start, index < stop else {
            missed += 1
            if counters[2] < 0xff { counters[2] += 1 }
            return false
        }
        var data = frame
        if data.count < Self.minFrame { data += [UInt8](repeating: 0, count: Self.minFrame - data.count) }
        let total = data.count + Int(NE2K_RX_HDR_LEN)
        var next = Int(curr) + (total + page - 1) / page
        if next >= Int(pstop) { next -= Int(pstop) - Int(pstart) }
        let rsr = UInt8(NE2K_RSR_PRX) | (dst.isMulticast ? UInt8(NE2K_RSR_PHY) : 0)
        let bytes = [rsr, UInt8(next), UInt8(total & 0xff), UInt8(total >> 8)] + data
        var a = index
        for b in bytes {
            self.memory[a] = b
            a += 1
            if a == stop { a = start }
        }
        curr = UInt8(next)
        isr |= UInt8(NE2K_ISR_PRX)
        return true
    }

    /// 0x00-0x0f: CR and page 0 as read (the counters not cleared);
    /// 0x10-0x1f: page 1 at 0x10 + offset (PAR at 0x11, CURR 0x17, MAR 0x18).
    public func snapshot() -> [UInt8] {
        let saved = cr
        var out = [cr]
        cr = saved & ~UInt8(NE2K_CR_PAGE_MASK)
        out += (1...15).map { pagedRead(UInt32($0), clearing: false) }
        cr = cr | UInt8(NE2K_CR_PAGE1)
        out += [0] + (1...15).map { pagedRead(UInt32($0), clearing: false) }
        cr = saved
        return out
    }
}
