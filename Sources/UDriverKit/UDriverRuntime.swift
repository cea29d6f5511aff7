// SPDX-License-Identifier: GPL-2.0
import CRuntimeFaults
import CSandbox
import Dispatch
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// The u-driver main loop: takes the one inherited fd (3), answers HELLO,
/// then serves upcalls one at a time, in order, replying to each.
///
/// A u-driver's `main` is one line:
/// `UDriverRuntime.main(ENS137x.self)`.
public enum UDriverRuntime {
    /// A u-driver's entry point: ``run(_:protocolVersion:)`` on the
    /// concurrency pool while the main thread waits, then exit. Not an
    /// `async` main: that ends in dispatch_main(), on which Debian 12's
    /// valgrind 3.19 crashes (`drvctl debug NAME --valgrind`).
    public static func main<D: UDriver>(_ driver: D.Type, protocolVersion: UInt32 = XPCLimits.version) -> Never {
        blockingMain { await run(driver, protocolVersion: protocolVersion) }
    }

    /// Runs `body` on the calling (main) thread, as the jobs of a task that
    /// prefers it (``MainThreadExecutor``); then exits 0.
    ///
    /// Not on the concurrency pool: the first job libdispatch's global
    /// queues run starts its worker-pool monitor, a timer that wakes the
    /// process every second for the rest of its life (reading its workers'
    /// /proc stat). Two thousand idle u-drivers and standbys spent a tenth
    /// of a core on it. The serve loop then moves to its channel's reader
    /// thread, and nothing in a u-driver touches the pool.
    public static func blockingMain(_ body: @escaping @Sendable () async -> Void) -> Never {
        let main = MainThreadExecutor()
        Task(executorPreference: main) {
            await body()
            exit(0)
        }
        main.run()
    }

    /// The fd drivermgrd passes: the XPC socket.
    public static let xpcFD: Int32 = 3
    /// How long a downcall of `op` may take before the u-driver gives up:
    /// the daemon's deadline for it (``XPCOp/downcallDeadline``, a PS/2
    /// reset's longer than a register read's) and half a second, so that
    /// the daemon's answer to one that ran out at the nucleus arrives
    /// first and the driver sees the nucleus's error, not its own timeout.
    public static func downcallTimeout(_ op: XPCOp) -> Duration { op.downcallDeadline + .milliseconds(500) }

    /// Runs a u-driver of any class until the daemon closes the channel.
    /// `protocolVersion` is what HELLO's reply reports: this runtime's own
    /// (a test fixture reports another, which drivermgrd must refuse).
    public static func run<D: UDriver>(_ driver: D.Type, protocolVersion: UInt32 = XPCLimits.version) async {
        await serve(expecting: D.deviceClass, settingOps: D.settingOps, protocolVersion: protocolVersion) { device, info in
            let d = D(device: device, info: info)
            return { m in
                if m.op == .probe { return [.string(.chipName, try await d.probe(reattach: m.flags.contains(.reattach)))] }
                try await D.beforeServing(m, on: device)
                return try await d.dispatch(m)
            }
        }
    }

    typealias Handler = @Sendable (XPCMessage) async throws -> [XPCAttribute]

    /// A fault the daemon asked for (`drvctl inject`), acted on by the loop.
    enum PendingFault { case none, slow, lostWrite }

    /// Stage 2 of the sandbox, first thing: when the daemon's first message
    /// is SANDBOX, stack a filter allowing only the calls it names (anything
    /// else is reported to the daemon, which ends the process), and hand the
    /// daemon its listener. Before any driver code runs or any request is
    /// read. Returns a first message that was something else, to be served.
    static func enterSandbox(_ socket: XPCSocket) -> XPCMessage? {
        let bytes: [UInt8]
        do {
            guard let b = try socket.receive() else { die("drivermgrd closed the channel before the first message") }
            bytes = b
        } catch {
            die("no first message from drivermgrd: \(error)")
        }
        guard let first = try? XPCMessage.decode(bytes) else { die("drivermgrd's first message does not decode") }
        guard first.op == .sandbox else { return first }
        let names = first.all(.syscallName).map(\.string)
        let cstrs = names.map { strdup($0) }
        var ptrs: [UnsafePointer<CChar>?] = cstrs.map { UnsafePointer($0) }
        var bad: Int32 = -1
        let fd = drv_seccomp_stage2(&ptrs, Int32(ptrs.count), getpid(), &bad)
        cstrs.forEach { free($0) }
        guard fd >= 0 else {
            let why = bad >= 0 && Int(bad) < names.count ? "unknown system call \(names[Int(bad)])" : "seccomp: \(-fd)"
            try? socket.send(XPCMessage.errorReply(to: first, errno: -fd, attribute: .syscallName, message: why).bytes)
            die("stage 2 of the sandbox refused: \(why)")
        }
        let reply = XPCMessage.reply(to: first).bytes
        let r = reply.withUnsafeBytes { drv_send_with_fd(socket.fd, $0.baseAddress, $0.count, fd) }
        close(fd)
        if r < 0 { die("cannot hand the seccomp listener to drivermgrd: sendmsg: \(String(cString: strerror(-Int32(r))))") }
        return nil
    }

    /// What the schema (drvxpc.h's attribute table) decides: a request
    /// drivermgrd sent cannot fail these unless this process decodes it
    /// wrongly. A missing attribute is the request's content, not its form.
    static let decodeErrors: Set<XPCError.Code> = [.truncated, .oversized, .badLength, .unknownOp, .badFlags,
                                                    .unknownAttribute, .wrongLength, .outOfRange, .badString, .badNesting]

    /// The `flood` fault: register reads of the BAR's first word sent as
    /// fast as the socket takes them, none awaited, until the daemon ends
    /// the process (or a million went out).
    static func flood(_ socket: XPCSocket, instance: UInt32) {
        for i in 0..<1_000_000 {
            let m = XPCMessage(op: .regRead, flags: .request, seq: UInt32(truncatingIfNeeded: 0x8000_0000 | i),
                               instance: instance, attributes: [.u32(.regOffset, 0), .u8(.regWidth, 4)])
            do { try socket.send(m.bytes) } catch { return }
        }
    }

    /// The process's name (comm, what ps and the journal show) from argv[0]:
    /// started from the descriptor drivermgrd opened (its checkout is in a
    /// directory this uid cannot search), the kernel named it "5". Before
    /// stage 2, which has no open.
    static func nameProcess() {
        guard let arg0 = CommandLine.arguments.first else { return }
        let base = Array(String(arg0.split(separator: "/").last ?? Substring(arg0)).utf8.prefix(15))
        let fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = base.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// One line on stderr, which drivermgrd logs under the driver's name.
    static func note(_ line: String) {
        let bytes = Array("\(line)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Says why on stderr (drivermgrd logs it under the driver's name) and
    /// exits 1: the u-driver cannot start.
    static func die(_ why: String) -> Never {
        let name = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "u-driver"
        let line = Array("\(name): \(why)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }

    private static func serve(expecting cls: XPCDeviceClass, settingOps: Set<XPCOp>, protocolVersion: UInt32,
                              make: @Sendable (Device, DeviceInfo) -> Handler) async {
        let socket = XPCSocket(adopting: xpcFD)
        nameProcess()
        let early = enterSandbox(socket)
        let queue = UpcallQueue()
        if let early { queue.push(early) }
        // Downcalls are kept until answered and start at a random seq: the
        // daemon names each one to the nucleus by this process's pid and
        // its seq, so a pid used again does not meet an old call's answer.
        let conn = XPCConnection(name: "daemon", socket: socket, firstSeq: UInt32.random(in: 1...0xf000_0000),
                                 keepsRequests: true, onEvent: { c, ev in
            guard case .message(let m) = ev else { return }
            if m.op == .takeover {
                // On the reader thread, not in the queue: the upcall being
                // served may be waiting for one of these.
                let n = c.resendPending()
                if n > 0 { note("drivermgrd restarted: \(n) unanswered downcall(s) sent again") }
                return
            }
            queue.push(m)
        }, onClose: { _ in queue.finish() })
        conn.start()
        // Served on the channel's reader thread: a request is read, served
        // and answered by one thread, and a downcall's reply resumes the
        // upcall that awaits it there too, with no hop to the concurrency
        // pool and back (XPCReaderExecutor). Driver actors run there as well.
        await withTaskExecutorPreference(conn.executor) {
            var handler: Handler?
            // Whether the driver object's PROBE succeeded: until it has,
            // it serves no other upcall. A pipelined take-over (HELLO, PROBE
            // and the replay sent back to back) must not run the replay on
            // a driver that did not adopt its device.
            var probed = false
            var device: Device?
            var barSize: UInt32 = 0
            var fault = PendingFault.none
            var served = ServedUpcalls()
            while let m = await queue.next() {
                if m.op == .hello {
                    // A HELLO that fails leaves no driver object behind (a
                    // greeted standby's would otherwise take the PROBE).
                    handler = nil
                    probed = false
                    do {
                        let info = try DeviceInfo(hello: m)
                        guard info.deviceClass == cls else {
                            try? conn.send(.errorReply(to: m, errno: 22, attribute: .deviceClass,
                                                       message: "this u-driver serves \(cls.name), not \(info.deviceClass.name)"))
                            continue
                        }
                        let dev = Device(instance: info.instance) { req in
                            try await conn.call(req, timeout: downcallTimeout(req.op))
                        }
                        device = dev
                        barSize = info.barSize
                        handler = make(dev, info)
                        try? conn.send(.reply(to: m, attributes: [.u32(.version, protocolVersion),
                                                                  .u8(.deviceClass, cls.rawValue),
                                                                  .string(.buildID, BuildID.current)]))
                    } catch {
                        try? conn.send(.errorReply(to: m, errno: 22, attribute: (error as? XPCError)?.attribute,
                                                   message: "\(error)"))
                    }
                    continue
                }
                if m.op == .ping {
                    // A PING that is not a request is a standby woken ahead
                    // of its take-over: nothing to answer.
                    if m.isRequest { try? conn.send(.reply(to: m)) }
                    continue
                }
                if m.op == .shutdown {
                    try? conn.send(.reply(to: m))
                    break
                }
                if m.op == .inject {
                    guard let k = m.attribute(.faultKind).flatMap({ XPCFault(rawValue: $0.u8) }) else {
                        try? conn.send(.errorReply(to: m, errno: 22, attribute: .faultKind, message: "no such fault"))
                        continue
                    }
                    try? conn.send(.reply(to: m))
                    switch k {
                    case .crash: raise(SIGSEGV)
                    case .abort: abort()
                    case .hang: DispatchSemaphore(value: 0).wait() // stuck: serves nothing more
                    case .slow: fault = .slow
                    case .badParam: _ = try? await device?.read32(barSize)
                    case .garbage: try? socket.send([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0])
                    case .memory: udrv_fault_memory()
                    case .syscall: _ = udrv_fault_syscall()
                    case .forkBomb: _ = udrv_fault_fork_bomb()
                    case .flood: flood(socket, instance: device?.instance ?? m.instance)
                    case .lostWrite: fault = .lostWrite
                    }
                    continue
                }
                guard m.isRequest else { continue }
                guard let handler else {
                    try? conn.send(.errorReply(to: m, errno: 71, message: "\(m.op.name) before HELLO"))
                    continue
                }
                guard probed || m.op == .probe else {
                    try? conn.send(.errorReply(to: m, errno: 19, message: "\(m.op.name) before a PROBE that succeeded"))
                    continue
                }
                if case .slow = fault {
                    // Answer well past the caller's deadline.
                    fault = .none
                    try? await Task.sleep(for: .microseconds(Int64(max(m.header.timeoutMicros, 100_000)) * 3))
                }
                if case .lostWrite = fault, settingOps.contains(m.op) {
                    // Done, it says; the chip never heard of it.
                    fault = .none
                    try? conn.send(.reply(to: m))
                    continue
                }
                let upcallID = m.attribute(.upcallID)?.u32
                if let upcallID, let done = served.reply(to: upcallID) {
                    // The nucleus sent it again: the daemon that asked first
                    // died before it passed the answer on. Served once.
                    try? conn.send(done.withSeq(m.seq))
                    note("\(m.op.name) (upcall \(upcallID)) sent again after drivermgrd's restart: answered from the first time")
                    continue
                }
                let reply: XPCMessage
                do {
                    let attrs = try await handler(m)
                    reply = .reply(to: m, attributes: attrs)
                } catch let e as UDriverError {
                    reply = .errorReply(to: m, errno: e.errno, attribute: e.attribute, message: e.message)
                } catch let e as XPCError {
                    // A request that did not decode as this driver reads it:
                    // EPROTO, which drivermgrd checks against its own decoding.
                    let errno: Int32 = e.errno != 0 ? e.errno : (Self.decodeErrors.contains(e.code) ? 71 : 5)
                    reply = .errorReply(to: m, errno: errno, attribute: e.attribute, message: "\(m.op.name): \(e.description)")
                } catch {
                    reply = .errorReply(to: m, errno: 5, message: "\(error)")
                }
                if m.op == .probe { probed = reply.status == 0 }
                if let upcallID { served.keep(reply, for: upcallID) }
                try? conn.send(reply)
            }
        }
        conn.close()
    }
}
