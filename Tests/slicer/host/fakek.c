// SPDX-License-Identifier: GPL-2.0
/*
 * The fake daemon + kernel of the u-driver host's test
 * (Tests/slicer/check-host.sh): it plays drivermgrd and the nucleus for
 * hostdrv's u-driver (slicer/host/slice-host.c with hostdrv's user half),
 * with hostdrv's kernel half linked in and its own struct drvslice_side
 * (kernel = 1) over module/slice_core.c.
 *
 *   fakek HOST BUILD_ID SYSCALLS
 *
 * HOST is the u-driver, started with one end of a SOCK_SEQPACKET
 * socketpair on fd 3 (as drivermgrd starts one), BUILD_ID its GNU
 * build-id (readelf), SYSCALLS the sandbox's stage-2 list, one a line.
 * Prints the conversation, one line a message ("->" sent, "<-" received)
 * and what the kernel did between, for the script to compare; a host that
 * makes a system call outside stage 2, goes quiet for 5 s or exits
 * early fails at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uapi/drvxpc.h>

#include "drvslice.h"
#include "hostdrv-slice.h"
#include "CSandbox.h"
#include "fakek.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

#define HDR		((unsigned int)sizeof(struct drvxpc_hdr))
#define INSTANCE	7
#define VENDOR		0x1af4
#define DEVICE		0x10f0

/* The kernel half's module init (hostdrv_init). */
extern int init_module(void);

struct drvslice_side fakek_side;

static int sock = -1, listener = -1;
static pid_t host;
static u32 seq = 1;
static const char *build_id;

/* What this run of the scenario does. */
static struct {
	int work;		/* queue_work_on runs the item (else leaves it) */
	int extra;		/* queue_work_on first sends NET_GET_STATS and PING */
	int takeover;		/* queue_work_on first sends TAKEOVER */
	/* queue_work_on first sends this upcall again, under a new seq: the
	 * nucleus's redelivery to a new drivermgrd of the one being served. */
	struct msg *again;
	u32 stats_seq, ping_seq;
	unsigned int late_ms;	/* SLICE_DOWNCALL's reply waits this long */
	u8 revision;
	unsigned int irq;
} sc = { .work = 1, .irq = 11 };

/* The host's requests: their seqs, and whether each named INSTANCE. */
static u32 host_seqs[64];
static unsigned int nhost, wrong_instance;

/* The last SLICE_DOWNCALL served and its reply, for a repeat of it. */
static u32 served_seq;
static u8 *served_reply;
static unsigned int served_len;

/* Replies read while another was awaited. */
static struct {
	u8 *msg;
	long n;
} mailbox[16];
static unsigned int nmail;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void quit(int code) __attribute__((noreturn));
static void quit(int code)
{
	if (host > 0 && code)
		kill(host, SIGKILL);
	exit(code);
}

static const char *opname(unsigned int op)
{
	static char buf[16];
	const char *n = drvxpc_op_name(op);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "op %u", op);
	return buf;
}

/* ---- messages ---- */

struct msg {
	u8 p[DRVXPC_MSG_MAX];
	unsigned int len;
};

static struct msg *msg_new(u16 op, u16 flags, u32 s, int status)
{
	struct msg *m = calloc(1, sizeof(*m));
	struct drvxpc_hdr h = { .op = op, .flags = flags, .seq = s, .instance = INSTANCE, .status = status };

	if (!m)
		quit(2);
	memcpy(m->p, &h, HDR);
	m->len = HDR;
	return m;
}

static void put(struct msg *m, u16 type, const void *v, unsigned int n)
{
	struct drvxpc_attr a = { .len = (u16)(DRVXPC_ATTR_HDRLEN + n), .type = type };

	memcpy(m->p + m->len, &a, sizeof(a));
	memcpy(m->p + m->len + DRVXPC_ATTR_HDRLEN, v, n);
	m->len += DRVXPC_ALIGN(DRVXPC_ATTR_HDRLEN + n);
}

static void put_str(struct msg *m, u16 type, const char *s)
{
	put(m, type, s, (unsigned int)strlen(s) + 1);
}

static void send_raw(const void *p, unsigned int len)
{
	if (send(sock, p, len, MSG_NOSIGNAL) != (ssize_t)len) {
		say("FAIL: send: %s", strerror(errno));
		quit(1);
	}
}

/* Sends @m (its length patched in) and frees it. */
static void send_msg(struct msg *m)
{
	struct drvxpc_hdr h;

	memcpy(&h, m->p, HDR);
	h.len = m->len;
	memcpy(m->p, &h, HDR);
	send_raw(m->p, m->len);
	free(m);
}

static const u8 *attr(const u8 *m, long n, u16 type, unsigned int *len)
{
	unsigned int at = HDR;

	while (at + DRVXPC_ATTR_HDRLEN <= (unsigned long)n) {
		struct drvxpc_attr a;

		memcpy(&a, m + at, sizeof(a));
		if (a.len < DRVXPC_ATTR_HDRLEN || at + a.len > (unsigned long)n)
			return NULL;
		if ((a.type & DRVXPC_A_TYPE_MASK) == type) {
			if (len)
				*len = a.len - DRVXPC_ATTR_HDRLEN;
			return m + at + DRVXPC_ATTR_HDRLEN;
		}
		at += DRVXPC_ALIGN(a.len);
	}
	return NULL;
}

/* A forbidden call the host made: named, and the test ends. */
static void forbidden(void)
{
	uint64_t id, args[6];
	char name[64] = "?";
	pid_t pid;
	int nr;

	if (drv_notify_next(listener, &id, &pid, &nr, args) == 0)
		drv_syscall_name(nr, name, sizeof(name));
	say("FAIL: the host made a system call outside stage 2 of the sandbox: %s", name);
	quit(1);
}

/* The next message from the host (malloc'd). */
static u8 *recv_one(long *n)
{
	struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = listener, .events = POLLIN } };
	u8 *buf;
	int r;

	do {
		r = poll(p, listener >= 0 ? 2 : 1, 5000);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		say("FAIL: nothing from the host within 5 s");
		quit(1);
	}
	if (listener >= 0 && (p[1].revents & POLLIN))
		forbidden();
	buf = malloc(DRVXPC_MSG_MAX);
	if (!buf)
		quit(2);
	*n = recv(sock, buf, DRVXPC_MSG_MAX, 0);
	if (*n < (long)HDR) {
		int status = 0;

		say("FAIL: the host closed the channel or sent %ld bytes", *n);
		if (waitpid(host, &status, WNOHANG) == host)
			say("   host: ended (wait status %#x)", status);
		quit(1);
	}
	return buf;
}

/* The host's reply, as the transcript shows it. */
static void show_reply(const u8 *m, long n)
{
	struct drvxpc_hdr h;
	char line[512];
	unsigned int len, at;
	const u8 *v;

	memcpy(&h, m, HDR);
	at = (unsigned int)snprintf(line, sizeof(line), "<- %s reply: status %d", opname(h.op), h.status);
	if ((v = attr(m, n, DRVXPC_A_VERSION, &len)) && len == 4)
		at += (unsigned int)snprintf(line + at, sizeof(line) - at, ", VERSION %u", *(const u32 *)v);
	if ((v = attr(m, n, DRVXPC_A_CLASS, &len)) && len == 1)
		at += (unsigned int)snprintf(line + at, sizeof(line) - at, ", CLASS %u", *v);
	if ((v = attr(m, n, DRVXPC_A_BUILD_ID, &len)))
		at += (unsigned int)snprintf(line + at, sizeof(line) - at, ", BUILD_ID %s",
					     strcmp((const char *)v, build_id) ? (const char *)v : "the executable's");
	if ((v = attr(m, n, DRVXPC_A_CHIP_NAME, &len)))
		at += (unsigned int)snprintf(line + at, sizeof(line) - at, ", CHIP_NAME \"%s\"", (const char *)v);
	if ((v = attr(m, n, DRVXPC_A_ERR_ATTR, &len)) && len == 2) {
		u16 a;
		const char *name;

		memcpy(&a, v, 2);
		name = drvxpc_attr_name(a);
		if (name)
			at += (unsigned int)snprintf(line + at, sizeof(line) - at, ", ERR_ATTR %s", name);
		else
			at += (unsigned int)snprintf(line + at, sizeof(line) - at, ", ERR_ATTR %u", a);
	}
	if ((v = attr(m, n, DRVXPC_A_ERR_MSG, &len)))
		snprintf(line + at, sizeof(line) - at, ", ERR_MSG \"%s\"", (const char *)v);
	say("%s", line);
}

/* ---- the kernel's side ---- */

static void note_host_request(const struct drvxpc_hdr *h)
{
	if (h->instance != INSTANCE)
		wrong_instance++;
	if (served_reply && h->seq == served_seq)
		return;		/* sent again */
	if (nhost < sizeof(host_seqs) / sizeof(host_seqs[0]))
		host_seqs[nhost++] = h->seq;
}

static void reply_to(const struct drvxpc_hdr *h, int status, const u8 *attrs, unsigned int alen)
{
	struct msg *m = msg_new(h->op, DRVXPC_F_REPLY, h->seq, status);

	memcpy(m->p + HDR, attrs, alen);
	m->len += alen;
	send_msg(m);
}

/* A request of the host's: SLICE_PROBE or SLICE_DOWNCALL. */
static void host_request(const u8 *m, long n)
{
	struct drvxpc_hdr h;
	const u8 *v;
	unsigned int len;
	u16 id = 0;

	memcpy(&h, m, HDR);
	note_host_request(&h);
	if (h.op == DRVXPC_OP_SLICE_PROBE && (h.flags & DRVXPC_F_REQUEST)) {
		int r;

		say("<- SLICE_PROBE request: instance %u, %ld attribute bytes", h.instance, n - (long)HDR);
		/* The nucleus answers at once, then runs the PCI probe. */
		reply_to(&h, 0, NULL, 0);
		say("-> SLICE_PROBE reply: status 0");
		say("   pci: probing %04x:%04x revision %u irq %u", VENDOR, DEVICE, sc.revision, sc.irq);
		r = fakek_pci_probe(VENDOR, DEVICE, sc.revision, sc.irq);
		say("   pci: the driver's probe returned %d", r);
		return;
	}
	if (h.op == DRVXPC_OP_SLICE_DOWNCALL && (h.flags & DRVXPC_F_REQUEST)) {
		u8 *out = malloc(DRVXPC_MSG_MAX);
		int r;

		if (!out)
			quit(2);
		v = attr(m, n, DRVXPC_A_SLICE_ENTRY, &len);
		if (v && len == 2)
			memcpy(&id, v, 2);
		say("<- SLICE_DOWNCALL request: %s, instance %u%s",
		    id && id < slice_hostdrv_kernel.nentries ? slice_hostdrv_kernel.entries[id]->name : "?",
		    h.instance, served_reply && h.seq == served_seq ? ", the last one's seq" : "");
		if (served_reply && h.seq == served_seq) {
			/* The nucleus answers a repeat from the first time. */
			send_raw(served_reply, served_len);
			say("-> SLICE_DOWNCALL reply: the first one's again");
			free(out);
			return;
		}
		r = drvslice_serve(&fakek_side, m + HDR, (unsigned int)(n - HDR), out, DRVXPC_MSG_MAX - HDR);
		if (sc.late_ms) {
			struct timespec ts = { sc.late_ms / 1000, (long)(sc.late_ms % 1000) * 1000000 };

			say("   (the reply waits %u ms)", sc.late_ms);
			nanosleep(&ts, NULL);
		}
		if (r >= 0) {
			reply_to(&h, 0, out, (unsigned int)r);
			free(served_reply);
			served_reply = malloc(HDR + (unsigned int)r);
			if (!served_reply)
				quit(2);
			h.flags = DRVXPC_F_REPLY;
			h.len = HDR + (unsigned int)r;
			h.status = 0;
			memcpy(served_reply, &h, HDR);
			memcpy(served_reply + HDR, out, (unsigned int)r);
			served_len = HDR + (unsigned int)r;
			served_seq = h.seq;
		} else {
			struct msg *e = msg_new(h.op, DRVXPC_F_REPLY, h.seq, r);

			put_str(e, DRVXPC_A_ERR_MSG, fakek_side.why);
			send_msg(e);
		}
		say("-> SLICE_DOWNCALL reply: status %d", r >= 0 ? 0 : r);
		free(out);
		return;
	}
	say("FAIL: an unexpected %s %s from the host", opname(h.op),
	    (h.flags & DRVXPC_F_REQUEST) ? "request" : "message");
}

/* The reply to our request @s, serving the host's requests meanwhile. */
static u8 *wait_reply(u32 s, long *n)
{
	unsigned int i;

	for (i = 0; i < nmail; i++) {
		struct drvxpc_hdr h;
		u8 *m = mailbox[i].msg;

		memcpy(&h, m, HDR);
		if (h.seq == s) {
			*n = mailbox[i].n;
			mailbox[i] = mailbox[--nmail];
			return m;
		}
	}
	for (;;) {
		struct drvxpc_hdr h;
		u8 *m = recv_one(n);

		memcpy(&h, m, HDR);
		if (h.flags & DRVXPC_F_REPLY) {
			show_reply(m, *n);
			if (h.seq == s)
				return m;
			if (nmail == sizeof(mailbox) / sizeof(mailbox[0])) {
				say("FAIL: too many replies nobody waits for");
				quit(1);
			}
			mailbox[nmail].msg = m;
			mailbox[nmail++].n = *n;
			continue;
		}
		host_request(m, *n);
		free(m);
	}
}

/* Sends @m (a request), waits for its reply and frees it. */
static void request(struct msg *m, const char *what)
{
	struct drvxpc_hdr h;
	long n;

	memcpy(&h, m->p, HDR);
	say("-> %s request%s%s", opname(h.op), what ? ": " : "", what ? what : "");
	send_msg(m);
	free(wait_reply(h.seq, &n));
}

/* The kernel half's upcalls: the call to the host, its calls served meanwhile. */
int drvslice_upcall(const struct drvslice_entry *e, void *const args[], void *ret)
{
	struct msg *m = msg_new(DRVXPC_OP_SLICE_UPCALL, DRVXPC_F_REQUEST, seq++, 0);
	struct drvxpc_hdr h;
	int n, err;
	long len;
	u8 *r;

	n = drvslice_encode_call(&fakek_side, e, args, m->p + HDR, DRVXPC_MSG_MAX - HDR);
	if (n < 0) {
		say("   kernel: %s not sent: %s", e->name, fakek_side.why);
		drvslice_call_end(&fakek_side);
		free(m);
		return n;
	}
	m->len += (unsigned int)n;
	memcpy(&h, m->p, HDR);
	say("-> SLICE_UPCALL request: %s", e->name);
	send_msg(m);
	r = wait_reply(h.seq, &len);
	memcpy(&h, r, HDR);
	if (h.status < 0) {
		err = h.status;
	} else {
		err = drvslice_decode_reply(&fakek_side, e, args, r + HDR, (unsigned int)(len - HDR), ret);
		if (err)
			say("   kernel: %s's reply: %s", e->name, fakek_side.why);
	}
	drvslice_call_end(&fakek_side);
	free(r);
	return err;
}

int fakek_work_queued(void)
{
	say("   kernel: hostdrv_kick queues the reset work%s", sc.work ? "" : " (not run)");
	if (sc.takeover) {
		/* A new drivermgrd: the host sends its unanswered downcall
		 * again, under its seq. */
		sc.takeover = 0;
		say("-> TAKEOVER notification");
		send_msg(msg_new(DRVXPC_OP_TAKEOVER, DRVXPC_F_NOTIFY, 0, 0));
	}
	if (sc.again) {
		say("-> SLICE_UPCALL request: hostdrv_stop again, the same UPCALL_ID (it is being served)");
		send_msg(sc.again);
		sc.again = NULL;
	}
	if (sc.extra) {
		/* Requests of drivermgrd's own while the host waits for its
		 * downcall: the PING is answered at once, the other waits. */
		struct msg *m;

		sc.extra = 0;
		sc.stats_seq = seq++;
		m = msg_new(DRVXPC_OP_NET_GET_STATS, DRVXPC_F_REQUEST, sc.stats_seq, 0);
		say("-> NET_GET_STATS request");
		send_msg(m);
		sc.ping_seq = seq++;
		m = msg_new(DRVXPC_OP_PING, DRVXPC_F_REQUEST, sc.ping_seq, 0);
		say("-> PING request");
		send_msg(m);
	}
	return sc.work;
}

/* A field of the kernel half's hostdrv_state, by the description. */
static int kstate(const char *field)
{
	const struct drvslice_driver *d = &slice_hostdrv_kernel;
	const struct drvslice_global *g;
	const struct drvslice_type *t;
	unsigned int i;

	for (g = d->globals; g->name; g++)
		if (!strcmp(g->name, "hostdrv_state"))
			break;
	if (!g->name || !g->type)
		return -99999;
	t = &d->types[g->type];
	for (i = 0; i < t->nfields; i++) {
		const struct drvslice_field *f = &t->fields[i];
		const char *dot = strchr(f->name, '.');

		if (dot && !strcmp(dot + 1, field)) {
			if (f->size == 2) {
				unsigned short v;

				memcpy(&v, (const u8 *)g->ptr + f->offset, 2);
				return v;
			}
			if (f->size == 4) {
				int v;

				memcpy(&v, (const u8 *)g->ptr + f->offset, 4);
				return v;
			}
		}
	}
	return -99999;
}

static void show_state(void)
{
	say("   kernel's hostdrv_state: vendor %04x device %04x irq %d kicks %d last_kick %d resets %d probes %d opens %d",
	    kstate("vendor"), kstate("device"), kstate("irq"), kstate("kicks"), kstate("last_kick"),
	    kstate("resets"), kstate("probes"), kstate("opens"));
}

static void *zalloc(unsigned int size)
{
	return calloc(1, size);
}

/* ---- the scenario's steps ---- */

static void probe(u8 revision, int work, int extra, unsigned int late_ms)
{
	struct msg *m = msg_new(DRVXPC_OP_PROBE, DRVXPC_F_REQUEST, seq++, 0);

	sc.revision = revision;
	sc.work = work;
	sc.extra = extra;
	sc.takeover = late_ms != 0;
	sc.late_ms = late_ms;
	request(m, NULL);
	sc.late_ms = 0;
}

/* A SLICE_UPCALL made by hand: @attrs as they are. */
static void raw_upcall(const char *what, const u8 *attrs, unsigned int alen)
{
	struct msg *m = msg_new(DRVXPC_OP_SLICE_UPCALL, DRVXPC_F_REQUEST, seq++, 0);

	memcpy(m->p + HDR, attrs, alen);
	m->len += alen;
	request(m, what);
}

/* hostdrv_open as the kernel calls it, with drivermgrd's UPCALL_ID. */
static void open_call(u32 upcall_id)
{
	const struct drvslice_entry *e = slice_hostdrv_kernel.entries[SLICE_HOSTDRV_hostdrv_open];
	struct msg *m = msg_new(DRVXPC_OP_SLICE_UPCALL, DRVXPC_F_REQUEST, seq++, 0);
	void *dev = NULL, *args[1] = { &dev };
	struct drvxpc_hdr h;
	char what[64];
	int n, ret = 0, err;
	long len;
	u8 *r;

	n = drvslice_encode_call(&fakek_side, e, args, m->p + HDR, DRVXPC_MSG_MAX - HDR);
	if (n < 0) {
		say("FAIL: hostdrv_open: %s", fakek_side.why);
		quit(1);
	}
	m->len += (unsigned int)n;
	put(m, DRVXPC_A_UPCALL_ID, &upcall_id, 4);
	memcpy(&h, m->p, HDR);
	snprintf(what, sizeof(what), "hostdrv_open, UPCALL_ID %u", upcall_id);
	say("-> SLICE_UPCALL request: %s", what);
	send_msg(m);
	r = wait_reply(h.seq, &len);
	memcpy(&h, r, HDR);
	err = h.status < 0 ? h.status :
	      drvslice_decode_reply(&fakek_side, e, args, r + HDR, (unsigned int)(len - HDR), &ret);
	drvslice_call_end(&fakek_side);
	free(r);
	say("   kernel: hostdrv_open returned %d (call %d)", ret, err);
}

/*
 * hostdrv_stop with UPCALL_ID @upcall_id: its kick (a downcall) sends the
 * same upcall again under a new seq while the host serves it.  The host
 * answers the first, then the second from the first time: hostdrv_kick
 * runs once.
 */
static void stop_call(u32 upcall_id)
{
	const struct drvslice_entry *e = slice_hostdrv_kernel.entries[SLICE_HOSTDRV_hostdrv_stop];
	struct msg *m = msg_new(DRVXPC_OP_SLICE_UPCALL, DRVXPC_F_REQUEST, seq++, 0);
	void *dev = NULL, *args[1] = { &dev };
	struct drvxpc_hdr h, h2;
	int n, ret = 0, err;
	long len, len2;
	u8 *r, *r2;

	n = drvslice_encode_call(&fakek_side, e, args, m->p + HDR, DRVXPC_MSG_MAX - HDR);
	if (n < 0) {
		say("FAIL: hostdrv_stop: %s", fakek_side.why);
		quit(1);
	}
	m->len += (unsigned int)n;
	put(m, DRVXPC_A_UPCALL_ID, &upcall_id, 4);
	sc.again = malloc(sizeof(*m));
	if (!sc.again)
		quit(2);
	memcpy(sc.again, m, sizeof(*m));
	memcpy(&h, m->p, HDR);
	h2 = h;
	h2.seq = seq++;
	memcpy(sc.again->p, &h2, HDR);
	sc.work = 0;
	say("-> SLICE_UPCALL request: hostdrv_stop, UPCALL_ID %u", upcall_id);
	send_msg(m);
	r = wait_reply(h.seq, &len);
	r2 = wait_reply(h2.seq, &len2);
	sc.work = 1;
	memcpy(&h, r, HDR);
	err = h.status < 0 ? h.status :
	      drvslice_decode_reply(&fakek_side, e, args, r + HDR, (unsigned int)(len - HDR), &ret);
	drvslice_call_end(&fakek_side);
	say("   kernel: hostdrv_stop returned %d (call %d); sent again: %s", ret, err,
	    len2 == len && !memcmp(r + HDR, r2 + HDR, (size_t)len - HDR) &&
	    ((struct drvxpc_hdr *)r2)->status == h.status ? "the same answer" : "ANOTHER ANSWER");
	free(r);
	free(r2);
}

/* A hand-made attribute. */
static unsigned int a16(u8 *p, u16 len, u16 type, const void *v, unsigned int n)
{
	memcpy(p, &len, 2);
	memcpy(p + 2, &type, 2);
	memcpy(p + 4, v, n);
	return DRVXPC_ALIGN(4 + n);
}

static void sandbox(const char *file)
{
	struct msg *m = msg_new(DRVXPC_OP_SANDBOX, DRVXPC_F_REQUEST, seq++, 0);
	char line[64], path[64];
	struct drvxpc_hdr h;
	unsigned int names = 0;
	u8 buf[256];
	FILE *f = fopen(file, "r");
	long n;
	int fd = -1, nnp = -1, mode = -1;

	if (!f) {
		say("FAIL: %s: %s", file, strerror(errno));
		quit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0]) {
			put_str(m, DRVXPC_A_SYSCALL_NAME, line);
			names++;
		}
	}
	fclose(f);
	say("-> SANDBOX request: %s", names > 40 ? "the steady-state system calls" : "too few system calls");
	send_msg(m);
	n = drv_recv_with_fd(sock, buf, sizeof(buf), &fd);
	if (n < (long)HDR) {
		say("FAIL: no SANDBOX reply (%ld)", n);
		quit(1);
	}
	memcpy(&h, buf, HDR);
	say("<- %s reply: status %d, %s", opname(h.op), h.status, fd >= 0 ? "with the seccomp listener" : "no fd");
	listener = fd;
	/* Stacked: no_new_privs set, seccomp in filter mode (2). */
	snprintf(path, sizeof(path), "/proc/%d/status", host);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "NoNewPrivs:", 11))
			nnp = atoi(line + 11);
		if (!strncmp(line, "Seccomp:", 8))
			mode = atoi(line + 8);
	}
	if (f)
		fclose(f);
	say("   host: NoNewPrivs %d, Seccomp %d", nnp, mode);
}

int main(int argc, char **argv)
{
	u8 a[512];
	unsigned int n;
	struct msg *m;
	int sv[2], status;
	u16 id;
	u8 cls = DRVXPC_CLASS_NET;
	u32 bar = 256;
	u16 vendor = VENDOR, device = DEVICE;

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST BUILD_ID SYSCALLS\n", argv[0]);
		return 2;
	}
	build_id = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return 2;
	host = fork();
	if (host < 0)
		return 2;
	if (!host) {
		if (dup2(sv[1], 3) != 3)
			_exit(3);
		/* Downcalls give up after a second here, not five. */
		setenv("DRVSLICE_DOWNCALL_TIMEOUT_MS", "1000", 1);
		execl(argv[1], "hostdrv-udriver", (char *)NULL);
		_exit(4);
	}
	close(sv[1]);
	sock = sv[0];
	drvslice_side_init(&fakek_side, &slice_hostdrv_kernel, 1, zalloc, free);
	if (init_module()) {
		say("FAIL: the kernel half's module init");
		quit(1);
	}

	sandbox(argv[3]);

	m = msg_new(DRVXPC_OP_HELLO, DRVXPC_F_REQUEST, seq++, 0);
	put_str(m, DRVXPC_A_DRIVER_NAME, "hostdrv");
	put(m, DRVXPC_A_CLASS, &cls, 1);
	put(m, DRVXPC_A_PCI_VENDOR, &vendor, 2);
	put(m, DRVXPC_A_PCI_DEVICE, &device, 2);
	put_str(m, DRVXPC_A_PCI_SLOT, "0000:00:05.0");
	put(m, DRVXPC_A_BAR_SIZE, &bar, 4);
	request(m, NULL);
	request(msg_new(DRVXPC_OP_PING, DRVXPC_F_REQUEST, seq++, 0), NULL);

	id = SLICE_HOSTDRV_hostdrv_open;
	n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
	raw_upcall("hostdrv_open before PROBE", a, n);

	/* Revision 0: probe says -ENODEV. */
	probe(0, 1, 0, 0);
	/* Revision 3: kick's downcall runs the reset work (an upcall
	 * nested in it); meanwhile drivermgrd sends a PING and a
	 * NET_GET_STATS. */
	probe(3, 1, 1, 0);
	show_state();
	free(wait_reply(sc.stats_seq, &(long){ 0 }));
	free(wait_reply(sc.ping_seq, &(long){ 0 }));
	/* Revision 5: kick's reply comes after the host's deadline; a
	 * TAKEOVER meanwhile has the host send it again. */
	probe(5, 0, 0, 2500);
	show_state();

	/* Malformed calls: each refused by name, the host stays. */
	id = 999;
	n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
	raw_upcall("entry 999", a, n);
	id = SLICE_HOSTDRV_hostdrv_kick;
	n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
	raw_upcall("hostdrv_kick, the kernel half's", a, n);
	id = 0;
	n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
	raw_upcall("entry 0", a, n);
	id = SLICE_HOSTDRV_hostdrv_open;
	n = a16(a, 200, DRVXPC_A_SLICE_ENTRY, &id, 2);
	raw_upcall("SLICE_ENTRY of 200 bytes in 8", a, n);
	n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
	n += a16(a + n, 8, 999, "abcd", 4);
	raw_upcall("an unknown attribute", a, n);
	{
		u8 ptr[12] = { 0 };

		id = SLICE_HOSTDRV_hostdrv_remove;
		n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
		n += a16(a + n, 4 + 4, DRVXPC_A_SLICE_ARG, ptr, 4);
		raw_upcall("hostdrv_remove with a 4-byte pointer", a, n);
		n = a16(a, 6, DRVXPC_A_SLICE_ENTRY, &id, 2);
		n += a16(a + n, 4 + 12, DRVXPC_A_SLICE_ARG, ptr, 12);
		n += a16(a + n, 4 + 12, DRVXPC_A_SLICE_ARG, ptr, 12);
		raw_upcall("hostdrv_remove with two arguments", a, n);
	}
	/* An upcall drivermgrd tagged: a repeat of its UPCALL_ID is answered
	 * from the first time, not served again. */
	open_call(77);
	open_call(77);
	open_call(78);
	show_state();
	/* The same, sent again while the host serves it (a downcall of it
	 * waiting): answered when the first is, not served nested. */
	stop_call(79);
	show_state();

	/* What a sliced u-driver does not serve, and control messages. */
	request(msg_new(DRVXPC_OP_NET_OPEN, DRVXPC_F_REQUEST, seq++, 0), NULL);
	request(msg_new(250, DRVXPC_F_REQUEST, seq++, 0), NULL);
	m = msg_new(DRVXPC_OP_INJECT, DRVXPC_F_REQUEST, seq++, 0);
	{
		u8 kind = DRVXPC_FAULT_LOST_WRITE;

		put(m, DRVXPC_A_FAULT_KIND, &kind, 1);
	}
	request(m, "lost-write");
	request(msg_new(DRVXPC_OP_INJECT, DRVXPC_F_REQUEST, seq++, 0), "no FAULT_KIND");
	say("-> 10 bytes of garbage");
	send_raw("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);
	{
		struct drvxpc_hdr h = { .len = 100, .op = DRVXPC_OP_PING, .flags = DRVXPC_F_REQUEST,
					.seq = seq++, .instance = INSTANCE };
		long rn;

		say("-> PING request: the header says 100 bytes");
		send_raw(&h, HDR);
		free(wait_reply(h.seq, &rn));
	}
	request(msg_new(DRVXPC_OP_PING, DRVXPC_F_REQUEST, seq++, 0), NULL);
	request(msg_new(DRVXPC_OP_SHUTDOWN, DRVXPC_F_REQUEST, seq++, 0), NULL);
	if (waitpid(host, &status, 0) == host)
		say("   host: %s %d", WIFEXITED(status) ? "exited with status" : "killed by signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));

	{
		unsigned int i, k, distinct = 1;

		for (i = 0; i < nhost; i++)
			for (k = 0; k < i; k++)
				if (host_seqs[i] == host_seqs[k] || !host_seqs[i])
					distinct = 0;
		say("host requests: %u, seqs %s, %s", nhost, distinct ? "distinct" : "NOT distinct",
		    wrong_instance ? "SOME WITHOUT THE INSTANCE" : "each with the instance");
	}
	return 0;
}
