// SPDX-License-Identifier: GPL-2.0
// The Varlink interface definition language (https://varlink.org/Interface-Definition):
// a parser, and a check of JSON values against the types it declares.
// No Swift library reads Varlink IDL; this is the subset the grammar has
// (sets, `[string]()`, included), about 250 lines.

/// A type in a Varlink interface definition.
public indirect enum VarlinkType: Equatable, Sendable {
    case bool, int, float, string
    /// `object`: any JSON object the interface does not describe.
    case object
    /// `?T`: absent, `null` or a T.
    case optional(VarlinkType)
    /// `[]T`
    case array(VarlinkType)
    /// `[string]T`
    case map(VarlinkType)
    /// `[string]()`: a set of strings, a JSON object of empty objects.
    case set
    /// A type declared with `type Name …`.
    case named(String)
    /// `(a: T, b: U)`
    case `struct`([VarlinkField])
    /// `(one, two)`
    case `enum`([String])
}

/// A named member of a struct, a method's input or output, or an error.
public struct VarlinkField: Equatable, Sendable {
    public var name: String
    public var type: VarlinkType
    public init(name: String, type: VarlinkType) {
        self.name = name
        self.type = type
    }
}

/// A method's input and output fields.
public struct VarlinkMethod: Equatable, Sendable {
    public var input: [VarlinkField]
    public var output: [VarlinkField]
}

/// A syntax error in an interface definition, at its line and column.
public struct VarlinkSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// A value that does not match its type: the path to it (`drivers[0].state`)
/// and what is wrong.
public struct VarlinkTypeMismatch: Error, Equatable, Sendable, CustomStringConvertible {
    /// Field names from the top: `drivers[0].state`, `names[2]`.
    public let path: String
    public let message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    /// The top-level field, as InvalidParameter names it.
    public var parameter: String {
        String(path.prefix { $0 != "." && $0 != "[" })
    }
    public var description: String { "\(path): \(message)" }
}

/// A parsed interface definition: its name, types, methods and errors, and
/// the text it was parsed from (what GetInterfaceDescription serves).
public struct VarlinkInterface: Sendable {
    public let name: String
    public let text: String
    public private(set) var types: [String: VarlinkType] = [:]
    public private(set) var methods: [String: VarlinkMethod] = [:]
    public private(set) var errors: [String: [VarlinkField]] = [:]
    /// Method names in the order they are declared.
    public private(set) var methodOrder: [String] = []

    /// An interface that declares nothing: every call to it is MethodNotFound.
    public init(emptyNamed name: String) {
        self.name = name
        self.text = "interface \(name)\n"
    }

    /// Parses `text`; every name used as a type must be declared in it.
    public init(parsing text: String) throws(VarlinkSyntaxError) {
        self.text = text
        var s = VarlinkScanner(text)
        try s.keyword("interface")
        name = try s.interfaceName()
        while !s.atEnd {
            let what = try s.word()
            switch what {
            case "type":
                let n = try s.typeName()
                guard types[n] == nil else { throw s.error("type \(n) declared twice") }
                types[n] = try s.typeDefinition()
            case "method":
                let n = try s.typeName()
                guard methods[n] == nil else { throw s.error("method \(n) declared twice") }
                let input = try s.fields()
                try s.punctuation("->")
                methods[n] = VarlinkMethod(input: input, output: try s.fields())
                methodOrder.append(n)
            case "error":
                let n = try s.typeName()
                guard errors[n] == nil else { throw s.error("error \(n) declared twice") }
                errors[n] = try s.fields()
            default:
                throw s.error("expected type, method or error, found \(what)")
            }
        }
        for (n, t) in types { try checkNames(t, in: "type \(n)") }
        for (n, m) in methods { for f in m.input + m.output { try checkNames(f.type, in: "method \(n)") } }
        for (n, fs) in errors { for f in fs { try checkNames(f.type, in: "error \(n)") } }
    }

    private func checkNames(_ t: VarlinkType, in what: String) throws(VarlinkSyntaxError) {
        switch t {
        case .named(let n):
            if types[n] == nil { throw VarlinkSyntaxError(line: 0, column: 0, message: "\(what): type \(n) is not declared") }
        case .optional(let e), .array(let e), .map(let e): try checkNames(e, in: what)
        case .struct(let fs): for f in fs { try checkNames(f.type, in: what) }
        default: break
        }
    }

    /// Checks a parameters object (a call's input, a reply's output, an
    /// error's parameters) against `fields`: each field present with its
    /// type, optional ones absent or null, no other field.
    public func check(_ object: [String: JSONValue], against fields: [VarlinkField]) throws(VarlinkTypeMismatch) {
        try checkStruct(object, fields, path: "")
    }

    private func checkStruct(_ o: [String: JSONValue], _ fields: [VarlinkField], path: String) throws(VarlinkTypeMismatch) {
        let known = Set(fields.map(\.name))
        if let extra = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw VarlinkTypeMismatch(path: path.isEmpty ? extra : path + "." + extra, message: "unexpected field")
        }
        for f in fields {
            try checkValue(o[f.name], f.type, path: path.isEmpty ? f.name : path + "." + f.name)
        }
    }

    private func checkValue(_ v: JSONValue?, _ t: VarlinkType, path: String) throws(VarlinkTypeMismatch) {
        func wrong(_ expected: String) -> VarlinkTypeMismatch {
            VarlinkTypeMismatch(path: path, message: v == nil ? "missing" : "expected \(expected)")
        }
        if case .optional(let inner) = t {
            if v == nil || v == .null { return }
            return try checkValue(v, inner, path: path)
        }
        guard let v else { throw wrong("") }
        switch t {
        case .bool: guard case .bool = v else { throw wrong("a boolean") }
        case .int:
            switch v {
            case .int, .uint: break
            case .double(let d) where d.rounded() == d && abs(d) < 9.3e18: break
            default: throw wrong("an integer")
            }
        case .float:
            switch v {
            case .int, .uint, .double: break
            default: throw wrong("a number")
            }
        case .string: guard case .string = v else { throw wrong("a string") }
        case .object: guard case .object = v else { throw wrong("an object") }
        case .optional: break
        case .array(let e):
            guard case .array(let a) = v else { throw wrong("an array") }
            for (i, x) in a.enumerated() { try checkValue(x, e, path: "\(path)[\(i)]") }
        case .map(let e):
            guard case .object(let o) = v else { throw wrong("an object") }
            for k in o.keys.sorted() { try checkValue(o[k], e, path: "\(path)[\(k)]") }
        case .set:
            guard case .object(let o) = v, o.values.allSatisfy({ $0 == .object([:]) }) else { throw wrong("a set") }
        case .named(let n):
            guard let d = types[n] else { throw VarlinkTypeMismatch(path: path, message: "undeclared type \(n)") }
            try checkValue(v, d, path: path)
        case .struct(let fs):
            guard case .object(let o) = v else { throw wrong("an object") }
            try checkStruct(o, fs, path: path)
        case .enum(let names):
            guard case .string(let s) = v, names.contains(s) else {
                throw wrong("one of " + names.joined(separator: ", "))
            }
        }
    }
}

/// Reads the definition's tokens; `#` comments and white space between them
/// are skipped.
struct VarlinkScanner {
    private let chars: [Character]
    private var pos = 0

    init(_ text: String) { chars = Array(text) }

    private mutating func skip() {
        while pos < chars.count {
            if chars[pos] == "#" {
                while pos < chars.count, chars[pos] != "\n" { pos += 1 }
            } else if chars[pos] == " " || chars[pos] == "\t" || chars[pos] == "\n" || chars[pos] == "\r" {
                pos += 1
            } else {
                return
            }
        }
    }

    var atEnd: Bool {
        mutating get {
            skip()
            return pos >= chars.count
        }
    }

    func error(_ message: String) -> VarlinkSyntaxError {
        var line = 1, column = 1
        for c in chars[..<min(pos, chars.count)] {
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return VarlinkSyntaxError(line: line, column: column, message: message)
    }

    private func isWordChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "." || c == "-")
    }

    /// A run of letters, digits, `_`, `.` and `-`.
    mutating func word() throws(VarlinkSyntaxError) -> String {
        skip()
        let start = pos
        while pos < chars.count, isWordChar(chars[pos]) { pos += 1 }
        guard pos > start else { throw error(pos < chars.count ? "unexpected \(chars[pos])" : "unexpected end") }
        return String(chars[start..<pos])
    }

    mutating func keyword(_ k: String) throws(VarlinkSyntaxError) {
        let at = pos
        let w = try word()
        guard w == k else {
            pos = at
            throw error("expected \(k)")
        }
    }

    /// Whether the next token is `p`; consumes it if so.
    mutating func take(_ p: String) -> Bool {
        skip()
        let p = Array(p)
        guard pos + p.count <= chars.count, Array(chars[pos..<pos + p.count]) == p else { return false }
        pos += p.count
        return true
    }

    mutating func punctuation(_ p: String) throws(VarlinkSyntaxError) {
        guard take(p) else { throw error("expected \(p)") }
    }

    /// `org.example.name`: two or more dot-separated parts.
    mutating func interfaceName() throws(VarlinkSyntaxError) -> String {
        let w = try word()
        let parts = w.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
              w.first?.isLetter == true else { throw error("not an interface name: \(w)") }
        return w
    }

    /// An upper-case name: `DriverState`.
    mutating func typeName() throws(VarlinkSyntaxError) -> String {
        let w = try word()
        guard let f = w.first, f.isUppercase, w.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw error("not a type name: \(w)")
        }
        return w
    }

    /// A field or enum value name: `[A-Za-z](_?[A-Za-z0-9])*`.
    mutating func fieldName() throws(VarlinkSyntaxError) -> String {
        let w = try word()
        guard Self.isFieldName(w) else { throw error("not a field name: \(w)") }
        return w
    }

    static func isFieldName(_ w: String) -> Bool {
        guard let f = w.first, f.isASCII, f.isLetter, !w.hasSuffix("_"), !w.contains("__") else { return false }
        return w.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// `( … )` after `type Name`: a struct, or an enum when its members have no type.
    mutating func typeDefinition() throws(VarlinkSyntaxError) -> VarlinkType {
        try punctuation("(")
        if take(")") { return .struct([]) }
        let first = try fieldName()
        if take(":") {
            let firstType = try type()
            var fs: [VarlinkField] = [VarlinkField(name: first, type: firstType)]
            while take(",") {
                let f = try field()
                fs.append(f)
            }
            try punctuation(")")
            return .struct(fs)
        }
        var names = [first]
        while take(",") { names.append(try fieldName()) }
        try punctuation(")")
        return .enum(names)
    }

    mutating func field() throws(VarlinkSyntaxError) -> VarlinkField {
        let n = try fieldName()
        try punctuation(":")
        let t = try type()
        return VarlinkField(name: n, type: t)
    }

    /// `( name: type, … )` of a method or an error.
    mutating func fields() throws(VarlinkSyntaxError) -> [VarlinkField] {
        let t = try typeDefinition()
        guard case .struct(let fs) = t else { throw error("expected (name: type, …)") }
        return fs
    }

    mutating func type() throws(VarlinkSyntaxError) -> VarlinkType {
        if take("?") {
            let inner = try type()
            if case .optional = inner { throw error("?? is not a type") }
            return .optional(inner)
        }
        if take("[]") { return .array(try type()) }
        if take("[string]()") { return .set }
        if take("[string]") { return .map(try type()) }
        skip()
        if pos < chars.count, chars[pos] == "(" { return try typeDefinition() }
        let w = try word()
        switch w {
        case "bool": return .bool
        case "int": return .int
        case "float": return .float
        case "string": return .string
        case "object": return .object
        default:
            guard let f = w.first, f.isUppercase else { throw error("not a type: \(w)") }
            return .named(w)
        }
    }
}
