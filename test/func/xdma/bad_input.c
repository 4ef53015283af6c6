/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every bad input: a negative errno, exactly one log line, nothing queued
 * or started, and the channel works afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "func_xdma.h"

/* rc must be want, with one error line (none for -EAGAIN). */
#define REFUSED(call, want)                                                                  \
	do {                                                                                 \
		vpio_test_log_capture();                                                     \
		CU_ASSERT_EQUAL((call), (want));                                             \
		CU_ASSERT_EQUAL(vpio_test_log_errors(), (want) == -EAGAIN ? 0u : 1u);       \
		vpio_test_log_release();                                                     \
	} while (0)

static void nothing_started(struct vpio_xdma_chan *ch)
{
	struct vpio_xdma_chan_stats st;

	vpio_xdma_chan_get_stats(ch, &st);
	CU_ASSERT_EQUAL(st.queued + st.in_flight, 0);
	CU_ASSERT_EQUAL(st.batches, 0);
}

static void test_null_and_direction(void)
{
	struct vpio_xdma_chan_info ci;
	struct iovec v = { NULL, 0 };
	struct vpio_xdma_dev *d;
	struct vpio_xdma_chan *h, *c;
	struct fx_pair p;
	struct fx_buf a;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 0, NULL, false) && fx_buf_alloc(&a, 8192, 0));
	h = p.h;
	c = p.c;
	REFUSED(vpio_xdma_h2c(NULL, 0, a.p, 4096, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_c2h(NULL, 0, a.p, 4096, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2cv(NULL, 0, &v, 1, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_c2hv(NULL, 0, &v, 1, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_poll(NULL, 0), -EINVAL);
	REFUSED(vpio_xdma_flush(NULL), -EINVAL);
	REFUSED(vpio_xdma_h2c_sync(NULL, 0, a.p, 4096), -EINVAL);
	REFUSED(vpio_xdma_chan_set_timeout(NULL, 5), -EINVAL);
	REFUSED(vpio_xdma_chan_get_info(NULL, &ci), -EINVAL);
	REFUSED(vpio_xdma_chan_get_info_sized(h, &ci, 4), -EINVAL);
	CU_ASSERT_EQUAL(vpio_xdma_chan_close(NULL), 0);
	CU_ASSERT_EQUAL(vpio_xdma_detach(NULL), 0);
	REFUSED(vpio_xdma_attach(NULL, NULL, &d), -EINVAL);
	/* the other direction */
	REFUSED(vpio_xdma_c2h(h, 0, a.p, 4096, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2c(c, 0, a.p, 4096, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_c2h_sync(h, 0, a.p, 4096, NULL), -EINVAL);
	/* NULL buffer, length 0, vectors */
	REFUSED(vpio_xdma_h2c(h, 0, NULL, 4096, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2c(h, 0, a.p, 0, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2cv(h, 0, NULL, 1, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2cv(h, 0, &v, 0, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2cv(h, 0, &v, (int)VPIO_XDMA_MAX_IOV + 1, NULL, NULL), -EINVAL);
	{
		struct iovec vv[2] = { { a.p, 4096 }, { a.p + 4096, 0 } };

		REFUSED(vpio_xdma_h2cv(h, 0, vv, 2, NULL, NULL), -EINVAL);
	}
	nothing_started(h);
	nothing_started(c);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 0, a.p, 4096), 0);
	fx_buf_done(&a);
	fx_pair_close(&p);
}

static void test_card_range_and_memory(void)
{
	uint8_t *plain = aligned_alloc(4096, 16384);
	struct vpio_xdma_chan *h, *c;
	struct fx_pair p; /* 16 MiB of card memory */
	struct fx_buf a;

	CU_ASSERT_FATAL(plain != NULL && fx_pair_open(&p, FX_MM, 0, NULL, false) && fx_buf_alloc(&a, 8192, 0));
	h = p.h;
	c = p.c;
	REFUSED(vpio_xdma_h2c(h, (16u << 20) - 4095, a.p, 4096, NULL, NULL), -ERANGE);
	REFUSED(vpio_xdma_c2h(c, 16u << 20, a.p, 1, NULL, NULL), -ERANGE);
	REFUSED(vpio_xdma_c2h(c, UINT64_MAX - 100, a.p, 4096, NULL, NULL), -ERANGE);
	/* unregistered memory, and a buffer that runs past registered memory */
	REFUSED(vpio_xdma_h2c(h, 0, plain, 4096, NULL, NULL), -EFAULT);
	CU_ASSERT_EQUAL_FATAL(vpio_mem_register(plain, 8192), 0);
	REFUSED(vpio_xdma_c2h(c, 0, plain + 4096, 8192, NULL, NULL), -EFAULT);
	CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(c, 0, plain + 4096, 4096, NULL), 0);
	vpio_mem_unregister(plain, 8192);
	free(plain);
	nothing_started(h);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, (16u << 20) - 4096, a.p, 4096), 0);
	fx_buf_done(&a);
	fx_pair_close(&p);
}

/* An engine with 64-byte address alignment and 4-byte granularity. */
static void test_alignment(void)
{
	struct vpio_xdma_chan *h;
	struct fx_pair p;
	struct fx_buf a, b;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_ALIGN, 0, NULL, true) && fx_buf_alloc(&a, 8192, 0) &&
			fx_buf_alloc(&b, 8192, 4));
	h = p.h;
	/* host and card differ modulo 64 */
	REFUSED(vpio_xdma_h2c(h, 0, a.p + 4, 64, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2c(h, 32, a.p, 64, NULL, NULL), -EINVAL);
	/* length or start not a multiple of 4 */
	REFUSED(vpio_xdma_h2c(h, 0, a.p, 66, NULL, NULL), -EINVAL);
	REFUSED(vpio_xdma_h2c(h, 66, a.p + 66, 64, NULL, NULL), -EINVAL);
	{
		/* the second element lands at card 64 + 60: its host start must agree */
		struct iovec v[2] = { { a.p, 60 }, { a.p + 128, 64 } };

		REFUSED(vpio_xdma_h2cv(h, 0, v, 2, NULL, NULL), -EINVAL);
		v[1].iov_base = a.p + 124;
		CU_ASSERT_EQUAL(vpio_xdma_h2cv(h, 0, v, 2, NULL, NULL), 0);
	}
	/* agreeing modulo 64, multiples of 4: fine, also off a 64-byte host start */
	CU_ASSERT_EQUAL(vpio_xdma_h2c(h, 4, b.p, 128, NULL, NULL), 0);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 68, b.p + 64, 256), 0);
	fx_buf_done(&a);
	fx_buf_done(&b);
	fx_pair_close(&p);
}

static void test_stream_and_limits(void)
{
	struct vpio_xdma_chan_opts o = fx_opts(0);
	struct vpio_xdma_chan *h, *small;
	struct fx_pair st, mm;
	struct fx_buf a;

	o.ring_size = 128;
	o.max_desc_len = 4096;
	o.max_transfers = 2;
	CU_ASSERT_FATAL(fx_pair_open(&st, FX_STREAM, 0, NULL, true) && fx_pair_open(&mm, FX_MM, 0, &o, true) &&
			fx_buf_alloc(&a, 1u << 20, 0));
	h = st.h;
	small = mm.h;
	/* a stream has no card address */
	REFUSED(vpio_xdma_h2c(h, 4096, a.p, 4096, NULL, NULL), -EINVAL);
	/* more descriptors than the ring has: -E2BIG, with both numbers */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_h2c(small, 0, a.p, 1u << 20, NULL, NULL), -E2BIG);
	CU_ASSERT(vpio_test_log_has("needs 256 descriptors") && vpio_test_log_has("ring's 128"));
	vpio_test_log_release();
	/* full now: -EAGAIN, not logged; fine once drained */
	CU_ASSERT_EQUAL(vpio_xdma_h2c(small, 0, a.p, 100 * 4096, NULL, NULL), 0);
	REFUSED(vpio_xdma_h2c(small, 0, a.p, 29 * 4096, NULL, NULL), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_xdma_h2c(small, 0, a.p, 28 * 4096, NULL, NULL), 0);
	REFUSED(vpio_xdma_h2c(small, 0, a.p, 4096, NULL, NULL), -EAGAIN); /* 2 transfers */
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(small, 0, a.p, 4096), 0);
	fx_buf_done(&a);
	fx_pair_close(&st);
	fx_pair_close(&mm);
}

struct reent {
	struct vpio_xdma_chan *ch;
	void *buf;
	int poll_rc, close_rc, sync_rc;
};

static void reent_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct reent *r = arg;

	(void)cpl;
	vpio_test_log_capture();
	r->poll_rc = vpio_xdma_poll(r->ch, 0);
	r->close_rc = vpio_xdma_chan_close(r->ch);
	r->sync_rc = vpio_xdma_h2c_sync(r->ch, 0, r->buf, 4096);
	vpio_test_log_release();
}

/* From a callback: poll, close and sync transfers of its channel are refused. */
static void test_from_callback(void)
{
	struct vpio_xdma_chan *h;
	struct reent r = { 0 };
	struct fx_pair p;
	struct fx_buf a;
	uint64_t end;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_MM, 0, NULL, true) && fx_buf_alloc(&a, 4096, 0));
	h = p.h;
	r.ch = h;
	r.buf = a.p;
	CU_ASSERT_EQUAL(vpio_xdma_h2c(h, 0, a.p, 4096, reent_cb, &r), 0);
	end = fx_now_ms() + 5000;
	while (r.poll_rc == 0 && fx_now_ms() < end)
		vpio_xdma_poll(h, 0);
	CU_ASSERT_EQUAL(r.poll_rc, -EBUSY);
	CU_ASSERT_EQUAL(r.close_rc, -EBUSY);
	CU_ASSERT_EQUAL(r.sync_rc, -EBUSY);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 0, a.p, 4096), 0);
	fx_buf_done(&a);
	fx_pair_close(&p);
}

CU_TestInfo fx_bad_input_tests[] = { FX_T(test_null_and_direction), FX_T(test_card_range_and_memory),
				     FX_T(test_alignment), FX_T(test_stream_and_limits), FX_T(test_from_callback),
				     CU_TEST_INFO_NULL };
