// SPDX-License-Identifier: GPL-2.0
/*
 * drvnucleus - the checks of what user space sends (xpccheck.h).
 *
 * Nothing here touches a device, a lock or an allocation: it reads the
 * message and nothing else, so that Tests/fuzz/ can build it in user space.
 */
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <net/netlink.h>

#include "xpccheck.h"

int drvnucleus_check_hdr(const struct drvxpc_hdr *h, int len)
{
	if (len < (int)sizeof(*h) || h->len != len)
		return -EINVAL;
	if (!drvxpc_op_name(h->op) || (h->flags & ~DRVXPC_F_ALL) ||
	    hweight16(h->flags & (DRVXPC_F_REQUEST | DRVXPC_F_REPLY |
				  DRVXPC_F_NOTIFY)) != 1)
		return -EPROTO;
	return 0;
}

int drvnucleus_validate_attrs(const struct nlattr *head, int len, int depth,
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
			int r = drvnucleus_validate_attrs(nla_data(a), plen,
							  depth + 1, bad);

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

int drvnucleus_check_target(u32 bar_len, u32 off, u32 width)
{
	if (width != 1 && width != 2 && width != 4)
		return -EINVAL;
	if ((u64)off + width > bar_len)
		return -EACCES;
	return off % width ? -EINVAL : 0;
}

int drvnucleus_reg_target(u32 bar_len, const struct nlattr *head, int len,
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
	err = drvnucleus_check_target(bar_len, *off, *width);
	if (err && *width != 1 && *width != 2 && *width != 4)
		*bad = DRVXPC_A_REG_WIDTH;
	else if (!err)
		*bad = 0;
	return err;
}

int drvnucleus_parse_nested(u32 bar_len, const struct nlattr *seq,
			    struct drvnucleus_regstep *st, int *count, u16 *bad)
{
	const struct nlattr *op;
	int rem, n = 0, err;
	u32 delays = 0;

	nla_for_each_nested(op, seq, rem) {
		const struct nlattr *a = nla_data(op);
		int alen = nla_len(op);
		const struct nlattr *k = nla_find(a, alen, DRVXPC_A_REG_OP_KIND);
		const struct nlattr *v = nla_find(a, alen, DRVXPC_A_REG_VALUE);
		const struct nlattr *m = nla_find(a, alen, DRVXPC_A_REG_MASK);
		const struct nlattr *us = nla_find(a, alen, DRVXPC_A_DELAY_US);
		struct drvnucleus_regstep *s;

		if (nla_type(op) != DRVXPC_A_REG_OP || n == DRVXPC_SEQ_MAX_OPS) {
			*bad = DRVXPC_A_REG_SEQ;
			return -E2BIG;
		}
		s = &st[n++];
		s->kind = k ? nla_get_u8(k) : 0;
		s->value = v ? nla_get_u32(v) : 0;
		s->mask = m ? nla_get_u32(m) : ~0U;
		s->wait = min_t(u32, us ? nla_get_u32(us) : 1000,
				DRVXPC_DELAY_MAX_US);
		if (s->kind == DRVXPC_REGOP_DELAY) {
			delays += s->wait;
			if (delays > DRVXPC_SEQ_MAX_DELAY_US) {
				*bad = DRVXPC_A_REG_SEQ;
				return -E2BIG;
			}
			continue;
		}
		if (s->kind < DRVXPC_REGOP_READ || s->kind > DRVXPC_REGOP_POLL) {
			*bad = DRVXPC_A_REG_OP_KIND;
			return -EINVAL;
		}
		if (s->kind == DRVXPC_REGOP_WRITE && !v) {
			*bad = DRVXPC_A_REG_VALUE;
			return -EINVAL;
		}
		err = drvnucleus_reg_target(bar_len, a, alen, &s->off,
					    &s->width, bad);
		if (err)
			return err;
	}
	*count = n;
	return 0;
}

int drvnucleus_parse_packed(u32 bar_len, const struct nlattr *steps,
			    struct drvnucleus_regstep *st, int *count, u16 *bad)
{
	const struct drvxpc_regstep *slot = nla_data(steps);
	int slots = nla_len(steps) / sizeof(*slot), i, n = 0, err;
	u32 delays = 0;

	*bad = DRVXPC_A_REG_STEPS;
	if (nla_len(steps) % sizeof(*slot))
		return -EINVAL;
	for (i = 0; i < slots; i++, n++) {
		struct drvnucleus_regstep *s = &st[n];

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
			delays += s->wait;
			if (delays > DRVXPC_SEQ_MAX_DELAY_US)
				return -E2BIG;
			continue;
		}
		if (s->kind < DRVXPC_REGOP_READ || s->kind > DRVXPC_REGOP_POLL)
			return -EINVAL;
		if (s->kind == DRVXPC_REGOP_POLL) {
			if (++i == slots || slot[i].kind)
				return -EINVAL;
			s->mask = slot[i].value;
		}
		err = drvnucleus_check_target(bar_len, s->off, s->width);
		if (err)
			return err;
	}
	*count = n;
	*bad = 0;
	return 0;
}
