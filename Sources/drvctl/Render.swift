// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation

/// Human output: tables and status blocks, pure functions of the data.
enum Render {
    /// "2min 3s", "45s", "1h 2min", systemd style.
    static func timeSpan(usec: UInt64) -> String {
        var s = usec / 1_000_000
        if s < 60 { return "\(s)s" }
        let h = s / 3600, m = (s % 3600) / 60
        s %= 60
        if h > 0 { return "\(h)h \(m)min" }
        return s > 0 ? "\(m)min \(s)s" : "\(m)min"
    }

    /// Left-aligned columns separated by one space, header upper-case.
    /// `paint` may wrap a body cell (padded already) in colour, by column.
    static func table(_ header: [String], _ rows: [[String]], legend: Bool,
                      paint: [Int: (String, String) -> String] = [:]) -> String {
        let all = (legend ? [header] : []) + rows
        guard !all.isEmpty else { return "" }
        var widths = [Int](repeating: 0, count: header.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        return all.enumerated().map { n, r in
            r.enumerated().map { i, c in
                let cell = i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                guard let p = paint[i], !(legend && n == 0) else { return cell }
                return p(c, cell)
            }.joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    /// ANSI colour of a state, as systemctl colours its own: green active,
    /// red failed, yellow on the way.
    static func paint(_ state: String, _ text: String) -> String {
        let code: String
        switch state {
        case DriverState.active.rawValue: code = "32"
        case DriverState.failed.rawValue: code = "31"
        case DriverState.recovering.rawValue, DriverState.starting.rawValue: code = "33"
        default: return text
        }
        return "\u{1b}[0;1;\(code)m\(text)\u{1b}[0m"
    }

    static func list(_ drivers: [DriverSummary], legend: Bool, color: Bool = false) -> String {
        let rows = drivers.map { d in
            [d.name, d.driverClass, d.device ?? "-", d.state.rawValue, d.pid.map(String.init) ?? "-",
             d.uptimeUSec.map { timeSpan(usec: $0) } ?? "-", "\(d.restarts)"]
        }
        var out = table(["NAME", "CLASS", "DEVICE", "STATE", "PID", "UPTIME", "RESTARTS"], rows, legend: legend,
                        paint: color ? [3: paint] : [:])
        if legend { out += "\n\(drivers.count) driver\(drivers.count == 1 ? "" : "s") listed.\n" }
        return out
    }

    static func status(_ s: DriverStatus, color: Bool = false) -> String {
        let d = s.summary
        var lines: [(String, String)] = []
        var state = d.state.rawValue
        if let pid = d.pid { state += " (pid \(pid)" + (d.uptimeUSec.map { ", up \(timeSpan(usec: $0))" } ?? "") + ")" }
        state += ", \(d.restarts) restart\(d.restarts == 1 ? "" : "s")"
        lines.append(("State", state))
        if let f = s.lastFailure { lines.append(("Failure", f)) }
        if let dev = s.device {
            var what = "\(d.device ?? "-") (\(dev.pciID ?? "?"))"
            if let c = dev.chip { what += " \(c)" }
            if let r = dev.registration ?? dev.registeredAs { what += ", \(r)" }
            lines.append(("Device", what))
        } else {
            lines.append(("Device", d.device ?? "none matched \(s.match)"))
        }
        lines.append(("Executable", s.executable + (s.buildId.map { " (build \($0))" } ?? "")))
        lines.append(("Config", s.configFiles.joined(separator: ", ")))
        lines.append(("XPC timeout", "\(s.xpcTimeoutUSec / 1000)ms, heartbeat \(s.heartbeatUSec / 1000)ms, Restart=\(s.restart)"))
        if let g = s.debug {
            var what = "\(g.tool) (\(g.program))"
            if let e = g.endpoint { what += ", connect: \(e)" }
            if let a = g.attachedPid { what += ", attached to pid \(a)" }
            lines.append(("Debug", what))
            lines.append(("Sandbox", g.widening))
        }
        if let dev = s.device {
            if let on = dev.dataPath { lines.append(("Data path", on ? "running" : "stopped")) }
            // The class's own lines, as the daemon worded them.
            lines += dev.fields.map { ($0.label, $0.text) }
        }
        let w = lines.map(\.0.count).max() ?? 0
        let plain = d.state == .active ? "●" : d.state == .failed ? "×" : d.state == .recovering ? "↻" : "○"
        let marker = color ? paint(d.state.rawValue, plain) : plain
        return "\(marker) \(d.name) - \(d.driverClass) driver for \(s.match)\n"
            + lines.map { String(repeating: " ", count: w - $0.0.count + 4) + "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
    }

    /// Times as systemctl prints them: local time with the zone
    /// ("Thu 2026-12-03 09:12:01 CET"); `zone` for tests.
    static func history(_ events: [DriverEvent], legend: Bool, zone: TimeZone = .current) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE yyyy-MM-dd HH:mm:ss zzz"
        f.timeZone = zone
        return table(["TIME", "EVENT", "KIND", "STATE", "DETAIL"], events.map { e in
            var detail = e.detail
            if let us = e.recoveryUSec {
                detail = String(format: "in %.1f ms, replayed %d, queued %d; ", Double(us) / 1000, e.replayedCalls ?? 0, e.queuedRequests ?? 0) + detail
            }
            return [f.string(from: Date(timeIntervalSince1970: Double(e.timeUSec) / 1e6)), e.event,
                    e.failureKind?.rawValue ?? "-", e.state.rawValue, detail]
        }, legend: legend)
    }

    /// `drvctl show`'s properties, in order, named as systemd names its own
    /// where there is one (MainPID=, NRestarts=).
    static let propertyNames = ["Name", "Class", "Device", "PCIID", "Chip", "RegisteredAs", "State", "MainPID", "UptimeUSec",
                                "NRestarts", "Executable", "BuildID", "ConfigFiles", "Match", "XPCTimeoutUSec", "HeartbeatUSec",
                                "Restart", "DataPath", "LastFailure", "DebugTool", "DebugEndpoint", "DebugWidening"]

    /// One driver's properties: every name of ``propertyNames``, an empty
    /// value where there is none (MainPID=0, as systemd).
    static func properties(_ s: DriverStatus) -> [(String, String)] {
        let d = s.summary
        let v: [String: String] = [
            "Name": d.name, "Class": d.driverClass, "Device": d.device ?? "", "PCIID": s.device?.pciID ?? "",
            "Chip": s.device?.chip ?? "", "RegisteredAs": s.device?.registeredAs ?? "", "State": d.state.rawValue,
            "MainPID": "\(d.pid ?? 0)", "UptimeUSec": d.uptimeUSec.map { "\($0)" } ?? "", "NRestarts": "\(d.restarts)",
            "Executable": s.executable, "BuildID": s.buildId ?? "", "ConfigFiles": s.configFiles.joined(separator: " "), "Match": s.match,
            "XPCTimeoutUSec": "\(s.xpcTimeoutUSec)", "HeartbeatUSec": "\(s.heartbeatUSec)", "Restart": s.restart,
            "DataPath": s.device?.dataPath.map { $0 ? "yes" : "no" } ?? "", "LastFailure": s.lastFailure ?? "",
            "DebugTool": s.debug?.tool ?? "", "DebugEndpoint": s.debug?.endpoint ?? "", "DebugWidening": s.debug?.widening ?? "",
        ]
        return propertyNames.map { ($0, v[$0] ?? "") }
    }
}
