// SPDX-License-Identifier: GPL-2.0
/*
 * Runs in the QEMU guest against drvnucleus.ko: resolves the "drvnucleus"
 * generic netlink family, registers as the daemon, expects DEVICE_ADD for
 * QEMU's RTL8139C+, reads its TxConfig through a REG_READ downcall, and
 * checks that bad input is rejected with a named attribute.  Raw netlink on
 * purpose: the busybox guest has no libnl.  Prints one line per check and
 * "N passed, M failed" at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../module/include/uapi/drvxpc.h"
#include "../../module/include/chips/ps2mouse_regs.h"

static int passed, failed;
static int sock;
static __u16 family;
static __u16 send_flags;	/* NLM_F_ACK while fuzzing */

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

static char *put_attr(char *p, __u16 type, const void *data, int len)
{
	struct nlattr *a = (struct nlattr *)p;

	a->nla_len = NLA_HDRLEN + len;
	a->nla_type = type;
	memcpy(p + NLA_HDRLEN, data, len);
	return p + NLA_ALIGN(a->nla_len);
}

static char *nest_start(char *p, __u16 type)
{
	((struct nlattr *)p)->nla_type = type | NLA_F_NESTED;
	return p + NLA_HDRLEN;
}

static char *nest_end(char *start, char *p)
{
	((struct nlattr *)start)->nla_len = p - start;
	return p;
}

/* One REG_OP step: kind, offset, width (1), value. */
static char *step(char *p, __u8 kind, __u32 off, __u32 val)
{
	char *n = p;
	__u8 w = 1;

	p = nest_start(p, DRVXPC_A_REG_OP);
	p = put_attr(p, DRVXPC_A_REG_OP_KIND, &kind, 1);
	p = put_attr(p, DRVXPC_A_REG_OFFSET, &off, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	if (kind == DRVXPC_REGOP_WRITE)
		p = put_attr(p, DRVXPC_A_REG_VALUE, &val, 4);
	return nest_end(n, p);
}

/* Sends a genl message: cmd, then @payload of @len bytes. */
static int send_genl(__u16 type, __u8 cmd, const void *payload, int len)
{
	char buf[4096];
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(n);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	memset(buf, 0, sizeof(buf));
	n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + len);
	n->nlmsg_type = type;
	n->nlmsg_flags = NLM_F_REQUEST | send_flags;
	n->nlmsg_seq = 1;
	g->cmd = cmd;
	g->version = 1;
	memcpy((char *)g + GENL_HDRLEN, payload, len);
	return sendto(sock, buf, n->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to));
}

/* Receives one message; returns the drvxpc header inside it, or NULL. */
static struct drvxpc_hdr *recv_xpc(char *buf, int cap, int *nlerr)
{
	int n = recv(sock, buf, cap, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;

	*nlerr = 0;
	if (n <= 0 || !NLMSG_OK(h, n))
		return NULL;
	if (h->nlmsg_type == NLMSG_ERROR) {
		*nlerr = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		return NULL;
	}
	return (struct drvxpc_hdr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
}

static struct nlattr *find(struct drvxpc_hdr *h, __u16 type)
{
	char *p = (char *)(h + 1), *end = (char *)h + h->len;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static int resolve_family(void)
{
	char buf[4096], *p;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	int n;

	p = put_attr(buf, CTRL_ATTR_FAMILY_NAME, DRVXPC_GENL_NAME, sizeof(DRVXPC_GENL_NAME));
	if (send_genl(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, buf, p - buf) < 0)
		return -1;
	n = recv(sock, buf, sizeof(buf), 0);
	if (n <= 0 || h->nlmsg_type == NLMSG_ERROR)
		return -1;
	p = (char *)NLMSG_DATA(h) + GENL_HDRLEN;
	while (p < buf + h->nlmsg_len) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(__u16 *)((char *)a + NLA_HDRLEN);
		p += NLA_ALIGN(a->nla_len);
	}
	return -1;
}

/* A drvxpc request with @attrs; returns the reply header (in @buf). */
static struct drvxpc_hdr *call(__u16 op, __u32 seq, __u32 instance, const char *attrs, int alen,
			       char *buf, int cap, int *nlerr)
{
	char msg[1024];
	struct drvxpc_hdr *x = (struct drvxpc_hdr *)msg;

	memset(x, 0, sizeof(*x));
	x->len = sizeof(*x) + alen;
	x->op = op;
	x->flags = DRVXPC_F_REQUEST;
	x->seq = seq;
	x->instance = instance;
	memcpy(x + 1, attrs, alen);
	send_genl(family, 1, msg, x->len);
	/* Skip notifications (DEVICE_ADD) until the reply to @seq. */
	for (;;) {
		struct drvxpc_hdr *r = recv_xpc(buf, cap, nlerr);

		if (!r || ((r->flags & DRVXPC_F_REPLY) && r->seq == seq))
			return r;
	}
}

/* `nucleus-client join GROUP IFACE SECONDS`: hold an IPv4 multicast
 * membership, so the kernel asks the driver for a new rx mode. */
static int join(const char *group, const char *ifname, int seconds)
{
	struct ip_mreqn m = { .imr_ifindex = if_nametoindex(ifname) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, group, &m.imr_multiaddr);
	if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) < 0) {
		perror("IP_ADD_MEMBERSHIP");
		return 1;
	}
	sleep(seconds);
	return 0;
}

static int open_family(void)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	int id;

	sock = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	bind(sock, (struct sockaddr *)&me, sizeof(me));
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	id = resolve_family();
	if (id > 0)
		family = id;
	return id;
}

static __u64 attr_u64(struct drvxpc_hdr *r, __u16 type)
{
	struct nlattr *a = find(r, type);
	__u64 v = 0;

	if (a)
		memcpy(&v, (char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

/* The instance whose PCI id matches @id, "VVVV" or "VVVV:DDDD" in hex
 * (DEVICE_INFO is open to any admin), or 0. */
static __u32 instance_of(const char *id, char *buf, int cap)
{
	char *end;
	unsigned long vendor = strtoul(id, &end, 16), device = 0;
	int nlerr, any_device = *end != ':';
	__u32 i;

	if (!any_device)
		device = strtoul(end + 1, NULL, 16);
	for (i = 1; i <= 8; i++) {
		struct drvxpc_hdr *r = call(DRVXPC_OP_DEVICE_INFO, 100 + i, i, NULL, 0, buf, cap, &nlerr);
		struct nlattr *v = r && !r->status ? find(r, DRVXPC_A_PCI_VENDOR) : NULL;
		struct nlattr *d = r && !r->status ? find(r, DRVXPC_A_PCI_DEVICE) : NULL;

		if (v && *(__u16 *)((char *)v + NLA_HDRLEN) == vendor &&
		    (any_device || (d && *(__u16 *)((char *)d + NLA_HDRLEN) == device)))
			return i;
	}
	return 0;
}

/* `nucleus-client bytes VVVV[:DDDD]`: drvxpc bytes and messages that crossed the
 * kernel <-> daemon hop for the device since it was probed. */
static int xpc_bytes(const char *id)
{
	char buf[8192];
	__u32 inst;
	int nlerr;
	struct drvxpc_hdr *r;

	if (open_family() <= 0 || !(inst = instance_of(id, buf, sizeof(buf))))
		return 1;
	r = call(DRVXPC_OP_DEVICE_INFO, 200, inst, NULL, 0, buf, sizeof(buf), &nlerr);
	if (!r || r->status)
		return 1;
	printf("xpc: %llu bytes in %llu messages; register I/O %llu bytes, the rest %llu bytes\n",
	       (unsigned long long)attr_u64(r, DRVXPC_A_XPC_BYTES),
	       (unsigned long long)attr_u64(r, DRVXPC_A_XPC_MESSAGES),
	       (unsigned long long)attr_u64(r, DRVXPC_A_XPC_REGIO_BYTES),
	       (unsigned long long)(attr_u64(r, DRVXPC_A_XPC_BYTES) - attr_u64(r, DRVXPC_A_XPC_REGIO_BYTES)));
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* `nucleus-client rtt VENDOR COUNT`: COUNT null upcalls timed by the
 * nucleus, kernel -> daemon -> u-driver -> daemon -> kernel. */
static int rtt(const char *id, __u32 count)
{
	char buf[16384], attrs[64], *p;
	__u32 inst, ns[2048], n;
	__u8 act = DRVXPC_SIM_PING;
	struct drvxpc_hdr *r;
	struct nlattr *a;
	int nlerr;

	if (open_family() <= 0 || !(inst = instance_of(id, buf, sizeof(buf))) || count > 2048)
		return 1;
	p = put_attr(attrs, DRVXPC_A_SIM_ACTION, &act, 1);
	p = put_attr(p, DRVXPC_A_COUNT, &count, 4);
	r = call(DRVXPC_OP_SIM_CONTROL, 300, inst, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	a = r && !r->status ? find(r, DRVXPC_A_SAMPLES_NS) : NULL;
	if (!a) {
		printf("rtt: failed (%d)\n", r ? r->status : nlerr);
		return 1;
	}
	n = (a->nla_len - NLA_HDRLEN) / 4;
	memcpy(ns, (char *)a + NLA_HDRLEN, n * 4);
	qsort(ns, n, 4, cmp_u32);
	printf("rtt: %u round trips, p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n", n,
	       ns[n / 2] / 1e3, ns[n * 9 / 10] / 1e3, ns[n * 99 / 100] / 1e3, ns[n - 1] / 1e3);
	return 0;
}

/*
 * `nucleus-client combo VENDOR N DELAY_US`: register as the daemon and send
 * N REG_SEQs that read the interrupt mask, wait DELAY_US and read it again:
 * each holds the device's ComboLock in user mode for the delay, as a slow
 * u-driver would, while the data path runs.  Prints the lock's counters.
 */
static int combo(const char *id, int count, __u32 delay)
{
	char buf[8192], attrs[512], *p, *seq;
	__u32 inst, off = 0x3c, v = DRVXPC_VERSION;
	__u8 rd = DRVXPC_REGOP_READ, dl = DRVXPC_REGOP_DELAY, w = 2;
	struct drvxpc_hdr *r;
	int nlerr, i, failures = 0;

	if (open_family() <= 0 || !(inst = instance_of(id, buf, sizeof(buf))))
		return 1;
	p = put_attr(attrs, DRVXPC_A_VERSION, &v, 4);
	r = call(DRVXPC_OP_REGISTER, 400, 0, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	if (!r || r->status)
		return 1;
	for (i = 0; i < count; i++) {
		char *o;

		p = seq = nest_start(attrs, DRVXPC_A_REG_SEQ);
		(void)seq;
		o = p;
		p = nest_start(p, DRVXPC_A_REG_OP);
		p = put_attr(p, DRVXPC_A_REG_OP_KIND, &rd, 1);
		p = put_attr(p, DRVXPC_A_REG_OFFSET, &off, 4);
		p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
		p = nest_end(o, p);
		o = p;
		p = nest_start(p, DRVXPC_A_REG_OP);
		p = put_attr(p, DRVXPC_A_REG_OP_KIND, &dl, 1);
		p = put_attr(p, DRVXPC_A_DELAY_US, &delay, 4);
		p = nest_end(o, p);
		o = p;
		p = nest_start(p, DRVXPC_A_REG_OP);
		p = put_attr(p, DRVXPC_A_REG_OP_KIND, &rd, 1);
		p = put_attr(p, DRVXPC_A_REG_OFFSET, &off, 4);
		p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
		p = nest_end(o, p);
		nest_end(attrs, p);
		r = call(DRVXPC_OP_REG_SEQ, 500 + i, inst, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		if (!r || r->status)
			failures++;
	}
	r = call(DRVXPC_OP_DEVICE_INFO, 450, inst, NULL, 0, buf, sizeof(buf), &nlerr);
	if (!r || r->status)
		return 1;
	printf("combo: %d sequences (%d failed), %llu user holds, %llu data-path deferrals\n", count, failures,
	       (unsigned long long)attr_u64(r, DRVXPC_A_COMBO_USER_HOLDS),
	       (unsigned long long)attr_u64(r, DRVXPC_A_COMBO_DEFERRALS));
	return failures != 0;
}

/* `nucleus-client mute SECONDS`: register as the daemon and answer nothing
 * for SECONDS, so upcalls meet their deadline. */
static int mute(int seconds)
{
	char buf[8192], attrs[16], *p;
	__u32 v = DRVXPC_VERSION;
	struct drvxpc_hdr *r;
	int nlerr;

	if (open_family() <= 0)
		return 1;
	p = put_attr(attrs, DRVXPC_A_VERSION, &v, 4);
	r = call(DRVXPC_OP_REGISTER, 900, 0, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	if (!r || r->status)
		return 1;
	printf("mute: registered, answering nothing\n");
	fflush(stdout);
	sleep(seconds);
	return 0;
}

/* One register access as the daemon; returns the value read, or ~0. */
static __u32 reg(__u32 inst, __u16 op, __u32 off, __u8 w, __u32 v, char *buf, int cap)
{
	char attrs[64], *p;
	struct drvxpc_hdr *r;
	struct nlattr *a;
	static __u32 seq = 600;
	int nlerr;

	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	if (op == DRVXPC_OP_REG_WRITE)
		p = put_attr(p, DRVXPC_A_REG_VALUE, &v, 4);
	r = call(op, seq++, inst, attrs, p - attrs, buf, cap, &nlerr);
	a = r && !r->status ? find(r, DRVXPC_A_REG_VALUE) : NULL;
	return a ? *(__u32 *)((char *)a + NLA_HDRLEN) : (r && !r->status ? 0 : ~0U);
}

static void reg_dma(__u32 inst, __u32 off, __u32 handle, __u32 doff, char *buf, int cap)
{
	char attrs[64], *p;
	static __u32 seq = 700;
	__u8 w = 4;
	int nlerr;

	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	p = put_attr(p, DRVXPC_A_DMA_HANDLE, &handle, 4);
	p = put_attr(p, DRVXPC_A_DMA_OFFSET, &doff, 4);
	call(DRVXPC_OP_REG_WRITE_DMA, seq++, inst, attrs, p - attrs, buf, cap, &nlerr);
}

/* The hex number in PCI function @dev's sysfs file @name; 0 if none. */
static unsigned long pci_attr(const char *dev, const char *name)
{
	char path[300];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, name);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%lx", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/*
 * Writes @val to byte @off of the first PCI function with @vendor:@device
 * through its I/O BAR's sysfs resource file (resource0), bypassing the
 * nucleus and its write checks.  0 on success.
 */
static int pci_io_write8(unsigned long vendor, unsigned long device, off_t off,
			 unsigned char val)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	char path[300];
	int fd, rc = -1;

	while (dir && (e = readdir(dir))) {
		if (pci_attr(e->d_name, "vendor") != vendor ||
		    pci_attr(e->d_name, "device") != device)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", e->d_name);
		fd = open(path, O_RDWR);
		if (fd >= 0) {
			rc = pwrite(fd, &val, 1, off) == 1 ? 0 : -1;
			close(fd);
		}
		break;
	}
	if (dir)
		closedir(dir);
	return rc;
}

/*
 * `nucleus-client txtimeout VENDOR`: take the daemon's place, switch the
 * RTL8139's transmitter off behind the nucleus's back (a REG_WRITE doing
 * it is refused while the data path runs: through the PCI resource file,
 * as a wedged transmitter would look), and wait for the
 * NET_TX_TIMEOUT upcall the stack's watchdog causes; then do what the
 * rtl8139 u-driver's txTimeout() does (rtl8139_hw_start on the rings the
 * nucleus holds) and hand the data path back.
 */
static int txtimeout(const char *id)
{
	char buf[8192], attrs[64], *p, *q;
	__u32 inst, v = DRVXPC_VERSION, rxh = 0, txh = 0, rxcfg, txcfg, imr, i;
	struct drvxpc_hdr *r;
	int nlerr, got = 0;

	if (open_family() <= 0 || !(inst = instance_of(id, buf, sizeof(buf))))
		return 1;
	p = put_attr(attrs, DRVXPC_A_VERSION, &v, 4);
	r = call(DRVXPC_OP_REGISTER, 800, 0, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	if (!r || r->status)
		return 1;
	r = call(DRVXPC_OP_DEVICE_INFO, 801, inst, NULL, 0, buf, sizeof(buf), &nlerr);
	for (q = (char *)(r + 1); r && q + NLA_HDRLEN <= (char *)r + r->len;) {
		struct nlattr *a = (struct nlattr *)q;

		if ((a->nla_type & NLA_TYPE_MASK) == DRVXPC_A_OBJECT) {
			struct drvxpc_hdr fake = { .len = a->nla_len - NLA_HDRLEN + sizeof(fake) };
			char tmp[128];
			struct nlattr *id, *role;

			memcpy(tmp, &fake, sizeof(fake));
			memcpy(tmp + sizeof(fake), (char *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
			id = find((struct drvxpc_hdr *)tmp, DRVXPC_A_OBJECT_ID);
			role = find((struct drvxpc_hdr *)tmp, DRVXPC_A_OBJECT_ROLE);
			if (id && role && *((__u8 *)role + NLA_HDRLEN) == DRVXPC_ROLE_RX_RING)
				rxh = *(__u32 *)((char *)id + NLA_HDRLEN);
			if (id && role && *((__u8 *)role + NLA_HDRLEN) == DRVXPC_ROLE_TX_BUFFERS)
				txh = *(__u32 *)((char *)id + NLA_HDRLEN);
		}
		q += NLA_ALIGN(a->nla_len);
	}
	if (!rxh || !txh)
		return 1;
	rxcfg = reg(inst, DRVXPC_OP_REG_READ, 0x44, 4, 0, buf, sizeof(buf));
	txcfg = reg(inst, DRVXPC_OP_REG_READ, 0x40, 4, 0, buf, sizeof(buf));
	imr = reg(inst, DRVXPC_OP_REG_READ, 0x3c, 2, 0, buf, sizeof(buf));
	/* RxEnb only: refused through the nucleus while DATAPATH_ON. */
	if (reg(inst, DRVXPC_OP_REG_WRITE, 0x37, 1, 0x08, buf, sizeof(buf)) == ~0U)
		printf("txtimeout: REG_WRITE of ChipCmd without TxEnb refused while the data path runs\n");
	if (pci_io_write8(strtoul(id, NULL, 16), strtoul(strchr(id, ':') ? strchr(id, ':') + 1 : "0", NULL, 16),
			  0x37, 0x08)) {
		printf("txtimeout: cannot write ChipCmd through resource0: %s\n", strerror(errno));
		return 1;
	}
	printf("txtimeout: transmitter off; waiting for the upcall\n");
	fflush(stdout);
	for (i = 0; i < 6 && !got; i++) {	/* 6 x the 5 s receive timeout */
		struct drvxpc_hdr *u = recv_xpc(buf, sizeof(buf), &nlerr);

		if (u && u->op == DRVXPC_OP_NET_TX_TIMEOUT && (u->flags & DRVXPC_F_REQUEST))
			got = 1;
	}
	if (!got) {
		printf("txtimeout: no NET_TX_TIMEOUT upcall\n");
		return 1;
	}
	printf("txtimeout: NET_TX_TIMEOUT upcall received\n");
	/* rtl8139_hw_start: reset, rings, Rx/Tx on, configuration back. */
	reg(inst, DRVXPC_OP_REG_WRITE, 0x37, 1, 0x10, buf, sizeof(buf));
	usleep(10000);
	reg_dma(inst, 0x30, rxh, 0, buf, sizeof(buf));
	reg(inst, DRVXPC_OP_REG_WRITE, 0x37, 1, 0x0c, buf, sizeof(buf));
	reg(inst, DRVXPC_OP_REG_WRITE, 0x44, 4, rxcfg, buf, sizeof(buf));
	reg(inst, DRVXPC_OP_REG_WRITE, 0x40, 4, txcfg, buf, sizeof(buf));
	for (i = 0; i < 4; i++)
		reg_dma(inst, 0x20 + 4 * i, txh, i * 1536, buf, sizeof(buf));
	reg(inst, DRVXPC_OP_REG_WRITE, 0x3c, 2, imr, buf, sizeof(buf));
	r = call(DRVXPC_OP_DATAPATH_ENABLE, 802, inst, NULL, 0, buf, sizeof(buf), &nlerr);
	printf("txtimeout: transmitter restarted, data path %s\n", r && !r->status ? "enabled" : "refused");
	return !(r && !r->status);
}

/* Busy and total jiffies of all CPUs from /proc/stat. */
static void cpu_times(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			 &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[3] = 1;
	if (f)
		fclose(f);
	*total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*busy = *total - v[3] - v[4];
}

static unsigned long long if_counter(const char *ifname, const char *what)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, what);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* `nucleus-client udp DEST IFACE SECONDS`: a UDP stream of 1472-byte
 * datagrams as fast as the socket takes them; what the interface sent
 * (its tx counters) and the CPU it cost. */
static int udp(const char *dest, const char *ifname, int seconds)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	unsigned long long b0, t0, b1, t1, p0, p1, y0, y1;
	static char payload[1472];
	struct timeval start, now;
	double secs;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, dest, &to.sin_addr);
	p0 = if_counter(ifname, "tx_packets");
	y0 = if_counter(ifname, "tx_bytes");
	cpu_times(&b0, &t0);
	gettimeofday(&start, NULL);
	do {
		sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to));
		gettimeofday(&now, NULL);
		secs = now.tv_sec - start.tv_sec + (now.tv_usec - start.tv_usec) / 1e6;
	} while (secs < seconds);
	cpu_times(&b1, &t1);
	sleep(1);	/* let the queue drain into the counters */
	p1 = if_counter(ifname, "tx_packets");
	y1 = if_counter(ifname, "tx_bytes");
	printf("udp: %llu packets, %.2f Mbit/s, cpu %.1f %%\n", p1 - p0,
	       (y1 - y0) * 8 / secs / 1e6, 100.0 * (b1 - b0) / (t1 - t0 ? t1 - t0 : 1));
	return 0;
}

static unsigned short inet_sum(const void *data, int len)
{
	const unsigned short *w = data;
	unsigned int sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	if (len)
		sum += *(const unsigned char *)w;
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return ~sum;
}

static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile sig_atomic_t echo_stop;

static void echo_on_signal(int sig)
{
	(void)sig;
	echo_stop = 1;
}

/* `nucleus-client echo DEST COUNT INTERVAL_MS WAIT_S [LOST_FILE]`: COUNT ICMP echo
 * requests to DEST, one every INTERVAL_MS, then up to WAIT_S seconds for
 * the replies still out.  SIGINT or SIGTERM ends the sending early (a
 * stream as long as something else runs); the wait for the replies still
 * out follows all the same.  Only replies to this stream count (its ICMP
 * id, each sequence number once), so streams on several interfaces at once
 * do not see each other's, as the stack's global counters in /proc/net/snmp
 * would.  Prints "N echo requests sent, M replies received".  LOST_FILE,
 * if given, gets a line "lost SEQ SENT_USEC" per request whose reply never
 * came (its send time on CLOCK_REALTIME, in microseconds): what
 * `drvcampaign report --echo-losses` charges to the campaign's faults. */
static int echo_stream(const char *dest, int count, int interval_ms, int wait_s,
		       const char *lost_file)
{
	static unsigned long long sent_at[65536];
	struct sigaction sa = { .sa_handler = echo_on_signal };
	struct sockaddr_in to = { .sin_family = AF_INET };
	unsigned short id = getpid() & 0xffff;
	static unsigned char seen[65536];
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	int sent = 0, got = 0;
	__u32 overflow = 0;
	double next, deadline = 0;

	if (s < 0 || inet_pton(AF_INET, dest, &to.sin_addr) != 1 || count < 1 || count > 65535) {
		fprintf(stderr, "echo: bad arguments or no raw socket\n");
		return 2;
	}
	/* A raw socket gets a copy of every ICMP message the guest takes in:
	 * the other streams' replies too (four NICs at 100 a second).  The
	 * default buffer holds about half a second of them, so a reader the
	 * guest starves that long (a new u-driver being spawned under TCG on
	 * a loaded host) would see replies the nucleus delivered as lost.
	 * Root may set 8 MB; SO_RXQ_OVFL says if the buffer dropped any. */
	{
		int big = 8 << 20, on = 1;

		if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
			setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		setsockopt(s, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	}
	/* No SA_RESTART: the signal ends a poll() that waits to send. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	next = mono_now();
	while (got < count) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		double now = mono_now(), until;
		unsigned char buf[1500];
		union {
			struct cmsghdr align;
			char space[CMSG_SPACE(sizeof(__u32))];
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;
		ssize_t n;

		if (echo_stop && sent < count && sent > 0) {
			count = sent;
			deadline = now + wait_s;
			if (got >= count)
				break;
		}
		if (sent < count && now >= next) {
			struct icmphdr req = { .type = ICMP_ECHO };
			unsigned char pkt[64] = { 0 };

			struct timespec wall;

			clock_gettime(CLOCK_REALTIME, &wall);
			sent_at[sent] = wall.tv_sec * 1000000ULL + wall.tv_nsec / 1000;
			req.un.echo.id = htons(id);
			req.un.echo.sequence = htons(sent);
			memcpy(pkt, &req, sizeof(req));
			((struct icmphdr *)pkt)->checksum = inet_sum(pkt, sizeof(pkt));
			/* A request the stack refused counts as sent: a loss. */
			sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
			sent++;
			next += interval_ms / 1000.0;
			if (sent == count)
				deadline = mono_now() + wait_s;
			continue;
		}
		if (sent == count && now >= deadline)
			break;
		until = sent < count ? next : deadline;
		if (poll(&pfd, 1, (int)((until - now) * 1000) + 1) <= 0)
			continue;
		n = recvmsg(s, &msg, 0);
		for (c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
				memcpy(&overflow, CMSG_DATA(c), sizeof(overflow));
		if (n >= (ssize_t)sizeof(struct iphdr)) {
			struct iphdr *ip = (struct iphdr *)buf;
			struct icmphdr *r = (struct icmphdr *)(buf + ip->ihl * 4);
			unsigned short seq;

			if (n < ip->ihl * 4 + (ssize_t)sizeof(*r) || ip->saddr != to.sin_addr.s_addr ||
			    r->type != ICMP_ECHOREPLY || ntohs(r->un.echo.id) != id)
				continue;
			seq = ntohs(r->un.echo.sequence);
			if (seq < sent && !seen[seq]) {
				seen[seq] = 1;
				got++;
			}
		}
	}
	printf("%d echo requests sent, %d replies received\n", sent, got);
	if (overflow)
		printf("(the socket's buffer dropped %u ICMP messages: not losses of the NIC's)\n",
		       overflow);
	if (lost_file) {
		FILE *f = fopen(lost_file, "w");
		int i;

		if (!f) {
			perror(lost_file);
			return 1;
		}
		for (i = 0; i < sent; i++)
			if (!seen[i])
				fprintf(f, "lost %d %llu\n", i, sent_at[i]);
		fclose(f);
	}
	return 0;
}

/* xorshift32: a fixed sequence, so a failure reproduces. */
static __u32 rnd_state = 0x2545f491;

static __u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * 20,000 malformed messages: random bytes, and a valid REG_SEQ with bytes
 * flipped, lengths cut or grown, header fields changed.  Each is acked
 * (NLM_F_ACK), so each gets an answer: a drvxpc error reply and/or a
 * netlink error; none may go unanswered, and the nucleus must still serve
 * a REG_READ afterwards.  Mutants go to an instance that does not exist
 * unless they only read.
 */
static void fuzz(__u32 instance)
{
	char base[512], msg[1024], buf[8192], *p, *n;
	struct drvxpc_hdr *x = (struct drvxpc_hdr *)base;
	int i, unanswered = 0, accepted = 0, nlerr, len, blen;
	__u32 off = 0x40, seqv;
	__u8 kind = DRVXPC_REGOP_READ, w = 4;
	struct drvxpc_hdr *r;

	memset(base, 0, sizeof(base));
	x->op = DRVXPC_OP_REG_SEQ;
	x->flags = DRVXPC_F_REQUEST;
	x->instance = 99;
	p = (char *)(x + 1);
	n = p;
	p = nest_start(p, DRVXPC_A_REG_SEQ);
	for (i = 0; i < 3; i++) {
		char *o = p;

		p = nest_start(p, DRVXPC_A_REG_OP);
		p = put_attr(p, DRVXPC_A_REG_OP_KIND, &kind, 1);
		p = put_attr(p, DRVXPC_A_REG_OFFSET, &off, 4);
		p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
		p = nest_end(o, p);
	}
	nest_end(n, p);
	blen = x->len = p - base;

	send_flags = NLM_F_ACK;
	for (i = 0; i < 20000; i++) {
		int j, flips;

		if (i % 4 == 0) {
			len = rnd() % 256;
			for (j = 0; j < len; j++)
				msg[j] = rnd();
		} else {
			memcpy(msg, base, blen);
			len = blen;
			flips = 1 + rnd() % 6;
			for (j = 0; j < flips; j++)
				msg[rnd() % blen] ^= 1 << (rnd() % 8);
			if (i % 7 == 0)
				len = rnd() % blen;		/* cut */
			if (i % 11 == 0) {
				int more = rnd() % 64;		/* trailing junk */

				for (j = 0; j < more; j++)
					msg[len + j] = rnd();
				len += more;
			}
			if (i % 2 && len >= (int)sizeof(*x))
				((struct drvxpc_hdr *)msg)->len = len;	/* consistent */
		}
		/* Nothing but reads may reach the real device. */
		if (len >= (int)sizeof(*x) && ((struct drvxpc_hdr *)msg)->instance != 99 &&
		    ((struct drvxpc_hdr *)msg)->op != DRVXPC_OP_REG_READ &&
		    ((struct drvxpc_hdr *)msg)->op != DRVXPC_OP_DEVICE_INFO)
			((struct drvxpc_hdr *)msg)->instance = 99;
		send_genl(family, 1, msg, len);
		for (;;) {
			int got = recv(sock, buf, sizeof(buf), 0);
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			if (got <= 0) {
				unanswered++;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (((struct nlmsgerr *)NLMSG_DATA(h))->error == 0)
					accepted++;
				break;
			}
		}
	}
	send_flags = 0;
	printf("fuzz: 20000 messages, %d unanswered, %d acked without a netlink error\n",
	       unanswered, accepted);
	check(unanswered == 0, "20,000 malformed messages: every one answered");
	memset(msg, 0, sizeof(msg));
	p = put_attr(msg, DRVXPC_A_REG_OFFSET, &off, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	seqv = 77;
	r = call(DRVXPC_OP_REG_READ, seqv, instance, msg, p - msg, buf, sizeof(buf), &nlerr);
	check(r && r->status == 0, "the nucleus still serves REG_READ after the fuzz");
}

/*
 * One device's slow downcall holds up no other device's: each device has
 * its own lock in the nucleus, and drvnucleus_lock guards only the table.
 * The PS/2 mouse (serio1, bound to drvnucleus) is given GETINFO told to
 * expect 4 bytes where the mouse answers 3, so libps2 waits out its 500 ms
 * for the fourth; a child process sends it on this same socket (the
 * registered daemon's: genetlink runs the doit in the sender's system
 * call), and meanwhile this one reads the RTL8139's TxConfig.  With one
 * lock for every device the read waited for the mouse.
 */
static void slow_device_alone(__u32 nic)
{
	char buf[8192], attrs[64], *p;
	__u32 mouse = 0, i, off = 0x40;
	__u8 w = 4;
	int nlerr, ready[2], took[2], status = 0;
	double t0, read_ms;
	long child_ms = -1;
	struct drvxpc_hdr *r;
	pid_t pid;

	for (i = 1; i <= 8 && !mouse; i++) {
		struct nlattr *bus;

		r = call(DRVXPC_OP_DEVICE_INFO, 300 + i, i, NULL, 0, buf, sizeof(buf), &nlerr);
		bus = r && !r->status ? find(r, DRVXPC_A_BUS) : NULL;
		if (bus && *((__u8 *)bus + NLA_HDRLEN) == DRVXPC_BUS_SERIO)
			mouse = i;
	}
	check(mouse > 0, "the PS/2 mouse on serio1 was announced");
	if (!mouse || pipe(ready) || pipe(took))
		return;
	pid = fork();
	if (pid == 0) {
		char msg[64];
		struct drvxpc_hdr *x = (struct drvxpc_hdr *)msg;
		__u16 cmd = PSM_CMD_GETINFO + (1U << PSM_CMD_RECEIVE_SHIFT);
		double c0;

		memset(msg, 0, sizeof(msg));
		x->op = DRVXPC_OP_PS2_COMMAND;
		x->flags = DRVXPC_F_REQUEST;
		x->seq = 310;
		x->instance = mouse;
		p = put_attr((char *)(x + 1), DRVXPC_A_PS2_CMD, &cmd, 2);
		x->len = p - msg;
		if (write(ready[1], "", 1) != 1)
			_exit(1);
		c0 = mono_now();
		send_genl(family, 1, msg, x->len);
		child_ms = (long)((mono_now() - c0) * 1000);
		_exit(write(took[1], &child_ms, sizeof(child_ms)) == sizeof(child_ms) ? 0 : 1);
	}
	if (pid < 0 || read(ready[0], buf, 1) != 1) {
		check(0, "a second process for the mouse's command");
		return;
	}
	usleep(100000);	/* the mouse's command is inside libps2 by now */
	t0 = mono_now();
	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	r = call(DRVXPC_OP_REG_READ, 311, nic, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	read_ms = (mono_now() - t0) * 1000;
	check(r && r->status == 0, "REG_READ on the RTL8139 while the mouse's command waits");
	waitpid(pid, &status, 0);
	if (read(took[0], &child_ms, sizeof(child_ms)) != sizeof(child_ms))
		child_ms = -1;
	printf("slow downcall: the mouse's command took %ld ms; the RTL8139's REG_READ sent 100 ms into it took %.1f ms\n",
	       child_ms, read_ms);
	check(child_ms >= 400, "the mouse's command waited out libps2's timeout (>= 400 ms)");
	check(read_ms < 150, "the other device's downcall did not wait for it (< 150 ms)");
	close(ready[0]); close(ready[1]); close(took[0]); close(took[1]);
}

int main(int argc, char **argv)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	char buf[8192], attrs[256], *p;
	struct drvxpc_hdr *r;
	struct nlattr *a;
	__u32 v, instance = 0;
	__u8 w;
	int nlerr, id, i;

	if (argc == 5 && !strcmp(argv[1], "join"))
		return join(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "bytes"))
		return xpc_bytes(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "rtt"))
		return rtt(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "mute"))
		return mute(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "txtimeout"))
		return txtimeout(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "combo"))
		return combo(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "udp"))
		return udp(argv[2], argv[3], atoi(argv[4]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "echo"))
		return echo_stream(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
				   argc == 7 ? argv[6] : NULL);
	sock = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	bind(sock, (struct sockaddr *)&me, sizeof(me));
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	id = resolve_family();
	check(id > 0, "generic netlink family \"drvnucleus\" resolves");
	if (id <= 0)
		goto out;
	family = id;

	v = DRVXPC_VERSION;
	p = put_attr(attrs, DRVXPC_A_VERSION, &v, 4);
	r = call(DRVXPC_OP_REGISTER, 1, 0, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	check(r && r->op == DRVXPC_OP_REGISTER && (r->flags & DRVXPC_F_REPLY) && r->status == 0 &&
	      find(r, DRVXPC_A_VERSION), "REGISTER answered with VERSION");

	/* DEVICE_ADD for each bound function; find the RTL8139. */
	for (i = 0; i < 4; i++) {
		r = recv_xpc(buf, sizeof(buf), &nlerr);
		if (!r)
			break;
		if (r->op != DRVXPC_OP_DEVICE_ADD)
			continue;
		a = find(r, DRVXPC_A_PCI_VENDOR);
		if (a && *(__u16 *)((char *)a + NLA_HDRLEN) == 0x10ec) {
			struct nlattr *bar = find(r, DRVXPC_A_BAR_SIZE);
			instance = r->instance;
			check(bar && *(__u32 *)((char *)bar + NLA_HDRLEN) == 256,
			      "DEVICE_ADD for 10ec:8139 with a 256-byte BAR");
			break;
		}
	}
	check(instance > 0, "the RTL8139 was announced");
	if (!instance)
		goto out;

	v = 0x40;
	w = 4;
	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &v, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	r = call(DRVXPC_OP_REG_READ, 2, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	a = r ? find(r, DRVXPC_A_REG_VALUE) : NULL;
	v = a ? *(__u32 *)((char *)a + NLA_HDRLEN) : 0;
	printf("TxConfig = 0x%08x\n", v);
	check(r && r->status == 0 && (v & 0x7cc00000) == 0x74800000,
	      "REG_READ TxConfig shows the RTL8139C+ revision (HW_REVID 0x74800000)");

	v = 0x1000;
	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &v, 4);
	r = call(DRVXPC_OP_REG_READ, 3, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
	check(r && r->status == -EACCES && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_OFFSET,
	      "REG_READ outside the BAR refused with EACCES naming REG_OFFSET");

	w = 3;
	v = 0x40;
	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &v, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	r = call(DRVXPC_OP_REG_READ, 4, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
	check(r && r->status == -EINVAL && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_WIDTH,
	      "REG_WIDTH 3 (inside the attribute's range, not a register width) rejected naming REG_WIDTH");
	w = 9;
	p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &v, 4);
	p = put_attr(p, DRVXPC_A_REG_WIDTH, &w, 1);
	r = call(DRVXPC_OP_REG_READ, 8, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	check(r && r->status == -ERANGE, "REG_WIDTH 9 rejected as out of the declared range (ERANGE)");

	v = 0x12345;	/* a 4-byte payload for a 1-byte attribute */
	p = put_attr(attrs, DRVXPC_A_REG_WIDTH, &v, 4);
	r = call(DRVXPC_OP_REG_READ, 5, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
	check(r && r->status == -EINVAL && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_WIDTH,
	      "wrong-length REG_WIDTH rejected naming the attribute");

	p = put_attr(attrs, 0x3000, &v, 4);
	r = call(DRVXPC_OP_REG_READ, 6, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
	check(r && r->status == -EINVAL, "unknown attribute rejected");

	{
		/* Header length that lies about the message. */
		char msg[64];
		struct drvxpc_hdr *x = (struct drvxpc_hdr *)msg;

		memset(msg, 0, sizeof(msg));
		x->len = 200;
		x->op = DRVXPC_OP_REG_READ;
		x->flags = DRVXPC_F_REQUEST;
		send_genl(family, 1, msg, sizeof(*x));
		do {
			r = recv_xpc(buf, sizeof(buf), &nlerr);
		} while (r && !(r->flags & DRVXPC_F_REPLY));
		check(!r && nlerr == -EINVAL, "a lying length field is rejected by netlink with EINVAL");
	}
	r = call(999, 7, instance, attrs, 0, buf, sizeof(buf), &nlerr);
	check(r && r->status == -EPROTO, "unknown op answered with EPROTO");

	{
		/* 8139too's read_eeprom(ioaddr, 0, 6) as one REG_SEQ: the 93C46's
		 * id word is 0x8129 (QEMU's model holds it too). */
		static char big[8192];
		char *q = big, *seq;
		int cmd = 0 | (6 << 6), k, nres;
		__u32 word = 0, *res;
		const __u8 enb = 0x88;

		seq = q;
		q = nest_start(q, DRVXPC_A_REG_SEQ);
		q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb & ~0x08);
		q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb);
		for (k = 4 + 6; k >= 0; k--) {
			__u8 d = (cmd & (1 << k)) ? 0x02 : 0;

			q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb | d);
			q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb | d | 0x04);
		}
		q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb);
		for (k = 0; k < 16; k++) {
			q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb | 0x04);
			q = step(q, DRVXPC_REGOP_READ, 0x50, 0);
			q = step(q, DRVXPC_REGOP_WRITE, 0x50, enb);
		}
		q = step(q, DRVXPC_REGOP_WRITE, 0x50, 0);
		q = nest_end(seq, q);
		{
			char msg[8192];
			struct drvxpc_hdr *x = (struct drvxpc_hdr *)msg;

			memset(x, 0, sizeof(*x));
			x->len = sizeof(*x) + (q - big);
			x->op = DRVXPC_OP_REG_SEQ;
			x->flags = DRVXPC_F_REQUEST;
			x->seq = 9;
			x->instance = instance;
			memcpy(x + 1, big, q - big);
			send_genl(family, 1, msg, x->len);
			do {
				r = recv_xpc(buf, sizeof(buf), &nlerr);
			} while (r && !((r->flags & DRVXPC_F_REPLY) && r->seq == 9));
		}
		a = r ? find(r, DRVXPC_A_REG_RESULTS) : NULL;
		nres = a ? (a->nla_len - NLA_HDRLEN) / 4 : 0;
		res = a ? (__u32 *)((char *)a + NLA_HDRLEN) : NULL;
		for (k = 0; k < nres; k++)
			word = (word << 1) | (res[k] & 1);
		printf("EEPROM word 0 = 0x%04x (%d reads)\n", word, nres);
		check(r && r->status == 0 && nres == 16 && word == 0x8129,
		      "REG_SEQ bit-bangs the 93C46 EEPROM: word 0 is 0x8129");
	}
	{
		/* POLL for a bit that never sets: ETIMEDOUT naming REG_OP. */
		char *q = attrs, *seq = q, *n;
		__u8 kind = DRVXPC_REGOP_POLL, w = 1;
		__u32 off = 0x37, mask = 0x80, want = 0x80, us = 2000;

		q = nest_start(q, DRVXPC_A_REG_SEQ);
		n = q;
		q = nest_start(q, DRVXPC_A_REG_OP);
		q = put_attr(q, DRVXPC_A_REG_OP_KIND, &kind, 1);
		q = put_attr(q, DRVXPC_A_REG_OFFSET, &off, 4);
		q = put_attr(q, DRVXPC_A_REG_WIDTH, &w, 1);
		q = put_attr(q, DRVXPC_A_REG_MASK, &mask, 4);
		q = put_attr(q, DRVXPC_A_REG_VALUE, &want, 4);
		q = put_attr(q, DRVXPC_A_DELAY_US, &us, 4);
		q = nest_end(n, q);
		q = nest_end(seq, q);
		r = call(DRVXPC_OP_REG_SEQ, 10, instance, attrs, q - attrs, buf, sizeof(buf), &nlerr);
		a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
		check(r && r->status == -ETIMEDOUT && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_OP,
		      "a POLL step that never matches ends with ETIMEDOUT naming REG_OP");
	}
	{
		/* The packed form (REG_STEPS, 8-byte slots) the u-drivers send:
		 * TxConfig read, a POLL on it with its mask slot; then a step
		 * outside the BAR and a torn slot, both refused naming REG_STEPS. */
		struct drvxpc_regstep st[3] = {
			{ .kind = DRVXPC_REGOP_READ, .width = 4, .offset = 0x40 },
			{ .kind = DRVXPC_REGOP_POLL, .width = 4, .offset = 0x40, .value = 0x74800000 },
			{ .value = 0x7cc00000 },	/* the POLL's mask */
		};
		struct nlattr *res;
		__u32 got[2] = { 0, 0 };

		p = put_attr(attrs, DRVXPC_A_REG_STEPS, st, sizeof(st));
		r = call(DRVXPC_OP_REG_SEQ, 20, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		res = r ? find(r, DRVXPC_A_REG_RESULTS) : NULL;
		if (res && res->nla_len == NLA_HDRLEN + 8)
			memcpy(got, (char *)res + NLA_HDRLEN, 8);
		check(r && r->status == 0 && (got[0] & 0x7cc00000) == 0x74800000 && got[1] == got[0],
		      "REG_STEPS (packed) reads TxConfig and polls it under a mask");
		st[0].offset = 0x100;
		p = put_attr(attrs, DRVXPC_A_REG_STEPS, st, sizeof(st));
		r = call(DRVXPC_OP_REG_SEQ, 21, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
		check(r && r->status == -EACCES && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_STEPS,
		      "a packed step outside the BAR is refused with EACCES naming REG_STEPS");
		{
			/* Three delays of 10 ms: past the 20 ms a sequence may
			 * hold the data path off, refused before any step. */
			struct drvxpc_regstep d3[3] = {
				{ .kind = DRVXPC_REGOP_DELAY, .value = 10000 },
				{ .kind = DRVXPC_REGOP_DELAY, .value = 10000 },
				{ .kind = DRVXPC_REGOP_DELAY, .value = 10000 },
			};

			p = put_attr(attrs, DRVXPC_A_REG_STEPS, d3, sizeof(d3));
			r = call(DRVXPC_OP_REG_SEQ, 25, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
			check(r && r->status == -E2BIG && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_STEPS,
			      "delays of 30 ms in one sequence are refused with E2BIG naming REG_STEPS");
		}
		p = put_attr(attrs, DRVXPC_A_REG_STEPS, st, 12);
		r = call(DRVXPC_OP_REG_SEQ, 22, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
		check(r && r->status == -EINVAL && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_REG_STEPS,
		      "REG_STEPS that is not whole slots is refused naming REG_STEPS");
	}
	{
		__u32 size = 8192 + 16 + 1536, handle, rx = 0, bogus = 4242, off = 0x30;
		__u8 role = DRVXPC_ROLE_RX_RING, w4 = 4;

		p = put_attr(attrs, DRVXPC_A_DMA_SIZE, &size, 4);
		p = put_attr(p, DRVXPC_A_OBJECT_ROLE, &role, 1);
		r = call(DRVXPC_OP_DMA_ALLOC, 11, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		a = r ? find(r, DRVXPC_A_DMA_HANDLE) : NULL;
		handle = a ? *(__u32 *)((char *)a + NLA_HDRLEN) : 0;
		check(r && r->status == 0 && handle, "DMA_ALLOC returns a handle");

		p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
		p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
		p = put_attr(p, DRVXPC_A_DMA_HANDLE, &handle, 4);
		r = call(DRVXPC_OP_REG_WRITE_DMA, 12, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
		p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
		struct drvxpc_hdr *rr = call(DRVXPC_OP_REG_READ, 13, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		a = rr ? find(rr, DRVXPC_A_REG_VALUE) : NULL;
		rx = a ? *(__u32 *)((char *)a + NLA_HDRLEN) : 0;
		printf("RxBuf = 0x%08x\n", rx);
		check(rx != 0 && (rx & 3) == 0, "REG_WRITE_DMA put the ring's bus address in RxBuf (never seen by user space before)");

		p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
		p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
		p = put_attr(p, DRVXPC_A_DMA_HANDLE, &bogus, 4);
		r = call(DRVXPC_OP_REG_WRITE_DMA, 14, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
		a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
		check(r && r->status == -ENOENT && a && *(__u16 *)((char *)a + NLA_HDRLEN) == DRVXPC_A_DMA_HANDLE,
		      "an unknown DMA handle is refused naming DMA_HANDLE");

		r = call(DRVXPC_OP_DEVICE_INFO, 15, instance, attrs, 0, buf, sizeof(buf), &nlerr);
		check(r && r->status == 0 && find(r, DRVXPC_A_OBJECT), "DEVICE_INFO lists the object (for the hand-over to a new u-driver)");

		/* Without an IOMMU the chip DMAs wherever RxBuf says: only
		 * REG_WRITE_DMA's addresses go there, with a whole ring
		 * behind them, and RxConfig keeps the 8K ring. */
		{
			__u32 rxc = 0x44, rblen = 0x1800, doff = 4096, now;
			__u16 bad;
			struct drvxpc_regstep st[2] = {
				{ .kind = DRVXPC_REGOP_READ, .width = 4, .offset = 0x44 },
				{ .kind = DRVXPC_REGOP_WRITE, .width = 2, .offset = 0x44, .value = 0x1800 },
			};

			p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
			p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
			p = put_attr(p, DRVXPC_A_REG_VALUE, &rx, 4);
			r = call(DRVXPC_OP_REG_WRITE, 16, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
			bad = a ? *(__u16 *)((char *)a + NLA_HDRLEN) : 0;
			check(r && r->status == -EPERM && bad == DRVXPC_A_REG_VALUE,
			      "a plain REG_WRITE to RxBuf (a DMA address register) is refused with EPERM naming REG_VALUE");

			p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
			p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
			p = put_attr(p, DRVXPC_A_DMA_HANDLE, &handle, 4);
			p = put_attr(p, DRVXPC_A_DMA_OFFSET, &doff, 4);
			r = call(DRVXPC_OP_REG_WRITE_DMA, 17, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
			bad = a ? *(__u16 *)((char *)a + NLA_HDRLEN) : 0;
			check(r && r->status == -EPERM && bad == DRVXPC_A_REG_OFFSET,
			      "REG_WRITE_DMA of a ring 4096 bytes into its buffer (less than a ring behind it) is refused naming REG_OFFSET");

			p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &rxc, 4);
			p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
			p = put_attr(p, DRVXPC_A_REG_VALUE, &rblen, 4);
			r = call(DRVXPC_OP_REG_WRITE, 18, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			check(r && r->status == -EINVAL,
			      "RxConfig with a 64K ring length (the buffer is 8K) is refused with EINVAL");

			p = put_attr(attrs, DRVXPC_A_REG_STEPS, st, sizeof(st));
			r = call(DRVXPC_OP_REG_SEQ, 19, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			a = r ? find(r, DRVXPC_A_ERR_ATTR) : NULL;
			bad = a ? *(__u16 *)((char *)a + NLA_HDRLEN) : 0;
			check(r && r->status == -EINVAL && bad == DRVXPC_A_REG_STEPS,
			      "the same as a 16-bit REG_SEQ step is refused naming REG_STEPS");

			p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &off, 4);
			p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
			r = call(DRVXPC_OP_REG_READ, 23, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			a = r ? find(r, DRVXPC_A_REG_VALUE) : NULL;
			now = a ? *(__u32 *)((char *)a + NLA_HDRLEN) : 0;
			p = put_attr(attrs, DRVXPC_A_REG_OFFSET, &rxc, 4);
			p = put_attr(p, DRVXPC_A_REG_WIDTH, &w4, 1);
			r = call(DRVXPC_OP_REG_READ, 24, instance, attrs, p - attrs, buf, sizeof(buf), &nlerr);
			a = r ? find(r, DRVXPC_A_REG_VALUE) : NULL;
			rxc = a ? *(__u32 *)((char *)a + NLA_HDRLEN) : ~0U;
			check(now == rx && !(rxc & 0x1800),
			      "after the refusals RxBuf holds the ring and RxConfig the 8K length");
		}
		/* The buffer stays allocated: rmmod must free it (checked in dmesg). */
	}
	slow_device_alone(instance);
	fuzz(instance);
out:
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
