/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the IOVA allocator (lib/env/iova_alloc.c). */
#include <errno.h>
#include <stdbool.h>

#include "common/vpio_test.h"
#include "env/iova_alloc.h"
#include "util/util.h"

#define K4 0x1000ULL
#define M2 0x200000ULL
#define BITS39 ((1ULL << 39) - 1)

static void test_init_ranges(void)
{
	const uint64_t r[2][2] = { { 0, 0xfedfffffULL }, { 0xfef00000ULL, BITS39 } };
	struct vpio_iova_alloc a;

	CU_ASSERT_EQUAL(vpio_iova_alloc_init(&a, r, 2), 0);
	/* the first 2 MiB are kept back; the MSI hole is not free */
	CU_ASSERT_EQUAL(vpio_iova_alloc_free_bytes(&a), (0xfee00000ULL - M2) + (BITS39 + 1 - 0xfef00000ULL));
	CU_ASSERT_EQUAL(vpio_iova_alloc_fragments(&a), 2);
	vpio_iova_alloc_fini(&a);
}

static void test_alloc_align(void)
{
	const uint64_t r[1][2] = { { 0, BITS39 } };
	struct vpio_iova_alloc a;
	uint64_t x, y;

	vpio_iova_alloc_init(&a, r, 1);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, K4, K4, &x), 0);
	CU_ASSERT_EQUAL(x, VPIO_IOVA_ALLOC_MIN);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, M2, M2, &y), 0);
	CU_ASSERT_EQUAL(y % M2, 0);
	CU_ASSERT(y >= x + K4);
	/* the gap left by alignment is used by a later small allocation */
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, K4, K4, &x), 0);
	CU_ASSERT_EQUAL(x, VPIO_IOVA_ALLOC_MIN + K4);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 0, K4, &x), -EINVAL);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, K4, 3 * K4, &x), -EINVAL);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 100, K4, &x), -EINVAL);
	vpio_iova_alloc_fini(&a);
}

static void test_exhaustion(void)
{
	const uint64_t r[1][2] = { { M2, 2 * M2 - 1 } }; /* exactly 2 MiB */
	struct vpio_iova_alloc a;
	uint64_t x;

	vpio_iova_alloc_init(&a, r, 1);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, M2, M2, &x), 0);
	CU_ASSERT_EQUAL(x, M2);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, K4, K4, &x), -ENOSPC);
	CU_ASSERT_EQUAL(vpio_iova_alloc_free_bytes(&a), 0);
	CU_ASSERT_EQUAL(vpio_iova_free(&a, M2, M2), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, K4, K4, &x), 0);
	vpio_iova_alloc_fini(&a);
}

static void test_fragmentation_and_reuse(void)
{
	const uint64_t r[1][2] = { { M2, M2 + 16 * K4 - 1 } }; /* 16 pages */
	struct vpio_iova_alloc a;
	uint64_t b[4], x;

	vpio_iova_alloc_init(&a, r, 1);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 4 * K4, K4, &b[i]), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc_free_bytes(&a), 0);
	CU_ASSERT_EQUAL(vpio_iova_free(&a, b[1], 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_iova_free(&a, b[3], 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc_fragments(&a), 2);
	/* 8 pages free, but no hole of 8 */
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 8 * K4, K4, &x), -ENOSPC);
	CU_ASSERT_EQUAL(vpio_iova_alloc_largest_free(&a), 4 * K4);
	/* freeing the middle block coalesces all three */
	CU_ASSERT_EQUAL(vpio_iova_free(&a, b[2], 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc_fragments(&a), 1);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 12 * K4, K4, &x), 0);
	CU_ASSERT_EQUAL(x, b[1]);
	/* reuse: free and allocate again gives the same range */
	CU_ASSERT_EQUAL(vpio_iova_free(&a, b[0], 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 4 * K4, K4, &x), 0);
	CU_ASSERT_EQUAL(x, b[0]);
	vpio_iova_alloc_fini(&a);
}

static void test_fixed(void)
{
	const uint64_t r[1][2] = { { 0, BITS39 } };
	struct vpio_iova_alloc a;
	uint64_t x;

	vpio_iova_alloc_init(&a, r, 1);
	CU_ASSERT_EQUAL(vpio_iova_alloc_fixed(&a, 0x100000000ULL, M2), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc_fixed(&a, 0x100000000ULL + K4, K4), -EBUSY);
	CU_ASSERT_EQUAL(vpio_iova_alloc_fixed(&a, 0x100000000ULL - K4, 2 * K4), -EBUSY);
	CU_ASSERT_EQUAL(vpio_iova_alloc_fixed(&a, 1ULL << 40, K4), -EBUSY); /* outside the ranges */
	CU_ASSERT_EQUAL(vpio_iova_alloc_fixed(&a, 0, K4), -EBUSY);	   /* kept back */
	CU_ASSERT_EQUAL(vpio_iova_alloc_fragments(&a), 2);
	/* allocations never land in the fixed range */
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 64 * M2, M2, &x), 0);
		CU_ASSERT(x + 64 * M2 <= 0x100000000ULL || x >= 0x100000000ULL + M2);
	}
	vpio_iova_alloc_fini(&a);
}

static void test_hole_is_skipped(void)
{
	const uint64_t r[2][2] = { { 0, 0xfedfffffULL }, { 0xfef00000ULL, BITS39 } };
	struct vpio_iova_alloc a;
	uint64_t x;

	vpio_iova_alloc_init(&a, r, 2);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 0xfee00000ULL - M2, K4, &x), 0);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 0x200000, K4, &x), 0);
	CU_ASSERT_EQUAL(x, 0xfef00000ULL);
	vpio_iova_alloc_fini(&a);
}

static void test_bad_free(void)
{
	const uint64_t r[1][2] = { { 0, BITS39 } };
	struct vpio_iova_alloc a;
	uint64_t x;

	vpio_iova_alloc_init(&a, r, 1);
	CU_ASSERT_EQUAL(vpio_iova_alloc(&a, 4 * K4, K4, &x), 0);
	CU_ASSERT_EQUAL(vpio_iova_free(&a, x, 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_iova_free(&a, x, 4 * K4), -EINVAL);	 /* double free */
	CU_ASSERT_EQUAL(vpio_iova_free(&a, x + K4, K4), -EINVAL); /* inside free space */
	CU_ASSERT_EQUAL(vpio_iova_free(&a, x, 0), -EINVAL);
	vpio_iova_alloc_fini(&a);
}

/* ------------------------------------ random operations against a model */

/* The model: one flag per 4 KiB page of a small IOVA space with a hole;
 * first fit is the lowest aligned page where enough free pages follow. */
#define RP 1024
#define RBASE M2
struct iova_model {
	bool free[RP];
};

static uint64_t page_iova(int p)
{
	return RBASE + (uint64_t)p * K4;
}

static int model_run_free(const struct iova_model *m, int p, int n)
{
	if (p < 0 || p + n > RP)
		return 0;
	for (int i = p; i < p + n; i++) {
		if (!m->free[i])
			return 0;
	}
	return 1;
}

static int model_first_fit(const struct iova_model *m, int n, uint64_t align)
{
	for (int p = 0; p < RP; p++) {
		if (page_iova(p) % align == 0 && model_run_free(m, p, n))
			return p;
	}
	return -1;
}

/* Free bytes, largest free run and number of runs against the allocator. */
static int model_diff(const struct iova_model *m, const struct vpio_iova_alloc *a)
{
	uint64_t bytes = 0, largest = 0, run = 0;
	size_t runs = 0;

	for (int p = 0; p < RP; p++) {
		run = m->free[p] ? run + K4 : 0;
		bytes += m->free[p] ? K4 : 0;
		runs += m->free[p] && (p == 0 || !m->free[p - 1]);
		largest = run > largest ? run : largest;
	}
	return (vpio_iova_alloc_free_bytes(a) != bytes) + (vpio_iova_alloc_largest_free(a) != largest) +
	       (vpio_iova_alloc_fragments(a) != runs) + (vpio_addr_map_check(&a->free) != 0);
}

static void test_random_model(void)
{
	/* two valid ranges, a 64 KiB hole between them */
	const uint64_t r[2][2] = { { RBASE, page_iova(500) - 1 }, { page_iova(516), page_iova(RP) - 1 } };
	static const uint64_t aligns[] = { K4, 2 * K4, 16 * K4, 64 * K4, M2 };
	struct vpio_iova_alloc a;
	struct iova_model m;
	uint64_t rng = 0x2545f4914f6cdd1dULL;
	int bad = 0, first_bad = -1, allocs = 0, fulls = 0, frees = 0;

	for (int p = 0; p < RP; p++)
		m.free[p] = p < 500 || p >= 516;
	CU_ASSERT_FATAL(vpio_iova_alloc_init(&a, r, 2) == 0);
	for (int op = 0; op < 20000; op++) {
		int kind, p, n, want_p;
		uint64_t x, align;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		kind = (int)((rng >> 60) % 4);
		n = 1 + (int)((rng >> 40) % ((rng >> 58) == 0 ? 300 : 8));
		p = (int)((rng >> 20) % RP);
		align = aligns[(rng >> 10) % VPIO_ARRAY_SIZE(aligns)];
		if (kind == 0) { /* first fit */
			want_p = model_first_fit(&m, n, align);
			x = 0;
			if (vpio_iova_alloc(&a, (uint64_t)n * K4, align, &x) == 0) {
				bad += want_p < 0 || x != page_iova(want_p);
				allocs++;
			} else {
				bad += want_p >= 0;
				fulls++;
			}
			if (want_p >= 0)
				memset(&m.free[want_p], 0, (size_t)n);
		} else if (kind == 1) { /* exactly this range */
			int want = model_run_free(&m, p, n) ? 0 : -EBUSY;

			bad += vpio_iova_alloc_fixed(&a, page_iova(p), (uint64_t)n * K4) != want;
			if (want == 0)
				memset(&m.free[p], 0, (size_t)n);
		} else { /* give back: refused when any of it is free */
			int taken = p + n <= RP;

			for (int i = p; taken && i < p + n; i++)
				taken = !m.free[i] && !(i >= 500 && i < 516); /* the hole was never free */
			if (!taken)
				continue;
			bad += vpio_iova_free(&a, page_iova(p), (uint64_t)n * K4) != 0;
			memset(&m.free[p], 1, (size_t)n);
			frees++;
		}
		bad += model_diff(&m, &a);
		if (bad != 0 && first_bad < 0)
			first_bad = op;
		if (bad != 0)
			break;
	}
	if (first_bad >= 0)
		fprintf(stderr, "iova random: first difference at operation %d\n", first_bad);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(allocs > 1000 && fulls > 100 && frees > 1000);
	/* double frees and frees of free space are refused */
	for (int p = 0; p < RP; p++) {
		if (m.free[p]) {
			CU_ASSERT_EQUAL(vpio_iova_free(&a, page_iova(p), K4), -EINVAL);
			break;
		}
	}
	vpio_iova_alloc_fini(&a);
}

static int reg(void)
{
	VPIO_SUITE("iova_alloc", NULL, NULL);
	VPIO_TEST(test_init_ranges);
	VPIO_TEST(test_alloc_align);
	VPIO_TEST(test_exhaustion);
	VPIO_TEST(test_fragmentation_and_reuse);
	VPIO_TEST(test_fixed);
	VPIO_TEST(test_hole_is_skipped);
	VPIO_TEST(test_bad_free);
	VPIO_TEST(test_random_model);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
