// SPDX-License-Identifier: GPL-2.0
/*
 * slice-fuzz - a hostile u-driver for a sliced device on drvnucleus.ko, run
 * in the slice guest (Tests/vm/slice-guest.sh) once drivermgrd is gone.
 *
 * It registers as the daemon, adopts the device (SLICE_PROBE with
 * REATTACH: the answer names every object of the kernel half's), finds
 * the calls the kernel half serves by asking for each id with no
 * arguments (the refusal names the function and how many it takes), and
 * then sends SLICE_DOWNCALLs: each argument a pointer into one of the
 * kernel's objects (at its start, inside, at its end, past it), a pointer
 * to an object never made, NULL, a value of the size the kernel asked for
 * or of another, bytes, a string; now and then with objects announced,
 * drops, a CALL_ID sent twice, and SLICE_STRUCTs that must be refused.
 * Every call the kernel half's checks let through runs: the kernel API's
 * functions on the device's own resources (free_netdev, iounmap,
 * dma_free_attrs, unregister_netdev ...) and the kernel half's own.  The
 * kernel's upcalls into the u-driver are answered with -EIO.
 *
 * The kernel half's own functions (cp_clean_rings, cp_init_rings, ...) get
 * only calls their checks must refuse (an object never made, a wrong count
 * of arguments) unless --kernel-half: the kernel half runs the driver's
 * own code, which trusts its caller to call it when the driver would, as
 * the unsliced driver's does; a u-driver that calls cp_clean_rings under a
 * running data path frees what its interrupt handler may still use.  The
 * kernel API's functions are the trust boundary and get everything but a
 * register write (writel, outb, ...) that could reach the chip, unless
 * --raw-writes: the nucleus trusts the u-driver with register values (a
 * chip told to DMA somewhere at random would corrupt the guest without an
 * IOMMU), as genl-fuzz's writes do.
 *
 * A hostile u-driver may stop its device; it must not take the kernel with
 * it.  The guest's script checks dmesg for an oops or a warning afterwards
 * and removes the module.  SLICE_STRUCTs with values that would be written
 * (a crossing field set to anything) are not sent: the kernel half trusts
 * the u-driver with the driver's fields as the nucleus does with register
 * values (a design finding, not one of the code under test).
 *
 * usage: slice-fuzz --instance N [--seed S] [--seconds T] [--messages M]
 *                   [--kernel-half] [--raw-writes]
 * Exit: 0; 1 usage or setup; 2 a socket died, a reply was malformed, or a
 * call was not answered within its deadline.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../module/include/uapi/drvxpc.h"
#include "genl-sock.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define GENL_OFF	(NLMSG_HDRLEN + GENL_HDRLEN)
#define MSG_CAP		(GENL_OFF + DRVXPC_MSG_MAX)
#define H_KERNEL	0x1000000000000000ULL
#define H_USER		0x2000000000000000ULL
#define API_BASE	0x8000
#define MAX_ENTRIES	512
#define MAX_OBJS	256
#define MAX_ARGS	8
#define ANSWER_MS	20000

static uint64_t rng_s = 1;
static bool opt_kernel_half, opt_raw_writes;

static uint64_t rnd64(void)
{
	/* xorshift64*: one sequence per seed, so a finding reproduces. */
	rng_s ^= rng_s >> 12;
	rng_s ^= rng_s << 25;
	rng_s ^= rng_s >> 27;
	return rng_s * 2685821657736338717ULL;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

/* ---- netlink ---- */

static int sock = -1;
static uint16_t family;
static uint32_t nl_seq = 100, xpc_seq = 1;
static uint32_t instance;

struct msg {
	uint8_t buf[MSG_CAP];
	uint32_t len;	/* from the drvxpc header on */
};

static struct drvxpc_hdr *xhdr(struct msg *m)
{
	return (struct drvxpc_hdr *)(m->buf + GENL_OFF);
}

static void msg_init(struct msg *m, uint16_t op, uint16_t flags)
{
	struct drvxpc_hdr *h = xhdr(m);

	memset(m->buf, 0, GENL_OFF + sizeof(*h));
	h->op = op;
	h->flags = DRVXPC_F_REQUEST | flags;
	h->seq = ++xpc_seq;
	h->instance = instance;
	h->timeout_us = 5000000;
	m->len = sizeof(*h);
	h->len = m->len;
}

static void put(struct msg *m, uint16_t type, const void *v, uint32_t n)
{
	struct drvxpc_attr a = { .len = (uint16_t)(DRVXPC_ATTR_HDRLEN + n), .type = type };
	uint8_t *p = m->buf + GENL_OFF + m->len;

	if (GENL_OFF + m->len + DRVXPC_ALIGN(DRVXPC_ATTR_HDRLEN + n) > sizeof(m->buf) - 64)
		return;
	memcpy(p, &a, sizeof(a));
	if (n)
		memcpy(p + DRVXPC_ATTR_HDRLEN, v, n);
	memset(p + DRVXPC_ATTR_HDRLEN + n, 0, DRVXPC_ALIGN(a.len) - a.len);
	m->len += DRVXPC_ALIGN(a.len);
	xhdr(m)->len = m->len;
}

static uint32_t nest_begin(struct msg *m, uint16_t type)
{
	uint32_t at = m->len;

	put(m, type | DRVXPC_A_F_NESTED, NULL, 0);
	return at;
}

static void nest_end(struct msg *m, uint32_t at)
{
	struct drvxpc_attr a;
	uint8_t *p = m->buf + GENL_OFF + at;

	memcpy(&a, p, sizeof(a));
	a.len = (uint16_t)(m->len - at);
	memcpy(p, &a, sizeof(a));
}

static void put_ptr(struct msg *m, uint64_t h, uint32_t off)
{
	uint8_t v[12];

	memcpy(v, &h, 8);
	memcpy(v + 8, &off, 4);
	put(m, DRVXPC_A_SLICE_ARG, v, 12);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* A reply: its status, why, and a copy of its bytes. */
struct reply {
	int32_t status;
	bool field;		/* ERR_ATTR named */
	char why[256];
	uint8_t *bytes;
	uint32_t len;
};

static uint64_t upcalls_answered;
static const char *current_call = "";

/* The message's attributes in hex, for a call that went wrong. */
static void dump(const struct msg *m)
{
	const uint8_t *p = m->buf + GENL_OFF + sizeof(struct drvxpc_hdr);
	uint32_t i, n = m->len - sizeof(struct drvxpc_hdr);

	for (i = 0; i < n; i++)
		printf("%02x%s", p[i], (i + 1) % 32 ? "" : "\n");
	printf("\n");
}

static void fail_hard(const char *what)
{
	printf("slice-fuzz: %s\n", what);
	exit(2);
}

/* The kernel asks the u-driver something (a SLICE_UPCALL, a class op):
 * -EIO, at once. */
static void answer_upcall(const struct drvxpc_hdr *h)
{
	uint8_t buf[GENL_OFF + sizeof(struct drvxpc_hdr)];
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(n);
	struct drvxpc_hdr *x = (struct drvxpc_hdr *)(buf + GENL_OFF);

	memset(buf, 0, sizeof(buf));
	genl_reply_header(x, h);
	x->status = -EIO;
	n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + x->len);
	n->nlmsg_type = family;
	n->nlmsg_flags = NLM_F_REQUEST;
	g->cmd = 1;
	g->version = DRVXPC_GENL_VERSION;
	if (send(sock, buf, n->nlmsg_len, 0) < 0)
		fail_hard("an upcall's answer could not be sent");
	upcalls_answered++;
}

/* Past an attribute of @len bytes (padded), never past @end. */
static const uint8_t *step(const uint8_t *p, const uint8_t *end, uint16_t len)
{
	size_t adv = DRVXPC_ALIGN((size_t)len);

	return adv < (size_t)(end - p) ? p + adv : end;
}

static const uint8_t *find(const uint8_t *p, uint32_t len, uint16_t type, uint32_t *n)
{
	const uint8_t *end = p + len;

	while (end - p >= DRVXPC_ATTR_HDRLEN) {
		struct drvxpc_attr a;

		memcpy(&a, p, sizeof(a));
		if (a.len < DRVXPC_ATTR_HDRLEN || a.len > end - p)
			return NULL;
		if ((a.type & ~DRVXPC_A_F_NESTED) == type) {
			*n = a.len - DRVXPC_ATTR_HDRLEN;
			return p + DRVXPC_ATTR_HDRLEN;
		}
		p = step(p, end, a.len);
	}
	return NULL;
}

/*
 * Sends @m and waits for its drvxpc reply (a SLICE_DOWNCALL is served by a
 * worker: the netlink ack comes first, the reply later), answering the
 * kernel's upcalls meanwhile.  A request the kernel refused at the netlink
 * level (its attribute checks) has an error ack and no reply.
 */
static void exchange(struct msg *m, struct reply *r)
{
	static uint8_t rbuf[256 * 1024];
	struct nlmsghdr *n = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g = NLMSG_DATA(n);
	uint32_t seq = ++nl_seq, xseq = xhdr(m)->seq;
	double until = now_ms() + ANSWER_MS;
	bool acked = false;

	n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + m->len);
	n->nlmsg_type = family;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	n->nlmsg_seq = seq;
	g->cmd = 1;
	g->version = DRVXPC_GENL_VERSION;
	memset(r, 0, sizeof(*r));
	if (send(sock, m->buf, NLMSG_ALIGN(n->nlmsg_len), 0) < 0)
		fail_hard("send failed");
	for (;;) {
		int got = recv(sock, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *h;
		int rem = got;

		if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (now_ms() > until) {
				printf("slice-fuzz: no answer within %d ms to op %u seq %u (%s)\n",
				       ANSWER_MS, xhdr(m)->op, xseq, current_call);
				dump(m);
				exit(2);
			}
			continue;
		}
		if (got <= 0)
			fail_hard("the socket closed");
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			const struct drvxpc_hdr *x;
			uint32_t xlen;

			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_seq != seq)
					continue;
				acked = true;
				if (e->error) {
					/* Refused before any drvxpc reply. */
					r->status = e->error;
					snprintf(r->why, sizeof(r->why), "netlink: %s", strerror(-e->error));
					return;
				}
				if (r->bytes)
					return;
				continue;
			}
			if (h->nlmsg_type != family || h->nlmsg_len < GENL_OFF + sizeof(*x))
				fail_hard("a message of another family, or short");
			x = (const void *)((uint8_t *)h + GENL_OFF);
			xlen = h->nlmsg_len - GENL_OFF;
			if (x->len != xlen)
				fail_hard("a drvxpc header whose length is not the message's");
			if (x->flags & DRVXPC_F_REPLY) {
				const uint8_t *w;
				uint32_t wn = 0;

				if (x->seq != xseq)
					continue;	/* an earlier call's, answered late */
				if (x->status > 0 || x->status < -4095)
					fail_hard("a reply status out of range");
				r->status = x->status;
				r->field = find((const uint8_t *)(x + 1), xlen - sizeof(*x), DRVXPC_A_ERR_ATTR, &wn) != NULL;
				w = find((const uint8_t *)(x + 1), xlen - sizeof(*x), DRVXPC_A_ERR_MSG, &wn);
				if (w)
					snprintf(r->why, sizeof(r->why), "%.*s", (int)wn, (const char *)w);
				if (x->status < 0 && !w)
					fail_hard("a refusal without a reason");
				r->len = xlen;
				r->bytes = malloc(xlen);
				if (!r->bytes)
					fail_hard("out of memory");
				memcpy(r->bytes, x, xlen);
				if (acked)
					return;
			} else if (x->flags & DRVXPC_F_REQUEST) {
				answer_upcall(x);
			}
		}
	}
}

/* ---- what the kernel half has ---- */

struct object {
	uint64_t h;
	uint32_t size;
};

/* What an argument was: a pointer (handle, offset), a function, or
 * bytes (a value of @n bytes, a buffer, a string). */
enum { S_NONE, S_PTR, S_FN, S_BYTES };

struct shape {
	uint8_t kind;
	uint32_t n;
	uint64_t h;
	uint32_t off;
	uint8_t b[16];
};

struct entry {
	uint16_t id;
	uint8_t nargs;
	char name[48];
	uint64_t sent, ran, refused;
	bool writes;	/* a register write: writeb, iowrite32, outl ... */
	/* an argument that got past the kernel's checks: its shape, kept to
	 * be sent again (mutated) so that the calls reach further */
	struct shape good[MAX_ARGS];
};

/* The arguments of the call being sent (one more slot: any past the
 * last). */
static struct shape sent_shape[MAX_ARGS + 1];
static struct object objs[MAX_OBJS];
static unsigned int nobjs;
static struct entry entries[MAX_ENTRIES];
static unsigned int nentries;
/* The 8-byte values of the adoption's struct fields (a DMA handle among
 * them: cp_private.ring_dma). */
static uint64_t values[128];
static unsigned int nvalues;

/* Every object the adoption's state names (SLICE_OBJECT: HANDLE, SIZE). */
static void harvest(const uint8_t *p, uint32_t len, int depth)
{
	const uint8_t *end = p + len;

	while (end - p >= DRVXPC_ATTR_HDRLEN && depth < 6) {
		struct drvxpc_attr a;
		uint32_t n;

		memcpy(&a, p, sizeof(a));
		if (a.len < DRVXPC_ATTR_HDRLEN || a.len > end - p)
			return;
		n = a.len - DRVXPC_ATTR_HDRLEN;
		if ((a.type & ~DRVXPC_A_F_NESTED) == DRVXPC_A_SLICE_OBJECT && nobjs < MAX_OBJS) {
			const uint8_t *hv, *sv;
			uint32_t hn, sn;

			hv = find(p + DRVXPC_ATTR_HDRLEN, n, DRVXPC_A_SLICE_HANDLE, &hn);
			sv = find(p + DRVXPC_ATTR_HDRLEN, n, DRVXPC_A_SLICE_SIZE, &sn);
			if (hv && hn == 8) {
				memcpy(&objs[nobjs].h, hv, 8);
				objs[nobjs].size = 0;
				if (sv && sn == 4)
					memcpy(&objs[nobjs].size, sv, 4);
				nobjs++;
			}
		} else if ((a.type & ~DRVXPC_A_F_NESTED) == DRVXPC_A_SLICE_FIELD_VALUE && n == 8 &&
			   nvalues < sizeof(values) / sizeof(values[0])) {
			uint64_t v;
			unsigned int i;

			memcpy(&v, p + DRVXPC_ATTR_HDRLEN, 8);
			for (i = 0; i < nvalues && values[i] != v; i++)
				;
			if (i == nvalues && v)
				values[nvalues++] = v;
		} else if (a.type & DRVXPC_A_F_NESTED) {
			harvest(p + DRVXPC_ATTR_HDRLEN, n, depth + 1);
		}
		p = step(p, end, a.len);
	}
}

static struct msg mbuf;

static void adopt(void)
{
	struct reply r;

	msg_init(&mbuf, DRVXPC_OP_SLICE_PROBE, DRVXPC_F_REATTACH);
	exchange(&mbuf, &r);
	if (r.status < 0) {
		printf("slice-fuzz: SLICE_PROBE refused: %s\n", r.why);
		exit(1);
	}
	if (r.bytes)
		harvest(r.bytes + sizeof(struct drvxpc_hdr), r.len - sizeof(struct drvxpc_hdr), 0);
	free(r.bytes);
}

/* One id, no arguments: "no entry", "not served by this half", or
 * "NAME: 0 arguments, expected N" (or it ran: a call of none). */
static void discover(uint16_t id)
{
	struct entry *e = &entries[nentries];
	unsigned int got, want;
	struct reply r;
	char name[48];

	msg_init(&mbuf, DRVXPC_OP_SLICE_DOWNCALL, 0);
	put(&mbuf, DRVXPC_A_SLICE_ENTRY, &id, 2);
	exchange(&mbuf, &r);
	free(r.bytes);
	if (nentries == MAX_ENTRIES)
		return;
	memset(e, 0, sizeof(*e));
	e->id = id;
	if (r.status == 0) {
		snprintf(e->name, sizeof(e->name), "entry %u", id);
		nentries++;
	} else if (sscanf(r.why, "%47[^:]: %u arguments, expected %u", name, &got, &want) == 3 &&
		   want <= MAX_ARGS) {
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->nargs = (uint8_t)want;
		e->writes = !strncmp(name, "write", 5) || !strncmp(name, "iowrite", 7) ||
			    ((!strncmp(name, "out", 3) && strlen(name) == 4));
		nentries++;
	}
}

/* What the kernel's answer says about the arguments sent: all of them got
 * past its checks (it ran), or those before the one it names. */
static void learn(struct entry *e, unsigned int nargs, const struct reply *r)
{
	const char *at = strstr(r->why, ": argument ");
	unsigned int i, upto = 0;

	if (nargs != e->nargs)
		return;
	if (r->status == 0)
		upto = nargs;
	else if (at && sscanf(at, ": argument %u", &upto) != 1)
		upto = 0;
	for (i = 0; i < upto && i < MAX_ARGS; i++)
		e->good[i] = sent_shape[i];
}

/* ---- the calls ---- */

static uint64_t a_handle(void)
{
	if (nobjs && chance(85))
		return objs[below(nobjs)].h;
	switch (below(4)) {
	case 0:
		return H_KERNEL | (rnd64() & 0xffff);	/* one never made, likely */
	case 1:
		return H_USER | below(64);		/* the caller's */
	case 2:
		return 0;
	default:
		return rnd64();
	}
}

static uint32_t an_offset(uint64_t h)
{
	uint32_t size = 0;
	unsigned int i;

	for (i = 0; i < nobjs; i++)
		if (objs[i].h == h)
			size = objs[i].size;
	switch (below(8)) {
	case 0:
		return size;			/* one past its end */
	case 1:
		return size + 1 + below(64);	/* past it */
	case 2:
		return size ? below(size) : 0;	/* inside */
	case 3:
		return (uint32_t)rnd64();
	default:
		return 0;
	}
}

static uint64_t a_value(void)
{
	static const uint64_t interesting[] = {
		0, 1, 2, 4, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x7fffffff,
		0x80000000, 0xffffffff, ~0ULL, 1500, 9000, 65536,
	};

	return chance(70) ? interesting[below(sizeof(interesting) / sizeof(interesting[0]))] : rnd64();
}

static void put_shape(struct msg *m, const struct shape *sh)
{
	if (sh->kind == S_PTR || sh->kind == S_FN)
		put_ptr(m, sh->h, sh->off);
	else
		put(m, DRVXPC_A_SLICE_ARG, sh->b, sh->n);
}

/* Argument @i of a call of @e into @sh: mostly what got past the checks
 * before (a pointer moved to another object or offset now and then, a
 * value changed), else anything. */
static void gen_arg(struct entry *e, unsigned int i, struct shape *sh)
{
	const struct shape *g = &e->good[i];
	uint64_t v;
	unsigned int k;

	memset(sh, 0, sizeof(*sh));
	if (g->kind && chance(80)) {
		*sh = *g;
		if (g->kind == S_PTR && chance(40)) {
			sh->h = chance(70) ? g->h : a_handle();
			sh->off = chance(60) ? 0 : an_offset(sh->h);
		} else if (g->kind == S_BYTES && g->n <= 8 && chance(60)) {
			v = a_value();
			memcpy(sh->b, &v, g->n);
		} else if (g->kind == S_FN && chance(30)) {
			sh->h = 0x3000000000000000ULL | below(1024);
		}
		return;
	}
	switch (below(7)) {
	case 0:
	case 1:
	case 2:
		sh->kind = S_PTR;
		sh->h = a_handle();
		sh->off = chance(60) ? 0 : an_offset(sh->h);
		break;
	case 3:
		sh->kind = S_FN;
		sh->h = 0x3000000000000000ULL | below(1024);
		break;
	case 4:
		sh->kind = S_BYTES;
		sh->n = 1u << below(4);
		v = a_value();
		memcpy(sh->b, &v, sh->n);
		break;
	case 5:
		sh->kind = S_BYTES;
		sh->n = below(sizeof(sh->b) + 1);
		for (k = 0; k < sh->n; k++)
			sh->b[k] = (uint8_t)rnd64();
		break;
	default:
		sh->kind = S_BYTES;
		sh->n = 6;
		memcpy(sh->b, "eth%d", 6);
	}
}

/* Objects of the caller's announced, copies the kernel makes (and frees
 * when the call ends, or at a later SLICE_DROP). */
static void put_object(struct msg *m)
{
	uint32_t at = nest_begin(m, DRVXPC_A_SLICE_OBJECT);
	uint64_t h = chance(80) ? (H_USER | (1 + below(64))) : a_handle();
	uint32_t size = chance(50) ? below(64) : below(0x2000);
	uint16_t type = (uint16_t)below(40);

	put(m, DRVXPC_A_SLICE_HANDLE, &h, 8);
	put(m, DRVXPC_A_SLICE_SIZE, &size, 4);
	if (chance(50))
		put(m, DRVXPC_A_SLICE_STRUCT_ID, &type, 2);
	if (chance(20)) {
		uint64_t ph = a_handle();

		put_ptr(m, ph, an_offset(ph));
	}
	nest_end(m, at);
}

/* A SLICE_STRUCT the kernel must refuse whole: of an object never made, or
 * with a field no type has. */
static void put_bad_struct(struct msg *m)
{
	uint32_t at = nest_begin(m, DRVXPC_A_SLICE_STRUCT);
	uint16_t type = (uint16_t)below(40), fid = (uint16_t)(0x4000 + below(0x4000));
	uint64_t h = chance(50) ? (H_KERNEL | (0x100000 + below(1000))) : (nobjs ? objs[below(nobjs)].h : 0);
	uint64_t val = a_value();
	uint32_t f;

	put_ptr(m, h, 0);
	put(m, DRVXPC_A_SLICE_STRUCT_ID, &type, 2);
	f = nest_begin(m, DRVXPC_A_SLICE_FIELD);
	put(m, DRVXPC_A_SLICE_FIELD_ID, &fid, 2);
	put(m, DRVXPC_A_SLICE_FIELD_VALUE, &val, 1u << below(4));
	nest_end(m, f);
	nest_end(m, at);
}

/*
 * A check before the fuzzing: dma_free_attrs of each of the kernel's
 * buffers, with each object as the device and each of the adoption's
 * 8-byte field values as the DMA handle, until one is not refused for its
 * arguments.  A buffer the driver's state points at (8139cp's rings) must
 * be refused while the interrupt handler is requested: the kernel half's
 * handler reads it.  Prints what each buffer's last answer was.
 */
static void check_buffer_frees(void)
{
	struct entry *e = NULL;
	unsigned int i, b, d, v, busy = 0, freed = 0, tried = 0;
	char first[256] = "";
	struct reply r;

	for (i = 0; i < nentries; i++)
		if (!strcmp(entries[i].name, "dma_free_attrs") && entries[i].nargs == 5)
			e = &entries[i];
	if (!e)
		return;
	for (b = 0; b < nobjs; b++) {
		bool done = false;

		if (objs[b].size < 64)
			continue;
		for (d = 0; d < nobjs && !done; d++)
			for (v = 0; v < nvalues && !done; v++) {
				uint64_t size = objs[b].size, attrs = 0;

				msg_init(&mbuf, DRVXPC_OP_SLICE_DOWNCALL, 0);
				put(&mbuf, DRVXPC_A_SLICE_ENTRY, &e->id, 2);
				put_ptr(&mbuf, objs[d].h, 0);
				put(&mbuf, DRVXPC_A_SLICE_ARG, &size, 8);
				put_ptr(&mbuf, objs[b].h, 0);
				put(&mbuf, DRVXPC_A_SLICE_ARG, &values[v], 8);
				put(&mbuf, DRVXPC_A_SLICE_ARG, &attrs, 8);
				current_call = "dma_free_attrs (the check)";
				exchange(&mbuf, &r);
				tried++;
				if (r.status == 0) {
					printf("slice-fuzz: check: dma_free_attrs freed object %#llx (%u bytes)\n",
					       (unsigned long long)objs[b].h, objs[b].size);
					freed++;
					done = true;
				} else if (r.status == -EBUSY) {
					if (!busy++)
						snprintf(first, sizeof(first), "%s", r.why);
					done = true;
				}
				free(r.bytes);
			}
	}
	printf("== slice fuzz: dma_free_attrs of the kernel's buffers: %u calls, %u refused while in use, %u freed%s%s\n",
	       tried, busy, freed, busy ? ": " : "", first);
}

int main(int argc, char **argv)
{
	double seconds = 60, start;
	uint64_t messages = ~0ULL, sent = 0, ran = 0, refused = 0, field = 0, netlink = 0;
	uint64_t last_call_id = 0, answered_again = 0;
	bool again;
	unsigned int i;
	struct reply r;
	uint16_t id;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--instance") && i + 1 < (unsigned int)argc)
			instance = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < (unsigned int)argc)
			rng_s = strtoull(argv[++i], NULL, 0) * 0x9e3779b97f4a7c15ULL | 1;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < (unsigned int)argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--messages") && i + 1 < (unsigned int)argc)
			messages = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--kernel-half"))
			opt_kernel_half = true;
		else if (!strcmp(argv[i], "--raw-writes"))
			opt_raw_writes = true;
		else {
			fprintf(stderr, "usage: slice-fuzz --instance N [--seed S] [--seconds T] [--messages M] [--kernel-half] [--raw-writes]\n");
			return 1;
		}
	}
	if (!instance) {
		fprintf(stderr, "slice-fuzz: --instance is required\n");
		return 1;
	}
	sock = genl_sock_open("slice-fuzz", 1);
	{
		int f = genl_family_id(sock);

		if (f <= 0) {
			fprintf(stderr, "slice-fuzz: no %s family\n", DRVXPC_GENL_NAME);
			return 1;
		}
		family = (uint16_t)f;
	}
	msg_init(&mbuf, DRVXPC_OP_REGISTER, 0);
	xhdr(&mbuf)->instance = 0;
	{
		uint32_t v = DRVXPC_VERSION;

		put(&mbuf, DRVXPC_A_VERSION, &v, 4);
	}
	exchange(&mbuf, &r);
	free(r.bytes);
	if (r.status < 0) {
		printf("slice-fuzz: REGISTER refused: %s\n", r.why);
		return 1;
	}
	adopt();
	for (id = 1; id < 1024; id++)
		discover(id);
	for (id = API_BASE; id < API_BASE + 256; id++)
		discover(id);
	printf("== slice fuzz: adopted instance %u: %u objects of the kernel's, %u calls served\n",
	       instance, nobjs, nentries);
	if (!nentries || !nobjs)
		return 1;
	check_buffer_frees();
	start = now_ms();
	while (sent < messages && now_ms() - start < seconds * 1000) {
		struct entry *e = &entries[below(nentries)];
		unsigned int nargs = e->nargs;

		bool wild = (!opt_kernel_half && e->id < API_BASE) || (!opt_raw_writes && e->writes);

		msg_init(&mbuf, DRVXPC_OP_SLICE_DOWNCALL, 0);
		if (chance(3) || (wild && chance(50)))
			nargs = below(MAX_ARGS + 2);
		if (chance(10)) {
			put_object(&mbuf);
			if (chance(30))
				put_object(&mbuf);
		}
		if (chance(5)) {
			uint64_t h = chance(50) ? (H_USER | below(64)) : a_handle();

			put(&mbuf, DRVXPC_A_SLICE_DROP, &h, 8);
		}
		put(&mbuf, DRVXPC_A_SLICE_ENTRY, &e->id, 2);
		for (i = 0; i < nargs; i++) {
			struct shape *sh = &sent_shape[i < MAX_ARGS ? i : MAX_ARGS];

			if (wild && nargs == e->nargs) {
				memset(sh, 0, sizeof(*sh));
				sh->kind = S_PTR;
				sh->h = H_KERNEL | (0xfff000 + below(0x1000));
			} else {
				gen_arg(e, i < MAX_ARGS ? i : MAX_ARGS - 1, sh);
			}
			put_shape(&mbuf, sh);
		}
		if (chance(3))
			put_bad_struct(&mbuf);
		again = false;
		if (chance(10)) {
			/* Named as drivermgrd names a forwarded call; now and
			 * then the last one's name again (a re-send: answered
			 * from the first time, whatever it asks now). */
			uint64_t cid = rnd64() | 1;

			if (chance(30) && last_call_id) {
				cid = last_call_id;
				again = true;
			}
			put(&mbuf, DRVXPC_A_CALL_ID, &cid, 8);
			last_call_id = cid;
		}
		if (chance(2)) {
			/* A SLICE_PROBE between calls: adopted again. */
			struct reply pr;

			msg_init(&mbuf, DRVXPC_OP_SLICE_PROBE, DRVXPC_F_REATTACH);
			exchange(&mbuf, &pr);
			free(pr.bytes);
			continue;
		}
		sent++;
		current_call = e->name;
		exchange(&mbuf, &r);
		if (again) {
			answered_again++;
		} else if (r.status == 0) {
			e->sent++;
			e->ran++;
			ran++;
			learn(e, nargs, &r);
		} else {
			e->sent++;
			e->refused++;
			refused++;
			if (r.field)
				field++;
			if (!r.bytes)
				netlink++;
			learn(e, nargs, &r);
		}
		free(r.bytes);
	}
	printf("== slice fuzz: %llu calls in %.0f s: %llu ran, %llu refused (%llu naming a field, %llu by netlink's checks), %llu answered again (a CALL_ID sent twice), %llu upcalls answered\n",
	       (unsigned long long)sent, (now_ms() - start) / 1000, (unsigned long long)ran,
	       (unsigned long long)refused, (unsigned long long)field, (unsigned long long)netlink,
	       (unsigned long long)answered_again, (unsigned long long)upcalls_answered);
	for (i = 0; i < nentries; i++)
		if (entries[i].ran)
			printf("   ran: %s %llu of %llu\n", entries[i].name,
			       (unsigned long long)entries[i].ran, (unsigned long long)entries[i].sent);
	return 0;
}
