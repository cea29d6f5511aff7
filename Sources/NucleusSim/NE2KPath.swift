// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import XPC

/// The NE2000 (RTL8029) data path, module/ne2k.c's. The chip does not
/// master the bus, so there are no DMA objects: every frame moves by
/// programmed I/O through the remote DMA window into or out of the card's
/// own packet memory. start_xmit does a block output into one of the two
/// ping-pong transmit slots (NE2K_TX_START_PG, 6 pages each) and starts it
/// if the transmitter is idle; the interrupt handler serves transmit
/// completion (the other slot's frame goes next) and hands receive to the
/// poll, which walks the ring from BNRY to CURR with block input and moves
/// BNRY. DATAPATH_ENABLE reads the ring (PSTART, PSTOP) back from page 2.
/// Every section selects the page it needs and leaves page 0, never
/// changing the run state. Its data-path registers (ne2k_datapath_reg):
/// the whole BAR but 0x11-0x1e.
///
/// Not mirrored: the kernel's ring-overrun recovery (ei_rx_overrun), since
/// the model, like QEMU's ne2000, drops a frame for which the ring has no
/// room instead of raising OVW.
final class NE2KPath: SimNICPath {
    static let maxService = 12
    static let slotBytes = Int(NE2K_TX_SLOT_PAGES * NE2K_PAGE_SIZE)
    static let minRxPages = 7
    static let maxFrame = 1518
    static let ethZLen = 60
    static let napiBudget = 64

    let model: NE2KModel
    var nic: any SimNICModel { model }
    private var rxStart: UInt8 = 0, rxStop: UInt8 = 0
    /// As 8390.c's ei_device: a slot's frame length, -1 while on the wire, 0 free.
    private var tx1 = 0, tx2 = 0
    private var txing = false

    init(model: NE2KModel) { self.model = model }

    private func rd(_ r: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: model.read(offset: r, width: 1)) }
    private func wr(_ r: UInt32, _ v: UInt32) { model.write(offset: r, width: 1, value: v & 0xff) }
    private var run: UInt32 { UInt32(rd(NE2K_CR)) & NE2K_CR_RUN_MASK }

    /// Selects `page`, remote DMA idle, the run state kept.
    private func page(_ p: UInt32) { wr(NE2K_CR, run | NE2K_CR_RD_ABORT | p) }

    /// PAR0-5 (page 1).
    var registerMAC: MACAddress? {
        page(NE2K_CR_PAGE1)
        defer { page(NE2K_CR_PAGE0) }
        return MACAddress(bytes: (0..<6).map { rd(NE2K_P1_PAR0 + UInt32($0)) })
    }

    /// Starts a remote DMA of `count` bytes at card address `addr`.
    private func remoteDMA(_ addr: Int, _ count: Int, _ dir: UInt32) {
        let r = run
        wr(NE2K_CR, r | NE2K_CR_RD_ABORT | NE2K_CR_PAGE0)
        wr(NE2K_P0_RBCR0, UInt32(count & 0xff))
        wr(NE2K_P0_RBCR1, UInt32(count >> 8))
        wr(NE2K_P0_RSAR0, UInt32(addr & 0xff))
        wr(NE2K_P0_RSAR1, UInt32(addr >> 8))
        wr(NE2K_CR, r | dir | NE2K_CR_PAGE0)
    }

    /// ne2k_block_input: `len` bytes at `addr`, 32 bits at a time.
    private func blockInput(_ addr: Int, _ len: Int) -> [UInt8] {
        let padded = (len + 3) & ~3
        remoteDMA(addr, padded, NE2K_CR_RD_READ)
        var out: [UInt8] = []
        out.reserveCapacity(padded)
        for _ in 0..<(padded / 4) {
            let w = model.read(offset: NE2K_DATAPORT, width: 4)
            out += (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) }
        }
        wr(NE2K_P0_ISR, NE2K_ISR_RDC)
        return Array(out.prefix(len))
    }

    /// ne2k_block_output: `data` (padded to 4 bytes) to `page`.
    private func blockOutput(_ data: [UInt8], toPage p: UInt32) {
        var d = data
        while d.count % 4 != 0 { d.append(0) }
        wr(NE2K_P0_ISR, NE2K_ISR_RDC)
        remoteDMA(Int(p) << 8, d.count, NE2K_CR_RD_WRITE)
        for i in stride(from: 0, to: d.count, by: 4) {
            let w = (0..<4).reduce(UInt32(0)) { $0 | UInt32(d[i + $1]) << (8 * UInt32($1)) }
            model.write(offset: NE2K_DATAPORT, width: 4, value: w)
        }
        wr(NE2K_P0_ISR, NE2K_ISR_RDC)
    }

    /// NS8390_trigger_send, page 0 selected.
    private func triggerSend(_ len: Int, _ p: UInt32) {
        guard UInt32(rd(NE2K_CR)) & NE2K_CR_TXP == 0 else { return }
        wr(NE2K_P0_TBCR0, UInt32(len & 0xff))
        wr(NE2K_P0_TBCR1, UInt32(len >> 8))
        wr(NE2K_P0_TPSR, p)
        wr(NE2K_CR, run | NE2K_CR_RD_ABORT | NE2K_CR_TXP)
    }

    /// ne2k_enable: the ring from page 2's PSTART/PSTOP.
    func enable(_ n: NetDev, memory: SimMemory, instance: UInt32, reattach: Bool) throws(NetEnableError) {
        page(NE2K_CR_PAGE2)
        let start = rd(NE2K_P2_PSTART), stop = rd(NE2K_P2_PSTOP)
        page(NE2K_CR_PAGE0)
        guard UInt32(start) >= NE2K_TX_START_PG + NE2K_TX_PAGES, Int(stop) >= Int(start) + Self.minRxPages,
              UInt32(stop) <= NE2K_MEM_STOP_PG else {
            throw NetEnableError(errno: 22, attribute: nil,
                                 message: "the receive ring (PSTART, PSTOP) overlaps the transmit slots or leaves the packet memory")
        }
        (rxStart, rxStop) = (start, stop)
        if !reattach { (tx1, tx2, txing) = (0, 0, false) }
    }

    /// ei_start_xmit.
    func startXmit(_ n: NetDev, _ frame: [UInt8]) -> Bool {
        guard frame.count <= Self.slotBytes else { n.stats.txDropped += 1; return true }
        guard n.datapath, tx1 == 0 || tx2 == 0 else { n.txBusy += 1; return false }
        let len = max(frame.count, Self.ethZLen)
        let slot: UInt32
        if tx1 == 0 {
            slot = NE2K_TX_START_PG
            tx1 = len
        } else {
            slot = NE2K_TX_START_PG + NE2K_TX_SLOT_PAGES
            tx2 = len
        }
        page(NE2K_CR_PAGE0)
        blockOutput(frame + [UInt8](repeating: 0, count: len - frame.count), toPage: slot)
        if !txing {
            txing = true
            triggerSend(len, slot)
            if slot == NE2K_TX_START_PG { tx1 = -1 } else { tx2 = -1 }
        }
        n.stats.txBytes += UInt64(len)
        return true
    }

    /// ei_tx_intr: a slot went out; the other one's frame goes next.
    private func txInterrupt(_ n: NetDev) {
        let tsr = UInt32(rd(NE2K_P0_TSR))
        wr(NE2K_P0_ISR, NE2K_ISR_PTX)
        if tx1 < 0 {
            tx1 = 0
            if tx2 > 0 {
                triggerSend(tx2, NE2K_TX_START_PG + NE2K_TX_SLOT_PAGES)
                tx2 = -1
            } else {
                txing = false
            }
        } else if tx2 < 0 {
            tx2 = 0
            if tx1 > 0 {
                triggerSend(tx1, NE2K_TX_START_PG)
                tx1 = -1
            } else {
                txing = false
            }
        }
        if tsr & NE2K_TSR_PTX != 0 { n.stats.txPackets += 1 } else { n.stats.txErrors += 1 }
    }

    /// ei_tx_err: an aborted or underrun frame frees its slot like a sent one.
    private func txError(_ n: NetDev) {
        let tsr = UInt32(rd(NE2K_P0_TSR))
        wr(NE2K_P0_ISR, NE2K_ISR_TXE)
        if tsr & (NE2K_TSR_ABT | NE2K_TSR_FU) != 0 { txInterrupt(n) } else { n.stats.txErrors += 1 }
    }

    /// ei_interrupt: transmit served here, receive to the poll with its
    /// interrupts masked until the poll is done.
    func interrupt(_ n: NetDev, deliver: ([UInt8]) -> Void) {
        guard n.datapath else { return }
        page(NE2K_CR_PAGE0)
        var served = 0, napi = false
        while served < Self.maxService {
            let isr = UInt32(rd(NE2K_P0_ISR))
            guard isr != 0xff, isr & NE2K_IMR_DATAPATH != 0 else { break }
            if isr & NE2K_ISR_RX_ALL != 0 {
                wr(NE2K_P0_IMR, NE2K_IMR_DATAPATH & ~NE2K_ISR_RX_ALL)
                napi = true
            }
            if isr & NE2K_ISR_PTX != 0 {
                txInterrupt(n)
            } else if isr & NE2K_ISR_TXE != 0 {
                txError(n)
            }
            if isr & NE2K_ISR_RDC != 0 { wr(NE2K_P0_ISR, NE2K_ISR_RDC) }
            served += 1
            if isr & NE2K_ISR_TX_ALL == 0 { break }
        }
        if napi { while poll(n, deliver: deliver) == Self.napiBudget {} }
    }

    /// The ring page after `p`; one outside the ring wraps to its start.
    private func ringNext(_ p: UInt8) -> UInt8 { p + 1 >= rxStop || p + 1 < rxStart ? rxStart : p + 1 }

    /// One frame of ei_receive: nil when the ring is empty.
    private func rxOne(_ n: NetDev) -> [UInt8]?? {
        page(NE2K_CR_PAGE1)
        let curr = rd(NE2K_P1_CURR)
        page(NE2K_CR_PAGE0)
        let this = ringNext(rd(NE2K_P0_BNRY))
        guard this != curr else { return nil }
        let hdr = blockInput(Int(this) << 8, Int(NE2K_RX_HDR_LEN))
        let len = (Int(hdr[2]) | Int(hdr[3]) << 8) - Int(NE2K_RX_HDR_LEN)
        let ringPages = Int(rxStop) - Int(rxStart)
        var next = Int(this) + 1 + ((len + 4) >> 8)
        var frame: [UInt8]?
        if ![next, next + 1, next - ringPages, next + 1 - ringPages].contains(Int(hdr[1])) {
            n.stats.rxErrors += 1 // a bogus header: skip to CURR
            next = Int(curr)
        } else {
            if len < Self.ethZLen || len > Self.maxFrame {
                n.stats.rxErrors += 1
            } else if UInt32(hdr[0]) & 0x0f == NE2K_RSR_PRX {
                frame = blockInput((Int(this) << 8) + Int(NE2K_RX_HDR_LEN), len)
                n.stats.rxPackets += 1
                n.stats.rxBytes += UInt64(len)
                if UInt32(hdr[0]) & NE2K_RSR_PHY != 0 { n.stats.multicast += 1 }
            } else {
                n.stats.rxErrors += 1
            }
            next = Int(hdr[1])
            if next >= Int(rxStop) || next < Int(rxStart) { next = Int(rxStart) }
        }
        wr(NE2K_P0_BNRY, UInt32(next == Int(rxStart) ? rxStop - 1 : UInt8(next) - 1))
        return .some(frame)
    }

    /// ne2k_poll: frames until the ring is empty, acknowledged and looked
    /// at once more; then the receive interrupts back on.
    private func poll(_ n: NetDev, deliver: ([UInt8]) -> Void) -> Int {
        guard n.datapath else { return 0 }
        var work = 0
        while work < Self.napiBudget {
            page(NE2K_CR_PAGE0)
            var got = rxOne(n)
            if got == nil {
                wr(NE2K_P0_ISR, NE2K_ISR_PRX | NE2K_ISR_RXE)
                got = rxOne(n)
            }
            guard let taken = got else { break }
            if let frame = taken { deliver(frame) }
            work += 1
        }
        if work < Self.napiBudget && n.datapath {
            page(NE2K_CR_PAGE0)
            wr(NE2K_P0_IMR, NE2K_IMR_DATAPATH)
        }
        return work
    }

    /// No interrupts from a chip nobody serves (IMR 0).
    func quiesce(_ n: NetDev) {
        page(NE2K_CR_PAGE0)
        wr(NE2K_P0_IMR, 0)
    }

    /// ne2k_info: PAR0-5 and MAR0-7 from page 1, RCR from page 2 (the
    /// DP8390's read-back, which this model has; the kernel keeps a copy of
    /// the last RCR written because QEMU's ne2000 reads 0 there).
    func info(_ n: NetDev) -> [XPCAttribute] {
        page(NE2K_CR_PAGE1)
        let mac = (0..<6).map { rd(NE2K_P1_PAR0 + UInt32($0)) }
        let mar = (0..<8).map { rd(NE2K_P1_MAR0 + UInt32($0)) }
        page(NE2K_CR_PAGE2)
        let rcr = UInt32(rd(NE2K_P2_RCR))
        page(NE2K_CR_PAGE0)
        let filter = mar.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        var flags: UInt32 = 0
        if rcr & NE2K_RCR_PRO != 0 { flags |= UInt32(DRVXPC_RX_PROMISC) }
        if rcr & NE2K_RCR_AM != 0 && filter == .max { flags |= UInt32(DRVXPC_RX_ALLMULTI) }
        var a: [XPCAttribute] = []
        if let m = MACAddress(bytes: mac) { a.append(.mac(.mac, m)) }
        a += [.u32(.rxFlags, flags), .u64(.mcFilter, filter), .binary(.mcHash, mar)]
        return a
    }
}

extension NE2KPath {
    /// ne2k_write_check: the chip masters no DMA, so only while the data
    /// path is on are there rules, ``runningCheck(_:)``'s.
    func checkWrite(_ w: RegisterWrite, memory: SimMemory, instance: UInt32, dataPathOn: Bool) -> WriteRefusal? {
        dataPathOn ? runningCheck(w) : nil
    }

    /// ne2k_running_check: while the data path is the nucleus's, CR does not
    /// stop a started chip (no STP where it reads clear, STA not cleared
    /// where it reads set; a page switch writes both back as they read), the
    /// reset port is not written, and on page 0 IMR keeps the data path's
    /// interrupts, RCR leaves monitor mode off and TCR loopback off. A
    /// u-driver that went wrong could otherwise leave a chip that reads back
    /// as configured and moves no frame, which a reattach would adopt as it
    /// is. Each byte register is checked in whatever lane of a write reaches
    /// it.
    func runningCheck(_ w: RegisterWrite) -> WriteRefusal? {
        let cr = UInt32(rd(NE2K_CR))
        if let v = lane(w, NE2K_CR),
           v & NE2K_CR_STP != 0 && cr & NE2K_CR_STP == 0 || v & NE2K_CR_STA == 0 && cr & NE2K_CR_STA != 0 {
            return .notPermitted("CR: a started chip stays started (no STP, STA kept) while DATAPATH_ON")
        }
        if lane(w, NE2K_RESET) != nil {
            return .notPermitted("the reset port: no board reset while DATAPATH_ON")
        }
        guard cr & NE2K_CR_PAGE_MASK == NE2K_CR_PAGE0 else { return nil }
        if let v = lane(w, NE2K_P0_IMR), v & NE2K_IMR_DATAPATH != NE2K_IMR_DATAPATH {
            return .notPermitted("IMR: the data path's interrupts stay unmasked while DATAPATH_ON")
        }
        if let v = lane(w, NE2K_P0_RCR), v & NE2K_RCR_MON != 0 {
            return .notPermitted("RCR.MON: the receiver stores frames while DATAPATH_ON")
        }
        if let v = lane(w, NE2K_P0_TCR), v & NE2K_TCR_LB_MASK != 0 {
            return .notPermitted("TCR: no loopback while DATAPATH_ON")
        }
        return nil
    }

    /// ne2k_lane: the byte `w` puts at the byte register `reg`, or nil if it
    /// does not reach it.
    private func lane(_ w: RegisterWrite, _ reg: UInt32) -> UInt32? {
        guard w.touches(reg, 1) else { return nil }
        return (w.value >> ((reg &- w.offset) &* 8)) & 0xff
    }
}
