// SPDX-License-Identifier: GPL-2.0
/*
 * The host of a sliced driver's user half: the main program of a u-driver
 * that runs a driverslicer --halves user half (linked with the driver
 * library, slicer/lib, and the runtime's core, module/slice_core.c) under
 * drivermgrd, as UDriverRuntime.swift runs a Swift u-driver.
 *
 * fd 3 is the SOCK_SEQPACKET socket to drivermgrd: one drvxpc message per
 * packet (module/include/uapi/drvxpc.h).  The host
 *  - names the process after argv[0] and stacks stage 2 of the sandbox
 *    when the first message is SANDBOX;
 *  - answers HELLO (VERSION, CLASS, BUILD_ID), PING, SHUTDOWN, INJECT and
 *    TAKEOVER as the Swift runtime does;
 *  - on PROBE runs the driver's module init once (init_module: the
 *    driver's module_init or module_pci_driver), finds the pci_driver it
 *    registered (drvslice_pci_driver), asks the nucleus to probe
 *    (SLICE_PROBE, a downcall the nucleus answers at once) and answers the
 *    PROBE when it has served the SLICE_UPCALL of that driver's probe:
 *    CHIP_NAME (the driver's name) if probe returned 0, else its errno;
 *  - serves every SLICE_UPCALL with drvslice_serve;
 *  - is the user half's drvslice_downcall: SLICE_DOWNCALL, answered by the
 *    nucleus through drivermgrd.  While it waits, an upcall that arrives is
 *    one the downcall caused (the kernel serialises a device's call
 *    chains) and is served at once, nested; control messages are answered;
 *    any other request waits in a queue until the outermost call is over.
 *    A downcall gives up after 5 s (DRVSLICE_DOWNCALL_TIMEOUT_MS in the
 *    environment sets another deadline, in ms): -ETIMEDOUT.
 *
 * Nothing a message holds can make it trap: a malformed one gets an error
 * reply (status a negative errno, ERR_ATTR, ERR_MSG), a malformed reply is
 * a failed call.  Single-threaded: the driver's code runs on this thread
 * only (the driver library's own threads, such as the jiffies ticker, call
 * nothing here).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <uapi/drvxpc.h>

#include "drvslice.h"
#include "drvslice-host.h"
#include "CSandbox.h"
#include "build_id.h"
#include "runtime_faults.h"

#ifndef DRVSLICE_USER_DESC
#error "compile with -DDRVSLICE_USER_DESC=slice_NAME_user, the user half's description (slicer/build-udriver.sh does)"
#endif

/* The user half's description and module init. */
extern const struct drvslice_driver DRVSLICE_USER_DESC;
extern int init_module(void);
/* The kernel API's description on the user's side, when the driver
 * library has one (slicer/lib/k-api.c). */
extern const struct drvslice_driver drvslice_api_user __attribute__((weak));
/* slicer/host/k-host.c: a pci_driver's probe and name. */
const void *drvslice_host_pci_probe(const struct pci_driver *drv);
const char *drvslice_host_pci_name(const struct pci_driver *drv);

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define XPC_FD			3
#define HDR			((unsigned int)sizeof(struct drvxpc_hdr))
/* Upcalls served inside downcalls inside upcalls...: how deep. */
#define NEST_MAX		8
/* Requests that wait for the outermost downcall to end. */
#define QUEUE_MAX		32
/* Answers kept by UPCALL_ID for a nucleus's redelivery. */
#define ANSWERS_KEPT		32
#define DOWNCALL_TIMEOUT_MS	5000
/* A PROBE without a deadline of its own waits this long for the probe. */
#define PROBE_TIMEOUT_MS	10000
#define SYSCALLS_MAX		1024

/* One level of nesting: the message served there, its reply and the
 * downcall made from it.  Level 0 is the main loop's. */
struct level {
	u8 in[DRVXPC_MSG_MAX];
	u8 out[DRVXPC_MSG_MAX];
	u8 call[DRVXPC_MSG_MAX];
	unsigned int call_len;	/* nonzero while its downcall waits */
};

static struct level levels[NEST_MAX + 1] __attribute__((aligned(8)));
static unsigned int cur;	/* the level being served */
/* The UPCALL_ID of the upcall each level serves (serving_has_id: it has
 * one and it is being served). */
static u32 serving_id[NEST_MAX + 1];
static int serving_has_id[NEST_MAX + 1];

struct queued {
	u8 *msg;
	unsigned int len;
};

struct answer {
	u32 id;
	unsigned int len;	/* 0: free */
	u8 *msg;
};

static struct drvslice_side side;

static struct {
	const char *name;	/* argv[0]'s last part, for notes */
	int fd;
	int closed;		/* drivermgrd closed the channel */
	u32 seq;		/* of the last request sent */
	unsigned int downcall_ms;
	/* HELLO */
	int hello;
	u32 instance;
	u32 bar_size;
	char slot[32];		/* HELLO's PCI_SLOT: the device's name */
	/* The module's init: 0 not yet run, 1 ran and returned 0, else the
	 * negative errno it returned. */
	int inited;
	const struct pci_driver *pdrv;
	const void *probe_fn;
	char chip[32];
	int probe_served_here;	/* the probe is a function of this half */
	/* The PROBE that waits for the driver's probe. */
	struct {
		int active;
		unsigned int gen;
		struct drvxpc_hdr req;
		int has_id;
		u32 id;
		u64 deadline;	/* ns, CLOCK_MONOTONIC */
	} probe;
	u32 slice_probe_seq;	/* SLICE_PROBE sent, not answered; 0: none */
	u16 slice_probe_flags;
	/* INJECT slow: the next upcall is answered late. */
	int slow;
	u32 slow_us;
	struct queued queue[QUEUE_MAX];
	unsigned int qhead, qlen;
	struct answer answers[ANSWERS_KEPT];
	unsigned int next_answer;
} host = { .fd = XPC_FD, .downcall_ms = DOWNCALL_TIMEOUT_MS };

/* ---- notes ---- */

/* One line on stderr, which drivermgrd logs under the driver's name. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s: ", host.name);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		return;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	note("%s", line);
	exit(1);
}

static const char *op_name(unsigned int op)
{
	const char *n = drvxpc_op_name(op);

	return n ? n : "an unknown operation";
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static void sleep_us(u64 us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- messages ---- */

struct msg {
	u8 *p;
	unsigned int len, cap;
	int err;
};

static void msg_begin(struct msg *m, u8 *buf, unsigned int cap, u16 op, u16 flags,
		      u32 seq, u32 instance, int status, u32 timeout_us)
{
	struct drvxpc_hdr h = {
		.len = HDR, .op = op, .flags = flags, .seq = seq,
		.instance = instance, .status = status, .timeout_us = timeout_us,
	};

	memcpy(buf, &h, HDR);
	m->p = buf;
	m->len = HDR;
	m->cap = cap;
	m->err = 0;
}

static void msg_put(struct msg *m, u16 type, const void *v, unsigned int n)
{
	struct drvxpc_attr a;
	unsigned int need = DRVXPC_ALIGN(DRVXPC_ATTR_HDRLEN + n);

	if (m->err || DRVXPC_ATTR_HDRLEN + n > 0xffff || need > m->cap - m->len) {
		m->err = -E2BIG;
		return;
	}
	a.len = (u16)(DRVXPC_ATTR_HDRLEN + n);
	a.type = type;
	memcpy(m->p + m->len, &a, sizeof(a));
	memcpy(m->p + m->len + DRVXPC_ATTR_HDRLEN, v, n);
	memset(m->p + m->len + DRVXPC_ATTR_HDRLEN + n, 0, need - DRVXPC_ATTR_HDRLEN - n);
	m->len += need;
}

/*
 * A string attribute: at most what the attribute takes, printable ASCII
 * (drivermgrd reads strings as UTF-8; a driver's text is not checked).
 */
static void msg_put_str(struct msg *m, u16 type, const char *s)
{
	char v[256];
	unsigned int i, max = drvxpc_attr_max(type);

	if (max > sizeof(v))
		max = sizeof(v);
	for (i = 0; s[i] && i + 1 < max; i++)
		v[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	v[i++] = 0;
	msg_put(m, type, v, i);
}

/* Sends @len bytes as one packet: 0 or a negative errno. */
static int send_bytes(const void *p, unsigned int len)
{
	ssize_t n;

	if (host.closed)
		return -ENOTCONN;
	do {
		n = send(host.fd, p, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = -errno;

		if (err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN)
			host.closed = 1;
		return err;
	}
	return 0;
}

static int msg_send(struct msg *m)
{
	struct drvxpc_hdr h;

	if (m->err)
		return m->err;
	memcpy(&h, m->p, HDR);
	h.len = m->len;
	memcpy(m->p, &h, HDR);
	return send_bytes(m->p, m->len);
}

static u32 next_seq(void)
{
	if (!++host.seq)
		host.seq = 1;
	return host.seq;
}

/*
 * One message into @buf (DRVXPC_MSG_MAX bytes): its length (more than
 * DRVXPC_MSG_MAX: it was cut), 0 at the end of the stream, -ETIMEDOUT
 * once @deadline (CLOCK_MONOTONIC ns; 0: none) has passed.
 */
static long recv_msg(u8 *buf, u64 deadline)
{
	for (;;) {
		struct pollfd p = { .fd = host.fd, .events = POLLIN };
		int timeout = -1;
		ssize_t n;

		if (host.closed)
			return 0;
		if (deadline) {
			u64 t = now_ns();

			if (t >= deadline)
				return -ETIMEDOUT;
			timeout = (int)((deadline - t + 999999) / 1000000);
		}
		n = poll(&p, 1, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = recv(host.fd, buf, DRVXPC_MSG_MAX, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ECONNRESET) {
				host.closed = 1;
				return 0;
			}
			return -errno;
		}
		if (!n)
			host.closed = 1;
		return n;
	}
}

/* ---- checks: the message's form against drvxpc.h ---- */

struct bad {
	u16 attr;	/* the attribute at fault, 0: none */
	char why[120];
};

static int bad_attr(struct bad *b, unsigned int type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad_attr(struct bad *b, unsigned int type, const char *fmt, ...)
{
	const char *name = drvxpc_attr_name(type);
	va_list ap;
	int n;

	b->attr = (u16)type;
	if (name)
		n = snprintf(b->why, sizeof(b->why), "%s: ", name);
	else
		n = snprintf(b->why, sizeof(b->why), "attribute %u: ", type);
	va_start(ap, fmt);
	vsnprintf(b->why + n, sizeof(b->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* Every attribute in [p, p + len) at nesting @depth, as the nucleus checks
 * them (module/xpccheck.c): 0, or -EPROTO with @b saying which and why. */
static int check_attrs(const u8 *p, unsigned int len, int depth, struct bad *b)
{
	unsigned int at = 0;

	while (at < len) {
		struct drvxpc_attr a;
		unsigned int type, plen, max;
		int kind, nested;
		const u8 *v;
		u64 val = 0, lo, hi;

		if (len - at < DRVXPC_ATTR_HDRLEN) {
			b->attr = 0;
			snprintf(b->why, sizeof(b->why), "%u trailing bytes, an attribute header needs %d",
				 len - at, DRVXPC_ATTR_HDRLEN);
			return -EPROTO;
		}
		memcpy(&a, p + at, sizeof(a));
		type = a.type & DRVXPC_A_TYPE_MASK;
		nested = !!(a.type & DRVXPC_A_F_NESTED);
		if (a.len < DRVXPC_ATTR_HDRLEN)
			return bad_attr(b, type, "attribute length %u", a.len);
		if (a.len > len - at)
			return bad_attr(b, type, "attribute length %u, %u bytes left", a.len, len - at);
		if ((unsigned int)DRVXPC_ALIGN(a.len) > len - at)
			return bad_attr(b, type, "attribute length %u without its padding", a.len);
		kind = drvxpc_attr_kind(type);
		if (kind < 0)
			return bad_attr(b, type, "unknown attribute");
		plen = a.len - DRVXPC_ATTR_HDRLEN;
		max = drvxpc_attr_max(type);
		v = p + at + DRVXPC_ATTR_HDRLEN;
		if (plen > max)
			return bad_attr(b, type, "%u bytes, at most %u", plen, max);
		if (nested != (kind == DRVXPC_K_NESTED))
			return bad_attr(b, type, nested ? "nested bit on a plain attribute" : "nested bit missing");
		switch (kind) {
		case DRVXPC_K_FLAG:
			if (plen)
				return bad_attr(b, type, "%u bytes, expected none", plen);
			break;
		case DRVXPC_K_U8:
		case DRVXPC_K_U16:
		case DRVXPC_K_U32:
		case DRVXPC_K_S32:
		case DRVXPC_K_U64:
		case DRVXPC_K_MAC: {
			static const u8 size[] = {
				[DRVXPC_K_U8] = 1, [DRVXPC_K_U16] = 2, [DRVXPC_K_U32] = 4,
				[DRVXPC_K_S32] = 4, [DRVXPC_K_U64] = 8, [DRVXPC_K_MAC] = 6,
			};

			if (plen != size[kind])
				return bad_attr(b, type, "%u bytes, expected %u", plen, size[kind]);
			if (kind != DRVXPC_K_MAC && kind != DRVXPC_K_S32)
				memcpy(&val, v, plen);	/* little-endian */
			break;
		}
		case DRVXPC_K_STRING:
			if (!plen || v[plen - 1] || strnlen((const char *)v, plen) != plen - 1)
				return bad_attr(b, type, "needs one NUL, at the end");
			break;
		case DRVXPC_K_NESTED:
			if (depth + 1 >= DRVXPC_NEST_MAX)
				return bad_attr(b, type, "nested deeper than %d", DRVXPC_NEST_MAX);
			if (check_attrs(v, plen, depth + 1, b))
				return -EPROTO;
			break;
		default:
			break;
		}
		if (kind >= DRVXPC_K_U8 && kind <= DRVXPC_K_U64 && drvxpc_attr_range(type, &lo, &hi) &&
		    (val < lo || val > hi))
			return bad_attr(b, type, "%llu not in %llu..%llu", val, lo, hi);
		at += DRVXPC_ALIGN(a.len);
	}
	return 0;
}

/* The header of a message of @n bytes into @h and its attributes
 * checked: 0, or -EPROTO with @b saying what is wrong. */
static int check_msg(const u8 *buf, long n, struct drvxpc_hdr *h, struct bad *b)
{
	u16 kinds;

	b->attr = 0;
	if (n < (long)HDR) {
		snprintf(b->why, sizeof(b->why), "%ld bytes, the header needs %u", n, HDR);
		return -EPROTO;
	}
	memcpy(h, buf, HDR);
	if (n > DRVXPC_MSG_MAX) {
		snprintf(b->why, sizeof(b->why), "%s: %ld bytes, at most %d", op_name(h->op), n, DRVXPC_MSG_MAX);
		return -EPROTO;
	}
	if (h->len != (u32)n) {
		snprintf(b->why, sizeof(b->why), "%s: the header says %u bytes, %ld came", op_name(h->op), h->len, n);
		return -EPROTO;
	}
	kinds = h->flags & (DRVXPC_F_REQUEST | DRVXPC_F_REPLY | DRVXPC_F_NOTIFY);
	/* A PING with no flags is drivermgrd waking a standby ahead of its
	 * take-over: nothing to answer, nothing wrong. */
	if (h->op == DRVXPC_OP_PING && !h->flags)
		kinds = DRVXPC_F_NOTIFY;
	if ((h->flags & ~DRVXPC_F_ALL) || (kinds != DRVXPC_F_REQUEST && kinds != DRVXPC_F_REPLY &&
					   kinds != DRVXPC_F_NOTIFY)) {
		snprintf(b->why, sizeof(b->why), "%s: flags %#x: need exactly one of REQUEST, REPLY, NOTIFY",
			 op_name(h->op), h->flags);
		return -EPROTO;
	}
	if (!drvxpc_op_name(h->op)) {
		snprintf(b->why, sizeof(b->why), "operation %u: unknown", h->op);
		return -EPROTO;
	}
	if (check_attrs(buf + HDR, (unsigned int)n - HDR, 0, b)) {
		/* The operation's name in front. */
		char op[40];
		size_t k = (size_t)snprintf(op, sizeof(op), "%s: ", op_name(h->op));

		if (k >= sizeof(op))
			k = sizeof(op) - 1;
		memmove(b->why + k, b->why, sizeof(b->why) - k);
		memcpy(b->why, op, k);
		b->why[sizeof(b->why) - 1] = 0;
		return -EPROTO;
	}
	return 0;
}

/* The first top-level attribute @type of a checked message: its payload
 * and *@n its length, or NULL. */
static const u8 *find_attr(const u8 *p, unsigned int len, u16 type, unsigned int *n)
{
	unsigned int at = 0;

	while (at + DRVXPC_ATTR_HDRLEN <= len) {
		struct drvxpc_attr a;

		memcpy(&a, p + at, sizeof(a));
		if (a.len < DRVXPC_ATTR_HDRLEN || a.len > len - at)
			return NULL;
		if ((a.type & DRVXPC_A_TYPE_MASK) == type) {
			*n = a.len - DRVXPC_ATTR_HDRLEN;
			return p + at + DRVXPC_ATTR_HDRLEN;
		}
		at += DRVXPC_ALIGN(a.len);
	}
	return NULL;
}

/* Removes every top-level attribute @type from a checked message of
 * *@len bytes (attributes only); the last one's value into @v, 1; or 0. */
static int take_u32(u8 *p, unsigned int *len, u16 type, u32 *v)
{
	unsigned int at = 0;
	int found = 0;

	while (at + DRVXPC_ATTR_HDRLEN <= *len) {
		struct drvxpc_attr a;
		unsigned int step;

		memcpy(&a, p + at, sizeof(a));
		step = DRVXPC_ALIGN(a.len);
		if (a.len < DRVXPC_ATTR_HDRLEN || step > *len - at)
			break;
		if ((a.type & DRVXPC_A_TYPE_MASK) == type && a.len == DRVXPC_ATTR_HDRLEN + 4) {
			memcpy(v, p + at + DRVXPC_ATTR_HDRLEN, 4);
			memmove(p + at, p + at + step, *len - at - step);
			*len -= step;
			found = 1;
			continue;
		}
		at += step;
	}
	return found;
}

/* ---- replies ---- */

/* A request's identity, kept to answer it (@msg may be overwritten). */
struct req {
	struct drvxpc_hdr h;
	int has_id;	/* it carried UPCALL_ID */
	u32 id;
};

/* Keeps the answer to upcall @id for a redelivery of it. */
static void keep_answer(u32 id, const u8 *msg, unsigned int len)
{
	struct answer *a = NULL;
	unsigned int i;
	u8 *copy;

	for (i = 0; i < ANSWERS_KEPT; i++)
		if (host.answers[i].len && host.answers[i].id == id)
			a = &host.answers[i];
	if (!a) {
		a = &host.answers[host.next_answer];
		host.next_answer = (host.next_answer + 1) % ANSWERS_KEPT;
	}
	copy = malloc(len);
	free(a->msg);
	a->msg = copy;
	a->len = copy ? len : 0;
	a->id = id;
	if (copy)
		memcpy(copy, msg, len);
}

static const struct answer *kept_answer(u32 id)
{
	unsigned int i;

	for (i = 0; i < ANSWERS_KEPT; i++)
		if (host.answers[i].len && host.answers[i].id == id)
			return &host.answers[i];
	return NULL;
}

/* Sends a reply built in @m to @r (kept by its UPCALL_ID). */
static void answer(const struct req *r, struct msg *m)
{
	int err = msg_send(m);

	if (err && err != -ENOTCONN)
		note("%s reply not sent: %s", op_name(r->h.op), strerror(-err));
	if (!m->err && r->has_id)
		keep_answer(r->id, m->p, m->len);
}

static void reply_begin(struct msg *m, u8 *buf, const struct req *r, int status)
{
	msg_begin(m, buf, DRVXPC_MSG_MAX, r->h.op, DRVXPC_F_REPLY, r->h.seq, r->h.instance, status, 0);
}

static void reply_ok(const struct req *r)
{
	u8 buf[HDR];
	struct msg m;

	msg_begin(&m, buf, sizeof(buf), r->h.op, DRVXPC_F_REPLY, r->h.seq, r->h.instance, 0, 0);
	answer(r, &m);
}

/* An error reply: @err a negative errno, @attr the attribute at fault (0:
 * none), ERR_MSG the text. */
static void reply_error(const struct req *r, int err, u16 attr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reply_error(const struct req *r, int err, u16 attr, const char *fmt, ...)
{
	u8 buf[HDR + 256];
	char text[128];
	struct msg m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (err >= 0)
		err = -EINVAL;
	msg_begin(&m, buf, sizeof(buf), r->h.op, DRVXPC_F_REPLY, r->h.seq, r->h.instance, err, 0);
	if (attr)
		msg_put(&m, DRVXPC_A_ERR_ATTR, &attr, 2);
	msg_put_str(&m, DRVXPC_A_ERR_MSG, text[0] ? text : "error");
	answer(r, &m);
}

/* A message that failed check_msg: answered (EPROTO) when its header
 * reads as a request, else noted and dropped. */
static void refuse(const u8 *buf, long n, const struct bad *b)
{
	struct req r = { .has_id = 0 };

	memset(&r.h, 0, sizeof(r.h));
	if (n >= (long)HDR)
		memcpy(&r.h, buf, HDR);
	if ((r.h.flags & (DRVXPC_F_REQUEST | DRVXPC_F_REPLY | DRVXPC_F_NOTIFY)) == DRVXPC_F_REQUEST) {
		reply_error(&r, -EPROTO, b->attr, "%s", b->why);
		return;
	}
	note("a malformed message dropped: %s", b->why);
}

/* ---- the queue of requests that wait for the outermost downcall ---- */

static int queue_push(const struct req *r, const u8 *msg, unsigned int len)
{
	struct queued *q;

	if (host.qlen == QUEUE_MAX) {
		reply_error(r, -EBUSY, 0, "%s: %d requests already wait for the u-driver's call to the nucleus",
			    op_name(r->h.op), QUEUE_MAX);
		return -EBUSY;
	}
	q = &host.queue[(host.qhead + host.qlen) % QUEUE_MAX];
	q->msg = malloc(len);
	if (!q->msg) {
		reply_error(r, -ENOMEM, 0, "%s: no memory to keep it while a call waits", op_name(r->h.op));
		return -ENOMEM;
	}
	memcpy(q->msg, msg, len);
	q->len = len;
	host.qlen++;
	return 0;
}

/* ---- the probe ---- */

static void probe_answer(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void probe_answer(int err, const char *fmt, ...)
{
	struct req r = { .h = host.probe.req, .has_id = host.probe.has_id, .id = host.probe.id };
	char text[128];
	va_list ap;

	host.probe.active = 0;
	if (err < 0) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		reply_error(&r, err, 0, "%s", text);
	} else {
		u8 buf[HDR + 64];
		struct msg m;

		msg_begin(&m, buf, sizeof(buf), r.h.op, DRVXPC_F_REPLY, r.h.seq, r.h.instance, 0, 0);
		msg_put_str(&m, DRVXPC_A_CHIP_NAME, host.chip);
		answer(&r, &m);
	}
}

static int send_slice_probe(u32 seq)
{
	u8 buf[HDR];
	struct msg m;

	msg_begin(&m, buf, sizeof(buf), DRVXPC_OP_SLICE_PROBE, DRVXPC_F_REQUEST | host.slice_probe_flags,
		  seq, host.instance, 0, host.downcall_ms * 1000);
	return msg_send(&m);
}

/* The nucleus's answer to SLICE_PROBE: it will call the probe (0), or it
 * will not (an error, which is the PROBE's). */
static void slice_probe_answered(const struct drvxpc_hdr *h, const u8 *attrs, unsigned int alen)
{
	const u8 *why;
	unsigned int n;

	host.slice_probe_seq = 0;
	if (h->status < 0) {
		why = find_attr(attrs, alen, DRVXPC_A_ERR_MSG, &n);
		if (host.probe.active)
			probe_answer(h->status, "SLICE_PROBE: %s", why ? (const char *)why : strerror(-h->status));
		else
			note("SLICE_PROBE failed after the probe was answered: %s",
			     why ? (const char *)why : strerror(-h->status));
		return;
	}
	/* A device the nucleus has probed already (REATTACH): this u-driver
	 * adopts it.  Its state is in the kernel's objects, which come with
	 * the answer (drvslice_encode_state): stored before any call. */
	if ((h->flags & DRVXPC_F_REATTACH) && alen) {
		int err = drvslice_decode_state(&side, attrs, alen);

		if (err) {
			if (host.probe.active)
				probe_answer(err, "SLICE_PROBE: %s", side.why);
			else
				note("SLICE_PROBE's state refused after the probe was answered: %s", side.why);
			return;
		}
	}
	/* A probe that is the kernel half's own, or an adoption: no probe
	 * upcall to wait for. */
	if (host.probe.active && (!host.probe_served_here || (h->flags & DRVXPC_F_REATTACH)))
		probe_answer(0, "%s", "");
}

/* The driver's probe was served here: its reply's SLICE_RET is the
 * PROBE's answer. */
static void probe_served(const char *fn, int err, const u8 *reply, int len)
{
	const u8 *v;
	unsigned int n;
	int ret;

	if (err < 0) {
		probe_answer(err, "%s: %s", fn, side.why);
		return;
	}
	v = find_attr(reply, (unsigned int)len, DRVXPC_A_SLICE_RET, &n);
	if (!v || n != sizeof(ret)) {
		probe_answer(-EPROTO, "%s: no int result in its reply", fn);
		return;
	}
	memcpy(&ret, v, sizeof(ret));
	if (!ret)
		probe_answer(0, "%s", "");
	else
		probe_answer(ret < 0 ? ret : -EINVAL, "%s returned %d", fn, ret);
}

/* The user half's function for entry @id, or NULL. */
static const struct drvslice_target *user_target(unsigned int id)
{
	const struct drvslice_target *t;

	for (t = side.drv->targets; t && t->name; t++)
		if (t->id == id && t->call)
			return t;
	return NULL;
}

static void probe(const struct req *r)
{
	const struct drvslice_target *t;
	int err;

	if (host.probe.active) {
		if (r->has_id && host.probe.has_id && r->id == host.probe.id) {
			/* The nucleus sent it again through a new drivermgrd:
			 * the answer goes under the new seq. */
			host.probe.req = r->h;
			return;
		}
		reply_error(r, -EBUSY, 0, "PROBE: another PROBE waits for the driver's probe");
		return;
	}
	if (!host.inited) {
		/* The driver's module init: it registers its pci_driver with
		 * the driver library, which records it for us. */
		err = init_module();
		host.inited = err ? (err < 0 ? err : -EINVAL) : 1;
		if (err) {
			reply_error(r, host.inited, 0, "PROBE: the module's init returned %d", err);
			return;
		}
		host.pdrv = drvslice_pci_driver(NULL);
		if (host.pdrv) {
			const char *name = drvslice_host_pci_name(host.pdrv);

			host.probe_fn = drvslice_host_pci_probe(host.pdrv);
			snprintf(host.chip, sizeof(host.chip), "%s", name ? name : side.drv->name);
			for (t = side.drv->targets; t && t->name; t++)
				if (t->call && t->fn == host.probe_fn)
					host.probe_served_here = 1;
		}
	} else if (host.inited < 0) {
		reply_error(r, host.inited, 0, "PROBE: the module's init failed (%d)", host.inited);
		return;
	}
	if (!host.pdrv) {
		reply_error(r, -ENODEV, 0, "PROBE: the module's init registered no PCI driver");
		return;
	}
	if (!host.probe_fn) {
		reply_error(r, -ENODEV, 0, "PROBE: %s has no probe", host.chip);
		return;
	}
	host.probe.active = 1;
	host.probe.gen++;
	host.probe.req = r->h;
	host.probe.has_id = r->has_id;
	host.probe.id = r->id;
	host.probe.deadline = now_ns() +
		(r->h.timeout_us ? (u64)r->h.timeout_us * 1000 : (u64)PROBE_TIMEOUT_MS * 1000000);
	host.slice_probe_flags = r->h.flags & DRVXPC_F_REATTACH;
	host.slice_probe_seq = next_seq();
	err = send_slice_probe(host.slice_probe_seq);
	if (err) {
		host.slice_probe_seq = 0;
		probe_answer(err, "SLICE_PROBE not sent: %s", strerror(-err));
	}
}

/* ---- serving ---- */

static void serve_upcall(const struct req *r, u8 *msg, unsigned int len)
{
	struct level *lv = &levels[cur];
	u8 *attrs = msg + HDR;
	unsigned int alen = len - HDR, n;
	const struct drvslice_target *t = NULL;
	unsigned int gen = host.probe.gen;
	int is_probe, ret;
	const u8 *v;
	struct msg m;

	if (!host.hello) {
		reply_error(r, -EPROTO, 0, "SLICE_UPCALL before HELLO");
		return;
	}
	if (host.inited <= 0) {
		reply_error(r, -ENODEV, 0, "SLICE_UPCALL: the module's init has not run (PROBE) or failed");
		return;
	}
	if (host.slow) {
		/* INJECT slow: well past the caller's deadline. */
		host.slow = 0;
		sleep_us(3ULL * host.slow_us);
	}
	v = find_attr(attrs, alen, DRVXPC_A_SLICE_ENTRY, &n);
	if (v && n == 2) {
		u16 id;

		memcpy(&id, v, 2);
		t = user_target(id);
	}
	is_probe = host.probe.active && host.probe_served_here && t && t->fn == host.probe_fn;
	ret = drvslice_serve(&side, attrs, alen, lv->out + HDR, DRVXPC_MSG_MAX - HDR);
	if (ret >= 0) {
		reply_begin(&m, lv->out, r, 0);
		m.len = HDR + (unsigned int)ret;
		answer(r, &m);
	} else {
		/* Said here too: the kernel half's caller sees only the errno
		 * (aplay: "audio open error: Invalid argument"). */
		note("SLICE_UPCALL%s%s refused: %s", t ? " " : "", t ? t->name : "",
		     side.why[0] ? side.why : strerror(-ret));
		reply_error(r, ret, 0, "%s", side.why[0] ? side.why : strerror(-ret));
	}
	/* The PROBE's answer after the upcall's: unless the probe's wait
	 * ended meanwhile (SLICE_PROBE refused, a deadline). */
	if (is_probe && host.probe.active && host.probe.gen == gen)
		probe_served(t->name, ret, lv->out + HDR, ret);
}

/* serve_upcall at the current level, its UPCALL_ID noted meanwhile. */
static void serve_upcall_noted(const struct req *r, u8 *msg, unsigned int len)
{
	unsigned int l = cur;

	serving_has_id[l] = r->has_id;
	serving_id[l] = r->id;
	serve_upcall(r, msg, len);
	serving_has_id[l] = 0;
}

/*
 * Whether @msg (checked, as it came) is an upcall being served at an outer
 * level: the nucleus sent it again to a new drivermgrd while this process
 * was still serving it (a downcall of it waiting, its answer to the dead
 * daemon not yet given).  Served again nested it would run the driver's
 * function twice (a ComboLock taken twice is the driver library's BUG).
 */
static int upcall_in_progress(const u8 *msg, unsigned int len)
{
	const u8 *v;
	unsigned int n = 0, l;
	u32 id;

	v = find_attr(msg + HDR, len - HDR, DRVXPC_A_UPCALL_ID, &n);
	if (!v || n != 4)
		return 0;
	memcpy(&id, v, 4);
	for (l = 0; l <= cur; l++)
		if (serving_has_id[l] && serving_id[l] == id)
			return 1;
	return 0;
}

static void hello(const struct req *r, const u8 *attrs, unsigned int alen)
{
	const u8 *cls, *bar, *slot;
	char id[129];
	u32 version = DRVXPC_VERSION;
	unsigned int n;
	u8 buf[HDR + 256];
	struct msg m;

	cls = find_attr(attrs, alen, DRVXPC_A_CLASS, &n);
	if (!cls) {
		reply_error(r, -EINVAL, DRVXPC_A_CLASS, "HELLO: no CLASS");
		return;
	}
	if (!find_attr(attrs, alen, DRVXPC_A_DRIVER_NAME, &n)) {
		reply_error(r, -EINVAL, DRVXPC_A_DRIVER_NAME, "HELLO: no DRIVER_NAME");
		return;
	}
	host.hello = 1;
	host.instance = r->h.instance;
	bar = find_attr(attrs, alen, DRVXPC_A_BAR_SIZE, &n);
	host.bar_size = 0;
	if (bar)
		memcpy(&host.bar_size, bar, 4);
	slot = find_attr(attrs, alen, DRVXPC_A_PCI_SLOT, &n);
	host.slot[0] = 0;
	if (slot && n && n < sizeof(host.slot) && !memchr(slot, 0, n - 1) && !slot[n - 1])
		memcpy(host.slot, slot, n);
	if (drv_build_id(id, sizeof(id)) <= 0)
		id[0] = 0;
	msg_begin(&m, buf, sizeof(buf), r->h.op, DRVXPC_F_REPLY, r->h.seq, r->h.instance, 0, 0);
	msg_put(&m, DRVXPC_A_VERSION, &version, 4);
	msg_put(&m, DRVXPC_A_CLASS, cls, 1);
	msg_put_str(&m, DRVXPC_A_BUILD_ID, id);
	answer(r, &m);
}

/* INJECT flood: register reads of the BAR's first word, none awaited. */
static void flood(void)
{
	u32 off = 0, i;
	u8 width = 4, buf[HDR + 16];
	struct msg m;

	for (i = 0; i < 1000000; i++) {
		msg_begin(&m, buf, sizeof(buf), DRVXPC_OP_REG_READ, DRVXPC_F_REQUEST, 0x80000000u | i,
			  host.instance, 0, 0);
		msg_put(&m, DRVXPC_A_REG_OFFSET, &off, 4);
		msg_put(&m, DRVXPC_A_REG_WIDTH, &width, 1);
		if (msg_send(&m))
			return;
	}
}

/*
 * INJECT bad-param: a call of the kernel half's with a wild pointer (an
 * object the kernel never made) as its first argument, not awaited: the
 * kernel refuses it, and the verdict is drivermgrd's.  A driver with no
 * such call reads a register past its BAR instead.
 */
static void bad_call(void)
{
	const struct drvslice_driver *d = side.drv;
	u8 buf[HDR + 64], width = 4;
	unsigned int id;
	struct msg m;

	for (id = 1; d && id < d->nentries; id++) {
		const struct drvslice_entry *e = d->entries[id];
		u8 arg[12];
		u64 wild = DRVSLICE_H_KERNEL | 0x0fffffffffffffffULL;
		u32 off = 0;
		u16 eid;

		if (!e || e->dir != DRVSLICE_DOWN || !e->nargs ||
		    (e->args[0].kind != DRVSLICE_A_PTR && e->args[0].kind != DRVSLICE_A_OWN))
			continue;
		eid = e->id;
		memcpy(arg, &wild, 8);
		memcpy(arg + 8, &off, 4);
		msg_begin(&m, buf, sizeof(buf), DRVXPC_OP_SLICE_DOWNCALL, DRVXPC_F_REQUEST, next_seq(),
			  host.instance, 0, host.downcall_ms * 1000);
		msg_put(&m, DRVXPC_A_SLICE_ENTRY, &eid, 2);
		msg_put(&m, DRVXPC_A_SLICE_ARG, arg, sizeof(arg));
		msg_send(&m);
		return;
	}
	msg_begin(&m, buf, sizeof(buf), DRVXPC_OP_REG_READ, DRVXPC_F_REQUEST, next_seq(),
		  host.instance, 0, host.downcall_ms * 1000);
	msg_put(&m, DRVXPC_A_REG_OFFSET, &host.bar_size, 4);
	msg_put(&m, DRVXPC_A_REG_WIDTH, &width, 1);
	msg_send(&m);
}

static void inject(const struct req *r, const u8 *attrs, unsigned int alen)
{
	static const char *const names[] = {
		[DRVXPC_FAULT_CRASH] = "crash", [DRVXPC_FAULT_ABORT] = "abort",
		[DRVXPC_FAULT_HANG] = "hang", [DRVXPC_FAULT_SLOW] = "slow",
		[DRVXPC_FAULT_BAD_PARAM] = "bad-param", [DRVXPC_FAULT_GARBAGE] = "garbage",
		[DRVXPC_FAULT_MEMORY] = "memory", [DRVXPC_FAULT_SYSCALL] = "syscall",
		[DRVXPC_FAULT_FORK_BOMB] = "fork-bomb", [DRVXPC_FAULT_FLOOD] = "flood",
		[DRVXPC_FAULT_LOST_WRITE] = "lost-write",
	};
	const u8 *v = find_attr(attrs, alen, DRVXPC_A_FAULT_KIND, &(unsigned int){ 0 });
	u8 kind = v ? *v : 0;

	if (!v || kind >= sizeof(names) / sizeof(names[0]) || !names[kind]) {
		reply_error(r, -EINVAL, DRVXPC_A_FAULT_KIND, "no such fault");
		return;
	}
	if (kind == DRVXPC_FAULT_LOST_WRITE) {
		reply_error(r, -EOPNOTSUPP, DRVXPC_A_FAULT_KIND,
			    "FAULT_KIND %s: not supported by a sliced driver's u-driver", names[kind]);
		return;
	}
	reply_ok(r);
	switch (kind) {
	case DRVXPC_FAULT_CRASH:
		raise(SIGSEGV);
		abort();
	case DRVXPC_FAULT_ABORT:
		abort();
	case DRVXPC_FAULT_HANG:
		/* Stuck: serves nothing more, spends no CPU. */
		for (;;)
			sleep_us(3600ULL * 1000000);
	case DRVXPC_FAULT_SLOW:
		host.slow = 1;
		host.slow_us = r->h.timeout_us > 100000 ? r->h.timeout_us : 100000;
		break;
	case DRVXPC_FAULT_BAD_PARAM:
		bad_call();
		break;
	case DRVXPC_FAULT_GARBAGE: {
		static const u8 garbage[8] = { 0xde, 0xad, 0xbe, 0xef };

		send_bytes(garbage, sizeof(garbage));
		break;
	}
	case DRVXPC_FAULT_MEMORY:
		udrv_fault_memory();
	case DRVXPC_FAULT_SYSCALL:
		udrv_fault_syscall();
		break;
	case DRVXPC_FAULT_FORK_BOMB:
		udrv_fault_fork_bomb();
		break;
	case DRVXPC_FAULT_FLOOD:
		flood();
		break;
	}
}

/* TAKEOVER: a new drivermgrd holds the channel; what the old one left
 * unanswered goes again (the nucleus answers a repeat from its cache). */
static void takeover(void)
{
	unsigned int i, n = 0;

	for (i = 0; i <= NEST_MAX; i++)
		if (levels[i].call_len && !send_bytes(levels[i].call, levels[i].call_len))
			n++;
	if (host.slice_probe_seq && !send_slice_probe(host.slice_probe_seq))
		n++;
	if (n)
		note("drivermgrd restarted: %u unanswered downcall(s) sent again", n);
}

/*
 * A control message (PING, SHUTDOWN, INJECT, TAKEOVER, a late SANDBOX):
 * answered wherever it arrives.  1 if @h is one, else 0.
 */
static int control(const struct req *r, const u8 *attrs, unsigned int alen)
{
	switch (r->h.op) {
	case DRVXPC_OP_TAKEOVER:
		takeover();
		return 1;
	case DRVXPC_OP_PING:
		/* A PING that is no request (a standby woken ahead of its
		 * take-over) needs no answer. */
		if (r->h.flags & DRVXPC_F_REQUEST)
			reply_ok(r);
		return 1;
	case DRVXPC_OP_SHUTDOWN:
		if (r->h.flags & DRVXPC_F_REQUEST)
			reply_ok(r);
		exit(0);
	case DRVXPC_OP_INJECT:
		if (r->h.flags & DRVXPC_F_REQUEST)
			inject(r, attrs, alen);
		return 1;
	case DRVXPC_OP_SANDBOX:
		if (r->h.flags & DRVXPC_F_REQUEST)
			reply_error(r, -EPROTO, 0, "SANDBOX: only as the first message");
		return 1;
	}
	return 0;
}

/* A reply that no downcall of ours waits for at this point. */
static void stray_reply(const struct drvxpc_hdr *h, const u8 *attrs, unsigned int alen)
{
	if (h->op == DRVXPC_OP_SLICE_PROBE && host.slice_probe_seq && h->seq == host.slice_probe_seq) {
		slice_probe_answered(h, attrs, alen);
		return;
	}
	note("a %s reply that no call waits for (its deadline passed?): dropped", op_name(h->op));
}

/*
 * Reads a checked message's identity: the header, and an upcall's
 * UPCALL_ID (taken out of its attributes, *@len shortened).  1 when the
 * request was answered from the kept answers, else 0.
 */
static int identify(struct req *r, u8 *msg, unsigned int *len)
{
	const struct answer *a;
	unsigned int alen = *len - HDR;
	struct drvxpc_hdr h;

	memcpy(&r->h, msg, HDR);
	r->has_id = 0;
	if (!DRVXPC_OP_IS_UPCALL(r->h.op) || !(r->h.flags & DRVXPC_F_REQUEST))
		return 0;
	r->has_id = take_u32(msg + HDR, &alen, DRVXPC_A_UPCALL_ID, &r->id);
	*len = HDR + alen;
	h = r->h;
	h.len = *len;
	memcpy(msg, &h, HDR);
	if (!r->has_id || !(a = kept_answer(r->id)))
		return 0;
	/* The nucleus sent it again (drivermgrd died before it passed the
	 * answer on): answered from the first time, under the new seq. */
	{
		u8 *copy = malloc(a->len);

		if (!copy)
			return 0;
		memcpy(copy, a->msg, a->len);
		memcpy(&h, copy, HDR);
		h.seq = r->h.seq;
		memcpy(copy, &h, HDR);
		send_bytes(copy, a->len);
		free(copy);
	}
	note("%s (upcall %u) sent again after drivermgrd's restart: answered from the first time",
	     op_name(r->h.op), r->id);
	return 1;
}

/* One message at level 0 (the main loop). */
static void dispatch(u8 *msg, long n)
{
	unsigned int len = (unsigned int)n;
	struct bad b;
	struct req r = { .has_id = 0 };

	if (check_msg(msg, n, &r.h, &b)) {
		refuse(msg, n, &b);
		return;
	}
	if (r.h.flags & DRVXPC_F_REPLY) {
		stray_reply(&r.h, msg + HDR, len - HDR);
		return;
	}
	if (identify(&r, msg, &len))
		return;
	if (control(&r, msg + HDR, len - HDR))
		return;
	if (!(r.h.flags & DRVXPC_F_REQUEST))
		return;		/* a notification: nothing to answer */
	switch (r.h.op) {
	case DRVXPC_OP_HELLO:
		hello(&r, msg + HDR, len - HDR);
		return;
	case DRVXPC_OP_PROBE:
		if (!host.hello)
			reply_error(&r, -EPROTO, 0, "PROBE before HELLO");
		else
			probe(&r);
		return;
	case DRVXPC_OP_SLICE_UPCALL:
		serve_upcall_noted(&r, msg, len);
		return;
	}
	reply_error(&r, -EOPNOTSUPP, 0, "%s: a sliced driver's u-driver serves PROBE and SLICE_UPCALL",
		    op_name(r.h.op));
}

/* ---- the user half's calls into the nucleus ---- */

int drvslice_host_combolock(const void *p)
{
	return drvslice_combolock_of(&side, p) != NULL;
}

const char *drvslice_host_why(void)
{
	return side.why;
}

const char *drvslice_host_pci_slot(void)
{
	return host.slot[0] ? host.slot : NULL;
}

int drvslice_host_in_type(const void *p, const char *type, unsigned int off)
{
	unsigned int i;

	for (i = 0; i < side.nobjs; i++) {
		const struct drvslice_obj *o = &side.objs[i];

		if (o->type && o->type < side.drv->ntypes && o->size > off &&
		    (const char *)o->ptr + off == (const char *)p &&
		    !strcmp(side.drv->types[o->type].name, type))
			return 1;
	}
	return 0;
}

/*
 * What the journal gets before a u-driver ends on a wild pointer: the
 * call's pointer arguments and every object this side holds, so that a
 * lost copy (a kernel object's handle no longer here) tells apart from a
 * stale pointer (the copy here, elsewhere).
 */
static void wild_pointer_report(const struct drvslice_entry *e, void *const args[])
{
	unsigned int i;

	for (i = 0; i < e->nargs; i++) {
		void *p;

		if (e->args[i].kind != DRVSLICE_A_PTR && e->args[i].kind != DRVSLICE_A_OWN)
			continue;
		memcpy(&p, args[i], sizeof(p));
		note("%s: argument %u is %p", e->name, i, p);
	}
	note("%u objects here (depth %u):", side.nobjs, side.depth);
	for (i = 0; i < side.nobjs; i++) {
		const struct drvslice_obj *o = &side.objs[i];

		note("  object %#llx at %p, %u bytes, type %u, %s, depth %u, parent %#llx",
		     o->handle, o->ptr, o->size, o->type, o->shadow ? "a copy" : "own",
		     o->depth, o->parent);
	}
}

int drvslice_downcall(const struct drvslice_entry *e, void *const args[], void *ret)
{
	unsigned int l = cur;
	struct level *lv = &levels[l], *nx;
	u64 deadline;
	u32 seq;
	int err, n;
	struct msg m;

	if (l >= NEST_MAX) {
		snprintf(side.why, sizeof(side.why), "%s: calls nested deeper than %d", e->name, NEST_MAX);
		return -ELOOP;
	}
	if (host.closed) {
		snprintf(side.why, sizeof(side.why), "%s: drivermgrd closed the channel", e->name);
		return -ENOTCONN;
	}
	nx = &levels[l + 1];
	n = drvslice_encode_call(&side, e, args, lv->call + HDR, DRVXPC_MSG_MAX - HDR);
	if (n == -EPERM) {
		/* An argument the callee must own lies in none of this side's
		 * copies of the kernel's objects: in the kernel, the driver's
		 * code would have handed it a wild pointer.  That driver is
		 * broken (a corrupted pointer, a lost copy): it ends here, as
		 * an oops ends a task, and drivermgrd recovers it, rather than
		 * go on with what the call did not do (an ethtool register
		 * dump of 0xff). */
		note("%s: %s; the u-driver ends", e->name, side.why);
		wild_pointer_report(e, args);
		abort();
	}
	if (n < 0) {
		drvslice_call_end(&side);
		return n;
	}
	seq = next_seq();
	msg_begin(&m, lv->call, DRVXPC_MSG_MAX, DRVXPC_OP_SLICE_DOWNCALL, DRVXPC_F_REQUEST, seq,
		  host.instance, 0, host.downcall_ms * 1000);
	m.len = HDR + (unsigned int)n;
	err = msg_send(&m);
	if (err) {
		snprintf(side.why, sizeof(side.why), "%s: not sent: %s", e->name, strerror(-err));
		drvslice_call_end(&side);
		return err;
	}
	lv->call_len = m.len;
	deadline = now_ns() + (u64)host.downcall_ms * 1000000;
	for (;;) {
		long got = recv_msg(nx->in, deadline);
		unsigned int len;
		struct bad b;
		struct req r = { .has_id = 0 };

		if (got == -ETIMEDOUT) {
			err = -ETIMEDOUT;
			snprintf(side.why, sizeof(side.why), "%s: no answer within %u ms", e->name, host.downcall_ms);
			break;
		}
		if (got <= 0) {
			err = got ? (int)got : -ENOTCONN;
			snprintf(side.why, sizeof(side.why), "%s: %s", e->name,
				 got ? strerror((int)-got) : "drivermgrd closed the channel");
			break;
		}
		len = (unsigned int)got;
		if (check_msg(nx->in, got, &r.h, &b)) {
			refuse(nx->in, got, &b);
			continue;
		}
		if (r.h.flags & DRVXPC_F_REPLY) {
			if (r.h.seq != seq || r.h.op != DRVXPC_OP_SLICE_DOWNCALL) {
				stray_reply(&r.h, nx->in + HDR, len - HDR);
				continue;
			}
			if (r.h.status < 0) {
				const u8 *why = find_attr(nx->in + HDR, len - HDR, DRVXPC_A_ERR_MSG, &(unsigned int){ 0 });

				err = r.h.status;
				snprintf(side.why, sizeof(side.why), "%s: %s", e->name,
					 why ? (const char *)why : strerror(-err));
				/* The kernel's reason, for the journal: the
				 * driver's code sees only the errno. */
				note("%s refused (%s): %s", e->name, strerror(-err), side.why);
			} else {
				err = drvslice_decode_reply(&side, e, args, nx->in + HDR, len - HDR, ret);
			}
			break;
		}
		if (r.h.op == DRVXPC_OP_SLICE_UPCALL && (r.h.flags & DRVXPC_F_REQUEST) &&
		    upcall_in_progress(nx->in, len)) {
			/* Waits until the outermost call is over, then is
			 * answered from the first time (kept by then). */
			note("SLICE_UPCALL sent again while it is served: answered when it ends");
			queue_push(&r, nx->in, len);
			continue;
		}
		if (r.h.op == DRVXPC_OP_SLICE_UPCALL && (r.h.flags & DRVXPC_F_REQUEST)) {
			/* Caused by this call: served now, one level deeper. */
			if (identify(&r, nx->in, &len))
				continue;
			cur = l + 1;
			serve_upcall_noted(&r, nx->in, len);
			cur = l;
			continue;
		}
		if (r.h.op != DRVXPC_OP_HELLO && control(&r, nx->in + HDR, len - HDR))
			continue;
		/* Anything else waits, as it came, until the outermost call
		 * is over. */
		if (r.h.flags & DRVXPC_F_REQUEST)
			queue_push(&r, nx->in, len);
	}
	lv->call_len = 0;
	drvslice_call_end(&side);
	return err;
}

/* ---- start-up ---- */

/* The process's name (comm) from argv[0]: before stage 2, which has no open. */
static void name_process(const char *arg0)
{
	const char *base = strrchr(arg0, '/');
	int fd;

	base = base ? base + 1 : arg0;
	host.name = base;
	fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, base, strnlen(base, 15)) < 0)
		note("cannot name the process");
	close(fd);
}

/* Stage 2 of the sandbox: the calls SANDBOX names, the listener to
 * drivermgrd with the reply. */
static void sandbox(const struct req *r, const u8 *attrs, unsigned int alen)
{
	const char **names = calloc(SYSCALLS_MAX, sizeof(*names));
	unsigned int at = 0, n = 0;
	int bad = -1, fd, err;
	u8 buf[HDR];
	struct msg m;

	if (!names)
		die("no memory for the sandbox's system calls");
	while (at + DRVXPC_ATTR_HDRLEN <= alen) {
		struct drvxpc_attr a;

		memcpy(&a, attrs + at, sizeof(a));
		if ((a.type & DRVXPC_A_TYPE_MASK) == DRVXPC_A_SYSCALL_NAME) {
			if (n == SYSCALLS_MAX) {
				reply_error(r, -E2BIG, DRVXPC_A_SYSCALL_NAME, "more than %d system calls", SYSCALLS_MAX);
				die("stage 2 of the sandbox refused: more than %d system calls", SYSCALLS_MAX);
			}
			names[n++] = (const char *)attrs + at + DRVXPC_ATTR_HDRLEN;
		}
		at += DRVXPC_ALIGN(a.len);
	}
	fd = drv_seccomp_stage2(names, (int)n, getpid(), &bad);
	if (fd < 0) {
		if (bad >= 0 && (unsigned int)bad < n) {
			reply_error(r, fd, DRVXPC_A_SYSCALL_NAME, "unknown system call %s", names[bad]);
			die("stage 2 of the sandbox refused: unknown system call %s", names[bad]);
		}
		reply_error(r, fd, DRVXPC_A_SYSCALL_NAME, "seccomp: %s", strerror(-fd));
		die("stage 2 of the sandbox refused: seccomp: %s", strerror(-fd));
	}
	free(names);
	msg_begin(&m, buf, sizeof(buf), r->h.op, DRVXPC_F_REPLY, r->h.seq, r->h.instance, 0, 0);
	err = drv_send_with_fd(host.fd, buf, HDR, fd);
	close(fd);
	if (err < 0)
		die("cannot hand the seccomp listener to drivermgrd: sendmsg: %s", strerror(-err));
}

/* A copy of the kernel's object: zeroed, and aligned as strictly as any
 * kernel struct asks (net_device is ____cacheline_aligned; the core
 * refuses a copy that is not aligned as its type). */
static void *zalloc(unsigned int size)
{
	size_t n = ((size_t)size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, n ? n : 64);

	if (p)
		memset(p, 0, n ? n : 64);
	return p;
}

int main(int argc, char **argv)
{
	const char *ms = getenv("DRVSLICE_DOWNCALL_TIMEOUT_MS");
	struct drvxpc_hdr h;
	struct bad b;
	u32 r = 0;
	long n;

	(void)argc;
	name_process(argv[0] ? argv[0] : "u-driver");
	if (ms && strtoul(ms, NULL, 10) > 0 && strtoul(ms, NULL, 10) < 600000)
		host.downcall_ms = (unsigned int)strtoul(ms, NULL, 10);
	/* Downcalls start at a random seq: drivermgrd names each one to the
	 * nucleus by this process's pid and its seq, so a pid used again
	 * does not meet an old call's answer. */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (u32)now_ns() ^ (u32)getpid() << 16;
	host.seq = r % 0xf0000000u;
	drvslice_side_init(&side, &DRVSLICE_USER_DESC, 0, zalloc, free);
	if (&drvslice_api_user)
		side.api = &drvslice_api_user;

	n = recv_msg(levels[0].in, 0);
	if (n == 0)
		die("drivermgrd closed the channel before the first message");
	if (n < 0)
		die("no first message from drivermgrd: %s", strerror((int)-n));
	if (!check_msg(levels[0].in, n, &h, &b) && h.op == DRVXPC_OP_SANDBOX && (h.flags & DRVXPC_F_REQUEST)) {
		struct req rq = { .h = h };

		sandbox(&rq, levels[0].in + HDR, (unsigned int)n - HDR);
	} else {
		dispatch(levels[0].in, n);
	}

	for (;;) {
		if (host.qlen) {
			struct queued q = host.queue[host.qhead];

			host.qhead = (host.qhead + 1) % QUEUE_MAX;
			host.qlen--;
			memcpy(levels[0].in, q.msg, q.len);
			free(q.msg);
			dispatch(levels[0].in, q.len);
			continue;
		}
		n = recv_msg(levels[0].in, host.probe.active ? host.probe.deadline : 0);
		if (n == -ETIMEDOUT) {
			probe_answer(-ETIMEDOUT, "PROBE: the nucleus did not call %s's probe in time", host.chip);
			continue;
		}
		if (n == 0)
			return 0;	/* drivermgrd closed the channel */
		if (n < 0)
			die("reading from drivermgrd: %s", strerror((int)-n));
		dispatch(levels[0].in, n);
	}
}
