/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Periodic health check of an I/O qpair, run from process_completions while
 * commands are outstanding (every 10 ms, or a quarter of the timeout when
 * that is shorter).  It is the only place the I/O path reads a register:
 *  - CSTS: all ones = the device is gone, CFS = controller fatal status;
 *    either fails the controller (outstanding requests then end with
 *    ABORTED_BY_HOST; stopping a controller with CFS, which takes up to
 *    CAP.TO, is left to the recovery thread);
 *  - timeouts: a command is stamped with the check count at submit and is
 *    late once timeout_checks checks have passed (never early, at most a
 *    quarter of the timeout late).  A late command gets an Abort; if it is
 *    still there one timeout later, the controller is reset: this thread
 *    only moves it to RESETTING and returns (-EAGAIN until the reset is
 *    done), the reset runs on the recovery thread (nvme_recover.c).
 */
#include "nvme_internal.h"

static void on_timeout(struct vpio_nvme_qpair *qp, struct nvme_req *req)
{
	struct vpio_nvme_ctrlr *c = qp->ctrlr;

	req->stamp = qp->check_seq;
	if (!req->aborted) {
		req->aborted = 1;
		qp->err_stats.timeouts++;
		atomic_fetch_add(&c->stat_timeouts, 1);
		VPIO_ERR(NVME_MOD, "%s: qpair %u: command cid 0x%x (opcode 0x%02x) timed out after %u ms; sending Abort",
			 c->name, qp->qid, req->cid, req->opc, qp->opts.timeout_ms);
		nvme_ctrlr_abort_async(c, qp->qid, req->cid);
		return;
	}
	VPIO_ERR(NVME_MOD, "%s: qpair %u: command cid 0x%x still outstanding after Abort; %s", c->name, qp->qid, req->cid,
		 c->opts.no_reset_on_timeout ? "not resetting (no_reset_on_timeout)"
					     : "resetting the controller (on its recovery thread)");
	if (!c->opts.no_reset_on_timeout)
		nvme_ctrlr_escalate_async(c, qp->epoch);
}

static void scan_timeouts(struct vpio_nvme_qpair *qp)
{
	uint32_t i, epoch = qp->epoch;
	struct nvme_req *req;

	for (i = 0; i < qp->num_reqs; i++) {
		req = &qp->reqs[i];
		if (req->state != NVME_REQ_OUTSTANDING || qp->check_seq - req->stamp < qp->timeout_checks)
			continue;
		on_timeout(qp, req);
		if (atomic_load(qp->ctrlr_epoch) != epoch)
			return; /* reset: the qpair catches up on its next call */
	}
}

void nvme_qpair_health_check(struct vpio_nvme_qpair *qp, uint64_t now)
{
	struct vpio_nvme_ctrlr *c = qp->ctrlr;
	uint32_t every = qp->timeout_checks / 4u ? qp->timeout_checks / 4u : 1u;
	int rc;

	qp->next_check = now + qp->check_interval;
	qp->check_seq++;
	rc = nvme_ctrlr_check_csts(c);
	if (rc != 0) {
		nvme_ctrlr_fail_async(c, rc);
		return;
	}
	nvme_admin_poll(c, true); /* reap Abort completions if the admin queue is free */
	/* a recovery asked for by another qpair holds the admin queue for a
	 * while: no Abort (which would wait for it) until this qpair caught up */
	if (atomic_load_explicit(qp->ctrlr_epoch, memory_order_acquire) != qp->epoch)
		return;
	if (qp->timeout_checks != 0 && qp->check_seq % every == 0)
		scan_timeouts(qp);
}
