// SPDX-License-Identifier: GPL-2.0
/* The nucleus's checks for the Swift XPC harness (xpccheck_bridge.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../module/xpccheck.h"
#include "xpccheck_bridge.h"

int fuzz_nucleus_validate(const uint8_t *msg, size_t len)
{
	struct drvxpc_hdr *h;
	u16 bad = 0;
	int r;

	if (len > DRVXPC_MSG_MAX)
		return -EMSGSIZE;
	h = malloc(len ? len : 1);	/* exactly @len: overreads are reported */
	if (!h)
		abort();
	memcpy(h, msg, len);
	r = drvnucleus_check_hdr(h, (int)len);
	if (!r)
		r = drvnucleus_validate_attrs((const void *)(h + 1),
					      len - sizeof(*h), 0, &bad);
	free(h);
	return r;
}

int fuzz_nucleus_reg_seq(const uint8_t *msg, size_t len, uint32_t bar_len,
			 struct fuzz_regstep *out)
{
	static struct drvnucleus_regstep st[DRVXPC_SEQ_MAX_OPS];
	const struct nlattr *seq, *packed, *body;
	struct drvxpc_hdr *h;
	int r, i, count = 0, blen;
	u16 bad = 0;

	if (fuzz_nucleus_validate(msg, len))
		return -EINVAL;
	h = malloc(len);
	if (!h)
		abort();
	memcpy(h, msg, len);
	body = (const void *)(h + 1);
	blen = len - sizeof(*h);
	seq = nla_find(body, blen, DRVXPC_A_REG_SEQ);
	packed = nla_find(body, blen, DRVXPC_A_REG_STEPS);
	memset(st, 0, sizeof(st));
	if (!seq == !packed)
		r = -EINVAL;
	else if (seq)
		r = drvnucleus_parse_nested(bar_len, seq, st, &count, &bad);
	else
		r = drvnucleus_parse_packed(bar_len, packed, st, &count, &bad);
	for (i = 0; !r && i < count; i++) {
		out[i].kind = st[i].kind;
		out[i].off = st[i].off;
		out[i].width = st[i].width;
		out[i].value = st[i].value;
		out[i].mask = st[i].mask;
		out[i].wait = st[i].wait;
	}
	free(h);
	return r ? r : count;
}
