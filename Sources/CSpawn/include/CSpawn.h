/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spawning a u-driver from the multithreaded daemon.
 *
 * drv_spawn() uses clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD), as
 * posix_spawn does, with every signal blocked around it; the child runs on
 * a stack of its own, resets the daemon's signal handlers to SIG_DFL and
 * does only raw system calls: it moves the XPC socket to fd 3 (/dev/null to 0-1, the daemon's
 * pipe for the u-driver's own stderr to 2), closes every
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
	uint64_t ns_flags;		/* CLONE_NEW* for the clone */
	int net_fd;			/* a network namespace to join (setns); -1 = none */
	uint64_t as_limit;		/* RLIMIT_AS in bytes, 0 = unchanged */
	uint64_t nofile;		/* RLIMIT_NOFILE, 0 = unchanged */
	int null_fd;			/* put on fds 0 and 1; -1 = keep */
	int files_writable;		/* 0: RLIMIT_FSIZE 0 (no file grows) */
};

/*
 * Start @path with @argv and @envp (NULL-terminated), the socket @xpc_fd as
 * its fd 3, @stderr_fd as its fd 2 (-1 = the caller's stderr), confined by
 * @sb (NULL = not at all).  With @die_with_parent the
 * child gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG); without
 * it, it outlives the daemon.  On success returns 0 and
 * fills @pid and @pidfd (close-on-exec); on failure returns -errno (exec
 * and sandbox errors included).  With @payload (NULL = none), @path is a
 * tool that runs the payload: the payload is opened here, with the
 * caller's rights, and left open on fd DRV_PAYLOAD_FD across exec, so the
 * tool reaches it as /proc/self/fd/5 even where the dropped user cannot
 * search the payload's directory.
 */
#define DRV_PAYLOAD_FD 5

/*
 * A new, empty network namespace (loopback only, down), made on a thread
 * of its own that ends after it: a file descriptor of it (close-on-exec),
 * or -errno.  Making a network namespace takes the RTNL (the loopback
 * device's registration); joining one with setns() does not.
 */
int drv_isolated_netns(void);
int drv_spawn(const char *path, const char *payload, char *const argv[],
	      char *const envp[], int xpc_fd, int stderr_fd,
	      const struct drv_sandbox *sb, int die_with_parent, pid_t *pid,
	      int *pidfd);

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

/*
 * epoll for the reader of the u-drivers' stderr pipes (glibc's sys/epoll.h
 * does not reach Swift): a set, readable-or-hung-up interest keyed by fd,
 * and a wait that returns the ready fds.  -errno on failure.
 */
int drv_epoll_create(void);
int drv_epoll_add(int ep, int fd);
int drv_epoll_del(int ep, int fd);
int drv_epoll_wait(int ep, int *fds, int max);

/* A close-on-exec pipe (pipe2 is _GNU_SOURCE only): 0 or -errno. */
int drv_pipe(int fds[2]);

static const int drv_cld_exited = CLD_EXITED;
static const int drv_cld_killed = CLD_KILLED;
static const int drv_cld_dumped = CLD_DUMPED;

#include "proc_exits.h"

/*
 * Start a tool (gdbserver) outside the sandbox, to attach to a u-driver that
 * runs as @uid/@gid: as that user, with CAP_SYS_PTRACE alone (ambient, so
 * it survives exec) — the u-driver's /proc files are its own, so no
 * CAP_DAC_OVERRIDE is needed.  @stdio_fd is its fds 0 and 1, @stderr_fd 2,
 * nothing else open, no signal blocked, default handlers, a session of its
 * own.  Returns 0 and fills @pid, or -errno (exec errors included).
 */
int drv_spawn_tool(const char *path, char *const argv[], int stdio_fd,
		   int stderr_fd, uid_t uid, gid_t gid, pid_t *pid);

/* waitpid(@pid) until it ends; 0 and the status, or -errno. */
int drv_wait_pid(pid_t pid, int *status);

/*
 * The same by token, for ReadinessWatcher (a handler per registration, so
 * a token rather than an fd number that may be reused): interest in
 * readable, and the wait storing tokens[i] and events[i].
 */
int drv_epoll_add_token(int ep, int fd, unsigned long long token);
int drv_epoll_wait_tokens(int ep, unsigned long long *tokens, unsigned int *events, int max);

#endif
