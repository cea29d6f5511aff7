/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver library's view of a sliced driver's user half: included first
 * by every user-half file driverslicer --halves writes.
 *
 * The kernel's MMIO and port I/O accessors (readb ... writeq, inb ... outl
 * and their variants) are inline asm in asm/io.h: in a user process they
 * would touch the address itself.  Here they become calls into the driver
 * library, which turns an address inside a BAR it mapped (pci_iomap,
 * ioremap, pci_resource_start for port I/O) into a register access through
 * the nucleus.  asm/io.h is included first, so that the driver's own
 * #include of it (guarded) defines nothing again and the names below stay
 * redirected in the driver's code.  ioread8 ... iowrite32 and
 * memcpy_fromio/_toio are already out-of-line functions in the kernel
 * (lib/iomap.c): the library defines them under their own names.
 *
 * The same goes for the inline netif_* functions that read or change what
 * only the kernel's net_device has: dev->state (netif_running,
 * netif_carrier_ok) and the transmit queues behind dev->_tx
 * (netif_start_queue, netif_stop_queue, netif_wake_queue,
 * netif_queue_stopped).  The u-driver's copy of a net_device carries the
 * fields the driver's description lists, never these: here they are calls
 * of the kernel API (slicer/lib/k-api.c).  Those that read only fields the
 * copy carries (netdev_priv, netif_msg_*) stay inline.
 */
#ifndef _DRVSLICE_USER_H
#define _DRVSLICE_USER_H

#include <linux/io.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <sound/pcm.h>

/* The device's name (slicer/host/k-host.c): the PCI function's is its
 * slot, which its copy does not carry.  After the headers that define the
 * inline ones, so that every later use is this. */
const char *drvslice_dev_name(const struct device *dev);
#define dev_name(dev)	drvslice_dev_name(dev)
#define pci_name(pdev)	drvslice_dev_name(&(pdev)->dev)

u8 drvslice_readb(const volatile void __iomem *addr);
u16 drvslice_readw(const volatile void __iomem *addr);
u32 drvslice_readl(const volatile void __iomem *addr);
u64 drvslice_readq(const volatile void __iomem *addr);
void drvslice_writeb(u8 value, volatile void __iomem *addr);
void drvslice_writew(u16 value, volatile void __iomem *addr);
void drvslice_writel(u32 value, volatile void __iomem *addr);
void drvslice_writeq(u64 value, volatile void __iomem *addr);
u8 drvslice_inb(unsigned long port);
u16 drvslice_inw(unsigned long port);
u32 drvslice_inl(unsigned long port);
void drvslice_outb(u8 value, unsigned long port);
void drvslice_outw(u16 value, unsigned long port);
void drvslice_outl(u32 value, unsigned long port);

#undef readb
#undef readw
#undef readl
#undef readq
#undef readb_relaxed
#undef readw_relaxed
#undef readl_relaxed
#undef readq_relaxed
#undef __raw_readb
#undef __raw_readw
#undef __raw_readl
#undef __raw_readq
#undef writeb
#undef writew
#undef writel
#undef writeq
#undef writeb_relaxed
#undef writew_relaxed
#undef writel_relaxed
#undef writeq_relaxed
#undef __raw_writeb
#undef __raw_writew
#undef __raw_writel
#undef __raw_writeq
#undef inb
#undef inw
#undef inl
#undef inb_p
#undef inw_p
#undef inl_p
#undef outb
#undef outw
#undef outl
#undef outb_p
#undef outw_p
#undef outl_p

#define readb(a)		drvslice_readb(a)
#define readw(a)		drvslice_readw(a)
#define readl(a)		drvslice_readl(a)
#define readq(a)		drvslice_readq(a)
#define readb_relaxed(a)	drvslice_readb(a)
#define readw_relaxed(a)	drvslice_readw(a)
#define readl_relaxed(a)	drvslice_readl(a)
#define readq_relaxed(a)	drvslice_readq(a)
#define __raw_readb(a)		drvslice_readb(a)
#define __raw_readw(a)		drvslice_readw(a)
#define __raw_readl(a)		drvslice_readl(a)
#define __raw_readq(a)		drvslice_readq(a)
#define writeb(v, a)		drvslice_writeb(v, a)
#define writew(v, a)		drvslice_writew(v, a)
#define writel(v, a)		drvslice_writel(v, a)
#define writeq(v, a)		drvslice_writeq(v, a)
#define writeb_relaxed(v, a)	drvslice_writeb(v, a)
#define writew_relaxed(v, a)	drvslice_writew(v, a)
#define writel_relaxed(v, a)	drvslice_writel(v, a)
#define writeq_relaxed(v, a)	drvslice_writeq(v, a)
#define __raw_writeb(v, a)	drvslice_writeb(v, a)
#define __raw_writew(v, a)	drvslice_writew(v, a)
#define __raw_writel(v, a)	drvslice_writel(v, a)
#define __raw_writeq(v, a)	drvslice_writeq(v, a)
#define inb(p)			drvslice_inb(p)
#define inw(p)			drvslice_inw(p)
#define inl(p)			drvslice_inl(p)
#define inb_p(p)		drvslice_inb(p)
#define inw_p(p)		drvslice_inw(p)
#define inl_p(p)		drvslice_inl(p)
#define outb(v, p)		drvslice_outb(v, p)
#define outw(v, p)		drvslice_outw(v, p)
#define outl(v, p)		drvslice_outl(v, p)
#define outb_p(v, p)		drvslice_outb(v, p)
#define outw_p(v, p)		drvslice_outw(v, p)
#define outl_p(v, p)		drvslice_outl(v, p)

bool drvslice_netif_running(const struct net_device *dev);
bool drvslice_netif_carrier_ok(const struct net_device *dev);
void drvslice_netif_start_queue(struct net_device *dev);
void drvslice_netif_stop_queue(struct net_device *dev);
void drvslice_netif_wake_queue(struct net_device *dev);
bool drvslice_netif_queue_stopped(const struct net_device *dev);

#define netif_running(d)	drvslice_netif_running(d)
#define netif_carrier_ok(d)	drvslice_netif_carrier_ok(d)
#define netif_start_queue(d)	drvslice_netif_start_queue(d)
#define netif_stop_queue(d)	drvslice_netif_stop_queue(d)
#define netif_wake_queue(d)	drvslice_netif_wake_queue(d)
#define netif_queue_stopped(d)	drvslice_netif_queue_stopped(d)

/* ALSA's inline sizes of an open stream read the runtime's buffer_size,
 * period_size and frame_bits, which the u-driver's copy does not have. */
size_t drvslice_snd_pcm_lib_buffer_bytes(struct snd_pcm_substream *substream);
size_t drvslice_snd_pcm_lib_period_bytes(struct snd_pcm_substream *substream);

#define snd_pcm_lib_buffer_bytes(s)	drvslice_snd_pcm_lib_buffer_bytes(s)
#define snd_pcm_lib_period_bytes(s)	drvslice_snd_pcm_lib_period_bytes(s)

#endif /* _DRVSLICE_USER_H */
