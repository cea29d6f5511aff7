// SPDX-License-Identifier: GPL-2.0
import CTestSupport
import ControlInterface
import Foundation
import Synchronization
import Testing
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// drivermgrd's own crash (`--fd-store`): SIGKILL the daemon while both
/// u-drivers serve and the sim's workload runs; a new daemon, given back the
/// descriptors the old one stored, adopts the same u-driver processes. This
/// test plays systemd's part (the fd store and LISTEN_FDS); the QEMU guest
/// (Tests/vm/systemd-test.sh) does the same under real systemd.
@Suite(.serialized) struct DaemonRestartTests {
    /// NOTIFY_SOCKET with the fd store's bookkeeping: FDSTORE=1 adds the
    /// passed descriptor under FDNAME=, FDSTOREREMOVE=1 drops that name.
    final class FakeFDStore: @unchecked Sendable {
        /// The bound NOTIFY_SOCKET, as for the notify tests.
        private let socket: ServiceManagerTests.NotifySocket
        var path: String { socket.path }
        var fd: Int32 { socket.fd }
        private let state = Mutex<(fds: [(String, Int32)], messages: [String])>(([], []))
        private let stopped = Mutex(false)

        init(path: String) throws {
            socket = try ServiceManagerTests.NotifySocket(path: path)
            let t = Thread { [self] in
                var buf = [UInt8](repeating: 0, count: 4096)
                var fds = [Int32](repeating: -1, count: 16)
                while !stopped.withLock({ $0 }) {
                    var n: Int32 = 0
                    let len = buf.withUnsafeMutableBytes { b in
                        fds.withUnsafeMutableBufferPointer { drv_test_recv_fds(fd, b.baseAddress, Int32(b.count), $0.baseAddress, 16, &n) }
                    }
                    guard len > 0 else { continue }
                    let m = String(decoding: buf[0..<Int(len)], as: UTF8.self)
                    let fields = Dictionary(m.split(separator: "\n").map { l -> (String, String) in
                        let kv = l.split(separator: "=", maxSplits: 1)
                        return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
                    }, uniquingKeysWith: { $1 })
                    state.withLock { s in
                        s.messages.append(m)
                        if fields["FDSTOREREMOVE"] == "1", let name = fields["FDNAME"] {
                            for (n, f) in s.fds where n == name { close(f) }
                            s.fds.removeAll { $0.0 == name }
                        }
                        if fields["FDSTORE"] == "1" {
                            for f in fds.prefix(Int(n)) { s.fds.append((fields["FDNAME"] ?? "stored", f)) }
                        } else {
                            for f in fds.prefix(Int(n)) { close(f) }
                        }
                    }
                }
            }
            t.start()
        }

        /// Ends the reader and closes what the store held (the socket goes with `socket`).
        func stop() {
            stopped.withLock { $0 = true }
            usleep(200_000)
            for (_, f) in state.withLock({ $0.fds }) { close(f) }
        }

        var names: [String] { state.withLock { $0.fds.map(\.0) } }
        var messages: [String] { state.withLock { $0.messages } }
        var stored: [(String, Int32)] { state.withLock { $0.fds } }
    }

    /// Starts drivermgrd as systemd would after a restart: the stored
    /// descriptors at 3.., LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID.
    func startWithStore(_ h: SimHarness, _ store: FakeFDStore, config: String, log: String) throws -> pid_t {
        let stored = store.stored
        let args = [h.bin + "/drivermgrd", "--config", config, "--runtime-dir", h.dir, "--driver-dir", h.bin, "--fd-store"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = store.path
        env["LISTEN_FDS"] = "\(stored.count)"
        env["LISTEN_FDNAMES"] = stored.map(\.0).joined(separator: ":")
        env["LISTEN_PID"] = nil
        let argv = args.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        let logFD = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { close(logFD) }
        let fds = stored.map(\.1)
        let pid = fds.withUnsafeBufferPointer { f in
            drv_test_spawn_listen(args[0], argv, envp, f.baseAddress, Int32(f.count), logFD)
        }
        guard pid > 0 else { throw HarnessError("spawn drivermgrd: \(-pid)") }
        return pid
    }

    /// nucleus-sim, the fd store and a first drivermgrd serving ens1371
    /// and rtl8139 under it; ``restart()`` starts the next daemon from the
    /// store, ``stop()`` ends them all.
    final class Rig: @unchecked Sendable {
        let h: SimHarness
        let store: FakeFDStore
        let cfg: String
        let first: Process
        private var second: pid_t = 0

        /// `ens1371`: a drop-in for ens1371's configuration, if any.
        init(ens1371: String? = nil) throws {
            h = try SimHarness()
            store = try FakeFDStore(path: h.dir + "/notify")
            do {
                cfg = try RecoveryTests().config(h)
                if let ens1371 {
                    try ens1371.write(toFile: cfg + "/drivers.d/ens1371.conf.d/60-test.conf", atomically: true, encoding: .utf8)
                }
                try h.startSim()
                first = try h.launch("drivermgrd", ["--config", cfg, "--runtime-dir", h.dir, "--driver-dir", h.bin, "--fd-store"],
                                     log: h.logPath, environment: ["NOTIFY_SOCKET": store.path])
                try h.waitActive(["ens1371", "rtl8139"])
            } catch {
                store.stop()
                h.stopAll()
                throw error
            }
        }

        /// The next daemon, as systemd starts it after the first one's
        /// death, logging to drivermgrd-2.log.
        func restart() throws {
            second = try DaemonRestartTests().startWithStore(h, store, config: cfg, log: h.dir + "/drivermgrd-2.log")
        }

        /// The daemon ``restart()`` started.
        var secondPID: pid_t { second }

        /// The sim's audio plays and the store holds both drivers' channels
        /// (and ens1371's pidfd).
        func waitPlayingAndStored() throws {
            try h.wait("playing") { try h.status("ens1371").device?.dataPath == true }
            try h.wait("descriptors stored") { Set(store.names).isSuperset(of: ["ens1371.xpc", "ens1371.pid", "rtl8139.xpc"]) }
        }

        /// Once playing and stored (``waitPlayingAndStored()``), the master
        /// volume set to `v` through the nucleus: the codec register then.
        func playingWithMaster(_ v: UInt32) async throws -> UInt16 {
            try waitPlayingAndStored()
            try await amixerCset(v)
            return try #require(try DaemonRestartTests().nucleusInfo(h, 1).attribute(.codecMaster)).u16
        }

        /// The sim's `amixer cset` of the master volume (SIM_MIXER_PUT), an
        /// upcall through the nucleus.
        func amixerCset(_ v: UInt32) async throws {
            try await h.simControl(instance: 1, [.u8(.simAction, 6), .u16(.mixerControl, 1), .u32(.mixerValue, v)])
        }

        func stop() {
            SimHarness.terminate(second)
            store.stop()
            h.stopAll()
        }
    }

    func alive(_ pid: Int32) -> Bool {
        // A zombie (reparented here or not yet reaped) counts as gone.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    @Test func sigkilledDaemonHandsItsRunningUDriversToTheNextOne() async throws {
        // Nothing here is about detection speed: a deadline a loaded
        // machine (the whole suite in parallel) does not miss, so no
        // u-driver fails before the handover that is tested.
        let rig = try Rig(ens1371: "[Recovery]\nXPCTimeoutSec=2s\n")
        defer { rig.stop() }
        let (h, store, first) = (rig.h, rig.store, rig.first)
        try h.wait("playing and echoing") {
            try h.status("ens1371").device?.dataPath == true && (try h.status("rtl8139").device?.number("echoed") ?? 0) > 0
        }
        // State worth keeping: a volume the admin set, a rate the client chose.
        try await h.simControl(instance: 1, [.u8(.simAction, 1), .u32(.pcmRate, 44100)])
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "40").0 == 0)
        let list = try h.list()
        let pids = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0.pid ?? 0) })
        try h.wait("descriptors stored") { Set(store.names).isSuperset(of: ["ens1371.xpc", "ens1371.pid", "ens1371.seccomp", "rtl8139.xpc", "rtl8139.pid"]) }
        let stateFile = h.dir + "/drivers/ens1371.state"
        let saved = try #require(FileManager.default.contents(atPath: stateFile))
        #expect(String(decoding: saved, as: UTF8.self).contains("\"pid\" : \(pids["ens1371"] ?? -1)"))
        let before = try #require(try h.status("ens1371").device)
        let netBefore = try #require(try h.status("rtl8139").device)
        let masterBefore = try h.drvctl("call", "ens1371", "mixer-get", "master").1
        #expect(masterBefore.hasPrefix("value="))

        // The daemon dies; the u-drivers do not (no PR_SET_PDEATHSIG, and
        // their channel is held by the store, so they see no EOF).
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try await Task.sleep(for: .milliseconds(500))
        for (n, p) in pids { #expect(alive(p), "\(n) (pid \(p)) outlived the daemon") }

        try rig.restart()
        try h.wait("the new daemon serves") { (try? h.list().allSatisfy { $0.state == .active }) == true }
        let after = try h.list()
        for s in after {
            #expect(s.pid == pids[s.name], "\(s.name): same process")
            #expect(s.restarts == 0, "\(s.name): not restarted")
        }
        let log = (try? String(contentsOfFile: h.dir + "/drivermgrd-2.log", encoding: .utf8)) ?? ""
        #expect(log.contains("took over 2 of 2 u-driver(s)"), "\(log.suffix(2000))")
        // The history outlived the first daemon (RUNTIME/history.jsonl).
        let kept = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8)).events
        #expect(kept.contains { $0.event == "spawned" && $0.detail == "pid \(pids["ens1371"] ?? -1)" }, "\(kept.map(\.event))")
        #expect(kept.contains { $0.event == "adopted" }, "and the new daemon's own events follow")
        #expect(!log.contains("probed"), "nothing was probed again")
        // The sim's data path went on: no underrun, frames and echoes advance.
        try await Task.sleep(for: .milliseconds(500))
        let snd = try #require(try h.status("ens1371").device)
        #expect(snd.number("underruns") == 0 && snd.number("glitches") == 0)
        #expect((snd.number("framesPlayed") ?? 0) > (before.number("framesPlayed") ?? 0))
        #expect(snd.number("masterVolumeRegister") == before.number("masterVolumeRegister") && snd.number("sampleRate") == 44100)
        let net = try #require(try h.status("rtl8139").device)
        #expect((net.number("echoed") ?? 0) > (netBefore.number("echoed") ?? 0))
        #expect(net.text("mac") == netBefore.text("mac") && net.number("rxConfig") == netBefore.number("rxConfig"))
        // The adopted u-driver answers calls through the new daemon.
        #expect(try h.drvctl("call", "ens1371", "mixer-get", "master").1 == masterBefore)

        // The shadow survived too: a crash of the adopted u-driver is
        // recovered by replaying what the first daemon recorded.
        #expect(try h.drvctl("inject", "ens1371", "crash").0 == 0)
        try h.wait("recovered") { try h.list().first { $0.name == "ens1371" }.map { $0.state == .active && $0.restarts == 1 } == true }
        let history = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8)).events
        let rec = try #require(history.last { $0.event == "recovered" })
        #expect(rec.replayedCalls ?? 0 >= 4, "open, hw_params, prepare, mixer from the first daemon's shadow")
        let snd2 = try #require(try h.status("ens1371").device)
        #expect(snd2.number("masterVolumeRegister") == before.number("masterVolumeRegister") && snd2.number("sampleRate") == 44100)
        #expect(snd2.number("underruns") == 0 && snd2.number("glitches") == 0)
        // The adopted u-driver ended, not as the new daemon's child: its
        // status came from the kernel's process-events connector.
        let fail = try #require(history.last { $0.event == "failure" })
        #expect(fail.detail.contains("signal 11 (SIGSEGV)"), "\(fail.detail)")
    }

    /// A u-driver that died while no daemon ran is recovered from the saved
    /// shadow by the next one; a state file that does not decode is ignored.
    @Test func uDriverThatDiedMeanwhileIsRecoveredFromTheSavedShadow() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        let (h, store, first) = (rig.h, rig.store, rig.first)
        try h.wait("playing") { try h.status("ens1371").device?.dataPath == true }
        #expect(try h.drvctl("call", "ens1371", "mixer-set", "master", "40").0 == 0)
        let before = try #require(try h.status("ens1371").device)
        let pids = Dictionary(uniqueKeysWithValues: try h.list().map { ($0.name, $0.pid ?? 0) })
        try h.wait("descriptors stored") { Set(store.names).isSuperset(of: ["ens1371.xpc", "rtl8139.xpc", "netns"]) }
        // The network namespace the u-drivers share (SharedNetworkNamespace),
        // kept in the store for the next daemon.
        let net = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pids["ens1371"] ?? 0)/ns/net")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        kill(pids["ens1371"] ?? 0, SIGKILL)
        try "{ not json".write(toFile: h.dir + "/drivers/rtl8139.state", atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(300))

        try rig.restart()
        try h.wait("both serve again") { (try? h.list().allSatisfy { $0.state == .active }) == true }
        let after = Dictionary(uniqueKeysWithValues: try h.list().map { ($0.name, $0) })
        #expect(after["ens1371"]?.pid != pids["ens1371"], "a new u-driver")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(after["ens1371"]?.pid ?? 0)/ns/net") == net,
                "the next daemon's u-driver joined the namespace from the store")
        let snd = try #require(try h.status("ens1371").device)
        #expect(snd.number("masterVolumeRegister") == before.number("masterVolumeRegister"), "replayed from the saved shadow")
        #expect(snd.number("underruns") == 0 && snd.number("glitches") == 0)
        let history = try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8)).events
        #expect(history.contains { $0.event == "recovered" && ($0.replayedCalls ?? 0) >= 4 })
        let log = (try? String(contentsOfFile: h.dir + "/drivermgrd-2.log", encoding: .utf8)) ?? ""
        #expect(log.contains("ignoring \(h.dir)/drivers/rtl8139.state"), "\(log.suffix(1500))")
        // With its state unreadable, rtl8139's old u-driver is told to shut
        // down and a fresh one probes the device.
        #expect(after["rtl8139"]?.pid != pids["rtl8139"])
        try h.wait("the old rtl8139 u-driver exits") { !alive(pids["rtl8139"] ?? 0) }
    }

    /// The sim's `amixer cset` through the nucleus: its XPC_MESSAGES and the
    /// master register afterwards.
    func nucleusInfo(_ h: SimHarness, _ instance: UInt32) throws -> XPCMessage {
        let c = XPCConnection(name: "test", socket: try XPCSocket.connect(path: h.socketPath), onEvent: { _, _ in })
        c.start()
        defer { c.close() }
        let done = Mutex<Result<XPCMessage, XPCError>?>(nil)
        c.call(XPCMessage(op: .deviceInfo, flags: .request, instance: instance), timeout: .seconds(5)) { r in
            done.withLock { $0 = r }
        }
        try h.wait("DEVICE_INFO") { done.withLock { $0 != nil } }
        return try #require(done.withLock { $0 }).get()
    }

    /// An upcall in flight when drivermgrd is SIGKILLed is answered once:
    /// the nucleus sends it again to the next daemon, which passes it on to
    /// the adopted u-driver, which answers from what it served (UPCALL_ID)
    /// instead of acting twice; and the new daemon's shadow has it.
    @Test func upcallInFlightAcrossTheDaemonsDeathIsAnsweredOnce() async throws {
        // The stopped u-driver below must not look hung to the first daemon
        // in the moment before it dies.
        let rig = try Rig(ens1371: "[Recovery]\nXPCTimeoutSec=5s\nHeartbeatSec=30s\n")
        defer { rig.stop() }
        let (h, first) = (rig.h, rig.first)
        try rig.waitPlayingAndStored()
        func put(_ v: UInt32) async throws { try await rig.amixerCset(v) }
        func messages() throws -> UInt64 { try #require(try nucleusInfo(h, 1).attribute(.xpcMessages)).u64 }
        // What one `amixer cset` costs at the nucleus, served once.
        let m0 = try messages()
        try await put(30)
        let once = try messages() - m0
        #expect(once >= 4, "the upcall, its answer and the codec write's downcall and reply")
        let reg30 = try #require(try nucleusInfo(h, 1).attribute(.codecMaster)).u16

        // The u-driver stops before it reads the next upcall; the daemon
        // passes it on and dies; the u-driver serves it into the channel the
        // store holds, and the next daemon gets it again from the nucleus.
        let pid = try #require(try h.list().first { $0.name == "ens1371" }?.pid)
        kill(pid, SIGSTOP)
        let m1 = try messages()
        let client = Task { try await put(55) }
        try await Task.sleep(for: .milliseconds(300))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        kill(pid, SIGCONT)
        try rig.restart()
        try await client.value
        try h.wait("the new daemon serves") { (try? h.list().allSatisfy { $0.state == .active }) == true }
        #expect(try h.list().first { $0.name == "ens1371" }?.pid == pid, "adopted, not restarted")
        let twice = try messages() - m1
        // The codec read the u-driver sent while no daemon ran was read by
        // the new one, and sent again on TAKEOVER: the nucleus answered the
        // repeat from the first time (a request and a reply more each).
        let sim = (try? String(contentsOfFile: h.dir + "/nucleus-sim.log", encoding: .utf8)) ?? ""
        let repeats = UInt64(sim.components(separatedBy: "answered from the first time").count - 1)
        #expect(twice == once + 2 * repeats, "served once: \(twice) messages at the nucleus, \(once) for one put, \(repeats) downcall(s) repeated")
        let reg55 = try #require(try nucleusInfo(h, 1).attribute(.codecMaster)).u16
        #expect(reg55 != reg30, "the put took effect")
        // The new daemon's shadow has it: a crash now replays 55, not 30.
        #expect(try h.drvctl("inject", "ens1371", "crash").0 == 0)
        try h.wait("recovered") { try h.list().first { $0.name == "ens1371" }.map { $0.state == .active && $0.restarts == 1 } == true }
        #expect(try nucleusInfo(h, 1).attribute(.codecMaster)?.u16 == reg55)
        let log = (try? String(contentsOfFile: h.dir + "/drivermgrd-2.log", encoding: .utf8)) ?? ""
        #expect(log.contains("took over 2 of 2 u-driver(s)"), "\(log.suffix(2000))")
    }

    /// A downcall the nucleus ran, whose reply died with drivermgrd, is not
    /// lost and does not run twice: the new daemon tells the adopted
    /// u-driver (TAKEOVER), which sends it again; the daemon names it by the
    /// u-driver's pid and seq (CALL_ID), as the first one did, and the
    /// nucleus answers from the first time.
    @Test func downcallWhoseReplyDiedWithTheDaemonRunsOnce() async throws {
        let rig = try Rig(ens1371: "[Recovery]\nXPCTimeoutSec=5s\nHeartbeatSec=30s\n")
        defer { rig.stop() }
        let (h, first) = (rig.h, rig.first)
        try rig.waitPlayingAndStored()
        func put(_ v: UInt32) async throws { try await rig.amixerCset(v) }
        try await put(30)
        let reg30 = try #require(try nucleusInfo(h, 1).attribute(.codecMaster)).u16
        let pid = try #require(try h.list().first { $0.name == "ens1371" }?.pid)

        // The put reads the codec's volume register, then writes it. The
        // nucleus runs the write and its reply is lost, as when the daemon
        // dies between the two; then the daemon dies.
        try await h.simControl(instance: 1, [.u8(.simAction, 7), .u32(.count, 2)])
        let client = Task { try await put(55) }
        try h.wait("the codec written") { try nucleusInfo(h, 1).attribute(.codecMaster)?.u16 != reg30 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try rig.restart()
        // The u-driver's downcall has 2 s from its first send: without the
        // second send it fails, and so does the client's put.
        try await client.value
        try h.wait("the new daemon serves") { (try? h.list().allSatisfy { $0.state == .active }) == true }
        #expect(try h.list().first { $0.name == "ens1371" }?.pid == pid, "adopted, not restarted")
        let reg55 = try #require(try nucleusInfo(h, 1).attribute(.codecMaster)).u16
        #expect(reg55 != reg30)
        let log = (try? String(contentsOfFile: h.dir + "/drivermgrd-2.log", encoding: .utf8)) ?? ""
        #expect(log.contains("unanswered downcall(s) sent again"), "\(log.suffix(2000))")
        let sim = (try? String(contentsOfFile: h.dir + "/nucleus-sim.log", encoding: .utf8)) ?? ""
        #expect(sim.contains("sent again after the daemon's restart: answered from the first time"), "\(sim.suffix(1500))")
        // The new daemon's shadow has the put: a crash replays 55.
        #expect(try h.drvctl("inject", "ens1371", "crash").0 == 0)
        try h.wait("recovered") { try h.list().first { $0.name == "ens1371" }.map { $0.state == .active && $0.restarts == 1 } == true }
        #expect(try nucleusInfo(h, 1).attribute(.codecMaster)?.u16 == reg55)
    }

    /// A u-driver taken over from the previous daemon has ProbeTimeoutSec,
    /// not XPCTimeoutSec, to give its first answer to the new daemon: that
    /// daemon's start loads the host exactly then (under QEMU's TCG a NIC
    /// taken over missed its first ping's 1 s, and was restarted instead of
    /// taken over). Once it has answered, a u-driver that stops answering
    /// is found within XPCTimeoutSec again.
    @Test func aUDriverJustTakenOverHasTheWarmUpDeadline() async throws {
        let rig = try Rig(ens1371: "[Recovery]\nXPCTimeoutSec=500ms\nHeartbeatSec=100ms\nHeartbeatMaxSec=100ms\nProbeTimeoutSec=5s\n")
        defer { rig.stop() }
        let (h, first) = (rig.h, rig.first)
        try rig.waitPlayingAndStored()
        let pid = try #require(try h.list().first { $0.name == "ens1371" }?.pid)

        // It does not run while the daemon is down and for 1.5 s (three
        // of its XPCTimeoutSec) after the next one took it over.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        kill(pid, SIGSTOP)
        try rig.restart()
        let log2 = h.dir + "/drivermgrd-2.log"
        try h.wait("taken over") {
            ((try? String(contentsOfFile: log2, encoding: .utf8)) ?? "").contains("took over u-driver \(pid)")
        }
        let adoptedAt = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(1500))
        kill(pid, SIGCONT)
        try await Task.sleep(for: .milliseconds(700))
        let s = try #require(try h.list().first { $0.name == "ens1371" })
        #expect(s.pid == pid && s.restarts == 0 && s.state == .active, "taken over and kept: \(s)")
        func history() throws -> [DriverEvent] {
            try JSONDecoder().decode(HistoryReply.self, from: Data(try h.drvctl("history", "ens1371", "--json=short").1.utf8)).events
        }
        #expect(!(try history()).contains { $0.event == "failure" }, "no failure while the take-over was fresh")

        // Answered (and past the grace, XPCTimeoutSec + 3 s): XPCTimeoutSec again.
        try await Task.sleep(until: adoptedAt + .milliseconds(4000))
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        try h.wait("the stopped u-driver found") {
            try h.list().first { $0.name == "ens1371" }.map { $0.restarts == 1 && $0.state == .active } == true
        }
        let fail = try #require(try history().last { $0.event == "failure" })
        #expect(fail.detail.contains("no answer to a ping within 0.5 seconds"), "\(fail.detail)")
    }

    /// The u-driver dies too while no daemon runs, and an upcall is made
    /// meanwhile: the next daemon cannot take that u-driver over and
    /// recovers it; the upcall, sent again to it the moment it registers,
    /// waits for the recovered u-driver instead of being refused for want
    /// of a channel (an aplay in the product guest's campaign failed so).
    @Test func anUpcallMadeWhileTheDaemonAndItsUDriverAreDeadIsAnsweredAfterRecovery() async throws {
        let rig = try Rig(ens1371: "[Recovery]\nXPCTimeoutSec=2s\n")
        defer { rig.stop() }
        let (h, first) = (rig.h, rig.first)
        let reg30 = try await rig.playingWithMaster(30)
        let pid = try #require(try h.list().first { $0.name == "ens1371" }?.pid)

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        kill(pid, SIGKILL)
        try h.wait("the u-driver gone") { !alive(pid) }
        let client = Task { try await rig.amixerCset(55) }
        try await Task.sleep(for: .milliseconds(300))
        try rig.restart()
        try await client.value
        try h.wait("the new daemon serves") { (try? h.list().allSatisfy { $0.state == .active }) == true }
        let s = try #require(try h.list().first { $0.name == "ens1371" })
        #expect(s.pid != pid && s.restarts == 1, "recovered, not taken over")
        let reg55 = try #require(try nucleusInfo(h, 1).attribute(.codecMaster)).u16
        #expect(reg55 != reg30, "the put made while nothing served took effect")
    }

    /// An upcall made while no daemon runs after one died (an `amixer cset`
    /// during the restart) waits for the next daemon and is answered by
    /// it; after a daemon stopped on purpose (SIGTERM: UNREGISTER), one
    /// fails at once with EAGAIN instead of waiting for nobody.
    @Test func anUpcallMadeWhileTheDaemonRestartsIsAnsweredByTheNextOne() async throws {
        let rig = try Rig(ens1371: "[Recovery]\nXPCTimeoutSec=2s\n")
        defer { rig.stop() }
        let (h, first) = (rig.h, rig.first)
        let reg30 = try await rig.playingWithMaster(30)

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try await Task.sleep(for: .milliseconds(200))
        let client = Task { try await rig.amixerCset(55) }
        try await Task.sleep(for: .milliseconds(400))
        try rig.restart()
        try await client.value
        try h.wait("the new daemon serves") { (try? h.list().allSatisfy { $0.state == .active }) == true }
        let reg55 = try #require(try nucleusInfo(h, 1).attribute(.codecMaster)).u16
        #expect(reg55 != reg30, "the put made while no daemon ran took effect")

        // Stopped on purpose: nothing is expected to answer.
        let second = rig.secondPID
        kill(second, SIGTERM)
        try h.wait("the daemon stopped") { !alive(second) }
        let sim = (try? String(contentsOfFile: h.dir + "/nucleus-sim.log", encoding: .utf8)) ?? ""
        do {
            try await rig.amixerCset(70)
            Issue.record("an upcall after UNREGISTER was answered")
        } catch {
            #expect("\(error)".contains("no daemon registered"), "failed at once, not at a deadline: \(error); \(sim.suffix(800))")
        }
    }
}
