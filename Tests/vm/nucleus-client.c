// SPDX-License-Identifier: GPL-2.0
/*
 * Runs in the QEMU guest against drvnucleus.ko: resolves the "drvnucleus"
 * generic netlink family, registers as the daemon, expects DEVICE_ADD for
 * QEMU's RTL8139C+, reads its TxConfig through a REG_READ downcall, and
 * checks that bad input is rejected with a named attribute.  Raw netlink on
 * purpose: the busybox guest has no libnl.  Prints one line per check and
 * "N passed, M failed" at the end.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../module/include/uapi/drvxpc.h"

static int passed, failed;
static int sock;
static __u16 family;

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
	n->nlmsg_flags = NLM_F_REQUEST;
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

int main(void)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	char buf[8192], attrs[256], *p;
	struct drvxpc_hdr *r;
	struct nlattr *a;
	__u32 v, instance = 0;
	__u8 w;
	int nlerr, id, i;

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
out:
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
