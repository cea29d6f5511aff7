// SPDX-License-Identifier: GPL-2.0
import Foundation

/// The Microdrivers paper's annotations, for what the code alone does not
/// say about a field that crosses the split.
public enum AnnotationKind: String, Sendable, Codable, CaseIterable {
    /// A `char *` that points to a NUL-terminated string.
    case nullterm
    /// A pointer to an array; the argument is its length (a number or a
    /// field of the same struct).
    case array
    /// A lock taken on both sides of the split: the nucleus's ComboLock.
    case combolock
    /// A pointer the other side must not follow: it crosses as a handle.
    case opaque
    /// A pointer to an array that ends with the argument's value.
    case sentinel
    /// A field kept on the side that stored it (not marshaled back).
    case storefield
    /// A struct reached from another one through a generic pointer
    /// (`netdev_priv(dev)`); the argument names the outer struct.
    case container
}

/// One annotation: `KIND STRUCT.FIELD [ARG]`, from a side file or from
/// `__attribute__((annotate("drvslice:KIND(ARG)")))` on the field.
public struct Annotation: Sendable, Codable, Equatable {
    public let kind: AnnotationKind
    /// `STRUCT.field`
    public let field: String
    public let argument: String?
    /// `file:line` where it was written.
    public let origin: String

    public init(kind: AnnotationKind, field: String, argument: String?, origin: String) {
        self.kind = kind
        self.field = field
        self.argument = argument
        self.origin = origin
    }

    /// `drvslice:array(64)` → (.array, "64"); nil if it is not ours.
    static func parseAttribute(_ text: String) throws -> (AnnotationKind, String?)? {
        guard text.hasPrefix("drvslice:") else { return nil }
        var body = String(text.dropFirst("drvslice:".count))
        var arg: String?
        if let open = body.firstIndex(of: "("), body.hasSuffix(")") {
            arg = String(body[body.index(after: open)..<body.index(before: body.endIndex)])
            body = String(body[..<open])
        }
        guard let k = AnnotationKind(rawValue: body) else {
            throw SliceError("unknown annotation \(body); expected \(AnnotationKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return (k, arg)
    }
}

/// The annotations in force for one driver, from its side file
/// (`DRIVER.slice` beside the source, so a kernel tree need not be edited)
/// and from its source.
public struct AnnotationSet: Sendable {
    public private(set) var all: [Annotation] = []

    public init() {}

    /// Reads a side file: one `KIND STRUCT.FIELD [ARG]` per line, `#`
    /// comments. A bad line is an error naming the file and line.
    public init(sideFile path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SliceError("\(path): cannot read") }
        try add(text, file: path)
    }

    public mutating func add(_ text: String, file: String) throws {
        for (i, raw) in SliceText.lines(text).enumerated() {
            let w = SliceText.words(raw)
            guard !w.isEmpty else { continue }
            let origin = "\(file):\(i + 1)"
            guard let kind = AnnotationKind(rawValue: w[0]) else {
                throw SliceError("\(origin): unknown annotation \(w[0]); expected \(AnnotationKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            // STRUCT.FIELD split at the first dot, both parts non-empty (as
            // an interface's `field` line): ".a.b" is no struct's field.
            let parts = w.count >= 2 ? w[1].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false) : []
            // array's length may be a C expression of words
            // (`array cp_set_mac_address.p sizeof(struct sockaddr)`).
            guard w.count >= 2, w.count <= 3 || kind == .array, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw SliceError("\(origin): expected `\(kind.rawValue) STRUCT.FIELD [ARGUMENT]`")
            }
            if [.array, .sentinel, .container].contains(kind), w.count < 3 {
                throw SliceError("\(origin): \(kind.rawValue) needs an argument (\(kind == .container ? "the outer struct" : kind == .array ? "the length" : "the end value"))")
            }
            append(Annotation(kind: kind, field: w[1], argument: w.count >= 3 ? w[2...].joined(separator: " ") : nil, origin: origin))
        }
    }

    /// `given` plus the annotate attributes found in `graph`'s sources:
    /// what is in force for that driver (each annotation once).
    public init(_ given: AnnotationSet, in graph: CallGraph) {
        self = given
        for a in graph.sourceAnnotations { append(a) }
    }

    public mutating func append(_ a: Annotation) {
        if !all.contains(where: { $0.kind == a.kind && $0.field == a.field }) { all.append(a) }
    }

    /// Every annotation checked against the driver as parsed: its field is
    /// one the driver uses, and the annotation fits the field's type. One it
    /// cannot honour is an error naming where it was written and why.
    public func check(against g: CallGraph) throws {
        for a in all {
            let cannot = "\(a.origin): cannot honour `\(a.kind.rawValue) \(a.field)`"
            if g.fieldDecls[a.field] == nil, let (_, p) = g.parameter(a.field) {
                // FUNCTION.PARAMETER: a buffer the function is handed.
                guard a.kind == .array else {
                    throw SliceError("\(cannot): a parameter takes array only (its length)")
                }
                guard p.isPointer, !p.type.contains("(") else {
                    throw SliceError("\(cannot): it is \(p.type), not a pointer to bytes, numbers or a struct")
                }
                continue
            }
            guard let decl = g.fieldDecls[a.field], let kind = g.fieldKinds[a.field] else {
                throw SliceError("\(cannot): the driver does not use such a field")
            }
            let pointer: Bool
            switch kind {
            case .charPointer, .voidPointer, .pointer: pointer = true
            default: pointer = false
            }
            switch a.kind {
            case .nullterm:
                guard kind == .charPointer || (decl.cType.hasPrefix("char [") || decl.cType.hasPrefix("const char [")) else {
                    throw SliceError("\(cannot): it is \(decl.cType), not a char pointer or array")
                }
            case .array, .sentinel, .opaque, .container:
                guard pointer else { throw SliceError("\(cannot): it is \(decl.cType), not a pointer") }
            case .combolock:
                guard kind == .lock else { throw SliceError("\(cannot): it is \(decl.cType), not a spinlock or mutex") }
            case .storefield:
                break
            }
            if a.kind == .array, let arg = a.argument {
                let structName = a.field.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
                if let n = Int(arg) {
                    guard n > 0 else { throw SliceError("\(cannot): a length of \(n)") }
                } else if g.fieldDecls["\(structName).\(arg)"] == nil {
                    throw SliceError("\(cannot): its length \(arg) is neither a number nor a field of \(structName) the driver uses")
                }
            }
            if a.kind == .container, let outer = a.argument, g.structSizes[outer] == nil {
                throw SliceError("\(cannot): \(outer) is no struct of the driver")
            }
        }
    }

    public func on(_ field: String) -> [Annotation] { all.filter { $0.field == field } }

    /// `array FUNCTION.PARAMETER COUNT` for the functions of `g`: function
    /// → parameter → the C expression of its element count (the
    /// function's parameters in scope).
    public func buffers(in g: CallGraph) -> [String: [String: String]] {
        var r: [String: [String: String]] = [:]
        for a in all where a.kind == .array && g.fieldDecls[a.field] == nil {
            guard let (fn, p) = g.parameter(a.field), let count = a.argument else { continue }
            r[fn, default: [:]][p.name] = count
        }
        return r
    }
    public func has(_ kinds: Set<AnnotationKind>, on field: String) -> Bool { on(field).contains { kinds.contains($0.kind) } }
}

/// An annotation the code needs and does not have.
public struct AnnotationNeed: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Any of these would do.
    public let kinds: [AnnotationKind]
    public let field: String
    public let reason: String

    public var description: String { "\(kinds.map(\.rawValue).joined(separator: " or ")) \(field)  (\(reason))" }
}
