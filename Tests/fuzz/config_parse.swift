// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: drivermgrd's configuration parser (Sources/drivermgrd/
// Config.swift, compiled into this harness as it is, with the real
// DeviceClasses and Supervisor modules).
//
// An input is a drivers.d file, optionally followed by a NUL and a drop-in.
// Asserted:
//  - INIFile agrees with a reference that numbers lines by their '\n'
//    bytes, as systemd does (and accepts "\r\n" endings, as systemd's
//    read_line() does): the same entries, sections, keys, values and line
//    numbers, or an error on the same line;
//  - entries re-serialized as `[Section]` / `Key=Value` lines parse to
//    themselves;
//  - ConfigLoader.parse either fails naming one of the files and a line
//    that exists in it, or yields a configuration within every limit the
//    daemon relies on (name, match, executable, timeouts, restart policy,
//    memory, user);
//  - TimeSpan and ByteSize give finite, in-range values or nil.
import DeviceClasses
import Foundation
import Supervisor
import XPC
#if canImport(Glibc)
import Glibc
#endif

func require(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
    if !ok {
        let text = Array("config_parse.swift:\(line): property violated: \(what())\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

/// Where the two files of an input are written; one directory per process.
let scratch: String = {
    let dir = "/tmp/drivermgr-fuzz-config-\(getpid())"
    mkdir(dir, 0o700)
    return dir
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false).map(Array.init)
    for p in parts { checkINI(p) }
    checkLoader(parts)
    return 0
}

// MARK: the INI layer

struct RefEntry: Equatable { let section: String; let key: String; let value: String; let line: Int }
/// A file refused, at this line.
struct LineError: Error, Equatable { let line: Int }

/// The reference: lines end at '\n' (a "\r" before it belongs to the
/// ending), then the same rules as INIFile, line by line.
func referenceINI(_ bytes: [UInt8]) -> Result<[RefEntry], LineError> {
    var section: String?
    var out: [RefEntry] = []
    for (i, raw) in bytes.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() {
        var rawLine = Array(raw)
        if rawLine.last == 0x0d { rawLine.removeLast() }
        let line = String(decoding: rawLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let n = i + 1
        if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
        if line.hasPrefix("[") {
            guard line.hasSuffix("]"), line.count > 2 else { return .failure(LineError(line: n)) }
            section = String(line.dropFirst().dropLast())
            continue
        }
        guard let eq = line.firstIndex(of: "="), let section else { return .failure(LineError(line: n)) }
        let key = line[..<eq].trimmingCharacters(in: .whitespacesAndNewlines)
        let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { return .failure(LineError(line: n)) }
        out.append(RefEntry(section: section, key: key, value: value, line: n))
    }
    return .success(out)
}

func parseINI(_ text: String) -> Result<[RefEntry], LineError> {
    do {
        let ini = try INIFile(path: "fuzz.conf", text: text)
        return .success(ini.entries.map { RefEntry(section: $0.section, key: $0.key, value: $0.value, line: $0.line) })
    } catch let e as ConfigError {
        return .failure(LineError(line: e.line))
    } catch {
        require(false, "INIFile threw \(error)")
        return .failure(LineError(line: -1))
    }
}

func checkINI(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    // Lines are compared on the text as Swift sees it (invalid UTF-8 repaired).
    let got = parseINI(text), want = referenceINI(Array(text.utf8))
    require(got == want, "INIFile \(got), reference \(want), input \(Array(text.utf8))")
    guard case .success(let entries) = got else { return }
    for e in entries {
        checkValue(e.value)
    }
    // Re-serialized, the entries parse to themselves (lines renumbered).
    var out = ""
    var current: String?
    for e in entries {
        if e.section != current { out += "[\(e.section)]\n"; current = e.section }
        out += "\(e.key)=\(e.value)\n"
    }
    guard case .success(let again) = parseINI(out) else {
        require(false, "re-serialized entries do not parse: \(out)")
        return
    }
    require(again.map { [$0.section, $0.key, $0.value] } == entries.map { [$0.section, $0.key, $0.value] },
            "re-serialized entries differ")
}

func checkValue(_ v: String) {
    if let d = TimeSpan.parse(v) {
        require(d >= .zero && d < .seconds(86400 * 365), "TimeSpan \(v) = \(d)")
        _ = TimeSpan.micros(d)
    }
    if let n = ByteSize.parse(v) {
        require(v.last.map { "KMGT".contains($0) } == true || UInt64(v) == n, "ByteSize \(v) = \(n)")
    }
    _ = ConfigLoader.yesNo(v)
}

// MARK: the loader

func checkLoader(_ parts: [[UInt8]]) {
    var files: [String] = []
    for (i, p) in parts.enumerated() {
        let path = "\(scratch)/\(i == 0 ? "fuzz.conf" : "fuzz.conf.d-10.conf")"
        guard FileManager.default.createFile(atPath: path, contents: Data(p)) else {
            require(false, "cannot write \(path)")
            return
        }
        files.append(path)
    }
    switch ConfigLoader.parse(files: files, defaultName: "fuzz", driverDirectory: "/usr/libexec/drivermgrd") {
    case .failure(let e):
        guard let i = files.firstIndex(of: e.file) else {
            require(false, "error names \(e.file), not an input file")
            return
        }
        let lines = parts[i].split(separator: 0x0a, omittingEmptySubsequences: false).count
        require(e.line >= 0 && e.line <= lines, "error on line \(e.line) of \(lines): \(e)")
    case .success(let (cfg, warnings)):
        for w in warnings { require(files.contains(w.file) && w.line > 0, "warning \(w)") }
        checkConfig(cfg, files)
    }
}

func checkConfig(_ c: DriverConfig, _ files: [String]) {
    require(!c.name.isEmpty && c.name.count <= 31, "name \(c.name)")
    require(c.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "name \(c.name)")
    require(DeviceClasses.named(c.deviceClass.name) != nil, "class \(c.deviceClass.name)")
    let m = c.match.split(separator: ":")
    require(m.count == 3 && UInt16(m[1], radix: 16) == c.vendor && UInt16(m[2], radix: 16) == c.device,
            "match \(c.match)")
    require(c.executable.hasPrefix("/") && c.executable.count > 1, "executable \(c.executable)")
    require(c.xpcTimeout > .zero && c.probeTimeout > .zero, "timeouts")
    require(c.heartbeat >= .zero, "heartbeat")
    require(c.restart.burst >= 1 && c.restart.burst <= 100_000, "burst \(c.restart.burst)")
    require(c.restart.interval > .zero, "interval")
    require(c.restart.restartDelay >= .zero && c.restart.backoffCap >= .zero, "restart delays")
    require(c.memoryMax >= 64 << 20, "memory \(c.memoryMax)")
    require(c.files == files, "files")
    if c.sandboxed {
        // DynamicUser= (the default) picks the uid at spawn; User= names one.
        require(c.dynamicUser || c.uid != 0, "a sandboxed u-driver as root")
        require(!c.stage1.isEmpty, "no stage 1 filter")
    }
}
