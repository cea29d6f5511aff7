// SPDX-License-Identifier: GPL-2.0
import Foundation

/// The campaign's rows summed up: a table per driver × fault kind, the
/// detection and recovery times per detector, the targets checked.
public struct CampaignReport: Sendable {
    public struct Cell: Sendable, Equatable {
        public var injected = 0, manifested = 0, detected = 0, transparent = 0, silent = 0, notInjected = 0
        public var lost: UInt64 = 0
        /// Recovery attempts that failed and were started over.
        public var retries = 0
        public var detectUSec: [UInt64] = []
        public var recoverUSec: [UInt64] = []
        mutating func add(_ r: FaultRecord) {
            if r.notInjected != nil { notInjected += 1; return }
            injected += 1
            if r.manifested { manifested += 1 }
            if r.detected { detected += 1 }
            if r.transparent { transparent += 1 }
            if r.silentCorruption { silent += 1 }
            lost += r.dataPath.lost
            retries += r.recoveryRetries
            if let d = r.detectUSec { detectUSec.append(d) }
            if let d = r.recoverUSec { recoverUSec.append(d) }
        }
    }

    /// Driver type (the name without its `-N` instance suffix) → kind → cell.
    public private(set) var cells: [String: [String: Cell]] = [:]
    public private(set) var byDetector: [String: Cell] = [:]
    public private(set) var total = Cell()
    /// Faults that manifested but no detector reported, and silent
    /// corruptions: kept as reproducers.
    public private(set) var unrecovered: [FaultRecord] = []
    public private(set) var daemonDown = 0
    /// Echo requests lost while no fault was in their driver (``EchoLosses``):
    /// nil when the run had no echo streams.
    public private(set) var echoLostOutside: Int?

    /// - Parameter echoLostOutside: losses ``EchoLosses/charge(_:)`` found
    ///   in no fault's window, if the run had echo streams.
    public init(rows: [FaultRecord], echoLostOutside: Int? = nil) {
        self.echoLostOutside = echoLostOutside
        for r in rows {
            cells[Self.driverType(r.driver), default: [:]][r.kind, default: Cell()].add(r)
            total.add(r)
            if let k = r.detector { byDetector[k.rawValue, default: Cell()].add(r) }
            if r.notInjected == nil && r.manifested && !r.transparent { unrecovered.append(r) }
            if !r.daemonAlive { daemonDown += 1 }
            rowsEchoLost += r.dataPath.echoLost ?? 0
        }
    }

    /// Echo requests charged to faults, summed over the rows.
    public private(set) var rowsEchoLost: UInt64 = 0

    /// Reads a JSONL file; a line that does not decode is reported with
    /// its number.
    public static func load(_ path: String) throws -> [FaultRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CampaignError("cannot read \(path)") }
        var rows: [FaultRecord] = []
        let dec = JSONDecoder()
        for (n, line) in data.split(separator: 0x0a).enumerated() where !line.isEmpty {
            do { rows.append(try dec.decode(FaultRecord.self, from: Data(line))) } catch {
                throw CampaignError("\(path):\(n + 1): not a fault record: \(error)")
            }
        }
        return rows
    }

    /// `rtl8139-12` → `rtl8139`.
    public static func driverType(_ name: String) -> String {
        guard let dash = name.lastIndex(of: "-"), !name[name.index(after: dash)...].isEmpty,
              name[name.index(after: dash)...].allSatisfy(\.isNumber) else { return name }
        return String(name[..<dash])
    }

    /// The value at quantile `q` (0...1) of `values`, nearest rank.
    public static func quantile(_ values: [UInt64], _ q: Double) -> UInt64? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let i = min(s.count - 1, max(0, Int((q * Double(s.count)).rounded(.up)) - 1))
        return s[i]
    }

    static func ms(_ us: UInt64?) -> String { us.map { String(format: "%.1f", Double($0) / 1000) } ?? "-" }
    static func pct(_ a: Int, _ b: Int) -> String { b == 0 ? "-" : String(format: "%.2f %%", 100 * Double(a) / Double(b)) }

    /// The tables as Markdown.
    public func markdown() -> String {
        var s = "| driver | fault | injected | manifested | detected | transparent | silent | lost | detect p50/p99 ms | recover p50/p99 ms |\n"
        s += "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for d in cells.keys.sorted() {
            for k in FaultKind.all.map(\.name) where cells[d]?[k] != nil {
                guard let c = cells[d]?[k] else { continue }
                s += "| \(d) | \(k) | \(c.injected) | \(c.manifested) | \(c.detected) | \(c.transparent) | \(c.silent) | \(c.lost) | "
                s += "\(Self.ms(Self.quantile(c.detectUSec, 0.5)))/\(Self.ms(Self.quantile(c.detectUSec, 0.99))) | "
                s += "\(Self.ms(Self.quantile(c.recoverUSec, 0.5)))/\(Self.ms(Self.quantile(c.recoverUSec, 0.99))) |\n"
            }
        }
        s += "\n| detector | faults | detect p50/p99 ms | recover p50/p99 ms |\n|---|---:|---:|---:|\n"
        for (k, c) in byDetector.sorted(by: { $0.key < $1.key }) {
            s += "| \(k) | \(c.detected) | \(Self.ms(Self.quantile(c.detectUSec, 0.5)))/\(Self.ms(Self.quantile(c.detectUSec, 0.99))) | "
            s += "\(Self.ms(Self.quantile(c.recoverUSec, 0.5)))/\(Self.ms(Self.quantile(c.recoverUSec, 0.99))) |\n"
        }
        let t = total
        s += "\nInjected \(t.injected) (not placed: \(t.notInjected)); manifested \(t.manifested); "
        s += "detected \(t.detected) (\(Self.pct(t.detected, t.manifested)) of manifested); "
        s += "recovered transparently \(t.transparent) (\(Self.pct(t.transparent, t.manifested)) of manifested); "
        s += "silent corruption \(t.silent); frames/periods lost \(t.lost); recovery attempts started over \(t.retries); "
        s += "daemon down after \(daemonDown) faults.\n"
        if let n = echoLostOutside {
            let charged = rowsEchoLost
            s += "\nEcho requests lost: \(charged) in a fault's window (counted in its row), \(n) outside any.\n"
        }
        return s
    }

    /// Whether the targets hold: every manifested failure detected,
    /// ≥ 99.99 % recovered transparently, nothing lost, the daemon never down.
    public var targetsMet: (met: Bool, why: [String]) { targetsMet(minTransparentPercent: 99.99) }

    /// The targets: every manifested fault detected, at least
    /// `minTransparentPercent` of them recovered transparently, no silent
    /// corruption, nothing lost, drivermgrd never down.
    public func targetsMet(minTransparentPercent: Double) -> (met: Bool, why: [String]) {
        var why: [String] = []
        if total.detected < total.manifested { why.append("\(total.manifested - total.detected) manifested faults not detected") }
        if total.manifested > 0 && Double(total.transparent) * 100 / Double(total.manifested) < minTransparentPercent {
            why.append("transparent recovery \(Self.pct(total.transparent, total.manifested)) < \(minTransparentPercent) %")
        }
        if total.silent > 0 { why.append("\(total.silent) faults left silent corruption") }
        if total.lost > 0 { why.append("\(total.lost) frames or periods lost") }
        if daemonDown > 0 { why.append("drivermgrd down after \(daemonDown) faults") }
        if let n = echoLostOutside, n > 0 { why.append("\(n) echo requests lost outside any fault's window") }
        return (why.isEmpty, why)
    }

    /// Writes the CDF data per detector (`detect-KIND.dat`,
    /// `recover-KIND.dat`: value ms, fraction) and outcomes per kind
    /// (`outcomes.dat`) for gnuplot into `dir`.
    public func writePlotData(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (k, c) in byDetector {
            for (name, values) in [("detect", c.detectUSec), ("recover", c.recoverUSec)] where !values.isEmpty {
                let s = values.sorted()
                var text = ""
                for (i, v) in s.enumerated() { text += String(format: "%.3f %.6f\n", Double(v) / 1000, Double(i + 1) / Double(s.count)) }
                try text.write(toFile: "\(dir)/\(name)-\(k).dat", atomically: true, encoding: .utf8)
            }
        }
        var kinds: [String: Cell] = [:]
        for (_, m) in cells { for (k, c) in m {
            kinds[k, default: Cell()].injected += c.injected
            kinds[k, default: Cell()].manifested += c.manifested
            kinds[k, default: Cell()].detected += c.detected
            kinds[k, default: Cell()].transparent += c.transparent
            kinds[k, default: Cell()].silent += c.silent
        } }
        var text = "# kind not-manifested detected-transparent detected-not-transparent undetected\n"
        for k in FaultKind.all.map(\.name) {
            guard let c = kinds[k] else { continue }
            text += "\(k) \(c.injected - c.manifested) \(c.transparent) \(c.detected - c.transparent) \(c.manifested - c.detected)\n"
        }
        try text.write(toFile: "\(dir)/outcomes.dat", atomically: true, encoding: .utf8)
    }
}
