// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus: the kernel API a sliced driver's u-driver calls and the
 * kernel runs (module/include/drvslice_api_entries.h has the entries; the
 * driver library's slicer/lib/k-api.c makes the calls).
 *
 * Each thunk runs inside a SLICE_DOWNCALL the runtime (slice.c) serves for
 * one device, after the core (slice_core.c) has checked the call against
 * the entry: argument sizes, A_OWN pointers into objects of the kernel's
 * own, A_FN handles naming functions of the kernel half, strings and
 * buffers bounded.  What the core cannot know the thunk checks: that an
 * object is this device's (its pci_dev, its struct device, the net_device
 * it allocated, the windows it mapped), that a physical range lies in one
 * of its BARs, that an interrupt is its own, that a handler has the shape
 * its caller will call it with, that sizes are bounded and calls are
 * balanced.  A refusal is a negative errno with k->side.why saying why;
 * the kernel's own failures (alloc_etherdev_mqs returning NULL,
 * pci_enable_device's errno) are results, not refusals.
 *
 * What the u-driver made of the kernel's resources is kept in
 * k->api_state, so that drvslice_api_release() undoes it when the device
 * goes.  The thunks of one device are serialised by the runtime (k->lock),
 * except that a thunk whose kernel function calls back into the driver
 * (unregister_netdev calls ndo_stop) lets the calls nested in that one
 * run meanwhile: such a thunk marks the net_device busy and changes the
 * state only after its function returned.
 */
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/pm_wakeup.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "slice.h"
#include "drvslice_api_entries.h"

#define API_NAPI_MAX		4
#define API_DMA_MAX		16
#define API_DMA_BYTES_MAX	(1U << 20)	/* one buffer */
#define API_DMA_TOTAL_MAX	(4U << 20)	/* all of a device's */
#define API_PRIV_MAX		(256U << 10)	/* a net_device's private area */
#define API_QUEUES_MAX		64
#define API_ENABLE_MAX		8		/* nested pci_enable_device */
/* Flags a driver may change in a net_device before registering it; the
 * others (IFF_UP, IFF_PROMISC, IFF_LOOPBACK, ...) are the kernel's. */
#define API_NETDEV_FLAGS	(IFF_BROADCAST | IFF_MULTICAST | IFF_NOARP | \
				 IFF_POINTOPOINT | IFF_DEBUG)

/* A BAR as the function's config space decodes it. */
struct api_bar {
	resource_size_t start, len;
	unsigned long type;		/* IORESOURCE_MEM, _IO, or 0: none */
};

struct api_dma {
	void *cpu;			/* NULL: free slot */
	dma_addr_t handle;
	size_t size;
	unsigned long attrs;
};

struct api_napi {
	struct napi_struct *napi;	/* NULL: free slot */
	bool enabled;
};

struct api_state {
	struct api_bar bar[PCI_STD_NUM_BARS];
	unsigned int irq;		/* the function's interrupt */

	/* The net_device alloc_etherdev_mqs made, and what it was made
	 * with: its private area, the fields it had (until they went up),
	 * the kernel's address buffer and default ops, its flags. */
	struct net_device *netdev;
	void *priv;
	unsigned int priv_size;
	struct net_device *fresh;
	const unsigned char *dev_addr;
	const struct ethtool_ops *ethtool_ops0;
	unsigned int flags0;
	bool fields_sent, registered;
	bool busy;			/* in register/unregister_netdev */
	struct api_napi napi[API_NAPI_MAX];

	/* request_irq: one handler; its name lives here while requested. */
	bool irq_requested;
	unsigned int irq_nr;
	void *irq_dev_id;
	char irq_name[DRVSLICE_API_NAME_MAX];

	/* The PCI function. */
	unsigned int enable_cnt;
	bool mwi, regions, wake, wakeup;
	char region_name[DRVSLICE_API_NAME_MAX];
	struct api_dma dma[API_DMA_MAX];
	size_t dma_bytes;
	void __iomem *iomem[DRVSLICE_IOMEM_MAX];
};

/* An argument's value (the core's buffers are bytes, not aligned). */
#define ARG(type, i)	({ type __v; memcpy(&__v, args[i], sizeof(__v)); __v; })
#define RET(type, v)	do { type __r = (v); memcpy(ret, &__r, sizeof(__r)); } while (0)

static __printf(3, 4) int refuse(struct drvslice_kdev *k, int err,
				 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->side.why, sizeof(k->side.why), fmt, ap);
	va_end(ap);
	dev_warn_ratelimited(&k->pdev->dev, "kernel API refused: %s\n", k->side.why);
	return err;
}

/*
 * Where BAR @bar decodes, from the function's config space, as a CPU
 * address; 0 if it is not of @type.  The pci_dev's resources are fields a
 * u-driver's call can reach; the config space it cannot.
 */
static resource_size_t bar_decoded(struct pci_dev *pdev, int bar,
				   unsigned long type)
{
	struct resource res = { .flags = type };
	struct pci_bus_region region;
	int reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 lo, hi = 0;

	if (pci_read_config_dword(pdev, reg, &lo) || lo == ~0U)
		return 0;
	if (lo & PCI_BASE_ADDRESS_SPACE_IO) {
		if (type != IORESOURCE_IO)
			return 0;
		region.start = lo & PCI_BASE_ADDRESS_IO_MASK;
	} else {
		if (type != IORESOURCE_MEM)
			return 0;
		region.start = lo & PCI_BASE_ADDRESS_MEM_MASK;
		if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
			if (bar + 1 >= PCI_STD_NUM_BARS ||
			    pci_read_config_dword(pdev, reg + 4, &hi))
				return 0;
			region.start |= (u64)hi << 32;
		}
	}
	region.end = region.start;
	pcibios_bus_to_resource(pdev->bus, &res, &region);
	return res.start;
}

/* The BARs, once per device: a resource whose start the config space does
 * not confirm is none. */
static void read_bars(struct drvslice_kdev *k, struct api_state *st)
{
	struct pci_dev *pdev = k->pdev;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		unsigned long flags = pci_resource_flags(pdev, i);
		unsigned long type = flags & (IORESOURCE_MEM | IORESOURCE_IO);
		resource_size_t start = pci_resource_start(pdev, i);
		resource_size_t len = pci_resource_len(pdev, i);

		if (!len || (flags & IORESOURCE_UNSET) ||
		    (type != IORESOURCE_MEM && type != IORESOURCE_IO))
			continue;
		if (bar_decoded(pdev, i, type) != start) {
			dev_warn(&pdev->dev, "kernel API: BAR %d: %pR is not what the function decodes; not mapped for its u-driver\n",
				 i, &pdev->resource[i]);
			continue;
		}
		st->bar[i].start = start;
		st->bar[i].len = len;
		st->bar[i].type = type;
	}
}

/* The device this thread serves a downcall for, and its API state. */
static struct api_state *api_begin(struct drvslice_kdev **kp)
{
	struct drvslice_kdev *k = drvslice_kdev_current();
	struct api_state *st;

	*kp = k;
	if (!k)
		return ERR_PTR(-EPERM);
	if (k->api_state)
		return k->api_state;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return ERR_PTR(-ENOMEM);
	read_bars(k, st);
	st->irq = k->pdev->irq;
	k->api_state = st;
	return st;
}

/* The BAR of @type holding [start, start + len), or -1. */
static int bar_of(const struct api_state *st, resource_size_t start,
		  resource_size_t len, unsigned long type)
{
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		const struct api_bar *b = &st->bar[i];

		if (b->type == type && len && start >= b->start &&
		    len <= b->len && start - b->start <= b->len - len)
			return i;
	}
	return -1;
}

/* Whether [p, p + n) lies in one window the device mapped. */
static bool iomem_range_ok(const struct drvslice_kdev *k,
			   const volatile void __iomem *p, size_t n)
{
	unsigned long a = (unsigned long)p;
	int i;

	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++) {
		unsigned long b = (unsigned long)k->iomem[i].base;

		if (b && n && a >= b && n <= k->iomem[i].len &&
		    a - b <= k->iomem[i].len - n)
			return true;
	}
	return false;
}

static int own_pdev(struct drvslice_kdev *k, const struct pci_dev *pdev,
		    const char *fn)
{
	if (pdev != k->pdev)
		return refuse(k, -EINVAL, "%s: not the device's own pci_dev", fn);
	return 0;
}

static int own_device(struct drvslice_kdev *k, const struct device *dev,
		      const char *fn)
{
	if (dev != &k->pdev->dev)
		return refuse(k, -EINVAL, "%s: not the device's own struct device", fn);
	return 0;
}

static int own_netdev(struct drvslice_kdev *k, const struct api_state *st,
		      const struct net_device *dev, const char *fn)
{
	if (!dev || dev != st->netdev)
		return refuse(k, -EINVAL, "%s: not the net_device this device allocated", fn);
	if (!st->fields_sent)
		return refuse(k, -EINVAL, "%s: the net_device's fields have not gone up yet", fn);
	return 0;
}

/* The index of the driver's struct type that its description says
 * @accessor's private area holds (netdev_priv: cp_private), or 0. */
static unsigned short private_type(const struct drvslice_kdev *k,
				   const char *accessor)
{
	const struct drvslice_driver *d = k->side.drv;
	unsigned int i;

	for (i = 0; d->privates && i < d->nprivates && d->privates[i].accessor; i++)
		if (!strcmp(d->privates[i].accessor, accessor) &&
		    d->privates[i].type < d->ntypes)
			return d->privates[i].type;
	return 0;
}

/* Whether @p is the start of a global of the kernel half's of @size bytes
 * (its own net_device_ops, its ethtool_ops). */
static bool half_global(const struct drvslice_kdev *k, const void *p,
			unsigned int size)
{
	const struct drvslice_driver *d = k->side.drv;
	unsigned int i;

	for (i = 0; p && i < d->nglobals; i++)
		if (d->globals[i].ptr == p && d->globals[i].size == size)
			return true;
	return false;
}

/*
 * Whether @fn is a function the kernel half serves whose entry has the
 * shape its caller will call it with: @nargs arguments of @kinds and
 * @sizes (@pointee0 the first one's struct, or NULL), a @ret_size result.
 * The core made sure it is the half's; the prototype it cannot know.
 */
static bool half_fn_shaped(const struct drvslice_kdev *k, const void *fn,
			   unsigned int nargs, const unsigned char *kinds,
			   const unsigned short *sizes, const char *pointee0,
			   unsigned short ret_size)
{
	const struct drvslice_driver *d = k->side.drv;
	const struct drvslice_target *t;
	const struct drvslice_entry *e;
	unsigned int i;

	for (t = d->targets; t && t->name; t++)
		if (t->fn == fn && t->call)
			break;
	if (!fn || !t || !t->name || t->id >= d->nentries)
		return false;
	e = d->entries[t->id];
	if (!e || e->dir != DRVSLICE_DOWN || e->nargs != nargs || e->ret_size != ret_size)
		return false;
	for (i = 0; i < nargs; i++)
		if (e->args[i].kind != kinds[i] || e->args[i].size != sizes[i])
			return false;
	if (!!pointee0 != !!e->args[0].pointee ||
	    (pointee0 && strcmp(pointee0, e->args[0].pointee)))
		return false;
	return true;
}

/* ---- the net_device ---- */

static int api_alloc_etherdev_mqs(void *const args[], void *ret)
{
	int sizeof_priv = ARG(int, 0);
	unsigned int txqs = ARG(unsigned int, 1), rxqs = ARG(unsigned int, 2);
	unsigned short type, ptype = 0;
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct net_device *dev;
	unsigned int size;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (st->netdev)
		return refuse(k, -EBUSY, "alloc_etherdev_mqs: the device has a net_device already");
	if (sizeof_priv < 0 || (unsigned int)sizeof_priv > API_PRIV_MAX || !txqs || !rxqs ||
	    txqs > API_QUEUES_MAX || rxqs > API_QUEUES_MAX)
		return refuse(k, -EINVAL, "alloc_etherdev_mqs: private area of %d bytes, %u tx and %u rx queues (at most %u bytes, 1..%u queues)",
			      sizeof_priv, txqs, rxqs, API_PRIV_MAX, API_QUEUES_MAX);
	if (sizeof_priv) {
		ptype = private_type(k, "netdev_priv");
		if (ptype && (unsigned int)sizeof_priv < k->side.drv->types[ptype].size)
			return refuse(k, -EINVAL, "alloc_etherdev_mqs: a private area of %d bytes for %s (%u bytes)",
				      sizeof_priv, k->side.drv->types[ptype].name,
				      k->side.drv->types[ptype].size);
	}
	RET(void *, NULL);
	dev = alloc_etherdev_mqs(sizeof_priv, txqs, rxqs);
	if (!dev)
		return 0;
	st->fresh = kmemdup(dev, sizeof(*dev), GFP_KERNEL);
	if (!st->fresh)
		goto err_free;
	/* The whole allocation: netdev_priv()'s arithmetic in the u-driver
	 * lands in its copy; the private area is an object inside it. */
	size = sizeof_priv ? ALIGN(sizeof(*dev), NETDEV_ALIGN) + sizeof_priv : sizeof(*dev);
	type = drvslice_type_named(&k->side, "net_device");
	if (!drvslice_track(&k->side, dev, size, type))
		goto err_fresh;
	if (sizeof_priv &&
	    !drvslice_track(&k->side, netdev_priv(dev), sizeof_priv, ptype))
		goto err_untrack;
	/* The address buffer dev->dev_addr points to: the kernel's for the
	 * net_device's life (dev_addr_init), MAX_ADDR_LEN bytes. */
	/* Its bytes go with it each time it is named: the driver reads
	 * the address through dev->dev_addr (cp_init_hw programs the chip
	 * with it), and a u-driver started after its predecessor's death
	 * has no other way to learn it. */
	if (!drvslice_track_bytes(&k->side, (void *)dev->dev_addr, MAX_ADDR_LEN))
		goto err_untrack;
	st->netdev = dev;
	st->priv = sizeof_priv ? netdev_priv(dev) : NULL;
	st->priv_size = sizeof_priv;
	st->dev_addr = dev->dev_addr;
	st->ethtool_ops0 = dev->ethtool_ops;
	st->flags0 = dev->flags;
	st->fields_sent = false;
	st->registered = false;
	RET(void *, dev);
	return 0;

err_untrack:
	drvslice_untrack(&k->side, dev);
err_fresh:
	kfree(st->fresh);
	st->fresh = NULL;
err_free:
	free_netdev(dev);
	return 0;	/* NULL, as when the kernel has no memory */
}

/* Copies the crossing fields of the driver's struct type @type from
 * @src to @dst (both of its size). */
static void copy_fields(const struct drvslice_kdev *k, void *dst,
			const void *src, unsigned short type)
{
	const struct drvslice_type *ty = &k->side.drv->types[type];
	unsigned int i, b;

	for (i = 0; i < ty->nfields; i++) {
		const struct drvslice_field *f = &ty->fields[i];

		if (f->kind != DRVSLICE_F_BITS) {
			if (f->offset <= ty->size && f->size <= ty->size - f->offset)
				memcpy(dst + f->offset, src + f->offset, f->size);
			continue;
		}
		for (b = f->offset; b < f->offset + f->size && b / 8 < ty->size; b++) {
			u8 *d = dst + b / 8, m = BIT(b % 8);

			*d = (*d & ~m) | (((const u8 *)src)[b / 8] & m);
		}
	}
}

static int api_netdev_alloc_fields(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	unsigned short type;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!dev || dev != st->netdev || !st->fresh)
		return refuse(k, -EINVAL, "netdev_alloc_fields: not a net_device just allocated");
	/* The core has stored the u-driver's empty copy's fields: they are
	 * the allocation's again, and go up in the reply. */
	type = drvslice_type_named(&k->side, "net_device");
	if (type && k->side.drv->types[type].size == sizeof(*dev))
		copy_fields(k, dev, st->fresh, type);
	st->flags0 = dev->flags;
	kfree(st->fresh);
	st->fresh = NULL;
	st->fields_sent = true;
	return 0;
}

static int api_free_netdev(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	unsigned int i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!dev || dev != st->netdev)
		return refuse(k, -EINVAL, "free_netdev: not the net_device this device allocated");
	if (st->registered || st->busy)
		return refuse(k, -EBUSY, "free_netdev: the net_device is registered");
	if (st->irq_requested && (void *)st->irq_dev_id >= (void *)dev &&
	    (void *)st->irq_dev_id < (void *)dev + ALIGN(sizeof(*dev), NETDEV_ALIGN) + st->priv_size)
		return refuse(k, -EBUSY, "free_netdev: its interrupt handler is still requested");
	for (i = 0; i < API_NAPI_MAX; i++)
		if (st->napi[i].napi && st->napi[i].enabled)
			return refuse(k, -EBUSY, "free_netdev: a NAPI context of it is enabled");
	drvslice_untrack(&k->side, st->dev_addr);
	drvslice_untrack(&k->side, dev);
	free_netdev(dev);
	kfree(st->fresh);
	st->fresh = NULL;
	st->netdev = NULL;
	st->priv = NULL;
	st->priv_size = 0;
	st->dev_addr = NULL;
	st->fields_sent = false;
	memset(st->napi, 0, sizeof(st->napi));
	return 0;
}

/*
 * What a net_device the u-driver is about to register must hold: the
 * kernel's address buffer, the kernel half's own ops (or the default
 * ethtool_ops), no flag of the kernel's, a terminated name, an MTU in its
 * range, none of the features that never change.  A wrong field is set
 * back (the device is not registered yet) and the call refused.
 */
static int netdev_check(struct drvslice_kdev *k, struct api_state *st,
			struct net_device *dev)
{
	const char *bad = NULL;

	if (dev->dev_addr != st->dev_addr) {
		dev->dev_addr = st->dev_addr;
		bad = "dev_addr is not the kernel's address buffer";
	}
	if (!half_global(k, dev->netdev_ops, sizeof(*dev->netdev_ops))) {
		dev->netdev_ops = NULL;
		bad = "netdev_ops is not a net_device_ops of the kernel half";
	}
	if (dev->ethtool_ops != st->ethtool_ops0 &&
	    !half_global(k, dev->ethtool_ops, sizeof(*dev->ethtool_ops))) {
		dev->ethtool_ops = st->ethtool_ops0;
		bad = "ethtool_ops is not an ethtool_ops of the kernel half";
	}
	if ((dev->flags ^ st->flags0) & ~API_NETDEV_FLAGS) {
		dev->flags = st->flags0;
		bad = "flags changes the kernel's";
	}
	if (strnlen(dev->name, IFNAMSIZ) == IFNAMSIZ) {
		dev->name[IFNAMSIZ - 1] = '\0';
		bad = "name is not terminated";
	}
	if (dev->mtu < dev->min_mtu || (dev->max_mtu && dev->mtu > dev->max_mtu))
		bad = "mtu is outside min_mtu..max_mtu";
	if ((dev->features | dev->hw_features | dev->vlan_features) & NETIF_F_NEVER_CHANGE)
		bad = "features include one that never changes";
	if (bad)
		return refuse(k, -EINVAL, "register_netdev: %s", bad);
	return 0;
}

static int api_register_netdev(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	struct device *parent = ARG(struct device *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_netdev(k, st, dev, "register_netdev");
	if (err)
		return err;
	if (st->registered || st->busy)
		return refuse(k, -EBUSY, "register_netdev: registered already");
	if (parent && parent != &k->pdev->dev)
		return refuse(k, -EINVAL, "register_netdev: its parent is not the device's own");
	err = netdev_check(k, st, dev);
	if (err)
		return err;
	SET_NETDEV_DEV(dev, parent);
	/* register_netdev may call into the driver (ndo_init, ndo_open):
	 * the net_device is busy meanwhile. */
	st->busy = true;
	err = register_netdev(dev);
	st->busy = false;
	if (!err)
		st->registered = true;
	RET(int, err);
	return 0;
}

static int api_unregister_netdev(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_netdev(k, st, dev, "unregister_netdev");
	if (err)
		return err;
	if (!st->registered || st->busy)
		return refuse(k, -EINVAL, "unregister_netdev: not registered, or being registered");
	/* It calls ndo_stop, whose body is in the u-driver. */
	st->busy = true;
	unregister_netdev(dev);
	st->busy = false;
	st->registered = false;
	return 0;
}

static int api_dev_addr_mod(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	unsigned int offset = ARG(unsigned int, 1);
	const void *addr = ARG(const void *, 2);
	size_t len = ARG(size_t, 3);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_netdev(k, st, dev, "dev_addr_mod");
	if (err)
		return err;
	if (dev->dev_addr != st->dev_addr)
		return refuse(k, -EINVAL, "dev_addr_mod: dev_addr is not the kernel's address buffer");
	if (offset > dev->addr_len || len > dev->addr_len - offset)
		return refuse(k, -EINVAL, "dev_addr_mod: %zu bytes at %u of a %u-byte address",
			      len, offset, dev->addr_len);
	/* A registered device's address changes under the RTNL (the
	 * kernel's caller, ndo_set_mac_address's, holds it). */
	if (st->registered && !rtnl_is_locked())
		return refuse(k, -EINVAL, "dev_addr_mod: a registered device's address, without the RTNL");
	dev_addr_mod(dev, offset, addr, len);
	return 0;
}

static int api_eth_validate_addr(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_netdev(k, st, dev, "eth_validate_addr");
	if (err)
		return err;
	if (dev->dev_addr != st->dev_addr)
		return refuse(k, -EINVAL, "eth_validate_addr: dev_addr is not the kernel's address buffer");
	RET(int, eth_validate_addr(dev));
	return 0;
}

static int api_ethtool_op_get_link(void *const args[], void *ret)
{
	struct net_device *dev = ARG(struct net_device *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_netdev(k, st, dev, "ethtool_op_get_link");
	if (err)
		return err;
	RET(u32, ethtool_op_get_link(dev));
	return 0;
}

/* The calls on dev->state and the device's queue: the net_device must be
 * this device's; a queue only once it is registered (before, its qdisc
 * is not set: netif_wake_queue would schedule none). */
#define API_NETIF(fn, queue, call)					\
static int api_##fn(void *const args[], void *ret)			\
{									\
	struct net_device *dev = ARG(struct net_device *, 0);		\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
	int err;							\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	err = own_netdev(k, st, dev, #fn);				\
	if (err)							\
		return err;						\
	if ((queue) && !st->registered)					\
		return refuse(k, -EINVAL, #fn ": the net_device is not registered"); \
	call;								\
	return 0;							\
}

API_NETIF(netif_carrier_on, false, netif_carrier_on(dev))
API_NETIF(netif_carrier_off, false, netif_carrier_off(dev))
API_NETIF(netif_carrier_ok, false, RET(bool, netif_carrier_ok(dev)))
API_NETIF(netif_running, false, RET(bool, netif_running(dev)))
API_NETIF(netif_device_attach, false, netif_device_attach(dev))
API_NETIF(netif_device_detach, false, netif_device_detach(dev))
API_NETIF(netif_start_queue, true, netif_start_queue(dev))
API_NETIF(netif_stop_queue, true, netif_stop_queue(dev))
API_NETIF(netif_wake_queue, true, netif_wake_queue(dev))
API_NETIF(netif_queue_stopped, true, RET(bool, netif_queue_stopped(dev)))

/* ---- NAPI ---- */

typedef int (*napi_poll_fn)(struct napi_struct *, int);

static struct api_napi *napi_slot(struct api_state *st,
				  const struct napi_struct *n)
{
	unsigned int i;

	for (i = 0; n && i < API_NAPI_MAX; i++)
		if (st->napi[i].napi == n)
			return &st->napi[i];
	return NULL;
}

static int api_netif_napi_add_weight(void *const args[], void *ret)
{
	static const unsigned char kinds[] = { DRVSLICE_A_PTR, DRVSLICE_A_VALUE };
	static const unsigned short sizes[] = { sizeof(void *), sizeof(int) };
	struct net_device *dev = ARG(struct net_device *, 0);
	struct napi_struct *napi = ARG(struct napi_struct *, 1);
	napi_poll_fn poll = ARG(napi_poll_fn, 2);
	int weight = ARG(int, 3);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct api_napi *slot;
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_netdev(k, st, dev, "netif_napi_add_weight");
	if (err)
		return err;
	/* In the net_device's private area, whole and aligned. */
	if (!st->priv || (void *)napi < st->priv ||
	    sizeof(*napi) > st->priv_size ||
	    (void *)napi - st->priv > st->priv_size - sizeof(*napi) ||
	    !IS_ALIGNED((unsigned long)napi, __alignof__(*napi)))
		return refuse(k, -EINVAL, "netif_napi_add_weight: the napi_struct is not in the net_device's private area");
	if (napi_slot(st, napi))
		return refuse(k, -EBUSY, "netif_napi_add_weight: added already");
	for (slot = st->napi; slot < st->napi + API_NAPI_MAX && slot->napi; slot++)
		;
	if (slot == st->napi + API_NAPI_MAX)
		return refuse(k, -ENOSPC, "netif_napi_add_weight: more than %d NAPI contexts", API_NAPI_MAX);
	if (weight < 1 || weight > NAPI_POLL_WEIGHT)
		return refuse(k, -EINVAL, "netif_napi_add_weight: weight %d (1..%d)", weight, NAPI_POLL_WEIGHT);
	if (!half_fn_shaped(k, poll, 2, kinds, sizes, "napi_struct", sizeof(int)))
		return refuse(k, -EINVAL, "netif_napi_add_weight: poll is no int (*)(struct napi_struct *, int) of the kernel half");
	netif_napi_add_weight(dev, napi, poll, weight);
	slot->napi = napi;
	slot->enabled = false;
	return 0;
}

static int api_napi_enable(void *const args[], void *ret)
{
	struct napi_struct *napi = ARG(struct napi_struct *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct api_napi *slot;

	if (IS_ERR(st))
		return PTR_ERR(st);
	slot = napi_slot(st, napi);
	/* Enabling one enabled is the kernel's BUG_ON. */
	if (!slot || slot->enabled)
		return refuse(k, -EINVAL, "napi_enable: not a disabled NAPI context of the device's");
	napi_enable(napi);
	slot->enabled = true;
	return 0;
}

static int api_napi_disable(void *const args[], void *ret)
{
	struct napi_struct *napi = ARG(struct napi_struct *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct api_napi *slot;

	if (IS_ERR(st))
		return PTR_ERR(st);
	slot = napi_slot(st, napi);
	/* Disabling one disabled waits for ever. */
	if (!slot || !slot->enabled)
		return refuse(k, -EINVAL, "napi_disable: not an enabled NAPI context of the device's");
	napi_disable(napi);
	slot->enabled = false;
	return 0;
}

/* ---- the interrupt ---- */

/* A handler's cookie: the net_device, its private area or the pci_dev. */
static bool irq_cookie_ok(const struct drvslice_kdev *k,
			  const struct api_state *st, const void *dev_id)
{
	return dev_id && ((st->netdev && st->fields_sent &&
			   (dev_id == st->netdev || dev_id == st->priv)) ||
			  dev_id == k->pdev);
}

static int api_request_irq(void *const args[], void *ret)
{
	static const unsigned char kinds[] = { DRVSLICE_A_VALUE, DRVSLICE_A_PTR };
	static const unsigned short sizes[] = { sizeof(int), sizeof(void *) };
	unsigned int irq = ARG(unsigned int, 0);
	irq_handler_t handler = ARG(irq_handler_t, 1);
	unsigned long flags = ARG(unsigned long, 2);
	const char *name = ARG(const char *, 3);
	void *dev_id = ARG(void *, 4);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!irq || irq == IRQ_NOTCONNECTED || irq != st->irq)
		return refuse(k, -EINVAL, "request_irq: irq %u is not the device's (%u)", irq, st->irq);
	if (st->irq_requested)
		return refuse(k, -EBUSY, "request_irq: the device has a handler already");
	if (flags & ~(unsigned long)(IRQF_SHARED | IRQF_PROBE_SHARED))
		return refuse(k, -EINVAL, "request_irq: flags %#lx (only IRQF_SHARED, IRQF_PROBE_SHARED)", flags);
	if (!irq_cookie_ok(k, st, dev_id))
		return refuse(k, -EINVAL, "request_irq: dev_id is not the device's net_device, private area or pci_dev");
	if (!half_fn_shaped(k, handler, 2, kinds, sizes, NULL, sizeof(irqreturn_t)))
		return refuse(k, -EINVAL, "request_irq: the handler is no irqreturn_t (*)(int, void *) of the kernel half");
	/* The kernel keeps the name: a copy of the call's. */
	strscpy(st->irq_name, name, sizeof(st->irq_name));
	err = request_irq(irq, handler, flags, st->irq_name, dev_id);
	if (!err) {
		st->irq_requested = true;
		st->irq_nr = irq;
		st->irq_dev_id = dev_id;
	}
	RET(int, err);
	return 0;
}

static int api_free_irq(void *const args[], void *ret)
{
	unsigned int irq = ARG(unsigned int, 0);
	void *dev_id = ARG(void *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!st->irq_requested || irq != st->irq_nr || dev_id != st->irq_dev_id) {
		RET(int, -ENOENT);
		return 0;
	}
	free_irq(irq, dev_id);
	st->irq_requested = false;
	RET(int, 0);
	return 0;
}

/* ---- the PCI function ---- */

static int api_pci_enable_device(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_enable_device");
	if (err)
		return err;
	if (st->enable_cnt >= API_ENABLE_MAX)
		return refuse(k, -EBUSY, "pci_enable_device: enabled %u times already", st->enable_cnt);
	err = pci_enable_device(pdev);
	if (!err) {
		st->enable_cnt++;
		/* Enabling may route the interrupt (ACPI). */
		st->irq = pdev->irq;
	}
	RET(int, err);
	return 0;
}

static int api_pci_disable_device(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_disable_device");
	if (err)
		return err;
	if (!st->enable_cnt)
		return refuse(k, -EINVAL, "pci_disable_device: not enabled by the u-driver");
	pci_disable_device(pdev);
	st->enable_cnt--;
	return 0;
}

static int api_pci_set_master(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_set_master");
	if (err)
		return err;
	pci_set_master(pdev);
	return 0;
}

static int api_pci_set_mwi(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_set_mwi");
	if (err)
		return err;
	err = pci_set_mwi(pdev);
	if (!err)
		st->mwi = true;
	RET(int, err);
	return 0;
}

static int api_pci_clear_mwi(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_clear_mwi");
	if (err)
		return err;
	pci_clear_mwi(pdev);
	st->mwi = false;
	return 0;
}

static int api_pci_request_regions(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	const char *name = ARG(const char *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_request_regions");
	if (err)
		return err;
	if (st->regions)
		return refuse(k, -EBUSY, "pci_request_regions: requested already");
	/* The resources keep the name: a copy of the call's. */
	strscpy(st->region_name, name, sizeof(st->region_name));
	err = pci_request_regions(pdev, st->region_name);
	if (!err)
		st->regions = true;
	RET(int, err);
	return 0;
}

static int api_pci_release_regions(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_release_regions");
	if (err)
		return err;
	if (!st->regions)
		return refuse(k, -EINVAL, "pci_release_regions: not requested");
	pci_release_regions(pdev);
	st->regions = false;
	return 0;
}

static bool power_state_ok(pci_power_t state)
{
	return state == PCI_D0 || state == PCI_D1 || state == PCI_D2 ||
	       state == PCI_D3hot;
}

static int api_pci_set_power_state(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	pci_power_t state = ARG(pci_power_t, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_set_power_state");
	if (err)
		return err;
	if (!power_state_ok(state))
		return refuse(k, -EINVAL, "pci_set_power_state: state %d", (__force int)state);
	RET(int, pci_set_power_state(pdev, state));
	return 0;
}

static int api_pci_enable_wake(void *const args[], void *ret)
{
	struct pci_dev *pdev = ARG(struct pci_dev *, 0);
	pci_power_t state = ARG(pci_power_t, 1);
	bool enable = !!ARG(u8, 2);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_pdev(k, pdev, "pci_enable_wake");
	if (err)
		return err;
	if (!power_state_ok(state))
		return refuse(k, -EINVAL, "pci_enable_wake: state %d", (__force int)state);
	err = pci_enable_wake(pdev, state, enable);
	if (!err)
		st->wake = enable;
	RET(int, err);
	return 0;
}

static int api_device_set_wakeup_enable(void *const args[], void *ret)
{
	struct device *dev = ARG(struct device *, 0);
	bool enable = !!ARG(u8, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, dev, "device_set_wakeup_enable");
	if (err)
		return err;
	err = device_set_wakeup_enable(dev, enable);
	if (!err)
		st->wakeup = enable;
	RET(int, err);
	return 0;
}

/* ---- DMA ---- */

/* dma_set_mask and dma_set_coherent_mask: on the device's own struct
 * device, any mask (the DMA layer refuses what the device cannot do). */
static int api_dma_mask(void *const args[], void *ret,
			int (*set)(struct device *, u64), const char *fn)
{
	struct device *dev = ARG(struct device *, 0);
	u64 mask = ARG(u64, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, dev, fn);
	if (err)
		return err;
	RET(int, set(dev, mask));
	return 0;
}

static int api_dma_set_mask(void *const args[], void *ret)
{
	return api_dma_mask(args, ret, dma_set_mask, "dma_set_mask");
}

static int api_dma_set_coherent_mask(void *const args[], void *ret)
{
	return api_dma_mask(args, ret, dma_set_coherent_mask, "dma_set_coherent_mask");
}

static int api_dma_alloc_attrs(void *const args[], void *ret)
{
	struct device *dev = ARG(struct device *, 0);
	size_t size = ARG(size_t, 1);
	dma_addr_t *handle_out = ARG(dma_addr_t *, 2);
	gfp_t gfp = ARG(gfp_t, 3);
	unsigned long attrs = ARG(unsigned long, 4);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct api_dma *slot;
	dma_addr_t handle;
	void *cpu;
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, dev, "dma_alloc_attrs");
	if (err)
		return err;
	if (!size || size > API_DMA_BYTES_MAX || size > API_DMA_TOTAL_MAX - st->dma_bytes)
		return refuse(k, -EINVAL, "dma_alloc_attrs: %zu bytes (at most %u, %u in all; %zu taken)",
			      size, API_DMA_BYTES_MAX, API_DMA_TOTAL_MAX, st->dma_bytes);
	/* A buffer the kernel maps: DMA_ATTR_NO_KERNEL_MAPPING and the like
	 * would hand back no address the u-driver's copy could stand for. */
	if (attrs & ~DMA_ATTR_NO_WARN)
		return refuse(k, -EINVAL, "dma_alloc_attrs: attrs %#lx (only DMA_ATTR_NO_WARN)", attrs);
	for (slot = st->dma; slot < st->dma + API_DMA_MAX && slot->cpu; slot++)
		;
	if (slot == st->dma + API_DMA_MAX)
		return refuse(k, -ENOSPC, "dma_alloc_attrs: more than %d buffers", API_DMA_MAX);
	RET(void *, NULL);
	/* The thunk sleeps: GFP_KERNEL whatever the u-driver asked for. */
	cpu = dma_alloc_attrs(dev, size, &handle, GFP_KERNEL | (gfp & __GFP_NOWARN), attrs);
	if (!cpu)
		return 0;
	if (!drvslice_track(&k->side, cpu, size, 0)) {
		dma_free_attrs(dev, size, cpu, handle, attrs);
		return 0;	/* NULL, as when the kernel has no memory */
	}
	slot->cpu = cpu;
	slot->handle = handle;
	slot->size = size;
	slot->attrs = attrs;
	st->dma_bytes += size;
	memcpy(handle_out, &handle, sizeof(handle));
	RET(void *, cpu);
	return 0;
}

static int api_dma_free_attrs(void *const args[], void *ret)
{
	struct device *dev = ARG(struct device *, 0);
	size_t size = ARG(size_t, 1);
	void *cpu = ARG(void *, 2);
	dma_addr_t handle = ARG(dma_addr_t, 3);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct api_dma *slot;
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, dev, "dma_free_attrs");
	if (err)
		return err;
	for (slot = st->dma; slot < st->dma + API_DMA_MAX; slot++)
		if (cpu && slot->cpu == cpu)
			break;
	if (slot == st->dma + API_DMA_MAX || slot->size != size || slot->handle != handle)
		return refuse(k, -EINVAL, "dma_free_attrs: not a buffer of the device's, or not its size and handle");
	drvslice_untrack(&k->side, cpu);
	dma_free_attrs(dev, slot->size, slot->cpu, slot->handle, slot->attrs);
	st->dma_bytes -= slot->size;
	memset(slot, 0, sizeof(*slot));
	return 0;
}

/* ---- registers ---- */

static int api_ioremap(void *const args[], void *ret)
{
	resource_size_t offset = ARG(resource_size_t, 0);
	unsigned long size = ARG(unsigned long, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	void __iomem *base;
	int bar, i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	bar = bar_of(st, offset, size, IORESOURCE_MEM);
	if (bar < 0 || size > UINT_MAX)
		return refuse(k, -EINVAL, "ioremap: %lu bytes at %pa are in no memory BAR of the device",
			      size, &offset);
	for (i = 0; i < DRVSLICE_IOMEM_MAX && st->iomem[i]; i++)
		;
	if (i == DRVSLICE_IOMEM_MAX)
		return refuse(k, -ENOSPC, "ioremap: more than %d windows", DRVSLICE_IOMEM_MAX);
	RET(void *, NULL);
	base = ioremap(offset, size);
	if (!base)
		return 0;
	if (drvslice_iomem_add(k, base, size, bar))
		goto err_unmap;
	/* The u-driver's copy stands for the window: its accesses come
	 * back as A_OWN pointers into it, checked by drvslice_iomem_ok. */
	if (!drvslice_track(&k->side, (void __force *)base, size, 0))
		goto err_del;
	st->iomem[i] = base;
	RET(void *, (void __force *)base);
	return 0;

err_del:
	drvslice_iomem_del(k, base);
err_unmap:
	iounmap(base);
	return 0;	/* NULL, as when the kernel cannot map it */
}

static int api_iounmap(void *const args[], void *ret)
{
	void __iomem *addr = ARG(void __iomem *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++)
		if (addr && st->iomem[i] == addr)
			break;
	if (i == DRVSLICE_IOMEM_MAX)
		return refuse(k, -EINVAL, "iounmap: not the start of a window the device mapped");
	drvslice_untrack(&k->side, (void __force *)addr);
	drvslice_iomem_del(k, addr);
	iounmap(addr);
	st->iomem[i] = NULL;
	return 0;
}

static int api_memcpy_fromio(void *const args[], void *ret)
{
	void *to = ARG(void *, 0);
	const void __iomem *from = ARG(const void __iomem *, 1);
	size_t count = ARG(size_t, 2);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);

	if (IS_ERR(st))
		return PTR_ERR(st);
	/* @to is the call's out buffer, DRVSLICE_API_IO_CHUNK bytes. */
	if (!count || count > DRVSLICE_API_IO_CHUNK || !iomem_range_ok(k, from, count))
		return refuse(k, -EINVAL, "memcpy_fromio: %zu bytes not in a window the device mapped (at most %d a call)",
			      count, DRVSLICE_API_IO_CHUNK);
	memcpy_fromio(to, from, count);
	return 0;
}

#define API_READ(fn, type)						\
static int api_##fn(void *const args[], void *ret)			\
{									\
	const void __iomem *addr = ARG(const void __iomem *, 0);	\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	if (!drvslice_iomem_ok(k, addr, sizeof(type)))			\
		return refuse(k, -EINVAL, #fn ": not an aligned register in a window the device mapped"); \
	RET(type, fn(addr));						\
	return 0;							\
}

#define API_WRITE(fn, type)						\
static int api_##fn(void *const args[], void *ret)			\
{									\
	type value = ARG(type, 0);					\
	void __iomem *addr = ARG(void __iomem *, 1);			\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	if (!drvslice_iomem_ok(k, addr, sizeof(type)))			\
		return refuse(k, -EINVAL, #fn ": not an aligned register in a window the device mapped"); \
	fn(value, addr);						\
	return 0;							\
}

API_READ(readb, u8)
API_READ(readw, u16)
API_READ(readl, u32)
API_READ(readq, u64)
API_WRITE(writeb, u8)
API_WRITE(writew, u16)
API_WRITE(writel, u32)
API_WRITE(writeq, u64)

#define API_IN(fn, type)						\
static int api_##fn(void *const args[], void *ret)			\
{									\
	unsigned long port = ARG(unsigned long, 0);			\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	if (bar_of(st, port, sizeof(type), IORESOURCE_IO) < 0)		\
		return refuse(k, -EINVAL, #fn ": port %#lx is in no I/O BAR of the device", port); \
	RET(type, fn(port));						\
	return 0;							\
}

#define API_OUT(fn, type)						\
static int api_##fn(void *const args[], void *ret)			\
{									\
	type value = ARG(type, 0);					\
	unsigned long port = ARG(unsigned long, 1);			\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	if (bar_of(st, port, sizeof(type), IORESOURCE_IO) < 0)		\
		return refuse(k, -EINVAL, #fn ": port %#lx is in no I/O BAR of the device", port); \
	fn(value, port);						\
	return 0;							\
}

API_IN(inb, u8)
API_IN(inw, u16)
API_IN(inl, u32)
API_OUT(outb, u8)
API_OUT(outw, u16)
API_OUT(outl, u32)

/* ---- the description ---- */

#define API_TARGET(fn) \
	{ DRVSLICE_API_BASE + DRVSLICE_API_##fn, #fn, NULL, api_##fn }

static const struct drvslice_target api_targets[] = {
	API_TARGET(alloc_etherdev_mqs),
	API_TARGET(netdev_alloc_fields),
	API_TARGET(free_netdev),
	API_TARGET(register_netdev),
	API_TARGET(unregister_netdev),
	API_TARGET(dev_addr_mod),
	API_TARGET(eth_validate_addr),
	API_TARGET(ethtool_op_get_link),
	API_TARGET(netif_carrier_on),
	API_TARGET(netif_carrier_off),
	API_TARGET(netif_carrier_ok),
	API_TARGET(netif_running),
	API_TARGET(netif_device_attach),
	API_TARGET(netif_device_detach),
	API_TARGET(netif_start_queue),
	API_TARGET(netif_stop_queue),
	API_TARGET(netif_wake_queue),
	API_TARGET(netif_queue_stopped),
	API_TARGET(netif_napi_add_weight),
	API_TARGET(napi_enable),
	API_TARGET(napi_disable),
	API_TARGET(request_irq),
	API_TARGET(free_irq),
	API_TARGET(pci_enable_device),
	API_TARGET(pci_disable_device),
	API_TARGET(pci_set_master),
	API_TARGET(pci_set_mwi),
	API_TARGET(pci_clear_mwi),
	API_TARGET(pci_request_regions),
	API_TARGET(pci_release_regions),
	API_TARGET(pci_set_power_state),
	API_TARGET(pci_enable_wake),
	API_TARGET(device_set_wakeup_enable),
	API_TARGET(dma_set_mask),
	API_TARGET(dma_set_coherent_mask),
	API_TARGET(dma_alloc_attrs),
	API_TARGET(dma_free_attrs),
	API_TARGET(ioremap),
	API_TARGET(iounmap),
	API_TARGET(memcpy_fromio),
	API_TARGET(readb),
	API_TARGET(readw),
	API_TARGET(readl),
	API_TARGET(readq),
	API_TARGET(writeb),
	API_TARGET(writew),
	API_TARGET(writel),
	API_TARGET(writeq),
	API_TARGET(inb),
	API_TARGET(inw),
	API_TARGET(inl),
	API_TARGET(outb),
	API_TARGET(outw),
	API_TARGET(outl),
	{ 0, NULL, NULL, NULL }
};

/* One target per entry. */
static_assert(ARRAY_SIZE(api_targets) == DRVSLICE_API_N);

/* Pointee names resolve in the driver's own description (side->drv). */
const struct drvslice_driver drvslice_api_kernel = {
	.name = "kernel-api",
	.nentries = DRVSLICE_API_N,
	.entries = drvslice_api_entries,
	.targets = api_targets,
};

/*
 * The device is going (its u-driver's remove has run, or it is gone):
 * what the u-driver left of the kernel's resources, undone in the order a
 * driver's remove would.  No call of the device's is in progress.  A
 * handler the net_device's unregistering calls (ndo_stop) finds no
 * u-driver now and fails: the interrupt, NAPI and bus mastering are
 * stopped here before the windows and buffers they use go.
 */
void drvslice_api_release(struct drvslice_kdev *k)
{
	struct api_state *st = k->api_state;
	struct pci_dev *pdev = k->pdev;
	unsigned int i;

	if (!st)
		return;
	if (st->netdev && st->registered)
		unregister_netdev(st->netdev);
	st->registered = false;
	if (st->irq_requested)
		free_irq(st->irq_nr, st->irq_dev_id);
	st->irq_requested = false;
	for (i = 0; i < API_NAPI_MAX; i++)
		if (st->napi[i].napi && st->napi[i].enabled)
			napi_disable(st->napi[i].napi);
	/* No DMA from the device into buffers about to be freed. */
	pci_clear_master(pdev);
	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++) {
		if (!st->iomem[i])
			continue;
		drvslice_untrack(&k->side, (void __force *)st->iomem[i]);
		drvslice_iomem_del(k, st->iomem[i]);
		iounmap(st->iomem[i]);
	}
	for (i = 0; i < API_DMA_MAX; i++) {
		struct api_dma *d = &st->dma[i];

		if (!d->cpu)
			continue;
		drvslice_untrack(&k->side, d->cpu);
		dma_free_attrs(&pdev->dev, d->size, d->cpu, d->handle, d->attrs);
	}
	if (st->regions)
		pci_release_regions(pdev);
	if (st->mwi)
		pci_clear_mwi(pdev);
	if (st->wake)
		pci_enable_wake(pdev, PCI_D3hot, false);
	if (st->wakeup)
		device_set_wakeup_enable(&pdev->dev, false);
	while (st->enable_cnt) {
		pci_disable_device(pdev);
		st->enable_cnt--;
	}
	if (st->netdev) {
		drvslice_untrack(&k->side, st->dev_addr);
		drvslice_untrack(&k->side, st->netdev);
		free_netdev(st->netdev);
	}
	kfree(st->fresh);
	kfree(st);
	k->api_state = NULL;
}
