// SPDX-License-Identifier: GPL-2.0
/*
 * The RTL8139 nucleus: what stays in the kernel of 8139too - start_xmit,
 * the interrupt handler, the NAPI rx poll and tx completion - over the rx
 * ring and the four tx slot buffers the rtl8139 u-driver allocated with
 * DMA_ALLOC and handed over with DATAPATH_ENABLE.  Everything else of the
 * netdev is the network class's (net.c).
 *
 * Register facts: include/chips/rtl8139_regs.h (8139too.c's), checked
 * against QEMU's hw/net/rtl8139.c, which the tests run on.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>

#include <chips/rtl8139_regs.h>

#include "net.h"

#define RTL_LINK_PERIOD	(5 * HZ)	/* rtl8139_thread's media check */
#define RTL_TX_TIMEOUT	(6 * HZ)	/* 8139too's TX_TIMEOUT */

struct rtl8139 {
	struct drvnucleus_obj *rx, *tx;
	unsigned int cur_tx, dirty_tx, cur_rx;
	bool capr_stale;	/* cur_rx moved, CAPR not yet written */
	unsigned int rx_gen;	/* bumped when a downcall moved the ring */
};

static struct rtl8139 *rtl(struct drvnucleus_net *n)
{
	return n->priv;
}

/* rtl8139_start_xmit: copy into the slot's buffer, write TxStatus. */
static netdev_tx_t rtl_start_xmit(struct sk_buff *skb, struct drvnucleus_net *n)
{
	struct combolock *cl = &n->d->cl;
	struct net_device *ndev = n->ndev;
	void __iomem *io = n->d->bar;
	struct rtl8139 *r = rtl(n);
	unsigned int entry, len = skb->len;
	unsigned long f;
	u8 *buf;

	if (len > RTL_TX_BUF_SIZE) {
		ndev->stats.tx_dropped++;
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* A downcall owns the tx registers: the release wakes us. */
	if (!drvnucleus_net_lock_xmit(n, &f))
		return NETDEV_TX_BUSY;
	if (!n->datapath || r->cur_tx - r->dirty_tx >= RTL_NUM_TX) {
		netif_stop_queue(ndev);
		combolock_unlock(cl, f);
		return NETDEV_TX_BUSY;
	}
	entry = r->cur_tx % RTL_NUM_TX;
	buf = (u8 *)r->tx->cpu + entry * RTL_TX_BUF_SIZE;
	skb_copy_and_csum_dev(skb, buf);
	if (len < ETH_ZLEN) {
		memset(buf + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	/* early-tx threshold 256 bytes, as 8139too's tx_flag */
	iowrite32(((256 / 32) << RTL_TX_EARLY_SHIFT & RTL_TX_EARLY_MASK) | len,
		  io + RTL_TX_STATUS0 + entry * 4);
	r->cur_tx++;
	if (r->cur_tx - r->dirty_tx >= RTL_NUM_TX)
		netif_stop_queue(ndev);
	combolock_unlock(cl, f);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* rtl8139_tx_interrupt; under the lock. */
static void rtl_tx_done(struct drvnucleus_net *n)
{
	void __iomem *io = n->d->bar;
	struct rtl8139 *r = rtl(n);

	while (r->dirty_tx != r->cur_tx) {
		unsigned int entry = r->dirty_tx % RTL_NUM_TX;
		u32 txs = ioread32(io + RTL_TX_STATUS0 + entry * 4);

		if (!(txs & (RTL_TX_STAT_OK | RTL_TX_UNDERRUN | RTL_TX_ABORTED)))
			break;
		if (txs & RTL_TX_STAT_OK) {
			n->ndev->stats.tx_packets++;
			n->ndev->stats.tx_bytes += txs & RTL_TX_SIZE_MASK;
		} else {
			n->ndev->stats.tx_errors++;
		}
		r->dirty_tx++;
	}
	if (netif_queue_stopped(n->ndev) && r->cur_tx - r->dirty_tx < RTL_NUM_TX)
		netif_wake_queue(n->ndev);
}

/* rtl8139_interrupt: not mine -> IRQ_NONE; rx to NAPI, tx reaped here. */
static irqreturn_t rtl_interrupt(struct drvnucleus_net *n)
{
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	unsigned long f;
	u16 status, mask;

	/* The status registers are a downcall's until it ends: hold
	 * the line off (it stays asserted) and take it at release. */
	if (!drvnucleus_net_lock_irq(n, &f))
		return IRQ_HANDLED;
	status = ioread16(io + RTL_INTR_STATUS);
	mask = ioread16(io + RTL_INTR_MASK);
	if (!(status & mask) || status == 0xffff || !n->datapath) {
		combolock_unlock(cl, f);
		return IRQ_NONE;
	}
	iowrite16(status & ~RTL_INT_RX_ACK, io + RTL_INTR_STATUS);
	if (status & RTL_INT_RX_ACK) {
		iowrite16(mask & ~RTL_INT_RX_ACK, io + RTL_INTR_MASK);
		napi_schedule(&n->napi);
	}
	if (status & (RTL_INT_TX_OK | RTL_INT_TX_ERR))
		rtl_tx_done(n);
	/* RxUnderrun is the link change on the 8139C+. */
	if (status & RTL_INT_RX_UNDERRUN)
		drvnucleus_net_link_event(n);
	combolock_unlock(cl, f);
	return IRQ_HANDLED;
}

/* Commits a packet taken without the lock (cur_rx, CAPR), unless a
 * downcall moved the ring meanwhile; under the lock. */
static void rtl_rx_commit(struct rtl8139 *r, bool taken, unsigned int gen,
			  unsigned int next)
{
	if (taken && gen == r->rx_gen) {
		r->cur_rx = next;
		r->capr_stale = true;
	}
}

/* rtl8139_rx: walk the ring from cur_rx until RxBufEmpty. */
static int rtl_poll(struct drvnucleus_net *n, int budget)
{
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	struct rtl8139 *r = rtl(n);
	u8 *ring = r->rx->cpu;
	unsigned int cur = 0, next = 0, gen = 0;
	bool taken = false;
	unsigned long f;
	int work = 0;

	/*
	 * The lock covers the registers and the ring position, never the
	 * stack above: packets go up with interrupts on.  A packet taken
	 * without the lock is committed (cur_rx, CAPR) at the next locked
	 * section, unless a downcall moved the ring meanwhile (rx_gen).
	 */
	while (work < budget) {
		u16 status, size;
		struct sk_buff *skb;
		unsigned int off;
		bool empty;
		int len;

		if (combolock_lock_atomic(cl, &f))
			goto deferred;
		rtl_rx_commit(r, taken, gen, next);
		taken = false;
		if (r->capr_stale) {
			iowrite16((u16)(r->cur_rx - 16), io + RTL_RX_BUF_PTR);
			r->capr_stale = false;
		}
		gen = r->rx_gen;
		cur = r->cur_rx;
		empty = ioread8(io + RTL_CHIP_CMD) & RTL_RX_BUF_EMPTY;
		combolock_unlock(cl, f);
		if (empty)
			break;
		off = cur % RTL_RX_RING_LEN;
		status = le16_to_cpu(*(__le16 *)(ring + off));
		size = le16_to_cpu(*(__le16 *)(ring + off + 2));
		len = size - 4;
		if (!(status & RTL_RX_HDR_OK) || len < ETH_ZLEN - 4 || len > 1518 ||
		    off + 4 + len > r->rx->size) {
			n->ndev->stats.rx_errors++;
			break;
		}
		skb = napi_alloc_skb(&n->napi, len);
		if (skb) {
			skb_put_data(skb, ring + off + 4, len);
			skb->protocol = eth_type_trans(skb, n->ndev);
			n->ndev->stats.rx_packets++;
			n->ndev->stats.rx_bytes += len;
			netif_receive_skb(skb);
		} else {
			n->ndev->stats.rx_dropped++;
		}
		next = (cur + size + 4 + 3) & ~3;
		taken = true;
		work++;
	}
	if (combolock_lock_atomic(cl, &f))
		goto deferred;
	rtl_rx_commit(r, taken, gen, next);
	if (r->capr_stale) {
		iowrite16((u16)(r->cur_rx - 16), io + RTL_RX_BUF_PTR);
		r->capr_stale = false;
	}
	iowrite16(RTL_INT_RX_ACK, io + RTL_INTR_STATUS);
	if (work < budget && napi_complete_done(&n->napi, work))
		iowrite16(ioread16(io + RTL_INTR_MASK) | RTL_INT_RX_ACK, io + RTL_INTR_MASK);
	combolock_unlock(cl, f);
	return work;

deferred:
	/* Stop polling until the downcall is over; its release reschedules
	 * us, and CAPR is written then for the packet already taken.  A full
	 * budget may not complete: the core polls again. */
	rtl_rx_commit(r, taken, gen, next);
	combolock_defer(cl, COMBO_DEFER_NAPI);
	combolock_unlock(cl, f);
	if (work < budget)
		napi_complete_done(&n->napi, work);
	return work;
}

/* DATAPATH_ENABLE: the rx ring (8K + 16 + a frame of slack for NoWrap) and
 * the four slot buffers. */
static int rtl_enable(struct drvnucleus_net *n, bool reattach,
		      const char **why, u16 *bad)
{
	struct drvnucleus_obj *rx = drvnucleus_obj_by_role(n->d, DRVXPC_ROLE_RX_RING,
							   RTL_RX_RING_LEN + 16);
	struct drvnucleus_obj *tx = drvnucleus_obj_by_role(n->d, DRVXPC_ROLE_TX_BUFFERS,
							   RTL_NUM_TX * RTL_TX_BUF_SIZE);
	struct rtl8139 *r = rtl(n);
	unsigned long f;

	if (!rx || !tx) {
		*why = "no RX_RING / TX_BUFFERS of the right size";
		*bad = DRVXPC_A_OBJECT_ROLE;
		return -ENOENT;
	}
	combolock_lock(&n->d->cl, &f);
	drvnucleus_obj_repin(r->rx, rx);
	drvnucleus_obj_repin(r->tx, tx);
	r->rx = rx;
	r->tx = tx;
	if (!reattach) {
		r->cur_tx = 0;
		r->dirty_tx = 0;
		r->cur_rx = 0;
		r->capr_stale = false;
	}
	combolock_unlock(&n->d->cl, f);
	return 0;
}

/* QUIESCE: no more interrupts from a chip nobody drives (IntrMask 0); a
 * started u-driver programs it again. */
static void rtl_quiesce(struct drvnucleus_net *n)
{
	iowrite16(0, n->d->bar + RTL_INTR_MASK);
}

/* rtl8139_tx_clear: what was in the slots is gone. */
static unsigned int rtl_tx_drop(struct drvnucleus_net *n)
{
	struct rtl8139 *r = rtl(n);
	unsigned int dropped = r->cur_tx - r->dirty_tx;

	r->cur_tx = 0;
	r->dirty_tx = 0;
	return dropped;
}

/* TxStatus0-3, ChipCmd, CAPR, IMR, ISR, RxConfig: what the data path writes
 * (or, for RxConfig, what moves its ring). */
static bool rtl_datapath_reg(const struct drvnucleus_dev *d, u32 off, u32 width)
{
	u32 end = off + width;

	return (off < RTL_TX_ADDR0 && end > RTL_TX_STATUS0) ||
	       (off < RTL_RX_BUF_ADDR && end > RTL_CHIP_CMD) ||
	       (off < RTL_TX_CONFIG && end > RTL_INTR_MASK) ||
	       (off < RTL_RX_CONFIG + 4 && end > RTL_RX_CONFIG);
}

/*
 * A write to RxConfig rewinds QEMU's receive ring (rtl8139_RxConfig_write
 * resets the buffer pointers; real chips keep them), so the nucleus takes
 * the ring position from the chip: CAPR + 16 is where the next packet
 * starts either way.  Called with the lock held in user mode.
 */
static void rtl_reg_written(struct drvnucleus_dev *d, u32 off, u32 width,
			    u32 value)
{
	struct drvnucleus_net *n = d->cls_priv;
	struct rtl8139 *r;
	unsigned long f;

	if (!n || off >= RTL_RX_CONFIG + 4 || off + width <= RTL_RX_CONFIG)
		return;
	r = rtl(n);
	spin_lock_irqsave(&d->cl.spin, f);
	r->cur_rx = (u16)(ioread16(d->bar + RTL_RX_BUF_PTR) + 16);
	r->capr_stale = false;
	r->rx_gen++;
	spin_unlock_irqrestore(&d->cl.spin, f);
}

/* The @rw-byte register at @reg (1 or 2) as a write of [off, off + width)
 * that overlaps it leaves it; its other bytes as the chip holds them. */
static u32 rtl_merged_narrow(struct drvnucleus_dev *d, u32 reg, u32 rw,
			     u32 off, u32 width, u32 value)
{
	u32 v = rw == 1 ? ioread8(d->bar + reg) : ioread16(d->bar + reg);
	u32 i, a, sh;

	for (i = 0; i < width; i++) {
		a = off + i;
		if (a < reg || a >= reg + rw)
			continue;
		sh = (a - reg) * 8;
		v = (v & ~(0xffU << sh)) | (((value >> (i * 8)) & 0xff) << sh);
	}
	return v;
}

/* The interrupts the data path serves: the u-driver may not mask them
 * while it runs (the nucleus masks RTL_INT_RX_ACK for NAPI itself). */
#define RTL_INT_DATAPATH	(RTL_INT_RX_ACK | RTL_INT_TX_OK | RTL_INT_TX_ERR)

/*
 * While the data path is the nucleus's, a downcall may not stop it under
 * the nucleus's feet: ChipCmd keeps the receiver and transmitter enabled
 * and resets nothing, IntrMask keeps the data path's interrupts.  Taking
 * the chip back is DATAPATH_DISABLE first (rtl8139_close's order is the
 * nucleus's: the queue stops before the chip).
 */
static int rtl_running_check(struct drvnucleus_dev *d, u32 off, u32 width,
			     u32 value, const char **why)
{
	u32 v;

	if (drvnucleus_touches(off, width, RTL_CHIP_CMD, 1)) {
		v = rtl_merged_narrow(d, RTL_CHIP_CMD, 1, off, width, value);
		if ((v & (RTL_CMD_RESET | RTL_CMD_RX_ENB | RTL_CMD_TX_ENB)) !=
		    (RTL_CMD_RX_ENB | RTL_CMD_TX_ENB)) {
			*why = "ChipCmd: receiver and transmitter on, no reset, while DATAPATH_ON";
			return -EPERM;
		}
	}
	if (drvnucleus_touches(off, width, RTL_INTR_MASK, 2)) {
		v = rtl_merged_narrow(d, RTL_INTR_MASK, 2, off, width, value);
		if ((v & RTL_INT_DATAPATH) != RTL_INT_DATAPATH) {
			*why = "IntrMask: the data path's interrupts stay unmasked while DATAPATH_ON";
			return -EPERM;
		}
	}
	return 0;
}

/*
 * What a downcall may write (write_check).  TxAddr0-3 and RxBuf hold bus
 * addresses: REG_WRITE_DMA's only, each with a slot's or the ring's worth
 * of its object behind it (8K + 16, and 1536 bytes of slack: the NoWrap
 * bit lets a frame run past the end).  RxConfig's ring length stays 8K:
 * the chip wraps at 64K with the field at 3.  A TxStatus write starts a
 * transmit of its size from the slot: at most a slot.  While the data path
 * is on, rtl_running_check's rules too.
 */
static int rtl_write_check(struct drvnucleus_dev *d, u32 off, u32 width,
			   u32 value, bool dma, const char **why)
{
	u32 i, v;

	for (i = 0; i < RTL_NUM_TX; i++) {
		if (drvnucleus_touches(off, width, RTL_TX_ADDR0 + 4 * i, 4) &&
		    (!dma || off != RTL_TX_ADDR0 + 4 * i || width != 4 ||
		     drvnucleus_dma_room(d, value) < RTL_TX_BUF_SIZE)) {
			*why = "TxAddr0-3 take a slot of a DMA buffer, by REG_WRITE_DMA";
			return -EPERM;
		}
		if (drvnucleus_touches(off, width, RTL_TX_STATUS0 + 4 * i, 4)) {
			v = drvnucleus_merged(d, RTL_TX_STATUS0 + 4 * i, off, width, value);
			if ((v & RTL_TX_SIZE_MASK) > RTL_TX_BUF_SIZE) {
				*why = "TxStatus: a transmit of more than a slot (1536 bytes)";
				return -EINVAL;
			}
		}
	}
	if (drvnucleus_touches(off, width, RTL_RX_BUF, 4) &&
	    (!dma || off != RTL_RX_BUF || width != 4 ||
	     drvnucleus_dma_room(d, value) < RTL_RX_RING_LEN + 16 + RTL_TX_BUF_SIZE)) {
		*why = "RxBuf takes a DMA buffer of 8K + 16 + 1536 bytes, by REG_WRITE_DMA";
		return -EPERM;
	}
	if (drvnucleus_touches(off, width, RTL_RX_CONFIG, 4)) {
		v = drvnucleus_merged(d, RTL_RX_CONFIG, off, width, value);
		if (v & (3U << RTL_RX_RING_SHIFT)) {
			*why = "RxConfig: the receive ring is 8K (ring length field 0)";
			return -EINVAL;
		}
	}
	if (drvnucleus_net_datapath_on(d))
		return rtl_running_check(d, off, width, value, why);
	return 0;
}

/* DEVICE_INFO: what the u-driver programmed, read back from the chip:
 * IDR0-5, RxConfig, MAR0-7, and the receive mode they make. */
static int rtl_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	u32 mar0, mar1, rxc, flags = 0;
	u8 mac[ETH_ALEN];
	__le32 hash[2];
	int i;

	if (d->bar_len < RTL_RX_CONFIG + 4)
		return 0;
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = ioread8(d->bar + RTL_IDR0 + i);
	mar0 = ioread32(d->bar + RTL_MAR0);
	mar1 = ioread32(d->bar + RTL_MAR0 + 4);
	rxc = ioread32(d->bar + RTL_RX_CONFIG);
	if (rxc & RTL_ACCEPT_ALL_PHYS)
		flags |= DRVXPC_RX_PROMISC;
	else if ((rxc & RTL_ACCEPT_MULTICAST) && mar0 == ~0U && mar1 == ~0U)
		flags |= DRVXPC_RX_ALLMULTI;
	/* Without AcceptMulticast the filter accepts no group at all. */
	hash[0] = cpu_to_le32(rxc & RTL_ACCEPT_MULTICAST ? mar0 : 0);
	hash[1] = cpu_to_le32(rxc & RTL_ACCEPT_MULTICAST ? mar1 : 0);
	if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, mac) ||
	    nla_put_u32(skb, DRVXPC_A_RX_CONFIG, rxc) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_MC_FILTER, (u64)mar1 << 32 | mar0, 0) ||
	    nla_put_u32(skb, DRVXPC_A_RX_FLAGS, flags) ||
	    nla_put(skb, DRVXPC_A_MC_HASH, sizeof(hash), hash))
		return -EMSGSIZE;
	return 0;
}

static const struct drvnucleus_net_ops rtl8139_net_ops = {
	.priv_size	= sizeof(struct rtl8139),
	.speeds		= DRVNUCLEUS_SPEED_10 | DRVNUCLEUS_SPEED_100,
	.tx_timeout	= RTL_TX_TIMEOUT,
	.link_period	= RTL_LINK_PERIOD,
	.enable		= rtl_enable,
	.start_xmit	= rtl_start_xmit,	/* nucleus */
	.interrupt	= rtl_interrupt,	/* nucleus */
	.poll		= rtl_poll,		/* nucleus */
	.tx_drop	= rtl_tx_drop,
	.quiesce	= rtl_quiesce,
};

const struct drvnucleus_chip rtl8139_chip = {
	.name		= "RTL8139",
	.cls		= &drvnucleus_net_class,
	.bar		= 1,	/* MMIO, 8139too's default; BAR 0 is I/O */
	.dma_bits	= 32,	/* RxBuf, TxAddr0-3 */
	.datapath_reg	= rtl_datapath_reg,
	.reg_written	= rtl_reg_written,
	.write_check	= rtl_write_check,
	.info		= rtl_info,
	.net		= &rtl8139_net_ops,
};
