// SPDX-License-Identifier: GPL-2.0
/*
 * hostdrv: a small PCI driver for the u-driver host's test
 * (Tests/slicer/check-host.sh).  driverslicer --halves splits it: the
 * transmit path (ndo_start_xmit) and hostdrv_kick, which it calls, stay in
 * the kernel; probe, open and the reset work item go to the u-driver.
 *
 * Probe reads the device's IDs, refuses revision 0 with -ENODEV, and calls
 * hostdrv_kick (a downcall), which schedules the reset work: a kernel whose
 * workqueue runs the item at once makes it an upcall nested in the
 * downcall.  A failed kick is probe's error.  Open counts its calls; stop
 * kicks (a downcall from an upcall).
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/workqueue.h>

#define DRV_NAME	"hostdrv"

struct hostdrv_priv {
	unsigned short vendor, device;
	unsigned int irq;
	int kicks;		/* the kernel half's */
	int last_kick;		/* hostdrv_kick's result, as probe saw it */
	int resets;		/* the reset work's */
	int probes;
	int opens;
	struct work_struct reset_work;
};

static struct hostdrv_priv hostdrv_state;

/* The kernel half: the transmit path and what it calls. */
static int hostdrv_kick(int n)
{
	hostdrv_state.kicks += n;
	schedule_work(&hostdrv_state.reset_work);
	return hostdrv_state.kicks * 10;
}

static netdev_tx_t hostdrv_xmit(struct sk_buff *skb, struct net_device *dev)
{
	hostdrv_kick(1);
	return NETDEV_TX_OK;
}

/* The user half. */
static void hostdrv_reset(struct work_struct *work)
{
	struct hostdrv_priv *p = container_of(work, struct hostdrv_priv, reset_work);

	p->resets += 100 + p->kicks;
}

static int hostdrv_open(struct net_device *dev)
{
	return ++hostdrv_state.opens;
}

static int hostdrv_stop(struct net_device *dev)
{
	return hostdrv_kick(0);
}

static const struct net_device_ops hostdrv_ops = {
	.ndo_open = hostdrv_open,
	.ndo_stop = hostdrv_stop,
	.ndo_start_xmit = hostdrv_xmit,
};

static int hostdrv_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hostdrv_priv *p = &hostdrv_state;

	p->probes++;
	if (!pdev->revision) {
		pr_info(DRV_NAME ": %04x:%04x revision 0 is not supported\n", pdev->vendor, pdev->device);
		return -ENODEV;
	}
	p->vendor = pdev->vendor;
	p->device = pdev->device;
	p->irq = pdev->irq;
	p->last_kick = hostdrv_kick(pdev->revision);
	if (p->last_kick < 0)
		return p->last_kick;
	pr_info(DRV_NAME ": %04x:%04x irq %u: kick %d, resets %d\n", p->vendor, p->device, p->irq,
		p->last_kick, p->resets);
	return 0;
}

static void hostdrv_remove(struct pci_dev *pdev)
{
}

static const struct pci_device_id hostdrv_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x10f0) },
	{ }
};
MODULE_DEVICE_TABLE(pci, hostdrv_ids);

static struct pci_driver hostdrv_driver = {
	.name = DRV_NAME,
	.id_table = hostdrv_ids,
	.probe = hostdrv_probe,
	.remove = hostdrv_remove,
};

static int __init hostdrv_init(void)
{
	INIT_WORK(&hostdrv_state.reset_work, hostdrv_reset);
	return pci_register_driver(&hostdrv_driver);
}

static void __exit hostdrv_exit(void)
{
	pci_unregister_driver(&hostdrv_driver);
}

module_init(hostdrv_init);
module_exit(hostdrv_exit);
MODULE_LICENSE("GPL");
