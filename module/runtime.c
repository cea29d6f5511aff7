// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus - the kernel half of drivermgr's split drivers: the runtime.
 *
 * The generic netlink family "drvnucleus" speaking the drvxpc wire format
 * (include/uapi/drvxpc.h, the one definition shared with drivermgrd and
 * the u-drivers); the registration of the daemon that brokers for the
 * u-drivers; the PCI functions the nucleus binds, announced to it with
 * DEVICE_ADD; register downcalls (REG_READ, REG_WRITE, REG_SEQ) checked
 * against the BAR and run under the device's ComboLock where the data path
 * shares a register; DMA_ALLOC, DMA_FREE and REG_WRITE_DMA through an
 * object tracker whose ids outlive a u-driver; DEVICE_INFO; QUIESCE;
 * DEVICE_READD (the PCI function re-enabled, recovery's third tier);
 * upcalls with a sequence number and a deadline.
 *
 * It never names a chip or a class: a device's chip (drvnucleus_ids in
 * chips.c points at it) says which BAR and which registers its data path
 * owns, and its class serves the class's own downcalls (drvnucleus.h).
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/netlink.h>
#include <net/genetlink.h>

#include "drvnucleus.h"
#include "xpccheck.h"

#define DRVXPC_GENL_CMD_MSG	1
#define DRVNUCLEUS_MAX_DEVICES	8

static atomic_t upcall_seq = ATOMIC_INIT(0);

static atomic_t next_object_id = ATOMIC_INIT(0);
static atomic_t live_objects = ATOMIC_INIT(0);

/* The table and the registration; a device's own downcalls take d->lock. */
DEFINE_MUTEX(drvnucleus_lock);
static struct drvnucleus_dev *devices[DRVNUCLEUS_MAX_DEVICES];
static u32 daemon_portid;	/* 0: no daemon registered */
static struct net *daemon_net;

static struct genl_family drvnucleus_family;

/*
 * Bytes and messages that crossed the kernel <-> daemon hop, per instance
 * (DEVICE_INFO's XPC_BYTES): what marshaling costs a driver.  Status reads
 * (DEVICE_INFO) and measurements (SIM_CONTROL) are not counted.
 */
static atomic64_t xpc_bytes[DRVNUCLEUS_MAX_DEVICES + 1];
static atomic64_t xpc_msgs[DRVNUCLEUS_MAX_DEVICES + 1];
static atomic64_t xpc_regio_bytes[DRVNUCLEUS_MAX_DEVICES + 1];	/* of which register I/O */

static void count_xpc(const struct drvxpc_hdr *h)
{
	if (!h->instance || h->instance > DRVNUCLEUS_MAX_DEVICES ||
	    h->op == DRVXPC_OP_DEVICE_INFO || h->op == DRVXPC_OP_SIM_CONTROL)
		return;
	atomic64_add(h->len, &xpc_bytes[h->instance]);
	atomic64_inc(&xpc_msgs[h->instance]);
	if (h->op == DRVXPC_OP_REG_READ || h->op == DRVXPC_OP_REG_WRITE ||
	    h->op == DRVXPC_OP_REG_SEQ || h->op == DRVXPC_OP_REG_WRITE_DMA)
		atomic64_add(h->len, &xpc_regio_bytes[h->instance]);
}

static const struct nlattr *find_attr(const struct drvxpc_hdr *h, u16 type)
{
	const struct nlattr *head = (const void *)(h + 1);

	return nla_find(head, h->len - sizeof(*h), type);
}

/* --- replies and notifications ----------------------------------------- */

/* A message with room for @size bytes of attributes past a page's worth. */
static struct sk_buff *msg_new_sized(u32 portid, u32 nlseq, u16 op, u16 flags,
				     u32 seq, u32 instance, s32 status,
				     size_t size, struct drvxpc_hdr **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE + size, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, portid, nlseq, &drvnucleus_family, 0,
			   DRVXPC_GENL_CMD_MSG);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	memset(*hdr, 0, sizeof(**hdr));
	(*hdr)->op = op;
	(*hdr)->flags = flags;
	(*hdr)->seq = seq;
	(*hdr)->instance = instance;
	(*hdr)->status = status;
	return skb;
}

static struct sk_buff *msg_new(u32 portid, u32 nlseq, u16 op, u16 flags,
			       u32 seq, u32 instance, s32 status,
			       struct drvxpc_hdr **hdr)
{
	return msg_new_sized(portid, nlseq, op, flags, seq, instance, status,
			     0, hdr);
}

/* Fix the drvxpc length (user header + attributes) and finish. */
static void msg_end(struct sk_buff *skb, struct drvxpc_hdr *hdr)
{
	hdr->len = skb_tail_pointer(skb) - (unsigned char *)hdr;
	genlmsg_end(skb, hdr);
	count_xpc(hdr);
}

/* --- downcalls answered once ------------------------------------------
 *
 * The daemon tags each downcall with CALL_ID (the u-driver's pid and its
 * seq).  A daemon killed after the nucleus replied and before it passed
 * the reply on loses it; the u-driver sends the call again to the next
 * daemon, which forwards it under the same id, and the nucleus answers
 * from here instead of running it twice (a second DMA_ALLOC, a second
 * chip reset, a ComboLock taken twice).  The device's answers are under
 * d->answers_lock; the downcall being answered is noted in its genl_info
 * (user_ptr[0]: a struct drvnucleus_answering, which genetlink zeroes for
 * every message and this family alone sets), so a reply sent by any other
 * task or message is never taken for its answer.
 */
static bool answer_keep(struct genl_info *info, const struct drvxpc_hdr *hdr)
{
	const struct drvnucleus_answering *ans = info->user_ptr[0];
	struct drvnucleus_answer *a;
	struct drvnucleus_dev *d;
	void *copy, *old;

	if (!ans)
		return false;
	info->user_ptr[0] = NULL;
	d = ans->d;
	/* A sliced driver's answer is up to 48 KiB (6.1 has no kvmemdup). */
	copy = kvmalloc(hdr->len, GFP_KERNEL);
	if (!copy)
		return false;
	memcpy(copy, hdr, hdr->len);
	mutex_lock(&d->answers_lock);
	a = &d->answers[d->next_answer];
	d->next_answer = (d->next_answer + 1) % DRVXPC_ANSWERS_KEPT;
	old = a->msg;
	a->id = ans->id;
	a->op = hdr->op;
	a->len = hdr->len;
	a->msg = copy;
	mutex_unlock(&d->answers_lock);
	kvfree(old);
	return ans->withhold;
}

void drvnucleus_answers_free(struct drvnucleus_dev *d)
{
	int i;

	mutex_lock(&d->answers_lock);
	for (i = 0; i < DRVXPC_ANSWERS_KEPT; i++) {
		kvfree(d->answers[i].msg);
		d->answers[i].msg = NULL;
		d->answers[i].id = 0;
	}
	mutex_unlock(&d->answers_lock);
}

/* Finish a reply and send it; a downcall's is kept by its id (and, if
 * its caller says so, not sent). */
static int send_reply(struct genl_info *info, struct sk_buff *skb,
		      struct drvxpc_hdr *hdr)
{
	msg_end(skb, hdr);
	if (answer_keep(info, hdr)) {
		nlmsg_free(skb);
		return 0;
	}
	return genlmsg_reply(skb, info);
}

static int reply(struct genl_info *info, const struct drvxpc_hdr *req,
		 s32 status, u16 bad_attr, const char *why, u32 value,
		 bool with_value)
{
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;

	skb = msg_new(info->snd_portid, info->snd_seq, req->op,
		      DRVXPC_F_REPLY, req->seq, req->instance, status, &hdr);
	if (!skb)
		return -ENOMEM;
	if ((bad_attr && nla_put_u16(skb, DRVXPC_A_ERR_ATTR, bad_attr)) ||
	    (why && nla_put_string(skb, DRVXPC_A_ERR_MSG, why)) ||
	    (with_value && nla_put_u32(skb, DRVXPC_A_REG_VALUE, value)) ||
	    (req->op == DRVXPC_OP_REGISTER && !status &&
	     nla_put_u32(skb, DRVXPC_A_VERSION, DRVXPC_VERSION))) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return send_reply(info, skb, hdr);
}

/* A device's identity: its bus's attributes, or the PCI function's. */
static int put_identity(struct sk_buff *skb, struct drvnucleus_dev *d, bool full)
{
	struct pci_dev *p = d->pdev;

	if (d->bus)
		return d->bus->put_identity(skb, d);
	if (nla_put_u16(skb, DRVXPC_A_PCI_VENDOR, p->vendor) ||
	    nla_put_u16(skb, DRVXPC_A_PCI_DEVICE, p->device) ||
	    nla_put_string(skb, DRVXPC_A_PCI_SLOT, pci_name(p)))
		return -EMSGSIZE;
	if (full && (nla_put_u8(skb, DRVXPC_A_PCI_REVISION, p->revision) ||
		     nla_put_u32(skb, DRVXPC_A_BAR_SIZE, d->bar_len) ||
		     nla_put_u32(skb, DRVXPC_A_IRQ, p->irq)))
		return -EMSGSIZE;
	return 0;
}

/* Called with drvnucleus_lock held. */
static void announce(struct drvnucleus_dev *d)
{
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;

	if (!daemon_portid)
		return;
	skb = msg_new(daemon_portid, 0, DRVXPC_OP_DEVICE_ADD, DRVXPC_F_NOTIFY,
		      0, d->instance, 0, &hdr);
	if (!skb)
		return;
	if (put_identity(skb, d, true) ||
	    nla_put_u8(skb, DRVXPC_A_CLASS, d->chip->cls->id)) {
		nlmsg_free(skb);
		return;
	}
	msg_end(skb, hdr);
	genlmsg_unicast(daemon_net, skb, daemon_portid);
}


/* --- upcalls ------------------------------------------------------------- */

/*
 * Every upcall stays on pending_upcalls, with a copy of its message, until
 * the daemon answers it: when the daemon dies (drivermgrd's SIGKILL, its
 * restart by systemd), what it left unanswered is sent again to the next
 * daemon that registers, under the same seq, and the u-driver (which gets
 * the seq as UPCALL_ID) answers one it has already served from its cache.
 * So an upcall is answered exactly once across the daemon's death, if a
 * daemon is back before the deadline.  Synchronous waiters live on their
 * caller's stack; asynchronous ones are allocated and dropped after
 * async_upcall_keep_ms.  Once a daemon has registered, asynchronous upcalls
 * made while none is there wait on the list for the next; a synchronous
 * one gets -EAGAIN at once, as before any daemon.
 */
static unsigned int upcall_timeout_ms = 3000;
module_param(upcall_timeout_ms, uint, 0644);
MODULE_PARM_DESC(upcall_timeout_ms,
		 "deadline of an upcall the kernel waits for (ms; then -EAGAIN)");

/*
 * An upcall whose deadline passes while no daemon is registered (the one it
 * was sent to died with it, and systemd's restart has not registered yet:
 * a loaded machine can take longer than the deadline to start drivermgrd
 * again) waits this much longer for the next daemon; redelivered to it,
 * it gets a new deadline.
 */
static unsigned int daemon_restart_ms = 10000;
module_param(daemon_restart_ms, uint, 0644);
MODULE_PARM_DESC(daemon_restart_ms,
		 "how long past its deadline an upcall waits for a daemon to register again after one died (ms)");

static unsigned int async_upcall_keep_ms = 30000;
module_param(async_upcall_keep_ms, uint, 0644);
MODULE_PARM_DESC(async_upcall_keep_ms,
		 "how long an unanswered upcall nobody waits for is kept for redelivery (ms)");

#define DRVNUCLEUS_MAX_ASYNC	256

struct drvnucleus_pending {
	struct list_head node;
	u32 seq;
	s32 status;
	u32 value;
	bool waited;		/* a caller sleeps on done; else kfree()d */
	bool redelivered;	/* sent again to a new daemon: deadline anew */
	unsigned long expires;	/* jiffies; async only */
	/* The reply's DRVXPC_A_USB_DATA goes here, at most @data_max bytes;
	 * @data_len says how many came.  NULL: none wanted. */
	void *data;
	u16 data_max;
	u16 data_len;
	/* All of the reply's attributes go here instead (a sliced driver's
	 * answer), at most @attrs_max bytes.  NULL: not wanted. */
	void *attrs;
	u32 attrs_max;
	u32 attrs_len;
	struct sk_buff *msg;	/* a copy for redelivery; NULL: none */
	struct completion done;
};

static LIST_HEAD(pending_upcalls);
static DEFINE_SPINLOCK(pending_lock);
static unsigned int pending_async;
static bool daemon_seen;	/* a daemon has registered since load */
/*
 * The last daemon's socket closed without UNREGISTER: it died, and its
 * restarter (systemd) starts the next.  An upcall made meanwhile is kept
 * for that one, as those it left unanswered are, instead of failing: an
 * aplay started during the restart plays.  Cleared by UNREGISTER (a daemon
 * stopped on purpose: nothing would answer) and by the next REGISTER.
 */
static bool daemon_expected;

static void pending_free(struct drvnucleus_pending *p)
{
	kfree_skb(p->msg);
	if (!p->waited)
		kfree(p);
}

/* Async entries past their time; pending_lock held.  Moved to @gone. */
static void pending_expire(struct list_head *gone)
{
	struct drvnucleus_pending *p, *tmp;

	list_for_each_entry_safe(p, tmp, &pending_upcalls, node) {
		if (p->waited || time_before(jiffies, p->expires))
			continue;
		list_move_tail(&p->node, gone);
		pending_async--;
	}
}

static void pending_free_list(struct list_head *gone)
{
	struct drvnucleus_pending *p, *tmp;

	list_for_each_entry_safe(p, tmp, gone, node) {
		list_del(&p->node);
		pending_free(p);
	}
}

/*
 * Puts @p on the list and sends @skb to the daemon, if one is registered;
 * consumes @skb.  Under pending_lock the list and daemon_portid change
 * together, so a REGISTER either sees @p (and redelivers it) or comes
 * after the send: each daemon gets an upcall once.
 */
static int pending_send(struct drvnucleus_pending *p, struct sk_buff *skb)
{
	LIST_HEAD(gone);
	u32 portid;

	spin_lock_bh(&pending_lock);
	pending_expire(&gone);
	if (!p->waited && pending_async >= DRVNUCLEUS_MAX_ASYNC) {
		spin_unlock_bh(&pending_lock);
		pending_free_list(&gone);
		nlmsg_free(skb);
		return -ENOBUFS;
	}
	portid = daemon_portid;
	/* A caller that would wait for a daemon not there gets EAGAIN now
	 * when none is expected (never one yet, or it was stopped); after
	 * one died, it waits for the next, as what was already sent does. */
	if (p->waited && !portid && !daemon_expected) {
		spin_unlock_bh(&pending_lock);
		pending_free_list(&gone);
		nlmsg_free(skb);
		return -EAGAIN;
	}
	list_add_tail(&p->node, &pending_upcalls);
	if (!p->waited)
		pending_async++;
	spin_unlock_bh(&pending_lock);
	pending_free_list(&gone);
	if (!portid) {
		nlmsg_free(skb);
		return 0;
	}
	nlmsg_hdr(skb)->nlmsg_pid = portid;
	/* genlmsg_unicast() consumes the skb whatever happens. */
	return genlmsg_unicast(daemon_net, skb, portid);
}

/* Takes @p off the list if it is still there; true if it was. */
static bool pending_remove(struct drvnucleus_pending *p)
{
	bool was;

	spin_lock_bh(&pending_lock);
	was = !list_empty(&p->node);
	if (was) {
		list_del_init(&p->node);
		if (!p->waited)
			pending_async--;
	}
	spin_unlock_bh(&pending_lock);
	return was;
}

void drvnucleus_upcall_async(struct drvnucleus_dev *d, u16 op,
			     int (*fill)(struct sk_buff *skb, void *arg),
			     void *arg)
{
	struct drvnucleus_pending *p;
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;

	if (!READ_ONCE(daemon_seen))
		return;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return;
	skb = msg_new(READ_ONCE(daemon_portid), 0, op, DRVXPC_F_REQUEST,
		      atomic_inc_return(&upcall_seq), d->instance, 0, &hdr);
	if (!skb)
		goto err_free;
	if (fill && fill(skb, arg))
		goto err_skb;
	msg_end(skb, hdr);
	p->seq = hdr->seq;
	p->expires = jiffies + msecs_to_jiffies(async_upcall_keep_ms);
	INIT_LIST_HEAD(&p->node);
	p->msg = skb_copy(skb, GFP_KERNEL);
	if (!p->msg)
		goto err_skb;
	/* A send that fails leaves it for the next daemon, or its expiry. */
	if (pending_send(p, skb) == -ENOBUFS)
		pending_free(p);
	return;

err_skb:
	nlmsg_free(skb);
err_free:
	kfree(p);
}

struct sk_buff *drvnucleus_upcall_new(struct drvnucleus_dev *d, u16 op,
				      struct drvxpc_hdr **hdr)
{
	u32 portid = READ_ONCE(daemon_portid);

	if (!portid && !READ_ONCE(daemon_expected))
		return NULL;
	return msg_new(portid, 0, op, DRVXPC_F_REQUEST, 0, d->instance, 0, hdr);
}

struct sk_buff *drvnucleus_upcall_new_sized(struct drvnucleus_dev *d, u16 op,
					    size_t size,
					    struct drvxpc_hdr **hdr)
{
	u32 portid = READ_ONCE(daemon_portid);

	if (!portid && !READ_ONCE(daemon_expected))
		return NULL;
	return msg_new_sized(portid, 0, op, DRVXPC_F_REQUEST, 0, d->instance,
			     0, size, hdr);
}

static int upcall_wait(struct sk_buff *skb, struct drvxpc_hdr *hdr,
		       struct drvnucleus_pending *p);

int drvnucleus_upcall_wait(struct sk_buff *skb, struct drvxpc_hdr *hdr,
			   u32 *value)
{
	return drvnucleus_upcall_wait_data(skb, hdr, value, NULL, 0, NULL);
}

int drvnucleus_upcall_wait_attrs(struct sk_buff *skb, struct drvxpc_hdr *hdr,
				 void *buf, u32 max, u32 *len)
{
	struct drvnucleus_pending p = { .status = -EAGAIN, .waited = true,
					.attrs = buf, .attrs_max = max };
	int err = upcall_wait(skb, hdr, &p);

	*len = err ? 0 : p.attrs_len;
	return err ?: p.status;
}

int drvnucleus_upcall_wait_data(struct sk_buff *skb, struct drvxpc_hdr *hdr,
				u32 *value, void *data, u16 data_max,
				u16 *data_len)
{
	struct drvnucleus_pending p = { .status = -EAGAIN, .waited = true,
					.data = data, .data_max = data_max };
	int err = upcall_wait(skb, hdr, &p);

	if (err)
		return err;
	if (value)
		*value = p.value;
	if (data_len)
		*data_len = p.data_len;
	return p.status;
}

/* Send @skb as a synchronous upcall on @p and wait for the answer: 0 (the
 * answer's status is p->status), or -EAGAIN/-EINTR if none came. */
static int upcall_wait(struct sk_buff *skb, struct drvxpc_hdr *hdr,
		       struct drvnucleus_pending *p)
{
	u16 op = hdr->op;	/* hdr is in the skb, gone once sent */
	unsigned long wait = msecs_to_jiffies(upcall_timeout_ms);
	bool again, orphaned, grace = true;
	long left;
	int err;

	init_completion(&p->done);
	INIT_LIST_HEAD(&p->node);
	p->seq = atomic_inc_return(&upcall_seq);
	hdr->seq = p->seq;
	hdr->timeout_us = min_t(u64, (u64)upcall_timeout_ms * 1000, U32_MAX);
	msg_end(skb, hdr);
	p->msg = skb_copy(skb, GFP_KERNEL);
	err = pending_send(p, skb);
	while (!err) {
		left = wait_for_completion_killable_timeout(&p->done, wait);
		if (left < 0) {
			err = left;
			break;
		}
		if (left > 0)
			break;
		spin_lock_bh(&pending_lock);
		again = p->redelivered && !list_empty(&p->node);
		p->redelivered = false;
		orphaned = !daemon_portid && !list_empty(&p->node);
		spin_unlock_bh(&pending_lock);
		/* Sent again to a daemon that came back: its deadline. */
		if (again) {
			wait = msecs_to_jiffies(upcall_timeout_ms);
			continue;
		}
		/* No daemon since the one it was sent to died: once, the
		 * time systemd takes to start the next. */
		if (orphaned && grace && daemon_restart_ms) {
			grace = false;
			wait = msecs_to_jiffies(daemon_restart_ms);
			continue;
		}
		pr_warn_ratelimited("drvnucleus: upcall %s (seq %u) not answered within %u ms\n",
				    drvxpc_op_name(op) ?: "?", p->seq,
				    upcall_timeout_ms);
		break;
	}
	pending_remove(p);
	kfree_skb(p->msg);
	if (err)
		return err == -ERESTARTSYS ? -EINTR : -EAGAIN;
	return 0;
}

/* A reply to an upcall: wake its waiter, or free it if nobody waits. */
static void upcall_answered(struct genl_info *info, const struct drvxpc_hdr *h)
{
	const struct nlattr *v = find_attr(h, DRVXPC_A_MIXER_VALUE);
	const struct nlattr *data = find_attr(h, DRVXPC_A_USB_DATA);
	struct drvnucleus_pending *p, *found = NULL;

	if (info->snd_portid != READ_ONCE(daemon_portid))
		return;
	if (h->status)
		pr_debug("drvnucleus: upcall %s (seq %u) failed: %d\n",
			 drvxpc_op_name(h->op) ?: "?", h->seq, h->status);
	spin_lock_bh(&pending_lock);
	list_for_each_entry(p, &pending_upcalls, node) {
		if (p->seq != h->seq)
			continue;
		/* A u-driver's status is a negative errno; keep it one. */
		p->status = h->status <= 0 && h->status >= -MAX_ERRNO ? h->status : -EIO;
		p->value = v ? nla_get_u32(v) : 0;
		if (p->attrs) {
			/* h->len was checked against the message's length. */
			u32 n = h->len - sizeof(*h);

			if (n > p->attrs_max) {
				if (!p->status)
					p->status = -EMSGSIZE;
			} else {
				memcpy(p->attrs, h + 1, n);
				p->attrs_len = n;
			}
		}
		if (p->data && data) {
			/* The attribute's length is checked against
			 * drvxpc.h's table before the op runs. */
			p->data_len = min_t(u16, nla_len(data), p->data_max);
			memcpy(p->data, nla_data(data), p->data_len);
		}
		list_del_init(&p->node);
		if (p->waited)
			complete(&p->done);
		else {
			pending_async--;
			found = p;
		}
		break;
	}
	spin_unlock_bh(&pending_lock);
	if (found)
		pending_free(found);
}

/*
 * A daemon registered: it becomes the one upcalls go to, and @q gets
 * copies of the upcalls the one before left unanswered, in their order,
 * for upcalls_redeliver() once the daemon has its DEVICE_ADDs.
 */
static void upcalls_take_over(u32 portid, struct sk_buff_head *q)
{
	struct drvnucleus_pending *p;
	struct sk_buff *skb;
	LIST_HEAD(gone);

	__skb_queue_head_init(q);
	spin_lock_bh(&pending_lock);
	pending_expire(&gone);
	WRITE_ONCE(daemon_portid, portid);
	WRITE_ONCE(daemon_seen, true);
	WRITE_ONCE(daemon_expected, false);
	list_for_each_entry(p, &pending_upcalls, node) {
		skb = p->msg ? skb_copy(p->msg, GFP_ATOMIC) : NULL;
		if (!skb)
			continue;
		p->redelivered = true;
		nlmsg_hdr(skb)->nlmsg_pid = portid;
		__skb_queue_tail(q, skb);
	}
	spin_unlock_bh(&pending_lock);
	pending_free_list(&gone);
}

static void upcalls_redeliver(u32 portid, struct sk_buff_head *q)
{
	struct sk_buff *skb;
	unsigned int n = 0;

	while ((skb = __skb_dequeue(q)))
		if (!genlmsg_unicast(daemon_net, skb, portid))
			n++;
	if (n)
		pr_info("drvnucleus: %u unanswered upcall(s) sent again to the new daemon (port %u)\n",
			n, portid);
}

/*
 * The daemon's socket closed.  Its upcalls stay pending for the next
 * daemon; waiters keep their deadline.
 */
static int drvnucleus_netlink_event(struct notifier_block *nb,
				    unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct drvnucleus_pending *p;
	unsigned int left = 0;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid || n->portid != READ_ONCE(daemon_portid))
		return NOTIFY_DONE;
	spin_lock_bh(&pending_lock);
	WRITE_ONCE(daemon_portid, 0);
	WRITE_ONCE(daemon_expected, true);
	list_for_each_entry(p, &pending_upcalls, node)
		left++;
	spin_unlock_bh(&pending_lock);
	pr_info("drvnucleus: daemon (port %u) went away; %u upcall(s) wait for the next one\n",
		n->portid, left);
	return NOTIFY_DONE;
}

/*
 * UNREGISTER: the daemon stops on purpose.  No daemon is expected: the
 * upcalls waiting for an answer fail now (EAGAIN), later ones at once, as
 * before any daemon; those nobody waits for stay until they expire, for a
 * daemon that is started again.
 */
static void daemon_unregister(void)
{
	struct drvnucleus_pending *p, *tmp;
	unsigned int failed = 0;

	spin_lock_bh(&pending_lock);
	WRITE_ONCE(daemon_portid, 0);
	WRITE_ONCE(daemon_expected, false);
	list_for_each_entry_safe(p, tmp, &pending_upcalls, node) {
		if (!p->waited)
			continue;
		p->status = -EAGAIN;
		list_del_init(&p->node);
		complete(&p->done);
		failed++;
	}
	spin_unlock_bh(&pending_lock);
	pr_info("drvnucleus: daemon unregistered; %u waiting upcall(s) failed\n", failed);
}

/* Module unload: nothing can answer the asynchronous ones any more. */
static void pending_drop_all(void)
{
	struct drvnucleus_pending *p, *tmp;
	LIST_HEAD(gone);

	spin_lock_bh(&pending_lock);
	list_for_each_entry_safe(p, tmp, &pending_upcalls, node) {
		if (p->waited) {
			list_del_init(&p->node);
			complete(&p->done);
		} else {
			list_move_tail(&p->node, &gone);
			pending_async--;
		}
	}
	spin_unlock_bh(&pending_lock);
	pending_free_list(&gone);
}

static struct notifier_block drvnucleus_netlink_notifier = {
	.notifier_call = drvnucleus_netlink_event,
};

/* --- the one command: a drvxpc message ---------------------------------- */

static struct drvnucleus_dev *find_dev(u32 instance)
{
	int i;

	for (i = 0; i < DRVNUCLEUS_MAX_DEVICES; i++)
		if (devices[i] && devices[i]->instance == instance)
			return devices[i];
	return NULL;
}

/*
 * The device of @instance, held (d->users) so that it stays until
 * dev_put() even once out of the table; drvnucleus_lock held.
 */
static struct drvnucleus_dev *dev_get(u32 instance)
{
	struct drvnucleus_dev *d = find_dev(instance);

	if (d)
		atomic_inc(&d->users);
	return d;
}

static void dev_put(struct drvnucleus_dev *d)
{
	if (d && atomic_dec_and_test(&d->users))
		wake_up(&d->users_gone);
}

static struct drvnucleus_obj *find_obj(struct drvnucleus_dev *d, u32 id)
{
	struct drvnucleus_obj *o;

	list_for_each_entry(o, &d->objects, node)
		if (o->id == id)
			return o;
	return NULL;
}

struct drvnucleus_obj *drvnucleus_obj_alloc(struct drvnucleus_dev *d, u32 size,
					    u8 role)
{
	struct drvnucleus_obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return NULL;
	o->size = size;
	o->role = role;
	o->cpu = dma_alloc_coherent(&d->pdev->dev, size, &o->dma, GFP_KERNEL);
	if (!o->cpu) {
		kfree(o);
		return NULL;
	}
	o->id = atomic_inc_return(&next_object_id);
	list_add_tail(&o->node, &d->objects);
	atomic_inc(&live_objects);
	return o;
}

void drvnucleus_obj_free(struct drvnucleus_dev *d, struct drvnucleus_obj *o)
{
	list_del(&o->node);
	dma_free_coherent(&d->pdev->dev, o->size, o->cpu, o->dma);
	kfree(o);
	atomic_dec(&live_objects);
}

int drvnucleus_reply(struct genl_info *info, const struct drvxpc_hdr *req,
		     s32 status, u16 bad_attr, const char *why)
{
	return reply(info, req, status, bad_attr, why, 0, false);
}

struct sk_buff *drvnucleus_reply_new(struct genl_info *info,
				     const struct drvxpc_hdr *req,
				     struct drvxpc_hdr **hdr)
{
	return msg_new(info->snd_portid, info->snd_seq, req->op, DRVXPC_F_REPLY,
		       req->seq, req->instance, 0, hdr);
}

struct sk_buff *drvnucleus_reply_new_sized(struct genl_info *info,
					   const struct drvxpc_hdr *req,
					   size_t size,
					   struct drvxpc_hdr **hdr)
{
	return msg_new_sized(info->snd_portid, info->snd_seq, req->op,
			     DRVXPC_F_REPLY, req->seq, req->instance, 0, size,
			     hdr);
}

bool drvnucleus_from_daemon(const struct genl_info *info)
{
	return info->snd_portid && info->snd_portid == READ_ONCE(daemon_portid);
}

bool drvnucleus_daemon_registered(void)
{
	return READ_ONCE(daemon_portid) != 0;
}

int drvnucleus_reply_send(struct genl_info *info, struct sk_buff *skb,
			  struct drvxpc_hdr *hdr)
{
	return send_reply(info, skb, hdr);
}

void drvnucleus_obj_repin(struct drvnucleus_obj *old, struct drvnucleus_obj *cur)
{
	if (old && old != cur)
		old->pinned = false;
	if (cur)
		cur->pinned = true;
}

struct drvnucleus_obj *drvnucleus_obj_by_role(struct drvnucleus_dev *d, u8 role,
					      u32 min)
{
	struct drvnucleus_obj *o, *found = NULL;

	list_for_each_entry(o, &d->objects, node)
		if (o->role == role && o->size >= min)
			found = o;
	return found;
}

const struct nlattr *drvnucleus_attr(const struct drvxpc_hdr *h, u16 type)
{
	return find_attr(h, type);
}

/*
 * The ComboLock's release (process context, after a downcall that held it):
 * the class redoes what the data path left.  The device cannot go
 * meanwhile: removal waits for the downcall to end (d->users).
 */
static void datapath_release(void *arg, unsigned long deferred)
{
	struct drvnucleus_dev *d = arg;

	if (d->chip->cls->release)
		d->chip->cls->release(d, deferred);
}

/* Whether a downcall touching [off, off + width) holds the ComboLock. */
static bool datapath_reg(const struct drvnucleus_dev *d, u32 off, u32 width)
{
	return d->chip->datapath_reg && d->chip->datapath_reg(d, off, width);
}

/* A downcall wrote a data-path register (the lock still held in user
 * mode): the chip brings its data path's view up to date. */
static void datapath_written(struct drvnucleus_dev *d, u32 off, u32 width,
			     u32 value)
{
	if (d->chip->reg_written && datapath_reg(d, off, width))
		d->chip->reg_written(d, off, width, value);
}

/* After a downcall's data-path writes (the lock still held): the chip puts
 * back a state it may not be left in (writes_done).  A refusal of its own
 * takes the place of none; an earlier one (a step refused, a poll timed
 * out) stands, the chip put back all the same. */
static void writes_done(struct drvnucleus_dev *d, int *err, u16 *bad,
			u16 attr, const char **why)
{
	const char *w = NULL;
	int e;

	if (!d->chip->writes_done)
		return;
	e = d->chip->writes_done(d, &w);
	if (!e || *err)
		return;
	*err = e;
	*bad = attr;
	*why = w ? w : "the downcall left the chip in a state it may not stay in";
}

static u32 rd(struct drvnucleus_dev *d, u32 off, u32 width)
{
	if (width == 1)
		return ioread8(d->bar + off);
	if (width == 2)
		return ioread16(d->bar + off);
	return ioread32(d->bar + off);
}

static void wr(struct drvnucleus_dev *d, u32 off, u32 width, u32 v)
{
	if (width == 1)
		iowrite8(v, d->bar + off);
	else if (width == 2)
		iowrite16(v, d->bar + off);
	else
		iowrite32(v, d->bar + off);
}

u32 drvnucleus_merged(struct drvnucleus_dev *d, u32 reg, u32 off, u32 width,
		      u32 value)
{
	u32 shift = (off - reg) * 8;
	u32 mask = width == 4 ? ~0U : ((1U << (width * 8)) - 1) << shift;

	if (width == 4 && off == reg)
		return value;
	return (ioread32(d->bar + reg) & ~mask) | ((value << shift) & mask);
}

u32 drvnucleus_obj_largest(struct drvnucleus_dev *d, int role)
{
	struct drvnucleus_obj *o;
	u32 max = 0;

	list_for_each_entry(o, &d->objects, node)
		if ((role < 0 || o->role == role) && o->size > max)
			max = o->size;
	return max;
}

u32 drvnucleus_dma_room(struct drvnucleus_dev *d, u32 addr)
{
	struct drvnucleus_obj *o;

	list_for_each_entry(o, &d->objects, node)
		if (!upper_32_bits(o->dma) && addr >= o->dma &&
		    addr - o->dma < o->size)
			return o->size - (u32)(addr - o->dma);
	return 0;
}

/* The chip's word on a write before it happens (write_check). */
static int write_allowed(struct drvnucleus_dev *d, u32 off, u32 width,
			 u32 value, bool dma, const char **why)
{
	int err;

	*why = NULL;
	if (!d->chip->write_check)
		return 0;
	err = d->chip->write_check(d, off, width, value, dma, why);
	if (err && !*why)
		*why = "register write refused";
	return err;
}

/*
 * REG_SEQ: every step's target checked first, then run in order, each
 * write's value by the chip's write_check as it comes (a step before may
 * have moved an index register); one result per read or poll.  POLL waits
 * at most its wait (default 1 ms), DELAY at most DRVXPC_DELAY_MAX_US and
 * the delays together DRVXPC_SEQ_MAX_DELAY_US: the caller is a process,
 * never the data path.  A sequence touching a register the data path
 * shares holds the ComboLock in user mode from the first step to the last.
 */
static int reg_seq(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	const struct nlattr *seq = find_attr(h, DRVXPC_A_REG_SEQ);
	const struct nlattr *packed = find_attr(h, DRVXPC_A_REG_STEPS);
	bool shared = false;
	int i, n = 0, count = 0, err;
	const char *why = NULL;
	struct drvnucleus_regstep *st;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	u16 bad = 0;
	u32 *res;

	if (!seq == !packed)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_SEQ, "REG_SEQ needs REG_SEQ or REG_STEPS (one of them)", 0, false);
	st = kcalloc(DRVXPC_SEQ_MAX_OPS, sizeof(*st), GFP_KERNEL);
	res = kcalloc(DRVXPC_SEQ_MAX_OPS, sizeof(u32), GFP_KERNEL);
	if (!st || !res) {
		kfree(st);
		kfree(res);
		return -ENOMEM;
	}
	err = seq ? drvnucleus_parse_nested(d->bar_len, seq, st, &count, &bad)
		  : drvnucleus_parse_packed(d->bar_len, packed, st, &count, &bad);
	if (err)
		goto out_refused;
	for (i = 0; i < count; i++)
		if (st[i].kind != DRVXPC_REGOP_DELAY && datapath_reg(d, st[i].off, st[i].width))
			shared = true;
	if (shared)
		combolock_lock_user(&d->cl);
	for (i = 0; i < count; i++) {
		struct drvnucleus_regstep *s = &st[i];
		u32 waited = 0, x;

		switch (s->kind) {
		case DRVXPC_REGOP_DELAY:
			fsleep(s->wait);
			break;
		case DRVXPC_REGOP_READ:
			res[n++] = rd(d, s->off, s->width);
			break;
		case DRVXPC_REGOP_WRITE:
			err = write_allowed(d, s->off, s->width, s->value,
					    false, &why);
			if (err) {
				bad = seq ? DRVXPC_A_REG_OP : DRVXPC_A_REG_STEPS;
				break;
			}
			wr(d, s->off, s->width, s->value);
			if (shared)
				datapath_written(d, s->off, s->width, s->value);
			break;
		case DRVXPC_REGOP_POLL:
			while (((x = rd(d, s->off, s->width)) & s->mask) != s->value &&
			       waited < s->wait) {
				udelay(10);
				waited += 10;
			}
			if ((x & s->mask) != s->value) {
				err = -ETIMEDOUT;
				bad = seq ? DRVXPC_A_REG_OP : DRVXPC_A_REG_STEPS;
			} else {
				res[n++] = x;
			}
			break;
		}
		if (err)
			break;
	}
	if (shared) {
		writes_done(d, &err, &bad, seq ? DRVXPC_A_REG_SEQ : DRVXPC_A_REG_STEPS, &why);
		combolock_unlock_user(&d->cl);
	}
	if (err)
		goto out_refused;
	kfree(st);
	skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
		      h->instance, 0, &rh);
	if (!skb || (n && nla_put(skb, DRVXPC_A_REG_RESULTS, n * sizeof(u32), res))) {
		kfree(res);
		if (skb)
			nlmsg_free(skb);
		return -EMSGSIZE;
	}
	kfree(res);
	return send_reply(info, skb, rh);

out_refused:
	kfree(st);
	kfree(res);
	return reply(info, h, err, bad, why ? why : "REG_SEQ step refused", 0, false);
}

static int dma_op(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	const struct nlattr *size_a = find_attr(h, DRVXPC_A_DMA_SIZE);
	const struct nlattr *role_a = find_attr(h, DRVXPC_A_OBJECT_ROLE);
	const struct nlattr *handle_a = find_attr(h, DRVXPC_A_DMA_HANDLE);
	const struct nlattr *off_a = find_attr(h, DRVXPC_A_DMA_OFFSET);
	const struct nlattr *shift_a;
	struct drvnucleus_obj *o;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	u32 off, width, doff, addr;
	const char *why = NULL;
	bool shared;
	u8 shift;
	u16 bad;
	int err;

	if (!d->pdev)
		return reply(info, h, -EOPNOTSUPP, 0, "no DMA on this device's bus", 0, false);
	if (h->op == DRVXPC_OP_DMA_ALLOC) {
		if (!size_a)
			return reply(info, h, -EINVAL, DRVXPC_A_DMA_SIZE, "missing DMA_SIZE", 0, false);
		o = drvnucleus_obj_alloc(d, nla_get_u32(size_a),
					 role_a ? nla_get_u8(role_a) : 0);
		if (!o)
			return reply(info, h, -ENOMEM, DRVXPC_A_DMA_SIZE, "cannot allocate DMA memory", 0, false);
		skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
			      h->instance, 0, &rh);
		if (!skb || nla_put_u32(skb, DRVXPC_A_DMA_HANDLE, o->id)) {
			if (skb)
				nlmsg_free(skb);
			return -EMSGSIZE;
		}
		return send_reply(info, skb, rh);
	}
	o = handle_a ? find_obj(d, nla_get_u32(handle_a)) : NULL;
	if (!o)
		return reply(info, h, -ENOENT, DRVXPC_A_DMA_HANDLE, "no such DMA handle for this device", 0, false);
	if (h->op == DRVXPC_OP_DMA_FREE) {
		if (o->pinned)
			return reply(info, h, -EBUSY, DRVXPC_A_DMA_HANDLE, "buffer in use by the nucleus's data path", 0, false);
		drvnucleus_obj_free(d, o);
		return reply(info, h, 0, 0, NULL, 0, false);
	}
	/*
	 * REG_WRITE_DMA: the bus address never leaves the kernel.  A 32-bit
	 * register takes it whole; a 16-bit one the half DMA_SHIFT selects
	 * (a ring base split over two registers).
	 */
	err = drvnucleus_reg_target(d->bar_len, (const void *)(h + 1), h->len - sizeof(*h),
				    &off, &width, &bad);
	if (err)
		return reply(info, h, err, bad, "register refused", 0, false);
	if (width != 4 && width != 2)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_WIDTH, "a DMA address goes to a 16- or 32-bit register", 0, false);
	shift_a = find_attr(h, DRVXPC_A_DMA_SHIFT);
	shift = shift_a ? nla_get_u8(shift_a) : 0;	/* 0..31: validated */
	doff = off_a ? nla_get_u32(off_a) : 0;
	if (doff >= o->size)
		return reply(info, h, -ERANGE, DRVXPC_A_DMA_OFFSET, "offset past the buffer", 0, false);
	if (upper_32_bits(o->dma + doff))
		return reply(info, h, -ERANGE, DRVXPC_A_DMA_HANDLE, "buffer above 4 GiB", 0, false);
	addr = lower_32_bits(o->dma + doff) >> shift;
	if (width == 2)
		addr &= 0xffff;
	shared = datapath_reg(d, off, width);
	if (shared)
		combolock_lock_user(&d->cl);
	err = write_allowed(d, off, width, addr, true, &why);
	if (!err) {
		wr(d, off, width, addr);
		if (shared)
			datapath_written(d, off, width, addr);
	}
	if (shared)
		combolock_unlock_user(&d->cl);
	if (err)
		return reply(info, h, err, DRVXPC_A_REG_OFFSET, why, 0, false);
	return reply(info, h, 0, 0, NULL, 0, false);
}

/* One OBJECT record of DEVICE_INFO: the nest, ID, KIND, ROLE, DMA_SIZE. */
#define OBJECT_RECORD_SIZE	(nla_total_size(0) + 2 * nla_total_size(sizeof(u32)) + \
				 2 * nla_total_size(sizeof(u8)))

static int device_info(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	struct drvnucleus_obj *o;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	size_t objects = 0;

	/* Every object, however many the u-driver allocated: a page's worth
	 * ran out at about a hundred, and the status read failed. */
	list_for_each_entry(o, &d->objects, node)
		objects++;
	skb = msg_new_sized(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY,
			    h->seq, h->instance, 0, objects * OBJECT_RECORD_SIZE, &rh);
	if (!skb)
		return -ENOMEM;
	if (put_identity(skb, d, false))
		goto err_size;
	if (d->chip->info && d->chip->info(skb, d))
		goto err_size;
	if (d->chip->cls->info && d->chip->cls->info(skb, d))
		goto err_size;
	if (nla_put_u64_64bit(skb, DRVXPC_A_COMBO_USER_HOLDS, READ_ONCE(d->cl.user_holds), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_COMBO_DEFERRALS, READ_ONCE(d->cl.deferrals), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_XPC_BYTES, atomic64_read(&xpc_bytes[d->instance]), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_XPC_MESSAGES, atomic64_read(&xpc_msgs[d->instance]), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_XPC_REGIO_BYTES, atomic64_read(&xpc_regio_bytes[d->instance]), 0))
		goto err_size;
	list_for_each_entry(o, &d->objects, node) {
		struct nlattr *n = nla_nest_start(skb, DRVXPC_A_OBJECT);

		if (!n || nla_put_u32(skb, DRVXPC_A_OBJECT_ID, o->id) ||
		    nla_put_u8(skb, DRVXPC_A_OBJECT_KIND, DRVXPC_OBJ_DMA) ||
		    nla_put_u8(skb, DRVXPC_A_OBJECT_ROLE, o->role) ||
		    nla_put_u32(skb, DRVXPC_A_DMA_SIZE, o->size))
			goto err_size;
		nla_nest_end(skb, n);
	}
	return send_reply(info, skb, rh);

err_size:
	nlmsg_free(skb);
	return -EMSGSIZE;
}

/* REG_READ / REG_WRITE: the same target checks as each REG_SEQ step. */
static int reg_access(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	const struct nlattr *v = find_attr(h, DRVXPC_A_REG_VALUE);
	u32 off, width, val = 0;
	const char *why = NULL;
	bool shared;
	u16 bad;
	int err;

	err = drvnucleus_reg_target(d->bar_len, (const void *)(h + 1), h->len - sizeof(*h),
				    &off, &width, &bad);
	if (err)
		return reply(info, h, err, bad, "register refused", 0, false);
	if (h->op == DRVXPC_OP_REG_WRITE && !v)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_VALUE, "missing REG_VALUE", 0, false);
	shared = datapath_reg(d, off, width);
	if (shared)
		combolock_lock_user(&d->cl);
	if (h->op == DRVXPC_OP_REG_READ)
		val = rd(d, off, width);
	else
		err = write_allowed(d, off, width, nla_get_u32(v), false, &why);
	if (h->op == DRVXPC_OP_REG_WRITE && !err)
		wr(d, off, width, nla_get_u32(v));
	if (shared) {
		if (h->op == DRVXPC_OP_REG_WRITE && !err)
			datapath_written(d, off, width, nla_get_u32(v));
		if (h->op == DRVXPC_OP_REG_WRITE)
			writes_done(d, &err, &bad, DRVXPC_A_REG_VALUE, &why);
		combolock_unlock_user(&d->cl);
	}
	if (err)
		return reply(info, h, err, DRVXPC_A_REG_VALUE, why, 0, false);
	return reply(info, h, 0, 0, NULL, val, h->op == DRVXPC_OP_REG_READ);
}

/*
 * SIM_CONTROL with SIM_ACTION PING: COUNT null upcalls (PING) to the
 * instance's u-driver, one after the other, each timed from send to reply
 * (kernel -> daemon -> u-driver -> daemon -> kernel); SAMPLES_NS back.
 */
static int ping_round_trips(struct genl_info *info, const struct drvxpc_hdr *h)
{
	const struct nlattr *act = find_attr(h, DRVXPC_A_SIM_ACTION);
	const struct nlattr *cnt = find_attr(h, DRVXPC_A_COUNT);
	struct drvnucleus_dev *d;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	u32 *ns, i, count;
	int err = 0;

	if (!act || nla_get_u8(act) != DRVXPC_SIM_PING)
		return reply(info, h, -EOPNOTSUPP, DRVXPC_A_SIM_ACTION, "drvnucleus serves SIM_ACTION PING only", 0, false);
	if (!cnt)
		return reply(info, h, -EINVAL, DRVXPC_A_COUNT, "PING needs COUNT", 0, false);
	count = nla_get_u32(cnt);
	mutex_lock(&drvnucleus_lock);
	d = dev_get(h->instance);
	mutex_unlock(&drvnucleus_lock);
	if (!d)
		return reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
	ns = kcalloc(count, sizeof(*ns), GFP_KERNEL);
	if (!ns) {
		dev_put(d);
		return -ENOMEM;
	}
	for (i = 0; i < count && !err; i++) {
		struct drvxpc_hdr *uh;
		struct sk_buff *u = drvnucleus_upcall_new(d, DRVXPC_OP_PING, &uh);
		u64 t0 = ktime_get_ns();

		err = u ? drvnucleus_upcall_wait(u, uh, NULL) : -EAGAIN;
		ns[i] = min_t(u64, ktime_get_ns() - t0, U32_MAX);
	}
	dev_put(d);
	if (err) {
		kfree(ns);
		return reply(info, h, err, 0, "a PING upcall failed", 0, false);
	}
	skb = msg_new_sized(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY,
			    h->seq, h->instance, 0, nla_total_size(count * sizeof(*ns)), &rh);
	if (!skb || nla_put(skb, DRVXPC_A_SAMPLES_NS, count * sizeof(*ns), ns)) {
		kfree(ns);
		if (skb)
			nlmsg_free(skb);
		return -EMSGSIZE;
	}
	kfree(ns);
	return send_reply(info, skb, rh);
}

/*
 * QUIESCE: the daemon gave up on the u-driver.  The class stops the data
 * path and keeps its interfaces registered; a started u-driver (drvctl
 * reset-failed/start) brings them back.
 */
static int quiesce(struct genl_info *info, const struct drvxpc_hdr *h,
		   struct drvnucleus_dev *d)
{
	if (d->chip->cls->quiesce)
		d->chip->cls->quiesce(d);
	dev_info(d->dev, "quiesced: the u-driver was given up on\n");
	return reply(info, h, 0, 0, NULL, 0, false);
}

/*
 * DEVICE_READD: the third recovery tier, when fresh probes with the chip's
 * own reset could not bring the device back (a function that stopped
 * decoding its BAR reads all-ones whatever the u-driver writes).  The PCI
 * function is re-added under the same instance: the class's data path
 * stopped (QUIESCE), bus mastering off, the config space restored as probe
 * saved it (decoding, bus mastering, BARs, the interrupt line); the
 * replies kept for the last u-driver's calls go.  What applications hold
 * (the netdev, the card) stays registered, its queue stopped, so they wait
 * rather than fail; the next u-driver probes afresh and the daemon replays
 * the configuration.  Not pci_disable_device(): on x86 it gives the
 * interrupt's routing back (dev->irq = 0) under a handler still installed.
 * Not an unbind and bind: that would unregister the netdev, and with it
 * the stack's addresses and routes.
 */
static int readd(struct genl_info *info, const struct drvxpc_hdr *h,
		 struct drvnucleus_dev *d)
{
	struct pci_dev *pdev = d->pdev;
	u16 cmd = 0, now = 0;

	if (!pdev)
		return reply(info, h, -EOPNOTSUPP, 0, "only a PCI function is re-added", 0, false);
	if (d->chip->cls->hold)
		d->chip->cls->hold(d);
	else if (d->chip->cls->quiesce)
		d->chip->cls->quiesce(d);
	drvnucleus_answers_free(d);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	pci_clear_master(pdev);
	pci_restore_state(pdev);
	/* pci_restore_state() consumed the saved state: keep it for the
	 * next re-add. */
	pci_save_state(pdev);
	pci_read_config_word(pdev, PCI_COMMAND, &now);
	d->readds++;
	dev_info(&pdev->dev,
		 "re-added for the u-driver's recovery (%u so far): command register was %04x, now %04x\n",
		 d->readds, cmd, now);
	if (!(now & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
		return reply(info, h, -EIO, 0, "the function does not decode its BAR after the restore", 0, false);
	return reply(info, h, 0, 0, NULL, 0, false);
}

int drvnucleus_answer_again(struct genl_info *info,
			    const struct drvxpc_hdr *h,
			    struct drvnucleus_dev *d, u64 id)
{
	const struct drvnucleus_answer *a = NULL;
	const struct drvxpc_hdr *kept;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	int i;

	mutex_lock(&d->answers_lock);
	for (i = 0; i < DRVXPC_ANSWERS_KEPT; i++)
		if (d->answers[i].msg && d->answers[i].id == id &&
		    d->answers[i].op == h->op)
			a = &d->answers[i];
	if (!a) {
		mutex_unlock(&d->answers_lock);
		return -ENOENT;
	}
	kept = a->msg;
	skb = msg_new_sized(info->snd_portid, info->snd_seq, h->op,
			    DRVXPC_F_REPLY, h->seq, h->instance, kept->status,
			    a->len, &rh);
	if (!skb) {
		mutex_unlock(&d->answers_lock);
		return -ENOMEM;
	}
	skb_put_data(skb, kept + 1, a->len - sizeof(*kept));
	mutex_unlock(&d->answers_lock);
	dev_info_ratelimited(d->dev,
			     "%s (call %llx) sent again after the daemon's restart: answered from the first time\n",
			     drvxpc_op_name(h->op), id);
	msg_end(skb, rh);
	return genlmsg_reply(skb, info);
}

static int device_op_run(struct genl_info *info, const struct drvxpc_hdr *h,
			 struct drvnucleus_dev *d);

/*
 * A message for one device instance, found and held by dev_get() (NULL:
 * none); drvnucleus_lock not held.  The device's own lock orders its
 * downcalls, so one that sleeps holds up no other device.
 */
static int device_op(struct genl_info *info, const struct drvxpc_hdr *h,
		     struct drvnucleus_dev *d)
{
	struct drvnucleus_answering ans = { .d = d };
	const struct nlattr *id_a;
	u64 id = 0;
	int r;

	/* Reading status is for any admin; changing the device is the
	 * registered daemon's alone. */
	if (info->snd_portid != READ_ONCE(daemon_portid) &&
	    h->op != DRVXPC_OP_DEVICE_INFO)
		return reply(info, h, -EPERM, 0, "only the registered daemon", 0, false);
	if (!d)
		return reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
	if (DRVXPC_OP_IS_DOWNCALL(h->op)) {
		id_a = find_attr(h, DRVXPC_A_CALL_ID);
		if (id_a)
			id = nla_get_u64(id_a);
	}
	mutex_lock(&d->lock);
	if (d->gone) {
		mutex_unlock(&d->lock);
		return reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
	}
	if (id) {
		r = drvnucleus_answer_again(info, h, d, id);
		if (r != -ENOENT) {
			mutex_unlock(&d->lock);
			return r;
		}
		ans.id = id;
		info->user_ptr[0] = &ans;
	}
	r = device_op_run(info, h, d);
	info->user_ptr[0] = NULL;
	mutex_unlock(&d->lock);
	return r;
}

static int device_op_run(struct genl_info *info, const struct drvxpc_hdr *h,
			 struct drvnucleus_dev *d)
{
	switch (h->op) {
	case DRVXPC_OP_REG_SEQ:
		return reg_seq(info, h, d);
	case DRVXPC_OP_REG_READ:
	case DRVXPC_OP_REG_WRITE:
		return reg_access(info, h, d);
	case DRVXPC_OP_DMA_ALLOC:
	case DRVXPC_OP_DMA_FREE:
	case DRVXPC_OP_REG_WRITE_DMA:
		return dma_op(info, h, d);
	case DRVXPC_OP_DEVICE_INFO:
		return device_info(info, h, d);
	case DRVXPC_OP_QUIESCE:
		return quiesce(info, h, d);
	case DRVXPC_OP_DEVICE_READD:
		return readd(info, h, d);
	}
	if (d->chip->cls->op)
		return d->chip->cls->op(info, h, d);
	return reply(info, h, -EOPNOTSUPP, 0, "not an operation of this device's class", 0, false);
}

static int drvnucleus_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct drvxpc_hdr *h = genlmsg_data(info->genlhdr);
	struct drvnucleus_dev *d;
	struct sk_buff_head redeliver;
	int len = genlmsg_len(info->genlhdr);
	u16 bad = 0;
	int r, i;

	r = drvnucleus_check_hdr(h, len);
	if (r == -EINVAL) {
		pr_warn_ratelimited("drvnucleus: message length %d does not match its header\n", len);
		return r;
	}
	if (r)
		return reply(info, h, r, 0, "unknown op or bad flags", 0, false);
	r = drvnucleus_validate_attrs((const void *)(h + 1), len - sizeof(*h), 0, &bad);
	if (r)
		return reply(info, h, r, bad, "malformed attribute", 0, false);
	count_xpc(h);
	if (h->flags & DRVXPC_F_REPLY) {
		upcall_answered(info, h);
		return 0;
	}
	if (!(h->flags & DRVXPC_F_REQUEST))
		return 0;

	mutex_lock(&drvnucleus_lock);
	switch (h->op) {
	case DRVXPC_OP_REGISTER:
		daemon_net = genl_info_net(info);
		upcalls_take_over(info->snd_portid, &redeliver);
		r = reply(info, h, 0, 0, NULL, 0, false);
		for (i = 0; i < DRVNUCLEUS_MAX_DEVICES; i++)
			if (devices[i])
				announce(devices[i]);
		upcalls_redeliver(info->snd_portid, &redeliver);
		break;
	case DRVXPC_OP_UNREGISTER:
		if (info->snd_portid != daemon_portid) {
			r = reply(info, h, -EPERM, 0, "only the registered daemon", 0, false);
			break;
		}
		daemon_unregister();
		r = reply(info, h, 0, 0, NULL, 0, false);
		break;
	case DRVXPC_OP_SIM_CONTROL:
		/* Sleeps on upcalls: never with the lock held. */
		mutex_unlock(&drvnucleus_lock);
		return ping_round_trips(info, h);
	case DRVXPC_OP_SLICE_DOWNCALL:
	case DRVXPC_OP_SLICE_PROBE: {
		d = find_dev(h->instance);

		/* As any downcall: the daemon's, to a device there is; to a
		 * device of a class that is not a sliced driver's, an op its
		 * class does not have. */
		if (info->snd_portid != daemon_portid)
			r = reply(info, h, -EPERM, 0, "only the registered daemon", 0, false);
		else if (!d)
			r = reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
		else if (!drvslice_owns(d))
			r = reply(info, h, -EOPNOTSUPP, 0, "not an operation of this device's class", 0, false);
		else
			break;
		mutex_unlock(&drvnucleus_lock);
		return r;
	}
	default:
		/* Management of one device and the downcalls: the class serves
		 * what the runtime does not. */
		if (!DRVXPC_OP_IS_DOWNCALL(h->op) && h->op != DRVXPC_OP_DEVICE_INFO &&
		    h->op != DRVXPC_OP_QUIESCE && h->op != DRVXPC_OP_DEVICE_READD) {
			r = reply(info, h, -EOPNOTSUPP, 0, "operation not supported by drvnucleus", 0, false);
			break;
		}
		d = dev_get(h->instance);
		mutex_unlock(&drvnucleus_lock);
		r = device_op(info, h, d);
		dev_put(d);
		return r;
	}
	mutex_unlock(&drvnucleus_lock);
	/* A sliced driver's call: may make nested upcalls, whose downcalls
	 * need the lock. */
	if (h->op == DRVXPC_OP_SLICE_DOWNCALL || h->op == DRVXPC_OP_SLICE_PROBE)
		return drvslice_doit(info, h);
	return r;
}

static const struct genl_small_ops drvnucleus_ops[] = {
	{
		.cmd	= DRVXPC_GENL_CMD_MSG,
		.flags	= GENL_ADMIN_PERM,
		.doit	= drvnucleus_doit,
	},
};

static struct genl_family drvnucleus_family __ro_after_init = {
	.name		= DRVXPC_GENL_NAME,
	.version	= DRVXPC_GENL_VERSION,
	.hdrsize	= sizeof(struct drvxpc_hdr),
	.maxattr	= 0,	/* the drvxpc validator above checks attributes */
	.module		= THIS_MODULE,
	/* Upcall waiters sleep while the reply comes in through doit on the
	 * daemon's socket: no family-wide mutex, drvnucleus_lock instead. */
	.parallel_ops	= true,
	.small_ops	= drvnucleus_ops,
	.n_small_ops	= ARRAY_SIZE(drvnucleus_ops),
	.resv_start_op	= DRVXPC_GENL_CMD_MSG + 1,
};

/* --- devices ------------------------------------------------------------ */

int drvnucleus_dev_attach(struct drvnucleus_dev *d)
{
	int slot;

	INIT_LIST_HEAD(&d->objects);
	mutex_init(&d->lock);
	mutex_init(&d->answers_lock);
	atomic_set(&d->users, 0);
	init_waitqueue_head(&d->users_gone);
	d->gone = false;
	combolock_init(&d->cl, datapath_release, d);
	mutex_lock(&drvnucleus_lock);
	for (slot = 0; slot < DRVNUCLEUS_MAX_DEVICES && devices[slot]; slot++)
		;
	if (slot == DRVNUCLEUS_MAX_DEVICES) {
		mutex_unlock(&drvnucleus_lock);
		return -ENOSPC;
	}
	d->instance = slot + 1;
	devices[slot] = d;
	atomic64_set(&xpc_bytes[d->instance], 0);
	atomic64_set(&xpc_msgs[d->instance], 0);
	atomic64_set(&xpc_regio_bytes[d->instance], 0);
	announce(d);
	mutex_unlock(&drvnucleus_lock);
	return 0;
}

void drvnucleus_dev_detach(struct drvnucleus_dev *d)
{
	struct drvnucleus_obj *o, *tmp;

	/* Detach first: downcalls find the instance in the table, so none
	 * is looked up once it is out; one already holding the device ends
	 * (or, not yet in, finds it gone) before the class's teardown. */
	mutex_lock(&drvnucleus_lock);
	devices[d->instance - 1] = NULL;
	mutex_unlock(&drvnucleus_lock);
	mutex_lock(&d->lock);
	d->gone = true;
	mutex_unlock(&d->lock);
	wait_event(d->users_gone, !atomic_read(&d->users));
	/* What the class registered (and its interrupt) goes before the
	 * buffers it uses. */
	if (d->chip->cls->remove)
		d->chip->cls->remove(d);
	list_for_each_entry_safe(o, tmp, &d->objects, node)
		drvnucleus_obj_free(d, o);
	drvnucleus_answers_free(d);
}

/* --- PCI --------------------------------------------------------------- */

/*
 * Bound through a dynamic id (ids=, new_id) or driver_override: either way
 * the chip comes from the lookup table, and a device it lacks is refused.
 */
static int drvnucleus_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	const struct drvnucleus_chip *chip = drvnucleus_chip_of(pdev);
	struct drvnucleus_dev *d;
	int bar, err;

	if (!chip || !chip->cls) {
		dev_info(&pdev->dev, "drvnucleus drives no %04x:%04x\n",
			 pdev->vendor, pdev->device);
		return -ENODEV;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	err = pci_enable_device(pdev);
	if (err)
		goto err_free;
	err = pci_request_regions(pdev, "drvnucleus");
	if (err)
		goto err_disable;
	/* The chip's BAR, or BAR 0 where the function has no such BAR. */
	bar = pci_resource_len(pdev, chip->bar) ? chip->bar : 0;
	d->bar = pci_iomap(pdev, bar, 0);
	if (!d->bar) {
		err = -EIO;
		goto err_regions;
	}
	d->bar_len = pci_resource_len(pdev, bar);
	d->pdev = pdev;
	d->dev = &pdev->dev;
	d->chip = chip;
	/* REG_WRITE_DMA writes 32-bit registers: no chip gets more for now. */
	err = dma_set_mask_and_coherent(&pdev->dev,
					DMA_BIT_MASK(min_t(u8, chip->dma_bits ?: 32, 32)));
	if (err)
		goto err_unmap;
	pci_set_master(pdev);
	/* What DEVICE_READD restores. */
	pci_save_state(pdev);

	err = drvnucleus_dev_attach(d);
	if (err)
		goto err_unmap;
	pci_set_drvdata(pdev, d);
	dev_info(&pdev->dev, "drvnucleus instance %u: %s (%s), BAR %d (%u bytes)\n",
		 d->instance, chip->name, chip->cls->name, bar, d->bar_len);
	return 0;

err_unmap:
	pci_iounmap(pdev, d->bar);
err_regions:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(d);
	return err;
}

static void drvnucleus_remove(struct pci_dev *pdev)
{
	struct drvnucleus_dev *d = pci_get_drvdata(pdev);

	drvnucleus_dev_detach(d);
	pci_iounmap(pdev, d->bar);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	kfree(d);
}

/* No id_table: drvnucleus binds only what it is given (see chips.c). */
static struct pci_driver drvnucleus_pci = {
	.name		= "drvnucleus",
	.probe		= drvnucleus_probe,
	.remove		= drvnucleus_remove,
};

static char ids[256];
module_param_string(ids, ids, sizeof(ids), 0444);
MODULE_PARM_DESC(ids, "PCI ids to bind at load, as vfio-pci's: \"vendor:device[,vendor:device...]\"; each must be a chip drvnucleus drives");

/*
 * ids=: a dynamic id per entry, as vfio-pci's vfio_pci_fill_ids(). The
 * devices with that id not bound yet are probed at once, and those that
 * appear later (hotplug) too; one bound to another driver stays there.
 */
static void __init drvnucleus_fill_ids(void)
{
	char *p = ids, *id;

	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device;
		const struct pci_device_id *known;
		int err;

		if (!*id)
			continue;
		if (sscanf(id, "%x:%x", &vendor, &device) != 2 ||
		    vendor > 0xffff || device > 0xffff) {
			pr_warn("drvnucleus: ids=: '%s' is not vendor:device\n", id);
			continue;
		}
		for (known = drvnucleus_ids; known->vendor; known++)
			if (known->vendor == vendor && known->device == device)
				break;
		if (!known->vendor) {
			pr_warn("drvnucleus: ids=: drvnucleus drives no %04x:%04x\n",
				vendor, device);
			continue;
		}
		err = pci_add_dynid(&drvnucleus_pci, vendor, device, PCI_ANY_ID,
				    PCI_ANY_ID, 0, 0, 0);
		if (err)
			pr_warn("drvnucleus: ids=: %04x:%04x: error %d\n",
				vendor, device, err);
		else
			pr_info("drvnucleus: binding %04x:%04x\n", vendor, device);
	}
}

static int __init drvnucleus_init(void)
{
	int err, b;

	/* Upcall ids unlike the last load's: a u-driver that outlived a
	 * reload must not take a new upcall for one it answered before. */
	atomic_set(&upcall_seq, get_random_u32());
	err = netlink_register_notifier(&drvnucleus_netlink_notifier);
	if (err)
		return err;
	err = genl_register_family(&drvnucleus_family);
	if (err)
		goto err_notifier;
	err = pci_register_driver(&drvnucleus_pci);
	if (err)
		goto err_family;
	drvnucleus_fill_ids();
	for (b = 0; drvnucleus_buses[b]; b++) {
		err = drvnucleus_buses[b]->register_driver();
		if (err) {
			pr_err("drvnucleus: cannot register the %s driver: %d\n",
			       drvnucleus_buses[b]->name, err);
			goto err_buses;
		}
	}
	return 0;

err_buses:
	while (b--)
		drvnucleus_buses[b]->unregister_driver();
	pci_unregister_driver(&drvnucleus_pci);
err_family:
	genl_unregister_family(&drvnucleus_family);
err_notifier:
	netlink_unregister_notifier(&drvnucleus_netlink_notifier);
	return err;
}

static void __exit drvnucleus_exit(void)
{
	int b;

	for (b = 0; drvnucleus_buses[b]; b++)
		drvnucleus_buses[b]->unregister_driver();
	pci_unregister_driver(&drvnucleus_pci);
	genl_unregister_family(&drvnucleus_family);
	netlink_unregister_notifier(&drvnucleus_netlink_notifier);
	pending_drop_all();
	/* No kmemleak in Debian's kernel: count what the tracker still holds. */
	pr_info("drvnucleus: unloaded, %d DMA objects live\n", atomic_read(&live_objects));
}

module_init(drvnucleus_init);
module_exit(drvnucleus_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(DRVNUCLEUS_VERSION);
MODULE_DESCRIPTION("drivermgr nucleus: generic-netlink XPC runtime for split drivers");
MODULE_AUTHOR("drivermgr");
