/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Submission rules on a channel in plain memory (no device: submission
 * never touches it): the engine's alignment and granularity for
 * memory-mapped and stream engines, card memory range, vectors, slots,
 * and that a refused transfer changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xdma_ut.h"

struct fake_chan {
	struct vpio_xdma_chan ch;
	struct xdma_xfer xfers[4];
};

static bool fake_chan(struct fake_chan *f, bool stream, uint32_t align, uint32_t gran)
{
	memset(f, 0, sizeof(*f));
	if (!ut_ring(&f->ch.ring, 128, false))
		return false;
	f->ch.dir = VPIO_XDMA_H2C;
	f->ch.eng = (struct vpio_xdma_engine_info){ .present = true, .stream = stream, .addr_align = align,
						    .len_gran = gran, .addr_bits = 64 };
	f->ch.xfers = f->xfers;
	f->ch.xmask = 3;
	f->ch.card_lo = 0x1000;
	f->ch.card_hi = 0x1000 + (1u << 20);
	f->ch.build = (struct xdma_build){ .stream = stream, .max_desc_len = 4096, .addr_bits = 64, .xlate = ut_xlate,
					   .name = "fake" };
	strcpy(f->ch.label, "fake H2C 0");
	return true;
}

struct rcase {
	bool stream;
	uint64_t card;
	size_t off, len;
	int rc;
};

/* Memory-mapped: 64-byte alignment, 4-byte granularity, card memory
 * [0x1000, 0x1000 + 1 MiB).  Stream: 64-byte alignment, 8-byte
 * granularity. */
static const struct rcase g_cases[] = {
	{ false, 0x1000, 0, 64, 0 },
	{ false, 0x1004, 4, 64, 0 },	     /* equal modulo 64 */
	{ false, 0x1000, 4, 64, -EINVAL },   /* host 4, card 0 modulo 64 */
	{ false, 0x1040, 32, 64, -EINVAL },
	{ false, 0x1000, 0, 66, -EINVAL },   /* length not a multiple of 4 */
	{ false, 0x1002, 2, 64, -EINVAL },   /* start not a multiple of 4 */
	{ false, 0x1000, 0, 0, -EINVAL },
	{ false, 0xffc, 4092, 8, -ERANGE },  /* starts below card memory */
	{ false, 0x1000 + (1u << 20) - 64, 0, 64, 0 },
	{ false, 0x1000 + (1u << 20) - 64, 0, 128, -ERANGE },
	{ false, UINT64_MAX - 63, 0, 128, -ERANGE },
	{ true, 0, 0, 64, 0 },
	{ true, 0, 128, 8, 0 },
	{ true, 0, 8, 64, -EINVAL },	     /* not 64-byte aligned */
	{ true, 0, 64, 12, -EINVAL },	     /* not a multiple of 8 */
	{ true, 0x40, 0, 64, -EINVAL },	     /* a card address */
};

/* The cases of one mode: the rc, one log line when refused, nothing
 * changed. */
static void run_cases(bool stream)
{
	uint8_t *buf = aligned_alloc(4096, 8192);
	struct fake_chan f;

	CU_ASSERT_FATAL(buf && fake_chan(&f, stream, 64, stream ? 8 : 4));
	for (size_t i = 0; i < sizeof(g_cases) / sizeof(g_cases[0]); i++) {
		const struct rcase *c = &g_cases[i];
		uint32_t tail = f.ch.ring.tail, xt = f.ch.x_tail;
		int rc;

		if (c->stream != stream)
			continue;
		vpio_test_log_capture();
		rc = vpio_xdma_h2c(&f.ch, c->card, buf + c->off, c->len, NULL, NULL);
		CU_ASSERT_EQUAL(rc, c->rc);
		if (rc != c->rc)
			printf("\n    case %zu: %d, not %d", i, rc, c->rc);
		CU_ASSERT_EQUAL(vpio_test_log_errors(), c->rc != 0);
		vpio_test_log_release();
		CU_ASSERT(c->rc == 0 || (f.ch.ring.tail == tail && f.ch.x_tail == xt));
		/* forget what was queued */
		f.ch.ring.head = f.ch.ring.tail;
		f.ch.x_head = f.ch.x_run = f.ch.x_tail;
	}
	ut_ring_free(&f.ch.ring);
	free(buf);
}

static void test_mm_alignment(void)
{
	run_cases(false);
}

static void test_stream_alignment(void)
{
	run_cases(true);
}

/* Vector elements: each at its card position; slots; direction. */
static void test_vectors_and_slots(void)
{
	uint8_t *buf = aligned_alloc(4096, 16384);
	struct fake_chan f;
	struct iovec v[3];

	CU_ASSERT_FATAL(buf && fake_chan(&f, false, 16, 1));
	/* element 1 lands at card 0x1000 + 20: host must agree modulo 16 */
	v[0] = (struct iovec){ buf, 20 };
	v[1] = (struct iovec){ buf + 4096 + 4, 30 };
	v[2] = (struct iovec){ buf + 8192 + 2, 10 };
	CU_ASSERT_EQUAL(vpio_xdma_h2cv(&f.ch, 0x1000, v, 3, NULL, NULL), 0);
	CU_ASSERT_EQUAL(f.ch.ring.tail, 3);
	CU_ASSERT_EQUAL(f.xfers[0].len, 60);
	CU_ASSERT_EQUAL(f.xfers[0].ndesc, 3);
	v[1].iov_base = buf + 4096 + 8;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_h2cv(&f.ch, 0x1000, v, 3, NULL, NULL), -EINVAL);
	CU_ASSERT(vpio_test_log_has("buffer 1"));
	/* the other direction */
	CU_ASSERT_EQUAL(vpio_xdma_c2h(&f.ch, 0x1000, buf, 64, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	/* four slots: the fifth is -EAGAIN, silently */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(vpio_xdma_h2c(&f.ch, 0x1000, buf, 64, NULL, NULL), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_h2c(&f.ch, 0x1000, buf, 64, NULL, NULL), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(f.ch.x_tail, 4);
	ut_ring_free(&f.ch.ring);
	free(buf);
}

CU_TestInfo ut_submit_tests[] = { UT_T(test_mm_alignment), UT_T(test_stream_alignment),
				    UT_T(test_vectors_and_slots), CU_TEST_INFO_NULL };
