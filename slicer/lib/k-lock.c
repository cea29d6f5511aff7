// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: spin locks and mutexes for a user half.
 *
 * Provides the out-of-line spin lock entry points the kernel's
 * spinlock_api_smp.h calls in this configuration (_raw_spin_lock,
 * _raw_spin_lock_bh/_irq/_irqsave, _raw_spin_trylock/_bh and the matching
 * unlocks) and the mutex API of linux/mutex.h (__mutex_init, mutex_lock,
 * mutex_lock_interruptible/_killable/_io, mutex_trylock, mutex_unlock,
 * mutex_is_locked, atomic_dec_and_mutex_lock).
 *
 * Both work in the kernel structures' own storage, so a lock initialised
 * by the driver (DEFINE_SPINLOCK, spin_lock_init, DEFINE_MUTEX,
 * mutex_init) needs nothing else:
 *  - a raw_spinlock_t is its qspinlock word: 0 free, _Q_LOCKED_VAL held,
 *    taken with an atomic compare-and-exchange, released by clearing the
 *    locked byte (what the kernel's queued_spin_unlock stores).  Waiters
 *    spin with cpu_relax() and, unlike in the kernel, yield the CPU now and
 *    then: the holder is a preemptible thread here, not a CPU with
 *    preemption off.  No MCS queue (pending/tail stay 0).
 *  - a struct mutex is its owner word: 0 free, otherwise the owner's id
 *    (its thread id shifted past MUTEX_FLAGS, as the kernel stores a
 *    task_struct pointer) with MUTEX_FLAG_WAITERS set once a thread waits.
 *    Waiters spin briefly, then sleep on a futex on the owner word's low
 *    32 bits (never 0 while held), woken by mutex_unlock.  wait_lock, osq
 *    and wait_list are initialised as the kernel does and otherwise unused.
 *
 * A lock the driver's annotations make a ComboLock (combolock
 * STRUCT.FIELD) is the kernel's: its spin_lock and spin_unlock here are
 * the kernel API's downcalls (k-api.c: drvslice_combolock_op, which says
 * whether @lock is one), and the copy's own bytes stay untouched.
 *
 * Departures: there are no interrupts or bottom halves in a process, so
 * the _irq/_irqsave/_bh variants only take the lock; _irqsave returns 0 as
 * its flags and _irqrestore ignores them.  No lockdep, no preemption count.
 * A thread has no kernel signals, so mutex_lock_interruptible and
 * mutex_lock_killable always take the lock and return 0.
 */
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#include "drvslice.h"
#include "drvslice-os.h"
#include "k-lib.h"

/* k-api.c's (k-lib.h); weak: the library's local test links no k-api.o. */
#pragma weak drvslice_combolock_op

static __always_inline bool combo(raw_spinlock_t *lock, int op, int *got)
{
	return drvslice_combolock_op && drvslice_combolock_op(lock, op, got);
}

/* How long to spin before yielding (spin locks) or sleeping (mutexes). */
#define SPINS_BEFORE_YIELD	128
#define MUTEX_SPINS		64

static __always_inline bool ds_spin_try(raw_spinlock_t *lock)
{
	int unlocked = 0;

	return __atomic_compare_exchange_n(&lock->raw_lock.val.counter, &unlocked,
					   _Q_LOCKED_VAL, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static void ds_spin_acquire(raw_spinlock_t *lock)
{
	unsigned int spins = 0;

	while (!ds_spin_try(lock)) {
		/* Wait for it to look free before trying the exchange again. */
		while (__atomic_load_n(&lock->raw_lock.val.counter, __ATOMIC_RELAXED)) {
			if (++spins < SPINS_BEFORE_YIELD) {
				cpu_relax();
			} else {
				spins = 0;
				drvslice_os_yield();
			}
		}
	}
}

static __always_inline void ds_spin_release(raw_spinlock_t *lock)
{
	__atomic_store_n(&lock->raw_lock.locked, 0, __ATOMIC_RELEASE);
}

void _raw_spin_lock(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_LOCK, NULL))
		ds_spin_acquire(lock);
}

void _raw_spin_lock_bh(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_LOCK, NULL))
		ds_spin_acquire(lock);
}

void _raw_spin_lock_irq(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_LOCK, NULL))
		ds_spin_acquire(lock);
}

unsigned long _raw_spin_lock_irqsave(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_LOCK, NULL))
		ds_spin_acquire(lock);
	return 0;
}

int _raw_spin_trylock(raw_spinlock_t *lock)
{
	int got;

	if (combo(lock, DRVSLICE_COMBOLOCK_TRYLOCK, &got))
		return got;
	return ds_spin_try(lock);
}

int _raw_spin_trylock_bh(raw_spinlock_t *lock)
{
	int got;

	if (combo(lock, DRVSLICE_COMBOLOCK_TRYLOCK, &got))
		return got;
	return ds_spin_try(lock);
}

void _raw_spin_unlock(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_UNLOCK, NULL))
		ds_spin_release(lock);
}

void _raw_spin_unlock_bh(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_UNLOCK, NULL))
		ds_spin_release(lock);
}

void _raw_spin_unlock_irq(raw_spinlock_t *lock)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_UNLOCK, NULL))
		ds_spin_release(lock);
}

void _raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags)
{
	if (!combo(lock, DRVSLICE_COMBOLOCK_UNLOCK, NULL))
		ds_spin_release(lock);
}

/* kernel/locking/mutex.c's owner flags, in the owner word's low bits. */
#define MUTEX_FLAG_WAITERS	0x01
#define MUTEX_FLAGS		0x07

/* The calling thread's owner value: never 0, flags bits clear. */
static long mutex_owner_id(void)
{
	static __thread long id;

	if (!id)
		id = (long)drvslice_os_tid() << 3;
	return id;
}

/* The 32 bits of the owner word the futex waits on (x86 is little-endian). */
static __always_inline unsigned int *mutex_futex(struct mutex *lock)
{
	return (unsigned int *)&lock->owner.counter;
}

void __mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key)
{
	atomic_long_set(&lock->owner, 0);
	lock->wait_lock = (raw_spinlock_t)__RAW_SPIN_LOCK_UNLOCKED(lock->wait_lock);
#ifdef CONFIG_MUTEX_SPIN_ON_OWNER
	atomic_set(&lock->osq.tail, OSQ_UNLOCKED_VAL);
#endif
	INIT_LIST_HEAD(&lock->wait_list);
}

bool mutex_is_locked(struct mutex *lock)
{
	return (__atomic_load_n(&lock->owner.counter, __ATOMIC_RELAXED) & ~MUTEX_FLAGS) != 0;
}

static __always_inline bool ds_mutex_try(struct mutex *lock, long me)
{
	s64 unlocked = 0;

	return __atomic_compare_exchange_n(&lock->owner.counter, &unlocked, me, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void mutex_acquire_slow(struct mutex *lock, long me)
{
	unsigned int spins = 0;

	for (;;) {
		s64 v = __atomic_load_n(&lock->owner.counter, __ATOMIC_RELAXED);

		if (!(v & ~MUTEX_FLAGS)) {
			/*
			 * Free: take it, keeping WAITERS set since others may
			 * still sleep on it (the next unlock wakes one of them).
			 */
			if (__atomic_compare_exchange_n(&lock->owner.counter, &v,
							me | MUTEX_FLAG_WAITERS, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return;
			continue;
		}
		if (spins < MUTEX_SPINS) {
			spins++;
			cpu_relax();
			continue;
		}
		if (!(v & MUTEX_FLAG_WAITERS)) {
			if (!__atomic_compare_exchange_n(&lock->owner.counter, &v,
							 v | MUTEX_FLAG_WAITERS, false,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				continue;
			v |= MUTEX_FLAG_WAITERS;
		}
		drvslice_os_futex_wait(mutex_futex(lock), (unsigned int)v);
	}
}

void mutex_lock(struct mutex *lock)
{
	long me = mutex_owner_id();

	if (!ds_mutex_try(lock, me))
		mutex_acquire_slow(lock, me);
}

int mutex_lock_interruptible(struct mutex *lock)
{
	mutex_lock(lock);
	return 0;
}

int mutex_lock_killable(struct mutex *lock)
{
	mutex_lock(lock);
	return 0;
}

void mutex_lock_io(struct mutex *lock)
{
	mutex_lock(lock);
}

int mutex_trylock(struct mutex *lock)
{
	return ds_mutex_try(lock, mutex_owner_id());
}

void mutex_unlock(struct mutex *lock)
{
	s64 v = __atomic_exchange_n(&lock->owner.counter, 0, __ATOMIC_RELEASE);

	if (v & MUTEX_FLAG_WAITERS)
		drvslice_os_futex_wake(mutex_futex(lock), 1);
}

/* Decrement @cnt; if it reaches 0, return 1 holding @lock. */
int atomic_dec_and_mutex_lock(atomic_t *cnt, struct mutex *lock)
{
	/* dec if we can't possibly hit 0 */
	if (atomic_add_unless(cnt, -1, 1))
		return 0;
	mutex_lock(lock);
	if (!atomic_dec_and_test(cnt)) {
		mutex_unlock(lock);
		return 0;
	}
	return 1;
}
