// SPDX-License-Identifier: GPL-2.0
/*
 * The ES1370 nucleus: what stays in the kernel of sound/pci/ens1370.c for
 * playback on DAC2 - the interrupt handler, the pointer and the trigger,
 * the three snd_pcm_ops ALSA calls in atomic context.  The card, its PCM
 * device and its mixer controls are registered by downcall (SND_REGISTER)
 * once the ens137x u-driver has identified the chip; open, hw_params,
 * prepare, close and every mixer access are upcalls to it, with a
 * deadline.  The PCM buffer is a tracked object, so a restarted u-driver
 * is handed the very buffer the DAC is playing from.
 *
 * Register facts: include/chips/es137x_regs.h (ens1370.c's ES_REG_*,
 * ES_*), checked against QEMU's hw/audio/es1370.c, which the tests run on.
 */
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <sound/core.h>
#include <sound/initval.h>
#include <sound/control.h>
#include <sound/pcm.h>
#include <sound/pcm_params.h>

#include <chips/es137x_regs.h>

#include "drvnucleus.h"

struct drvnucleus_snd {
	struct drvnucleus_dev *d;
	struct snd_card *card;
	struct snd_pcm_substream *substream;	/* open playback stream */
	snd_pcm_uframes_t last_ptr;	/* under d->cl */
	struct drvnucleus_obj *buf;	/* the PCM buffer, under d->lock */
	struct snd_dma_buffer dmab;
	u64 periods;
	bool irq;
	bool held;	/* under d->cl: recovery holds the stream */
	/* While held, the stream's periods elapse on this clock, DAC2's
	 * samples unplayed: ALSA's writer gives up (EIO) after about a
	 * buffer's time without a period, far less than a recovery takes. */
	struct hrtimer hold_clock;
	ktime_t hold_period;
};

static enum hrtimer_restart es_hold_tick(struct hrtimer *t);

/* Ends a substream's upcall with @op and the instance; -EAGAIN if there is
 * no daemon to send it to. */
static int snd_upcall(struct drvnucleus_snd *s, u16 op, u32 *value,
		      int (*fill)(struct sk_buff *, const void *), const void *arg)
{
	struct drvxpc_hdr *hdr;
	struct sk_buff *skb = drvnucleus_upcall_new(s->d, op, &hdr);

	if (!skb)
		return -EAGAIN;
	if (fill && fill(skb, arg)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return drvnucleus_upcall_wait(skb, hdr, value);
}

/* --- data path: interrupt, pointer, trigger ------------------------------ *
 * Under the device's ComboLock (the registers the u-driver's prepare also
 * writes); never waiting for a downcall that holds it. */

/* snd_audiopci_interrupt: not ours -> IRQ_NONE; ack every pending channel
 * by toggling its interrupt enable in SERIAL; DAC2 -> period elapsed. */
static irqreturn_t es_interrupt(int irq, void *data)
{
	struct drvnucleus_snd *s = data;
	struct combolock *cl = &s->d->cl;
	void __iomem *io = s->d->bar;
	struct snd_pcm_substream *ss;
	u32 status, sctrl, ack = 0;
	unsigned long f;

	status = ioread32(io + ES_REG_STATUS);
	if (!(status & ES_INTR) || status == 0xffffffff)
		return IRQ_NONE;
	if (status & ES_DAC1)
		ack |= ES_P1_INT_EN;
	if (status & ES_DAC2)
		ack |= ES_P2_INT_EN;
	if (status & ES_ADC)
		ack |= ES_R1_INT_EN;
	if (combolock_lock_atomic(cl, &f)) {
		/* SERIAL is a downcall's: ack at the release. */
		combolock_defer(cl, COMBO_DEFER_IRQ);
		disable_irq_nosync(irq);
		combolock_unlock(cl, f);
		return IRQ_HANDLED;
	}
	sctrl = ioread32(io + ES_REG_SERIAL);
	iowrite32(sctrl & ~ack, io + ES_REG_SERIAL);
	iowrite32(sctrl, io + ES_REG_SERIAL);
	ss = (status & ES_DAC2) ? s->substream : NULL;
	if (ss)
		s->periods++;
	combolock_unlock(cl, f);
	if (ss)
		snd_pcm_period_elapsed(ss);
	return IRQ_HANDLED;
}

/* snd_ensoniq_playback2_pointer: the DAC's current count (dwords) in the
 * upper half of DAC2_SIZE, page ES_PAGE_DAC. */
static snd_pcm_uframes_t es_pointer(struct snd_pcm_substream *ss)
{
	struct drvnucleus_snd *s = snd_pcm_substream_chip(ss);
	struct combolock *cl = &s->d->cl;
	void __iomem *io = s->d->bar;
	snd_pcm_uframes_t ptr;
	size_t bytes = 0;
	unsigned long f;

	if (combolock_lock_atomic(cl, &f)) {
		/* MEM_PAGE is a downcall's: the last position stands. */
		ptr = s->last_ptr;
		combolock_unlock(cl, f);
		return ptr;
	}
	if (s->held) {
		/* DAC2 stopped for a recovery: the hold clock's position. */
		ptr = s->last_ptr;
		combolock_unlock(cl, f);
		return ptr;
	}
	if (ioread32(io + ES_REG_CONTROL) & ES_DAC2_EN) {
		iowrite32(ES_PAGE_DAC, io + ES_REG_MEM_PAGE);
		bytes = (ioread32(io + ES_REG_DAC2_SIZE) >> 14) & 0x3fffc;
	}
	ptr = bytes_to_frames(ss->runtime, bytes) % ss->runtime->buffer_size;
	s->last_ptr = ptr;
	combolock_unlock(cl, f);
	return ptr;
}

static int es_trigger(struct snd_pcm_substream *ss, int cmd)
{
	struct drvnucleus_snd *s = snd_pcm_substream_chip(ss);
	struct combolock *cl = &s->d->cl;
	void __iomem *io = s->d->bar;
	unsigned long f;
	u32 ctrl;

	/* ALSA triggers after prepare returned, and the u-driver touches
	 * CONTROL only in prepare: a downcall holding it now is a u-driver
	 * out of order, and the trigger fails rather than wait. */
	if (combolock_lock_atomic(cl, &f)) {
		combolock_unlock(cl, f);
		return -EBUSY;
	}
	ctrl = ioread32(io + ES_REG_CONTROL);
	switch (cmd) {
	case SNDRV_PCM_TRIGGER_START:
		ctrl |= ES_DAC2_EN;
		s->last_ptr = 0;
		break;
	case SNDRV_PCM_TRIGGER_STOP:
		ctrl &= ~ES_DAC2_EN;
		break;
	default:
		combolock_unlock(cl, f);
		return -EINVAL;
	}
	iowrite32(ctrl, io + ES_REG_CONTROL);
	combolock_unlock(cl, f);
	return 0;
}

/* --- upcalls: open, hw_params, prepare, close ---------------------------- */

/* ens1370.c's snd_ensoniq_playback2 limits; the rate comes from PCLKDIV. */
static const struct snd_pcm_hardware es_playback = {
	.info			= SNDRV_PCM_INFO_MMAP | SNDRV_PCM_INFO_INTERLEAVED |
				  SNDRV_PCM_INFO_BLOCK_TRANSFER |
				  SNDRV_PCM_INFO_MMAP_VALID,
	.formats		= SNDRV_PCM_FMTBIT_U8 | SNDRV_PCM_FMTBIT_S16_LE,
	.rates			= SNDRV_PCM_RATE_CONTINUOUS | SNDRV_PCM_RATE_8000_48000,
	.rate_min		= 4000,
	.rate_max		= 48000,
	.channels_min		= 1,
	.channels_max		= 2,
	.buffer_bytes_max	= 128 * 1024,
	.period_bytes_min	= 64,
	.period_bytes_max	= 128 * 1024,
	.periods_min		= 1,
	.periods_max		= 1024,
};

static int es_open(struct snd_pcm_substream *ss)
{
	struct drvnucleus_snd *s = snd_pcm_substream_chip(ss);
	unsigned long f;
	int err;

	ss->runtime->hw = es_playback;
	err = snd_upcall(s, DRVXPC_OP_SND_OPEN, NULL, NULL, NULL);
	if (err)
		return err;
	combolock_lock(&s->d->cl, &f);
	s->substream = ss;
	combolock_unlock(&s->d->cl, f);
	return 0;
}

static int es_close(struct snd_pcm_substream *ss)
{
	struct drvnucleus_snd *s = snd_pcm_substream_chip(ss);
	unsigned long f;

	hrtimer_cancel(&s->hold_clock);
	combolock_lock(&s->d->cl, &f);
	s->substream = NULL;
	s->held = false;
	combolock_unlock(&s->d->cl, f);
	/* Nothing to keep: a failed close upcall leaves the stream closed. */
	snd_upcall(s, DRVXPC_OP_SND_CLOSE, NULL, NULL, NULL);
	return 0;
}

struct es_params {
	const struct snd_pcm_hw_params *hw;
	u32 handle;
};

static int fill_hw_params(struct sk_buff *skb, const void *arg)
{
	const struct es_params *p = arg;
	u8 format = params_format(p->hw) == SNDRV_PCM_FORMAT_U8 ? 1 : 2;

	return nla_put_u32(skb, DRVXPC_A_PCM_RATE, params_rate(p->hw)) ||
	       nla_put_u8(skb, DRVXPC_A_PCM_CHANNELS, params_channels(p->hw)) ||
	       nla_put_u8(skb, DRVXPC_A_PCM_FORMAT, format) ||
	       nla_put_u32(skb, DRVXPC_A_PCM_PERIOD_FRAMES, params_period_size(p->hw)) ||
	       nla_put_u32(skb, DRVXPC_A_PCM_BUFFER_FRAMES, params_buffer_size(p->hw)) ||
	       nla_put_u32(skb, DRVXPC_A_DMA_HANDLE, p->handle);
}

/*
 * The nucleus allocates the PCM buffer, as ALSA's core would, but as a
 * tracked object: the u-driver programs its bus address by handle
 * (REG_WRITE_DMA) and a restarted u-driver gets the same handle back.
 */
static int es_hw_params(struct snd_pcm_substream *ss, struct snd_pcm_hw_params *hw)
{
	struct drvnucleus_snd *s = snd_pcm_substream_chip(ss);
	struct drvnucleus_dev *d = s->d;
	u32 bytes = params_buffer_bytes(hw);
	struct drvnucleus_obj *o;
	struct es_params p = { .hw = hw };

	mutex_lock(&d->lock);
	o = s->buf;
	if (!o || o->size < bytes) {
		o = drvnucleus_obj_alloc(d, es_playback.buffer_bytes_max,
					 DRVXPC_ROLE_PCM_PLAYBACK);
		if (!o) {
			mutex_unlock(&d->lock);
			return -ENOMEM;
		}
		o->pinned = true;
		if (s->buf)
			drvnucleus_obj_free(d, s->buf);
		s->buf = o;
	}
	p.handle = o->id;
	s->dmab.dev.type = SNDRV_DMA_TYPE_DEV;
	s->dmab.dev.dev = &d->pdev->dev;
	s->dmab.area = o->cpu;
	s->dmab.addr = o->dma;
	s->dmab.bytes = bytes;
	mutex_unlock(&d->lock);
	snd_pcm_set_runtime_buffer(ss, &s->dmab);
	return snd_upcall(s, DRVXPC_OP_SND_HW_PARAMS, NULL, fill_hw_params, &p);
}

static int es_hw_free(struct snd_pcm_substream *ss)
{
	snd_pcm_set_runtime_buffer(ss, NULL);
	return 0;
}

static int es_prepare(struct snd_pcm_substream *ss)
{
	return snd_upcall(snd_pcm_substream_chip(ss), DRVXPC_OP_SND_PREPARE,
			  NULL, NULL, NULL);
}

static const struct snd_pcm_ops es_pcm_ops = {
	.open		= es_open,	/* upcall */
	.close		= es_close,	/* upcall */
	.hw_params	= es_hw_params,	/* upcall */
	.hw_free	= es_hw_free,
	.prepare	= es_prepare,	/* upcall */
	.trigger	= es_trigger,	/* nucleus */
	.pointer	= es_pointer,	/* nucleus */
};

/* --- mixer: every get and put is an upcall -------------------------------- */

static int fill_mixer(struct sk_buff *skb, const void *arg)
{
	const u32 *cv = arg;	/* { control, value, with value } */

	return nla_put_u16(skb, DRVXPC_A_MIXER_CONTROL, cv[0]) ||
	       (cv[2] && nla_put_u32(skb, DRVXPC_A_MIXER_VALUE, cv[1]));
}

static int es_mixer_info(struct snd_kcontrol *kc, struct snd_ctl_elem_info *ui)
{
	bool sw = kc->private_value == DRVXPC_MIXER_MASTER_MUTE;

	ui->type = sw ? SNDRV_CTL_ELEM_TYPE_BOOLEAN : SNDRV_CTL_ELEM_TYPE_INTEGER;
	ui->count = 1;
	ui->value.integer.min = 0;
	ui->value.integer.max = sw ? 1 : 100;
	return 0;
}

/* "Master Playback Switch" on = not muted; the wire's MASTER_MUTE is 1 when
 * muted. */
static int es_mixer_get(struct snd_kcontrol *kc, struct snd_ctl_elem_value *uc)
{
	struct drvnucleus_snd *s = snd_kcontrol_chip(kc);
	u32 cv[3] = { kc->private_value, 0, 0 }, v = 0;
	int err;

	err = snd_upcall(s, DRVXPC_OP_SND_MIXER_GET, &v, fill_mixer, cv);
	if (err)
		return err;
	if (kc->private_value == DRVXPC_MIXER_MASTER_MUTE)
		uc->value.integer.value[0] = !v;
	else
		uc->value.integer.value[0] = min_t(u32, v, 100);
	return 0;
}

static int es_mixer_put(struct snd_kcontrol *kc, struct snd_ctl_elem_value *uc)
{
	struct drvnucleus_snd *s = snd_kcontrol_chip(kc);
	long v = uc->value.integer.value[0];
	bool sw = kc->private_value == DRVXPC_MIXER_MASTER_MUTE;
	u32 cv[3] = { kc->private_value, 0, 1 };
	int err;

	if (v < 0 || v > (sw ? 1 : 100))
		return -EINVAL;
	cv[1] = sw ? !v : v;
	err = snd_upcall(s, DRVXPC_OP_SND_MIXER_PUT, NULL, fill_mixer, cv);
	return err ? err : 1;
}

static const struct snd_kcontrol_new es_controls[] = {
	{
		.iface = SNDRV_CTL_ELEM_IFACE_MIXER,
		.name = "Master Playback Volume",
		.info = es_mixer_info, .get = es_mixer_get, .put = es_mixer_put,
		.private_value = DRVXPC_MIXER_MASTER,
	}, {
		.iface = SNDRV_CTL_ELEM_IFACE_MIXER,
		.name = "Master Playback Switch",
		.info = es_mixer_info, .get = es_mixer_get, .put = es_mixer_put,
		.private_value = DRVXPC_MIXER_MASTER_MUTE,
	}, {
		.iface = SNDRV_CTL_ELEM_IFACE_MIXER,
		.name = "PCM Playback Volume",
		.info = es_mixer_info, .get = es_mixer_get, .put = es_mixer_put,
		.private_value = DRVXPC_MIXER_PCM,
	},
};

/* --- SND_REGISTER, DEVICE_INFO, removal ----------------------------------- */

static void es_card_free(struct snd_card *card)
{
	struct drvnucleus_snd *s = card->private_data;

	hrtimer_cancel(&s->hold_clock);
	if (s->irq)
		free_irq(s->d->pdev->irq, s);
}

/* SND_REGISTER (called with d->lock held): the card, once; a
 * restarted u-driver's SND_REGISTER finds it registered and is answered
 * with success. */
static int es_register(struct genl_info *info, const struct drvxpc_hdr *h,
		       struct drvnucleus_dev *d)
{
	const struct nlattr *name = drvnucleus_attr(h, DRVXPC_A_CARD_NAME);
	const struct nlattr *chip = drvnucleus_attr(h, DRVXPC_A_CHIP_NAME);
	struct drvnucleus_snd *s;
	struct snd_card *card;
	struct snd_pcm *pcm;
	int err, i;

	if (d->cls_priv)
		return drvnucleus_reply(info, h, 0, 0, NULL);
	if (!name)
		return drvnucleus_reply(info, h, -EINVAL, DRVXPC_A_CARD_NAME,
					"SND_REGISTER needs CARD_NAME");
	err = snd_card_new(&d->pdev->dev, SNDRV_DEFAULT_IDX1, SNDRV_DEFAULT_STR1,
			   THIS_MODULE, sizeof(*s), &card);
	if (err)
		return drvnucleus_reply(info, h, err, 0, "snd_card_new failed");
	s = card->private_data;
	s->d = d;
	s->card = card;
	hrtimer_init(&s->hold_clock, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	s->hold_clock.function = es_hold_tick;
	card->private_free = es_card_free;
	strscpy(card->driver, "ENS1370", sizeof(card->driver));
	strscpy(card->shortname, nla_data(name), sizeof(card->shortname));
	snprintf(card->longname, sizeof(card->longname), "%s (%s) at %s, irq %u, drvnucleus",
		 card->shortname, chip ? (const char *)nla_data(chip) : "?",
		 pci_name(d->pdev), d->pdev->irq);

	err = snd_pcm_new(card, "ES1370/2", 0, 1, 0, &pcm);
	if (err)
		goto err_card;
	pcm->private_data = s;
	strscpy(pcm->name, "ES1370 DAC2", sizeof(pcm->name));
	snd_pcm_set_ops(pcm, SNDRV_PCM_STREAM_PLAYBACK, &es_pcm_ops);
	for (i = 0; i < ARRAY_SIZE(es_controls); i++) {
		err = snd_ctl_add(card, snd_ctl_new1(&es_controls[i], s));
		if (err)
			goto err_card;
	}
	err = request_irq(d->pdev->irq, es_interrupt, IRQF_SHARED, "drvnucleus-snd", s);
	if (err)
		goto err_card;
	s->irq = true;
	err = snd_card_register(card);
	if (err)
		goto err_card;
	d->cls_priv = s;
	dev_info(&d->pdev->dev, "card %d \"%s\" registered for the u-driver\n",
		 card->number, card->shortname);
	return drvnucleus_reply(info, h, 0, 0, NULL);

err_card:
	snd_card_free(card);
	return drvnucleus_reply(info, h, err, 0, "card registration failed");
}

/* The hold clock: one period of the held stream played into the void. */
static enum hrtimer_restart es_hold_tick(struct hrtimer *t)
{
	struct drvnucleus_snd *s = container_of(t, struct drvnucleus_snd, hold_clock);
	struct snd_pcm_substream *ss;
	unsigned long f;

	combolock_lock(&s->d->cl, &f);
	ss = s->held ? s->substream : NULL;
	if (ss && ss->runtime && ss->runtime->buffer_size)
		s->last_ptr = (s->last_ptr + ss->runtime->period_size) %
			      ss->runtime->buffer_size;
	combolock_unlock(&s->d->cl, f);
	if (!ss)
		return HRTIMER_NORESTART;
	snd_pcm_period_elapsed(ss);
	hrtimer_forward_now(t, s->hold_period);
	return HRTIMER_RESTART;
}

/*
 * Recovery's hold, before an attempt that resets the chip (DATAPATH_DISABLE,
 * and DEVICE_READD): DAC2 stops, and a playing stream stays RUNNING for
 * ALSA, its periods elapsing on the hold clock at the stream's rate (the
 * samples go unplayed: the listener hears a gap), so the application
 * writes on instead of failing.  d->lock held.
 */
static void es_hold(struct drvnucleus_dev *d)
{
	struct drvnucleus_snd *s = d->cls_priv;
	void __iomem *io = d->bar;
	struct snd_pcm_substream *ss;
	bool clock = false;
	unsigned long f;

	if (!s)
		return;
	combolock_lock(&d->cl, &f);
	ss = s->substream;
	if (!s->held && ss && ss->runtime && ss->runtime->rate &&
	    ss->runtime->period_size && snd_pcm_running(ss)) {
		s->hold_period = ns_to_ktime(div_u64((u64)ss->runtime->period_size *
						     NSEC_PER_SEC, ss->runtime->rate));
		clock = true;
	}
	s->held = true;
	iowrite32(ioread32(io + ES_REG_CONTROL) & ~ES_DAC2_EN, io + ES_REG_CONTROL);
	combolock_unlock(&d->cl, f);
	if (clock)
		hrtimer_start(&s->hold_clock, s->hold_period, HRTIMER_MODE_REL_SOFT);
}

/*
 * DATAPATH_ENABLE: the release, once the daemon replayed the configuration
 * into the reset chip (hw_params and prepare programmed DAC2 again).  A
 * stream ALSA still has running starts again from the buffer's start.
 */
static int es_release_hold(struct genl_info *info, const struct drvxpc_hdr *h,
			   struct drvnucleus_dev *d)
{
	struct drvnucleus_snd *s = d->cls_priv;
	void __iomem *io = d->bar;
	struct snd_pcm_substream *ss;
	unsigned long f;
	bool start;

	if (!s)
		return drvnucleus_reply(info, h, -ENODEV, 0, "no card registered");
	hrtimer_cancel(&s->hold_clock);
	combolock_lock(&d->cl, &f);
	ss = s->substream;
	combolock_unlock(&d->cl, f);
	/* The stream's lock before the ComboLock, as in es_pointer(). */
	if (ss)
		snd_pcm_stream_lock_irq(ss);
	combolock_lock(&d->cl, &f);
	start = s->held && ss && s->substream == ss && snd_pcm_running(ss);
	if (start)
		iowrite32(ioread32(io + ES_REG_CONTROL) | ES_DAC2_EN, io + ES_REG_CONTROL);
	s->held = false;
	combolock_unlock(&d->cl, f);
	if (ss)
		snd_pcm_stream_unlock_irq(ss);
	if (start)
		dev_info(&d->pdev->dev, "the held stream plays again after the recovery\n");
	return drvnucleus_reply(info, h, 0, 0, NULL);
}

static int es1370_op(struct genl_info *info, const struct drvxpc_hdr *h,
		     struct drvnucleus_dev *d)
{
	if (h->op == DRVXPC_OP_SND_REGISTER)
		return es_register(info, h, d);
	if (h->op == DRVXPC_OP_DATAPATH_DISABLE) {
		if (!d->cls_priv)
			return drvnucleus_reply(info, h, -ENODEV, 0, "no card registered");
		es_hold(d);
		return drvnucleus_reply(info, h, 0, 0, NULL);
	}
	if (h->op == DRVXPC_OP_DATAPATH_ENABLE)
		return es_release_hold(info, h, d);
	return drvnucleus_reply(info, h, -EOPNOTSUPP, 0,
				"not a sound device's operation");
}

/* QUIESCE (d->lock held): the u-driver is given up on.  Stop the
 * DAC and the stream playing on it; the card stays registered, and every
 * later upcall is answered with an error by the daemon. */
static void es1370_quiesce(struct drvnucleus_dev *d)
{
	struct drvnucleus_snd *s = d->cls_priv;
	struct snd_pcm_substream *ss;
	void __iomem *io = d->bar;
	unsigned long f;

	if (!s)
		return;
	hrtimer_cancel(&s->hold_clock);
	combolock_lock(&d->cl, &f);
	iowrite32(ioread32(io + ES_REG_CONTROL) & ~ES_DAC2_EN, io + ES_REG_CONTROL);
	s->held = false;
	ss = s->substream;
	combolock_unlock(&d->cl, f);
	if (ss) {
		snd_pcm_stream_lock_irq(ss);
		if (snd_pcm_running(ss))
			snd_pcm_stop(ss, SNDRV_PCM_STATE_SETUP);
		snd_pcm_stream_unlock_irq(ss);
	}
}

/* DEVICE_INFO: the DAC2 rate read back from PCLKDIV, periods served and
 * whether the DAC runs.  Called with d->lock held. */
static int es1370_info(struct sk_buff *skb, struct drvnucleus_dev *d)
{
	struct drvnucleus_snd *s = d->cls_priv;
	u32 ctrl = ioread32(d->bar + ES_REG_CONTROL);
	u32 rate = ES_1370_SRCLOCK / (ES_PCLKDIV(ctrl) + 2);

	if (d->pdev->device != 0x5000)	/* the ES1371 rate is in its SRC */
		return 0;
	if (nla_put_u32(skb, DRVXPC_A_PCM_RATE, clamp_t(u32, rate, 4000, 192000)) ||
	    nla_put_u8(skb, DRVXPC_A_DATAPATH_ON, !!(ctrl & ES_DAC2_EN)))
		return -EMSGSIZE;
	if (s && (nla_put_string(skb, DRVXPC_A_CARD_NAME, s->card->shortname) ||
		  nla_put_u64_64bit(skb, DRVXPC_A_PERIODS, READ_ONCE(s->periods), 0)))
		return -EMSGSIZE;
	return 0;
}

/* The device is already out of the table: no downcall reaches it.  The
 * card goes (waiting for open files to close) before the buffer it uses. */
static void es1370_remove(struct drvnucleus_dev *d)
{
	struct drvnucleus_snd *s = d->cls_priv;

	if (!s)
		return;
	d->cls_priv = NULL;
	snd_card_free(s->card);
}

/* The ComboLock's release: the interrupt line the handler held off. */
static void es1370_release(struct drvnucleus_dev *d, unsigned long deferred)
{
	if (deferred & COMBO_DEFER_IRQ)
		enable_irq(d->pdev->irq);
}

/* CONTROL, MEM_PAGE, SERIAL and the paged frame registers: what the
 * interrupt handler, the pointer and the trigger touch. */
static bool es1370_datapath_reg(const struct drvnucleus_dev *d, u32 off, u32 width)
{
	u32 end = off + width;

	return off < ES_REG_CONTROL + 4 ||
	       (off < ES_REG_MEM_PAGE + 4 && end > ES_REG_MEM_PAGE) ||
	       (off < ES_REG_SERIAL + 4 && end > ES_REG_SERIAL) || end > 0x30;
}

/*
 * What a downcall may write (write_check).  On the DAC and ADC pages the
 * frame registers hold bus addresses, REG_WRITE_DMA's only, and a size
 * register may not reach past the object its frame register points into
 * (the u-driver writes the frame first).  DAC1 and the ADC stay off: the
 * nucleus plays DAC2 only, and the ADC would write to whatever its frame
 * register holds (0 after a reset).
 */
static int es1370_write_check(struct drvnucleus_dev *d, u32 off, u32 width,
			      u32 value, bool dma, const char **why)
{
	void __iomem *io = d->bar;
	u32 page, reg, v;

	if (drvnucleus_touches(off, width, ES_REG_CONTROL, 4) && !dma &&
	    drvnucleus_merged(d, ES_REG_CONTROL, off, width, value) &
	    (ES_DAC1_EN | ES_ADC_EN)) {
		*why = "CONTROL: DAC1 and the ADC stay off (DAC2 plays)";
		return -EPERM;
	}
	if (off + width <= ES_REG_MEM_WINDOW) {
		if (!dma)
			return 0;
		*why = "REG_WRITE_DMA goes to a frame register";
		return -EPERM;
	}
	page = ioread32(io + ES_REG_MEM_PAGE) & ES_MEM_PAGE_MASK;
	if (page != ES_PAGE_DAC && page != ES_PAGE_ADC) {
		if (!dma)
			return 0;
		*why = "REG_WRITE_DMA goes to a frame register";
		return -EPERM;
	}
	reg = off & ~3U;
	/* 0x30 and 0x38 frames, 0x34 and 0x3c sizes (the ADC page has one
	 * pair at 0x30/0x34; its upper half is unused and refused alike). */
	if (!(reg & 4)) {
		if (dma && off == reg && width == 4)
			return 0;
		*why = "a frame register takes REG_WRITE_DMA's only";
		return -EPERM;
	}
	if (dma || (off & 3) + width > 4) {
		*why = "a size register takes a size";
		return -EPERM;
	}
	v = drvnucleus_merged(d, reg, off, width, value);
	if (((v & ES_SIZE_MASK) + 1) * 4 >
	    drvnucleus_dma_room(d, ioread32(io + reg - 4))) {
		*why = "a size past the DMA object the frame register points into";
		return -EINVAL;
	}
	return 0;
}

/*
 * The sound class, as this nucleus has it: ALSA's card registered by the
 * u-driver's SND_REGISTER.  It lives with its one chip; a second sound chip
 * would move the card, the upcalls and the mixer into a sound.c of their
 * own, as the network class is in net.c.
 */
static const struct drvnucleus_class es1370_sound_class = {
	.name		= "sound",
	.id		= DRVXPC_CLASS_SOUND,
	.op		= es1370_op,
	.quiesce	= es1370_quiesce,
	.hold		= es_hold,
	.release	= es1370_release,
	.remove		= es1370_remove,
};

/* ES1370 and ES1371 (bound like the ES1370; QEMU has no ES1371). */
const struct drvnucleus_chip es1370_chip = {
	.name		= "ES137x",
	.cls		= &es1370_sound_class,
	.bar		= 0,	/* I/O */
	.dma_bits	= 32,	/* DAC2 frame address */
	.datapath_reg	= es1370_datapath_reg,
	.write_check	= es1370_write_check,
	.info		= es1370_info,
};
