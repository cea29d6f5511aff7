// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import Foundation
import Synchronization
import Testing
import XPC
@testable import NucleusSim

/// QEMU's UHCI as the model answers its registers (hw/usb/hcd-uhci.c).
@Suite struct UHCIModelTests {
    let disk = SimUSBDisk(), tablet = SimUSBTablet()
    var model: UHCIModel { UHCIModel(devices: [disk, tablet]) }

    static let ccs = UInt32(UHCI_PORT_CCS), csc = UInt32(UHCI_PORT_CSC), pe = UInt32(UHCI_PORT_PE)
    static let pec = UInt32(UHCI_PORT_PEC), pr = UInt32(UHCI_PORT_PR), r1 = UInt32(UHCI_PORT_R1)

    @Test func identityIsThePIIX3FunctionWithA32ByteIOBar() {
        let m = model
        #expect(m.identity.vendor == 0x8086 && m.identity.device == 0x7020)
        #expect(m.identity.barSize == 32 && m.identity.match == "pci:8086:7020")
        #expect(m.snapshot().count == 32)
    }

    @Test func runStopDrivesHaltedAndStatusIsWriteOneToClear() {
        let m = model
        let mem = SimMemory()
        #expect(m.read(offset: UHCI_USBSTS, width: 2) == UHCI_STS_HCH, "halted out of reset")
        #expect(m.read(offset: UHCI_SOFMOD, width: 1) == UHCI_SOFMOD_DEFAULT)
        m.write(offset: UHCI_USBCMD, width: 2, value: UHCI_CMD_RS | UHCI_CMD_CF | UHCI_CMD_MAXP)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_HCH == 0, "RS clears HCH")
        #expect(m.read(offset: UHCI_USBCMD, width: 2) == UHCI_CMD_RS | UHCI_CMD_CF | UHCI_CMD_MAXP)
        // FRNUM counts frames while running and ignores writes then.
        m.tick(nanos: 5_000_000, memory: mem)
        #expect(m.read(offset: UHCI_FRNUM, width: 2) == 5)
        m.write(offset: UHCI_FRNUM, width: 2, value: 100)
        #expect(m.read(offset: UHCI_FRNUM, width: 2) == 5)
        m.write(offset: UHCI_USBCMD, width: 2, value: 0)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_HCH != 0, "RS clear sets HCH")
        m.tick(nanos: 5_000_000, memory: mem)
        #expect(m.read(offset: UHCI_FRNUM, width: 2) == 5, "no frames while halted")
        m.write(offset: UHCI_FRNUM, width: 2, value: 0x1234)
        #expect(m.read(offset: UHCI_FRNUM, width: 2) == 0x1234 & UHCI_FRNUM_MASK)
        // USBSTS: a 1 clears, a 0 leaves.
        m.hostSystemError()
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_HSE != 0 && m.irqAsserted)
        m.write(offset: UHCI_USBSTS, width: 2, value: UHCI_STS_USBINT)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_HSE != 0)
        m.write(offset: UHCI_USBSTS, width: 2, value: UHCI_STS_HSE)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) == UHCI_STS_HCH && !m.irqAsserted)
        m.write(offset: UHCI_USBINTR, width: 2, value: 0xf)
        #expect(m.read(offset: UHCI_USBINTR, width: 2) == 0xf)
    }

    @Test func flbaseaddKeepsItsPageAndReadsAsOneDword() {
        let m = model
        m.write(offset: UHCI_FLBASEADD, width: 4, value: 0x1234_5678)
        #expect(m.read(offset: UHCI_FLBASEADD, width: 4) == 0x1234_5000)
        #expect(m.read(offset: UHCI_FLBASEADD + 2, width: 2) == 0x1234)
        m.write(offset: UHCI_SOFMOD, width: 1, value: 0x3f)
        #expect(m.read(offset: UHCI_SOFMOD, width: 1) == 0x3f)
    }

    @Test func resetsBringRegistersBackAndDevicesConnectAgain() {
        let m = model
        m.write(offset: UHCI_USBINTR, width: 2, value: 0xf)
        m.write(offset: UHCI_FLBASEADD, width: 4, value: 0x8000)
        m.write(offset: UHCI_PORTSC1, width: 2, value: Self.csc)
        disk.address = 5
        m.write(offset: UHCI_USBCMD, width: 2, value: UHCI_CMD_HCRESET)
        #expect(disk.address == 0, "the port's reset resets the device")
        #expect(m.read(offset: UHCI_USBCMD, width: 2) == 0, "HCRESET self-clears")
        #expect(m.read(offset: UHCI_USBINTR, width: 2) == 0 && m.read(offset: UHCI_FLBASEADD, width: 4) == 0)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) == UHCI_STS_HCH)
        #expect(m.read(offset: UHCI_PORTSC1, width: 2) == Self.r1 | Self.ccs | Self.csc)
        #expect(m.controllerResets == 1)
        m.write(offset: UHCI_USBCMD, width: 2, value: UHCI_CMD_GRESET)
        #expect(disk.address == 0, "a global reset resets the devices")
        #expect(m.controllerResets == 2)
    }

    @Test func portStatusAndControl() {
        let m = UHCIModel(devices: [disk])
        let p1 = UHCI_PORTSC1, p2 = UHCI_PORTSC1 + 2
        #expect(m.read(offset: p1, width: 2) == Self.r1 | Self.ccs | Self.csc, "a device on port 1")
        #expect(m.read(offset: p2, width: 2) == Self.r1, "nothing on port 2")
        // Both ports in one 32-bit read, as the u-driver's poll reads them.
        #expect(m.read(offset: p1, width: 4) == (Self.r1 | Self.ccs | Self.csc) | Self.r1 << 16)
        // The read-only bits stay whatever is written; CSC is W1C.
        m.write(offset: p1, width: 2, value: 0)
        #expect(m.read(offset: p1, width: 2) == Self.r1 | Self.ccs | Self.csc)
        m.write(offset: p1, width: 2, value: Self.csc)
        #expect(m.read(offset: p1, width: 2) == Self.r1 | Self.ccs)
        // PE only with a device connected.
        m.write(offset: p2, width: 2, value: Self.pe)
        #expect(m.read(offset: p2, width: 2) & Self.pe == 0)
        // PR resets the device (its address is gone).
        disk.address = 3
        m.write(offset: p1, width: 2, value: Self.pr)
        #expect(disk.address == 0 && m.portResets[0] == 1)
        #expect(m.read(offset: p1, width: 2) & Self.pr != 0)
        m.write(offset: p1, width: 2, value: Self.pr)
        #expect(m.portResets[0] == 1, "PR held is not a second reset")
        m.write(offset: p1, width: 2, value: 0)
        m.write(offset: p1, width: 2, value: Self.pe)
        #expect(m.read(offset: p1, width: 2) == Self.r1 | Self.ccs | Self.pe)
        // Unplugged: CCS goes with CSC, PE with PEC.
        m.detach(port: 1)
        #expect(m.read(offset: p1, width: 2) == Self.r1 | Self.csc | Self.pec)
        m.write(offset: p1, width: 2, value: Self.csc | Self.pec)
        #expect(m.read(offset: p1, width: 2) == Self.r1)
        m.attach(tablet, port: 2)
        #expect(m.read(offset: p2, width: 2) == Self.r1 | Self.ccs | Self.csc)
    }
}

/// The frame processor on a hand-built schedule (uhci_process_frame).
@Suite struct UHCIFrameTests {
    /// A 16 KiB schedule: every frame → the TD at 0x1000, whose token is
    /// `token`; the controller running on it with the disk at address 1.
    func running(token: UInt32, ioc: Bool = true) throws -> (UHCIModel, SimMemory, SimMemory.Buffer, SimUSBDisk) {
        let disk = SimUSBDisk()
        let m = UHCIModel(devices: [disk])
        let mem = SimMemory()
        let b = try #require(mem.allocate(instance: 1, size: 0x4000, role: 7))
        for f in 0..<1024 { mem.write(bus: b.busAddress + UInt32(4 * f), XPCAttribute.le(b.busAddress + 0x1000)) }
        mem.write(bus: b.busAddress + 0x1000, XPCAttribute.le(UHCI_PTR_TERM)
                  + XPCAttribute.le(UHCI_TD_ACTIVE | (3 << UHCI_TD_CERR_SHIFT) | (ioc ? UHCI_TD_IOC : 0))
                  + XPCAttribute.le(token) + XPCAttribute.le(b.busAddress + 0x2000))
        m.write(offset: UHCI_PORTSC1, width: 2, value: UHCI_PORT_CSC | UHCI_PORT_PE)
        disk.address = 1
        m.write(offset: UHCI_FLBASEADD, width: 4, value: b.busAddress)
        m.write(offset: UHCI_USBINTR, width: 2, value: UHCI_INTR_IOC | UHCI_INTR_TIMEOUT)
        m.write(offset: UHCI_USBCMD, width: 2, value: UHCI_CMD_RS)
        return (m, mem, b, disk)
    }

    func tdStatus(_ mem: SimMemory, _ b: SimMemory.Buffer) -> UInt32 {
        let v = mem.read(bus: b.busAddress + 0x1004, count: 4)
        return UInt32(v[0]) | UInt32(v[1]) << 8 | UInt32(v[2]) << 16 | UInt32(v[3]) << 24
    }

    @Test func anOutTDToTheDiskCompletesAndInterruptsAtTheFrameAfter() throws {
        // OUT, address 1, endpoint 2, 4 bytes: block 7 selected.
        let (m, mem, b, disk) = try running(token: UHCI_PID_OUT | 1 << UHCI_TOKEN_DEVADDR_SHIFT | 2 << UHCI_TOKEN_EP_SHIFT | 3 << UHCI_TOKEN_MAXLEN_SHIFT)
        mem.write(bus: b.busAddress + 0x2000, XPCAttribute.le(UInt32(7)))
        m.tick(nanos: 1_000_000, memory: mem)
        #expect(tdStatus(mem, b) & UHCI_TD_ACTIVE == 0 && tdStatus(mem, b) & UHCI_TD_ACTLEN_MASK == 3, "4 bytes moved")
        #expect(disk.reads == 1)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_USBINT == 0, "IOC is raised at the end of the frame")
        m.tick(nanos: 1_000_000, memory: mem)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_USBINT != 0 && m.irqAsserted)
    }

    @Test func aTDToNoDeviceTimesOutAndAnInvalidPIDHaltsTheController() throws {
        let (m, mem, b, _) = try running(token: UHCI_PID_IN | 9 << UHCI_TOKEN_DEVADDR_SHIFT | 1 << UHCI_TOKEN_EP_SHIFT)
        m.tick(nanos: 1_000_000, memory: mem)
        #expect(tdStatus(mem, b) & UHCI_TD_CRCTIMEO != 0 && tdStatus(mem, b) & UHCI_TD_ACTIVE == 0)
        #expect(m.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_ERROR != 0 && m.irqAsserted)
        let (h, hmem, _, _) = try running(token: 0x55 | 1 << UHCI_TOKEN_DEVADDR_SHIFT)
        h.tick(nanos: 1_000_000, memory: hmem)
        #expect(h.read(offset: UHCI_USBSTS, width: 2) & UHCI_STS_HCPE != 0)
        #expect(h.read(offset: UHCI_USBCMD, width: 2) & UHCI_CMD_RS == 0 && !h.running, "the schedule stopped")
        #expect(h.irqAsserted)
    }

    @Test func aNakLeavesTheTDActiveForTheNextFrame() throws {
        // IN from the disk with no block selected: NAK.
        let (m, mem, b, _) = try running(token: UHCI_PID_IN | 1 << UHCI_TOKEN_DEVADDR_SHIFT | 1 << UHCI_TOKEN_EP_SHIFT | 63 << UHCI_TOKEN_MAXLEN_SHIFT)
        m.tick(nanos: 3_000_000, memory: mem)
        #expect(tdStatus(mem, b) & UHCI_TD_ACTIVE != 0 && tdStatus(mem, b) & UHCI_TD_NAK != 0)
        #expect(m.read(offset: UHCI_FRNUM, width: 2) == 3)
    }
}

/// The usb-host nucleus: its downcalls, and usbcore's hub driver making
/// root-hub requests of a u-driver played here by a fake daemon.
@Suite(.serialized) struct USBHostPathTests {
    static func call(_ n: SimNucleus, _ op: XPCOp, _ attrs: [XPCAttribute] = []) -> XPCMessage {
        n.handleDowncall(XPCMessage(op: op, flags: .request, instance: 1, attributes: attrs))
    }

    @Test func theScheduleIsBuiltOnceAndRegisterWaitsForIt() throws {
        let n = SimNucleus(models: [UHCIModel(devices: [SimUSBDisk(), SimUSBTablet()])])
        let early = Self.call(n, .usbRegister, [.u8(.usbPorts, 2)])
        #expect(early.remoteError?.errno == 22)
        #expect(early.remoteError?.message?.contains("USB_SCHEDULE") == true)
        let s1 = Self.call(n, .usbSchedule)
        let h = try s1.u32(.dmaHandle)
        #expect(try Self.call(n, .usbSchedule).u32(.dmaHandle) == h, "a repeat gets the same handle")
        let info = Self.call(n, .deviceInfo)
        let objects = info.all(.object)
        #expect(objects.count == 1, "one schedule object")
        #expect(objects.first?.children.first { $0.id == .objectRole }?.u8 == UInt8(DRVXPC_ROLE_FRAME_LIST.rawValue))
        let noPorts = Self.call(n, .usbRegister)
        #expect(noPorts.remoteError?.errno == 22 && noPorts.remoteError?.attribute == .usbPorts)
        let r = Self.call(n, .usbRegister, [.u8(.usbPorts, 2)])
        #expect(r.status == 0 && r.attribute(.usbBusName) == nil, "the first reply may not name the bus")
        #expect(n.isRegistered(1))
        let again = Self.call(n, .usbRegister)
        #expect(again.status == 0 && again.attribute(.usbBusName)?.string == "usb1", "a repeat finds the bus")
        #expect(Self.call(n, .usbSet).remoteError?.errno == 22, "USB_SET needs a setting")
        #expect(Self.call(n, .usbSet, [.u8(.usbFSBR, 1)]).status == 0)
        #expect(Self.call(n, .usbPortChange, [.u32(.usbPortChanges, 1 << 5)]).remoteError?.attribute == .usbPortChanges)
        let i2 = Self.call(n, .deviceInfo)
        #expect(i2.attribute(.usbFSBR)?.u8 == 1 && i2.attribute(.usbPorts)?.u8 == 2)
        #expect(i2.attribute(.usbBusName)?.string == "usb1")
        #expect(i2.attribute(.usbHcState)?.u8 == UInt8(DRVXPC_USB_HC_HALTED.rawValue))
        #expect(i2.attribute(.datapathOn)?.u8 == 0)
    }

    /// A root hub as the u-driver keeps it (uhci-hub.c): port status from
    /// PORTSC, the reset's change bit in software, RWC bits masked.
    final class FakeRootHub: @unchecked Sendable {
        let sim: SimNucleus
        let lock = Mutex<(requests: [String], resetChanges: UInt32)>(([], 0))
        init(_ sim: SimNucleus) { self.sim = sim }

        var requests: [String] { lock.withLock { $0.requests } }

        func portsc(_ p: Int) -> UInt32 {
            sim.inspect(1) { $0.read(offset: UHCI_PORTSC1 + UInt32(2 * (p - 1)), width: 2) } ?? 0
        }
        func writePortsc(_ p: Int, _ v: UInt32) {
            _ = sim.inspect(1) { $0.write(offset: UHCI_PORTSC1 + UInt32(2 * (p - 1)), width: 2, value: v) }
        }
        func changes() -> UInt32 {
            var bits = lock.withLock { $0.resetChanges }
            for p in 1...2 where portsc(p) & (UHCI_PORT_CSC | UHCI_PORT_PEC) != 0 { bits |= 1 << UInt32(p) }
            return bits
        }

        /// hub_control: the reply to one USB_HUB_CONTROL.
        func answer(_ m: XPCMessage) -> XPCMessage {
            let req = m.attribute(.usbRequest)?.u16 ?? 0, value = m.attribute(.usbValue)?.u16 ?? 0
            let p = Int(m.attribute(.usbIndex)?.u16 ?? 0)
            guard (1...2).contains(p) else { return .reply(to: m, status: -32) }
            let rwcMasked = portsc(p) & ~(UHCI_PORT_CSC | UHCI_PORT_PEC | UHCI_PORT_OCC)
            switch (req, value) {
            case (0xa300, _):
                lock.withLock { $0.requests.append("GetPortStatus(\(p))") }
                let r = portsc(p)
                var status: UInt16 = 0x100, change: UInt16 = 0
                if r & UHCI_PORT_CCS != 0 { status |= 1 }
                if r & UHCI_PORT_PE != 0 { status |= 2 }
                if r & UHCI_PORT_PR != 0 { status |= 0x10 }
                if r & UHCI_PORT_CSC != 0 { change |= 1 }
                if r & UHCI_PORT_PEC != 0 { change |= 2 }
                if lock.withLock({ $0.resetChanges }) & (1 << UInt32(p)) != 0 { change |= 0x10 }
                return .reply(to: m, attributes: [.binary(.usbData, XPCAttribute.le(status) + XPCAttribute.le(change))])
            case (0x2301, let f):
                lock.withLock { $0.requests.append("ClearPortFeature(\(f), \(p))") }
                switch f {
                case 16: writePortsc(p, rwcMasked | UHCI_PORT_CSC)
                case 17: writePortsc(p, rwcMasked | UHCI_PORT_PEC)
                case 20: lock.withLock { $0.resetChanges &= ~(1 << UInt32(p)) }
                default: break
                }
                return .reply(to: m)
            case (0x2303, 4):
                lock.withLock { $0.requests.append("SetPortFeature(4, \(p))") }
                writePortsc(p, rwcMasked | UHCI_PORT_PR)
                writePortsc(p, rwcMasked & ~UHCI_PORT_PR)
                writePortsc(p, (rwcMasked & ~UHCI_PORT_PR) | UHCI_PORT_PE)
                // uhci_check_ports: the reset's own changes cleared.
                writePortsc(p, portsc(p) | UHCI_PORT_CSC | UHCI_PORT_PEC)
                lock.withLock { $0.resetChanges |= 1 << UInt32(p) }
                return .reply(to: m)
            default:
                return .reply(to: m, status: -32)
            }
        }
    }

    func until(_ what: String, seconds: Double = 40, _ cond: () -> Bool) async throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && !cond() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(cond(), "\(what)")
    }

    /// A UHCI sim serving a fake daemon whose root hub answers every
    /// USB_HUB_CONTROL (``FakeRootHub``) and that records USB_HC_ERROR's
    /// USBSTS; the u-driver's probe, abridged, has run.
    final class RunningHost: @unchecked Sendable {
        let n: SimNucleus, hub: FakeRootHub
        let hcErrors = Mutex<[UInt32]>([])
        private let listener: XPCListener, daemon: SimUpcallsTests.FakeDaemon
        private var answering: Task<Void, Never>?

        init() async throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("usbhost-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = dir + "/nucleus.sock"
            listener = try XPCListener(path: path)
            n = SimNucleus(models: [UHCIModel(devices: [SimUSBDisk(), SimUSBTablet()])], upcallTimeout: .seconds(5))
            n.serve(listener)
            n.startDataPath()
            hub = FakeRootHub(n)
            daemon = try await SimUpcallsTests.FakeDaemon(path)
            answering = Task { [daemon, hub, self] in
                for await m in daemon.inbox where m.isRequest {
                    if m.op == .usbHubControl { try? daemon.conn.send(hub.answer(m)) }
                    if m.op == .usbHcError {
                        self.hcErrors.withLock { $0.append(m.attribute(.regValue)?.u32 ?? 0) }
                        try? daemon.conn.send(.reply(to: m))
                    }
                }
            }
            let handle = try USBHostPathTests.call(n, .usbSchedule).u32(.dmaHandle)
            #expect(call(n, .regWriteDMA, [.u32(.regOffset, UHCI_FLBASEADD), .u8(.regWidth, 4), .u32(.dmaHandle, handle)]).status == 0)
            #expect(call(n, .regWrite, [.u32(.regOffset, UHCI_USBINTR), .u8(.regWidth, 2),
                                        .u32(.regValue, UHCI_INTR_IOC | UHCI_INTR_TIMEOUT | UHCI_INTR_SP)]).status == 0)
            #expect(call(n, .regWrite, [.u32(.regOffset, UHCI_USBCMD), .u8(.regWidth, 2),
                                        .u32(.regValue, UHCI_CMD_RS | UHCI_CMD_CF | UHCI_CMD_MAXP)]).status == 0)
            #expect(call(n, .usbSet, [.u8(.usbHcState, UInt8(DRVXPC_USB_HC_RUNNING.rawValue))]).status == 0)
            #expect(call(n, .usbRegister, [.u8(.usbPorts, 2)]).status == 0)
        }

        func close() {
            answering?.cancel()
            daemon.conn.close()
            n.stop()
            listener.shutdown()
        }
    }

    @Test func aConnectIsResetAndEnumeratedThroughHubRequestsAndBlocksStream() async throws {
        let host = try await RunningHost()
        defer { host.close() }
        let n = host.n, hub = host.hub
        // The root-hub poll's bitmap: both ports changed.
        #expect(hub.changes() == 0b110)
        #expect(Self.call(n, .usbPortChange, [.u32(.usbPortChanges, hub.changes())]).status == 0)

        func info() -> XPCMessage { Self.call(n, .deviceInfo) }
        func addresses() -> [UInt8] {
            let b = info().attribute(.usbAddresses)?.payload ?? []
            return (0..<128).compactMap { a in b.count > a / 8 && b[a / 8] & (1 << (a % 8)) != 0 ? UInt8(a) : nil }
        }
        try await until("both devices enumerated") { addresses() == [1, 2] }
        let r = hub.requests
        let port1 = r.filter { $0.hasSuffix("(1)") || $0.hasSuffix(", 1)") }
        #expect(Array(port1.prefix(3)) == ["GetPortStatus(1)", "ClearPortFeature(16, 1)", "SetPortFeature(4, 1)"], "\(r)")
        #expect(port1.last == "ClearPortFeature(20, 1)", "\(r)")
        #expect(port1.contains("GetPortStatus(1)") && port1.filter { $0 == "GetPortStatus(1)" }.count >= 2)
        #expect(n.inspect(1) { ($0 as? UHCIModel)?.device(onPort: 1)?.address } == 1)
        #expect(n.inspect(1) { ($0 as? UHCIModel)?.device(onPort: 2)?.address } == 2)
        #expect(info().attribute(.usbPortPolls)?.u64 == 1)

        // The client: blocks read and verified, tablet reports in order.
        try await until("blocks and reports stream") {
            (n.usbClientReport(1)?.blocks ?? 0) > 50 && (n.usbClientReport(1)?.events ?? 0) > 5
        }
        let c = try #require(n.usbClientReport(1))
        #expect(c.checksum == c.expectedChecksum && c.wrong == 0 && c.ioErrors == 0 && c.gaps == 0, "\(c)")
        let i = info()
        #expect(i.attribute(.datapathOn)?.u8 == 1)
        #expect(i.attribute(.usbHcState)?.u8 == UInt8(DRVXPC_USB_HC_RUNNING.rawValue))
        #expect((i.attribute(.usbURBs)?.u64 ?? 0) > 50 && i.attribute(.usbURBErrors)?.u64 == 0)
        #expect(i.attribute(.clientErrors)?.u64 == 0)

        // FSBR: auto (uhci-hcd's way, the default) looped the bulk queue
        // on itself while blocks were read; on, it loops whatever; frames
        // still end and blocks still stream. Off unlinks it.
        #expect(i.attribute(.usbFSBR)?.u8 == XPCUSBFSBR.auto.rawValue && (i.attribute(.usbFSBROns)?.u64 ?? 0) > 0)
        #expect(Self.call(n, .usbSet, [.u8(.usbFSBR, 1)]).status == 0)
        #expect(info().attribute(.usbFSBRActive)?.u8 == 1)
        let looped = try #require(n.usbClientReport(1)?.blocks)
        try await until("blocks stream with FSBR") { (n.usbClientReport(1)?.blocks ?? 0) > looped + 20 }
        #expect(Self.call(n, .usbSet, [.u8(.usbFSBR, 0)]).status == 0)
        #expect(info().attribute(.usbFSBRActive)?.u8 == 0)
        #expect(Self.call(n, .usbSet, [.u8(.usbFSBR, 2)]).status == 0)

        // The tablet unplugged: a connect change, and usbcore drops it.
        _ = n.inspect(1) { _ = ($0 as? UHCIModel)?.detach(port: 2) }
        #expect(Self.call(n, .usbPortChange, [.u32(.usbPortChanges, hub.changes())]).status == 0)
        try await until("the tablet gone") { addresses() == [1] }
        #expect(hub.requests.suffix(3) == ["GetPortStatus(2)", "ClearPortFeature(16, 2)", "ClearPortFeature(17, 2)"])

        // Halted under the client: the block in flight fails, no more follow.
        _ = n.inspect(1) { $0.write(offset: UHCI_USBCMD, width: 2, value: 0) }
        try await until("the data path off") { info().attribute(.datapathOn)?.u8 == 0 }
        let stopped = try #require(n.usbClientReport(1))
        try await Task.sleep(for: .milliseconds(50))
        #expect(n.usbClientReport(1)?.blocks == stopped.blocks, "no block read while halted")
        // Auto FSBR with nothing to reclaim for goes off (10 ms later).
        try await until("auto FSBR off") { info().attribute(.usbFSBRActive)?.u8 == 0 }
        // Halted while the u-driver said it runs: USB_HC_ERROR, with USBSTS.
        try await until("USB_HC_ERROR sent") { !host.hcErrors.withLock { $0.isEmpty } }
        #expect(host.hcErrors.withLock { $0 } == [UHCI_STS_HCH], "one USB_HC_ERROR for the halt")

        // QUIESCE: the devices are gone, cleanly; the controller stays halted.
        #expect(Self.call(n, .quiesce).status == 0)
        #expect(addresses().isEmpty)
        #expect(info().attribute(.usbHcState)?.u8 == UInt8(DRVXPC_USB_HC_HALTED.rawValue))
    }
}

extension USBHostPathTests {
    /// A loaded host runs the data path late: passes of 50 ms, not 1. The
    /// handler runs at each frame the tablet's URB interrupts, as the
    /// kernel's does, so its 10 ms reports are all read (its queue holds
    /// 16); the disk reads at most 4 blocks a pass. A pass covers at most
    /// 32 frames, and the tablet's time stops with them.
    @Test func passesOf50msLoseNoTabletReport() async throws {
        let host = try await RunningHost()
        defer { host.close() }
        let n = host.n
        #expect(Self.call(n, .usbPortChange, [.u32(.usbPortChanges, host.hub.changes())]).status == 0)
        try await until("blocks and reports stream") {
            (n.usbClientReport(1)?.blocks ?? 0) > 10 && (n.usbClientReport(1)?.events ?? 0) > 3
        }
        n.stop()
        try await Task.sleep(for: .milliseconds(20))
        let before = try #require(n.usbClientReport(1))
        for _ in 0..<40 { n.step(nanos: 50_000_000) }
        let after = try #require(n.usbClientReport(1))
        #expect(after.gaps == 0 && after.wrong == 0 && after.ioErrors == 0, "\(after)")
        #expect(after.events - before.events >= 120, "40 passes of 32 frames, a report each 10: \(after.events - before.events)")
        #expect(after.blocks - before.blocks <= 4 * 40, "\(after.blocks - before.blocks) blocks")
        #expect(after.blocks - before.blocks >= 40, "\(after.blocks - before.blocks) blocks")
        #expect(n.inspect(1) { ($0 as? UHCIModel)?.device(onPort: 2).flatMap { $0 as? SimUSBTablet }?.dropped } == 0)
        // Passes of 300 ms: the controller covers 32 frames of each, and
        // the tablet's time stops with its frames (no 30 reports queued
        // for 32 polls, 14 of them dropped).
        for _ in 0..<10 { n.step(nanos: 300_000_000) }
        let late = try #require(n.usbClientReport(1))
        #expect(late.gaps == 0 && late.wrong == 0 && late.ioErrors == 0, "\(late)")
        #expect(late.events - after.events >= 25, "\(late.events - after.events) reports in 10 passes of 32 frames")
        #expect(n.inspect(1) { ($0 as? UHCIModel)?.device(onPort: 2).flatMap { $0 as? SimUSBTablet }?.dropped } == 0)
    }
}
