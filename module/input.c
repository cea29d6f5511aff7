// SPDX-License-Identifier: GPL-2.0
/*
 * input.c - the input class: a PS/2 mouse on a serio port (the i8042's AUX
 * port), the nucleus half of Linux's psmouse.
 *
 * Kept here, as psmouse-base.c has them: the byte interrupt, libps2's
 * command/ACK handling, the packet assembly with its resynchronisation
 * (a first byte without its sync bit, or half a packet left for half a
 * second, is thrown away), and input_report_* / input_sync on an input
 * device the u-driver registers by downcall.  The nucleus also notices when
 * the mouse needs checking - a loss of sync, or the first byte after
 * psmouse's resync_time of silence - and asks the u-driver (INPUT_RESYNC),
 * which runs the check; the check stays pending until its ENABLE, so a
 * u-driver that dies half way leaves it to the recovered one.  Everything
 * else - reset and self-test, the protocol knocks, rate, resolution,
 * scaling, streaming - is the u-driver's, sent as PS2_COMMAND downcalls
 * that run libps2's ps2_command() here.
 *
 * The serio driver has manual_bind set and no MODULE_DEVICE_TABLE: it
 * takes a port only when told to, through the port's drvctl attribute
 * (echo -n drvnucleus > /sys/bus/serio/devices/serio1/drvctl), as the
 * PCI side takes a function only through ids= or driver_override.
 */
#include <linux/input.h>
#include <linux/jiffies.h>
#include <linux/libps2.h>
#include <linux/module.h>
#include <linux/serio.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <chips/ps2mouse_regs.h>

#include "drvnucleus.h"

struct input_nucleus {
	struct drvnucleus_dev *d;
	struct ps2dev ps2dev;
	/* INPUT_REGISTER's device; NULL until the u-driver registers it.
	 * The interrupt reads @input and @pktsize under the serio lock; they
	 * change only between serio_pause_rx() and serio_continue_rx(). */
	struct input_dev *input;
	char name[64];
	char phys[48];
	u8 proto;		/* enum drvxpc_mouse_proto */
	u8 pktsize;
	u8 packet[4];
	u8 pktcnt;
	unsigned long last;	/* jiffies of the last packet byte */
	bool out_of_sync;
	/* What the mouse was last told through PS2_COMMAND. */
	u8 rate, resolution, scaling;
	bool streaming;
	/* The idle check: seconds of silence before it (0: never); and a
	 * check asked for, or a stream the u-driver paused for commands,
	 * that no ENABLE has ended yet. */
	u16 resync_time;
	bool check_pending;
	u64 packets, resyncs, commands, resets, idle_checks;
	struct work_struct resync_work;
};

static struct input_nucleus *in_of(struct drvnucleus_dev *d)
{
	return d->cls_priv;
}

/* --- the data path (interrupt context, the serio lock held) ------------- */

/* psmouse_process_byte for the generic protocols, then the standard packet. */
static void report_packet(struct input_nucleus *m)
{
	struct input_dev *dev = m->input;
	u8 *p = m->packet;
	int wheel;

	switch (m->proto) {
	case DRVXPC_MOUSE_IMPS:
		input_report_rel(dev, REL_WHEEL, -(s8)p[3]);
		break;
	case DRVXPC_MOUSE_EXPS:
		switch (p[3] & 0xc0) {
		case 0x80:	/* vertical scroll on IntelliMouse Explorer 4.0 */
			input_report_rel(dev, REL_WHEEL, -sign_extend32(p[3], 5));
			break;
		case 0x40:	/* horizontal scroll */
			input_report_rel(dev, REL_HWHEEL, -sign_extend32(p[3], 5));
			break;
		default:
			wheel = sign_extend32(p[3], 3);
			input_report_rel(dev, REL_WHEEL, -wheel);
			input_report_key(dev, BTN_SIDE, p[3] & PSM_PKT_EX_SIDE);
			input_report_key(dev, BTN_EXTRA, p[3] & PSM_PKT_EX_EXTRA);
			break;
		}
		break;
	}
	input_report_key(dev, BTN_LEFT, p[0] & PSM_PKT_LEFT);
	input_report_key(dev, BTN_MIDDLE, p[0] & PSM_PKT_MIDDLE);
	input_report_key(dev, BTN_RIGHT, p[0] & PSM_PKT_RIGHT);
	input_report_rel(dev, REL_X,
			 p[1] ? (int)p[1] - (int)((p[0] << 4) & 0x100) : 0);
	input_report_rel(dev, REL_Y,
			 p[2] ? (int)((p[0] << 3) & 0x100) - (int)p[2] : 0);
	input_sync(dev);
	m->packets++;
}

/*
 * Have the u-driver check a streaming mouse (INPUT_RESYNC), once: until
 * the check's ENABLE no other is asked for.
 */
static void ask_check(struct input_nucleus *m)
{
	if (!READ_ONCE(m->streaming) || READ_ONCE(m->check_pending))
		return;
	WRITE_ONCE(m->check_pending, true);
	schedule_work(&m->resync_work);
}

/* The u-driver checks the mouse once per loss of sync. */
static void lost_sync(struct input_nucleus *m, unsigned int dropped)
{
	m->resyncs += dropped;
	m->pktcnt = 0;
	if (!m->out_of_sync) {
		m->out_of_sync = true;
		ask_check(m);
	}
}

static irqreturn_t input_interrupt(struct serio *serio, u8 data,
				   unsigned int flags)
{
	struct drvnucleus_dev *d = serio_get_drvdata(serio);
	struct input_nucleus *m;

	if (!d)
		return IRQ_HANDLED;
	m = in_of(d);
	if (unlikely(flags & (SERIO_TIMEOUT | SERIO_PARITY))) {
		ps2_cmd_aborted(&m->ps2dev);
		if (m->input)
			lost_sync(m, m->pktcnt);
		return IRQ_HANDLED;
	}
	if (unlikely(m->ps2dev.flags & PS2_FLAG_ACK) &&
	    ps2_handle_ack(&m->ps2dev, data))
		return IRQ_HANDLED;
	if (unlikely(m->ps2dev.flags & PS2_FLAG_CMD) &&
	    ps2_handle_response(&m->ps2dev, data))
		return IRQ_HANDLED;
	/* No input device yet: the bytes go nowhere, as on an unbound port. */
	if (!m->input)
		return IRQ_HANDLED;
	if (m->pktcnt && time_after(jiffies, m->last + HZ / 2))
		lost_sync(m, m->pktcnt);
	/*
	 * psmouse's resync_time: a mouse silent that long may have been
	 * unplugged or reset meanwhile.  Unlike psmouse, which drops the
	 * packet and the ones after it until its check ends, this packet
	 * is reported: the u-driver's check stops the stream first.
	 */
	if (!m->pktcnt && m->resync_time && READ_ONCE(m->streaming) &&
	    !READ_ONCE(m->check_pending) &&
	    time_after(jiffies, m->last + m->resync_time * HZ)) {
		m->idle_checks++;
		ask_check(m);
	}
	m->last = jiffies;
	if (m->pktcnt == 0 && !(data & PSM_PKT_SYNC)) {
		lost_sync(m, 1);
		return IRQ_HANDLED;
	}
	m->packet[m->pktcnt++] = data;
	if (m->pktcnt < m->pktsize)
		return IRQ_HANDLED;
	report_packet(m);
	m->pktcnt = 0;
	m->out_of_sync = false;
	return IRQ_HANDLED;
}

static void resync_work(struct work_struct *w)
{
	struct input_nucleus *m = container_of(w, struct input_nucleus, resync_work);

	drvnucleus_upcall_async(m->d, DRVXPC_OP_INPUT_RESYNC, NULL, NULL);
}

/* --- downcalls (process context, d->lock held) -------------------------- */

static int put_settings(struct sk_buff *skb, struct input_nucleus *m)
{
	if (nla_put_u8(skb, DRVXPC_A_MOUSE_RATE, m->rate) ||
	    nla_put_u8(skb, DRVXPC_A_MOUSE_RESOLUTION, m->resolution) ||
	    nla_put_u8(skb, DRVXPC_A_MOUSE_SCALING, m->scaling) ||
	    nla_put_u8(skb, DRVXPC_A_DATAPATH_ON, m->streaming) ||
	    nla_put_u16(skb, DRVXPC_A_MOUSE_RESYNC_TIME, m->resync_time) ||
	    nla_put_u8(skb, DRVXPC_A_INPUT_CHECK_PENDING,
		       READ_ONCE(m->check_pending)))
		return -EMSGSIZE;
	return 0;
}

/* The input device for @proto, as psmouse sets one up. */
static struct input_dev *input_new(struct input_nucleus *m, u8 proto)
{
	struct serio *serio = m->d->serio;
	struct input_dev *dev = input_allocate_device();

	if (!dev)
		return NULL;
	dev->name = m->name;
	dev->phys = m->phys;
	dev->id.bustype = BUS_I8042;
	dev->id.vendor = 0x0002;	/* psmouse's generic vendor id */
	dev->id.product = proto;
	dev->dev.parent = &serio->dev;
	input_set_capability(dev, EV_KEY, BTN_LEFT);
	input_set_capability(dev, EV_KEY, BTN_MIDDLE);
	input_set_capability(dev, EV_KEY, BTN_RIGHT);
	input_set_capability(dev, EV_REL, REL_X);
	input_set_capability(dev, EV_REL, REL_Y);
	if (proto != DRVXPC_MOUSE_PS2)
		input_set_capability(dev, EV_REL, REL_WHEEL);
	if (proto == DRVXPC_MOUSE_EXPS) {
		input_set_capability(dev, EV_REL, REL_HWHEEL);
		input_set_capability(dev, EV_KEY, BTN_SIDE);
		input_set_capability(dev, EV_KEY, BTN_EXTRA);
	}
	return dev;
}

/*
 * INPUT_REGISTER: with INPUT_PROTOCOL and INPUT_NAME (a fresh probe), the
 * input device for that protocol, kept if it already is one (a u-driver
 * that reset the mouse finds the same device); with REATTACH and neither,
 * the registration as it is.  The reply: name, protocol, and the settings
 * the mouse was last told.
 */
static int input_register(struct genl_info *info, const struct drvxpc_hdr *h,
			  struct drvnucleus_dev *d)
{
	const struct nlattr *proto_a = drvnucleus_attr(h, DRVXPC_A_INPUT_PROTOCOL);
	const struct nlattr *name_a = drvnucleus_attr(h, DRVXPC_A_INPUT_NAME);
	struct input_nucleus *m = in_of(d);
	struct input_dev *old = NULL, *dev;
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	int err;

	if (proto_a && !(h->flags & DRVXPC_F_REATTACH)) {
		u8 proto = nla_get_u8(proto_a);

		if (!name_a)
			return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_INPUT_NAME,
						"INPUT_REGISTER without INPUT_NAME");
		if (!m->input || m->proto != proto) {
			old = m->input;
			if (old) {
				serio_pause_rx(d->serio);
				m->input = NULL;
				serio_continue_rx(d->serio);
				input_unregister_device(old);
			}
			strscpy(m->name, nla_data(name_a), sizeof(m->name));
			dev = input_new(m, proto);
			if (!dev)
				return drvnucleus_reply(info, h, -ENOMEM, 0, "no memory");
			err = input_register_device(dev);
			if (err) {
				input_free_device(dev);
				return drvnucleus_reply(info, h, err, 0,
							"input_register_device failed");
			}
			serio_pause_rx(d->serio);
			m->proto = proto;
			m->pktsize = proto == DRVXPC_MOUSE_PS2 ? 3 : 4;
			m->pktcnt = 0;
			m->input = dev;
			serio_continue_rx(d->serio);
			dev_info(d->dev, "input device \"%s\" for %s\n", m->name,
				 dev_name(&dev->dev));
		}
	}
	if (!m->input)
		return drvnucleus_reply(info, h, -ENODEV, DRVXPC_A_INPUT_PROTOCOL,
					"no input device registered to reattach to");
	skb = drvnucleus_reply_new(info, h, &rh);
	if (!skb)
		return -ENOMEM;
	if (nla_put_string(skb, DRVXPC_A_INPUT_NAME, m->name) ||
	    nla_put_u8(skb, DRVXPC_A_INPUT_PROTOCOL, m->proto) ||
	    put_settings(skb, m)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return drvnucleus_reply_send(info, skb, rh);
}

/*
 * What the mouse was told, for DEVICE_INFO and a reattaching u-driver.  A
 * DISABLE that pauses the stream for commands (INPUT_CHECK_PENDING) leaves
 * the check pending until ENABLE; a plain one means the stream is off.
 */
static void track(struct input_nucleus *m, unsigned int cmd, const u8 *param,
		  bool pausing)
{
	switch (cmd) {
	case PSM_CMD_SETRATE:
		m->rate = param[0];
		break;
	case PSM_CMD_SETRES:
		m->resolution = param[0];
		break;
	case PSM_CMD_SETSCALE11:
		m->scaling = 1;
		break;
	case PSM_CMD_SETSCALE21:
		m->scaling = 2;
		break;
	case PSM_CMD_ENABLE:
		WRITE_ONCE(m->streaming, true);
		WRITE_ONCE(m->check_pending, false);
		break;
	case PSM_CMD_DISABLE:
		WRITE_ONCE(m->streaming, false);
		WRITE_ONCE(m->check_pending, pausing);
		break;
	case PSM_CMD_RESET_BAT:
	case PSM_CMD_RESET_DIS:
		m->rate = 100;
		m->resolution = 2;
		m->scaling = 1;
		WRITE_ONCE(m->streaming, false);
		break;
	}
}

/*
 * PS2_COMMAND: libps2's ps2_command() with the u-driver's command word and
 * parameter bytes, every count checked first (libps2 WARNs on a bad one).
 * The reply carries the bytes the mouse answered.
 */
static int ps2_cmd(struct genl_info *info, const struct drvxpc_hdr *h,
		   struct drvnucleus_dev *d)
{
	const struct nlattr *cmd_a = drvnucleus_attr(h, DRVXPC_A_PS2_CMD);
	const struct nlattr *param_a = drvnucleus_attr(h, DRVXPC_A_PS2_PARAM);
	const struct nlattr *pause_a = drvnucleus_attr(h,
						       DRVXPC_A_INPUT_CHECK_PENDING);
	struct input_nucleus *m = in_of(d);
	unsigned int cmd, send, receive, have;
	u8 param[8] = { 0 };
	struct drvxpc_hdr *rh;
	struct sk_buff *skb;
	int err;

	if (!cmd_a)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_PS2_CMD,
					"missing PS2_CMD");
	cmd = nla_get_u16(cmd_a);
	send = (cmd >> PSM_CMD_SEND_SHIFT) & PSM_CMD_COUNT_MASK;
	receive = (cmd >> PSM_CMD_RECEIVE_SHIFT) & PSM_CMD_COUNT_MASK;
	have = param_a ? nla_len(param_a) : 0;
	if (have != send)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_PS2_PARAM,
					"PS2_PARAM's length is not the command's parameter count");
	if (receive > sizeof(param))
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_PS2_CMD,
					"the command receives more than 8 bytes");
	if (pause_a && cmd != PSM_CMD_DISABLE)
		return drvnucleus_reply(info, h, -EINVAL,
					DRVXPC_A_INPUT_CHECK_PENDING,
					"INPUT_CHECK_PENDING goes with DISABLE only");
	if (send)
		memcpy(param, nla_data(param_a), send);
	/*
	 * What the nucleus tracks it reports in DEVICE_INFO, whose ranges
	 * (MOUSE_RATE 10..200, MOUSE_RESOLUTION 0..3) the daemon checks: a
	 * value outside them never reaches the mouse.  (psmouse's own
	 * protocols stay inside; Lifebook's SETRES 7 is not one we drive.)
	 */
	if ((cmd == PSM_CMD_SETRATE && (param[0] < 10 || param[0] > 200)) ||
	    (cmd == PSM_CMD_SETRES && param[0] > 3))
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_PS2_PARAM,
					"rate outside 10..200 or resolution outside 0..3");
	m->commands++;
	if (cmd == PSM_CMD_RESET_BAT)
		m->resets++;
	/* A stream about to start: half a packet left from before it
	 * (a check stopped the mouse mid-packet) is stale, and its
	 * silence so far is not idleness. */
	if (cmd == PSM_CMD_ENABLE) {
		serio_pause_rx(d->serio);
		m->pktcnt = 0;
		m->last = jiffies;
		serio_continue_rx(d->serio);
	}
	err = ps2_command(&m->ps2dev, param, cmd);
	if (err)
		return drvnucleus_reply(info, h, err, DRVXPC_A_PS2_CMD,
					"the mouse did not acknowledge the command");
	track(m, cmd, param, pause_a && nla_get_u8(pause_a));
	if (cmd == PSM_CMD_RESET_BAT || cmd == PSM_CMD_RESET_DIS) {
		serio_pause_rx(d->serio);
		m->pktcnt = 0;
		serio_continue_rx(d->serio);
	}
	skb = drvnucleus_reply_new(info, h, &rh);
	if (!skb)
		return -ENOMEM;
	if (receive && nla_put(skb, DRVXPC_A_PS2_PARAM, receive, param)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return drvnucleus_reply_send(info, skb, rh);
}

/*
 * INPUT_RESYNC_TIME: the idle check's silence in seconds (0: never), from
 * now on.  The range (0..3600) was checked with the message.
 */
static int input_resync_time(struct genl_info *info,
			     const struct drvxpc_hdr *h,
			     struct drvnucleus_dev *d)
{
	const struct nlattr *a = drvnucleus_attr(h, DRVXPC_A_MOUSE_RESYNC_TIME);
	struct input_nucleus *m = in_of(d);

	if (!a)
		return drvnucleus_reply(info, h, -EINVAL,
					DRVXPC_A_MOUSE_RESYNC_TIME,
					"missing MOUSE_RESYNC_TIME");
	serio_pause_rx(d->serio);
	m->resync_time = nla_get_u16(a);
	m->last = jiffies;
	serio_continue_rx(d->serio);
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

static int input_op(struct genl_info *info, const struct drvxpc_hdr *h,
		    struct drvnucleus_dev *d)
{
	switch (h->op) {
	case DRVXPC_OP_PS2_COMMAND:
		return ps2_cmd(info, h, d);
	case DRVXPC_OP_INPUT_RESYNC_TIME:
		return input_resync_time(info, h, d);
	case DRVXPC_OP_INPUT_REGISTER:
		return input_register(info, h, d);
	}
	return drvnucleus_reply(info, h, -EOPNOTSUPP, 0,
				"not an operation of the input class");
}

static int input_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	struct input_nucleus *m = in_of(d);

	if (put_settings(skb, m) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_INPUT_PACKETS, m->packets, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_INPUT_RESYNCS, m->resyncs, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_INPUT_COMMANDS, m->commands, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_INPUT_RESETS, m->resets, 0) ||
	    nla_put_u64_64bit(skb, DRVXPC_A_INPUT_IDLE_CHECKS, m->idle_checks,
			      0))
		return -EMSGSIZE;
	if (m->input && (nla_put_u8(skb, DRVXPC_A_INPUT_PROTOCOL, m->proto) ||
			 nla_put_string(skb, DRVXPC_A_INPUT_NAME, m->name)))
		return -EMSGSIZE;
	return 0;
}

/* psmouse_deactivate: the mouse stops streaming; its input device stays. */
static void input_quiesce(struct drvnucleus_dev *d)
{
	struct input_nucleus *m = in_of(d);

	if (!ps2_command(&m->ps2dev, NULL, PSM_CMD_DISABLE))
		m->streaming = false;
}

static void input_remove(struct drvnucleus_dev *d)
{
	struct input_nucleus *m = in_of(d);

	/* The interrupt schedules the resync only with an input device:
	 * none first, then no work is left to run. */
	serio_pause_rx(d->serio);
	m->input = NULL;
	serio_continue_rx(d->serio);
	cancel_work_sync(&m->resync_work);
}

static const struct drvnucleus_class drvnucleus_input_class = {
	.name		= "input",
	.id		= DRVXPC_CLASS_INPUT,
	.op		= input_op,
	.info		= input_info,
	.quiesce	= input_quiesce,
	.remove		= input_remove,
};

static const struct drvnucleus_chip psmouse_chip = {
	.name	= "psmouse",
	.cls	= &drvnucleus_input_class,
};

/* --- the serio bus ------------------------------------------------------ */

static int serio_put_identity(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	if (nla_put_u8(skb, DRVXPC_A_BUS, DRVXPC_BUS_SERIO) ||
	    nla_put_u8(skb, DRVXPC_A_SERIO_TYPE, d->serio->id.type) ||
	    nla_put_u8(skb, DRVXPC_A_SERIO_PROTO, d->serio->id.proto) ||
	    nla_put_string(skb, DRVXPC_A_SERIO_PORT, dev_name(&d->serio->dev)))
		return -EMSGSIZE;
	return 0;
}

extern const struct drvnucleus_bus drvnucleus_serio_bus;

static int input_connect(struct serio *serio, struct serio_driver *drv)
{
	struct drvnucleus_dev *d;
	struct input_nucleus *m;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!d || !m) {
		err = -ENOMEM;
		goto err_free;
	}
	m->d = d;
	m->rate = 100;
	m->resolution = 2;
	m->scaling = 1;
	m->pktsize = 3;
	INIT_WORK(&m->resync_work, resync_work);
	snprintf(m->phys, sizeof(m->phys), "%s/input0", serio->phys);
	ps2_init(&m->ps2dev, serio);
	d->serio = serio;
	d->dev = &serio->dev;
	d->bus = &drvnucleus_serio_bus;
	d->chip = &psmouse_chip;
	d->cls_priv = m;
	serio_set_drvdata(serio, d);
	err = serio_open(serio, drv);
	if (err)
		goto err_drvdata;
	err = drvnucleus_dev_attach(d);
	if (err)
		goto err_close;
	dev_info(&serio->dev, "drvnucleus instance %u: %s (%s)\n", d->instance,
		 psmouse_chip.name, drvnucleus_input_class.name);
	return 0;

err_close:
	serio_close(serio);
err_drvdata:
	serio_set_drvdata(serio, NULL);
err_free:
	kfree(m);
	kfree(d);
	return err;
}

static void input_disconnect(struct serio *serio)
{
	struct drvnucleus_dev *d = serio_get_drvdata(serio);
	struct input_nucleus *m = in_of(d);
	struct input_dev *dev = m->input;

	drvnucleus_dev_detach(d);
	serio_close(serio);
	serio_set_drvdata(serio, NULL);
	if (dev)
		input_unregister_device(dev);
	kfree(m);
	kfree(d);
}

static const struct serio_device_id input_serio_ids[] = {
	{ .type = SERIO_8042, .proto = SERIO_ANY, .id = SERIO_ANY, .extra = SERIO_ANY },
	{ 0 }
};

static struct serio_driver input_serio_driver = {
	.driver		= { .name = "drvnucleus" },
	.description	= "drivermgr nucleus: PS/2 mouse",
	.id_table	= input_serio_ids,
	/* Only through the port's drvctl: never taken from psmouse. */
	.manual_bind	= true,
	.interrupt	= input_interrupt,
	.connect	= input_connect,
	.disconnect	= input_disconnect,
};

static int serio_bus_register(void)
{
	return serio_register_driver(&input_serio_driver);
}

static void serio_bus_unregister(void)
{
	serio_unregister_driver(&input_serio_driver);
}

const struct drvnucleus_bus drvnucleus_serio_bus = {
	.name			= "serio",
	.register_driver	= serio_bus_register,
	.unregister_driver	= serio_bus_unregister,
	.put_identity		= serio_put_identity,
};
