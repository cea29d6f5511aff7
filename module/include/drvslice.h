/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drvslice: the calls a sliced driver's two halves make to each other.
 *
 * driverslicer --halves rewrites a legacy driver's own C files into a
 * kernel half (the nucleus: its critical functions, unmodified) and a user
 * half (the u-driver: the rest, unmodified).  A function of the other side
 * that a half reaches keeps its signature and gets a generated body that
 * describes the call (struct drvslice_entry) and hands the addresses of
 * its arguments to drvslice_upcall() (kernel half -> u-driver) or
 * drvslice_downcall() (user half -> nucleus).  Each half ends with the
 * table of the functions it serves (struct drvslice_target), looked up by
 * the id the caller's entry carries, and the table of its stubs (@call
 * NULL): a pointer to a function of the other half, stored by that half
 * (an ops table, mii_if.mdio_read), stands for the stub of the same id
 * here.  The ids are the generated NAME-slice.h's enum.
 *
 * Both halves include this header: the kernel's module and the user-space
 * driver library.  It depends on no other header.
 */
#ifndef _DRVSLICE_H
#define _DRVSLICE_H

/* The direction of a call. */
enum drvslice_dir {
	DRVSLICE_UP = 1,	/* the kernel half calls a u-driver function */
	DRVSLICE_DOWN = 2,	/* the user half calls a nucleus function */
};

/* One argument as the caller passes it. */
struct drvslice_arg {
	unsigned short size;	/* sizeof the parameter */
	unsigned char pointer;	/* 1: a pointer, mapped to the other side's */
	const char *pointee;	/* the struct it points to, or NULL */
};

/*
 * The fields of one struct type that cross in one direction of a call: the
 * type's index in the driver's types (NAME-slice.h's SLICE_NAME_T_*) and
 * the indices of the fields in that type's table.
 */
struct drvslice_set {
	unsigned short type;
	unsigned short nfields;
	const unsigned short *fields;
};

/* One call across the split, as the calling half's stub describes it. */
struct drvslice_entry {
	unsigned short id;	/* NAME-slice.h's enum */
	unsigned char dir;	/* enum drvslice_dir */
	unsigned char nargs;
	const char *name;
	const struct drvslice_arg *args;	/* nargs of them, or NULL */
	unsigned short ret_size;	/* 0: void */
	/* What the callee's side reads (sent with the call) and writes (sent
	 * back with the result): the marshaling spec's field sets. */
	unsigned char nin, nout;
	const struct drvslice_set *in, *out;
};

/*
 * One function a half serves.  @call calls it with @args[i] pointing at
 * argument i (as the stub's struct drvslice_entry describes it) and stores
 * its result at @ret (ret_size bytes; unused for void); it returns 0.
 */
struct drvslice_target {
	unsigned short id;
	const char *name;
	const void *fn;
	int (*call)(void *const args[], void *ret);
};

/*
 * Make the call @e describes, with @args[i] the address of argument i and
 * @ret where the result goes (NULL for void).  0: the function ran on the
 * other side and *@ret is its result; a negative errno: it did not (no
 * u-driver, a malformed reply, a deadline passed), and *@ret is untouched.
 */
int drvslice_upcall(const struct drvslice_entry *e, void *const args[],
		    void *ret);
int drvslice_downcall(const struct drvslice_entry *e, void *const args[],
		      void *ret);

/*
 * The driver's description, one per half (generated at the end of each
 * half's file): what the runtime (slice_core.c) needs to carry a call's
 * arguments and fields between two address spaces.
 */
enum drvslice_field_kind {
	DRVSLICE_F_BYTES = 1,	/* copied as they are */
	DRVSLICE_F_POINTER,	/* mapped to the other side's object */
	DRVSLICE_F_BITS,	/* a bitfield: offset and size in bits */
};

struct drvslice_field {
	const char *name;	/* "cp_private.rx_ring": for errors */
	unsigned int offset;	/* in the struct */
	unsigned int size;
	unsigned char kind;	/* enum drvslice_field_kind */
};

struct drvslice_type {
	const char *name;	/* "cp_private" */
	unsigned int size;
	unsigned short nfields;
	const struct drvslice_field *fields;
};

/* A struct member that is a struct: @inner's fields, reached through
 * @outer, live at @offset in it (dev->stats.tx_errors). */
struct drvslice_embed {
	unsigned short outer, inner;
	unsigned int offset;
};

/* A variable of the driver: both halves have their own copy. */
struct drvslice_global {
	const char *name;
	void *ptr;
	unsigned int size;
	unsigned short type;	/* 0: not a struct that crosses */
};

struct drvslice_driver {
	const char *name;
	unsigned short nentries;	/* ids 1 .. nentries - 1 */
	const struct drvslice_entry *const *entries;	/* by id */
	unsigned short ntypes;		/* types 1 .. ntypes - 1 */
	const struct drvslice_type *types;
	unsigned short nembeds;
	const struct drvslice_embed *embeds;
	unsigned short nglobals;
	const struct drvslice_global *globals;
	const struct drvslice_target *targets;	/* this half serves */
	const struct drvslice_target *stubs;	/* the other half's, here */
};

#endif /* _DRVSLICE_H */
