/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The controller thread: polls CC and the doorbells, runs commands, and
 * handles requests from other threads (reset, detach, faults, memory
 * unregistrations), which it acknowledges.
 *
 * It spins while there is work, then backs off: sched_yield() after
 * EMU_SPIN_NS of idleness, 20 us naps after EMU_YIELD_NS, 1 ms naps after
 * EMU_NAP_NS.  While no device handle is open it sleeps on a condition
 * variable.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "emu_internal.h"

#define EMU_SPIN_NS 200000ull		/* busy-poll this long after the last work */
#define EMU_YIELD_NS 2000000ull		/* then yield the core until this */
#define EMU_NAP_NS 100000000ull		/* then 20 us naps until this, then 1 ms */
#define EMU_ADMIN_BUDGET 16
#define EMU_IO_BUDGET 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ns };

	nanosleep(&ts, NULL);
}

static void handle_request(struct vpio_emu_nvme *c)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	switch (c->req) {
	case EMU_REQ_UNMAP:
		if (!c->removed)
			emu_watch_check(c, c->req_va, c->req_len);
		break;
	case EMU_REQ_RESET:
	case EMU_REQ_DETACH:
		if (c->removed)
			rc = -ENODEV;
		else
			emu_ctrl_flr(c);
		break;
	case EMU_REQ_FATAL:
		if (c->removed) {
			rc = -ENODEV;
			break;
		}
		c->fatal = true;
		emu_csts_update(c, 0, VPIO_NVME_CSTS_CFS);
		break;
	case EMU_REQ_REMOVE:
		if (!c->removed) {
			emu_ctrl_disable(c);
			__atomic_store_n(&c->removed, true, __ATOMIC_RELEASE);
			memset(c->bar, 0xff, c->bar_len);
		}
		break;
	default:
		break;
	}
	c->req_rc = rc;
	c->ack_seq = c->req_seq;
	__atomic_store_n(&c->req, EMU_REQ_NONE, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int emu_nvme_request_range(struct vpio_emu_nvme *c, enum emu_req req, uint64_t va, uint64_t len)
{
	uint64_t seq;
	int rc;

	pthread_mutex_lock(&c->lock);
	while (__atomic_load_n(&c->req, __ATOMIC_ACQUIRE) != EMU_REQ_NONE && !c->stopped)
		pthread_cond_wait(&c->cond, &c->lock);
	if (c->stopped) {
		pthread_mutex_unlock(&c->lock);
		return -ENODEV;
	}
	seq = ++c->req_seq;
	c->req_va = va;
	c->req_len = len;
	__atomic_store_n(&c->req, req, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cond);
	while (c->ack_seq < seq && !c->stopped)
		pthread_cond_wait(&c->cond, &c->lock);
	rc = c->ack_seq >= seq ? c->req_rc : -ENODEV;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int emu_nvme_request(struct vpio_emu_nvme *c, enum emu_req req)
{
	return emu_nvme_request_range(c, req, 0, 0);
}

void emu_nvme_kick(struct vpio_emu_nvme *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------ thread */

struct idle {
	uint64_t iters;
	uint64_t since;	    /* 0: busy */
	uint64_t last;	    /* last clock read while idle */
	uint64_t busy_from; /* when the current busy period began (about) */
};

static unsigned queues_poll(struct vpio_emu_nvme *c)
{
	unsigned work = emu_sq_process(c, &c->sqs[0], EMU_ADMIN_BUDGET);

	for (unsigned i = 0; i < c->n_active && !c->fatal; i++)
		work += emu_sq_process(c, c->active[i], EMU_IO_BUDGET);
	return work;
}

static void backoff(struct vpio_emu_nvme *c, struct idle *id)
{
	uint64_t now, idle;

	if ((++id->iters & 255) != 0) {
		cpu_relax();
		return;
	}
	now = emu_now_ns();
	if (id->since == 0) {
		id->since = now;
		if (id->busy_from != 0) /* for the health log's busy time */
			emu_count(&c->busy_ns, now - id->busy_from);
		id->busy_from = 0;
	}
	id->last = now;
	idle = now - id->since;
	if (idle < EMU_SPIN_NS) {
		cpu_relax();
		return;
	}
	if (!c->idle_published) {
		/* going to sleep: ask for MMIO doorbells from now on */
		emu_dbbuf_publish(c);
		c->idle_published = true;
	}
	if (idle < EMU_YIELD_NS)
		sched_yield();
	else if (idle < EMU_NAP_NS || c->n_pending > 0 || c->ready_due_ns != 0 || c->unready_due_ns != 0)
		sleep_ns(20000);
	else
		sleep_ns(1000000);
}

/* Parked (closed) or removed: wait for a request, an open or the stop. */
static void wait_idle(struct vpio_emu_nvme *c)
{
	pthread_mutex_lock(&c->lock);
	if (__atomic_load_n(&c->req, __ATOMIC_ACQUIRE) == EMU_REQ_NONE && !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&c->open, __ATOMIC_ACQUIRE) && c->removed) {
			struct timespec ts;

			/* keep the BAR reading all-ones, whatever the driver writes */
			for (uint64_t off = 0; off < c->bar_len; off += 4) {
				if (emu_reg32(c, (uint32_t)off) != 0xffffffffu)
					emu_set_reg32(c, (uint32_t)off, 0xffffffffu);
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		} else {
			pthread_cond_wait(&c->cond, &c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void *emu_nvme_thread(void *arg)
{
	struct vpio_emu_nvme *c = arg;
	struct idle id = { 0 };

	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	for (;;) {
		unsigned work;

		if (__builtin_expect(__atomic_load_n(&c->req, __ATOMIC_ACQUIRE) != EMU_REQ_NONE, 0))
			handle_request(c);
		if (__builtin_expect(__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE), 0)) {
			pthread_mutex_lock(&c->lock);
			c->stopped = true;
			pthread_cond_broadcast(&c->cond);
			pthread_mutex_unlock(&c->lock);
			break;
		}
		if (__builtin_expect(!__atomic_load_n(&c->open, __ATOMIC_ACQUIRE) || c->removed, 0)) {
			wait_idle(c);
			id.since = 0;
			continue;
		}
		work = emu_regs_poll(c);
		if (c->ready && !c->fatal)
			work += queues_poll(c);
		if (__builtin_expect(c->n_pending > 0, 0))
			work += emu_pending_process(c, emu_now_ns());
		if (work != 0) {
			if (id.busy_from == 0) /* no clock read here: the last idle one */
				id.busy_from = id.last ? id.last : emu_now_ns();
			id.iters = 0;
			id.since = 0;
			c->idle_published = false;
		} else {
			backoff(c, &id);
		}
	}
	return NULL;
}

void emu_nvme_place(struct vpio_emu_nvme *c)
{
	if (!__atomic_load_n(&c->thread_started, __ATOMIC_ACQUIRE))
		return;
	if (!emu_place_thread(c->thread))
		VPIO_WARN(EMU_MOD, "%s: cannot widen the controller thread's CPU affinity; it may share a core with the driver",
			 c->name);
}
