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

/* How an argument crosses. */
enum drvslice_arg_kind {
	DRVSLICE_A_VALUE = 0,	/* its bytes */
	DRVSLICE_A_PTR,		/* a pointer, mapped to the other side's */
	DRVSLICE_A_OWN,		/* a pointer into an object of the callee's
				 * own side (the kernel's pci_dev for
				 * pci_enable_device): no copy, no global,
				 * no function */
	DRVSLICE_A_BUF,		/* a pointer to @size bytes the callee reads */
	DRVSLICE_A_STR,		/* a string of at most @size bytes, NUL
				 * included */
	DRVSLICE_A_OUT,		/* a pointer to @size bytes the callee
				 * writes (dma_alloc_coherent's handle) */
	DRVSLICE_A_FN,		/* a function of the callee's own half
				 * (request_irq's handler): nothing else */
	DRVSLICE_A_INOUT,	/* a pointer to bytes that go with the call
				 * and come back with the reply (annotation
				 * array FN.PARAM COUNT: ethtool's register
				 * dump), as many as the unsigned int at
				 * args[@len_arg - 1] says (a length the
				 * stub computed, after the arguments), at
				 * most @size; NULL: none */
};

/* One argument as the caller passes it. */
struct drvslice_arg {
	unsigned short size;	/* sizeof the parameter; A_BUF/A_STR/A_OUT:
				 * the most bytes */
	unsigned char kind;	/* enum drvslice_arg_kind */
	const char *pointee;	/* the struct it points to, or NULL */
	/* A_BUF/A_OUT: 1 + the index of the argument (a size_t or an
	 * unsigned int of @len_size bytes) that gives the bytes, at most
	 * @size; 0: always @size. */
	unsigned char len_arg, len_size;
	/* A_PTR to a struct whose fields do not cross: its size (0: none
	 * known).  The callee's copy has that many bytes (zero), so that
	 * what the callee's code writes there stays in it. */
	unsigned int pointee_size;
};

/*
 * The fields of one struct type that cross in one direction of a call: the
 * type's index in the driver's types (NAME-slice.h's SLICE_NAME_T_*) and
 * the indices of the fields in that type's table.
 */
struct drvslice_set {
	unsigned short type;
	unsigned short nfields;		/* DRVSLICE_ALL_FIELDS: every one */
	const unsigned short *fields;
};
#define DRVSLICE_ALL_FIELDS	0xffff

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
	unsigned char flags;	/* DRVSLICE_E_* */
};

/*
 * A function of the kernel's API the user half calls (the driver library's
 * downcalls: pci_enable_device, register_netdev, ...): its id is
 * DRVSLICE_API_BASE + n in the API's own description, and every crossing
 * field of its struct arguments' types goes with the call and comes back,
 * since what the kernel's function reads and writes is not the driver's
 * code to tell.
 */
#define DRVSLICE_E_API		0x01
/* The result is a pointer (@ret_size is sizeof(void *)): it crosses as the
 * other side's object it points into, as an argument of kind A_PTR does
 * (alloc_etherdev's net_device, ioremap's registers). */
#define DRVSLICE_E_RET_PTR	0x02
#define DRVSLICE_API_BASE	0x8000

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
	/* A char * to a NUL-terminated string (annotation nullterm): mapped
	 * as a pointer, and the string's bytes go with it. */
	DRVSLICE_F_STRING,
	/* A pointer to @size bytes (annotation array N: N elements), or to
	 * as many elements of @size bytes as field @count - 1 of the same
	 * struct holds (array FIELD): mapped as a pointer, and those bytes
	 * go with it. */
	DRVSLICE_F_ARRAY,
	/* A pointer to elements of @size bytes (1, 2, 4 or 8) that end with
	 * one equal to @end (annotation sentinel VALUE): mapped as a pointer,
	 * and the elements up to and with that one go with it. */
	DRVSLICE_F_SENTINEL,
};

struct drvslice_field {
	const char *name;	/* "cp_private.rx_ring": for errors */
	unsigned int offset;	/* in the struct */
	unsigned int size;
	unsigned char kind;	/* enum drvslice_field_kind */
	/* DRVSLICE_F_ARRAY: 1 + the index (in its type's fields) of the
	 * field that holds the number of elements, an unsigned integer of
	 * 1, 2, 4 or 8 bytes that crosses with it; 0: @size is the array's. */
	unsigned short count;
	/* DRVSLICE_F_SENTINEL: the last element's value. */
	unsigned long long end;
};

struct drvslice_type {
	const char *name;	/* "cp_private" */
	unsigned int size;
	unsigned short nfields;
	const struct drvslice_field *fields;
	unsigned short align;	/* __alignof__ */
};

/* A struct member that is a struct: @inner's fields, reached through
 * @outer, live at @offset in it (dev->stats.tx_errors). */
struct drvslice_embed {
	unsigned short outer, inner;
	unsigned int offset;
};

/* A kernel function returning the private area of a kernel object, and
 * the driver's struct it holds (netdev_priv: cp_private). */
struct drvslice_private {
	const char *accessor;
	unsigned short type;
};

/*
 * A lock both halves take (the annotation `combolock STRUCT.FIELD`): the
 * kernel's object holds the one lock; the user half's spin_lock and
 * spin_unlock of its copy's become downcalls that take and give back the
 * kernel's (module/slice_lock.c).  It lies at @offset in the driver's
 * struct type @type (or in a struct embedded there); its bytes never cross.
 */
struct drvslice_combolock {
	const char *name;	/* "cp_private.lock" */
	unsigned short type;
	unsigned int offset;
};
/* The kernel API's combolock call: what it does with the lock. */
#define DRVSLICE_COMBOLOCK_UNLOCK	0
#define DRVSLICE_COMBOLOCK_LOCK		1
#define DRVSLICE_COMBOLOCK_TRYLOCK	2

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
	unsigned short nprivates;
	const struct drvslice_private *privates;
	unsigned short ncombolocks;
	const struct drvslice_combolock *combolocks;
};

/*
 * The runtime both sides share (module/slice_core.c): the object tracker
 * and the codec of a call.  The kernel's module and the user-space driver
 * library each keep one struct drvslice_side per device and move the
 * messages it makes (drvxpc attributes, SLICE_*) between them; the core
 * neither sends nor locks: its caller serialises the calls on one side.
 *
 * A pointer crosses as (handle, offset) into an object both sides know by
 * its handle: an object of this side (tracked: a device's net_device, a
 * DMA buffer, an argument on the caller's stack for one call), one of the
 * other side this side holds a copy of (a shadow, made when a message
 * first names the object), a function (by entry id) or a global of the
 * driver (by its index in the description: each half has its own copy).
 */
#define DRVSLICE_OBJS_MAX	256
#define DRVSLICE_ARGS_MAX	8
#define DRVSLICE_VALUE_MAX	64	/* bytes of an argument or result */
/* Bytes of an A_INOUT argument the u-driver serves (the kernel serves
 * DRVSLICE_VALUE_MAX at most: they lie on its stack). */
#define DRVSLICE_INOUT_MAX	4096
/* The most bytes of a struct argument whose fields do not cross (pointee_size). */
#define DRVSLICE_SHADOW_MAX	4096
#define DRVSLICE_SCRATCH_WORDS	576
#define DRVSLICE_DROPS_MAX	32	/* untracked handles a message announces */

#define DRVSLICE_H_KIND		0xf000000000000000ULL
#define DRVSLICE_H_KERNEL	0x1000000000000000ULL	/* the kernel's */
#define DRVSLICE_H_USER		0x2000000000000000ULL	/* the u-driver's */
#define DRVSLICE_H_FN		0x3000000000000000ULL	/* | entry id */
#define DRVSLICE_H_GLOBAL	0x4000000000000000ULL	/* | global index */
#define DRVSLICE_H_CALL		0x0800000000000000ULL	/* for one call */

struct drvslice_obj {
	unsigned long long handle;
	void *ptr;
	unsigned int size;
	unsigned short type;	/* 0: not a struct that crosses */
	unsigned char shadow;	/* a copy of the other side's, made here */
	unsigned char depth;	/* 0: kept; n: dropped when call n ends */
	unsigned char named;	/* announced to the other side (this side's) */
	/* A few bytes of no struct type that travel whole each time the
	 * object is named (drvslice_track_bytes: a net_device's address). */
	unsigned char content;
	/* Content something else writes (a DMA buffer the device fills):
	 * named in every message this side sends (drvslice_track_device). */
	unsigned char device;
	/* The object this one lies in (a net_device's private area in the
	 * net_device), or 0: the other side's copy lies at the same offset
	 * in its copy of that one. */
	unsigned long long parent;
	unsigned int parent_off;
	/* A copy's base: the bytes its owner was last known to hold (stored
	 * here from a message, or sent), as many as @size, allocated with a
	 * copy (after it) and freed with it; a child's lies in its parent's.
	 * A field of a copy that still holds its base's value is not sent.
	 * NULL: this side's own object, an opaque copy. */
	void *base;
};

struct drvslice_side {
	const struct drvslice_driver *drv;
	/* The kernel API's description (entries by id - DRVSLICE_API_BASE;
	 * the kernel's side has the targets), or NULL: set after init. */
	const struct drvslice_driver *api;
	unsigned char kernel;	/* this is the kernel half */
	unsigned char depth;	/* calls in progress on this side */
	unsigned int nobjs;
	unsigned long long next;	/* numbers this side's handles */
	/* Shadows: zeroed memory of @size bytes (NULL: none), and back. */
	void *(*alloc)(unsigned int size);
	void (*free)(void *p);
	struct drvslice_obj objs[DRVSLICE_OBJS_MAX];
	/* This side's objects the other side was handed and this side has
	 * untracked since its last message: the next one (a call or a reply)
	 * announces them (SLICE_DROP) and the other side drops its copies.
	 * @drops_lost: untracked while the list was full, never announced. */
	unsigned long long dropped[DRVSLICE_DROPS_MAX];
	unsigned int ndropped, drops_lost;
	char why[160];		/* the last error, naming what was wrong */
	/* drvslice_serve's last call reached its callee: an error since was
	 * the callee's (or the answer's), not the message's. */
	unsigned char called;
	/* The message being decoded (kept off the kernel's small stack). */
	unsigned long long scratch[DRVSLICE_SCRATCH_WORDS];
};

void drvslice_side_init(struct drvslice_side *s,
			const struct drvslice_driver *drv, int kernel,
			void *(*alloc)(unsigned int), void (*free)(void *));
/* Drops every object (shadows freed). */
void drvslice_side_reset(struct drvslice_side *s);
/* Drops the copies of the other side's objects (the other side is a new
 * process that knows none of them); this side's own objects stay. */
void drvslice_side_forget_peer(struct drvslice_side *s);
/*
 * The name of a pointer field ("cp_private.rx_ring") of one of this side's
 * own struct objects that points into the @size bytes at @ptr, or NULL: a
 * buffer the driver's state still points at (a DMA ring).
 */
const char *drvslice_pointed_into(const struct drvslice_side *s,
				  const void *ptr, unsigned int size);
/* At most this many bytes travel with an object (drvslice_track_bytes). */
#define DRVSLICE_CONTENT_MAX	256
/*
 * A local object of no struct type whose bytes, at most
 * DRVSLICE_CONTENT_MAX, go with it each time a message names it: the
 * other side's copy holds them (a net_device's dev_addr, which the driver
 * reads through a pointer and the kernel API writes).  Its handle (0:
 * full, or too big).
 */
unsigned long long drvslice_track_bytes(struct drvslice_side *s, void *ptr,
					unsigned int size);
/*
 * As drvslice_track_bytes, for memory something else writes: a small DMA
 * buffer the device fills (8139cp's statistics dump).  Its bytes go with
 * every message this side sends, so that the other side's copy follows
 * it call by call (the u-driver sees the device only through calls).
 */
unsigned long long drvslice_track_device(struct drvslice_side *s, void *ptr,
					 unsigned int size);
/* A local object the other side may be handed: its handle (0: full). */
unsigned long long drvslice_track(struct drvslice_side *s, void *ptr,
				  unsigned int size, unsigned short type);
/* Forgets it (and the objects inside); the other side's copies go with this
 * side's next message. */
void drvslice_untrack(struct drvslice_side *s, const void *ptr);
/* The index of the driver's struct type @name (0: none crosses). */
unsigned short drvslice_type_named(const struct drvslice_side *s,
				   const char *name);
/* The object holding @p, or NULL. */
const struct drvslice_obj *drvslice_obj_of(const struct drvslice_side *s,
					   const void *p);
/* The driver's ComboLock @p is, in an object this side tracks: its struct
 * type's (or a struct's embedded there) at @p's offset; NULL if none. */
const struct drvslice_combolock *
drvslice_combolock_of(const struct drvslice_side *s, const void *p);

/*
 * The caller's side: the call @e with @args as a message in @buf (at most
 * @cap bytes): its length, or a negative errno with s->why set.  The reply
 * (@msg, @len) gives *@ret, what the callee wrote and its A_OUT arguments
 * (stored through @args, the call's); then the call ends
 * (drvslice_call_end, also when no reply came).
 */
int drvslice_encode_call(struct drvslice_side *s,
			 const struct drvslice_entry *e, void *const args[],
			 unsigned char *buf, unsigned int cap);
int drvslice_decode_reply(struct drvslice_side *s,
			  const struct drvslice_entry *e, void *const args[],
			  const unsigned char *msg, unsigned int len, void *ret);
void drvslice_call_end(struct drvslice_side *s);

/*
 * The state a new u-driver adopts a probed device with (the kernel's
 * answer to its SLICE_PROBE): every struct of the kernel side's own
 * objects, all of its crossing fields, and the objects they name, in
 * @buf (at most @cap bytes): its length, or a negative errno with s->why
 * set.  An entry's field sets name what its callee reads as far as the
 * analysis sees; a field read only through a function pointer that a
 * library calls (mii_if_info.mdio_read reading cp_private.regs) is in
 * none, and the u-driver that wrote it in its own probe never needed it
 * sent.  The one that adopts the device does.
 * The user side stores it (decode): 0, or a negative errno with s->why set
 * (nothing stored then).
 */
int drvslice_encode_state(struct drvslice_side *s, unsigned char *buf,
			  unsigned int cap);
int drvslice_decode_state(struct drvslice_side *s, const unsigned char *msg,
			  unsigned int len);

/*
 * The callee's side: a call message checked whole against this half's
 * own description before anything is stored, the function run, its reply
 * written to @out.  The reply's length, or a negative errno with s->why
 * naming the attribute or field that was wrong (nothing stored then).
 */
int drvslice_serve(struct drvslice_side *s, const unsigned char *msg,
		   unsigned int len, unsigned char *out, unsigned int cap);

#endif /* _DRVSLICE_H */
