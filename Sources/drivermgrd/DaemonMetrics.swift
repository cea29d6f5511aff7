// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import CoreMetrics
import Foundation
import Logging
import Prometheus
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// drivermgrd's metrics: recorded through swift-metrics where they happen,
/// kept by swift-prometheus's registry, written in Prometheus's text format
/// to a node_exporter textfile and, when configured, served over HTTP.
///
/// Counted as they happen: XPC calls and their errors by direction and op,
/// failures by kind, sandbox violations, recovery times. Read when the
/// metrics are written: each driver's state, restarts, quiesced devices,
/// the daemon's resident memory.
final class DaemonMetrics: Sendable {
    /// Every metric's name and HELP text; swift-metrics carries no help,
    /// so ``exposition()`` adds these lines before each `# TYPE`.
    static let help: [String: String] = [
        "drivermgr_driver_state": "1 for the state each driver instance is in, 0 for the others.",
        "drivermgr_driver_restarts_total": "u-drivers started after the first: recoveries, restarts, starts after a failure.",
        "drivermgr_driver_failures_total": "Failures detected, by driver and kind (restart: drvctl restart).",
        "drivermgr_sandbox_violations_total": "System calls the u-driver's sandbox forbade, each a failure of kind sandbox.",
        "drivermgr_recovery_duration_seconds": "From a failure's detection to the new u-driver serving.",
        "drivermgr_xpc_calls_total": "XPC calls through the daemon: upcalls to u-drivers, downcalls from them to the nucleus.",
        "drivermgr_xpc_errors_total": "XPC calls answered with an error, refused, or unanswered.",
        "drivermgr_quiesced_devices": "Devices the nucleus quiesced because their driver failed for good.",
        "drivermgr_daemon_resident_memory_bytes": "drivermgrd's resident set size.",
    ]

    /// Recovery-time buckets: recoveries take milliseconds (docs/reliability.md).
    static let recoveryBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// The process's metrics; recording before ``bootstrap(_:)`` goes to
    /// swift-metrics' no-op backend (the tests that build a daemon in-process).
    static let shared = DaemonMetrics()

    let registry = PrometheusCollectorRegistry()
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    /// Restarts already added to each driver's counter.
    private let restartsSeen = Mutex<[String: Int]>([:])

    /// Makes ``shared``'s registry swift-metrics' backend; once per process.
    static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: shared.registry)
        factory.durationHistogramBuckets = ["drivermgr_recovery_duration_seconds": recoveryBuckets]
        MetricsSystem.bootstrap(factory)
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLock { c in
            if let k = c[key] { return k }
            let k = CoreMetrics.Counter(label: name, dimensions: dimensions)
            c[key] = k
            return k
        }
    }

    /// The broker's counters by direction and op number, found per call
    /// without building their names (this is on every brokered call). An
    /// errors series appears with its first error.
    private struct XPCKey: Hashable { var direction: XPCDirection; var op: UInt16 }
    private let xpcCounters = Mutex<[XPCKey: (calls: CoreMetrics.Counter, errors: CoreMetrics.Counter?)]>([:])

    /// One XPC call the daemon passed on; `failed` when it was answered
    /// with an error, refused or went unanswered.
    func xpcCall(_ direction: XPCDirection, _ op: XPCOp, failed: Bool) {
        let key = XPCKey(direction: direction, op: op.rawValue)
        let (calls, errors) = xpcCounters.withLock { c -> (CoreMetrics.Counter, CoreMetrics.Counter?) in
            let dims = { [("direction", direction.rawValue), ("op", op.name)] }
            if let p = c[key], !failed || p.errors != nil { return p }
            var p = c[key] ?? (CoreMetrics.Counter(label: "drivermgr_xpc_calls_total", dimensions: dims()), nil)
            if failed { p.errors = CoreMetrics.Counter(label: "drivermgr_xpc_errors_total", dimensions: dims()) }
            c[key] = p
            return p
        }
        calls.increment()
        if failed { errors?.increment() }
    }

    /// Follows the manager's events: failures and recoveries.
    func observe(_ manager: Manager) {
        _ = manager.subscribe { [self] e in
            switch e.event {
            case "failure", "restart":
                guard let kind = e.failureKind else { return }
                counter("drivermgr_driver_failures_total", [("driver", e.driver), ("kind", kind.rawValue)]).increment()
                if kind == .sandbox { counter("drivermgr_sandbox_violations_total", [("driver", e.driver)]).increment() }
            case "recovered":
                guard let us = e.recoveryUSec else { return }
                CoreMetrics.Timer(label: "drivermgr_recovery_duration_seconds", dimensions: [("driver", e.driver)])
                    .recordNanoseconds(Int64(clamping: us) &* 1000)
            default:
                return
            }
        }
    }

    /// Sets what is read rather than counted: states, restarts, quiesced
    /// devices, resident memory. A driver gone since the last refresh (a
    /// reload removed it) loses its series. Only what changed is recorded:
    /// with a thousand drivers, setting seven state gauges each every
    /// interval was a tenth of an idle daemon's CPU (perf).
    func refresh(_ drivers: [DriverSummary]) {
        var now: [DriverKey: DriverState] = [:]
        now.reserveCapacity(drivers.count)
        for d in drivers { now[DriverKey(name: d.name, driverClass: d.driverClass)] = d.state }
        let before = known.withLock { k -> [DriverKey: DriverState] in
            defer { k = now }
            return k
        }
        for d in before.keys where now[d] == nil { forget(d) }
        var quiesced = 0
        for d in drivers {
            let key = DriverKey(name: d.name, driverClass: d.driverClass)
            if before[key] != d.state {
                for s in DriverState.allCases {
                    CoreMetrics.Gauge(label: "drivermgr_driver_state", dimensions: [("driver", d.name), ("class", d.driverClass), ("state", s.rawValue)])
                        .record(d.state == s ? 1 : 0)
                }
            }
            if d.state == .failed, d.device != nil { quiesced += 1 }
            let added = restartsSeen.withLock { seen -> Int in
                let before = seen[d.name] ?? 0
                seen[d.name] = max(before, d.restarts)
                return max(0, d.restarts - before)
            }
            // The series exists from the first refresh, at 0.
            if added > 0 || before[key] == nil {
                counter("drivermgr_driver_restarts_total", [("driver", d.name)]).increment(by: added)
            }
        }
        CoreMetrics.Gauge(label: "drivermgr_quiesced_devices").record(quiesced)
        CoreMetrics.Gauge(label: "drivermgr_daemon_resident_memory_bytes").record(Self.residentBytes())
    }

    private struct DriverKey: Hashable { var name: String; var driverClass: String }
    /// The drivers of the last refresh, and the state each was in.
    private let known = Mutex<[DriverKey: DriverState]>([:])

    private func forget(_ d: DriverKey) {
        for s in DriverState.allCases {
            CoreMetrics.Gauge(label: "drivermgr_driver_state", dimensions: [("driver", d.name), ("class", d.driverClass), ("state", s.rawValue)])
                .destroy()
        }
        CoreMetrics.Timer(label: "drivermgr_recovery_duration_seconds", dimensions: [("driver", d.name)]).destroy()
        let mine = counters.withLock { c -> [CoreMetrics.Counter] in
            let keys = c.keys.filter { $0.contains("|driver=\(d.name)|") || $0.hasSuffix("|driver=\(d.name)") }
            defer { for k in keys { c.removeValue(forKey: k) } }
            return keys.compactMap { c[$0] }
        }
        for c in mine { c.destroy() }
        restartsSeen.withLock { _ = $0.removeValue(forKey: d.name) }
    }

    /// VmRSS from /proc/self/statm (pages).
    static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = s.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The registry in Prometheus's text format (version 0.0.4), with a
    /// `# HELP` line before each family's `# TYPE`.
    func exposition() -> String {
        var out = ""
        for line in registry.emitToString().split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if let h = Self.help[String(name)] { out += "# HELP \(name) \(h)\n" }
            }
            out += line + "\n"
        }
        return out
    }
}

/// Which way an XPC call went through the daemon.
enum XPCDirection: String, Sendable {
    /// From the nucleus or drvctl to the u-driver.
    case upcall
    /// From the u-driver to the nucleus.
    case downcall
}
