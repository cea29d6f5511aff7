/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ComboLock (Microdrivers, ASPLOS'08): one lock over the device state the
 * nucleus's data path and the u-driver's downcalls share - here, the chip
 * registers both sides write (interrupt status and mask, the tx slots, the
 * DAC's control and page registers).
 *
 * While only kernel code holds it, it is a spinlock: the data path takes it
 * in any context and never sleeps.  A downcall takes it in user mode for a
 * whole register sequence, which may poll and delay for milliseconds:
 * kernel holders are waited out first, then the spinlock is released and
 * the lock marked user-held.  From then on, kernel contenders in process
 * context sleep until the release (the semaphore side); data-path
 * contenders, which cannot sleep, find it user-held, record what they left
 * undone (COMBO_DEFER_*) and return; the release runs the device's
 * @release hook with those bits, in process context, to redo it (enable
 * the interrupt line again, wake the tx queue, reschedule NAPI).
 */
#ifndef _DRVNUCLEUS_COMBOLOCK_H
#define _DRVNUCLEUS_COMBOLOCK_H

#include <linux/spinlock.h>
#include <linux/wait.h>

#define COMBO_DEFER_IRQ		0x1	/* the handler disabled its line */
#define COMBO_DEFER_XMIT	0x2	/* start_xmit stopped the queue */
#define COMBO_DEFER_NAPI	0x4	/* the poll completed without work */

struct combolock {
	spinlock_t spin;
	bool user;			/* held for a downcall */
	unsigned long deferred;		/* COMBO_DEFER_*, under @spin */
	wait_queue_head_t wait;		/* sleeping kernel contenders */
	u64 user_holds;			/* statistics, under @spin */
	u64 deferrals;
	void (*release)(void *arg, unsigned long deferred);
	void *arg;
};

void combolock_init(struct combolock *cl,
		    void (*release)(void *arg, unsigned long deferred),
		    void *arg);

/*
 * Data path, any context: takes the spinlock (interrupts saved in *@flags)
 * and returns 0, or -EBUSY if a downcall holds the lock - the spinlock is
 * then held all the same, so the caller records @defer work atomically
 * with the check: combolock_defer(), then combolock_unlock().
 */
int combolock_lock_atomic(struct combolock *cl, unsigned long *flags);
void combolock_defer(struct combolock *cl, unsigned long what);
void combolock_unlock(struct combolock *cl, unsigned long flags);

/* Kernel code in process context: spins, or sleeps while a downcall holds
 * the lock.  Release with combolock_unlock(). */
void combolock_lock(struct combolock *cl, unsigned long *flags);

/* Downcalls (process context, may sleep in between). */
void combolock_lock_user(struct combolock *cl);
void combolock_unlock_user(struct combolock *cl);

#endif /* _DRVNUCLEUS_COMBOLOCK_H */
