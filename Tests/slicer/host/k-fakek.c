// SPDX-License-Identifier: GPL-2.0
/*
 * The fake kernel of the u-driver host's test, kernel-facing: the PCI
 * core's probe and the workqueue the kernel half uses, over the driver
 * library (which registered the kernel half's pci_driver, as the kernel
 * half's module init asked).
 */
#include <linux/errno.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "drvslice.h"
#include "drvslice-host.h"
#include "fakek.h"

struct workqueue_struct *system_wq;

/* This kernel's workqueue runs an item at once, in the caller. */
bool queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work)
{
	if (fakek_work_queued())
		work->func(work);
	return true;
}

int fakek_pci_probe(unsigned short vendor, unsigned short device, unsigned char revision,
		    unsigned int irq)
{
	const struct pci_driver *drv = drvslice_pci_driver(NULL);
	const struct pci_device_id *id;
	struct pci_dev *pdev;

	if (!drv || !drvslice_pci_match(drv, vendor, device, 0, 0, PCI_CLASS_NETWORK_ETHERNET << 8, &id))
		return -ENODEV;
	pdev = kzalloc(sizeof(*pdev), GFP_KERNEL);
	if (!pdev)
		return -ENOMEM;
	pdev->vendor = vendor;
	pdev->device = device;
	pdev->revision = revision;
	pdev->irq = irq;
	drvslice_track(&fakek_side, pdev, sizeof(*pdev), drvslice_type_named(&fakek_side, "pci_dev"));
	return drv->probe(pdev, id);
}
