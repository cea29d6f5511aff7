// SPDX-License-Identifier: GPL-2.0
/*
 * ne2k.c - the data path of a PCI NE2000 clone (Realtek RTL8029AS, QEMU's
 * ne2k_pci): what stays in the kernel of ne2k-pci.c and 8390.c.
 *
 * The chip does not master the bus: every frame moves by programmed I/O
 * through the remote DMA window (the data port) into or out of the card's
 * own 16 KiB of packet memory.  So the data path is start_xmit with its
 * block output and the two ping-pong transmit slots (ei_start_xmit,
 * ne2k_pci_block_output, NS8390_trigger_send), the interrupt handler
 * (ei_interrupt: transmit completion and errors here, receive handed to
 * NAPI), the receive ring walk with its block input (ei_receive,
 * ne2k_pci_get_8390_hdr, ne2k_pci_block_input) and the ring-overrun
 * recovery (ei_rx_overrun).  No DMA objects: the rings are in the card.
 *
 * The u-driver (Sources/Drivers/NE2K) does the rest: probe, the PROM,
 * reset, NS8390_init - which lays out the packet memory - the receive
 * filter, the station address, link, tally counters, the restart after a
 * transmit timeout.  The layout reaches the nucleus through the chip
 * itself: at DATAPATH_ENABLE it reads PSTART and PSTOP back from page 2;
 * the transmit slots are fixed in ne2k_regs.h.  The ring position is read
 * from the chip (BNRY, CURR) at every frame, so a u-driver that re-laid
 * the ring at open is followed without a message.
 *
 * CR selects the page every other register offset means, and both sides
 * switch it: nearly the whole BAR is the data path's (ne2k_datapath_reg),
 * a u-driver's access holds the ComboLock for its whole register sequence
 * and leaves page 0 selected.  Every section here runs under the ComboLock
 * too, selects the page it needs and leaves page 0, and never changes the
 * chip's run state (CR.STP/STA) except in the overrun recovery.
 */
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/io.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include <chips/ne2k_regs.h>

#include "drvnucleus.h"
#include "net.h"

/* ei_interrupt's bound on status re-reads per interrupt (MAX_SERVICE). */
#define NE2K_MAX_SERVICE	12
/* Register reads to wait for a block output's remote DMA to complete;
 * QEMU completes it with the last write, a real RTL8029 within a few. */
#define NE2K_RDC_SPINS		2000
/* The DP8390 needs 1.6 ms to finish a frame after STP; 8390.c waits 10. */
#define NE2K_OVERRUN_STOP_MS	2
/* The longest frame ei_receive takes. */
#define NE2K_MAX_FRAME		1518
/* The smallest ring the nucleus runs: a longest frame and a page more. */
#define NE2K_MIN_RX_PAGES	7
#define NE2K_TX_SLOT_BYTES	(NE2K_TX_SLOT_PAGES * NE2K_PAGE_SIZE)

/* struct e8390_pkt_hdr: at the start of every frame's first ring page. */
struct ne2k_rx_hdr {
	u8 status;	/* RSR */
	u8 next;	/* the page after this frame */
	__le16 count;	/* header + frame + CRC */
} __packed;

/*
 * The data path's state (drvnucleus_net.priv), kept across u-driver
 * restarts.  Under the ComboLock.  As 8390.c's ei_device: tx1/tx2 are the
 * slots' frame lengths, -1 while on the wire, 0 when free.
 */
struct ne2k_priv {
	u8 rx_start, rx_stop;	/* the ring, read back at DATAPATH_ENABLE */
	int tx1, tx2;
	int lasttx;
	bool txing;		/* the transmitter is busy */
	bool overrun;		/* ei_rx_overrun under way: chip stopped */
	bool must_resend;	/* the overrun caught a frame in the slot */
	/* The last RCR a downcall wrote on page 0 (ne2k_reg_written): the
	 * DP8390 reads it back on page 2, QEMU's model does not. */
	u8 rcr;
	u8 bounce[NE2K_TX_SLOT_BYTES];	/* a frame, padded, for block output */
};

static inline struct ne2k_priv *ne2k_priv(struct drvnucleus_net *n)
{
	return n->priv;
}

static inline u8 ne2k_rd(struct drvnucleus_net *n, u32 reg)
{
	return ioread8(n->d->bar + reg);
}

static inline void ne2k_wr(struct drvnucleus_net *n, u32 reg, u8 v)
{
	iowrite8(v, n->d->bar + reg);
}

/* Selects @page, remote DMA idle, keeping the run state: a page switch
 * must neither start a chip the u-driver stopped nor stop a running one. */
static void ne2k_page(struct drvnucleus_net *n, u8 page)
{
	u8 run = ne2k_rd(n, NE2K_CR) & NE2K_CR_RUN_MASK;

	ne2k_wr(n, NE2K_CR, run | NE2K_CR_RD_ABORT | page);
}

/* Starts a remote DMA of @count bytes at card address @addr, page 0
 * selected: the block I/O of ne2k_pci_get_8390_hdr/block_input/output. */
static void ne2k_remote_dma(struct drvnucleus_net *n, u16 addr, u16 count,
			    u8 dir)
{
	u8 run = ne2k_rd(n, NE2K_CR) & NE2K_CR_RUN_MASK;

	ne2k_wr(n, NE2K_CR, run | NE2K_CR_RD_ABORT | NE2K_CR_PAGE0);
	ne2k_wr(n, NE2K_P0_RBCR0, count & 0xff);
	ne2k_wr(n, NE2K_P0_RBCR1, count >> 8);
	ne2k_wr(n, NE2K_P0_RSAR0, addr & 0xff);
	ne2k_wr(n, NE2K_P0_RSAR1, addr >> 8);
	ne2k_wr(n, NE2K_CR, run | dir | NE2K_CR_PAGE0);
}

/* The page the chip writes next (CURR, page 1). */
static u8 ne2k_curr(struct drvnucleus_net *n)
{
	u8 curr;

	ne2k_page(n, NE2K_CR_PAGE1);
	curr = ne2k_rd(n, NE2K_P1_CURR);
	ne2k_page(n, NE2K_CR_PAGE0);
	return curr;
}

/* Reads @len bytes at card address @addr into @buf, 32 bits at a time
 * (ne2k-pci's USE_LONGIO), the remote DMA wrapping at PSTOP as the chip's
 * own does. */
static void ne2k_block_input(struct drvnucleus_net *n, u16 addr, u8 *buf,
			     unsigned int len)
{
	void __iomem *port = n->d->bar + NE2K_DATAPORT;
	unsigned int words = len / 4;

	ne2k_remote_dma(n, addr, (len + 3) & ~3U, NE2K_CR_RD_READ);
	ioread32_rep(port, buf, words);
	if (len & 3) {
		__le32 last = cpu_to_le32(ioread32(port));

		memcpy(buf + words * 4, &last, len & 3);
	}
	ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_RDC);
}

/* ne2k_pci_block_output: @len (even, at most a slot) bytes to @page. */
static int ne2k_block_output(struct drvnucleus_net *n, const u8 *buf,
			     unsigned int len, u8 page)
{
	unsigned int i;

	len = (len + 3) & ~3U;
	ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_RDC);
	ne2k_remote_dma(n, page << 8, len, NE2K_CR_RD_WRITE);
	iowrite32_rep(n->d->bar + NE2K_DATAPORT, buf, len / 4);
	for (i = 0; i < NE2K_RDC_SPINS; i++)
		if (ne2k_rd(n, NE2K_P0_ISR) & NE2K_ISR_RDC)
			break;
	ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_RDC);
	return i < NE2K_RDC_SPINS ? 0 : -ETIMEDOUT;
}

/* NS8390_trigger_send, page 0 selected. */
static void ne2k_trigger_send(struct drvnucleus_net *n, unsigned int len,
			      u8 page)
{
	u8 run = ne2k_rd(n, NE2K_CR) & NE2K_CR_RUN_MASK;

	if (ne2k_rd(n, NE2K_CR) & NE2K_CR_TXP) {
		netdev_warn(n->ndev, "transmit started with the transmitter busy\n");
		return;
	}
	ne2k_wr(n, NE2K_P0_TBCR0, len & 0xff);
	ne2k_wr(n, NE2K_P0_TBCR1, len >> 8);
	ne2k_wr(n, NE2K_P0_TPSR, page);
	ne2k_wr(n, NE2K_CR, run | NE2K_CR_RD_ABORT | NE2K_CR_TXP);
}

/* ei_start_xmit: into a free slot by block output; on the wire at once
 * if the transmitter is idle, else when the other slot's frame is done. */
static netdev_tx_t ne2k_start_xmit(struct sk_buff *skb,
				   struct drvnucleus_net *n)
{
	struct ne2k_priv *p = ne2k_priv(n);
	struct combolock *cl = &n->d->cl;
	unsigned int len = max_t(unsigned int, skb->len, ETH_ZLEN);
	unsigned long f;
	u8 page;

	if (skb->len > NE2K_TX_SLOT_BYTES) {
		n->ndev->stats.tx_dropped++;
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* A downcall owns the chip: the release wakes the queue. */
	if (!drvnucleus_net_lock_xmit(n, &f))
		return NETDEV_TX_BUSY;
	if (!n->datapath || (p->tx1 && p->tx2)) {
		netif_stop_queue(n->ndev);
		combolock_unlock(cl, f);
		return NETDEV_TX_BUSY;
	}
	if (!p->tx1) {
		page = NE2K_TX_START_PG;
		p->tx1 = len;
	} else {
		page = NE2K_TX_START_PG + NE2K_TX_SLOT_PAGES;
		p->tx2 = len;
	}
	skb_copy_bits(skb, 0, p->bounce, skb->len);
	memset(p->bounce + skb->len, 0, len - skb->len);
	ne2k_page(n, NE2K_CR_PAGE0);
	if (ne2k_block_output(n, p->bounce, len, page))
		netdev_warn_once(n->ndev, "timeout waiting for the block output's remote DMA\n");
	if (!p->txing) {
		p->txing = true;
		ne2k_trigger_send(n, len, page);
		if (page == NE2K_TX_START_PG) {
			p->tx1 = -1;
			p->lasttx = -1;
		} else {
			p->tx2 = -1;
			p->lasttx = -2;
		}
	}
	if (p->tx1 && p->tx2)
		netif_stop_queue(n->ndev);
	combolock_unlock(cl, f);
	n->ndev->stats.tx_bytes += len;
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

/* ei_tx_intr: a slot went out; start the other one if it waits. */
static void ne2k_tx_intr(struct drvnucleus_net *n)
{
	struct net_device_stats *st = &n->ndev->stats;
	struct ne2k_priv *p = ne2k_priv(n);
	u8 tsr = ne2k_rd(n, NE2K_P0_TSR);

	ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_PTX);
	if (p->tx1 < 0) {
		p->tx1 = 0;
		if (p->tx2 > 0) {
			ne2k_trigger_send(n, p->tx2, NE2K_TX_START_PG + NE2K_TX_SLOT_PAGES);
			netif_trans_update(n->ndev);
			p->tx2 = -1;
			p->lasttx = 2;
		} else {
			p->lasttx = 20;
			p->txing = false;
		}
	} else if (p->tx2 < 0) {
		p->tx2 = 0;
		if (p->tx1 > 0) {
			ne2k_trigger_send(n, p->tx1, NE2K_TX_START_PG);
			netif_trans_update(n->ndev);
			p->tx1 = -1;
			p->lasttx = 1;
		} else {
			p->lasttx = 10;
			p->txing = false;
		}
	}
	if (tsr & NE2K_TSR_COL)
		st->collisions++;
	if (tsr & NE2K_TSR_PTX) {
		st->tx_packets++;
	} else {
		st->tx_errors++;
		if (tsr & NE2K_TSR_ABT) {
			st->tx_aborted_errors++;
			st->collisions += 16;
		}
		if (tsr & NE2K_TSR_CRS)
			st->tx_carrier_errors++;
		if (tsr & NE2K_TSR_FU)
			st->tx_fifo_errors++;
		if (tsr & NE2K_TSR_CDH)
			st->tx_heartbeat_errors++;
		if (tsr & NE2K_TSR_OWC)
			st->tx_window_errors++;
	}
	netif_wake_queue(n->ndev);
}

/* ei_tx_err: an aborted or underrun frame frees its slot like a sent one. */
static void ne2k_tx_err(struct drvnucleus_net *n)
{
	struct net_device_stats *st = &n->ndev->stats;
	u8 tsr = ne2k_rd(n, NE2K_P0_TSR);

	ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_TXE);
	if (tsr & (NE2K_TSR_ABT | NE2K_TSR_FU)) {
		ne2k_tx_intr(n);
		return;
	}
	st->tx_errors++;
	if (tsr & NE2K_TSR_CRS)
		st->tx_carrier_errors++;
	if (tsr & NE2K_TSR_CDH)
		st->tx_heartbeat_errors++;
	if (tsr & NE2K_TSR_OWC)
		st->tx_window_errors++;
}

/*
 * ei_interrupt: transmit completion and errors are served here; receive
 * (PRX, RXE and OVW) goes to NAPI with those bits masked until the poll
 * is done.  ISR.CNT is the u-driver's and stays masked.
 */
static irqreturn_t ne2k_interrupt(struct drvnucleus_net *n)
{
	struct combolock *cl = &n->d->cl;
	int served = 0;
	unsigned long f;
	u8 isr;

	/* The status registers are a downcall's until it ends: hold
	 * the line off (it stays asserted) and take it at release. */
	if (!drvnucleus_net_lock_irq(n, &f))
		return IRQ_HANDLED;
	if (!n->datapath) {
		combolock_unlock(cl, f);
		return IRQ_NONE;
	}
	ne2k_page(n, NE2K_CR_PAGE0);
	while (served < NE2K_MAX_SERVICE) {
		isr = ne2k_rd(n, NE2K_P0_ISR);
		if (isr == 0xff || !(isr & NE2K_IMR_DATAPATH))
			break;
		if (isr & NE2K_ISR_RX_ALL) {
			/* Masked until the poll completes: the loop does not
			 * see them again. */
			ne2k_wr(n, NE2K_P0_IMR, NE2K_IMR_DATAPATH & ~NE2K_ISR_RX_ALL);
			napi_schedule(&n->napi);
		}
		if (isr & NE2K_ISR_PTX)
			ne2k_tx_intr(n);
		else if (isr & NE2K_ISR_TXE)
			ne2k_tx_err(n);
		if (isr & NE2K_ISR_RDC)
			ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_RDC);
		served++;
		if (!(isr & NE2K_ISR_TX_ALL))
			break;
	}
	combolock_unlock(cl, f);
	return IRQ_RETVAL(served);
}

/* The ring page after @page; a page outside the ring wraps to its start. */
static u8 ne2k_ring_next(const struct ne2k_priv *p, u8 page)
{
	if (page + 1 >= p->rx_stop || page + 1 < p->rx_start)
		return p->rx_start;
	return page + 1;
}

/*
 * One frame of ei_receive, lock held, page 0 selected: 1 taken (*skbp set,
 * or NULL if it was bad or no memory), 0 the ring is empty.
 */
static int ne2k_rx_one(struct drvnucleus_net *n, struct sk_buff **skbp)
{
	struct net_device_stats *st = &n->ndev->stats;
	struct ne2k_priv *p = ne2k_priv(n);
	unsigned int rx_pages = p->rx_stop - p->rx_start;
	struct ne2k_rx_hdr hdr;
	u8 this_frame, next_frame, curr;
	struct sk_buff *skb;
	int len;

	*skbp = NULL;
	curr = ne2k_curr(n);
	/* BNRY is always a page behind the next frame. */
	this_frame = ne2k_ring_next(p, ne2k_rd(n, NE2K_P0_BNRY));
	if (this_frame == curr)
		return 0;
	ne2k_block_input(n, this_frame << 8, (u8 *)&hdr, sizeof(hdr));
	len = le16_to_cpu(hdr.count) - sizeof(hdr);
	next_frame = this_frame + 1 + ((len + 4) >> 8);
	/* The 3c503 book's bogus headers: the status byte never written. */
	if (hdr.next != next_frame && hdr.next != next_frame + 1 &&
	    hdr.next != next_frame - rx_pages &&
	    hdr.next != next_frame + 1 - rx_pages) {
		st->rx_errors++;
		next_frame = curr;
		goto done;
	}
	if (len < ETH_ZLEN || len > NE2K_MAX_FRAME) {
		st->rx_errors++;
		st->rx_length_errors++;
	} else if ((hdr.status & 0x0f) == NE2K_RSR_PRX) {
		/* Under the ComboLock's spinlock, interrupts off: not
		 * napi_alloc_skb, whose skb-head cache refills with
		 * interrupts enabled again (kmem_cache_alloc_bulk) - the
		 * interrupt handler then spun on this CPU's own lock, a
		 * deadlock seen in a QEMU guest under a UDP stream.
		 * netdev_alloc_skb is safe there (ei_receive uses it under
		 * its lock too). */
		skb = netdev_alloc_skb(n->ndev, len);
		if (skb) {
			ne2k_block_input(n, (this_frame << 8) + sizeof(hdr),
					 skb_put(skb, len), len);
			*skbp = skb;
			st->rx_packets++;
			st->rx_bytes += len;
			if (hdr.status & NE2K_RSR_PHY)
				st->multicast++;
		} else {
			st->rx_dropped++;
		}
	} else {
		st->rx_errors++;
		if (hdr.status & NE2K_RSR_FO)
			st->rx_fifo_errors++;
	}
	next_frame = hdr.next;
	if (next_frame >= p->rx_stop || next_frame < p->rx_start)
		next_frame = p->rx_start;
done:
	ne2k_wr(n, NE2K_P0_BNRY, next_frame == p->rx_start ? p->rx_stop - 1
							  : next_frame - 1);
	return 1;
}

/*
 * ei_rx_overrun's first half: stop the chip so it writes no more, remember
 * whether a frame was caught half sent, transmitter into loopback, start
 * again; the ring is emptied by the poll, then ne2k_overrun_done().
 */
static void ne2k_overrun_begin(struct drvnucleus_net *n)
{
	struct ne2k_priv *p = ne2k_priv(n);
	bool was_txing = ne2k_rd(n, NE2K_CR) & NE2K_CR_TXP;

	ne2k_wr(n, NE2K_CR, NE2K_CR_RD_ABORT | NE2K_CR_PAGE0 | NE2K_CR_STP);
	n->ndev->stats.rx_over_errors++;
	mdelay(NE2K_OVERRUN_STOP_MS);
	ne2k_wr(n, NE2K_P0_RBCR0, 0);
	ne2k_wr(n, NE2K_P0_RBCR1, 0);
	p->must_resend = was_txing &&
			 !(ne2k_rd(n, NE2K_P0_ISR) & NE2K_ISR_TX_ALL);
	ne2k_wr(n, NE2K_P0_TCR, NE2K_TCR_LOOPBACK);
	ne2k_wr(n, NE2K_CR, NE2K_CR_RD_ABORT | NE2K_CR_PAGE0 | NE2K_CR_STA);
	p->overrun = true;
}

/* ei_rx_overrun's second half: the ring is empty. */
static void ne2k_overrun_done(struct drvnucleus_net *n)
{
	struct ne2k_priv *p = ne2k_priv(n);

	ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_OVW);
	ne2k_wr(n, NE2K_P0_TCR, NE2K_TCR_NORMAL);
	if (p->must_resend)
		ne2k_wr(n, NE2K_CR, NE2K_CR_RD_ABORT | NE2K_CR_PAGE0 |
				    NE2K_CR_STA | NE2K_CR_TXP);
	p->overrun = false;
	p->must_resend = false;
}

/*
 * NAPI poll: ei_receive, a frame per locked section; the frame goes up
 * with the lock dropped.  The receive interrupts are acknowledged when the
 * ring is found empty and it is looked at once more, so a frame landing
 * in between raises PRX again or is taken now.
 */
static int ne2k_poll(struct drvnucleus_net *n, int budget)
{
	struct combolock *cl = &n->d->cl;
	struct ne2k_priv *p = ne2k_priv(n);
	bool empty = false;
	unsigned long f;
	int work = 0;

	while (work < budget && !empty) {
		struct sk_buff *skb = NULL;

		if (combolock_lock_atomic(cl, &f))
			goto deferred;
		if (!n->datapath) {
			combolock_unlock(cl, f);
			napi_complete_done(&n->napi, work);
			return work;
		}
		ne2k_page(n, NE2K_CR_PAGE0);
		if (!p->overrun && (ne2k_rd(n, NE2K_P0_ISR) & NE2K_ISR_OVW))
			ne2k_overrun_begin(n);
		if (!ne2k_rx_one(n, &skb)) {
			ne2k_wr(n, NE2K_P0_ISR, NE2K_ISR_PRX | NE2K_ISR_RXE);
			if (!ne2k_rx_one(n, &skb)) {
				empty = true;
				if (p->overrun)
					ne2k_overrun_done(n);
			}
		}
		combolock_unlock(cl, f);
		if (skb) {
			skb->protocol = eth_type_trans(skb, n->ndev);
			netif_receive_skb(skb);
		}
		if (!empty)
			work++;
	}
	if (work < budget && napi_complete_done(&n->napi, work)) {
		if (combolock_lock_atomic(cl, &f))
			goto deferred_done;
		if (n->datapath) {
			ne2k_page(n, NE2K_CR_PAGE0);
			ne2k_wr(n, NE2K_P0_IMR, NE2K_IMR_DATAPATH);
		}
		combolock_unlock(cl, f);
	}
	return work;

deferred:
	/* A downcall holds the chip: stop until its release reschedules us. */
	combolock_defer(cl, COMBO_DEFER_NAPI);
	combolock_unlock(cl, f);
	if (work < budget)
		napi_complete_done(&n->napi, work);
	return work;

deferred_done:
	/* Completed, the receive interrupts still masked: poll again after
	 * the downcall, which unmasks them. */
	combolock_defer(cl, COMBO_DEFER_NAPI);
	combolock_unlock(cl, f);
	return work;
}

/*
 * DATAPATH_ENABLE: the ring as the u-driver laid it out, read back from
 * the chip (page 2's PSTART/PSTOP).  Without @reattach the u-driver has
 * just run NS8390_init: both transmit slots are free.
 */
static int ne2k_enable(struct drvnucleus_net *n, bool reattach,
		       const char **why, u16 *bad)
{
	struct ne2k_priv *p = ne2k_priv(n);
	unsigned long f;
	u8 start, stop;

	combolock_lock(&n->d->cl, &f);
	ne2k_page(n, NE2K_CR_PAGE2);
	start = ne2k_rd(n, NE2K_P2_PSTART);
	stop = ne2k_rd(n, NE2K_P2_PSTOP);
	ne2k_page(n, NE2K_CR_PAGE0);
	if (start < NE2K_TX_START_PG + NE2K_TX_PAGES ||
	    stop < start + NE2K_MIN_RX_PAGES ||
	    stop > NE2K_MEM_STOP_PG) {
		combolock_unlock(&n->d->cl, f);
		*why = "the receive ring (PSTART, PSTOP) overlaps the transmit slots or leaves the packet memory";
		*bad = 0;
		return -EINVAL;
	}
	p->rx_start = start;
	p->rx_stop = stop;
	if (!reattach) {
		p->tx1 = 0;
		p->tx2 = 0;
		p->lasttx = 0;
		p->txing = false;
		p->overrun = false;
		p->must_resend = false;
	}
	combolock_unlock(&n->d->cl, f);
	return 0;
}

/* Transmit timeout (d->cl held, data path off): what sat in the slots is
 * gone; the u-driver resets the board. */
static unsigned int ne2k_tx_drop(struct drvnucleus_net *n)
{
	struct ne2k_priv *p = ne2k_priv(n);
	unsigned int dropped = !!p->tx1 + !!p->tx2;

	p->tx1 = 0;
	p->tx2 = 0;
	p->txing = false;
	p->overrun = false;
	p->must_resend = false;
	return dropped;
}

/*
 * Every offset but the unused 0x11-0x1e: CR, the paged registers behind
 * it, the data port (remote DMA) and the reset port.
 */
static bool ne2k_datapath_reg(const struct drvnucleus_dev *d, u32 off,
			      u32 width)
{
	return off <= NE2K_DATAPORT || off + width > NE2K_RESET;
}

/*
 * A downcall wrote a data-path register, the ComboLock held in user mode:
 * keep a copy of RCR.  The hook runs after each written step of a register
 * sequence, so CR read back now selects the page that write went to; only
 * a write on page 0 is RCR (0x0c is MAR4 on page 1).  The 8390's
 * registers are byte wide (QEMU ignores wider accesses below 0x10).
 * Before NET_REGISTER there is no data path state to keep it in; the
 * u-driver writes RCR again when it opens the interface.
 */
static void ne2k_reg_written(struct drvnucleus_dev *d, u32 off, u32 width,
			     u32 value)
{
	struct drvnucleus_net *n = d->cls_priv;
	u8 cr;

	if (!n || off != NE2K_P0_RCR || width != 1)
		return;
	cr = ioread8(d->bar + NE2K_CR);
	if ((cr & NE2K_CR_PAGE_MASK) != NE2K_CR_PAGE0)
		return;
	ne2k_priv(n)->rcr = value & NE2K_RCR_MASK;
}

/* Whether a write of @width bytes of @value at @off reaches the byte
 * register at @reg, and the byte it puts there (*v). */
static bool ne2k_lane(u32 off, u32 width, u32 value, u32 reg, u8 *v)
{
	if (!drvnucleus_touches(off, width, reg, 1))
		return false;
	*v = value >> ((reg - off) * 8);
	return true;
}

/*
 * While the data path is the nucleus's, a downcall may not stop it under
 * the nucleus's feet: a u-driver whose code went wrong could otherwise
 * leave a chip that reads back as configured and moves no frame, and a
 * reattached u-driver would adopt it so.  CR may not stop a started chip:
 * no STP where it reads clear, STA not cleared where it reads set (a page
 * switch or a remote DMA command writes both back as they read, as the
 * nucleus's own do; a chip already stopped may be written as it is, so a
 * reattaching u-driver reads PAR from it before it starts it).  On page 0
 * (CR read now selects the page the write goes to; 0x0c-0x0f are MAR4-7
 * on page 1) IMR keeps the data path's interrupts, RCR is not put in
 * monitor mode (frames checked, none stored), TCR in no loopback.  The
 * reset port is not written: a read of it resets the board, which no
 * write_check sees (a reattached u-driver restarts such a chip), and the
 * write that ends the pulse is refused so that such a reset fails loudly.
 * The 8390's registers are bytes: each is checked in whatever lane of a
 * wider write reaches it.  Taking the chip back is DATAPATH_DISABLE first
 * (ei_close's order: the queue stops before the chip).  The nucleus's own
 * accesses (the overrun recovery's STP and loopback) are not checked.
 */
static int ne2k_running_check(struct drvnucleus_dev *d, u32 off, u32 width,
			      u32 value, const char **why)
{
	u8 cr = ioread8(d->bar + NE2K_CR), v;

	if (ne2k_lane(off, width, value, NE2K_CR, &v) &&
	    (((v & NE2K_CR_STP) && !(cr & NE2K_CR_STP)) ||
	     (!(v & NE2K_CR_STA) && (cr & NE2K_CR_STA)))) {
		*why = "CR: a started chip stays started (no STP, STA kept) while DATAPATH_ON";
		return -EPERM;
	}
	if (ne2k_lane(off, width, value, NE2K_RESET, &v)) {
		*why = "the reset port: no board reset while DATAPATH_ON";
		return -EPERM;
	}
	if ((cr & NE2K_CR_PAGE_MASK) != NE2K_CR_PAGE0)
		return 0;
	if (ne2k_lane(off, width, value, NE2K_P0_IMR, &v) &&
	    (v & NE2K_IMR_DATAPATH) != NE2K_IMR_DATAPATH) {
		*why = "IMR: the data path's interrupts stay unmasked while DATAPATH_ON";
		return -EPERM;
	}
	if (ne2k_lane(off, width, value, NE2K_P0_RCR, &v) &&
	    (v & NE2K_RCR_MON)) {
		*why = "RCR.MON: the receiver stores frames while DATAPATH_ON";
		return -EPERM;
	}
	if (ne2k_lane(off, width, value, NE2K_P0_TCR, &v) &&
	    (v & NE2K_TCR_LB_MASK)) {
		*why = "TCR: no loopback while DATAPATH_ON";
		return -EPERM;
	}
	return 0;
}

/*
 * What a downcall may write (write_check).  The chip masters no DMA: only
 * while the data path is on are there rules, ne2k_running_check's.  The
 * registers they name are data-path registers (ne2k_datapath_reg), so the
 * ComboLock is held and CR reads the page the write goes to.
 */
static int ne2k_write_check(struct drvnucleus_dev *d, u32 off, u32 width,
			    u32 value, bool dma, const char **why)
{
	if (!drvnucleus_net_datapath_on(d))
		return 0;
	return ne2k_running_check(d, off, width, value, why);
}

/* QUIESCE (d->cl held, data path off): nothing serves the chip any more,
 * so it raises no interrupt (IMR 0); a started u-driver programs it
 * again. */
static void ne2k_quiesce(struct drvnucleus_net *n)
{
	ne2k_page(n, NE2K_CR_PAGE0);
	ne2k_wr(n, NE2K_P0_IMR, 0);
}

/*
 * DEVICE_INFO: PAR0-5 and MAR0-7 from page 1 under the ComboLock, and RCR
 * as ne2k_reg_written kept it.  The DP8390 reads RCR back on page 2, but
 * QEMU's model reads 0 there, so the nucleus's copy is what is reported.
 */
static int ne2k_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = d->cls_priv;
	void __iomem *io = d->bar;
	u8 mac[ETH_ALEN], mar[8], rcr = 0, run;
	unsigned long f;
	u32 flags = 0;
	u64 filter = 0;
	int i;

	combolock_lock(&d->cl, &f);
	run = ioread8(io + NE2K_CR) & NE2K_CR_RUN_MASK;
	iowrite8(run | NE2K_CR_RD_ABORT | NE2K_CR_PAGE1, io + NE2K_CR);
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = ioread8(io + NE2K_P1_PAR0 + i);
	for (i = 0; i < 8; i++)
		mar[i] = ioread8(io + NE2K_P1_MAR0 + i);
	iowrite8(run | NE2K_CR_RD_ABORT | NE2K_CR_PAGE0, io + NE2K_CR);
	if (n)
		rcr = ne2k_priv(n)->rcr;
	combolock_unlock(&d->cl, f);

	for (i = 0; i < 8; i++)
		filter |= (u64)mar[i] << (8 * i);
	if (rcr & NE2K_RCR_PRO)
		flags |= DRVXPC_RX_PROMISC;
	if ((rcr & NE2K_RCR_AM) && filter == ~0ULL)
		flags |= DRVXPC_RX_ALLMULTI;
	if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, mac) ||
	    nla_put_u32(skb, DRVXPC_A_RX_FLAGS, flags) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_MC_FILTER, filter, 0) ||
	    nla_put(skb, DRVXPC_A_MC_HASH, sizeof(mar), mar))
		return -EMSGSIZE;
	return 0;
}

static const struct drvnucleus_net_ops ne2k_net_ops = {
	.priv_size	= sizeof(struct ne2k_priv),
	.speeds		= DRVNUCLEUS_SPEED_10,
	/* 8390.h's TX_TIMEOUT is 200 ms; the restart here is an upcall */
	.tx_timeout	= 5 * HZ,
	.link_period	= 5 * HZ,
	.enable		= ne2k_enable,
	.start_xmit	= ne2k_start_xmit,
	.interrupt	= ne2k_interrupt,
	.poll		= ne2k_poll,
	.tx_drop	= ne2k_tx_drop,
	.quiesce	= ne2k_quiesce,
};

const struct drvnucleus_chip ne2k_chip = {
	.name		= "RTL8029",
	.cls		= &drvnucleus_net_class,
	.bar		= 0,	/* I/O, NE2K_BAR_LEN ports */
	.dma_bits	= 0,	/* no bus mastering */
	.datapath_reg	= ne2k_datapath_reg,
	.reg_written	= ne2k_reg_written,
	.write_check	= ne2k_write_check,
	.info		= ne2k_info,
	.net		= &ne2k_net_ops,
};
