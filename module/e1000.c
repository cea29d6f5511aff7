// SPDX-License-Identifier: GPL-2.0
/*
 * e1000.c - the Intel 82540EM nucleus (QEMU's -device e1000): what stays
 * in the kernel of drivers/net/ethernet/intel/e1000 - start_xmit, the
 * interrupt handler, the NAPI poll (rx and tx completion) and the ring
 * handling.  Everything else (probe, EEPROM, MAC, reset, PHY and link, the
 * receive filter, the watchdog, statistics, the transmit-timeout reset) is
 * the e1000 u-driver's (Sources/Drivers/E1000).
 *
 * The u-driver allocates four tracked objects (RX_RING and TX_RING: legacy
 * descriptors; RX_BUFFERS and TX_BUFFERS: 2048 bytes per descriptor),
 * programs the ring bases with REG_WRITE_DMA, the lengths, RCTL and TCTL,
 * and hands the data path over.  From then on the descriptors and
 * RDH/RDT/TDH/TDT are the nucleus's: it points every descriptor at its
 * buffer once, then copies frames between skbs and the buffers, as the
 * RTL8139 nucleus does.  The objects outlive the u-driver; on REATTACH the
 * ring positions are kept, the chip never stopped.
 *
 * Register facts: e1000_regs.h (shared with the u-driver and the sim),
 * checked against QEMU's hw/net/e1000.c.
 */
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/netdevice.h>
#include <asm/unaligned.h>

#include <chips/e1000_regs.h>

#include "net.h"

/* Largest ring: RDLEN/TDLEN are 20-bit byte counts; 4096 descriptors is
 * what e1000_param.c allows (E1000_MAX_RXD). */
#define E1000_MAX_DESC		4096U

struct e1000_rx_desc {
	__le64 addr;
	__le16 length;
	__le16 csum;
	u8 status;
	u8 errors;
	__le16 special;
};

struct e1000_tx_desc {
	__le64 addr;
	__le32 lower;		/* length, CSO, CMD */
	__le32 upper;		/* STA, CSS, special */
};

/* The data path's state, drvnucleus_net.priv: kept across u-driver
 * restarts.  Positions are under d->cl. */
struct e1000_nuc {
	struct drvnucleus_obj *rxd, *txd;	/* descriptor rings */
	struct drvnucleus_obj *rxb, *txb;	/* their buffers */
	u32 nrx, ntx;			/* descriptors per ring */
	u32 rx_next;			/* next rx descriptor to look at */
	u32 tx_next;			/* next free tx descriptor (TDT) */
	u32 tx_clean;			/* oldest tx descriptor in flight */
	u32 ims;			/* the mask the u-driver opened */
	unsigned int rx_gen;		/* bumped when enable restarts the rings */
	bool rdt_stale;			/* rx_next moved, RDT not yet written */
	bool ready;			/* an enable set the rings up */
};

static inline u32 e1000_rd(struct drvnucleus_dev *d, u32 reg)
{
	return ioread32(d->bar + reg);
}

static inline void e1000_wr(struct drvnucleus_dev *d, u32 reg, u32 val)
{
	iowrite32(val, d->bar + reg);
}

static inline bool e1000_touches(u32 off, u32 width, u32 reg)
{
	return off < reg + 4 && off + width > reg;
}

/*
 * Registers the data path writes or reads destructively: the interrupt
 * registers (ICR clears on read), the heads and tails, and RCTL (its
 * buffer size is what the rx buffers were cut for, see write_check).
 */
static bool e1000_datapath_reg(const struct drvnucleus_dev *d, u32 off,
			       u32 width)
{
	static const u32 regs[] = {
		E1000_ICR, E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL,
		E1000_RDH, E1000_RDT, E1000_TDH, E1000_TDT,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(regs); i++)
		if (e1000_touches(off, width, regs[i]))
			return true;
	return false;
}

/* RCTL bits the u-driver may not set: other buffer sizes would let the
 * chip write past a 2048-byte buffer, SECRC would make the nucleus cut 4
 * bytes of every frame. */
#define E1000_RCTL_FIXED	(E1000_RCTL_BSEX | E1000_RCTL_SZ_MASK | \
				 E1000_RCTL_SECRC)

/*
 * While the data path is the nucleus's, a downcall may not stop it under
 * the nucleus's feet: the receiver and the transmitter stay enabled, no
 * reset of the chip, the link or the PHY, the interrupt mask is not cleared
 * (IMC) and the PHY is not written (MDIC).  Taking the chip back is
 * DATAPATH_DISABLE first, as e1000_down stops the queue before the units.
 * A u-driver whose code went wrong could otherwise leave a chip that moves
 * no frame yet reads back as configured, which no recovery repairs.
 */
static int e1000_running_check(struct drvnucleus_dev *d, u32 off, u32 width,
			       u32 value, const char **why)
{
	if (e1000_touches(off, width, E1000_IMC)) {
		*why = "IMC: the interrupt mask is the data path's while DATAPATH_ON";
		return -EPERM;
	}
	if (e1000_touches(off, width, E1000_RCTL) &&
	    !(drvnucleus_merged(d, E1000_RCTL, off, width, value) & E1000_RCTL_EN)) {
		*why = "RCTL.EN: the receiver stays on while DATAPATH_ON";
		return -EPERM;
	}
	if (e1000_touches(off, width, E1000_TCTL) &&
	    !(drvnucleus_merged(d, E1000_TCTL, off, width, value) & E1000_TCTL_EN)) {
		*why = "TCTL.EN: the transmitter stays on while DATAPATH_ON";
		return -EPERM;
	}
	if (e1000_touches(off, width, E1000_CTRL) &&
	    (drvnucleus_merged(d, E1000_CTRL, off, width, value) &
	     (E1000_CTRL_RST | E1000_CTRL_PHY_RST | E1000_CTRL_LRST |
	      E1000_CTRL_SLU)) != E1000_CTRL_SLU) {
		*why = "CTRL: no reset and the link set up while DATAPATH_ON";
		return -EPERM;
	}
	if (e1000_touches(off, width, E1000_MDIC) &&
	    drvnucleus_merged(d, E1000_MDIC, off, width, value) & E1000_MDIC_OP_WRITE) {
		*why = "MDIC: no PHY write while DATAPATH_ON";
		return -EPERM;
	}
	return 0;
}

/*
 * What a downcall may write (write_check).  RDBAL/TDBAL hold the rings'
 * bus addresses: REG_WRITE_DMA's only; RDBAH/TDBAH 0 (32-bit DMA).  A
 * ring's length must fit a ring object of its role, in whole 128-byte
 * steps.  The heads and tails are the data path's (DATAPATH_ENABLE sets
 * them once the descriptors hold the buffers' addresses: a tail moved
 * before would send the chip to the zeroed descriptors' address 0).
 * RCTL may not change the buffer size or strip the CRC.  While the data
 * path is on, e1000_running_check's rules too.
 */
static int e1000_write_check(struct drvnucleus_dev *d, u32 off, u32 width,
			     u32 value, bool dma, const char **why)
{
	static const u32 ends[] = { E1000_RDH, E1000_RDT, E1000_TDH, E1000_TDT };
	static const struct { u32 base, high, len; u8 role; } rings[] = {
		{ E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, DRVXPC_ROLE_RX_RING },
		{ E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, DRVXPC_ROLE_TX_RING },
	};
	unsigned int i;
	u32 v;

	for (i = 0; i < ARRAY_SIZE(rings); i++) {
		if (e1000_touches(off, width, rings[i].base) &&
		    (!dma || off != rings[i].base || width != 4 ||
		     drvnucleus_dma_room(d, value) < E1000_RING_ALIGN)) {
			*why = "RDBAL/TDBAL take a ring object, by REG_WRITE_DMA";
			return -EPERM;
		}
		if (e1000_touches(off, width, rings[i].high) &&
		    drvnucleus_merged(d, rings[i].high, off, width, value)) {
			*why = "RDBAH/TDBAH: DMA addresses are 32-bit (0)";
			return -EINVAL;
		}
		if (!e1000_touches(off, width, rings[i].len))
			continue;
		v = drvnucleus_merged(d, rings[i].len, off, width, value);
		if (v % E1000_RING_ALIGN || v / E1000_DESC_SIZE > E1000_MAX_DESC ||
		    v > drvnucleus_obj_largest(d, rings[i].role)) {
			*why = "RDLEN/TDLEN: 128-byte steps within a ring object of the role";
			return -EINVAL;
		}
	}
	for (i = 0; i < ARRAY_SIZE(ends); i++) {
		if (e1000_touches(off, width, ends[i])) {
			*why = "RDH/RDT/TDH/TDT are the nucleus's data path's";
			return -EPERM;
		}
	}
	if (e1000_touches(off, width, E1000_RCTL) &&
	    drvnucleus_merged(d, E1000_RCTL, off, width, value) & E1000_RCTL_FIXED) {
		*why = "RCTL must select 2048-byte buffers, CRC not stripped";
		return -EINVAL;
	}
	if (drvnucleus_net_datapath_on(d))
		return e1000_running_check(d, off, width, value, why);
	return 0;
}

/* DEVICE_INFO: MAC (RAL0/RAH0), RX_FLAGS (RCTL.UPE/MPE), MC_HASH (the
 * 4096-bit MTA as a little-endian bitmap). */
static int e1000_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	u32 ral = e1000_rd(d, E1000_RAL0), rah = e1000_rd(d, E1000_RAH0);
	u32 rctl = e1000_rd(d, E1000_RCTL), flags = 0;
	struct nlattr *a;
	u8 mac[ETH_ALEN];
	u8 *bits;
	u32 i;

	if (rah & E1000_RAH_AV) {
		put_unaligned_le32(ral, mac);
		put_unaligned_le16(rah & 0xffff, mac + 4);
		if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, mac))
			return -EMSGSIZE;
	}
	if (rctl & E1000_RCTL_UPE)
		flags |= DRVXPC_RX_PROMISC;
	if (rctl & E1000_RCTL_MPE)
		flags |= DRVXPC_RX_ALLMULTI;
	if (nla_put_u32(skb, DRVXPC_A_RX_FLAGS, flags))
		return -EMSGSIZE;
	a = nla_reserve(skb, DRVXPC_A_MC_HASH, E1000_MTA_BITS / 8);
	if (!a)
		return -EMSGSIZE;
	bits = nla_data(a);
	for (i = 0; i < E1000_MTA_REGS; i++)
		put_unaligned_le32(e1000_rd(d, E1000_MTA + 4 * i), bits + 4 * i);
	return 0;
}

/* Free tx descriptors; one is always left empty (TDT == TDH: empty). */
static inline u32 e1000_tx_free(const struct e1000_nuc *p)
{
	return p->ntx - 1 - (p->tx_next - p->tx_clean + p->ntx) % p->ntx;
}

/*
 * DATAPATH_ENABLE: the rings the u-driver programmed, checked against
 * what the chip holds (RDLEN/TDLEN give the descriptor counts, RDBA/TDBA
 * must be the ring objects' bus addresses, RCTL must cut 2048-byte
 * buffers), then, unless the chip kept running, every descriptor pointed
 * at its buffer and the heads and tails set.  With @reattach the data path
 * may be running: everything it reads changes under d->cl.
 */
static int e1000_enable(struct drvnucleus_net *n, bool reattach,
			const char **why, u16 *bad)
{
	struct drvnucleus_dev *d = n->d;
	struct e1000_nuc *p = n->priv;
	struct drvnucleus_obj *rxd, *txd, *rxb, *txb;
	u32 rdlen = e1000_rd(d, E1000_RDLEN), tdlen = e1000_rd(d, E1000_TDLEN);
	u32 nrx = rdlen / E1000_DESC_SIZE, ntx = tdlen / E1000_DESC_SIZE;
	unsigned long f;
	bool keep;
	u32 i;

	BUILD_BUG_ON(sizeof(struct e1000_rx_desc) != E1000_DESC_SIZE);
	BUILD_BUG_ON(sizeof(struct e1000_tx_desc) != E1000_DESC_SIZE);
	*bad = 0;
	if (!rdlen || rdlen % E1000_RING_ALIGN || nrx > E1000_MAX_DESC ||
	    !tdlen || tdlen % E1000_RING_ALIGN || ntx > E1000_MAX_DESC) {
		*why = "RDLEN/TDLEN must be non-zero multiples of 128 bytes, at most 4096 descriptors";
		return -EINVAL;
	}
	rxd = drvnucleus_obj_by_role(d, DRVXPC_ROLE_RX_RING, rdlen);
	txd = drvnucleus_obj_by_role(d, DRVXPC_ROLE_TX_RING, tdlen);
	rxb = drvnucleus_obj_by_role(d, DRVXPC_ROLE_RX_BUFFERS,
				     nrx * E1000_BUF_SIZE);
	txb = drvnucleus_obj_by_role(d, DRVXPC_ROLE_TX_BUFFERS,
				     ntx * E1000_BUF_SIZE);
	if (!rxd || !txd || !rxb || !txb) {
		*why = "no RX_RING/TX_RING of RDLEN/TDLEN bytes or RX_BUFFERS/TX_BUFFERS of 2048 bytes a descriptor";
		*bad = DRVXPC_A_OBJECT_ROLE;
		return -ENOENT;
	}
	if (e1000_rd(d, E1000_RDBAL) != lower_32_bits(rxd->dma) ||
	    e1000_rd(d, E1000_RDBAH) != upper_32_bits(rxd->dma) ||
	    e1000_rd(d, E1000_TDBAL) != lower_32_bits(txd->dma) ||
	    e1000_rd(d, E1000_TDBAH) != upper_32_bits(txd->dma)) {
		*why = "RDBAL/RDBAH and TDBAL/TDBAH must hold the RX_RING and TX_RING objects (REG_WRITE_DMA)";
		*bad = DRVXPC_A_DMA_HANDLE;
		return -EINVAL;
	}
	if (e1000_rd(d, E1000_RCTL) & E1000_RCTL_FIXED) {
		*why = "RCTL must select 2048-byte buffers, CRC not stripped";
		return -EINVAL;
	}

	/* The positions mean something only for the same rings. */
	keep = reattach && p->ready && p->rxd == rxd && p->txd == txd &&
	       p->rxb == rxb && p->txb == txb && p->nrx == nrx && p->ntx == ntx;

	combolock_lock(&d->cl, &f);
	drvnucleus_obj_repin(p->rxd, rxd);
	drvnucleus_obj_repin(p->txd, txd);
	drvnucleus_obj_repin(p->rxb, rxb);
	drvnucleus_obj_repin(p->txb, txb);
	if (!keep) {
		struct e1000_rx_desc *rx = rxd->cpu;
		struct e1000_tx_desc *tx = txd->cpu;

		for (i = 0; i < nrx; i++) {
			memset(&rx[i], 0, sizeof(rx[i]));
			rx[i].addr = cpu_to_le64(rxb->dma + i * E1000_BUF_SIZE);
		}
		for (i = 0; i < ntx; i++) {
			memset(&tx[i], 0, sizeof(tx[i]));
			tx[i].addr = cpu_to_le64(txb->dma + i * E1000_BUF_SIZE);
		}
		p->rxd = rxd;
		p->txd = txd;
		p->rxb = rxb;
		p->txb = txb;
		p->nrx = nrx;
		p->ntx = ntx;
		p->rx_next = 0;
		p->tx_next = 0;
		p->tx_clean = 0;
		p->rdt_stale = false;
		p->rx_gen++;
		p->ims = E1000_IMS_ENABLE_MASK;
		dma_wmb();
		/* The chip owns [RDH, RDT): all but one descriptor. */
		e1000_wr(d, E1000_RDH, 0);
		e1000_wr(d, E1000_RDT, nrx - 1);
		e1000_wr(d, E1000_TDH, 0);
		e1000_wr(d, E1000_TDT, 0);
	}
	p->ready = true;
	combolock_unlock(&d->cl, f);
	return 0;
}

/* e1000_xmit_frame: copy into the descriptor's buffer, hand it over. */
static netdev_tx_t e1000_start_xmit(struct sk_buff *skb,
				    struct drvnucleus_net *n)
{
	struct drvnucleus_dev *d = n->d;
	struct e1000_nuc *p = n->priv;
	struct combolock *cl = &d->cl;
	struct e1000_tx_desc *desc;
	unsigned int len = skb->len;
	unsigned long f;
	u32 i;

	if (len > E1000_BUF_SIZE) {
		n->ndev->stats.tx_dropped++;
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* A downcall owns TDT: the release wakes the queue. */
	if (!drvnucleus_net_lock_xmit(n, &f))
		return NETDEV_TX_BUSY;
	if (!n->datapath || !p->ready || !e1000_tx_free(p)) {
		netif_stop_queue(n->ndev);
		combolock_unlock(cl, f);
		return NETDEV_TX_BUSY;
	}
	i = p->tx_next;
	skb_copy_and_csum_dev(skb, (u8 *)p->txb->cpu + i * E1000_BUF_SIZE);
	desc = (struct e1000_tx_desc *)p->txd->cpu + i;
	desc->addr = cpu_to_le64(p->txb->dma + i * E1000_BUF_SIZE);
	desc->upper = 0;
	desc->lower = cpu_to_le32(len | E1000_TXD_CMD_EOP |
				  E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS);
	p->tx_next = (i + 1) % p->ntx;
	dma_wmb();
	e1000_wr(d, E1000_TDT, p->tx_next);
	if (!e1000_tx_free(p))
		netif_stop_queue(n->ndev);
	combolock_unlock(cl, f);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

/* e1000_clean_tx_irq, under d->cl: reap what the chip has sent. */
static void e1000_tx_clean(struct drvnucleus_net *n, struct e1000_nuc *p)
{
	struct e1000_tx_desc *ring = p->txd->cpu;

	while (p->tx_clean != p->tx_next) {
		struct e1000_tx_desc *desc = &ring[p->tx_clean];

		if (!(le32_to_cpu(READ_ONCE(desc->upper)) & E1000_TXD_STAT_DD))
			break;
		dma_rmb();
		n->ndev->stats.tx_packets++;
		n->ndev->stats.tx_bytes += le32_to_cpu(desc->lower) & 0xffff;
		desc->upper = 0;
		p->tx_clean = (p->tx_clean + 1) % p->ntx;
	}
	if (netif_queue_stopped(n->ndev) && e1000_tx_free(p))
		netif_wake_queue(n->ndev);
}

/* Under d->cl: the chip may fill up to the descriptor before rx_next. */
static void e1000_rdt_flush(struct drvnucleus_dev *d, struct e1000_nuc *p)
{
	if (!p->rdt_stale)
		return;
	dma_wmb();
	e1000_wr(d, E1000_RDT, (p->rx_next + p->nrx - 1) % p->nrx);
	p->rdt_stale = false;
}

/*
 * e1000_intr: ICR (read clears it); nothing pending: not ours.  A link
 * change asks the u-driver for its link check; rx and tx work masks the
 * chip and goes to NAPI, which unmasks it when done.
 */
static irqreturn_t e1000_interrupt(struct drvnucleus_net *n)
{
	struct drvnucleus_dev *d = n->d;
	struct e1000_nuc *p = n->priv;
	struct combolock *cl = &d->cl;
	unsigned long f;
	u32 icr, ims;

	/* ICR is a downcall's until it ends: hold the line off and
	 * take the interrupt at the release. */
	if (!drvnucleus_net_lock_irq(n, &f))
		return IRQ_HANDLED;
	if (!n->datapath || !p->ready) {
		combolock_unlock(cl, f);
		return IRQ_NONE;
	}
	icr = e1000_rd(d, E1000_ICR);
	if (!icr || icr == 0xffffffff) {
		combolock_unlock(cl, f);
		return IRQ_NONE;
	}
	if (icr & E1000_ICR_LSC)
		drvnucleus_net_link_event(n);
	if (icr & E1000_ICR_DATAPATH) {
		ims = e1000_rd(d, E1000_IMS);
		if (ims)
			p->ims = ims;
		e1000_wr(d, E1000_IMC, E1000_IMC_ALL);
		napi_schedule(&n->napi);
	}
	combolock_unlock(cl, f);
	return IRQ_HANDLED;
}

/* One received descriptor to the stack. */
static void e1000_rx_one(struct drvnucleus_net *n, struct e1000_nuc *p,
			 struct e1000_rx_desc *desc, u32 i)
{
	unsigned int len = le16_to_cpu(desc->length);
	struct sk_buff *skb;

	if (!(desc->status & E1000_RXD_STAT_EOP) ||
	    (desc->errors & E1000_RXD_ERR_FRAME) ||
	    len <= ETH_FCS_LEN + ETH_HLEN || len > E1000_BUF_SIZE) {
		/* A frame over several buffers (LPE), a bad one, or a length
		 * no 2048-byte buffer holds. */
		n->ndev->stats.rx_errors++;
		return;
	}
	len -= ETH_FCS_LEN;	/* e1000_clean_rx_irq: the CRC is kept */
	skb = napi_alloc_skb(&n->napi, len);
	if (!skb) {
		n->ndev->stats.rx_dropped++;
		return;
	}
	skb_put_data(skb, (u8 *)p->rxb->cpu + i * E1000_BUF_SIZE, len);
	skb->protocol = eth_type_trans(skb, n->ndev);
	n->ndev->stats.rx_packets++;
	n->ndev->stats.rx_bytes += len;
	napi_gro_receive(&n->napi, skb);
}

/*
 * e1000_clean: tx completion and RDT under the lock; the descriptors are
 * read, the frames go up and NAPI completes without it (the descriptors
 * between rx_next and RDH are the nucleus's alone).  A pass that finds a
 * downcall holding the lock records what it took and stops; the release
 * polls again.  What it took is committed only if no enable restarted the
 * rings meanwhile.
 */
static int e1000_poll(struct drvnucleus_net *n, int budget)
{
	struct drvnucleus_dev *d = n->d;
	struct e1000_nuc *p = n->priv;
	struct combolock *cl = &d->cl;
	struct e1000_rx_desc *ring;
	unsigned int gen;
	unsigned long f;
	u32 next, nrx;
	int work = 0;

	if (combolock_lock_atomic(cl, &f))
		goto deferred;
	if (!n->datapath || !p->ready) {
		combolock_unlock(cl, f);
		napi_complete_done(&n->napi, 0);
		return 0;
	}
	e1000_tx_clean(n, p);
	e1000_rdt_flush(d, p);
	gen = p->rx_gen;
	next = p->rx_next;
	nrx = p->nrx;
	ring = p->rxd->cpu;
	combolock_unlock(cl, f);

	while (work < budget) {
		struct e1000_rx_desc *desc = &ring[next];

		if (!(READ_ONCE(desc->status) & E1000_RXD_STAT_DD))
			break;
		dma_rmb();
		e1000_rx_one(n, p, desc, next);
		desc->status = 0;
		desc->errors = 0;
		next = (next + 1) % nrx;
		work++;
	}

	if (combolock_lock_atomic(cl, &f)) {
		if (gen == p->rx_gen && next != p->rx_next) {
			p->rx_next = next;
			p->rdt_stale = true;
		}
		goto deferred;
	}
	if (gen == p->rx_gen && next != p->rx_next) {
		p->rx_next = next;
		p->rdt_stale = true;
	}
	e1000_rdt_flush(d, p);
	combolock_unlock(cl, f);
	/*
	 * Complete without the lock: napi_complete_done hands what GRO held
	 * to the stack, which may answer at once through start_xmit.  Then
	 * unmask; a downcall holding the lock now gets the unmask done by
	 * the poll its release schedules.
	 */
	if (work == budget || !napi_complete_done(&n->napi, work))
		return work;
	if (combolock_lock_atomic(cl, &f)) {
		combolock_defer(cl, COMBO_DEFER_NAPI);
		combolock_unlock(cl, f);
		return work;
	}
	if (n->datapath)
		e1000_wr(d, E1000_IMS, p->ims);
	combolock_unlock(cl, f);
	return work;

deferred:
	/* The spinlock is held: the release reschedules the poll, which
	 * writes RDT and unmasks the chip.  A full budget may not complete:
	 * the core polls again. */
	combolock_defer(cl, COMBO_DEFER_NAPI);
	combolock_unlock(cl, f);
	if (work < budget)
		napi_complete_done(&n->napi, work);
	return work;
}

/* QUIESCE (d->cl held, data path off): no more interrupts from a chip
 * nobody drives; a started u-driver programs it again. */
static void e1000_quiesce(struct drvnucleus_net *n)
{
	e1000_wr(n->d, E1000_IMC, E1000_IMC_ALL);
}

/* Transmit timeout (d->cl held, data path off): forget the frames in
 * flight; the u-driver resets the chip and enables afresh. */
static unsigned int e1000_tx_drop(struct drvnucleus_net *n)
{
	struct e1000_nuc *p = n->priv;
	unsigned int dropped;

	if (!p->ready)
		return 0;
	dropped = (p->tx_next - p->tx_clean + p->ntx) % p->ntx;
	p->tx_next = 0;
	p->tx_clean = 0;
	return dropped;
}

static const struct drvnucleus_net_ops e1000_net_ops = {
	.priv_size	= sizeof(struct e1000_nuc),
	.speeds		= DRVNUCLEUS_SPEED_10 | DRVNUCLEUS_SPEED_100 |
			  DRVNUCLEUS_SPEED_1000,
	.tx_timeout	= 5 * HZ,	/* E1000_TX_TIMEOUT */
	.link_period	= 2 * HZ,	/* e1000_watchdog */
	.enable		= e1000_enable,
	.start_xmit	= e1000_start_xmit,
	.interrupt	= e1000_interrupt,
	.poll		= e1000_poll,
	.tx_drop	= e1000_tx_drop,
	.quiesce	= e1000_quiesce,
};

const struct drvnucleus_chip e1000_chip = {
	.name		= "82540EM",
	.cls		= &drvnucleus_net_class,
	.bar		= 0,
	.dma_bits	= 32,
	.datapath_reg	= e1000_datapath_reg,
	.write_check	= e1000_write_check,
	.info		= e1000_info,
	.net		= &e1000_net_ops,
};
