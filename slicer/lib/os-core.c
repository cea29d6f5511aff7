// SPDX-License-Identifier: GPL-2.0
/*
 * The driver library's libc-facing core (see drvslice-os.h): memory for
 * kmalloc and friends, the log lines printk writes to stderr, and the
 * process services the kernel-facing layer cannot reach through the
 * kernel's headers (thread id and name, abort, atexit, symbol lookup for
 * %pS, backtraces for dump_stack).
 *
 * Compiled as ordinary user-space C against glibc; nothing here includes a
 * kernel header.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "drvslice-os.h"

void *drvslice_os_alloc(unsigned long size, unsigned long align, int zero)
{
	void *p;

	if (align < sizeof(void *))
		align = sizeof(void *);
	if (size == 0)
		size = 1;
	if (posix_memalign(&p, align, size) != 0)
		return NULL;
	if (zero)
		memset(p, 0, malloc_usable_size(p));
	return p;
}

void drvslice_os_free(void *p)
{
	free(p);
}

unsigned long drvslice_os_usable_size(const void *p)
{
	return p ? malloc_usable_size((void *)p) : 0;
}

/* write(2) all of @len bytes, through EINTR and short writes. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

void drvslice_os_log(int level, const char *text, unsigned long len)
{
	char small[1100];
	char *line = small;
	size_t need = len + 5;	/* "<N>" + text + "\n" */

	if (level < 0 || level > 7)
		level = 4;
	if (need > sizeof(small)) {
		line = malloc(need);
		if (!line) {
			/* Two writes rather than nothing. */
			char prefix[3] = { '<', (char)('0' + level), '>' };

			write_all(2, prefix, sizeof(prefix));
			write_all(2, text, len);
			write_all(2, "\n", 1);
			return;
		}
	}
	line[0] = '<';
	line[1] = (char)('0' + level);
	line[2] = '>';
	memcpy(line + 3, text, len);
	line[3 + len] = '\n';
	write_all(2, line, len + 4);
	if (line != small)
		free(line);
}

int drvslice_os_tid(void)
{
	return (int)gettid();
}

void drvslice_os_comm(char *buf, unsigned long size)
{
	char name[17] = "";

	if (size == 0)
		return;
	if (prctl(PR_GET_NAME, name) != 0)
		name[0] = '\0';
	name[16] = '\0';
	snprintf(buf, size, "%s", name);
}

void drvslice_os_abort(void)
{
	abort();
}

void drvslice_os_atexit(void (*fn)(void))
{
	atexit(fn);
}

int drvslice_os_symbol(unsigned long addr, int offset, char *buf, unsigned long size)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	struct link_map *map = NULL;
	const char *object = NULL;
	unsigned long start;
	int n;

	if (size == 0)
		return -1;
	if (!dladdr1((void *)addr, &info, (void **)&sym, RTLD_DL_SYMENT) ||
	    !info.dli_sname || !info.dli_saddr)
		return -1;
	/* The executable is the "kernel"; a shared object is a "module". */
	if (dladdr1((void *)addr, &info, (void **)&map, RTLD_DL_LINKMAP) &&
	    map && map->l_name && map->l_name[0]) {
		object = strrchr(map->l_name, '/');
		object = object ? object + 1 : map->l_name;
	}
	start = (unsigned long)info.dli_saddr;
	/* The kernel prints %#lx as 0x0 for zero, unlike printf(3). */
	if (offset)
		n = snprintf(buf, size, "%s+0x%lx/0x%lx", info.dli_sname, addr - start,
			     sym ? (unsigned long)sym->st_size : 0UL);
	else
		n = snprintf(buf, size, "%s", info.dli_sname);
	if (n >= 0 && (unsigned long)n < size && object)
		n += snprintf(buf + n, size - (unsigned long)n, " [%s]", object);
	if (n < 0)
		return -1;
	return (unsigned long)n < size ? n : (int)(size - 1);
}

int drvslice_os_backtrace(unsigned long *addrs, int max, int skip)
{
	void *frames[64];
	int n, i, out = 0;

	n = backtrace(frames, 64);
	/* This function's own frame is frames[0]. */
	for (i = 1 + skip; i < n && out < max; i++)
		addrs[out++] = (unsigned long)frames[i];
	return out;
}
