/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Submission side of a qpair: committing built commands and the doorbells.
 *
 * Commands are written straight into SQ slots beyond sq_tail; they become
 * the device's only when sq_tail moves and the doorbell is written, so a
 * request that fails half-way (split into parts, queue full) is rolled back
 * by giving the requests back.  With delay_doorbell the doorbell is written
 * once per batch (process_completions or flush) instead of per command.
 * The CQ head doorbell is coalesced (nvme_cq_ack in nvme_internal.h).
 *
 * Shadow doorbells (Doorbell Buffer Config): the new value goes to the
 * shadow buffer, and the MMIO write is needed only when the controller's
 * EventIdx lies between the previous and the new value.
 */
#include "nvme_internal.h"

static inline bool ring_shadow(volatile uint32_t *shadow, volatile uint32_t *eventidx, uint16_t old_val,
			       uint16_t new_val)
{
	*shadow = new_val;
	nvme_mb(); /* shadow value visible before EventIdx is read */
	return vpio_nvme_dbbuf_need_event((uint16_t)*eventidx, new_val, old_val) != 0;
}

void nvme_ring_sq_shadow(struct vpio_nvme_qpair *qp)
{
	uint16_t old_val = qp->sq_rung, new_val = qp->sq_tail;

	nvme_wmb(); /* SQ entries before the doorbell */
	qp->sq_rung = new_val;
	qp->stats.sq_doorbells++;
	if (!ring_shadow(qp->sq_shadow, qp->sq_eventidx, old_val, new_val))
		return;
	*qp->sq_db = new_val;
	qp->stats.mmio_doorbells++;
}

void nvme_ring_cq(struct vpio_nvme_qpair *qp)
{
	uint16_t old_val = qp->cq_rung, new_val = qp->cq_head;

	qp->cq_rung = new_val;
	qp->cq_unrung = 0;
	qp->stats.cq_doorbells++;
	if (qp->cq_shadow != NULL && !ring_shadow(qp->cq_shadow, qp->cq_eventidx, old_val, new_val))
		return;
	*qp->cq_db = new_val;
	qp->stats.mmio_doorbells++;
}

void nvme_qpair_commit(struct vpio_nvme_qpair *qp, struct nvme_req *chain, uint16_t new_tail, uint32_t ncmds)
{
	struct nvme_req *req = chain, *next;

	while (req != NULL) {
		next = req->next;
		req->next = NULL;
		req->state = NVME_REQ_OUTSTANDING;
		req->stamp = qp->check_seq;
		req = next;
	}
	nvme_cq_ack(qp, ncmds);
	qp->sq_tail = new_tail;
	qp->outstanding += ncmds;
	qp->stats.submitted += ncmds;
	if (!qp->delay_doorbell)
		nvme_ring_sq(qp);
}

int nvme_qpair_commit_slow(struct vpio_nvme_qpair *qp)
{
	nvme_cq_ack(qp, 0);
	if (!qp->delay_doorbell)
		nvme_ring_sq(qp);
	return 0;
}

void nvme_qpair_rollback(struct vpio_nvme_qpair *qp, struct nvme_req *chain)
{
	struct nvme_req *req = chain, *next;

	while (req != NULL) {
		next = req->next;
		nvme_req_put(qp, req);
		req = next;
	}
}
