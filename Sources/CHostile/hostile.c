// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "CHostile.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

long hostile_open(const char *path, int write)
{
	long r = syscall(SYS_openat, AT_FDCWD, path, write ? O_RDWR : O_RDONLY);
	return r < 0 ? -errno : r;
}

long hostile_socket(void)
{
	long r = socket(AF_INET, SOCK_STREAM, 0);
	return r < 0 ? -errno : r;
}

long hostile_ptrace_attach(int pid)
{
	long r = ptrace(PTRACE_ATTACH, pid, 0, 0);
	return r < 0 ? -errno : r;
}

long hostile_kill(int pid)
{
	long r = kill(pid, SIGKILL);
	return r < 0 ? -errno : r;
}

long hostile_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return p < 0 ? -errno : p;
}

long hostile_exec(const char *path)
{
	char *const argv[] = { (char *)path, 0 };
	long r = execve(path, argv, 0);
	return r < 0 ? -errno : r;
}
