// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import ENS137x
@testable import RTL8139
import NucleusSim
import UDriverKit
import XPC

/// The class protocols' dispatch: each turns its class's upcalls into the
/// driver's methods and refuses any other class's.
@Suite struct DispatchTests {
    @Test func classProtocolsNameTheirWireClass() {
        #expect(ENS137x.deviceClass == .sound && RTL8139.deviceClass == .net)
    }

    @Test func aNetDriverRefusesSoundUpcallsAndServesItsOwn() async throws {
        let mac = try #require(MACAddress("52:54:00:ab:cd:ef"))
        let n = SimNucleus(models: [RTL8139Model(mac: mac)])
        let drv = RTL8139(device: DriverRegisterTests.device(n, 1), info: DriverRegisterTests.info(n, 1, cls: .net))
        _ = try await drv.probe(reattach: false)
        await #expect(throws: UDriverError.self) {
            try await drv.dispatch(XPCMessage(op: .sndOpen, flags: .request, instance: 1))
        }
        let refusal = await #expect(throws: UDriverError.self) {
            try await drv.dispatch(XPCMessage(op: .sndMixerGet, flags: .request, instance: 1, attributes: [.u16(.mixerControl, 1)]))
        }
        #expect(refusal?.errno == 56 && refusal?.message.contains("not a network upcall") == true, "EBADRQC")
        let link = try await drv.dispatch(XPCMessage(op: .netGetLink, flags: .request, instance: 1))
        #expect(link == [.u8(.linkUp, 1), .u32(.linkSpeed, 100), .u8(.linkDuplex, 1)])
    }

    @Test func aSoundDriverRefusesNetUpcallsAndBadControls() async throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1371)])
        let drv = ENS137x(device: DriverRegisterTests.device(n, 1), info: DriverRegisterTests.info(n, 1, cls: .sound))
        _ = try await drv.probe(reattach: false)
        await #expect(throws: UDriverError.self) {
            try await drv.dispatch(XPCMessage(op: .netOpen, flags: .request, instance: 1))
        }
        await #expect(throws: UDriverError.self) {
            try await drv.dispatch(XPCMessage(op: .sndMixerGet, flags: .request, instance: 1, attributes: [.u16(.mixerControl, 9)]))
        }
        let v = try await drv.dispatch(XPCMessage(op: .sndMixerGet, flags: .request, instance: 1, attributes: [.u16(.mixerControl, 1)]))
        #expect(v.first == .u16(.mixerControl, 1) && v.count == 2)
    }
}
