/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring state of a qpair: indexes, phase, the request pool and its cids.
 * Pure (no device, no DMA): tests and the fuzzer lay rings out in plain
 * memory.
 *
 * A cid is the request's index in its low bits and a generation in the bits
 * left above them, bumped at every reuse, so that a stale or duplicated
 * completion does not match a newer command in the same slot.
 */
#include <string.h>

#include "nvme_internal.h"

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
