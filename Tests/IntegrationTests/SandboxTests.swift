// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox with a hostile u-driver: every attempt fails, is reported
/// with its kind and detail, and touches nothing else.
@Suite(.serialized) struct SandboxTests {
    /// Misdeed → what the failure report must say.
    static let attempts: [(String, String)] = [
        ("shadow", "sandbox: openat(\"/etc/shadow\") [syscall 257]"),
        ("statefile", "sandbox: openat(\"/var/lib/drivermgrd/state\")"),
        ("devmem", "sandbox: openat(\"/dev/mem\")"),
        ("socket", "sandbox: socket(domain 2"),
        ("ptrace", "sandbox: ptrace(request 16"),
        ("kill", "sandbox: kill(pid "),
        ("fork", "sandbox: clone"),
        ("exec", "sandbox: execve(\"/bin/sh\")"),
        ("flood", "protocol: malformed message"),
        ("alloc", "allocation failed after"),
    ]

    @Test func hostileAttemptsAreNamedAndContained() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for (m, _) in Self.attempts {
            try "[Driver]\nName=misbehave-\(m)\nClass=net\nMatch=pci:10ec:8139\nExecutable=misbehave\n[Recovery]\nRestart=no\n[Sandbox]\nMemoryMax=256M\n"
                .write(toFile: cfg + "/drivers.d/a-\(m).conf", atomically: true, encoding: .utf8)
        }
        try "[Driver]\nName=good\nClass=net\nMatch=pci:10ec:8139\nExecutable=rtl8139\n"
            .write(toFile: cfg + "/drivers.d/z-good.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--devices"] + Array(repeating: "rtl8139", count: Self.attempts.count + 1) + ["--no-workload"])
        let daemon = try h.startDaemon(config: cfg)
        try h.wait("every hostile driver stopped", seconds: 60) {
            let l = try h.list()
            return l.count == Self.attempts.count + 1 && l.filter { $0.name != "good" }.allSatisfy { $0.state == .failed }
        }
        #expect(daemon.isRunning, "drivermgrd survived ptrace and kill attempts")
        let good = try #require(try h.list().first { $0.name == "good" })
        #expect(good.state == .active && good.restarts == 0, "the other driver is unaffected")
        for (m, expected) in Self.attempts {
            let s = try h.status("misbehave-\(m)")
            #expect(s.lastFailure?.contains(expected) == true, "\(m): \(s.lastFailure ?? "nil")")
        }
        let log = try String(contentsOfFile: h.logPath, encoding: .utf8)
        #expect(log.contains("FAILURE_KIND=sandbox") && log.contains("SYSCALL=openat"))
        #expect(log.contains("SYSCALL=ptrace") && log.contains("SYSCALL=kill") && log.contains("SYSCALL=execve"))
    }

    @Test func aUDriverThatSkipsStageTwoIsRefused() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let exe = h.dir + "/misbehave-nostage2"
        try FileManager.default.createSymbolicLink(atPath: exe, withDestinationPath: h.bin + "/misbehave")
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try "[Driver]\nName=nostage2\nClass=net\nMatch=pci:10ec:8139\nExecutable=\(exe)\n"
            .write(toFile: cfg + "/drivers.d/n.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.wait("refused") { try h.list().first?.state == .failed }
        let s = try h.status("nostage2")
        #expect(s.lastFailure?.contains("sandbox not in place") == true && s.lastFailure?.contains("Seccomp_filters 1") == true,
                "\(s.lastFailure ?? "nil")")
    }

    @Test func theUDriverRunsConfined() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        var uids: [UInt32] = []
        for d in try h.list() {
            let pid = try #require(d.pid)
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            func field(_ k: String) -> String { status.split(separator: "\n").first { $0.hasPrefix(k + ":") }.map { String($0.dropFirst(k.count + 1)).trimmingCharacters(in: .whitespaces) } ?? "" }
            // DynamicUser=yes (the sample config): a uid of the driver's own
            // from the dynamic range, no account behind it, gid the same.
            let ids = field("Uid").split(separator: "\t").compactMap { UInt32($0) }
            let uid = try #require(ids.first)
            #expect(ids.count == 4 && ids.allSatisfy { $0 == uid }, "\(d.name): Uid \(field("Uid"))")
            #expect((61184...65519).contains(uid) && getpwuid(uid) == nil && getgrgid(uid) == nil, "\(d.name) runs as \(uid)")
            #expect(field("Gid").split(separator: "\t").allSatisfy { UInt32($0) == uid })
            uids.append(uid)
            #expect(field("CapEff") == "0000000000000000" && field("CapPrm") == "0000000000000000")
            #expect(field("NoNewPrivs") == "1" && field("Seccomp") == "2" && field("Seccomp_filters") == "2")
            let myNet = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net") != myNet, "not the daemon's network namespace")
        }
        #expect(Set(uids).count == uids.count, "a uid per driver: \(uids)")
    }

    /// A u-driver that exits before its sandbox is up says why: its stderr
    /// is logged under the driver's name, and the failure (journal entry,
    /// status) carries the text and the exit status.
    @Test func aUDriverThatDiesBeforeItsSandboxSaysWhy() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let exe = h.dir + "/misbehave-earlydeath"
        try FileManager.default.createSymbolicLink(atPath: exe, withDestinationPath: h.bin + "/misbehave")
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try "[Driver]\nName=earlydeath\nClass=net\nMatch=pci:10ec:8139\nExecutable=\(exe)\n[Recovery]\nRestart=no\n"
            .write(toFile: cfg + "/drivers.d/e.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.wait("failed") { try h.list().first?.state == .failed }
        let text = "misbehave: cannot start: the early-death test asked for it"
        let s = try h.status("earlydeath")
        #expect(s.lastFailure?.contains("before the sandbox was up") == true && s.lastFailure?.contains(text) == true
                    && s.lastFailure?.contains("exited with status 3") == true, "\(s.lastFailure ?? "nil")")
        let log = try String(contentsOfFile: h.logPath, encoding: .utf8).split(separator: "\n")
        #expect(log.contains { $0.contains("DRIVER=earlydeath") && $0.contains("STREAM=stderr") && $0.contains(text) },
                "the stderr line, under the driver's name")
        #expect(log.contains { $0.contains("DRIVER=earlydeath") && $0.contains("FAILURE_KIND=sandbox") && $0.contains("EXIT_STATUS=3")
                    && $0.contains(text) }, "the failure entry says why")
    }

    /// A u-driver in a directory its uid cannot search (a checkout in a
    /// 0700 home) still starts: drivermgrd opens the file as root and the
    /// child runs it from that descriptor, named after argv[0] all the same.
    @Test func aUDriverInADirectoryOnlyRootCanSearchStarts() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let hidden = h.dir + "/root-only"
        try FileManager.default.createDirectory(atPath: hidden + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: h.bin + "/rtl8139", toPath: hidden + "/bin/rtl8139")
        #expect(chmod(hidden, 0o700) == 0)
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        try "[Driver]\nName=rtl8139\nClass=net\nMatch=pci:10ec:8139\nExecutable=\(hidden)/bin/rtl8139\n[Recovery]\nRestart=no\n"
            .write(toFile: cfg + "/drivers.d/r.conf", atomically: true, encoding: .utf8)
        try h.startSim(["--devices", "rtl8139", "--no-workload"])
        try h.startDaemon(config: cfg)
        try h.waitActive(["rtl8139"])
        let pid = try #require(try h.list().first?.pid)
        let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
        #expect(comm == "rtl8139\n")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(!status.contains("Uid:\t0\t"), "it runs under its own uid, not root")
    }

    /// Runs drvctl as another user (setpriv), in or out of the control group.
    func drvctlAs(_ h: SimHarness, gid: UInt32, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        // A copy where uid 65534 can reach it: the checkout may be in a
        // directory only root can search.
        let exe = h.dir + "/drvctl-copy"
        if !FileManager.default.fileExists(atPath: exe) { try FileManager.default.copyItem(atPath: h.bin + "/drvctl", toPath: exe) }
        p.arguments = ["--reuid=65534", "--regid=\(gid)", "--clear-groups", exe] + args
        var env = ProcessInfo.processInfo.environment
        env["DRIVERMGRD_RUNTIME_DIR"] = h.dir
        p.environment = env
        return try SimHarness.runToEnd(p)
    }

    @Test func anUnprivilegedUserCanReadButNotChange() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        try h.startSim()
        try h.launch("drivermgrd", ["--config", SimHarness.etcDir, "--runtime-dir", h.dir, "--driver-dir", h.bin,
                                    "--control-group", "drivermgr"], log: h.logPath)
        try h.waitActive(["ens1371", "rtl8139"])
        let group = try #require(getgrnam("drivermgr")?.pointee.gr_gid)
        var (rc, err) = try drvctlAs(h, gid: group, ["list"])
        #expect(rc == 0, "\(err)")
        (rc, err) = try drvctlAs(h, gid: group, ["status", "ens1371"])
        #expect(rc == 0, "\(err)")
        (rc, err) = try drvctlAs(h, gid: group, ["restart", "ens1371"])
        #expect(rc == 4 && err == "Failed to restart ens1371: permission denied\n", "\(err)")
        (rc, err) = try drvctlAs(h, gid: group, ["call", "ens1371", "mixer-set", "master", "10"])
        #expect(rc == 4 && err.contains("permission denied"))
        #expect(try h.list().first { $0.name == "ens1371" }?.restarts == 0, "nothing changed")
        (rc, err) = try drvctlAs(h, gid: 65534, ["list"])
        #expect(rc == 4 && err.contains("Permission denied") && err.contains("control group"), "\(err)")
    }
}
