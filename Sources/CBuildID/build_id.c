// SPDX-License-Identifier: GPL-2.0
// The executable's GNU build-id, for HELLO's reply (BUILD_ID).
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <string.h>
#include "build_id.h"

struct found {
	const unsigned char *desc;
	size_t size;
};

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* The first object dl_iterate_phdr reports is the executable. */
static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct found *f = data;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum && !f->desc; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const unsigned char *name = p + sizeof(*n);
			const unsigned char *desc = name + align4(n->n_namesz);

			if (desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0) {
				f->desc = desc;
				f->size = n->n_descsz;
				break;
			}
			p = desc + align4(n->n_descsz);
		}
	}
	return 1;
}

int drv_build_id(char *hex, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	struct found f = { NULL, 0 };
	size_t i;

	if (len == 0)
		return -1;
	hex[0] = '\0';
	dl_iterate_phdr(first_object, &f);
	if (!f.desc)
		return 0;
	if (2 * f.size + 1 > len)
		return -1;
	for (i = 0; i < f.size; i++) {
		hex[2 * i] = digits[f.desc[i] >> 4];
		hex[2 * i + 1] = digits[f.desc[i] & 15];
	}
	hex[2 * f.size] = '\0';
	return (int)(2 * f.size);
}
