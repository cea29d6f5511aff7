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
    /// code of the Swift modules `modules`.
    func place(_ kind: String, pid: Int32, modules: [String], seed: UInt64) throws -> PlacedCodeFault
}

/// One driver the campaign injects into.
public struct CampaignDriver: Sendable, Hashable {
    public var name: String
    public var driverClass: String
    /// The Swift modules whose code is the driver's own (mutation targets).
    public var modules: [String]
    public init(name: String, driverClass: String, modules: [String]) {
        self.name = name
        self.driverClass = driverClass
        self.modules = modules
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
        /// Stop after this many faults, or after `seconds`, whichever first.
        public var faults: UInt64
        public var seconds: Double
        public var workers: Int
        /// How long to watch for a failure after the exercise call returned
        /// (a hang or a latent mutation shows within heartbeat + deadline).
        public var window: Duration
        /// drivermgrd's pid, to check it is alive after every fault.
        public var daemonPID: Int32?
        public var injector: (any CodeFaultInjector)?
        /// Faults to inject again (reproducers), in order, instead of the
        /// plan's draws; one worker.
        public var replay: [FaultRecord]?
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
    }

    let settings: Settings
    let feed = EventFeed()
    private let next = Atomic<UInt64>(0)
    private let out: FileHandle
    private let outLock = Mutex(())
    private let tally = Mutex(CampaignTally())
    private let deadline: UInt64

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
        try feed.start(socket: settings.socket)
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
        while let index = claim() {
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
        guard let pid = settings.daemonPID else { return feed.endedBecause == nil }
        return kill(pid, 0) == 0
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

    private func counters(_ s: DriverStatus) -> (gap: Int64?, dropped: UInt64?, underruns: UInt64?, glitches: UInt64?) {
        guard let dev = s.device else { return (nil, nil, nil, nil) }
        var gap: Int64?
        // The sim's client counts what it handed to start_xmit; without it,
        // what the nucleus counted as sent.
        if let sent = dev.number("clientSent") ?? dev.number("txPackets"), let echoed = dev.number("echoed") {
            gap = Int64(bitPattern: sent &- echoed)
        }
        return (gap, dev.number("rxDropped"), dev.number("underruns"), dev.number("glitches"))
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
        switch kind.family {
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
            let p = try injector.place(kind.name, pid: pid, modules: d.modules, seed: row.seed)
            row.target = p.target
            guard p.reached else {
                row.notInjected = "target not reached"
                return
            }
            placed = p
        }
        // Real work through the broker: a setter with a random value.
        var r = SeededRandom(seed: row.seed ^ 0x5eed_5eed)
        if let make = Exercise.byClass[d.driverClass] {
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
        let windowEnd = Self.nowNanos() + UInt64(settings.window.components.seconds) * 1_000_000_000
            + UInt64(settings.window.components.attoseconds / 1_000_000_000)
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
        row.daemonAlive = daemonAlive()
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
