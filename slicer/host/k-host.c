// SPDX-License-Identifier: GPL-2.0
/*
 * The u-driver host's kernel-facing part (slicer/host/slice-host.c is
 * libc-facing and cannot include the kernel's headers): what it reads of
 * the pci_driver the user half's module init registered.  Compiled as a
 * user half is (driverslicer --user-cflags), linked with it.
 */
#include <linux/pci.h>

#include "drvslice-host.h"

const void *drvslice_host_pci_probe(const struct pci_driver *drv);
const char *drvslice_host_pci_name(const struct pci_driver *drv);
const char *drvslice_dev_name(const struct device *dev);

/* The driver's probe: the function whose upcall answers a PROBE. */
const void *drvslice_host_pci_probe(const struct pci_driver *drv)
{
	return drv ? (const void *)drv->probe : NULL;
}

/* The driver's name: the PROBE's CHIP_NAME. */
const char *drvslice_host_pci_name(const struct pci_driver *drv)
{
	return drv ? drv->name : NULL;
}

/*
 * dev_name() and pci_name() in the user half (drvslice-user.h): a copy of
 * the kernel's struct device carries no name (kobj.name is a kernel
 * string, never a crossing field), so the PCI function's own device is
 * named by the slot drivermgrd's HELLO gave: "0000:00:03.0", as in the
 * kernel.  Any other device: its own name; one with none, "" (a driver
 * takes a device's name for a string: cp_get_drvinfo copies it).
 */
const char *drvslice_dev_name(const struct device *dev)
{
	if (!dev)
		return "";
	if (dev->init_name)
		return dev->init_name;
	if (dev->kobj.name)
		return dev->kobj.name;
	if (drvslice_host_in_type(dev, "pci_dev", offsetof(struct pci_dev, dev)))
		return drvslice_host_pci_slot() ?: "";
	return "";
}
