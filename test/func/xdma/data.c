/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory-mapped loopback: write card memory (H2C), read it back (C2H),
 * compare; random sizes, host offsets, card addresses and vector shapes;
 * several transfers in flight started as one batch; long transfers cut
 * into many descriptors; registered heap memory.  Guard bytes around
 * every buffer are checked after each transfer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func_xdma.h"

#define MAX_IOV 6

/* Split [p, p + len) into n pieces (each >= 1 byte) at random points. */
static int shape(struct iovec *iov, uint8_t *p, size_t len, int n)
{
	size_t left = len;

	if ((size_t)n > len)
		n = (int)len;
	for (int i = 0; i < n; i++) {
		size_t take = i + 1 == n ? left : 1 + fx_rand() % (left - (size_t)(n - i - 1));

		iov[i].iov_base = p;
		iov[i].iov_len = take;
		p += take;
		left -= take;
	}
	return n;
}

static void test_sync(void)
{
	struct fx_pair p;
	struct fx_buf a, b;
	uint8_t *card;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 0, NULL, false));
	card = fx_card(p.d, NULL);
	CU_ASSERT_FATAL(card && fx_buf_alloc(&a, 4096, 0) && fx_buf_alloc(&b, 4096, 0));
	fx_fill(a.p, 4096, 1);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(p.h, 0x10000, a.p, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(card + 0x10000, a.p, 4096), 0);
	CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(p.c, 0x10000, b.p, 4096, NULL), 0);
	CU_ASSERT_EQUAL(memcmp(a.p, b.p, 4096), 0);
	fx_buf_done(&a);
	fx_buf_done(&b);
	fx_pair_close(&p);
}

/* One round: k transfers of random shapes out, then back, compared. */
static void round_trip(struct vpio_xdma_dev *d, struct vpio_xdma_chan *h, struct vpio_xdma_chan *c, unsigned k,
		       size_t max_len, bool heap)
{
	struct fx_buf out[8], in[8];
	struct fx_cpl wh = { 0 }, wc = { 0 };
	uint64_t card_size, cards[8];
	uint8_t *card = fx_card(d, &card_size);

	for (unsigned i = 0; i < k; i++) {
		size_t len = 1 + fx_rand() % max_len;
		size_t off = fx_rand() % 4096, off2 = fx_rand() % 4096;
		struct iovec iov[MAX_IOV];
		int n;

		/* each transfer its own card region: k regions of card_size / 8 */
		cards[i] = i * (card_size / 8) + fx_rand() % (card_size / 8 - len);
		CU_ASSERT_FATAL(heap ? fx_buf_alloc_heap(&out[i], len, off) && fx_buf_alloc_heap(&in[i], len, off2)
				     : fx_buf_alloc(&out[i], len, off) && fx_buf_alloc(&in[i], len, off2));
		fx_fill(out[i].p, len, fx_rand());
		memset(in[i].p, 0, len);
		n = shape(iov, out[i].p, len, 1 + (int)(fx_rand() % MAX_IOV));
		CU_ASSERT_EQUAL(n == 1 ? vpio_xdma_h2c(h, cards[i], out[i].p, len, fx_cb, &wh)
				       : vpio_xdma_h2cv(h, cards[i], iov, n, fx_cb, &wh), 0);
	}
	CU_ASSERT_EQUAL(fx_wait(h, &wh, k, 5000), 0);
	CU_ASSERT_EQUAL(wh.errors, 0);
	for (unsigned i = 0; i < k; i++) {
		struct iovec iov[MAX_IOV];
		int n = shape(iov, in[i].p, in[i].len, 1 + (int)(fx_rand() % MAX_IOV));

		CU_ASSERT_EQUAL(memcmp(card + cards[i], out[i].p, out[i].len), 0);
		CU_ASSERT_EQUAL(n == 1 ? vpio_xdma_c2h(c, cards[i], in[i].p, in[i].len, fx_cb, &wc)
				       : vpio_xdma_c2hv(c, cards[i], iov, n, fx_cb, &wc), 0);
	}
	CU_ASSERT_EQUAL(fx_wait(c, &wc, k, 5000), 0);
	CU_ASSERT_EQUAL(wc.errors, 0);
	for (unsigned i = 0; i < k; i++) {
		CU_ASSERT_EQUAL(memcmp(in[i].p, out[i].p, out[i].len), 0);
		fx_buf_done(&out[i]);
		fx_buf_done(&in[i]);
	}
}

static void test_random(void)
{
	struct vpio_xdma_chan_stats st;
	struct fx_pair p;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 1, NULL, false));
	for (unsigned r = 0; r < 40; r++)
		round_trip(p.d, p.h, p.c, 1 + (unsigned)(fx_rand() % 8), r % 4 ? 20000 : 300000, false);
	vpio_xdma_chan_get_stats(p.h, &st);
	CU_ASSERT(st.transfers > 40);
	CU_ASSERT_EQUAL(st.failed, 0);
	CU_ASSERT_EQUAL(st.queued + st.in_flight, 0);
	/* several transfers went in one batch */
	CU_ASSERT(st.batches < st.transfers);
	fx_pair_close(&p);
}

/* Registered heap memory (malloc'ed, vpio_mem_register) as DMA buffers. */
static void test_heap(void)
{
	struct fx_pair p;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 0, NULL, false));
	for (unsigned r = 0; r < 10; r++)
		round_trip(p.d, p.h, p.c, 1 + (unsigned)(fx_rand() % 4), 100000, true);
	fx_pair_close(&p);
}

/* A 1 MiB + 100 transfer with 4 KiB descriptors: 257 descriptors, blocks
 * linked across 64-slot groups and the ring's wrap. */
static void test_chunking(void)
{
	struct vpio_xdma_chan_opts o = fx_opts(0);
	struct vpio_xdma_chan_stats st;
	size_t len = (1u << 20) + 100;
	struct fx_pair p;
	struct fx_buf a, b;

	o.max_desc_len = 4096;
	o.ring_size = 512;
	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 0, &o, false) && fx_buf_alloc(&a, len, 3000) &&
			fx_buf_alloc(&b, len, 3000));
	for (unsigned r = 0; r < 3; r++) { /* the third one wraps the ring */
		fx_fill(a.p, len, r + 10);
		CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(p.h, 0x1000 + r * 4, a.p, len), 0);
		CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(p.c, 0x1000 + r * 4, b.p, len, NULL), 0);
		CU_ASSERT_EQUAL(memcmp(a.p, b.p, len), 0);
	}
	vpio_xdma_chan_get_stats(p.h, &st);
	CU_ASSERT_EQUAL(st.descriptors, 3 * 257); /* ceil(len / 4096) each (IOVA-contiguous buffer) */
	fx_buf_done(&a);
	fx_buf_done(&b);
	fx_pair_close(&p);
}

/* Each completion (counted in w) submits another while left > 0. */
struct resub {
	struct fx_cpl w;
	unsigned left;
	struct vpio_xdma_chan *ch;
	uint8_t *buf;
};

static void resub_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct resub *r = arg;
	uint64_t at = (r->left % 64) * 4096;

	fx_cb(&r->w, cpl);
	if (r->left > 0 && vpio_xdma_h2c(r->ch, at, r->buf + at, 4096, resub_cb, r) == 0)
		r->left--;
}

/* 64 transfers queued before the first poll go in one batch; callbacks
 * submit more, which go in later batches. */
static void test_batches(void)
{
	struct vpio_xdma_chan_stats st;
	struct resub r = { 0 };
	struct fx_pair p;
	struct fx_buf a;
	uint64_t end;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 0, NULL, true) && fx_buf_alloc(&a, 64 * 4096, 0));
	r.ch = p.h;
	r.buf = a.p;
	r.left = 200;
	for (unsigned i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(vpio_xdma_h2c(p.h, i * 4096, a.p + i * 4096, 4096, resub_cb, &r), 0);
	vpio_xdma_chan_get_stats(p.h, &st);
	CU_ASSERT_EQUAL(st.queued, 64);
	CU_ASSERT_EQUAL(st.batches, 0);
	CU_ASSERT_EQUAL(vpio_xdma_poll(p.h, 0), 0); /* starts them */
	vpio_xdma_chan_get_stats(p.h, &st);
	CU_ASSERT_EQUAL(st.batches, 1);
	CU_ASSERT_EQUAL(st.in_flight, 64);
	end = fx_now_ms() + 5000;
	while (r.w.done < 264 && fx_now_ms() < end)
		CU_ASSERT(vpio_xdma_poll(p.h, 7) <= 7);
	CU_ASSERT_EQUAL(r.w.done, 264);
	CU_ASSERT_EQUAL(r.w.errors, 0);
	vpio_xdma_chan_get_stats(p.h, &st);
	CU_ASSERT(st.batches >= 2 && st.batches < 264);
	fx_buf_done(&a);
	fx_pair_close(&p);
}

CU_TestInfo fx_data_tests[] = { FX_T(test_sync), FX_T(test_random), FX_T(test_heap), FX_T(test_chunking),
				FX_T(test_batches), CU_TEST_INFO_NULL };
