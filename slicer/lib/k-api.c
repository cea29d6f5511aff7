// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the kernel API that runs in the kernel.
 *
 * The functions of the kernel a user half calls that change the kernel's
 * objects (the net_device, the PCI function, its interrupt, its DMA
 * buffers, its registers) are defined here under their own names and
 * prototypes, each a downcall of the kernel API's entry
 * (module/include/drvslice_api_entries.h) that the nucleus's thunk
 * (module/slice_api.c) checks and runs.  The MMIO and port accessors the
 * user half's drvslice-user.h redirects (drvslice_readb ... outl) and the
 * inline netif_* functions it overrides (they read dev->state and
 * dev->_tx, which the u-driver's copy of a net_device does not have) are
 * downcalls too.
 *
 * A downcall that fails (no nucleus, a refusal, a malformed answer) is
 * said once per function with pr_err, and the function returns what the
 * kernel's returns when it fails: NULL, the errno, all-ones from a
 * register, false from a test.
 *
 * What the u-driver's copy must mirror is mirrored: the address a
 * dev_addr_mod sets, in its copy of the kernel's address buffer; the
 * carrier bit of dev->state (netif_carrier_on/off/ok), for the MII
 * library's inline netif_carrier_ok(); a sound DMA buffer's bus address.
 *
 * Sound (ALSA): the card, its private area, its PCMs, controls, AK4531
 * mixer and MIDI port are the kernel's, the u-driver holds copies; the
 * devm_ and pcim_ calls are the plain ones, undone by the kernel when the
 * device goes.  What the kernel API refuses (proc entries, I/O ports
 * outside the device's BARs, so a gameport) fails here as the kernel's
 * function fails, said; what no call of it can reach (a seq_file, a wait
 * queue of the kernel's) is said once and does nothing.
 */
#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/gameport.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/pm_wakeup.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <sound/ak4531_codec.h>
#include <sound/control.h>
#include <sound/core.h>
#include <sound/info.h>
#include <sound/memalloc.h>
#include <sound/pcm.h>
#include <sound/rawmidi.h>

#include "drvslice-host.h"
#include "drvslice-user.h"
#include "k-lib.h"
#include "drvslice_api_entries.h"

const struct drvslice_driver drvslice_api_user = {
	.name = "kernel-api",
	.nentries = DRVSLICE_API_N,
	.entries = drvslice_api_entries,
};

static unsigned long api_reported[BITS_TO_LONGS(DRVSLICE_API_N)];

/* The kernel API call @n through entry @e (drvslice_api_entries[n], or
 * one made at run time): 0, or a negative errno (said once). */
static int api_call_entry(const struct drvslice_entry *e, unsigned int n,
			  void *const args[], void *ret)
{
	int err = drvslice_downcall(e, args, ret);

	if (err < 0 && !test_and_set_bit(n, api_reported))
		pr_err("drvslice: %s: the kernel did not run it (%pe: %s); it returns as if it had failed\n",
		       e->name, ERR_PTR(err), drvslice_host_why());
	return err < 0 ? err : 0;
}

static int api_call(unsigned int n, void *const args[], void *ret)
{
	return api_call_entry(drvslice_api_entries[n], n, args, ret);
}

/* ---- ComboLocks ---- */

/*
 * k-lock.c's spin lock calls on a ComboLock (the host's tracker knows it):
 * the kernel takes, tries or gives back its own.  1: done here (*@got: a
 * trylock's result), 0: @lock is no ComboLock.
 *
 * The copy's lock is never a stand-in for the kernel's: a spin_lock the
 * kernel refused (it says why in its log: e.g. it counts the lock as held
 * already) cannot fail and must not go on unlocked, so the process ends
 * as a BUG() ends a task, and drivermgrd recovers the driver (the next
 * u-driver's adoption gives back what this one held).  Taking the copy's
 * instead once locked it for good: its spin_unlock went to the kernel,
 * and the next refused spin_lock spun on the copy for ever.  A refused
 * trylock did not take it; a refused spin_unlock has nothing to give back.
 */
int drvslice_combolock_op(void *lock, int op, int *got)
{
	void *args[] = { &lock, &op };
	int r = 0;

	if (!drvslice_host_combolock(lock))
		return 0;
	if (api_call(DRVSLICE_API_combolock, args, &r)) {
		if (op == DRVSLICE_COMBOLOCK_LOCK) {
			pr_crit("drvslice: the kernel refused a ComboLock's spin_lock\n");
			drvslice_bug(__FILE__, __LINE__);
		}
		r = -EAGAIN;
	}
	if (got)
		*got = r == 0;
	return 1;
}

/* ---- the net_device ---- */

struct net_device *alloc_etherdev_mqs(int sizeof_priv, unsigned int txqs,
				      unsigned int rxqs)
{
	struct net_device *dev = NULL;
	void *args[] = { &sizeof_priv, &txqs, &rxqs };
	void *fargs[] = { &dev };

	if (api_call(DRVSLICE_API_alloc_etherdev_mqs, args, &dev) || !dev)
		return NULL;
	/* Its fields (name, MTU, flags, the address buffer, the default
	 * ethtool_ops) come up with a second call: the first's reply
	 * carries only the object. */
	if (api_call(DRVSLICE_API_netdev_alloc_fields, fargs, NULL)) {
		free_netdev(dev);
		return NULL;
	}
	return dev;
}

void free_netdev(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_free_netdev, args, NULL);
}

/* The copy's reg_state mirrors the kernel's (no description carries it):
 * netdev_printk's " (uninitialized)" suffix reads it. */
int register_netdev(struct net_device *dev)
{
	struct device *parent = dev->dev.parent;
	void *args[] = { &dev, &parent };
	int ret, err = api_call(DRVSLICE_API_register_netdev, args, &ret);

	if (!err && !ret)
		dev->reg_state = NETREG_REGISTERED;
	return err ? err : ret;
}

void unregister_netdev(struct net_device *dev)
{
	void *args[] = { &dev };

	if (!api_call(DRVSLICE_API_unregister_netdev, args, NULL))
		dev->reg_state = NETREG_UNREGISTERED;
}

void dev_addr_mod(struct net_device *dev, unsigned int offset,
		  const void *addr, size_t len)
{
	unsigned char buf[MAX_ADDR_LEN] = { 0 };
	const unsigned char *p = buf;
	void *args[] = { &dev, &offset, &p, &len };

	if (len > MAX_ADDR_LEN || offset > MAX_ADDR_LEN - len) {
		pr_err("drvslice: dev_addr_mod: %zu bytes at %u do not fit a device address\n",
		       len, offset);
		return;
	}
	memcpy(buf, addr, len);
	if (api_call(DRVSLICE_API_dev_addr_mod, args, NULL))
		return;
	/* dev->dev_addr here is the u-driver's copy of the kernel's buffer. */
	if (dev->dev_addr)
		memcpy((unsigned char *)dev->dev_addr + offset, addr, len);
}

int eth_validate_addr(struct net_device *dev)
{
	void *args[] = { &dev };
	int ret, err = api_call(DRVSLICE_API_eth_validate_addr, args, &ret);

	return err ? err : ret;
}

u32 ethtool_op_get_link(struct net_device *dev)
{
	void *args[] = { &dev };
	u32 ret;

	if (api_call(DRVSLICE_API_ethtool_op_get_link, args, &ret))
		return 0;
	return ret;
}

/* The carrier bit of the u-driver's copy follows the kernel's. */
static void carrier_mirror(struct net_device *dev, bool ok)
{
	if (ok)
		clear_bit(__LINK_STATE_NOCARRIER, &dev->state);
	else
		set_bit(__LINK_STATE_NOCARRIER, &dev->state);
}

void netif_carrier_on(struct net_device *dev)
{
	void *args[] = { &dev };

	if (!api_call(DRVSLICE_API_netif_carrier_on, args, NULL))
		carrier_mirror(dev, true);
}

void netif_carrier_off(struct net_device *dev)
{
	void *args[] = { &dev };

	if (!api_call(DRVSLICE_API_netif_carrier_off, args, NULL))
		carrier_mirror(dev, false);
}

bool drvslice_netif_carrier_ok(const struct net_device *dev)
{
	void *args[] = { &dev };
	bool ret;

	if (api_call(DRVSLICE_API_netif_carrier_ok, args, &ret))
		return false;
	carrier_mirror((struct net_device *)dev, ret);
	return ret;
}

/* The kernel's reg_state, kept in the copy (k-printk.c asks when the
 * copy's says uninitialized: no register_netdev of this process's). */
u8 drvslice_netdev_reg_state(struct net_device *dev)
{
	void *args[] = { &dev };
	u8 ret;

	if (!api_call(DRVSLICE_API_netdev_reg_state, args, &ret))
		dev->reg_state = ret;
	return dev->reg_state;
}

bool drvslice_netif_running(const struct net_device *dev)
{
	void *args[] = { &dev };
	bool ret;

	if (api_call(DRVSLICE_API_netif_running, args, &ret))
		return false;
	return ret;
}

void netif_device_attach(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_netif_device_attach, args, NULL);
}

void netif_device_detach(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_netif_device_detach, args, NULL);
}

void drvslice_netif_start_queue(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_netif_start_queue, args, NULL);
}

void drvslice_netif_stop_queue(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_netif_stop_queue, args, NULL);
}

void drvslice_netif_wake_queue(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_netif_wake_queue, args, NULL);
}

bool drvslice_netif_queue_stopped(const struct net_device *dev)
{
	void *args[] = { &dev };
	bool ret;

	/* A queue the kernel cannot be asked about is not to be fed. */
	if (api_call(DRVSLICE_API_netif_queue_stopped, args, &ret))
		return true;
	return ret;
}

void netif_napi_add_weight(struct net_device *dev, struct napi_struct *napi,
			   int (*poll)(struct napi_struct *, int), int weight)
{
	void *args[] = { &dev, &napi, &poll, &weight };

	api_call(DRVSLICE_API_netif_napi_add_weight, args, NULL);
}

void napi_enable(struct napi_struct *n)
{
	void *args[] = { &n };

	api_call(DRVSLICE_API_napi_enable, args, NULL);
}

void napi_disable(struct napi_struct *n)
{
	void *args[] = { &n };

	api_call(DRVSLICE_API_napi_disable, args, NULL);
}

/* ---- the interrupt ---- */

/* The names request_irq was given, for free_irq to return. */
static struct {
	unsigned int irq;
	void *dev_id;
	const char *name;
} irq_names[8];
static DEFINE_SPINLOCK(irq_names_lock);

int request_threaded_irq(unsigned int irq, irq_handler_t handler,
			 irq_handler_t thread_fn, unsigned long flags,
			 const char *name, void *dev)
{
	void *args[] = { &irq, &handler, &flags, &name, &dev };
	unsigned int i;
	int ret, err;

	/* The kernel API has a primary handler of the kernel half's, run
	 * in the kernel; no thread. */
	if (thread_fn || !handler) {
		pr_err("drvslice: request_threaded_irq(%u, %s): a threaded handler is not part of the kernel API\n",
		       irq, name);
		return -EINVAL;
	}
	err = api_call(DRVSLICE_API_request_irq, args, &ret);
	if (err)
		return err;
	if (ret)
		return ret;
	spin_lock(&irq_names_lock);
	for (i = 0; i < ARRAY_SIZE(irq_names); i++)
		if (!irq_names[i].name) {
			irq_names[i].irq = irq;
			irq_names[i].dev_id = dev;
			irq_names[i].name = name;
			break;
		}
	spin_unlock(&irq_names_lock);
	return 0;
}

const void *free_irq(unsigned int irq, void *dev_id)
{
	void *args[] = { &irq, &dev_id };
	const char *name = NULL;
	unsigned int i;
	int ret;

	if (api_call(DRVSLICE_API_free_irq, args, &ret) || ret)
		return NULL;
	spin_lock(&irq_names_lock);
	for (i = 0; i < ARRAY_SIZE(irq_names); i++)
		if (irq_names[i].name && irq_names[i].irq == irq &&
		    irq_names[i].dev_id == dev_id) {
			name = irq_names[i].name;
			irq_names[i].name = NULL;
			break;
		}
	spin_unlock(&irq_names_lock);
	return name;
}

/* ---- the PCI function ---- */

int pci_enable_device(struct pci_dev *dev)
{
	void *args[] = { &dev };
	int ret, err = api_call(DRVSLICE_API_pci_enable_device, args, &ret);

	return err ? err : ret;
}

void pci_disable_device(struct pci_dev *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_pci_disable_device, args, NULL);
}

void pci_set_master(struct pci_dev *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_pci_set_master, args, NULL);
}

int pci_set_mwi(struct pci_dev *dev)
{
	void *args[] = { &dev };
	int ret, err = api_call(DRVSLICE_API_pci_set_mwi, args, &ret);

	return err ? err : ret;
}

void pci_clear_mwi(struct pci_dev *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_pci_clear_mwi, args, NULL);
}

int pci_request_regions(struct pci_dev *pdev, const char *res_name)
{
	void *args[] = { &pdev, &res_name };
	int ret, err = api_call(DRVSLICE_API_pci_request_regions, args, &ret);

	return err ? err : ret;
}

void pci_release_regions(struct pci_dev *pdev)
{
	void *args[] = { &pdev };

	api_call(DRVSLICE_API_pci_release_regions, args, NULL);
}

int pci_set_power_state(struct pci_dev *dev, pci_power_t state)
{
	void *args[] = { &dev, &state };
	int ret, err = api_call(DRVSLICE_API_pci_set_power_state, args, &ret);

	return err ? err : ret;
}

int pci_enable_wake(struct pci_dev *dev, pci_power_t state, bool enable)
{
	void *args[] = { &dev, &state, &enable };
	int ret, err = api_call(DRVSLICE_API_pci_enable_wake, args, &ret);

	return err ? err : ret;
}

int device_set_wakeup_enable(struct device *dev, bool enable)
{
	void *args[] = { &dev, &enable };
	int ret, err = api_call(DRVSLICE_API_device_set_wakeup_enable, args, &ret);

	return err ? err : ret;
}

/* ---- DMA ---- */

int dma_set_mask(struct device *dev, u64 mask)
{
	void *args[] = { &dev, &mask };
	int ret, err = api_call(DRVSLICE_API_dma_set_mask, args, &ret);

	return err ? err : ret;
}

int dma_set_coherent_mask(struct device *dev, u64 mask)
{
	void *args[] = { &dev, &mask };
	int ret, err = api_call(DRVSLICE_API_dma_set_coherent_mask, args, &ret);

	return err ? err : ret;
}

/*
 * The buffer is the kernel's; the pointer returned is the u-driver's copy
 * of it, which stands for it in calls (a ring's address in the driver's
 * struct crosses as the kernel's).  What the device writes into a
 * buffer of at most DRVSLICE_CONTENT_MAX bytes appears in the copy at the
 * u-driver's next call into the kernel (each reply carries its bytes); a
 * larger one's (a ring's) does not.
 */
void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle,
		      gfp_t flag, unsigned long attrs)
{
	void *cpu = NULL;
	void *args[] = { &dev, &size, &dma_handle, &flag, &attrs };

	if (api_call(DRVSLICE_API_dma_alloc_attrs, args, &cpu))
		return NULL;
	return cpu;
}

void dma_free_attrs(struct device *dev, size_t size, void *cpu_addr,
		    dma_addr_t dma_handle, unsigned long attrs)
{
	void *args[] = { &dev, &size, &cpu_addr, &dma_handle, &attrs };

	api_call(DRVSLICE_API_dma_free_attrs, args, NULL);
}

/* ---- registers ---- */

/* The u-driver's copy of the window stands for it: every access is a
 * call (drvslice_readb ... below). */
void __iomem *ioremap(resource_size_t offset, unsigned long size)
{
	void *base = NULL;
	void *args[] = { &offset, &size };

	if (api_call(DRVSLICE_API_ioremap, args, &base))
		return NULL;
	return (void __iomem __force *)base;
}

void iounmap(volatile void __iomem *addr)
{
	void *args[] = { &addr };

	api_call(DRVSLICE_API_iounmap, args, NULL);
}

void memcpy_fromio(void *to, const volatile void __iomem *from, size_t count)
{
	unsigned char *t = to;
	const volatile unsigned char __iomem *f = from;

	while (count) {
		size_t n = min_t(size_t, count, DRVSLICE_API_IO_CHUNK);
		void *args[] = { &t, &f, &n };

		if (api_call(DRVSLICE_API_memcpy_fromio, args, NULL)) {
			/* As reads from a device that is gone. */
			memset(t, 0xff, count);
			return;
		}
		t += n;
		f += n;
		count -= n;
	}
}

#define API_READ(name, type)						\
type drvslice_##name(const volatile void __iomem *addr)			\
{									\
	void *args[] = { &addr };					\
	type v;								\
									\
	if (api_call(DRVSLICE_API_##name, args, &v))			\
		return (type)~0ULL;					\
	return v;							\
}

#define API_WRITE(name, type)						\
void drvslice_##name(type value, volatile void __iomem *addr)		\
{									\
	void *args[] = { &value, &addr };				\
									\
	api_call(DRVSLICE_API_##name, args, NULL);			\
}

API_READ(readb, u8)
API_READ(readw, u16)
API_READ(readl, u32)
API_READ(readq, u64)
API_WRITE(writeb, u8)
API_WRITE(writew, u16)
API_WRITE(writel, u32)
API_WRITE(writeq, u64)

#define API_IN(name, type)						\
type drvslice_##name(unsigned long port)				\
{									\
	void *args[] = { &port };					\
	type v;								\
									\
	if (api_call(DRVSLICE_API_##name, args, &v))			\
		return (type)~0ULL;					\
	return v;							\
}

#define API_OUT(name, type)						\
void drvslice_##name(type value, unsigned long port)			\
{									\
	void *args[] = { &value, &port };				\
									\
	api_call(DRVSLICE_API_##name, args, NULL);			\
}

API_IN(inb, u8)
API_IN(inw, u16)
API_IN(inl, u32)
API_OUT(outb, u8)
API_OUT(outw, u16)
API_OUT(outl, u32)

/* ---- managed PCI and interrupt calls ---- */

/* The kernel undoes what a u-driver made when the device goes
 * (drvslice_api_release), as devres does when a driver unbinds: the
 * managed calls are the plain ones. */
int pcim_enable_device(struct pci_dev *pdev)
{
	return pci_enable_device(pdev);
}

int devm_request_threaded_irq(struct device *dev, unsigned int irq,
			      irq_handler_t handler, irq_handler_t thread_fn,
			      unsigned long irqflags, const char *devname,
			      void *dev_id)
{
	return request_threaded_irq(irq, handler, thread_fn, irqflags,
				    devname ? devname : "", dev_id);
}

/* ---- I/O port regions ---- */

/* request_region()'s parent: its address names the I/O space. */
struct resource ioport_resource = {
	.name = "PCI IO",
	.start = 0,
	.end = IO_SPACE_LIMIT,
	.flags = IORESOURCE_IO,
};

/*
 * Ports outside the device's BARs (a legacy gameport's) are not the
 * device's: the kernel refuses them (and says why), and NULL is what
 * request_region() returns for ports it cannot have.
 */
struct resource *__request_region(struct resource *parent,
				  resource_size_t start, resource_size_t n,
				  const char *name, int flags)
{
	char buf[DRVSLICE_API_NAME_MAX];
	const char *p = buf;
	void *args[] = { &start, &n, &p };
	int ret;

	if (parent != &ioport_resource) {
		pr_err("drvslice: __request_region: only I/O ports are part of the kernel API\n");
		return NULL;
	}
	strscpy(buf, name ? name : "", sizeof(buf));
	if (api_call(DRVSLICE_API_request_region, args, &ret))
		return NULL;
	if (!ret)
		pr_err("drvslice: request_region: the kernel granted %llu ports at %#llx, which the kernel API never does; not used\n",
		       (unsigned long long)n, (unsigned long long)start);
	return NULL;
}

/* No region was ever granted (see __request_region): the kernel's
 * complaint for a region it does not know. */
void __release_region(struct resource *parent, resource_size_t start,
		      resource_size_t n)
{
	resource_size_t end = start + n - 1;

	pr_warn("Trying to free nonexistent resource <%pa-%pa>\n", &start, &end);
}

/* ---- the gameport: not part of the kernel API ---- */

/*
 * A driver registers its gameport only after request_region() gave it
 * the ports, which the kernel API refuses: these are reached only by a
 * driver that registers one anyway, and register nothing.
 */
void __gameport_register_port(struct gameport *gameport, struct module *owner)
{
	pr_err("drvslice: gameport %s: a gameport is not part of the kernel API; not registered\n",
	       gameport->name);
}

void gameport_unregister_port(struct gameport *gameport)
{
	pr_err("drvslice: gameport %s: not registered (a gameport is not part of the kernel API)\n",
	       gameport->name);
}

/* The driver's own struct: formatted here, as the kernel does. */
void gameport_set_phys(struct gameport *gameport, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(gameport->phys, sizeof(gameport->phys), fmt, args);
	va_end(args);
}

/* ---- what no call of the kernel API reaches ---- */

/*
 * A seq_file is the kernel's, reached only by a proc entry's read, and
 * the kernel API refuses proc entries (snd_card_rw_proc_new): a
 * seq_printf() here has no file to print into.  Said once.
 */
void seq_printf(struct seq_file *m, const char *fmt, ...)
{
	static bool said;

	if (!said) {
		said = true;
		pr_err("drvslice: seq_printf: no seq_file of the kernel's reaches the u-driver (proc entries are not part of the kernel API); the text is dropped\n");
	}
}

/*
 * A wait queue in the u-driver's copy of a kernel object (a card's
 * power_sleep, which snd_power_change_state() wakes) has no kernel task
 * on it: waking it wakes none.  Said once.
 */
int __wake_up(struct wait_queue_head *wq_head, unsigned int mode, int nr,
	      void *key)
{
	static bool said;

	if (!said) {
		said = true;
		pr_err("drvslice: __wake_up: a wait queue of the u-driver's copy of a kernel object wakes no kernel task (not part of the kernel API)\n");
	}
	return 0;
}

/* ---- ALSA: the card ---- */

/*
 * The driver's struct type the card's private area is (the name
 * snd_card_new gave back; "" if none), and the snd_card_private_sync
 * entry that names it (a u-driver serves one device).
 */
static char card_priv_type[DRVSLICE_API_NAME_MAX];
static struct drvslice_entry sync_entry;
static struct drvslice_arg sync_args[ARRAY_SIZE(drvslice_api_a_snd_card_private_sync)];

/* What the driver wrote in its copy of the private area goes down, before
 * a call that calls back into the u-driver with the kernel's fields. */
static int card_private_sync(struct snd_card *card)
{
	void *priv = card->private_data;
	void *args[] = { &card, &priv };

	if (!card_priv_type[0] || !priv)
		return 0;
	return api_call_entry(&sync_entry, DRVSLICE_API_snd_card_private_sync, args, NULL);
}

/* An errno a downcall left in its out argument, or @dflt. */
static int api_err(int err, int dflt)
{
	return err < 0 ? err : dflt;
}

/*
 * The card is the kernel's, its module the kernel half's (@module here
 * is the u-driver's); the kernel frees it when the device goes, as
 * devres would.  Its fields (private_data: the private area, in the
 * u-driver a copy of the kernel's) come up with a second call.
 */
int snd_devm_card_new(struct device *parent, int idx, const char *xid,
		      struct module *module, size_t extra_size,
		      struct snd_card **card_ret)
{
	struct snd_card *card = NULL;
	char id[sizeof(card->id)], ptype[DRVSLICE_API_NAME_MAX] = "", *ptypep = ptype;
	const char *p = id;
	int size, err = 0, *errp = &err, ret;
	void *args[] = { &parent, &idx, &p, &size, &errp, &ptypep };
	void *fargs[] = { &card };

	*card_ret = NULL;
	if (extra_size > INT_MAX)
		return -EINVAL;
	size = extra_size;
	/* The kernel keeps as much of the id as its card holds. */
	strscpy(id, xid ? xid : "", sizeof(id));
	ret = api_call(DRVSLICE_API_snd_card_new, args, &card);
	if (ret)
		return ret;
	if (!card)
		return api_err(err, -ENOMEM);
	ret = api_call(DRVSLICE_API_snd_card_alloc_fields, fargs, NULL);
	if (ret) {
		snd_card_free_on_error(parent, ret);
		return ret;
	}
	ptype[sizeof(ptype) - 1] = '\0';
	memcpy(card_priv_type, ptype, sizeof(card_priv_type));
	sync_entry = *drvslice_api_entries[DRVSLICE_API_snd_card_private_sync];
	memcpy(sync_args, drvslice_api_a_snd_card_private_sync, sizeof(sync_args));
	sync_args[1].pointee = card_priv_type;
	sync_entry.args = sync_args;
	*card_ret = card;
	return 0;
}

int snd_card_register(struct snd_card *card)
{
	void *args[] = { &card };
	int ret, err = api_call(DRVSLICE_API_snd_card_register, args, &ret);

	return err ? err : ret;
}

int snd_card_free_on_error(struct device *dev, int ret)
{
	void *args[] = { &dev, &ret };
	int r;

	if (!ret)
		return 0;
	api_call(DRVSLICE_API_snd_card_free_on_error, args, &r);
	return ret;
}

/* Refused by the kernel (its read would run here, printing into the
 * kernel's seq_file): the errno, said. */
int snd_card_rw_proc_new(struct snd_card *card, const char *name,
			 void *private_data,
			 void (*read)(struct snd_info_entry *, struct snd_info_buffer *),
			 void (*write)(struct snd_info_entry *entry,
				       struct snd_info_buffer *buffer))
{
	char buf[DRVSLICE_API_NAME_MAX];
	const char *p = buf;
	void *args[] = { &card, &p };
	int ret, err;

	strscpy(buf, name ? name : "", sizeof(buf));
	err = api_call(DRVSLICE_API_snd_card_rw_proc_new, args, &ret);
	return err ? err : ret;
}

/*
 * The buffer's description is the kernel's; the u-driver's copy carries
 * its bus address (what a driver programs the chip with), the one field
 * of it that crosses.  The kernel frees it when the device goes.
 */
struct snd_dma_buffer *snd_devm_alloc_dir_pages(struct device *dev, int type,
						enum dma_data_direction dir,
						size_t size)
{
	struct snd_dma_buffer *dmab = NULL;
	dma_addr_t addr = 0, *addrp = &addr;
	int d = dir;
	void *args[] = { &dev, &type, &d, &size, &addrp };

	if (api_call(DRVSLICE_API_snd_dma_alloc_dir_pages, args, &dmab) || !dmab)
		return NULL;
	dmab->addr = addr;
	return dmab;
}

/* ---- ALSA: PCM ---- */

/*
 * snd_pcm_new and snd_rawmidi_new: a device of the card with @out and @in
 * substreams, named @id; the kernel's new object in *@obj, or NULL.
 */
static int card_device_new(unsigned int entry, const char *fn, struct snd_card *card,
			   const char *id, int device, int out, int in,
			   void **obj)
{
	void *made = NULL;
	const char *p = id ? id : "";
	int err = 0, *errp = &err, ret;
	void *args[] = { &card, &p, &device, &out, &in, &errp };

	if (obj)
		*obj = NULL;
	if (strlen(p) >= DRVSLICE_API_NAME_MAX) {
		pr_err("drvslice: %s: id \"%s\" is longer than the kernel API's %d bytes\n",
		       fn, p, DRVSLICE_API_NAME_MAX - 1);
		return -EINVAL;
	}
	ret = api_call(entry, args, &made);
	if (ret)
		return ret;
	if (!made)
		return api_err(err, -ENOMEM);
	if (obj)
		*obj = made;
	return 0;
}

int snd_pcm_new(struct snd_card *card, const char *id, int device,
		int playback_count, int capture_count, struct snd_pcm **rpcm)
{
	return card_device_new(DRVSLICE_API_snd_pcm_new, "snd_pcm_new", card, id,
			       device, playback_count, capture_count,
			       (void **)rpcm);
}

void snd_pcm_set_ops(struct snd_pcm *pcm, int direction,
		     const struct snd_pcm_ops *ops)
{
	void *args[] = { &pcm, &direction, &ops };

	api_call(DRVSLICE_API_snd_pcm_set_ops, args, NULL);
}

/* The name, info_flags and private_data the driver set in its copy go
 * down with the call. */
int snd_pcm_set_managed_buffer_all(struct snd_pcm *pcm, int type,
				   struct device *data, size_t size, size_t max)
{
	void *args[] = { &pcm, &type, &data, &size, &max };
	int ret, err = api_call(DRVSLICE_API_snd_pcm_set_managed_buffer_all, args, &ret);

	return err ? err : ret;
}

/* The kernel's snd_pcm_std_chmaps stands for this library's; another
 * map must be a global of the driver's.  The control the kernel makes
 * stays the kernel's: no info_ret. */
int snd_pcm_add_chmap_ctls(struct snd_pcm *pcm, int stream,
			   const struct snd_pcm_chmap_elem *chmap,
			   int max_channels, unsigned long private_value,
			   struct snd_pcm_chmap **info_ret)
{
	int std = chmap == snd_pcm_std_chmaps;
	const struct snd_pcm_chmap_elem *map = std ? NULL : chmap;
	void *args[] = { &pcm, &stream, &map, &std, &max_channels, &private_value };
	int ret, err;

	if (info_ret) {
		*info_ret = NULL;
		pr_err("drvslice: snd_pcm_add_chmap_ctls: the channel map's control is the kernel's (no info_ret in the kernel API)\n");
		return -EOPNOTSUPP;
	}
	err = api_call(DRVSLICE_API_snd_pcm_add_chmap_ctls, args, &ret);
	return err ? err : ret;
}

void snd_pcm_set_sync(struct snd_pcm_substream *substream)
{
	void *args[] = { &substream };

	api_call(DRVSLICE_API_snd_pcm_set_sync, args, NULL);
}

/* 0 from a stream the kernel cannot be asked about: no bytes to play. */
static size_t pcm_lib_bytes(struct snd_pcm_substream *substream, int period)
{
	void *args[] = { &substream, &period };
	size_t ret;

	if (api_call(DRVSLICE_API_snd_pcm_lib_bytes, args, &ret))
		return 0;
	return ret;
}

size_t drvslice_snd_pcm_lib_buffer_bytes(struct snd_pcm_substream *substream)
{
	return pcm_lib_bytes(substream, 0);
}

size_t drvslice_snd_pcm_lib_period_bytes(struct snd_pcm_substream *substream)
{
	return pcm_lib_bytes(substream, 1);
}

int snd_pcm_hw_constraint_list(struct snd_pcm_runtime *runtime,
			       unsigned int cond, snd_pcm_hw_param_t var,
			       const struct snd_pcm_hw_constraint_list *l)
{
	void *args[] = { &runtime, &cond, &var, &l };
	int ret, err = api_call(DRVSLICE_API_snd_pcm_hw_constraint_list, args, &ret);

	return err ? err : ret;
}

int snd_pcm_hw_constraint_ratnums(struct snd_pcm_runtime *runtime,
				  unsigned int cond, snd_pcm_hw_param_t var,
				  const struct snd_pcm_hw_constraint_ratnums *r)
{
	void *args[] = { &runtime, &cond, &var, &r };
	int ret, err = api_call(DRVSLICE_API_snd_pcm_hw_constraint_ratnums, args, &ret);

	return err ? err : ret;
}

/* ---- ALSA: controls, the AK4531 mixer, MIDI ---- */

struct snd_kcontrol *snd_ctl_new1(const struct snd_kcontrol_new *kcontrolnew,
				  void *private_data)
{
	struct snd_kcontrol *kctl = NULL;
	void *args[] = { &kcontrolnew, &private_data };

	if (api_call(DRVSLICE_API_snd_ctl_new1, args, &kctl))
		return NULL;
	return kctl;
}

int snd_ctl_add(struct snd_card *card, struct snd_kcontrol *kcontrol)
{
	void *args[] = { &card, &kcontrol };
	int ret, err;

	/* As the kernel: a failed snd_ctl_new1() passed on. */
	if (!kcontrol)
		return -EINVAL;
	err = api_call(DRVSLICE_API_snd_ctl_add, args, &ret);
	return err ? err : ret;
}

/* The template's write, private_data and private_free cross; the mixer
 * is the kernel's, its register writes calls back into the u-driver. */
int snd_ak4531_mixer(struct snd_card *card, struct snd_ak4531 *_ak4531,
		     struct snd_ak4531 **rak4531)
{
	struct snd_ak4531 *ak = NULL;
	void *write = _ak4531->write;
	void *private_data = _ak4531->private_data;
	void *private_free = _ak4531->private_free;
	int err = 0, *errp = &err, ret;
	void *args[] = { &card, &write, &private_data, &private_free, &errp };

	if (rak4531)
		*rak4531 = NULL;
	/* Its register writes call the driver's write, which reads the
	 * chip struct the kernel sends up. */
	ret = card_private_sync(card);
	if (ret)
		return ret;
	ret = api_call(DRVSLICE_API_snd_ak4531_mixer, args, &ak);
	if (ret)
		return ret;
	if (!ak)
		return api_err(err, -ENOMEM);
	if (rak4531)
		*rak4531 = ak;
	return 0;
}

void snd_ak4531_suspend(struct snd_ak4531 *ak4531)
{
	void *args[] = { &ak4531 };

	api_call(DRVSLICE_API_snd_ak4531_suspend, args, NULL);
}

void snd_ak4531_resume(struct snd_ak4531 *ak4531)
{
	void *args[] = { &ak4531 };

	api_call(DRVSLICE_API_snd_ak4531_resume, args, NULL);
}

int snd_rawmidi_new(struct snd_card *card, char *id, int device,
		    int output_count, int input_count,
		    struct snd_rawmidi **rrawmidi)
{
	return card_device_new(DRVSLICE_API_snd_rawmidi_new, "snd_rawmidi_new",
			       card, id, device, output_count, input_count,
			       (void **)rrawmidi);
}

void snd_rawmidi_set_ops(struct snd_rawmidi *rmidi, int stream,
			 const struct snd_rawmidi_ops *ops)
{
	void *args[] = { &rmidi, &stream, &ops };

	api_call(DRVSLICE_API_snd_rawmidi_set_ops, args, NULL);
}
