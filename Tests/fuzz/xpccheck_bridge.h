/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The nucleus's own checks (module/xpccheck.c) for the Swift XPC harness,
 * so it can hold the Swift decoder to the kernel's verdict.
 */
#ifndef FUZZ_XPCCHECK_BRIDGE_H
#define FUZZ_XPCCHECK_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

/* One step as the nucleus parsed it. */
struct fuzz_regstep {
	uint8_t kind;
	uint32_t off, width, value, mask, wait;
};

/* What drvnucleus_doit() decides about @len bytes: 0 (accepted), or the
 * negative errno of the header check or the attribute validator. */
int fuzz_nucleus_validate(const uint8_t *msg, size_t len);

/*
 * A REG_SEQ message the validator accepted, parsed as reg_seq() does for a
 * BAR of @bar_len bytes: the number of steps written to @out (room for
 * DRVXPC_SEQ_MAX_OPS), or a negative errno.
 */
int fuzz_nucleus_reg_seq(const uint8_t *msg, size_t len, uint32_t bar_len,
			 struct fuzz_regstep *out);

#endif
