// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the nucleus's checks of what user space sends
 * (module/xpccheck.c, built as it is with the shim in kshim/) and the
 * attribute table of include/uapi/drvxpc.h.
 *
 * An input is one drvxpc message as drvnucleus_doit() receives it.  What
 * is asserted, besides "no sanitizer report":
 *  - the header check and the attribute validator agree with a reference
 *    written here from the wire-format comments, byte by byte, accept for
 *    accept and reject for reject;
 *  - after the validator accepts, every attribute the nucleus reads with
 *    nla_find() + nla_get_*() / nla_data() (runtime.c, net.c, es1370.c)
 *    has the exact size its kind says, strings end in their only NUL;
 *  - re-encoding an accepted attribute list with zero padding gives the
 *    same length, validates, and re-encodes to itself;
 *  - register targets and REG_SEQ steps the parsers accept are inside
 *    the BAR, aligned, of width 1, 2 or 4, at most DRVXPC_SEQ_MAX_OPS,
 *    delays at most DRVXPC_DELAY_MAX_US each and DRVXPC_SEQ_MAX_DELAY_US
 *    together;
 *  - a nested REG_SEQ that parses, packed into REG_STEPS, parses to the
 *    same steps.
 * The header's timeout_us (low 18 bits) is the BAR size the register
 * checks use, so the fuzzer moves it too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "../../module/xpccheck.h"

#define REQUIRE(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property violated: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The attribute list straight from the X-macro, not the inline lookups. */
struct attr_spec {
	int known;
	int kind;
	unsigned int max;
	__u64 lo, hi;
};

static struct attr_spec spec[__DRVXPC_A_COUNT];

static void spec_init(void)
{
#define SPEC(name, k, m, l, h) \
	spec[DRVXPC_A_##name] = (struct attr_spec){ 1, DRVXPC_K_##k, m, l, h };
	DRVXPC_ATTRS(SPEC)
#undef SPEC
}

static const struct attr_spec *spec_of(unsigned int id)
{
	return id < __DRVXPC_A_COUNT && spec[id].known ? &spec[id] : NULL;
}

/* Size a payload of @kind must have exactly, or -1 if it varies. */
static int fixed_size(int kind)
{
	switch (kind) {
	case DRVXPC_K_FLAG:	return 0;
	case DRVXPC_K_U8:	return 1;
	case DRVXPC_K_U16:	return 2;
	case DRVXPC_K_U32:
	case DRVXPC_K_S32:	return 4;
	case DRVXPC_K_U64:	return 8;
	case DRVXPC_K_MAC:	return 6;
	default:		return -1;
	}
}

/* The header's inline lookups against the X-macro list, every id. */
static void check_table(void)
{
	unsigned int id, op, n = 0;

	for (id = 0; id <= 0xffff; id++) {
		const struct attr_spec *s = spec_of(id);
		int kind = drvxpc_attr_kind(id);
		unsigned int max = drvxpc_attr_max(id);
		const char *name = drvxpc_attr_name(id);
		__u64 lo = 0, hi = 0;
		int bounded = drvxpc_attr_range(id, &lo, &hi);

		if (!s) {
			REQUIRE(kind == -1 && max == 0 && !name && !bounded);
			continue;
		}
		REQUIRE(kind == s->kind && max == s->max && name && *name);
		REQUIRE(id <= DRVXPC_A_TYPE_MASK);
		REQUIRE(bounded == (s->hi != 0));
		if (bounded) {
			REQUIRE(lo <= hi);
			REQUIRE(kind >= DRVXPC_K_U8 && kind <= DRVXPC_K_U64);
		}
		if (fixed_size(kind) >= 0)
			REQUIRE(max == (unsigned int)fixed_size(kind));
		else
			REQUIRE(max > 0);
		/* a nested attribute's limit fits the 16-bit length */
		REQUIRE(max + DRVXPC_ATTR_HDRLEN <= 0xffff);
	}
	for (op = 0; op <= 0xffff; op++) {
		if (!drvxpc_op_name(op))
			continue;
		n++;
		REQUIRE(DRVXPC_OP_IS_CONTROL(op) + DRVXPC_OP_IS_MGMT(op) +
			DRVXPC_OP_IS_UPCALL(op) + DRVXPC_OP_IS_DOWNCALL(op) == 1);
	}
	REQUIRE(n > 0 && !drvxpc_op_name(0));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	spec_init();
	check_table();
	return 0;
}

/* --- the reference, byte by byte -------------------------------------- */

static unsigned int le16(const __u8 *p)
{
	return p[0] | p[1] << 8;
}

static __u64 le(const __u8 *p, int n)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (__u64)p[i] << (8 * i);
	return v;
}

static int ref_hdr(const __u8 *b, size_t size)
{
	unsigned int flags, one;

	if (size < sizeof(struct drvxpc_hdr) || le(b, 4) != size)
		return -EINVAL;
	flags = le16(b + 6);
	one = flags & (DRVXPC_F_REQUEST | DRVXPC_F_REPLY | DRVXPC_F_NOTIFY);
	if (!drvxpc_op_name(le16(b + 4)) || (flags & ~DRVXPC_F_ALL) ||
	    !one || (one & (one - 1)))
		return -EPROTO;
	return 0;
}

/*
 * Valid: every attribute (4-byte header, length covering it, then
 * padding to 4) is known, has the nested bit exactly when its kind is
 * NESTED, fits its limit and kind, is in range; nesting stays under
 * DRVXPC_NEST_MAX; the attributes and their padding cover @len exactly.
 */
static int ref_attrs(const __u8 *p, long len, int depth)
{
	long i = 0;

	if (depth >= DRVXPC_NEST_MAX)
		return -1;
	while (len - i >= 4) {
		unsigned int alen = le16(p + i), raw = le16(p + i + 2);
		const struct attr_spec *s = spec_of(raw & 0x3fff);
		const __u8 *pl = p + i + 4;
		long plen = (long)alen - 4;

		if (alen < 4 || alen > len - i)
			break;
		if (!s || plen > s->max)
			return -1;
		if (!!(raw & 0x8000) != (s->kind == DRVXPC_K_NESTED))
			return -1;
		if (fixed_size(s->kind) >= 0 && plen != fixed_size(s->kind))
			return -1;
		if (s->kind == DRVXPC_K_STRING &&
		    (plen < 1 || memchr(pl, 0, plen) != pl + plen - 1))
			return -1;
		if (s->kind == DRVXPC_K_NESTED && ref_attrs(pl, plen, depth + 1))
			return -1;
		if (s->kind >= DRVXPC_K_U8 && s->kind <= DRVXPC_K_U64 && s->hi) {
			__u64 v = le(pl, plen);

			if (v < s->lo || v > s->hi)
				return -1;
		}
		i += (alen + 3) & ~3u;
	}
	return i == len ? 0 : -1;
}

/* --- properties of accepted messages ---------------------------------- */

/* Every attribute the nucleus looks up has the size it reads. */
static void check_reads(const struct nlattr *body, int blen)
{
	unsigned int id;

	for (id = 1; id < __DRVXPC_A_COUNT; id++) {
		const struct nlattr *a = nla_find(body, blen, id);
		const struct attr_spec *s = spec_of(id);
		int n, fixed;

		if (!a)
			continue;
		n = nla_len(a);
		REQUIRE(n >= 0 && (unsigned int)n <= s->max);
		REQUIRE((const char *)a + NLA_HDRLEN + n <= (const char *)body + blen);
		fixed = fixed_size(s->kind);
		if (fixed >= 0)
			REQUIRE(n == fixed);
		if (s->kind == DRVXPC_K_STRING)
			REQUIRE(n >= 1 && strnlen(nla_data(a), n) == (size_t)n - 1);
		if (s->kind == DRVXPC_K_NESTED)
			REQUIRE(a->nla_type & NLA_F_NESTED);
	}
}

/* Zero-padded copy of an attribute list (nested lists too); its length. */
static long reencode(const __u8 *p, long len, __u8 *out, int depth)
{
	long i = 0, o = 0;

	while (len - i >= 4) {
		unsigned int alen = le16(p + i), raw = le16(p + i + 2);
		long plen = (long)alen - 4, inner;

		REQUIRE(alen >= 4 && alen <= len - i);
		memcpy(out + o, p + i, 4);
		if (raw & 0x8000) {
			inner = reencode(p + i + 4, plen, out + o + 4, depth + 1);
			REQUIRE(inner == plen);
		} else {
			memcpy(out + o + 4, p + i + 4, plen);
		}
		memset(out + o + alen, 0, ((alen + 3) & ~3u) - alen);
		i += (alen + 3) & ~3u;
		o += (alen + 3) & ~3u;
	}
	return o;
}

static void check_reencode(const __u8 *body, int blen)
{
	__u8 *a = malloc(blen + 1), *b = malloc(blen + 1);
	u16 bad = 1;

	REQUIRE(a && b);
	REQUIRE(reencode(body, blen, a, 0) == blen);
	REQUIRE(drvnucleus_validate_attrs((const void *)a, blen, 0, &bad) == 0);
	REQUIRE(bad == 0);
	REQUIRE(reencode(a, blen, b, 0) == blen);
	REQUIRE(!memcmp(a, b, blen));
	free(a);
	free(b);
}

/* An accepted sequence's delays together (DRVXPC_SEQ_MAX_DELAY_US). */
static void check_delays(const struct drvnucleus_regstep *st, int count)
{
	u64 total = 0;
	int i;

	for (i = 0; i < count; i++)
		if (st[i].kind == DRVXPC_REGOP_DELAY)
			total += st[i].wait;
	REQUIRE(total <= DRVXPC_SEQ_MAX_DELAY_US);
}

static void check_step(u32 bar_len, const struct drvnucleus_regstep *s)
{
	REQUIRE(s->kind >= DRVXPC_REGOP_READ && s->kind <= DRVXPC_REGOP_DELAY);
	REQUIRE(s->wait <= DRVXPC_DELAY_MAX_US);
	if (s->kind == DRVXPC_REGOP_DELAY)
		return;
	REQUIRE(s->width == 1 || s->width == 2 || s->width == 4);
	REQUIRE((u64)s->off + s->width <= bar_len);
	REQUIRE(s->off % s->width == 0);
}

/* The packed form of nested steps that parsed; offsets below 64 KiB. */
static void check_forms_agree(u32 bar_len, const struct drvnucleus_regstep *st,
			      int count)
{
	static struct drvnucleus_regstep again[DRVXPC_SEQ_MAX_OPS];
	struct drvxpc_regstep *slot;
	struct nlattr *a;
	int i, n = 0, count2 = -1;
	u16 bad = 0;

	for (i = 0; i < count; i++)
		if (st[i].kind != DRVXPC_REGOP_DELAY && st[i].off > 0xffff)
			return;
	a = calloc(1, NLA_HDRLEN + 2 * count * sizeof(*slot));
	REQUIRE(a);
	slot = nla_data(a);
	for (i = 0; i < count; i++) {
		const struct drvnucleus_regstep *s = &st[i];
		int delay = s->kind == DRVXPC_REGOP_DELAY;

		slot[n].kind = s->kind;
		slot[n].width = delay ? 0 : s->width;
		slot[n].offset = delay ? 0 : s->off;
		slot[n++].value = delay ? s->wait : s->value;
		if (s->kind == DRVXPC_REGOP_POLL)
			slot[n++].value = s->mask;
	}
	a->nla_len = NLA_HDRLEN + n * sizeof(*slot);
	a->nla_type = DRVXPC_A_REG_STEPS;
	memset(again, 0, sizeof(again));
	REQUIRE(drvnucleus_parse_packed(bar_len, a, again, &count2, &bad) == 0);
	REQUIRE(count2 == count);
	for (i = 0; i < count; i++) {
		REQUIRE(again[i].kind == st[i].kind);
		if (st[i].kind == DRVXPC_REGOP_DELAY) {
			REQUIRE(again[i].wait == st[i].wait);
			continue;
		}
		REQUIRE(again[i].off == st[i].off && again[i].width == st[i].width);
		REQUIRE(again[i].value == st[i].value);
		/* only a POLL uses its mask; the packed form carries no other */
		if (st[i].kind == DRVXPC_REGOP_POLL)
			REQUIRE(again[i].mask == st[i].mask);
	}
	free(a);
}

static void check_registers(u32 bar_len, const struct nlattr *body, int blen)
{
	static struct drvnucleus_regstep st[DRVXPC_SEQ_MAX_OPS];
	const struct nlattr *seq = nla_find(body, blen, DRVXPC_A_REG_SEQ);
	const struct nlattr *packed = nla_find(body, blen, DRVXPC_A_REG_STEPS);
	u32 off = 0, width = 0;
	int count, i, r;
	u16 bad = 0;

	if (drvnucleus_reg_target(bar_len, body, blen, &off, &width, &bad) == 0) {
		struct drvnucleus_regstep s = { .kind = DRVXPC_REGOP_READ,
						.off = off, .width = width };

		REQUIRE(bad == 0);
		check_step(bar_len, &s);
	} else {
		REQUIRE(bad == DRVXPC_A_REG_OFFSET || bad == DRVXPC_A_REG_WIDTH);
	}
	if (seq) {
		count = -1;
		memset(st, 0, sizeof(st));
		r = drvnucleus_parse_nested(bar_len, seq, st, &count, &bad);
		if (r == 0) {
			REQUIRE(count >= 0 && count <= DRVXPC_SEQ_MAX_OPS);
			for (i = 0; i < count; i++)
				check_step(bar_len, &st[i]);
			check_delays(st, count);
			check_forms_agree(bar_len, st, count);
		} else {
			REQUIRE(bad != 0);
		}
	}
	if (packed) {
		count = -1;
		memset(st, 0, sizeof(st));
		r = drvnucleus_parse_packed(bar_len, packed, st, &count, &bad);
		if (r == 0) {
			REQUIRE(count >= 0 && count <= DRVXPC_SEQ_MAX_OPS);
			for (i = 0; i < count; i++)
				check_step(bar_len, &st[i]);
			check_delays(st, count);
		} else {
			REQUIRE(bad == DRVXPC_A_REG_STEPS);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drvxpc_hdr *h;
	const struct nlattr *body;
	__u8 *buf;
	int blen, r, ref;
	u16 bad = 0xffff;

	if (size > DRVXPC_MSG_MAX)
		return -1;
	/* Exactly @size bytes: a read past the message is a heap overflow. */
	buf = malloc(size ? size : 1);
	REQUIRE(buf);
	memcpy(buf, data, size);
	h = (struct drvxpc_hdr *)buf;

	/* As received, then with the length fixed up, so that mutations
	 * which change the size still reach the attribute checks. */
	REQUIRE(drvnucleus_check_hdr(h, (int)size) == ref_hdr(buf, size));
	if (size < sizeof(*h))
		goto out;
	h->len = size;
	REQUIRE(drvnucleus_check_hdr(h, (int)size) == ref_hdr(buf, size));

	body = (const struct nlattr *)(h + 1);
	blen = size - sizeof(*h);
	r = drvnucleus_validate_attrs(body, blen, 0, &bad);
	ref = ref_attrs((const __u8 *)body, blen, 0);
	if ((r == 0) != (ref == 0)) {
		fprintf(stderr, "validator %d, reference %d\n", r, ref);
		abort();
	}
	if (r)
		goto out;
	REQUIRE(bad == 0);
	check_reads(body, blen);
	check_reencode((const __u8 *)body, blen);
	check_registers(h->timeout_us & 0x3ffff, body, blen);
out:
	free(buf);
	return 0;
}
