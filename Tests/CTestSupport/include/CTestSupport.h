/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the integration tests need to stand in for systemd's file-descriptor
 * store: receive FDSTORE=1 notifications with their descriptors, and start
 * a process with descriptors at 3.. and LISTEN_PID set to its own pid (as
 * systemd passes stored descriptors back).
 */
#ifndef CTESTSUPPORT_H
#define CTESTSUPPORT_H

#include <sys/types.h>

/*
 * Receive one datagram from @sock into @buf (at most @len bytes) with up
 * to @max_fds descriptors passed along (SCM_RIGHTS, made close-on-exec).
 * Returns the byte count (and *n_fds), or -errno.
 */
int drv_test_recv_fds(int sock, void *buf, int len, int *fds, int max_fds,
		      int *n_fds);

/*
 * Start @path with @argv and @envp (NULL-terminated) and the @n_fds
 * descriptors @fds as its fds 3, 4, ...; the environment also gets
 * LISTEN_PID=<the child's pid>.  stdout and stderr go to @log_fd.
 * Returns the pid or -errno.
 */
pid_t drv_test_spawn_listen(const char *path, char *const argv[],
			    char *const envp[], const int *fds, int n_fds,
			    int log_fd);

#endif
