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
    /// What the annotations did here (`array cp_private.rx_ring(64): 1024 B`, a
    /// ComboLock instead of a copy, a length known only at run time).
    public let notes: [String]

    public var fieldMinimalBytes: Int { readBytes + writeBytes + handleBytes }

    /// The size of a handle (a kernel pointer).
    public static let handleSize = 8
}

/// The marshaling spec of a split: one ``EntrySpec`` per upcall and per
/// downcall, in a text form a reviewer can read (``text``).
public struct MarshalingSpec: Sendable, Codable {
    public let entries: [EntrySpec]
    /// Annotations the code needs and does not have, each once.
    public let needs: [AnnotationNeed]

    /// Field sets per entry point: the entry function and everything it
    /// calls on its own side (an upcall's closure stops at nucleus
    /// functions, which are downcalls with specs of their own).
    public init(graph g: CallGraph, split: Split, opaque: Set<String> = [], annotations given: AnnotationSet = AnnotationSet()) {
        let ann = AnnotationSet(given, in: g)
        func crosses(_ key: String) -> Bool {
            let s = key.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            return !opaque.contains(s) && !opaque.contains(s.components(separatedBy: "::").first ?? s)
        }
        let kernel = Set(split.kernel.map(\.name))
        // The fields of each struct type the driver uses anywhere.
        var used: [String: Set<String>] = [:]
        for keys in [g.fieldReads, g.fieldWrites].flatMap({ $0.values }) {
            for k in keys {
                let p = k.split(separator: ".", maxSplits: 1).map(String.init)
                if p.count == 2 { used[p[0], default: []].insert(k) }
            }
        }
        let embedded = Dictionary(g.embeddedMembers.map { ("\($0.outer).\($0.member)", $0.inner) }) { a, _ in a }
        func closure(_ f: String, kernelSide: Bool) -> Set<String> {
            var seen: Set<String> = [f], work = [f]
            while let x = work.popLast() {
                for c in g.calls[x] ?? [] where kernel.contains(c) == kernelSide && seen.insert(c).inserted { work.append(c) }
            }
            return seen
        }
        func spec(_ f: String, _ dir: EntrySpec.Direction, _ via: String) -> EntrySpec {
            let fns = closure(f, kernelSide: dir == .downcall)
            var r = fns.reduce(into: Set<String>()) { $0.formUnion(g.fieldReads[$1] ?? []) }.filter(crosses)
            var w = fns.reduce(into: Set<String>()) { $0.formUnion(g.fieldWrites[$1] ?? []) }.filter(crosses)
            var h = fns.reduce(into: Set<String>()) { $0.formUnion(g.fieldHandles[$1] ?? []) }.filter(crosses)
            // A struct of the driver's whose address goes to the kernel
            // API (&cp->mii_if to mii_check_media): the API's function
            // reads and writes it as it likes, and when it runs in the
            // u-driver (the driver library's MII code) it finds there only
            // what crossed. So every field of it the driver uses crosses
            // both ways with the call that hands it on.
            for key in h {
                guard let inner = embedded[key], let fields = used[inner] else { continue }
                let crossing = fields.filter(crosses)
                r.formUnion(crossing)
                w.formUnion(crossing)
            }
            var notes: [String] = []
            var extra = 0
            for key in r.union(w).union(h).sorted() {
                for a in ann.on(key) {
                    switch a.kind {
                    case .combolock:
                        r.remove(key); w.remove(key); h.remove(key)
                        notes.append("combolock \(key): taken through the nucleus's ComboLock, not copied")
                    case .opaque:
                        if r.remove(key) != nil || w.remove(key) != nil { h.insert(key) }
                        notes.append("opaque \(key): crosses as a handle")
                    case .array:
                        let each: Int? = switch g.fieldKinds[key] ?? .value {
                        case .pointer(let size): size
                        case .charPointer: 1
                        default: nil
                        }
                        if let each, let n = a.argument.flatMap(Int.init) {
                            extra += n * each * ((r.contains(key) ? 1 : 0) + (w.contains(key) ? 1 : 0))
                            notes.append("array \(key)(\(n)): \(n * each) B each way it crosses")
                        } else {
                            notes.append("array \(key)(\(a.argument ?? "?")): length known at run time")
                        }
                    case .nullterm, .sentinel:
                        notes.append("\(a.kind.rawValue) \(key): length known at run time")
                    case .storefield:
                        w.remove(key)
                        notes.append("storefield \(key): kept where it was stored, not copied back")
                    case .container:
                        notes.append("container \(key): reached through \(a.argument ?? "?")")
                    }
                }
            }
            h.subtract(r)
            h.subtract(w)
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
                             readBytes: r.reduce(0) { $0 + (g.fieldSizes[$1] ?? 0) } + extra,
                             writeBytes: w.reduce(0) { $0 + (g.fieldSizes[$1] ?? 0) },
                             handleBytes: h.count * EntrySpec.handleSize,
                             naiveBytes: naive, naiveStructs: count, notes: notes)
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

        // What the code needs annotated: pointers of unknown length and
        // kinds that cross, and locks taken on both sides.
        var needs: [AnnotationNeed] = []
        let crossing = Set(out.flatMap { e in (e.reads.merging(e.writes) { $0 + $1 }).flatMap { s, fs in fs.map { "\(s).\($0)" } } })
        for key in crossing.sorted() {
            switch g.fieldKinds[key] ?? .value {
            case .charPointer where !ann.has([.nullterm, .array, .opaque, .sentinel], on: key):
                needs.append(AnnotationNeed(kinds: [.nullterm, .array, .opaque], field: key, reason: "a char * crosses: a string, a buffer, or not to be followed?"))
            case .voidPointer where !ann.has([.opaque, .container], on: key) && !g.drvdataPointeeKnown(key):
                needs.append(AnnotationNeed(kinds: [.opaque, .container], field: key, reason: "a void * crosses: what does it point to?"))
            case .pointer where g.indexedFields.contains(key) && !ann.has([.array, .sentinel, .opaque], on: key):
                needs.append(AnnotationNeed(kinds: [.array, .sentinel], field: key, reason: "indexed through a pointer: how long is it?"))
            default: break
            }
        }
        var lockUsers: [String: Set<String>] = [:]
        for (fn, keys) in [g.fieldReads, g.fieldWrites, g.fieldHandles].flatMap({ $0.map { $0 } }) {
            for k in keys where g.fieldKinds[k] == .lock && crosses(k) { lockUsers[k, default: []].insert(fn) }
        }
        for (k, users) in lockUsers.sorted(by: { $0.key < $1.key }) where !ann.has([.combolock], on: k) {
            let ks = users.filter { kernel.contains($0) }.sorted(), us = users.filter { !kernel.contains($0) }.sorted()
            guard let kf = ks.first, let uf = us.first else { continue }
            needs.append(AnnotationNeed(kinds: [.combolock], field: k, reason: "taken by \(kf) in the nucleus and \(uf) in the u-driver"))
        }
        self.needs = needs
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
            for n in e.notes { o.append("  note: \(n)") }
            o.append("  field-minimal \(e.fieldMinimalBytes) B; naive \(e.naiveBytes) B in \(e.naiveStructs) structures")
            o.append("")
        }
        o.append("annotations needed: \(needs.count)")
        for n in needs { o.append("  \(n)") }
        return o.joined(separator: "\n")
    }
}
