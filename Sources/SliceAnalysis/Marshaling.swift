// SPDX-License-Identifier: GPL-2.0

/// What crosses the split at one entry point, field by field: the data a
/// field-minimal marshaler copies (the Microdrivers paper's DriverSlicer),
/// against what a naive one copies (every structure reachable from the
/// parameters).
public struct EntrySpec: Sendable, Codable, Equatable {
    public enum Direction: String, Sendable, Codable {
        /// The kernel calls a u-driver function.
        case upcall
        /// A u-driver function calls a function of the nucleus.
        case downcall
    }
    public let function: String
    public let direction: Direction
    /// How the call arrives: the interface field, the registration, or the caller.
    public let via: String
    /// Struct → fields the callee side reads (copied to it before the call).
    public let reads: [String: [String]]
    /// Struct → fields the callee side writes (copied back after the call).
    public let writes: [String: [String]]
    /// Struct → fields whose address the callee side only passes on (to
    /// the kernel API): a handle crosses, 8 bytes, not the object.
    public let handles: [String: [String]]
    public let readBytes: Int
    public let writeBytes: Int
    public let handleBytes: Int
    /// Every structure reachable from the parameters, whole, and how many.
    public let naiveBytes: Int
    public let naiveStructs: Int

    public var fieldMinimalBytes: Int { readBytes + writeBytes + handleBytes }

    /// The size of a handle (a kernel pointer).
    public static let handleSize = 8
}

/// The marshaling spec of a split: one ``EntrySpec`` per upcall and per
/// downcall, in a text form a reviewer can read (``text``).
public struct MarshalingSpec: Sendable, Codable {
    public let entries: [EntrySpec]

    /// Field sets per entry point: the entry function and everything it
    /// calls on its own side (an upcall's closure stops at nucleus
    /// functions, which are downcalls with specs of their own).
    public init(graph g: CallGraph, split: Split, opaque: Set<String> = []) {
        func crosses(_ key: String) -> Bool {
            let s = key.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            return !opaque.contains(s) && !opaque.contains(s.components(separatedBy: "::").first ?? s)
        }
        let kernel = Set(split.kernel.map(\.name))
        func closure(_ f: String, kernelSide: Bool) -> Set<String> {
            var seen: Set<String> = [f], work = [f]
            while let x = work.popLast() {
                for c in g.calls[x] ?? [] where kernel.contains(c) == kernelSide && seen.insert(c).inserted { work.append(c) }
            }
            return seen
        }
        func spec(_ f: String, _ dir: EntrySpec.Direction, _ via: String) -> EntrySpec {
            let fns = closure(f, kernelSide: dir == .downcall)
            let r = fns.reduce(into: Set<String>()) { $0.formUnion(g.fieldReads[$1] ?? []) }.filter(crosses)
            let w = fns.reduce(into: Set<String>()) { $0.formUnion(g.fieldWrites[$1] ?? []) }.filter(crosses)
            let h = fns.reduce(into: Set<String>()) { $0.formUnion(g.fieldHandles[$1] ?? []) }.filter(crosses)
                .subtracting(r).subtracting(w)
            func group(_ keys: Set<String>) -> [String: [String]] {
                var out: [String: [String]] = [:]
                for k in keys {
                    let p = k.split(separator: ".", maxSplits: 1).map(String.init)
                    if p.count == 2 { out[p[0], default: []].append(p[1]) }
                }
                return out.mapValues { $0.sorted() }
            }
            let (naive, count) = Self.reachable(g, from: g.parameterStructs[f] ?? [])
            return EntrySpec(function: f, direction: dir, via: via, reads: group(r), writes: group(w), handles: group(h),
                             readBytes: r.reduce(0) { $0 + (g.fieldSizes[$1] ?? 0) },
                             writeBytes: w.reduce(0) { $0 + (g.fieldSizes[$1] ?? 0) },
                             handleBytes: h.count * EntrySpec.handleSize,
                             naiveBytes: naive, naiveStructs: count)
        }
        var out: [EntrySpec] = []
        var seen = Set<String>()
        for u in split.upcalls where seen.insert(u.function).inserted { out.append(spec(u.function, .upcall, u.via)) }
        var callers: [String: [String]] = [:]
        for d in split.downcalls { callers[d.callee, default: []].append(d.caller) }
        for (callee, from) in callers.sorted(by: { $0.key < $1.key }) {
            out.append(spec(callee, .downcall, "called by " + from.sorted().joined(separator: ", ")))
        }
        entries = out
    }

    /// Bytes of every structure reachable from `roots` through pointers
    /// (embedded structures are in their parent's size), each counted once.
    static func reachable(_ g: CallGraph, from roots: [String]) -> (Int, Int) {
        var counted = Set<String>(), walked = Set<String>()
        var work = roots.map { ($0, true) }
        var bytes = 0
        while let (s, pointed) = work.popLast() {
            if pointed, counted.insert(s).inserted { bytes += g.structSizes[s] ?? 0 }
            guard walked.insert(s).inserted else { continue }
            for p in g.structPointees[s] ?? [] { work.append((p, true)) }
            for e in g.structEmbeds[s] ?? [] { work.append((e, false)) }
        }
        return (bytes, counted.count)
    }

    /// The sum over `functions` (e.g. probe and open, as the kernel calls
    /// them at initialisation): field-minimal and naive bytes.
    public func bytes(for functions: [String]) -> (fieldMinimal: Int, naive: Int)? {
        let es = functions.compactMap { f in entries.first { $0.function == f } }
        guard es.count == functions.count else { return nil }
        return (es.reduce(0) { $0 + $1.fieldMinimalBytes }, es.reduce(0) { $0 + $1.naiveBytes })
    }

    /// One block per entry point:
    ///
    ///     upcall cp_open  via net_device_ops.ndo_open
    ///       in   cp_private: cpcmd, regs, rx_buf_sz, ...   (96 B)
    ///       out  cp_private: rx_tail, tx_head, ...          (24 B)
    ///       naive 2,931,212 B in 1,204 structures
    public var text: String {
        var o: [String] = []
        for e in entries {
            o.append("\(e.direction.rawValue) \(e.function)  via \(e.via)")
            for (label, set, n) in [("in ", e.reads, e.readBytes), ("out", e.writes, e.writeBytes),
                                    ("handle", e.handles, e.handleBytes)] where !set.isEmpty {
                o.append("  \(label)  (\(n) B)")
                for (s, fs) in set.sorted(by: { $0.key < $1.key }) { o.append("    \(s): \(fs.joined(separator: ", "))") }
            }
            o.append("  field-minimal \(e.fieldMinimalBytes) B; naive \(e.naiveBytes) B in \(e.naiveStructs) structures")
            o.append("")
        }
        return o.joined(separator: "\n")
    }
}
