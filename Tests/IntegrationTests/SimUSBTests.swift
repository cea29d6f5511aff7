// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
import XPC

/// The uhci u-driver with drivermgrd and nucleus-sim's PIIX3 UHCI: a
/// usb-storage disk read a block at a time and a tablet's reports stream
/// through the nucleus's schedule while the u-driver fails (SIGKILL, a
/// hang). The devices keep their addresses (nothing re-enumerated), no
/// block read fails or reads wrong, and the u-driver's only steady traffic
/// across the nucleus's hop is its root-hub poll.
@Suite(.serialized) struct SimUSBTests {
    /// etc/drivers.d/uhci.conf as shipped, with fault injection on.
    func config(_ h: SimHarness, burst: Int = 100) throws -> String {
        try h.shippedConfig("uhci", dropIn: "[Recovery]\nFaultInjection=yes\nStartLimitBurst=\(burst)\n")
    }

    /// The sim's client figures from DEVICE_INFO, asked of nucleus-sim
    /// directly (not counted as the driver's traffic).
    struct Figures: CustomStringConvertible {
        var addresses: [Int] = []
        var blocks: UInt64 = 0, events: UInt64 = 0, gaps: UInt64 = 0
        var urbs: UInt64 = 0, urbErrors: UInt64 = 0, clientErrors: UInt64 = 0
        var polls: UInt64 = 0, xpcMessages: UInt64 = 0, dataPath = false
        var description: String {
            "addresses \(addresses), \(blocks) blocks, \(events) reports (\(gaps) gaps), \(urbs) URBs (\(urbErrors) failed), "
                + "\(clientErrors) client errors, \(polls) hub polls, \(xpcMessages) XPC messages, data path \(dataPath)"
        }
    }

    func figures(_ h: SimHarness) async throws -> Figures {
        let c = XPCConnection(name: "test", socket: try XPCSocket.connect(path: h.socketPath), onEvent: { _, _ in })
        c.start()
        defer { c.close() }
        let m = try await c.call(XPCMessage(op: .deviceInfo, flags: .request, instance: 1), timeout: .seconds(5))
        if let e = m.remoteError { throw e }
        var f = Figures()
        let bitmap = m.attribute(.usbAddresses)?.payload ?? []
        f.addresses = (0..<bitmap.count * 8).filter { bitmap[$0 / 8] & (1 << ($0 % 8)) != 0 }
        f.events = m.attribute(.inputPackets)?.u64 ?? 0
        f.gaps = m.attribute(.inputLost)?.u64 ?? 0
        // A block moves 4 + 512 bytes (its LBA out, its data in), a tablet report 6.
        let bytes = m.attribute(.usbBytes)?.u64 ?? 0
        f.blocks = (bytes - min(bytes, 6 * f.events)) / 516
        f.urbs = m.attribute(.usbURBs)?.u64 ?? 0
        f.urbErrors = m.attribute(.usbURBErrors)?.u64 ?? 0
        f.clientErrors = m.attribute(.clientErrors)?.u64 ?? 0
        f.polls = m.attribute(.usbPortPolls)?.u64 ?? 0
        f.xpcMessages = m.attribute(.xpcMessages)?.u64 ?? 0
        f.dataPath = m.attribute(.datapathOn)?.u8 == 1
        return f
    }

    /// Polls `cond` on fresh figures every 20 ms for up to `seconds`.
    func until(_ h: SimHarness, _ what: String, seconds: Double = 20, _ cond: (Figures) -> Bool) async throws -> Figures {
        let end = Date().addingTimeInterval(seconds)
        var f = try await figures(h)
        while !cond(f) {
            guard Date() < end else {
                let log = (try? String(contentsOfFile: h.dir + "/nucleus-sim.log", encoding: .utf8)) ?? ""
                let daemon = (try? String(contentsOfFile: h.logPath, encoding: .utf8)) ?? ""
                throw HarnessError("timed out waiting for \(what): \(f)\nnucleus-sim log:\n\(log)\ndaemon log:\n\(daemon.suffix(6000))")
            }
            try await Task.sleep(for: .milliseconds(20))
            f = try await figures(h)
        }
        return f
    }

    func simLog(_ h: SimHarness) -> String {
        (try? String(contentsOfFile: h.dir + "/nucleus-sim.log", encoding: .utf8)) ?? ""
    }

    @Test func blocksStreamAndDevicesKeepTheirAddressesAcrossUDriverFailures() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "uhci"])
        try h.startDaemon(config: try config(h))
        try h.waitActive(["uhci"])
        var f = try await until(h, "both devices enumerated and blocks streaming") {
            $0.addresses == [1, 2] && $0.blocks > 100 && $0.events > 10
        }
        let status = try #require(try h.status("uhci").device)
        #expect(status.pciID == "pci:8086:7020" || status.pciID == "8086:7020", "\(String(describing: status.pciID))")
        #expect(status.registeredAs == "usb1")

        // Steady use: the client reads blocks; only the root-hub poll (a
        // REG_READ, 2 messages, every 250 ms) crosses the nucleus's hop.
        let t0 = Date()
        let before = f
        try await Task.sleep(for: .seconds(2))
        f = try await figures(h)
        let seconds = Date().timeIntervalSince(t0)
        let rate = Double(f.xpcMessages - before.xpcMessages) / seconds
        let blocks = f.blocks - before.blocks
        print("uhci steady use: \(String(format: "%.1f", rate)) XPC messages/s across the nucleus's hop "
              + "over \(String(format: "%.2f", seconds)) s while \(blocks) blocks (\(blocks * 512) bytes) "
              + "and \(f.events - before.events) tablet reports moved")
        #expect(blocks > 500, "blocks stream at the client's rate")
        #expect(rate <= 10, "more than the root-hub poll crossed the hop: \(rate) messages/s")
        #expect(f.polls == before.polls, "no hub activity in steady use")

        for kind in ["sigkill", "hang"] {
            let summary = try #require(try h.list().first { $0.name == "uhci" })
            let was = try await figures(h)
            if kind == "sigkill" {
                kill(try #require(summary.pid), SIGKILL)
            } else {
                let (rc, _, err) = try h.drvctl("inject", "uhci", kind)
                #expect(rc == 0, "inject \(kind): \(err)")
            }
            try h.wait("uhci \(kind): recovered") {
                try h.list().first { $0.name == "uhci" }.map { $0.state == .active && $0.restarts == summary.restarts + 1 } == true
            }
            let now = try await until(h, "uhci \(kind): blocks still streaming") { $0.blocks > was.blocks + 200 }
            print("uhci \(kind): recovered; \(now)")
            #expect(now.addresses == [1, 2], "\(kind): the devices lost their addresses")
            #expect(now.urbErrors == 0, "\(kind): I/O errors: \(now)")
            #expect(now.clientErrors == 0 && now.gaps == 0, "\(kind): a block or report read wrong or lost: \(now)")
            #expect(now.dataPath, "\(kind)")
        }
        let log = simLog(h)
        let enumerated = log.split(separator: "\n").filter { $0.contains("new full-speed USB device") }
        #expect(enumerated.count == 2, "re-enumerated:\n\(log)")
        // The client's checksum over every block read equals the disk's
        // (the nucleus logs it whenever a u-driver finds the bus again).
        let found = log.split(separator: "\n").filter { $0.contains("found again") }
        #expect(found.count >= 2, "\(log)")
        for line in found {
            print(line)
            let words = line.split(separator: " ")
            guard let i = words.firstIndex(of: "checksum"), i + 3 < words.count else {
                Issue.record("no checksum in \(line)")
                continue
            }
            let got = words[i + 1], expected = words[i + 3].trimmingCharacters(in: CharacterSet(charactersIn: "(),"))
            #expect(String(got) == expected, "\(line)")
        }
        let (vrc, vout, verr) = try h.drvctl("verify", "uhci")
        #expect(vrc == 0, "\(vout)\(verr)")
    }

    /// The controller halted under the client (Run/Stop cleared behind the
    /// u-driver's back): the nucleus gives the block in flight back failed
    /// and sends USB_HC_ERROR; the u-driver resets and runs the controller
    /// again on the same schedule, the hub driver enumerates the devices
    /// anew, and blocks stream again, every one read right.
    @Test func aHaltedControllerIsRestartedAndTheDevicesComeBack() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "uhci"])
        try h.startDaemon(config: try config(h))
        try h.waitActive(["uhci"])
        let was = try await until(h, "blocks streaming") { $0.addresses == [1, 2] && $0.blocks > 100 }
        // SIM_ACTION 8: a register write straight into the model.
        try await h.simControl(instance: 1, [.u8(.simAction, 8), .u32(.regOffset, 0), .u8(.regWidth, 2), .u32(.regValue, 0)])
        let back = try await until(h, "devices enumerated again, blocks streaming") {
            $0.addresses.count == 2 && $0.addresses != [1, 2] && $0.blocks > was.blocks + 200 && $0.dataPath
        }
        print("uhci halted under the client: \(back)")
        #expect(back.clientErrors == 0 && back.gaps == 0, "\(back)")
        // The block in flight at the halt, and the first URB to each device
        // the reset took the address of (then the client backs off until
        // the hub driver enumerated it again).
        #expect(back.urbErrors >= 1 && back.urbErrors <= 4, "\(back)")
        #expect(try h.list().first { $0.name == "uhci" }?.state == .active)
        let status = try #require(try h.status("uhci").device)
        #expect(status.number("hcErrors") == 0, "a halt is not a host system error")
    }

    /// Past the start limit the driver is failed: QUIESCE halts the
    /// controller and usbcore sees the devices go; no block is read after.
    @Test func aCrashStormEndsFailedWithTheControllerHalted() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "uhci"])
        try h.startDaemon(config: try config(h, burst: 1))
        try h.waitActive(["uhci"])
        _ = try await until(h, "blocks streaming") { $0.addresses == [1, 2] && $0.blocks > 50 }
        for crash in 0..<2 {
            let n = try #require(try h.list().first { $0.name == "uhci" }?.restarts)
            let (rc, _, err) = try h.drvctl("inject", "uhci", "crash")
            #expect(rc == 0, "inject: \(err)")
            if crash == 0 {
                try h.wait("uhci: recovered") {
                    try h.list().first { $0.name == "uhci" }.map { $0.state == .active && $0.restarts == n + 1 } == true
                }
            }
        }
        try h.wait("uhci: failed") { try h.list().first { $0.name == "uhci" }?.state == .failed }
        let f = try await until(h, "the devices gone") { $0.addresses.isEmpty && !$0.dataPath }
        try await Task.sleep(for: .milliseconds(300))
        let later = try await figures(h)
        #expect(later.blocks == f.blocks, "no block read after QUIESCE")
        #expect(f.urbErrors == 0 && f.clientErrors == 0, "a clean stop: \(f)")
        #expect(simLog(h).contains("quiesced: controller halted"))
    }
}
