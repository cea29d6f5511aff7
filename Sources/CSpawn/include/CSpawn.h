/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spawning a u-driver from the multithreaded daemon.
 *
 * drv_spawn() uses clone3(CLONE_PIDFD | CLONE_CLEAR_SIGHAND) with every
 * signal blocked around it; the child does only async-signal-safe system
 * calls: it moves the XPC socket to fd 3, closes every other fd, starts its
 * own session, asks for SIGKILL when its parent thread dies, unblocks
 * signals and execs.  An
 * exec failure comes back over a close-on-exec pipe (EOF = exec worked).
 */
#ifndef CSPAWN_H
#define CSPAWN_H

#include <sys/types.h>
#include <signal.h>

/*
 * Start @path with @argv and @envp (NULL-terminated), the socket @xpc_fd as
 * its fd 3 and nothing else open.  On success returns 0 and fills @pid and
 * @pidfd (close-on-exec); on failure returns -errno (exec errors included).
 */
int drv_spawn(const char *path, char *const argv[], char *const envp[],
	      int xpc_fd, pid_t *pid, int *pidfd);

/*
 * Reap the child behind @pidfd without blocking.  Returns 1 and fills
 * @code (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and @status (exit status or
 * signal number) once it has ended, 0 if it still runs, -errno on error.
 */
int drv_reap(int pidfd, int *code, int *status);

/* Send @sig through @pidfd: 0 or -errno. */
int drv_pidfd_signal(int pidfd, int sig);

static const int drv_cld_exited = CLD_EXITED;
static const int drv_cld_killed = CLD_KILLED;
static const int drv_cld_dumped = CLD_DUMPED;

#endif
