/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue memory of every qpair, the admin queue and I/O queues alike: the
 * SQ and CQ rings and the per-request list blocks (PRP lists, SGL
 * segments, DSM ranges).  The controller's memory page (CC.MPS, 4 KiB <<
 * CAP.MPSMIN or more) rules, not the host's:
 *  - rings start on a memory page (ASQB/ACQB and the PRP1 of Create I/O
 *    SQ/CQ with CAP.CQR are page aligned) and are allocated in whole pages;
 *  - every ring is contiguous in device address space (CAP.CQR, and the
 *    driver never uses PRP-list queues);
 *  - a list block (NVME_LIST_BYTES) is contiguous and lies within one
 *    memory page: a PRP list must not cross one (the last entry of a page
 *    would be taken for a chain pointer).
 * What the translation says is checked, not assumed: a failure is one line
 * naming the ring or list and what is wrong, and nothing stays allocated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"

const struct nvme_qmem_ops nvme_qmem_dma = { vpio_dma_zmalloc, vpio_dma_free, nvme_xlate_vtophys, NULL };

int nvme_qmem_check(const char *name, uint16_t qid, const char *what, uint64_t iova, uint64_t contig, uint64_t len,
		    uint64_t align, uint32_t page_shift)
{
	uint64_t page = 1ull << page_shift;

	if (iova == VPIO_VTOPHYS_ERROR) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s has no device address (not registered DMA memory)", name, qid, what);
		return -EFAULT;
	}
	if (contig < len) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s is not contiguous for the device (%llu of %llu bytes at 0x%llx)", name, qid,
			 what, (unsigned long long)contig, (unsigned long long)len, (unsigned long long)iova);
		return -EFAULT;
	}
	if ((iova & (align - 1u)) != 0) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s at device address 0x%llx is not %llu-byte aligned", name, qid, what,
			 (unsigned long long)iova, (unsigned long long)align);
		return -EFAULT;
	}
	if (len <= page && (iova & (page - 1u)) + len > page) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s at device address 0x%llx (%llu bytes) crosses a %llu-byte memory page", name,
			 qid, what, (unsigned long long)iova, (unsigned long long)len, (unsigned long long)page);
		return -EFAULT;
	}
	return 0;
}

static int xlate_check(const struct vpio_nvme_qpair *qp, const struct nvme_qmem_ops *ops, const char *what,
		       const void *va, uint64_t len, uint64_t align, uint32_t page_shift, uint64_t *iova)
{
	uint64_t contig = len;

	*iova = ops->xlate(ops->xlate_ctx, va, &contig);
	return nvme_qmem_check(qp->ctrlr != NULL ? qp->ctrlr->name : "nvme", qp->qid, what, *iova, contig, len, align,
			       page_shift);
}

static size_t page_round(size_t len, uint32_t page_shift)
{
	size_t page = (size_t)1 << page_shift;

	return (len + page - 1u) & ~(page - 1u);
}

void nvme_qmem_free(struct vpio_nvme_qpair *qp, const struct nvme_qmem_ops *ops)
{
	ops->free(qp->sq_mem);
	ops->free(qp->cq_mem);
	ops->free(qp->list_mem);
	qp->sq_mem = qp->cq_mem = qp->list_mem = NULL;
	qp->sq = NULL;
	qp->cq = NULL;
}

void nvme_qpair_free_mem(struct vpio_nvme_qpair *qp)
{
	nvme_qmem_free(qp, &nvme_qmem_dma);
}

/* The rings and one list block per request, checked; the lists' device
 * addresses go into the requests. */
static int alloc_checked(struct vpio_nvme_qpair *qp, uint32_t n, uint32_t page_shift, const struct nvme_qmem_ops *ops)
{
	size_t page = (size_t)1 << page_shift, sq_len = (size_t)n * sizeof(struct vpio_nvme_cmd);
	size_t cq_len = (size_t)n * sizeof(struct vpio_nvme_cpl), list_len = (size_t)(n - 1u) * NVME_LIST_BYTES;
	uint32_t i;
	int rc;

	qp->sq_mem = ops->zmalloc(page_round(sq_len, page_shift), page);
	qp->cq_mem = ops->zmalloc(page_round(cq_len, page_shift), page);
	qp->list_mem = ops->zmalloc(page_round(list_len, page_shift), page);
	if (qp->reqs == NULL)
		qp->reqs = aligned_alloc(64, (size_t)(n - 1u) * sizeof(struct nvme_req));
	if (!qp->sq_mem || !qp->cq_mem || !qp->list_mem || !qp->reqs) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: no memory for %u entries (%zu bytes of DMA memory in %zu-byte pages)",
			 qp->ctrlr != NULL ? qp->ctrlr->name : "nvme", qp->qid, n,
			 page_round(sq_len, page_shift) + page_round(cq_len, page_shift) +
				 page_round(list_len, page_shift),
			 page);
		return -ENOMEM;
	}
	rc = xlate_check(qp, ops, "SQ memory", qp->sq_mem, sq_len, page, page_shift, &qp->sq_iova);
	if (rc == 0)
		rc = xlate_check(qp, ops, "CQ memory", qp->cq_mem, cq_len, page, page_shift, &qp->cq_iova);
	if (rc != 0)
		return rc;
	nvme_qpair_init_rings(qp, (uint16_t)n, qp->sq_mem, qp->cq_mem, qp->reqs);
	for (i = 0; i < qp->num_reqs; i++) {
		qp->reqs[i].list = (uint8_t *)qp->list_mem + (size_t)i * NVME_LIST_BYTES;
		rc = xlate_check(qp, ops, "a PRP/SGL list block", qp->reqs[i].list, NVME_LIST_BYTES, NVME_LIST_BYTES,
				 page_shift, &qp->reqs[i].list_iova);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int nvme_qmem_alloc(struct vpio_nvme_qpair *qp, uint32_t n, uint32_t page_shift, const struct nvme_qmem_ops *ops)
{
	bool own_reqs = qp->reqs == NULL;
	int rc;

	if (n < 2 || n > 65535u || page_shift < 12u || page_shift > 27u) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %u entries in %u-bit memory pages: not a queue (2..65535 entries, 4 KiB..128 MiB "
			 "pages)", qp->ctrlr != NULL ? qp->ctrlr->name : "nvme", qp->qid, n, page_shift);
		return -EINVAL;
	}
	rc = alloc_checked(qp, n, page_shift, ops);
	if (rc != 0) {
		nvme_qmem_free(qp, ops);
		if (own_reqs) {
			free(qp->reqs);
			qp->reqs = NULL;
		}
	}
	return rc;
}
