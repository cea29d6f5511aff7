/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xpccheck.h - the nucleus's checks of what user space sends: the message
 * header, every attribute against DRVXPC_ATTRS, register targets against
 * the BAR and the two forms of a REG_SEQ.
 *
 * They need nothing but <net/netlink.h>'s attribute walkers, so the
 * fuzzing harness (Tests/fuzz/nucleus_checks.c) builds this very file in
 * user space with a shim for those; runtime.c is their only other caller.
 */
#ifndef _DRVNUCLEUS_XPCCHECK_H
#define _DRVNUCLEUS_XPCCHECK_H

#include <linux/types.h>
#include <net/netlink.h>

#include <uapi/drvxpc.h>

/* One REG_SEQ step, from either form (nested REG_OP or packed slot). */
struct drvnucleus_regstep {
	u8 kind;
	u32 off, width, value, mask, wait;
};

/*
 * The fixed header of a message of @len bytes: 0, -EINVAL when the length
 * does not match (nothing to answer), -EPROTO for an unknown op or flags
 * that are not exactly one of REQUEST, REPLY, NOTIFY.
 */
int drvnucleus_check_hdr(const struct drvxpc_hdr *h, int len);

/*
 * Every attribute in [@head, @head + @len), nested ones included, against
 * its kind, size limit and range: 0, or a negative errno with *@bad naming
 * the attribute at fault.
 */
int drvnucleus_validate_attrs(const struct nlattr *head, int len, int depth,
			      u16 *bad);

/* Bounds and alignment of a register access in a BAR of @bar_len bytes. */
int drvnucleus_check_target(u32 bar_len, u32 off, u32 width);

/* Offset and width from a REG_OP's (or a message's) attributes: 0 or a
 * negative errno with *@bad naming the attribute. */
int drvnucleus_reg_target(u32 bar_len, const struct nlattr *head, int len,
			  u32 *off, u32 *width, u16 *bad);

/*
 * The steps of a REG_SEQ into @st (DRVXPC_SEQ_MAX_OPS entries), *@count
 * of them, every register target checked: from the nested form (REG_SEQ
 * holding REG_OPs) or the packed one (REG_STEPS).  0, or a negative errno
 * with *@bad naming the attribute.
 */
int drvnucleus_parse_nested(u32 bar_len, const struct nlattr *seq,
			    struct drvnucleus_regstep *st, int *count, u16 *bad);
int drvnucleus_parse_packed(u32 bar_len, const struct nlattr *steps,
			    struct drvnucleus_regstep *st, int *count, u16 *bad);

#endif /* _DRVNUCLEUS_XPCCHECK_H */
