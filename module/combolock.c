// SPDX-License-Identifier: GPL-2.0
/*
 * ComboLock: see combolock.h.  A spinlock plus a user-held flag and a wait
 * queue; no kernel primitive has these semantics (a holder that is a
 * process in user space, for whom atomic contenders must not wait).
 */
#include <linux/sched.h>

#include "combolock.h"

void combolock_init(struct combolock *cl,
		    void (*release)(void *arg, unsigned long deferred),
		    void *arg)
{
	spin_lock_init(&cl->spin);
	init_waitqueue_head(&cl->wait);
	cl->user = false;
	cl->deferred = 0;
	cl->user_holds = 0;
	cl->deferrals = 0;
	cl->release = release;
	cl->arg = arg;
}

int combolock_lock_atomic(struct combolock *cl, unsigned long *flags)
{
	spin_lock_irqsave(&cl->spin, *flags);
	if (!cl->user)
		return 0;
	cl->deferrals++;
	return -EBUSY;
}

void combolock_defer(struct combolock *cl, unsigned long what)
{
	lockdep_assert_held(&cl->spin);
	cl->deferred |= what;
}

void combolock_unlock(struct combolock *cl, unsigned long flags)
{
	spin_unlock_irqrestore(&cl->spin, flags);
}

void combolock_lock(struct combolock *cl, unsigned long *flags)
{
	might_sleep();
	for (;;) {
		spin_lock_irqsave(&cl->spin, *flags);
		if (!cl->user)
			return;
		spin_unlock_irqrestore(&cl->spin, *flags);
		wait_event(cl->wait, !READ_ONCE(cl->user));
	}
}

void combolock_lock_user(struct combolock *cl)
{
	unsigned long flags;

	/* One downcall at a time reaches a device (its d->lock), so the
	 * only holders to wait out are kernel ones, and they spin briefly. */
	combolock_lock(cl, &flags);
	cl->user = true;
	cl->user_holds++;
	spin_unlock_irqrestore(&cl->spin, flags);
}

void combolock_unlock_user(struct combolock *cl)
{
	unsigned long flags, deferred;

	spin_lock_irqsave(&cl->spin, flags);
	cl->user = false;
	deferred = cl->deferred;
	cl->deferred = 0;
	spin_unlock_irqrestore(&cl->spin, flags);
	wake_up_all(&cl->wait);
	if (deferred && cl->release)
		cl->release(cl->arg, deferred);
}
