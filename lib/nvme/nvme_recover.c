/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery off the I/O thread.  An I/O thread's health check that finds a
 * fatal controller status (CSTS.CFS) or a command Abort did not help must
 * not stop the controller itself: disabling waits up to CAP.TO and a
 * reset brings the controller up again, seconds in which that thread
 * would not poll.  It moves the controller to RESETTING (a new epoch: every
 * qpair then returns -EAGAIN) and posts the work here; the controller's
 * recovery thread, started at attach and asleep on a condition variable
 * otherwise, runs it.  When the controller leaves RESETTING the qpairs
 * catch up on their own threads as after any reset or failure
 * (nvme_qpair_state.c): requests end with ABORTED BY HOST, and after a
 * reset the queues are re-created.
 *
 * A request is posted only by the thread that moved the controller from
 * READY to RESETTING, so a newer one replaces an older one only when the
 * controller was made READY in between (then the older one's epoch is
 * stale anyway).  Work is skipped when the epoch moved on meanwhile
 * (vpio_nvme_ctrlr_reset() from another thread); detach stops the thread
 * after the work it is running, dropping what was not started.
 */
#include <errno.h>
#include <string.h>

#include "nvme_internal.h"

static void *recovery_main(void *arg)
{
	struct vpio_nvme_ctrlr *c = arg;
	uint32_t epoch, taken = 0;
	uint8_t kind;

	pthread_mutex_lock(&c->recovery_lock);
	for (;;) {
		while (c->recovery_posted == taken && !c->recovery_stop)
			pthread_cond_wait(&c->recovery_cond, &c->recovery_lock);
		if (c->recovery_stop)
			break;
		taken = c->recovery_posted;
		kind = c->recovery_kind;
		epoch = c->recovery_epoch;
		pthread_mutex_unlock(&c->recovery_lock);
		if (kind == NVME_RECOVER_RESET)
			nvme_ctrlr_timeout_escalate(c, epoch);
		else
			nvme_ctrlr_fail_finish(c, epoch);
		pthread_mutex_lock(&c->recovery_lock);
	}
	pthread_mutex_unlock(&c->recovery_lock);
	return NULL;
}

int nvme_recovery_start(struct vpio_nvme_ctrlr *c)
{
	int rc = pthread_mutex_init(&c->recovery_lock, NULL);

	if (rc == 0) {
		rc = pthread_cond_init(&c->recovery_cond, NULL);
		if (rc != 0)
			pthread_mutex_destroy(&c->recovery_lock);
	}
	if (rc == 0) {
		rc = pthread_create(&c->recovery_thread, NULL, recovery_main, c);
		if (rc != 0) {
			pthread_cond_destroy(&c->recovery_cond);
			pthread_mutex_destroy(&c->recovery_lock);
		}
	}
	if (rc != 0) {
		VPIO_ERR(NVME_MOD, "%s: cannot start the controller's recovery thread: %s", c->name, strerror(rc));
		return -rc;
	}
	c->recovery_started = true;
	return 0;
}

void nvme_recovery_stop(struct vpio_nvme_ctrlr *c)
{
	if (!c->recovery_started)
		return;
	pthread_mutex_lock(&c->recovery_lock);
	c->recovery_stop = true;
	pthread_cond_broadcast(&c->recovery_cond);
	pthread_mutex_unlock(&c->recovery_lock);
	pthread_join(c->recovery_thread, NULL);
	pthread_cond_destroy(&c->recovery_cond);
	pthread_mutex_destroy(&c->recovery_lock);
	c->recovery_started = false;
}

void nvme_recovery_post(struct vpio_nvme_ctrlr *c, enum nvme_recovery kind, uint32_t epoch)
{
	if (!c->recovery_started) { /* a controller in a test, never attached */
		if (kind == NVME_RECOVER_RESET)
			nvme_ctrlr_timeout_escalate(c, epoch);
		else
			nvme_ctrlr_fail_finish(c, epoch);
		return;
	}
	pthread_mutex_lock(&c->recovery_lock);
	c->recovery_kind = (uint8_t)kind;
	c->recovery_epoch = epoch;
	c->recovery_posted++;
	pthread_cond_broadcast(&c->recovery_cond);
	pthread_mutex_unlock(&c->recovery_lock);
}
