// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "CSandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int add_allow(scmp_filter_ctx ctx, const char *const *names, int n, int *bad)
{
	for (int i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr == __NR_SCMP_ERROR) {
			*bad = i;
			return -EINVAL;
		}
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0 && r != -EEXIST) {
			*bad = i;
			return r;
		}
	}
	return 0;
}

long drv_seccomp_stage1(const char *const *names, int n, unsigned char **bpf, int *bad)
{
	scmp_filter_ctx ctx;
	long r;
	int fd = -1;
	off_t len;

	*bad = -1;
	ctx = seccomp_init(SCMP_ACT_TRACE(0));
	if (!ctx)
		return -ENOMEM;
	r = add_allow(ctx, names, n, bad);
	if (r < 0)
		goto err_ctx;
	fd = memfd_create("drv-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto err_ctx;
	}
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		goto err_fd;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0) {
		r = -EIO;
		goto err_fd;
	}
	*bpf = malloc((size_t)len);
	if (!*bpf) {
		r = -ENOMEM;
		goto err_fd;
	}
	if (pread(fd, *bpf, (size_t)len, 0) != len) {
		free(*bpf);
		*bpf = NULL;
		r = -EIO;
		goto err_fd;
	}
	r = len;
err_fd:
	close(fd);
err_ctx:
	seccomp_release(ctx);
	return r;
}

int drv_seccomp_stage2(const char *const *names, int n, pid_t self, int *bad)
{
	scmp_filter_ctx ctx;
	int r;

	*bad = -1;
	ctx = seccomp_init(SCMP_ACT_NOTIFY);
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r < 0)
		goto out;
	r = add_allow(ctx, names, n, bad);
	if (r < 0)
		goto out;
	/* Threads yes, processes no: clone only with CLONE_THREAD; clone3's
	 * flags live in memory a filter cannot read, so it fails with ENOSYS
	 * and glibc falls back to clone. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (r < 0)
		goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0)
		goto out;
	/* Signals only to itself (raise, abort). */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
	if (r < 0)
		goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
	if (r < 0)
		goto out;
	r = seccomp_load(ctx);
	if (r < 0)
		goto out;
	r = seccomp_notify_fd(ctx);
out:
	seccomp_release(ctx);
	return r;
}

int drv_syscall_number(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR ? -1 : nr;
}

int drv_syscall_name(int nr, char *buf, size_t cap)
{
	char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	if (!s)
		return -ENOENT;
	strncpy(buf, s, cap - 1);
	buf[cap - 1] = 0;
	free(s);
	return 0;
}

int drv_notify_next(int fd, uint64_t *id, pid_t *pid, int *nr, uint64_t args[6])
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	/* POLLHUP without POLLIN: every task under the filter has exited. */
	do {
		r = poll(&p, 1, -1);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (!(p.revents & POLLIN))
		return -ENOENT;

	r = seccomp_notify_alloc(&req, &resp);
	if (r < 0)
		return r;
	r = seccomp_notify_receive(fd, req);
	if (r == 0) {
		*id = req->id;
		*pid = (pid_t)req->pid;
		*nr = req->data.nr;
		for (int i = 0; i < 6; i++)
			args[i] = req->data.args[i];
	}
	seccomp_notify_free(req, resp);
	return r;
}

int drv_notify_deny(int fd, uint64_t id, int err)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	int r;

	r = seccomp_notify_alloc(&req, &resp);
	if (r < 0)
		return r;
	memset(resp, 0, sizeof(*resp));
	resp->id = id;
	resp->error = -err;
	r = seccomp_notify_respond(fd, resp);
	seccomp_notify_free(req, resp);
	return r;
}

int drv_notify_addfd(int fd, uint64_t id, int srcfd)
{
	struct seccomp_notif_addfd a;
	int r;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.flags = SECCOMP_ADDFD_FLAG_SEND;
	a.srcfd = (uint32_t)srcfd;
	a.newfd_flags = O_CLOEXEC;
	r = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	return r < 0 ? -errno : r;
}

int drv_notify_valid(int fd, uint64_t id)
{
	return seccomp_notify_id_valid(fd, id);
}

long drv_read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	return n < 0 ? -errno : n;
}

int drv_send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(ctl.b, 0, sizeof(ctl.b));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

long drv_recv_with_fd(int sock, void *buf, size_t cap, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	}
	return n;
}
