// SPDX-License-Identifier: GPL-2.0
/*
 * genl-fuzz - a structured generator for drvnucleus.ko's generic netlink
 * family, run in the QEMU guest (Tests/vm/genl-fuzz.sh).
 *
 * Messages are built from drvxpc.h: every attribute's kind, size limit and
 * range come from DRVXPC_ATTRS through drvxpc_attr_kind/_max/_range, the
 * ops from DRVXPC_OPS.  What each op reads is protocol knowledge and lives
 * in gen_op() below.  Most messages are valid with one field mutated (a
 * header field, or an attribute's type, length, value, nesting, a
 * duplicate, a truncation); the rest are sequences across devices and
 * handles (DMA_ALLOC, use, free, double free, stale and foreign handles,
 * REG_SEQ at the BAR's edges, the class ops in and out of order), messages
 * from a second socket that is not the daemon, daemon hand-overs and
 * random bytes.  A thread on a third socket sends SIM_CONTROL PINGs, whose
 * upcalls the daemon socket answers.
 *
 * Every message asks for an ack, so every message ends in one NLMSG_ERROR
 * with its sequence number, after at most one drvxpc reply.  Each reply is
 * checked for form (header fields, attributes against the table) and,
 * where the outcome follows from the message and the model, for content:
 * header and attribute checks (a reference validator written from
 * xpccheck.c's contract), permissions, unknown instances, register targets
 * against the BAR, DMA handles (the model's live, pinned, stale and
 * foreign ones), DEVICE_INFO's object list against the model.
 *
 * Register writes that reach a device only write back a value read from
 * the same register (REG_WRITE_DMA is undone at once): the nucleus trusts
 * the u-driver with register values, and without an IOMMU a chip told to
 * DMA somewhere at random would corrupt the guest - a finding about the
 * design, not about the code under test.  --raw-writes lifts this.
 *
 * usage: genl-fuzz [--seed N] [--messages N] [--seconds S] [--max-live N]
 *                  [--raw-writes] [--verbose]
 *        genl-fuzz --info        (one line per device, from a plain socket)
 * Exit: 0; 1 usage or setup; 2 a socket died or a reply was malformed;
 * 3 an outcome contradicted the model.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
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

#define MSG_CAP		(DRVXPC_MSG_MAX + 4096)
#define RECV_CAP	(256 * 1024)
#define MAX_DEVS	8
#define MAX_LIVE	256
#define MAX_STALE	64
#define ECHO_SLOTS	512
#define MAX_INDEX	1100
#define ERRNO_MAX	4096

/* --- randomness ---------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd64(struct rng *r)
{
	/* xorshift64*: a fixed sequence per seed, so a failure reproduces. */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd(struct rng *r)
{
	return rnd64(r) >> 32;
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? rnd(r) % n : 0;
}

/* true with probability pct/100 */
static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* --- options and tallies -------------------------------------------------- */

static uint64_t opt_seed = 1;
static uint64_t opt_messages = 1000000;
static double opt_seconds = 0;
static int opt_max_live = 48;
static bool opt_raw_writes;
static bool opt_verbose;

/* Replies by status (index: -status), netlink errors without a drvxpc
 * reply, acks without a reply; one set per thread, added up at the end. */
struct tally {
	uint64_t sent;
	uint64_t reply_status[ERRNO_MAX];
	uint64_t nl_error[ERRNO_MAX];
	uint64_t ack_only;
	uint64_t upcalls[256];
	uint64_t upcall_replies;
	uint64_t notifies;
	uint64_t violations;
	uint64_t chip_refused;	/* REG_WRITEs a chip's write_check refused */
};

static struct tally main_tally, ping_tally;
static uint64_t scenario_count[16];

static void violation(struct tally *t, const char *fmt, ...)
{
	va_list ap;

	t->violations++;
	if (t->violations > 40)
		return;
	printf("genl-fuzz: VIOLATION: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void die_malformed(const char *what, const void *buf, int len)
{
	const uint8_t *b = buf;
	int i;

	printf("genl-fuzz: MALFORMED: %s (%d bytes):", what, len);
	for (i = 0; i < len && i < 128; i++)
		printf("%s%02x", i % 16 ? " " : "\n  ", b[i]);
	printf("\n");
	fflush(stdout);
	exit(2);
}

/* --- the reference checks (xpccheck.c's contract, written again) --------- */

static int ref_check_hdr(const struct drvxpc_hdr *h, int len)
{
	unsigned int one = h->flags & (DRVXPC_F_REQUEST | DRVXPC_F_REPLY |
				       DRVXPC_F_NOTIFY);

	if (len < (int)sizeof(*h) || (int)h->len != len)
		return -EINVAL;
	if (!drvxpc_op_name(h->op) || (h->flags & ~DRVXPC_F_ALL) ||
	    __builtin_popcount(one) != 1)
		return -EPROTO;
	return 0;
}

static int ref_validate(const uint8_t *head, int len, int depth, uint16_t *bad)
{
	int rem = len;
	const uint8_t *p = head;

	if (depth >= DRVXPC_NEST_MAX)
		return -EINVAL;
	while (rem >= NLA_HDRLEN) {
		struct nlattr a;
		unsigned int type, plen;
		int kind;
		bool nested;
		__u64 lo, hi;
		uint64_t v = 0;

		memcpy(&a, p, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
			break;
		type = a.nla_type & NLA_TYPE_MASK;
		kind = drvxpc_attr_kind(type);
		plen = a.nla_len - NLA_HDRLEN;
		nested = a.nla_type & NLA_F_NESTED;
		*bad = type;
		if (kind < 0 || plen > drvxpc_attr_max(type))
			return -EINVAL;
		if (nested != (kind == DRVXPC_K_NESTED))
			return -EINVAL;
		switch (kind) {
		case DRVXPC_K_FLAG:
			if (plen)
				return -EINVAL;
			break;
		case DRVXPC_K_U8:
		case DRVXPC_K_U16:
		case DRVXPC_K_U32:
		case DRVXPC_K_S32:
		case DRVXPC_K_U64: {
			unsigned int want = kind == DRVXPC_K_U8 ? 1 :
					    kind == DRVXPC_K_U16 ? 2 :
					    kind == DRVXPC_K_U64 ? 8 : 4;

			if (plen != want)
				return -EINVAL;
			memcpy(&v, p + NLA_HDRLEN, want);	/* little-endian */
			break;
		}
		case DRVXPC_K_MAC:
			if (plen != 6)
				return -EINVAL;
			break;
		case DRVXPC_K_STRING:
			if (!plen || p[NLA_HDRLEN + plen - 1] ||
			    strnlen((const char *)p + NLA_HDRLEN, plen) != plen - 1)
				return -EINVAL;
			break;
		case DRVXPC_K_NESTED: {
			int r = ref_validate(p + NLA_HDRLEN, plen, depth + 1, bad);

			if (r)
				return r;
			break;
		}
		default:
			break;
		}
		if (kind >= DRVXPC_K_U8 && kind <= DRVXPC_K_U64 &&
		    drvxpc_attr_range(type, &lo, &hi) && (v < lo || v > hi))
			return -ERANGE;
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
	*bad = 0;
	return rem ? -EINVAL : 0;
}

/* The first attribute of @type in [head, head + len), as nla_find. */
static const uint8_t *ref_find(const uint8_t *head, int len, unsigned int type,
			       int *plen)
{
	int rem = len;
	const uint8_t *p = head;

	while (rem >= NLA_HDRLEN) {
		struct nlattr a;

		memcpy(&a, p, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
			break;
		if ((a.nla_type & NLA_TYPE_MASK) == type) {
			if (plen)
				*plen = a.nla_len - NLA_HDRLEN;
			return p + NLA_HDRLEN;
		}
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
	return NULL;
}

static uint64_t get_uint(const uint8_t *p, int n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

/* --- the model ------------------------------------------------------------ */

struct handle {
	uint32_t id, size;
	uint8_t role;
	bool maybe_pinned;	/* live at a DATAPATH_ENABLE that succeeded */
	bool pinned;		/* DMA_FREE said EBUSY */
};

struct echo {
	uint32_t off;
	uint8_t width;
	bool valid;
	uint32_t value;
};

struct dev {
	uint32_t instance;
	uint16_t vendor, device;
	uint32_t bar_len;
	uint8_t cls;
	struct handle live[MAX_LIVE];
	int nlive;
	uint64_t live_bytes;
	uint32_t stale[MAX_STALE];
	int nstale;
	struct echo echo[ECHO_SLOTS];
	int baseline_objects;
	bool registered;	/* NET_REGISTER or SND_REGISTER answered 0 */
};

static struct dev devs[MAX_DEVS];
static int ndevs;
static uint32_t highest_handle;

static struct dev *dev_of(uint32_t instance)
{
	int i;

	for (i = 0; i < ndevs; i++)
		if (devs[i].instance == instance)
			return &devs[i];
	return NULL;
}

static struct handle *live_of(struct dev *d, uint32_t id)
{
	int i;

	for (i = 0; d && i < d->nlive; i++)
		if (d->live[i].id == id)
			return &d->live[i];
	return NULL;
}

static struct dev *owner_of(uint32_t id)
{
	int i;

	for (i = 0; i < ndevs; i++)
		if (live_of(&devs[i], id))
			return &devs[i];
	return NULL;
}

static void forget_handle(struct dev *d, uint32_t id)
{
	struct handle *h = live_of(d, id);

	if (!h)
		return;
	d->live_bytes -= h->size;
	*h = d->live[--d->nlive];
	d->stale[d->nstale++ % MAX_STALE] = id;
}

static struct echo *echo_slot(struct dev *d, uint32_t off, uint8_t width)
{
	return &d->echo[(off * 7 + width) % ECHO_SLOTS];
}

static void echo_put(struct dev *d, uint32_t off, uint8_t width, uint32_t v)
{
	struct echo *e = echo_slot(d, off, width);

	e->off = off;
	e->width = width;
	e->value = v;
	e->valid = true;
}

/* A register read before, and its value: what a write may write back. */
static struct echo *echo_pick(struct rng *r, struct dev *d)
{
	int i, start = below(r, ECHO_SLOTS);

	for (i = 0; i < ECHO_SLOTS; i++) {
		struct echo *e = &d->echo[(start + i) % ECHO_SLOTS];

		if (e->valid)
			return e;
	}
	return NULL;
}

/* --- sockets and the exchange -------------------------------------------- */

enum { SOCK_A, SOCK_B, SOCK_C, NSOCKS };

static int socks[NSOCKS];
static uint16_t family;
static int daemon_sock = -1;	/* SOCK_A or SOCK_B: the registered one */

/* A message being built: nlmsghdr, genlmsghdr, drvxpc header, attributes,
 * with an index of every attribute (nested ones too) for the mutators. */
struct attr_ix {
	int off;	/* from the drvxpc header */
	int parent;	/* index, or -1 */
	int depth;
};

struct msg {
	uint8_t buf[MSG_CAP];
	int len;		/* bytes from the drvxpc header on */
	struct attr_ix ix[MAX_INDEX];
	int nix;
	int open[DRVXPC_NEST_MAX + 8];	/* index of each open nest */
	int nopen;
	/* genl-level mutations */
	uint8_t cmd;
	int nl_cut;		/* >=0: only this many drvxpc bytes go out */
	bool mutated;
	const char *mutation;
};

#define GENL_OFF	(NLMSG_HDRLEN + GENL_HDRLEN)

static struct drvxpc_hdr *xhdr(struct msg *m)
{
	return (struct drvxpc_hdr *)(m->buf + GENL_OFF);
}

static uint8_t *xdata(struct msg *m)
{
	return m->buf + GENL_OFF;
}

static void msg_init(struct msg *m, uint16_t op, uint32_t instance, uint32_t seq)
{
	struct drvxpc_hdr *h = xhdr(m);

	memset(m->buf, 0, GENL_OFF + sizeof(*h));
	h->op = op;
	h->flags = DRVXPC_F_REQUEST;
	h->seq = seq;
	h->instance = instance;
	h->len = sizeof(*h);
	m->len = sizeof(*h);
	m->nix = 0;
	m->nopen = 0;
	m->cmd = 1;
	m->nl_cut = -1;
	m->mutated = false;
	m->mutation = "none";
}

static bool msg_room(struct msg *m, int n)
{
	return GENL_OFF + m->len + NLA_ALIGN(n) + 64 < MSG_CAP && m->nix < MAX_INDEX;
}

static void put(struct msg *m, uint16_t type, const void *data, int n)
{
	struct nlattr *a;

	if (!msg_room(m, NLA_HDRLEN + n))
		return;
	a = (struct nlattr *)(xdata(m) + m->len);
	a->nla_len = NLA_HDRLEN + n;
	a->nla_type = type;
	memcpy(a + 1, data, n);
	memset((uint8_t *)(a + 1) + n, 0, NLA_ALIGN(a->nla_len) - a->nla_len);
	m->ix[m->nix].off = m->len;
	m->ix[m->nix].parent = m->nopen ? m->open[m->nopen - 1] : -1;
	m->ix[m->nix].depth = m->nopen;
	m->nix++;
	m->len += NLA_ALIGN(a->nla_len);
	xhdr(m)->len = m->len;
}

static void put_u8(struct msg *m, uint16_t t, uint8_t v) { put(m, t, &v, 1); }
static void put_u32(struct msg *m, uint16_t t, uint32_t v) { put(m, t, &v, 4); }

static void nest_start(struct msg *m, uint16_t type)
{
	put(m, type | NLA_F_NESTED, NULL, 0);
	m->open[m->nopen++] = m->nix - 1;
}

static void nest_end(struct msg *m)
{
	int i = m->open[--m->nopen];
	struct nlattr *a = (struct nlattr *)(xdata(m) + m->ix[i].off);

	a->nla_len = m->len - m->ix[i].off;
}

/* One exchange's outcome. */
struct outcome {
	bool replied;
	int nlerr;		/* the final NLMSG_ERROR's error (0: ack) */
	uint8_t reply[RECV_CAP / 4];
	int reply_len;		/* drvxpc bytes of the reply */
};

static struct drvxpc_hdr *reply_hdr(struct outcome *o)
{
	return (struct drvxpc_hdr *)o->reply;
}

static const uint8_t *reply_attr(struct outcome *o, unsigned int type, int *plen)
{
	return ref_find(o->reply + sizeof(struct drvxpc_hdr),
			o->reply_len - sizeof(struct drvxpc_hdr), type, plen);
}

static void learn_device(struct tally *t, const struct drvxpc_hdr *h, int len);
static void answer_upcall(int si, struct tally *t, const struct drvxpc_hdr *h);

/* Checks what every drvxpc message from the kernel must be. */
static void check_form(const uint8_t *x, int len, const char *what)
{
	const struct drvxpc_hdr *h = (const void *)x;
	uint16_t bad = 0;
	int r;

	if (len < (int)sizeof(*h) || (int)h->len != len)
		die_malformed(what, x, len);
	r = ref_check_hdr(h, len);
	/* A reply carries the request's op, known or not. */
	if (r && !(r == -EPROTO && h->flags == DRVXPC_F_REPLY))
		die_malformed(what, x, len);
	if (h->status > 0 || h->status < -(ERRNO_MAX - 1))
		die_malformed(what, x, len);
	r = ref_validate(x + sizeof(*h), len - sizeof(*h), 0, &bad);
	if (r) {
		printf("genl-fuzz: attribute %u (%s) fails the table: %d\n", bad,
		       drvxpc_attr_name(bad) ?: "?", r);
		die_malformed(what, x, len);
	}
}

static uint32_t nl_seq_counter = 1;
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t next_nl_seq(void)
{
	uint32_t s;

	pthread_mutex_lock(&seq_lock);
	s = ++nl_seq_counter;
	pthread_mutex_unlock(&seq_lock);
	return s;
}

/*
 * Sends @m on socket @si (NLM_F_ACK) and reads until its NLMSG_ERROR,
 * answering upcalls and learning DEVICE_ADDs on the way.
 */
static void exchange(int si, struct msg *m, struct tally *t, struct outcome *o)
{
	static __thread uint8_t *rbuf;
	struct nlmsghdr *n = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g = NLMSG_DATA(n);
	const struct drvxpc_hdr *req = xhdr(m);
	uint32_t nlseq = next_nl_seq();
	int total = m->nl_cut >= 0 ? m->nl_cut : m->len;

	n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + total);
	n->nlmsg_type = family;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	n->nlmsg_seq = nlseq;
	n->nlmsg_pid = 0;
	g->cmd = m->cmd;
	g->version = DRVXPC_GENL_VERSION;
	g->reserved = 0;
	if (!rbuf && !(rbuf = malloc(RECV_CAP))) {
		printf("genl-fuzz: out of memory\n");
		exit(1);
	}
	o->replied = false;
	o->nlerr = 0;
	o->reply_len = 0;
	t->sent++;
	if (send(socks[si], m->buf, NLMSG_ALIGN(n->nlmsg_len), 0) < 0) {
		printf("genl-fuzz: send on socket %d failed: %s (message %llu)\n", si,
		       strerror(errno), (unsigned long long)t->sent);
		exit(2);
	}
	for (;;) {
		int got = recv(socks[si], rbuf, RECV_CAP, 0);
		struct nlmsghdr *h;
		int rem = got;

		if (got <= 0) {
			printf("genl-fuzz: no answer on socket %d: %s (message %llu, op %u, %s)\n",
			       si, got ? strerror(errno) : "closed",
			       (unsigned long long)t->sent, req->op, m->mutation);
			exit(2);
		}
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					die_malformed("short NLMSG_ERROR", h, h->nlmsg_len);
				if (h->nlmsg_seq != nlseq)
					continue;	/* an upcall reply's, say */
				if (e->error > 0 || e->error < -(ERRNO_MAX - 1))
					die_malformed("netlink error out of range", h, h->nlmsg_len);
				o->nlerr = e->error;
				return;
			}
			if (h->nlmsg_type != family) {
				die_malformed("a message of another type", h, h->nlmsg_len);
			} else {
				struct genlmsghdr *rg = NLMSG_DATA(h);
				const uint8_t *x = (const uint8_t *)rg + GENL_HDRLEN;
				int xlen = h->nlmsg_len - GENL_OFF;
				const struct drvxpc_hdr *rh = (const void *)x;

				if (xlen < (int)sizeof(*rh) || rg->cmd != 1)
					die_malformed("short or wrong-command genl message", h, h->nlmsg_len);
				check_form(x, xlen, "drvxpc message from the kernel");
				if (rh->flags & DRVXPC_F_REPLY) {
					if (h->nlmsg_seq != nlseq)
						die_malformed("a reply to a message not sent", x, xlen);
					if (o->replied)
						die_malformed("a second reply to one message", x, xlen);
					if (rh->op != req->op || rh->seq != req->seq ||
					    rh->instance != req->instance)
						die_malformed("a reply whose op, seq or instance is not the request's", x, xlen);
					o->replied = true;
					o->reply_len = xlen < (int)sizeof(o->reply) ? xlen : (int)sizeof(o->reply);
					memcpy(o->reply, x, o->reply_len);
				} else if (rh->flags & DRVXPC_F_REQUEST) {
					answer_upcall(si, t, rh);
				} else {
					t->notifies++;
					if (rh->op == DRVXPC_OP_DEVICE_ADD)
						learn_device(t, rh, xlen);
					else
						die_malformed("a notification that is not DEVICE_ADD", x, xlen);
				}
			}
		}
	}
}

/* --- upcalls --------------------------------------------------------------- */

static struct rng upcall_rng;
static pthread_mutex_t upcall_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int upcalls_clean;	/* answer every upcall, correctly */
static volatile int upcalls_ignored;	/* answer none: their deadlines pass */

/* The kernel asks (PING, NET_WATCHDOG, ...): the daemon answers at once,
 * a few times in ten thousand late-by-never, with a foreign seq, a bad
 * status or from the wrong socket. */
static void answer_upcall(int si, struct tally *t, const struct drvxpc_hdr *h)
{
	uint8_t buf[256];
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(n);
	struct drvxpc_hdr *x = (struct drvxpc_hdr *)(buf + GENL_OFF);
	uint32_t dice;
	int out = si;

	t->upcalls[h->op & 0xff]++;
	if (!DRVXPC_OP_IS_UPCALL(h->op) && !DRVXPC_OP_IS_CONTROL(h->op))
		die_malformed("an upcall with a non-upcall op", h, h->len);
	if (upcalls_ignored)
		return;
	pthread_mutex_lock(&upcall_lock);
	dice = upcalls_clean ? 10000 : below(&upcall_rng, 10000);
	pthread_mutex_unlock(&upcall_lock);
	if (dice < 5)
		return;		/* never answered: the deadline passes */
	memset(buf, 0, sizeof(buf));
	genl_reply_header(x, h);
	if (dice < 10)
		x->seq ^= 0x5a5a;
	else if (dice < 15)
		x->status = (int32_t)(dice * 2654435761u);	/* -> -EIO or kept */
	else if (dice < 20)
		x->status = -ENOSPC;
	else if (dice < 25 && si == SOCK_A)
		out = SOCK_B;	/* not the daemon: ignored */
	if (h->op == DRVXPC_OP_SND_MIXER_GET) {
		struct nlattr *a = (struct nlattr *)(x + 1);
		uint32_t v = 50;

		a->nla_len = NLA_HDRLEN + 4;
		a->nla_type = DRVXPC_A_MIXER_VALUE;
		memcpy(a + 1, &v, 4);
		x->len += 8;
	}
	n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + x->len);
	n->nlmsg_type = family;
	n->nlmsg_flags = NLM_F_REQUEST;
	n->nlmsg_seq = 0;
	g->cmd = 1;
	g->version = DRVXPC_GENL_VERSION;
	if (send(socks[out], buf, n->nlmsg_len, 0) < 0) {
		printf("genl-fuzz: upcall reply failed: %s\n", strerror(errno));
		exit(2);
	}
	t->upcall_replies++;
}

static void learn_device(struct tally *t, const struct drvxpc_hdr *h, int len)
{
	const uint8_t *a = (const uint8_t *)(h + 1);
	int alen = len - sizeof(*h);
	const uint8_t *ven = ref_find(a, alen, DRVXPC_A_PCI_VENDOR, NULL);
	const uint8_t *did = ref_find(a, alen, DRVXPC_A_PCI_DEVICE, NULL);
	const uint8_t *bar = ref_find(a, alen, DRVXPC_A_BAR_SIZE, NULL);
	const uint8_t *cls = ref_find(a, alen, DRVXPC_A_CLASS, NULL);
	struct dev *d = dev_of(h->instance);

	if (!ven || !did || !bar || !cls || !h->instance)
		die_malformed("DEVICE_ADD without its attributes", h, len);
	if (!d) {
		if (ndevs == MAX_DEVS)
			die_malformed("more devices than the nucleus has slots", h, len);
		d = &devs[ndevs++];
		memset(d, 0, sizeof(*d));
		d->instance = h->instance;
		d->vendor = get_uint(ven, 2);
		d->device = get_uint(did, 2);
		d->bar_len = get_uint(bar, 4);
		d->cls = *cls;
		return;
	}
	if (d->vendor != get_uint(ven, 2) || d->device != get_uint(did, 2) ||
	    d->bar_len != get_uint(bar, 4) || d->cls != *cls)
		violation(t, "DEVICE_ADD for instance %u changed its identity", h->instance);
}

/* --- generating attribute values from the table ------------------------- */

/* A valid value for integer attribute @id: an edge of its range, or inside. */
static uint64_t gen_int(struct rng *r, unsigned int id)
{
	__u64 lo, hi;
	int kind = drvxpc_attr_kind(id);
	uint64_t top = kind == DRVXPC_K_U8 ? 0xff : kind == DRVXPC_K_U16 ? 0xffff :
		       kind == DRVXPC_K_U64 ? ~0ULL : 0xffffffffULL;

	if (!drvxpc_attr_range(id, &lo, &hi)) {
		lo = 0;
		hi = top;
	}
	switch (below(r, 4)) {
	case 0:
		return lo;
	case 1:
		return hi;
	default:
		return lo + (hi - lo < 0xffffffffULL ? below(r, hi - lo + 1) : rnd64(r) % (hi - lo));
	}
}

static void put_int(struct msg *m, unsigned int id, uint64_t v)
{
	int kind = drvxpc_attr_kind(id);
	int n = kind == DRVXPC_K_U8 ? 1 : kind == DRVXPC_K_U16 ? 2 :
		kind == DRVXPC_K_U64 ? 8 : 4;

	put(m, id, &v, n);
}

/* Any attribute with a valid payload from the table (nested: valid
 * children, at most @depth levels). */
static void gen_attr(struct rng *r, struct msg *m, unsigned int id, int depth)
{
	uint8_t data[160];
	unsigned int max = drvxpc_attr_max(id), n, i;

	switch (drvxpc_attr_kind(id)) {
	case DRVXPC_K_FLAG:
		put(m, id, NULL, 0);
		break;
	case DRVXPC_K_STRING:
		n = below(r, (max < sizeof(data) ? max : sizeof(data)));
		for (i = 0; i < n; i++)
			data[i] = 'a' + below(r, 26);
		data[n] = 0;
		put(m, id, data, n + 1);
		break;
	case DRVXPC_K_BINARY:
		n = 1 + below(r, (max < sizeof(data) ? max : sizeof(data)));
		for (i = 0; i < n; i++)
			data[i] = rnd(r);
		put(m, id, data, n);
		break;
	case DRVXPC_K_MAC:
		for (i = 0; i < 6; i++)
			data[i] = rnd(r);
		put(m, id, data, 6);
		break;
	case DRVXPC_K_NESTED:
		nest_start(m, id);
		n = depth > 0 ? below(r, 4) : 0;
		for (i = 0; i < n; i++) {
			unsigned int c = 1 + below(r, DRVXPC_A_MAX);

			if (drvxpc_attr_kind(c) != DRVXPC_K_NESTED ||
			    m->nopen + 1 < DRVXPC_NEST_MAX)
				gen_attr(r, m, c, depth - 1);
		}
		nest_end(m);
		break;
	default:
		put_int(m, id, gen_int(r, id));
		break;
	}
}

/* Attributes no op of the daemon's reads the wrong way round, for padding
 * a message with extras: never values that reach a register, nor the
 * PING that would make the daemon wait on itself. */
static bool extra_ok(unsigned int id)
{
	return id != DRVXPC_A_REG_VALUE && id != DRVXPC_A_REG_MASK &&
	       id != DRVXPC_A_SIM_ACTION && id != DRVXPC_A_COUNT &&
	       id != DRVXPC_A_REG_OFFSET && id != DRVXPC_A_REG_WIDTH &&
	       id != DRVXPC_A_DMA_HANDLE && id != DRVXPC_A_REG_SEQ &&
	       id != DRVXPC_A_REG_STEPS && id != DRVXPC_A_DELAY_US &&
	       id != DRVXPC_A_CALL_ID;	/* a repeat is answered, not run:
					 * scenario_repeat tests that */
}

static void gen_extras(struct rng *r, struct msg *m)
{
	int n = chance(r, 70) ? 0 : 1 + below(r, 3);

	while (n--) {
		unsigned int id = 1 + below(r, DRVXPC_A_MAX);

		if (extra_ok(id))
			gen_attr(r, m, id, 2);
	}
}

/* --- the ops ------------------------------------------------------------- */

static const uint16_t all_ops[] = {
#define OP_ENTRY(name, value) DRVXPC_OP_##name,
	DRVXPC_OPS(OP_ENTRY)
#undef OP_ENTRY
};
#define NUM_OPS (sizeof(all_ops) / sizeof(all_ops[0]))

/* A random op, but never UNREGISTER: that empties the daemon's seat, which
 * scenario_handover() does on purpose (and registers again). */
static uint16_t any_op(struct rng *r)
{
	uint16_t op = all_ops[below(r, NUM_OPS)];

	return op == DRVXPC_OP_UNREGISTER ? DRVXPC_OP_DEVICE_INFO : op;
}

static uint32_t xpc_seq;
/* The socket an UNREGISTER out of random bytes took the seat from, or -1. */
static int unregistered = -1;

static struct dev *pick_dev(struct rng *r)
{
	return ndevs ? &devs[below(r, ndevs)] : NULL;
}

static uint8_t pick_width(struct rng *r)
{
	static const uint8_t w[] = { 1, 2, 4 };

	return w[below(r, 3)];
}

/* A register offset: inside the BAR, aligned, often at its edges. */
static uint32_t pick_offset(struct rng *r, struct dev *d, uint8_t width)
{
	uint32_t bar = d ? d->bar_len : 256;

	if (bar < width)
		return 0;
	switch (below(r, 6)) {
	case 0:
		return 0;
	case 1:
		return (bar - width) & ~(uint32_t)(width - 1);
	default:
		return below(r, bar - width + 1) & ~(uint32_t)(width - 1);
	}
}

/* A target that the nucleus refuses: past the BAR, misaligned, bad width. */
static void bad_target(struct rng *r, struct dev *d, uint32_t *off, uint8_t *w)
{
	uint32_t bar = d ? d->bar_len : 256;

	switch (below(r, 6)) {
	case 0:
		*off = bar;
		break;
	case 1:
		*off = bar - *w + 1 + below(r, *w);
		break;
	case 2:
		*off = 0xffffffff - below(r, 4);
		break;
	case 3:
		*w = 3;
		break;
	case 4:
		*w = *w == 1 ? 2 : *w;
		*off = pick_offset(r, d, *w) | 1;
		break;
	default:
		*off = bar + below(r, 1 << 20);
		break;
	}
}

static uint32_t pick_handle(struct rng *r, struct dev *d)
{
	struct dev *o;

	switch (below(r, 10)) {
	case 0:
		return d && d->nstale ? d->stale[below(r, d->nstale < MAX_STALE ? d->nstale : MAX_STALE)] : 0;
	case 1:
		o = pick_dev(r);
		return o && o->nlive ? o->live[below(r, o->nlive)].id : rnd(r);
	case 2:
		return below(r, 3) ? highest_handle + 1 + below(r, 4) : rnd(r);
	default:
		return d && d->nlive ? d->live[below(r, d->nlive)].id : highest_handle + 1;
	}
}

static uint32_t pick_dma_size(struct rng *r)
{
	static const uint32_t sizes[] = {
		1, 16, 64, 128, 256, 1536, 2048, 4096, 8192, 8192 + 16,
		8192 + 16 + 1536, 6144, 16 * 1544, 16384, 65536, 4 * 2048 * 16,
		1048576,
	};

	return sizes[below(r, sizeof(sizes) / sizeof(sizes[0]))];
}

/* A REG_SEQ of about @steps steps; returns how many it has. */
static int gen_reg_seq(struct rng *r, struct msg *m, struct dev *d, int steps,
		       int *reads)
{
	bool packed = chance(r, 30) && d && d->bar_len <= 65536;
	struct drvxpc_regstep st[DRVXPC_SEQ_MAX_OPS + 2];
	uint32_t delay_budget = 20000;
	int i, n = 0, made = 0;

	*reads = 0;
	if (!packed)
		nest_start(m, DRVXPC_A_REG_SEQ);
	for (i = 0; i < steps && n < DRVXPC_SEQ_MAX_OPS + 1; i++) {
		uint8_t kind = 1 + below(r, 4), w = pick_width(r);
		uint32_t off = pick_offset(r, d, w), v = 0, mask = 0, us = 0;
		struct echo *e = NULL;

		if (kind == DRVXPC_REGOP_WRITE && !opt_raw_writes) {
			e = d ? echo_pick(r, d) : NULL;
			if (!e)
				kind = DRVXPC_REGOP_READ;
			else {
				off = e->off;
				w = e->width;
				v = e->value;
			}
		} else if (kind == DRVXPC_REGOP_WRITE) {
			v = rnd(r);
		}
		if (kind == DRVXPC_REGOP_POLL) {
			/* Mostly polls that hold at once: mask 0 wants 0. */
			us = below(r, 3) ? 0 : below(r, 200);
			if (chance(r, 10) && us < delay_budget) {
				mask = 0xffffffff;
				v = rnd(r);
				delay_budget -= us ? us : 1000;
			}
		}
		if (kind == DRVXPC_REGOP_DELAY) {
			us = below(r, 50);
			if (chance(r, 2) && delay_budget > 5000)
				us = 5000;
			delay_budget = delay_budget > us ? delay_budget - us : 0;
		}
		if (kind == DRVXPC_REGOP_READ || kind == DRVXPC_REGOP_POLL)
			(*reads)++;
		made++;
		if (packed) {
			st[n].kind = kind;
			st[n].width = kind == DRVXPC_REGOP_DELAY ? 0 : w;
			st[n].offset = off;
			st[n].value = kind == DRVXPC_REGOP_DELAY ? us : v;
			n++;
			if (kind == DRVXPC_REGOP_POLL) {
				memset(&st[n], 0, sizeof(st[n]));
				st[n].value = mask;
				n++;
			}
			continue;
		}
		n++;
		nest_start(m, DRVXPC_A_REG_OP);
		put_u8(m, DRVXPC_A_REG_OP_KIND, kind);
		if (kind != DRVXPC_REGOP_DELAY) {
			put_u32(m, DRVXPC_A_REG_OFFSET, off);
			if (w != 4 || chance(r, 50))
				put_u8(m, DRVXPC_A_REG_WIDTH, w);
		}
		if (kind == DRVXPC_REGOP_WRITE || (kind == DRVXPC_REGOP_POLL && mask))
			put_u32(m, DRVXPC_A_REG_VALUE, v);
		if (kind == DRVXPC_REGOP_POLL && mask)
			put_u32(m, DRVXPC_A_REG_MASK, mask);
		if (kind == DRVXPC_REGOP_POLL && !mask)
			put_u32(m, DRVXPC_A_REG_MASK, 0);
		if (us || kind == DRVXPC_REGOP_DELAY)
			put_u32(m, DRVXPC_A_DELAY_US, us);
		nest_end(m);
	}
	if (packed)
		put(m, DRVXPC_A_REG_STEPS, st, n * sizeof(st[0]));
	else
		nest_end(m);
	return made;
}

/* What gen_op built, for the checks after the reply. */
struct plan {
	struct dev *d;
	int reads;		/* REG_SEQ: results expected */
	bool seq_ok;		/* REG_SEQ steps all inside the BAR, unmutated */
	uint32_t handle;
	uint32_t size;
	uint8_t role;
};

/* A valid message for @op to device @d (NULL: an instance that is not). */
static void gen_op(struct rng *r, struct msg *m, uint16_t op, struct dev *d,
		   struct plan *p)
{
	uint32_t instance = d ? d->instance : (below(r, 2) ? 0 : 9 + below(r, 100));
	uint8_t mac[6];
	uint8_t w;
	uint32_t off;
	int i;

	memset(p, 0, sizeof(*p));
	p->d = d;
	msg_init(m, op, instance, ++xpc_seq);
	if (chance(r, 5))
		xhdr(m)->timeout_us = rnd(r);
	switch (op) {
	case DRVXPC_OP_REGISTER:
		if (chance(r, 80))
			put_u32(m, DRVXPC_A_VERSION, DRVXPC_VERSION);
		xhdr(m)->instance = 0;
		break;
	case DRVXPC_OP_REG_READ:
		w = pick_width(r);
		off = pick_offset(r, d, w);
		put_u32(m, DRVXPC_A_REG_OFFSET, off);
		if (w != 4 || chance(r, 50))
			put_u8(m, DRVXPC_A_REG_WIDTH, w);
		break;
	case DRVXPC_OP_REG_WRITE: {
		struct echo *e = d ? echo_pick(r, d) : NULL;

		if (e && !opt_raw_writes) {
			put_u32(m, DRVXPC_A_REG_OFFSET, e->off);
			put_u8(m, DRVXPC_A_REG_WIDTH, e->width);
			put_u32(m, DRVXPC_A_REG_VALUE, e->value);
			break;
		}
		/* Nothing read yet: a write the target check refuses. */
		w = pick_width(r);
		off = pick_offset(r, d, w);
		bad_target(r, d, &off, &w);
		put_u32(m, DRVXPC_A_REG_OFFSET, off);
		put_u8(m, DRVXPC_A_REG_WIDTH, w);
		put_u32(m, DRVXPC_A_REG_VALUE, opt_raw_writes ? rnd(r) : 0);
		break;
	}
	case DRVXPC_OP_REG_SEQ: {
		int steps = chance(r, 2) ? DRVXPC_SEQ_MAX_OPS + below(r, 2) : 1 + below(r, 8);

		p->seq_ok = gen_reg_seq(r, m, d, steps, &p->reads) <= DRVXPC_SEQ_MAX_OPS;
		break;
	}
	case DRVXPC_OP_DMA_ALLOC:
		p->size = pick_dma_size(r);
		put_u32(m, DRVXPC_A_DMA_SIZE, p->size);
		if (chance(r, 85)) {
			p->role = below(r, 7);
			put_u8(m, DRVXPC_A_OBJECT_ROLE, p->role);
		}
		break;
	case DRVXPC_OP_DMA_FREE:
		p->handle = pick_handle(r, d);
		put_u32(m, DRVXPC_A_DMA_HANDLE, p->handle);
		break;
	case DRVXPC_OP_REG_WRITE_DMA: {
		struct handle *h;

		p->handle = pick_handle(r, d);
		w = chance(r, 80) ? 4 : pick_width(r);
		off = pick_offset(r, d, w);
		if (!opt_raw_writes && d && live_of(d, p->handle) && chance(r, 50))
			bad_target(r, d, &off, &w);
		put_u32(m, DRVXPC_A_REG_OFFSET, off);
		put_u8(m, DRVXPC_A_REG_WIDTH, w);
		put_u32(m, DRVXPC_A_DMA_HANDLE, p->handle);
		h = live_of(d, p->handle);
		if (chance(r, 60)) {
			uint32_t size = h ? h->size : 4096;
			uint32_t doff[] = { 0, size - 1, size, size + 1, rnd(r) };

			put_u32(m, DRVXPC_A_DMA_OFFSET, doff[below(r, 5)]);
		}
		if (chance(r, 40))
			put_u8(m, DRVXPC_A_DMA_SHIFT, below(r, 2) ? 16 : below(r, 32));
		break;
	}
	case DRVXPC_OP_NET_REGISTER:
		for (i = 0; i < 6; i++)
			mac[i] = rnd(r);
		if (chance(r, 85)) {
			mac[0] = 0x02;	/* locally administered unicast */
		} else if (chance(r, 50)) {
			memset(mac, 0, 6);
		} else {
			mac[0] |= 1;	/* multicast */
		}
		if (chance(r, 95))
			put(m, DRVXPC_A_MAC, mac, 6);
		break;
	case DRVXPC_OP_NET_CARRIER: {
		static const uint32_t speeds[] = { 10, 100, 1000, 0, 10000, 55 };

		if (chance(r, 90))
			put_u8(m, DRVXPC_A_LINK_UP, below(r, 2));
		if (chance(r, 70))
			put_u32(m, DRVXPC_A_LINK_SPEED, speeds[below(r, 6)]);
		if (chance(r, 50))
			put_u8(m, DRVXPC_A_LINK_DUPLEX, below(r, 2));
		break;
	}
	case DRVXPC_OP_DATAPATH_ENABLE:
		if (chance(r, 30))
			xhdr(m)->flags |= DRVXPC_F_REATTACH;
		break;
	case DRVXPC_OP_SND_REGISTER:
		if (chance(r, 90))
			gen_attr(r, m, DRVXPC_A_CARD_NAME, 0);
		if (chance(r, 50))
			gen_attr(r, m, DRVXPC_A_CHIP_NAME, 0);
		break;
	case DRVXPC_OP_SIM_CONTROL:
		/* From the daemon's own thread only the refusals: a PING
		 * would wait for the daemon that is sending it. */
		put_u8(m, DRVXPC_A_SIM_ACTION, 1 + below(r, 3));
		break;
	default:
		/* Ops the nucleus does not serve, or serves without
		 * attributes: some attributes from the table anyway. */
		if (chance(r, 50)) {
			unsigned int id = 1 + below(r, DRVXPC_A_MAX);

			if (extra_ok(id))
				gen_attr(r, m, id, 1);
		}
		break;
	}
	gen_extras(r, m);
}

/* --- mutations: one field of a valid message ----------------------------- */

static struct nlattr *ix_attr(struct msg *m, int i)
{
	return (struct nlattr *)(xdata(m) + m->ix[i].off);
}

/* Grows (or shrinks) the payload of indexed attribute @i to @newp bytes:
 * moves what follows, fixes the enclosing lengths and the header's. */
static bool resize_attr(struct msg *m, int i, int newp)
{
	struct nlattr *a = ix_attr(m, i);
	int oldsz = NLA_ALIGN(a->nla_len), newsz = NLA_ALIGN(NLA_HDRLEN + newp);
	int delta = newsz - oldsz, end = m->ix[i].off + oldsz, j;

	if (newp < 0 || newp > 0xffff - NLA_HDRLEN || GENL_OFF + m->len + delta + 64 > MSG_CAP)
		return false;
	memmove(xdata(m) + end + delta, xdata(m) + end, m->len - end);
	if (delta > 0)
		memset(xdata(m) + end, 0, delta);
	m->len += delta;
	a->nla_len = NLA_HDRLEN + newp;
	for (j = m->ix[i].parent; j >= 0; j = m->ix[j].parent)
		ix_attr(m, j)->nla_len += delta;
	for (j = 0; j < m->nix; j++)
		if (m->ix[j].off >= end)
			m->ix[j].off += delta;
	xhdr(m)->len = m->len;
	return true;
}

static void mutate_value(struct rng *r, struct msg *m, int i)
{
	struct nlattr *a = ix_attr(m, i);
	unsigned int id = a->nla_type & NLA_TYPE_MASK;
	int kind = drvxpc_attr_kind(id);
	int plen = a->nla_len - NLA_HDRLEN, want;
	uint8_t *pl = (uint8_t *)(a + 1);
	__u64 lo, hi;
	uint64_t v;

	want = kind == DRVXPC_K_U8 ? 1 : kind == DRVXPC_K_U16 ? 2 :
	       kind == DRVXPC_K_U64 ? 8 : kind == DRVXPC_K_MAC ? 6 : 4;
	switch (kind) {
	case DRVXPC_K_U8:
	case DRVXPC_K_U16:
	case DRVXPC_K_U32:
	case DRVXPC_K_S32:
	case DRVXPC_K_U64:
		if (plen != want)
			return;
		if (drvxpc_attr_range(id, &lo, &hi)) {
			uint64_t edges[] = { lo - 1, lo, hi, hi + 1, 0, ~0ULL };

			v = edges[below(r, 6)];
		} else {
			uint64_t edges[] = { 0, 1, ~0ULL, 0x80000000, 0x7fffffff, rnd64(r) };

			v = edges[below(r, 6)];
		}
		if (!opt_raw_writes && (id == DRVXPC_A_REG_VALUE || id == DRVXPC_A_REG_MASK ||
					id == DRVXPC_A_REG_OFFSET || id == DRVXPC_A_REG_WIDTH ||
					id == DRVXPC_A_DMA_HANDLE)) {
			/* These reach a register: only a value the nucleus
			 * refuses (a register offset past any BAR). */
			if (id != DRVXPC_A_REG_OFFSET)
				return;
			v = 0xfffffffc;
		}
		memcpy(pl, &v, want);
		m->mutation = "value at an edge";
		break;
	case DRVXPC_K_STRING:
		if (plen < 1)
			return;
		if (chance(r, 50)) {
			pl[plen - 1] = 'x';		/* no NUL */
			m->mutation = "string without its NUL";
		} else {
			pl[below(r, plen)] = 0;		/* a NUL inside */
			m->mutation = "string with a NUL inside";
		}
		break;
	case DRVXPC_K_MAC:
		if (plen == 6) {
			memset(pl, chance(r, 50) ? 0 : 0xff, 6);
			m->mutation = "MAC zero or broadcast";
		}
		break;
	default:
		if (plen > 0) {
			pl[below(r, plen)] ^= 1 << below(r, 8);
			m->mutation = "payload bit flip";
		}
		break;
	}
}

static void mutate(struct rng *r, struct msg *m, struct dev *d, bool from_daemon)
{
	struct drvxpc_hdr *h = xhdr(m);
	int i = m->nix ? (int)below(r, m->nix) : -1;
	struct nlattr *a = i >= 0 ? ix_attr(m, i) : NULL;
	uint32_t pick = below(r, 100);

	m->mutated = true;
	if (pick < 30 || !a) {
		switch (below(r, 9)) {
		case 0:
			h->op = below(r, 2) ? any_op(r) : rnd(r);
			if (h->op == DRVXPC_OP_UNREGISTER)
				h->op = DRVXPC_OP_DEVICE_INFO;
			/* A REG_READ turned REG_WRITE writes no value (no
			 * REG_VALUE); a SIM_CONTROL here carries no PING. */
			if (!opt_raw_writes && (h->op == DRVXPC_OP_REG_WRITE ||
						h->op == DRVXPC_OP_REG_WRITE_DMA ||
						h->op == DRVXPC_OP_REG_SEQ))
				h->op = DRVXPC_OP_DEVICE_INFO;
			m->mutation = "header op";
			break;
		case 1:
			h->flags = below(r, 2) ? rnd(r) & 0xffff : (uint16_t)(1u << below(r, 16)) | h->flags;
			if (h->flags & DRVXPC_F_REPLY && chance(r, 50))
				h->flags = DRVXPC_F_REPLY;	/* an answer to nothing */
			m->mutation = "header flags";
			break;
		case 2:
		case 3: {
			int32_t deltas[] = { -1, 1, -4, 4, -24, 1000 };

			h->len = below(r, 3) ? h->len + deltas[below(r, 6)] :
			      below(r, 2) ? 0 : 0xffffffff;
			m->mutation = "header len";
			break;
		}
		case 4:
			if (!from_daemon || !d)
				h->instance = rnd(r);
			else
				h->instance = below(r, 2) ? 0 : (below(r, 2) ? ~0u : devs[below(r, ndevs)].instance);
			/* Another device's instance gets this device's
			 * handles and offsets: only if the op writes nothing. */
			if (!opt_raw_writes && dev_of(h->instance) && dev_of(h->instance) != d &&
			    (h->op == DRVXPC_OP_REG_WRITE || h->op == DRVXPC_OP_REG_SEQ ||
			     h->op == DRVXPC_OP_REG_WRITE_DMA))
				h->instance = 0;
			m->mutation = "header instance";
			break;
		case 5:
			h->seq = rnd(r);
			m->mutation = "header seq";
			break;
		case 6:
			h->timeout_us = below(r, 2) ? ~0u : rnd(r);
			h->status = rnd(r);
			m->mutation = "header timeout/status";
			break;
		case 7:
			/* Truncated on the wire: drvxpc len kept or fixed. */
			if (m->len > (int)sizeof(*h)) {
				m->len = sizeof(*h) + below(r, m->len - sizeof(*h));
				if (chance(r, 50))
					h->len = m->len;
				m->nl_cut = m->len;
				m->mutation = "truncated";
			} else {
				m->nl_cut = below(r, sizeof(*h));
				m->mutation = "shorter than the header";
			}
			break;
		default:
			m->cmd = below(r, 2) ? 0 : 2 + below(r, 254);
			m->mutation = "genl command";
			break;
		}
		return;
	}
	if (pick < 45) {
		uint16_t keep = a->nla_type & NLA_F_NESTED;
		unsigned int id = a->nla_type & NLA_TYPE_MASK;

		switch (below(r, 5)) {
		case 0:
			a->nla_type = keep | (below(r, 2) ? 0 : DRVXPC_A_MAX + 1 + below(r, 0x3fff - DRVXPC_A_MAX));
			break;
		case 1:
			a->nla_type ^= NLA_F_NESTED;
			break;
		case 2:
			a->nla_type |= NLA_F_NET_BYTEORDER;
			break;
		default: {
			/* Another attribute of the table, same payload. */
			unsigned int to = 1 + below(r, DRVXPC_A_MAX);

			if (!opt_raw_writes && !extra_ok(to) && !extra_ok(id))
				to = DRVXPC_A_ERR_MSG;
			if (!opt_raw_writes && (to == DRVXPC_A_REG_VALUE || to == DRVXPC_A_REG_MASK ||
						to == DRVXPC_A_SIM_ACTION || to == DRVXPC_A_REG_OFFSET ||
						to == DRVXPC_A_REG_WIDTH || to == DRVXPC_A_DMA_HANDLE))
				to = DRVXPC_A_CARD_NAME;
			a->nla_type = keep | to;
			break;
		}
		}
		m->mutation = "attribute type";
		return;
	}
	if (pick < 60) {
		int plen = a->nla_len - NLA_HDRLEN;
		int choice = below(r, 5);

		if (choice == 0) {
			a->nla_len = below(r, NLA_HDRLEN);	/* below a header */
			m->mutation = "attribute len below its header";
		} else if (choice == 1) {
			a->nla_len += 1 + below(r, 64);		/* past its end */
			m->mutation = "attribute len past its end";
		} else if (choice == 2 && plen > 0) {
			a->nla_len -= 1 + below(r, plen);	/* shorter, no resize */
			m->mutation = "attribute len shortened in place";
		} else {
			/* The payload one byte off its kind's size, or at the
			 * table's limit and past it. */
			unsigned int id = a->nla_type & NLA_TYPE_MASK;
			unsigned int max = drvxpc_attr_max(id);
			int to = below(r, 2) ? plen + (below(r, 2) ? 1 : -1) :
				 (int)max + (int)below(r, 2);

			if (m->ix[i].depth == 0 && to > 4096 + 64 &&
			    drvxpc_attr_kind(id) != DRVXPC_K_BINARY)
				to = plen + 1;
			if (to >= 0 && resize_attr(m, i, to))
				m->mutation = "attribute payload size";
		}
		return;
	}
	if (pick < 80) {
		mutate_value(r, m, i);
		return;
	}
	if (pick < 88) {
		/* A duplicate, right after itself. */
		int sz = NLA_ALIGN(a->nla_len), off = m->ix[i].off, j;

		if (a->nla_len < NLA_HDRLEN || off + sz > m->len ||
		    GENL_OFF + m->len + sz + 64 > MSG_CAP)
			return;
		memmove(xdata(m) + off + sz, xdata(m) + off, m->len - off);
		m->len += sz;
		for (j = m->ix[i].parent; j >= 0; j = m->ix[j].parent)
			ix_attr(m, j)->nla_len += sz;
		for (j = 0; j < m->nix; j++)
			if (m->ix[j].off > off)
				m->ix[j].off += sz;
		h->len = m->len;
		if (chance(r, 50))
			mutate_value(r, m, i);	/* the first copy differs */
		m->mutation = "duplicate attribute";
		return;
	}
	if (pick < 94) {
		/* Wrapped in nests until past DRVXPC_NEST_MAX (or not). */
		int levels = 1 + below(r, DRVXPC_NEST_MAX + 1), off = m->ix[i].off, j, k;
		int sz = NLA_ALIGN(a->nla_len), add = levels * NLA_HDRLEN;

		if (a->nla_len < NLA_HDRLEN || off + sz > m->len ||
		    GENL_OFF + m->len + add + 64 > MSG_CAP)
			return;
		memmove(xdata(m) + off + add, xdata(m) + off, m->len - off);
		for (k = 0; k < levels; k++) {
			struct nlattr *n = (struct nlattr *)(xdata(m) + off + k * NLA_HDRLEN);

			n->nla_type = (below(r, 3) ? DRVXPC_A_OBJECT : DRVXPC_A_REG_OP) | NLA_F_NESTED;
			n->nla_len = sz + (levels - k) * NLA_HDRLEN;
		}
		m->len += add;
		for (j = m->ix[i].parent; j >= 0; j = m->ix[j].parent)
			ix_attr(m, j)->nla_len += add;
		for (j = 0; j < m->nix; j++)
			if (m->ix[j].off > off)
				m->ix[j].off += add;
		m->ix[i].off += add;
		h->len = m->len;
		m->mutation = "nested deeper";
		return;
	}
	/* Cut inside the attributes, the header's len fixed to match. */
	m->len = m->ix[i].off + below(r, NLA_ALIGN(a->nla_len) + 1);
	if (m->len > (int)h->len)
		m->len = h->len;
	h->len = m->len;
	m->nl_cut = m->len;
	m->mutation = "cut inside an attribute";
}

/* --- what the nucleus must answer ----------------------------------------- */

struct expect {
	bool known;		/* status (and whether a reply) follows */
	bool reply;
	int status;
	int nlerr;
	bool bad_known;
	uint16_t bad;
	/* A REG_WRITE the target check lets through: 0, or the chip's
	 * write_check refuses the value (EPERM or EINVAL, ERR_ATTR
	 * REG_VALUE): a DMA address register, a DMA size past its buffer. */
	bool chip_may_refuse;
};

static bool is_daemon(int si)
{
	return si == daemon_sock;
}

/* The outcome that follows from the message and the model, where it does. */
static void predict(struct msg *m, int si, struct expect *e)
{
	const struct drvxpc_hdr *h = xhdr(m);
	int wire = m->nl_cut >= 0 ? m->nl_cut : m->len;
	const uint8_t *a = xdata(m) + sizeof(*h);
	int alen = wire - sizeof(*h);
	struct dev *d;
	uint16_t bad = 0;
	int r;

	memset(e, 0, sizeof(*e));
	e->known = true;
	if (m->cmd != 1) {
		e->nlerr = -EOPNOTSUPP;
		return;
	}
	if (wire < (int)sizeof(*h)) {
		e->nlerr = -EINVAL;
		return;
	}
	r = ref_check_hdr(h, wire);
	if (r == -EINVAL) {
		e->nlerr = -EINVAL;
		return;
	}
	e->reply = true;
	if (r) {
		e->status = r;
		return;
	}
	r = ref_validate(a, alen, 0, &bad);
	if (r) {
		e->status = r;
		e->bad_known = true;
		e->bad = bad;
		return;
	}
	if (!(h->flags & DRVXPC_F_REQUEST)) {
		e->reply = false;
		return;
	}
	d = dev_of(h->instance);
	switch (h->op) {
	case DRVXPC_OP_REGISTER:
		e->status = 0;
		return;
	case DRVXPC_OP_UNREGISTER:
		e->status = is_daemon(si) ? 0 : -EPERM;
		return;
	case DRVXPC_OP_SIM_CONTROL: {
		const uint8_t *act = ref_find(a, alen, DRVXPC_A_SIM_ACTION, NULL);

		if (!act || *act != DRVXPC_SIM_PING) {
			e->status = -EOPNOTSUPP;
			return;
		}
		e->known = false;
		return;
	}
	}
	if (!DRVXPC_OP_IS_DOWNCALL(h->op) && h->op != DRVXPC_OP_DEVICE_INFO &&
	    h->op != DRVXPC_OP_QUIESCE && h->op != DRVXPC_OP_DEVICE_READD) {
		e->status = -EOPNOTSUPP;
		return;
	}
	if (!is_daemon(si) && h->op != DRVXPC_OP_DEVICE_INFO) {
		e->status = -EPERM;
		return;
	}
	if (!d) {
		e->status = -ENODEV;
		return;
	}
	switch (h->op) {
	case DRVXPC_OP_DEVICE_INFO:
	case DRVXPC_OP_QUIESCE:
	case DRVXPC_OP_DEVICE_READD:	/* handles and registrations stay */
		e->status = 0;
		return;
	case DRVXPC_OP_REG_READ:
	case DRVXPC_OP_REG_WRITE: {
		const uint8_t *o = ref_find(a, alen, DRVXPC_A_REG_OFFSET, NULL);
		const uint8_t *w = ref_find(a, alen, DRVXPC_A_REG_WIDTH, NULL);
		uint32_t width = w ? *w : 4, off;

		e->bad_known = true;
		e->bad = DRVXPC_A_REG_OFFSET;
		if (!o) {
			e->status = -EINVAL;
			return;
		}
		off = get_uint(o, 4);
		if (width != 1 && width != 2 && width != 4) {
			e->status = -EINVAL;
			e->bad = DRVXPC_A_REG_WIDTH;
		} else if ((uint64_t)off + width > d->bar_len) {
			e->status = -EACCES;
		} else if (off % width) {
			e->status = -EINVAL;
		} else if (h->op == DRVXPC_OP_REG_WRITE &&
			   !ref_find(a, alen, DRVXPC_A_REG_VALUE, NULL)) {
			e->status = -EINVAL;
			e->bad = DRVXPC_A_REG_VALUE;
		} else {
			e->status = 0;
			e->bad = 0;
			e->chip_may_refuse = h->op == DRVXPC_OP_REG_WRITE;
		}
		return;
	}
	case DRVXPC_OP_DMA_ALLOC:
		if (!ref_find(a, alen, DRVXPC_A_DMA_SIZE, NULL)) {
			e->status = -EINVAL;
			e->bad_known = true;
			e->bad = DRVXPC_A_DMA_SIZE;
			return;
		}
		e->known = false;	/* 0, or -ENOMEM */
		return;
	case DRVXPC_OP_DMA_FREE:
	case DRVXPC_OP_REG_WRITE_DMA: {
		const uint8_t *ha = ref_find(a, alen, DRVXPC_A_DMA_HANDLE, NULL);
		struct handle *hd = ha ? live_of(d, get_uint(ha, 4)) : NULL;

		if (!hd) {
			/* Not this device's, stale, or never handed out. */
			e->status = -ENOENT;
			e->bad_known = true;
			e->bad = DRVXPC_A_DMA_HANDLE;
			return;
		}
		if (h->op == DRVXPC_OP_DMA_FREE) {
			if (hd->pinned) {
				e->status = -EBUSY;
				return;
			}
			if (hd->maybe_pinned) {
				e->known = false;
				return;
			}
			e->status = 0;
			return;
		}
		e->known = false;
		return;
	}
	case DRVXPC_OP_REG_SEQ:
		e->known = false;
		return;
	}
	/* The class's ops. */
	e->known = false;
	if (d->cls == DRVXPC_CLASS_NET && h->op != DRVXPC_OP_NET_REGISTER &&
	    h->op != DRVXPC_OP_DATAPATH_ENABLE && h->op != DRVXPC_OP_DATAPATH_DISABLE &&
	    h->op != DRVXPC_OP_NET_CARRIER) {
		e->known = true;
		e->status = -EOPNOTSUPP;
	}
	/* A sound card's DATAPATH_DISABLE/ENABLE hold and release its stream
	 * for recovery: 0, or ENODEV before SND_REGISTER. */
	if (d->cls == DRVXPC_CLASS_SOUND && h->op != DRVXPC_OP_SND_REGISTER &&
	    h->op != DRVXPC_OP_DATAPATH_ENABLE && h->op != DRVXPC_OP_DATAPATH_DISABLE) {
		e->known = true;
		e->status = -EOPNOTSUPP;
	}
}

static const char *errname(int e)
{
	static const struct { int e; const char *n; } names[] = {
		{ 0, "ok" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
		{ EIO, "EIO" }, { E2BIG, "E2BIG" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EBUSY, "EBUSY" }, { ENODEV, "ENODEV" },
		{ EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
		{ EPROTO, "EPROTO" }, { EMSGSIZE, "EMSGSIZE" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EEXIST, "EEXIST" },
	};
	static __thread char buf[32];
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].n;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/* The object list of a DEVICE_INFO reply against the model. */
static void check_objects(struct tally *t, struct outcome *o, struct dev *d)
{
	const uint8_t *p = o->reply + sizeof(struct drvxpc_hdr);
	int rem = o->reply_len - sizeof(struct drvxpc_hdr), seen = 0;

	while (rem >= NLA_HDRLEN) {
		struct nlattr a;

		memcpy(&a, p, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
			break;
		if ((a.nla_type & NLA_TYPE_MASK) == DRVXPC_A_OBJECT) {
			const uint8_t *in = p + NLA_HDRLEN;
			int ilen = a.nla_len - NLA_HDRLEN;
			const uint8_t *id = ref_find(in, ilen, DRVXPC_A_OBJECT_ID, NULL);
			const uint8_t *kind = ref_find(in, ilen, DRVXPC_A_OBJECT_KIND, NULL);
			const uint8_t *role = ref_find(in, ilen, DRVXPC_A_OBJECT_ROLE, NULL);
			const uint8_t *size = ref_find(in, ilen, DRVXPC_A_DMA_SIZE, NULL);
			struct handle *h;

			if (!id || !kind || !role || !size)
				die_malformed("DEVICE_INFO OBJECT without its fields", o->reply, o->reply_len);
			h = live_of(d, get_uint(id, 4));
			if (!h)
				violation(t, "instance %u: DEVICE_INFO lists object %u the model does not hold",
					  d->instance, (unsigned int)get_uint(id, 4));
			else if (h->size != get_uint(size, 4) || h->role != *role)
				violation(t, "instance %u: object %u is %u bytes role %u, allocated as %u bytes role %u",
					  d->instance, h->id, (unsigned int)get_uint(size, 4), *role,
					  h->size, h->role);
			seen++;
		}
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
	if (seen != d->nlive)
		violation(t, "instance %u: DEVICE_INFO lists %d objects, the model holds %d",
			  d->instance, seen, d->nlive);
}

/* After the exchange: the prediction, then the model. */
static void settle(struct tally *t, struct msg *m, int si, struct plan *p,
		   struct expect *e, struct outcome *o)
{
	const struct drvxpc_hdr *h = xhdr(m);
	struct drvxpc_hdr *rh = reply_hdr(o);
	int status = o->replied ? rh->status : 0;
	struct dev *d = dev_of(h->instance);

	if (o->replied)
		t->reply_status[-status]++;
	else if (o->nlerr)
		t->nl_error[-o->nlerr]++;
	else
		t->ack_only++;

	if (o->replied && o->nlerr)
		violation(t, "op %u: a reply (%s) and a netlink error (%s)", h->op,
			  errname(-status), errname(-o->nlerr));
	if (e->known && e->chip_may_refuse && o->replied &&
	    (status == -EPERM || status == -EINVAL)) {
		const uint8_t *ba = reply_attr(o, DRVXPC_A_ERR_ATTR, NULL);

		t->chip_refused++;
		if (!ba || get_uint(ba, 2) != DRVXPC_A_REG_VALUE)
			violation(t, "REG_WRITE refused by the chip (%s) without ERR_ATTR REG_VALUE",
				  errname(-status));
	} else if (e->known) {
		if (e->reply != o->replied || (e->reply && e->status != status) ||
		    (!e->reply && e->nlerr != o->nlerr)) {
			violation(t, "op %s (%u) instance %u from socket %d, mutation \"%s\": expected %s %s, got %s %s (nlerr %s)",
				  drvxpc_op_name(h->op) ?: "?", h->op, h->instance, si, m->mutation,
				  e->reply ? "reply" : "no reply",
				  errname(-(e->reply ? e->status : e->nlerr)),
				  o->replied ? "reply" : "no reply",
				  errname(-(o->replied ? status : o->nlerr)), errname(-o->nlerr));
		} else if (o->replied && status && e->bad_known) {
			const uint8_t *ba = reply_attr(o, DRVXPC_A_ERR_ATTR, NULL);
			uint16_t bad = ba ? get_uint(ba, 2) : 0;

			if (bad != e->bad)
				violation(t, "op %s: ERR_ATTR %u, expected %u (%s), mutation \"%s\"",
					  drvxpc_op_name(h->op) ?: "?", bad, e->bad,
					  drvxpc_attr_name(e->bad) ?: "-", m->mutation);
		}
	} else if (h->flags & DRVXPC_F_REQUEST && !o->replied && o->nlerr != -ENOMEM) {
		/* A well-formed request must get a drvxpc reply: the daemon
		 * matches replies by seq and has no use for a bare netlink
		 * error. */
		violation(t, "op %s (%u) instance %u: no drvxpc reply, netlink error %s, mutation \"%s\"",
			  drvxpc_op_name(h->op) ?: "?", h->op, h->instance, errname(-o->nlerr),
			  m->mutation);
	}
	if (o->replied && !status && h->op == DRVXPC_OP_REGISTER &&
	    (h->flags & DRVXPC_F_REQUEST))
		daemon_sock = si;
	/* Random bytes that make an UNREGISTER: the seat is empty (the main
	 * loop registers again). */
	if (o->replied && !status && h->op == DRVXPC_OP_UNREGISTER &&
	    (h->flags & DRVXPC_F_REQUEST))
		unregistered = si;
	if (!o->replied || !d)
		return;
	if (status == 0 && !(h->flags & DRVXPC_F_REQUEST))
		return;

	switch (h->op) {
	case DRVXPC_OP_REG_READ:
		if (!status) {
			const uint8_t *v = reply_attr(o, DRVXPC_A_REG_VALUE, NULL);
			const uint8_t *o1 = ref_find(xdata(m) + sizeof(*h), h->len - sizeof(*h),
						     DRVXPC_A_REG_OFFSET, NULL);
			const uint8_t *w1 = ref_find(xdata(m) + sizeof(*h), h->len - sizeof(*h),
						     DRVXPC_A_REG_WIDTH, NULL);
			uint32_t width = w1 ? *w1 : 4, val;

			if (!v) {
				violation(t, "REG_READ answered 0 without REG_VALUE");
				break;
			}
			val = get_uint(v, 4);
			if (width < 4 && (val >> (8 * width)))
				violation(t, "REG_READ of width %u returned 0x%x", width, val);
			if (o1)
				echo_put(d, get_uint(o1, 4), width, val);
		}
		break;
	case DRVXPC_OP_REG_SEQ:
		if (!status && p->d == d && !m->mutated) {
			int plen = 0;
			const uint8_t *res = reply_attr(o, DRVXPC_A_REG_RESULTS, &plen);

			if (!res)
				plen = 0;
			if (plen != 4 * p->reads)
				violation(t, "REG_SEQ with %d reads returned %d result bytes",
					  p->reads, plen);
		}
		if (!status && m->mutated == false && !p->seq_ok)
			violation(t, "REG_SEQ past %d steps accepted", DRVXPC_SEQ_MAX_OPS);
		break;
	case DRVXPC_OP_DMA_ALLOC:
		if (!status) {
			const uint8_t *ha = reply_attr(o, DRVXPC_A_DMA_HANDLE, NULL);
			const uint8_t *sa = ref_find(xdata(m) + sizeof(*h), h->len - sizeof(*h),
						     DRVXPC_A_DMA_SIZE, NULL);
			const uint8_t *ra = ref_find(xdata(m) + sizeof(*h), h->len - sizeof(*h),
						     DRVXPC_A_OBJECT_ROLE, NULL);
			uint32_t id;
			struct handle *nh;

			if (!ha || !sa) {
				violation(t, "DMA_ALLOC answered 0 without DMA_HANDLE");
				break;
			}
			id = get_uint(ha, 4);
			if (owner_of(id) || id <= highest_handle)
				violation(t, "DMA_ALLOC handed out handle %u again (highest so far %u)",
					  id, highest_handle);
			if (id > highest_handle)
				highest_handle = id;
			if (d->nlive == MAX_LIVE) {
				violation(t, "the model is full");
				break;
			}
			nh = &d->live[d->nlive++];
			memset(nh, 0, sizeof(*nh));
			nh->id = id;
			nh->size = get_uint(sa, 4);
			nh->role = ra ? *ra : 0;
			d->live_bytes += nh->size;
		}
		break;
	case DRVXPC_OP_DMA_FREE: {
		const uint8_t *ha = ref_find(xdata(m) + sizeof(*h), h->len - sizeof(*h),
					     DRVXPC_A_DMA_HANDLE, NULL);
		struct handle *hd = ha ? live_of(d, get_uint(ha, 4)) : NULL;

		if (!hd)
			break;
		if (!status) {
			if (hd->pinned)
				violation(t, "DMA_FREE of pinned handle %u succeeded", hd->id);
			forget_handle(d, hd->id);
		} else if (status == -EBUSY) {
			if (!hd->maybe_pinned)
				violation(t, "DMA_FREE of handle %u: EBUSY, but no data path was enabled with it",
					  hd->id);
			hd->pinned = true;
		}
		break;
	}
	case DRVXPC_OP_DATAPATH_ENABLE:
		if (!status && d->cls == DRVXPC_CLASS_NET) {
			int i;

			/* The newest of each role the chip wants are pinned
			 * now, the ones they replace no longer: which is
			 * which, DMA_FREE's EBUSY tells. */
			for (i = 0; i < d->nlive; i++) {
				d->live[i].maybe_pinned = true;
				d->live[i].pinned = false;
			}
		}
		break;
	case DRVXPC_OP_NET_REGISTER:
	case DRVXPC_OP_SND_REGISTER:
		if (!status)
			d->registered = true;
		if (!status && h->op == DRVXPC_OP_NET_REGISTER &&
		    !reply_attr(o, DRVXPC_A_IFNAME, NULL))
			violation(t, "NET_REGISTER answered 0 without IFNAME");
		break;
	case DRVXPC_OP_DEVICE_INFO:
		if (!status) {
			const uint8_t *v = reply_attr(o, DRVXPC_A_PCI_VENDOR, NULL);
			const uint8_t *di = reply_attr(o, DRVXPC_A_PCI_DEVICE, NULL);

			if (!v || !di || get_uint(v, 2) != d->vendor || get_uint(di, 2) != d->device)
				violation(t, "DEVICE_INFO of instance %u names another device",
					  d->instance);
			check_objects(t, o, d);
		}
		break;
	}
}

/* One message: predicted, sent, checked, the model updated. */
static int send_checked(int si, struct msg *m, struct plan *p, struct outcome *o)
{
	struct expect e;

	predict(m, si, &e);
	exchange(si, m, &main_tally, o);
	settle(&main_tally, m, si, p, &e, o);
	if (opt_verbose)
		printf("  sock %d op %s inst %u mut \"%s\" -> %s %d nlerr %d\n", si,
		       drvxpc_op_name(xhdr(m)->op) ?: "?", xhdr(m)->instance, m->mutation,
		       o->replied ? "reply" : "no reply",
		       o->replied ? reply_hdr(o)->status : 0, o->nlerr);
	return o->replied ? reply_hdr(o)->status : o->nlerr;
}

/* --- scenarios --------------------------------------------------------------- */

static struct msg mbuf;
static struct outcome obuf;

static int simple(struct rng *r, int si, uint16_t op, struct dev *d, struct plan *p)
{
	gen_op(r, &mbuf, op, d, p);
	return send_checked(si, &mbuf, p, &obuf);
}

/* Ops a device of class @cls is sent most: the downcalls and DEVICE_INFO. */
static uint16_t pick_op(struct rng *r)
{
	static const uint16_t common[] = {
		DRVXPC_OP_REG_READ, DRVXPC_OP_REG_READ, DRVXPC_OP_REG_WRITE,
		DRVXPC_OP_REG_SEQ, DRVXPC_OP_REG_SEQ, DRVXPC_OP_DMA_ALLOC,
		DRVXPC_OP_DMA_FREE, DRVXPC_OP_REG_WRITE_DMA, DRVXPC_OP_DEVICE_INFO,
		DRVXPC_OP_NET_REGISTER, DRVXPC_OP_NET_CARRIER, DRVXPC_OP_DATAPATH_ENABLE,
		DRVXPC_OP_DATAPATH_DISABLE, DRVXPC_OP_SND_REGISTER,
		DRVXPC_OP_RESYNC_CLIENTS,
	};

	if (chance(r, 15))
		return any_op(r);
	return common[below(r, sizeof(common) / sizeof(common[0]))];
}

/* Free DMA until the device is under its budget (count and bytes). */
static void keep_budget(struct rng *r, struct dev *d)
{
	struct plan p;
	int guard = 0;

	while (d && (d->nlive >= opt_max_live || d->live_bytes > (8u << 20)) && guard++ < 8) {
		struct handle *h = &d->live[below(r, d->nlive)];

		if (h->pinned)
			continue;
		memset(&p, 0, sizeof(p));
		msg_init(&mbuf, DRVXPC_OP_DMA_FREE, d->instance, ++xpc_seq);
		put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, h->id);
		p.d = d;
		send_checked(daemon_sock, &mbuf, &p, &obuf);
	}
}

/* A valid message with one field mutated (or none, a fifth of the time). */
static void scenario_single(struct rng *r)
{
	struct dev *d = chance(r, 95) ? pick_dev(r) : NULL;
	uint16_t op = pick_op(r);
	struct plan p;

	if (op == DRVXPC_OP_DMA_ALLOC)
		keep_budget(r, d);
	gen_op(r, &mbuf, op, d, &p);
	if (chance(r, 80))
		mutate(r, &mbuf, d, true);
	send_checked(daemon_sock, &mbuf, &p, &obuf);
}

/* A REG_WRITE_DMA that succeeds is undone: the register gets back what it
 * held (read just before). */
static void write_dma_undone(struct rng *r, struct dev *d, uint32_t handle)
{
	uint8_t w = chance(r, 70) ? 4 : 2;
	uint32_t off = pick_offset(r, d, w), before;
	struct plan p;
	const uint8_t *v;

	memset(&p, 0, sizeof(p));
	p.d = d;
	msg_init(&mbuf, DRVXPC_OP_REG_READ, d->instance, ++xpc_seq);
	put_u32(&mbuf, DRVXPC_A_REG_OFFSET, off);
	put_u8(&mbuf, DRVXPC_A_REG_WIDTH, w);
	if (send_checked(daemon_sock, &mbuf, &p, &obuf) ||
	    !(v = reply_attr(&obuf, DRVXPC_A_REG_VALUE, NULL)))
		return;
	before = get_uint(v, 4);
	msg_init(&mbuf, DRVXPC_OP_REG_WRITE_DMA, d->instance, ++xpc_seq);
	put_u32(&mbuf, DRVXPC_A_REG_OFFSET, off);
	put_u8(&mbuf, DRVXPC_A_REG_WIDTH, w);
	put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, handle);
	if (chance(r, 50))
		put_u32(&mbuf, DRVXPC_A_DMA_OFFSET, below(r, 64));
	if (w == 2)
		put_u8(&mbuf, DRVXPC_A_DMA_SHIFT, below(r, 2) ? 16 : 0);
	if (send_checked(daemon_sock, &mbuf, &p, &obuf))
		return;
	msg_init(&mbuf, DRVXPC_OP_REG_WRITE, d->instance, ++xpc_seq);
	put_u32(&mbuf, DRVXPC_A_REG_OFFSET, off);
	put_u8(&mbuf, DRVXPC_A_REG_WIDTH, w);
	put_u32(&mbuf, DRVXPC_A_REG_VALUE, before);
	send_checked(daemon_sock, &mbuf, &p, &obuf);
}

/* DMA_ALLOC, use, free, double free, stale use, another device's handle. */
static void scenario_dma(struct rng *r)
{
	struct dev *d = pick_dev(r), *other = pick_dev(r);
	struct plan p;
	const uint8_t *ha;
	uint32_t id;

	if (!d)
		return;
	keep_budget(r, d);
	gen_op(r, &mbuf, DRVXPC_OP_DMA_ALLOC, d, &p);
	if (send_checked(daemon_sock, &mbuf, &p, &obuf) ||
	    !(ha = reply_attr(&obuf, DRVXPC_A_DMA_HANDLE, NULL)))
		return;
	id = get_uint(ha, 4);
	if (chance(r, 60))
		write_dma_undone(r, d, id);
	if (other && other != d) {
		/* Another device's handle: not found there. */
		msg_init(&mbuf, chance(r, 50) ? DRVXPC_OP_DMA_FREE : DRVXPC_OP_REG_WRITE_DMA,
			 other->instance, ++xpc_seq);
		put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, id);
		put_u32(&mbuf, DRVXPC_A_REG_OFFSET, 0);
		p.d = other;
		send_checked(daemon_sock, &mbuf, &p, &obuf);
	}
	if (chance(r, 30))
		return;		/* kept live for later scenarios */
	p.d = d;
	msg_init(&mbuf, DRVXPC_OP_DMA_FREE, d->instance, ++xpc_seq);
	put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, id);
	send_checked(daemon_sock, &mbuf, &p, &obuf);
	if (chance(r, 60)) {
		/* Again: the handle is stale now. */
		msg_init(&mbuf, DRVXPC_OP_DMA_FREE, d->instance, ++xpc_seq);
		put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, id);
		send_checked(daemon_sock, &mbuf, &p, &obuf);
	}
	if (chance(r, 40)) {
		msg_init(&mbuf, DRVXPC_OP_REG_WRITE_DMA, d->instance, ++xpc_seq);
		put_u32(&mbuf, DRVXPC_A_REG_OFFSET, 0);
		put_u8(&mbuf, DRVXPC_A_REG_WIDTH, 4);
		put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, id);
		send_checked(daemon_sock, &mbuf, &p, &obuf);
	}
}

/*
 * A downcall named by CALL_ID, sent again under another seq (what a
 * u-driver does after drivermgrd's death): the nucleus answers from the
 * first time, byte for byte but the seq, and does not run it again.  A
 * DMA_ALLOC run twice would leave an object the model does not hold, which
 * the next reconcile reports.
 */
static void scenario_repeat(struct rng *r)
{
	static uint64_t next_id;
	static uint8_t first[RECV_CAP / 4];
	struct dev *d = pick_dev(r);
	int first_len, first_status;
	struct outcome again;
	struct plan p;
	uint64_t id;

	if (!d)
		return;
	if (!next_id)
		next_id = (rnd64(r) | 1) & ~0xffffULL;
	id = ++next_id;
	if (chance(r, 60)) {
		keep_budget(r, d);
		gen_op(r, &mbuf, DRVXPC_OP_DMA_ALLOC, d, &p);
	} else {
		gen_op(r, &mbuf, DRVXPC_OP_REG_READ, d, &p);
	}
	put(&mbuf, DRVXPC_A_CALL_ID, &id, 8);
	first_status = send_checked(daemon_sock, &mbuf, &p, &obuf);
	if (!obuf.replied)
		return;
	first_len = obuf.reply_len;
	memcpy(first, obuf.reply, first_len);
	xhdr(&mbuf)->seq = ++xpc_seq;
	exchange(daemon_sock, &mbuf, &main_tally, &again);
	if (!again.replied || again.reply_len != first_len ||
	    reply_hdr(&again)->seq != xpc_seq ||
	    reply_hdr(&again)->status != first_status ||
	    memcmp(again.reply + sizeof(struct drvxpc_hdr), first + sizeof(struct drvxpc_hdr),
		   first_len - sizeof(struct drvxpc_hdr)))
		violation(&main_tally, "instance %u: %s call %llx sent again was not answered from the first time",
			  d->instance, drvxpc_op_name(xhdr(&mbuf)->op),
			  (unsigned long long)id);
}

/* Reads at the BAR's edges, one message each and as one REG_SEQ. */
static void scenario_edges(struct rng *r)
{
	struct dev *d = pick_dev(r);
	struct plan p;
	uint32_t bar;
	uint32_t offs[8];
	uint8_t ws[8];
	int i, n = 0;

	if (!d)
		return;
	bar = d->bar_len;
	offs[n] = 0; ws[n++] = 4;
	offs[n] = bar - 4; ws[n++] = 4;
	offs[n] = bar - 2; ws[n++] = 2;
	offs[n] = bar - 1; ws[n++] = 1;
	offs[n] = bar; ws[n++] = 1;
	offs[n] = bar - 2; ws[n++] = 4;
	offs[n] = bar - 3; ws[n++] = 2;
	offs[n] = bar + 4; ws[n++] = 4;
	i = below(r, n);
	memset(&p, 0, sizeof(p));
	p.d = d;
	msg_init(&mbuf, DRVXPC_OP_REG_READ, d->instance, ++xpc_seq);
	put_u32(&mbuf, DRVXPC_A_REG_OFFSET, offs[i]);
	put_u8(&mbuf, DRVXPC_A_REG_WIDTH, ws[i]);
	send_checked(daemon_sock, &mbuf, &p, &obuf);

	msg_init(&mbuf, DRVXPC_OP_REG_SEQ, d->instance, ++xpc_seq);
	p.seq_ok = true;
	if (chance(r, 50) || bar > 65536) {
		nest_start(&mbuf, DRVXPC_A_REG_SEQ);
		for (i = 0; i < n; i++) {
			if (chance(r, 50))
				continue;
			nest_start(&mbuf, DRVXPC_A_REG_OP);
			put_u8(&mbuf, DRVXPC_A_REG_OP_KIND, DRVXPC_REGOP_READ);
			put_u32(&mbuf, DRVXPC_A_REG_OFFSET, offs[i]);
			put_u8(&mbuf, DRVXPC_A_REG_WIDTH, ws[i]);
			nest_end(&mbuf);
			p.reads++;
		}
		nest_end(&mbuf);
	} else {
		struct drvxpc_regstep st[8];
		int k = 0;

		for (i = 0; i < n; i++) {
			if (chance(r, 50))
				continue;
			st[k].kind = DRVXPC_REGOP_READ;
			st[k].width = ws[i];
			st[k].offset = offs[i];
			st[k].value = 0;
			k++;
		}
		put(&mbuf, DRVXPC_A_REG_STEPS, st, k * sizeof(st[0]));
		p.reads = k;
	}
	send_checked(daemon_sock, &mbuf, &p, &obuf);
}

/* A class's bring-up, in order, shuffled, or cut short. */
static void scenario_class(struct rng *r)
{
	struct dev *d = pick_dev(r);
	uint16_t ops[12];
	int n = 0, i;
	struct plan p;

	if (!d)
		return;
	if (d->cls == DRVXPC_CLASS_NET) {
		ops[n++] = DRVXPC_OP_NET_REGISTER;
		ops[n++] = DRVXPC_OP_DMA_ALLOC;
		ops[n++] = DRVXPC_OP_DMA_ALLOC;
		ops[n++] = DRVXPC_OP_DMA_ALLOC;
		ops[n++] = DRVXPC_OP_DATAPATH_ENABLE;
		ops[n++] = DRVXPC_OP_NET_CARRIER;
		ops[n++] = DRVXPC_OP_DEVICE_INFO;
		ops[n++] = DRVXPC_OP_DATAPATH_DISABLE;
		ops[n++] = DRVXPC_OP_DMA_FREE;
		ops[n++] = DRVXPC_OP_QUIESCE;
	} else {
		ops[n++] = DRVXPC_OP_SND_REGISTER;
		ops[n++] = DRVXPC_OP_DMA_ALLOC;
		ops[n++] = DRVXPC_OP_DEVICE_INFO;
		ops[n++] = DRVXPC_OP_NET_REGISTER;	/* the wrong class */
		ops[n++] = DRVXPC_OP_DATAPATH_ENABLE;
		ops[n++] = DRVXPC_OP_QUIESCE;
		ops[n++] = DRVXPC_OP_DMA_FREE;
	}
	if (chance(r, 40)) {
		for (i = n - 1; i > 0; i--) {
			int j = below(r, i + 1);
			uint16_t t = ops[i];

			ops[i] = ops[j];
			ops[j] = t;
		}
	}
	if (chance(r, 30))
		n = 1 + below(r, n);
	for (i = 0; i < n; i++) {
		if (ops[i] == DRVXPC_OP_DMA_ALLOC)
			keep_budget(r, d);
		simple(r, daemon_sock, ops[i], d, &p);
	}
}

/* From the socket that is not the daemon: status is for anyone, the rest
 * is refused. */
static void scenario_other(struct rng *r)
{
	int other = daemon_sock == SOCK_A ? SOCK_B : SOCK_A;
	struct dev *d = chance(r, 90) ? pick_dev(r) : NULL;
	uint16_t op = chance(r, 40) ? DRVXPC_OP_DEVICE_INFO : pick_op(r);
	struct plan p;

	gen_op(r, &mbuf, op, d, &p);
	if (chance(r, 30))
		mutate(r, &mbuf, d, false);
	/* REGISTER here would hand the daemon over: scenario_handover's. */
	if (xhdr(&mbuf)->op == DRVXPC_OP_REGISTER)
		xhdr(&mbuf)->op = DRVXPC_OP_DEVICE_INFO;
	send_checked(other, &mbuf, &p, &obuf);
}

static void do_register(int si)
{
	struct plan p;

	memset(&p, 0, sizeof(p));
	msg_init(&mbuf, DRVXPC_OP_REGISTER, 0, ++xpc_seq);
	put_u32(&mbuf, DRVXPC_A_VERSION, DRVXPC_VERSION);
	if (send_checked(si, &mbuf, &p, &obuf)) {
		printf("genl-fuzz: REGISTER refused\n");
		exit(2);
	}
	daemon_sock = si;
}

/* The other socket registers: the old daemon is refused, the new one
 * served; then back.  Or the daemon's socket closes and a new one
 * registers. */
static void scenario_handover(struct rng *r)
{
	int old = daemon_sock, other = old == SOCK_A ? SOCK_B : SOCK_A, i;
	struct dev *d = pick_dev(r);
	struct plan p;

	if (chance(r, 10)) {
		/* The daemon stops on purpose: the other socket may not
		 * unregister it; then nobody's downcall runs; then it is
		 * back. */
		msg_init(&mbuf, DRVXPC_OP_UNREGISTER, 0, ++xpc_seq);
		memset(&p, 0, sizeof(p));
		send_checked(other, &mbuf, &p, &obuf);
		msg_init(&mbuf, DRVXPC_OP_UNREGISTER, 0, ++xpc_seq);
		memset(&p, 0, sizeof(p));
		send_checked(old, &mbuf, &p, &obuf);
		daemon_sock = -1;
		if (d)
			simple(r, old, DRVXPC_OP_REG_READ, d, &p);
		do_register(old);
		unregistered = -1;
		return;
	}
	if (chance(r, 20)) {
		close(socks[old]);
		daemon_sock = -1;
		socks[old] = genl_sock_open("genl-fuzz", 60);
		/* In between, a device op from nobody's daemon. */
		if (d)
			simple(r, other, DRVXPC_OP_REG_READ, d, &p);
		do_register(old);
		return;
	}
	do_register(other);
	for (i = 0; i < 3 && d; i++) {
		simple(r, old, pick_op(r), d, &p);
		simple(r, other, DRVXPC_OP_REG_READ, d, &p);
	}
	do_register(old);
}

/* Random bytes after the genl header (a few of them consistent in len). */
static void scenario_random(struct rng *r)
{
	int n = below(r, 2) ? below(r, 64) : below(r, 600), i;
	struct plan p;

	msg_init(&mbuf, 0, 0, 0);
	for (i = 0; i < n; i++)
		xdata(&mbuf)[i] = rnd(r);
	mbuf.len = n;
	mbuf.nl_cut = n;
	mbuf.mutated = true;
	mbuf.mutation = "random bytes";
	if (n >= (int)sizeof(struct drvxpc_hdr)) {
		struct drvxpc_hdr *h = xhdr(&mbuf);

		if (chance(r, 50))
			h->len = n;
		if (chance(r, 50))
			h->flags = DRVXPC_F_REQUEST;
		if (chance(r, 50))
			h->op = any_op(r);
		/* Nothing random reaches a register or the daemon's seat. */
		if (h->op == DRVXPC_OP_REG_WRITE || h->op == DRVXPC_OP_REG_SEQ ||
		    h->op == DRVXPC_OP_REG_WRITE_DMA || h->op == DRVXPC_OP_REGISTER ||
		    h->op == DRVXPC_OP_SIM_CONTROL || h->op == DRVXPC_OP_DMA_FREE)
			h->op = DRVXPC_OP_REG_READ;
	}
	memset(&p, 0, sizeof(p));
	send_checked(daemon_sock, &mbuf, &p, &obuf);
}

/* DEVICE_INFO of every device: the object lists against the model. */
static void reconcile(void)
{
	struct plan p;
	int i;

	for (i = 0; i < ndevs; i++) {
		memset(&p, 0, sizeof(p));
		p.d = &devs[i];
		msg_init(&mbuf, DRVXPC_OP_DEVICE_INFO, devs[i].instance, ++xpc_seq);
		send_checked(daemon_sock, &mbuf, &p, &obuf);
	}
}

/* --- the PING thread ------------------------------------------------------ */

static volatile int ping_stop;
static uint64_t ping_rounds;

/* SIM_CONTROL PINGs from a third socket: the kernel upcalls the daemon
 * COUNT times, the daemon's socket answers from the main loop. */
static void *ping_thread(void *arg)
{
	struct rng r = { .s = opt_seed * 0x9e3779b97f4a7c15ULL + 7 };
	static struct msg m;
	static struct outcome o;

	(void)arg;
	while (!ping_stop) {
		struct dev *d = ndevs ? &devs[below(&r, ndevs)] : NULL;
		uint32_t count = chance(&r, 3) ? (below(&r, 2) ? 2048 : 0) : 1 + below(&r, 8);

		msg_init(&m, DRVXPC_OP_SIM_CONTROL, d && chance(&r, 95) ? d->instance : 77, 0);
		put_u8(&m, DRVXPC_A_SIM_ACTION, chance(&r, 90) ? DRVXPC_SIM_PING : 1 + below(&r, 5));
		if (chance(&r, 95))
			put_u32(&m, DRVXPC_A_COUNT, chance(&r, 1) ? 2049 : count);
		exchange(SOCK_C, &m, &ping_tally, &o);
		if (o.replied)
			ping_tally.reply_status[-reply_hdr(&o)->status]++;
		else if (o.nlerr)
			ping_tally.nl_error[-o.nlerr]++;
		else
			ping_tally.ack_only++;
		if (!o.replied)
			violation(&ping_tally, "SIM_CONTROL (count %u): no drvxpc reply, netlink error %s",
				  count, errname(-o.nlerr));
		if (o.replied && !reply_hdr(&o)->status) {
			int plen = 0;
			const uint8_t *s = reply_attr(&o, DRVXPC_A_SAMPLES_NS, &plen);
			const uint8_t *c = ref_find(xdata(&m) + sizeof(struct drvxpc_hdr),
						    m.len - sizeof(struct drvxpc_hdr),
						    DRVXPC_A_COUNT, NULL);

			if (!s || !c || plen != 4 * (int)get_uint(c, 4))
				violation(&ping_tally, "SIM_CONTROL PING: %d sample bytes for COUNT %u",
					  s ? plen : -1, c ? (unsigned int)get_uint(c, 4) : 0);
			ping_rounds += c ? get_uint(c, 4) : 0;
		}
		usleep(2000);
	}
	return NULL;
}

/* --- deterministic checks after the run ------------------------------------ */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct msg big_ping_msg;
static struct outcome big_ping_out;
static volatile int big_ping_done;

static void *big_ping(void *arg)
{
	exchange(SOCK_C, &big_ping_msg, &ping_tally, &big_ping_out);
	big_ping_done = 1;
	return NULL;
}

/* Reads what the daemon's socket has (upcalls, answered) for up to 100 ms. */
static void pump(int si)
{
	static uint8_t buf[RECV_CAP];
	struct pollfd pfd = { .fd = socks[si], .events = POLLIN };
	struct nlmsghdr *h;
	int got, rem;

	if (poll(&pfd, 1, 100) <= 0)
		return;
	got = recv(socks[si], buf, sizeof(buf), MSG_DONTWAIT);
	rem = got;
	for (h = (struct nlmsghdr *)buf; got > 0 && NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
		const struct drvxpc_hdr *x = (const void *)((uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN);
		int xlen = h->nlmsg_len - GENL_OFF;

		if (h->nlmsg_type != family || xlen < (int)sizeof(*x))
			continue;
		check_form((const uint8_t *)x, xlen, "upcall while pumping");
		if (x->flags & DRVXPC_F_REQUEST)
			answer_upcall(si, &main_tally, x);
	}
}

/*
 * SIM_CONTROL with COUNT at its upper bound, every PING answered: the
 * reply carries 2048 samples (8 KiB, more than a page's worth of skb).
 */
static void check_big_ping(void)
{
	struct dev *d = &devs[0];
	pthread_t t;
	int plen = 0;

	upcalls_clean = 1;
	msg_init(&big_ping_msg, DRVXPC_OP_SIM_CONTROL, d->instance, ++xpc_seq);
	put_u8(&big_ping_msg, DRVXPC_A_SIM_ACTION, DRVXPC_SIM_PING);
	put_u32(&big_ping_msg, DRVXPC_A_COUNT, 2048);
	big_ping_done = 0;
	pthread_create(&t, NULL, big_ping, NULL);
	while (!big_ping_done)
		pump(daemon_sock);
	pthread_join(t, NULL);
	upcalls_clean = 0;
	if (!big_ping_out.replied || reply_hdr(&big_ping_out)->status ||
	    !reply_attr(&big_ping_out, DRVXPC_A_SAMPLES_NS, &plen) || plen != 4 * 2048)
		violation(&main_tally, "SIM_CONTROL PING COUNT 2048, all answered: %s %d, %d sample bytes",
			  big_ping_out.replied ? "reply" : "netlink error",
			  big_ping_out.replied ? reply_hdr(&big_ping_out)->status : big_ping_out.nlerr,
			  plen);
	else
		printf("genl-fuzz: check: SIM_CONTROL PING COUNT 2048 answered with 2048 samples\n");
}

/*
 * A PING the daemon never answers: SIM_CONTROL fails with -EAGAIN once the
 * upcall's deadline (upcall_timeout_ms) passes, and the kernel's warning
 * names the upcall.  The random run drops a few replies too, but how many
 * depends on how far it gets in its time; this one always happens.
 */
static void check_unanswered_ping(void)
{
	struct dev *d = &devs[0];
	double t0;
	pthread_t t;

	upcalls_ignored = 1;
	msg_init(&big_ping_msg, DRVXPC_OP_SIM_CONTROL, d->instance, ++xpc_seq);
	put_u8(&big_ping_msg, DRVXPC_A_SIM_ACTION, DRVXPC_SIM_PING);
	put_u32(&big_ping_msg, DRVXPC_A_COUNT, 1);
	big_ping_done = 0;
	t0 = now();
	pthread_create(&t, NULL, big_ping, NULL);
	while (!big_ping_done)
		pump(daemon_sock);
	pthread_join(t, NULL);
	upcalls_ignored = 0;
	if (!big_ping_out.replied || reply_hdr(&big_ping_out)->status != -EAGAIN)
		violation(&main_tally, "SIM_CONTROL PING left unanswered: %s %d, not -EAGAIN",
			  big_ping_out.replied ? "reply" : "netlink error",
			  big_ping_out.replied ? reply_hdr(&big_ping_out)->status : big_ping_out.nlerr);
	else
		printf("genl-fuzz: check: a PING left unanswered failed with -EAGAIN after %.0f ms\n",
		       (now() - t0) * 1000);
}

/* DEVICE_INFO of a device with 160 more objects than it had: all listed. */
static void check_big_info(void)
{
	struct dev *d = &devs[0];
	int i, before = d->nlive, want = 160;
	struct plan p;

	if (before + want > MAX_LIVE)
		want = MAX_LIVE - before;
	memset(&p, 0, sizeof(p));
	p.d = d;
	for (i = 0; i < want; i++) {
		msg_init(&mbuf, DRVXPC_OP_DMA_ALLOC, d->instance, ++xpc_seq);
		put_u32(&mbuf, DRVXPC_A_DMA_SIZE, 16);
		send_checked(daemon_sock, &mbuf, &p, &obuf);
	}
	msg_init(&mbuf, DRVXPC_OP_DEVICE_INFO, d->instance, ++xpc_seq);
	send_checked(daemon_sock, &mbuf, &p, &obuf);	/* checked against the model */
	if (obuf.replied && !reply_hdr(&obuf)->status)
		printf("genl-fuzz: check: DEVICE_INFO lists %d objects\n", d->nlive);
	/* The final clean-up frees them. */
}

/* --- main ------------------------------------------------------------------- */

/* `--info`: one line per device from an unregistered socket. */
static int info(void)
{
	struct plan p;
	int total = 0, n = 0;
	uint32_t i;

	int id;

	socks[SOCK_A] = genl_sock_open("genl-fuzz", 60);
	id = genl_family_id(socks[SOCK_A]);
	if (id <= 0) {
		printf("genl-fuzz: no drvnucleus family\n");
		return 1;
	}
	family = id;
	for (i = 1; i <= MAX_DEVS; i++) {
		const uint8_t *v, *di, *pp;
		int objects = 0, rem;

		memset(&p, 0, sizeof(p));
		msg_init(&mbuf, DRVXPC_OP_DEVICE_INFO, i, i);
		exchange(SOCK_A, &mbuf, &main_tally, &obuf);
		if (!obuf.replied || reply_hdr(&obuf)->status)
			continue;
		v = reply_attr(&obuf, DRVXPC_A_PCI_VENDOR, NULL);
		di = reply_attr(&obuf, DRVXPC_A_PCI_DEVICE, NULL);
		pp = obuf.reply + sizeof(struct drvxpc_hdr);
		rem = obuf.reply_len - sizeof(struct drvxpc_hdr);
		while (rem >= NLA_HDRLEN) {
			struct nlattr a;

			memcpy(&a, pp, sizeof(a));
			if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
				break;
			if ((a.nla_type & NLA_TYPE_MASK) == DRVXPC_A_OBJECT)
				objects++;
			rem -= NLA_ALIGN(a.nla_len);
			pp += NLA_ALIGN(a.nla_len);
		}
		printf("info: instance %u %04x:%04x answers DEVICE_INFO, %d DMA objects\n", i,
		       v ? (unsigned int)get_uint(v, 2) : 0, di ? (unsigned int)get_uint(di, 2) : 0,
		       objects);
		total += objects;
		n++;
	}
	printf("info: %d devices, %d DMA objects\n", n, total);
	return 0;
}

static void add_tally(struct tally *a, const struct tally *b)
{
	int i;

	a->sent += b->sent;
	for (i = 0; i < ERRNO_MAX; i++) {
		a->reply_status[i] += b->reply_status[i];
		a->nl_error[i] += b->nl_error[i];
	}
	for (i = 0; i < 256; i++)
		a->upcalls[i] += b->upcalls[i];
	a->ack_only += b->ack_only;
	a->chip_refused += b->chip_refused;
	a->upcall_replies += b->upcall_replies;
	a->notifies += b->notifies;
	a->violations += b->violations;
}

int main(int argc, char **argv)
{
	static const char *scen_names[] = {
		"single", "dma", "edges", "class", "other-socket", "handover",
		"random", "reconcile", "repeat",
	};
	struct rng r;
	struct tally all;
	pthread_t pt;
	double t0, t1;
	uint64_t live = 0, pinned = 0, next_report = 100000;
	int i, nscen = 9;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--messages") && i + 1 < argc)
			opt_messages = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			opt_seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--max-live") && i + 1 < argc)
			opt_max_live = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--raw-writes"))
			opt_raw_writes = true;
		else if (!strcmp(argv[i], "--verbose"))
			opt_verbose = true;
		else if (!strcmp(argv[i], "--info"))
			return info();
		else {
			fprintf(stderr, "usage: genl-fuzz [--seed N] [--messages N] [--seconds S] "
				"[--max-live N] [--raw-writes] [--verbose] | --info\n");
			return 1;
		}
	}
	if (opt_max_live < 1 || opt_max_live > MAX_LIVE)
		opt_max_live = 48;
	setvbuf(stdout, NULL, _IOLBF, 0);
	r.s = opt_seed ? opt_seed : 1;
	upcall_rng.s = r.s ^ 0xa5a5a5a5a5a5ULL;
	for (i = 0; i < NSOCKS; i++)
		socks[i] = genl_sock_open("genl-fuzz", 60);
	i = genl_family_id(socks[SOCK_A]);
	if (i <= 0) {
		printf("genl-fuzz: no drvnucleus family\n");
		return 1;
	}
	family = i;
	do_register(SOCK_A);	/* DEVICE_ADD for each device comes with it */
	if (!ndevs) {
		printf("genl-fuzz: no devices announced\n");
		return 1;
	}
	/* What the tracker holds before: adopted by the model. */
	for (i = 0; i < ndevs; i++) {
		struct dev *d = &devs[i];
		const uint8_t *pp;
		int rem;
		struct plan p;

		memset(&p, 0, sizeof(p));
		msg_init(&mbuf, DRVXPC_OP_DEVICE_INFO, d->instance, ++xpc_seq);
		exchange(SOCK_A, &mbuf, &main_tally, &obuf);
		pp = obuf.reply + sizeof(struct drvxpc_hdr);
		rem = obuf.reply_len - sizeof(struct drvxpc_hdr);
		while (obuf.replied && rem >= NLA_HDRLEN) {
			struct nlattr a;

			memcpy(&a, pp, sizeof(a));
			if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
				break;
			if ((a.nla_type & NLA_TYPE_MASK) == DRVXPC_A_OBJECT) {
				const uint8_t *id = ref_find(pp + NLA_HDRLEN, a.nla_len - NLA_HDRLEN,
							     DRVXPC_A_OBJECT_ID, NULL);
				const uint8_t *sz = ref_find(pp + NLA_HDRLEN, a.nla_len - NLA_HDRLEN,
							     DRVXPC_A_DMA_SIZE, NULL);
				const uint8_t *ro = ref_find(pp + NLA_HDRLEN, a.nla_len - NLA_HDRLEN,
							     DRVXPC_A_OBJECT_ROLE, NULL);

				if (id && sz && ro && d->nlive < MAX_LIVE) {
					d->live[d->nlive].id = get_uint(id, 4);
					d->live[d->nlive].size = get_uint(sz, 4);
					d->live[d->nlive].role = *ro;
					d->live[d->nlive].maybe_pinned = true;
					d->nlive++;
					if (get_uint(id, 4) > highest_handle)
						highest_handle = get_uint(id, 4);
				}
			}
			rem -= NLA_ALIGN(a.nla_len);
			pp += NLA_ALIGN(a.nla_len);
		}
		d->baseline_objects = d->nlive;
		printf("genl-fuzz: instance %u %04x:%04x class %u BAR %u bytes, %d objects before\n",
		       d->instance, d->vendor, d->device, d->cls, d->bar_len, d->nlive);
	}
	printf("genl-fuzz: seed %llu, %llu messages%s\n", (unsigned long long)opt_seed,
	       (unsigned long long)opt_messages, opt_raw_writes ? ", raw writes" : "");
	pthread_create(&pt, NULL, ping_thread, NULL);

	t0 = now();
	while (main_tally.sent + ping_tally.sent < opt_messages) {
		uint32_t dice = below(&r, 10000);
		int s;

		if (opt_seconds > 0 && now() - t0 > opt_seconds)
			break;
		if (dice < 6000)
			s = 0;
		else if (dice < 6200)
			s = 8;
		else if (dice < 7400)
			s = 1;
		else if (dice < 8200)
			s = 2;
		else if (dice < 8900)
			s = 3;
		else if (dice < 9600)
			s = 4;
		else if (dice < 9605)
			s = 5;
		else if (dice < 9900)
			s = 6;
		else
			s = 7;
		scenario_count[s]++;
		switch (s) {
		case 0: scenario_single(&r); break;
		case 1: scenario_dma(&r); break;
		case 2: scenario_edges(&r); break;
		case 3: scenario_class(&r); break;
		case 4: scenario_other(&r); break;
		case 5: scenario_handover(&r); break;
		case 6: scenario_random(&r); break;
		case 8: scenario_repeat(&r); break;
		default: reconcile(); break;
		}
		if (unregistered >= 0 && daemon_sock == unregistered) {
			daemon_sock = -1;
			do_register(unregistered);
		}
		unregistered = -1;
		if (daemon_sock != SOCK_A && daemon_sock != SOCK_B) {
			printf("genl-fuzz: lost track of the daemon\n");
			return 2;
		}
		for (i = 0; i < ndevs; i++)
			keep_budget(&r, &devs[i]);
		if (main_tally.sent >= next_report) {
			printf("genl-fuzz: %llu messages, %.0f s\n",
			       (unsigned long long)(main_tally.sent + ping_tally.sent), now() - t0);
			next_report += 100000;
		}
	}
	t1 = now();
	ping_stop = 1;
	pthread_join(pt, NULL);

	/* The end: the deterministic checks, the lists against the model,
	 * then every handle freed that can be; what stays is what a data path
	 * pinned. */
	check_unanswered_ping();
	check_big_ping();
	check_big_info();
	reconcile();
	for (i = 0; i < ndevs; i++) {
		struct dev *d = &devs[i];
		int k;

		for (k = d->nlive - 1; k >= 0; k--) {
			struct plan p;

			if (k >= d->nlive)
				continue;
			memset(&p, 0, sizeof(p));
			p.d = d;
			msg_init(&mbuf, DRVXPC_OP_DMA_FREE, d->instance, ++xpc_seq);
			put_u32(&mbuf, DRVXPC_A_DMA_HANDLE, d->live[k].id);
			send_checked(daemon_sock, &mbuf, &p, &obuf);
		}
	}
	reconcile();
	for (i = 0; i < ndevs; i++) {
		int k, np = 0;

		live += devs[i].nlive;
		for (k = 0; k < devs[i].nlive; k++)
			np += devs[i].live[k].pinned;
		pinned += np;
		printf("genl-fuzz: instance %u %04x:%04x: %d objects before, %d after (%d pinned by a data path)%s\n",
		       devs[i].instance, devs[i].vendor, devs[i].device, devs[i].baseline_objects,
		       devs[i].nlive, np, devs[i].registered ? ", class registered" : "");
	}

	memset(&all, 0, sizeof(all));
	add_tally(&all, &main_tally);
	add_tally(&all, &ping_tally);
	printf("genl-fuzz: %llu messages in %.1f s, %.0f messages/s (seed %llu)\n",
	       (unsigned long long)all.sent, t1 - t0, all.sent / (t1 - t0 > 0 ? t1 - t0 : 1),
	       (unsigned long long)opt_seed);
	for (i = 0; i < nscen; i++)
		printf("genl-fuzz: scenario %-12s %llu\n", scen_names[i],
		       (unsigned long long)scenario_count[i]);
	for (i = 0; i < ERRNO_MAX; i++)
		if (all.reply_status[i])
			printf("genl-fuzz: reply %-11s %llu\n", errname(i),
			       (unsigned long long)all.reply_status[i]);
	for (i = 0; i < ERRNO_MAX; i++)
		if (all.nl_error[i])
			printf("genl-fuzz: netlink error, no reply, %-11s %llu\n", errname(i),
			       (unsigned long long)all.nl_error[i]);
	printf("genl-fuzz: ack only (a REPLY or NOTIFY sent): %llu\n", (unsigned long long)all.ack_only);
	printf("genl-fuzz: REG_WRITEs a chip's write check refused: %llu\n",
	       (unsigned long long)all.chip_refused);
	for (i = 0; i < 256; i++)
		if (all.upcalls[i])
			printf("genl-fuzz: upcall %-14s %llu\n", drvxpc_op_name(i) ?: "?",
			       (unsigned long long)all.upcalls[i]);
	printf("genl-fuzz: upcall replies sent %llu, PING round trips %llu, notifications %llu\n",
	       (unsigned long long)all.upcall_replies, (unsigned long long)ping_rounds,
	       (unsigned long long)all.notifies);
	printf("genl-fuzz: objects live at the end %llu (pinned %llu), violations %llu\n",
	       (unsigned long long)live, (unsigned long long)pinned,
	       (unsigned long long)all.violations);
	if (all.violations) {
		printf("genl-fuzz: FAILED: %llu outcomes contradicted the model\n",
		       (unsigned long long)all.violations);
		return 3;
	}
	printf("genl-fuzz: ok\n");
	return 0;
}
