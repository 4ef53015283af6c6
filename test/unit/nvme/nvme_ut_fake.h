/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fakes for the NVMe unit tests: a qpair, controller and namespace in plain
 * memory (no device, no DMA, no environment), with a fake address
 * translation.  Doorbells are plain variables.
 */
#ifndef NVME_UT_FAKE_H
#define NVME_UT_FAKE_H

#include <stdlib.h>
#include <string.h>

#include "nvme/nvme_internal.h"

/* Translation: IOVA = VA (cut at nothing), or "scattered": every 4 KiB page
 * lands at its own IOVA (page number reversed within a window), so runs end
 * at every page boundary. */
enum ut_xlate_mode { UT_XLATE_IDENTITY, UT_XLATE_SCATTER, UT_XLATE_NONE };

struct ut_xlate {
	enum ut_xlate_mode mode;
	uintptr_t bad_lo, bad_hi; /* [lo, hi) is not registered */
};

static inline uint64_t ut_xlate_fn(void *ctx, const void *vaddr, uint64_t *len)
{
	struct ut_xlate *x = ctx;
	uintptr_t va = (uintptr_t)vaddr;
	uint64_t room;

	if (x->mode == UT_XLATE_NONE || (va >= x->bad_lo && va < x->bad_hi))
		return UINT64_MAX;
	if (x->mode == UT_XLATE_IDENTITY) {
		if (x->bad_hi > va && len != NULL && va + *len > x->bad_lo)
			*len = x->bad_lo - va;
		return va;
	}
	room = 4096u - (va & 4095u);
	if (len != NULL && *len > room)
		*len = room;
	/* page p -> 0x10_0000_0000 + (0xfffff - p % 0x100000) pages */
	return 0x1000000000ull + ((0xfffffull - ((va >> 12) & 0xfffffull)) << 12) + (va & 4095u);
}

static inline uint64_t ut_iova(struct ut_xlate *x, const void *p)
{
	return ut_xlate_fn(x, p, NULL);
}

struct ut_qpair {
	struct vpio_nvme_qpair qp;
	struct vpio_nvme_cmd *sq;
	struct vpio_nvme_cpl *cq;
	struct nvme_req *reqs;
	uint8_t *lists;
	uint32_t sq_db, cq_db;
	uint32_t shadow[4], eventidx[4];
	struct ut_xlate xlate;
	struct vpio_nvme_ctrlr *ctrlr;
	struct vpio_nvme_ns ns;
};

/* A connected qpair of n entries (qid 1) on a fake controller with one
 * namespace of num_blocks blocks of 2^block_shift bytes. */
static inline struct ut_qpair *ut_qpair_new(uint16_t n, uint32_t max_xfer, uint32_t block_shift, uint64_t num_blocks)
{
	struct ut_qpair *u = aligned_alloc(64, (sizeof(*u) + 63u) & ~(size_t)63u);
	struct vpio_nvme_qpair *qp = &u->qp;
	uint32_t i;

	memset(u, 0, sizeof(*u));

	u->sq = calloc(n, sizeof(*u->sq));
	u->cq = calloc(n, sizeof(*u->cq));
	u->reqs = aligned_alloc(64, (size_t)(n - 1u) * sizeof(*u->reqs));
	qp->host_done = calloc(n - 1u, sizeof(*qp->host_done)); /* as every qpair has */
	u->lists = aligned_alloc(4096, (size_t)(n - 1u) * NVME_LIST_BYTES);
	u->ctrlr = aligned_alloc(64, (sizeof(*u->ctrlr) + 63u) & ~(size_t)63u);
	memset(u->ctrlr, 0, sizeof(*u->ctrlr));
	strcpy(u->ctrlr->name, "ut:nvme");
	u->ctrlr->cdata.oncs = VPIO_NVME_ONCS_COMPARE | VPIO_NVME_ONCS_DSM | VPIO_NVME_ONCS_WRITE_ZEROES;
	u->ctrlr->max_xfer = max_xfer;
	u->ctrlr->page_shift = 12;
	atomic_init(&u->ctrlr->epoch, VPIO_NVME_CTRLR_READY);
	qp->ctrlr = u->ctrlr;
	qp->ctrlr_epoch = &u->ctrlr->epoch;
	qp->qid = 1;
	qp->max_xfer = max_xfer;
	qp->log_budget = 1000;
	qp->sq_db = &u->sq_db;
	qp->cq_db = &u->cq_db;
	u->xlate.mode = UT_XLATE_IDENTITY;
	qp->dptr.xlate = ut_xlate_fn;
	qp->dptr.xlate_ctx = &u->xlate;
	qp->dptr.page_shift = 12;
	qp->dptr.sgl_mode = VPIO_NVME_SGL_AUTO;
	nvme_qpair_init_rings(qp, n, u->sq, u->cq, u->reqs);
	for (i = 0; i < qp->num_reqs; i++) {
		u->reqs[i].list = u->lists + (size_t)i * NVME_LIST_BYTES;
		u->reqs[i].list_iova = (uintptr_t)u->reqs[i].list;
	}
	qp->state = NVME_QP_CONNECTED;
	u->ns.ctrlr = u->ctrlr;
	u->ns.id = 1;
	nvme_ns_set_active(&u->ns, true);
	u->ns.block_shift = block_shift;
	u->ns.block_size = 1u << block_shift;
	u->ns.num_blocks = num_blocks;
	return u;
}

static inline void ut_qpair_free(struct ut_qpair *u)
{
	free(u->sq);
	free(u->cq);
	free(u->reqs);
	free(u->lists);
	free(u->ctrlr);
	free(u->qp.host_done);
	free(u);
}

/* A completion callback that counts its calls and keeps the last status
 * (without the phase bit). */
struct ut_done {
	unsigned calls;
	uint16_t status;
};

static inline void ut_done_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct ut_done *d = arg;

	d->calls++;
	d->status = cpl->status & VPIO_NVME_STATUS_NO_PHASE_MASK;
}

/* Post a completion as the device would at the qpair's next CQ slot
 * (tracking the device's own tail and phase in *tail / *phase). */
static inline void ut_post(struct ut_qpair *u, uint16_t *tail, uint8_t *phase, uint16_t cid, uint16_t sqhd,
			   uint16_t status)
{
	struct vpio_nvme_cpl *e = &u->cq[*tail];

	e->cdw0 = 0;
	e->cdw1 = 0;
	e->sqhd = sqhd;
	e->sqid = u->qp.qid;
	e->cid = cid;
	e->status = (uint16_t)((status & VPIO_NVME_STATUS_NO_PHASE_MASK) | *phase);
	if (++*tail == u->qp.num_entries) {
		*tail = 0;
		*phase ^= 1u;
	}
}

#endif
