// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
@testable import drvctl

@Suite struct RenderTests {
    let drivers = [
        DriverSummary(name: "ens1371", driverClass: "sound", device: "0000:00:04.0", state: .active, pid: 4242,
                      uptimeUSec: 123_000_000, restarts: 0),
        DriverSummary(name: "rtl8139", driverClass: "net", device: nil, state: .failed, pid: nil, uptimeUSec: nil, restarts: 3),
    ]

    @Test func listIsAnAlignedTable() {
        #expect(Render.list(drivers, legend: true) == """
            NAME    CLASS DEVICE       STATE  PID  UPTIME  RESTARTS
            ens1371 sound 0000:00:04.0 active 4242 2min 3s 0
            rtl8139 net   -            failed -    -       3

            2 drivers listed.

            """)
        #expect(Render.list(drivers, legend: false) == """
            ens1371 sound 0000:00:04.0 active 4242 2min 3s 0
            rtl8139 net   -            failed -    -       3

            """)
    }

    @Test func timeSpansReadLikeSystemd() {
        #expect(Render.timeSpan(usec: 5_000_000) == "5s")
        #expect(Render.timeSpan(usec: 120_000_000) == "2min")
        #expect(Render.timeSpan(usec: 3_723_000_000) == "1h 2min")
    }

    @Test func statusShowsDeviceState() {
        // drvctl knows no class: it shows the lines the daemon worded, in order.
        let dev = DeviceState(pciID: "1274:1371", chip: "ES1373 rev 8", registeredAs: "Ensoniq AudioPCI ENS1371",
                              registration: "card \"Ensoniq AudioPCI ENS1371\"", dataPath: true,
                              fields: [StatusField(label: "Rate", text: "44100 Hz"),
                                       StatusField(label: "Master", text: "61% (register 0x0c0c)"),
                                       StatusField(label: "Frames", text: "1000 played, 1 periods, 0 underruns, 0 glitches")],
                              values: ["sampleRate": .int(44100)])
        let s = DriverStatus(summary: drivers[0], executable: "/usr/libexec/drivermgrd/ens137x",
                             configFiles: ["/etc/drivermgrd/drivers.d/ens1371.conf"], match: "pci:1274:1371",
                             xpcTimeoutUSec: 250_000, lastFailure: nil, device: dev)
        #expect(Render.status(s) == """
            ● ens1371 - sound driver for pci:1274:1371
                      State: active (pid 4242, up 2min 3s), 0 restarts
                     Device: 0000:00:04.0 (1274:1371) ES1373 rev 8, card "Ensoniq AudioPCI ENS1371"
                 Executable: /usr/libexec/drivermgrd/ens137x
                     Config: /etc/drivermgrd/drivers.d/ens1371.conf
                XPC timeout: 250ms, heartbeat 0ms, Restart=on-failure
                  Data path: running
                       Rate: 44100 Hz
                     Master: 61% (register 0x0c0c)
                     Frames: 1000 played, 1 periods, 0 underruns, 0 glitches

            """)
    }

    @Test func statusOfAClassDrvctlNeverHeardOf() {
        let d = DriverSummary(name: "kbd0", driverClass: "input", device: "0000:00:06.0", state: .recovering, pid: nil,
                              uptimeUSec: nil, restarts: 1)
        let dev = DeviceState(pciID: "8086:7000", registeredAs: "input3", registration: "input device input3",
                              fields: [StatusField(label: "Keys", text: "105 (3 pressed)"), StatusField(label: "LEDs", text: "caps")])
        let s = DriverStatus(summary: d, executable: "/x/kbd", configFiles: ["/etc/kbd.conf"], match: "pci:8086:7000",
                             xpcTimeoutUSec: 1_000, heartbeatUSec: 2_000, restart: "always", lastFailure: "crash: u-driver killed by SIGSEGV",
                             device: dev)
        #expect(Render.status(s) == """
            ↻ kbd0 - input driver for pci:8086:7000
                      State: recovering, 1 restart
                    Failure: crash: u-driver killed by SIGSEGV
                     Device: 0000:00:06.0 (8086:7000), input device input3
                 Executable: /x/kbd
                     Config: /etc/kbd.conf
                XPC timeout: 1ms, heartbeat 2ms, Restart=always
                       Keys: 105 (3 pressed)
                       LEDs: caps

            """)
    }

    /// The class's values are one JSON object, `values` (Varlink's `object`),
    /// so scripts grep `"sampleRate":44100` whatever the class; and they
    /// decode back.
    @Test func deviceStateJSONHoldsTheClassValuesInOneObject() throws {
        let dev = DeviceState(pciID: "10ec:8139", chip: "RTL8139C+", dataPath: true,
                              fields: [StatusField(label: "MAC", text: "52:54:00:12:34:56")],
                              values: ["mac": .string("52:54:00:12:34:56"), "rxMode": .string("promiscuous"),
                                       "sampleRate": .int(44100), "multicastHashBits": .array([.int(3)]),
                                       "linkUp": .bool(true)])
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let json = String(decoding: try e.encode(dev), as: UTF8.self)
        #expect(json == #"{"chip":"RTL8139C+","dataPath":true,"fields":[{"label":"MAC","text":"52:54:00:12:34:56"}],"#
                + #""pciID":"10ec:8139","values":{"linkUp":true,"mac":"52:54:00:12:34:56","multicastHashBits":[3],"#
                + #""rxMode":"promiscuous","sampleRate":44100}}"#)
        let back = try JSONDecoder().decode(DeviceState.self, from: Data(json.utf8))
        #expect(back == dev)
        #expect(back.number("sampleRate") == 44100 && back.text("rxMode") == "promiscuous" && back.flag("linkUp") == true)
        #expect(back.number("mac") == nil && back.text("sampleRate") == nil, "typed accessors do not convert")
    }

    @Test func helpListsEveryVerbInInterfaceOrder() {
        let help = Drvctl.helpMessage()
        let verbs = ["list", "status", "show", "is-active", "is-failed", "start", "stop", "unbind", "restart", "call", "history", "monitor",
                     "inject", "reset-failed"]
        let positions = verbs.compactMap { v in help.range(of: "\n  \(v) ")?.lowerBound }
        #expect(positions.count == verbs.count, "\(help)")
        #expect(positions == positions.sorted())
        #expect(help.contains("Exit status, as systemctl's: 0 ok, 1 failed, 2 invalid argument, 3 not active"), "\(help)")
        let call = Drvctl.helpMessage(for: Drvctl.Call.self)
        #expect(call.contains("drvctl call NAME help"), "\(call)")
    }

    @Test func failuresMapToSystemctlExitCodes() {
        #expect(ManagerClient.failure("io.drivermgr.Manager.DriverNotFound", ["name": .string("x")], what: "restart x").exitCode == 5)
        #expect(ManagerClient.failure("org.varlink.service.PermissionDenied", [:], what: "restart x").exitCode == 4)
        #expect(ManagerClient.failure("io.drivermgr.Manager.InvalidValue", ["parameter": .string("arguments"), "message": .string("m")],
                                      what: "call").description == "Failed to call: invalid arguments: m")
        let bad = ManagerClient.failure("org.varlink.service.InvalidParameter", ["parameter": .string("names")], what: "status")
        #expect(bad.exitCode == 2 && bad.description == "Failed to status: invalid parameter names")
        #expect(ManagerClient.failure("org.varlink.service.MethodNotFound", ["method": .string("io.drivermgr.Manager.Verify")],
                                      what: "verify x").description.contains("does not serve io.drivermgr.Manager.Verify"))
        #expect(ManagerClient.failure("io.drivermgr.Manager.CallFailed", ["message": .string("EIO")], what: "call").exitCode == 1)
    }

    /// --version prints the project's version, the one in VERSION.
    @Test func versionIsTheProjectsVersion() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("VERSION"), encoding: .utf8)
        #expect(file.trimmingCharacters(in: .whitespacesAndNewlines) == DrivermgrVersion.string)
        #expect(Drvctl.configuration.version == DrivermgrVersion.string)
    }

    @Test func colourMarksTheStateColumnOnly() {
        let out = Render.list(drivers, legend: true, color: true)
        let lines = out.split(separator: "\n")
        #expect(lines[0] == "NAME    CLASS DEVICE       STATE  PID  UPTIME  RESTARTS", "no colour in the header")
        #expect(lines[1] == "ens1371 sound 0000:00:04.0 \u{1b}[0;1;32mactive\u{1b}[0m 4242 2min 3s 0")
        #expect(lines[2].contains("\u{1b}[0;1;31mfailed\u{1b}[0m"))
        #expect(Render.list(drivers, legend: true, color: false) == Render.list(drivers, legend: true))
    }

    @Test func historyTimesAreLocalWithTheirZone() {
        let e = DriverEvent(timeUSec: 1_764_752_400_000_000, driver: "ens1371", event: "failure", detail: "x", state: .recovering,
                            failureKind: .crash)
        let berlin = Render.history([e], legend: false, zone: TimeZone(identifier: "Europe/Berlin")!)
        #expect(berlin.hasPrefix("Wed 2025-12-03 10:00:00 GMT+1 failure crash recovering x"), "\(berlin)")
        let utc = Render.history([e], legend: false, zone: TimeZone(identifier: "UTC")!)
        #expect(utc.hasPrefix("Wed 2025-12-03 09:00:00 GMT "), "\(utc)")
    }

    @Test func showNamesEveryPropertyOnce() {
        let s = DriverStatus(summary: drivers[1], executable: "/x/rtl8139", configFiles: ["/etc/a.conf", "/etc/a.conf.d/b.conf"],
                             match: "pci:10ec:8139", xpcTimeoutUSec: 250_000, heartbeatUSec: 200_000, restart: "on-failure",
                             lastFailure: "crash: signal 11", device: nil)
        let p = Render.properties(s)
        #expect(p.map(\.0) == Render.propertyNames)
        let d = Dictionary(uniqueKeysWithValues: p)
        #expect(d["MainPID"] == "0" && d["NRestarts"] == "3" && d["State"] == "failed")
        #expect(d["ConfigFiles"] == "/etc/a.conf /etc/a.conf.d/b.conf" && d["LastFailure"] == "crash: signal 11")
    }
}
