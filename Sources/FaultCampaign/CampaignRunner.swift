// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A code fault placed in a running u-driver (the ptrace injector), with
/// the way to take it out again if it did not manifest.
public struct PlacedCodeFault: Sendable {
    public var target: FaultTarget
    /// False: the chosen point was never executed (register faults wait for
    /// it); nothing was changed.
    public var reached: Bool
    /// Takes the fault out; false when the injector could not let go of
    /// the process cleanly (it was killed instead).
    public var restore: @Sendable () -> Bool
    public init(target: FaultTarget, reached: Bool, restore: @escaping @Sendable () -> Bool) {
        self.target = target
        self.reached = reached
        self.restore = restore
    }
}

/// Places code mutations and register faults (``FaultFamily/mutation``).
public protocol CodeFaultInjector: Sendable {
    /// Places fault `kind` in process `pid`, chosen from `seed`, in the
    /// code of the Swift modules `modules` and the C functions `functions`.
    func place(_ kind: String, pid: Int32, modules: [String], functions: [String], seed: UInt64) throws -> PlacedCodeFault
}

/// One driver the campaign injects into.
public struct CampaignDriver: Sendable, Hashable {
    public var name: String
    public var driverClass: String
    /// The Swift modules whose code is the driver's own (mutation targets).
    public var modules: [String]
    /// C functions that are the driver's own, by symbol name (a sliced
    /// driver's user half); with none and no modules, the Swift module of
    /// the executable's `$main`.
    public var functions: [String]
    public init(name: String, driverClass: String, modules: [String], functions: [String] = []) {
        self.name = name
        self.driverClass = driverClass
        self.modules = modules
        self.functions = functions
    }
}

/// drivermgrd's own death in the campaign: every `every` faults the
/// runner holds the other workers, SIGKILLs the daemon (half the time
/// while a driver it just crashed is being recovered) and checks that the
/// restarted daemon took every u-driver over with nothing lost.
public struct DaemonKills: Sendable {
    public var every: UInt64
    /// drivermgrd's current pid: it changes at every restart.
    public var pid: @Sendable () -> Int32?
    public init(every: UInt64, pid: @escaping @Sendable () -> Int32?) {
        self.every = every
        self.pid = pid
    }
}

/// Drives faults into running u-drivers through drivermgrd's control
/// socket, one worker thread per group of drivers, and writes one
/// ``FaultRecord`` per fault as a JSONL line.
public final class CampaignRunner: Sendable {
    public struct Settings: Sendable {
        public var socket: String
        public var drivers: [CampaignDriver]
        public var plan: FaultPlan
        /// Stop once this many faults are placed, or after `seconds`,
        /// whichever first. A fault drawn for a driver that was not active
        /// (its row says why) does not count; a replay stops after its
        /// rows.
        public var faults: UInt64
        public var seconds: Double
        public var workers: Int
        /// How long to watch for a failure after the exercise call returned
        /// (a hang or a latent mutation shows within heartbeat + deadline).
        public var window: Duration
        /// The window for a kind found only by a deadline
        /// (``FaultKind/foundByDeadline``: hang, slow); nil: ``window``.
        /// A driver whose XPCTimeoutSec= is longer than `window` needs it,
        /// or its hangs are judged not manifested and the next fault goes
        /// into a process that serves nothing.
        public var deadlineWindow: Duration?
        /// drivermgrd's pid, to check it is alive after every fault.
        public var daemonPID: Int32?
        public var injector: (any CodeFaultInjector)?
        /// Whether each fault is followed by its class's ``Exercise`` (a
        /// setter through `drvctl call`). Off for drivers that serve no
        /// class operation (a sliced driver's kernel half serves its
        /// clients itself): then the data path and the heartbeat are the
        /// work.
        public var exercise = true
        /// Faults to inject again (reproducers), in order, instead of the
        /// plan's draws; one worker.
        public var replay: [FaultRecord]?
        /// SIGKILLs of drivermgrd itself, when it runs under a restarter.
        public var daemonKills: DaemonKills?
        public init(socket: String, drivers: [CampaignDriver], plan: FaultPlan, faults: UInt64, seconds: Double,
                    workers: Int, window: Duration, daemonPID: Int32?, injector: (any CodeFaultInjector)?) {
            self.socket = socket
            self.drivers = drivers
            self.plan = plan
            self.faults = faults
            self.seconds = seconds
            self.workers = workers
            self.window = window
            self.daemonPID = daemonPID
            self.injector = injector
        }

        /// Settings that inject `rows` again, one after the other.
        public static func replaying(_ rows: [FaultRecord], socket: String, drivers: [CampaignDriver], window: Duration,
                                     daemonPID: Int32?, injector: (any CodeFaultInjector)?) -> Settings {
            var s = Settings(socket: socket, drivers: drivers, plan: FaultPlan(kinds: FaultKind.all, seed: 0),
                             faults: UInt64(rows.count), seconds: 86_400, workers: 1, window: window,
                             daemonPID: daemonPID, injector: injector)
            s.replay = rows
            return s
        }

        /// How long to watch for a failure after a fault of `kind`.
        public func window(for kind: FaultKind) -> Duration {
            kind.foundByDeadline ? max(deadlineWindow ?? window, window) : window
        }
    }

    let settings: Settings
    let feed = EventFeed()
    private let next = Atomic<UInt64>(0)
    private let out: FileHandle
    private let outLock = Mutex(())
    private let tally = Mutex(CampaignTally())
    private let deadline: UInt64

    /// Workers hold the gate while a fault of theirs is in flight; a daemon
    /// kill closes it and waits for them. `epoch` counts the kills, so a
    /// worker knows its control connection went with the daemon.
    private struct Gate {
        var paused = false
        var inFlight = 0
        var epoch = 0
    }
    private let gate = Mutex(Gate())

    private func enterGate() -> Int {
        while true {
            if let e = gate.withLock({ g -> Int? in
                guard !g.paused else { return nil }
                g.inFlight += 1
                return g.epoch
            }) { return e }
            usleep(1_000)
        }
    }

    private func leaveGate() { gate.withLock { $0.inFlight -= 1 } }

    /// Runs `body` with no fault of another worker in flight.
    private func exclusively(_ body: () -> Void) {
        while !gate.withLock({ g -> Bool in
            guard !g.paused else { return false }
            g.paused = true
            return true
        }) { usleep(1_000) }
        while gate.withLock({ $0.inFlight }) > 0 { usleep(1_000) }
        body()
        gate.withLock {
            $0.epoch += 1
            $0.paused = false
        }
    }

    /// Opens `jsonl` for the rows (appending).
    public init(_ settings: Settings, jsonl: String) throws {
        self.settings = settings
        if !FileManager.default.fileExists(atPath: jsonl) {
            guard FileManager.default.createFile(atPath: jsonl, contents: nil) else {
                throw CampaignError("cannot create \(jsonl)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: jsonl) else { throw CampaignError("cannot open \(jsonl)") }
        h.seekToEndOfFile()
        out = h
        deadline = Self.nowNanos() + UInt64(settings.seconds * 1e9)
    }

    /// Runs every worker to the end; returns the tally.
    public func run(progress: (@Sendable (CampaignTally) -> Void)? = nil) throws -> CampaignTally {
        try feed.start(socket: settings.socket, reconnect: settings.daemonKills != nil)
        let groups = (0..<max(1, min(settings.workers, settings.drivers.count))).map { w in
            settings.drivers.enumerated().filter { $0.offset % max(1, min(settings.workers, settings.drivers.count)) == w }.map(\.element)
        }
        let done = DispatchGroup()
        for g in groups {
            done.enter()
            let t = Thread { [self] in
                defer { done.leave() }
                work(g)
            }
            t.stackSize = 1 << 20
            t.start()
        }
        while done.wait(timeout: .now() + 5) == .timedOut {
            progress?(tally.withLock { $0 })
        }
        try? out.synchronize()
        return tally.withLock { $0 }
    }

    static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func wallMicros() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1e6) }

    private func claim() -> UInt64? {
        guard Self.nowNanos() < deadline else { return nil }
        if settings.replay == nil {
            // Faults placed, not drawn: the workers in flight may place a
            // few more than asked.
            guard UInt64(tally.withLock { $0.injected }) < settings.faults else { return nil }
            return next.add(1, ordering: .relaxed).oldValue
        }
        let i = next.add(1, ordering: .relaxed).oldValue
        return i < settings.faults ? i : nil
    }

    private func work(_ drivers: [CampaignDriver]) {
        guard !drivers.isEmpty else { return }
        var client: ManagerClient
        do { client = try ManagerClient(path: settings.socket) } catch {
            tally.withLock { $0.errors.append("worker: \(error)") }
            return
        }
        defer { client.close() }
        var cursors: [String: Int] = [:]
        var turn = 0
        var epoch = gate.withLock { $0.epoch }
        while true {
            let now = enterGate()
            if now != epoch {
                // The daemon was killed meanwhile: talk to the new one.
                client.close()
                guard let c = try? ManagerClient(path: settings.socket) else {
                    leaveGate()
                    tally.withLock { $0.errors.append("worker: no drivermgrd after a daemon kill") }
                    return
                }
                client = c
                epoch = now
            }
            guard let index = claim() else {
                leaveGate()
                return
            }
            if let k = settings.daemonKills, k.every > 0, index % k.every == k.every - 1 {
                leaveGate()
                exclusively { killDaemon(index, k) }
                continue
            }
            defer { leaveGate() }
            var d = drivers[turn % drivers.count]
            turn += 1
            var seed = settings.plan.seed(of: index)
            var kind = settings.plan.kind(for: seed)
            if let replay = settings.replay {
                // A reproducer: its kind and seed, into a driver of its type.
                let r = replay[Int(index)]
                seed = r.seed
                kind = FaultKind.named(r.kind)
                let type = CampaignReport.driverType(r.driver)
                guard let same = drivers.first(where: { CampaignReport.driverType($0.name) == type }) else {
                    var row = FaultRecord(index: index, seed: seed, driver: r.driver, driverClass: r.driverClass,
                                          kind: kind ?? FaultKind(r.kind, r.family, weight: 0))
                    row.notInjected = "no \(type) driver in this run"
                    write(row)
                    continue
                }
                d = same
            }
            guard let kind else { return }
            var row = FaultRecord(index: index, seed: seed, driver: d.name, driverClass: d.driverClass, kind: kind)
            do {
                cursors[d.name] = feed.forget(d.name, before: cursors[d.name] ?? feed.count(of: d.name))
                try inject(kind, into: d, row: &row, client: &client, cursor: &cursors[d.name, default: 0])
            } catch let e as ManagerClientError where e.message.contains("closed the connection") || e.message.contains("connection lost") {
                row.notInjected = "control connection lost: \(e.message)"
                row.daemonAlive = daemonAlive()
                write(row)
                return
            } catch {
                row.notInjected = "\(error)"
            }
            write(row)
        }
    }

    private func daemonAlive() -> Bool {
        if let k = settings.daemonKills { return k.pid().map { kill($0, 0) == 0 } ?? false }
        guard let pid = settings.daemonPID else { return feed.endedBecause == nil }
        return kill(pid, 0) == 0
    }

    /// One daemon kill, as a row: the driver is the one crashed just before
    /// (mid-recovery) or the one the fleet's check names; detected = the
    /// daemon came back; transparent = every driver active, every u-driver
    /// but a crashed one adopted (same pid), the devices as the shadows say,
    /// nothing lost across the fleet. A driver that was recovering from a
    /// failure of its own when the daemon died (not `active` before the
    /// kill, or a `failure` in its history between that look and the kill:
    /// a fault of the previous round that manifested late) cannot be taken
    /// over either, by design (its new u-driver had not been committed):
    /// it counts as the crashed one does.
    private func killDaemon(_ index: UInt64, _ k: DaemonKills) {
        let seed = settings.plan.seed(of: index)
        var r = SeededRandom(seed: seed)
        let target = settings.drivers[Int(r.next() % UInt64(settings.drivers.count))]
        let midRecovery = r.next() % 2 == 0
        var row = FaultRecord(index: index, seed: seed, driver: target.name, driverClass: target.driverClass, kind: FaultKind.daemonKill)
        row.target = FaultTarget(detail: midRecovery ? "while \(target.name) recovers from a crash" : "every driver serving")
        let names = settings.drivers.map(\.name)
        func statuses(_ c: inout ManagerClient) throws -> [String: DriverStatus] {
            let reply = try c.call(.status, ["names": .array(names.map { .string($0) })], as: StatusReply.self, what: "status")
            return Dictionary(reply.drivers.map { ($0.summary.name, $0) }, uniquingKeysWith: { a, _ in a })
        }
        let lookedUSec = UInt64(Date().timeIntervalSince1970 * 1e6)
        guard var c = try? ManagerClient(path: settings.socket), let before = try? statuses(&c), let old = k.pid() else {
            row.notInjected = "drivermgrd not reachable before the kill"
            row.daemonAlive = daemonAlive()
            write(row)
            return
        }
        if midRecovery {
            _ = try? c.call(.inject, ["name": .string(target.name), "kind": .string("crash")], as: StateReply.self, what: "inject")
            usleep(UInt32(r.next() % 80_000))
        }
        c.close()
        let t0 = Self.nowNanos()
        let killUSec = UInt64(Date().timeIntervalSince1970 * 1e6)
        guard kill(old, SIGKILL) == 0 else {
            row.notInjected = "kill \(old): \(String(cString: strerror(errno)))"
            write(row)
            return
        }
        // Back: a new pid, its socket answering, every driver active.
        var after: [String: DriverStatus] = [:]
        var backAt: UInt64?
        let end = t0 + 60_000_000_000
        while Self.nowNanos() < end {
            if let p = k.pid(), p != old, var n = try? ManagerClient(path: settings.socket) {
                if backAt == nil { backAt = Self.nowNanos() }
                let s = (try? statuses(&n)) ?? [:]
                n.close()
                if s.count == names.count && s.values.allSatisfy({ $0.summary.state == .active }) {
                    after = s
                    break
                }
            }
            usleep(10_000)
        }
        let servingAt = after.isEmpty ? nil : Self.nowNanos()
        row.manifested = true
        row.detected = backAt != nil
        row.daemonAlive = daemonAlive()
        if let b = backAt { row.detectUSec = (b - t0) / 1000 }
        if let s = servingAt { row.recoverUSec = (s - t0) / 1000 }
        row.endState = after[target.name]?.summary.state ?? .failed
        // Adopted, not restarted: the same pid (the crashed one may differ).
        var replaced = names.filter { n in
            n != target.name || !midRecovery
        }.filter { n in before[n]?.summary.pid != after[n]?.summary.pid }
        // A driver recovering from its own failure at the kill is excused
        // as the crashed one is; its data path and shadow are judged still.
        var recovering: [String] = []
        if !replaced.isEmpty, var h = try? ManagerClient(path: settings.socket) {
            for n in replaced {
                let evs = (try? h.call(.history, ["name": .string(n)], as: HistoryReply.self, what: "history \(n)").events) ?? []
                if before[n]?.summary.state != .active
                    || evs.contains(where: { $0.event == "failure" && $0.timeUSec >= lookedUSec && $0.timeUSec <= killUSec }) {
                    recovering.append(n)
                }
            }
            h.close()
            replaced.removeAll { recovering.contains($0) }
        }
        var divergences: [DeviceDivergence] = []
        if var v = try? ManagerClient(path: settings.socket), !after.isEmpty {
            for n in names {
                for attempt in 0..<20 {
                    if let reply = try? v.call(.verify, ["name": .string(n)], as: VerifyReply.self, what: "verify \(n)") {
                        divergences += reply.divergences
                        break
                    }
                    if attempt < 19 { usleep(10_000) }
                }
            }
            v.close()
        }
        row.divergences = divergences
        // The fleet's data path: frames dropped or beyond what can be in
        // flight, periods starved, over every driver.
        var fleet = DataPathDelta()
        fleet.dropped = 0
        fleet.underruns = 0
        fleet.glitches = 0
        for n in names {
            guard let b = before[n], let a = after[n] else { continue }
            let c0 = counters(b), c1 = counters(a)
            var d = DataPathDelta()
            d.gapBefore = c0.gap
            d.gapAfter = c1.gap
            if let x = c0.dropped, let y = c1.dropped { d.dropped = y >= x ? y - x : 0 }
            if let x = c0.underruns, let y = c1.underruns { fleet.underruns! += y >= x ? y - x : 0 }
            if let x = c0.glitches, let y = c1.glitches { fleet.glitches! += y >= x ? y - x : 0 }
            if let x = c0.inputLost, let y = c1.inputLost { d.inputLost = y >= x ? y - x : 0 }
            d.underruns = nil
            d.glitches = nil
            fleet.dropped! += d.lost
        }
        row.dataPath = fleet
        var detail = backAt.map { "drivermgrd back after \(($0 - t0) / 1_000_000) ms" } ?? "drivermgrd did not come back"
        if !recovering.isEmpty {
            detail += "; recovering from a failure of its own at the kill, recovered afresh: " + recovering.joined(separator: ", ")
        }
        if !replaced.isEmpty {
            detail += "; restarted instead of taken over: " + replaced.joined(separator: ", ")
            // Why, in the next daemon's words: what its history holds for
            // each of them since the kill (a take-over refused, or a
            // failure right after it).
            let since = UInt64(Date().timeIntervalSince1970 * 1e6) - (Self.nowNanos() - t0) / 1000
            if var h = try? ManagerClient(path: settings.socket) {
                for n in replaced {
                    let evs = (try? h.call(.history, ["name": .string(n)], as: HistoryReply.self, what: "history \(n)").events) ?? []
                    let told = evs.filter { $0.timeUSec >= since && $0.event != "call" }.prefix(6)
                        .map { "\($0.event) \($0.detail)" }
                    if !told.isEmpty { detail += "; \(n) since the kill: " + told.joined(separator: " | ") }
                }
                h.close()
            }
        }
        row.failureDetail = detail
        row.transparent = row.detected && !after.isEmpty && replaced.isEmpty && divergences.isEmpty
            && fleet.lost == 0 && row.daemonAlive
        write(row)
    }

    private func status(_ client: inout ManagerClient, _ name: String) throws -> DriverStatus {
        let r = try client.call(.status, ["names": .array([.string(name)])], as: StatusReply.self, what: "status \(name)")
        guard let s = r.drivers.first else { throw CampaignError("no status for \(name)") }
        return s
    }

    /// Waits until `name` is active; its status then.
    private func waitActive(_ client: inout ManagerClient, _ name: String, for seconds: Double) throws -> DriverStatus {
        let end = Self.nowNanos() + UInt64(seconds * 1e9)
        while true {
            let s = try status(&client, name)
            if s.summary.state == .active || Self.nowNanos() > end { return s }
            usleep(5_000)
        }
    }

    private func counters(_ s: DriverStatus) -> (gap: Int64?, dropped: UInt64?, underruns: UInt64?, glitches: UInt64?, inputLost: UInt64?) {
        guard let dev = s.device else { return (nil, nil, nil, nil, nil) }
        var gap: Int64?
        // The sim's client counts what it handed to start_xmit; without it,
        // what the nucleus counted as sent.
        if let sent = dev.number("clientSent") ?? dev.number("txPackets"), let echoed = dev.number("echoed") {
            gap = Int64(bitPattern: sent &- echoed)
        }
        // The sim's input reader: packets missing or repeated, and packets
        // decoded otherwise than sent (a protocol changed under it).
        let lost = dev.number("lost"), wrong = dev.number("clientErrors")
        let input = lost == nil && wrong == nil ? nil : (lost ?? 0) + (wrong ?? 0)
        return (gap, dev.number("rxDropped"), dev.number("underruns"), dev.number("glitches"), input)
    }

    private func inject(_ kind: FaultKind, into d: CampaignDriver, row: inout FaultRecord,
                        client: inout ManagerClient, cursor: inout Int) throws {
        let before = try waitActive(&client, d.name, for: 10)
        guard before.summary.state == .active, let pid = before.summary.pid else {
            row.notInjected = "driver \(before.summary.state.rawValue)"
            return
        }
        let c0 = counters(before)
        cursor = feed.count(of: d.name)
        let injectedAt = Self.wallMicros()
        var placed: PlacedCodeFault?
        if let only = kind.classes, !only.contains(d.driverClass) {
            row.notInjected = "\(kind.name) goes into \(only.joined(separator: ", ")) drivers only: the exercise's setting is not read back for \(d.driverClass)"
            return
        }
        switch kind.family {
        case .daemon:
            row.notInjected = "drivermgrd's kill is scheduled (--daemon-kill-every), not drawn"
            return
        case .runtime:
            _ = try client.call(.inject, ["name": .string(d.name), "kind": .string(kind.name)], as: StateReply.self,
                                what: "inject \(kind.name) into \(d.name)")
        case .signal:
            guard kill(pid, SIGKILL) == 0 else {
                row.notInjected = "kill \(pid): \(String(cString: strerror(errno)))"
                return
            }
        case .mutation:
            guard let injector = settings.injector else {
                row.notInjected = "no code injector (needs root and ptrace)"
                return
            }
            let p = try injector.place(kind.name, pid: pid, modules: d.modules, functions: d.functions, seed: row.seed)
            row.target = p.target
            guard p.reached else {
                row.notInjected = "target not reached"
                return
            }
            placed = p
        }
        row.injectedAtUSec = injectedAt
        // Real work through the broker: a setter with a random value.
        var r = SeededRandom(seed: row.seed ^ 0x5eed_5eed)
        if settings.exercise, let make = Exercise.byClass[d.driverClass] {
            let ex = make(&r)
            do {
                _ = try client.call(.call, ["name": .string(d.name), "operation": .string(ex.operation),
                                            "arguments": .array(ex.arguments.map { .string($0) })],
                                    as: CallReply.self, what: "call \(ex.operation) on \(d.name)")
            } catch let e as ManagerClientError {
                if e.message.contains("closed the connection") || e.message.contains("connection lost") { throw e }
                row.clientError = e.message
            }
        }
        // Watch for the failure report.
        let window = settings.window(for: kind)
        let windowEnd = Self.nowNanos() + UInt64(window.components.seconds) * 1_000_000_000
            + UInt64(window.components.attoseconds / 1_000_000_000)
        var failure: DriverEvent?
        while failure == nil && Self.nowNanos() < windowEnd {
            failure = feed.events(of: d.name, from: cursor).first { $0.event == "failure" }
            if failure == nil { usleep(2_000) }
        }
        var recovered: DriverEvent?, gaveUp: DriverEvent?
        if failure != nil {
            let end = Self.nowNanos() + 20_000_000_000
            while recovered == nil && gaveUp == nil && Self.nowNanos() < end {
                let evs = feed.events(of: d.name, from: cursor)
                recovered = evs.first { $0.event == "recovered" }
                gaveUp = evs.first { $0.event == "failed" }
                let retries = evs.filter { $0.event == "recovery-failed" }
                row.recoveryRetries = retries.count
                row.retryDetail = retries.first?.detail
                if recovered == nil && gaveUp == nil { usleep(2_000) }
            }
        } else if let placed {
            // Latent: take the mutation out so the next fault starts clean.
            let now = try status(&client, d.name)
            if now.summary.pid == pid && !placed.restore() {
                row.notInjected = "the injector could not let go of the process and killed it"
                return
            }
        }
        var after = try waitActive(&client, d.name, for: gaveUp == nil ? 10 : 0.1)
        if failure == nil {
            // Manifested after the window (a mutation on a path that runs
            // later): late, but still the daemon's detection.
            let evs = feed.events(of: d.name, from: cursor)
            if let late = evs.first(where: { $0.event == "failure" }) {
                failure = late
                row.lateDetection = true
                let end = Self.nowNanos() + 20_000_000_000
                while recovered == nil && gaveUp == nil && Self.nowNanos() < end {
                    let e = feed.events(of: d.name, from: cursor)
                    recovered = e.first { $0.event == "recovered" }
                    gaveUp = e.first { $0.event == "failed" }
                    if recovered == nil && gaveUp == nil { usleep(2_000) }
                }
                after = try waitActive(&client, d.name, for: gaveUp == nil ? 10 : 0.1)
            }
        }
        row.endState = after.summary.state
        if after.summary.state == .active {
            for attempt in 0..<20 {
                do {
                    let v = try client.call(.verify, ["name": .string(d.name)], as: VerifyReply.self, what: "verify \(d.name)")
                    row.divergences = v.divergences
                    break
                } catch let e as ManagerClientError where attempt < 19 && !e.message.contains("closed the connection") {
                    usleep(10_000) // requests still held after recovery
                }
            }
        }
        let c1 = counters(after)
        row.dataPath.gapBefore = c0.gap
        row.dataPath.gapAfter = c1.gap
        if let a = c0.dropped, let b = c1.dropped { row.dataPath.dropped = b >= a ? b - a : 0 }
        if let a = c0.underruns, let b = c1.underruns { row.dataPath.underruns = b >= a ? b - a : 0 }
        if let a = c0.glitches, let b = c1.glitches { row.dataPath.glitches = b >= a ? b - a : 0 }
        if let a = c0.inputLost, let b = c1.inputLost { row.dataPath.inputLost = b >= a ? b - a : 0 }
        row.daemonAlive = daemonAlive()
        row.endedAtUSec = Self.wallMicros()
        row.classify(failure: failure, recovered: recovered, gaveUp: gaveUp, injectedAtUSec: injectedAt)
    }

    private func write(_ row: FaultRecord) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        guard let data = try? enc.encode(row) else { return }
        outLock.withLock { _ in
            out.write(data)
            out.write(Data([0x0a]))
        }
        tally.withLock { $0.add(row) }
    }
}

/// Running counts, printed while the campaign goes.
public struct CampaignTally: Sendable {
    public var injected = 0
    public var notInjected = 0
    public var manifested = 0
    public var detected = 0
    public var transparent = 0
    public var silent = 0
    public var undetected = 0
    public var lost: UInt64 = 0
    public var daemonDown = 0
    public var errors: [String] = []
    public init() {}

    mutating func add(_ r: FaultRecord) {
        if r.notInjected != nil { notInjected += 1; if !r.daemonAlive { daemonDown += 1 }; return }
        injected += 1
        if r.manifested { manifested += 1 }
        if r.detected { detected += 1 }
        if r.transparent { transparent += 1 }
        if r.silentCorruption { silent += 1 }
        if r.manifested && !r.detected { undetected += 1 }
        lost += r.dataPath.lost
        if !r.daemonAlive { daemonDown += 1 }
    }
}

/// A campaign that cannot go on, in words.
public struct CampaignError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
