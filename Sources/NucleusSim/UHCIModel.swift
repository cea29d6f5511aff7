// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// What a USB device answers to one token (a TD's transaction).
public enum USBHandshake: Equatable, Sendable {
    /// IN: the data packet (possibly short or empty).
    case data([UInt8])
    /// OUT or SETUP taken.
    case ack
    /// Nothing to send or no room: the TD stays active and is retried.
    case nak
    /// The endpoint refuses the transaction.
    case stall
}

/// A device on one of the model's root-hub ports, at the transaction
/// level: the host's tokens come in through ``token(pid:endpoint:data:maxLength:)``
/// addressed to ``address``. Accessed under the nucleus lock only.
public protocol SimUSBDevice: AnyObject {
    /// What the device is (`usb-storage`, `tablet`).
    var name: String { get }
    /// The address SET_ADDRESS gave it; 0 after a reset.
    var address: UInt8 { get set }
    /// A bus reset (a port reset, GRESET): back to the default state.
    func reset()
    /// One transaction: `data` is an OUT/SETUP packet's payload.
    func token(pid: UInt8, endpoint: UInt8, data: [UInt8], maxLength: Int) -> USBHandshake
    /// Device time passes (a tablet's motion).
    func tick(nanos: UInt64)
}

extension SimUSBDevice {
    public func tick(nanos: UInt64) {}
}

/// A `usb-storage` disk reduced to block reads: an OUT packet on endpoint
/// 2 holding a 32-bit little-endian LBA selects the block, IN packets on
/// endpoint 1 then deliver its 512 bytes. The content is a known function
/// of the block number (``content(ofBlock:)``), so a reader can check
/// every byte and keep a checksum it can recompute.
public final class SimUSBDisk: SimUSBDevice {
    public let name = "usb-storage"
    public var address: UInt8 = 0
    /// Bytes a block holds.
    public static let blockSize = 512
    /// Blocks on the disk (1 MiB).
    public let blocks: UInt32
    /// The block being read and how much of it is still to come.
    private var pending: [UInt8] = []
    /// Blocks selected since power-on.
    public private(set) var reads: UInt64 = 0

    public init(blocks: UInt32 = 2048) { self.blocks = blocks }

    public func reset() { pending = [] }

    /// The 512 bytes of block `lba`: an xorshift stream seeded by the LBA.
    public static func content(ofBlock lba: UInt32) -> [UInt8] {
        var x = UInt32(truncatingIfNeeded: lba &* 2_654_435_761) | 1
        var out = [UInt8](repeating: 0, count: blockSize)
        for i in 0..<blockSize {
            x ^= x << 13
            x ^= x >> 17
            x ^= x << 5
            out[i] = UInt8(truncatingIfNeeded: x)
        }
        return out
    }

    public func token(pid: UInt8, endpoint: UInt8, data: [UInt8], maxLength: Int) -> USBHandshake {
        switch (UInt32(pid), endpoint) {
        case (UHCI_PID_OUT, 2):
            guard data.count >= 4 else { return .stall }
            let lba = UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24
            guard lba < blocks else { return .stall }
            pending = Self.content(ofBlock: lba)
            reads += 1
            return .ack
        case (UHCI_PID_IN, 1):
            guard !pending.isEmpty else { return .nak }
            let n = min(maxLength, pending.count)
            defer { pending.removeFirst(n) }
            return .data(Array(pending.prefix(n)))
        default:
            return .stall
        }
    }
}

/// QEMU's `usb-tablet` reduced to its interrupt endpoint 1: a report
/// every 10 ms while it has an address, each carrying a 16-bit sequence
/// number (in X), so a reader tells every report lost. Up to 16 reports
/// wait for the host's poll; past that the oldest is dropped.
public final class SimUSBTablet: SimUSBDevice {
    public let name = "tablet"
    public var address: UInt8 = 0
    /// Report length: buttons, X (LE16), Y (LE16), wheel.
    public static let reportSize = 6
    /// Nanoseconds between reports.
    public let period: UInt64
    private var queue: [UInt16] = []
    private var elapsed: UInt64 = 0
    private var next: UInt16 = 0
    /// Reports dropped because the host did not poll.
    public private(set) var dropped: UInt64 = 0

    public init(period: UInt64 = 10_000_000) { self.period = period }

    public func reset() {
        queue = []
        elapsed = 0
    }

    public func tick(nanos: UInt64) {
        guard address != 0 else { return }
        elapsed = min(elapsed + nanos, 64 * period)
        while elapsed >= period {
            elapsed -= period
            queue.append(next)
            next &+= 1
            if queue.count > 16 {
                queue.removeFirst()
                dropped += 1
            }
        }
    }

    /// Report `seq` as the tablet sends it.
    public static func report(_ seq: UInt16) -> [UInt8] {
        let y = seq &* 3
        return [UInt8(seq & 1), UInt8(seq & 0xff), UInt8(seq >> 8), UInt8(y & 0xff), UInt8(y >> 8), 0]
    }

    public func token(pid: UInt8, endpoint: UInt8, data: [UInt8], maxLength: Int) -> USBHandshake {
        guard UInt32(pid) == UHCI_PID_IN, endpoint == 1 else { return .stall }
        guard !queue.isEmpty else { return .nak }
        return .data(Array(Self.report(queue.removeFirst()).prefix(maxLength)))
    }
}

/// Register-level model of QEMU's piix3-usb-uhci (hw/usb/hcd-uhci.c): the
/// 32 bytes of I/O registers behind BAR 4 and the frame processor that
/// walks the schedule in host memory once a millisecond while Run/Stop is
/// set. Two root-hub ports hold ``SimUSBDevice``s.
///
/// Registers are 16-bit as QEMU implements them (`impl.min/max_access_size`
/// 2): a 32-bit access is two 16-bit ones (PORTSC1 and PORTSC2 in one read,
/// FLBASEADD as its halves); a byte access reaches its aligned word.
/// Accessed under the nucleus lock only.
public final class UHCIModel: DeviceModel, @unchecked Sendable {
    public let identity: DeviceIdentity
    /// Root-hub ports of the function.
    public static let ports = Int(UHCI_PORTS)
    /// QEMU's UHCI_PORT_READ_ONLY and UHCI_PORT_WRITE_CLEAR.
    static let portReadOnly: UInt16 = 0x1bb
    static let portWriteClear = UInt16(UHCI_PORT_CSC | UHCI_PORT_PEC)
    /// USB 1.1's bandwidth a frame (QEMU's frame_bandwidth).
    static let frameBandwidth = 1280

    /// USBCMD, USBSTS, USBINTR, FRNUM, FLBASEADD and SOFMOD as the
    /// controller holds them (QEMU's cmd, status, intr, frnum,
    /// fl_base_addr, sof_timing).
    public private(set) var cmd: UInt16 = 0
    public private(set) var status = UInt16(UHCI_STS_HCH)
    public private(set) var intr: UInt16 = 0
    public private(set) var frnum: UInt16 = 0
    public private(set) var flbaseadd: UInt32 = 0
    public private(set) var sofmod = UInt8(UHCI_SOFMOD_DEFAULT)
    /// QEMU's status2: bit 0 IOC, bit 1 short packet, behind USBINT.
    private var status2: UInt8 = 0
    private var pendingIntMask: UInt8 = 0
    /// PORTSC1, PORTSC2.
    public private(set) var portsc = [UInt16](repeating: UInt16(UHCI_PORT_R1), count: UHCIModel.ports)
    private var attached = [(any SimUSBDevice)?](repeating: nil, count: UHCIModel.ports)
    private var frameElapsed: UInt64 = 0
    /// Frames processed since power-on.
    public private(set) var frames: UInt64 = 0
    /// HCRESETs and GRESETs (a reattaching u-driver must add none).
    public private(set) var controllerResets = 0
    /// Port resets by port (PR set while a device is attached).
    public private(set) var portResets = [Int](repeating: 0, count: UHCIModel.ports)
    /// Transactions the frame processor ran, and bytes they moved.
    public private(set) var transactions: UInt64 = 0

    /// A PIIX3 UHCI function at `slot`, devices attached to ports 1 and 2
    /// in order (nil: an empty port).
    public init(slot: String = "0000:00:01.2", irq: UInt32 = 11, devices: [(any SimUSBDevice)?] = []) {
        // 8086:7020 revision 1, as QEMU's piix3-usb-uhci.
        identity = DeviceIdentity(vendor: 0x8086, device: 0x7020, revision: 0x01, slot: slot, barSize: UHCI_IO_SIZE, irq: irq)
        for (i, d) in devices.prefix(Self.ports).enumerated() {
            if let d { attach(d, port: i + 1) }
        }
    }

    // MARK: devices

    /// The device on `port` (1-based), if any.
    public func device(onPort port: Int) -> (any SimUSBDevice)? {
        (1...Self.ports).contains(port) ? attached[port - 1] : nil
    }

    /// Plugs `device` into `port` (1-based): CCS and CSC set (uhci_attach).
    public func attach(_ device: any SimUSBDevice, port: Int) {
        guard (1...Self.ports).contains(port) else { return }
        if attached[port - 1] != nil { detach(port: port) }
        device.reset()
        device.address = 0
        attached[port - 1] = device
        portsc[port - 1] |= UInt16(UHCI_PORT_CCS | UHCI_PORT_CSC)
        portsc[port - 1] &= ~UInt16(UHCI_PORT_LSDA)
        resume()
    }

    /// Unplugs `port`'s device: CCS clear with CSC, PE clear with PEC
    /// (uhci_detach). Returns the device.
    @discardableResult
    public func detach(port: Int) -> (any SimUSBDevice)? {
        guard (1...Self.ports).contains(port), let d = attached[port - 1] else { return nil }
        attached[port - 1] = nil
        var p = portsc[port - 1]
        if p & UInt16(UHCI_PORT_CCS) != 0 { p = (p & ~UInt16(UHCI_PORT_CCS)) | UInt16(UHCI_PORT_CSC) }
        if p & UInt16(UHCI_PORT_PE) != 0 { p = (p & ~UInt16(UHCI_PORT_PE)) | UInt16(UHCI_PORT_PEC) }
        portsc[port - 1] = p
        resume()
        return d
    }

    /// The device with `address` behind an enabled port (uhci_find_device).
    func find(address: UInt8) -> (any SimUSBDevice)? {
        for i in 0..<Self.ports where portsc[i] & UInt16(UHCI_PORT_PE) != 0 {
            if let d = attached[i], d.address == address { return d }
        }
        return nil
    }

    // MARK: registers

    public func read(offset: UInt32, width: Int) -> UInt32 {
        switch width {
        case 4: return UInt32(readWord(offset)) | UInt32(readWord(offset + 2)) << 16
        case 2: return UInt32(readWord(offset))
        default: return UInt32(readWord(offset & ~1) >> (8 * UInt16(offset & 1))) & 0xff
        }
    }

    public func write(offset: UInt32, width: Int, value: UInt32) {
        switch width {
        case 4:
            writeWord(offset, UInt16(truncatingIfNeeded: value))
            writeWord(offset + 2, UInt16(truncatingIfNeeded: value >> 16))
        case 2: writeWord(offset, UInt16(truncatingIfNeeded: value))
        default: writeWord(offset & ~1, UInt16(truncatingIfNeeded: (value & 0xff) << (8 * (offset & 1))))
        }
    }

    /// uhci_port_read.
    func readWord(_ off: UInt32) -> UInt16 {
        switch off {
        case UHCI_USBCMD: return cmd
        case UHCI_USBSTS: return status
        case UHCI_USBINTR: return intr
        case UHCI_FRNUM: return frnum
        case UHCI_FLBASEADD: return UInt16(flbaseadd & 0xffff)
        case UHCI_FLBASEADD + 2: return UInt16(flbaseadd >> 16)
        case UHCI_SOFMOD: return UInt16(sofmod)
        case 0x10...0x1f:
            let n = Int((off >> 1) & 7)
            return n < Self.ports ? portsc[n] : 0xff7f
        default: return 0xff7f
        }
    }

    /// uhci_port_write.
    func writeWord(_ off: UInt32, _ val: UInt16) {
        switch off {
        case UHCI_USBCMD:
            if val & UInt16(UHCI_CMD_RS) != 0 && cmd & UInt16(UHCI_CMD_RS) == 0 {
                status &= ~UInt16(UHCI_STS_HCH)
                frameElapsed = 0
            } else if val & UInt16(UHCI_CMD_RS) == 0 {
                status |= UInt16(UHCI_STS_HCH)
            }
            if val & UInt16(UHCI_CMD_GRESET) != 0 {
                for d in attached { d?.reset(); d?.address = 0 }
                reset()
                return
            }
            if val & UInt16(UHCI_CMD_HCRESET) != 0 {
                reset()
                return
            }
            cmd = val
            if val & UInt16(UHCI_CMD_EGSM) != 0 && portsc.contains(where: { $0 & UInt16(UHCI_PORT_RD) != 0 }) { resume() }
        case UHCI_USBSTS:
            status &= ~val
            if val & UInt16(UHCI_STS_USBINT) != 0 { status2 = 0 }
        case UHCI_USBINTR: intr = val
        case UHCI_FRNUM:
            if status & UInt16(UHCI_STS_HCH) != 0 { frnum = val & UInt16(UHCI_FRNUM_MASK) }
        case UHCI_FLBASEADD: flbaseadd = (flbaseadd & 0xffff_0000) | UInt32(val & ~0xfff)
        case UHCI_FLBASEADD + 2: flbaseadd = (flbaseadd & 0x0000_ffff) | UInt32(val) << 16
        case UHCI_SOFMOD: sofmod = UInt8(val & 0xff)
        case 0x10...0x1f:
            let n = Int((off >> 1) & 7)
            guard n < Self.ports else { return }
            var v = val
            if let d = attached[n], v & UInt16(UHCI_PORT_PR) != 0, portsc[n] & UInt16(UHCI_PORT_PR) == 0 {
                // usb_device_reset: the device forgets its address.
                d.reset()
                d.address = 0
                portResets[n] += 1
            }
            var p = portsc[n] & Self.portReadOnly
            // Enabled may only be set if a device is connected.
            if p & UInt16(UHCI_PORT_CCS) == 0 { v &= ~UInt16(UHCI_PORT_PE) }
            p |= v & ~Self.portReadOnly
            p &= ~(v & Self.portWriteClear)
            portsc[n] = p
        default:
            break
        }
    }

    /// uhci_reset: registers to their defaults, halted; every attached
    /// device is seen connecting again and is reset (usb_port_reset: CCS
    /// and CSC, the device back at address 0).
    private func reset() {
        cmd = 0
        status = UInt16(UHCI_STS_HCH)
        status2 = 0
        intr = 0
        flbaseadd = 0
        sofmod = UInt8(UHCI_SOFMOD_DEFAULT)
        pendingIntMask = 0
        controllerResets += 1
        for i in 0..<Self.ports {
            portsc[i] = UInt16(UHCI_PORT_R1)
            if let d = attached[i] {
                d.reset()
                d.address = 0
                portsc[i] |= UInt16(UHCI_PORT_CCS | UHCI_PORT_CSC)
            }
        }
    }

    /// uhci_resume: a wake-up while globally suspended.
    private func resume() {
        guard cmd & UInt16(UHCI_CMD_EGSM) != 0 else { return }
        cmd |= UInt16(UHCI_CMD_FGR)
        status |= UInt16(UHCI_STS_RD)
    }

    /// uhci_update_irq.
    public var irqAsserted: Bool {
        (status2 & 1 != 0 && intr & UInt16(UHCI_INTR_IOC) != 0)
            || (status2 & 2 != 0 && intr & UInt16(UHCI_INTR_SP) != 0)
            || (status & UInt16(UHCI_STS_ERROR) != 0 && intr & UInt16(UHCI_INTR_TIMEOUT) != 0)
            || (status & UInt16(UHCI_STS_RD) != 0 && intr & UInt16(UHCI_INTR_RESUME) != 0)
            || status & UInt16(UHCI_STS_HSE | UHCI_STS_HCPE) != 0
    }

    public func snapshot() -> [UInt8] {
        (0..<UInt32(UHCI_IO_SIZE / 2)).flatMap { i -> [UInt8] in
            let w = readWord(2 * i)
            return [UInt8(w & 0xff), UInt8(w >> 8)]
        }
    }

    /// Whether Run/Stop is set and the controller is not halted.
    public var running: Bool { cmd & UInt16(UHCI_CMD_RS) != 0 && status & UInt16(UHCI_STS_HCH) == 0 }

    /// Raises a host system error (a PCI master abort), as a chip fault
    /// for tests of the nucleus's error path: HSE set, the controller halted.
    public func hostSystemError() {
        status |= UInt16(UHCI_STS_HSE | UHCI_STS_HCH)
        cmd &= ~UInt16(UHCI_CMD_RS)
    }

    // MARK: frames

    /// uhci_frame_timer, once per millisecond of device time.
    public func tick(nanos: UInt64, memory: SimMemory) {
        tick(nanos: nanos, memory: memory) {}
    }

    /// The frames of `nanos`, with the host's interrupt handler run at the
    /// frame whose start raises the line (QEMU raises the IOC of frame N
    /// as frame N+1 starts, before processing it), so an URB it re-arms
    /// is seen by that frame.
    ///
    /// The devices' time runs frame by frame with the frames', so a pass
    /// longer than the 32 frames one may cover (a loaded host) loses the
    /// same time for both: a tablet makes no more reports than the frames
    /// can poll, as under a paused VM.
    public func tick(nanos: UInt64, memory: SimMemory, interrupt: () -> Void) {
        guard cmd & UInt16(UHCI_CMD_RS) != 0 else {
            for d in attached { d?.tick(nanos: nanos) }
            status |= UInt16(UHCI_STS_HCH)
            frameElapsed = 0
            return
        }
        frameElapsed = min(frameElapsed + nanos, 32_000_000)
        while frameElapsed >= 1_000_000 {
            frameElapsed -= 1_000_000
            for d in attached { d?.tick(nanos: 1_000_000) }
            if pendingIntMask != 0 {
                status2 |= pendingIntMask
                status |= UInt16(UHCI_STS_USBINT)
            }
            pendingIntMask = 0
            if irqAsserted { interrupt() }
            frnum = (frnum + 1) & UInt16(UHCI_FRNUM_MASK)
            frames += 1
            processFrame(memory)
            guard cmd & UInt16(UHCI_CMD_RS) != 0 else {
                status |= UInt16(UHCI_STS_HCH)
                return
            }
        }
    }

    private func r32(_ m: SimMemory, _ a: UInt32) -> UInt32 {
        let b = m.read(bus: a, count: 4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    private func w32(_ m: SimMemory, _ a: UInt32, _ v: UInt32) {
        m.write(bus: a, XPCAttribute.le(v))
    }

    /// uhci_process_frame: the frame list entry for FRNUM, then QHs and
    /// TDs breadth-first (depth-first where a TD's link says Vf), at most
    /// 256 links and the frame's bandwidth; a QH seen twice without a
    /// transaction in between (an FSBR loop gone idle) ends the frame.
    private func processFrame(_ m: SimMemory) {
        var link = r32(m, flbaseadd + (UInt32(frnum) & 0x3ff) << 2)
        var intMask: UInt8 = 0
        var currQH: UInt32 = 0
        var qhLink: UInt32 = 0
        var tdCount = 0
        var frameBytes = 0
        var seenQHs: [UInt32] = []
        var loops = 256
        defer { pendingIntMask |= intMask }
        while link & UHCI_PTR_TERM == 0 && loops > 0 {
            loops -= 1
            guard frameBytes < Self.frameBandwidth else { return }
            if link & UHCI_PTR_QH != 0 {
                if seenQHs.contains(link) || seenQHs.count >= 128 {
                    guard tdCount > 0 else { return }
                    tdCount = 0
                    seenQHs = []
                }
                seenQHs.append(link)
                let qh = link & ~0xf
                qhLink = r32(m, qh)
                let element = r32(m, qh + 4)
                if element & UHCI_PTR_TERM != 0 {
                    currQH = 0
                    link = qhLink
                } else {
                    currQH = link
                    link = element
                }
                continue
            }
            let tdAddr = link & ~0xf
            let tdLink = r32(m, tdAddr)
            var ctrl = r32(m, tdAddr + 4)
            let token = r32(m, tdAddr + 8)
            let buffer = r32(m, tdAddr + 12)
            let old = ctrl
            let (result, moved) = handleTD(m, &ctrl, token: token, buffer: buffer, intMask: &intMask)
            if ctrl != old { w32(m, tdAddr + 4, ctrl) }
            switch result {
            case .stopFrame:
                return
            case .nextQH:
                link = currQH != 0 ? qhLink : tdLink
            case .complete:
                link = tdLink
                tdCount += 1
                frameBytes += moved
                if currQH != 0 {
                    w32(m, (currQH & ~0xf) + 4, link)
                    if link & UHCI_PTR_DEPTH == 0 {
                        currQH = 0
                        link = qhLink
                    }
                }
            }
        }
    }

    private enum TDResult { case stopFrame, nextQH, complete }

    /// uhci_handle_td + uhci_complete_td for a device that answers at once.
    private func handleTD(_ m: SimMemory, _ ctrl: inout UInt32, token: UInt32, buffer: UInt32,
                          intMask: inout UInt8) -> (TDResult, Int) {
        guard ctrl & UHCI_TD_ACTIVE != 0 else {
            if ctrl & UHCI_TD_IOC != 0 { intMask |= 1 }
            return (.nextQH, 0)
        }
        let pid = UInt8(token & 0xff)
        guard [UHCI_PID_IN, UHCI_PID_OUT, UHCI_PID_SETUP].contains(UInt32(pid)) else {
            // Invalid PID: a host controller process error halts the schedule.
            status |= UInt16(UHCI_STS_HCPE)
            cmd &= ~UInt16(UHCI_CMD_RS)
            return (.stopFrame, 0)
        }
        let maxLen = Int(((token >> UHCI_TOKEN_MAXLEN_SHIFT) + 1) & 0x7ff)
        let addr = UInt8((token >> UHCI_TOKEN_DEVADDR_SHIFT) & 0x7f)
        let ep = UInt8((token >> UHCI_TOKEN_EP_SHIFT) & 0xf)
        func error(_ bits: UInt32) -> (TDResult, Int) {
            ctrl |= bits
            if bits == UHCI_TD_CRCTIMEO { ctrl &= ~(3 << UHCI_TD_CERR_SHIFT) }
            ctrl &= ~UHCI_TD_ACTIVE
            status |= UInt16(UHCI_STS_ERROR)
            if ctrl & UHCI_TD_IOC != 0 { intMask |= 1 }
            return (.nextQH, 0)
        }
        guard let dev = find(address: addr) else { return error(UHCI_TD_CRCTIMEO) }
        let out = UInt32(pid) == UHCI_PID_IN ? [] : m.read(bus: buffer, count: maxLen)
        transactions += 1
        let len: Int
        switch dev.token(pid: pid, endpoint: ep, data: out, maxLength: maxLen) {
        case .nak:
            ctrl |= UHCI_TD_NAK
            return (.nextQH, 0)
        case .stall:
            return error(UHCI_TD_STALLED)
        case .ack:
            len = maxLen
        case .data(let d):
            len = min(d.count, maxLen)
            if len > 0 { m.write(bus: buffer, Array(d.prefix(len))) }
        }
        ctrl = (ctrl & ~UHCI_TD_ACTLEN_MASK) | (UInt32(bitPattern: Int32(len - 1)) & UHCI_TD_ACTLEN_MASK)
        ctrl &= ~(UHCI_TD_ACTIVE | UHCI_TD_NAK)
        if ctrl & UHCI_TD_IOC != 0 { intMask |= 1 }
        if UInt32(pid) == UHCI_PID_IN && ctrl & UHCI_TD_SPD != 0 && len < maxLen {
            intMask |= 2
            return (.nextQH, len)
        }
        return (.complete, len)
    }
}
