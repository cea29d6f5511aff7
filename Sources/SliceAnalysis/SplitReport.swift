// SPDX-License-Identifier: GPL-2.0
import Foundation

/// The split as text for a reviewer: the nucleus with each root's reason,
/// the u-driver, upcalls, downcalls and the kernel API the user side uses.
public struct SplitReport {
    public let split: Split
    public let graph: CallGraph
    public let files: [String]
    public let interfaces: [String]
    public let milliseconds: Double

    public init(split: Split, graph: CallGraph, files: [String], interfaces: [String], milliseconds: Double) {
        self.split = split
        self.graph = graph
        self.files = files
        self.interfaces = interfaces
        self.milliseconds = milliseconds
    }

    public var text: String {
        var o: [String] = []
        let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: " ")
        o.append("driverslicer: \(names): \(graph.functions.count) functions, analysed in \(String(format: "%.0f", milliseconds)) ms "
                 + "(interfaces: \(interfaces.joined(separator: ", ")))")
        if !graph.headerErrors.isEmpty {
            o.append("note: clang reported \(graph.headerErrors.count) error(s) inside included headers; first: \(graph.headerErrors[0])")
        }
        let roots = Dictionary(grouping: split.roots, by: \.function)
        o.append("")
        o.append("kernel (nucleus): \(split.kernel.count) functions, \(split.kernelLines) lines")
        for f in split.kernel {
            let why = roots[f.name].map { rs in
                var seen = Set<String>()
                return rs.map { "\($0.role.rawValue) root via \($0.via)" }.filter { seen.insert($0).inserted }.joined(separator: "; ")
            } ?? "called from the nucleus"
            o.append("  \(f.name)  \((f.file as NSString).lastPathComponent):\(f.line)  \(f.lines) lines  \(why)")
        }
        o.append("")
        o.append("user (u-driver): \(split.user.count) functions, \(split.userLines) lines")
        for f in split.user { o.append("  \(f.name)  \((f.file as NSString).lastPathComponent):\(f.line)  \(f.lines) lines") }
        o.append("")
        o.append(String(format: "moved to user space: %.1f %% of the driver's function lines", split.userPercent))
        o.append("")
        o.append("upcalls (the kernel calls a u-driver function): \(split.upcalls.count)")
        for u in split.upcalls { o.append("  \(u.function)  via \(u.via)\(u.classified ? "" : "  [unclassified: add it to an interface]")") }
        o.append("")
        o.append("downcalls into nucleus functions (user → kernel): \(split.downcalls.count)")
        for d in split.downcalls { o.append("  \(d.caller) → \(d.callee)") }
        o.append("")
        o.append("kernel API called from the user side: \(split.kernelAPIFromUser.count) functions")
        for (k, n) in split.kernelAPIFromUser.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) { o.append("  \(k)  (\(n) callers)") }
        let ind = split.indirectCalls.filter { $0.value > 0 }
        if !ind.isEmpty {
            o.append("")
            o.append("calls through pointers (not followed): " + ind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return o.joined(separator: "\n")
    }
}
