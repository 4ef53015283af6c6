/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lock-free lookups under churn: reader threads look up pages that stay
 * mapped the whole time and check the exact answer, while a writer maps
 * and unmaps their neighbours in the same and nearby 2 MiB pages (4 KiB
 * entries, whole 2 MiB entries, L3 tables split and collapsed).  A table
 * freed or handed to another 2 MiB page while a reader holds it shows up
 * as a wrong translation or as "unmapped" (see doc/env.md, reclamation).
 *
 * Three readers of the same tables: a user memory map, vpio_vtophys() over
 * registrations, and the inline walk the NVMe fast path uses.
 *
 * VPIO_CHURN_SECONDS sets the length of each test (default 2).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/vpio_test.h"
#include "env/env_vtophys.h"
#include <vpio/env.h>

#define K4 0x1000ULL
#define M2 0x200000ULL
#define PAGES_2M 512u
#define REGIONS 8u	/* 2 MiB pages churned, each with one stable 4 KiB page */
#define READERS 2

struct churn {
	uint64_t base;		/* 2 MiB aligned start of REGIONS + 1 pages */
	uint64_t (*lookup)(struct churn *c, uint64_t va, uint64_t *len);
	uint64_t (*expect)(uint64_t va);
	int (*map)(struct churn *c, uint64_t va, uint64_t len);
	int (*unmap)(struct churn *c, uint64_t va, uint64_t len);
	struct vpio_mem_map *mm;
	atomic_bool stop;
	atomic_ullong lookups;
	atomic_ullong wrong;
	atomic_ullong unmapped;
	uint64_t first_bad_va, first_bad_got;
	/* writer's view: which 4 KiB pages of each region it has mapped */
	uint8_t mapped[REGIONS][PAGES_2M];
	bool whole_mapped;	/* the 2 MiB page after the regions */
	uint64_t collapses, splits, whole_2m;
};

static double seconds(void)
{
	const char *s = getenv("VPIO_CHURN_SECONDS");
	double d = s ? atof(s) : 2.0;

	return d > 0 ? d : 2.0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The stable page of region r: page 7, so a region is never all stable. */
static uint64_t stable_va(const struct churn *c, unsigned r)
{
	return c->base + r * M2 + 7 * K4;
}

static void *reader(void *arg)
{
	struct churn *c = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1, n = 0;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		uint64_t r = xorshift(&seed);
		uint64_t va = stable_va(c, (unsigned)(r % REGIONS)) + ((r >> 8) & (K4 - 1));
		uint64_t len = K4 - (va & (K4 - 1)), got = c->lookup(c, va, (r & 0x10000) ? &len : NULL);

		n++;
		if (got == c->expect(va))
			continue;
		if (got == VPIO_VTOPHYS_ERROR || got == 0)
			atomic_fetch_add(&c->unmapped, 1);
		if (atomic_fetch_add(&c->wrong, 1) == 0) {
			c->first_bad_va = va;
			c->first_bad_got = got;
		}
	}
	atomic_fetch_add(&c->lookups, n);
	return NULL;
}

static void set_pages(struct churn *c, unsigned r, unsigned first, unsigned n, bool on)
{
	uint64_t va = c->base + r * M2 + first * K4;
	int rc = on ? c->map(c, va, n * K4) : c->unmap(c, va, n * K4);

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	memset(&c->mapped[r][first], on, n);
}

/* One writer step on a random region: fill it (collapse into one 2 MiB
 * entry), punch a page out (split), or map/unmap single pages. */
static void writer_step(struct churn *c, uint64_t *seed)
{
	uint64_t x = xorshift(seed);
	unsigned r = (unsigned)(x % REGIONS), p = (unsigned)((x >> 8) % PAGES_2M);
	int rc;

	switch ((x >> 20) % 4) {
	case 0: /* fill every gap: the region becomes one contiguous run */
		for (unsigned i = 0; i < PAGES_2M;) {
			unsigned j = i;

			while (j < PAGES_2M && !c->mapped[r][j])
				j++;
			if (j > i)
				set_pages(c, r, i, j - i, true);
			while (j < PAGES_2M && c->mapped[r][j])
				j++;
			i = j;
		}
		c->collapses++;
		break;
	case 1: /* punch: split a full region again */
	case 2:
		if (p != 7 && c->mapped[r][p]) {
			set_pages(c, r, p, 1, false);
			c->splits++;
		} else if (!c->mapped[r][p]) {
			set_pages(c, r, p, 1, true);
		}
		break;
	default: /* the neighbouring 2 MiB page, whole: an L2 entry only */
		rc = c->whole_mapped ? c->unmap(c, c->base + REGIONS * M2, M2) : c->map(c, c->base + REGIONS * M2, M2);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		c->whole_mapped = !c->whole_mapped;
		c->whole_2m++;
		break;
	}
}

static void run_churn(struct churn *c, const char *what)
{
	pthread_t th[READERS];
	uint64_t seed = 0x9e3779b97f4a7c15ULL, end;
	unsigned r;

	for (r = 0; r < REGIONS; r++)
		set_pages(c, r, 7, 1, true);
	for (r = 0; r < READERS; r++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[r], NULL, reader, c), 0);
	end = now_ns() + (uint64_t)(seconds() * 1e9);
	while (now_ns() < end) {
		for (int i = 0; i < 64; i++)
			writer_step(c, &seed);
	}
	atomic_store(&c->stop, true);
	for (r = 0; r < READERS; r++)
		pthread_join(th[r], NULL);
	printf("\n  %s: %llu lookups, %llu wrong (%llu unmapped); writer: %llu fills, %llu punches, %llu whole-2 MiB flips\n",
	       what, (unsigned long long)atomic_load(&c->lookups), (unsigned long long)atomic_load(&c->wrong),
	       (unsigned long long)atomic_load(&c->unmapped), (unsigned long long)c->collapses,
	       (unsigned long long)c->splits, (unsigned long long)c->whole_2m);
	if (atomic_load(&c->wrong) != 0)
		printf("  first wrong answer: 0x%llx -> 0x%llx, expected 0x%llx\n", (unsigned long long)c->first_bad_va,
		       (unsigned long long)c->first_bad_got, (unsigned long long)c->expect(c->first_bad_va));
	CU_ASSERT(atomic_load(&c->lookups) > 0);
	CU_ASSERT(c->collapses > 0 && c->splits > 0);
	CU_ASSERT_EQUAL(atomic_load(&c->wrong), 0);
}

/* Unmap all that the run left mapped. */
static void unmap_all(struct churn *c)
{
	for (unsigned r = 0; r < REGIONS; r++) {
		for (unsigned i = 0; i < PAGES_2M; i++) {
			if (c->mapped[r][i])
				CU_ASSERT_EQUAL(c->unmap(c, c->base + r * M2 + i * K4, K4), 0);
		}
	}
	if (c->whole_mapped)
		CU_ASSERT_EQUAL(c->unmap(c, c->base + REGIONS * M2, M2), 0);
}

/* ------------------------------------------------ a user memory map */

#define MAP_OFFSET (1ULL << 44)

static uint64_t map_lookup(struct churn *c, uint64_t va, uint64_t *len)
{
	return vpio_mem_map_translate(c->mm, va, len);
}

static uint64_t map_expect(uint64_t va)
{
	return va + MAP_OFFSET;
}

static int map_set(struct churn *c, uint64_t va, uint64_t len)
{
	return vpio_mem_map_set_translation(c->mm, va, len, va + MAP_OFFSET);
}

static int map_clear(struct churn *c, uint64_t va, uint64_t len)
{
	return vpio_mem_map_clear_translation(c->mm, va, len);
}

static void test_map_churn(void)
{
	struct churn *c = calloc(1, sizeof(*c));

	CU_ASSERT_FATAL(c != NULL);
	c->mm = vpio_mem_map_alloc(0, NULL, NULL);
	CU_ASSERT_FATAL(c->mm != NULL);
	c->base = 0x300000000000ULL; /* a map needs no memory behind it */
	c->lookup = map_lookup;
	c->expect = map_expect;
	c->map = map_set;
	c->unmap = map_clear;
	run_churn(c, "memory map");
	vpio_mem_map_free(&c->mm);
	free(c);
}

/* ------------------------------------- vpio_vtophys over registrations */

static uint64_t vtophys_lookup(struct churn *c, uint64_t va, uint64_t *len)
{
	(void)c;
	return vpio_vtophys((void *)(uintptr_t)va, len);
}

static uint64_t vtophys_expect(uint64_t va)
{
	return va; /* no IOMMU in this process: IOVA = VA */
}

/* The NVMe fast path's inline walk (lib/env/env_vtophys.h): the whole
 * buffer inside one mapped page, else the error (the caller then asks
 * vpio_vtophys()). */
static uint64_t inline_lookup(struct churn *c, uint64_t va, uint64_t *len)
{
	(void)c;
	return env_vtophys_try((const void *)(uintptr_t)va, len != NULL ? *len : 1);
}

static int reg(struct churn *c, uint64_t va, uint64_t len)
{
	(void)c;
	return vpio_mem_register((void *)(uintptr_t)va, len);
}

static int unreg(struct churn *c, uint64_t va, uint64_t len)
{
	(void)c;
	return vpio_mem_unregister((void *)(uintptr_t)va, len);
}

static void vtophys_churn(uint64_t (*lookup)(struct churn *, uint64_t, uint64_t *), const char *what)
{
	size_t len = (REGIONS + 1) * M2;
	struct churn *c = calloc(1, sizeof(*c));
	void *mem = aligned_alloc(M2, len);
	struct vpio_mem_stats st;

	CU_ASSERT_FATAL(c != NULL && mem != NULL);
	memset(mem, 0, len);
	c->base = (uint64_t)(uintptr_t)mem;
	c->lookup = lookup;
	c->expect = vtophys_expect;
	c->map = reg;
	c->unmap = unreg;
	run_churn(c, what);
	unmap_all(c);
	vpio_mem_get_stats(&st);
	CU_ASSERT_EQUAL(st.regions, 0);
	free(mem);
	free(c);
}

static void test_vtophys_churn(void)
{
	vtophys_churn(vtophys_lookup, "vpio_vtophys");
}

static void test_inline_churn(void)
{
	vtophys_churn(inline_lookup, "env_vtophys_try (the NVMe fast path's walk)");
}

static int register_tests(void)
{
	VPIO_SUITE("env_churn", NULL, NULL);
	VPIO_TEST(test_map_churn);
	VPIO_TEST(test_vtophys_churn);
	VPIO_TEST(test_inline_churn);
	return 0;
}

int main(void)
{
	return vpio_test_run(register_tests);
}
