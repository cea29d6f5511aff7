/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drvnucleus.h - what the parts of drvnucleus.ko share: the device and the
 * tracked objects (nucleus.c), the runtime's upcall and reply helpers, and
 * the class nuclei's entry points (es1370.c; the RTL8139 nucleus lives in
 * nucleus.c).
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

struct drvnucleus_net;
struct drvnucleus_snd;

struct drvnucleus_dev {
	struct pci_dev *pdev;
	void __iomem *bar;
	u32 bar_len;
	u32 instance;
	u8 class;
	struct list_head objects;	/* under drvnucleus_lock */
	struct combolock cl;		/* registers the data path shares */
	struct drvnucleus_net *net;
	struct drvnucleus_snd *snd;
};

/* Devices, objects and the registered daemon. */
extern struct mutex drvnucleus_lock;

/* Object tracker; call with drvnucleus_lock held. */
struct drvnucleus_obj *drvnucleus_obj_alloc(struct drvnucleus_dev *d, u32 size,
					    u8 role);
void drvnucleus_obj_free(struct drvnucleus_dev *d, struct drvnucleus_obj *o);

/* A plain reply to a downcall: status, optional offending attribute and
 * message. */
int drvnucleus_reply(struct genl_info *info, const struct drvxpc_hdr *req,
		     s32 status, u16 bad_attr, const char *why);
const struct nlattr *drvnucleus_attr(const struct drvxpc_hdr *h, u16 type);

/*
 * Synchronous upcalls, for callers in process context that may sleep and
 * hold neither rtnl nor a spinlock: drvnucleus_upcall_new() starts the
 * message (NULL: no daemon registered, or no memory), the caller adds
 * attributes, drvnucleus_upcall_wait() sends it and waits at most the
 * upcall deadline.  Returns the u-driver's status, or -EAGAIN when no
 * daemon is registered, it goes away, or the deadline passes: the nucleus
 * then keeps its last configuration.  @value (may be NULL) gets a
 * MIXER_VALUE from the reply.
 */
struct sk_buff *drvnucleus_upcall_new(struct drvnucleus_dev *d, u16 op,
				      struct drvxpc_hdr **hdr);
int drvnucleus_upcall_wait(struct sk_buff *skb, struct drvxpc_hdr *hdr,
			   u32 *value);

/* The ES1370 nucleus (es1370.c). */
int es1370_op(struct genl_info *info, const struct drvxpc_hdr *h,
	      struct drvnucleus_dev *d);
int es1370_info(struct sk_buff *skb, struct drvnucleus_dev *d);
void es1370_quiesce(struct drvnucleus_dev *d);
void es1370_remove(struct drvnucleus_dev *d);

#endif /* _DRVNUCLEUS_H */
