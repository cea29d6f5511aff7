// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "CSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The child's fds before exec: 3 = XPC socket, 4 = error pipe (CLOEXEC). */
#define CHILD_XPC_FD	3
#define CHILD_ERR_FD	4
#define CHILD_HIGH_FD	64

static void child_fail(int errfd, int err)
{
	int e = err;

	syscall(SYS_write, errfd, &e, sizeof(e));
	syscall(SYS_exit_group, 127);
}

/* Runs in the child: raw system calls only, no allocation, no locks. */
static void child_exec(const char *path, char *const argv[],
		       char *const envp[], int xpc_fd, int errfd,
		       pid_t parent)
{
	sigset_t none;
	long r;
	int x, e;

	/* Lift both fds above 3/4 first, so the moves below cannot clobber. */
	e = (int)syscall(SYS_fcntl, errfd, F_DUPFD_CLOEXEC, CHILD_HIGH_FD);
	if (e < 0)
		syscall(SYS_exit_group, 127);
	x = (int)syscall(SYS_fcntl, xpc_fd, F_DUPFD, CHILD_HIGH_FD);
	if (x < 0)
		child_fail(e, errno);
	if (syscall(SYS_dup3, x, CHILD_XPC_FD, 0) < 0)
		child_fail(e, errno);
	if (syscall(SYS_dup3, e, CHILD_ERR_FD, O_CLOEXEC) < 0)
		child_fail(e, errno);
	e = CHILD_ERR_FD;
	r = syscall(SYS_close_range, CHILD_ERR_FD + 1, ~0U, 0);
	if (r < 0)
		child_fail(e, errno);

	/* Own session: a terminal's ^C or a process-group kill aimed at the
	 * daemon does not reach the u-drivers; the daemon stops them itself. */
	if (syscall(SYS_setsid) < 0)
		child_fail(e, errno);

	/* Die with the parent thread; and if it is already gone, now. */
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(e, errno);
	if (syscall(SYS_getppid) != parent)
		syscall(SYS_exit_group, 127);

	sigemptyset(&none);
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
		    _NSIG / 8) < 0)
		child_fail(e, errno);

	syscall(SYS_execve, path, argv, envp);
	child_fail(e, errno);
}

int drv_spawn(const char *path, char *const argv[], char *const envp[],
	      int xpc_fd, pid_t *pid, int *pidfd)
{
	struct clone_args args;
	sigset_t all, old;
	int pipefd[2];
	int child_pidfd = -1;
	pid_t parent = getpid();
	long child;
	ssize_t n;
	int err = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
	args.pidfd = (uint64_t)(uintptr_t)&child_pidfd;
	args.exit_signal = SIGCHLD;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	child = syscall(SYS_clone3, &args, sizeof(args));
	if (child == 0)
		child_exec(path, argv, envp, xpc_fd, pipefd[1], parent);
	if (child < 0)
		err = -errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return err;
	}

	/* EOF: the exec worked.  An int: the child's errno before it exited. */
	do {
		n = read(pipefd[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(err)) {
		siginfo_t info;

		waitid((idtype_t)P_PIDFD, (id_t)child_pidfd, &info, WEXITED);
		close(child_pidfd);
		return -err;
	}
	*pid = (pid_t)child;
	*pidfd = child_pidfd;
	return 0;
}

int drv_reap(int pidfd, int *code, int *status)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) < 0)
		return -errno;
	if (info.si_pid == 0)
		return 0;
	*code = info.si_code;
	*status = info.si_status;
	return 1;
}

int drv_pidfd_signal(int pidfd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}
