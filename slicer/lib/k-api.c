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
 * library's inline netif_carrier_ok().
 */
#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/pm_wakeup.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "drvslice-user.h"
#include "drvslice_api_entries.h"

const struct drvslice_driver drvslice_api_user = {
	.name = "kernel-api",
	.nentries = DRVSLICE_API_N,
	.entries = drvslice_api_entries,
};

static unsigned long api_reported[BITS_TO_LONGS(DRVSLICE_API_N)];

/* The kernel API call @n: 0, or a negative errno (said once). */
static int api_call(unsigned int n, void *const args[], void *ret)
{
	const struct drvslice_entry *e = drvslice_api_entries[n];
	int err = drvslice_downcall(e, args, ret);

	if (err < 0 && !test_and_set_bit(n, api_reported))
		pr_err("drvslice: %s: the kernel did not run it (%pe); it returns as if it had failed\n",
		       e->name, ERR_PTR(err));
	return err < 0 ? err : 0;
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

int register_netdev(struct net_device *dev)
{
	struct device *parent = dev->dev.parent;
	void *args[] = { &dev, &parent };
	int ret, err = api_call(DRVSLICE_API_register_netdev, args, &ret);

	return err ? err : ret;
}

void unregister_netdev(struct net_device *dev)
{
	void *args[] = { &dev };

	api_call(DRVSLICE_API_unregister_netdev, args, NULL);
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
 * struct crosses as the kernel's).  What the device writes into the
 * kernel's buffer does not appear in the copy.
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
