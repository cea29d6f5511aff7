// SPDX-License-Identifier: GPL-2.0
/*
 * The chips drvnucleus drives: one line per PCI id, each pointing at its
 * chip (struct drvnucleus_chip at the end of CHIP.c).
 *
 * This is a lookup table, not the driver's id_table, and the module has no
 * MODULE_DEVICE_TABLE: udev never loads drvnucleus for a device and the
 * module never binds one by itself, so it never races the stock driver.
 * Which devices it takes is the admin's choice, as with vfio-pci: the ids=
 * parameter at load, or a device's driver_override (drivermgrd's Bind=,
 * driverctl, or by hand).
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "drvnucleus.h"

extern const struct drvnucleus_chip rtl8139_chip;
extern const struct drvnucleus_chip es1370_chip;
extern const struct drvnucleus_chip ne2k_chip;
extern const struct drvnucleus_chip pcnet32_chip;
extern const struct drvnucleus_chip e1000_chip;
extern const struct drvnucleus_chip uhci_chip;
extern const struct drvnucleus_bus drvnucleus_serio_bus;

/* The buses besides PCI, each with its driver (input.c: serio ports). */
const struct drvnucleus_bus *const drvnucleus_buses[] = {
	&drvnucleus_serio_bus,
	NULL
};

#define DRVNUCLEUS_CHIP(vendor, device, chip) \
	{ PCI_DEVICE(vendor, device), .driver_data = (kernel_ulong_t)&(chip) }

const struct pci_device_id drvnucleus_ids[] = {
	DRVNUCLEUS_CHIP(0x10ec, 0x8139, rtl8139_chip),	/* RTL8139, QEMU's C+ */
	DRVNUCLEUS_CHIP(0x1274, 0x5000, es1370_chip),	/* ES1370 */
	DRVNUCLEUS_CHIP(0x1274, 0x1371, es1370_chip),	/* ES1371: untested, QEMU has none */
	DRVNUCLEUS_CHIP(0x10ec, 0x8029, ne2k_chip),	/* RTL8029 NE2000 clone */
	DRVNUCLEUS_CHIP(0x1022, 0x2000, pcnet32_chip),	/* Am79C970A PCnet-PCI II */
	DRVNUCLEUS_CHIP(0x8086, 0x100e, e1000_chip),	/* 82540EM, QEMU's e1000 */
	DRVNUCLEUS_CHIP(0x8086, 0x7020, uhci_chip),	/* PIIX3 USB (UHCI) */
	{ }
};

/* The chip for @pdev, or NULL: drvnucleus drives no other device. */
const struct drvnucleus_chip *drvnucleus_chip_of(struct pci_dev *pdev)
{
	const struct pci_device_id *id = pci_match_id(drvnucleus_ids, pdev);

	return id ? (const void *)id->driver_data : NULL;
}
