/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "queues": queue full (-EAGAIN, not logged) and recovery, doorbell
 * batching (delayed SQ doorbell, one CQ doorbell per poll, flush), shadow
 * doorbells, several qpairs on several threads, freeing a qpair with
 * commands in flight, reset with qpairs and data kept.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "func_nvme.h"

/* A qpair of 8 entries (fewer when CAP.MQES says so) holds 7 commands:
 * the 8th is -EAGAIN, not logged.  A request split into exactly as many
 * commands as the qpair holds fits when it is idle, is -EAGAIN while one
 * command is in flight, and fits again once that one completed. */
static void queue_full_round(const char *name)
{
	struct vpio_nvme_ctrlr *c = fn_attach(name, NULL);
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;
	struct fn_limits l;
	struct fn_io w[8], big = { 0, 0, 0 };
	uint8_t *buf = fn_gbuf(8 * 4096), *bbuf = NULL;
	uint32_t i, depth;

	if (c == NULL) {
		fn_gbuf_free(buf);
		return;
	}
	vpio_nvme_ctrlr_get_info(c, &in);
	depth = fn_fit(8, in.max_queue_size, "%s: qpair entries (CAP.MQES + 1)", in.name) - 1u;
	ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	qp = fn_qpair(c, 8, 0);
	if (ns == NULL || qp == NULL)
		goto out;
	fn_limits_get(ns, qp, &l);
	memset(w, 0, sizeof(w));
	CU_ASSERT_EQUAL(l.depth, depth);
	for (i = 0; i < depth; i++)
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, qp, buf + i * 4096, i, 1, fn_io_cb, &w[i], 0), 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_get_outstanding(qp), depth);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, qp, buf, 0, 1, fn_io_cb, &w[7], 0), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_flush(ns, qp, fn_io_cb, &w[7]), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0); /* flow control, not an error */
	vpio_test_log_release();
	CU_ASSERT_EQUAL(fn_drain(qp, 5000), 0);
	for (i = 0; i < depth; i++)
		CU_ASSERT(w[i].done == 1 && w[i].status == 0);
	/* the largest request: depth commands */
	bbuf = fn_gbuf((size_t)l.req_blocks * l.bs);
	CU_ASSERT_PTR_NOT_NULL(bbuf);
	if (bbuf != NULL) {
		CU_ASSERT_EQUAL(fn_read(ns, qp, bbuf, 0, l.req_blocks), 0);
		w[0].done = 0;
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, qp, buf, 0, 1, fn_io_cb, &w[0], 0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, qp, bbuf, 0, l.req_blocks, fn_io_cb, &big, 0), -EAGAIN);
		CU_ASSERT_EQUAL(fn_drain(qp, 5000), 0);
		CU_ASSERT_EQUAL(fn_read(ns, qp, bbuf, 0, l.req_blocks), 0);
		CU_ASSERT(w[0].done == 1 && big.done == 0);
	}
	CU_ASSERT_EQUAL(fn_read(ns, qp, buf, 0, 1), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
out:
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(buf);
	if (bbuf != NULL)
		fn_gbuf_free(bbuf);
}

static void test_queue_full(void)
{
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++)
		queue_full_round(g_fn_targets[t]);
}

/* SQ doorbell updates the device was given: MMIO, or shadow only. */
static uint64_t rings(const struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_qpair_stats st;

	vpio_nvme_qpair_get_stats(qp, &st);
	return st.sq_doorbells;
}

static void batch_round(struct vpio_nvme_ctrlr *c, bool delay)
{
	struct vpio_nvme_ns *ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_qpair_stats st;
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_qpair *qp;
	uint8_t *buf = fn_gbuf(16 * 4096);
	uint64_t r0, polls;
	int i, n, k;

	vpio_nvme_ctrlr_get_info(c, &in);
	vpio_nvme_qpair_opts_init(&o);
	o.delay_doorbell = delay;
	o.queue_size = 64 < in.max_queue_size ? 64 : in.max_queue_size;
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &qp), 0);
	/* 16 reads, or as many as the qpair holds */
	k = (int)fn_fit(16, vpio_nvme_qpair_get_depth(qp), "%s: reads in one batch", in.name);
	r0 = rings(qp);
	for (i = 0; i < k; i++)
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, qp, buf + i * 4096, i, 1, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(rings(qp) - r0, delay ? 0 : k);
	if (delay) {
		CU_ASSERT_EQUAL(vpio_nvme_qpair_flush(qp), 0); /* one doorbell for all */
		CU_ASSERT_EQUAL(rings(qp) - r0, 1);
		CU_ASSERT_EQUAL(vpio_nvme_qpair_flush(qp), 0); /* nothing new: no doorbell */
		CU_ASSERT_EQUAL(rings(qp) - r0, 1);
	}
	for (n = 0, polls = 0; n < k && polls < 10000000; polls++) {
		int rc = vpio_nvme_qpair_process_completions(qp, 0);

		CU_ASSERT(rc >= 0);
		n += rc > 0 ? rc : 0;
	}
	fn_gbuf_check();
	vpio_nvme_qpair_get_stats(qp, &st);
	CU_ASSERT_EQUAL(n, k);
	CU_ASSERT(st.cq_doorbells <= st.polls); /* at most one CQ doorbell per poll */
	if (!in.shadow_doorbells) /* coalesced: k + 0 held < depth, the CQ cannot fill */
		CU_ASSERT(st.cq_doorbells == 0 || (uint32_t)k * 2u >= vpio_nvme_qpair_get_depth(qp));
	CU_ASSERT_EQUAL(rings(qp) - r0, delay ? 1 : k);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
	fn_gbuf_free(buf);
}

/* Keep depth reads in flight for ios completions: every read completes
 * (no stall at any depth up to the queue size - 1); returns MMIO doorbell
 * writes per I/O. */
static double rate_round(struct vpio_nvme_ctrlr *c, struct vpio_nvme_ns *ns, uint32_t size, uint32_t depth,
			 bool delay, uint32_t ios, double *cq_rate)
{
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_qpair_stats st;
	struct vpio_nvme_qpair *qp;
	uint8_t *buf = fn_gbuf(4096);
	uint64_t polls = 0;
	uint32_t sub = 0, done = 0;
	int rc;

	vpio_nvme_qpair_opts_init(&o);
	o.delay_doorbell = delay;
	o.queue_size = size;
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &qp), 0);
	while (done < ios && polls++ < 200000000u) {
		while (sub < ios && vpio_nvme_qpair_get_outstanding(qp) < depth) {
			CU_ASSERT_EQUAL_FATAL(vpio_nvme_ns_cmd_read(ns, qp, buf, sub % 64u, 1, NULL, NULL, 0), 0);
			sub++;
		}
		rc = vpio_nvme_qpair_process_completions(qp, 0);
		CU_ASSERT_FATAL(rc >= 0);
		done += (uint32_t)rc;
	}
	CU_ASSERT_EQUAL(done, ios);
	fn_gbuf_check();
	vpio_nvme_qpair_get_stats(qp, &st);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
	fn_gbuf_free(buf);
	if (cq_rate != NULL)
		*cq_rate = (double)st.cq_doorbells / ios;
	return (double)st.mmio_doorbells / ios;
}

/* MMIO doorbell writes per I/O without shadow doorbells: about one (the SQ
 * tail) at QD 1, and few at QD 32 with batched SQ doorbells, since the CQ
 * head is rung only before the CQ could fill.  And no stall at depth
 * size - 1, on small and odd queue sizes too. */
static void test_doorbell_rate(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(FN_EMU_NODBBUF, NULL);
	struct vpio_nvme_ns *ns;
	static const uint32_t sizes[] = { 2, 3, 5, 16 };
	double r1, r32, cq1, cq32;
	unsigned i;

	if (c == NULL)
		return;
	ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	r1 = rate_round(c, ns, 256, 1, false, 20000, &cq1);
	r32 = rate_round(c, ns, 256, 32, true, 64000, &cq32);
	printf("\n    MMIO doorbells per I/O: %.3f at QD 1, %.4f at QD 32 (batched; CQ head %.4f) ", r1, r32, cq32);
	/* one SQ doorbell per command at QD 1, and the CQ head once per 255
	 * completions; at QD 32 the CQ head once per 223 or more (what the SQ
	 * side costs there depends on how many a poll reaps: the speed of the
	 * emulator's core) */
	CU_ASSERT(r1 <= 1.05);
	CU_ASSERT(cq1 <= 1.0 / 254);
	CU_ASSERT(cq32 <= 1.0 / 222);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rate_round(c, ns, sizes[i], sizes[i] - 1u, false, 2000, NULL);
		rate_round(c, ns, sizes[i], sizes[i] - 1u, true, 2000, NULL);
		rate_round(c, ns, sizes[i], 1, true, 500, NULL);
	}
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

static void test_doorbell_batching(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_real ? g_fn_targets[0] : FN_EMU_NODBBUF, NULL);
	struct vpio_nvme_ctrlr_info in;

	if (c == NULL)
		return;
	vpio_nvme_ctrlr_get_info(c, &in);
	if (!g_fn_real)
		CU_ASSERT_FALSE(in.shadow_doorbells);
	batch_round(c, true);
	batch_round(c, false);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

/* With Doorbell Buffer Config the device reads shadow doorbells, and MMIO
 * writes are skipped while its EventIdx says so. */
static void test_shadow_doorbells(void)
{
	struct vpio_emu_nvme_stats s0, s1;
	struct vpio_nvme_qpair_stats st;
	struct vpio_nvme_ctrlr_opts o;
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;
	uint8_t *buf = fn_gbuf(4096);
	int i;

	if ((c = fn_attach(FN_EMU_512, NULL)) == NULL) {
		fn_gbuf_free(buf);
		return;
	}
	vpio_nvme_ctrlr_get_info(c, &in);
	CU_ASSERT_TRUE(in.shadow_doorbells);
	ns = fn_ns(c, 1);
	qp = fn_qpair(c, 64, 0);
	vpio_emu_nvme_get_stats(fn_emu(c), &s0);
	for (i = 0; i < 2000; i++)
		CU_ASSERT_EQUAL(fn_read(ns, qp, buf, (uint64_t)i, 1), 0);
	vpio_emu_nvme_get_stats(fn_emu(c), &s1);
	vpio_nvme_qpair_get_stats(qp, &st);
	CU_ASSERT(s1.shadow_doorbells > s0.shadow_doorbells);
	CU_ASSERT_EQUAL(st.sq_doorbells, 2000);
	CU_ASSERT(st.mmio_doorbells < st.sq_doorbells + st.cq_doorbells); /* EventIdx saved MMIO writes */
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	/* opted out */
	vpio_nvme_ctrlr_opts_init(&o);
	o.no_shadow_doorbells = true;
	c = fn_attach(FN_EMU_512, &o);
	if (c != NULL) {
		vpio_nvme_ctrlr_get_info(c, &in);
		CU_ASSERT_FALSE(in.shadow_doorbells);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	}
	fn_gbuf_free(buf);
}

#define WORKERS 3
#define WORKER_BUF 65536u

struct worker {
	struct vpio_nvme_ctrlr *c;
	pthread_barrier_t *all_allocated;
	unsigned idx, nworkers;
	int ok;
};

/* One thread, one qpair: write/read/compare in its own eighth of the
 * namespace, 64 KiB per request or what fills the qpair.  Every worker
 * holds its qpair before any does I/O, so the qpairs exist all at once. */
static void *worker_fn(void *arg)
{
	struct worker *wk = arg;
	struct vpio_nvme_ns *ns = NULL;
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_qpair *qp = NULL;
	uint8_t *a = dma_guard_alloc(WORKER_BUF), *b = dma_guard_alloc(WORKER_BUF); /* not CUnit: other thread */
	struct fn_limits l;
	uint64_t first, lba;
	uint32_t n;
	int i, rc = -1;

	vpio_nvme_qpair_opts_init(&o);
	o.check_thread = true;
	if (a && b && vpio_nvme_ctrlr_get_ns(wk->c, vpio_nvme_ctrlr_first_active_ns(wk->c), &ns) == 0)
		rc = vpio_nvme_ctrlr_alloc_io_qpair(wk->c, &o, &qp);
	pthread_barrier_wait(wk->all_allocated);
	if (rc == 0) {
		fn_limits_get(ns, qp, &l);
		n = WORKER_BUF / l.bs < l.req_blocks ? WORKER_BUF / l.bs : l.req_blocks;
		/* worker k writes in the k-th of nworkers slices of the first half */
		first = vpio_nvme_ns_get_num_sectors(ns) / 2u / wk->nworkers * wk->idx;
		wk->ok = vpio_nvme_ns_get_num_sectors(ns) / 2u / wk->nworkers >= 8u * n;
		for (i = 0; i < (int)fn_iters(100) && wk->ok; i++) {
			lba = first + (uint64_t)(i % 8) * n;
			fn_fill(a, (size_t)n * l.bs, first + (uint64_t)i);
			wk->ok = fn_write(ns, qp, a, lba, n) == 0 && fn_read(ns, qp, b, lba, n) == 0 &&
				 memcmp(a, b, (size_t)n * l.bs) == 0;
		}
		vpio_nvme_ctrlr_free_io_qpair(qp);
	}
	if (!dma_guard_free(a) || !dma_guard_free(b))
		wk->ok = 0;
	return NULL;
}

/* Up to WORKERS threads with a qpair each, as many as the controller
 * granted I/O queue pairs. */
static void threads_round(const char *name)
{
	struct vpio_nvme_ctrlr *c = fn_attach(name, NULL);
	struct vpio_nvme_ctrlr_info in;
	pthread_barrier_t bar;
	struct worker wk[WORKERS];
	pthread_t t[WORKERS];
	unsigned i, nw;

	if (c == NULL)
		return;
	vpio_nvme_ctrlr_get_info(c, &in);
	nw = fn_fit(WORKERS, in.max_io_queues, "%s: threads with a qpair each (I/O queue pairs granted)",
		    in.name);
	CU_ASSERT_EQUAL_FATAL(pthread_barrier_init(&bar, NULL, nw), 0);
	for (i = 0; i < nw; i++) {
		wk[i] = (struct worker){ c, &bar, i, nw, 0 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, worker_fn, &wk[i]), 0);
	}
	for (i = 0; i < nw; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(wk[i].ok, 1);
	}
	pthread_barrier_destroy(&bar);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

static void test_threads(void)
{
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++)
		threads_round(g_fn_targets[t]);
}

static void test_free_with_outstanding(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);
	struct vpio_nvme_qpair *qp;
	struct fn_io w[16];
	uint8_t *buf = fn_gbuf(4096);
	int i, k;

	if (c == NULL) {
		fn_gbuf_free(buf);
		return;
	}
	qp = fn_qpair(c, 32, 0);
	if (qp == NULL) {
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
		fn_gbuf_free(buf);
		return;
	}
	k = (int)fn_fit(16, vpio_nvme_qpair_get_depth(qp), "%s: reads in flight", fn_name(c));
	memset(w, 0, sizeof(w));
	for (i = 0; i < k; i++)
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c)), qp, buf, 0, 1,
						      fn_io_cb, &w[i], 0), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
	for (i = 0; i < k; i++) /* each ended exactly once, by the device or the host */
		CU_ASSERT_EQUAL(w[i].done, 1);
	fn_gbuf_check();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(buf);
}

/* A reset keeps the qpair handle (it reconnects) and the data. */
static void test_reset_keeps_qpairs(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);
	struct vpio_nvme_qpair_stats st;
	struct vpio_nvme_ctrlr_stats cs;
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;
	uint8_t *a = fn_gbuf(8192), *b = fn_gbuf(8192);
	uint32_t n;

	if (c == NULL) {
		fn_gbuf_free(a);
		fn_gbuf_free(b);
		return;
	}
	ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	qp = fn_qpair(c, 32, 0);
	n = 8192u / vpio_nvme_ns_get_sector_size(ns);
	fn_fill(a, 8192, 99);
	CU_ASSERT_EQUAL(fn_write(ns, qp, a, 123, n), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(c), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(c), VPIO_NVME_CTRLR_READY);
	CU_ASSERT_EQUAL(fn_read(ns, qp, b, 123, n), 0);
	CU_ASSERT_EQUAL(memcmp(a, b, 8192), 0);
	vpio_nvme_qpair_get_stats(qp, &st);
	vpio_nvme_ctrlr_get_stats(c, &cs);
	CU_ASSERT_EQUAL(st.reconnects, 1);
	CU_ASSERT_EQUAL(cs.resets, 1);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(a);
	fn_gbuf_free(b);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

struct resetter {
	struct vpio_nvme_ctrlr *c;
	_Atomic int stop;
	uint64_t submitted, completed, ok, aborted, other, reconnects;
	int poll_errors;
};

static void count_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct resetter *r = arg;
	uint16_t st = cpl->status & 0xfffeu;

	r->completed++;
	r->ok += st == 0;
	r->aborted += st == VPIO_NVME_STATUS(VPIO_NVME_SCT_PATH, VPIO_NVME_SC_ABORTED_BY_HOST);
	r->other += st != 0 && st != VPIO_NVME_STATUS(VPIO_NVME_SCT_PATH, VPIO_NVME_SC_ABORTED_BY_HOST);
}

/* I/O at queue depth 8 until told to stop, through resets done by another
 * thread: -EAGAIN while one runs, ABORTED BY HOST for what it cut off. */
static void *io_through_resets(void *arg)
{
	struct resetter *r = arg;
	struct vpio_nvme_qpair *qp = NULL;
	struct vpio_nvme_ns *ns = NULL;
	uint8_t *buf = dma_guard_alloc(8 * 4096); /* not CUnit: other thread */
	struct vpio_nvme_qpair_stats st;
	uint64_t end;
	int rc;

	if (buf == NULL || vpio_nvme_ctrlr_get_ns(r->c, vpio_nvme_ctrlr_first_active_ns(r->c), &ns) != 0 ||
	    vpio_nvme_ctrlr_alloc_io_qpair(r->c, NULL, &qp) != 0) {
		r->poll_errors++;
		dma_guard_free(buf);
		return NULL;
	}
	while (!atomic_load(&r->stop)) {
		while (vpio_nvme_qpair_get_outstanding(qp) < 8 &&
		       vpio_nvme_ns_cmd_write(ns, qp, buf + (r->submitted % 8) * 4096, r->submitted % 64, 1, count_cb, r,
					      0) == 0)
			r->submitted++;
		rc = vpio_nvme_qpair_process_completions(qp, 0);
		r->poll_errors += rc < 0 && rc != -EAGAIN;
		r->poll_errors += rc > 0 && !dma_guard_ok(buf);
	}
	end = fn_now_us() + 5000000u;
	while (r->completed < r->submitted && fn_now_us() < end)
		vpio_nvme_qpair_process_completions(qp, 0);
	vpio_nvme_qpair_get_stats(qp, &st);
	r->reconnects = st.reconnects;
	vpio_nvme_ctrlr_free_io_qpair(qp);
	r->poll_errors += !dma_guard_free(buf);
	return NULL;
}

static void test_reset_from_other_thread(void)
{
	struct resetter r;
	pthread_t t;
	int i;

	memset(&r, 0, sizeof(r));
	r.c = fn_attach(g_fn_targets[0], NULL);
	if (r.c == NULL)
		return;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, io_through_resets, &r), 0);
	for (i = 0; i < (int)fn_iters(5); i++) {
		sleep_ms(20);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(r.c), 0);
	}
	sleep_ms(20);
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	CU_ASSERT(r.submitted > 0);
	CU_ASSERT_EQUAL(r.completed, r.submitted); /* each exactly once */
	CU_ASSERT_EQUAL(r.ok + r.aborted, r.completed);
	CU_ASSERT_EQUAL(r.other, 0);
	CU_ASSERT_EQUAL(r.poll_errors, 0);
	CU_ASSERT(r.reconnects >= 1 && r.reconnects <= fn_iters(5)); /* back-to-back resets may fold */
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(r.c), 0);
}

/* Bytes [from, to) of b all hold the guard pattern. */
static bool guard_intact(const unsigned char *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i] != 0xa5)
			return false;
	return true;
}

/*
 * An application built against older, shorter structs (doc/api.md): its
 * qpair options end after delay_doorbell and what follows in memory is
 * garbage (0xa5: sgl_mode would be refused if the library read it), so the
 * fields it does not know take their defaults; the getters write only its
 * bytes; options that were never initialized (opts_size 0) are refused.
 */
static void test_old_sized_structs(void)
{
	union {
		struct vpio_nvme_qpair_opts o;
		struct vpio_nvme_qpair_stats st;
		struct vpio_nvme_ctrlr_info in;
		unsigned char b[sizeof(struct vpio_nvme_ctrlr_info) + 64];
	} u;
	size_t old = offsetof(struct vpio_nvme_qpair_opts, timeout_ms);
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);
	struct vpio_nvme_qpair *qp = NULL, *qp2 = NULL;
	struct vpio_nvme_ns *ns;
	void *buf;

	if (c == NULL)
		return;
	memset(u.b, 0xa5, sizeof(u.b));
	CU_ASSERT_EQUAL(vpio_nvme_qpair_opts_init_sized(&u.o, old), 0);
	CU_ASSERT(guard_intact(u.b, old, sizeof(u.b)));
	CU_ASSERT_EQUAL(u.o.opts_size, old);
	CU_ASSERT_EQUAL(u.o.queue_size, 256);
	u.o.queue_size = 8;
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &u.o, &qp), 0);
	if (qp == NULL)
		goto out;
	CU_ASSERT_EQUAL(vpio_nvme_qpair_get_depth(qp), 7);
	ns = fn_ns(c, 1);
	buf = fn_gbuf(4096);
	CU_ASSERT_EQUAL(fn_read(ns, qp, buf, 0, 4096 / vpio_nvme_ns_get_sector_size(ns)), 0);
	fn_gbuf_free(buf);

	/* getters: an older caller's bytes only, and its size field says so */
	old = offsetof(struct vpio_nvme_qpair_stats, polls);
	memset(u.b, 0xa5, sizeof(u.b));
	CU_ASSERT_EQUAL(vpio_nvme_qpair_get_stats_sized(qp, &u.st, old), 0);
	CU_ASSERT(guard_intact(u.b, old, sizeof(u.b)));
	CU_ASSERT_EQUAL(u.st.stats_size, old);
	CU_ASSERT(u.st.submitted >= 1 && u.st.completed == u.st.submitted);
	old = offsetof(struct vpio_nvme_ctrlr_info, cap);
	memset(u.b, 0xa5, sizeof(u.b));
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_info_sized(c, &u.in, old), 0);
	CU_ASSERT(guard_intact(u.b, old, sizeof(u.b)));
	CU_ASSERT_EQUAL(strncmp(u.in.name, g_fn_targets[0], strcspn(g_fn_targets[0], "?")), 0);
	/* the whole struct (the macro) */
	memset(u.b, 0xa5, sizeof(u.b));
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_info(c, &u.in), 0);
	CU_ASSERT(guard_intact(u.b, sizeof(u.in), sizeof(u.b)));
	CU_ASSERT_EQUAL(u.in.info_size, sizeof(u.in));

	/* never initialized: refused with one line, nothing allocated */
	memset(&u.o, 0, sizeof(u.o));
	u.o.queue_size = 8;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &u.o, &qp2), -EINVAL);
	CU_ASSERT_PTR_NULL(qp2);
	CU_ASSERT(vpio_test_log_has("vpio_nvme_qpair_opts_init"));
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_stats_sized(c, (struct vpio_nvme_ctrlr_stats *)u.b, 3), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
out:
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

int fn_register_queues(void)
{
	VPIO_SUITE("queues", NULL, NULL);
	VPIO_TEST(test_queue_full);
	VPIO_TEST(test_doorbell_batching);
	if (!g_fn_real)
		VPIO_TEST(test_doorbell_rate);
	if (!g_fn_real) /* emulator counters */
		VPIO_TEST(test_shadow_doorbells);
	VPIO_TEST(test_threads);
	VPIO_TEST(test_free_with_outstanding);
	VPIO_TEST(test_reset_keeps_qpairs);
	VPIO_TEST(test_reset_from_other_thread);
	VPIO_TEST(test_old_sized_structs);
	return 0;
}
