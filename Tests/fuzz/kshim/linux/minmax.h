/* SPDX-License-Identifier: GPL-2.0 */
/* User-space stand-in for <linux/minmax.h> (Tests/fuzz/ only). */
#ifndef _KSHIM_LINUX_MINMAX_H
#define _KSHIM_LINUX_MINMAX_H

#define min_t(type, x, y) ({			\
	type __x = (x);				\
	type __y = (y);				\
	__x < __y ? __x : __y; })

#endif
