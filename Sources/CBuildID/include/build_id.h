/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DRV_BUILD_ID_H
#define DRV_BUILD_ID_H
#include <stddef.h>

/*
 * The GNU build-id (NT_GNU_BUILD_ID, the linker's --build-id) of this
 * process's executable, in lower-case hex, NUL-terminated, into hex[len].
 * Read from the loaded program headers: no file is opened.  Returns its
 * length, 0 when the executable has none, -1 when len is too small.
 */
int drv_build_id(char *hex, size_t len);

#endif
