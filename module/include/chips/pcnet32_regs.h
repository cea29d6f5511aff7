/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pcnet32_regs.h - the AMD PCnet-PCI (Am79C970A and relatives) register
 * map, written once for the nucleus (module/pcnet32.c), the u-driver
 * (Sources/Drivers/PCNet32, through the CChips target) and the simulator's
 * model.
 *
 * Facts from Linux's drivers/net/ethernet/amd/pcnet32.c and the Am79C970A
 * data sheet (AMD 19436), checked against QEMU's hw/net/pcnet.c.  The
 * chip is driven in word I/O mode: RAP selects a CSR or BCR, RDP/BDP
 * reads or writes it.  I/O offsets first, then the CSRs and BCRs by
 * number, each register's bits below it, then the descriptors and the
 * initialisation block (SWSTYLE 2: 32-bit structures).  Every constant is
 * unsigned, so Swift imports it as UInt32.
 */
#ifndef _CHIPS_PCNET32_REGS_H
#define _CHIPS_PCNET32_REGS_H

/* --- I/O space (BAR 0), word I/O mode ------------------------------------ */
#define PCNET32_APROM		0x00U	/* R/O: address PROM, 16 bytes; 0-5 = MAC */
#define  PCNET32_APROM_LEN	16U
#define PCNET32_WIO_RDP		0x10U	/* R/W: register data port (the CSR RAP selects) */
#define PCNET32_WIO_RAP		0x12U	/* R/W: register address port, 7 bits */
#define PCNET32_WIO_RESET	0x14U	/* R/O: a read resets the chip (S_RESET) */
#define PCNET32_WIO_BDP		0x16U	/* R/W: bus configuration data port (the BCR RAP selects) */
#define PCNET32_IO_SIZE		0x20U	/* bytes of I/O space */

/* --- control and status registers (through RAP + RDP) -------------------- */
#define PCNET32_CSR0		0U	/* R/W: controller status; interrupt bits W1C */
#define  PCNET32_CSR0_INIT	0x0001U	/* read the initialisation block */
#define  PCNET32_CSR0_STRT	0x0002U	/* start */
#define  PCNET32_CSR0_STOP	0x0004U	/* stop (set after reset) */
#define  PCNET32_CSR0_TDMD	0x0008U	/* transmit demand */
#define  PCNET32_CSR0_TXON	0x0010U	/* R/O: transmitter on */
#define  PCNET32_CSR0_RXON	0x0020U	/* R/O: receiver on */
#define  PCNET32_CSR0_INEA	0x0040U	/* interrupt enable */
#define  PCNET32_CSR0_INTR	0x0080U	/* R/O: an unmasked source is set */
#define  PCNET32_CSR0_IDON	0x0100U	/* initialisation done */
#define  PCNET32_CSR0_TINT	0x0200U	/* transmit interrupt */
#define  PCNET32_CSR0_RINT	0x0400U	/* receive interrupt */
#define  PCNET32_CSR0_MERR	0x0800U	/* memory (bus master) error */
#define  PCNET32_CSR0_MISS	0x1000U	/* missed frame */
#define  PCNET32_CSR0_CERR	0x2000U	/* collision error */
#define  PCNET32_CSR0_BABL	0x4000U	/* babble */
#define  PCNET32_CSR0_ERR	0x8000U	/* R/O: BABL | CERR | MISS | MERR */
/* Swift imports a macro of at most one operator: the sets are literals. */
/* The sources pcnet32_interrupt serves: ERR | MERR | RINT | TINT | IDON. */
#define  PCNET32_CSR0_SOURCES	0x8f00U
/* The command bits an acknowledgement leaves out (pcnet32_interrupt
 * writes csr0 & ~this): INIT | STRT | STOP | TDMD | INEA. */
#define  PCNET32_CSR0_COMMANDS	0x004fU
/* CSR0_NORMAL: STRT | INEA. */
#define  PCNET32_CSR0_NORMAL	0x0042U
#define PCNET32_CSR1		1U	/* R/W: init block address, bits 15:0 (stopped) */
#define PCNET32_CSR2		2U	/* R/W: init block address, bits 31:16 (stopped) */
#define PCNET32_CSR3		3U	/* R/W: interrupt masks and deferral control */
/* The masks pcnet32 sets while NAPI polls: BABLM | MISSM | MERRM | RINTM |
 * TINTM | IDONM. */
#define  PCNET32_CSR3_MASK_ALL	0x5f00U
#define  PCNET32_CSR3_KEEP	0x00ffU	/* what pcnet32_poll keeps when it unmasks */
/* RINTM and TINTM: the masks sit at CSR0's RINT and TINT bits. */
#define  PCNET32_CSR3_DATAPATH	(PCNET32_CSR0_RINT | PCNET32_CSR0_TINT)
#define PCNET32_CSR4		4U	/* R/W: test and features control */
/* pcnet32's "auto tx pad" value: APAD_XMT | MFCOM | RCVCCOM | TXSTRTM |
 * JABM. */
#define  PCNET32_CSR4_DEFAULT	0x0915U
#define PCNET32_CSR5		5U	/* R/W: extended control and interrupt 1 */
#define  PCNET32_CSR5_SPND	0x0001U	/* suspend; reads 1 once suspended */
/* The W1C flags a read-modify-write must not hand back: SINT | SLPINT |
 * EXDINT | MPINT. */
#define  PCNET32_CSR5_W1C	0x0a90U
#define PCNET32_CSR8		8U	/* R/W: logical address filter (LADRF) 15:0 (stopped/suspended) */
#define PCNET32_CSR9		9U	/* R/W: LADRF 31:16 */
#define PCNET32_CSR10		10U	/* R/W: LADRF 47:32 */
#define PCNET32_CSR11		11U	/* R/W: LADRF 63:48 */
#define PCNET32_CSR12		12U	/* R/W: physical address (PADR) bytes 0-1, little-endian (stopped/suspended) */
#define PCNET32_CSR13		13U	/* R/W: PADR bytes 2-3 */
#define PCNET32_CSR14		14U	/* R/W: PADR bytes 4-5 */
#define PCNET32_CSR15		15U	/* R/W: mode (stopped/suspended) */
#define  PCNET32_MODE_DRX	0x0001U	/* disable receiver */
#define  PCNET32_MODE_DTX	0x0002U	/* disable transmitter */
#define  PCNET32_MODE_LOOP	0x0004U	/* loopback */
#define  PCNET32_MODE_INTL	0x0040U	/* internal loopback */
/* The modes in which the chip moves no frame to or from the wire: DRX,
 * DTX, LOOP, INTL (a literal: Swift imports no wider macro expression). */
#define  PCNET32_MODE_STOPS	0x0047U
#define  PCNET32_MODE_PORTSEL_SHIFT 7U	/* bits 8:7: port (pcnet32: options & 3) */
#define  PCNET32_MODE_PORT_10BT	0x0080U	/* PORTSEL 01: 10BASE-T */
#define  PCNET32_MODE_PORT_MASK	0x0180U
#define  PCNET32_MODE_DRCVPA	0x2000U	/* disable receive physical address */
#define  PCNET32_MODE_DRCVBC	0x4000U	/* disable receive broadcast */
#define  PCNET32_MODE_PROM	0x8000U	/* promiscuous */
#define PCNET32_CSR24		24U	/* R/W: rx ring base (BADR) 15:0 (stopped) */
#define PCNET32_CSR25		25U	/* R/W: BADR 31:16 */
#define PCNET32_CSR30		30U	/* R/W: tx ring base (BADX) 15:0 (stopped) */
#define PCNET32_CSR31		31U	/* R/W: BADX 31:16 */
#define PCNET32_CSR76		76U	/* R/W: rx ring length (RCVRL) */
#define PCNET32_CSR78		78U	/* R/W: tx ring length (XMTRL) */
#define PCNET32_CSR80		80U	/* R/W: DMA transfer counter and FIFO thresholds */
#define  PCNET32_CSR80_XMTSP	0x0c00U	/* transmit start point */
#define PCNET32_CSR88		88U	/* R/O: chip id 15:0 */
#define  PCNET32_CHIP_AMD_MASK	0x0fffU	/* bits 11:0: manufacturer */
#define  PCNET32_CHIP_AMD	0x0003U	/* AMD */
#define  PCNET32_CHIP_PART_SHIFT 12U	/* (CSR89 << 16 | CSR88) >> 12: part id */
#define PCNET32_CSR89		89U	/* R/O: chip id 31:16 */
#define PCNET32_CSR112		112U	/* R/W: missed frame count (stopped/suspended) */
#define PCNET32_CSR124		124U	/* R/W: test register 1 */
#define  PCNET32_CSR124_GPSIEN	0x0010U	/* GPSI port */
#define PCNET32_NUM_CSR		128U	/* RAP is 7 bits */

/* --- bus configuration registers (through RAP + BDP) --------------------- */
#define PCNET32_BCR2		2U	/* R/W: miscellaneous configuration */
#define  PCNET32_BCR2_ASEL	0x0002U	/* media auto-select */
#define  PCNET32_BCR2_LEDPE	0x1000U	/* LED program enable */
#define PCNET32_BCR4		4U	/* R/W: LED0 status, link status by default */
#define  PCNET32_BCR4_NO_LINK	0x00c0U	/* what the 79C970A reads without link */
#define  PCNET32_BCR4_LEDOUT	0x8000U	/* R/O: the selected status is active */
#define PCNET32_BCR9		9U	/* R/W: full-duplex control */
#define  PCNET32_BCR9_FDEN	0x0001U	/* full duplex enable */
#define  PCNET32_BCR9_AUIFD	0x0002U	/* AUI full duplex */
#define PCNET32_BCR18		18U	/* R/W: burst and bus control */
#define  PCNET32_BCR18_BURST	0x0060U	/* BWRITE | BREADE */
#define  PCNET32_BCR18_DWIO	0x0080U	/* R/O: double-word I/O mode */
#define  PCNET32_BCR18_NOUFLO	0x0800U	/* no transmit start before the frame is in */
#define PCNET32_BCR20		20U	/* R/W: software style (stopped) */
#define  PCNET32_SWSTYLE_MASK	0x00ffU
#define  PCNET32_SWSTYLE_PCNET32 0x0002U	/* 32-bit descriptors and init block */
#define  PCNET32_BCR20_SSIZE32	0x0100U	/* R/O: 32-bit structures */
#define PCNET32_BCR25		25U	/* R/W: SRAM size (79C973/975) */
#define PCNET32_BCR26		26U	/* R/W: SRAM boundary */
#define PCNET32_BCR32		32U	/* R/W: MII control and status */
#define  PCNET32_BCR32_DANAS	0x0080U	/* disable auto-negotiation auto setup */
#define PCNET32_BCR33		33U	/* R/W: MII address: PHY 9:5, register 4:0 */
#define  PCNET32_MII_PHY_SHIFT	5U
#define PCNET32_BCR34		34U	/* R/W: MII management data */
#define PCNET32_BCR49		49U	/* R/W: PHY select (79C978) */

/* --- descriptors, SWSTYLE 2: 16 bytes, little-endian ----------------------- */
#define PCNET32_DESC_SIZE	16U
#define PCNET32_DESC_BASE	0U	/* u32: buffer bus address */
#define PCNET32_DESC_LENGTH	4U	/* s16: two's complement of the buffer length */
#define PCNET32_DESC_STATUS	6U	/* u16 */
#define PCNET32_DESC_MISC	8U	/* u32: RMD2 message length / TMD2 errors */
#define  PCNET32_BCNT_MASK	0x0fffU	/* 12-bit byte counts */
#define  PCNET32_BCNT_ONES	0xf000U	/* the length's top bits read as ones */
/* RMD1 status (bits 31:16 of the second dword). */
#define  PCNET32_RMD_OWN	0x8000U	/* the chip owns it */
#define  PCNET32_RMD_ERR	0x4000U
#define  PCNET32_RMD_FRAM	0x2000U
#define  PCNET32_RMD_OFLO	0x1000U
#define  PCNET32_RMD_CRC	0x0800U
#define  PCNET32_RMD_BUFF	0x0400U
#define  PCNET32_RMD_STP	0x0200U	/* start of packet */
#define  PCNET32_RMD_ENP	0x0100U	/* end of packet */
/* A good single-buffer frame: STP | ENP, nothing else in the high byte. */
#define  PCNET32_RMD_GOOD	0x0300U
#define  PCNET32_RMD_MCNT_MASK	0x0fffU	/* RMD2: bytes received, CRC included */
/* TMD1 status. */
#define  PCNET32_TMD_OWN	0x8000U
#define  PCNET32_TMD_ERR	0x4000U
#define  PCNET32_TMD_ADD_FCS	0x2000U
#define  PCNET32_TMD_MORE	0x1000U	/* more than one retry */
#define  PCNET32_TMD_ONE	0x0800U	/* exactly one retry */
#define  PCNET32_TMD_STP	0x0200U
#define  PCNET32_TMD_ENP	0x0100U
/* pcnet32_start_xmit's status: OWN | STP | ENP. */
#define  PCNET32_TMD_SEND	0x8300U
#define  PCNET32_TMD_COLL	0x1800U	/* MORE | ONE */
/* TMD2 error bits. */
#define  PCNET32_TMD2_RTRY	0x04000000U
#define  PCNET32_TMD2_LCAR	0x08000000U
#define  PCNET32_TMD2_LCOL	0x10000000U
#define  PCNET32_TMD2_UFLO	0x40000000U
#define  PCNET32_TMD2_BUFF	0x80000000U

/* --- the 32-bit initialisation block (28 bytes, little-endian) ------------ */
#define PCNET32_IB_MODE		0U	/* u16: CSR15 */
#define PCNET32_IB_TLEN_RLEN	2U	/* u16: log2 tx entries << 12 | log2 rx entries << 4 */
#define  PCNET32_IB_TLEN_SHIFT	12U
#define  PCNET32_IB_RLEN_SHIFT	4U
#define PCNET32_IB_PADR		4U	/* 6 bytes: CSR12-14 */
#define PCNET32_IB_FILTER	12U	/* 8 bytes: CSR8-11 */
#define PCNET32_IB_RX_RING	20U	/* u32: BADR */
#define PCNET32_IB_TX_RING	24U	/* u32: BADX */
#define PCNET32_IB_SIZE		28U

/* --- rings as the u-driver allocates them (pcnet32's defaults) ----------- */
#define PCNET32_LOG_RX_BUFFERS	5U
#define PCNET32_RX_RING_SIZE	32U	/* 1 << PCNET32_LOG_RX_BUFFERS */
#define PCNET32_LOG_TX_BUFFERS	4U
#define PCNET32_TX_RING_SIZE	16U	/* 1 << PCNET32_LOG_TX_BUFFERS */
#define PCNET32_LOG_MAX_BUFFERS	9U	/* at most 512 entries a ring */
#define PCNET32_PKT_BUF_SIZE	1544U	/* bytes per buffer (PKT_BUF_SKB) */

#endif /* _CHIPS_PCNET32_REGS_H */
