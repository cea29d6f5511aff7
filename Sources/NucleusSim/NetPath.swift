// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// The RTL8139 nucleus: start_xmit, the interrupt handler, NAPI rx poll and
/// tx completion, after 8139too.c — plus the sim's "network stack" client
/// that sends frames to a peer and counts the echoes. Everything else
/// (probe, open, rx mode, MAC, link) is an upcall.
///
/// Runs under the nucleus lock; never waits for the u-driver.
final class NetPath {
    static let numTx = Int(RTL_NUM_TX), txBufSize = Int(RTL_TX_BUF_SIZE), rxRingLen = Int(RTL_RX_RING_LEN)
    static let ethZLen = 60
    static let rxAckBits = UInt16(RTL_INT_RX_ACK)

    let model: RTL8139Model
    let instance: UInt32
    /// The address the netdev carries (dev->dev_addr).
    var devAddr: MACAddress
    var ifname: String?
    var rxRing: SimMemory.Buffer?
    var txBufs: SimMemory.Buffer?
    var enabled = false
    var carrier = true
    private var curTx = 0, dirtyTx = 0, curRx = 0
    // netdev counters (dev->stats)
    private(set) var txPackets: UInt64 = 0, txBytes: UInt64 = 0
    private(set) var rxPackets: UInt64 = 0, rxBytes: UInt64 = 0, multicast: UInt64 = 0
    private(set) var txBusy: UInt64 = 0

    // the sim's traffic client
    var clientUp = false
    var sendEveryTicks = 5
    private var tickCount = 0
    private var seq: UInt64 = 0
    private(set) var echoed: UInt64 = 0
    private(set) var clientSent: UInt64 = 0
    private(set) var clientErrors: UInt64 = 0
    static let peer = MACAddress(bytes: [0x52, 0x54, 0x00, 0x00, 0x00, 0x01]) ?? .broadcast

    /// The netdev starts with the address in the chip's IDR registers.
    init(model: RTL8139Model, instance: UInt32) {
        self.model = model
        self.instance = instance
        self.devAddr = MACAddress(bytes: (0..<6).map { UInt8(model.read(offset: RTL_IDR0 + $0, width: 1)) }) ?? .broadcast
    }

    private func r8(_ o: UInt32) -> UInt8 { UInt8(model.read(offset: o, width: 1)) }
    private func r16(_ o: UInt32) -> UInt16 { UInt16(model.read(offset: o, width: 2)) }
    private func r32(_ o: UInt32) -> UInt32 { model.read(offset: o, width: 4) }
    private func w8(_ o: UInt32, _ v: UInt8) { model.write(offset: o, width: 1, value: UInt32(v)) }
    private func w16(_ o: UInt32, _ v: UInt16) { model.write(offset: o, width: 2, value: UInt32(v)) }
    private func w32(_ o: UInt32, _ v: UInt32) { model.write(offset: o, width: 4, value: v) }

    /// Resets ring positions when the u-driver (re)enables the data path.
    func enable(rx: SimMemory.Buffer, tx: SimMemory.Buffer, resetPositions: Bool) {
        rxRing = rx
        txBufs = tx
        if resetPositions { curTx = 0; dirtyTx = 0; curRx = 0 }
        enabled = true
    }

    /// rtl8139_start_xmit: copy into the slot's buffer, write TxStatus.
    /// Returns false when all four slots are busy (queue stopped).
    func startXmit(_ frame: [UInt8]) -> Bool {
        guard enabled, let txBufs, curTx - dirtyTx < Self.numTx, frame.count <= Self.txBufSize else {
            txBusy += 1
            return false
        }
        let entry = curTx % Self.numTx
        var f = frame
        if f.count < Self.ethZLen { f += [UInt8](repeating: 0, count: Self.ethZLen - f.count) }
        txBufs.bytes.replaceSubrange(entry * Self.txBufSize..<(entry * Self.txBufSize + f.count), with: f)
        // tx_flag: early-tx threshold (TX_FIFO_THRESH 256, in 32-byte units) | size
        w32(RTL_TX_STATUS0 + UInt32(entry) * 4, ((256 / 32) << RTL_TX_EARLY_SHIFT) & RTL_TX_EARLY_MASK | UInt32(f.count))
        curTx += 1
        return true
    }

    /// rtl8139_interrupt: read and ack status; rx work goes to the poll,
    /// tx completions are reaped here.
    func irq(deliver: ([UInt8]) -> Void) {
        let status = r16(RTL_INTR_STATUS)
        guard status & r16(RTL_INTR_MASK) != 0, status != 0xffff else { return }
        w16(RTL_INTR_STATUS, status & ~Self.rxAckBits)
        if status & Self.rxAckBits != 0 { poll(budget: 64, deliver: deliver) }
        if status & UInt16(RTL_INT_TX_OK | RTL_INT_TX_ERR) != 0 { txInterrupt() }
    }

    private func txInterrupt() {
        while dirtyTx != curTx {
            let entry = dirtyTx % Self.numTx
            let txs = r32(RTL_TX_STATUS0 + UInt32(entry) * 4)
            guard txs & (RTL_TX_STAT_OK | RTL_TX_UNDERRUN | RTL_TX_ABORTED) != 0 else { break }
            txPackets += 1
            txBytes += UInt64(txs & RTL_TX_SIZE_MASK)
            dirtyTx += 1
        }
    }

    /// rtl8139_rx: walk the ring from cur_rx until RxBufEmpty.
    private func poll(budget: Int, deliver: ([UInt8]) -> Void) {
        guard enabled, let ring = rxRing else { return }
        var n = 0
        while n < budget && UInt32(r8(RTL_CHIP_CMD)) & RTL_RX_BUF_EMPTY == 0 {
            let off = curRx % Self.rxRingLen
            guard off + 4 <= ring.bytes.count else { break }
            let status = UInt16(ring.bytes[off]) | UInt16(ring.bytes[off + 1]) << 8
            let size = Int(ring.bytes[off + 2]) | Int(ring.bytes[off + 3]) << 8
            let len = size - 4
            if UInt32(status) & RTL_RX_HDR_OK == 0 || len < 14 || off + 4 + len > ring.bytes.count { clientErrors += 1; break }
            let frame = Array(ring.bytes[(off + 4)..<(off + 4 + len)])
            rxPackets += 1
            rxBytes += UInt64(len)
            if UInt32(status) & RTL_RX_HDR_MULTICAST != 0 { multicast += 1 }
            deliver(frame)
            curRx = (curRx + size + 4 + 3) & ~3
            w16(RTL_RX_BUF_PTR, UInt16(truncatingIfNeeded: curRx - 16))
            n += 1
        }
        w16(RTL_INTR_STATUS, Self.rxAckBits)
    }

    /// Client side: a frame reached "the stack".
    func stackReceive(_ frame: [UInt8]) {
        if frame.count >= 22, Array(frame[0..<6]) == devAddr.bytes, frame[12] == 0x88, frame[13] == 0xb5 {
            echoed += 1
        }
    }

    /// Client side: send a frame every few ticks once the interface is up.
    func clientTick() {
        guard clientUp && enabled else { return }
        tickCount += 1
        guard tickCount % sendEveryTicks == 0 else { return }
        var f: [UInt8] = Self.peer.bytes
        f += devAddr.bytes
        f += [0x88, 0xb5]
        let seqBytes: [UInt8] = withUnsafeBytes(of: seq.bigEndian) { Array($0) }
        f += seqBytes
        if startXmit(f) { seq += 1; clientSent += 1 }
    }

    /// Status attributes for DEVICE_INFO.
    func info() -> [XPCAttribute] {
        let macRegs = (0..<6).map { r8(RTL_IDR0 + $0) }
        let mar = UInt64(r32(RTL_MAR0)) | UInt64(r32(RTL_MAR0 + 4)) << 32
        let (rxFlags, hash) = model.receiveFilter
        var a: [XPCAttribute] = [
            .mac(.mac, MACAddress(bytes: macRegs) ?? devAddr),
            .u32(.rxFlags, rxFlags),
            .binary(.mcHash, hash),
            .u32(.rxConfig, r32(RTL_RX_CONFIG)),
            .u64(.mcFilter, mar),
            .u8(.linkUp, model.linkUp ? 1 : 0),
            .u64(.statRxPackets, rxPackets), .u64(.statTxPackets, txPackets),
            .u64(.statRxBytes, rxBytes), .u64(.statTxBytes, txBytes),
            .u64(.statMulticast, multicast), .u64(.statRxDropped, model.missed),
            .u64(.statFiltered, model.filtered), .u64(.statEchoed, echoed),
            .u64(.clientErrors, clientErrors),
            .u8(.datapathOn, enabled ? 1 : 0)]
        if let ifname { a.append(.string(.ifname, ifname)) }
        return a
    }
}

extension NetPath: SimChipNucleus {
    var deviceClass: XPCDeviceClass { .net }

    func step(memory: SimMemory, peer: WirePeer) {
        peer.fromNIC(model.transmitted)
        model.transmitted = []
        for f in peer.take() { model.receive(f, memory: memory) }
        if model.irqAsserted { irq(deliver: stackReceive) }
    }

    func downcall(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage? {
        switch m.op {
        case .netRegister:
            devAddr = try m.mac(.mac)
            let name = ifname ?? "sim\(d.instance - 1)"
            ifname = name
            d.registeredName = name
            d.chipName = m.attribute(.chipName)?.string
            return XPCMessage.reply(to: m, attributes: [.string(.ifname, name)])
        case .netCarrier:
            carrier = try m.u8(.linkUp) != 0
            return XPCMessage.reply(to: m)
        case .datapathEnable:
            guard let rx = memory.buffer(of: instance, role: 2), rx.bytes.count >= Self.rxRingLen + 16 else {
                return .errorReply(to: m, errno: 2, attribute: .objectRole, message: "no RX_RING buffer of \(Self.rxRingLen + 16) bytes or more")
            }
            guard let tx = memory.buffer(of: instance, role: 3), tx.bytes.count >= Self.numTx * Self.txBufSize else {
                return .errorReply(to: m, errno: 2, attribute: .objectRole, message: "no TX_BUFFERS buffer of \(Self.numTx * Self.txBufSize) bytes")
            }
            enable(rx: rx, tx: tx, resetPositions: !m.flags.contains(.reattach))
            return XPCMessage.reply(to: m)
        case .datapathDisable:
            enabled = false
            clientUp = false
            return XPCMessage.reply(to: m)
        default:
            return nil
        }
    }

    /// Stops the data path, masks interrupts (IntrMask) and disables rx/tx
    /// (ChipCmd).
    func quiesce() {
        enabled = false
        clientUp = false
        w16(RTL_INTR_MASK, 0)
        w8(RTL_CHIP_CMD, 0)
    }

    var workload: SimWorkload {
        { sim, instance in
            try await sim.bringUp(instance)
            try await sim.setRxMode(instance, flags: 0, multicast: [WirePeer.joinedGroup])
        }
    }
}

/// The far end of the simulated cable: echoes frames sent to it and
/// announces on two multicast groups, one of which the client joins.
final class WirePeer {
    static let joinedGroup = MACAddress(bytes: [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]) ?? .broadcast
    static let otherGroup = MACAddress(bytes: [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc]) ?? .broadcast
    private var elapsed: UInt64 = 0
    private(set) var outbox: [[UInt8]] = []

    /// Frames the NIC put on the wire.
    func fromNIC(_ frames: [[UInt8]]) {
        for f in frames where f.count >= 14 && Array(f[0..<6]) == NetPath.peer.bytes {
            var echo: [UInt8] = Array(f[6..<12])
            echo += NetPath.peer.bytes
            echo += f[12...]
            outbox.append(echo)
        }
    }

    func tick(nanos: UInt64) {
        elapsed += nanos
        if elapsed >= 100_000_000 {
            elapsed = 0
            for g in [Self.joinedGroup, Self.otherGroup] {
                var ann: [UInt8] = g.bytes
                ann += NetPath.peer.bytes
                ann += [0x88, 0xb6]
                ann += [UInt8](repeating: 0, count: 46)
                outbox.append(ann)
            }
        }
    }

    func take() -> [[UInt8]] {
        defer { outbox = [] }
        return outbox
    }
}
