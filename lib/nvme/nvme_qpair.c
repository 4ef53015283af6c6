/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O qpairs: allocation (rings, request pool, lists: nvme_qmem.c), queue
 * creation on the controller, release.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"
#include "util/util.h"

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

/* Timeouts are counted in health checks (see nvme_health.c). */
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
