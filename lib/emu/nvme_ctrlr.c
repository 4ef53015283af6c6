/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated NVMe controller: its object, its thread, and the register
 * state machine (CC.EN/SHN -> CSTS.RDY/SHST/CFS).
 *
 * The thread spins while there is work, then backs off: sched_yield()
 * after EMU_SPIN_NS of idleness, short sleeps after EMU_YIELD_NS, longer
 * ones after EMU_NAP_NS.  While a device handle is closed it parks.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "emu_internal.h"

#define EMU_READY_DELAY_NS 500000ull	/* CC.EN=1 -> CSTS.RDY=1 */
#define EMU_SPIN_NS 200000ull		/* busy-poll this long after the last work */
#define EMU_YIELD_NS 2000000ull		/* then yield the core until this */
#define EMU_NAP_NS 100000000ull		/* then 20 us naps until this, then 1 ms */
#define EMU_ADMIN_BUDGET 16
#define EMU_IO_BUDGET 64
#define EMU_TIMEOUT_500MS 10		/* CAP.TO: 5 s */
#define EMU_MPSMAX 4			/* 64 KiB pages */

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

/* --------------------------------------------------------- registers */

static uint32_t reg32(const struct vpio_emu_nvme *c, uint32_t off)
{
	return emu_load32(c->bar + off);
}

static void set_reg32(struct vpio_emu_nvme *c, uint32_t off, uint32_t v)
{
	emu_store32(c->bar + off, v);
}

static void csts_update(struct vpio_emu_nvme *c, uint32_t clear, uint32_t set)
{
	set_reg32(c, VPIO_NVME_REG_CSTS, (reg32(c, VPIO_NVME_REG_CSTS) & ~clear) | set);
}

/* Power-on values of every register (the doorbells too). */
static void regs_init(struct vpio_emu_nvme *c)
{
	memset(c->bar, 0, c->bar_len);
	emu_store64(c->bar + VPIO_NVME_REG_CAP, c->cap);
	set_reg32(c, VPIO_NVME_REG_VS, 0x00010400);
	c->cc = 0;
}

static uint64_t make_cap(const struct emu_nvme_opts *o)
{
	return (uint64_t)(o->qdepth - 1) | 1ull << 16 /* CQR */ | (uint64_t)EMU_TIMEOUT_500MS << 24 |
	       (uint64_t)o->dstrd << 32 | (uint64_t)VPIO_NVME_CAP_CSS_NVM << 37 | 0ull << 48 /* MPSMIN */ |
	       (uint64_t)EMU_MPSMAX << 52;
}

/* Stop everything: no host memory is touched after this returns. */
static void ctrl_disable(struct vpio_emu_nvme *c)
{
	if (c->enabled && !c->shutdown_done)
		c->unsafe_shutdowns++;
	emu_queues_reset(c);
	emu_features_reset(c);
	c->enabled = c->ready = c->fatal = c->shutdown_done = false;
	c->ready_due_ns = 0;
	c->dma.page_bits = 12;
	/* RDY goes low last (release): the driver may free queue memory then. */
	set_reg32(c, VPIO_NVME_REG_CSTS, 0);
}

static bool enable_fail(struct vpio_emu_nvme *c, const char *why, unsigned long long v)
{
	vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: controller enable failed, CSTS.CFS set: %s (0x%llx)", c->name, why, v);
	csts_update(c, 0, VPIO_NVME_CSTS_CFS);
	return false;
}

static bool ctrl_enable(struct vpio_emu_nvme *c, uint32_t cc)
{
	uint32_t aqa = reg32(c, VPIO_NVME_REG_AQA), mps = (cc >> VPIO_NVME_CC_MPS_SHIFT) & 0xf;
	uint32_t asqs = (aqa & 0xfff) + 1, acqs = ((aqa >> 16) & 0xfff) + 1;
	uint64_t asq = emu_load64(c->bar + VPIO_NVME_REG_ASQ), acq = emu_load64(c->bar + VPIO_NVME_REG_ACQ);

	if (c->fatal)
		return enable_fail(c, "a fatal error is pending; clear CC.EN first", cc);
	if (((cc >> VPIO_NVME_CC_CSS_SHIFT) & 0x7) != 0)
		return enable_fail(c, "CC.CSS must select the NVM command set (0)", cc);
	if (mps > EMU_MPSMAX)
		return enable_fail(c, "CC.MPS above CAP.MPSMAX (4 = 64 KiB pages)", cc);
	if (((cc >> VPIO_NVME_CC_AMS_SHIFT) & 0x7) != 0)
		return enable_fail(c, "CC.AMS must be round robin (0)", cc);
	if (((cc >> VPIO_NVME_CC_IOSQES_SHIFT) & 0xf) != 6 || ((cc >> VPIO_NVME_CC_IOCQES_SHIFT) & 0xf) != 4)
		return enable_fail(c, "CC.IOSQES must be 6 (64 B) and CC.IOCQES 4 (16 B)", cc);
	if ((aqa & 0xfff) == 0 || ((aqa >> 16) & 0xfff) == 0)
		return enable_fail(c, "AQA: admin queues need at least 2 entries", aqa);
	if (asq == 0 || (asq & 0xfff) != 0)
		return enable_fail(c, "ASQ must be a non-zero 4 KiB aligned address", asq);
	if (acq == 0 || (acq & 0xfff) != 0)
		return enable_fail(c, "ACQ must be a non-zero 4 KiB aligned address", acq);
	c->dma.page_bits = 12 + mps;
	if (emu_cq_create(c, 0, acq, acqs) != 0)
		return enable_fail(c, "ACQ is not registered DMA memory", acq);
	if (emu_sq_create(c, 0, asq, asqs, &c->cqs[0]) != 0) {
		emu_queues_reset(c);
		return enable_fail(c, "ASQ is not registered DMA memory", asq);
	}
	c->enabled = true;
	c->ready_due_ns = emu_now_ns() + EMU_READY_DELAY_NS;
	return true;
}

static void ctrl_shutdown(struct vpio_emu_nvme *c)
{
	int rc = emu_store_flush(&c->store);

	if (rc != 0)
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: shutdown: flushing backing file '%s' failed: %s", c->name,
			 c->store.path, strerror(-rc));
	c->shutdown_done = true;
	csts_update(c, VPIO_NVME_CSTS_SHST_MASK, VPIO_NVME_CSTS_SHST_COMPLETE);
}

/* React to CC writes; returns true when something changed. */
static bool regs_poll(struct vpio_emu_nvme *c)
{
	uint32_t cc = reg32(c, VPIO_NVME_REG_CC), old = c->cc;

	if (__builtin_expect(cc == old, 1)) {
		if (__builtin_expect(c->ready_due_ns != 0, 0) && emu_now_ns() >= c->ready_due_ns) {
			c->ready_due_ns = 0;
			c->ready = true;
			csts_update(c, 0, VPIO_NVME_CSTS_RDY);
		}
		return false;
	}
	c->cc = cc;
	if ((old ^ cc) & VPIO_NVME_CC_EN) {
		if (cc & VPIO_NVME_CC_EN)
			ctrl_enable(c, cc);
		else
			ctrl_disable(c);
	} else if ((cc & VPIO_NVME_CC_EN) && !c->enabled && !c->fatal) {
		/* A failed enable, then CC rewritten: a 1->0->1 toggle that
		 * happened between two polls.  Try again from a reset. */
		ctrl_disable(c);
		ctrl_enable(c, cc);
	}
	if ((old ^ cc) & VPIO_NVME_CC_SHN_MASK) {
		if (cc & VPIO_NVME_CC_SHN_MASK)
			ctrl_shutdown(c);
		else
			csts_update(c, VPIO_NVME_CSTS_SHST_MASK, 0);
	}
	return true;
}

/* ---------------------------------------------------------- requests */

/* Function-level reset: registers back to power-on values. */
static void ctrl_flr(struct vpio_emu_nvme *c)
{
	ctrl_disable(c);
	regs_init(c);
}

void emu_nvme_fatal(struct vpio_emu_nvme *c)
{
	c->fatal = true;
	emu_queues_reset(c);
	csts_update(c, 0, VPIO_NVME_CSTS_CFS);
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
			ctrl_flr(c);
		break;
	case EMU_REQ_FATAL:
		if (c->removed) {
			rc = -ENODEV;
			break;
		}
		c->fatal = true;
		csts_update(c, 0, VPIO_NVME_CSTS_CFS);
		break;
	case EMU_REQ_REMOVE:
		if (!c->removed) {
			ctrl_disable(c);
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
	else if (idle < EMU_NAP_NS || c->n_pending > 0 || c->ready_due_ns != 0)
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
				if (reg32(c, (uint32_t)off) != 0xffffffffu)
					set_reg32(c, (uint32_t)off, 0xffffffffu);
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

static void *ctrl_thread(void *arg)
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
		work = regs_poll(c);
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

/* ------------------------------------------------------- life cycle */

/* A thread created after DPDK's EAL init inherits the main lcore's
 * affinity: the controller would share one core with a spinning driver and
 * get a time slice every few milliseconds.  Run it on the CPUs that the
 * application's lcores do not use (lcore ids taken as CPU ids), or on any
 * CPU when they use them all. */
void emu_nvme_place(struct vpio_emu_nvme *c)
{
	cpu_set_t all, free_cpus;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (!__atomic_load_n(&c->thread_started, __ATOMIC_ACQUIRE))
		return;
	CPU_ZERO(&all);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &all);
	free_cpus = all;
	if (vpio_env_is_init()) {
		for (unsigned i = 0; i < vpio_env_core_count(); i++)
			CPU_CLR(vpio_env_core_nth(i), &free_cpus);
	}
	if (CPU_COUNT(&free_cpus) > 0 && pthread_setaffinity_np(c->thread, sizeof(free_cpus), &free_cpus) == 0)
		return;
	if (pthread_setaffinity_np(c->thread, sizeof(all), &all) != 0)
		vpio_log(VPIO_LOG_WARN, EMU_MOD, "%s: cannot widen the controller thread's CPU affinity; it may share a core with the driver",
			 c->name);
}

static int alloc_state(struct vpio_emu_nvme *c)
{
	uint32_t nq = c->opts.queues + 1;

	c->sqs = calloc(nq, sizeof(*c->sqs));
	c->cqs = calloc(nq, sizeof(*c->cqs));
	c->active = calloc(nq, sizeof(*c->active));
	c->bounce = aligned_alloc(4096, EMU_BOUNCE_SIZE);
	c->bar = mmap(NULL, c->bar_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->bar == MAP_FAILED)
		c->bar = NULL;
	if (c->sqs == NULL || c->cqs == NULL || c->active == NULL || c->bounce == NULL || c->bar == NULL) {
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: out of memory for the controller state (%u queues, BAR of %llu KiB)",
			 c->name, nq, (unsigned long long)(c->bar_len >> 10));
		return -ENOMEM;
	}
	return 0;
}

static void free_state(struct vpio_emu_nvme *c)
{
	if (c->bar != NULL)
		munmap(c->bar, c->bar_len);
	free(c->sqs);
	free(c->cqs);
	free(c->active);
	free(c->bounce);
}

int emu_nvme_create(const char *canon, unsigned idx, const struct emu_nvme_opts *o, struct vpio_emu_nvme **out)
{
	struct vpio_emu_nvme *c = calloc(1, sizeof(*c));
	enum emu_store_kind kind;
	int rc;

	if (c == NULL) {
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: out of memory for the controller", canon);
		return -ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "%s", canon);
	c->idx = idx;
	c->opts = *o;
	c->cap = make_cap(o);
	c->bar_len = emu_nvme_bar_size(o);
	c->db_stride = 4u << o->dstrd;
	c->created_ns = emu_now_ns();
	c->fault_logs = 5;
	c->dma.page_bits = 12;
	c->dma.sgl = o->sgl;
	c->dma.iommu_faults = &c->stats.iommu_faults;
	c->dma.fault_logs = &c->fault_logs;
	c->dma.name = c->name;
	for (uint32_t i = 0; i < o->ns; i++) {
		c->ns[i].nsid = i + 1;
		c->ns[i].lbads = o->lba == 4096 ? 12 : 9;
		c->ns[i].nsze = o->size / o->lba;
		c->ns[i].base = (uint64_t)i * o->size;
	}
	rc = alloc_state(c);
	if (rc != 0)
		goto fail;
	kind = o->null_io ? EMU_STORE_NULL : o->backing[0] ? EMU_STORE_FILE : EMU_STORE_MEM;
	rc = emu_store_open(&c->store, kind, o->size * o->ns, o->backing);
	if (rc != 0)
		goto fail;
	regs_init(c);
	emu_nvme_cfg_init(c);
	emu_features_reset(c);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	rc = -pthread_create(&c->thread, NULL, ctrl_thread, c);
	if (rc != 0) {
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: cannot start the controller thread: %s", canon, strerror(-rc));
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
		emu_store_close(&c->store);
		goto fail;
	}
	__atomic_store_n(&c->thread_started, true, __ATOMIC_RELEASE);
	rc = emu_watch_start(c);
	if (rc != 0) {
		emu_nvme_free(c);
		return rc;
	}
	{
		char tname[16];

		snprintf(tname, sizeof(tname), "emu-nvme%u", idx);
		pthread_setname_np(c->thread, tname);
	}
	*out = c;
	return 0;
fail:
	free_state(c);
	free(c);
	return rc;
}

void emu_nvme_stop(struct vpio_emu_nvme *c)
{
	if (!__atomic_load_n(&c->thread_started, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	__atomic_store_n(&c->thread_started, false, __ATOMIC_RELEASE);
}

void emu_nvme_free(struct vpio_emu_nvme *c)
{
	if (c->watch != NULL)
		emu_watch_stop(c);
	emu_nvme_stop(c);
	emu_store_close(&c->store);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free_state(c);
	free(c);
}
