/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the IOVA allocator (lib/env/iova_alloc.c). */
#include <errno.h>

#include "common/vpio_test.h"
#include "env/iova_alloc.h"

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
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
