/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's view of the driver library: what the program that loads a
 * sliced driver's user half (and runs its module init) calls to find the
 * driver the half registered and to bind devices to it.  The kernel-facing
 * side is slicer/lib/k-pci-driver.c.
 *
 * Plain C types and forward-declared structs only, so that a host built
 * against the C library's headers can include it; it hands the pointers
 * it gets back to the user half's code (probe) without looking inside.
 */
#ifndef _DRVSLICE_HOST_H
#define _DRVSLICE_HOST_H

struct pci_driver;
struct pci_device_id;

/*
 * The pci_driver registered (pci_register_driver, from the driver's module
 * init) under @name, or with @name NULL the first one registered; NULL if
 * there is none.  It stays valid until the driver unregisters it.
 */
const struct pci_driver *drvslice_pci_driver(const char *name);

/*
 * Whether a PCI function with these IDs (config space: vendor, device,
 * subsystem vendor, subsystem device, and the 24-bit class code
 * class << 16 | subclass << 8 | prog-if) matches @drv's id_table, by the
 * kernel's rules: the table ends at an entry whose vendor, subvendor and
 * class_mask are all 0; PCI_ANY_ID (~0) in an entry's vendor, device,
 * subvendor or subdevice matches anything; class must match where the
 * entry's class_mask has bits; the first matching entry wins; entries
 * marked override_only match no device (the host has no driver_override).
 * Returns 1 and sets *@id (if @id is not NULL) to the matching entry,
 * which the host passes to @drv's probe; else 0 and *@id = NULL.
 */
int drvslice_pci_match(const struct pci_driver *drv, unsigned short vendor,
		       unsigned short device, unsigned short subvendor,
		       unsigned short subdevice, unsigned int class,
		       const struct pci_device_id **id);

/*
 * The other way, what the library asks the host: whether @p is a ComboLock
 * of the driver's (drvslice.h), at its place in an object the host's
 * tracker holds (the user's copy of the kernel's private area): 1 or 0.
 */
int drvslice_host_combolock(const void *p);

/* The PCI function's name ("0000:00:03.0", HELLO's PCI_SLOT), or NULL
 * before HELLO. */
const char *drvslice_host_pci_slot(void);

/* Why the host's last call across the split failed (the tracker's reason,
 * or the kernel's), for the log. */
const char *drvslice_host_why(void);

/* Whether @p is at @off in an object the host's tracker holds whose
 * struct type is the driver's @type: 1 or 0. */
int drvslice_host_in_type(const void *p, const char *type, unsigned int off);

#endif /* _DRVSLICE_HOST_H */
