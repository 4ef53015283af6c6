/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "device" is the input: it decides every completion-queue entry (cid,
 * sqid, SQ head, status, phase, where in the ring it lands) and how many
 * entries the driver may drain per call.  The driver side submits plain and
 * split requests and resubmits as completions arrive.  Checked after every
 * drain and at the end:
 *   - no request completes twice, none is lost: after the final cancel every
 *     submission has completed exactly once;
 *   - ring indexes stay in range, the outstanding count matches the
 *     requests on the device, the SQ head only moves forward and never
 *     past the tail the device was given;
 *   - (ASan/UBSan) nothing is touched outside the qpair's arrays.
 *
 * Input: byte 0 = queue entries (2..33), byte 1 = flags (bit 0: split
 * requests, bit 1: delayed doorbell), then rounds of: a count byte, that
 * many 8-byte entry descriptions, a drain-limit byte, a resubmit byte.
 * Entry description: cid (2), sqhd (2), status (2), control, cdw0; control
 * bit 0 = take cid raw (else the current cid of slot cid % depth), bit 1 =
 * sqid raw (else ours), bit 2 = phase raw (else the expected one), bit 3 =
 * sqhd raw (else a valid head), bit 4 = write at a random slot (else at the
 * device's tail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/nvme_internal.h"
#include "nvme_cpl_harness.h"

#define MAX_TOKENS 2048u

struct harness {
	struct vpio_nvme_qpair qp;
	struct vpio_nvme_cmd *sq;
	struct vpio_nvme_cpl *cq;
	struct nvme_req *reqs;
	uint32_t sq_db, cq_db;
	uint16_t dev_tail;
	uint8_t dev_phase;
	bool split;
	uint32_t ntokens;
	uint8_t done[MAX_TOKENS];
	const uint8_t *p, *end;
};

#define CHECK(cond)                                                                                      \
	do {                                                                                             \
		if (!(cond)) {                                                                           \
			fprintf(stderr, "nvme_cpl_harness: %s:%d: invariant violated: %s\n", __FILE__, __LINE__, \
				#cond);                                                                  \
			abort();                                                                         \
		}                                                                                        \
	} while (0)

static void token_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	uint8_t *done = arg;

	(void)cpl;
	CHECK(*done == 0); /* completed twice */
	*done = 1;
}

static bool take(struct harness *h, void *out, size_t n)
{
	if ((size_t)(h->end - h->p) < n)
		return false;
	memcpy(out, h->p, n);
	h->p += n;
	return true;
}

/* Submit one request of `parts` commands; false when it does not fit. */
static bool submit(struct harness *h, uint32_t parts)
{
	struct vpio_nvme_qpair *qp = &h->qp;
	struct nvme_req *chain = NULL, **link = &chain, *req;
	uint16_t tail = qp->sq_tail;
	uint32_t i;

	if (h->ntokens == MAX_TOKENS)
		return false;
	for (i = 0; i < parts; i++) {
		if (nvme_sq_full(qp, tail) || (req = nvme_req_get(qp)) == NULL) {
			nvme_qpair_rollback(qp, chain);
			return false;
		}
		memset(&qp->sq[tail], 0, sizeof(qp->sq[0]));
		qp->sq[tail].cid = req->cid;
		req->cb = token_cb;
		req->cb_arg = &h->done[h->ntokens];
		*link = req;
		link = &req->next;
		tail = nvme_sq_next(qp, tail);
	}
	if (parts > 1) {
		chain->pending = (uint16_t)parts;
		chain->status = 0;
		for (req = chain; req != NULL; req = req->next)
			req->leader = chain;
	}
	h->ntokens++;
	nvme_qpair_commit(qp, chain, tail, parts);
	return true;
}

static void submit_some(struct harness *h, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (!submit(h, h->split ? 1u + i % 3u : 1u))
			return;
	}
}

/* Write one entry as described by 8 input bytes. */
static void post(struct harness *h, const uint8_t d[8])
{
	struct vpio_nvme_qpair *qp = &h->qp;
	uint16_t raw_cid = (uint16_t)(d[0] | d[1] << 8), raw_hd = (uint16_t)(d[2] | d[3] << 8);
	uint16_t status = (uint16_t)(d[4] | d[5] << 8), used;
	uint8_t ctl = d[6];
	struct vpio_nvme_cpl *e;
	uint16_t slot = h->dev_tail;

	if (ctl & 0x10)
		slot = (uint16_t)(raw_hd % qp->num_entries);
	e = &h->cq[slot];
	e->cdw0 = d[7];
	e->cdw1 = 0;
	e->cid = (ctl & 1) ? raw_cid : qp->reqs[raw_cid % qp->num_reqs].cid;
	e->sqid = (ctl & 2) ? (uint16_t)(raw_cid >> 8) : qp->qid;
	used = (uint16_t)((qp->sq_rung + qp->num_entries - qp->sq_head) % qp->num_entries);
	e->sqhd = (ctl & 8) ? raw_hd : (uint16_t)((qp->sq_head + raw_hd % (used + 1u)) % qp->num_entries);
	e->status = (uint16_t)((status & 0xfffeu) | ((ctl & 4) ? (status & 1u) : h->dev_phase));
	if (!(ctl & 0x10) && ++h->dev_tail == qp->num_entries) {
		h->dev_tail = 0;
		h->dev_phase ^= 1u;
	}
}

static void check_state(struct harness *h)
{
	struct vpio_nvme_qpair *qp = &h->qp;
	uint32_t i, on_device = 0;

	CHECK(qp->cq_head < qp->num_entries);
	CHECK(qp->sq_head < qp->num_entries);
	CHECK(qp->sq_tail < qp->num_entries);
	CHECK(qp->phase <= 1);
	for (i = 0; i < qp->num_reqs; i++)
		on_device += qp->reqs[i].state == NVME_REQ_OUTSTANDING;
	CHECK(on_device == qp->outstanding);
	CHECK(qp->outstanding <= qp->num_reqs);
}

/* The SQ head may only move forward, and not past what the device was
 * told (else the driver would reuse slots the device has not fetched). */
static void check_head_moved(const struct harness *h, uint16_t old_head, uint16_t old_rung)
{
	uint32_t n = h->qp.num_entries;

	CHECK((h->qp.sq_head + n - old_head) % n <= (old_rung + n - old_head) % n);
}

static void run_rounds(struct harness *h)
{
	uint8_t count, limit, resubmit, d[8];
	uint16_t old_head, old_rung;
	uint32_t i;

	while (take(h, &count, 1)) {
		for (i = 0; i < count % 40u && take(h, d, sizeof(d)); i++)
			post(h, d);
		if (!take(h, &limit, 1))
			limit = 0;
		old_head = h->qp.sq_head;
		old_rung = h->qp.sq_rung;
		CHECK(nvme_cq_drain(&h->qp, limit) <= h->qp.num_reqs);
		check_head_moved(h, old_head, old_rung);
		check_state(h);
		if (!take(h, &resubmit, 1))
			break;
		if (resubmit & 0x80)
			nvme_ring_sq(&h->qp); /* a delayed doorbell being flushed */
		submit_some(h, resubmit & 0x1fu);
		check_state(h);
	}
}

static void silent(enum vpio_log_level level, const char *module, const char *msg, void *ctx)
{
	(void)level;
	(void)module;
	(void)msg;
	(void)ctx;
}

int nvme_cpl_fuzz_one(const uint8_t *data, size_t size)
{
	struct harness *h;
	uint16_t n;
	uint32_t i;

	if (size < 2)
		return 0;
	h = aligned_alloc(64, (sizeof(*h) + 63u) & ~(size_t)63u); /* the qpair is cache-line aligned */
	memset(h, 0, sizeof(*h));
	n = (uint16_t)(2u + data[0] % 32u);
	h->sq = calloc(n, sizeof(*h->sq));
	h->cq = calloc(n, sizeof(*h->cq));
	h->reqs = calloc(n - 1u, sizeof(*h->reqs));
	h->split = data[1] & 1u;
	h->qp.qid = 1;
	h->qp.delay_doorbell = (data[1] & 2u) != 0;
	h->qp.sq_db = &h->sq_db;
	h->qp.cq_db = &h->cq_db;
	h->dev_phase = 1;
	h->p = data + 2;
	h->end = data + size;
	vpio_log_set_callback(silent, NULL);
	nvme_qpair_init_rings(&h->qp, n, h->sq, h->cq, h->reqs);
	h->qp.state = NVME_QP_CONNECTED;
	submit_some(h, n);
	run_rounds(h);
	nvme_qpair_cancel_all(&h->qp);
	check_state(h);
	CHECK(h->qp.outstanding == 0);
	for (i = 0; i < h->ntokens; i++)
		CHECK(h->done[i] == 1); /* every request ended exactly once */
	for (i = 0; i < h->qp.num_reqs; i++)
		CHECK(h->qp.reqs[i].state == NVME_REQ_FREE);
	vpio_log_set_callback(NULL, NULL);
	free(h->sq);
	free(h->cq);
	free(h->reqs);
	free(h);
	return 0;
}
