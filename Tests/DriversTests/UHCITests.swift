// SPDX-License-Identifier: GPL-2.0
import CChips
import Synchronization
import Testing
@testable import UHCI
import UDriverKit
import XPC

/// QEMU's piix3-usb-uhci (hw/usb/hcd-uhci.c) at register level, behind the
/// same kind of transport PSMouseTests gives its driver: a `Device` whose
/// downcalls this answers as the nucleus would (REG_READ, REG_WRITE,
/// REG_SEQ, REG_WRITE_DMA, USB_SCHEDULE, USB_REGISTER, USB_PORT_CHANGE,
/// USB_SET). USBCMD: GRESET and HCRESET reset the controller (and
/// HCRESET reads back clear at once), RS clears HCHalted, clearing it sets
/// it. PORTSC: bits 0x1bb read-only, CSC and PEC written 1 clear, PE only
/// sticks with a device connected, PR written 1 resets the device.
final class FakeUHCI: Sendable {
    struct Port {
        var ctrl: UInt16 = 0x0080
        var attached = false
        /// USB resets the device on this port saw (PR, GRESET, HCRESET).
        var deviceResets = 0
    }
    struct State {
        var cmd: UInt16 = 0
        var status = UInt16(UHCI_STS_HCH)
        var intr: UInt16 = 0
        var frnum: UInt16 = 0
        var sofmod: UInt8 = 0x40
        /// The DMA handle REG_WRITE_DMA put in FLBASEADD (nil: 0, as a reset leaves it).
        var frameList: UInt32?
        var ports = [Port(), Port()]
        var schedules = 0
        var registered = false
        /// Every downcall, in order, refused or not.
        var calls: [XPCMessage] = []
        /// The downcalls answered with status 0.
        var accepted: [XPCMessage] = []
        /// Every register write (REG_WRITE, a REG_SEQ's writes, REG_WRITE_DMA).
        var writes: [(offset: UInt32, value: UInt32)] = []
        /// Ops refused with EIO.
        var failing: Set<XPCOp> = []
        /// Reads of USBCMD that still see HCRESET after it was written
        /// (QEMU: none; a real controller takes a little while).
        var hcResetReads = 0
        var hcResetReadsLeft = 0
    }
    let state = Mutex(State())
    static let frameListHandle: UInt32 = 0x51

    static let readOnly: UInt16 = 0x01bb, writeClear = UInt16(UHCI_PORT_CSC | UHCI_PORT_PEC)

    // MARK: what the test does to the bus

    /// A device plugged into `port` (uhci_attach).
    func connect(_ port: Int) {
        state.withLock { s in
            s.ports[port - 1].attached = true
            s.ports[port - 1].ctrl |= UInt16(UHCI_PORT_CCS | UHCI_PORT_CSC)
        }
    }
    /// Connect and enable changes on `port` as a line glitch would leave them.
    func glitch(_ port: Int) {
        state.withLock { $0.ports[port - 1].ctrl |= UInt16(UHCI_PORT_CSC | UHCI_PORT_PEC) }
    }
    /// The controller stops on a host system error at frame `frame`.
    func hostSystemError(atFrame frame: UInt16) {
        state.withLock { s in
            s.frnum = frame
            s.cmd &= ~UInt16(UHCI_CMD_RS)
            s.status |= UInt16(UHCI_STS_HSE | UHCI_STS_HCH)
        }
    }
    func fail(_ op: XPCOp, _ on: Bool = true) {
        state.withLock { s in if on { s.failing.insert(op) } else { s.failing.remove(op) } }
    }
    func read<R>(_ f: (State) -> R) -> R { state.withLock { f($0) } }
    func port(_ n: Int) -> UInt16 { read { $0.ports[n - 1].ctrl } }
    func calls(_ op: XPCOp) -> [XPCMessage] { read { $0.calls.filter { $0.op == op } } }
    /// The bitmaps of the USB_PORT_CHANGEs the nucleus took, in order.
    var portChanges: [UInt32] {
        read { $0.accepted.filter { $0.op == .usbPortChange }.compactMap { $0.attribute(.usbPortChanges)?.u32 } }
    }

    // MARK: the controller

    private static func reset(_ s: inout State) {
        s.cmd = 0
        s.status = UInt16(UHCI_STS_HCH)
        s.intr = 0
        s.frnum = 0
        s.sofmod = 0x40
        s.frameList = nil
        for i in s.ports.indices {
            s.ports[i].ctrl = 0x0080
            if s.ports[i].attached {
                // usb_port_reset: detach and attach again.
                s.ports[i].deviceResets += 1
                s.ports[i].ctrl |= UInt16(UHCI_PORT_CCS | UHCI_PORT_CSC)
            }
        }
    }

    private static func read16(_ s: State, _ off: UInt32) -> UInt16 {
        switch off {
        case UHCI_USBCMD: return s.cmd | (s.hcResetReadsLeft > 0 ? UInt16(UHCI_CMD_HCRESET) : 0)
        case UHCI_USBSTS: return s.status
        case UHCI_USBINTR: return s.intr
        case UHCI_FRNUM: return s.frnum
        case UHCI_FLBASEADD: return UInt16(truncatingIfNeeded: (s.frameList ?? 0) << 12)
        case UHCI_FLBASEADD + 2: return UInt16(truncatingIfNeeded: (s.frameList ?? 0) >> 4)
        case UHCI_SOFMOD: return UInt16(s.sofmod)
        case UHCI_PORTSC1, UHCI_PORTSC1 + 2: return s.ports[Int(off - UHCI_PORTSC1) / 2].ctrl
        default: return 0xffff
        }
    }

    private static func write16(_ s: inout State, _ off: UInt32, _ v: UInt16) {
        switch off {
        case UHCI_USBCMD:
            if v & UInt16(UHCI_CMD_RS) != 0 && s.cmd & UInt16(UHCI_CMD_RS) == 0 {
                s.status &= ~UInt16(UHCI_STS_HCH)
            } else if v & UInt16(UHCI_CMD_RS) == 0 {
                s.status |= UInt16(UHCI_STS_HCH)
            }
            if v & UInt16(UHCI_CMD_GRESET) != 0 || v & UInt16(UHCI_CMD_HCRESET) != 0 {
                reset(&s)
                if v & UInt16(UHCI_CMD_HCRESET) != 0 { s.hcResetReadsLeft = s.hcResetReads }
                return
            }
            s.cmd = v
        case UHCI_USBSTS: s.status &= ~v
        case UHCI_USBINTR: s.intr = v
        case UHCI_FRNUM:
            if s.status & UInt16(UHCI_STS_HCH) != 0 { s.frnum = v & UInt16(UHCI_FRNUM_MASK) }
        case UHCI_PORTSC1, UHCI_PORTSC1 + 2:
            var p = s.ports[Int(off - UHCI_PORTSC1) / 2]
            var val = v
            if p.attached && val & UInt16(UHCI_PORT_PR) != 0 && p.ctrl & UInt16(UHCI_PORT_PR) == 0 { p.deviceResets += 1 }
            p.ctrl &= readOnly
            if p.ctrl & UInt16(UHCI_PORT_CCS) == 0 { val &= ~UInt16(UHCI_PORT_PE) }
            p.ctrl |= val & ~readOnly
            p.ctrl &= ~(val & writeClear)
            s.ports[Int(off - UHCI_PORTSC1) / 2] = p
        default: break
        }
    }

    /// A read as the controller sees it: one of USBCMD brings a slow
    /// HCRESET closer to its end.
    private static func access(_ s: inout State, _ off: UInt32, width: Int) -> UInt32 {
        let v = read(s, off, width: width)
        if off == UHCI_USBCMD && s.hcResetReadsLeft > 0 { s.hcResetReadsLeft -= 1 }
        return v
    }

    /// QEMU's accesses are 16 bits wide: a 32-bit one is two of them.
    private static func read(_ s: State, _ off: UInt32, width: Int) -> UInt32 {
        switch width {
        case 4: return UInt32(read16(s, off)) | UInt32(read16(s, off + 2)) << 16
        case 1: return UInt32(read16(s, off) & 0xff)
        default: return UInt32(read16(s, off))
        }
    }
    private static func write(_ s: inout State, _ off: UInt32, _ v: UInt32, width: Int) {
        s.writes.append((off, v))
        switch width {
        case 4:
            write16(&s, off, UInt16(truncatingIfNeeded: v))
            write16(&s, off + 2, UInt16(truncatingIfNeeded: v >> 16))
        case 1 where off == UHCI_SOFMOD: s.sofmod = UInt8(truncatingIfNeeded: v)
        default: write16(&s, off, UInt16(truncatingIfNeeded: v))
        }
    }

    /// The nucleus's answer to downcall `m`.
    func handle(_ m: XPCMessage) -> XPCMessage {
        state.withLock { s in
            s.calls.append(m)
            if s.failing.contains(m.op) { return .errorReply(to: m, errno: 5, message: "\(m.op.name) refused by the test") }
            let r = Self.answer(m, &s)
            if r.status == 0 { s.accepted.append(m) }
            return r
        }
    }

    private static func answer(_ m: XPCMessage, _ s: inout State) -> XPCMessage {
        switch m.op {
        case .regRead:
            let off = m.attribute(.regOffset)?.u32 ?? 0, width = Int(m.attribute(.regWidth)?.u8 ?? 4)
            return .reply(to: m, attributes: [.u32(.regValue, Self.access(&s, off, width: width))])
        case .regWrite:
            Self.write(&s, m.attribute(.regOffset)?.u32 ?? 0, m.attribute(.regValue)?.u32 ?? 0,
                       width: Int(m.attribute(.regWidth)?.u8 ?? 4))
            return .reply(to: m)
        case .regSeq:
            guard let ops = try? RegisterSequence.decode(m) else { return .errorReply(to: m, errno: 22, message: "bad REG_SEQ") }
            var results: [UInt8] = []
            func put(_ v: UInt32) { results += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: v >> $0) } }
            for op in ops {
                switch op.kind {
                case RegisterOp.read: put(Self.access(&s, op.offset, width: Int(op.width)))
                case RegisterOp.write: Self.write(&s, op.offset, op.value, width: Int(op.width))
                case RegisterOp.poll:
                    let v = Self.access(&s, op.offset, width: Int(op.width))
                    guard v & op.mask == op.value else { return .errorReply(to: m, errno: 110, message: "poll timed out") }
                    put(v)
                default: break
                }
            }
            return .reply(to: m, attributes: [.binary(.regResults, results)])
        case .regWriteDMA:
            guard m.attribute(.regOffset)?.u32 == UHCI_FLBASEADD, m.attribute(.regWidth)?.u8 == 4,
                  let handle = m.attribute(.dmaHandle)?.u32, handle == Self.frameListHandle else {
                return .errorReply(to: m, errno: 22, message: "not the frame list into FLBASEADD")
            }
            s.writes.append((UHCI_FLBASEADD, handle))
            s.frameList = handle
            return .reply(to: m)
        case .usbSchedule:
            s.schedules += 1
            return .reply(to: m, attributes: [.u32(.dmaHandle, Self.frameListHandle)])
        case .usbRegister:
            guard s.schedules > 0 else { return .errorReply(to: m, errno: 22, attribute: .usbPorts, message: "USB_REGISTER before USB_SCHEDULE") }
            if !s.registered {
                guard m.attribute(.usbPorts)?.u8 == 2 else { return .errorReply(to: m, errno: 22, attribute: .usbPorts, message: "ports") }
                s.registered = true
                return .reply(to: m)
            }
            return .reply(to: m, attributes: [.string(.usbBusName, "usb3")])
        case .usbPortChange, .usbSet:
            guard !m.attributes.isEmpty else { return .errorReply(to: m, errno: 22, message: "nothing named") }
            return .reply(to: m)
        default:
            return .errorReply(to: m, errno: 95, message: "\(m.op.name) is not a usb-host downcall")
        }
    }
}

/// The uhci u-driver against ``FakeUHCI``: what it writes to the
/// controller, what its root hub answers usbcore, what it tells the
/// nucleus.
@Suite struct UHCITests {
    static let cmdRunning = UInt16(UHCI_CMD_RS | UHCI_CMD_CF | UHCI_CMD_MAXP)
    static let pe = UInt16(UHCI_PORT_PE), csc = UInt16(UHCI_PORT_CSC), pec = UInt16(UHCI_PORT_PEC)

    static func driver(_ hc: FakeUHCI, poll: Duration? = nil) -> UHCI {
        let device = Device(instance: 1) { m in hc.handle(m) }
        let id = DeviceIdentity(bus: .pci, vendor: 0x8086, device: 0x7020, slot: "0000:00:01.2", barSize: UHCI_IO_SIZE)
        return UHCI(device: device, info: DeviceInfo(instance: 1, driverName: "uhci", deviceClass: .usbHost, identity: id),
                    pollInterval: poll)
    }

    static func upcall(_ op: XPCOp, _ a: [XPCAttribute], reattach: Bool = false) -> XPCMessage {
        XPCMessage(op: op, flags: reattach ? [.request, .reattach] : .request, instance: 1, attributes: a)
    }

    /// A root-hub request through the class's dispatch: USB_DATA's bytes.
    static func hub(_ d: UHCI, _ r: USBHubRequest) async throws -> [UInt8] {
        let reply = try await d.dispatch(upcall(.usbHubControl, r.attributes))
        return reply.first { $0.id == .usbData }?.payload ?? []
    }

    /// The reply status the runtime sends for `r` (an error becomes
    /// XPCMessage.errorReply, as UDriverRuntime does it).
    static func status(_ d: UHCI, _ r: USBHubRequest) async -> Int32 {
        let m = upcall(.usbHubControl, r.attributes)
        do {
            _ = try await d.dispatch(m)
            return 0
        } catch let e as UDriverError {
            return XPCMessage.errorReply(to: m, errno: e.errno, attribute: e.attribute, message: e.message).status
        } catch {
            return -5
        }
    }

    /// GetPortStatus: wPortStatus and wPortChange.
    static func portStatus(_ d: UHCI, _ port: UInt16) async throws -> (status: USBPortStatus, change: USBPortChange) {
        let b = try await hub(d, .portStatus(port: port))
        try #require(b.count == 4)
        return (USBPortStatus(rawValue: UInt16(b[0]) | UInt16(b[1]) << 8), USBPortChange(rawValue: UInt16(b[2]) | UInt16(b[3]) << 8))
    }

    @Test func aFreshProbeResetsProgramsTheFrameListStartsAndRegistersTwoPorts() async throws {
        let hc = FakeUHCI()
        hc.connect(1)
        let d = Self.driver(hc)
        #expect(try await d.probe(reattach: false) == "UHCI")
        #expect(hc.read { $0.ports[0].deviceResets } == 2, "GRESET and HCRESET each reset the device on the bus")
        #expect(hc.read { $0.writes.contains { $0.offset == UHCI_USBCMD && $0.value == UHCI_CMD_GRESET } })
        #expect(hc.read { $0.frameList } == FakeUHCI.frameListHandle, "FLBASEADD holds the schedule's frame list")
        #expect(hc.read { $0.cmd } == Self.cmdRunning)
        #expect(hc.read { $0.status } & UInt16(UHCI_STS_HCH) == 0, "running")
        #expect(hc.read { $0.intr } == UInt16(UHCI_INTR_TIMEOUT | UHCI_INTR_RESUME | UHCI_INTR_IOC | UHCI_INTR_SP))
        #expect(hc.read { $0.sofmod } == 0x40 && hc.read { $0.frnum } == 0)
        let ops = hc.read { $0.calls.map(\.op) }
        let schedule = try #require(ops.firstIndex(of: .usbSchedule)), dma = try #require(ops.firstIndex(of: .regWriteDMA))
        let register = try #require(ops.firstIndex(of: .usbRegister))
        #expect(schedule < dma && dma < register)
        #expect(hc.calls(.usbRegister).first?.attribute(.usbPorts)?.u8 == 2)
        #expect(hc.calls(.usbSet).map { $0.attribute(.usbHcState)?.u8 } == [XPCUSBHCState.running.rawValue])
        // The device plugged in before the reset is a connect change to report.
        #expect(hc.port(1) & UInt16(UHCI_PORT_CCS | UHCI_PORT_CSC) == UInt16(UHCI_PORT_CCS | UHCI_PORT_CSC))
    }

    /// The nucleus polls a millisecond at a time; the driver gives HCRESET
    /// ten of them, then says what did not end.
    @Test func aSlowHCRESETIsWaitedForTenPollsAtMost() async throws {
        let slow = FakeUHCI()
        slow.state.withLock { $0.hcResetReads = 5 }
        _ = try await Self.driver(slow).probe(reattach: false)
        #expect(slow.read { $0.cmd } == Self.cmdRunning)
        let stuck = FakeUHCI()
        stuck.state.withLock { $0.hcResetReads = 1000 }
        do {
            _ = try await Self.driver(stuck).probe(reattach: false)
            Issue.record("a controller stuck in HCRESET was started")
        } catch let e as UDriverError {
            #expect(e.errno == 110 && e.message.contains("HCRESET"), "\(e)")
        }
        #expect(stuck.calls(.usbRegister).isEmpty)
    }

    @Test func aConnectIsReportedByGetPortStatusAndByTheBitmap() async throws {
        let hc = FakeUHCI()
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        try await d.pollRootHub()
        #expect(hc.portChanges == [0], "the first poll tells the nucleus where it stands")
        hc.connect(2)
        try await d.pollRootHub()
        #expect(hc.portChanges == [0, 0b100], "port 2 changed")
        try await d.pollRootHub()
        #expect(hc.portChanges == [0, 0b100], "sent only when it differs")
        let two = try await Self.portStatus(d, 2)
        #expect(two.status == [.power, .connection] && two.change == .connection)
        let one = try await Self.portStatus(d, 1)
        #expect(one.status == .power && one.change.isEmpty)
        // Three polls, three reads; GetPortStatus reads its own port's 16 bits.
        let wide = hc.calls(.regRead).filter { $0.attribute(.regWidth)?.u8 == 4 }
        #expect(wide.count == 3 && wide.allSatisfy { $0.attribute(.regOffset)?.u32 == UHCI_PORTSC1 }, "one 4-byte read a poll")
    }

    /// The CI failure of stop 33: the tablet unplugged, the hub driver
    /// cleared C_CONNECTION, and it was plugged back before the next poll.
    /// The bitmap was port 2 before and after; unless a clear makes the
    /// nucleus's copy stale, the plug is never sent and never enumerated.
    @Test func aChangeAgainAfterTheHubDriverClearedOneIsSentThoughTheBitmapLooksTheSame() async throws {
        let hc = FakeUHCI()
        hc.connect(2)
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        hc.connect(2)
        try await d.pollRootHub()
        #expect(hc.portChanges == [0b100])
        _ = try await Self.hub(d, .clearPort(.cConnection, port: 2))
        hc.connect(2)
        try await d.pollRootHub()
        #expect(hc.portChanges == [0b100, 0b100], "the change after the clear is sent")
        try await d.pollRootHub()
        #expect(hc.portChanges == [0b100, 0b100], "and once")
        _ = try await Self.hub(d, .clearPort(.cConnection, port: 2))
        try await d.pollRootHub()
        #expect(hc.portChanges == [0b100, 0b100, 0], "a clear with nothing after it: the nucleus hears of none")
    }

    @Test func clearingCConnectionClearsCSCAndKeepsTheEnableAndItsChange() async throws {
        let hc = FakeUHCI()
        hc.connect(1)
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        _ = try await Self.hub(d, .setPort(.reset, port: 1))
        hc.glitch(1)
        #expect(hc.port(1) & (Self.pe | Self.csc | Self.pec) == Self.pe | Self.csc | Self.pec)
        _ = try await Self.hub(d, .clearPort(.cConnection, port: 1))
        #expect(hc.port(1) & (Self.pe | Self.csc | Self.pec) == Self.pe | Self.pec, "only CSC cleared")
        _ = try await Self.hub(d, .clearPort(.cEnable, port: 1))
        #expect(hc.port(1) & (Self.pe | Self.csc | Self.pec) == Self.pe)
        #expect(try await Self.portStatus(d, 1).status.contains(.enable))
    }

    @Test func aPortResetEndsEnabledWithCResetUntilItIsCleared() async throws {
        let hc = FakeUHCI()
        hc.connect(1)
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        let resets = hc.read { $0.ports[0].deviceResets }
        #expect(try await Self.hub(d, .setPort(.reset, port: 1)).isEmpty)
        #expect(hc.read { $0.ports[0].deviceResets } == resets + 1, "PR reset the device")
        #expect(hc.port(1) & UInt16(UHCI_PORT_PR) == 0, "PR is off again")
        #expect(hc.port(1) & (Self.pe | Self.csc | Self.pec) == Self.pe, "enabled; the reset's own changes cleared")
        let after = try await Self.portStatus(d, 1)
        #expect(after.status == [.power, .connection, .enable])
        #expect(after.change == .reset)
        try await d.pollRootHub()
        #expect(hc.portChanges.last == 0b10)
        #expect(try await Self.portStatus(d, 1).change == .reset, "reported until cleared")
        _ = try await Self.hub(d, .clearPort(.cReset, port: 1))
        #expect(try await Self.portStatus(d, 1).change.isEmpty)
        try await d.pollRootHub()
        #expect(hc.portChanges.last == 0)
    }

    @Test func aSuspendedPortResumesWithCSuspend() async throws {
        let hc = FakeUHCI()
        hc.connect(2)
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        _ = try await Self.hub(d, .setPort(.reset, port: 2))
        _ = try await Self.hub(d, .setPort(.suspend, port: 2))
        #expect(hc.port(2) & UInt16(UHCI_PORT_SUSP) != 0)
        #expect(try await Self.portStatus(d, 2).status.contains(.suspend))
        #expect(await d.suspended == 0b100)
        _ = try await Self.hub(d, .clearPort(.suspend, port: 2))
        #expect(hc.port(2) & UInt16(UHCI_PORT_SUSP | UHCI_PORT_RD) == 0)
        let resumed = try await Self.portStatus(d, 2)
        #expect(!resumed.status.contains(.suspend) && resumed.change.contains(.suspend))
        _ = try await Self.hub(d, .clearPort(.cSuspend, port: 2))
        #expect(!(try await Self.portStatus(d, 2).change.contains(.suspend)))
        #expect(await d.suspended == 0)
    }

    @Test func aBadPortOrAnUnknownFeatureStallsWithEPIPE() async throws {
        let hc = FakeUHCI()
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        #expect(await Self.status(d, .portStatus(port: 0)) == -32)
        #expect(await Self.status(d, .portStatus(port: 3)) == -32)
        #expect(await Self.status(d, .setPort(.reset, port: 3)) == -32)
        #expect(await Self.status(d, USBHubRequest(request: USBHubRequest.setPortFeature, value: 0x55, index: 1)) == -32)
        #expect(await Self.status(d, .setPort(.connection, port: 1)) == -32)
        #expect(await Self.status(d, .clearPort(.power, port: 1)) == -32, "no power switching")
        #expect(await Self.status(d, USBHubRequest(request: USBHubRequest.setHubFeature, value: 7)) == -32)
        #expect(await Self.status(d, USBHubRequest(request: 0x1234)) == -32)
        #expect(await Self.status(d, .setPort(.power, port: 1)) == 0)
        #expect(await Self.status(d, USBHubRequest(request: USBHubRequest.clearHubFeature, value: 1)) == 0)
    }

    @Test func theHubDescriptorIsAHubsWithTwoPortsCutToWLength() async throws {
        let hc = FakeUHCI()
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        let full = try await Self.hub(d, USBHubRequest(request: USBHubRequest.getHubDescriptor, value: 0x2900, length: 64))
        #expect(full.count == 9 && full[0] == 9 && full[1] == 0x29 && full[2] == 2)
        #expect(try await Self.hub(d, USBHubRequest(request: USBHubRequest.getHubDescriptor, value: 0x2900, length: 2)) == [9, 0x29])
        #expect(try await Self.hub(d, USBHubRequest(request: USBHubRequest.getHubStatus, length: 4)) == [0, 0, 0, 0])
        // An IN request asked for fewer bytes than it has gets that many.
        #expect(try await Self.hub(d, USBHubRequest(request: USBHubRequest.getPortStatus, index: 1, length: 2)).count == 2)
    }

    @Test func aReattachWritesNothingAndAdoptsTheReplayedResetChange() async throws {
        let hc = FakeUHCI()
        hc.connect(1)
        let first = Self.driver(hc)
        _ = try await first.probe(reattach: false)
        _ = try await Self.hub(first, .setPort(.reset, port: 1))
        // The u-driver dies here; the shadow kept SetPortFeature(RESET, 1).
        let writes = hc.read { $0.writes.count }, deviceResets = hc.read { $0.ports[0].deviceResets }
        let schedules = hc.read { $0.schedules }
        let second = Self.driver(hc)
        #expect(try await second.probe(reattach: true) == "UHCI")
        #expect(hc.read { $0.writes.count } == writes, "no register written: no reset, no USBCMD")
        #expect(hc.read { $0.ports[0].deviceResets } == deviceResets)
        #expect(hc.read { $0.cmd } == Self.cmdRunning && hc.read { $0.frameList } == FakeUHCI.frameListHandle)
        #expect(hc.read { $0.schedules } == schedules + 1 && hc.calls(.usbRegister).count == 2, "found, not made")
        #expect(await second.busName == "usb3")
        // The replay: FSBR and the port whose C_PORT_RESET is pending.
        let replay = Self.upcall(.usbHcSet, USBHostSettings(fsbr: .on, resetChanges: 0b10, suspended: 0).attributes, reattach: true)
        #expect(try await second.dispatch(replay).isEmpty)
        #expect(hc.calls(.usbSet).last?.attribute(.usbFSBR)?.u8 == 1)
        let port = try await Self.portStatus(second, 1)
        #expect(port.change == .reset && port.status.contains(.enable))
        try await second.pollRootHub()
        #expect(hc.portChanges.last == 0b10)
        #expect(hc.read { $0.writes.count } == writes, "still nothing written")
    }

    @Test func aReattachToAStoppedControllerStartsItAfreshAndAdoptsNoPortState() async throws {
        let hc = FakeUHCI()
        hc.connect(1)
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: true)
        #expect(hc.read { $0.cmd } == Self.cmdRunning && hc.read { $0.frameList } == FakeUHCI.frameListHandle)
        #expect(hc.read { $0.ports[0].deviceResets } == 2, "a fresh start resets the bus")
        // The replay's reset change was of ports that have been reset since.
        let replay = Self.upcall(.usbHcSet, USBHostSettings(fsbr: .off, resetChanges: 0b10, suspended: 0).attributes, reattach: true)
        _ = try await d.dispatch(replay)
        #expect(try await Self.portStatus(d, 1).change == .connection)
    }

    @Test func aControllerErrorRestartsItOnTheSameFrameList() async throws {
        let hc = FakeUHCI()
        hc.connect(1)
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        hc.hostSystemError(atFrame: 0x123)
        let calls = hc.read { $0.calls.count }
        let error = Self.upcall(.usbHcError, [.u32(.regValue, UHCI_STS_HSE | UHCI_STS_HCH)])
        #expect(try await d.dispatch(error).isEmpty)
        #expect(hc.read { $0.cmd } == Self.cmdRunning)
        #expect(hc.read { $0.status } & UInt16(UHCI_STS_HCH) == 0)
        #expect(hc.read { $0.frameList } == FakeUHCI.frameListHandle, "the same frame list, written again after HCRESET")
        #expect(hc.read { $0.frnum } == 0x124, "on from the next frame")
        let after = hc.read { Array($0.calls[calls...]) }
        #expect(!after.contains { $0.op == .usbSchedule }, "the schedule is the one it had")
        #expect(after.filter { $0.op == .usbSet }.map { $0.attribute(.usbHcState)?.u8 }
                == [XPCUSBHCState.halted.rawValue, XPCUSBHCState.running.rawValue])
        #expect(await d.hcErrors == 1)
        // The reset was a reconnect for the device: the poll reports it.
        try await d.pollRootHub()
        #expect(hc.portChanges.last == 0b10)
    }

    @Test func settingsGoToTheNucleusAndAResetIgnoresReplayedPortState() async throws {
        let hc = FakeUHCI()
        let d = Self.driver(hc)
        _ = try await d.probe(reattach: false)
        #expect(try await d.dispatch(Self.upcall(.usbHcSet, [.u8(.usbFSBR, 1)])).isEmpty)
        #expect(hc.calls(.usbSet).last?.attribute(.usbFSBR)?.u8 == 1)
        #expect(await d.fsbr == .on)
        #expect(try await d.dispatch(Self.upcall(.usbHcSet, [.u8(.usbFSBR, 2)])).isEmpty)
        #expect(hc.calls(.usbSet).last?.attribute(.usbFSBR)?.u8 == 2)
        #expect(await d.fsbr == .auto)
        // Replayed unflagged into a reset controller: the ports start afresh.
        _ = try await d.dispatch(Self.upcall(.usbHcSet, [.u8(.usbFSBR, 0), .u32(.usbResetChanges, 0b10)]))
        #expect(await d.resetChanges == 0)
        #expect(await d.fsbr == .off)
        await #expect(throws: UDriverError.self) { try await d.dispatch(Self.upcall(.usbHcSet, [])) }
        await #expect(throws: UDriverError.self) { try await d.dispatch(Self.upcall(.inputSet, [.u8(.mouseRate, 10)])) }
    }

    /// Waits up to `limit` for `done` (long: the whole suite shares the
    /// concurrency pool with the driver's poll task, and can starve it).
    static func eventually(_ limit: Duration = .seconds(30), _ done: () -> Bool) async -> Bool {
        let end = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < end {
            if done() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return done()
    }

    @Test func thePollRunsByItselfAndLivesThroughFailedDowncalls() async throws {
        let hc = FakeUHCI()
        let d = Self.driver(hc, poll: .milliseconds(5))
        _ = try await d.probe(reattach: false)
        #expect(await Self.eventually { hc.portChanges == [0] })
        hc.fail(.regRead)
        let before = hc.calls(.regRead).count
        #expect(await Self.eventually { hc.calls(.regRead).count >= before + 3 }, "polls go on while they fail")
        #expect(await d.pollFailures >= 2)
        hc.fail(.regRead, false)
        hc.connect(2)
        #expect(await Self.eventually { hc.portChanges.last == 0b100 })
        hc.fail(.usbPortChange)
        _ = try await Self.hub(d, .clearPort(.cConnection, port: 2))
        let failures = await d.pollFailures
        #expect(await Self.eventually { hc.calls(.usbPortChange).count >= 4 }, "a refused USB_PORT_CHANGE is sent again")
        #expect(await d.pollFailures > failures)
        hc.fail(.usbPortChange, false)
        #expect(await Self.eventually { hc.portChanges.last == 0 })
    }

    @Test func thePollEndsWithTheDriver() async throws {
        let hc = FakeUHCI()
        var d: UHCI? = Self.driver(hc, poll: .milliseconds(2))
        _ = try await d?.probe(reattach: false)
        #expect(await Self.eventually { hc.calls(.regRead).count >= 3 })
        d = nil
        // A poll under way when the driver went ends; then none follows
        // (at 2 ms a poll, a running one would make a hundred).
        try await Task.sleep(for: .milliseconds(200))
        let reads = hc.calls(.regRead).count
        try await Task.sleep(for: .milliseconds(200))
        #expect(hc.calls(.regRead).count == reads, "no poll after the driver went")
    }
}
