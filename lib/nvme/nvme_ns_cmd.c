/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespace commands: read, write, compare (the direct path and the
 * general one that splits), write zeroes, flush, deallocate, raw, and
 * batches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"

/* ======================================================================== */
/*
 * Namespace I/O commands: argument checks, splitting into commands no
 * larger than the controller's transfer size, and building them straight
 * into SQ slots.  A request split into parts is all or nothing: when the
 * qpair cannot take every part, nothing is submitted and -EAGAIN returned.
 * -EAGAIN is flow control, not an error: it is the one failure not logged,
 * and it only comes back when the request fits once the qpair drains; one
 * that needs more commands than the qpair has requests gets -E2BIG.
 */

struct nvme_rw {
	const char *what;
	uint8_t opc;
	uint64_t lba;
	uint64_t nlb;
	uint32_t cdw12;		/* flags above NLB */
	const struct iovec *iov; /* NULL: no data (write zeroes) */
	uint32_t iovcnt;
	vpio_nvme_cmd_cb cb;
	void *cb_arg;
};

static void no_dptr(struct vpio_nvme_cmd *cmd)
{
	cmd->flags = 0;
	cmd->dptr.prp.prp1 = 0;
	cmd->dptr.prp.prp2 = 0;
}

/* Make the parts of a chain report through its first one. */
static void chain_link(struct nvme_req *chain, uint32_t n)
{
	struct nvme_req *req;

	if (n < 2)
		return;
	chain->pending = (uint16_t)n;
	chain->status = 0;
	for (req = chain; req != NULL; req = req->next)
		req->leader = chain;
}

/* A request that needs more commands than the qpair holds requests could
 * never be submitted: -EAGAIN would come back for ever. */
static int too_big(const struct vpio_nvme_qpair *qp, const struct vpio_nvme_ns *ns, const struct nvme_rw *rw,
		   uint64_t chunk)
{
	VPIO_ERR(NVME_MOD, "%s: %llu blocks need more commands than the %u this qpair holds (queue_size - 1; at most %llu "
		 "blocks per command): at most %llu blocks per call on it (vpio_nvme_qpair_get_max_io_bytes()); "
		 "split the request or use a larger queue", rw->what, (unsigned long long)rw->nlb, qp->num_reqs,
		 (unsigned long long)(chunk >> ns->block_shift),
		 (unsigned long long)((chunk >> ns->block_shift) * qp->num_reqs));
	return -E2BIG;
}

static int rw_submit(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct nvme_rw *rw)
{
	struct nvme_iov_cur cur = { rw->iov, rw->iovcnt, 0, 0 };
	struct nvme_req *chain = NULL, **link = &chain, *req;
	uint64_t left = rw->nlb << ns->block_shift, lba = rw->lba;
	uint64_t chunk = rw->iov ? (qp->max_xfer & ~(uint64_t)(ns->block_size - 1u)) : (uint64_t)NVME_MAX_NLB
										   << ns->block_shift;
	uint16_t tail = qp->sq_tail;
	uint32_t n = 0;
	int64_t got;

	if (nvme_unlikely(left > chunk * qp->num_reqs))
		return too_big(qp, ns, rw, chunk);
	while (left > 0) {
		req = nvme_req_get(qp);
		if (req == NULL || nvme_sq_full(qp, tail))
			goto full;
		*link = req;
		link = &req->next;
		if (rw->iov != NULL) {
			got = nvme_build_dptr(&qp->dptr, &cur, left < chunk ? left : chunk, ns->block_size, req->list,
					      req->list_iova, &qp->sq[tail]);
			if (got < 0)
				goto fail;
		} else {
			got = (int64_t)(left < chunk ? left : chunk);
			no_dptr(&qp->sq[tail]);
		}
		nvme_rw_fill(&qp->sq[tail], rw->opc, rw->cdw12, ns->id, req->cid, lba, (uint32_t)((uint64_t)got >> ns->block_shift));
		req->cb = rw->cb;
		req->cb_arg = rw->cb_arg;
		req->opc = rw->opc;
		tail = nvme_sq_next(qp, tail);
		lba += (uint64_t)got >> ns->block_shift;
		left -= (uint64_t)got;
		n++;
	}
	chain_link(chain, n);
	nvme_qpair_commit(qp, chain, tail, n);
	return 0;
full:
	if (req != NULL)
		nvme_req_put(qp, req);
	/* all of the pool and still not done (SGL parts cut short): never */
	got = n >= qp->num_reqs ? too_big(qp, ns, rw, chunk) : -EAGAIN;
fail:
	nvme_qpair_rollback(qp, chain);
	return (int)got;
}

int nvme_ns_refuse(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, const char *what)
{
	if (ns == NULL || ns->ctrlr != qp->ctrlr) {
		VPIO_ERR(NVME_MOD, "%s: namespace %s", what, ns == NULL ? "is NULL" : "belongs to another controller");
		return -EINVAL;
	}
	VPIO_ERR(NVME_MOD, "%s: namespace %u is not active", what, ns->id);
	return -ENXIO;
}

int nvme_ns_io_refuse(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, uint64_t lba, uint64_t nlb,
		      const char *what)
{
	int rc = nvme_ns_usable(ns, qp, what);

	if (rc != 0)
		return rc;
	if (nlb == 0) {
		VPIO_ERR(NVME_MOD, "%s: zero length", what);
		return -EINVAL;
	}
	if (lba >= ns->num_blocks || nlb > ns->num_blocks - lba) {
		VPIO_ERR(NVME_MOD, "%s: blocks %llu..%llu are beyond namespace %u (%llu blocks)", what, (unsigned long long)lba,
			 (unsigned long long)(lba + nlb - 1u), ns->id, (unsigned long long)ns->num_blocks);
		return -ERANGE;
	}
	VPIO_ERR(NVME_MOD, "%s: namespace %u has %u bytes of metadata per block; vpio has no metadata buffers", what, ns->id,
		 ns->md_size);
	return -ENOTSUP;
}

static inline int rw_flags(uint32_t io_flags, const char *what)
{
	if (nvme_unlikely(!nvme_io_flags_ok(io_flags))) {
		VPIO_ERR(NVME_MOD, "%s: unknown io_flags 0x%x (FUA and LR are allowed)", what, io_flags);
		return -EINVAL;
	}
	return 0;
}

static bool oncs_has(const struct vpio_nvme_ns *ns, uint32_t bit, const char *what)
{
	if (ns->ctrlr->cdata.oncs & bit)
		return true;
	VPIO_ERR(NVME_MOD, "%s: the controller does not support it (ONCS 0x%x)", what, ns->ctrlr->cdata.oncs);
	return false;
}

static inline int rw_contig(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, struct nvme_rw *rw,
			    const void *buf)
{
	struct iovec iov;
	uint64_t len;
	int rc = nvme_qpair_ready(qp, rw->what);

	if (nvme_unlikely(rc != 0))
		return rc;
	rc = nvme_ns_io_check(ns, qp, rw->lba, rw->nlb, rw->what);
	if (nvme_unlikely(rc != 0))
		return rc;
	if (nvme_unlikely(buf == NULL)) {
		VPIO_ERR(NVME_MOD, "%s: buffer is NULL", rw->what);
		return -EINVAL;
	}
	len = rw->nlb << ns->block_shift;
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	rw->iov = &iov;
	rw->iovcnt = 1;
	return rw_submit(ns, qp, rw);
}

static int iov_blocks(const struct vpio_nvme_ns *ns, const struct iovec *iov, int iovcnt, uint64_t *nlb,
		      const char *what)
{
	uint64_t total = 0;
	int i;

	if (iov == NULL || iovcnt <= 0 || iovcnt > NVME_MAX_IOVCNT) {
		VPIO_ERR(NVME_MOD, "%s: iovcnt %d (iov %p) must be 1..%d", what, iovcnt, (const void *)iov, NVME_MAX_IOVCNT);
		return -EINVAL;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL) {
			VPIO_ERR(NVME_MOD, "%s: iov[%d] has a NULL base", what, i);
			return -EINVAL;
		}
		if (iov[i].iov_len > UINT64_MAX - total) {
			VPIO_ERR(NVME_MOD, "%s: the lengths of iov[0..%d] add up to more than 2^64 bytes", what, i);
			return -EINVAL;
		}
		total += iov[i].iov_len;
	}
	if (total % ns->block_size != 0) {
		VPIO_ERR(NVME_MOD, "%s: %llu bytes is not a multiple of the %u-byte block size", what,
			 (unsigned long long)total, ns->block_size);
		return -EINVAL;
	}
	*nlb = total >> ns->block_shift;
	return 0;
}

static int rw_vec(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, struct nvme_rw *rw, const struct iovec *iov,
		  int iovcnt)
{
	int rc = nvme_qpair_ready(qp, rw->what);

	if (rc == 0)
		rc = nvme_ns_usable(ns, qp, rw->what);
	if (rc != 0)
		return rc;
	rc = iov_blocks(ns, iov, iovcnt, &rw->nlb, rw->what);
	if (rc != 0)
		return rc;
	rc = nvme_ns_io_check(ns, qp, rw->lba, rw->nlb, rw->what);
	if (rc != 0)
		return rc;
	rw->iov = iov;
	rw->iovcnt = (uint32_t)iovcnt;
	return rw_submit(ns, qp, rw);
}

#define RW_INIT(name, op, l, n, f, c, a) \
	{ .what = (name), .opc = (op), .lba = (l), .nlb = (n), .cdw12 = (f), .cb = (c), .cb_arg = (a) }

static int rw_slow(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, uint8_t opc,
						   const void *buf, uint64_t lba, uint32_t nlb, vpio_nvme_cmd_cb cb,
						   void *cb_arg, uint32_t io_flags)
{
	struct nvme_rw rw = RW_INIT(opc == VPIO_NVME_OPC_READ ? "read" : "write", opc, lba, nlb, io_flags, cb, cb_arg);

	if (rw_flags(io_flags, rw.what) != 0)
		return -EINVAL;
	return rw_contig(ns, qp, &rw, buf);
}

/* The slow paths have the public signature, so that the fast path ends
 * in a tail call to them. */
static __attribute__((noinline, noipa)) int read_slow(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
						     const void *buf, uint64_t lba, uint32_t nlb,
						     vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	return rw_slow(ns, qp, VPIO_NVME_OPC_READ, buf, lba, nlb, cb, cb_arg, io_flags);
}

static __attribute__((noinline, noipa)) int write_slow(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
						      const void *buf, uint64_t lba, uint32_t nlb,
						      vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	return rw_slow(ns, qp, VPIO_NVME_OPC_WRITE, buf, lba, nlb, cb, cb_arg, io_flags);
}

/*
 * The fast path of read and write: every check in one condition, one
 * translation, PRPs straight from it, one request.  Anything else goes to
 * the general path (a tail call), which repeats the checks with their error lines and
 * handles what is not common (reconnect after a reset, splitting, a
 * buffer in several IOVA runs, SGLs).
 */
static inline __attribute__((always_inline)) int rw_fast(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
							 uint8_t opc, const void *buf, uint64_t lba, uint32_t nlb,
							 vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	struct vpio_nvme_cmd *cmd;
	struct nvme_req *req;
	uint64_t len, iova;
	uint16_t tail, next;

	if (nvme_unlikely(!nvme_qpair_current(qp) || !nvme_ns_io_ok(ns, qp, lba, nlb) || buf == NULL ||
			  !nvme_io_flags_ok(io_flags)))
		goto slow;
	len = (uint64_t)nlb << ns->block_shift;
	/* No call on this path, only tail calls: everything stays in scratch
	 * registers.  A buffer that is not in one mapped page, SGL-only
	 * qpairs and a test's own translation go to the general path. */
	if (nvme_unlikely(len > qp->max_xfer || !qp->fast_prp))
		goto slow;
	iova = env_vtophys_try(buf, len);
	if (nvme_unlikely((iova & 3u) != 0)) /* also VPIO_VTOPHYS_ERROR (all ones) */
		goto slow;
	tail = qp->sq_tail;
	next = nvme_sq_next(qp, tail);
	if (nvme_unlikely(next == qp->sq_head || qp->free_reqs == NULL))
		return -EAGAIN;
	req = nvme_req_get(qp);
	cmd = &qp->sq[tail];
	nvme_prp_contig(cmd, req, qp->dptr.page_shift, iova, len);
	nvme_rw_fill(cmd, opc, io_flags, ns->id, req->cid, lba, nlb);
	req->cb = cb;
	req->cb_arg = cb_arg;
	req->opc = opc;
	return nvme_qpair_commit_one(qp, req, next);
slow:
	if (opc == VPIO_NVME_OPC_READ)
		return read_slow(ns, qp, buf, lba, nlb, cb, cb_arg, io_flags);
	return write_slow(ns, qp, buf, lba, nlb, cb, cb_arg, io_flags);
}

int vpio_nvme_ns_cmd_read(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, void *buf, uint64_t lba,
			  uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	return rw_fast(ns, qp, VPIO_NVME_OPC_READ, buf, lba, lba_count, cb, cb_arg, io_flags);
}

int vpio_nvme_ns_cmd_write(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const void *buf, uint64_t lba,
			   uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	return rw_fast(ns, qp, VPIO_NVME_OPC_WRITE, buf, lba, lba_count, cb, cb_arg, io_flags);
}

int vpio_nvme_ns_cmd_compare(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const void *buf, uint64_t lba,
			     uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	struct nvme_rw rw = RW_INIT("compare", VPIO_NVME_OPC_COMPARE, lba, lba_count, io_flags, cb, cb_arg);

	if (rw_flags(io_flags, rw.what) != 0)
		return -EINVAL;
	if (ns != NULL && !oncs_has(ns, VPIO_NVME_ONCS_COMPARE, rw.what))
		return -ENOTSUP;
	return rw_contig(ns, qp, &rw, buf);
}

int vpio_nvme_ns_cmd_readv(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct iovec *iov, int iovcnt,
			   uint64_t lba, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	struct nvme_rw rw = RW_INIT("readv", VPIO_NVME_OPC_READ, lba, 0, io_flags, cb, cb_arg);

	if (rw_flags(io_flags, rw.what) != 0)
		return -EINVAL;
	return rw_vec(ns, qp, &rw, iov, iovcnt);
}

int vpio_nvme_ns_cmd_writev(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct iovec *iov, int iovcnt,
			    uint64_t lba, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	struct nvme_rw rw = RW_INIT("writev", VPIO_NVME_OPC_WRITE, lba, 0, io_flags, cb, cb_arg);

	if (rw_flags(io_flags, rw.what) != 0)
		return -EINVAL;
	return rw_vec(ns, qp, &rw, iov, iovcnt);
}

int vpio_nvme_ns_cmd_comparev(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct iovec *iov,
			      int iovcnt, uint64_t lba, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	struct nvme_rw rw = RW_INIT("comparev", VPIO_NVME_OPC_COMPARE, lba, 0, io_flags, cb, cb_arg);

	if (rw_flags(io_flags, rw.what) != 0)
		return -EINVAL;
	if (ns != NULL && !oncs_has(ns, VPIO_NVME_ONCS_COMPARE, rw.what))
		return -ENOTSUP;
	return rw_vec(ns, qp, &rw, iov, iovcnt);
}

int vpio_nvme_ns_cmd_write_zeroes(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, uint64_t lba,
				  uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags)
{
	struct nvme_rw rw = RW_INIT("write zeroes", VPIO_NVME_OPC_WRITE_ZEROES, lba, lba_count, io_flags, cb, cb_arg);
	int rc;

	if (rw_flags(io_flags, rw.what) != 0)
		return -EINVAL;
	rc = nvme_qpair_ready(qp, rw.what);
	if (rc != 0)
		return rc;
	rc = nvme_ns_io_check(ns, qp, lba, lba_count, rw.what);
	if (rc != 0)
		return rc;
	if (!oncs_has(ns, VPIO_NVME_ONCS_WRITE_ZEROES, rw.what))
		return -ENOTSUP;
	return rw_submit(ns, qp, &rw);
}

/* ======================================================================== */
/*
 * Single-command I/O: flush, dataset management (deallocate) and the raw
 * passthrough.  None of them is split.
 */

/* Claim a request and an SQ slot; -EAGAIN (not logged) when full. */
static int claim(struct vpio_nvme_qpair *qp, struct nvme_req **req, struct vpio_nvme_cmd **cmd)
{
	if (nvme_unlikely(nvme_sq_full(qp, qp->sq_tail)))
		return -EAGAIN;
	*req = nvme_req_get(qp);
	if (nvme_unlikely(*req == NULL))
		return -EAGAIN;
	*cmd = &qp->sq[qp->sq_tail];
	return 0;
}

static void finish(struct vpio_nvme_qpair *qp, struct nvme_req *req, struct vpio_nvme_cmd *cmd,
		   vpio_nvme_cmd_cb cb, void *cb_arg)
{
	cmd->cid = req->cid;
	req->cb = cb;
	req->cb_arg = cb_arg;
	req->opc = cmd->opc;
	nvme_qpair_commit(qp, req, nvme_sq_next(qp, qp->sq_tail), 1);
}

static void cmd_clear(struct vpio_nvme_cmd *cmd, uint8_t opc, uint32_t nsid)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = opc;
	cmd->nsid = nsid;
}

int vpio_nvme_ns_cmd_flush(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, vpio_nvme_cmd_cb cb, void *cb_arg)
{
	struct vpio_nvme_cmd *cmd;
	struct nvme_req *req;
	int rc = nvme_qpair_ready(qp, "flush");

	if (rc == 0)
		rc = nvme_ns_usable(ns, qp, "flush");
	if (rc != 0)
		return rc;
	rc = claim(qp, &req, &cmd);
	if (rc != 0)
		return rc;
	cmd_clear(cmd, VPIO_NVME_OPC_FLUSH, ns->id);
	finish(qp, req, cmd, cb, cb_arg);
	return 0;
}

static int dsm_check(const struct vpio_nvme_ns *ns, const struct vpio_nvme_dsm_range *r, uint16_t n)
{
	uint16_t i;

	if (r == NULL || n == 0 || n > VPIO_NVME_DSM_MAX_RANGES) {
		VPIO_ERR(NVME_MOD, "deallocate: %u ranges (at %p); 1..%u are allowed", n, (const void *)r,
			 VPIO_NVME_DSM_MAX_RANGES);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (r[i].length == 0) {
			VPIO_ERR(NVME_MOD, "deallocate: range %u has zero length", i);
			return -EINVAL;
		}
		if (r[i].starting_lba >= ns->num_blocks || r[i].length > ns->num_blocks - r[i].starting_lba) {
			VPIO_ERR(NVME_MOD, "deallocate: range %u (LBA %llu, %u blocks) is beyond namespace %u (%llu blocks)", i,
				 (unsigned long long)r[i].starting_lba, r[i].length, ns->id,
				 (unsigned long long)ns->num_blocks);
			return -ERANGE;
		}
	}
	return 0;
}

int vpio_nvme_ns_cmd_deallocate(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
				const struct vpio_nvme_dsm_range *ranges, uint16_t num_ranges, vpio_nvme_cmd_cb cb,
				void *cb_arg)
{
	struct vpio_nvme_cmd *cmd;
	struct nvme_req *req;
	int rc = nvme_qpair_ready(qp, "deallocate");

	if (rc == 0)
		rc = nvme_ns_usable(ns, qp, "deallocate");
	if (rc != 0)
		return rc;
	if ((ns->ctrlr->cdata.oncs & VPIO_NVME_ONCS_DSM) == 0) {
		VPIO_ERR(NVME_MOD, "deallocate: the controller does not support Dataset Management (ONCS 0x%x)",
			 ns->ctrlr->cdata.oncs);
		return -ENOTSUP;
	}
	rc = dsm_check(ns, ranges, num_ranges);
	if (rc != 0)
		return rc;
	rc = claim(qp, &req, &cmd);
	if (rc != 0)
		return rc;
	memcpy(req->list, ranges, num_ranges * sizeof(*ranges));
	cmd_clear(cmd, VPIO_NVME_OPC_DATASET_MANAGEMENT, ns->id);
	cmd->dptr.prp.prp1 = req->list_iova; /* one 4 KiB block, never crosses a page */
	cmd->cdw10 = num_ranges - 1u;
	cmd->cdw11 = VPIO_NVME_DSM_ATTR_DEALLOCATE;
	finish(qp, req, cmd, cb, cb_arg);
	return 0;
}

/* Bytes a raw command of the NVM command set moves by the specification,
 * 0 when the driver cannot tell (other opcodes, a namespace it does not
 * know: the device refuses those itself). */
static uint64_t raw_xfer_len(const struct vpio_nvme_qpair *qp, const struct vpio_nvme_cmd *cmd)
{
	const struct vpio_nvme_ctrlr *c = qp->ctrlr;
	const struct vpio_nvme_ns *ns;

	switch (cmd->opc) {
	case VPIO_NVME_OPC_READ:
	case VPIO_NVME_OPC_WRITE:
	case VPIO_NVME_OPC_COMPARE:
		if (c == NULL || c->ns == NULL || cmd->nsid == 0 || cmd->nsid > c->num_ns)
			return 0;
		ns = c->ns[cmd->nsid - 1u];
		if (ns == NULL || !ns->active)
			return 0;
		return ((uint64_t)(cmd->cdw12 & 0xffffu) + 1u) * (ns->block_size + (ns->md_extended ? ns->md_size : 0));
	case VPIO_NVME_OPC_DATASET_MANAGEMENT:
		return ((uint64_t)(cmd->cdw10 & 0xffu) + 1u) * sizeof(struct vpio_nvme_dsm_range);
	default:
		return 0;
	}
}

int vpio_nvme_qpair_cmd_raw(struct vpio_nvme_qpair *qp, const struct vpio_nvme_cmd *cmd, void *buf, uint32_t len,
			    vpio_nvme_cmd_cb cb, void *cb_arg)
{
	uint64_t need;
	struct iovec iov = { buf, len };
	struct nvme_iov_cur cur = { &iov, 1, 0, 0 };
	struct vpio_nvme_cmd *sqe;
	struct nvme_req *req;
	int64_t got;
	int rc = nvme_qpair_ready(qp, "raw I/O command");

	if (rc != 0)
		return rc;
	if (cmd == NULL || (len > 0 && buf == NULL) || len > qp->max_xfer) {
		VPIO_ERR(NVME_MOD, "raw I/O command: cmd %p, buf %p, len %u (at most %u bytes)", (const void *)cmd, buf, len,
			 qp->max_xfer);
		return -EINVAL;
	}
	need = raw_xfer_len(qp, cmd);
	if (need > len) {
		VPIO_ERR(NVME_MOD, "raw I/O command 0x%02x (cdw10 0x%x, cdw12 0x%x) moves %llu bytes, but its buffer has %u: the "
			 "device would go past its end", cmd->opc, cmd->cdw10, cmd->cdw12, (unsigned long long)need, len);
		return -EINVAL;
	}
	rc = claim(qp, &req, &sqe);
	if (rc != 0)
		return rc;
	*sqe = *cmd;
	if (len > 0) {
		got = nvme_build_dptr(&qp->dptr, &cur, len, 4, req->list, req->list_iova, sqe);
		if (got != (int64_t)len) {
			nvme_req_put(qp, req);
			if (got >= 0)
				VPIO_ERR(NVME_MOD, "raw I/O command: buffer too fragmented for one command");
			return got < 0 ? (int)got : -E2BIG;
		}
		sqe->flags = (uint8_t)((cmd->flags & ~VPIO_NVME_PSDT_MASK) | (sqe->flags & VPIO_NVME_PSDT_MASK));
	} else {
		sqe->flags &= (uint8_t)~VPIO_NVME_PSDT_MASK;
		sqe->dptr.prp.prp1 = 0;
		sqe->dptr.prp.prp2 = 0;
	}
	finish(qp, req, sqe, cb, cb_arg);
	return 0;
}

/* ======================================================================== */
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

/* Give back the requests of the commands built in [qp->sq_tail, tail). */
static void batch_rollback(struct vpio_nvme_qpair *qp, uint16_t tail)
{
	uint16_t t;

	for (t = qp->sq_tail; t != tail; t = nvme_sq_next(qp, t))
		nvme_req_put(qp, &qp->reqs[qp->sq[t].cid & qp->cid_mask]);
}

static int submit_batch(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct vpio_nvme_io *ios,
			uint32_t n, uint32_t io_flags, bool pre)
{
	const uint32_t check_seq = qp->check_seq;
	struct nvme_req *req;
	uint16_t tail;
	uint32_t i, room;
	uint64_t len;
	int64_t iova;
	int rc = nvme_qpair_ready(qp, "submit_batch");

	if (nvme_unlikely(rc != 0))
		return rc;
	if (nvme_unlikely(ios == NULL || n == 0 || !nvme_io_flags_ok(io_flags))) {
		VPIO_ERR(NVME_MOD, "submit_batch: ios %p, n %u, io_flags 0x%x: need ios, n >= 1 and only FUA/LR flags",
			 (const void *)ios, n, io_flags);
		return -EINVAL;
	}
	/* the namespace once; each entry's range below */
	if (nvme_unlikely(ns == NULL || ns->io_ctrlr != qp->ctrlr))
		return nvme_ns_io_refuse(ns, qp, 0, 1, "submit_batch");
	/* what the request pool and the host-ended list can take: a split
	 * request's finished first part holds a request while not
	 * outstanding (hence free_reqs below), and every batch command may
	 * end up in host_done */
	room = qp->num_reqs - qp->batch_outstanding - qp->host_done_n;
	tail = qp->sq_tail;
	/* Built straight into the SQ slots beyond the tail, each request
	 * marked outstanding as it goes: published below all at once, or
	 * given back (batch_rollback) on a bad entry. */
	for (i = 0; i < n && i < room && qp->free_reqs != NULL && !nvme_sq_full(qp, tail); i++) {
		const struct vpio_nvme_io *io = &ios[i];
		uint32_t head4; /* opc and rsvd[3] in one load */

		memcpy(&head4, io, sizeof(head4));
		if (nvme_unlikely(head4 != VPIO_NVME_OPC_READ && head4 != VPIO_NVME_OPC_WRITE)) {
			rc = bad_entry(i, io->opc != VPIO_NVME_OPC_READ && io->opc != VPIO_NVME_OPC_WRITE
					       ? "opc must be VPIO_NVME_OPC_READ or VPIO_NVME_OPC_WRITE"
					       : "rsvd must be zero", -EINVAL);
			goto fail;
		}
		if (nvme_unlikely(!nvme_ns_range_ok(ns, io->lba, io->lba_count))) {
			rc = nvme_ns_io_refuse(ns, qp, io->lba, io->lba_count, "submit_batch");
			goto fail;
		}
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
		nvme_prp_contig(&qp->sq[tail], req, qp->dptr.page_shift, (uint64_t)iova, len);
		nvme_rw_fill(&qp->sq[tail], io->opc, io_flags, ns->id, req->cid, io->lba, io->lba_count);
		req->cb = NULL;
		req->cb_arg = io->ctx;
		req->opc = io->opc;
		req->batch = 1;
		req->state = NVME_REQ_OUTSTANDING;
		req->stamp = check_seq;
		tail = nvme_sq_next(qp, tail);
	}
	if (i == 0)
		return -EAGAIN;
	nvme_cq_ack(qp, i);
	qp->sq_tail = tail;
	qp->outstanding += i;
	qp->batch_outstanding += i;
	qp->stats.submitted += i;
	if (!qp->delay_doorbell)
		nvme_ring_sq(qp);
	return (int)i;
fail:
	batch_rollback(qp, tail);
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
