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
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

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
	 * jiffies counts HZ ticks from INITIAL_JIFFIES at boot: never ahead of
	 * CLOCK_MONOTONIC, behind it by no more than a starved ticker thread
	 * could be (a tenth of a second).  A wrong base or rate is far off.
	 */
	since_boot = jiffies - INITIAL_JIFFIES;
	t0 = drvslice_os_now_ns();
	CHECK(since_boot <= ns_to_ticks(t0) + 1 && since_boot + HZ / 10 >= ns_to_ticks(t0),
	      "jiffies is INITIAL_JIFFIES + CLOCK_MONOTONIC at HZ");

	j0 = jiffies;
	t0 = drvslice_os_now_ns();
	msleep(20);
	j1 = jiffies;
	t1 = drvslice_os_now_ns();
	CHECK(j1 - j0 >= msecs_to_jiffies(20) + 1, "msleep(20) sleeps msecs_to_jiffies(20) + 1 ticks");
	CHECK(j1 - j0 <= ns_to_ticks(t1 - t0) + 2 && j1 - j0 + HZ / 10 >= ns_to_ticks(t1 - t0),
	      "jiffies advance at HZ across msleep(20)");

	/*
	 * Busy-waiting, only the ticker thread moves jiffies: it must move by
	 * msecs_to_jiffies(20) within a second, and not before 20 ms less a
	 * tick have passed.
	 */
	j0 = jiffies;
	t0 = drvslice_os_now_ns();
	do {
		udelay(500);
		t1 = drvslice_os_now_ns();
	} while (jiffies - j0 < msecs_to_jiffies(20) && t1 - t0 < NSEC_PER_SEC);
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
	return failures;
}
