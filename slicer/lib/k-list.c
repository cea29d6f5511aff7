// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: list debugging for a user half.
 *
 * This kernel has CONFIG_DEBUG_LIST, so every inline list_add() and
 * list_del() of linux/list.h first calls __list_add_valid() or
 * __list_del_entry_valid() (lib/list_debug.c); both are provided here
 * with the kernel's checks and messages.  With CONFIG_BUG_ON_DATA_CORRUPTION
 * (also set) a corrupted list is reported with pr_err and then a BUG,
 * which here ends the process (see drvslice_bug); without it, a WARN and
 * the operation is skipped.
 */
#include <linux/list.h>
#include <linux/poison.h>
#include <linux/printk.h>

#include "k-lib.h"

/* CHECK_DATA_CORRUPTION() of linux/bug.h. */
#define CORRUPT(cond, fmt, ...) ({					\
	bool __bad = unlikely(cond);					\
	if (__bad) {							\
		if (IS_ENABLED(CONFIG_BUG_ON_DATA_CORRUPTION)) {	\
			pr_err(fmt, ##__VA_ARGS__);			\
			drvslice_bug(__FILE__, __LINE__);		\
		}							\
		drvslice_warn(__FILE__, __LINE__, (void *)_THIS_IP_,	\
			      fmt, ##__VA_ARGS__);			\
	}								\
	__bad;								\
})

bool __list_add_valid(struct list_head *new, struct list_head *prev, struct list_head *next)
{
	if (CORRUPT(prev == NULL, "list_add corruption. prev is NULL.\n") ||
	    CORRUPT(next == NULL, "list_add corruption. next is NULL.\n") ||
	    CORRUPT(next->prev != prev,
		    "list_add corruption. next->prev should be prev (%px), but was %px. (next=%px).\n",
		    prev, next->prev, next) ||
	    CORRUPT(prev->next != next,
		    "list_add corruption. prev->next should be next (%px), but was %px. (prev=%px).\n",
		    next, prev->next, prev) ||
	    CORRUPT(new == prev || new == next,
		    "list_add double add: new=%px, prev=%px, next=%px.\n", new, prev, next))
		return false;
	return true;
}

bool __list_del_entry_valid(struct list_head *entry)
{
	struct list_head *prev = entry->prev, *next = entry->next;

	if (CORRUPT(next == NULL, "list_del corruption, %px->next is NULL\n", entry) ||
	    CORRUPT(prev == NULL, "list_del corruption, %px->prev is NULL\n", entry) ||
	    CORRUPT(next == LIST_POISON1,
		    "list_del corruption, %px->next is LIST_POISON1 (%px)\n", entry, LIST_POISON1) ||
	    CORRUPT(prev == LIST_POISON2,
		    "list_del corruption, %px->prev is LIST_POISON2 (%px)\n", entry, LIST_POISON2) ||
	    CORRUPT(prev->next != entry,
		    "list_del corruption. prev->next should be %px, but was %px. (prev=%px)\n",
		    entry, prev->next, prev) ||
	    CORRUPT(next->prev != entry,
		    "list_del corruption. next->prev should be %px, but was %px. (next=%px)\n",
		    entry, next->prev, next))
		return false;
	return true;
}
