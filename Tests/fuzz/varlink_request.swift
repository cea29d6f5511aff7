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
//  - whatever io.drivermgr.Manager.varlink's check accepts for a method's
//    input (the server's first check), the server's typed getters accept
//    too, and the typed parameters drvctl sends (NameParameters,
//    StatusParameters, InjectParameters, CallParameters) decode from it,
//    with the same values.
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
    for key in ["parameter", "method", "interface"] {
        let reply = VarlinkReply(parameters: [key: .string(call.method)], error: VarlinkService.ErrorName.invalidParameter.fullName)
        let f = (try? VarlinkCodec.frame(reply)) ?? []
        require(frameIsWellFormed(f), "error reply frame")
    }

    // Each method's checks, as ControlServer.handle runs them: the
    // definition's, then the typed getters.
    // Parsed once (lsan.supp says why LeakSanitizer is told about it).
    guard let definition = Definitions.manager else {
        require(false, "io.drivermgr.Manager.varlink does not parse")
        return
    }
    for (method, input) in definition.methods.map({ ($0.key, $0.value.input) }) {
        let passes = (try? definition.check(p, against: input)) != nil
        switch method {
        case "Start", "Stop", "Unbind", "Restart", "ResetFailed", "History", "Verify":
            checkParameters(p, passes, server: serverName, typed: typedName, same: sameName)
        case "Status": checkParameters(p, passes, server: serverStatus, typed: typedStatus, same: sameStatus)
        case "Inject": checkParameters(p, passes, server: serverInject, typed: typedInject, same: sameInject)
        case "Call": checkParameters(p, passes, server: serverCall, typed: typedCall, same: sameCall)
        case "Update": checkParameters(p, passes, server: serverUpdate, typed: typedUpdate, same: sameUpdate)
        case "Debug":
            if passes, case .uint(let u)? = p["tcpPort"], u > UInt64(Int.max) {
                // The definition's int reaches UInt64.max; both readers
                // refuse what Int cannot hold (a port is checked after).
                require((try? serverDebug(p)) == nil && (try? typedDebug(p)) == nil, "tcpPort \(u) read as an Int")
            } else {
                checkParameters(p, passes, server: serverDebug, typed: typedDebug, same: sameDebug)
            }
        case "List", "Monitor": require(!passes || p.isEmpty, "\(method) takes no parameters, accepted \(p)")
        default: require(false, "a method the harness does not know: \(method)")
        }
    }
}

enum Definitions {
    static let manager = try? ManagerInterface.definition()
}

/// When the definition accepts `p`, the server's getters do too, and the
/// Codable type decodes from it, to the same values. `names` (Status) and
/// `arguments` (Call) are optional in the definition and required by the
/// Codable types: one of them missing is the accepted difference.
func checkParameters<T>(_ p: [String: JSONValue], _ passes: Bool,
                        server: ([String: JSONValue]) throws -> T,
                        typed: ([String: JSONValue]) throws -> T,
                        same: (T, T) -> Bool) {
    guard passes else { return }
    let byServer = try? server(p)
    require(byServer != nil, "the definition accepts \(p), the server's getters do not")
    let byType = try? typed(p)
    if let byServer, let byType {
        require(same(byServer, byType), "server and typed parameters differ for \(p)")
    } else {
        let optionalMissing = ["names", "arguments"].contains { p.keys.isEmpty || p[$0] == nil || p[$0] == .null }
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

func serverUpdate(_ p: Params) throws -> UpdateParameters {
    UpdateParameters(name: try VarlinkParameters.string(p, "name"), executable: try VarlinkParameters.optionalString(p, "executable"))
}
func typedUpdate(_ p: Params) throws -> UpdateParameters { try VarlinkCodec.decode(UpdateParameters.self, from: p) }
func sameUpdate(_ a: UpdateParameters, _ b: UpdateParameters) -> Bool { a.name == b.name && a.executable == b.executable }

func serverDebug(_ p: Params) throws -> DebugParameters {
    DebugParameters(name: try VarlinkParameters.string(p, "name"), tool: try VarlinkParameters.string(p, "tool"),
                    tcpPort: try VarlinkParameters.optionalInt(p, "tcpPort"))
}
func typedDebug(_ p: Params) throws -> DebugParameters { try VarlinkCodec.decode(DebugParameters.self, from: p) }
func sameDebug(_ a: DebugParameters, _ b: DebugParameters) -> Bool { a.name == b.name && a.tool == b.tool && a.tcpPort == b.tcpPort }
