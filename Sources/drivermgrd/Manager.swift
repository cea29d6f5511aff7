// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import DeviceClasses
import Foundation
import Logging
import Nucleus
import Supervisor
import Synchronization
import XPC

/// The daemon's core: the configured drivers, the nucleus link, the event
/// history and the monitor subscribers. The control server calls in here.
final class Manager: Sendable {
    /// The configured drivers, in configuration order; a reload changes the list.
    var drivers: [DriverInstance] { driverList.withLock { $0 } }
    private let driverList: Mutex<[DriverInstance]>
    /// The driver each nucleus instance's upcalls last went to, checked
    /// against that driver's device at each look-up (``driver(forInstance:)``).
    private let routes = Mutex<[UInt32: DriverInstance]>([:])
    /// Devices the nucleus announced that no driver took (a reload may add one).
    private let unbound = Mutex<[NucleusDevice]>([])
    /// Templates (`NAME@.conf`): each device one matches gets an instance.
    private let templates: Mutex<[DriverConfig]>
    private let eventSink: @Sendable (DriverEvent) -> Void
    let nucleus: NucleusLink
    private let logger: Logger
    private let history: Mutex<EventHistory>
    private let subscribers = Mutex<[UInt64: @Sendable (DriverEvent) -> Void]>([:])
    private let nextSubscriber = Mutex<UInt64>(1)
    private let stopping = Mutex(false)
    /// `--fd-store`: u-drivers outlive the daemon and the next one adopts them.
    let handover: HandoverStore?
    /// The DynamicUser= uids of every driver.
    let uids: DynamicUIDs
    /// Events `drvctl history` keeps per driver.
    static let historyPerDriver = 64
    /// Where the history outlives the daemon (RUNTIME/history.jsonl).
    private let historyFile: HistoryFile?

    /// Bind=: hands each bus's devices to drvnucleus and back, by bus.
    let handovers: [(bus: DeviceBus, handover: any DeviceHandover)]

    init(configs: [DriverConfig], nucleus: NucleusLink, logger: Logger, handover: HandoverStore? = nil,
         uids: DynamicUIDs = DynamicUIDs(), historyPath: String? = nil, pciBus: any PCIBus = SysfsPCIBus(),
         serioBus: any SerioBus = SysfsSerioBus()) {
        self.handovers = [(.pci, PCIBinding(bus: pciBus)), (.serio, SerioBinding(bus: serioBus))]
        self.nucleus = nucleus
        self.logger = logger
        self.handover = handover
        self.uids = uids
        let file = historyPath.flatMap { HistoryFile(path: $0) }
        historyFile = file
        if let historyPath, file == nil { logger.warning("cannot keep the history in \(historyPath)") }
        history = Mutex(EventHistory(perDriver: Self.historyPerDriver, loading: file?.load() ?? []))
        // The instances reach the manager through a weak reference set
        // once it exists. Not a closure in a Mutex: `withLock`'s inout
        // reabstracts a stored closure on every access, and the thunks it
        // wraps around it grow by two per event (seen in perf: after a few
        // thousand faults the daemon spent 40 % of its time in them).
        let sink = Mutex(WeakManager())
        eventSink = { e in sink.withLock { $0.manager }?.publish(e) }
        driverList = Mutex(configs.filter { !$0.template }.map { [eventSink] c in
            DriverInstance(config: c, nucleus: nucleus, logger: logger, handover: handover, uids: uids, emit: eventSink)
        })
        templates = Mutex(configs.filter(\.template))
        sink.withLock { $0.manager = self }
        for d in drivers { d.startHeartbeat() }
    }

    /// The one-line summary systemd shows as the service's status:
    /// "2 drivers: 2 running, 0 recovering, 0 failed" (plus starting,
    /// stopped and waiting-for-device counts when there are any).
    func summary() -> String {
        // One pass: the service loop asks four times a second, of every driver.
        let all = drivers
        var counts: [DriverState: Int] = [:], waiting = 0
        for d in all {
            let s = d.state
            counts[s, default: 0] += 1
            if s == .stopped && d.device == nil { waiting += 1 }
        }
        func count(_ s: DriverState) -> Int { counts[s] ?? 0 }
        var line = "\(all.count) driver\(all.count == 1 ? "" : "s"): \(count(.active)) running, "
            + "\(count(.recovering)) recovering, \(count(.failed)) failed"
        if count(.starting) > 0 { line += ", \(count(.starting)) starting" }
        let stopped = count(.stopped) - waiting
        if stopped > 0 { line += ", \(stopped) stopped" }
        if waiting > 0 { line += ", \(waiting) without a device" }
        return line
    }

    /// Whether start-up is over: every driver is running or has failed for
    /// a reason, and a driver still without a device has had `grace` to get
    /// one (READY=1 waits for this).
    func settled(deviceGraceOver: Bool) -> Bool {
        drivers.allSatisfy { d in
            switch d.state {
            case .active, .failed: return true
            case .stopped: return d.device == nil && deviceGraceOver
            case .starting, .recovering: return false
            }
        }
    }

    func driver(_ name: String) throws -> DriverInstance {
        guard let d = drivers.first(where: { $0.name == name }) else { throw ManagerError.driverNotFound(name) }
        return d
    }

    // MARK: reload

    /// What a reload did, by driver name.
    struct ReloadOutcome: Sendable, Equatable {
        var added: [String] = []
        var removed: [String] = []
        var changed: [String] = []
        /// Changed so that Bind= no longer names their device: it went
        /// back to the stock driver.
        var released: [String] = []
    }

    /// Applies a re-read configuration: drivers no longer configured stop
    /// and go (their devices wait for a driver again), new ones start on a
    /// matching device the nucleus announced, changed ones restart
    /// transparently through the recovery path. Unchanged ones are not
    /// touched.
    func reload(configs given: [DriverConfig]) async -> ReloadOutcome {
        var out = ReloadOutcome()
        let current = drivers
        // A template's instances are configured as their template now says;
        // those of a template gone go as a removed driver does.
        let newTemplates = given.filter(\.template)
        templates.withLock { $0 = newTemplates }
        var configs = given.filter { !$0.template }
        for d in current {
            guard let i = d.config.instanceOf, let t = newTemplates.first(where: { $0.name == i.template }),
                  t.bus == d.config.bus, t.vendor == d.config.vendor, t.device == d.config.device else { continue }
            configs.append(t.instance(for: i.slot))
        }
        for d in current where !configs.contains(where: { $0.name == d.name }) {
            if d.config.bind != .no, bindsHardware {
                // Its device goes back to the stock driver.
                _ = try? await unbind(d)
            } else {
                await d.stop()
                if let dev = d.device { unbound.withLock { $0.append(dev) } }
            }
            driverList.withLock { $0.removeAll { $0 === d } }
            routes.withLock { $0 = $0.filter { $0.value !== d } }
            d.stopHeartbeat()
            out.removed.append(d.name)
        }
        for c in configs {
            if let d = current.first(where: { $0.name == c.name }) {
                guard d.config != c else { continue }
                out.changed.append(c.name)
                if bindsHardware, let slot = d.device?.slot, d.config.bind.claims(slot), !c.bind.claims(slot) {
                    // Bind= took it and no longer names it: back to the
                    // stock driver, as on `drvctl unbind`; the driver
                    // stays, stopped, under its new configuration.
                    if (try? await unbind(d)) != nil { out.released.append(c.name) }
                }
                _ = try? await d.update(config: c)
                if c.bind != .no, d.device == nil { claim(d) }
                continue
            }
            let d = DriverInstance(config: c, nucleus: nucleus, logger: logger, handover: handover, uids: uids, emit: eventSink)
            driverList.withLock { $0.append(d) }
            d.startHeartbeat()
            out.added.append(c.name)
            if c.bind != .no { claim(d) }
            let dev = unbound.withLock { u -> NucleusDevice? in
                guard let i = u.firstIndex(where: { c.matches($0) }) else { return nil }
                return u.remove(at: i)
            }
            if let dev, d.bind(dev) {
                logger.info("\(dev.pciID) at \(dev.slot) → \(d.name)")
                _ = try? await d.start()
            }
        }
        // Devices no driver took that a template (new, or changed) matches.
        for t in newTemplates {
            if t.bind != .no, bindsHardware { claimTemplate(t) }
            let devs = unbound.withLock { u -> [NucleusDevice] in
                let mine = u.filter { t.matches($0) }
                u.removeAll { t.matches($0) }
                return mine
            }
            for dev in devs {
                let d = instantiate(t.instance(for: dev.slot))
                out.added.append(d.name)
                if d.bind(dev) {
                    logger.info("\(dev.pciID) at \(dev.slot) → \(d.name)")
                    _ = try? await d.start()
                }
            }
        }
        return out
    }

    // MARK: binding (Bind=)

    /// The hand-over of `config`'s bus.
    func handover(for config: DriverConfig) throws(PCIBindError) -> any DeviceHandover {
        guard let h = handovers.first(where: { $0.bus == config.bus })?.handover else {
            throw .noDevice(slot: config.match, why: "drivermgrd cannot bind \(config.bus.name) devices")
        }
        return h
    }

    /// Whether the nucleus is drvnucleus.ko, whose devices are real PCI
    /// functions; nucleus-sim's are its own and Bind= does not apply.
    var bindsHardware: Bool { (nucleus as? XPCNucleusLink)?.isKernel ?? false }

    /// Bind= of every driver, once the nucleus is connected.
    func claimConfiguredDevices() {
        let bound = drivers.filter { $0.config.bind != .no }
        let boundTemplates = templates.withLock { $0.filter { $0.bind != .no } }
        guard !bound.isEmpty || !boundTemplates.isEmpty else { return }
        guard bindsHardware else {
            let names = (bound.map(\.name) + boundTemplates.map { $0.name + "@" }).joined(separator: ", ")
            logger.warning("Bind= of \(names) ignored: \(nucleus.description) is not drvnucleus.ko")
            return
        }
        for d in bound where d.device == nil { claim(d) }
        for t in boundTemplates { claimTemplate(t) }
    }

    /// Bind= of a template: every function it names goes to drvnucleus,
    /// whose announcement of each makes an instance.
    private func claimTemplate(_ t: DriverConfig) {
        do {
            let pci = try handover(for: t)
            for s in try pci.slots(for: t.bind, vendor: t.vendor, device: t.device) {
                do {
                    let o = try pci.claim(s)
                    if !o.already {
                        logger.notice("\(s) → drvnucleus for \(t.name)@ (from \(o.holder ?? "no driver"))",
                                      metadata: ["DRIVER": "\(t.name)@\(s)", "DEVICE": "\(s)"])
                    }
                } catch {
                    logger.error("Bind= of \(t.name)@: \(error)", metadata: ["DRIVER": "\(t.name)@"])
                }
            }
        } catch {
            logger.error("Bind= of \(t.name)@: \(error)", metadata: ["DRIVER": "\(t.name)@"])
        }
    }

    /// Hands `d`'s functions (Bind=) to drvnucleus; each one taken is then
    /// announced by the nucleus and starts the driver as any device does.
    /// The errors, each naming the function and its holder, are logged and
    /// recorded, and returned.
    @discardableResult
    func claim(_ d: DriverInstance) -> [PCIBindError] {
        guard bindsHardware else { return [] }
        var errors: [PCIBindError] = []
        var slots: [String] = []
        var pci: (any DeviceHandover)?
        do {
            let h = try handover(for: d.config)
            pci = h
            slots = try h.slots(for: d.config.bind, vendor: d.config.vendor, device: d.config.device)
        } catch {
            errors.append(error)
        }
        if slots.isEmpty && errors.isEmpty {
            errors.append(.noDevice(slot: d.config.match, why: "no \(d.config.bus == .pci ? "PCI function" : "\(d.config.bus.name) port") matches"))
        }
        for s in slots {
            guard let pci else { break }
            do {
                let o = try pci.claim(s)
                if !o.already {
                    logger.notice("\(s) → drvnucleus for \(d.name) (from \(o.holder ?? "no driver"))",
                                  metadata: ["DRIVER": "\(d.name)", "DEVICE": "\(s)"])
                    d.record("bound", "\(s) from \(o.holder ?? "no driver")")
                }
            } catch {
                errors.append(error)
            }
        }
        for e in errors {
            logger.error("Bind= of \(d.name): \(e)", metadata: ["DRIVER": "\(d.name)"])
            d.record("bind-failed", "\(e)")
        }
        return errors
    }

    /// `drvctl start`: with Bind= and no device yet, hands the device to
    /// drvnucleus, whose announcement then starts the driver; otherwise a
    /// fresh probe.
    func start(_ d: DriverInstance) async throws {
        guard d.device == nil, d.config.bind != .no, bindsHardware else {
            try await d.start()
            return
        }
        if let e = claim(d).first { throw ManagerError.startFailed(d.name, "\(e)") }
        for _ in 0..<250 where d.device == nil || d.state == .stopped {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard d.device != nil else {
            throw ManagerError.startFailed(d.name, "drvnucleus took the device but did not announce it within 5 s")
        }
    }

    /// `drvctl unbind`: stops `d` and gives its device back to the stock
    /// driver (whichever the kernel binds without the override). Returns
    /// the function and its new driver.
    func unbind(_ d: DriverInstance) async throws -> (slot: String, driver: String?) {
        guard bindsHardware else { throw ManagerError.badState(d.name, "\(nucleus.description) has no devices to give back") }
        let slot: String
        if let s = d.device?.slot {
            slot = s
        } else if case .slots(let ss) = d.config.bind, let s = ss.first {
            slot = s
        } else {
            throw ManagerError.badState(d.name, "no device bound")
        }
        await d.stop()
        d.releaseDevice()
        do {
            let now = try handover(for: d.config).release(slot)
            logger.notice("\(slot) given back by \(d.name) to \(now ?? "no driver")", metadata: ["DRIVER": "\(d.name)", "DEVICE": "\(slot)"])
            d.record("unbound", "\(slot) to \(now ?? "no driver")")
            return (slot, now)
        } catch {
            throw ManagerError.startFailed(d.name, "\(error)")
        }
    }

    // MARK: the daemon's own restart

    /// Takes over every u-driver the previous daemon left running (saved
    /// state + descriptors from systemd's store). Call before
    /// ``connectNucleus()``; then ``finishHandover(_:)`` with the result.
    func adoptFromPreviousDaemon() -> [(DriverInstance, DriverInstance.Adoption)] {
        guard let handover else { return [] }
        var out: [(DriverInstance, DriverInstance.Adoption)] = []
        // Instances of templates the previous daemon made: made again, for
        // the device each was made for, to adopt their u-drivers.
        for name in handover.savedNames() where !drivers.contains(where: { $0.name == name }) {
            guard let at = name.firstIndex(of: "@") else { continue }
            let base = String(name[..<at]), slot = String(name[name.index(after: at)...])
            guard let t = templates.withLock({ $0.first { $0.name == base } }) else { continue }
            _ = instantiate(t.instance(for: slot))
        }
        for d in drivers {
            guard let saved = handover.saved(d.name) else { continue }
            out.append((d, d.adopt(saved, from: handover)))
        }
        handover.dropUnclaimed()
        let n = out.filter { $0.1 == .adopted || $0.1 == .reconfigured }.count
        if !out.isEmpty { logger.notice("took over \(n) of \(out.count) u-driver(s) the previous drivermgrd left") }
        return out
    }

    /// With the nucleus connected: u-drivers that died while no daemon
    /// watched are recovered from their saved shadow (a crash failure), and
    /// ones whose configuration changed meanwhile restart through recovery.
    func finishHandover(_ adopted: [(DriverInstance, DriverInstance.Adoption)]) async {
        for (d, a) in adopted {
            switch a {
            case .lost(let gen):
                d.failure(.crash, "u-driver ended while drivermgrd was down", generation: gen)
            case .reconfigured:
                _ = try? await d.restart(reason: "configuration changed while drivermgrd was down")
            case .adopted, .none:
                break
            }
        }
    }

    // MARK: events

    fileprivate func publish(_ e: DriverEvent) {
        history.withLock { h in
            h.append(e)
            historyFile?.append(e, keptCount: h.count) { h.all }
        }
        for s in subscribers.withLock({ Array($0.values) }) { s(e) }
    }

    func events(for name: String) -> [DriverEvent] { history.withLock { $0.events(for: name) } }

    func subscribe(_ f: @escaping @Sendable (DriverEvent) -> Void) -> UInt64 {
        let id = nextSubscriber.withLock { v -> UInt64 in defer { v += 1 }; return v }
        subscribers.withLock { $0[id] = f }
        return id
    }

    func unsubscribe(_ id: UInt64) { _ = subscribers.withLock { $0.removeValue(forKey: id) } }

    // MARK: nucleus

    /// Connects to the nucleus, retrying until it answers.
    func connectNucleus() async {
        var warned = false
        while true {
            do {
                try nucleus.connect { [weak self] ev in self?.nucleusEvent(ev) }
                logger.info("connected to \(nucleus.description)")
                return
            } catch {
                if !warned { logger.warning("waiting for \(nucleus.description): \(error)") }
                warned = true
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The driver whose device is the nucleus's `instance`: the one its
    /// last upcall went to if that driver still has it (one lock), else
    /// found among all and remembered. Every upcall takes this path; a
    /// scan took each driver's lock, a thousand of them at fleet scale.
    func driver(forInstance instance: UInt32) -> DriverInstance? {
        if let d = routes.withLock({ $0[instance] }), d.device?.instance == instance { return d }
        let found = drivers.first { $0.device?.instance == instance }
        routes.withLock { $0[instance] = found }
        return found
    }

    private func nucleusEvent(_ ev: NucleusEvent) {
        switch ev {
        case .deviceAdded(let d):
            guard let drv = drivers.first(where: {
                $0.config.matches(d) && $0.device == nil && $0.config.accepts(slot: d.slot)
            }) ?? drivers.first(where: { $0.device == d }) ?? instantiate(for: d) else {
                logger.info("no driver configured for \(d.pciID) at \(d.slot)")
                unbound.withLock { u in if !u.contains(d) { u.append(d) } }
                return
            }
            guard drv.bind(d) else { return }
            guard drv.state == .stopped else { return }
            logger.info("\(d.pciID) at \(d.slot) → \(drv.name)")
            Task { try? await drv.start() }
        case .upcall(let m):
            guard let drv = driver(forInstance: m.instance) else {
                try? nucleus.send(.errorReply(to: m, errno: 19, message: "no driver for instance \(m.instance)"))
                return
            }
            drv.forwardUpcall(m)
        case .protocolError(let s):
            logger.warning("nucleus: \(s)")
        case .disconnected:
            if stopping.withLock({ $0 }) { return }
            logger.error("lost \(nucleus.description); the data path runs on without the daemon")
            Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(200))
                await self?.connectNucleus()
            }
        }
    }

    /// A new instance of the template that matches `dev`, added to the
    /// drivers (not started); nil when no template matches.
    private func instantiate(for dev: NucleusDevice) -> DriverInstance? {
        guard let t = templates.withLock({ $0.first { $0.matches(dev) } }) else { return nil }
        return instantiate(t.instance(for: dev.slot))
    }

    private func instantiate(_ c: DriverConfig) -> DriverInstance {
        let d = DriverInstance(config: c, nucleus: nucleus, logger: logger, handover: handover, uids: uids, emit: eventSink)
        driverList.withLock { $0.append(d) }
        d.startHeartbeat()
        logger.info("\(c.name): an instance of \(c.instanceOf?.template ?? c.name)@")
        return d
    }

    /// Stops every driver and closes the nucleus link (daemon shutdown).
    /// A driver with ReleaseOnExit= gives its Bind= functions back to the
    /// stock driver; the others' stay with drvnucleus, quiesced.
    func shutdown() async {
        stopping.withLock { $0 = true }
        let hardware = bindsHardware
        await withTaskGroup(of: Void.self) { g in
            for d in drivers {
                if hardware, d.config.releaseOnExit, let slot = d.device?.slot, d.config.bind.claims(slot) {
                    g.addTask { [self] in
                        do { _ = try await unbind(d) } catch {
                            logger.error("ReleaseOnExit= of \(d.name): \(error)", metadata: ["DRIVER": "\(d.name)"])
                        }
                    }
                } else {
                    g.addTask { await d.stop() }
                }
            }
        }
        // Stopped on purpose: the nucleus fails upcalls at once from now
        // on, rather than keep them for a next daemon (as after a crash).
        if let r = try? await nucleus.call(XPCMessage(op: .unregister, flags: .request), timeout: .seconds(2)), r.status != 0 {
            logger.warning("the nucleus refused UNREGISTER: \(r.remoteError.map { "\($0)" } ?? "status \(r.status)")")
        }
        nucleus.close()
    }

    // MARK: Call

    /// Translates a `drvctl call` into the class's upcall and its answer;
    /// ``CallParameters/listOperations`` answers the class's operations.
    func call(_ p: CallParameters) async throws -> [String: String] {
        let d = try driver(p.name)
        let cls = d.config.deviceClass
        if p.operation == CallParameters.listOperations {
            return Dictionary(uniqueKeysWithValues: cls.operations.map { ($0.name, $0.synopsis) })
        }
        guard let op = cls.operation(p.operation) else {
            if let other = DeviceClasses.all.first(where: { $0.operation(p.operation) != nil }) {
                throw ManagerError.invalidValue("operation", "\(p.operation) is a \(other.name) operation; \(d.name) is \(cls.name)")
            }
            throw ManagerError.invalidValue("operation", "\(d.name) is a \(cls.name) driver: no operation \(p.operation); expected one of "
                                                + cls.operations.map(\.name).joined(separator: ", "))
        }
        let (xpcOp, attributes): (XPCOp, [XPCAttribute])
        do {
            (xpcOp, attributes) = try op.parse(p.arguments)
        } catch {
            throw ManagerError.invalidValue("arguments", "\(error)")
        }
        return op.result(try await upcall(d, xpcOp, attributes))
    }

    private func upcall(_ d: DriverInstance, _ op: XPCOp, _ attrs: [XPCAttribute]) async throws -> XPCMessage {
        let r = await d.call(op, attrs)
        if let e = r.remoteError {
            throw ManagerError.callFailed(errno: e.errno, attribute: e.attribute?.name,
                                          message: "\(d.name): \(e.message ?? XPCError.errnoName(e.errno))")
        }
        return r
    }
}

/// The manager as the driver instances' event sink sees it.
private struct WeakManager {
    weak var manager: Manager?
}
