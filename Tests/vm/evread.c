// SPDX-License-Identifier: GPL-2.0
/*
 * evread: a small evdev reader for the guest tests (mouse-guest.sh, usb-guest.sh).
 *
 *   evread find SECONDS PATTERN...
 *       Waits up to SECONDS for an input device whose name contains one of
 *       the PATTERNs and that has an event handler (evdev loaded); prints
 *       "/dev/input/eventN NAME". The node is made with mknod from
 *       /sys/class/input/eventN/dev when devtmpfs has not made it (busybox,
 *       no udev).
 *
 *   evread read DEV N SECONDS [READY [PROGRESS]]
 *       Reads struct input_event from DEV and checks every report (the
 *       events up to a SYN_REPORT) against the sequence the host sends
 *       through QEMU's monitor, move i = 0, 1, ... N-1:
 *           mouse_move dx(i) dy(i) dz(i)
 *           dx(i) = i % 50 + 1            (never 0: every report has REL_X)
 *           dy(i) = i % 7 - 3
 *           dz(i) = i % 3 == 2 ? -1 : 1
 *       QEMU's PS/2 mouse turns a monitor dy into -dy in the packet and
 *       psmouse reports REL_Y = -packet dy: REL_Y = dy(i). QEMU's monitor
 *       takes only dz's sign: dz > 0 is a WHEEL_UP press, which the PS/2
 *       mouse counts as packet dz = -1; psmouse reports REL_WHEEL = -packet
 *       dz (IMPS: -(s8)byte3; ImExPS: (b3 & 8) - (b3 & 7)): REL_WHEEL =
 *       sign(dz(i)). A report whose REL_X is not the next dx is a gap (a
 *       lost, merged, repeated or reordered report); the reader then finds
 *       its place again by the report's dx and dy (the pair repeats every
 *       350 moves): ahead after lost reports, behind after a repeat, or
 *       where it was after a report not in the sequence (merged, garbled).
 *       Ends when N reports have been read (and 1 s more found no extra
 *       one), when SECONDS have passed, when no event came for 10 s after
 *       the first one, or on SIGTERM/SIGINT. READY, if given, is created
 *       once DEV is open; PROGRESS, if given, holds the number of reports
 *       read so far (rewritten at each one). Prints:
 *
 *   == events: packets P relx SUMX rely SUMY wheel SUMW syn S gaps G \
 *      (matched M of N, ybad Y, wheelbad W, keys K, dropped D, first F)
 *
 *       P reports carrying motion, S SYN_REPORTs in all, M reports that
 *       were the next of the sequence, Y / W reports whose REL_Y / REL_WHEEL
 *       were not the expected ones, K key (button) events, D SYN_DROPPED
 *       (the client's buffer overflowed), F the first report's REL_X.
 *       Moves missing at the end count as one gap more. Exit 0 when every
 *       move arrived once, in order, with its dy and wheel; 1 otherwise.
 *
 *   evread tablet DEV N SECONDS [READY [PROGRESS]]
 *       The same for an absolute pointer (QEMU's usb-tablet, usb-guest.sh),
 *       which the host drives with QMP's input-send-event (QEMU routes a
 *       monitor mouse_move, a relative motion, to the PS/2 mouse only), move
 *       i = 0, 1, ... N-1: abs x(i), abs y(i), a wheel step w(i):
 *           x(i) = 100 + 37 * (i % 800)      (ABS_X, 0..32767)
 *           y(i) = 30000 - 31 * (i % 800)    (ABS_Y)
 *           w(i) = i % 3 == 2 ? -1 : 1        (wheel-down / wheel-up)
 *       A report is placed by its position: the first move j >= the next
 *       expected one whose x and y it has. QEMU's HID queue folds moves the
 *       guest has not polled yet into one report (the position of the last,
 *       the wheel steps summed): a report at j > next is "merged" (j - next
 *       moves folded into it), not lost; the wheel sum after it must still be
 *       the sequence's up to j. A report at a position not in the sequence,
 *       or behind (a repeat), is a gap; so is a wrong wheel sum (wheelbad).
 *       PROGRESS holds the moves reached so far. Ends as read does. Prints:
 *
 *   == tablet: reports R moves M of N merged F gaps G wheel SUMW (expected EW) \
 *      (ybad Y, wheelbad W, keys K, dropped D, syn S, last X,Y)
 *
 *       Exit 0 when the last move was reached with no gap, the right y and
 *       wheel sums and no SYN_DROPPED (merged reports allowed); 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static int dx_of(long i) { return (int)(i % 50) + 1; }
static int dy_of(long i) { return (int)(i % 7) - 3; }
static int wheel_of(long i) { return i % 3 == 2 ? -1 : 1; }

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* /dev/input/eventN for /sys/class/input/eventN: made if missing. */
static int ensure_node(const char *ev, char *path, size_t len)
{
	char sys[320], dev[64];
	unsigned maj, min;
	struct stat st;

	snprintf(path, len, "/dev/input/%s", ev);
	if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
		return 0;
	snprintf(sys, sizeof(sys), "/sys/class/input/%s/dev", ev);
	if (read_line(sys, dev, sizeof(dev)) || sscanf(dev, "%u:%u", &maj, &min) != 2)
		return -1;
	mkdir("/dev/input", 0755);
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, makedev(maj, min)) && errno != EEXIST)
		return -1;
	return 0;
}

static int find(int argc, char **argv)
{
	double deadline;

	if (argc < 4) {
		fprintf(stderr, "usage: evread find SECONDS PATTERN...\n");
		return 2;
	}
	deadline = now() + atof(argv[2]);
	do {
		DIR *d = opendir("/sys/class/input");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char p[320], name[256], path[320];

			if (strncmp(e->d_name, "event", 5))
				continue;
			snprintf(p, sizeof(p), "/sys/class/input/%s/device/name", e->d_name);
			if (read_line(p, name, sizeof(name)))
				continue;
			for (int i = 3; i < argc; i++) {
				if (!strstr(name, argv[i]))
					continue;
				if (ensure_node(e->d_name, path, sizeof(path))) {
					fprintf(stderr, "evread: no node for %s: %s\n", e->d_name, strerror(errno));
					continue;
				}
				printf("%s %s\n", path, name);
				closedir(d);
				return 0;
			}
		}
		if (d)
			closedir(d);
		usleep(200000);
	} while (now() < deadline);
	fprintf(stderr, "evread: no input device named like");
	for (int i = 3; i < argc; i++)
		fprintf(stderr, " \"%s\"", argv[i]);
	fprintf(stderr, " after %s s\n", argv[2]);
	return 1;
}

/* The count, replaced whole (a reader never sees an empty file). */
static void progress(const char *path, long n)
{
	char buf[32], tmp[4096];
	int fd, len;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%ld\n", n);
	if (write(fd, buf, len) != len)
		perror("evread: progress");
	close(fd);
	rename(tmp, path);
}

/*
 * What read and tablet share: the arguments (DEV N SECONDS [READY
 * [PROGRESS]]), SIGTERM/SIGINT ending the loop, DEV opened non-blocking,
 * then READY created.  Returns the descriptor, or -1 said on stderr.
 */
static int open_events(int argc, char **argv, const char *mode,
		       const char *what, long *n, const char **prog)
{
	const char *ready;
	char name[256] = "?";
	struct sigaction sa;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: evread %s DEV N SECONDS [READY [PROGRESS]]\n", mode);
		return -1;
	}
	*n = atol(argv[3]);
	ready = argc > 5 && argv[5][0] ? argv[5] : NULL;
	*prog = argc > 6 && argv[6][0] ? argv[6] : NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = open(argv[2], O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "evread: %s: %s\n", argv[2], strerror(errno));
		return -1;
	}
	ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name);
	fprintf(stderr, "evread: reading %s (%s), %ld %s expected\n", argv[2], name, *n, what);
	progress(*prog, 0);
	if (ready)
		close(open(ready, O_WRONLY | O_CREAT, 0644));
	return fd;
}

static int readdev(int argc, char **argv)
{
	const char *prog;
	long n, expect = 0, matched = 0, packets = 0, syn = 0, gaps = 0, ybad = 0, wbad = 0;
	long keys = 0, dropped = 0, sumx = 0, sumy = 0, sumw = 0;
	int rx = 0, ry = 0, rw = 0, motion = 0, first = 0;
	double start, deadline, last = 0, done_at = 0;
	int fd;

	fd = open_events(argc, argv, "read", "moves", &n, &prog);
	if (fd < 0)
		return 2;
	start = now();
	deadline = start + atof(argv[4]);

	while (!stop) {
		struct input_event ev[64];
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double t = now();
		ssize_t r;

		if (t >= deadline)
			break;
		if (done_at && t >= done_at + 1.0)
			break;
		if (last && t >= last + 10.0)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(fd, ev, sizeof(ev));
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "evread: read: %s\n", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		last = now();
		for (size_t i = 0; i < (size_t)r / sizeof(ev[0]); i++) {
			struct input_event *e = &ev[i];

			if (e->type == EV_REL) {
				motion = 1;
				if (e->code == REL_X)
					rx += e->value;
				else if (e->code == REL_Y)
					ry += e->value;
				else if (e->code == REL_WHEEL)
					rw += e->value;
			} else if (e->type == EV_KEY) {
				keys++;
			} else if (e->type == EV_SYN && e->code == SYN_DROPPED) {
				dropped++;
			} else if (e->type == EV_SYN && e->code == SYN_REPORT) {
				syn++;
				if (!motion)
					continue;
				packets++;
				if (packets == 1)
					first = rx;
				sumx += rx;
				sumy += ry;
				sumw += rw;
				if (rx == dx_of(expect)) {
					matched++;
					if (ry != dy_of(expect))
						ybad++;
					if (rw != wheel_of(expect))
						wbad++;
					expect++;
				} else {
					/*
					 * Out of step: find the move this report is, by its dx
					 * and dy (a pair that repeats only every 350 moves),
					 * nearest first, ahead (lost reports) or behind (a
					 * repeat); none (a merged or garbled report): an extra.
					 */
					long was = expect, p = -1;

					gaps++;
					for (long k = 1; k <= 60 && p < 0; k++) {
						if (dx_of(was + k) == rx && dy_of(was + k) == ry)
							p = was + k;
						else if (k <= 10 && was - k >= 0 &&
							 dx_of(was - k) == rx && dy_of(was - k) == ry)
							p = was - k;
					}
					if (p >= 0)
						expect = p + 1;
					fprintf(stderr, "evread: report %ld: REL_X %d REL_Y %d, expected move %ld (%d %d): %s",
						packets, rx, ry, was, dx_of(was), dy_of(was),
						p < 0 ? "not in the sequence\n" : p > was ? "moves lost, now at move " : "a repeat of move ");
					if (p >= 0)
						fprintf(stderr, "%ld\n", p);
				}
				rx = ry = rw = motion = 0;
				progress(prog, packets);
				if (packets >= n && !done_at)
					done_at = now();
			}
		}
	}
	close(fd);
	/* Moves that never came at the end. */
	if (expect < n)
		gaps++;
	printf("== events: packets %ld relx %ld rely %ld wheel %ld syn %ld gaps %ld "
	       "(matched %ld of %ld, ybad %ld, wheelbad %ld, keys %ld, dropped %ld, first %d)\n",
	       packets, sumx, sumy, sumw, syn, gaps, matched, n, ybad, wbad, keys, dropped, first);
	fflush(stdout);
	return packets == n && matched == n && gaps == 0 && ybad == 0 && wbad == 0 && dropped == 0 ? 0 : 1;
}

/* The tablet's sequence (evread tablet). */
#define TABLET_PERIOD 800
static int tx_of(long i) { return 100 + 37 * (int)(i % TABLET_PERIOD); }
static int ty_of(long i) { return 30000 - 31 * (int)(i % TABLET_PERIOD); }
/* The wheel's sum over moves 0..j. */
static long wheel_sum(long j)
{
	long s = 0;

	for (long k = 0; k <= j; k++)
		s += wheel_of(k);
	return s;
}

static int tablet(int argc, char **argv)
{
	const char *prog;
	long n, expect = 0, reports = 0, merged = 0, syn = 0, gaps = 0, ybad = 0, wbad = 0;
	long keys = 0, dropped = 0, sumw = 0;
	int cx = -1, cy = -1, rw = 0, motion = 0;
	double deadline, last = 0, done_at = 0;
	int fd;

	fd = open_events(argc, argv, "tablet", "tablet moves", &n, &prog);
	if (fd < 0)
		return 2;
	deadline = now() + atof(argv[4]);

	while (!stop) {
		struct input_event ev[64];
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double t = now();
		ssize_t r;

		if (t >= deadline)
			break;
		if (done_at && t >= done_at + 1.0)
			break;
		if (last && t >= last + 10.0)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(fd, ev, sizeof(ev));
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "evread: read: %s\n", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		last = now();
		for (size_t i = 0; i < (size_t)r / sizeof(ev[0]); i++) {
			struct input_event *e = &ev[i];
			long j = -1;

			if (e->type == EV_ABS && e->code == ABS_X) {
				cx = e->value;
				motion = 1;
			} else if (e->type == EV_ABS && e->code == ABS_Y) {
				cy = e->value;
				motion = 1;
			} else if (e->type == EV_REL && e->code == REL_WHEEL) {
				rw += e->value;
				motion = 1;
			} else if (e->type == EV_KEY) {
				keys++;
			} else if (e->type == EV_SYN && e->code == SYN_DROPPED) {
				dropped++;
			}
			if (!(e->type == EV_SYN && e->code == SYN_REPORT))
				continue;
			syn++;
			if (!motion)
				continue;
			reports++;
			sumw += rw;
			/* The first move at or after the next one with this x. */
			if (cx >= 100 && (cx - 100) % 37 == 0 && (cx - 100) / 37 < TABLET_PERIOD) {
				long m = (cx - 100) / 37;

				j = expect + ((m - expect % TABLET_PERIOD) + TABLET_PERIOD) % TABLET_PERIOD;
			}
			if (j < 0 || j >= n || j - expect > 100) {
				gaps++;
				fprintf(stderr, "evread: report %ld: x %d y %d wheel %d, expected move %ld (%d %d): %s\n",
					reports, cx, cy, rw, expect, tx_of(expect), ty_of(expect),
					j < 0 ? "not in the sequence" : "behind (a repeat) or too far ahead");
			} else {
				if (cy != ty_of(j)) {
					ybad++;
					fprintf(stderr, "evread: report %ld: move %ld with y %d, not %d\n", reports, j, cy, ty_of(j));
				}
				if (j > expect)
					merged += j - expect;
				expect = j + 1;
				if (sumw != wheel_sum(j)) {
					wbad++;
					fprintf(stderr, "evread: report %ld: at move %ld the wheel sum is %ld, not %ld\n",
						reports, j, sumw, wheel_sum(j));
				}
			}
			rw = motion = 0;
			progress(prog, expect);
			if (expect >= n && !done_at)
				done_at = now();
		}
	}
	close(fd);
	if (expect < n)
		gaps++;
	printf("== tablet: reports %ld moves %ld of %ld merged %ld gaps %ld wheel %ld (expected %ld) "
	       "(ybad %ld, wheelbad %ld, keys %ld, dropped %ld, syn %ld, last %d,%d)\n",
	       reports, expect, n, merged, gaps, sumw, n > 0 ? wheel_sum(n - 1) : 0,
	       ybad, wbad, keys, dropped, syn, cx, cy);
	fflush(stdout);
	return expect == n && gaps == 0 && ybad == 0 && wbad == 0 && dropped == 0 &&
	       sumw == (n > 0 ? wheel_sum(n - 1) : 0) ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "find"))
		return find(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "read"))
		return readdev(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "tablet"))
		return tablet(argc, argv);
	fprintf(stderr, "usage: evread find SECONDS PATTERN...\n"
			"       evread read DEV N SECONDS [READY [PROGRESS]]\n"
			"       evread tablet DEV N SECONDS [READY [PROGRESS]]\n");
	return 2;
}
