/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The u-driver sandbox's seccomp pieces, over libseccomp (2.5: no in-memory
 * BPF export, so stage 1 goes through a memfd).
 *
 * Stage 1 is built by drivermgrd and installed in the child before exec:
 * an allowlist whose default is SECCOMP_RET_TRACE (with no tracer allowed,
 * a denied call fails with ENOSYS).  Stage 2 is stacked by the u-driver
 * runtime right after start-up: a narrower allowlist whose default is
 * SECCOMP_RET_USER_NOTIF, with the listener fd handed to drivermgrd, which
 * names the call and kills the process.  USER_NOTIF outranks TRACE, so every
 * call outside stage 2 reaches the daemon; a KILL default in stage 1 would
 * outrank it and the call would go unnamed.
 */
#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Stage 1: BPF for @names (allowed), default TRACE.  On success returns the
 * byte length and sets *bpf (malloc'd, caller frees); -errno on failure,
 * -EINVAL with *bad_index set when a name is unknown. */
long drv_seccomp_stage1(const char *const *names, int n, unsigned char **bpf, int *bad_index);

/* Stage 2, applied to the calling process (all threads): @names allowed;
 * clone only with CLONE_THREAD; clone3 fails with ENOSYS (glibc then uses
 * clone); kill/tgkill only towards @self; anything else USER_NOTIF.
 * Returns the listener fd or -errno. */
int drv_seccomp_stage2(const char *const *names, int n, pid_t self, int *bad_index);

/* Number of a syscall name on this architecture, or -1. */
int drv_syscall_number(const char *name);
/* Name of syscall @nr into @buf (at most @cap bytes); 0 or -ENOENT. */
int drv_syscall_name(int nr, char *buf, size_t cap);

/* Waits for a notification: 0 and the fields, or -errno. */
int drv_notify_next(int fd, uint64_t *id, pid_t *pid, int *nr, uint64_t args[6]);
/* Fails the notified call with -@err. */
int drv_notify_deny(int fd, uint64_t id, int err);
/* Completes the notified call by installing @srcfd in the caller
 * (SECCOMP_IOCTL_NOTIF_ADDFD with SEND: the call returns the new fd).
 * Returns the caller's fd number or -errno. */
int drv_notify_addfd(int fd, uint64_t id, int srcfd);
/* 0 while the notification @id is still pending (the task lives). */
int drv_notify_valid(int fd, uint64_t id);
/* Reads up to @len bytes at @addr in @pid (process_vm_readv). */
long drv_read_remote(pid_t pid, uint64_t addr, void *buf, size_t len);

/* One message with one fd attached (SCM_RIGHTS); 0 or -errno. */
int drv_send_with_fd(int sock, const void *buf, size_t len, int fd);
/* Receives one message and at most one fd (-1 if none); length or -errno. */
long drv_recv_with_fd(int sock, void *buf, size_t cap, int *fd);

#endif
