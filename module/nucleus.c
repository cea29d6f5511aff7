// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus - the kernel half of drivermgr's split drivers.
 *
 * This first layer is the runtime: the generic netlink family "drvnucleus"
 * speaking the drvxpc wire format (include/uapi/drvxpc.h, the one
 * definition shared with drivermgrd and the u-drivers), the registration
 * of the daemon that brokers for the u-drivers, and the PCI functions the
 * nucleus binds, announced to that daemon with DEVICE_ADD.  Downcalls so
 * far: REG_READ and REG_WRITE, checked against the BAR.  The data paths
 * (rtl8139 xmit/irq/NAPI, ES1370 irq/pointer/trigger) come next.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/mutex.h>
#include <net/genetlink.h>

#include <uapi/drvxpc.h>

#define DRVXPC_GENL_CMD_MSG	1
#define DRVNUCLEUS_MAX_DEVICES	8

struct drvnucleus_dev {
	struct pci_dev *pdev;
	void __iomem *bar;
	u32 bar_len;
	u32 instance;
	u8 class;
};

static DEFINE_MUTEX(drvnucleus_lock);
static struct drvnucleus_dev *devices[DRVNUCLEUS_MAX_DEVICES];
static u32 daemon_portid;	/* 0: no daemon registered */
static struct net *daemon_net;

static struct genl_family drvnucleus_family;

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

/* --- the one command: a drvxpc message ---------------------------------- */

static int reg_access(struct genl_info *info, const struct drvxpc_hdr *h)
{
	const struct nlattr *off_a = find_attr(h, DRVXPC_A_REG_OFFSET);
	const struct nlattr *w_a = find_attr(h, DRVXPC_A_REG_WIDTH);
	const struct nlattr *v_a = find_attr(h, DRVXPC_A_REG_VALUE);
	struct drvnucleus_dev *d = NULL;
	u32 off, width = 4, val = 0;
	int i;

	for (i = 0; i < DRVNUCLEUS_MAX_DEVICES; i++)
		if (devices[i] && devices[i]->instance == h->instance)
			d = devices[i];
	if (!d)
		return reply(info, h, -ENODEV, 0, "no such device instance", 0, false);
	if (!off_a)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_OFFSET, "missing REG_OFFSET", 0, false);
	off = nla_get_u32(off_a);
	if (w_a)
		width = nla_get_u8(w_a);
	if (width != 1 && width != 2 && width != 4)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_WIDTH, "width must be 1, 2 or 4", 0, false);
	if ((u64)off + width > d->bar_len)
		return reply(info, h, -EACCES, DRVXPC_A_REG_OFFSET, "register outside the BAR", 0, false);
	if (off % width)
		return reply(info, h, -EINVAL, DRVXPC_A_REG_OFFSET, "unaligned access", 0, false);
	if (h->op == DRVXPC_OP_REG_WRITE) {
		if (!v_a)
			return reply(info, h, -EINVAL, DRVXPC_A_REG_VALUE, "missing REG_VALUE", 0, false);
		val = nla_get_u32(v_a);
		if (width == 1)
			iowrite8(val, d->bar + off);
		else if (width == 2)
			iowrite16(val, d->bar + off);
		else
			iowrite32(val, d->bar + off);
		return reply(info, h, 0, 0, NULL, 0, false);
	}
	if (width == 1)
		val = ioread8(d->bar + off);
	else if (width == 2)
		val = ioread16(d->bar + off);
	else
		val = ioread32(d->bar + off);
	return reply(info, h, 0, 0, NULL, val, true);
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
	case DRVXPC_OP_REG_READ:
	case DRVXPC_OP_REG_WRITE:
		if (info->snd_portid != daemon_portid) {
			r = reply(info, h, -EPERM, 0, "only the registered daemon", 0, false);
			break;
		}
		r = reg_access(info, h);
		break;
	default:
		r = reply(info, h, -EOPNOTSUPP, 0, "not implemented by this nucleus yet", 0, false);
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

	mutex_lock(&drvnucleus_lock);
	devices[d->instance - 1] = NULL;
	mutex_unlock(&drvnucleus_lock);
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

	err = genl_register_family(&drvnucleus_family);
	if (err)
		return err;
	err = pci_register_driver(&drvnucleus_pci);
	if (err)
		goto err_family;
	return 0;

err_family:
	genl_unregister_family(&drvnucleus_family);
	return err;
}

static void __exit drvnucleus_exit(void)
{
	pci_unregister_driver(&drvnucleus_pci);
	genl_unregister_family(&drvnucleus_family);
}

module_init(drvnucleus_init);
module_exit(drvnucleus_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("drivermgr nucleus: generic-netlink XPC runtime for split drivers");
MODULE_AUTHOR("drivermgr");
