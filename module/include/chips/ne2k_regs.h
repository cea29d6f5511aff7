/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ne2k_regs.h - the NS8390 core of a PCI NE2000 clone (Realtek RTL8029AS,
 * QEMU's ne2k_pci), written once for the nucleus (module/ne2k.c), the
 * u-driver (Sources/Drivers/NE2K, through the CChips target) and the
 * simulator's model (Sources/NucleusSim/NE2KModel.swift).
 *
 * Names follow the DP8390D datasheet; Linux's 8390.h names are in the
 * comments.  The chip shows 16 registers at a time: CR (offset 0) selects
 * the page (PS1:PS0) for offsets 0x01-0x0f, and several offsets read one
 * register and write another.  Each page's registers are listed in address
 * order, reads and writes apart, bits beneath.  Past the 8390: the
 * NE2000's data port (remote DMA window) at 0x10 and its reset port at
 * 0x1f.  Every constant is unsigned, so Swift imports it as UInt32.
 */
#ifndef _CHIPS_NE2K_REGS_H
#define _CHIPS_NE2K_REGS_H

/* BAR 0: I/O ports, 32 of them (ne2k-pci's NE_IO_EXTENT). */
#define NE2K_BAR_LEN		0x20U

/* --- every page ---------------------------------------------------------- */
#define NE2K_CR			0x00U	/* R/W: command (E8390_CMD) */
#define  NE2K_CR_STP		0x01U	/* stop: receiver and transmitter off */
#define  NE2K_CR_STA		0x02U	/* start */
#define  NE2K_CR_TXP		0x04U	/* transmit the frame at TPSR; self-clearing */
#define  NE2K_CR_RD_READ	0x08U	/* remote DMA: read */
#define  NE2K_CR_RD_WRITE	0x10U	/* remote DMA: write */
#define  NE2K_CR_RD_ABORT	0x20U	/* remote DMA: abort/complete (E8390_NODMA) */
#define  NE2K_CR_RUN_MASK	0x03U	/* STP | STA: what a page switch keeps */
#define  NE2K_CR_PAGE_MASK	0xc0U	/* PS1:PS0 */
#define  NE2K_CR_PAGE0		0x00U
#define  NE2K_CR_PAGE1		0x40U
#define  NE2K_CR_PAGE2		0x80U
#define  NE2K_CR_PAGE3		0xc0U	/* RTL8029 configuration registers */

/* --- page 0, read -------------------------------------------------------- */
#define NE2K_P0_CLDA0		0x01U	/* R: current local DMA address, low */
#define NE2K_P0_CLDA1		0x02U	/* R: current local DMA address, high */
#define NE2K_P0_BNRY		0x03U	/* R/W: boundary: last ring page the host read */
#define NE2K_P0_TSR		0x04U	/* R: transmit status */
#define  NE2K_TSR_PTX		0x01U	/* transmitted without error */
#define  NE2K_TSR_COL		0x04U	/* collided at least once */
#define  NE2K_TSR_ABT		0x08U	/* aborted: 16 collisions */
#define  NE2K_TSR_CRS		0x10U	/* carrier sense lost */
#define  NE2K_TSR_FU		0x20U	/* FIFO underrun */
#define  NE2K_TSR_CDH		0x40U	/* collision-detect heartbeat lost */
#define  NE2K_TSR_OWC		0x80U	/* out-of-window collision */
#define NE2K_P0_NCR		0x05U	/* R: collisions of the last transmit */
#define NE2K_P0_FIFO		0x06U	/* R: FIFO (loopback diagnostics) */
#define NE2K_P0_ISR		0x07U	/* R/W1C: interrupt status */
#define  NE2K_ISR_PRX		0x01U	/* frame received (ENISR_RX) */
#define  NE2K_ISR_PTX		0x02U	/* frame transmitted (ENISR_TX) */
#define  NE2K_ISR_RXE		0x04U	/* receive error (ENISR_RX_ERR) */
#define  NE2K_ISR_TXE		0x08U	/* transmit error (ENISR_TX_ERR) */
#define  NE2K_ISR_OVW		0x10U	/* receive ring overwritten (ENISR_OVER) */
#define  NE2K_ISR_CNT		0x20U	/* a tally counter's MSB is set */
#define  NE2K_ISR_RDC		0x40U	/* remote DMA complete */
#define  NE2K_ISR_RST		0x80U	/* reset state (not an interrupt) */
/*
 * Swift imports a macro of at most one operator: the sets are literals.
 * The interrupts the data path serves and enables: PRX | PTX | RXE | TXE |
 * OVW.  ISR.CNT is the u-driver's: it empties the tally counters at its
 * watchdog and in getStats, and acks CNT itself.
 */
#define  NE2K_IMR_DATAPATH	0x1fU
/* The receive interrupts NAPI masks while it polls: PRX | RXE | OVW. */
#define  NE2K_ISR_RX_ALL	0x15U
/* The transmit interrupts: PTX | TXE. */
#define  NE2K_ISR_TX_ALL	0x0aU
#define NE2K_P0_CRDA0		0x08U	/* R: current remote DMA address, low */
#define NE2K_P0_CRDA1		0x09U	/* R: current remote DMA address, high */
#define NE2K_P0_8029ID0		0x0aU	/* R: RTL8029 id, 0x50 ('P') */
#define NE2K_P0_8029ID1		0x0bU	/* R: RTL8029 id, 0x43 ('C') */
#define NE2K_P0_RSR		0x0cU	/* R: receive status (also each frame's header) */
#define  NE2K_RSR_PRX		0x01U	/* received intact */
#define  NE2K_RSR_CRC		0x02U	/* CRC error */
#define  NE2K_RSR_FAE		0x04U	/* frame alignment error */
#define  NE2K_RSR_FO		0x08U	/* FIFO overrun */
#define  NE2K_RSR_MPA		0x10U	/* missed packet */
#define  NE2K_RSR_PHY		0x20U	/* multicast/broadcast destination */
#define  NE2K_RSR_DIS		0x40U	/* receiver disabled (monitor mode) */
#define  NE2K_RSR_DFR		0x80U	/* deferring */
#define NE2K_P0_CNTR0		0x0dU	/* R: frame alignment errors; a read clears it */
#define NE2K_P0_CNTR1		0x0eU	/* R: CRC errors; a read clears it */
#define NE2K_P0_CNTR2		0x0fU	/* R: missed packets; a read clears it */

/* --- page 0, write ------------------------------------------------------- */
#define NE2K_P0_PSTART		0x01U	/* W: first page of the receive ring */
#define NE2K_P0_PSTOP		0x02U	/* W: page after the ring's last */
/*      NE2K_P0_BNRY		0x03U	   R/W, above */
#define NE2K_P0_TPSR		0x04U	/* W: first page of the frame to send */
#define NE2K_P0_TBCR0		0x05U	/* W: transmit byte count, low */
#define NE2K_P0_TBCR1		0x06U	/* W: transmit byte count, high */
/*      NE2K_P0_ISR		0x07U	   R/W1C, above */
#define NE2K_P0_RSAR0		0x08U	/* W: remote DMA start address, low */
#define NE2K_P0_RSAR1		0x09U	/* W: remote DMA start address, high */
#define NE2K_P0_RBCR0		0x0aU	/* W: remote DMA byte count, low */
#define NE2K_P0_RBCR1		0x0bU	/* W: remote DMA byte count, high */
#define NE2K_P0_RCR		0x0cU	/* W: receive configuration (EN0_RXCR) */
#define  NE2K_RCR_SEP		0x01U	/* save errored frames */
#define  NE2K_RCR_AR		0x02U	/* accept runts */
#define  NE2K_RCR_AB		0x04U	/* accept broadcast (E8390_RXCONFIG) */
#define  NE2K_RCR_AM		0x08U	/* accept multicast through MAR0-7 */
#define  NE2K_RCR_PRO		0x10U	/* promiscuous physical */
#define  NE2K_RCR_MON		0x20U	/* monitor: check, store nothing (E8390_RXOFF) */
#define  NE2K_RCR_MASK		0x3fU	/* SEP..MON: the bits RCR has */
#define NE2K_P0_TCR		0x0dU	/* W: transmit configuration (EN0_TXCR) */
#define  NE2K_TCR_NORMAL	0x00U	/* E8390_TXCONFIG */
#define  NE2K_TCR_CRC		0x01U	/* inhibit CRC */
#define  NE2K_TCR_LOOPBACK	0x02U	/* LB0: internal loopback (E8390_TXOFF) */
#define  NE2K_TCR_LB_MASK	0x06U	/* LB1:LB0: 01 internal, 10/11 external */
#define NE2K_P0_DCR		0x0eU	/* W: data configuration (EN0_DCFG) */
#define  NE2K_DCR_WTS		0x01U	/* word-wide remote DMA */
#define  NE2K_DCR_BOS		0x02U	/* big-endian words */
#define  NE2K_DCR_LS		0x08U	/* normal operation (not loopback select) */
#define  NE2K_DCR_FT1		0x40U	/* FIFO threshold: 8 bytes */
/* ne2k-pci's 0x49: WTS | LS | FT1, word-wide little-endian. */
#define  NE2K_DCR_WORD		0x49U
#define NE2K_P0_IMR		0x0fU	/* W: interrupt mask, ISR's bits */

/* --- page 1: addresses and the ring's write pointer, R/W --------------- */
#define NE2K_P1_PAR0		0x01U	/* station address, PAR0-PAR5 (EN1_PHYS) */
#define NE2K_P1_CURR		0x07U	/* current page: where the chip writes next */
#define NE2K_P1_MAR0		0x08U	/* multicast hash filter, MAR0-MAR7 */

/* --- page 2: read-back of page 0's write-only registers (DP8390) ------- */
#define NE2K_P2_PSTART		0x01U
#define NE2K_P2_PSTOP		0x02U
#define NE2K_P2_TPSR		0x04U
#define NE2K_P2_RCR		0x0cU	/* QEMU reads 0 here */
#define NE2K_P2_TCR		0x0dU
#define NE2K_P2_DCR		0x0eU
#define NE2K_P2_IMR		0x0fU

/* --- page 3: RTL8029AS configuration ----------------------------------- */
#define NE2K_P3_9346CR		0x01U	/* R/W: 93C46 command; 0xc0 unlocks CONFIG3 */
#define NE2K_P3_CONFIG0		0x03U	/* R: media type; QEMU: 0, 10BASE-T */
#define NE2K_P3_CONFIG2		0x05U	/* R/W: PL1:PL0 medium; QEMU: 0x40 */
#define NE2K_P3_CONFIG3		0x06U	/* R/W: 0x40 FUDUP, full duplex */
#define  NE2K_CONFIG3_FUDUP	0x40U

/* --- the NE2000 board ---------------------------------------------------- */
#define NE2K_DATAPORT		0x10U	/* R/W: remote DMA window, 8/16/32 bits */
#define NE2K_RESET		0x1fU	/* R: a read resets the board; W: ends the pulse */

/*
 * The card's packet memory and the station address PROM, as the 8390's
 * local DMA sees them, in 256-byte pages.  The PROM (32 bytes in word
 * mode, each byte doubled) answers remote reads at address 0; bytes
 * 0x0e-0x0f of a by-the-spec clone hold 0x57 0x57.  The packet memory is
 * 16 KiB at 0x4000: ne2k-pci's NESM_START_PG..NESM_STOP_PG, split as
 * 8390.c does into two 6-page transmit slots (TX_PAGES) and the receive
 * ring.  The u-driver programs the ring (PSTART, PSTOP, BNRY, CURR) at
 * open; the nucleus reads it back from the chip at DATAPATH_ENABLE.  The
 * transmit slots are fixed here.
 */
#define NE2K_PAGE_SIZE		256U
#define NE2K_PROM_BYTES		32U
/* The station address in the PROM, word mode: bytes 0-11, each byte
 * doubled.  QEMU's ne2000 matches unicast frames against this image, not
 * PAR0-5, and a remote DMA write changes it; a real board ignores such a
 * write (the u-driver writes the address there for QEMU's sake). */
#define NE2K_PROM_MAC_BYTES	12U
#define NE2K_PROM_SIG_OFF	14U	/* PROM bytes 14 and 15 */
#define NE2K_PROM_SIG		0x57U
#define NE2K_MEM_START_PG	0x40U	/* NESM_START_PG */
#define NE2K_MEM_STOP_PG	0x80U	/* NESM_STOP_PG */
#define NE2K_TX_START_PG	0x40U	/* slot 0; slot 1 is NE2K_TX_SLOT_PAGES on */
#define NE2K_TX_SLOT_PAGES	6U	/* 1536 bytes: one full frame */
#define NE2K_TX_PAGES		12U	/* two slots, ping-pong */
#define NE2K_RX_START_PG	0x4cU	/* NE2K_TX_START_PG + NE2K_TX_PAGES */
#define NE2K_RX_STOP_PG		0x80U
/* Each frame in the ring starts a page with this header, then the frame
 * with its CRC: status (RSR), next page, byte count (little-endian,
 * header included). */
#define NE2K_RX_HDR_LEN		4U

#endif /* _CHIPS_NE2K_REGS_H */
