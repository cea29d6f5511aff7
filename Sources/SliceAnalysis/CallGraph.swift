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

/// Where a function definition sits in its file and how it is called: what
/// ``SliceHalves`` needs to replace its body with a call across the split.
public struct FunctionShape: Sendable, Equatable {
    /// One parameter: its name, its type as written, and the struct it
    /// points to (nil: not a pointer to a struct).
    public struct Parameter: Sendable, Equatable {
        public let name: String
        public let type: String
        public let pointee: String?
        /// A pointer (a function pointer included).
        public let isPointer: Bool
        /// The struct's size when it is complete (0: not a struct pointer,
        /// or an incomplete one): the stub names it, so that the callee's
        /// copy of one whose fields do not cross still has its bytes.
        public var pointeeSize = 0
        /// The struct holds a pointer (a field, an array's element, an
        /// embedded struct's): its bytes cannot cross as they are.
        public var pointeeHoldsPointers = false
    }

    /// How a value is returned from a stub when the call across failed.
    public enum ValueKind: String, Sendable {
        case void
        /// A signed integer: the negative errno.
        case signed
        /// Anything else (unsigned, enum, bool, pointer, struct): zero.
        case other
    }

    /// The file and the byte offsets of the definition's first token, its
    /// body's `{` and the end of its body (after `}`).
    public let file: String
    public let start: Int
    public let bodyStart: Int
    public let end: Int
    /// The return type as written (`int`, `netdev_tx_t`, `struct x *`).
    public let result: String
    public let resultKind: ValueKind
    public let parameters: [Parameter]
    /// `...` in its parameters: no stub can forward it.
    public let variadic: Bool
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

/// What a struct field holds, as far as marshaling cares.
public enum FieldKind: Sendable, Codable, Equatable {
    /// A spinlock or mutex (taken by handle).
    case lock
    /// `char *`: a string or a buffer.
    case charPointer
    /// `void *`: anything.
    case voidPointer
    /// A pointer to another type; the pointee's size.
    case pointer(pointeeSize: Int)
    /// Everything else: copied by value.
    case value
}

/// A struct field's declaration as the generated Swift types need it.
public struct FieldDecl: Sendable, Codable, Equatable {
    /// `unsigned int`, `struct net_device *`, `u8[6]` (as clang spells it).
    public let cType: String
    /// The Swift type that holds its value: an integer of the same size
    /// and signedness, Bool, UInt64 for a pointer (a handle, never
    /// followed), [UInt8] for arrays and embedded structs.
    public let swiftType: String
    /// For [UInt8]: how many bytes.
    public let byteCount: Int
    /// `file:line` of the declaration.
    public let origin: String
    /// A bitfield: read and set by value, never by address.
    public var isBitField = false
    /// Declared const: never set by a decoder.
    public var isConst = false
    /// A bitfield's offset in its struct and width, in bits.
    public var bitOffset = 0
    public var bitWidth = 0
}

/// A struct member whose type is itself a struct, embedded: where the
/// inner struct's fields live when the driver reaches them through the
/// outer one (`dev->stats.tx_errors`).
public struct EmbeddedMember: Sendable, Equatable, Hashable {
    public let outer: String
    public let member: String
    public let inner: String
}

/// A variable the driver defines at file scope.
public struct DriverGlobal: Sendable, Equatable {
    public let name: String
    public let file: String
    /// The struct it is, or nil.
    public let structName: String?
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
    /// Driver function → struct fields (`STRUCT.field`) it reads, and writes.
    /// A field whose address is taken or that is incremented counts as both.
    public var fieldReads: [String: Set<String>] = [:]
    public var fieldWrites: [String: Set<String>] = [:]
    /// Driver function → fields whose address it only passes on
    /// (`dev_err(&pdev->dev, …)`, `napi_enable(&cp->napi)`): the callee
    /// side needs a handle to the object, not its bytes.
    public var fieldHandles: [String: Set<String>] = [:]
    /// `STRUCT.field` → its size in bytes (arrays whole).
    public var fieldSizes: [String: Int] = [:]
    /// `STRUCT.field` → what kind of value it holds, for the annotations.
    public var fieldKinds: [String: FieldKind] = [:]
    /// `STRUCT.field` → its declaration: C type, Swift type, where it is written.
    public var fieldDecls: [String: FieldDecl] = [:]
    /// Pointer fields the code indexes (`cp->rx_ring[i]`): arrays of unknown length.
    public var indexedFields: Set<String> = []
    /// `__attribute__((annotate("drvslice:…")))` found on fields in the driver's files.
    public var sourceAnnotations: [Annotation] = []
    /// Struct → its size, the structs its pointer fields lead to, and the
    /// structs it embeds: the graph a naive marshaler would copy.
    public var structSizes: [String: Int] = [:]
    public var structPointees: [String: Set<String>] = [:]
    public var structEmbeds: [String: Set<String>] = [:]
    /// Struct members that are structs (not arrays of them), and which
    /// struct names are unions.
    public var embeddedMembers: Set<EmbeddedMember> = []
    public var unionNames: Set<String> = []
    /// The driver's file-scope variable definitions, by name.
    public var globals: [String: DriverGlobal] = [:]
    /// Kernel functions returning `void *` whose result the driver keeps
    /// as a pointer to one of its structs (`struct cp_private *cp =
    /// netdev_priv(dev)`), with those structs: where the private area a
    /// kernel object carries is, and what it is.
    public var privateAccessors: [String: Set<String>] = [:]
    /// The module's init and exit functions (module_init, module_exit,
    /// module_pci_driver): each half keeps them whole, since the kernel's
    /// module and the u-driver's process each run the module's init.
    public var moduleEntries: Set<String> = []
    /// Driver function → where its definition is and its signature.
    public var shapes: [String: FunctionShape] = [:]

    /// Whether `key` is the field the drvdata accessors reach
    /// (`device.driver_data`) and the driver keeps what a getter returns
    /// as a pointer to one of its structs (`struct net_device *dev =
    /// pci_get_drvdata(pdev)`): then the `void *` needs no annotation to
    /// say what it points to.
    public func drvdataPointeeKnown(_ key: String) -> Bool {
        key == "device.driver_data" && ["pci_get_drvdata", "dev_get_drvdata", "serio_get_drvdata", "usb_get_intfdata"]
            .contains { !(privateAccessors[$0] ?? []).isEmpty }
    }

    /// `FUNCTION.PARAMETER` → the function and its parameter (nil: the
    /// driver defines no such function, or it has no such parameter).
    public func parameter(_ dotted: String) -> (String, FunctionShape.Parameter)? {
        let parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let s = shapes[parts[0]], let p = s.parameters.first(where: { $0.name == parts[1] }) else { return nil }
        return (parts[0], p)
    }
    /// Driver function → the structs its parameters point to.
    public var parameterStructs: [String: [String]] = [:]
    /// Errors clang reported inside included headers (analysis went on).
    public var headerErrors: [SourceDiagnostic] = []
    /// Every function called by name (the driver's or the kernel's) → its
    /// C signature as a binding sees it (``DecafBindings``).
    public var calleeSignatures: [String: CSignature] = [:]
    /// Driver function → the embedded struct members it only passes
    /// through (`dev->stats.rx`: `netdev.stats`).
    public var fieldPaths: [String: Set<String>] = [:]
    /// A called function whose name a macro gives it (`inl` written,
    /// `__inl` called) → the name as written.
    public var calleeSpellings: [String: String] = [:]
    /// Driver function → its own signature as a binding sees it.
    public var definedSignatures: [String: CSignature] = [:]
    /// Driver function → the enum constants it names, with their values.
    public var enumConstants: [String: [String: Int64]] = [:]
    /// Driver function → the variables with linkage it names (globals and
    /// file-scope statics; the driver's own are in ``globals``).
    public var globalsUsed: [String: Set<String>] = [:]
    /// Struct field (`STRUCT.field`) → its type as a binding sees it; no
    /// entry: a type a binding cannot carry (a struct by value, a function
    /// pointer).
    public var fieldBindTypes: [String: BindType] = [:]

    public init() {}

    /// Parses `files` with `arguments` (the compiler flags, no file names)
    /// and builds their call graph. Throws ``SliceError`` naming the file
    /// and line when a file does not parse or a header is missing.
    public static func build(files: [String], arguments: [String]) throws -> CallGraph {
        var g = CallGraph()
        for f in files {
            let unit = try ClangUnit(path: f, arguments: arguments)
            var b = Builder(unit: unit, graph: g)
            try b.run()
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
        g.privateAccessors = g.privateAccessors.filter { g.functions[$0.key] == nil }
        g.moduleEntries = g.moduleEntries.filter { g.functions[$0] != nil }
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

    /// The kernel's inline helpers that read or set the driver's own
    /// pointer in a device (`pci_set_drvdata(pdev, dev)` is
    /// `pdev->dev.driver_data = dev`). Their bodies' field accesses count as
    /// the caller's, so that `device.driver_data` crosses like any field
    /// the driver sets: a u-driver that adopts the device gets it back with
    /// the kernel's objects, and the driver's remove and PM callbacks find
    /// their net_device or card. Other inline helpers (netif_*, skb_*) are
    /// not opened: what they touch is the kernel's own, and the kernel API
    /// serves them.
    static let driverDataAccessors: Set<String> = [
        "dev_get_drvdata", "dev_set_drvdata", "pci_get_drvdata", "pci_set_drvdata",
        "serio_get_drvdata", "serio_set_drvdata", "usb_get_intfdata", "usb_set_intfdata",
    ]

    /// How an expression below is used.
    /// `path`: a member only passed through to reach one inside it
    /// (`dev->dev.parent`: `dev` is a path, `parent` is accessed).
    enum Access { case read, write, readWrite, handle, path }

    /// Past parentheses and implicit casts.
    func unwrap(_ c: CXCursor) -> CXCursor? {
        var cur = c
        while clang_getCursorKind(cur) == CXCursor_UnexposedExpr || clang_getCursorKind(cur) == CXCursor_ParenExpr {
            guard let k = ClangUnit.children(cur).first else { return nil }
            cur = k
        }
        return cur
    }

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

    mutating func run() throws {
        for c in ClangUnit.children(unit.root) where isDriverCode(c) {
            switch clang_getCursorKind(c) {
            case CXCursor_FunctionDecl where clang_isCursorDefinition(c) != 0:
                let name = ClangUnit.spelling(c)
                if isMacroGenerated(c, name) {
                    // module_init(fn)/module_exit(fn) expand to __inittest/
                    // __exittest returning fn, and init_module/cleanup_module
                    // aliased to it.
                    if name == "__inittest" || name == "__exittest" { moduleEntries(c) }
                    continue
                }
                let ext = clang_getCursorExtent(c)
                let (file, start, _) = ClangUnit.place(clang_getRangeStart(ext))
                let (_, end, _) = ClangUnit.place(clang_getRangeEnd(ext))
                graph.functions[name] = DriverFunction(name: name, file: file, line: start, endLine: max(start, end))
                var params: [String] = []
                let ft = clang_getCursorType(c)
                for i in 0..<max(0, Int(clang_getNumArgTypes(ft))) {
                    if let s = pointee(clang_getArgType(ft, UInt32(i))) { params.append(s) }
                }
                graph.parameterStructs[name] = params
                if let shape = shape(of: c, file: file) { graph.shapes[name] = shape }
                if let sig = signature(ft) { graph.definedSignatures[name] = sig }
                walk(c, in: name, .none)
            case CXCursor_VarDecl:
                // A definition, tentative ones (`static int ring[8];`) included.
                if clang_Cursor_getStorageClass(c) != CX_SC_Extern, clang_getCursorLinkage(c) != CXLinkage_NoLinkage {
                    let name = ClangUnit.spelling(c), file = ClangUnit.place(clang_getCursorLocation(c)).0
                    let t = clang_getCanonicalType(clang_getCursorType(c))
                    if !name.isEmpty, !isMacroGenerated(c, name) {
                        graph.globals[name] = DriverGlobal(name: name, file: file,
                                                           structName: t.kind == CXType_Record ? structInfo(t) : nil)
                    }
                }
                walk(c, in: nil, .none)
            case CXCursor_StructDecl, CXCursor_UnionDecl:
                try collectAnnotations(c)
            default:
                break
            }
        }
    }

    /// The driver functions a macro-made module init/exit test names.
    mutating func moduleEntries(_ c: CXCursor) {
        var work = [c]
        while let cur = work.popLast() {
            if clang_getCursorKind(cur) == CXCursor_DeclRefExpr {
                let target = clang_getCursorReferenced(cur)
                if clang_getCursorKind(target) == CXCursor_FunctionDecl {
                    graph.moduleEntries.insert(ClangUnit.spelling(target))
                }
            }
            work += ClangUnit.children(cur)
        }
    }

    /// `T *x = f(...)` with f a kernel function returning `void *` and T a
    /// struct: f gives the driver's T.
    mutating func privateAccess(_ target: CXType, _ value: CXCursor) {
        let t = clang_getCanonicalType(target)
        guard t.kind == CXType_Pointer else { return }
        let pointee = clang_getCanonicalType(clang_getPointeeType(t))
        guard pointee.kind == CXType_Record, let call = unwrap(value), clang_getCursorKind(call) == CXCursor_CallExpr else { return }
        let callee = clang_getCursorReferenced(call)
        guard !ClangUnit.isNull(callee), clang_getCursorKind(callee) == CXCursor_FunctionDecl else { return }
        let result = clang_getCanonicalType(clang_getResultType(clang_getCursorType(callee)))
        guard result.kind == CXType_Pointer, clang_getCanonicalType(clang_getPointeeType(result)).kind == CXType_Void else { return }
        let name = ClangUnit.spelling(callee)
        guard graph.functions[name] == nil, !name.isEmpty, let s = structInfo(pointee) else { return }
        graph.privateAccessors[name, default: []].insert(s)
    }

    /// A definition's place and signature; nil when its body is not in
    /// the file as written (a macro made it).
    func shape(of c: CXCursor, file: String) -> FunctionShape? {
        func offset(_ loc: CXSourceLocation) -> (String, Int) {
            var f: CXFile?
            var line: UInt32 = 0, col: UInt32 = 0, off: UInt32 = 0
            clang_getExpansionLocation(loc, &f, &line, &col, &off)
            return (f.map { ClangUnit.string(clang_getFileName($0)) } ?? "", Int(off))
        }
        guard let body = ClangUnit.children(c).last(where: { clang_getCursorKind($0) == CXCursor_CompoundStmt }) else { return nil }
        let ext = clang_getCursorExtent(c), bext = clang_getCursorExtent(body)
        let (f0, start) = offset(clang_getRangeStart(ext))
        let (f1, bodyStart) = offset(clang_getRangeStart(bext))
        let (f2, end) = offset(clang_getRangeEnd(bext))
        guard f0 == file, f1 == file, f2 == file, start <= bodyStart, bodyStart < end else { return nil }
        let ft = clang_getCursorType(c)
        let rt = clang_getResultType(ft)
        let canonical = clang_getCanonicalType(rt)
        let kind: FunctionShape.ValueKind
        switch canonical.kind {
        case CXType_Void: kind = .void
        case CXType_Char_S, CXType_SChar, CXType_Short, CXType_Int, CXType_Long, CXType_LongLong: kind = .signed
        default: kind = .other
        }
        var params: [FunctionShape.Parameter] = []
        for i in 0..<max(0, Int(clang_Cursor_getNumArguments(c))) {
            let a = clang_Cursor_getArgument(c, UInt32(i))
            let t = clang_getCursorType(a), c = clang_getCanonicalType(t)
            let p = c.kind == CXType_Pointer ? clang_getCanonicalType(clang_getPointeeType(c)) : c
            var param = FunctionShape.Parameter(name: ClangUnit.spelling(a), type: ClangUnit.string(clang_getTypeSpelling(t)),
                                                pointee: c.kind == CXType_Pointer && p.kind == CXType_Record ? ClangUnit.structName(p) : nil,
                                                isPointer: c.kind == CXType_Pointer)
            if param.pointee != nil {
                param.pointeeSize = max(0, Int(clang_Type_getSizeOf(p)))
                param.pointeeHoldsPointers = Self.holdsPointer(p)
            }
            params.append(param)
        }
        return FunctionShape(file: file, start: start, bodyStart: bodyStart, end: end,
                             result: ClangUnit.string(clang_getTypeSpelling(rt)), resultKind: kind,
                             parameters: params, variadic: clang_isFunctionTypeVariadic(ft) != 0)
    }

    mutating func walk(_ c: CXCursor, in fn: String?, _ ctx: Context, access: Access = .read) {
        switch clang_getCursorKind(c) {
        case CXCursor_MemberRefExpr:
            if let fn { field(c, in: fn, access) }
            for k in ClangUnit.children(c) {
                // The base: an embedded struct member on the way is a path.
                if let m = unwrap(k), clang_getCursorKind(m) == CXCursor_MemberRefExpr,
                   clang_getCanonicalType(clang_getCursorType(m)).kind == CXType_Record {
                    walk(m, in: fn, ctx, access: .path)
                } else {
                    walk(k, in: fn, ctx)
                }
            }
            return
        case CXCursor_CompoundAssignOperator:
            let kids = ClangUnit.children(c)
            if kids.count == 2 {
                walk(kids[0], in: fn, .none, access: .readWrite)
                walk(kids[1], in: fn, .none)
                return
            }
        case CXCursor_UnaryOperator:
            let t = unit.tokens(c)
            if t.first == "&", let m = ClangUnit.children(c).first.flatMap(unwrap),
               clang_getCursorKind(m) == CXCursor_MemberRefExpr {
                // &x->field: a handle to the field's object is passed on.
                walk(m, in: fn, ctx, access: .handle)
                return
            }
            if t.first == "++" || t.first == "--" || t.first == "&" || t.last == "++" || t.last == "--" {
                for k in ClangUnit.children(c) { walk(k, in: fn, ctx, access: .readWrite) }
                return
            }
        case CXCursor_ArraySubscriptExpr:
            let kids = ClangUnit.children(c)
            if let first = kids.first, let base = unwrap(first), clang_getCursorKind(base) == CXCursor_MemberRefExpr {
                let kind = clang_getCanonicalType(clang_getCursorType(base)).kind
                if kind == CXType_Pointer {
                    // p->ring[i] with ring a pointer: an array of unknown length.
                    let decl = clang_getCursorReferenced(base)
                    if !ClangUnit.isNull(decl), clang_getCursorKind(decl) == CXCursor_FieldDecl {
                        let s = ClangUnit.structName(clang_getCursorType(clang_getCursorSemanticParent(decl)))
                        graph.indexedFields.insert("\(s).\(ClangUnit.spelling(decl))")
                    }
                } else if access != .read {
                    // p->mac[0] = 2: an element of an array field is written,
                    // so the field is (read whole and) written back whole.
                    walk(base, in: fn, ctx, access: .readWrite)
                    for k in kids.dropFirst() { walk(k, in: fn, ctx) }
                    return
                }
            }
        case CXCursor_ParenExpr, CXCursor_UnexposedExpr:
            // Keeps the access of what it wraps: (x->f) = 1.
            for k in ClangUnit.children(c) { walk(k, in: fn, ctx, access: access) }
            return
        case CXCursor_CallExpr:
            call(c, in: fn)
            return
        case CXCursor_VarDecl where fn != nil:
            // `struct cp_private *cp = netdev_priv(dev);`
            if let initializer = ClangUnit.children(c).last { privateAccess(clang_getCursorType(c), initializer) }
        case CXCursor_InitListExpr:
            let s = ClangUnit.structName(clang_getCursorType(c))
            let inner = Context.initializer(s, designators(unit.tokens(c)))
            for k in ClangUnit.children(c) { walk(k, in: fn, inner) }
            return
        case CXCursor_BinaryOperator:
            let kids = ClangUnit.children(c)
            if kids.count == 2 {
                // `=`: the operator token follows the left side's tokens.
                // Only a struct field on the left makes it matter; other
                // expressions are not tokenized (nested ones would be, over
                // and over).
                let lhsKind = unwrap(kids[0]).map(clang_getCursorKind)
                var assigns = false
                if lhsKind == CXCursor_MemberRefExpr || lhsKind == CXCursor_ArraySubscriptExpr {
                    let lhsCount = unit.tokens(kids[0]).count
                    let all = unit.tokens(c)
                    assigns = lhsCount < all.count && all[lhsCount] == "="
                }
                if fn != nil, unwrap(kids[0]).map(clang_getCursorKind) == CXCursor_DeclRefExpr {
                    privateAccess(clang_getCursorType(kids[0]), kids[1])
                }
                walk(kids[0], in: fn, .none, access: assigns ? .write : .read)
                if let (s, f) = member(kids[0]) {
                    walk(kids[1], in: fn, .field(s, f))
                } else {
                    walk(kids[1], in: fn, ctx)
                }
                return
            }
        case CXCursor_DeclRefExpr:
            let target = clang_getCursorReferenced(c)
            if clang_getCursorKind(target) == CXCursor_FunctionDecl {
                reference(ClangUnit.spelling(target), at: c, in: fn, ctx)
            } else if let fn, clang_getCursorKind(target) == CXCursor_EnumConstantDecl {
                graph.enumConstants[fn, default: [:]][ClangUnit.spelling(target)] = clang_getEnumConstantDeclValue(target)
            } else if let fn, clang_getCursorKind(target) == CXCursor_VarDecl,
                      clang_getCursorLinkage(target) != CXLinkage_NoLinkage {
                graph.globalsUsed[fn, default: []].insert(ClangUnit.spelling(target))
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
            if graph.calleeSignatures[n] == nil { graph.calleeSignatures[n] = signature(clang_getCursorType(callee)) }
            // A macro may name it without its leading underscores (x86's
            // inl is __inl, dev_err calls _dev_err): the name as written at
            // a call is what other code can call. (Any other name there is
            // a macro around the call: cpr8.)
            if n.hasPrefix("_"), graph.calleeSpellings[n] == nil, let w = unit.identifier(at: clang_getCursorLocation(c)),
               w != n, n.hasSuffix(w), n.dropLast(w.count).allSatisfy({ $0 == "_" }) {
                graph.calleeSpellings[n] = w
            }
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
        let calleeType = ClangUnit.isNull(callee) ? nil : Optional(clang_getCursorType(callee))
        for (i, a) in argCursors.enumerated() {
            // An array member passed where the callee takes a pointer to
            // non-const (strscpy(info->driver, …), memcpy_fromio(cp->buf, …)):
            // the callee may write it, so it is written (and read) whole.
            if let fn, let t = calleeType, i < Int(clang_getNumArgTypes(t)),
               let m = unwrap(a), clang_getCursorKind(m) == CXCursor_MemberRefExpr,
               clang_getCanonicalType(clang_getCursorType(m)).kind == CXType_ConstantArray {
                let p = clang_getCanonicalType(clang_getArgType(t, UInt32(i)))
                if p.kind == CXType_Pointer, clang_isConstQualifiedType(clang_getPointeeType(p)) == 0 {
                    walk(m, in: fn, name.map { .argument($0, i) } ?? .none, access: .readWrite)
                    continue
                }
            }
            walk(a, in: fn, name.map { .argument($0, i) } ?? .none)
        }
        // The callee expression of an indirect call may itself hold calls.
        if name == nil, let first = ClangUnit.children(c).first { walk(first, in: fn, .none) }
        if let fn, let n = name, Self.driverDataAccessors.contains(n) { accessorBody(callee, for: fn) }
    }

    /// The body of a ``driverDataAccessors`` helper, walked as `fn`'s
    /// code for its field accesses (and the helpers it calls in turn);
    /// the kernel functions it calls are not `fn`'s (they are inline in
    /// the headers, not the kernel API's).
    mutating func accessorBody(_ callee: CXCursor, for fn: String) {
        let def = clang_getCursorDefinition(callee)
        guard !ClangUnit.isNull(def), let body = ClangUnit.children(def).last,
              clang_getCursorKind(body) == CXCursor_CompoundStmt else { return }
        let calls = graph.kernelCalls[fn]
        walk(body, in: fn, .none)
        graph.kernelCalls[fn] = calls
    }

    /// Records a struct field access of `fn`, with the field's size.
    mutating func field(_ c: CXCursor, in fn: String, _ access: Access) {
        let decl = clang_getCursorReferenced(c)
        guard !ClangUnit.isNull(decl), clang_getCursorKind(decl) == CXCursor_FieldDecl else { return }
        let s = ClangUnit.structName(clang_getCursorType(clang_getCursorSemanticParent(decl)))
        let key = "\(s).\(ClangUnit.spelling(decl))"
        switch access {
        case .read: graph.fieldReads[fn, default: []].insert(key)
        case .write: graph.fieldWrites[fn, default: []].insert(key)
        case .readWrite:
            graph.fieldReads[fn, default: []].insert(key)
            graph.fieldWrites[fn, default: []].insert(key)
        case .handle: graph.fieldHandles[fn, default: []].insert(key)
        case .path:
            // Only passed through (an embedded struct on the way): no
            // size or kind of its own to record.
            graph.fieldPaths[fn, default: []].insert(key)
            return
        }
        if graph.fieldSizes[key] == nil {
            let t = clang_getCanonicalType(clang_getCursorType(decl))
            graph.fieldSizes[key] = max(0, Int(clang_Type_getSizeOf(t)))
            graph.fieldKinds[key] = Self.kind(of: t)
            let (file, line, _) = ClangUnit.place(clang_getCursorLocation(decl))
            let size = max(0, Int(clang_Type_getSizeOf(t)))
            var fd = FieldDecl(cType: ClangUnit.string(clang_getTypeSpelling(clang_getCursorType(decl))),
                               swiftType: Self.swiftType(t, size: size), byteCount: size,
                               origin: "\((file as NSString).lastPathComponent):\(line)")
            fd.isBitField = clang_Cursor_isBitField(decl) != 0
            fd.isConst = clang_isConstQualifiedType(clang_getCursorType(decl)) != 0
            if fd.isBitField {
                fd.bitOffset = max(0, Int(clang_Cursor_getOffsetOfField(decl)))
                fd.bitWidth = max(0, Int(clang_getFieldDeclBitWidth(decl)))
            }
            graph.fieldDecls[key] = fd
            if let b = Self.bindType(t) { graph.fieldBindTypes[key] = b }
        }
        _ = structInfo(clang_getCursorType(clang_getCursorSemanticParent(decl)))
    }

    /// A function type's signature for a binding; nil without a prototype.
    func signature(_ ft: CXType) -> CSignature? {
        let n = Int(clang_getNumArgTypes(ft))
        guard n >= 0 else { return nil }
        return CSignature(result: Self.bindType(clang_getResultType(ft)),
                          parameters: (0..<n).map { Self.bindType(clang_getArgType(ft, UInt32($0))) },
                          variadic: clang_isFunctionTypeVariadic(ft) != 0)
    }

    /// `t` as a binding between C and Swift carries it; nil: it cannot (a
    /// struct or union by value, a function pointer, a floating type).
    static func bindType(_ type: CXType) -> BindType? {
        let t = clang_getCanonicalType(type)
        switch t.kind {
        case CXType_Void: return .void
        case CXType_Bool: return .bool
        case CXType_Char_S, CXType_SChar, CXType_Short, CXType_Int, CXType_Long, CXType_LongLong:
            let n = Int(clang_Type_getSizeOf(t))
            return [1, 2, 4, 8].contains(n) ? .integer(bits: n * 8, signed: true) : nil
        case CXType_Char_U, CXType_UChar, CXType_UShort, CXType_UInt, CXType_ULong, CXType_ULongLong:
            let n = Int(clang_Type_getSizeOf(t))
            return [1, 2, 4, 8].contains(n) ? .integer(bits: n * 8, signed: false) : nil
        case CXType_Enum:
            return bindType(clang_getEnumDeclIntegerType(clang_getTypeDeclaration(t)))
        case CXType_Pointer:
            let p = clang_getCanonicalType(clang_getPointeeType(t))
            switch p.kind {
            case CXType_FunctionProto, CXType_FunctionNoProto: return nil
            case CXType_Record: return .pointer(pointee: ClangUnit.structName(p))
            case CXType_Char_S where clang_isConstQualifiedType(p) != 0, CXType_Char_U where clang_isConstQualifiedType(p) != 0:
                return .string
            default: return .pointer(pointee: nil)
            }
        case CXType_ConstantArray:
            let n = Int(clang_Type_getSizeOf(t))
            return n > 0 ? .array(bytes: n) : nil
        default:
            return nil
        }
    }

    /// The Swift type for a C field of canonical type `t`.
    static func swiftType(_ t: CXType, size: Int) -> String {
        let signed: Set<UInt32> = [CXType_Char_S.rawValue, CXType_SChar.rawValue, CXType_Short.rawValue, CXType_Int.rawValue,
                                   CXType_Long.rawValue, CXType_LongLong.rawValue]
        let unsigned: Set<UInt32> = [CXType_UChar.rawValue, CXType_UShort.rawValue, CXType_UInt.rawValue, CXType_ULong.rawValue,
                                     CXType_ULongLong.rawValue, CXType_Enum.rawValue]
        if t.kind == CXType_Bool { return "Bool" }
        if t.kind == CXType_Pointer { return "UInt64" }
        if [1, 2, 4, 8].contains(size), signed.contains(t.kind.rawValue) { return "Int\(size * 8)" }
        if [1, 2, 4, 8].contains(size), unsigned.contains(t.kind.rawValue) { return "UInt\(size * 8)" }
        return "[UInt8]"
    }

    static func kind(of t: CXType) -> FieldKind {
        if t.kind == CXType_Record {
            let n = ClangUnit.structName(t)
            if ["spinlock", "raw_spinlock", "mutex", "rw_semaphore"].contains(n) { return .lock }
            return .value
        }
        guard t.kind == CXType_Pointer else { return .value }
        let p = clang_getCanonicalType(clang_getPointeeType(t))
        switch p.kind {
        case CXType_Void: return .voidPointer
        case CXType_Char_S, CXType_Char_U, CXType_SChar, CXType_UChar: return .charPointer
        default: return .pointer(pointeeSize: max(0, Int(clang_Type_getSizeOf(p))))
        }
    }

    /// Struct fields declared in the driver's own files with our
    /// annotate attribute.
    mutating func collectAnnotations(_ record: CXCursor) throws {
        let sname = ClangUnit.structName(clang_getCursorType(record))
        for f in ClangUnit.children(record) where clang_getCursorKind(f) == CXCursor_FieldDecl {
            for a in ClangUnit.children(f) where clang_getCursorKind(a) == CXCursor_AnnotateAttr {
                let (file, line, _) = ClangUnit.place(clang_getCursorLocation(a))
                do {
                    if let (k, arg) = try Annotation.parseAttribute(ClangUnit.spelling(a)) {
                        graph.sourceAnnotations.append(Annotation(kind: k, field: "\(sname).\(ClangUnit.spelling(f))",
                                                                  argument: arg, origin: "\(file):\(line)"))
                    }
                } catch let e as SliceError {
                    throw SliceError("\(file):\(line): \(e.description)")
                }
            }
        }
    }

    /// The struct a pointer type points to (`struct net_device *` → net_device).
    mutating func pointee(_ t: CXType) -> String? {
        let c = clang_getCanonicalType(t)
        guard c.kind == CXType_Pointer else { return nil }
        let p = clang_getCanonicalType(clang_getPointeeType(c))
        guard p.kind == CXType_Record else { return nil }
        return structInfo(p)
    }

    /// The field declarations of the record type `c`, in order.
    static func fields(of c: CXType) -> [CXCursor] {
        var fields: [CXCursor] = []
        withUnsafeMutablePointer(to: &fields) { p in
            _ = clang_Type_visitFields(c, { f, data in
                data?.assumingMemoryBound(to: [CXCursor].self).pointee.append(f)
                return CXVisit_Continue
            }, p)
        }
        return fields
    }

    /// Whether the struct `t` holds a pointer in a field, an array's
    /// element or an embedded struct (past 8 levels: assumed so).
    static func holdsPointer(_ t: CXType, depth: Int = 0) -> Bool {
        guard depth < 8 else { return true }
        for f in fields(of: clang_getCanonicalType(t)) {
            var x = clang_getCanonicalType(clang_getCursorType(f))
            while x.kind == CXType_ConstantArray || x.kind == CXType_IncompleteArray {
                x = clang_getCanonicalType(clang_getArrayElementType(x))
            }
            if x.kind == CXType_Pointer || x.kind == CXType_BlockPointer { return true }
            if x.kind == CXType_Record, holdsPointer(x, depth: depth + 1) { return true }
        }
        return false
    }

    /// Records `t`'s size and the structs its pointer fields lead to, once
    /// per struct (and, through them, everything reachable); its name.
    @discardableResult
    mutating func structInfo(_ t: CXType) -> String? {
        let c = clang_getCanonicalType(t)
        guard c.kind == CXType_Record else { return nil }
        let name = ClangUnit.structName(c)
        if graph.structSizes[name] != nil { return name }
        graph.structSizes[name] = max(0, Int(clang_Type_getSizeOf(c)))
        let fieldCursors = Self.fields(of: c)
        if clang_getCursorKind(clang_getTypeDeclaration(c)) == CXCursor_UnionDecl { graph.unionNames.insert(name) }
        var pointees: Set<String> = [], embeds: Set<String> = []
        for f in fieldCursors {
            let ft = clang_getCursorType(f)
            let direct = clang_getCanonicalType(ft)
            if direct.kind == CXType_Record, let n = structInfo(direct) {
                graph.embeddedMembers.insert(EmbeddedMember(outer: name, member: ClangUnit.spelling(f), inner: n))
            }
            var x = clang_getCanonicalType(ft)
            while x.kind == CXType_ConstantArray { x = clang_getCanonicalType(clang_getArrayElementType(x)) }
            if x.kind == CXType_Pointer {
                let p = clang_getCanonicalType(clang_getPointeeType(x))
                if p.kind == CXType_Record, let n = structInfo(p) { pointees.insert(n) }
            } else if x.kind == CXType_Record, let n = structInfo(x) {
                embeds.insert(n) // its bytes are in the parent's size
            }
        }
        graph.structPointees[name] = pointees
        graph.structEmbeds[name] = embeds
        return name
    }

    /// `x->field` / `x.field` on the left of an assignment: (struct, field).
    func member(_ c: CXCursor) -> (String, String)? {
        guard let cur = unwrap(c), clang_getCursorKind(cur) == CXCursor_MemberRefExpr else { return nil }
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
