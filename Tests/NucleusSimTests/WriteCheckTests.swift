// SPDX-License-Identifier: GPL-2.0
import CChips
import CDrvXPC
import Testing
import XPC
@testable import NucleusSim

/// The chips' write checks (drvnucleus.h's write_check, ``RegisterWrite``):
/// a register that holds a bus address takes REG_WRITE_DMA's only, a size
/// must fit its buffer, and a refused write does not reach the chip.
@Suite struct WriteCheckTests {
    static let mac = MACAddress("52:54:00:12:34:56") ?? .broadcast

    static func call(_ n: SimNucleus, _ op: XPCOp, _ attrs: [XPCAttribute] = []) -> XPCMessage {
        n.handleDowncall(XPCMessage(op: op, flags: .request, instance: 1, attributes: attrs))
    }
    static func write(_ n: SimNucleus, _ off: UInt32, _ v: UInt32, width: UInt8 = 4) -> XPCMessage {
        call(n, .regWrite, [.u32(.regOffset, off), .u8(.regWidth, width), .u32(.regValue, v)])
    }
    static func read(_ n: SimNucleus, _ off: UInt32, width: UInt8 = 4) -> UInt32? {
        try? call(n, .regRead, [.u32(.regOffset, off), .u8(.regWidth, width)]).u32(.regValue)
    }
    static func dma(_ n: SimNucleus, _ off: UInt32, _ handle: UInt32, offset: UInt32 = 0,
                    width: UInt8 = 4, shift: UInt8 = 0) -> XPCMessage {
        call(n, .regWriteDMA, [.u32(.regOffset, off), .u8(.regWidth, width), .u32(.dmaHandle, handle),
                               .u32(.dmaOffset, offset), .u8(.dmaShift, shift)])
    }
    static func alloc(_ n: SimNucleus, _ size: Int, role: UInt8) throws -> UInt32 {
        try call(n, .dmaAlloc, [.u32(.dmaSize, UInt32(size)), .u8(.objectRole, role)]).u32(.dmaHandle)
    }
    static func refused(_ r: XPCMessage, _ errno: Int32, _ attribute: XPCAttributeID) -> Bool {
        r.remoteError?.errno == errno && r.remoteError?.attribute == attribute
    }

    @Test func rtl8139RxBufTakesAWholeRingByRegWriteDMAOnly() throws {
        let n = SimNucleus(models: [RTL8139Model(mac: Self.mac)])
        let ring = try Self.alloc(n, Int(RTL_RX_RING_LEN) + 16 + Int(RTL_TX_BUF_SIZE), role: ObjectRole.rxRing)
        #expect(Self.dma(n, RTL_RX_BUF, ring).status == 0)
        let bus = Self.read(n, RTL_RX_BUF)
        #expect(bus != 0)
        #expect(Self.refused(Self.write(n, RTL_RX_BUF, bus ?? 0), 1, .regValue), "a plain write, even of the same address")
        #expect(Self.refused(Self.write(n, RTL_RX_BUF + 2, 0x10, width: 2), 1, .regValue), "half of it")
        #expect(Self.refused(Self.dma(n, RTL_RX_BUF, ring, offset: 4096), 1, .regOffset), "less than a ring behind it")
        #expect(Self.dma(n, RTL_TX_ADDR0, ring, offset: UInt32(RTL_RX_RING_LEN) + 16).status == 0, "a slot's worth behind it")
        #expect(Self.refused(Self.dma(n, RTL_TX_ADDR0, ring, offset: UInt32(RTL_RX_RING_LEN) + 17), 1, .regOffset))
        #expect(Self.refused(Self.write(n, RTL_TX_ADDR0 + 4, 0x1000), 1, .regValue))
        #expect(Self.read(n, RTL_RX_BUF) == bus, "the refused writes did not reach the chip")
    }

    @Test func rtl8139RxConfigKeepsThe8KRingInEveryWidthAndInSequences() throws {
        let n = SimNucleus(models: [RTL8139Model(mac: Self.mac)])
        #expect(Self.write(n, RTL_RX_CONFIG, RTL_ACCEPT_BROADCAST | RTL_ACCEPT_MY_PHYS | RTL_RX_NO_WRAP).status == 0)
        #expect(Self.refused(Self.write(n, RTL_RX_CONFIG, 3 << RTL_RX_RING_SHIFT), 22, .regValue))
        #expect(Self.refused(Self.write(n, RTL_RX_CONFIG + 1, 0x08, width: 1), 22, .regValue), "a byte write of the field")
        let steps = RegisterSequence.packed([RegisterOp(kind: RegisterOp.write, offset: RTL_IDR0, width: 1, value: 0x52),
                                             RegisterOp(kind: RegisterOp.write, offset: RTL_RX_CONFIG, width: 2, value: 0x1800)])
        let r = Self.call(n, .regSeq, [.binary(.regSteps, steps)])
        #expect(Self.refused(r, 22, .regSteps))
        #expect(Self.read(n, RTL_RX_CONFIG).map { $0 & (3 << RTL_RX_RING_SHIFT) } == 0)
        #expect(Self.refused(Self.write(n, RTL_TX_STATUS0, 4000), 22, .regValue), "a transmit longer than a slot")
    }

    @Test func e1000RingsHeadsAndRCTL() throws {
        let n = SimNucleus(models: [E1000Model(mac: Self.mac)])
        let rx = try Self.alloc(n, 4096, role: ObjectRole.rxRing)
        #expect(Self.refused(Self.write(n, E1000_RDBAL, 0x1000), 1, .regValue))
        #expect(Self.dma(n, E1000_RDBAL, rx).status == 0)
        #expect(Self.write(n, E1000_RDBAH, 0).status == 0)
        #expect(Self.refused(Self.write(n, E1000_RDBAH, 1), 22, .regValue))
        #expect(Self.write(n, E1000_RDLEN, 4096).status == 0)
        #expect(Self.refused(Self.write(n, E1000_RDLEN, 8192), 22, .regValue), "past the ring object")
        #expect(Self.refused(Self.write(n, E1000_TDLEN, 128), 22, .regValue), "no TX_RING object")
        #expect(Self.refused(Self.write(n, E1000_RDT, 5), 1, .regValue))
        #expect(Self.refused(Self.write(n, E1000_RCTL, E1000_RCTL_BSEX), 22, .regValue))
        #expect(Self.write(n, E1000_RCTL, 0).status == 0)
    }

    @Test func pcnet32InitBlockAddressRingsAndStyle() throws {
        let n = SimNucleus(models: [PCNet32Model(mac: Self.mac)])
        let ib = try Self.alloc(n, Int(PCNET32_IB_SIZE), role: ObjectRole.initBlock)
        #expect(Self.refused(Self.write(n, PCNET32_WIO_RDP, 0), 1, .regValue), "a 32-bit write would switch to DWIO")
        #expect(Self.write(n, PCNET32_WIO_RAP, PCNET32_CSR1, width: 2).status == 0)
        #expect(Self.refused(Self.write(n, PCNET32_WIO_RDP, 0x1000, width: 2), 1, .regValue))
        #expect(Self.dma(n, PCNET32_WIO_RDP, ib, width: 2).status == 0)
        #expect(Self.write(n, PCNET32_WIO_RAP, PCNET32_CSR0, width: 2).status == 0)
        #expect(Self.refused(Self.dma(n, PCNET32_WIO_RDP, ib, width: 2), 1, .regOffset), "DMA into CSR0")
        #expect(Self.refused(Self.write(n, PCNET32_WIO_RDP, PCNET32_CSR0_INIT, width: 2), 1, .regValue),
                "INIT before DATAPATH_ENABLE filled the block")
        #expect(Self.write(n, PCNET32_WIO_RDP, PCNET32_CSR0_STOP, width: 2).status == 0)
        #expect(Self.write(n, PCNET32_WIO_RAP, PCNET32_CSR76, width: 2).status == 0)
        #expect(Self.refused(Self.write(n, PCNET32_WIO_RDP, 0xfff0, width: 2), 1, .regValue))
        #expect(Self.write(n, PCNET32_WIO_RAP, PCNET32_BCR20, width: 2).status == 0)
        #expect(Self.refused(Self.write(n, PCNET32_WIO_BDP, 0, width: 2), 22, .regValue))
        #expect(Self.write(n, PCNET32_WIO_BDP, PCNET32_SWSTYLE_PCNET32, width: 2).status == 0)
    }

    @Test func es137xFramesSizesAndTheChannelsThatStayOff() throws {
        let n = SimNucleus(models: [ES137xModel(chip: .es1370)])
        let buf = try Self.alloc(n, 16384, role: 0)
        #expect(Self.refused(Self.write(n, ES_REG_CONTROL, ES_ADC_EN), 1, .regValue))
        #expect(Self.refused(Self.dma(n, ES_REG_DAC2_FRAME, buf), 1, .regOffset), "no page selected: not a frame")
        #expect(Self.write(n, ES_REG_MEM_PAGE, ES_PAGE_DAC).status == 0)
        #expect(Self.refused(Self.write(n, ES_REG_DAC2_FRAME, 0x1000), 1, .regValue))
        #expect(Self.dma(n, ES_REG_DAC2_FRAME, buf).status == 0)
        #expect(Self.write(n, ES_REG_DAC2_SIZE, 16384 / 4 - 1).status == 0)
        #expect(Self.refused(Self.write(n, ES_REG_DAC2_SIZE, 16384 / 4), 22, .regValue), "a dword past the buffer")
        #expect(Self.refused(Self.write(n, ES_REG_DAC1_SIZE, 0), 22, .regValue), "DAC1's frame points nowhere")
        #expect(Self.write(n, ES_REG_MEM_PAGE, ES_PAGE_ADC).status == 0)
        #expect(Self.refused(Self.write(n, ES_REG_ADC_FRAME, 0), 1, .regValue))
    }

    @Test func uhciFrameListBaseIsTheScheduleOnly() throws {
        let n = SimNucleus(models: [UHCIModel(devices: [SimUSBDisk()])])
        let other = try Self.alloc(n, 4096, role: 0)
        let schedule = try Self.call(n, .usbSchedule).u32(.dmaHandle)
        #expect(Self.refused(Self.write(n, UHCI_FLBASEADD, 0), 1, .regValue))
        #expect(Self.refused(Self.dma(n, UHCI_FLBASEADD, other), 1, .regOffset), "a zeroed buffer")
        #expect(Self.refused(Self.dma(n, UHCI_USBCMD, schedule, width: 2), 1, .regOffset))
        #expect(Self.dma(n, UHCI_FLBASEADD, schedule).status == 0)
    }
}
