// SPDX-License-Identifier: GPL-2.0
import Foundation

/// The two halves of a split driver as C source: the driver's own files,
/// unmodified but for the functions of the other side (`driverslicer
/// --halves`).
///
/// In the **kernel half** every u-driver function the kernel can reach (an
/// upcall: stored in an ops table, passed to a registration) keeps its
/// signature and gets a body that calls `drvslice_upcall()`; the other
/// u-driver functions are gone. In the **user half** every nucleus function
/// the user side calls (a downcall) or names by address (an ops table the
/// user side fills in, `request_irq(…, cp_interrupt, …)`) keeps its
/// signature and gets a body that calls `drvslice_downcall()`; the other
/// nucleus functions are gone. Each stub describes its call in a static
/// `struct drvslice_entry` (id, direction, each argument's size and the
/// struct it points to, the result's size), and each half ends with a
/// table of the entries it serves (`struct drvslice_target`: id, name,
/// address, and a thunk that calls the function with the arguments as the
/// other side's stub passed them) and one of its stubs (id, name, address:
/// what a function pointer the other half stored stands for here). The ids
/// are one enum in `NAME-slice.h`. A driver of one file also gets, at the
/// end of each half, its description for the runtime (``Layout``): the
/// struct types whose fields cross, each entry's field sets from the
/// marshaling spec (`spec`, with the driver's annotations applied), the
/// embedded members, the globals and the private-area accessors.
///
/// The runtime behind `drvslice_upcall`/`drvslice_downcall` and the
/// tables is declared in module/include/drvslice.h. When a stub's call
/// fails, a function returning a signed integer returns the negative
/// errno, any other returns zero of its type (NULL, false, 0).
public struct SliceHalves: Sendable {
    /// One rewritten file: its name (the original's) and its two halves.
    public struct File: Sendable {
        public let name: String
        public let kernel: String
        public let user: String
    }

    /// The functions that cross, both directions, with their ids.
    public struct Entry: Sendable, Equatable {
        public let id: Int
        public let function: String
        /// true: a u-driver function the kernel calls.
        public let up: Bool
    }

    /// The driver's (module's) name: `8139cp`.
    public let driver: String
    public let files: [File]
    public let entries: [Entry]
    /// `NAME-slice.h`: the ids.
    public let header: String
    /// The header's file name.
    public var headerName: String { "\(driver)-slice.h" }

    /// Splits `files` (the driver's .c files as given to the tool; .c files
    /// they include are rewritten too) along `split`. Throws, naming the
    /// function's file and line, when a function that must cross cannot
    /// (variadic, made by a macro, an unnamed parameter).
    /// `decaf`: functions of the user half moved to Swift (their bodies
    /// call the Swift, and the user half ends with the bindings).
    /// `annotations`: those in force; a `combolock` one puts its lock in
    /// both descriptions' ComboLock table (the runtime takes the kernel's
    /// lock for the user half's spin_lock of it). Throws, naming where it
    /// was written, for a lock the runtime cannot find: one in a struct no
    /// object of which crosses, or a mutex.
    public init(driver: String, split: Split, graph g: CallGraph, spec: MarshalingSpec? = nil,
                decaf: DecafBindings? = nil, annotations: AnnotationSet = AnnotationSet()) throws {
        self.driver = driver
        let spec = spec ?? MarshalingSpec(graph: g, split: split)
        var layout = Layout(graph: g, spec: spec)
        for a in AnnotationSet(annotations, in: g).all where a.kind == .combolock {
            let cannot = "\(a.origin): cannot honour `combolock \(a.field)`"
            let parts = a.field.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let decl = g.fieldDecls[a.field] else {
                throw SliceError("\(cannot): the driver does not use such a field")
            }
            guard layout.typeNames.contains(parts[0]) else {
                throw SliceError("\(cannot): no field of struct \(parts[0]) crosses the split, so neither side tracks "
                                 + "an object of it where the runtime could find the lock")
            }
            guard decl.cType.contains("spinlock") else {
                throw SliceError("\(cannot): it is \(decl.cType); the runtime carries spinlock_t ComboLocks only")
            }
            layout.combolocks.append((parts[0], parts[1]))
        }
        // nullterm, array and sentinel on a pointer field that crosses:
        // its pointee's bytes go with it (DRVSLICE_F_STRING, _ARRAY,
        // _SENTINEL).
        for a in AnnotationSet(annotations, in: g).all where [.nullterm, .array, .sentinel].contains(a.kind) {
            let parts = a.field.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, var fs = layout.fields[parts[0]],
                  let i = fs.firstIndex(where: { $0.name == parts[1] }), fs[i].kind == "DRVSLICE_F_POINTER" else { continue }
            let cannot = "\(a.origin): cannot honour `\(a.kind.rawValue) \(a.field)` at run time"
            let tag = layout.tag(parts[0])
            let element = "sizeof(*((\(tag) *)0)->\(parts[1]))"
            let void = fs[i].decl.cType.contains("void *")
            switch a.kind {
            case .nullterm:
                fs[i].kind = "DRVSLICE_F_STRING"
            case .array:
                let arg = a.argument ?? ""
                // Its elements' bytes cross as they are: a pointer among
                // them would reach the other side unmapped.
                if fs[i].decl.cType.hasSuffix("*"), fs[i].decl.cType.dropLast().contains("*") {
                    throw SliceError("\(cannot): it is \(fs[i].decl.cType), an array of pointers; the runtime carries arrays of bytes, numbers and structs")
                }
                if let n = Int(arg), n > 0 {
                    fs[i].kind = "DRVSLICE_F_ARRAY"
                    fs[i].bytes = void ? "\(n)" : "\(n) * \(element)"
                    break
                }
                // A length that is a field: it crosses with the array, in
                // every set that has either (the receiver checks the two
                // together).
                guard let c = fs.firstIndex(where: { $0.name == arg }) else {
                    throw SliceError("\(cannot): its length \(parts[0]).\(arg) does not cross the split (neither half "
                                     + "reads it where the other wrote it), so the receiver could not check the array against it")
                }
                guard fs[c].kind == "DRVSLICE_F_BYTES", !fs[c].decl.isBitField,
                      fs[c].decl.swiftType.range(of: #"^U?Int(8|16|32|64)$"#, options: .regularExpression) != nil else {
                    throw SliceError("\(cannot): its length \(parts[0]).\(arg) is \(fs[c].decl.cType), not an integer of 1, 2, 4 or 8 bytes")
                }
                fs[i].kind = "DRVSLICE_F_ARRAY"
                fs[i].bytes = void ? "1" : element
                fs[i].count = c + 1
                layout.couple(parts[0], i, c)
            default:
                let pointee = fs[i].decl.cType.hasSuffix("*") ? String(fs[i].decl.cType.dropLast()) : ""
                guard !void, !pointee.isEmpty, !pointee.contains("*"), !pointee.contains("struct "), !pointee.contains("union "),
                      !pointee.contains("(") else {
                    throw SliceError("\(cannot): it is \(fs[i].decl.cType); the runtime carries sentinel-ended arrays of integers only")
                }
                guard let v = Self.integer(a.argument ?? "") else {
                    throw SliceError("\(cannot): its end value \(a.argument ?? "") is not an integer")
                }
                fs[i].kind = "DRVSLICE_F_SENTINEL"
                fs[i].bytes = element
                // The end value as the element's bytes read as unsigned.
                fs[i].end = "(unsigned long long)(\(v)LL) & (~0ULL >> (64 - 8 * \(element)))"
            }
            layout.fields[parts[0]] = fs
        }
        let ident = Self.identifier(driver)
        let kernelSide = Set(split.kernel.map(\.name))
        // The module's init and exit stay whole in both halves; what they
        // call on the other side is reached through a stub.
        let moduleEntries = g.moduleEntries
        let referenced = Set(g.references.map(\.function)).union(moduleEntries.flatMap { g.calls[$0] ?? [] })
        let downcallees = Set(split.downcalls.map(\.callee))
        // Up: u-driver functions whose address the kernel half can hold.
        // Down: nucleus functions the user half calls or holds the address of.
        let up = split.user.map(\.name).filter { referenced.contains($0) }.sorted()
        let down = split.kernel.map(\.name).filter { downcallees.contains($0) || referenced.contains($0) }.sorted()
        var entries: [Entry] = []
        for f in down { entries.append(Entry(id: entries.count + 1, function: f, up: false)) }
        for f in up { entries.append(Entry(id: entries.count + 1, function: f, up: true)) }
        self.entries = entries
        let prefix = "SLICE_" + Self.identifier(driver).uppercased()
        let idOf = Dictionary(uniqueKeysWithValues: entries.map { ($0.function, "\(prefix)_\($0.function)") })
        let crossing = Set(entries.map(\.function))
        // array FUNCTION.PARAMETER COUNT: a buffer a crossing function is
        // handed goes with the call and comes back (DRVSLICE_A_INOUT).
        for a in AnnotationSet(annotations, in: g).all where a.kind == .array && g.fieldDecls[a.field] == nil {
            guard let (fn, p) = g.parameter(a.field) else { continue }
            let cannot = "\(a.origin): cannot honour `array \(a.field)` at run time"
            guard crossing.contains(fn) else {
                throw SliceError("\(cannot): \(fn) does not cross the split (its callers are in its own half)")
            }
            guard p.isPointer, !p.type.contains("(") else {
                throw SliceError("\(cannot): it is \(p.type), not a pointer to bytes, numbers or a struct")
            }
            // A struct none of whose fields cross (ethtool's link settings,
            // which library code fills) may cross as bytes; one whose
            // fields cross goes as a struct, its pointers mapped.
            if let t = p.pointee, layout.typeNames.contains(t) {
                throw SliceError("\(cannot): it is \(p.type), and fields of struct \(t) cross the split: its pointers would go unmapped as bytes")
            }
            if let t = p.pointee, p.pointeeHoldsPointers || p.pointeeSize == 0 {
                throw SliceError("\(cannot): it is \(p.type), and struct \(t) \(p.pointeeSize == 0 ? "is incomplete here" : "holds pointers"): "
                                 + "its bytes cannot cross as they are")
            }
            let count = a.argument ?? ""
            guard !count.isEmpty, count.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || " _->.*+/()".contains($0)) }) else {
                throw SliceError("\(cannot): its length `\(count)` is not a C expression of the parameters, numbers and names")
            }
        }
        layout.buffers = AnnotationSet(annotations, in: g).buffers(in: g).filter { crossing.contains($0.key) }

        for e in entries {
            guard let fn = g.functions[e.function] else { continue }
            guard let s = g.shapes[e.function] else {
                throw SliceError("\(fn.file):\(fn.line): \(e.function): cannot cross the split: its body is not written in the file (a macro made it)")
            }
            if s.variadic { throw SliceError("\(fn.file):\(fn.line): \(e.function): cannot cross the split: it is variadic") }
            if let p = s.parameters.first(where: { $0.name.isEmpty }) {
                throw SliceError("\(fn.file):\(fn.line): \(e.function): cannot cross the split: a parameter of type \(p.type) has no name")
            }
            if let p = s.parameters.first(where: { $0.type.contains("(unnamed") || $0.type.contains("(anonymous") }) {
                throw SliceError("\(fn.file):\(fn.line): \(e.function): cannot cross the split: parameter \(p.name) has an anonymous type")
            }
        }

        // Every file holding a driver function, by the path clang gave.
        var byFile: [String: [String]] = [:]
        for (name, s) in g.shapes { byFile[s.file, default: []].append(name) }
        var seenNames: [String: String] = [:]
        var out: [File] = []
        for path in byFile.keys.sorted() {
            let base = (path as NSString).lastPathComponent
            if let other = seenNames[base] { throw SliceError("\(path): same file name as \(other); the halves keep file names") }
            seenNames[base] = path
            guard let data = FileManager.default.contents(atPath: path) else { throw SliceError("\(path): cannot read it") }
            let bytes = [UInt8](data)
            let names = byFile[path] ?? []
            let stem = Self.identifier((base as NSString).deletingPathExtension)
            func half(kernel: Bool) throws -> String {
                var edits: [(start: Int, end: Int, text: String)] = []
                var served: [String] = [], stubbed: [String] = []
                for name in names {
                    guard let s = g.shapes[name] else { continue }
                    let mine = kernelSide.contains(name) == kernel || moduleEntries.contains(name)
                    if mine {
                        if crossing.contains(name), let e = entries.first(where: { $0.function == name }), e.up != kernel {
                            served.append(name)
                        }
                        if !kernel, let body = decaf?.bodies[name] { edits.append((s.bodyStart, s.end, body)) }
                        continue
                    }
                    if let id = idOf[name], crossing.contains(name) {
                        edits.append((s.bodyStart, s.end, Self.stub(name, s, id: id, up: kernel, sets: layout.setNames(name, ident),
                                                                    buffers: layout.buffers[name] ?? [:])))
                        stubbed.append(name)
                    } else {
                        edits.append((s.start, s.end, "/* \(name): in the \(kernel ? "u-driver" : "nucleus") (driverslicer --halves) */"))
                    }
                }
                guard edits.allSatisfy({ $0.start >= 0 && $0.end <= bytes.count && $0.start <= $0.end }) else {
                    throw SliceError("\(path): the file changed since it was parsed")
                }
                var text = bytes
                for e in edits.sorted(by: { $0.start > $1.start }) {
                    text.replaceSubrange(e.start..<e.end, with: Array(e.text.utf8))
                }
                let source = String(decoding: text, as: UTF8.self)
                var head = """
                    // SPDX-License-Identifier: GPL-2.0
                    /*
                     * Generated by driverslicer --halves from \(base): the \(kernel ? "kernel (nucleus)" : "user (u-driver)") half.
                     * The driver's source with the \(kernel ? "u-driver's" : "nucleus's") functions replaced by calls
                     * across the split (or removed where this half never reaches them). Do not edit:
                     * change the driver and run driverslicer --halves again.
                     */

                    """
                // What only the other half used is left unused here.
                head += "#pragma GCC diagnostic ignored \"-Wunused-variable\"\n"
                head += "#pragma GCC diagnostic ignored \"-Wunused-function\"\n"
                head += "#pragma GCC diagnostic ignored \"-Wunused-const-variable\"\n"
                if !kernel {
                    // The driver library's redirection of MMIO and port I/O
                    // (readb, outl, ...: inline asm in the kernel's headers).
                    head += "#include \"drvslice-user.h\"\n"
                    if let decaf { head += decaf.userPrologue }
                    if source.contains("#define pr_fmt") { head += "#undef pr_fmt\n" }
                }
                head += "#include \"../\(Self.headerName(driver))\"\n\n"
                let table = "slice_\(ident)_\(kernel ? "kernel" : "user")"
                var result = head + source + (kernel ? "" : decaf?.userC ?? "") + Self.targets(served.sorted(), g: g, idOf: idOf, table: "\(table)_targets_\(stem)")
                    + Self.stubs(stubbed.sorted(), idOf: idOf, table: "\(table)_stubs_\(stem)")
                if byFile.count == 1 {
                    result += layout.description(table: table, stem: stem, driver: driver, ident: ident, entries: entries,
                                                 idOf: idOf, prefix: prefix, kernel: kernel)
                }
                return result
            }
            out.append(File(name: base, kernel: try half(kernel: true), user: try half(kernel: false)))
        }
        files = out

        var h = """
            /* SPDX-License-Identifier: GPL-2.0 */
            /*
             * Generated by driverslicer --halves from \(driver): the ids of the functions
             * that cross the split. Do not edit.
             */
            #ifndef \(prefix)_H
            #define \(prefix)_H

            #include "drvslice.h"

            enum {

            """
        for e in entries {
            h += "\t\(idOf[e.function] ?? "") = \(e.id),\t/* \(e.up ? "up" : "down"): \(e.function) */\n"
        }
        h += "\t\(prefix)_ENTRIES = \(entries.count + 1)\n};\n\n"
        h += layout.header(prefix: prefix, ident: ident, entries: entries)
        if out.count == 1 {
            h += "/* The driver's description, at the end of each half. */\n"
            h += "extern const struct drvslice_driver slice_\(ident)_kernel;\nextern const struct drvslice_driver slice_\(ident)_user;\n\n"
        }
        h += "/* The entries each file's halves serve (each ends with { 0 }). */\n"
        for f in out {
            let stem = Self.identifier((f.name as NSString).deletingPathExtension)
            for side in ["kernel", "user"] {
                for kind in ["targets", "stubs"] {
                    h += "extern const struct drvslice_target slice_\(Self.identifier(driver))_\(side)_\(kind)_\(stem)[];\n"
                }
            }
        }
        h += "\n#endif\n"
        header = h
    }

    static func headerName(_ driver: String) -> String { "\(driver)-slice.h" }

    /// `8139cp` → `8139cp`, `snd-ens1370` → `snd_ens1370`.
    static func identifier(_ s: String) -> String {
        String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// A sentinel's end value: `0`, `-1`, `0xffff` (nil: not an integer).
    static func integer(_ s: String) -> Int64? {
        let neg = s.hasPrefix("-")
        let body = neg ? String(s.dropFirst()) : s
        let v: UInt64?
        if body.lowercased().hasPrefix("0x") { v = UInt64(body.dropFirst(2), radix: 16) } else { v = UInt64(body) }
        guard let v else { return nil }
        if neg { return v <= UInt64(Int64.max) ? -Int64(v) : nil }
        return Int64(bitPattern: v)
    }

    /// A body that calls across: it describes the call and passes the
    /// address of each argument.
    /// The parameters `buffers` names (parameter → element count) are
    /// DRVSLICE_A_INOUT: the stub computes each one's bytes into a slot
    /// after the arguments.
    static func stub(_ name: String, _ s: FunctionShape, id: String, up: Bool, sets: (in: String?, nin: Int, out: String?, nout: Int),
                     buffers: [String: String] = [:]) -> String {
        let void = s.resultKind == .void
        let slots = inoutSlots(s, buffers)
        var b = "{\n"
        if !s.parameters.isEmpty {
            b += "\tstatic const struct drvslice_arg slice_argv[] = {\n"
            for p in s.parameters {
                if let slot = slots[p.name] {
                    b += "\t\t{ DRVSLICE_INOUT_MAX, DRVSLICE_A_INOUT, (void *)0, \(slot.index + 1), sizeof(unsigned int) },\n"
                    continue
                }
                b += "\t\t{ sizeof(\(p.name)), \(p.isPointer ? "DRVSLICE_A_PTR" : "DRVSLICE_A_VALUE"), \(p.pointee.map { "\"\($0)\"" } ?? "(void *)0")"
                    + (p.pointeeSize > 0 ? ", 0, 0, sizeof(*\(p.name))" : "") + " },\n"
            }
            b += "\t};\n"
        }
        b += "\tstatic const struct drvslice_entry slice_entry = {\n"
        b += "\t\t\(id), \(up ? "DRVSLICE_UP" : "DRVSLICE_DOWN"), \(s.parameters.count), \"\(name)\",\n"
        b += "\t\t\(s.parameters.isEmpty ? "(void *)0" : "slice_argv"), \(void ? "0" : "sizeof(__typeof__(\(s.result)))"),\n"
        b += "\t\t\(sets.nin), \(sets.nout), \(sets.in ?? "(void *)0"), \(sets.out ?? "(void *)0")\n\t};\n"
        let ordered = slots.sorted { $0.value.index < $1.value.index }
        for (param, slot) in ordered {
            b += "\tunsigned int slice_len_\(param) = \(param) ? (unsigned int)((\(slot.count)) * \(slot.element)) : 0;\n"
        }
        if !s.parameters.isEmpty {
            b += "\tvoid *slice_args[] = { " + (s.parameters.map { "(void *)&\($0.name)" } + ordered.map { "(void *)&slice_len_\($0.key)" })
                .joined(separator: ", ") + " };\n"
        }
        if !void { b += "\t__typeof__(\(s.result)) slice_ret;\n" }
        b += "\tint slice_err;\n\n"
        b += "\tslice_err = drvslice_\(up ? "upcall" : "downcall")(&slice_entry, \(s.parameters.isEmpty ? "(void *)0" : "slice_args"), \(void ? "(void *)0" : "&slice_ret"));\n"
        if void {
            b += "\t(void)slice_err;\n"
        } else {
            b += "\tif (slice_err)\n"
            b += s.resultKind == .signed ? "\t\treturn slice_err;\n" : "\t\treturn (__typeof__(\(s.result))){ 0 };\n"
            b += "\treturn slice_ret;\n"
        }
        return b + "}"
    }

    /// Each buffer parameter's slot after the arguments (its index in the
    /// stub's args), count expression and element size.
    static func inoutSlots(_ s: FunctionShape, _ buffers: [String: String]) -> [String: (index: Int, count: String, element: String)] {
        var r: [String: (index: Int, count: String, element: String)] = [:]
        for p in s.parameters {
            guard let count = buffers[p.name] else { continue }
            let element = p.type.replacingOccurrences(of: " ", with: "").hasPrefix("void*")
                || p.type.replacingOccurrences(of: " ", with: "").hasPrefix("constvoid*") ? "1" : "sizeof(*\(p.name))"
            r[p.name] = (s.parameters.count + r.count, count, element)
        }
        return r
    }

    /// The other half's functions this half has a stub for, by id: a
    /// function pointer the other half stored (`mii_if.mdio_read`,
    /// `netdev_ops`'s members) stands for the stub here.
    static func stubs(_ names: [String], idOf: [String: String], table: String) -> String {
        var t = "\n/* The other half's functions, by id: the stubs above. */\n"
        t += "const struct drvslice_target \(table)[] = {\n"
        for name in names {
            guard let id = idOf[name] else { continue }
            t += "\t{ \(id), \"\(name)\", (const void *)\(name), (void *)0 },\n"
        }
        return t + "\t{ 0, (void *)0, (void *)0, (void *)0 }\n};\n"
    }

    /// The entries this half serves: a thunk each and the table.
    static func targets(_ names: [String], g: CallGraph, idOf: [String: String], table: String) -> String {
        var t = "\n\n/* The functions of this half the other half calls, by id (driverslicer --halves). */\n"
        var rows: [String] = []
        for name in names {
            guard let s = g.shapes[name], let id = idOf[name] else { continue }
            let thunk = "slice_call_\(name)"
            let args = s.parameters.indices.map { "*(__typeof__(\(s.parameters[$0].type)) *)args[\($0)]" }.joined(separator: ", ")
            t += "static int \(thunk)(void *const args[], void *ret)\n{\n"
            if s.parameters.isEmpty { t += "\t(void)args;\n" }
            if s.resultKind == .void {
                t += "\t(void)ret;\n\t\(name)(\(args));\n"
            } else {
                t += "\t*(__typeof__(\(s.result)) *)ret = \(name)(\(args));\n"
            }
            t += "\treturn 0;\n}\n\n"
            rows.append("\t{ \(id), \"\(name)\", (const void *)\(name), \(thunk) },\n")
        }
        t += "const struct drvslice_target \(table)[] = {\n" + rows.joined() + "\t{ 0, (void *)0, (void *)0, (void *)0 }\n};\n"
        return t
    }
}

extension SliceHalves {
    /// The driver's description for the runtime: the struct types whose
    /// fields cross (each with its crossing fields), each entry's field sets
    /// (the marshaling spec's reads and writes), the embedded members that
    /// lead from one type to another, and the driver's globals.
    struct Layout {
        struct Field {
            let key: String; let name: String; var kind: String; let decl: FieldDecl
            /// DRVSLICE_F_ARRAY, _SENTINEL: the C expression of its bytes
            /// (an element's, for one whose length is a field or a sentinel).
            var bytes: String? = nil
            /// DRVSLICE_F_ARRAY: 1 + the index of the field that holds its
            /// length (0: a fixed length).
            var count = 0
            /// DRVSLICE_F_SENTINEL: the C expression of its end value.
            var end: String? = nil
        }
        /// Type name → its crossing fields, sorted; the type ids are the
        /// positions in `typeNames` plus one.
        var fields: [String: [Field]] = [:]
        var typeNames: [String] = []
        /// Entry function → (type, field indices) read by the callee, and written.
        var reads: [String: [(String, [Int])]] = [:]
        var writes: [String: [(String, [Int])]] = [:]
        var embeds: [EmbeddedMember] = []
        var globals: [DriverGlobal] = []
        /// (kernel accessor, struct type) of the private areas the driver keeps.
        var privates: [(String, String)] = []
        var unions: Set<String> = []
        var shapes: [String: FunctionShape] = [:]
        /// (struct, field) of the locks annotated `combolock`.
        var combolocks: [(String, String)] = []
        /// Function → parameter → element count: `array FN.PARAM COUNT`.
        var buffers: [String: [String: String]] = [:]

        init(graph g: CallGraph, spec: MarshalingSpec) {
            unions = g.unionNames
            shapes = g.shapes
            // A type C cannot name (anonymous) or a lock stays out.
            func nameable(_ t: String) -> Bool {
                !t.contains("::") && !t.contains("(") && !t.contains(" ") && !t.contains("@") && !t.isEmpty
            }
            var keys: [String: Set<String>] = [:]
            for e in spec.entries {
                for (t, fs) in e.reads.merging(e.writes, uniquingKeysWith: +) where nameable(t) {
                    for f in fs {
                        let key = "\(t).\(f)"
                        guard let d = g.fieldDecls[key], d.byteCount > 0 || d.isBitField, g.fieldKinds[key] != .lock else { continue }
                        keys[t, default: []].insert(f)
                    }
                }
            }
            typeNames = keys.keys.sorted()
            for t in typeNames {
                fields[t] = (keys[t] ?? []).sorted().compactMap { f in
                    let key = "\(t).\(f)"
                    guard let d = g.fieldDecls[key] else { return nil }
                    let kind: String
                    if d.isBitField { kind = "DRVSLICE_F_BITS" } else {
                        switch g.fieldKinds[key] ?? .value {
                        case .charPointer, .voidPointer, .pointer: kind = "DRVSLICE_F_POINTER"
                        default: kind = d.cType.contains("(*)") ? "DRVSLICE_F_POINTER" : "DRVSLICE_F_BYTES"
                        }
                    }
                    return Field(key: key, name: f, kind: kind, decl: d)
                }
            }
            func sets(_ m: [String: [String]]) -> [(String, [Int])] {
                m.keys.sorted().compactMap { t in
                    guard let fs = fields[t] else { return nil }
                    let idx = Set(m[t] ?? []).sorted().compactMap { f in fs.firstIndex { $0.name == f } }
                    return idx.isEmpty ? nil : (t, idx)
                }
            }
            // The call carries what the callee writes too: it may write part
            // of a field (an array's element) and send the whole back.
            for e in spec.entries {
                reads[e.function] = sets(e.reads.merging(e.writes) { Array(Set($0 + $1)) })
                writes[e.function] = sets(e.writes)
            }
            let crossing = Set(typeNames)
            embeds = g.embeddedMembers.filter { crossing.contains($0.inner) && crossing.contains($0.outer) && !$0.member.isEmpty }
                .sorted { ($0.outer, $0.member) < ($1.outer, $1.member) }
            globals = g.globals.values.sorted { $0.name < $1.name }
            privates = g.privateAccessors.keys.sorted().flatMap { f in
                (g.privateAccessors[f] ?? []).sorted().filter { crossing.contains($0) }.map { (f, $0) }
            }
        }

        /// Fields @a and @b of @type go together: a set of an entry that
        /// has one gets the other.
        mutating func couple(_ type: String, _ a: Int, _ b: Int) {
            func joined(_ sets: [(String, [Int])]) -> [(String, [Int])] {
                sets.map { t, idx in
                    guard t == type, idx.contains(a) || idx.contains(b) else { return (t, idx) }
                    return (t, Array(Set(idx + [a, b])).sorted())
                }
            }
            reads = reads.mapValues(joined)
            writes = writes.mapValues(joined)
        }

        func typeID(_ prefix: String, _ t: String) -> String { "\(prefix)_T_\(SliceHalves.identifier(t))" }

        /// The stub's sets: the names of the header's arrays and their counts.
        func setNames(_ fn: String, _ ident: String) -> (in: String?, nin: Int, out: String?, nout: Int) {
            let r = reads[fn] ?? [], w = writes[fn] ?? []
            return (r.isEmpty ? nil : "slice_\(ident)_in_\(fn)", r.count, w.isEmpty ? nil : "slice_\(ident)_out_\(fn)", w.count)
        }

        /// The type ids and each entry's field sets: numbers only, so that
        /// the stubs, written before the driver's types are known, can use them.
        func header(prefix: String, ident: String, entries: [Entry]) -> String {
            var h = "/* The struct types whose fields cross. */\nenum {\n"
            for (i, t) in typeNames.enumerated() { h += "\t\(typeID(prefix, t)) = \(i + 1),\n" }
            h += "\t\(prefix)_TYPES = \(typeNames.count + 1)\n};\n\n"
            h += "/* Each entry's field sets: what the callee reads (in) and writes (out). */\n"
            for e in entries {
                for (dir, sets) in [("in", reads[e.function] ?? []), ("out", writes[e.function] ?? [])] where !sets.isEmpty {
                    for (t, idx) in sets {
                        h += "static const unsigned short slice_\(ident)_\(dir)_\(e.function)_\(SliceHalves.identifier(t))[] = { "
                            + idx.map(String.init).joined(separator: ", ") + " };\n"
                    }
                    h += "static const struct drvslice_set slice_\(ident)_\(dir)_\(e.function)[] = {\n"
                    for (t, idx) in sets {
                        h += "\t{ \(typeID(prefix, t)), \(idx.count), slice_\(ident)_\(dir)_\(e.function)_\(SliceHalves.identifier(t)) },\n"
                    }
                    h += "};\n"
                }
            }
            return h + "\n"
        }

        func tag(_ t: String) -> String { unions.contains(t) ? "union \(t)" : "struct \(t)" }

        /// The end of a half: the types' field tables, the embeds, the
        /// globals, every entry's full description, and the driver.
        func description(table: String, stem: String, driver: String, ident: String, entries: [Entry],
                         idOf: [String: String], prefix: String, kernel: Bool) -> String {
            var t = "\n/* The driver's description for the runtime (driverslicer --halves). */\n"
            for ty in typeNames {
                t += "static const struct drvslice_field slice_fields_\(SliceHalves.identifier(ty))[] = {\n"
                for f in fields[ty] ?? [] {
                    if f.kind == "DRVSLICE_F_BITS" {
                        t += "\t{ \"\(f.key)\", \(f.decl.bitOffset), \(f.decl.bitWidth), \(f.kind) },\n"
                    } else if let bytes = f.bytes, f.count > 0 || f.end != nil {
                        t += "\t{ \"\(f.key)\", __builtin_offsetof(\(tag(ty)), \(f.name)), \(bytes), \(f.kind), \(f.count), \(f.end ?? "0") },\n"
                    } else if let bytes = f.bytes {
                        t += "\t{ \"\(f.key)\", __builtin_offsetof(\(tag(ty)), \(f.name)), \(bytes), \(f.kind) },\n"
                    } else {
                        t += "\t{ \"\(f.key)\", __builtin_offsetof(\(tag(ty)), \(f.name)), sizeof(((\(tag(ty)) *)0)->\(f.name)), \(f.kind) },\n"
                    }
                }
                t += "};\n"
            }
            t += "static const struct drvslice_type \(table)_types[] = {\n\t{ \"\", 0, 0, (void *)0, 1 },\n"
            for ty in typeNames {
                t += "\t{ \"\(ty)\", sizeof(\(tag(ty))), \(fields[ty]?.count ?? 0), slice_fields_\(SliceHalves.identifier(ty)), __alignof__(\(tag(ty))) },\n"
            }
            t += "};\n"
            t += "static const struct drvslice_embed \(table)_embeds[] = {\n"
            for e in embeds {
                t += "\t{ \(typeID(prefix, e.outer)), \(typeID(prefix, e.inner)), __builtin_offsetof(\(tag(e.outer)), \(e.member)) },\n"
            }
            t += "\t{ 0, 0, 0 }\n};\n"
            t += "static const struct drvslice_global \(table)_globals[] = {\n"
            for gl in globals {
                let ty = gl.structName.flatMap { typeNames.contains($0) ? typeID(prefix, $0) : nil } ?? "0"
                t += "\t{ \"\(gl.name)\", (void *)&\(gl.name), sizeof(\(gl.name)), \(ty) },\n"
            }
            t += "\t{ (void *)0, (void *)0, 0, 0 }\n};\n"
            // Every entry, described as its stub would: the side that
            // serves it checks a call against this.
            for e in entries {
                guard let sh = shapes[e.function], let id = idOf[e.function] else { continue }
                let args = sh.parameters.isEmpty ? "(void *)0" : "slice_desc_args_\(e.function)"
                if !sh.parameters.isEmpty {
                    let slots = SliceHalves.inoutSlots(sh, buffers[e.function] ?? [:])
                    t += "static const struct drvslice_arg slice_desc_args_\(e.function)[] = {\n"
                    for p in sh.parameters {
                        if let slot = slots[p.name] {
                            t += "\t{ DRVSLICE_INOUT_MAX, DRVSLICE_A_INOUT, (void *)0, \(slot.index + 1), sizeof(unsigned int) },\n"
                            continue
                        }
                        t += "\t{ sizeof(__typeof__(\(p.type))), \(p.isPointer ? "DRVSLICE_A_PTR" : "DRVSLICE_A_VALUE"), \(p.pointee.map { "\"\($0)\"" } ?? "(void *)0")"
                            + (p.pointeeSize > 0 ? ", 0, 0, sizeof(*(__typeof__(\(p.type)))0)" : "") + " },\n"
                    }
                    t += "};\n"
                }
                let sets = setNames(e.function, ident)
                t += "static const struct drvslice_entry slice_desc_\(e.function) = {\n"
                t += "\t\(id), \(e.up ? "DRVSLICE_UP" : "DRVSLICE_DOWN"), \(sh.parameters.count), \"\(e.function)\", \(args), "
                t += "\(sh.resultKind == .void ? "0" : "sizeof(__typeof__(\(sh.result)))"),\n"
                t += "\t\(sets.nin), \(sets.nout), \(sets.in ?? "(void *)0"), \(sets.out ?? "(void *)0")\n};\n"
            }
            t += "static const struct drvslice_entry *const \(table)_entries[] = {\n\t(void *)0,\n"
            for e in entries { t += "\t&slice_desc_\(e.function),\n" }
            t += "};\n"
            t += "static const struct drvslice_private \(table)_privates[] = {\n"
            for (f, ty) in privates { t += "\t{ \"\(f)\", \(typeID(prefix, ty)) },\n" }
            t += "\t{ (void *)0, 0 }\n};\n"
            t += "static const struct drvslice_combolock \(table)_combolocks[] = {\n"
            for (ty, f) in combolocks {
                t += "\t{ \"\(ty).\(f)\", \(typeID(prefix, ty)), __builtin_offsetof(\(tag(ty)), \(f)) },\n"
            }
            t += "\t{ (void *)0, 0, 0 }\n};\n"
            t += "const struct drvslice_driver \(table) = {\n"
            t += "\t\"\(driver)\", \(prefix)_ENTRIES, \(table)_entries, \(prefix)_TYPES, \(table)_types,\n"
            t += "\t\(embeds.count), \(table)_embeds, \(globals.count), \(table)_globals,\n"
            t += "\t\(table)_targets_\(stem), \(table)_stubs_\(stem),\n"
            t += "\t\(privates.count), \(table)_privates,\n"
            t += "\t\(combolocks.count), \(table)_combolocks\n};\n"
            return t
        }
    }
}
