/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The misdeeds a u-driver runtime acts out when drivermgrd asks for them
 * (INJECT, `drvctl inject`): the fault campaign's kinds that need C.
 */
#ifndef RUNTIME_FAULTS_H
#define RUNTIME_FAULTS_H

/*
 * Allocates and touches memory in 16 MiB steps until an allocation fails,
 * then aborts, as an allocator failure in the Swift runtime would. An
 * unconfined u-driver (no seccomp filter) without an address-space limit
 * first sets one of 1 GiB, so an injected fault cannot exhaust the host.
 * Does not return.
 */
void udrv_fault_memory(void) __attribute__((noreturn));

/* socket(AF_INET, SOCK_STREAM): returns what the call returned or -errno. */
long udrv_fault_syscall(void);

/*
 * Creates processes in a loop, at most 64, each of which exits at once;
 * returns how many were created (the sandbox stops the first).
 */
int udrv_fault_fork_bomb(void);

#endif
