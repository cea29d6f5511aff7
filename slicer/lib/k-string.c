// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the kernel's own string helpers for a
 * user half.
 *
 * Provides what linux/string.h, linux/kernel.h, linux/ctype.h,
 * linux/kstrtox.h and fortify-string.h declare and the C library does not
 * have: strscpy, strscpy_pad, strlcpy, strlcat, strnchr, strnchrnul,
 * strnstr, memscan, memchr_inv, memcpy_and_pad, skip_spaces, strim,
 * strreplace, sysfs_streq, match_string, __sysfs_match_string; hex_asc,
 * hex_asc_upper, hex_to_bin, hex2bin, bin2hex; the _ctype table behind
 * isalpha() and friends; kstrtoull, kstrtoll, _kstrtoul, _kstrtol,
 * kstrtouint, kstrtoint, kstrtou16, kstrtos16, kstrtou8, kstrtos8,
 * kstrtobool and simple_strtoul/strtol/strtoull/strtoll.  (fortify_panic,
 * declared by fortify-string.h which this file must not include, is in
 * k-printk.c.)
 *
 * The standard functions the headers call (strlen, strnlen, memcpy,
 * memset, memmove, memcmp, strcmp, strncmp, strchr, strrchr, strstr...)
 * are the C library's, whose semantics are the kernel's.
 *
 * Departure: where the kernel BUG()s (strlcat of an unterminated
 * destination) the process prints the same report and
 * aborts, as an oops would end the task.
 */
#define __NO_FORTIFY
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/limits.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/types.h>

#include "drvslice-os.h"
#include "k-lib.h"

ssize_t strscpy(char *dest, const char *src, size_t count)
{
	size_t i;

	if (count == 0 || DRVSLICE_WARN_ON_ONCE(count > INT_MAX))
		return -E2BIG;
	for (i = 0; i < count; i++) {
		dest[i] = src[i];
		if (!src[i])
			return i;
	}
	/* No room for the NUL: truncate. */
	dest[count - 1] = '\0';
	return -E2BIG;
}

ssize_t strscpy_pad(char *dest, const char *src, size_t count)
{
	ssize_t written = strscpy(dest, src, count);

	if (written < 0 || written == count - 1)
		return written;
	memset(dest + written + 1, 0, count - written - 1);
	return written;
}

size_t strlcpy(char *dest, const char *src, size_t size)
{
	size_t ret = strlen(src);

	if (size) {
		size_t len = ret >= size ? size - 1 : ret;

		memcpy(dest, src, len);
		dest[len] = '\0';
	}
	return ret;
}

size_t strlcat(char *dest, const char *src, size_t count)
{
	size_t dsize = strlen(dest);
	size_t len = strlen(src);
	size_t res = dsize + len;

	if (dsize >= count)
		drvslice_bug(__FILE__, __LINE__);
	dest += dsize;
	count -= dsize;
	if (len >= count)
		len = count - 1;
	memcpy(dest, src, len);
	dest[len] = '\0';
	return res;
}

char *strnchr(const char *s, size_t count, int c)
{
	for (; count--; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			break;
	}
	return NULL;
}

char *strnchrnul(const char *s, size_t count, int c)
{
	while (count-- && *s && *s != (char)c)
		s++;
	return (char *)s;
}

char *strnstr(const char *s1, const char *s2, size_t len)
{
	size_t l2 = strlen(s2);

	if (!l2)
		return (char *)s1;
	for (; len >= l2; len--, s1++)
		if (!memcmp(s1, s2, l2))
			return (char *)s1;
	return NULL;
}

void *memscan(void *addr, int c, size_t size)
{
	unsigned char *p = addr;

	for (; size; size--, p++)
		if (*p == (unsigned char)c)
			break;
	return p;
}

void *memchr_inv(const void *start, int c, size_t bytes)
{
	const u8 *p = start;

	for (; bytes; bytes--, p++)
		if (*p != (u8)c)
			return (void *)p;
	return NULL;
}

void memcpy_and_pad(void *dest, size_t dest_len, const void *src, size_t count, int pad)
{
	if (dest_len > count) {
		memcpy(dest, src, count);
		memset(dest + count, pad, dest_len - count);
	} else {
		memcpy(dest, src, dest_len);
	}
}

char *skip_spaces(const char *str)
{
	while (isspace(*str))
		++str;
	return (char *)str;
}

char *strim(char *s)
{
	size_t size = strlen(s);
	char *end;

	if (!size)
		return s;
	end = s + size - 1;
	while (end >= s && isspace(*end))
		end--;
	end[1] = '\0';
	return skip_spaces(s);
}

/* Returns the end of @s (its NUL). */
char *strreplace(char *s, char old, char new)
{
	for (; *s; ++s)
		if (*s == old)
			*s = new;
	return s;
}

/* Equal, or equal but for one trailing newline on either side. */
bool sysfs_streq(const char *s1, const char *s2)
{
	while (*s1 && *s1 == *s2) {
		s1++;
		s2++;
	}
	if (*s1 == *s2)
		return true;
	if (!*s1 && *s2 == '\n' && !s2[1])
		return true;
	if (*s1 == '\n' && !s1[1] && !*s2)
		return true;
	return false;
}

int match_string(const char * const *array, size_t n, const char *string)
{
	for (size_t i = 0; i < n && array[i]; i++)
		if (!strcmp(array[i], string))
			return i;
	return -EINVAL;
}

int __sysfs_match_string(const char * const *array, size_t n, const char *str)
{
	for (size_t i = 0; i < n && array[i]; i++)
		if (sysfs_streq(array[i], str))
			return i;
	return -EINVAL;
}

const char hex_asc[] = "0123456789abcdef";
const char hex_asc_upper[] = "0123456789ABCDEF";

int hex_to_bin(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int hex2bin(u8 *dst, const char *src, size_t count)
{
	while (count--) {
		int hi = hex_to_bin(*src++);
		int lo;

		if (hi < 0)
			return -EINVAL;
		lo = hex_to_bin(*src++);
		if (lo < 0)
			return -EINVAL;
		*dst++ = (hi << 4) | lo;
	}
	return 0;
}

char *bin2hex(char *dst, const void *src, size_t count)
{
	const unsigned char *s = src;

	while (count--)
		dst = hex_byte_pack(dst, *s++);
	return dst;
}

/* ASCII, then Latin-1 as the kernel classifies it. */
const unsigned char _ctype[] = {
	[0 ... 8] = _C,
	[9 ... 13] = _C | _S,
	[14 ... 31] = _C,
	[32] = _S | _SP,
	[33 ... 47] = _P,
	[48 ... 57] = _D,
	[58 ... 64] = _P,
	[65 ... 70] = _U | _X,
	[71 ... 90] = _U,
	[91 ... 96] = _P,
	[97 ... 102] = _L | _X,
	[103 ... 122] = _L,
	[123 ... 126] = _P,
	[127] = _C,
	[128 ... 159] = 0,
	[160] = _S | _SP,
	[161 ... 191] = _P,
	[192 ... 214] = _U,
	[215] = _P,
	[216 ... 222] = _U,
	[223 ... 246] = _L,
	[247] = _P,
	[248 ... 255] = _L,
};

/* lib/kstrtox.h: set in the result of parse_integer on overflow. */
#define PARSE_OVERFLOW	(1U << 31)

/* Base 0: "0x" (followed by a hex digit) is 16, "0" is 8, else 10. */
static const char *fixup_radix(const char *s, unsigned int *base)
{
	if (*base == 0) {
		if (s[0] == '0') {
			if (_tolower(s[1]) == 'x' && isxdigit(s[2]))
				*base = 16;
			else
				*base = 8;
		} else {
			*base = 10;
		}
	}
	if (*base == 16 && s[0] == '0' && _tolower(s[1]) == 'x')
		s += 2;
	return s;
}

/* Digits parsed (at most @max_chars), | PARSE_OVERFLOW if they overflowed. */
static unsigned int parse_integer(const char *s, unsigned int base,
				  unsigned long long *p, size_t max_chars)
{
	unsigned long long res = 0;
	unsigned int rv = 0;

	for (; max_chars--; s++) {
		unsigned int c = *s, lc = c | 0x20, val;

		if (c >= '0' && c <= '9')
			val = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			val = lc - 'a' + 10;
		else
			break;
		if (val >= base)
			break;
		if (res > (ULLONG_MAX - val) / base)
			rv |= PARSE_OVERFLOW;
		res = res * base + val;
		rv++;
	}
	*p = res;
	return rv;
}

/* Digits, then at most one newline, then the end. */
static int kstrtoull_digits(const char *s, unsigned int base, unsigned long long *res)
{
	unsigned long long value;
	unsigned int rv;

	s = fixup_radix(s, &base);
	rv = parse_integer(s, base, &value, INT_MAX);
	if (rv & PARSE_OVERFLOW)
		return -ERANGE;
	if (rv == 0)
		return -EINVAL;
	s += rv;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = value;
	return 0;
}

int kstrtoull(const char *s, unsigned int base, unsigned long long *res)
{
	if (s[0] == '+')
		s++;
	return kstrtoull_digits(s, base, res);
}

int kstrtoll(const char *s, unsigned int base, long long *res)
{
	unsigned long long tmp;
	int rv;

	if (s[0] == '-') {
		rv = kstrtoull_digits(s + 1, base, &tmp);
		if (rv < 0)
			return rv;
		if ((long long)-tmp > 0)
			return -ERANGE;
		*res = -tmp;
	} else {
		rv = kstrtoull(s, base, &tmp);
		if (rv < 0)
			return rv;
		if ((long long)tmp < 0)
			return -ERANGE;
		*res = tmp;
	}
	return 0;
}

/* An unsigned conversion narrowed to @type, -ERANGE if it does not fit. */
#define KSTRTO_UNSIGNED(name, type)					\
int name(const char *s, unsigned int base, type *res)			\
{									\
	unsigned long long tmp;						\
	int rv = kstrtoull(s, base, &tmp);				\
									\
	if (rv < 0)							\
		return rv;						\
	if (tmp != (type)tmp)						\
		return -ERANGE;						\
	*res = tmp;							\
	return 0;							\
}

#define KSTRTO_SIGNED(name, type)					\
int name(const char *s, unsigned int base, type *res)			\
{									\
	long long tmp;							\
	int rv = kstrtoll(s, base, &tmp);				\
									\
	if (rv < 0)							\
		return rv;						\
	if (tmp != (type)tmp)						\
		return -ERANGE;						\
	*res = tmp;							\
	return 0;							\
}

KSTRTO_UNSIGNED(_kstrtoul, unsigned long)
KSTRTO_SIGNED(_kstrtol, long)
KSTRTO_UNSIGNED(kstrtouint, unsigned int)
KSTRTO_SIGNED(kstrtoint, int)
KSTRTO_UNSIGNED(kstrtou16, u16)
KSTRTO_SIGNED(kstrtos16, s16)
KSTRTO_UNSIGNED(kstrtou8, u8)
KSTRTO_SIGNED(kstrtos8, s8)

int kstrtobool(const char *s, bool *res)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y':
	case 'Y':
	case 't':
	case 'T':
	case '1':
		*res = true;
		return 0;
	case 'n':
	case 'N':
	case 'f':
	case 'F':
	case '0':
		*res = false;
		return 0;
	case 'o':
	case 'O':
		switch (s[1]) {
		case 'n':
		case 'N':
			*res = true;
			return 0;
		case 'f':
		case 'F':
			*res = false;
			return 0;
		}
		break;
	}
	return -EINVAL;
}

/* No sign, no leading spaces; overflow wraps; *@endp after the digits. */
unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base)
{
	unsigned long long result;
	unsigned int rv;

	cp = fixup_radix(cp, &base);
	rv = parse_integer(cp, base, &result, INT_MAX);
	cp += rv & ~PARSE_OVERFLOW;
	if (endp)
		*endp = (char *)cp;
	return result;
}

unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base)
{
	return simple_strtoull(cp, endp, base);
}

long simple_strtol(const char *cp, char **endp, unsigned int base)
{
	if (*cp == '-')
		return -simple_strtoul(cp + 1, endp, base);
	return simple_strtoul(cp, endp, base);
}

long long simple_strtoll(const char *cp, char **endp, unsigned int base)
{
	if (*cp == '-')
		return -simple_strtoull(cp + 1, endp, base);
	return simple_strtoull(cp, endp, base);
}
