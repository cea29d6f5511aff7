/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drvnucleus.h - how drvnucleus.ko is put together.
 *
 * runtime.c is the generic part: the genetlink family, upcalls with
 * deadlines, the object tracker, register I/O checked against the BAR, the
 * PCI core and the ComboLock glue.  It never names a chip or a class.
 *
 * A device class (net.c for network, es1370.c for sound) is a struct
 * drvnucleus_class: the downcalls of its class (NET_REGISTER, SND_REGISTER,
 * DATAPATH_*), what DEVICE_INFO adds, QUIESCE, the ComboLock release and
 * removal.  A chip (rtl8139.c, e1000.c, ...) is a struct drvnucleus_chip:
 * its BAR, the registers its data path owns, its register read-back for
 * DEVICE_INFO, and the class-specific data-path hooks (for a NIC, a struct
 * drvnucleus_net_ops in net.h).  chips.c holds the PCI id table, one line
 * per id, each pointing at its chip.
 *
 * Adding a chip to an existing class: module/CHIP.c ending in its
 * struct drvnucleus_chip, a line in Kbuild and the id lines in chips.c.
 */
#ifndef _DRVNUCLEUS_H
#define _DRVNUCLEUS_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <net/genetlink.h>

#include <uapi/drvxpc.h>

#include "combolock.h"

/*
 * A DMA buffer a u-driver (or the nucleus, for ALSA's PCM buffer) asked
 * for; the nucleus owns it and it outlives the u-driver, so a restarted
 * one is handed the same id.  @pinned: a data path uses it, DMA_FREE is
 * refused.
 */
struct drvnucleus_obj {
	struct list_head node;
	u32 id;
	u8 role;
	bool pinned;
	u32 size;
	void *cpu;
	dma_addr_t dma;
};

struct drvnucleus_dev;
struct drvnucleus_net_ops;
struct serio;

/*
 * A bus other than PCI (the runtime's own): its driver, registered at load,
 * binds devices and adds them with drvnucleus_dev_attach(); put_identity
 * writes what DEVICE_ADD and DEVICE_INFO say of a device (DRVXPC_A_BUS and
 * the bus's attributes).  The buses are listed in chips.c.
 */
struct drvnucleus_bus {
	const char *name;
	int (*register_driver)(void);
	void (*unregister_driver)(void);
	int (*put_identity)(struct sk_buff *skb, struct drvnucleus_dev *d);
};

/*
 * A device class: what the runtime calls for the ops it does not serve
 * itself.  Every hook is called with the device's own lock (d->lock)
 * held unless noted, never with drvnucleus_lock.
 */
struct drvnucleus_class {
	/* "net", "sound": for messages. */
	const char *name;
	/* DRVXPC_CLASS_*: announced with DEVICE_ADD. */
	u8 id;
	/*
	 * A downcall the runtime does not serve (NET_REGISTER, DATAPATH_*,
	 * SND_REGISTER, ...): must answer it, with drvnucleus_reply() or
	 * drvnucleus_reply_new()/_send().
	 */
	int (*op)(struct genl_info *info, const struct drvxpc_hdr *h,
		  struct drvnucleus_dev *d);
	/* DEVICE_INFO: the class's own state (interface, counters). */
	int (*info)(struct sk_buff *skb, struct drvnucleus_dev *d);
	/* QUIESCE: stop the data path; the interfaces stay registered. */
	void (*quiesce)(struct drvnucleus_dev *d);
	/* DEVICE_READD: stop the data path with its clients held, for the
	 * next u-driver to release (NULL: quiesce). */
	void (*hold)(struct drvnucleus_dev *d);
	/* The ComboLock's release (process context, no lock of ours):
	 * redo what the data path deferred (COMBO_DEFER_*). */
	void (*release)(struct drvnucleus_dev *d, unsigned long deferred);
	/* The device is out of the table: no downcall reaches it any more.
	 * Tear down what the class registered, before the objects go. */
	void (*remove)(struct drvnucleus_dev *d);
};

/*
 * A chip: one per file, named by chips.c's id table, never by the runtime.
 */
struct drvnucleus_chip {
	/* "RTL8139": for messages. */
	const char *name;
	const struct drvnucleus_class *cls;
	/* The BAR the u-driver's registers are in; BAR 0 if it is absent. */
	u8 bar;
	/* Bits of bus address the chip's DMA engines take (0: 32). */
	u8 dma_bits;
	/*
	 * Whether [off, off + width) touches a register the data path
	 * writes: a downcall that does holds the ComboLock in user mode.
	 * NULL: none does.
	 */
	bool (*datapath_reg)(const struct drvnucleus_dev *d, u32 off, u32 width);
	/*
	 * After a downcall wrote @value to [off, off + width) of a data-path
	 * register, the ComboLock still held in user mode: bring the data
	 * path's view of the chip up to date (QEMU's RTL8139 rewinds its rx
	 * ring on an RxConfig write), or keep a copy of a write-only register
	 * for DEVICE_INFO.  May be NULL.
	 */
	void (*reg_written)(struct drvnucleus_dev *d, u32 off, u32 width,
			    u32 value);
	/*
	 * Before a downcall writes @value to [off, off + width): REG_WRITE,
	 * each write step of a REG_SEQ as it comes (a step before it may
	 * have moved an index register), and REG_WRITE_DMA with @dma set
	 * (@value a bus address the nucleus made).  Called with the locks
	 * the write takes.  0, or a negative errno and *why: the write does
	 * not happen.  Without an IOMMU the chip's DMA goes wherever its
	 * registers say, so a register that holds a bus address takes
	 * REG_WRITE_DMA's only, and a field that sizes a transfer must fit
	 * the buffer it is for.  NULL: the chip masters no DMA.
	 */
	int (*write_check)(struct drvnucleus_dev *d, u32 off, u32 width,
			   u32 value, bool dma, const char **why);
	/*
	 * After a downcall's writes to the data path's registers (a
	 * REG_WRITE, a whole REG_SEQ, refused or not), the ComboLock still
	 * held in user mode: a state the chip may pass through inside one
	 * downcall but not be left in while the data path runs (PCnet's
	 * CSR5 suspend).  The hook puts the chip back, so the data path moves
	 * on at once, and returns a negative errno and *why: the downcall is
	 * refused (for drivermgrd a bad-parameter failure of the u-driver).
	 * 0: nothing to undo.  May be NULL.
	 */
	int (*writes_done)(struct drvnucleus_dev *d, const char **why);
	/* DEVICE_INFO: what the u-driver programmed, read back from the
	 * chip's registers (MAC, receive filter, rate...).  May be NULL. */
	int (*info)(struct sk_buff *skb, struct drvnucleus_dev *d);
	/* The class-specific data path: set for chips of the net class. */
	const struct drvnucleus_net_ops *net;
};

/* The reply to one downcall, kept by its CALL_ID (see DRVXPC_A_CALL_ID). */
struct drvnucleus_answer {
	u64 id;			/* 0: empty */
	u16 op;
	u32 len;		/* of @msg: drvxpc header and attributes */
	void *msg;
};

struct drvnucleus_dev {
	/* A PCI function, or NULL on another bus (@bus, @serio). */
	struct pci_dev *pdev;
	const struct drvnucleus_bus *bus;
	struct serio *serio;
	/* The bus device, for messages. */
	struct device *dev;
	const struct drvnucleus_chip *chip;
	void __iomem *bar;
	u32 bar_len;
	u32 instance;
	/*
	 * This device's downcalls, one at a time, and what they touch: the
	 * objects, the kept answers, the class's state.  Taken after the
	 * table look-up, with drvnucleus_lock already given up, so a
	 * downcall that sleeps (a PS/2 command waiting for the mouse, a
	 * chip's reset) holds up its own device only.
	 */
	struct mutex lock;
	/* Downcalls between their look-up and their end: detach waits for
	 * none to be left before the device goes. */
	atomic_t users;
	wait_queue_head_t users_gone;
	bool gone;			/* out of the table; under @lock */
	struct list_head objects;	/* under @lock */
	struct combolock cl;		/* registers the data path shares */
	void *cls_priv;			/* the class's state, its own to set */
	/* Replies to the last downcalls, under @answers_lock (taken after
	 * @lock, or alone: a sliced driver's calls are served without
	 * @lock). */
	struct mutex answers_lock;
	struct drvnucleus_answer answers[DRVXPC_ANSWERS_KEPT];
	unsigned int next_answer;
	unsigned int readds;		/* DEVICE_READDs served */
};

/* The buses besides PCI (chips.c), NULL-terminated. */
extern const struct drvnucleus_bus *const drvnucleus_buses[];

/*
 * A device of another bus joins (an instance number, DEVICE_ADD to the
 * daemon) and leaves (out of the table, the class's remove, its objects
 * and kept answers freed).  @d: chip, dev, bus and the bus's fields set.
 * Process context, drvnucleus_lock not held.
 */
int drvnucleus_dev_attach(struct drvnucleus_dev *d);
void drvnucleus_dev_detach(struct drvnucleus_dev *d);

/* The id table (chips.c); driver_data points at the chip. */
extern const struct pci_device_id drvnucleus_ids[];
const struct drvnucleus_chip *drvnucleus_chip_of(struct pci_dev *pdev);

/* The device table and the registered daemon (not a device's own state:
 * that is under d->lock). */
extern struct mutex drvnucleus_lock;

/* Object tracker; call with d->lock held. */
struct drvnucleus_obj *drvnucleus_obj_alloc(struct drvnucleus_dev *d, u32 size,
					    u8 role);
void drvnucleus_obj_free(struct drvnucleus_dev *d, struct drvnucleus_obj *o);
/*
 * A chip's data path moves from @old to @cur (either may be NULL; call with
 * d->cl held): @cur is pinned, @old no longer is, unless it is @cur.  An
 * object a later DATAPATH_ENABLE replaced is the u-driver's to free again.
 */
void drvnucleus_obj_repin(struct drvnucleus_obj *old, struct drvnucleus_obj *cur);
/* The newest object of @role at least @min bytes long, or NULL. */
struct drvnucleus_obj *drvnucleus_obj_by_role(struct drvnucleus_dev *d, u8 role,
					      u32 min);

/* Whether [off, off + width) overlaps the register [reg, reg + len). */
static inline bool drvnucleus_touches(u32 off, u32 width, u32 reg, u32 len)
{
	return off < reg + len && off + width > reg;
}

/*
 * What the 32-bit register at @reg holds after a write of @width bytes of
 * @value at @off (inside it): the other bytes as the chip holds them now.
 */
u32 drvnucleus_merged(struct drvnucleus_dev *d, u32 reg, u32 off, u32 width,
		      u32 value);

/* The largest DMA object of the device (any role: -1), or of @role. */
u32 drvnucleus_obj_largest(struct drvnucleus_dev *d, int role);

/*
 * The bytes from bus address @addr to the end of the device's DMA object
 * that holds it; 0 if none does (the chip would DMA outside what the
 * nucleus gave the device).
 */
u32 drvnucleus_dma_room(struct drvnucleus_dev *d, u32 addr);

/* A plain reply to a downcall: status, optional offending attribute and
 * message. */
int drvnucleus_reply(struct genl_info *info, const struct drvxpc_hdr *req,
		     s32 status, u16 bad_attr, const char *why);
/* A successful reply with attributes: _new() starts it (NULL: no memory),
 * the caller adds attributes, _send() sends it. */
struct sk_buff *drvnucleus_reply_new(struct genl_info *info,
				     const struct drvxpc_hdr *req,
				     struct drvxpc_hdr **hdr);
int drvnucleus_reply_send(struct genl_info *info, struct sk_buff *skb,
			  struct drvxpc_hdr *hdr);
const struct nlattr *drvnucleus_attr(const struct drvxpc_hdr *h, u16 type);

/*
 * Synchronous upcalls, for callers in process context that may sleep and
 * hold neither rtnl nor a spinlock: drvnucleus_upcall_new() starts the
 * message (NULL: no daemon registered, or no memory), the caller adds
 * attributes, drvnucleus_upcall_wait() sends it and waits at most the
 * upcall deadline.  Returns the u-driver's status, or -EAGAIN when no
 * daemon is registered or the deadline passes: the nucleus then keeps its
 * last configuration.  If the daemon dies with the upcall unanswered, the
 * next daemon to register gets it again (same seq) and the deadline starts
 * anew.  @value (may be NULL) gets a MIXER_VALUE from the reply.
 */
struct sk_buff *drvnucleus_upcall_new(struct drvnucleus_dev *d, u16 op,
				      struct drvxpc_hdr **hdr);
int drvnucleus_upcall_wait(struct sk_buff *skb, struct drvxpc_hdr *hdr,
			   u32 *value);
/*
 * The same, for a reply that carries bytes: the reply's DRVXPC_A_USB_DATA
 * is copied to @data (at most @data_max bytes; *@data_len says how many).
 */
int drvnucleus_upcall_wait_data(struct sk_buff *skb, struct drvxpc_hdr *hdr,
				u32 *value, void *data, u16 data_max,
				u16 *data_len);
/*
 * An upcall sent and not waited for (callers under rtnl, or work items):
 * @fill (may be NULL) adds the attributes; its reply is only logged.  It is
 * kept until answered (at most async_upcall_keep_ms): made while no daemon
 * is registered, or left unanswered by one that died, it goes to the next.
 * Before any daemon registered: nothing happens.
 */
/* An upcall with room for @size bytes of attributes past a page. */
struct sk_buff *drvnucleus_upcall_new_sized(struct drvnucleus_dev *d, u16 op,
					    size_t size,
					    struct drvxpc_hdr **hdr);
/* Send and wait; the reply's attributes (all of them, as they came) go to
 * @buf, at most @max bytes (-EMSGSIZE if more), their length to *@len. */
int drvnucleus_upcall_wait_attrs(struct sk_buff *skb, struct drvxpc_hdr *hdr,
				 void *buf, u32 max, u32 *len);
struct sk_buff *drvnucleus_reply_new_sized(struct genl_info *info,
					   const struct drvxpc_hdr *req,
					   size_t size,
					   struct drvxpc_hdr **hdr);
/*
 * A downcall with a CALL_ID whose reply is to be kept: its genl_info's
 * user_ptr[0] points at one of these while it runs, and the reply helpers
 * keep what they send under @id.  @withhold: kept and not sent (a test's
 * daemon that died before passing the answer on; slice.c's
 * slice_drop_answers).
 */
struct drvnucleus_answering {
	struct drvnucleus_dev *d;
	u64 id;
	bool withhold;
};
/*
 * A downcall whose CALL_ID has been answered: the same reply again, under
 * @h's seq, to @info's sender.  -ENOENT when no answer is kept under @id
 * (run the call).
 */
int drvnucleus_answer_again(struct genl_info *info,
			    const struct drvxpc_hdr *h,
			    struct drvnucleus_dev *d, u64 id);
/* The kept answers freed (the device goes, or is re-added). */
void drvnucleus_answers_free(struct drvnucleus_dev *d);
/* Whether a message came from the registered daemon. */
bool drvnucleus_from_daemon(const struct genl_info *info);
/* Whether a daemon is registered now (an upcall made without one waits
 * for the next daemon, up to upcall_timeout_ms). */
bool drvnucleus_daemon_registered(void);

/* Sliced drivers (slice.c): SLICE_DOWNCALL and SLICE_PROBE, served
 * without drvnucleus_lock. */
int drvslice_doit(struct genl_info *info, const struct drvxpc_hdr *h);
/* Whether @d is a sliced driver's device. */
bool drvslice_owns(const struct drvnucleus_dev *d);

void drvnucleus_upcall_async(struct drvnucleus_dev *d, u16 op,
			     int (*fill)(struct sk_buff *skb, void *arg),
			     void *arg);

#endif /* _DRVNUCLEUS_H */
