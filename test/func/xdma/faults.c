/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every injected fault: the transfer the engine was on ends with an error
 * (-EIO, or -ETIMEDOUT when nothing says so), those behind it on the
 * engine with -ECANCELED, one line decodes what happened, and the channel
 * goes on: the next transfer succeeds and its data is right.  With errwb=0
 * the card writes no writeback when an error stops it (as seen on real
 * hardware for some errors): the timeout finds it, and Status still says
 * what it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "func_xdma.h"

#define TIMEOUT_MS 100u

struct fcase {
	enum vpio_emu_xdma_fault fault;
	uint64_t param;
	int want;
	const char *h2c_log, *c2h_log; /* in the error line */
	unsigned n;			/* transfers in the batch */
};

/* Transfers of 4 KiB from slot i of a 4-slot buffer. */
static int xfer(struct vpio_xdma_chan *ch, bool c2h, struct fx_buf *b, unsigned i, struct fx_cpl *w)
{
	return c2h ? vpio_xdma_c2h(ch, i * 4096, b->p + i * 4096, 4096, fx_cb, &w[i])
		   : vpio_xdma_h2c(ch, i * 4096, b->p + i * 4096, 4096, fx_cb, &w[i]);
}

static void wait_all(struct vpio_xdma_chan *ch, struct fx_cpl *w, unsigned n)
{
	uint64_t end = fx_now_ms() + 5000;
	unsigned done = 0;

	while (done < n && fx_now_ms() < end) {
		CU_ASSERT(vpio_xdma_poll(ch, 0) >= 0);
		done = 0;
		for (unsigned i = 0; i < n; i++)
			done += w[i].done;
	}
	CU_ASSERT_EQUAL(done, n);
}

/* After a fault: a clean round trip through both channels. */
static void goes_on(struct vpio_xdma_chan *h, struct vpio_xdma_chan *c, struct fx_buf *b)
{
	struct fx_buf back;

	CU_ASSERT_FATAL(fx_buf_alloc(&back, 4096, 0));
	fx_fill(b->p, 4096, fx_rand());
	/* a loaded machine may starve the engine thread longer than the
	 * tests' short timeout: a generous one for the clean round trip */
	vpio_xdma_chan_set_timeout(h, 10000);
	vpio_xdma_chan_set_timeout(c, 10000);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 0x8000, b->p, 4096), 0);
	CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(c, 0x8000, back.p, 4096, NULL), 0);
	CU_ASSERT_EQUAL(memcmp(back.p, b->p, 4096), 0);
	vpio_xdma_chan_set_timeout(h, TIMEOUT_MS);
	vpio_xdma_chan_set_timeout(c, TIMEOUT_MS);
	fx_buf_done(&back);
}

/* Inject f on one engine, queue three transfers as one batch. */
static void one_case(struct vpio_xdma_dev *d, struct vpio_xdma_chan **ch, const struct fcase *f, bool c2h,
		     struct fx_buf *b)
{
	struct fx_cpl w[3] = { { 0 } };
	const char *want_log = c2h ? f->c2h_log : f->h2c_log;
	unsigned n = f->n;

	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(fx_emu(d), c2h, 0, f->fault, f->param), 0);
	vpio_test_log_capture();
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_EQUAL(xfer(ch[c2h], c2h, b, i, w), 0);
	wait_all(ch[c2h], w, n);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT(vpio_test_log_has(want_log));
	if (!vpio_test_log_has(want_log))
		printf("\n    fault %d %s: wanted '%s' in: %s", (int)f->fault, c2h ? "C2H" : "H2C", want_log,
		       vpio_test_log_buf.text);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(w[0].last.status, f->want);
	for (unsigned i = 1; i < n; i++)
		CU_ASSERT_EQUAL(w[i].last.status, -ECANCELED);
	goes_on(ch[0], ch[1], b);
}

static void run_cases(const char *card, const struct fcase *cases, size_t n)
{
	struct vpio_xdma_chan_opts o = fx_opts(TIMEOUT_MS);
	struct vpio_xdma_chan_stats st[2];
	struct vpio_xdma_chan *ch[2];
	unsigned failed = 0;
	struct fx_pair p;
	struct fx_buf b;

	CU_ASSERT_FATAL(fx_pair_open(&p, card, 0, &o, false) && fx_buf_alloc(&b, 4 * 4096, 0));
	ch[0] = p.h;
	ch[1] = p.c;
	for (size_t i = 0; i < n; i++) {
		one_case(p.d, ch, &cases[i], false, &b);
		one_case(p.d, ch, &cases[i], true, &b);
		failed += cases[i].n;
	}
	for (int k = 0; k < 2; k++) {
		vpio_xdma_chan_get_stats(ch[k], &st[k]);
		CU_ASSERT_EQUAL(st[k].engine_errors + st[k].timeouts, n);
		CU_ASSERT_EQUAL(st[k].failed, failed);
	}
	fx_buf_done(&b);
	fx_pair_close(&p);
}

static const struct fcase g_errwb[] = {
	{ VPIO_EMU_XDMA_FAULT_DMA, 0, -EIO, "read error (host): unsupported request", "read error (card): slave error", 3 },
	{ VPIO_EMU_XDMA_FAULT_DESC, 0, -EIO, "magic stopped (bad descriptor), descriptor error: unsupported request",
	  "magic stopped (bad descriptor), descriptor error: unsupported request", 3 },
	{ VPIO_EMU_XDMA_FAULT_MAGIC, 0, -EIO, "Status 0x00000010 (magic stopped", "Status 0x00000010 (magic stopped", 3 },
	/* one transfer: a later writeback would overwrite the corrupt word */
	{ VPIO_EMU_XDMA_FAULT_CORRUPT_WB, 0, -EIO, "corrupt writeback word 0x7f000001", "corrupt writeback word 0x7f000001", 1 },
	{ VPIO_EMU_XDMA_FAULT_CORRUPT_WB, 0x00ffffff, -EIO, "corrupt writeback word 0x00ffffff (chain of 1",
	  "corrupt writeback word 0x00ffffff (chain of 1", 1 },
	{ VPIO_EMU_XDMA_FAULT_STUCK, 0, -ETIMEDOUT, "no progress for 100 ms", "no progress for 100 ms", 3 },
	{ VPIO_EMU_XDMA_FAULT_DROP_WB, 3, -ETIMEDOUT, "3 of 3 descriptors done", "3 of 3 descriptors done", 3 },
};

/* No writeback on an error stop: the timeout finds it, Status says what. */
static const struct fcase g_no_errwb[] = {
	{ VPIO_EMU_XDMA_FAULT_DMA, 0, -ETIMEDOUT, "no progress for 100 ms (stuck engine, or a lost writeback); Status 0x00000200 (read error (host): unsupported request)",
	  "Status 0x00000400 (read error (card): slave error)", 3 },
	{ VPIO_EMU_XDMA_FAULT_DESC, 0, -ETIMEDOUT, "Status 0x00080010", "Status 0x00080010", 3 },
	{ VPIO_EMU_XDMA_FAULT_MAGIC, 0, -ETIMEDOUT, "Status 0x00000010", "Status 0x00000010", 3 },
};

static void test_faults_errwb(void)
{
	run_cases(FX_FAULT, g_errwb, sizeof(g_errwb) / sizeof(g_errwb[0]));
}

static void test_faults_no_errwb(void)
{
	run_cases(FX_FAULT_NOWB, g_no_errwb, sizeof(g_no_errwb) / sizeof(g_no_errwb[0]));
}

/* A lost writeback that a later one covers changes nothing; transfers
 * queued behind a failed batch (not yet on the engine) run normally. */
static void test_covered_and_queued(void)
{
	struct vpio_xdma_chan_opts o = fx_opts(10000);
	struct fx_cpl w[4] = { { 0 } };
	struct vpio_xdma_chan *h;
	struct fx_pair p;
	struct fx_buf b;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_FAULT, 0, &o, true) && fx_buf_alloc(&b, 4 * 4096, 0));
	h = p.h;
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(fx_emu(p.d), false, 0, VPIO_EMU_XDMA_FAULT_DROP_WB, 1), 0);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(xfer(h, false, &b, i, w), 0);
	wait_all(h, w, 3);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(w[i].last.status, 0);
	/* stuck with one on the engine and three queued behind it */
	memset(w, 0, sizeof(w));
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(fx_emu(p.d), false, 0, VPIO_EMU_XDMA_FAULT_STUCK, 0), 0);
	vpio_xdma_chan_set_timeout(h, TIMEOUT_MS);
	CU_ASSERT_EQUAL(xfer(h, false, &b, 0, w), 0);
	CU_ASSERT_EQUAL(vpio_xdma_poll(h, 0), 0);
	for (unsigned i = 1; i < 4; i++)
		CU_ASSERT_EQUAL(xfer(h, false, &b, i, w), 0);
	vpio_test_log_capture();
	wait_all(h, w, 1);
	vpio_xdma_chan_set_timeout(h, 10000);
	wait_all(h, w, 4);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(w[0].last.status, -ETIMEDOUT);
	for (unsigned i = 1; i < 4; i++)
		CU_ASSERT_EQUAL(w[i].last.status, 0);
	fx_buf_done(&b);
	fx_pair_close(&p);
}

/* Stream engines: a C2H stream DMA fault and a stuck H2C stream. */
static void test_stream_faults(void)
{
	struct vpio_xdma_chan_opts o = fx_opts(TIMEOUT_MS);
	struct vpio_xdma_chan *h, *c;
	struct fx_pair p;
	struct fx_buf a, b;

	CU_ASSERT_FATAL(fx_pair_open(&p, FX_SFAULT, 0, &o, false) && fx_buf_alloc(&a, 4096, 0) &&
			fx_buf_alloc(&b, 4096, 0));
	h = p.h;
	c = p.c;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(fx_emu(p.d), true, 0, VPIO_EMU_XDMA_FAULT_DMA, 0), 0);
	CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(c, 0, b.p, 4096, NULL), -ETIMEDOUT);
	CU_ASSERT(vpio_test_log_has("read error (card): slave error"));
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(fx_emu(p.d), false, 0, VPIO_EMU_XDMA_FAULT_STUCK, 0), 0);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 0, a.p, 4096), -ETIMEDOUT);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	/* both go on */
	vpio_xdma_chan_set_timeout(h, 10000);
	vpio_xdma_chan_set_timeout(c, 10000);
	fx_fill(a.p, 4096, 3);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 0, a.p, 4096), 0);
	fx_c2h_expect(c, b.p, 4096, 4096, true);
	CU_ASSERT_EQUAL(memcmp(a.p, b.p, 4096), 0);
	fx_buf_done(&a);
	fx_buf_done(&b);
	fx_pair_close(&p);
}

CU_TestInfo fx_faults_tests[] = { FX_T(test_faults_errwb), FX_T(test_faults_no_errwb), FX_T(test_covered_and_queued),
				  FX_T(test_stream_faults), CU_TEST_INFO_NULL };
