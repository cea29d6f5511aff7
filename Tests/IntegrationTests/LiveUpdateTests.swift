// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
import XPC

/// `drvctl update`: the u-driver swapped with the workload running, the old
/// one kept until the new one serves, rollback when the new one fails.
@Suite(.serialized) struct LiveUpdateTests {
    func pid(_ h: SimHarness, _ name: String) throws -> Int32 {
        try #require(try h.list().first { $0.name == name }?.pid)
    }

    func events(_ h: SimHarness, _ name: String) throws -> [DriverEvent] {
        try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", name, "--json=short").1.utf8)).events
    }

    /// The NIC to another copy of its executable, then the sound card to its
    /// own again: new processes, nothing lost, the state kept, the old ones
    /// gone.
    @Test func anUpdateUnderTrafficKeepsTheStateAndLosesNothing() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()
        try await h.simControl(instance: 2, [.u8(.simAction, 3), .mac(.mac, try #require(MACAddress("02:00:00:00:00:42")))])
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "40").0 == 0)
        let nic = try #require(try h.status("rtl8139").device)
        let snd = try #require(try h.status("ens1371").device)
        #expect(nic.text("mac") == "02:00:00:00:00:42")

        let copy = h.dir + "/rtl8139-next"
        try FileManager.default.copyItem(atPath: SimHarness.binDir + "/rtl8139", toPath: copy)
        let old = try pid(h, "rtl8139")
        let (rc, out, err) = try h.drvctl("update", "rtl8139", "--executable", copy)
        #expect(rc == 0, "\(err)")
        let new = try pid(h, "rtl8139")
        #expect(new != old)
        #expect(out.hasPrefix("rtl8139: pid \(old) → \(new), \(copy) (build "), "\(out)")
        #expect(kill(old, 0) == -1, "the old u-driver exited")
        let echoed = try #require(try h.status("rtl8139").device?.number("echoed"))
        try h.wait("packets still echoed") { try h.status("rtl8139").device?.number("echoed") ?? 0 > echoed + 10 }
        let after = try h.status("rtl8139")
        #expect(after.summary.state == .active && after.lastFailure == nil)
        let d = try #require(after.device)
        #expect(d.text("mac") == nic.text("mac") && d.number("rxConfig") == nic.number("rxConfig"))
        let tx = try #require(d.number("txPackets")), rx = try #require(d.number("echoed"))
        #expect(tx >= rx && tx - rx <= 4, "tx \(tx), echoed \(rx): nothing lost but frames in flight")
        #expect(d.number("rxDropped") == 0)
        let updated = try #require(try events(h, "rtl8139").last { $0.event == "updated" })
        #expect(updated.detail.contains("pid \(old) → \(new)") && updated.recoveryUSec ?? 0 > 0, "\(updated.detail)")

        // The configured executable again (as after a rebuild in place), JSON.
        let sndOld = try pid(h, "ens1371")
        let (rc2, json, err2) = try h.drvctl("update", "ens1371", "--json=short")
        #expect(rc2 == 0, "\(err2)")
        let r = try JSONDecoder().decode(UpdateReply.self, from: Data(json.utf8))
        let sndNew = try pid(h, "ens1371")
        #expect(r.previousPid == Int(sndOld) && r.pid == Int(sndNew) && r.pid != r.previousPid)
        #expect(r.buildId.count == 40, "the GNU build-id of ens137x in hex: \(r.buildId)")
        #expect(r.replayedCalls >= 4, "open, hw_params, prepare, mixer")
        #expect(try h.status("ens1371").buildId == r.buildId, "status names the running build")
        let s = try #require(try h.status("ens1371").device)
        #expect(s.number("sampleRate") == snd.number("sampleRate") && s.number("masterVolumeRegister") == snd.number("masterVolumeRegister"))
        #expect(s.number("underruns") == 0 && s.number("glitches") == 0, "the DAC never starved")
    }

    /// A build that crashes when it adopts the device: the old u-driver
    /// serves again, the packets kept moving, the command says why.
    @Test func aBuildThatCrashesInProbeRollsBack() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()
        let bad = h.dir + "/misbehave-reattach"
        try FileManager.default.createSymbolicLink(atPath: bad, withDestinationPath: SimHarness.binDir + "/misbehave")
        let old = try pid(h, "rtl8139")
        let (rc, _, err) = try h.drvctl("update", "rtl8139", "--executable", bad)
        #expect(rc == 1 && err.contains("rolled back: pid \(old) serves"), "\(rc): \(err)")
        #expect(try pid(h, "rtl8139") == old)
        let echoed = try #require(try h.status("rtl8139").device?.number("echoed"))
        try h.wait("packets still echoed") { try h.status("rtl8139").device?.number("echoed") ?? 0 > echoed + 10 }
        let d = try #require(try h.status("rtl8139").device)
        let tx = try #require(d.number("txPackets")), rx = try #require(d.number("echoed"))
        #expect(tx >= rx && tx - rx <= 4 && d.number("rxDropped") == 0, "tx \(tx), echoed \(rx)")
        #expect(try events(h, "rtl8139").last?.event == "update-failed")
        // The configured executable is the one a restart runs.
        #expect(try h.drvctl("restart", "rtl8139").0 == 0)
        #expect(try h.list().first { $0.name == "rtl8139" }?.state == .active)
    }

    /// A build that speaks another protocol version is refused at HELLO,
    /// before it is sent anything else; a missing one at spawn.
    @Test func anIncompatibleOrMissingBuildIsRefused() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "rtl8139"])
        try h.startDaemon()
        try h.waitActive(["rtl8139"])
        let other = h.dir + "/misbehave-version"
        try FileManager.default.createSymbolicLink(atPath: other, withDestinationPath: SimHarness.binDir + "/misbehave")
        let old = try pid(h, "rtl8139")
        let (rc, _, err) = try h.drvctl("update", "rtl8139", "--executable", other)
        #expect(rc == 1 && err.contains("speaks protocol version \(XPCLimits.version + 1), drivermgrd \(XPCLimits.version)"), "\(err)")
        #expect(err.contains("rolled back: pid \(old) serves"), "\(err)")
        let (rc2, _, err2) = try h.drvctl("update", "rtl8139", "--executable", h.dir + "/nonexistent")
        #expect(rc2 == 1 && err2.contains("nonexistent"), "\(err2)")
        #expect(try pid(h, "rtl8139") == old)
        #expect(try h.status("rtl8139").summary.state == .active)
        // Not running: nothing to swap.
        #expect(try h.drvctl("stop", "rtl8139").0 == 0)
        let (rc3, _, err3) = try h.drvctl("update", "rtl8139")
        #expect(rc3 == 1 && err3.contains("not active (stopped)"), "\(err3)")
    }
}
