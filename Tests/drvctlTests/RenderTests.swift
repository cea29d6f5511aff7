// SPDX-License-Identifier: GPL-2.0
import ControlInterface
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

    @Test func volumeDecodesAttenuationAndMute() {
        #expect(Render.volume(0x0808) == "74% (register 0x0808)")
        #expect(Render.volume(0x0000) == "100% (register 0x0000)")
        #expect(Render.volume(0x9f1f) == "0%, muted (register 0x9f1f)")
    }

    @Test func statusShowsDeviceState() {
        var dev = DeviceState()
        dev.pciID = "1274:1371"
        dev.chip = "ES1373 rev 8"
        dev.registeredAs = "Ensoniq AudioPCI ENS1371"
        dev.dataPath = true
        dev.sampleRate = 44100
        dev.masterVolumeRegister = 0x0c0c
        dev.framesPlayed = 1000
        dev.periods = 1
        dev.underruns = 0
        dev.glitches = 0
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

    @Test func helpListsEveryVerbInInterfaceOrder() {
        let help = Drvctl.helpMessage()
        let verbs = ["list", "status", "start", "stop", "restart", "call", "history", "monitor", "inject", "reset-failed"]
        let positions = verbs.compactMap { v in help.range(of: "\n  \(v) ")?.lowerBound }
        #expect(positions.count == verbs.count, "\(help)")
        #expect(positions == positions.sorted())
        #expect(help.contains("Exit status: 0 ok, 1 failed, 2 invalid argument, 4 no such driver."))
        let call = Drvctl.helpMessage(for: Drvctl.Call.self)
        #expect(call.contains("mixer-set master|pcm|master-mute VALUE  (sound)"))
    }

    @Test func failuresMapToSystemctlExitCodes() {
        #expect(ManagerClient.failure("io.drivermgr.Manager.DriverNotFound", ["name": .string("x")], what: "restart x").exitCode == 4)
        #expect(ManagerClient.failure("io.drivermgr.Manager.InvalidParameter", ["parameter": .string("arguments"), "message": .string("m")],
                                      what: "call").description == "Failed to call: invalid arguments: m")
        #expect(ManagerClient.failure("io.drivermgr.Manager.CallFailed", ["message": .string("EIO")], what: "call").exitCode == 1)
    }
}
