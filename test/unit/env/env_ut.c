/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/env with DPDK underneath: EAL init (hugepages or the --no-huge
 * fallback), DMA memory that is registered and translatable, mempools,
 * worker cores, ticks.  EAL can start once per process, so the suite's
 * init starts it and every test runs inside.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "common/vpio_test.h"
#include "env/env_internal.h"

static int suite_init(void)
{
	struct vpio_env_opts o;

	/* before init: a clear refusal, not a crash */
	vpio_test_log_capture();
	if (vpio_dma_malloc(64, 0) != NULL || !vpio_test_log_has("before vpio_env_init"))
		return -1;
	vpio_env_opts_init(&o);
	o.core_mask = "0xz";
	if (vpio_env_init(&o) != -EINVAL || !vpio_test_log_has("core mask"))
		return -1;
	o.core_mask = "0x1000000000";
	if (vpio_env_init(&o) != -EINVAL || !vpio_test_log_has("this machine has"))
		return -1;
	vpio_test_log_release();
	vpio_env_opts_init(&o);
	o.core_mask = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "0x3" : "0x1";
	o.mem_size_mb = 64;
	o.quiet = true;
	return vpio_env_init(&o);
}

static int suite_fini(void)
{
	vpio_env_fini();
	return 0;
}

static void test_init_twice(void)
{
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_env_init(NULL), -EALREADY);
	vpio_test_log_release();
	CU_ASSERT(vpio_env_is_init());
}

static void test_dma_memory_is_translatable(void)
{
	char *p = vpio_dma_zmalloc(3 * 4096, 4096);
	uint64_t len = 3 * 4096, iova;

	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(((uintptr_t)p) & 4095, 0);
	for (int i = 0; i < 3 * 4096; i++)
		CU_ASSERT_EQUAL_FATAL(p[i], 0);
	iova = vpio_vtophys(p, &len);
	CU_ASSERT(iova != VPIO_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(len, 3 * 4096);
	CU_ASSERT_PTR_EQUAL(vpio_iova_to_vaddr(iova, 3 * 4096), p);
	p = vpio_dma_realloc(p, 1 << 20, 64);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(vpio_vtophys(p + (1 << 20) - 1, NULL) != VPIO_VTOPHYS_ERROR);
	vpio_dma_free(p);
	vpio_test_log_capture();
	CU_ASSERT_PTR_NULL(vpio_dma_malloc(64, 3));
	CU_ASSERT(vpio_test_log_has("power of two"));
	vpio_test_log_release();
}

static void test_dma_large_buffers(void)
{
	/* buffers spanning several 2 MiB pages are registered end to end
	 * (in hugepage mode new pages come through the memory event hook) */
	enum { N = 6 };
	void *p[N];

	for (int i = 0; i < N; i++) {
		p[i] = vpio_dma_malloc(3 << 20, 4096);
		CU_ASSERT_FATAL(p[i] != NULL);
		CU_ASSERT(vpio_vtophys((char *)p[i] + (3 << 20) - 1, NULL) != VPIO_VTOPHYS_ERROR);
	}
	for (int i = 0; i < N; i++)
		vpio_dma_free(p[i]);
}

static void test_mempool(void)
{
	struct vpio_mempool *mp = vpio_mempool_create("ut_pool", 255, 128, VPIO_MEMPOOL_DEFAULT_CACHE);
	void *objs[16];
	void *one;

	CU_ASSERT_FATAL(mp != NULL);
	CU_ASSERT_EQUAL(vpio_mempool_count(mp), 255);
	CU_ASSERT_EQUAL(vpio_mempool_get_bulk(mp, objs, 16), 0);
	one = vpio_mempool_get(mp);
	CU_ASSERT_PTR_NOT_NULL(one);
	/* elements are DMA memory */
	CU_ASSERT(vpio_vtophys(objs[3], NULL) != VPIO_VTOPHYS_ERROR);
	vpio_mempool_put(mp, one);
	vpio_mempool_put_bulk(mp, objs, 16);
	CU_ASSERT(vpio_mempool_count(mp) >= 255 - 64); /* some may sit in this core's cache */
	vpio_mempool_free(mp);
	vpio_test_log_capture();
	CU_ASSERT_PTR_NULL(vpio_mempool_create("ut_bad", 0, 64, 0));
	CU_ASSERT_PTR_NULL(vpio_mempool_create("ut_bad2", 64, 64, 100000));
	CU_ASSERT(vpio_test_log_has("out of range"));
	vpio_test_log_release();
}

/* Sizes and alignments that do not fit DPDK's types are refused, never
 * truncated; size 0 says so. */
static void test_bad_sizes(void)
{
	void *p = vpio_dma_malloc(4096, 4096);

	CU_ASSERT_FATAL(p != NULL);
	vpio_test_log_capture();
	CU_ASSERT_PTR_NULL(vpio_dma_malloc(4096, 1ULL << 32));
	CU_ASSERT(vpio_test_log_has("up to 1 GiB"));
	CU_ASSERT_PTR_NULL(vpio_dma_zmalloc(4096, 1ULL << 31));
	CU_ASSERT_PTR_NULL(vpio_dma_malloc(0, 0));
	CU_ASSERT(vpio_test_log_has("size 0"));
	CU_ASSERT(!vpio_test_log_has("out of DMA memory"));
	memset(&vpio_test_log_buf, 0, sizeof(vpio_test_log_buf));
	CU_ASSERT_PTR_NULL(vpio_dma_realloc(p, 0, 0));
	CU_ASSERT(vpio_test_log_has("size 0"));
	CU_ASSERT(!vpio_test_log_has("cannot grow"));
	CU_ASSERT_PTR_NULL(vpio_mempool_create("ut_huge", (1ULL << 32) + 8, 64, 0));
	CU_ASSERT(vpio_test_log_has("count and element size"));
	CU_ASSERT_PTR_NULL(vpio_mempool_create("ut_huge2", 8, (1ULL << 32) + 64, 0));
	CU_ASSERT_PTR_NULL(vpio_mempool_create(NULL, 8, 64, 0));
	CU_ASSERT(vpio_test_log_has("mempool name NULL"));
	CU_ASSERT_PTR_NULL(vpio_mempool_create("", 8, 64, 0));
	CU_ASSERT_PTR_NULL(vpio_mempool_create("a_name_far_too_long_for_dpdk", 8, 64, 0));
	vpio_test_log_release();
	/* the buffer survived the refused realloc */
	CU_ASSERT(vpio_vtophys(p, NULL) != VPIO_VTOPHYS_ERROR);
	vpio_dma_free(p);
}

static atomic_int g_ran;

static int worker(void *arg)
{
	atomic_fetch_add(&g_ran, 1);
	return arg == NULL ? 0 : 7;
}

static void test_workers(void)
{
	unsigned n = vpio_env_core_count();

	CU_ASSERT(n >= 1);
	CU_ASSERT_EQUAL(vpio_env_core_nth(0), vpio_env_core_id());
	atomic_store(&g_ran, 0);
	CU_ASSERT_EQUAL(vpio_env_launch_workers(worker, NULL), 0);
	CU_ASSERT_EQUAL(vpio_env_wait_workers(), 0);
	CU_ASSERT_EQUAL(atomic_load(&g_ran), (int)n - 1);
	if (n > 1) {
		CU_ASSERT_EQUAL(vpio_env_launch_on(vpio_env_core_nth(1), worker, &g_ran), 0);
		CU_ASSERT_EQUAL(vpio_env_wait_workers(), 7);
	}
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_env_launch_on(vpio_env_core_id(), worker, NULL), -EINVAL);
	vpio_test_log_release();
}

static void test_ticks(void)
{
	uint64_t a = vpio_get_ticks(), hz = vpio_get_ticks_hz();

	CU_ASSERT(hz > 1000000);
	CU_ASSERT(vpio_get_ticks() >= a);
}

/* Last: EAL cannot start again in the same process; the refusal says so. */
static void test_init_after_fini(void)
{
	vpio_env_fini();
	CU_ASSERT(!vpio_env_is_init());
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_env_init(NULL), -EALREADY);
	CU_ASSERT(vpio_test_log_has("cannot be started twice"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
}

static int reg(void)
{
	VPIO_SUITE("env", suite_init, suite_fini);
	VPIO_TEST(test_init_twice);
	VPIO_TEST(test_dma_memory_is_translatable);
	VPIO_TEST(test_dma_large_buffers);
	VPIO_TEST(test_mempool);
	VPIO_TEST(test_workers);
	VPIO_TEST(test_ticks);
	VPIO_TEST(test_bad_sizes);
	VPIO_TEST(test_init_after_fini);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
