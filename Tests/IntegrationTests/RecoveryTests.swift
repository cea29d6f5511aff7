// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
import XPC

/// Failure detection and transparent recovery, with real processes and the
/// workload running across every failure.
@Suite(.serialized) struct RecoveryTests {
    /// The sample config plus drop-ins: fault injection on, a generous start limit.
    func config(_ h: SimHarness, burst: Int = 100) throws -> String {
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for d in ["ens1371", "rtl8139"] {
            try FileManager.default.copyItem(atPath: SimHarness.etcDir + "/drivers.d/\(d).conf", toPath: cfg + "/drivers.d/\(d).conf")
            try FileManager.default.createDirectory(atPath: cfg + "/drivers.d/\(d).conf.d", withIntermediateDirectories: true)
            try "[Recovery]\nFaultInjection=yes\nStartLimitBurst=\(burst)\n"
                .write(toFile: cfg + "/drivers.d/\(d).conf.d/50-test.conf", atomically: true, encoding: .utf8)
        }
        return cfg
    }

    static let faults = ["crash", "abort", "hang", "slow", "bad-param", "garbage", "sigkill"]

    /// `name`'s history, oldest first.
    func events(_ h: SimHarness, _ name: String) throws -> [DriverEvent] {
        try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", name, "--json=short").1.utf8)).events
    }

    /// After an escalated recovery of the RTL8139: frames move again, the
    /// chip has the MAC the client set and the receive configuration it
    /// had `before`, and `drvctl verify` finds it as the shadow says.
    func expectTheNICServesAsBefore(_ h: SimHarness, _ before: DeviceState) throws {
        let echoed = try #require(try h.status("rtl8139").device?.number("echoed"))
        try h.wait("packets moving again") { try h.status("rtl8139").device?.number("echoed") ?? 0 > echoed + 10 }
        let s = try h.status("rtl8139")
        #expect(s.summary.state == .active)
        let after = try #require(s.device)
        #expect(after.text("mac") == "02:00:00:00:00:42" && after.number("rxConfig") == before.number("rxConfig"),
                "the configuration replayed into the reset chip")
        #expect(try h.drvctl("verify", "rtl8139").0 == 0, "the device holds what the shadow says")
    }

    func fail(_ h: SimHarness, _ name: String, _ kind: String) throws {
        if kind == "sigkill" {
            let pid = try #require(try h.list().first { $0.name == name }?.pid)
            kill(pid, SIGKILL)
        } else {
            var (rc, _, err) = try h.drvctl("inject", name, kind)
            if rc == 1 {
                // The driver was between states (e.g. a heartbeat under load):
                // wait until it serves again and ask once more.
                try h.waitActive([name])
                (rc, _, err) = try h.drvctl("inject", name, kind)
            }
            #expect(rc == 0, "inject \(kind): \(err)")
        }
    }

    func restarts(_ h: SimHarness, _ name: String) throws -> Int {
        try #require(try h.list().first { $0.name == name }?.restarts)
    }

    @Test func soundSurvivesEveryFailureKind() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h))
        // State worth keeping: a rate the client chose, a volume the admin set.
        try await h.simControl(instance: 1, [.u8(.simAction, 1), .u32(.pcmRate, 44100)])
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "40").0 == 0)
        let before = try #require(try h.status("ens1371").device)
        #expect(before.number("sampleRate") == 44100 && before.number("masterVolumeRegister") == 0x1313)

        for (i, kind) in Self.faults.enumerated() {
            let n = try restarts(h, "ens1371")
            try fail(h, "ens1371", kind)
            if kind == "slow" {
                // The next upcall answers late: it times out, and the client gets
                // its answer from the recovered driver, not an error.
                let (rc, out, err) = try h.drvctl("call", "ens1371", "mixer-get", "pcm")
                #expect(rc == 0 && out == "value=100\n", "\(err)")
            }
            if kind == "garbage" {
                // The nucleus's own client (the sim's aplay) re-configures while
                // the driver is being recovered: hw_params + prepare succeed.
                try await h.simControl(instance: 1, [.u8(.simAction, 1), .u32(.pcmRate, 44100)])
            }
            if kind == "hang" {
                // Setters sent to a hung driver: both time out, both are kept,
                // and they reach the new driver in the order they were sent.
                let a = try h.background("call", "ens1371", "mixer-set", "master", "30")
                try await Task.sleep(for: .milliseconds(50))
                let b = try h.background("call", "ens1371", "mixer-set", "master", "40")
                a.waitUntilExit(); b.waitUntilExit()
                #expect(a.terminationStatus == 0 && b.terminationStatus == 0)
            }
            try h.wait("\(kind): recovered") { try h.list().first { $0.name == "ens1371" }.map { $0.state == .active && $0.restarts == n + 1 } == true }
            let after = try #require(try h.status("ens1371").device)
            #expect(after.number("sampleRate") == before.number("sampleRate"), "\(kind)")
            #expect(after.number("masterVolumeRegister") == before.number("masterVolumeRegister"), "\(kind)")
            #expect(after.number("underruns") == 0 && after.number("glitches") == 0, "\(kind): the DAC never starved")
            #expect(after.number("framesPlayed") ?? 0 > before.number("framesPlayed") ?? 0)
            let history = try h.drvctl("history", "ens1371", "--json=short").1
            let events = try JSONDecoder().decode(HistoryReply.self, from: Data(history.utf8)).events
            let recovered = events.filter { $0.event == "recovered" }
            #expect(recovered.count == i + 1, "\(kind)")
            if let last = recovered.last {
                #expect(last.replayedCalls ?? 0 >= 4, "open, hw_params, prepare, mixer")
                #expect(last.recoveryUSec ?? 0 > 0)
            }
        }
        let kinds = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8))
            .events.filter { $0.event == "failure" }.compactMap(\.failureKind)
        // The hang is caught by the setters' deadline or by the idle
        // heartbeat, whichever fires first; both are within 2 x XPCTimeoutSec.
        #expect(kinds.count == 7 && [.heartbeat, .timeout].contains(kinds[2]))
        #expect(kinds.enumerated().filter { $0.offset != 2 }.map(\.element) == [.crash, .crash, .timeout, .badParameter, .protocol, .crash])
    }

    @Test func networkSurvivesEveryFailureKind() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h))
        let group = try #require(MACAddress("01:00:5e:7f:00:01"))
        try await h.simControl(instance: 2, [.u8(.simAction, 2), .u32(.rxFlags, 0), .nested(.mcList, [.mac(.mac, group), .mac(.mac, WireGroups.joined)])])
        try await h.simControl(instance: 2, [.u8(.simAction, 3), .mac(.mac, try #require(MACAddress("02:00:00:00:00:42")))])
        let before = try #require(try h.status("rtl8139").device)
        #expect(before.text("mac") == "02:00:00:00:00:42")

        for kind in Self.faults {
            let n = try restarts(h, "rtl8139")
            let echoedBefore = try #require(try h.status("rtl8139").device?.number("echoed"))
            try fail(h, "rtl8139", kind)
            if kind == "slow" {
                let (rc, out, err) = try h.drvctl("call", "rtl8139", "get-link")
                #expect(rc == 0 && out.contains("link=up"), "\(err)")
            }
            try h.wait("\(kind): recovered") { try h.list().first { $0.name == "rtl8139" }.map { $0.state == .active && $0.restarts == n + 1 } == true }
            try h.wait("\(kind): packets still echoed") { try h.status("rtl8139").device?.number("echoed") ?? 0 > echoedBefore + 10 }
            let after = try #require(try h.status("rtl8139").device)
            #expect(after.text("mac") == before.text("mac") && after.number("rxConfig") == before.number("rxConfig") && after.text("multicastFilter") == before.text("multicastFilter"), "\(kind)")
            let tx = try #require(after.number("txPackets")), echoed = try #require(after.number("echoed"))
            #expect(tx >= echoed && tx - echoed <= 4, "\(kind): tx \(tx), echoed \(echoed): nothing lost but frames in flight")
            #expect(after.number("rxDropped") == 0)
        }
        let events = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "rtl8139", "--json=short").1.utf8)).events
        let kinds = events.filter { $0.event == "failure" }.compactMap(\.failureKind)
        #expect(kinds == [.crash, .crash, .heartbeat, .timeout, .badParameter, .protocol, .crash])
        // Each recovery broken down by phase, in order, adding up to at most
        // its total (the rest is the bookkeeping after the drain).
        let recovered = events.filter { $0.event == "recovered" }
        #expect(recovered.count == kinds.count)
        for e in recovered {
            let phases = try #require(e.phases, "\(e.detail)")
            let names = phases.map(\.name)
            #expect(names == ["reap", "wait", "standby", "channel", "objects", "hello", "probe", "replay", "verify", "drain"]
                    || names == ["reap", "wait", "spawn", "channel", "objects", "hello", "probe", "replay", "verify", "drain"], "\(names)")
            let sum = phases.map(\.usec).reduce(0, +), total = try #require(e.recoveryUSec)
            #expect(sum <= total && sum + 5_000 >= total, "phases \(sum) us of \(total) us")
            #expect(phases.first { $0.name == "probe" }.map { $0.usec > 0 } == true)
        }
        #expect(recovered.contains { $0.phases?.contains { $0.name == "standby" } == true }, "Standby=yes: the idle u-driver taken")
    }

    /// The campaign's kinds beyond the scripted six, each caught by its own
    /// detector; after each the device still holds what the shadow says.
    @Test func resourceAndSandboxFaultsAreCaughtByTheirDetector() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        let cfg = try config(h)
        try "[Sandbox]\nMemoryMax=512M\n".write(toFile: cfg + "/drivers.d/rtl8139.conf.d/60-memory.conf", atomically: true, encoding: .utf8)
        try h.startDaemon(config: cfg)
        try h.waitActive(["ens1371", "rtl8139"])
        try h.wait("packets moving") { try h.status("rtl8139").device?.number("echoed") ?? 0 > 20 }
        try await h.simControl(instance: 2, [.u8(.simAction, 3), .mac(.mac, try #require(MACAddress("02:00:00:00:00:43")))])
        #expect(try h.drvctl("call", "rtl8139", "rx-mode", "normal", "01:00:5e:00:00:fb").0 == 0)
        let expected: [(String, FailureKind)] = [("memory", .crash), ("syscall", .sandbox), ("fork-bomb", .sandbox), ("flood", .protocol)]
        for (kind, _) in expected {
            let n = try restarts(h, "rtl8139")
            let echoedBefore = try #require(try h.status("rtl8139").device?.number("echoed"))
            try fail(h, "rtl8139", kind)
            try h.wait("\(kind): recovered") { try h.list().first { $0.name == "rtl8139" }.map { $0.state == .active && $0.restarts == n + 1 } == true }
            try h.wait("\(kind): packets still echoed") { try h.status("rtl8139").device?.number("echoed") ?? 0 > echoedBefore + 10 }
            let (rc, out, err) = try h.drvctl("verify", "rtl8139", "--json=short")
            #expect(rc == 0, "\(kind): \(out) \(err)")
            let v = try JSONDecoder().decode(VerifyReply.self, from: Data(out.utf8))
            #expect(v.compared == 3 && v.divergences.isEmpty, "\(kind): MAC, rx mode and data path compared: \(v)")
        }
        let events = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "rtl8139", "--json=short").1.utf8))
            .events.filter { $0.event == "failure" }
        // A process busy filling its address space, or flooding, answers no
        // ping: the heartbeat may see it first (it does on a loaded machine,
        // where the daemon forwards fewer downcalls per window).
        #expect(events.count == 4, "\(events.map(\.detail))")
        #expect([.crash, .heartbeat].contains(events.first?.failureKind), "\(events.map(\.detail))")
        #expect(events.dropFirst().prefix(2).compactMap(\.failureKind) == [.sandbox, .sandbox], "\(events.map(\.detail))")
        let flood = try #require(events.last)
        #expect(flood.failureKind == .heartbeat || (flood.failureKind == .protocol && flood.detail.contains("flood")), "\(flood.detail)")
        #expect(events.dropFirst().first?.detail.contains("socket") == true, "the sandbox names the call")
    }

    /// A u-driver that acknowledges a setting it did not make (`lost-write`)
    /// is caught by the read-back after the setter (`divergence`), and the
    /// recovery's replay makes the setting; with VerifySettings=no only
    /// `drvctl verify` sees it.
    @Test func aSettingAcknowledgedButNotMadeIsADivergence() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        let cfg = try config(h)
        let daemon = try h.startDaemon(config: cfg)
        try h.waitActive(["ens1371", "rtl8139"])
        try h.wait("packets moving") { try h.status("rtl8139").device?.number("echoed") ?? 0 > 5 }
        func rx() throws -> VerifyReply {
            let (_, out, _) = try h.drvctl("verify", "rtl8139", "--json=short")
            return try JSONDecoder().decode(VerifyReply.self, from: Data(out.utf8))
        }
        #expect(try rx().divergences.isEmpty)
        try fail(h, "rtl8139", "lost-write")
        try await h.simControl(instance: 2, [.u8(.simAction, 2), .u32(.rxFlags, 1)])
        try h.wait("recovered") { try restarts(h, "rtl8139") == 1 && h.list().first { $0.name == "rtl8139" }?.state == .active }
        let events = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "rtl8139", "--json=short").1.utf8)).events
        let failure = try #require(events.last { $0.event == "failure" })
        #expect(failure.failureKind == .divergence, "\(failure.detail)")
        #expect(failure.detail.contains("NET_SET_RX_MODE") && failure.detail.contains("expected promiscuous"), "\(failure.detail)")
        #expect(try rx().divergences.isEmpty, "the replay made it")
        #expect(try h.status("rtl8139").device?.text("rxMode") == "promiscuous")

        // Without the read-back the lie stands until someone looks.
        try "[Recovery]\nVerifySettings=no\n".write(toFile: cfg + "/drivers.d/rtl8139.conf.d/70-noverify.conf", atomically: true, encoding: .utf8)
        // SIGHUP: the changed configuration restarts the driver.
        kill(daemon.processIdentifier, SIGHUP)
        try h.wait("restarted with the new configuration") {
            try restarts(h, "rtl8139") == 2 && h.list().first { $0.name == "rtl8139" }?.state == .active
        }
        let n = try restarts(h, "rtl8139")
        try fail(h, "rtl8139", "lost-write")
        try await h.simControl(instance: 2, [.u8(.simAction, 2), .u32(.rxFlags, 0)])
        try await Task.sleep(for: .milliseconds(500))
        #expect(try restarts(h, "rtl8139") == n, "no failure reported")
        #expect(try rx().divergences.map(\.setting) == ["rx mode"])
    }

    @Test func restartIsTransparent() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h))
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "20").0 == 0)
        let before = try #require(try h.status("ens1371").device)
        let (rc, _, err) = try h.drvctl("restart", "ens1371")
        #expect(rc == 0, "\(err)")
        let s = try h.status("ens1371")
        #expect(s.summary.state == .active && s.summary.restarts == 1)
        #expect(s.device?.number("sampleRate") == before.number("sampleRate"), "no chip reset: the rate is not back to 22050")
        #expect(s.device?.number("masterVolumeRegister") == before.number("masterVolumeRegister"))
        #expect(s.device?.number("glitches") == 0 && s.device?.number("underruns") == 0)
        #expect(s.lastFailure == nil, "a restart is not a failure")
    }

    /// A restart the admin asks for right after a failure does not wait
    /// out the failure's RestartSec=: it is not a failure itself (a
    /// reload after a fault campaign restarted its drivers 30 s late).
    @Test func anAskedRestartAfterAFailureWaitsForNoRestartSec() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = try config(h)
        try "[Recovery]\nRestartSec=5s\n".write(toFile: cfg + "/drivers.d/ens1371.conf.d/60-slow.conf", atomically: true, encoding: .utf8)
        try h.startWithWorkload(config: cfg)
        let n = try restarts(h, "ens1371")
        try fail(h, "ens1371", "crash")
        try h.wait("recovered after RestartSec=") {
            try h.list().first { $0.name == "ens1371" }.map { $0.state == .active && $0.restarts == n + 1 } == true
        }
        let t0 = Date()
        let (rc, _, err) = try h.drvctl("restart", "ens1371")
        let took = Date().timeIntervalSince(t0)
        #expect(rc == 0, "\(err)")
        #expect(took < 3.5, "drvctl restart took \(took) s: it waited out RestartSec=5s")
        #expect(try h.list().first { $0.name == "ens1371" }?.restarts == n + 2)
        // With no back-off the new process is spawned at once; the history
        // still says why before it says who (drvctl monitor shows it so).
        let events = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8)).events
        let last = events.lastIndex { $0.event == "restart" }
        #expect(last != nil && events[(last ?? 0)...].map(\.event).prefix(2) == ["restart", "spawned"], "\(events.map(\.event))")
    }

    @Test func aRestartStormEndsFailedWithTheDeviceQuiesced() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h, burst: 2))
        for _ in 0..<2 {
            let n = try restarts(h, "ens1371")
            try fail(h, "ens1371", "crash")
            try h.wait("recovered") { try h.list().first { $0.name == "ens1371" }.map { $0.state == .active && $0.restarts == n + 1 } == true }
        }
        try fail(h, "ens1371", "crash")
        try h.wait("failed") { try h.list().first { $0.name == "ens1371" }?.state == .failed }
        let s = try h.status("ens1371")
        #expect(s.lastFailure?.hasPrefix("start limit hit: 3 failures") == true, "\(s.lastFailure ?? "")")
        #expect(s.device?.dataPath == false, "the nucleus stopped the DAC")
        let frames = try #require(s.device?.number("framesPlayed"))
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try h.status("ens1371").device?.number("framesPlayed") == frames, "no DMA after quiesce")
        // The other driver is untouched; a call to the failed one is refused.
        #expect(try h.list().first { $0.name == "rtl8139" }?.state == .active)
        #expect(try h.drvctl("call", "ens1371", "mixer-get", "master").0 == 1)
        // reset-failed, then start: a fresh probe.
        #expect(try h.drvctl("reset-failed", "ens1371").0 == 0)
        #expect(try h.list().first { $0.name == "ens1371" }?.state == .stopped)
        #expect(try h.drvctl("start", "ens1371").0 == 0)
        try h.waitActive(["ens1371"])
    }

    /// A u-driver that refuses, as a bad argument, a `drvctl call` whose
    /// arguments its class checked contradicts its class: a `protocol`
    /// failure, and the call is asked again of the recovered u-driver,
    /// whose answer the caller gets. A refusal the recovered one repeats
    /// stands, after that one recovery.
    @Test func aRefusalOfArgumentsTheClassValidatedIsRecoveredAndAskedAgain() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for name in ["misbehave-refuse", "misbehave-refuseall"] {
            let match = name == "misbehave-refuse" ? "pci:10ec:8139" : "pci:8086:100e"
            try "[Driver]\nName=\(name)\nClass=net\nMatch=\(match)\nExecutable=misbehave\n[Recovery]\nVerifySettings=no\n"
                .write(toFile: cfg + "/drivers.d/\(name).conf", atomically: true, encoding: .utf8)
        }
        try h.startSim(["--devices", "rtl8139", "e1000", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["misbehave-refuse", "misbehave-refuseall"])
        let (rc, _, err) = try h.drvctl("call", "misbehave-refuse", "rx-mode", "promisc")
        #expect(rc == 0, "answered by the recovered u-driver: \(err)")
        #expect(try restarts(h, "misbehave-refuse") == 1)
        let failure = try #require(try events(h, "misbehave-refuse").last { $0.event == "failure" })
        #expect(failure.failureKind == .protocol && failure.detail.contains("refused arguments its class validated"), "\(failure.detail)")
        let (rc2, _, err2) = try h.drvctl("call", "misbehave-refuseall", "rx-mode", "promisc")
        #expect(rc2 != 0 && err2.contains("refused on purpose"), "the second refusal stands: \(rc2) \(err2)")
        #expect(try restarts(h, "misbehave-refuseall") == 1, "one recovery, not a loop")
        #expect(try h.list().allSatisfy { $0.state == .active })
    }

    /// A request that fails every u-driver it reaches (`misbehave-poison`
    /// crashes at each promiscuous rx-mode): sent again after each failure
    /// to the next u-driver, RequestRetries= (here 2) times, then answered
    /// EIO, with the driver serving, not failed at its start limit (10,
    /// which the old unbounded re-sending reached); the history names the
    /// request, and the next call is served.
    @Test func aRequestThatFailsEveryUDriverIsAnsweredAfterRequestRetries() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = try h.driverConfig(["m.conf": "[Driver]\nName=misbehave-poison\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nStartLimitBurst=10\nRequestRetries=2\nVerifySettings=no\n"])
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["misbehave-poison"])
        let (rc, _, err) = try h.drvctl("call", "misbehave-poison", "rx-mode", "promisc")
        #expect(rc != 0 && err.contains("in flight at 3 failures"), "answered EIO after two retries: \(rc) \(err)")
        try h.waitActive(["misbehave-poison"])
        let history = try events(h, "misbehave-poison")
        #expect(history.filter { $0.event == "failure" || $0.event == "recovery-failed" }.count == 3,
                "the first u-driver and the two it was sent again to: \(history.map { "\($0.event): \($0.detail)" })")
        #expect(history.contains { $0.event == "request-refused" && $0.detail.hasPrefix("NET_SET_RX_MODE was in flight at 3 failures") },
                "\(history.map(\.detail))")
        #expect(!history.contains { $0.event == "failed" })
        #expect(try h.drvctl("call", "misbehave-poison", "rx-mode", "allmulti").0 == 0, "the driver serves")
        #expect(try h.list().first?.state == .active)
    }

    /// A u-driver that makes a write the nucleus refuses while it serves an
    /// upcall, and answers the upcall with the refusal at once
    /// (`misbehave-refusedwrite`, before it has reattached): it is judged
    /// failed before it hears the refusal, so its answer is a failed
    /// process's and the recovered u-driver serves the call. The refusal
    /// comes in on the nucleus's reader and the answer on the u-driver
    /// channel's; when the daemon passed the refusal on first and marked
    /// the failure after (as it did until 2026-12-07), the answer could win
    /// and reach the caller as an error (a kernel-path campaign's ne2k-pci
    /// rx-mode): a race, so eight times, each after a stop and a start (a
    /// fresh probe, which misbehaves again).
    @Test func anAnswerAfterARefusedDowncallIsAFailedProcesssAnswer() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = try h.driverConfig(["m.conf": "[Driver]\nName=misbehave-refusedwrite\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nStartLimitBurst=20\nVerifySettings=no\n"])
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["misbehave-refusedwrite"])
        for round in 1...8 {
            if round > 1 {
                // Stopped and started: a fresh probe (a restart recovers,
                // and a reattached u-driver behaves).
                #expect(try h.drvctl("stop", "misbehave-refusedwrite").0 == 0)
                #expect(try h.drvctl("start", "misbehave-refusedwrite").0 == 0)
                try h.waitActive(["misbehave-refusedwrite"])
            }
            let (rc, _, err) = try h.drvctl("call", "misbehave-refusedwrite", "rx-mode", round % 2 == 0 ? "allmulti" : "promisc")
            #expect(rc == 0, "round \(round): served by the recovered u-driver, not answered with the refusal: \(err)")
            try h.waitActive(["misbehave-refusedwrite"])
        }
        let history = try events(h, "misbehave-refusedwrite")
        #expect(history.filter { $0.event == "failure" && $0.failureKind == .badParameter }.count == 8,
                "\(history.map { "\($0.event): \($0.detail)" })")
        #expect(history.filter { $0.event == "recovered" }.count == 8)
    }

    /// A recovered u-driver whose replay does not take is not declared
    /// recovered: `misbehave-forgetful` acknowledges set-mac without writing
    /// it once it has reattached, so the read-back after the replay fails
    /// each reattaching attempt, and the attempt past ResetAfter= resets the
    /// device, whose fresh probe writes what the shadow says.
    @Test func aRecoveryWhoseReplayDidNotTakeStartsOverAndResets() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = try h.driverConfig(["m.conf": "[Driver]\nName=misbehave-forgetful\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nFaultInjection=yes\nStartLimitBurst=10\nResetAfter=2\nReaddAfter=0\n"])
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["misbehave-forgetful"])
        #expect(try h.drvctl("call", "misbehave-forgetful", "set-mac", "02:00:00:00:00:42").0 == 0)
        #expect(try h.drvctl("verify", "misbehave-forgetful").0 == 0)
        // The setter acknowledged but not made: a divergence, then recovery.
        try fail(h, "misbehave-forgetful", "lost-write")
        #expect(try h.drvctl("call", "misbehave-forgetful", "set-mac", "02:00:00:00:00:43").0 == 0)
        func history() throws -> [DriverEvent] {
            try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "misbehave-forgetful", "--json=short").1.utf8)).events
        }
        try h.wait("recovered") { try history().contains { $0.event == "recovered" } }
        let events = try history()
        let failed = events.filter { $0.event == "recovery-failed" }
        #expect(failed.count == 2, "the two reattaching attempts: \(events.map(\.detail))")
        #expect(failed.allSatisfy { $0.detail.contains("does not hold what the shadow says") && $0.detail.contains("MAC 02:00:00:00:00:42, expected 02:00:00:00:00:43") },
                "\(failed.map(\.detail))")
        #expect(events.contains { $0.event == "escalated" })
        #expect(events.last { $0.event == "recovered" }?.detail.contains("the device reset") == true, "\(events.map(\.detail))")
        #expect(try h.drvctl("verify", "misbehave-forgetful").0 == 0, "the reset's replay wrote it")
        #expect(try h.status("misbehave-forgetful").device?.text("mac") == "02:00:00:00:00:43")
        #expect(try h.list().first?.state == .active)
    }

    @Test func aFailureDuringRecoveryStartsOverAndCounts() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = try h.driverConfig(["m.conf": "[Driver]\nName=misbehave-reattach\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nFaultInjection=yes\nStartLimitBurst=3\nResetAfter=0\n"])
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["misbehave-reattach"])
        #expect(try h.drvctl("inject", "misbehave-reattach", "crash").0 == 0)
        try h.wait("failed") { try h.list().first?.state == .failed }
        let events = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "misbehave-reattach", "--json=short").1.utf8)).events
        #expect(events.filter { $0.event == "recovery-failed" }.count == 3, "three attempts, each crashing at reattach")
        #expect(events.last?.event == "failed")
        #expect(try h.drvctl("list").0 == 0, "the daemon is not wedged")
    }

    /// A chip whose state a fresh u-driver cannot adopt (its station address
    /// overwritten behind the driver's back with a multicast one, which the
    /// reattach probe refuses): two attempts fail, the third resets the
    /// device (ResetAfter=2) and replays the configuration; the packets move
    /// again with the MAC the client set. The first attempt takes the
    /// greeted standby, whose HELLO, PROBE and replay go out as one
    /// pipeline: the u-driver must refuse the replay after its PROBE
    /// refused (else the replay writes the MAC back and the second attempt
    /// adopts a device it should not have had to).
    @Test func aDeviceThatCannotBeAdoptedIsResetAndReconfigured() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h))
        try await h.simControl(instance: 2, [.u8(.simAction, 3), .mac(.mac, try #require(MACAddress("02:00:00:00:00:42")))])
        let before = try #require(try h.status("rtl8139").device)
        try await h.simControl(instance: 2, [.u8(.simAction, 8), .u32(.regOffset, 0), .u8(.regWidth, 1), .u32(.regValue, 0xff)])
        #expect(try h.status("rtl8139").device?.text("mac") == "ff:00:00:00:00:42", "the poke reached the chip")
        try fail(h, "rtl8139", "crash")
        try h.wait("recovered") { try events(h, "rtl8139").contains { $0.event == "recovered" } }
        let ev = try events(h, "rtl8139")
        #expect(ev.filter { $0.event == "recovery-failed" }.count == 2, "\(ev.map(\.event))")
        let escalated = try #require(ev.firstIndex { $0.event == "escalated" })
        let recovered = try #require(ev.firstIndex { $0.event == "recovered" })
        #expect(escalated < recovered && ev[recovered].detail.hasSuffix("the device reset"), "\(ev[recovered].detail)")
        #expect(ev.filter { $0.event == "recovery-failed" }.allSatisfy { $0.detail.contains("invalid MAC") }, "\(ev.map(\.detail))")
        try expectTheNICServesAsBefore(h, before)
    }

    /// A PCI function that stopped decoding its BAR (nucleus-sim's
    /// SIM_WEDGE, as `setpci COMMAND=0` on a real one): its registers read
    /// all-ones, so neither adopting it nor the chip's own reset brings it
    /// back. Two attempts adopt and fail, the third resets and fails
    /// (ResetAfter=2), then the nucleus re-adds the device (ReaddAfter=3)
    /// and a fresh probe and the replay restore the configuration.
    @Test func aFunctionThatStoppedDecodingIsReaddedInTheNucleus() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h))
        try await h.simControl(instance: 2, [.u8(.simAction, 3), .mac(.mac, try #require(MACAddress("02:00:00:00:00:42")))])
        let before = try #require(try h.status("rtl8139").device)
        try await h.simControl(instance: 2, [.u8(.simAction, 9)])
        try fail(h, "rtl8139", "sigkill")
        try h.wait("recovered") { try events(h, "rtl8139").contains { $0.event == "recovered" && $0.detail.contains("re-added") } }
        let ev = try events(h, "rtl8139")
        let readded = try #require(ev.firstIndex { $0.event == "readded" })
        let escalated = try #require(ev.firstIndex { $0.event == "escalated" })
        #expect(escalated < readded, "\(ev.map(\.event))")
        let failed = ev[..<readded].filter { $0.event == "recovery-failed" }
        #expect(failed.count == 3 && failed.allSatisfy { $0.detail.contains("Chip not responding") },
                "each attempt found the registers all-ones: \(failed.map(\.detail))")
        #expect(!ev[..<readded].contains { $0.event == "recovered" }, "nothing recovered the wedged function before the re-add")
        try expectTheNICServesAsBefore(h, before)
    }

    /// The sound card wedged the same way while it plays: the nucleus
    /// holds the stream (DAC2 stopped, the client's stream still running)
    /// across the re-add, the reset probe and the replay (rate, volume),
    /// then starts it again. The client waits and never underruns.
    @Test func aWedgedSoundCardIsReaddedWithItsStreamHeld() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload(config: try config(h))
        try h.wait("playing") { try h.status("ens1371").device?.dataPath == true }
        try await h.simControl(instance: 1, [.u8(.simAction, 1), .u32(.pcmRate, 22050)])
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "40").0 == 0)
        let before = try #require(try h.status("ens1371").device)
        let masterBefore = try h.drvctl("call", "ens1371", "mixer-get", "master").1
        try await h.simControl(instance: 1, [.u8(.simAction, 9)])
        try fail(h, "ens1371", "sigkill")
        try h.wait("recovered") { try events(h, "ens1371").contains { $0.event == "recovered" && $0.detail.contains("re-added") } }
        let ev = try events(h, "ens1371")
        let readded = try #require(ev.firstIndex { $0.event == "readded" })
        let failed = ev[..<readded].filter { $0.event == "recovery-failed" }
        #expect(failed.count == 3 && failed.allSatisfy { $0.detail.contains("chip not responding") }, "\(failed.map(\.detail))")
        let played = try #require(try h.status("ens1371").device?.number("framesPlayed"))
        try h.wait("playing again") { try h.status("ens1371").device?.number("framesPlayed") ?? 0 > played + 4096 }
        let after = try #require(try h.status("ens1371").device)
        #expect(after.dataPath == true)
        #expect(after.number("underruns") == 0, "the client waited; it never ran dry")
        #expect(after.number("sampleRate") == 22050 && after.number("masterVolumeRegister") == before.number("masterVolumeRegister"),
                "rate and volume replayed into the reset chip")
        let master = try h.drvctl("call", "ens1371", "mixer-get", "master").1
        #expect(master == masterBefore, "\(master) after, \(masterBefore) before")

    }

    /// An idle driver's heartbeat backs off towards HeartbeatMaxSec; the
    /// next call to it cuts the long sleep short, so a hang that follows is
    /// found within HeartbeatSec + XPCTimeoutSec again, not HeartbeatMaxSec.
    @Test func aCallBringsABackedOffHeartbeatBack() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = try config(h)
        try "[Recovery]\nHeartbeatSec=100ms\nHeartbeatMaxSec=20s\n"
            .write(toFile: cfg + "/drivers.d/rtl8139.conf.d/60-heartbeat.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["ens1371", "rtl8139"])
        // Idle for 3 s: 100, 200, 400, 800, 1600 ms, then a sleep of 3.2 s.
        try await Task.sleep(for: .seconds(3))
        let t0 = Date()
        #expect(try h.drvctl("inject", "rtl8139", "hang").0 == 0)
        try h.wait("the hang found") { try events(h, "rtl8139").contains { $0.event == "failure" && $0.failureKind == .heartbeat } }
        let took = Date().timeIntervalSince(t0)
        #expect(took < 1.5, "found \(took) s after the inject: the backed-off sleep was not cut short")
        try h.wait("recovered") { try h.list().first { $0.name == "rtl8139" }.map { $0.state == .active && $0.restarts == 1 } == true }
    }

    @Test func injectionIsRefusedUnlessConfigured() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        let (rc, _, err) = try h.drvctl("inject", "ens1371", "crash")
        #expect(rc == 1 && err.contains("fault injection is off; set FaultInjection=yes in [Recovery]"), "\(err)")
        #expect(try h.list().first { $0.name == "ens1371" }?.restarts == 0)
        #expect(try h.drvctl("inject", "ens1371", "explode").0 == 2)
    }
}

enum WireGroups {
    /// The group the sim's peer announces on and the client joins.
    static let joined = MACAddress("01:00:5e:00:00:fb") ?? .broadcast
}
