/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Batch I/O: many single-command reads and writes in one call and one
 * doorbell; their completions come back as an array from poll_batch, with
 * no callback.  Each command's buffer is one IOVA-contiguous run, so its
 * PRPs come from one translation (or none: the _iova variant).
 *
 * All or nothing per call for bad input: commands are built into the SQ
 * slots beyond the tail and published only when every entry that fits
 * has been checked.
 */
#include <errno.h>
#include <stdlib.h>

#include "nvme_internal.h"

static int bad_entry(uint32_t i, const char *why, int rc)
{
	VPIO_ERR(NVME_MOD, "submit_batch: ios[%u] %s", i, why);
	return rc;
}

/* The device address of entry i's buffer, or a negative errno (logged). */
static inline int64_t entry_iova(const struct vpio_nvme_qpair *qp, const struct vpio_nvme_io *io, uint32_t i,
				 uint64_t len, bool pre)
{
	uint64_t run = len, iova;

	if (pre) {
		iova = io->iova;
	} else {
		if (nvme_unlikely(io->buf == NULL))
			return bad_entry(i, "has a NULL buf", -EINVAL);
		iova = nvme_xlate(&qp->dptr, io->buf, &run);
		if (nvme_unlikely(iova == UINT64_MAX || run == 0))
			return bad_entry(i, "buf is not registered for DMA: allocate it with vpio_dma_malloc() or "
					    "register it with vpio_mem_register()", -EFAULT);
		if (nvme_unlikely(run < len))
			return bad_entry(i, "buf is not one IOVA-contiguous run: use vpio_nvme_ns_cmd_read/write for "
					    "it", -EINVAL);
	}
	if (nvme_unlikely((iova & 3u) != 0 || iova > (UINT64_MAX >> 1)))
		return bad_entry(i, "buffer address is not 4-byte aligned, as NVMe requires", -EINVAL);
	return (int64_t)iova;
}

static int batch_alloc_host_done(struct vpio_nvme_qpair *qp)
{
	if (qp->host_done != NULL)
		return 0;
	qp->host_done = calloc(qp->num_reqs, sizeof(*qp->host_done));
	if (qp->host_done != NULL)
		return 0;
	VPIO_ERR(NVME_MOD, "submit_batch: out of memory for the batch state of qpair %u", qp->qid);
	return -ENOMEM;
}

static int submit_batch(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct vpio_nvme_io *ios,
			uint32_t n, uint32_t io_flags, bool pre)
{
	struct nvme_req *chain = NULL, **link = &chain, *req;
	uint16_t tail;
	uint32_t i, room;
	uint64_t len;
	int64_t iova;
	int rc = nvme_qpair_ready(qp, "submit_batch");

	if (nvme_unlikely(rc != 0))
		return rc;
	if (nvme_unlikely(ios == NULL || n == 0 || (io_flags & ~(VPIO_NVME_IO_FUA | VPIO_NVME_IO_LR)) != 0)) {
		VPIO_ERR(NVME_MOD, "submit_batch: ios %p, n %u, io_flags 0x%x: need ios, n >= 1 and only FUA/LR flags",
			 (const void *)ios, n, io_flags);
		return -EINVAL;
	}
	if (nvme_unlikely(qp->host_done == NULL) && (rc = batch_alloc_host_done(qp)) != 0)
		return rc;
	room = qp->num_reqs - qp->outstanding;
	tail = qp->sq_tail;
	for (i = 0; i < n && i < room && !nvme_sq_full(qp, tail); i++) {
		const struct vpio_nvme_io *io = &ios[i];

		if (nvme_unlikely(io->opc != VPIO_NVME_OPC_READ && io->opc != VPIO_NVME_OPC_WRITE)) {
			rc = bad_entry(i, "opc must be VPIO_NVME_OPC_READ or VPIO_NVME_OPC_WRITE", -EINVAL);
			goto fail;
		}
		rc = nvme_ns_io_check(ns, qp, io->lba, io->lba_count, "submit_batch");
		if (nvme_unlikely(rc != 0))
			goto fail;
		len = (uint64_t)io->lba_count << ns->block_shift;
		if (nvme_unlikely(len > qp->max_xfer)) {
			rc = bad_entry(i, "is larger than one command (vpio_nvme_ns_get_max_io_xfer_size()): use "
					  "vpio_nvme_ns_cmd_read/write for it", -EINVAL);
			goto fail;
		}
		iova = entry_iova(qp, io, i, len, pre);
		if (nvme_unlikely(iova < 0)) {
			rc = (int)iova;
			goto fail;
		}
		req = nvme_req_get(qp);
		*link = req;
		link = &req->next;
		nvme_prp_contig(&qp->sq[tail], req, qp->dptr.page_shift, (uint64_t)iova, len);
		nvme_rw_fill(&qp->sq[tail], io->opc, io_flags, ns->id, req->cid, io->lba, io->lba_count);
		req->cb = NULL;
		req->cb_arg = io->ctx;
		req->opc = io->opc;
		req->batch = 1;
		tail = nvme_sq_next(qp, tail);
	}
	if (i == 0)
		return -EAGAIN;
	qp->batch_outstanding += i;
	nvme_qpair_commit(qp, chain, tail, i);
	return (int)i;
fail:
	nvme_qpair_rollback(qp, chain);
	return rc;
}

int vpio_nvme_ns_submit_batch(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct vpio_nvme_io *ios,
			      uint32_t n, uint32_t io_flags)
{
	return submit_batch(ns, qp, ios, n, io_flags, false);
}

int vpio_nvme_ns_submit_batch_iova(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
				   const struct vpio_nvme_io *ios, uint32_t n, uint32_t io_flags)
{
	return submit_batch(ns, qp, ios, n, io_flags, true);
}
