/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * e1000_regs.h - the Intel 8254x (82540EM, QEMU's -device e1000) register
 * map, written once for the nucleus (module/e1000.c), the u-driver
 * (Sources/Drivers/E1000, through the CChips target) and the simulator's
 * model (Sources/NucleusSim/E1000Model.swift).
 *
 * Offsets and bit names are Linux's drivers/net/ethernet/intel/e1000/
 * e1000_hw.h, checked against Intel's 8254x Software Developer's Manual
 * and QEMU's hw/net/e1000.c; in address order, each register's bits below
 * it.  Every register is 32 bits wide and accessed as a dword (QEMU's
 * model implements dword accesses only).  Every constant is unsigned, so
 * Swift imports it as UInt32.
 */
#ifndef _CHIPS_E1000_REGS_H
#define _CHIPS_E1000_REGS_H

#define E1000_CTRL		0x0000U	/* R/W: device control */
#define  E1000_CTRL_FD		0x00000001U	/* full duplex (when forced) */
#define  E1000_CTRL_LRST	0x00000008U	/* link reset */
#define  E1000_CTRL_ASDE	0x00000020U	/* auto-speed detection */
#define  E1000_CTRL_SLU		0x00000040U	/* set link up */
#define  E1000_CTRL_ILOS	0x00000080U	/* invert loss of signal */
#define  E1000_CTRL_FRCSPD	0x00000800U	/* force speed */
#define  E1000_CTRL_FRCDPLX	0x00001000U	/* force duplex */
#define  E1000_CTRL_RST		0x04000000U	/* global reset, self-clearing */
#define  E1000_CTRL_RFCE	0x08000000U	/* rx flow control */
#define  E1000_CTRL_TFCE	0x10000000U	/* tx flow control */
#define  E1000_CTRL_VME		0x40000000U	/* VLAN mode */
#define  E1000_CTRL_PHY_RST	0x80000000U	/* PHY reset */
#define E1000_STATUS		0x0008U	/* R/O: device status */
#define  E1000_STATUS_FD	0x00000001U	/* full duplex */
#define  E1000_STATUS_LU	0x00000002U	/* link up */
#define  E1000_STATUS_TXOFF	0x00000010U	/* transmission paused */
#define  E1000_STATUS_SPEED_MASK 0x000000c0U
#define  E1000_STATUS_SPEED_10	0x00000000U
#define  E1000_STATUS_SPEED_100	0x00000040U
#define  E1000_STATUS_SPEED_1000 0x00000080U
#define E1000_EECD		0x0010U	/* R/W: EEPROM control (bit-bang) */
#define E1000_EERD		0x0014U	/* R/W: EEPROM read, one word a go */
/* The 82540/82545 layout (SDM 13.4.4; QEMU's): 82541/82547 differ. */
#define  E1000_EERD_START	0x00000001U	/* write: start the read */
#define  E1000_EERD_DONE	0x00000010U	/* read: the data is valid */
#define  E1000_EERD_ADDR_SHIFT	8U		/* word address, bits 15:8 */
#define  E1000_EERD_DATA_SHIFT	16U		/* the word, bits 31:16 */
#define E1000_CTRL_EXT		0x0018U	/* R/W: extended device control */
#define E1000_MDIC		0x0020U	/* R/W: MDI control, one PHY register a go */
#define  E1000_MDIC_DATA_MASK	0x0000ffffU
#define  E1000_MDIC_REG_SHIFT	16U		/* PHY register, bits 20:16 */
#define  E1000_MDIC_PHY_SHIFT	21U		/* PHY address, bits 25:21 */
#define  E1000_MDIC_OP_WRITE	0x04000000U
#define  E1000_MDIC_OP_READ	0x08000000U
#define  E1000_MDIC_READY	0x10000000U	/* the access completed */
#define  E1000_MDIC_INT_EN	0x20000000U
#define  E1000_MDIC_ERROR	0x40000000U	/* no such PHY or register */
#define  E1000_MDIC_PHY_ADDR	1U		/* the internal PHY's address */
#define E1000_FCAL		0x0028U	/* R/W: flow control address low */
#define E1000_FCAH		0x002cU	/* R/W: flow control address high */
#define E1000_FCT		0x0030U	/* R/W: flow control type */
#define E1000_VET		0x0038U	/* R/W: VLAN ether type */
/*
 * The interrupt registers, the data path's: a downcall touching one holds
 * the ComboLock.  ICR clears on read; IMS sets mask bits (and reads the
 * mask back), IMC clears them.
 */
#define E1000_ICR		0x00c0U	/* R/clr: interrupt cause */
#define  E1000_ICR_TXDW		0x00000001U	/* tx descriptor written back */
#define  E1000_ICR_TXQE		0x00000002U	/* tx queue empty */
#define  E1000_ICR_LSC		0x00000004U	/* link status change */
#define  E1000_ICR_RXSEQ	0x00000008U	/* rx sequence error */
#define  E1000_ICR_RXDMT0	0x00000010U	/* rx descriptors below threshold */
#define  E1000_ICR_RXO		0x00000040U	/* rx overrun */
#define  E1000_ICR_RXT0		0x00000080U	/* rx timer: frames received */
#define  E1000_ICR_MDAC		0x00000200U	/* MDI access complete */
/*
 * Swift imports a macro of at most one operator: the sets are literals.
 * Linux's IMS_ENABLE_MASK: RXT0 | TXDW | RXDMT0 | RXSEQ | LSC.
 */
#define  E1000_IMS_ENABLE_MASK	0x0000009dU
/* The causes the nucleus's poll serves: RXT0 | RXO | RXDMT0 | RXSEQ |
 * TXDW | TXQE. */
#define  E1000_ICR_DATAPATH	0x000000dbU
#define E1000_ITR		0x00c4U	/* R/W: interrupt throttling, 256 ns units */
#define E1000_ICS		0x00c8U	/* W/O: interrupt cause set */
#define E1000_IMS		0x00d0U	/* R/W: interrupt mask set / read */
#define E1000_IMC		0x00d8U	/* W/O: interrupt mask clear */
#define  E1000_IMC_ALL		0xffffffffU
#define E1000_RCTL		0x0100U	/* R/W: receive control */
#define  E1000_RCTL_EN		0x00000002U	/* receiver enable */
#define  E1000_RCTL_SBP		0x00000004U	/* store bad packets */
#define  E1000_RCTL_UPE		0x00000008U	/* unicast promiscuous */
#define  E1000_RCTL_MPE		0x00000010U	/* multicast promiscuous */
#define  E1000_RCTL_LPE		0x00000020U	/* long packets */
#define  E1000_RCTL_LBM_MASK	0x000000c0U	/* loopback mode; 0 = none */
#define  E1000_RCTL_RDMTS_HALF	0x00000000U	/* RXDMT0 at half the ring free */
#define  E1000_RCTL_MO_SHIFT	12U		/* multicast offset; 0 = bits 47:36 */
#define  E1000_RCTL_MO_MASK	0x00003000U
#define  E1000_RCTL_BAM		0x00008000U	/* accept broadcast */
#define  E1000_RCTL_SZ_MASK	0x00030000U	/* buffer size; 0 = 2048 bytes */
#define  E1000_RCTL_VFE		0x00040000U	/* VLAN filter */
#define  E1000_RCTL_BSEX	0x02000000U	/* buffer size x16 */
#define  E1000_RCTL_SECRC	0x04000000U	/* strip the Ethernet CRC */
#define E1000_FCTTV		0x0170U	/* R/W: flow control transmit timer */
#define E1000_TCTL		0x0400U	/* R/W: transmit control */
#define  E1000_TCTL_EN		0x00000002U	/* transmitter enable */
#define  E1000_TCTL_PSP		0x00000008U	/* pad short packets */
#define  E1000_TCTL_CT_SHIFT	4U		/* collision threshold */
#define  E1000_TCTL_CT_MASK	0x00000ff0U
#define  E1000_TCTL_COLD_SHIFT	12U		/* collision distance */
#define  E1000_TCTL_COLD_MASK	0x003ff000U
#define  E1000_TCTL_RTLC	0x01000000U	/* retransmit on late collision */
#define  E1000_COLLISION_THRESHOLD 15U
#define  E1000_COLLISION_DISTANCE 63U
#define E1000_TIPG		0x0410U	/* R/W: transmit inter-packet gap */
/* Copper: IPGT 8, IPGR1 8 << 10, IPGR2 6 << 20 (e1000_configure_tx). */
#define  E1000_TIPG_COPPER	0x00602008U
#define E1000_LEDCTL		0x0e00U	/* R/W: LED control */
#define E1000_PBA		0x1000U	/* R/W: packet buffer allocation */
/* The receive ring: base, length in bytes (a multiple of 128), head and
 * tail (descriptor indexes).  RDH/RDT are the data path's once it runs. */
#define E1000_RDBAL		0x2800U	/* R/W: rx descriptor base, low 32 bits */
#define E1000_RDBAH		0x2804U	/* R/W: rx descriptor base, high 32 bits */
#define E1000_RDLEN		0x2808U	/* R/W: rx ring length, bytes */
#define E1000_RDH		0x2810U	/* R/W: rx head: the chip fills from here */
#define E1000_RDT		0x2818U	/* R/W: rx tail: the chip stops before it */
#define E1000_RDTR		0x2820U	/* R/W: rx delay timer, 1.024 us units */
#define E1000_RADV		0x282cU	/* R/W: rx absolute delay, 1.024 us units */
#define E1000_TDBAL		0x3800U	/* R/W: tx descriptor base, low 32 bits */
#define E1000_TDBAH		0x3804U	/* R/W: tx descriptor base, high 32 bits */
#define E1000_TDLEN		0x3808U	/* R/W: tx ring length, bytes */
#define E1000_TDH		0x3810U	/* R/W: tx head: the chip sends from here */
#define E1000_TDT		0x3818U	/* R/W: tx tail: one past the last queued */
#define E1000_TIDV		0x3820U	/* R/W: tx interrupt delay */
#define E1000_TADV		0x382cU	/* R/W: tx absolute delay */
#define E1000_RING_ALIGN	128U	/* RDLEN/TDLEN granularity, bytes */
/* Statistics: clear on read (the SDM; QEMU clears some, not MPC). */
#define E1000_CRCERRS		0x4000U	/* R/clr: CRC errors */
#define E1000_MPC		0x4010U	/* R/clr: missed packets (no rx descriptor) */
#define E1000_GPRC		0x4074U	/* R/clr: good packets received */
#define E1000_GPTC		0x4080U	/* R/clr: good packets sent */
#define E1000_MTA		0x5200U	/* R/W: multicast table array, 128 dwords */
#define  E1000_MTA_REGS		128U
#define  E1000_MTA_BITS		4096U	/* hash values 0..4095 */
#define E1000_RAL0		0x5400U	/* R/W: receive address 0, bytes 0-3 */
#define E1000_RAH0		0x5404U	/* R/W: receive address 0, bytes 4-5 + AV */
#define  E1000_RAH_AV		0x80000000U	/* the address is valid */
#define  E1000_RAR_ENTRIES	15U	/* RAL/RAH pairs, 8 bytes apart */
#define E1000_VFTA		0x5600U	/* R/W: VLAN filter table, 128 dwords */
#define E1000_WUC		0x5800U	/* R/W: wake-up control */
#define E1000_MANC		0x5820U	/* R/W: management control */
#define E1000_BAR_SIZE		0x20000U	/* BAR 0: 128 KiB of registers */

/*
 * Legacy descriptors, 16 bytes each, little-endian.  Receive: the buffer's
 * bus address (8), length (2), checksum (2), status (1), errors (1),
 * special (2).  Transmit: the buffer's bus address (8), then a dword of
 * length (15:0), CSO (23:16), CMD (31:24), then one of STA (7:0), CSS,
 * special.
 */
#define E1000_DESC_SIZE		16U
#define E1000_RXD_LENGTH	8U	/* offsets within a receive descriptor */
#define E1000_RXD_STATUS	12U
#define E1000_RXD_ERRORS	13U
#define  E1000_RXD_STAT_DD	0x01U	/* descriptor done */
#define  E1000_RXD_STAT_EOP	0x02U	/* end of packet */
/* CE | SE | SEQ | CXE | RXE: Linux's E1000_RXD_ERR_FRAME_ERR_MASK. */
#define  E1000_RXD_ERR_FRAME	0x97U
#define E1000_TXD_LOWER		8U	/* offsets within a transmit descriptor */
#define E1000_TXD_UPPER		12U
#define  E1000_TXD_CMD_EOP	0x01000000U	/* end of packet */
#define  E1000_TXD_CMD_IFCS	0x02000000U	/* insert the FCS */
#define  E1000_TXD_CMD_RS	0x08000000U	/* report status (DD) */
#define  E1000_TXD_STAT_DD	0x00000001U	/* descriptor done */
/* Bytes of rx and tx buffer behind each descriptor (RCTL size 2048). */
#define E1000_BUF_SIZE		2048U

/*
 * The EEPROM (64 words): the MAC in words 0-2, little-endian; the words
 * 0x00-0x3f sum to 0xbaba.
 */
#define E1000_EEPROM_WORDS	64U
#define E1000_EEPROM_CHECKSUM_REG 0x3fU
#define E1000_EEPROM_SUM	0xbabaU

/*
 * The PHY (M88E1011 on the 82540EM), reached through MDIC.
 */
#define E1000_PHY_CTRL		0x00U	/* MII BMCR */
#define  E1000_MII_CR_RESTART_AUTONEG 0x0200U
#define  E1000_MII_CR_FULL_DUPLEX 0x0100U
#define  E1000_MII_CR_AUTONEG_EN 0x1000U
#define  E1000_MII_CR_RESET	0x8000U
#define E1000_PHY_STATUS	0x01U	/* MII BMSR */
#define  E1000_MII_SR_LINK_STATUS 0x0004U	/* latched low: read twice */
#define  E1000_MII_SR_AUTONEG_COMPLETE 0x0020U
#define E1000_PHY_ID1		0x02U
#define E1000_PHY_ID2		0x03U
#define E1000_PHY_AUTONEG_ADV	0x04U	/* MII ANAR */
/* Selector 802.3 | 10T HD | 10T FD | 100TX HD | 100TX FD | pause |
 * asymmetric pause (e1000_phy_setup_autoneg, fc = full). */
#define  E1000_NWAY_AR_ALL	0x0de1U
#define E1000_PHY_1000T_CTRL	0x09U
#define  E1000_CR_1000T_FD_CAPS	0x0200U
#define E1000_M88_PHY_SPEC_STATUS 0x11U
#define E1000_M88E1011_I_PHY_ID	0x01410c20U
#define E1000_PHY_REV_MASK	0xfffffff0U

#endif /* _CHIPS_E1000_REGS_H */
