/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included first (-include) in a sliced driver's kernel half.  The half's
 * own module init, unmodified, registers its pci_driver; here that
 * registration goes to drvnucleus's runtime of sliced drivers
 * (module/slice.c), which binds the devices, announces them to drivermgrd
 * and calls the driver's probe (a stub: its body is in the u-driver) once
 * the device's u-driver asks for it.
 *
 * The build names the half's description and its device class:
 *   -DDRVSLICE_DESC=slice_8139cp_kernel -DDRVSLICE_CLASS=DRVXPC_CLASS_NET
 */
#ifndef _DRVSLICE_KERNEL_H
#define _DRVSLICE_KERNEL_H

/*
 * No kernel header here: this comes before the driver's own #defines
 * (pr_fmt), which the kernel's headers would define first.  The two PCI
 * names are renamed as identifiers, so that pci.h's own declarations of
 * them declare these.
 */
#include <uapi/drvxpc.h>

#include "drvslice.h"

#ifndef DRVSLICE_DESC
#error "build a kernel half with -DDRVSLICE_DESC=<its description>"
#endif
#ifndef DRVSLICE_CLASS
#error "build a kernel half with -DDRVSLICE_CLASS=<DRVXPC_CLASS_*>"
#endif

struct module;
struct pci_driver;

extern const struct drvslice_driver DRVSLICE_DESC;

int drvslice_pci_register(struct pci_driver *drv, struct module *owner,
			  const char *mod_name,
			  const struct drvslice_driver *desc, unsigned char cls);
void drvslice_pci_unregister(struct pci_driver *drv);

/* pci_register_driver() and module_pci_driver() call this one. */
static inline int drvslice_pci_register_half(struct pci_driver *drv,
					     struct module *owner,
					     const char *mod_name)
{
	return drvslice_pci_register(drv, owner, mod_name, &DRVSLICE_DESC,
				     DRVSLICE_CLASS);
}

#define __pci_register_driver	drvslice_pci_register_half
#define pci_unregister_driver	drvslice_pci_unregister

/*
 * The half's spin locks: spinlock_api_smp.h's out-of-line entry points
 * (none is inlined in this kernel's configuration: a configuration that
 * inlines one redefines its name as a macro, and the build fails here
 * rather than skip the check) become drvnucleus's, which take the lock
 * and, while the u-driver holds it as a ComboLock (the annotation
 * combolock), give it back and wait (module/slice_lock.c).  The unlocks
 * stay the kernel's.
 */
#define _raw_spin_lock		drvslice_raw_spin_lock
#define _raw_spin_lock_bh	drvslice_raw_spin_lock_bh
#define _raw_spin_lock_irq	drvslice_raw_spin_lock_irq
#define _raw_spin_lock_irqsave	drvslice_raw_spin_lock_irqsave
#define _raw_spin_trylock	drvslice_raw_spin_trylock
#define _raw_spin_trylock_bh	drvslice_raw_spin_trylock_bh

#endif /* _DRVSLICE_KERNEL_H */
