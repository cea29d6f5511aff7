// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: what drivermgrd's control server does with the bytes a
// client sends (ControlInterface: VarlinkFramer, VarlinkCall(message:),
// VarlinkParameters, VarlinkCodec; ControlServer.serve and handle use them).
//
// An input is a byte stream on the control socket; its first byte picks the
// sizes the stream arrives in. Asserted:
//  - framing does not depend on how the stream is cut: byte by byte, in
//    chunks, or whole, the same messages come out, and they with their NULs
//    are the stream up to its last NUL;
//  - a call decodes, re-frames (JSON + one NUL, no other NUL) and decodes to
//    the same method, parameters and `more`;
//  - every reply the server can build for it (result, or each error) is one
//    well-formed frame;
//  - whatever the server's per-method parameter checks accept, the typed
//    parameters drvctl sends (NameParameters, StatusParameters,
//    InjectParameters, CallParameters) decode from, with the same values.
import ControlInterface
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func require(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
    if !ok {
        let text = Array("varlink_request.swift:\(line): property violated: \(what())\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let all = Array(UnsafeBufferPointer(start: data, count: size))
    let chunk = Int(all[0] % 64) + 1
    let stream = Array(all.dropFirst())

    let whole = frames(stream, chunk: stream.count + 1)
    require(frames(stream, chunk: chunk) == whole, "framing depends on the chunk size \(chunk)")
    if stream.count <= 256 { require(frames(stream, chunk: 1) == whole, "framing byte by byte differs") }
    var rebuilt: [UInt8] = []
    for m in whole.messages {
        require(!m.contains(0), "a message holds a NUL")
        rebuilt += m + [0]
    }
    require(rebuilt.count + whole.pending == stream.count && Array(stream.prefix(rebuilt.count)) == rebuilt,
            "messages and pending bytes are not the stream")

    for m in whole.messages {
        guard let call = VarlinkCall(message: m) else { continue }
        checkCall(call)
    }
    return 0
}

struct Framed: Equatable { var messages: [[UInt8]] = []; var pending = 0; var dropped = false }

func frames(_ stream: [UInt8], chunk: Int) -> Framed {
    var framer = VarlinkFramer()
    var out = Framed()
    var i = 0
    while i < stream.count {
        let end = min(stream.count, i + chunk)
        if !framer.append(stream[i..<end]) { out.dropped = true; break }
        while let m = framer.next() { out.messages.append(m) }
        i = end
    }
    out.pending = framer.pending
    return out
}

func frameIsWellFormed(_ f: [UInt8]) -> Bool {
    f.last == 0 && f.dropLast().allSatisfy { $0 != 0 }
}

func checkCall(_ call: VarlinkCall) {
    // Re-framed as a client would send it.
    let framed: [UInt8]
    do { framed = try VarlinkCodec.frame(call) } catch {
        require(false, "a decoded call does not encode: \(error)")
        return
    }
    require(frameIsWellFormed(framed), "call frame \(framed)")
    guard let again = VarlinkCall(message: Array(framed.dropLast())) else {
        require(false, "a re-framed call does not decode: \(String(decoding: framed, as: UTF8.self))")
        return
    }
    require(again.method == call.method && again.more == call.more && again.parameters == call.parameters,
            "call changed in the round trip")

    // The replies the server builds from what the call carries.
    let p = call.parameters ?? [:]
    for error in ["parameter", "method", "name"] {
        let reply = VarlinkReply(parameters: [error: .string(call.method)] .merging(p) { a, _ in a },
                                 error: "\(ManagerInterface.name).InvalidParameter")
        let f = (try? VarlinkCodec.frame(reply)) ?? []
        require(frameIsWellFormed(f), "error reply frame")
    }
    if let bad = p.keys.first {
        let f = (try? VarlinkCodec.frame(VarlinkReply(parameters: ["parameter": .string(bad)],
                                                       error: "\(ManagerInterface.name).InvalidParameter"))) ?? []
        require(frameIsWellFormed(f), "unexpected-parameter reply frame")
    }

    // Each method's checks, as ControlServer.handle runs them, against the
    // typed parameters drvctl encodes.
    checkParameters(p, ["name"], server: serverName, typed: typedName, same: sameName)
    checkParameters(p, ["names"], server: serverStatus, typed: typedStatus, same: sameStatus)
    checkParameters(p, ["name", "kind"], server: serverInject, typed: typedInject, same: sameInject)
    checkParameters(p, ["name", "operation", "arguments"], server: serverCall, typed: typedCall, same: sameCall)
}

/// When the server's checks (`allow` then the getters) accept `p`, the
/// Codable type decodes from it too, to the same values.
/// `names` (Status) and `arguments` (Call) are optional on the server and
/// required by the Codable types: one of them missing is the accepted
/// difference.
func checkParameters<T>(_ p: [String: JSONValue], _ keys: Set<String>,
                        server: ([String: JSONValue]) throws -> T,
                        typed: ([String: JSONValue]) throws -> T,
                        same: (T, T) -> Bool) {
    var byServer: T?
    do {
        try VarlinkParameters.allow(p, keys)
        byServer = try server(p)
    } catch {
        byServer = nil
    }
    let byType = try? typed(p)
    if let byServer, let byType {
        require(same(byServer, byType), "server and typed parameters differ for \(p)")
    } else if byServer != nil {
        let optionalMissing = keys.contains { ($0 == "names" || $0 == "arguments") && p[$0] == nil }
        require(optionalMissing, "the server accepts \(p), the typed parameters do not")
    }
}

typealias Params = [String: JSONValue]

func serverName(_ p: Params) throws -> NameParameters { NameParameters(name: try VarlinkParameters.string(p, "name")) }
func typedName(_ p: Params) throws -> NameParameters { try VarlinkCodec.decode(NameParameters.self, from: p) }
func sameName(_ a: NameParameters, _ b: NameParameters) -> Bool { a.name == b.name }

func serverStatus(_ p: Params) throws -> StatusParameters {
    StatusParameters(names: try VarlinkParameters.strings(p, "names") ?? [])
}
func typedStatus(_ p: Params) throws -> StatusParameters { try VarlinkCodec.decode(StatusParameters.self, from: p) }
func sameStatus(_ a: StatusParameters, _ b: StatusParameters) -> Bool { a.names == b.names }

func serverInject(_ p: Params) throws -> InjectParameters {
    let name = try VarlinkParameters.string(p, "name")
    let kind = try VarlinkParameters.string(p, "kind")
    return InjectParameters(name: name, kind: kind)
}
func typedInject(_ p: Params) throws -> InjectParameters { try VarlinkCodec.decode(InjectParameters.self, from: p) }
func sameInject(_ a: InjectParameters, _ b: InjectParameters) -> Bool { a.name == b.name && a.kind == b.kind }

func serverCall(_ p: Params) throws -> CallParameters {
    let name = try VarlinkParameters.string(p, "name")
    let operation = try VarlinkParameters.string(p, "operation")
    let arguments: [String] = try VarlinkParameters.strings(p, "arguments") ?? []
    return CallParameters(name: name, operation: operation, arguments: arguments)
}
func typedCall(_ p: Params) throws -> CallParameters { try VarlinkCodec.decode(CallParameters.self, from: p) }
func sameCall(_ a: CallParameters, _ b: CallParameters) -> Bool {
    a.name == b.name && a.operation == b.operation && a.arguments == b.arguments
}
