/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The admin queue: an ordinary qpair (qid 0, PRPs only, doorbell rung per
 * command) behind a recursive lock, since any thread may send admin
 * commands.  Synchronous helpers submit, then poll until their callback
 * ran, the controller failed, or admin_timeout_ms passed (then the
 * controller is reset, which ends the command and frees its slot).  Their
 * data goes through a DMA bounce buffer, so callers may pass any memory;
 * it is as large as what the device moves by the specification (Identify
 * writes 4 KiB whatever the caller's length), in whole memory pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"

#define NVME_ADMIN_QUEUE_MAX 4096u

struct sync_ctx {
	_Atomic bool done;
	struct vpio_nvme_cpl cpl;
};

int nvme_admin_qpair_create(struct vpio_nvme_ctrlr *c)
{
	uint32_t n = c->opts.admin_queue_size;
	struct vpio_nvme_qpair *qp;
	int rc;

	if (n > NVME_ADMIN_QUEUE_MAX)
		n = NVME_ADMIN_QUEUE_MAX;
	if (n > c->max_queue_size)
		n = c->max_queue_size;
	if (n < 2)
		n = 2;
	qp = aligned_alloc(64, (sizeof(*qp) + 63u) & ~(size_t)63u);
	if (qp != NULL)
		memset(qp, 0, sizeof(*qp));
	if (qp == NULL) {
		VPIO_ERR(NVME_MOD, "%s: out of memory for the admin queue pair", c->name);
		return -ENOMEM;
	}
	c->adminq = qp;
	qp->ctrlr = c;
	qp->ctrlr_epoch = &c->epoch;
	qp->log_budget = 16;
	qp->max_xfer = NVME_PRP_LIST_MAX << c->page_shift;
	qp->dptr.xlate = nvme_xlate_vtophys;
	qp->dptr.page_shift = c->page_shift;
	qp->dptr.sgl_mode = VPIO_NVME_SGL_NEVER;
	qp->sq_db = nvme_doorbell(c, 0, false);
	qp->cq_db = nvme_doorbell(c, 0, true);
	rc = nvme_qmem_alloc(qp, n, c->page_shift, &nvme_qmem_dma);
	if (rc != 0)
		return rc;
	qp->state = NVME_QP_CONNECTED;
	return 0;
}

void nvme_admin_qpair_destroy(struct vpio_nvme_ctrlr *c)
{
	struct vpio_nvme_qpair *qp = c->adminq;

	if (qp == NULL)
		return;
	nvme_qpair_free_mem(qp);
	free(qp->reqs);
	free(qp);
	c->adminq = NULL;
}

static int admin_usable(struct vpio_nvme_ctrlr *c)
{
	uint32_t st = nvme_ctrlr_state(c);

	if (c->adminq != NULL && c->adminq->state == NVME_QP_CONNECTED &&
	    (st == VPIO_NVME_CTRLR_READY || st == VPIO_NVME_CTRLR_RESETTING))
		return 0;
	VPIO_ERR(NVME_MOD, "%s: admin command refused: controller is %s", c->name, vpio_nvme_ctrlr_state_str(st));
	return st == VPIO_NVME_CTRLR_REMOVED || st == VPIO_NVME_CTRLR_DETACHED ? -ENODEV : -ENXIO;
}

static int admin_submit_locked(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, uint32_t len,
			       vpio_nvme_cmd_cb cb, void *cb_arg)
{
	struct vpio_nvme_qpair *qp = c->adminq;
	struct iovec iov = { buf, len };
	struct nvme_iov_cur cur = { &iov, 1, 0, 0 };
	struct vpio_nvme_cmd *sqe;
	struct nvme_req *req;
	int64_t got;
	int rc = nvme_admin_check_buf(c, cmd, len);

	if (rc == 0)
		rc = admin_usable(c);
	if (rc != 0)
		return rc;
	if (nvme_sq_full(qp, qp->sq_tail) || (req = nvme_req_get(qp)) == NULL) {
		VPIO_ERR(NVME_MOD, "%s: admin queue full (%u commands outstanding)", c->name, qp->outstanding);
		return -EAGAIN;
	}
	sqe = &qp->sq[qp->sq_tail];
	*sqe = *cmd; /* without data, the data pointer is the caller's (queue bases, dbbuf) */
	sqe->cid = req->cid;
	if (len > 0) {
		sqe->flags = (uint8_t)(cmd->flags & ~VPIO_NVME_PSDT_MASK);
		got = nvme_build_prp(&qp->dptr, &cur, len, req->list, req->list_iova, sqe);
		if (got != (int64_t)len) {
			nvme_req_put(qp, req);
			if (got == NVME_EPRPLAYOUT)
				VPIO_ERR(NVME_MOD, "%s: admin data buffer is not contiguous for the device", c->name);
			return got < 0 && got != NVME_EPRPLAYOUT ? (int)got : -EINVAL;
		}
	}
	req->cb = cb;
	req->cb_arg = cb_arg;
	req->opc = cmd->opc;
	atomic_fetch_add(&c->stat_admin, 1);
	nvme_qpair_commit(qp, req, nvme_sq_next(qp, qp->sq_tail), 1);
	return 0;
}

int nvme_admin_submit(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, uint32_t len,
		      vpio_nvme_cmd_cb cb, void *cb_arg)
{
	int rc;

	pthread_mutex_lock(&c->admin_lock);
	rc = admin_submit_locked(c, cmd, buf, len, cb, cb_arg);
	pthread_mutex_unlock(&c->admin_lock);
	return rc;
}

int nvme_admin_poll(struct vpio_nvme_ctrlr *c, bool try)
{
	int n = 0;

	if (try) {
		if (pthread_mutex_trylock(&c->admin_lock) != 0)
			return 0;
	} else {
		pthread_mutex_lock(&c->admin_lock);
	}
	if (c->adminq != NULL && c->adminq->state == NVME_QP_CONNECTED && !c->adminq->in_cpl)
		n = (int)nvme_cq_drain(c->adminq, 0);
	pthread_mutex_unlock(&c->admin_lock);
	return n;
}

static void sync_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct sync_ctx *ctx = arg;

	ctx->cpl = *cpl;
	atomic_store_explicit(&ctx->done, true, memory_order_release);
}

static void free_bounce_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	(void)cpl;
	vpio_dma_free(arg);
}

/* A waiter that gives up: its request may still complete later, into the
 * bounce buffer, which is freed then.  False when it completed meanwhile
 * (ctx is done, the bounce buffer still the caller's). */
static bool abandon(struct vpio_nvme_ctrlr *c, struct sync_ctx *ctx, void *bounce)
{
	struct vpio_nvme_qpair *qp;
	bool found = false;
	uint32_t i;

	pthread_mutex_lock(&c->admin_lock);
	qp = c->adminq;
	for (i = 0; qp != NULL && i < qp->num_reqs && !atomic_load(&ctx->done); i++) {
		if (qp->reqs[i].state == NVME_REQ_OUTSTANDING && qp->reqs[i].cb_arg == ctx) {
			qp->reqs[i].cb = bounce ? free_bounce_cb : NULL;
			qp->reqs[i].cb_arg = bounce;
			found = true;
		}
	}
	pthread_mutex_unlock(&c->admin_lock);
	return found;
}

/* Poll until the callback ran (0), the controller failed (which ends the
 * command too), or the timeout (-ETIMEDOUT, not logged). */
static int sync_wait(struct vpio_nvme_ctrlr *c, struct sync_ctx *ctx)
{
	uint64_t deadline = vpio_get_ticks() + nvme_ms_to_ticks(c, c->opts.admin_timeout_ms);
	uint32_t spins = 0;
	int rc;

	while (!atomic_load_explicit(&ctx->done, memory_order_acquire)) {
		nvme_admin_poll(c, false);
		if (atomic_load_explicit(&ctx->done, memory_order_acquire))
			break;
		if (++spins % 32u == 0) {
			rc = nvme_ctrlr_check_csts(c);
			if (rc != 0)
				nvme_ctrlr_fail(c, rc); /* ends our command too */
			else if (vpio_get_ticks() > deadline)
				return -ETIMEDOUT;
		}
		if (spins > 200)
			nvme_delay_us(spins < 2000 ? 10u : 200u);
	}
	return 0;
}

/* A command the controller did not complete in time keeps its slot until
 * it does; a reset ends it (Abort is no help on the admin queue).  As for
 * I/O, unless no_reset_on_timeout; and not while the controller is being
 * brought up (that attach or reset fails, and the next reset ends it). */
static void timed_out(struct vpio_nvme_ctrlr *c, const char *what)
{
	uint32_t epoch = atomic_load_explicit(&c->epoch, memory_order_acquire);
	bool ready = NVME_EPOCH_STATE(epoch) == VPIO_NVME_CTRLR_READY;
	bool reset = ready && !c->opts.no_reset_on_timeout;

	VPIO_ERR(NVME_MOD, "%s: %s timed out after %u ms; %s", c->name, what, c->opts.admin_timeout_ms,
		 reset	  ? "resetting the controller"
		 : ready ? "not resetting (no_reset_on_timeout): it keeps its admin queue slot until completed"
			 : "the controller is not ready; the next reset ends it");
	if (reset)
		nvme_ctrlr_timeout_escalate(c, epoch);
}

/* From an admin completion callback (this thread drains the admin queue)
 * a synchronous command could never complete. */
static bool in_admin_callback(struct vpio_nvme_ctrlr *c)
{
	bool busy;

	pthread_mutex_lock(&c->admin_lock);
	busy = c->adminq != NULL && c->adminq->in_cpl; /* only the holder can set it */
	pthread_mutex_unlock(&c->admin_lock);
	return busy;
}

/* The bytes the data pointer of a synchronous command describes: what the
 * device moves by the specification (a caller's buffer may be shorter: it
 * gets the first len bytes), else len.  0 with the caller's own data
 * pointer (len 0).  Negative errno (logged) for a buffer that cannot fit. */
static int64_t sync_xfer(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, const void *buf, size_t len,
			 const char *what)
{
	uint64_t need = nvme_admin_xfer_len(cmd), xfer = len;

	if (len > 0 && buf == NULL) {
		VPIO_ERR(NVME_MOD, "%s: %s: buffer is NULL (%zu bytes)", c->name, what, len);
		return -EINVAL;
	}
	if (len == 0 && (cmd->dptr.prp.prp1 != 0 || cmd->dptr.prp.prp2 != 0))
		return 0;
	if (need != NVME_XFER_UNKNOWN) {
		if (len > need) {
			VPIO_ERR(NVME_MOD, "%s: %s: a %zu-byte buffer, but the command moves %llu bytes", c->name, what, len,
				 (unsigned long long)need);
			return -EINVAL;
		}
		if (len == 0 && need > 0 && VPIO_NVME_OPC_DATA_DIR(cmd->opc) != VPIO_NVME_DATA_CTRLR_TO_HOST) {
			VPIO_ERR(NVME_MOD, "%s: %s: the controller reads a %llu-byte data structure; pass it", c->name, what,
				 (unsigned long long)need);
			return -EINVAL;
		}
		xfer = need;
	}
	if (xfer > c->adminq->max_xfer) {
		VPIO_ERR(NVME_MOD, "%s: %s: %llu bytes of data is more than an admin command moves (%u)", c->name, what,
			 (unsigned long long)xfer, c->adminq->max_xfer);
		return -EINVAL;
	}
	return (int64_t)xfer;
}

int nvme_admin_sync(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, size_t len,
		    struct vpio_nvme_cpl *cpl_out, const char *what)
{
	char st[VPIO_NVME_STATUS_STRLEN];
	struct sync_ctx ctx = { false, { 0 } };
	uint64_t page = 1ull << c->page_shift;
	void *bounce = NULL;
	int64_t xfer;
	int rc = admin_usable(c);

	if (rc != 0)
		return rc;
	xfer = sync_xfer(c, cmd, buf, len, what);
	if (xfer < 0)
		return (int)xfer;
	if (in_admin_callback(c)) {
		VPIO_ERR(NVME_MOD, "%s: %s from an admin completion callback: it could never complete; send it asynchronously",
			 c->name, what);
		return -EBUSY;
	}
	if (xfer > 0) {
		/* whole pages: even a device that writes more than the
		 * specification says for a command the driver does not know
		 * stays inside them (the data pointer ends in the last one) */
		bounce = vpio_dma_zmalloc((size_t)((xfer + page - 1u) & ~(page - 1u)), page);
		if (bounce == NULL) {
			VPIO_ERR(NVME_MOD, "%s: %s: no DMA memory for a %lld-byte buffer", c->name, what, (long long)xfer);
			return -ENOMEM;
		}
		if (len > 0)
			memcpy(bounce, buf, len);
	}
	rc = nvme_admin_submit(c, cmd, bounce, (uint32_t)xfer, sync_cb, &ctx);
	if (rc == 0)
		rc = sync_wait(c, &ctx);
	if (rc == -ETIMEDOUT && !abandon(c, &ctx, bounce))
		rc = 0; /* completed while we gave up */
	if (rc == -ETIMEDOUT) {
		timed_out(c, what); /* the bounce buffer is freed when it completes */
		return rc;
	}
	if (rc != 0) {
		vpio_dma_free(bounce);
		return rc;
	}
	if (len > 0)
		memcpy(buf, bounce, len); /* the caller's len: never more */
	vpio_dma_free(bounce);
	if (cpl_out != NULL) {
		*cpl_out = ctx.cpl;
		return 0;
	}
	if (!vpio_nvme_cpl_is_error(&ctx.cpl))
		return 0;
	VPIO_ERR(NVME_MOD, "%s: %s failed: %s", c->name, what, vpio_nvme_status_fmt(st, sizeof(st), ctx.cpl.status));
	return vpio_nvme_status_to_errno(ctx.cpl.status);
}

int vpio_nvme_ctrlr_cmd_admin_raw(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf,
				  uint32_t len, vpio_nvme_cmd_cb cb, void *cb_arg)
{
	if (c == NULL || cmd == NULL || (len > 0 && buf == NULL)) {
		VPIO_ERR(NVME_MOD, "admin raw command: controller, command or buffer is NULL");
		return -EINVAL;
	}
	return nvme_admin_submit(c, cmd, buf, len, cb, cb_arg);
}

int vpio_nvme_ctrlr_process_admin_completions(struct vpio_nvme_ctrlr *c)
{
	if (c == NULL) {
		VPIO_ERR(NVME_MOD, "process_admin_completions: controller is NULL");
		return -EINVAL;
	}
	return nvme_admin_poll(c, false);
}
