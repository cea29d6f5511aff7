// SPDX-License-Identifier: GPL-2.0
import CClang
import Foundation

/// A function the driver defines.
public struct DriverFunction: Sendable, Equatable, Codable {
    public let name: String
    public let file: String
    public let line: Int
    public let endLine: Int
    /// Lines of its definition, braces included.
    public var lines: Int { endLine - line + 1 }
}

/// Where a function's address is taken: that is how the kernel gets to
/// call it (an ops table, a registration call, a field set at run time).
public enum ReferenceContext: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `.field = fn` in an initializer of `struct`, or `x->field = fn`.
    case field(structName: String, field: String)
    /// Passed as argument `index` (from 0) to `function`.
    case argument(function: String, index: Int)
    /// Anything else (returned, stored in a variable, an initializer the
    /// tool could not read): the function is reported as unclassified.
    case other(String)

    public var description: String {
        switch self {
        case .field(let s, let f): return "\(s).\(f)"
        case .argument(let fn, let i): return "\(fn)() argument \(i)"
        case .other(let why): return why
        }
    }
}

/// One place a driver function's address is taken.
public struct FunctionReference: Sendable, Equatable, Codable {
    public let function: String
    public let context: ReferenceContext
    public let file: String
    public let line: Int
}

/// The driver's call graph: direct calls between its functions, calls out
/// to the kernel, calls through pointers, and every reference by which the
/// kernel reaches a driver function.
public struct CallGraph: Sendable {
    public var functions: [String: DriverFunction] = [:]
    /// Driver function → driver functions it calls directly.
    public var calls: [String: Set<String>] = [:]
    /// Driver function → kernel functions (not defined in the driver) it calls.
    public var kernelCalls: [String: Set<String>] = [:]
    /// Driver function → calls through a function pointer it makes that
    /// could not be resolved.
    public var indirectCalls: [String: Int] = [:]
    /// Driver function → the struct fields it calls through (`adapter->clean_rx(…)`).
    /// Each is resolved to the driver functions stored in that field.
    public var fieldCalls: [String: Set<String>] = [:]
    public var references: [FunctionReference] = []
    /// Errors clang reported inside included headers (analysis went on).
    public var headerErrors: [SourceDiagnostic] = []

    public init() {}

    /// Parses `files` with `arguments` (the compiler flags, no file names)
    /// and builds their call graph. Throws ``SliceError`` naming the file
    /// and line when a file does not parse or a header is missing.
    public static func build(files: [String], arguments: [String]) throws -> CallGraph {
        var g = CallGraph()
        for f in files {
            let unit = try ClangUnit(path: f, arguments: arguments)
            var b = Builder(unit: unit, graph: g)
            b.run()
            g = b.graph
            g.headerErrors += unit.headerErrors
        }
        // Calls recorded before their callee's definition was seen.
        for (caller, callees) in g.kernelCalls {
            let local = callees.filter { g.functions[$0] != nil }
            guard !local.isEmpty else { continue }
            g.kernelCalls[caller]?.subtract(local)
            g.calls[caller, default: []].formUnion(local)
        }
        g.references.removeAll { g.functions[$0.function] == nil }
        // Calls through a struct field the driver itself fills (e1000's
        // adapter->clean_rx, pcnet32's lp->a->read_csr): an edge to every
        // driver function stored in that field.
        var stored: [String: Set<String>] = [:]
        for r in g.references {
            if case .field(let s, let f) = r.context { stored["\(s).\(f)", default: []].insert(r.function) }
        }
        for (caller, fields) in g.fieldCalls {
            for f in fields {
                if let targets = stored[f], !targets.isEmpty {
                    g.calls[caller, default: []].formUnion(targets)
                } else {
                    g.indirectCalls[caller, default: 0] += 1
                }
            }
        }
        return g
    }
}

/// Walks one translation unit's own declarations (not the headers').
private struct Builder {
    let unit: ClangUnit
    var graph: CallGraph

    /// What an expression found below is part of.
    enum Context {
        case none
        case field(String, String)
        case argument(String, Int)
        /// Inside an initializer list of `struct`, with `designators`:
        /// function name → the field its `.field = fn` sets.
        case initializer(String, [String: String])
    }

    init(unit: ClangUnit, graph: CallGraph) {
        self.unit = unit
        self.graph = graph
    }

    /// The driver's own code: in the file parsed or in a .c file it
    /// includes (uhci-hcd.c includes uhci-q.c, uhci-hub.c, ...), not in
    /// the headers.
    func isDriverCode(_ c: CXCursor) -> Bool {
        let loc = clang_getCursorLocation(c)
        return clang_Location_isFromMainFile(loc) != 0 || ClangUnit.place(loc).0.hasSuffix(".c")
    }

    /// A function a macro generated where it was used (module_param's
    /// __check_*, module_init's __inittest): its name is not among the
    /// tokens written there. (LLVM 14's clang_getSpellingLocation gives
    /// the expansion location, so the spelling cannot tell.)
    func isMacroGenerated(_ c: CXCursor, _ name: String) -> Bool {
        !unit.tokens(c).contains(name)
    }

    mutating func run() {
        for c in ClangUnit.children(unit.root) where isDriverCode(c) {
            switch clang_getCursorKind(c) {
            case CXCursor_FunctionDecl where clang_isCursorDefinition(c) != 0:
                let name = ClangUnit.spelling(c)
                if isMacroGenerated(c, name) { continue }
                let ext = clang_getCursorExtent(c)
                let (file, start, _) = ClangUnit.place(clang_getRangeStart(ext))
                let (_, end, _) = ClangUnit.place(clang_getRangeEnd(ext))
                graph.functions[name] = DriverFunction(name: name, file: file, line: start, endLine: max(start, end))
                walk(c, in: name, .none)
            case CXCursor_VarDecl:
                walk(c, in: nil, .none)
            default:
                break
            }
        }
    }

    mutating func walk(_ c: CXCursor, in fn: String?, _ ctx: Context) {
        switch clang_getCursorKind(c) {
        case CXCursor_CallExpr:
            call(c, in: fn)
            return
        case CXCursor_InitListExpr:
            let s = ClangUnit.structName(clang_getCursorType(c))
            let inner = Context.initializer(s, designators(unit.tokens(c)))
            for k in ClangUnit.children(c) { walk(k, in: fn, inner) }
            return
        case CXCursor_BinaryOperator:
            let kids = ClangUnit.children(c)
            if kids.count == 2, let (s, f) = member(kids[0]) {
                walk(kids[0], in: fn, .none)
                walk(kids[1], in: fn, .field(s, f))
                return
            }
        case CXCursor_DeclRefExpr:
            let target = clang_getCursorReferenced(c)
            if clang_getCursorKind(target) == CXCursor_FunctionDecl {
                reference(ClangUnit.spelling(target), at: c, in: fn, ctx)
            }
        default:
            break
        }
        for k in ClangUnit.children(c) { walk(k, in: fn, ctx) }
    }

    /// A call: an edge to its callee (driver or kernel) or an indirect
    /// call; its arguments are walked with their position, so a function
    /// passed to `request_irq` is known as request_irq's argument 1.
    mutating func call(_ c: CXCursor, in fn: String?) {
        let callee = clang_getCursorReferenced(c)
        var name: String?
        if !ClangUnit.isNull(callee), clang_getCursorKind(callee) == CXCursor_FunctionDecl {
            let n = ClangUnit.spelling(callee)
            name = n
            if let fn {
                if graph.functions[n] != nil {
                    graph.calls[fn, default: []].insert(n)
                } else {
                    graph.kernelCalls[fn, default: []].insert(n)
                }
            }
        } else if let fn {
            // Through a pointer: a struct field can be resolved later.
            if let first = ClangUnit.children(c).first, let (s, f) = member(first) {
                graph.fieldCalls[fn, default: []].insert("\(s).\(f)")
            } else {
                graph.indirectCalls[fn, default: 0] += 1
            }
        }
        let n = Int(clang_Cursor_getNumArguments(c))
        var argCursors: [CXCursor] = []
        for i in 0..<max(n, 0) { argCursors.append(clang_Cursor_getArgument(c, UInt32(i))) }
        for (i, a) in argCursors.enumerated() {
            walk(a, in: fn, name.map { .argument($0, i) } ?? .none)
        }
        // The callee expression of an indirect call may itself hold calls.
        if name == nil, let first = ClangUnit.children(c).first { walk(first, in: fn, .none) }
    }

    /// `x->field` / `x.field` on the left of an assignment: (struct, field).
    func member(_ c: CXCursor) -> (String, String)? {
        var cur = c
        while clang_getCursorKind(cur) == CXCursor_UnexposedExpr || clang_getCursorKind(cur) == CXCursor_ParenExpr {
            guard let k = ClangUnit.children(cur).first else { return nil }
            cur = k
        }
        guard clang_getCursorKind(cur) == CXCursor_MemberRefExpr else { return nil }
        let field = clang_getCursorReferenced(cur)
        guard !ClangUnit.isNull(field), clang_getCursorKind(field) == CXCursor_FieldDecl else { return nil }
        let parent = clang_getCursorSemanticParent(field)
        return (ClangUnit.structName(clang_getCursorType(parent)), ClangUnit.spelling(field))
    }

    mutating func reference(_ name: String, at c: CXCursor, in fn: String?, _ ctx: Context) {
        let (file, line, _) = ClangUnit.place(clang_getCursorLocation(c))
        let context: ReferenceContext
        switch ctx {
        case .field(let s, let f): context = .field(structName: s, field: f)
        case .argument(let callee, let i): context = .argument(function: callee, index: i)
        case .initializer(let s, let d):
            // A table written by a macro (SIMPLE_DEV_PM_OPS) shows no
            // designators: the field is unknown, the struct is not.
            context = .field(structName: s, field: d[name] ?? "(positional)")
        case .none: context = .other(fn.map { "address taken in \($0)()" } ?? "address taken at file scope")
        }
        graph.references.append(FunctionReference(function: name, context: context, file: file, line: line))
    }

    /// `.a.b = &fn` in an initializer's tokens → ["fn": "a.b"]. Kernel code
    /// initialises ops tables with designators; a table written in a macro
    /// (SIMPLE_DEV_PM_OPS) shows only the macro's tokens and is reported.
    func designators(_ t: [String]) -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < t.count {
            guard t[i] == "." else { i += 1; continue }
            var path: [String] = []
            var j = i
            while j + 1 < t.count, t[j] == "." {
                path.append(t[j + 1])
                j += 2
            }
            guard j < t.count, t[j] == "=" else { i += 1; continue }
            j += 1
            if j < t.count, t[j] == "&" { j += 1 }
            if j < t.count, j + 1 >= t.count || t[j + 1] == "," || t[j + 1] == "}" {
                if out[t[j]] == nil { out[t[j]] = path.joined(separator: ".") }
            }
            i = j
        }
        return out
    }
}
