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

/* Commands the host ended while batch commands were outstanding: first
 * in line for poll_batch. */
static uint32_t take_host_done(struct vpio_nvme_qpair *qp, struct vpio_nvme_io_cpl *out, uint32_t max)
{
	uint32_t n = qp->host_done_n < max ? qp->host_done_n : max, i;

	for (i = 0; i < n; i++)
		out[i] = qp->host_done[i];
	for (i = n; i < qp->host_done_n; i++)
		qp->host_done[i - n] = qp->host_done[i];
	qp->host_done_n -= n;
	return n;
}

/* Both polls: out NULL for process_completions (callbacks only). */
static inline __attribute__((always_inline)) int poll(struct vpio_nvme_qpair *qp, uint32_t max,
						      struct vpio_nvme_io_cpl *out, const char *what)
{
	uint64_t now;
	uint32_t n, nout = 0;
	int rc;

	if (nvme_unlikely(qp == NULL || qp->owner != nvme_thread_id() || qp->in_cpl)) {
		rc = poll_checks(qp);
		if (rc != 0)
			return rc;
	}
	rc = nvme_qpair_ready(qp, what);
	if (nvme_unlikely(rc != 0))
		return rc;
	if (out == NULL && nvme_unlikely(qp->batch_outstanding != 0)) {
		VPIO_ERR(NVME_MOD, "process_completions: qpair %u has %u batch commands outstanding: poll it with "
			 "vpio_nvme_qpair_poll_batch()", qp->qid, qp->batch_outstanding);
		return -EBUSY;
	}
	qp->stats.polls++;
	if (qp->sq_tail != qp->sq_rung)
		nvme_ring_sq(qp);
	if (out == NULL) {
		n = nvme_cq_drain(qp, max);
	} else {
		if (nvme_unlikely(qp->host_done_n != 0))
			nout = take_host_done(qp, out, max);
		if (nout < max)
			nvme_cq_drain_batch(qp, max - nout, out + nout, &n);
		else
			n = 0;
		n += nout;
	}
	if (qp->sq_tail != qp->sq_rung)
		nvme_ring_sq(qp);
	if (qp->outstanding != 0 && qp->next_check != 0) {
		now = vpio_get_ticks();
		if (nvme_unlikely(now >= qp->next_check)) {
			nvme_qpair_health_check(qp, now);
			rc = nvme_qpair_ready(qp, what);
			if (rc != 0)
				return out != NULL && n > 0 ? (int)n : rc;
		}
	}
	return (int)n;
}

int vpio_nvme_qpair_process_completions(struct vpio_nvme_qpair *qp, uint32_t max)
{
	return poll(qp, max, NULL, "process_completions");
}

int vpio_nvme_qpair_poll_batch(struct vpio_nvme_qpair *qp, struct vpio_nvme_io_cpl *cpls, uint32_t max)
{
	if (nvme_unlikely(cpls == NULL || max == 0)) {
		VPIO_ERR(NVME_MOD, "poll_batch: cpls %p, max %u: need an array of max >= 1 entries", (void *)cpls, max);
		return -EINVAL;
	}
	return poll(qp, max, cpls, "poll_batch");
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
