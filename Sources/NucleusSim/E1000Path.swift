// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import XPC

/// The 82540EM data path, module/e1000.c's: DATAPATH_ENABLE checks the four
/// rings the u-driver allocated (RX_RING and TX_RING of legacy descriptors,
/// RX_BUFFERS and TX_BUFFERS of 2048 bytes per descriptor) against
/// RDBA/TDBA/RDLEN/TDLEN/RCTL, points every descriptor at its buffer and
/// sets the heads and tails; start_xmit copies into a buffer and moves TDT;
/// the interrupt handler reads ICR, reports a link change (LSC) and masks
/// the chip for the poll, which reaps transmit descriptors, hands received
/// frames up (CRC cut), moves RDT and unmasks (IMS). Its data-path
/// registers (the kernel's e1000_datapath_reg): ICR, ICS, IMS, IMC, RCTL,
/// RDH, RDT, TDH, TDT.
final class E1000Path: SimNICPath {
    static let maxDescriptors: UInt32 = 4096
    static let bufSize = Int(E1000_BUF_SIZE), descSize = Int(E1000_DESC_SIZE)
    /// RCTL bits the u-driver may not set: BSEX, SZ, SECRC.
    static let rctlFixed = E1000_RCTL_BSEX | E1000_RCTL_SZ_MASK | E1000_RCTL_SECRC
    static let napiBudget = 64

    let model: E1000Model
    var nic: any SimNICModel { model }
    private var rxd: SimMemory.Buffer?, txd: SimMemory.Buffer?, rxb: SimMemory.Buffer?, txb: SimMemory.Buffer?
    private var nrx = 0, ntx = 0
    private var rxNext = 0, txNext = 0, txClean = 0
    /// The mask the u-driver opened; the poll restores it.
    private var ims = E1000_IMS_ENABLE_MASK
    private var ready = false

    init(model: E1000Model) { self.model = model }

    private func rd(_ r: UInt32) -> UInt32 { model.read(offset: r, width: 4) }
    private func wr(_ r: UInt32, _ v: UInt32) { model.write(offset: r, width: 4, value: v) }

    /// RAL0/RAH0, if the address is valid.
    var registerMAC: MACAddress? {
        let low = rd(E1000_RAL0), high = rd(E1000_RAH0)
        guard high & E1000_RAH_AV != 0 else { return nil }
        return MACAddress(bytes: [low, low >> 8, low >> 16, low >> 24, high, high >> 8].map { UInt8(truncatingIfNeeded: $0) })
    }

    /// Free transmit descriptors; one stays empty (TDT == TDH: empty).
    private var txFree: Int { ntx - 1 - (txNext - txClean + ntx) % ntx }

    /// e1000_enable.
    func enable(_ n: NetDev, memory: SimMemory, instance: UInt32, reattach: Bool) throws(NetEnableError) {
        let rdlen = rd(E1000_RDLEN), tdlen = rd(E1000_TDLEN)
        let newNrx = Int(rdlen / E1000_DESC_SIZE), newNtx = Int(tdlen / E1000_DESC_SIZE)
        guard rdlen != 0, rdlen % E1000_RING_ALIGN == 0, newNrx <= Int(Self.maxDescriptors),
              tdlen != 0, tdlen % E1000_RING_ALIGN == 0, newNtx <= Int(Self.maxDescriptors) else {
            throw NetEnableError(errno: 22, attribute: nil,
                                 message: "RDLEN/TDLEN must be non-zero multiples of 128 bytes, at most 4096 descriptors")
        }
        func object(_ role: UInt8, _ min: Int) -> SimMemory.Buffer? {
            memory.buffer(of: instance, role: role).flatMap { $0.bytes.count >= min ? $0 : nil }
        }
        guard let newRxd = object(ObjectRole.rxRing, Int(rdlen)), let newTxd = object(ObjectRole.txRing, Int(tdlen)),
              let newRxb = object(ObjectRole.rxBuffers, newNrx * Self.bufSize),
              let newTxb = object(ObjectRole.txBuffers, newNtx * Self.bufSize) else {
            throw NetEnableError(errno: 2, attribute: .objectRole,
                                 message: "no RX_RING/TX_RING of RDLEN/TDLEN bytes or RX_BUFFERS/TX_BUFFERS of 2048 bytes a descriptor")
        }
        guard rd(E1000_RDBAL) == newRxd.busAddress, rd(E1000_RDBAH) == 0,
              rd(E1000_TDBAL) == newTxd.busAddress, rd(E1000_TDBAH) == 0 else {
            throw NetEnableError(errno: 22, attribute: .dmaHandle,
                                 message: "RDBAL/RDBAH and TDBAL/TDBAH must hold the RX_RING and TX_RING objects (REG_WRITE_DMA)")
        }
        guard rd(E1000_RCTL) & Self.rctlFixed == 0 else {
            throw NetEnableError(errno: 22, attribute: nil, message: "RCTL must select 2048-byte buffers, CRC not stripped")
        }
        let keep = reattach && ready && rxd === newRxd && txd === newTxd && rxb === newRxb && txb === newTxb
            && nrx == newNrx && ntx == newNtx
        if !keep {
            for i in 0..<newNrx {
                newRxd.copyIn([UInt8](repeating: 0, count: Self.descSize), at: i * Self.descSize)
                newRxd.setLE32(i * Self.descSize, newRxb.busAddress + UInt32(i * Self.bufSize))
            }
            for i in 0..<newNtx {
                newTxd.copyIn([UInt8](repeating: 0, count: Self.descSize), at: i * Self.descSize)
                newTxd.setLE32(i * Self.descSize, newTxb.busAddress + UInt32(i * Self.bufSize))
            }
            (rxd, txd, rxb, txb, nrx, ntx) = (newRxd, newTxd, newRxb, newTxb, newNrx, newNtx)
            rxNext = 0
            txNext = 0
            txClean = 0
            ims = E1000_IMS_ENABLE_MASK
            // The chip owns [RDH, RDT): all but one descriptor.
            wr(E1000_RDH, 0)
            wr(E1000_RDT, UInt32(nrx - 1))
            wr(E1000_TDH, 0)
            wr(E1000_TDT, 0)
        }
        ready = true
    }

    /// e1000_xmit_frame: copy into the descriptor's buffer, hand it over.
    func startXmit(_ n: NetDev, _ frame: [UInt8]) -> Bool {
        guard frame.count <= Self.bufSize else { n.stats.txDropped += 1; return true }
        guard n.datapath, ready, let txd, let txb, txFree > 0 else { n.txBusy += 1; return false }
        let i = txNext
        txb.copyIn(frame, at: i * Self.bufSize)
        let d = i * Self.descSize
        txd.setLE32(d, txb.busAddress + UInt32(i * Self.bufSize))
        txd.setLE32(d + 4, 0)
        txd.setLE32(d + Int(E1000_TXD_UPPER), 0)
        txd.setLE32(d + Int(E1000_TXD_LOWER), UInt32(frame.count) | E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS)
        txNext = (i + 1) % ntx
        wr(E1000_TDT, UInt32(txNext))
        return true
    }

    /// e1000_intr, then the poll it schedules (the sim runs it at once).
    func interrupt(_ n: NetDev, deliver: ([UInt8]) -> Void) {
        guard n.datapath, ready else { return } // IRQ_NONE
        let icr = rd(E1000_ICR)
        guard icr != 0, icr != 0xffff_ffff else { return }
        if icr & E1000_ICR_LSC != 0 { n.linkEvent = true }
        guard icr & E1000_ICR_DATAPATH != 0 else { return }
        let mask = rd(E1000_IMS)
        if mask != 0 { ims = mask }
        wr(E1000_IMC, E1000_IMC_ALL)
        while poll(n, deliver: deliver) == Self.napiBudget {}
    }

    /// e1000_clean: transmit completion, up to a budget of frames, RDT;
    /// unmasks when done. Returns the frames taken.
    private func poll(_ n: NetDev, deliver: ([UInt8]) -> Void) -> Int {
        guard n.datapath, ready, let rxd, let rxb else { return 0 }
        txCleanUp(n)
        var work = 0
        while work < Self.napiBudget {
            let d = rxNext * Self.descSize
            let status = UInt32(rxd.bytes[d + Int(E1000_RXD_STATUS)])
            guard status & E1000_RXD_STAT_DD != 0 else { break }
            rxOne(n, rxd, rxb, d, status: status, deliver: deliver)
            rxd.bytes[d + Int(E1000_RXD_STATUS)] = 0
            rxd.bytes[d + Int(E1000_RXD_ERRORS)] = 0
            rxNext = (rxNext + 1) % nrx
            work += 1
        }
        if work > 0 { wr(E1000_RDT, UInt32((rxNext + nrx - 1) % nrx)) }
        if work < Self.napiBudget && n.datapath { wr(E1000_IMS, ims) }
        return work
    }

    /// e1000_clean_tx_irq: reap what the chip has sent.
    private func txCleanUp(_ n: NetDev) {
        guard let txd else { return }
        while txClean != txNext {
            let d = txClean * Self.descSize
            guard txd.le32(d + Int(E1000_TXD_UPPER)) & E1000_TXD_STAT_DD != 0 else { break }
            n.stats.txPackets += 1
            n.stats.txBytes += UInt64(txd.le32(d + Int(E1000_TXD_LOWER)) & 0xffff)
            txd.setLE32(d + Int(E1000_TXD_UPPER), 0)
            txClean = (txClean + 1) % ntx
        }
    }

    /// One received descriptor to the stack, the CRC cut off.
    private func rxOne(_ n: NetDev, _ rxd: SimMemory.Buffer, _ rxb: SimMemory.Buffer, _ d: Int, status: UInt32,
                       deliver: ([UInt8]) -> Void) {
        let len = Int(rxd.le16(d + Int(E1000_RXD_LENGTH)))
        let errors = UInt32(rxd.bytes[d + Int(E1000_RXD_ERRORS)])
        guard status & E1000_RXD_STAT_EOP != 0, errors & E1000_RXD_ERR_FRAME == 0, len > 4 + 14, len <= Self.bufSize,
              let frame = rxb.slice(rxNext * Self.bufSize, len - 4) else {
            n.stats.rxErrors += 1
            return
        }
        n.stats.rxPackets += 1
        n.stats.rxBytes += UInt64(frame.count)
        if frame[0] & 1 != 0 { n.stats.multicast += 1 }
        deliver(frame)
    }

    /// No more interrupts from a chip nobody drives.
    func quiesce(_ n: NetDev) { wr(E1000_IMC, E1000_IMC_ALL) }

    /// e1000_info: MAC (RAL0/RAH0), RX_FLAGS (RCTL.UPE/MPE), MC_HASH (the
    /// 4096-bit MTA as a little-endian bitmap).
    func info(_ n: NetDev) -> [XPCAttribute] {
        let rctl = rd(E1000_RCTL)
        var flags: UInt32 = 0
        if rctl & E1000_RCTL_UPE != 0 { flags |= UInt32(DRVXPC_RX_PROMISC) }
        if rctl & E1000_RCTL_MPE != 0 { flags |= UInt32(DRVXPC_RX_ALLMULTI) }
        let hash = model.multicastTable.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        var a: [XPCAttribute] = []
        if let mac = registerMAC { a.append(.mac(.mac, mac)) }
        a += [.u32(.rxFlags, flags), .binary(.mcHash, hash)]
        return a
    }
}

extension E1000Path {
    /// e1000_write_check: RDBAL/TDBAL take the rings' bus addresses by
    /// REG_WRITE_DMA only, RDBAH/TDBAH stay 0; a ring's length fits a ring
    /// object of its role in 128-byte steps; the heads and tails are the
    /// data path's; RCTL keeps 2048-byte buffers and the CRC. While the data
    /// path is on, ``runningCheck(_:)``'s rules too.
    func checkWrite(_ w: RegisterWrite, memory: SimMemory, instance: UInt32, dataPathOn: Bool) -> WriteRefusal? {
        let rings: [(base: UInt32, high: UInt32, length: UInt32, role: UInt8)] = [
            (E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, ObjectRole.rxRing),
            (E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, ObjectRole.txRing),
        ]
        for r in rings {
            if w.touches(r.base), !w.isDMAAddress(at: r.base) || memory.room(bus: w.value, instance: instance) < Int(E1000_RING_ALIGN) {
                return .notPermitted("RDBAL/TDBAL take a ring object, by REG_WRITE_DMA")
            }
            if w.touches(r.high), w.merged(r.high, current: { rd(r.high) }) != 0 {
                return .invalid("RDBAH/TDBAH: DMA addresses are 32-bit (0)")
            }
            guard w.touches(r.length) else { continue }
            let v = w.merged(r.length, current: { rd(r.length) })
            if v % E1000_RING_ALIGN != 0 || v / E1000_DESC_SIZE > Self.maxDescriptors
                || Int(v) > memory.largest(instance: instance, role: r.role) {
                return .invalid("RDLEN/TDLEN: 128-byte steps within a ring object of the role")
            }
        }
        for end in [E1000_RDH, E1000_RDT, E1000_TDH, E1000_TDT] where w.touches(end) {
            return .notPermitted("RDH/RDT/TDH/TDT are the nucleus's data path's")
        }
        if w.touches(E1000_RCTL), w.merged(E1000_RCTL, current: { rd(E1000_RCTL) }) & Self.rctlFixed != 0 {
            return .invalid("RCTL must select 2048-byte buffers, CRC not stripped")
        }
        return dataPathOn ? runningCheck(w) : nil
    }

    /// e1000_running_check: while the data path is the nucleus's, the
    /// receiver and transmitter stay enabled, no reset of the chip, link or
    /// PHY, no IMC, no PHY write through MDIC (DATAPATH_DISABLE first).
    func runningCheck(_ w: RegisterWrite) -> WriteRefusal? {
        if w.touches(E1000_IMC) {
            return .notPermitted("IMC: the interrupt mask is the data path's while DATAPATH_ON")
        }
        if w.touches(E1000_RCTL), w.merged(E1000_RCTL, current: { rd(E1000_RCTL) }) & E1000_RCTL_EN == 0 {
            return .notPermitted("RCTL.EN: the receiver stays on while DATAPATH_ON")
        }
        if w.touches(E1000_TCTL), w.merged(E1000_TCTL, current: { rd(E1000_TCTL) }) & E1000_TCTL_EN == 0 {
            return .notPermitted("TCTL.EN: the transmitter stays on while DATAPATH_ON")
        }
        let resets = E1000_CTRL_RST | E1000_CTRL_PHY_RST | E1000_CTRL_LRST | E1000_CTRL_SLU
        if w.touches(E1000_CTRL), w.merged(E1000_CTRL, current: { rd(E1000_CTRL) }) & resets != E1000_CTRL_SLU {
            return .notPermitted("CTRL: no reset and the link set up while DATAPATH_ON")
        }
        if w.touches(E1000_MDIC), w.merged(E1000_MDIC, current: { rd(E1000_MDIC) }) & E1000_MDIC_OP_WRITE != 0 {
            return .notPermitted("MDIC: no PHY write while DATAPATH_ON")
        }
        return nil
    }
}
