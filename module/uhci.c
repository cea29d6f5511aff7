// SPDX-License-Identifier: GPL-2.0
/*
 * uhci.c - the usb-host class: a UHCI host controller (the PIIX3's USB
 * function, QEMU's piix3-usb-uhci), the nucleus half of Linux's uhci-hcd.
 *
 * Kept here, the data path: the schedule in memory (a frame list whose
 * every entry points at one skeleton QH, followed by a QH per endpoint in
 * use, each with the TDs of its first URB), urb_enqueue / urb_dequeue,
 * the interrupt and the completion of URBs.  The u-driver has the rest,
 * what Microdrivers and Decaf moved out of uhci-hcd: the controller's
 * reset and start/stop (its register writes), the root hub (every
 * hub_control request becomes the USB_HUB_CONTROL upcall, and
 * hub_status_data answers from the bitmap the u-driver last sent with
 * USB_PORT_CHANGE: the u-driver polls the ports, the kernel never does),
 * the FSBR policy and the controller's error recovery.
 *
 * One URB per endpoint is on the hardware at a time; the next is started
 * when it completes, with its data toggles rewritten from the endpoint's
 * toggle then (uhci-hcd chains URBs and fixes toggles up after a short
 * packet; one at a time costs up to a frame between two URBs of a queue,
 * which scatter-gather URBs make rare: usb-storage's read is one URB).
 * The schedule is one list, interrupt QHs first, then low-speed control,
 * full-speed control, bulk: interrupt endpoints are polled every frame,
 * whatever their interval, with no bandwidth reserved.  Isochronous
 * transfers are refused.  FSBR (the u-driver's policy: off, on, or auto as
 * uhci-hcd has it) loops the last QH back to the first full-speed control
 * or bulk one; with auto, while such a URB is on the hardware and for
 * FSBR_OFF_MS after.
 */
#include <linux/dmapool.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/usb.h>
#include <linux/usb/hcd.h>
#include <linux/workqueue.h>

#include <chips/uhci_regs.h>

#include "drvnucleus.h"

/* A transfer descriptor: the controller's 16 bytes, then ours. */
struct uhci_td {
	__le32 link;
	__le32 status;
	__le32 token;
	__le32 buffer;
	dma_addr_t dma;
	struct list_head node;		/* in its URB's list */
	u16 len;			/* bytes asked for */
	u8 pid;
};

/* A queue head: one per endpoint in use (hep->hcpriv). */
struct uhci_qh {
	__le32 link;
	__le32 element;
	dma_addr_t dma;
	struct list_head node;		/* in the schedule, after the skeleton */
	struct list_head urbs;		/* struct uhci_urb, the first started */
	struct usb_host_endpoint *hep;
	struct usb_device *udev;
	int type;			/* PIPE_CONTROL, PIPE_BULK, PIPE_INTERRUPT */
};

/* An URB's state (urb->hcpriv). */
struct uhci_urb {
	struct urb *urb;
	struct uhci_qh *qh;
	struct list_head node;		/* in qh->urbs */
	struct list_head tds;
	struct uhci_td *status_td;	/* control: the status stage */
	bool started;			/* the QH points at its TDs */
	bool short_fixed;		/* control: sent on to the status stage */
	bool unlinking;			/* dequeued while on the hardware */
	u16 unlink_frame;
};

struct uhci_nucleus {
	struct drvnucleus_dev *d;
	struct usb_hcd *hcd;		/* NULL until USB_REGISTER's work ran */
	spinlock_t lock;		/* the schedule, the URBs, the counters */
	struct dma_pool *td_pool;
	struct dma_pool *qh_pool;
	struct drvnucleus_obj *frames;	/* the frame list, 1024 links */
	struct uhci_qh *skel;		/* every frame's first QH */
	struct list_head qhs;		/* endpoint QHs in schedule order */
	bool irq_requested;
	bool registering;		/* the add work is queued or ran */
	bool dead;			/* QUIESCE or remove: no new URBs */
	u8 ports;
	u8 fsbr;			/* the policy: enum drvxpc_usb_fsbr */
	bool fsbr_on;			/* the loop is linked */
	bool fsbr_expiring;		/* auto: fsbr_timer unlinks it */
	u64 fsbr_ons;
	struct timer_list fsbr_timer;
	u8 hc_state;			/* what the u-driver said: enum drvxpc_usb_hc_state */
	u32 port_changes;		/* USB_PORT_CHANGE's bitmap */
	u64 urbs, urb_errors, bytes, hc_errors, polls;
	struct timer_list unlink_timer;
	struct work_struct add_work;
	struct work_struct error_work;
	u16 error_status;		/* USBSTS for USB_HC_ERROR */
	char bus_name[16];
};

static struct uhci_nucleus *un_of(struct drvnucleus_dev *d)
{
	return d->cls_priv;
}

static struct uhci_nucleus *un_of_hcd(struct usb_hcd *hcd)
{
	return *(struct uhci_nucleus **)hcd->hcd_priv;
}

/* uhci-hcd's FSBR_OFF_DELAY: auto FSBR stays this long after its last URB. */
#define FSBR_OFF_MS	10

static u16 uhci_frame(struct uhci_nucleus *un)
{
	return ioread16(un->d->bar + UHCI_FRNUM) & UHCI_FRNUM_MASK;
}

static bool uhci_halted(struct uhci_nucleus *un)
{
	return un->hc_state != DRVXPC_USB_HC_RUNNING ||
	       (ioread16(un->d->bar + UHCI_USBSTS) & UHCI_STS_HCH);
}

/* --- building TDs --------------------------------------------------------- */

static struct uhci_td *td_add(struct uhci_nucleus *un, struct uhci_urb *uu,
			      u8 pid, dma_addr_t buf, u16 len, u32 status,
			      gfp_t gfp)
{
	struct urb *urb = uu->urb;
	struct uhci_td *td, *prev;
	dma_addr_t dma;
	u32 token;

	td = dma_pool_zalloc(un->td_pool, gfp, &dma);
	if (!td)
		return NULL;
	td->dma = dma;
	td->len = len;
	td->pid = pid;
	token = ((u32)((len - 1) & 0x7ff) << UHCI_TOKEN_MAXLEN_SHIFT) |
		(usb_pipeendpoint(urb->pipe) << UHCI_TOKEN_EP_SHIFT) |
		(usb_pipedevice(urb->pipe) << UHCI_TOKEN_DEVADDR_SHIFT) | pid;
	td->token = cpu_to_le32(token);
	td->buffer = cpu_to_le32(buf);
	td->status = cpu_to_le32(status);
	td->link = cpu_to_le32(UHCI_PTR_TERM);
	if (!list_empty(&uu->tds)) {
		prev = list_last_entry(&uu->tds, struct uhci_td, node);
		/* Depth first: the whole URB in one frame if it fits. */
		prev->link = cpu_to_le32(td->dma | UHCI_PTR_DEPTH);
	}
	list_add_tail(&td->node, &uu->tds);
	return td;
}

static void tds_free(struct uhci_nucleus *un, struct uhci_urb *uu)
{
	struct uhci_td *td, *tmp;

	list_for_each_entry_safe(td, tmp, &uu->tds, node) {
		list_del(&td->node);
		dma_pool_free(un->td_pool, td, td->dma);
	}
}

/*
 * The TDs of @uu: a setup, data and status stage for control, data
 * packets of the endpoint's size for bulk and interrupt.  The toggles of
 * bulk and interrupt are written when the URB is started.
 */
static int tds_build(struct uhci_nucleus *un, struct uhci_urb *uu, gfp_t gfp)
{
	struct urb *urb = uu->urb;
	bool in = usb_pipein(urb->pipe);
	u32 base = UHCI_TD_ACTIVE | (3U << UHCI_TD_CERR_SHIFT);
	unsigned int maxp = usb_endpoint_maxp(&urb->ep->desc);
	unsigned int left = urb->transfer_buffer_length;
	dma_addr_t buf = urb->transfer_dma;
	u8 pid = in ? UHCI_PID_IN : UHCI_PID_OUT;
	struct uhci_td *td;
	bool control = usb_pipecontrol(urb->pipe);
	struct scatterlist *sg = NULL;
	unsigned int seg = 0, sgs = 0;
	u32 toggle = 0;

	if (!maxp)
		return -EINVAL;
	if (urb->dev->speed == USB_SPEED_LOW)
		base |= UHCI_TD_LS;
	if (left && !buf && !urb->num_mapped_sgs)
		return -EINVAL;
	if (control) {
		td = td_add(un, uu, UHCI_PID_SETUP, urb->setup_dma, 8, base, gfp);
		if (!td)
			return -ENOMEM;
		toggle = UHCI_TOKEN_TOGGLE;
	}
	/*
	 * A bulk or interrupt URB of 0 bytes is one empty packet.  A
	 * scatter-gather URB is packets of each segment in turn: usbcore
	 * refuses a list whose segments but the last are not whole packets.
	 */
	if (urb->num_mapped_sgs) {
		sg = urb->sg;
		seg = sg_dma_len(sg);
		buf = sg_dma_address(sg);
		sgs = urb->num_mapped_sgs - 1;
	}
	do {
		u16 len;

		if (control && !left)
			break;
		if (sg && !seg && sgs) {
			sg = sg_next(sg);
			sgs--;
			seg = sg_dma_len(sg);
			buf = sg_dma_address(sg);
		}
		/* The list shorter than the transfer: refused, not looped. */
		if (sg && !seg)
			return -EINVAL;
		len = min(left, maxp);
		if (sg)
			len = min_t(unsigned int, len, seg);
		td = td_add(un, uu, pid, buf, len, base | (in ? UHCI_TD_SPD : 0),
			    gfp);
		if (!td)
			return -ENOMEM;
		td->token |= cpu_to_le32(toggle);
		toggle ^= UHCI_TOKEN_TOGGLE;
		buf += len;
		left -= len;
		if (sg)
			seg -= len;
	} while (left);
	/* An OUT transfer of whole packets that asks for it ends empty. */
	if (!control && !in && (urb->transfer_flags & URB_ZERO_PACKET) &&
	    urb->transfer_buffer_length &&
	    !(urb->transfer_buffer_length % maxp)) {
		if (!td_add(un, uu, pid, 0, 0, base, gfp))
			return -ENOMEM;
	}
	if (control) {
		/* The status stage: the other direction, toggle 1. */
		pid = (in && urb->transfer_buffer_length) ? UHCI_PID_OUT : UHCI_PID_IN;
		td = td_add(un, uu, pid, 0, 0, base, gfp);
		if (!td)
			return -ENOMEM;
		td->token |= cpu_to_le32(UHCI_TOKEN_TOGGLE);
		uu->status_td = td;
	}
	td = list_last_entry(&uu->tds, struct uhci_td, node);
	td->status |= cpu_to_le32(UHCI_TD_IOC);
	return 0;
}

/* --- the schedule (un->lock held) ---------------------------------------- */

/* uhci-hcd's skeleton order: interrupt, low-speed control, full-speed
 * control, bulk (a low-speed device has no bulk endpoint). */
static int qh_rank(const struct uhci_qh *qh)
{
	if (qh->type == PIPE_INTERRUPT)
		return 0;
	if (qh->type == PIPE_CONTROL)
		return qh->udev->speed == USB_SPEED_LOW ? 1 : 2;
	return 3;
}

/* A QH FSBR loops over: full-speed control or bulk. */
static bool qh_reclaims(const struct uhci_qh *qh)
{
	return qh_rank(qh) >= 2;
}

static void fsbr_switch(struct uhci_nucleus *un, bool on);

/* Points @qh's element at its first URB, with its toggles from the
 * endpoint's, or at nothing. */
static void qh_start(struct uhci_nucleus *un, struct uhci_qh *qh)
{
	struct uhci_urb *uu;
	struct uhci_td *td;
	struct urb *urb;
	int toggle;

	uu = list_first_entry_or_null(&qh->urbs, struct uhci_urb, node);
	if (!uu) {
		WRITE_ONCE(qh->element, cpu_to_le32(UHCI_PTR_TERM));
		return;
	}
	urb = uu->urb;
	if (qh->type != PIPE_CONTROL) {
		toggle = usb_gettoggle(urb->dev, usb_pipeendpoint(urb->pipe),
				       usb_pipeout(urb->pipe));
		list_for_each_entry(td, &uu->tds, node) {
			td->token &= cpu_to_le32(~UHCI_TOKEN_TOGGLE);
			if (toggle)
				td->token |= cpu_to_le32(UHCI_TOKEN_TOGGLE);
			toggle ^= 1;
		}
	}
	uu->started = true;
	/* uhci_urbp_wants_fsbr: auto FSBR goes on with the transfer. */
	if (un->fsbr == DRVXPC_USB_FSBR_AUTO && qh_reclaims(qh))
		fsbr_switch(un, true);
	td = list_first_entry(&uu->tds, struct uhci_td, node);
	/* The TDs are written before the controller can see them. */
	wmb();
	WRITE_ONCE(qh->element, cpu_to_le32(td->dma));
}

/* The queue links: the skeleton, then every endpoint QH in order; with
 * the FSBR loop on, the last links back to the first QH that reclaims,
 * as uhci-hcd's terminating QH does. */
static void qhs_relink(struct uhci_nucleus *un)
{
	struct uhci_qh *qh, *prev = un->skel, *loop = NULL;

	list_for_each_entry(qh, &un->qhs, node) {
		WRITE_ONCE(prev->link, cpu_to_le32(qh->dma | UHCI_PTR_QH));
		prev = qh;
		if (!loop && qh_reclaims(qh))
			loop = qh;
	}
	if (un->fsbr_on && loop)
		WRITE_ONCE(prev->link, cpu_to_le32(loop->dma | UHCI_PTR_QH));
	else
		WRITE_ONCE(prev->link, cpu_to_le32(UHCI_PTR_TERM));
	wmb();
}

/* Whether a QH that reclaims has an URB on the hardware. */
static bool fsbr_wanted(struct uhci_nucleus *un)
{
	struct uhci_urb *uu;
	struct uhci_qh *qh;

	list_for_each_entry(qh, &un->qhs, node) {
		if (!qh_reclaims(qh))
			continue;
		uu = list_first_entry_or_null(&qh->urbs, struct uhci_urb, node);
		if (uu && uu->started && !uu->unlinking)
			return true;
	}
	return false;
}

/* Links or unlinks the loop. */
static void fsbr_switch(struct uhci_nucleus *un, bool on)
{
	un->fsbr_expiring = false;
	if (on == un->fsbr_on)
		return;
	un->fsbr_on = on;
	if (on)
		un->fsbr_ons++;
	qhs_relink(un);
}

/* What the hardware left in @td: 0, or the URB's error. */
static int td_error(const struct uhci_td *td, u32 st)
{
	if (st & UHCI_TD_BABBLE)
		return -EOVERFLOW;
	if (st & UHCI_TD_STALLED)
		return -EPIPE;
	if (st & UHCI_TD_DBUFERR)
		return td->pid == UHCI_PID_IN ? -ENOSR : -ECOMM;
	if (st & UHCI_TD_CRCTIMEO)
		return td->pid == UHCI_PID_IN ? -EPROTO : -ETIME;
	if (st & UHCI_TD_BITSTUFF)
		return -EPROTO;
	return 0;
}

static u32 td_actlen(u32 st)
{
	return ((st & UHCI_TD_ACTLEN_MASK) + 1) & UHCI_TD_ACTLEN_MASK;
}

/*
 * How far @uu got: -EINPROGRESS while the controller works on it, else
 * its status, with urb->actual_length and the endpoint's toggle set.
 * @stopped: the controller no longer looks at it (unlinked, halted), so a
 * TD still active is where it ended.
 */
static int urb_result(struct uhci_nucleus *un, struct uhci_urb *uu, bool stopped)
{
	struct urb *urb = uu->urb;
	struct uhci_qh *qh = uu->qh;
	bool control = qh->type == PIPE_CONTROL;
	unsigned int actual = 0, done = 0;
	struct uhci_td *td;
	int status = 0;
	u32 st;

	list_for_each_entry(td, &uu->tds, node) {
		st = le32_to_cpu(READ_ONCE(td->status));
		if (st & UHCI_TD_ACTIVE) {
			if (!stopped)
				return -EINPROGRESS;
			status = -EINPROGRESS;
			break;
		}
		status = td_error(td, st);
		if (status)
			break;
		if (td->pid != UHCI_PID_SETUP && td != uu->status_td) {
			actual += td_actlen(st);
			done++;
		}
		if (td->pid == UHCI_PID_IN && td != uu->status_td &&
		    td_actlen(st) < td->len) {
			/* A short packet ends the data stage. */
			if (urb->transfer_flags & URB_SHORT_NOT_OK)
				status = -EREMOTEIO;
			if (control && !status) {
				/* On to the status stage: the controller
				 * does not move past a short packet. */
				if (!uu->short_fixed && !stopped) {
					uu->short_fixed = true;
					WRITE_ONCE(qh->element,
						   cpu_to_le32(uu->status_td->dma));
					return -EINPROGRESS;
				}
				td = list_prev_entry(uu->status_td, node);
				continue;
			}
			break;
		}
	}
	urb->actual_length = min(actual, urb->transfer_buffer_length);
	if (!control)
		usb_settoggle(urb->dev, usb_pipeendpoint(urb->pipe),
			      usb_pipeout(urb->pipe),
			      usb_gettoggle(urb->dev, usb_pipeendpoint(urb->pipe),
					    usb_pipeout(urb->pipe)) ^ (done & 1));
	if (status == -EINPROGRESS)
		status = -ECONNRESET;
	return status;
}

struct uhci_done {
	struct urb *urb;
	int status;
};

/* Takes @uu off its queue for giveback: its status goes in urb->hcpriv's
 * place until the caller gives it back with the lock dropped. */
static void urb_finish(struct uhci_nucleus *un, struct uhci_urb *uu, int status,
		       struct list_head *done)
{
	struct urb *urb = uu->urb;

	list_del(&uu->node);
	tds_free(un, uu);
	urb->hcpriv = NULL;
	un->urbs++;
	un->bytes += urb->actual_length;
	if (status && status != -ECONNRESET && status != -ENOENT &&
	    status != -ESHUTDOWN)
		un->urb_errors++;
	usb_hcd_unlink_urb_from_ep(un->hcd, urb);
	/* The URB's own list node is free for us until giveback. */
	urb->unlinked = urb->unlinked ?: status;
	list_add_tail(&urb->urb_list, done);
	kfree(uu);
}

/* Every QH's first URB: finished ones out, the next started. */
static void uhci_scan(struct uhci_nucleus *un, struct list_head *done)
{
	bool halted = uhci_halted(un);
	u16 frame = uhci_frame(un);
	struct uhci_urb *uu;
	struct uhci_qh *qh;
	bool again = false;
	int status;

	list_for_each_entry(qh, &un->qhs, node) {
		while ((uu = list_first_entry_or_null(&qh->urbs,
						      struct uhci_urb, node))) {
			if (!uu->started) {
				qh_start(un, qh);
				break;
			}
			if (uu->unlinking) {
				/* Off the hardware once a whole frame began
				 * after the element was cleared. */
				if (!halted &&
				    ((frame - uu->unlink_frame) & UHCI_FRNUM_MASK) < 2) {
					again = true;
					break;
				}
				urb_result(un, uu, true);
				urb_finish(un, uu, uu->urb->unlinked, done);
				continue;
			}
			status = urb_result(un, uu, halted);
			if (status == -EINPROGRESS)
				break;
			urb_finish(un, uu, status, done);
		}
	}
	if (again)
		mod_timer(&un->unlink_timer, jiffies + 1);
	/* Auto FSBR with nothing left to reclaim for: off in FSBR_OFF_MS,
	 * unless a transfer starts first. */
	if (un->fsbr == DRVXPC_USB_FSBR_AUTO && un->fsbr_on &&
	    !un->fsbr_expiring && !fsbr_wanted(un)) {
		un->fsbr_expiring = true;
		mod_timer(&un->fsbr_timer,
			  jiffies + msecs_to_jiffies(FSBR_OFF_MS));
	}
}

static void giveback_all(struct uhci_nucleus *un, struct list_head *done)
{
	struct urb *urb, *tmp;
	int status;

	list_for_each_entry_safe(urb, tmp, done, urb_list) {
		list_del_init(&urb->urb_list);
		status = urb->unlinked;
		urb->unlinked = 0;
		usb_hcd_giveback_urb(un->hcd, urb, status);
	}
}

static void uhci_unlink_timer(struct timer_list *t)
{
	struct uhci_nucleus *un = from_timer(un, t, unlink_timer);
	unsigned long flags;
	LIST_HEAD(done);

	spin_lock_irqsave(&un->lock, flags);
	if (un->hcd)
		uhci_scan(un, &done);
	spin_unlock_irqrestore(&un->lock, flags);
	giveback_all(un, &done);
}

static void uhci_fsbr_timer(struct timer_list *t)
{
	struct uhci_nucleus *un = from_timer(un, t, fsbr_timer);
	unsigned long flags;

	spin_lock_irqsave(&un->lock, flags);
	if (un->fsbr_expiring && un->fsbr == DRVXPC_USB_FSBR_AUTO)
		fsbr_switch(un, fsbr_wanted(un));
	spin_unlock_irqrestore(&un->lock, flags);
}

/* --- the interrupt --------------------------------------------------------- */

static irqreturn_t uhci_interrupt(int irq, void *dev_id)
{
	struct uhci_nucleus *un = dev_id;
	void __iomem *bar = un->d->bar;
	LIST_HEAD(done);
	u16 sts;

	sts = ioread16(bar + UHCI_USBSTS);
	if (!(sts & (UHCI_STS_ALL & ~UHCI_STS_HCH)) || sts == 0xffff)
		return IRQ_NONE;
	iowrite16(sts, bar + UHCI_USBSTS);
	if (sts & (UHCI_STS_HSE | UHCI_STS_HCPE)) {
		/* The controller halted itself: the u-driver restarts it. */
		spin_lock(&un->lock);
		un->hc_errors++;
		un->error_status = sts;
		spin_unlock(&un->lock);
		schedule_work(&un->error_work);
	}
	spin_lock(&un->lock);
	if (un->hcd)
		uhci_scan(un, &done);
	spin_unlock(&un->lock);
	giveback_all(un, &done);
	return IRQ_HANDLED;
}

static int error_fill(struct sk_buff *skb, void *arg)
{
	struct uhci_nucleus *un = arg;

	return nla_put_u32(skb, DRVXPC_A_REG_VALUE, READ_ONCE(un->error_status));
}

static void uhci_error_work(struct work_struct *w)
{
	struct uhci_nucleus *un = container_of(w, struct uhci_nucleus, error_work);

	dev_warn(un->d->dev, "host controller error (USBSTS %#06x): the u-driver restarts it\n",
		 READ_ONCE(un->error_status));
	drvnucleus_upcall_async(un->d, DRVXPC_OP_USB_HC_ERROR, error_fill, un);
}

/* --- usbcore's side: struct hc_driver ------------------------------------- */

static unsigned int hub_control_patience_ms = 10000;
module_param(hub_control_patience_ms, uint, 0644);
MODULE_PARM_DESC(hub_control_patience_ms,
		 "how long a root-hub request is asked again while no u-driver answers (ms)");

static int uhci_start(struct usb_hcd *hcd)
{
	/* The u-driver started the controller before it registered it. */
	hcd->uses_new_polling = 1;
	return 0;
}

static void uhci_stop(struct usb_hcd *hcd)
{
}

static int uhci_get_frame(struct usb_hcd *hcd)
{
	return uhci_frame(un_of_hcd(hcd));
}

static struct uhci_qh *qh_get(struct uhci_nucleus *un, struct urb *urb,
			      gfp_t gfp)
{
	struct usb_host_endpoint *hep = urb->ep;
	struct uhci_qh *qh = hep->hcpriv, *pos;
	dma_addr_t dma;

	if (qh)
		return qh;
	qh = dma_pool_zalloc(un->qh_pool, gfp, &dma);
	if (!qh)
		return NULL;
	qh->dma = dma;
	qh->element = cpu_to_le32(UHCI_PTR_TERM);
	qh->link = cpu_to_le32(UHCI_PTR_TERM);
	INIT_LIST_HEAD(&qh->urbs);
	qh->hep = hep;
	qh->udev = urb->dev;
	qh->type = usb_pipetype(urb->pipe);
	hep->hcpriv = qh;
	/*
	 * Interrupt, then control, then bulk, as uhci-hcd's skeleton orders
	 * them: a frame's bandwidth goes to the periodic endpoints first, so
	 * a long bulk transfer does not starve a tablet's reports.
	 */
	list_for_each_entry(pos, &un->qhs, node)
		if (qh_rank(pos) > qh_rank(qh))
			break;
	list_add_tail(&qh->node, &pos->node);
	qhs_relink(un);
	return qh;
}

static int uhci_urb_enqueue(struct usb_hcd *hcd, struct urb *urb, gfp_t gfp)
{
	struct uhci_nucleus *un = un_of_hcd(hcd);
	struct uhci_urb *uu;
	struct uhci_qh *qh;
	unsigned long flags;
	int err;

	if (usb_pipeisoc(urb->pipe))
		return -ENOSPC;	/* no isochronous schedule (see the top) */
	uu = kzalloc(sizeof(*uu), gfp);
	if (!uu)
		return -ENOMEM;
	uu->urb = urb;
	INIT_LIST_HEAD(&uu->tds);
	spin_lock_irqsave(&un->lock, flags);
	if (un->dead) {
		err = -ESHUTDOWN;
		goto err_free;
	}
	err = usb_hcd_link_urb_to_ep(hcd, urb);
	if (err)
		goto err_free;
	err = tds_build(un, uu, GFP_ATOMIC);
	if (err)
		goto err_unlink;
	qh = qh_get(un, urb, GFP_ATOMIC);
	if (!qh) {
		err = -ENOMEM;
		goto err_unlink;
	}
	uu->qh = qh;
	urb->hcpriv = uu;
	list_add_tail(&uu->node, &qh->urbs);
	if (list_is_first(&uu->node, &qh->urbs))
		qh_start(un, qh);
	spin_unlock_irqrestore(&un->lock, flags);
	return 0;

err_unlink:
	usb_hcd_unlink_urb_from_ep(hcd, urb);
err_free:
	tds_free(un, uu);
	spin_unlock_irqrestore(&un->lock, flags);
	kfree(uu);
	return err;
}

static int uhci_urb_dequeue(struct usb_hcd *hcd, struct urb *urb, int status)
{
	struct uhci_nucleus *un = un_of_hcd(hcd);
	struct uhci_urb *uu;
	unsigned long flags;
	LIST_HEAD(done);
	int err;

	spin_lock_irqsave(&un->lock, flags);
	err = usb_hcd_check_unlink_urb(hcd, urb, status);
	uu = urb->hcpriv;
	if (err || !uu)
		goto out;
	if (uu->started && !uhci_halted(un)) {
		/* The controller may be in its TDs: off the QH now, given
		 * back once a new frame began (uhci_scan). */
		if (!uu->unlinking) {
			uu->unlinking = true;
			WRITE_ONCE(uu->qh->element, cpu_to_le32(UHCI_PTR_TERM));
			uu->unlink_frame = uhci_frame(un);
			mod_timer(&un->unlink_timer, jiffies + 1);
		}
		goto out;
	}
	if (uu->started)
		urb_result(un, uu, true);
	urb_finish(un, uu, status, &done);
	/* The next URB of the endpoint goes on, if this one was on. */
	uhci_scan(un, &done);
out:
	spin_unlock_irqrestore(&un->lock, flags);
	giveback_all(un, &done);
	return err;
}

static void uhci_endpoint_disable(struct usb_hcd *hcd,
				  struct usb_host_endpoint *hep)
{
	struct uhci_nucleus *un = un_of_hcd(hcd);
	struct uhci_qh *qh;
	unsigned long flags;

	spin_lock_irqsave(&un->lock, flags);
	qh = hep->hcpriv;
	if (!qh || !list_empty(&qh->urbs)) {
		/* usbcore unlinks every URB first; one left stays. */
		spin_unlock_irqrestore(&un->lock, flags);
		if (qh)
			dev_warn(un->d->dev, "endpoint %#x disabled with URBs queued\n",
				 hep->desc.bEndpointAddress);
		return;
	}
	list_del(&qh->node);
	qhs_relink(un);
	hep->hcpriv = NULL;
	spin_unlock_irqrestore(&un->lock, flags);
	/* The controller may still be on the QH for the rest of this frame. */
	if (!uhci_halted(un))
		usleep_range(2000, 3000);
	dma_pool_free(un->qh_pool, qh, qh->dma);
}

/* From the bitmap the u-driver last sent: no register is read here. */
static int uhci_hub_status_data(struct usb_hcd *hcd, char *buf)
{
	struct uhci_nucleus *un = un_of_hcd(hcd);
	unsigned long flags;
	u32 changes;

	spin_lock_irqsave(&un->lock, flags);
	changes = un->port_changes & GENMASK(un->ports, 1);
	un->polls++;
	spin_unlock_irqrestore(&un->lock, flags);
	buf[0] = changes;
	return changes ? 1 : 0;
}

/*
 * A root-hub request: the u-driver's to answer (USB_HUB_CONTROL).  usbcore
 * calls it in process context and may sleep; while the u-driver recovers,
 * drivermgrd holds the request for the recovered one.
 */
static int uhci_hub_control(struct usb_hcd *hcd, u16 type_req, u16 value,
			    u16 index, char *buf, u16 length)
{
	struct uhci_nucleus *un = un_of_hcd(hcd);
	u16 want = min_t(u16, length, 64), got = 0;
	unsigned long until = jiffies + msecs_to_jiffies(hub_control_patience_ms);
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;
	int err;

	for (;;) {
		skb = drvnucleus_upcall_new(un->d, DRVXPC_OP_USB_HUB_CONTROL,
					    &hdr);
		if (!skb) {
			/* No daemon (it is being restarted): as EAGAIN. */
			err = -EAGAIN;
		} else if (nla_put_u16(skb, DRVXPC_A_USB_REQUEST, type_req) ||
			   nla_put_u16(skb, DRVXPC_A_USB_VALUE, value) ||
			   nla_put_u16(skb, DRVXPC_A_USB_INDEX, index) ||
			   nla_put_u16(skb, DRVXPC_A_USB_LENGTH, want)) {
			nlmsg_free(skb);
			return -ENOMEM;
		} else {
			err = drvnucleus_upcall_wait_data(skb, hdr, NULL, buf,
							  want, &got);
		}
		/*
		 * EAGAIN: no daemon or no u-driver to answer yet (the root
		 * hub is probed while the u-driver's probe is still ending)
		 * or the deadline passed.  The hub driver would give the
		 * port up: ask again, for a while.
		 */
		if (err != -EAGAIN || READ_ONCE(un->dead) ||
		    time_after(jiffies, until))
			break;
		msleep(50);
	}
	if (err)
		return err == -EAGAIN ? -ETIMEDOUT : err;
	return (type_req >> 8) & USB_DIR_IN ? got : 0;
}

static const struct hc_driver drvnucleus_uhci_driver = {
	.description		= "drvnucleus-uhci",
	.product_desc		= "UHCI Host Controller (drvnucleus)",
	.hcd_priv_size		= sizeof(struct uhci_nucleus *),
	.flags			= HCD_DMA | HCD_USB11 | HCD_BH,
	.start			= uhci_start,
	.stop			= uhci_stop,
	.get_frame_number	= uhci_get_frame,
	.urb_enqueue		= uhci_urb_enqueue,
	.urb_dequeue		= uhci_urb_dequeue,
	.endpoint_disable	= uhci_endpoint_disable,
	.hub_status_data	= uhci_hub_status_data,
	.hub_control		= uhci_hub_control,
};

/*
 * usb_add_hcd() probes the root hub, whose hub driver asks the u-driver at
 * once (USB_HUB_CONTROL): it runs here, after USB_REGISTER's reply.
 */
static void uhci_add_work(struct work_struct *w)
{
	struct uhci_nucleus *un = container_of(w, struct uhci_nucleus, add_work);
	struct device *dev = &un->d->pdev->dev;
	struct usb_hcd *hcd;
	void *drvdata;
	int err;

	/* usb_create_hcd() takes the device's drvdata, which is the
	 * runtime's: it gets it back, and the hcd is reached through @un. */
	drvdata = dev_get_drvdata(dev);
	hcd = usb_create_hcd(&drvnucleus_uhci_driver, dev, dev_name(dev));
	dev_set_drvdata(dev, drvdata);
	if (!hcd) {
		dev_err(dev, "usb_create_hcd failed\n");
		return;
	}
	*(struct uhci_nucleus **)hcd->hcd_priv = un;
	/* Scatter-gather: usb-storage's transfer is one URB, not one a
	 * segment with a frame lost between two. */
	hcd->self.sg_tablesize = ~0;
	hcd->rsrc_start = pci_resource_start(un->d->pdev, UHCI_BAR);
	hcd->rsrc_len = UHCI_IO_SIZE;
	spin_lock_irq(&un->lock);
	un->hcd = hcd;
	spin_unlock_irq(&un->lock);
	/* No irq for usbcore: the class's handler is registered already. */
	err = usb_add_hcd(hcd, 0, 0);
	if (err) {
		dev_err(dev, "usb_add_hcd failed: %d\n", err);
		spin_lock_irq(&un->lock);
		un->hcd = NULL;
		spin_unlock_irq(&un->lock);
		usb_put_hcd(hcd);
		return;
	}
	strscpy(un->bus_name, dev_name(&hcd->self.root_hub->dev),
		sizeof(un->bus_name));
	dev_info(dev, "USB bus %s registered for the u-driver's root hub\n",
		 un->bus_name);
}

/* --- the downcalls ---------------------------------------------------------- */

static struct uhci_nucleus *uhci_new(struct drvnucleus_dev *d)
{
	struct uhci_nucleus *un;

	un = kzalloc(sizeof(*un), GFP_KERNEL);
	if (!un)
		return NULL;
	un->d = d;
	spin_lock_init(&un->lock);
	INIT_LIST_HEAD(&un->qhs);
	timer_setup(&un->unlink_timer, uhci_unlink_timer, 0);
	timer_setup(&un->fsbr_timer, uhci_fsbr_timer, 0);
	/* uhci-hcd's behaviour until the u-driver says otherwise. */
	un->fsbr = DRVXPC_USB_FSBR_AUTO;
	INIT_WORK(&un->add_work, uhci_add_work);
	INIT_WORK(&un->error_work, uhci_error_work);
	un->td_pool = dma_pool_create("drvnucleus-uhci-td", &d->pdev->dev,
				      sizeof(struct uhci_td), 16, 0);
	un->qh_pool = dma_pool_create("drvnucleus-uhci-qh", &d->pdev->dev,
				      sizeof(struct uhci_qh), 16, 0);
	if (!un->td_pool || !un->qh_pool)
		goto err_pools;
	return un;

err_pools:
	dma_pool_destroy(un->td_pool);
	dma_pool_destroy(un->qh_pool);
	kfree(un);
	return NULL;
}

/*
 * USB_SCHEDULE: the frame list (a tracked object) with every frame at the
 * skeleton QH, and the interrupt handler; built once, the same handle to
 * every u-driver after.
 */
static int usb_schedule(struct genl_info *info, const struct drvxpc_hdr *h,
			struct drvnucleus_dev *d)
{
	struct uhci_nucleus *un = un_of(d);
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	dma_addr_t dma;
	__le32 *frames;
	unsigned int i;
	int err;

	if (!un) {
		un = uhci_new(d);
		if (!un)
			return drvnucleus_reply(info, h, -ENOMEM, 0, "no memory");
		d->cls_priv = un;
	}
	if (!un->skel) {
		un->skel = dma_pool_zalloc(un->qh_pool, GFP_KERNEL, &dma);
		if (!un->skel)
			return drvnucleus_reply(info, h, -ENOMEM, 0, "no memory");
		un->skel->dma = dma;
		un->skel->element = cpu_to_le32(UHCI_PTR_TERM);
		un->skel->link = cpu_to_le32(UHCI_PTR_TERM);
	}
	if (!un->frames) {
		un->frames = drvnucleus_obj_alloc(d, UHCI_NUMFRAMES * 4,
						  DRVXPC_ROLE_FRAME_LIST);
		if (!un->frames)
			return drvnucleus_reply(info, h, -ENOMEM, 0,
						"no DMA memory for the frame list");
		un->frames->pinned = true;
		frames = un->frames->cpu;
		for (i = 0; i < UHCI_NUMFRAMES; i++)
			frames[i] = cpu_to_le32(un->skel->dma | UHCI_PTR_QH);
		wmb();
	}
	if (!un->irq_requested) {
		/* No legacy (SMI) emulation; the interrupt on PIRQD, as
		 * uhci-hcd configures a PIIX's function. */
		pci_write_config_word(d->pdev, UHCI_PCI_LEGSUP, UHCI_LEGSUP_RWC);
		pci_write_config_word(d->pdev, UHCI_PCI_LEGSUP, UHCI_LEGSUP_PIRQEN);
		err = request_irq(d->pdev->irq, uhci_interrupt, IRQF_SHARED,
				  "drvnucleus-uhci", un);
		if (err)
			return drvnucleus_reply(info, h, err, 0, "request_irq failed");
		un->irq_requested = true;
	}
	skb = drvnucleus_reply_new(info, h, &rh);
	if (!skb)
		return -ENOMEM;
	if (nla_put_u32(skb, DRVXPC_A_DMA_HANDLE, un->frames->id)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return drvnucleus_reply_send(info, skb, rh);
}

/* USB_REGISTER: usbcore gets the bus (once), in the add work. */
static int usb_register_op(struct genl_info *info, const struct drvxpc_hdr *h,
			   struct drvnucleus_dev *d)
{
	const struct nlattr *ports_a = drvnucleus_attr(h, DRVXPC_A_USB_PORTS);
	struct uhci_nucleus *un = un_of(d);
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;

	if (!un || !un->frames)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_USB_PORTS,
					"USB_REGISTER before USB_SCHEDULE");
	if (!un->registering) {
		if (!ports_a)
			return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_USB_PORTS,
						"missing USB_PORTS");
		if (un->dead)
			return drvnucleus_reply(info, h, -ESHUTDOWN, 0,
						"the controller was quiesced");
		un->ports = nla_get_u8(ports_a);
		un->registering = true;
		schedule_work(&un->add_work);
	}
	skb = drvnucleus_reply_new(info, h, &rh);
	if (!skb)
		return -ENOMEM;
	if (un->bus_name[0] &&
	    nla_put_string(skb, DRVXPC_A_USB_BUS_NAME, un->bus_name)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return drvnucleus_reply_send(info, skb, rh);
}

static int usb_port_change(struct genl_info *info, const struct drvxpc_hdr *h,
			   struct drvnucleus_dev *d)
{
	const struct nlattr *a = drvnucleus_attr(h, DRVXPC_A_USB_PORT_CHANGES);
	struct uhci_nucleus *un = un_of(d);
	struct usb_hcd *hcd;
	u32 changes;

	if (!a)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_USB_PORT_CHANGES,
					"missing USB_PORT_CHANGES");
	if (!un)
		return drvnucleus_reply(info, h, -EINVAL, 0,
					"USB_PORT_CHANGE before USB_SCHEDULE");
	changes = nla_get_u32(a);
	if (changes & ~GENMASK(un->ports ?: 7, 1))
		return drvnucleus_reply(info, h, -ERANGE, DRVXPC_A_USB_PORT_CHANGES,
					"a port the root hub does not have");
	spin_lock_irq(&un->lock);
	un->port_changes = changes;
	hcd = un->hcd;
	spin_unlock_irq(&un->lock);
	if (changes && hcd && HC_IS_RUNNING(hcd->state))
		usb_hcd_poll_rh_status(hcd);
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

static int usb_set(struct genl_info *info, const struct drvxpc_hdr *h,
		   struct drvnucleus_dev *d)
{
	const struct nlattr *fsbr_a = drvnucleus_attr(h, DRVXPC_A_USB_FSBR);
	const struct nlattr *state_a = drvnucleus_attr(h, DRVXPC_A_USB_HC_STATE);
	struct uhci_nucleus *un = un_of(d);
	LIST_HEAD(done);

	if (!fsbr_a && !state_a)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_USB_FSBR,
					"USB_SET names neither USB_FSBR nor USB_HC_STATE");
	if (!un)
		return drvnucleus_reply(info, h, -EINVAL, 0,
					"USB_SET before USB_SCHEDULE");
	spin_lock_irq(&un->lock);
	if (fsbr_a) {
		un->fsbr = nla_get_u8(fsbr_a);
		fsbr_switch(un, un->fsbr == DRVXPC_USB_FSBR_ON ||
			    (un->fsbr == DRVXPC_USB_FSBR_AUTO &&
			     fsbr_wanted(un)));
	}
	if (state_a)
		un->hc_state = nla_get_u8(state_a);
	/* Halted: what was on the hardware is given back now. */
	if (un->hcd)
		uhci_scan(un, &done);
	spin_unlock_irq(&un->lock);
	giveback_all(un, &done);
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

static int uhci_op(struct genl_info *info, const struct drvxpc_hdr *h,
		   struct drvnucleus_dev *d)
{
	switch (h->op) {
	case DRVXPC_OP_USB_SCHEDULE:
		return usb_schedule(info, h, d);
	case DRVXPC_OP_USB_REGISTER:
		return usb_register_op(info, h, d);
	case DRVXPC_OP_USB_PORT_CHANGE:
		return usb_port_change(info, h, d);
	case DRVXPC_OP_USB_SET:
		return usb_set(info, h, d);
	}
	return drvnucleus_reply(info, h, -EOPNOTSUPP, 0,
				"not an operation of the usb-host class");
}

/* The addresses usbcore gave the devices on the bus. */
static int put_addresses(struct sk_buff *skb, struct usb_hcd *hcd)
{
	u8 map[16] = { 0 };
	unsigned long *devmap = hcd->self.devmap.devicemap;
	unsigned int n;

	for (n = 1; n < 128; n++)
		if (test_bit(n, devmap))
			map[n / 8] |= 1 << (n % 8);
	return nla_put(skb, DRVXPC_A_USB_ADDRESSES, sizeof(map), map);
}

static int uhci_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	struct uhci_nucleus *un = un_of(d);
	u16 cmd = ioread16(d->bar + UHCI_USBCMD);
	u16 sts = ioread16(d->bar + UHCI_USBSTS);
	u64 urbs, errors, bytes, hc_errors, polls, fsbr_ons;
	struct usb_hcd *hcd = NULL;
	bool fsbr_on;
	u32 changes = 0;
	u8 fsbr = 0;
	bool running = (cmd & UHCI_CMD_RS) && !(sts & UHCI_STS_HCH);

	if (nla_put_u8(skb, DRVXPC_A_USB_HC_STATE, running ?
		       DRVXPC_USB_HC_RUNNING : DRVXPC_USB_HC_HALTED))
		return -EMSGSIZE;
	if (!un)
		return nla_put_u8(skb, DRVXPC_A_DATAPATH_ON, 0);
	spin_lock_irq(&un->lock);
	urbs = un->urbs;
	errors = un->urb_errors;
	bytes = un->bytes;
	hc_errors = un->hc_errors;
	polls = un->polls;
	changes = un->port_changes;
	fsbr = un->fsbr;
	fsbr_on = un->fsbr_on;
	fsbr_ons = un->fsbr_ons;
	hcd = un->hcd;
	spin_unlock_irq(&un->lock);
	if (nla_put_u8(skb, DRVXPC_A_USB_FSBR, fsbr) ||
	    nla_put_u8(skb, DRVXPC_A_USB_FSBR_ACTIVE, fsbr_on) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_USB_FSBR_ONS, fsbr_ons, 0) ||
	    nla_put_u32(skb, DRVXPC_A_USB_PORT_CHANGES, changes) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_USB_URBS, urbs, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_USB_URB_ERRORS, errors, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_USB_BYTES, bytes, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_USB_HC_ERRORS, hc_errors, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_USB_PORT_POLLS, polls, 0) ||
	    nla_put_u8(skb, DRVXPC_A_DATAPATH_ON,
		       hcd && running && !un->dead))
		return -EMSGSIZE;
	if (un->ports && nla_put_u8(skb, DRVXPC_A_USB_PORTS, un->ports))
		return -EMSGSIZE;
	if (un->bus_name[0] &&
	    nla_put_string(skb, DRVXPC_A_USB_BUS_NAME, un->bus_name))
		return -EMSGSIZE;
	if (hcd && un->bus_name[0] && put_addresses(skb, hcd))
		return -EMSGSIZE;
	return 0;
}

/* The controller stops scheduling: Run/Stop off, then wait for halted. */
static void uhci_halt(struct drvnucleus_dev *d)
{
	int i;

	iowrite16(ioread16(d->bar + UHCI_USBCMD) & ~UHCI_CMD_RS,
		  d->bar + UHCI_USBCMD);
	for (i = 0; i < 20; i++) {
		if (ioread16(d->bar + UHCI_USBSTS) & UHCI_STS_HCH)
			break;
		usleep_range(1000, 2000);
	}
}

/*
 * QUIESCE (a crash storm): the controller halted and the bus declared
 * dead, so usbcore disconnects every device cleanly and fails their I/O.
 */
static void uhci_quiesce(struct drvnucleus_dev *d)
{
	struct uhci_nucleus *un = un_of(d);
	struct usb_hcd *hcd;
	LIST_HEAD(done);

	uhci_halt(d);
	if (!un)
		return;
	spin_lock_irq(&un->lock);
	un->dead = true;
	un->hc_state = DRVXPC_USB_HC_HALTED;
	hcd = un->hcd;
	if (hcd)
		uhci_scan(un, &done);
	spin_unlock_irq(&un->lock);
	giveback_all(un, &done);
	if (hcd)
		usb_hc_died(hcd);
}

static void uhci_remove(struct drvnucleus_dev *d)
{
	struct uhci_nucleus *un = un_of(d);

	if (!un)
		return;
	cancel_work_sync(&un->add_work);
	if (un->hcd) {
		spin_lock_irq(&un->lock);
		un->dead = true;
		spin_unlock_irq(&un->lock);
		usb_remove_hcd(un->hcd);
		usb_put_hcd(un->hcd);
		un->hcd = NULL;
	}
	uhci_halt(d);
	if (un->irq_requested)
		free_irq(d->pdev->irq, un);
	del_timer_sync(&un->unlink_timer);
	del_timer_sync(&un->fsbr_timer);
	cancel_work_sync(&un->error_work);
	if (un->skel)
		dma_pool_free(un->qh_pool, un->skel, un->skel->dma);
	dma_pool_destroy(un->td_pool);
	dma_pool_destroy(un->qh_pool);
	/* The frame list is a tracked object: the runtime frees it next. */
	if (un->frames)
		un->frames->pinned = false;
	d->cls_priv = NULL;
	kfree(un);
}

static const struct drvnucleus_class drvnucleus_usb_host_class = {
	.name		= "usb-host",
	.id		= DRVXPC_CLASS_USB_HOST,
	.op		= uhci_op,
	.info		= uhci_info,
	.quiesce	= uhci_quiesce,
	.remove		= uhci_remove,
};

/*
 * What a downcall may write (write_check).  FLBASEADD is the controller's
 * way into memory: the frame list USB_SCHEDULE built and no other (a
 * zeroed buffer would send it to address 0 for TDs, whose status it
 * writes back), and by REG_WRITE_DMA only.
 */
static int uhci_write_check(struct drvnucleus_dev *d, u32 off, u32 width,
			    u32 value, bool dma, const char **why)
{
	struct uhci_nucleus *un = un_of(d);

	if (!drvnucleus_touches(off, width, UHCI_FLBASEADD, 4)) {
		if (!dma)
			return 0;
		*why = "REG_WRITE_DMA goes to FLBASEADD only";
		return -EPERM;
	}
	if (!dma || off != UHCI_FLBASEADD || width != 4 || !un || !un->frames ||
	    value != lower_32_bits(un->frames->dma)) {
		*why = "FLBASEADD takes the frame list USB_SCHEDULE made, by REG_WRITE_DMA";
		return -EPERM;
	}
	return 0;
}

const struct drvnucleus_chip uhci_chip = {
	.name		= "UHCI",
	.cls		= &drvnucleus_usb_host_class,
	.bar		= UHCI_BAR,
	.dma_bits	= 32,
	.write_check	= uhci_write_check,
};
