// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: DriverSlicer's text inputs, the interface files
// (InterfaceTable.add, slicer/interfaces/*.iface) and the annotation side
// files (AnnotationSet.add, slicer/annotations/*.slice), plus the
// `drvslice:` attribute parser (Annotation.parseAttribute).
//
// An input is an .iface text, a NUL, and a .slice text. Asserted:
//  - both parsers agree with a reference that numbers lines by their '\n'
//    bytes (a "\r" before it belongs to the ending): the same rules, or an
//    error naming the same line;
//  - what was read, written back in the file syntax, reads back the same;
//  - every rule is found again through rule(for:), every annotation
//    through on(field) and has(_:on:);
//  - parseAttribute returns the kind its text names, and the argument
//    between the parentheses.
import Foundation
@testable import SliceAnalysis
#if canImport(Glibc)
import Glibc
#endif

func require(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
    if !ok {
        let text = Array("slicer_parse.swift:\(line): property violated: \(what())\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let iface = String(decoding: parts[0], as: UTF8.self)
    let slice = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
    checkInterfaces(iface)
    checkAnnotations(slice)
    for word in slice.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).prefix(8) {
        checkAttribute(String(word))
    }
    return 0
}

/// The lines of `text` as the reference reads them: split at '\n' bytes,
/// a "\r" before it dropped, then everything from '#' on dropped; its words
/// are split at ' ', '\t' and '\r' bytes.
func referenceLines(_ text: String) -> [(number: Int, words: [String])] {
    var out: [(Int, [String])] = []
    for (i, raw) in Array(text.utf8).split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() {
        var line = Array(raw)
        if line.last == 0x0d { line.removeLast() }
        if let hash = line.firstIndex(of: UInt8(ascii: "#")) { line = Array(line[..<hash]) }
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }).map { String(decoding: $0, as: UTF8.self) }
        if !words.isEmpty { out.append((i + 1, words)) }
    }
    return out
}

/// The line a SliceError names (`fuzz.iface:12: ...`), or nil.
func errorLine(_ e: Error, file: String) -> Int? {
    let d = "\(e)"
    guard d.hasPrefix(file + ":") else { return nil }
    return Int(d.dropFirst(file.count + 1).prefix { $0.isASCII && $0.isNumber })
}

// MARK: interfaces

struct IfaceRef: Equatable {
    var fields: [String: RootRole] = [:]
    var arguments: [String: RootRole] = [:]
    var opaque: Set<String> = []
}

func referenceInterfaces(_ text: String) -> Result<IfaceRef, LineError> {
    var r = IfaceRef()
    for (n, w) in referenceLines(text) {
        switch w[0] {
        case "field":
            guard w.count == 3, let dot = w[1].firstIndex(of: "."), dot != w[1].startIndex,
                  w[1].index(after: dot) != w[1].endIndex, let role = RootRole(rawValue: w[2]) else {
                return .failure(LineError(line: n))
            }
            r.fields[w[1]] = role
        case "call":
            guard w.count == 4, let arg = Int(w[2]), arg >= 0, let role = RootRole(rawValue: w[3]) else {
                return .failure(LineError(line: n))
            }
            r.arguments["\(w[1])#\(arg)"] = role
        case "opaque":
            guard w.count == 2 else { return .failure(LineError(line: n)) }
            r.opaque.insert(w[1])
        default:
            return .failure(LineError(line: n))
        }
    }
    return .success(r)
}

struct LineError: Error, Equatable { let line: Int }

func readInterfaces(_ text: String) -> Result<InterfaceTable, LineError> {
    var t = InterfaceTable()
    do { try t.add(text, file: "fuzz.iface") } catch {
        return .failure(LineError(line: errorLine(error, file: "fuzz.iface") ?? -1))
    }
    return .success(t)
}

func view(_ t: InterfaceTable) -> IfaceRef {
    IfaceRef(fields: t.fields.mapValues(\.role), arguments: t.arguments.mapValues(\.role), opaque: t.opaque)
}

func checkInterfaces(_ text: String) {
    let got = readInterfaces(text).map(view), want = referenceInterfaces(text)
    require(got == want, "InterfaceTable \(got), reference \(want), input \(Array(text.utf8))")
    guard case .success(let table) = readInterfaces(text) else { return }
    for (key, rule) in table.fields {
        require(rule.origin.hasPrefix("fuzz.iface:"), "origin \(rule.origin)")
        let dot = key.firstIndex(of: ".") ?? key.endIndex
        let s = String(key[..<dot]), f = String(key[key.index(after: dot)...])
        require(table.rule(for: .field(structName: s, field: f))?.role == rule.role, "rule for \(key)")
    }
    for (key, rule) in table.arguments {
        let hash = key.lastIndex(of: "#") ?? key.endIndex
        guard let i = Int(key[key.index(after: hash)...]) else {
            require(false, "argument key \(key)")
            return
        }
        require(table.rule(for: .argument(function: String(key[..<hash]), index: i))?.role == rule.role,
                "rule for \(key)")
    }
    // Written back in the file syntax.
    var out = ""
    for (k, r) in table.fields.sorted(by: { $0.key < $1.key }) { out += "field \(k) \(r.role.rawValue)\n" }
    for (k, r) in table.arguments.sorted(by: { $0.key < $1.key }) {
        let hash = k.lastIndex(of: "#") ?? k.endIndex
        out += "call \(k[..<hash]) \(k[k.index(after: hash)...]) \(r.role.rawValue)\n"
    }
    for o in table.opaque.sorted() { out += "opaque \(o)\n" }
    let again = readInterfaces(out).map(view)
    require(again == .success(view(table)), "written back, the interfaces read \(again)")
}

// MARK: annotations

func readAnnotations(_ text: String) -> Result<[Annotation], LineError> {
    var set = AnnotationSet()
    do { try set.add(text, file: "fuzz.slice") } catch {
        return .failure(LineError(line: errorLine(error, file: "fuzz.slice") ?? -1))
    }
    return .success(set.all)
}

func referenceAnnotations(_ text: String) -> Result<[String], LineError> {
    var out: [String] = []
    var seen: Set<String> = []
    for (n, w) in referenceLines(text) {
        // STRUCT.FIELD: both parts non-empty, split at the first dot, as
        // in an interface file's `field` line.
        // array's argument may be several words (a C expression: `array
        // cp_set_mac_address.p sizeof(struct sockaddr)`), joined by one space.
        guard let kind = AnnotationKind(rawValue: w[0]), w.count >= 2, w.count <= 3 || kind == .array,
              let dot = w[1].firstIndex(of: "."), dot != w[1].startIndex,
              w[1].index(after: dot) != w[1].endIndex else {
            return .failure(LineError(line: n))
        }
        if [.array, .sentinel, .container].contains(kind), w.count < 3 { return .failure(LineError(line: n)) }
        let id = "\(kind.rawValue) \(w[1])"
        if seen.insert(id).inserted { out.append(w.count >= 3 ? "\(id) \(w[2...].joined(separator: " "))" : id) }
    }
    return .success(out)
}

func render(_ a: Annotation) -> String {
    a.argument.map { "\(a.kind.rawValue) \(a.field) \($0)" } ?? "\(a.kind.rawValue) \(a.field)"
}

func checkAnnotations(_ text: String) {
    let got = readAnnotations(text).map { $0.map(render) }, want = referenceAnnotations(text)
    require(got == want, "AnnotationSet \(got), reference \(want), input \(Array(text.utf8))")
    guard case .success(let all) = readAnnotations(text) else { return }
    var set = AnnotationSet()
    for a in all {
        set.append(a)
        require(a.origin.hasPrefix("fuzz.slice:"), "origin \(a.origin)")
    }
    for a in all {
        require(set.on(a.field).contains(a), "on(\(a.field))")
        require(set.has([a.kind], on: a.field), "has(\(a.kind), on: \(a.field))")
    }
    let again = readAnnotations(all.map(render).joined(separator: "\n")).map { $0.map(render) }
    require(again == .success(all.map(render)), "written back, the annotations read \(again)")
}

func checkAttribute(_ text: String) {
    let result: (AnnotationKind, String?)?
    do { result = try Annotation.parseAttribute(text) } catch { return }
    guard let (kind, arg) = result else {
        require(!text.hasPrefix("drvslice:"), "\(text) not taken for an attribute")
        return
    }
    let body = text.dropFirst("drvslice:".count)
    require(body.hasPrefix(kind.rawValue), "\(text) parsed as \(kind)")
    if let arg {
        require(body == "\(kind.rawValue)(\(arg))", "\(text): argument \(arg)")
    } else {
        require(body == kind.rawValue, "\(text) without an argument")
    }
}
