// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
import Testing
@testable import drivermgrd

/// The kernel's side of binding, modelled: functions with an id, a driver
/// and a driver_override; registered drivers with the ids they match;
/// drivers_probe binds by override first, else by id, as
/// drivers/pci/pci-driver.c's pci_match_device does.
final class ModelPCIBus: PCIBus, @unchecked Sendable {
    struct Function { var vendor: UInt16; var device: UInt16; var driver: String?; var override: String? }
    let state: Mutex<(functions: [String: Function], drivers: [String: Set<UInt32>], refuses: Set<String>, writes: [String])>

    /// `drivers`: name → the vendor<<16|device ids it matches (drvnucleus: none).
    init(_ functions: [String: Function], drivers: [String: Set<UInt32>], refuses: Set<String> = []) {
        state = Mutex((functions, drivers, refuses, []))
    }

    func functions() -> [String] { state.withLock { Array($0.functions.keys) } }
    func id(of slot: String) -> (vendor: UInt16, device: UInt16)? {
        state.withLock { s in s.functions[slot].map { ($0.vendor, $0.device) } }
    }
    func driver(of slot: String) -> String? { state.withLock { $0.functions[slot]?.driver } }
    func driverOverride(of slot: String) -> String? { state.withLock { $0.functions[slot]?.override } }
    func hasDriver(_ name: String) -> Bool { state.withLock { $0.drivers[name] != nil } }
    var writes: [String] { state.withLock { $0.writes } }

    func setDriverOverride(_ slot: String, _ driver: String?) throws(PCIBindError) {
        state.withLock { s in
            s.writes.append("override \(slot) \(driver ?? "-")")
            s.functions[slot]?.override = driver
        }
    }
    func unbind(_ slot: String, from driver: String) throws(PCIBindError) {
        try state.withLock { s throws(PCIBindError) in
            s.writes.append("unbind \(slot) \(driver)")
            guard s.functions[slot]?.driver == driver else { throw .sysfs(slot: slot, file: "unbind", errno: ENODEV) }
            s.functions[slot]?.driver = nil
        }
    }
    func probe(_ slot: String) throws(PCIBindError) {
        state.withLock { s in
            s.writes.append("probe \(slot)")
            guard var f = s.functions[slot], f.driver == nil else { return }
            let id = UInt32(f.vendor) << 16 | UInt32(f.device)
            let candidate: String?
            if let o = f.override {
                candidate = s.drivers[o] != nil ? o : nil
            } else {
                candidate = s.drivers.keys.sorted().first { s.drivers[$0]?.contains(id) == true }
            }
            if let c = candidate, !s.refuses.contains(c) { f.driver = c }
            s.functions[slot] = f
        }
    }
}

@Suite struct PCIBindingTests {
    static let nic = "0000:00:05.0", sound = "0000:00:04.0"
    static let rtl: UInt32 = 0x10ec_8139

    func bus(nucleus: Bool = true, refuses: Set<String> = [], override: String? = nil, holder: String? = "8139too") -> ModelPCIBus {
        var drivers: [String: Set<UInt32>] = ["8139too": [Self.rtl], "snd_ens1370": [0x1274_5000]]
        if nucleus { drivers["drvnucleus"] = [] }
        return ModelPCIBus([
            Self.nic: .init(vendor: 0x10ec, device: 0x8139, driver: holder, override: override),
            Self.sound: .init(vendor: 0x1274, device: 0x5000, driver: "snd_ens1370", override: nil),
        ], drivers: drivers, refuses: refuses)
    }

    @Test func takesTheFunctionFromTheStockDriverAndGivesItBack() throws {
        let b = bus()
        let p = PCIBinding(bus: b)
        let o = try p.claim(Self.nic)
        #expect(o == PCIBinding.Outcome(slot: Self.nic, holder: "8139too", already: false))
        #expect(b.driver(of: Self.nic) == "drvnucleus" && b.driverOverride(of: Self.nic) == "drvnucleus")
        #expect(b.writes == ["override \(Self.nic) drvnucleus", "unbind \(Self.nic) 8139too", "probe \(Self.nic)"],
                "override before unbind: the stock driver cannot take it back in between")
        #expect(b.driver(of: Self.sound) == "snd_ens1370", "the other function untouched")
        #expect(try p.claim(Self.nic).already)
        #expect(try p.release(Self.nic) == "8139too")
        #expect(b.driverOverride(of: Self.nic) == nil)
    }

    @Test func withoutDrvnucleusNothingIsTouched() {
        let b = bus(nucleus: false)
        #expect(throws: PCIBindError.nucleusNotLoaded(slot: Self.nic)) { try PCIBinding(bus: b).claim(Self.nic) }
        #expect(b.writes.isEmpty && b.driver(of: Self.nic) == "8139too")
    }

    @Test func aFunctionAnotherToolClaimedIsLeftAlone() {
        let b = bus(override: "vfio-pci", holder: "vfio-pci")
        #expect(throws: PCIBindError.claimed(slot: Self.nic, override: "vfio-pci", holder: "vfio-pci")) {
            try PCIBinding(bus: b).claim(Self.nic)
        }
        #expect(b.writes.isEmpty)
        let e = PCIBindError.claimed(slot: Self.nic, override: "vfio-pci", holder: "vfio-pci")
        #expect(e.description == "0000:00:05.0: claimed by driver_override=vfio-pci, bound to vfio-pci; not taking it")
    }

    /// drvnucleus refusing the probe (a chip it lacks, no resources): the
    /// stock driver has the function again, and the error says so.
    @Test func aFailedHandOverLeavesTheStockDriverBound() {
        let b = bus(refuses: ["drvnucleus"])
        #expect(throws: PCIBindError.notTaken(slot: Self.nic, holder: "8139too", restoredTo: "8139too")) {
            try PCIBinding(bus: b).claim(Self.nic)
        }
        #expect(b.driver(of: Self.nic) == "8139too" && b.driverOverride(of: Self.nic) == nil)
    }

    @Test func bindSelectsFunctionsByMatchOrByAddress() throws {
        let p = PCIBinding(bus: bus())
        #expect(try p.slots(for: .matching, vendor: 0x10ec, device: 0x8139) == [Self.nic])
        #expect(try p.slots(for: .no, vendor: 0x10ec, device: 0x8139) == [])
        #expect(try p.slots(for: .slots([Self.nic]), vendor: 0x10ec, device: 0x8139) == [Self.nic])
        #expect(throws: PCIBindError.noDevice(slot: Self.sound, why: "is 1274:5000, not pci:10ec:8139 as Match= says")) {
            try p.slots(for: .slots([Self.sound]), vendor: 0x10ec, device: 0x8139)
        }
        #expect(throws: PCIBindError.noDevice(slot: "0000:00:09.0", why: "no such PCI function")) {
            try p.slots(for: .slots(["0000:00:09.0"]), vendor: 0x10ec, device: 0x8139)
        }
    }

    @Test(arguments: [("no", BindSetting.no), ("yes", .matching), ("0000:00:05.0", .slots(["0000:00:05.0"])),
                      ("0000:00:05.0 0000:01:00.7", .slots(["0000:00:05.0", "0000:01:00.7"]))])
    func bindValues(_ text: String, _ want: BindSetting) {
        #expect(BindSetting(text) == want)
    }

    /// What a reload compares: whether the old and the new Bind= name the
    /// function the driver holds.
    @Test func bindClaimsTheFunctionsItNames() {
        #expect(!BindSetting.no.claims(Self.nic))
        #expect(BindSetting.matching.claims(Self.nic))
        #expect(BindSetting.slots([Self.nic]).claims(Self.nic))
        #expect(!BindSetting.slots([Self.sound]).claims(Self.nic))
    }

    @Test(arguments: ["maybe", "00:05.0", "0000:00:05.8", "0000:00:05.0,0000:00:04.0", "0000:00:0G.0", "0000:00:05.0x"])
    func badBindValues(_ text: String) {
        #expect(BindSetting(text) == nil)
    }

    /// The real layout, on a directory that looks like /sys: ids read from
    /// `vendor`/`device`, the driver from the `driver` link, writes to the
    /// files the kernel has.
    @Test func sysfsLayout() throws {
        let root = NSTemporaryDirectory() + "drvsys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dev = root + "/bus/pci/devices/\(Self.nic)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dev, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/bus/pci/drivers/8139too", withIntermediateDirectories: true)
        try "0x10ec\n".write(toFile: dev + "/vendor", atomically: true, encoding: .utf8)
        try "0x8139\n".write(toFile: dev + "/device", atomically: true, encoding: .utf8)
        try "(null)\n".write(toFile: dev + "/driver_override", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dev + "/driver", withDestinationPath: "../../../../bus/pci/drivers/8139too")
        let s = SysfsPCIBus(root: root)
        #expect(s.functions() == [Self.nic])
        #expect(s.id(of: Self.nic)?.vendor == 0x10ec && s.id(of: Self.nic)?.device == 0x8139)
        #expect(s.driver(of: Self.nic) == "8139too" && s.driverOverride(of: Self.nic) == nil)
        #expect(s.hasDriver("8139too") && !s.hasDriver("drvnucleus"))
        try s.setDriverOverride(Self.nic, "drvnucleus")
        #expect(s.driverOverride(of: Self.nic) == "drvnucleus")
        // drivers_probe is the kernel's file: absent here, the write fails with the file named.
        #expect(throws: PCIBindError.sysfs(slot: Self.nic, file: root + "/bus/pci/drivers_probe", errno: ENOENT)) {
            try s.probe(Self.nic)
        }
        #expect(throws: PCIBindError.nucleusNotLoaded(slot: Self.nic)) { try PCIBinding(bus: s).claim(Self.nic) }
    }
}
