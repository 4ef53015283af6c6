/* SPDX-License-Identifier: BSD-3-Clause */
/* unit_xdma: the pure pieces of lib/xdma on memory images, no device. */
#ifndef XDMA_UT_H
#define XDMA_UT_H

#include "common/vpio_test.h"
#include "xdma/xdma_internal.h"

#define UT_T(fn) { #fn, fn }
extern CU_TestInfo ut_desc_tests[], ut_discover_tests[], ut_status_tests[], ut_submit_tests[];

/* A ring of size descriptors in plain memory whose 4 KiB pages get
 * scattered fake IOVAs (so that nothing may rely on pages being
 * contiguous); results too when c2h_stream. */
bool ut_ring(struct xdma_ring *r, uint32_t size, bool c2h_stream);
void ut_ring_free(struct xdma_ring *r);
/* Fake translation: IOVA = VA, except the pages of [bad, bad + bad_len)
 * (untranslatable) and, with split, every page boundary (each page its
 * own piece, at a scattered IOVA: page p of VA maps to p * 3 + 1 << 40). */
struct ut_xlate {
	uintptr_t bad, bad_len;
	bool split;
};
uint64_t ut_xlate(void *ctx, const void *vaddr, uint64_t *len);

#endif
