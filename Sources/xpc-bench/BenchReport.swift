// SPDX-License-Identifier: GPL-2.0
import Foundation

/// Percentiles of a set of samples in nanoseconds, shown in microseconds.
struct Stats {
    let p50: Double, p99: Double, mean: Double, min: Double, max: Double, count: Int
    init(_ ns: [UInt64]) {
        let s = ns.sorted()
        count = s.count
        guard !s.isEmpty else { p50 = 0; p99 = 0; mean = 0; min = 0; max = 0; return }
        p50 = Double(s[s.count / 2]) / 1000
        p99 = Double(s[Swift.min(s.count - 1, s.count * 99 / 100)]) / 1000
        mean = Double(s.reduce(0, +)) / Double(s.count) / 1000
        min = Double(s[0]) / 1000
        max = Double(s[s.count - 1]) / 1000
    }
    var line: String { String(format: "p50 %7.1f us   p99 %7.1f us   mean %7.1f us", p50, p99, mean) }
    var json: [String: Any] { ["p50_us": p50, "p99_us": p99, "mean_us": mean, "min_us": min, "max_us": max, "samples": count] }
}

/// The median and the spread (smallest and largest) of per-repetition
/// figures, such as each repetition's p50 ratio to its baseline.
struct Spread {
    let median: Double, low: Double, high: Double
    init(_ v: [Double]) {
        let s = v.sorted()
        median = s.isEmpty ? 0 : s[s.count / 2]
        low = s.first ?? 0
        high = s.last ?? 0
    }
    var json: [String: Any] { ["median": median, "min": low, "max": high] }
    func line(_ unit: String = "x") -> String { String(format: "%.2f%@ (%.2f–%.2f)", median, unit, low, high) }
}

/// What one `make bench` run measured: `bench.json` (the figures, the
/// machine, the targets and whether each was met) and the samples the
/// plots are drawn from (`*.dat`, one value or row a line), in one
/// directory. Used by one task at a time.
final class BenchReport: @unchecked Sendable {
    let dir: String
    private var root: [String: Any] = [:]
    private var targets: [[String: Any]] = []
    private var phaseOrder: [String] = [], phaseConfigs: [String] = []
    private var phaseP50: [String: [String: Double]] = [:]

    init(dir: String) throws {
        self.dir = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "?"
        root["machine"] = ["cpus": ProcessInfo.processInfo.activeProcessorCount, "cpu": cpu, "kernel": release,
                           "memory_mb": Int(ProcessInfo.processInfo.physicalMemory >> 20)]
        root["date"] = ISO8601DateFormatter().string(from: Date())
    }

    /// `value` at `path` (keys from the root, made as needed).
    func set(_ path: [String], _ value: Any) {
        func put(_ d: inout [String: Any], _ p: ArraySlice<String>) {
            guard let k = p.first else { return }
            if p.count == 1 { d[k] = value; return }
            var sub = d[k] as? [String: Any] ?? [:]
            put(&sub, p.dropFirst())
            d[k] = sub
        }
        put(&root, path[...])
    }

    /// A target of the issue, what was measured against it, and the verdict.
    func target(_ name: String, measured: Double, limit: Double, unit: String, lowerIsBetter: Bool = true) {
        let met = lowerIsBetter ? measured <= limit : measured >= limit
        targets.append(["target": name, "measured": measured, "limit": limit, "unit": unit, "met": met])
        print(String(format: "target %@: %.3g %@ (limit %.3g): %@", name, measured, unit, limit, met ? "met" : "NOT met"))
    }

    /// Samples (ns) written as microseconds, one a line, sorted: a CDF's data.
    func samples(_ name: String, _ ns: [UInt64]) {
        let text = ns.sorted().map { String(format: "%.3f", Double($0) / 1000) }.joined(separator: "\n") + "\n"
        try? text.write(toFile: dir + "/" + name + ".dat", atomically: true, encoding: .utf8)
    }

    /// Rows of a table, whitespace-separated, with a `#` header.
    func table(_ name: String, header: [String], _ rows: [[String]]) {
        let text = "# " + header.joined(separator: " ") + "\n" + rows.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n"
        try? text.write(toFile: dir + "/" + name + ".dat", atomically: true, encoding: .utf8)
    }

    /// One recovery phase's p50 (µs) under one configuration, for
    /// phases.dat: a row per phase, a column per configuration.
    func phase(_ name: String, config: String, p50: Double) {
        if !phaseOrder.contains(name) { phaseOrder.append(name) }
        if !phaseConfigs.contains(config) { phaseConfigs.append(config) }
        phaseP50[name, default: [:]][config] = p50
    }

    /// bench.json, and phases.dat.
    func write() throws {
        if !phaseOrder.isEmpty {
            table("phases", header: ["phase"] + phaseConfigs, phaseOrder.map { ph in
                [ph] + phaseConfigs.map { String(format: "%.1f", phaseP50[ph]?[$0] ?? 0) }
            })
        }
        root["targets"] = targets
        let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: dir + "/bench.json"))
    }
}
