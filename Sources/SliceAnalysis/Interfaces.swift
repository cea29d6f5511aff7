// SPDX-License-Identifier: GPL-2.0
import Foundation

/// Why a function the kernel calls must stay in the kernel, or that it
/// need not (the critical-root classes of the Microdrivers paper).
public enum RootRole: String, Sendable, Codable, CaseIterable {
    /// Interrupt handlers, softirq/NAPI poll, tasklets, data-path timers.
    case latency
    /// The per-packet / per-period path: ndo_start_xmit, PCM pointer.
    case bandwidth
    /// Called in atomic context, so it cannot wait for user space.
    case priority
    /// Process context: may sleep, may be an upcall to the u-driver.
    case user
}

/// What the kernel interfaces say about the functions a driver hands them,
/// read from data files (`slicer/interfaces/*.iface`), one per kernel
/// interface, not from the driver:
///
///     # struct net_device_ops, include/linux/netdevice.h
///     field net_device_ops.ndo_start_xmit bandwidth
///     field net_device_ops.* user
///     call request_irq 1 latency
///
/// `field STRUCT.FIELD ROLE` for a function stored in a struct field (an
/// ops table or an assignment), `STRUCT.*` for the struct's other fields;
/// `call FUNCTION ARG ROLE` for a function passed as argument ARG (from 0);
/// `opaque STRUCT` for a kernel-private struct whose fields never cross
/// (the marshaling spec leaves them out).
public struct InterfaceTable: Sendable {
    public struct Rule: Sendable, Equatable {
        public let role: RootRole
        /// `file:line` of the rule, for the report.
        public let origin: String
    }
    public private(set) var fields: [String: Rule] = [:]
    public private(set) var arguments: [String: Rule] = [:]
    /// Structs that never cross the split (`opaque STRUCT`): kernel-private
    /// objects a u-driver at most holds a handle to.
    public private(set) var opaque: Set<String> = []
    /// The interface files read, by name (`netdevice`).
    public private(set) var names: [String] = []

    public init() {}

    /// Reads every `*.iface` in `directory`, or just `only` of them (names
    /// without the extension). A line that does not parse, or an interface
    /// asked for that is not there, is an error naming the file and line.
    public init(directory: String, only: [String]? = nil) throws {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".iface") }.map { String($0.dropLast(6)) }.sorted()
        guard !all.isEmpty else { throw SliceError("\(directory): no interface files (*.iface)") }
        let chosen = only ?? all
        for n in chosen where !all.contains(n) {
            throw SliceError("unknown interface \(n): no \(directory)/\(n).iface (there are: \(all.joined(separator: ", ")))")
        }
        for n in chosen {
            let path = (directory as NSString).appendingPathComponent("\(n).iface")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SliceError("\(path): cannot read") }
            try add(text, file: path)
            names.append(n)
        }
    }

    /// Adds the rules in `text` (the contents of `file`).
    public mutating func add(_ text: String, file: String) throws {
        for (i, raw) in SliceText.lines(text).enumerated() {
            let w = SliceText.words(raw)
            guard !w.isEmpty else { continue }
            let origin = "\(file):\(i + 1)"
            func role(_ s: String) throws -> RootRole {
                guard let r = RootRole(rawValue: s) else {
                    throw SliceError("\(origin): unknown role \(s); expected \(RootRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return r
            }
            switch w[0] {
            case "field":
                let parts = w.count == 3 ? w[1].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init) : []
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw SliceError("\(origin): expected `field STRUCT.FIELD ROLE`")
                }
                fields[w[1]] = Rule(role: try role(w[2]), origin: origin)
            case "call":
                guard w.count == 4, let arg = Int(w[2]), arg >= 0 else {
                    throw SliceError("\(origin): expected `call FUNCTION ARGUMENT ROLE` (ARGUMENT from 0)")
                }
                arguments["\(w[1])#\(arg)"] = Rule(role: try role(w[3]), origin: origin)
            case "opaque":
                guard w.count == 2 else { throw SliceError("\(origin): expected `opaque STRUCT`") }
                opaque.insert(w[1])
            default:
                throw SliceError("\(origin): unknown directive \(w[0]); expected field, call or opaque")
            }
        }
    }

    /// The rule for a reference, if an interface names it.
    public func rule(for ctx: ReferenceContext) -> Rule? {
        switch ctx {
        case .field(let s, let f):
            return fields["\(s).\(f)"] ?? fields["\(s).\(f.split(separator: ".").last ?? "")"] ?? fields["\(s).*"]
        case .argument(let fn, let i):
            return arguments["\(fn)#\(i)"]
        case .other:
            return nil
        }
    }
}

/// Lines of DriverSlicer's text files (.iface, .slice).
enum SliceText {
    /// `text` split at each "\n" scalar, a "\r" before it dropped: split
    /// by Character, "\r\n" (one grapheme) ended no line, and a "\n"
    /// followed by a combining mark neither.
    static func lines(_ text: String) -> [Substring] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            var line = Substring(scalars)
            if line.unicodeScalars.last == "\r" { line.unicodeScalars.removeLast() }
            return line
        }
    }

    /// The words of a line up to its first '#', split at spaces, tabs and
    /// carriage returns; scalar by scalar, so that a combining mark after
    /// a space or a '#' does not glue them into one Character.
    static func words(_ line: Substring) -> [String] {
        let scalars = line.unicodeScalars
        let code = scalars[..<(scalars.firstIndex(of: "#") ?? scalars.endIndex)]
        return code.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            .map { String(String.UnicodeScalarView($0)) }
    }
}
