/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net.h - the network class (net.c) and what a NIC chip plugs into it.
 *
 * net.c owns the net_device: NET_REGISTER, ndo_open/stop/set_rx_mode/
 * set_mac_address/tx_timeout as upcalls, the periodic link check
 * (NET_WATCHDOG), NET_CARRIER and ethtool's link settings, NAPI and the
 * interrupt line, DATAPATH_ENABLE/DISABLE, QUIESCE and removal.  A NIC
 * chip supplies only its data path: struct drvnucleus_net_ops, the part of
 * its Linux driver that stays in the kernel (start_xmit, the interrupt
 * handler, the rx poll, tx completion, the ring handling).
 */
#ifndef _DRVNUCLEUS_NET_H
#define _DRVNUCLEUS_NET_H

#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/workqueue.h>

#include "drvnucleus.h"

/* Link speeds a chip may report with NET_CARRIER (drvnucleus_net_ops.speeds). */
#define DRVNUCLEUS_SPEED_10	0x1
#define DRVNUCLEUS_SPEED_100	0x2
#define DRVNUCLEUS_SPEED_1000	0x4

/* One network device: the netdev's private area. */
struct drvnucleus_net {
	struct net_device *ndev;
	struct drvnucleus_dev *d;
	const struct drvnucleus_net_ops *ops;
	struct napi_struct napi;
	struct work_struct rxmode_work;
	struct delayed_work link_work;
	struct work_struct txto_work;
	u32 speed;			/* from NET_CARRIER, for ethtool */
	u8 duplex;
	/*
	 * Under d->cl: the u-driver handed the data path over
	 * (DATAPATH_ENABLE) and has not taken it back.  The chip's hooks do
	 * nothing to the chip while it is false.
	 */
	bool datapath;
	bool irq, napi_on;
	/* The chip's data-path state, ops->priv_size bytes, zeroed at
	 * NET_REGISTER and kept across u-driver restarts. */
	void *priv;
};

/*
 * A NIC's data path.  Unless noted, hooks run in the contexts Linux runs
 * the same functions of a native driver in, and take d->cl themselves
 * with combolock_lock_atomic(), deferring (COMBO_DEFER_*) instead of
 * waiting when a downcall holds it.
 */
struct drvnucleus_net_ops {
	/* Bytes of chip state at drvnucleus_net.priv. */
	size_t priv_size;
	/* DRVNUCLEUS_SPEED_* the chip can run at: NET_CARRIER is checked. */
	u32 speeds;
	/* The stack's transmit watchdog (jiffies). */
	unsigned long tx_timeout;
	/* Period of the u-driver's link check, NET_WATCHDOG (jiffies): the
	 * driver's watchdog timer (8139too: 5 s as rtl8139_thread; e1000:
	 * 2 s).  The chip's link-change interrupt calls it early through
	 * drvnucleus_net_link_event(). */
	unsigned long link_period;
	/*
	 * DATAPATH_ENABLE, process context, d->lock held, d->cl not
	 * held: find the rings the u-driver allocated
	 * (drvnucleus_obj_by_role), check their sizes, pin them.  Without
	 * @reattach, n->datapath is false and the u-driver has just
	 * programmed the chip: start the ring positions from zero.  With
	 * @reattach the chip never stopped and the data path may be running
	 * (a restarted u-driver adopting it): keep the positions, take d->cl
	 * (combolock_lock) around anything the data path reads.  May sleep.
	 * 0, or a negative errno with *@why and *@bad (an attribute id, or 0)
	 * saying what is wrong.
	 */
	int (*enable)(struct drvnucleus_net *n, bool reattach,
		      const char **why, u16 *bad);
	/* ndo_start_xmit. */
	netdev_tx_t (*start_xmit)(struct sk_buff *skb, struct drvnucleus_net *n);
	/* The interrupt handler (the line is requested by net.c, shared). */
	irqreturn_t (*interrupt)(struct drvnucleus_net *n);
	/* NAPI poll: receive up to @budget frames, re-enable the chip's rx
	 * interrupts when done (napi_complete_done). */
	int (*poll)(struct drvnucleus_net *n, int budget);
	/*
	 * Transmit timeout, process context, d->cl held, n->datapath just
	 * cleared: forget what was in flight (the u-driver restarts the
	 * transmitter).  Returns the frames dropped.
	 */
	unsigned int (*tx_drop)(struct drvnucleus_net *n);
	/*
	 * QUIESCE, process context, d->cl held, n->datapath just cleared:
	 * mask the chip's interrupts (the u-driver was given up on; nothing
	 * serves them).  May be NULL.
	 */
	void (*quiesce)(struct drvnucleus_net *n);
	/* Removal, after the netdev, its interrupt and NAPI are gone and
	 * before the objects are freed: free what enable allocated.  May be
	 * NULL. */
	void (*teardown)(struct drvnucleus_net *n);
};

/* The network class (net.c). */
extern const struct drvnucleus_class drvnucleus_net_class;

/*
 * The data path's lock, from a chip's interrupt handler and start_xmit:
 * takes d->cl (combolock_lock_atomic(), flags in *@flags) and returns
 * true.  When a downcall holds it, leaves what the release redoes - the
 * interrupt line held off (it stays asserted), or the queue stopped - and
 * returns false with the lock released: the handler then returns
 * IRQ_HANDLED, start_xmit NETDEV_TX_BUSY.
 */
bool drvnucleus_net_lock_irq(struct drvnucleus_net *n, unsigned long *flags);
bool drvnucleus_net_lock_xmit(struct drvnucleus_net *n, unsigned long *flags);

/*
 * For a chip's write_check: the u-driver has handed the data path over and
 * not taken it back.  Stable for a write to one of the chip's datapath_reg
 * registers (the ComboLock is held); for others, as of the call.
 */
bool drvnucleus_net_datapath_on(struct drvnucleus_dev *d);

/* From a chip's interrupt handler: a link change; the u-driver checks the
 * PHY (NET_WATCHDOG now instead of at the next period). */
void drvnucleus_net_link_event(struct drvnucleus_net *n);

#endif /* _DRVNUCLEUS_NET_H */
