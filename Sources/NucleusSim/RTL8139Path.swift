// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// The RTL8139 data path, module/rtl8139.c's: start_xmit into one of four
/// transmit slots, the interrupt handler, the rx ring walk (NAPI poll) and
/// transmit completion, after 8139too.c. DMA roles: RX_RING (the 8 KiB ring
/// + 16 bytes) and TX_BUFFERS (four 1536-byte slots).
final class RTL8139Path: SimNICPath {
    static let numTx = Int(RTL_NUM_TX), txBufSize = Int(RTL_TX_BUF_SIZE), rxRingLen = Int(RTL_RX_RING_LEN)
    static let ethZLen = 60
    static let rxAckBits = UInt16(RTL_INT_RX_ACK)

    let model: RTL8139Model
    var nic: any SimNICModel { model }
    private var rxRing: SimMemory.Buffer?
    private var txBufs: SimMemory.Buffer?
    private var curTx = 0, dirtyTx = 0, curRx = 0

    init(model: RTL8139Model) { self.model = model }

    var registerMAC: MACAddress? { MACAddress(bytes: (0..<6).map { r8(RTL_IDR0 + $0) }) }

    private func r8(_ o: UInt32) -> UInt8 { UInt8(model.read(offset: o, width: 1)) }
    private func r16(_ o: UInt32) -> UInt16 { UInt16(model.read(offset: o, width: 2)) }
    private func r32(_ o: UInt32) -> UInt32 { model.read(offset: o, width: 4) }
    private func w8(_ o: UInt32, _ v: UInt8) { model.write(offset: o, width: 1, value: UInt32(v)) }
    private func w16(_ o: UInt32, _ v: UInt16) { model.write(offset: o, width: 2, value: UInt32(v)) }
    private func w32(_ o: UInt32, _ v: UInt32) { model.write(offset: o, width: 4, value: v) }

    /// rtl8139_enable: the ring and the slots by role; positions from zero
    /// unless the chip kept running.
    func enable(_ n: NetDev, memory: SimMemory, instance: UInt32, reattach: Bool) throws(NetEnableError) {
        guard let rx = memory.buffer(of: instance, role: ObjectRole.rxRing),
              rx.bytes.count >= Self.rxRingLen + 16 else {
            throw NetEnableError(errno: 2, attribute: .objectRole, message: "no RX_RING buffer of \(Self.rxRingLen + 16) bytes or more")
        }
        guard let tx = memory.buffer(of: instance, role: ObjectRole.txBuffers),
              tx.bytes.count >= Self.numTx * Self.txBufSize else {
            throw NetEnableError(errno: 2, attribute: .objectRole, message: "no TX_BUFFERS buffer of \(Self.numTx * Self.txBufSize) bytes")
        }
        rxRing = rx
        txBufs = tx
        if !reattach { curTx = 0; dirtyTx = 0; curRx = 0 }
    }

    /// rtl8139_start_xmit: copy into the slot's buffer, write TxStatus.
    func startXmit(_ n: NetDev, _ frame: [UInt8]) -> Bool {
        guard n.datapath, let txBufs, curTx - dirtyTx < Self.numTx, frame.count <= Self.txBufSize else {
            n.txBusy += 1
            return false
        }
        let entry = curTx % Self.numTx
        var f = frame
        if f.count < Self.ethZLen { f += [UInt8](repeating: 0, count: Self.ethZLen - f.count) }
        txBufs.copyIn(f, at: entry * Self.txBufSize)
        // tx_flag: early-tx threshold (TX_FIFO_THRESH 256, in 32-byte units) | size
        w32(RTL_TX_STATUS0 + UInt32(entry) * 4, ((256 / 32) << RTL_TX_EARLY_SHIFT) & RTL_TX_EARLY_MASK | UInt32(f.count))
        curTx += 1
        return true
    }

    /// rtl8139_interrupt: read and ack status; rx work goes to the poll,
    /// tx completions are reaped here.
    func interrupt(_ n: NetDev, deliver: ([UInt8]) -> Void) {
        let status = r16(RTL_INTR_STATUS)
        guard status & r16(RTL_INTR_MASK) != 0, status != 0xffff else { return }
        w16(RTL_INTR_STATUS, status & ~Self.rxAckBits)
        if status & Self.rxAckBits != 0 { poll(n, budget: 64, deliver: deliver) }
        if status & UInt16(RTL_INT_TX_OK | RTL_INT_TX_ERR) != 0 { txInterrupt(n) }
    }

    private func txInterrupt(_ n: NetDev) {
        while dirtyTx != curTx {
            let entry = dirtyTx % Self.numTx
            let txs = r32(RTL_TX_STATUS0 + UInt32(entry) * 4)
            guard txs & (RTL_TX_STAT_OK | RTL_TX_UNDERRUN | RTL_TX_ABORTED) != 0 else { break }
            n.stats.txPackets += 1
            n.stats.txBytes += UInt64(txs & RTL_TX_SIZE_MASK)
            dirtyTx += 1
        }
    }

    /// rtl8139_rx: walk the ring from cur_rx until RxBufEmpty.
    private func poll(_ n: NetDev, budget: Int, deliver: ([UInt8]) -> Void) {
        guard n.datapath, let ring = rxRing else { return }
        var done = 0
        while done < budget && UInt32(r8(RTL_CHIP_CMD)) & RTL_RX_BUF_EMPTY == 0 {
            let off = curRx % Self.rxRingLen
            guard off + 4 <= ring.bytes.count else { break }
            let status = ring.le16(off)
            let size = Int(ring.le16(off + 2))
            let len = size - 4
            guard UInt32(status) & RTL_RX_HDR_OK != 0, len >= 14, let frame = ring.slice(off + 4, len) else {
                n.stats.rxErrors += 1
                break
            }
            n.stats.rxPackets += 1
            n.stats.rxBytes += UInt64(len)
            if UInt32(status) & RTL_RX_HDR_MULTICAST != 0 { n.stats.multicast += 1 }
            deliver(frame)
            curRx = (curRx + size + 4 + 3) & ~3
            w16(RTL_RX_BUF_PTR, UInt16(truncatingIfNeeded: curRx - 16))
            done += 1
        }
        w16(RTL_INTR_STATUS, Self.rxAckBits)
    }

    /// Masks interrupts (IntrMask) and disables rx/tx (ChipCmd).
    func quiesce(_ n: NetDev) {
        w16(RTL_INTR_MASK, 0)
        w8(RTL_CHIP_CMD, 0)
    }

    func info(_ n: NetDev) -> [XPCAttribute] {
        let mar = UInt64(r32(RTL_MAR0)) | UInt64(r32(RTL_MAR0 + 4)) << 32
        let (rxFlags, hash) = model.receiveFilter
        var a: [XPCAttribute] = []
        if let mac = registerMAC { a.append(.mac(.mac, mac)) }
        a += [.u32(.rxFlags, rxFlags), .binary(.mcHash, hash), .u32(.rxConfig, r32(RTL_RX_CONFIG)), .u64(.mcFilter, mar)]
        return a
    }
}

extension RTL8139Path {
    /// rtl_write_check: TxAddr0-3 and RxBuf hold bus addresses, REG_WRITE_DMA's
    /// only, with a slot's or a ring's worth of buffer behind them (8K + 16
    /// and the 1536 bytes of slack NoWrap runs into); RxConfig keeps the 8K
    /// ring; a TxStatus write sends at most a slot.
    func checkWrite(_ w: RegisterWrite, memory: SimMemory, instance: UInt32, dataPathOn: Bool) -> WriteRefusal? {
        for i in 0..<RTL_NUM_TX {
            let addr = RTL_TX_ADDR0 + 4 * i, status = RTL_TX_STATUS0 + 4 * i
            if w.touches(addr), !w.isDMAAddress(at: addr) || memory.room(bus: w.value, instance: instance) < Self.txBufSize {
                return .notPermitted("TxAddr0-3 take a slot of a DMA buffer, by REG_WRITE_DMA")
            }
            if w.touches(status), w.merged(status, current: { model.read(offset: status, width: 4) }) & RTL_TX_SIZE_MASK > RTL_TX_BUF_SIZE {
                return .invalid("TxStatus: a transmit of more than a slot (1536 bytes)")
            }
        }
        if w.touches(RTL_RX_BUF), !w.isDMAAddress(at: RTL_RX_BUF)
            || memory.room(bus: w.value, instance: instance) < Self.rxRingLen + 16 + Self.txBufSize {
            return .notPermitted("RxBuf takes a DMA buffer of 8K + 16 + 1536 bytes, by REG_WRITE_DMA")
        }
        if w.touches(RTL_RX_CONFIG),
           w.merged(RTL_RX_CONFIG, current: { model.read(offset: RTL_RX_CONFIG, width: 4) }) & (3 << RTL_RX_RING_SHIFT) != 0 {
            return .invalid("RxConfig: the receive ring is 8K (ring length field 0)")
        }
        return dataPathOn ? runningCheck(w) : nil
    }

    /// rtl_running_check: while the data path is the nucleus's, ChipCmd
    /// keeps the receiver and transmitter on and resets nothing, IntrMask
    /// keeps the data path's interrupts (DATAPATH_DISABLE first).
    func runningCheck(_ w: RegisterWrite) -> WriteRefusal? {
        if w.touches(RTL_CHIP_CMD, 1) {
            let on = RTL_CMD_RX_ENB | RTL_CMD_TX_ENB
            if w.merged(RTL_CHIP_CMD, size: 1, current: { model.read(offset: RTL_CHIP_CMD, width: 1) }) & (RTL_CMD_RESET | on) != on {
                return .notPermitted("ChipCmd: receiver and transmitter on, no reset, while DATAPATH_ON")
            }
        }
        let served = RTL_INT_RX_ACK | RTL_INT_TX_OK | RTL_INT_TX_ERR
        if w.touches(RTL_INTR_MASK, 2), w.merged(RTL_INTR_MASK, size: 2, current: { model.read(offset: RTL_INTR_MASK, width: 2) }) & served != served {
            return .notPermitted("IntrMask: the data path's interrupts stay unmasked while DATAPATH_ON")
        }
        return nil
    }
}
