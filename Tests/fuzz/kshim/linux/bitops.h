/* SPDX-License-Identifier: GPL-2.0 */
/* User-space stand-in for <linux/bitops.h> (Tests/fuzz/ only). */
#ifndef _KSHIM_LINUX_BITOPS_H
#define _KSHIM_LINUX_BITOPS_H

#define hweight16(w)	__builtin_popcount((unsigned int)(unsigned short)(w))

#endif
