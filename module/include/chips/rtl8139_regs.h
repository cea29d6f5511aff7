/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rtl8139_regs.h - the Realtek RTL8139 register map, written once for the
 * nucleus (module/rtl8139.c), the u-driver (Sources/Drivers/RTL8139,
 * through the CChips target) and the simulator's model.
 *
 * Offsets and bit names are Linux's drivers/net/ethernet/realtek/8139too.c
 * (enum RTL8139_registers and the bit enums beneath it), in address order,
 * each register's bits below it.  Every constant is unsigned, so Swift
 * imports it as UInt32.
 */
#ifndef _CHIPS_RTL8139_REGS_H
#define _CHIPS_RTL8139_REGS_H

#define RTL_IDR0		0x00U	/* R/W: station address, 6 bytes (dword writes, Cfg9346 unlocked) */
#define RTL_MAR0		0x08U	/* R/W: multicast hash filter, 8 bytes */
#define RTL_TX_STATUS0		0x10U	/* R/W: transmit status of slot 0..3, a dword each */
#define  RTL_TX_HOST_OWNS	0x00002000U
#define  RTL_TX_UNDERRUN	0x00004000U
#define  RTL_TX_STAT_OK		0x00008000U
#define  RTL_TX_ABORTED		0x40000000U
#define  RTL_TX_SIZE_MASK	0x00001fffU
#define  RTL_TX_EARLY_SHIFT	11U		/* early-tx threshold, 32-byte units */
#define  RTL_TX_EARLY_MASK	0x003f0000U
#define RTL_TX_ADDR0		0x20U	/* R/W: transmit buffer address of slot 0..3 */
#define RTL_RX_BUF		0x30U	/* R/W: receive ring start address */
#define RTL_CHIP_CMD		0x37U	/* R/W: command (byte) */
#define  RTL_CMD_RESET		0x10U
#define  RTL_CMD_RX_ENB		0x08U
#define  RTL_CMD_TX_ENB		0x04U
#define  RTL_RX_BUF_EMPTY	0x01U
#define RTL_RX_BUF_PTR		0x38U	/* R/W: current address of packet read (CAPR), word */
#define RTL_RX_BUF_ADDR		0x3aU	/* R/O: current buffer address (CBR), word */
#define RTL_INTR_MASK		0x3cU	/* R/W: interrupt mask (word) */
#define RTL_INTR_STATUS		0x3eU	/* R/W1C: interrupt status (word) */
#define  RTL_INT_PCI_ERR	0x8000U
#define  RTL_INT_PCS_TIMEOUT	0x4000U
#define  RTL_INT_RX_FIFO_OVER	0x0040U
#define  RTL_INT_RX_UNDERRUN	0x0020U	/* on 8139C+: link change */
#define  RTL_INT_RX_OVERFLOW	0x0010U
#define  RTL_INT_TX_ERR		0x0008U
#define  RTL_INT_TX_OK		0x0004U
#define  RTL_INT_RX_ERR		0x0002U
#define  RTL_INT_RX_OK		0x0001U
/*
 * Swift imports a macro of at most one operator: the sets are literals.
 * rtl8139_intr_mask: PCIErr | PCSTimeout | RxUnderrun | RxOverflow |
 * RxFIFOOver | TxErr | TxOK | RxErr | RxOK.
 */
#define  RTL_INT_ALL		0xc07fU
/* The rx interrupts the nucleus acks in its poll: RxOK | RxOverflow |
 * RxFIFOOver. */
#define  RTL_INT_RX_ACK		0x0051U
#define RTL_TX_CONFIG		0x40U	/* R/W: transmit configuration */
#define  RTL_TX_IFG96		(3U << 24)	/* the only gap IEEE 802.3 allows */
#define  RTL_TX_DMA_SHIFT	8U
#define  RTL_TX_RETRY_SHIFT	4U
#define  RTL_TX_REVISION_MASK	0x7cc00000U	/* HW_REVID(1,1,1,1,1,1,1) */
#define  RTL_TX_HWREV_8139CP	0x74800000U	/* HW_REVID(1,1,1,0,1,1,0): RTL8139C+ */
#define RTL_RX_CONFIG		0x44U	/* R/W: receive configuration */
#define  RTL_ACCEPT_ERR		0x20U
#define  RTL_ACCEPT_RUNT	0x10U
#define  RTL_ACCEPT_BROADCAST	0x08U
#define  RTL_ACCEPT_MULTICAST	0x04U
#define  RTL_ACCEPT_MY_PHYS	0x02U
#define  RTL_ACCEPT_ALL_PHYS	0x01U
#define  RTL_RX_NO_WRAP		0x80U	/* no wrap at the ring's end: 1536 bytes of slack */
#define  RTL_RX_DMA_SHIFT	8U
#define  RTL_RX_RING_SHIFT	11U	/* ring length, 0 = 8K + 16 */
#define  RTL_RX_FIFO_SHIFT	13U
#define RTL_RX_MISSED		0x4cU	/* R/W: missed packet counter, 24 bits; a write clears it */
#define  RTL_RX_MISSED_MASK	0x00ffffffU
#define RTL_CFG9346		0x50U	/* R/W: 93C46 command register */
#define  RTL_CFG9346_EEM_MASK	0xc0U	/* operating mode: EEM1 | EEM0 */
#define  RTL_CFG9346_EEM_PROGRAM	0x80U	/* EEM1: auto-load off, EEPROM lines on */
#define  RTL_CFG9346_LOCK	0x00U
#define  RTL_CFG9346_UNLOCK	0xc0U
#define  RTL_EE_SHIFT_CLK	0x04U	/* EEPROM lines in programming mode */
#define  RTL_EE_CS		0x08U
#define  RTL_EE_DATA_WRITE	0x02U
#define  RTL_EE_DATA_READ	0x01U
#define  RTL_EE_ENB		(0x80U | RTL_EE_CS)
#define  RTL_EE_READ_CMD	6U
#define RTL_CONFIG1		0x52U	/* R/W: Config1 (byte) */
#define RTL_MEDIA_STATUS	0x58U	/* R/O: media status (byte) */
#define  RTL_MSR_LINK_FAIL	0x04U
#define  RTL_MSR_SPEED_10	0x08U
#define RTL_CONFIG3		0x59U	/* R/W: Config3 (byte) */
#define  RTL_CFG3_MAGIC		0x20U
#define RTL_HLT_CLK		0x5bU	/* R/W: halt clock (old chips: write 'R' to run) */
#define RTL_MULTI_INTR		0x5cU	/* R/W: multiple interrupt select (word) */
#define  RTL_MULTI_INTR_CLEAR	0xf000U	/* bits kept; the rest selects early-rx interrupts */
#define RTL_BASIC_MODE_CTRL	0x62U	/* R/W: MII basic mode control (word) */
#define  RTL_BMCR_SPEED100	0x2000U
#define  RTL_BMCR_ANENABLE	0x1000U
#define  RTL_BMCR_FULL_DUPLEX	0x0100U
#define RTL_BASIC_MODE_STATUS	0x64U	/* R/O: MII basic mode status (word) */
#define  RTL_BMSR_LINK		0x0004U
#define  RTL_BMSR_ANEGCOMPLETE	0x0020U
/* 100FULL | 100HALF | 10FULL | 10HALF | ANEGCAPABLE | ERCAP */
#define  RTL_BMSR_CAPS		0x7809U
#define RTL_CSCR		0x74U	/* R/W: chip status and configuration (word) */
#define  RTL_CSCR_LINK_OK	0x0400U

/* The receive ring: each frame behind a 4-byte header (status, size). */
#define RTL_RX_RING_LEN		8192U	/* RX_BUF_IDX 0: 8K + 16 */
#define RTL_RX_HDR_OK		0x0001U	/* header status: RxStatusOK */
#define RTL_RX_HDR_BROADCAST	0x2000U	/* header status: RxBroadcast */
#define RTL_RX_HDR_PHYS		0x4000U	/* header status: RxPhysical */
#define RTL_RX_HDR_MULTICAST	0x8000U	/* header status: RxMulticast */
#define RTL_NUM_TX		4U	/* transmit slots */
#define RTL_TX_BUF_SIZE		1536U	/* bytes per slot buffer */

#endif /* _CHIPS_RTL8139_REGS_H */
