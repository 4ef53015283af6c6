/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O qpairs: queue memory (admin and I/O queues alike), allocation,
 * connect and reconnect, the state checks of every qpair call, and the
 * polling entry points.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"
#include "util/util.h"

/* ======================================================================== */
/*
 * Queue memory of every qpair, the admin queue and I/O queues alike: the
 * SQ and CQ rings and the per-request list blocks (PRP lists, SGL
 * segments, DSM ranges).  The controller's memory page (CC.MPS, 4 KiB <<
 * CAP.MPSMIN or more) rules, not the host's:
 *  - rings start on a memory page (ASQB/ACQB and the PRP1 of Create I/O
 *    SQ/CQ with CAP.CQR are page aligned) and are allocated in whole pages;
 *  - every ring is contiguous in device address space (CAP.CQR, and the
 *    driver never uses PRP-list queues);
 *  - a list block (NVME_LIST_BYTES) is contiguous and lies within one
 *    memory page: a PRP list must not cross one (the last entry of a page
 *    would be taken for a chain pointer).
 * What the translation says is checked, not assumed: a failure is one line
 * naming the ring or list and what is wrong, and nothing stays allocated.
 */

const struct nvme_qmem_ops nvme_qmem_dma = { vpio_dma_zmalloc, vpio_dma_free, nvme_xlate_vtophys, NULL };

int nvme_qmem_check(const char *name, uint16_t qid, const char *what, uint64_t iova, uint64_t contig, uint64_t len,
		    uint64_t align, uint32_t page_shift)
{
	uint64_t page = 1ull << page_shift;

	if (iova == VPIO_VTOPHYS_ERROR) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s has no device address (not registered DMA memory)", name, qid, what);
		return -EFAULT;
	}
	if (contig < len) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s is not contiguous for the device (%llu of %llu bytes at 0x%llx)", name, qid,
			 what, (unsigned long long)contig, (unsigned long long)len, (unsigned long long)iova);
		return -EFAULT;
	}
	if ((iova & (align - 1u)) != 0) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s at device address 0x%llx is not %llu-byte aligned", name, qid, what,
			 (unsigned long long)iova, (unsigned long long)align);
		return -EFAULT;
	}
	if (len <= page && (iova & (page - 1u)) + len > page) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %s at device address 0x%llx (%llu bytes) crosses a %llu-byte memory page", name,
			 qid, what, (unsigned long long)iova, (unsigned long long)len, (unsigned long long)page);
		return -EFAULT;
	}
	return 0;
}

static int xlate_check(const struct vpio_nvme_qpair *qp, const struct nvme_qmem_ops *ops, const char *what,
		       const void *va, uint64_t len, uint64_t align, uint32_t page_shift, uint64_t *iova)
{
	uint64_t contig = len;

	*iova = ops->xlate(ops->xlate_ctx, va, &contig);
	return nvme_qmem_check(qp->ctrlr != NULL ? qp->ctrlr->name : "nvme", qp->qid, what, *iova, contig, len, align,
			       page_shift);
}

static size_t page_round(size_t len, uint32_t page_shift)
{
	size_t page = (size_t)1 << page_shift;

	return (len + page - 1u) & ~(page - 1u);
}

void nvme_qmem_free(struct vpio_nvme_qpair *qp, const struct nvme_qmem_ops *ops)
{
	ops->free(qp->sq_mem);
	ops->free(qp->cq_mem);
	ops->free(qp->list_mem);
	qp->sq_mem = qp->cq_mem = qp->list_mem = NULL;
	qp->sq = NULL;
	qp->cq = NULL;
}

void nvme_qpair_free_mem(struct vpio_nvme_qpair *qp)
{
	nvme_qmem_free(qp, &nvme_qmem_dma);
}

/* The rings and one list block per request, checked; the lists' device
 * addresses go into the requests. */
static int alloc_checked(struct vpio_nvme_qpair *qp, uint32_t n, uint32_t page_shift, const struct nvme_qmem_ops *ops)
{
	size_t page = (size_t)1 << page_shift, sq_len = (size_t)n * sizeof(struct vpio_nvme_cmd);
	size_t cq_len = (size_t)n * sizeof(struct vpio_nvme_cpl), list_len = (size_t)(n - 1u) * NVME_LIST_BYTES;
	uint32_t i;
	int rc;

	qp->sq_mem = ops->zmalloc(page_round(sq_len, page_shift), page);
	qp->cq_mem = ops->zmalloc(page_round(cq_len, page_shift), page);
	qp->list_mem = ops->zmalloc(page_round(list_len, page_shift), page);
	if (qp->reqs == NULL)
		qp->reqs = aligned_alloc(64, (size_t)(n - 1u) * sizeof(struct nvme_req));
	if (!qp->sq_mem || !qp->cq_mem || !qp->list_mem || !qp->reqs) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: no memory for %u entries (%zu bytes of DMA memory in %zu-byte pages)",
			 qp->ctrlr != NULL ? qp->ctrlr->name : "nvme", qp->qid, n,
			 page_round(sq_len, page_shift) + page_round(cq_len, page_shift) +
				 page_round(list_len, page_shift),
			 page);
		return -ENOMEM;
	}
	rc = xlate_check(qp, ops, "SQ memory", qp->sq_mem, sq_len, page, page_shift, &qp->sq_iova);
	if (rc == 0)
		rc = xlate_check(qp, ops, "CQ memory", qp->cq_mem, cq_len, page, page_shift, &qp->cq_iova);
	if (rc != 0)
		return rc;
	nvme_qpair_init_rings(qp, (uint16_t)n, qp->sq_mem, qp->cq_mem, qp->reqs);
	for (i = 0; i < qp->num_reqs; i++) {
		qp->reqs[i].list = (uint8_t *)qp->list_mem + (size_t)i * NVME_LIST_BYTES;
		rc = xlate_check(qp, ops, "a PRP/SGL list block", qp->reqs[i].list, NVME_LIST_BYTES, NVME_LIST_BYTES,
				 page_shift, &qp->reqs[i].list_iova);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int nvme_qmem_alloc(struct vpio_nvme_qpair *qp, uint32_t n, uint32_t page_shift, const struct nvme_qmem_ops *ops)
{
	bool own_reqs = qp->reqs == NULL;
	int rc;

	if (n < 2 || n > 65535u || page_shift < 12u || page_shift > 27u) {
		VPIO_ERR(NVME_MOD, "%s: queue %u: %u entries in %u-bit memory pages: not a queue (2..65535 entries, 4 KiB..128 MiB "
			 "pages)", qp->ctrlr != NULL ? qp->ctrlr->name : "nvme", qp->qid, n, page_shift);
		return -EINVAL;
	}
	rc = alloc_checked(qp, n, page_shift, ops);
	if (rc != 0) {
		nvme_qmem_free(qp, ops);
		if (own_reqs) {
			free(qp->reqs);
			qp->reqs = NULL;
		}
	}
	return rc;
}

/* ======================================================================== */
/*
 * I/O qpairs: allocation (rings, request pool, lists: the queue memory above), queue
 * creation on the controller, release.
 */

#define NVME_QUEUE_SIZE_DEFAULT 256u
#define NVME_QUEUE_SIZE_MAX 16384u /* 1 MiB of SQ */
#define NVME_TIMEOUT_MS_DEFAULT 30000u
#define NVME_CHECK_US_MAX 10000u   /* CSTS is looked at every 10 ms at most */
#define NVME_CHECK_US_MIN 100u

/* The public structs' layout (doc/api.md). */
VPIO_ABI_SIZE(struct vpio_nvme_qpair_opts, 32);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_opts, opts_size, 0);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_opts, queue_size, 8);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_opts, delay_doorbell, 12);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_opts, timeout_ms, 16);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_opts, sgl_mode, 20);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_opts, check_thread, 24);
VPIO_ABI_SIZE(struct vpio_nvme_qpair_stats, 96);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, submitted, 8);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, completed, 16);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, polls, 24);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, sq_doorbells, 32);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, cq_doorbells, 40);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, mmio_doorbells, 48);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, bogus_cpls, 56);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, bad_sqhd, 64);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, timeouts, 72);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, host_aborted, 80);
VPIO_ABI_FIELD(struct vpio_nvme_qpair_stats, reconnects, 88);

static const struct vpio_nvme_qpair_opts g_qpair_opts_default = {
	.opts_size = sizeof(struct vpio_nvme_qpair_opts),
	.queue_size = NVME_QUEUE_SIZE_DEFAULT,
	.delay_doorbell = true,
	.timeout_ms = NVME_TIMEOUT_MS_DEFAULT,
	.sgl_mode = VPIO_NVME_SGL_AUTO,
	.check_thread = true,
};

int vpio_nvme_qpair_opts_init_sized(struct vpio_nvme_qpair_opts *opts, size_t opts_size)
{
	return vpio_opts_init_sized(NVME_MOD, "vpio_nvme_qpair_opts_init", opts, opts_size, &g_qpair_opts_default,
				    sizeof(g_qpair_opts_default));
}

static int check_opts(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair_opts *o)
{
	uint32_t max = c->max_queue_size < NVME_QUEUE_SIZE_MAX ? c->max_queue_size : NVME_QUEUE_SIZE_MAX;

	if (o->queue_size < 2) {
		VPIO_ERR(NVME_MOD, "%s: qpair queue_size %u is too small (at least 2)", c->name, o->queue_size);
		return -EINVAL;
	}
	if (o->queue_size > max) {
		VPIO_INFO(NVME_MOD, "%s: qpair queue_size %u cut to %u (CAP.MQES + 1 = %u)", c->name, o->queue_size, max,
			  c->max_queue_size);
		o->queue_size = max;
	}
	if ((unsigned)o->sgl_mode > VPIO_NVME_SGL_ALWAYS) {
		VPIO_ERR(NVME_MOD, "%s: unknown sgl_mode %d", c->name, (int)o->sgl_mode);
		return -EINVAL;
	}
	if (o->sgl_mode == VPIO_NVME_SGL_ALWAYS && !VPIO_NVME_SGLS_SUPPORTED(c->cdata.sgls)) {
		VPIO_ERR(NVME_MOD, "%s: sgl_mode ALWAYS, but the controller does not support SGLs (SGLS 0x%x)", c->name,
			 c->cdata.sgls);
		return -ENOTSUP;
	}
	return 0;
}

/* Timeouts are counted in health checks (see the health check in nvme_reset.c). */
static void setup_timeouts(struct vpio_nvme_qpair *qp)
{
	uint64_t timeout_us = (uint64_t)qp->opts.timeout_ms * 1000u;
	uint64_t check_us = NVME_CHECK_US_MAX;

	if (timeout_us > 0 && timeout_us / 4u < check_us)
		check_us = timeout_us / 4u;
	if (check_us < NVME_CHECK_US_MIN)
		check_us = NVME_CHECK_US_MIN;
	qp->check_interval = qp->ctrlr->ticks_hz * check_us / 1000000u;
	if (qp->check_interval == 0)
		qp->check_interval = 1;
	qp->timeout_checks = timeout_us ? (uint32_t)((timeout_us + check_us - 1u) / check_us + 1u) : 0;
	qp->next_check = 1; /* first check on the first poll with work */
}

static void qpair_destroy(struct vpio_nvme_qpair *qp)
{
	nvme_qpair_free_mem(qp);
	free(qp->reqs);
	free(qp->host_done);
	free(qp);
}

static int take_qid(struct vpio_nvme_ctrlr *c, uint16_t *qid)
{
	uint32_t i;

	for (i = 1; i <= c->max_io_queues; i++) {
		if (!c->qid_used[i]) {
			c->qid_used[i] = 1;
			*qid = (uint16_t)i;
			return 0;
		}
	}
	VPIO_ERR(NVME_MOD, "%s: all %u I/O queues the controller granted are in use", c->name, c->max_io_queues);
	return -EBUSY;
}

/* Give qp a queue id, create its queues, list it (controller lock). */
static int add_qpair(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair *qp)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = take_qid(c, &qp->qid);
	if (rc == 0) {
		qp->epoch = atomic_load(&c->epoch);
		rc = nvme_qpair_connect(qp);
		if (rc != 0)
			c->qid_used[qp->qid] = 0;
	}
	if (rc == 0) {
		qp->next = c->qpairs;
		c->qpairs = qp;
		atomic_fetch_add(&c->refs, 1);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void init_fields(struct vpio_nvme_qpair *qp, struct vpio_nvme_ctrlr *c, const struct vpio_nvme_qpair_opts *o)
{
	qp->ctrlr = c;
	qp->opts = *o;
	qp->ctrlr_epoch = &c->epoch;
	qp->delay_doorbell = o->delay_doorbell;
	qp->check_thread = o->check_thread;
	qp->max_xfer = c->max_xfer;
	qp->log_budget = 16;
	qp->dptr.xlate = nvme_xlate_vtophys;
	qp->dptr.page_shift = c->page_shift;
	qp->dptr.sgl_mode = (uint8_t)o->sgl_mode;
	qp->dptr.sgl_supported = VPIO_NVME_SGLS_SUPPORTED(c->cdata.sgls);
	qp->dptr.sgl_dword = VPIO_NVME_SGLS_DWORD_ALIGNED(c->cdata.sgls);
	qp->fast_prp = !(qp->dptr.sgl_mode == VPIO_NVME_SGL_ALWAYS && qp->dptr.sgl_supported);
	qp->state = NVME_QP_DISCONNECTED;
	setup_timeouts(qp);
}

static int ctrlr_usable(struct vpio_nvme_ctrlr *c, const char *what)
{
	uint32_t st = nvme_ctrlr_state(c);

	if (st == VPIO_NVME_CTRLR_READY)
		return 0;
	VPIO_ERR(NVME_MOD, "%s: %s: controller is %s", c->name, what, vpio_nvme_ctrlr_state_str(st));
	return st == VPIO_NVME_CTRLR_REMOVED || st == VPIO_NVME_CTRLR_DETACHED ? -ENODEV : -ENXIO;
}

int vpio_nvme_ctrlr_alloc_io_qpair(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_qpair_opts *opts,
				   struct vpio_nvme_qpair **qpp)
{
	struct vpio_nvme_qpair_opts o = g_qpair_opts_default;
	struct vpio_nvme_qpair *qp;
	int rc;

	if (qpp != NULL)
		*qpp = NULL; /* nothing stale on failure */
	if (c == NULL || qpp == NULL) {
		VPIO_ERR(NVME_MOD, "alloc_io_qpair: controller or result pointer is NULL");
		return -EINVAL;
	}
	if (vpio_opts_import(NVME_MOD, c->name, &o, sizeof(o), opts,
			     "fill the qpair options with vpio_nvme_qpair_opts_init(&opts)") != 0)
		return -EINVAL;
	rc = ctrlr_usable(c, "cannot allocate a qpair");
	if (rc == 0)
		rc = check_opts(c, &o);
	if (rc != 0)
		return rc;
	qp = aligned_alloc(64, (sizeof(*qp) + 63u) & ~(size_t)63u);
	if (qp == NULL) {
		VPIO_ERR(NVME_MOD, "%s: no memory for a qpair", c->name);
		return -ENOMEM;
	}
	memset(qp, 0, sizeof(*qp));
	init_fields(qp, c, &o);
	rc = nvme_qmem_alloc(qp, o.queue_size, c->page_shift, &nvme_qmem_dma);
	/* the batch calls' host-ended list, here and not at the first batch:
	 * the I/O thread allocates nothing */
	if (rc == 0 && (qp->host_done = calloc(qp->num_reqs, sizeof(*qp->host_done))) == NULL) {
		VPIO_ERR(NVME_MOD, "%s: no memory for a qpair", c->name);
		rc = -ENOMEM;
	}
	if (rc == 0)
		rc = add_qpair(c, qp);
	if (rc != 0) {
		qpair_destroy(qp);
		return rc;
	}
	*qpp = qp;
	return 0;
}

static void unlink_qpair(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_qpair **p;

	for (p = &c->qpairs; *p != NULL; p = &(*p)->next) {
		if (*p == qp) {
			*p = qp->next;
			return;
		}
	}
}

int vpio_nvme_ctrlr_free_io_qpair(struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_ctrlr *c;

	if (qp == NULL || qp->ctrlr == NULL) {
		VPIO_ERR(NVME_MOD, "free_io_qpair: qpair is NULL");
		return -EINVAL;
	}
	if (qp->in_cpl) {
		if (qp->owner == nvme_thread_id())
			VPIO_ERR(NVME_MOD, "free_io_qpair: qpair %u freed from its own completion callback", qp->qid);
		else
			VPIO_ERR(NVME_MOD, "free_io_qpair: qpair %u freed by a second thread while its owner is inside a "
				 "completion callback", qp->qid);
		return -EBUSY;
	}
	c = qp->ctrlr;
	pthread_mutex_lock(&c->lock);
	unlink_qpair(c, qp);
	if (qp->state == NVME_QP_CONNECTED && qp->sq_mem != NULL && nvme_ctrlr_state(c) == VPIO_NVME_CTRLR_READY &&
	    qp->epoch == atomic_load(&c->epoch))
		nvme_ctrlr_delete_io_queues(c, qp);
	if (qp->qid != 0 && c->qid_used != NULL)
		c->qid_used[qp->qid] = 0;
	pthread_mutex_unlock(&c->lock);
	nvme_qpair_cancel_all(qp);
	qpair_destroy(qp);
	nvme_ctrlr_put(c);
	return 0;
}

uint16_t vpio_nvme_qpair_get_id(const struct vpio_nvme_qpair *qp)
{
	return qp->qid;
}

uint32_t vpio_nvme_qpair_get_depth(const struct vpio_nvme_qpair *qp)
{
	return qp->num_reqs;
}

uint64_t vpio_nvme_qpair_get_max_io_bytes(const struct vpio_nvme_qpair *qp, const struct vpio_nvme_ns *ns)
{
	if (qp == NULL || ns == NULL)
		return 0;
	return (qp->max_xfer & ~(uint64_t)(ns->block_size - 1u)) * qp->num_reqs;
}

uint32_t vpio_nvme_qpair_get_outstanding(const struct vpio_nvme_qpair *qp)
{
	return qp->outstanding;
}

int vpio_nvme_qpair_get_stats_sized(const struct vpio_nvme_qpair *qp, struct vpio_nvme_qpair_stats *st,
				    size_t stats_size)
{
	struct vpio_nvme_qpair_stats all;

	if (qp == NULL) {
		VPIO_ERR(NVME_MOD, "vpio_nvme_qpair_get_stats: qpair is NULL");
		return -EINVAL;
	}
	memset(&all, 0, sizeof(all));
	all.stats_size = sizeof(all);
	all.submitted = qp->stats.submitted;
	all.completed = qp->stats.completed;
	all.polls = qp->stats.polls;
	all.sq_doorbells = qp->stats.sq_doorbells;
	all.cq_doorbells = qp->stats.cq_doorbells;
	all.mmio_doorbells = qp->stats.mmio_doorbells;
	all.bogus_cpls = qp->err_stats.bogus_cpls;
	all.bad_sqhd = qp->err_stats.bad_sqhd;
	all.timeouts = qp->err_stats.timeouts;
	all.host_aborted = qp->err_stats.host_aborted;
	all.reconnects = qp->err_stats.reconnects;
	return vpio_struct_export(NVME_MOD, "vpio_nvme_qpair_get_stats", st, stats_size, &all, sizeof(all));
}

/* ======================================================================== */
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
	qp->max_xfer = c->max_xfer; /* MDTS may have changed across a reset */
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

/* ======================================================================== */
/*
 * The polling entry points of an I/O qpair.  Per call: at most one SQ
 * doorbell before draining (delayed submissions), a CQ head doorbell only
 * when the CQ could otherwise fill, one SQ doorbell after (submissions made
 * by callbacks), and, while commands are outstanding, one tick read to see
 * whether a health check is due.
 */

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
	if (nvme_unlikely(rc != 0)) {
		/* batch commands the host ended (catching up with a reset or
		 * failure just now) are still reported, first */
		if (out != NULL && qp->host_done_n != 0)
			return (int)take_host_done(qp, out, max);
		return rc;
	}
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
