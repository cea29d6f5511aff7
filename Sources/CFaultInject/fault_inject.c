// SPDX-License-Identifier: GPL-2.0
/*
 * Code-mutation fault injection through ptrace; see fault_inject.h.
 *
 * Layout: the executable image (ELF .symtab, load bias), the ptrace
 * session over all threads (attach, stop, resume, detach, memory), the
 * instruction work (capstone), then the mutations and their undoing.
 */
#define _GNU_SOURCE
#include "fault_inject.h"

#include <capstone/capstone.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptrace.h>

/* The most symbols read from one .symtab, and the largest function
 * decoded: far above anything we build, a bound against a bad file. */
#define FI_MAX_SYMBOLS (16u << 20)
#define FI_MAX_FUNCTION (4u << 20)
/* How long a thread may take to stop after PTRACE_INTERRUPT. */
#define FI_STOP_DEADLINE_US 2000000ULL
/* Poll interval while waiting for tracee stops. */
#define FI_POLL_NS 200000L
/* How far above the stack pointer pointers are looked for (bytes). */
#define FI_STACK_SCAN 8192u

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void pause_poll(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = FI_POLL_NS };

	nanosleep(&ts, NULL);
}

uint64_t fi_random_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A value below @n (n > 0); the modulo bias is irrelevant here. */
static uint64_t random_below(uint64_t *rng, uint64_t n)
{
	return n ? fi_random_next(rng) % n : 0;
}

/* ---- /proc/PID/maps ---------------------------------------------------- */

struct fi_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	char perms[5];
	char path[PATH_MAX];
};

/* Reads /proc/@pid/maps into *@out (malloc'd); count or -errno. */
static long read_maps(pid_t pid, struct fi_map **out)
{
	char name[64], *line = NULL;
	size_t cap = 0, n = 0, alloc = 0;
	struct fi_map *maps = NULL;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		struct fi_map m = { 0 };
		unsigned long long start, end, offset;
		unsigned int major, minor;
		unsigned long long inode;
		int used = 0;
		char *path;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start,
			   &end, m.perms, &offset, &major, &minor, &inode,
			   &used) < 7)
			continue;
		m.start = start;
		m.end = end;
		m.offset = offset;
		path = line + used;
		path[strcspn(path, "\n")] = '\0';
		snprintf(m.path, sizeof(m.path), "%s", path);
		if (n == alloc) {
			size_t grow = alloc ? alloc * 2 : 64;
			struct fi_map *more = realloc(maps, grow * sizeof(*maps));

			if (!more) {
				free(maps);
				free(line);
				fclose(f);
				return -ENOMEM;
			}
			maps = more;
			alloc = grow;
		}
		maps[n++] = m;
	}
	free(line);
	fclose(f);
	*out = maps;
	return (long)n;
}

static const struct fi_map *map_containing(const struct fi_map *maps,
					   size_t n, uint64_t address)
{
	for (size_t i = 0; i < n; i++)
		if (address >= maps[i].start && address < maps[i].end)
			return &maps[i];
	return NULL;
}

/* ---- the executable image ---------------------------------------------- */

struct fi_load {
	uint64_t vaddr;
	uint64_t filesz;
	uint64_t offset;
	uint32_t flags;
};

struct fi_image {
	int fd;
	uint64_t file_size;
	uint64_t bias;
	struct fi_symbol *symbols;
	size_t nsymbols;
	char *strtab;
	struct fi_load *loads;
	size_t nloads;
};

/* Reads exactly @len bytes at @offset, refusing anything past the end. */
static int read_at(const struct fi_image *img, uint64_t offset, void *buf,
		   uint64_t len)
{
	uint8_t *p = buf;

	if (offset > img->file_size || len > img->file_size - offset)
		return -EINVAL;
	while (len) {
		ssize_t r = pread(img->fd, p, len, (off_t)offset);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		offset += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static int compare_symbols(const void *a, const void *b)
{
	const struct fi_symbol *x = a, *y = b;

	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int load_symbols(struct fi_image *img, const Elf64_Ehdr *eh,
			char *err, size_t errlen)
{
	Elf64_Shdr *sh = NULL;
	const Elf64_Shdr *symtab = NULL, *strsec;
	Elf64_Sym *syms = NULL;
	uint64_t count, size;
	int ret;

	if (eh->e_shnum == 0 || eh->e_shentsize != sizeof(Elf64_Shdr)) {
		set_err(err, errlen, "executable has no usable section headers");
		return -ENOEXEC;
	}
	sh = calloc(eh->e_shnum, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	ret = read_at(img, eh->e_shoff, sh,
		      (uint64_t)eh->e_shnum * sizeof(*sh));
	if (ret) {
		set_err(err, errlen, "section headers lie outside the file");
		goto out;
	}
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_SYMTAB) {
			symtab = &sh[i];
			break;
		}
	}
	if (!symtab) {
		set_err(err, errlen, "executable has no .symtab (stripped?)");
		ret = -ENOENT;
		goto out;
	}
	if (symtab->sh_entsize != sizeof(Elf64_Sym) ||
	    symtab->sh_link >= eh->e_shnum ||
	    sh[symtab->sh_link].sh_type != SHT_STRTAB) {
		set_err(err, errlen, "malformed .symtab header");
		ret = -ENOEXEC;
		goto out;
	}
	strsec = &sh[symtab->sh_link];
	if (strsec->sh_size > img->file_size) {
		set_err(err, errlen, "string table larger than the file");
		ret = -ENOEXEC;
		goto out;
	}
	img->strtab = malloc(strsec->sh_size + 1);
	if (!img->strtab) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_at(img, strsec->sh_offset, img->strtab, strsec->sh_size);
	if (ret) {
		set_err(err, errlen, "string table lies outside the file");
		goto out;
	}
	img->strtab[strsec->sh_size] = '\0';

	count = symtab->sh_size / sizeof(Elf64_Sym);
	if (count > FI_MAX_SYMBOLS || symtab->sh_size > img->file_size) {
		set_err(err, errlen, "symbol table implausibly large");
		ret = -ENOEXEC;
		goto out;
	}
	syms = malloc(count ? count * sizeof(*syms) : 1);
	img->symbols = calloc(count ? count : 1, sizeof(*img->symbols));
	if (!syms || !img->symbols) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_at(img, symtab->sh_offset, syms, count * sizeof(*syms));
	if (ret) {
		set_err(err, errlen, "symbol table lies outside the file");
		goto out;
	}
	size = strsec->sh_size;
	for (uint64_t i = 0; i < count; i++) {
		const Elf64_Sym *s = &syms[i];

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_size == 0)
			continue;
		if (s->st_shndx == SHN_UNDEF || s->st_shndx >= eh->e_shnum)
			continue;
		if (!(sh[s->st_shndx].sh_flags & SHF_EXECINSTR))
			continue;
		if (s->st_name >= size || s->st_size > FI_MAX_FUNCTION)
			continue;
		img->symbols[img->nsymbols++] = (struct fi_symbol){
			.address = s->st_value,
			.size = s->st_size,
			.name = img->strtab + s->st_name,
		};
	}
	qsort(img->symbols, img->nsymbols, sizeof(*img->symbols),
	      compare_symbols);
	ret = 0;
out:
	free(syms);
	free(sh);
	return ret;
}

static int load_segments(struct fi_image *img, const Elf64_Ehdr *eh,
			 char *err, size_t errlen)
{
	Elf64_Phdr *ph;
	int ret;

	if (eh->e_phnum == 0 || eh->e_phnum > 4096 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr)) {
		set_err(err, errlen, "executable has no usable program headers");
		return -ENOEXEC;
	}
	ph = calloc(eh->e_phnum, sizeof(*ph));
	img->loads = calloc(eh->e_phnum, sizeof(*img->loads));
	if (!ph || !img->loads) {
		free(ph);
		return -ENOMEM;
	}
	ret = read_at(img, eh->e_phoff, ph, (uint64_t)eh->e_phnum * sizeof(*ph));
	if (ret) {
		set_err(err, errlen, "program headers lie outside the file");
		free(ph);
		return ret;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		img->loads[img->nloads++] = (struct fi_load){
			.vaddr = ph[i].p_vaddr,
			.filesz = ph[i].p_filesz,
			.offset = ph[i].p_offset,
			.flags = ph[i].p_flags,
		};
	}
	free(ph);
	if (!img->nloads) {
		set_err(err, errlen, "executable has no PT_LOAD segment");
		return -ENOEXEC;
	}
	return 0;
}

/* The entry point the kernel loaded (AT_ENTRY from /proc/PID/auxv). */
static int read_entry(pid_t pid, uint64_t *entry)
{
	char name[64];
	uint64_t pair[2];
	int fd, ret = -ENOENT;

	snprintf(name, sizeof(name), "/proc/%d/auxv", (int)pid);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, pair, sizeof(pair)) == (ssize_t)sizeof(pair)) {
		if (pair[0] == AT_NULL)
			break;
		if (pair[0] == AT_ENTRY) {
			*entry = pair[1];
			ret = 0;
			break;
		}
	}
	close(fd);
	return ret;
}

static void strip_deleted(char *path)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(path), k = sizeof(suffix) - 1;

	if (n > k && !strcmp(path + n - k, suffix))
		path[n - k] = '\0';
}

/*
 * The load bias: the mapping of the executable's first PT_LOAD page (by
 * path, from /proc/PID/maps) minus that page's link-time address, checked
 * against AT_ENTRY when auxv is readable.
 */
static int find_bias(struct fi_image *img, pid_t pid, const Elf64_Ehdr *eh,
		     char *err, size_t errlen)
{
	const struct fi_load *first = &img->loads[0];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t want_off, want_vaddr, entry = 0, start = UINT64_MAX;
	char exe[64], path[PATH_MAX];
	struct fi_map *maps = NULL;
	ssize_t len;
	long n;
	int have_entry, found = 0;

	for (size_t i = 1; i < img->nloads; i++)
		if (img->loads[i].vaddr < first->vaddr)
			first = &img->loads[i];
	want_off = first->offset & ~(page - 1);
	want_vaddr = first->vaddr & ~(page - 1);

	have_entry = read_entry(pid, &entry) == 0;
	if (eh->e_type == ET_EXEC) {
		img->bias = 0;
		return 0;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	len = readlink(exe, path, sizeof(path) - 1);
	n = len > 0 ? read_maps(pid, &maps) : -ENOENT;
	if (len > 0 && n > 0) {
		path[len] = '\0';
		strip_deleted(path);
		for (long i = 0; i < n; i++) {
			strip_deleted(maps[i].path);
			if (maps[i].offset == want_off &&
			    !strcmp(maps[i].path, path) && maps[i].start < start) {
				start = maps[i].start;
				found = 1;
			}
		}
	}
	free(maps);
	if (found) {
		img->bias = start - want_vaddr;
		if (have_entry && entry != eh->e_entry + img->bias) {
			set_err(err, errlen,
				"load base from maps (0x%llx) disagrees with AT_ENTRY",
				(unsigned long long)start);
			return -EINVAL;
		}
		return 0;
	}
	if (have_entry) {
		img->bias = entry - eh->e_entry;
		return 0;
	}
	set_err(err, errlen, "cannot find the executable's mapping of pid %d",
		(int)pid);
	return -ENOENT;
}

int fi_image_open(pid_t pid, struct fi_image **out, char *err, size_t errlen)
{
	struct fi_image *img;
	Elf64_Ehdr eh;
	struct stat st;
	char name[64];
	int ret;

	*out = NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	snprintf(name, sizeof(name), "/proc/%d/exe", (int)pid);
	img->fd = open(name, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		set_err(err, errlen, "cannot open %s: %s", name, strerror(-ret));
		goto err_free;
	}
	if (fstat(img->fd, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "cannot stat %s", name);
		goto err_free;
	}
	img->file_size = (uint64_t)st.st_size;
	ret = read_at(img, 0, &eh, sizeof(eh));
	if (ret || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		set_err(err, errlen, "%s is not an x86-64 ELF executable", name);
		ret = -ENOEXEC;
		goto err_free;
	}
	ret = load_segments(img, &eh, err, errlen);
	if (ret)
		goto err_free;
	ret = load_symbols(img, &eh, err, errlen);
	if (ret)
		goto err_free;
	ret = find_bias(img, pid, &eh, err, errlen);
	if (ret)
		goto err_free;
	*out = img;
	return 0;

err_free:
	fi_image_close(img);
	return ret;
}

void fi_image_close(struct fi_image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	free(img->symbols);
	free(img->strtab);
	free(img->loads);
	free(img);
}

size_t fi_image_symbol_count(const struct fi_image *img)
{
	return img->nsymbols;
}

int fi_image_symbol(const struct fi_image *img, size_t index,
		    struct fi_symbol *out)
{
	if (index >= img->nsymbols)
		return -ERANGE;
	*out = img->symbols[index];
	return 0;
}

uint64_t fi_image_bias(const struct fi_image *img)
{
	return img->bias;
}

int fi_image_read(const struct fi_image *img, uint64_t address, uint8_t *buf,
		  size_t len)
{
	for (size_t i = 0; i < img->nloads; i++) {
		const struct fi_load *l = &img->loads[i];

		if (address < l->vaddr || address - l->vaddr > l->filesz ||
		    len > l->filesz - (address - l->vaddr))
			continue;
		return read_at(img, l->offset + (address - l->vaddr), buf, len);
	}
	return -EFAULT;
}

/* ---- the ptrace session over all threads ------------------------------- */

/*
 * RUNNING: not known to be stopped (a ptrace request that failed with
 * ESRCH leaves a thread here: it runs, or it is dying).  GONE only on
 * evidence: its exit was reaped through waitpid, waitpid says it is not
 * our tracee, or it was detached.  A traced thread that dies stays a
 * zombie until its tracer reaps it, so every RUNNING thread is waited
 * for before a call returns.
 */
enum thread_state { T_RUNNING, T_STOPPED, T_GONE };

struct fi_thread {
	pid_t tid;
	enum thread_state state;
	/* Signal to deliver when resumed or detached. */
	int signal;
	/* When it was (asked to be) stopped, for the longest-stop figure;
	 * 0 while it runs. */
	uint64_t stop_since;
	/* Rewound off the trap with its SIGTRAP still queued: drop the
	 * SIGTRAP it stops for next. */
	int drop_sigtrap;
};

struct fi_session {
	pid_t pid;
	struct fi_thread *threads;
	size_t n;
	size_t cap;
	int mem_fd;
	uint64_t longest_stop_us;
	/* The planted int3, if any. */
	int trap_planted;
	uint64_t trap_address;
	/* The first thread found at the trap, rewound, and its registers. */
	pid_t hit;
	struct user_regs_struct hit_regs;
};

static int session_add(struct fi_session *s, pid_t tid, enum thread_state st)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->threads[i].tid == tid)
			return 0;
	if (s->n == s->cap) {
		size_t grow = s->cap ? s->cap * 2 : 16;
		struct fi_thread *more = realloc(s->threads,
						 grow * sizeof(*more));

		if (!more)
			return -ENOMEM;
		s->threads = more;
		s->cap = grow;
	}
	s->threads[s->n++] = (struct fi_thread){
		.tid = tid, .state = st, .stop_since = now_us(),
	};
	return 1;
}

static void note_resumed(struct fi_session *s, struct fi_thread *t)
{
	uint64_t held = t->stop_since ? now_us() - t->stop_since : 0;

	if (held > s->longest_stop_us)
		s->longest_stop_us = held;
	t->stop_since = 0;
}

/* Seizes and interrupts every thread in /proc/PID/task not yet known.
 * Returns how many were added, or -errno. */
static int seize_new_threads(struct fi_session *s)
{
	const long opts = PTRACE_O_TRACECLONE;
	char name[64];
	struct dirent *d;
	int added = 0;
	DIR *dir;

	snprintf(name, sizeof(name), "/proc/%d/task", (int)s->pid);
	dir = opendir(name);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((d = readdir(dir))) {
		char *end;
		long tid = strtol(d->d_name, &end, 10);
		int known = 0;

		if (*end || tid <= 0)
			continue;
		for (size_t i = 0; i < s->n; i++)
			if (s->threads[i].tid == tid)
				known = 1;
		if (known)
			continue;
		if (ptrace(PTRACE_SEIZE, (pid_t)tid, 0, opts) < 0) {
			if (errno == ESRCH)
				continue; /* exited meanwhile */
			added = -errno;
			break;
		}
		if (session_add(s, (pid_t)tid, T_RUNNING) < 0) {
			ptrace(PTRACE_DETACH, (pid_t)tid, 0, 0);
			added = -ENOMEM;
			break;
		}
		ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0);
		added++;
	}
	closedir(dir);
	return added;
}

static int is_group_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* A thread at the planted trap: rewinds it; the first is the hit. */
static int take_trap_hit(struct fi_session *s, struct fi_thread *t,
			 struct user_regs_struct *regs)
{
	regs->rip = s->trap_address;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, regs) < 0)
		return -errno;
	if (!s->hit) {
		s->hit = t->tid;
		s->hit_regs = *regs;
	}
	return 0;
}

/* Books a waitpid status of thread @t; it is then STOPPED or GONE. */
static void record_status(struct fi_session *s, struct fi_thread *t,
			  int status)
{
	int event = status >> 16;
	unsigned long msg;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->state = T_GONE;
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	/* Stopped on its own (not interrupted by us): held from now. */
	if (!t->stop_since)
		t->stop_since = now_us();
	t->state = T_STOPPED;
	t->signal = 0;
	if (event == PTRACE_EVENT_CLONE) {
		/* The new thread is auto-attached and reports its own
		 * initial stop. */
		if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) == 0)
			session_add(s, (pid_t)msg, T_RUNNING);
		return;
	}
	if (event)
		return; /* PTRACE_EVENT_STOP and the like */
	t->signal = WSTOPSIG(status);
	if (t->drop_sigtrap && t->signal == SIGTRAP) {
		t->drop_sigtrap = 0;
		t->signal = 0;
		return;
	}
	if (s->trap_planted && t->signal == SIGTRAP) {
		struct user_regs_struct regs;

		if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) == 0 &&
		    regs.rip == s->trap_address + 1 &&
		    take_trap_hit(s, t, &regs) == 0)
			t->signal = 0;
	}
}

/* Waits until no thread is RUNNING (or @deadline). 0 or -ETIMEDOUT. */
static int wait_all_stopped(struct fi_session *s, uint64_t deadline)
{
	for (;;) {
		int running = 0, progressed = 0;

		for (size_t i = 0; i < s->n; i++) {
			struct fi_thread *t = &s->threads[i];
			int status;
			pid_t r;

			if (t->state != T_RUNNING)
				continue;
			r = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (r < 0 && errno == EINTR) {
				running++;
				continue;
			}
			if (r < 0) {
				t->state = T_GONE;
				progressed++;
			} else if (r > 0) {
				record_status(s, &s->threads[i], status);
				progressed++;
			} else {
				running++;
			}
		}
		if (!running)
			return 0;
		if (now_us() > deadline)
			return -ETIMEDOUT;
		if (!progressed)
			pause_poll();
	}
}

static size_t live_threads(const struct fi_session *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->threads[i].state != T_GONE)
			n++;
	return n;
}

static struct fi_thread *stopped_thread(struct fi_session *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->threads[i].state == T_STOPPED)
			return &s->threads[i];
	return NULL;
}

/* Interrupts every running thread. */
static void interrupt_all(struct fi_session *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct fi_thread *t = &s->threads[i];

		if (t->state != T_RUNNING)
			continue;
		if (!t->stop_since)
			t->stop_since = now_us();
		/* ESRCH: dying; waitpid will reap it. */
		ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	}
}

/*
 * A thread may stop for PTRACE_INTERRUPT with the SIGTRAP of the planted
 * int3 still queued (the kernel reports job-control traps before it
 * dequeues signals).  Delivered after detach, that SIGTRAP would kill the
 * process, so: rewind such a thread and let it dequeue the signal into a
 * signal-delivery-stop, where it is dropped.
 */
static void drain_trap_signals(struct fi_session *s)
{
	int drained = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct fi_thread *t = &s->threads[i];
		struct ptrace_peeksiginfo_args q = { .off = 0, .flags = 0,
						     .nr = 8 };
		siginfo_t info[8];
		struct user_regs_struct regs;
		int pending = 0;
		long got;

		if (t->state != T_STOPPED || t->signal)
			continue;
		got = ptrace(PTRACE_PEEKSIGINFO, t->tid, &q, info);
		for (long k = 0; k < got; k++)
			if (info[k].si_signo == SIGTRAP &&
			    info[k].si_code == SI_KERNEL)
				pending = 1;
		if (!pending)
			continue;
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) == 0 &&
		    regs.rip == s->trap_address + 1)
			take_trap_hit(s, t, &regs);
		/* Synchronous signals are dequeued first: the next stop is
		 * the SIGTRAP's, before any user instruction runs. */
		t->drop_sigtrap = 1;
		t->state = T_RUNNING;
		ptrace(PTRACE_CONT, t->tid, 0, 0);
		drained++;
	}
	if (drained)
		wait_all_stopped(s, now_us() + FI_STOP_DEADLINE_US);
}

static void detach_all(struct fi_session *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct fi_thread *t = &s->threads[i];

		if (t->state != T_STOPPED)
			continue;
		note_resumed(s, t);
		if (ptrace(PTRACE_DETACH, t->tid, 0, t->signal) == 0)
			t->state = T_GONE;
		else
			t->state = T_RUNNING; /* killed meanwhile: reap it */
	}
}

/* Detaches every thread, waiting for (and reaping) those that are not
 * stopped, a few rounds at most. */
static void detach_everything(struct fi_session *s)
{
	for (int round = 0; round < 4; round++) {
		int left = 0;

		detach_all(s);
		for (size_t i = 0; i < s->n; i++)
			left += s->threads[i].state != T_GONE;
		if (!left)
			return;
		interrupt_all(s);
		wait_all_stopped(s, now_us() + FI_STOP_DEADLINE_US);
		if (s->trap_planted)
			drain_trap_signals(s);
	}
}

/* Resumes every stopped thread (the hit one excepted). */
static void resume_all(struct fi_session *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct fi_thread *t = &s->threads[i];

		if (t->state != T_STOPPED || t->tid == s->hit)
			continue;
		note_resumed(s, t);
		ptrace(PTRACE_CONT, t->tid, 0, t->signal);
		t->signal = 0;
		t->state = T_RUNNING;
	}
}

static int mem_read(struct fi_session *s, uint64_t address, void *buf,
		    size_t len)
{
	struct fi_thread *t;
	uint8_t *p = buf;

	if (s->mem_fd >= 0 &&
	    pread(s->mem_fd, buf, len, (off_t)address) == (ssize_t)len)
		return 0;
	t = stopped_thread(s);
	if (!t)
		return -ESRCH;
	for (size_t i = 0; i < len;) {
		uint64_t at = (address + i) & ~7ULL;
		size_t skip = (size_t)(address + i - at);
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, t->tid, (void *)at, 0);
		if (errno)
			return -errno;
		for (size_t k = skip; k < 8 && i < len; k++, i++)
			p[i] = ((uint8_t *)&word)[k];
	}
	return 0;
}

/* Writes through PTRACE_POKEDATA (aligned words: never past a page), which
 * a tracer may do to read-only text whatever /proc/PID/mem allows. */
static int mem_write(struct fi_session *s, uint64_t address, const void *buf,
		     size_t len)
{
	struct fi_thread *t = stopped_thread(s);
	const uint8_t *p = buf;

	if (!t)
		return -ESRCH;
	for (size_t i = 0; i < len;) {
		uint64_t at = (address + i) & ~7ULL;
		size_t skip = (size_t)(address + i - at);
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, t->tid, (void *)at, 0);
		if (errno)
			return -errno;
		for (size_t k = skip; k < 8 && i < len; k++, i++)
			((uint8_t *)&word)[k] = p[i];
		if (ptrace(PTRACE_POKEDATA, t->tid, (void *)at, (void *)word) < 0)
			return -errno;
	}
	return 0;
}

static void session_free(struct fi_session *s)
{
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	free(s->threads);
	s->threads = NULL;
}

/* Attaches to every thread and waits until all are stopped. */
static int session_attach(struct fi_session *s, pid_t pid, char *err,
			  size_t errlen)
{
	uint64_t deadline = now_us() + FI_STOP_DEADLINE_US;
	char name[64];
	int added, ret;

	*s = (struct fi_session){ .pid = pid, .mem_fd = -1 };
	do {
		added = seize_new_threads(s);
		if (added < 0) {
			ret = added;
			set_err(err, errlen, "cannot attach to pid %d: %s",
				(int)pid, strerror(-ret));
			goto err_detach;
		}
		ret = wait_all_stopped(s, deadline);
		if (ret) {
			set_err(err, errlen,
				"threads of pid %d did not stop within %llu ms",
				(int)pid, FI_STOP_DEADLINE_US / 1000);
			goto err_detach;
		}
	} while (added > 0);
	if (!live_threads(s)) {
		set_err(err, errlen, "pid %d has no threads left", (int)pid);
		ret = -ESRCH;
		goto err_detach;
	}
	snprintf(name, sizeof(name), "/proc/%d/mem", (int)pid);
	s->mem_fd = open(name, O_RDONLY | O_CLOEXEC);
	return 0;

err_detach:
	detach_everything(s);
	session_free(s);
	return ret;
}

/* Stops everything, settles the trap, detaches: the one way out. */
static void session_end(struct fi_session *s, uint8_t trap_original)
{
	interrupt_all(s);
	wait_all_stopped(s, now_us() + FI_STOP_DEADLINE_US);
	if (s->trap_planted) {
		drain_trap_signals(s);
		if (mem_write(s, s->trap_address, &trap_original, 1) == 0)
			s->trap_planted = 0;
	}
	detach_everything(s);
	session_free(s);
}

/* ---- instructions ------------------------------------------------------ */

/* Offset of the condition-code byte of a jcc (70-7f, 0f 80-8f) after
 * legacy prefixes, or -1. */
static int jcc_condition_offset(const uint8_t *code, size_t len)
{
	size_t i = 0;

	while (i < len && i < 4 &&
	       (code[i] == 0x2e || code[i] == 0x3e || code[i] == 0xf2 ||
		code[i] == 0x66))
		i++;
	if (i < len && code[i] >= 0x70 && code[i] <= 0x7f)
		return (int)i;
	if (i + 1 < len && code[i] == 0x0f && code[i + 1] >= 0x80 &&
	    code[i + 1] <= 0x8f)
		return (int)i + 1;
	return -1;
}

int fi_is_conditional_jump(const uint8_t *code, size_t len)
{
	return jcc_condition_offset(code, len) >= 0;
}

static int disassemble_with(csh cs, const uint8_t *code, size_t len,
			    uint64_t address, char *text, size_t textlen)
{
	cs_insn *insn = NULL;
	size_t n = cs_disasm(cs, code, len, address, 1, &insn);
	int size;

	if (n == 0) {
		set_err(text, textlen, "(invalid)");
		return -EINVAL;
	}
	set_err(text, textlen, "%s%s%s", insn[0].mnemonic,
		insn[0].op_str[0] ? " " : "", insn[0].op_str);
	size = insn[0].size;
	cs_free(insn, n);
	return size;
}

int fi_disassemble(const uint8_t *code, size_t len, uint64_t address,
		   char *text, size_t textlen)
{
	csh cs;
	int ret;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	ret = disassemble_with(cs, code, len, address, text, textlen);
	cs_close(&cs);
	return ret;
}

/* Recommended multi-byte NOPs (Intel SDM, "NOP"), by length. */
static const uint8_t nop_forms[10][9] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	[9] = { 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static void fill_nops(uint8_t *out, size_t len)
{
	while (len) {
		size_t k = len > 9 ? 9 : len;

		memcpy(out, nop_forms[k], k);
		out += k;
		len -= k;
	}
}

/* One decoded instruction of the target function. */
struct fi_insn {
	uint32_t offset;
	uint8_t size;
	unsigned int id;
};

/* Decodes @code into *@out (malloc'd); count or -errno. */
static long decode_function(csh cs, const uint8_t *code, size_t len,
			    uint64_t address, struct fi_insn **out)
{
	cs_insn *insn = cs_malloc(cs);
	struct fi_insn *list = calloc(len ? len : 1, sizeof(*list));
	const uint8_t *p = code;
	size_t left = len, n = 0;
	uint64_t at = address;

	if (!insn || !list) {
		if (insn)
			cs_free(insn, 1);
		free(list);
		return -ENOMEM;
	}
	while (left && cs_disasm_iter(cs, &p, &left, &at, insn)) {
		list[n++] = (struct fi_insn){
			.offset = (uint32_t)(insn->address - address),
			.size = (uint8_t)insn->size,
			.id = insn->id,
		};
	}
	cs_free(insn, 1);
	*out = list;
	return (long)n;
}

static int is_candidate(int kind, const struct fi_insn *insn,
			const uint8_t *code)
{
	switch (kind) {
	case FI_INVERT_BRANCH:
		return jcc_condition_offset(code + insn->offset, insn->size) >= 0;
	case FI_NOP:
		return insn->id != X86_INS_NOP && insn->id != X86_INS_INT3;
	default:
		return insn->size <= FI_MAX_BYTES;
	}
}

/* ---- mutations --------------------------------------------------------- */

static const struct {
	const char *name;
	size_t offset;
} gprs[16] = {
	{ "rax", offsetof(struct user_regs_struct, rax) },
	{ "rbx", offsetof(struct user_regs_struct, rbx) },
	{ "rcx", offsetof(struct user_regs_struct, rcx) },
	{ "rdx", offsetof(struct user_regs_struct, rdx) },
	{ "rsi", offsetof(struct user_regs_struct, rsi) },
	{ "rdi", offsetof(struct user_regs_struct, rdi) },
	{ "rbp", offsetof(struct user_regs_struct, rbp) },
	{ "rsp", offsetof(struct user_regs_struct, rsp) },
	{ "r8", offsetof(struct user_regs_struct, r8) },
	{ "r9", offsetof(struct user_regs_struct, r9) },
	{ "r10", offsetof(struct user_regs_struct, r10) },
	{ "r11", offsetof(struct user_regs_struct, r11) },
	{ "r12", offsetof(struct user_regs_struct, r12) },
	{ "r13", offsetof(struct user_regs_struct, r13) },
	{ "r14", offsetof(struct user_regs_struct, r14) },
	{ "r15", offsetof(struct user_regs_struct, r15) },
};

/* Bit-flip, invert-branch, nop: compare, write, verify, all stopped. */
static int apply_code_change(pid_t pid, struct fi_mutation *m,
			     char *err, size_t errlen)
{
	struct fi_session s;
	uint8_t now[FI_MAX_BYTES];
	int ret;

	ret = session_attach(&s, pid, err, errlen);
	if (ret)
		return ret;
	ret = mem_read(&s, m->address, now, m->length);
	if (ret) {
		set_err(err, errlen, "cannot read pid %d at 0x%llx: %s",
			(int)pid, (unsigned long long)m->address,
			strerror(-ret));
		goto out;
	}
	if (memcmp(now, m->original, m->length)) {
		set_err(err, errlen,
			"code at 0x%llx differs from the executable file "
			"(a mutation not restored?)",
			(unsigned long long)m->address);
		ret = -EBUSY;
		goto out;
	}
	ret = mem_write(&s, m->address, m->mutated, m->length);
	if (!ret)
		ret = mem_read(&s, m->address, now, m->length);
	if (!ret && memcmp(now, m->mutated, m->length))
		ret = -EIO;
	if (ret) {
		/* Leave nothing half-written. */
		mem_write(&s, m->address, m->original, m->length);
		set_err(err, errlen, "cannot write pid %d at 0x%llx: %s",
			(int)pid, (unsigned long long)m->address,
			strerror(-ret));
		goto out;
	}
	m->code_changed = 1;
out:
	session_end(&s, 0);
	m->longest_stop_us = s.longest_stop_us;
	return ret;
}

/* Stack kind: a word above the stack pointer that points into a mapping. */
static int corrupt_stack_pointer(struct fi_session *s, uint64_t *rng,
				 struct fi_mutation *m)
{
	uint64_t words[FI_STACK_SCAN / 8], sp = s->hit_regs.rsp, top, slot;
	uint64_t picks[FI_STACK_SCAN / 8];
	const struct fi_map *stack;
	struct fi_map *maps = NULL;
	size_t count, npicks = 0;
	long n = read_maps(s->pid, &maps);
	int ret;

	if (n <= 0)
		return n < 0 ? (int)n : -ENOENT;
	stack = map_containing(maps, (size_t)n, sp);
	if (!stack || (sp & 7)) {
		free(maps);
		return -ENOENT;
	}
	top = stack->end - sp > FI_STACK_SCAN ? sp + FI_STACK_SCAN : stack->end;
	count = (size_t)(top - sp) / 8;
	ret = mem_read(s, sp, words, count * 8);
	for (size_t i = 0; !ret && i < count; i++)
		if (words[i] && map_containing(maps, (size_t)n, words[i]))
			picks[npicks++] = i;
	free(maps);
	if (ret)
		return ret;
	if (!npicks)
		return -ENOENT;
	slot = picks[random_below(rng, npicks)];
	m->bit = (int)random_below(rng, 48);
	m->stack_slot = sp + slot * 8;
	m->old_value = words[slot];
	m->new_value = words[slot] ^ (1ULL << m->bit);
	ret = mem_write(s, m->stack_slot, &m->new_value, 8);
	if (!ret)
		m->corrupted = 1;
	return ret;
}

/* Register and stack kinds: plant, run until reached, corrupt. */
static int apply_at_reach(pid_t pid, uint64_t *rng, int timeout_ms,
			  struct fi_mutation *m, char *err, size_t errlen)
{
	const uint8_t int3 = 0xcc;
	struct fi_session s;
	uint64_t deadline;
	uint8_t now;
	int reg = (int)random_below(rng, 16), ret;

	m->bit = -1;
	if (m->kind == FI_REGISTER)
		m->bit = (int)random_below(rng, 64);
	ret = session_attach(&s, pid, err, errlen);
	if (ret)
		return ret;
	ret = mem_read(&s, m->address, &now, 1);
	if (!ret && now != m->original[0]) {
		set_err(err, errlen,
			"code at 0x%llx differs from the executable file "
			"(a mutation not restored?)",
			(unsigned long long)m->address);
		ret = -EBUSY;
	}
	if (!ret)
		ret = mem_write(&s, m->address, &int3, 1);
	if (ret) {
		if (ret != -EBUSY)
			set_err(err, errlen, "cannot plant at 0x%llx: %s",
				(unsigned long long)m->address, strerror(-ret));
		session_end(&s, 0);
		return ret;
	}
	/* Every thread is traced (and new ones will be: TRACECLONE), so
	 * the int3's SIGTRAP comes to us, never to the process. */
	s.trap_planted = 1;
	s.trap_address = m->address;
	resume_all(&s);

	deadline = now_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
	while (!s.hit && live_threads(&s) && now_us() < deadline) {
		int progressed = 0;

		for (size_t i = 0; i < s.n && !s.hit; i++) {
			struct fi_thread *t = &s.threads[i];
			int status, event;
			pid_t r;

			if (t->state != T_RUNNING)
				continue;
			r = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (r == 0 || (r < 0 && errno == EINTR))
				continue;
			progressed = 1;
			if (r < 0) {
				t->state = T_GONE;
				continue;
			}
			record_status(&s, t, status);
			/* A clone event may have grown (moved) the table. */
			t = &s.threads[i];
			if (t->state != T_STOPPED || s.hit == t->tid)
				continue;
			/* Not our trap: let it go on as it would untraced. */
			event = status >> 16;
			note_resumed(&s, t);
			if (event == PTRACE_EVENT_STOP &&
			    is_group_stop_signal(WSTOPSIG(status)))
				ptrace(PTRACE_LISTEN, t->tid, 0, 0);
			else
				ptrace(PTRACE_CONT, t->tid, 0, t->signal);
			t->signal = 0;
			t->state = T_RUNNING;
		}
		if (!progressed && !s.hit)
			pause_poll();
	}
	if (!live_threads(&s)) {
		set_err(err, errlen, "pid %d exited while the trap was planted",
			(int)pid);
		session_free(&s);
		return -ESRCH;
	}
	/* Put the byte back through the stopped hit thread before anything
	 * else, then stop the rest (a late hit there counts too). */
	if (s.hit && mem_write(&s, m->address, m->original, 1) == 0)
		s.trap_planted = 0;
	interrupt_all(&s);
	wait_all_stopped(&s, now_us() + FI_STOP_DEADLINE_US);
	if (s.trap_planted) {
		drain_trap_signals(&s);
		if (mem_write(&s, m->address, m->original, 1) == 0)
			s.trap_planted = 0;
	}
	if (s.trap_planted) {
		set_err(err, errlen, "cannot take the int3 out at 0x%llx",
			(unsigned long long)m->address);
		ret = -EIO;
	} else if (s.hit) {
		m->reached = 1;
		m->thread = s.hit;
		if (m->kind == FI_REGISTER) {
			struct user_regs_struct regs = s.hit_regs;
			uint64_t *value = (uint64_t *)((uint8_t *)&regs +
						       gprs[reg].offset);

			snprintf(m->register_name, sizeof(m->register_name),
				 "%s", gprs[reg].name);
			m->old_value = *value;
			*value ^= 1ULL << m->bit;
			m->new_value = *value;
			if (ptrace(PTRACE_SETREGS, s.hit, 0, &regs) < 0) {
				ret = -errno;
				set_err(err, errlen, "cannot set registers of "
					"thread %d: %s", (int)s.hit,
					strerror(errno));
			}
		} else {
			ret = corrupt_stack_pointer(&s, rng, m);
			if (ret == -ENOENT)
				ret = 0; /* reached, nothing to corrupt */
			else if (ret)
				set_err(err, errlen, "cannot corrupt the stack "
					"of thread %d: %s", (int)s.hit,
					strerror(-ret));
		}
	}
	detach_everything(&s);
	session_free(&s);
	m->longest_stop_us = s.longest_stop_us;
	return ret;
}

int fi_mutate(const struct fi_image *img, pid_t pid, int kind,
	      unsigned int flags, uint64_t address, uint64_t size,
	      uint64_t *rng, int timeout_ms, struct fi_mutation *out,
	      char *err, size_t errlen)
{
	struct fi_insn *insns = NULL;
	uint8_t *code = NULL, *after = NULL;
	size_t ncand = 0, pick;
	long n;
	const struct fi_insn *insn = NULL;
	csh cs;
	int ret;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->bit = -1;
	if (kind < FI_BIT_FLIP || kind > FI_STACK_POINTER) {
		set_err(err, errlen, "unknown mutation kind %d", kind);
		return -EINVAL;
	}
	if (size == 0 || size > FI_MAX_FUNCTION) {
		set_err(err, errlen, "function size %llu out of range",
			(unsigned long long)size);
		return -EINVAL;
	}
	code = malloc(size + FI_MAX_BYTES);
	after = malloc(size + FI_MAX_BYTES);
	if (!code || !after) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = fi_image_read(img, address, code, size);
	if (ret) {
		set_err(err, errlen, "function at 0x%llx is not in the file",
			(unsigned long long)address);
		goto out_free;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		ret = -ENOMEM;
		goto out_free;
	}
	out->function_address = address + img->bias;
	n = decode_function(cs, code, size, out->function_address, &insns);
	if (n < 0) {
		ret = (int)n;
		goto out_close;
	}
	for (long i = 0; i < n; i++)
		ncand += is_candidate(kind, &insns[i], code);
	if (!ncand) {
		set_err(err, errlen, "no candidate instruction in the function");
		ret = -ENOENT;
		goto out_close;
	}
	pick = (size_t)random_below(rng, ncand);
	if (flags & FI_FIRST_INSTRUCTION)
		pick = 0;
	for (long i = 0; i < n; i++) {
		if (!is_candidate(kind, &insns[i], code))
			continue;
		if (pick-- == 0) {
			insn = &insns[i];
			break;
		}
	}
	if (!insn) {
		ret = -ENOENT;
		goto out_close;
	}
	out->address = out->function_address + insn->offset;
	out->length = insn->size;
	memcpy(out->original, code + insn->offset, insn->size);
	memcpy(out->mutated, out->original, insn->size);
	switch (kind) {
	case FI_BIT_FLIP:
		out->bit = (int)random_below(rng, 8u * insn->size);
		out->mutated[out->bit / 8] ^= (uint8_t)(1u << (out->bit % 8));
		break;
	case FI_INVERT_BRANCH:
		out->mutated[jcc_condition_offset(out->original,
						  insn->size)] ^= 1;
		break;
	case FI_NOP:
		fill_nops(out->mutated, insn->size);
		break;
	default:
		break;
	}
	disassemble_with(cs, code + insn->offset, size - insn->offset,
			 out->address, out->before, sizeof(out->before));
	memcpy(after, code, size);
	memcpy(after + insn->offset, out->mutated, insn->size);
	disassemble_with(cs, after + insn->offset, size - insn->offset,
			 out->address, out->after, sizeof(out->after));

	if (kind == FI_REGISTER || kind == FI_STACK_POINTER) {
		/* The code ends as it was; only the record keeps the bytes. */
		memcpy(out->mutated, out->original, insn->size);
		snprintf(out->after, sizeof(out->after), "%s", out->before);
		ret = apply_at_reach(pid, rng, timeout_ms, out, err, errlen);
	} else {
		ret = apply_code_change(pid, out, err, errlen);
	}
out_close:
	free(insns);
	cs_close(&cs);
out_free:
	free(code);
	free(after);
	return ret;
}

int fi_restore(pid_t pid, const struct fi_mutation *m, int *restored,
	       char *err, size_t errlen)
{
	uint8_t now[FI_MAX_BYTES];
	struct fi_session s;
	uint64_t word;
	int ret;

	*restored = 0;
	if (m->length > FI_MAX_BYTES) {
		set_err(err, errlen, "mutation record is malformed");
		return -EINVAL;
	}
	if (!m->code_changed && !m->corrupted)
		return 0;
	ret = session_attach(&s, pid, err, errlen);
	if (ret)
		return ret;
	if (m->code_changed) {
		ret = mem_read(&s, m->address, now, m->length);
		if (!ret && !memcmp(now, m->mutated, m->length)) {
			ret = mem_write(&s, m->address, m->original, m->length);
			if (!ret)
				ret = mem_read(&s, m->address, now, m->length);
			if (!ret && memcmp(now, m->original, m->length))
				ret = -EIO;
			if (!ret)
				*restored = 1;
		} else if (!ret && memcmp(now, m->original, m->length)) {
			set_err(err, errlen, "code at 0x%llx holds neither the "
				"original nor the mutated bytes",
				(unsigned long long)m->address);
			ret = -ESTALE;
		}
	} else {
		ret = mem_read(&s, m->stack_slot, &word, 8);
		if (!ret && word == m->new_value) {
			ret = mem_write(&s, m->stack_slot, &m->old_value, 8);
			if (!ret)
				*restored = 1;
		}
	}
	if (ret && ret != -ESTALE)
		set_err(err, errlen, "cannot restore pid %d at 0x%llx: %s",
			(int)pid, (unsigned long long)m->address,
			strerror(-ret));
	session_end(&s, 0);
	return ret;
}

int fi_probe_ptrace(char *err, size_t errlen)
{
	int status, ret = 0;
	pid_t child = fork();

	if (child < 0) {
		set_err(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (child == 0) {
		for (;;)
			pause();
	}
	if (ptrace(PTRACE_SEIZE, child, 0, 0) < 0) {
		ret = -errno;
		set_err(err, errlen, "PTRACE_SEIZE of a child refused: %s",
			strerror(errno));
	} else {
		ptrace(PTRACE_INTERRUPT, child, 0, 0);
		while (waitpid(child, &status, __WALL) < 0 && errno == EINTR)
			;
		if (ptrace(PTRACE_DETACH, child, 0, 0) < 0) {
			ret = -errno;
			set_err(err, errlen, "PTRACE_DETACH failed: %s",
				strerror(errno));
		}
	}
	kill(child, SIGKILL);
	while (waitpid(child, &status, __WALL) < 0 && errno == EINTR)
		;
	return ret;
}
