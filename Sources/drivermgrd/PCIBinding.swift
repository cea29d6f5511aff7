// SPDX-License-Identifier: GPL-2.0
import Foundation
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// `Bind=` of a driver's [Driver] section: which PCI functions drivermgrd
/// hands to drvnucleus when the driver starts.
enum BindSetting: Sendable, Equatable {
    /// Never (the default): drvnucleus gets devices from its `ids=`
    /// parameter, a driver_override set by hand, or driverctl.
    case no
    /// Every function that matches `Match=`.
    case matching
    /// These functions (`0000:00:04.0`), each of which must match `Match=`.
    case slots([String])

    /// `no`, `yes`, or addresses on `bus` separated by spaces (PCI:
    /// `0000:00:04.0`; serio: `serio1`).
    init?(_ text: String, bus: DeviceBus = .pci) {
        switch text.lowercased() {
        case "no", "false", "off", "0", "": self = .no
        case "yes", "true", "on", "1": self = .matching
        default:
            let slots = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let serio = bus == DeviceBus.serio
            guard !slots.isEmpty, slots.allSatisfy({ serio ? Self.isSerioPort($0) : Self.isSlot($0) }) else { return nil }
            self = .slots(slots)
        }
    }

    /// Whether this setting hands the function at `slot` (one that matches
    /// the driver's `Match=`) to drvnucleus.
    func claims(_ slot: String) -> Bool {
        switch self {
        case .no: false
        case .matching: true
        case .slots(let ss): ss.contains(slot)
        }
    }

    /// `serio1`, as the kernel names serio ports.
    static func isSerioPort(_ s: String) -> Bool {
        s.hasPrefix("serio") && s.count > 5 && s.dropFirst(5).allSatisfy(\.isNumber)
    }

    /// `DDDD:BB:DD.F` in lower-case hex, as sysfs names functions.
    static func isSlot(_ s: String) -> Bool {
        let hex = Set("0123456789abcdef")
        let a = Array(s)
        guard a.count == 12, a[4] == ":", a[7] == ":", a[10] == "." else { return false }
        let digits = a[0..<4] + a[5..<7] + a[8..<10]
        return digits.allSatisfy { hex.contains($0) } && ("0"..."7").contains(a[11])
    }
}

/// The PCI bus as sysfs shows it: what ``PCIBinding`` reads and writes.
/// ``SysfsPCIBus`` is the real one; the tests model the kernel's side.
protocol PCIBus: Sendable {
    /// Every function's address, `0000:00:04.0`.
    func functions() -> [String]
    /// Its vendor and device ids.
    func id(of slot: String) -> (vendor: UInt16, device: UInt16)?
    /// The driver bound to it, if any.
    func driver(of slot: String) -> String?
    /// Its driver_override, if set.
    func driverOverride(of slot: String) -> String?
    /// Whether a driver of that name is registered (its module loaded).
    func hasDriver(_ name: String) -> Bool
    /// Sets (or, with nil, clears) driver_override.
    func setDriverOverride(_ slot: String, _ driver: String?) throws(PCIBindError)
    /// Unbinds it from `driver`.
    func unbind(_ slot: String, from driver: String) throws(PCIBindError)
    /// Asks the kernel to bind it (drivers_probe): driver_override first,
    /// else the drivers whose ids match.
    func probe(_ slot: String) throws(PCIBindError)
}

/// Why a function was not handed over or back; each names the function.
enum PCIBindError: Error, Equatable, CustomStringConvertible {
    /// drvnucleus is not loaded: nothing was touched.
    case nucleusNotLoaded(slot: String)
    /// Another tool set the function's driver_override (driverctl,
    /// vfio-pci's users): it is theirs.
    case claimed(slot: String, override: String, holder: String?)
    /// drvnucleus did not take it; the function went back to `restoredTo`.
    case notTaken(slot: String, holder: String?, restoredTo: String?)
    /// No such function, or it does not match the driver's `Match=`.
    case noDevice(slot: String, why: String)
    /// A sysfs write failed.
    case sysfs(slot: String, file: String, errno: Int32)

    var description: String {
        switch self {
        case .nucleusNotLoaded(let s):
            return "\(s): drvnucleus is not loaded (modprobe drvnucleus); the device was left as it was"
        case .claimed(let s, let o, let h):
            return "\(s): claimed by driver_override=\(o)\(h.map { ", bound to \($0)" } ?? ""); not taking it"
        case .notTaken(let s, let h, let r):
            return "\(s): drvnucleus did not take it (see the kernel log); given back to \(r ?? "no driver")"
                + (h != nil && h != r ? " (it was bound to \(h ?? ""))" : "")
        case .noDevice(let s, let why): return "\(s): \(why)"
        case .sysfs(let s, let f, let e): return "\(s): writing \(f): \(String(cString: strerror(e)))"
        }
    }
}

/// Hands PCI functions to drvnucleus and back, the way driverctl and
/// vfio-pci users do: driver_override, unbind from the holder,
/// drivers_probe. The stock driver is never left unbound by a failed
/// hand-over: the override is cleared and the function probed again.
struct PCIBinding: Sendable {
    static let nucleus = "drvnucleus"
    let bus: any PCIBus

    /// What happened to one function.
    struct Outcome: Equatable, Sendable {
        var slot: String
        /// The driver it had before (nil: none).
        var holder: String?
        /// Whether it was drvnucleus's already.
        var already: Bool
    }

    /// The functions `setting` names for a driver matching vendor:device.
    func slots(for setting: BindSetting, vendor: UInt16, device: UInt16) throws(PCIBindError) -> [String] {
        switch setting {
        case .no: return []
        case .matching:
            return bus.functions().filter { s in bus.id(of: s).map { $0.vendor == vendor && $0.device == device } ?? false }.sorted()
        case .slots(let slots):
            for s in slots {
                guard let id = bus.id(of: s) else { throw .noDevice(slot: s, why: "no such PCI function") }
                guard id.vendor == vendor && id.device == device else {
                    throw .noDevice(slot: s, why: String(format: "is %04x:%04x, not pci:%04x:%04x as Match= says", id.vendor, id.device, vendor, device))
                }
            }
            return slots
        }
    }

    /// Gives `slot` to drvnucleus.
    func claim(_ slot: String) throws(PCIBindError) -> Outcome {
        let holder = bus.driver(of: slot)
        if holder == Self.nucleus { return Outcome(slot: slot, holder: holder, already: true) }
        if let o = bus.driverOverride(of: slot), o != Self.nucleus {
            throw .claimed(slot: slot, override: o, holder: holder)
        }
        guard bus.hasDriver(Self.nucleus) else { throw .nucleusNotLoaded(slot: slot) }
        try bus.setDriverOverride(slot, Self.nucleus)
        if let holder {
            do { try bus.unbind(slot, from: holder) } catch {
                try? bus.setDriverOverride(slot, nil)
                throw error
            }
        }
        try? bus.probe(slot)
        guard bus.driver(of: slot) == Self.nucleus else {
            // Back to whoever takes it without the override: the stock driver.
            try? bus.setDriverOverride(slot, nil)
            if let d = bus.driver(of: slot) { try? bus.unbind(slot, from: d) }
            try? bus.probe(slot)
            throw .notTaken(slot: slot, holder: holder, restoredTo: bus.driver(of: slot))
        }
        return Outcome(slot: slot, holder: holder, already: false)
    }

    /// Gives `slot` back: off drvnucleus, override cleared, probed, so the
    /// stock driver (if its module is loaded) takes it. Returns its driver.
    func release(_ slot: String) throws(PCIBindError) -> String? {
        if bus.driver(of: slot) == Self.nucleus { try bus.unbind(slot, from: Self.nucleus) }
        if bus.driverOverride(of: slot) == Self.nucleus { try bus.setDriverOverride(slot, nil) }
        try? bus.probe(slot)
        return bus.driver(of: slot)
    }
}

/// /sys/bus/pci (under `root`, for tests of the real file layout).
struct SysfsPCIBus: PCIBus {
    var root = "/sys"
    private var bus: String { root + "/bus/pci" }

    func functions() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: bus + "/devices")) ?? []
    }

    private func read(_ path: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func id(of slot: String) -> (vendor: UInt16, device: UInt16)? {
        func hex(_ f: String) -> UInt16? {
            guard let t = read("\(bus)/devices/\(slot)/\(f)"), t.hasPrefix("0x") else { return nil }
            return UInt16(t.dropFirst(2), radix: 16)
        }
        guard let v = hex("vendor"), let d = hex("device") else { return nil }
        return (v, d)
    }

    func driver(of slot: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(bus)/devices/\(slot)/driver") else { return nil }
        return (target as NSString).lastPathComponent
    }

    func driverOverride(of slot: String) -> String? {
        guard let t = read("\(bus)/devices/\(slot)/driver_override"), !t.isEmpty, t != "(null)" else { return nil }
        return t
    }

    func hasDriver(_ name: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: "\(bus)/drivers/\(name)", isDirectory: &isDir) && isDir.boolValue
    }

    private func write(_ path: String, _ text: String, slot: String) throws(PCIBindError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .sysfs(slot: slot, file: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw .sysfs(slot: slot, file: path, errno: n < 0 ? errno : EIO) }
    }

    func setDriverOverride(_ slot: String, _ driver: String?) throws(PCIBindError) {
        // A lone newline clears it (drivers/base/driver.c: driver_set_override).
        try write("\(bus)/devices/\(slot)/driver_override", (driver ?? "") + "\n", slot: slot)
    }

    func unbind(_ slot: String, from driver: String) throws(PCIBindError) {
        try write("\(bus)/drivers/\(driver)/unbind", slot, slot: slot)
    }

    func probe(_ slot: String) throws(PCIBindError) {
        try write("\(bus)/drivers_probe", slot, slot: slot)
    }
}
