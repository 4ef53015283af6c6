/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-perf --verify: signing and checking blocks (see verify.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"
#include "verify.h"

#define FILL_STEP 0x9e3779b97f4a7c15ULL

static uint64_t fill_base(uint64_t lba, uint32_t gen, uint64_t seed)
{
	return perf_mix64(lba ^ perf_mix64(seed ^ ((uint64_t)gen << 32)));
}

void perf_verify_fill(void *buf, uint32_t bs, uint32_t nblocks, uint64_t lba, uint32_t gen, uint64_t seed)
{
	for (uint32_t b = 0; b < nblocks; b++) {
		uint64_t *w = (uint64_t *)((uint8_t *)buf + (size_t)b * bs);
		uint64_t v = fill_base(lba + b, gen, seed);

		w[0] = PERF_SIG_MAGIC;
		w[1] = lba + b;
		w[2] = gen;
		w[3] = seed;
		for (uint32_t k = 4; k < bs / 8u; k++)
			w[k] = v + k * FILL_STEP;
	}
}

void perf_verify_poison(void *buf, uint32_t bs, uint32_t nblocks)
{
	for (uint32_t b = 0; b < nblocks; b++)
		*(uint64_t *)((uint8_t *)buf + (size_t)b * bs) = 0;
}

bool perf_verify_block(const void *blk, uint32_t bs, uint64_t lba, uint32_t gen, uint64_t seed,
		       struct perf_sig *got, uint32_t *offset)
{
	const uint64_t *w = blk;
	uint64_t v = fill_base(lba, gen, seed);
	const uint64_t want[4] = { PERF_SIG_MAGIC, lba, gen, seed };

	got->magic = w[0];
	got->lba = w[1];
	got->gen = w[2];
	got->seed = w[3];
	for (uint32_t k = 0; k < 4; k++) {
		if (w[k] != want[k]) {
			*offset = k * 8u;
			return false;
		}
	}
	for (uint32_t k = 4; k < bs / 8u; k++) {
		if (w[k] != v + k * FILL_STEP) {
			*offset = k * 8u;
			return false;
		}
	}
	return true;
}

/* Count a bad block; keep it while there is room. */
static void log_add(struct perf_mismatch_log *log, struct perf_mismatch *m, uint64_t lba, uint32_t tag)
{
	log->total++;
	if (log->n < log->cap) {
		m->lba = lba;
		m->tag = tag;
		log->rec[log->n++] = *m;
	}
}

uint32_t perf_verify_read(struct perf_mismatch_log *log, const void *buf, uint32_t bs, uint32_t nblocks,
			  uint64_t lba, uint32_t gen, uint64_t seed, uint32_t tag)
{
	uint32_t bad = 0;

	for (uint32_t b = 0; b < nblocks; b++) {
		struct perf_mismatch m;

		if (perf_verify_block((const uint8_t *)buf + (size_t)b * bs, bs, lba + b, gen, seed, &m.got, &m.offset))
			continue;
		bad++;
		m.expected = (struct perf_sig){ PERF_SIG_MAGIC, lba + b, gen, seed };
		log_add(log, &m, lba + b, tag);
	}
	return bad;
}

/* One block of --verify-only: 0 good, else 1 with *m filled (but lba, tag). */
static uint32_t only_block(const uint64_t *w, uint32_t bs, uint64_t lba, uint64_t seed, bool every,
			   struct perf_vo_counts *c, struct perf_mismatch *m)
{
	uint64_t gen = w[2];

	m->expected = (struct perf_sig){ PERF_SIG_MAGIC, lba, 0, seed };
	m->got = (struct perf_sig){ w[0], w[1], w[2], w[3] };
	if (w[0] != PERF_SIG_MAGIC || w[3] != seed) {
		if (w[0] != PERF_SIG_MAGIC)
			c->unsigned_blocks++;
		else
			c->other_seed++;
		if (!every)
			return 0;
		m->offset = w[0] != PERF_SIG_MAGIC ? 0u : w[1] != lba ? 8u : 24u;
		return 1;
	}
	c->checked++;
	if (gen == 0 || gen >= PERF_V_UNKNOWN) {
		m->offset = w[1] != lba ? 8u : 16u;
		return 1;
	}
	m->expected.gen = gen;
	return perf_verify_block(w, bs, lba, (uint32_t)gen, seed, &m->got, &m->offset) ? 0u : 1u;
}

uint32_t perf_verify_only_read(struct perf_mismatch_log *log, const void *buf, uint32_t bs, uint32_t nblocks,
			       uint64_t lba, uint64_t seed, bool every, uint32_t tag, struct perf_vo_counts *c)
{
	uint32_t bad = 0;

	for (uint32_t b = 0; b < nblocks; b++) {
		struct perf_mismatch m;

		if (only_block((const uint64_t *)((const uint8_t *)buf + (size_t)b * bs), bs, lba + b, seed, every, c,
			       &m) == 0)
			continue;
		bad++;
		log_add(log, &m, lba + b, tag);
	}
	c->bad += bad;
	return bad;
}

int perf_mismatch_fmt(char *out, unsigned len, const struct perf_mismatch *m)
{
	char gen[24] = "any";
	int n;

	if (m->expected.gen != 0)
		snprintf(gen, sizeof(gen), "%" PRIu64, m->expected.gen);
	n = snprintf(out, len, "LBA %" PRIu64 ": expected lba %" PRIu64 " gen %s seed %" PRIu64 ", ", m->lba,
		     m->expected.lba, gen, m->expected.seed);
	if (n < 0 || (unsigned)n >= len)
		return n;
	if (m->got.magic != PERF_SIG_MAGIC)
		return n + snprintf(out + n, len - (unsigned)n,
				    "got no vpio-perf signature (first word 0x%016" PRIx64 ")", m->got.magic);
	return n + snprintf(out + n, len - (unsigned)n,
			    "got lba %" PRIu64 " gen %" PRIu64 " seed %" PRIu64 " (first difference at byte %u)",
			    m->got.lba, m->got.gen, m->got.seed, m->offset);
}
