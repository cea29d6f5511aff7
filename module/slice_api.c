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
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/pm_wakeup.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <sound/ak4531_codec.h>
#include <sound/control.h>
#include <sound/core.h>
#include <sound/info.h>
#include <sound/memalloc.h>
#include <sound/pcm.h>
#include <sound/rawmidi.h>

#include "slice.h"
#include "drvslice_api_entries.h"

#define API_NAPI_MAX		4
#define API_DMA_MAX		16
#define API_DMA_BYTES_MAX	(1U << 20)	/* one buffer */
#define API_DMA_TOTAL_MAX	(4U << 20)	/* all of a device's */
#define API_PRIV_MAX		(256U << 10)	/* a net_device's private area */
#define API_QUEUES_MAX		64
#define API_ENABLE_MAX		8		/* nested pci_enable_device */
#define API_PCM_MAX		4		/* a card's PCM devices */
#define API_RAWMIDI_MAX		2		/* its MIDI ports */
#define API_SUBSTREAMS_MAX	8		/* a PCM's or a port's, one way */
#define API_KCTL_MAX		8		/* kcontrols made, not yet added */
#define API_SDMA_MAX		4		/* snd_devm_alloc_dir_pages */
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
	bool enabled;			/* as the driver left it */
	bool stopped;			/* disabled here for a ComboLock */
};

/*
 * A PCM stream's ops as the kernel runs them: the kernel half's (its
 * global), with open and close wrapped so that the substream's runtime is
 * an object of the kernel's own while the stream is open (the driver's
 * open sets runtime->hw and adds constraints to it, through its copy).
 */
struct api_pcm_ops {
	struct snd_pcm_ops ops;
	const struct snd_pcm_ops *half;
	struct drvslice_kdev *k;
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

	/* While the u-driver holds ComboLocks (how many): the kernel half's
	 * entry points it stopped (the interrupt disabled, the transmit
	 * queue stopped: what the driver asked of the queue meanwhile, and
	 * started again at the last release). */
	unsigned int cl_held;
	bool cl_irq, cl_tx, cl_tx_run;

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

	/* ALSA: the card snd_card_new made, its private area and the
	 * fields it had (until they went up), and what hangs from it. */
	struct snd_card *card;
	void *card_priv;
	unsigned int card_priv_size;
	struct snd_card *card_fresh;
	bool card_fields_sent, card_busy;
	struct snd_pcm *pcm[API_PCM_MAX];
	struct api_pcm_ops pcm_ops[API_PCM_MAX][2];
	struct snd_rawmidi *rmidi[API_RAWMIDI_MAX];
	struct snd_kcontrol *kctl[API_KCTL_MAX];	/* not yet added */
	struct snd_ak4531 *ak4531;
	struct snd_dma_buffer *sdma[API_SDMA_MAX];

	/* The device's kernel API description while it has a card whose
	 * private area is typed: snd_card_private_sync names the type. */
	struct drvslice_driver desc;
	const struct drvslice_entry *desc_entries[DRVSLICE_API_N];
	struct drvslice_entry sync;
	struct drvslice_arg sync_args[ARRAY_SIZE(drvslice_api_a_snd_card_private_sync)];
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
	st = k->api_state;
	if (st) {
		/* The transmit queue a ComboLock stopped is not hung while
		 * the u-driver works under the lock (an EEPROM read takes a
		 * downcall a bit): the watchdog sees it progress. */
		if (st->cl_tx && st->registered)
			netif_trans_update(st->netdev);
		return st;
	}
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
 * Whether @fn is a function of the kernel half whose entry has the shape
 * its caller will call it with: @nargs arguments of @kinds and @sizes
 * (@pointee0 the first one's struct, or NULL), a @ret_size result.  One
 * the half serves (DRVSLICE_DOWN: its body is in the half), or one that
 * is a stub there (DRVSLICE_UP: its body is in the u-driver).  The core
 * made sure it is the half's; the prototype it cannot know.
 */
static bool half_fn_shaped_dir(const struct drvslice_kdev *k, const void *fn,
			       unsigned char dir, unsigned int nargs,
			       const unsigned char *kinds,
			       const unsigned short *sizes,
			       const char *pointee0, unsigned short ret_size)
{
	const struct drvslice_driver *d = k->side.drv;
	const struct drvslice_target *t;
	const struct drvslice_entry *e;
	unsigned int i;

	for (t = dir == DRVSLICE_DOWN ? d->targets : d->stubs; t && t->name; t++)
		if (t->fn == fn && (dir != DRVSLICE_DOWN || t->call))
			break;
	if (!fn || !t || !t->name || t->id >= d->nentries)
		return false;
	e = d->entries[t->id];
	if (!e || e->dir != dir || e->nargs != nargs || e->ret_size != ret_size)
		return false;
	for (i = 0; i < nargs; i++)
		if (e->args[i].kind != kinds[i] || e->args[i].size != sizes[i])
			return false;
	if (!!pointee0 != !!e->args[0].pointee ||
	    (pointee0 && strcmp(pointee0, e->args[0].pointee)))
		return false;
	return true;
}

static bool half_fn_shaped(const struct drvslice_kdev *k, const void *fn,
			   unsigned int nargs, const unsigned char *kinds,
			   const unsigned short *sizes, const char *pointee0,
			   unsigned short ret_size)
{
	return half_fn_shaped_dir(k, fn, DRVSLICE_DOWN, nargs, kinds, sizes,
				  pointee0, ret_size);
}

/*
 * The global of the kernel half's that @p points into, at a whole
 * element of @elem bytes (a template in a table of them), or NULL.
 */
static const struct drvslice_global *half_global_elem(const struct drvslice_kdev *k,
						      const void *p,
						      unsigned int elem)
{
	const struct drvslice_driver *d = k->side.drv;
	unsigned int i;

	for (i = 0; p && elem && i < d->nglobals; i++) {
		const struct drvslice_global *g = &d->globals[i];
		const char *base = g->ptr;

		if ((const char *)p < base || (const char *)p >= base + g->size)
			continue;
		if (g->size % elem || ((const char *)p - base) % elem)
			return NULL;
		return g;
	}
	return NULL;
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
	/* Once unregistered a net_device is only freed: register_netdevice
	 * BUG()s on one that is not NETREG_UNINITIALIZED (found by
	 * slice-fuzz: register_netdev after unregister_netdev). */
	if (READ_ONCE(dev->reg_state) != NETREG_UNINITIALIZED)
		return refuse(k, -EBUSY, "register_netdev: registered before (reg_state %u): it can only be freed",
			      READ_ONCE(dev->reg_state));
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
API_NETIF(netdev_reg_state, false, RET(u8, READ_ONCE(dev->reg_state)))
API_NETIF(netif_device_attach, false, netif_device_attach(dev))
API_NETIF(netif_device_detach, false, netif_device_detach(dev))
/* While a ComboLock holds the queue stopped, what the driver asks of it
 * is kept for the release (combolock_resume). */
API_NETIF(netif_start_queue, true,
	  if (st->cl_tx) st->cl_tx_run = true; else netif_start_queue(dev))
API_NETIF(netif_stop_queue, true,
	  if (st->cl_tx) st->cl_tx_run = false; else netif_stop_queue(dev))
API_NETIF(netif_wake_queue, true,
	  if (st->cl_tx) st->cl_tx_run = true; else netif_wake_queue(dev))
API_NETIF(netif_queue_stopped, true,
	  RET(bool, st->cl_tx ? !st->cl_tx_run : netif_queue_stopped(dev)))

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
	slot->enabled = true;
	/* Under a ComboLock: enabled at its release. */
	if (st->cl_held) {
		slot->stopped = true;
		return 0;
	}
	napi_enable(napi);
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
	slot->enabled = false;
	/* Stopped for a ComboLock already: it stays so at the release. */
	if (slot->stopped) {
		slot->stopped = false;
		return 0;
	}
	napi_disable(napi);
	return 0;
}

/* ---- the interrupt ---- */

/* A handler's cookie: the net_device, its private area or the pci_dev. */
static bool irq_cookie_ok(const struct drvslice_kdev *k,
			  const struct api_state *st, const void *dev_id)
{
	return dev_id && ((st->netdev && st->fields_sent &&
			   (dev_id == st->netdev || dev_id == st->priv)) ||
			  (st->card && st->card_fields_sent && dev_id == st->card_priv) ||
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
		return refuse(k, -EINVAL, "request_irq: dev_id is not the device's net_device, sound card's or net_device's private area, or pci_dev");
	if (!half_fn_shaped(k, handler, 2, kinds, sizes, NULL, sizeof(irqreturn_t)))
		return refuse(k, -EINVAL, "request_irq: the handler is no irqreturn_t (*)(int, void *) of the kernel half");
	/* The kernel keeps the name: a copy of the call's. */
	strscpy(st->irq_name, name, sizeof(st->irq_name));
	err = request_irq(irq, handler, flags, st->irq_name, dev_id);
	if (!err) {
		st->irq_requested = true;
		st->irq_nr = irq;
		st->irq_dev_id = dev_id;
		/* Under a ComboLock: the handler runs from its release. */
		if (st->cl_held && !st->cl_irq) {
			disable_irq(irq);
			st->cl_irq = true;
		}
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
	if (st->cl_irq) {
		enable_irq(irq);	/* balanced before it goes */
		st->cl_irq = false;
	}
	free_irq(irq, dev_id);
	st->irq_requested = false;
	RET(int, 0);
	return 0;
}

/* ---- ComboLocks ---- */

/*
 * The first ComboLock the u-driver takes stops the kernel half's entry
 * points that would spin on it in interrupt or softirq context, on the CPU
 * the u-driver may need to give it back (slice_lock.c): the interrupt
 * (disable_irq waits for a handler running), each enabled NAPI context
 * (napi_disable waits for a poll), the transmit queue (netif_tx_disable
 * waits for a transmit; its trans_start renewed, so that the watchdog does
 * not take the pause for a hang).
 */
static void combolock_stop(struct api_state *st)
{
	unsigned int i;

	if (st->cl_held++)
		return;
	if (st->irq_requested) {
		disable_irq(st->irq_nr);
		st->cl_irq = true;
	}
	for (i = 0; i < API_NAPI_MAX; i++)
		if (st->napi[i].napi && st->napi[i].enabled) {
			napi_disable(st->napi[i].napi);
			st->napi[i].stopped = true;
		}
	if (st->netdev && st->registered) {
		st->cl_tx_run = !netif_queue_stopped(st->netdev);
		netif_tx_disable(st->netdev);
		netif_trans_update(st->netdev);
		st->cl_tx = true;
	}
}

/*
 * The last one's release starts them again, as the driver left them
 * meanwhile: a NAPI context it did not disable is polled once (a poll cut
 * short by napi_disable may have left the chip's interrupts masked for the
 * next poll; a poll is what busy polling may run at any time anyway).
 */
static void combolock_resume(struct api_state *st)
{
	unsigned int i;

	if (!st->cl_held || --st->cl_held)
		return;
	for (i = 0; i < API_NAPI_MAX; i++) {
		struct api_napi *n = &st->napi[i];

		if (!n->napi || !n->stopped)
			continue;
		n->stopped = false;
		if (!n->enabled)
			continue;
		napi_enable(n->napi);
		local_bh_disable();
		napi_schedule(n->napi);
		local_bh_enable();
	}
	if (st->cl_irq) {
		st->cl_irq = false;
		if (st->irq_requested)
			enable_irq(st->irq_nr);
	}
	if (st->cl_tx) {
		st->cl_tx = false;
		if (st->netdev && st->registered && st->cl_tx_run) {
			netif_trans_update(st->netdev);
			netif_wake_queue(st->netdev);
		}
	}
}

static int api_combolock(void *const args[], void *ret)
{
	void *lock = ARG(void *, 0);
	int op = ARG(int, 1);
	const struct drvslice_combolock *cl;
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	cl = drvslice_combolock_of(&k->side, lock);
	if (!cl)
		return refuse(k, -EINVAL, "combolock: not a ComboLock of the driver's objects");
	if (op == DRVSLICE_COMBOLOCK_UNLOCK) {
		err = drvslice_combolock_unhold(k, lock);
		if (err)
			return refuse(k, err, "combolock: %s: the u-driver does not hold it", cl->name);
		combolock_resume(st);
		RET(int, 0);
		return 0;
	}
	if (op != DRVSLICE_COMBOLOCK_LOCK && op != DRVSLICE_COMBOLOCK_TRYLOCK)
		return refuse(k, -EINVAL, "combolock: %s: op %d", cl->name, op);
	combolock_stop(st);
	err = drvslice_combolock_hold(k, lock, cl->name, op == DRVSLICE_COMBOLOCK_TRYLOCK);
	if (err) {
		combolock_resume(st);
		if (err == -EBUSY) {
			RET(int, -EBUSY);
			return 0;
		}
		return refuse(k, err, "combolock: %s: %s", cl->name,
			      err == -EDEADLK ? "the u-driver holds it already" :
			      "more ComboLocks than the runtime keeps");
	}
	RET(int, 0);
	return 0;
}

void drvslice_api_peer_gone(struct drvslice_kdev *k)
{
	struct api_state *st = k->api_state;
	unsigned int n = drvslice_combolock_release_all(k);

	if (n)
		dev_warn(&k->pdev->dev, "%s: the last u-driver held %u ComboLock(s): given back\n",
			 k->side.drv->name, n);
	if (st && st->cl_held) {
		st->cl_held = 1;
		combolock_resume(st);
	}
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
	/* A small buffer's bytes go with every message to the u-driver, so
	 * that its copy follows what the device writes there (8139cp's
	 * statistics dump, read after a register poll); a ring's do not:
	 * the kernel half reads those. */
	if (!(size <= DRVSLICE_CONTENT_MAX ? drvslice_track_device(&k->side, cpu, size) :
	      drvslice_track(&k->side, cpu, size, 0))) {
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
	const char *field;
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
	/* A buffer the driver's state points at (its rings: cp->rx_ring) is
	 * the kernel half's interrupt handler's while it is requested; the
	 * driver frees it after free_irq (its close, its open's error path).
	 * Not every buffer: 8139cp's ethtool -S allocates and frees one
	 * while the interface is up, which no field holds. */
	field = drvslice_pointed_into(&k->side, cpu, slot->size);
	if (field && st->irq_requested)
		return refuse(k, -EBUSY, "dma_free_attrs: %s points into it and the interrupt handler is requested",
			      field);
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
	/* The kernel half's interrupt handler and net_device ops read the
	 * window: the driver unmaps it after unregister_netdev and free_irq
	 * (its remove, its probe's error path), never before. */
	if (st->registered || st->irq_requested)
		return refuse(k, -EBUSY, "iounmap: the kernel half may use the window (%s)",
			      st->registered ? "the net_device is registered" : "the interrupt handler is requested");
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

/* ---- ALSA ---- */

/* The one struct type of the driver's of exactly @size bytes: what a
 * private area of that size holds (snd_card_new(..., sizeof(*chip), ...)),
 * or 0 if none or several are. */
static unsigned short type_sized(const struct drvslice_kdev *k,
				 unsigned int size)
{
	const struct drvslice_driver *d = k->side.drv;
	unsigned short t, found = 0;

	for (t = 1; t < d->ntypes; t++) {
		if (d->types[t].size != size)
			continue;
		if (found)
			return 0;
		found = t;
	}
	return found;
}

static int own_card(struct drvslice_kdev *k, const struct api_state *st,
		    const struct snd_card *card, const char *fn)
{
	if (!card || card != st->card)
		return refuse(k, -EINVAL, "%s: not the sound card this device made", fn);
	if (!st->card_fields_sent)
		return refuse(k, -EINVAL, "%s: the card's fields have not gone up yet", fn);
	return 0;
}

static int pcm_index(const struct api_state *st, const struct snd_pcm *pcm)
{
	int i;

	for (i = 0; pcm && i < API_PCM_MAX; i++)
		if (st->pcm[i] == pcm)
			return i;
	return -1;
}

/* A substream of one of the device's PCMs (@runtime: one whose runtime,
 * open now, is @runtime). */
static bool own_substream(const struct api_state *st,
			  const struct snd_pcm_substream *ss,
			  const struct snd_pcm_runtime *runtime)
{
	struct snd_pcm_substream *s;
	int i, dir;

	for (i = 0; i < API_PCM_MAX; i++) {
		if (!st->pcm[i])
			continue;
		for (dir = 0; dir < 2; dir++)
			for (s = st->pcm[i]->streams[dir].substream; s; s = s->next)
				if ((ss && s == ss) ||
				    (runtime && s->runtime == runtime))
					return true;
	}
	return false;
}

/*
 * snd-rawmidi and the AK4531 codec are not drvnucleus's dependencies: a
 * nucleus loads without them (the net guests load no MIDI), and the AK4531
 * codec is no module of its own (Debian links ak4531_codec.o into
 * snd-ens1370).  A sliced sound driver's kernel half links what it needs
 * and exports, GPL-only, the calls the thunks make: the codec's own, and
 * snd-rawmidi's through drvslice_snd_rawmidi_* (symbol_get takes only
 * GPL-only exports, which snd-rawmidi's are not).  Looked up when called:
 * the half is loaded while its device is, and it holds snd-rawmidi.
 */
int drvslice_snd_rawmidi_new(struct snd_card *card, char *id, int device,
			     int output_count, int input_count,
			     struct snd_rawmidi **rmidi);
void drvslice_snd_rawmidi_set_ops(struct snd_rawmidi *rmidi, int stream,
				  const struct snd_rawmidi_ops *ops);

#define api_sym(k, fn, mod)						\
({									\
	typeof(&fn) __f = symbol_get(fn);				\
									\
	if (!__f)							\
		refuse(k, -ENOENT, #fn ": %s is not loaded", mod);	\
	__f;								\
})

/* The device's calls are decoded by a description whose
 * snd_card_private_sync names the private area's type @ptype. */
static void desc_private(struct drvslice_kdev *k, struct api_state *st,
			 unsigned short ptype)
{
	st->desc = drvslice_api_kernel;
	memcpy(st->desc_entries, drvslice_api_entries, sizeof(st->desc_entries));
	st->sync = drvslice_api_e_snd_card_private_sync;
	memcpy(st->sync_args, drvslice_api_a_snd_card_private_sync, sizeof(st->sync_args));
	st->sync_args[1].pointee = k->side.drv->types[ptype].name;
	st->sync.args = st->sync_args;
	st->desc_entries[DRVSLICE_API_snd_card_private_sync] = &st->sync;
	st->desc.entries = st->desc_entries;
	k->side.api = &st->desc;
}

/* Forget the objects hanging from the card before the card frees them. */
static void card_untrack(struct drvslice_kdev *k, struct api_state *st)
{
	unsigned int i;

	for (i = 0; i < API_KCTL_MAX; i++) {
		if (!st->kctl[i])
			continue;
		drvslice_untrack(&k->side, st->kctl[i]);
		snd_ctl_free_one(st->kctl[i]);
		st->kctl[i] = NULL;
	}
	if (st->ak4531)
		drvslice_untrack(&k->side, st->ak4531);
	st->ak4531 = NULL;
	for (i = 0; i < API_PCM_MAX; i++) {
		if (st->pcm[i])
			drvslice_untrack(&k->side, st->pcm[i]);
		st->pcm[i] = NULL;
	}
	for (i = 0; i < API_RAWMIDI_MAX; i++) {
		if (st->rmidi[i])
			drvslice_untrack(&k->side, st->rmidi[i]);
		st->rmidi[i] = NULL;
	}
	if (st->card_priv)
		drvslice_untrack(&k->side, st->card_priv);
	drvslice_untrack(&k->side, st->card);
}

/* The card and all it holds go: its private_free (a stub of the half's)
 * calls the u-driver while it can. */
static void card_free(struct drvslice_kdev *k, struct api_state *st)
{
	struct snd_card *card = st->card;

	card_untrack(k, st);
	st->card = NULL;
	st->card_priv = NULL;
	st->card_priv_size = 0;
	st->card_fields_sent = false;
	kfree(st->card_fresh);
	st->card_fresh = NULL;
	k->side.api = &drvslice_api_kernel;
	st->card_busy = true;
	snd_card_free(card);
	st->card_busy = false;
}

static int api_snd_card_new(void *const args[], void *ret)
{
	struct device *parent = ARG(struct device *, 0);
	int idx = ARG(int, 1);
	const char *xid = ARG(const char *, 2);
	int extra_size = ARG(int, 3);
	int *err_out = ARG(int *, 4);
	char *ptype_out = ARG(char *, 5);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct module *owner;
	struct snd_card *card;
	unsigned short ptype = 0;
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, parent, "snd_card_new");
	if (err)
		return err;
	if (st->card || st->card_busy)
		return refuse(k, -EBUSY, "snd_card_new: the device has a sound card already");
	if (idx < -1 || idx >= SNDRV_CARDS)
		return refuse(k, -EINVAL, "snd_card_new: index %d (-1..%d)", idx, SNDRV_CARDS - 1);
	if (extra_size < 0 || (unsigned int)extra_size > API_PRIV_MAX)
		return refuse(k, -EINVAL, "snd_card_new: a private area of %d bytes (at most %u)",
			      extra_size, API_PRIV_MAX);
	if (extra_size) {
		ptype = type_sized(k, extra_size);
		if (!ptype)
			dev_warn(&k->pdev->dev, "kernel API: snd_card_new: no one struct type of the driver's has %d bytes; the private area crosses without fields\n",
				 extra_size);
	}
	RET(void *, NULL);
	/* The card's module is the kernel half's: its files hold it. */
	owner = k->pdev->dev.driver ? k->pdev->dev.driver->owner : NULL;
	err = snd_card_new(parent, idx, xid[0] ? xid : NULL, owner, extra_size, &card);
	if (err) {
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	st->card_fresh = kmemdup(card, sizeof(*card), GFP_KERNEL);
	if (!st->card_fresh)
		goto err_free;
	if (!drvslice_track(&k->side, card, sizeof(*card),
			    drvslice_type_named(&k->side, "snd_card")))
		goto err_fresh;
	if (extra_size &&
	    !drvslice_track(&k->side, card->private_data, extra_size, ptype))
		goto err_untrack;
	st->card = card;
	st->card_priv = extra_size ? card->private_data : NULL;
	st->card_priv_size = extra_size;
	st->card_fields_sent = false;
	if (st->card_priv && ptype) {
		desc_private(k, st, ptype);
		strscpy(ptype_out, k->side.drv->types[ptype].name, DRVSLICE_API_NAME_MAX);
	}
	RET(void *, card);
	return 0;

err_untrack:
	drvslice_untrack(&k->side, card);
err_fresh:
	kfree(st->card_fresh);
	st->card_fresh = NULL;
err_free:
	snd_card_free(card);
	err = -ENOMEM;
	memcpy(err_out, &err, sizeof(err));
	return 0;
}

static int api_snd_card_alloc_fields(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	unsigned short type;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!card || card != st->card || !st->card_fresh)
		return refuse(k, -EINVAL, "snd_card_alloc_fields: not a sound card just made");
	/* The core has stored the u-driver's empty copy's fields: they are
	 * the card's again, and go up in the reply. */
	type = drvslice_type_named(&k->side, "snd_card");
	if (type && k->side.drv->types[type].size == sizeof(*card))
		copy_fields(k, card, st->card_fresh, type);
	kfree(st->card_fresh);
	st->card_fresh = NULL;
	st->card_fields_sent = true;
	return 0;
}

/* The core has stored the private area's fields the u-driver changed. */
static int api_snd_card_private_sync(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	void *priv = ARG(void *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_card_private_sync");
	if (err)
		return err;
	if (!priv || priv != st->card_priv || k->side.api != &st->desc)
		return refuse(k, -EINVAL, "snd_card_private_sync: not the card's typed private area");
	return 0;
}

/*
 * What a card the u-driver is about to register must hold: its struct
 * device and private area as made, a private_free that is the half's
 * (void (*)(struct snd_card *)) or none, the device's interrupt or none
 * as sync_irq, terminated names.  A wrong field is set back and the
 * call refused.
 */
static int card_check(struct drvslice_kdev *k, struct api_state *st,
		      struct snd_card *card)
{
	static const unsigned char kinds[] = { DRVSLICE_A_PTR };
	static const unsigned short sizes[] = { sizeof(void *) };
	const char *bad = NULL;

	if (card->dev != &k->pdev->dev) {
		card->dev = &k->pdev->dev;
		bad = "dev is not the device's";
	}
	if (card->private_data != st->card_priv) {
		card->private_data = st->card_priv;
		bad = "private_data is not the card's private area";
	}
	if (card->private_free &&
	    !half_fn_shaped_dir(k, card->private_free, DRVSLICE_UP, 1, kinds,
				sizes, "snd_card", 0)) {
		card->private_free = NULL;
		bad = "private_free is no void (*)(struct snd_card *) of the kernel half";
	}
	if (card->sync_irq != -1 &&
	    (!st->irq_requested || card->sync_irq != (int)st->irq_nr)) {
		card->sync_irq = -1;
		bad = "sync_irq is not the device's requested interrupt";
	}
	if (strnlen(card->driver, sizeof(card->driver)) == sizeof(card->driver)) {
		card->driver[0] = '\0';
		bad = "driver is not terminated";
	}
	if (strnlen(card->shortname, sizeof(card->shortname)) == sizeof(card->shortname)) {
		card->shortname[0] = '\0';
		bad = "shortname is not terminated";
	}
	if (strnlen(card->longname, sizeof(card->longname)) == sizeof(card->longname)) {
		card->longname[0] = '\0';
		bad = "longname is not terminated";
	}
	if (bad)
		return refuse(k, -EINVAL, "snd_card_register: %s", bad);
	return 0;
}

static int api_snd_card_register(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_card_register");
	if (err)
		return err;
	if (st->card_busy)
		return refuse(k, -EBUSY, "snd_card_register: the card is being registered or freed");
	err = card_check(k, st, card);
	if (err)
		return err;
	st->card_busy = true;
	err = snd_card_register(card);
	st->card_busy = false;
	RET(int, err);
	return 0;
}

static int api_snd_card_free_on_error(void *const args[], void *ret)
{
	struct device *dev = ARG(struct device *, 0);
	int result = ARG(int, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, dev, "snd_card_free_on_error");
	if (err)
		return err;
	if (result && st->card) {
		if (st->card_busy)
			return refuse(k, -EBUSY, "snd_card_free_on_error: the card is being registered or freed");
		card_free(k, st);
	}
	RET(int, result);
	return 0;
}

static int api_snd_card_rw_proc_new(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	const char *name = ARG(const char *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_card_rw_proc_new");
	if (err)
		return err;
	/* Its read would run in the u-driver and print into the kernel's
	 * seq_file, which no call of the API can reach. */
	return refuse(k, -EOPNOTSUPP, "snd_card_rw_proc_new: proc file %s: a proc entry's read in the u-driver is not part of the kernel API",
		      name);
}

static int api_snd_dma_alloc_dir_pages(void *const args[], void *ret)
{
	struct device *dev = ARG(struct device *, 0);
	int type = ARG(int, 1);
	int dir = ARG(int, 2);
	size_t size = ARG(size_t, 3);
	dma_addr_t *addr_out = ARG(dma_addr_t *, 4);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct snd_dma_buffer *dmab;
	int err, i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_device(k, dev, "snd_devm_alloc_dir_pages");
	if (err)
		return err;
	if (type != SNDRV_DMA_TYPE_DEV)
		return refuse(k, -EINVAL, "snd_devm_alloc_dir_pages: type %d (only SNDRV_DMA_TYPE_DEV)", type);
	if (dir != DMA_BIDIRECTIONAL && dir != DMA_TO_DEVICE && dir != DMA_FROM_DEVICE)
		return refuse(k, -EINVAL, "snd_devm_alloc_dir_pages: direction %d", dir);
	if (!size || size > API_DMA_BYTES_MAX || size > API_DMA_TOTAL_MAX - st->dma_bytes)
		return refuse(k, -EINVAL, "snd_devm_alloc_dir_pages: %zu bytes (at most %u, %u in all; %zu taken)",
			      size, API_DMA_BYTES_MAX, API_DMA_TOTAL_MAX, st->dma_bytes);
	for (i = 0; i < API_SDMA_MAX && st->sdma[i]; i++)
		;
	if (i == API_SDMA_MAX)
		return refuse(k, -ENOSPC, "snd_devm_alloc_dir_pages: more than %d buffers", API_SDMA_MAX);
	RET(void *, NULL);
	dmab = kzalloc(sizeof(*dmab), GFP_KERNEL);
	if (!dmab)
		return 0;
	if (snd_dma_alloc_dir_pages(type, dev, dir, size, dmab))
		goto err_free;
	/* The buffer's description, not its pages: the u-driver programs
	 * the chip with the address. */
	if (!drvslice_track(&k->side, dmab, sizeof(*dmab),
			    drvslice_type_named(&k->side, "snd_dma_buffer")))
		goto err_pages;
	st->sdma[i] = dmab;
	st->dma_bytes += dmab->bytes;
	memcpy(addr_out, &dmab->addr, sizeof(dmab->addr));
	RET(void *, dmab);
	return 0;

err_pages:
	snd_dma_free_pages(dmab);
err_free:
	kfree(dmab);
	return 0;	/* NULL, as when the kernel has no memory */
}

/* snd_pcm_new and snd_rawmidi_new: the counts of substreams each way. */
static bool counts_ok(int out, int in)
{
	return out >= 0 && in >= 0 && out <= API_SUBSTREAMS_MAX &&
	       in <= API_SUBSTREAMS_MAX && (out || in);
}

static int api_snd_pcm_new(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	const char *id = ARG(const char *, 1);
	int device = ARG(int, 2);
	int playback = ARG(int, 3), capture = ARG(int, 4);
	int *err_out = ARG(int *, 5);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct snd_pcm *pcm;
	int err, i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_pcm_new");
	if (err)
		return err;
	if (device < 0 || device >= SNDRV_PCM_DEVICES || !counts_ok(playback, capture))
		return refuse(k, -EINVAL, "snd_pcm_new: device %d (0..%d), %d playback and %d capture substreams (at most %d)",
			      device, SNDRV_PCM_DEVICES - 1, playback, capture, API_SUBSTREAMS_MAX);
	for (i = 0; i < API_PCM_MAX && st->pcm[i]; i++)
		;
	if (i == API_PCM_MAX)
		return refuse(k, -ENOSPC, "snd_pcm_new: more than %d PCMs", API_PCM_MAX);
	RET(void *, NULL);
	err = snd_pcm_new(card, id, device, playback, capture, &pcm);
	if (err) {
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	/* The chip its callbacks find (snd_pcm_substream_chip) is the
	 * card's private area, whatever the u-driver's copy says. */
	pcm->private_data = st->card_priv;
	if (!drvslice_track(&k->side, pcm, sizeof(*pcm),
			    drvslice_type_named(&k->side, "snd_pcm"))) {
		/* The card frees it; the driver fails its probe. */
		err = -ENOMEM;
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	st->pcm[i] = pcm;
	RET(void *, pcm);
	return 0;
}

static struct api_pcm_ops *pcm_ops_of(struct snd_pcm_substream *ss)
{
	return container_of(ss->ops, struct api_pcm_ops, ops);
}

static int api_pcm_open(struct snd_pcm_substream *ss)
{
	struct api_pcm_ops *o = pcm_ops_of(ss);
	struct drvslice_kdev *k = o->k;
	unsigned long long h;
	int err;

	mutex_lock(&k->lock);
	h = drvslice_track(&k->side, ss->runtime, sizeof(*ss->runtime),
			   drvslice_type_named(&k->side, "snd_pcm_runtime"));
	mutex_unlock(&k->lock);
	if (!h)
		return -ENOMEM;
	err = o->half->open(ss);
	if (err) {
		mutex_lock(&k->lock);
		drvslice_untrack(&k->side, ss->runtime);
		mutex_unlock(&k->lock);
	}
	return err;
}

static int api_pcm_close(struct snd_pcm_substream *ss)
{
	struct api_pcm_ops *o = pcm_ops_of(ss);
	struct drvslice_kdev *k = o->k;
	int err = o->half->close ? o->half->close(ss) : 0;

	mutex_lock(&k->lock);
	drvslice_untrack(&k->side, ss->runtime);
	mutex_unlock(&k->lock);
	return err;
}

static int api_snd_pcm_set_ops(void *const args[], void *ret)
{
	struct snd_pcm *pcm = ARG(struct snd_pcm *, 0);
	int direction = ARG(int, 1);
	const struct snd_pcm_ops *ops = ARG(const struct snd_pcm_ops *, 2);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct api_pcm_ops *o;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (pcm_index(st, pcm) < 0)
		return refuse(k, -EINVAL, "snd_pcm_set_ops: not a PCM of the device's");
	if (direction != SNDRV_PCM_STREAM_PLAYBACK && direction != SNDRV_PCM_STREAM_CAPTURE)
		return refuse(k, -EINVAL, "snd_pcm_set_ops: direction %d", direction);
	if (!half_global(k, ops, sizeof(*ops)))
		return refuse(k, -EINVAL, "snd_pcm_set_ops: ops is not a snd_pcm_ops of the kernel half");
	if (!ops->open)
		return refuse(k, -EINVAL, "snd_pcm_set_ops: ops has no open");
	o = &st->pcm_ops[pcm_index(st, pcm)][direction];
	o->ops = *ops;
	o->ops.open = api_pcm_open;
	o->ops.close = api_pcm_close;
	o->half = ops;
	o->k = k;
	snd_pcm_set_ops(pcm, direction, &o->ops);
	return 0;
}

static int api_snd_pcm_set_managed_buffer_all(void *const args[], void *ret)
{
	struct snd_pcm *pcm = ARG(struct snd_pcm *, 0);
	int type = ARG(int, 1);
	struct device *data = ARG(struct device *, 2);
	size_t size = ARG(size_t, 3), max = ARG(size_t, 4);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	const char *bad = NULL;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (pcm_index(st, pcm) < 0)
		return refuse(k, -EINVAL, "snd_pcm_set_managed_buffer_all: not a PCM of the device's");
	/* The fields the u-driver set came down with the call. */
	if (pcm->private_data != st->card_priv) {
		pcm->private_data = st->card_priv;
		bad = "private_data is not the card's private area";
	}
	if (strnlen(pcm->name, sizeof(pcm->name)) == sizeof(pcm->name)) {
		pcm->name[0] = '\0';
		bad = "name is not terminated";
	}
	if (bad)
		return refuse(k, -EINVAL, "snd_pcm_set_managed_buffer_all: %s", bad);
	if (type != SNDRV_DMA_TYPE_DEV || data != &k->pdev->dev)
		return refuse(k, -EINVAL, "snd_pcm_set_managed_buffer_all: type %d (only SNDRV_DMA_TYPE_DEV on the device's own struct device)",
			      type);
	if (size > max || max > API_DMA_BYTES_MAX)
		return refuse(k, -EINVAL, "snd_pcm_set_managed_buffer_all: %zu bytes, at most %zu (at most %u)",
			      size, max, API_DMA_BYTES_MAX);
	RET(int, snd_pcm_set_managed_buffer_all(pcm, type, data, size, max));
	return 0;
}

static int api_snd_pcm_add_chmap_ctls(void *const args[], void *ret)
{
	struct snd_pcm *pcm = ARG(struct snd_pcm *, 0);
	int stream = ARG(int, 1);
	const struct snd_pcm_chmap_elem *chmap = ARG(const struct snd_pcm_chmap_elem *, 2);
	int std = ARG(int, 3);
	int max_channels = ARG(int, 4);
	unsigned long private_value = ARG(unsigned long, 5);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	const struct drvslice_global *g;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (pcm_index(st, pcm) < 0)
		return refuse(k, -EINVAL, "snd_pcm_add_chmap_ctls: not a PCM of the device's");
	if (stream != SNDRV_PCM_STREAM_PLAYBACK && stream != SNDRV_PCM_STREAM_CAPTURE)
		return refuse(k, -EINVAL, "snd_pcm_add_chmap_ctls: stream %d", stream);
	if (!pcm->streams[stream].substream_count || pcm->streams[stream].chmap_kctl)
		return refuse(k, -EINVAL, "snd_pcm_add_chmap_ctls: the stream has no substream, or a channel map already");
	if (max_channels < 1 || max_channels > (int)ARRAY_SIZE(chmap->map))
		return refuse(k, -EINVAL, "snd_pcm_add_chmap_ctls: %d channels (1..%zu)",
			      max_channels, ARRAY_SIZE(chmap->map));
	if (std) {
		if (chmap)
			return refuse(k, -EINVAL, "snd_pcm_add_chmap_ctls: a map and the standard one");
		chmap = snd_pcm_std_chmaps;
	} else {
		/* A table of the half's, ending with a zero entry. */
		g = half_global_elem(k, chmap, sizeof(*chmap));
		if (!g || ((const struct snd_pcm_chmap_elem *)(g->ptr + g->size) - 1)->channels)
			return refuse(k, -EINVAL, "snd_pcm_add_chmap_ctls: the map is no terminated snd_pcm_chmap_elem table of the kernel half");
	}
	RET(int, snd_pcm_add_chmap_ctls(pcm, stream, chmap, max_channels,
					private_value, NULL));
	return 0;
}

static int api_snd_pcm_set_sync(void *const args[], void *ret)
{
	struct snd_pcm_substream *ss = ARG(struct snd_pcm_substream *, 0);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!own_substream(st, ss, NULL) || !ss->runtime)
		return refuse(k, -EINVAL, "snd_pcm_set_sync: not an open substream of the device's PCMs");
	snd_pcm_set_sync(ss);
	return 0;
}

static int api_snd_pcm_lib_bytes(void *const args[], void *ret)
{
	struct snd_pcm_substream *ss = ARG(struct snd_pcm_substream *, 0);
	int period = ARG(int, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!own_substream(st, ss, NULL) || !ss->runtime)
		return refuse(k, -EINVAL, "snd_pcm_lib_bytes: not an open substream of the device's PCMs");
	RET(size_t, period ? snd_pcm_lib_period_bytes(ss) : snd_pcm_lib_buffer_bytes(ss));
	return 0;
}

/* snd_pcm_hw_constraint_list and _ratnums: on the runtime of an open
 * substream of the device's, an interval parameter, a constraint of the
 * half's own (its tables are the half's). */
static int api_constraint(void *const args[], void *ret, unsigned int size,
			  const char *fn, struct snd_pcm_runtime **runtime,
			  unsigned int *cond, snd_pcm_hw_param_t *var,
			  const void **c)
{
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);

	if (IS_ERR(st))
		return PTR_ERR(st);
	*runtime = ARG(struct snd_pcm_runtime *, 0);
	*cond = ARG(unsigned int, 1);
	*var = ARG(snd_pcm_hw_param_t, 2);
	*c = ARG(const void *, 3);
	if (!own_substream(st, NULL, *runtime))
		return refuse(k, -EINVAL, "%s: not the runtime of an open substream of the device's PCMs", fn);
	if ((__force int)*var < SNDRV_PCM_HW_PARAM_FIRST_INTERVAL ||
	    (__force int)*var > SNDRV_PCM_HW_PARAM_LAST_INTERVAL)
		return refuse(k, -EINVAL, "%s: parameter %d is no interval", fn, (__force int)*var);
	if (!half_global(k, *c, size))
		return refuse(k, -EINVAL, "%s: the constraint is not one of the kernel half's", fn);
	return 0;
}

static int api_snd_pcm_hw_constraint_list(void *const args[], void *ret)
{
	struct snd_pcm_runtime *runtime;
	snd_pcm_hw_param_t var;
	unsigned int cond;
	const void *l;
	int err;

	err = api_constraint(args, ret, sizeof(struct snd_pcm_hw_constraint_list),
			     "snd_pcm_hw_constraint_list", &runtime, &cond, &var, &l);
	if (err)
		return err;
	RET(int, snd_pcm_hw_constraint_list(runtime, cond, var, l));
	return 0;
}

static int api_snd_pcm_hw_constraint_ratnums(void *const args[], void *ret)
{
	struct snd_pcm_runtime *runtime;
	snd_pcm_hw_param_t var;
	unsigned int cond;
	const void *r;
	int err;

	err = api_constraint(args, ret, sizeof(struct snd_pcm_hw_constraint_ratnums),
			     "snd_pcm_hw_constraint_ratnums", &runtime, &cond, &var, &r);
	if (err)
		return err;
	RET(int, snd_pcm_hw_constraint_ratnums(runtime, cond, var, r));
	return 0;
}

static int api_snd_ctl_new1(void *const args[], void *ret)
{
	const struct snd_kcontrol_new *tmpl = ARG(const struct snd_kcontrol_new *, 0);
	void *private_data = ARG(void *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	struct snd_kcontrol *kctl;
	int i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	if (!st->card || !st->card_fields_sent)
		return refuse(k, -EINVAL, "snd_ctl_new1: the device has no sound card");
	/* Its info/get/put are the half's own (stubs of the u-driver's). */
	if (!half_global_elem(k, tmpl, sizeof(*tmpl)))
		return refuse(k, -EINVAL, "snd_ctl_new1: the template is no snd_kcontrol_new of the kernel half");
	if (private_data != st->card_priv)
		return refuse(k, -EINVAL, "snd_ctl_new1: private_data is not the card's private area");
	for (i = 0; i < API_KCTL_MAX && st->kctl[i]; i++)
		;
	if (i == API_KCTL_MAX)
		return refuse(k, -ENOSPC, "snd_ctl_new1: more than %d controls made and not added", API_KCTL_MAX);
	RET(void *, NULL);
	kctl = snd_ctl_new1(tmpl, private_data);
	if (!kctl)
		return 0;
	if (!drvslice_track(&k->side, kctl, sizeof(*kctl),
			    drvslice_type_named(&k->side, "snd_kcontrol"))) {
		snd_ctl_free_one(kctl);
		return 0;	/* NULL, as when the kernel has no memory */
	}
	st->kctl[i] = kctl;
	RET(void *, kctl);
	return 0;
}

static int api_snd_ctl_add(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	struct snd_kcontrol *kctl = ARG(struct snd_kcontrol *, 1);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	int err, i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_ctl_add");
	if (err)
		return err;
	for (i = 0; i < API_KCTL_MAX; i++)
		if (kctl && st->kctl[i] == kctl)
			break;
	if (i == API_KCTL_MAX)
		return refuse(k, -EINVAL, "snd_ctl_add: not a control snd_ctl_new1 made for the device");
	/* The card owns it from here (and frees it if adding fails). */
	st->kctl[i] = NULL;
	drvslice_untrack(&k->side, kctl);
	RET(int, snd_ctl_add(card, kctl));
	return 0;
}

static int api_snd_ak4531_mixer(void *const args[], void *ret)
{
	static const unsigned char wkinds[] = { DRVSLICE_A_PTR, DRVSLICE_A_VALUE, DRVSLICE_A_VALUE };
	static const unsigned short wsizes[] = { sizeof(void *), sizeof(unsigned short),
						 sizeof(unsigned short) };
	static const unsigned char fkinds[] = { DRVSLICE_A_PTR };
	static const unsigned short fsizes[] = { sizeof(void *) };
	struct snd_card *card = ARG(struct snd_card *, 0);
	struct snd_ak4531 tmpl = {
		.write = ARG(void *, 1),
		.private_data = ARG(void *, 2),
		.private_free = ARG(void *, 3),
	};
	int *err_out = ARG(int *, 4);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	typeof(&snd_ak4531_mixer) mixer;
	struct snd_ak4531 *ak;
	int err;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_ak4531_mixer");
	if (err)
		return err;
	if (st->ak4531)
		return refuse(k, -EBUSY, "snd_ak4531_mixer: the card has an AK4531 mixer already");
	if (!half_fn_shaped_dir(k, tmpl.write, DRVSLICE_UP, 3, wkinds, wsizes, "snd_ak4531", 0))
		return refuse(k, -EINVAL, "snd_ak4531_mixer: write is no void (*)(struct snd_ak4531 *, unsigned short, unsigned short) of the kernel half");
	if (tmpl.private_free &&
	    !half_fn_shaped_dir(k, tmpl.private_free, DRVSLICE_UP, 1, fkinds, fsizes, "snd_ak4531", 0))
		return refuse(k, -EINVAL, "snd_ak4531_mixer: private_free is no void (*)(struct snd_ak4531 *) of the kernel half");
	if (tmpl.private_data != st->card_priv)
		return refuse(k, -EINVAL, "snd_ak4531_mixer: private_data is not the card's private area");
	mixer = api_sym(k, snd_ak4531_mixer, "the AK4531 codec (a kernel half that links ak4531_codec.o)");
	if (!mixer)
		return -ENOENT;
	RET(void *, NULL);
	/* It writes every register through the template's write: calls
	 * into the u-driver, nested in this one. */
	st->card_busy = true;
	err = mixer(card, &tmpl, &ak);
	st->card_busy = false;
	symbol_put(snd_ak4531_mixer);
	if (err) {
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	/* The card frees it (and calls private_free). */
	st->ak4531 = ak;
	if (!drvslice_track(&k->side, ak, sizeof(*ak),
			    drvslice_type_named(&k->side, "snd_ak4531"))) {
		st->ak4531 = NULL;
		err = -ENOMEM;
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	RET(void *, ak);
	return 0;
}

#ifdef CONFIG_PM
#define API_AK4531(fn)							\
static int api_##fn(void *const args[], void *ret)			\
{									\
	struct snd_ak4531 *ak = ARG(struct snd_ak4531 *, 0);		\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
	typeof(&fn) f;							\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	if (!ak || ak != st->ak4531)					\
		return refuse(k, -EINVAL, #fn ": not the card's AK4531 mixer"); \
	f = api_sym(k, fn, "the AK4531 codec");				\
	if (!f)								\
		return -ENOENT;						\
	f(ak);								\
	symbol_put(fn);							\
	return 0;							\
}
#else
#define API_AK4531(fn)							\
static int api_##fn(void *const args[], void *ret)			\
{									\
	struct drvslice_kdev *k;					\
	struct api_state *st = api_begin(&k);				\
									\
	if (IS_ERR(st))							\
		return PTR_ERR(st);					\
	return refuse(k, -EOPNOTSUPP, #fn ": the kernel has no CONFIG_PM"); \
}
#endif

API_AK4531(snd_ak4531_suspend)
API_AK4531(snd_ak4531_resume)

static int api_snd_rawmidi_new(void *const args[], void *ret)
{
	struct snd_card *card = ARG(struct snd_card *, 0);
	const char *id = ARG(const char *, 1);
	int device = ARG(int, 2);
	int outputs = ARG(int, 3), inputs = ARG(int, 4);
	int *err_out = ARG(int *, 5);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	typeof(&drvslice_snd_rawmidi_new) rawmidi_new;
	struct snd_rawmidi *rmidi;
	char idbuf[DRVSLICE_API_NAME_MAX];
	int err, i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	err = own_card(k, st, card, "snd_rawmidi_new");
	if (err)
		return err;
	if (device < 0 || device >= SNDRV_RAWMIDI_DEVICES || !counts_ok(outputs, inputs))
		return refuse(k, -EINVAL, "snd_rawmidi_new: device %d (0..%d), %d output and %d input substreams (at most %d)",
			      device, SNDRV_RAWMIDI_DEVICES - 1, outputs, inputs, API_SUBSTREAMS_MAX);
	for (i = 0; i < API_RAWMIDI_MAX && st->rmidi[i]; i++)
		;
	if (i == API_RAWMIDI_MAX)
		return refuse(k, -ENOSPC, "snd_rawmidi_new: more than %d MIDI ports", API_RAWMIDI_MAX);
	rawmidi_new = api_sym(k, drvslice_snd_rawmidi_new, "a kernel half that exports snd-rawmidi's calls");
	if (!rawmidi_new)
		return -ENOENT;
	RET(void *, NULL);
	/* snd_rawmidi_new copies the id: the call's, as a char *. */
	strscpy(idbuf, id, sizeof(idbuf));
	err = rawmidi_new(card, idbuf, device, outputs, inputs, &rmidi);
	symbol_put(drvslice_snd_rawmidi_new);
	if (err) {
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	/* Its callbacks find the chip here. */
	rmidi->private_data = st->card_priv;
	if (!drvslice_track(&k->side, rmidi, sizeof(*rmidi),
			    drvslice_type_named(&k->side, "snd_rawmidi"))) {
		err = -ENOMEM;
		memcpy(err_out, &err, sizeof(err));
		return 0;
	}
	st->rmidi[i] = rmidi;
	RET(void *, rmidi);
	return 0;
}

static int api_snd_rawmidi_set_ops(void *const args[], void *ret)
{
	struct snd_rawmidi *rmidi = ARG(struct snd_rawmidi *, 0);
	int stream = ARG(int, 1);
	const struct snd_rawmidi_ops *ops = ARG(const struct snd_rawmidi_ops *, 2);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);
	typeof(&drvslice_snd_rawmidi_set_ops) set_ops;
	int i;

	if (IS_ERR(st))
		return PTR_ERR(st);
	for (i = 0; i < API_RAWMIDI_MAX; i++)
		if (rmidi && st->rmidi[i] == rmidi)
			break;
	if (i == API_RAWMIDI_MAX)
		return refuse(k, -EINVAL, "snd_rawmidi_set_ops: not a MIDI port of the device's");
	if (stream != SNDRV_RAWMIDI_STREAM_OUTPUT && stream != SNDRV_RAWMIDI_STREAM_INPUT)
		return refuse(k, -EINVAL, "snd_rawmidi_set_ops: stream %d", stream);
	if (!half_global(k, ops, sizeof(*ops)))
		return refuse(k, -EINVAL, "snd_rawmidi_set_ops: ops is not a snd_rawmidi_ops of the kernel half");
	set_ops = api_sym(k, drvslice_snd_rawmidi_set_ops, "a kernel half that exports snd-rawmidi's calls");
	if (!set_ops)
		return -ENOENT;
	set_ops(rmidi, stream, ops);
	symbol_put(drvslice_snd_rawmidi_set_ops);
	return 0;
}

static int api_request_region(void *const args[], void *ret)
{
	resource_size_t start = ARG(resource_size_t, 0);
	resource_size_t n = ARG(resource_size_t, 1);
	const char *name = ARG(const char *, 2);
	struct drvslice_kdev *k;
	struct api_state *st = api_begin(&k);

	if (IS_ERR(st))
		return PTR_ERR(st);
	/* Ports outside the device's BARs are not the device's (a legacy
	 * gameport's at 0x200); inside them pci_request_regions has them. */
	return refuse(k, -EBUSY, "request_region: %llu ports at %#llx (%s): I/O ports outside the device's BARs are not part of the kernel API",
		      (unsigned long long)n, (unsigned long long)start, name);
}

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
	API_TARGET(snd_card_new),
	API_TARGET(snd_card_alloc_fields),
	API_TARGET(snd_card_private_sync),
	API_TARGET(snd_card_register),
	API_TARGET(snd_card_free_on_error),
	API_TARGET(snd_card_rw_proc_new),
	API_TARGET(snd_dma_alloc_dir_pages),
	API_TARGET(snd_pcm_new),
	API_TARGET(snd_pcm_set_ops),
	API_TARGET(snd_pcm_set_managed_buffer_all),
	API_TARGET(snd_pcm_add_chmap_ctls),
	API_TARGET(snd_pcm_set_sync),
	API_TARGET(snd_pcm_lib_bytes),
	API_TARGET(snd_pcm_hw_constraint_list),
	API_TARGET(snd_pcm_hw_constraint_ratnums),
	API_TARGET(snd_ctl_new1),
	API_TARGET(snd_ctl_add),
	API_TARGET(snd_ak4531_mixer),
	API_TARGET(snd_ak4531_suspend),
	API_TARGET(snd_ak4531_resume),
	API_TARGET(snd_rawmidi_new),
	API_TARGET(snd_rawmidi_set_ops),
	API_TARGET(request_region),
	API_TARGET(combolock),
	API_TARGET(netdev_reg_state),
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

/* What the driver's remove did not undo (it did not run, or its u-driver
 * died in it), said before it is released: after a remove that ran, the
 * line does not come. */
static void release_report(struct drvslice_kdev *k, const struct api_state *st)
{
	unsigned int i, windows = 0, buffers = 0;

	for (i = 0; i < DRVSLICE_IOMEM_MAX; i++)
		windows += !!st->iomem[i];
	for (i = 0; i < API_DMA_MAX; i++)
		buffers += !!st->dma[i].cpu;
	for (i = 0; i < API_SDMA_MAX; i++)
		buffers += !!st->sdma[i];
	if (!st->card && !st->netdev && !st->irq_requested && !windows &&
	    !buffers && !st->regions && !st->enable_cnt)
		return;
	dev_info(&k->pdev->dev, "drvnucleus releases what the driver left: %s%s%s%u window(s), %u DMA buffer(s)%s%s\n",
		 st->card ? "the card, " : "",
		 st->netdev ? (st->registered ? "the registered netdev, " : "the netdev, ") : "",
		 st->irq_requested ? "the interrupt, " : "", windows, buffers,
		 st->regions ? ", the regions" : "",
		 st->enable_cnt ? ", the device enabled" : "");
}

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
	/* What the u-driver holds is given back (its entry points started
	 * again, to be stopped in order below). */
	drvslice_api_peer_gone(k);
	release_report(k, st);
	/* The card first: it stops its streams, which use the interrupt,
	 * the registers and the buffers below. */
	if (st->card)
		card_free(k, st);
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
	for (i = 0; i < API_SDMA_MAX; i++) {
		if (!st->sdma[i])
			continue;
		drvslice_untrack(&k->side, st->sdma[i]);
		snd_dma_free_pages(st->sdma[i]);
		kfree(st->sdma[i]);
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
	k->side.api = &drvslice_api_kernel;
	kfree(st);
	k->api_state = NULL;
}
