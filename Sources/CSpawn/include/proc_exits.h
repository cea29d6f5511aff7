/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit statuses of processes that are not our children, from the kernel's
 * process-events connector (cn_proc): how drivermgrd learns how a u-driver
 * it adopted from a previous daemon ended (its parent is now PID 1).
 * Needs CAP_NET_ADMIN in the initial user and network namespaces.
 */
#ifndef PROC_EXITS_H
#define PROC_EXITS_H
#include <sys/types.h>

/* One process (thread-group leader) that ended. */
struct drv_proc_exit {
	pid_t pid;
	/* A wait status: (code << 8) for an exit, the signal (| 0x80 when
	 * core dumped) for a kill. */
	unsigned int status;
};

/* Opens the connector socket and subscribes: the fd, or -errno. */
int drv_proc_exits_open(void);

/* Blocks until the next message; fills up to `max` exits of thread-group
 * leaders from it and returns how many (0 for other events), or -errno. */
int drv_proc_exits_read(int fd, struct drv_proc_exit *out, int max);

#endif
