// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing

/// `drvctl debug`: the u-driver swapped for one under gdb, valgrind or
/// strace with the workload running, and back.
@Suite(.serialized) struct LiveDebugTests {
    func pid(_ h: SimHarness, _ name: String) throws -> Int32 {
        try #require(try h.list().first { $0.name == name }?.pid)
    }

    func log(_ h: SimHarness) -> String { (try? String(contentsOfFile: h.logPath, encoding: .utf8)) ?? "" }

    /// The line of `static func attenuation(fromPercent` in ENS137x.swift:
    /// the mixer-set path calls it with the new value.
    func mixerLine() throws -> Int {
        let src = try String(contentsOfFile: SimHarness.rootDir + "/Sources/Drivers/ENS137x/ENS137x.swift", encoding: .utf8)
        let lines = src.split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains("static func attenuation(fromPercent") }) + 1
    }

    /// gdb attaches over the caller's socket, a breakpoint in the
    /// mixer-set path holds a `drvctl call` for two seconds while gdb reads
    /// the value, the call completes after gdb detaches, and the sound
    /// card played on the whole time.
    @Test func gdbHoldsAMixerCallAtABreakpointWhileAudioPlays() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()
        let old = try pid(h, "ens1371")
        let (rc, out, err) = try h.drvctl("debug", "ens1371", "--gdb")
        #expect(rc == 0, "\(err)")
        let socket = h.dir + "/debug/ens1371.gdb"
        #expect(out.contains("connect: gdb -ex 'target remote \(socket)'"), "\(out)")
        #expect(out.contains("u-driver's sandbox unchanged; gdbserver runs outside it as the u-driver's uid with CAP_SYS_PTRACE")
                && out.contains("upcall deadlines and heartbeats off"), "\(out)")
        let new = try pid(h, "ens1371")
        #expect(new != old && kill(old, 0) == -1, "a fresh u-driver, the old one gone")
        var st = stat()
        #expect(stat(socket, &st) == 0 && st.st_mode & 0o777 == 0o600 && st.st_uid == getuid(), "the caller's socket, 0600")
        let s = try h.status("ens1371")
        #expect(s.debug?.tool == "gdb" && s.debug?.endpoint == socket && s.heartbeatUSec == 0, "\(String(describing: s.debug))")
        // Refused while debugging: a second tool, an update.
        let (rc2, _, err2) = try h.drvctl("debug", "ens1371", "--strace")
        #expect(rc2 == 1 && err2.contains("already under gdb"), "\(err2)")
        let (rc3, _, err3) = try h.drvctl("update", "ens1371")
        #expect(rc3 == 1 && err3.contains("drvctl debug ens1371 --off first"), "\(err3)")

        let script = h.dir + "/gdb.cmd", gdbOut = h.dir + "/gdb.out"
        try """
        set pagination off
        set confirm off
        set complaints 0
        set sysroot /
        set remotetimeout 30
        target remote \(socket)
        break ENS137x.swift:\(try mixerLine())
        continue
        print *(unsigned int *)&p
        shell sleep 2
        detach
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let gdb = Process()
        gdb.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
        gdb.arguments = ["-q", "-batch", "-x", script]
        #expect(FileManager.default.createFile(atPath: gdbOut, contents: nil))
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: gdbOut))
        gdb.standardOutput = outHandle
        gdb.standardError = outHandle
        try gdb.run()
        defer { if gdb.isRunning { gdb.terminate() } }
        func gdbText() -> String { (try? String(contentsOfFile: gdbOut, encoding: .utf8)) ?? "" }
        try h.wait("gdb's breakpoint set", seconds: 120) { gdbText().contains("Breakpoint 1 at ") }
        #expect(try h.status("ens1371").debug?.attachedPid == Int(new))
        var driverStat = stat()
        #expect(stat("/proc/\(new)", &driverStat) == 0 && driverStat.st_uid != 0, "the u-driver runs under its dynamic uid")
        #expect(log(h).contains("uid \(driverStat.st_uid), CAP_SYS_PTRACE) attaching to pid \(new)"),
                "gdbserver runs as the u-driver's uid: \(log(h).suffix(1500))")
        let before = try #require(try h.status("ens1371").device)
        let t0 = Date()
        let (rc4, _, err4) = try h.drvctl("call", "ens1371", "mixer-set", "master", "57")
        let held = Date().timeIntervalSince(t0)
        #expect(rc4 == 0, "\(err4)")
        gdb.waitUntilExit()
        let text = gdbText()
        #expect(text.contains("hit Breakpoint 1"), "\(text.suffix(2000))")
        #expect(text.contains("$1 = 57"), "gdb read the value at the breakpoint: \(text.suffix(2000))")
        #expect(held >= 2, "the call waited at the breakpoint (\(held) s), no deadline failed it")
        let after = try h.status("ens1371")
        #expect(after.lastFailure == nil && after.summary.state == .active && after.summary.pid == new)
        let d = try #require(after.device)
        #expect(d.number("masterVolumeRegister") != before.number("masterVolumeRegister"), "the setting landed")
        let played = (d.number("framesPlayed") ?? 0) - (before.number("framesPlayed") ?? 0)
        #expect(played >= 44_100, "the nucleus played on through the breakpoint: \(played) frames in \(held) s")
        #expect(d.number("underruns") == 0 && d.number("glitches") == 0, "the DAC never starved")
        try h.wait("gdbserver gone") { try h.status("ens1371").debug?.attachedPid == nil }

        let (rc5, out5, err5) = try h.drvctl("debug", "ens1371", "--off")
        #expect(rc5 == 0 && out5.contains("the configured u-driver again"), "\(err5)")
        let back = try h.status("ens1371")
        #expect(back.debug == nil && back.heartbeatUSec > 0 && back.summary.pid != new)
        #expect(access(socket, F_OK) != 0, "the socket is gone")
        let (rc6, _, err6) = try h.drvctl("debug", "ens1371", "--off")
        #expect(rc6 == 1 && err6.contains("not under a debugging tool"), "\(err6)")
        let events = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8)).events
        #expect(events.contains { $0.event == "debug" && $0.detail.hasPrefix("gdb: pid \(old) → \(new)") })
        #expect(events.last?.event == "debug-off")
    }

    /// valgrind's memcheck through an adoption (probe with reattach), a
    /// rate change (close, hw_params, prepare, start), a mixer change and
    /// the exit: 0 errors, the sound card playing on.
    @Test func valgrindFindsNoErrorThroughProbeOpenAndClose() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()
        let (rc, out, err) = try h.drvctl("debug", "ens1371", "--valgrind")
        #expect(rc == 0, "\(err)\n\(log(h).suffix(3000))")
        #expect(out.contains("stage 1 + open unlink pipe fcntl stat gettimeofday; stage 2 not stacked"), "\(out)")
        let vg = try pid(h, "ens1371")
        #expect(try h.status("ens1371").debug?.program.hasSuffix("/valgrind.bin") == true)
        try h.wait("valgrind's banner") { log(h).contains("==\(vg)== Memcheck, a memory error detector") }
        let before = try #require(try h.status("ens1371").device)
        let (src, srcOut) = try h.simClient(["set-rate", "1", "44100"])
        #expect(src == 0, "\(srcOut)")
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "pcm", "30").0 == 0)
        let d = try #require(try h.status("ens1371").device)
        #expect(d.number("sampleRate") == 44100 && d.number("underruns") == 0)
        #expect((d.number("framesPlayed") ?? 0) > (before.number("framesPlayed") ?? 0))
        #expect(try h.drvctl("debug", "ens1371", "--off").0 == 0)
        try h.wait("valgrind's summary", seconds: 60) { log(h).contains("==\(vg)== ERROR SUMMARY:") }
        let summary = log(h).split(separator: "\n").first { $0.contains("==\(vg)== ERROR SUMMARY:") }.map(String.init) ?? ""
        #expect(summary.contains("ERROR SUMMARY: 0 errors from 0 contexts"), "\(summary)")
        #expect(try h.status("ens1371").device?.number("underruns") == 0)
    }

    /// strace -f of the NIC's u-driver in the journal, the packets echoed
    /// throughout; a stop ends the session.
    @Test func straceLogsTheCallsAndAStopEndsTheSession() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()
        let (rc, out, err) = try h.drvctl("debug", "rtl8139", "--strace")
        #expect(rc == 0, "\(err)")
        #expect(out.contains("stage 1 + ptrace wait4 process_vm_readv fork getuid setreuid fcntl pipe2 pause; stage 2 unchanged"), "\(out)")
        let traced = try pid(h, "rtl8139")
        try h.wait("strace lines") { log(h).contains("PID=\(traced) STREAM=stderr") && log(h).contains("recvfrom(3") }
        let echoed = try #require(try h.status("rtl8139").device?.number("echoed"))
        try h.wait("packets still echoed") { try h.status("rtl8139").device?.number("echoed") ?? 0 > echoed + 10 }
        let d = try #require(try h.status("rtl8139").device)
        let tx = try #require(d.number("txPackets")), rx = try #require(d.number("echoed"))
        #expect(tx >= rx && tx - rx <= 4 && d.number("rxDropped") == 0, "tx \(tx), echoed \(rx)")
        // Bad requests: a TCP port without gdb, an unknown tool.
        #expect(try h.drvctl("debug", "rtl8139", "--strace", "--tcp", "4000").0 == 2)
        #expect(try h.drvctl("stop", "rtl8139").0 == 0)
        #expect(try h.status("rtl8139").debug == nil)
        #expect(try h.drvctl("start", "rtl8139").0 == 0)
        let s = try h.status("rtl8139")
        #expect(s.debug == nil && s.summary.state == .active && s.heartbeatUSec > 0, "the configured u-driver starts again")
    }
}
