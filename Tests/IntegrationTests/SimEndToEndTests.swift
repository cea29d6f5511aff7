// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
import XPC

/// The whole foundation with real processes: nucleus-sim, drivermgrd, the
/// ens137x and rtl8139 u-drivers, drvctl.
@Suite(.serialized) struct SimEndToEndTests {
    @Test func bothDriversComeUpAndTheDataPathsMove() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])

        let (rc, out, _) = try h.drvctl("list")
        #expect(rc == 0)
        #expect(out.contains("ens1371 sound 0000:00:04.0 active"))
        #expect(out.contains("rtl8139 net   0000:00:05.0 active"))
        #expect(out.hasSuffix("2 drivers listed.\n"))

        // Audio plays at the client's rate, without underruns or glitches.
        try h.wait("audio playing") { try h.status("ens1371").device?.number("framesPlayed") ?? 0 > 48000 / 2 }
        let snd = try #require(try h.status("ens1371").device)
        #expect(snd.number("sampleRate") == 48000)
        #expect(snd.chip == "ES1373 rev 8" && snd.registeredAs == "Ensoniq AudioPCI ENS1371")
        #expect(snd.number("underruns") == 0 && snd.number("glitches") == 0)
        #expect(snd.number("masterVolumeRegister") == 0x0808, "codec init: 75 %, unmuted")

        // Packets go out and every one comes back from the peer.
        try h.wait("packets moving") { try h.status("rtl8139").device?.number("echoed") ?? 0 > 50 }
        let net = try #require(try h.status("rtl8139").device)
        #expect(net.text("mac") == "52:54:00:12:34:56" && net.flag("linkUp") == true && net.registeredAs == "sim1")
        let tx = try #require(net.number("txPackets")), echoed = try #require(net.number("echoed"))
        #expect(tx >= echoed && tx - echoed <= 4, "tx \(tx), echoes \(echoed): only in-flight frames may differ")
        #expect(net.text("rxMode") == "multicast", "the client joined the peer's group")
        #expect(net.number("multicastPackets") ?? 0 > 0 && net.number("filtered") ?? 0 > 0, "joined group accepted, the other filtered")
    }

    @Test func configurationTravelsTheControlPath() async throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()

        // drvctl → daemon → u-driver → downcalls → AC'97 master register.
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "60").0 == 0)
        #expect(try h.status("ens1371").device?.number("masterVolumeRegister") == 0x0c0c)
        let (rc, out, _) = try h.drvctl("call", "ens1371", "mixer-get", "master")
        #expect(rc == 0 && out == "value=61\n")

        // The client changes rate: upcall nucleus → daemon → u-driver → SRC registers.
        try await h.simControl(instance: 1, [.u8(.simAction, 1), .u32(.pcmRate, 44100)])
        #expect(try h.status("ens1371").device?.number("sampleRate") == 44100)
        let before = try #require(try h.status("ens1371").device?.number("framesPlayed"))
        try h.wait("still playing at 44.1 kHz") { try h.status("ens1371").device?.number("framesPlayed") ?? 0 > before + 22050 }
        #expect(try h.status("ens1371").device?.number("glitches") == 0)

        // The client joins another group: the hash filter gains its bit.
        let group = try #require(MACAddress("01:00:5e:7f:00:01"))
        try h.wait("netdev up") { try h.status("rtl8139").device?.dataPath == true }
        try await h.simControl(instance: 2, [.u8(.simAction, 2), .u32(.rxFlags, 0),
                                             .nested(.mcList, [.mac(.mac, group), .mac(.mac, try #require(MACAddress("01:00:5e:00:00:fb")))])])
        let filter = try #require(try h.status("rtl8139").device?.text("multicastFilter"))
        let bits = try #require(UInt64(filter.dropFirst(2), radix: 16))
        #expect(bits & (1 << UInt64(group.multicastHashBit)) != 0)
        let hashBits = try #require(try h.status("rtl8139").device?.values["multicastHashBits"])
        #expect(hashBits == .array([group.multicastHashBit, MACAddress("01:00:5e:00:00:fb")?.multicastHashBit ?? -1].sorted().map { .integer($0) }),
                "MC_HASH: the same bits, chip-independent")

        // drvctl rx-mode promisc and set-mac reach RxConfig and IDR0-5.
        #expect(try h.drvctl("call", "rtl8139", "rx-mode", "promisc").0 == 0)
        #expect(try h.status("rtl8139").device?.text("rxMode") == "promiscuous")
        #expect(try h.drvctl("call", "rtl8139", "set-mac", "02:00:00:00:00:42").0 == 0)
        #expect(try h.status("rtl8139").device?.text("mac") == "02:00:00:00:00:42")
    }

    @Test func badInputGetsClearErrorsAndExitCodes() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        // No daemon yet.
        var (rc, _, err) = try h.drvctl("list")
        #expect(rc == 1 && err.contains("Failed to connect to drivermgrd") && err.contains("Is drivermgrd running?"))
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        (rc, _, err) = try h.drvctl("restart", "ens9999")
        #expect(rc == 5 && err == "Failed to restart ens9999: no such driver\n", "systemctl start/restart: 5")
        (rc, _, err) = try h.drvctl("status", "ens9999")
        #expect(rc == 4 && err.contains("no such driver"), "systemctl status: 4")
        (rc, _, err) = try h.drvctl("restart")
        #expect(rc == 2 && err.contains("Missing expected argument"), "a usage error: 2, not argument-parser's 64: \(err)")
        (rc, _, err) = try h.drvctl("status", "--bogus")
        #expect(rc == 2, "\(err)")
        var out: String
        (rc, out, _) = try h.drvctl("--version")
        #expect(rc == 0 && out == DrivermgrVersion.string + "\n")
        (rc, out, _) = try h.drvctl("is-active", "ens1371", "ens9999")
        #expect(rc == 0 && out == "active\ninactive\n")
        (rc, out, _) = try h.drvctl("is-active", "--quiet", "ens9999")
        #expect(rc == 3 && out.isEmpty)
        (rc, out, _) = try h.drvctl("is-failed", "ens1371")
        #expect(rc == 1 && out == "active\n")
        (rc, out, _) = try h.drvctl("show", "ens1371", "-p", "State,NRestarts", "--no-pager")
        #expect(rc == 0 && out == "State=active\nNRestarts=0\n", "\(out)")
        (rc, out, _) = try h.drvctl("show", "rtl8139", "--property", "Class", "--value")
        #expect(rc == 0 && out == "net\n")
        (rc, _, err) = try h.drvctl("show", "rtl8139", "-p", "Nonsense")
        #expect(rc == 2 && err.contains("no property Nonsense"))
        // status of a driver that is not active: 3, as systemctl status.
        #expect(try h.drvctl("stop", "rtl8139").0 == 0)
        (rc, _, _) = try h.drvctl("status", "rtl8139")
        #expect(rc == 3)
        (rc, out, _) = try h.drvctl("is-active", "rtl8139")
        #expect(rc == 3 && out == "inactive\n")
        #expect(try h.drvctl("start", "rtl8139").0 == 0)
        try h.waitActive(["rtl8139"])
        (rc, _, err) = try h.drvctl("call", "ens1371", "mixer-set", "master", "101")
        #expect(rc == 2 && err.contains("value must be 0...100"))
        (rc, _, err) = try h.drvctl("call", "ens1371", "set-mac", "02:00:00:00:00:01")
        #expect(rc == 2 && err.contains("set-mac is a net operation"))
        (rc, _, err) = try h.drvctl("call", "rtl8139", "set-mac", "01:00:5e:00:00:01")
        #expect(rc == 1 && err.contains("not a unicast address"), "the u-driver refuses a group address: \(err)")
    }

    @Test func aBadConfigFileSkipsOnlyThatDriver() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SimHarness.etcDir + "/drivers.d/ens1371.conf", toPath: cfg + "/drivers.d/ens1371.conf")
        try "[Driver]\nName=rtl8139\nClass=net\nMatch=pci:10ec:8139\nExecutable=rtl8139\n[Recovery]\nXPCTimeoutSec=fast\n"
            .write(toFile: cfg + "/drivers.d/rtl8139.conf", atomically: true, encoding: .utf8)
        try h.startSim()
        try h.startDaemon(config: cfg)
        try h.waitActive(["ens1371"])
        #expect(try h.list().map(\.name) == ["ens1371"])
        let log = try String(contentsOfFile: h.logPath, encoding: .utf8)
        #expect(log.contains("drivers.d/rtl8139.conf:7: Invalid XPCTimeoutSec=fast"))
    }

    @Test func aKilledUDriverIsRecoveredWhileTheDataPathRunsOn() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startWithWorkload()
        let pid = try #require(try h.list().first { $0.name == "rtl8139" }?.pid)
        let tx = try #require(try h.status("rtl8139").device?.number("txPackets"))
        kill(pid, SIGKILL)
        try h.wait("rtl8139 recovered") { try h.list().first { $0.name == "rtl8139" }.map { $0.state == .active && $0.restarts == 1 } == true }
        #expect(try h.list().first { $0.name == "rtl8139" }?.pid != pid)
        let s = try h.status("rtl8139")
        #expect(s.lastFailure == "crash: u-driver killed by signal 9 (SIGKILL)")
        try h.wait("packets still moving") { try h.status("rtl8139").device?.number("txPackets") ?? 0 > tx + 20 }
        let (rc, out, _) = try h.drvctl("history", "rtl8139")
        #expect(rc == 0 && out.contains("killed by signal 9 (SIGKILL)") && out.contains("recovered"))
    }
}

@Suite(.serialized) struct SimProcessTests {
    @Test func aUDriverHoldsOnlyItsXPCSocket() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        for d in try h.list() {
            let pid = try #require(d.pid)
            let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap(Int.init).sorted()
            // 0-2 stay for crash messages; 3 is the XPC socket; nothing else
            // but what the Swift runtime opens itself (eventfd/epoll for its
            // concurrency pool, the XPC reader's eventfd).
            #expect(fds.contains(3))
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/3")
            #expect(link.hasPrefix("socket:"))
            for fd in fds where fd > 3 {
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
                #expect(target.hasPrefix("anon_inode:"), "\(d.name) holds fd \(fd) -> \(target)")
            }
            let cmdline = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
            #expect(cmdline.split(separator: "\0").count == 1, "configuration comes over fd 3, not argv")
        }
    }

    @Test func monitorStreamsEvents() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: h.bin + "/drvctl")
        p.arguments = ["monitor", "--json=short"]
        var env = ProcessInfo.processInfo.environment
        env["DRIVERMGRD_RUNTIME_DIR"] = h.dir
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { p.terminate() }
        // A blocking read must not hang the suite if the event never comes.
        DispatchQueue.global().asyncAfter(deadline: .now() + 15) { if p.isRunning { p.terminate() } }
        Thread.sleep(forTimeInterval: 0.3) // let the subscription land before the event
        #expect(try h.drvctl("restart", "ens1371").0 == 0)
        var text = ""
        let fh = out.fileHandleForReading
        let end = Date().addingTimeInterval(10)
        while !text.contains("\"event\":\"recovered\"") && Date() < end {
            let d = fh.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
        }
        let events = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(DriverEvent.self, from: Data($0.utf8)) }
        // drvctl restart takes the recovery path: no stop, no fresh probe.
        #expect(events.map(\.event) == ["restart", "spawned", "recovered"], "\(text)")
        #expect(events.allSatisfy { $0.driver == "ens1371" })
    }

    @Test func es1370DrivenByTheSameUDriver() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try "[Driver]\nName=ens1370\nClass=sound\nMatch=pci:1274:5000\nExecutable=ens137x\n"
            .write(toFile: cfg + "/drivers.d/ens1370.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--devices", "es1370", "--rate", "44100"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["ens1370"])
        try h.wait("playing") { try h.status("ens1370").device?.number("framesPlayed") ?? 0 > 22050 }
        let d = try #require(try h.status("ens1370").device)
        #expect(d.chip == "ES1370" && d.registeredAs == "Ensoniq AudioPCI ENS1370")
        #expect(d.number("sampleRate") == 44100, "PCLKDIV 30: 1411200 / (30 + 2)")
        #expect(d.number("underruns") == 0 && d.number("glitches") == 0)
        #expect(d.number("masterVolumeRegister") == 0x0808, "AK4531 master L/R at 75 %: attenuation 8 (-16 dB)")
    }

    @Test func theSimClientCommandTravelsTheUpcallPath() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        try h.wait("netdev up") { try h.status("rtl8139").device?.dataPath == true }
        try h.wait("playing") { try h.status("ens1371").device?.dataPath == true }
        var (rc, err) = try h.simClient(["set-rate", "1", "32000"])
        #expect(rc == 0, "\(err)")
        #expect(try h.status("ens1371").device?.number("sampleRate") == 32000)
        (rc, err) = try h.simClient(["rx-mode", "2", "allmulti"])
        #expect(rc == 0, "\(err)")
        #expect(try h.status("rtl8139").device?.text("rxMode") == "allmulti")
        // A rate the ES1371 cannot do is refused by the u-driver, and said so.
        (rc, err) = try h.simClient(["set-rate", "1", "96000"])
        #expect(rc == 1 && err.contains("96000 Hz outside 4000...48000"), "\(err)")
        #expect(try h.status("ens1371").device?.number("sampleRate") == 32000, "a refused hw_params changes nothing")
    }
}

@Suite(.serialized) struct BrokerCheckTests {
    /// A u-driver's bad downcall is refused by the daemon with an error
    /// reply naming the field (the nucleus never sees it), and is a
    /// bad-parameter failure of that driver only. A register write only
    /// the nucleus can judge (a bus address written by hand into RxBuf) is
    /// refused by its chip's write check, and is the same failure.
    @Test func badDowncallsAreRefusedByTheBroker() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        let misdeeds = ["bar", "dma", "instance", "op", "rawdma"]
        for m in misdeeds {
            try "[Driver]\nName=misbehave-\(m)\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nRestart=no\n"
                .write(toFile: cfg + "/drivers.d/\(m).conf", atomically: true, encoding: .utf8)
        }
        try h.startSim(["--devices", "rtl8139", "rtl8139", "rtl8139", "rtl8139", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.wait("all refused") { try h.list().allSatisfy { $0.state == .failed } && h.list().count == 5 }
        let expected = [
            "bar": "REG_READ: register 0x1100 (+4) outside the 256-byte BAR",
            "dma": "REG_WRITE_DMA: DMA handle 999999 is not owned by this driver",
            "op": "SND_MIXER_PUT is not a downcall",
            "instance": "REG_READ: instance ",
            "rawdma": "REG_WRITE by the nucleus: RxBuf takes a DMA buffer of 8K + 16 + 1536 bytes, by REG_WRITE_DMA",
        ]
        for m in misdeeds {
            let (rc, out, _) = try h.drvctl("history", "misbehave-\(m)")
            #expect(rc == 0)
            #expect(out.contains("refused") && out.contains(expected[m] ?? "?"), "\(m): \(out)")
        }
        let log = try String(contentsOfFile: h.logPath, encoding: .utf8)
        #expect(log.contains("FAILURE_KIND=bad-parameter"))
        #expect(log.contains("PARAMETER=REG_OFFSET") && log.contains("PARAMETER=DMA_HANDLE"))
        #expect(log.contains("PARAMETER=REG_VALUE"), "the nucleus's refusal names REG_VALUE")
    }

    /// What a u-driver sends after it was judged failed (before its kill
    /// lands) does not reach the device: the daemon reads its messages in
    /// order, and the one after the failing one is refused. Once active
    /// (at an rx-mode) and while starting (at probe).
    @Test func aUDriverJudgedFailedNoLongerReachesTheDevice() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for m in ["latewrite", "latewriteprobe"] {
            try "[Driver]\nName=misbehave-\(m)\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nRestart=no\n"
                .write(toFile: cfg + "/drivers.d/\(m).conf", atomically: true, encoding: .utf8)
        }
        try h.startSim(["--devices", "rtl8139", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.wait("the probe's failed, the other active") {
            let l = try h.list()
            return l.first { $0.name == "misbehave-latewriteprobe" }?.state == .failed
                && l.first { $0.name == "misbehave-latewrite" }?.state == .active
        }
        _ = try h.drvctl("call", "misbehave-latewrite", "rx-mode", "allmulti")
        try h.wait("failed") { try h.list().allSatisfy { $0.state == .failed } }
        for name in ["misbehave-latewrite", "misbehave-latewriteprobe"] {
            let (rc, out, _) = try h.drvctl("history", name)
            #expect(rc == 0 && out.contains("CALL_ID is drivermgrd's to set"), "\(name): \(out)")
            let filter = try #require(try h.status(name).device?.text("multicastFilter"))
            #expect(!filter.contains("deadbeef"), "\(name): MAR0 as the late write left it: \(filter)")
        }
    }
}
