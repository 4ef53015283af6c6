/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The polling entry points of an I/O qpair.  Per call: at most one SQ
 * doorbell before draining (delayed submissions), one CQ head doorbell, one
 * SQ doorbell after (submissions made by callbacks), and, while commands
 * are outstanding, one tick read to see whether a health check is due.
 */
#include <errno.h>

#include "nvme_internal.h"

/* Checked before anything else: a second thread is refused (-EPERM), also
 * while the owner is inside a callback; and from a completion callback
 * (also one the host runs while catching up with a reset or failure)
 * nothing may drain or reconnect the qpair under the running loop. */
static int poll_checks(struct vpio_nvme_qpair *qp)
{
	int rc;

	if (qp == NULL) {
		VPIO_ERR(NVME_MOD, "process_completions: qpair is NULL");
		return -EINVAL;
	}
	rc = nvme_qpair_check_owner(qp, "process_completions");
	if (rc != 0)
		return rc;
	if (!qp->in_cpl)
		return 0;
	VPIO_ERR(NVME_MOD, "process_completions: qpair %u polled from its own completion callback", qp->qid);
	return -EBUSY;
}

int vpio_nvme_qpair_process_completions(struct vpio_nvme_qpair *qp, uint32_t max)
{
	uint64_t now;
	uint32_t n;
	int rc;

	if (nvme_unlikely(qp == NULL || qp->owner != nvme_thread_id() || qp->in_cpl)) {
		rc = poll_checks(qp);
		if (rc != 0)
			return rc;
	}
	rc = nvme_qpair_ready(qp, "process_completions");
	if (nvme_unlikely(rc != 0))
		return rc;
	qp->stats.polls++;
	if (qp->sq_tail != qp->sq_rung)
		nvme_ring_sq(qp);
	n = nvme_cq_drain(qp, max);
	if (qp->sq_tail != qp->sq_rung)
		nvme_ring_sq(qp);
	if (qp->outstanding != 0 && qp->next_check != 0) {
		now = vpio_get_ticks();
		if (nvme_unlikely(now >= qp->next_check)) {
			nvme_qpair_health_check(qp, now);
			rc = nvme_qpair_ready(qp, "process_completions");
			if (rc != 0)
				return rc;
		}
	}
	return (int)n;
}

int vpio_nvme_qpair_flush(struct vpio_nvme_qpair *qp)
{
	int rc = nvme_qpair_ready(qp, "flush doorbell");

	if (rc != 0)
		return rc;
	if (qp->sq_tail != qp->sq_rung)
		nvme_ring_sq(qp);
	return 0;
}
