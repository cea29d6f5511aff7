/* SPDX-License-Identifier: GPL-2.0 */
/* User-space stand-in for <linux/string.h> (Tests/fuzz/ only). */
#ifndef _KSHIM_LINUX_STRING_H
#define _KSHIM_LINUX_STRING_H

#include <string.h>

#endif
