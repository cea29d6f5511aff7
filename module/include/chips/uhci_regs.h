/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * uhci_regs.h - the Universal Host Controller Interface (Intel's UHCI 1.1
 * design guide; the PIIX3's USB function, QEMU's piix3-usb-uhci), written
 * once for the nucleus (module/uhci.c: the schedule and the interrupt),
 * the u-driver (Sources/Drivers/UHCI: reset, start/stop, the root hub,
 * through the CChips target) and the simulator's register model.
 *
 * The registers are 32 bytes of I/O space behind BAR 4.  Bit meanings as
 * Linux's drivers/usb/host/uhci-hcd.h names them.  Every constant is
 * unsigned, so Swift imports it as UInt32.
 */
#ifndef _CHIPS_UHCI_REGS_H
#define _CHIPS_UHCI_REGS_H

#define UHCI_BAR		4U	/* I/O space, 32 bytes */
#define UHCI_IO_SIZE		0x20U
#define UHCI_PORTS		2U	/* root-hub ports of a UHCI function */

/* USBCMD: command (16 bits) */
#define UHCI_USBCMD		0x00U
#define UHCI_CMD_RS		0x0001U	/* run/stop */
#define UHCI_CMD_HCRESET	0x0002U	/* host controller reset */
#define UHCI_CMD_GRESET		0x0004U	/* global reset */
#define UHCI_CMD_EGSM		0x0008U	/* global suspend mode */
#define UHCI_CMD_FGR		0x0010U	/* force global resume */
#define UHCI_CMD_SWDBG		0x0020U	/* software debug */
#define UHCI_CMD_CF		0x0040U	/* config flag (software only) */
#define UHCI_CMD_MAXP		0x0080U	/* max packet: 64 bytes for FSBR */

/* USBSTS: status (16 bits, write 1 to clear) */
#define UHCI_USBSTS		0x02U
#define UHCI_STS_USBINT		0x0001U	/* an IOC or short-packet TD ended */
#define UHCI_STS_ERROR		0x0002U	/* a TD ended in error */
#define UHCI_STS_RD		0x0004U	/* resume detect */
#define UHCI_STS_HSE		0x0008U	/* host system error (PCI) */
#define UHCI_STS_HCPE		0x0010U	/* host controller process error */
#define UHCI_STS_HCH		0x0020U	/* halted */
#define UHCI_STS_ALL		0x003fU

/* USBINTR: interrupt enables (16 bits) */
#define UHCI_USBINTR		0x04U
#define UHCI_INTR_TIMEOUT	0x0001U	/* timeout/CRC */
#define UHCI_INTR_RESUME	0x0002U
#define UHCI_INTR_IOC		0x0004U	/* interrupt on complete */
#define UHCI_INTR_SP		0x0008U	/* short packet */

#define UHCI_FRNUM		0x06U	/* frame number (16 bits, 11 used) */
#define UHCI_FRNUM_MASK		0x07ffU
#define UHCI_FLBASEADD		0x08U	/* frame list base (32 bits, 4 KiB aligned) */
#define UHCI_SOFMOD		0x0cU	/* start-of-frame modify (8 bits) */
#define UHCI_SOFMOD_DEFAULT	0x40U	/* 12000 bit times a frame */

/* PORTSC1, PORTSC2: port status and control (16 bits each) */
#define UHCI_PORTSC1		0x10U
#define UHCI_PORTSC(n)		(UHCI_PORTSC1 + 2U * (n))	/* n from 0 */
#define UHCI_PORT_CCS		0x0001U	/* current connect status */
#define UHCI_PORT_CSC		0x0002U	/* connect status change (W1C) */
#define UHCI_PORT_PE		0x0004U	/* port enabled */
#define UHCI_PORT_PEC		0x0008U	/* port enable change (W1C) */
#define UHCI_PORT_DPLUS		0x0010U	/* D+ high (line status) */
#define UHCI_PORT_DMINUS	0x0020U	/* D- high (line status) */
#define UHCI_PORT_RD		0x0040U	/* resume detect */
#define UHCI_PORT_R1		0x0080U	/* reserved, reads 1 */
#define UHCI_PORT_LSDA		0x0100U	/* low-speed device attached */
#define UHCI_PORT_PR		0x0200U	/* port reset */
#define UHCI_PORT_OC		0x0400U	/* over current condition */
#define UHCI_PORT_OCC		0x0800U	/* over current change (W1C) */
#define UHCI_PORT_SUSP		0x1000U	/* suspend */
/* The bits a write clears by writing 1: masked out of every
 * read-modify-write that means to set or clear another bit. */
#define UHCI_PORT_RWC		(UHCI_PORT_CSC | UHCI_PORT_PEC | UHCI_PORT_OCC)

/* PCI configuration: legacy keyboard/mouse emulation (USBLEGSUP) */
#define UHCI_PCI_LEGSUP		0xc0U
#define UHCI_LEGSUP_RWC		0x8f00U	/* the status bits, W1C */
#define UHCI_LEGSUP_PIRQEN	0x2000U	/* the interrupt goes to PIRQD */

/*
 * The schedule in memory (the nucleus's alone): a frame list of 1024
 * link pointers, queue heads (QH) and transfer descriptors (TD), 16-byte
 * aligned, little-endian.
 */
#define UHCI_NUMFRAMES		1024U
#define UHCI_PTR_TERM		0x0001U	/* link: end of list */
#define UHCI_PTR_QH		0x0002U	/* link: points at a QH */
#define UHCI_PTR_DEPTH		0x0004U	/* TD link: depth first (Vf) */

/* TD status (second word) */
#define UHCI_TD_ACTLEN_MASK	0x07ffU	/* actual length - 1 */
#define UHCI_TD_BITSTUFF	(1U << 17)
#define UHCI_TD_CRCTIMEO	(1U << 18)
#define UHCI_TD_NAK		(1U << 19)
#define UHCI_TD_BABBLE		(1U << 20)
#define UHCI_TD_DBUFERR		(1U << 21)
#define UHCI_TD_STALLED		(1U << 22)
#define UHCI_TD_ACTIVE		(1U << 23)
#define UHCI_TD_IOC		(1U << 24)
#define UHCI_TD_IOS		(1U << 25)
#define UHCI_TD_LS		(1U << 26)
#define UHCI_TD_CERR_SHIFT	27U	/* error counter, 3 = three tries */
#define UHCI_TD_SPD		(1U << 29)	/* short packet detect */
#define UHCI_TD_ANY_ERROR	(UHCI_TD_STALLED | UHCI_TD_DBUFERR | \
				 UHCI_TD_BABBLE | UHCI_TD_CRCTIMEO | \
				 UHCI_TD_BITSTUFF)

/* TD token (third word) */
#define UHCI_PID_OUT		0xe1U
#define UHCI_PID_IN		0x69U
#define UHCI_PID_SETUP		0x2dU
#define UHCI_TOKEN_DEVADDR_SHIFT 8U
#define UHCI_TOKEN_EP_SHIFT	15U
#define UHCI_TOKEN_TOGGLE	(1U << 19)
#define UHCI_TOKEN_MAXLEN_SHIFT	21U	/* length - 1; 0x7ff = none */

#endif /* _CHIPS_UHCI_REGS_H */
