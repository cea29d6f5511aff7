// SPDX-License-Identifier: GPL-2.0
// Realtek RTL8139 registers in address order, with their bits beneath.
// Offsets and bit names from Linux's drivers/net/ethernet/realtek/8139too.c.

/// BAR 0 register offsets.
enum Reg {
    /// R/W: station address, 6 bytes (write as two dwords, Cfg9346 unlocked).
    static let mac0: UInt32 = 0x00
    /// R/W: multicast hash filter, 8 bytes.
    static let mar0: UInt32 = 0x08
    /// R/W: transmit status of the four slots.
    static let txStatus0: UInt32 = 0x10
    /// R/W: transmit buffer addresses of the four slots.
    static let txAddr0: UInt32 = 0x20
    /// R/W: receive ring start address.
    static let rxBuf: UInt32 = 0x30
    /// R/W: command (byte).
    static let chipCmd: UInt32 = 0x37
    /// R/W: current address of packet read (CAPR).
    static let rxBufPtr: UInt32 = 0x38
    /// R/W: interrupt mask (word).
    static let intrMask: UInt32 = 0x3c
    /// R/W1C: interrupt status (word).
    static let intrStatus: UInt32 = 0x3e
    /// R/W: transmit configuration; bits 30:26,23:22 hold the hardware revision.
    static let txConfig: UInt32 = 0x40
    /// R/W: receive configuration.
    static let rxConfig: UInt32 = 0x44
    /// R/W: missed packet counter, 24 bits; a write clears it.
    static let rxMissed: UInt32 = 0x4c
    /// R/W: 93C46 command register (EEPROM access, config write enable).
    static let cfg9346: UInt32 = 0x50
    /// R/W: Config3 (byte).
    static let config3: UInt32 = 0x59
    /// R/W: halt clock (old chips: write 'R' to run).
    static let hltClk: UInt32 = 0x5b
    /// R/W: multiple interrupt select (word).
    static let multiIntr: UInt32 = 0x5c
    /// R/O: media status (byte).
    static let mediaStatus: UInt32 = 0x58
    /// R/W: MII basic mode control (word).
    static let basicModeCtrl: UInt32 = 0x62
    /// R/O: MII basic mode status (word).
    static let basicModeStatus: UInt32 = 0x64
}

/// ChipCmd bits.
enum ChipCmd {
    static let reset: UInt8 = 0x10
    static let rxEnable: UInt8 = 0x08
    static let txEnable: UInt8 = 0x04
    static let rxBufEmpty: UInt8 = 0x01
}

/// IntrStatus / IntrMask bits.
enum Intr {
    static let pciErr: UInt16 = 0x8000, pcsTimeout: UInt16 = 0x4000
    static let rxFIFOOver: UInt16 = 0x40, rxUnderrun: UInt16 = 0x20, rxOverflow: UInt16 = 0x10
    static let txErr: UInt16 = 0x08, txOK: UInt16 = 0x04, rxErr: UInt16 = 0x02, rxOK: UInt16 = 0x01
    /// rtl8139_intr_mask.
    static let all: UInt16 = pciErr | pcsTimeout | rxUnderrun | rxOverflow | rxFIFOOver | txErr | txOK | rxErr | rxOK
}

/// RxConfig bits.
enum RxConfig {
    static let acceptBroadcast: UInt32 = 0x08
    static let acceptMulticast: UInt32 = 0x04
    static let acceptMyPhys: UInt32 = 0x02
    static let acceptAllPhys: UInt32 = 0x01
    /// Ring length field (bits 12:11): 0 = 8K + 16.
    static let ring8K: UInt32 = 0
    /// Do not wrap a packet at the ring's end: the ring has 1536 bytes of slack.
    static let noWrap: UInt32 = 1 << 7
    static let fifoShift: UInt32 = 13, dmaShift: UInt32 = 8
    /// rtl8139_rx_config: 8K ring, no wrap, FIFO threshold 7 (none), DMA burst 7 (unlimited).
    static let base: UInt32 = ring8K | noWrap | (7 << fifoShift) | (7 << dmaShift)
}

/// TxConfig bits.
enum TxConfig {
    /// Interframe gap 96 bit times: the only value IEEE 802.3 allows.
    static let ifg96: UInt32 = 3 << 24
    static let dmaShift: UInt32 = 8, retryShift: UInt32 = 4
    /// rtl8139_tx_config: IFG96, DMA burst 6 (1024 bytes), 8 retries.
    static let base: UInt32 = ifg96 | (6 << dmaShift) | (8 << retryShift)
    /// Hardware revision bits: HW_REVID(1,1,1,1,1,1,1).
    static let revisionMask: UInt32 = 0x7cc0_0000
}

/// Cfg9346 bits.
enum Cfg9346 {
    static let lock: UInt8 = 0x00
    static let unlock: UInt8 = 0xc0
    // EEPROM lines in programming mode.
    static let eeShiftClock: UInt8 = 0x04
    static let eeChipSelect: UInt8 = 0x08
    static let eeDataWrite: UInt8 = 0x02
    static let eeDataRead: UInt8 = 0x01
    static let eeEnable: UInt8 = 0x80 | eeChipSelect
    static let eeReadCommand: UInt32 = 6
}

/// MediaStatus / BMSR / BMCR bits.
enum Media {
    /// MSR: link failed.
    static let linkFail: UInt8 = 0x04
    /// MSR: 10 Mbit/s.
    static let speed10: UInt8 = 0x08
    /// BMSR: link status.
    static let bmsrLink: UInt16 = 0x0004
    /// BMCR: full duplex.
    static let bmcrFullDuplex: UInt16 = 0x0100
}

/// Config3 bits.
enum Config3 {
    static let magic: UInt8 = 1 << 5
}
