/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controller state changes: failure (CSTS.CFS, all-ones registers) and
 * reset.  What an I/O thread finds is only begun there (the _async forms:
 * a state change) and finished on the recovery thread (nvme_recover.c).  Every change bumps the epoch that I/O qpairs compare on each
 * call; they catch up on their own threads (nvme_qpair_state.c).  Lock
 * order: ctrlr lock, then admin lock.
 */
#include <errno.h>

#include "nvme_internal.h"

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
