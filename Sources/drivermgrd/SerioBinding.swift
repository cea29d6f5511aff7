// SPDX-License-Identifier: GPL-2.0
import Foundation
import Nucleus
import XPC
#if canImport(Glibc)
import Glibc
#endif

extension DriverConfig {
    /// Whether `d` is a device `Match=` names: the bus and both ids.
    func matches(_ d: NucleusDevice) -> Bool { d.bus == bus && d.vendor == vendor && d.device == device }
}

/// How `Bind=` hands a bus's devices to drvnucleus and back: one value per
/// bus in ``Manager``'s table (PCI: ``PCIBinding``; serio: ``SerioBinding``).
protocol DeviceHandover: Sendable {
    /// The devices `setting` names for a driver matching the two ids.
    func slots(for setting: BindSetting, vendor: UInt16, device: UInt16) throws(PCIBindError) -> [String]
    /// Gives `slot` to drvnucleus.
    func claim(_ slot: String) throws(PCIBindError) -> PCIBinding.Outcome
    /// Gives `slot` back to whichever stock driver takes it; returns it.
    func release(_ slot: String) throws(PCIBindError) -> String?
}

extension PCIBinding: DeviceHandover {}

/// The serio bus as sysfs shows it: what ``SerioBinding`` reads and writes.
/// ``SysfsSerioBus`` is the real one; the tests model the kernel's side.
protocol SerioBus: Sendable {
    /// Every port's name, `serio1`.
    func ports() -> [String]
    /// Its type and protocol (`id/type`, `id/proto`).
    func id(of port: String) -> (type: UInt16, proto: UInt16)?
    /// The driver bound to it, if any.
    func driver(of port: String) -> String?
    /// Whether a serio driver of that name is registered.
    func hasDriver(_ name: String) -> Bool
    /// Writes the port's `drvctl`: a driver's name binds it to that driver
    /// (the current one is disconnected first); `rescan` lets the drivers
    /// that match by id take it.
    func drvctl(_ port: String, _ command: String) throws(PCIBindError)
}

/// Hands serio ports to drvnucleus and back through each port's `drvctl`
/// (drivers/input/serio/serio.c: drvctl_store), the way `serio_raw` users
/// do. drvnucleus's serio driver binds only so (manual_bind): `rescan`
/// gives the port back to the stock driver (psmouse) and never to it.
struct SerioBinding: DeviceHandover {
    static let nucleus = "drvnucleus"
    let bus: any SerioBus

    func slots(for setting: BindSetting, vendor: UInt16, device: UInt16) throws(PCIBindError) -> [String] {
        switch setting {
        case .no: return []
        case .matching:
            return bus.ports().filter { p in bus.id(of: p).map { $0.type == vendor && $0.proto == device } ?? false }.sorted()
        case .slots(let ports):
            for p in ports {
                guard let id = bus.id(of: p) else { throw .noDevice(slot: p, why: "no such serio port") }
                guard id.type == vendor && id.proto == device else {
                    throw .noDevice(slot: p, why: String(format: "is serio:%02x:%02x, not serio:%02x:%02x as Match= says",
                                                         id.type, id.proto, vendor, device))
                }
            }
            return ports
        }
    }

    func claim(_ slot: String) throws(PCIBindError) -> PCIBinding.Outcome {
        let holder = bus.driver(of: slot)
        if holder == Self.nucleus { return PCIBinding.Outcome(slot: slot, holder: holder, already: true) }
        guard bus.hasDriver(Self.nucleus) else { throw .nucleusNotLoaded(slot: slot) }
        do { try bus.drvctl(slot, Self.nucleus) } catch {
            // The port is back with its stock driver, not left with none.
            try? bus.drvctl(slot, "rescan")
            throw error
        }
        guard bus.driver(of: slot) == Self.nucleus else {
            try? bus.drvctl(slot, "rescan")
            throw .notTaken(slot: slot, holder: holder, restoredTo: bus.driver(of: slot))
        }
        return PCIBinding.Outcome(slot: slot, holder: holder, already: false)
    }

    func release(_ slot: String) throws(PCIBindError) -> String? {
        if bus.driver(of: slot) == Self.nucleus { try bus.drvctl(slot, "rescan") }
        return bus.driver(of: slot)
    }
}

/// /sys/bus/serio (under `root`, for tests of the real file layout).
struct SysfsSerioBus: SerioBus {
    var root = "/sys"
    private var bus: String { root + "/bus/serio" }

    func ports() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: bus + "/devices")) ?? []
    }

    func id(of port: String) -> (type: UInt16, proto: UInt16)? {
        func hex(_ f: String) -> UInt16? {
            guard let d = FileManager.default.contents(atPath: "\(bus)/devices/\(port)/id/\(f)") else { return nil }
            return UInt16(String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
        }
        guard let t = hex("type"), let p = hex("proto") else { return nil }
        return (t, p)
    }

    func driver(of port: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(bus)/devices/\(port)/driver") else { return nil }
        return (target as NSString).lastPathComponent
    }

    func hasDriver(_ name: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: "\(bus)/drivers/\(name)", isDirectory: &isDir) && isDir.boolValue
    }

    func drvctl(_ port: String, _ command: String) throws(PCIBindError) {
        // No newline: drvctl_store compares the whole write.
        let path = "\(bus)/devices/\(port)/drvctl"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .sysfs(slot: port, file: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(command.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw .sysfs(slot: port, file: path, errno: n < 0 ? errno : EIO) }
    }
}
