/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe channels: one I/O qpair each (delayed doorbells: one SQ doorbell
 * per batch), requests handed to lib/nvme with the blk request context as
 * the callback argument, completions mapped to errno.
 */
#include <errno.h>
#include <stdlib.h>

#include "blk_nvme.h"

struct blk_nvme_channel {
	struct vpio_blk_channel base;
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;
	uint32_t queued; /* accepted since the last doorbell */
};

#define NCH(ch) ((struct blk_nvme_channel *)(ch))

static int nvme_channel_create(struct vpio_blk_target *t, uint32_t depth, struct vpio_blk_channel **out)
{
	struct blk_nvme_target *nt = (struct blk_nvme_target *)t;
	struct vpio_nvme_qpair_opts qo;
	struct blk_nvme_channel *nc = calloc(1, sizeof(*nc));
	int rc;

	if (nc == NULL) {
		VPIO_ERR(BLK_MOD, "%s: out of memory for a channel", t->name);
		return -ENOMEM;
	}
	rc = blk_channel_init(&nc->base, t, depth, 0);
	if (rc != 0) {
		free(nc);
		return rc;
	}
	vpio_nvme_qpair_opts_init(&qo);
	qo.queue_size = VPIO_MIN(nt->max_queue_size, VPIO_MAX(depth, nt->max_parts) + 1u);
	qo.delay_doorbell = true;
	rc = vpio_nvme_ctrlr_alloc_io_qpair(nt->c->ctrlr, &qo, &nc->qp); /* logs its own line */
	if (rc != 0) {
		blk_channel_fini(&nc->base);
		free(nc);
		return rc;
	}
	nc->ns = nt->ns;
	*out = &nc->base;
	return 0;
}

/* Outstanding requests end with ABORTED BY HOST (-ECANCELED) inside
 * free_io_qpair, once the controller can no longer touch their buffers. */
static void nvme_channel_destroy(struct vpio_blk_channel *ch)
{
	struct blk_nvme_channel *nc = NCH(ch);

	vpio_nvme_ctrlr_free_io_qpair(nc->qp);
	blk_channel_fini(ch);
	free(nc);
}

static void nvme_done(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct blk_req *req = arg;

	blk_req_done(req->ch, req, vpio_nvme_status_to_errno(cpl->status));
}

/* Count what was queued; lib/nvme has logged any other outcome (but
 * -EAGAIN, which it returns only for a request that fits once the qpair
 * drains: the qpair holds at least BLK_NVME_MAX_PARTS commands). */
static int nvme_result(struct blk_nvme_channel *nc, int rc)
{
	if (blk_likely(rc == 0))
		nc->queued++;
	return rc;
}

static int nvme_submit_rw(struct vpio_blk_channel *ch, struct blk_req *req, const struct iovec *iov, int iovcnt,
			  uint64_t lba, uint32_t nblocks)
{
	struct blk_nvme_channel *nc = NCH(ch);
	int rc;

	if (req->op == BLK_OP_READ)
		rc = iovcnt == 1 ? vpio_nvme_ns_cmd_read(nc->ns, nc->qp, iov->iov_base, lba, nblocks, nvme_done, req, 0)
				 : vpio_nvme_ns_cmd_readv(nc->ns, nc->qp, iov, iovcnt, lba, nvme_done, req, 0);
	else
		rc = iovcnt == 1 ? vpio_nvme_ns_cmd_write(nc->ns, nc->qp, iov->iov_base, lba, nblocks, nvme_done, req, 0)
				 : vpio_nvme_ns_cmd_writev(nc->ns, nc->qp, iov, iovcnt, lba, nvme_done, req, 0);
	return nvme_result(nc, rc);
}

static int nvme_submit_misc(struct vpio_blk_channel *ch, struct blk_req *req, uint64_t lba, uint32_t nblocks)
{
	struct blk_nvme_channel *nc = NCH(ch);
	struct vpio_nvme_dsm_range range = { 0, nblocks, lba }; /* lib/nvme sets the AD attribute */
	int rc;

	switch (req->op) {
	case BLK_OP_FLUSH:
		rc = vpio_nvme_ns_cmd_flush(nc->ns, nc->qp, nvme_done, req);
		break;
	case BLK_OP_WRITE_ZEROES:
		rc = vpio_nvme_ns_cmd_write_zeroes(nc->ns, nc->qp, lba, nblocks, nvme_done, req, 0);
		break;
	default:
		rc = vpio_nvme_ns_cmd_deallocate(nc->ns, nc->qp, &range, 1, nvme_done, req);
		break;
	}
	return nvme_result(nc, rc);
}

static int nvme_submit(struct vpio_blk_channel *ch)
{
	struct blk_nvme_channel *nc = NCH(ch);
	int rc = vpio_nvme_qpair_flush(nc->qp), n = (int)nc->queued;

	nc->queued = 0;
	return rc == -EAGAIN ? 0 : rc < 0 ? rc : n;
}

static int nvme_poll(struct vpio_blk_channel *ch, uint32_t max)
{
	struct blk_nvme_channel *nc = NCH(ch);
	int rc = vpio_nvme_qpair_process_completions(nc->qp, max);

	nc->queued = 0;
	return rc == -EAGAIN ? 0 : rc; /* -EAGAIN: a controller reset is running */
}

static void nvme_stats(const struct vpio_blk_channel *ch, struct vpio_blk_channel_stats *st)
{
	struct vpio_nvme_qpair_stats qs;

	vpio_nvme_qpair_get_stats(NCH(ch)->qp, &qs);
	st->batches = qs.sq_doorbells;
	st->syscalls = 0;
}

static void nvme_get_nvme(struct vpio_blk_channel *ch, struct vpio_nvme_ns **ns, struct vpio_nvme_qpair **qp)
{
	*ns = NCH(ch)->ns;
	*qp = NCH(ch)->qp;
}

const struct blk_ops blk_nvme_ops = {
	.name = "nvme",
	.channel_create = nvme_channel_create,
	.channel_destroy = nvme_channel_destroy,
	.submit_rw = nvme_submit_rw,
	.submit_misc = nvme_submit_misc,
	.submit = nvme_submit,
	.poll = nvme_poll,
	.stats = nvme_stats,
	.close = blk_nvme_close,
	.get_nvme = nvme_get_nvme,
};
