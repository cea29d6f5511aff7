// SPDX-License-Identifier: GPL-2.0
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed call to drivermgrd, worded for a person, with the
/// systemctl-style exit code it maps to.
public struct ManagerClientError: Error, CustomStringConvertible {
    /// 1 = failed, 2 = invalid argument, 4 = permission denied, 5 = no
    /// such driver (as systemctl: `systemctl start nosuch` exits 5).
    public let exitCode: Int32
    public let message: String
    public init(exitCode: Int32, message: String) {
        self.exitCode = exitCode
        self.message = message
    }
    public var description: String { message }
}

/// A varlink client of io.drivermgr.Manager over a unix stream socket
/// (drvctl, xpc-bench). Not thread-safe: one caller at a time.
public struct ManagerClient {
    public let path: String
    private let fd: Int32

    /// Connects; fails with a clear message when drivermgrd is not running.
    public init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ManagerClientError(exitCode: 1, message: "Failed to create socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            Glibc.close(fd)
            throw ManagerClientError(exitCode: 1, message: "Socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            let e = String(cString: strerror(errno))
            Glibc.close(fd)
            let hint = errno == EACCES ? "You need to be root or in drivermgrd's control group." : "Is drivermgrd running?"
            throw ManagerClientError(exitCode: errno == EACCES ? 4 : 1, message: "Failed to connect to drivermgrd at \(path): \(e). \(hint)")
        }
        self.fd = fd
    }

    public func close() { Glibc.close(fd) }

    /// Sends one call without waiting for its reply.
    public func send(_ call: VarlinkCall) throws {
        let bytes = try VarlinkCodec.frame(call)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ManagerClientError(exitCode: 1, message: "Failed to talk to drivermgrd: connection lost") }
            off += n
        }
    }

    private var pending: [UInt8] = []

    /// Reads one reply.
    public mutating func receive() throws -> VarlinkReply {
        var chunk = [UInt8](repeating: 0, count: 65536)
        // Only the bytes not yet searched are searched for the NUL: a
        // thousand drivers' list is a few hundred kilobytes.
        var searched = 0
        while true {
            if let nul = pending[searched...].firstIndex(of: 0) {
                let msg = Array(pending[..<nul])
                pending.removeFirst(nul + 1)
                do { return try JSONDecoder().decode(VarlinkReply.self, from: Data(msg)) } catch {
                    throw ManagerClientError(exitCode: 1, message: "Failed to parse drivermgrd's reply: \(error)")
                }
            }
            searched = pending.count
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ManagerClientError(exitCode: 1, message: "drivermgrd closed the connection") }
            pending += chunk[0..<n]
        }
    }

    /// Calls `method` and decodes its reply into `R`; a varlink error
    /// becomes a ``ManagerClientError`` worded for `what` ("restart ens1371").
    public mutating func call<R: Decodable>(_ method: ManagerInterface.Method, _ params: [String: JSONValue] = [:],
                                     as: R.Type, what: String) throws -> R {
        try send(VarlinkCall(method: method.fullName, parameters: params))
        let r = try receive()
        if let e = r.error { throw Self.failure(e, r.parameters ?? [:], what: what) }
        do { return try VarlinkCodec.decode(R.self, from: r.parameters ?? [:]) } catch {
            throw ManagerClientError(exitCode: 1, message: "Failed to \(what): unexpected reply: \(error)")
        }
    }

    /// Starts a streaming call (Monitor).
    public func stream(_ method: ManagerInterface.Method) throws {
        try send(VarlinkCall(method: method.fullName, parameters: nil, more: true))
    }

    /// A Varlink error as drvctl words it, with its exit code.
    public static func failure(_ error: String, _ p: [String: JSONValue], what: String) -> ManagerClientError {
        func s(_ k: String) -> String? { if case .string(let v)? = p[k] { return v }; return nil }
        switch error {
        case VarlinkService.ErrorName.permissionDenied.fullName:
            return ManagerClientError(exitCode: 4, message: "Failed to \(what): permission denied")
        case ManagerInterface.ErrorName.driverNotFound.fullName:
            return ManagerClientError(exitCode: 5, message: "Failed to \(what): no such driver")
        case VarlinkService.ErrorName.invalidParameter.fullName:
            return ManagerClientError(exitCode: 2, message: "Failed to \(what): invalid parameter \(s("parameter") ?? "")")
        case ManagerInterface.ErrorName.invalidValue.fullName:
            return ManagerClientError(exitCode: 2, message: "Failed to \(what): invalid \(s("parameter") ?? "parameter"): \(s("message") ?? "")")
        case VarlinkService.ErrorName.methodNotFound.fullName, VarlinkService.ErrorName.interfaceNotFound.fullName,
             VarlinkService.ErrorName.methodNotImplemented.fullName:
            return ManagerClientError(exitCode: 1, message: "Failed to \(what): drivermgrd does not serve \(s("method") ?? s("interface") ?? "it") "
                                      + "(is it older than drvctl?)")
        default:
            return ManagerClientError(exitCode: 1, message: "Failed to \(what): \(s("message") ?? error)")
        }
    }
}
