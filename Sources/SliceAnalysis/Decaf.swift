// SPDX-License-Identifier: GPL-2.0
import Foundation

/// A C type as a binding between a driver's C and Swift carries it.
public enum BindType: Sendable, Equatable, Hashable, Codable {
    case void
    case bool
    case integer(bits: Int, signed: Bool)
    /// A data pointer; `pointee` is the struct it points to (`cp_private`).
    case pointer(pointee: String?)
    /// `const char *`: a NUL-terminated string.
    case string
    /// An array member, reached through its address (`u8 mac[6]`: 6 bytes).
    case array(bytes: Int)
}

/// A called function's signature as a binding sees it: nil where a type
/// cannot cross (a struct by value, a function pointer).
public struct CSignature: Sendable, Equatable, Codable {
    public let result: BindType?
    public let parameters: [BindType?]
    public let variadic: Bool
}

/// Decaf's step (ATC'09): functions of a sliced driver's user half move to
/// Swift one at a time, the rest of the C calling them and being called by
/// them through generated bindings (`driverslicer --halves DIR --decaf
/// FN,...`).
///
/// For each function moved, the user half keeps its C signature with a
/// body that calls `slice_NAME_swift_FN`, which the driver author writes in
/// Swift (`@_cdecl`, generated as a shim over a typed Swift function of the
/// function's own name). What the function's C reached, its Swift reaches
/// through the bindings, which the tool derives from the C as it was:
/// - every struct field it reads or writes: a getter and a setter on a
///   `…Ref` of the struct (an array member, or a field whose address the C
///   took, as an address);
/// - every function it calls, the driver's own (a downcall stub where the
///   callee is in the nucleus) and the kernel API's: a Swift function of
///   the same name (a `printk`-like one takes the message as a `String`);
/// - the enum constants and integer `#define`s it names, and the addresses
///   of the globals it names.
/// The C side of the bindings is appended to the user half (its statics
/// are reachable only there) with the kernel's types; the Swift side is a
/// plain C header (`NAME-decaf.h`, module `CSlice_NAME`) and `NAME-decaf.swift`,
/// compiled into one module with the author's Swift.
public struct DecafBindings: Sendable {
    /// The functions moved to Swift.
    public let functions: [String]
    /// The user half's replacement body of each function moved.
    public let bodies: [String: String]
    /// Declarations the user half needs before the bodies.
    public let userPrologue: String
    /// The bindings' C, appended to the user half.
    public let userC: String
    /// `NAME-decaf.h`: the bindings as plain C, for Swift.
    public let header: String
    /// `module.modulemap` naming the header as module ``cModule``.
    public let moduleMap: String
    /// `NAME-decaf.swift`: the typed Swift side.
    public let swift: String
    public let cModule: String
    public let headerName: String
    public let swiftName: String

    /// The bindings of `functions` of `driver`'s user half. Throws, with the
    /// function's file and line, when one cannot move: not in the user half,
    /// not written in the file, variadic, or reaching a type or a callee a
    /// binding cannot carry. `source` is the driver's text (its integer
    /// `#define`s).
    public init(driver: String, functions: [String], split: Split, graph g: CallGraph, source: String) throws {
        let ident = SliceHalves.identifier(driver)
        let p = "slice_\(ident)_"
        self.functions = functions
        cModule = "CSlice_\(ident)"
        headerName = "\(driver)-decaf.h"
        swiftName = "\(driver)-decaf.swift"
        let userSide = Set(split.user.map(\.name))
        let moved = Set(functions)

        func place(_ f: String) -> String {
            g.functions[f].map { "\($0.file):\($0.line): " } ?? ""
        }
        var structs = Set<String>()
        func note(_ b: BindType?) { if case .pointer(let s?)? = b { structs.insert(s) } }

        // What the functions reach.
        var getters = Set<String>(), setters = Set<String>(), addresses = Set<String>()
        var callees = Set<String>(), constants: [String: Int64] = [:], globals = Set<String>()
        var embedded: [String: String] = [:], caller: [String: String] = [:]
        var kernelConstants = Set<String>()
        var bodies: [String: String] = [:], prologue = "", shims: [String] = []
        let macros = Self.integerMacros(source)
        for f in functions {
            guard let fn = g.functions[f] else { throw SliceError("\(f): no such function in the driver") }
            guard userSide.contains(f), !g.moduleEntries.contains(f) else {
                throw SliceError("\(place(f))\(f): cannot move to Swift: it is not in the user half (only the u-driver's functions move)")
            }
            guard let shape = g.shapes[f] else {
                throw SliceError("\(place(f))\(f): cannot move to Swift: its body is not written in the file (a macro made it)")
            }
            if shape.variadic { throw SliceError("\(place(f))\(f): cannot move to Swift: it is variadic") }
            guard let sig = g.definedSignatures[f] else {
                throw SliceError("\(place(f))\(f): cannot move to Swift: its signature has no prototype")
            }
            for (i, t) in sig.parameters.enumerated() where t == nil || t == .void {
                throw SliceError("\(place(f))\(f): cannot move to Swift: parameter \(i + 1) (\(shape.parameters[safe: i]?.type ?? "?")) is a type a binding cannot carry")
            }
            guard let result = sig.result, result != .string else {
                throw SliceError("\(place(f))\(f): cannot move to Swift: its result (\(shape.result)) is a type a binding cannot carry")
            }
            sig.parameters.forEach(note)
            note(result)
            let reads = g.fieldReads[f] ?? [], writes = g.fieldWrites[f] ?? [], handles = g.fieldHandles[f] ?? []
            for key in reads.union(writes).union(handles).sorted() {
                let s = String(key.split(separator: ".").first ?? "")
                guard !s.contains("anon@") else {
                    throw SliceError("\(place(f))\(f): cannot move to Swift: it uses \(key), a field of an anonymous struct (no name to bind)")
                }
                guard let t = g.fieldBindTypes[key] else {
                    throw SliceError("\(place(f))\(f): cannot move to Swift: it uses \(key), of type \(g.fieldDecls[key]?.cType ?? "?"), which a binding cannot carry")
                }
                structs.insert(s)
                note(t)
                let bit = g.fieldDecls[key]?.isBitField ?? false
                if case .array = t {
                    addresses.insert(key)
                } else {
                    if reads.contains(key) || writes.contains(key) { getters.insert(key) }
                    if writes.contains(key) { setters.insert(key) }
                    if handles.contains(key) {
                        guard !bit else { throw SliceError("\(place(f))\(f): cannot move to Swift: it takes the address of bitfield \(key)") }
                        addresses.insert(key)
                    }
                }
            }
            // Embedded structs on the way to a field (`d->stats.rx`): the
            // member's address, as a Ref of the inner struct.
            for key in (g.fieldPaths[f] ?? []).sorted() {
                let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].contains("anon@"),
                      let m = g.embeddedMembers.first(where: { $0.outer == parts[0] && $0.member == parts[1] }),
                      !m.inner.contains("anon@") else {
                    throw SliceError("\(place(f))\(f): cannot move to Swift: it reaches a field through \(key), an anonymous struct or union (no name to bind)")
                }
                structs.insert(parts[0])
                structs.insert(m.inner)
                embedded[key] = m.inner
            }
            for c in (g.calls[f] ?? []).union(g.kernelCalls[f] ?? []) where !moved.contains(c) {
                callees.insert(c)
                if caller[c] == nil { caller[c] = f }
            }
            for (k, v) in g.enumConstants[f] ?? [:] { constants[k] = v }
            globals.formUnion(g.globalsUsed[f] ?? [])
            // The kernel's configuration constants the function's text names
            // (HZ): their value is the headers', so the user half's C says it.
            let text = Self.text(of: shape, in: fn.file)
            kernelConstants.formUnion(Self.identifiers(text).intersection(Self.kernelConstantNames))

            // The user half's body and the Swift shim.
            let args = shape.parameters.enumerated().map { i, prm in
                if case .pointer? = sig.parameters[i] { return "(void *)\(prm.name)" }
                if case .string? = sig.parameters[i] { return "(const char *)\(prm.name)" }
                return prm.name
            }.joined(separator: ", ")
            let call = "\(p)swift_\(f)(\(args))"
            let ret: String
            switch result {
            case .void: ret = "\t\(call);\n"
            case .pointer, .string, .array: ret = "\treturn (\(shape.result))\(call);\n"
            default: ret = "\treturn \(call);\n"
            }
            bodies[f] = "{\n\t/* In Swift (driverslicer --decaf): \(p)swift_\(f) calls \(f) of module Decaf_\(ident). */\n\(ret)}"
            let cparams = sig.parameters.enumerated().map { i, t in "\(Self.kernelC(t ?? .void)) a\(i)" }
            prologue += "\(Self.kernelC(result)) \(p)swift_\(f)(\(cparams.isEmpty ? "void" : cparams.joined(separator: ", ")));\n"
            let sparams = sig.parameters.enumerated().map { i, t in "_ a\(i): \(Self.cShimSwift(t ?? .void))" }
            let targs = sig.parameters.enumerated().map { i, t in Self.fromC(t ?? .void, "a\(i)") }.joined(separator: ", ")
            var shim = "/// The C of the user half calls `\(f)` here (`\(shape.result) \(f)(\(shape.parameters.map(\.type).joined(separator: ", ")))`).\n"
            shim += "@_cdecl(\"\(p)swift_\(f)\")\n"
            shim += "func \(p)swift_\(f)(\(sparams.joined(separator: ", ")))\(result == .void ? "" : " -> \(Self.cShimSwift(result))") {\n"
            shim += "    \(result == .void ? "" : "return ")\(Self.toC(result, "\(f)(\(targs))"))\n}\n"
            shims.append(shim)
        }

        // Callees: a C wrapper each, and a Swift function of its name.
        var c = "", h = "", sw = "", protos: [String] = []
        for name in callees.sorted() {
            let f = caller[name] ?? ""
            guard let sig = g.calleeSignatures[name] else {
                throw SliceError("\(place(f))\(f): cannot move to Swift: it calls \(name), which has no prototype to bind")
            }
            let params = sig.parameters
            var message = false
            if sig.variadic {
                // printk-like: the format is the last fixed parameter; Swift
                // formats the message and it goes as "%s".
                guard params.last == .string else {
                    throw SliceError("\(place(f))\(f): cannot move to Swift: it calls \(name), variadic without a format string last")
                }
                message = true
            }
            guard let result = sig.result, params.allSatisfy({ $0 != nil && $0 != .void }) else {
                let bad = sig.result == nil ? "its result" : "parameter \((params.firstIndex(where: { $0 == nil || $0 == .void }) ?? 0) + 1)"
                throw SliceError("\(place(f))\(f): cannot move to Swift: it calls \(name), whose \(bad) is a type a binding cannot carry")
            }
            params.forEach(note)
            note(result)
            let ps = params.compactMap { $0 }
            let kdecl = ps.enumerated().map { "\(Self.kernelC($1)) a\($0)" }
            let hdecl = ps.enumerated().map { "\(Self.plainC($1)) a\($0)" }
            var cargs = ps.indices.map { "a\($0)" }
            if message { cargs.append("a\(ps.count - 1)"); cargs[ps.count - 1] = "\"%s\"" }
            // The name as the driver's code calls it (a macro's, where one
            // renames the function).
            let spelled = g.calleeSpellings[name] ?? name
            let cname = "\(p)call_\(spelled)"
            let callText = "\(spelled)(\(cargs.joined(separator: ", ")))"
            let kproto = "\(Self.kernelC(result)) \(cname)(\(kdecl.isEmpty ? "void" : kdecl.joined(separator: ", ")))"
            protos.append(kproto + ";")
            c += kproto + "\n{\n"
            switch result {
            case .void: c += "\t\(callText);\n}\n\n"
            case .pointer, .array: c += "\treturn (void *)\(callText);\n}\n\n"
            default: c += "\treturn \(callText);\n}\n\n"
            }
            h += "\(Self.plainC(result)) \(cname)(\(hdecl.isEmpty ? "void" : hdecl.joined(separator: ", ")));\n"
            let sparams = ps.enumerated().map { i, t in "_ a\(i): \(Self.swiftType(t))" }
            let sargs = ps.enumerated().map { i, t in Self.toC(t, "a\(i)") }
            sw += "/// `\(spelled)`\(message ? " (the message as one string: \"%s\")" : "").\n"
            sw += "func \(Self.swiftName(spelled))(\(sparams.joined(separator: ", ")))\(result == .void ? "" : " -> \(Self.swiftType(result))") {\n"
            // Swift's strings reach C through withCString, one inside the other.
            var inner = sargs
            var body = ""
            for i in ps.indices where ps[i] == .string { inner[i] = "s\(i)" }
            body = Self.fromC(result, "\(cname)(\(inner.joined(separator: ", ")))")
            for i in ps.indices.reversed() where ps[i] == .string { body = "a\(i).withCString { s\(i) in \(body) }" }
            sw += "    \(result == .void ? "" : "return ")\(body)\n}\n"
        }

        // Fields: accessors on the struct's Ref.
        var refs: [String: [String]] = [:]
        for s in structs.sorted() { refs[s] = [] }
        for key in getters.union(setters).union(addresses).sorted() {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let t = g.fieldBindTypes[key] else { continue }
            let (s, f) = (parts[0], parts[1])
            let tag = g.unionNames.contains(s) ? "union \(s)" : "struct \(s)"
            let stem = "\(Self.identifierPart(s))_\(f)"
            let origin = g.fieldDecls[key].map { "`\($0.cType) \(f)` (\($0.origin))" } ?? "`\(f)`"
            var lines: [String] = []
            if addresses.contains(key) {
                protos.append("void *\(p)addr_\(stem)(void *o);")
                c += "void *\(p)addr_\(stem)(void *o)\n{\n\treturn (void *)&((\(tag) *)o)->\(f);\n}\n\n"
                h += "void *\(p)addr_\(stem)(void *o);\n"
                let prop = Self.swiftProperty(f) + (t.isArray ? "" : "Address")
                lines.append("    /// The address of \(origin).\n    var \(prop): UnsafeMutableRawPointer { \(p)addr_\(stem)(raw) }")
            }
            if getters.contains(key) {
                protos.append("\(Self.kernelC(t)) \(p)get_\(stem)(void *o);")
                c += "\(Self.kernelC(t)) \(p)get_\(stem)(void *o)\n{\n\treturn \(t.isPointer ? "(void *)" : "")((\(tag) *)o)->\(f);\n}\n\n"
                h += "\(Self.plainC(t)) \(p)get_\(stem)(void *o);\n"
                var l = "    /// \(origin).\n    var \(Self.swiftProperty(f)): \(Self.swiftType(t)) {\n"
                l += "        get { \(Self.fromC(t, "\(p)get_\(stem)(raw)")) }\n"
                if setters.contains(key) {
                    guard t != .string else {
                        let f = functions.first { (g.fieldWrites[$0] ?? []).contains(key) } ?? ""
                        throw SliceError("\(place(f))\(f): cannot move to Swift: it sets \(key), a string pointer (Swift's strings do not outlive the call)")
                    }
                    protos.append("void \(p)set_\(stem)(void *o, \(Self.kernelC(t)) v);")
                    c += "void \(p)set_\(stem)(void *o, \(Self.kernelC(t)) v)\n{\n\t((\(tag) *)o)->\(f) = v;\n}\n\n"
                    h += "void \(p)set_\(stem)(void *o, \(Self.plainC(t)) v);\n"
                    l += "        nonmutating set { \(p)set_\(stem)(raw, \(Self.toC(t, "newValue"))) }\n"
                }
                lines.append(l + "    }")
            }
            refs[s, default: []].append(contentsOf: lines)
        }
        for (key, inner) in embedded.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            let (s, f) = (parts[0], parts[1])
            let tag = g.unionNames.contains(s) ? "union \(s)" : "struct \(s)"
            let stem = "\(Self.identifierPart(s))_\(f)"
            guard !addresses.contains(key) else { continue }
            protos.append("void *\(p)addr_\(stem)(void *o);")
            c += "void *\(p)addr_\(stem)(void *o)\n{\n\treturn (void *)&((\(tag) *)o)->\(f);\n}\n\n"
            h += "void *\(p)addr_\(stem)(void *o);\n"
            refs[s, default: []].append("    /// The `\(g.unionNames.contains(inner) ? "union" : "struct") \(inner) \(f)` inside this one.\n"
                                        + "    var \(Self.swiftProperty(f)): \(Self.refName(inner)) { \(Self.refName(inner))(\(p)addr_\(stem)(raw)) }")
        }
        var types = ""
        for s in refs.keys.sorted() {
            types += "/// A `\(g.unionNames.contains(s) ? "union" : "struct") \(s)` of the C side: its address, and the fields the Swift functions use.\n"
            types += "struct \(Self.refName(s)) {\n    let raw: UnsafeMutableRawPointer\n    init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }\n"
            for l in refs[s] ?? [] { types += l + "\n" }
            types += "}\n\n"
        }

        // Globals (the driver's, and the kernel's the library defines) by
        // address; constants by value.
        for name in globals.sorted() {
            protos.append("void *\(p)global_\(name)(void);")
            c += "void *\(p)global_\(name)(void)\n{\n\treturn (void *)&\(name);\n}\n\n"
            h += "void *\(p)global_\(name)(void);\n"
            sw += "/// The address of the global `\(name)`.\nvar \(Self.swiftName(name)): UnsafeMutableRawPointer { \(p)global_\(name)() }\n"
        }
        // The driver's integer #defines, every one (ES_REG(x) pastes
        // ES_REG_STATUS together: its name is not in the text), where no
        // other binding has the name.
        let taken = Set(callees.map { g.calleeSpellings[$0] ?? $0 }).union(globals).union(constants.keys)
        for (k, v) in macros where !taken.contains(k) { constants[k] = v }
        var consts = ""
        for (k, v) in constants.sorted(by: { $0.key < $1.key }) { consts += "let \(Self.swiftName(k)) = \(v)\n" }
        for k in kernelConstants.sorted() where !taken.contains(k) && constants[k] == nil {
            protos.append("long long \(p)kconst_\(k)(void);")
            c += "long long \(p)kconst_\(k)(void)\n{\n\treturn \(k);\n}\n\n"
            h += "int64_t \(p)kconst_\(k)(void);\n"
            consts += "/// The kernel's `\(k)`, as the headers the u-driver is built with say.\nlet \(k) = Int(\(p)kconst_\(k)())\n"
        }

        self.bodies = bodies
        userPrologue = "/* Functions moved to Swift (driverslicer --decaf): \(functions.joined(separator: ", ")). */\n" + prologue
            + protos.joined(separator: "\n") + "\n"
        userC = "\n/* The bindings of the functions moved to Swift (driverslicer --decaf): what their C reached. */\n" + c
        header = """
            /* SPDX-License-Identifier: GPL-2.0 */
            /* Generated by driverslicer --decaf from \(driver): the bindings the Swift of
             * \(functions.joined(separator: ", ")) calls, as plain C. Do not edit. */
            #ifndef SLICE_\(ident.uppercased())_DECAF_H
            #define SLICE_\(ident.uppercased())_DECAF_H
            #include <stdbool.h>
            #include <stdint.h>

            /* An object's and a member's address are never NULL; what a field
             * holds, a function takes or returns may be. */
            #pragma clang assume_nonnull begin
            \(h)#pragma clang assume_nonnull end

            #endif

            """
        moduleMap = "module \(cModule) {\n    header \"\(headerName)\"\n    export *\n}\n"
        swift = """
            // SPDX-License-Identifier: GPL-2.0
            // Generated by driverslicer --decaf from \(driver): the bindings of
            // \(functions.joined(separator: ", ")), moved to Swift. Do not edit: change the driver and run
            // driverslicer again. Each moved function is written in Swift, in this module,
            // under its own name with the types below; the shims at the end are what the C calls.
            import \(cModule)

            \(types)// The functions the moved ones call.
            \(sw)
            // The constants they name.
            \(consts)
            // The C of the user half calls these.
            \(shims.joined(separator: "\n"))
            """
    }

    /// The source text of a function.
    static func text(of s: FunctionShape, in path: String) -> String {
        guard let d = FileManager.default.contents(atPath: path), s.start >= 0, s.end <= d.count, s.start <= s.end else { return "" }
        return String(decoding: d[s.start..<s.end], as: UTF8.self)
    }

    static func identifiers(_ text: String) -> Set<String> {
        var out = Set<String>(), cur = ""
        for ch in text.unicodeScalars {
            if ch == "_" || (ch.properties.isAlphabetic && ch.isASCII) || (!cur.isEmpty && ch.properties.numericType != nil && ch.isASCII) {
                cur.unicodeScalars.append(ch)
            } else {
                if !cur.isEmpty { out.insert(cur) }
                cur = ""
            }
        }
        if !cur.isEmpty { out.insert(cur) }
        return out
    }

    /// Object-like `#define`s whose body is an integer expression: literals,
    /// other such macros, `| & ^ << >> + - * ~` and parentheses
    /// (`#define EE_ENB (0x80 | EE_CS)`); a comment after it allowed. A body
    /// with anything else (a cast, a call, a string) is not bound.
    static func integerMacros(_ source: String) -> [String: Int64] {
        var bodies: [String: String] = [:]
        for line in source.split(separator: "\n") {
            var t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("#") else { continue }
            t = t.dropFirst().trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("define ") || t.hasPrefix("define\t") else { continue }
            t = String(t.dropFirst(6)).trimmingCharacters(in: .whitespaces)
            if let r = t.range(of: "/*") { t = String(t[..<r.lowerBound]) }
            if let r = t.range(of: "//") { t = String(t[..<r.lowerBound]) }
            guard !t.hasSuffix("\\"), let end = t.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "(" }),
                  t[end] != "(" else { continue }
            let body = t[end...].trimmingCharacters(in: .whitespaces)
            if !body.isEmpty { bodies[String(t[..<end])] = body }
        }
        var out: [String: Int64] = [:]
        var failed = Set<String>()
        func value(_ name: String, _ depth: Int) -> Int64? {
            if let v = out[name] { return v }
            guard depth < 16, !failed.contains(name), let body = bodies[name] else { return nil }
            var e = IntegerExpression(body) { value($0, depth + 1) }
            let v = e.parse()
            if let v { out[name] = v } else { failed.insert(name) }
            return v
        }
        for name in bodies.keys { _ = value(name, 0) }
        return out
    }

    /// The kernel's configuration constants a moved function may name,
    /// bound by value from the user half's C (its headers are the kernel's).
    static let kernelConstantNames: Set<String> = ["HZ", "PAGE_SIZE", "PAGE_SHIFT", "BITS_PER_LONG", "ETH_ALEN", "ETH_HLEN",
                                                   "ETH_ZLEN", "ETH_DATA_LEN", "ETH_FRAME_LEN", "IFNAMSIZ", "SMP_CACHE_BYTES"]

    static func identifierPart(_ s: String) -> String { SliceHalves.identifier(s) }

    static func refName(_ s: String) -> String { SwiftTypes.typeName(s) + "Ref" }

    static func swiftProperty(_ f: String) -> String { SwiftTypes.property(f) }

    static func swiftName(_ c: String) -> String { SwiftTypes.keywords.contains(c) ? "`\(c)`" : c }

    /// The type in the user half: C's own types, which need no header
    /// (the kernel's u8 … s64 are these on every architecture Linux has).
    static func kernelC(_ t: BindType) -> String {
        switch t {
        case .void: return "void"
        case .bool: return "_Bool"
        case .integer(let b, let s):
            let names = [8: "char", 16: "short", 32: "int", 64: "long long"]
            return "\(s ? "signed" : "unsigned") \(names[b] ?? "int")"
        case .pointer, .array: return "void *"
        case .string: return "const char *"
        }
    }

    /// The type in the plain C header (inside assume_nonnull: a value's
    /// pointer may be NULL).
    static func plainC(_ t: BindType) -> String {
        switch t {
        case .void: return "void"
        case .bool: return "bool"
        case .integer(let b, let s): return "\(s ? "" : "u")int\(b)_t"
        case .pointer, .array: return "void *_Nullable"
        case .string: return "const char *_Nullable"
        }
    }

    /// The Swift type the author works with.
    static func swiftType(_ t: BindType) -> String {
        switch t {
        case .void: return "Void"
        case .bool: return "Bool"
        case .integer(let b, let s): return "\(s ? "" : "U")Int\(b)"
        case .pointer(let s?): return refName(s) + "?"
        case .pointer(nil), .array: return "UnsafeMutableRawPointer?"
        case .string: return "String"
        }
    }

    /// The Swift type of a shim's C-facing parameter or result.
    static func cShimSwift(_ t: BindType) -> String {
        switch t {
        case .pointer, .array: return "UnsafeMutableRawPointer?"
        case .string: return "UnsafePointer<CChar>?"
        default: return swiftType(t)
        }
    }

    /// A C-facing value as the author's type.
    static func fromC(_ t: BindType, _ e: String) -> String {
        switch t {
        case .pointer(let s?): return "\(e).map(\(refName(s)).init)"
        case .string: return "\(e).map { String(cString: $0) } ?? \"\""
        default: return e
        }
    }

    /// The author's value as C-facing.
    static func toC(_ t: BindType, _ e: String) -> String {
        switch t {
        case .pointer(_?): return "\(e)?.raw"
        default: return e
        }
    }
}

extension BindType {
    var isArray: Bool { if case .array = self { return true } else { return false } }
    var isPointer: Bool {
        switch self {
        case .pointer, .array, .string: return true
        default: return false
        }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

/// A C integer constant expression of a `#define`'s body, by precedence
/// climbing; nil for anything else.
struct IntegerExpression {
    private var tokens: [String] = []
    private var at = 0
    private let lookup: (String) -> Int64?

    init(_ text: String, lookup: @escaping (String) -> Int64?) {
        self.lookup = lookup
        var cur = ""
        let chars = Array(text)
        var i = 0
        func flush() { if !cur.isEmpty { tokens.append(cur); cur = "" } }
        while i < chars.count {
            let c = chars[i]
            if c.isLetter || c.isNumber || c == "_" {
                cur.append(c)
            } else {
                flush()
                if c == "<" || c == ">", i + 1 < chars.count, chars[i + 1] == c {
                    tokens.append(String([c, c])); i += 1
                } else if !c.isWhitespace {
                    tokens.append(String(c))
                }
            }
            i += 1
        }
        flush()
    }

    /// The value, if the whole text is one expression.
    mutating func parse() -> Int64? {
        guard let v = binary(0), at == tokens.count else { return nil }
        return v
    }

    private static let precedence: [String: Int] = ["|": 1, "^": 2, "&": 3, "<<": 4, ">>": 4, "+": 5, "-": 5, "*": 6]

    private mutating func binary(_ minimum: Int) -> Int64? {
        guard var left = unary() else { return nil }
        while at < tokens.count, let p = Self.precedence[tokens[at]], p > minimum {
            let op = tokens[at]
            at += 1
            guard let right = binary(p) else { return nil }
            switch op {
            case "|": left |= right
            case "^": left ^= right
            case "&": left &= right
            case "<<": guard right >= 0, right < 63 else { return nil }; left = left << right
            case ">>": guard right >= 0, right < 63 else { return nil }; left = left >> right
            case "+": left = left &+ right
            case "-": left = left &- right
            default: left = left &* right
            }
        }
        return left
    }

    private mutating func unary() -> Int64? {
        guard at < tokens.count else { return nil }
        let t = tokens[at]
        at += 1
        switch t {
        case "~": return unary().map { ~$0 }
        case "-": return unary().map { 0 &- $0 }
        case "(":
            guard let v = binary(0), at < tokens.count, tokens[at] == ")" else { return nil }
            at += 1
            return v
        default:
            if let first = t.first, first.isNumber {
                var v = t
                while let last = v.last, "uUlL".contains(last) { v.removeLast() }
                if v.lowercased().hasPrefix("0x") { return Int64(v.dropFirst(2), radix: 16) }
                if v.count > 1, v.hasPrefix("0") { return Int64(v.dropFirst(), radix: 8) }
                return Int64(v)
            }
            if let first = t.first, first.isLetter || first == "_" { return lookup(t) }
            return nil
        }
    }
}
