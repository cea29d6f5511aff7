/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * es137x_regs.h - the Ensoniq AudioPCI ES1370 / ES1371 register map and
 * their codecs' (AK4531 on the ES1370, AC'97 on the ES1371), written once
 * for the nucleus (module/es1370.c), the u-driver (Sources/Drivers/ENS137x,
 * through the CChips target) and the simulator's model.
 *
 * Offsets and bit names are Linux's sound/pci/ens1370.c, in address order,
 * each register's bits below it; "1370:" / "1371:" marks what one chip
 * only has.  Every constant is unsigned, so Swift imports it as UInt32.
 * Only playback channel 2 (DAC2) is used; DAC1 and the ADC bits are named
 * where the interrupt handler must know them.
 */
#ifndef _CHIPS_ES137X_REGS_H
#define _CHIPS_ES137X_REGS_H

#define ES_REG_SIZE		0x40U	/* BAR 0 length */

#define ES_REG_CONTROL		0x00U	/* R/W: interrupt / chip select control */
#define  ES_1371_SYNC_RES	0x00004000U	/* 1371: warm AC'97 reset */
#define  ES_DAC1_EN		0x00000040U	/* DAC1 playback on */
#define  ES_DAC2_EN		0x00000020U	/* DAC2 playback on */
#define  ES_ADC_EN		0x00000010U	/* ADC capture on */
#define  ES_1370_PCLKDIV_SHIFT	16U		/* 1370: DAC2 clock divider, 28:16 */
#define  ES_1370_PCLKDIV_MASK	0x1fff0000U
#define  ES_PCLKDIV(ctrl)	\
	(((ctrl) & ES_1370_PCLKDIV_MASK) >> ES_1370_PCLKDIV_SHIFT)
#define  ES_1370_CDC_EN		0x00000002U	/* 1370: codec interface enable */
#define  ES_1370_SERR_DISABLE	0x00000001U	/* 1370: no PCI SERR# */
/* 1370: DAC2 rate = ES_1370_SRCLOCK / (PCLKDIV + 2) (ES_1370_SRTODIV) */
#define ES_1370_SRCLOCK		1411200U

#define ES_REG_STATUS		0x04U	/* R/O: interrupt / chip select status */
#define  ES_INTR		0x80000000U	/* any interrupt pending */
#define  ES_1370_CSTAT		0x00000400U	/* 1370: codec busy or write in progress */
#define  ES_DAC1		0x00000004U	/* DAC1 interrupt pending */
#define  ES_DAC2		0x00000002U	/* DAC2 interrupt pending */
#define  ES_ADC			0x00000001U	/* ADC interrupt pending */

#define ES_REG_UART_CONTROL	0x09U	/* W/O: UART control (byte) */
#define ES_REG_UART_RES		0x0aU	/* R/W: UART reserved (byte) */

#define ES_REG_MEM_PAGE		0x0cU	/* R/W: page shown at ES_REG_MEM_WINDOW */
#define  ES_MEM_PAGE_MASK	0x0000000fU
#define  ES_PAGE_DAC		0x0cU	/* DAC1 and DAC2 frame registers */
#define  ES_PAGE_ADC		0x0dU	/* ADC frame registers */

#define ES_REG_1370_CODEC	0x10U	/* 1370, W/O: AK4531 write (word) */
#define  ES_1370_CODEC_ADDR_SHIFT 8U		/* register in 15:8, value in 7:0 */
#define  ES_1370_CODEC_DATA_MASK 0x000000ffU
#define ES_REG_1371_SMPRATE	0x10U	/* 1371, R/W: sample rate converter */
#define  ES_1371_SRC_RAM_ADDR_SHIFT 25U		/* SRC RAM address, 31:25 */
#define  ES_1371_SRC_RAM_ADDR_MASK 0xfe000000U
#define  ES_1371_SRC_RAM_WE	0x01000000U	/* write the data to the address */
#define  ES_1371_SRC_RAM_BUSY	0x00800000U	/* R/O: a RAM access is under way */
#define  ES_1371_SRC_DISABLE	0x00400000U
#define  ES_1371_DIS_P1		0x00200000U	/* DAC1 rate held */
#define  ES_1371_DIS_P2		0x00100000U	/* DAC2 rate held */
#define  ES_1371_DIS_R1		0x00080000U	/* ADC rate held */
/* The state bits a read waits on, and "state 1": the data is valid. */
#define  ES_1371_SRC_STATE_MASK	0x00870000U
#define  ES_1371_SRC_STATE_READ	0x00010000U
#define  ES_1371_SRC_RAM_DATA_MASK 0x0000ffffU
#define ES_1371_SRC_RAM_SIZE	0x80U	/* SRC RAM words */
#define  ES_SMPREG_TRUNC_N	0x00U	/* per channel, from its base */
#define  ES_SMPREG_INT_REGS	0x01U
#define   ES_SMPREG_INT_MASK	0xfc00U	/* INT_REGS 15:10: integer part */
#define  ES_SMPREG_VFREQ_FRAC	0x03U
#define   ES_SMPREG_FRAC_MASK	0x7fffU
#define  ES_SMPREG_VOL_ADC	0x6cU
#define  ES_SMPREG_DAC1		0x70U	/* channel bases */
#define  ES_SMPREG_DAC2		0x74U
#define  ES_SMPREG_ADC		0x78U
#define  ES_SMPREG_VOL_DAC1	0x7cU
#define  ES_SMPREG_VOL_DAC2	0x7eU

#define ES_REG_1371_CODEC	0x14U	/* 1371, R/W: AC'97 codec read/write */
#define  ES_1371_CODEC_RDY	0x80000000U	/* R/O: read data valid */
#define  ES_1371_CODEC_WIP	0x40000000U	/* R/O: access in progress */
#define  ES_1371_CODEC_PIRD	0x00800000U	/* a read, not a write */
#define  ES_1371_CODEC_ADDR_SHIFT 16U		/* register in 22:16 */
#define  ES_1371_CODEC_ADDR_MASK 0x007f0000U
#define  ES_1371_CODEC_DATA_MASK 0x0000ffffU

#define ES_REG_1371_LEGACY	0x18U	/* 1371, R/W: legacy control/status */

#define ES_REG_SERIAL		0x20U	/* R/W: serial interface control */
#define  ES_P2_END_INC_SHIFT	19U		/* DAC2 end increment, 21:19 */
#define  ES_P2_END_INC_MASK	0x00380000U
#define  ES_P2_ST_INC_SHIFT	16U		/* DAC2 start increment, 18:16 */
#define  ES_P2_ST_INC_MASK	0x00070000U
#define  ES_P2_LOOP_SEL		0x00004000U
#define  ES_P2_PAUSE		0x00001000U
#define  ES_R1_INT_EN		0x00000400U
#define  ES_P2_INT_EN		0x00000200U
#define  ES_P1_INT_EN		0x00000100U
#define  ES_P2_DAC_SEN		0x00000040U
#define  ES_P2_MODE_SHIFT	2U		/* DAC2 mode, 3:2 */
#define  ES_P2_MODE_MASK	0x0000000cU
#define  ES_MODE_16BIT		0x2U		/* mode bits */
#define  ES_MODE_STEREO		0x1U

#define ES_REG_DAC2_COUNT	0x28U	/* R/W: DAC2 sample count */
#define  ES_COUNT_MASK		0x0000ffffU	/* samples per period - 1 */
#define  ES_CURR_COUNT_SHIFT	16U		/* R/O: current count, 31:16 */

#define ES_REG_MEM_WINDOW	0x30U	/* 0x30..0x3f: the ES_REG_MEM_PAGE page */
#define ES_REG_DAC1_FRAME	0x30U	/* page ES_PAGE_DAC: DAC1 buffer address */
#define ES_REG_DAC1_SIZE	0x34U	/* page ES_PAGE_DAC: DAC1 buffer size */
#define ES_REG_DAC2_FRAME	0x38U	/* page ES_PAGE_DAC: DAC2 buffer address */
#define ES_REG_DAC2_SIZE	0x3cU	/* page ES_PAGE_DAC: DAC2 buffer size */
#define ES_REG_ADC_FRAME	0x30U	/* page ES_PAGE_ADC: ADC buffer address */
#define ES_REG_ADC_SIZE		0x34U	/* page ES_PAGE_ADC: ADC buffer size */
#define  ES_SIZE_MASK		0x0000ffffU	/* dwords - 1 */
#define  ES_CURR_SIZE_SHIFT	16U		/* R/O: current dword, 31:16 */

/* AK4531 codec registers (1370), written through ES_REG_1370_CODEC. */
#define ES_AK4531_LMASTER	0x00U
#define ES_AK4531_RMASTER	0x01U
#define ES_AK4531_LVOICE	0x02U
#define ES_AK4531_RVOICE	0x03U
#define  ES_AK4531_MUTE		0x80U	/* volumes: mute */
#define  ES_AK4531_ATT_MASK	0x1fU	/* volumes: attenuation, 2 dB steps */
#define ES_AK4531_RESET		0x16U

/* AC'97 codec registers (1371; Intel AC'97 2.3, 5.7), through
 * ES_REG_1371_CODEC. */
#define ES_AC97_RESET		0x00U
#define ES_AC97_MASTER		0x02U	/* 15 mute, 13:8 left, 5:0 right attenuation */
#define  ES_AC97_MUTE		0x8000U
#define  ES_AC97_ATT_MASK	0x1fU	/* per side, 1.5 dB steps */
#define  ES_AC97_LEFT_SHIFT	8U
#define ES_AC97_HEADPHONE	0x04U
#define ES_AC97_PCM		0x18U	/* PCM out: 15 mute, 12:8 / 4:0 gain */
#define ES_AC97_POWERDOWN	0x26U
#define ES_AC97_VENDOR_ID1	0x7cU
#define ES_AC97_VENDOR_ID2	0x7eU

#endif /* _CHIPS_ES137X_REGS_H */
