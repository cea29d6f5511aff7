/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ps2mouse_regs.h - the PS/2 mouse's command set and packet layout, written
 * once for the nucleus (the serio half), the u-driver (Sources/Drivers/
 * PSMouse, through the CChips target) and the simulator's model.
 *
 * A PS/2 mouse has no registers: its "register map" is the byte protocol
 * on the i8042's AUX port.  Commands are in libps2's encoding, as Linux's
 * drivers/input/mouse/psmouse.h writes them: bits 0-7 the command byte,
 * bits 8-11 how many bytes the mouse answers after its ACK, bits 12-15
 * how many parameter bytes follow the command (each ACKed).  Packet bits
 * are the standard packet's, as psmouse_report_standard_packet() reads
 * them.  Every constant is unsigned, so Swift imports it as UInt32.
 */
#ifndef _CHIPS_PS2MOUSE_REGS_H
#define _CHIPS_PS2MOUSE_REGS_H

#define PSM_CMD_BYTE_MASK	0x00ffU
#define PSM_CMD_RECEIVE_SHIFT	8U
#define PSM_CMD_SEND_SHIFT	12U
#define PSM_CMD_COUNT_MASK	0x0fU

#define PSM_CMD_SETSCALE11	0x00e6U	/* scaling 1:1 */
#define PSM_CMD_SETSCALE21	0x00e7U	/* scaling 2:1 */
#define PSM_CMD_SETRES		0x10e8U	/* resolution: 0..3 = 1 << n counts/mm */
#define PSM_CMD_GETINFO		0x03e9U	/* status, resolution, rate */
#define PSM_CMD_SETSTREAM	0x00eaU
#define PSM_CMD_SETPOLL		0x00f0U
#define PSM_CMD_RESET_WRAP	0x00ecU
#define PSM_CMD_GETID		0x02f2U	/* a mouse answers one byte */
#define PSM_CMD_SETRATE		0x10f3U	/* reports a second */
#define PSM_CMD_ENABLE		0x00f4U	/* start streaming */
#define PSM_CMD_DISABLE		0x00f5U	/* stop streaming */
#define PSM_CMD_RESET_DIS	0x00f6U	/* defaults, streaming off */
#define PSM_CMD_RESET_BAT	0x02ffU	/* self-test: BAT, then the id */

#define PSM_RET_BAT		0xaaU	/* self-test passed */
#define PSM_RET_ID		0x00U
#define PSM_RET_ACK		0xfaU
#define PSM_RET_NAK		0xfeU
#define PSM_RET_ERROR		0xfcU

/* GETID's answer after the IntelliMouse knocks (SETRATE 200, 100, 80 and
 * 200, 200, 80): which protocol the mouse now speaks. */
#define PSM_ID_PS2		0x00U
#define PSM_ID_IMPS		0x03U
#define PSM_ID_EXPS		0x04U

/* GETINFO's first byte. */
#define PSM_STATUS_RIGHT	0x01U
#define PSM_STATUS_MIDDLE	0x02U
#define PSM_STATUS_LEFT		0x04U
#define PSM_STATUS_SCALE21	0x10U
#define PSM_STATUS_ENABLED	0x20U
#define PSM_STATUS_REMOTE	0x40U

/* A packet's first byte. */
#define PSM_PKT_LEFT		0x01U
#define PSM_PKT_RIGHT		0x02U
#define PSM_PKT_MIDDLE		0x04U
#define PSM_PKT_SYNC		0x08U	/* always set: how a reader resyncs */
#define PSM_PKT_X_SIGN		0x10U
#define PSM_PKT_Y_SIGN		0x20U
#define PSM_PKT_X_OVERFLOW	0x40U
#define PSM_PKT_Y_OVERFLOW	0x80U
/* An Explorer packet's fourth byte: wheel in bits 0-3 (signed), buttons. */
#define PSM_PKT_EX_WHEEL_MASK	0x0fU
#define PSM_PKT_EX_SIDE		0x10U
#define PSM_PKT_EX_EXTRA	0x20U

#endif /* _CHIPS_PS2MOUSE_REGS_H */
