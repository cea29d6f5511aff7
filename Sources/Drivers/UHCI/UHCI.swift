// SPDX-License-Identifier: GPL-2.0
import CChips
import UDriverKit
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// The uhci u-driver: the control half of Linux's uhci-hcd for QEMU's
/// PIIX3 UHCI. Here: the controller's reset, start and restart after an
/// error, the root hub (every hub_control request, as uhci-hub.c answers
/// it) and its polling. The nucleus keeps the schedule (frame list, QHs,
/// TDs), the URBs and the interrupt, and owns USBSTS.
///
/// Software state the port registers do not hold: which ports finished a
/// reset whose C_PORT_RESET the hub driver has not cleared (UHCI has no
/// such bit), which ones the hub driver suspended, and which resumed with
/// C_PORT_SUSPEND pending. A reattaching driver gets the first two from
/// the shadow's USB_HC_SET replay.
public actor UHCI: USBHostDriver {
    let device: Device
    let info: DeviceInfo
    /// How often the root hub is polled; nil: only when ``pollRootHub()``
    /// is called (the tests drive it).
    let pollInterval: Duration?

    /// The root hub's ports.
    let ports = Int(UHCI_PORTS)
    /// The nucleus's frame list, once asked for.
    private(set) var frameList: DMABuffer?
    /// usbcore's name of the bus, once the nucleus told it.
    private(set) var busName: String?
    /// Whether probe adopted a running controller (reattach): only then is
    /// a replayed root-hub state still true of the ports.
    private(set) var adopted = false
    /// Full-speed bandwidth reclamation, as last set (the nucleus starts
    /// with auto, uhci-hcd's way).
    private(set) var fsbr = XPCUSBFSBR.auto
    /// Bit n: port n ended a reset; C_PORT_RESET until the hub driver clears it.
    private(set) var resetChanges: UInt32 = 0
    /// Bit n: the hub driver suspended port n.
    private(set) var suspended: UInt32 = 0
    /// Bit n: port n resumed; C_PORT_SUSPEND until the hub driver clears it.
    private(set) var suspendChanges: UInt32 = 0
    /// Ports in resume signalling (bit n = port n), and when it may end.
    private var resumeDeadlines: [Int: ContinuousClock.Instant] = [:]
    /// The change bitmap the nucleus has (nil: none sent by this process,
    /// or a change bit the hub driver cleared since: the nucleus's copy is
    /// stale, and the next poll sends the bitmap even when it looks the
    /// same: a port that changed again before that poll would otherwise
    /// never be reported).
    private(set) var sentChanges: UInt32?
    /// The root-hub poll; it holds the driver weakly and ends with it.
    private var pollTask: Task<Void, Never>?
    /// Root-hub polls, and those a downcall of failed.
    private(set) var polls: UInt64 = 0
    private(set) var pollFailures: UInt64 = 0
    private var pollFailing = false
    /// USB_HC_ERRORs served.
    private(set) var hcErrors: UInt64 = 0

    /// What probe returns.
    static let chipName = "UHCI"
    /// usbcore's root-hub poll interval, as uhci-hcd's rh_timer.
    static let defaultPollInterval: Duration = .milliseconds(250)
    /// USB 2.0 7.1.7.5: a port reset lasts 50 ms.
    static let portResetTime: Duration = .milliseconds(50)
    /// USB 2.0 7.1.7.7: resume signalling lasts 20 ms (a hub driver's
    /// resume); a device's remote wakeup is given USB_RESUME_TIMEOUT (40 ms).
    static let resumeTime: Duration = .milliseconds(20)
    static let remoteWakeupTime: Duration = .milliseconds(40)

    // Register bits as 16-bit values (the CChips constants are UInt32).
    static let cmdRS = UInt16(UHCI_CMD_RS), cmdHCReset = UInt16(UHCI_CMD_HCRESET)
    static let cmdGReset = UInt16(UHCI_CMD_GRESET), cmdCF = UInt16(UHCI_CMD_CF), cmdMaxP = UInt16(UHCI_CMD_MAXP)
    static let stsHalted = UInt16(UHCI_STS_HCH)
    static let ccs = UInt16(UHCI_PORT_CCS), csc = UInt16(UHCI_PORT_CSC), pe = UInt16(UHCI_PORT_PE)
    static let pec = UInt16(UHCI_PORT_PEC), rd = UInt16(UHCI_PORT_RD), lsda = UInt16(UHCI_PORT_LSDA)
    static let pr = UInt16(UHCI_PORT_PR), oc = UInt16(UHCI_PORT_OC), occ = UInt16(UHCI_PORT_OCC)
    static let susp = UInt16(UHCI_PORT_SUSP)
    /// Change bits: a write of 1 clears them (UHCI_PORT_RWC, a macro Swift
    /// does not import).
    static let rwc = csc | pec | occ
    /// Reserved bits 13-15: written as zeroes (uhci-hub.c's WZ_BITS).
    static let writeZero: UInt16 = 0xe000
    /// Suspended or resuming.
    static let suspendBits = susp | rd
    /// USBINTR while running: every interrupt (RESUME does nothing here).
    static let interrupts = UInt16(UHCI_INTR_TIMEOUT | UHCI_INTR_RESUME | UHCI_INTR_IOC | UHCI_INTR_SP)

    public init(device: Device, info: DeviceInfo) {
        self.init(device: device, info: info, pollInterval: Self.defaultPollInterval)
    }

    /// A driver polling its root hub every `pollInterval` (nil: never by
    /// itself).
    init(device: Device, info: DeviceInfo, pollInterval: Duration?) {
        self.device = device
        self.info = info
        self.pollInterval = pollInterval
    }

    deinit {
        pollTask?.cancel()
    }

    /// The bitmap bit of port `port` (1-based).
    static func bit(_ port: Int) -> UInt32 { UInt32(1) << UInt32(port) }
    /// Ports 1...ports of a bitmap.
    var portMask: UInt32 { (1...ports).reduce(0) { $0 | Self.bit($1) } }
    /// PORTSC of port `port` (1-based).
    static func portRegister(_ port: Int) -> UInt32 { UHCI_PORTSC1 + 2 * UInt32(port - 1) }

    // MARK: probe

    public func probe(reattach: Bool) async throws -> String {
        guard info.bus == .pci, info.barSize >= UHCI_IO_SIZE else {
            throw UDriverError.noDevice("uhci drives a PCI function with \(UHCI_IO_SIZE) bytes of I/O, not \(info.identity.match)")
        }
        if reattach, try await device.read16(UHCI_USBCMD) & Self.cmdRS != 0 {
            // Running under the nucleus: adopt it. The schedule and the bus
            // are found, not made; nothing is written to the controller.
            frameList = try await device.usbSchedule()
            busName = try await device.usbRegister(ports: UInt8(ports))
            adopted = true
        } else {
            try await start()
        }
        startPolling()
        return Self.chipName
    }

    /// A fresh start (uhci-hcd's reset, configure_hc, start_rh): a global
    /// reset of the bus, the controller's reset, the frame list, run.
    func start() async throws {
        _ = try await device.sequence([.write(UHCI_USBINTR, 0, width: 2), .write(UHCI_USBCMD, UInt32(Self.cmdGReset), width: 2)])
        try await Task.sleep(for: .milliseconds(50))
        try await device.write16(UHCI_USBCMD, 0)
        try await Task.sleep(for: .milliseconds(10))
        try await resetController()
        let frames = try await device.usbSchedule()
        frameList = frames
        try await run(frames, frame: 0)
        busName = try await device.usbRegister(ports: UInt8(ports))
    }

    /// HCRESET, until it clears; then what it leaves alone (suspend, reset
    /// and resume detect of the ports, uhci-hcd's finish_reset) by hand,
    /// and the root hub's software state with it.
    private func resetController() async throws {
        try await device.write16(UHCI_USBCMD, Self.cmdHCReset)
        try await waitFor(UHCI_USBCMD, mask: Self.cmdHCReset, equals: 0, what: "HCRESET to clear")
        _ = try await device.sequence((1...ports).map { .write(Self.portRegister($0), 0, width: 2) })
        suspended = 0
        suspendChanges = 0
        resetChanges = 0
        resumeDeadlines = [:]
        adopted = false
    }

    /// Points the controller at `frames`, from frame `frame`, and runs it
    /// (configure_hc, start_rh); waits for HCHalted to clear, then tells
    /// the nucleus the schedule is walked again.
    private func run(_ frames: DMABuffer, frame: UInt16) async throws {
        try await device.writeDMAAddress(UHCI_FLBASEADD, buffer: frames)
        _ = try await device.sequence([
            .write(UHCI_FRNUM, UInt32(frame & UInt16(UHCI_FRNUM_MASK)), width: 2),
            .write(UHCI_SOFMOD, UHCI_SOFMOD_DEFAULT, width: 1),
            .write(UHCI_USBINTR, UInt32(Self.interrupts), width: 2),
            .write(UHCI_USBCMD, UInt32(Self.cmdRS | Self.cmdCF | Self.cmdMaxP), width: 2),
        ])
        try await waitFor(UHCI_USBSTS, mask: Self.stsHalted, equals: 0, what: "HCHalted to clear")
        try await device.usbSet(hcState: .running)
    }

    /// How many times a register is polled for `waitFor`: the nucleus
    /// polls a millisecond at a time, and the controller gets 10.
    static let pollAttempts = 10

    /// Polls 16-bit register `register` until its value masked by `mask`
    /// is `value`, for up to ``pollAttempts`` milliseconds; then ETIMEDOUT
    /// naming `what`.
    private func waitFor(_ register: UInt32, mask: UInt16, equals value: UInt16, what: String) async throws {
        for _ in 1..<Self.pollAttempts {
            do {
                _ = try await device.sequence([.poll(register, mask: UInt32(mask), equals: UInt32(value), width: 2)])
                return
            } catch let e as XPCError where e.errno == 110 {
                continue
            }
        }
        do {
            _ = try await device.sequence([.poll(register, mask: UInt32(mask), equals: UInt32(value), width: 2)])
        } catch let e as XPCError where e.errno == 110 {
            throw UDriverError(errno: 110, "the controller at \(info.slot) took more than \(Self.pollAttempts) ms for \(what)")
        }
    }

    // MARK: the root-hub poll

    /// Starts (or restarts) the periodic poll. The task holds the driver
    /// weakly: it ends when the driver goes, or when it is cancelled. Its
    /// sleep is this driver's one use of the concurrency pool (the timer
    /// and a worker thread); the poll itself is one REG_READ and runs on
    /// the actor.
    private func startPolling() {
        pollTask?.cancel()
        pollTask = nil
        guard let interval = pollInterval else { return }
        pollTask = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                guard let self else { return }
                await self.pollOnce()
            }
        }
    }

    /// One poll from the task: a failed downcall is counted and said once
    /// on stderr (drivermgrd logs it under the driver's name), never fatal;
    /// the next poll tries again.
    private func pollOnce() async {
        do {
            try await pollRootHub()
            if pollFailing { Self.note("root-hub poll works again") }
            pollFailing = false
        } catch {
            pollFailures += 1
            if !pollFailing { Self.note("root-hub poll failed: \(error)") }
            pollFailing = true
        }
    }

    /// One line on stderr.
    static func note(_ line: String) {
        let bytes = Array("uhci: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// One poll (uhci_hub_status_data): one REG_READ of both PORTSCs, the
    /// ports with a change (connect, enable, over-current from the
    /// register; reset and suspend from software), and USB_PORT_CHANGE
    /// when that differs from what the nucleus has. A port a device woke
    /// (resume detect) ends its resume signalling on a later poll.
    func pollRootHub() async throws {
        polls += 1
        var bitmap: UInt32 = 0
        for first in stride(from: 1, through: ports, by: 2) {
            let pair = try await device.read32(Self.portRegister(first))
            for port in first...min(first + 1, ports) {
                let status = UInt16(truncatingIfNeeded: pair >> (16 * UInt32(port - first)))
                if status & Self.rd != 0 {
                    if let deadline = resumeDeadlines[port] {
                        if ContinuousClock.now >= deadline { try await finishSuspend(port) }
                    } else {
                        resumeDeadlines[port] = ContinuousClock.now.advanced(by: Self.remoteWakeupTime)
                    }
                }
                if status & Self.rwc != 0 || (resetChanges | suspendChanges) & Self.bit(port) != 0 {
                    bitmap |= Self.bit(port)
                }
            }
        }
        if bitmap != sentChanges {
            try await device.usbPortChange(bitmap)
            sentChanges = bitmap
        }
    }

    // MARK: PORTSC

    /// uhci-hub.c's SET_RH_PORTSTAT: `bits` set, no change bit cleared by
    /// the write.
    private func setPortBits(_ port: Int, _ bits: UInt16) async throws {
        var status = try await device.read16(Self.portRegister(port))
        status |= bits
        status &= ~(Self.rwc | Self.writeZero)
        try await device.write16(Self.portRegister(port), status)
    }

    /// uhci-hub.c's CLR_RH_PORTSTAT: `bits` cleared, a change bit among
    /// them by writing it 1, the others kept by writing them 0.
    private func clearPortBits(_ port: Int, _ bits: UInt16) async throws {
        var status = try await device.read16(Self.portRegister(port))
        status &= ~(Self.rwc | Self.writeZero)
        status &= ~bits
        status |= Self.rwc & bits
        try await device.write16(Self.portRegister(port), status)
    }

    /// uhci_finish_suspend: the port's suspend and resume signalling end;
    /// a port that was resuming gets C_PORT_SUSPEND.
    private func finishSuspend(_ port: Int) async throws {
        if try await device.read16(Self.portRegister(port)) & Self.suspendBits != 0 {
            try await clearPortBits(port, Self.suspendBits)
            if resumeDeadlines[port] != nil { suspendChanges |= Self.bit(port) }
        }
        resumeDeadlines[port] = nil
        suspended &= ~Self.bit(port)
    }

    /// The resume signalling a device started (remote wakeup) ends once its
    /// time is up (uhci_check_ports).
    private func checkResume(_ port: Int) async throws {
        if let deadline = resumeDeadlines[port], ContinuousClock.now >= deadline { try await finishSuspend(port) }
    }

    /// SetPortFeature(PORT_RESET), to its end: PR for 50 ms, then PR off,
    /// the connect and enable changes the reset made cleared, the port
    /// enabled (uhci_check_ports); C_PORT_RESET reported until cleared.
    private func resetPort(_ port: Int) async throws {
        try await setPortBits(port, Self.pr)
        // A reset ends resume signalling.
        try await finishSuspend(port)
        try await Task.sleep(for: Self.portResetTime)
        try await clearPortBits(port, Self.pr)
        try await clearPortBits(port, Self.csc | Self.pec)
        try await setPortBits(port, Self.pe)
        resetChanges |= Self.bit(port)
    }

    /// ClearPortFeature(PORT_SUSPEND): resume signalling for 20 ms, then
    /// the port runs again with C_PORT_SUSPEND. A port that is not
    /// suspended is only made certain of it.
    private func resumePort(_ port: Int) async throws {
        guard try await device.read16(Self.portRegister(port)) & Self.susp != 0 else {
            try await finishSuspend(port)
            return
        }
        resumeDeadlines[port] = ContinuousClock.now.advanced(by: Self.resumeTime)
        try await setPortBits(port, Self.rd)
        // A disabled port takes no RD: skip the signalling.
        if try await device.read16(Self.portRegister(port)) & Self.rd != 0 {
            try await Task.sleep(for: Self.resumeTime)
        }
        try await finishSuspend(port)
    }

    /// GetPortStatus's four bytes: wPortStatus, wPortChange, little-endian.
    private func portStatus(_ port: Int) async throws -> [UInt8] {
        try await checkResume(port)
        let sc = try await device.read16(Self.portRegister(port))
        var change: USBPortChange = []
        if sc & Self.csc != 0 { change.insert(.connection) }
        if sc & Self.pec != 0 { change.insert(.enable) }
        if sc & Self.occ != 0 { change.insert(.overCurrent) }
        if suspendChanges & Self.bit(port) != 0 { change.insert(.suspend) }
        if resetChanges & Self.bit(port) != 0 { change.insert(.reset) }
        // No power switching: always powered.
        var status: USBPortStatus = .power
        if sc & Self.ccs != 0 { status.insert(.connection) }
        if sc & Self.pe != 0 {
            status.insert(.enable)
            if sc & Self.suspendBits != 0 { status.insert(.suspend) }
        }
        if sc & Self.oc != 0 { status.insert(.overCurrent) }
        if sc & Self.pr != 0 { status.insert(.reset) }
        if sc & Self.lsda != 0 { status.insert(.lowSpeed) }
        return [UInt8(truncatingIfNeeded: status.rawValue), UInt8(truncatingIfNeeded: status.rawValue >> 8),
                UInt8(truncatingIfNeeded: change.rawValue), UInt8(truncatingIfNeeded: change.rawValue >> 8)]
    }

    /// The root hub's descriptor (uhci-hub.c's root_hub_hub_des): type
    /// 0x29, no power switching, per-port over-current, 2 ms to power good.
    var hubDescriptor: [UInt8] {
        [0x09, 0x29, UInt8(ports), 0x02 | 0x08, 0x00, 0x01, 0x00, 0x00, 0xff]
    }

    // MARK: upcalls

    /// uhci_hub_control: each request as uhci-hub.c answers it, plus
    /// C_PORT_RESET, which this root hub reports until it is cleared.
    public func hubControl(request: UInt16, value: UInt16, index: UInt16, length: UInt16) async throws -> [UInt8] {
        switch request {
        case USBHubRequest.getHubStatus:
            // Local power good, no over-current, no change.
            return [0, 0, 0, 0]
        case USBHubRequest.getPortStatus:
            return try await portStatus(try port(index))
        case USBHubRequest.setHubFeature, USBHubRequest.clearHubFeature:
            guard USBHubFeature(rawValue: value) != nil else { throw UDriverError.stall("hub feature \(value): none such") }
            return []
        case USBHubRequest.setPortFeature:
            let port = try port(index)
            switch USBPortFeature(rawValue: value) {
            case .suspend:
                try await setPortBits(port, Self.susp)
                suspended |= Self.bit(port)
            case .reset:
                // The reset clears the port's connect and enable changes.
                defer { sentChanges = nil }
                try await resetPort(port)
            case .power:
                break // no power switching: always on
            default:
                throw UDriverError.stall("SetPortFeature \(value) on port \(port): not a feature this root hub sets")
            }
            return []
        case USBHubRequest.clearPortFeature:
            let port = try port(index)
            // Whatever it clears, the nucleus's bitmap may now be stale.
            defer { sentChanges = nil }
            switch USBPortFeature(rawValue: value) {
            case .enable:
                try await clearPortBits(port, Self.pe)
                // Disabling ends resume signalling.
                try await finishSuspend(port)
            case .cEnable:
                try await clearPortBits(port, Self.pec)
            case .suspend:
                try await resumePort(port)
            case .cSuspend:
                suspendChanges &= ~Self.bit(port)
            case .cConnection:
                try await clearPortBits(port, Self.csc)
            case .cOverCurrent:
                try await clearPortBits(port, Self.occ)
            case .cReset:
                resetChanges &= ~Self.bit(port)
            default:
                // PORT_POWER included: no power switching.
                throw UDriverError.stall("ClearPortFeature \(value) on port \(port): not a feature this root hub clears")
            }
            return []
        case USBHubRequest.getHubDescriptor:
            return Array(hubDescriptor.prefix(Int(length)))
        default:
            throw UDriverError.stall("hub request 0x\(String(request, radix: 16)): not one a root hub answers")
        }
    }

    /// wIndex as a port number; a stall unless 1...ports.
    private func port(_ index: UInt16) throws -> Int {
        guard index >= 1, Int(index) <= ports else { throw UDriverError.stall("port \(index): the root hub has ports 1...\(ports)") }
        return Int(index)
    }

    /// The controller stopped on a host system or process error (or halted
    /// while it should run): stopped, reset and run again on the same frame
    /// list from the frame after the one it was in (uhci_hc_died, then a
    /// start). The nucleus gives back what was on it while it is halted.
    /// Devices see the reset as a reconnect, which the poll reports.
    public func hcError(status: UInt32) async throws {
        hcErrors += 1
        guard let frames = frameList else {
            try await start()
            return
        }
        let frame = try await device.read16(UHCI_FRNUM)
        try await device.usbSet(hcState: .halted)
        _ = try await device.sequence([.write(UHCI_USBINTR, 0, width: 2), .write(UHCI_USBCMD, 0, width: 2)])
        try await resetController()
        try await run(frames, frame: frame &+ 1)
    }

    /// FSBR goes to the nucleus (it links its queues); replayed into a
    /// reattaching driver that adopted the running controller, the root
    /// hub's reset changes and suspended ports are adopted too. After a
    /// reset (no reattach, or a controller probe found stopped and started
    /// afresh) the ports start afresh and those are not adopted.
    public func set(_ settings: USBHostSettings, reattach: Bool) async throws {
        if let f = settings.fsbr {
            try await device.usbSet(fsbr: f)
            fsbr = f
        }
        guard reattach, adopted else { return }
        if let r = settings.resetChanges { resetChanges = r & portMask }
        if let s = settings.suspended { suspended = s & portMask }
    }
}
