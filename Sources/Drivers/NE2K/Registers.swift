// SPDX-License-Identifier: GPL-2.0
// The NS8390 / RTL8029 registers under Swift names, from the one register
// map (module/include/chips/ne2k_regs.h, through CChips). Offsets 0x01-0x0f
// mean a different register on each page CR selects: the names carry it.
import CChips

/// Register offsets in BAR 0.
enum Reg {
    /// Command register, on every page: start/stop, transmit, remote DMA, page select.
    static let cr = NE2K_CR
    // Page 0.
    static let pstart = NE2K_P0_PSTART, pstop = NE2K_P0_PSTOP, bnry = NE2K_P0_BNRY
    static let tpsr = NE2K_P0_TPSR, isr = NE2K_P0_ISR
    static let rsar0 = NE2K_P0_RSAR0, rsar1 = NE2K_P0_RSAR1
    static let rbcr0 = NE2K_P0_RBCR0, rbcr1 = NE2K_P0_RBCR1
    static let rcr = NE2K_P0_RCR, tcr = NE2K_P0_TCR, dcr = NE2K_P0_DCR, imr = NE2K_P0_IMR
    /// Tally counters (read clears): frame alignment, CRC, missed.
    static let cntr0 = NE2K_P0_CNTR0, cntr1 = NE2K_P0_CNTR1, cntr2 = NE2K_P0_CNTR2
    /// Page 1: station address PAR0-5, current page, multicast filter MAR0-7.
    static let par0 = NE2K_P1_PAR0, curr = NE2K_P1_CURR, mar0 = NE2K_P1_MAR0
    /// Remote DMA window and board reset.
    static let dataPort = NE2K_DATAPORT, reset = NE2K_RESET
}

/// CR bits.
enum Command {
    static let stop = NE2K_CR_STP, start = NE2K_CR_STA
    static let remoteRead = NE2K_CR_RD_READ, remoteWrite = NE2K_CR_RD_WRITE, noDMA = NE2K_CR_RD_ABORT
    /// STP | STA: the run state a page switch must keep.
    static let runMask = NE2K_CR_RUN_MASK
    static let pageMask = NE2K_CR_PAGE_MASK
    static let page0 = NE2K_CR_PAGE0, page1 = NE2K_CR_PAGE1, page2 = NE2K_CR_PAGE2
}

/// ISR / IMR bits.
enum Intr {
    static let reset = NE2K_ISR_RST
    static let counters = NE2K_ISR_CNT
    /// What the nucleus's data path serves; CNT stays masked (the u-driver
    /// empties the counters itself).
    static let dataPath = NE2K_IMR_DATAPATH
    static let all: UInt32 = 0xff
}

/// RCR bits.
enum RxConfig {
    static let acceptBroadcast = NE2K_RCR_AB
    static let acceptMulticast = NE2K_RCR_AM
    static let promiscuous = NE2K_RCR_PRO
    /// Monitor mode: frames are checked, none stored (E8390_RXOFF).
    static let monitor = NE2K_RCR_MON
}

/// TCR and DCR values.
enum Config {
    static let txNormal = NE2K_TCR_NORMAL
    static let txLoopback = NE2K_TCR_LOOPBACK
    /// Word-wide remote DMA, little-endian, FIFO threshold 8 (ne2k-pci's 0x49).
    static let dataWord = NE2K_DCR_WORD
}

/// The card's memory, in 256-byte pages.
enum Layout {
    static let promBytes = NE2K_PROM_BYTES
    /// The station address at the start of the PROM, each byte doubled.
    static let promMACBytes = NE2K_PROM_MAC_BYTES
    static let promSignatureOffset = Int(NE2K_PROM_SIG_OFF)
    static let promSignature = UInt8(NE2K_PROM_SIG)
    static let txStartPage = NE2K_TX_START_PG
    static let rxStartPage = NE2K_RX_START_PG
    static let stopPage = NE2K_RX_STOP_PG
}
