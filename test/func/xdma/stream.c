/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stream loopback (H2C stream n feeds C2H stream n): packets of random
 * sizes received into buffers of their size, early packet ends (a buffer
 * larger than its packet), packets longer than a buffer, a vectored
 * receive that a packet ends early (the engine is stopped there).
 */
#include <stdio.h>
#include <string.h>

#include "func_xdma.h"

struct rx {
	unsigned done;
	struct vpio_xdma_cpl cpl[8];
};

static void rx_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct rx *r = arg;

	if (r->done < 8)
		r->cpl[r->done] = *cpl;
	r->done++;
}

/* Random packets, receive buffers of their sizes posted first. */
static void test_packets(void)
{
	struct fx_pair s;

	CU_ASSERT_FATAL(fx_pair_open(&s, FX_STREAM, 1, NULL, false));
	for (unsigned r = 0; r < 30; r++) {
		unsigned k = 1 + (unsigned)(fx_rand() % 6);
		struct fx_buf out[6], in[6];
		struct fx_cpl wh = { 0 };
		struct rx rx = { 0 };

		for (unsigned i = 0; i < k; i++) {
			size_t len = 1 + fx_rand() % (r % 3 ? 5000 : 200000);

			CU_ASSERT_FATAL(fx_buf_alloc(&out[i], len, fx_rand() % 4096) &&
					fx_buf_alloc(&in[i], len, fx_rand() % 4096));
			fx_fill(out[i].p, len, fx_rand());
			CU_ASSERT_EQUAL(vpio_xdma_c2h(s.c, 0, in[i].p, len, rx_cb, &rx), 0);
		}
		CU_ASSERT_EQUAL(vpio_xdma_poll(s.c, 0), 0); /* receives wait for data */
		for (unsigned i = 0; i < k; i++)
			CU_ASSERT_EQUAL(vpio_xdma_h2c(s.h, 0, out[i].p, out[i].len, fx_cb, &wh), 0);
		CU_ASSERT_EQUAL(fx_wait(s.h, &wh, k, 5000), 0);
		{
			uint64_t end = fx_now_ms() + 5000;

			while (rx.done < k && fx_now_ms() < end)
				vpio_xdma_poll(s.c, 0);
		}
		CU_ASSERT_EQUAL(rx.done, k);
		CU_ASSERT_EQUAL(wh.errors, 0);
		for (unsigned i = 0; i < k; i++) {
			CU_ASSERT_EQUAL(rx.cpl[i].status, 0);
			CU_ASSERT_EQUAL(rx.cpl[i].len, out[i].len);
			CU_ASSERT(rx.cpl[i].eop);
			CU_ASSERT_EQUAL(memcmp(in[i].p, out[i].p, out[i].len), 0);
			fx_buf_done(&out[i]);
			fx_buf_done(&in[i]);
		}
	}
	fx_pair_close(&s);
}

/* A buffer larger than its packet ends at the packet (EOP); a packet
 * longer than a buffer continues in the next one. */
static void test_short_and_long(void)
{
	struct fx_buf out, in;
	struct fx_pair s;

	CU_ASSERT_FATAL(fx_pair_open(&s, FX_STREAM, 0, NULL, false) && fx_buf_alloc(&out, 10000, 0) && fx_buf_alloc(&in, 65536, 0));
	fx_fill(out.p, 10000, 5);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(s.h, 0, out.p, 1000), 0);
	fx_c2h_expect(s.c, in.p, 65536, 1000, true);
	CU_ASSERT_EQUAL(memcmp(in.p, out.p, 1000), 0);
	/* 10000 bytes into 6000 + 6000 */
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(s.h, 0, out.p, 10000), 0);
	fx_c2h_expect(s.c, in.p, 6000, 6000, false);
	fx_c2h_expect(s.c, in.p + 6000, 6000, 4000, true);
	CU_ASSERT_EQUAL(memcmp(in.p, out.p, 10000), 0);
	fx_buf_done(&out);
	fx_buf_done(&in);
	fx_pair_close(&s);
}

/* A vectored receive (three descriptors) that a packet ends in the second:
 * the engine is stopped there.  A second packet already on its way either
 * went into the rest of that buffer (dropped, counted) or arrives whole in
 * the next receive. */
static void test_vector_early_eop(void)
{
	struct vpio_xdma_chan_stats st;
	struct fx_buf out, in;
	struct iovec v[3];
	struct fx_cpl w = { 0 };
	struct fx_pair s;

	CU_ASSERT_FATAL(fx_pair_open(&s, FX_STREAM, 0, NULL, false) && fx_buf_alloc(&out, 8000, 0) && fx_buf_alloc(&in, 3 * 4096 + 4096, 0));
	fx_fill(out.p, 8000, 9);
	for (int i = 0; i < 3; i++) {
		v[i].iov_base = in.p + i * 4096;
		v[i].iov_len = 4096;
	}
	/* first alone: the third descriptor waits for data when it is stopped */
	CU_ASSERT_EQUAL(vpio_xdma_c2hv(s.c, 0, v, 3, fx_cb, &w), 0);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(s.h, 0, out.p, 5000), 0);
	CU_ASSERT_EQUAL(fx_wait(s.c, &w, 1, 5000), 0);
	CU_ASSERT_EQUAL(w.last.status, 0);
	CU_ASSERT_EQUAL(w.last.len, 5000);
	CU_ASSERT(w.last.eop);
	CU_ASSERT_EQUAL(memcmp(in.p, out.p, 5000), 0);
	vpio_xdma_chan_get_stats(s.c, &st);
	CU_ASSERT_EQUAL(st.early_eop, 1);
	CU_ASSERT_EQUAL(st.stream_dropped, 0);
	/* then with the next packet (3000 bytes) already sent */
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(s.h, 0, out.p, 5000), 0);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(s.h, 0, out.p + 5000, 3000), 0);
	CU_ASSERT_EQUAL(vpio_xdma_c2hv(s.c, 0, v, 3, fx_cb, &w), 0);
	CU_ASSERT_EQUAL(fx_wait(s.c, &w, 2, 5000), 0);
	CU_ASSERT_EQUAL(w.last.len, 5000);
	vpio_xdma_chan_get_stats(s.c, &st);
	CU_ASSERT_EQUAL(st.early_eop, 2);
	if (st.stream_dropped == 0) { /* the engine was stopped before it took the packet */
		fx_c2h_expect(s.c, in.p + 12288, 4096, 3000, true);
		CU_ASSERT_EQUAL(memcmp(in.p + 12288, out.p + 5000, 3000), 0);
	} else {
		CU_ASSERT_EQUAL(st.stream_dropped, 3000);
	}
	/* the channel goes on */
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(s.h, 0, out.p, 4096), 0);
	fx_c2h_expect(s.c, in.p, 4096, 4096, true);
	fx_buf_done(&out);
	fx_buf_done(&in);
	fx_pair_close(&s);
}

/* One receive of test_vector_early_eop_repeat: 5000 bytes into three
 * 4096-byte descriptors, the 3000-byte packet behind it; false after a
 * failure (the loop ends, the pair is closed). */
static bool early_eop_round(struct fx_pair *s, struct fx_buf *out, struct fx_buf *in, struct fx_cpl *w, unsigned *dropped)
{
	struct vpio_xdma_chan_stats st;
	struct iovec v[3];
	uint64_t before;
	unsigned done = w->done, i;

	for (i = 0; i < 3; i++) {
		v[i].iov_base = in->p + i * 4096;
		v[i].iov_len = 4096;
	}
	vpio_xdma_chan_get_stats(s->c, &st);
	before = st.stream_dropped;
	memset(in->p + 8192, 0xa5, 4096);
	if (vpio_xdma_h2c_sync(s->h, 0, out->p, 5000) != 0 || vpio_xdma_h2c_sync(s->h, 0, out->p + 5000, 3000) != 0 ||
	    vpio_xdma_c2hv(s->c, 0, v, 3, fx_cb, w) != 0 || fx_wait(s->c, w, done + 1, 5000) != 0) {
		CU_FAIL("a send, the receive or its completion failed");
		return false;
	}
	CU_ASSERT_EQUAL(w->last.status, 0);
	CU_ASSERT_EQUAL(w->last.len, 5000);
	CU_ASSERT_EQUAL(memcmp(in->p, out->p, 5000), 0);
	vpio_xdma_chan_get_stats(s->c, &st);
	if (st.stream_dropped != before) {
		CU_ASSERT_EQUAL(st.stream_dropped - before, 3000);
		CU_ASSERT_EQUAL(memcmp(in->p + 8192, out->p + 5000, 3000), 0);
		(*dropped)++;
		return st.stream_dropped - before == 3000;
	}
	for (i = 8192; i < 12288 && in->p[i] == 0xa5; i++)
		;
	CU_ASSERT_EQUAL(i, 12288); /* else the packet went into a buffer already returned */
	fx_c2h_expect(s->c, in->p + 12288, 4096, 3000, true);
	CU_ASSERT_EQUAL(memcmp(in->p + 12288, out->p + 5000, 3000), 0);
	return i == 12288;
}

/* The same with the next packet queued, many times: the drop count is
 * final when the completion comes (the engine was stopped first), and a
 * third descriptor that took nothing by that count was not written. */
static void test_vector_early_eop_repeat(void)
{
	struct fx_buf out, in;
	struct fx_cpl w = { 0 };
	struct fx_pair s;
	unsigned r, dropped = 0;

	CU_ASSERT_FATAL(fx_pair_open(&s, FX_STREAM, 0, NULL, false) && fx_buf_alloc(&out, 8000, 0) && fx_buf_alloc(&in, 3 * 4096 + 4096, 0));
	fx_fill(out.p, 8000, 11);
	for (r = 0; r < 300 && early_eop_round(&s, &out, &in, &w, &dropped); r++)
		;
	CU_ASSERT_EQUAL(r, 300);
	CU_ASSERT_EQUAL(w.errors, 0);
	if (r != 300)
		printf("\n    round %u of 300 failed (%u dropped the second packet before)\n", r, dropped);
	fx_buf_done(&out);
	fx_buf_done(&in);
	fx_pair_close(&s);
}

CU_TestInfo fx_stream_tests[] = { FX_T(test_packets), FX_T(test_short_and_long), FX_T(test_vector_early_eop),
				  FX_T(test_vector_early_eop_repeat),
				  CU_TEST_INFO_NULL };
