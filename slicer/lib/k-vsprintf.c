// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the kernel's printf for a user half.
 *
 * Provides vsnprintf, vscnprintf, snprintf, scnprintf, vsprintf, sprintf,
 * kasprintf, kvasprintf and errname, with the kernel's format semantics
 * (lib/vsprintf.c), which differ from the C library's and so are
 * implemented here conversion by conversion rather than handed to libc:
 *  - qualifiers hh h l ll L z t; conversions c s p % d i u o x X only, and
 *    formatting stops at any other conversion (%n, %f, %j...) with the
 *    kernel's WARN_ONCE;
 *  - "%#x" of 0 is "0x0", "%.0d" of 0 is "0", a '.' without digits means
 *    no precision, a negative '*' precision means 0;
 *  - %s of NULL prints "(null)", of an address in the first page or an
 *    error pointer "(efault)";
 *  - %p and its extensions (the letters and digits after them are
 *    consumed): %pS %ps %pB %pSR (symbols, see below), %pR %pr (struct
 *    resource), %ph %phC %phD %phN (hex dump, the field width is the
 *    length, at most 64), %pb %pbl (bitmaps), %pM %pMR %pMF %pm %pmR
 *    (MAC addresses), %pI4 %pi4 [hnbl], %pI6 %pi6 %pI6c, %pIS %piS
 *    [pcfs...] (sockaddr_in/_in6), %pU[bBlL] (UUID), %pV (struct
 *    va_format), %pK, %pN[F] (netdev_features_t), %p4cc, %pa[pd]
 *    (phys_addr_t, dma_addr_t), %pe (error pointer names: -ENOMEM prints
 *    "-ENOMEM"), %px, %pks %pus (strings), and plain %p;
 *  - too large a '*' field width or precision is clamped with a WARN_ONCE;
 *    digits beyond the kernel's 24-bit width and 16-bit precision wrap.
 *
 * Departures:
 *  - %p (and %pe of a non-error pointer) prints the pointer's value as
 *    %px does, as the kernel does when booted with no_hash_pointers: the
 *    pointers are the u-driver's own, so hashing hides nothing.  %pK
 *    behaves as with kptr_restrict=0, i.e. as %p.
 *  - %pS and friends look the address up in the process's dynamic symbol
 *    tables (dladdr) rather than kallsyms: "name+0xoff/0xsize", with
 *    " [object]" for a shared object (the kernel's " [module]"); static
 *    functions are not found and print as "0x..." as without kallsyms.
 *  - Extensions that need kernel objects the process does not have
 *    (%pd %pD dentries, %pg block devices, %pC clocks, %pO %pfw firmware
 *    nodes, %pG page/vma/gfp flags, %pA Rust), and two that could be done
 *    but are not yet (%pt time, %pE escaped strings), print "(%pX?)" in
 *    the style of the kernel's own "(%pN?)" errors.
 *
 * These names (sprintf, snprintf, vsprintf, vsnprintf) are also the C
 * library's: a process should bind them to this file only in the user
 * half (see Tests/slicer/check-driverlib.sh, which localises them in a
 * partial link), or every libc caller gets the kernel's semantics.
 */
#include <linux/bitops.h>
#include <linux/ctype.h>
#include <linux/errname.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/netdev_features.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/stdarg.h>
#include <linux/types.h>

#include "drvslice-os.h"
#include "k-lib.h"

/* number() flags, the kernel's values. */
#define SIGN	1	/* unsigned/signed */
#define LEFT	2	/* left justified */
#define PLUS	4	/* show plus */
#define SPACE	8	/* space if plus */
#define ZEROPAD	16	/* pad with zero */
#define SMALL	32	/* lowercase hex */
#define SPECIAL	64	/* prefix hex with "0x", octal with "0" */

#define FIELD_WIDTH_MAX ((1 << 23) - 1)
#define PRECISION_MAX ((1 << 15) - 1)

struct fmt_spec {
	int field_width;	/* -1: none */
	int precision;		/* -1: none */
	unsigned int flags;
	unsigned int base;
};

static const struct fmt_spec dec_spec = { .field_width = -1, .precision = -1, .base = 10 };

static inline char *put(char *buf, char *end, char c)
{
	if (buf < end)
		*buf = c;
	return buf + 1;
}

static char *number(char *buf, char *end, unsigned long long num, struct fmt_spec spec)
{
	char digits[3 * sizeof(num)];
	char sign = 0;
	bool prefix = (spec.flags & SPECIAL) && spec.base != 10;
	bool zero = num == 0;
	int width = spec.field_width;
	int prec = spec.precision;
	int n = 0;

	if (spec.flags & LEFT)
		spec.flags &= ~ZEROPAD;
	if (spec.flags & SIGN) {
		if ((long long)num < 0) {
			sign = '-';
			num = -(long long)num;
			width--;
		} else if (spec.flags & PLUS) {
			sign = '+';
			width--;
		} else if (spec.flags & SPACE) {
			sign = ' ';
			width--;
		}
	}
	if (prefix) {
		if (spec.base == 16)
			width -= 2;
		else if (!zero)
			width--;
	}
	/* Digits, least significant first; 0 is one digit whatever the precision. */
	do {
		unsigned int d = num % spec.base;

		digits[n++] = d < 10 ? '0' + d : ((spec.flags & SMALL) ? 'a' : 'A') + d - 10;
		num /= spec.base;
	} while (num);

	if (n > prec)
		prec = n;
	width -= prec;
	if (!(spec.flags & (ZEROPAD | LEFT)))
		while (--width >= 0)
			buf = put(buf, end, ' ');
	if (sign)
		buf = put(buf, end, sign);
	if (prefix) {
		if (spec.base == 16 || !zero)
			buf = put(buf, end, '0');
		if (spec.base == 16)
			buf = put(buf, end, (spec.flags & SMALL) ? 'x' : 'X');
	}
	if (!(spec.flags & LEFT)) {
		char pad = (spec.flags & ZEROPAD) ? '0' : ' ';

		while (--width >= 0)
			buf = put(buf, end, pad);
	}
	while (n <= --prec)
		buf = put(buf, end, '0');
	while (--n >= 0)
		buf = put(buf, end, digits[n]);
	while (--width >= 0)
		buf = put(buf, end, ' ');
	return buf;
}

/* "0x" and 2 * @size zero-padded lowercase hex digits. */
static char *special_hex_number(char *buf, char *end, unsigned long long num, int size)
{
	struct fmt_spec spec = {
		.field_width = 2 + 2 * size,
		.precision = -1,
		.flags = SPECIAL | SMALL | ZEROPAD,
		.base = 16,
	};

	return number(buf, end, num, spec);
}

/* At most @spec.precision characters of @s, padded to the field width. */
static char *string_nocheck(char *buf, char *end, const char *s, struct fmt_spec spec)
{
	int len = 0;

	while ((spec.precision < 0 || len < spec.precision) && s[len])
		len++;
	if (!(spec.flags & LEFT))
		for (int pad = spec.field_width - len; pad > 0; pad--)
			buf = put(buf, end, ' ');
	for (int i = 0; i < len; i++)
		buf = put(buf, end, s[i]);
	if (spec.flags & LEFT)
		for (int pad = spec.field_width - len; pad > 0; pad--)
			buf = put(buf, end, ' ');
	return buf;
}

/* The kernel's short error texts: at most 16 characters unless a precision says. */
static char *error_string(char *buf, char *end, const char *s, struct fmt_spec spec)
{
	if (spec.precision == -1)
		spec.precision = 2 * sizeof(void *);
	return string_nocheck(buf, end, s, spec);
}

/* Print "(null)" or "(efault)" and return true for a pointer not to follow. */
static bool bad_pointer(char **buf, char *end, const void *ptr, struct fmt_spec spec)
{
	const char *msg = NULL;

	if (!ptr)
		msg = "(null)";
	else if ((unsigned long)ptr < PAGE_SIZE || IS_ERR_VALUE(ptr))
		msg = "(efault)";
	if (!msg)
		return false;
	*buf = error_string(*buf, end, msg, spec);
	return true;
}

static char *string(char *buf, char *end, const char *s, struct fmt_spec spec)
{
	if (bad_pointer(&buf, end, s, spec))
		return buf;
	return string_nocheck(buf, end, s, spec);
}

/* %px: the value, 16 zero-padded hex digits unless a width is given. */
static char *pointer_string(char *buf, char *end, const void *ptr, struct fmt_spec spec)
{
	spec.base = 16;
	spec.flags |= SMALL;
	if (spec.field_width == -1) {
		spec.field_width = 2 * sizeof(ptr);
		spec.flags |= ZEROPAD;
	}
	return number(buf, end, (unsigned long)ptr, spec);
}

/* %p: as the kernel with no_hash_pointers (see the top of the file). */
static char *default_pointer(char *buf, char *end, const void *ptr, struct fmt_spec spec)
{
	return pointer_string(buf, end, ptr, spec);
}

static char *hex_pack(char *p, u8 byte, bool upper)
{
	const char *digits = upper ? hex_asc_upper : hex_asc;

	*p++ = digits[byte >> 4];
	*p++ = digits[byte & 15];
	return p;
}

/* Decimal digits of @v into @p, no padding; returns the end. */
static char *put_dec_u8(char *p, u8 v, bool three)
{
	if (three || v >= 100)
		*p++ = '0' + v / 100;
	if (three || v >= 10)
		*p++ = '0' + v / 10 % 10;
	*p++ = '0' + v % 10;
	return p;
}

static char *symbol_string(char *buf, char *end, void *ptr, struct fmt_spec spec,
			   const char *fmt)
{
	unsigned long value = (unsigned long)ptr;
	int flags = 0;
	char sym[256];

	if (fmt[1] == 'R')
		value = (unsigned long)__builtin_extract_return_addr(ptr);
	if (*fmt == 'B')
		flags = DRVSLICE_OS_SYM_OFFSET | DRVSLICE_OS_SYM_RETADDR;
	else if (*fmt != 's')
		flags = DRVSLICE_OS_SYM_OFFSET;
	/* Not found: the address, as kallsyms prints one it cannot name. */
	if (drvslice_os_symbol(value, flags, sym, sizeof(sym)) < 0)
		snprintf(sym, sizeof(sym), "0x%lx", value);
	return string_nocheck(buf, end, sym, spec);
}

static char *resource_string(char *buf, char *end, const struct resource *res,
			     struct fmt_spec spec, const char *fmt)
{
	static const struct fmt_spec io_spec = {
		.base = 16, .field_width = 6, .precision = -1,
		.flags = SPECIAL | SMALL | ZEROPAD,
	};
	static const struct fmt_spec mem_spec = {
		.base = 16, .field_width = 10, .precision = -1,
		.flags = SPECIAL | SMALL | ZEROPAD,
	};
	static const struct fmt_spec bus_spec = {
		.base = 16, .field_width = 2, .precision = -1,
		.flags = SMALL | ZEROPAD,
	};
	static const struct fmt_spec flag_spec = {
		.base = 16, .field_width = -1, .precision = -1,
		.flags = SPECIAL | SMALL,
	};
	const struct fmt_spec *num_spec;
	bool decode = fmt[0] == 'R';
	char sym[96];
	char *p = sym, *pend = sym + sizeof(sym) - 1;
	const char *kind;

	if (bad_pointer(&buf, end, res, spec))
		return buf;
	if (res->flags & IORESOURCE_IO) {
		kind = "io  ";
		num_spec = &io_spec;
	} else if (res->flags & IORESOURCE_MEM) {
		kind = "mem ";
		num_spec = &mem_spec;
	} else if (res->flags & IORESOURCE_IRQ) {
		kind = "irq ";
		num_spec = &dec_spec;
	} else if (res->flags & IORESOURCE_DMA) {
		kind = "dma ";
		num_spec = &dec_spec;
	} else if (res->flags & IORESOURCE_BUS) {
		kind = "bus ";
		num_spec = &bus_spec;
	} else {
		kind = "??? ";
		num_spec = &mem_spec;
		decode = false;
	}
	p = put(p, pend, '[');
	p = string_nocheck(p, pend, kind, dec_spec);
	if (decode && (res->flags & IORESOURCE_UNSET)) {
		p = string_nocheck(p, pend, "size ", dec_spec);
		p = number(p, pend, resource_size(res), *num_spec);
	} else {
		p = number(p, pend, res->start, *num_spec);
		if (res->start != res->end) {
			p = put(p, pend, '-');
			p = number(p, pend, res->end, *num_spec);
		}
	}
	if (decode) {
		if (res->flags & IORESOURCE_MEM_64)
			p = string_nocheck(p, pend, " 64bit", dec_spec);
		if (res->flags & IORESOURCE_PREFETCH)
			p = string_nocheck(p, pend, " pref", dec_spec);
		if (res->flags & IORESOURCE_WINDOW)
			p = string_nocheck(p, pend, " window", dec_spec);
		if (res->flags & IORESOURCE_DISABLED)
			p = string_nocheck(p, pend, " disabled", dec_spec);
	} else {
		p = string_nocheck(p, pend, " flags ", dec_spec);
		p = number(p, pend, res->flags, flag_spec);
	}
	p = put(p, pend, ']');
	*(p < pend ? p : pend) = '\0';
	return string_nocheck(buf, end, sym, spec);
}

static char *hex_string(char *buf, char *end, const u8 *addr, struct fmt_spec spec,
			const char *fmt)
{
	char sep;
	int len = 1;

	if (spec.field_width == 0)
		return buf;
	if (bad_pointer(&buf, end, addr, spec))
		return buf;
	switch (fmt[1]) {
	case 'C':
		sep = ':';
		break;
	case 'D':
		sep = '-';
		break;
	case 'N':
		sep = 0;
		break;
	default:
		sep = ' ';
		break;
	}
	if (spec.field_width > 0)
		len = min_t(int, spec.field_width, 64);
	for (int i = 0; i < len; i++) {
		buf = put(buf, end, hex_asc[addr[i] >> 4]);
		buf = put(buf, end, hex_asc[addr[i] & 15]);
		if (sep && i != len - 1)
			buf = put(buf, end, sep);
	}
	return buf;
}

/* %pb: 32-bit chunks in hex, most significant first, comma-separated. */
static char *bitmap_string(char *buf, char *end, const unsigned long *bitmap,
			   struct fmt_spec spec)
{
	int nr_bits = max_t(int, spec.field_width, 0);
	int chunk = nr_bits % 32 ? nr_bits % 32 : 32;
	struct fmt_spec hex = { .flags = SMALL | ZEROPAD, .base = 16, .precision = -1 };
	bool first = true;

	if (bad_pointer(&buf, end, bitmap, spec))
		return buf;
	for (int i = round_up(nr_bits, 32) - 32; i >= 0; i -= 32) {
		u32 mask = (u32)((1ULL << chunk) - 1);
		u32 val = (bitmap[i / BITS_PER_LONG] >> (i % BITS_PER_LONG)) & mask;

		if (!first)
			buf = put(buf, end, ',');
		first = false;
		hex.field_width = DIV_ROUND_UP(chunk, 4);
		buf = number(buf, end, val, hex);
		chunk = 32;
	}
	return buf;
}

/* %pbl: ranges of set bits, "0-3,7". */
static char *bitmap_list_string(char *buf, char *end, const unsigned long *bitmap,
				struct fmt_spec spec)
{
	int nr_bits = max_t(int, spec.field_width, 0);
	bool first = true;
	int bit = 0;

	if (bad_pointer(&buf, end, bitmap, spec))
		return buf;
	while (bit < nr_bits) {
		int start;

		if (!test_bit(bit, bitmap)) {
			bit++;
			continue;
		}
		start = bit;
		while (bit < nr_bits && test_bit(bit, bitmap))
			bit++;
		if (!first)
			buf = put(buf, end, ',');
		first = false;
		buf = number(buf, end, start, dec_spec);
		if (bit - 1 != start) {
			buf = put(buf, end, '-');
			buf = number(buf, end, bit - 1, dec_spec);
		}
	}
	return buf;
}

static char *mac_address_string(char *buf, char *end, const u8 *addr,
				struct fmt_spec spec, const char *fmt)
{
	char mac[sizeof("xx:xx:xx:xx:xx:xx")];
	char *p = mac;
	bool reversed = fmt[1] == 'R';
	char sep = fmt[1] == 'F' ? '-' : ':';

	if (bad_pointer(&buf, end, addr, spec))
		return buf;
	for (int i = 0; i < 6; i++) {
		p = hex_pack(p, addr[reversed ? 5 - i : i], false);
		if (fmt[0] == 'M' && i != 5)
			*p++ = sep;
	}
	*p = '\0';
	return string_nocheck(buf, end, mac, spec);
}

/*
 * Dotted quad; "i" pads each to three digits.  @order: 'h' host order
 * (little-endian here), 'l' little-endian, anything else network order.
 */
static char *ip4_string(char *p, const u8 *addr, char kind, char order)
{
	bool little = order == 'h' || order == 'l';

	for (int i = 0; i < 4; i++) {
		p = put_dec_u8(p, addr[little ? 3 - i : i], kind == 'i');
		if (i < 3)
			*p++ = '.';
	}
	*p = '\0';
	return p;
}

static bool ip6_is_v4mapped(const u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

static bool ip6_is_isatap(const u8 *a)
{
	/* Interface id 0000:5efe or 0200:5efe. */
	return (a[8] | 0x02) == 0x02 && a[9] == 0 && a[10] == 0x5e && a[11] == 0xfe;
}

/* RFC 5952 style: the longest run (>1) of zero words as "::". */
static char *ip6_compressed_string(char *p, const u8 *addr)
{
	bool v4 = ip6_is_v4mapped(addr) || ip6_is_isatap(addr);
	int words = v4 ? 6 : 8;
	int best = -1, best_len = 1;
	bool colon = false;

	for (int i = 0; i < words; i++) {
		int len = 0;

		while (i + len < words && !addr[2 * (i + len)] && !addr[2 * (i + len) + 1])
			len++;
		if (len > best_len) {
			best_len = len;
			best = i;
		}
	}
	for (int i = 0; i < words; i++) {
		u8 hi = addr[2 * i], lo = addr[2 * i + 1];

		if (i == best) {
			if (colon || i == 0)
				*p++ = ':';
			*p++ = ':';
			colon = false;
			i += best_len - 1;
			continue;
		}
		if (colon)
			*p++ = ':';
		/* The word in hex without leading zeros. */
		if (hi) {
			if (hi > 0x0f)
				p = hex_pack(p, hi, false);
			else
				*p++ = hex_asc[hi];
			p = hex_pack(p, lo, false);
		} else if (lo > 0x0f) {
			p = hex_pack(p, lo, false);
		} else {
			*p++ = hex_asc[lo];
		}
		colon = true;
	}
	if (v4) {
		if (colon)
			*p++ = ':';
		p = ip4_string(p, addr + 12, 'I', 'n');
	}
	*p = '\0';
	return p;
}

/* Full form: "I" colon-separated words, "i" 32 hex digits. */
static char *ip6_string(char *p, const u8 *addr, char kind)
{
	for (int i = 0; i < 8; i++) {
		p = hex_pack(p, addr[2 * i], false);
		p = hex_pack(p, addr[2 * i + 1], false);
		if (kind == 'I' && i != 7)
			*p++ = ':';
	}
	*p = '\0';
	return p;
}

static char *ip4_sa_string(char *buf, char *end, const struct sockaddr_in *sa,
			   struct fmt_spec spec, const char *fmt)
{
	char text[sizeof("255.255.255.255") + sizeof(":12345")];
	char *p, *pend = text + sizeof(text) - 1;
	char order = 'n';
	bool port = false;

	for (const char *f = fmt + 2; isalpha(*f); f++) {
		if (*f == 'p')
			port = true;
		else if (*f == 'h' || *f == 'l' || *f == 'n' || *f == 'b')
			order = *f;
	}
	p = ip4_string(text, (const u8 *)&sa->sin_addr.s_addr, fmt[0], order);
	if (port) {
		*p++ = ':';
		p = number(p, pend, ntohs(sa->sin_port), spec);
	}
	*(p < pend ? p : pend) = '\0';
	return string_nocheck(buf, end, text, spec);
}

static char *ip6_sa_string(char *buf, char *end, const struct sockaddr_in6 *sa,
			   struct fmt_spec spec, const char *fmt)
{
	char text[sizeof("[xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:255.255.255.255]") +
		  sizeof(":12345") + sizeof("/123456789") + sizeof("%1234567890")];
	char *p = text, *pend = text + sizeof(text) - 1;
	bool port = false, flow = false, scope = false, compressed = false;
	const u8 *addr = sa->sin6_addr.s6_addr;

	for (const char *f = fmt + 2; isalpha(*f); f++) {
		switch (*f) {
		case 'p':
			port = true;
			break;
		case 'f':
			flow = true;
			break;
		case 's':
			scope = true;
			break;
		case 'c':
			compressed = true;
			break;
		}
	}
	if (port || flow || scope)
		*p++ = '[';
	if (fmt[0] == 'I' && compressed)
		p = ip6_compressed_string(p, addr);
	else
		p = ip6_string(p, addr, fmt[0]);
	if (port || flow || scope)
		*p++ = ']';
	if (port) {
		*p++ = ':';
		p = number(p, pend, ntohs(sa->sin6_port), spec);
	}
	if (flow) {
		p = put(p, pend, '/');
		p = number(p, pend, ntohl(sa->sin6_flowinfo) & 0x0fffffff, spec);
	}
	if (scope) {
		p = put(p, pend, '%');
		p = number(p, pend, sa->sin6_scope_id, spec);
	}
	*(p < pend ? p : pend) = '\0';
	return string_nocheck(buf, end, text, spec);
}

static char *ip_addr_string(char *buf, char *end, const void *ptr, struct fmt_spec spec,
			    const char *fmt)
{
	char text[sizeof("xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:255.255.255.255")];

	if (bad_pointer(&buf, end, ptr, spec))
		return buf;
	switch (fmt[1]) {
	case '6':
		if (fmt[0] == 'I' && fmt[2] == 'c')
			ip6_compressed_string(text, ptr);
		else
			ip6_string(text, ptr, fmt[0]);
		return string_nocheck(buf, end, text, spec);
	case '4':
		ip4_string(text, ptr, fmt[0], fmt[2]);
		return string_nocheck(buf, end, text, spec);
	case 'S': {
		const struct sockaddr *sa = ptr;

		switch (sa->sa_family) {
		case AF_INET:
			return ip4_sa_string(buf, end, ptr, spec, fmt);
		case AF_INET6:
			return ip6_sa_string(buf, end, ptr, spec, fmt);
		default:
			return error_string(buf, end, "(einval)", spec);
		}
	}
	}
	return error_string(buf, end, fmt[0] == 'i' ? "(%pi?)" : "(%pI?)", spec);
}

static char *uuid_string(char *buf, char *end, const u8 *addr, struct fmt_spec spec,
			 const char *fmt)
{
	/* GUIDs (l, L) store the first three fields little-endian. */
	static const u8 guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	char text[sizeof("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")];
	bool guid = fmt[1] == 'l' || fmt[1] == 'L';
	bool upper = fmt[1] == 'B' || fmt[1] == 'L';
	char *p = text;

	if (bad_pointer(&buf, end, addr, spec))
		return buf;
	for (int i = 0; i < 16; i++) {
		p = hex_pack(p, addr[guid ? guid_order[i] : i], upper);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			*p++ = '-';
	}
	*p = '\0';
	return string_nocheck(buf, end, text, spec);
}

static char *va_format(char *buf, char *end, struct va_format *va_fmt, struct fmt_spec spec)
{
	va_list va;

	if (bad_pointer(&buf, end, va_fmt, spec))
		return buf;
	va_copy(va, *va_fmt->va);
	buf += vsnprintf(buf, end > buf ? end - buf : 0, va_fmt->fmt, va);
	va_end(va);
	return buf;
}

static char *fourcc_string(char *buf, char *end, const u32 *fourcc, struct fmt_spec spec,
			   const char *fmt)
{
	char text[sizeof("0123 little-endian (0x01234567)")];
	char *p = text;
	u32 orig, val;

	if (fmt[1] != 'c' || fmt[2] != 'c')
		return error_string(buf, end, "(%p4?)", spec);
	if (bad_pointer(&buf, end, fourcc, spec))
		return buf;
	memcpy(&orig, fourcc, sizeof(orig));
	val = orig & ~BIT(31);
	for (int i = 0; i < 4; i++) {
		unsigned char c = val >> (i * 8);

		*p++ = (c >= 0x20 && c < 0x7f) ? c : '.';
	}
	p += scnprintf(p, text + sizeof(text) - p, " %s (",
		       orig & BIT(31) ? "big-endian" : "little-endian");
	p = special_hex_number(p, text + sizeof(text) - 2, orig, sizeof(u32));
	*p++ = ')';
	*p = '\0';
	return string(buf, end, text, spec);
}

static char *pointer(const char *fmt, char *buf, char *end, void *ptr, struct fmt_spec spec)
{
	switch (*fmt) {
	case 'S':
	case 's':
	case 'B':
		return symbol_string(buf, end, ptr, spec, fmt);
	case 'R':
	case 'r':
		return resource_string(buf, end, ptr, spec, fmt);
	case 'h':
		return hex_string(buf, end, ptr, spec, fmt);
	case 'b':
		if (fmt[1] == 'l')
			return bitmap_list_string(buf, end, ptr, spec);
		return bitmap_string(buf, end, ptr, spec);
	case 'M':
	case 'm':
		return mac_address_string(buf, end, ptr, spec, fmt);
	case 'I':
	case 'i':
		return ip_addr_string(buf, end, ptr, spec, fmt);
	case 'U':
		return uuid_string(buf, end, ptr, spec, fmt);
	case 'V':
		return va_format(buf, end, ptr, spec);
	case 'K':
		return default_pointer(buf, end, ptr, spec);
	case 'N':
		if (bad_pointer(&buf, end, ptr, spec))
			return buf;
		if (fmt[1] != 'F')
			return error_string(buf, end, "(%pN?)", spec);
		return special_hex_number(buf, end, *(const netdev_features_t *)ptr,
					  sizeof(netdev_features_t));
	case '4':
		return fourcc_string(buf, end, ptr, spec, fmt);
	case 'a':
		if (bad_pointer(&buf, end, ptr, spec))
			return buf;
		if (fmt[1] == 'd')
			return special_hex_number(buf, end, *(const dma_addr_t *)ptr,
						  sizeof(dma_addr_t));
		return special_hex_number(buf, end, *(const phys_addr_t *)ptr,
					  sizeof(phys_addr_t));
	case 'x':
		return pointer_string(buf, end, ptr, spec);
	case 'e':
		if (!IS_ERR(ptr))
			return default_pointer(buf, end, ptr, spec);
		{
			int err = PTR_ERR(ptr);
			const char *name = errname(err);

			if (name)
				return string_nocheck(buf, end, name, spec);
			spec.flags |= SIGN;
			spec.base = 10;
			return number(buf, end, err, spec);
		}
	case 'u':
	case 'k':
		if (fmt[1] == 's')
			return string(buf, end, ptr, spec);
		return error_string(buf, end, "(einval)", spec);
	case 'd':
		return error_string(buf, end, "(%pd?)", spec);
	case 'D':
		return error_string(buf, end, "(%pD?)", spec);
	case 'g':
		return error_string(buf, end, "(%pg?)", spec);
	case 't':
		return error_string(buf, end, "(%pt?)", spec);
	case 'C':
		return error_string(buf, end, "(%pC?)", spec);
	case 'G':
		return error_string(buf, end, "(%pG?)", spec);
	case 'O':
		return error_string(buf, end, "(%pO?)", spec);
	case 'f':
		return error_string(buf, end, "(%pf?)", spec);
	case 'E':
		return error_string(buf, end, "(%pE?)", spec);
	case 'A':
		return error_string(buf, end, "(%pA?)", spec);
	default:
		return default_pointer(buf, end, ptr, spec);
	}
}

static int read_decimal(const char **s)
{
	int n = 0;

	while (isdigit(**s))
		n = n * 10 + *((*s)++) - '0';
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	char *str = buf, *end;

	/* Sizes above INT_MAX are a bug: nothing is written. */
	if (DRVSLICE_WARN_ON_ONCE(size > INT_MAX))
		return 0;
	end = buf + size;
	if (end < buf) {
		end = (void *)-1;
		size = end - buf;
	}

	while (*fmt) {
		struct fmt_spec spec = { .field_width = -1, .precision = -1, .base = 10 };
		char qualifier = 0;
		unsigned long long num;

		if (*fmt != '%') {
			str = put(str, end, *fmt++);
			continue;
		}
		fmt++;
		/* Flags. */
		for (;; fmt++) {
			if (*fmt == '-')
				spec.flags |= LEFT;
			else if (*fmt == '+')
				spec.flags |= PLUS;
			else if (*fmt == ' ')
				spec.flags |= SPACE;
			else if (*fmt == '#')
				spec.flags |= SPECIAL;
			else if (*fmt == '0')
				spec.flags |= ZEROPAD;
			else
				break;
		}
		/* Field width: digits, or '*' (negative means left-justified). */
		if (isdigit(*fmt)) {
			/* The kernel keeps it in 24 bits. */
			spec.field_width = sign_extend32(read_decimal(&fmt), 23);
		} else if (*fmt == '*') {
			int arg = va_arg(args, int);
			int w = clamp(arg, -FIELD_WIDTH_MAX, FIELD_WIDTH_MAX);

			DRVSLICE_WARN_ONCE(w != arg, "field width %d too large", arg);
			fmt++;
			if (w < 0) {
				w = -w;
				spec.flags |= LEFT;
			}
			spec.field_width = w;
		}
		/* Precision: a '.' not followed by digits or '*' leaves none. */
		if (*fmt == '.') {
			fmt++;
			if (isdigit(*fmt)) {
				/* In 16 bits, negative meaning 0, as in the kernel. */
				spec.precision = max_t(int, (s16)read_decimal(&fmt), 0);
			} else if (*fmt == '*') {
				int arg = va_arg(args, int);

				fmt++;
				spec.precision = clamp(arg, 0, PRECISION_MAX);
				DRVSLICE_WARN_ONCE(arg > PRECISION_MAX || arg < -PRECISION_MAX - 1,
						   "precision %d too large", arg);
			}
		}
		/* Qualifier: h hh l ll L z t. */
		if (*fmt == 'h' || _tolower(*fmt) == 'l' || *fmt == 'z' || *fmt == 't') {
			qualifier = *fmt++;
			if (qualifier == *fmt && qualifier == 'l') {
				qualifier = 'L';
				fmt++;
			} else if (qualifier == *fmt && qualifier == 'h') {
				qualifier = 'H';
				fmt++;
			}
		}

		switch (*fmt) {
		case 'c': {
			char c;

			fmt++;
			if (!(spec.flags & LEFT))
				while (--spec.field_width > 0)
					str = put(str, end, ' ');
			c = (unsigned char)va_arg(args, int);
			str = put(str, end, c);
			while (--spec.field_width > 0)
				str = put(str, end, ' ');
			continue;
		}
		case 's':
			fmt++;
			str = string(str, end, va_arg(args, char *), spec);
			continue;
		case 'p':
			fmt++;
			str = pointer(fmt, str, end, va_arg(args, void *), spec);
			while (isalnum(*fmt))
				fmt++;
			continue;
		case '%':
			fmt++;
			str = put(str, end, '%');
			continue;
		case 'o':
			spec.base = 8;
			break;
		case 'x':
			spec.flags |= SMALL;
			fallthrough;
		case 'X':
			spec.base = 16;
			break;
		case 'd':
		case 'i':
			spec.flags |= SIGN;
			break;
		case 'u':
			break;
		default:
			/* %n and anything unknown: the arguments can no longer be trusted. */
			DRVSLICE_WARN_ONCE(1, "Please remove unsupported %%%c in format string\n",
					   *fmt);
			goto out;
		}
		fmt++;

		switch (qualifier) {
		case 'L':
			num = va_arg(args, long long);
			break;
		case 'l':
			if (spec.flags & SIGN)
				num = va_arg(args, long);
			else
				num = va_arg(args, unsigned long);
			break;
		case 'z':
			if (spec.flags & SIGN)
				num = va_arg(args, ssize_t);
			else
				num = va_arg(args, size_t);
			break;
		case 't':
			num = va_arg(args, ptrdiff_t);
			break;
		case 'H':
			if (spec.flags & SIGN)
				num = (signed char)va_arg(args, int);
			else
				num = (unsigned char)va_arg(args, int);
			break;
		case 'h':
			if (spec.flags & SIGN)
				num = (short)va_arg(args, int);
			else
				num = (unsigned short)va_arg(args, int);
			break;
		default:
			if (spec.flags & SIGN)
				num = (int)va_arg(args, int);
			else
				num = va_arg(args, unsigned int);
			break;
		}
		str = number(str, end, num, spec);
	}
out:
	if (size > 0) {
		if (str < end)
			*str = '\0';
		else
			end[-1] = '\0';
	}
	/* The trailing NUL does not count. */
	return str - buf;
}

int vscnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	int i;

	if (!size)
		return 0;
	i = vsnprintf(buf, size, fmt, args);
	if (i < size)
		return i;
	return size - 1;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int i;

	va_start(args, fmt);
	i = vsnprintf(buf, size, fmt, args);
	va_end(args);
	return i;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int i;

	va_start(args, fmt);
	i = vscnprintf(buf, size, fmt, args);
	va_end(args);
	return i;
}

int vsprintf(char *buf, const char *fmt, va_list args)
{
	return vsnprintf(buf, INT_MAX, fmt, args);
}

int sprintf(char *buf, const char *fmt, ...)
{
	va_list args;
	int i;

	va_start(args, fmt);
	i = vsnprintf(buf, INT_MAX, fmt, args);
	va_end(args);
	return i;
}

char *kvasprintf(gfp_t gfp, const char *fmt, va_list ap)
{
	unsigned int first, second;
	char *p;
	va_list aq;

	va_copy(aq, ap);
	first = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);

	p = kmalloc_track_caller(first + 1, gfp);
	if (!p)
		return NULL;
	second = vsnprintf(p, first + 1, fmt, ap);
	if (first != second)
		pr_warn("different return values (%u and %u) from vsnprintf(\"%s\", ...)\n",
			first, second, fmt);
	return p;
}

char *kasprintf(gfp_t gfp, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = kvasprintf(gfp, fmt, ap);
	va_end(ap);
	return p;
}

/*
 * The kernel's error names: every errno of the x86 headers (EWOULDBLOCK
 * and EDEADLOCK print as EAGAIN and EDEADLK) and the kernel-internal ones
 * from 512, except ENOGRACE, which lib/errname.c does not name either.
 */
#define E(err) [err] = "-" #err
static const char *const errnames_0[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV),
	E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
	E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK),
	E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK),
	E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ECHRNG),
	E(EL2NSYNC), E(EL3HLT), E(EL3RST), E(ELNRNG), E(EUNATCH), E(ENOCSI),
	E(EL2HLT), E(EBADE), E(EBADR), E(EXFULL), E(ENOANO), E(EBADRQC),
	E(EBADSLT), E(EBFONT), E(ENOSTR), E(ENODATA), E(ETIME), E(ENOSR),
	E(ENONET), E(ENOPKG), E(EREMOTE), E(ENOLINK), E(EADV), E(ESRMNT),
	E(ECOMM), E(EPROTO), E(EMULTIHOP), E(EDOTDOT), E(EBADMSG), E(EOVERFLOW),
	E(ENOTUNIQ), E(EBADFD), E(EREMCHG), E(ELIBACC), E(ELIBBAD), E(ELIBSCN),
	E(ELIBMAX), E(ELIBEXEC), E(EILSEQ), E(ERESTART), E(ESTRPIPE), E(EUSERS),
	E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT),
	E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EPFNOSUPPORT),
	E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN),
	E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS),
	E(EISCONN), E(ENOTCONN), E(ESHUTDOWN), E(ETOOMANYREFS), E(ETIMEDOUT),
	E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY),
	E(EINPROGRESS), E(ESTALE), E(EUCLEAN), E(ENOTNAM), E(ENAVAIL), E(EISNAM),
	E(EREMOTEIO), E(EDQUOT), E(ENOMEDIUM), E(EMEDIUMTYPE), E(ECANCELED),
	E(ENOKEY), E(EKEYEXPIRED), E(EKEYREVOKED), E(EKEYREJECTED),
	E(EOWNERDEAD), E(ENOTRECOVERABLE), E(ERFKILL), E(EHWPOISON),
};

static const char *const errnames_512[] = {
#define E512(err) [err - 512] = "-" #err
	E512(ERESTARTSYS), E512(ERESTARTNOINTR), E512(ERESTARTNOHAND),
	E512(ENOIOCTLCMD), E512(ERESTART_RESTARTBLOCK), E512(EPROBE_DEFER),
	E512(EOPENSTALE), E512(ENOPARAM), E512(EBADHANDLE), E512(ENOTSYNC),
	E512(EBADCOOKIE), E512(ENOTSUPP), E512(ETOOSMALL), E512(ESERVERFAULT),
	E512(EBADTYPE), E512(EJUKEBOX), E512(EIOCBQUEUED), E512(ERECALLCONFLICT),
#undef E512
};
#undef E

/* errname(-EIO) is "-EIO", errname(EIO) "EIO", NULL if unknown. */
const char *errname(int err)
{
	unsigned int e = err < 0 ? -(unsigned int)err : err;
	const char *name = NULL;

	if (e < ARRAY_SIZE(errnames_0))
		name = errnames_0[e];
	else if (e >= 512 && e - 512 < ARRAY_SIZE(errnames_512))
		name = errnames_512[e - 512];
	if (!name)
		return NULL;
	return err > 0 ? name + 1 : name;
}
