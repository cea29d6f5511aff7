// SPDX-License-Identifier: GPL-2.0
/*
 * fdstore - systemd's part for drivermgrd --fd-store where there is no
 * systemd (the busybox guest, drvcampaign's daemon kills on nucleus-sim):
 * Restart=always with a file-descriptor store.
 *
 *   fdstore NOTIFY_PATH PIDFILE PROGRAM ARGS...
 *
 * Binds NOTIFY_PATH as the NOTIFY_SOCKET and runs PROGRAM.  FDSTORE=1
 * keeps the descriptor passed along under FDNAME=, FDSTOREREMOVE=1 drops
 * that name, and a stored socket or pidfd that hangs up is dropped (as
 * systemd does).  When PROGRAM dies of a signal it is started again after
 * 200 ms with the stored descriptors at 3.. and LISTEN_FDS, LISTEN_FDNAMES
 * and LISTEN_PID set; when it exits, fdstore exits with its status.
 * SIGTERM is passed on to PROGRAM (and it is not restarted).  fdstore is
 * a child subreaper, as PID 1 would be, so orphaned u-drivers are reaped.
 * PIDFILE holds PROGRAM's current pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* FileDescriptorStoreMax= of units/drivermgrd.service */
#define MAX_STORED 1280

static struct {
	char name[256];
	int fd;
} store[MAX_STORED];
static int n_store;
static volatile sig_atomic_t term;

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static void drop(int i)
{
	close(store[i].fd);
	store[i] = store[--n_store];
}

static void notification(int sock)
{
	char buf[4096], ctl[CMSG_SPACE(sizeof(int) * 16)];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	int fds[16], n_fds = 0, i, storing, removing;
	char name[256] = "stored", *p;
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0)
		return;
	buf[n] = 0;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (i = 0; i < (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)) && n_fds < 16; i++)
				memcpy(&fds[n_fds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	storing = strstr(buf, "FDSTORE=1") != NULL;
	removing = strstr(buf, "FDSTOREREMOVE=1") != NULL;
	p = strstr(buf, "FDNAME=");
	if (p) {
		p += 7;
		for (i = 0; i < 255 && p[i] && p[i] != '\n'; i++)
			name[i] = p[i];
		name[i] = 0;
	}
	if (removing)
		for (i = n_store - 1; i >= 0; i--)
			if (!strcmp(store[i].name, name))
				drop(i);
	for (i = 0; i < n_fds; i++) {
		if (storing && !removing && n_store < MAX_STORED) {
			strcpy(store[n_store].name, name);
			store[n_store++].fd = fds[i];
		} else {
			close(fds[i]);
		}
	}
}

/* systemd drops a stored descriptor that hangs up (a u-driver that died). */
static void drop_hung_up(void)
{
	struct pollfd p;
	int i;

	for (i = n_store - 1; i >= 0; i--) {
		p.fd = store[i].fd;
		p.events = 0;
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
			drop(i);
	}
}

static char names_env[MAX_STORED * 257 + 32];

static pid_t start(char **argv, const char *notify, const char *pidfile)
{
	char fds_env[32], pid_env[32];
	pid_t pid;
	FILE *f;
	int i;

	snprintf(fds_env, sizeof(fds_env), "%d", n_store);
	names_env[0] = 0;
	for (i = 0; i < n_store; i++) {
		if (i)
			strcat(names_env, ":");
		strcat(names_env, store[i].name);
	}
	pid = fork();
	if (pid == 0) {
		int high[MAX_STORED];

		for (i = 0; i < n_store; i++)
			high[i] = fcntl(store[i].fd, F_DUPFD, 3 + n_store);
		for (i = 0; i < n_store; i++)
			dup2(high[i], 3 + i);
		close_range(3 + n_store, ~0U, 0);
		snprintf(pid_env, sizeof(pid_env), "%d", getpid());
		setenv("NOTIFY_SOCKET", notify, 1);
		if (n_store) {
			setenv("LISTEN_FDS", fds_env, 1);
			setenv("LISTEN_FDNAMES", names_env, 1);
			setenv("LISTEN_PID", pid_env, 1);
		}
		signal(SIGTERM, SIG_DFL);
		execv(argv[0], argv);
		_exit(127);
	}
	f = fopen(pidfile, "w");
	if (f) {
		fprintf(f, "%d\n", pid);
		fclose(f);
	}
	fprintf(stderr, "fdstore: started %s as %d with %d stored fds\n", argv[0], pid, n_store);
	return pid;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	pid_t main_pid;
	int sock;

	if (argc < 4) {
		fprintf(stderr, "usage: fdstore NOTIFY_PATH PIDFILE PROGRAM ARGS...\n");
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGTERM, on_term);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strncpy(addr.sun_path, argv[1], sizeof(addr.sun_path) - 1);
	unlink(argv[1]);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("fdstore: notify socket");
		return 1;
	}
	main_pid = start(argv + 3, argv[1], argv[2]);
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int status;
		pid_t w;

		if (poll(&p, 1, 100) > 0)
			notification(sock);
		if (term && main_pid > 0) {
			kill(main_pid, SIGTERM);
			term = 0;
			main_pid = -main_pid;	/* stopping: no restart */
		}
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w == main_pid && WIFSIGNALED(status)) {
				fprintf(stderr, "fdstore: %d died of signal %d; restarting\n",
					w, WTERMSIG(status));
				while (poll(&p, 1, 0) > 0)
					notification(sock);
				drop_hung_up();
				usleep(200000);
				main_pid = start(argv + 3, argv[1], argv[2]);
			} else if (w == main_pid || w == -main_pid) {
				return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
			}
		}
	}
}
