// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: time for a user half.
 *
 * Provides jiffies and jiffies_64; the delays of asm-generic/delay.h
 * (__udelay, __ndelay, __const_udelay, __delay, loops_per_jiffy); the
 * sleeps of linux/delay.h and linux/sched.h (msleep, msleep_interruptible,
 * usleep_range_state, schedule_timeout and its _interruptible, _killable,
 * _uninterruptible and _idle forms); the out-of-line jiffies conversions
 * of linux/jiffies.h (jiffies_to_msecs, jiffies_to_usecs,
 * __msecs_to_jiffies, __usecs_to_jiffies, nsecs_to_jiffies,
 * nsecs_to_jiffies64, jiffies64_to_nsecs, jiffies64_to_msecs); and the
 * ktime_get family of linux/timekeeping.h (with ns_to_timespec64).
 *
 * jiffies counts at HZ (CONFIG_HZ of the kernel the driver was built for)
 * from INITIAL_JIFFIES at boot, as the kernel's does: it is CLOCK_MONOTONIC
 * in ticks, kept current by a thread of the os layer that a constructor
 * starts.  jiffies is an alias of jiffies_64, as the kernel's linker script
 * makes it on 64-bit.  It is the running kernel's count only
 * approximately: its tick interrupts are not visible to a process.
 *
 * Departures: udelay and friends busy-wait on CLOCK_MONOTONIC instead of
 * the TSC; a delay "loop" (loops_per_jiffy, __delay) is one nanosecond.
 * A process has no task states or wakeups for the scheduler: the
 * schedule_timeout family sleeps the whole timeout and returns 0 as for a
 * sleeping task nobody woke (MAX_SCHEDULE_TIMEOUT then sleeps for ever),
 * and the interruptible forms are not cut short by signals.  Sleeps end
 * at the tick the kernel's timer would fire at, without the timer wheel's
 * coarser granularity for long timeouts.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>

#include "drvslice-os.h"

u64 __cacheline_aligned_in_smp jiffies_64 = INITIAL_JIFFIES;
extern unsigned long volatile jiffies __attribute__((__alias__("jiffies_64")));

/* One delay loop is a nanosecond. */
unsigned long loops_per_jiffy = NSEC_PER_SEC / HZ;

static void __attribute__((__constructor__)) drvslice_time_init(void)
{
	drvslice_os_jiffies_start(&jiffies, HZ, INITIAL_JIFFIES);
}

void __delay(unsigned long loops)
{
	drvslice_os_delay_ns(loops);
}

/*
 * @xloops is the delay in units of 2^-32 seconds (udelay passes usecs *
 * 0x10c7, ndelay nsecs * 5); the kernel turns it into loops and adds one.
 */
void __const_udelay(unsigned long xloops)
{
	drvslice_os_delay_ns((unsigned long)(((unsigned __int128)xloops * NSEC_PER_SEC) >> 32) + 1);
}

void __udelay(unsigned long usecs)
{
	/* 2^32 / 10^6, rounded up, as udelay's constant path. */
	__const_udelay(usecs * 0x000010c7);
}

void __ndelay(unsigned long nsecs)
{
	/* 2^32 / 10^9, rounded up. */
	__const_udelay(nsecs * 0x00005);
}

/* Sleep until jiffies reaches @expire; the jiffies count then. */
static unsigned long sleep_until_jiffies(unsigned long expire)
{
	unsigned long now = drvslice_os_jiffies_update();

	while (time_before(now, expire)) {
		drvslice_os_sleep_until_ns(drvslice_os_jiffies_to_ns(expire));
		now = drvslice_os_jiffies_update();
	}
	return now;
}

signed long schedule_timeout(signed long timeout)
{
	unsigned long expire;

	if (timeout == MAX_SCHEDULE_TIMEOUT) {
		/* Nothing wakes this task. */
		for (;;)
			sleep_until_jiffies(jiffies + 24 * 3600 * HZ);
	}
	if (timeout < 0) {
		printk(KERN_ERR "schedule_timeout: wrong timeout value %lx\n", timeout);
		dump_stack();
		return 0;
	}
	expire = timeout + jiffies;
	timeout = expire - sleep_until_jiffies(expire);
	return timeout < 0 ? 0 : timeout;
}

signed long schedule_timeout_interruptible(signed long timeout)
{
	return schedule_timeout(timeout);
}

signed long schedule_timeout_killable(signed long timeout)
{
	return schedule_timeout(timeout);
}

signed long schedule_timeout_uninterruptible(signed long timeout)
{
	return schedule_timeout(timeout);
}

signed long schedule_timeout_idle(signed long timeout)
{
	return schedule_timeout(timeout);
}

void msleep(unsigned int msecs)
{
	unsigned long timeout = msecs_to_jiffies(msecs) + 1;

	while (timeout)
		timeout = schedule_timeout_uninterruptible(timeout);
}

unsigned long msleep_interruptible(unsigned int msecs)
{
	unsigned long timeout = msecs_to_jiffies(msecs) + 1;

	while (timeout)
		timeout = schedule_timeout_interruptible(timeout);
	return jiffies_to_msecs(timeout);
}

void usleep_range_state(unsigned long min, unsigned long max, unsigned int state)
{
	/* The earliest end of the range: an hrtimer with no slack. */
	drvslice_os_sleep_until_ns(drvslice_os_now_ns() + min * NSEC_PER_USEC);
}

unsigned int jiffies_to_msecs(const unsigned long j)
{
#if HZ <= MSEC_PER_SEC && !(MSEC_PER_SEC % HZ)
	return (MSEC_PER_SEC / HZ) * j;
#elif HZ > MSEC_PER_SEC && !(HZ % MSEC_PER_SEC)
	return (j + (HZ / MSEC_PER_SEC) - 1) / (HZ / MSEC_PER_SEC);
#else
	return DIV_ROUND_UP((u64)j * MSEC_PER_SEC, HZ);
#endif
}

unsigned int jiffies_to_usecs(const unsigned long j)
{
#if !(USEC_PER_SEC % HZ)
	return (USEC_PER_SEC / HZ) * j;
#else
	return ((u64)j * USEC_PER_SEC) / HZ;
#endif
}

unsigned long __msecs_to_jiffies(const unsigned int m)
{
	/* Negative means an infinite timeout. */
	if ((int)m < 0)
		return MAX_JIFFY_OFFSET;
	return _msecs_to_jiffies(m);
}

unsigned long __usecs_to_jiffies(const unsigned int u)
{
	if (u > jiffies_to_usecs(MAX_JIFFY_OFFSET))
		return MAX_JIFFY_OFFSET;
	return _usecs_to_jiffies(u);
}

u64 jiffies64_to_nsecs(u64 j)
{
#if !(NSEC_PER_SEC % HZ)
	return (NSEC_PER_SEC / HZ) * j;
#else
	return (u64)(((unsigned __int128)j * NSEC_PER_SEC) / HZ);
#endif
}

u64 jiffies64_to_msecs(const u64 j)
{
#if HZ <= MSEC_PER_SEC && !(MSEC_PER_SEC % HZ)
	return (MSEC_PER_SEC / HZ) * j;
#else
	return (u64)(((unsigned __int128)j * MSEC_PER_SEC) / HZ);
#endif
}

u64 nsecs_to_jiffies64(u64 n)
{
#if (NSEC_PER_SEC % HZ) == 0
	return n / (NSEC_PER_SEC / HZ);
#else
	return (u64)(((unsigned __int128)n * HZ) / NSEC_PER_SEC);
#endif
}

unsigned long nsecs_to_jiffies(u64 n)
{
	return (unsigned long)nsecs_to_jiffies64(n);
}

struct timespec64 ns_to_timespec64(s64 nsec)
{
	struct timespec64 ts = { 0, 0 };
	u64 n;

	if (nsec > 0) {
		n = nsec;
		ts.tv_sec = n / NSEC_PER_SEC;
		ts.tv_nsec = n % NSEC_PER_SEC;
	} else if (nsec < 0) {
		/* Seconds rounded down, nanoseconds in [0, NSEC_PER_SEC). */
		n = -(nsec + 1);
		ts.tv_sec = -(s64)(n / NSEC_PER_SEC) - 1;
		ts.tv_nsec = NSEC_PER_SEC - 1 - n % NSEC_PER_SEC;
	}
	return ts;
}

/* Linux clock ids (the same numbers user space uses). */
ktime_t ktime_get(void)
{
	return (ktime_t)drvslice_os_clock_ns(CLOCK_MONOTONIC);
}

ktime_t ktime_get_raw(void)
{
	return (ktime_t)drvslice_os_clock_ns(CLOCK_MONOTONIC_RAW);
}

static int offset_clock(enum tk_offsets offs, bool coarse)
{
	switch (offs) {
	case TK_OFFS_REAL:
		return coarse ? CLOCK_REALTIME_COARSE : CLOCK_REALTIME;
	case TK_OFFS_BOOT:
		return CLOCK_BOOTTIME;
	case TK_OFFS_TAI:
		return CLOCK_TAI;
	default:
		return coarse ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC;
	}
}

ktime_t ktime_get_with_offset(enum tk_offsets offs)
{
	return (ktime_t)drvslice_os_clock_ns(offset_clock(offs, false));
}

ktime_t ktime_get_coarse_with_offset(enum tk_offsets offs)
{
	return (ktime_t)drvslice_os_clock_ns(offset_clock(offs, true));
}

void ktime_get_ts64(struct timespec64 *ts)
{
	*ts = ns_to_timespec64(drvslice_os_clock_ns(CLOCK_MONOTONIC));
}

void ktime_get_real_ts64(struct timespec64 *ts)
{
	*ts = ns_to_timespec64(drvslice_os_clock_ns(CLOCK_REALTIME));
}

time64_t ktime_get_seconds(void)
{
	return drvslice_os_clock_ns(CLOCK_MONOTONIC) / NSEC_PER_SEC;
}

time64_t ktime_get_real_seconds(void)
{
	return drvslice_os_clock_ns(CLOCK_REALTIME) / NSEC_PER_SEC;
}

u64 ktime_get_mono_fast_ns(void)
{
	return drvslice_os_clock_ns(CLOCK_MONOTONIC);
}

u64 ktime_get_boot_fast_ns(void)
{
	return drvslice_os_clock_ns(CLOCK_BOOTTIME);
}
