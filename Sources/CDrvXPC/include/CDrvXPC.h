/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire format as Swift sees it: the kernel's own uapi header, plus the
 * few libc constants that Swift files cannot always see on a clean build
 * (see shared/recipes/swift-system-libs.md).
 */
#ifndef CDRVXPC_H
#define CDRVXPC_H

#include "../../../module/include/uapi/drvxpc.h"
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <pthread.h>
#include <poll.h>

static const int drv_sock_seqpacket = SOCK_SEQPACKET;
static const int drv_sock_stream = SOCK_STREAM;
static const int drv_sock_cloexec = SOCK_CLOEXEC;
static const int drv_msg_nosignal = MSG_NOSIGNAL;
static const int drv_msg_dontwait = MSG_DONTWAIT;
static const int drv_msg_trunc = MSG_TRUNC;
static const int drv_efd_cloexec = EFD_CLOEXEC;
static const int drv_efd_nonblock = EFD_NONBLOCK;
static const int drv_tfd_cloexec = TFD_CLOEXEC;
static const int drv_tfd_nonblock = TFD_NONBLOCK;
static const int drv_tfd_timer_abstime = TFD_TIMER_ABSTIME;
static const short drv_pollin = POLLIN;
static const short drv_pollhup = POLLHUP;
static const short drv_pollerr = POLLERR;

/* Peer credentials of a unix socket (SO_PEERCRED); 0 or -errno. */
int drv_peer_creds(int fd, int *pid, unsigned int *uid, unsigned int *gid);

/* accept4(fd, NULL, NULL, SOCK_CLOEXEC): glibc hides accept4 without _GNU_SOURCE. */
int drv_accept_cloexec(int fd);

/* pthread_setname_np on the calling thread (hidden without _GNU_SOURCE). */
int drv_set_thread_name(const char *name);

#endif
