/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf --verify: block signatures.
 *
 * Every block a verifying run writes starts with a 32-byte header - a
 * magic word, the block's LBA, the write's generation, the run's seed -
 * and the rest of the block is a pattern derived from those three, so a
 * block that moved, went stale, came from another run or was damaged
 * anywhere is told apart from the right one.
 *
 * Which generation each range should hold is kept per I/O-sized slot of a
 * target (struct perf_vtable); a slot never written in this run holds
 * generation 0 and its reads are not checked.  Each slot belongs to one
 * channel (one thread), so the table needs no lock.
 *
 * --verify-only has no table of what was written: a block that carries the
 * run's seed must hold the signature of its own LBA and of the generation
 * in its header; blocks without a signature, or with another seed, are
 * counted apart (struct perf_vo_counts).
 *
 * Threading: pure functions of their arguments; a perf_mismatch_log
 * belongs to one thread.
 */
#ifndef VPIO_PERF_VERIFY_H
#define VPIO_PERF_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#define PERF_SIG_MAGIC 0x667265706f697076ULL /* "vpioperf" */
#define PERF_SIG_BYTES 32u

/* slot table entry: generation (30 bits) and two flags */
#define PERF_V_BUSY (1u << 31)	   /* an I/O on this slot is in flight */
#define PERF_V_REPORTED (1u << 30) /* a mismatch here was reported already */
#define PERF_V_GEN 0x3fffffffu
#define PERF_V_UNKNOWN PERF_V_GEN  /* a write failed: contents unknown */

/* What a block header says. */
struct perf_sig {
	uint64_t magic, lba, gen, seed;
};

struct perf_mismatch {
	uint64_t lba;		/* the block that was read */
	struct perf_sig expected;
	struct perf_sig got;
	uint32_t offset;	/* first differing byte in the block */
	uint32_t tag;		/* the caller's (vpio-perf: target index) */
};

/* Mismatches found by one thread: the first `cap` are kept (preallocated),
 * all are counted. */
struct perf_mismatch_log {
	struct perf_mismatch *rec;
	uint32_t cap, n;
	uint64_t total;
};

/* Next generation after g (1..PERF_V_UNKNOWN-1, never 0). */
static inline uint32_t perf_verify_next_gen(uint32_t g)
{
	g &= PERF_V_GEN;
	return g + 1u >= PERF_V_UNKNOWN ? 1u : g + 1u;
}

/* Sign nblocks blocks of bs bytes (a multiple of 8, >= 32) starting at lba. */
void perf_verify_fill(void *buf, uint32_t bs, uint32_t nblocks, uint64_t lba, uint32_t gen, uint64_t seed);
/* Clear the magic word of each block of a read buffer, so that a read that
 * reports success without moving data cannot pass on what the buffer held. */
void perf_verify_poison(void *buf, uint32_t bs, uint32_t nblocks);
/* true when one block holds exactly the signature of (lba, gen, seed);
 * else *got is its header and *offset the first differing byte. */
bool perf_verify_block(const void *blk, uint32_t bs, uint64_t lba, uint32_t gen, uint64_t seed,
		       struct perf_sig *got, uint32_t *offset);
/* Check nblocks read blocks; log each bad one (with tag); returns how
 * many were bad. */
uint32_t perf_verify_read(struct perf_mismatch_log *log, const void *buf, uint32_t bs, uint32_t nblocks,
			  uint64_t lba, uint32_t gen, uint64_t seed, uint32_t tag);
/* What --verify-only found in some blocks. */
struct perf_vo_counts {
	uint64_t checked;	/* signed with the run's seed, checked */
	uint64_t unsigned_blocks; /* no vpio-perf signature */
	uint64_t other_seed;	/* signed with another seed */
	uint64_t bad;		/* mismatches (logged) */
};
/* --verify-only: check nblocks read blocks starting at lba against seed.
 * A block signed with seed must name lba in its header, carry a
 * generation a run writes (1..PERF_V_UNKNOWN-1) and hold the pattern of
 * (lba, that generation, seed).  Blocks without a signature or signed with
 * another seed are counted apart, not as checked; with `every` they are
 * mismatches too (a run that expects every block to be signed).  Adds to
 * *c; returns the bad. */
uint32_t perf_verify_only_read(struct perf_mismatch_log *log, const void *buf, uint32_t bs, uint32_t nblocks,
			       uint64_t lba, uint64_t seed, bool every, uint32_t tag, struct perf_vo_counts *c);
/* "LBA 8: expected lba 8 gen 3 seed 42, got lba 0 gen 3 seed 42 (first difference at byte 8)";
 * an expected generation 0 reads "gen any" (--verify-only). */
int perf_mismatch_fmt(char *out, unsigned len, const struct perf_mismatch *m);

#endif
