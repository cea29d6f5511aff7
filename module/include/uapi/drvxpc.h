/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * drvxpc.h - the drivermgr extension-procedure-call (XPC) wire format.
 *
 * One definition for every hop: drvnucleus.ko (generic netlink family
 * "drvnucleus"), nucleus-sim (unix SOCK_SEQPACKET), drivermgrd and the
 * u-drivers (socketpair).  A message is a fixed header followed by
 * netlink-style attributes (struct nlattr layout, 4-byte aligned):
 *
 *   +-----------------+--------+---------+--------+---------+ ...
 *   | struct drvxpc_hdr (24 B) | nla_len | nla_type | payload | pad
 *   +-----------------+--------+---------+--------+---------+ ...
 *
 * Over generic netlink the same bytes follow the genlmsghdr: the family
 * declares hdrsize = sizeof(struct drvxpc_hdr), so the daemon forwards a
 * message between the kernel and a u-driver without re-encoding it.
 *
 * Attribute ids carry no type information on the wire; the kind and the
 * size limit of every attribute are listed once, in DRVXPC_ATTRS below,
 * and both sides derive their validation from that list.
 */
#ifndef _UAPI_DRVXPC_H
#define _UAPI_DRVXPC_H

#include <linux/types.h>

#define DRVXPC_GENL_NAME	"drvnucleus"
#define DRVXPC_GENL_VERSION	1
#define DRVXPC_VERSION		1

/* Largest message on any channel, header included. */
#define DRVXPC_MSG_MAX		65536
/* Deepest nesting a decoder accepts. */
#define DRVXPC_NEST_MAX		4
/* Replies to downcalls (by CALL_ID) a nucleus keeps per device. */
#define DRVXPC_ANSWERS_KEPT	16

struct drvxpc_hdr {
	__u32	len;		/* header + attributes, in bytes */
	__u16	op;		/* enum drvxpc_op */
	__u16	flags;		/* DRVXPC_F_* */
	__u32	seq;		/* chosen by the sender of a request */
	__u32	instance;	/* device instance; 0 = none */
	__s32	status;		/* replies: 0 or a negative errno */
	__u32	timeout_us;	/* requests: relative deadline; 0 = none */
};

/* drvxpc_hdr.flags */
#define DRVXPC_F_REQUEST	0x0001	/* a reply is expected */
#define DRVXPC_F_REPLY		0x0002	/* answers the request with this seq */
#define DRVXPC_F_NOTIFY		0x0004	/* one-way; never answered */
#define DRVXPC_F_REATTACH	0x0008	/* replayed: adopt the running device */
/* An upcall that is part of the u-driver's own call in progress (a sliced
 * driver's probe, or a call nested in one of its downcalls): it goes to
 * the u-driver being started or recovered, not held for it. */
#define DRVXPC_F_WITHIN		0x0010
#define DRVXPC_F_ALL		0x001f

/* Attribute header: identical to struct nlattr. */
struct drvxpc_attr {
	__u16	len;		/* header + payload, without padding */
	__u16	type;		/* enum drvxpc_attr_id, | DRVXPC_A_F_NESTED */
};

#define DRVXPC_A_F_NESTED	0x8000	/* same bit as NLA_F_NESTED */
#define DRVXPC_A_TYPE_MASK	0x3fff
#define DRVXPC_ALIGNTO		4
#define DRVXPC_ALIGN(len)	(((len) + DRVXPC_ALIGNTO - 1) & ~(DRVXPC_ALIGNTO - 1))
#define DRVXPC_ATTR_HDRLEN	((int)DRVXPC_ALIGN(sizeof(struct drvxpc_attr)))

/* Payload kinds; each fixes how a payload's length is checked. */
enum drvxpc_kind {
	DRVXPC_K_FLAG = 0,	/* no payload */
	DRVXPC_K_U8,
	DRVXPC_K_U16,
	DRVXPC_K_U32,
	DRVXPC_K_U64,
	DRVXPC_K_S32,
	DRVXPC_K_STRING,	/* NUL-terminated, NUL within max */
	DRVXPC_K_BINARY,	/* 1..max bytes */
	DRVXPC_K_NESTED,	/* attributes; DRVXPC_A_F_NESTED set */
	DRVXPC_K_MAC,		/* exactly 6 bytes */
};

/* Device classes (DRVXPC_A_CLASS). */
enum drvxpc_class {
	DRVXPC_CLASS_NONE = 0,
	DRVXPC_CLASS_SOUND = 1,
	DRVXPC_CLASS_NET = 2,
	DRVXPC_CLASS_INPUT = 3,
	DRVXPC_CLASS_USB_HOST = 4,
};

/* Buses (DRVXPC_A_BUS): how DEVICE_ADD and HELLO name a device. */
enum drvxpc_bus {
	DRVXPC_BUS_PCI = 1,	/* PCI_VENDOR, PCI_DEVICE, PCI_SLOT, BAR_SIZE */
	DRVXPC_BUS_SERIO = 2,	/* SERIO_TYPE, SERIO_PROTO, SERIO_PORT */
};

/* DRVXPC_A_INPUT_PROTOCOL: what the mouse speaks, fixing the packet size */
enum drvxpc_mouse_proto {
	DRVXPC_MOUSE_PS2 = 1,	/* 3-byte packets: buttons, x, y */
	DRVXPC_MOUSE_IMPS = 2,	/* IntelliMouse: + a wheel byte */
	DRVXPC_MOUSE_EXPS = 3,	/* IntelliMouse Explorer: wheel + 2 buttons */
};

/* DRVXPC_A_USB_FSBR: full-speed bandwidth reclamation, the u-driver's
 * policy; the nucleus links the loop (FS control and bulk QHs) and, with
 * AUTO, unlinks it as uhci-hcd does: while an FS control or bulk URB is on
 * the hardware, and for 10 ms after */
enum drvxpc_usb_fsbr {
	DRVXPC_USB_FSBR_OFF = 0,
	DRVXPC_USB_FSBR_ON = 1,
	DRVXPC_USB_FSBR_AUTO = 2,
};

/* DRVXPC_A_USB_HC_STATE: the host controller as the u-driver left it */
enum drvxpc_usb_hc_state {
	DRVXPC_USB_HC_HALTED = 1,	/* reset, not scheduling */
	DRVXPC_USB_HC_RUNNING = 2,	/* Run/Stop set, the schedule walked */
};

/*
 * Every attribute: X(NAME, kind, max payload bytes, lo, hi).  For integer
 * kinds a value outside lo..hi is out of range (hi == 0: no bound).  Ids
 * are dense and stable: append only.
 */
#define DRVXPC_ATTRS(X)							\
	/* identity and hand-shake */					\
	X(VERSION,		U32,	4, 0, 0)				\
	X(DRIVER_NAME,		STRING,	32, 0, 0)				\
	X(CLASS,		U8,	1, 1, 4)	/* enum drvxpc_class */	\
	X(PCI_VENDOR,		U16,	2, 0, 0)				\
	X(PCI_DEVICE,		U16,	2, 0, 0)				\
	X(PCI_REVISION,		U8,	1, 0, 0)				\
	X(PCI_SLOT,		STRING,	32, 0, 0)	/* "0000:00:04.0" */	\
	X(BAR_SIZE,		U32,	4, 0, 0)	/* bytes of BAR 0 */	\
	X(IRQ,			U32,	4, 0, 0)				\
	X(CHIP_NAME,		STRING,	32, 0, 0)				\
	/* register access */						\
	X(REG_OFFSET,		U32,	4, 0, 0)				\
	X(REG_WIDTH,		U8,	1, 1, 4)	/* 1, 2 or 4 */		\
	X(REG_VALUE,		U32,	4, 0, 0)				\
	X(REG_MASK,		U32,	4, 0, 0)				\
	X(REG_OP,		NESTED,	64, 0, 0)	/* one step of a sequence */ \
	X(REG_OP_KIND,		U8,	1, 1, 4)	/* enum drvxpc_regop */	\
	X(REG_SEQ,		NESTED,	16384, 0, 0)	/* REG_OP list */	\
	X(REG_RESULTS,		BINARY,	4096, 0, 0)	/* __u32 per read/poll */ \
	X(DELAY_US,		U32,	4, 0, 100000)				\
	/* DMA memory and tracked objects */				\
	X(DMA_HANDLE,		U32,	4, 0, 0)				\
	X(DMA_SIZE,		U32,	4, 1, 1048576)				\
	X(DMA_OFFSET,		U32,	4, 0, 0)				\
	X(OBJECT,		NESTED,	64, 0, 0)	/* hand-over record */	\
	X(OBJECT_ID,		U32,	4, 0, 0)				\
	X(OBJECT_KIND,		U8,	1, 1, 3)	/* enum drvxpc_object */ \
	X(OBJECT_ROLE,		U8,	1, 0, 7)	/* enum drvxpc_role */	\
	/* sound */							\
	X(PCM_RATE,		U32,	4, 4000, 192000)	/* frames per second */	\
	X(PCM_CHANNELS,		U8,	1, 1, 2)				\
	X(PCM_FORMAT,		U8,	1, 0, 0)	/* SNDRV_PCM_FORMAT_* */ \
	X(PCM_PERIOD_FRAMES,	U32,	4, 16, 65536)				\
	X(PCM_BUFFER_FRAMES,	U32,	4, 32, 262144)				\
	X(MIXER_CONTROL,	U16,	2, 1, 3)	/* enum drvxpc_mixer */	\
	X(MIXER_VALUE,		U32,	4, 0, 100)	/* 0..100 percent */	\
	X(CARD_NAME,		STRING,	32, 0, 0)				\
	/* network */							\
	X(MAC,			MAC,	6, 0, 0)				\
	X(RX_FLAGS,		U32,	4, 0, 3)	/* DRVXPC_RX_* */	\
	X(MC_LIST,		NESTED,	4096, 0, 0)	/* MAC list */		\
	X(LINK_UP,		U8,	1, 0, 1)				\
	X(LINK_SPEED,		U32,	4, 0, 0)	/* Mbit/s */		\
	X(LINK_DUPLEX,		U8,	1, 0, 1)	/* 1 = full */		\
	X(IFNAME,		STRING,	16, 0, 0)				\
	X(STAT_RX_PACKETS,	U64,	8, 0, 0)				\
	X(STAT_TX_PACKETS,	U64,	8, 0, 0)				\
	X(STAT_RX_BYTES,	U64,	8, 0, 0)				\
	X(STAT_TX_BYTES,	U64,	8, 0, 0)				\
	X(STAT_RX_ERRORS,	U64,	8, 0, 0)				\
	X(STAT_TX_ERRORS,	U64,	8, 0, 0)				\
	X(STAT_RX_DROPPED,	U64,	8, 0, 0)				\
	X(STAT_MULTICAST,	U64,	8, 0, 0)				\
	/* data-path counters kept by the nucleus */			\
	X(FRAMES_PLAYED,	U64,	8, 0, 0)				\
	X(PERIODS,		U64,	8, 0, 0)				\
	X(UNDERRUNS,		U64,	8, 0, 0)				\
	X(DATAPATH_ON,		U8,	1, 0, 1)				\
	X(REG_DUMP,		BINARY,	4096, 0, 0)	/* BAR snapshot */	\
	/* errors (extack-like) */					\
	X(ERR_ATTR,		U16,	2, 0, 0)	/* offending attribute id */ \
	X(ERR_MSG,		STRING,	128, 0, 0)				\
	/* sim workload control */					\
	X(SIM_ACTION,		U8,	1, 1, 9)	/* enum drvxpc_sim_action */ \
	X(CLIENT_ERRORS,	U64,	8, 0, 0)				\
	/* raw register views for status */				\
	X(CODEC_MASTER,		U16,	2, 0, 0)	/* master volume reg */	\
	X(RX_CONFIG,		U32,	4, 0, 0)	/* RTL8139 RxConfig */	\
	X(MC_FILTER,		U64,	8, 0, 0)	/* 64-bit hash filter */ \
	X(GLITCHES,		U64,	8, 0, 0)	/* audio discontinuities */ \
	X(STAT_FILTERED,	U64,	8, 0, 0)	/* frames the filter dropped */ \
	X(STAT_ECHOED,		U64,	8, 0, 0)	/* sim client: replies seen */ \
	/* measurements */						\
	X(COUNT,		U32,	4, 1, 2048)			\
	X(SAMPLES_NS,		BINARY,	8192, 0, 0)	/* __u32 per sample */ \
	/* fault injection */						\
	X(FAULT_KIND,		U8,	1, 1, 11)	/* enum drvxpc_fault */ \
	/* sandbox */							\
	X(SYSCALL_NAME,		STRING,	32, 0, 0)	/* one per allowed call */ \
	/* what crossed the kernel <-> daemon hop for an instance */	\
	X(XPC_BYTES,		U64,	8, 0, 0)	/* drvxpc bytes, both ways */ \
	X(XPC_MESSAGES,		U64,	8, 0, 0)				\
	/* the ComboLock: downcalls that held it, data-path deferrals */ \
	X(COMBO_USER_HOLDS,	U64,	8, 0, 0)				\
	X(COMBO_DEFERRALS,	U64,	8, 0, 0)				\
	X(XPC_REGIO_BYTES,	U64,	8, 0, 0)	/* of XPC_BYTES: register I/O */ \
	X(REG_STEPS,		BINARY,	4096, 0, 0)	/* packed REG_SEQ */ \
	/* DriverSlicer's generated marshaling (driverslicer --generate): the \
	 * crossing fields of one struct, each by its id in the generated	\
	 * table, its value in the struct's own layout (little-endian). */	\
	X(SLICE_STRUCT,		NESTED,	16384, 0, 0)	/* STRUCT_ID + FIELDs */ \
	X(SLICE_STRUCT_ID,	U16,	2, 0, 0)				\
	X(SLICE_FIELD,		NESTED,	4112, 0, 0)	/* FIELD_ID + VALUE */	\
	X(SLICE_FIELD_ID,	U16,	2, 0, 0)				\
	X(SLICE_FIELD_VALUE,	BINARY,	4096, 0, 0)			\
	/* a NIC's multicast hash table read back from the chip, as a	\
	 * little-endian bitmap: bit n set = hash value n accepted */	\
	X(MC_HASH,		BINARY,	512, 0, 0)				\
	/* REG_WRITE_DMA: write the bus address shifted right by this many \
	 * bits (a 16-bit register taking the upper half: 16) */	\
	X(DMA_SHIFT,		U8,	1, 0, 31)				\
	/* sim client: frames it handed to start_xmit (with		\
	 * STAT_ECHOED: frames lost = sent - echoed once drained) */	\
	X(STAT_CLIENT_SENT,	U64,	8, 0, 0)				\
	/* the nucleus's id of an upcall, passed on to the u-driver: a	\
	 * nucleus redelivers what a dead daemon left unanswered, and	\
	 * the u-driver answers an id it has served from its cache */	\
	X(UPCALL_ID,		U32,	4, 0, 0)				\
	/* the daemon's id of a downcall: the u-driver's pid << 32 | its \
	 * seq.  The nucleus keeps the replies to the last		\
	 * DRVXPC_ANSWERS_KEPT ids per device and answers a repeat from	\
	 * them: a u-driver sends what a dead daemon left unanswered	\
	 * again, and it takes effect once.  0 = not kept */		\
	X(CALL_ID,		U64,	8, 0, 0)				\
	/* HELLO's reply: the u-driver's build, the GNU build-id of its	\
	 * executable in hex ("" when it has none) */			\
	X(BUILD_ID,		STRING,	64, 0, 0)				\
	/* the bus a device is on (absent: PCI), and a serio port's	\
	 * identity: its type and protocol (SERIO_8042 = 0x01 is the	\
	 * i8042's AUX port) and the kernel's name of the port */	\
	X(BUS,			U8,	1, 1, 2)	/* enum drvxpc_bus */	\
	X(SERIO_TYPE,		U8,	1, 0, 0)				\
	X(SERIO_PROTO,		U8,	1, 0, 0)				\
	X(SERIO_PORT,		STRING,	32, 0, 0)	/* "serio1" */		\
	/* input: a PS/2 mouse */					\
	X(INPUT_PROTOCOL,	U8,	1, 1, 3)	/* enum drvxpc_mouse_proto */ \
	X(INPUT_NAME,		STRING,	64, 0, 0)				\
	X(PS2_CMD,		U16,	2, 0, 0)	/* libps2's encoding */	\
	X(PS2_PARAM,		BINARY,	8, 0, 0)	/* bytes out, then in */ \
	X(MOUSE_RATE,		U8,	1, 10, 200)	/* reports a second */	\
	X(MOUSE_RESOLUTION,	U8,	1, 0, 3)	/* 1 << n counts/mm */	\
	X(MOUSE_SCALING,	U8,	1, 1, 2)	/* 1:1 or 2:1 */	\
	X(INPUT_PACKETS,	U64,	8, 0, 0)	/* reported */		\
	X(INPUT_RESYNCS,	U64,	8, 0, 0)	/* bytes dropped to resync */ \
	X(INPUT_LOST,		U64,	8, 0, 0)	/* sim client: gaps seen */ \
	X(INPUT_COMMANDS,	U64,	8, 0, 0)	/* PS/2 commands run */	\
	X(INPUT_RESETS,		U64,	8, 0, 0)	/* of them, RESET_BAT */ \
	/* usb-host: a root-hub request (hub_control's arguments: the	\
	 * request is bmRequestType << 8 | bRequest), its data in and	\
	 * out, the ports whose status changed (bit n = port n, as	\
	 * hub_status_data writes them), the controller's state */	\
	X(USB_REQUEST,		U16,	2, 0, 0)				\
	X(USB_VALUE,		U16,	2, 0, 0)				\
	X(USB_INDEX,		U16,	2, 0, 0)				\
	X(USB_LENGTH,		U16,	2, 0, 64)				\
	X(USB_DATA,		BINARY,	64, 0, 0)				\
	X(USB_PORT_CHANGES,	U32,	4, 0, 0xfe)	/* ports 1..7 */	\
	X(USB_PORTS,		U8,	1, 1, 7)				\
	X(USB_HC_STATE,		U8,	1, 1, 2)	/* enum drvxpc_usb_hc_state */ \
	X(USB_FSBR,		U8,	1, 0, 2)	/* enum drvxpc_usb_fsbr */ \
	X(USB_BUS_NAME,		STRING,	16, 0, 0)	/* "usb3" */		\
	X(USB_ADDRESSES,	BINARY,	16, 0, 0)	/* bit n: address n in use */ \
	X(USB_URBS,		U64,	8, 0, 0)	/* given back */	\
	X(USB_URB_ERRORS,	U64,	8, 0, 0)	/* of them, with an error */ \
	X(USB_BYTES,		U64,	8, 0, 0)	/* moved by them */	\
	X(USB_HC_ERRORS,	U64,	8, 0, 0)	/* host system/process errors */ \
	X(USB_PORT_POLLS,	U64,	8, 0, 0)	/* hub_status_data calls */ \
	/* the root hub's state only the u-driver knows (UHCI keeps no	\
	 * reset-change bit): ports whose reset ended and whose		\
	 * C_PORT_RESET the hub driver has not cleared, ports it	\
	 * suspended */							\
	X(USB_RESET_CHANGES,	U32,	4, 0, 0xfe)				\
	X(USB_SUSPENDED,	U32,	4, 0, 0xfe)				\
	/* input: psmouse's resync_time, the idle check: the first	\
	 * byte after this many seconds without one has the u-driver	\
	 * check the mouse is still as it was told (0: never); a check	\
	 * asked for, or a stream the u-driver paused (PS2_COMMAND	\
	 * DISABLE with it set), not yet ended by its ENABLE; the	\
	 * idle checks asked for */					\
	X(MOUSE_RESYNC_TIME,	U16,	2, 0, 3600)	/* seconds */		\
	X(INPUT_CHECK_PENDING,	U8,	1, 0, 1)				\
	X(INPUT_IDLE_CHECKS,	U64,	8, 0, 0)				\
	/* usb-host: whether the FSBR loop is linked now, and how often	\
	 * it was linked */						\
	X(USB_FSBR_ACTIVE,	U8,	1, 0, 1)				\
	X(USB_FSBR_ONS,		U64,	8, 0, 0)				\
	/* a sliced driver's call across the split (module/slice_core.c):	\
	 * the entry's id (NAME-slice.h); each object the message names,	\
	 * once (HANDLE, SIZE, SLICE_STRUCT_ID, and an ARG: where it	\
	 * lies in a larger object); each argument's value in order (a	\
	 * pointer: u64 handle, u32 offset); the result.  A SLICE_STRUCT	\
	 * names where its struct is with an ARG (a pointer). */		\
	X(SLICE_ENTRY,		U16,	2, 1, 0xfffe)				\
	/* 512: the attributes and up to DRVSLICE_CONTENT_MAX (256) bytes	\
	 * of content (a FIELD_VALUE) */					\
	X(SLICE_OBJECT,		NESTED,	512, 0, 0)	/* HANDLE, SIZE, STRUCT_ID, ARG */ \
	X(SLICE_HANDLE,		U64,	8, 0, 0)				\
	X(SLICE_SIZE,		U32,	4, 0, 0x1000000)	/* 0: opaque */ \
	/* 4096: an A_INOUT buffer (DRVSLICE_INOUT_MAX); slice_core.c	\
	 * holds each kind of argument to its own bound */		\
	X(SLICE_ARG,		BINARY,	4096, 0, 0)				\
	X(SLICE_RET,		BINARY,	64, 0, 0)				\
	/* a sliced driver's call or reply: the handle of an object the	\
	 * sender untracked since its last message (a DMA buffer freed);	\
	 * the receiver drops its copy of it and the copies inside */	\
	X(SLICE_DROP,		U64,	8, 0, 0)

#define __DRVXPC_ENUM_ATTR(name, kind, max, lo, hi)	DRVXPC_A_##name,
enum drvxpc_attr_id {
	DRVXPC_A_UNSPEC = 0,
	DRVXPC_ATTRS(__DRVXPC_ENUM_ATTR)
	__DRVXPC_A_COUNT
};
#define DRVXPC_A_MAX	(__DRVXPC_A_COUNT - 1)

/* DRVXPC_A_REG_OP_KIND */
enum drvxpc_regop {
	DRVXPC_REGOP_READ = 1,	/* result: value */
	DRVXPC_REGOP_WRITE = 2,
	DRVXPC_REGOP_POLL = 3,	/* until (v & MASK) == VALUE or DELAY_US; result: v */
	DRVXPC_REGOP_DELAY = 4,	/* DELAY_US, at most DRVXPC_DELAY_MAX_US */
};
#define DRVXPC_DELAY_MAX_US	100000
#define DRVXPC_SEQ_MAX_OPS	512
/* A sequence's DELAYs together: a sequence that touches a data-path
 * register holds the ComboLock from its first step to its last, and the
 * data path waits that long.  A POLL that times out ends its sequence. */
#define DRVXPC_SEQ_MAX_DELAY_US	20000

/*
 * DRVXPC_A_REG_STEPS: the compact form of a REG_SEQ, one 8-byte slot per
 * step (a nested REG_OP costs 28-36 bytes).  A POLL takes two slots: the
 * second one's value is the mask.  A DELAY's value is its microseconds.
 * BARs past 64 KiB need the nested form.
 */
struct drvxpc_regstep {
	__u8	kind;		/* enum drvxpc_regop */
	__u8	width;		/* 1, 2 or 4; 0 for DELAY */
	__u16	offset;		/* in the BAR */
	__u32	value;		/* WRITE: value; POLL: wanted value; DELAY: us */
};

/* DRVXPC_A_OBJECT_KIND */
enum drvxpc_object {
	DRVXPC_OBJ_DMA = 1,
	DRVXPC_OBJ_CARD = 2,
	DRVXPC_OBJ_NETDEV = 3,
};

/* DRVXPC_A_OBJECT_ROLE: what a DMA buffer is for, so the nucleus uses it. */
enum drvxpc_role {
	DRVXPC_ROLE_NONE = 0,
	DRVXPC_ROLE_PCM_PLAYBACK = 1,
	DRVXPC_ROLE_RX_RING = 2,
	DRVXPC_ROLE_TX_BUFFERS = 3,
	DRVXPC_ROLE_TX_RING = 4,	/* transmit descriptors */
	DRVXPC_ROLE_RX_BUFFERS = 5,	/* receive buffers behind RX_RING */
	DRVXPC_ROLE_INIT_BLOCK = 6,	/* a chip's initialisation block */
	DRVXPC_ROLE_FRAME_LIST = 7,	/* a USB host's schedule (the nucleus's) */
};

/* DRVXPC_A_MIXER_CONTROL */
enum drvxpc_mixer {
	DRVXPC_MIXER_MASTER = 1,
	DRVXPC_MIXER_PCM = 2,
	DRVXPC_MIXER_MASTER_MUTE = 3,
};

/* DRVXPC_A_RX_FLAGS, same meaning as IFF_PROMISC / IFF_ALLMULTI */
#define DRVXPC_RX_PROMISC	0x1
#define DRVXPC_RX_ALLMULTI	0x2
#define DRVXPC_RX_ALL		0x3

/* DRVXPC_A_FAULT_KIND: what an INJECT asks the u-driver runtime to do */
enum drvxpc_fault {
	DRVXPC_FAULT_CRASH = 1,		/* SIGSEGV */
	DRVXPC_FAULT_ABORT = 2,		/* abort(): SIGABRT */
	DRVXPC_FAULT_HANG = 3,		/* stop serving, no CPU */
	DRVXPC_FAULT_SLOW = 4,		/* next upcall answers late */
	DRVXPC_FAULT_BAD_PARAM = 5,	/* next downcall outside the BAR */
	DRVXPC_FAULT_GARBAGE = 6,	/* a malformed message */
	DRVXPC_FAULT_MEMORY = 7,	/* allocate until RLIMIT_AS, then abort */
	DRVXPC_FAULT_SYSCALL = 8,	/* socket(AF_INET): outside the sandbox */
	DRVXPC_FAULT_FORK_BOMB = 9,	/* fork in a loop (bounded to 64) */
	DRVXPC_FAULT_FLOOD = 10,	/* downcalls as fast as the socket takes */
	DRVXPC_FAULT_LOST_WRITE = 11,	/* next setter acknowledged, not run */
};

/* DRVXPC_A_SIM_ACTION: what a sim workload client should do */
enum drvxpc_sim_action {
	DRVXPC_SIM_SET_RATE = 1,	/* PCM_RATE */
	DRVXPC_SIM_SET_RX_MODE = 2,	/* RX_FLAGS, MC_LIST */
	DRVXPC_SIM_SET_MAC = 3,		/* MAC */
	DRVXPC_SIM_PING = 4,		/* COUNT null upcalls; SAMPLES_NS back
					 * (drvnucleus.ko serves this one too) */
	DRVXPC_SIM_TRAFFIC = 5,		/* DATAPATH_ON: the network client
					 * sends (1) or stops sending (0) */
	DRVXPC_SIM_MIXER_PUT = 6,	/* MIXER_CONTROL, MIXER_VALUE: the
					 * sound client's `amixer cset` */
	DRVXPC_SIM_LOSE_REPLY = 7,	/* COUNT: the instance's COUNTth next
					 * downcall runs, and its reply is not
					 * sent, as if the daemon that asked
					 * had died first (tests) */
	DRVXPC_SIM_POKE = 8,		/* REG_OFFSET, REG_WIDTH, REG_VALUE:
					 * a register written behind the
					 * driver's back, as by a wedged chip
					 * or a stray DMA (tests) */
	DRVXPC_SIM_WEDGE = 9,		/* the PCI function stops decoding
					 * its BAR and mastering the bus, as
					 * after `setpci COMMAND=0`, until
					 * DEVICE_READD (tests) */
};

/*
 * Operations: X(NAME, value).  Ranges tell the direction:
 *   1..31     control      daemon <-> u-driver (PING also nucleus ->
 *                          u-driver, as a null upcall; TAKEOVER: a new
 *                          daemon holds the channel, the u-driver sends
 *                          its unanswered downcalls again)
 *   32..63    management   daemon <-> nucleus (UNREGISTER: the daemon
 *                          stops on purpose; one whose socket closes
 *                          without it died, and the nucleus expects the
 *                          next one: upcalls made meanwhile wait for it;
 *                          RESYNC_CLIENTS: after a u-driver started
 *                          afresh under the device's clients, the nucleus
 *                          makes again the upcalls their state implies:
 *                          for an interface that is up, NET_OPEN and
 *                          NET_SET_RX_MODE, which the kernel makes only on
 *                          the way up)
 *   64..127   upcalls      nucleus -> daemon -> u-driver
 *   128..191  downcalls    u-driver -> daemon -> nucleus
 */
#define DRVXPC_OPS(X)				\
	X(HELLO,		1)		\
	X(PING,			2)		\
	X(SHUTDOWN,		3)		\
	X(INJECT,		4)		\
	X(SANDBOX,		5)		\
	X(TAKEOVER,		6)		\
	X(REGISTER,		32)		\
	X(DEVICE_ADD,		33)		\
	X(DEVICE_INFO,		34)		\
	X(SIM_CONTROL,		35)		\
	X(QUIESCE,		36)		\
	X(DEVICE_READD,		37)		\
	X(UNREGISTER,		38)		\
	X(RESYNC_CLIENTS,	39)		\
	X(PROBE,		64)		\
	X(REMOVE,		65)		\
	X(SND_OPEN,		80)		\
	X(SND_CLOSE,		81)		\
	X(SND_HW_PARAMS,	82)		\
	X(SND_PREPARE,		83)		\
	X(SND_MIXER_GET,	84)		\
	X(SND_MIXER_PUT,	85)		\
	X(NET_OPEN,		96)		\
	X(NET_STOP,		97)		\
	X(NET_SET_RX_MODE,	98)		\
	X(NET_SET_MAC,		99)		\
	X(NET_GET_LINK,		100)		\
	X(NET_GET_STATS,	101)		\
	X(NET_WATCHDOG,		102)		\
	X(NET_TX_TIMEOUT,	103)		\
	X(INPUT_SET,		112)		\
	X(INPUT_RESYNC,		113)		\
	X(USB_HUB_CONTROL,	114)		\
	X(USB_HC_ERROR,		115)		\
	X(USB_HC_SET,		116)		\
	X(SLICE_UPCALL,		117)		\
	X(REG_READ,		128)		\
	X(REG_WRITE,		129)		\
	X(REG_SEQ,		130)		\
	X(DMA_ALLOC,		131)		\
	X(DMA_FREE,		132)		\
	X(REG_WRITE_DMA,	133)		\
	X(DATAPATH_ENABLE,	134)		\
	X(DATAPATH_DISABLE,	135)		\
	X(SND_REGISTER,		136)		\
	X(NET_REGISTER,		137)		\
	X(NET_CARRIER,		138)		\
	X(INPUT_REGISTER,	139)		\
	X(PS2_COMMAND,		140)		\
	X(USB_SCHEDULE,		141)		\
	X(USB_REGISTER,		142)		\
	X(USB_PORT_CHANGE,	143)		\
	X(USB_SET,		144)		\
	X(INPUT_RESYNC_TIME,	145)		\
	X(SLICE_DOWNCALL,	146)		\
	X(SLICE_PROBE,		147)

#define __DRVXPC_ENUM_OP(name, value)	DRVXPC_OP_##name = value,
enum drvxpc_op {
	DRVXPC_OP_UNSPEC = 0,
	DRVXPC_OPS(__DRVXPC_ENUM_OP)
};

/*
 * How long the nucleus may take to answer a downcall, in milliseconds:
 * DRVXPC_DOWNCALL_MS, but for the ops DRVXPC_SLOW_DOWNCALLS lists, whose
 * work in the kernel has a longer bound of its own.  drivermgrd's deadline
 * for a downcall it forwards and the u-driver runtime's are both taken
 * from here (the runtime's a little longer, so that the daemon's answer
 * to a downcall that ran out reaches the driver first).
 *   PS2_COMMAND  libps2's ps2_command(): a RESET_BAT's command byte is
 *                sent twice at most, each waiting 1000 ms for its ACK,
 *                then the BAT is waited for 4000 ms; any other command
 *                is done within 200 ms a byte, twice, and 500 ms for the
 *                answer (drivers/input/serio/libps2.c, __ps2_command).
 */
#define DRVXPC_DOWNCALL_MS	2000
#define DRVXPC_SLOW_DOWNCALLS(X)		\
	X(PS2_COMMAND,		6500)

static inline unsigned int drvxpc_downcall_ms(unsigned int op)
{
	switch (op) {
#define __DRVXPC_SLOW_CASE(name, ms)	case DRVXPC_OP_##name: return ms;
	DRVXPC_SLOW_DOWNCALLS(__DRVXPC_SLOW_CASE)
#undef __DRVXPC_SLOW_CASE
	default:
		return DRVXPC_DOWNCALL_MS;
	}
}

#define DRVXPC_OP_IS_CONTROL(op)	((op) >= 1 && (op) <= 31)
#define DRVXPC_OP_IS_MGMT(op)		((op) >= 32 && (op) <= 63)
#define DRVXPC_OP_IS_UPCALL(op)		((op) >= 64 && (op) <= 127)
#define DRVXPC_OP_IS_DOWNCALL(op)	((op) >= 128 && (op) <= 191)

/* Kind of attribute @id, or -1 if @id is unknown. */
static inline int drvxpc_attr_kind(unsigned int id)
{
	switch (id) {
#define __DRVXPC_KIND_CASE(name, kind, max, lo, hi) \
	case DRVXPC_A_##name: return DRVXPC_K_##kind;
	DRVXPC_ATTRS(__DRVXPC_KIND_CASE)
#undef __DRVXPC_KIND_CASE
	default: return -1;
	}
}

/* Largest payload of attribute @id, or 0 if @id is unknown. */
static inline unsigned int drvxpc_attr_max(unsigned int id)
{
	switch (id) {
#define __DRVXPC_MAX_CASE(name, kind, max, lo, hi) \
	case DRVXPC_A_##name: return max;
	DRVXPC_ATTRS(__DRVXPC_MAX_CASE)
#undef __DRVXPC_MAX_CASE
	default: return 0;
	}
}

/*
 * Bounds of integer attribute @id: returns 1 and fills @lo/@hi when the
 * value is bounded, 0 when it is not (or @id is unknown).
 */
static inline int drvxpc_attr_range(unsigned int id, __u64 *lo, __u64 *hi)
{
	switch (id) {
#define __DRVXPC_RANGE_CASE(name, kind, max, l, h) \
	case DRVXPC_A_##name: *lo = (l); *hi = (h); return (h) != 0;
	DRVXPC_ATTRS(__DRVXPC_RANGE_CASE)
#undef __DRVXPC_RANGE_CASE
	default: return 0;
	}
}

/* Name of attribute @id ("PCM_RATE"), or NULL if unknown. */
static inline const char *drvxpc_attr_name(unsigned int id)
{
	switch (id) {
#define __DRVXPC_ANAME_CASE(name, kind, max, lo, hi) \
	case DRVXPC_A_##name: return #name;
	DRVXPC_ATTRS(__DRVXPC_ANAME_CASE)
#undef __DRVXPC_ANAME_CASE
	default: return (const char *)0;
	}
}

/* Name of operation @op ("SND_HW_PARAMS"), or NULL if unknown. */
static inline const char *drvxpc_op_name(unsigned int op)
{
	switch (op) {
#define __DRVXPC_ONAME_CASE(name, value) \
	case DRVXPC_OP_##name: return #name;
	DRVXPC_OPS(__DRVXPC_ONAME_CASE)
#undef __DRVXPC_ONAME_CASE
	default: return (const char *)0;
	}
}

#endif /* _UAPI_DRVXPC_H */
