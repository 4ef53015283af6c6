/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Descriptor building (pieces, chunks, fields per direction and mode,
 * errors, nothing committed) and chain links: every block the engine
 * fetches stays inside a 64-slot group (so inside 4 KiB), inside the
 * chain, and the chain's last descriptor alone has STOP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xdma_ut.h"

static uint64_t desc_src(const struct vpio_xdma_desc *d)
{
	return (uint64_t)d->src_hi << 32 | d->src_lo;
}

static uint64_t desc_dst(const struct vpio_xdma_desc *d)
{
	return (uint64_t)d->dst_hi << 32 | d->dst_lo;
}

static struct xdma_build mk_build(bool c2h, bool stream, uint32_t max_len, struct ut_xlate *x)
{
	return (struct xdma_build){ .c2h = c2h, .stream = stream, .max_desc_len = max_len, .addr_bits = 64,
				    .xlate = ut_xlate, .xlate_ctx = x, .name = "ut" };
}

static void test_single(void)
{
	struct xdma_ring r;
	struct xdma_build b = mk_build(false, false, VPIO_XDMA_DESC_LEN_MAX, NULL);
	uint8_t *buf = aligned_alloc(4096, 8192);
	struct iovec v = { buf + 100, 5000 };

	CU_ASSERT_FATAL(buf && ut_ring(&r, 128, false));
	r.tail = r.head = 5;
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0x1234, &v, 1), 1);
	CU_ASSERT_EQUAL(r.tail, 5); /* the caller commits */
	CU_ASSERT_EQUAL(r.desc[5].control, vpio_xdma_desc_control(0, VPIO_XDMA_DESC_COMPLETED));
	CU_ASSERT_EQUAL(r.desc[5].len, 5000);
	CU_ASSERT_EQUAL(desc_src(&r.desc[5]), (uint64_t)(uintptr_t)(buf + 100));
	CU_ASSERT_EQUAL(desc_dst(&r.desc[5]), 0x1234);
	/* C2H: card is the source */
	b.c2h = true;
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0x1234, &v, 1), 1);
	CU_ASSERT_EQUAL(desc_src(&r.desc[5]), 0x1234);
	CU_ASSERT_EQUAL(desc_dst(&r.desc[5]), (uint64_t)(uintptr_t)(buf + 100));
	/* every slot names the next; the last names slot 0 */
	CU_ASSERT_EQUAL((uint64_t)r.desc[127].nxt_hi << 32 | r.desc[127].nxt_lo, xdma_ring_iova(&r, 0));
	CU_ASSERT_EQUAL((uint64_t)r.desc[63].nxt_hi << 32 | r.desc[63].nxt_lo, xdma_ring_iova(&r, 64));
	ut_ring_free(&r);
	free(buf);
}

/* Cut at max_desc_len and at every IOVA discontinuity; card addresses
 * follow; iovec elements in order. */
static void test_chunks_and_pieces(void)
{
	struct ut_xlate x = { .split = true };
	struct xdma_ring r;
	struct xdma_build b = mk_build(false, false, 4096, NULL);
	uint8_t *buf = aligned_alloc(4096, 65536);
	struct iovec v[2] = { { buf, 10000 }, { buf + 20000, 3 } };
	uint64_t card = 0x10000, total = 0;

	CU_ASSERT_FATAL(buf && ut_ring(&r, 128, false));
	/* contiguous: 10000 = 4096 + 4096 + 1808, then 3 */
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, card, v, 2), 4);
	CU_ASSERT_EQUAL(r.desc[0].len, 4096);
	CU_ASSERT_EQUAL(r.desc[2].len, 1808);
	CU_ASSERT_EQUAL(r.desc[3].len, 3);
	CU_ASSERT_EQUAL(desc_src(&r.desc[3]), (uint64_t)(uintptr_t)(buf + 20000));
	CU_ASSERT_EQUAL(desc_dst(&r.desc[3]), card + 10000);
	/* scattered pages: a piece per page, at most max_desc_len */
	b.xlate_ctx = &x;
	b.max_desc_len = VPIO_XDMA_DESC_LEN_MAX;
	v[0].iov_base = buf + 4000;
	v[0].iov_len = 9000; /* 96 + 4096 + 4096 + 712 */
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, card, v, 1), 4);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t want;

		x.split = true;
		want = ut_xlate(&x, buf + 4000 + total, &(uint64_t){ 1 });
		CU_ASSERT_EQUAL(desc_src(&r.desc[i]), want);
		CU_ASSERT_EQUAL(desc_dst(&r.desc[i]), card + total);
		total += r.desc[i].len;
	}
	CU_ASSERT_EQUAL(r.desc[0].len, 96);
	CU_ASSERT_EQUAL(total, 9000);
	ut_ring_free(&r);
	free(buf);
}

static void test_stream_fields(void)
{
	struct xdma_ring r;
	struct xdma_build b = mk_build(false, true, 4096, NULL);
	uint8_t *buf = aligned_alloc(4096, 16384);
	struct iovec v = { buf, 9000 };

	CU_ASSERT_FATAL(buf && ut_ring(&r, 128, true));
	/* H2C stream: no card address, EOP on the last descriptor only */
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), 3);
	CU_ASSERT_EQUAL(r.desc[0].control & VPIO_XDMA_DESC_EOP, 0);
	CU_ASSERT_EQUAL(r.desc[1].control & VPIO_XDMA_DESC_EOP, 0);
	CU_ASSERT_EQUAL(r.desc[2].control & VPIO_XDMA_DESC_EOP, VPIO_XDMA_DESC_EOP);
	CU_ASSERT_EQUAL(desc_dst(&r.desc[1]), 0);
	/* C2H stream: the source is the descriptor's result slot, no EOP */
	b.c2h = true;
	r.tail = r.head = 126; /* wraps: slots 126, 127, 0 */
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), 3);
	CU_ASSERT_EQUAL(desc_src(&r.desc[126]), xdma_result_iova(&r, 126));
	CU_ASSERT_EQUAL(desc_src(&r.desc[0]), xdma_result_iova(&r, 0));
	CU_ASSERT_EQUAL(desc_dst(&r.desc[0]), (uint64_t)(uintptr_t)(buf + 8192));
	CU_ASSERT_EQUAL(r.desc[0].control & VPIO_XDMA_DESC_EOP, 0);
	ut_ring_free(&r);
	free(buf);
}

static void test_errors(void)
{
	struct ut_xlate x = { 0 };
	struct xdma_ring r;
	struct xdma_build b = mk_build(false, false, 4096, &x);
	uint8_t *buf = aligned_alloc(4096, 1u << 20);
	struct iovec v = { buf, 1u << 20 };

	CU_ASSERT_FATAL(buf && ut_ring(&r, 128, false));
	/* more descriptors than the ring: -E2BIG, logged */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), -E2BIG);
	CU_ASSERT(vpio_test_log_has("needs 256 descriptors"));
	/* more than are free now: -EAGAIN, silent */
	r.head = 0;
	r.tail = 100;
	v.iov_len = 29 * 4096;
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), -EAGAIN);
	v.iov_len = 28 * 4096;
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), 28);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	/* an untranslatable page in the middle, an IOVA beyond the address bits */
	x.bad = (uintptr_t)buf + 8192;
	x.bad_len = 4096;
	r.tail = 0;
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), -EFAULT);
	CU_ASSERT(vpio_test_log_has("is not registered for DMA"));
	x.bad_len = 0;
	b.addr_bits = 32;
	CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), (uintptr_t)buf + v.iov_len <= (1ull << 32) ? 28 : -EFAULT);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), (uintptr_t)buf + v.iov_len <= (1ull << 32) ? 2u : 3u);
	vpio_test_log_release();
	ut_ring_free(&r);
	free(buf);
}

/* Walk a linked chain as the engine does: first block from (first, adj),
 * then from the last descriptor of each block.  Checks each block and
 * returns the number of descriptors walked (0 on a rule broken). */
static uint32_t engine_walk(const struct xdma_ring *r, uint32_t first, uint32_t adj, uint32_t n)
{
	uint32_t slot = first, walked = 0;

	for (;;) {
		uint64_t iova = xdma_ring_iova(r, slot);
		const struct vpio_xdma_desc *last;

		if (adj > 63 || iova % 32 || iova % 4096 + (adj + 1) * 32u > 4096 || (slot & r->mask) + adj > r->mask)
			return 0; /* a block leaves its page (or the ring) */
		for (uint32_t i = 0; i <= adj; i++) {
			const struct vpio_xdma_desc *d = &r->desc[(slot + i) & r->mask];
			bool stop = (d->control & VPIO_XDMA_DESC_STOP) != 0;

			if (VPIO_XDMA_DESC_GET_MAGIC(d->control) != VPIO_XDMA_DESC_MAGIC)
				return 0;
			walked++;
			if (stop != (walked == n))
				return 0; /* STOP on the chain's last alone */
			if (stop)
				return i == adj ? walked : 0; /* ...which ends its block */
		}
		last = &r->desc[(slot + adj) & r->mask];
		if (((uint64_t)last->nxt_hi << 32 | last->nxt_lo) != xdma_ring_iova(r, slot + adj + 1))
			return 0;
		slot += adj + 1;
		adj = VPIO_XDMA_DESC_GET_ADJ(last->control);
	}
}

static void test_links(void)
{
	struct xdma_build b = mk_build(false, false, 4096, NULL);
	static const uint32_t firsts[] = { 0, 1, 31, 63, 64, 100, 127, 200, 255, 500, 511 };
	static const uint32_t lens[] = { 1, 2, 3, 63, 64, 65, 127, 128, 129, 300, 511, 512 };
	uint8_t *buf = aligned_alloc(4096, 512 * 4096);
	struct xdma_ring r;
	unsigned bad = 0;

	CU_ASSERT_FATAL(buf && ut_ring(&r, 512, false));
	for (size_t f = 0; f < sizeof(firsts) / sizeof(firsts[0]); f++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct iovec v = { buf, (size_t)lens[l] * 4096 };
			uint32_t adj;

			r.head = r.tail = firsts[f];
			CU_ASSERT_EQUAL_FATAL(xdma_build_xfer(&b, &r, 0, &v, 1), lens[l]);
			adj = xdma_link_chain(&r, firsts[f], lens[l]);
			if (engine_walk(&r, firsts[f], adj, lens[l]) != lens[l]) {
				bad++;
				printf("\n    chain of %u from slot %u breaks a rule", lens[l], firsts[f]);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* the first block takes what its group allows */
	r.head = r.tail = 0;
	CU_ASSERT_EQUAL(xdma_link_chain(&r, 10, 100), 53);
	CU_ASSERT_EQUAL(xdma_link_chain(&r, 64, 5), 4);
	CU_ASSERT_EQUAL(xdma_link_chain(&r, 127, 1), 0);
	/* EOP survives linking */
	b.stream = true;
	{
		struct iovec v = { buf, 4096 };

		r.head = r.tail = 3;
		CU_ASSERT_EQUAL(xdma_build_xfer(&b, &r, 0, &v, 1), 1);
		xdma_link_chain(&r, 3, 1);
		CU_ASSERT_EQUAL(r.desc[3].control, vpio_xdma_desc_control(0, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_EOP |
									       VPIO_XDMA_DESC_STOP));
	}
	ut_ring_free(&r);
	free(buf);
}

CU_TestInfo ut_desc_tests[] = { UT_T(test_single), UT_T(test_chunks_and_pieces), UT_T(test_stream_fields),
				    UT_T(test_errors), UT_T(test_links), CU_TEST_INFO_NULL };
