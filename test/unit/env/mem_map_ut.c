/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the memory map tables (lib/env/mem_map.c). */
#include <pthread.h>
#include <stdatomic.h>

#include "common/vpio_test.h"
#include "env/env_internal.h"

#define K4 0x1000ULL
#define M2 0x200000ULL
#define G1 0x40000000ULL
#define BASE 0x7f0000000000ULL /* a user-space-like VA; the map only stores numbers */
#define ERR 0xdeadULL

static struct vpio_mem_map *new_map(void)
{
	struct vpio_mem_map *m = vpio_mem_map_create(ERR, NULL, NULL);

	CU_ASSERT_FATAL(m != NULL);
	return m;
}

static void test_unmapped(void)
{
	struct vpio_mem_map *m = new_map();
	uint64_t len = 4096;

	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE, NULL), ERR);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE, &len), ERR);
	CU_ASSERT_EQUAL(len, 0);
	/* beyond the 48-bit space */
	len = 1;
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, 1ULL << 50, &len), ERR);
	CU_ASSERT_EQUAL(len, 0);
	vpio_mem_map_destroy(m);
}

static void test_2m_entries(void)
{
	struct vpio_mem_map *m = new_map();
	uint64_t len;

	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE, 3 * M2, 0x100000000ULL), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_l3_tables(m), 0); /* 2 MiB aligned: no 4 KiB tables */
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE, NULL), 0x100000000ULL);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 123, NULL), 0x100000000ULL + 123);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + M2 + 5, NULL), 0x100000000ULL + M2 + 5);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 3 * M2 - 1, NULL), 0x100000000ULL + 3 * M2 - 1);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 3 * M2, NULL), ERR);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE - 1, NULL), ERR);
	/* contiguous length: whole run, cut at the end, and at what was asked */
	len = 10 * M2;
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 100, &len), 0x100000000ULL + 100);
	CU_ASSERT_EQUAL(len, 3 * M2 - 100);
	len = 4096;
	vpio_mem_map_translate(m, BASE + M2 - 10, &len);
	CU_ASSERT_EQUAL(len, 4096);
	CU_ASSERT(vpio_mem_map_footprint(m) >= 4096);
	vpio_mem_map_destroy(m);
}

static void test_4k_entries(void)
{
	struct vpio_mem_map *m = new_map();
	uint64_t va = BASE + 5 * K4, len;

	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, va, 3 * K4, 0x9000), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_l3_tables(m), 1);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, va, NULL), 0x9000);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, va + K4 + 7, NULL), 0x9000 + K4 + 7);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, va - 1, NULL), ERR);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, va + 3 * K4, NULL), ERR);
	len = 1 << 20;
	vpio_mem_map_translate(m, va + 1, &len);
	CU_ASSERT_EQUAL(len, 3 * K4 - 1);
	/* clearing the 4 KiB pages frees the table again */
	CU_ASSERT_EQUAL(vpio_mem_map_clear_translation(m, va, 3 * K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_l3_tables(m), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, va, NULL), ERR);
	vpio_mem_map_destroy(m);
}

static void test_split_and_collapse(void)
{
	struct vpio_mem_map *m = new_map();
	uint64_t len;

	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE, M2, 0x40000000), 0);
	/* punch a 4 KiB hole in the middle of a 2 MiB entry */
	CU_ASSERT_EQUAL(vpio_mem_map_clear_translation(m, BASE + 16 * K4, K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_l3_tables(m), 1);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 15 * K4, NULL), 0x40000000 + 15 * K4);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 16 * K4, NULL), ERR);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + 17 * K4 + 3, NULL), 0x40000000 + 17 * K4 + 3);
	len = M2;
	vpio_mem_map_translate(m, BASE, &len);
	CU_ASSERT_EQUAL(len, 16 * K4);
	/* filling it back makes one 2 MiB entry again */
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE + 16 * K4, K4, 0x40000000 + 16 * K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_l3_tables(m), 0);
	len = M2;
	vpio_mem_map_translate(m, BASE, &len);
	CU_ASSERT_EQUAL(len, M2);
	/* 512 separate 4 KiB registrations that happen to be contiguous collapse too */
	for (uint64_t i = 0; i < 512; i++)
		CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE + M2 + i * K4, K4, 0x80000000 + i * K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_l3_tables(m), 0);
	len = 2 * M2;
	vpio_mem_map_translate(m, BASE + M2, &len);
	CU_ASSERT_EQUAL(len, M2);
	vpio_mem_map_destroy(m);
}

static void test_discontiguous(void)
{
	struct vpio_mem_map *m = new_map();
	uint64_t len;

	/* VA-adjacent, translation not: contiguity stops at the seam */
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE, M2, 0x200000000ULL), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE + M2, M2, 0x100000000ULL), 0);
	len = 2 * M2;
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE, &len), 0x200000000ULL);
	CU_ASSERT_EQUAL(len, M2);
	/* a 4 KiB run continuing a 2 MiB entry is contiguous */
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE + 2 * M2, K4, 0x100000000ULL + M2), 0);
	len = 2 * M2;
	vpio_mem_map_translate(m, BASE + M2, &len);
	CU_ASSERT_EQUAL(len, M2 + K4);
	vpio_mem_map_destroy(m);
}

static void test_gib_boundary(void)
{
	struct vpio_mem_map *m = new_map();
	uint64_t va = BASE + G1 - M2, len = 4 * M2;

	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, va, 2 * M2, 0x1000000), 0);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, va, &len), 0x1000000);
	CU_ASSERT_EQUAL(len, 2 * M2);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m, BASE + G1 + 1, NULL), 0x1000000 + M2 + 1);
	vpio_mem_map_destroy(m);
}

static void test_bad_input(void)
{
	struct vpio_mem_map *m = new_map();

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE + 1, K4, 0), -EINVAL);
	CU_ASSERT(vpio_test_log_has("4 KiB aligned"));
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE, 100, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE, K4, 0x10), -EINVAL);
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, BASE, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, 1ULL << 48, K4, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_mem_map_set_translation(m, (1ULL << 48) - K4, 2 * K4, 0), -EINVAL);
	CU_ASSERT(vpio_test_log_has("48-bit"));
	CU_ASSERT_EQUAL(vpio_mem_map_clear_translation(m, BASE + 8, K4), -EINVAL);
	vpio_test_log_release();
	/* clearing what was never set is fine */
	CU_ASSERT_EQUAL(vpio_mem_map_clear_translation(m, BASE, M2), 0);
	vpio_mem_map_destroy(m);
}

/* Lock-free readers see either the default or the right translation while
 * a writer keeps splitting and collapsing the page they read. */
static struct vpio_mem_map *g_race_map;
static atomic_int g_stop, g_bad;

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&g_stop)) {
		for (uint64_t off = 0; off < M2; off += 64 * K4) {
			uint64_t t = vpio_mem_map_translate(g_race_map, BASE + off + 8, NULL);

			if (t != ERR && t != 0x300000000ULL + off + 8)
				atomic_fetch_add(&g_bad, 1);
		}
	}
	return NULL;
}

static void test_concurrent_readers(void)
{
	pthread_t th[2];

	g_race_map = new_map();
	atomic_store(&g_stop, 0);
	atomic_store(&g_bad, 0);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reader, NULL) == 0);
	for (int round = 0; round < 2000; round++) {
		vpio_mem_map_set_translation(g_race_map, BASE, M2, 0x300000000ULL);
		vpio_mem_map_clear_translation(g_race_map, BASE + (uint64_t)(round % 512) * K4, K4);
		vpio_mem_map_clear_translation(g_race_map, BASE, M2);
		vpio_mem_map_set_translation(g_race_map, BASE + 64 * K4, 8 * K4, 0x300000000ULL + 64 * K4);
	}
	atomic_store(&g_stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(atomic_load(&g_bad), 0);
	vpio_mem_map_destroy(g_race_map);
}

static int reg(void)
{
	VPIO_SUITE("mem_map", NULL, NULL);
	VPIO_TEST(test_unmapped);
	VPIO_TEST(test_2m_entries);
	VPIO_TEST(test_4k_entries);
	VPIO_TEST(test_split_and_collapse);
	VPIO_TEST(test_discontiguous);
	VPIO_TEST(test_gib_boundary);
	VPIO_TEST(test_bad_input);
	VPIO_TEST(test_concurrent_readers);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
