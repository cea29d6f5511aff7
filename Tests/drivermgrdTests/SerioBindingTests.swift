// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
import Testing
@testable import drivermgrd

/// The serio bus's side of binding, modelled on drivers/input/serio/
/// serio.c: a port's drvctl takes a driver's name (disconnect, then bind
/// that driver) or `rescan` (disconnect, then the first driver whose id
/// table matches and that is not manual_bind); drvnucleus is manual_bind.
final class ModelSerioBus: SerioBus, @unchecked Sendable {
    struct Port { var type: UInt16; var proto: UInt16; var driver: String? }
    let state: Mutex<(ports: [String: Port], autoDrivers: [String], manualDrivers: Set<String>, refuses: Set<String>, writes: [String])>

    /// `autoDrivers`: the drivers rescan may bind, in match order
    /// (psmouse); `manualDrivers`: bound only by name (drvnucleus).
    init(_ ports: [String: Port], autoDrivers: [String], manualDrivers: Set<String>, refuses: Set<String> = []) {
        state = Mutex((ports, autoDrivers, manualDrivers, refuses, []))
    }

    func ports() -> [String] { state.withLock { Array($0.ports.keys) } }
    func id(of port: String) -> (type: UInt16, proto: UInt16)? { state.withLock { s in s.ports[port].map { ($0.type, $0.proto) } } }
    func driver(of port: String) -> String? { state.withLock { $0.ports[port]?.driver } }
    func hasDriver(_ name: String) -> Bool { state.withLock { $0.autoDrivers.contains(name) || $0.manualDrivers.contains(name) } }
    var writes: [String] { state.withLock { $0.writes } }

    func drvctl(_ port: String, _ command: String) throws(PCIBindError) {
        try state.withLock { s throws(PCIBindError) in
            s.writes.append("\(port) \(command)")
            guard s.ports[port] != nil else { throw .sysfs(slot: port, file: "drvctl", errno: ENOENT) }
            s.ports[port]?.driver = nil
            if command == "rescan" {
                s.ports[port]?.driver = s.autoDrivers.first { !s.refuses.contains($0) }
            } else if s.autoDrivers.contains(command) || s.manualDrivers.contains(command) {
                if !s.refuses.contains(command) { s.ports[port]?.driver = command }
            } else {
                throw .sysfs(slot: port, file: "drvctl", errno: EINVAL)
            }
        }
    }
}

@Suite struct SerioBindingTests {
    static func bus(nucleus: Bool = true, refuses: Set<String> = []) -> ModelSerioBus {
        ModelSerioBus(["serio0": .init(type: 0x06, proto: 0, driver: "atkbd"), "serio1": .init(type: 0x01, proto: 0, driver: "psmouse")],
                      autoDrivers: ["psmouse"], manualDrivers: nucleus ? ["drvnucleus"] : [], refuses: refuses)
    }

    @Test func theAUXPortGoesToDrvnucleusAndBackToPsmouse() throws {
        let b = Self.bus(), p = SerioBinding(bus: b)
        #expect(try p.slots(for: .matching, vendor: 0x01, device: 0x00) == ["serio1"], "the keyboard port is not a mouse's")
        let o = try p.claim("serio1")
        #expect(o == PCIBinding.Outcome(slot: "serio1", holder: "psmouse", already: false))
        #expect(b.driver(of: "serio1") == "drvnucleus" && b.driver(of: "serio0") == "atkbd")
        #expect(try p.claim("serio1").already)
        #expect(try p.release("serio1") == "psmouse")
        #expect(b.writes == ["serio1 drvnucleus", "serio1 rescan"])
    }

    @Test func aFailedHandOverLeavesThePortWithItsStockDriver() throws {
        #expect(throws: PCIBindError.nucleusNotLoaded(slot: "serio1")) { try SerioBinding(bus: Self.bus(nucleus: false)).claim("serio1") }
        let b = Self.bus(refuses: ["drvnucleus"])
        #expect(throws: PCIBindError.notTaken(slot: "serio1", holder: "psmouse", restoredTo: "psmouse")) {
            try SerioBinding(bus: b).claim("serio1")
        }
        #expect(b.driver(of: "serio1") == "psmouse")
    }

    @Test func namedPortsMustExistAndMatch() throws {
        let p = SerioBinding(bus: Self.bus())
        #expect(try p.slots(for: .slots(["serio1"]), vendor: 1, device: 0) == ["serio1"])
        #expect(throws: PCIBindError.noDevice(slot: "serio7", why: "no such serio port")) {
            try p.slots(for: .slots(["serio7"]), vendor: 1, device: 0)
        }
        #expect(throws: PCIBindError.noDevice(slot: "serio0", why: "is serio:06:00, not serio:01:00 as Match= says")) {
            try p.slots(for: .slots(["serio0"]), vendor: 1, device: 0)
        }
        #expect(BindSetting.isSerioPort("serio12") && !BindSetting.isSerioPort("serio") && !BindSetting.isSerioPort("0000:00:04.0"))
    }

    /// The real sysfs layout under a scratch root: id files, the driver
    /// link, and what a drvctl write leaves.
    @Test func sysfsLayout() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("serio-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = root + "/bus/serio/devices/serio1"
        try FileManager.default.createDirectory(atPath: port + "/id", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/bus/serio/drivers/drvnucleus", withIntermediateDirectories: true)
        try "01\n".write(toFile: port + "/id/type", atomically: true, encoding: .utf8)
        try "00\n".write(toFile: port + "/id/proto", atomically: true, encoding: .utf8)
        try "".write(toFile: port + "/drvctl", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: port + "/driver", withDestinationPath: "../../../../bus/serio/drivers/psmouse")
        let s = SysfsSerioBus(root: root)
        #expect(s.ports() == ["serio1"])
        #expect(s.id(of: "serio1").map { [$0.type, $0.proto] } == [1, 0])
        #expect(s.driver(of: "serio1") == "psmouse")
        #expect(s.hasDriver("drvnucleus") && !s.hasDriver("psmouse"))
        try s.drvctl("serio1", "drvnucleus")
        #expect(try String(contentsOfFile: port + "/drvctl", encoding: .utf8) == "drvnucleus", "no newline: drvctl_store compares the whole write")
    }
}
