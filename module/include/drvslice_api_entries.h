/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel API a sliced driver's user half calls and the kernel runs:
 * one description for both sides.  The kernel's thunks (module/slice_api.c)
 * serve these entries; the driver library (slicer/lib/k-api.c) defines the
 * kernel's functions under their own names and prototypes as downcalls of
 * them.  Entry n has the id DRVSLICE_API_BASE + n (drvslice.h).
 *
 * Both includers compile with the kernel's headers (the library as
 * user-space code), so the sizes are the kernel's types'.
 *
 * Which fields cross.  The core carries every crossing field of an
 * argument's struct type both ways when the argument names its type
 * (@pointee), and stores what the u-driver sends into the kernel's object
 * before the thunk runs.  So a type is named only where the kernel's
 * function needs what the driver set in its copy: register_netdev (the
 * ops, features, MTU range, name the driver filled in), and the one call
 * after alloc_etherdev_mqs that brings the new net_device's fields up
 * (netdev_alloc_fields).  Everywhere else the object crosses as a bare
 * pointer into the kernel's own (DRVSLICE_A_OWN, no pointee): the kernel
 * keeps its pci_dev, its struct device, its net_device's state and list
 * heads, and the thunk checks that the pointer is the device's own.
 */
#ifndef _DRVSLICE_API_ENTRIES_H
#define _DRVSLICE_API_ENTRIES_H

#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/netdevice.h>
#include <linux/interrupt.h>
#include <linux/pci.h>
#include <sound/core.h>
#include <sound/control.h>
#include <sound/pcm.h>
#include <sound/rawmidi.h>

#include "drvslice.h"

enum {
	DRVSLICE_API_alloc_etherdev_mqs = 1,
	DRVSLICE_API_netdev_alloc_fields,
	DRVSLICE_API_free_netdev,
	DRVSLICE_API_register_netdev,
	DRVSLICE_API_unregister_netdev,
	DRVSLICE_API_dev_addr_mod,
	DRVSLICE_API_eth_validate_addr,
	DRVSLICE_API_ethtool_op_get_link,
	DRVSLICE_API_netif_carrier_on,
	DRVSLICE_API_netif_carrier_off,
	DRVSLICE_API_netif_carrier_ok,
	DRVSLICE_API_netif_running,
	DRVSLICE_API_netif_device_attach,
	DRVSLICE_API_netif_device_detach,
	DRVSLICE_API_netif_start_queue,
	DRVSLICE_API_netif_stop_queue,
	DRVSLICE_API_netif_wake_queue,
	DRVSLICE_API_netif_queue_stopped,
	DRVSLICE_API_netif_napi_add_weight,
	DRVSLICE_API_napi_enable,
	DRVSLICE_API_napi_disable,
	DRVSLICE_API_request_irq,
	DRVSLICE_API_free_irq,
	DRVSLICE_API_pci_enable_device,
	DRVSLICE_API_pci_disable_device,
	DRVSLICE_API_pci_set_master,
	DRVSLICE_API_pci_set_mwi,
	DRVSLICE_API_pci_clear_mwi,
	DRVSLICE_API_pci_request_regions,
	DRVSLICE_API_pci_release_regions,
	DRVSLICE_API_pci_set_power_state,
	DRVSLICE_API_pci_enable_wake,
	DRVSLICE_API_device_set_wakeup_enable,
	DRVSLICE_API_dma_set_mask,
	DRVSLICE_API_dma_set_coherent_mask,
	DRVSLICE_API_dma_alloc_attrs,
	DRVSLICE_API_dma_free_attrs,
	DRVSLICE_API_ioremap,
	DRVSLICE_API_iounmap,
	DRVSLICE_API_memcpy_fromio,
	DRVSLICE_API_readb,
	DRVSLICE_API_readw,
	DRVSLICE_API_readl,
	DRVSLICE_API_readq,
	DRVSLICE_API_writeb,
	DRVSLICE_API_writew,
	DRVSLICE_API_writel,
	DRVSLICE_API_writeq,
	DRVSLICE_API_inb,
	DRVSLICE_API_inw,
	DRVSLICE_API_inl,
	DRVSLICE_API_outb,
	DRVSLICE_API_outw,
	DRVSLICE_API_outl,
	DRVSLICE_API_snd_card_new,
	DRVSLICE_API_snd_card_alloc_fields,
	DRVSLICE_API_snd_card_private_sync,
	DRVSLICE_API_snd_card_register,
	DRVSLICE_API_snd_card_free_on_error,
	DRVSLICE_API_snd_card_rw_proc_new,
	DRVSLICE_API_snd_dma_alloc_dir_pages,
	DRVSLICE_API_snd_pcm_new,
	DRVSLICE_API_snd_pcm_set_ops,
	DRVSLICE_API_snd_pcm_set_managed_buffer_all,
	DRVSLICE_API_snd_pcm_add_chmap_ctls,
	DRVSLICE_API_snd_pcm_set_sync,
	DRVSLICE_API_snd_pcm_lib_bytes,
	DRVSLICE_API_snd_pcm_hw_constraint_list,
	DRVSLICE_API_snd_pcm_hw_constraint_ratnums,
	DRVSLICE_API_snd_ctl_new1,
	DRVSLICE_API_snd_ctl_add,
	DRVSLICE_API_snd_ak4531_mixer,
	DRVSLICE_API_snd_ak4531_suspend,
	DRVSLICE_API_snd_ak4531_resume,
	DRVSLICE_API_snd_rawmidi_new,
	DRVSLICE_API_snd_rawmidi_set_ops,
	DRVSLICE_API_request_region,
	DRVSLICE_API_combolock,
	DRVSLICE_API_netdev_reg_state,
	DRVSLICE_API_N
};

/* The longest string a name argument may be, NUL included. */
#define DRVSLICE_API_NAME_MAX	32
/* memcpy_fromio's bytes per downcall (a call's out buffer holds no more). */
#define DRVSLICE_API_IO_CHUNK	DRVSLICE_VALUE_MAX

/* Argument kinds, shortened. */
#define DRVSLICE_API_VAL(type)	{ .size = sizeof(type), .kind = DRVSLICE_A_VALUE }
/* A pointer into an object of the kernel's own, no fields carried. */
#define DRVSLICE_API_OWN	{ .size = sizeof(void *), .kind = DRVSLICE_A_OWN }
/* The same, with every crossing field of @type carried both ways. */
#define DRVSLICE_API_OWN_T(type) \
	{ .size = sizeof(void *), .kind = DRVSLICE_A_OWN, .pointee = (type) }
#define DRVSLICE_API_FN		{ .size = sizeof(void *), .kind = DRVSLICE_A_FN }
#define DRVSLICE_API_STR(max)	{ .size = (max), .kind = DRVSLICE_A_STR }

#define DRVSLICE_API_ENTRY(fn, ret, fl)					\
static const struct drvslice_entry drvslice_api_e_##fn = {		\
	.id = DRVSLICE_API_BASE + DRVSLICE_API_##fn,			\
	.dir = DRVSLICE_DOWN,						\
	.nargs = ARRAY_SIZE(drvslice_api_a_##fn),			\
	.name = #fn,							\
	.args = drvslice_api_a_##fn,					\
	.ret_size = (ret),						\
	.flags = DRVSLICE_E_API | (fl),					\
}

/* struct net_device *alloc_etherdev_mqs(int sizeof_priv, unsigned int txqs,
 *				       unsigned int rxqs) */
static const struct drvslice_arg drvslice_api_a_alloc_etherdev_mqs[] = {
	DRVSLICE_API_VAL(int), DRVSLICE_API_VAL(unsigned int), DRVSLICE_API_VAL(unsigned int),
};
DRVSLICE_API_ENTRY(alloc_etherdev_mqs, sizeof(void *), DRVSLICE_E_RET_PTR);

/* The net_device alloc_etherdev_mqs made: its crossing fields come up
 * (the reply of a pointer result carries none).  Once, right after. */
static const struct drvslice_arg drvslice_api_a_netdev_alloc_fields[] = {
	DRVSLICE_API_OWN_T("net_device"),
};
DRVSLICE_API_ENTRY(netdev_alloc_fields, 0, 0);

/* void free_netdev(struct net_device *dev) */
static const struct drvslice_arg drvslice_api_a_free_netdev[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(free_netdev, 0, 0);

/* int register_netdev(struct net_device *dev), and the device it hangs
 * from (dev->dev.parent, SET_NETDEV_DEV): NULL or the PCI function's. */
static const struct drvslice_arg drvslice_api_a_register_netdev[] = {
	DRVSLICE_API_OWN_T("net_device"),
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
};
DRVSLICE_API_ENTRY(register_netdev, sizeof(int), 0);

/* void unregister_netdev(struct net_device *dev) */
static const struct drvslice_arg drvslice_api_a_unregister_netdev[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(unregister_netdev, 0, 0);

/* void dev_addr_mod(struct net_device *dev, unsigned int offset,
 *		     const void *addr, size_t len): the address always
 * crosses as MAX_ADDR_LEN bytes, @len saying how many count. */
static const struct drvslice_arg drvslice_api_a_dev_addr_mod[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(unsigned int),
	{ .size = MAX_ADDR_LEN, .kind = DRVSLICE_A_BUF },
	DRVSLICE_API_VAL(size_t),
};
DRVSLICE_API_ENTRY(dev_addr_mod, 0, 0);

/* int eth_validate_addr(struct net_device *dev) */
static const struct drvslice_arg drvslice_api_a_eth_validate_addr[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(eth_validate_addr, sizeof(int), 0);

/* u32 ethtool_op_get_link(struct net_device *dev) */
static const struct drvslice_arg drvslice_api_a_ethtool_op_get_link[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(ethtool_op_get_link, sizeof(u32), 0);

/* The carrier, the device's presence and its queue: dev->state and
 * dev->_tx are the kernel's alone (the u-driver's copy has neither). */
static const struct drvslice_arg drvslice_api_a_netif_carrier_on[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_carrier_on, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_carrier_off[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_carrier_off, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_carrier_ok[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_carrier_ok, sizeof(bool), 0);
static const struct drvslice_arg drvslice_api_a_netif_running[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_running, sizeof(bool), 0);
static const struct drvslice_arg drvslice_api_a_netif_device_attach[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_device_attach, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_device_detach[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_device_detach, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_start_queue[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_start_queue, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_stop_queue[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_stop_queue, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_wake_queue[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_wake_queue, 0, 0);
static const struct drvslice_arg drvslice_api_a_netif_queue_stopped[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netif_queue_stopped, sizeof(bool), 0);

/* void netif_napi_add_weight(struct net_device *dev,
 *			      struct napi_struct *napi,
 *			      int (*poll)(struct napi_struct *, int),
 *			      int weight) */
static const struct drvslice_arg drvslice_api_a_netif_napi_add_weight[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_OWN, DRVSLICE_API_FN, DRVSLICE_API_VAL(int),
};
DRVSLICE_API_ENTRY(netif_napi_add_weight, 0, 0);

/* void napi_enable(struct napi_struct *n), void napi_disable(...) */
static const struct drvslice_arg drvslice_api_a_napi_enable[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(napi_enable, 0, 0);
static const struct drvslice_arg drvslice_api_a_napi_disable[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(napi_disable, 0, 0);

/* request_threaded_irq(irq, handler, NULL, flags, name, dev): a primary
 * handler of the kernel half's, no thread. */
static const struct drvslice_arg drvslice_api_a_request_irq[] = {
	DRVSLICE_API_VAL(unsigned int),
	DRVSLICE_API_FN,
	DRVSLICE_API_VAL(unsigned long),
	DRVSLICE_API_STR(DRVSLICE_API_NAME_MAX),
	DRVSLICE_API_OWN,
};
DRVSLICE_API_ENTRY(request_irq, sizeof(int), 0);

/* free_irq(irq, dev_id): 0, or -ENOENT when the device has no such
 * handler (the library returns the name request_irq was given, or NULL). */
static const struct drvslice_arg drvslice_api_a_free_irq[] = {
	DRVSLICE_API_VAL(unsigned int), DRVSLICE_API_OWN,
};
DRVSLICE_API_ENTRY(free_irq, sizeof(int), 0);

/* The PCI function's own calls: int pci_enable_device(struct pci_dev *) ... */
static const struct drvslice_arg drvslice_api_a_pci_enable_device[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(pci_enable_device, sizeof(int), 0);
static const struct drvslice_arg drvslice_api_a_pci_disable_device[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(pci_disable_device, 0, 0);
static const struct drvslice_arg drvslice_api_a_pci_set_master[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(pci_set_master, 0, 0);
static const struct drvslice_arg drvslice_api_a_pci_set_mwi[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(pci_set_mwi, sizeof(int), 0);
static const struct drvslice_arg drvslice_api_a_pci_clear_mwi[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(pci_clear_mwi, 0, 0);
static const struct drvslice_arg drvslice_api_a_pci_request_regions[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_STR(DRVSLICE_API_NAME_MAX),
};
DRVSLICE_API_ENTRY(pci_request_regions, sizeof(int), 0);
static const struct drvslice_arg drvslice_api_a_pci_release_regions[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(pci_release_regions, 0, 0);
static const struct drvslice_arg drvslice_api_a_pci_set_power_state[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(pci_power_t),
};
DRVSLICE_API_ENTRY(pci_set_power_state, sizeof(int), 0);
static const struct drvslice_arg drvslice_api_a_pci_enable_wake[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(pci_power_t), DRVSLICE_API_VAL(bool),
};
DRVSLICE_API_ENTRY(pci_enable_wake, sizeof(int), 0);

/* int device_set_wakeup_enable(struct device *dev, bool enable) */
static const struct drvslice_arg drvslice_api_a_device_set_wakeup_enable[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(bool),
};
DRVSLICE_API_ENTRY(device_set_wakeup_enable, sizeof(int), 0);

/* int dma_set_mask(struct device *dev, u64 mask), dma_set_coherent_mask */
static const struct drvslice_arg drvslice_api_a_dma_set_mask[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(u64),
};
DRVSLICE_API_ENTRY(dma_set_mask, sizeof(int), 0);
static const struct drvslice_arg drvslice_api_a_dma_set_coherent_mask[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(u64),
};
DRVSLICE_API_ENTRY(dma_set_coherent_mask, sizeof(int), 0);

/* void *dma_alloc_attrs(struct device *dev, size_t size,
 *			 dma_addr_t *dma_handle, gfp_t flag,
 *			 unsigned long attrs) */
static const struct drvslice_arg drvslice_api_a_dma_alloc_attrs[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(size_t),
	{ .size = sizeof(dma_addr_t), .kind = DRVSLICE_A_OUT },
	DRVSLICE_API_VAL(gfp_t),
	DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(dma_alloc_attrs, sizeof(void *), DRVSLICE_E_RET_PTR);

/* void dma_free_attrs(struct device *dev, size_t size, void *cpu_addr,
 *		       dma_addr_t dma_handle, unsigned long attrs) */
static const struct drvslice_arg drvslice_api_a_dma_free_attrs[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(size_t),
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(dma_addr_t),
	DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(dma_free_attrs, 0, 0);

/* void __iomem *ioremap(resource_size_t offset, unsigned long size) */
static const struct drvslice_arg drvslice_api_a_ioremap[] = {
	DRVSLICE_API_VAL(resource_size_t), DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(ioremap, sizeof(void *), DRVSLICE_E_RET_PTR);

/* void iounmap(volatile void __iomem *addr) */
static const struct drvslice_arg drvslice_api_a_iounmap[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(iounmap, 0, 0);

/* memcpy_fromio(to, from, count), count at most DRVSLICE_API_IO_CHUNK
 * (the library splits a longer copy) */
static const struct drvslice_arg drvslice_api_a_memcpy_fromio[] = {
	{ .size = DRVSLICE_API_IO_CHUNK, .kind = DRVSLICE_A_OUT,
	  .len_arg = 3, .len_size = sizeof(size_t) },
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(size_t),
};
DRVSLICE_API_ENTRY(memcpy_fromio, 0, 0);

/* MMIO: an address in a window the device's u-driver mapped. */
static const struct drvslice_arg drvslice_api_a_readb[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(readb, sizeof(u8), 0);
static const struct drvslice_arg drvslice_api_a_readw[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(readw, sizeof(u16), 0);
static const struct drvslice_arg drvslice_api_a_readl[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(readl, sizeof(u32), 0);
static const struct drvslice_arg drvslice_api_a_readq[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(readq, sizeof(u64), 0);
static const struct drvslice_arg drvslice_api_a_writeb[] = { DRVSLICE_API_VAL(u8), DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(writeb, 0, 0);
static const struct drvslice_arg drvslice_api_a_writew[] = { DRVSLICE_API_VAL(u16), DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(writew, 0, 0);
static const struct drvslice_arg drvslice_api_a_writel[] = { DRVSLICE_API_VAL(u32), DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(writel, 0, 0);
static const struct drvslice_arg drvslice_api_a_writeq[] = { DRVSLICE_API_VAL(u64), DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(writeq, 0, 0);

/* Port I/O: a port in one of the device's I/O BARs. */
static const struct drvslice_arg drvslice_api_a_inb[] = { DRVSLICE_API_VAL(unsigned long) };
DRVSLICE_API_ENTRY(inb, sizeof(u8), 0);
static const struct drvslice_arg drvslice_api_a_inw[] = { DRVSLICE_API_VAL(unsigned long) };
DRVSLICE_API_ENTRY(inw, sizeof(u16), 0);
static const struct drvslice_arg drvslice_api_a_inl[] = { DRVSLICE_API_VAL(unsigned long) };
DRVSLICE_API_ENTRY(inl, sizeof(u32), 0);
static const struct drvslice_arg drvslice_api_a_outb[] = {
	DRVSLICE_API_VAL(u8), DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(outb, 0, 0);
static const struct drvslice_arg drvslice_api_a_outw[] = {
	DRVSLICE_API_VAL(u16), DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(outw, 0, 0);
static const struct drvslice_arg drvslice_api_a_outl[] = {
	DRVSLICE_API_VAL(u32), DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(outl, 0, 0);

/*
 * ALSA: the card, its private area, its PCMs, controls, mixer and MIDI
 * port are the kernel's; the u-driver holds copies.  A function of the
 * kernel half that is an upcall stub there (a card's private_free, the
 * AK4531's write) crosses as a plain pointer (DRVSLICE_A_PTR: A_FN names
 * only what the half serves), and the thunk checks it is a stub of the
 * half with the right shape.
 */

/* int snd_card_new(struct device *parent, int idx, const char *xid,
 *		    struct module *module, int extra_size,
 *		    struct snd_card **card_ret): the card (a pointer result),
 * the errno (out), and the name of the driver's struct type the private
 * area is tracked as ("" if none; out).  The module is the kernel
 * half's; a NULL xid crosses as "" (the kernel treats both alike). */
static const struct drvslice_arg drvslice_api_a_snd_card_new[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_STR(sizeof(((struct snd_card *)0)->id)),
	DRVSLICE_API_VAL(int),
	{ .size = sizeof(int), .kind = DRVSLICE_A_OUT },
	{ .size = DRVSLICE_API_NAME_MAX, .kind = DRVSLICE_A_OUT },
};
DRVSLICE_API_ENTRY(snd_card_new, sizeof(void *), DRVSLICE_E_RET_PTR);

/* The card snd_card_new made: its crossing fields (its private_data
 * among them) come up.  Once, right after. */
static const struct drvslice_arg drvslice_api_a_snd_card_alloc_fields[] = {
	DRVSLICE_API_OWN_T("snd_card"),
};
DRVSLICE_API_ENTRY(snd_card_alloc_fields, 0, 0);

/*
 * The card's private area (the driver's chip struct) goes down: what the
 * u-driver wrote in its copy reaches the kernel's before a call that calls
 * back into the u-driver (snd_ak4531_mixer's register writes), whose
 * arguments would otherwise bring the kernel's stale fields up over the
 * u-driver's.  The private area's argument names its struct type, which
 * only the device knows: both sides set @pointee at run time (the name
 * snd_card_new gave back), here it is NULL.
 */
static const struct drvslice_arg drvslice_api_a_snd_card_private_sync[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_OWN,
};
DRVSLICE_API_ENTRY(snd_card_private_sync, 0, 0);

/* int snd_card_register(struct snd_card *card): the names, the
 * private_free and sync_irq the driver set go down with it. */
static const struct drvslice_arg drvslice_api_a_snd_card_register[] = {
	DRVSLICE_API_OWN_T("snd_card"),
};
DRVSLICE_API_ENTRY(snd_card_register, sizeof(int), 0);

/* int snd_card_free_on_error(struct device *dev, int ret) */
static const struct drvslice_arg drvslice_api_a_snd_card_free_on_error[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(int),
};
DRVSLICE_API_ENTRY(snd_card_free_on_error, sizeof(int), 0);

/* snd_card_rw_proc_new(card, name, ...): refused (docs/driverslicer.md);
 * the card and the name cross for the refusal to say. */
static const struct drvslice_arg drvslice_api_a_snd_card_rw_proc_new[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_STR(DRVSLICE_API_NAME_MAX),
};
DRVSLICE_API_ENTRY(snd_card_rw_proc_new, sizeof(int), 0);

/* struct snd_dma_buffer *snd_devm_alloc_dir_pages(struct device *dev,
 *	int type, enum dma_data_direction dir, size_t size): the buffer's
 * bus address comes back (out) for the u-driver's copy. */
static const struct drvslice_arg drvslice_api_a_snd_dma_alloc_dir_pages[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(size_t),
	{ .size = sizeof(dma_addr_t), .kind = DRVSLICE_A_OUT },
};
DRVSLICE_API_ENTRY(snd_dma_alloc_dir_pages, sizeof(void *), DRVSLICE_E_RET_PTR);

/* int snd_pcm_new(struct snd_card *card, const char *id, int device,
 *		   int playback_count, int capture_count,
 *		   struct snd_pcm **rpcm): the pcm and the errno (out). */
static const struct drvslice_arg drvslice_api_a_snd_pcm_new[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_STR(DRVSLICE_API_NAME_MAX),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(int),
	{ .size = sizeof(int), .kind = DRVSLICE_A_OUT },
};
DRVSLICE_API_ENTRY(snd_pcm_new, sizeof(void *), DRVSLICE_E_RET_PTR);

/* void snd_pcm_set_ops(struct snd_pcm *pcm, int direction,
 *			const struct snd_pcm_ops *ops): ops, a global of the
 * kernel half's. */
static const struct drvslice_arg drvslice_api_a_snd_pcm_set_ops[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(int),
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
};
DRVSLICE_API_ENTRY(snd_pcm_set_ops, 0, 0);

/* int snd_pcm_set_managed_buffer_all(struct snd_pcm *pcm, int type,
 *	struct device *data, size_t size, size_t max): the name,
 * info_flags and private_data the driver set go down with it. */
static const struct drvslice_arg drvslice_api_a_snd_pcm_set_managed_buffer_all[] = {
	DRVSLICE_API_OWN_T("snd_pcm"),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(size_t),
	DRVSLICE_API_VAL(size_t),
};
DRVSLICE_API_ENTRY(snd_pcm_set_managed_buffer_all, sizeof(int), 0);

/* int snd_pcm_add_chmap_ctls(struct snd_pcm *pcm, int stream,
 *	const struct snd_pcm_chmap_elem *chmap, int max_channels,
 *	unsigned long private_value, struct snd_pcm_chmap **info_ret):
 * chmap a global of the kernel half's, or NULL with @std set for the
 * kernel's snd_pcm_std_chmaps; no info_ret. */
static const struct drvslice_arg drvslice_api_a_snd_pcm_add_chmap_ctls[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(int),
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(unsigned long),
};
DRVSLICE_API_ENTRY(snd_pcm_add_chmap_ctls, sizeof(int), 0);

/* void snd_pcm_set_sync(struct snd_pcm_substream *substream) */
static const struct drvslice_arg drvslice_api_a_snd_pcm_set_sync[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(snd_pcm_set_sync, 0, 0);

/* snd_pcm_lib_buffer_bytes(substream) (@period 0) and
 * snd_pcm_lib_period_bytes(substream) (1): inline in sound/pcm.h, they
 * read the runtime's buffer_size, period_size and frame_bits, which no
 * description carries (drvslice-user.h makes them these calls). */
static const struct drvslice_arg drvslice_api_a_snd_pcm_lib_bytes[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(int),
};
DRVSLICE_API_ENTRY(snd_pcm_lib_bytes, sizeof(size_t), 0);

/* int snd_pcm_hw_constraint_list(struct snd_pcm_runtime *runtime,
 *	unsigned int cond, snd_pcm_hw_param_t var,
 *	const struct snd_pcm_hw_constraint_list *l), and _ratnums: the
 * constraint a global of the kernel half's. */
static const struct drvslice_arg drvslice_api_a_snd_pcm_hw_constraint_list[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(unsigned int),
	DRVSLICE_API_VAL(snd_pcm_hw_param_t),
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
};
DRVSLICE_API_ENTRY(snd_pcm_hw_constraint_list, sizeof(int), 0);
static const struct drvslice_arg drvslice_api_a_snd_pcm_hw_constraint_ratnums[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(unsigned int),
	DRVSLICE_API_VAL(snd_pcm_hw_param_t),
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
};
DRVSLICE_API_ENTRY(snd_pcm_hw_constraint_ratnums, sizeof(int), 0);

/* struct snd_kcontrol *snd_ctl_new1(const struct snd_kcontrol_new *,
 *				    void *private_data): the template an
 * element of a global of the kernel half's. */
static const struct drvslice_arg drvslice_api_a_snd_ctl_new1[] = {
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
};
DRVSLICE_API_ENTRY(snd_ctl_new1, sizeof(void *), DRVSLICE_E_RET_PTR);

/* int snd_ctl_add(struct snd_card *card, struct snd_kcontrol *kcontrol) */
static const struct drvslice_arg drvslice_api_a_snd_ctl_add[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_OWN,
};
DRVSLICE_API_ENTRY(snd_ctl_add, sizeof(int), 0);

/* int snd_ak4531_mixer(struct snd_card *card, struct snd_ak4531 *_ak4531,
 *			struct snd_ak4531 **rak4531): the template's write,
 * private_data and private_free; the mixer and the errno (out). */
static const struct drvslice_arg drvslice_api_a_snd_ak4531_mixer[] = {
	DRVSLICE_API_OWN,
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
	{ .size = sizeof(int), .kind = DRVSLICE_A_OUT },
};
DRVSLICE_API_ENTRY(snd_ak4531_mixer, sizeof(void *), DRVSLICE_E_RET_PTR);

/* void snd_ak4531_suspend(struct snd_ak4531 *), _resume */
static const struct drvslice_arg drvslice_api_a_snd_ak4531_suspend[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(snd_ak4531_suspend, 0, 0);
static const struct drvslice_arg drvslice_api_a_snd_ak4531_resume[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(snd_ak4531_resume, 0, 0);

/* int snd_rawmidi_new(struct snd_card *card, char *id, int device,
 *		       int output_count, int input_count,
 *		       struct snd_rawmidi **rmidi) */
static const struct drvslice_arg drvslice_api_a_snd_rawmidi_new[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_STR(DRVSLICE_API_NAME_MAX),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(int),
	DRVSLICE_API_VAL(int),
	{ .size = sizeof(int), .kind = DRVSLICE_A_OUT },
};
DRVSLICE_API_ENTRY(snd_rawmidi_new, sizeof(void *), DRVSLICE_E_RET_PTR);

/* void snd_rawmidi_set_ops(struct snd_rawmidi *rmidi, int stream,
 *			    const struct snd_rawmidi_ops *ops) */
static const struct drvslice_arg drvslice_api_a_snd_rawmidi_set_ops[] = {
	DRVSLICE_API_OWN,
	DRVSLICE_API_VAL(int),
	{ .size = sizeof(void *), .kind = DRVSLICE_A_PTR },
};
DRVSLICE_API_ENTRY(snd_rawmidi_set_ops, 0, 0);

/* request_region(start, n, name) of ioport_resource: 0 or the errno. */
static const struct drvslice_arg drvslice_api_a_request_region[] = {
	DRVSLICE_API_VAL(resource_size_t),
	DRVSLICE_API_VAL(resource_size_t),
	DRVSLICE_API_STR(DRVSLICE_API_NAME_MAX),
};
DRVSLICE_API_ENTRY(request_region, sizeof(int), 0);

/*
 * A ComboLock of the driver's (drvslice.h: struct drvslice_combolock), in
 * the kernel's object: @op DRVSLICE_COMBOLOCK_LOCK takes it for the
 * u-driver, _TRYLOCK only if the kernel half does not hold it, _UNLOCK
 * gives it back (drvslice.h).  0, or the errno (-EBUSY: the trylock
 * failed).
 */
static const struct drvslice_arg drvslice_api_a_combolock[] = {
	DRVSLICE_API_OWN, DRVSLICE_API_VAL(int),
};
DRVSLICE_API_ENTRY(combolock, sizeof(int), 0);

/* The net_device's registration state, the kernel's (a u-driver that
 * adopted the device has a copy no register_netdev of its own set):
 * netdev_printk's " (uninitialized)" suffix reads it. */
static const struct drvslice_arg drvslice_api_a_netdev_reg_state[] = { DRVSLICE_API_OWN };
DRVSLICE_API_ENTRY(netdev_reg_state, sizeof(u8), 0);

/* By n (the id less DRVSLICE_API_BASE); 0 is none. */
static const struct drvslice_entry *const drvslice_api_entries[DRVSLICE_API_N] = {
	[DRVSLICE_API_alloc_etherdev_mqs] = &drvslice_api_e_alloc_etherdev_mqs,
	[DRVSLICE_API_netdev_alloc_fields] = &drvslice_api_e_netdev_alloc_fields,
	[DRVSLICE_API_free_netdev] = &drvslice_api_e_free_netdev,
	[DRVSLICE_API_register_netdev] = &drvslice_api_e_register_netdev,
	[DRVSLICE_API_unregister_netdev] = &drvslice_api_e_unregister_netdev,
	[DRVSLICE_API_dev_addr_mod] = &drvslice_api_e_dev_addr_mod,
	[DRVSLICE_API_eth_validate_addr] = &drvslice_api_e_eth_validate_addr,
	[DRVSLICE_API_ethtool_op_get_link] = &drvslice_api_e_ethtool_op_get_link,
	[DRVSLICE_API_netif_carrier_on] = &drvslice_api_e_netif_carrier_on,
	[DRVSLICE_API_netif_carrier_off] = &drvslice_api_e_netif_carrier_off,
	[DRVSLICE_API_netif_carrier_ok] = &drvslice_api_e_netif_carrier_ok,
	[DRVSLICE_API_netif_running] = &drvslice_api_e_netif_running,
	[DRVSLICE_API_netif_device_attach] = &drvslice_api_e_netif_device_attach,
	[DRVSLICE_API_netif_device_detach] = &drvslice_api_e_netif_device_detach,
	[DRVSLICE_API_netif_start_queue] = &drvslice_api_e_netif_start_queue,
	[DRVSLICE_API_netif_stop_queue] = &drvslice_api_e_netif_stop_queue,
	[DRVSLICE_API_netif_wake_queue] = &drvslice_api_e_netif_wake_queue,
	[DRVSLICE_API_netif_queue_stopped] = &drvslice_api_e_netif_queue_stopped,
	[DRVSLICE_API_netif_napi_add_weight] = &drvslice_api_e_netif_napi_add_weight,
	[DRVSLICE_API_napi_enable] = &drvslice_api_e_napi_enable,
	[DRVSLICE_API_napi_disable] = &drvslice_api_e_napi_disable,
	[DRVSLICE_API_request_irq] = &drvslice_api_e_request_irq,
	[DRVSLICE_API_free_irq] = &drvslice_api_e_free_irq,
	[DRVSLICE_API_pci_enable_device] = &drvslice_api_e_pci_enable_device,
	[DRVSLICE_API_pci_disable_device] = &drvslice_api_e_pci_disable_device,
	[DRVSLICE_API_pci_set_master] = &drvslice_api_e_pci_set_master,
	[DRVSLICE_API_pci_set_mwi] = &drvslice_api_e_pci_set_mwi,
	[DRVSLICE_API_pci_clear_mwi] = &drvslice_api_e_pci_clear_mwi,
	[DRVSLICE_API_pci_request_regions] = &drvslice_api_e_pci_request_regions,
	[DRVSLICE_API_pci_release_regions] = &drvslice_api_e_pci_release_regions,
	[DRVSLICE_API_pci_set_power_state] = &drvslice_api_e_pci_set_power_state,
	[DRVSLICE_API_pci_enable_wake] = &drvslice_api_e_pci_enable_wake,
	[DRVSLICE_API_device_set_wakeup_enable] = &drvslice_api_e_device_set_wakeup_enable,
	[DRVSLICE_API_dma_set_mask] = &drvslice_api_e_dma_set_mask,
	[DRVSLICE_API_dma_set_coherent_mask] = &drvslice_api_e_dma_set_coherent_mask,
	[DRVSLICE_API_dma_alloc_attrs] = &drvslice_api_e_dma_alloc_attrs,
	[DRVSLICE_API_dma_free_attrs] = &drvslice_api_e_dma_free_attrs,
	[DRVSLICE_API_ioremap] = &drvslice_api_e_ioremap,
	[DRVSLICE_API_iounmap] = &drvslice_api_e_iounmap,
	[DRVSLICE_API_memcpy_fromio] = &drvslice_api_e_memcpy_fromio,
	[DRVSLICE_API_readb] = &drvslice_api_e_readb,
	[DRVSLICE_API_readw] = &drvslice_api_e_readw,
	[DRVSLICE_API_readl] = &drvslice_api_e_readl,
	[DRVSLICE_API_readq] = &drvslice_api_e_readq,
	[DRVSLICE_API_writeb] = &drvslice_api_e_writeb,
	[DRVSLICE_API_writew] = &drvslice_api_e_writew,
	[DRVSLICE_API_writel] = &drvslice_api_e_writel,
	[DRVSLICE_API_writeq] = &drvslice_api_e_writeq,
	[DRVSLICE_API_inb] = &drvslice_api_e_inb,
	[DRVSLICE_API_inw] = &drvslice_api_e_inw,
	[DRVSLICE_API_inl] = &drvslice_api_e_inl,
	[DRVSLICE_API_outb] = &drvslice_api_e_outb,
	[DRVSLICE_API_outw] = &drvslice_api_e_outw,
	[DRVSLICE_API_outl] = &drvslice_api_e_outl,
	[DRVSLICE_API_snd_card_new] = &drvslice_api_e_snd_card_new,
	[DRVSLICE_API_snd_card_alloc_fields] = &drvslice_api_e_snd_card_alloc_fields,
	[DRVSLICE_API_snd_card_private_sync] = &drvslice_api_e_snd_card_private_sync,
	[DRVSLICE_API_snd_card_register] = &drvslice_api_e_snd_card_register,
	[DRVSLICE_API_snd_card_free_on_error] = &drvslice_api_e_snd_card_free_on_error,
	[DRVSLICE_API_snd_card_rw_proc_new] = &drvslice_api_e_snd_card_rw_proc_new,
	[DRVSLICE_API_snd_dma_alloc_dir_pages] = &drvslice_api_e_snd_dma_alloc_dir_pages,
	[DRVSLICE_API_snd_pcm_new] = &drvslice_api_e_snd_pcm_new,
	[DRVSLICE_API_snd_pcm_set_ops] = &drvslice_api_e_snd_pcm_set_ops,
	[DRVSLICE_API_snd_pcm_set_managed_buffer_all] = &drvslice_api_e_snd_pcm_set_managed_buffer_all,
	[DRVSLICE_API_snd_pcm_add_chmap_ctls] = &drvslice_api_e_snd_pcm_add_chmap_ctls,
	[DRVSLICE_API_snd_pcm_set_sync] = &drvslice_api_e_snd_pcm_set_sync,
	[DRVSLICE_API_snd_pcm_lib_bytes] = &drvslice_api_e_snd_pcm_lib_bytes,
	[DRVSLICE_API_snd_pcm_hw_constraint_list] = &drvslice_api_e_snd_pcm_hw_constraint_list,
	[DRVSLICE_API_snd_pcm_hw_constraint_ratnums] = &drvslice_api_e_snd_pcm_hw_constraint_ratnums,
	[DRVSLICE_API_snd_ctl_new1] = &drvslice_api_e_snd_ctl_new1,
	[DRVSLICE_API_snd_ctl_add] = &drvslice_api_e_snd_ctl_add,
	[DRVSLICE_API_snd_ak4531_mixer] = &drvslice_api_e_snd_ak4531_mixer,
	[DRVSLICE_API_snd_ak4531_suspend] = &drvslice_api_e_snd_ak4531_suspend,
	[DRVSLICE_API_snd_ak4531_resume] = &drvslice_api_e_snd_ak4531_resume,
	[DRVSLICE_API_snd_rawmidi_new] = &drvslice_api_e_snd_rawmidi_new,
	[DRVSLICE_API_snd_rawmidi_set_ops] = &drvslice_api_e_snd_rawmidi_set_ops,
	[DRVSLICE_API_request_region] = &drvslice_api_e_request_region,
	[DRVSLICE_API_combolock] = &drvslice_api_e_combolock,
	[DRVSLICE_API_netdev_reg_state] = &drvslice_api_e_netdev_reg_state,
};

/* The user side's description of the API (slicer/lib/k-api.c): the
 * driver library's host sets it as its drvslice_side's @api. */
extern const struct drvslice_driver drvslice_api_user;

#endif /* _DRVSLICE_API_ENTRIES_H */
