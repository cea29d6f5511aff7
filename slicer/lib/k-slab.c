// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: kernel memory allocation for a user half.
 *
 * Provides the slab API of linux/slab.h: kmalloc_caches (the array the
 * inline kmalloc() indexes for a constant size), kmalloc_trace,
 * kmalloc_node_trace, __kmalloc, __kmalloc_node,
 * __kmalloc_node_track_caller, kmalloc_large, kmalloc_large_node, kfree,
 * kfree_sensitive, ksize, __ksize, krealloc, kmalloc_size_roundup; the
 * kmem_cache API (kmem_cache_create, _create_usercopy, _destroy,
 * _alloc, _alloc_lru, _alloc_node, _free, _size, _shrink,
 * _alloc_bulk, _free_bulk) and slab_is_available; the kvmalloc and vmalloc
 * families (kvmalloc_node, kvfree, kvfree_sensitive, kvrealloc, vmalloc,
 * vzalloc, vmalloc_node, vzalloc_node, __vmalloc, vmalloc_array,
 * __vmalloc_array, vfree); and mm/util.c's kstrdup, kstrndup, kmemdup,
 * kmemdup_nul.  kzalloc, kcalloc, kmalloc_array are inlines over these.
 *
 * Memory comes from the C library (posix_memalign), sized and aligned as
 * the kernel's SLUB would: a kmalloc of n bytes gets its kmalloc bucket
 * (8, 16, 32, 64, 96, 128, 192, 256, ... 8192; above that a power-of-two
 * number of pages), aligned to the bucket's largest power-of-two divisor up
 * to a page, so the kernel's guarantee that power-of-two sizes are
 * naturally aligned holds.  As with this kernel's
 * CONFIG_INIT_ON_ALLOC_DEFAULT_ON, every allocation is zeroed (kmem_cache
 * objects with a constructor excepted); __GFP_ZERO is then implied.
 * kmalloc(0) returns ZERO_SIZE_PTR, more than KMALLOC_MAX_SIZE fails with
 * the page allocator's WARN (unless __GFP_NOWARN), vmalloc(0) with its
 * WARN, and kfree accepts NULL and ZERO_SIZE_PTR.
 *
 * Departures: ksize() reports the largest bucket that fits in what the C
 * library actually handed out (at least the bucket asked for), not the
 * cache's object size.  A failed allocation prints one line instead of the
 * kernel's SLUB/page allocator report; __GFP_NOFAIL retries for ever, as
 * the kernel does.  A kmem_cache constructor runs at every allocation,
 * not once per slab page.  vmalloc memory is ordinary (page-aligned)
 * memory: kvfree and vfree are kfree.  GFP zone, reclaim and NUMA node
 * hints have no meaning in a process and are ignored.
 */
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "drvslice-os.h"
#include "k-lib.h"

/* The kernel's CONFIG_INIT_ON_ALLOC_DEFAULT_ON, or __GFP_ZERO. */
static inline bool init_wanted(gfp_t flags)
{
	return IS_ENABLED(CONFIG_INIT_ON_ALLOC_DEFAULT_ON) || (flags & __GFP_ZERO);
}

/*
 * A slab cache.  Drivers only pass pointers to it around (linux/slab.h
 * declares it incomplete), so this is the library's own layout, not
 * SLUB's.  refcount -1 marks the kmalloc caches, which are never destroyed.
 */
struct kmem_cache {
	const char *name;
	unsigned int object_size;	/* what was asked for */
	unsigned int size;		/* object_size rounded up to align */
	unsigned int align;
	slab_flags_t flags;
	void (*ctor)(void *);
	int refcount;
	unsigned int useroffset, usersize;
};

/* The kmalloc caches, named as the kernel names them. */
#define KC(type, idx, prefix, suffix, sz)					\
	[type][idx] = { .name = prefix suffix, .size = sz, .object_size = sz,	\
			.align = ARCH_KMALLOC_MINALIGN, .refcount = -1,		\
			.usersize = sz }
#define KCACHES(type, prefix)							\
	KC(type, 1, prefix, "96", 96), KC(type, 2, prefix, "192", 192),		\
	KC(type, 3, prefix, "8", 8), KC(type, 4, prefix, "16", 16),		\
	KC(type, 5, prefix, "32", 32), KC(type, 6, prefix, "64", 64),		\
	KC(type, 7, prefix, "128", 128), KC(type, 8, prefix, "256", 256),	\
	KC(type, 9, prefix, "512", 512), KC(type, 10, prefix, "1k", 1024),	\
	KC(type, 11, prefix, "2k", 2048), KC(type, 12, prefix, "4k", 4096),	\
	KC(type, 13, prefix, "8k", 8192)

static struct kmem_cache kmalloc_cache_objs[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1] = {
	KCACHES(KMALLOC_NORMAL, "kmalloc-"),
#ifdef CONFIG_MEMCG_KMEM
	KCACHES(KMALLOC_CGROUP, "kmalloc-cg-"),
#endif
	KCACHES(KMALLOC_RECLAIM, "kmalloc-rcl-"),
#ifdef CONFIG_ZONE_DMA
	KCACHES(KMALLOC_DMA, "dma-kmalloc-"),
#endif
};

#define KCP(type)								\
	[type] = { NULL, &kmalloc_cache_objs[type][1], &kmalloc_cache_objs[type][2], \
		   &kmalloc_cache_objs[type][3], &kmalloc_cache_objs[type][4],	\
		   &kmalloc_cache_objs[type][5], &kmalloc_cache_objs[type][6],	\
		   &kmalloc_cache_objs[type][7], &kmalloc_cache_objs[type][8],	\
		   &kmalloc_cache_objs[type][9], &kmalloc_cache_objs[type][10], \
		   &kmalloc_cache_objs[type][11], &kmalloc_cache_objs[type][12], \
		   &kmalloc_cache_objs[type][13] }

struct kmem_cache *kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1] = {
	KCP(KMALLOC_NORMAL),
#ifdef CONFIG_MEMCG_KMEM
	KCP(KMALLOC_CGROUP),
#endif
	KCP(KMALLOC_RECLAIM),
#ifdef CONFIG_ZONE_DMA
	KCP(KMALLOC_DMA),
#endif
};

static_assert(KMALLOC_SHIFT_LOW == 3 && KMALLOC_SHIFT_HIGH == 13,
	      "the cache table above is SLUB's on 4 KiB pages");

/* The kmalloc bucket for @size (1 .. KMALLOC_MAX_CACHE_SIZE). */
static size_t kmalloc_bucket(size_t size)
{
	if (size <= 8)
		return 8;
	if (size > 64 && size <= 96)
		return 96;
	if (size > 128 && size <= 192)
		return 192;
	return roundup_pow_of_two(size);
}

size_t kmalloc_size_roundup(size_t size)
{
	if (size == 0)
		return 0;
	if (size == SIZE_MAX)
		return SIZE_MAX;
	if (size > KMALLOC_MAX_CACHE_SIZE)
		return PAGE_SIZE << get_order(size);
	return kmalloc_bucket(size);
}

static void alloc_failed(size_t size, gfp_t flags)
{
	char comm[16];

	if (flags & __GFP_NOWARN)
		return;
	if (size > KMALLOC_MAX_CACHE_SIZE) {
		drvslice_os_comm(comm, sizeof(comm));
		pr_warn("%s: page allocation failure: order:%u, mode:%#x\n", comm,
			get_order(size), flags);
	} else {
		pr_warn("SLUB: Unable to allocate memory on node -1, gfp=%#x\n", flags);
		pr_warn("  cache: kmalloc-%zu, object size: %zu\n", kmalloc_bucket(size),
			kmalloc_bucket(size));
	}
}

/* @bytes aligned to @align, zeroed if @zero; retried for __GFP_NOFAIL. */
static void *alloc_bytes(size_t bytes, size_t align, bool zero, gfp_t flags)
{
	void *p;

	while (!(p = drvslice_os_alloc(bytes, align, zero)) && (flags & __GFP_NOFAIL))
		drvslice_os_yield();
	return p;
}

static void *do_kmalloc(size_t size, gfp_t flags)
{
	size_t bytes, align;
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	if (size > KMALLOC_MAX_SIZE) {
		/* The page allocator's WARN_ON_ONCE_GFP(order >= MAX_ORDER, gfp). */
		DRVSLICE_WARN_ON_ONCE(!(flags & __GFP_NOWARN));
		return NULL;
	}
	bytes = kmalloc_size_roundup(size);
	align = min_t(size_t, bytes & -bytes, PAGE_SIZE);
	if (align < ARCH_KMALLOC_MINALIGN)
		align = ARCH_KMALLOC_MINALIGN;
	p = alloc_bytes(bytes, align, init_wanted(flags), flags);
	if (!p)
		alloc_failed(size, flags);
	return p;
}

void *__kmalloc(size_t size, gfp_t flags)
{
	return do_kmalloc(size, flags);
}

void *__kmalloc_node(size_t size, gfp_t flags, int node)
{
	return do_kmalloc(size, flags);
}

void *__kmalloc_node_track_caller(size_t size, gfp_t flags, int node, unsigned long caller)
{
	return do_kmalloc(size, flags);
}

/* kmalloc(constant size): @s is the cache the inline picked for it. */
void *kmalloc_trace(struct kmem_cache *s, gfp_t flags, size_t size)
{
	return do_kmalloc(s ? max_t(size_t, size, s->object_size) : size, flags);
}

void *kmalloc_node_trace(struct kmem_cache *s, gfp_t flags, int node, size_t size)
{
	return kmalloc_trace(s, flags, size);
}

void *kmalloc_large(size_t size, gfp_t flags)
{
	return do_kmalloc(size, flags);
}

void *kmalloc_large_node(size_t size, gfp_t flags, int node)
{
	return do_kmalloc(size, flags);
}

void kfree(const void *objp)
{
	if (ZERO_OR_NULL_PTR(objp))
		return;
	drvslice_os_free((void *)objp);
}

/* The largest kmalloc size class that fits in what is allocated. */
size_t __ksize(const void *objp)
{
	size_t usable, size;

	if (ZERO_OR_NULL_PTR(objp))
		return 0;
	usable = drvslice_os_usable_size(objp);
	if (usable > KMALLOC_MAX_CACHE_SIZE)
		return PAGE_SIZE << ilog2(usable >> PAGE_SHIFT);
	size = rounddown_pow_of_two(usable);
	/* The two size classes that are not powers of two. */
	if ((size == 64 || size == 128) && usable >= size + size / 2)
		size += size / 2;
	return size;
}

size_t ksize(const void *objp)
{
	return __ksize(objp);
}

void kfree_sensitive(const void *p)
{
	size_t ks = ksize(p);

	if (ks)
		memzero_explicit((void *)p, ks);
	kfree(p);
}

void *krealloc(const void *p, size_t new_size, gfp_t flags)
{
	size_t ks = 0;
	void *ret;

	if (!new_size) {
		kfree(p);
		return ZERO_SIZE_PTR;
	}
	if (!ZERO_OR_NULL_PTR(p))
		ks = __ksize(p);
	/* Still fits: keep it, zeroing the spare room when asked to. */
	if (ks >= new_size) {
		if (init_wanted(flags))
			memset((void *)p + new_size, 0, ks - new_size);
		return (void *)p;
	}
	ret = do_kmalloc(new_size, flags);
	if (ret && !ZERO_OR_NULL_PTR(p)) {
		memcpy(ret, p, ks);
		kfree(p);
	}
	return ret;
}

bool slab_is_available(void)
{
	return true;
}

static unsigned int cache_alignment(slab_flags_t flags, unsigned int align, unsigned int size)
{
	if (flags & SLAB_HWCACHE_ALIGN) {
		unsigned int ralign = L1_CACHE_BYTES;

		while (size <= ralign / 2)
			ralign /= 2;
		align = max(align, ralign);
	}
	align = max_t(unsigned int, align, ARCH_SLAB_MINALIGN);
	return ALIGN(align, sizeof(void *));
}

struct kmem_cache *kmem_cache_create_usercopy(const char *name, unsigned int size,
					      unsigned int align, slab_flags_t flags,
					      unsigned int useroffset, unsigned int usersize,
					      void (*ctor)(void *))
{
	struct kmem_cache *s = NULL;
	int err = -EINVAL;

	if (!name || !size || size > KMALLOC_MAX_SIZE ||
	    useroffset > size || usersize > size - useroffset)
		goto out;
	err = -ENOMEM;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		goto out;
	s->name = kstrdup(name, GFP_KERNEL);
	if (!s->name) {
		kfree(s);
		s = NULL;
		goto out;
	}
	s->flags = flags;
	s->object_size = size;
	s->align = cache_alignment(flags, align, size);
	s->size = ALIGN(size, s->align);
	s->ctor = ctor;
	s->useroffset = useroffset;
	s->usersize = usersize;
	s->refcount = 1;
	err = 0;
out:
	if (err) {
		if (flags & SLAB_PANIC)
			panic("%s: Failed to create slab '%s'. Error %d\n", __func__, name, err);
		pr_warn("%s(%s) failed with error %d\n", __func__, name, err);
		return NULL;
	}
	return s;
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     slab_flags_t flags, void (*ctor)(void *))
{
	return kmem_cache_create_usercopy(name, size, align, flags, 0, 0, ctor);
}

void kmem_cache_destroy(struct kmem_cache *s)
{
	if (IS_ERR_OR_NULL(s) || s->refcount < 0)
		return;
	if (--s->refcount)
		return;
	kfree(s->name);
	kfree(s);
}

int kmem_cache_shrink(struct kmem_cache *s)
{
	return 0;
}

unsigned int kmem_cache_size(struct kmem_cache *s)
{
	return s->object_size;
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags)
{
	bool zero;
	void *p;

	/* slab_init_wanted(): never over a constructor's work. */
	if (s->ctor)
		zero = false;
	else if (s->flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))
		zero = flags & __GFP_ZERO;
	else
		zero = init_wanted(flags);
	p = alloc_bytes(s->size, min_t(size_t, s->align, PAGE_SIZE), zero, flags);
	if (!p) {
		if (!(flags & __GFP_NOWARN)) {
			pr_warn("SLUB: Unable to allocate memory on node -1, gfp=%#x\n", flags);
			pr_warn("  cache: %s, object size: %u, buffer size: %u\n", s->name,
				s->object_size, s->size);
		}
		return NULL;
	}
	if (s->ctor)
		s->ctor(p);
	return p;
}

void *kmem_cache_alloc_lru(struct kmem_cache *s, struct list_lru *lru, gfp_t flags)
{
	return kmem_cache_alloc(s, flags);
}

void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t flags, int node)
{
	return kmem_cache_alloc(s, flags);
}

void kmem_cache_free(struct kmem_cache *s, void *objp)
{
	kfree(objp);
}

void kmem_cache_free_bulk(struct kmem_cache *s, size_t size, void **p)
{
	for (size_t i = 0; i < size; i++)
		kfree(p[i]);
}

int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags, size_t size, void **p)
{
	size_t i;

	for (i = 0; i < size; i++) {
		p[i] = kmem_cache_alloc(s, flags);
		if (!p[i]) {
			kmem_cache_free_bulk(s, i, p);
			return 0;
		}
	}
	return i;
}

char *kstrdup(const char *s, gfp_t gfp)
{
	size_t len;
	char *buf;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	buf = kmalloc_track_caller(len, gfp);
	if (buf)
		memcpy(buf, s, len);
	return buf;
}

char *kstrndup(const char *s, size_t max, gfp_t gfp)
{
	size_t len;
	char *buf;

	if (!s)
		return NULL;
	len = strnlen(s, max);
	buf = kmalloc_track_caller(len + 1, gfp);
	if (buf) {
		memcpy(buf, s, len);
		buf[len] = '\0';
	}
	return buf;
}

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = kmalloc_track_caller(len, gfp);

	if (p)
		memcpy(p, src, len);
	return p;
}

char *kmemdup_nul(const char *s, size_t len, gfp_t gfp)
{
	char *buf;

	if (!s)
		return NULL;
	buf = kmalloc_track_caller(len + 1, gfp);
	if (buf) {
		memcpy(buf, s, len);
		buf[len] = '\0';
	}
	return buf;
}

/* vmalloc: page-aligned memory of any size (no KMALLOC_MAX_SIZE limit). */
static void *do_vmalloc(size_t size, gfp_t flags)
{
	void *p;

	if (DRVSLICE_WARN_ON_ONCE(!size))
		return NULL;
	p = alloc_bytes(PAGE_ALIGN(size), PAGE_SIZE, init_wanted(flags), flags);
	if (!p && !(flags & __GFP_NOWARN)) {
		char comm[16];

		drvslice_os_comm(comm, sizeof(comm));
		pr_warn("%s: vmalloc error: size %zu, mode:%#x\n", comm, size, flags);
	}
	return p;
}

void *kvmalloc_node(size_t size, gfp_t flags, int node)
{
	if (size <= PAGE_SIZE)
		return do_kmalloc(size, flags);
	return do_vmalloc(size, flags);
}

void kvfree(const void *addr)
{
	kfree(addr);
}

void kvfree_sensitive(const void *addr, size_t len)
{
	if (!ZERO_OR_NULL_PTR(addr)) {
		memzero_explicit((void *)addr, len);
		kvfree(addr);
	}
}

void *kvrealloc(const void *p, size_t oldsize, size_t newsize, gfp_t flags)
{
	void *newp;

	if (oldsize >= newsize)
		return (void *)p;
	newp = kvmalloc(newsize, flags);
	if (!newp)
		return NULL;
	memcpy(newp, p, oldsize);
	kvfree(p);
	return newp;
}

void *vmalloc(unsigned long size)
{
	return do_vmalloc(size, GFP_KERNEL);
}

void *vzalloc(unsigned long size)
{
	return do_vmalloc(size, GFP_KERNEL | __GFP_ZERO);
}

void *vmalloc_node(unsigned long size, int node)
{
	return do_vmalloc(size, GFP_KERNEL);
}

void *vzalloc_node(unsigned long size, int node)
{
	return do_vmalloc(size, GFP_KERNEL | __GFP_ZERO);
}

void *__vmalloc(unsigned long size, gfp_t gfp_mask)
{
	return do_vmalloc(size, gfp_mask);
}

void *__vmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return __vmalloc(bytes, flags);
}

void *vmalloc_array(size_t n, size_t size)
{
	return __vmalloc_array(n, size, GFP_KERNEL);
}

void vfree(const void *addr)
{
	kfree(addr);
}
