// SPDX-License-Identifier: GPL-2.0
/*
 * The driver library's local part, used as a driver uses it: this file is
 * compiled like a user half (the kernel's headers, --user-cflags) and
 * calls the kernel API the library provides.  Results that are exact go
 * to stdout as values (the check script compares them with what the
 * kernel prints); timing and concurrency results go out as "ok:" or
 * "FAIL:" verdicts.  Log messages go to stderr through the library's
 * printk, where the script compares them too.
 *
 * ktest_out() (main.c, the C library's side) writes a line to stdout;
 * threads and the clock come from the library's os layer.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dynamic_debug.h>
#include <linux/err.h>
#include <linux/errname.h>
#include <linux/ioport.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/mii.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sockios.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "drvslice-host.h"
#include "drvslice-os.h"

void ktest_out(const char *line);
int ktest_run(void);

static int failures;

/* A line of stdout, formatted by the library's (the kernel's) vsnprintf. */
static __printf(1, 2) void out(const char *fmt, ...)
{
	char line[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	ktest_out(line);
}

#define CHECK(cond, what) do {					\
	if (cond) {						\
		out("ok: %s", what);				\
	} else {						\
		out("FAIL: %s (%s:%d)", what, __FILE__, __LINE__);	\
		failures++;					\
	}							\
} while (0)

/* Module parameters, declared as a driver declares them. */
static int debug = -1;
module_param(debug, int, 0);
static bool use_io;
module_param(use_io, bool, 0);
static char *model;
module_param(model, charp, 0);
static int ints[4];
static unsigned int nints;
module_param_array(ints, int, &nints, 0);
static unsigned short port = 0x300;
module_param(port, ushort, 0);

static void test_slab(void)
{
	size_t variable = 100;
	char *p, *q;
	u8 *z;
	int i, zero = 1;

	/* Constant sizes go through kmalloc_caches/kmalloc_trace, others __kmalloc. */
	p = kmalloc(64, GFP_KERNEL);
	CHECK(p && IS_ALIGNED((unsigned long)p, 64), "kmalloc(64) is 64-byte aligned");
	kfree(p);
	p = kmalloc(variable, GFP_KERNEL);
	CHECK(p && IS_ALIGNED((unsigned long)p, 128), "kmalloc(100) is kmalloc-128's, 128-byte aligned");
	CHECK(ksize(p) >= 128 && ksize(p) == kmalloc_size_roundup(ksize(p)),
	      "ksize(kmalloc(100)) is a kmalloc size of at least 128");
	kfree(p);
	out("kmalloc_size_roundup: 1 -> %zu, 65 -> %zu, 100 -> %zu, 129 -> %zu, 9000 -> %zu",
	    kmalloc_size_roundup(1), kmalloc_size_roundup(65), kmalloc_size_roundup(100),
	    kmalloc_size_roundup(129), kmalloc_size_roundup(9000));
	z = kzalloc(300, GFP_KERNEL);
	for (i = 0; z && i < 300; i++)
		zero &= z[i] == 0;
	CHECK(z && zero, "kzalloc(300) is zeroed");
	kfree(z);
	CHECK(kmalloc(0, GFP_KERNEL) == ZERO_SIZE_PTR, "kmalloc(0) is ZERO_SIZE_PTR");
	kfree(ZERO_SIZE_PTR);
	kfree(NULL);
	variable = KMALLOC_MAX_SIZE + 1;
	CHECK(!kmalloc(variable, GFP_KERNEL | __GFP_NOWARN), "kmalloc(KMALLOC_MAX_SIZE + 1) fails");

	p = kstrdup("eth%d", GFP_KERNEL);
	q = krealloc(p, 4000, GFP_KERNEL);
	out("kstrdup then krealloc(4000): \"%s\"", q);
	CHECK(q != p && ksize(q) >= 4096 && IS_ALIGNED((unsigned long)q, 4096),
	      "krealloc(4000) moves to kmalloc-4k");
	q = krealloc(q, 0, GFP_KERNEL);
	CHECK(q == ZERO_SIZE_PTR, "krealloc(p, 0) frees and returns ZERO_SIZE_PTR");
	p = kmemdup("ab\0cd", 5, GFP_KERNEL);
	out("kmemdup: %*phN", 5, p);
	kfree(p);
	p = kstrndup("abcdef", 3, GFP_KERNEL);
	out("kstrndup(\"abcdef\", 3): \"%s\"", p);
	kfree(p);
	p = kasprintf(GFP_KERNEL, "%s-%d", "eth", 3);
	out("kasprintf: \"%s\"", p);
	kfree(p);
	p = kvmalloc(3 * PAGE_SIZE, GFP_KERNEL);
	CHECK(p && IS_ALIGNED((unsigned long)p, PAGE_SIZE), "kvmalloc(3 pages) is page-aligned");
	kvfree(p);
}

static int ctor_calls;

static void test_ctor(void *obj)
{
	memset(obj, 0x5a, 40);
	ctor_calls++;
}

static void test_kmem_cache(void)
{
	struct kmem_cache *cache = kmem_cache_create("ktest", 40, 0, SLAB_HWCACHE_ALIGN, test_ctor);
	u8 *obj = cache ? kmem_cache_alloc(cache, GFP_KERNEL) : NULL;

	out("kmem_cache: size %u, object %s, ctor calls %d, 64-byte aligned %d",
	    cache ? kmem_cache_size(cache) : 0, obj && obj[39] == 0x5a ? "constructed" : "not",
	    ctor_calls, IS_ALIGNED((unsigned long)obj, 64));
	kmem_cache_free(cache, obj);
	kmem_cache_destroy(cache);
}

static DEFINE_SPINLOCK(counter_lock);
static DEFINE_MUTEX(counter_mutex);
static unsigned long spin_counter, mutex_counter;
static bool mutex_seen_locked = true;

#define SPIN_ROUNDS 100000
#define MUTEX_ROUNDS 20000

/* Read, pause, write: without mutual exclusion updates get lost. */
static void spin_worker(void *arg)
{
	for (int i = 0; i < SPIN_ROUNDS; i++) {
		unsigned long flags, v;

		spin_lock_irqsave(&counter_lock, flags);
		v = READ_ONCE(spin_counter);
		cpu_relax();
		WRITE_ONCE(spin_counter, v + 1);
		spin_unlock_irqrestore(&counter_lock, flags);
	}
}

static void mutex_worker(void *arg)
{
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		unsigned long v;

		mutex_lock(&counter_mutex);
		if (!mutex_is_locked(&counter_mutex))
			mutex_seen_locked = false;
		v = READ_ONCE(mutex_counter);
		for (int j = 0; j < 20; j++)
			cpu_relax();
		WRITE_ONCE(mutex_counter, v + 1);
		mutex_unlock(&counter_mutex);
	}
}

static void test_locks(void)
{
	void *t1, *t2;
	int r1, r2, r3;
	struct mutex m;
	spinlock_t s;

	t1 = drvslice_os_thread_start(spin_worker, NULL);
	t2 = drvslice_os_thread_start(spin_worker, NULL);
	drvslice_os_thread_join(t1);
	drvslice_os_thread_join(t2);
	out("spin_lock_irqsave, 2 threads x %d: %lu", SPIN_ROUNDS, spin_counter);

	t1 = drvslice_os_thread_start(mutex_worker, NULL);
	t2 = drvslice_os_thread_start(mutex_worker, NULL);
	drvslice_os_thread_join(t1);
	drvslice_os_thread_join(t2);
	out("mutex_lock, 2 threads x %d: %lu", MUTEX_ROUNDS, mutex_counter);
	CHECK(mutex_seen_locked, "mutex_is_locked() while held");

	spin_lock_init(&s);
	spin_lock(&s);
	out("spin_trylock on a held lock: %d", spin_trylock(&s));
	spin_unlock(&s);
	out("spin_trylock on a free lock: %d", spin_trylock(&s));
	spin_unlock(&s);
	spin_lock_bh(&s);
	spin_unlock_bh(&s);
	spin_lock_irq(&s);
	spin_unlock_irq(&s);

	mutex_init(&m);
	r1 = mutex_trylock(&m);
	r2 = mutex_trylock(&m);
	r3 = mutex_is_locked(&m);
	out("mutex_trylock: %d, again: %d, is_locked: %d", r1, r2, r3);
	mutex_unlock(&m);
	r1 = mutex_is_locked(&m);
	r2 = mutex_lock_interruptible(&m);
	out("after mutex_unlock: is_locked %d, mutex_lock_interruptible %d", r1, r2);
	mutex_unlock(&m);
}

static unsigned long ns_to_ticks(unsigned long ns)
{
	return ns / (NSEC_PER_SEC / HZ);
}

static void test_time(void)
{
	unsigned long j0, j1, t0, t1, since_boot;

	out("msecs_to_jiffies(20) = %lu, jiffies_to_msecs(HZ) = %u, usecs_to_jiffies(1) = %lu",
	    msecs_to_jiffies(20), jiffies_to_msecs(HZ), usecs_to_jiffies(1));

	/*
	 * jiffies counts HZ ticks from INITIAL_JIFFIES at boot.  Each reading
	 * is brought up to date first (drvslice_os_jiffies_update, as the
	 * library's sleeps do) and bracketed by the clock, so that how long
	 * the ticker thread was starved on a loaded machine does not matter:
	 * a wrong base or rate is off by far more than a tick.
	 */
	t0 = drvslice_os_now_ns();
	drvslice_os_jiffies_update();
	since_boot = jiffies - INITIAL_JIFFIES;
	t1 = drvslice_os_now_ns();
	CHECK(since_boot + 1 >= ns_to_ticks(t0) && since_boot <= ns_to_ticks(t1) + 1,
	      "jiffies is INITIAL_JIFFIES + CLOCK_MONOTONIC at HZ");

	t0 = drvslice_os_now_ns();
	drvslice_os_jiffies_update();
	j0 = jiffies;
	msleep(20);
	j1 = jiffies;
	drvslice_os_jiffies_update();
	t1 = drvslice_os_now_ns();
	CHECK(j1 - j0 >= msecs_to_jiffies(20) + 1, "msleep(20) sleeps msecs_to_jiffies(20) + 1 ticks");
	CHECK(j1 - j0 <= ns_to_ticks(t1) - ns_to_ticks(t0) + 1,
	      "jiffies advance at HZ across msleep(20)");

	/*
	 * Busy-waiting, only the ticker thread moves jiffies: it must move by
	 * msecs_to_jiffies(20) (within 10 s, however loaded the machine), and
	 * not before 20 ms less a tick have passed.
	 */
	drvslice_os_jiffies_update();
	j0 = jiffies;
	t0 = drvslice_os_now_ns();
	do {
		udelay(500);
		t1 = drvslice_os_now_ns();
	} while (jiffies - j0 < msecs_to_jiffies(20) && t1 - t0 < 10 * NSEC_PER_SEC);
	CHECK(jiffies - j0 >= msecs_to_jiffies(20) &&
	      t1 - t0 + NSEC_PER_SEC / HZ >= 20 * NSEC_PER_MSEC,
	      "jiffies advance at HZ while busy-waiting");
	t0 = drvslice_os_now_ns();
	mdelay(20);
	t1 = drvslice_os_now_ns();
	CHECK(t1 - t0 >= 20 * NSEC_PER_MSEC, "mdelay(20) waits 20 ms");

	t0 = drvslice_os_now_ns();
	udelay(1000);
	t1 = drvslice_os_now_ns();
	CHECK(t1 - t0 >= 1000 * NSEC_PER_USEC, "udelay(1000) waits 1 ms");
	t0 = drvslice_os_now_ns();
	ndelay(900);
	t1 = drvslice_os_now_ns();
	CHECK(t1 - t0 >= 900, "ndelay(900) waits 900 ns");
	t0 = drvslice_os_now_ns();
	usleep_range(3000, 4000);
	t1 = drvslice_os_now_ns();
	CHECK(t1 - t0 >= 3000 * NSEC_PER_USEC, "usleep_range(3000, 4000) sleeps 3 ms");
	j0 = jiffies;
	out("schedule_timeout_uninterruptible(3) = %ld", schedule_timeout_uninterruptible(3));
	CHECK(jiffies - j0 >= 3, "schedule_timeout_uninterruptible(3) sleeps 3 ticks");
	out("msleep_interruptible(1) = %lu", msleep_interruptible(1));
	CHECK(ktime_get() > 0 && ktime_get_real_seconds() > 1600000000,
	      "ktime_get and ktime_get_real_seconds");
}

static void test_strings(void)
{
	char buf[8], big[64];
	ssize_t r;
	int v, ret;
	unsigned int u;
	u8 b;
	bool flag;
	unsigned long ul;
	char *end;

	r = strscpy(buf, "hello", sizeof(buf));
	out("strscpy(\"hello\", 8) = %zd \"%s\"", r, buf);
	r = strscpy(buf, "hello world", sizeof(buf));
	out("strscpy(\"hello world\", 8) = %zd \"%s\"", r, buf);
	r = strscpy(buf, "x", 0);
	out("strscpy(\"x\", 0) = %zd", r);
	memset(big, 'z', sizeof(big));
	r = strscpy_pad(big, "ab", 6);
	out("strscpy_pad(\"ab\", 6) = %zd, bytes %*ph", r, 7, big);
	out("strlcpy(\"hello world\", 8) = %zu \"%s\"", strlcpy(buf, "hello world", sizeof(buf)), buf);
	strscpy(buf, "ab", sizeof(buf));
	out("strlcat(\"ab\", \"cdefghij\", 8) = %zu \"%s\"", strlcat(buf, "cdefghij", sizeof(buf)), buf);

	ret = sprintf(big, "%d-%u-%x", -5, 7, 255);
	out("sprintf = %d \"%s\"", ret, big);
	ret = snprintf(buf, sizeof(buf), "%s", "hello world");
	out("snprintf(8, \"hello world\") = %d \"%s\"", ret, buf);
	ret = scnprintf(buf, sizeof(buf), "%s", "hello world");
	out("scnprintf(8, \"hello world\") = %d \"%s\"", ret, buf);
	out("scnprintf(0) = %d, snprintf(NULL, 0) = %d", scnprintf(buf, 0, "abc"),
	    snprintf(NULL, 0, "abc%d", 12));

	out("[%#x] [%#o] [%.0d] [%5.3d] [%-6s] [%+d] [% d] [%hhx] [%hd] [%c%c] [100%%]",
	    0, 8, 0, 7, "ab", 5, 5, 0x1ff, 70000, 'o', 'k');
	out("[%zu] [%zd] [%lld] [%llx] [%#llX] [%lu] [%*d] [%-*d] [%.*s] [%.s]",
	    (size_t)-1, (ssize_t)-2, LLONG_MIN, 0xdeadbeefcafeULL, 0xabcULL, ULONG_MAX, 4, 7, 4,
	    7, 2, "abc", "abc");
	out("[%s] [%s] [%10s] [%-10s|] [%.3s]", (char *)NULL, (char *)16, "right", "left",
	    "truncate");
	ret = snprintf(big, sizeof(big), "a%nb", &v);
	out("%%n stops: %d \"%s\"", ret, big);

	v = 0;
	ret = kstrtoint("-42\n", 0, &v);
	out("kstrtoint(\"-42\\n\") = %d, %d", ret, v);
	ret = kstrtoint("0x1f", 0, &v);
	out("kstrtoint(\"0x1f\") = %d, %d", ret, v);
	ret = kstrtoint("010", 0, &v);
	out("kstrtoint(\"010\") = %d, %d", ret, v);
	out("kstrtoint(\"42x\") = %d, kstrtou8(\"256\") = %d, kstrtoint(\"2147483648\") = %d",
	    kstrtoint("42x", 0, &v), kstrtou8("256", 10, &b), kstrtoint("2147483648", 10, &v));
	ret = kstrtouint("+7", 10, &u);
	out("kstrtouint(\"+7\") = %d, %u; kstrtouint(\"-7\") = %d", ret, u, kstrtouint("-7", 10, &u));
	ret = kstrtobool("on", &flag);
	out("kstrtobool(\"on\") = %d, %d; (\"x\") = %d", ret, flag, kstrtobool("x", &flag));
	ul = simple_strtoul("0x1fz", &end, 0);
	out("simple_strtoul(\"0x1fz\") = %lu, rest \"%s\"", ul, end);
	out("errname: %s %s %s %s", errname(-EIO), errname(EIO), errname(-EPROBE_DEFER),
	    errname(-999) ?: "(none)");
	strscpy(big, "  padded \n", sizeof(big));
	out("strim: \"%s\", sysfs_streq(\"on\\n\", \"on\") %d, match_string %d",
	    strim(big), sysfs_streq("on\n", "on"),
	    match_string((const char *const[]){ "a", "b", "c" }, 3, "c"));
	ret = hex2bin((u8 *)buf, "0aFf", 2);
	out("hex2bin(\"0aFf\") = %d, %*phN; hex_to_bin('g') = %d", ret, 2, buf, hex_to_bin('g'));
	memcpy(buf, "\0\0\0x", 4);
	out("memchr_inv: %td, all zero: %d", (char *)memchr_inv(buf, 0, 4) - buf,
	    memchr_inv(buf, 0, 3) == NULL);
}

void ktest_symbol_target(void);
void ktest_symbol_target(void)
{
}

static void test_pointer_formats(void)
{
	static const u8 mac[6] = { 0x00, 0x1b, 0x21, 0x0a, 0xbc, 0xde };
	static const u8 ip4[4] = { 192, 168, 1, 20 };
	static const u8 ip6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x1b, 0x21, 0xff,
				    0xfe, 0x0a, 0xbc, 0xde };
	static const u8 ip6_v4[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 0, [14] = 0,
				       [15] = 1 };
	static const u8 uuid[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	struct resource mem = DEFINE_RES_MEM(0xfebf0000, 0x100);
	struct resource io = DEFINE_RES_IO(0xc000, 0x100);
	phys_addr_t phys = 0xfebf0000;
	unsigned long bits = 0x2f1;
	char sym[128];

	out("%%pM %pM %%pMR %pMR %%pMF %pMF %%pm %pm", mac, mac, mac, mac);
	out("%%pI4 %pI4 %%pi4 %pi4 %%pI6 %pI6", ip4, ip4, ip6);
	out("%%pI6c %pI6c %pI6c %%pi6 %pi6", ip6, ip6_v4, ip6);
	out("%%pe %pe %pe %pe %pe", ERR_PTR(-ENOMEM), ERR_PTR(-EPROBE_DEFER), ERR_PTR(-1234),
	    ERR_PTR(-EAGAIN));
	out("%%*ph %*ph %%*phC %*phC %%*phN %*phN %%ph %ph", 6, mac, 6, mac, 6, mac, mac);
	out("%%px %px %%p %p %p %%pK %pK %%pe %pe", (void *)0xffff888012345678UL, NULL,
	    (void *)0x1234, (void *)0x42, (void *)0x1000);
	out("%%pa %pa %%pR %pR %pR %%pr %pr", &phys, &mem, &io, &mem);
	out("%%pU %pU %%pUl %pUl %%pUB %pUB", uuid, uuid, uuid);
	out("%%pb %*pb %%pbl %*pbl", 12, &bits, 12, &bits);
	out("%%pM(null) %pM %%pI4(efault) %pI4 %%pMfoo %pMfoo|", NULL, (void *)8, mac);
	out("%%ps %ps", ktest_symbol_target);
	snprintf(sym, sizeof(sym), "%pS", ktest_symbol_target);
	CHECK(!strncmp(sym, "ktest_symbol_target+0x0/0x", 26), "%pS is symbol+0x0/size");
	out("%%pd %pd %%pE %pE", (void *)0x1000, (void *)0x1000);
}

static __printf(1, 2) void vformat_line(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	out("%%pV [%pV]", &vaf);
	va_end(args);
}

static void test_printk(void)
{
	struct device_driver drv = { .name = "8139cp" };
	struct bus_type bus = { .name = "pci" };
	struct class cls = { .name = "sound" };
	struct device pdev = { .init_name = "0000:00:03.0", .driver = &drv };
	struct device busdev = { .init_name = "0000:00:04.0", .bus = &bus };
	struct device classdev = { .class = &cls };
	struct net_device *ndev = kzalloc(sizeof(*ndev), GFP_KERNEL);
	struct _ddebug desc = {
		.modname = "ktest", .function = "ktest_probe", .filename = __FILE__,
		.format = "", .lineno = 42,
		.flags = _DPRINTK_FLAGS_PRINT | _DPRINTK_FLAGS_INCL_MODNAME |
			 _DPRINTK_FLAGS_INCL_FUNCNAME | _DPRINTK_FLAGS_INCL_LINENO,
	};
	DEFINE_RATELIMIT_STATE(rs, HZ, 3);
	char limited[6];
	u8 dump[20];
	int ret;

	vformat_line("%s=%d", "x", 7);

	ret = printk(KERN_ERR "error %d\n", 5);
	out("printk(KERN_ERR \"error %%d\\n\", 5) = %d", ret);
	printk("default level\n");
	printk(KERN_INFO "part one,");
	printk(KERN_CONT " part two");
	ret = printk(KERN_CONT " and three\n");
	out("KERN_CONT printk = %d", ret);
	printk(KERN_NOTICE "line one\nline two\n");
	pr_warn("%s: %pM %pI4 %pe\n", "pr_warn", "\x00\x11\x22\x33\x44\x55", "\x0a\x00\x00\x02",
		ERR_PTR(-ETIMEDOUT));
	printk(KERN_DEBUG "debug %*phC\n", 3, "\x01\x02\x03");
	printk(KERN_INFO "unterminated, closed by the next message");
	printk(KERN_ERR "next message\n");

	dev_err(&pdev, "probe failed: %pe\n", ERR_PTR(-ENODEV));
	dev_warn(&busdev, "no driver bound, %d BARs\n", 2);
	classdev.kobj.name = "card0";
	dev_info(&classdev, "kobject name and class name\n");
	dev_notice(NULL, "no device\n");
	_dev_printk(KERN_CRIT, &pdev, "_dev_printk at %s\n", "KERN_CRIT");

	strscpy(ndev->name, "eth%d", sizeof(ndev->name));
	ndev->dev.parent = &pdev;
	ndev->reg_state = NETREG_UNINITIALIZED;
	netdev_info(ndev, "link %s\n", "down");
	strscpy(ndev->name, "eth3", sizeof(ndev->name));
	ndev->reg_state = NETREG_REGISTERED;
	netdev_info(ndev, "link up, %d Mbps\n", 100);
	ndev->reg_state = NETREG_UNREGISTERING;
	netdev_warn(ndev, "going away\n");
	ndev->dev.parent = NULL;
	ndev->reg_state = NETREG_REGISTERED;
	netdev_err(ndev, "no parent\n");
	netdev_notice(NULL, "no net_device\n");

	__dynamic_pr_debug(&desc, "dynamic %d\n", 1);
	ndev->dev.parent = &pdev;
	__dynamic_netdev_dbg(&desc, ndev, "dynamic netdev\n");
	desc.flags = _DPRINTK_FLAGS_PRINT;
	__dynamic_dev_dbg(&desc, &pdev, "dynamic dev\n");
	kfree(ndev);

	__warn_printk("warned %d\n", 1);

	for (int i = 0; i < sizeof(dump); i++)
		dump[i] = 'A' + i;
	dump[3] = 0x7f;
	print_hex_dump(KERN_INFO, "dump: ", DUMP_PREFIX_OFFSET, 16, 1, dump, sizeof(dump), true);
	print_hex_dump(KERN_INFO, "dump4: ", DUMP_PREFIX_NONE, 16, 4, dump, 8, false);

	for (int i = 0; i < 5; i++)
		limited[i] = '0' + __ratelimit(&rs);
	limited[5] = '\0';
	out("___ratelimit(burst 3) x5: %s", limited);
}

static void test_params(void)
{
	char buf[PAGE_SIZE];
	int ret;

	out("THIS_MODULE: \"%s\", param owner is THIS_MODULE: %d", THIS_MODULE->name,
	    __param_debug.mod == THIS_MODULE);
	ret = __param_debug.ops->set("42", &__param_debug);
	out("debug=42: %d, debug = %d", ret, debug);
	ret = __param_debug.ops->get(buf, &__param_debug);
	strreplace(buf, '\n', '|');
	out("get: %d \"%s\"", ret, buf);
	ret = __param_debug.ops->set("0x10", &__param_debug);
	out("debug=0x10: %d, debug = %d", ret, debug);
	out("debug=abc: %d, debug=99999999999: %d, debug still %d",
	    __param_debug.ops->set("abc", &__param_debug),
	    __param_debug.ops->set("99999999999", &__param_debug), debug);

	out("bool NOARG flag: %d", !!(__param_use_io.ops->flags & KERNEL_PARAM_OPS_FL_NOARG));
	ret = __param_use_io.ops->set(NULL, &__param_use_io);
	__param_use_io.ops->get(buf, &__param_use_io);
	strreplace(buf, '\n', '|');
	out("use_io (no value): %d, get \"%s\"", ret, buf);
	ret = __param_use_io.ops->set("off", &__param_use_io);
	__param_use_io.ops->get(buf, &__param_use_io);
	strreplace(buf, '\n', '|');
	out("use_io=off: %d, get \"%s\"", ret, buf);

	__param_model.ops->set("rtl8139c+", &__param_model);
	__param_model.ops->set("rtl8139d", &__param_model);
	__param_model.ops->get(buf, &__param_model);
	strreplace(buf, '\n', '|');
	out("model: \"%s\", get \"%s\"", model, buf);
	__param_model.ops->free(__param_model.arg);

	ret = __param_ints.ops->set("1,-2,0x3", &__param_ints);
	__param_ints.ops->get(buf, &__param_ints);
	strreplace(buf, '\n', '|');
	out("ints=1,-2,0x3: %d, nints %d, get \"%s\"", ret, nints, buf);
	ret = __param_ints.ops->set("1,2,3,4,5", &__param_ints);
	out("ints=1,2,3,4,5: %d", ret);
	ret = __param_port.ops->set("0x310", &__param_port);
	__param_port.ops->get(buf, &__param_port);
	strreplace(buf, '\n', '|');
	out("port=0x310: %d, get \"%s\"", ret, buf);
}

/*
 * The MII library (k-mii.c) against a fake PHY at address 1 behind the
 * driver's mdio_read/mdio_write: registers as written (BMCR's self-clearing
 * ANRESTART and RESET read back 0), except BMSR's link status, which is
 * latched low as a PHY's is: after a link drop the first read says down.
 * Every access is traced ("r05": read of register 5; "w00=1200": write;
 * "r2:01": at another address, where there is no PHY and reads give 0xffff).
 */
#define KPHY_ID 1

static struct {
	u16 reg[32];
	bool link;		/* the link now */
	bool latched_down;	/* a drop BMSR has not reported yet */
	char trace[256];
	size_t len;
} kphy;

static struct net_device *kphy_dev;
static bool kphy_dev_ok = true;

static __printf(1, 2) void kphy_trace(const char *fmt, ...)
{
	va_list args;

	if (kphy.len)
		kphy.len += scnprintf(kphy.trace + kphy.len, sizeof(kphy.trace) - kphy.len, " ");
	va_start(args, fmt);
	kphy.len += vscnprintf(kphy.trace + kphy.len, sizeof(kphy.trace) - kphy.len, fmt, args);
	va_end(args);
}

/* The accesses since the last call ("-" for none), then forget them. */
static const char *kphy_accesses(void)
{
	static char last[256];

	strscpy(last, kphy.len ? kphy.trace : "-", sizeof(last));
	kphy.len = 0;
	kphy.trace[0] = '\0';
	return last;
}

static int kphy_read(struct net_device *dev, int phy_id, int location)
{
	int val;

	kphy_dev_ok &= dev == kphy_dev;
	if (phy_id != KPHY_ID) {
		kphy_trace("r%d:%02x", phy_id, location);
		return 0xffff;
	}
	kphy_trace("r%02x", location);
	val = kphy.reg[location & 0x1f];
	if (location == MII_BMSR) {
		val &= ~BMSR_LSTATUS;
		if (kphy.link && !kphy.latched_down)
			val |= BMSR_LSTATUS;
		kphy.latched_down = false;
	}
	return val;
}

static void kphy_write(struct net_device *dev, int phy_id, int location, int val)
{
	kphy_dev_ok &= dev == kphy_dev;
	if (phy_id != KPHY_ID) {
		kphy_trace("w%d:%02x=%04x", phy_id, location, val);
		return;
	}
	kphy_trace("w%02x=%04x", location, val);
	if (location == MII_BMCR)
		val &= ~(BMCR_ANRESTART | BMCR_RESET);
	kphy.reg[location & 0x1f] = val;
}

static void kphy_set_link(bool up)
{
	if (!up)
		kphy.latched_down = true;
	kphy.link = up;
}

/*
 * netif_carrier_on/off are the kernel side's, not the library's: the test
 * stands in for the kernel, recording the calls and keeping the
 * u-driver's dev->state as the kernel's would be.
 */
static char carrier_calls[64];

void netif_carrier_on(struct net_device *dev)
{
	clear_bit(__LINK_STATE_NOCARRIER, &dev->state);
	strlcat(carrier_calls, " on", sizeof(carrier_calls));
}

void netif_carrier_off(struct net_device *dev)
{
	set_bit(__LINK_STATE_NOCARRIER, &dev->state);
	strlcat(carrier_calls, " off", sizeof(carrier_calls));
}

/* The carrier calls since the last call ("none"), then forget them. */
static const char *carrier_take(void)
{
	static char last[64];

	strscpy(last, carrier_calls[0] ? carrier_calls + 1 : "none", sizeof(last));
	carrier_calls[0] = '\0';
	return last;
}

/* A PHY at 100 Mbps, autonegotiation on and complete, advertising 10/100. */
static void kphy_reset(void)
{
	memset(&kphy, 0, sizeof(kphy));
	kphy.reg[MII_BMCR] = BMCR_ANENABLE | BMCR_SPEED100 | BMCR_FULLDPLX;
	kphy.reg[MII_BMSR] = BMSR_100FULL | BMSR_100HALF | BMSR_10FULL | BMSR_10HALF |
			     BMSR_ANEGCOMPLETE | BMSR_ANEGCAPABLE | BMSR_ERCAP;
	kphy.reg[MII_PHYSID1] = 0x001c;
	kphy.reg[MII_ADVERTISE] = ADVERTISE_CSMA | ADVERTISE_ALL;
	/* The partner: 100 half and 10 full, the best common mode 100 half. */
	kphy.reg[MII_LPA] = LPA_LPACK | LPA_100HALF | LPA_10FULL | ADVERTISE_CSMA;
	kphy.link = true;
}

static void mii_out_ksettings(const char *what, struct mii_if_info *mii,
			      const struct ethtool_link_ksettings *ks)
{
	out("%s: autoneg %u speed %u duplex %u port %u phy %u mdio_support %u supported %#lx advertising %#lx lp %#lx, full_duplex %u, mdio %s",
	    what, ks->base.autoneg, ks->base.speed, ks->base.duplex, ks->base.port,
	    ks->base.phy_address, ks->base.mdio_support, ks->link_modes.supported[0],
	    ks->link_modes.advertising[0], ks->link_modes.lp_advertising[0], mii->full_duplex,
	    kphy_accesses());
}

static void test_mii_link(struct mii_if_info *mii)
{
	int up, latched, down, r1, r2;

	kphy_reset();
	up = mii_link_ok(mii);
	out("mii_link_ok, link up: %d, mdio %s", up, kphy_accesses());
	kphy_set_link(false);
	kphy_set_link(true);
	latched = mii_link_ok(mii);
	kphy_set_link(false);
	down = mii_link_ok(mii);
	out("mii_link_ok, up after a drop (latched low): %d, down: %d", latched, down);

	kphy_reset();
	r1 = mii_nway_restart(mii);
	out("mii_nway_restart: %d, mdio %s", r1, kphy_accesses());
	kphy.reg[MII_BMCR] = BMCR_SPEED100 | BMCR_FULLDPLX;
	r2 = mii_nway_restart(mii);
	out("mii_nway_restart, autoneg off: %d, mdio %s", r2, kphy_accesses());

	kphy.reg[MII_BMSR] |= BMSR_ESTATEN;
	kphy.reg[MII_ESTATUS] = ESTATUS_1000_TFULL;
	r1 = mii_check_gmii_support(mii);
	out("mii_check_gmii_support, 1000BASE-T full: %d, mdio %s", r1, kphy_accesses());
	kphy.reg[MII_ESTATUS] = 0;
	r1 = mii_check_gmii_support(mii);
	kphy.reg[MII_BMSR] &= ~BMSR_ESTATEN;
	kphy.reg[MII_ESTATUS] = ESTATUS_1000_TFULL;
	r2 = mii_check_gmii_support(mii);
	out("mii_check_gmii_support, no 1000BASE-T: %d, no extended status: %d, mdio %s", r1, r2,
	    kphy_accesses());

	/* mii_check_link: the carrier follows the link, the kernel called on a change. */
	kphy_reset();
	netif_carrier_on(mii->dev);
	carrier_take();
	kphy_set_link(false);
	mii_check_link(mii);
	out("mii_check_link, carrier on, link down: %s", carrier_take());
	kphy_set_link(true);
	mii_check_link(mii);
	out("mii_check_link, carrier off, link up: %s", carrier_take());
	mii_check_link(mii);
	out("mii_check_link, no change: %s", carrier_take());
}

static void test_mii_media(struct mii_if_info *mii)
{
	unsigned int r;

	kphy_reset();
	netif_carrier_off(mii->dev);
	carrier_take();
	mii->advertising = 0;
	mii->full_duplex = 1;
	r = mii_check_media(mii, 1, 1);
	out("mii_check_media(init), 100 half partner: %u, carrier %s, full_duplex %u, advertising %#x, mdio %s",
	    r, carrier_take(), mii->full_duplex, mii->advertising, kphy_accesses());
	r = mii_check_media(mii, 1, 0);
	out("mii_check_media, no change: %u, carrier %s, mdio %s", r, carrier_take(),
	    kphy_accesses());
	kphy_set_link(false);
	r = mii_check_media(mii, 1, 0);
	out("mii_check_media, link down: %u, carrier %s, mdio %s", r, carrier_take(),
	    kphy_accesses());
	/* Back up with a 100 full partner; the advertisement is the one read before. */
	kphy.reg[MII_ADVERTISE] = ADVERTISE_CSMA | ADVERTISE_10HALF;
	kphy.reg[MII_LPA] = LPA_LPACK | LPA_100FULL | LPA_100HALF | LPA_10FULL | LPA_10HALF |
			    ADVERTISE_CSMA;
	kphy_set_link(true);
	r = mii_check_media(mii, 1, 0);
	out("mii_check_media, link up, 100 full partner: %u, carrier %s, full_duplex %u, mdio %s",
	    r, carrier_take(), mii->full_duplex, kphy_accesses());
	kphy_set_link(false);
	r = mii_check_media(mii, 0, 0);
	out("mii_check_media, link down, quiet: %u, carrier %s", r, carrier_take());
	kphy_accesses();
	kphy_set_link(true);
	mii->force_media = 1;
	r = mii_check_media(mii, 1, 0);
	out("mii_check_media, forced media, link up: %u, carrier %s, mdio %s", r, carrier_take(),
	    kphy_accesses());
	mii->force_media = 0;
	mii->supports_gmii = 1;
	kphy.reg[MII_ADVERTISE] = ADVERTISE_CSMA | ADVERTISE_ALL;
	kphy.reg[MII_STAT1000] = LPA_1000FULL;
	r = mii_check_media(mii, 1, 1);
	out("mii_check_media(init), gmii, 1000 full partner: %u, carrier %s, full_duplex %u, mdio %s",
	    r, carrier_take(), mii->full_duplex, kphy_accesses());
	mii->supports_gmii = 0;
}

static void test_mii_ethtool(struct mii_if_info *mii)
{
	struct ethtool_link_ksettings ks;
	struct ethtool_cmd ecmd;
	int r1, r2, r3, r4;
	u32 legacy, legacy2;

	kphy_reset();
	memset(&ks, 0, sizeof(ks));
	mii->full_duplex = 1;
	mii_ethtool_get_link_ksettings(mii, &ks);
	mii_out_ksettings("get_link_ksettings, autoneg", mii, &ks);

	mii->supports_gmii = 1;
	kphy.reg[MII_CTRL1000] = ADVERTISE_1000FULL;
	kphy.reg[MII_STAT1000] = LPA_1000FULL;
	memset(&ks, 0, sizeof(ks));
	mii_ethtool_get_link_ksettings(mii, &ks);
	mii_out_ksettings("get_link_ksettings, gmii", mii, &ks);
	mii->supports_gmii = 0;

	kphy_reset();
	kphy.reg[MII_BMCR] = BMCR_SPEED100 | BMCR_FULLDPLX;
	memset(&ks, 0, sizeof(ks));
	mii_ethtool_get_link_ksettings(mii, &ks);
	mii_out_ksettings("get_link_ksettings, forced", mii, &ks);

	kphy_reset();
	memset(&ecmd, 0, sizeof(ecmd));
	mii_ethtool_gset(mii, &ecmd);
	out("gset: autoneg %u speed %u duplex %u port %u transceiver %u phy %u supported %#x advertising %#x lp %#x, mdio %s",
	    ecmd.autoneg, ethtool_cmd_speed(&ecmd), ecmd.duplex, ecmd.port, ecmd.transceiver,
	    ecmd.phy_address, ecmd.supported, ecmd.advertising, ecmd.lp_advertising,
	    kphy_accesses());

	/* Forced to 10 half, then autonegotiation again with 10 half and 100 full. */
	kphy_reset();
	mii->full_duplex = 1;
	mii->force_media = 0;
	memset(&ks, 0, sizeof(ks));
	ks.base.speed = SPEED_10;
	ks.base.duplex = DUPLEX_HALF;
	ks.base.port = PORT_MII;
	ks.base.phy_address = KPHY_ID;
	ks.base.autoneg = AUTONEG_DISABLE;
	r1 = mii_ethtool_set_link_ksettings(mii, &ks);
	out("set_link_ksettings 10 half: %d, force_media %u, full_duplex %u, mdio %s", r1,
	    mii->force_media, mii->full_duplex, kphy_accesses());
	ks.base.autoneg = AUTONEG_ENABLE;
	__set_bit(ETHTOOL_LINK_MODE_10baseT_Half_BIT, ks.link_modes.advertising);
	__set_bit(ETHTOOL_LINK_MODE_100baseT_Full_BIT, ks.link_modes.advertising);
	r1 = mii_ethtool_set_link_ksettings(mii, &ks);
	out("set_link_ksettings autoneg 10 half, 100 full: %d, force_media %u, advertising %#x, mdio %s",
	    r1, mii->force_media, mii->advertising, kphy_accesses());

	ks.base.speed = SPEED_1000;
	r1 = mii_ethtool_set_link_ksettings(mii, &ks);
	ks.base.speed = SPEED_100;
	ks.base.phy_address = 2;
	r2 = mii_ethtool_set_link_ksettings(mii, &ks);
	ks.base.phy_address = KPHY_ID;
	ks.base.duplex = DUPLEX_UNKNOWN;
	r3 = mii_ethtool_set_link_ksettings(mii, &ks);
	ks.base.duplex = DUPLEX_FULL;
	linkmode_zero(ks.link_modes.advertising);
	__set_bit(ETHTOOL_LINK_MODE_Pause_BIT, ks.link_modes.advertising);
	r4 = mii_ethtool_set_link_ksettings(mii, &ks);
	out("set_link_ksettings refused: 1000 without gmii %d, phy 2 %d, duplex unknown %d, nothing to advertise %d, mdio %s",
	    r1, r2, r3, r4, kphy_accesses());

	memset(&ecmd, 0, sizeof(ecmd));
	ethtool_cmd_speed_set(&ecmd, SPEED_100);
	ecmd.duplex = DUPLEX_FULL;
	ecmd.port = PORT_MII;
	ecmd.transceiver = XCVR_EXTERNAL;
	ecmd.phy_address = KPHY_ID;
	ecmd.autoneg = AUTONEG_DISABLE;
	r1 = mii_ethtool_sset(mii, &ecmd);
	ecmd.transceiver = XCVR_INTERNAL;
	r2 = mii_ethtool_sset(mii, &ecmd);
	out("sset 100 full: external transceiver %d, internal %d, full_duplex %u, mdio %s", r1, r2,
	    mii->full_duplex, kphy_accesses());

	/* The legacy u32 is the first 32 modes; beyond them, false. */
	linkmode_zero(ks.link_modes.advertising);
	__set_bit(ETHTOOL_LINK_MODE_100baseT_Full_BIT, ks.link_modes.advertising);
	r1 = ethtool_convert_link_mode_to_legacy_u32(&legacy, ks.link_modes.advertising);
	legacy2 = legacy;
	__set_bit(ETHTOOL_LINK_MODE_1000baseX_Full_BIT, ks.link_modes.advertising);
	r2 = ethtool_convert_link_mode_to_legacy_u32(&legacy, ks.link_modes.advertising);
	ethtool_convert_legacy_u32_to_link_mode(ks.link_modes.advertising, ADVERTISED_10baseT_Half);
	out("ethtool_convert_link_mode_to_legacy_u32: %d %#x, with 1000baseX_Full (bit %d): %d %#x; back from 0x1: modes %*pbl",
	    r1, legacy2, ETHTOOL_LINK_MODE_1000baseX_Full_BIT, r2, legacy,
	    __ETHTOOL_LINK_MODE_MASK_NBITS, ks.link_modes.advertising);
}

static void test_mii_ioctl(struct mii_if_info *mii)
{
	struct mii_ioctl_data data;
	unsigned int chg;
	int r;

	kphy_reset();
	mii->full_duplex = 0;
	mii->force_media = 0;
	mii->advertising = 0;

	data = (struct mii_ioctl_data){ .phy_id = 0, .reg_num = MII_PHYSID1 };
	r = generic_mii_ioctl(mii, &data, SIOCGMIIPHY, NULL);
	out("SIOCGMIIPHY: %d, phy_id %u, val_out %#06x, mdio %s", r, data.phy_id, data.val_out,
	    kphy_accesses());
	data = (struct mii_ioctl_data){ .phy_id = 0x21, .reg_num = 0x20 | MII_LPA };
	r = generic_mii_ioctl(mii, &data, SIOCGMIIREG, NULL);
	out("SIOCGMIIREG phy 0x21 reg 0x25 (masked 0x1f): %d, phy_id %u, reg_num %u, val_out %#06x, mdio %s",
	    r, data.phy_id, data.reg_num, data.val_out, kphy_accesses());
	data = (struct mii_ioctl_data){ .phy_id = 2, .reg_num = MII_BMSR };
	r = generic_mii_ioctl(mii, &data, SIOCGMIIREG, NULL);
	out("SIOCGMIIREG phy 2: %d, val_out %#06x, mdio %s", r, data.val_out, kphy_accesses());

	chg = 7;
	data = (struct mii_ioctl_data){ .phy_id = KPHY_ID, .reg_num = MII_BMCR,
					.val_in = BMCR_SPEED100 | BMCR_FULLDPLX };
	r = generic_mii_ioctl(mii, &data, SIOCSMIIREG, &chg);
	out("SIOCSMIIREG BMCR 100 full forced: %d, duplex changed %u, force_media %u, full_duplex %u, mdio %s",
	    r, chg, mii->force_media, mii->full_duplex, kphy_accesses());
	data.val_in = BMCR_ANENABLE | BMCR_ANRESTART;
	r = generic_mii_ioctl(mii, &data, SIOCSMIIREG, &chg);
	out("SIOCSMIIREG BMCR autoneg: %d, duplex changed %u, force_media %u, full_duplex %u, mdio %s",
	    r, chg, mii->force_media, mii->full_duplex, kphy_accesses());
	data = (struct mii_ioctl_data){ .phy_id = KPHY_ID, .reg_num = MII_ADVERTISE,
					.val_in = ADVERTISE_CSMA | ADVERTISE_10HALF | ADVERTISE_10FULL };
	r = generic_mii_ioctl(mii, &data, SIOCSMIIREG, &chg);
	out("SIOCSMIIREG ADVERTISE: %d, duplex changed %u, advertising %#x, register %#06x, mdio %s",
	    r, chg, mii->advertising, kphy.reg[MII_ADVERTISE], kphy_accesses());
	data = (struct mii_ioctl_data){ .phy_id = 2, .reg_num = MII_BMCR, .val_in = BMCR_FULLDPLX };
	r = generic_mii_ioctl(mii, &data, SIOCSMIIREG, &chg);
	out("SIOCSMIIREG phy 2 BMCR: %d, duplex changed %u, force_media %u, full_duplex %u, mdio %s",
	    r, chg, mii->force_media, mii->full_duplex, kphy_accesses());
	chg = 7;
	r = generic_mii_ioctl(mii, &data, SIOCGIFFLAGS, &chg);
	out("generic_mii_ioctl(SIOCGIFFLAGS): %d, duplex changed %u, mdio %s", r, chg,
	    kphy_accesses());
}

static void test_mii(void)
{
	struct mii_if_info mii = {
		.phy_id = KPHY_ID,
		.phy_id_mask = 0x1f,
		.reg_num_mask = 0x1f,
		.mdio_read = kphy_read,
		.mdio_write = kphy_write,
	};

	kphy_dev = kzalloc(sizeof(*kphy_dev), GFP_KERNEL);
	strscpy(kphy_dev->name, "eth0", sizeof(kphy_dev->name));
	kphy_dev->reg_state = NETREG_REGISTERED;
	mii.dev = kphy_dev;

	test_mii_link(&mii);
	test_mii_media(&mii);
	test_mii_ethtool(&mii);
	test_mii_ioctl(&mii);
	CHECK(kphy_dev_ok, "mdio_read/mdio_write are called with mii->dev");
	kfree(kphy_dev);
}

/*
 * The PCI driver registry (k-pci-driver.c): what the driver's module init
 * registers and the host finds (drvslice-host.h).
 */
static const struct pci_device_id ktest_pci_ids[] = {
	{ PCI_DEVICE_SUB(0x10ec, 0x8139, 0x1186, 0x1300), .driver_data = 1 },
	{ PCI_DEVICE(0x10ec, 0x8129), .driver_data = 2 },
	{ PCI_DEVICE_CLASS(PCI_CLASS_NETWORK_ETHERNET << 8, 0xffff00), .driver_data = 3 },
	{ PCI_DEVICE(0x1234, 0x0001), .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE,
	  .driver_data = 4 },
	{ }
};

static int ktest_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return 0;
}

static int ktest_dev_probe(struct device *dev)
{
	return 0;
}

static struct pci_driver ktest_pci_driver = {
	.name = "ktest-pci",
	.id_table = ktest_pci_ids,
	.probe = ktest_pci_probe,
};

static struct pci_driver ktest_pci_driver2 = {
	.name = "ktest-pci2",
	.id_table = ktest_pci_ids,
	.probe = ktest_pci_probe,
};

static struct pci_driver ktest_pci_same_name = {
	.name = "ktest-pci",
	.probe = ktest_pci_probe,
};

static struct pci_driver ktest_pci_old = {
	.name = "ktest-old",
	.driver = { .probe = ktest_dev_probe },
};

/* drvslice_pci_match: the return value and the driver_data of the entry ("-": none). */
static const char *pci_match_str(const struct pci_driver *drv, u16 vendor, u16 device,
				 u16 subvendor, u16 subdevice, u32 class)
{
	static char buf[4][32];
	static int n;
	const struct pci_device_id *id = (void *)1;
	int r = drvslice_pci_match(drv, vendor, device, subvendor, subdevice, class, &id);
	char *s = buf[n++ % ARRAY_SIZE(buf)];

	if (id)
		snprintf(s, sizeof(buf[0]), "%d (entry %lu)", r,
			 id == (void *)1 ? 99UL : id->driver_data);
	else
		snprintf(s, sizeof(buf[0]), "%d (-)", r);
	return s;
}

static void test_pci_driver(void)
{
	const struct pci_driver *d;
	int r1, r2, r3;

	out("no driver yet: first %s", drvslice_pci_driver(NULL) ? "found" : "NULL");
	r1 = pci_register_driver(&ktest_pci_driver);
	r2 = pci_register_driver(&ktest_pci_driver2);
	out("pci_register_driver: %d, %d; driver.name \"%s\", owner is THIS_MODULE %d, mod_name \"%s\"",
	    r1, r2, ktest_pci_driver.driver.name, ktest_pci_driver.driver.owner == THIS_MODULE,
	    ktest_pci_driver.driver.mod_name);
	d = drvslice_pci_driver(NULL);
	out("drvslice_pci_driver: first \"%s\", by name %d %d, unknown %s", d ? d->name : "(none)",
	    drvslice_pci_driver("ktest-pci") == &ktest_pci_driver,
	    drvslice_pci_driver("ktest-pci2") == &ktest_pci_driver2,
	    drvslice_pci_driver("ktest") ? "found" : "NULL");

	d = &ktest_pci_driver;
	out("match 10ec:8139 1186:1300 ethernet: %s; 10ec:8129 1043:8109 other network: %s",
	    pci_match_str(d, 0x10ec, 0x8139, 0x1186, 0x1300, 0x020000),
	    pci_match_str(d, 0x10ec, 0x8129, 0x1043, 0x8109, 0x028000));
	out("match 10ec:8139 1186:1301 ethernet: %s; prog-if 01: %s; other network: %s",
	    pci_match_str(d, 0x10ec, 0x8139, 0x1186, 0x1301, 0x020000),
	    pci_match_str(d, 0x10ec, 0x8139, 0x1186, 0x1301, 0x020001),
	    pci_match_str(d, 0x10ec, 0x8139, 0x1186, 0x1301, 0x028000));
	out("match 1234:0001 (override only): %s; 8086:100e display: %s; no table: %s",
	    pci_match_str(d, 0x1234, 0x0001, 0x1234, 0x0001, 0x010000),
	    pci_match_str(d, 0x8086, 0x100e, 0x8086, 0x001e, 0x030000),
	    pci_match_str(&ktest_pci_same_name, 0x10ec, 0x8139, 0x1186, 0x1300, 0x020000));

	r1 = pci_register_driver(&ktest_pci_driver);
	r2 = pci_register_driver(&ktest_pci_same_name);
	r3 = pci_register_driver(&ktest_pci_old);
	out("register again: %d, another driver of the same name: %d, with device_driver methods: %d",
	    r1, r2, r3);
	pci_unregister_driver(&ktest_pci_old);

	pci_unregister_driver(&ktest_pci_driver);
	d = drvslice_pci_driver(NULL);
	out("after pci_unregister_driver: first \"%s\", \"ktest-pci\" %s", d ? d->name : "(none)",
	    drvslice_pci_driver("ktest-pci") ? "found" : "NULL");
	pci_unregister_driver(&ktest_pci_driver);
	r1 = pci_register_driver(&ktest_pci_driver);
	d = drvslice_pci_driver(NULL);
	out("registered again: %d, first \"%s\"", r1, d ? d->name : "(none)");
	pci_unregister_driver(&ktest_pci_driver2);
	pci_unregister_driver(&ktest_pci_driver);
	out("all unregistered: first %s", drvslice_pci_driver(NULL) ? "found" : "NULL");
}

int ktest_run(void)
{
	test_slab();
	test_kmem_cache();
	test_locks();
	test_time();
	test_strings();
	test_pointer_formats();
	test_printk();
	test_params();
	test_mii();
	test_pci_driver();
	return failures;
}
