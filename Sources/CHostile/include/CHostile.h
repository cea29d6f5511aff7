/* SPDX-License-Identifier: GPL-2.0 */
/* What the test u-driver `misbehave` tries, for the sandbox tests only. */
#ifndef CHOSTILE_H
#define CHOSTILE_H
/* Each returns what the system call returned (or -errno). */
long hostile_open(const char *path, int write);
long hostile_socket(void);
long hostile_ptrace_attach(int pid);
long hostile_kill(int pid);
long hostile_fork(void);
long hostile_exec(const char *path);
#endif
