/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the queue-memory allocator (lib/nvme/nvme_qpair.c) on plain
 * memory with fake translations: rings and lists aligned to and sized in
 * the controller's memory page (4 and 8 KiB), and what it refuses, with
 * one line and nothing left allocated: memory without a device address,
 * rings not contiguous for the device, rings off a page boundary, list
 * blocks that cross a memory page, no memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

/* How the fake device sees host memory. */
enum fx_mode {
	FX_IDENTITY,	/* iova = va */
	FX_SCATTER,	/* contiguous only within each 4 KiB page */
	FX_NONE,	/* nothing translates */
	FX_SHIFT,	/* iova = va + shift (contiguous, alignment changes) */
	FX_LISTS_BAD,	/* identity, but the third allocation (the list
			 * blocks) is seen shift bytes further */
};

struct fx {
	enum fx_mode mode;
	uint64_t shift;
	int allocs, frees, fail_after;
	uintptr_t ptr[3];
	size_t size[3], align[3];
};

static struct fx g_fx;

static void *fx_zmalloc(size_t size, size_t align)
{
	void *p;

	if (g_fx.fail_after > 0 && g_fx.allocs + 1 >= g_fx.fail_after) /* the fail_after-th and later */
		return NULL;
	CU_ASSERT_EQUAL(size % align, 0); /* whole pages */
	p = aligned_alloc(align, size);
	if (p != NULL) {
		memset(p, 0, size);
		if (g_fx.allocs < 3) {
			g_fx.ptr[g_fx.allocs] = (uintptr_t)p;
			g_fx.size[g_fx.allocs] = size;
			g_fx.align[g_fx.allocs] = align;
		}
		g_fx.allocs++;
	}
	return p;
}

static void fx_free(void *p)
{
	if (p != NULL)
		g_fx.frees++;
	free(p);
}

static uint64_t fx_xlate(void *ctx, const void *vaddr, uint64_t *len)
{
	uintptr_t va = (uintptr_t)vaddr;
	uint64_t room;

	(void)ctx;
	switch (g_fx.mode) {
	case FX_NONE:
		return UINT64_MAX;
	case FX_SCATTER:
		room = 4096u - (va & 4095u);
		if (len != NULL && *len > room)
			*len = room;
		return 0x1000000000ull + ((0xfffffull - ((va >> 12) & 0xfffffull)) << 12) + (va & 4095u);
	case FX_SHIFT:
		return va + g_fx.shift;
	case FX_LISTS_BAD:
		if (g_fx.allocs >= 3 && va >= g_fx.ptr[2] && va < g_fx.ptr[2] + g_fx.size[2])
			return va + g_fx.shift;
		return va;
	default:
		return va;
	}
}

static const struct nvme_qmem_ops fx_ops = { fx_zmalloc, fx_free, fx_xlate, NULL };

struct fx_qp {
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_qpair qp;
};

static void fx_setup(struct fx_qp *f, enum fx_mode mode)
{
	memset(&g_fx, 0, sizeof(g_fx));
	g_fx.mode = mode;
	memset(f, 0, sizeof(*f));
	f->c = aligned_alloc(64, (sizeof(*f->c) + 63u) & ~(size_t)63u);
	memset(f->c, 0, sizeof(*f->c));
	strcpy(f->c->name, "ut:qmem");
	f->qp.ctrlr = f->c;
	f->qp.qid = 3;
}

static void fx_teardown(struct fx_qp *f)
{
	nvme_qmem_free(&f->qp, &fx_ops);
	free(f->qp.reqs);
	free(f->c);
	CU_ASSERT_EQUAL(g_fx.allocs, g_fx.frees);
}

/* Every ring page aligned, every list block contiguous and within a page. */
static void check_layout(struct vpio_nvme_qpair *qp, uint32_t n, uint32_t page_shift)
{
	uint64_t page = 1ull << page_shift;
	uint32_t i;

	CU_ASSERT_EQUAL(qp->num_entries, n);
	CU_ASSERT_EQUAL(qp->num_reqs, n - 1u);
	CU_ASSERT_EQUAL(qp->sq_iova & (page - 1u), 0);
	CU_ASSERT_EQUAL(qp->cq_iova & (page - 1u), 0);
	CU_ASSERT_PTR_EQUAL(qp->sq, qp->sq_mem);
	CU_ASSERT_PTR_EQUAL((void *)qp->cq, qp->cq_mem);
	for (i = 0; i < qp->num_reqs; i++) {
		CU_ASSERT_PTR_EQUAL(qp->reqs[i].list, (uint8_t *)qp->list_mem + (size_t)i * NVME_LIST_BYTES);
		CU_ASSERT_EQUAL(qp->reqs[i].list_iova, fx_xlate(NULL, qp->reqs[i].list, NULL));
		CU_ASSERT((qp->reqs[i].list_iova & (page - 1u)) + NVME_LIST_BYTES <= page);
	}
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(g_fx.align[i], page);
		CU_ASSERT_EQUAL(g_fx.size[i] % page, 0);
	}
	CU_ASSERT(g_fx.size[0] >= n * 64u && g_fx.size[1] >= n * 16u && g_fx.size[2] >= (n - 1u) * NVME_LIST_BYTES);
}

static void test_layout(void)
{
	static const uint32_t sizes[] = { 2, 3, 64, 129, 1024 };
	struct fx_qp f;

	for (uint32_t shift = 12; shift <= 14; shift++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			fx_setup(&f, FX_IDENTITY);
			CU_ASSERT_EQUAL_FATAL(nvme_qmem_alloc(&f.qp, sizes[k], shift, &fx_ops), 0);
			check_layout(&f.qp, sizes[k], shift);
			fx_teardown(&f);
		}
	}
	/* 8 KiB pages: a device address off by 4 KiB is refused for the rings
	 * (4 KiB aligned is not enough), accepted with 4 KiB pages */
	fx_setup(&f, FX_SHIFT);
	g_fx.shift = 4096;
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 64, 12, &fx_ops), 0);
	fx_teardown(&f);
	fx_setup(&f, FX_SHIFT);
	g_fx.shift = 4096;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 64, 13, &fx_ops), -EFAULT);
	CU_ASSERT(vpio_test_log_has("ut:qmem: queue 3: SQ memory at device address"));
	CU_ASSERT(vpio_test_log_has("is not 8192-byte aligned"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	CU_ASSERT_PTR_NULL(f.qp.sq_mem);
	CU_ASSERT_PTR_NULL(f.qp.reqs);
	fx_teardown(&f);
}

static void test_refused(void)
{
	struct fx_qp f;

	/* a ring of 16 KiB scattered page by page: not contiguous */
	fx_setup(&f, FX_SCATTER);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 256, 12, &fx_ops), -EFAULT);
	CU_ASSERT(vpio_test_log_has("SQ memory is not contiguous for the device (4096 of 16384 bytes"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	CU_ASSERT_PTR_NULL(f.qp.sq_mem);
	CU_ASSERT_PTR_NULL(f.qp.cq_mem);
	CU_ASSERT_PTR_NULL(f.qp.list_mem);
	fx_teardown(&f);

	/* a queue of one page each is contiguous even so */
	fx_setup(&f, FX_SCATTER);
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 64, 12, &fx_ops), 0);
	fx_teardown(&f);

	/* no device address at all */
	fx_setup(&f, FX_NONE);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 8, 12, &fx_ops), -EFAULT);
	CU_ASSERT(vpio_test_log_has("SQ memory has no device address"));
	vpio_test_log_release();
	fx_teardown(&f);

	/* the check itself: a list block within one page, whatever its size */
	fx_setup(&f, FX_IDENTITY);
	CU_ASSERT_EQUAL(nvme_qmem_check("ut:qmem", 3, "a PRP/SGL list block", 0x10000800, NVME_LIST_BYTES,
					NVME_LIST_BYTES, 8, 13), 0); /* 2 KiB into an 8 KiB page: fits */
	CU_ASSERT_EQUAL(nvme_qmem_check("ut:qmem", 3, "a PRP/SGL list block", 0x10001000, NVME_LIST_BYTES,
					NVME_LIST_BYTES, 8, 13), 0); /* second half of an 8 KiB page */
	CU_ASSERT_EQUAL(nvme_qmem_check("ut:qmem", 3, "a PRP/SGL list block", 0x10001000, NVME_LIST_BYTES,
					NVME_LIST_BYTES, 8, 12), 0);
	CU_ASSERT_EQUAL(nvme_qmem_check("ut:qmem", 3, "a PRP/SGL list block", 0x10000800, NVME_LIST_BYTES,
					NVME_LIST_BYTES, 8, 12), -EFAULT); /* crosses a 4 KiB page */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_qmem_check("ut:qmem", 3, "a PRP/SGL list block", 0x10001800, NVME_LIST_BYTES,
					NVME_LIST_BYTES, 8, 13), -EFAULT);
	CU_ASSERT(vpio_test_log_has("crosses a 8192-byte memory page"));
	vpio_test_log_release();
	fx_teardown(&f);

	/* out of memory at each of the three allocations */
	for (int k = 1; k <= 3; k++) {
		fx_setup(&f, FX_IDENTITY);
		g_fx.fail_after = k;
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 32, 13, &fx_ops), -ENOMEM);
		CU_ASSERT(vpio_test_log_has("no memory for 32 entries"));
		vpio_test_log_release();
		CU_ASSERT_PTR_NULL(f.qp.reqs);
		fx_teardown(&f);
	}

	/* not a queue */
	fx_setup(&f, FX_IDENTITY);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 1, 12, &fx_ops), -EINVAL);
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 65536, 12, &fx_ops), -EINVAL);
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 8, 11, &fx_ops), -EINVAL);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(g_fx.allocs, 0);
	fx_teardown(&f);
}

/* List blocks the device would see 2 KiB into a page (rings fine):
 * refused, the first one named; 4 KiB further is fine with 4 KiB pages and
 * refused with 8 KiB pages only when it crosses (it does not: 4 KiB into
 * an 8 KiB page is the second half). */
static void test_list_crossing(void)
{
	struct fx_qp f;

	fx_setup(&f, FX_LISTS_BAD);
	g_fx.shift = 2048;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 8, 13, &fx_ops), -EFAULT);
	CU_ASSERT(vpio_test_log_has("a PRP/SGL list block at device address"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	CU_ASSERT_PTR_NULL(f.qp.list_mem);
	fx_teardown(&f);

	fx_setup(&f, FX_LISTS_BAD);
	g_fx.shift = 4096;
	CU_ASSERT_EQUAL(nvme_qmem_alloc(&f.qp, 8, 13, &fx_ops), 0);
	CU_ASSERT_EQUAL(f.qp.reqs[0].list_iova, (uint64_t)(uintptr_t)f.qp.reqs[0].list + 4096u);
	fx_teardown(&f);
}

static int reg(void)
{
	VPIO_SUITE("nvme_qmem", NULL, NULL);
	VPIO_TEST(test_layout);
	VPIO_TEST(test_refused);
	VPIO_TEST(test_list_crossing);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
