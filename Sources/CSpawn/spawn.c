// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "CSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The child's fds before exec: 2 = its stderr pipe (if given), 3 = XPC
 * socket, 4 = error pipe (CLOEXEC), 5 = the executable (O_PATH, CLOEXEC),
 * or the payload a tool runs (O_PATH, kept across exec). */
#define CHILD_XPC_FD	3
#define CHILD_ERR_FD	4
#define CHILD_EXE_FD	5
#define CHILD_HIGH_FD	64

static void child_fail(int errfd, int err)
{
	int e = err;

	syscall(SYS_write, errfd, &e, sizeof(e));
	syscall(SYS_exit_group, 127);
}

/* The parent's side of the error pipe (closed here): 0 on EOF, the exec
 * worked; else the errno the child wrote before it exited. */
static int exec_result(int rfd)
{
	ssize_t n;
	int err = 0;

	do {
		n = read(rfd, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(rfd);
	return n == sizeof(err) ? (err ? err : EIO) : 0;
}

/* Runs in the child: raw system calls only, no allocation, no locks. */
static void set_limit(int e, int resource, uint64_t v)
{
	struct rlimit rl = { .rlim_cur = v, .rlim_max = v };

	if (syscall(SYS_prlimit64, 0, resource, &rl, NULL) < 0)
		child_fail(e, errno);
}

static void child_exec(const char *path, int exe_fd, int exe_is_payload,
		       char *const argv[], char *const envp[], int xpc_fd,
		       int stderr_fd, int errfd, pid_t parent,
		       int die_with_parent, const struct drv_sandbox *sb)
{
	sigset_t none;
	long r;
	int x, e, o, xf, net, nul = -1;

	/* Lift the fds above 3..5 first, so the moves below cannot clobber. */
	e = (int)syscall(SYS_fcntl, errfd, F_DUPFD_CLOEXEC, CHILD_HIGH_FD);
	if (e < 0)
		syscall(SYS_exit_group, 127);
	x = (int)syscall(SYS_fcntl, xpc_fd, F_DUPFD, CHILD_HIGH_FD);
	if (x < 0)
		child_fail(e, errno);
	xf = (int)syscall(SYS_fcntl, exe_fd, F_DUPFD_CLOEXEC, CHILD_HIGH_FD);
	if (xf < 0)
		child_fail(e, errno);
	/* The network namespace to join: a daemon restarted by systemd got
	 * it back among its low fds, which the moves below overwrite. */
	net = -1;
	if (sb && sb->net_fd >= 0) {
		net = (int)syscall(SYS_fcntl, sb->net_fd, F_DUPFD_CLOEXEC, CHILD_HIGH_FD);
		if (net < 0)
			child_fail(e, errno);
	}
	o = -1;
	if (stderr_fd >= 0) {
		o = (int)syscall(SYS_fcntl, stderr_fd, F_DUPFD, CHILD_HIGH_FD);
		if (o < 0)
			child_fail(e, errno);
	}
	if (sb && sb->null_fd >= 0) {
		nul = (int)syscall(SYS_fcntl, sb->null_fd, F_DUPFD, CHILD_HIGH_FD);
		if (nul < 0)
			child_fail(e, errno);
		for (int i = 0; i < 2; i++)
			if (syscall(SYS_dup3, nul, i, 0) < 0)
				child_fail(e, errno);
	}
	if (o >= 0 && syscall(SYS_dup3, o, 2, 0) < 0)
		child_fail(e, errno);
	if (syscall(SYS_dup3, x, CHILD_XPC_FD, 0) < 0)
		child_fail(e, errno);
	if (syscall(SYS_dup3, xf, CHILD_EXE_FD,
		    exe_is_payload ? 0 : O_CLOEXEC) < 0)
		child_fail(e, errno);
	if (syscall(SYS_dup3, e, CHILD_ERR_FD, O_CLOEXEC) < 0)
		child_fail(e, errno);
	e = CHILD_ERR_FD;
	/* The u-drivers' shared network namespace, joined while its fd is
	 * still open and the daemon's rights are ours. */
	if (net >= 0 && syscall(SYS_setns, net, CLONE_NEWNET) < 0)
		child_fail(e, errno);
	r = syscall(SYS_close_range, CHILD_EXE_FD + 1, ~0U, 0);
	if (r < 0)
		child_fail(e, errno);

	/* Own session: a terminal's ^C or a process-group kill aimed at the
	 * daemon does not reach the u-drivers; the daemon stops them itself. */
	if (syscall(SYS_setsid) < 0)
		child_fail(e, errno);

	if (sb) {
		if (sb->as_limit)
			set_limit(e, RLIMIT_AS, sb->as_limit);
		if (sb->nofile)
			set_limit(e, RLIMIT_NOFILE, sb->nofile);
		set_limit(e, RLIMIT_CORE, 0);
		if (!sb->files_writable)
			set_limit(e, RLIMIT_FSIZE, 0);
		if (sb->drop_user) {
			/* All capabilities go with uid 0 (no SECBIT_KEEP_CAPS). */
			if (syscall(SYS_setgroups, 0, NULL) < 0 ||
			    syscall(SYS_setresgid, sb->gid, sb->gid, sb->gid) < 0 ||
			    syscall(SYS_setresuid, sb->uid, sb->uid, sb->uid) < 0)
				child_fail(e, errno);
		}
	}

	/* Die with the parent thread; and if it is already gone, now.  After
	 * the credential change, which clears the setting.  In a new PID
	 * namespace the parent is outside it and getppid() reads 0.  A child
	 * meant to outlive the daemon (its channel kept in systemd's fd store)
	 * skips this: it ends on EOF when the last holder of the channel
	 * closes it instead. */
	if (die_with_parent) {
		if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			child_fail(e, errno);
		r = syscall(SYS_getppid);
		if (r != parent &&
		    !(sb && (sb->ns_flags & CLONE_NEWPID) && r == 0))
			syscall(SYS_exit_group, 127);
	}

	if (sb && sb->bpf) {
		struct sock_fprog prog = {
			.len = (unsigned short)(sb->bpf_len / sizeof(struct sock_filter)),
			.filter = (struct sock_filter *)sb->bpf,
		};

		if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			child_fail(e, errno);
		if (syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
			child_fail(e, errno);
	}

	sigemptyset(&none);
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
		    _NSIG / 8) < 0)
		child_fail(e, errno);

	syscall(SYS_execve, path, argv, envp);
	/* A directory on the way the dropped uid cannot search (a checkout in
	 * a 0700 home): run the file the daemon opened as root.  Not first,
	 * since the kernel then names the process after "/dev/fd/5" (the
	 * runtime sets its name back from argv[0]). */
	if (errno == EACCES && !exe_is_payload)
		syscall(SYS_execveat, CHILD_EXE_FD, "", argv, envp, AT_EMPTY_PATH);
	child_fail(e, errno);
}

/* What child_start() hands to child_exec(): the child runs on its own
 * stack in the daemon's memory (CLONE_VM), so it reads these in place. */
struct spawn_child {
	const char *path;
	int exe_fd, exe_is_payload;
	char *const *argv, *const *envp;
	int xpc_fd, stderr_fd, errfd;
	pid_t parent;
	int die_with_parent;
	const struct drv_sandbox *sb;
};

/* The child's first steps, in the daemon's memory until execve: every
 * handler the daemon installed goes back to SIG_DFL (an ignored signal
 * stays ignored), as CLONE_CLEAR_SIGHAND did and glibc's posix_spawn
 * does, so that a signal let through just before execve cannot run the
 * daemon's handler on this stack.  Only the handler, the first word of
 * the kernel's struct sigaction on every architecture, is read. */
static int child_start(void *arg)
{
	const struct spawn_child *c = arg;
	unsigned long cur[8], dfl[8];

	memset(dfl, 0, sizeof(dfl));
	for (int sig = 1; sig < _NSIG; sig++) {
		memset(cur, 0, sizeof(cur));
		if (syscall(SYS_rt_sigaction, sig, NULL, cur, _NSIG / 8) < 0)
			continue;
		if (cur[0] != (unsigned long)SIG_DFL &&
		    cur[0] != (unsigned long)SIG_IGN)
			syscall(SYS_rt_sigaction, sig, dfl, NULL, _NSIG / 8);
	}
	child_exec(c->path, c->exe_fd, c->exe_is_payload, c->argv, c->envp,
		   c->xpc_fd, c->stderr_fd, c->errfd, c->parent,
		   c->die_with_parent, c->sb);
	return 127;
}

/* The child's stack: enough for child_exec's raw system calls. */
#define CHILD_STACK_SIZE	(64 * 1024)

/* The u-driver is started as posix_spawn starts a program: CLONE_VM and
 * CLONE_VFORK, the child on a stack of its own until execve, so nothing
 * of the daemon's memory is copied.  A fork (clone without CLONE_VM)
 * copied the page tables of the whole daemon at every start, a cost that
 * grew with the daemon's memory over a long fault campaign.  posix_spawn
 * itself cannot be used: the child enters namespaces, drops its user,
 * sets limits and installs its seccomp filter between the clone and the
 * exec, and reports a failed step through the error pipe. */
int drv_spawn(const char *path, const char *payload, char *const argv[],
	      char *const envp[], int xpc_fd, int stderr_fd,
	      const struct drv_sandbox *sb, int die_with_parent, pid_t *pid,
	      int *pidfd)
{
	struct spawn_child c;
	sigset_t all, old;
	int pipefd[2];
	int child_pidfd = -1;
	pid_t parent = getpid();
	long child;
	int err = 0, exe_fd;
	void *stack;

	/* Opened here, with the daemon's rights: see child_exec(). */
	exe_fd = open(payload ? payload : path, O_PATH | O_CLOEXEC);
	if (exe_fd < 0)
		return -errno;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		err = -errno;
		close(exe_fd);
		return err;
	}

	stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		err = -errno;
		close(exe_fd);
		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	c = (struct spawn_child){
		.path = path, .exe_fd = exe_fd, .exe_is_payload = payload != NULL,
		.argv = argv, .envp = envp, .xpc_fd = xpc_fd,
		.stderr_fd = stderr_fd, .errfd = pipefd[1], .parent = parent,
		.die_with_parent = die_with_parent, .sb = sb,
	};

	/* Every signal blocked from here to the child's execve: none can
	 * run a handler of the daemon's on the child's stack. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	child = clone(child_start, (char *)stack + CHILD_STACK_SIZE,
		      CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD |
		      (int)(sb ? sb->ns_flags : 0), &c, &child_pidfd);
	if (child < 0)
		err = -errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* CLONE_VFORK: the child has exec'd or exited; its stack is free. */
	munmap(stack, CHILD_STACK_SIZE);
	close(exe_fd);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return err;
	}

	err = exec_result(pipefd[0]);
	if (err) {
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

int drv_pidfd_open(pid_t pid)
{
	/* pidfds are always close-on-exec. */
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

int drv_pidfd_ended(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n > 0 && (p.revents & (POLLIN | POLLHUP)) ? 1 : 0;
}

int drv_epoll_create(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	return ep < 0 ? -errno : ep;
}

int drv_epoll_add(int ep, int fd)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP,
		.data.u64 = (unsigned int)fd,
	};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int drv_epoll_del(int ep, int fd)
{
	return epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int drv_epoll_wait(int ep, int *fds, int max)
{
	unsigned long long tokens[64];
	unsigned int events[64];
	int n = drv_epoll_wait_tokens(ep, tokens, events, max);

	/* drv_epoll_add keys each fd by itself as a token. */
	for (int i = 0; i < n; i++)
		fds[i] = (int)tokens[i];
	return n;
}

int drv_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

/* Runs in the forked child: raw system calls only. */
static void tool_exec(const char *path, char *const argv[], int stdio_fd,
		      int stderr_fd, uid_t uid, gid_t gid, int errfd)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct caps[2];
	unsigned int bit = CAP_SYS_PTRACE;
	sigset_t none;
	struct sigaction dfl;
	int e;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < _NSIG; sig++)
		syscall(SYS_rt_sigaction, sig, &dfl, NULL, _NSIG / 8);
	e = (int)syscall(SYS_fcntl, errfd, F_DUPFD_CLOEXEC, CHILD_HIGH_FD);
	if (e < 0 ||
	    syscall(SYS_dup3, stdio_fd, 0, 0) < 0 ||
	    syscall(SYS_dup3, stdio_fd, 1, 0) < 0 ||
	    syscall(SYS_dup3, stderr_fd, 2, 0) < 0)
		syscall(SYS_exit_group, 127);
	if (syscall(SYS_dup3, e, CHILD_HIGH_FD - 1, O_CLOEXEC) < 0)
		child_fail(e, errno);
	e = CHILD_HIGH_FD - 1;
	if (syscall(SYS_close_range, 3, CHILD_HIGH_FD - 2, 0) < 0 ||
	    syscall(SYS_close_range, CHILD_HIGH_FD, ~0U, 0) < 0)
		child_fail(e, errno);
	if (syscall(SYS_setsid) < 0)
		child_fail(e, errno);
	/* The target's uid (its /proc files are its own) and CAP_SYS_PTRACE
	 * alone, kept across exec as an ambient capability. */
	if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_setgroups, 0, NULL) < 0 ||
	    syscall(SYS_setresgid, gid, gid, gid) < 0 ||
	    syscall(SYS_setresuid, uid, uid, uid) < 0)
		child_fail(e, errno);
	memset(caps, 0, sizeof(caps));
	caps[bit / 32].effective = 1U << (bit % 32);
	caps[bit / 32].permitted = 1U << (bit % 32);
	caps[bit / 32].inheritable = 1U << (bit % 32);
	if (syscall(SYS_capset, &hdr, caps) < 0 ||
	    syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
		    CAP_SYS_PTRACE, 0, 0) < 0)
		child_fail(e, errno);
	sigemptyset(&none);
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
		    _NSIG / 8) < 0)
		child_fail(e, errno);
	syscall(SYS_execve, path, argv, environ);
	child_fail(e, errno);
}

int drv_spawn_tool(const char *path, char *const argv[], int stdio_fd,
		   int stderr_fd, uid_t uid, gid_t gid, pid_t *pid)
{
	sigset_t all, old;
	int pipefd[2];
	pid_t child;
	int err = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	child = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (child == 0)
		tool_exec(path, argv, stdio_fd, stderr_fd, uid, gid,
			  pipefd[1]);
	if (child < 0)
		err = -errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return err;
	}
	err = exec_result(pipefd[0]);
	if (err) {
		int status;

		waitpid(child, &status, 0);
		return -err;
	}
	*pid = child;
	return 0;
}

int drv_wait_pid(pid_t pid, int *status)
{
	pid_t r;

	do {
		r = waitpid(pid, status, 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int drv_epoll_add_token(int ep, int fd, unsigned long long token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = token };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int drv_epoll_wait_tokens(int ep, unsigned long long *tokens, unsigned int *events, int max)
{
	struct epoll_event ev[64];
	int n;

	if (max > 64)
		max = 64;
	n = epoll_wait(ep, ev, max, -1);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		tokens[i] = ev[i].data.u64;
		events[i] = ev[i].events;
	}
	return n;
}

static void *make_netns(void *arg)
{
	int *fd = arg;

	/* This thread's alone: the process's others keep theirs. */
	if (unshare(CLONE_NEWNET) < 0) {
		*fd = -errno;
		return NULL;
	}
	*fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		*fd = -errno;
	return NULL;
}

int drv_isolated_netns(void)
{
	pthread_t t;
	int fd = -EINVAL, r;

	r = pthread_create(&t, NULL, make_netns, &fd);
	if (r)
		return -r;
	pthread_join(t, NULL);
	return fd;
}
