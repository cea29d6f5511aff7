// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import ControlInterface
import Foundation
import Logging
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// Serves io.drivermgr.Manager on a unix stream socket: NUL-terminated JSON
/// varlink calls, one handler per method, parameters checked by name.
final class ControlServer: Sendable {
    let path: String
    private let manager: Manager
    private let logger: Logger
    private let listenFD: Int32
    /// Group allowed to call the mutating methods, besides root.
    private let adminGroup: UInt32?

    /// Methods that change something: root or `adminGroup` only.
    static let mutating: Set<ManagerInterface.Method> = [.start, .stop, .restart, .call, .inject, .resetFailed]

    /// Binds `path` (mode 0660, group `controlGroup` if given) and listens;
    /// replaces a stale socket. Connecting needs read-write access to the
    /// socket: root and `controlGroup` can list, show status, history and
    /// monitor; changing anything takes root or `adminGroup`.
    init(path: String, manager: Manager, logger: Logger, controlGroup: UInt32? = nil, adminGroup: UInt32? = nil) throws {
        self.path = path
        self.manager = manager
        self.logger = logger
        self.adminGroup = adminGroup
        unlink(path)
        let fd = socket(AF_UNIX, drv_sock_stream | drv_sock_cloexec, 0)
        guard fd >= 0 else { throw ManagerError.startFailed("control", "socket: \(String(cString: strerror(errno)))") }
        var addr: UnixAddress
        do { addr = try UnixAddress(path) } catch {
            Glibc.close(fd)
            throw ManagerError.startFailed("control", "\(error)")
        }
        let r = addr.withSockaddr { bind(fd, $0, $1) }
        guard r == 0, listen(fd, 32) == 0 else {
            let e = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ManagerError.startFailed("control", "bind \(path): \(e)")
        }
        if let controlGroup { _ = chown(path, 0, controlGroup) }
        chmod(path, 0o660)
        listenFD = fd
    }

    /// Accepts clients on a thread of its own; one thread per client.
    func start() {
        let t = Thread { [self] in
            while true {
                let c = drv_accept_cloexec(listenFD)
                if c < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                let ct = Thread { [self] in self.serve(c) }
                ct.name = "varlink-client"
                ct.start()
            }
        }
        t.name = "varlink-accept"
        t.start()
    }

    /// Removes the socket file.
    func remove() { unlink(path) }

    /// Whether the peer on `fd` may call mutating methods (SO_PEERCRED).
    private func privileged(_ fd: Int32) -> Bool {
        var pid: Int32 = 0, uid: UInt32 = 0, gid: UInt32 = 0
        guard drv_peer_creds(fd, &pid, &uid, &gid) == 0 else { return false }
        if uid == 0 { return true }
        guard let adminGroup else { return false }
        if gid == adminGroup { return true }
        // Supplementary groups, from the peer's /proc entry.
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let groups = status.split(separator: "\n").first { $0.hasPrefix("Groups:") }?.split(separator: "\t").last ?? ""
        return groups.split(separator: " ").contains { UInt32($0) == adminGroup }
    }

    private func serve(_ fd: Int32) {
        let mayChange = privileged(fd)
        let writeLock = Mutex(())
        let send: @Sendable ([UInt8]) -> Bool = { bytes in
            writeLock.withLock { _ in
                var off = 0
                while off < bytes.count {
                    let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, drv_msg_nosignal) }
                    if n <= 0 { return false }
                    off += n
                }
                return true
            }
        }
        var subscription: UInt64?
        defer {
            if let subscription { manager.unsubscribe(subscription) }
            Glibc.close(fd)
        }
        var framer = VarlinkFramer()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            guard framer.append(chunk[0..<n]) else { return }
            while let msg = framer.next() {
                guard let call = VarlinkCall(message: msg) else {
                    _ = send(Self.frame(error: .invalidParameter, ["parameter": .string("method"), "message": .string("not a varlink call")]))
                    return
                }
                if call.method == ManagerInterface.Method.monitor.fullName {
                    if let bad = call.parameters?.keys.first {
                        _ = send(Self.frame(error: .invalidParameter, ["parameter": .string(bad), "message": .string("unexpected parameter")]))
                        continue
                    }
                    guard call.more == true else {
                        _ = send(Self.frame(error: .invalidParameter, ["parameter": .string("more"), "message": .string("Monitor streams: call with \"more\": true")]))
                        continue
                    }
                    subscription = manager.subscribe { e in
                        if let p = try? VarlinkCodec.parameters(MonitorReply(event: e)),
                           let f = try? VarlinkCodec.frame(VarlinkReply(parameters: p, continues: true)) {
                            _ = send(f)
                        }
                    }
                    continue
                }
                if let m = ManagerInterface.Method.allCases.first(where: { $0.fullName == call.method }),
                   Self.mutating.contains(m), !mayChange {
                    _ = send(Self.frame(error: .permissionDenied, ["method": .string(m.rawValue)]))
                    continue
                }
                let reply = blockingHandle(call)
                if !send(reply) { return }
            }
        }
    }

    static func frame(error: ManagerInterface.ErrorName, _ params: [String: JSONValue]) -> [UInt8] {
        (try? VarlinkCodec.frame(VarlinkReply(parameters: params, error: error.fullName))) ?? [0]
    }

    /// Runs the async handler from this client's thread and waits for it.
    private func blockingHandle(_ call: VarlinkCall) -> [UInt8] {
        let box = Mutex<[UInt8]>([])
        let done = DispatchSemaphore(value: 0)
        Task { [self] in
            let r = await handle(call)
            box.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return box.withLock { $0 }
    }

    func handle(_ call: VarlinkCall) async -> [UInt8] {
        do {
            let params = call.parameters ?? [:]
            let out: [String: JSONValue]
            guard let method = ManagerInterface.Method.allCases.first(where: { $0.fullName == call.method }) else {
                return Self.frame(error: .methodNotFound, ["method": .string(call.method)])
            }
            switch method {
            case .list:
                try Self.allow(params, [])
                out = try VarlinkCodec.parameters(ListReply(drivers: manager.drivers.map { $0.summary() }))
            case .status:
                try Self.allow(params, ["names"])
                let names = try Self.strings(params, "names") ?? []
                let ds = try names.isEmpty ? manager.drivers : names.map { try manager.driver($0) }
                var st: [DriverStatus] = []
                for d in ds { st.append(await d.status()) }
                out = try VarlinkCodec.parameters(StatusReply(drivers: st))
            case .start, .stop, .restart, .resetFailed:
                try Self.allow(params, ["name"])
                let d = try manager.driver(try Self.string(params, "name"))
                switch method {
                case .start: try await d.start()
                case .stop: await d.stop()
                case .restart: _ = try await d.restart()
                default: try d.resetFailed()
                }
                out = try VarlinkCodec.parameters(StateReply(state: d.state))
            case .inject:
                try Self.allow(params, ["name", "kind"])
                let d = try manager.driver(try Self.string(params, "name"))
                let kind = try Self.string(params, "kind")
                guard let f = XPCFault(name: kind) else {
                    throw ManagerError.invalidParameter("kind", "no fault \(kind); expected " + XPCFault.allCases.map(\.name).joined(separator: ", "))
                }
                try await d.inject(f)
                out = try VarlinkCodec.parameters(StateReply(state: d.state))
            case .call:
                try Self.allow(params, ["name", "operation", "arguments"])
                let p = CallParameters(name: try Self.string(params, "name"), operation: try Self.string(params, "operation"),
                                       arguments: try Self.strings(params, "arguments") ?? [])
                out = try VarlinkCodec.parameters(CallReply(result: try await manager.call(p)))
            case .verify:
                try Self.allow(params, ["name"])
                let d = try manager.driver(try Self.string(params, "name"))
                out = try VarlinkCodec.parameters(try await d.verify())
            case .history:
                try Self.allow(params, ["name"])
                let d = try manager.driver(try Self.string(params, "name"))
                out = try VarlinkCodec.parameters(HistoryReply(events: manager.events(for: d.name)))
            case .monitor:
                return Self.frame(error: .invalidParameter, ["parameter": .string("more")])
            }
            return (try? VarlinkCodec.frame(VarlinkReply(parameters: out))) ?? [0]
        } catch let e as ManagerError {
            return Self.frame(error: e.varlinkName, e.parameters)
        } catch let e as XPCError {
            // A call into the u-driver or the nucleus failed: not the caller's parameters.
            let m = ManagerError.callFailed(errno: e.errno != 0 ? e.errno : (e.code == .timeout ? 110 : 5), attribute: e.attribute?.name,
                                            message: "\(e)")
            return Self.frame(error: m.varlinkName, m.parameters)
        } catch {
            return Self.frame(error: .invalidParameter, ["parameter": .string("parameters"), "message": .string("\(error)")])
        }
    }

    // The checks live in ControlInterface (Tests/fuzz/varlink_request
    // runs them); here their error becomes the daemon's.
    static func allow(_ p: [String: JSONValue], _ keys: Set<String>) throws {
        do { try VarlinkParameters.allow(p, keys) } catch { throw ManagerError.invalidParameter(error.parameter, error.message) }
    }

    static func string(_ p: [String: JSONValue], _ k: String) throws -> String {
        do { return try VarlinkParameters.string(p, k) } catch { throw ManagerError.invalidParameter(error.parameter, error.message) }
    }

    static func strings(_ p: [String: JSONValue], _ k: String) throws -> [String]? {
        do { return try VarlinkParameters.strings(p, k) } catch { throw ManagerError.invalidParameter(error.parameter, error.message) }
    }
}
