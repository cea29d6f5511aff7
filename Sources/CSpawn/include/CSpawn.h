/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spawning a u-driver from the multithreaded daemon.
 *
 * drv_spawn() uses clone3(CLONE_PIDFD | CLONE_CLEAR_SIGHAND) with every
 * signal blocked around it; the child does only async-signal-safe system
 * calls: it moves the XPC socket to fd 3 (and /dev/null to 0-2), closes every
 * other fd, starts its own session, sets rlimits, drops to the u-driver's
 * user, asks for SIGKILL when its parent thread dies, sets no_new_privs,
 * loads the stage 1 seccomp filter, unblocks signals and execs.  An
 * exec failure comes back over a close-on-exec pipe (EOF = exec worked).
 */
#ifndef CSPAWN_H
#define CSPAWN_H

#include <sys/types.h>
#include <signal.h>

#include <stddef.h>
#include <stdint.h>

/* What the child is confined to before exec; every field optional. */
struct drv_sandbox {
	const unsigned char *bpf;	/* stage 1 seccomp filter, NULL = none */
	size_t bpf_len;			/* bytes, a multiple of 8 */
	int drop_user;			/* become @uid/@gid, no supplementary groups */
	uid_t uid;
	gid_t gid;
	uint64_t ns_flags;		/* CLONE_NEW* for clone3 */
	uint64_t as_limit;		/* RLIMIT_AS in bytes, 0 = unchanged */
	uint64_t nofile;		/* RLIMIT_NOFILE, 0 = unchanged */
	int null_fd;			/* put on fds 0 and 1 (2 stays: the daemon's log); -1 = keep */
};

/*
 * Start @path with @argv and @envp (NULL-terminated), the socket @xpc_fd as
 * its fd 3, confined by @sb (NULL = not at all).  With @die_with_parent the
 * child gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG); without
 * it, it outlives the daemon.  On success returns 0 and
 * fills @pid and @pidfd (close-on-exec); on failure returns -errno (exec
 * and sandbox errors included).
 */
int drv_spawn(const char *path, char *const argv[], char *const envp[],
	      int xpc_fd, const struct drv_sandbox *sb, int die_with_parent,
	      pid_t *pid, int *pidfd);

/*
 * Reap the child behind @pidfd without blocking.  Returns 1 and fills
 * @code (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and @status (exit status or
 * signal number) once it has ended, 0 if it still runs, -errno on error.
 */
int drv_reap(int pidfd, int *code, int *status);

/* Send @sig through @pidfd: 0 or -errno. */
int drv_pidfd_signal(int pidfd, int sig);

/*
 * A pidfd for @pid, a process that is not our child (one a previous daemon
 * started): -errno if it is gone.  Its end shows as POLLIN on the pidfd;
 * its exit status went to its new parent and cannot be had.
 */
int drv_pidfd_open(pid_t pid);

/* Whether the process behind @pidfd has ended: 1, 0, or -errno. */
int drv_pidfd_ended(int pidfd);

static const int drv_cld_exited = CLD_EXITED;
static const int drv_cld_killed = CLD_KILLED;
static const int drv_cld_dumped = CLD_DUMPED;

#include "proc_exits.h"

#endif
