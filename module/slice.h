/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel runtime of sliced drivers (slice.c), as the kernel API's
 * thunks (slice_api.c) see it.
 *
 * A sliced driver's kernel half registers its pci_driver through
 * drvslice_pci_register() (module/include/drvslice-kernel.h redirects
 * pci_register_driver to it).  Each PCI function it binds becomes a
 * struct drvslice_kdev: a drvnucleus device (instance, DEVICE_ADD, the
 * upcall channel to its u-driver), the driver's kernel-side drvslice_side
 * (the object tracker) and what the u-driver's kernel API calls made of
 * the kernel's resources, so that they are checked (an MMIO access must
 * fall in a window the device mapped) and undone when the u-driver goes.
 */
#ifndef _DRVSLICE_KERNEL_RUNTIME_H
#define _DRVSLICE_KERNEL_RUNTIME_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "drvnucleus.h"
#include "drvslice.h"

/* A register window the u-driver mapped (ioremap, pci_iomap). */
struct drvslice_iomem {
	void __iomem *base;	/* NULL: free slot */
	unsigned long len;
	int bar;		/* the BAR it lies in */
};
#define DRVSLICE_IOMEM_MAX	PCI_STD_NUM_BARS

struct drvslice_pdrv;

struct drvslice_kdev {
	struct list_head node;		/* drvslice_kdevs, under slice_lock */
	struct drvnucleus_dev nd;
	struct drvnucleus_chip chip;	/* name: the driver's */
	const struct drvslice_pdrv *pdrv;
	struct pci_dev *pdev;
	const struct pci_device_id *id;
	/* Serialises the side's use (encode, serve, decode). */
	struct mutex lock;
	/* The SLICE_DOWNCALLs being served that have a CALL_ID (slice.c's
	 * struct slice_call), under @calls_lock. */
	struct mutex calls_lock;
	struct list_head calls;
	/* The task serving a downcall for this device, and how deep. */
	struct task_struct *serving;
	unsigned int serving_depth;
	/* Callers inside (a downcall served, an upcall waiting): removal
	 * waits for none; @gone: no new one gets in. */
	atomic_t users;
	bool gone;
	/* The chain: 1 while a top-level upcall is in progress. */
	atomic_t chain_busy;
	wait_queue_head_t chain_wq;
	int probe_state;		/* enum in slice.c */
	int probe_result;
	/* The u-driver serving the device adopted it (no probe of its own):
	 * it holds no copy of what the probe made, so removal releases the
	 * kernel's resources without the driver's remove. */
	bool adopted;
	/* Counts SLICE_PROBEs (adoptions), under @lock: a downcall queued
	 * under an older one is a dead u-driver's, served after the next
	 * u-driver took the device over; it is refused (slice.c: serve). */
	u32 epoch;
	struct work_struct probe_work;
	/* The task running the driver's probe (probe_work), or NULL: its
	 * upcalls are the u-driver's own PROBE's (DRVXPC_F_WITHIN). */
	struct task_struct *probe_task;
	struct drvslice_iomem iomem[DRVSLICE_IOMEM_MAX];
	/* The kernel API's state for this device (slice_api.c's own). */
	void *api_state;
	struct drvslice_side side;	/* large: the struct is vzalloc'd */
};

/*
 * The device whose u-driver's downcall this thread is serving, or NULL.
 * A thunk of the kernel API runs only inside one; the pointers it gets
 * are that device's objects (DRVSLICE_A_OWN) or plain values it checks.
 */
struct drvslice_kdev *drvslice_kdev_current(void);

/* Record a register window the device's u-driver mapped, and forget it.
 * -ENOSPC when all slots are taken. */
int drvslice_iomem_add(struct drvslice_kdev *k, void __iomem *base,
		       unsigned long len, int bar);
void drvslice_iomem_del(struct drvslice_kdev *k, const void __iomem *base);
/* Whether [p, p + width) lies in one of the device's windows. */
bool drvslice_iomem_ok(const struct drvslice_kdev *k,
		       const volatile void __iomem *p, unsigned int width);

/*
 * The ComboLocks (slice_lock.c).  Hold: the u-driver of @k takes @l (0;
 * -EBUSY if @try and the kernel half has it; -EDEADLK if the u-driver
 * holds it already; -ENOSPC).  Unhold: gives it back (-EPERM if it does
 * not hold it).  Release all: what @k's u-driver holds, given back (its
 * u-driver is gone): how many.  Forget: the device goes (and its line of
 * counters is said).
 */
int drvslice_combolock_hold(struct drvslice_kdev *k, raw_spinlock_t *l,
			    const char *name, bool try);
int drvslice_combolock_unhold(struct drvslice_kdev *k, raw_spinlock_t *l);
unsigned int drvslice_combolock_release_all(struct drvslice_kdev *k);
void drvslice_combolock_forget(struct drvslice_kdev *k);
/* The device's u-driver is gone and a new one adopts it (slice_api.c):
 * the ComboLocks the last one held are given back. */
void drvslice_api_peer_gone(struct drvslice_kdev *k);

/* A kernel half's registration (module/include/drvslice-kernel.h). */
int drvslice_pci_register(struct pci_driver *drv, struct module *owner,
			  const char *mod_name,
			  const struct drvslice_driver *desc, unsigned char cls);
void drvslice_pci_unregister(struct pci_driver *drv);

/* The kernel API's description (slice_api.c): entries and thunks. */
extern const struct drvslice_driver drvslice_api_kernel;
/* What slice_api.c must undo when the device's u-driver is gone or the
 * device is removed (free_irq, unregister_netdev, iounmap, ...). */
void drvslice_api_release(struct drvslice_kdev *k);

#endif /* _DRVSLICE_KERNEL_RUNTIME_H */
