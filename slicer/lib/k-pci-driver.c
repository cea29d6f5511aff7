// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the PCI driver registry of a u-driver's
 * process.
 *
 * Provides __pci_register_driver (pci_register_driver, module_pci_driver)
 * and pci_unregister_driver of drivers/pci/pci-driver.c, which a user
 * half's own module init and exit call, and for the host that loads the
 * half (drvslice-host.h) drvslice_pci_driver, to find what was
 * registered, and drvslice_pci_match, to match a device's IDs against a
 * driver's id_table as the PCI core does before it calls probe.
 *
 * Registering does what __pci_register_driver does to the driver
 * (driver.name, owner, mod_name, groups and dev_groups set, the dynamic
 * ID list initialised) and what driver_register (drivers/base/driver.c)
 * checks, with its messages: a driver whose struct device_driver has its
 * own probe, remove or shutdown "needs updating" (the PCI bus has them),
 * and a second driver under a name already registered, the same one
 * again included, is refused with -EBUSY.  Unregistering a driver that is
 * not registered is driver_unregister's WARN "Unexpected driver
 * unregister!".
 *
 * Departures: the registry only records the driver.  There are no
 * devices in this process to attach, so registering probes nothing (the
 * host probes, after drvslice_pci_match), unregistering removes nothing,
 * and there is no sysfs (no groups created, no new_id/remove_id, so the
 * dynamic ID list stays empty).  driver.bus is left NULL: pci_bus_type is
 * the kernel's.  The registered drivers are linked through struct
 * pci_driver's node (unused by the kernel's PCI core) under a mutex, in
 * registration order.  A driver without a name is refused with -EINVAL
 * (the kernel would fault comparing names).  After the WARN, unregistering
 * an unknown driver returns; the kernel would go on to free its dynamic
 * IDs.
 */
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "drvslice-host.h"
#include "k-lib.h"

static DEFINE_MUTEX(pci_drivers_lock);
static LIST_HEAD(pci_drivers);

/* driver_find() on the PCI bus: the registered driver named @name. */
static struct pci_driver *pci_driver_find(const char *name)
{
	struct pci_driver *drv;

	list_for_each_entry(drv, &pci_drivers, node)
		if (!strcmp(drv->name, name))
			return drv;
	return NULL;
}

static bool pci_driver_registered(const struct pci_driver *drv)
{
	const struct pci_driver *d;

	list_for_each_entry(d, &pci_drivers, node)
		if (d == drv)
			return true;
	return false;
}

int __pci_register_driver(struct pci_driver *drv, struct module *owner, const char *mod_name)
{
	int ret = 0;

	drv->driver.name = drv->name;
	drv->driver.owner = owner;
	drv->driver.mod_name = mod_name;
	drv->driver.groups = drv->groups;
	drv->driver.dev_groups = drv->dev_groups;
	spin_lock_init(&drv->dynids.lock);
	INIT_LIST_HEAD(&drv->dynids.list);

	if (!drv->name)
		return -EINVAL;
	/* The PCI bus has probe, remove and shutdown methods. */
	if (drv->driver.probe || drv->driver.remove || drv->driver.shutdown)
		pr_warn("Driver '%s' needs updating - please use bus_type methods\n", drv->name);

	mutex_lock(&pci_drivers_lock);
	if (pci_driver_find(drv->name)) {
		pr_err("Error: Driver '%s' is already registered, aborting...\n", drv->name);
		ret = -EBUSY;
	} else {
		list_add_tail(&drv->node, &pci_drivers);
	}
	mutex_unlock(&pci_drivers_lock);
	return ret;
}

void pci_unregister_driver(struct pci_driver *drv)
{
	mutex_lock(&pci_drivers_lock);
	if (!drv || !pci_driver_registered(drv)) {
		mutex_unlock(&pci_drivers_lock);
		drvslice_warn(__FILE__, __LINE__, (void *)_THIS_IP_, "Unexpected driver unregister!\n");
		return;
	}
	list_del_init(&drv->node);
	mutex_unlock(&pci_drivers_lock);
}

const struct pci_driver *drvslice_pci_driver(const char *name)
{
	const struct pci_driver *drv;

	mutex_lock(&pci_drivers_lock);
	if (name)
		drv = pci_driver_find(name);
	else
		drv = list_first_entry_or_null(&pci_drivers, struct pci_driver, node);
	mutex_unlock(&pci_drivers_lock);
	return drv;
}

/* pci_match_one_id() of drivers/pci/pci.h. */
static bool pci_id_matches(const struct pci_device_id *id, const struct pci_device_id *dev_id)
{
	return (id->vendor == PCI_ANY_ID || id->vendor == dev_id->vendor) &&
	       (id->device == PCI_ANY_ID || id->device == dev_id->device) &&
	       (id->subvendor == PCI_ANY_ID || id->subvendor == dev_id->subvendor) &&
	       (id->subdevice == PCI_ANY_ID || id->subdevice == dev_id->subdevice) &&
	       !((id->class ^ dev_id->class) & id->class_mask);
}

int drvslice_pci_match(const struct pci_driver *drv, unsigned short vendor,
		       unsigned short device, unsigned short subvendor,
		       unsigned short subdevice, unsigned int class,
		       const struct pci_device_id **id)
{
	const struct pci_device_id dev_id = {
		.vendor = vendor, .device = device,
		.subvendor = subvendor, .subdevice = subdevice,
		.class = class,
	};
	const struct pci_device_id *ids = drv ? drv->id_table : NULL;

	if (id)
		*id = NULL;
	/* do_pci_match_id(), without driver_override: override_only entries never match. */
	for (; ids && (ids->vendor || ids->subvendor || ids->class_mask); ids++) {
		if (!ids->override_only && pci_id_matches(ids, &dev_id)) {
			if (id)
				*id = ids;
			return 1;
		}
	}
	return 0;
}
