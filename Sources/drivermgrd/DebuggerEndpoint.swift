// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import CSpawn
import Foundation
import Logging
import Supervisor
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// Where a debugger reaches a u-driver under `drvctl debug --gdb`: a
/// listening socket of drivermgrd's. Each connection gets a gdbserver of its
/// own, started then, attached to the u-driver serving at that moment, and
/// speaking the remote protocol on the connection itself (`gdbserver -`), so
/// the u-driver runs freely while no debugger is connected and is detached
/// when it leaves. One debugger at a time; another is closed at once.
///
/// The Unix socket is owned by the caller of `drvctl debug`, mode 0600, and a
/// peer of another uid (root excepted) is refused (SO_PEERCRED). The TCP
/// form listens on 127.0.0.1 only, and any local user can connect to it.
final class DebuggerEndpoint: Sendable {
    /// The socket's path, or 127.0.0.1:PORT.
    let address: String
    private let listenFD: Int32
    private let owner: UInt32?
    private let unixPath: String?
    private struct State {
        var closed = false
        var server: pid_t?
        var attached: Int32?
    }
    private let state = Mutex(State())

    /// A Unix socket at `path` (its directory made 0755 if missing), owned
    /// by `uid`/`gid`, mode 0600.
    init(path: String, uid: UInt32, gid: UInt32) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        let fd: Int32
        do {
            fd = try listenUnix(path: path, type: drv_sock_stream, mode: 0o600, owner: (uid, gid), backlog: 4)
        } catch let e as XPCError where e.code == .oversized {
            throw ManagerError.invalidValue("endpoint", "\(e)")
        } catch {
            throw ManagerError.startFailed("debug", "listening on \(path): \(error)")
        }
        address = path
        listenFD = fd
        owner = uid
        unixPath = path
    }

    /// 127.0.0.1:`port`.
    init(tcpPort port: UInt16) throws {
        let fd = socket(AF_INET, drv_sock_stream | drv_sock_cloexec, 0)
        guard fd >= 0 else { throw ManagerError.startFailed("debug", "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let r = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0, listen(fd, 4) == 0 else {
            let e = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ManagerError.startFailed("debug", "listening on 127.0.0.1:\(port): \(e)")
        }
        address = "127.0.0.1:\(port)"
        listenFD = fd
        owner = nil
        unixPath = nil
    }

    /// The u-driver a debugger is attached to now, if one is.
    var attachedPID: Int32? { state.withLock { $0.attached } }

    /// Accepts debuggers on a thread of its own until ``close()``: for each,
    /// `program` (gdbserver) with `options` and the pid `target()` names
    /// (nil: no u-driver serves now, the connection is closed). What the
    /// server writes on stderr goes to `logger`.
    func serve(program: String, options: [String], target: @escaping @Sendable () -> Int32?, logger: Logger) {
        let t = Thread { [self] in
            while true {
                let c = drv_accept_cloexec(listenFD)
                if c < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                if let owner {
                    var pid: Int32 = 0, uid: UInt32 = 0, gid: UInt32 = 0
                    guard drv_peer_creds(c, &pid, &uid, &gid) == 0, uid == owner || uid == 0 else {
                        logger.warning("debugger connection from uid \(uid) (pid \(pid)) refused: \(address) belongs to uid \(owner)")
                        Glibc.close(c)
                        continue
                    }
                }
                guard let pid = target() else {
                    logger.warning("debugger connection closed: no u-driver serves now")
                    Glibc.close(c)
                    continue
                }
                if let busy = state.withLock({ $0.attached }) {
                    // Closed at once rather than left in the backlog, where
                    // gdb's remote timeout would expire.
                    logger.warning("debugger connection closed: one is attached to pid \(busy) already")
                    Glibc.close(c)
                    continue
                }
                state.withLock { $0.attached = pid }
                let session = Thread { [self] in attach(c, pid, program, options, logger) }
                session.name = "debug-session"
                session.start()
            }
        }
        t.name = "debug-accept"
        t.start()
    }

    /// One debugger: gdbserver on connection `c` until it leaves.
    private func attach(_ c: Int32, _ pid: Int32, _ program: String, _ options: [String], _ logger: Logger) {
        defer { Glibc.close(c) }
        var errPipe: [Int32] = [-1, -1]
        guard drv_pipe(&errPipe) == 0 else {
            state.withLock { $0.attached = nil }
            logger.error("debugger connection: no pipe for \(program)'s stderr: \(String(cString: strerror(errno)))")
            return
        }
        // gdbserver runs as the u-driver's user (the owner of /proc/PID),
        // with CAP_SYS_PTRACE alone.
        var st = stat()
        guard stat("/proc/\(pid)", &st) == 0 else {
            state.withLock { $0.attached = nil }
            Glibc.close(errPipe[0])
            Glibc.close(errPipe[1])
            logger.warning("debugger connection closed: pid \(pid) is gone")
            return
        }
        let args = [program] + options + ["\(pid)"]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let started: Int32? = state.withLock { s in
            guard !s.closed else {
                s.attached = nil
                return nil
            }
            var child: pid_t = 0
            let r = drv_spawn_tool(program, &argv, c, errPipe[1], st.st_uid, st.st_gid, &child)
            guard r == 0 else {
                logger.error("debugger connection: \(program) did not start: \(String(cString: strerror(-r)))")
                s.attached = nil
                return nil
            }
            s.server = child
            s.attached = pid
            return child
        }
        Glibc.close(errPipe[1])
        let h = FileHandle(fileDescriptor: errPipe[0], closeOnDealloc: true)
        guard let server = started else { return }
        logger.notice("debugger connected on \(address): \(program) (pid \(server), uid \(st.st_uid), CAP_SYS_PTRACE) attaching to pid \(pid)",
                      metadata: ["PID": "\(pid)"])
        var pending = Data()
        while case let d = h.availableData, !d.isEmpty {
            pending.append(d)
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                pending = Data(pending[pending.index(after: nl)...])
                if !line.isEmpty { logger.notice("\((program as NSString).lastPathComponent): \(line)", metadata: ["PID": "\(pid)"]) }
            }
        }
        var status: Int32 = 0
        _ = drv_wait_pid(server, &status)
        state.withLock { s in
            s.server = nil
            s.attached = nil
        }
        logger.notice("debugger left \(address); \((program as NSString).lastPathComponent) ended (wait status \(status)), pid \(pid) runs on",
                      metadata: ["PID": "\(pid)"])
    }

    /// Ends the debugger session in progress, if any (its gdbserver
    /// killed: the kernel detaches the u-driver, which runs on); the socket
    /// keeps accepting.
    func detach() {
        let (server, traced) = state.withLock { ($0.server, $0.attached) }
        guard let server else { return }
        kill(server, SIGKILL)
        // The kernel detaches the tracee; a SIGSTOP of the attach that the
        // tracer never consumed would leave it stopped.
        if let traced { kill(traced, SIGCONT) }
    }

    /// Stops accepting, ends a debugger session in progress (its gdbserver
    /// killed: the kernel detaches the u-driver) and removes the socket.
    func close() {
        let server: pid_t? = state.withLock { s in
            s.closed = true
            return s.server
        }
        shutdown(listenFD, Int32(SHUT_RDWR))
        Glibc.close(listenFD)
        if let unixPath { unlink(unixPath) }
        if let server { kill(server, SIGKILL) }
    }
}
