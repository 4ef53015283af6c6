/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uring channels: one ring per channel with the target's file registered
 * and the process-wide fixed-buffer table (blk_buf.c); with iopoll a second,
 * interrupt-driven ring for the commands an IOPOLL ring does not take
 * (fsync, fallocate).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "blk_uring.h"

/*
 * Since Linux 6.12 the kernel's SQ thread keeps the CPUs of the thread that
 * creates the ring (6.1 lets it run on every online CPU), and a polling
 * application pins that thread to its core: the SQ thread would then run
 * only when the application's thread is preempted.  Let it run anywhere
 * the process may: widen the creating thread's CPUs while the ring is
 * made, then put them back.
 */
static int init_sqpoll(uint32_t entries, struct io_uring *ring, struct io_uring_params *p)
{
	cpu_set_t mine, all;
	bool widened;
	int rc;

	CPU_ZERO(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	widened = sched_getaffinity(0, sizeof(mine), &mine) == 0 && sched_setaffinity(0, sizeof(all), &all) == 0;
	rc = io_uring_queue_init_params(entries, ring, p);
	if (widened)
		sched_setaffinity(0, sizeof(mine), &mine);
	return rc;
}

int blk_uring_ring_init(struct blk_uring_target *ut, struct io_uring *ring, uint32_t entries, bool iopoll,
			bool sqpoll)
{
	struct io_uring_params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.flags = (iopoll ? IORING_SETUP_IOPOLL : 0) | (sqpoll ? IORING_SETUP_SQPOLL : 0);
	p.sq_thread_idle = ut->sqpoll_idle_ms;
	rc = sqpoll ? init_sqpoll(entries, ring, &p) : io_uring_queue_init_params(entries, ring, &p);
	if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES) {
		VPIO_ERR(BLK_MOD, "%s: io_uring is not available (%s): the kernel or a security policy refuses it (seccomp, sysctl kernel.io_uring_disabled)",
			ut->base.name, strerror(-rc));
		return rc;
	}
	if (rc != 0) {
		VPIO_ERR(BLK_MOD, "%s: cannot create an io_uring of %u entries%s%s: %s", ut->base.name, entries,
			iopoll ? ", iopoll" : "", sqpoll ? ", sqpoll" : "", strerror(-rc));
		return rc;
	}
	rc = io_uring_register_files(ring, &ut->fd, 1);
	if (rc != 0) {
		VPIO_ERR(BLK_MOD, "%s: io_uring refuses to register the file: %s", ut->base.name, strerror(-rc));
		io_uring_queue_exit(ring);
		return rc;
	}
	/* No io_uring_register_ring_fd(): a registered ring fd belongs to the
	 * registering thread, and a channel may move to another thread. */
	return 0;
}

int blk_uring_channel_create(struct vpio_blk_target *t, uint32_t depth, struct vpio_blk_channel **out)
{
	struct blk_uring_target *ut = UTGT(t);
	struct blk_uring_channel *uc = calloc(1, sizeof(*uc));
	int rc;

	if (uc == NULL) {
		VPIO_ERR(BLK_MOD, "%s: out of memory for a channel", t->name);
		return -ENOMEM;
	}
	rc = blk_channel_init(&uc->base, t, depth, BLK_URING_MAX_IOV);
	if (rc != 0)
		goto fail_free;
	rc = blk_uring_ring_init(ut, &uc->ring, depth, ut->iopoll, ut->sqpoll);
	if (rc != 0)
		goto fail_fini;
	uc->bufs.ring = &uc->ring;
	rc = blk_buf_ring_add(&uc->bufs);
	if (rc != 0)
		goto fail_ring;
	if (ut->iopoll) {
		rc = blk_uring_ring_init(ut, &uc->aux, depth, false, false);
		if (rc != 0)
			goto fail_bufs;
		uc->has_aux = true;
		uc->getevents = !ut->sqpoll;
	}
	*out = &uc->base;
	return 0;
fail_bufs:
	blk_buf_ring_remove(&uc->bufs);
fail_ring:
	io_uring_queue_exit(&uc->ring);
fail_fini:
	blk_channel_fini(&uc->base);
fail_free:
	free(uc);
	return rc;
}

/* Requests in flight belong to the kernel (it may still write their
 * buffers): wait for each, running its callback, before the ring goes. */
void blk_uring_channel_destroy(struct vpio_blk_channel *ch)
{
	struct blk_uring_channel *uc = UCH(ch);

	while (ch->outstanding > 0) {
		int rc = blk_uring_poll(ch, ch->depth);

		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			VPIO_ERR(BLK_MOD, "%s: %u request(s) cannot be waited for (%s); their buffers may still be written",
				ch->t->name, ch->outstanding, strerror(-rc));
			break;
		}
		if (rc == 0)
			sched_yield();
	}
	blk_buf_ring_remove(&uc->bufs);
	io_uring_queue_exit(&uc->ring);
	if (uc->has_aux)
		io_uring_queue_exit(&uc->aux);
	blk_channel_fini(ch);
	free(uc);
}
