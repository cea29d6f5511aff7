// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import drivermgrd
import Nucleus
import XPC

@Suite struct ConfigTests {
    /// A fresh config directory with drivers.d/ holding `files`.
    func configDir(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "drvcfg-\(UUID().uuidString)"
        for (name, text) in files {
            let path = dir + "/drivers.d/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: dir + "/drivers.d", withIntermediateDirectories: true)
        return dir
    }

    let good = """
        [Driver]
        Name=ens1371
        Class=sound
        Match=pci:1274:1371
        Executable=ens137x

        [Recovery]
        XPCTimeoutSec=250ms
        """

    @Test func parsesTheSampleShape() throws {
        let dir = try configDir(["ens1371.conf": good])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/usr/libexec/drivermgrd")
        #expect(r.errors.isEmpty)
        let d = try #require(r.drivers.first)
        #expect(d.name == "ens1371" && d.deviceClass.wireClass == .sound && d.vendor == 0x1274 && d.device == 0x1371)
        #expect(d.executable == "/usr/libexec/drivermgrd/ens137x")
        #expect(d.xpcTimeout == .milliseconds(250))
        #expect(d.match == "pci:1274:1371")
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// etc/ ships one configuration per chip the kernel nucleus binds
    /// (module/chips.c's id table), and every one of them loads cleanly.
    @Test func theShippedConfigurationCoversEveryChip() throws {
        let r = ConfigLoader.load(directory: Self.root.appendingPathComponent("etc").path, driverDirectory: "/x")
        #expect(r.errors.isEmpty && r.warnings.isEmpty)
        let matched = Set(r.drivers.map(\.match))
        let chips = try String(contentsOf: Self.root.appendingPathComponent("module/chips.c"), encoding: .utf8)
        let ids = chips.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("DRVNUCLEUS_CHIP(0x") else { return nil }
            let parts = line.split(separator: "(")[1].split(separator: ",").prefix(2)
                .map { $0.trimmingCharacters(in: .whitespaces).dropFirst(2) }
            return "pci:\(parts[0]):\(parts[1])"
        }
        #expect(ids.count >= 6)
        for id in ids { #expect(matched.contains(id), "no configuration in etc/ for \(id)") }
    }

    /// The README's samples (every ```ini block, the [Sandbox] one too),
    /// copied as they are, load without an error or a warning and mean what
    /// their comments say.
    @Test func theREADMEsSampleLoadsAsItIs() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        var text = "", from = readme.startIndex, blocks = 0
        while let start = readme.range(of: "```ini\n", range: from..<readme.endIndex) {
            let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
            text += readme[start.upperBound..<end.lowerBound] + "\n"
            from = end.upperBound
            blocks += 1
        }
        #expect(blocks >= 2)
        let dir = try configDir(["ens1371.conf": text])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(r.warnings.isEmpty, "\(r.warnings)")
        let d = try #require(r.drivers.first)
        #expect(d.name == "ens1371" && d.executable == "/x/ens137x" && d.standby && d.verifySettings && !d.faultInjection)
        #expect(d.sandboxed && d.privateNamespaces)
    }

    @Test func verifySettingsIsOnUnlessTurnedOff() throws {
        let on = ConfigLoader.load(directory: try configDir(["ens1371.conf": good]), driverDirectory: "/x")
        #expect(on.drivers.first?.verifySettings == true)
        let off = ConfigLoader.load(directory: try configDir(["ens1371.conf": good + "\nVerifySettings=no\n"]), driverDirectory: "/x")
        #expect(off.drivers.first?.verifySettings == false)
        let bad = ConfigLoader.load(directory: try configDir(["ens1371.conf": good + "\nVerifySettings=maybe\n"]), driverDirectory: "/x")
        #expect(bad.errors.first.map { "\($0)" }?.contains("Invalid VerifySettings=maybe: expected yes or no") == true)
    }

    @Test func bindIsOffUnlessSetAndABadOneIsNamedByLine() throws {
        let withBind = { (v: String) in self.good.replacingOccurrences(of: "Executable=ens137x", with: "Executable=ens137x\nBind=\(v)") }
        let off = ConfigLoader.load(directory: try configDir(["ens1371.conf": good]), driverDirectory: "/x")
        #expect(off.drivers.first?.bind == BindSetting.no)
        let on = ConfigLoader.load(directory: try configDir(["ens1371.conf": withBind("0000:00:04.0")]), driverDirectory: "/x")
        #expect(on.drivers.first?.bind == .slots(["0000:00:04.0"]))
        let bad = ConfigLoader.load(directory: try configDir(["ens1371.conf": withBind("00:04.0")]), driverDirectory: "/x")
        #expect(bad.drivers.isEmpty)
        #expect(bad.errors.first.map { "\($0)" }?.hasSuffix(
            "ens1371.conf:6: Invalid Bind=00:04.0: expected no, yes, or PCI addresses such as 0000:00:04.0") == true,
            "\(bad.errors)")
    }

    @Test func releaseOnExitIsOffUnlessSetAndABadOneIsNamedByLine() throws {
        let with = { (v: String) in self.good.replacingOccurrences(of: "Executable=ens137x", with: "Executable=ens137x\nBind=yes\nReleaseOnExit=\(v)") }
        let off = ConfigLoader.load(directory: try configDir(["ens1371.conf": good]), driverDirectory: "/x")
        #expect(off.drivers.first?.releaseOnExit == false)
        let on = ConfigLoader.load(directory: try configDir(["ens1371.conf": with("yes")]), driverDirectory: "/x")
        #expect(on.drivers.first?.releaseOnExit == true)
        #expect(on.warnings.isEmpty, "\(on.warnings)")
        let bad = ConfigLoader.load(directory: try configDir(["ens1371.conf": with("later")]), driverDirectory: "/x")
        #expect(bad.drivers.isEmpty)
        #expect(bad.errors.first.map { "\($0)" }?.hasSuffix("ens1371.conf:7: Invalid ReleaseOnExit=later: expected yes or no") == true,
                "\(bad.errors)")
    }

    /// The recovery tiers: ResetAfter= 2 and ReaddAfter= 3 unless set; a
    /// bad count is named by file and line.
    @Test func recoveryTiersHaveDefaultsAndABadCountIsNamedByLine() throws {
        let with = { (v: String) in self.good + "\nResetAfter=4\nReaddAfter=\(v)" }
        let plain = ConfigLoader.load(directory: try configDir(["ens1371.conf": good]), driverDirectory: "/x")
        #expect(plain.drivers.first.map { ($0.resetAfter, $0.readdAfter) }.map { $0 == (2, 3) } == true)
        let set = ConfigLoader.load(directory: try configDir(["ens1371.conf": with("0")]), driverDirectory: "/x")
        #expect(set.drivers.first.map { ($0.resetAfter, $0.readdAfter) }.map { $0 == (4, 0) } == true, "\(set.errors)")
        let bad = ConfigLoader.load(directory: try configDir(["ens1371.conf": with("-1")]), driverDirectory: "/x")
        #expect(bad.drivers.isEmpty)
        #expect(bad.errors.first.map { "\($0)" }?.hasSuffix("ens1371.conf:10: Invalid ReaddAfter=-1: expected a count of attempts, 0 to never re-add") == true,
                "\(bad.errors)")
    }

    /// RequestRetries=: 2 unless set, 0 allowed; a bad count is named by
    /// file and line.
    @Test func requestRetriesHasADefaultAndABadCountIsNamedByLine() throws {
        let plain = ConfigLoader.load(directory: try configDir(["ens1371.conf": good]), driverDirectory: "/x")
        #expect(plain.drivers.first?.requestRetries == 2)
        let none = ConfigLoader.load(directory: try configDir(["ens1371.conf": good + "\nRequestRetries=0"]), driverDirectory: "/x")
        #expect(none.drivers.first?.requestRetries == 0, "\(none.errors)")
        let bad = ConfigLoader.load(directory: try configDir(["ens1371.conf": good + "\nRequestRetries=many"]), driverDirectory: "/x")
        #expect(bad.drivers.isEmpty)
        #expect(bad.errors.first.map { "\($0)" }?.hasSuffix("ens1371.conf:9: Invalid RequestRetries=many: expected a count of retries, 0 to never send a request again") == true,
                "\(bad.errors)")
    }

    @Test func heartbeatBacksOffToAConfiguredCapAndABadOneIsNamedByLine() throws {
        let plain = ConfigLoader.load(directory: try configDir(["ens1371.conf": good]), driverDirectory: "/x")
        #expect(plain.drivers.first.map { ($0.heartbeat, $0.heartbeatMax) }.map { $0 == (.milliseconds(200), .seconds(5)) } == true)
        let set = ConfigLoader.load(directory: try configDir(["ens1371.conf": good + "\nHeartbeatMaxSec=30s"]), driverDirectory: "/x")
        #expect(set.drivers.first?.heartbeatMax == .seconds(30), "\(set.errors)")
        let bad = ConfigLoader.load(directory: try configDir(["ens1371.conf": good + "\nHeartbeatMaxSec=soon"]), driverDirectory: "/x")
        #expect(bad.drivers.isEmpty)
        #expect(bad.errors.first.map { "\($0)" }?.hasSuffix("ens1371.conf:9: Invalid HeartbeatMaxSec=soon: expected a time span such as 5s") == true,
                "\(bad.errors)")
    }

    /// Tests/etc is the simulator's: its two models' drivers.
    @Test func theSimulatorConfigurationLoads() throws {
        let r = ConfigLoader.load(directory: Self.root.appendingPathComponent("Tests/etc").path, driverDirectory: "/x")
        #expect(r.errors.isEmpty && r.warnings.isEmpty)
        #expect(r.drivers.map(\.name) == ["ens1371", "rtl8139"])
    }

    /// The shipped psmouse.conf: a serio port's type and protocol; Bind=
    /// names serio ports, and a PCI address there is an error naming its line.
    @Test func aSerioMatchNamesTheBusAndBindNamesPorts() throws {
        let shipped = try String(contentsOf: Self.root.appendingPathComponent("etc/drivers.d/psmouse.conf"), encoding: .utf8)
        let r = ConfigLoader.load(directory: try configDir(["psmouse.conf": shipped]), driverDirectory: "/x")
        #expect(r.errors.isEmpty, "\(r.errors)")
        let d = try #require(r.drivers.first)
        #expect(d.bus == .serio && d.vendor == 0x01 && d.device == 0x00 && d.match == "serio:01:00")
        #expect(d.deviceClass.wireClass == .input)
        let mouse = NucleusDevice(instance: 1, bus: .serio, vendor: 1, device: 0, revision: 0, slot: "serio1", barSize: 0,
                                  irq: 12, deviceClass: .input)
        let pciTwin = NucleusDevice(instance: 2, bus: .pci, vendor: 1, device: 0, revision: 0, slot: "0000:00:04.0",
                                    barSize: 256, irq: 11, deviceClass: .input)
        #expect(d.matches(mouse) && !d.matches(pciTwin), "the bus is part of the match")
        let bound = ConfigLoader.load(directory: try configDir(["psmouse.conf": shipped + "\n[Driver]\nBind=serio1 serio3\n"]), driverDirectory: "/x")
        #expect(bound.drivers.first?.bind == .slots(["serio1", "serio3"]), "\(bound.errors)")
        let pciSlot = ConfigLoader.load(directory: try configDir(["psmouse.conf": shipped + "\n[Driver]\nBind=0000:00:04.0\n"]), driverDirectory: "/x")
        #expect(pciSlot.drivers.isEmpty)
        #expect(pciSlot.errors.first.map { "\($0)" }?.hasSuffix("Invalid Bind=0000:00:04.0: expected no, yes, or serio ports such as serio1") == true,
                "\(pciSlot.errors)")
        for bad in ["serio:1:00", "serio:01:0000", "usb:01:00", "serio:0x:00"] {
            let e = ConfigLoader.load(directory: try configDir(["psmouse.conf": shipped.replacingOccurrences(of: "Match=serio:01:00", with: "Match=" + bad)]),
                                      driverDirectory: "/x")
            #expect(e.drivers.isEmpty && e.errors.first.map { "\($0)" }?.contains("Invalid Match=\(bad)") == true, "\(bad)")
        }
    }

    /// The shipped uhci.conf: the PIIX3's USB function, class usb-host
    /// (`usb` too), the uhci u-driver.
    @Test func theShippedUHCIConfigurationLoads() throws {
        let shipped = try String(contentsOf: Self.root.appendingPathComponent("etc/drivers.d/uhci.conf"), encoding: .utf8)
        let r = ConfigLoader.load(directory: try configDir(["uhci.conf": shipped]), driverDirectory: "/x")
        #expect(r.errors.isEmpty && r.warnings.isEmpty, "\(r.errors) \(r.warnings)")
        let d = try #require(r.drivers.first)
        #expect(d.name == "uhci" && d.match == "pci:8086:7020" && d.deviceClass.wireClass == .usbHost)
        let alias = ConfigLoader.load(directory: try configDir(["uhci.conf": shipped.replacingOccurrences(of: "Class=usb-host", with: "Class=usb")]),
                                      driverDirectory: "/x")
        #expect(alias.drivers.first?.deviceClass.wireClass == .usbHost, "\(alias.errors)")
    }

    @Test func badFileIsNamedByLineAndOnlyItIsSkipped() throws {
        let bad = good.replacingOccurrences(of: "Match=pci:1274:1371", with: "Match=pci:12745:1371")
        let dir = try configDir(["a.conf": bad, "rtl8139.conf": good.replacingOccurrences(of: "ens1371", with: "rtl8139")])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
        #expect(r.drivers.map(\.name) == ["rtl8139"])
        #expect(r.errors.count == 1)
        let e = try #require(r.errors.first)
        #expect(e.file.hasSuffix("drivers.d/a.conf") && e.line == 4)
        #expect(e.description.hasSuffix("a.conf:4: Invalid Match=pci:12745:1371: expected pci:VVVV:DDDD or serio:TT:PP (hex)"))
    }

    /// Found by Tests/fuzz/config_parse: a file with "\r\n" endings was
    /// one line ("Invalid section header" on line 1); systemd reads it.
    @Test func crlfAndCombiningMarksEndLinesAsNewlines() throws {
        let lf = try INIFile(path: "a.conf", text: "[Driver]\nClass=net\n\nMatch=pci:10ec:8139\n")
        let crlf = try INIFile(path: "a.conf", text: "[Driver]\r\nClass=net\r\n\r\nMatch=pci:10ec:8139\r\n")
        #expect(crlf.entries.map { "\($0.line) \($0.section).\($0.key)=\($0.value)" }
                == ["2 Driver.Class=net", "4 Driver.Match=pci:10ec:8139"])
        #expect(crlf.entries.map(\.value) == lf.entries.map(\.value))
        // A combining mark after "\n" starts the next line, not a grapheme with it.
        let mark = try INIFile(path: "a.conf", text: "[Driver]\n\u{301}X=1\n")
        #expect(mark.entries.map(\.line) == [2])
        // Stray "\r"s at the ends of keys and values are whitespace, as for systemd.
        let stray = try INIFile(path: "a.conf", text: "[Driver]\nClass\r=net\r\r\n")
        #expect(stray.entries.map { "\($0.key)=\($0.value)" } == ["Class=net"])
    }

    @Test func syntaxAndValueErrors() throws {
        let cases: [(String, Int, String)] = [
            ("Name=x\n", 1, "Assignment outside of section"),
            ("[Driver]\nName\n", 2, "Missing '='"),
            ("[Driver\n", 1, "Invalid section header"),
            ("[Driver]\nClass=video\nMatch=pci:1274:1371\nExecutable=x\n", 2, "Invalid Class=video"),
            ("[Driver]\nClass=sound\nMatch=pci:1274:1371\nExecutable=x\n[Recovery]\nXPCTimeoutSec=soon\n", 6, "Invalid XPCTimeoutSec=soon"),
            ("[Driver]\nClass=sound\nMatch=pci:1274:1371\nExecutable=x\n[Recovery]\nXPCTimeoutSec=0\n", 6, "Invalid XPCTimeoutSec=0"),
            ("[Driver]\nName=bad name\nClass=sound\nMatch=pci:1274:1371\nExecutable=x\n", 2, "Invalid Name=bad name"),
            ("[Driver]\nClass=sound\nExecutable=x\n", 0, "Missing Match= in [Driver]"),
        ]
        for (text, line, msg) in cases {
            let dir = try configDir(["d.conf": text])
            let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
            #expect(r.drivers.isEmpty, "\(text)")
            let e = try #require(r.errors.first, "\(text)")
            #expect(e.line == line, "\(text): \(e)")
            #expect(e.message.hasPrefix(msg), "\(text): \(e)")
        }
    }

    @Test func unknownKeysWarnAndDropInsOverride() throws {
        let dir = try configDir([
            "ens1371.conf": good + "\nFrobnicate=yes\n",
            "ens1371.conf.d/10-slow.conf": "[Recovery]\nXPCTimeoutSec=2s\n",
            "ens1371.conf.d/20-slower.conf": "[Recovery]\nXPCTimeoutSec=3s 500ms\n",
            "ens1371.conf.d/README": "not a drop-in",
        ])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
        let d = try #require(r.drivers.first)
        #expect(d.xpcTimeout == .milliseconds(3500))
        #expect(d.files.count == 3)
        #expect(r.warnings.map(\.message) == ["Unknown key name 'Frobnicate' in section 'Recovery', ignoring"])
    }

    /// The search path, as a package and an admin use it: /usr/lib ships a
    /// driver, /etc amends it with a drop-in, replaces another whole, masks
    /// a third with /dev/null; a drop-in of the same name in /etc hides the
    /// packaged one.
    @Test func searchPathReplacesAmendsAndMasks() throws {
        func conf(_ name: String, _ dev: String) -> String {
            "[Driver]\nName=\(name)\nClass=net\nMatch=pci:10ec:\(dev)\nExecutable=rtl8139\n"
        }
        let vendor = try configDir([
            "rtl8139.conf": conf("rtl8139", "8139"),
            "rtl8139.conf.d/10-timeout.conf": "[Recovery]\nXPCTimeoutSec=2s\n",
            "rtl8139.conf.d/20-heartbeat.conf": "[Recovery]\nHeartbeatSec=5s\n",
            "ne2k-pci.conf": conf("ne2k-pci", "8029"),
            "pcnet32.conf": conf("pcnet32", "2000"),
        ])
        let admin = try configDir([
            "rtl8139.conf.d/10-timeout.conf": "[Recovery]\nXPCTimeoutSec=3s\n",
            "rtl8139.conf.d/50-bind.conf": "[Driver]\nBind=yes\n",
            "ne2k-pci.conf": conf("ne2k", "8029") + "[Recovery]\nXPCTimeoutSec=4s\n",
        ])
        try FileManager.default.createSymbolicLink(atPath: admin + "/drivers.d/pcnet32.conf", withDestinationPath: "/dev/null")
        let r = ConfigLoader.load(directories: [admin, "/nonexistent", vendor], driverDirectory: "/x")
        #expect(r.errors.isEmpty, "\(r.errors)")
        let byName = Dictionary(uniqueKeysWithValues: r.drivers.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["rtl8139", "ne2k"], "pcnet32 masked, ne2k-pci replaced by /etc's file")
        let rtl = try #require(byName["rtl8139"])
        #expect(rtl.xpcTimeout == .seconds(3), "/etc's 10-timeout.conf hides the packaged one")
        #expect(rtl.heartbeat == .seconds(5), "the packaged drop-in /etc does not hide still applies")
        #expect(rtl.bind == .matching)
        #expect(rtl.files == [vendor + "/drivers.d/rtl8139.conf", admin + "/drivers.d/rtl8139.conf.d/10-timeout.conf",
                              vendor + "/drivers.d/rtl8139.conf.d/20-heartbeat.conf", admin + "/drivers.d/rtl8139.conf.d/50-bind.conf"])
        #expect(byName["ne2k"]?.xpcTimeout == .seconds(4))
        // Nothing anywhere: one error naming every place looked in.
        let none = ConfigLoader.load(directories: ["/nonexistent/a", "/nonexistent/b"], driverDirectory: "/x")
        #expect(none.drivers.isEmpty && none.errors.count == 1)
        #expect(none.errors.first?.file == "/nonexistent/a/drivers.d, /nonexistent/b/drivers.d")
    }

    @Test func duplicateNamesAreRefused() throws {
        let dir = try configDir(["a.conf": good, "b.conf": good])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
        #expect(r.drivers.count == 1)
        #expect(r.errors.first?.message.contains("already defined") == true)
    }

    @Test func sandboxKeys() throws {
        let base = "[Driver]\nClass=sound\nMatch=pci:1274:1371\nExecutable=x\n[Sandbox]\n"
        let cases: [(String, Int, String)] = [
            ("SystemCallFilter=@udriver frobnicate\n", 6, "Invalid SystemCallFilter=@udriver frobnicate: unknown system call or set frobnicate"),
            ("User=no-such-user-here\n", 6, "User=no-such-user-here: no such user"),
            ("User=root\n", 6, "Invalid User=root: u-drivers never run as root"),
            ("MemoryMax=12\n", 6, "Invalid MemoryMax=12"),
            ("PrivateNamespaces=maybe\n", 6, "Invalid PrivateNamespaces=maybe"),
        ]
        for (text, line, msg) in cases {
            let dir = try configDir(["d.conf": base + text])
            let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
            let e = try #require(r.errors.first, "\(text)")
            #expect(e.line == line && e.message.hasPrefix(msg), "\(e)")
        }
        let dir = try configDir(["d.conf": base + "SystemCallFilter=@udriver ioperm\nMemoryMax=512M\nPrivateNamespaces=no\n"])
        let d = try #require(ConfigLoader.load(directory: dir, driverDirectory: "/x").drivers.first)
        #expect(d.syscalls.last == "ioperm" && d.memoryMax == 512 << 20 && !d.privateNamespaces && d.user == "drivermgr")
        #expect(!d.stage1.isEmpty && d.stage1.count % 8 == 0, "stage 1 compiled to BPF")
    }

    @Test func timeSpans() {
        #expect(TimeSpan.parse("250ms") == .milliseconds(250))
        #expect(TimeSpan.parse("1s") == .seconds(1))
        #expect(TimeSpan.parse("2") == .seconds(2))
        #expect(TimeSpan.parse("1min 30s") == .seconds(90))
        #expect(TimeSpan.parse("500us") == .microseconds(500))
        #expect(TimeSpan.parse("") == nil)
        #expect(TimeSpan.parse("5 parsecs") == nil)
        #expect(TimeSpan.parse("-1s") == nil)
        #expect(TimeSpan.micros(.milliseconds(250)) == 250_000)
    }
}
