// SPDX-License-Identifier: GPL-2.0
/*
 * The proc connector speaks plain netlink with a cn_msg header; libnl has
 * no helper for it (its genl and route families do not cover
 * NETLINK_CONNECTOR), so the two messages are built here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "proc_exits.h"

int drv_proc_exits_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = CN_IDX_PROC,
		.nl_pid = 0,
	};
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err_close;
	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.nl.nlmsg_pid = getpid();
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(req.op);
	req.op = PROC_CN_MCAST_LISTEN;
	if (send(fd, &req, sizeof(req), 0) < 0)
		goto err_close;
	return fd;

err_close:
	err = -errno;
	close(fd);
	return err;
}

int drv_proc_exits_read(int fd, struct drv_proc_exit *out, int max)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nl;
	ssize_t len;
	int n = 0;

	len = recv(fd, buf, sizeof(buf), 0);
	if (len < 0)
		return -errno;
	for (nl = (struct nlmsghdr *)buf; NLMSG_OK(nl, (size_t)len);
	     nl = NLMSG_NEXT(nl, len)) {
		struct cn_msg *cn = NLMSG_DATA(nl);
		struct proc_event *ev;

		if (nl->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(*ev)))
			continue;
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
			continue;
		ev = (struct proc_event *)cn->data;
		if (ev->what != PROC_EVENT_EXIT)
			continue;
		/* A thread's own end is not the process's. */
		if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
			continue;
		if (n < max) {
			out[n].pid = ev->event_data.exit.process_tgid;
			out[n].status = ev->event_data.exit.exit_code;
			n++;
		}
	}
	return n;
}
