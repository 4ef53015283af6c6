/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests: completing them (once, also when split into several commands)
 * and cancelling the ones the device holds.
 *
 * A split request has no extra object: its first part is the leader; every
 * part points at it, and the leader stays allocated (WAITING once its own
 * command is done) until the last part completes.  It then reports the
 * first error of the parts, or success.
 */
#include <string.h>

#include "nvme_internal.h"

void nvme_req_complete_part(struct vpio_nvme_qpair *qp, struct nvme_req *req, const struct vpio_nvme_cpl *cpl)
{
	struct nvme_req *leader = req->leader;
	struct vpio_nvme_cpl done;
	vpio_nvme_cmd_cb cb;
	void *arg;

	if (vpio_nvme_cpl_is_error(cpl) && leader->status == 0)
		leader->status = cpl->status & VPIO_NVME_STATUS_NO_PHASE_MASK;
	if (req != leader)
		nvme_req_put(qp, req);
	else
		leader->state = NVME_REQ_WAITING;
	if (--leader->pending > 0)
		return;
	memset(&done, 0, sizeof(done));
	done.sqid = cpl->sqid;
	done.cid = leader->cid;
	done.status = leader->status;
	cb = leader->cb;
	arg = leader->cb_arg;
	nvme_req_put(qp, leader);
	if (cb != NULL)
		cb(arg, &done);
}

void nvme_req_host_done_batch(struct vpio_nvme_qpair *qp, struct nvme_req *req, uint16_t status)
{
	struct vpio_nvme_io_cpl *d = &qp->host_done[qp->host_done_n++];

	d->ctx = req->cb_arg;
	d->status = status;
	d->rsvd = 0;
	d->cdw0 = 0;
	qp->outstanding--;
	qp->batch_outstanding--;
	nvme_req_put(qp, req);
}

/* Callbacks run as in the completion loop (in_cpl): one that frees or
 * polls its qpair is refused, wherever the host ends its requests (reset,
 * failure, detach, free_io_qpair). */
uint32_t nvme_qpair_cancel_all(struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_cpl cpl;
	bool was_in_cpl = qp->in_cpl;
	uint32_t i, n = 0;

	/* Mark first: callbacks may submit new requests, which must stay. */
	for (i = 0; i < qp->num_reqs; i++) {
		if (qp->reqs[i].state == NVME_REQ_OUTSTANDING)
			qp->reqs[i].state = NVME_REQ_CANCELLING;
	}
	memset(&cpl, 0, sizeof(cpl));
	cpl.sqid = qp->qid;
	cpl.status = nvme_host_abort_status();
	qp->in_cpl = true;
	for (i = 0; i < qp->num_reqs; i++) {
		if (qp->reqs[i].state != NVME_REQ_CANCELLING)
			continue;
		cpl.cid = qp->reqs[i].cid;
		n++;
		qp->err_stats.host_aborted++;
		if (qp->reqs[i].batch)
			nvme_req_host_done_batch(qp, &qp->reqs[i], cpl.status);
		else
			nvme_req_complete(qp, &qp->reqs[i], &cpl);
	}
	qp->in_cpl = was_in_cpl;
	return n;
}
