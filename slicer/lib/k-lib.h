/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Driver library, kernel-facing: what the k-*.c files share and no driver
 * calls.  Included after the kernel headers.
 */
#ifndef _DRVSLICE_K_LIB_H
#define _DRVSLICE_K_LIB_H

#include <linux/compiler.h>
#include <linux/instruction_pointer.h>

/*
 * The kernel's WARN() output: "cut here", the message (drvslice_warn),
 * the WARNING line naming @file:@line and the code address @where, the
 * stack, the end marker.  The task goes on, as after a WARN.
 */
__printf(4, 5) __cold
void drvslice_warn(const char *file, int line, const void *where, const char *fmt, ...);
/* WARN_ON(): the same without a message. */
void drvslice_warn_on(const char *file, int line, const void *where) __cold;

/* WARN_ONCE() and WARN_ON_ONCE() at this call site; the condition's value. */
#define DRVSLICE_WARN_ONCE(cond, fmt, ...) ({					\
	static bool __warned;							\
	bool __c = !!(cond);							\
	if (unlikely(__c) && !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED)) \
		drvslice_warn(__FILE__, __LINE__, (void *)_THIS_IP_,		\
			      fmt, ##__VA_ARGS__);				\
	unlikely(__c);								\
})
#define DRVSLICE_WARN_ON_ONCE(cond) ({						\
	static bool __warned;							\
	bool __c = !!(cond);							\
	if (unlikely(__c) && !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED)) \
		drvslice_warn_on(__FILE__, __LINE__, (void *)_THIS_IP_);	\
	unlikely(__c);								\
})

/*
 * The kernel's BUG() output ("kernel BUG at @file:@line!", the stack),
 * then the end of the process (abort), as an oops ends the task.
 */
void drvslice_bug(const char *file, int line) __noreturn __cold;

/*
 * k-api.c: a spin lock call of k-lock.c's on a ComboLock (drvslice.h's
 * DRVSLICE_COMBOLOCK_* @op), made by the kernel: 1 (*@got: a trylock's
 * result, if @got), or 0 if @lock is no ComboLock.
 */
int drvslice_combolock_op(void *lock, int op, int *got);

#endif /* _DRVSLICE_K_LIB_H */
