// SPDX-License-Identifier: GPL-2.0
/*
 * The driver library's waiting and threads (see drvslice-os.h): yield and
 * process-private futexes, on which the kernel-facing layer builds spin
 * locks and mutexes in the kernel structures' own storage, and threads
 * (for tests now, for kthreads and workqueues later).
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "drvslice-os.h"

void drvslice_os_yield(void)
{
	sched_yield();
}

int drvslice_os_cpu(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0 : cpu;
}

void drvslice_os_futex_wait(unsigned int *word, unsigned int expected)
{
	/* EAGAIN (value changed), EINTR: the caller re-checks either way. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

void drvslice_os_futex_wake(unsigned int *word, int count)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

struct os_thread {
	pthread_t thread;
	void (*fn)(void *);
	void *arg;
};

static void *os_thread_main(void *p)
{
	struct os_thread *t = p;

	t->fn(t->arg);
	return NULL;
}

void *drvslice_os_thread_start(void (*fn)(void *), void *arg)
{
	struct os_thread *t = malloc(sizeof(*t));
	sigset_t all, old;
	int err;

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t->thread, NULL, os_thread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(t);
		return NULL;
	}
	return t;
}

void drvslice_os_thread_join(void *thread)
{
	struct os_thread *t = thread;

	if (!t)
		return;
	pthread_join(t->thread, NULL);
	free(t);
}
