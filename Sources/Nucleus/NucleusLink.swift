// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
import XPC

/// A device the nucleus bound and announced (DEVICE_ADD): its instance,
/// who it is on its bus, its class.
public struct NucleusDevice: Sendable, Equatable {
    public let instance: UInt32
    public let identity: DeviceIdentity
    public let deviceClass: XPCDeviceClass

    /// The bus it is on; `vendor` and `device` are that bus's two ids.
    public var bus: DeviceBus { identity.bus }
    public var vendor: UInt16 { identity.vendor }
    public var device: UInt16 { identity.device }
    public var revision: UInt8 { identity.revision }
    public var slot: String { identity.slot }
    public var barSize: UInt32 { identity.barSize }
    public var irq: UInt32 { identity.irq }

    /// Device `instance`, `identity` on its bus, of class `cls`.
    public init(_ instance: UInt32, _ identity: DeviceIdentity, _ cls: XPCDeviceClass) {
        self.instance = instance
        self.identity = identity
        self.deviceClass = cls
    }

    public init(instance: UInt32, bus: DeviceBus = .pci, vendor: UInt16, device: UInt16, revision: UInt8, slot: String,
                barSize: UInt32, irq: UInt32, deviceClass: XPCDeviceClass) {
        self.init(instance, DeviceIdentity(bus: bus, vendor: vendor, device: device, revision: revision, slot: slot,
                                           barSize: barSize, irq: irq), deviceClass)
    }

    /// Decodes a DEVICE_ADD notification: the class, then the identity its bus carries.
    public init(deviceAdd m: XPCMessage) throws {
        guard let cls = XPCDeviceClass(rawValue: try m.u8(.deviceClass)) else {
            throw XPCError(.outOfRange, attribute: .deviceClass)
        }
        self.init(m.instance, try DeviceIdentity(decoding: m), cls)
    }

    /// `1274:1371` on PCI (as lspci -n writes it); elsewhere the bus's
    /// `Match=` spelling, `serio:01:00`.
    public var pciID: String {
        bus == .pci ? String(format: "%04x:%04x", vendor, device) : identity.match
    }
}

/// What the nucleus tells the daemon.
public enum NucleusEvent: Sendable {
    /// A device is bound and waits for its u-driver.
    case deviceAdded(NucleusDevice)
    /// An upcall for a u-driver (or a PING, the null upcall): answer it with
    /// ``NucleusLink/send(_:)`` using the request's sequence number.
    case upcall(XPCMessage)
    /// Something arrived that did not decode, or a reply to nothing.
    case protocolError(String)
    /// The link went down; the data path goes on without the daemon.
    case disconnected
}

/// The daemon's view of a nucleus: one protocol, a sim backend (unix
/// seqpacket to nucleus-sim) now and a kernel backend (generic netlink to
/// drvnucleus.ko) later, carrying the same drvxpc messages.
public protocol NucleusLink: Sendable {
    /// Human name for logs: "nucleus-sim at /run/…".
    var description: String { get }
    /// Connects, registers as the broker and starts delivering events.
    func connect(events: @escaping @Sendable (NucleusEvent) -> Void) throws
    /// Sends a downcall or management request and delivers its reply.
    func call(_ message: XPCMessage, timeout: Duration, completion: @escaping XPCConnection.Completion)
    /// Sends a reply to an upcall.
    func send(_ message: XPCMessage) throws
    /// Closes the link.
    func close()
}

extension NucleusLink {
    /// `call` for async callers; a negative status comes back as a reply.
    public func call(_ message: XPCMessage, timeout: Duration) async throws -> XPCMessage {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<XPCMessage, Error>) in
            call(message, timeout: timeout) { k.resume(with: $0.mapError { $0 as Error }) }
        }
    }
}

/// A nucleus reached over an XPC transport: nucleus-sim's unix seqpacket
/// socket, or drvnucleus.ko's generic netlink family. The messages, and
/// so everything above this type, are the same.
public final class XPCNucleusLink: NucleusLink {
    /// What it connects to; for ``auto(simPath:)``, what it found last.
    public var description: String { described.withLock { $0 } }
    private let described: Mutex<String>
    private let open: @Sendable () throws -> (any XPCTransport, String)
    private let conn = Mutex<XPCConnection?>(nil)

    /// Calls made before the first connect: an adopted u-driver's downcalls
    /// (the daemon takes its u-drivers over before it connects), sent once
    /// the link is up, or failed at their deadline.
    private struct Early {
        let id: UInt64
        let message: XPCMessage
        let deadline: ContinuousClock.Instant
        let completion: XPCConnection.Completion
    }
    private let early = Mutex<(calls: [Early], nextID: UInt64, connected: Bool)>(([], 0, false))

    /// A link that connects with `open`, which returns the transport and
    /// what it reached.
    public init(description: String, open: @escaping @Sendable () throws -> (any XPCTransport, String)) {
        self.described = Mutex(description)
        self.open = open
    }

    static let kernelName = "drvnucleus.ko (generic netlink)"

    /// Whether it reached drvnucleus.ko (real PCI devices, whose binding
    /// sysfs decides), not nucleus-sim.
    public var isKernel: Bool { description == Self.kernelName }

    /// nucleus-sim at `path`.
    public static func sim(path: String) -> XPCNucleusLink {
        let name = "nucleus-sim at \(path)"
        return XPCNucleusLink(description: name) { (try XPCSocket.connect(path: path), name) }
    }

    /// drvnucleus.ko, through generic netlink.
    public static func kernel() -> XPCNucleusLink {
        XPCNucleusLink(description: kernelName) { (try GenlTransport(), kernelName) }
    }

    /// drvnucleus.ko when its family is registered, nucleus-sim at
    /// `simPath` otherwise, decided again at every connect: a daemon
    /// started before the module is loaded takes the module once it is
    /// there, instead of settling on a simulator that never comes.
    public static func auto(simPath: String) -> XPCNucleusLink {
        let sim = "nucleus-sim at \(simPath)"
        return XPCNucleusLink(description: "\(kernelName), or \(sim)") {
            if GenlTransport.available { return (try GenlTransport(), kernelName) }
            do {
                return (try XPCSocket.connect(path: simPath), sim)
            } catch {
                throw XPCError(.closed, "neither drvnucleus.ko is loaded nor \(sim) answers (\(error))")
            }
        }
    }

    public func connect(events: @escaping @Sendable (NucleusEvent) -> Void) throws {
        let (transport, reached) = try open()
        described.withLock { $0 = reached }
        let c = XPCConnection(name: "nucleus", transport: transport, onEvent: { _, ev in
            switch ev {
            case .message(let m) where m.op == .deviceAdd:
                do { events(.deviceAdded(try NucleusDevice(deviceAdd: m))) } catch {
                    events(.protocolError("DEVICE_ADD: \(error)"))
                }
            case .message(let m) where (m.op.isUpcall || m.op == .ping) && m.isRequest:
                events(.upcall(m))
            case .message(let m):
                events(.protocolError("unexpected \(m.op.name) from the nucleus"))
            case .malformed(let e, _):
                events(.protocolError("malformed message from the nucleus: \(e)"))
            case .unexpectedReply(let m):
                events(.protocolError("reply to no call: \(m.op.name) seq \(m.seq)"))
            }
        }, onClose: { _ in events(.disconnected) })
        conn.withLock { $0 = c }
        c.start()
        c.call(XPCMessage(op: .register, flags: .request, attributes: [.u32(.version, XPCLimits.version)]),
               timeout: .seconds(5)) { r in
            if case .failure(let e) = r { events(.protocolError("REGISTER failed: \(e)")) }
        }
        // After REGISTER, in the order they were made.
        let waiting = early.withLock { e -> [Early] in
            e.connected = true
            defer { e.calls = [] }
            return e.calls
        }
        let now = ContinuousClock.now
        for w in waiting {
            if w.deadline <= now {
                w.completion(.failure(XPCError(.timeout, "\(w.message.op.name): \(description) not connected in time")))
            } else {
                c.call(w.message, timeout: w.deadline - now, completion: w.completion)
            }
        }
    }

    public func call(_ message: XPCMessage, timeout: Duration, completion: @escaping XPCConnection.Completion) {
        enum Route { case send(XPCConnection), held(UInt64), closed }
        let route = early.withLock { e -> Route in
            if let c = conn.withLock({ $0 }) { return .send(c) }
            guard !e.connected else { return .closed }
            e.nextID += 1
            e.calls.append(Early(id: e.nextID, message: message, deadline: .now + timeout, completion: completion))
            return .held(e.nextID)
        }
        switch route {
        case .send(let c):
            c.call(message, timeout: timeout, completion: completion)
        case .closed:
            completion(.failure(XPCError(.closed, "not connected to \(description)")))
        case .held(let id):
            Task { [self] in
                try? await Task.sleep(for: timeout)
                let w = early.withLock { e -> Early? in
                    guard let i = e.calls.firstIndex(where: { $0.id == id }) else { return nil }
                    return e.calls.remove(at: i)
                }
                w?.completion(.failure(XPCError(.timeout, "\(message.op.name): \(description) not connected in time")))
            }
        }
    }

    public func send(_ message: XPCMessage) throws {
        guard let c = conn.withLock({ $0 }) else { throw XPCError(.closed, "not connected to \(description)") }
        try c.send(message)
    }

    public func close() { conn.withLock { $0?.close(); $0 = nil } }
}
