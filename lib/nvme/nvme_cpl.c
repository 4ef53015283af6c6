/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The completion path: drain the CQ by phase tag, check every entry before
 * trusting it, complete requests, ring the CQ head doorbell once.
 *
 * The device is not trusted: an entry is copied out of DMA memory before it
 * is looked at (the device cannot change it between check and use); its cid
 * must name a request that is on the device with the same generation (so a
 * duplicate or late completion never completes a request twice or a newer
 * one); its sqid must be ours; its sqhd must lie between our head and the
 * tail the device was given (else it is ignored, never used as an index;
 * the sqhd of a dropped entry is ignored too).  Bad entries are counted,
 * logged (a few lines per qpair) and dropped; the request they should have
 * completed times out.  No register is read here.
 */
#include <stdarg.h>
#include <stdio.h>

#include "nvme_internal.h"

#define NVME_LOG_BUDGET 16u

void nvme_qpair_log_device_error(struct vpio_nvme_qpair *qp, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (qp->log_budget == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qp->log_budget--;
	VPIO_ERR(NVME_MOD, "qpair %u: %s%s", qp->qid, msg,
		 qp->log_budget == 0 ? " (further device errors on this qpair are not logged)" : "");
}

/* sqhd must lie in [sq_head, sq_rung]: the device cannot have fetched
 * what it was not told about (ring order). */
static bool sqhd_valid(const struct vpio_nvme_qpair *qp, uint16_t sqhd)
{
	uint32_t n = qp->num_entries;
	uint32_t used = (qp->sq_rung + n - qp->sq_head) % n;
	uint32_t adv;

	if (sqhd >= n)
		return false;
	adv = (sqhd + n - qp->sq_head) % n;
	return adv <= used;
}

static struct nvme_req *cpl_req(struct vpio_nvme_qpair *qp, const struct vpio_nvme_cpl *c)
{
	uint32_t idx = c->cid & qp->cid_mask;
	struct nvme_req *req;

	if (nvme_unlikely(c->sqid != qp->qid)) {
		nvme_qpair_log_device_error(qp, "completion for SQ %u dropped (cid 0x%x)", c->sqid, c->cid);
		return NULL;
	}
	if (nvme_unlikely(idx >= qp->num_reqs)) {
		nvme_qpair_log_device_error(qp, "completion with cid 0x%x out of range dropped", c->cid);
		return NULL;
	}
	req = &qp->reqs[idx];
	if (nvme_unlikely(req->state != NVME_REQ_OUTSTANDING || req->cid != c->cid)) {
		nvme_qpair_log_device_error(qp, "completion for cid 0x%x, which is not outstanding, dropped", c->cid);
		return NULL;
	}
	return req;
}

/* A dropped entry's SQ head is not trusted either. */
static uint32_t cpl_handle(struct vpio_nvme_qpair *qp, const struct vpio_nvme_cpl *c)
{
	struct nvme_req *req = cpl_req(qp, c);

	if (nvme_unlikely(req == NULL)) {
		qp->stats.bogus_cpls++;
		return 0;
	}
	if (nvme_likely(sqhd_valid(qp, c->sqhd))) {
		qp->sq_head = c->sqhd;
	} else {
		qp->stats.bad_sqhd++;
		nvme_qpair_log_device_error(qp, "completion with SQ head %u outside [%u, %u]: head not updated",
					    c->sqhd, qp->sq_head, qp->sq_rung);
	}
	qp->stats.completed++;
	nvme_req_complete(qp, req, c);
	return 1;
}

uint32_t nvme_cq_drain(struct vpio_nvme_qpair *qp, uint32_t max)
{
	uint32_t consumed = 0, done = 0;
	struct vpio_nvme_cpl c;
	volatile struct vpio_nvme_cpl *e;

	if (max == 0 || max > qp->num_reqs)
		max = qp->num_reqs;
	qp->in_cpl = true;
	while (consumed < max) {
		e = &qp->cq[qp->cq_head];
		c.status = e->status;
		if ((c.status & 1u) != qp->phase)
			break;
		nvme_rmb(); /* the rest of the entry after its phase */
		c.cdw0 = e->cdw0;
		c.cdw1 = e->cdw1;
		c.sqhd = e->sqhd;
		c.sqid = e->sqid;
		c.cid = e->cid;
		if (++qp->cq_head == qp->num_entries) {
			qp->cq_head = 0;
			qp->phase ^= 1u;
		}
		consumed++;
		done += cpl_handle(qp, &c);
	}
	qp->in_cpl = false;
	if (consumed > 0)
		nvme_ring_cq(qp);
	return done;
}
