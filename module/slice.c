// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus: the kernel runtime of sliced drivers.
 *
 * driverslicer --halves splits a legacy driver into a kernel half (its
 * critical functions, unmodified) and a user half (the rest, run by a
 * u-driver process).  The kernel half is a module of its own; its module
 * init registers its pci_driver here (drvslice-kernel.h), and for each
 * PCI function it binds this runtime:
 *
 *  - makes a drvnucleus device of it, announced to drivermgrd like any
 *    other (DEVICE_ADD), with the class the half was built for;
 *  - keeps the driver's kernel-side object tracker (struct drvslice_side,
 *    slice_core.c): the pci_dev and its struct device are its first
 *    objects;
 *  - runs the driver's probe when the u-driver asks (SLICE_PROBE), from a
 *    work item: probe is a stub whose body is in the u-driver, so it
 *    becomes a SLICE_UPCALL that the u-driver serves while it makes its
 *    own calls down (SLICE_DOWNCALL) to the kernel half's functions and
 *    the kernel API (slice_api.c);
 *  - carries every stub's call (drvslice_upcall) to the u-driver and
 *    serves every SLICE_DOWNCALL.
 *
 * Locking.  k->lock serialises the side (the core neither locks nor
 * sends).  A call chain is one top-level upcall and every call nested in
 * it: the u-driver serves one call at a time and treats a SLICE_UPCALL
 * that arrives while it waits for a downcall's answer as nested in that
 * downcall.  So a top-level upcall holds the device's chain until its
 * answer (other tasks' upcalls wait for it, at most slice_chain_wait_ms),
 * and an upcall made by the task serving a downcall (a thunk's kernel
 * function calling back into the driver: unregister_netdev calls
 * ndo_stop) is nested: it takes no chain, and it gives k->lock up while
 * it waits, so that the calls nested in it can be served.
 *
 * SLICE_DOWNCALL and SLICE_PROBE run without drvnucleus_lock: a downcall
 * can make a nested upcall, whose own downcalls must get in meanwhile.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "slice.h"

/* The most bytes of a call or a reply (a struct's fields, the objects). */
#define SLICE_MSG_MAX	(48 * 1024)

enum { PROBE_NONE, PROBE_QUEUED, PROBE_DONE };

/* A kernel half's pci_driver and the one drvnucleus registers for it. */
struct drvslice_pdrv {
	struct list_head node;
	struct pci_driver *drv;		/* the half's own: probe is a stub */
	struct pci_driver wrap;		/* registered: binds the devices */
	const struct drvslice_driver *desc;
	struct drvnucleus_class cls;
};

static LIST_HEAD(slice_pdrvs);		/* under slice_lock */
static DEFINE_MUTEX(slice_lock);
static LIST_HEAD(slice_kdevs);		/* under kdevs_lock */
static DEFINE_SPINLOCK(kdevs_lock);
static DECLARE_WAIT_QUEUE_HEAD(slice_users_wq);

static unsigned int slice_chain_wait_ms = 3000;
module_param(slice_chain_wait_ms, uint, 0644);
MODULE_PARM_DESC(slice_chain_wait_ms,
		 "How long a sliced driver's call waits for the call in progress on its device (ms)");

/*
 * For the test of drivermgrd's restart (check-slice): the next this many
 * SLICE_DOWNCALL answers are kept and not sent, as if the daemon had died
 * before passing them on.  The u-driver sends such a call again to the
 * next daemon and must get the kept answer, the call not run twice.
 */
static unsigned int slice_drop_answers;
module_param(slice_drop_answers, uint, 0644);
MODULE_PARM_DESC(slice_drop_answers,
		 "For tests of drivermgrd's restart: how many of the next SLICE_DOWNCALL answers are kept and not sent (counts down)");

static bool slice_drop_this_answer(void)
{
	unsigned int n = READ_ONCE(slice_drop_answers), was;

	while (n) {
		was = cmpxchg(&slice_drop_answers, n, n - 1);
		if (was == n)
			return true;
		n = was;
	}
	return false;
}

/* ---- devices ---- */

static struct drvslice_kdev *kdev_get(u32 instance)
{
	struct drvslice_kdev *k, *found = NULL;

	spin_lock(&kdevs_lock);
	list_for_each_entry(k, &slice_kdevs, node)
		if (k->nd.instance == instance && !k->gone) {
			atomic_inc(&k->users);
			found = k;
			break;
		}
	spin_unlock(&kdevs_lock);
	return found;
}

static void kdev_put(struct drvslice_kdev *k)
{
	if (atomic_dec_and_test(&k->users))
		wake_up_all(&slice_users_wq);
}

bool drvslice_owns(const struct drvnucleus_dev *d)
{
	struct drvslice_kdev *k;
	bool found = false;

	spin_lock(&kdevs_lock);
	list_for_each_entry(k, &slice_kdevs, node)
		if (&k->nd == d) {
			found = true;
			break;
		}
	spin_unlock(&kdevs_lock);
	return found;
}

struct drvslice_kdev *drvslice_kdev_current(void)
{
	struct drvslice_kdev *k, *found = NULL;

	spin_lock(&kdevs_lock);
	list_for_each_entry(k, &slice_kdevs, node)
		if (READ_ONCE(k->serving) == current) {
			found = k;
			break;
		}
	spin_unlock(&kdevs_lock);
	return found;
}
EXPORT_SYMBOL_GPL(drvslice_kdev_current);

int drvslice_iomem_add(struct drvslice_kdev *k, void __iomem *base,
		       unsigned long len, int bar)
{
	int i;

	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++)
		if (!k->iomem[i].base) {
			k->iomem[i].base = base;
			k->iomem[i].len = len;
			k->iomem[i].bar = bar;
			return 0;
		}
	return -ENOSPC;
}

void drvslice_iomem_del(struct drvslice_kdev *k, const void __iomem *base)
{
	int i;

	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++)
		if (k->iomem[i].base == base)
			k->iomem[i].base = NULL;
}

bool drvslice_iomem_ok(const struct drvslice_kdev *k,
		       const volatile void __iomem *p, unsigned int width)
{
	unsigned long a = (unsigned long)p;
	int i;

	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++) {
		unsigned long b = (unsigned long)k->iomem[i].base;

		if (b && a >= b && width <= k->iomem[i].len &&
		    a - b <= k->iomem[i].len - width && !(a & (width - 1)))
			return true;
	}
	return false;
}

/* The device a stub's call is for: the one whose tracker holds one of its
 * pointer arguments, or else the one device of that driver. */
static struct drvslice_kdev *kdev_of_call(const struct drvslice_entry *e,
					  void *const args[])
{
	struct drvslice_kdev *k, *found = NULL, *only = NULL;
	unsigned int i, n = 0;

	spin_lock(&kdevs_lock);
	list_for_each_entry(k, &slice_kdevs, node) {
		const struct drvslice_driver *d = k->pdrv->desc;

		/* The stub's entry is its own copy of the description's. */
		if (k->gone || e->id >= d->nentries || !d->entries[e->id] ||
		    strcmp(d->entries[e->id]->name, e->name))
			continue;
		only = k;
		n++;
		for (i = 0; i < e->nargs && !found; i++) {
			const void *p;

			if (e->args[i].kind != DRVSLICE_A_PTR &&
			    e->args[i].kind != DRVSLICE_A_OWN)
				continue;
			memcpy(&p, args[i], sizeof(p));
			/* Read without k->lock: a stale answer only picks
			 * the device whose lock the call then takes. */
			if (p && drvslice_obj_of(&k->side, p))
				found = k;
		}
		if (found)
			break;
	}
	if (!found && n == 1)
		found = only;
	if (found)
		atomic_inc(&found->users);
	spin_unlock(&kdevs_lock);
	return found;
}

/* ---- calls into the u-driver ---- */

static int chain_enter(struct drvslice_kdev *k)
{
	long left;

	left = wait_event_killable_timeout(k->chain_wq,
			atomic_cmpxchg(&k->chain_busy, 0, 1) == 0 || k->gone,
			msecs_to_jiffies(slice_chain_wait_ms));
	if (left < 0)
		return -EINTR;
	if (k->gone) {
		if (left)
			atomic_set(&k->chain_busy, 0);
		return -ENODEV;
	}
	return left ? 0 : -ETIMEDOUT;
}

static void chain_leave(struct drvslice_kdev *k)
{
	atomic_set(&k->chain_busy, 0);
	wake_up(&k->chain_wq);
}

/*
 * A kernel-half stub's call: the u-driver runs the function.  0 and *@ret
 * set, or a negative errno (no u-driver, no answer in time, a malformed
 * answer): the stub returns it.
 */
int drvslice_upcall(const struct drvslice_entry *e, void *const args[],
		    void *ret)
{
	struct drvslice_kdev *k;
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;
	unsigned char *buf;
	bool nested;
	u32 len = 0;
	int n, err;

	if (in_atomic() || irqs_disabled()) {
		WARN_ONCE(1, "drvslice: %s called in atomic context: its body is in the u-driver\n",
			  e->name);
		return -EWOULDBLOCK;
	}
	k = kdev_of_call(e, args);
	if (!k) {
		pr_warn_ratelimited("drvslice: %s: no sliced device holds its arguments\n", e->name);
		return -ENODEV;
	}
	buf = kvmalloc(SLICE_MSG_MAX, GFP_KERNEL);
	if (!buf) {
		err = -ENOMEM;
		goto out_put;
	}
	nested = READ_ONCE(k->serving) == current;
	if (!nested) {
		err = chain_enter(k);
		if (err) {
			dev_warn_ratelimited(&k->pdev->dev, "%s: the call in progress did not end: %d\n",
					     e->name, err);
			goto out_free;
		}
		mutex_lock(&k->lock);
	}
	/* Here k->lock is held (by this task's downcall, if nested). */
	n = drvslice_encode_call(&k->side, e, args, buf, SLICE_MSG_MAX);
	if (n < 0) {
		dev_err_ratelimited(&k->pdev->dev, "%s: not sent: %s\n", e->name, k->side.why);
		err = n;
		goto out_end;
	}
	skb = drvnucleus_upcall_new_sized(&k->nd, DRVXPC_OP_SLICE_UPCALL, n, &hdr);
	if (!skb) {
		err = -EAGAIN;		/* no daemon */
		goto out_end;
	}
	skb_put_data(skb, buf, n);
	/* Part of the u-driver's own call (its probe, or nested in one of
	 * its downcalls): drivermgrd sends it to the u-driver even while it
	 * starts or recovers.  Anything else is a client's, held by the
	 * daemon until the u-driver serves again. */
	if (nested || READ_ONCE(k->probe_task) == current)
		hdr->flags |= DRVXPC_F_WITHIN;
	/* The calls nested in this one need the side while it waits. */
	if (nested)
		WRITE_ONCE(k->serving, NULL);
	mutex_unlock(&k->lock);
	err = drvnucleus_upcall_wait_attrs(skb, hdr, buf, SLICE_MSG_MAX, &len);
	mutex_lock(&k->lock);
	if (nested)
		WRITE_ONCE(k->serving, current);
	if (!err) {
		err = drvslice_decode_reply(&k->side, e, args, buf, len, ret);
		if (err)
			dev_err_ratelimited(&k->pdev->dev, "%s: the u-driver's answer: %s\n",
					    e->name, k->side.why);
	}
out_end:
	drvslice_call_end(&k->side);
	if (!nested) {
		mutex_unlock(&k->lock);
		chain_leave(k);
	}
out_free:
	kvfree(buf);
out_put:
	kdev_put(k);
	return err;
}
EXPORT_SYMBOL_GPL(drvslice_upcall);

/* The kernel half never calls down: a stub of that direction is the
 * user half's. */
int drvslice_downcall(const struct drvslice_entry *e, void *const args[],
		      void *ret)
{
	WARN_ONCE(1, "drvslice: downcall %s from the kernel\n", e->name);
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(drvslice_downcall);

/* ---- calls from the u-driver ---- */

static void probe_work(struct work_struct *w)
{
	struct drvslice_kdev *k = container_of(w, struct drvslice_kdev, probe_work);
	int r;

	WRITE_ONCE(k->probe_task, current);
	r = k->pdrv->drv->probe(k->pdev, k->id);
	WRITE_ONCE(k->probe_task, NULL);
	mutex_lock(&k->lock);
	k->probe_result = r;
	k->probe_state = PROBE_DONE;
	mutex_unlock(&k->lock);
	if (r)
		dev_warn(&k->pdev->dev, "%s: probe failed: %d\n", k->pdrv->desc->name, r);
	else
		dev_info(&k->pdev->dev, "%s: probed by its u-driver\n", k->pdrv->desc->name);
	kdev_put(k);
}

static int serve(struct genl_info *info, const struct drvxpc_hdr *h,
		 struct drvslice_kdev *k, u32 epoch)
{
	struct task_struct *prev;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	unsigned char *out;
	int n;

	out = kvmalloc(SLICE_MSG_MAX, GFP_KERNEL);
	if (!out)
		return drvnucleus_reply(info, h, -ENOMEM, 0, "no memory for the answer");
	mutex_lock(&k->lock);
	/* Sent by the u-driver before the last adoption: it is dead, and
	 * what it asked for (a ComboLock marked, the device's entry points
	 * stopped) would be taken for its successor's. */
	if (epoch != k->epoch) {
		mutex_unlock(&k->lock);
		kvfree(out);
		dev_info_ratelimited(&k->pdev->dev,
				     "a SLICE_DOWNCALL of the u-driver before the last adoption: refused\n");
		return drvnucleus_reply(info, h, -ESTALE, 0,
					"from a u-driver the device was adopted from since");
	}
	prev = k->serving;
	WRITE_ONCE(k->serving, current);
	n = drvslice_serve(&k->side, (const unsigned char *)(h + 1),
			   h->len - sizeof(*h), out, SLICE_MSG_MAX);
	WRITE_ONCE(k->serving, prev);
	if (n < 0) {
		char why[sizeof(k->side.why)];
		/* The message broke the driver's description (the call's
		 * field named: drivermgrd judges the u-driver failed); else
		 * the function, or the kernel API's checks of the device's
		 * state, refused it (no field: the driver's code sees it). */
		u16 field = k->side.called ? 0 : DRVXPC_A_SLICE_ENTRY;

		strscpy(why, k->side.why, sizeof(why));
		mutex_unlock(&k->lock);
		kvfree(out);
		dev_dbg(&k->pdev->dev, "SLICE_DOWNCALL refused: %s\n", why);
		return drvnucleus_reply(info, h, n, field, why);
	}
	mutex_unlock(&k->lock);
	skb = drvnucleus_reply_new_sized(info, h, n, &rh);
	if (!skb) {
		kvfree(out);
		return -ENOMEM;
	}
	skb_put_data(skb, out, n);
	kvfree(out);
	return drvnucleus_reply_send(info, skb, rh);
}

/*
 * SLICE_PROBE: the u-driver adopts the device.
 *  - Not probed yet, or the last probe failed (its u-driver died in it:
 *    what it had made of the kernel's resources is undone first): the
 *    driver's probe runs, from a work item, and calls into the u-driver.
 *  - Probed: a new u-driver after its predecessor's death.  The driver's
 *    state is in the kernel's objects (the net_device, its private area,
 *    the rings), which the kernel half keeps using meanwhile; the copies
 *    of the dead process's objects go, and each later call hands the new
 *    process what it reads.  The answer carries DRVXPC_F_REATTACH: no
 *    probe comes.  A PROBE without REATTACH (drivermgrd's reset) adopts
 *    the device too: the driver's probe cannot run again under its
 *    registered net_device (see docs/driverslicer.md).
 */
static int slice_probe_op(struct genl_info *info, const struct drvxpc_hdr *h,
			  struct drvslice_kdev *k)
{
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	unsigned char *buf;
	int state, n;

	mutex_lock(&k->lock);
	state = k->probe_state;
	if (state == PROBE_QUEUED) {
		mutex_unlock(&k->lock);
		kdev_put(k);
		return drvnucleus_reply(info, h, -EBUSY, 0, "the device's probe is running");
	}
	WRITE_ONCE(k->epoch, k->epoch + 1);
	drvslice_side_forget_peer(&k->side);
	drvslice_api_peer_gone(k);
	if (state == PROBE_DONE && !k->probe_result) {
		WRITE_ONCE(k->adopted, true);
		/* What the dead process knew of the kernel's objects, the
		 * new one gets with the answer: each later call carries only
		 * what its callee is known to read. */
		buf = kvmalloc(SLICE_MSG_MAX, GFP_KERNEL);
		if (!buf) {
			mutex_unlock(&k->lock);
			kdev_put(k);
			return drvnucleus_reply(info, h, -ENOMEM, 0, "no memory for the device's state");
		}
		n = drvslice_encode_state(&k->side, buf, SLICE_MSG_MAX);
		if (n < 0) {
			char why[sizeof(k->side.why)];

			strscpy(why, k->side.why, sizeof(why));
			mutex_unlock(&k->lock);
			kvfree(buf);
			dev_warn(&k->pdev->dev, "%s: no state for the adopting u-driver: %s\n",
				 k->pdrv->desc->name, why);
			kdev_put(k);
			return drvnucleus_reply(info, h, n, 0, why);
		}
		mutex_unlock(&k->lock);
		dev_info(&k->pdev->dev, "%s: adopted by a new u-driver (its state: %d bytes)\n",
			 k->pdrv->desc->name, n);
		kdev_put(k);
		skb = drvnucleus_reply_new_sized(info, h, n, &rh);
		if (!skb) {
			kvfree(buf);
			return -ENOMEM;
		}
		skb_put_data(skb, buf, n);
		kvfree(buf);
		rh->flags |= DRVXPC_F_REATTACH;
		return drvnucleus_reply_send(info, skb, rh);
	}
	k->probe_state = PROBE_QUEUED;
	WRITE_ONCE(k->adopted, false);
	mutex_unlock(&k->lock);
	/* Not under k->lock: unregistering calls back into the driver. */
	if (state == PROBE_DONE)
		drvslice_api_release(k);
	/* The work item keeps the reference. */
	schedule_work(&k->probe_work);
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

/*
 * A SLICE_DOWNCALL, served by a worker: netlink runs a doit in the
 * sender's sendmsg, and the daemon sends everything for the nucleus
 * through one socket, one message at a time.  A downcall that makes a
 * nested upcall (unregister_netdev calls ndo_stop) waits for an answer
 * the daemon could not send while its sendmsg is still in the doit.
 *
 * Each runs once (runtime.c: "downcalls answered once"): one sent again
 * under its CALL_ID after drivermgrd's restart gets the first answer,
 * kept with the device's others; one sent again while the first is still
 * being served (the first waits on a nested upcall, or on a ComboLock)
 * follows it and is answered when it ends.  Without this a ComboLock's
 * spin_lock, sent again, is refused as taken twice.
 */
struct slice_call {
	struct work_struct work;
	struct drvslice_kdev *k;
	u32 epoch;			/* k->epoch when it came */
	u64 id;				/* its CALL_ID; 0: none */
	struct genl_info info;		/* the sender: portid, seq, net */
	struct drvxpc_hdr *h;		/* a copy of the request */
	/* On k->calls while it is served; on the served one's @followers
	 * while a copy of it waits for its answer; under k->calls_lock. */
	struct list_head node;
	struct list_head followers;
};

static void slice_call_free(struct slice_call *c)
{
	kdev_put(c->k);
	kfree(c->h);
	kfree(c);
}

/*
 * Whether @c is to be served: not if its answer is kept (sent again) or
 * the same call is being served (@c follows it).  Else it is marked as
 * being served.  A call without an id is always served.
 */
static bool slice_call_begin(struct slice_call *c)
{
	struct drvslice_kdev *k = c->k;
	struct slice_call *first;
	int r;

	if (!c->id)
		return true;
	mutex_lock(&k->calls_lock);
	/* Kept before the first leaves k->calls: one of the two finds it. */
	r = drvnucleus_answer_again(&c->info, c->h, &k->nd, c->id);
	if (r != -ENOENT) {
		mutex_unlock(&k->calls_lock);
		slice_call_free(c);
		return false;
	}
	list_for_each_entry(first, &k->calls, node)
		if (first->id == c->id) {
			list_add_tail(&c->node, &first->followers);
			mutex_unlock(&k->calls_lock);
			dev_info_ratelimited(&k->pdev->dev,
					     "SLICE_DOWNCALL (call %llx) sent again while it is served: answered when it ends\n",
					     c->id);
			return false;
		}
	list_add_tail(&c->node, &k->calls);
	mutex_unlock(&k->calls_lock);
	return true;
}

/* @c was served (its answer kept): the copies that followed it get it. */
static void slice_call_end(struct slice_call *c)
{
	struct drvslice_kdev *k = c->k;
	struct slice_call *f, *tmp;

	if (!c->id)
		return;
	mutex_lock(&k->calls_lock);
	list_del(&c->node);
	list_for_each_entry_safe(f, tmp, &c->followers, node) {
		list_del(&f->node);
		if (drvnucleus_answer_again(&f->info, f->h, &k->nd, f->id) == -ENOENT)
			drvnucleus_reply(&f->info, f->h, -ENOMEM, 0,
					 "the first answer to the call was not kept");
		slice_call_free(f);
	}
	mutex_unlock(&k->calls_lock);
}

static void slice_call_work(struct work_struct *w)
{
	struct slice_call *c = container_of(w, struct slice_call, work);
	struct drvnucleus_answering ans = { .d = &c->k->nd, .id = c->id };

	if (!slice_call_begin(c))
		return;
	if (c->id) {
		ans.withhold = slice_drop_this_answer();
		c->info.user_ptr[0] = &ans;
	}
	serve(&c->info, c->h, c->k, c->epoch);
	c->info.user_ptr[0] = NULL;
	slice_call_end(c);
	slice_call_free(c);
}

/* The CALL_ID drivermgrd gave the call; 0 if none. */
static u64 call_id_of(const struct drvxpc_hdr *h)
{
	const struct nlattr *a = drvnucleus_attr(h, DRVXPC_A_CALL_ID);

	return a ? nla_get_u64(a) : 0;
}

/*
 * drivermgrd names each downcall it forwards (CALL_ID, appended): the
 * core's message is what is left.  The attributes were checked against
 * drvxpc.h's table by the doit.
 */
static void strip_call_id(struct drvxpc_hdr *h)
{
	unsigned char *p = (unsigned char *)(h + 1), *end = (unsigned char *)h + h->len;
	unsigned char *to = p;

	while (end - p >= DRVXPC_ATTR_HDRLEN) {
		struct drvxpc_attr a;
		unsigned int adv;

		memcpy(&a, p, sizeof(a));
		if (a.len < DRVXPC_ATTR_HDRLEN || a.len > end - p)
			break;
		adv = min_t(unsigned int, DRVXPC_ALIGN(a.len), end - p);
		if ((a.type & DRVXPC_A_TYPE_MASK) != DRVXPC_A_CALL_ID) {
			memmove(to, p, adv);
			to += adv;
		}
		p += adv;
	}
	memmove(to, p, end - p);
	to += end - p;
	h->len = to - (unsigned char *)h;
}

/* SLICE_DOWNCALL and SLICE_PROBE: from runtime.c's doit, without
 * drvnucleus_lock. */
int drvslice_doit(struct genl_info *info, const struct drvxpc_hdr *h)
{
	struct drvslice_kdev *k;
	struct slice_call *c;

	if (!drvnucleus_from_daemon(info))
		return drvnucleus_reply(info, h, -EPERM, 0, "only the registered daemon");
	k = kdev_get(h->instance);
	if (!k)
		return drvnucleus_reply(info, h, -ENODEV, 0, "no sliced device with this instance");
	if (h->op == DRVXPC_OP_SLICE_DOWNCALL) {
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (c)
			c->h = kmemdup(h, h->len, GFP_KERNEL);
		if (!c || !c->h) {
			kfree(c);
			kdev_put(k);
			return drvnucleus_reply(info, h, -ENOMEM, 0, "no memory for the call");
		}
		c->id = call_id_of(c->h);
		strip_call_id(c->h);
		INIT_LIST_HEAD(&c->node);
		INIT_LIST_HEAD(&c->followers);
		c->k = k;	/* the worker keeps the reference */
		/* The daemon sends one message at a time: a SLICE_PROBE sent
		 * after this one has not counted yet. */
		c->epoch = READ_ONCE(k->epoch);
		c->info.snd_portid = info->snd_portid;
		c->info.snd_seq = info->snd_seq;
		genl_info_net_set(&c->info, genl_info_net(info));
		INIT_WORK(&c->work, slice_call_work);
		queue_work(system_unbound_wq, &c->work);
		return 0;
	}
	return slice_probe_op(info, h, k);
}

/* ---- binding ---- */

static void *shadow_alloc(unsigned int size)
{
	return kvzalloc(size ?: 1, GFP_KERNEL);
}

static void shadow_free(void *p)
{
	kvfree(p);
}

static int slice_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pci_driver *wrap = to_pci_driver(pdev->dev.driver);
	struct drvslice_pdrv *p = container_of(wrap, struct drvslice_pdrv, wrap);
	struct drvslice_kdev *k;
	int err;

	k = vzalloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->pdrv = p;
	k->pdev = pdev;
	k->id = id;
	mutex_init(&k->lock);
	mutex_init(&k->calls_lock);
	INIT_LIST_HEAD(&k->calls);
	init_waitqueue_head(&k->chain_wq);
	INIT_WORK(&k->probe_work, probe_work);
	drvslice_side_init(&k->side, p->desc, 1, shadow_alloc, shadow_free);
	k->side.api = &drvslice_api_kernel;
	/* The driver's first objects: the function and its device. */
	if (!drvslice_track(&k->side, pdev, sizeof(*pdev),
			    drvslice_type_named(&k->side, "pci_dev")) ||
	    !drvslice_track(&k->side, &pdev->dev, sizeof(pdev->dev),
			    drvslice_type_named(&k->side, "device"))) {
		err = -ENOSPC;
		goto err_free;
	}
	k->chip.name = p->desc->name;
	k->chip.cls = &p->cls;
	k->nd.pdev = pdev;
	k->nd.dev = &pdev->dev;
	k->nd.chip = &k->chip;
	/* No BAR is the nucleus's: the u-driver maps what it uses through
	 * the kernel API (ioremap), and REG_READ, REG_WRITE, REG_SEQ and
	 * REG_WRITE_DMA, checked against a BAR of 0 bytes, reach nothing. */
	k->nd.bar = NULL;
	k->nd.bar_len = 0;

	spin_lock(&kdevs_lock);
	list_add_tail(&k->node, &slice_kdevs);
	spin_unlock(&kdevs_lock);
	err = drvnucleus_dev_attach(&k->nd);
	if (err)
		goto err_unlist;
	dev_info(&pdev->dev, "drvnucleus instance %u: sliced %s (%s), waiting for its u-driver\n",
		 k->nd.instance, p->desc->name, p->cls.name);
	return 0;

err_unlist:
	spin_lock(&kdevs_lock);
	list_del(&k->node);
	spin_unlock(&kdevs_lock);
err_free:
	drvslice_side_reset(&k->side);
	vfree(k);
	return err;
}

static struct drvslice_kdev *kdev_of_pdev(struct pci_dev *pdev)
{
	struct drvslice_kdev *k, *found = NULL;

	spin_lock(&kdevs_lock);
	list_for_each_entry(k, &slice_kdevs, node)
		if (k->pdev == pdev) {
			found = k;
			break;
		}
	spin_unlock(&kdevs_lock);
	return found;
}

/*
 * The driver's own remove, while its u-driver can serve it (a stub:
 * cp_remove_one unregisters the netdev through it).  A u-driver that
 * adopted the device got the drvdata the remove starts from with the
 * kernel's objects (device.driver_data crosses, as the probe's
 * pci_set_drvdata wrote it).  Not run, and the kernel's resources
 * released after it as for a u-driver that died: when no daemon is
 * registered (the remove's upcall would wait upcall_timeout_ms for one,
 * and the removal with it), and after an adoption when the kernel's
 * device holds no drvdata (a driver whose description does not carry it:
 * the adopting u-driver would start from NULL).
 */
static void driver_remove(struct drvslice_kdev *k, struct pci_dev *pdev)
{
	const char *name = k->pdrv->desc->name;

	if (!drvnucleus_daemon_registered()) {
		dev_info(&pdev->dev, "%s: removed without the driver's remove: no drivermgrd is registered to serve it; drvnucleus releases what the probe took\n",
			 name);
		return;
	}
	if (READ_ONCE(k->adopted) && !dev_get_drvdata(&pdev->dev)) {
		dev_info(&pdev->dev, "%s: removed without the driver's remove: its u-driver adopted the device and has no drvdata; drvnucleus releases what the probe took\n",
			 name);
		return;
	}
	if (READ_ONCE(k->adopted))
		dev_info(&pdev->dev, "%s: the driver's remove goes to the u-driver that adopted the device\n",
			 name);
	k->pdrv->drv->remove(pdev);
}

static void slice_remove(struct pci_dev *pdev)
{
	struct drvslice_kdev *k = kdev_of_pdev(pdev);

	if (!k)
		return;
	if (cancel_work_sync(&k->probe_work))
		kdev_put(k);	/* the queued probe's reference */
	if (READ_ONCE(k->probe_state) == PROBE_DONE && !k->probe_result &&
	    k->pdrv->drv->remove)
		driver_remove(k, pdev);
	drvnucleus_dev_detach(&k->nd);
	spin_lock(&kdevs_lock);
	k->gone = true;
	spin_unlock(&kdevs_lock);
	wake_up_all(&k->chain_wq);
	wait_event(slice_users_wq, !atomic_read(&k->users));
	/* Kept by calls that ended after the detach freed the others. */
	drvnucleus_answers_free(&k->nd);
	/* What the u-driver left of the kernel's resources. */
	drvslice_api_release(k);
	drvslice_combolock_forget(k);
	spin_lock(&kdevs_lock);
	list_del(&k->node);
	spin_unlock(&kdevs_lock);
	drvslice_side_reset(&k->side);
	vfree(k);
}

static void slice_cls_remove(struct drvnucleus_dev *d)
{
}

int drvslice_pci_register(struct pci_driver *drv, struct module *owner,
			  const char *mod_name,
			  const struct drvslice_driver *desc, unsigned char cls)
{
	struct drvslice_pdrv *p;
	int err;

	if (!drv || !drv->name || !drv->probe || !desc)
		return -EINVAL;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->drv = drv;
	p->desc = desc;
	p->cls.name = "sliced";
	p->cls.id = cls;
	p->cls.remove = slice_cls_remove;
	p->wrap.name = drv->name;
	p->wrap.id_table = drv->id_table;
	p->wrap.probe = slice_probe;
	p->wrap.remove = slice_remove;
	mutex_lock(&slice_lock);
	list_add_tail(&p->node, &slice_pdrvs);
	mutex_unlock(&slice_lock);
	err = __pci_register_driver(&p->wrap, owner, mod_name);
	if (err) {
		mutex_lock(&slice_lock);
		list_del(&p->node);
		mutex_unlock(&slice_lock);
		kfree(p);
	}
	return err;
}
EXPORT_SYMBOL_GPL(drvslice_pci_register);

void drvslice_pci_unregister(struct pci_driver *drv)
{
	struct drvslice_pdrv *p, *found = NULL;

	mutex_lock(&slice_lock);
	list_for_each_entry(p, &slice_pdrvs, node)
		if (p->drv == drv) {
			found = p;
			list_del(&p->node);
			break;
		}
	mutex_unlock(&slice_lock);
	if (!found) {
		WARN(1, "drvslice: unregistering a driver never registered\n");
		return;
	}
	pci_unregister_driver(&found->wrap);
	kfree(found);
}
EXPORT_SYMBOL_GPL(drvslice_pci_unregister);
