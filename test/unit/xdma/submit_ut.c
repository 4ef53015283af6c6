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
	uint64_t card;
	size_t off, len;
	int rc;
};

/* Each case: the rc, one log line when refused, nothing changed. */
static void run_cases(struct fake_chan *f, uint8_t *buf, const struct rcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t tail = f->ch.ring.tail, xt = f->ch.x_tail;
		int rc;

		vpio_test_log_capture();
		rc = vpio_xdma_h2c(&f->ch, c[i].card, buf + c[i].off, c[i].len, NULL, NULL);
		CU_ASSERT_EQUAL(rc, c[i].rc);
		if (rc != c[i].rc)
			printf("\n    case %zu: card 0x%llx off %zu len %zu: %d, not %d", i, (unsigned long long)c[i].card,
			       c[i].off, c[i].len, rc, c[i].rc);
		CU_ASSERT_EQUAL(vpio_test_log_errors(), c[i].rc != 0 && c[i].rc != -EAGAIN);
		vpio_test_log_release();
		if (c[i].rc != 0) {
			CU_ASSERT_EQUAL(f->ch.ring.tail, tail);
			CU_ASSERT_EQUAL(f->ch.x_tail, xt);
		}
		/* forget what was queued */
		f->ch.ring.head = f->ch.ring.tail;
		f->ch.x_head = f->ch.x_run = f->ch.x_tail;
	}
}

static void test_mm_alignment(void)
{
	static const struct rcase cases[] = {
		{ 0x1000, 0, 64, 0 },
		{ 0x1004, 4, 64, 0 },	   /* equal modulo 64 */
		{ 0x1000, 4, 64, -EINVAL }, /* host 4, card 0 modulo 64 */
		{ 0x1040, 32, 64, -EINVAL },
		{ 0x1000, 0, 66, -EINVAL }, /* length not a multiple of 4 */
		{ 0x1002, 2, 64, -EINVAL }, /* start not a multiple of 4 */
		{ 0x1000, 0, 0, -EINVAL },
		{ 0xffc, 4092, 8, -ERANGE }, /* starts below card memory */
		{ 0x1000 + (1u << 20) - 64, 0, 64, 0 },
		{ 0x1000 + (1u << 20) - 64, 0, 128, -ERANGE },
		{ UINT64_MAX - 63, 0, 128, -ERANGE },
	};
	uint8_t *buf = aligned_alloc(4096, 8192);
	struct fake_chan f;

	CU_ASSERT_FATAL(buf && fake_chan(&f, false, 64, 4));
	run_cases(&f, buf, cases, sizeof(cases) / sizeof(cases[0]));
	ut_ring_free(&f.ch.ring);
	free(buf);
}

static void test_stream_alignment(void)
{
	static const struct rcase cases[] = {
		{ 0, 0, 64, 0 },
		{ 0, 128, 8, 0 },
		{ 0, 8, 64, -EINVAL },	  /* not 64-byte aligned */
		{ 0, 64, 12, -EINVAL },	  /* not a multiple of 8 */
		{ 0x40, 0, 64, -EINVAL }, /* a card address */
	};
	uint8_t *buf = aligned_alloc(4096, 8192);
	struct fake_chan f;

	CU_ASSERT_FATAL(buf && fake_chan(&f, true, 64, 8));
	run_cases(&f, buf, cases, sizeof(cases) / sizeof(cases[0]));
	ut_ring_free(&f.ch.ring);
	free(buf);
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

int ut_register_submit(void)
{
	VPIO_SUITE("xdma_submit", NULL, NULL);
	VPIO_TEST(test_mm_alignment);
	VPIO_TEST(test_stream_alignment);
	VPIO_TEST(test_vectors_and_slots);
	return 0;
}
