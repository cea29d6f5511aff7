// SPDX-License-Identifier: GPL-2.0
// Realtek RTL8139 registers and bits: Swift names for the register map
// written once in module/include/chips/rtl8139_regs.h (CChips). No offset
// or bit is written here; the widths are the registers'.
import CChips

/// BAR 0 register offsets.
enum Reg {
    static let mac0 = RTL_IDR0, mar0 = RTL_MAR0, txStatus0 = RTL_TX_STATUS0, txAddr0 = RTL_TX_ADDR0
    static let rxBuf = RTL_RX_BUF, chipCmd = RTL_CHIP_CMD, rxBufPtr = RTL_RX_BUF_PTR
    static let intrMask = RTL_INTR_MASK, intrStatus = RTL_INTR_STATUS
    static let txConfig = RTL_TX_CONFIG, rxConfig = RTL_RX_CONFIG, rxMissed = RTL_RX_MISSED
    static let cfg9346 = RTL_CFG9346, config3 = RTL_CONFIG3, hltClk = RTL_HLT_CLK, multiIntr = RTL_MULTI_INTR
    static let mediaStatus = RTL_MEDIA_STATUS, basicModeCtrl = RTL_BASIC_MODE_CTRL, basicModeStatus = RTL_BASIC_MODE_STATUS
}

/// ChipCmd bits (a byte register).
enum ChipCmd {
    static let reset = UInt8(RTL_CMD_RESET), rxEnable = UInt8(RTL_CMD_RX_ENB), txEnable = UInt8(RTL_CMD_TX_ENB)
    static let rxBufEmpty = UInt8(RTL_RX_BUF_EMPTY)
}

/// IntrStatus / IntrMask bits (word registers).
enum Intr {
    static let rxOK = UInt16(RTL_INT_RX_OK), txOK = UInt16(RTL_INT_TX_OK)
    /// rtl8139_intr_mask.
    static let all = UInt16(RTL_INT_ALL)
}

/// RxConfig bits.
enum RxConfig {
    static let acceptBroadcast = RTL_ACCEPT_BROADCAST, acceptMulticast = RTL_ACCEPT_MULTICAST
    static let acceptMyPhys = RTL_ACCEPT_MY_PHYS, acceptAllPhys = RTL_ACCEPT_ALL_PHYS
    /// Do not wrap a packet at the ring's end: the ring has 1536 bytes of slack.
    static let noWrap = RTL_RX_NO_WRAP
    /// rtl8139_rx_config: 8K ring (length field 0), no wrap, FIFO threshold
    /// 7 (none), DMA burst 7 (unlimited).
    static let base: UInt32 = (0 << RTL_RX_RING_SHIFT) | noWrap | (7 << RTL_RX_FIFO_SHIFT) | (7 << RTL_RX_DMA_SHIFT)
}

/// TxConfig bits.
enum TxConfig {
    /// rtl8139_tx_config: IFG96, DMA burst 6 (1024 bytes), 8 retries.
    static let base: UInt32 = RTL_TX_IFG96 | (6 << RTL_TX_DMA_SHIFT) | (8 << RTL_TX_RETRY_SHIFT)
    /// Hardware revision bits: HW_REVID(1,1,1,1,1,1,1).
    static let revisionMask = RTL_TX_REVISION_MASK
}

/// Cfg9346 values and the EEPROM lines in programming mode (a byte register).
enum Cfg9346 {
    static let lock = UInt8(RTL_CFG9346_LOCK), unlock = UInt8(RTL_CFG9346_UNLOCK)
    static let eeShiftClock = UInt8(RTL_EE_SHIFT_CLK), eeChipSelect = UInt8(RTL_EE_CS)
    static let eeDataWrite = UInt8(RTL_EE_DATA_WRITE), eeDataRead = UInt8(RTL_EE_DATA_READ)
    static let eeEnable = UInt8(RTL_EE_ENB)
    static let eeReadCommand = RTL_EE_READ_CMD
}

/// MediaStatus (byte), BMSR and BMCR (word) bits.
enum Media {
    static let linkFail = UInt8(RTL_MSR_LINK_FAIL), speed10 = UInt8(RTL_MSR_SPEED_10)
    static let bmsrLink = UInt16(RTL_BMSR_LINK), bmcrFullDuplex = UInt16(RTL_BMCR_FULL_DUPLEX)
}

/// Config3 bits (a byte register).
enum Config3 {
    static let magic = UInt8(RTL_CFG3_MAGIC)
}
