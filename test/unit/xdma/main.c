/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unit_xdma: descriptor building and chunking, chain links (the 4 KiB and
 * adjacency rules), alignment and input rules of submission, Status
 * decoding, and discovery on fake BAR images.
 */
#include <stdlib.h>
#include <string.h>

#include "xdma_ut.h"

bool ut_ring(struct xdma_ring *r, uint32_t size, bool c2h_stream)
{
	uint32_t pages = size / XDMA_DESC_PER_PAGE;

	memset(r, 0, sizeof(*r));
	r->desc = aligned_alloc(4096, (size_t)size * 32);
	r->page_iova = calloc(pages, sizeof(uint64_t));
	if (r->desc == NULL || r->page_iova == NULL)
		return false;
	memset(r->desc, 0, (size_t)size * 32);
	r->size = size;
	r->mask = size - 1;
	for (uint32_t p = 0; p < pages; p++)
		r->page_iova[p] = 0x5000000000ull + (uint64_t)((p * 7) % pages) * 0x3000; /* scattered, 4 KiB aligned */
	if (c2h_stream) {
		r->results = aligned_alloc(4096, (size_t)size * XDMA_RESULT_STRIDE);
		r->res_page_iova = calloc(pages, sizeof(uint64_t));
		if (r->results == NULL || r->res_page_iova == NULL)
			return false;
		for (uint32_t p = 0; p < pages; p++)
			r->res_page_iova[p] = 0x6000000000ull + (uint64_t)p * 0x2000;
	}
	xdma_ring_init_links(r);
	return true;
}

void ut_ring_free(struct xdma_ring *r)
{
	free(r->desc);
	free(r->page_iova);
	free(r->results);
	free(r->res_page_iova);
}

uint64_t ut_xlate(void *ctx, const void *vaddr, uint64_t *len)
{
	const struct ut_xlate *x = ctx;
	uintptr_t va = (uintptr_t)vaddr;

	if (x != NULL && va < x->bad + x->bad_len && va + *len > x->bad) {
		if (va >= x->bad)
			return UINT64_MAX;
		*len = x->bad - va; /* translatable up to the bad pages */
	}
	if (x != NULL && x->split) {
		uint64_t in_page = 4096 - va % 4096;

		if (*len > in_page)
			*len = in_page;
		return ((uint64_t)(va / 4096) * 3 + (1ull << 40)) * 4096 + va % 4096;
	}
	return va;
}

static CU_SuiteInfo g_suites[] = {
	{ "xdma_desc", NULL, NULL, NULL, NULL, ut_desc_tests },	   { "xdma_discover", NULL, NULL, NULL, NULL, ut_discover_tests },
	{ "xdma_status", NULL, NULL, NULL, NULL, ut_status_tests }, { "xdma_submit", NULL, NULL, NULL, NULL, ut_submit_tests },
	CU_SUITE_INFO_NULL,
};

static int reg(void)
{
	return CU_register_suites(g_suites) == CUE_SUCCESS ? 0 : -1;
}

int main(void)
{
	return vpio_test_run_quiet(reg);
}
