// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the kernel log for a user half.
 *
 * Provides printk (_printk, vprintk, vprintk_emit, _printk_deferred), the
 * device messages of drivers/base/core.c (dev_driver_string,
 * dev_vprintk_emit, dev_printk_emit, _dev_printk, _dev_emerg ...
 * _dev_info), those of net/core/dev.c (netdev_printk, netdev_emerg ...
 * netdev_info), dynamic debug's __dynamic_pr_debug, __dynamic_dev_dbg
 * and __dynamic_netdev_dbg, rate limiting (___ratelimit,
 * __printk_ratelimit, net_ratelimit), hex dumps (hex_dump_to_buffer,
 * print_hex_dump), and the reports of things going wrong: __warn_printk,
 * dump_stack, dump_stack_lvl, panic, fortify_panic (and the library's own
 * WARN and BUG reports, k-lib.h).
 *
 * A message is formatted with the kernel's vsnprintf (k-vsprintf.c) and
 * stored as vprintk_store does: at most LOG_LINE_MAX - 1 characters, the
 * KERN_<LEVEL> prefix sets the level (KERN_DEFAULT or none:
 * CONFIG_MESSAGE_LOGLEVEL_DEFAULT), a trailing newline ends the record,
 * and a record without one stays open for KERN_CONT continuations from
 * the same thread until another message, or the process's exit, closes
 * it.  Device messages always end their record.  A finished record goes to
 * stderr, each of its lines as "<LEVEL>text" (drvslice_os_log): kernel
 * levels are syslog priorities, so journald files a u-driver's messages
 * at the driver's levels.  printk returns the length of the text stored,
 * without prefix and trailing newline, as the kernel's does.
 *
 * Device and net device prefixes are the kernel's: "DRIVER DEVICE: " with
 * the driver's name (or the bus or class name) and dev_name(), and
 * "DRIVER DEVICE NETDEV: " (or "NETDEV: " without a parent) with
 * netdev_name() ("(unnamed net_device)" while the name is a "%d"
 * template) and the registration state (" (uninitialized)", "
 * (unregistering)" ...).
 *
 * Departures: no timestamps (journald adds its own), no structured
 * SUBSYSTEM=/DEVICE= dictionary for device messages, no console log level
 * filter (every level is written, as every level reaches the log buffer).
 * dump_stack prints the process's backtrace with dynamic symbols; the CPU
 * is where the thread runs, the PID its thread id.  panic, BUG and
 * fortify_panic end the process with abort() after their report, as an
 * oops ends the task.
 */
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/dynamic_debug.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/stdarg.h>

#include "drvslice-os.h"
#include "drvslice-host.h"
#include "k-lib.h"

/* kernel/printk/printk.c, without CONFIG_PRINTK_CALLER. */
#define LOG_LINE_MAX	(1024 - 32)

/* The open record, waiting for KERN_CONT or its end. */
static DEFINE_RAW_SPINLOCK(log_lock);
static char cont_text[LOG_LINE_MAX];
static size_t cont_len;
static int cont_level;
static int cont_caller;
static bool cont_open;
static bool log_exit_registered;

/* Write a finished record, one log line per line of text. */
static void log_emit(int level, const char *text, size_t len)
{
	const char *end = text + len;

	for (;;) {
		const char *nl = memchr(text, '\n', end - text);

		if (!nl) {
			drvslice_os_log(level, text, end - text);
			return;
		}
		drvslice_os_log(level, text, nl - text);
		text = nl + 1;
	}
}

/* Close the open record, if any.  Called with log_lock held. */
static void log_close_cont(void)
{
	if (cont_open) {
		log_emit(cont_level, cont_text, cont_len);
		cont_open = false;
		cont_len = 0;
	}
}

static void log_flush_at_exit(void)
{
	raw_spin_lock(&log_lock);
	log_close_cont();
	raw_spin_unlock(&log_lock);
}

/* printk_parse_prefix(): the length of the leading KERN_* headers. */
static size_t parse_prefix(const char *text, int *level, bool *cont)
{
	size_t len = 0;
	int kern_level;

	while ((kern_level = printk_get_level(text + len))) {
		if (kern_level >= '0' && kern_level <= '7') {
			if (level && *level == LOGLEVEL_DEFAULT)
				*level = kern_level - '0';
		} else if (kern_level == 'c' && cont) {
			*cont = true;
		}
		len += 2;
	}
	return len;
}

int vprintk_emit(int facility, int level, const struct dev_printk_info *dev_info,
		 const char *fmt, va_list args)
{
	char text[LOG_LINE_MAX];
	bool cont = false, newline = false;
	int caller = drvslice_os_tid();
	size_t len, prefix;

	if (level == LOGLEVEL_SCHED)
		level = LOGLEVEL_DEFAULT;
	len = vscnprintf(text, sizeof(text), fmt, args);
	if (facility == 0)
		parse_prefix(text, &level, &cont);
	if (level == LOGLEVEL_DEFAULT)
		level = CONFIG_MESSAGE_LOGLEVEL_DEFAULT;
	if (dev_info)
		newline = true;
	/* Mark and strip a trailing newline, then the level headers. */
	if (len && text[len - 1] == '\n') {
		len--;
		newline = true;
	}
	if (facility == 0) {
		prefix = parse_prefix(text, NULL, NULL);
		len -= prefix;
		memmove(text, text + prefix, len);
	}

	raw_spin_lock(&log_lock);
	if (!log_exit_registered) {
		log_exit_registered = true;
		drvslice_os_atexit(log_flush_at_exit);
	}
	if (cont && cont_open && cont_caller == caller && cont_len + len <= LOG_LINE_MAX) {
		memcpy(cont_text + cont_len, text, len);
		cont_len += len;
		if (newline)
			log_close_cont();
	} else {
		log_close_cont();
		if (newline) {
			log_emit(level & 7, text, len);
		} else {
			memcpy(cont_text, text, len);
			cont_len = len;
			cont_level = level & 7;
			cont_caller = caller;
			cont_open = true;
		}
	}
	raw_spin_unlock(&log_lock);
	return len;
}

int vprintk(const char *fmt, va_list args)
{
	return vprintk_emit(0, LOGLEVEL_DEFAULT, NULL, fmt, args);
}

int _printk(const char *fmt, ...)
{
	va_list args;
	int r;

	va_start(args, fmt);
	r = vprintk(fmt, args);
	va_end(args);
	return r;
}

int _printk_deferred(const char *fmt, ...)
{
	va_list args;
	int r;

	va_start(args, fmt);
	r = vprintk_emit(0, LOGLEVEL_SCHED, NULL, fmt, args);
	va_end(args);
	return r;
}

void dump_stack_lvl(const char *log_lvl)
{
	unsigned long addrs[48];
	char comm[16];
	int n;

	drvslice_os_comm(comm, sizeof(comm));
	n = drvslice_os_backtrace(addrs, ARRAY_SIZE(addrs), 0);
	printk("%sCPU: %d PID: %d Comm: %.20s\n", log_lvl, drvslice_os_cpu(),
	       drvslice_os_tid(), comm);
	printk("%sCall Trace:\n", log_lvl);
	printk("%s <TASK>\n", log_lvl);
	for (int i = 0; i < n; i++)
		printk("%s %pB\n", log_lvl, (void *)addrs[i]);
	printk("%s </TASK>\n", log_lvl);
}

void dump_stack(void)
{
	dump_stack_lvl(KERN_DEFAULT);
}

void __warn_printk(const char *fmt, ...)
{
	va_list args;

	pr_warn("------------[ cut here ]------------\n");
	va_start(args, fmt);
	vprintk(fmt, args);
	va_end(args);
}

static void warn_report(const char *file, int line, const void *caller)
{
	pr_warn("WARNING: CPU: %d PID: %d at %s:%d %pS\n", drvslice_os_cpu(),
		drvslice_os_tid(), file, line, caller);
	dump_stack();
	pr_warn("---[ end trace %016llx ]---\n", 0ULL);
}

void drvslice_warn(const char *file, int line, const void *caller, const char *fmt, ...)
{
	va_list args;

	pr_warn("------------[ cut here ]------------\n");
	va_start(args, fmt);
	vprintk(fmt, args);
	va_end(args);
	warn_report(file, line, caller);
}

void drvslice_warn_on(const char *file, int line, const void *caller)
{
	pr_warn("------------[ cut here ]------------\n");
	warn_report(file, line, caller);
}

void drvslice_bug(const char *file, int line)
{
	pr_crit("kernel BUG at %s:%d!\n", file, line);
	dump_stack();
	pr_warn("---[ end trace %016llx ]---\n", 0ULL);
	log_flush_at_exit();
	drvslice_os_abort();
}

/* CONFIG_FORTIFY_SOURCE found a buffer overflow: report, then BUG. */
void fortify_panic(const char *name)
{
	pr_emerg("detected buffer overflow in %s\n", name);
	drvslice_bug(__FILE__, __LINE__);
}

void panic(const char *fmt, ...)
{
	static char buf[1024];
	va_list args;

	va_start(args, fmt);
	vscnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	if (strlen(buf) && buf[strlen(buf) - 1] == '\n')
		buf[strlen(buf) - 1] = '\0';
	pr_emerg("Kernel panic - not syncing: %s\n", buf);
	dump_stack();
	pr_emerg("---[ end Kernel panic - not syncing: %s ]---\n", buf);
	log_flush_at_exit();
	drvslice_os_abort();
}

/* The u-driver's copy of a device carries no driver, bus or class (no
 * description does): one the library knows nothing of is the driver's own
 * device, and its driver the PCI driver the user half registered. */
const char *dev_driver_string(const struct device *dev)
{
	struct device_driver *drv = READ_ONCE(dev->driver);
	const struct pci_driver *pdrv;

	if (drv)
		return drv->name;
	if (dev->bus || dev->class)
		return dev->bus ? dev->bus->name : dev->class->name;
	pdrv = drvslice_pci_driver(NULL);
	return pdrv && pdrv->name ? pdrv->name : "";
}

/* A struct dev_printk_info only says "a device message" here (see top). */
static const struct dev_printk_info *device_record(const struct device *dev)
{
	static const struct dev_printk_info info;

	return &info;
}

int dev_vprintk_emit(int level, const struct device *dev, const char *fmt, va_list args)
{
	return vprintk_emit(0, level, device_record(dev), fmt, args);
}

int dev_printk_emit(int level, const struct device *dev, const char *fmt, ...)
{
	va_list args;
	int r;

	va_start(args, fmt);
	r = dev_vprintk_emit(level, dev, fmt, args);
	va_end(args);
	return r;
}

/* The u-driver host's dev_name() (slicer/host/k-host.c: a PCI function's
 * copy is named by its slot); weak: the library's own test has no host. */
const char *drvslice_dev_name(const struct device *dev);
#pragma weak drvslice_dev_name

static const char *device_name(const struct device *dev)
{
	return drvslice_dev_name ? drvslice_dev_name(dev) : dev_name(dev);
}

static void __dev_printk(const char *level, const struct device *dev, struct va_format *vaf)
{
	if (dev)
		dev_printk_emit(level[1] - '0', dev, "%s %s: %pV", dev_driver_string(dev),
				device_name(dev), vaf);
	else
		printk("%s(NULL device *): %pV", level, vaf);
}

void _dev_printk(const char *level, const struct device *dev, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	__dev_printk(level, dev, &vaf);
	va_end(args);
}

#define DEV_PRINTK_LEVEL(func, kern_level)				\
void func(const struct device *dev, const char *fmt, ...)		\
{									\
	struct va_format vaf;						\
	va_list args;							\
									\
	va_start(args, fmt);						\
	vaf.fmt = fmt;							\
	vaf.va = &args;							\
	__dev_printk(kern_level, dev, &vaf);				\
	va_end(args);							\
}

DEV_PRINTK_LEVEL(_dev_emerg, KERN_EMERG)
DEV_PRINTK_LEVEL(_dev_alert, KERN_ALERT)
DEV_PRINTK_LEVEL(_dev_crit, KERN_CRIT)
DEV_PRINTK_LEVEL(_dev_err, KERN_ERR)
DEV_PRINTK_LEVEL(_dev_warn, KERN_WARNING)
DEV_PRINTK_LEVEL(_dev_notice, KERN_NOTICE)
DEV_PRINTK_LEVEL(_dev_info, KERN_INFO)

/* netdev_name() and netdev_reg_state() of linux/netdevice.h, WARN and all. */
static const char *ndev_name(const struct net_device *dev)
{
	if (!dev->name[0] || strchr(dev->name, '%'))
		return "(unnamed net_device)";
	return dev->name;
}

/* The kernel API's (k-api.c); weak: a program without the kernel API
 * (the library's own test, check-host's fake kernel) keeps the copy's. */
u8 drvslice_netdev_reg_state(struct net_device *dev);
#pragma weak drvslice_netdev_reg_state

static const char *ndev_reg_state(const struct net_device *dev)
{
	u8 reg_state = READ_ONCE(dev->reg_state);

	/* A copy no register_netdev of this process's set (the u-driver
	 * adopted the device): the kernel knows. */
	if (reg_state == NETREG_UNINITIALIZED && drvslice_netdev_reg_state)
		reg_state = drvslice_netdev_reg_state((struct net_device *)dev);

	switch (reg_state) {
	case NETREG_UNINITIALIZED:
		return " (uninitialized)";
	case NETREG_REGISTERED:
		return "";
	case NETREG_UNREGISTERING:
		return " (unregistering)";
	case NETREG_UNREGISTERED:
		return " (unregistered)";
	case NETREG_RELEASED:
		return " (released)";
	case NETREG_DUMMY:
		return " (dummy)";
	}
	DRVSLICE_WARN_ONCE(1, "%s: unknown reg_state %d\n", dev->name, reg_state);
	return " (unknown)";
}

static void __netdev_printk(const char *level, const struct net_device *dev,
			    struct va_format *vaf)
{
	if (dev && dev->dev.parent)
		dev_printk_emit(level[1] - '0', dev->dev.parent, "%s %s %s%s: %pV",
				dev_driver_string(dev->dev.parent), device_name(dev->dev.parent),
				ndev_name(dev), ndev_reg_state(dev), vaf);
	else if (dev)
		printk("%s%s%s: %pV", level, ndev_name(dev), ndev_reg_state(dev), vaf);
	else
		printk("%s(NULL net_device): %pV", level, vaf);
}

void netdev_printk(const char *level, const struct net_device *dev, const char *format, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, format);
	vaf.fmt = format;
	vaf.va = &args;
	__netdev_printk(level, dev, &vaf);
	va_end(args);
}

#define NETDEV_PRINTK_LEVEL(func, kern_level)				\
void func(const struct net_device *dev, const char *fmt, ...)		\
{									\
	struct va_format vaf;						\
	va_list args;							\
									\
	va_start(args, fmt);						\
	vaf.fmt = fmt;							\
	vaf.va = &args;							\
	__netdev_printk(kern_level, dev, &vaf);				\
	va_end(args);							\
}

NETDEV_PRINTK_LEVEL(netdev_emerg, KERN_EMERG)
NETDEV_PRINTK_LEVEL(netdev_alert, KERN_ALERT)
NETDEV_PRINTK_LEVEL(netdev_crit, KERN_CRIT)
NETDEV_PRINTK_LEVEL(netdev_err, KERN_ERR)
NETDEV_PRINTK_LEVEL(netdev_warn, KERN_WARNING)
NETDEV_PRINTK_LEVEL(netdev_notice, KERN_NOTICE)
NETDEV_PRINTK_LEVEL(netdev_info, KERN_INFO)

/* lib/dynamic_debug.c: "[tid] module:function:line: " as the flags ask. */
#define DYNDBG_PREFIX_SIZE 64

static char *dynamic_emit_prefix(const struct _ddebug *desc, char *buf)
{
	int pos = 0, pos_after_tid;

#define REMAINING (pos < DYNDBG_PREFIX_SIZE ? DYNDBG_PREFIX_SIZE - pos : 0)
	if (!(desc->flags & _DPRINTK_FLAGS_INCL_ANY))
		return buf;
	if (desc->flags & _DPRINTK_FLAGS_INCL_TID)
		pos += snprintf(buf + pos, REMAINING, "[%d] ", drvslice_os_tid());
	pos_after_tid = pos;
	if (desc->flags & _DPRINTK_FLAGS_INCL_MODNAME)
		pos += snprintf(buf + pos, REMAINING, "%s:", desc->modname);
	if (desc->flags & _DPRINTK_FLAGS_INCL_FUNCNAME)
		pos += snprintf(buf + pos, REMAINING, "%s:", desc->function);
	if (desc->flags & _DPRINTK_FLAGS_INCL_LINENO)
		pos += snprintf(buf + pos, REMAINING, "%d:", desc->lineno);
	if (pos - pos_after_tid)
		pos += snprintf(buf + pos, REMAINING, " ");
#undef REMAINING
	if (pos >= DYNDBG_PREFIX_SIZE)
		buf[DYNDBG_PREFIX_SIZE - 1] = '\0';
	return buf;
}

void __dynamic_pr_debug(struct _ddebug *descriptor, const char *fmt, ...)
{
	char buf[DYNDBG_PREFIX_SIZE] = "";
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	printk(KERN_DEBUG "%s%pV", dynamic_emit_prefix(descriptor, buf), &vaf);
	va_end(args);
}

void __dynamic_dev_dbg(struct _ddebug *descriptor, const struct device *dev,
		       const char *fmt, ...)
{
	char buf[DYNDBG_PREFIX_SIZE] = "";
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (!dev)
		printk(KERN_DEBUG "(NULL device *): %pV", &vaf);
	else
		dev_printk_emit(LOGLEVEL_DEBUG, dev, "%s%s %s: %pV",
				dynamic_emit_prefix(descriptor, buf), dev_driver_string(dev),
				dev_name(dev), &vaf);
	va_end(args);
}

void __dynamic_netdev_dbg(struct _ddebug *descriptor, const struct net_device *dev,
			  const char *fmt, ...)
{
	char buf[DYNDBG_PREFIX_SIZE] = "";
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (dev && dev->dev.parent)
		dev_printk_emit(LOGLEVEL_DEBUG, dev->dev.parent, "%s%s %s %s%s: %pV",
				dynamic_emit_prefix(descriptor, buf),
				dev_driver_string(dev->dev.parent), device_name(dev->dev.parent),
				ndev_name(dev), ndev_reg_state(dev), &vaf);
	else if (dev)
		printk(KERN_DEBUG "%s%s: %pV", ndev_name(dev), ndev_reg_state(dev), &vaf);
	else
		printk(KERN_DEBUG "(NULL net_device): %pV", &vaf);
	va_end(args);
}

int ___ratelimit(struct ratelimit_state *rs, const char *func)
{
	int interval = READ_ONCE(rs->interval);
	int burst = READ_ONCE(rs->burst);
	int ret;

	if (!interval)
		return 1;
	/* Contended: someone else is printing, so this one would be too many. */
	if (!_raw_spin_trylock(&rs->lock))
		return 0;
	if (!rs->begin)
		rs->begin = jiffies;
	if (time_is_before_jiffies(rs->begin + interval)) {
		if (rs->missed && !(rs->flags & RATELIMIT_MSG_ON_RELEASE)) {
			printk_deferred(KERN_WARNING "%s: %d callbacks suppressed\n", func,
					rs->missed);
			rs->missed = 0;
		}
		rs->begin = jiffies;
		rs->printed = 0;
	}
	if (burst && burst > rs->printed) {
		rs->printed++;
		ret = 1;
	} else {
		rs->missed++;
		ret = 0;
	}
	_raw_spin_unlock(&rs->lock);
	return ret;
}

DEFINE_RATELIMIT_STATE(printk_ratelimit_state, 5 * HZ, 10);

int __printk_ratelimit(const char *func)
{
	return ___ratelimit(&printk_ratelimit_state, func);
}

static DEFINE_RATELIMIT_STATE(net_ratelimit_state, 5 * HZ, 10);

int net_ratelimit(void)
{
	return __ratelimit(&net_ratelimit_state);
}

int hex_dump_to_buffer(const void *buf, size_t len, int rowsize, int groupsize,
		       char *linebuf, size_t linebuflen, bool ascii)
{
	const u8 *ptr = buf;
	int ngroups, ascii_column, lx = 0;

	if (rowsize != 16 && rowsize != 32)
		rowsize = 16;
	if (len > rowsize)
		len = rowsize;
	if (!is_power_of_2(groupsize) || groupsize > 8 || len % groupsize)
		groupsize = 1;
	ngroups = len / groupsize;
	ascii_column = rowsize * 2 + rowsize / groupsize + 1;

	if (!linebuflen)
		goto overflow;
	if (len && groupsize > 1) {
		for (int j = 0; j < ngroups; j++) {
			unsigned long long v = 0;
			int ret;

			memcpy(&v, ptr + j * groupsize, groupsize);
			ret = snprintf(linebuf + lx, linebuflen - lx, "%s%0*llx", j ? " " : "",
				       groupsize * 2, v);
			if (ret >= linebuflen - lx)
				goto overflow;
			lx += ret;
		}
	} else if (len) {
		for (int j = 0; j < len; j++) {
			if (linebuflen < lx + 2)
				goto overflow_nul;
			linebuf[lx++] = hex_asc_hi(ptr[j]);
			if (linebuflen < lx + 2)
				goto overflow_nul;
			linebuf[lx++] = hex_asc_lo(ptr[j]);
			if (linebuflen < lx + 2)
				goto overflow_nul;
			linebuf[lx++] = ' ';
		}
		lx--;
	}
	if (len && ascii) {
		while (lx < ascii_column) {
			if (linebuflen < lx + 2)
				goto overflow_nul;
			linebuf[lx++] = ' ';
		}
		for (int j = 0; j < len; j++) {
			if (linebuflen < lx + 2)
				goto overflow_nul;
			linebuf[lx++] = (isascii(ptr[j]) && isprint(ptr[j])) ? ptr[j] : '.';
		}
	}
	linebuf[lx] = '\0';
	return lx;
overflow_nul:
	linebuf[lx++] = '\0';
overflow:
	return ascii ? ascii_column + len : (groupsize * 2 + 1) * ngroups - 1;
}

void print_hex_dump(const char *level, const char *prefix_str, int prefix_type, int rowsize,
		    int groupsize, const void *buf, size_t len, bool ascii)
{
	const u8 *ptr = buf;
	char linebuf[32 * 3 + 2 + 32 + 1];

	if (rowsize != 16 && rowsize != 32)
		rowsize = 16;
	for (size_t i = 0; i < len; i += rowsize) {
		hex_dump_to_buffer(ptr + i, min_t(size_t, len - i, rowsize), rowsize, groupsize,
				   linebuf, sizeof(linebuf), ascii);
		switch (prefix_type) {
		case DUMP_PREFIX_ADDRESS:
			printk("%s%s%p: %s\n", level, prefix_str, ptr + i, linebuf);
			break;
		case DUMP_PREFIX_OFFSET:
			printk("%s%s%.8zx: %s\n", level, prefix_str, i, linebuf);
			break;
		default:
			printk("%s%s%s\n", level, prefix_str, linebuf);
			break;
		}
	}
}
