// SPDX-License-Identifier: GPL-2.0
/*
 * The driver library's clocks (see drvslice-os.h): CLOCK_MONOTONIC for
 * udelay's busy-wait and for sleeping, the other clocks for ktime_get and
 * friends, and the thread that keeps the kernel-facing layer's jiffies
 * counter current.
 *
 * jiffies is derived from CLOCK_MONOTONIC (time since boot, not counting
 * suspend, as the kernel's tick count is) rather than counted, so it never
 * drifts and sleepers can bring it up to date themselves when they wake at
 * a tick boundary before the thread does.  The thread wakes at every tick
 * (HZ times a second) only to store the new value.  It is not restarted in
 * a fork(2)ed child, where jiffies then moves only when the library sleeps
 * or calls drvslice_os_jiffies_update.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "drvslice-os.h"

#define NSEC_PER_SEC 1000000000UL

unsigned long drvslice_os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * NSEC_PER_SEC + (unsigned long)ts.tv_nsec;
}

unsigned long drvslice_os_clock_ns(int clockid)
{
	struct timespec ts;

	if (clock_gettime((clockid_t)clockid, &ts) != 0)
		return 0;
	return (unsigned long)ts.tv_sec * NSEC_PER_SEC + (unsigned long)ts.tv_nsec;
}

void drvslice_os_sleep_until_ns(unsigned long deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC),
		.tv_nsec = (long)(deadline_ns % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void drvslice_os_delay_ns(unsigned long ns)
{
	unsigned long start = drvslice_os_now_ns();

	while (drvslice_os_now_ns() - start < ns)
		__builtin_ia32_pause();
}

/* The counter, its rate and its value at boot (the kernel's INITIAL_JIFFIES). */
static volatile unsigned long *jiffies_counter;
static unsigned long jiffies_hz;
static unsigned long jiffies_base;
static int jiffies_started;

/* The tick count the clock says it is now. */
static unsigned long jiffies_from_clock(void)
{
	unsigned long ns = drvslice_os_now_ns();

	if (NSEC_PER_SEC % jiffies_hz == 0)
		return jiffies_base + ns / (NSEC_PER_SEC / jiffies_hz);
	return jiffies_base + (unsigned long)((unsigned __int128)ns * jiffies_hz / NSEC_PER_SEC);
}

unsigned long drvslice_os_jiffies_to_ns(unsigned long j)
{
	unsigned long ticks = j - jiffies_base;

	if (!jiffies_hz)
		return 0;

	if (NSEC_PER_SEC % jiffies_hz == 0)
		return ticks * (NSEC_PER_SEC / jiffies_hz);
	/* Rounded up: the first nanosecond at which the count is @j. */
	return (unsigned long)(((unsigned __int128)ticks * NSEC_PER_SEC + jiffies_hz - 1) /
			       jiffies_hz);
}

unsigned long drvslice_os_jiffies_update(void)
{
	unsigned long now, cur;

	if (!jiffies_counter)
		return 0;
	now = jiffies_from_clock();
	cur = __atomic_load_n(jiffies_counter, __ATOMIC_RELAXED);
	/* Only forward: a late thread must not undo a sleeper's update. */
	while ((long)(now - cur) > 0) {
		if (__atomic_compare_exchange_n(jiffies_counter, &cur, now, 0,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return now;
	}
	return cur;
}

static void *jiffies_thread(void *unused)
{
	(void)unused;
	for (;;) {
		unsigned long j = drvslice_os_jiffies_update();

		drvslice_os_sleep_until_ns(drvslice_os_jiffies_to_ns(j + 1));
	}
	return NULL;
}

void drvslice_os_jiffies_start(volatile unsigned long *counter, unsigned long hz,
			       unsigned long base)
{
	sigset_t all, old;
	pthread_t thread;

	if (__atomic_exchange_n(&jiffies_started, 1, __ATOMIC_ACQ_REL))
		return;
	jiffies_hz = hz ? hz : 100;
	jiffies_base = base;
	*counter = jiffies_from_clock();
	__atomic_store_n(&jiffies_counter, counter, __ATOMIC_RELEASE);
	/* The thread takes no signal meant for the driver's own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&thread, NULL, jiffies_thread, NULL) == 0) {
		pthread_setname_np(thread, "dslice-jiffies");
		pthread_detach(thread);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
