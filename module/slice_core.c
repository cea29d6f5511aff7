// SPDX-License-Identifier: GPL-2.0
/*
 * drvslice core: the object tracker and the codec of a sliced driver's
 * calls across the split, shared by the kernel's module and the user-space
 * driver library (module/include/drvslice.h says what it does).
 *
 * A call is checked whole against the callee's own description of the
 * entry before anything is stored: the entry, each argument's size, each
 * object's size, each struct's type and each field's id and size, and every
 * pointer resolvable.  Only then are shadows made, fields stored and the
 * function run.  A field the callee's description does not list for the
 * entry is refused, so a caller cannot write what the callee's code does
 * not read.
 *
 * No allocation but through side->alloc, no locking, nothing but memcpy and
 * snprintf from the C library: it builds in the kernel and in user space.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <stdio.h>
#include <string.h>
#endif
#include <uapi/drvxpc.h>

#include "drvslice.h"

#define PTR_BYTES	12	/* u64 handle, u32 offset */
#define BITS_BYTES	8
#define NEST_DEPTH	4	/* embedded structs followed to find one */

typedef unsigned long long u64_t;

#define fail(s, err, ...) \
	(snprintf((s)->why, sizeof((s)->why), __VA_ARGS__), (err))

/* ---- attributes ---- */

struct sbuf {
	unsigned char *p;
	unsigned int len, cap;
	int err;
};

static void put(struct sbuf *b, unsigned short type, const void *v,
		unsigned int n)
{
	struct drvxpc_attr a;
	unsigned int need = DRVXPC_ALIGN(DRVXPC_ATTR_HDRLEN + n);

	if (b->err)
		return;
	if (DRVXPC_ATTR_HDRLEN + n > 0xffff || need > b->cap - b->len) {
		b->err = -E2BIG;
		return;
	}
	a.len = (unsigned short)(DRVXPC_ATTR_HDRLEN + n);
	a.type = type;
	memcpy(b->p + b->len, &a, sizeof(a));
	if (n)
		memcpy(b->p + b->len + DRVXPC_ATTR_HDRLEN, v, n);
	memset(b->p + b->len + DRVXPC_ATTR_HDRLEN + n, 0,
	       need - DRVXPC_ATTR_HDRLEN - n);
	b->len += need;
}

static unsigned int nest_begin(struct sbuf *b, unsigned short type)
{
	unsigned int at = b->len;

	put(b, type | DRVXPC_A_F_NESTED, NULL, 0);
	return at;
}

static void nest_end(struct sbuf *b, unsigned int at)
{
	struct drvxpc_attr a;

	if (b->err)
		return;
	if (b->len - at > 0xffff) {
		b->err = -E2BIG;
		return;
	}
	memcpy(&a, b->p + at, sizeof(a));
	a.len = (unsigned short)(b->len - at);
	memcpy(b->p + at, &a, sizeof(a));
}

struct sattr {
	unsigned short type;	/* without the nested bit */
	int nested;
	const unsigned char *v;
	unsigned int n;
};

/* The next attribute of [*p, end): 1, 0 at the end, -EINVAL if malformed. */
static int next_attr(const unsigned char **p, const unsigned char *end,
		     struct sattr *a)
{
	struct drvxpc_attr h;
	unsigned int left = (unsigned int)(end - *p), adv;

	if (!left)
		return 0;
	if (left < DRVXPC_ATTR_HDRLEN)
		return -EINVAL;
	memcpy(&h, *p, sizeof(h));
	if (h.len < DRVXPC_ATTR_HDRLEN || h.len > left)
		return -EINVAL;
	a->type = h.type & DRVXPC_A_TYPE_MASK;
	a->nested = !!(h.type & DRVXPC_A_F_NESTED);
	a->v = *p + DRVXPC_ATTR_HDRLEN;
	a->n = h.len - DRVXPC_ATTR_HDRLEN;
	adv = DRVXPC_ALIGN(h.len);
	*p += adv < left ? adv : left;
	return 1;
}

static void put_ptr(unsigned char *out, u64_t h, unsigned int off)
{
	memcpy(out, &h, 8);
	memcpy(out + 8, &off, 4);
}

static void get_ptr(const unsigned char *in, u64_t *h, unsigned int *off)
{
	memcpy(h, in, 8);
	memcpy(off, in + 8, 4);
}

/* ---- objects ---- */

void drvslice_side_init(struct drvslice_side *s,
			const struct drvslice_driver *drv, int kernel,
			void *(*alloc)(unsigned int), void (*free)(void *))
{
	memset(s, 0, sizeof(*s));
	s->drv = drv;
	s->kernel = !!kernel;
	s->alloc = alloc;
	s->free = free;
}

static int ptr_field(const struct drvslice_field *f);

/* What a copy's base holds for a pointer field whose last known value
 * pointed into an object that went: no live pointer has it. */
static const unsigned long stale_ptr = ~0UL;

/*
 * The pointer fields of a struct of type @type whose base is at @base (and
 * of the structs embedded there, @depth levels more at most) that held a
 * pointer into [@lo, @lo + @n] (one past the end too, as holding() takes
 * it): their base becomes stale_ptr.  The object there goes, and one made
 * later at the same address is another object, so a field holding the
 * same bytes must cross again (put_struct): 8139cp's MTU change freed its
 * rings and made new ones within one call, the u-driver's copy of the new
 * ring came at the old copy's address, and cp->rx_ring, clean by its
 * bytes, was never sent: the kernel half went on with the freed ring.
 */
static void stale_pointers(const struct drvslice_driver *d, unsigned short type,
			   char *base, unsigned int room, const char *lo,
			   unsigned int n, unsigned int depth)
{
	const struct drvslice_type *ty;
	unsigned int i;

	if (!type || type >= d->ntypes)
		return;
	ty = &d->types[type];
	for (i = 0; i < ty->nfields; i++) {
		const struct drvslice_field *f = &ty->fields[i];
		const char *v;

		if (!ptr_field(f) || f->offset + sizeof(void *) > room)
			continue;
		memcpy(&v, base + f->offset, sizeof(v));
		if (v && v >= lo && v <= lo + n)
			memcpy(base + f->offset, &stale_ptr, sizeof(stale_ptr));
	}
	for (i = 0; depth && d->embeds && i < d->nembeds; i++) {
		const struct drvslice_embed *e = &d->embeds[i];

		if (e->outer != type || e->inner >= d->ntypes || e->offset >= room)
			continue;
		stale_pointers(d, e->inner, base + e->offset, room - e->offset,
			       lo, n, depth - 1);
	}
}

/* Drops object @i and every object that lies in it (a copy's children
 * live in its memory; an object's own children go with it). */
static void drop(struct drvslice_side *s, unsigned int i)
{
	u64_t h = s->objs[i].handle;
	const char *lo = s->objs[i].ptr;
	unsigned int n = s->objs[i].size, k;
	int again = 1;

	if (s->objs[i].shadow && !s->objs[i].parent && s->free)
		s->free(s->objs[i].ptr);
	s->objs[i] = s->objs[--s->nobjs];
	for (k = 0; lo && s->drv && k < s->nobjs; k++) {
		struct drvslice_obj *o = &s->objs[k];

		if (o->shadow && o->base && o->type)
			stale_pointers(s->drv, o->type, o->base, o->size, lo, n, 4);
	}
	while (again) {
		again = 0;
		for (i = 0; i < s->nobjs; i++)
			if (s->objs[i].parent == h) {
				drop(s, i);
				again = 1;
				break;
			}
	}
}

void drvslice_side_reset(struct drvslice_side *s)
{
	while (s->nobjs)
		drop(s, s->nobjs - 1);
	s->ndropped = 0;
}

void drvslice_side_forget_peer(struct drvslice_side *s)
{
	unsigned int i = s->nobjs;

	/* The new process never knew what went before it. */
	s->ndropped = 0;

	/* drop() may take children with it: start again from the end. */
	while (i-- > 0)
		if (s->objs[i].shadow) {
			drop(s, i);
			i = s->nobjs;
		}
}

static struct drvslice_obj *by_handle(struct drvslice_side *s, u64_t h)
{
	unsigned int i;

	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i].handle == h)
			return &s->objs[i];
	return NULL;
}

/* The smallest object with bytes holding @p; else an opaque handle (0
 * bytes) at @p; else the smallest object @p is one past the end of (a
 * pointer one past an array: an object that begins there, adjacent, holds
 * it); else NULL.  An object with bytes comes before an opaque handle at
 * the same address: the handle
 * stood for memory this side knew nothing of, and a struct made there
 * since (a call's argument: an ALSA substream whose pointer a field held)
 * is what the pointer is now. */
static const struct drvslice_obj *holding(const struct drvslice_side *s,
					  const void *p)
{
	const struct drvslice_obj *best = NULL, *end = NULL, *opaque = NULL;
	const char *c = p;
	unsigned int i;

	for (i = 0; i < s->nobjs; i++) {
		const struct drvslice_obj *o = &s->objs[i];
		const char *b = o->ptr;

		if (c < b || c > b + o->size)
			continue;
		if (!o->size) {
			if (!opaque)
				opaque = o;
		} else if (c == b + o->size) {
			if (!end || o->size < end->size)
				end = o;
		} else if (!best || o->size < best->size) {
			best = o;
		}
	}
	return best ? best : opaque ? opaque : end;
}

/* Whether @o is an opaque handle: 0 bytes, no type. */
static int opaque_handle(const struct drvslice_obj *o)
{
	return o && !o->size && !o->type;
}

const struct drvslice_obj *drvslice_obj_of(const struct drvslice_side *s,
					   const void *p)
{
	return p ? holding(s, p) : NULL;
}

/* The ComboLock at @off in a struct of type @type, or in a struct embedded
 * there (@depth levels more at most: the embeds form no cycle, but a
 * malformed description must not recurse for ever). */
static const struct drvslice_combolock *
combolock_in(const struct drvslice_driver *d, unsigned short type,
	     unsigned int off, unsigned int depth)
{
	const struct drvslice_combolock *c;
	unsigned int i;

	for (i = 0; i < d->ncombolocks; i++)
		if (d->combolocks[i].type == type && d->combolocks[i].offset == off)
			return &d->combolocks[i];
	for (i = 0; depth && d->embeds && i < d->nembeds; i++) {
		const struct drvslice_embed *e = &d->embeds[i];

		if (e->outer != type || e->inner >= d->ntypes || off < e->offset ||
		    off - e->offset >= d->types[e->inner].size)
			continue;
		c = combolock_in(d, e->inner, off - e->offset, depth - 1);
		if (c)
			return c;
	}
	return NULL;
}

/* A pointer field of a struct of type @type at @inst (or of one embedded
 * there, @depth levels more at most) that points into [@lo, @lo + @n). */
static const struct drvslice_field *
pointer_into(const struct drvslice_driver *d, unsigned short type,
	     const char *inst, unsigned int room, const char *lo,
	     unsigned int n, unsigned int depth)
{
	const struct drvslice_type *ty;
	const struct drvslice_field *f;
	unsigned int i;

	if (!type || type >= d->ntypes)
		return NULL;
	ty = &d->types[type];
	for (i = 0; i < ty->nfields; i++) {
		const char *v;

		if (!ptr_field(&ty->fields[i]) ||
		    ty->fields[i].offset + sizeof(void *) > room)
			continue;
		memcpy(&v, inst + ty->fields[i].offset, sizeof(v));
		if (v >= lo && v < lo + n)
			return &ty->fields[i];
	}
	for (i = 0; depth && d->embeds && i < d->nembeds; i++) {
		const struct drvslice_embed *e = &d->embeds[i];

		if (e->outer != type || e->inner >= d->ntypes || e->offset >= room)
			continue;
		f = pointer_into(d, e->inner, inst + e->offset, room - e->offset,
				 lo, n, depth - 1);
		if (f)
			return f;
	}
	return NULL;
}

const char *drvslice_pointed_into(const struct drvslice_side *s,
				  const void *ptr, unsigned int size)
{
	const struct drvslice_field *f;
	unsigned int i;

	for (i = 0; ptr && size && i < s->nobjs; i++) {
		const struct drvslice_obj *o = &s->objs[i];

		if (o->shadow || !o->type)
			continue;
		f = pointer_into(s->drv, o->type, o->ptr, o->size, ptr, size, 4);
		if (f)
			return f->name;
	}
	return NULL;
}

const struct drvslice_combolock *
drvslice_combolock_of(const struct drvslice_side *s, const void *p)
{
	const struct drvslice_obj *o;

	if (!p || !s->drv || !s->drv->ncombolocks || !s->drv->combolocks)
		return NULL;
	o = holding(s, p);
	if (!o || !o->type || o->type >= s->drv->ntypes ||
	    (const char *)p >= (const char *)o->ptr + o->size)
		return NULL;
	return combolock_in(s->drv, o->type,
			    (unsigned int)((const char *)p - (const char *)o->ptr), 4);
}

static unsigned long long add(struct drvslice_side *s, void *ptr,
			      unsigned int size, unsigned short type,
			      u64_t handle, int shadow)
{
	struct drvslice_obj *o;
	const struct drvslice_obj *in;

	unsigned int i;

	/* Opaque pointers this side handed out into what is now an object
	 * of its own: the object speaks for them from now on. */
	for (i = s->nobjs; size && !shadow && i-- > 0;)
		if (!s->objs[i].size && !s->objs[i].shadow &&
		    (const char *)s->objs[i].ptr >= (const char *)ptr &&
		    (const char *)s->objs[i].ptr < (const char *)ptr + size)
			s->objs[i] = s->objs[--s->nobjs];
	if (s->nobjs == DRVSLICE_OBJS_MAX)
		return 0;
	in = size ? holding(s, ptr) : NULL;
	o = &s->objs[s->nobjs++];
	memset(o, 0, sizeof(*o));
	o->ptr = ptr;
	o->size = size;
	o->type = type;
	o->shadow = (unsigned char)shadow;
	o->depth = (handle & DRVSLICE_H_CALL) ? s->depth : 0;
	if (in && (const char *)ptr + size <= (const char *)in->ptr + in->size &&
	    in->size > size) {
		o->parent = in->handle;
		o->parent_off = (unsigned int)((const char *)ptr -
					       (const char *)in->ptr);
	}
	o->handle = handle;
	return handle;
}

static unsigned long long own_handle(struct drvslice_side *s, int call)
{
	return (s->kernel ? DRVSLICE_H_KERNEL : DRVSLICE_H_USER) |
	       (call ? DRVSLICE_H_CALL : 0) | ++s->next;
}

unsigned long long drvslice_track_bytes(struct drvslice_side *s, void *ptr,
					unsigned int size)
{
	unsigned long long h;
	struct drvslice_obj *o;

	if (!ptr || !size || size > DRVSLICE_CONTENT_MAX)
		return 0;
	h = add(s, ptr, size, 0, own_handle(s, 0), 0);
	o = h ? by_handle(s, h) : NULL;
	if (o)
		o->content = 1;
	return h;
}

unsigned long long drvslice_track_device(struct drvslice_side *s, void *ptr,
					 unsigned int size)
{
	unsigned long long h = drvslice_track_bytes(s, ptr, size);
	struct drvslice_obj *o = h ? by_handle(s, h) : NULL;

	if (o)
		o->device = 1;
	return h;
}

unsigned long long drvslice_track(struct drvslice_side *s, void *ptr,
				  unsigned int size, unsigned short type)
{
	if (!ptr || type >= s->drv->ntypes)
		return 0;
	return add(s, ptr, size, type, own_handle(s, 0), 0);
}

void drvslice_untrack(struct drvslice_side *s, const void *ptr)
{
	unsigned int i;

	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i].ptr == ptr && !s->objs[i].shadow) {
			/* The other side holds a copy: it goes with this side's
			 * next message (a call-scoped one goes when the call
			 * ends, there too); what lies in it goes with it. */
			if (s->objs[i].named && !(s->objs[i].handle & DRVSLICE_H_CALL)) {
				if (s->ndropped < DRVSLICE_DROPS_MAX)
					s->dropped[s->ndropped++] = s->objs[i].handle;
				else
					s->drops_lost++;
			}
			drop(s, i);
			return;
		}
}

/* The handles a message names, announced once each at its end. */
struct named {
	u64_t h[64];
	unsigned int n;
	int full;
};

static void name(struct named *nm, u64_t h)
{
	unsigned int i;

	if ((h & DRVSLICE_H_KIND) != DRVSLICE_H_KERNEL &&
	    (h & DRVSLICE_H_KIND) != DRVSLICE_H_USER)
		return;
	for (i = 0; i < nm->n; i++)
		if (nm->h[i] == h)
			return;
	if (nm->n == sizeof(nm->h) / sizeof(nm->h[0]))
		nm->full = 1;
	else
		nm->h[nm->n++] = h;
}

/* This side's device memory goes with each of its messages. */
static void name_devices(struct drvslice_side *s, struct named *nm)
{
	unsigned int i;

	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i].device && !s->objs[i].shadow)
			name(nm, s->objs[i].handle);
}

/*
 * A local pointer as (handle, offset).  A pointer into no object is handed
 * over as an opaque object of its own (size 0): the other side can hold it
 * and give it back, not read it.
 */
static int ptr_out(struct drvslice_side *s, const void *p, u64_t *h,
		   unsigned int *off, struct named *nm)
{
	const struct drvslice_driver *d = s->drv;
	const struct drvslice_target *t;
	const struct drvslice_obj *o;
	unsigned int i, j;

	*h = 0;
	*off = 0;
	if (!p)
		return 0;
	o = holding(s, p);
	if (o) {
		const struct drvslice_obj *chain[8];
		unsigned int n = 0;

		*h = o->handle;
		*off = (unsigned int)((const char *)p - (const char *)o->ptr);
		/* Named outermost first: the other side makes a parent's copy
		 * before the children that lie in it. */
		for (; o && n < 8; o = o->parent ? by_handle(s, o->parent) : NULL)
			chain[n++] = o;
		while (n--)
			name(nm, chain[n]->handle);
		return 0;
	}
	for (t = d->targets; t && t->name; t++)
		if (t->fn == p)
			goto fn;
	for (t = d->stubs; t && t->name; t++)
		if (t->fn == p)
			goto fn;
	/* A global that holds @p, else one it lies one past (a field may
	 * hold that): a pointer at the start of a global is that global's,
	 * even where the one before ends there. */
	for (j = 0; j < 2; j++)
		for (i = 0; i < d->nglobals; i++) {
			const char *g = d->globals[i].ptr;
			const char *end = g + d->globals[i].size;

			if ((const char *)p >= g &&
			    (j ? (const char *)p == end : (const char *)p < end)) {
				*h = DRVSLICE_H_GLOBAL | i;
				*off = (unsigned int)((const char *)p - g);
				return 0;
			}
		}
	*h = add(s, (void *)p, 0, 0, own_handle(s, 0), 0);
	if (!*h)
		return fail(s, -ENOSPC, "no room for object %p", p);
	name(nm, *h);
	return 0;
fn:
	*h = DRVSLICE_H_FN | t->id;
	return 0;
}

/* Where a (handle, offset) points here; @room gets the bytes from there to
 * the end of its object.  Shadows must exist (made from announcements). */
static int ptr_in(struct drvslice_side *s, u64_t h, unsigned int off,
		  void **p, unsigned int *room, const char *what)
{
	const struct drvslice_driver *d = s->drv;
	const struct drvslice_target *t;
	struct drvslice_obj *o;
	u64_t low = h & ~(DRVSLICE_H_KIND | DRVSLICE_H_CALL);

	*p = NULL;
	*room = 0;
	if (!h) {
		if (off)
			return fail(s, -EINVAL, "%s: NULL with offset %u", what, off);
		return 0;
	}
	switch (h & DRVSLICE_H_KIND) {
	case DRVSLICE_H_FN:
		for (t = d->targets; t && t->name; t++)
			if (t->id == low)
				goto fn;
		for (t = d->stubs; t && t->name; t++)
			if (t->id == low)
				goto fn;
		return fail(s, -EINVAL, "%s: no function with id %llu", what, low);
	case DRVSLICE_H_GLOBAL:
		if (low >= d->nglobals || off > d->globals[low].size)
			return fail(s, -EINVAL, "%s: no global %llu (offset %u)", what, low, off);
		*p = (char *)d->globals[low].ptr + off;
		*room = d->globals[low].size - off;
		return 0;
	}
	o = by_handle(s, h);
	if (!o || off > o->size)
		return fail(s, -EINVAL, "%s: no object %#llx holding offset %u", what, h, off);
	*p = (char *)o->ptr + off;
	*room = o->size - off;
	return 0;
fn:
	if (off)
		return fail(s, -EINVAL, "%s: a function at offset %u", what, off);
	*p = (void *)t->fn;
	return 0;
}

/* ---- finding the structs a field set is about ---- */

#define INSTANCES_MAX	8

static void add_instance(void **out, unsigned int *n, void *p)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (out[i] == p)
			return;
	if (*n < INSTANCES_MAX)
		out[(*n)++] = p;
}

/*
 * Every struct of @type this side can see for a call: an argument pointing
 * to one, an object tracked as one, one embedded in any of those of an
 * outer type (dev->stats), a global.  The spec names fields by type, not by
 * path: each of them crosses.
 */
static void instances(struct drvslice_side *s, unsigned short type,
		      const struct drvslice_entry *e, void *const argp[],
		      void **out, unsigned int *n, int depth)
{
	const struct drvslice_driver *d = s->drv;
	const char *name = d->types[type].name;
	unsigned int i, j;

	for (i = 0; i < e->nargs; i++)
		if (argp[i] && e->args[i].pointee && !strcmp(e->args[i].pointee, name))
			add_instance(out, n, argp[i]);
	for (i = s->nobjs; i-- > 0;)
		if (s->objs[i].type == type && s->objs[i].size >= d->types[type].size)
			add_instance(out, n, s->objs[i].ptr);
	for (i = 0; i < d->nglobals; i++)
		if (d->globals[i].type == type)
			add_instance(out, n, d->globals[i].ptr);
	if (depth >= NEST_DEPTH)
		return;
	for (i = 0; i < d->nembeds; i++) {
		void *outer[INSTANCES_MAX];
		unsigned int no = 0;

		if (d->embeds[i].inner != type || d->embeds[i].outer == type)
			continue;
		instances(s, d->embeds[i].outer, e, argp, outer, &no, depth + 1);
		for (j = 0; j < no; j++)
			add_instance(out, n, (char *)outer[j] + d->embeds[i].offset);
	}
}

/* ---- encoding ---- */

static int is_ptr(unsigned char kind)
{
	return kind == DRVSLICE_A_PTR || kind == DRVSLICE_A_OWN ||
	       kind == DRVSLICE_A_FN;
}

/* The bytes an A_BUF or A_OUT argument has: @size, or less when another
 * argument says so (its value from @args, the caller's). */
static int buf_len(struct drvslice_side *s, const struct drvslice_entry *e,
		   unsigned int i, void *const args[], unsigned int *n)
{
	const struct drvslice_arg *a = &e->args[i];
	unsigned long long v = 0;

	*n = a->size;
	if (!a->len_arg)
		return 0;
	if (a->len_arg > e->nargs || a->len_size > sizeof(v) ||
	    e->args[a->len_arg - 1].kind != DRVSLICE_A_VALUE)
		return fail(s, -EINVAL, "%s: argument %u: its length is no argument", e->name, i);
	memcpy(&v, args[a->len_arg - 1], a->len_size);
	if (v > a->size)
		return fail(s, -E2BIG, "%s: argument %u: %llu bytes, at most %u",
			    e->name, i, v, a->size);
	*n = (unsigned int)v;
	return 0;
}

/* The bytes of the A_INOUT argument @i of a call this side makes: what the
 * stub computed (NULL: none), at most @size and what the callee's side
 * takes. */
static int inout_len(struct drvslice_side *s, const struct drvslice_entry *e,
		     unsigned int i, void *const args[], unsigned int *n)
{
	const struct drvslice_arg *a = &e->args[i];
	unsigned int lim = e->dir == DRVSLICE_UP ? DRVSLICE_INOUT_MAX :
			   DRVSLICE_VALUE_MAX;
	const void *p;

	memcpy(&p, args[i], sizeof(p));
	*n = 0;
	if (!p)
		return 0;
	if (!a->len_arg || a->len_size != sizeof(unsigned int))
		return fail(s, -EINVAL, "%s: argument %u: no length", e->name, i);
	memcpy(n, args[a->len_arg - 1], sizeof(*n));
	if (*n > a->size || *n > lim)
		return fail(s, -E2BIG, "%s: argument %u: %u bytes, at most %u",
			    e->name, i, *n, a->size < lim ? a->size : lim);
	return 0;
}

unsigned short drvslice_type_named(const struct drvslice_side *s,
				   const char *name)
{
	unsigned short t;

	for (t = 1; name && t < s->drv->ntypes; t++)
		if (!strcmp(s->drv->types[t].name, name))
			return t;
	return 0;
}

/* The entry @id names on this side (the driver's or the kernel API's). */
static const struct drvslice_entry *entry_for(const struct drvslice_side *s,
					      unsigned int id)
{
	const struct drvslice_driver *d = s->drv;

	if (id >= DRVSLICE_API_BASE) {
		d = s->api;
		id -= DRVSLICE_API_BASE;
	}
	if (!d || !id || id >= d->nentries)
		return NULL;
	return d->entries[id];
}

/*
 * The field sets of a call (@out: of its return).  A kernel API call's are
 * made here, in @tmp: every crossing field of each struct argument's type.
 */
static unsigned int sets_of(const struct drvslice_side *s,
			    const struct drvslice_entry *e, int out,
			    struct drvslice_set *tmp,
			    const struct drvslice_set **sets)
{
	unsigned int i, n = 0, k;

	if (!(e->flags & DRVSLICE_E_API)) {
		*sets = out ? e->out : e->in;
		return out ? e->nout : e->nin;
	}
	for (i = 0; i < e->nargs; i++) {
		unsigned short t;

		if (!is_ptr(e->args[i].kind))
			continue;
		t = drvslice_type_named(s, e->args[i].pointee);
		for (k = 0; k < n; k++)
			if (tmp[k].type == t)
				break;
		if (!t || k < n)
			continue;
		tmp[n].type = t;
		tmp[n].nfields = DRVSLICE_ALL_FIELDS;
		tmp[n].fields = NULL;
		n++;
	}
	*sets = tmp;
	return n;
}

/* A bitfield's value in the struct at @inst (-EINVAL: too wide). */
static int bits_get(const struct drvslice_field *f, const char *inst, u64_t *val)
{
	unsigned int first = f->offset / 8, last = (f->offset + f->size + 7) / 8;
	u64_t word = 0;

	if (f->size > 56 || last - first > 8)
		return -EINVAL;
	memcpy(&word, inst + first, last - first);
	*val = (word >> (f->offset % 8)) & ((1ULL << f->size) - 1);
	return 0;
}

/* Stores @val (checked to fit) as the bitfield of the struct at @inst. */
static void bits_set(const struct drvslice_field *f, char *inst, u64_t val)
{
	unsigned int first = f->offset / 8, last = (f->offset + f->size + 7) / 8;
	u64_t word = 0, mask = ((1ULL << f->size) - 1) << (f->offset % 8);

	memcpy(&word, inst + first, last - first);
	word = (word & ~mask) | (val << (f->offset % 8));
	memcpy(inst + first, &word, last - first);
}

/*
 * Dirty tracking.  A copy of the other side's object (a shadow) has a base:
 * the bytes its owner was last known to hold, those this side stored into
 * the copy from a message or sent from it.  Where the struct at @inst (of
 * @size bytes) lies in a copy, the struct's base; NULL where it lies in an
 * object of this side's own (or a global): its fields always cross.
 */
static char *base_of(const struct drvslice_side *s, const char *inst,
		     unsigned int size)
{
	const struct drvslice_obj *o = holding(s, inst);
	unsigned int off;

	if (!o || !o->shadow || !o->base)
		return NULL;
	off = (unsigned int)(inst - (const char *)o->ptr);
	if (off > o->size || size > o->size - off)
		return NULL;
	return (char *)o->base + off;
}

static int field_clean(const struct drvslice_field *f, const char *inst,
		       const char *base);

/* A field that holds a pointer, mapped to the other side's object. */
static int ptr_field(const struct drvslice_field *f)
{
	return f->kind == DRVSLICE_F_POINTER || f->kind == DRVSLICE_F_STRING ||
	       f->kind == DRVSLICE_F_ARRAY || f->kind == DRVSLICE_F_SENTINEL;
}

/* The unsigned integer of @n bytes (1, 2, 4 or 8) at @p; -1: no such size. */
static int uint_at(const void *p, unsigned int n, u64_t *v)
{
	unsigned char b;
	unsigned short w;
	unsigned int l;

	switch (n) {
	case 1:
		memcpy(&b, p, 1);
		*v = b;
		return 0;
	case 2:
		memcpy(&w, p, 2);
		*v = w;
		return 0;
	case 4:
		memcpy(&l, p, 4);
		*v = l;
		return 0;
	case 8:
		memcpy(v, p, 8);
		return 0;
	}
	return -1;
}

/* The field that holds the number of elements of @f, an array of @ty whose
 * length is a field (NULL: @f is not one). */
static const struct drvslice_field *
count_field(const struct drvslice_type *ty, const struct drvslice_field *f)
{
	if (f->kind != DRVSLICE_F_ARRAY || !f->count || f->count > ty->nfields)
		return NULL;
	return &ty->fields[f->count - 1];
}

/* The bytes up to and with the first element of @f's size equal to its
 * end value in [@p, @p + @room): 0 if none is. */
static unsigned int sentinel_bytes(const struct drvslice_field *f,
				   const unsigned char *p, unsigned int room)
{
	unsigned int at;
	u64_t v;

	for (at = 0; f->size && at <= room && f->size <= room - at; at += f->size)
		if (!uint_at(p + at, f->size, &v) && v == f->end)
			return at + f->size;
	return 0;
}

/*
 * Field @id of @ty at @inst is sent though its value is its base's: it is
 * a counted array whose count changed, or the count of one that changed.
 * Each goes with the other, so the receiver checks them together.
 */
static int partner_dirty(const struct drvslice_type *ty, unsigned short id,
			 const char *inst, const char *base)
{
	const struct drvslice_field *f = &ty->fields[id], *c;
	unsigned int j;

	c = count_field(ty, f);
	if (c)
		return !field_clean(c, inst, base);
	if (f->kind != DRVSLICE_F_BYTES || f->size > 8)
		return 0;
	for (j = 0; j < ty->nfields; j++)
		if (ty->fields[j].kind == DRVSLICE_F_ARRAY &&
		    ty->fields[j].count == id + 1u &&
		    !field_clean(&ty->fields[j], inst, base))
			return 1;
	return 0;
}

/* Whether field @f of the struct at @inst holds its @base's value (a
 * bitfield: its bits, not its neighbours'). */
static int field_clean(const struct drvslice_field *f, const char *inst,
		       const char *base)
{
	u64_t a, b;

	if (f->kind == DRVSLICE_F_BITS)
		return !bits_get(f, inst, &a) && !bits_get(f, base, &b) && a == b;
	return !memcmp(inst + f->offset, base + f->offset,
		       ptr_field(f) ? sizeof(void *) : f->size);
}

/* Field @f of the struct at @inst is now its owner's last known value. */
static void field_known(const struct drvslice_field *f, const char *inst,
			char *base)
{
	u64_t val;

	if (f->kind == DRVSLICE_F_BITS) {
		if (!bits_get(f, inst, &val))
			bits_set(f, base, val);
		return;
	}
	memcpy(base + f->offset, inst + f->offset,
	       ptr_field(f) ? sizeof(void *) : f->size);
}

static int in_global(const struct drvslice_side *s, const void *p);

/*
 * A string or array field's pointee (@p, this side's, in field @f of the
 * @ty at @inst): its bytes go with the pointer.  An object that holds
 * them already (a struct, a buffer the kernel API tracks, a copy of the
 * other side's) speaks for them; else they become an object of their own
 * whose bytes travel each time it is named (drvslice_track_bytes), made
 * again when the string or the array grew.  A string or a sentinel's
 * elements are looked for within the object that holds them, if one does.
 */
static int pointee_bytes(struct drvslice_side *s,
			 const struct drvslice_type *ty, const char *inst,
			 const struct drvslice_field *f, const void *p)
{
	const struct drvslice_field *c = count_field(ty, f);
	const struct drvslice_obj *o;
	unsigned int n, lim = DRVSLICE_CONTENT_MAX;
	u64_t k = 0;

	if (!p || f->kind == DRVSLICE_F_POINTER)
		return 0;
	o = holding(s, p);
	/* One past an object's end is the start of other memory. */
	if (o && o->size && (const char *)p >= (const char *)o->ptr + o->size)
		o = NULL;
	if (o && o->size && (const char *)o->ptr + o->size - (const char *)p < lim)
		lim = (unsigned int)((const char *)o->ptr + o->size - (const char *)p);
	if (f->kind == DRVSLICE_F_STRING) {
		const char *ch = p;

		for (n = 0; n < lim && ch[n]; n++)
			;
		if (n == lim)
			return fail(s, -EINVAL, "%s: no NUL in its first %u bytes", f->name, lim);
		n++;
	} else if (f->kind == DRVSLICE_F_SENTINEL) {
		n = sentinel_bytes(f, p, lim);
		if (!n)
			return fail(s, -EINVAL, "%s: no element %llu in its first %u bytes",
				    f->name, f->end, lim);
	} else if (c) {
		if (uint_at(inst + c->offset, c->size, &k) ||
		    k > DRVSLICE_CONTENT_MAX / (f->size ? f->size : 1))
			return fail(s, -EINVAL, "%s: %llu elements of %u bytes (%s; at most %u bytes)",
				    f->name, k, f->size, c->name, DRVSLICE_CONTENT_MAX);
		n = (unsigned int)k * f->size;
		if (!n)
			return 0;
	} else {
		n = f->size;
		if (!n || n > DRVSLICE_CONTENT_MAX)
			return fail(s, -EINVAL, "%s: an array of %u bytes (1..%u)", f->name, n,
				    DRVSLICE_CONTENT_MAX);
	}
	if (o && (const char *)o->ptr + o->size - (const char *)p >= (long)n)
		return 0;
	if (o && !(o->content && !o->shadow))
		return 0;	/* the receiver checks what the object holds */
	if (!o && in_global(s, p))
		return 0;
	if (o)
		drvslice_untrack(s, o->ptr);
	if (!drvslice_track_bytes(s, (void *)p, n))
		return fail(s, -ENOSPC, "%s: no room for its %u bytes", f->name, n);
	return 0;
}

static int is_function(const struct drvslice_side *s, const void *p);

/* A pointer field whose base went stale (stale_pointers) and which still
 * holds a pointer no object, global or function of this side's holds: the
 * one it held, unchanged, into the object that went.  Not sent, as a clean
 * field is not (sent, it would be an opaque handle for the owner's field). */
static int stale_dangling(const struct drvslice_side *s,
			  const struct drvslice_field *f, const char *inst,
			  const char *base)
{
	unsigned long b;
	const void *p;

	if (!ptr_field(f))
		return 0;
	memcpy(&b, base + f->offset, sizeof(b));
	memcpy(&p, inst + f->offset, sizeof(p));
	return b == stale_ptr && p && !holding(s, p) && !in_global(s, p) &&
	       !is_function(s, p);
}

/*
 * One struct's fields of @set, at @inst.  In a copy of the other side's, a
 * field that holds its base's value is not sent (the owner's value stands;
 * nothing of the struct is, if none differs).  @commit: nothing is written;
 * the message is complete, and what it carries from copies becomes their
 * owners' last known value.
 */
static int put_struct(struct drvslice_side *s, struct sbuf *b,
		      const struct drvslice_entry *e,
		      const struct drvslice_set *set, char *inst,
		      struct named *nm, int commit)
{
	const struct drvslice_type *ty = &s->drv->types[set->type];
	char *base = base_of(s, inst, ty->size);
	unsigned char v[PTR_BYTES];
	unsigned int at = 0, off, j, n;
	int err, begun = 0;
	u64_t h;

	n = set->nfields == DRVSLICE_ALL_FIELDS ? ty->nfields : set->nfields;
	for (j = 0; j < n; j++) {
		unsigned short id = set->nfields == DRVSLICE_ALL_FIELDS ?
				    (unsigned short)j : set->fields[j];
		const struct drvslice_field *f;
		unsigned int fat;

		if (id >= ty->nfields)
			return fail(s, -EINVAL, "%s: %s field %u", e->name, ty->name, id);
		f = &ty->fields[id];
		if (base && field_clean(f, inst, base) &&
		    !partner_dirty(ty, id, inst, base))
			continue;
		if (base && stale_dangling(s, f, inst, base))
			continue;
		if (commit) {
			if (base)
				field_known(f, inst, base);
			continue;
		}
		if (!begun) {
			err = ptr_out(s, inst, &h, &off, nm);
			if (err)
				return err;
			at = nest_begin(b, DRVXPC_A_SLICE_STRUCT);
			put_ptr(v, h, off);
			put(b, DRVXPC_A_SLICE_ARG, v, PTR_BYTES);
			put(b, DRVXPC_A_SLICE_STRUCT_ID, &set->type, 2);
			begun = 1;
		}
		fat = nest_begin(b, DRVXPC_A_SLICE_FIELD);
		put(b, DRVXPC_A_SLICE_FIELD_ID, &id, 2);
		if (ptr_field(f)) {
			void *p;
			u64_t ph;
			unsigned int poff;

			memcpy(&p, inst + f->offset, sizeof(p));
			err = pointee_bytes(s, ty, inst, f, p);
			if (err)
				return err;
			err = ptr_out(s, p, &ph, &poff, nm);
			if (err)
				return err;
			put_ptr(v, ph, poff);
			put(b, DRVXPC_A_SLICE_FIELD_VALUE, v, PTR_BYTES);
		} else if (f->kind == DRVSLICE_F_BITS) {
			u64_t val;

			if (bits_get(f, inst, &val))
				return fail(s, -EINVAL, "%s: bitfield too wide", f->name);
			put(b, DRVXPC_A_SLICE_FIELD_VALUE, &val, BITS_BYTES);
		} else {
			put(b, DRVXPC_A_SLICE_FIELD_VALUE, inst + f->offset, f->size);
		}
		nest_end(b, fat);
	}
	if (begun)
		nest_end(b, at);
	return 0;
}

static int put_sets(struct drvslice_side *s, struct sbuf *b,
		    const struct drvslice_entry *e, int out,
		    void *const argp[], struct named *nm, int commit)
{
	struct drvslice_set tmp[DRVSLICE_ARGS_MAX];
	const struct drvslice_set *sets;
	unsigned int i, k, nsets = sets_of(s, e, out, tmp, &sets);
	int err;

	for (i = 0; i < nsets; i++) {
		void *all[INSTANCES_MAX];
		unsigned int nall = 0;

		if (!sets[i].type || sets[i].type >= s->drv->ntypes)
			return fail(s, -EINVAL, "%s: type %u", e->name, sets[i].type);
		instances(s, sets[i].type, e, argp, all, &nall, 0);
		for (k = 0; k < nall; k++) {
			err = put_struct(s, b, e, &sets[i], all[k], nm, commit);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Each named object once, its parent first (the other side makes the
 * parent's copy before the child's, inside it). */
static void put_objects(struct drvslice_side *s, struct sbuf *b,
			struct named *nm)
{
	unsigned int i;

	for (i = 0; i < nm->n; i++) {
		struct drvslice_obj *o = by_handle(s, nm->h[i]);
		unsigned char v[PTR_BYTES];
		unsigned int at;

		if (!o)
			continue;
		o->named = 1;
		at = nest_begin(b, DRVXPC_A_SLICE_OBJECT);
		put(b, DRVXPC_A_SLICE_HANDLE, &o->handle, 8);
		put(b, DRVXPC_A_SLICE_SIZE, &o->size, 4);
		put(b, DRVXPC_A_SLICE_STRUCT_ID, &o->type, 2);
		if (o->parent) {
			put_ptr(v, o->parent, o->parent_off);
			put(b, DRVXPC_A_SLICE_ARG, v, PTR_BYTES);
		}
		if (o->content && !o->shadow)
			put(b, DRVXPC_A_SLICE_FIELD_VALUE, o->ptr, o->size);
		nest_end(b, at);
	}
}

/* The handles of this side's objects untracked since its last message;
 * forgotten once a message carrying them is complete (drops_sent). */
static void put_drops(struct drvslice_side *s, struct sbuf *b)
{
	unsigned int i;

	for (i = 0; i < s->ndropped; i++)
		put(b, DRVXPC_A_SLICE_DROP, &s->dropped[i], 8);
}

/* The pointer arguments' values; an argument pointing into no object this
 * side shares, of a struct type the driver has, is shared for this call. */
/* Whether @p points into one of the driver's globals (each half has its
 * own copy: it crosses as the global, not as an object). */
static int in_global(const struct drvslice_side *s, const void *p)
{
	const struct drvslice_driver *d = s->drv;
	unsigned int i;

	for (i = 0; i < d->nglobals; i++) {
		const char *g = d->globals[i].ptr;

		if ((const char *)p >= g && (const char *)p <= g + d->globals[i].size)
			return 1;
	}
	return 0;
}

/* Whether @p is one of the functions either half's description names. */
static int is_function(const struct drvslice_side *s, const void *p)
{
	const struct drvslice_target *t;

	for (t = s->drv->targets; t && t->name; t++)
		if (t->fn == p)
			return 1;
	for (t = s->drv->stubs; t && t->name; t++)
		if (t->fn == p)
			return 1;
	return 0;
}

static int arg_ptrs(struct drvslice_side *s, const struct drvslice_entry *e,
		    void *const args[], void *argp[])
{
	const struct drvslice_driver *d = s->drv;
	const struct drvslice_obj *held;
	unsigned int i, t;

	for (i = 0; i < e->nargs; i++) {
		argp[i] = NULL;
		if (!is_ptr(e->args[i].kind))
			continue;
		memcpy(&argp[i], args[i], sizeof(void *));
		held = argp[i] ? holding(s, argp[i]) : NULL;
		/* Bytes of a length no description gives, which the kernel
		 * hands the u-driver's function (ethtool's register dump
		 * buffer): its copy would be an opaque handle's, and what the
		 * function reads or writes there is not the kernel's.  Not
		 * sent: the call fails as unsupported. */
		if (s->kernel && e->dir == DRVSLICE_UP && e->args[i].kind == DRVSLICE_A_PTR &&
		    !e->args[i].pointee && argp[i] && !held &&
		    !in_global(s, argp[i]) && !is_function(s, argp[i]))
			return fail(s, -EOPNOTSUPP, "%s: argument %u is a buffer of a length the description does not give",
				    e->name, i);
		/* An object the callee made is all it takes here (the kernel
		 * checks that again): a pointer in none of this side's copies
		 * of them is refused before it is sent, saying where it lay. */
		if (e->args[i].kind == DRVSLICE_A_OWN && argp[i]) {
			if (!held)
				return fail(s, -EPERM, "%s: argument %u lies in no object of this side's, no copy of the callee's",
					    e->name, i);
			if (!held->shadow || !held->size)
				return fail(s, -EPERM, "%s: argument %u lies in %s %#llx, no copy of the callee's",
					    e->name, i, held->shadow ? "the opaque handle" : "this side's own object",
					    held->handle);
		}
		/* A typed argument that only an opaque handle stands for
		 * (its pointer went before in a field, when no object held
		 * it) is made an object of its own for the call, so that
		 * the callee gets its bytes: the handle's copy has none. */
		if (!argp[i] || !e->args[i].pointee ||
		    (held && !opaque_handle(held)) ||
		    e->args[i].kind == DRVSLICE_A_OWN || in_global(s, argp[i]))
			continue;
		for (t = 1; t < d->ntypes; t++)
			if (!strcmp(d->types[t].name, e->args[i].pointee))
				break;
		if (t < d->ntypes &&
		    !add(s, argp[i], d->types[t].size, (unsigned short)t,
			 own_handle(s, 1), 0))
			return fail(s, -ENOSPC, "%s: no room for argument %u", e->name, i);
		/* A struct none of whose fields cross: its bytes, for this
		 * call, so that the callee's copy is as big as it. */
		if (t == d->ntypes && e->args[i].pointee_size &&
		    e->args[i].pointee_size <= DRVSLICE_SHADOW_MAX &&
		    !add(s, argp[i], e->args[i].pointee_size, 0, own_handle(s, 1), 0))
			return fail(s, -ENOSPC, "%s: no room for argument %u", e->name, i);
	}
	return 0;
}

int drvslice_encode_call(struct drvslice_side *s,
			 const struct drvslice_entry *e, void *const args[],
			 unsigned char *buf, unsigned int cap)
{
	struct sbuf b = { buf, 0, cap, 0 };
	void *argp[DRVSLICE_ARGS_MAX];
	struct named nm = { .n = 0 };
	unsigned int i;
	int err;

	/* The call begins here, whatever happens next: drvslice_call_end
	 * ends it. */
	s->depth++;
	s->why[0] = 0;
	if (e->nargs > DRVSLICE_ARGS_MAX)
		return fail(s, -EINVAL, "%s: %u arguments", e->name, e->nargs);
	err = arg_ptrs(s, e, args, argp);
	if (err)
		return err;
	put(&b, DRVXPC_A_SLICE_ENTRY, &e->id, 2);
	put_drops(s, &b);
	for (i = 0; i < e->nargs; i++) {
		unsigned char v[PTR_BYTES];
		u64_t h;
		unsigned int off;

		if (is_ptr(e->args[i].kind)) {
			err = ptr_out(s, argp[i], &h, &off, &nm);
			if (err)
				return err;
			put_ptr(v, h, off);
			put(&b, DRVXPC_A_SLICE_ARG, v, PTR_BYTES);
		} else if (e->args[i].kind == DRVSLICE_A_OUT) {
			/* Only how many bytes the callee may write. */
			unsigned int n;
			const void *p;

			memcpy(&p, args[i], sizeof(p));
			err = buf_len(s, e, i, args, &n);
			if (err)
				return err;
			if (!p || n > DRVSLICE_VALUE_MAX)
				return fail(s, -EINVAL, "%s: argument %u: NULL, or over %u bytes",
					    e->name, i, DRVSLICE_VALUE_MAX);
			put(&b, DRVXPC_A_SLICE_ARG, &n, 4);
		} else if (e->args[i].kind == DRVSLICE_A_INOUT) {
			/* The bytes; the reply brings them back. */
			unsigned int n;
			const void *p;

			memcpy(&p, args[i], sizeof(p));
			err = inout_len(s, e, i, args, &n);
			if (err)
				return err;
			put(&b, DRVXPC_A_SLICE_ARG, p, n);
		} else if (e->args[i].kind == DRVSLICE_A_BUF ||
			   e->args[i].kind == DRVSLICE_A_STR) {
			const char *p;
			unsigned int n = e->args[i].size;

			memcpy(&p, args[i], sizeof(p));
			if (e->args[i].kind == DRVSLICE_A_BUF) {
				err = buf_len(s, e, i, args, &n);
				if (err)
					return err;
			}
			if (!p || n > DRVSLICE_VALUE_MAX || (!n && e->args[i].kind == DRVSLICE_A_STR))
				return fail(s, -EINVAL, "%s: argument %u: a %s buffer of %u bytes",
					    e->name, i, p ? "" : "NULL", n);
			if (e->args[i].kind == DRVSLICE_A_STR) {
				n = (unsigned int)strnlen(p, n);
				if (n == e->args[i].size)
					return fail(s, -E2BIG, "%s: argument %u: longer than %u bytes",
						    e->name, i, e->args[i].size - 1);
				n++;
			}
			put(&b, DRVXPC_A_SLICE_ARG, p, n);
		} else if (e->args[i].size > DRVSLICE_VALUE_MAX) {
			return fail(s, -EINVAL, "%s: argument %u: %u bytes", e->name, i, e->args[i].size);
		} else {
			put(&b, DRVXPC_A_SLICE_ARG, args[i], e->args[i].size);
		}
	}
	err = put_sets(s, &b, e, 0, argp, &nm, 0);
	if (err)
		return err;
	if (nm.full)
		return fail(s, -E2BIG, "%s: more than 64 objects", e->name);
	name_devices(s, &nm);
	put_objects(s, &b, &nm);
	if (b.err)
		return fail(s, b.err, "%s: the call does not fit in %u bytes", e->name, cap);
	/* Sent: what it carries from copies is their owners' now, and the
	 * drops are announced. */
	put_sets(s, &b, e, 0, argp, &nm, 1);
	s->ndropped = 0;
	return (int)b.len;
}

/* The pseudo-entry the adoption's state is sent and checked under: no
 * arguments, every type's every field (set_for's DRVSLICE_ALL_TYPES). */
static const struct drvslice_entry adoption = { .name = "the adoption's state" };

static int put_state(struct drvslice_side *s, struct sbuf *b,
		     struct named *nm, int commit)
{
	struct drvslice_set set = { 0, DRVSLICE_ALL_FIELDS, NULL };
	unsigned short t;
	int err;

	for (t = 1; t < s->drv->ntypes; t++) {
		void *all[INSTANCES_MAX];
		unsigned int nall = 0, k;

		set.type = t;
		instances(s, t, &adoption, NULL, all, &nall, 0);
		for (k = 0; k < nall; k++) {
			const struct drvslice_obj *o = holding(s, all[k]);

			/* This side's objects: not a global (each half
			 * has its own) nor a copy of the other side's. */
			if (!o || o->shadow || !o->size)
				continue;
			err = put_struct(s, b, &adoption, &set, all[k], nm, commit);
			if (err)
				return err;
		}
	}
	return 0;
}

int drvslice_encode_state(struct drvslice_side *s, unsigned char *buf,
			  unsigned int cap)
{
	struct sbuf b = { buf, 0, cap, 0 };
	struct named nm = { .n = 0 };
	int err;

	s->why[0] = 0;
	if (!s->kernel)
		return fail(s, -EPERM, "%s: the kernel's to send", adoption.name);
	err = put_state(s, &b, &nm, 0);
	if (err)
		return err;
	if (nm.full)
		return fail(s, -E2BIG, "%s: more than 64 objects", adoption.name);
	name_devices(s, &nm);
	put_objects(s, &b, &nm);
	if (b.err)
		return fail(s, b.err, "%s: does not fit in %u bytes", adoption.name, cap);
	put_state(s, &b, &nm, 1);
	return (int)b.len;
}

void drvslice_call_end(struct drvslice_side *s)
{
	unsigned int i;

	if (!s->depth)
		return;
	for (i = s->nobjs; i-- > 0;)
		if (s->objs[i].depth >= s->depth)
			drop(s, i);
	s->depth--;
}

/* ---- decoding ---- */

/* An object a message announced. */
struct announced {
	u64_t h, parent;
	unsigned int size, parent_off;
	unsigned short type;
	const unsigned char *content;	/* drvslice_track_bytes's, or NULL */
	unsigned int ncontent;
};

struct parsed {
	unsigned short entry;
	unsigned int nargs, nstructs, nobjs;
	struct sattr args[DRVSLICE_ARGS_MAX];
	struct sattr ret;
	int has_ret;
	struct sattr structs[32];
	struct announced objs[64];
	unsigned int ndrops;
	u64_t drops[DRVSLICE_DROPS_MAX];
};

/* The decoded message lives in the side's scratch. */
typedef char parsed_fits_scratch[sizeof(struct parsed) <=
				 sizeof(((struct drvslice_side *)0)->scratch) ? 1 : -1];

static struct parsed *scratch(struct drvslice_side *s)
{
	return (struct parsed *)s->scratch;
}

static int parse_object(struct drvslice_side *s, const struct sattr *a,
			struct announced *o)
{
	const unsigned char *p = a->v, *end = a->v + a->n;
	struct sattr x;
	int r, seen = 0;

	memset(o, 0, sizeof(*o));
	while ((r = next_attr(&p, end, &x)) > 0) {
		if (x.type == DRVXPC_A_SLICE_HANDLE && x.n == 8) {
			memcpy(&o->h, x.v, 8);
			seen |= 1;
		} else if (x.type == DRVXPC_A_SLICE_SIZE && x.n == 4) {
			memcpy(&o->size, x.v, 4);
			seen |= 2;
		} else if (x.type == DRVXPC_A_SLICE_STRUCT_ID && x.n == 2) {
			memcpy(&o->type, x.v, 2);
			seen |= 4;
		} else if (x.type == DRVXPC_A_SLICE_ARG && x.n == PTR_BYTES) {
			get_ptr(x.v, &o->parent, &o->parent_off);
		} else if (x.type == DRVXPC_A_SLICE_FIELD_VALUE && !o->content) {
			o->content = x.v;
			o->ncontent = x.n;
		} else {
			return fail(s, -EINVAL, "SLICE_OBJECT: unexpected attribute %u (%u bytes)", x.type, x.n);
		}
	}
	if (r < 0 || seen != 7)
		return fail(s, -EINVAL, "SLICE_OBJECT: malformed or incomplete");
	if (o->size > 0x1000000 || o->type >= s->drv->ntypes)
		return fail(s, -EINVAL, "SLICE_OBJECT: size %u, type %u", o->size, o->type);
	if (o->content && (o->type || o->ncontent != o->size ||
			   o->size > DRVSLICE_CONTENT_MAX))
		return fail(s, -EINVAL, "SLICE_OBJECT: %u bytes of content for %u bytes of type %u",
			    o->ncontent, o->size, o->type);
	switch (o->h & DRVSLICE_H_KIND) {
	case DRVSLICE_H_KERNEL:
	case DRVSLICE_H_USER:
		return 0;
	}
	return fail(s, -EINVAL, "SLICE_OBJECT: handle %#llx", o->h);
}

static int parse(struct drvslice_side *s, const unsigned char *msg,
		 unsigned int len, struct parsed *m)
{
	const unsigned char *p = msg, *end = msg + len;
	struct sattr a;
	int r, entries = 0;

	memset(m, 0, sizeof(*m));
	while ((r = next_attr(&p, end, &a)) > 0) {
		switch (a.type) {
		case DRVXPC_A_SLICE_ENTRY:
			if (a.n != 2 || entries++)
				return fail(s, -EINVAL, "SLICE_ENTRY: %u bytes, or twice", a.n);
			memcpy(&m->entry, a.v, 2);
			break;
		case DRVXPC_A_SLICE_ARG:
			if (m->nargs == DRVSLICE_ARGS_MAX)
				return fail(s, -EINVAL, "SLICE_ARG: more than %u", DRVSLICE_ARGS_MAX);
			m->args[m->nargs++] = a;
			break;
		case DRVXPC_A_SLICE_RET:
			if (m->has_ret++)
				return fail(s, -EINVAL, "SLICE_RET: twice");
			m->ret = a;
			break;
		case DRVXPC_A_SLICE_STRUCT:
			if (!a.nested || m->nstructs == 32)
				return fail(s, -EINVAL, "SLICE_STRUCT: not nested, or more than 32");
			m->structs[m->nstructs++] = a;
			break;
		case DRVXPC_A_SLICE_DROP:
			if (a.n != 8 || m->ndrops == DRVSLICE_DROPS_MAX)
				return fail(s, -EINVAL, "SLICE_DROP: %u bytes, or more than %u",
					    a.n, DRVSLICE_DROPS_MAX);
			memcpy(&m->drops[m->ndrops++], a.v, 8);
			break;
		case DRVXPC_A_SLICE_OBJECT:
			if (!a.nested || m->nobjs == 64)
				return fail(s, -EINVAL, "SLICE_OBJECT: not nested, or more than 64");
			r = parse_object(s, &a, &m->objs[m->nobjs]);
			if (r)
				return r;
			m->nobjs++;
			break;
		default:
			return fail(s, -EINVAL, "attribute %u: not part of a call", a.type);
		}
	}
	if (r < 0)
		return fail(s, -EINVAL, "malformed attribute at byte %u", (unsigned int)(p - msg));
	return 0;
}

/* Whether (h, off) will resolve once the announced objects are made, and
 * the room behind it. */
static int check_ptr(struct drvslice_side *s, const struct parsed *m,
		     const unsigned char *v, unsigned int *room, const char *what)
{
	unsigned int i, off;
	void *p;
	u64_t h;

	get_ptr(v, &h, &off);
	if (by_handle(s, h) || !h || (h & DRVSLICE_H_KIND) == DRVSLICE_H_FN ||
	    (h & DRVSLICE_H_KIND) == DRVSLICE_H_GLOBAL)
		return ptr_in(s, h, off, &p, room, what);
	for (i = 0; i < m->nobjs; i++)
		if (m->objs[i].h == h) {
			if (off > m->objs[i].size)
				return fail(s, -EINVAL, "%s: offset %u past object %#llx", what, off, h);
			*room = m->objs[i].size - off;
			return 0;
		}
	return fail(s, -EINVAL, "%s: object %#llx is unknown", what, h);
}

/*
 * A string, array or sentinel field's pointer @v (@room bytes from there
 * to its object's end): what it points to is what the annotation says, a
 * NUL or the end element within the bytes, or @need bytes (an array's).
 * The bytes are a known object's here, or those the message announces it
 * with (none: the copy will be zeros).  NULL holds no elements.
 */
static int check_pointee(struct drvslice_side *s, const struct parsed *m,
			 const struct drvslice_field *f, const unsigned char *v,
			 unsigned int room, unsigned int need)
{
	const struct announced *sent = NULL;
	const unsigned char *bytes = NULL;
	const struct drvslice_obj *o;
	unsigned int i, off;
	void *p = NULL;
	u64_t h;

	if (f->kind != DRVSLICE_F_STRING && f->kind != DRVSLICE_F_ARRAY &&
	    f->kind != DRVSLICE_F_SENTINEL)
		return 0;

	get_ptr(v, &h, &off);
	if (!h && f->kind == DRVSLICE_F_ARRAY && need && f->count)
		return fail(s, -EINVAL, "%s: NULL with %u bytes of elements", f->name, need);
	if (!h)
		return 0;
	/* Bytes the message carries are what the copy will hold (a copy of
	 * the same size takes them again: make_shadows). */
	for (i = 0; i < m->nobjs; i++)
		if (m->objs[i].h == h && m->objs[i].content &&
		    off <= m->objs[i].ncontent)
			sent = &m->objs[i];
	o = by_handle(s, h);
	if (sent && (!o || (o->shadow && o->size == sent->ncontent))) {
		bytes = sent->content + off;
		if (room > sent->ncontent - off)
			room = sent->ncontent - off;
	} else if (o || (h & DRVSLICE_H_KIND) == DRVSLICE_H_GLOBAL) {
		if (ptr_in(s, h, off, &p, &room, f->name))
			return -EINVAL;
		bytes = p;
	}
	if (f->kind == DRVSLICE_F_STRING &&
	    (!room || (bytes && !memchr(bytes, 0, room))))
		return fail(s, -EINVAL, "%s: no NUL in the %u bytes it points to", f->name, room);
	if (f->kind == DRVSLICE_F_SENTINEL &&
	    (bytes ? !sentinel_bytes(f, bytes, room) : f->end || room < f->size))
		return fail(s, -EINVAL, "%s: no element %llu in the %u bytes it points to",
			    f->name, f->end, room);
	if (f->kind == DRVSLICE_F_ARRAY && room < need)
		return fail(s, -EINVAL, "%s: %u bytes where it points, %u expected", f->name,
			    room, need);
	return 0;
}

/* The value of field @id in the SLICE_STRUCT [@p, @end) (NULL: not there;
 * the fields were checked); *@times: how many times it is there. */
static const unsigned char *field_value(const unsigned char *p,
					const unsigned char *end,
					unsigned short id, unsigned int *times)
{
	const unsigned char *found = NULL;
	struct sattr a, x;

	while (next_attr(&p, end, &a) > 0) {
		const unsigned char *q = a.v;
		const unsigned char *v = NULL;
		int is = 0;

		if (a.type != DRVXPC_A_SLICE_FIELD || !a.nested)
			continue;
		while (next_attr(&q, a.v + a.n, &x) > 0) {
			if (x.type == DRVXPC_A_SLICE_FIELD_ID && x.n == 2)
				is = !memcmp(x.v, &id, 2);
			else if (x.type == DRVXPC_A_SLICE_FIELD_VALUE)
				v = x.v;
		}
		if (is && !(*times)++)
			found = v;
	}
	return found;
}

/*
 * An array whose length is a field crosses with that field, each of them
 * when either changed (put_struct): in the SLICE_STRUCT [@p, @end) of a
 * @ty, each counted array's elements must be where its pointer points,
 * and neither may come without the other.
 */
static int check_counted(struct drvslice_side *s, const struct parsed *m,
			 const struct drvslice_type *ty,
			 const unsigned char *p, const unsigned char *end)
{
	unsigned short id, j;

	for (id = 0; id < ty->nfields; id++) {
		const struct drvslice_field *f = &ty->fields[id];
		const struct drvslice_field *c = count_field(ty, f);
		const unsigned char *v, *cv;
		unsigned int room, nv = 0, nc = 0;
		u64_t k = 0;
		int r;

		if (!c)
			continue;
		j = (unsigned short)(c - ty->fields);
		v = field_value(p, end, id, &nv);
		cv = field_value(p, end, j, &nc);
		if (!v && !cv)
			continue;
		if (nv > 1 || nc > 1)
			return fail(s, -EINVAL, "%s: sent twice", nv > 1 ? f->name : c->name);
		if (!v || !cv)
			return fail(s, -EINVAL, "%s crosses without %s", v ? f->name : c->name,
				    v ? c->name : f->name);
		if (uint_at(cv, c->size, &k) || k > 0xffffffu / (f->size ? f->size : 1))
			return fail(s, -EINVAL, "%s: %llu elements (%s)", f->name, k, c->name);
		r = check_ptr(s, m, v, &room, f->name);
		if (!r)
			r = check_pointee(s, m, f, v, room, (unsigned int)k * f->size);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Whether a struct of type @t can be at the (handle, offset) @v: aligned
 * for it.  A copy not made yet will be (its memory is the allocator's, or
 * its parent's at an aligned offset), so the offset is what counts there.
 */
static int aligned(struct drvslice_side *s, const unsigned char *v,
		   unsigned short t, const char *what)
{
	unsigned int off, room, align = s->drv->types[t].align;
	void *p = NULL;
	u64_t h;

	if (align <= 1)
		return 0;
	get_ptr(v, &h, &off);
	if (by_handle(s, h) || (h & DRVSLICE_H_KIND) == DRVSLICE_H_GLOBAL) {
		if (ptr_in(s, h, off, &p, &room, what))
			return -EINVAL;
		if (!((unsigned long)p % align))
			return 0;
	} else if (!(off % align)) {
		return 0;
	}
	return fail(s, -EINVAL, "%s: a %s at offset %u is not aligned to %u",
		    what, s->drv->types[t].name, off, align);
}

/* @n for every type, each with all of its fields: the adoption's state. */
#define DRVSLICE_ALL_TYPES	0xffffffffu

/* The set of @sets for @type, or NULL. */
static const struct drvslice_set *set_for(const struct drvslice_set *sets,
					  unsigned int n, unsigned short type)
{
	static const struct drvslice_set every = { 0, DRVSLICE_ALL_FIELDS, NULL };
	unsigned int i;

	if (n == DRVSLICE_ALL_TYPES)
		return &every;
	for (i = 0; i < n; i++)
		if (sets[i].type == type)
			return &sets[i];
	return NULL;
}

static int set_has(const struct drvslice_set *set, unsigned short id)
{
	unsigned int k;

	if (set->nfields == DRVSLICE_ALL_FIELDS)
		return 1;
	for (k = 0; k < set->nfields; k++)
		if (set->fields[k] == id)
			return 1;
	return 0;
}

/*
 * Where a message's (handle, offset) lands on this side, before the
 * message's new copies are made: an address in memory this side has (@obj
 * 0), or an offset in a copy the message announces and this side has yet
 * to make (@obj: 1 + its index; a child's place followed to its parent's).
 */
struct place {
	unsigned int obj;
	unsigned long at;
};

static int place_of(struct drvslice_side *s, const struct parsed *m, u64_t h,
		    unsigned long off, struct place *pl)
{
	unsigned int i, hops, room;
	void *p;

	for (hops = 0; h && hops <= m->nobjs; hops++) {
		if (by_handle(s, h) || (h & DRVSLICE_H_KIND) == DRVSLICE_H_GLOBAL) {
			if (off > 0xffffffffUL ||
			    ptr_in(s, h, (unsigned int)off, &p, &room, "SLICE_STRUCT"))
				return -EINVAL;
			pl->obj = 0;
			pl->at = (unsigned long)p;
			return 0;
		}
		for (i = 0; i < m->nobjs && m->objs[i].h != h; i++)
			;
		if (i == m->nobjs)
			return -EINVAL;
		if (!m->objs[i].parent) {
			pl->obj = i + 1;
			pl->at = off;
			return 0;
		}
		off += m->objs[i].parent_off;
		h = m->objs[i].parent;
	}
	return -EINVAL;
}

/*
 * Whether this side finds a struct of @type for the call at @pl, by the
 * rules instances() gives the sender: an argument pointing to one (the
 * caller's @callargs when this side made the call, else the message's),
 * an object of the type (this side's, or a copy the message announces),
 * a global of the type, or a member of the type in a struct that is one.
 */
static int is_instance(struct drvslice_side *s, const struct parsed *m,
		       const struct drvslice_entry *e, void *const callargs[],
		       unsigned short type, const struct place *pl, int depth)
{
	const struct drvslice_driver *d = s->drv;
	const char *name = d->types[type].name;
	unsigned int i, off, size = d->types[type].size;
	struct place q;
	u64_t h;

	for (i = 0; i < e->nargs; i++) {
		if (!is_ptr(e->args[i].kind) || !e->args[i].pointee ||
		    strcmp(e->args[i].pointee, name))
			continue;
		if (callargs) {
			void *p;

			memcpy(&p, callargs[i], sizeof(p));
			q.obj = 0;
			q.at = (unsigned long)p;
			if (!p)
				continue;
		} else {
			if (i >= m->nargs || m->args[i].n != PTR_BYTES)
				continue;
			get_ptr(m->args[i].v, &h, &off);
			if (place_of(s, m, h, off, &q))
				continue;
		}
		if (q.obj == pl->obj && q.at == pl->at)
			return 1;
	}
	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i].type == type && s->objs[i].size >= size && !pl->obj &&
		    pl->at == (unsigned long)s->objs[i].ptr)
			return 1;
	for (i = 0; i < m->nobjs; i++)
		if (m->objs[i].type == type && m->objs[i].size >= size &&
		    !by_handle(s, m->objs[i].h) && !place_of(s, m, m->objs[i].h, 0, &q) &&
		    q.obj == pl->obj && q.at == pl->at)
			return 1;
	for (i = 0; i < d->nglobals; i++)
		if (d->globals[i].type == type && !pl->obj &&
		    pl->at == (unsigned long)d->globals[i].ptr)
			return 1;
	if (depth >= NEST_DEPTH)
		return 0;
	for (i = 0; i < d->nembeds; i++) {
		if (d->embeds[i].inner != type || d->embeds[i].outer == type ||
		    pl->at < d->embeds[i].offset)
			continue;
		q.obj = pl->obj;
		q.at = pl->at - d->embeds[i].offset;
		if (is_instance(s, m, e, callargs, d->embeds[i].outer, &q, depth + 1))
			return 1;
	}
	return 0;
}

/* One SLICE_FIELD of a struct of type @ty at @inst: checked (store == 0)
 * or stored, and in @base too (the struct lies in a copy: the value is its
 * owner's last known one). */
static int field(struct drvslice_side *s, const struct parsed *m,
		 const struct drvslice_entry *e, const struct drvslice_type *ty,
		 const struct drvslice_set *set, char *inst, char *base,
		 const struct sattr *fa, int store)
{
	const unsigned char *q = fa->v, *end = fa->v + fa->n;
	const struct drvslice_field *f = NULL;
	const unsigned char *v = NULL;
	unsigned int want, vn = 0;
	unsigned short id;
	struct sattr x;
	int r;

	while ((r = next_attr(&q, end, &x)) > 0) {
		if (x.type == DRVXPC_A_SLICE_FIELD_ID && x.n == 2 && !f) {
			memcpy(&id, x.v, 2);
			if (id >= ty->nfields || !set_has(set, id))
				return fail(s, -EINVAL, "%s: %s field %u does not cross here",
					    e->name, ty->name, id);
			f = &ty->fields[id];
		} else if (x.type == DRVXPC_A_SLICE_FIELD_VALUE && f && !v) {
			v = x.v;
			vn = x.n;
		} else {
			return fail(s, -EINVAL, "SLICE_FIELD: unexpected attribute %u", x.type);
		}
	}
	if (r < 0 || !v)
		return fail(s, -EINVAL, "%s: malformed SLICE_FIELD", ty->name);
	want = ptr_field(f) ? PTR_BYTES :
	       f->kind == DRVSLICE_F_BITS ? BITS_BYTES : f->size;
	if (vn != want)
		return fail(s, -EINVAL, "%s: %u bytes, expected %u", f->name, vn, want);
	if (ptr_field(f)) {
		unsigned int off, room;
		void *pv;
		u64_t h;

		if (!store) {
			r = check_ptr(s, m, v, &room, f->name);
			/* A counted array: with its count, after the fields. */
			return r || count_field(ty, f) ? r :
			       check_pointee(s, m, f, v, room, f->size);
		}
		get_ptr(v, &h, &off);
		r = ptr_in(s, h, off, &pv, &room, f->name);
		if (!r)
			memcpy(inst + f->offset, &pv, sizeof(pv));
		if (!r && base)
			memcpy(base + f->offset, &pv, sizeof(pv));
		return r;
	}
	if (f->kind == DRVSLICE_F_BITS) {
		unsigned int first = f->offset / 8;
		unsigned int last = (f->offset + f->size + 7) / 8;
		u64_t val;

		memcpy(&val, v, 8);
		if (f->size > 56 || last - first > 8 || (val >> f->size))
			return fail(s, -EINVAL, "%s: %llu does not fit %u bits",
				    f->name, val, f->size);
		if (store)
			bits_set(f, inst, val);
		if (store && base)
			bits_set(f, base, val);
		return 0;
	}
	if (store)
		memcpy(inst + f->offset, v, f->size);
	if (store && base)
		memcpy(base + f->offset, v, f->size);
	return 0;
}

/* Checks (store == 0) or stores (store == 1) the SLICE_STRUCTs: each names
 * where its struct is (an ARG), its type, then its fields.  A struct is
 * taken only where this side finds one of its type for the call, at that
 * very place (is_instance): an object's type, an embedded member's offset
 * and an argument are this side's to know, not the sender's to say.
 * @callargs: the caller's arguments when this side made the call (a
 * reply), NULL when it serves it. */
static int structs(struct drvslice_side *s, const struct parsed *m,
		   const struct drvslice_entry *e, void *const callargs[],
		   const struct drvslice_set *sets, unsigned int nsets, int store)
{
	const struct drvslice_driver *d = s->drv;
	unsigned int i;

	for (i = 0; i < m->nstructs; i++) {
		const unsigned char *p = m->structs[i].v;
		const unsigned char *end = p + m->structs[i].n;
		const struct drvslice_set *set = NULL;
		const struct drvslice_type *ty = NULL;
		unsigned int room = 0, off = 0;
		const unsigned char *where_v = NULL;
		unsigned short type;
		char *inst = NULL, *base = NULL;
		struct sattr a;
		int r, where = 0;
		u64_t h = 0;

		while ((r = next_attr(&p, end, &a)) > 0) {
			if (a.type == DRVXPC_A_SLICE_ARG && a.n == PTR_BYTES && !where) {
				where = 1;
				where_v = a.v;
				get_ptr(a.v, &h, &off);
				r = store ? ptr_in(s, h, off, (void **)&inst, &room, "SLICE_STRUCT") :
					    check_ptr(s, m, a.v, &room, "SLICE_STRUCT");
			} else if (a.type == DRVXPC_A_SLICE_STRUCT_ID && a.n == 2 && where && !ty) {
				memcpy(&type, a.v, 2);
				if (!type || type >= d->ntypes)
					return fail(s, -EINVAL, "SLICE_STRUCT_ID: %u", type);
				ty = &d->types[type];
				set = set_for(sets, nsets, type);
				if (!set)
					return fail(s, -EINVAL, "%s: %s does not cross here", e->name, ty->name);
				if (room < ty->size)
					return fail(s, -EINVAL, "%s: %s: %u bytes of object for %u",
						    e->name, ty->name, room, ty->size);
				r = store ? 0 : aligned(s, where_v, type, e->name);
				if (store)
					base = base_of(s, inst, ty->size);
				if (!r && !store) {
					struct place pl;

					if (place_of(s, m, h, off, &pl) ||
					    !is_instance(s, m, e, callargs, type, &pl, 0))
						return fail(s, -EPERM, "SLICE_STRUCT: %s: no %s of the call at %#llx offset %u",
							    e->name, ty->name, h, off);
				}
			} else if (a.type == DRVXPC_A_SLICE_FIELD && a.nested && ty) {
				r = field(s, m, e, ty, set, inst, base, &a, store);
			} else {
				return fail(s, -EINVAL, "SLICE_STRUCT: unexpected attribute %u", a.type);
			}
			if (r)
				return r;
		}
		if (r < 0 || !ty)
			return fail(s, -EINVAL, "SLICE_STRUCT: malformed or without its type");
		if (!store) {
			r = check_counted(s, m, ty, m->structs[i].v, end);
			if (r)
				return r;
		}
	}
	return 0;
}

/* The announced objects this side does not have yet: shadows, a child
 * inside its parent's copy. */
static int make_shadows(struct drvslice_side *s, const struct parsed *m)
{
	unsigned int i;

	for (i = 0; i < m->nobjs; i++) {
		const struct announced *o = &m->objs[i];
		struct drvslice_obj *c;
		unsigned int room;
		void *p;

		c = by_handle(s, o->h);
		if (c) {
			/* Bytes its owner sent again: a copy holds them. */
			if (o->content && c->shadow && c->size == o->ncontent) {
				memcpy(c->ptr, o->content, o->ncontent);
				if (c->base)
					memcpy(c->base, o->content, o->ncontent);
			}
			continue;
		}
		if (o->parent) {
			if (ptr_in(s, o->parent, o->parent_off, &p, &room, "SLICE_OBJECT parent"))
				return -EINVAL;
			if (room < o->size)
				return fail(s, -EINVAL, "SLICE_OBJECT %#llx: %u bytes in %u", o->h, o->size, room);
		} else {
			/* The copy, then its base (both zeroed). */
			p = s->alloc ? s->alloc(o->size ? 2 * o->size : 1) : NULL;
			if (!p)
				return fail(s, -ENOMEM, "no memory for a copy of %u bytes", o->size);
		}
		if (!add(s, p, o->size, o->type, o->h, 1)) {
			if (!o->parent && s->free)
				s->free(p);
			return fail(s, -ENOSPC, "no room for object %#llx", o->h);
		}
		c = &s->objs[s->nobjs - 1];
		c->parent = o->parent;
		c->parent_off = o->parent_off;
		c->depth = (o->h & DRVSLICE_H_CALL) ? s->depth : 0;
		if (!o->parent) {
			c->base = o->size ? (char *)p + o->size : NULL;
		} else {
			/* A child's base lies in its parent's (a copy's). */
			const struct drvslice_obj *po = by_handle(s, o->parent);

			c->base = po && po->shadow && po->base ?
				  (char *)po->base + o->parent_off : NULL;
		}
		if (o->content) {
			memcpy(c->ptr, o->content, o->ncontent);
			if (c->base)
				memcpy(c->base, o->content, o->ncontent);
		}
	}
	return 0;
}

/*
 * The copies of the objects the sender untracked (SLICE_DROP), and the copies
 * inside them.  Only a kept copy of one of the sender's: never an object of
 * this side's own, nor a copy made for a call in progress (it goes when the
 * call ends).  A handle this side has no copy of is nothing to drop.
 */
static void apply_drops(struct drvslice_side *s, const struct parsed *m)
{
	u64_t theirs = s->kernel ? DRVSLICE_H_USER : DRVSLICE_H_KERNEL;
	unsigned int i, k;

	for (k = 0; k < m->ndrops; k++) {
		if ((m->drops[k] & DRVSLICE_H_KIND) != theirs)
			continue;
		for (i = 0; i < s->nobjs; i++)
			if (s->objs[i].handle == m->drops[k]) {
				if (s->objs[i].shadow && !s->objs[i].depth)
					drop(s, i);
				break;
			}
	}
}

/* Announced objects whose parent is announced too must come after it. */
static int check_objects(struct drvslice_side *s, const struct parsed *m)
{
	unsigned int i, j;

	for (i = 0; i < m->nobjs; i++) {
		const struct announced *o = &m->objs[i];

		if (!o->parent)
			continue;
		if (o->parent_off % 8)
			return fail(s, -EINVAL, "SLICE_OBJECT %#llx: not aligned in its parent", o->h);
		if (by_handle(s, o->parent)) {
			/* A new copy lies in a copy: never in memory of this
			 * side's own (a typed object the sender could then
			 * write inside a net_device). */
			if (!by_handle(s, o->h) && !by_handle(s, o->parent)->shadow)
				return fail(s, -EPERM, "SLICE_OBJECT %#llx: inside %#llx, an object of this side's",
					    o->h, o->parent);
			continue;
		}
		for (j = 0; j < i; j++)
			if (m->objs[j].h == o->parent)
				break;
		if (j == i)
			return fail(s, -EINVAL, "SLICE_OBJECT %#llx: parent %#llx unknown", o->h, o->parent);
		if (o->parent_off > m->objs[j].size ||
		    o->size > m->objs[j].size - o->parent_off)
			return fail(s, -EINVAL, "SLICE_OBJECT %#llx: outside its parent", o->h);
	}
	return 0;
}

static const struct drvslice_target *target(const struct drvslice_side *s,
					    unsigned short id)
{
	const struct drvslice_target *t = s->drv->targets;

	if (id >= DRVSLICE_API_BASE)
		t = s->api ? s->api->targets : NULL;
	for (; t && t->name; t++)
		if (t->id == id && t->call)
			return t;
	return NULL;
}

/* Argument @i of a call: its bytes checked against the callee's entry. */
static int check_arg(struct drvslice_side *s, const struct parsed *m,
		     const struct drvslice_entry *e, unsigned int i)
{
	const struct drvslice_arg *ad = &e->args[i];
	const struct sattr *a = &m->args[i];
	unsigned int room;
	u64_t h;
	unsigned int off;
	int err;

	switch (ad->kind) {
	case DRVSLICE_A_FN:
		if (a->n != PTR_BYTES)
			break;
		get_ptr(a->v, &h, &off);
		if ((h & DRVSLICE_H_KIND) != DRVSLICE_H_FN || off)
			return fail(s, -EPERM, "%s: argument %u is no function", e->name, i);
		{
			const struct drvslice_target *t;
			u64_t id = h & ~DRVSLICE_H_KIND;

			for (t = s->drv->targets; t && t->name; t++)
				if (t->id == id)
					return 0;
		}
		return fail(s, -EPERM, "%s: argument %u is no function of this half", e->name, i);
	case DRVSLICE_A_OUT:
		if (a->n == 4) {
			unsigned int n;

			memcpy(&n, a->v, 4);
			if (n <= ad->size && n <= DRVSLICE_VALUE_MAX)
				return 0;
			return fail(s, -EINVAL, "%s: argument %u: %u bytes out, at most %u",
				    e->name, i, n, ad->size);
		}
		break;
	case DRVSLICE_A_PTR:
	case DRVSLICE_A_OWN:
		if (a->n != PTR_BYTES)
			break;
		err = check_ptr(s, m, a->v, &room, e->name);
		if (err)
			return err;
		get_ptr(a->v, &h, &off);
		/* One past an object's end is a value a field may hold, not
		 * an argument: the callee would read past the object (or the
		 * start of whatever lies after it). */
		if (h && !room && off)
			return fail(s, -EINVAL, "%s: argument %u: one past the end of object %#llx",
				    e->name, i, h);
		if (ad->kind == DRVSLICE_A_OWN) {
			/* Only an object this side made: never a copy of the
			 * caller's, a global or a function. */
			const struct drvslice_obj *o = by_handle(s, h);

			if (!o || o->shadow || !o->size)
				return fail(s, -EPERM, "%s: argument %u is no object of this side (%#llx: %s)",
					    e->name, i, h,
					    !o ? "not known" : o->shadow ?
					    "a copy of the caller's" : "an opaque handle");
		}
		/* A struct the callee's code will read: all of it must be
		 * there, aligned (the kernel's code takes no NULL from user
		 * space). */
		{
			unsigned short t = drvslice_type_named(s, ad->pointee);

			if (t && !h && s->kernel)
				return fail(s, -EINVAL, "%s: argument %u: NULL", e->name, i);
			if (t && h && room < s->drv->types[t].size)
				return fail(s, -EINVAL, "%s: argument %u: %u bytes of %s, %u needed",
					    e->name, i, room, ad->pointee, s->drv->types[t].size);
			if (t && h && aligned(s, a->v, t, e->name))
				return -EINVAL;
		}
		return 0;
	case DRVSLICE_A_BUF: {
		/* As many bytes as its length argument says (or @size), at
		 * most @size: the callee reads that many. */
		unsigned long long want = ad->size;

		if (a->n > ad->size || a->n > DRVSLICE_VALUE_MAX)
			return fail(s, -EINVAL, "%s: argument %u: %u bytes, at most %u",
				    e->name, i, a->n, ad->size);
		if (!ad->len_arg)
			break;
		if (ad->len_arg > e->nargs || ad->len_arg > m->nargs || ad->len_size > sizeof(want) ||
		    e->args[ad->len_arg - 1].kind != DRVSLICE_A_VALUE ||
		    m->args[ad->len_arg - 1].n < ad->len_size)
			return fail(s, -EINVAL, "%s: argument %u: its length is no argument", e->name, i);
		want = 0;
		memcpy(&want, m->args[ad->len_arg - 1].v, ad->len_size);
		if (a->n == want)
			return 0;
		return fail(s, -EINVAL, "%s: argument %u: %u bytes, its length (argument %u) says %llu",
			    e->name, i, a->n, ad->len_arg - 1, want);
	}
	case DRVSLICE_A_INOUT:
		if (a->n <= ad->size &&
		    a->n <= (s->kernel ? DRVSLICE_VALUE_MAX : DRVSLICE_INOUT_MAX))
			return 0;
		return fail(s, -EINVAL, "%s: argument %u: %u bytes, at most %u", e->name,
			    i, a->n, s->kernel ? DRVSLICE_VALUE_MAX : DRVSLICE_INOUT_MAX);
	case DRVSLICE_A_STR:
		if (a->n && a->n <= ad->size && a->n <= DRVSLICE_VALUE_MAX &&
		    !a->v[a->n - 1])
			return 0;
		return fail(s, -EINVAL, "%s: argument %u: not a string of at most %u bytes",
			    e->name, i, ad->size);
	default:
		if (a->n == ad->size && a->n <= DRVSLICE_VALUE_MAX)
			return 0;
	}
	if (ad->kind == DRVSLICE_A_BUF && a->n == ad->size)
		return 0;
	return fail(s, -EINVAL, "%s: argument %u: %u bytes, expected %u", e->name,
		    i, a->n, is_ptr(ad->kind) ? PTR_BYTES : ad->size);
}

int drvslice_serve(struct drvslice_side *s, const unsigned char *msg,
		   unsigned int len, unsigned char *out, unsigned int cap)
{
	/* An argument's value, or the bytes an A_BUF/A_STR points to. */
	unsigned char vals[DRVSLICE_ARGS_MAX][DRVSLICE_VALUE_MAX];
	unsigned char ret[DRVSLICE_VALUE_MAX];
	void *args[DRVSLICE_ARGS_MAX], *argp[DRVSLICE_ARGS_MAX];
	u64_t argh[DRVSLICE_ARGS_MAX];	/* the objects argp point into */
	/* A_INOUT bytes over DRVSLICE_VALUE_MAX (the u-driver's side). */
	void *big[DRVSLICE_ARGS_MAX] = { NULL };
	void *inout[DRVSLICE_ARGS_MAX];
	struct drvslice_set tmp[DRVSLICE_ARGS_MAX];
	const struct drvslice_set *in;
	const struct drvslice_entry *e;
	const struct drvslice_target *t;
	struct sbuf b = { out, 0, cap, 0 };
	struct named nm = { .n = 0 };
	struct parsed *m = scratch(s);
	unsigned int i, room, nin, outn[DRVSLICE_ARGS_MAX];
	int err;

	s->why[0] = 0;
	s->called = 0;
	err = parse(s, msg, len, m);
	if (err)
		return err;
	/* What the caller untracked before it called goes first: the call
	 * cannot name it. */
	apply_drops(s, m);
	e = entry_for(s, m->entry);
	if (!e)
		return fail(s, -EINVAL, "SLICE_ENTRY: no entry %u", m->entry);
	t = target(s, m->entry);
	if (!t || e->dir != (s->kernel ? DRVSLICE_DOWN : DRVSLICE_UP))
		return fail(s, -EINVAL, "SLICE_ENTRY: %s is not served by this half", e->name);
	if (m->nargs != e->nargs || m->has_ret || e->nargs > DRVSLICE_ARGS_MAX)
		return fail(s, -EINVAL, "%s: %u arguments, expected %u", e->name, m->nargs, e->nargs);
	if (e->ret_size > DRVSLICE_VALUE_MAX)
		return fail(s, -EINVAL, "%s: a %u-byte result", e->name, e->ret_size);
	err = check_objects(s, m);
	for (i = 0; !err && i < e->nargs; i++)
		err = check_arg(s, m, e, i);
	nin = sets_of(s, e, 0, tmp, &in);
	if (!err)
		err = structs(s, m, e, NULL, in, nin, 0);
	if (err)
		return err;

	/* Checked: now it happens. */
	s->depth++;
	err = make_shadows(s, m);
	if (err)
		goto end;
	for (i = 0; i < e->nargs; i++) {
		unsigned int off;
		u64_t h;

		args[i] = vals[i];
		argp[i] = NULL;
		argh[i] = 0;
		switch (e->args[i].kind) {
		case DRVSLICE_A_PTR:
		case DRVSLICE_A_OWN:
		case DRVSLICE_A_FN:
			get_ptr(m->args[i].v, &h, &off);
			argh[i] = h;
			err = ptr_in(s, h, off, &argp[i], &room, e->name);
			if (err)
				goto end;
			memcpy(vals[i], &argp[i], sizeof(void *));
			break;
		case DRVSLICE_A_BUF:
		case DRVSLICE_A_STR:
			/* The bytes, then a pointer to them in front; the rest
			 * of the buffer zeroed (none of this stack's past). */
			args[i] = &argp[i];
			argp[i] = vals[i];
			memcpy(vals[i], m->args[i].v, m->args[i].n);
			memset(vals[i] + m->args[i].n, 0, sizeof(vals[i]) - m->args[i].n);
			break;
		case DRVSLICE_A_OUT:
			args[i] = &argp[i];
			argp[i] = vals[i];
			memcpy(&outn[i], m->args[i].v, 4);
			memset(vals[i], 0, sizeof(vals[i]));
			break;
		case DRVSLICE_A_INOUT:
			/* Its bytes in a buffer of this call's; NULL: none.
			 * The pointer the callee gets is kept apart (it may
			 * change its parameter). */
			outn[i] = m->args[i].n;
			inout[i] = NULL;
			if (outn[i] > sizeof(vals[i])) {
				big[i] = s->alloc ? s->alloc(outn[i]) : NULL;
				if (!big[i]) {
					err = fail(s, -ENOMEM, "%s: argument %u: no memory for %u bytes",
						   e->name, i, outn[i]);
					goto end;
				}
				inout[i] = big[i];
			} else if (outn[i]) {
				inout[i] = vals[i];
			}
			if (outn[i])
				memcpy(inout[i], m->args[i].v, outn[i]);
			argp[i] = inout[i];
			args[i] = &argp[i];
			break;
		default:
			memcpy(vals[i], m->args[i].v, m->args[i].n);
			memset(vals[i] + m->args[i].n, 0, sizeof(vals[i]) - m->args[i].n);
		}
	}
	err = structs(s, m, e, NULL, in, nin, 1);
	if (err)
		goto end;
	memset(ret, 0, sizeof(ret));
	/* The call may make calls of its own: the scratch (m) is theirs now. */
	err = t->call(args, ret);
	/* After it: a call it made served here cleared it. */
	s->called = 1;
	if (err)
		goto end;
	/* An argument's object the call untracked (or whose copy a message
	 * of the other side's dropped meanwhile) is no struct to send back:
	 * its memory may be gone. */
	for (i = 0; i < e->nargs; i++)
		if (((argh[i] & DRVSLICE_H_KIND) == DRVSLICE_H_KERNEL ||
		     (argh[i] & DRVSLICE_H_KIND) == DRVSLICE_H_USER) && !by_handle(s, argh[i]))
			argp[i] = NULL;
	put_drops(s, &b);
	if (e->flags & DRVSLICE_E_RET_PTR) {
		/* A pointer result: the object it points into is named below. */
		unsigned char v[PTR_BYTES];
		unsigned int off;
		void *r;
		u64_t h;

		memcpy(&r, ret, sizeof(r));
		err = ptr_out(s, r, &h, &off, &nm);
		if (err)
			goto end;
		put_ptr(v, h, off);
		put(&b, DRVXPC_A_SLICE_RET, v, PTR_BYTES);
	} else if (e->ret_size) {
		put(&b, DRVXPC_A_SLICE_RET, ret, e->ret_size);
	}
	for (i = 0; i < e->nargs; i++) {
		if (e->args[i].kind == DRVSLICE_A_OUT)
			put(&b, DRVXPC_A_SLICE_ARG, vals[i], outn[i]);
		if (e->args[i].kind == DRVSLICE_A_INOUT)
			put(&b, DRVXPC_A_SLICE_ARG, inout[i], outn[i]);
		if (!is_ptr(e->args[i].kind))
			argp[i] = NULL;	/* a buffer is no struct to send back */
	}
	err = put_sets(s, &b, e, 1, argp, &nm, 0);
	if (err)
		goto end;
	if (nm.full) {
		err = fail(s, -E2BIG, "%s: more than 64 objects", e->name);
		goto end;
	}
	name_devices(s, &nm);
	put_objects(s, &b, &nm);
	err = b.err ? fail(s, b.err, "%s: the reply does not fit in %u bytes", e->name, cap) :
		      (int)b.len;
	if (err >= 0) {
		put_sets(s, &b, e, 1, argp, &nm, 1);
		s->ndropped = 0;
	}
end:
	for (i = s->nobjs; i-- > 0;)
		if (s->objs[i].depth >= s->depth)
			drop(s, i);
	for (i = 0; i < DRVSLICE_ARGS_MAX; i++)
		if (big[i] && s->free)
			s->free(big[i]);
	s->depth--;
	return err;
}

/* The reply @pm to the call @e: checked whole, then stored. */
static int reply_in(struct drvslice_side *s, const struct drvslice_entry *e,
		    void *const args[], const struct parsed *pm, void *ret)
{
	struct drvslice_set tmp[DRVSLICE_ARGS_MAX];
	const struct drvslice_set *outs;
	unsigned int nout, i, k, nouts = 0, rsize;
	int err;

	for (i = 0; i < e->nargs; i++)
		nouts += e->args[i].kind == DRVSLICE_A_OUT ||
			 e->args[i].kind == DRVSLICE_A_INOUT;
	if (pm->entry || pm->nargs != nouts)
		return fail(s, -EINVAL, "%s: a reply with an entry, or %u arguments for %u out",
			    e->name, pm->nargs, nouts);
	for (i = 0, k = 0; i < e->nargs; i++) {
		unsigned int n;

		if (e->args[i].kind != DRVSLICE_A_OUT &&
		    e->args[i].kind != DRVSLICE_A_INOUT)
			continue;
		err = e->args[i].kind == DRVSLICE_A_OUT ? buf_len(s, e, i, args, &n) :
		      inout_len(s, e, i, args, &n);
		if (err)
			return err;
		if (pm->args[k].n != n)
			return fail(s, -EINVAL, "%s: argument %u: %u bytes out, expected %u",
				    e->name, i, pm->args[k].n, n);
		k++;
	}
	rsize = (e->flags & DRVSLICE_E_RET_PTR) ? PTR_BYTES : e->ret_size;
	if ((rsize && (!pm->has_ret || pm->ret.n != rsize)) ||
	    (!rsize && pm->has_ret))
		return fail(s, -EINVAL, "%s: SLICE_RET: %u bytes, expected %u", e->name,
			    pm->has_ret ? pm->ret.n : 0, rsize);
	nout = sets_of(s, e, 1, tmp, &outs);
	err = check_objects(s, pm);
	if (!err)
		err = structs(s, pm, e, args, outs, nout, 0);
	if (!err)
		err = make_shadows(s, pm);
	if (!err)
		err = structs(s, pm, e, args, outs, nout, 1);
	if (err)
		return err;
	if (e->flags & DRVSLICE_E_RET_PTR) {
		unsigned int off, room;
		void *r;
		u64_t h;

		get_ptr(pm->ret.v, &h, &off);
		err = ptr_in(s, h, off, &r, &room, "SLICE_RET");
		if (err)
			return err;
		memcpy(ret, &r, sizeof(r));
	} else if (e->ret_size) {
		memcpy(ret, pm->ret.v, e->ret_size);
	}
	for (i = 0, k = 0; i < e->nargs; i++) {
		void *p;

		if (e->args[i].kind != DRVSLICE_A_OUT &&
		    e->args[i].kind != DRVSLICE_A_INOUT)
			continue;
		memcpy(&p, args[i], sizeof(p));
		if (pm->args[k].n)
			memcpy(p, pm->args[k].v, pm->args[k].n);
		k++;
	}
	return 0;
}

int drvslice_decode_state(struct drvslice_side *s, const unsigned char *msg,
			  unsigned int len)
{
	struct parsed *pm = scratch(s);
	unsigned int i;
	int err;

	s->why[0] = 0;
	if (s->kernel)
		return fail(s, -EPERM, "%s: only the kernel sends it", adoption.name);
	err = parse(s, msg, len, pm);
	if (err)
		return err;
	if (pm->entry || pm->nargs || pm->has_ret || pm->ndrops)
		return fail(s, -EINVAL, "%s: an entry, arguments, a result or drops", adoption.name);
	/* The kernel's objects only: the u-driver adopting the device has
	 * none the kernel could know. */
	for (i = 0; i < pm->nobjs; i++)
		if ((pm->objs[i].h & DRVSLICE_H_KIND) != DRVSLICE_H_KERNEL)
			return fail(s, -EINVAL, "%s: object %#llx is not the kernel's",
				    adoption.name, pm->objs[i].h);
	err = check_objects(s, pm);
	if (!err)
		err = structs(s, pm, &adoption, NULL, NULL, DRVSLICE_ALL_TYPES, 0);
	if (!err)
		err = make_shadows(s, pm);
	if (!err)
		err = structs(s, pm, &adoption, NULL, NULL, DRVSLICE_ALL_TYPES, 1);
	return err;
}

int drvslice_decode_reply(struct drvslice_side *s,
			  const struct drvslice_entry *e, void *const args[],
			  const unsigned char *msg, unsigned int len, void *ret)
{
	struct parsed *pm = scratch(s);
	int err;

	err = parse(s, msg, len, pm);
	if (err)
		return err;
	err = reply_in(s, e, args, pm, ret);
	/* What the callee untracked goes last: the caller's arguments may
	 * point into it until the reply is stored. */
	apply_drops(s, pm);
	return err;
}
