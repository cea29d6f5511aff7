/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for the attribute walkers of the kernel's
 * <net/netlink.h> (Tests/fuzz/ only), written to the same contract as
 * include/net/netlink.h and lib/nlattr.c in Linux 6.1: an attribute is
 * walked only while nla_ok() holds, the cursor moves by the aligned
 * length, and nla_find() returns the first attribute of a type.
 */
#ifndef _KSHIM_NET_NETLINK_H
#define _KSHIM_NET_NETLINK_H

#include <linux/types.h>
#include <linux/netlink.h>
#include <string.h>

static inline int nla_type(const struct nlattr *nla)
{
	return nla->nla_type & NLA_TYPE_MASK;
}

static inline void *nla_data(const struct nlattr *nla)
{
	return (char *)nla + NLA_HDRLEN;
}

static inline int nla_len(const struct nlattr *nla)
{
	return nla->nla_len - NLA_HDRLEN;
}

static inline int nla_ok(const struct nlattr *nla, int remaining)
{
	return remaining >= (int)sizeof(*nla) &&
	       nla->nla_len >= sizeof(*nla) &&
	       nla->nla_len <= remaining;
}

static inline struct nlattr *nla_next(const struct nlattr *nla, int *remaining)
{
	unsigned int totlen = NLA_ALIGN(nla->nla_len);

	*remaining -= totlen;
	return (struct nlattr *)((char *)nla + totlen);
}

#define nla_for_each_attr(pos, head, len, rem)			\
	for (pos = head, rem = len;				\
	     nla_ok(pos, rem);					\
	     pos = nla_next(pos, &(rem)))

#define nla_for_each_nested(pos, nla, rem)			\
	nla_for_each_attr(pos, nla_data(nla), nla_len(nla), rem)

static inline struct nlattr *nla_find(const struct nlattr *head, int len,
				      int attrtype)
{
	const struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, head, len, rem)
		if (nla_type(nla) == attrtype)
			return (struct nlattr *)nla;
	return NULL;
}

/* The kernel reads these through the payload pointer; copying keeps the
 * harness free of alignment reports for what the kernel does on x86. */
static inline u8 nla_get_u8(const struct nlattr *nla)
{
	return *(const u8 *)nla_data(nla);
}

static inline u16 nla_get_u16(const struct nlattr *nla)
{
	u16 v;

	memcpy(&v, nla_data(nla), sizeof(v));
	return v;
}

static inline u32 nla_get_u32(const struct nlattr *nla)
{
	u32 v;

	memcpy(&v, nla_data(nla), sizeof(v));
	return v;
}

static inline u64 nla_get_u64(const struct nlattr *nla)
{
	u64 v = 0;
	int n = nla_len(nla) < (int)sizeof(v) ? nla_len(nla) : (int)sizeof(v);

	memcpy(&v, nla_data(nla), n > 0 ? n : 0);
	return v;
}

#endif
