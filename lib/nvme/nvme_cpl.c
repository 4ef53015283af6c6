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
#include <string.h>

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

/* sqhd must lie in [sq_head, sq_rung] on the ring: the device cannot have
 * fetched what it was not told about.  No division, and one compare when
 * the range does not wrap. */
static inline bool sqhd_valid(const struct vpio_nvme_qpair *qp, uint16_t sqhd)
{
	uint32_t h = qp->sq_head, r = qp->sq_rung;

	if (nvme_likely(h <= r))
		return (uint32_t)sqhd - h <= r - h; /* below h wraps to a huge value */
	return (sqhd >= h && sqhd < qp->num_entries) || sqhd <= r;
}

static __attribute__((noinline)) struct nvme_req *cpl_drop(struct vpio_nvme_qpair *qp, const struct vpio_nvme_cpl *c)
{
	if (c->sqid != qp->qid)
		nvme_qpair_log_device_error(qp, "completion for SQ %u dropped (cid 0x%x)", c->sqid, c->cid);
	else if ((c->cid & qp->cid_mask) >= qp->num_reqs)
		nvme_qpair_log_device_error(qp, "completion with cid 0x%x out of range dropped", c->cid);
	else
		nvme_qpair_log_device_error(qp, "completion for cid 0x%x, which is not outstanding, dropped", c->cid);
	qp->err_stats.bogus_cpls++;
	return NULL;
}

static __attribute__((noinline)) void sqhd_bad(struct vpio_nvme_qpair *qp, uint16_t sqhd)
{
	qp->err_stats.bad_sqhd++;
	nvme_qpair_log_device_error(qp, "completion with SQ head %u outside [%u, %u]: head not updated", sqhd,
				    qp->sq_head, qp->sq_rung);
}

/* The request c completes, or NULL (counted, logged) when c is not for a
 * request on the device: another SQ, a cid out of range or not outstanding
 * with this generation.  A dropped entry's SQ head is not trusted either. */
static inline struct nvme_req *cpl_req(struct vpio_nvme_qpair *qp, const struct vpio_nvme_cpl *c)
{
	uint32_t idx = c->cid & qp->cid_mask;
	struct nvme_req *req = &qp->reqs[idx];

	if (nvme_unlikely(c->sqid != qp->qid || idx >= qp->num_reqs || req->state != NVME_REQ_OUTSTANDING ||
			  req->cid != c->cid))
		return cpl_drop(qp, c);
	if (nvme_likely(sqhd_valid(qp, c->sqhd)))
		qp->sq_head = c->sqhd;
	else
		sqhd_bad(qp, c->sqhd);
	return req;
}

/*
 * Drain up to max entries.  With out (the batch poll), requests submitted
 * without a callback are reported in out[*nout]; callbacks run as usual.
 * The next entry's request is prefetched while this one completes (deep
 * queues: it is usually there already).
 */
static inline __attribute__((always_inline)) uint32_t cq_drain(struct vpio_nvme_qpair *qp, uint32_t max,
							      struct vpio_nvme_io_cpl *out, uint32_t *nout)
{
	volatile struct vpio_nvme_cpl *const cq = qp->cq; /* fixed during the loop */
	struct nvme_req *const reqs = qp->reqs;
	uint32_t consumed = 0, dropped = 0;
	uint16_t head = qp->cq_head;
	uint8_t phase = qp->phase;
	struct vpio_nvme_cpl c;
	volatile struct vpio_nvme_cpl *e;
	struct nvme_req *req;

	if (max == 0 || max > qp->num_reqs)
		max = qp->num_reqs;
	qp->in_cpl = true;
	while (consumed < max) {
		e = &cq[head];
		c.status = e->status;
		if (VPIO_NVME_STATUS_P(c.status) != phase)
			break;
		nvme_rmb(); /* the rest of the entry after its phase */
		memcpy(&c, (const void *)e, sizeof(c)); /* one 16-byte load */
		if (nvme_unlikely(++head == qp->num_entries)) {
			head = 0;
			phase ^= 1u;
		}
		/* whatever the next slot holds (a new entry or an old one): a
		 * prefetch never faults */
		__builtin_prefetch(&reqs[cq[head].cid & qp->cid_mask], 1);
		consumed++;
		/* callbacks may submit and ring: the ring state is current */
		qp->cq_head = head;
		qp->phase = phase;
		qp->cq_unrung++;
		req = cpl_req(qp, &c);
		if (nvme_unlikely(req == NULL)) {
			dropped++;
			continue;
		}
		if (out != NULL && req->batch && req->leader == NULL) {
			qp->outstanding--;
			qp->batch_outstanding--;
			out[*nout].ctx = req->cb_arg;
			out[*nout].status = (uint16_t)(c.status & ~1u);
			out[*nout].rsvd = 0;
			out[*nout].cdw0 = c.cdw0;
			(*nout)++;
			nvme_req_put(qp, req);
			continue;
		}
		nvme_req_complete(qp, req, &c);
	}
	qp->in_cpl = false;
	qp->stats.completed += consumed - dropped;
	nvme_cq_ack_drained(qp);
	return consumed - dropped;
}

uint32_t nvme_cq_drain(struct vpio_nvme_qpair *qp, uint32_t max)
{
	return cq_drain(qp, max, NULL, NULL);
}

uint32_t nvme_cq_drain_batch(struct vpio_nvme_qpair *qp, uint32_t max, struct vpio_nvme_io_cpl *out, uint32_t *nout)
{
	*nout = 0;
	return cq_drain(qp, max, out, nout);
}
