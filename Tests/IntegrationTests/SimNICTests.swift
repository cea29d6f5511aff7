// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
import XPC

/// Every NIC with its real u-driver, drivermgrd and nucleus-sim's data path
/// for the chip: the workload brings the link up and exchanges frames with
/// the peer; the u-driver fails mid-stream; the nucleus keeps moving frames,
/// the driver is recovered, nothing is lost and the MAC and receive mode
/// read back from the chip are what they were.
@Suite(.serialized) struct SimNICTests {
    /// One NIC: drvctl's name (its config file's), nucleus-sim's --devices kind.
    struct NIC: Sendable, CustomTestStringConvertible {
        let driver: String
        let simKind: String
        var testDescription: String { driver }
    }

    static let nics = [
        NIC(driver: "rtl8139", simKind: "rtl8139"),
        NIC(driver: "e1000", simKind: "e1000"),
        NIC(driver: "pcnet32", simKind: "pcnet32"),
        NIC(driver: "ne2k-pci", simKind: "ne2k-pci"),
    ]

    /// The driver's own config from etc/drivers.d with fault injection on.
    func config(_ h: SimHarness, _ nic: NIC) throws -> String {
        try h.shippedConfig(nic.driver, dropIn: "[Recovery]\nFaultInjection=yes\nStartLimitBurst=100\n")
    }

    func device(_ h: SimHarness, _ nic: NIC) throws -> DeviceState {
        try #require(try h.status(nic.driver).device)
    }

    /// Pauses (or resumes) the sim's client.
    func traffic(_ h: SimHarness, _ on: Bool) async throws {
        try await h.simControl(instance: 1, [.u8(.simAction, 5), .u8(.datapathOn, on ? 1 : 0)])
    }

    /// Pauses the sim's client and waits until every frame it sent is
    /// back (at most 5 s); sent and echoed. Resumes it afterwards
    /// unless `resume` is false.
    func drained(_ h: SimHarness, _ nic: NIC, resume: Bool = true) async throws -> (sent: UInt64, echoed: UInt64) {
        try await traffic(h, false)
        // Every frame back, or 5 s without: what is missing then is lost.
        var last: (UInt64, UInt64) = (0, 0)
        try? h.wait("\(nic.driver): the cable drained", seconds: 5) {
            let d = try device(h, nic)
            last = (d.number("clientSent") ?? 0, d.number("echoed") ?? 0)
            return last.0 == last.1
        }
        if resume { try await traffic(h, true) }
        return last
    }

    /// nucleus-sim with the NIC, drivermgrd with its driver, the sim's
    /// client exchanging frames with the peer.
    func echoing(_ nic: NIC) throws -> SimHarness {
        let h = try SimHarness()
        do {
            try h.startSim(["--devices", nic.simKind])
            try h.startDaemon(config: try config(h, nic))
            try h.waitActive([nic.driver])
            try h.wait("\(nic.driver): frames echoed") { try device(h, nic).number("echoed") ?? 0 > 20 }
        } catch {
            h.stopAll()
            throw error
        }
        return h
    }

    static let faults = ["sigkill", "hang", "bad-param"]

    /// `drvctl stop` and `start` (or a restart of drivermgrd that could
    /// take nothing over) under an interface that stays up: the new
    /// u-driver probes afresh, and the kernel would not open the interface
    /// again (it does only on the way up). drivermgrd's RESYNC_CLIENTS has
    /// the nucleus repeat NET_OPEN and the stack's filter: frames move
    /// again with the multicast group still joined, no `ip link` needed.
    @Test(arguments: nics) func anInterfaceLeftUpServesAgainAfterStopAndStart(_ nic: NIC) async throws {
        let h = try echoing(nic)
        defer { h.stopAll() }
        let group = try #require(MACAddress("01:00:5e:7f:00:01"))
        try await h.simControl(instance: 1, [.u8(.simAction, 2), .u32(.rxFlags, 0), .nested(.mcList, [.mac(.mac, group)])])
        #expect(try device(h, nic).text("rxMode") == "multicast")

        #expect(try h.drvctl("stop", nic.driver).0 == 0)
        #expect(try h.list().first { $0.name == nic.driver }?.state == .stopped)
        let echoed = try #require(try device(h, nic).number("echoed"))
        let (rc, _, err) = try h.drvctl("start", nic.driver)
        #expect(rc == 0, "\(err)")
        try h.wait("\(nic.driver): frames echoed after the start") { try device(h, nic).number("echoed") ?? 0 > echoed + 20 }
        let after = try device(h, nic)
        #expect(after.dataPath == true)
        #expect(after.text("rxMode") == "multicast", "the stack's filter programmed again")
        #expect(try h.drvctl("verify", nic.driver).0 == 0, "the shadow knows the interface is up")
    }

    @Test(arguments: nics) func nothingIsLostAcrossUDriverFailures(_ nic: NIC) async throws {
        let h = try echoing(nic)
        defer { h.stopAll() }
        #expect(try device(h, nic).flag("linkUp") == true)
        let baseline = try await drained(h, nic, resume: false)
        #expect(baseline.sent == baseline.echoed && baseline.sent > 20, "\(baseline)")
        // A new address and filter with the client paused: echoes of frames
        // sent from the old address would be filtered by the new one.
        let group = try #require(MACAddress("01:00:5e:7f:00:01"))
        try await h.simControl(instance: 1, [.u8(.simAction, 2), .u32(.rxFlags, 0),
                                             .nested(.mcList, [.mac(.mac, group), .mac(.mac, WireGroups.joined)])])
        try await h.simControl(instance: 1, [.u8(.simAction, 3), .mac(.mac, try #require(MACAddress("02:00:00:00:00:42")))])
        try await traffic(h, true)
        let before = try device(h, nic)
        #expect(before.text("mac") == "02:00:00:00:00:42")
        #expect(before.text("rxMode") == "multicast")

        for kind in Self.faults {
            let n = try #require(try h.list().first { $0.name == nic.driver }?.restarts)
            let echoedBefore = try #require(try device(h, nic).number("echoed"))
            if kind == "sigkill" {
                kill(try #require(try h.list().first { $0.name == nic.driver }?.pid), SIGKILL)
            } else {
                let (rc, _, err) = try h.drvctl("inject", nic.driver, kind)
                #expect(rc == 0, "inject \(kind): \(err)")
            }
            try h.wait("\(nic.driver) \(kind): recovered") {
                try h.list().first { $0.name == nic.driver }.map { $0.state == .active && $0.restarts == n + 1 } == true
            }
            try h.wait("\(nic.driver) \(kind): frames still echoed") {
                try device(h, nic).number("echoed") ?? 0 > echoedBefore + 20
            }
            let (sent, echoed) = try await drained(h, nic)
            #expect(sent == echoed, "\(nic.driver) \(kind): \(sent - echoed) of \(sent) frames lost")
            let after = try device(h, nic)
            #expect(after.text("mac") == before.text("mac"), "\(kind)")
            #expect(after.text("rxMode") == before.text("rxMode"), "\(kind)")
            #expect(after.values["multicastHashBits"] == before.values["multicastHashBits"], "\(kind)")
            #expect(after.number("rxDropped") == 0, "\(kind)")
            #expect(after.dataPath == true && after.flag("linkUp") == true, "\(kind)")
        }
        let s = try h.status(nic.driver)
        #expect(s.summary.state == .active && s.summary.restarts == Self.faults.count)
    }
}
