// SPDX-License-Identifier: GPL-2.0
/*
 * The PCnet32 nucleus: what stays in the kernel of pcnet32 - start_xmit,
 * the interrupt handler, the NAPI rx poll, tx completion and the
 * descriptor rings - for the AMD PCnet-PCI II (Am79C970A, QEMU's "pcnet")
 * and its relatives, driven in word I/O mode with 32-bit descriptors
 * (SWSTYLE 2).  Probe, open, stop, the receive filter, the MAC, link and
 * the transmit-timeout restart are the pcnet32 u-driver's
 * (Sources/Drivers/PCNet32).
 *
 * The rings: the u-driver allocates the init block, both descriptor rings
 * and both buffer areas as tracked objects, points CSR1/CSR2 at the init
 * block and programs mode, filter and address into CSR15, CSR8-11 and
 * CSR12-14.  At DATAPATH_ENABLE (not on reattach) this file fills the
 * descriptors and the init block - ring bases and lengths, and mode,
 * filter and address read back from those CSRs - and from then on owns
 * the OWN bits and the ring positions; the u-driver's INIT then loads the
 * block.  (QEMU's model takes ring bases from an init block only, never
 * from CSR24/25 and CSR30/31.)
 *
 * Every CSR is reached by RAP, then RDP, a protocol the u-driver's
 * register sequences share: they hold the ComboLock for the whole
 * sequence, and everything here that moves RAP puts it back, so a
 * u-driver may also select a CSR in one downcall and write it in the next.
 *
 * Register facts: include/chips/pcnet32_regs.h (pcnet32.c's and the
 * Am79C970A data sheet's), checked against QEMU's hw/net/pcnet.c.
 */
#include <linux/etherdevice.h>
#include <linux/log2.h>
#include <linux/netdevice.h>

#include <chips/pcnet32_regs.h>

#include "net.h"

#define PCNET32_LINK_PERIOD	(2 * HZ)	/* PCNET32_WATCHDOG_TIMEOUT */
#define PCNET32_TX_TIMEOUT	(5 * HZ)	/* pcnet32's watchdog_timeo */
#define PCNET32_MAX_ENTRIES	(1U << PCNET32_LOG_MAX_BUFFERS)

/* A receive or transmit descriptor, SWSTYLE 2. */
struct pcnet32_desc {
	__le32 base;
	__le16 length;		/* two's complement of the byte count */
	__le16 status;
	__le32 misc;		/* RMD2: message length; TMD2: errors */
	__le32 reserved;
};

/* The 32-bit initialisation block. */
struct pcnet32_init_block {
	__le16 mode;
	__le16 tlen_rlen;
	u8 padr[ETH_ALEN];
	__le16 reserved;
	__le16 filter[4];
	__le32 rx_ring;
	__le32 tx_ring;
};

struct pcnet32 {
	struct drvnucleus_obj *ib, *rx_ring, *tx_ring, *rx_buf, *tx_buf;
	unsigned int rx_size, tx_size;	/* entries, powers of two */
	unsigned int cur_rx, cur_tx, dirty_tx;
	unsigned int rx_gen;		/* bumped when the rx ring is refilled */
	bool spnd_written;	/* the downcall under way wrote CSR5.SPND */
};

static struct pcnet32 *pcn(struct drvnucleus_net *n)
{
	return n->priv;
}

static struct pcnet32_desc *rx_desc(struct pcnet32 *p, unsigned int i)
{
	return (struct pcnet32_desc *)p->rx_ring->cpu + (i & (p->rx_size - 1));
}

static struct pcnet32_desc *tx_desc(struct pcnet32 *p, unsigned int i)
{
	return (struct pcnet32_desc *)p->tx_ring->cpu + (i & (p->tx_size - 1));
}

/* CSR access under d->cl; callers save and restore RAP around it. */
static u16 csr_read(void __iomem *io, u32 index)
{
	iowrite16(index, io + PCNET32_WIO_RAP);
	return ioread16(io + PCNET32_WIO_RDP);
}

static void csr_write(void __iomem *io, u32 index, u16 val)
{
	iowrite16(index, io + PCNET32_WIO_RAP);
	iowrite16(val, io + PCNET32_WIO_RDP);
}

static u16 rap_save(void __iomem *io)
{
	return ioread16(io + PCNET32_WIO_RAP);
}

static void rap_restore(void __iomem *io, u16 rap)
{
	iowrite16(rap, io + PCNET32_WIO_RAP);
}

/* pcnet32_start_xmit: copy into the entry's buffer, hand the descriptor to
 * the chip, demand a transmit poll. */
static netdev_tx_t pcnet32_start_xmit(struct sk_buff *skb, struct drvnucleus_net *n)
{
	struct combolock *cl = &n->d->cl;
	struct net_device *ndev = n->ndev;
	void __iomem *io = n->d->bar;
	struct pcnet32 *p = pcn(n);
	struct pcnet32_desc *desc;
	unsigned int entry, len = skb->len;
	unsigned long f;
	u8 *buf;
	u16 rap;

	if (len > PCNET32_PKT_BUF_SIZE) {
		ndev->stats.tx_dropped++;
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* A downcall owns RAP and RDP: the release wakes us. */
	if (!drvnucleus_net_lock_xmit(n, &f))
		return NETDEV_TX_BUSY;
	if (!n->datapath || p->cur_tx - p->dirty_tx >= p->tx_size) {
		netif_stop_queue(ndev);
		combolock_unlock(cl, f);
		return NETDEV_TX_BUSY;
	}
	entry = p->cur_tx & (p->tx_size - 1);
	buf = (u8 *)p->tx_buf->cpu + entry * PCNET32_PKT_BUF_SIZE;
	skb_copy_and_csum_dev(skb, buf);
	if (len < ETH_ZLEN) {
		memset(buf + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	desc = tx_desc(p, entry);
	desc->base = cpu_to_le32(p->tx_buf->dma + entry * PCNET32_PKT_BUF_SIZE);
	desc->length = cpu_to_le16(-len);
	desc->misc = 0;
	/* The owner changes after everything else is visible. */
	wmb();
	desc->status = cpu_to_le16(PCNET32_TMD_SEND);
	p->cur_tx++;
	rap = rap_save(io);
	csr_write(io, PCNET32_CSR0, PCNET32_CSR0_INEA | PCNET32_CSR0_TDMD);
	rap_restore(io, rap);
	if (p->cur_tx - p->dirty_tx >= p->tx_size)
		netif_stop_queue(ndev);
	combolock_unlock(cl, f);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* pcnet32_tx: reap what the chip sent; under the lock.  A FIFO underflow
 * turns the chip's transmitter off; pcnet32 resets and restarts it, which
 * is the u-driver's here: the stack's transmit watchdog gets it there. */
static void pcnet32_tx_done(struct drvnucleus_net *n)
{
	struct net_device_stats *st = &n->ndev->stats;
	struct pcnet32 *p = pcn(n);

	while (p->dirty_tx != p->cur_tx) {
		struct pcnet32_desc *desc = tx_desc(p, p->dirty_tx);
		u16 status = le16_to_cpu(READ_ONCE(desc->status));

		if (status & PCNET32_TMD_OWN)
			break;
		dma_rmb();
		if (status & PCNET32_TMD_ERR) {
			u32 err = le32_to_cpu(desc->misc);

			st->tx_errors++;
			if (err & PCNET32_TMD2_RTRY)
				st->tx_aborted_errors++;
			if (err & PCNET32_TMD2_LCAR)
				st->tx_carrier_errors++;
			if (err & PCNET32_TMD2_LCOL)
				st->tx_window_errors++;
			if (err & PCNET32_TMD2_UFLO)
				st->tx_fifo_errors++;
		} else {
			if (status & PCNET32_TMD_COLL)
				st->collisions++;
			st->tx_packets++;
			st->tx_bytes += (u16)-le16_to_cpu(desc->length) &
					PCNET32_BCNT_MASK;
		}
		desc->base = 0;
		p->dirty_tx++;
	}
	if (netif_queue_stopped(n->ndev) && p->cur_tx - p->dirty_tx < p->tx_size)
		netif_wake_queue(n->ndev);
}

/*
 * pcnet32_interrupt: acknowledge CSR0's sources, mask them in CSR3 and let
 * NAPI do the rest.  The acknowledgement leaves INEA out, so the chip stays
 * quiet until the poll turns it back on; with the data path off (stopped
 * or quiesced) that is all it does: the chip is silenced, not served.
 */
static irqreturn_t pcnet32_interrupt(struct drvnucleus_net *n)
{
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	unsigned long f;
	u16 rap, csr0;

	/* RAP and CSR0 are a downcall's until it ends: hold the line
	 * off (it stays asserted) and take it at release. */
	if (!drvnucleus_net_lock_irq(n, &f))
		return IRQ_HANDLED;
	rap = rap_save(io);
	csr0 = csr_read(io, PCNET32_CSR0);
	if (csr0 == 0xffff || !(csr0 & PCNET32_CSR0_SOURCES)) {
		rap_restore(io, rap);
		combolock_unlock(cl, f);
		return IRQ_NONE;
	}
	csr_write(io, PCNET32_CSR0, csr0 & ~PCNET32_CSR0_COMMANDS);
	if (n->datapath) {
		if (csr0 & PCNET32_CSR0_BABL)
			n->ndev->stats.tx_errors++;
		if (csr0 & PCNET32_CSR0_MISS)
			n->ndev->stats.rx_errors++;
		if (csr0 & PCNET32_CSR0_MERR)
			netdev_err_once(n->ndev, "bus master arbitration failure, status %04x\n",
					csr0);
		if (napi_schedule_prep(&n->napi)) {
			csr_write(io, PCNET32_CSR3,
				  csr_read(io, PCNET32_CSR3) | PCNET32_CSR3_MASK_ALL);
			__napi_schedule(&n->napi);
		}
	}
	rap_restore(io, rap);
	combolock_unlock(cl, f);
	return IRQ_HANDLED;
}

/* Gives a received descriptor back to the chip, unless the ring was
 * refilled since it was taken; under the lock. */
static void pcnet32_rx_commit(struct pcnet32 *p, bool taken, unsigned int gen)
{
	struct pcnet32_desc *desc;

	if (!taken || gen != p->rx_gen)
		return;
	desc = rx_desc(p, p->cur_rx);
	desc->length = cpu_to_le16(-PCNET32_PKT_BUF_SIZE);
	desc->misc = 0;
	wmb();
	desc->status = cpu_to_le16(PCNET32_RMD_OWN);
	p->cur_rx++;
}

/* pcnet32_rx_entry: one frame up the stack, copied out of its buffer. */
static void pcnet32_rx_frame(struct drvnucleus_net *n, u16 status, u32 mcnt,
			     const u8 *buf)
{
	struct net_device_stats *st = &n->ndev->stats;
	struct sk_buff *skb;
	int len;

	if ((status & 0xff00) != PCNET32_RMD_GOOD) {
		/* Only the end of a frame counts as an error. */
		if (status & PCNET32_RMD_ERR)
			st->rx_errors++;
		if (status & PCNET32_RMD_FRAM)
			st->rx_frame_errors++;
		if (status & PCNET32_RMD_OFLO)
			st->rx_over_errors++;
		if (status & PCNET32_RMD_CRC)
			st->rx_crc_errors++;
		if (status & PCNET32_RMD_BUFF)
			st->rx_fifo_errors++;
		return;
	}
	len = (mcnt & PCNET32_RMD_MCNT_MASK) - ETH_FCS_LEN;
	if (len > PCNET32_PKT_BUF_SIZE || len < ETH_ZLEN) {
		st->rx_errors++;
		return;
	}
	skb = napi_alloc_skb(&n->napi, len);
	if (!skb) {
		st->rx_dropped++;
		return;
	}
	skb_put_data(skb, buf, len);
	skb->protocol = eth_type_trans(skb, n->ndev);
	st->rx_packets++;
	st->rx_bytes += len;
	netif_receive_skb(skb);
}

/*
 * pcnet32_poll: frames from cur_rx until a descriptor the chip owns, then
 * tx completion, then interrupts back on.  The lock covers RAP, CSR0/3 and
 * the ring positions, never the stack above: a frame is handed up with
 * the lock dropped and its descriptor given back at the next locked
 * section, unless the ring was refilled meanwhile (rx_gen).
 */
static int pcnet32_poll(struct drvnucleus_net *n, int budget)
{
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	struct pcnet32 *p = pcn(n);
	unsigned int gen = 0;
	bool taken = false;
	unsigned long f;
	int work = 0;
	u16 rap;

	while (work < budget) {
		struct pcnet32_desc *desc;
		unsigned int entry;
		u16 status;
		u32 mcnt;

		if (combolock_lock_atomic(cl, &f))
			goto deferred;
		pcnet32_rx_commit(p, taken, gen);
		taken = false;
		if (!n->datapath)
			goto off;
		desc = rx_desc(p, p->cur_rx);
		status = le16_to_cpu(READ_ONCE(desc->status));
		if (status & PCNET32_RMD_OWN) {
			combolock_unlock(cl, f);
			break;
		}
		dma_rmb();
		mcnt = le32_to_cpu(desc->misc);
		entry = p->cur_rx & (p->rx_size - 1);
		gen = p->rx_gen;
		combolock_unlock(cl, f);
		pcnet32_rx_frame(n, status, mcnt,
				 (u8 *)p->rx_buf->cpu + entry * PCNET32_PKT_BUF_SIZE);
		taken = true;
		work++;
	}
	if (combolock_lock_atomic(cl, &f))
		goto deferred;
	pcnet32_rx_commit(p, taken, gen);
	if (!n->datapath)
		goto off;
	pcnet32_tx_done(n);
	if (work < budget && napi_complete_done(&n->napi, work)) {
		rap = rap_save(io);
		csr_write(io, PCNET32_CSR3,
			  csr_read(io, PCNET32_CSR3) & PCNET32_CSR3_KEEP);
		csr_write(io, PCNET32_CSR0, PCNET32_CSR0_INEA);
		rap_restore(io, rap);
		/* A frame or a completion whose interrupt a shared-line
		 * acknowledgement took while we were polling. */
		if (!(le16_to_cpu(READ_ONCE(rx_desc(p, p->cur_rx)->status)) &
		      PCNET32_RMD_OWN) ||
		    (p->dirty_tx != p->cur_tx &&
		     !(le16_to_cpu(READ_ONCE(tx_desc(p, p->dirty_tx)->status)) &
		       PCNET32_TMD_OWN)))
			napi_schedule(&n->napi);
	}
	combolock_unlock(cl, f);
	return work;

off:
	/* Stopped or quiesced: interrupts stay off until an open. */
	combolock_unlock(cl, f);
	napi_complete_done(&n->napi, work);
	return work;

deferred:
	/* Stop polling until the downcall is over; its release reschedules
	 * us.  A full budget may not complete: the core polls again. */
	pcnet32_rx_commit(p, taken, gen);
	combolock_defer(cl, COMBO_DEFER_NAPI);
	combolock_unlock(cl, f);
	if (work < budget)
		napi_complete_done(&n->napi, work);
	return work;
}

/* Entries a ring object holds: a power of two, at most 512. */
static unsigned int ring_entries(const struct drvnucleus_obj *o)
{
	unsigned int n = min_t(u32, o->size / PCNET32_DESC_SIZE, PCNET32_MAX_ENTRIES);

	return n ? rounddown_pow_of_two(n) : 0;
}

/* pcnet32_init_ring and the init block: every rx buffer to the chip, every
 * tx entry to the host, mode/filter/address from the CSRs the u-driver
 * programmed; under the lock, the chip stopped. */
static void pcnet32_fill(struct drvnucleus_net *n)
{
	struct pcnet32_init_block *ib;
	void __iomem *io = n->d->bar;
	struct pcnet32 *p = pcn(n);
	unsigned int i;
	u16 rap, w;

	for (i = 0; i < p->rx_size; i++) {
		struct pcnet32_desc *desc = rx_desc(p, i);

		desc->base = cpu_to_le32(p->rx_buf->dma + i * PCNET32_PKT_BUF_SIZE);
		desc->length = cpu_to_le16(-PCNET32_PKT_BUF_SIZE);
		desc->misc = 0;
		desc->reserved = 0;
		wmb();
		desc->status = cpu_to_le16(PCNET32_RMD_OWN);
	}
	for (i = 0; i < p->tx_size; i++) {
		struct pcnet32_desc *desc = tx_desc(p, i);

		desc->status = 0;
		wmb();
		desc->base = 0;
		desc->length = 0;
		desc->misc = 0;
		desc->reserved = 0;
	}
	ib = p->ib->cpu;
	rap = rap_save(io);
	ib->mode = cpu_to_le16(csr_read(io, PCNET32_CSR15));
	for (i = 0; i < 3; i++) {
		w = csr_read(io, PCNET32_CSR12 + i);
		ib->padr[2 * i] = w & 0xff;
		ib->padr[2 * i + 1] = w >> 8;
	}
	for (i = 0; i < 4; i++)
		ib->filter[i] = cpu_to_le16(csr_read(io, PCNET32_CSR8 + i));
	rap_restore(io, rap);
	ib->tlen_rlen = cpu_to_le16(ilog2(p->tx_size) << PCNET32_IB_TLEN_SHIFT |
				    ilog2(p->rx_size) << PCNET32_IB_RLEN_SHIFT);
	ib->reserved = 0;
	ib->rx_ring = cpu_to_le32(p->rx_ring->dma);
	ib->tx_ring = cpu_to_le32(p->tx_ring->dma);
	/* Everything in memory before the u-driver's INIT reads it. */
	wmb();
}

/*
 * DATAPATH_ENABLE: the init block, the rings and their buffers.  Without
 * @reattach (open, a restart) the chip is stopped and about to read the
 * init block: fill everything and start from entry 0, dropping what was
 * still queued for transmission.  With @reattach the chip never stopped:
 * the same objects, positions kept.
 */
static int pcnet32_enable(struct drvnucleus_net *n, bool reattach,
			  const char **why, u16 *bad)
{
	struct drvnucleus_dev *d = n->d;
	struct drvnucleus_obj *ib, *rxr, *txr, *rxb, *txb;
	struct pcnet32 *p = pcn(n);
	unsigned int rx_size, tx_size;
	unsigned long f;

	BUILD_BUG_ON(sizeof(struct pcnet32_desc) != PCNET32_DESC_SIZE);
	BUILD_BUG_ON(sizeof(struct pcnet32_init_block) != PCNET32_IB_SIZE);
	BUILD_BUG_ON(offsetof(struct pcnet32_init_block, padr) != PCNET32_IB_PADR);
	BUILD_BUG_ON(offsetof(struct pcnet32_init_block, filter) != PCNET32_IB_FILTER);
	BUILD_BUG_ON(offsetof(struct pcnet32_init_block, rx_ring) != PCNET32_IB_RX_RING);
	BUILD_BUG_ON(offsetof(struct pcnet32_init_block, tx_ring) != PCNET32_IB_TX_RING);
	BUILD_BUG_ON(offsetof(struct pcnet32_desc, status) != PCNET32_DESC_STATUS);
	BUILD_BUG_ON(offsetof(struct pcnet32_desc, misc) != PCNET32_DESC_MISC);

	*bad = DRVXPC_A_OBJECT_ROLE;
	if (d->bar_len < PCNET32_IO_SIZE) {
		*why = "the I/O space is too small for a PCnet";
		*bad = 0;
		return -ENODEV;
	}
	ib = drvnucleus_obj_by_role(d, DRVXPC_ROLE_INIT_BLOCK, PCNET32_IB_SIZE);
	rxr = drvnucleus_obj_by_role(d, DRVXPC_ROLE_RX_RING, PCNET32_DESC_SIZE);
	txr = drvnucleus_obj_by_role(d, DRVXPC_ROLE_TX_RING, PCNET32_DESC_SIZE);
	if (!ib || !rxr || !txr) {
		*why = "no INIT_BLOCK, RX_RING or TX_RING object";
		return -ENOENT;
	}
	rx_size = ring_entries(rxr);
	tx_size = ring_entries(txr);
	rxb = drvnucleus_obj_by_role(d, DRVXPC_ROLE_RX_BUFFERS,
				     rx_size * PCNET32_PKT_BUF_SIZE);
	txb = drvnucleus_obj_by_role(d, DRVXPC_ROLE_TX_BUFFERS,
				     tx_size * PCNET32_PKT_BUF_SIZE);
	if (!rxb || !txb) {
		*why = "no RX_BUFFERS / TX_BUFFERS of 1544 bytes per ring entry";
		return -ENOENT;
	}
	/* 16-byte descriptors on 16-byte boundaries; 32-bit bus addresses
	 * (the runtime's DMA mask) fit the descriptors' and block's fields. */
	if ((ib->dma | rxr->dma | txr->dma) & (PCNET32_DESC_SIZE - 1)) {
		*why = "a ring or the init block is not 16-byte aligned";
		return -EINVAL;
	}
	if (reattach && (p->ib != ib || p->rx_ring != rxr || p->tx_ring != txr ||
			 p->rx_buf != rxb || p->tx_buf != txb)) {
		*why = "reattach to rings the data path does not run on";
		return -EINVAL;
	}
	combolock_lock(&d->cl, &f);
	drvnucleus_obj_repin(p->ib, ib);
	drvnucleus_obj_repin(p->rx_ring, rxr);
	drvnucleus_obj_repin(p->tx_ring, txr);
	drvnucleus_obj_repin(p->rx_buf, rxb);
	drvnucleus_obj_repin(p->tx_buf, txb);
	if (!reattach) {
		if (p->tx_ring)
			n->ndev->stats.tx_dropped += p->cur_tx - p->dirty_tx;
		p->ib = ib;
		p->rx_ring = rxr;
		p->tx_ring = txr;
		p->rx_buf = rxb;
		p->tx_buf = txb;
		p->rx_size = rx_size;
		p->tx_size = tx_size;
		p->cur_rx = 0;
		p->cur_tx = 0;
		p->dirty_tx = 0;
		p->rx_gen++;
		pcnet32_fill(n);
	}
	combolock_unlock(&d->cl, f);
	return 0;
}

/* The transmit timeout (lock held, data path just off): forget what was
 * queued; the u-driver stops the chip and re-initialises it. */
static unsigned int pcnet32_tx_drop(struct drvnucleus_net *n)
{
	struct pcnet32 *p = pcn(n);
	unsigned int dropped = p->cur_tx - p->dirty_tx;

	if (p->tx_ring)
		for (; p->dirty_tx != p->cur_tx; p->dirty_tx++)
			tx_desc(p, p->dirty_tx)->status = 0;
	p->cur_tx = 0;
	p->dirty_tx = 0;
	return dropped;
}

/* Removal: stop the chip before its rings are freed under it (a u-driver
 * that is gone cannot). */
static void pcnet32_teardown(struct drvnucleus_net *n)
{
	void __iomem *io = n->d->bar;
	unsigned long f;

	if (n->d->bar_len < PCNET32_IO_SIZE)
		return;
	combolock_lock(&n->d->cl, &f);
	csr_write(io, PCNET32_CSR0, PCNET32_CSR0_STOP);
	combolock_unlock(&n->d->cl, f);
}

/* RDP, RAP, RESET and BDP: RAP is shared with the interrupt handler, RDP
 * reaches CSR0, a RESET read stops the chip under the data path. */
static bool pcnet32_datapath_reg(const struct drvnucleus_dev *d, u32 off, u32 width)
{
	return off < PCNET32_WIO_BDP + 2 && off + width > PCNET32_WIO_RDP;
}

/*
 * While the data path is the nucleus's, a CSR write through RDP may not
 * stop it under the nucleus's feet: a u-driver whose code went wrong could
 * otherwise leave a chip that reads back as configured and moves no frame,
 * and a reattached u-driver would adopt it so.  While the chip runs (CSR0
 * reads STOP clear), CSR0 is written with INEA (a plain bit, not
 * write-1-to-clear as the interrupt flags are: a write without it disables
 * the interrupts; the nucleus's own acknowledgement leaves it out until its
 * poll is done), without STOP, and without INIT (the block re-read would
 * start the rings at entry 0 under the nucleus's positions).  A stopped
 * chip takes any:
 * pcnet32_open and pcnet32_restart stop or reset it, hand the data path
 * over (DATAPATH_ENABLE fills the block) and then INIT and START it.
 * CSR15 keeps the receiver and transmitter on and no loopback; CSR3 does
 * not mask RINT or TINT (the nucleus masks them itself while it polls).
 * CSR5's SPND stays a u-driver's: the rx mode and the MAC are written
 * with the chip suspended.  Taking the chip back is DATAPATH_DISABLE
 * first, as pcnet32_close stops the queue before the chip.
 */
static int pcnet32_running_check(void __iomem *io, u32 rap, u32 value,
				 const char **why)
{
	if (rap == PCNET32_CSR0 &&
	    !(ioread16(io + PCNET32_WIO_RDP) & PCNET32_CSR0_STOP)) {
		if (value & PCNET32_CSR0_STOP) {
			*why = "CSR0.STOP: the chip runs while DATAPATH_ON";
			return -EPERM;
		}
		if (value & PCNET32_CSR0_INIT) {
			*why = "CSR0.INIT: the running chip does not re-read its init block while DATAPATH_ON";
			return -EPERM;
		}
		if (!(value & PCNET32_CSR0_INEA)) {
			*why = "CSR0.INEA: interrupts stay enabled while DATAPATH_ON";
			return -EPERM;
		}
	}
	if (rap == PCNET32_CSR15 && (value & PCNET32_MODE_STOPS)) {
		*why = "CSR15: receiver and transmitter on, no loopback, while DATAPATH_ON";
		return -EPERM;
	}
	if (rap == PCNET32_CSR3 && (value & PCNET32_CSR3_DATAPATH)) {
		*why = "CSR3: RINT and TINT stay unmasked while DATAPATH_ON";
		return -EPERM;
	}
	return 0;
}

/*
 * A running chip is suspended only inside one downcall: pcnet32's
 * set_multicast_list and set_mac_address suspend it, write, and end the
 * suspend (the u-driver's whileSuspended is one REG_SEQ, and its error path
 * ends the suspend too).  Left suspended, the chip stops receiving for good
 * while every register reads back as configured; so after a downcall the
 * nucleus ends a suspend it finds, and refuses the downcall if that one
 * wrote SPND (a suspend found otherwise, left by a u-driver that died, is
 * ended for the one that reattaches).
 */
static int pcnet32_writes_done(struct drvnucleus_dev *d, const char **why)
{
	struct drvnucleus_net *n = d->cls_priv;
	void __iomem *io = d->bar;
	bool written = false;
	u16 rap, csr5;

	if (n) {
		written = pcn(n)->spnd_written;
		pcn(n)->spnd_written = false;
	}
	if (!drvnucleus_net_datapath_on(d))
		return 0;
	rap = rap_save(io);
	csr5 = csr_read(io, PCNET32_CSR5);
	if (csr5 & PCNET32_CSR5_SPND)
		csr_write(io, PCNET32_CSR5, csr5 & ~PCNET32_CSR5_SPND);
	rap_restore(io, rap);
	if (!(csr5 & PCNET32_CSR5_SPND) || !written)
		return 0;
	*why = "CSR5.SPND: the running chip left suspended after the downcall (the nucleus ended the suspend)";
	return -EPERM;
}

/*
 * What a downcall may write (write_check; the ComboLock held: RDP and BDP
 * are data-path registers).  The chip stays in word I/O (a 32-bit write
 * to RDP would switch it to DWIO, where RAP is elsewhere).  Through RDP:
 * CSR1/CSR2, the init block's address, take REG_WRITE_DMA's only; the
 * rings' bases and lengths (CSR24/25, 30/31, 76, 78) come from the init
 * block the nucleus fills, never from a downcall; CSR0's INIT reads the
 * block only once DATAPATH_ENABLE has filled the one CSR1/CSR2 name (a
 * block of zeros would send the chip to address 0).  While the data path
 * is on, pcnet32_running_check's rules too.  Through BDP: BCR20 keeps the
 * 32-bit structures the nucleus writes.
 */
static int pcnet32_write_check(struct drvnucleus_dev *d, u32 off, u32 width,
			       u32 value, bool dma, const char **why)
{
	static const u16 from_block[] = {
		PCNET32_CSR24, PCNET32_CSR25, PCNET32_CSR30, PCNET32_CSR31,
		PCNET32_CSR76, PCNET32_CSR78,
	};
	struct drvnucleus_net *n = d->cls_priv;
	void __iomem *io = d->bar;
	unsigned int i;
	u32 iadr;
	u16 rap;

	if (!drvnucleus_touches(off, width, PCNET32_WIO_RDP, PCNET32_IO_SIZE - PCNET32_WIO_RDP))
		return 0;
	if (width == 4) {
		*why = "the PCnet is driven in word I/O: no 32-bit access to RDP..BDP";
		return -EPERM;
	}
	rap = ioread16(io + PCNET32_WIO_RAP) & (PCNET32_NUM_CSR - 1);
	if (off == PCNET32_WIO_BDP) {
		if (dma)
			goto dma_refused;
		if (rap == PCNET32_BCR20 &&
		    (value & PCNET32_SWSTYLE_MASK) != PCNET32_SWSTYLE_PCNET32) {
			*why = "BCR20: SWSTYLE stays 2 (the nucleus writes 32-bit structures)";
			return -EINVAL;
		}
		return 0;
	}
	if (off != PCNET32_WIO_RDP || (dma && rap != PCNET32_CSR1 && rap != PCNET32_CSR2)) {
		if (!dma)
			return 0;
		goto dma_refused;
	}
	if (rap == PCNET32_CSR1 || rap == PCNET32_CSR2) {
		if (dma)
			return 0;
		*why = "CSR1/CSR2 (the init block's address) take REG_WRITE_DMA's only";
		return -EPERM;
	}
	for (i = 0; i < ARRAY_SIZE(from_block); i++) {
		if (rap == from_block[i]) {
			*why = "CSR24/25/30/31/76/78 come from the init block the nucleus fills";
			return -EPERM;
		}
	}
	if (drvnucleus_net_datapath_on(d)) {
		int err = pcnet32_running_check(io, rap, value, why);

		if (err)
			return err;
	}
	if (rap == PCNET32_CSR5 && (value & PCNET32_CSR5_SPND) && n)
		pcn(n)->spnd_written = true;
	if (rap != PCNET32_CSR0 || !(value & PCNET32_CSR0_INIT))
		return 0;
	iadr = csr_read(io, PCNET32_CSR1) | (u32)csr_read(io, PCNET32_CSR2) << 16;
	rap_restore(io, rap);
	if (!n || !pcn(n)->ib || iadr != pcn(n)->ib->dma) {
		*why = "CSR0 INIT before DATAPATH_ENABLE filled the init block CSR1/CSR2 name";
		return -EPERM;
	}
	return 0;

dma_refused:
	*why = "REG_WRITE_DMA goes to CSR1/CSR2 only (through RDP)";
	return -EPERM;
}

/* DEVICE_INFO: what the u-driver programmed, read back from the chip:
 * PADR (CSR12-14), PROM (CSR15) and LADRF (CSR8-11). */
static int pcnet32_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	void __iomem *io = d->bar;
	u16 mode, rap, w[3];
	u8 mac[ETH_ALEN];
	__le16 hash[4];
	unsigned long f;
	u32 flags = 0;
	u64 ladrf = 0;
	int i;

	if (d->bar_len < PCNET32_IO_SIZE)
		return 0;
	combolock_lock(&d->cl, &f);
	rap = rap_save(io);
	mode = csr_read(io, PCNET32_CSR15);
	for (i = 0; i < 3; i++)
		w[i] = csr_read(io, PCNET32_CSR12 + i);
	for (i = 0; i < 4; i++) {
		u16 v = csr_read(io, PCNET32_CSR8 + i);

		hash[i] = cpu_to_le16(v);
		ladrf |= (u64)v << (16 * i);
	}
	rap_restore(io, rap);
	combolock_unlock(&d->cl, f);
	for (i = 0; i < 3; i++) {
		mac[2 * i] = w[i] & 0xff;
		mac[2 * i + 1] = w[i] >> 8;
	}
	if (mode & PCNET32_MODE_PROM)
		flags |= DRVXPC_RX_PROMISC;
	if (ladrf == ~0ULL)
		flags |= DRVXPC_RX_ALLMULTI;
	if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, mac) ||
	    nla_put_u32(skb, DRVXPC_A_RX_FLAGS, flags) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_MC_FILTER, ladrf, 0) ||
	    nla_put(skb, DRVXPC_A_MC_HASH, sizeof(hash), hash))
		return -EMSGSIZE;
	return 0;
}

static const struct drvnucleus_net_ops pcnet32_net_ops = {
	.priv_size	= sizeof(struct pcnet32),
	/* The 79C970A runs at 10 Mbit/s; the MII parts (79C971 on) at 100. */
	.speeds		= DRVNUCLEUS_SPEED_10 | DRVNUCLEUS_SPEED_100,
	.tx_timeout	= PCNET32_TX_TIMEOUT,
	.link_period	= PCNET32_LINK_PERIOD,
	.enable		= pcnet32_enable,
	.start_xmit	= pcnet32_start_xmit,	/* nucleus */
	.interrupt	= pcnet32_interrupt,	/* nucleus */
	.poll		= pcnet32_poll,		/* nucleus */
	.tx_drop	= pcnet32_tx_drop,
	.teardown	= pcnet32_teardown,
};

const struct drvnucleus_chip pcnet32_chip = {
	.name		= "PCnet32",
	.cls		= &drvnucleus_net_class,
	.bar		= 0,	/* I/O, 32 bytes; BAR 1 is the same registers as MMIO */
	.dma_bits	= 32,	/* descriptors and init block hold 32-bit addresses */
	.datapath_reg	= pcnet32_datapath_reg,
	.write_check	= pcnet32_write_check,
	.writes_done	= pcnet32_writes_done,
	.info		= pcnet32_info,
	.net		= &pcnet32_net_ops,
};
