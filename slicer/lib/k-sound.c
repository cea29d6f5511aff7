// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: ALSA's pure helpers, run locally.
 *
 * What a sound driver's user half calls that reads only its arguments
 * and changes no kernel object: a format's width, the boolean control's
 * info.  snd_pcm_std_chmaps is the kernel's table, here so that the user
 * half can name it; the kernel API's snd_pcm_add_chmap_ctls
 * (slicer/lib/k-api.c) hands the kernel its own when the driver passes
 * this one.  The contents are the kernel's (sound/core/pcm_misc.c,
 * control.c, pcm_lib.c of linux 6.1).
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <sound/asound.h>
#include <sound/control.h>
#include <sound/pcm.h>

/* Bits per sample; 0: a format with none (SPECIAL, MPEG, GSM). */
static const unsigned char format_width[(__force int)SNDRV_PCM_FORMAT_LAST + 1] = {
	[(__force int)SNDRV_PCM_FORMAT_S8] = 8,
	[(__force int)SNDRV_PCM_FORMAT_U8] = 8,
	[(__force int)SNDRV_PCM_FORMAT_S16_LE] = 16,
	[(__force int)SNDRV_PCM_FORMAT_S16_BE] = 16,
	[(__force int)SNDRV_PCM_FORMAT_U16_LE] = 16,
	[(__force int)SNDRV_PCM_FORMAT_U16_BE] = 16,
	[(__force int)SNDRV_PCM_FORMAT_S24_LE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_S24_BE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_U24_LE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_U24_BE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_S32_LE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_S32_BE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_U32_LE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_U32_BE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_FLOAT_LE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_FLOAT_BE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_FLOAT64_LE] = 64,
	[(__force int)SNDRV_PCM_FORMAT_FLOAT64_BE] = 64,
	[(__force int)SNDRV_PCM_FORMAT_IEC958_SUBFRAME_LE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_IEC958_SUBFRAME_BE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_MU_LAW] = 8,
	[(__force int)SNDRV_PCM_FORMAT_A_LAW] = 8,
	[(__force int)SNDRV_PCM_FORMAT_IMA_ADPCM] = 4,
	[(__force int)SNDRV_PCM_FORMAT_G723_24] = 3,
	[(__force int)SNDRV_PCM_FORMAT_G723_40] = 5,
	[(__force int)SNDRV_PCM_FORMAT_DSD_U8] = 8,
	[(__force int)SNDRV_PCM_FORMAT_DSD_U16_LE] = 16,
	[(__force int)SNDRV_PCM_FORMAT_DSD_U32_LE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_DSD_U16_BE] = 16,
	[(__force int)SNDRV_PCM_FORMAT_DSD_U32_BE] = 32,
	[(__force int)SNDRV_PCM_FORMAT_S20_LE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_S20_BE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_U20_LE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_U20_BE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_S24_3LE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_S24_3BE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_U24_3LE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_U24_3BE] = 24,
	[(__force int)SNDRV_PCM_FORMAT_S20_3LE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_S20_3BE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_U20_3LE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_U20_3BE] = 20,
	[(__force int)SNDRV_PCM_FORMAT_S18_3LE] = 18,
	[(__force int)SNDRV_PCM_FORMAT_S18_3BE] = 18,
	[(__force int)SNDRV_PCM_FORMAT_U18_3LE] = 18,
	[(__force int)SNDRV_PCM_FORMAT_U18_3BE] = 18,
	[(__force int)SNDRV_PCM_FORMAT_G723_24_1B] = 3,
	[(__force int)SNDRV_PCM_FORMAT_G723_40_1B] = 5,
};

int snd_pcm_format_width(snd_pcm_format_t format)
{
	int f = (__force int)format;

	if (f < 0 || f > (__force int)SNDRV_PCM_FORMAT_LAST || !format_width[f])
		return -EINVAL;
	return format_width[f];
}

int snd_ctl_boolean_mono_info(struct snd_kcontrol *kcontrol,
			      struct snd_ctl_elem_info *uinfo)
{
	uinfo->type = SNDRV_CTL_ELEM_TYPE_BOOLEAN;
	uinfo->count = 1;
	uinfo->value.integer.min = 0;
	uinfo->value.integer.max = 1;
	return 0;
}

const struct snd_pcm_chmap_elem snd_pcm_std_chmaps[] = {
	{ .channels = 1,
	  .map = { SNDRV_CHMAP_MONO } },
	{ .channels = 2,
	  .map = { SNDRV_CHMAP_FL, SNDRV_CHMAP_FR } },
	{ .channels = 4,
	  .map = { SNDRV_CHMAP_FL, SNDRV_CHMAP_FR,
		   SNDRV_CHMAP_RL, SNDRV_CHMAP_RR } },
	{ .channels = 6,
	  .map = { SNDRV_CHMAP_FL, SNDRV_CHMAP_FR,
		   SNDRV_CHMAP_RL, SNDRV_CHMAP_RR,
		   SNDRV_CHMAP_FC, SNDRV_CHMAP_LFE } },
	{ .channels = 8,
	  .map = { SNDRV_CHMAP_FL, SNDRV_CHMAP_FR,
		   SNDRV_CHMAP_RL, SNDRV_CHMAP_RR,
		   SNDRV_CHMAP_FC, SNDRV_CHMAP_LFE,
		   SNDRV_CHMAP_SL, SNDRV_CHMAP_SR } },
	{ }
};
