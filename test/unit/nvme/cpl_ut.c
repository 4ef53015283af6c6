/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the completion path (lib/nvme/nvme_qpair_core.c) on a qpair in plain memory: phase tags and wrap, one CQ
 * doorbell coalescing, the bound on entries per call, and every kind of bad
 * completion (cid out of range, not outstanding, duplicated, stale
 * generation, wrong SQ, impossible SQ head), split requests, cancellation,
 * and the shadow doorbell / EventIdx arithmetic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

#define N 8 /* entries: 7 requests */

/* Submit one fake command (no data) and return its cid. */
static uint16_t submit(struct ut_qpair *u, struct ut_done *d)
{
	struct vpio_nvme_qpair *qp = &u->qp;
	struct nvme_req *req = nvme_req_get(qp);

	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	CU_ASSERT_FATAL(!nvme_sq_full(qp, qp->sq_tail));
	memset(&qp->sq[qp->sq_tail], 0, sizeof(qp->sq[0]));
	qp->sq[qp->sq_tail].cid = req->cid;
	req->cb = ut_done_cb;
	req->cb_arg = d;
	nvme_qpair_commit(qp, req, nvme_sq_next(qp, qp->sq_tail), 1);
	return req->cid;
}

static void test_drain_basic(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done d[3] = { { 0, 0 } };
	uint16_t tail = 0, cid[3];
	uint8_t phase = 1;
	int i;

	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 0); /* empty: no doorbell */
	CU_ASSERT_EQUAL(u->qp.stats.cq_doorbells, 0);
	for (i = 0; i < 3; i++)
		cid[i] = submit(u, &d[i]);
	CU_ASSERT_EQUAL(u->sq_db, 3); /* not delayed: rung per command */
	CU_ASSERT_EQUAL(u->qp.stats.sq_doorbells, 3);
	CU_ASSERT_EQUAL(u->qp.outstanding, 3);
	ut_post(u, &tail, &phase, cid[1], 2, 0);
	ut_post(u, &tail, &phase, cid[0], 3, VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD));
	ut_post(u, &tail, &phase, cid[2], 3, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 3);
	CU_ASSERT(d[0].calls == 1 && d[1].calls == 1 && d[2].calls == 1);
	CU_ASSERT_EQUAL(d[0].status, VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(u->cq_db, 0); /* coalesced: the CQ cannot fill yet */
	CU_ASSERT_EQUAL(u->qp.stats.cq_doorbells, 0);
	CU_ASSERT_EQUAL(u->qp.cq_unrung, 3);
	CU_ASSERT_EQUAL(u->qp.sq_head, 3);
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 0);
	ut_qpair_free(u);
}

/* Many rounds around the ring: the phase flips at every wrap. */
static void test_phase_wrap(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0, cid;
	uint8_t phase = 1;
	int i;

	for (i = 0; i < 5 * N + 3; i++) {
		cid = submit(u, &d);
		ut_post(u, &tail, &phase, cid, u->qp.sq_tail, 0);
		CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	}
	CU_ASSERT_EQUAL(d.calls, 5 * N + 3);
	CU_ASSERT_EQUAL(u->qp.cq_head, tail);
	CU_ASSERT_EQUAL(u->qp.phase, phase);
	ut_qpair_free(u);
}

static void test_max_per_call(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0, cid[5];
	uint8_t phase = 1;
	int i;

	for (i = 0; i < 5; i++)
		cid[i] = submit(u, &d);
	for (i = 0; i < 5; i++)
		ut_post(u, &tail, &phase, cid[i], 5, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 2), 2);
	CU_ASSERT_EQUAL(u->cq_db, 0); /* 2 unacknowledged + 3 held < 7 */
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 100), 3); /* capped at the depth */
	CU_ASSERT_EQUAL(d.calls, 5);
	ut_qpair_free(u);
}

static void test_bogus_completions(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done a = { 0, 0 }, b = { 0, 0 };
	uint16_t tail = 0, ca, cb, stale;
	uint8_t phase = 1;

	ca = submit(u, &a);
	vpio_test_log_capture();
	ut_post(u, &tail, &phase, (uint16_t)(ca | 7u), 1, 0); /* index 7 >= 7 requests */
	ut_post(u, &tail, &phase, (uint16_t)(ca + 1u), 1, 0);  /* a request not outstanding */
	ut_post(u, &tail, &phase, ca, 1, 0);
	ut_post(u, &tail, &phase, ca, 1, 0);                   /* duplicate */
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(u->qp.err_stats.bogus_cpls, 3);
	CU_ASSERT_EQUAL(u->qp.cq_head, 4); /* bad entries are consumed */
	/* the slot is reused with a new generation: the old cid is stale */
	stale = ca;
	cb = submit(u, &b);
	CU_ASSERT_EQUAL(cb & u->qp.cid_mask, stale & u->qp.cid_mask);
	CU_ASSERT_NOT_EQUAL(cb, stale);
	ut_post(u, &tail, &phase, stale, 2, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 0);
	CU_ASSERT_EQUAL(b.calls, 0);
	/* wrong SQ id */
	ut_post(u, &tail, &phase, cb, 2, 0);
	u->cq[(tail + N - 1) % N].sqid = 9;
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 0);
	CU_ASSERT_EQUAL(b.calls, 0);
	ut_post(u, &tail, &phase, cb, 2, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	CU_ASSERT_EQUAL(b.calls, 1);
	CU_ASSERT_EQUAL(u->qp.err_stats.bogus_cpls, 5);
	CU_ASSERT(vpio_test_log_has("not outstanding"));
	CU_ASSERT(vpio_test_log_has("out of range"));
	CU_ASSERT(vpio_test_log_has("for SQ 9"));
	vpio_test_log_release();
	ut_qpair_free(u);
}

static void test_bad_sqhd(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0, c0, c1, c2, c3;
	uint8_t phase = 1;

	c0 = submit(u, &d);
	c1 = submit(u, &d);
	c2 = submit(u, &d);
	vpio_test_log_capture();
	ut_post(u, &tail, &phase, c0, 5, 0);      /* beyond what was rung (3) */
	ut_post(u, &tail, &phase, c1, 0xffff, 0); /* not even an index */
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 2);
	CU_ASSERT_EQUAL(u->qp.sq_head, 0);
	CU_ASSERT_EQUAL(u->qp.err_stats.bad_sqhd, 2);
	ut_post(u, &tail, &phase, c2, 2, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	CU_ASSERT_EQUAL(u->qp.sq_head, 2);
	c3 = submit(u, &d);
	ut_post(u, &tail, &phase, c3, 1, 0); /* moving backwards is as bad */
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	CU_ASSERT_EQUAL(u->qp.sq_head, 2);
	CU_ASSERT_EQUAL(u->qp.err_stats.bad_sqhd, 3);
	ut_post(u, &tail, &phase, c3, 4, 0); /* a dropped entry moves nothing */
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 0);
	CU_ASSERT_EQUAL(u->qp.sq_head, 2);
	CU_ASSERT_EQUAL(u->qp.err_stats.bad_sqhd, 3);
	CU_ASSERT_EQUAL(d.calls, 4);
	CU_ASSERT(vpio_test_log_has("SQ head"));
	vpio_test_log_release();
	ut_qpair_free(u);
}

/* A device that never reports SQ progress must not let us overwrite
 * entries it has not fetched: the SQ fills up before the requests do. */
static void test_sq_full_without_head(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0, cid;
	uint8_t phase = 1;
	int i;

	for (i = 0; i < N - 1; i++) {
		cid = submit(u, &d);
		ut_post(u, &tail, &phase, cid, 0, 0); /* head stays 0 */
		CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	}
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	CU_ASSERT(nvme_sq_full(&u->qp, u->qp.sq_tail));
	ut_qpair_free(u);
}

static void test_hostile_full_cq(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	uint16_t tail = 0;
	uint8_t phase = 1;
	int i;

	/* every entry valid-looking, phase flipping forever: still bounded */
	vpio_test_log_capture();
	for (i = 0; i < N; i++)
		ut_post(u, &tail, &phase, (uint16_t)i, 0, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 0);
	CU_ASSERT_EQUAL(u->qp.err_stats.bogus_cpls, N - 1); /* bounded by the depth */
	CU_ASSERT(u->qp.cq_head < N);
	vpio_test_log_release();
	ut_qpair_free(u);
}

static struct ut_qpair *g_u;
static unsigned g_resubmits;
static struct ut_done g_d2;

static void resubmit_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	(void)cpl;
	(void)arg;
	if (g_resubmits++ < 3)
		submit(g_u, &g_d2);
}

static void test_callback_resubmits(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct nvme_req *req;
	uint16_t tail = 0, cid;
	uint8_t phase = 1;

	g_u = u;
	g_resubmits = 0;
	memset(&g_d2, 0, sizeof(g_d2));
	req = nvme_req_get(&u->qp);
	req->cb = resubmit_cb;
	cid = req->cid;
	nvme_qpair_commit(&u->qp, req, nvme_sq_next(&u->qp, 0), 1);
	ut_post(u, &tail, &phase, cid, 1, 0);
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	CU_ASSERT_EQUAL(u->qp.outstanding, 1);
	/* the callback got the same slot back, with a new cid */
	CU_ASSERT_EQUAL(u->qp.free_reqs, &u->reqs[1]);
	CU_ASSERT_NOT_EQUAL(u->reqs[0].cid, cid);
	ut_qpair_free(u);
}

static void test_split_first_error(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct nvme_req *r[3];
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0;
	uint8_t phase = 1;
	int i;

	for (i = 0; i < 3; i++) {
		r[i] = nvme_req_get(&u->qp);
		r[i]->leader = r[0];
		r[i]->cb = ut_done_cb;
		r[i]->cb_arg = &d;
		if (i > 0)
			r[i - 1]->next = r[i];
	}
	r[0]->pending = 3;
	r[0]->status = 0;
	nvme_qpair_commit(&u->qp, r[0], 3, 3);
	ut_post(u, &tail, &phase, r[0]->cid, 1, 0);
	ut_post(u, &tail, &phase, r[2]->cid, 3, VPIO_NVME_STATUS(2, VPIO_NVME_SC_UNRECOVERED_READ_ERROR));
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 2);
	CU_ASSERT_EQUAL(d.calls, 0);
	CU_ASSERT_EQUAL(r[0]->state, NVME_REQ_WAITING); /* leader kept for the others */
	ut_post(u, &tail, &phase, r[1]->cid, 3, VPIO_NVME_STATUS(0, VPIO_NVME_SC_INTERNAL_DEVICE_ERROR));
	ut_post(u, &tail, &phase, r[0]->cid, 3, 0); /* the leader's cid is no longer valid */
	CU_ASSERT_EQUAL(nvme_cq_drain(&u->qp, 0), 1);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.status, VPIO_NVME_STATUS(2, VPIO_NVME_SC_UNRECOVERED_READ_ERROR));
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	for (i = 0; i < N - 1; i++)
		CU_ASSERT_EQUAL(u->reqs[i].state, NVME_REQ_FREE);
	ut_qpair_free(u);
}

static void test_cancel_all(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct ut_done d[4] = { { 0, 0 } };
	int i;

	for (i = 0; i < 4; i++)
		submit(u, &d[i]);
	g_u = u;
	CU_ASSERT_EQUAL(nvme_qpair_cancel_all(&u->qp), 4);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(d[i].calls, 1);
		CU_ASSERT_EQUAL(d[i].status, nvme_host_abort_status());
	}
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	CU_ASSERT_EQUAL(nvme_qpair_cancel_all(&u->qp), 0);
	ut_qpair_free(u);
}

static void test_dbbuf_event_math(void)
{
	/* EventIdx e needs an MMIO write when old < e + 1 <= new (mod 2^16) */
	CU_ASSERT(vpio_nvme_dbbuf_need_event(4, 5, 4));
	CU_ASSERT(vpio_nvme_dbbuf_need_event(4, 10, 2));
	CU_ASSERT(!vpio_nvme_dbbuf_need_event(10, 10, 2));
	CU_ASSERT(!vpio_nvme_dbbuf_need_event(1, 5, 4));
	CU_ASSERT(vpio_nvme_dbbuf_need_event(0xfffe, 2, 0xfff0));  /* across the wrap */
	CU_ASSERT(vpio_nvme_dbbuf_need_event(0xffff, 0, 0xfffe));
	CU_ASSERT(!vpio_nvme_dbbuf_need_event(3, 2, 0xfff0));
	CU_ASSERT(!vpio_nvme_dbbuf_need_event(7, 7, 7));           /* no change */
}

static void test_shadow_doorbells(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct vpio_nvme_qpair *qp = &u->qp;
	struct ut_done d = { 0, 0 };

	qp->sq_shadow = &u->shadow[0];
	qp->cq_shadow = &u->shadow[1];
	qp->sq_eventidx = &u->eventidx[0];
	qp->cq_eventidx = &u->eventidx[1];
	qp->delay_doorbell = true;
	u->eventidx[0] = 5; /* the controller wants to hear when the tail passes 5 */
	submit(u, &d);
	submit(u, &d);
	CU_ASSERT_EQUAL(u->sq_db, 0);
	nvme_ring_sq(qp); /* 0 -> 2: shadow only */
	CU_ASSERT_EQUAL(u->shadow[0], 2);
	CU_ASSERT_EQUAL(u->sq_db, 0);
	CU_ASSERT_EQUAL(qp->stats.sq_doorbells, 1);
	CU_ASSERT_EQUAL(qp->stats.mmio_doorbells, 0);
	submit(u, &d);
	submit(u, &d);
	submit(u, &d);
	submit(u, &d);
	nvme_ring_sq(qp); /* 2 -> 6 passes 5: MMIO too */
	CU_ASSERT_EQUAL(u->shadow[0], 6);
	CU_ASSERT_EQUAL(u->sq_db, 6);
	CU_ASSERT_EQUAL(qp->stats.sq_doorbells, 2);
	CU_ASSERT_EQUAL(qp->stats.mmio_doorbells, 1);
	ut_qpair_free(u);
}

/* A qid used again: the EventIdx its previous queue left behind (QEMU does
 * not reset it at queue creation) must not suppress the first doorbells. */
static void test_shadow_stale_eventidx(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	struct vpio_nvme_qpair *qp = &u->qp;
	uint32_t *dbbuf = aligned_alloc(4096, 4096), *ei = aligned_alloc(4096, 4096);
	struct ut_done d = { 0, 0 };

	memset(dbbuf, 0x77, 4096);
	memset(ei, 0, 4096);
	ei[2] = 6; /* qid 1's SQ EventIdx, left at the old queue's tail */
	ei[3] = 6;
	u->ctrlr->dbbuf = dbbuf;
	u->ctrlr->eventidx = ei;
	u->ctrlr->dbbuf_on = true;
	u->ctrlr->dstrd = 0;
	nvme_qpair_setup_shadow(qp);
	CU_ASSERT_PTR_EQUAL(qp->sq_shadow, &dbbuf[2]);
	CU_ASSERT_PTR_EQUAL(qp->cq_eventidx, &ei[3]);
	CU_ASSERT(dbbuf[2] == 0 && dbbuf[3] == 0 && ei[2] == 0 && ei[3] == 0);
	submit(u, &d); /* not delayed: 0 -> 1 must reach the device */
	CU_ASSERT_EQUAL(u->sq_db, 1);
	CU_ASSERT_EQUAL(qp->stats.mmio_doorbells, 1);
	/* a qid whose words do not fit the page: MMIO only */
	qp->qid = 600;
	nvme_qpair_setup_shadow(qp);
	CU_ASSERT_PTR_NULL(qp->sq_shadow);
	/* no shadow doorbells in use: MMIO only */
	qp->qid = 1;
	u->ctrlr->dbbuf_on = false;
	nvme_qpair_setup_shadow(qp);
	CU_ASSERT_PTR_NULL(qp->cq_eventidx);
	free(dbbuf);
	free(ei);
	ut_qpair_free(u);
}

/* Batch commands: completions come back as an array with their ctx and
 * status; callback commands on the same qpair still run their callbacks;
 * commands the host ends (cancel_all: reset, failure) are reported by the
 * next poll_batch, never lost. */
static void test_batch_cpl(void)
{
	struct ut_qpair *u = ut_qpair_new(N, 1u << 17, 9, 1000);
	static uint8_t buf[4 * 4096] __attribute__((aligned(4096)));
	struct vpio_nvme_io ios[3];
	struct vpio_nvme_io_cpl out[8];
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0, cb_cid;
	uint8_t phase = 1;
	int i;

	u->qp.owner = nvme_thread_id();
	memset(ios, 0, sizeof(ios));
	for (i = 0; i < 3; i++) {
		ios[i].opc = VPIO_NVME_OPC_READ;
		ios[i].lba = (uint64_t)i * 8u;
		ios[i].lba_count = 8;
		ios[i].buf = buf + i * 4096;
		ios[i].ctx = (void *)(uintptr_t)(100 + i);
	}
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&u->ns, &u->qp, ios, 3, 0), 3);
	CU_ASSERT_EQUAL(u->qp.batch_outstanding, 3);
	cb_cid = submit(u, &d);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(&u->qp, 0), -EBUSY); /* batch outstanding */
	ut_post(u, &tail, &phase, u->sq[1].cid, 4, VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD));
	ut_post(u, &tail, &phase, cb_cid, 4, 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(&u->qp, out, 8), 1);
	CU_ASSERT_EQUAL(d.calls, 1); /* the callback command ran its callback */
	CU_ASSERT_PTR_EQUAL(out[0].ctx, (void *)(uintptr_t)101);
	CU_ASSERT_EQUAL(out[0].status, VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD));
	/* the other two end by the host: reported once, by poll_batch */
	CU_ASSERT_EQUAL(nvme_qpair_cancel_all(&u->qp), 2);
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(&u->qp, out, 1), 1);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(&u->qp, out + 1, 8), 1);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(&u->qp, out + 2, 8), 0);
	CU_ASSERT(out[0].ctx != out[1].ctx);
	for (i = 0; i < 2; i++) {
		CU_ASSERT(out[i].ctx == (void *)(uintptr_t)100 || out[i].ctx == (void *)(uintptr_t)102);
		CU_ASSERT_EQUAL(out[i].status, nvme_host_abort_status());
	}
	CU_ASSERT_EQUAL(u->qp.batch_outstanding, 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(&u->qp, 0), 0); /* allowed again */
	ut_qpair_free(u);
}

static int reg(void)
{
	VPIO_SUITE("nvme_cpl", NULL, NULL);
	VPIO_TEST(test_drain_basic);
	VPIO_TEST(test_phase_wrap);
	VPIO_TEST(test_max_per_call);
	VPIO_TEST(test_bogus_completions);
	VPIO_TEST(test_bad_sqhd);
	VPIO_TEST(test_sq_full_without_head);
	VPIO_TEST(test_hostile_full_cq);
	VPIO_TEST(test_callback_resubmits);
	VPIO_TEST(test_split_first_error);
	VPIO_TEST(test_cancel_all);
	VPIO_TEST(test_dbbuf_event_math);
	VPIO_TEST(test_shadow_doorbells);
	VPIO_TEST(test_shadow_stale_eventidx);
	VPIO_TEST(test_batch_cpl);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
