// SPDX-License-Identifier: GPL-2.0
/*
 * The network class: the net_device a NIC u-driver registers by downcall,
 * and everything about it that is not a chip's data path.
 *
 * ndo_open, ndo_stop, ndo_set_rx_mode, ndo_set_mac_address and the transmit
 * timeout are upcalls to the u-driver, sent and not waited for (they run
 * under rtnl or in atomic context); the link check (the driver's watchdog
 * timer) is a NET_WATCHDOG upcall every ops->link_period and at once on a
 * link-change interrupt; the u-driver answers a change with NET_CARRIER,
 * which ethtool's link settings are then answered from.  start_xmit, the
 * interrupt handler and the NAPI poll are the chip's (struct
 * drvnucleus_net_ops in net.h), called from here.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>

#include "net.h"

static struct drvnucleus_net *net_of(struct drvnucleus_dev *d)
{
	return d->cls_priv;
}

bool drvnucleus_net_datapath_on(struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = net_of(d);

	return n && READ_ONCE(n->datapath);
}

/* --- upcalls, from process context ---------------------------------------- */

static int fill_mac(struct sk_buff *skb, void *arg)
{
	struct net_device *ndev = arg;

	return nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, ndev->dev_addr);
}

/* The stack's receive filter: RX_FLAGS and the multicast list. */
static int fill_rx_mode(struct sk_buff *skb, void *arg)
{
	struct net_device *ndev = arg;
	struct netdev_hw_addr *ha;
	struct nlattr *list;
	u32 flags = (ndev->flags & IFF_PROMISC ? DRVXPC_RX_PROMISC : 0) |
		    (ndev->flags & IFF_ALLMULTI ? DRVXPC_RX_ALLMULTI : 0);

	if (nla_put_u32(skb, DRVXPC_A_RX_FLAGS, flags))
		return -EMSGSIZE;
	list = nla_nest_start(skb, DRVXPC_A_MC_LIST);
	if (!list)
		return -EMSGSIZE;
	netif_addr_lock_bh(ndev);
	netdev_for_each_mc_addr(ha, ndev) {
		if (nla_put(skb, DRVXPC_A_MAC, ETH_ALEN, ha->addr))
			break;
	}
	netif_addr_unlock_bh(ndev);
	nla_nest_end(skb, list);
	return 0;
}

static void net_rxmode_work(struct work_struct *w)
{
	struct drvnucleus_net *n = container_of(w, struct drvnucleus_net, rxmode_work);

	drvnucleus_upcall_async(n->d, DRVXPC_OP_NET_SET_RX_MODE, fill_rx_mode, n->ndev);
}

/* The link check: NET_WATCHDOG every link_period while the data path runs,
 * and at once after a link-change interrupt; the u-driver reads the PHY and
 * answers with NET_CARRIER if the link changed. */
static void net_link_work(struct work_struct *w)
{
	struct drvnucleus_net *n = container_of(to_delayed_work(w),
						struct drvnucleus_net, link_work);

	drvnucleus_upcall_async(n->d, DRVXPC_OP_NET_WATCHDOG, NULL, NULL);
	if (READ_ONCE(n->datapath))
		schedule_delayed_work(&n->link_work, n->ops->link_period);
}

void drvnucleus_net_link_event(struct drvnucleus_net *n)
{
	mod_delayed_work(system_wq, &n->link_work, 0);
}

/*
 * The stack's watchdog found the queue stopped for ops->tx_timeout: stop
 * the data path and drop what was in flight (8139too's rtl8139_tx_clear,
 * e1000's clean of the tx ring); restarting the transmitter is the
 * u-driver's, which hands the data path back with DATAPATH_ENABLE.
 */
static void net_txto_work(struct work_struct *w)
{
	struct drvnucleus_net *n = container_of(w, struct drvnucleus_net, txto_work);
	unsigned long f;

	combolock_lock(&n->d->cl, &f);
	n->datapath = false;
	n->ndev->stats.tx_dropped += n->ops->tx_drop(n);
	combolock_unlock(&n->d->cl, f);
	netdev_info(n->ndev, "transmit timed out; the u-driver restarts the transmitter\n");
	drvnucleus_upcall_async(n->d, DRVXPC_OP_NET_TX_TIMEOUT, NULL, NULL);
}

/* --- the data path's lock ------------------------------------------------ */

bool drvnucleus_net_lock_irq(struct drvnucleus_net *n, unsigned long *flags)
{
	struct combolock *cl = &n->d->cl;

	if (!combolock_lock_atomic(cl, flags))
		return true;
	combolock_defer(cl, COMBO_DEFER_IRQ);
	disable_irq_nosync(n->d->pdev->irq);
	combolock_unlock(cl, *flags);
	return false;
}

bool drvnucleus_net_lock_xmit(struct drvnucleus_net *n, unsigned long *flags)
{
	struct combolock *cl = &n->d->cl;

	if (!combolock_lock_atomic(cl, flags))
		return true;
	combolock_defer(cl, COMBO_DEFER_XMIT);
	netif_stop_queue(n->ndev);
	combolock_unlock(cl, *flags);
	return false;
}

/* --- net_device_ops and ethtool_ops ---------------------------------------- */

static void net_tx_timeout(struct net_device *ndev, unsigned int txqueue)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	schedule_work(&n->txto_work);
}

/* The address takes effect in the stack now; the u-driver writes the chip
 * (asynchronously: this runs under rtnl). */
static int net_set_mac(struct net_device *ndev, void *p)
{
	struct drvnucleus_net *n = netdev_priv(ndev);
	struct sockaddr *sa = p;

	if (!is_valid_ether_addr(sa->sa_data))
		return -EADDRNOTAVAIL;
	eth_hw_addr_set(ndev, sa->sa_data);
	drvnucleus_upcall_async(n->d, DRVXPC_OP_NET_SET_MAC, fill_mac, ndev);
	return 0;
}

static void net_get_drvinfo(struct net_device *ndev, struct ethtool_drvinfo *info)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	strscpy(info->driver, "drvnucleus", sizeof(info->driver));
	strscpy(info->bus_info, pci_name(n->d->pdev), sizeof(info->bus_info));
}

/* What the u-driver last reported with NET_CARRIER: ethtool runs under
 * rtnl, so it is answered from the nucleus, never by an upcall. */
static int net_get_link_ksettings(struct net_device *ndev,
				  struct ethtool_link_ksettings *cmd)
{
	struct drvnucleus_net *n = netdev_priv(ndev);
	bool up = netif_carrier_ok(ndev) && READ_ONCE(n->speed);

	cmd->base.speed = up ? READ_ONCE(n->speed) : SPEED_UNKNOWN;
	cmd->base.duplex = up ? (READ_ONCE(n->duplex) ? DUPLEX_FULL : DUPLEX_HALF)
			      : DUPLEX_UNKNOWN;
	cmd->base.port = PORT_MII;
	cmd->base.autoneg = AUTONEG_ENABLE;
	return 0;
}

static const struct ethtool_ops net_ethtool_ops = {
	.get_drvinfo		= net_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_link_ksettings	= net_get_link_ksettings,
};

static int net_open(struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	/* The u-driver opens the chip; carrier comes with NET_CARRIER. */
	netif_carrier_off(ndev);
	drvnucleus_upcall_async(n->d, DRVXPC_OP_NET_OPEN, NULL, NULL);
	return 0;
}

static int net_stop(struct net_device *ndev)
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
	drvnucleus_upcall_async(n->d, DRVXPC_OP_NET_STOP, NULL, NULL);
	return 0;
}

/* ndo_set_rx_mode runs in atomic context: the upcall goes from a work item. */
static void net_set_rx_mode(struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	schedule_work(&n->rxmode_work);
}

static netdev_tx_t net_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct drvnucleus_net *n = netdev_priv(ndev);

	return n->ops->start_xmit(skb, n);
}

static const struct net_device_ops net_netdev_ops = {
	.ndo_open		= net_open,		/* upcall */
	.ndo_stop		= net_stop,		/* upcall */
	.ndo_start_xmit		= net_start_xmit,	/* the chip's data path */
	.ndo_set_rx_mode	= net_set_rx_mode,	/* upcall, from a work item */
	.ndo_set_mac_address	= net_set_mac,		/* upcall, not waited for */
	.ndo_tx_timeout		= net_tx_timeout,	/* upcall, from a work item */
	.ndo_validate_addr	= eth_validate_addr,
};

static irqreturn_t net_interrupt(int irq, void *data)
{
	struct drvnucleus_net *n = data;

	return n->ops->interrupt(n);
}

static int net_poll(struct napi_struct *napi, int budget)
{
	struct drvnucleus_net *n = container_of(napi, struct drvnucleus_net, napi);

	return n->ops->poll(n, budget);
}

/* --- downcalls ------------------------------------------------------------ */

/* NET_REGISTER: the netdev, once; a restarted u-driver's NET_REGISTER finds
 * it registered and gets its name back. */
static int net_register(struct genl_info *info, const struct drvxpc_hdr *h,
			struct drvnucleus_dev *d)
{
	const struct drvnucleus_net_ops *ops = d->chip->net;
	const struct nlattr *mac = drvnucleus_attr(h, DRVXPC_A_MAC);
	struct drvnucleus_net *n = net_of(d);
	struct net_device *ndev;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	int err;

	if (!mac || !is_valid_ether_addr(nla_data(mac)))
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_MAC,
					"NET_REGISTER needs a unicast MAC");
	if (!n) {
		ndev = alloc_etherdev(sizeof(*n));
		if (!ndev)
			return -ENOMEM;
		n = netdev_priv(ndev);
		n->ndev = ndev;
		n->d = d;
		n->ops = ops;
		n->priv = kzalloc(ops->priv_size, GFP_KERNEL);
		if (!n->priv) {
			free_netdev(ndev);
			return -ENOMEM;
		}
		INIT_WORK(&n->rxmode_work, net_rxmode_work);
		INIT_DELAYED_WORK(&n->link_work, net_link_work);
		INIT_WORK(&n->txto_work, net_txto_work);
		SET_NETDEV_DEV(ndev, &d->pdev->dev);
		ndev->netdev_ops = &net_netdev_ops;
		ndev->ethtool_ops = &net_ethtool_ops;
		ndev->watchdog_timeo = ops->tx_timeout;
		eth_hw_addr_set(ndev, nla_data(mac));
		netif_napi_add(ndev, &n->napi, net_poll);
		netif_carrier_off(ndev);
		err = register_netdev(ndev);
		if (err) {
			netif_napi_del(&n->napi);
			kfree(n->priv);
			free_netdev(ndev);
			return drvnucleus_reply(info, h, err, 0, "register_netdev failed");
		}
		d->cls_priv = n;
		dev_info(&d->pdev->dev, "%s registered for the u-driver (%s)\n",
			 ndev->name, d->chip->name);
	}
	skb = drvnucleus_reply_new(info, h, &rh);
	if (!skb)
		return -ENOMEM;
	if (nla_put_string(skb, DRVXPC_A_IFNAME, n->ndev->name)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return drvnucleus_reply_send(info, skb, rh);
}

/*
 * DATAPATH_ENABLE: the u-driver programmed the chip and hands the data path
 * over.  With REATTACH (a restarted u-driver adopting the running chip) the
 * data path never stopped: the chip keeps its ring positions.
 */
static int net_enable(struct genl_info *info, const struct drvxpc_hdr *h,
		      struct drvnucleus_dev *d)
{
	bool reattach = h->flags & DRVXPC_F_REATTACH;
	struct drvnucleus_net *n = net_of(d);
	const char *why = "data path refused";
	unsigned long f;
	u16 bad = 0;
	int err;

	if (!n)
		return drvnucleus_reply(info, h, -ENODEV, 0, "no netdev registered");
	if (!reattach) {
		combolock_lock(&d->cl, &f);
		n->datapath = false;
		combolock_unlock(&d->cl, f);
	}
	err = n->ops->enable(n, reattach, &why, &bad);
	if (err)
		return drvnucleus_reply(info, h, err, bad, why);
	/* Rings first: an interrupt already pending on the shared line must
	 * find a data path to serve, not be refused as not mine. */
	combolock_lock(&d->cl, &f);
	n->datapath = true;
	combolock_unlock(&d->cl, f);
	if (!n->irq) {
		err = request_irq(d->pdev->irq, net_interrupt, IRQF_SHARED,
				  n->ndev->name, n);
		if (err) {
			combolock_lock(&d->cl, &f);
			n->datapath = false;
			combolock_unlock(&d->cl, f);
			return drvnucleus_reply(info, h, err, 0, "request_irq failed");
		}
		n->irq = true;
	}
	if (!n->napi_on) {
		napi_enable(&n->napi);
		n->napi_on = true;
	}
	netif_wake_queue(n->ndev);
	mod_delayed_work(system_wq, &n->link_work, n->ops->link_period);
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

static void net_datapath_off(struct drvnucleus_dev *d, struct drvnucleus_net *n)
{
	unsigned long f;

	combolock_lock(&d->cl, &f);
	n->datapath = false;
	combolock_unlock(&d->cl, f);
	netif_stop_queue(n->ndev);
}

/* NET_CARRIER: netif_carrier_on/off, with the speed ethtool reports. */
static int net_carrier(struct genl_info *info, const struct drvxpc_hdr *h,
		       struct drvnucleus_dev *d)
{
	const struct nlattr *up = drvnucleus_attr(h, DRVXPC_A_LINK_UP);
	const struct nlattr *speed = drvnucleus_attr(h, DRVXPC_A_LINK_SPEED);
	const struct nlattr *duplex = drvnucleus_attr(h, DRVXPC_A_LINK_DUPLEX);
	struct drvnucleus_net *n = net_of(d);
	u32 bit;

	if (!n || !up)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_LINK_UP,
					"no netdev or no LINK_UP");
	if (speed) {
		switch (nla_get_u32(speed)) {
		case 10:
			bit = DRVNUCLEUS_SPEED_10;
			break;
		case 100:
			bit = DRVNUCLEUS_SPEED_100;
			break;
		case 1000:
			bit = DRVNUCLEUS_SPEED_1000;
			break;
		default:
			bit = 0;
		}
		if (!(n->ops->speeds & bit))
			return drvnucleus_reply(info, h, -ERANGE, DRVXPC_A_LINK_SPEED,
						"a speed this chip cannot run at");
		WRITE_ONCE(n->speed, nla_get_u32(speed));
	}
	if (duplex)
		WRITE_ONCE(n->duplex, nla_get_u8(duplex));
	if (nla_get_u8(up))
		netif_carrier_on(n->ndev);
	else
		netif_carrier_off(n->ndev);
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

/*
 * RESYNC_CLIENTS (the daemon's, after a u-driver started afresh): an
 * interface that is up was opened by a u-driver before this one, and the
 * kernel calls ndo_open and ndo_set_rx_mode only on the way up.  So the
 * nucleus makes those upcalls again, as __dev_open() would: the new
 * u-driver opens the chip and programs the stack's receive filter, and
 * the data path runs again without an `ip link set down/up`.
 */
static int net_resync(struct genl_info *info, const struct drvxpc_hdr *h,
		      struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = net_of(d);

	/* A snapshot (a test_bit): an `ip link set down` racing with it
	 * sends NET_STOP after this NET_OPEN, as it would after a real one;
	 * no rtnl here, under d->lock. */
	if (n && netif_running(n->ndev) && !READ_ONCE(n->datapath)) {
		netif_carrier_off(n->ndev);
		drvnucleus_upcall_async(d, DRVXPC_OP_NET_OPEN, NULL, NULL);
		schedule_work(&n->rxmode_work);
	}
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

static int net_op(struct genl_info *info, const struct drvxpc_hdr *h,
		  struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = net_of(d);

	switch (h->op) {
	case DRVXPC_OP_NET_REGISTER:
		return net_register(info, h, d);
	case DRVXPC_OP_DATAPATH_ENABLE:
		return net_enable(info, h, d);
	case DRVXPC_OP_DATAPATH_DISABLE:
		if (n)
			net_datapath_off(d, n);
		return drvnucleus_reply(info, h, 0, 0, NULL);
	case DRVXPC_OP_NET_CARRIER:
		return net_carrier(info, h, d);
	case DRVXPC_OP_RESYNC_CLIENTS:
		return net_resync(info, h, d);
	}
	return drvnucleus_reply(info, h, -EOPNOTSUPP, 0, "not a network device's operation");
}

/* --- DEVICE_INFO, QUIESCE, the ComboLock's release, removal ---------------- */

/* The netdev's own state; the chip's info adds what it reads back. */
static int net_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = net_of(d);
	struct net_device *nd;

	if (!n)
		return 0;
	nd = n->ndev;
	if (nla_put_string(skb, DRVXPC_A_IFNAME, nd->name) ||
	    nla_put_u8(skb, DRVXPC_A_LINK_UP, netif_carrier_ok(nd)) ||
	    nla_put_u8(skb, DRVXPC_A_DATAPATH_ON, READ_ONCE(n->datapath)) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_STAT_RX_PACKETS, nd->stats.rx_packets, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_STAT_TX_PACKETS, nd->stats.tx_packets, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_STAT_RX_BYTES, nd->stats.rx_bytes, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_STAT_TX_BYTES, nd->stats.tx_bytes, 0))
		return -EMSGSIZE;
	return 0;
}

/* QUIESCE: no carrier, no queue, the chip's interrupts masked; the netdev
 * stays registered. */
static void net_quiesce(struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = net_of(d);
	unsigned long f;

	if (!n)
		return;
	combolock_lock(&d->cl, &f);
	n->datapath = false;
	if (n->ops->quiesce)
		n->ops->quiesce(n);
	combolock_unlock(&d->cl, f);
	netif_stop_queue(n->ndev);
	netif_carrier_off(n->ndev);
}

/* Redo what the data path deferred while a downcall held the lock. */
static void net_release(struct drvnucleus_dev *d, unsigned long deferred)
{
	struct drvnucleus_net *n = net_of(d);

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

/* The device is out of the table; the netdev and its interrupt go before
 * the rings the chip's data path uses. */
static void net_remove(struct drvnucleus_dev *d)
{
	struct drvnucleus_net *n = net_of(d);

	if (!n)
		return;
	d->cls_priv = NULL;
	unregister_netdev(n->ndev);
	cancel_work_sync(&n->rxmode_work);
	cancel_work_sync(&n->txto_work);
	cancel_delayed_work_sync(&n->link_work);
	if (n->irq)
		free_irq(d->pdev->irq, n);
	netif_napi_del(&n->napi);
	if (n->ops->teardown)
		n->ops->teardown(n);
	kfree(n->priv);
	free_netdev(n->ndev);
}

const struct drvnucleus_class drvnucleus_net_class = {
	.name		= "net",
	.id		= DRVXPC_CLASS_NET,
	.op		= net_op,
	.info		= net_info,
	.quiesce	= net_quiesce,
	.release	= net_release,
	.remove		= net_remove,
};
