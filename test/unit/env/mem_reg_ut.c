/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the DMA registry (lib/env/mem_reg.c) on plain heap memory,
 * without DPDK or VFIO: a fake DMA target stands in for a VFIO container.
 * The registry is process-wide, so the tests run in order and each one
 * leaves nothing registered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/vpio_test.h"
#include "env/env_internal.h"

#define K4 0x1000ULL
#define M2 0x200000ULL
#define BITS39 ((1ULL << 39) - 1)

static void *page_buf(size_t len)
{
	void *p = aligned_alloc(K4, len);

	CU_ASSERT_FATAL(p != NULL);
	memset(p, 0, len);
	return p;
}

static uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void assert_empty(void)
{
	struct vpio_mem_stats st;

	vpio_mem_get_stats(&st);
	CU_ASSERT_EQUAL(st.regions, 0);
	CU_ASSERT_EQUAL(st.bytes, 0);
	CU_ASSERT_EQUAL(st.dma_mappings, 0);
}

static void test_register_heap(void)
{
	char *b = page_buf(4 * K4);
	uint64_t len = 4 * K4;

	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), VPIO_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(vpio_mem_register(b, 4 * K4), 0);
	/* no IOMMU in the picture: IOVA = VA */
	CU_ASSERT_EQUAL(vpio_vtophys(b + 100, NULL), va(b) + 100);
	CU_ASSERT_EQUAL(vpio_vtophys(b, &len), va(b));
	CU_ASSERT_EQUAL(len, 4 * K4);
	len = 64 * K4;
	vpio_vtophys(b + K4, &len);
	CU_ASSERT_EQUAL(len, 3 * K4);
	CU_ASSERT_EQUAL(vpio_vtophys(b + 4 * K4, NULL), VPIO_VTOPHYS_ERROR);
	CU_ASSERT_PTR_EQUAL(vpio_iova_to_vaddr(va(b) + K4, 3 * K4), b + K4);
	CU_ASSERT_PTR_NULL(vpio_iova_to_vaddr(va(b) + K4, 4 * K4)); /* runs past the end */
	CU_ASSERT_EQUAL(vpio_mem_iova_mode(), VPIO_IOVA_VA);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), VPIO_VTOPHYS_ERROR);
	CU_ASSERT_PTR_NULL(vpio_iova_to_vaddr(va(b), K4));
	assert_empty();
	free(b);
}

static void test_overlapping_refcounts(void)
{
	char *b = page_buf(3 * K4);
	struct vpio_mem_stats st;

	CU_ASSERT_EQUAL(vpio_mem_register(b, 2 * K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_register(b + K4, 2 * K4), 0);
	vpio_mem_get_stats(&st);
	CU_ASSERT_EQUAL(st.bytes, 3 * K4);
	/* dropping the first registration keeps the shared page */
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, 2 * K4), 0);
	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), VPIO_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(vpio_vtophys(b + K4, NULL), va(b) + K4);
	CU_ASSERT_EQUAL(vpio_vtophys(b + 2 * K4, NULL), va(b) + 2 * K4);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b + K4, 2 * K4), 0);
	CU_ASSERT_EQUAL(vpio_vtophys(b + K4, NULL), VPIO_VTOPHYS_ERROR);
	assert_empty();
	/* nested: the same range twice needs two unregistrations */
	CU_ASSERT_EQUAL(vpio_mem_register(b, K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_register(b, K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, K4), 0);
	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), va(b));
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, K4), 0);
	assert_empty();
	free(b);
}

/* Memory the process cannot touch is refused before anything changes. */
static void test_inaccessible_memory(void)
{
	char *m = mmap(NULL, 4 * K4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CU_ASSERT_FATAL(m != MAP_FAILED);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_mem_register(NULL, K4), -EFAULT);
	CU_ASSERT(vpio_test_log_has("page 0"));
	CU_ASSERT_EQUAL(vpio_vtophys((void *)0x200, NULL), VPIO_VTOPHYS_ERROR);
	/* a hole in the middle: nothing of the range gets registered */
	CU_ASSERT_EQUAL(munmap(m + 2 * K4, K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_register(m, 4 * K4), -EFAULT);
	CU_ASSERT(vpio_test_log_has("not all of it is mapped"));
	CU_ASSERT_EQUAL(vpio_vtophys(m, NULL), VPIO_VTOPHYS_ERROR);
	/* beyond 48 bits: one line that names the limit, no internal names */
	memset(&vpio_test_log_buf, 0, sizeof(vpio_test_log_buf));
	CU_ASSERT_EQUAL(vpio_mem_register((void *)(1ULL << 48), K4), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT(vpio_test_log_has("48-bit"));
	CU_ASSERT(!vpio_test_log_has("set_translation"));
	CU_ASSERT_EQUAL(vpio_mem_register((void *)((1ULL << 48) - K4), 2 * K4), -EINVAL);
	vpio_test_log_release();
	assert_empty();
	/* the mapped parts are fine on their own */
	CU_ASSERT_EQUAL(vpio_mem_register(m, 2 * K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_unregister(m, 2 * K4), 0);
	assert_empty();
	munmap(m, 2 * K4);
	munmap(m + 3 * K4, K4);
}

static void test_bad_input(void)
{
	char *b = page_buf(2 * K4);

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_mem_register(b + 1, K4), -EINVAL);
	CU_ASSERT(vpio_test_log_has("4 KiB aligned"));
	CU_ASSERT_EQUAL(vpio_mem_register(b, 100), -EINVAL);
	CU_ASSERT_EQUAL(vpio_mem_register(b, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, K4), -EINVAL);
	CU_ASSERT(vpio_test_log_has("is not registered"));
	/* partly registered: refused, nothing changes */
	CU_ASSERT_EQUAL(vpio_mem_register(b, K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, 2 * K4), -EINVAL);
	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), va(b));
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, K4), 0);
	assert_empty();
	free(b);
}

/* A user map that mirrors registrations, and can be told to refuse. */
struct mirror {
	struct vpio_mem_map *map;
	int regs, unregs;
	int refuse;
};

static int mirror_notify(void *ctx, struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr, size_t len)
{
	struct mirror *m = ctx;

	if (action == VPIO_MEM_MAP_REGISTER) {
		if (m->refuse)
			return -EPERM;
		m->regs++;
		return vpio_mem_map_set_translation(map, va(vaddr), len, 0x1000);
	}
	m->unregs++;
	return vpio_mem_map_clear_translation(map, va(vaddr), len);
}

static const struct vpio_mem_map_ops g_mirror_ops = { .notify = mirror_notify };

/* A notify callback that calls back into the registry. */
static int g_reentry_rc[4];

static int reentrant_notify(void *ctx, struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr,
			    size_t len)
{
	struct vpio_mem_map *other;
	struct vpio_mem_stats st;

	(void)ctx;
	(void)map;
	if (action != VPIO_MEM_MAP_REGISTER)
		return 0;
	g_reentry_rc[0] = vpio_mem_register(vaddr, len);
	g_reentry_rc[1] = vpio_mem_unregister(vaddr, len);
	other = vpio_mem_map_alloc(0, NULL, NULL);
	g_reentry_rc[2] = other == NULL ? -EDEADLK : 0;
	vpio_mem_map_free(&other);
	st.regions = 99;
	vpio_mem_get_stats(&st);
	g_reentry_rc[3] = st.regions == 0 ? -EDEADLK : 0;
	return 0;
}

static void test_notify_reentry(void)
{
	static const struct vpio_mem_map_ops ops = { .notify = reentrant_notify };
	struct vpio_mem_map *map = vpio_mem_map_alloc(0, &ops, NULL);
	char *b = page_buf(K4);

	CU_ASSERT_FATAL(map != NULL);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_mem_register(b, K4), 0); /* returns: no deadlock */
	CU_ASSERT(vpio_test_log_has("notify callback"));
	vpio_test_log_release();
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(g_reentry_rc[i], -EDEADLK);
	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), va(b));
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, K4), 0);
	vpio_mem_map_free(&map);
	assert_empty();
	free(b);
}

static void test_user_map_notify(void)
{
	char *a = page_buf(2 * K4), *b = page_buf(K4);
	struct mirror m = { 0 };

	CU_ASSERT_EQUAL(vpio_mem_register(a, 2 * K4), 0);
	m.map = vpio_mem_map_alloc(0, &g_mirror_ops, &m);
	CU_ASSERT_FATAL(m.map != NULL);
	CU_ASSERT_EQUAL(m.regs, 1); /* replay of what was registered */
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m.map, va(a) + K4, NULL), 0x1000 + K4);
	CU_ASSERT_EQUAL(vpio_mem_register(b, K4), 0);
	CU_ASSERT_EQUAL(m.regs, 2);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, K4), 0);
	CU_ASSERT_EQUAL(m.unregs, 1);
	CU_ASSERT_EQUAL(vpio_mem_map_translate(m.map, va(b), NULL), 0);
	/* a map that refuses makes the registration fail, leaving nothing */
	m.refuse = 1;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_mem_register(b, K4), -EPERM);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_vtophys(b, NULL), VPIO_VTOPHYS_ERROR);
	m.refuse = 0;
	vpio_mem_map_free(&m.map);
	CU_ASSERT_PTR_NULL(m.map);
	CU_ASSERT_EQUAL(m.unregs, 2); /* freeing the map unregisters what it saw */
	CU_ASSERT_EQUAL(vpio_mem_unregister(a, 2 * K4), 0);
	assert_empty();
	free(a);
	free(b);
}

/* ---------------------------------------------- a fake VFIO container */

struct fake_target {
	int maps, unmaps;
	int limit; /* refuse with -ENOSPC once this many mappings exist (0: none) */
	int live;
	uint64_t last_iova, last_len;
};

static int fake_map(void *ctx, uint64_t vaddr, uint64_t iova, uint64_t len)
{
	struct fake_target *t = ctx;

	(void)vaddr;
	if (t->limit && t->live >= t->limit)
		return -ENOSPC;
	CU_ASSERT(iova + len - 1 <= BITS39); /* never outside its valid range */
	t->maps++;
	t->live++;
	t->last_iova = iova;
	t->last_len = len;
	return 0;
}

static int fake_unmap(void *ctx, uint64_t iova, uint64_t len)
{
	struct fake_target *t = ctx;

	(void)iova;
	(void)len;
	t->unmaps++;
	t->live--;
	return 0;
}

static const struct vpio_dma_target_ops g_fake_ops = { .map = fake_map, .unmap = fake_unmap };
static struct fake_target g_fake;

static void test_target_39bit(void)
{
	struct vpio_dma_target_desc d = { .name = "fake container", .n_ranges = 1, .ranges = { { 0, BITS39 } } };
	char *a = page_buf(4 * K4), *b = page_buf(2 * K4);
	struct vpio_mem_stats st;
	uint64_t ia, ib, len = 4 * K4;

	/* heap VAs lie above 2^39: once the target arrives, IOVA != VA */
	CU_ASSERT_FATAL(va(a) > BITS39);
	CU_ASSERT_EQUAL(vpio_mem_register(a, 4 * K4), 0);
	CU_ASSERT_EQUAL(vpio_vtophys(a, NULL), va(a));
	CU_ASSERT_EQUAL(vpio_mem_dma_target_add(&g_fake_ops, &g_fake, &d), 0);
	CU_ASSERT_EQUAL(g_fake.maps, 1); /* the existing registration, mapped once */
	ia = vpio_vtophys(a, &len);
	CU_ASSERT(ia != va(a));
	CU_ASSERT(ia <= BITS39);
	CU_ASSERT_EQUAL(len, 4 * K4);
	CU_ASSERT_EQUAL(g_fake.last_iova, ia);
	CU_ASSERT_EQUAL(vpio_mem_iova_mode(), VPIO_IOVA_ALLOC);
	CU_ASSERT_PTR_EQUAL(vpio_iova_to_vaddr(ia + K4, K4), a + K4);
	/* new registrations are mapped at once, at allocated IOVAs */
	CU_ASSERT_EQUAL(vpio_mem_register(b, 2 * K4), 0);
	CU_ASSERT_EQUAL(g_fake.maps, 2);
	ib = vpio_vtophys(b, NULL);
	CU_ASSERT(ib <= BITS39 && ib != ia);
	CU_ASSERT_PTR_EQUAL(vpio_iova_to_vaddr(ib, 2 * K4), b);
	vpio_mem_get_stats(&st);
	CU_ASSERT_EQUAL(st.iova_allocated, 6 * K4);
	CU_ASSERT_EQUAL(st.dma_mappings, 2);
	/* partial unregistration: the rest is re-mapped at the same IOVAs */
	CU_ASSERT_EQUAL(vpio_mem_unregister(a + K4, K4), 0);
	CU_ASSERT_EQUAL(vpio_vtophys(a, NULL), ia);
	CU_ASSERT_EQUAL(vpio_vtophys(a + 2 * K4, NULL), ia + 2 * K4);
	CU_ASSERT_EQUAL(vpio_vtophys(a + K4, NULL), VPIO_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(g_fake.live, 3);
	CU_ASSERT_EQUAL(vpio_mem_unregister(a, K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_unregister(a + 2 * K4, 2 * K4), 0);
	CU_ASSERT_EQUAL(vpio_mem_unregister(b, 2 * K4), 0);
	CU_ASSERT_EQUAL(g_fake.live, 0);
	CU_ASSERT_EQUAL(g_fake.maps, g_fake.unmaps);
	assert_empty();
	free(a);
	free(b);
}

static void test_target_mapping_limit(void)
{
	enum { N = 8 };
	char *bufs[N + 1];
	int ok = 0;

	g_fake.limit = N;
	vpio_test_log_capture();
	for (int i = 0; i <= N; i++) {
		/* separate allocations: one mapping each */
		bufs[i] = page_buf(2 * K4);
		if (vpio_mem_register(bufs[i], K4) == 0)
			ok++;
		else
			CU_ASSERT_EQUAL(i, N);
	}
	CU_ASSERT_EQUAL(ok, N);
	CU_ASSERT(vpio_test_log_has("dma_entry_limit"));
	vpio_test_log_release();
	/* the refused one left nothing behind */
	CU_ASSERT_EQUAL(vpio_vtophys(bufs[N], NULL), VPIO_VTOPHYS_ERROR);
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(vpio_mem_unregister(bufs[i], K4), 0);
	for (int i = 0; i <= N; i++)
		free(bufs[i]);
	g_fake.limit = 0;
	assert_empty();
}

static void test_target_remove(void)
{
	char *a = page_buf(K4);

	CU_ASSERT_EQUAL(vpio_mem_register(a, K4), 0);
	CU_ASSERT_EQUAL(g_fake.live, 1);
	vpio_mem_dma_target_remove(&g_fake);
	CU_ASSERT_EQUAL(g_fake.live, 0);
	/* still registered and translatable (for emulated devices) */
	CU_ASSERT(vpio_vtophys(a, NULL) != VPIO_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(vpio_mem_unregister(a, K4), 0);
	CU_ASSERT_EQUAL(g_fake.live, 0);
	free(a);
}

static void test_pagemap(void)
{
	char *a = page_buf(K4);
	uint64_t pa;

	a[0] = 1;
	pa = vpio_pagemap_vtophys(a + 123);
	if (geteuid() == 0) {
		/* root sees PFNs: the page offset is kept */
		CU_ASSERT(pa != VPIO_VTOPHYS_ERROR);
		CU_ASSERT_EQUAL(pa & 0xfff, 123);
	} else {
		CU_ASSERT_EQUAL(pa, VPIO_VTOPHYS_ERROR);
	}
	free(a);
}

static int reg(void)
{
	VPIO_SUITE("mem_reg", NULL, NULL);
	VPIO_TEST(test_register_heap);
	VPIO_TEST(test_overlapping_refcounts);
	VPIO_TEST(test_bad_input);
	VPIO_TEST(test_inaccessible_memory);
	VPIO_TEST(test_notify_reentry);
	VPIO_TEST(test_user_map_notify);
	VPIO_TEST(test_target_39bit);
	VPIO_TEST(test_target_mapping_limit);
	VPIO_TEST(test_target_remove);
	VPIO_TEST(test_pagemap);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
