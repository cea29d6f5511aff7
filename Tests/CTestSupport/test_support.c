// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "CTestSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int drv_test_recv_fds(int sock, void *buf, int len, int *fds, int max_fds,
		      int *n_fds)
{
	char control[CMSG_SPACE(sizeof(int) * 16)];
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *c;
	ssize_t n;

	*n_fds = 0;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		int k, count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < count; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (*n_fds < max_fds)
				fds[(*n_fds)++] = fd;
			else
				close(fd);
		}
	}
	return (int)n;
}

/* Decimal into @out (async-signal-safe); returns the end. */
static char *put_decimal(char *out, long v)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		*out++ = tmp[--i];
	*out = 0;
	return out;
}

pid_t drv_test_spawn_listen(const char *path, char *const argv[],
			    char *const envp[], const int *fds, int n_fds,
			    int log_fd)
{
	/* Everything the child needs is prepared before fork. */
	int n_env = 0, i;
	char **env;
	char listen_pid[32] = "LISTEN_PID=";
	pid_t pid;

	while (envp[n_env])
		n_env++;
	env = calloc((size_t)n_env + 2, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (i = 0; i < n_env; i++)
		env[i] = envp[i];
	env[n_env] = listen_pid;

	pid = fork();
	if (pid < 0) {
		int e = errno;

		free(env);
		return -e;
	}
	if (pid == 0) {
		int high[64];

		if (n_fds > 64)
			_exit(126);
		put_decimal(listen_pid + strlen("LISTEN_PID="),
			    (long)syscall(SYS_getpid));
		if (dup2(log_fd, 1) != 1 || dup2(log_fd, 2) != 2)
			_exit(126);
		/* Out of the way first, then into place: fds may overlap 3.. */
		for (i = 0; i < n_fds; i++) {
			high[i] = fcntl(fds[i], F_DUPFD, 3 + n_fds);
			if (high[i] < 0)
				_exit(126);
		}
		for (i = 0; i < n_fds; i++)
			if (dup2(high[i], 3 + i) != 3 + i)
				_exit(126);
		for (i = 3 + n_fds; i < 4096; i++)
			close(i);
		execve(path, argv, env);
		_exit(127);
	}
	free(env);
	return pid;
}
