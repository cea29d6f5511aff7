// SPDX-License-Identifier: GPL-2.0
/*
 * The chips drvnucleus binds: the PCI id table, one line per id, each
 * pointing at its chip (struct drvnucleus_chip at the end of CHIP.c).
 * (Minimal, from the pcnet32 branch: the lead's chips.c has the others.)
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "drvnucleus.h"

extern const struct drvnucleus_chip pcnet32_chip;

const struct pci_device_id drvnucleus_ids[] = {
	{ PCI_DEVICE(0x1022, 0x2000), .driver_data = (kernel_ulong_t)&pcnet32_chip },
	{ }
};
MODULE_DEVICE_TABLE(pci, drvnucleus_ids);
