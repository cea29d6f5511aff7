// SPDX-License-Identifier: GPL-2.0
/*
 * The driver library's libc-facing core (see drvslice-os.h): memory for
 * kmalloc and friends, the log lines printk writes to stderr, and the
 * process services the kernel-facing layer cannot reach through the
 * kernel's headers (thread id and name, abort, atexit, symbol lookup for
 * %pS, backtraces for dump_stack).
 *
 * Compiled as ordinary user-space C against glibc; nothing here includes a
 * kernel header.  Nothing here calls the printf family either: those names
 * are also the kernel's, which the kernel-facing layer defines.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <malloc.h>
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
	size_t len;

	if (size == 0)
		return;
	if (prctl(PR_GET_NAME, name) != 0)
		name[0] = '\0';
	name[16] = '\0';
	len = strlen(name);
	if (len >= size)
		len = size - 1;
	memcpy(buf, name, len);
	buf[len] = '\0';
}

void drvslice_os_abort(void)
{
	abort();
}

void drvslice_os_atexit(void (*fn)(void))
{
	atexit(fn);
}

/*
 * Appending to a bounded buffer.  No snprintf: in a process that links the
 * driver library without isolating it, snprintf may be the kernel's.
 */
struct out {
	char *buf;
	size_t size, len;
};

static void out_str(struct out *o, const char *s)
{
	for (; *s; s++, o->len++)
		if (o->len + 1 < o->size)
			o->buf[o->len] = *s;
}

/* "0x" and lowercase hex digits: the kernel's %#lx, which prints 0 as 0x0. */
static void out_hex(struct out *o, unsigned long v)
{
	char digits[2 + 2 * sizeof(v) + 1];
	int n = sizeof(digits) - 1;

	digits[n] = '\0';
	do {
		digits[--n] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	digits[--n] = 'x';
	digits[--n] = '0';
	out_str(o, digits + n);
}

int drvslice_os_symbol(unsigned long addr, int flags, char *buf, unsigned long size)
{
	unsigned long lookup = addr - ((flags & DRVSLICE_OS_SYM_RETADDR) ? 1 : 0);
	const ElfW(Sym) *sym = NULL;
	struct link_map *map = NULL;
	struct out o = { buf, size, 0 };
	Dl_info info;

	if (size == 0)
		return -1;
	if (!dladdr1((void *)lookup, &info, (void **)&sym, RTLD_DL_SYMENT) ||
	    !info.dli_sname || !info.dli_saddr)
		return -1;
	out_str(&o, info.dli_sname);
	if (flags & DRVSLICE_OS_SYM_OFFSET) {
		out_str(&o, "+");
		out_hex(&o, addr - (unsigned long)info.dli_saddr);
		out_str(&o, "/");
		out_hex(&o, sym ? (unsigned long)sym->st_size : 0UL);
	}
	/* The executable is the "kernel"; a shared object is a "module". */
	if (dladdr1((void *)lookup, &info, (void **)&map, RTLD_DL_LINKMAP) &&
	    map && map->l_name && map->l_name[0]) {
		const char *object = strrchr(map->l_name, '/');

		out_str(&o, " [");
		out_str(&o, object ? object + 1 : map->l_name);
		out_str(&o, "]");
	}
	if (o.len >= size)
		o.len = size - 1;
	buf[o.len] = '\0';
	return (int)o.len;
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
