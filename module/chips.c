// SPDX-License-Identifier: GPL-2.0
/*
 * chips.c - the PCI ids drvnucleus binds, one line per id, each pointing
 * at its chip (struct drvnucleus_chip).  Adding a chip: its file, a line
 * in Kbuild, its extern below and its id lines in the table.
 *
 * (Created on the e1000 branch before the runtime split reached it: only
 * e1000's lines; the lead's chips.c holds the rest.)
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "drvnucleus.h"

extern const struct drvnucleus_chip e1000_chip;

const struct pci_device_id drvnucleus_ids[] = {
	{ PCI_DEVICE(0x8086, 0x100e), .driver_data = (kernel_ulong_t)&e1000_chip },
	{ }
};
MODULE_DEVICE_TABLE(pci, drvnucleus_ids);
