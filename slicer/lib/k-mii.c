// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the generic MII library for a user half.
 *
 * Provides what drivers/net/mii.c exports (linux/mii.h): mii_link_ok,
 * mii_nway_restart, mii_check_link, mii_check_media,
 * mii_check_gmii_support, mii_ethtool_gset, mii_ethtool_sset,
 * mii_ethtool_get_link_ksettings, mii_ethtool_set_link_ksettings and
 * generic_mii_ioctl; and, since the link_ksettings pair needs them, the
 * two legacy link mode conversions of net/ethtool/ioctl.c
 * (ethtool_convert_legacy_u32_to_link_mode,
 * ethtool_convert_link_mode_to_legacy_u32).
 *
 * The MII library only talks to the PHY through the driver's own
 * mdio_read/mdio_write callbacks in struct mii_if_info and reads or
 * changes that struct and the ethtool structs it is given, so it runs in
 * the u-driver's process with the kernel's semantics: the same registers
 * read and written in the same order (BMSR read twice for the link, its
 * link bit being latched low), the same ethtool bits, speeds, duplex
 * resolution, return values and messages.
 *
 * Departures: none in behaviour.  The carrier is the exception to "runs
 * here": netif_carrier_ok() is inline and reads the u-driver's copy of
 * dev->state, but netif_carrier_on() and netif_carrier_off() change the
 * kernel's net_device (link watch, queues), so this file only calls them:
 * they stay undefined in the library and are the kernel side's.  The
 * kernel's code is duplicated between the ethtool_cmd and the
 * ethtool_link_ksettings variants; here both share one reading and one
 * writing of the PHY.
 */
#include <linux/ethtool.h>
#include <linux/kernel.h>
#include <linux/linkmode.h>
#include <linux/mii.h>
#include <linux/netdevice.h>
#include <linux/sockios.h>

void ethtool_convert_legacy_u32_to_link_mode(unsigned long *dst, u32 legacy_u32)
{
	linkmode_zero(dst);
	dst[0] = legacy_u32;
}

/* false if @src has modes beyond the legacy 32 bits; *@legacy_u32 is set anyway. */
bool ethtool_convert_link_mode_to_legacy_u32(u32 *legacy_u32, const unsigned long *src)
{
	unsigned int bit;

	*legacy_u32 = src[0];
	for (bit = 32; bit < __ETHTOOL_LINK_MODE_MASK_NBITS; bit++)
		if (test_bit(bit, src))
			return false;
	return true;
}

/* An advertisement register (ADVERTISE or LPA) as ethtool ADVERTISED_ bits. */
static u32 mii_read_an(struct mii_if_info *mii, int reg)
{
	return mii_lpa_to_ethtool_lpa_t(mii->mdio_read(mii->dev, mii->phy_id, reg));
}

/* What mii_ethtool_gset and mii_ethtool_get_link_ksettings report. */
struct mii_settings {
	u32 supported;
	u32 advertising;
	u32 lp_advertising;
	u32 speed;
	u8 duplex;
	u8 autoneg;
};

static void mii_get_settings(struct mii_if_info *mii, struct mii_settings *s)
{
	struct net_device *dev = mii->dev;
	u16 bmcr, bmsr, ctrl1000 = 0, stat1000 = 0;
	u32 nego;

	s->supported = SUPPORTED_10baseT_Half | SUPPORTED_10baseT_Full |
		       SUPPORTED_100baseT_Half | SUPPORTED_100baseT_Full |
		       SUPPORTED_Autoneg | SUPPORTED_TP | SUPPORTED_MII;
	if (mii->supports_gmii)
		s->supported |= SUPPORTED_1000baseT_Half | SUPPORTED_1000baseT_Full;
	s->advertising = ADVERTISED_TP | ADVERTISED_MII;
	s->lp_advertising = 0;

	bmcr = mii->mdio_read(dev, mii->phy_id, MII_BMCR);
	bmsr = mii->mdio_read(dev, mii->phy_id, MII_BMSR);
	if (mii->supports_gmii) {
		ctrl1000 = mii->mdio_read(dev, mii->phy_id, MII_CTRL1000);
		stat1000 = mii->mdio_read(dev, mii->phy_id, MII_STAT1000);
	}
	s->advertising |= mii_read_an(mii, MII_ADVERTISE);
	if (mii->supports_gmii)
		s->advertising |= mii_ctrl1000_to_ethtool_adv_t(ctrl1000);

	if (!(bmcr & BMCR_ANENABLE)) {
		/* Forced: BMCR says it all (SPEED1000 with SPEED100 is reserved). */
		s->autoneg = AUTONEG_DISABLE;
		if ((bmcr & BMCR_SPEED1000) && !(bmcr & BMCR_SPEED100))
			s->speed = SPEED_1000;
		else if (bmcr & BMCR_SPEED100)
			s->speed = SPEED_100;
		else
			s->speed = SPEED_10;
		s->duplex = (bmcr & BMCR_FULLDPLX) ? DUPLEX_FULL : DUPLEX_HALF;
		return;
	}

	s->advertising |= ADVERTISED_Autoneg;
	s->autoneg = AUTONEG_ENABLE;
	if (bmsr & BMSR_ANEGCOMPLETE)
		s->lp_advertising = mii_read_an(mii, MII_LPA) |
				    mii_stat1000_to_ethtool_lpa_t(stat1000);

	/* The best mode both ends advertise (10 half when there is none). */
	nego = s->advertising & s->lp_advertising;
	if (nego & (ADVERTISED_1000baseT_Full | ADVERTISED_1000baseT_Half)) {
		s->speed = SPEED_1000;
		s->duplex = !!(nego & ADVERTISED_1000baseT_Full);
	} else if (nego & (ADVERTISED_100baseT_Full | ADVERTISED_100baseT_Half)) {
		s->speed = SPEED_100;
		s->duplex = !!(nego & ADVERTISED_100baseT_Full);
	} else {
		s->speed = SPEED_10;
		s->duplex = !!(nego & ADVERTISED_10baseT_Full);
	}
}

/* @ecmd is expected to have been cleared by the caller. */
void mii_ethtool_gset(struct mii_if_info *mii, struct ethtool_cmd *ecmd)
{
	struct mii_settings s;

	ecmd->port = PORT_MII;			/* only twisted pair */
	ecmd->transceiver = XCVR_INTERNAL;	/* only an internal transceiver */
	ecmd->phy_address = mii->phy_id;
	ecmd->mdio_support = ETH_MDIO_SUPPORTS_C22;

	mii_get_settings(mii, &s);
	ecmd->supported = s.supported;
	ecmd->advertising = s.advertising;
	if (s.autoneg == AUTONEG_ENABLE)
		ecmd->lp_advertising = s.lp_advertising;
	ecmd->autoneg = s.autoneg;
	ethtool_cmd_speed_set(ecmd, s.speed);
	ecmd->duplex = s.duplex;
	mii->full_duplex = s.duplex;
}

/* @cmd is expected to have been cleared by the caller. */
void mii_ethtool_get_link_ksettings(struct mii_if_info *mii, struct ethtool_link_ksettings *cmd)
{
	struct mii_settings s;

	cmd->base.port = PORT_MII;
	cmd->base.phy_address = mii->phy_id;
	cmd->base.mdio_support = ETH_MDIO_SUPPORTS_C22;

	mii_get_settings(mii, &s);
	cmd->base.autoneg = s.autoneg;
	cmd->base.speed = s.speed;
	cmd->base.duplex = s.duplex;
	mii->full_duplex = s.duplex;

	ethtool_convert_legacy_u32_to_link_mode(cmd->link_modes.supported, s.supported);
	ethtool_convert_legacy_u32_to_link_mode(cmd->link_modes.advertising, s.advertising);
	ethtool_convert_legacy_u32_to_link_mode(cmd->link_modes.lp_advertising, s.lp_advertising);
}

/*
 * What mii_ethtool_sset and mii_ethtool_set_link_ksettings share once
 * port, transceiver and PHY address are checked: the remaining checks,
 * then autonegotiation of @advertising (restarted) or the forced mode.
 */
static int mii_set_settings(struct mii_if_info *mii, u32 speed, u8 duplex, u8 autoneg,
			    u32 advertising)
{
	struct net_device *dev = mii->dev;
	u32 bmcr, tmp;

	if (speed != SPEED_10 && speed != SPEED_100 && speed != SPEED_1000)
		return -EINVAL;
	if (duplex != DUPLEX_HALF && duplex != DUPLEX_FULL)
		return -EINVAL;
	if (autoneg != AUTONEG_DISABLE && autoneg != AUTONEG_ENABLE)
		return -EINVAL;
	if (speed == SPEED_1000 && !mii->supports_gmii)
		return -EINVAL;

	if (autoneg == AUTONEG_ENABLE) {
		u32 advert, advert2 = 0, tmp2 = 0;

		if (!(advertising & (ADVERTISED_10baseT_Half | ADVERTISED_10baseT_Full |
				     ADVERTISED_100baseT_Half | ADVERTISED_100baseT_Full |
				     ADVERTISED_1000baseT_Half | ADVERTISED_1000baseT_Full)))
			return -EINVAL;

		/* Advertise only what has been asked for. */
		advert = mii->mdio_read(dev, mii->phy_id, MII_ADVERTISE);
		tmp = advert & ~(ADVERTISE_ALL | ADVERTISE_100BASE4);
		if (mii->supports_gmii) {
			advert2 = mii->mdio_read(dev, mii->phy_id, MII_CTRL1000);
			tmp2 = advert2 & ~(ADVERTISE_1000HALF | ADVERTISE_1000FULL);
		}
		tmp |= ethtool_adv_to_mii_adv_t(advertising);
		if (mii->supports_gmii)
			tmp2 |= ethtool_adv_to_mii_ctrl1000_t(advertising);
		if (advert != tmp) {
			mii->mdio_write(dev, mii->phy_id, MII_ADVERTISE, tmp);
			mii->advertising = tmp;
		}
		if (mii->supports_gmii && advert2 != tmp2)
			mii->mdio_write(dev, mii->phy_id, MII_CTRL1000, tmp2);

		/* Autonegotiation on, and negotiate again now. */
		bmcr = mii->mdio_read(dev, mii->phy_id, MII_BMCR);
		bmcr |= BMCR_ANENABLE | BMCR_ANRESTART;
		mii->mdio_write(dev, mii->phy_id, MII_BMCR, bmcr);
		mii->force_media = 0;
		return 0;
	}

	/* Autonegotiation off, speed and duplex forced. */
	bmcr = mii->mdio_read(dev, mii->phy_id, MII_BMCR);
	tmp = bmcr & ~(BMCR_ANENABLE | BMCR_SPEED100 | BMCR_SPEED1000 | BMCR_FULLDPLX);
	if (speed == SPEED_1000)
		tmp |= BMCR_SPEED1000;
	else if (speed == SPEED_100)
		tmp |= BMCR_SPEED100;
	if (duplex == DUPLEX_FULL)
		tmp |= BMCR_FULLDPLX;
	mii->full_duplex = duplex == DUPLEX_FULL;
	if (bmcr != tmp)
		mii->mdio_write(dev, mii->phy_id, MII_BMCR, tmp);
	mii->force_media = 1;
	return 0;
}

int mii_ethtool_sset(struct mii_if_info *mii, struct ethtool_cmd *ecmd)
{
	if (ecmd->port != PORT_MII || ecmd->transceiver != XCVR_INTERNAL ||
	    ecmd->phy_address != mii->phy_id)
		return -EINVAL;
	/* supported, maxtxpkt and maxrxpkt are ignored */
	return mii_set_settings(mii, ethtool_cmd_speed(ecmd), ecmd->duplex, ecmd->autoneg,
				ecmd->advertising);
}

int mii_ethtool_set_link_ksettings(struct mii_if_info *mii,
				   const struct ethtool_link_ksettings *cmd)
{
	u32 advertising;

	if (cmd->base.port != PORT_MII || cmd->base.phy_address != mii->phy_id)
		return -EINVAL;
	/* Modes beyond the legacy 32 bits are none the MII PHY has. */
	ethtool_convert_link_mode_to_legacy_u32(&advertising, cmd->link_modes.advertising);
	return mii_set_settings(mii, cmd->base.speed, cmd->base.duplex, cmd->base.autoneg,
				advertising);
}

/* 1 when the PHY can do 1000BASE-T (extended status says so). */
int mii_check_gmii_support(struct mii_if_info *mii)
{
	int reg = mii->mdio_read(mii->dev, mii->phy_id, MII_BMSR);

	if (!(reg & BMSR_ESTATEN))
		return 0;
	reg = mii->mdio_read(mii->dev, mii->phy_id, MII_ESTATUS);
	return (reg & (ESTATUS_1000_TFULL | ESTATUS_1000_THALF)) ? 1 : 0;
}

/*
 * 1 when the link is up.  BMSR's link status latches low until read: the
 * first read clears a past drop, the second tells how the link is now.
 */
int mii_link_ok(struct mii_if_info *mii)
{
	mii->mdio_read(mii->dev, mii->phy_id, MII_BMSR);
	return (mii->mdio_read(mii->dev, mii->phy_id, MII_BMSR) & BMSR_LSTATUS) ? 1 : 0;
}

/* Restart autonegotiation: 0, or -EINVAL when it is off. */
int mii_nway_restart(struct mii_if_info *mii)
{
	int bmcr = mii->mdio_read(mii->dev, mii->phy_id, MII_BMCR);

	if (!(bmcr & BMCR_ANENABLE))
		return -EINVAL;
	mii->mdio_write(mii->dev, mii->phy_id, MII_BMCR, bmcr | BMCR_ANRESTART);
	return 0;
}

/* Bring the carrier in line with the link, calling the kernel on a change. */
void mii_check_link(struct mii_if_info *mii)
{
	int cur_link = mii_link_ok(mii);
	int prev_link = netif_carrier_ok(mii->dev);

	if (cur_link && !prev_link)
		netif_carrier_on(mii->dev);
	else if (prev_link && !cur_link)
		netif_carrier_off(mii->dev);
}

/*
 * Carrier, speed and duplex after a link change (or, with @init_media,
 * always): 1 when the duplex changed (always with @init_media and a
 * negotiated link), 0 otherwise and whenever the media is forced.
 */
unsigned int mii_check_media(struct mii_if_info *mii, unsigned int ok_to_print,
			     unsigned int init_media)
{
	unsigned int old_carrier, new_carrier;
	int advertise, lpa, media, duplex;
	int lpa2 = 0;

	old_carrier = netif_carrier_ok(mii->dev) ? 1 : 0;
	new_carrier = (unsigned int)mii_link_ok(mii);

	/* The same carrier as before is a bounce: everything is set already. */
	if (!init_media && old_carrier == new_carrier)
		return 0;

	if (!new_carrier) {
		netif_carrier_off(mii->dev);
		if (ok_to_print)
			netdev_info(mii->dev, "link down\n");
		return 0;
	}

	netif_carrier_on(mii->dev);
	if (mii->force_media) {
		if (ok_to_print)
			netdev_info(mii->dev, "link up\n");
		return 0;
	}

	/* Who is on the other end: our advertisement against the partner's. */
	if (!init_media && mii->advertising) {
		advertise = mii->advertising;
	} else {
		advertise = mii->mdio_read(mii->dev, mii->phy_id, MII_ADVERTISE);
		mii->advertising = advertise;
	}
	lpa = mii->mdio_read(mii->dev, mii->phy_id, MII_LPA);
	if (mii->supports_gmii)
		lpa2 = mii->mdio_read(mii->dev, mii->phy_id, MII_STAT1000);

	media = mii_nway_result(lpa & advertise);
	duplex = (media & ADVERTISE_FULL) ? 1 : 0;
	if (lpa2 & LPA_1000FULL)
		duplex = 1;

	if (ok_to_print)
		netdev_info(mii->dev, "link up, %uMbps, %s-duplex, lpa 0x%04X\n",
			    lpa2 & (LPA_1000FULL | LPA_1000HALF) ? 1000 :
			    media & (ADVERTISE_100FULL | ADVERTISE_100HALF) ? 100 : 10,
			    duplex ? "full" : "half", lpa);

	if (init_media || mii->full_duplex != duplex) {
		mii->full_duplex = duplex;
		return 1;
	}
	return 0;
}

/*
 * SIOCGMIIPHY, SIOCGMIIREG and SIOCSMIIREG on the PHY; a write to our own
 * PHY's BMCR or ADVERTISE also updates @mii_if (forced media, duplex,
 * advertisement).  *@duplex_chg_out (if given) is 1 when the duplex
 * changed.  0, or -EOPNOTSUPP for another @cmd.
 */
int generic_mii_ioctl(struct mii_if_info *mii_if, struct mii_ioctl_data *mii_data, int cmd,
		      unsigned int *duplex_chg_out)
{
	unsigned int duplex_changed = 0;
	u16 val;

	if (duplex_chg_out)
		*duplex_chg_out = 0;

	mii_data->phy_id &= mii_if->phy_id_mask;
	mii_data->reg_num &= mii_if->reg_num_mask;

	switch (cmd) {
	case SIOCGMIIPHY:
		mii_data->phy_id = mii_if->phy_id;
		fallthrough;
	case SIOCGMIIREG:
		mii_data->val_out = mii_if->mdio_read(mii_if->dev, mii_data->phy_id,
						      mii_data->reg_num);
		return 0;
	case SIOCSMIIREG:
		break;
	default:
		return -EOPNOTSUPP;
	}

	val = mii_data->val_in;
	if (mii_data->phy_id == mii_if->phy_id) {
		if (mii_data->reg_num == MII_BMCR) {
			unsigned int new_duplex = 0;

			mii_if->force_media = !(val & (BMCR_RESET | BMCR_ANENABLE));
			if (mii_if->force_media && (val & BMCR_FULLDPLX))
				new_duplex = 1;
			if (mii_if->full_duplex != new_duplex) {
				duplex_changed = 1;
				mii_if->full_duplex = new_duplex;
			}
		} else if (mii_data->reg_num == MII_ADVERTISE) {
			mii_if->advertising = val;
		}
	}
	mii_if->mdio_write(mii_if->dev, mii_data->phy_id, mii_data->reg_num, val);

	if (duplex_chg_out && duplex_changed)
		*duplex_chg_out = 1;
	return 0;
}
