/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code-mutation fault injection into a running process through ptrace
 * (x86-64 Linux), in the style of the MINIX 3 and Nooks injectors.
 *
 * An image (fi_image_open) is the process's executable as a file: its
 * ELF .symtab functions, its code bytes, and the load bias of the running
 * copy.  Targets are chosen and decoded (capstone) from the file, before
 * the process is stopped, so a stop lasts only as long as the read, the
 * compare and the write.
 *
 * Every fi_mutate / fi_restore call is self-contained: it attaches to all
 * threads of the process (PTRACE_SEIZE + PTRACE_INTERRUPT), does its work
 * and detaches all before returning.  ptrace binds a tracee to the calling
 * THREAD, so nothing here may be split across threads; the calls block
 * (fi_mutate up to its timeout for the register and stack kinds).
 *
 * Functions return 0 or -errno and, on failure, a sentence in @err.
 */
#ifndef FAULT_INJECT_H
#define FAULT_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The mutation kinds. */
enum fi_kind {
	FI_BIT_FLIP = 0,	/* one bit of one instruction's bytes */
	FI_INVERT_BRANCH = 1,	/* a jcc's condition, low bit of the cc */
	FI_NOP = 2,		/* one instruction becomes NOPs of its length */
	FI_REGISTER = 3,	/* one bit of one GPR when code is reached */
	FI_STACK_POINTER = 4,	/* one bit of a pointer on the stack, ditto */
};

/* fi_mutate flags. */
enum fi_flags {
	/* Take the function's first candidate instruction instead of a
	 * random one (its entry, for every kind but invert-branch). */
	FI_FIRST_INSTRUCTION = 1,
};

/* Longest x86 instruction: the most bytes one mutation changes. */
#define FI_MAX_BYTES 15

/* One function of the executable, as linked (add the bias for runtime). */
struct fi_symbol {
	/* Link-time address (st_value). */
	uint64_t address;
	/* Size in bytes (st_size), never 0. */
	uint64_t size;
	/* The symbol's name (mangled); valid while the image is open. */
	const char *name;
};

/* What one mutation did, enough to record it and undo it. */
struct fi_mutation {
	/* enum fi_kind */
	int kind;
	/* 1 when the code was changed and fi_restore has bytes to write back;
	 * 0 for the register and stack kinds (their code is already back). */
	int code_changed;
	/* Register and stack kinds: 1 when a thread reached the instruction. */
	int reached;
	/* Stack kind: 1 when a pointer was found and corrupted. */
	int corrupted;
	/* Runtime address of the function and of the chosen instruction. */
	uint64_t function_address;
	uint64_t address;
	/* The chosen instruction's length, and the bytes changed: @length
	 * bytes at @address (the whole instruction), before and after. */
	uint32_t length;
	uint8_t original[FI_MAX_BYTES];
	uint8_t mutated[FI_MAX_BYTES];
	/* Disassembly (capstone) of the instruction before and after. */
	char before[96];
	char after[96];
	/* Flipped bit: within the instruction's bytes (bit-flip), within the
	 * register (register) or within the stack word (stack); else -1. */
	int bit;
	/* Register and stack kinds: the thread that reached the instruction. */
	pid_t thread;
	/* Register kind: the register's name ("rax"...). */
	char register_name[8];
	/* Register: the register's value; stack: the word's value. */
	uint64_t old_value;
	uint64_t new_value;
	/* Stack kind: the corrupted slot's address. */
	uint64_t stack_slot;
	/* The longest time any thread was held stopped, in microseconds. */
	uint64_t longest_stop_us;
};

struct fi_image;

/* Opens /proc/@pid/exe, reads its function symbols (sorted by address)
 * and the load bias from /proc/@pid/maps.  A malformed file is an error,
 * never a crash. */
int fi_image_open(pid_t pid, struct fi_image **out, char *err, size_t errlen);
void fi_image_close(struct fi_image *img);

size_t fi_image_symbol_count(const struct fi_image *img);
/* The @index-th function symbol; 0 or -ERANGE. */
int fi_image_symbol(const struct fi_image *img, size_t index, struct fi_symbol *out);
/* Runtime address minus link-time address. */
uint64_t fi_image_bias(const struct fi_image *img);
/* Reads @len code bytes at link-time address @address from the file. */
int fi_image_read(const struct fi_image *img, uint64_t address, uint8_t *buf, size_t len);

/* splitmix64: the one pseudo-random sequence behind every choice, so a
 * seed replays the same target. */
uint64_t fi_random_next(uint64_t *state);

/*
 * Applies a mutation of @kind to the function at link-time @address,
 * @size bytes, in process @pid, drawing every choice from @rng (@flags:
 * enum fi_flags).
 *
 * FI_REGISTER and FI_STACK_POINTER plant an int3 at the chosen
 * instruction (only while every thread is traced, new ones included),
 * let the process run until a thread hits it or @timeout_ms passes,
 * rewind that thread, put the byte back and corrupt; not reached means
 * *@out reports reached = 0 and the code is unchanged.
 *
 * -ENOENT: the function has no candidate instruction for @kind (e.g. no
 * conditional branch); -EBUSY: the bytes in memory differ from the file
 * (an earlier mutation not restored); -ESRCH: the process went away.
 */
int fi_mutate(const struct fi_image *img, pid_t pid, int kind,
	      unsigned int flags, uint64_t address, uint64_t size,
	      uint64_t *rng, int timeout_ms, struct fi_mutation *out,
	      char *err, size_t errlen);

/* Writes @m's original bytes back if memory still holds its mutated
 * bytes (-ESTALE if it holds neither); a no-op for mutations that left
 * no code changed.  Stack kind: writes the old word back if the slot
 * still holds the corrupted one (*@restored says whether it did). */
int fi_restore(pid_t pid, const struct fi_mutation *m, int *restored,
	       char *err, size_t errlen);

/* Disassembles the first instruction of @code (at runtime @address) into
 * @text; returns its length or -EINVAL when it is not an instruction. */
int fi_disassemble(const uint8_t *code, size_t len, uint64_t address,
		   char *text, size_t textlen);

/* 1 when this instruction is a conditional jump (jcc) whose condition
 * fi_mutate would invert, else 0. */
int fi_is_conditional_jump(const uint8_t *code, size_t len);

/* Whether this process may ptrace a child of its own: forks a child that
 * waits, seizes, interrupts and detaches it, kills and reaps it.
 * 0 or -errno (and why in @err). */
int fi_probe_ptrace(char *err, size_t errlen);

/* The Swift runtime's demangler (libswiftCore, always linked into a Swift
 * program): a malloc'd string, or NULL. */
char *swift_demangle(const char *mangled, size_t length, char *out,
		     size_t *outlen, uint32_t flags);

#endif /* FAULT_INJECT_H */
