// SPDX-License-Identifier: GPL-2.0

/// Decaf's "the driver is the specification": for every struct whose fields
/// cross the split, a Swift struct with exactly the fields the entry points
/// use, generated from the C. Add a field to the C driver, use it on the
/// other side of the split, re-run, and the Swift type has it.
public struct SwiftTypes {
    /// One generated struct.
    public struct Generated: Sendable, Equatable {
        /// `cp_private`
        public let cName: String
        /// `CpPrivate`
        public let swiftName: String
        /// (Swift property, C field, declaration, entry points that use it,
        /// whether the field's address crosses rather than its value)
        public let fields: [(swift: String, c: String, decl: FieldDecl, users: [String], address: Bool)]

        public static func == (a: Generated, b: Generated) -> Bool {
            a.cName == b.cName && a.fields.map(\.swift) == b.fields.map(\.swift)
        }
    }

    public let types: [Generated]
    let source: String

    /// The structs and fields of `spec` (reads, writes and handles of every
    /// entry point). A field with no declaration found is left out.
    /// Annotations shape the Swift type: nullterm → `String`, array(n) on
    /// a `char *` → n bytes.
    public init(graph g: CallGraph, spec: MarshalingSpec, source: String, annotations: AnnotationSet = AnnotationSet()) {
        self.source = source
        let ann = AnnotationSet(annotations, in: g)
        // Values read or written, and addresses passed on (`&s->f`), as
        // separate members: `lock` and `&lock` may both cross.
        var byStruct: [String: [String: Set<String>]] = [:]
        for e in spec.entries {
            for set in [e.reads, e.writes] {
                for (s, fs) in set { for f in fs { byStruct[s, default: [:]][f, default: []].insert(e.function) } }
            }
            for (s, fs) in e.handles { for f in fs { byStruct[s, default: [:]]["&" + f, default: []].insert(e.function) } }
        }
        // The generated marshaling's own names are not a struct's.
        var used: Set<String> = ["SliceObjects", "SliceStruct", "SliceWire", "SliceWireError"]
        types = byStruct.keys.sorted().compactMap { s in
            let fields = (byStruct[s] ?? [:]).keys.sorted().compactMap { member -> (String, String, FieldDecl, [String], Bool)? in
                let address = member.hasPrefix("&")
                let f = address ? String(member.dropFirst()) : member
                guard var d = g.fieldDecls["\(s).\(f)"] else { return nil }
                let key = "\(s).\(f)"
                if address {
                    d = FieldDecl(cType: d.cType, swiftType: "UInt64", byteCount: 8, origin: d.origin, isBitField: false, isConst: true)
                    return (Self.property(f + "_address"), f, d, (byStruct[s]?[member] ?? []).sorted(), true)
                }
                if ann.has([.nullterm], on: key) {
                    d = FieldDecl(cType: d.cType, swiftType: "String", byteCount: 0, origin: d.origin, isBitField: false, isConst: d.isConst)
                } else if g.fieldKinds[key] == .charPointer, let n = ann.on(key).first(where: { $0.kind == .array })?.argument.flatMap(Int.init) {
                    d = FieldDecl(cType: d.cType, swiftType: "[UInt8]", byteCount: n, origin: d.origin, isBitField: false, isConst: d.isConst)
                }
                return (Self.property(f), f, d, (byStruct[s]?[member] ?? []).sorted(), false)
            }
            guard !fields.isEmpty else { return nil }
            var name = Self.typeName(s)
            while !used.insert(name).inserted { name += "_" }
            return Generated(cName: s, swiftName: name,
                             fields: fields.map { (swift: $0.0, c: $0.1, decl: $0.2, users: $0.3, address: $0.4) })
        }
    }

    /// `cp_private` → `CpPrivate`; `anon@8139too_c:232` → `Anon8139tooC232`;
    /// `_ddebug::anon@…` keeps both parts.
    public static func typeName(_ c: String) -> String {
        let words = c.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        var n = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if n.isEmpty || n.first?.isNumber == true { n = "Struct" + n }
        return n
    }

    static let keywords: Set<String> = ["class", "struct", "enum", "protocol", "extension", "func", "var", "let", "in", "is",
                                        "as", "if", "else", "for", "while", "repeat", "switch", "case", "default", "break",
                                        "continue", "return", "import", "init", "deinit", "self", "Self", "super", "static",
                                        "private", "public", "internal", "fileprivate", "operator", "subscript", "where",
                                        "throw", "throws", "try", "catch", "defer", "guard", "do", "nil", "true", "false",
                                        "inout", "associatedtype", "typealias", "Type", "Protocol", "any", "some"]

    /// `rx_tail` → `rxTail`; a Swift keyword is escaped.
    static func property(_ c: String) -> String {
        let words = c.split(separator: "_").map(String.init)
        guard let first = words.first else { return "_" + c }
        var n = first + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if n.first?.isNumber == true { n = "_" + n }
        return keywords.contains(n) ? "`\(n)`" : n
    }

    /// The Swift source: one `public struct` per crossing C struct.
    public var text: String {
        var o: [String] = []
        o.append("// Generated by driverslicer from \(source). Do not edit: change the driver and run it again.")
        o.append("// Each struct holds the fields of the C struct that cross the split, and no other.")
        for t in types {
            o.append("")
            o.append("/// `struct \(t.cName)`: the \(t.fields.count) field\(t.fields.count == 1 ? "" : "s") the split's entry points use.")
            o.append("public struct \(t.swiftName): Sendable, Equatable {")
            for f in t.fields {
                let users = f.users.prefix(4).joined(separator: ", ") + (f.users.count > 4 ? ", …" : "")
                let what = f.address ? " (its address: a handle, never followed)"
                    : f.decl.swiftType == "[UInt8]" ? " (\(f.decl.byteCount) bytes)"
                    : f.decl.swiftType == "String" ? " (NUL-terminated)"
                    : f.decl.cType.hasSuffix("*") ? " (a handle, never followed)" : ""
                o.append("    /// `\(f.address ? "&" : "")\(f.decl.cType) \(f.c)` (\(f.decl.origin))\(what); used by \(users).")
                let initial: String
                switch f.decl.swiftType {
                case "Bool": initial = "false"
                case "String": initial = "\"\""
                case "[UInt8]": initial = "[UInt8](repeating: 0, count: \(f.decl.byteCount))"
                default: initial = "0"
                }
                o.append("    public var \(f.swift): \(f.decl.swiftType) = \(initial)")
            }
            o.append("")
            o.append("    public init() {}")
            o.append("}")
        }
        return o.joined(separator: "\n") + "\n"
    }
}
