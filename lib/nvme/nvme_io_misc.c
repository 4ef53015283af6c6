/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-command I/O: flush, dataset management (deallocate) and the raw
 * passthrough.  None of them is split.
 */
#include <errno.h>
#include <string.h>

#include "nvme_internal.h"

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
