// SPDX-License-Identifier: GPL-2.0
/*
 * chips.c - the PCI functions drvnucleus binds: one line per id, each
 * pointing at its chip (struct drvnucleus_chip, in the chip's own file).
 */
#include <linux/module.h>

#include "drvnucleus.h"

extern const struct drvnucleus_chip ne2k_chip;

const struct pci_device_id drvnucleus_ids[] = {
	{ PCI_DEVICE(0x10ec, 0x8029), .driver_data = (kernel_ulong_t)&ne2k_chip },
	{ }
};
MODULE_DEVICE_TABLE(pci, drvnucleus_ids);
