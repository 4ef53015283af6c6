/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * When things go wrong: the periodic health check of I/O qpairs
 * (timeouts, Abort), failure, reset, and the recovery thread that runs
 * resets and stops off the I/O threads.
 */
#include <errno.h>
#include <string.h>

#include "nvme_internal.h"

/* ======================================================================== */
/*
 * Periodic health check of an I/O qpair, run from process_completions while
 * commands are outstanding (every 10 ms, or a quarter of the timeout when
 * that is shorter).  It is the only place the I/O path reads a register:
 *  - CSTS: all ones = the device is gone, CFS = controller fatal status;
 *    either fails the controller (outstanding requests then end with
 *    ABORTED_BY_HOST; stopping a controller with CFS, which takes up to
 *    CAP.TO, is left to the recovery thread);
 *  - timeouts: a command is stamped with the check count at submit and is
 *    late once timeout_checks checks have passed (never early, at most a
 *    quarter of the timeout late).  A late command gets an Abort; if it is
 *    still there one timeout later, the controller is reset: this thread
 *    only moves it to RESETTING and returns (-EAGAIN until the reset is
 *    done), the reset runs on the recovery thread (below).
 */

static void on_timeout(struct vpio_nvme_qpair *qp, struct nvme_req *req)
{
	struct vpio_nvme_ctrlr *c = qp->ctrlr;

	req->stamp = qp->check_seq;
	if (!req->aborted) {
		req->aborted = 1;
		qp->err_stats.timeouts++;
		atomic_fetch_add(&c->stat_timeouts, 1);
		VPIO_ERR(NVME_MOD, "%s: qpair %u: command cid 0x%x (opcode 0x%02x) timed out after %u ms; sending Abort",
			 c->name, qp->qid, req->cid, req->opc, qp->opts.timeout_ms);
		nvme_ctrlr_abort_async(c, qp->qid, req->cid);
		return;
	}
	VPIO_ERR(NVME_MOD, "%s: qpair %u: command cid 0x%x still outstanding after Abort; %s", c->name, qp->qid, req->cid,
		 c->opts.no_reset_on_timeout ? "not resetting (no_reset_on_timeout)"
					     : "resetting the controller (on its recovery thread)");
	if (!c->opts.no_reset_on_timeout)
		nvme_ctrlr_escalate_async(c, qp->epoch);
}

static void scan_timeouts(struct vpio_nvme_qpair *qp)
{
	uint32_t i, epoch = qp->epoch;
	struct nvme_req *req;

	for (i = 0; i < qp->num_reqs; i++) {
		req = &qp->reqs[i];
		if (req->state != NVME_REQ_OUTSTANDING || qp->check_seq - req->stamp < qp->timeout_checks)
			continue;
		on_timeout(qp, req);
		if (atomic_load(qp->ctrlr_epoch) != epoch)
			return; /* reset: the qpair catches up on its next call */
	}
}

void nvme_qpair_health_check(struct vpio_nvme_qpair *qp, uint64_t now)
{
	struct vpio_nvme_ctrlr *c = qp->ctrlr;
	uint32_t every = qp->timeout_checks / 4u ? qp->timeout_checks / 4u : 1u;
	int rc;

	qp->next_check = now + qp->check_interval;
	qp->check_seq++;
	rc = nvme_ctrlr_check_csts(c);
	if (rc != 0) {
		nvme_ctrlr_fail_async(c, rc);
		return;
	}
	nvme_admin_poll(c, true); /* reap Abort completions if the admin queue is free */
	/* a recovery asked for by another qpair holds the admin queue for a
	 * while: no Abort (which would wait for it) until this qpair caught up */
	if (atomic_load_explicit(qp->ctrlr_epoch, memory_order_acquire) != qp->epoch)
		return;
	if (qp->timeout_checks != 0 && qp->check_seq % every == 0)
		scan_timeouts(qp);
}

/* ======================================================================== */
/*
 * Controller state changes: failure (CSTS.CFS, all-ones registers) and
 * reset.  What an I/O thread finds is only begun there (the _async forms:
 * a state change) and finished on the recovery thread (below).  Every change bumps the epoch that I/O qpairs compare on each
 * call; they catch up on their own threads (nvme_qpair.c).  Lock
 * order: ctrlr lock, then admin lock.
 */

static uint32_t next_epoch(uint32_t old, enum vpio_nvme_ctrlr_state st)
{
	return ((old >> NVME_STATE_BITS) + 1u) << NVME_STATE_BITS | (uint32_t)st;
}

void nvme_ctrlr_set_state(struct vpio_nvme_ctrlr *c, enum vpio_nvme_ctrlr_state st)
{
	uint32_t old = atomic_load(&c->epoch);

	while (!atomic_compare_exchange_weak(&c->epoch, &old, next_epoch(old, st)))
		;
}

/* From state `from` to `to`; *epoch (may be NULL) gets the new epoch. */
static bool change_state(struct vpio_nvme_ctrlr *c, enum vpio_nvme_ctrlr_state from, enum vpio_nvme_ctrlr_state to,
			 uint32_t *epoch)
{
	uint32_t old = atomic_load(&c->epoch);

	do {
		if (NVME_EPOCH_STATE(old) != (uint32_t)from)
			return false;
	} while (!atomic_compare_exchange_weak(&c->epoch, &old, next_epoch(old, to)));
	if (epoch != NULL)
		*epoch = next_epoch(old, to);
	return true;
}

bool nvme_ctrlr_change_state(struct vpio_nvme_ctrlr *c, enum vpio_nvme_ctrlr_state from,
			     enum vpio_nvme_ctrlr_state to)
{
	return change_state(c, from, to, NULL);
}

/* Disable; when that does not work, a PCI function reset, then again. */
static int hard_disable(struct vpio_nvme_ctrlr *c)
{
	int rc = nvme_ctrlr_disable(c);

	if (rc == 0 || rc == -ENODEV)
		return rc;
	VPIO_WARN(NVME_MOD, "%s: disabling the controller failed; trying a PCI function reset", c->name);
	rc = vpio_pci_device_reset(c->dev);
	if (rc != 0) {
		VPIO_ERR(NVME_MOD, "%s: PCI function reset failed (%d); the controller cannot be reset", c->name, rc);
		return rc;
	}
	return nvme_ctrlr_disable(c);
}

/* End the admin queue's commands (the device no longer works on them). */
static void cancel_admin(struct vpio_nvme_ctrlr *c)
{
	pthread_mutex_lock(&c->admin_lock);
	if (c->adminq != NULL)
		nvme_qpair_cancel_all(c->adminq);
	pthread_mutex_unlock(&c->admin_lock);
}

/*
 * A removed device cannot touch host memory: its requests end at once.  A
 * failed one is stopped first (CC.EN = 0, CSTS.RDY = 0 within CAP.TO, a
 * function reset if it will not), and only then is the state FAILED, which
 * lets every qpair end its requests; meanwhile the controller looks like
 * it is being reset (-EAGAIN).  A reset that starts meanwhile wins.
 * fail_begin() is the quick part: true when the stop is still to do, in
 * *epoch (RESETTING).
 */
static bool fail_begin(struct vpio_nvme_ctrlr *c, int why, uint32_t *epoch)
{
	if (why == -ENODEV) {
		if (!nvme_ctrlr_change_state(c, VPIO_NVME_CTRLR_READY, VPIO_NVME_CTRLR_REMOVED))
			return false; /* already failed, removed, resetting or detached */
		atomic_fetch_add(&c->stat_failures, 1);
		VPIO_ERR(NVME_MOD, "%s: registers read all ones: the device was removed; outstanding commands end with "
			 "ABORTED BY HOST", c->name);
		cancel_admin(c);
		return false;
	}
	if (!change_state(c, VPIO_NVME_CTRLR_READY, VPIO_NVME_CTRLR_RESETTING, epoch))
		return false;
	atomic_fetch_add(&c->stat_failures, 1);
	VPIO_ERR(NVME_MOD, "%s: controller fatal status (CSTS.CFS): it is disabled, outstanding commands end with ABORTED BY "
		 "HOST; reset the controller with vpio_nvme_ctrlr_reset()", c->name);
	return true;
}

void nvme_ctrlr_fail_finish(struct vpio_nvme_ctrlr *c, uint32_t epoch)
{
	int rc;

	pthread_mutex_lock(&c->admin_lock); /* recursive: cancel_admin() takes it again */
	rc = hard_disable(c);		     /* a failure is logged there */
	cancel_admin(c);
	pthread_mutex_unlock(&c->admin_lock);
	atomic_compare_exchange_strong(&c->epoch, &epoch,
				       next_epoch(epoch, rc == -ENODEV ? VPIO_NVME_CTRLR_REMOVED : VPIO_NVME_CTRLR_FAILED));
}

void nvme_ctrlr_fail(struct vpio_nvme_ctrlr *c, int why)
{
	uint32_t epoch;

	if (fail_begin(c, why, &epoch))
		nvme_ctrlr_fail_finish(c, epoch);
}

void nvme_ctrlr_fail_async(struct vpio_nvme_ctrlr *c, int why)
{
	uint32_t epoch;

	if (fail_begin(c, why, &epoch))
		nvme_recovery_post(c, NVME_RECOVER_FAIL, epoch);
}

static int reset_locked(struct vpio_nvme_ctrlr *c)
{
	int rc;

	nvme_ctrlr_set_state(c, VPIO_NVME_CTRLR_RESETTING);
	pthread_mutex_lock(&c->admin_lock);
	rc = hard_disable(c);
	if (rc == 0) {
		nvme_qpair_cancel_all(c->adminq);
		rc = nvme_ctrlr_restart(c);
	}
	pthread_mutex_unlock(&c->admin_lock);
	if (rc != 0) { /* the cause was logged where it was found */
		nvme_ctrlr_set_state(c, rc == -ENODEV ? VPIO_NVME_CTRLR_REMOVED : VPIO_NVME_CTRLR_FAILED);
		VPIO_NOTICE(NVME_MOD, "%s: reset did not bring the controller back; it is %s", c->name,
			    rc == -ENODEV ? "removed" : "failed");
		return rc;
	}
	atomic_fetch_add(&c->stat_resets, 1);
	nvme_ctrlr_set_state(c, VPIO_NVME_CTRLR_READY);
	VPIO_NOTICE(NVME_MOD, "%s: controller reset; qpairs reconnect on their next use", c->name);
	return 0;
}

/* Reset unless someone did since the caller saw seen_epoch. */
static int reset_if(struct vpio_nvme_ctrlr *c, bool check_epoch, uint32_t seen_epoch)
{
	uint32_t st;
	int rc;

	pthread_mutex_lock(&c->lock);
	st = nvme_ctrlr_state(c);
	if (check_epoch && atomic_load(&c->epoch) != seen_epoch) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (st == VPIO_NVME_CTRLR_DETACHED || st == VPIO_NVME_CTRLR_REMOVED) {
		pthread_mutex_unlock(&c->lock);
		VPIO_ERR(NVME_MOD, "%s: cannot reset: the controller is %s", c->name, vpio_nvme_ctrlr_state_str(st));
		return -ENODEV;
	}
	rc = reset_locked(c);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int vpio_nvme_ctrlr_reset(struct vpio_nvme_ctrlr *c)
{
	if (c == NULL) {
		VPIO_ERR(NVME_MOD, "reset: controller is NULL");
		return -EINVAL;
	}
	return reset_if(c, false, 0);
}

void nvme_ctrlr_timeout_escalate(struct vpio_nvme_ctrlr *c, uint32_t seen_epoch)
{
	reset_if(c, true, seen_epoch);
}

/* RESETTING at once (every qpair then returns -EAGAIN), the reset itself
 * on the recovery thread, which finds the epoch it was asked in. */
void nvme_ctrlr_escalate_async(struct vpio_nvme_ctrlr *c, uint32_t seen_epoch)
{
	uint32_t epoch = seen_epoch, next = next_epoch(seen_epoch, VPIO_NVME_CTRLR_RESETTING);

	if (NVME_EPOCH_STATE(seen_epoch) != VPIO_NVME_CTRLR_READY ||
	    !atomic_compare_exchange_strong(&c->epoch, &epoch, next))
		return; /* reset, failed or removed since: nothing to do */
	nvme_recovery_post(c, NVME_RECOVER_RESET, next);
}

/* ======================================================================== */
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
 * (nvme_qpair.c): requests end with ABORTED BY HOST, and after a
 * reset the queues are re-created.
 *
 * A request is posted only by the thread that moved the controller from
 * READY to RESETTING, so a newer one replaces an older one only when the
 * controller was made READY in between (then the older one's epoch is
 * stale anyway).  Work is skipped when the epoch moved on meanwhile
 * (vpio_nvme_ctrlr_reset() from another thread); detach stops the thread
 * after the work it is running, dropping what was not started.
 */

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
