// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the sliced drivers' runtime core (module/slice_core.c
 * as it is): a message from the other side is served (kernel side, user
 * side) or taken as the reply to a call, against a driver description of
 * the generated kind (bytes, pointer and bitfield fields, a string, an
 * array of fixed length, one of a field's length and one that ends with a
 * sentinel, an embedded
 * struct, globals, an entry each way) and a kernel API entry with every
 * kind of argument.  The functions it runs write the whole struct they are
 * given and every buffer, so that a pointer the core hands over that is
 * shorter than its type, or a buffer shorter than said, is an ASan report.
 * The u-driver (mode 1) has served one upcall before the input, so that
 * copies of the kernel's objects exist for the input's fields, pointers
 * and SLICE_DROPs to meet.  Mode 4 is the state a u-driver adopting a
 * probed device stores (drvslice_decode_state), on a fresh user side.
 * After each input: no call left open, the table
 * within its bounds, and every copy freed when the side is reset
 * (LeakSanitizer).
 *
 * Built with -DSLICE_SEEDS instead, it writes valid calls and replies
 * (from drvslice_encode_call and drvslice_serve) as the seed corpus:
 *   slice-seeds DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drvslice.h"

struct inner {
	int a;
	unsigned long b;
};

struct obj {
	int x;
	unsigned char mac[6];
	unsigned int flags:3;
	unsigned int more:5;
	void *p;
	struct inner in;
	struct obj *next;
	char *name;	/* nullterm */
	int *tab;	/* array 4 */
	unsigned short nrates;
	int *rates;	/* array nrates */
	unsigned short *lv;	/* sentinel 0xffff */
};

static struct obj g_obj;
static char g_buf[32];

enum { T_OBJ = 1, T_INNER = 2, NTYPES = 3 };
enum { E_KFN = 1, E_UFN = 2, NENTRIES = 3 };

static const struct drvslice_field obj_fields[] = {
	{ "obj.x", __builtin_offsetof(struct obj, x), sizeof(int), DRVSLICE_F_BYTES, 0, 0 },
	{ "obj.mac", __builtin_offsetof(struct obj, mac), 6, DRVSLICE_F_BYTES, 0, 0 },
	{ "obj.flags", 80, 3, DRVSLICE_F_BITS, 0, 0 },
	{ "obj.p", __builtin_offsetof(struct obj, p), sizeof(void *), DRVSLICE_F_POINTER, 0, 0 },
	{ "obj.next", __builtin_offsetof(struct obj, next), sizeof(void *), DRVSLICE_F_POINTER, 0, 0 },
	{ "obj.name", __builtin_offsetof(struct obj, name), sizeof(char *), DRVSLICE_F_STRING, 0, 0 },
	{ "obj.tab", __builtin_offsetof(struct obj, tab), 4 * sizeof(int), DRVSLICE_F_ARRAY, 0, 0 },
	{ "obj.nrates", __builtin_offsetof(struct obj, nrates), sizeof(unsigned short), DRVSLICE_F_BYTES, 0, 0 },
	{ "obj.rates", __builtin_offsetof(struct obj, rates), sizeof(int), DRVSLICE_F_ARRAY, 8, 0 },
	{ "obj.lv", __builtin_offsetof(struct obj, lv), sizeof(unsigned short), DRVSLICE_F_SENTINEL, 0, 0xffff },
};
static const struct drvslice_field inner_fields[] = {
	{ "inner.a", __builtin_offsetof(struct inner, a), sizeof(int), DRVSLICE_F_BYTES, 0, 0 },
	{ "inner.b", __builtin_offsetof(struct inner, b), sizeof(long), DRVSLICE_F_BYTES, 0, 0 },
};
static const struct drvslice_type types[] = {
	{ "", 0, 0, NULL, 1 },
	{ "obj", sizeof(struct obj), 10, obj_fields, __alignof__(struct obj) },
	{ "inner", sizeof(struct inner), 2, inner_fields, __alignof__(struct inner) },
};
static const struct drvslice_embed embeds[] = {
	{ T_OBJ, T_INNER, __builtin_offsetof(struct obj, in) },
};
static const struct drvslice_global globals[] = {
	{ "g_obj", &g_obj, sizeof(g_obj), T_OBJ },
	{ "g_buf", g_buf, sizeof(g_buf), 0 },
};

static const unsigned short all_obj[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, all_inner[] = { 0, 1 };
static const unsigned short obj_x_flags_p[] = { 0, 2, 3 }, obj_x_mac[] = { 0, 1, 5, 6, 7, 8, 9 };
static const unsigned short inner_a[] = { 0 }, inner_b[] = { 1 }, obj_next[] = { 4 };

static const struct drvslice_set kfn_in[] = { { T_OBJ, 10, all_obj }, { T_INNER, 2, all_inner } };
static const struct drvslice_set kfn_out[] = { { T_OBJ, 3, obj_x_flags_p } };
static const struct drvslice_set ufn_in[] = { { T_OBJ, 7, obj_x_mac }, { T_INNER, 1, inner_a } };
static const struct drvslice_set ufn_out[] = { { T_INNER, 1, inner_b }, { T_OBJ, 1, obj_next } };

static const struct drvslice_arg kfn_args[] = {
	{ sizeof(void *), DRVSLICE_A_PTR, "obj", 0, 0, 0 },
	{ sizeof(int), DRVSLICE_A_VALUE, NULL, 0, 0, 0 },
};
static const struct drvslice_arg ufn_args[] = {
	{ sizeof(void *), DRVSLICE_A_PTR, "obj", 0, 0, 0 },
	{ sizeof(void *), DRVSLICE_A_PTR, "inner", 0, 0, 0 },
	/* Bytes that go and come back; their length after the arguments. */
	{ DRVSLICE_INOUT_MAX, DRVSLICE_A_INOUT, NULL, 4, sizeof(unsigned int), 0 },
};
static const struct drvslice_entry kfn_entry = {
	E_KFN, DRVSLICE_DOWN, 2, "kfn", kfn_args, sizeof(int), 2, 1, kfn_in, kfn_out, 0
};
static const struct drvslice_entry ufn_entry = {
	E_UFN, DRVSLICE_UP, 3, "ufn", ufn_args, 0, 2, 2, ufn_in, ufn_out, 0
};
static const struct drvslice_entry *const entries[] = { NULL, &kfn_entry, &ufn_entry };

/* Each writes all of what it is given. */
static int kfn(struct obj *o, int v)
{
	memset(o, 0x5a, sizeof(*o));
	o->x = v;
	o->p = g_buf;
	o->next = NULL;
	return v + 1;
}

static void ufn(struct obj *o, struct inner *in, unsigned char *buf)
{
	if (buf)
		buf[0] ^= 1;
	if (o) {
		memset(o->mac, 0xa5, sizeof(o->mac));
		o->next = o;
	}
	if (in)
		in->b = (unsigned long)in->a * 3;
}

static int kfn_call(void *const args[], void *ret)
{
	*(int *)ret = kfn(*(struct obj **)args[0], *(int *)args[1]);
	return 0;
}

static int ufn_call(void *const args[], void *ret)
{
	(void)ret;
	ufn(*(struct obj **)args[0], *(struct inner **)args[1],
	    *(unsigned char **)args[2]);
	return 0;
}

static const struct drvslice_target kernel_targets[] = {
	{ E_KFN, "kfn", (const void *)kfn, kfn_call }, { 0, NULL, NULL, NULL }
};
static const struct drvslice_target kernel_stubs[] = {
	{ E_UFN, "ufn", (const void *)ufn, NULL }, { 0, NULL, NULL, NULL }
};
static const struct drvslice_target user_targets[] = {
	{ E_UFN, "ufn", (const void *)ufn, ufn_call }, { 0, NULL, NULL, NULL }
};
static const struct drvslice_target user_stubs[] = {
	{ E_KFN, "kfn", (const void *)kfn, NULL }, { 0, NULL, NULL, NULL }
};

static const struct drvslice_driver kernel_drv = {
	"fuzz", NENTRIES, entries, NTYPES, types, 1, embeds, 2, globals,
	kernel_targets, kernel_stubs, 0, NULL, 0, NULL
};
static const struct drvslice_driver user_drv = {
	"fuzz", NENTRIES, entries, NTYPES, types, 1, embeds, 2, globals,
	user_targets, user_stubs, 0, NULL, 0, NULL
};

/* The kernel API entry: api(obj, fn, buf, len, str, out). */
static const struct drvslice_arg api_args[] = {
	{ sizeof(void *), DRVSLICE_A_OWN, "obj", 0, 0, 0 },
	{ sizeof(void *), DRVSLICE_A_FN, NULL, 0, 0, 0 },
	{ 16, DRVSLICE_A_BUF, NULL, 4, sizeof(unsigned int), 0 },
	{ sizeof(unsigned int), DRVSLICE_A_VALUE, NULL, 0, 0, 0 },
	{ 8, DRVSLICE_A_STR, NULL, 0, 0, 0 },
	{ 8, DRVSLICE_A_OUT, NULL, 0, 0, 0 },
};
static const struct drvslice_entry api_entry = {
	DRVSLICE_API_BASE + 1, DRVSLICE_DOWN, 6, "api", api_args, sizeof(long),
	0, 0, NULL, NULL, DRVSLICE_E_API
};
static const struct drvslice_entry *const api_entries[] = { NULL, &api_entry };

static int api_call(void *const args[], void *ret)
{
	struct obj *o = *(struct obj **)args[0];
	const unsigned char *buf = *(const unsigned char **)args[2];
	unsigned int i, len = *(unsigned int *)args[3];
	const char *str = *(const char **)args[4];
	unsigned char *out = *(unsigned char **)args[5];
	long sum = (long)strlen(str);

	memset(o, 0, sizeof(*o));
	for (i = 0; i < len; i++)
		sum += buf[i];
	memset(out, 0x33, 8);
	*(long *)ret = sum + (*(void **)args[1] == (void *)kfn);
	return 0;
}

static const struct drvslice_target api_targets[] = {
	{ DRVSLICE_API_BASE + 1, "api", NULL, api_call }, { 0, NULL, NULL, NULL }
};
static const struct drvslice_driver api_drv = {
	"api", 2, api_entries, 0, NULL, 0, NULL, 0, NULL, api_targets, NULL, 0, NULL, 0, NULL
};

/* The arguments of one API call as the u-driver makes it, and where they are. */
struct api_call {
	unsigned char buf[16], got[8];
	const unsigned char *pb;
	unsigned char *pg;
	const char *str;
	const void *fn;
	unsigned int len;
	void *obj;
	void *args[6];
};

static void api_call_init(struct api_call *c, void *obj)
{
	memset(c, 0, sizeof(*c));
	c->buf[0] = 1;
	c->buf[1] = 2;
	c->buf[2] = 3;
	c->pb = c->buf;
	c->pg = c->got;
	c->str = "eth%d";
	c->fn = (const void *)kfn;
	c->len = 3;
	c->obj = obj;
	c->args[0] = &c->obj;
	c->args[1] = &c->fn;
	c->args[2] = &c->pb;
	c->args[3] = &c->len;
	c->args[4] = &c->str;
	c->args[5] = &c->pg;
}

static void *zalloc(unsigned int n)
{
	return calloc(1, n);
}

static struct drvslice_side side;
static struct obj *objs[2];
static unsigned char dev_bytes[24] = { 0x5a };
static unsigned char out[65536];

/* A side as a driver's would be: two objects of its own, one opaque. */
static void setup(int kernel)
{
	drvslice_side_init(&side, kernel ? &kernel_drv : &user_drv, kernel, zalloc, free);
	side.api = &api_drv;
	objs[0] = calloc(1, sizeof(struct obj));
	objs[1] = calloc(1, sizeof(struct obj));
	drvslice_track(&side, objs[0], sizeof(struct obj), T_OBJ);
	drvslice_track(&side, objs[1], sizeof(struct obj), T_OBJ);
	drvslice_track(&side, g_buf, 4, 0);
	/* Device memory (a small DMA buffer): in every message the side sends. */
	if (kernel)
		drvslice_track_device(&side, dev_bytes, sizeof(dev_bytes));
}

#ifndef SLICE_SEEDS
/* The kernel's upcall ufn(o, &o->in), served by the u-driver's side: its
 * copy of the kernel's object (handle 1) is there for what follows. */
static void prior_upcall(void)
{
	static struct drvslice_side caller;
	static unsigned char call[65536];
	struct obj *o = calloc(1, sizeof(*o));
	struct inner *in = &o->in;
	unsigned char *buf = NULL;
	unsigned int len = 0;
	void *args[4] = { &o, &in, &buf, &len };
	int n;

	drvslice_side_init(&caller, &kernel_drv, 1, zalloc, free);
	drvslice_track(&caller, o, sizeof(*o), T_OBJ);
	n = drvslice_encode_call(&caller, &ufn_entry, args, call, sizeof(call));
	if (n >= 0)
		drvslice_serve(&side, call, (unsigned int)n, out, sizeof(out));
	drvslice_call_end(&caller);
	drvslice_side_reset(&caller);
	free(o);
}
#endif

static void teardown(void)
{
	if (side.depth != 0 || side.nobjs > DRVSLICE_OBJS_MAX)
		abort();
	drvslice_side_reset(&side);
	free(objs[0]);
	free(objs[1]);
	/* The globals are the driver's: what a run stored there (pointers
	 * into this run's objects) must not outlive it, as a driver's
	 * pointers do not outlive what they point to. */
	memset(&g_obj, 0, sizeof(g_obj));
	memset(g_buf, 0, sizeof(g_buf));
}

#ifndef SLICE_SEEDS
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int mode, ret[16];

	if (size < 1 || size > sizeof(out))
		return 0;
	mode = data[0] % 5;
	setup(mode != 1 && mode != 4);
	switch (mode) {
	case 1:	/* the u-driver serves an upcall, after one */
		prior_upcall();
		/* fall through */
	case 0:	/* the kernel serves a downcall or an API call */
		drvslice_serve(&side, data + 1, (unsigned int)(size - 1), out, sizeof(out));
		break;
	case 2: {	/* the kernel's reply to its upcall ufn */
		static unsigned char bytes[300];
		unsigned char *buf = bytes;
		unsigned int len = sizeof(bytes);
		void *args[4] = { &objs[0], &objs[0], &buf, &len };
		struct inner *in = &objs[0]->in;

		args[1] = &in;
		if (drvslice_encode_call(&side, &ufn_entry, args, out, sizeof(out)) >= 0)
			drvslice_decode_reply(&side, &ufn_entry, args, data + 1,
					      (unsigned int)(size - 1), ret);
		drvslice_call_end(&side);
		break;
	}
	case 4:	/* the kernel's state, as a u-driver adopting the device takes it */
		drvslice_decode_state(&side, data + 1, (unsigned int)(size - 1));
		break;
	default: {	/* the u-driver's reply to its API call */
		struct api_call c;

		api_call_init(&c, objs[0]);
		if (drvslice_encode_call(&side, &api_entry, c.args, out, sizeof(out)) >= 0)
			drvslice_decode_reply(&side, &api_entry, c.args, data + 1,
					      (unsigned int)(size - 1), ret);
		drvslice_call_end(&side);
	}
	}
	teardown();
	return 0;
}
#else
static void write_seed(const char *dir, const char *name, int mode,
		       const unsigned char *msg, int len)
{
	char path[512];
	FILE *f;

	if (len < 0) {
		fprintf(stderr, "slice-seeds: %s: %s\n", name, side.why);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fwrite(msg, 1, (size_t)len, f) != (size_t)len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static int seed_tab[4] = { 1, 2, 3, 40 };
static int seed_rates[3] = { 10, 20, 30 };
static unsigned short seed_lv[3] = { 4, 5, 0xffff };

int main(int argc, char **argv)
{
	static unsigned char call[65536];
	struct drvslice_side caller;
	struct obj *o;
	struct inner *in;
	int v = 7, n;

	if (argc != 2)
		return 2;
	/* kfn, from the u-driver to the kernel, and the kernel's reply to it
	 * (each side's handles as the other made them: served at once). */
	drvslice_side_init(&caller, &user_drv, 0, zalloc, free);
	caller.api = &api_drv;
	setup(1);
	o = objs[0];
	{
		void *args[2] = { &o, &v };

		n = drvslice_encode_call(&caller, &kfn_entry, args, call, sizeof(call));
		write_seed(argv[1], "kfn-call", 0, call, n);
	}
	teardown();
	drvslice_call_end(&caller);
	drvslice_side_reset(&caller);
	/* ufn, from the kernel to the u-driver, and the u-driver's reply. */
	drvslice_side_init(&caller, &kernel_drv, 1, zalloc, free);
	setup(0);
	o = calloc(1, sizeof(*o));
	drvslice_track(&caller, o, sizeof(*o), T_OBJ);
	/* A string and an array no object holds: their bytes go along. */
	o->name = strdup("eth-seed");
	o->tab = seed_tab;
	/* An array of a field's length, one that ends with 0xffff. */
	o->nrates = 3;
	o->rates = seed_rates;
	o->lv = seed_lv;
	in = &o->in;
	{
		/* 300 bytes that go and come back. */
		static unsigned char bytes[300] = { 7 };
		unsigned char *buf = bytes;
		unsigned int len = sizeof(bytes);
		void *args[4] = { &o, &in, &buf, &len };

		n = drvslice_encode_call(&caller, &ufn_entry, args, call, sizeof(call));
		write_seed(argv[1], "ufn-call", 1, call, n);
		n = drvslice_serve(&side, call, (unsigned int)n, out, sizeof(out));
		write_seed(argv[1], "ufn-reply", 2, out, n);
	}
	/* The kernel's state for a u-driver adopting the device: the
	 * object with its string and arrays, and the device memory. */
	n = drvslice_encode_state(&caller, call, sizeof(call));
	write_seed(argv[1], "state", 4, call, n);
	/* The kernel frees its object: its next upcall announces it
	 * (SLICE_DROP of handle 1, the u-driver's copy in mode 1). */
	drvslice_untrack(&caller, o);
	{
		struct obj *o2 = calloc(1, sizeof(*o2));
		unsigned char *buf = NULL;
		unsigned int len = 0;
		void *args[4] = { &o2, &in, &buf, &len };

		in = &o2->in;
		drvslice_track(&caller, o2, sizeof(*o2), T_OBJ);
		n = drvslice_encode_call(&caller, &ufn_entry, args, call, sizeof(call));
		write_seed(argv[1], "ufn-call-drop", 1, call, n);
		drvslice_call_end(&caller);
		drvslice_untrack(&caller, o2);
		free(o2);
	}
	teardown();
	drvslice_call_end(&caller);
	drvslice_side_reset(&caller);
	free(o->name);
	free(o);
	/* The API call, and its reply. */
	drvslice_side_init(&caller, &user_drv, 0, zalloc, free);
	caller.api = &api_drv;
	setup(1);
	{
		struct api_call c;

		api_call_init(&c, objs[0]);
		n = drvslice_encode_call(&caller, &api_entry, c.args, call, sizeof(call));
		write_seed(argv[1], "api-call", 0, call, n);
	}
	teardown();
	drvslice_call_end(&caller);
	drvslice_side_reset(&caller);
	return 0;
}
#endif
