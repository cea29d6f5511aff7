/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fake daemon + kernel of the u-driver host's test: what its
 * libc-facing part (fakek.c) and its kernel-facing part (k-fakek.c,
 * compiled with the kernel's headers as the kernel half is) share.
 * Plain C types only.
 */
#ifndef FAKEK_H
#define FAKEK_H

struct drvslice_side;

/* The kernel half's side of the calls (fakek.c). */
extern struct drvslice_side fakek_side;

/*
 * Called by queue_work_on before it runs the work item at once (this
 * kernel's workqueue runs it in the caller): 1 to run it, 0 to leave it
 * queued (fakek.c).
 */
int fakek_work_queued(void);

/*
 * The PCI core's probe of a function with these IDs: a pci_dev made and
 * tracked on the kernel's side, the registered driver's probe called (the
 * kernel half's stub: an upcall).  Its result, or -ENODEV when no
 * registered driver matches.
 */
int fakek_pci_probe(unsigned short vendor, unsigned short device, unsigned char revision,
		    unsigned int irq);

#endif
