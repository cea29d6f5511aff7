// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "CDrvXPC.h"
#include <errno.h>
#include <stddef.h>
#include <pthread.h>

int drv_peer_creds(int fd, int *pid, unsigned int *uid, unsigned int *gid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*pid = cred.pid;
	*uid = cred.uid;
	*gid = cred.gid;
	return 0;
}

int drv_accept_cloexec(int fd)
{
	return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

int drv_set_thread_name(const char *name)
{
	return pthread_setname_np(pthread_self(), name);
}
