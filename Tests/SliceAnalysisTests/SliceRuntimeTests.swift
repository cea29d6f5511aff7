// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import SliceAnalysis

/// The runtime both halves share (module/slice_core.c) on a small driver
/// split by driverslicer --halves: the kernel half and the user half run as
/// two programs (their objects at unrelated addresses) joined by a
/// socketpair, each with its own drvslice_side. Fields cross as the spec
/// says, pointers map to the other side's objects and globals, a struct on
/// the caller's stack crosses for one call, nested calls work, and
/// malformed calls are refused by name with nothing stored.
@Suite struct SliceRuntimeTests {
    static let header = """
        struct stats { unsigned long rx, tx; };
        struct netdev;
        struct ops {
            int (*open)(struct netdev *);
            int (*xmit)(struct netdev *, int);
            void (*get_stats)(struct netdev *, struct stats *);
            void (*get_regs)(struct netdev *, unsigned int, void *);
        };
        struct netdev { char name[16]; int mtu; struct stats stats; void *priv; const struct ops *ops;
                        unsigned int nrates; const int *rates; const short *levels; const char *const *names; };
        struct priv { int up; unsigned char mac[6]; unsigned int flags:3; unsigned int spare:5;
                      unsigned int *ring; struct netdev *dev; int hw_calls; int weight;
                      const char *label; int *table; };
        extern const struct ops minidrv_ops;
        """

    static let driver = """
        #include "minidrv.h"
        static unsigned int ring[8];
        static void start_hw(struct priv *p)
        {
            p->hw_calls++;
            p->ring = ring;
            ring[0] = p->mac[0];
        }
        static int xmit(struct netdev *d, int len)
        {
            struct priv *p = d->priv;
            d->stats.tx += len;
            start_hw(p);
            return p->up;
        }
        static int open(struct netdev *d)
        {
            struct priv *p = d->priv;
            p->mac[0] = 0x52;
            p->mac[5] = 0x07;
            p->flags = 5;
            d->mtu = 1500;
            start_hw(p);
            p->up = p->hw_calls;
            return p->ring == ring ? 7 : -7;
        }
        static void get_stats(struct netdev *d, struct stats *out)
        {
            out->rx = d->stats.rx * 2;
            out->tx = d->stats.tx + 1;
        }
        static void get_regs(struct netdev *d, unsigned int len, void *buf)
        {
            unsigned char *b = buf;
            unsigned int i;
            (void)d;
            for (i = 0; i < len; i++)
                b[i] = (unsigned char)(b[i] + i);
        }
        const struct ops minidrv_ops = { .open = open, .xmit = xmit, .get_stats = get_stats, .get_regs = get_regs };
        """

    /// Messages between the two programs: a tag byte, a length, the bytes.
    static let pipe = """
        #include <errno.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include "drvslice.h"

        static int sock;
        static struct drvslice_side side;
        static unsigned char io[65536], out[65536];

        static void send_msg(char tag, const void *p, unsigned int n)
        {
        	if (write(sock, &tag, 1) != 1 || write(sock, &n, 4) != 4 || (n && write(sock, p, n) != (ssize_t)n))
        		exit(90);
        }
        static unsigned int read_all(void *p, unsigned int n)
        {
        	unsigned int got = 0;
        	while (got < n) {
        		ssize_t r = read(sock, (char *)p + got, n - got);
        		if (r <= 0)
        			exit(91);
        		got += (unsigned int)r;
        	}
        	return got;
        }
        static char recv_msg(unsigned int *n)
        {
        	char tag;
        	read_all(&tag, 1);
        	read_all(n, 4);
        	if (*n > sizeof(io))
        		exit(92);
        	read_all(io, *n);
        	return tag;
        }
        /* A call from the other side: served, answered R (or E: errno, why). */
        static void serve_one(unsigned int n)
        {
        	int r = drvslice_serve(&side, io, n, out, sizeof(out));
        	if (r >= 0) {
        		send_msg('R', out, (unsigned int)r);
        	} else {
        		memcpy(io, &r, 4);
        		strcpy((char *)io + 4, side.why);
        		send_msg('E', io, 5 + (unsigned int)strlen(side.why));
        	}
        }
        /* A call to the other side, serving its calls back until the answer. */
        static int call(const struct drvslice_entry *e, void *const args[], void *ret)
        {
        	unsigned int n;
        	int r = drvslice_encode_call(&side, e, args, out, sizeof(out));
        	if (r < 0) {
        		drvslice_call_end(&side);
        		return r;
        	}
        	send_msg('C', out, (unsigned int)r);
        	for (;;) {
        		char tag = recv_msg(&n);
        		if (tag == 'C') {
        			serve_one(n);
        			continue;
        		}
        		if (tag == 'R') {
        			r = drvslice_decode_reply(&side, e, args, io, n, ret);
        		} else {
        			/* The callee's refusal: its errno and why. */
        			memcpy(&r, io, 4);
        			io[n] = 0;
        			snprintf(side.why, sizeof(side.why), "%s", (char *)io + 4);
        		}
        		drvslice_call_end(&side);
        		return r;
        	}
        }
        /* The sides' copies: a block freed is the next one of its size, as
         * a C library's allocator often does (glibc's per-size caches), so
         * that a copy made after another went lies at its address. */
        static void *freed_block;
        static unsigned int freed_size;
        static void *zalloc(unsigned int n)
        {
        	unsigned int *b;

        	if (freed_block && freed_size == n) {
        		b = freed_block;
        		freed_block = NULL;
        	} else {
        		b = malloc(n + 16);
        		if (!b)
        			return NULL;
        		b[0] = n;
        		b += 4;
        	}
        	memset(b, 0, n);
        	return b;
        }
        static void zfree(void *p)
        {
        	unsigned int *b = p;

        	if (!b)
        		return;
        	free(freed_block ? (unsigned int *)freed_block - 4 : NULL);
        	freed_block = b;
        	freed_size = b[-4];
        }
        """

    /// A kernel API function as the driver library would describe it: the
    /// net_device must be the kernel's own, the format a short string.
    static let api = """
        #include "drvslice.h"
        static const struct drvslice_arg register_dev_args[] = {
        	{ sizeof(void *), DRVSLICE_A_OWN, "netdev" },
        	{ 16, DRVSLICE_A_STR, (void *)0 },
        };
        static const struct drvslice_entry register_dev_entry = {
        	DRVSLICE_API_BASE + 1, DRVSLICE_DOWN, 2, "register_dev", register_dev_args, sizeof(int),
        	0, 0, (void *)0, (void *)0, DRVSLICE_E_API
        };
        /* set_irq(dev, handler, out, size): the handler must be a function
         * of the kernel's half; size bytes come back in out. */
        static const struct drvslice_arg set_irq_args[] = {
        	{ sizeof(void *), DRVSLICE_A_OWN, "netdev", 0, 0 },
        	{ sizeof(void *), DRVSLICE_A_FN, (void *)0, 0, 0 },
        	{ 16, DRVSLICE_A_OUT, (void *)0, 4, sizeof(unsigned int) },
        	{ sizeof(unsigned int), DRVSLICE_A_VALUE, (void *)0, 0, 0 },
        };
        static const struct drvslice_entry set_irq_entry = {
        	DRVSLICE_API_BASE + 2, DRVSLICE_DOWN, 4, "set_irq", set_irq_args, sizeof(int),
        	0, 0, (void *)0, (void *)0, DRVSLICE_E_API
        };
        /* alloc_dev(which): a pointer result, to a new object of the
         * kernel's (1) or NULL (0). */
        static const struct drvslice_arg alloc_dev_args[] = {
        	{ sizeof(int), DRVSLICE_A_VALUE, (void *)0, 0, 0 },
        };
        static const struct drvslice_entry alloc_dev_entry = {
        	DRVSLICE_API_BASE + 3, DRVSLICE_DOWN, 1, "alloc_dev", alloc_dev_args, sizeof(void *),
        	0, 0, (void *)0, (void *)0, DRVSLICE_E_API | DRVSLICE_E_RET_PTR
        };
        /* get_flags(priv): the kernel's priv's flags, as the kernel's copy has them. */
        static const struct drvslice_arg get_flags_args[] = {
        	{ sizeof(void *), DRVSLICE_A_OWN, "priv", 0, 0 },
        };
        static const struct drvslice_entry get_flags_entry = {
        	DRVSLICE_API_BASE + 4, DRVSLICE_DOWN, 1, "get_flags", get_flags_args, sizeof(int),
        	0, 0, (void *)0, (void *)0, DRVSLICE_E_API
        };
        /* sum_buf(buf, len): a buffer of at most 16 bytes, as many as len says. */
        static const struct drvslice_arg sum_buf_args[] = {
        	{ 16, DRVSLICE_A_BUF, (void *)0, 2, sizeof(unsigned int) },
        	{ sizeof(unsigned int), DRVSLICE_A_VALUE, (void *)0, 0, 0 },
        };
        static const struct drvslice_entry sum_buf_entry = {
        	DRVSLICE_API_BASE + 5, DRVSLICE_DOWN, 2, "sum_buf", sum_buf_args, sizeof(int),
        	0, 0, (void *)0, (void *)0, DRVSLICE_E_API
        };
        /* peek(p): the byte at p, a pointer into an object of the kernel's. */
        static const struct drvslice_arg peek_args[] = {
        	{ sizeof(void *), DRVSLICE_A_OWN, (void *)0, 0, 0 },
        };
        static const struct drvslice_entry peek_entry = {
        	DRVSLICE_API_BASE + 6, DRVSLICE_DOWN, 1, "peek", peek_args, sizeof(int),
        	0, 0, (void *)0, (void *)0, DRVSLICE_E_API
        };
        static const struct drvslice_entry *const api_entries[] = { (void *)0, &register_dev_entry, &set_irq_entry,
        	&alloc_dev_entry, &get_flags_entry, &sum_buf_entry, &peek_entry };
        """

    static let kernelSide = """
        #include "pipe.c"
        #include <sys/socket.h>
        #include <uapi/drvxpc.h>
        #include "minidrv.h"
        #include "minidrv-slice.h"
        #include "api.c"

        /* The kernel's register_dev: names the device from its format,
         * answers the mtu the u-driver had set and sets another (every field
         * the driver uses crosses both ways; the name, which it never uses,
         * does not). */
        static int register_dev_thunk(void *const args[], void *ret)
        {
        	struct netdev *d = *(struct netdev **)args[0];
        	const char *fmt = *(const char **)args[1];

        	snprintf(d->name, sizeof(d->name), fmt, 3);
        	*(int *)ret = d->mtu;
        	d->mtu = 576;
        	return 0;
        }
        /* The kernel's set_irq: 1 if the handler is the kernel's own xmit. */
        static int set_irq_thunk(void *const args[], void *ret)
        {
        	void *handler = *(void **)args[1];
        	unsigned char *out = *(unsigned char **)args[2];
        	unsigned int i, size = *(unsigned int *)args[3];

        	for (i = 0; i < size; i++)
        		out[i] = (unsigned char)(0xa0 + i);
        	*(int *)ret = handler == (void *)minidrv_ops.xmit;
        	return 0;
        }
        /* The kernel's alloc_dev: a device of its own, tracked before it is
         * handed out, or NULL. */
        static struct netdev made = { .mtu = 777 };
        /* Bytes of no struct type the device points to, which travel
         * with it (drvslice_track_bytes: as a net_device's dev_addr). */
        static unsigned char made_addr[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        /* alloc_dev(2): a new device; (3): the last one untracked (its
         * memory kept, so that the next is elsewhere); (4): says where the
         * kernel's priv->ring points, the u-driver having set it. */
        static struct priv *kpriv;
        static struct netdev *made_new, *made_gone;
        static int alloc_dev_thunk(void *const args[], void *ret)
        {
        	void *p = NULL;
        	int which = *(int *)args[0];

        	if (which == 1) {
        		drvslice_track(&side, &made, sizeof(made), SLICE_MINIDRV_T_netdev);
        		drvslice_track_bytes(&side, made_addr, sizeof(made_addr));
        		made.priv = made_addr;
        		p = &made;
        	} else if (which == 2) {
        		made_new = calloc(1, sizeof(*made_new));
        		if (made_new && drvslice_track(&side, made_new, sizeof(*made_new), SLICE_MINIDRV_T_netdev))
        			p = made_new;
        	} else if (which == 3 && made_new) {
        		drvslice_untrack(&side, made_new);
        		made_gone = made_new;
        		made_new = NULL;
        	} else if (which == 4) {
        		printf("stale ring: the kernel's ring %s\\n",
        		       kpriv->ring == (unsigned int *)made_new ? "is the new device" :
        		       kpriv->ring == (unsigned int *)made_gone ? "is the device that went" : "is elsewhere");
        	}
        	memcpy(ret, &p, sizeof(p));
        	return 0;
        }
        static int get_flags_thunk(void *const args[], void *ret)
        {
        	*(int *)ret = (*(struct priv **)args[0])->flags;
        	return 0;
        }
        /* The kernel's sum_buf: the sum of all 16 bytes of the buffer, as a
         * function reading past len would see them. */
        static int sum_buf_thunk(void *const args[], void *ret)
        {
        	const unsigned char *buf = *(const unsigned char **)args[0];
        	int i, sum = 0;

        	for (i = 0; i < 16; i++)
        		sum += buf[i];
        	*(int *)ret = sum;
        	return 0;
        }
        static int peek_thunk(void *const args[], void *ret)
        {
        	*(int *)ret = **(unsigned char **)args[0];
        	return 0;
        }
        static const struct drvslice_target api_targets[] = {
        	{ DRVSLICE_API_BASE + 1, "register_dev", (void *)0, register_dev_thunk },
        	{ DRVSLICE_API_BASE + 2, "set_irq", (void *)0, set_irq_thunk },
        	{ DRVSLICE_API_BASE + 3, "alloc_dev", (void *)0, alloc_dev_thunk },
        	{ DRVSLICE_API_BASE + 4, "get_flags", (void *)0, get_flags_thunk },
        	{ DRVSLICE_API_BASE + 5, "sum_buf", (void *)0, sum_buf_thunk },
        	{ DRVSLICE_API_BASE + 6, "peek", (void *)0, peek_thunk },
        	{ 0, (void *)0, (void *)0, (void *)0 }
        };
        static const struct drvslice_driver api = { "api", 7, api_entries, 0, (void *)0, 0, (void *)0, 0, (void *)0,
        	api_targets, (void *)0 };

        int drvslice_upcall(const struct drvslice_entry *e, void *const args[], void *ret) { return call(e, args, ret); }
        int drvslice_downcall(const struct drvslice_entry *e, void *const args[], void *ret) { (void)e; (void)args; (void)ret; return -ENOSYS; }

        static const void *stub(unsigned short id)
        {
        	const struct drvslice_target *t;
        	for (t = slice_minidrv_kernel.stubs; t->name; t++)
        		if (t->id == id)
        			return t->fn;
        	return NULL;
        }
        /* A hand-made call the user side must refuse: its errno and why. */
        static void bad(const char *what, const unsigned char *msg, unsigned int n)
        {
        	unsigned int len;
        	int r;
        	send_msg('C', msg, n);
        	if (recv_msg(&len) != 'E') {
        		printf("%s: accepted\\n", what);
        		return;
        	}
        	memcpy(&r, io, 4);
        	io[len] = 0;
        	printf("%s: %d %s\\n", what, r, (char *)io + 4);
        }
        static unsigned int user_objects(void)
        {
        	unsigned int n, v;
        	send_msg('N', NULL, 0);
        	recv_msg(&n);
        	memcpy(&v, io, 4);
        	return v;
        }
        /* The user program's calls served until its answer, a text, printed. */
        static void await_text(void)
        {
        	unsigned int n;
        	for (;;) {
        		char tag = recv_msg(&n);
        		if (tag == 'C') {
        			serve_one(n);
        			continue;
        		}
        		io[n] = 0;
        		printf("%s\\n", (char *)io);
        		return;
        	}
        }

        /* A message as a hostile u-driver could write it, built by hand. */
        static unsigned char hm[2048];
        static unsigned int hn, hat[4], hdepth;
        static void h_put(unsigned short type, const void *v, unsigned int n)
        {
        	unsigned short len = (unsigned short)(4 + n);
        	memcpy(hm + hn, &len, 2);
        	memcpy(hm + hn + 2, &type, 2);
        	if (n)
        		memcpy(hm + hn + 4, v, n);
        	hn += 4 + n;
        	while (hn % 4)
        		hm[hn++] = 0;
        }
        static void h_begin(unsigned short type) { hat[hdepth++] = hn; h_put(type | DRVXPC_A_F_NESTED, NULL, 0); }
        static void h_end(void)
        {
        	unsigned int at = hat[--hdepth];
        	unsigned short len = (unsigned short)(hn - at);
        	memcpy(hm + at, &len, 2);
        }
        static void h_ptr(unsigned short type, unsigned long long h, unsigned int off)
        {
        	unsigned char v[12];
        	memcpy(v, &h, 8);
        	memcpy(v + 8, &off, 4);
        	h_put(type, v, 12);
        }
        static void h_entry(unsigned short id) { hn = 0; h_put(DRVXPC_A_SLICE_ENTRY, &id, 2); }
        /* A struct of type @t at (@h, @off) with one field, @id, of the @n bytes at @v. */
        static void h_struct(unsigned long long h, unsigned int off, unsigned short t, unsigned short id,
        		     const void *v, unsigned int n)
        {
        	h_begin(DRVXPC_A_SLICE_STRUCT);
        	h_ptr(DRVXPC_A_SLICE_ARG, h, off);
        	h_put(DRVXPC_A_SLICE_STRUCT_ID, &t, 2);
        	h_begin(DRVXPC_A_SLICE_FIELD);
        	h_put(DRVXPC_A_SLICE_FIELD_ID, &id, 2);
        	h_put(DRVXPC_A_SLICE_FIELD_VALUE, v, n);
        	h_end();
        	h_end();
        }
        /* An object the message names: @size bytes of type @t, at @off in @parent (0: none). */
        static void h_object(unsigned long long h, unsigned int size, unsigned short t, unsigned long long parent,
        		     unsigned int off)
        {
        	h_begin(DRVXPC_A_SLICE_OBJECT);
        	h_put(DRVXPC_A_SLICE_HANDLE, &h, 8);
        	h_put(DRVXPC_A_SLICE_SIZE, &size, 4);
        	h_put(DRVXPC_A_SLICE_STRUCT_ID, &t, 2);
        	if (parent)
        		h_ptr(DRVXPC_A_SLICE_ARG, parent, off);
        	h_end();
        }
        /* What became of a message: "accepted", or the errno and why. */
        static const char *outcome(int r)
        {
        	static char text[200];
        	if (r >= 0)
        		return "accepted";
        	snprintf(text, sizeof(text), "%d %s", r, side.why);
        	return text;
        }
        /* The message served here, as if the u-driver had sent it. */
        static void h_serve(const char *what)
        {
        	printf("%s: %s\\n", what, outcome(drvslice_serve(&side, hm, hn, out, sizeof(out))));
        }
        static unsigned short field_id(unsigned short t, const char *name)
        {
        	unsigned short i;
        	for (i = 0; i < slice_minidrv_kernel.types[t].nfields; i++)
        		if (!strcmp(slice_minidrv_kernel.types[t].fields[i].name, name))
        			return i;
        	exit(7);
        }
        static unsigned long long handle_of(const void *p)
        {
        	const struct drvslice_obj *o = drvslice_obj_of(&side, p);
        	if (!o)
        		exit(8);
        	return o->handle;
        }

        /* A struct's fields land only where the kernel half itself finds a
         * struct of that type for the call: not a priv inside the netdev, in
         * a window of registers or in a copy the message makes up inside the
         * netdev; not a stats anywhere in the netdev but at its member. */
        static unsigned char regs[64] __attribute__((aligned(8)));
        static void struct_places(struct netdev *dev, struct priv *priv)
        {
        	unsigned long long dev_h = handle_of(dev), priv_h = handle_of(priv), regs_h;
        	unsigned short hw = field_id(SLICE_MINIDRV_T_priv, "priv.hw_calls");
        	unsigned short rx = field_id(SLICE_MINIDRV_T_stats, "stats.rx");
        	const struct drvslice_entry *ge = slice_minidrv_kernel.entries[SLICE_MINIDRV_get_stats];
        	struct netdev before = *dev;
        	unsigned long v77 = 77;
        	int v41 = 41;

        	regs_h = drvslice_track(&side, regs, sizeof(regs), 0);
        	h_entry(SLICE_MINIDRV_start_hw);
        	h_ptr(DRVXPC_A_SLICE_ARG, priv_h, 0);
        	h_struct(priv_h, 0, SLICE_MINIDRV_T_priv, hw, &v41, 4);
        	h_serve("priv at the priv");
        	printf("hw_calls=%d\\n", priv->hw_calls);
        	h_entry(SLICE_MINIDRV_start_hw);
        	h_ptr(DRVXPC_A_SLICE_ARG, priv_h, 0);
        	h_struct(dev_h, 0, SLICE_MINIDRV_T_priv, hw, &v41, 4);
        	h_serve("priv in the netdev");
        	h_entry(SLICE_MINIDRV_start_hw);
        	h_ptr(DRVXPC_A_SLICE_ARG, priv_h, 0);
        	h_struct(regs_h, 0, SLICE_MINIDRV_T_priv, hw, &v41, 4);
        	h_serve("priv in the registers");
        	h_entry(SLICE_MINIDRV_start_hw);
        	h_ptr(DRVXPC_A_SLICE_ARG, priv_h, 0);
        	h_object(DRVSLICE_H_USER | 0x777, sizeof(struct priv), SLICE_MINIDRV_T_priv, dev_h, 8);
        	h_struct(DRVSLICE_H_USER | 0x777, 0, SLICE_MINIDRV_T_priv, hw, &v41, 4);
        	h_serve("a made-up priv in the netdev");
        	/* The u-driver's reply to get_stats(dev, &st). */
        	{
        		struct stats st = { 0, 0 }, *stp = &st;
        		void *args[2] = { &dev, &stp };
        		unsigned int at[2] = { __builtin_offsetof(struct netdev, stats), 8 };
        		const char *what[2] = { "stats at its member", "stats in the netdev" };
        		int i;

        		for (i = 0; i < 2; i++) {
        			if (drvslice_encode_call(&side, ge, args, out, sizeof(out)) < 0)
        				exit(9);
        			hn = 0;
        			h_struct(dev_h, at[i], SLICE_MINIDRV_T_stats, rx, &v77, sizeof(v77));
        			printf("%s: %s\\n", what[i], outcome(drvslice_decode_reply(&side, ge, args, hm, hn, NULL)));
        			drvslice_call_end(&side);
        		}
        	}
        	printf("netdev rx=%lu, elsewhere %s\\n", dev->stats.rx,
        	       memcmp(dev->name, before.name, sizeof(dev->name)) || dev->mtu != before.mtu ||
        	       dev->stats.tx != before.stats.tx || dev->priv != before.priv || dev->ops != before.ops ? "changed" : "unchanged");
        	drvslice_untrack(&side, regs);
        }

        /* sum_buf's call with the @n bytes at @v and the length @len. */
        static void buf_call(const unsigned char *v, unsigned int n, unsigned int len)
        {
        	h_entry(DRVSLICE_API_BASE + 5);
        	h_put(DRVXPC_A_SLICE_ARG, v, n);
        	h_put(DRVXPC_A_SLICE_ARG, &len, 4);
        }
        /* An int SLICE_RET of a reply, or -1. */
        static int reply_ret(const unsigned char *m, int n)
        {
        	unsigned short len, type;
        	int at = 0, v = -1;

        	while (at + 4 <= n) {
        		memcpy(&len, m + at, 2);
        		memcpy(&type, m + at + 2, 2);
        		if (type == DRVXPC_A_SLICE_RET && len == 8)
        			memcpy(&v, m + at + 4, 4);
        		at += (len + 3) & ~3;
        	}
        	return v;
        }
        /* An A_BUF argument has as many bytes as its length argument says, at
         * most its size, and the rest of the callee's buffer is zero: a
         * call of 4 bytes served right after one of 16 sums to 4. */
        static void buffer_lengths(void)
        {
        	static unsigned char m16[256], m4[256], out16[4096], out4[4096];
        	unsigned char ones[20];
        	unsigned int n16, n4;
        	int r16, r4;

        	memset(ones, 1, sizeof(ones));
        	buf_call(ones, 16, 16);
        	memcpy(m16, hm, hn);
        	n16 = hn;
        	buf_call(ones, 4, 4);
        	memcpy(m4, hm, hn);
        	n4 = hn;
        	r16 = drvslice_serve(&side, m16, n16, out16, sizeof(out16));
        	r4 = drvslice_serve(&side, m4, n4, out4, sizeof(out4));
        	printf("sum of 16: %d, of 4 after it: %d\\n", reply_ret(out16, r16), reply_ret(out4, r4));
        	buf_call(ones, 4, 16);
        	h_serve("4 bytes, length 16");
        	buf_call(ones, 8, 4);
        	h_serve("8 bytes, length 4");
        	buf_call(ones, 20, 20);
        	h_serve("20 bytes");
        }

        /* Pointers at an object's end.  Two stats tracked side by side: a
         * pointer to the second crosses as the second's, not as one past the
         * end of the first.  An argument one past an object's end is
         * refused; one of a struct type needs the type's room (A_OWN too). */
        static struct stats pair[2];
        static unsigned char window[64] = { 0x5a };
        static void arg_ends(struct netdev *dev, struct priv *priv, void (*get_stats)(struct netdev *, struct stats *))
        {
        	unsigned long long w_h, priv_h = handle_of(priv);
        	int r;

        	drvslice_track(&side, &pair[0], sizeof(pair[0]), SLICE_MINIDRV_T_stats);
        	drvslice_track(&side, &pair[1], sizeof(pair[1]), SLICE_MINIDRV_T_stats);
        	get_stats(dev, &pair[1]);
        	printf("adjacent: rx=%lu tx=%lu\\n", pair[1].rx, pair[1].tx);
        	drvslice_untrack(&side, &pair[0]);
        	drvslice_untrack(&side, &pair[1]);
        	w_h = drvslice_track(&side, window, sizeof(window), 0);
        	h_entry(DRVSLICE_API_BASE + 6);
        	h_ptr(DRVXPC_A_SLICE_ARG, w_h, 0);
        	r = drvslice_serve(&side, hm, hn, out, sizeof(out));
        	printf("peek at the window: %s %#x\\n", outcome(r), reply_ret(out, r));
        	h_entry(DRVSLICE_API_BASE + 6);
        	h_ptr(DRVXPC_A_SLICE_ARG, w_h, sizeof(window));
        	h_serve("peek one past the window");
        	h_entry(DRVSLICE_API_BASE + 4);
        	h_ptr(DRVXPC_A_SLICE_ARG, priv_h, sizeof(struct priv));
        	h_serve("get_flags one past the priv");
        	h_entry(DRVSLICE_API_BASE + 4);
        	h_ptr(DRVXPC_A_SLICE_ARG, priv_h, 8);
        	h_serve("get_flags inside the priv");
        	drvslice_untrack(&side, window);
        }

        /* An object the kernel hands over and then untracks (a DMA buffer
         * freed) goes from the user program too, with the kernel's next
         * message, the object inside it with it: hundreds of them one after
         * another do not fill the user program's table. */
        static void drops(struct netdev *dev, void (*get_stats)(struct netdev *, struct stats *))
        {
        	unsigned int before = user_objects(), handed, after, i, ran = 0;
        	unsigned char *block = calloc(1, 256);
        	struct stats st, *inner = (struct stats *)(block + 64);

        	drvslice_track(&side, block, 256, 0);
        	drvslice_track(&side, inner, sizeof(*inner), SLICE_MINIDRV_T_stats);
        	get_stats(dev, inner);
        	handed = user_objects();
        	drvslice_untrack(&side, block);
        	free(block);
        	get_stats(dev, &st);
        	after = user_objects();
        	printf("drops: %u objects, %u handed over, %u after the next message\\n", before, handed, after);
        	for (i = 0; i < 400; i++) {
        		struct stats *one = calloc(1, sizeof(*one));

        		drvslice_track(&side, one, sizeof(*one), SLICE_MINIDRV_T_stats);
        		get_stats(dev, one);
        		ran += one->tx == dev->stats.tx + 1;
        		drvslice_untrack(&side, one);
        		free(one);
        	}
        	get_stats(dev, &st);
        	printf("400 more: %u ran, %u objects\\n", ran, user_objects());
        }

        /* The attribute of @n value bytes equal to @v in the call @msg: its
        * value's offset (0: none). */
        static unsigned int value_at(const unsigned char *msg, unsigned int len, const void *v, unsigned int n)
        {
        	unsigned int i;
        	for (i = 0; i + 4 + n <= len; i += 4)
        		if (msg[i] == 4 + n && msg[i + 1] == 0 && !memcmp(msg + i + 4, v, n))
        			return i + 4;
        	return 0;
        }

        /* An array whose length is a field (array netdev.rates nrates) and one
         * that ends with -1 (sentinel netdev.levels -1), when annotated: a call
         * whose count says more than the array holds, or whose array lost its
         * end, is refused by the user program by name. */
        static void counted_arrays(struct netdev *dev)
        {
        	const struct drvslice_type *t = &slice_minidrv_kernel.types[SLICE_MINIDRV_T_netdev];
        	static const short lv[3] = { 5, 7, -1 };
        	void *args[1] = { &dev };
        	unsigned char copy[4096];
        	unsigned int i, at, nine = 9;
        	int len, annotated = 0;

        	for (i = 0; i < t->nfields; i++)
        		if (!strcmp(t->fields[i].name, "netdev.rates") && t->fields[i].count)
        			annotated = 1;
        	if (!annotated)
        		return;
        	printf("kernel dev: nrates=%u\\n", dev->nrates);
        	len = drvslice_encode_call(&side, slice_minidrv_kernel.entries[SLICE_MINIDRV_open], args, out, sizeof(out));
        	drvslice_call_end(&side);
        	if (len < 8 || len > (int)sizeof(copy))
        		return;
        	memcpy(copy, out, (unsigned int)len);
        	at = value_at(copy, (unsigned int)len, &dev->nrates, 4);
        	if (at)
        		memcpy(copy + at, &nine, 4);
        	bad("count past the array", copy, (unsigned int)len);
        	memcpy(copy, out, (unsigned int)len);
        	for (at = 0; at + 6 <= (unsigned int)len && memcmp(copy + at, lv, 6); at++)
        		;
        	if (at + 6 <= (unsigned int)len)
        		memset(copy + at + 4, 0, 2);
        	bad("sentinel gone", copy, (unsigned int)len);
        }

        /* A buffer handed to the u-driver's get_regs, annotated array
         * get_regs.buf len: its bytes go and come back (300 of them, more
         * than an argument's 64); one over the most is not sent. */
        static void inout_buffers(struct netdev *dev)
        {
        	const struct drvslice_entry *e = slice_minidrv_kernel.entries[SLICE_MINIDRV_get_regs];
        	void (*get_regs)(struct netdev *, unsigned int, void *) =
        		(void (*)(struct netdev *, unsigned int, void *))stub(SLICE_MINIDRV_get_regs);
        	static unsigned char buf[5000];
        	unsigned int i, sum = 0;

        	if (!e || e->nargs != 3 || e->args[2].kind != DRVSLICE_A_INOUT || !get_regs)
        		return;
        	memset(buf, 1, sizeof(buf));
        	get_regs(dev, 300, buf);
        	for (i = 0; i < 300; i++)
        		sum += buf[i];
        	printf("get_regs: buf[0]=%u buf[299]=%u sum=%u buf[300]=%u\\n", buf[0], buf[299], sum, buf[300]);
        	memset(buf, 1, sizeof(buf));
        	get_regs(dev, sizeof(buf), buf);
        	printf("get_regs of %u bytes: %s, buf[1]=%u\\n", (unsigned int)sizeof(buf), side.why, buf[1]);
        	get_regs(dev, 0, NULL);
        	printf("get_regs of none: %s\\n", side.why[0] ? side.why : "ran");
        }

        int main(int argc, char **argv)
        {
        	int sv[2];
        	struct netdev *dev = calloc(1, sizeof(*dev));
        	struct priv *priv = calloc(1, sizeof(*priv));
        	struct stats st = { 0, 0 };
        	int (*open)(struct netdev *);
        	void (*get_stats)(struct netdev *, struct stats *);
        	unsigned char msg[256];
        	unsigned int n, before;
        	int r;

        	if (argc < 2 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        		return 2;
        	if (fork() == 0) {
        		char fd[16];
        		snprintf(fd, sizeof(fd), "%d", sv[1]);
        		execl(argv[1], argv[1], fd, (char *)NULL);
        		_exit(3);
        	}
        	/* The user program's end is its own: should it die, reads here end. */
        	close(sv[1]);
        	sock = sv[0];
        	drvslice_side_init(&side, &slice_minidrv_kernel, 1, zalloc, zfree);
        	side.api = &api;
        	strcpy(dev->name, "eth0");
        	dev->priv = priv;
        	dev->ops = &minidrv_ops;
        	priv->dev = dev;
        	priv->weight = 64;
        	/* Memory of the kernel's no object holds: a string, an array. */
        	priv->label = strdup("eth-xy");
        	priv->table = calloc(4, sizeof(int));
        	if (!priv->label || !priv->table)
        		return 4;
        	priv->table[3] = 40;
        	/* An array whose length is a field, one that ends with -1. */
        	{
        		static const short lv[3] = { 5, 7, -1 };
        		int *rates = calloc(7, sizeof(int));
        		short *levels = malloc(sizeof(lv));
        		if (!rates || !levels)
        			return 4;
        		for (n = 0; n < 7; n++)
        			rates[n] = 10 * ((int)n + 1);
        		memcpy(levels, lv, sizeof(lv));
        		dev->nrates = 7;
        		dev->rates = rates;
        		dev->levels = levels;
        	}
        	drvslice_track(&side, dev, sizeof(*dev), SLICE_MINIDRV_T_netdev);
        	drvslice_track(&side, priv, sizeof(*priv), SLICE_MINIDRV_T_priv);
        	open = (int (*)(struct netdev *))stub(SLICE_MINIDRV_open);
        	get_stats = (void (*)(struct netdev *, struct stats *))stub(SLICE_MINIDRV_get_stats);
        	if (!open || !get_stats)
        		return 4;

        	r = open(dev);
        	printf("open=%d mtu=%d up=%d flags=%u spare=%u mac=%02x:%02x hw_calls=%d ring=%s\\n", r, dev->mtu, priv->up,
        	       priv->flags, priv->spare, priv->mac[0], priv->mac[5], priv->hw_calls, priv->ring ? "set" : "NULL");
        	dev->stats.rx = 5;
        	dev->stats.tx = 9;
        	get_stats(dev, &st);
        	before = user_objects();
        	printf("get_stats rx=%lu tx=%lu\\n", st.rx, st.tx);
        	get_stats(dev, &st);
        	printf("again rx=%lu tx=%lu objects %s\\n", st.rx, st.tx, user_objects() == before ? "kept" : "grew");

        	/* A struct that is an object of its own inside a larger one: both
        	 * new to the user program, the larger announced first. */
        	{
        		unsigned char *block = calloc(1, 256);
        		struct stats *inner = (struct stats *)(block + 64);

        		drvslice_track(&side, block, 256, 0);
        		drvslice_track(&side, inner, sizeof(*inner), SLICE_MINIDRV_T_stats);
        		get_stats(dev, inner);
        		printf("child rx=%lu tx=%lu\\n", inner->rx, inner->tx);
        		drvslice_untrack(&side, block);
        		printf("untracked with its block: %s\\n", drvslice_obj_of(&side, inner) ? "no" : "yes");
        		free(block);
        	}
        	arg_ends(dev, priv, get_stats);
        	drops(dev, get_stats);

        	/* Malformed calls: an unknown entry, one this half serves, a truncated one. */
        	n = 0;
        	msg[n++] = 6; msg[n++] = 0; msg[n++] = DRVXPC_A_SLICE_ENTRY & 0xff; msg[n++] = DRVXPC_A_SLICE_ENTRY >> 8;
        	msg[n++] = 999 & 0xff; msg[n++] = 999 >> 8; msg[n++] = 0; msg[n++] = 0;
        	bad("unknown entry", msg, n);
        	msg[4] = SLICE_MINIDRV_start_hw;
        	msg[5] = 0;
        	bad("wrong half", msg, n);
        	{
        		void *args[1] = { &dev };
        		int len = drvslice_encode_call(&side, slice_minidrv_kernel.entries[SLICE_MINIDRV_open], args, out, sizeof(out));
        		unsigned char copy[4096];
        		drvslice_call_end(&side);
        		if (len < 8 || len > (int)sizeof(copy))
        			return 5;
        		memcpy(copy, out, (unsigned int)len);
        		bad("truncated", copy, (unsigned int)len - 3);
        		/* The first field's id made one the entry does not carry. */
        		for (n = 0; n + 6 <= (unsigned int)len; n += 2)
        			if (copy[n] == 6 && copy[n + 1] == 0 && copy[n + 2] == (DRVXPC_A_SLICE_FIELD_ID & 0xff) &&
        			    copy[n + 3] == (DRVXPC_A_SLICE_FIELD_ID >> 8))
        				break;
        		copy[n + 4] = 99;
        		bad("unknown field", copy, (unsigned int)len);
        	}
        	printf("state kept: up=%d mtu=%d\\n", priv->up, dev->mtu);
        	/* The kernel changes fields of its own objects on its own; the
        	 * user program's copies of them are stale now. */
        	dev->mtu = 4321;
        	priv->flags = 2;
        	send_msg('D', NULL, 0);
        	await_text();
        	printf("kernel priv: flags=%u\\n", priv->flags);
        	/* The user program calls the kernel API as the driver library would. */
        	send_msg('A', NULL, 0);
        	await_text();
        	printf("kernel dev: name=%s mtu=%d\\n", dev->name, dev->mtu);
        	kpriv = priv;
        	send_msg('S', NULL, 0);
        	await_text();
        	struct_places(dev, priv);
        	buffer_lengths();
        	counted_arrays(dev);
        	inout_buffers(dev);
        	send_msg('Q', NULL, 0);
        	return 0;
        }
        """

    static let userSide = """
        #include "pipe.c"
        #include "minidrv.h"
        #include "minidrv-slice.h"

        int drvslice_downcall(const struct drvslice_entry *e, void *const args[], void *ret) { return call(e, args, ret); }
        int drvslice_upcall(const struct drvslice_entry *e, void *const args[], void *ret) { (void)e; (void)args; (void)ret; return -ENOSYS; }
        #include "api.c"
        static const struct drvslice_driver api = { "api", 7, api_entries, 0, (void *)0, 0, (void *)0, 0, (void *)0,
        	(void *)0, (void *)0 };

        /* The driver library's stub. */
        static int register_dev(struct netdev *d, const char *fmt)
        {
        	void *args[2] = { &d, &fmt };
        	int ret, err = drvslice_downcall(&register_dev_entry, args, &ret);
        	return err ? err : ret;
        }

        static int set_irq(struct netdev *d, const void *handler, unsigned char *out, unsigned int size)
        {
        	void *args[4] = { &d, &handler, &out, &size };
        	int ret, err = drvslice_downcall(&set_irq_entry, args, &ret);
        	return err ? err : ret;
        }

        static struct netdev *alloc_dev(int which)
        {
        	void *args[1] = { &which };
        	struct netdev *r = (struct netdev *)1;
        	int err = drvslice_downcall(&alloc_dev_entry, args, &r);
        	return err ? (struct netdev *)2 : r;
        }

        static int get_flags(struct priv *p)
        {
        	void *args[1] = { &p };
        	int ret, err = drvslice_downcall(&get_flags_entry, args, &ret);
        	return err ? err : ret;
        }

        /* The u-driver's copy of the kernel's object of @type, or NULL. */
        static void *copy_of_type(unsigned short type)
        {
        	unsigned int i;
        	for (i = 0; i < side.nobjs; i++)
        		if (side.objs[i].type == type && side.objs[i].shadow)
        			return side.objs[i].ptr;
        	return NULL;
        }

        /* The kernel has changed its device's mtu and its priv's flags on its
         * own: the copies here still hold what the u-driver last knew, and do
         * not send it back.  Bits of the priv that do not cross (spare)
         * scribbled on change nothing; a write of a field does cross. */
        static void dirty_calls(void)
        {
        	struct netdev *dev = copy_of_type(SLICE_MINIDRV_T_netdev);
        	struct priv *pv = copy_of_type(SLICE_MINIDRV_T_priv);
        	char text[160];
        	int r1, r2, r3, mtu;

        	if (!dev || !pv) {
        		send_msg('R', "no copies", 10);
        		return;
        	}
        	mtu = dev->mtu;
        	pv->spare = 31;
        	r1 = register_dev(dev, "eth%d");
        	r2 = get_flags(pv);
        	pv->flags = 6;
        	r3 = get_flags(pv);
        	snprintf(text, sizeof(text), "dirty: copy mtu=%d register=%d flags=%d written=%d", mtu, r1, r2, r3);
        	send_msg('R', text, (unsigned int)strlen(text) + 1);
        }

        /* A pointer field that pointed into an object that went, set to a
         * new object whose copy is made at the old copy's address (its
         * memory used again), crosses: its bytes are those last sent, but
         * the object is another (the MTU change's new rings in 8139cp). */
        static void stale_ring(void)
        {
        	struct priv *pv = copy_of_type(SLICE_MINIDRV_T_priv);
        	struct netdev *a, *b;
        	char text[160];

        	if (!pv) {
        		send_msg('R', "no copies", 10);
        		return;
        	}
        	a = alloc_dev(2);
        	pv->ring = (unsigned int *)a;
        	get_flags(pv);
        	alloc_dev(3);
        	b = alloc_dev(2);
        	pv->ring = (unsigned int *)b;
        	get_flags(pv);
        	alloc_dev(4);
        	snprintf(text, sizeof(text), "stale ring: the new copy %s",
        		 b == a ? "is at the old one's address" : "is elsewhere");
        	send_msg('R', text, (unsigned int)strlen(text) + 1);
        }

        /* A function of the user half's: its stub of a kernel function, or its own. */
        static const void *function(const struct drvslice_target *t, const char *name)
        {
        	for (; t->name; t++)
        		if (!strcmp(t->name, name))
        			return t->fn;
        	return NULL;
        }

        /* Three calls: with the u-driver's copy of the kernel's device, with
         * a device of its own, with a format too long. */
        static void api_calls(void)
        {
        	struct netdev mine = { .mtu = 9 };
        	struct netdev *dev = NULL;
        	char text[1024];
        	unsigned int i, at = 0;
        	int r;

        	for (i = 0; i < side.nobjs; i++)
        		if (side.objs[i].type == SLICE_MINIDRV_T_netdev && side.objs[i].shadow)
        			dev = side.objs[i].ptr;
        	if (!dev) {
        		send_msg('R', "no device", 10);
        		return;
        	}
        	dev->mtu = 1234;
        	r = register_dev(dev, "eth%d");
        	at += (unsigned int)snprintf(text + at, sizeof(text) - at, "api: %d mtu=%d name=%s\\n", r, dev->mtu, dev->name);
        	r = register_dev(&mine, "eth%d");
        	at += (unsigned int)snprintf(text + at, sizeof(text) - at, "api own: %d %s\\n", r, side.why);
        	/* A u-driver that passes its own object off as its copy of the
        	 * kernel's gets past its own side's check, not the kernel's. */
        	if (drvslice_track(&side, &mine, sizeof(mine), SLICE_MINIDRV_T_netdev)) {
        		for (i = 0; i < side.nobjs; i++)
        			if (side.objs[i].ptr == &mine)
        				side.objs[i].shadow = 1;
        		r = register_dev(&mine, "eth%d");
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "api forged: %d %s\\n", r, side.why);
        		for (i = 0; i < side.nobjs; i++)
        			if (side.objs[i].ptr == &mine)
        				side.objs[i].shadow = 0;
        		drvslice_untrack(&side, &mine);
        	}
        	r = register_dev(dev, "a-name-far-too-long");
        	at += (unsigned int)snprintf(text + at, sizeof(text) - at, "api long: %d %s\\n", r, side.why);
        	{
        		unsigned char got[16] = { 0 };

        		r = set_irq(dev, function(side.drv->stubs, "xmit"), got, 5);
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "fn: %d out=%02x%02x%02x%02x%02x%02x\\n",
        					     r, got[0], got[1], got[2], got[3], got[4], got[5]);
        		r = set_irq(dev, function(side.drv->targets, "open"), got, 5);
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "fn other half: %d %s\\n", r, side.why);
        		r = set_irq(dev, &mine, got, 5);
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "fn data: %d %s\\n", r, side.why);
        		r = set_irq(dev, function(side.drv->stubs, "xmit"), got, 100);
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "out too long: %d %s", r, side.why);
        	}
        	{
        		/* A pointer result is the kernel's object: a copy here,
        		 * which the kernel API takes back as its own. */
        		struct netdev *nd = alloc_dev(1);
        		const struct drvslice_obj *o = drvslice_obj_of(&side, nd);

        		r = o && o->shadow ? register_dev(nd, "new%d") : -99;
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "\\nptr result: copy=%d register=%d mtu=%d name=%s",
        					     o && o->shadow, r, nd->mtu, nd->name);
        		{
        			const unsigned char *a = nd->priv;

        			at += (unsigned int)snprintf(text + at, sizeof(text) - at, "\\nbytes with it: %02x%02x%02x%02x%02x%02x",
        						     a ? a[0] : 0, a ? a[1] : 0, a ? a[2] : 0, a ? a[3] : 0, a ? a[4] : 0, a ? a[5] : 0);
        		}
        		at += (unsigned int)snprintf(text + at, sizeof(text) - at, "\\nnull result: %d",
        					     alloc_dev(0) == NULL);
        	}
        	send_msg('R', text, at + 1);
        }

        int main(int argc, char **argv)
        {
        	unsigned int n;
        	if (argc < 2)
        		return 2;
        	sock = atoi(argv[1]);
        	drvslice_side_init(&side, &slice_minidrv_user, 0, zalloc, zfree);
        	side.api = &api;
        	for (;;) {
        		char tag = recv_msg(&n);
        		if (tag == 'C')
        			serve_one(n);
        		else if (tag == 'A')
        			api_calls();
        		else if (tag == 'D')
        			dirty_calls();
        		else if (tag == 'S')
        			stale_ring();
        		else if (tag == 'N')
        			send_msg('R', &side.nobjs, 4);
        		else
        			return 0;
        	}
        }
        """

    /// `driver` (with minidrv.h) in a directory of its own, its call graph
    /// and its split: ops.xmit the nucleus's, the other ops the u-driver's.
    static func split(_ driver: String) throws -> (CallGraph, Split, String) {
        let path = try SliceAnalysisTests().write(driver, "minidrv.c")
        let dir = (path as NSString).deletingLastPathComponent
        try header.write(toFile: dir + "/minidrv.h", atomically: true, encoding: .utf8)
        let g = try CallGraph.build(files: [path], arguments: ["-I", dir])
        var t = InterfaceTable()
        try t.add("field ops.xmit bandwidth\nfield ops.* user\n", file: "t.iface")
        return (g, Split(graph: g, interfaces: t), dir)
    }

    /// Splits `driver` with --halves, builds the two programs and runs them:
    /// the kernel program's output, and the halves.
    func run(_ driver: String, decaf: (functions: [String], swift: String)? = nil,
             annotations: AnnotationSet = AnnotationSet()) throws -> (out: String, halves: SliceHalves)? {
        let (g, split, dir) = try Self.split(driver)
        #expect(Set(split.kernel.map(\.name)) == ["xmit", "start_hw"])
        let bindings = try decaf.map {
            try DecafBindings(driver: "minidrv", functions: $0.functions, split: split, graph: g, source: driver)
        }
        let h = try SliceHalves(driver: "minidrv", split: split, graph: g, decaf: bindings, annotations: annotations)
        let out = dir + "/halves"
        for side in ["kernel", "user"] {
            try FileManager.default.createDirectory(atPath: "\(out)/\(side)", withIntermediateDirectories: true)
            try (side == "kernel" ? h.files[0].kernel : h.files[0].user).write(toFile: "\(out)/\(side)/minidrv.c", atomically: true, encoding: .utf8)
        }
        try h.header.write(toFile: "\(out)/\(h.headerName)", atomically: true, encoding: .utf8)
        try "/* no kernel headers here */\n".write(toFile: "\(out)/drvslice-user.h", atomically: true, encoding: .utf8)
        try Self.pipe.write(toFile: "\(out)/pipe.c", atomically: true, encoding: .utf8)
        try Self.kernelSide.write(toFile: "\(out)/kside.c", atomically: true, encoding: .utf8)
        try Self.userSide.write(toFile: "\(out)/uside.c", atomically: true, encoding: .utf8)
        try Self.api.write(toFile: "\(out)/api.c", atomically: true, encoding: .utf8)
        let root = #filePath.components(separatedBy: "/Tests/")[0]
        let flags = ["gcc", "-std=gnu11", "-Wall", "-Werror", "-I", out, "-I", dir, "-I", root + "/module/include", "-I", root + "/module"]
        let k = try SliceHalvesTests.run(flags + ["-o", "kside", "kernel/minidrv.c", "kside.c", root + "/module/slice_core.c"], in: out)
        #expect(k.0 == 0, "\(k.1)")
        var u: (Int32, String) = (0, "")
        if bindings == nil {
            u = try SliceHalvesTests.run(flags + ["-o", "uside", "user/minidrv.c", "uside.c", root + "/module/slice_core.c"], in: out)
        }
        if let bindings, let decaf {
            // The user side with the moved functions: its C as objects, the
            // Swift module (bindings and author's code) as one, swiftc links.
            try FileManager.default.createDirectory(atPath: out + "/decaf", withIntermediateDirectories: true)
            try bindings.header.write(toFile: "\(out)/decaf/\(bindings.headerName)", atomically: true, encoding: .utf8)
            try bindings.moduleMap.write(toFile: "\(out)/decaf/module.modulemap", atomically: true, encoding: .utf8)
            try bindings.swift.write(toFile: "\(out)/decaf/\(bindings.swiftName)", atomically: true, encoding: .utf8)
            try decaf.swift.write(toFile: "\(out)/decaf/moved.swift", atomically: true, encoding: .utf8)
            for (src, obj) in [("user/minidrv.c", "u1.o"), ("uside.c", "u2.o"), (root + "/module/slice_core.c", "u3.o")] where u.0 == 0 {
                u = try SliceHalvesTests.run(flags + ["-c", src, "-o", obj], in: out)
            }
            #expect(u.0 == 0, "\(u.1)")
            if u.0 == 0 {
                u = try SliceHalvesTests.run(["swiftc", "-swift-version", "6", "-emit-object", "-parse-as-library", "-wmo",
                                              "-module-name", "Decaf_minidrv", "-I", "decaf", "decaf/\(bindings.swiftName)",
                                              "decaf/moved.swift", "-o", "u4.o"], in: out)
                #expect(u.0 == 0, "\(u.1)")
            }
            if u.0 == 0 {
                u = try SliceHalvesTests.run(["swiftc", "-o", "uside", "u1.o", "u2.o", "u3.o", "u4.o"], in: out)
            }
        }
        #expect(u.0 == 0, "\(u.1)")
        guard k.0 == 0, u.0 == 0 else { return nil }
        let run = try SliceHalvesTests.run(["./kside", "./uside"], in: out)
        #expect(run.0 == 0, "\(run.1)")
        return (run.1, h)
    }

    @Test func twoProgramsRunTheDriverThroughTheRuntime() throws {
        guard let (output, _) = try run(Self.driver) else { return }
        let run = (0, output)
        let lines = run.1.split(separator: "\n").map(String.init)
        // open ran in the user program: what it wrote came back; start_hw
        // ran in the kernel program with the mac open had just set, and the
        // ring pointer it stored is the user program's own ring.
        #expect(lines.first == "open=7 mtu=1500 up=1 flags=5 spare=0 mac=52:07 hw_calls=1 ring=set", "\(run.1)")
        // The stats struct on the kernel's stack crossed for the call; the
        // embedded dev->stats crossed as part of dev.
        #expect(lines.dropFirst().first == "get_stats rx=10 tx=10", "\(run.1)")
        #expect(lines.dropFirst(2).first == "again rx=10 tx=10 objects kept", "\(run.1)")
        // An object inside another crosses with its parent, announced first;
        // untracking the parent takes the child with it.
        #expect(run.1.contains("child rx=10 tx=10\nuntracked with its block: yes\n"), "\(run.1)")
        #expect(run.1.contains("unknown entry: -22 SLICE_ENTRY: no entry 999"), "\(run.1)")
        #expect(run.1.contains("wrong half: -22 SLICE_ENTRY: start_hw is not served by this half"), "\(run.1)")
        #expect(run.1.contains("truncated: -22 malformed attribute"), "\(run.1)")
        #expect(run.1.contains("unknown field: -22 open: netdev field 99 does not cross here"), "\(run.1)")
        #expect(run.1.contains("state kept: up=1 mtu=1500"), "\(run.1)")
        // A kernel API call: every field of the device the driver uses goes
        // down (the mtu the u-driver set) and comes back (the one the kernel
        // set); the name, which the driver never uses, stays the kernel's. A
        // device the u-driver made itself is refused, and so is a string
        // longer than the API takes, before it is sent.
        #expect(run.1.contains("api: 1234 mtu=576 name=\n"), "\(run.1)")
        // The u-driver's own side refuses it first, saying where it lay;
        // one that lies about its copies is refused by the kernel's.
        #expect(run.1.contains("api own: -1 register_dev: argument 0 lies in no object of this side's, no copy of the callee's\n"), "\(run.1)")
        #expect(run.1.contains("api forged: -1 register_dev: argument 0 is no object of this side ("), "\(run.1)")
        #expect(run.1.contains("api long: -7 register_dev: argument 1: longer than 15 bytes"), "\(run.1)")
        #expect(run.1.contains("kernel dev: name=eth3 mtu=576"), "\(run.1)")
        // A function argument must be one of the kernel half's own (the
        // user half passes its stub of xmit; the kernel gets its xmit); the
        // out buffer comes back with as many bytes as the call said.
        #expect(run.1.contains("fn: 1 out=a0a1a2a3a400\n"), "\(run.1)")
        #expect(run.1.contains("fn other half: -1 set_irq: argument 1 is no function of this half\n"), "\(run.1)")
        #expect(run.1.contains("fn data: -1 set_irq: argument 1 is no function\n"), "\(run.1)")
        #expect(run.1.contains("out too long: -7 set_irq: argument 2: 100 bytes, at most 16"), "\(run.1)")
        // A pointer result (DRVSLICE_E_RET_PTR) is the kernel's new object,
        // copied here; handed back, the kernel takes it as its own (A_OWN)
        // and the fields the driver uses come back (its name, unused, does
        // not). The u-driver never wrote the copy's mtu, so its zero does
        // not overwrite the kernel's 777 (it did before dirty tracking: the
        // register_dev result was 0). NULL stays NULL.
        #expect(run.1.contains("ptr result: copy=1 register=777 mtu=576 name=\nbytes with it: 525400123456\nnull result: 1"), "\(run.1)")
    }

    /// A SLICE_STRUCT names where its struct is; the callee takes it only
    /// where its own side finds a struct of that type for the call (an
    /// argument, an object of the type, a member of the type in one, a
    /// global), at that very offset: a u-driver cannot write a priv's
    /// fields into the kernel's netdev or a window of registers, make up a
    /// copy of its own inside the netdev to write them there, or write a
    /// stats anywhere in the netdev but at its member.
    @Test func aStructIsTakenOnlyWhereTheCalleeFindsOne() throws {
        guard let (out, _) = try run(Self.driver) else { return }
        #expect(out.contains("priv at the priv: accepted\nhw_calls=42\n"), "\(out)")
        #expect(out.contains("priv in the netdev: -1 SLICE_STRUCT: start_hw: no priv of the call at 0x1000000000000001 offset 0\n"), "\(out)")
        #expect(out.contains("priv in the registers: -1 SLICE_STRUCT: start_hw: no priv of the call at "), "\(out)")
        #expect(out.contains("a made-up priv in the netdev: -1 SLICE_OBJECT 0x2000000000000777: inside 0x1000000000000001, an object of this side's\n"), "\(out)")
        #expect(out.contains("stats at its member: accepted\n"), "\(out)")
        #expect(out.contains("stats in the netdev: -1 SLICE_STRUCT: get_stats: no stats of the call at 0x1000000000000001 offset 8\n"), "\(out)")
        #expect(out.contains("netdev rx=77, elsewhere unchanged\n"), "\(out)")
    }

    /// Dirty tracking: a copy's field crosses back only when this side
    /// changed it from what its owner was last known to hold. The kernel
    /// sets its device's mtu and its priv's flags on its own; the u-driver's
    /// copies (mtu 1500 and flags 5, which it had sent itself in open's
    /// reply) do not overwrite them in the next API calls, and scribbling on
    /// bits of the priv that do not cross (spare) does not make its flags
    /// cross; a field the u-driver writes does.
    @Test func aCopysStaleFieldsDoNotOverwriteTheOwners() throws {
        guard let (out, _) = try run(Self.driver) else { return }
        #expect(out.contains("dirty: copy mtu=1500 register=4321 flags=2 written=6\nkernel priv: flags=6\n"), "\(out)")
    }

    /// A copy's pointer field whose object went crosses again when it is
    /// set to a new object that lies at the same address (the copy's memory
    /// used again): the bytes are the ones last sent, the object is not.
    /// Without it the kernel kept the freed object: 8139cp's MTU change
    /// freed and made its rings within one upcall, and the kernel half
    /// went on with the freed ring (no packet after it, 128 rx errors).
    @Test func aPointerToANewObjectAtAFreedOnesAddressCrosses() throws {
        guard let (out, _) = try run(Self.driver) else { return }
        #expect(out.contains("stale ring: the kernel's ring is the new device\nstale ring: the new copy is at the old one's address\n"), "\(out)")
    }

    /// A buffer argument (DRVSLICE_A_BUF) arrives with as many bytes as its
    /// length argument says and at most its size, or it is refused by name;
    /// the rest of the callee's buffer is zero, so a function reading past
    /// the length sees no bytes of an earlier call.
    @Test func aBuffersBytesAreWhatItsLengthSays() throws {
        guard let (out, _) = try run(Self.driver) else { return }
        #expect(out.contains("sum of 16: 16, of 4 after it: 4\n"), "\(out)")
        #expect(out.contains("4 bytes, length 16: -22 sum_buf: argument 0: 4 bytes, its length (argument 1) says 16\n"), "\(out)")
        #expect(out.contains("8 bytes, length 4: -22 sum_buf: argument 0: 8 bytes, its length (argument 1) says 4\n"), "\(out)")
        #expect(out.contains("20 bytes: -22 sum_buf: argument 0: 20 bytes, at most 16\n"), "\(out)")
    }

    /// A pointer one past an object's end is a value a field may hold, not an
    /// argument: the callee refuses it by name (a kernel function would read
    /// past the object). An argument of a struct type needs the type's room
    /// in its object, A_OWN too. And a pointer to an object that begins
    /// where another ends (two stats side by side) crosses as that object's,
    /// not as one past the end of the other.
    @Test func anArgumentOnePastAnObjectsEndIsRefused() throws {
        guard let (out, _) = try run(Self.driver) else { return }
        #expect(out.contains("adjacent: rx=10 tx=10\n"), "\(out)")
        #expect(out.contains("peek at the window: accepted 0x5a\n"), "\(out)")
        #expect(out.contains("peek one past the window: -22 peek: argument 0: one past the end of object 0x10000000000000"), "\(out)")
        #expect(out.contains("get_flags one past the priv: -22 get_flags: argument 0: one past the end of object 0x1000000000000002\n"), "\(out)")
        #expect(out.contains("get_flags inside the priv: -22 get_flags: argument 0: 48 bytes of priv, 56 needed\n"), "\(out)")
    }

    /// What the kernel untracks (drvslice_untrack: dma_free's thunk) its next
    /// message announces (SLICE_DROP), and the user program drops its copy
    /// and the copy inside: its object count is back where it was, and 400
    /// objects handed over and freed one after another all run (the table
    /// of 256 filled before).
    @Test func anObjectTheOwnerUntracksGoesFromTheOtherSide() throws {
        guard let (out, _) = try run(Self.driver) else { return }
        let line = out.split(separator: "\n").first { $0.hasPrefix("drops: ") }.map(String.init) ?? ""
        let n = line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
        #expect(n.count == 3 && n[1] == n[0] + 2 && n[2] == n[0], "\(out)")
        #expect(out.contains("400 more: 400 ran, \(n.first ?? -1) objects\n"), "\(out)")
    }

    /// Decaf's "the driver is the specification": a field the user side
    /// starts to use crosses once the tool runs again, with no hand edit.
    /// The kernel set priv->weight all along; open now adds it to the mtu.
    @Test func aFieldTheUserSideStartsToUseCrossesAfterTheToolRunsAgain() throws {
        let evolved = Self.driver.replacingOccurrences(of: "d->mtu = 1500;", with: "d->mtu = 1500 + p->weight;")
        #expect(evolved != Self.driver)
        guard let (before, h0) = try run(Self.driver), let (after, h1) = try run(evolved) else { return }
        #expect(!h0.files[0].user.contains("\"priv.weight\""))
        #expect(h1.files[0].user.contains("\"priv.weight\"") && h1.files[0].kernel.contains("\"priv.weight\""))
        #expect(before.hasPrefix("open=7 mtu=1500 "), "\(before)")
        #expect(after.hasPrefix("open=7 mtu=1564 "), "\(after)")
    }

    /// `nullterm` and `array N` take effect in the running code: a string
    /// and an array the kernel's memory holds (no object of either side)
    /// reach the user half's `open` with the pointer, their bytes carried
    /// with it; without the annotations the pointer crosses alone.
    @Test func aStringAndAnArrayCrossWithTheirAnnotations() throws {
        let reading = Self.driver.replacingOccurrences(of: "d->mtu = 1500;", with: "d->mtu = 1500 + p->label[4] + p->table[3];")
        #expect(reading != Self.driver)
        var a = AnnotationSet()
        try a.add("nullterm priv.label\narray priv.table 4\n", file: "minidrv.slice")
        guard let (out, h) = try run(reading, annotations: a) else { return }
        #expect(h.files[0].user.contains("{ \"priv.label\", __builtin_offsetof(struct priv, label), sizeof(((struct priv *)0)->label), DRVSLICE_F_STRING },"))
        #expect(h.files[0].kernel.contains("{ \"priv.table\", __builtin_offsetof(struct priv, table), 4 * sizeof(*((struct priv *)0)->table), DRVSLICE_F_ARRAY },"))
        // 'x' and 40, read by the user half from the kernel's bytes.
        #expect(out.hasPrefix("open=7 mtu=1660 "), "\(out)")
        let (g, split, _) = try Self.split(reading)
        let plain = try SliceHalves(driver: "minidrv", split: split, graph: g)
        #expect(plain.files[0].user.contains("sizeof(((struct priv *)0)->label), DRVSLICE_F_POINTER }"))
        var bad = AnnotationSet()
        try bad.add("array priv.table weight\n", file: "minidrv.slice")
        #expect { try SliceHalves(driver: "minidrv", split: split, graph: g, annotations: bad) } throws: {
            "\($0)" == "minidrv.slice:1: cannot honour `array priv.table` at run time: its length priv.weight does not cross the split "
                + "(neither half reads it where the other wrote it), so the receiver could not check the array against it"
        }
    }

    /// `array FUNCTION.PARAMETER COUNT`: a buffer the kernel half hands a
    /// u-driver function (ethtool's register dump) goes with the upcall
    /// and comes back with the reply, as many bytes as the count (a C
    /// expression of the parameters) says, up to 4096; over that, the call
    /// is not made. A parameter that points to a struct, or a length that
    /// is not an expression, is an error with its line.
    @Test func aBufferParameterGoesAndComesBack() throws {
        var a = AnnotationSet()
        try a.add("array get_regs.buf len\n", file: "minidrv.slice")
        guard let (out, h) = try run(Self.driver, annotations: a) else { return }
        #expect(h.files[0].kernel.contains("unsigned int slice_len_buf = buf ? (unsigned int)((len) * 1) : 0;"), "\(h.files[0].kernel)")
        #expect(h.files[0].kernel.contains("{ DRVSLICE_INOUT_MAX, DRVSLICE_A_INOUT, (void *)0, 4, sizeof(unsigned int) },"))
        // 1 + i for i < 300 (mod 256): 33630; the byte after untouched.
        #expect(out.contains("get_regs: buf[0]=1 buf[299]=44 sum=33630 buf[300]=1\n"), "\(out)")
        #expect(out.contains("get_regs of 5000 bytes: get_regs: argument 2: 5000 bytes, at most 4096, buf[1]=1\n"), "\(out)")
        #expect(out.contains("get_regs of none: ran\n"), "\(out)")
        let (g, split, _) = try Self.split(Self.driver)
        for (line, error) in [
            ("array get_stats.out 2", "array get_stats.out` at run time: it is struct stats *, and fields of struct stats cross the split: its pointers would go unmapped as bytes"),
            ("array get_regs.buf len; x", "array get_regs.buf` at run time: its length `len; x` is not a C expression of the parameters, numbers and names"),
        ] {
            var bad = AnnotationSet()
            try bad.add(line + "\n", file: "minidrv.slice")
            #expect { try SliceHalves(driver: "minidrv", split: split, graph: g, annotations: bad) } throws: {
                "\($0)" == "minidrv.slice:1: cannot honour `\(error)"
            }
        }
    }

    /// `array STRUCT.FIELD LENGTHFIELD` and `sentinel STRUCT.FIELD VALUE`
    /// take effect in the running code: the user half reads the kernel's
    /// malloc'd arrays (as many ints as nrates says, shorts up to -1) and
    /// writes the count back, which crosses with its array; a call whose
    /// count says more than the array holds, or whose sentinel is gone, is
    /// refused by the receiver by field name. Annotations the runtime
    /// cannot honour are errors with their line.
    @Test func anArrayOfAFieldsLengthAndASentinelArrayCross() throws {
        let reading = Self.driver.replacingOccurrences(of: "d->mtu = 1500;", with: "d->mtu = 1500 + d->rates[d->nrates - 1] + d->levels[1]; d->nrates = d->nrates - 1;")
        #expect(reading != Self.driver)
        var a = AnnotationSet()
        try a.add("array netdev.rates nrates\nsentinel netdev.levels -1\n", file: "minidrv.slice")
        guard let (out, h) = try run(reading, annotations: a) else { return }
        let k = h.files[0].kernel
        #expect(k.contains(#"{ "netdev.levels", __builtin_offsetof(struct netdev, levels), sizeof(*((struct netdev *)0)->levels), DRVSLICE_F_SENTINEL, 0, "#), "\(k)")
        #expect(k.contains(#"sizeof(*((struct netdev *)0)->rates), DRVSLICE_F_ARRAY, "#), "\(k)")
        // 70 (rates[6]) and 7 (levels[1]), read by the user half; the count
        // it wrote back (6) reached the kernel.
        #expect(out.hasPrefix("open=7 mtu=1577 "), "\(out)")
        #expect(out.contains("kernel dev: nrates=6\n"), "\(out)")
        #expect(out.contains("count past the array: -22 netdev.rates: 28 bytes where it points, 36 expected\n"), "\(out)")
        #expect(out.contains("sentinel gone: -22 netdev.levels: no element 65535 in the 6 bytes it points to\n"), "\(out)")
        let (g, split, _) = try Self.split(reading.replacingOccurrences(of: "d->nrates = d->nrates - 1;",
                                                                          with: "d->nrates = d->nrates - 1 + (d->names != 0);"))
        for (line, error) in [
            ("array netdev.rates priv", "its length netdev.priv is void *, not an integer of 1, 2, 4 or 8 bytes"),
            ("array netdev.names 2", "it is const char *const *, an array of pointers; the runtime carries arrays of bytes, numbers and structs"),
            ("sentinel netdev.levels end", "its end value end is not an integer"),
            ("sentinel netdev.priv 0", "it is void *; the runtime carries sentinel-ended arrays of integers only"),
        ] {
            var bad = AnnotationSet()
            try bad.add(line + "\n", file: "minidrv.slice")
            let field = line.split(separator: " ")[1]
            #expect { try SliceHalves(driver: "minidrv", split: split, graph: g, annotations: bad) } throws: {
                "\($0)" == "minidrv.slice:1: cannot honour `\(line.split(separator: " ")[0]) \(field)` at run time: \(error)"
            }
        }
    }

    /// Decaf's step: `open` moves to Swift (`driverslicer --decaf open`).
    /// The kernel program calls it as before (an upcall into the user
    /// half, whose C body now calls the Swift); the Swift sets the fields
    /// the C set, through the generated bindings, and calls `start_hw`, a
    /// downcall stub of the user half, as the C did. The run's output is
    /// the C open's, to the byte.
    @Test func aFunctionMovedToSwiftRunsAsTheCDid() throws {
        let moved = """
            /// minidrv's open, in Swift.
            func open(_ d: NetdevRef?) -> Int32 {
                guard let d, let priv = d.priv else { return -22 }
                let p = PrivRef(priv)
                p.mac.storeBytes(of: 0x52, toByteOffset: 0, as: UInt8.self)
                p.mac.storeBytes(of: 0x07, toByteOffset: 5, as: UInt8.self)
                p.flags = 5
                d.mtu = 1500
                start_hw(p)
                p.up = p.hwCalls
                return p.ring == ring ? 7 : -7
            }

            /// minidrv's get_stats, in Swift: d->stats is embedded in d.
            func get_stats(_ d: NetdevRef?, _ out: StatsRef?) {
                guard let d, let out else { return }
                out.rx = d.stats.rx * 2
                out.tx = d.stats.tx + 1
            }
            """
        guard let (c, _) = try run(Self.driver), let (swift, h) = try run(Self.driver, decaf: (["open", "get_stats"], moved)) else { return }
        let user = h.files[0].user
        // open's C body is gone: it calls the Swift.
        #expect(user.contains("return slice_minidrv_swift_open((void *)d);"), "\(user)")
        #expect(user.contains("slice_minidrv_swift_get_stats((void *)d, (void *)out);"), "\(user)")
        #expect(!user.contains("p->mac[0] = 0x52;"), "\(user)")
        #expect(c.hasPrefix("open=7 mtu=1500 up=1 flags=5 spare=0 mac=52:07 hw_calls=1 ring=set\nget_stats rx=10 tx=10\n"), "\(c)")
        #expect(swift == c, "\(swift)")
    }

    /// What cannot move says where and why.
    @Test func aFunctionThatCannotMoveIsAnError() throws {
        let (g, split, _) = try Self.split(Self.driver)
        // Nothing is named nosuch; xmit is the nucleus's.
        #expect(throws: SliceError.self) { try DecafBindings(driver: "minidrv", functions: ["nosuch"], split: split, graph: g, source: Self.driver) }
        do {
            _ = try DecafBindings(driver: "minidrv", functions: ["xmit"], split: split, graph: g, source: Self.driver)
            Issue.record("xmit moved")
        } catch let e as SliceError {
            #expect(e.description.contains("minidrv.c:"), "\(e)")
            #expect(e.description.contains("xmit: cannot move to Swift: it is not in the user half"), "\(e)")
        }
        // get_stats writes out->rx through a struct stats: it moves.
        let b = try DecafBindings(driver: "minidrv", functions: ["get_stats"], split: split, graph: g, source: Self.driver)
        #expect(b.swift.contains("struct StatsRef {"), "\(b.swift)")
        #expect(b.swift.contains("nonmutating set { slice_minidrv_set_stats_rx(raw, newValue) }"), "\(b.swift)")
        #expect(b.header.contains("uint64_t slice_minidrv_get_stats_rx(void *o);"), "\(b.header)")
        #expect(b.swift.contains("var stats: StatsRef { StatsRef(slice_minidrv_addr_netdev_stats(raw)) }"), "\(b.swift)")
    }

    /// A kernel function a macro names without its leading underscores
    /// (x86's `inl` is `__inl`) is bound under the name the driver writes,
    /// which is what the user half can call; a macro around a call (cpr8)
    /// does not rename it.
    @Test func aCalleeIsBoundUnderTheNameTheDriverWrites() throws {
        let driver = Self.driver.replacingOccurrences(of: "static unsigned int ring[8];", with: """
            static unsigned int ring[8];
            void __poke(int v);
            int peek(int r);
            #define poke __poke
            #define PEEK_TWICE(r) (peek(r) + peek(r))
            """).replacingOccurrences(of: "d->mtu = 1500;", with: "d->mtu = 1500 + PEEK_TWICE(1); poke(2);")
        let (g, split, _) = try Self.split(driver)
        #expect(g.calleeSpellings == ["__poke": "poke"])
        let b = try DecafBindings(driver: "minidrv", functions: ["open"], split: split, graph: g, source: driver)
        #expect(b.swift.contains("func poke(_ a0: Int32) {"), "\(b.swift)")
        #expect(b.swift.contains("func peek(_ a0: Int32) -> Int32 {"), "\(b.swift)")
        #expect(b.userC.contains("\tpoke(a0);\n"), "\(b.userC)")
        #expect(!b.swift.contains("PEEK_TWICE("), "\(b.swift)")
    }

    /// The `#define`s a moved function names are bound when their body is
    /// an integer expression (literals, other such macros, operators).
    @Test func integerDefinesAreEvaluated() {
        let m = DecafBindings.integerMacros("""
            #define EE_CS\t\t0x08\t/* select */
            #define EE_ENB\t\t(0x80 | EE_CS)
            # define SHIFTED (EE_ENB << 2) // a comment
            #define NOT_A ~EE_CS
            #define OCTAL 010
            #define LONG (1UL << 3)
            #define MIXED (EE_CS + 2 * 3 - 1)
            #define CALL foo(1)
            #define FN(x) ((x) + 1)
            #define CAST ((u8)1)
            #define CYCLE_A CYCLE_B
            #define CYCLE_B CYCLE_A
            #define STRING "x"
            """)
        #expect(m == ["EE_CS": 8, "EE_ENB": 136, "SHIFTED": 544, "NOT_A": -9, "OCTAL": 8, "LONG": 8, "MIXED": 13])
    }
}
