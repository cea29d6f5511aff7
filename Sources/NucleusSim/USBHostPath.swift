// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import Foundation
import XPC

/// What the usb-host class's sim client has seen: the disk's blocks and
/// the tablet's reports, read while the u-driver is up or recovering.
public struct USBClientReport: Sendable, Equatable {
    /// Blocks read and verified against the disk's content.
    public var blocks: UInt64 = 0
    /// FNV-1a over every byte read, and over what the disk holds for the
    /// same blocks: equal while nothing was read wrong.
    public var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
    public var expectedChecksum: UInt64 = 0xcbf2_9ce4_8422_2325
    /// Block reads given back with an error (the controller halted or
    /// reset under them, a TD in error, a timeout).
    public var ioErrors: UInt64 = 0
    /// Tablet reports read, and reports missing between them.
    public var events: UInt64 = 0
    public var gaps: UInt64 = 0
    /// Blocks or reports whose bytes were not the ones sent.
    public var wrong: UInt64 = 0
}

/// The usb-host class's nucleus for a UHCI controller: what module/uhci.c
/// and usbcore are in the kernel. It builds and owns the schedule (frame
/// list, an interrupt QH every frame, a bulk QH behind it), queues the
/// URBs of its client (a `usb-storage` disk read a block at a time, a
/// tablet's interrupt endpoint) as TDs, acks USBSTS and gives URBs back.
/// It registers the bus with usbcore when the u-driver asks, keeps the
/// root hub's change bitmap the u-driver sends, and plays usbcore's hub
/// driver (``hubDriver``): every root-hub request is an upcall to the
/// u-driver. None of the data path crosses to the u-driver.
///
/// Runs under the nucleus lock, except ``hubDriver``.
final class USBHostPath: SimChipNucleus {
    let model: UHCIModel
    let instance: UInt32
    var deviceClass: XPCDeviceClass { .usbHost }

    // Schedule layout inside the one DMA object (frame list first).
    static let scheduleSize = 0x4000
    static let interruptQH: UInt32 = 0x1000, bulkQH: UInt32 = 0x1010
    static let tabletTD: UInt32 = 0x1100, blockTDs: UInt32 = 0x1200
    static let outBuffer: UInt32 = 0x2000, tabletBuffer: UInt32 = 0x2100, blockBuffer: UInt32 = 0x2200
    /// Bytes an IN TD of the disk's bulk endpoint moves (full speed).
    static let bulkPacket = 64
    static let blockTDCount = 1 + SimUSBDisk.blockSize / bulkPacket
    /// UHCI_TD_ANY_ERROR (a macro Swift does not import).
    static let tdAnyError = UHCI_TD_STALLED | UHCI_TD_DBUFERR | UHCI_TD_BABBLE | UHCI_TD_CRCTIMEO | UHCI_TD_BITSTUFF

    /// The schedule (USB_SCHEDULE): built once.
    private(set) var schedule: SimMemory.Buffer?
    /// USB_REGISTER: usbcore's bus and its root hub's port count.
    private(set) var busName: String?
    private(set) var portCount: UInt8 = 0
    /// USB_PORT_CHANGE's bitmap as last sent, and whether the hub driver
    /// should look (usb_hcd_poll_rh_status).
    private(set) var portChanges: UInt32 = 0
    private var hubKick = false
    /// USB_SET's FSBR policy (auto until told, as the kernel nucleus);
    /// whether the loop is linked, how often it was, and when auto FSBR
    /// unlinks it (10 ms after the last block read, uhci-hcd's delay).
    private(set) var fsbr = XPCUSBFSBR.auto
    private(set) var fsbrOn = false, fsbrOns: UInt64 = 0
    private var fsbrOffAt: UInt64?
    static let fsbrOffDelay: UInt64 = 10_000_000
    private var hcState: UInt8?
    /// QUIESCE: the u-driver is gone for good.
    private(set) var quiesced = false
    /// USB_HC_ERROR sent for the current halt.
    private var hcErrorSent = false
    /// USBSTS as the handler read it (before its ack) since the last pass.
    private var statusSeen: UInt32 = 0
    private var upcalls: [(XPCOp, [XPCAttribute])] = []

    /// usbcore's devices: port → address and what it is.
    private(set) var enumerated: [Int: (address: UInt8, name: String)] = [:]
    private var lastAddress: UInt8 = 0
    /// Devices enumerated, disconnects usbcore saw (clean ones: QUIESCE).
    private(set) var enumerations: UInt64 = 0
    private(set) var disconnects: UInt64 = 0, cleanDisconnects: UInt64 = 0

    // Counters (DEVICE_INFO).
    private(set) var urbs: UInt64 = 0, urbErrors: UInt64 = 0, bytes: UInt64 = 0
    private(set) var hcErrors: UInt64 = 0, portPolls: UInt64 = 0
    private(set) var client = USBClientReport()

    // The client's URBs in flight.
    private var blockInFlight: (lba: UInt32, since: UInt64)?
    private var tabletArmed = false
    private var tabletExpected: UInt16?
    /// Block reads owed at the client's steady rate.
    private var blockCredit: UInt64 = 0
    /// Nanoseconds between block reads (500 blocks a second).
    static let blockPeriod: UInt64 = 2_000_000
    /// A block read not given back by then is failed (usb-storage's timeout, shortened).
    static let urbTimeout: UInt64 = 1_000_000_000
    private var now: UInt64 = 0
    /// A device whose URB failed gets none until it is enumerated again
    /// (the hub driver saw it reset or reconnect) or this long has passed,
    /// as usb-storage backs off to its error handling.
    static let errorBackoff: UInt64 = 500_000_000
    private var pausedUntil: [String: UInt64] = [:]

    init(model: UHCIModel, instance: UInt32) {
        self.model = model
        self.instance = instance
    }

    // MARK: schedule memory

    private func w32(_ m: SimMemory, _ off: UInt32, _ v: UInt32) {
        guard let s = schedule else { return }
        m.write(bus: s.busAddress + off, XPCAttribute.le(v))
    }

    private func r32(_ m: SimMemory, _ off: UInt32) -> UInt32 {
        guard let s = schedule else { return 0 }
        let b = m.read(bus: s.busAddress + off, count: 4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    private func bus(_ off: UInt32) -> UInt32 { (schedule?.busAddress ?? 0) + off }

    /// uhci_alloc + the skeleton: every frame → the interrupt QH → the
    /// bulk QH (→ itself with FSBR); both empty.
    private func buildSkeleton(_ m: SimMemory) {
        for f in 0..<UInt32(UHCI_NUMFRAMES) { w32(m, f * 4, bus(Self.interruptQH) | UHCI_PTR_QH) }
        w32(m, Self.interruptQH, bus(Self.bulkQH) | UHCI_PTR_QH)
        w32(m, Self.interruptQH + 4, UHCI_PTR_TERM)
        w32(m, Self.bulkQH + 4, UHCI_PTR_TERM)
        linkFSBR(m)
    }

    private func linkFSBR(_ m: SimMemory) {
        w32(m, Self.bulkQH, fsbrOn ? bus(Self.bulkQH) | UHCI_PTR_QH : UHCI_PTR_TERM)
    }

    /// Links or unlinks the FSBR loop.
    private func switchFSBR(_ on: Bool, _ m: SimMemory) {
        fsbrOffAt = nil
        guard on != fsbrOn else { return }
        fsbrOn = on
        if on { fsbrOns += 1 }
        if schedule != nil { linkFSBR(m) }
    }

    /// A TD: link, status (active, three tries, IOC), token, buffer.
    private func writeTD(_ m: SimMemory, at off: UInt32, link: UInt32, pid: UInt32, address: UInt8, endpoint: UInt32,
                         length: Int, buffer: UInt32, ioc: Bool) {
        w32(m, off, link)
        w32(m, off + 4, UHCI_TD_ACTIVE | (3 << UHCI_TD_CERR_SHIFT) | (ioc ? UHCI_TD_IOC : 0))
        w32(m, off + 8, pid | UInt32(address) << UHCI_TOKEN_DEVADDR_SHIFT | endpoint << UHCI_TOKEN_EP_SHIFT
                | (UInt32(length - 1) & 0x7ff) << UHCI_TOKEN_MAXLEN_SHIFT)
        w32(m, off + 12, bus(buffer))
    }

    // MARK: the data path

    /// Whether the controller walks this nucleus's schedule.
    var controllerRunning: Bool {
        guard let s = schedule else { return false }
        return model.running && model.flbaseadd == s.busAddress
    }

    /// DATAPATH_ON: registered and the schedule walked.
    var datapathOn: Bool { busName != nil && !quiesced && controllerRunning }

    /// The interrupt handler (uhci_irq): acks USBSTS and gives back what
    /// the schedule finished, re-arming the tablet's interrupt URB for
    /// the next frame, as the kernel nucleus does. Run by the model's tick
    /// at the frame that raised the line, and once after every pass.
    func interrupt(memory m: SimMemory) {
        let sts = model.read(offset: UHCI_USBSTS, width: 2)
        let ack = sts & (UHCI_STS_USBINT | UHCI_STS_ERROR | UHCI_STS_HSE | UHCI_STS_HCPE | UHCI_STS_RD)
        if ack != 0 { model.write(offset: UHCI_USBSTS, width: 2, value: ack) }
        if sts & (UHCI_STS_HSE | UHCI_STS_HCPE) != 0 { hcErrors += 1 }
        statusSeen |= sts
        guard schedule != nil, datapathOn else { return }
        reapTablet(m)
        reapBlock(m)
        if blockInFlight == nil, blockCredit >= Self.blockPeriod {
            blockCredit -= Self.blockPeriod
            submitBlock(m)
        }
        if !tabletArmed { armTablet(m) }
    }

    /// After the model's tick: the timers (auto FSBR's, an URB's timeout),
    /// a halted controller, the disk's reads owed for this pass's time
    /// (at most 4 a pass, so a host whose passes run late reads less
    /// rather than more per pass), then the handler once more.
    func step(memory m: SimMemory, nanos: UInt64) {
        now &+= nanos
        defer { statusSeen = 0 }
        guard schedule != nil else {
            interrupt(memory: m)
            return
        }
        // Auto FSBR with no block read on the hardware: off after the delay.
        if fsbr == .auto, fsbrOn, blockInFlight == nil {
            if let t = fsbrOffAt {
                if now >= t { switchFSBR(false, m) }
            } else {
                fsbrOffAt = now &+ Self.fsbrOffDelay
            }
        }
        guard datapathOn else {
            interrupt(memory: m)
            giveBackAll(error: true)
            // Halted while the u-driver said it runs: an error it recovers.
            let sts = statusSeen
            if busName != nil, !quiesced, hcState == UInt8(DRVXPC_USB_HC_RUNNING.rawValue), !hcErrorSent {
                hcErrorSent = true
                upcalls.append((.usbHcError, [.u32(.regValue, sts)]))
            }
            blockCredit = 0
            return
        }
        hcErrorSent = false
        blockCredit = min(blockCredit + nanos, 4 * Self.blockPeriod)
        interrupt(memory: m)
    }

    private func port(named name: String) -> (port: Int, address: UInt8)? {
        enumerated.first { $0.value.name == name }.map { ($0.key, $0.value.address) }
    }

    private func armTablet(_ m: SimMemory) {
        guard let t = port(named: "tablet"), now >= pausedUntil["tablet"] ?? 0 else { return }
        writeTD(m, at: Self.tabletTD, link: UHCI_PTR_TERM, pid: UHCI_PID_IN, address: t.address, endpoint: 1,
                length: 8, buffer: Self.tabletBuffer, ioc: true)
        w32(m, Self.interruptQH + 4, bus(Self.tabletTD))
        tabletArmed = true
    }

    /// The tablet's interrupt URB came back: check the report, re-arm.
    private func reapTablet(_ m: SimMemory) {
        guard tabletArmed else { return }
        let ctrl = r32(m, Self.tabletTD + 4)
        guard ctrl & UHCI_TD_ACTIVE == 0 else { return }
        tabletArmed = false
        w32(m, Self.interruptQH + 4, UHCI_PTR_TERM)
        urbs += 1
        guard ctrl & Self.tdAnyError == 0 else {
            urbErrors += 1
            pausedUntil["tablet"] = now &+ Self.errorBackoff
            return
        }
        let len = Int((ctrl + 1) & UHCI_TD_ACTLEN_MASK)
        bytes += UInt64(len)
        let r = m.read(bus: bus(Self.tabletBuffer), count: len)
        guard len >= 3 else {
            client.wrong += 1
            return
        }
        let seq = UInt16(r[1]) | UInt16(r[2]) << 8
        if r != SimUSBTablet.report(seq) { client.wrong += 1 }
        if let e = tabletExpected, seq != e { client.gaps += UInt64(seq &- e) }
        tabletExpected = seq &+ 1
        client.events += 1
    }

    /// The next block's read: an OUT TD with its LBA, then the IN TDs
    /// depth first, the last one interrupting.
    private func submitBlock(_ m: SimMemory) {
        guard let d = port(named: "usb-storage"), now >= pausedUntil["usb-storage"] ?? 0,
              let disk = model.device(onPort: d.port) as? SimUSBDisk else { return }
        let lba = UInt32(client.blocks % UInt64(disk.blocks))
        m.write(bus: bus(Self.outBuffer), XPCAttribute.le(lba))
        for i in 0..<Self.blockTDCount {
            let off = Self.blockTDs + UInt32(16 * i)
            let last = i == Self.blockTDCount - 1
            let link = last ? UHCI_PTR_TERM : bus(off + 16) | UHCI_PTR_DEPTH
            if i == 0 {
                writeTD(m, at: off, link: link, pid: UHCI_PID_OUT, address: d.address, endpoint: 2, length: 4,
                        buffer: Self.outBuffer, ioc: false)
            } else {
                writeTD(m, at: off, link: link, pid: UHCI_PID_IN, address: d.address, endpoint: 1, length: Self.bulkPacket,
                        buffer: Self.blockBuffer + UInt32((i - 1) * Self.bulkPacket), ioc: last)
            }
        }
        w32(m, Self.bulkQH + 4, bus(Self.blockTDs))
        blockInFlight = (lba, now)
        if fsbr == .auto { switchFSBR(true, m) }
    }

    /// The block read came back (every TD done), failed (a TD in error)
    /// or timed out.
    private func reapBlock(_ m: SimMemory) {
        guard let f = blockInFlight else { return }
        var failed = false
        for i in 0..<Self.blockTDCount {
            let ctrl = r32(m, Self.blockTDs + UInt32(16 * i) + 4)
            if ctrl & UHCI_TD_ACTIVE != 0 {
                guard now &- f.since > Self.urbTimeout else { return }
                failed = true
                break
            }
            if ctrl & Self.tdAnyError != 0 {
                failed = true
                break
            }
        }
        w32(m, Self.bulkQH + 4, UHCI_PTR_TERM)
        blockInFlight = nil
        urbs += 1
        guard !failed else {
            urbErrors += 1
            client.ioErrors += 1
            pausedUntil["usb-storage"] = now &+ Self.errorBackoff
            return
        }
        let data = m.read(bus: bus(Self.blockBuffer), count: SimUSBDisk.blockSize)
        let want = SimUSBDisk.content(ofBlock: f.lba)
        bytes += UInt64(4 + data.count)
        if data != want { client.wrong += 1 }
        client.checksum = Self.fnv(client.checksum, data)
        client.expectedChecksum = Self.fnv(client.expectedChecksum, want)
        client.blocks += 1
    }

    static func fnv(_ h0: UInt64, _ bytes: [UInt8]) -> UInt64 {
        var h = h0
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// URBs in flight given back: unlinked from the schedule, counted as
    /// errors unless the stop is a clean one (QUIESCE).
    private func giveBackAll(error: Bool) {
        if blockInFlight != nil {
            blockInFlight = nil
            urbs += 1
            if error {
                urbErrors += 1
                client.ioErrors += 1
            }
        }
        if tabletArmed {
            tabletArmed = false
            urbs += 1
        }
        unlinkAll()
    }

    /// Host memory, for unlinking outside a data-path pass (set by the
    /// first downcall, which comes before any schedule).
    private var memoryForUnlink: SimMemory?

    private func unlinkAll() {
        guard let m = memoryForUnlink, schedule != nil else { return }
        w32(m, Self.interruptQH + 4, UHCI_PTR_TERM)
        w32(m, Self.bulkQH + 4, UHCI_PTR_TERM)
    }

    // MARK: downcalls

    func downcall(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage? {
        memoryForUnlink = memory
        switch m.op {
        case .usbSchedule:
            if schedule == nil {
                guard let b = memory.allocate(instance: instance, size: Self.scheduleSize,
                                              role: UInt8(DRVXPC_ROLE_FRAME_LIST.rawValue)) else {
                    return .errorReply(to: m, errno: 12, message: "no memory for the \(Self.scheduleSize)-byte schedule")
                }
                schedule = b
                buildSkeleton(memory)
            }
            return .reply(to: m, attributes: [.u32(.dmaHandle, schedule?.id ?? 0)])
        case .usbRegister:
            guard schedule != nil else {
                return .errorReply(to: m, errno: 22, message: "no schedule: USB_SCHEDULE comes before USB_REGISTER")
            }
            if let name = busName {
                // A reattaching u-driver finds the bus; nothing changes.
                quiesced = false
                d.registeredName = name
                log("bus \(name) found again; " + reportLine)
                return .reply(to: m, attributes: [.string(.usbBusName, name)])
            }
            guard let ports = m.attribute(.usbPorts)?.u8 else {
                return .errorReply(to: m, errno: 22, attribute: .usbPorts, message: "USB_PORTS is required to register the bus")
            }
            guard (1...7).contains(ports) else {
                return .errorReply(to: m, errno: 34, attribute: .usbPorts, message: "\(ports) ports: 1 to 7")
            }
            portCount = ports
            // usb_add_hcd runs in a work item after this reply: the name
            // is not in it, the first hub_control may follow at once.
            busName = "usb\(instance)"
            quiesced = false
            d.registeredName = busName
            d.chipName = "UHCI Host Controller"
            return .reply(to: m)
        case .usbPortChange:
            let bits = try m.u32(.usbPortChanges)
            guard bits & ~Self.portMask(portCount == 0 ? 7 : portCount) == 0 else {
                return .errorReply(to: m, errno: 34, attribute: .usbPortChanges,
                                   message: "bitmap 0x\(String(bits, radix: 16)) names a port the root hub does not have")
            }
            portChanges = bits
            if bits != 0 { hubKick = true }
            return .reply(to: m)
        case .usbSet:
            let f = m.attribute(.usbFSBR)?.u8, s = m.attribute(.usbHcState)?.u8
            guard f != nil || s != nil else {
                return .errorReply(to: m, errno: 22, message: "USB_SET needs USB_FSBR or USB_HC_STATE")
            }
            if let f {
                fsbr = XPCUSBFSBR(rawValue: f) ?? .off
                switchFSBR(fsbr == .on || (fsbr == .auto && blockInFlight != nil), memory)
            }
            if let s {
                hcState = s
                if s == UInt8(DRVXPC_USB_HC_HALTED.rawValue) { giveBackAll(error: true) }
            }
            return .reply(to: m)
        default:
            return nil
        }
    }

    static func portMask(_ ports: UInt8) -> UInt32 { ((1 << UInt32(ports)) - 1) << 1 }

    func quiesce() {
        // The u-driver is gone for good: halt the controller, interrupts
        // off, URBs given back, and usbcore sees the devices go (cleanly:
        // their HCD died, they did not fail).
        model.write(offset: UHCI_USBCMD, width: 2, value: 0)
        model.write(offset: UHCI_USBINTR, width: 2, value: 0)
        giveBackAll(error: false)
        cleanDisconnects += UInt64(enumerated.count)
        enumerated = [:]
        tabletExpected = nil
        hcState = UInt8(DRVXPC_USB_HC_HALTED.rawValue)
        quiesced = true
        hubKick = false
        log("quiesced: controller halted, devices gone; " + reportLine)
    }

    func holdForReadd() {
        // A reset follows (the fresh probe): the controller stops, URBs come
        // back; the bus and its devices stay for the hub driver, which sees
        // the connect changes the reset makes and enumerates again.
        model.write(offset: UHCI_USBCMD, width: 2, value: 0)
        giveBackAll(error: true)
        hcState = UInt8(DRVXPC_USB_HC_HALTED.rawValue)
    }

    func info() -> [XPCAttribute] {
        let running = model.running
        var addresses = [UInt8](repeating: 0, count: 16)
        for (_, e) in enumerated { addresses[Int(e.address / 8)] |= 1 << (e.address % 8) }
        var a: [XPCAttribute] = [
            .u8(.usbHcState, UInt8(running ? DRVXPC_USB_HC_RUNNING.rawValue : DRVXPC_USB_HC_HALTED.rawValue)),
            .u8(.usbFSBR, fsbr.rawValue), .u8(.usbFSBRActive, fsbrOn ? 1 : 0), .u64(.usbFSBROns, fsbrOns),
            .u32(.usbPortChanges, portChanges),
            .binary(.usbAddresses, addresses),
            .u64(.usbURBs, urbs), .u64(.usbURBErrors, urbErrors), .u64(.usbBytes, bytes),
            .u64(.usbHcErrors, hcErrors), .u64(.usbPortPolls, portPolls),
            .u8(.datapathOn, datapathOn ? 1 : 0),
            .u64(.clientErrors, client.wrong + client.gaps),
            // The tablet is an input device: its reports and the gaps between them.
            .u64(.inputPackets, client.events), .u64(.inputLost, client.gaps),
        ]
        if let busName { a += [.u8(.usbPorts, portCount), .string(.usbBusName, busName)] }
        return a
    }

    func takeAsyncUpcalls() -> [(XPCOp, [XPCAttribute])] {
        defer { upcalls = [] }
        return upcalls
    }

    /// Block reads and tablet reports need no start: the client runs in
    /// the data path once devices are enumerated.
    var workload: SimWorkload { { _, _ in } }

    /// usbcore's hub driver for the root hub, for the device's life.
    var service: SimWorkload? { { sim, instance in await Self.hubDriver(sim, instance) } }

    private func log(_ s: String) {
        FileHandle.standardError.write(Data("nucleus-sim: instance \(instance): \(s)\n".utf8))
    }

    /// The client's figures as a line for nucleus-sim's log.
    var reportLine: String {
        "\(busName ?? "unregistered"): \(client.blocks) blocks read, checksum \(String(client.checksum, radix: 16)) "
            + "(expected \(String(client.expectedChecksum, radix: 16))), \(client.ioErrors) I/O errors; "
            + "tablet \(client.events) reports, \(client.gaps) gaps; \(enumerations) enumerations"
    }

    // MARK: usbcore's hub driver (outside the lock)

    /// hub_status_data when the u-driver's bitmap asked for a look: the
    /// bitmap, or nil when there is nothing to do.
    func takeHubWork() -> UInt32? {
        guard hubKick, busName != nil, !quiesced else { return nil }
        hubKick = false
        portPolls += 1
        return portChanges
    }

    /// Another look after a failed one, if a change is still reported.
    func retryHubWork() {
        if portChanges != 0 { hubKick = true }
    }

    /// The device on `port` is gone for usbcore: its URBs given back
    /// (with an error: it went while in use).
    func drop(port: Int) {
        guard let gone = enumerated.removeValue(forKey: port) else { return }
        disconnects += 1
        if gone.name == "tablet" {
            if tabletArmed { urbs += 1 }
            tabletArmed = false
            tabletExpected = nil
            if let m = memoryForUnlink { w32(m, Self.interruptQH + 4, UHCI_PTR_TERM) }
        } else if gone.name == "usb-storage", blockInFlight != nil {
            blockInFlight = nil
            urbs += 1
            urbErrors += 1
            client.ioErrors += 1
            if let m = memoryForUnlink { w32(m, Self.bulkQH + 4, UHCI_PTR_TERM) }
        }
    }

    /// usb_new_device after the port's reset: the next free address
    /// (usbcore's devnum allocation, round robin over 1…127).
    func enumerate(port: Int) -> UInt8? {
        guard let dev = model.device(onPort: port), !quiesced else { return nil }
        let used = Set(enumerated.values.map(\.address))
        var a = lastAddress
        for _ in 0..<127 {
            a = a % 127 + 1
            if !used.contains(a) { break }
        }
        guard !used.contains(a) else { return nil }
        lastAddress = a
        dev.address = a
        enumerated[port] = (a, dev.name)
        pausedUntil[dev.name] = nil
        enumerations += 1
        if dev is SimUSBTablet { tabletExpected = nil }
        log("new full-speed USB device number \(a) (\(dev.name)) on port \(port) of \(busName ?? "?")")
        return a
    }

    /// Whether `port` holds an enumerated device.
    func isEnumerated(port: Int) -> Bool { enumerated[port] != nil }

    static let getPortStatus: UInt16 = 0xa300, setPortFeature: UInt16 = 0x2303, clearPortFeature: UInt16 = 0x2301
    enum Feature {
        static let reset: UInt16 = 4, cConnection: UInt16 = 16, cReset: UInt16 = 20
    }
    enum PortStatus {
        static let connection: UInt16 = 0x1, enable: UInt16 = 0x2
    }
    enum PortChange {
        static let connection: UInt16 = 0x1, enable: UInt16 = 0x2, reset: UInt16 = 0x10
    }

    /// hub_event: on each look, every port the bitmap names gets
    /// GetPortStatus, a ClearPortFeature per change reported, and on a
    /// connect change the old device dropped and a present one reset
    /// (SetPortFeature(RESET), GetPortStatus until C_RESET,
    /// ClearPortFeature(C_RESET)) and enumerated.
    static func hubDriver(_ sim: SimNucleus, _ instance: UInt32) async {
        while !sim.isStopped {
            try? await Task.sleep(for: .milliseconds(5))
            guard let bits = sim.withUSBPath(instance, { $0.takeHubWork() }) ?? nil, bits != 0 else { continue }
            var failed = false
            for port in 1...7 where bits & (1 << UInt32(port)) != 0 {
                do {
                    try await handlePort(sim, instance, port)
                } catch {
                    failed = true
                    FileHandle.standardError.write(Data("nucleus-sim: instance \(instance): hub port \(port): \(error)\n".utf8))
                }
            }
            if failed {
                // hub_event tries again on a later look (no daemon, a
                // request unanswered): the bitmap as it then stands.
                try? await Task.sleep(for: .milliseconds(200))
                sim.withUSBPath(instance) { $0.retryHubWork() }
            }
        }
    }

    /// One hub_control request through the u-driver; throws on a stall
    /// or no answer.
    static func hubControl(_ sim: SimNucleus, _ instance: UInt32, _ request: UInt16, value: UInt16 = 0,
                           port: Int, length: UInt16 = 0) async throws -> [UInt8] {
        let r = try await sim.upcall(instance, .usbHubControl, [
            .u16(.usbRequest, request), .u16(.usbValue, value), .u16(.usbIndex, UInt16(port)), .u16(.usbLength, length)])
        return r.attribute(.usbData)?.payload ?? []
    }

    static func portStatus(_ sim: SimNucleus, _ instance: UInt32, _ port: Int) async throws -> (UInt16, UInt16) {
        let d = try await hubControl(sim, instance, getPortStatus, port: port, length: 4)
        guard d.count >= 4 else { throw XPCError(.remote, errno: 71, "GetPortStatus answered \(d.count) bytes, not 4") }
        return (UInt16(d[0]) | UInt16(d[1]) << 8, UInt16(d[2]) | UInt16(d[3]) << 8)
    }

    static func handlePort(_ sim: SimNucleus, _ instance: UInt32, _ port: Int) async throws {
        let (status, change) = try await portStatus(sim, instance, port)
        for bit in 0..<5 where change & (1 << UInt16(bit)) != 0 {
            _ = try await hubControl(sim, instance, clearPortFeature, value: Feature.cConnection + UInt16(bit), port: port)
        }
        let had = sim.withUSBPath(instance, { $0.isEnumerated(port: port) }) ?? false
        let reconnect = change & PortChange.connection != 0
            || (change & PortChange.enable != 0 && status & PortStatus.enable == 0)
        guard reconnect || (!had && status & PortStatus.connection != 0 && change & PortChange.reset == 0) else { return }
        sim.withUSBPath(instance) { $0.drop(port: port) }
        guard status & PortStatus.connection != 0 else { return }
        // hub_port_reset: reset, wait for its end, clear the change.
        _ = try await hubControl(sim, instance, setPortFeature, value: Feature.reset, port: port)
        var after: (UInt16, UInt16) = (0, 0)
        for _ in 0..<100 {
            after = try await portStatus(sim, instance, port)
            if after.1 & PortChange.reset != 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard after.1 & PortChange.reset != 0 else {
            throw XPCError(.timeout, "port \(port): reset did not end")
        }
        _ = try await hubControl(sim, instance, clearPortFeature, value: Feature.cReset, port: port)
        guard after.0 & PortStatus.enable != 0, after.0 & PortStatus.connection != 0 else {
            throw XPCError(.remote, errno: 19, "port \(port) not enabled after its reset (status 0x\(String(after.0, radix: 16)))")
        }
        _ = sim.withUSBPath(instance) { $0.enumerate(port: port) }
    }
}

extension USBHostPath {
    /// uhci_write_check: FLBASEADD, the controller's way into memory, takes
    /// the frame list USB_SCHEDULE made and no other, by REG_WRITE_DMA only.
    func checkWrite(_ w: RegisterWrite, memory: SimMemory) -> WriteRefusal? {
        guard w.touches(UHCI_FLBASEADD) else { return w.dma ? .notPermitted("REG_WRITE_DMA goes to FLBASEADD only") : nil }
        guard w.isDMAAddress(at: UHCI_FLBASEADD), let schedule, w.value == schedule.busAddress else {
            return .notPermitted("FLBASEADD takes the frame list USB_SCHEDULE made, by REG_WRITE_DMA")
        }
        return nil
    }
}
