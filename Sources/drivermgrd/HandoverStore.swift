// SPDX-License-Identifier: GPL-2.0
import CSystemd
import DeviceClasses
import Foundation
import Logging
import Nucleus
import ShadowDriver
import Synchronization
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// What a restarted drivermgrd needs to take over one running u-driver
/// instead of starting it afresh: written to RUNTIME/drivers/NAME.state
/// (JSON, readable by an admin) whenever it changes.
///
/// The channel, the pidfd and the seccomp listener are not in here: they
/// are kept in systemd's file-descriptor store (see ``HandoverStore``).
struct SavedDriver: Codable, Sendable, Equatable {
    /// One completed call of the shadow, as its wire bytes in hex.
    struct Call: Codable, Sendable, Equatable {
        var request: String
        var reply: String
    }

    /// The device the nucleus announced (``NucleusDevice``).
    struct Device: Codable, Sendable, Equatable {
        var instance: UInt32
        /// `enum drvxpc_bus`; absent (files written before serio) = PCI.
        var bus: UInt8?
        var vendor: UInt16
        var device: UInt16
        var revision: UInt8
        var slot: String
        var barSize: UInt32
        var irq: UInt32
        var deviceClass: UInt8
    }

    var name: String
    var pid: Int32
    var device: Device
    var generation: UInt64
    var starts: Int
    /// CLOCK_MONOTONIC of the process's start, ns (the clock is system-wide).
    var startedAt: UInt64
    var chip: String?
    var ownedDMA: [UInt32]
    /// CLOCK_MONOTONIC of the failures the start limit counts.
    var failureTimes: [UInt64]
    var lastFailure: String?
    /// Its dynamic uid (DynamicUser=yes), taken back with NAME.uidlock.
    var uid: UInt32?
    /// The configuration the process was started with, as far as it shapes
    /// the process itself (executable, user, sandbox); a daemon configured
    /// otherwise restarts the driver after taking it over.
    var processConfig: String
    /// The shadow's state, as the calls that rebuild it.
    var shadow: [Call]

    init(name: String, pid: Int32, device d: NucleusDevice, generation: UInt64, starts: Int, startedAt: UInt64,
         chip: String?, ownedDMA: Set<UInt32>, failureTimes: [UInt64], lastFailure: String?, uid: UInt32? = nil,
         processConfig: String, shadow: Shadow) {
        self.uid = uid
        self.name = name
        self.pid = pid
        self.device = Device(instance: d.instance, bus: d.bus.wire, vendor: d.vendor, device: d.device, revision: d.revision, slot: d.slot,
                             barSize: d.barSize, irq: d.irq, deviceClass: d.deviceClass.rawValue)
        self.generation = generation
        self.starts = starts
        self.startedAt = startedAt
        self.chip = chip
        self.ownedDMA = ownedDMA.sorted()
        self.failureTimes = failureTimes
        self.lastFailure = lastFailure
        self.processConfig = processConfig
        self.shadow = shadow.records(instance: d.instance).map { Call(request: Hex.encode($0.request.bytes), reply: Hex.encode($0.reply.bytes)) }
    }

    /// The device, checked: a file that names an unknown class is refused.
    func nucleusDevice() throws -> NucleusDevice {
        guard let cls = XPCDeviceClass(rawValue: device.deviceClass) else {
            throw ManagerError.invalidValue("deviceClass", "unknown device class \(device.deviceClass)")
        }
        let wire = device.bus ?? DeviceBus.pci.wire
        guard let bus = DeviceBus.of(wire: wire) else {
            throw ManagerError.invalidValue("bus", "unknown bus \(wire)")
        }
        return NucleusDevice(instance: device.instance, bus: bus, vendor: device.vendor, device: device.device, revision: device.revision,
                             slot: device.slot, barSize: device.barSize, irq: device.irq, deviceClass: cls)
    }

    /// The shadow, rebuilt; a call that does not decode is an error naming it.
    func rebuiltShadow(_ cls: DeviceClassDescriptor) throws -> Shadow {
        var calls: [(request: XPCMessage, reply: XPCMessage)] = []
        for (i, c) in shadow.enumerated() {
            guard let rq = Hex.decode(c.request), let rp = Hex.decode(c.reply) else {
                throw ManagerError.invalidValue("shadow[\(i)]", "not hex")
            }
            do {
                calls.append((try XPCMessage.decode(rq), try XPCMessage.decode(rp)))
            } catch {
                throw ManagerError.invalidValue("shadow[\(i)]", "\(error)")
            }
        }
        return Shadow(cls.makeClassShadow(), rebuiltFrom: calls)
    }

    /// What of `config` shapes the process, as one comparable line.
    static func processConfig(_ c: DriverConfig) -> String {
        "\(c.executable) sandbox=\(c.sandboxed) user=\(c.dynamicUser ? "dynamic" : c.user) memory=\(c.memoryMax) namespaces=\(c.privateNamespaces) "
            + "syscalls=\(c.syscalls.joined(separator: ","))" + (c.debug.map { " debug=\($0.tool.name)" } ?? "")
    }
}

/// Lower-case hex for the state files (Foundation has base64 but the wire
/// bytes are easier to read against drvxpc.h in hex).
enum Hex {
    static func encode(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count * 2)
        for x in b {
            out.append(digits[Int(x >> 4)])
            out.append(digits[Int(x & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for an odd length or a non-hex digit.
    static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// The daemon's half of surviving its own crash (`--fd-store`).
///
/// Under systemd with `FileDescriptorStoreMax=` and `KillMode=process`, each
/// running u-driver's channel, pidfd, seccomp listener, stderr pipe and
/// dynamic uid lock are handed to systemd with FDSTORE=1 (named NAME.xpc,
/// NAME.pid, NAME.seccomp, NAME.stderr, NAME.uidlock), and its
/// state (device, shadow, counters) is written to RUNTIME/drivers/NAME.state.
/// If drivermgrd dies, the u-drivers run on (their channel stays open in
/// systemd, so they see no EOF) and the nucleus keeps the data path. The
/// restarted daemon receives the descriptors back (LISTEN_FDS with
/// LISTEN_FDNAMES) and adopts each u-driver: no new process, no probe, no
/// replay. systemd drops a stored descriptor on its own once it hangs up
/// (the u-driver died), and empties the store when the unit stops.
final class HandoverStore: Sendable {
    /// RUNTIME/drivers.
    let directory: String
    private let logger: Logger
    /// Descriptors systemd passed at start, by name, until taken.
    private let received: Mutex<[String: Int32]>
    /// Last version written per driver, so a slow writer never overwrites a newer state.
    private let written = Mutex<[String: UInt64]>([:])

    /// Takes the descriptors systemd passed (and unsets LISTEN_FDS, so no
    /// child sees them).
    init(runtimeDirectory: String, logger: Logger) {
        directory = (runtimeDirectory as NSString).appendingPathComponent("drivers")
        self.logger = logger
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = sd_listen_fds_with_names(1, &names)
        var fds: [String: Int32] = [:]
        if n > 0, let names {
            for i in 0..<Int(n) {
                let fd = SD_LISTEN_FDS_START + Int32(i)
                let name = names[i].map { String(cString: $0) } ?? "unknown"
                if let old = fds[name] {
                    // Two under one name: keep the newer (the store keeps insertion order).
                    Glibc.close(old)
                }
                fds[name] = fd
            }
            for i in 0..<Int(n) { free(names[i]) }
            free(names)
        }
        received = Mutex(fds)
        if !fds.isEmpty { logger.info("systemd passed \(fds.count) stored descriptor(s): \(fds.keys.sorted().joined(separator: ", "))") }
    }

    // MARK: state files

    private func path(_ driver: String) -> String { (directory as NSString).appendingPathComponent("\(driver).state") }

    /// Writes `s` unless a newer version was written already (atomically: a
    /// daemon killed mid-write leaves the previous file).
    func save(_ s: SavedDriver, version: UInt64) {
        written.withLock { w in
            guard version > (w[s.name] ?? 0) else { return }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try enc.encode(s).write(to: URL(fileURLWithPath: path(s.name)), options: .atomic)
                w[s.name] = version
            } catch {
                logger.warning("cannot write \(path(s.name)): \(error)")
            }
        }
    }

    /// The state a previous daemon left for `driver`; a file that does not
    /// decode is logged (with the field) and ignored.
    func saved(_ driver: String) -> SavedDriver? {
        guard let data = FileManager.default.contents(atPath: path(driver)) else { return nil }
        do {
            return try JSONDecoder().decode(SavedDriver.self, from: data)
        } catch {
            logger.warning("ignoring \(path(driver)): \(error)")
            return nil
        }
    }

    /// Names of the drivers a previous daemon left state for.
    func savedNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".state") }.map { String($0.dropLast(6)) }.sorted()
    }

    // MARK: systemd's fd store

    /// Takes `driver`'s descriptor of `kind` (xpc, pid…) systemd passed
    /// back (ours from here on).
    func take(_ driver: String, _ kind: String) -> Int32? {
        received.withLock { $0.removeValue(forKey: "\(Self.fdName(driver)).\(kind)") }
    }

    /// `driver` as the first part of an FDNAME: systemd refuses ':' in
    /// one, and "." separates the kind, so a template instance's PCI
    /// address (`rtl8139@0000:00:05.0`) is escaped, reversibly.
    static func fdName(_ driver: String) -> String {
        driver.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3a")
            .replacingOccurrences(of: ".", with: "%2e")
    }

    static func driverName(fromFD name: Substring) -> String {
        name.replacingOccurrences(of: "%2e", with: ".").replacingOccurrences(of: "%3a", with: ":")
            .replacingOccurrences(of: "%25", with: "%")
    }

    /// Hands `driver`'s descriptors to systemd, replacing any it held for
    /// that driver. systemd receives copies; ours stay open.
    func keep(_ driver: String, xpc: Int32, pidfd: Int32, seccomp: Int32?, stderr: Int32?, uidLock: Int32? = nil) {
        release(driver)
        var list: [(String, Int32)] = [("xpc", xpc), ("pid", pidfd)]
        if let seccomp { list.append(("seccomp", seccomp)) }
        // The read end of its stderr pipe: kept, so that the u-driver's
        // writes never meet a pipe without a reader while no daemon runs.
        if let stderr { list.append(("stderr", stderr)) }
        // The lock on its dynamic uid: held by systemd's copy while no
        // daemon runs, so nobody (systemd's DynamicUser= included) takes it.
        if let uidLock { list.append(("uidlock", uidLock)) }
        for (kind, fd) in list {
            var one = fd
            let r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=\(Self.fdName(driver)).\(kind)", &one, 1)
            if r <= 0 { logger.warning("FDSTORE of \(driver).\(kind) failed (\(r)); a daemon restart would reset this driver") }
        }
    }

    /// Takes a descriptor of the daemon's own (no driver's) systemd passed
    /// back under `name`.
    func takeShared(_ name: String) -> Int32? {
        received.withLock { $0.removeValue(forKey: name) }
    }

    /// Hands a descriptor of the daemon's own to systemd under `name`.
    func keepShared(_ name: String, _ fd: Int32) {
        var one = fd
        let r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=\(name)", &one, 1)
        if r <= 0 { logger.warning("FDSTORE of \(name) failed (\(r))") }
    }

    /// Drops `driver`'s descriptors from systemd's store.
    func release(_ driver: String) {
        for kind in ["xpc", "pid", "seccomp", "stderr", "uidlock"] {
            _ = sd_notify(0, "FDSTOREREMOVE=1\nFDNAME=\(Self.fdName(driver)).\(kind)")
        }
    }

    /// A driver stopped or was removed: no state, nothing stored. A save
    /// still in flight from before (a version at or below `version`) is
    /// not written.
    func forget(_ driver: String, version: UInt64 = .max) {
        release(driver)
        written.withLock { w in
            w[driver] = max(w[driver] ?? 0, version)
            unlink(path(driver))
        }
    }

    /// After adoption: whatever no configured driver took belongs to a
    /// u-driver nobody will serve. Its channel gets SHUTDOWN and is
    /// closed, its state and stored descriptors go.
    func dropUnclaimed() {
        let left = received.withLock { r in defer { r = [:] }; return r }
        for (name, fd) in left.sorted(by: { $0.key < $1.key }) {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2, parts[1] == "xpc" {
                let s = XPCSocket(adopting: fd)
                try? s.send(XPCMessage(op: .shutdown, flags: .request, seq: 1).bytes)
                logger.notice("u-driver \(Self.driverName(fromFD: parts[0])) is no longer configured: asked it to shut down")
            } else {
                Glibc.close(fd)
            }
            if parts.count == 2 { forget(Self.driverName(fromFD: parts[0])) }
        }
        for n in savedNames() where written.withLock({ $0[n] == nil }) { unlink(path(n)) }
    }
}
