/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the batch calls' edges (lib/nvme/nvme_ns_cmd.c,
 * nvme_qpair.c, nvme_qpair_core.c) on a qpair in plain memory: a split
 * request's finished first part holding a request, commands the host
 * ends between polls (host_done never overflows), a failed controller
 * (the ended commands are still reported), and a batch command submitted
 * by a callback of process_completions that completes in the same drain.
 * Each failed (one crashed) on the first version of the batch calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

static uint8_t g_buf[65536] __attribute__((aligned(4096)));

static void count_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	(void)cpl;
	(*(unsigned *)arg)++;
}

static void reads(struct vpio_nvme_io *ios, unsigned n)
{
	memset(ios, 0, n * sizeof(*ios));
	for (unsigned k = 0; k < n; k++) {
		ios[k].opc = VPIO_NVME_OPC_READ;
		ios[k].lba = k;
		ios[k].lba_count = 1;
		ios[k].buf = g_buf + 4096 * k;
		ios[k].ctx = (void *)(uintptr_t)(k + 1);
	}
}

/* A split read whose first part completed holds a request while it is not
 * outstanding: the batch takes what the pool has, not what outstanding
 * says is free. */
static void test_waiting_leader(void)
{
	struct ut_qpair *u = ut_qpair_new(4, 4096, 9, 1u << 20);
	struct vpio_nvme_qpair *qp = &u->qp;
	struct vpio_nvme_io ios[2];
	uint16_t tail = 0;
	uint8_t phase = 1;
	unsigned done = 0;

	qp->owner = nvme_thread_id();
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ns_cmd_read(&u->ns, qp, g_buf, 0, 16, count_cb, &done, 0), 0); /* 2 parts */
	ut_post(u, &tail, &phase, qp->sq[0].cid, 2, 0); /* the first part only */
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(qp, 0), 1);
	CU_ASSERT_EQUAL(qp->outstanding, 1);
	CU_ASSERT_EQUAL(done, 0);
	reads(ios, 2);
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&u->ns, qp, ios, 2, 0), 1); /* one request is free */
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&u->ns, qp, ios + 1, 1, 0), -EAGAIN);
	ut_qpair_free(u);
}

/* Commands the host ends (a reset's reconnect) wait in host_done for the
 * next poll_batch; submissions stop before it could overflow and go on
 * once it is read. */
static void test_host_done_bounded(void)
{
	struct ut_qpair *u = ut_qpair_new(4, 4096, 9, 1u << 20);
	struct vpio_nvme_qpair *qp = &u->qp;
	struct vpio_nvme_io ios[3];
	struct vpio_nvme_io_cpl cpl[8];

	qp->owner = nvme_thread_id();
	reads(ios, 3);
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&u->ns, qp, ios, 3, 0), 3);
	for (int round = 0; round < 3; round++) {
		nvme_qpair_cancel_all(qp); /* what a reconnect after a reset does */
		nvme_qpair_reset_rings(qp);
		CU_ASSERT(qp->host_done_n <= qp->num_reqs);
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&u->ns, qp, ios, 3, 0), -EAGAIN);
	}
	CU_ASSERT_EQUAL(qp->host_done_n, 3);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(qp, cpl, 8), 3);
	for (int k = 0; k < 3; k++)
		CU_ASSERT_EQUAL(cpl[k].status, nvme_host_abort_status());
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&u->ns, qp, ios, 3, 0), 3); /* room again */
	ut_qpair_free(u);
}

/* A failed controller: the batch commands the host ended are reported by
 * poll_batch before it returns -ENXIO. */
static void test_failed_reported(void)
{
	struct ut_qpair *u = ut_qpair_new(4, 4096, 9, 1u << 20);
	struct vpio_nvme_qpair *qp = &u->qp;
	struct vpio_nvme_io ios[2];
	struct vpio_nvme_io_cpl cpl[4];

	qp->owner = nvme_thread_id();
	reads(ios, 2);
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ns_submit_batch(&u->ns, qp, ios, 2, 0), 2);
	atomic_store(&u->ctrlr->epoch, (1u << NVME_STATE_BITS) | VPIO_NVME_CTRLR_FAILED);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(qp, cpl, 4), 2);
	CU_ASSERT(cpl[0].ctx != cpl[1].ctx);
	CU_ASSERT(cpl[0].status == nvme_host_abort_status() && cpl[1].status == nvme_host_abort_status());
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(qp, cpl, 4), -ENXIO);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(qp->batch_outstanding, 0);
	ut_qpair_free(u);
}

/* A callback run by process_completions submits a batch command whose
 * completion comes in the same drain: kept for poll_batch, which reports
 * it with its status; nothing is stuck. */
static struct ut_qpair *g_u;
static uint16_t g_tail;
static uint8_t g_phase;

static void cb_submits_batch(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct vpio_nvme_qpair *qp = &g_u->qp;
	struct vpio_nvme_io io;
	uint16_t slot = qp->sq_tail;

	(void)cpl;
	(*(unsigned *)arg)++;
	reads(&io, 1);
	io.ctx = (void *)(uintptr_t)77;
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(&g_u->ns, qp, &io, 1, 0), 1);
	ut_post(g_u, &g_tail, &g_phase, qp->sq[slot].cid, qp->sq_tail, /* a fast device */
		VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD));
}

static void test_batch_from_callback(void)
{
	struct ut_qpair *u = ut_qpair_new(8, 4096, 9, 1u << 20);
	struct vpio_nvme_qpair *qp = &u->qp;
	struct vpio_nvme_io_cpl cpl[4];
	unsigned done = 0;

	g_u = u;
	g_tail = 0;
	g_phase = 1;
	qp->owner = nvme_thread_id();
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ns_cmd_read(&u->ns, qp, g_buf, 0, 1, cb_submits_batch, &done, 0), 0);
	ut_post(u, &g_tail, &g_phase, qp->sq[0].cid, 1, 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(qp, 0), 2);
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_EQUAL(qp->outstanding, 0);
	CU_ASSERT_EQUAL(qp->batch_outstanding, 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(qp, cpl, 4), 1);
	CU_ASSERT_PTR_EQUAL(cpl[0].ctx, (void *)(uintptr_t)77);
	CU_ASSERT_EQUAL(cpl[0].status, VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(qp, cpl, 4), 0);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(qp, 0), 0);
	ut_qpair_free(u);
}

static int reg(void)
{
	VPIO_SUITE("nvme_batch", NULL, NULL);
	VPIO_TEST(test_waiting_leader);
	VPIO_TEST(test_host_done_bounded);
	VPIO_TEST(test_failed_reported);
	VPIO_TEST(test_batch_from_callback);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
