/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver library's two layers meet here.
 *
 * A user half is compiled with the kernel's headers, and so are the
 * library's kernel-facing files (slicer/lib/k-*.c), which define the kernel
 * symbols a user half can run inside its own process.  Kernel headers and
 * the C library's headers cannot share a translation unit, so whatever those
 * files need from the process (memory, the clock, sleeping, futexes,
 * threads, stderr) they ask of the libc-facing files (slicer/lib/os-*.c,
 * compiled normally against glibc) through this interface.
 *
 * It uses plain C types only (no kernel and no libc typedefs, no includes),
 * so that both layers can include it.  Sizes and times are unsigned long
 * (LP64: 64 bits, as the kernel's size_t and u64 are on x86-64).
 */
#ifndef _DRVSLICE_OS_H
#define _DRVSLICE_OS_H

/* --- memory (os-core.c) --- */

/*
 * Allocate @size bytes aligned to @align (a power of two), zeroed when
 * @zero is non-zero.  NULL when the process is out of memory.
 */
void *drvslice_os_alloc(unsigned long size, unsigned long align, int zero);
/* Free what drvslice_os_alloc returned; NULL is ignored. */
void drvslice_os_free(void *p);
/* The usable size of an allocation (at least what was asked for). */
unsigned long drvslice_os_usable_size(const void *p);

/* --- the log (os-core.c) --- */

/*
 * Write one line of the kernel log: "<LEVEL>TEXT\n" to stderr in one
 * write(2), the sd-daemon(3) prefix that gives journald the priority
 * (kernel log levels are syslog priorities).  @text holds @len bytes and
 * no newline.
 */
void drvslice_os_log(int level, const char *text, unsigned long len);

/* --- the process (os-core.c) --- */

/* The calling thread's id (gettid(2)): the kernel's task pid. */
int drvslice_os_tid(void);
/* The calling thread's name (the kernel's current->comm), NUL-terminated. */
void drvslice_os_comm(char *buf, unsigned long size);
/* End the process as a kernel BUG() ends a task: abort(3) (SIGABRT). */
void drvslice_os_abort(void) __attribute__((__noreturn__));
/* Run @fn when the process exits normally (atexit(3)). */
void drvslice_os_atexit(void (*fn)(void));
/*
 * The symbol at @addr as the kernel's kallsyms prints it, from the
 * process's dynamic symbol tables (dladdr1(3)): "name+0xoff/0xsize" with
 * DRVSLICE_OS_SYM_OFFSET, else just "name"; then " [object]" when it is in
 * a shared object rather than the executable (the kernel's " [module]").
 * DRVSLICE_OS_SYM_RETADDR looks up @addr - 1 (a return address after a
 * call that does not return) but prints @addr's offset, as %pB does.
 * Returns the length written (at most @size - 1, NUL-terminated), or -1
 * when no symbol covers the address.
 */
#define DRVSLICE_OS_SYM_OFFSET	1
#define DRVSLICE_OS_SYM_RETADDR	2
int drvslice_os_symbol(unsigned long addr, int flags, char *buf, unsigned long size);
/*
 * The calling thread's return addresses, innermost first (backtrace(3)),
 * skipping @skip frames; returns how many were stored.
 */
int drvslice_os_backtrace(unsigned long *addrs, int max, int skip);

/* --- time (os-time.c) --- */

/* CLOCK_MONOTONIC in nanoseconds. */
unsigned long drvslice_os_now_ns(void);
/*
 * Clock @clockid (Linux's numbering, the same in the kernel's uapi and in
 * glibc: 0 REALTIME, 1 MONOTONIC, 4 MONOTONIC_RAW, 5 REALTIME_COARSE,
 * 6 MONOTONIC_COARSE, 7 BOOTTIME, 11 TAI) in nanoseconds; 0 if the
 * clock is unknown.
 */
unsigned long drvslice_os_clock_ns(int clockid);
/* Sleep (not spin) until CLOCK_MONOTONIC reaches @deadline_ns. */
void drvslice_os_sleep_until_ns(unsigned long deadline_ns);
/* Busy-wait (spin on the clock, never sleep) for @ns nanoseconds. */
void drvslice_os_delay_ns(unsigned long ns);

/*
 * jiffies: *@counter = @base + CLOCK_MONOTONIC ticks at @hz, kept current
 * by a thread ("dslice-jiffies") that wakes at every tick boundary.
 * Started once (later calls do nothing).  Not restarted in a fork(2)ed
 * child, where the counter moves only through drvslice_os_jiffies_update.
 */
void drvslice_os_jiffies_start(volatile unsigned long *counter, unsigned long hz,
			       unsigned long base);
/*
 * Bring the counter up to the clock now (it never goes back) and return
 * it: for sleepers that wake at a tick boundary before the thread does.
 */
unsigned long drvslice_os_jiffies_update(void);
/* The CLOCK_MONOTONIC time at which the counter reaches @j. */
unsigned long drvslice_os_jiffies_to_ns(unsigned long j);

/* --- scheduling and waiting (os-sync.c) --- */

/* Give up the CPU (sched_yield(2)). */
void drvslice_os_yield(void);
/* The CPU the calling thread runs on (sched_getcpu(3)), 0 if unknown. */
int drvslice_os_cpu(void);
/*
 * futex(2) on a 32-bit word of this process: sleep while *@word ==
 * @expected (returns at once if it is not; may return spuriously), and
 * wake up to @count sleepers.
 */
void drvslice_os_futex_wait(unsigned int *word, unsigned int expected);
void drvslice_os_futex_wake(unsigned int *word, int count);
/*
 * A thread running @fn(@arg), with every signal blocked; NULL if it could
 * not be created.  drvslice_os_thread_join waits for it and frees it.
 */
void *drvslice_os_thread_start(void (*fn)(void *), void *arg);
void drvslice_os_thread_join(void *thread);

#endif /* _DRVSLICE_OS_H */
