/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path of every qpair call: the owner-thread check and following
 * the controller's state.  The controller bumps its epoch on every change;
 * a qpair whose epoch is stale catches up here, on its owner's thread, so
 * that nobody else ever touches its rings:
 *   reset done       -> re-create the queues, then end the old requests
 *   failed           -> end outstanding requests, -ENXIO until a reset
 *   removed/detached -> end outstanding requests, -ENODEV
 *   resetting        -> -EAGAIN (not logged) until the reset is over
 * Requests are ended only once the device can no longer touch their
 * buffers: it was reset, it is gone (registers all ones), or it failed,
 * which it is said to be only after it was stopped (CC.EN = 0 and CSTS.RDY
 * = 0 seen, else a function reset; see nvme_ctrlr_fail()).  Should even
 * the function reset fail, an error says so and they are ended anyway.
 */
#include <errno.h>

#include "nvme_internal.h"

int nvme_qpair_check_owner(struct vpio_nvme_qpair *qp, const char *what)
{
	uintptr_t self = nvme_thread_id();

	if (qp->owner == self)
		return 0;
	if (qp->owner == 0 || (!qp->check_thread && !qp->in_cpl)) {
		qp->owner = self; /* first use, or handed over (check_thread off) */
		return 0;
	}
	VPIO_ERR(NVME_MOD, "%s: qpair %u used from a second thread%s; a qpair belongs to the first thread that used it "
		 "(allocate one qpair per thread)", what, qp->qid,
		 qp->in_cpl ? " while its owner is inside a completion callback" : "");
	return -EPERM;
}

void nvme_qpair_setup_shadow(struct vpio_nvme_qpair *qp)
{
	const struct vpio_nvme_ctrlr *c = qp->ctrlr;
	uint32_t stride = 1u << c->dstrd; /* in dwords */

	qp->sq_shadow = qp->cq_shadow = qp->sq_eventidx = qp->cq_eventidx = NULL;
	/* shadow entries of this qid must fit in the buffer's page */
	if (!c->dbbuf_on || (2u * qp->qid + 2u) * (4u << c->dstrd) > (1u << c->page_shift))
		return;
	qp->sq_shadow = &c->dbbuf[2u * qp->qid * stride];
	qp->cq_shadow = &c->dbbuf[(2u * qp->qid + 1u) * stride];
	qp->sq_eventidx = &c->eventidx[2u * qp->qid * stride];
	qp->cq_eventidx = &c->eventidx[(2u * qp->qid + 1u) * stride];
	/* A queue that existed under this id before may have left its
	 * EventIdx behind, and a device need not reset it when the queue is
	 * created (QEMU does not): a stale one would say "no MMIO needed" and
	 * the device would never hear of the first commands.  Both words are
	 * ours until the queue exists. */
	*qp->sq_shadow = 0;
	*qp->cq_shadow = 0;
	*qp->sq_eventidx = 0;
	*qp->cq_eventidx = 0;
}

int nvme_qpair_connect(struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_ctrlr *c = qp->ctrlr;
	int rc;

	nvme_qpair_reset_rings(qp);
	qp->sq_db = nvme_doorbell(c, qp->qid, false);
	qp->cq_db = nvme_doorbell(c, qp->qid, true);
	nvme_qpair_setup_shadow(qp);
	rc = nvme_ctrlr_create_io_queues(c, qp);
	if (rc != 0)
		return rc;
	qp->state = NVME_QP_CONNECTED;
	return 0;
}

/* After a reset: new queues on the controller, then end the old requests
 * (their callbacks may already submit on the new queues). */
static int reconnect(struct vpio_nvme_qpair *qp, const char *what)
{
	int rc;

	pthread_mutex_lock(&qp->ctrlr->lock);
	rc = nvme_qpair_connect(qp);
	pthread_mutex_unlock(&qp->ctrlr->lock);
	if (rc != 0) {
		qp->state = NVME_QP_FAILED;
		nvme_qpair_cancel_all(qp);
		VPIO_ERR(NVME_MOD, "%s: qpair %u could not be re-created after the reset of %s", what, qp->qid, qp->ctrlr->name);
		return -ENXIO;
	}
	qp->err_stats.reconnects++;
	nvme_qpair_cancel_all(qp);
	return 0;
}

/* Follow a new controller state; false while a reset is running. */
static bool follow_epoch(struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_ctrlr *c = qp->ctrlr;
	uint32_t epoch = atomic_load_explicit(&c->epoch, memory_order_acquire);
	uint32_t st = NVME_EPOCH_STATE(epoch); /* one snapshot of both */

	if (qp->epoch == epoch)
		return true;
	if (st == VPIO_NVME_CTRLR_RESETTING)
		return false;
	qp->epoch = epoch;
	if (qp->state == NVME_QP_REMOVED)
		return true;
	if (st == VPIO_NVME_CTRLR_READY) {
		qp->state = NVME_QP_DISCONNECTED;
	} else {
		qp->state = st == VPIO_NVME_CTRLR_FAILED ? NVME_QP_FAILED : NVME_QP_REMOVED;
		nvme_qpair_cancel_all(qp);
	}
	return true;
}

int nvme_qpair_sync_state(struct vpio_nvme_qpair *qp, const char *what)
{
	const struct vpio_nvme_ctrlr *c = qp->ctrlr;
	uint32_t st;

	if (!follow_epoch(qp))
		return -EAGAIN;
	switch (qp->state) {
	case NVME_QP_CONNECTED:
		return 0;
	case NVME_QP_DISCONNECTED:
		return reconnect(qp, what);
	case NVME_QP_FAILED:
		VPIO_ERR(NVME_MOD, "%s: controller %s has failed; reset it with vpio_nvme_ctrlr_reset()", what, c->name);
		return -ENXIO;
	default:
		st = NVME_EPOCH_STATE(qp->epoch);
		VPIO_ERR(NVME_MOD, "%s: controller %s is %s", what, c->name,
			 st == VPIO_NVME_CTRLR_DETACHED ? "detached" : "removed");
		return -ENODEV;
	}
}

int nvme_qpair_enter(struct vpio_nvme_qpair *qp, const char *what)
{
	int rc;

	if (qp == NULL) {
		VPIO_ERR(NVME_MOD, "%s: qpair is NULL", what);
		return -EINVAL;
	}
	rc = nvme_qpair_check_owner(qp, what);
	if (rc != 0)
		return rc;
	return nvme_qpair_sync_state(qp, what);
}
