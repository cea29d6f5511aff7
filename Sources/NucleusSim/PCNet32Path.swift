// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import XPC

/// The PCnet32 data path, module/pcnet32.c's, SWSTYLE 2: DATAPATH_ENABLE
/// finds the INIT_BLOCK, RX_RING, TX_RING, RX_BUFFERS and TX_BUFFERS
/// objects and, unless reattaching, fills the descriptors (every receive
/// buffer to the chip) and the init block — ring bases and lengths, and
/// mode, address and filter read back from CSR15, CSR12-14 and CSR8-11 —
/// which the u-driver's INIT then loads. start_xmit hands a descriptor over
/// and demands a transmit poll (CSR0 TDMD); the interrupt handler
/// acknowledges CSR0's sources without INEA and masks CSR3 for the poll,
/// which takes received frames (CRC cut), gives their descriptors back,
/// reaps sent ones and unmasks. Every CSR is reached through RAP, which is
/// put back after each section. Its data-path registers (the kernel's
/// pcnet32_datapath_reg): RDP, RAP, RESET and BDP.
final class PCNet32Path: SimNICPath {
    static let bufSize = Int(PCNET32_PKT_BUF_SIZE), descSize = Int(PCNET32_DESC_SIZE)
    static let maxEntries = 1 << Int(PCNET32_LOG_MAX_BUFFERS)
    static let ethZLen = 60
    static let napiBudget = 64

    let model: PCNet32Model
    var nic: any SimNICModel { model }
    private var ib: SimMemory.Buffer?, rxRing: SimMemory.Buffer?, txRing: SimMemory.Buffer?
    private var rxBuf: SimMemory.Buffer?, txBuf: SimMemory.Buffer?
    private var rxSize = 0, txSize = 0
    private var curRx = 0, curTx = 0, dirtyTx = 0
    /// The downcall under way wrote CSR5.SPND (pcnet32.c's spnd_written).
    private var spndWritten = false

    init(model: PCNet32Model) { self.model = model }

    // CSR access through RAP and RDP; callers save and restore RAP.
    private func csrRead(_ i: UInt32) -> UInt16 {
        model.write(offset: PCNET32_WIO_RAP, width: 2, value: i)
        return UInt16(truncatingIfNeeded: model.read(offset: PCNET32_WIO_RDP, width: 2))
    }
    private func csrWrite(_ i: UInt32, _ v: UInt16) {
        model.write(offset: PCNET32_WIO_RAP, width: 2, value: i)
        model.write(offset: PCNET32_WIO_RDP, width: 2, value: UInt32(v))
    }
    /// Runs `body` with RAP put back afterwards.
    private func keepingRAP<R>(_ body: () -> R) -> R {
        let rap = model.read(offset: PCNET32_WIO_RAP, width: 2)
        defer { model.write(offset: PCNET32_WIO_RAP, width: 2, value: rap) }
        return body()
    }

    /// PADR (CSR12-14).
    var registerMAC: MACAddress? {
        keepingRAP { MACAddress(bytes: (0..<3).flatMap { i -> [UInt8] in
            let w = csrRead(PCNET32_CSR12 + UInt32(i))
            return [UInt8(w & 0xff), UInt8(w >> 8)]
        }) }
    }

    /// Entries a ring object holds: a power of two, at most 512.
    private static func entries(_ b: SimMemory.Buffer) -> Int {
        let n = min(b.bytes.count / descSize, maxEntries)
        guard n > 0 else { return 0 }
        return 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
    }

    /// pcnet32_enable.
    func enable(_ n: NetDev, memory: SimMemory, instance: UInt32, reattach: Bool) throws(NetEnableError) {
        func object(_ role: UInt8, _ min: Int) -> SimMemory.Buffer? {
            memory.buffer(of: instance, role: role).flatMap { $0.bytes.count >= min ? $0 : nil }
        }
        guard let newIB = object(ObjectRole.initBlock, Int(PCNET32_IB_SIZE)),
              let newRx = object(ObjectRole.rxRing, Self.descSize), let newTx = object(ObjectRole.txRing, Self.descSize) else {
            throw NetEnableError(errno: 2, attribute: .objectRole, message: "no INIT_BLOCK, RX_RING or TX_RING object")
        }
        let rxN = Self.entries(newRx), txN = Self.entries(newTx)
        guard let newRxBuf = object(ObjectRole.rxBuffers, rxN * Self.bufSize),
              let newTxBuf = object(ObjectRole.txBuffers, txN * Self.bufSize) else {
            throw NetEnableError(errno: 2, attribute: .objectRole, message: "no RX_BUFFERS / TX_BUFFERS of 1544 bytes per ring entry")
        }
        guard (newIB.busAddress | newRx.busAddress | newTx.busAddress) & UInt32(Self.descSize - 1) == 0 else {
            throw NetEnableError(errno: 22, attribute: .objectRole, message: "a ring or the init block is not 16-byte aligned")
        }
        if reattach {
            guard ib === newIB, rxRing === newRx, txRing === newTx, rxBuf === newRxBuf, txBuf === newTxBuf else {
                throw NetEnableError(errno: 22, attribute: .objectRole, message: "reattach to rings the data path does not run on")
            }
            return
        }
        if txRing != nil { n.stats.txDropped += UInt64(curTx - dirtyTx) }
        (ib, rxRing, txRing, rxBuf, txBuf) = (newIB, newRx, newTx, newRxBuf, newTxBuf)
        (rxSize, txSize) = (rxN, txN)
        (curRx, curTx, dirtyTx) = (0, 0, 0)
        fill(ib: newIB, rx: newRx, tx: newTx, rxBuf: newRxBuf)
    }

    /// pcnet32_init_ring and the init block.
    private func fill(ib: SimMemory.Buffer, rx: SimMemory.Buffer, tx: SimMemory.Buffer, rxBuf: SimMemory.Buffer) {
        for i in 0..<rxSize {
            let d = i * Self.descSize
            rx.setLE32(d + Int(PCNET32_DESC_BASE), rxBuf.busAddress + UInt32(i * Self.bufSize))
            rx.setLE16(d + Int(PCNET32_DESC_LENGTH), UInt16(truncatingIfNeeded: -Self.bufSize))
            rx.setLE32(d + Int(PCNET32_DESC_MISC), 0)
            rx.setLE32(d + 12, 0)
            rx.setLE16(d + Int(PCNET32_DESC_STATUS), UInt16(PCNET32_RMD_OWN))
        }
        for i in 0..<txSize { tx.copyIn([UInt8](repeating: 0, count: Self.descSize), at: i * Self.descSize) }
        keepingRAP {
            ib.setLE16(Int(PCNET32_IB_MODE), csrRead(PCNET32_CSR15))
            for i in 0..<3 { ib.setLE16(Int(PCNET32_IB_PADR) + 2 * i, csrRead(PCNET32_CSR12 + UInt32(i))) }
            for i in 0..<4 { ib.setLE16(Int(PCNET32_IB_FILTER) + 2 * i, csrRead(PCNET32_CSR8 + UInt32(i))) }
        }
        let log2 = { (v: Int) in UInt16(Int.bitWidth - 1 - v.leadingZeroBitCount) }
        ib.setLE16(Int(PCNET32_IB_TLEN_RLEN), log2(txSize) << UInt16(PCNET32_IB_TLEN_SHIFT) | log2(rxSize) << UInt16(PCNET32_IB_RLEN_SHIFT))
        ib.setLE32(Int(PCNET32_IB_RX_RING), rx.busAddress)
        ib.setLE32(Int(PCNET32_IB_TX_RING), tx.busAddress)
    }

    /// pcnet32_start_xmit.
    func startXmit(_ n: NetDev, _ frame: [UInt8]) -> Bool {
        guard frame.count <= Self.bufSize else { n.stats.txDropped += 1; return true }
        guard n.datapath, let txRing, let txBuf, curTx - dirtyTx < txSize else { n.txBusy += 1; return false }
        let entry = curTx & (txSize - 1)
        var f = frame
        if f.count < Self.ethZLen { f += [UInt8](repeating: 0, count: Self.ethZLen - f.count) }
        txBuf.copyIn(f, at: entry * Self.bufSize)
        let d = entry * Self.descSize
        txRing.setLE32(d + Int(PCNET32_DESC_BASE), txBuf.busAddress + UInt32(entry * Self.bufSize))
        txRing.setLE16(d + Int(PCNET32_DESC_LENGTH), UInt16(truncatingIfNeeded: -f.count))
        txRing.setLE32(d + Int(PCNET32_DESC_MISC), 0)
        txRing.setLE16(d + Int(PCNET32_DESC_STATUS), UInt16(PCNET32_TMD_SEND))
        curTx += 1
        keepingRAP { csrWrite(PCNET32_CSR0, UInt16(PCNET32_CSR0_INEA | PCNET32_CSR0_TDMD)) }
        return true
    }

    /// pcnet32_interrupt and the poll it schedules.
    func interrupt(_ n: NetDev, deliver: ([UInt8]) -> Void) {
        let schedule: Bool = keepingRAP {
            let csr0 = csrRead(PCNET32_CSR0)
            guard csr0 != 0xffff, csr0 & UInt16(PCNET32_CSR0_SOURCES) != 0 else { return false } // IRQ_NONE
            // The acknowledgement leaves INEA out: quiet until the poll is done.
            csrWrite(PCNET32_CSR0, csr0 & ~UInt16(PCNET32_CSR0_COMMANDS))
            guard n.datapath else { return false } // silenced, not served
            if csr0 & UInt16(PCNET32_CSR0_BABL) != 0 { n.stats.txErrors += 1 }
            if csr0 & UInt16(PCNET32_CSR0_MISS) != 0 { n.stats.rxErrors += 1 }
            csrWrite(PCNET32_CSR3, csrRead(PCNET32_CSR3) | UInt16(PCNET32_CSR3_MASK_ALL))
            return true
        }
        guard schedule else { return }
        while poll(n, deliver: deliver) == Self.napiBudget {}
    }

    /// pcnet32_poll: frames until a descriptor the chip owns, each given
    /// back; transmit completion; interrupts on again.
    private func poll(_ n: NetDev, deliver: ([UInt8]) -> Void) -> Int {
        guard n.datapath, let rxRing, let rxBuf else { return 0 }
        var work = 0
        while work < Self.napiBudget {
            let entry = curRx & (rxSize - 1), d = entry * Self.descSize
            let status = rxRing.le16(d + Int(PCNET32_DESC_STATUS))
            guard status & UInt16(PCNET32_RMD_OWN) == 0 else { break }
            rxFrame(n, status: status, mcnt: rxRing.le32(d + Int(PCNET32_DESC_MISC)), rxBuf, entry, deliver: deliver)
            rxRing.setLE16(d + Int(PCNET32_DESC_LENGTH), UInt16(truncatingIfNeeded: -Self.bufSize))
            rxRing.setLE32(d + Int(PCNET32_DESC_MISC), 0)
            rxRing.setLE16(d + Int(PCNET32_DESC_STATUS), UInt16(PCNET32_RMD_OWN))
            curRx += 1
            work += 1
        }
        txDone(n)
        if work < Self.napiBudget {
            keepingRAP {
                csrWrite(PCNET32_CSR3, csrRead(PCNET32_CSR3) & UInt16(PCNET32_CSR3_KEEP))
                csrWrite(PCNET32_CSR0, UInt16(PCNET32_CSR0_INEA))
            }
        }
        return work
    }

    /// pcnet32_rx_entry: one frame up, copied out of its buffer.
    private func rxFrame(_ n: NetDev, status: UInt16, mcnt: UInt32, _ rxBuf: SimMemory.Buffer, _ entry: Int,
                         deliver: ([UInt8]) -> Void) {
        guard UInt32(status) & 0xff00 == PCNET32_RMD_GOOD else {
            if UInt32(status) & PCNET32_RMD_ERR != 0 { n.stats.rxErrors += 1 }
            return
        }
        let len = Int(mcnt & PCNET32_RMD_MCNT_MASK) - 4
        guard len >= Self.ethZLen, len <= Self.bufSize, let frame = rxBuf.slice(entry * Self.bufSize, len) else {
            n.stats.rxErrors += 1
            return
        }
        n.stats.rxPackets += 1
        n.stats.rxBytes += UInt64(len)
        if frame[0] & 1 != 0 { n.stats.multicast += 1 }
        deliver(frame)
    }

    /// pcnet32_tx: reap what the chip sent.
    private func txDone(_ n: NetDev) {
        guard let txRing else { return }
        while dirtyTx != curTx {
            let d = (dirtyTx & (txSize - 1)) * Self.descSize
            let status = txRing.le16(d + Int(PCNET32_DESC_STATUS))
            guard status & UInt16(PCNET32_TMD_OWN) == 0 else { break }
            if status & UInt16(PCNET32_TMD_ERR) != 0 {
                n.stats.txErrors += 1
            } else {
                n.stats.txPackets += 1
                n.stats.txBytes += UInt64((~txRing.le16(d + Int(PCNET32_DESC_LENGTH)) &+ 1) & UInt16(PCNET32_BCNT_MASK))
            }
            txRing.setLE32(d + Int(PCNET32_DESC_BASE), 0)
            dirtyTx += 1
        }
    }

    /// pcnet32 has no quiesce hook: with the data path off its interrupt
    /// handler acknowledges and leaves INEA off, so the chip goes quiet.
    func quiesce(_ n: NetDev) {}

    /// pcnet32_info: PADR (CSR12-14), PROM (CSR15), LADRF (CSR8-11).
    func info(_ n: NetDev) -> [XPCAttribute] {
        let (mode, words, ladrf): (UInt16, [UInt16], [UInt16]) = keepingRAP {
            (csrRead(PCNET32_CSR15), (0..<3).map { csrRead(PCNET32_CSR12 + UInt32($0)) },
             (0..<4).map { csrRead(PCNET32_CSR8 + UInt32($0)) })
        }
        let filter = ladrf.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (16 * UInt64($1.offset)) }
        var flags: UInt32 = 0
        if mode & UInt16(PCNET32_MODE_PROM) != 0 { flags |= UInt32(DRVXPC_RX_PROMISC) }
        if filter == .max { flags |= UInt32(DRVXPC_RX_ALLMULTI) }
        var a: [XPCAttribute] = []
        if let mac = MACAddress(bytes: words.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }) { a.append(.mac(.mac, mac)) }
        a += [.u32(.rxFlags, flags), .u64(.mcFilter, filter),
              .binary(.mcHash, ladrf.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] })]
        return a
    }
}

extension PCNet32Path {
    /// pcnet32_write_check: word I/O only (a 32-bit write to RDP would
    /// switch the chip to DWIO); through RDP, CSR1/CSR2 (the init block's
    /// address) take REG_WRITE_DMA's only, the rings' bases and lengths
    /// come from the init block the nucleus fills, and CSR0's INIT reads
    /// the block only once DATAPATH_ENABLE filled the one CSR1/CSR2 name;
    /// while the data path is on, ``runningCheck(rap:value:)``'s rules too;
    /// through BDP, BCR20 keeps SWSTYLE 2.
    func checkWrite(_ w: RegisterWrite, memory: SimMemory, instance: UInt32, dataPathOn: Bool) -> WriteRefusal? {
        guard w.touches(PCNET32_WIO_RDP, PCNET32_IO_SIZE - PCNET32_WIO_RDP) else { return nil }
        let dmaRefused = WriteRefusal.notPermitted("REG_WRITE_DMA goes to CSR1/CSR2 only (through RDP)")
        if w.width == 4 { return .notPermitted("the PCnet is driven in word I/O: no 32-bit access to RDP..BDP") }
        let rap = model.read(offset: PCNET32_WIO_RAP, width: 2) & (PCNET32_NUM_CSR - 1)
        if w.offset == PCNET32_WIO_BDP {
            if w.dma { return dmaRefused }
            if rap == PCNET32_BCR20 && w.value & PCNET32_SWSTYLE_MASK != PCNET32_SWSTYLE_PCNET32 {
                return .invalid("BCR20: SWSTYLE stays 2 (the nucleus writes 32-bit structures)")
            }
            return nil
        }
        let iadr = rap == PCNET32_CSR1 || rap == PCNET32_CSR2
        guard w.offset == PCNET32_WIO_RDP, !w.dma || iadr else { return w.dma ? dmaRefused : nil }
        if iadr { return w.dma ? nil : .notPermitted("CSR1/CSR2 (the init block's address) take REG_WRITE_DMA's only") }
        if [PCNET32_CSR24, PCNET32_CSR25, PCNET32_CSR30, PCNET32_CSR31, PCNET32_CSR76, PCNET32_CSR78].contains(rap) {
            return .notPermitted("CSR24/25/30/31/76/78 come from the init block the nucleus fills")
        }
        if dataPathOn, let refusal = runningCheck(rap: rap, value: w.value) { return refusal }
        if rap == PCNET32_CSR5 && w.value & PCNET32_CSR5_SPND != 0 { spndWritten = true }
        guard rap == PCNET32_CSR0, w.value & PCNET32_CSR0_INIT != 0 else { return nil }
        let block = keepingRAP { UInt32(csrRead(PCNET32_CSR1)) | UInt32(csrRead(PCNET32_CSR2)) << 16 }
        guard let ib, block == ib.busAddress else {
            return .notPermitted("CSR0 INIT before DATAPATH_ENABLE filled the init block CSR1/CSR2 name")
        }
        return nil
    }


    /// pcnet32_writes_done: a running chip is suspended only inside one
    /// downcall (the u-driver's whileSuspended is one REG_SEQ); left
    /// suspended it would receive nothing more while reading back as
    /// configured, so the nucleus ends the suspend, and refuses the
    /// downcall if that one wrote SPND (a suspend a dead u-driver left is
    /// ended for the one that reattaches).
    func writesDone(dataPathOn: Bool) -> WriteRefusal? {
        let written = spndWritten
        spndWritten = false
        guard dataPathOn else { return nil }
        let csr5 = keepingRAP { () -> UInt16 in
            let v = csrRead(PCNET32_CSR5)
            if UInt32(v) & PCNET32_CSR5_SPND != 0 { csrWrite(PCNET32_CSR5, v & ~UInt16(PCNET32_CSR5_SPND)) }
            return v
        }
        guard UInt32(csr5) & PCNET32_CSR5_SPND != 0, written else { return nil }
        return .notPermitted("CSR5.SPND: the running chip left suspended after the downcall (the nucleus ended the suspend)")
    }

    /// pcnet32_running_check: while the data path is the nucleus's, a CSR
    /// write through RDP does not stop it. While the chip runs (CSR0 reads
    /// STOP clear), CSR0 keeps INEA and sets neither STOP nor INIT (a stopped
    /// chip takes any: open and restart INIT it after DATAPATH_ENABLE);
    /// CSR15 keeps the receiver and transmitter on and loopback off; CSR3
    /// leaves RINT and TINT unmasked. A u-driver that went wrong could
    /// otherwise leave a chip that reads back as configured and moves no
    /// frame, which a reattach would adopt as it is.
    func runningCheck(rap: UInt32, value: UInt32) -> WriteRefusal? {
        if rap == PCNET32_CSR0, model.read(offset: PCNET32_WIO_RDP, width: 2) & PCNET32_CSR0_STOP == 0 {
            if value & PCNET32_CSR0_STOP != 0 { return .notPermitted("CSR0.STOP: the chip runs while DATAPATH_ON") }
            if value & PCNET32_CSR0_INIT != 0 {
                return .notPermitted("CSR0.INIT: the running chip does not re-read its init block while DATAPATH_ON")
            }
            if value & PCNET32_CSR0_INEA == 0 {
                return .notPermitted("CSR0.INEA: interrupts stay enabled while DATAPATH_ON")
            }
        }
        if rap == PCNET32_CSR15 && value & PCNET32_MODE_STOPS != 0 {
            return .notPermitted("CSR15: receiver and transmitter on, no loopback, while DATAPATH_ON")
        }
        if rap == PCNET32_CSR3 && value & PCNET32_CSR3_DATAPATH != 0 {
            return .notPermitted("CSR3: RINT and TINT stay unmasked while DATAPATH_ON")
        }
        return nil
    }
}
