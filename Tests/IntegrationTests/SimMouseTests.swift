// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
import XPC

/// The psmouse u-driver with drivermgrd and nucleus-sim's PS/2 mouse on a
/// serio port: the mouse streams its known motion sequence while the
/// u-driver fails (SIGKILL, hang, a bad parameter); every packet reaches
/// the input device once and in order, the protocol and the settings made
/// before hold, and the mouse is never reset to recover.
@Suite(.serialized) struct SimMouseTests {
    /// etc/drivers.d/psmouse.conf as shipped, with fault injection on.
    func config(_ h: SimHarness, burst: Int = 100) throws -> String {
        try h.shippedConfig("psmouse", dropIn: "[Recovery]\nFaultInjection=yes\nStartLimitBurst=\(burst)\n")
    }

    func device(_ h: SimHarness) throws -> DeviceState { try #require(try h.status("psmouse").device) }

    @Test func everyPacketArrivesOnceAcrossUDriverFailures() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "psmouse"])
        try h.startDaemon(config: try config(h))
        try h.waitActive(["psmouse"])
        try h.wait("psmouse: packets reported") { try device(h).number("packets") ?? 0 > 20 }
        let first = try device(h)
        #expect(first.pciID == "serio:01:00")
        #expect(first.values["protocol"] == .string("ImExPS/2 (wheel, 5 buttons)"))
        #expect(try h.status("psmouse").summary.device == "serio1")
        #expect(first.registeredAs == "ImExPS/2 Generic Explorer Mouse")
        // The mouse moving costs no XPC message: a second of motion, and
        // the nucleus's count for the device stands still.
        let xpc = try #require(first.number("xpcMessages"))
        let moved = try #require(first.number("packets"))
        try h.wait("psmouse: a second of motion") { try device(h).number("packets") ?? 0 > moved + 100 }
        #expect(try device(h).number("xpcMessages") == xpc, "steady motion crossed the nucleus's hop")
        // A setting before the failures, to be kept across them.
        let (rc, out, err) = try h.drvctl("call", "psmouse", "rate", "200")
        #expect(rc == 0, "\(out)\(err)")
        #expect(try device(h).number("rate") == 200)

        for kind in ["sigkill", "hang", "bad-param"] {
            let summary = try #require(try h.list().first { $0.name == "psmouse" })
            let before = try device(h)
            let packets = try #require(before.number("packets"))
            if kind == "sigkill" {
                kill(try #require(summary.pid), SIGKILL)
            } else {
                let (rc, _, err) = try h.drvctl("inject", "psmouse", kind)
                #expect(rc == 0, "inject \(kind): \(err)")
            }
            try h.wait("psmouse \(kind): recovered") {
                try h.list().first { $0.name == "psmouse" }.map { $0.state == .active && $0.restarts == summary.restarts + 1 } == true
            }
            try h.wait("psmouse \(kind): packets still reported") { try device(h).number("packets") ?? 0 > packets + 50 }
            let d = try device(h)
            #expect(d.number("lost") == 0, "\(kind): packets lost or repeated")
            #expect(d.number("clientErrors") == 0, "\(kind): a packet decoded wrong (protocol changed?)")
            #expect(d.number("resyncs") == 0, "\(kind): the stream lost its sync")
            #expect(d.values["protocol"] == .string("ImExPS/2 (wheel, 5 buttons)"), "\(kind)")
            #expect(d.number("rate") == 200 && d.flag("streaming") == true, "\(kind)")
            // Reattached: not one command to the mouse, so no reset and no pause.
            #expect(d.number("resets") == 1, "\(kind): the mouse was reset to recover")
            #expect(d.number("commands") == before.number("commands"), "\(kind): the recovery sent the mouse commands")
        }
        let (vrc, vout, verr) = try h.drvctl("verify", "psmouse")
        #expect(vrc == 0, "\(vout)\(verr)")
    }

    /// Past the start limit the driver is failed and QUIESCE stops the
    /// mouse's stream; its input device stays; a start probes afresh.
    @Test func aCrashStormEndsFailedWithTheMouseStopped() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "psmouse"])
        try h.startDaemon(config: try config(h, burst: 1))
        try h.waitActive(["psmouse"])
        for crash in 0..<2 {
            let n = try #require(try h.list().first { $0.name == "psmouse" }?.restarts)
            let (rc, _, err) = try h.drvctl("inject", "psmouse", "crash")
            #expect(rc == 0, "inject: \(err)")
            if crash == 0 {
                try h.wait("psmouse: recovered") {
                    try h.list().first { $0.name == "psmouse" }.map { $0.state == .active && $0.restarts == n + 1 } == true
                }
            }
        }
        try h.wait("psmouse: failed") { try h.list().first { $0.name == "psmouse" }?.state == .failed }
        let d = try device(h)
        #expect(d.flag("streaming") == false, "QUIESCE disabled the mouse")
        let packets = try #require(d.number("packets"))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try device(h).number("packets") == packets, "no packet after QUIESCE")
        #expect(try h.drvctl("call", "psmouse", "rate", "40").0 != 0, "a call to a failed driver is refused")
        #expect(try h.drvctl("reset-failed", "psmouse").0 == 0)
        #expect(try h.drvctl("start", "psmouse").0 == 0)
        try h.waitActive(["psmouse"])
        try h.wait("psmouse: streaming again") { try device(h).number("packets") ?? 0 > packets + 20 }
        #expect(try device(h).number("lost") == 0)
    }

    /// A mouse whose reset (its self-test) takes 2.6 s: longer than a
    /// register downcall may take, shorter than libps2 waits. The probe's
    /// RESET_BAT is given its op's deadline (drvxpc_downcall_ms) by the
    /// u-driver and by drivermgrd, and the mouse comes up at the first try.
    /// An upcall whose PS/2 command the mouse answers late (900 ms, past
    /// psmouse's XPCTimeoutSec=250ms; within PS2_COMMAND's 6.5 s from the
    /// wire header): the upcall waits for it, as the kernel's psmouse would,
    /// and the u-driver is not judged hung. With the upcall's deadline
    /// alone, this was a timeout failure and a recovery.
    @Test func anUpcallWaitingOnASlowMouseIsNotAHang() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "psmouse", "--mouse-resolution-ms", "900"])
        try h.startDaemon(config: try config(h, burst: 1))
        try h.waitActive(["psmouse"])
        let before = try #require(try h.list().first { $0.name == "psmouse" })
        let t0 = Date()
        let (rc, out, err) = try h.drvctl("call", "psmouse", "resolution", "2")
        #expect(rc == 0, "\(out)\(err)")
        #expect(Date().timeIntervalSince(t0) > 0.9, "the resolution was answered before the mouse")
        #expect(try device(h).number("resolution") == 1, "2 counts/mm is code 1")
        let after = try #require(try h.list().first { $0.name == "psmouse" })
        #expect(after.restarts == before.restarts, "judged hung while it waited on the mouse")
        #expect(after.pid == before.pid)
        #expect(after.state == .active)
    }

    @Test func aSlowResetIsWaitedForAsLibps2Would() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim(["--devices", "psmouse", "--mouse-reset-ms", "2600"])
        let t0 = Date()
        try h.startDaemon(config: try config(h, burst: 1))
        try h.waitActive(["psmouse"])
        #expect(Date().timeIntervalSince(t0) > 2.6, "the reset was answered before its self-test ended")
        let s = try #require(try h.list().first { $0.name == "psmouse" })
        #expect(s.restarts == 0, "the probe failed first")
        let d = try device(h)
        #expect(d.number("resets") == 1)
        #expect(d.values["protocol"] == .string("ImExPS/2 (wheel, 5 buttons)"))
        try h.wait("psmouse: packets reported") { try device(h).number("packets") ?? 0 > 20 }
    }
}
