/* SPDX-License-Identifier: GPL-2.0 */
/*
 * genl-sock.h - the raw generic-netlink socket of the guest fuzzers
 * (genl-fuzz.c, slice-fuzz.c): open one, and find drvnucleus's family id.
 *
 * Not libnl: the fuzzers write every byte of their messages themselves,
 * malformed ones included, and read the kernel's answers as bytes; the
 * static busybox guest would also need libnl linked in for two calls.
 */
#ifndef DRVMGR_TESTS_GENL_SOCK_H
#define DRVMGR_TESTS_GENL_SOCK_H

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "../../module/include/uapi/drvxpc.h"

/*
 * A bound NETLINK_GENERIC socket that waits at most timeout_s for an
 * answer, gets the extended ACKs' capped form and an 8 MiB receive buffer.
 * Exits with `who: netlink socket: ...` if there is none.
 */
static int genl_sock_open(const char *who, int timeout_s)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = timeout_s };
	int one = 1, big = 8 << 20;
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);

	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "%s: netlink socket: ", who);
		perror(NULL);
		exit(1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return s;
}

/* DRVXPC_GENL_NAME's family id from the controller, or -1. */
static int genl_family_id(int s)
{
	uint8_t buf[4096];
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(n);
	struct nlattr *a = (struct nlattr *)((uint8_t *)g + GENL_HDRLEN);
	uint8_t *p;
	int len;

	memset(buf, 0, sizeof(buf));
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + sizeof(DRVXPC_GENL_NAME);
	memcpy(a + 1, DRVXPC_GENL_NAME, sizeof(DRVXPC_GENL_NAME));
	n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(a->nla_len));
	n->nlmsg_type = GENL_ID_CTRL;
	n->nlmsg_flags = NLM_F_REQUEST;
	n->nlmsg_seq = 1;
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	if (send(s, buf, n->nlmsg_len, 0) < 0)
		return -1;
	len = recv(s, buf, sizeof(buf), 0);
	if (len <= 0 || !NLMSG_OK(n, len) || n->nlmsg_type == NLMSG_ERROR)
		return -1;
	for (p = (uint8_t *)g + GENL_HDRLEN; p + NLA_HDRLEN <= buf + n->nlmsg_len;) {
		uint16_t id;

		a = (struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN)
			break;
		if (a->nla_type == CTRL_ATTR_FAMILY_ID) {
			memcpy(&id, p + NLA_HDRLEN, 2);
			return id;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return -1;
}

/* The drvxpc header of a reply to @req, its status 0, no attributes. */
static void genl_reply_header(struct drvxpc_hdr *x, const struct drvxpc_hdr *req)
{
	x->len = sizeof(*x);
	x->op = req->op;
	x->flags = DRVXPC_F_REPLY;
	x->seq = req->seq;
	x->instance = req->instance;
	x->status = 0;
}

#endif
