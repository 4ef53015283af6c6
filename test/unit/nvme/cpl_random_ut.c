/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The completion-path fuzz harness (test/fuzz/nvme_cpl_harness.c) run on
 * fixed pseudo-random inputs, so that every build (also without clang,
 * and under ASan/UBSan) checks the invariants: no double or lost
 * completion, indexes in range, no access outside the qpair's arrays.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "fuzz/nvme_cpl_harness.h"

#define RUNS 20000u

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

static void test_random_inputs(void)
{
	uint8_t buf[1024];
	uint32_t i, j, len;

	for (i = 0; i < RUNS; i++) {
		len = (uint32_t)(rnd() % sizeof(buf));
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rnd();
		/* mostly well-formed entries, sometimes hostile ones */
		for (j = 8; j + 7 < len; j += 8)
			buf[j] &= (uint8_t)((i & 1) ? 0xff : 0xe0);
		CU_ASSERT_EQUAL(nvme_cpl_fuzz_one(buf, len), 0);
	}
}

/* A run of perfect completions: every request completes normally. */
static void test_well_formed(void)
{
	uint8_t buf[2 + 10 * (1 + 8 * 8 + 2)];
	uint8_t *p = buf;
	int r, e;

	*p++ = 14; /* 16 entries */
	*p++ = 3;  /* split requests, delayed doorbell */
	for (r = 0; r < 10; r++) {
		*p++ = 8;
		for (e = 0; e < 8; e++) {
			memset(p, 0, 8);
			p[0] = (uint8_t)(r * 8 + e); /* slot */
			p += 8;
		}
		*p++ = 0;    /* drain all */
		*p++ = 0x88; /* ring, resubmit 8 */
	}
	CU_ASSERT_EQUAL(nvme_cpl_fuzz_one(buf, (size_t)(p - buf)), 0);
}

static int reg(void)
{
	VPIO_SUITE("nvme_cpl_random", NULL, NULL);
	VPIO_TEST(test_well_formed);
	VPIO_TEST(test_random_inputs);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
