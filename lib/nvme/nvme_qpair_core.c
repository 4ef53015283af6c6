/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core of a qpair, pure (no device, no DMA: tests and the fuzzer lay
 * rings out in plain memory): ring state and cids, requests, submission
 * and doorbells, the completion path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nvme_internal.h"

/* ======================================================================== */
/*
 * Ring state of a qpair: indexes, phase, the request pool and its cids.
 * Pure (no device, no DMA): tests and the fuzzer lay rings out in plain
 * memory.
 *
 * A cid is the request's index in its low bits and a generation in the bits
 * left above them, bumped at every reuse, so that a stale or duplicated
 * completion does not match a newer command in the same slot.
 */

static uint32_t index_bits(uint32_t num_reqs)
{
	uint32_t b = 0;

	while ((1u << b) <= num_reqs) /* indexes stay below the mask: no cid is FFFFh */
		b++;
	return b;
}

void nvme_qpair_reset_rings(struct vpio_nvme_qpair *qp)
{
	qp->sq_tail = 0;
	qp->sq_rung = 0;
	qp->sq_head = 0;
	qp->cq_head = 0;
	qp->cq_rung = 0;
	qp->cq_unrung = 0;
	qp->phase = 1;
	memset((void *)qp->cq, 0, (size_t)qp->num_entries * sizeof(struct vpio_nvme_cpl));
}

void nvme_qpair_init_rings(struct vpio_nvme_qpair *qp, uint16_t num_entries, struct vpio_nvme_cmd *sq,
			   struct vpio_nvme_cpl *cq, struct nvme_req *reqs)
{
	uint32_t bits, i;

	qp->sq = sq;
	qp->cq = cq;
	qp->reqs = reqs;
	qp->num_entries = num_entries;
	qp->num_reqs = (uint16_t)(num_entries - 1u);
	bits = index_bits(qp->num_reqs);
	qp->cid_mask = (uint16_t)((1u << bits) - 1u);
	qp->cid_gen_inc = (uint16_t)(1u << bits); /* 0 when all 16 bits index */
	qp->outstanding = 0;
	qp->free_reqs = NULL;
	memset(reqs, 0, (size_t)qp->num_reqs * sizeof(*reqs));
	for (i = qp->num_reqs; i-- > 0;) {
		reqs[i].cid = (uint16_t)i;
		nvme_req_put(qp, &reqs[i]);
	}
	nvme_qpair_reset_rings(qp);
}

/* ======================================================================== */
/*
 * Requests: completing them (once, also when split into several commands)
 * and cancelling the ones the device holds.
 *
 * A split request has no extra object: its first part is the leader; every
 * part points at it, and the leader stays allocated (WAITING once its own
 * command is done) until the last part completes.  It then reports the
 * first error of the parts, or success.
 */

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

void nvme_req_complete_nocb(struct vpio_nvme_qpair *qp, struct nvme_req *req, const struct vpio_nvme_cpl *cpl)
{
	if (req->batch) {
		nvme_req_host_done_batch(qp, req, (uint16_t)(cpl->status & VPIO_NVME_STATUS_NO_PHASE_MASK), cpl->cdw0);
		return;
	}
	nvme_req_put(qp, req);
}

void nvme_req_host_done_batch(struct vpio_nvme_qpair *qp, struct nvme_req *req, uint16_t status, uint32_t cdw0)
{
	struct vpio_nvme_io_cpl *d = &qp->host_done[qp->host_done_n++];

	d->ctx = req->cb_arg;
	d->status = status;
	d->rsvd = 0;
	d->cdw0 = cdw0;
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
		if (qp->reqs[i].batch) {
			qp->outstanding--;
			nvme_req_host_done_batch(qp, &qp->reqs[i], cpl.status, 0);
		} else
			nvme_req_complete(qp, &qp->reqs[i], &cpl);
	}
	qp->in_cpl = was_in_cpl;
	return n;
}

/* ======================================================================== */
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

/* ======================================================================== */
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
	uint32_t consumed = 0, dropped = 0, nb = 0;
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
		 * prefetch never faults; the address is formed as an integer,
		 * since a stale index may lie past the pool */
		__builtin_prefetch((const void *)((uintptr_t)reqs + (uintptr_t)(cq[head].cid & qp->cid_mask) *
								      sizeof(struct nvme_req)),
				   1);
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
		if (out != NULL && req->batch) { /* never split */
			qp->outstanding--;
			out[nb++] = (struct vpio_nvme_io_cpl){ req->cb_arg,
							       (uint16_t)(c.status & VPIO_NVME_STATUS_NO_PHASE_MASK), 0,
							       c.cdw0 };
			nvme_req_put(qp, req);
			continue;
		}
		/* (a batch command here, submitted by a callback of this
		 * process_completions, is kept for poll_batch: see
		 * nvme_req_complete_nocb) */
		nvme_req_complete(qp, req, &c);
	}
	qp->in_cpl = false;
	if (out != NULL) {
		qp->batch_outstanding -= nb;
		*nout = nb;
	}
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
	return cq_drain(qp, max, out, nout);
}
