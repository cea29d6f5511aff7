// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus - the kernel half of drivermgr's split drivers.
 *
 * This first layer is the runtime: the generic netlink family "drvnucleus"
 * speaking the drvxpc wire format (include/uapi/drvxpc.h, the one
 * definition shared with drivermgrd and the u-drivers), the registration
 * of the daemon that brokers for the u-drivers, and the PCI functions the
 * nucleus binds, announced to that daemon with DEVICE_ADD.  Downcalls so
 * far: REG_READ, REG_WRITE and REG_SEQ, checked against the BAR; DMA_ALLOC,
 * DMA_FREE and REG_WRITE_DMA through an object tracker whose ids outlive a
 * u-driver; DEVICE_INFO lists an instance's objects.  Upcalls go to the
 * daemon with a sequence number and a deadline; the class nuclei are the
 * RTL8139's (below) and the ES1370's (es1370.c).
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/workqueue.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <net/genetlink.h>

#include "drvnucleus.h"

#define DRVXPC_GENL_CMD_MSG	1
#define DRVNUCLEUS_MAX_DEVICES	8

/*
 * The RTL8139 nucleus: what stays in the kernel of 8139too — start_xmit,
 * the interrupt handler, the NAPI rx poll and tx completion — over rings the
 * u-driver allocated by DMA_ALLOC and handed over with DATAPATH_ENABLE.
 * open, stop and the rx mode are upcalls, sent and never waited for.
 */
#define RTL_NUM_TX	4
#define RTL_TX_BUF	1536
#define RTL_RX_RING	8192
#define RTL_RX_ACK	(0x01 | 0x10 | 0x40)	/* RxOK | RxOverflow | RxFIFOOver */
#define RTL_LINK_CHG	0x20			/* RxUnderrun: link change on 8139C+ */
#define RTL_LINK_PERIOD	(5 * HZ)		/* the media check without interrupts */
#define RTL_TX_TIMEOUT	(6 * HZ)		/* 8139too's TX_TIMEOUT */

struct drvnucleus_net {
	struct net_device *ndev;
	struct drvnucleus_dev *d;
	struct napi_struct napi;
	struct work_struct rxmode_work;
	struct delayed_work link_work;	/* rtl8139_thread's media check */
	struct work_struct txto_work;	/* rtl8139_tx_timeout_task */
	u32 speed;			/* from NET_CARRIER, for ethtool */
	u8 duplex;
	struct drvnucleus_obj *rx, *tx;
	unsigned int cur_tx, dirty_tx, cur_rx;
	bool datapath, irq, napi_on;
	bool capr_stale;	/* cur_rx moved, CAPR not yet written */
	unsigned int rx_gen;	/* bumped when a downcall moved the ring */
};

static atomic_t upcall_seq = ATOMIC_INIT(0);

static u32 next_object_id = 1;
static atomic_t live_objects = ATOMIC_INIT(0);

DEFINE_MUTEX(drvnucleus_lock);
static struct drvnucleus_dev *devices[DRVNUCLEUS_MAX_DEVICES];
static u32 daemon_portid;	/* 0: no daemon registered */
static struct net *daemon_net;

static struct genl_family drvnucleus_family;

/*
 * Bytes and messages that crossed the kernel <-> daemon hop, per instance
 * (DEVICE_INFO's XPC_BYTES): what marshaling costs a driver.  Status reads
 * (DEVICE_INFO) and measurements (SIM_CONTROL) are not counted.
 */
static atomic64_t xpc_bytes[DRVNUCLEUS_MAX_DEVICES + 1];
static atomic64_t xpc_msgs[DRVNUCLEUS_MAX_DEVICES + 1];
static atomic64_t xpc_regio_bytes[DRVNUCLEUS_MAX_DEVICES + 1];	/* of which register I/O */

static void count_xpc(const struct drvxpc_hdr *h)
{
	if (!h->instance || h->instance > DRVNUCLEUS_MAX_DEVICES ||
	    h->op == DRVXPC_OP_DEVICE_INFO || h->op == DRVXPC_OP_SIM_CONTROL)
		return;
	atomic64_add(h->len, &xpc_bytes[h->instance]);
	atomic64_inc(&xpc_msgs[h->instance]);
	if (h->op == DRVXPC_OP_REG_READ || h->op == DRVXPC_OP_REG_WRITE ||
	    h->op == DRVXPC_OP_REG_SEQ || h->op == DRVXPC_OP_REG_WRITE_DMA)
		atomic64_add(h->len, &xpc_regio_bytes[h->instance]);
}

/* --- validation of what user space sends ------------------------------- */

static int validate_attrs(const struct nlattr *head, int len, int depth,
			  u16 *bad)
{
	const struct nlattr *a;
	int rem;

	if (depth >= DRVXPC_NEST_MAX)
		return -EINVAL;
	nla_for_each_attr(a, head, len, rem) {
		unsigned int type = nla_type(a);
		int kind = drvxpc_attr_kind(type);
		unsigned int plen = nla_len(a);
		bool nested = a->nla_type & NLA_F_NESTED;
		__u64 lo, hi, v = 0;

		*bad = type;
		if (kind < 0 || plen > drvxpc_attr_max(type))
			return -EINVAL;
		if (nested != (kind == DRVXPC_K_NESTED))
			return -EINVAL;
		switch (kind) {
		case DRVXPC_K_FLAG:
			if (plen)
				return -EINVAL;
			break;
		case DRVXPC_K_U8:
			if (plen != 1)
				return -EINVAL;
			v = nla_get_u8(a);
			break;
		case DRVXPC_K_U16:
			if (plen != 2)
				return -EINVAL;
			v = nla_get_u16(a);
			break;
		case DRVXPC_K_U32:
		case DRVXPC_K_S32:
			if (plen != 4)
				return -EINVAL;
			v = nla_get_u32(a);
			break;
		case DRVXPC_K_U64:
			if (plen != 8)
				return -EINVAL;
			v = nla_get_u64(a);
			break;
		case DRVXPC_K_MAC:
			if (plen != 6)
				return -EINVAL;
			break;
		case DRVXPC_K_STRING:
			if (!plen || ((const char *)nla_data(a))[plen - 1] ||
			    strnlen(nla_data(a), plen) != plen - 1)
				return -EINVAL;
			break;
		case DRVXPC_K_NESTED: {
			int r = validate_attrs(nla_data(a), plen, depth + 1, bad);

			if (r)
				return r;
			break;
		}
		default:
			break;
		}
		if (kind >= DRVXPC_K_U8 && kind <= DRVXPC_K_U64 &&
		    drvxpc_attr_range(type, &lo, &hi) && (v < lo || v > hi))
			return -ERANGE;
	}
	*bad = 0;
	return rem ? -EINVAL : 0;
}

static const struct nlattr *find_attr(const struct drvxpc_hdr *h, u16 type)
{
	const struct nlattr *head = (const void *)(h + 1);

	return nla_find(head, h->len - sizeof(*h), type);
}

/* --- replies and notifications ----------------------------------------- */

static struct sk_buff *msg_new(u32 portid, u32 nlseq, u16 op, u16 flags,
			       u32 seq, u32 instance, s32 status,
			       struct drvxpc_hdr **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, portid, nlseq, &drvnucleus_family, 0,
			   DRVXPC_GENL_CMD_MSG);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	memset(*hdr, 0, sizeof(**hdr));
	(*hdr)->op = op;
	(*hdr)->flags = flags;
	(*hdr)->seq = seq;
	(*hdr)->instance = instance;
	(*hdr)->status = status;
	return skb;
}

/* Fix the drvxpc length (user header + attributes) and finish. */
static void msg_end(struct sk_buff *skb, struct drvxpc_hdr *hdr)
{
	hdr->len = skb_tail_pointer(skb) - (unsigned char *)hdr;
	genlmsg_end(skb, hdr);
	count_xpc(hdr);
}

static int reply(struct genl_info *info, const struct drvxpc_hdr *req,
		 s32 status, u16 bad_attr, const char *why, u32 value,
		 bool with_value)
{
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;

	skb = msg_new(info->snd_portid, info->snd_seq, req->op,
		      DRVXPC_F_REPLY, req->seq, req->instance, status, &hdr);
	if (!skb)
		return -ENOMEM;
	if ((bad_attr && nla_put_u16(skb, DRVXPC_A_ERR_ATTR, bad_attr)) ||
	    (why && nla_put_string(skb, DRVXPC_A_ERR_MSG, why)) ||
	    (with_value && nla_put_u32(skb, DRVXPC_A_REG_VALUE, value)) ||
	    (req->op == DRVXPC_OP_REGISTER && !status &&
	     nla_put_u32(skb, DRVXPC_A_VERSION, DRVXPC_VERSION))) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	msg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

/* Called with drvnucleus_lock held. */
static void announce(struct drvnucleus_dev *d)
{
	struct pci_dev *p = d->pdev;
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;

	if (!daemon_portid)
		return;
	skb = msg_new(daemon_portid, 0, DRVXPC_OP_DEVICE_ADD, DRVXPC_F_NOTIFY,
		      0, d->instance, 0, &hdr);
	if (!skb)
		return;
	if (nla_put_u16(skb, DRVXPC_A_PCI_VENDOR, p->vendor) ||
	    nla_put_u16(skb, DRVXPC_A_PCI_DEVICE, p->device) ||
	    nla_put_u8(skb, DRVXPC_A_PCI_REVISION, p->revision) ||
	    nla_put_string(skb, DRVXPC_A_PCI_SLOT, pci_name(p)) ||
	    nla_put_u32(skb, DRVXPC_A_BAR_SIZE, d->bar_len) ||
	    nla_put_u32(skb, DRVXPC_A_IRQ, p->irq) ||
	    nla_put_u8(skb, DRVXPC_A_CLASS, d->class)) {
		nlmsg_free(skb);
		return;
	}
	msg_end(skb, hdr);
	genlmsg_unicast(daemon_net, skb, daemon_portid);
}


/* --- upcalls ------------------------------------------------------------- */

/*
 * Sends upcall @op for @d to the registered daemon without waiting: the
 * callers hold rtnl (ndo_open/stop) or run from a work item; the reply is
 * only logged.  No daemon: nothing happens, the nucleus keeps its state.
 */
static void upcall(struct drvnucleus_dev *d, u16 op, struct net_device *ndev)
{
	u32 portid = READ_ONCE(daemon_portid);
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb;

	if (!portid)
		return;
	skb = msg_new(portid, 0, op, DRVXPC_F_REQUEST, atomic_inc_return(&upcall_seq),
		      d->instance, 0, &hdr);
	if (!skb)
		return;
	if (op == DRVXPC_OP_NET_SET_MAC && ndev &&
	    nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, ndev->dev_addr))
		goto err;
	if (op == DRVXPC_OP_NET_SET_RX_MODE && ndev) {
		struct netdev_hw_addr *ha;
		struct nlattr *list;
		u32 flags = (ndev->flags & IFF_PROMISC ? DRVXPC_RX_PROMISC : 0) |
			    (ndev->flags & IFF_ALLMULTI ? DRVXPC_RX_ALLMULTI : 0);

		if (nla_put_u32(skb, DRVXPC_A_RX_FLAGS, flags))
			goto err;
		list = nla_nest_start(skb, DRVXPC_A_MC_LIST);
		if (!list)
			goto err;
		netif_addr_lock_bh(ndev);
		netdev_for_each_mc_addr(ha, ndev) {
			if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, ha->addr))
				break;
		}
		netif_addr_unlock_bh(ndev);
		nla_nest_end(skb, list);
	}
	msg_end(skb, hdr);
	genlmsg_unicast(daemon_net, skb, portid);
	return;
err:
	nlmsg_free(skb);
}

/*
 * Synchronous upcalls (drvnucleus.h).  A waiter is on pending_upcalls from
 * the send to the reply, the deadline or the daemon's going away, whichever
 * comes first; replies are matched by seq and only from the daemon.
 */
static unsigned int upcall_timeout_ms = 3000;
module_param(upcall_timeout_ms, uint, 0644);
MODULE_PARM_DESC(upcall_timeout_ms,
		 "deadline of an upcall the kernel waits for (ms; then -EAGAIN)");

struct drvnucleus_pending {
	struct list_head node;
	u32 seq;
	s32 status;
	u32 value;
	struct completion done;
};

static LIST_HEAD(pending_upcalls);
static DEFINE_SPINLOCK(pending_lock);

struct sk_buff *drvnucleus_upcall_new(struct drvnucleus_dev *d, u16 op,
				      struct drvxpc_hdr **hdr)
{
	u32 portid = READ_ONCE(daemon_portid);

	if (!portid)
		return NULL;
	return msg_new(portid, 0, op, DRVXPC_F_REQUEST, 0, d->instance, 0, hdr);
}

int drvnucleus_upcall_wait(struct sk_buff *skb, struct drvxpc_hdr *hdr,
			   u32 *value)
{
	struct drvnucleus_pending p = { .status = -EAGAIN };
	u32 portid = READ_ONCE(daemon_portid);
	long left;
	int err;

	if (!portid) {
		nlmsg_free(skb);
		return -EAGAIN;
	}

	init_completion(&p.done);
	p.seq = atomic_inc_return(&upcall_seq);
	hdr->seq = p.seq;
	hdr->timeout_us = min_t(u64, (u64)upcall_timeout_ms * 1000, U32_MAX);
	msg_end(skb, hdr);
	spin_lock_bh(&pending_lock);
	list_add_tail(&p.node, &pending_upcalls);
	spin_unlock_bh(&pending_lock);
	/* genlmsg_unicast() consumes the skb whatever happens. */
	err = genlmsg_unicast(daemon_net, skb, portid);
	if (!err) {
		left = wait_for_completion_killable_timeout(&p.done,
				msecs_to_jiffies(upcall_timeout_ms));
		if (left == 0)
			pr_warn_ratelimited("drvnucleus: upcall %s (seq %u) not answered within %u ms\n",
					    drvxpc_op_name(hdr->op) ?: "?", p.seq,
					    upcall_timeout_ms);
		else if (left < 0)
			err = left;
	}
	spin_lock_bh(&pending_lock);
	if (!list_empty(&p.node))
		list_del_init(&p.node);
	spin_unlock_bh(&pending_lock);
	if (err)
		return err == -ERESTARTSYS ? -EINTR : -EAGAIN;
	if (value)
		*value = p.value;
	return p.status;
}

/* A reply to an upcall: wake its waiter, if it still waits. */
static void upcall_answered(struct genl_info *info, const struct drvxpc_hdr *h)
{
	const struct nlattr *v = find_attr(h, DRVXPC_A_MIXER_VALUE);
	struct drvnucleus_pending *p;

	if (info->snd_portid != READ_ONCE(daemon_portid))
		return;
	if (h->status)
		pr_debug("drvnucleus: upcall %s (seq %u) failed: %d\n",
			 drvxpc_op_name(h->op) ?: "?", h->seq, h->status);
	spin_lock_bh(&pending_lock);
	list_for_each_entry(p, &pending_upcalls, node) {
		if (p->seq != h->seq)
			continue;
		/* A u-driver's status is a negative errno; keep it one. */
		p->status = h->status <= 0 && h->status >= -MAX_ERRNO ? h->status : -EIO;
		p->value = v ? nla_get_u32(v) : 0;
		list_del_init(&p->node);
		complete(&p->done);
		break;
	}
	spin_unlock_bh(&pending_lock);
}

/* The daemon's socket closed: nobody will answer; fail the waiters now. */
static int drvnucleus_netlink_event(struct notifier_block *nb,
				    unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct drvnucleus_pending *p, *tmp;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid || n->portid != READ_ONCE(daemon_portid))
		return NOTIFY_DONE;
	WRITE_ONCE(daemon_portid, 0);
	spin_lock_bh(&pending_lock);
	list_for_each_entry_safe(p, tmp, &pending_upcalls, node) {
		list_del_init(&p->node);
		complete(&p->done);
	}
	spin_unlock_bh(&pending_lock);
	pr_info("drvnucleus: daemon (port %u) went away; upcalls answer -EAGAIN\n",
		n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block drvnucleus_netlink_notifier = {
	.notifier_call = drvnucleus_netlink_event,
};

/* --- the RTL8139 nucleus -------------------------------------------------- */

static void rtl_rxmode_work(struct work_struct *w)
{
	struct drvnucleus_net *n = container_of(w, struct drvnucleus_net, rxmode_work);

	upcall(n->d, DRVXPC_OP_NET_SET_RX_MODE, n->ndev);
}

/* The media check: NET_WATCHDOG every RTL_LINK_PERIOD while the data path
 * runs, and at once on a link-change interrupt; the u-driver reads the MII
 * and answers with NET_CARRIER if the link changed. */
static void rtl_link_work(struct work_struct *w)
{
	struct drvnucleus_net *n = container_of(to_delayed_work(w), struct drvnucleus_net, link_work);

	upcall(n->d, DRVXPC_OP_NET_WATCHDOG, NULL);
	if (READ_ONCE(n->datapath))
		schedule_delayed_work(&n->link_work, RTL_LINK_PERIOD);
}

/*
 * The stack's watchdog found the queue stopped for RTL_TX_TIMEOUT.  As
 * rtl8139_tx_timeout_task: stop the data path and drop what was in flight
 * (rtl8139_tx_clear); the chip restart (rtl8139_hw_start) is the u-driver's,
 * which hands the data path back with DATAPATH_ENABLE.
 */
static void rtl_txto_work(struct work_struct *w)
{
	struct drvnucleus_net *n = container_of(w, struct drvnucleus_net, txto_work);
	unsigned long f;

	combolock_lock(&n->d->cl, &f);
	n->datapath = false;
	n->ndev->stats.tx_dropped += n->cur_tx - n->dirty_tx;
	n->cur_tx = 0;
	n->dirty_tx = 0;
	combolock_unlock(&n->d->cl, f);
	netdev_info(n->ndev, "transmit timed out; the u-driver restarts the transmitter\n");
	upcall(n->d, DRVXPC_OP_NET_TX_TIMEOUT, NULL);
}

static void rtl_tx_timeout(struct net_device *ndev, unsigned int txqueue)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	schedule_work(&n->txto_work);
}

/* The address takes effect in the stack now; the u-driver writes IDR0-5
 * (asynchronously: this runs under rtnl). */
static int rtl_set_mac(struct net_device *ndev, void *p)
{
	struct drvnucleus_net *n = netdev_priv(ndev);
	struct sockaddr *sa = p;

	if (!is_valid_ether_addr(sa->sa_data))
		return -EADDRNOTAVAIL;
	eth_hw_addr_set(ndev, sa->sa_data);
	upcall(n->d, DRVXPC_OP_NET_SET_MAC, ndev);
	return 0;
}

static void rtl_get_drvinfo(struct net_device *ndev, struct ethtool_drvinfo *info)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	strscpy(info->driver, "drvnucleus", sizeof(info->driver));
	strscpy(info->bus_info, pci_name(n->d->pdev), sizeof(info->bus_info));
}

/* What the u-driver last reported with NET_CARRIER: ethtool runs under
 * rtnl, so it is answered from the nucleus, never by an upcall. */
static int rtl_get_link_ksettings(struct net_device *ndev, struct ethtool_link_ksettings *cmd)
{
	struct drvnucleus_net *n = netdev_priv(ndev);
	bool up = netif_carrier_ok(ndev) && READ_ONCE(n->speed);

	cmd->base.speed = up ? READ_ONCE(n->speed) : SPEED_UNKNOWN;
	cmd->base.duplex = up ? (READ_ONCE(n->duplex) ? DUPLEX_FULL : DUPLEX_HALF) : DUPLEX_UNKNOWN;
	cmd->base.port = PORT_MII;
	cmd->base.autoneg = AUTONEG_ENABLE;
	return 0;
}

static const struct ethtool_ops rtl_ethtool_ops = {
	.get_drvinfo		= rtl_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_link_ksettings	= rtl_get_link_ksettings,
};

static int rtl_open(struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	/* The u-driver opens the chip; carrier comes with DATAPATH_ENABLE. */
	netif_carrier_off(ndev);
	upcall(n->d, DRVXPC_OP_NET_OPEN, NULL);
	return 0;
}

static int rtl_stop(struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);
	unsigned long f;

	combolock_lock(&n->d->cl, &f);
	n->datapath = false;
	combolock_unlock(&n->d->cl, f);
	netif_stop_queue(ndev);
	cancel_delayed_work_sync(&n->link_work);
	if (n->napi_on) {
		napi_disable(&n->napi);
		n->napi_on = false;
	}
	upcall(n->d, DRVXPC_OP_NET_STOP, NULL);
	return 0;
}

/* ndo_set_rx_mode runs in atomic context: the upcall goes from a work item. */
static void rtl_set_rx_mode(struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	schedule_work(&n->rxmode_work);
}

/* rtl8139_start_xmit: copy into the slot's buffer, write TxStatus. */
static netdev_tx_t rtl_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	unsigned int entry, len = skb->len;
	unsigned long f;
	u8 *buf;

	if (len > RTL_TX_BUF) {
		ndev->stats.tx_dropped++;
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	if (combolock_lock_atomic(cl, &f)) {
		/* A downcall owns the tx registers: the release wakes us. */
		combolock_defer(cl, COMBO_DEFER_XMIT);
		netif_stop_queue(ndev);
		combolock_unlock(cl, f);
		return NETDEV_TX_BUSY;
	}
	if (!n->datapath || n->cur_tx - n->dirty_tx >= RTL_NUM_TX) {
		netif_stop_queue(ndev);
		combolock_unlock(cl, f);
		return NETDEV_TX_BUSY;
	}
	entry = n->cur_tx % RTL_NUM_TX;
	buf = (u8 *)n->tx->cpu + entry * RTL_TX_BUF;
	skb_copy_and_csum_dev(skb, buf);
	if (len < ETH_ZLEN) {
		memset(buf + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	/* early-tx threshold 256 bytes, as 8139too's tx_flag */
	iowrite32(((256 / 32) << 11 & 0x003f0000) | len, io + 0x10 + entry * 4);
	n->cur_tx++;
	if (n->cur_tx - n->dirty_tx >= RTL_NUM_TX)
		netif_stop_queue(ndev);
	combolock_unlock(cl, f);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

static void rtl_tx_done(struct drvnucleus_net *n)
{
	void __iomem *io = n->d->bar;

	while (n->dirty_tx != n->cur_tx) {
		unsigned int entry = n->dirty_tx % RTL_NUM_TX;
		u32 txs = ioread32(io + 0x10 + entry * 4);

		if (!(txs & (0x8000 | 0x4000 | 0x40000000)))
			break;
		if (txs & 0x8000) {
			n->ndev->stats.tx_packets++;
			n->ndev->stats.tx_bytes += txs & 0x1fff;
		} else {
			n->ndev->stats.tx_errors++;
		}
		n->dirty_tx++;
	}
	if (netif_queue_stopped(n->ndev) && n->cur_tx - n->dirty_tx < RTL_NUM_TX)
		netif_wake_queue(n->ndev);
}

/* rtl8139_interrupt: not mine → IRQ_NONE; rx to NAPI, tx reaped here. */
static irqreturn_t rtl_interrupt(int irq, void *data)
{
	struct drvnucleus_net *n = data;
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	unsigned long f;
	u16 status, mask;

	if (combolock_lock_atomic(cl, &f)) {
		/* The status registers are a downcall's until it ends: hold
		 * the line off (it stays asserted) and take it at release. */
		combolock_defer(cl, COMBO_DEFER_IRQ);
		disable_irq_nosync(irq);
		combolock_unlock(cl, f);
		return IRQ_HANDLED;
	}
	status = ioread16(io + 0x3e);
	mask = ioread16(io + 0x3c);
	if (!(status & mask) || status == 0xffff || !n->datapath) {
		combolock_unlock(cl, f);
		return IRQ_NONE;
	}
	iowrite16(status & ~RTL_RX_ACK, io + 0x3e);
	if (status & RTL_RX_ACK) {
		iowrite16(mask & ~RTL_RX_ACK, io + 0x3c);
		napi_schedule(&n->napi);
	}
	if (status & (0x04 | 0x08))
		rtl_tx_done(n);
	if (status & RTL_LINK_CHG)
		mod_delayed_work(system_wq, &n->link_work, 0);
	combolock_unlock(cl, f);
	return IRQ_HANDLED;
}

/* rtl8139_rx: walk the ring from cur_rx until RxBufEmpty. */
static int rtl_poll(struct napi_struct *napi, int budget)
{
	struct drvnucleus_net *n = container_of(napi, struct drvnucleus_net, napi);
	struct combolock *cl = &n->d->cl;
	void __iomem *io = n->d->bar;
	u8 *ring = n->rx->cpu;
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
		if (taken && gen == n->rx_gen) {
			n->cur_rx = next;
			n->capr_stale = true;
		}
		taken = false;
		if (n->capr_stale) {
			iowrite16((u16)(n->cur_rx - 16), io + 0x38);
			n->capr_stale = false;
		}
		gen = n->rx_gen;
		cur = n->cur_rx;
		empty = ioread8(io + 0x37) & 0x01;
		combolock_unlock(cl, f);
		if (empty)
			break;
		off = cur % RTL_RX_RING;
		status = le16_to_cpu(*(__le16 *)(ring + off));
		size = le16_to_cpu(*(__le16 *)(ring + off + 2));
		len = size - 4;
		if (!(status & 0x01) || len < ETH_ZLEN - 4 || len > 1518 ||
		    off + 4 + len > n->rx->size) {
			n->ndev->stats.rx_errors++;
			break;
		}
		skb = napi_alloc_skb(napi, len);
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
	if (taken && gen == n->rx_gen) {
		n->cur_rx = next;
		n->capr_stale = true;
	}
	if (n->capr_stale) {
		iowrite16((u16)(n->cur_rx - 16), io + 0x38);
		n->capr_stale = false;
	}
	iowrite16(RTL_RX_ACK, io + 0x3e);
	if (work < budget && napi_complete_done(napi, work))
		iowrite16(ioread16(io + 0x3c) | RTL_RX_ACK, io + 0x3c);
	combolock_unlock(cl, f);
	return work;

deferred:
	/* Stop polling until the downcall is over; its release reschedules
	 * us, and CAPR is written then for the packet already taken.  A full
	 * budget may not complete: the core polls again. */
	if (taken && gen == n->rx_gen) {
		n->cur_rx = next;
		n->capr_stale = true;
	}
	combolock_defer(cl, COMBO_DEFER_NAPI);
	combolock_unlock(cl, f);
	if (work < budget)
		napi_complete_done(napi, work);
	return work;
}

static const struct net_device_ops rtl_netdev_ops = {
	.ndo_open		= rtl_open,		/* upcall */
	.ndo_stop		= rtl_stop,		/* upcall */
	.ndo_start_xmit		= rtl_start_xmit,	/* nucleus */
	.ndo_set_rx_mode	= rtl_set_rx_mode,	/* upcall, from a work item */
	.ndo_set_mac_address	= rtl_set_mac,		/* upcall, not waited for */
	.ndo_tx_timeout		= rtl_tx_timeout,	/* upcall, from a work item */
	.ndo_validate_addr	= eth_validate_addr,
};

static struct drvnucleus_obj *obj_by_role(struct drvnucleus_dev *d, u8 role, u32 min)
{
	struct drvnucleus_obj *o, *found = NULL;

	list_for_each_entry(o, &d->objects, node)
		if (o->role == role && o->size >= min)
			found = o;
	return found;
}

/* NET_REGISTER (the netdev, once), DATAPATH_ENABLE/DISABLE, NET_CARRIER. */
static int net_op(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = d->net;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	unsigned long f;
	int err;

	if (d->class != DRVXPC_CLASS_NET)
		return reply(info, h, -EOPNOTSUPP, 0, "not a network device", 0, false);
	switch (h->op) {
	case DRVXPC_OP_NET_REGISTER: {
		const struct nlattr *mac = find_attr(h, DRVXPC_A_MAC);

		if (!mac || !is_valid_ether_addr(nla_data(mac)))
			return reply(info, h, -EINVAL, DRVXPC_A_MAC, "NET_REGISTER needs a unicast MAC", 0, false);
		if (!n) {
			struct net_device *ndev = alloc_etherdev(sizeof(*n));

			if (!ndev)
				return -ENOMEM;
			n = netdev_priv(ndev);
			n->ndev = ndev;
			n->d = d;
			INIT_WORK(&n->rxmode_work, rtl_rxmode_work);
			INIT_DELAYED_WORK(&n->link_work, rtl_link_work);
			INIT_WORK(&n->txto_work, rtl_txto_work);
			SET_NETDEV_DEV(ndev, &d->pdev->dev);
			ndev->netdev_ops = &rtl_netdev_ops;
			ndev->ethtool_ops = &rtl_ethtool_ops;
			ndev->watchdog_timeo = RTL_TX_TIMEOUT;
			eth_hw_addr_set(ndev, nla_data(mac));
			netif_napi_add(ndev, &n->napi, rtl_poll);
			netif_carrier_off(ndev);
			err = register_netdev(ndev);
			if (err) {
				netif_napi_del(&n->napi);
				free_netdev(ndev);
				return reply(info, h, err, 0, "register_netdev failed", 0, false);
			}
			d->net = n;
			dev_info(&d->pdev->dev, "%s registered for the u-driver\n", ndev->name);
		}
		skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
			      h->instance, 0, &rh);
		if (!skb || nla_put_string(skb, DRVXPC_A_IFNAME, n->ndev->name)) {
			if (skb)
				nlmsg_free(skb);
			return -EMSGSIZE;
		}
		msg_end(skb, rh);
		return genlmsg_reply(skb, info);
	}
	case DRVXPC_OP_DATAPATH_ENABLE: {
		struct drvnucleus_obj *rx = obj_by_role(d, DRVXPC_ROLE_RX_RING, RTL_RX_RING + 16);
		struct drvnucleus_obj *tx = obj_by_role(d, DRVXPC_ROLE_TX_BUFFERS, RTL_NUM_TX * RTL_TX_BUF);

		if (!n)
			return reply(info, h, -ENODEV, 0, "no netdev registered", 0, false);
		if (!rx || !tx)
			return reply(info, h, -ENOENT, DRVXPC_A_OBJECT_ROLE, "no RX_RING / TX_BUFFERS of the right size", 0, false);
		/* Rings first: an interrupt already pending on the shared line
		 * must find a data path to serve, not be refused as not mine. */
		combolock_lock(&d->cl, &f);
		n->rx = rx;
		n->tx = tx;
		rx->pinned = true;
		tx->pinned = true;
		if (!(h->flags & DRVXPC_F_REATTACH)) {
			n->cur_tx = 0;
			n->dirty_tx = 0;
			n->cur_rx = 0;
			n->capr_stale = false;
		}
		n->datapath = true;
		combolock_unlock(&d->cl, f);
		if (!n->irq) {
			err = request_irq(d->pdev->irq, rtl_interrupt, IRQF_SHARED, n->ndev->name, n);
			if (err) {
				combolock_lock(&d->cl, &f);
				n->datapath = false;
				combolock_unlock(&d->cl, f);
				return reply(info, h, err, 0, "request_irq failed", 0, false);
			}
			n->irq = true;
		}
		if (!n->napi_on) {
			napi_enable(&n->napi);
			n->napi_on = true;
		}
		netif_wake_queue(n->ndev);
		mod_delayed_work(system_wq, &n->link_work, RTL_LINK_PERIOD);
		return reply(info, h, 0, 0, NULL, 0, false);
	}
	case DRVXPC_OP_DATAPATH_DISABLE:
		if (n) {
			combolock_lock(&d->cl, &f);
			n->datapath = false;
			combolock_unlock(&d->cl, f);
			netif_stop_queue(n->ndev);
		}
		return reply(info, h, 0, 0, NULL, 0, false);
	case DRVXPC_OP_NET_CARRIER: {
		const struct nlattr *up = find_attr(h, DRVXPC_A_LINK_UP);
		const struct nlattr *speed = find_attr(h, DRVXPC_A_LINK_SPEED);
		const struct nlattr *duplex = find_attr(h, DRVXPC_A_LINK_DUPLEX);

		if (!n || !up)
			return reply(info, h, -EINVAL, DRVXPC_A_LINK_UP, "no netdev or no LINK_UP", 0, false);
		if (speed && nla_get_u32(speed) != 10 && nla_get_u32(speed) != 100)
			return reply(info, h, -ERANGE, DRVXPC_A_LINK_SPEED, "an RTL8139 runs at 10 or 100 Mbit/s", 0, false);
		if (speed)
			WRITE_ONCE(n->speed, nla_get_u32(speed));
		if (duplex)
			WRITE_ONCE(n->duplex, nla_get_u8(duplex));
		if (nla_get_u8(up))
			netif_carrier_on(n->ndev);
		else
			netif_carrier_off(n->ndev);
		return reply(info, h, 0, 0, NULL, 0, false);
	}
	}
	return reply(info, h, -EOPNOTSUPP, 0, "operation not supported by drvnucleus", 0, false);
}

/*
 * QUIESCE: the daemon gave up on the u-driver.  The data path stops (no
 * carrier, no queue; the DAC and its stream stopped) and the interfaces
 * stay registered; a started u-driver (drvctl reset-failed/start) brings
 * them back with NET_CARRIER/DATAPATH_ENABLE, prepare and trigger.
 */
static int quiesce(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = d->net;
	unsigned long f;

	if (n) {
		combolock_lock(&d->cl, &f);
		n->datapath = false;
		combolock_unlock(&d->cl, f);
		netif_stop_queue(n->ndev);
		netif_carrier_off(n->ndev);
	}
	es1370_quiesce(d);
	dev_info(&d->pdev->dev, "quiesced: the u-driver was given up on\n");
	return reply(info, h, 0, 0, NULL, 0, false);
}

/* Tears down a netdev already detached from its device (no downcall can
 * reach it any more). */
static void net_remove(struct drvnucleus_dev *d, struct drvnucleus_net *n)
{
	unregister_netdev(n->ndev);
	cancel_work_sync(&n->rxmode_work);
	cancel_work_sync(&n->txto_work);
	cancel_delayed_work_sync(&n->link_work);
	if (n->irq)
		free_irq(d->pdev->irq, n);
	netif_napi_del(&n->napi);
	free_netdev(n->ndev);
}

/* --- the one command: a drvxpc message ---------------------------------- */

static struct drvnucleus_dev *find_dev(u32 instance)
{
	int i;

	for (i = 0; i < DRVNUCLEUS_MAX_DEVICES; i++)
		if (devices[i] && devices[i]->instance == instance)
			return devices[i];
	return NULL;
}

static struct drvnucleus_obj *find_obj(struct drvnucleus_dev *d, u32 id)
{
	struct drvnucleus_obj *o;

	list_for_each_entry(o, &d->objects, node)
		if (o->id == id)
			return o;
	return NULL;
}

struct drvnucleus_obj *drvnucleus_obj_alloc(struct drvnucleus_dev *d, u32 size,
					    u8 role)
{
	struct drvnucleus_obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return NULL;
	o->size = size;
	o->role = role;
	o->cpu = dma_alloc_coherent(&d->pdev->dev, size, &o->dma, GFP_KERNEL);
	if (!o->cpu) {
		kfree(o);
		return NULL;
	}
	o->id = next_object_id++;
	list_add_tail(&o->node, &d->objects);
	atomic_inc(&live_objects);
	return o;
}

void drvnucleus_obj_free(struct drvnucleus_dev *d, struct drvnucleus_obj *o)
{
	list_del(&o->node);
	dma_free_coherent(&d->pdev->dev, o->size, o->cpu, o->dma);
	kfree(o);
	atomic_dec(&live_objects);
}

int drvnucleus_reply(struct genl_info *info, const struct drvxpc_hdr *req,
		     s32 status, u16 bad_attr, const char *why)
{
	return reply(info, req, status, bad_attr, why, 0, false);
}

const struct nlattr *drvnucleus_attr(const struct drvxpc_hdr *h, u16 type)
{
	return find_attr(h, type);
}

/*
 * The ComboLock's release (process context, after a downcall that held it):
 * redo what the data path left.  The netdev cannot go meanwhile: removal
 * detaches the device under drvnucleus_lock, which the downcall holds.
 */
static void datapath_release(void *arg, unsigned long deferred)
{
	struct drvnucleus_dev *d = arg;
	struct drvnucleus_net *n = d->net;

	if (deferred & COMBO_DEFER_IRQ)
		enable_irq(d->pdev->irq);
	if (n && (deferred & COMBO_DEFER_XMIT))
		netif_wake_queue(n->ndev);
	if (n && (deferred & COMBO_DEFER_NAPI)) {
		local_bh_disable();
		napi_schedule(&n->napi);
		local_bh_enable();
	}
}

/* Registers the class's data path writes: a downcall that touches one
 * holds the device's ComboLock while it runs. */
static bool datapath_reg(struct drvnucleus_dev *d, u32 off, u32 width)
{
	u32 end = off + width;

	if (d->class == DRVXPC_CLASS_NET)	/* TxStatus0-3, ChipCmd, CAPR, IMR, ISR, RxConfig */
		return (off < 0x20 && end > 0x10) || (off < 0x3a && end > 0x37) ||
		       (off < 0x40 && end > 0x3c) || (off < 0x48 && end > 0x44);
	/* ES137x: CONTROL, MEM_PAGE, SERIAL, the paged frame registers */
	return off < 0x04 || (off < 0x10 && end > 0x0c) ||
	       (off < 0x24 && end > 0x20) || end > 0x30;
}

/*
 * After a downcall that held the lock (still held in user mode): a write
 * to RxConfig rewinds QEMU's receive ring (rtl8139_RxConfig_write resets
 * the buffer pointers; real chips keep them), so the nucleus takes the
 * ring position from the chip: CAPR + 16 is where the next packet starts
 * either way.
 */
static void datapath_resync(struct drvnucleus_dev *d, bool wrote_rxconfig)
{
	struct drvnucleus_net *n = d->net;
	unsigned long f;

	if (!n || !wrote_rxconfig)
		return;
	spin_lock_irqsave(&d->cl.spin, f);
	n->cur_rx = (u16)(ioread16(d->bar + 0x38) + 16);
	n->capr_stale = false;
	n->rx_gen++;
	spin_unlock_irqrestore(&d->cl.spin, f);
}

/* Bounds and alignment of a register access; 0 or a negative errno. */
static int check_target(struct drvnucleus_dev *d, u32 off, u32 width)
{
	if (width != 1 && width != 2 && width != 4)
		return -EINVAL;
	if ((u64)off + width > d->bar_len)
		return -EACCES;
	return off % width ? -EINVAL : 0;
}

/* Offset and width from a REG_OP's (or a message's) attributes: 0 or a
 * negative errno with *bad naming the attribute. */
static int reg_target(struct drvnucleus_dev *d, const struct nlattr *head, int len,
		      u32 *off, u32 *width, u16 *bad)
{
	const struct nlattr *o = nla_find(head, len, DRVXPC_A_REG_OFFSET);
	const struct nlattr *w = nla_find(head, len, DRVXPC_A_REG_WIDTH);

	int err;

	*width = w ? nla_get_u8(w) : 4;
	*bad = DRVXPC_A_REG_OFFSET;
	if (!o)
		return -EINVAL;
	*off = nla_get_u32(o);
	err = check_target(d, *off, *width);
	if (err && *width != 1 && *width != 2 && *width != 4)
		*bad = DRVXPC_A_REG_WIDTH;
	else if (!err)
		*bad = 0;
	return err;
}

static u32 rd(struct drvnucleus_dev *d, u32 off, u32 width)
{
	if (width == 1)
		return ioread8(d->bar + off);
	if (width == 2)
		return ioread16(d->bar + off);
	return ioread32(d->bar + off);
}

static void wr(struct drvnucleus_dev *d, u32 off, u32 width, u32 v)
{
	if (width == 1)
		iowrite8(v, d->bar + off);
	else if (width == 2)
		iowrite16(v, d->bar + off);
	else
		iowrite32(v, d->bar + off);
}

/* One REG_SEQ step, from either form (nested REG_OP or packed slot). */
struct regstep {
	u8 kind;
	u32 off, width, value, mask, wait;
};

/* The nested form: REG_SEQ holding REG_OP attributes. */
static int parse_nested(struct drvnucleus_dev *d, const struct nlattr *seq,
			struct regstep *st, int *count, u16 *bad)
{
	const struct nlattr *op;
	int rem, n = 0, err;

	nla_for_each_nested(op, seq, rem) {
		const struct nlattr *a = nla_data(op);
		int alen = nla_len(op);
		const struct nlattr *k = nla_find(a, alen, DRVXPC_A_REG_OP_KIND);
		const struct nlattr *v = nla_find(a, alen, DRVXPC_A_REG_VALUE);
		const struct nlattr *m = nla_find(a, alen, DRVXPC_A_REG_MASK);
		const struct nlattr *us = nla_find(a, alen, DRVXPC_A_DELAY_US);
		struct regstep *s = &st[n];

		if (nla_type(op) != DRVXPC_A_REG_OP || n == DRVXPC_SEQ_MAX_OPS) {
			*bad = DRVXPC_A_REG_SEQ;
			return -E2BIG;
		}
		s->kind = k ? nla_get_u8(k) : 0;
		s->value = v ? nla_get_u32(v) : 0;
		s->mask = m ? nla_get_u32(m) : ~0U;
		s->wait = min_t(u32, us ? nla_get_u32(us) : 1000, DRVXPC_DELAY_MAX_US);
		n++;
		if (s->kind == DRVXPC_REGOP_DELAY)
			continue;
		if (s->kind < DRVXPC_REGOP_READ || s->kind > DRVXPC_REGOP_POLL) {
			*bad = DRVXPC_A_REG_OP_KIND;
			return -EINVAL;
		}
		if (s->kind == DRVXPC_REGOP_WRITE && !v) {
			*bad = DRVXPC_A_REG_VALUE;
			return -EINVAL;
		}
		err = reg_target(d, a, alen, &s->off, &s->width, bad);
		if (err)
			return err;
	}
	*count = n;
	return 0;
}

/* The packed form: REG_STEPS, 8-byte slots (struct drvxpc_regstep); a
 * POLL's mask is the value of the slot after it. */
static int parse_packed(struct drvnucleus_dev *d, const struct nlattr *steps,
			struct regstep *st, int *count, u16 *bad)
{
	const struct drvxpc_regstep *slot = nla_data(steps);
	int slots = nla_len(steps) / sizeof(*slot), i, n = 0, err;

	*bad = DRVXPC_A_REG_STEPS;
	if (nla_len(steps) % sizeof(*slot))
		return -EINVAL;
	for (i = 0; i < slots; i++, n++) {
		struct regstep *s = &st[n];

		if (n == DRVXPC_SEQ_MAX_OPS)
			return -E2BIG;
		s->kind = slot[i].kind;
		s->off = slot[i].offset;
		s->width = slot[i].width;
		s->value = slot[i].value;
		s->mask = ~0U;
		s->wait = 1000;
		if (s->kind == DRVXPC_REGOP_DELAY) {
			s->wait = min_t(u32, s->value, DRVXPC_DELAY_MAX_US);
			continue;
		}
		if (s->kind < DRVXPC_REGOP_READ || s->kind > DRVXPC_REGOP_POLL)
			return -EINVAL;
		if (s->kind == DRVXPC_REGOP_POLL) {
			if (++i == slots || slot[i].kind)
				return -EINVAL;
			s->mask = slot[i].value;
		}
		err = check_target(d, s->off, s->width);
		if (err)
			return err;
	}
	*count = n;
	*bad = 0;
	return 0;
}

/*
 * REG_SEQ: every step checked first, then run in order; one result per
 * read or poll.  POLL waits at most its wait (default 1 ms), DELAY at most
 * DRVXPC_DELAY_MAX_US: the caller is a process, never the data path.  A
 * sequence touching a register the data path shares holds the ComboLock
 * in user mode from the first step to the last.
 */
static int reg_seq(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	const struct nlattr *seq = find_attr(h, DRVXPC_A_REG_SEQ);
	const struct nlattr *packed = find_attr(h, DRVXPC_A_REG_STEPS);
	bool shared = false, wrote_rxconfig = false;
	int i, n = 0, count = 0, err;
	struct regstep *st;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	u16 bad = 0;
	u32 *res;

	if (!seq == !packed)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_SEQ, "REG_SEQ needs REG_SEQ or REG_STEPS (one of them)", 0, false);
	st = kcalloc(DRVXPC_SEQ_MAX_OPS, sizeof(*st), GFP_KERNEL);
	res = kcalloc(DRVXPC_SEQ_MAX_OPS, sizeof(u32), GFP_KERNEL);
	if (!st || !res) {
		kfree(st);
		kfree(res);
		return -ENOMEM;
	}
	err = seq ? parse_nested(d, seq, st, &count, &bad)
		  : parse_packed(d, packed, st, &count, &bad);
	if (err)
		goto out_refused;
	for (i = 0; i < count; i++)
		if (st[i].kind != DRVXPC_REGOP_DELAY && datapath_reg(d, st[i].off, st[i].width))
			shared = true;
	if (shared)
		combolock_lock_user(&d->cl);
	for (i = 0; i < count; i++) {
		struct regstep *s = &st[i];
		u32 waited = 0, x;

		switch (s->kind) {
		case DRVXPC_REGOP_DELAY:
			fsleep(s->wait);
			break;
		case DRVXPC_REGOP_READ:
			res[n++] = rd(d, s->off, s->width);
			break;
		case DRVXPC_REGOP_WRITE:
			wr(d, s->off, s->width, s->value);
			wrote_rxconfig |= d->class == DRVXPC_CLASS_NET &&
					  s->off < 0x48 && s->off + s->width > 0x44;
			break;
		case DRVXPC_REGOP_POLL:
			while (((x = rd(d, s->off, s->width)) & s->mask) != s->value &&
			       waited < s->wait) {
				udelay(10);
				waited += 10;
			}
			if ((x & s->mask) != s->value) {
				err = -ETIMEDOUT;
				bad = seq ? DRVXPC_A_REG_OP : DRVXPC_A_REG_STEPS;
			} else {
				res[n++] = x;
			}
			break;
		}
		if (err)
			break;
	}
	if (shared) {
		datapath_resync(d, wrote_rxconfig);
		combolock_unlock_user(&d->cl);
	}
	if (err)
		goto out_refused;
	kfree(st);
	skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
		      h->instance, 0, &rh);
	if (!skb || (n && nla_put(skb, DRVXPC_A_REG_RESULTS, n * sizeof(u32), res))) {
		kfree(res);
		if (skb)
			nlmsg_free(skb);
		return -EMSGSIZE;
	}
	kfree(res);
	msg_end(skb, rh);
	return genlmsg_reply(skb, info);

out_refused:
	kfree(st);
	kfree(res);
	return reply(info, h, err, bad, "REG_SEQ step refused", 0, false);
}

static int dma_op(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	const struct nlattr *size_a = find_attr(h, DRVXPC_A_DMA_SIZE);
	const struct nlattr *role_a = find_attr(h, DRVXPC_A_OBJECT_ROLE);
	const struct nlattr *handle_a = find_attr(h, DRVXPC_A_DMA_HANDLE);
	const struct nlattr *off_a = find_attr(h, DRVXPC_A_DMA_OFFSET);
	struct drvnucleus_obj *o;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	u32 off, width, doff;
	u16 bad;
	int err;

	if (h->op == DRVXPC_OP_DMA_ALLOC) {
		if (!size_a)
			return reply(info, h, -EINVAL, DRVXPC_A_DMA_SIZE, "missing DMA_SIZE", 0, false);
		o = drvnucleus_obj_alloc(d, nla_get_u32(size_a),
					 role_a ? nla_get_u8(role_a) : 0);
		if (!o)
			return reply(info, h, -ENOMEM, DRVXPC_A_DMA_SIZE, "cannot allocate DMA memory", 0, false);
		skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
			      h->instance, 0, &rh);
		if (!skb || nla_put_u32(skb, DRVXPC_A_DMA_HANDLE, o->id)) {
			if (skb)
				nlmsg_free(skb);
			return -EMSGSIZE;
		}
		msg_end(skb, rh);
		return genlmsg_reply(skb, info);
	}
	o = handle_a ? find_obj(d, nla_get_u32(handle_a)) : NULL;
	if (!o)
		return reply(info, h, -ENOENT, DRVXPC_A_DMA_HANDLE, "no such DMA handle for this device", 0, false);
	if (h->op == DRVXPC_OP_DMA_FREE) {
		if (o->pinned)
			return reply(info, h, -EBUSY, DRVXPC_A_DMA_HANDLE, "buffer in use by the nucleus's data path", 0, false);
		drvnucleus_obj_free(d, o);
		return reply(info, h, 0, 0, NULL, 0, false);
	}
	/* REG_WRITE_DMA: the bus address never leaves the kernel. */
	err = reg_target(d, (const void *)(h + 1), h->len - sizeof(*h), &off, &width, &bad);
	if (err)
		return reply(info, h, err, bad, "register refused", 0, false);
	if (width != 4)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_WIDTH, "DMA addresses are 32-bit registers", 0, false);
	doff = off_a ? nla_get_u32(off_a) : 0;
	if (doff >= o->size)
		return reply(info, h, -ERANGE, DRVXPC_A_DMA_OFFSET, "offset past the buffer", 0, false);
	if (upper_32_bits(o->dma + doff))
		return reply(info, h, -ERANGE, DRVXPC_A_DMA_HANDLE, "buffer above 4 GiB", 0, false);
	if (datapath_reg(d, off, width)) {
		combolock_lock_user(&d->cl);
		iowrite32(lower_32_bits(o->dma + doff), d->bar + off);
		combolock_unlock_user(&d->cl);
	} else {
		iowrite32(lower_32_bits(o->dma + doff), d->bar + off);
	}
	return reply(info, h, 0, 0, NULL, 0, false);
}

static int device_info(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	struct drvnucleus_obj *o;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;

	skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
		      h->instance, 0, &rh);
	if (!skb)
		return -ENOMEM;
	if (nla_put_u16(skb, DRVXPC_A_PCI_VENDOR, d->pdev->vendor) ||
	    nla_put_u16(skb, DRVXPC_A_PCI_DEVICE, d->pdev->device) ||
	    nla_put_string(skb, DRVXPC_A_PCI_SLOT, pci_name(d->pdev)))
		goto err_size;
	if (d->class == DRVXPC_CLASS_NET && d->bar_len >= 0x48) {
		/* What the u-driver programmed, read back from the chip:
		 * IDR0-5, RxConfig, MAR0-7; and the netdev's own state. */
		u8 mac[ETH_ALEN];
		u64 mar = (u64)ioread32(d->bar + 0x0c) << 32 | ioread32(d->bar + 0x08);
		int i;

		for (i = 0; i < ETH_ALEN; i++)
			mac[i] = ioread8(d->bar + i);
		if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, mac) ||
		    nla_put_u32(skb, DRVXPC_A_RX_CONFIG, ioread32(d->bar + 0x44)) ||
		    nla_put_u64_64bit(skb, DRVXPC_A_MC_FILTER, mar, 0))
			goto err_size;
		if (d->net) {
			struct net_device *nd = d->net->ndev;

			if (nla_put_string(skb, DRVXPC_A_IFNAME, nd->name) ||
			    nla_put_u8(skb, DRVXPC_A_LINK_UP, netif_carrier_ok(nd)) ||
			    nla_put_u8(skb, DRVXPC_A_DATAPATH_ON, READ_ONCE(d->net->datapath)) ||
			    nla_put_u64_64bit(skb, DRVXPC_A_STAT_RX_PACKETS, nd->stats.rx_packets, 0) ||
			    nla_put_u64_64bit(skb, DRVXPC_A_STAT_TX_PACKETS, nd->stats.tx_packets, 0) ||
			    nla_put_u64_64bit(skb, DRVXPC_A_STAT_RX_BYTES, nd->stats.rx_bytes, 0) ||
			    nla_put_u64_64bit(skb, DRVXPC_A_STAT_TX_BYTES, nd->stats.tx_bytes, 0))
				goto err_size;
		}
	}
	if (d->class == DRVXPC_CLASS_SOUND && es1370_info(skb, d))
		goto err_size;
	if (nla_put_u64_64bit(skb, DRVXPC_A_COMBO_USER_HOLDS, READ_ONCE(d->cl.user_holds), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_COMBO_DEFERRALS, READ_ONCE(d->cl.deferrals), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_XPC_BYTES, atomic64_read(&xpc_bytes[d->instance]), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_XPC_MESSAGES, atomic64_read(&xpc_msgs[d->instance]), 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_XPC_REGIO_BYTES, atomic64_read(&xpc_regio_bytes[d->instance]), 0))
		goto err_size;
	list_for_each_entry(o, &d->objects, node) {
		struct nlattr *n = nla_nest_start(skb, DRVXPC_A_OBJECT);

		if (!n || nla_put_u32(skb, DRVXPC_A_OBJECT_ID, o->id) ||
		    nla_put_u8(skb, DRVXPC_A_OBJECT_KIND, DRVXPC_OBJ_DMA) ||
		    nla_put_u8(skb, DRVXPC_A_OBJECT_ROLE, o->role) ||
		    nla_put_u32(skb, DRVXPC_A_DMA_SIZE, o->size))
			goto err_size;
		nla_nest_end(skb, n);
	}
	msg_end(skb, rh);
	return genlmsg_reply(skb, info);

err_size:
	nlmsg_free(skb);
	return -EMSGSIZE;
}

/* REG_READ / REG_WRITE: the same target checks as each REG_SEQ step. */
static int reg_access(struct genl_info *info, const struct drvxpc_hdr *h, struct drvnucleus_dev *d)
{
	const struct nlattr *v = find_attr(h, DRVXPC_A_REG_VALUE);
	u32 off, width, val = 0;
	bool shared;
	u16 bad;
	int err;

	err = reg_target(d, (const void *)(h + 1), h->len - sizeof(*h), &off, &width, &bad);
	if (err)
		return reply(info, h, err, bad, "register refused", 0, false);
	if (h->op == DRVXPC_OP_REG_WRITE && !v)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_VALUE, "missing REG_VALUE", 0, false);
	shared = datapath_reg(d, off, width);
	if (shared)
		combolock_lock_user(&d->cl);
	if (h->op == DRVXPC_OP_REG_READ)
		val = rd(d, off, width);
	else
		wr(d, off, width, nla_get_u32(v));
	if (shared) {
		datapath_resync(d, h->op == DRVXPC_OP_REG_WRITE && d->class == DRVXPC_CLASS_NET &&
				off < 0x48 && off + width > 0x44);
		combolock_unlock_user(&d->cl);
	}
	return reply(info, h, 0, 0, NULL, val, h->op == DRVXPC_OP_REG_READ);
}

/*
 * SIM_CONTROL with SIM_ACTION PING: COUNT null upcalls (PING) to the
 * instance's u-driver, one after the other, each timed from send to reply
 * (kernel -> daemon -> u-driver -> daemon -> kernel); SAMPLES_NS back.
 */
static int ping_round_trips(struct genl_info *info, const struct drvxpc_hdr *h)
{
	const struct nlattr *act = find_attr(h, DRVXPC_A_SIM_ACTION);
	const struct nlattr *cnt = find_attr(h, DRVXPC_A_COUNT);
	struct drvnucleus_dev *d;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	u32 *ns, i, count;
	int err = 0;

	if (!act || nla_get_u8(act) != DRVXPC_SIM_PING)
		return reply(info, h, -EOPNOTSUPP, DRVXPC_A_SIM_ACTION, "drvnucleus serves SIM_ACTION PING only", 0, false);
	if (!cnt)
		return reply(info, h, -EINVAL, DRVXPC_A_COUNT, "PING needs COUNT", 0, false);
	count = nla_get_u32(cnt);
	mutex_lock(&drvnucleus_lock);
	d = find_dev(h->instance);
	mutex_unlock(&drvnucleus_lock);
	if (!d)
		return reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
	ns = kcalloc(count, sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < count && !err; i++) {
		struct drvxpc_hdr *uh;
		struct sk_buff *u = drvnucleus_upcall_new(d, DRVXPC_OP_PING, &uh);
		u64 t0 = ktime_get_ns();

		err = u ? drvnucleus_upcall_wait(u, uh, NULL) : -EAGAIN;
		ns[i] = min_t(u64, ktime_get_ns() - t0, U32_MAX);
	}
	if (err) {
		kfree(ns);
		return reply(info, h, err, 0, "a PING upcall failed", 0, false);
	}
	skb = msg_new(info->snd_portid, info->snd_seq, h->op, DRVXPC_F_REPLY, h->seq,
		      h->instance, 0, &rh);
	if (!skb || nla_put(skb, DRVXPC_A_SAMPLES_NS, count * sizeof(*ns), ns)) {
		kfree(ns);
		if (skb)
			nlmsg_free(skb);
		return -EMSGSIZE;
	}
	kfree(ns);
	msg_end(skb, rh);
	return genlmsg_reply(skb, info);
}

static int drvnucleus_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct drvxpc_hdr *h = genlmsg_data(info->genlhdr);
	int len = genlmsg_len(info->genlhdr);
	u16 bad = 0;
	int r, i;

	if (len < (int)sizeof(*h) || h->len != len) {
		pr_warn_ratelimited("drvnucleus: message length %d does not match its header\n", len);
		return -EINVAL;
	}
	if (!drvxpc_op_name(h->op) || (h->flags & ~DRVXPC_F_ALL) ||
	    hweight16(h->flags & (DRVXPC_F_REQUEST | DRVXPC_F_REPLY | DRVXPC_F_NOTIFY)) != 1)
		return reply(info, h, -EPROTO, 0, "unknown op or bad flags", 0, false);
	r = validate_attrs((const void *)(h + 1), len - sizeof(*h), 0, &bad);
	if (r)
		return reply(info, h, r, bad, "malformed attribute", 0, false);
	count_xpc(h);
	if (h->flags & DRVXPC_F_REPLY) {
		upcall_answered(info, h);
		return 0;
	}
	if (!(h->flags & DRVXPC_F_REQUEST))
		return 0;

	mutex_lock(&drvnucleus_lock);
	switch (h->op) {
	case DRVXPC_OP_REGISTER:
		daemon_portid = info->snd_portid;
		daemon_net = genl_info_net(info);
		r = reply(info, h, 0, 0, NULL, 0, false);
		for (i = 0; i < DRVNUCLEUS_MAX_DEVICES; i++)
			if (devices[i])
				announce(devices[i]);
		break;
	case DRVXPC_OP_SIM_CONTROL:
		/* Sleeps on upcalls: never with the lock held. */
		mutex_unlock(&drvnucleus_lock);
		return ping_round_trips(info, h);
	case DRVXPC_OP_REG_READ:
	case DRVXPC_OP_REG_WRITE:
	case DRVXPC_OP_REG_SEQ:
	case DRVXPC_OP_DMA_ALLOC:
	case DRVXPC_OP_DMA_FREE:
	case DRVXPC_OP_REG_WRITE_DMA:
	case DRVXPC_OP_DEVICE_INFO:
	case DRVXPC_OP_NET_REGISTER:
	case DRVXPC_OP_DATAPATH_ENABLE:
	case DRVXPC_OP_DATAPATH_DISABLE:
	case DRVXPC_OP_NET_CARRIER:
	case DRVXPC_OP_SND_REGISTER:
	case DRVXPC_OP_QUIESCE: {
		struct drvnucleus_dev *d = find_dev(h->instance);

		/* Reading status is for any admin; changing the device is
		 * the registered daemon's alone. */
		if (info->snd_portid != daemon_portid && h->op != DRVXPC_OP_DEVICE_INFO) {
			r = reply(info, h, -EPERM, 0, "only the registered daemon", 0, false);
			break;
		}
		if (!d) {
			r = reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
			break;
		}
		if (h->op == DRVXPC_OP_REG_SEQ)
			r = reg_seq(info, h, d);
		else if (h->op == DRVXPC_OP_DEVICE_INFO)
			r = device_info(info, h, d);
		else if (h->op == DRVXPC_OP_REG_READ || h->op == DRVXPC_OP_REG_WRITE)
			r = reg_access(info, h, d);
		else if (h->op == DRVXPC_OP_DMA_ALLOC || h->op == DRVXPC_OP_DMA_FREE ||
			 h->op == DRVXPC_OP_REG_WRITE_DMA)
			r = dma_op(info, h, d);
		else if (h->op == DRVXPC_OP_SND_REGISTER)
			r = es1370_op(info, h, d);
		else if (h->op == DRVXPC_OP_QUIESCE)
			r = quiesce(info, h, d);
		else
			r = net_op(info, h, d);
		break;
	}
	default:
		r = reply(info, h, -EOPNOTSUPP, 0, "operation not supported by drvnucleus", 0, false);
		break;
	}
	mutex_unlock(&drvnucleus_lock);
	return r;
}

static const struct genl_small_ops drvnucleus_ops[] = {
	{
		.cmd	= DRVXPC_GENL_CMD_MSG,
		.flags	= GENL_ADMIN_PERM,
		.doit	= drvnucleus_doit,
	},
};

static struct genl_family drvnucleus_family __ro_after_init = {
	.name		= DRVXPC_GENL_NAME,
	.version	= DRVXPC_GENL_VERSION,
	.hdrsize	= sizeof(struct drvxpc_hdr),
	.maxattr	= 0,	/* the drvxpc validator above checks attributes */
	.module		= THIS_MODULE,
	/* Upcall waiters sleep while the reply comes in through doit on the
	 * daemon's socket: no family-wide mutex, drvnucleus_lock instead. */
	.parallel_ops	= true,
	.small_ops	= drvnucleus_ops,
	.n_small_ops	= ARRAY_SIZE(drvnucleus_ops),
	.resv_start_op	= DRVXPC_GENL_CMD_MSG + 1,
};

/* --- PCI --------------------------------------------------------------- */

static const struct pci_device_id drvnucleus_ids[] = {
	{ PCI_DEVICE(0x10ec, 0x8139), .driver_data = DRVXPC_CLASS_NET },
	{ PCI_DEVICE(0x1274, 0x5000), .driver_data = DRVXPC_CLASS_SOUND },
	/* ES1371: bound like the ES1370, untested (QEMU has no ES1371). */
	{ PCI_DEVICE(0x1274, 0x1371), .driver_data = DRVXPC_CLASS_SOUND },
	{ }
};
MODULE_DEVICE_TABLE(pci, drvnucleus_ids);

static int drvnucleus_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct drvnucleus_dev *d;
	int bar, slot, err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	err = pci_enable_device(pdev);
	if (err)
		goto err_free;
	err = pci_request_regions(pdev, "drvnucleus");
	if (err)
		goto err_disable;
	/* RTL8139: BAR 1 is MMIO (8139too's default); ES137x: BAR 0, I/O. */
	bar = (pdev->vendor == 0x10ec && pci_resource_len(pdev, 1)) ? 1 : 0;
	d->bar = pci_iomap(pdev, bar, 0);
	if (!d->bar) {
		err = -EIO;
		goto err_regions;
	}
	d->bar_len = pci_resource_len(pdev, bar);
	d->pdev = pdev;
	d->class = id->driver_data;
	INIT_LIST_HEAD(&d->objects);
	combolock_init(&d->cl, datapath_release, d);
	/* Both chips take 32-bit bus addresses (RxBuf, TxAddr, DAC2 frame). */
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (err)
		goto err_unmap;
	pci_set_master(pdev);

	mutex_lock(&drvnucleus_lock);
	for (slot = 0; slot < DRVNUCLEUS_MAX_DEVICES && devices[slot]; slot++)
		;
	if (slot == DRVNUCLEUS_MAX_DEVICES) {
		mutex_unlock(&drvnucleus_lock);
		err = -ENOSPC;
		goto err_unmap;
	}
	d->instance = slot + 1;
	devices[slot] = d;
	atomic64_set(&xpc_bytes[d->instance], 0);
	atomic64_set(&xpc_msgs[d->instance], 0);
	atomic64_set(&xpc_regio_bytes[d->instance], 0);
	announce(d);
	mutex_unlock(&drvnucleus_lock);
	pci_set_drvdata(pdev, d);
	dev_info(&pdev->dev, "drvnucleus instance %u, BAR %d (%u bytes)\n",
		 d->instance, bar, d->bar_len);
	return 0;

err_unmap:
	pci_iounmap(pdev, d->bar);
err_regions:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(d);
	return err;
}

static void drvnucleus_remove(struct pci_dev *pdev)
{
	struct drvnucleus_dev *d = pci_get_drvdata(pdev);
	struct drvnucleus_obj *o, *tmp;
	struct drvnucleus_net *n;

	/* Detach first: downcalls find the instance under the lock, so none
	 * reaches the device once it is out of the table. */
	mutex_lock(&drvnucleus_lock);
	devices[d->instance - 1] = NULL;
	n = d->net;
	d->net = NULL;
	mutex_unlock(&drvnucleus_lock);
	/* The netdev (and its interrupt) goes before the rings it uses. */
	if (n)
		net_remove(d, n);
	es1370_remove(d);
	list_for_each_entry_safe(o, tmp, &d->objects, node)
		drvnucleus_obj_free(d, o);
	pci_iounmap(pdev, d->bar);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	kfree(d);
}

static struct pci_driver drvnucleus_pci = {
	.name		= "drvnucleus",
	.id_table	= drvnucleus_ids,
	.probe		= drvnucleus_probe,
	.remove		= drvnucleus_remove,
};

static int __init drvnucleus_init(void)
{
	int err;

	err = netlink_register_notifier(&drvnucleus_netlink_notifier);
	if (err)
		return err;
	err = genl_register_family(&drvnucleus_family);
	if (err)
		goto err_notifier;
	err = pci_register_driver(&drvnucleus_pci);
	if (err)
		goto err_family;
	return 0;

err_family:
	genl_unregister_family(&drvnucleus_family);
err_notifier:
	netlink_unregister_notifier(&drvnucleus_netlink_notifier);
	return err;
}

static void __exit drvnucleus_exit(void)
{
	pci_unregister_driver(&drvnucleus_pci);
	genl_unregister_family(&drvnucleus_family);
	netlink_unregister_notifier(&drvnucleus_netlink_notifier);
	/* No kmemleak in Debian's kernel: count what the tracker still holds. */
	pr_info("drvnucleus: unloaded, %d DMA objects live\n", atomic_read(&live_objects));
}

module_init(drvnucleus_init);
module_exit(drvnucleus_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("drivermgr nucleus: generic-netlink XPC runtime for split drivers");
MODULE_AUTHOR("drivermgr");
