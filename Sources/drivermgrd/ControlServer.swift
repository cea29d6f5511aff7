// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import ControlInterface
import Foundation
import Logging
import Supervisor
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// Serves io.drivermgr.Manager and org.varlink.service on a unix stream
/// socket: NUL-terminated JSON Varlink calls, each call's parameters checked
/// against the interface definition (io.drivermgr.Manager.varlink) before
/// its handler runs; Varlink's standard errors, `oneway` and `more`.
final class ControlServer: Sendable {
    let path: String
    private let manager: Manager
    private let logger: Logger
    private let listenFD: Int32
    /// Group allowed to call the mutating methods, besides root.
    private let adminGroup: UInt32?

    /// Methods that change something: root or `adminGroup` only.
    static let mutating: Set<ManagerInterface.Method> = [.start, .stop, .unbind, .restart, .call, .inject, .resetFailed, .update, .debug]

    /// Binds `path` (mode 0660, group `controlGroup` if given) and listens;
    /// replaces a stale socket. Connecting needs read-write access to the
    /// socket: root and `controlGroup` can list, show status, history and
    /// monitor; changing anything takes root or `adminGroup`.
    init(path: String, manager: Manager, logger: Logger, controlGroup: UInt32? = nil, adminGroup: UInt32? = nil) throws {
        self.path = path
        self.manager = manager
        self.logger = logger
        self.adminGroup = adminGroup
        guard Self.parsedDefinitions != nil else {
            let e = (try? ManagerInterface.definition()).map { _ in "org.varlink.service" } ?? "io.drivermgr.Manager"
            throw ManagerError.startFailed("control", "the built-in \(e) definition does not parse")
        }
        // The group only where the daemon may give it (as root).
        let owner = controlGroup.flatMap { geteuid() == 0 ? (uid_t(0), gid_t($0)) : nil }
        do {
            listenFD = try listenUnix(path: path, type: drv_sock_stream, mode: 0o660, owner: owner, backlog: 32)
        } catch {
            throw ManagerError.startFailed("control", "\(error)")
        }
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
        var cpid: Int32 = 0, cuid: UInt32 = 0, cgid: UInt32 = 0
        // Unknown credentials make the caller nobody (65534): a debug
        // socket it would own is then of use to no one.
        let caller = drv_peer_creds(fd, &cpid, &cuid, &cgid) == 0 ? Caller(uid: cuid, gid: cgid) : Caller(uid: 65534, gid: 65534)
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
            // Calls are answered one at a time, in order. A Monitor call
            // never ends, so once it streams the connection takes no other
            // call (as sd-varlink does): its events never interleave with
            // other replies. Calls sent after it wait unread, up to the
            // framer's limit.
            while subscription == nil, let msg = framer.next() {
                guard let call = VarlinkCall(message: msg) else {
                    // Not a call: nothing to answer it by; the stream is lost.
                    _ = send(Self.frame(standard: .invalidParameter, ["parameter": .string("method")]))
                    return
                }
                let oneway = call.oneway == true
                if call.method == ManagerInterface.Method.monitor.fullName, call.upgrade != true,
                   (try? Self.definition.check(call.parameters ?? [:], against: [])) != nil {
                    guard call.more == true else {
                        if !oneway { _ = send(Self.frame(standard: .expectedMore, [:])) }
                        continue
                    }
                    if oneway { continue }
                    subscription = manager.subscribe { e in
                        if let p = try? VarlinkCodec.parameters(MonitorReply(event: e)),
                           let f = try? VarlinkCodec.frame(VarlinkReply(parameters: p, continues: true)) {
                            _ = send(f)
                        }
                    }
                    continue
                }
                let reply = blockingHandle(call, mayChange: mayChange, caller: caller)
                if oneway { continue }
                if !send(reply) { return }
            }
        }
    }

    /// io.drivermgr.Manager's definition, parsed once; the server does not
    /// start if it does not parse (ControlServer.init).
    static let parsedDefinitions: (manager: VarlinkInterface, service: VarlinkInterface)? = {
        guard let m = try? ManagerInterface.definition(), let s = try? VarlinkService.definition() else { return nil }
        return (m, s)
    }()
    static var definition: VarlinkInterface {
        // init refuses to start without them, so this is always set here.
        parsedDefinitions?.manager ?? VarlinkInterface(emptyNamed: ManagerInterface.name)
    }
    static var serviceDefinition: VarlinkInterface { parsedDefinitions?.service ?? VarlinkInterface(emptyNamed: VarlinkService.name) }

    static func frame(error: ManagerInterface.ErrorName, _ params: [String: JSONValue]) -> [UInt8] {
        (try? VarlinkCodec.frame(VarlinkReply(parameters: params, error: error.fullName))) ?? [0]
    }

    static func frame(standard error: VarlinkService.ErrorName, _ params: [String: JSONValue]) -> [UInt8] {
        (try? VarlinkCodec.frame(VarlinkReply(parameters: params, error: error.fullName))) ?? [0]
    }

    /// Runs the async handler from this client's thread and waits for it.
    private func blockingHandle(_ call: VarlinkCall, mayChange: Bool, caller: Caller) -> [UInt8] {
        let box = Mutex<[UInt8]>([])
        let done = DispatchSemaphore(value: 0)
        Task { [self] in
            let r = await handle(call, mayChange: mayChange, caller: caller)
            box.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return box.withLock { $0 }
    }

    /// What the daemon says of itself in GetInfo.
    static var info: [String: JSONValue] {
        ["vendor": .string("drivermgr"), "product": .string("drivermgrd"), "version": .string(DrivermgrVersion.string),
         "url": .string(""),
         "interfaces": .array([.string(VarlinkService.name), .string(ManagerInterface.name)])]
    }

    /// Who made a call (SO_PEERCRED): a debug socket is theirs.
    struct Caller: Sendable {
        let uid: UInt32
        let gid: UInt32
    }

    /// Where `drvctl debug --gdb` sockets go: debug/ beside the control socket.
    var debugDirectory: String { (path as NSString).deletingLastPathComponent + "/debug" }

    /// The reply to one call (not Monitor with `more`, which serve streams).
    func handle(_ call: VarlinkCall, mayChange: Bool = true, caller: Caller = Caller(uid: 0, gid: 0)) async -> [UInt8] {
        let params = call.parameters ?? [:]
        guard let dot = call.method.lastIndex(of: ".") else {
            return Self.frame(standard: .interfaceNotFound, ["interface": .string(call.method)])
        }
        let interface = String(call.method[..<dot]), name = String(call.method[call.method.index(after: dot)...])
        if call.upgrade == true {
            return Self.frame(standard: .invalidParameter, ["parameter": .string("upgrade")])
        }
        if interface == VarlinkService.name {
            return handleService(name, params)
        }
        guard interface == ManagerInterface.name else {
            return Self.frame(standard: .interfaceNotFound, ["interface": .string(interface)])
        }
        guard let declared = Self.definition.methods[name] else {
            return Self.frame(standard: .methodNotFound, ["method": .string(call.method)])
        }
        guard let method = ManagerInterface.Method(rawValue: name) else {
            return Self.frame(standard: .methodNotImplemented, ["method": .string(call.method)])
        }
        do throws(VarlinkTypeMismatch) {
            try Self.definition.check(params, against: declared.input)
        } catch {
            return Self.frame(standard: .invalidParameter, ["parameter": .string(error.parameter)])
        }
        if Self.mutating.contains(method), !mayChange {
            return Self.frame(standard: .permissionDenied, [:])
        }
        do {
            // The reply's parameters, encoded once, into the frame: not into a
            // JSONValue tree first (a thousand drivers' list spent 60 % of its
            // time decoding that tree again).
            let out: any Encodable
            switch method {
            case .list:
                out = ListReply(drivers: manager.drivers.map { $0.summary() })
            case .status:
                let names = try Self.strings(params, "names") ?? []
                let ds = try names.isEmpty ? manager.drivers : names.map { try manager.driver($0) }
                var st: [DriverStatus] = []
                for d in ds { st.append(await d.status()) }
                out = StatusReply(drivers: st)
            case .start, .stop, .restart, .resetFailed:
                let d = try manager.driver(try Self.string(params, "name"))
                switch method {
                case .start: try await manager.start(d)
                case .stop: await d.stop()
                case .restart: _ = try await d.restart()
                default: try d.resetFailed()
                }
                out = StateReply(state: d.state)
            case .unbind:
                let d = try manager.driver(try Self.string(params, "name"))
                let (slot, now) = try await manager.unbind(d)
                out = UnbindReply(state: d.state, device: slot, driver: now)
            case .update:
                let u = UpdateParameters(name: try Self.string(params, "name"), executable: try Self.optionalString(params, "executable"))
                let d = try manager.driver(u.name)
                let exe = u.executable
                if let exe, !exe.hasPrefix("/") {
                    throw ManagerError.invalidValue("executable", "\(exe): an absolute path is needed (drvctl passes one)")
                }
                let o = try await d.liveUpdate(executable: exe)
                out = UpdateReply(state: d.state, previousPid: Int(o.previousPID), pid: Int(o.pid),
                                                              executable: o.executable, buildId: o.buildID, usec: o.usec,
                                                              replayedCalls: o.replayed, queuedRequests: o.drained)
            case .debug:
                let p = DebugParameters(name: try Self.string(params, "name"), tool: try Self.string(params, "tool"),
                                        tcpPort: try Self.optionalInt(params, "tcpPort"))
                let d = try manager.driver(p.name)
                let o: DriverInstance.DebugOutcome
                if p.tool == DebugParameters.off {
                    if p.tcpPort != nil { throw ManagerError.invalidValue("tcpPort", "only with tool gdb") }
                    o = try await d.stopDebugging()
                } else {
                    guard let tool = DebugTool.named(p.tool) else {
                        throw ManagerError.invalidValue("tool", "no tool \(p.tool); expected "
                                                        + (DebugTool.all.map(\.name) + [DebugParameters.off]).joined(separator: ", "))
                    }
                    var port: UInt16?
                    if let n = p.tcpPort {
                        guard tool.mode == .attach else { throw ManagerError.invalidValue("tcpPort", "only with a tool a debugger connects to (gdb)") }
                        guard let v = UInt16(exactly: n), v > 0 else { throw ManagerError.invalidValue("tcpPort", "\(n) is not a port (1-65535)") }
                        port = v
                    }
                    o = try await d.startDebugging(tool, tcpPort: port, socketPath: debugDirectory + "/" + d.name + ".gdb",
                                                   owner: (caller.uid, caller.gid))
                }
                out = DebugReply(state: d.state, previousPid: Int(o.swap.previousPID), pid: Int(o.swap.pid),
                                                             tool: o.tool, endpoint: o.endpoint, widening: o.widening, usec: o.swap.usec)
            case .inject:
                let d = try manager.driver(try Self.string(params, "name"))
                let kind = try Self.string(params, "kind")
                guard let f = XPCFault(name: kind) else {
                    throw ManagerError.invalidValue("kind", "no fault \(kind); expected " + XPCFault.allCases.map(\.name).joined(separator: ", "))
                }
                try await d.inject(f)
                out = StateReply(state: d.state)
            case .call:
                let p = CallParameters(name: try Self.string(params, "name"), operation: try Self.string(params, "operation"),
                                       arguments: try Self.strings(params, "arguments") ?? [])
                out = CallReply(result: try await manager.call(p))
            case .verify:
                let d = try manager.driver(try Self.string(params, "name"))
                out = try await d.verify()
            case .history:
                let d = try manager.driver(try Self.string(params, "name"))
                out = HistoryReply(events: manager.events(for: d.name))
            case .monitor:
                // Monitor without "more" (serve streams it with).
                return Self.frame(standard: .expectedMore, [:])
            }
            return (try? VarlinkCodec.frameReply(out)) ?? [0]
        } catch let e as ManagerError {
            return Self.frame(error: e.varlinkName, e.parameters)
        } catch let e as XPCError {
            // A call into the u-driver or the nucleus failed: not the caller's parameters.
            let m = ManagerError.callFailed(errno: e.errno != 0 ? e.errno : (e.code == .timeout ? 110 : 5), attribute: e.attribute?.name,
                                            message: "\(e)")
            return Self.frame(error: m.varlinkName, m.parameters)
        } catch let e as VarlinkParameters.Invalid {
            return Self.frame(standard: .invalidParameter, ["parameter": .string(e.parameter)])
        } catch {
            let m = ManagerError.callFailed(errno: 5, attribute: nil, message: "\(error)")
            return Self.frame(error: m.varlinkName, m.parameters)
        }
    }

    /// org.varlink.service: GetInfo and GetInterfaceDescription.
    private func handleService(_ name: String, _ params: [String: JSONValue]) -> [UInt8] {
        guard let declared = Self.serviceDefinition.methods[name], let method = VarlinkService.Method(rawValue: name) else {
            return Self.frame(standard: .methodNotFound, ["method": .string(VarlinkService.name + "." + name)])
        }
        do throws(VarlinkTypeMismatch) {
            try Self.serviceDefinition.check(params, against: declared.input)
        } catch {
            return Self.frame(standard: .invalidParameter, ["parameter": .string(error.parameter)])
        }
        let out: [String: JSONValue]
        switch method {
        case .getInfo:
            out = Self.info
        case .getInterfaceDescription:
            guard case .string(let i)? = params["interface"] else {
                return Self.frame(standard: .invalidParameter, ["parameter": .string("interface")])
            }
            switch i {
            case ManagerInterface.name: out = ["description": .string(ManagerInterface.definitionText)]
            case VarlinkService.name: out = ["description": .string(VarlinkService.definitionText)]
            default: return Self.frame(standard: .interfaceNotFound, ["interface": .string(i)])
            }
        }
        return (try? VarlinkCodec.frame(VarlinkReply(parameters: out))) ?? [0]
    }

    // The typed getters live in ControlInterface (Tests/fuzz/varlink_request
    // runs them); the definition's check has passed before they run.
    static func string(_ p: [String: JSONValue], _ k: String) throws(VarlinkParameters.Invalid) -> String {
        try VarlinkParameters.string(p, k)
    }

    static func optionalString(_ p: [String: JSONValue], _ k: String) throws(VarlinkParameters.Invalid) -> String? {
        try VarlinkParameters.optionalString(p, k)
    }

    static func strings(_ p: [String: JSONValue], _ k: String) throws(VarlinkParameters.Invalid) -> [String]? {
        try VarlinkParameters.strings(p, k)
    }

    static func optionalInt(_ p: [String: JSONValue], _ k: String) throws(VarlinkParameters.Invalid) -> Int? {
        try VarlinkParameters.optionalInt(p, k)
    }
}
