// SPDX-License-Identifier: GPL-2.0
import CChips
import Synchronization
import Testing
@testable import E1000
@testable import NucleusSim
import UDriverKit
import XPC

/// The e1000 u-driver against the register-level 82540EM model. Register
/// and DMA downcalls go to the sim nucleus (its validation, the model's
/// registers); the net class's downcalls (NET_REGISTER, DATAPATH_*,
/// NET_CARRIER) go to a recorder standing in for module/net.c, so the
/// tests see the order of the hand-over (NICDataPathTests runs the sim's
/// own e1000 data path).
@Suite struct E1000Tests {
    /// What the stand-in for the net class saw, in order.
    final class NetClassRecorder: Sendable {
        struct Call: Sendable {
            let op: XPCOp
            let reattach: Bool
            let message: XPCMessage
            /// IMS at the time of the call: the interrupt mask must not be
            /// opened before the data path is there to serve it.
            let interruptMask: UInt32
        }
        private let log = Mutex<[Call]>([])
        var calls: [Call] { log.withLock { $0 } }
        func record(_ c: Call) { log.withLock { $0.append(c) } }
        func ops(_ op: XPCOp) -> [Call] { calls.filter { $0.op == op } }
    }

    struct Rig {
        let nucleus: SimNucleus
        let recorder = NetClassRecorder()
        let mac: MACAddress

        init(mac: String = "52:54:00:12:34:56", configure: (E1000Model) -> Void = { _ in }) throws {
            let m = try #require(MACAddress(mac))
            let model = E1000Model(mac: m)
            configure(model)
            self.mac = m
            nucleus = SimNucleus(models: [model])
        }

        /// The model, under the nucleus lock.
        func model<R: Sendable>(_ f: @Sendable (E1000Model) -> R) throws -> R {
            try #require(nucleus.inspect(1) { m in (m as? E1000Model).map(f) } ?? nil)
        }

        /// A register as the chip reads it (not ICR or a statistic: those
        /// clear on read).
        func reg(_ off: UInt32) throws -> UInt32 { try model { $0.read(offset: off, width: 4) } }

        var device: Device {
            let n = nucleus, rec = recorder
            return Device(instance: 1) { msg in
                switch msg.op {
                case .netRegister, .datapathEnable, .datapathDisable, .netCarrier:
                    let ims = n.inspect(1) { $0.read(offset: E1000_IMS, width: 4) } ?? 0
                    rec.record(.init(op: msg.op, reattach: msg.flags.contains(.reattach), message: msg, interruptMask: ims))
                    if msg.op == .datapathEnable {
                        // As the nucleus's enable: the four rings must be there.
                        let roles = Set(n.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1))
                            .all(.object).compactMap { $0.children.first { $0.id == .objectRole }?.u8 })
                        guard roles.isSuperset(of: [DMARole.rxRing, .txRing, .rxBuffers, .txBuffers].map(\.rawValue)) else {
                            return XPCMessage.errorReply(to: msg, errno: 2, attribute: .objectRole, message: "rings missing")
                        }
                    }
                    return XPCMessage.reply(to: msg, attributes: msg.op == .netRegister ? [.string(.ifname, "eth0")] : [])
                default:
                    return n.handleDowncall(msg)
                }
            }
        }

        func info(held: [DMABuffer] = []) -> DeviceInfo {
            let p = nucleus.inspect(1) { $0.identity } ?? DeviceIdentity(vendor: 0, device: 0, revision: 0, slot: "", barSize: 0, irq: 0)
            return DeviceInfo(instance: 1, driverName: "e1000", deviceClass: .net, vendor: p.vendor, device: p.device,
                              revision: p.revision, slot: p.slot, barSize: p.barSize, heldBuffers: held)
        }

        /// The DMA objects the nucleus holds, as a restarted u-driver is handed them.
        func heldBuffers() -> [DMABuffer] {
            nucleus.handleDowncall(XPCMessage(op: .deviceInfo, flags: .request, instance: 1)).all(.object).map { o in
                let c = o.children
                return DMABuffer(handle: c.first { $0.id == .objectID }?.u32 ?? 0, size: c.first { $0.id == .dmaSize }?.u32 ?? 0,
                                 role: c.first { $0.id == .objectRole }?.u8 ?? 0)
            }
        }

        func driver(held: [DMABuffer] = []) -> E1000 { E1000(device: device, info: info(held: held)) }

        /// Advances device time (autonegotiation).
        func wait(milliseconds: UInt64) { nucleus.step(nanos: milliseconds * 1_000_000) }
    }

    // MARK: probe

    @Test func probeTakesTheMACFromTheEEPROM() async throws {
        let rig = try Rig()
        // Scribble over receive address 0: probe must read the EEPROM.
        try rig.model { $0.write(offset: E1000_RAL0, width: 4, value: 0x0bad_0bad) }
        let drv = rig.driver()
        #expect(try await drv.probe(reattach: false) == "82540EM")
        #expect(await drv.mac == rig.mac)
        let reg = try #require(rig.recorder.ops(.netRegister).first)
        #expect(try reg.message.mac(.mac) == rig.mac)
        #expect(try reg.message.string(.chipName) == "82540EM")
        #expect(try rig.reg(E1000_RAL0) == 0x1200_5452)
        #expect(try rig.reg(E1000_RAH0) == 0x8000_5634, "bytes 4-5 and the address-valid bit")
        #expect(try rig.model { $0.resets } == 1)
        #expect(try rig.model { m in m.writeLog.filter { $0.offset == E1000_EERD }.count } == 64, "the whole EEPROM, by EERD")
    }

    @Test func probeRefusesABadEEPROMChecksum() async throws {
        let rig = try Rig { $0.eeprom[5] ^= 0x0100 }
        await #expect(throws: UDriverError.self) { _ = try await rig.driver().probe(reattach: false) }
        #expect(rig.recorder.ops(.netRegister).isEmpty)
    }

    @Test func probeRefusesAChipReadingAllOnes() async throws {
        let rig = try Rig { $0.readsAllOnes = true }
        do {
            _ = try await rig.driver().probe(reattach: false)
            Issue.record("probe accepted a chip that reads all ones")
        } catch let e as UDriverError {
            #expect(e.errno == 5)
        }
        #expect(rig.recorder.ops(.netRegister).isEmpty)
        #expect(try rig.model { $0.writeLog.isEmpty }, "nothing written to a dead chip")
    }

    @Test func probeRefusesAnotherVendorsDevice() async throws {
        let rig = try Rig()
        let other = DeviceInfo(instance: 1, driverName: "e1000", deviceClass: .net, vendor: 0x10ec, device: 0x100e,
                               revision: 3, slot: "", barSize: E1000_BAR_SIZE)
        await #expect(throws: UDriverError.self) { _ = try await E1000(device: rig.device, info: other).probe(reattach: false) }
    }

    // MARK: open, reset

    @Test func openResetsProgramsTheRingsAndOpensInterruptsAfterTheDataPath() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try rig.model { $0.write(offset: E1000_IMS, width: 4, value: 0x1f) } // left over from a previous owner
        try await drv.open(reattach: false)
        #expect(try rig.model { $0.resets } == 2, "probe and open reset the chip")
        let enable = try #require(rig.recorder.ops(.datapathEnable).first)
        #expect(!enable.reattach)
        #expect(enable.interruptMask == 0, "interrupts masked until the nucleus serves them")
        #expect(try rig.reg(E1000_IMS) == E1000_IMS_ENABLE_MASK)
        #expect(try rig.reg(E1000_RDLEN) == 128 * 16)
        #expect(try rig.reg(E1000_TDLEN) == 128 * 16)
        #expect(try rig.reg(E1000_RDBAL) != 0 && rig.reg(E1000_TDBAL) != 0)
        #expect(try rig.reg(E1000_RDBAH) == 0 && rig.reg(E1000_TDBAH) == 0)
        #expect(try rig.reg(E1000_RDBAL) != rig.reg(E1000_TDBAL))
        let rctl = try rig.reg(E1000_RCTL)
        #expect(rctl & (E1000_RCTL_EN | E1000_RCTL_BAM) == E1000_RCTL_EN | E1000_RCTL_BAM)
        #expect(rctl & (E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_SZ_MASK | E1000_RCTL_BSEX | E1000_RCTL_MO_MASK) == 0,
                "2048-byte buffers, multicast offset 0, no promiscuity")
        #expect(try rig.reg(E1000_TCTL) & (E1000_TCTL_EN | E1000_TCTL_PSP) == E1000_TCTL_EN | E1000_TCTL_PSP)
        let roles = rig.heldBuffers().map(\.role)
        #expect(roles.sorted() == [2, 3, 4, 5], "RX_RING, TX_BUFFERS, TX_RING, RX_BUFFERS")
        try await drv.stop()
        #expect(try rig.reg(E1000_IMS) == 0)
        #expect(try rig.reg(E1000_RCTL) & E1000_RCTL_EN == 0)
        #expect(rig.recorder.ops(.datapathDisable).count == 1)
        try await drv.open(reattach: false)
        #expect(rig.heldBuffers().count == 4, "the rings are allocated once")
    }

    // MARK: receive filter

    /// e1000_hash_mc_addr, mc_filter_type 0, worked by hand: hash = bits
    /// 47:36 = (byte4 >> 4) | (byte5 << 4); register hash >> 5, bit hash & 31.
    @Test func multicastGroupsSetTheBitsLinuxSets() async throws {
        // Linux's own example: 01:AA:00:12:34:56 -> 0x563 -> MTA[43] bit 3.
        #expect(RxFilter.hash(try #require(MACAddress("01:aa:00:12:34:56"))) == 0x563)
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        // 224.0.0.251 (mDNS): 01:00:5e:00:00:fb -> (0x00 >> 4) | 0xfb << 4 = 0xfb0 -> MTA[125] bit 16.
        let mdns = try #require(MACAddress("01:00:5e:00:00:fb"))
        try await drv.setRxMode(RxMode(multicast: [mdns]))
        var want = [UInt32](repeating: 0, count: 128)
        want[125] = 1 << 16
        #expect(try rig.model { $0.multicastTable } == want)
        #expect(try rig.model { $0.accepts(mdns) })
        #expect(try !rig.model { $0.accepts(MACAddress("01:00:5e:00:00:fc")!) }, "hash 0xfc0: MTA[126] bit 0, not set")
        // Add 01:aa:00:12:34:56: MTA[43] bit 3 joins.
        try await drv.setRxMode(RxMode(multicast: [mdns, try #require(MACAddress("01:aa:00:12:34:56"))]))
        want[43] = 1 << 3
        #expect(try rig.model { $0.multicastTable } == want)
        let rctlWrites = try rig.model { m in m.writeLog.filter { $0.offset == E1000_RCTL }.count }
        #expect(rctlWrites == 3, "0 in probe's reset, 0 in open's, then enabled: joining groups never rewrites RCTL")
        // Leaving: the table empties.
        try await drv.setRxMode(RxMode())
        #expect(try rig.model { $0.multicastTable }.allSatisfy { $0 == 0 })
    }

    @Test func promiscuousAndAllMulticastSetUPEAndMPE() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let stranger = try #require(MACAddress("02:00:00:00:00:99")), group = try #require(MACAddress("01:00:5e:01:02:03"))
        #expect(try !rig.model { $0.accepts(stranger) })
        try await drv.setRxMode(RxMode(promiscuous: true))
        #expect(try rig.reg(E1000_RCTL) & (E1000_RCTL_UPE | E1000_RCTL_MPE) == E1000_RCTL_UPE | E1000_RCTL_MPE)
        #expect(try rig.model { $0.accepts(stranger) && $0.accepts(group) })
        try await drv.setRxMode(RxMode(allMulticast: true))
        #expect(try rig.reg(E1000_RCTL) & (E1000_RCTL_UPE | E1000_RCTL_MPE) == E1000_RCTL_MPE)
        #expect(try rig.model { !$0.accepts(stranger) && $0.accepts(group) })
        try await drv.setRxMode(RxMode())
        #expect(try rig.reg(E1000_RCTL) & (E1000_RCTL_UPE | E1000_RCTL_MPE) == 0)
        #expect(try rig.reg(E1000_RCTL) & E1000_RCTL_EN != 0, "the receiver keeps running")
        #expect(try rig.model { !$0.accepts(group) && $0.accepts(rig.mac) && $0.accepts(.broadcast) })
    }

    @Test func rxModeOnAClosedInterfaceLeavesTheReceiverOff() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.setRxMode(RxMode(promiscuous: true, multicast: [try #require(MACAddress("01:00:5e:00:00:fb"))]))
        #expect(try rig.reg(E1000_RCTL) & E1000_RCTL_EN == 0)
        try await drv.open(reattach: false)
        #expect(try rig.reg(E1000_RCTL) & (E1000_RCTL_EN | E1000_RCTL_UPE) == E1000_RCTL_EN | E1000_RCTL_UPE,
                "the mode set while closed applies at open")
        #expect(try rig.model { $0.multicastTable[125] } == 1 << 16)
    }

    @Test func setMACWritesReceiveAddressZero() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let new = try #require(MACAddress("02:00:00:00:00:42"))
        try await drv.setMAC(new)
        #expect(try rig.reg(E1000_RAL0) == 0x0000_0002)
        #expect(try rig.reg(E1000_RAH0) == 0x8000_4200)
        #expect(try rig.model { $0.accepts(new) && !$0.accepts(rig.mac) })
        await #expect(throws: UDriverError.self) { try await drv.setMAC(try #require(MACAddress("01:00:5e:00:00:01"))) }
        #expect(try rig.reg(E1000_RAL0) == 0x0000_0002, "a refused address is not written")
    }

    // MARK: link

    @Test func linkFollowsThePHYAndTheWatchdogReportsChanges() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        #expect(try rig.model { $0.autonegRestarts } == 1)
        #expect(try rig.model { $0.read(offset: E1000_MDIC, width: 4) } & E1000_MDIC_ERROR == 0)
        try await drv.open(reattach: false)
        #expect(try await !drv.getLink().up, "autonegotiation still running")
        #expect(rig.recorder.ops(.netCarrier).isEmpty, "no carrier reported before the link is up")
        rig.wait(milliseconds: 600)
        #expect(try await drv.getLink() == LinkState(up: true, speed: 1000, fullDuplex: true))
        try await drv.watchdog()
        var carrier = rig.recorder.ops(.netCarrier)
        #expect(carrier.count == 1)
        #expect(try carrier.last?.message.u8(.linkUp) == 1 && carrier.last?.message.u32(.linkSpeed) == 1000)
        try await drv.watchdog()
        #expect(rig.recorder.ops(.netCarrier).count == 1, "no change, no call")
        // The cable comes out: a link-change interrupt, and the next check
        // reports carrier off.
        try rig.model { $0.linkUp = false }
        #expect(try rig.model { $0.read(offset: E1000_ICR, width: 4) } & E1000_ICR_LSC != 0, "a link-change interrupt")
        try await drv.watchdog()
        carrier = rig.recorder.ops(.netCarrier)
        #expect(carrier.count == 2)
        #expect(try carrier.last?.message.u8(.linkUp) == 0)
        try rig.model { $0.linkUp = true }
        rig.wait(milliseconds: 600)
        try await drv.watchdog()
        #expect(try rig.recorder.ops(.netCarrier).last?.message.u8(.linkUp) == 1)
    }

    @Test func statisticsSumTheClearOnReadMissedCounter() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try rig.model { $0.write(offset: E1000_MPC, width: 4, value: 3) }
        #expect(try await drv.getStats().rxMissed == 3)
        try rig.model { $0.write(offset: E1000_MPC, width: 4, value: 2) }
        #expect(try await drv.getStats().rxMissed == 5)
        #expect(try await drv.getStats().rxMissed == 5)
    }

    // MARK: recovery

    /// A restarted u-driver adopts the running chip: probe and open with
    /// reattach touch no reset bit, no PHY, no RCTL, and the replayed rx mode
    /// writes nothing because the chip already holds it.
    @Test func reattachAdoptsTheRunningChip() async throws {
        let rig = try Rig()
        let first = rig.driver()
        _ = try await first.probe(reattach: false)
        try await first.open(reattach: false)
        rig.wait(milliseconds: 600)
        try await first.watchdog()
        let mode = RxMode(promiscuous: true, multicast: [try #require(MACAddress("01:00:5e:00:00:fb"))])
        try await first.setRxMode(mode)
        let newMAC = try #require(MACAddress("02:00:00:00:00:42"))
        try await first.setMAC(newMAC)
        let mtaBefore = try rig.model { $0.multicastTable }
        let (resets, autoneg, writes) = try rig.model { ($0.resets, $0.autonegRestarts, $0.writeLog.count) }

        let second = rig.driver(held: rig.heldBuffers())
        #expect(try await second.probe(reattach: true) == "82540EM")
        #expect(await second.mac == newMAC, "the MAC the chip runs with, not the EEPROM's")
        try await second.open(reattach: true)
        try await second.setRxMode(mode) // the shadow driver's replay
        try await second.setMAC(newMAC)
        let log = try rig.model { Array($0.writeLog[writes...]) }
        #expect(try rig.model { ($0.resets, $0.autonegRestarts) } == (resets, autoneg))
        #expect(!log.contains { $0.offset == E1000_CTRL || $0.offset == E1000_RCTL || $0.offset == E1000_TCTL
                                || $0.offset == E1000_IMC || $0.offset == E1000_ICR || ($0.offset >= E1000_MTA && $0.offset < E1000_RAL0) })
        #expect(!log.contains { $0.offset == E1000_MDIC && $0.value & E1000_MDIC_OP_WRITE != 0 }, "no PHY write")
        #expect(try rig.model { $0.multicastTable } == mtaBefore)
        #expect(try rig.reg(E1000_RCTL) & (E1000_RCTL_EN | E1000_RCTL_UPE) == E1000_RCTL_EN | E1000_RCTL_UPE)
        let enables = rig.recorder.ops(.datapathEnable)
        #expect(enables.count == 2 && enables[1].reattach)
        #expect(rig.heldBuffers().count == 4, "no ring allocated again")
        // Nothing changed, so the reattached driver reports no carrier change.
        try await second.watchdog()
        #expect(rig.recorder.ops(.netCarrier).count == 1)
        #expect(rig.recorder.ops(.netRegister).count == 2, "probe registers (the class keeps the one netdev)")
    }

    /// A chip adopted with its units as no open interface runs them (left
    /// so by whatever ran before the restart): the reattached u-driver
    /// writes back RCTL's base with the filter bits kept, TCTL, CTRL's link
    /// set up, and unmasks the interrupts, without a reset or a PHY write.
    @Test func reattachRepairsUnitsLeftStopped() async throws {
        let rig = try Rig()
        let first = rig.driver()
        _ = try await first.probe(reattach: false)
        try await first.open(reattach: false)
        try await first.setRxMode(RxMode(promiscuous: true))
        let (resets, autoneg) = try rig.model { ($0.resets, $0.autonegRestarts) }
        let ctrl = try rig.reg(E1000_CTRL)
        try rig.model { m in
            m.write(offset: E1000_RCTL, width: 4, value: E1000_RCTL_UPE | E1000_RCTL_MPE) // EN and BAM gone
            m.write(offset: E1000_TCTL, width: 4, value: 0)
            m.write(offset: E1000_CTRL, width: 4, value: (ctrl & ~E1000_CTRL_SLU) | E1000_CTRL_FRCSPD)
            m.write(offset: E1000_IMC, width: 4, value: E1000_IMC_ALL)
        }
        let second = rig.driver(held: rig.heldBuffers())
        _ = try await second.probe(reattach: true)
        try await second.open(reattach: true)
        #expect(try rig.reg(E1000_RCTL) == receiveControlBase | E1000_RCTL_UPE | E1000_RCTL_MPE)
        #expect(try rig.reg(E1000_TCTL) == transmitControl)
        #expect(try rig.reg(E1000_CTRL) & (E1000_CTRL_SLU | E1000_CTRL_FRCSPD) == E1000_CTRL_SLU)
        #expect(try rig.reg(E1000_IMS) == E1000_IMS_ENABLE_MASK)
        #expect(try rig.model { ($0.resets, $0.autonegRestarts) } == (resets, autoneg))
        // The replayed rx mode finds RCTL as it wants it: nothing more.
        let writes = try rig.model { $0.writeLog.count }
        try await second.setRxMode(RxMode(promiscuous: true))
        #expect(try rig.model { $0.writeLog.count } == writes)
    }

    @Test func reattachWithoutTheRingsIsRefused() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: true)
        await #expect(throws: UDriverError.self) { try await drv.open(reattach: true) }
        #expect(rig.recorder.ops(.datapathEnable).isEmpty)
    }

    /// ndo_tx_timeout: the nucleus has stopped its data path; the u-driver
    /// resets and reprograms the chip on the same rings and hands it back.
    @Test func txTimeoutResetsAndRestartsOnTheSameRings() async throws {
        let rig = try Rig()
        let drv = rig.driver()
        _ = try await drv.probe(reattach: false)
        try await drv.open(reattach: false)
        let mode = RxMode(multicast: [try #require(MACAddress("01:00:5e:00:00:fb"))])
        try await drv.setRxMode(mode)
        let rings = rig.heldBuffers()
        let resets = try rig.model { $0.resets }
        _ = rig.nucleus.handleDowncall(XPCMessage(op: .datapathDisable, flags: .request, instance: 1))
        try rig.model { $0.write(offset: E1000_TCTL, width: 4, value: 0) } // the transmitter wedged
        try await drv.txTimeout()
        #expect(try rig.model { $0.resets } == resets + 1)
        #expect(try rig.reg(E1000_TCTL) & E1000_TCTL_EN != 0)
        #expect(try rig.reg(E1000_IMS) == E1000_IMS_ENABLE_MASK)
        #expect(try rig.model { $0.multicastTable[125] } == 1 << 16, "the filter survives the reset")
        #expect(rig.heldBuffers() == rings)
        let enables = rig.recorder.ops(.datapathEnable)
        #expect(enables.count == 2 && !enables[1].reattach, "a fresh start: the nucleus refills its rings")
    }
}
