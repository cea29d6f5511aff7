// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "runtime_faults.h"

#define FAULT_MEMORY_STEP	(16UL << 20)
#define FAULT_MEMORY_CAP	(1UL << 30)
#define FAULT_FORK_MAX		64

void udrv_fault_memory(void)
{
	struct rlimit rl;
	char *p;

	/* Under seccomp (the sandbox) the daemon set MemoryMax= and
	 * prlimit64 is not allowed; only an unconfined u-driver needs a cap. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0 &&
	    getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY) {
		rl.rlim_cur = FAULT_MEMORY_CAP;
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			abort();
	}
	for (;;) {
		p = malloc(FAULT_MEMORY_STEP);
		if (!p)
			abort();
		memset(p, 0xa5, FAULT_MEMORY_STEP);
	}
}

long udrv_fault_syscall(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	close(fd);
	return fd;
}

int udrv_fault_fork_bomb(void)
{
	int n;
	long pid;

	for (n = 0; n < FAULT_FORK_MAX; n++) {
		/* Raw clone: no atfork handlers of the Swift runtime run in
		 * the child, which only exits. */
		pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		if (pid == 0)
			syscall(SYS_exit, 0);
		if (pid < 0)
			break;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return n;
}
