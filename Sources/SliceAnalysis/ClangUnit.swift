// SPDX-License-Identifier: GPL-2.0
import CClang
import Foundation

/// An error of the slicer's, said with the file (and line) it is about.
public struct SliceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A compiler diagnostic with its place: `file:line:column: error: …`.
public struct SourceDiagnostic: Sendable, CustomStringConvertible, Equatable {
    public enum Severity: String, Sendable { case warning, error, fatal }
    public let file: String
    public let line: Int
    public let column: Int
    public let severity: Severity
    public let message: String

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

/// One C file parsed by libclang with the flags it would be compiled with.
///
/// Fatal diagnostics (a missing header) and errors in the file itself mean
/// the file did not parse: ``init(path:arguments:)`` throws them, named by
/// file and line. Errors inside included headers (the kernel is written for
/// gcc; clang parses nearly all of it) are kept in ``headerErrors`` and
/// reported, and the analysis goes on.
final class ClangUnit {
    let path: String
    let index: CXIndex
    let unit: CXTranslationUnit
    private(set) var headerErrors: [SourceDiagnostic] = []

    init(path: String, arguments: [String]) throws {
        guard FileManager.default.isReadableFile(atPath: path) else { throw SliceError("\(path): no such file") }
        self.path = path
        guard let idx = clang_createIndex(0, 0) else { throw SliceError("libclang: cannot create an index") }
        index = idx
        let cargs = arguments.map { strdup($0) }
        defer { cargs.forEach { free($0) } }
        var ptrs: [UnsafePointer<CChar>?] = cargs.map { UnsafePointer($0) }
        var tu: CXTranslationUnit?
        let err = ptrs.withUnsafeMutableBufferPointer { p in
            clang_parseTranslationUnit2(idx, path, p.baseAddress, Int32(p.count), nil, 0,
                                        UInt32(CXTranslationUnit_KeepGoing.rawValue), &tu)
        }
        guard err == CXError_Success, let tu else {
            clang_disposeIndex(idx)
            throw SliceError("\(path): libclang could not parse it (CXErrorCode \(err.rawValue))")
        }
        unit = tu
        var fatal: [SourceDiagnostic] = []
        for i in 0..<clang_getNumDiagnostics(tu) {
            guard let d = clang_getDiagnostic(tu, i) else { continue }
            defer { clang_disposeDiagnostic(d) }
            let sev = clang_getDiagnosticSeverity(d)
            guard sev == CXDiagnostic_Error || sev == CXDiagnostic_Fatal else { continue }
            let loc = clang_getDiagnosticLocation(d)
            let (file, line, col) = Self.place(loc)
            let diag = SourceDiagnostic(file: file.isEmpty ? path : file, line: line, column: col,
                                        severity: sev == CXDiagnostic_Fatal ? .fatal : .error,
                                        message: Self.string(clang_getDiagnosticSpelling(d)))
            if sev == CXDiagnostic_Fatal || clang_Location_isFromMainFile(loc) != 0 {
                fatal.append(diag)
            } else {
                headerErrors.append(diag)
            }
        }
        if !fatal.isEmpty {
            // Every property is set: deinit disposes of the unit and index.
            throw SliceError(fatal.prefix(5).map(\.description).joined(separator: "\n")
                             + (fatal.count > 5 ? "\n… and \(fatal.count - 5) more" : ""))
        }
    }

    deinit {
        clang_disposeTranslationUnit(unit)
        clang_disposeIndex(index)
    }

    var root: CXCursor { clang_getTranslationUnitCursor(unit) }

    // MARK: helpers over the C API

    static func string(_ s: CXString) -> String {
        defer { clang_disposeString(s) }
        guard let c = clang_getCString(s) else { return "" }
        return String(cString: c)
    }

    /// File, line and column where `loc` is expanded (macros: where used).
    static func place(_ loc: CXSourceLocation) -> (String, Int, Int) {
        var file: CXFile?
        var line: UInt32 = 0, col: UInt32 = 0, off: UInt32 = 0
        clang_getExpansionLocation(loc, &file, &line, &col, &off)
        return (file.map { string(clang_getFileName($0)) } ?? "", Int(line), Int(col))
    }

    static func children(_ c: CXCursor) -> [CXCursor] {
        var out: [CXCursor] = []
        withUnsafeMutablePointer(to: &out) { p in
            _ = clang_visitChildren(c, { child, _, data in
                data?.assumingMemoryBound(to: [CXCursor].self).pointee.append(child)
                return CXChildVisit_Continue
            }, p)
        }
        return out
    }

    static func spelling(_ c: CXCursor) -> String { string(clang_getCursorSpelling(c)) }

    static func isNull(_ c: CXCursor) -> Bool { clang_Cursor_isNull(c) != 0 }

    /// `const struct net_device_ops` → `net_device_ops`. An anonymous
    /// struct or union is named by where it is written, without dots
    /// (`_ddebug::(unnamed at …/dynamic_debug.h:52:2)` → `_ddebug::anon@dynamic_debug_h:52`),
    /// so `STRUCT.field` keys stay unambiguous.
    static func structName(_ t: CXType) -> String {
        var s = string(clang_getTypeSpelling(clang_getCanonicalType(t)))
        for q in ["const ", "volatile ", "struct ", "union "] { s = s.replacingOccurrences(of: q, with: "") }
        while let open = s.range(of: "(unnamed at ") ?? s.range(of: "(anonymous at "),
              let close = s[open.upperBound...].firstIndex(of: ")") {
            let place = s[open.upperBound..<close]
            let parts = place.split(separator: ":")
            let file = (parts.first.map(String.init) ?? "").split(separator: "/").last.map(String.init) ?? ""
            let line = parts.count > 1 ? parts[1] : ""
            s.replaceSubrange(open.lowerBound...close, with: "anon@\(file.replacingOccurrences(of: ".", with: "_")):\(line)")
        }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// The spellings of the tokens in `c`'s extent.
    private var sources: [String: [UInt8]] = [:]

    /// The identifier written at `loc`'s expansion (a macro's name where a
    /// macro was used), or nil.
    func identifier(at loc: CXSourceLocation) -> String? {
        var file: CXFile?
        var line: UInt32 = 0, col: UInt32 = 0, off: UInt32 = 0
        clang_getExpansionLocation(loc, &file, &line, &col, &off)
        guard let file else { return nil }
        let path = Self.string(clang_getFileName(file))
        if sources[path] == nil { sources[path] = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [] }
        guard let bytes = sources[path] else { return nil }
        func isIdent(_ b: UInt8) -> Bool { b == 95 || (b >= 48 && b <= 57) || (b | 0x20 >= 97 && b | 0x20 <= 122) }
        var end = Int(off)
        while end < bytes.count, isIdent(bytes[end]) { end += 1 }
        guard end > Int(off), !(bytes[Int(off)] >= 48 && bytes[Int(off)] <= 57) else { return nil }
        return String(decoding: bytes[Int(off)..<end], as: UTF8.self)
    }

    func tokens(_ c: CXCursor) -> [String] {
        var toks: UnsafeMutablePointer<CXToken>?
        var n: UInt32 = 0
        clang_tokenize(unit, clang_getCursorExtent(c), &toks, &n)
        guard let toks else { return [] }
        defer { clang_disposeTokens(unit, toks, n) }
        return (0..<Int(n)).map { Self.string(clang_getTokenSpelling(unit, toks[$0])) }
    }
}
