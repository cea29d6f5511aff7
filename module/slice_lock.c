// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus: the ComboLocks of sliced drivers.
 *
 * A lock the driver's annotations name `combolock STRUCT.FIELD` is taken
 * by both halves: the kernel half's interrupt handler, NAPI poll and
 * transmit path, and the user half's ethtool operations and close.  There
 * is one lock, the kernel's (in the kernel's object: the net_device's
 * private area); its bytes never cross.  The user half's spin_lock of its
 * copy's is a downcall (the driver library's _raw_spin_lock finds the lock
 * at a combolock field of an object it tracks) whose thunk
 * (slice_api.c: drvslice_combolock) holds the kernel's lock for the
 * u-driver until its spin_unlock's downcall: "user mode", as the
 * Microdrivers ComboLock has it.  A u-driver cannot hold a spinning lock
 * across its system calls, so user mode is a mark, set and cleared under
 * the lock itself:
 *
 *  - drvslice_combolock_hold() waits for the kernel half to leave the lock
 *    (takes it, marks it, gives it back);
 *  - the kernel half's spin_lock calls come here (drvslice-kernel.h
 *    renames _raw_spin_lock and its variants for the half's code): the
 *    lock taken, a mark found means the u-driver holds it, so the half
 *    gives the lock back and spins until the mark is gone, then takes it
 *    again.  The task serving the owner's downcalls (a kernel-half
 *    function the u-driver calls inside its critical section) is the
 *    holder's, and passes.
 *
 * Before it marks a lock, the thunk stops the kernel half's entry points
 * that could spin on it in interrupt or softirq context on the CPU the
 * u-driver needs (slice_api.c: the device's interrupt, its NAPI contexts,
 * its transmit queue), and starts them again after the last release: so
 * the spinning that remains is a process's (get_stats, set_rx_mode under
 * the address lock), which the u-driver's thread, on another CPU or
 * preempting it, ends.  A spin that lasts slice_combolock_spin_ms all the
 * same (the u-driver stopped inside its critical section, before the
 * daemon gives up on it) goes on without the lock, counted and said, and
 * every later entry during the same hold goes on at once: the kernel does
 * not hang on a process, once or a second at a time.
 *
 * The u-driver's death releases its marks: at the next u-driver's
 * adoption of the device, or at the device's removal.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "slice.h"

static unsigned int slice_combolock_spin_ms = 1000;
module_param(slice_combolock_spin_ms, uint, 0644);
MODULE_PARM_DESC(slice_combolock_spin_ms,
		 "How long the kernel half of a sliced driver spins on a ComboLock its u-driver holds before it goes on without it (ms)");

#define COMBOLOCKS_MAX	32

/*
 * One ComboLock a u-driver has taken at least once.  @lock and @k are set
 * under combolocks_lock when the slot is taken and cleared when the device
 * goes; @owner (the device whose u-driver holds it, or NULL) changes only
 * under *@lock.
 */
struct slice_combolock {
	raw_spinlock_t *lock;
	struct drvslice_kdev *k;
	const char *name;
	struct drvslice_kdev *owner;
	/* Counters, for the line said when the device goes. */
	unsigned long holds, waits, overruns;
	u64 longest_wait_ns;
	/* @holds when a spin on the hold then running overran (0: none):
	 * the u-driver is stuck inside its critical section until drivermgrd
	 * replaces it, and the kernel half's later entries go on at once
	 * instead of spinning slice_combolock_spin_ms each (a slice
	 * campaign's transmits, one after another in softirq, held a CPU
	 * for 26 s so, and starved the daemon that was to end the hold). */
	unsigned long overrun_hold;
	/* Kernel-half code waiting for the u-driver's hold to end: the
	 * u-driver's next hold lets it through first (else back-to-back
	 * holds, ethtool's calls one after another, starve it). */
	atomic_t kwaiters;
};

static struct slice_combolock combolocks[COMBOLOCKS_MAX];
static DEFINE_SPINLOCK(combolocks_lock);
/* How many are held in user mode: the kernel half's fast path reads it. */
static atomic_t combolocks_held = ATOMIC_INIT(0);

/* /sys/module/drvnucleus/parameters/slice_combolocks: a line per ComboLock
 * a u-driver has taken, with its device and counters. */
static int combolocks_show(char *buf, const struct kernel_param *kp)
{
	unsigned int i;
	int n = 0;

	spin_lock(&combolocks_lock);
	for (i = 0; i < COMBOLOCKS_MAX; i++) {
		const struct slice_combolock *c = &combolocks[i];

		if (!c->lock)
			continue;
		n += scnprintf(buf + n, PAGE_SIZE - n,
			       "%s %s: %lu holds by the u-driver, %lu waits of the kernel half (longest %llu us), %lu overruns%s\n",
			       pci_name(c->k->pdev), c->name, c->holds, c->waits,
			       div_u64(c->longest_wait_ns, NSEC_PER_USEC), c->overruns,
			       READ_ONCE(c->owner) ? ", held" : "");
	}
	spin_unlock(&combolocks_lock);
	return n;
}

static const struct kernel_param_ops combolocks_ops = {
	.get = combolocks_show,
};
module_param_cb(slice_combolocks, &combolocks_ops, NULL, 0444);
MODULE_PARM_DESC(slice_combolocks, "The ComboLocks of sliced drivers: holds, waits, overruns (read only)");

static struct slice_combolock *find(const raw_spinlock_t *l)
{
	unsigned int i;

	for (i = 0; i < COMBOLOCKS_MAX; i++)
		if (READ_ONCE(combolocks[i].lock) == l)
			return &combolocks[i];
	return NULL;
}

/* Whether the running code is the holder's: the task serving the owner's
 * downcalls, not an interrupt or softirq that came on top of it. */
static bool holders(const struct slice_combolock *c)
{
	const struct drvslice_kdev *owner = READ_ONCE(c->owner);

	return owner && !in_hardirq() && !in_serving_softirq() && !in_nmi() &&
	       READ_ONCE(owner->serving) == current;
}

enum lock_kind { LK_PLAIN, LK_BH, LK_IRQ, LK_IRQSAVE };

static unsigned long take(raw_spinlock_t *l, enum lock_kind kind)
{
	switch (kind) {
	case LK_BH:
		_raw_spin_lock_bh(l);
		return 0;
	case LK_IRQ:
		_raw_spin_lock_irq(l);
		return 0;
	case LK_IRQSAVE:
		return _raw_spin_lock_irqsave(l);
	default:
		_raw_spin_lock(l);
		return 0;
	}
}

static void give(raw_spinlock_t *l, enum lock_kind kind, unsigned long flags)
{
	switch (kind) {
	case LK_BH:
		_raw_spin_unlock_bh(l);
		break;
	case LK_IRQ:
		_raw_spin_unlock_irq(l);
		break;
	case LK_IRQSAVE:
		_raw_spin_unlock_irqrestore(l, flags);
		break;
	default:
		_raw_spin_unlock(l);
	}
}

/*
 * The kernel half holds @l (taken as @kind, *@flags): while the u-driver
 * holds it in user mode, give it back, spin, take it again.
 */
static void wait_user(raw_spinlock_t *l, enum lock_kind kind,
		      unsigned long *flags)
{
	struct slice_combolock *c = find(l);
	u64 start, limit, waited;
	bool over = false;

	if (!c || !READ_ONCE(c->owner) || holders(c))
		return;
	/* Under the lock: @holds and @overrun_hold change under it. */
	if (c->overrun_hold && c->overrun_hold == c->holds) {
		c->waits++;
		c->overruns++;
		return;
	}
	start = ktime_get_ns();
	limit = start + (u64)READ_ONCE(slice_combolock_spin_ms) * NSEC_PER_MSEC;
	atomic_inc(&c->kwaiters);
	while (READ_ONCE(c->owner) && !holders(c)) {
		give(l, kind, *flags);
		while (READ_ONCE(c->owner) && !over) {
			cpu_relax();
			over = ktime_get_ns() > limit;
		}
		*flags = take(l, kind);
		if (over)
			break;
	}
	atomic_dec(&c->kwaiters);
	/* The counters change under the lock, which is held here. */
	waited = ktime_get_ns() - start;
	c->waits++;
	if (waited > c->longest_wait_ns)
		c->longest_wait_ns = waited;
	if (over && READ_ONCE(c->owner)) {
		c->overruns++;
		c->overrun_hold = c->holds;
		pr_warn_ratelimited("drvslice: %s: its u-driver has held it for %u ms: the kernel half goes on without it\n",
				    c->name, READ_ONCE(slice_combolock_spin_ms));
	}
}

#define KERNEL_HALF_LOCK(kind, fn)					\
void drvslice_raw_spin_##fn(raw_spinlock_t *l)				\
{									\
	unsigned long flags = 0;					\
									\
	_raw_spin_##fn(l);						\
	if (unlikely(atomic_read(&combolocks_held)))			\
		wait_user(l, kind, &flags);				\
}									\
EXPORT_SYMBOL_GPL(drvslice_raw_spin_##fn)

KERNEL_HALF_LOCK(LK_PLAIN, lock);
KERNEL_HALF_LOCK(LK_BH, lock_bh);
KERNEL_HALF_LOCK(LK_IRQ, lock_irq);

unsigned long drvslice_raw_spin_lock_irqsave(raw_spinlock_t *l)
{
	unsigned long flags = _raw_spin_lock_irqsave(l);

	if (unlikely(atomic_read(&combolocks_held)))
		wait_user(l, LK_IRQSAVE, &flags);
	return flags;
}
EXPORT_SYMBOL_GPL(drvslice_raw_spin_lock_irqsave);

/* A trylock fails while the u-driver holds the lock (unless the caller is
 * the holder's), as it fails while another CPU holds it. */
#define KERNEL_HALF_TRYLOCK(kind, fn)					\
int drvslice_raw_spin_##fn(raw_spinlock_t *l)				\
{									\
	struct slice_combolock *c;					\
									\
	if (!_raw_spin_##fn(l))						\
		return 0;						\
	if (likely(!atomic_read(&combolocks_held)))			\
		return 1;						\
	c = find(l);							\
	if (!c || !READ_ONCE(c->owner) || holders(c))			\
		return 1;						\
	give(l, kind, 0);						\
	return 0;							\
}									\
EXPORT_SYMBOL_GPL(drvslice_raw_spin_##fn)

KERNEL_HALF_TRYLOCK(LK_PLAIN, trylock);
KERNEL_HALF_TRYLOCK(LK_BH, trylock_bh);

/* @k's slot for @l, taken if it has none (NULL: the table is full). */
static struct slice_combolock *slot(struct drvslice_kdev *k, raw_spinlock_t *l,
				    const char *name)
{
	struct slice_combolock *c, *free = NULL;
	unsigned int i;

	spin_lock(&combolocks_lock);
	for (i = 0; i < COMBOLOCKS_MAX; i++) {
		c = &combolocks[i];
		if (c->lock == l && c->k == k)
			goto out;
		if (!c->lock && !free)
			free = c;
	}
	c = free;
	if (c) {
		memset(c, 0, sizeof(*c));
		c->k = k;
		c->name = name;
		WRITE_ONCE(c->lock, l);
	}
out:
	spin_unlock(&combolocks_lock);
	return c;
}

int drvslice_combolock_hold(struct drvslice_kdev *k, raw_spinlock_t *l,
			    const char *name, bool try)
{
	struct slice_combolock *c = slot(k, l, name);
	unsigned long flags;
	unsigned int i;

	if (!c)
		return -ENOSPC;
	/* Kernel-half code that waited through the last hold goes first
	 * (a thunk sleeps; ~50 ms at most, then the lock decides). */
	for (i = 0; atomic_read(&c->kwaiters) && i < 1000; i++) {
		if (try)
			return -EBUSY;
		usleep_range(20, 50);
	}
	if (try) {
		if (!raw_spin_trylock_irqsave(l, flags))
			return -EBUSY;
	} else {
		raw_spin_lock_irqsave(l, flags);
	}
	if (c->owner) {
		raw_spin_unlock_irqrestore(l, flags);
		/* Held by the u-driver already: a second spin_lock of one
		 * the driver holds would spin for ever in the kernel too. */
		return -EDEADLK;
	}
	WRITE_ONCE(c->owner, k);
	c->holds++;
	atomic_inc(&combolocks_held);
	raw_spin_unlock_irqrestore(l, flags);
	return 0;
}

/* Clears @c's mark (the caller checked it is @k's). */
static void unmark(struct slice_combolock *c)
{
	unsigned long flags;

	raw_spin_lock_irqsave(c->lock, flags);
	WRITE_ONCE(c->owner, NULL);
	atomic_dec(&combolocks_held);
	raw_spin_unlock_irqrestore(c->lock, flags);
}

int drvslice_combolock_unhold(struct drvslice_kdev *k, raw_spinlock_t *l)
{
	struct slice_combolock *c = find(l);

	if (!c || c->k != k || READ_ONCE(c->owner) != k)
		return -EPERM;
	unmark(c);
	return 0;
}

unsigned int drvslice_combolock_release_all(struct drvslice_kdev *k)
{
	unsigned int i, n = 0;

	for (i = 0; i < COMBOLOCKS_MAX; i++) {
		struct slice_combolock *c = &combolocks[i];

		if (READ_ONCE(c->lock) && c->k == k && READ_ONCE(c->owner) == k) {
			unmark(c);
			n++;
		}
	}
	return n;
}

void drvslice_combolock_forget(struct drvslice_kdev *k)
{
	unsigned int i;

	drvslice_combolock_release_all(k);
	for (i = 0; i < COMBOLOCKS_MAX; i++) {
		struct slice_combolock *c = &combolocks[i];

		if (!READ_ONCE(c->lock) || c->k != k)
			continue;
		dev_info(&k->pdev->dev,
			 "ComboLock %s: %lu holds by the u-driver, %lu waits of the kernel half (longest %llu us), %lu overruns\n",
			 c->name, c->holds, c->waits,
			 div_u64(c->longest_wait_ns, NSEC_PER_USEC), c->overruns);
		spin_lock(&combolocks_lock);
		WRITE_ONCE(c->lock, NULL);
		c->k = NULL;
		spin_unlock(&combolocks_lock);
	}
}
