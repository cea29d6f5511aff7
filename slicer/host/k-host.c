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
