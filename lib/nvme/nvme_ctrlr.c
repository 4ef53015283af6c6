/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The controller: attach, detach, lifetime and getters, and probe over
 * vfio-pci bound controllers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"
#include "util/util.h"

/* ======================================================================== */
/*
 * Controller lifetime: attach, detach, reference counting, getters.
 *
 * The controller object lives until it is detached and the last qpair
 * allocated from it is freed, so that a qpair (and namespace) handle used
 * after detach gets -ENODEV instead of touching freed memory.
 */

/* The public structs' layout (doc/api.md). */
VPIO_ABI_SIZE(struct vpio_nvme_ctrlr_opts, 32);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, opts_size, 0);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, num_io_queues, 8);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, admin_queue_size, 12);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, admin_timeout_ms, 16);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, max_xfer_size, 20);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, no_shadow_doorbells, 24);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_opts, no_reset_on_timeout, 25);
VPIO_ABI_SIZE(struct vpio_nvme_ctrlr_info, 120);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, name, 8);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, cap, 72);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, vs, 80);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, page_size, 84);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, doorbell_stride, 88);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, max_queue_size, 92);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, max_io_queues, 96);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, max_xfer_size, 100);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, num_ns, 104);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, num_active_ns, 108);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, sgl_supported, 112);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_info, shadow_doorbells, 113);
VPIO_ABI_SIZE(struct vpio_nvme_ctrlr_stats, 48);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_stats, resets, 8);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_stats, timeouts, 16);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_stats, aborts_sent, 24);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_stats, admin_cmds, 32);
VPIO_ABI_FIELD(struct vpio_nvme_ctrlr_stats, failures, 40);

static const struct vpio_nvme_ctrlr_opts g_ctrlr_opts_default = {
	.opts_size = sizeof(struct vpio_nvme_ctrlr_opts),
	.num_io_queues = 64,
	.admin_queue_size = 32,
	.admin_timeout_ms = 10000,
};

int vpio_nvme_ctrlr_opts_init_sized(struct vpio_nvme_ctrlr_opts *opts, size_t opts_size)
{
	return vpio_opts_init_sized(NVME_MOD, "vpio_nvme_ctrlr_opts_init", opts, opts_size, &g_ctrlr_opts_default,
				    sizeof(g_ctrlr_opts_default));
}

static int init_locks(struct vpio_nvme_ctrlr *c)
{
	pthread_mutexattr_t attr;
	int rc;

	/* both recursive: an admin command that times out resets the
	 * controller, also under the controller lock (qpair create/free) */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	rc = pthread_mutex_init(&c->admin_lock, &attr);
	if (rc == 0)
		rc = pthread_mutex_init(&c->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return -rc;
}

static void ctrlr_free(struct vpio_nvme_ctrlr *c)
{
	nvme_ctrlr_free_ns(c);
	free(c->qid_used);
	pthread_mutex_destroy(&c->admin_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void nvme_ctrlr_put(struct vpio_nvme_ctrlr *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1)
		ctrlr_free(c);
}

static struct vpio_nvme_ctrlr *ctrlr_new(const char *name, const struct vpio_nvme_ctrlr_opts *opts)
{
	struct vpio_nvme_ctrlr *c = aligned_alloc(64, (sizeof(*c) + 63u) & ~(size_t)63u);
	size_t n;

	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (init_locks(c) != 0) {
		free(c);
		return NULL;
	}
	n = strcspn(name, "?");
	if (n >= sizeof(c->name))
		n = sizeof(c->name) - 1u;
	memcpy(c->name, name, n);
	c->opts = *opts;
	if (c->opts.admin_timeout_ms == 0)
		c->opts.admin_timeout_ms = 10000;
	c->ticks_hz = vpio_get_ticks_hz();
	atomic_init(&c->refs, 1);
	atomic_init(&c->epoch, VPIO_NVME_CTRLR_RESETTING); /* until attach is done */
	return c;
}

/* Release device-side resources: DMA memory of the admin queue, qpairs
 * and shadow doorbells, and the device (after it can no longer DMA). */
static void release_device(struct vpio_nvme_ctrlr *c)
{
	struct vpio_nvme_qpair *qp;

	if (c->dev != NULL)
		vpio_pci_device_close(c->dev); /* resets the device: no DMA after this */
	c->dev = NULL;
	c->regs = NULL;
	pthread_mutex_lock(&c->admin_lock);
	if (c->adminq != NULL) {
		c->adminq->state = NVME_QP_REMOVED;
		nvme_qpair_cancel_all(c->adminq);
	}
	nvme_admin_qpair_destroy(c);
	pthread_mutex_unlock(&c->admin_lock);
	for (qp = c->qpairs; qp != NULL; qp = qp->next)
		nvme_qpair_free_mem(qp);
	nvme_ctrlr_free_dbbuf(c);
}

int vpio_nvme_ctrlr_attach(const char *name, const struct vpio_nvme_ctrlr_opts *opts,
			   struct vpio_nvme_ctrlr **ctrlr)
{
	struct vpio_nvme_ctrlr_opts o = g_ctrlr_opts_default;
	struct vpio_nvme_ctrlr *c;
	int rc;

	if (name == NULL || ctrlr == NULL) {
		VPIO_ERR(NVME_MOD, "attach: device name or result pointer is NULL");
		return -EINVAL;
	}
	if (!vpio_env_is_init()) {
		VPIO_ERR(NVME_MOD, "attach %s: the environment is not initialized; call vpio_env_init() first (DMA memory)", name);
		return -EINVAL;
	}
	if (vpio_opts_import(NVME_MOD, name, &o, sizeof(o), opts,
			     "fill the options with vpio_nvme_ctrlr_opts_init(&opts)") != 0)
		return -EINVAL;
	c = ctrlr_new(name, &o);
	if (c == NULL) {
		VPIO_ERR(NVME_MOD, "attach %s: out of memory", name);
		return -ENOMEM;
	}
	rc = vpio_pci_device_open(name, &c->dev); /* logs its own errors */
	if (rc == 0)
		rc = nvme_ctrlr_start(c);
	if (rc == 0)
		rc = nvme_recovery_start(c);
	if (rc != 0) {
		release_device(c);
		ctrlr_free(c);
		return rc;
	}
	nvme_ctrlr_set_state(c, VPIO_NVME_CTRLR_READY);
	*ctrlr = c;
	return 0;
}

/* A queue is deleted only while it exists: a reset on the way (a
 * timed-out delete) removes the others. */
static void delete_all_queues(struct vpio_nvme_ctrlr *c)
{
	struct vpio_nvme_qpair *qp;

	for (qp = c->qpairs; qp != NULL; qp = qp->next) {
		if (qp->state == NVME_QP_CONNECTED && qp->epoch == atomic_load(&c->epoch))
			nvme_ctrlr_delete_io_queues(c, qp);
	}
}

int vpio_nvme_ctrlr_detach(struct vpio_nvme_ctrlr *c)
{
	uint32_t st;

	if (c == NULL) {
		VPIO_ERR(NVME_MOD, "detach: controller is NULL");
		return -EINVAL;
	}
	if (nvme_ctrlr_state(c) != VPIO_NVME_CTRLR_DETACHED)
		nvme_recovery_stop(c); /* it takes the lock: before we do */
	pthread_mutex_lock(&c->lock);
	st = nvme_ctrlr_state(c);
	if (st == VPIO_NVME_CTRLR_DETACHED) {
		pthread_mutex_unlock(&c->lock);
		VPIO_ERR(NVME_MOD, "detach: controller %s is already detached", c->name);
		return -EINVAL;
	}
	if (st == VPIO_NVME_CTRLR_READY) {
		delete_all_queues(c);
		nvme_ctrlr_shutdown(c); /* bounded; a failure is logged and changes nothing */
	}
	nvme_ctrlr_set_state(c, VPIO_NVME_CTRLR_DETACHED);
	release_device(c);
	pthread_mutex_unlock(&c->lock);
	nvme_ctrlr_put(c);
	return 0;
}

enum vpio_nvme_ctrlr_state vpio_nvme_ctrlr_get_state(const struct vpio_nvme_ctrlr *c)
{
	return (enum vpio_nvme_ctrlr_state)nvme_ctrlr_state(c);
}

const char *vpio_nvme_ctrlr_state_str(enum vpio_nvme_ctrlr_state state)
{
	switch (state) {
	case VPIO_NVME_CTRLR_READY:
		return "ready";
	case VPIO_NVME_CTRLR_RESETTING:
		return "resetting";
	case VPIO_NVME_CTRLR_FAILED:
		return "failed (reset it)";
	case VPIO_NVME_CTRLR_REMOVED:
		return "removed";
	case VPIO_NVME_CTRLR_DETACHED:
		return "detached";
	}
	return "unknown";
}

int vpio_nvme_ctrlr_get_info_sized(const struct vpio_nvme_ctrlr *c, struct vpio_nvme_ctrlr_info *out,
				   size_t out_size)
{
	struct vpio_nvme_ctrlr_info all, *info = &all;
	uint32_t i;

	if (c == NULL) {
		VPIO_ERR(NVME_MOD, "vpio_nvme_ctrlr_get_info: controller is NULL");
		return -EINVAL;
	}
	memset(info, 0, sizeof(*info));
	memcpy(info->name, c->name, sizeof(info->name));
	info->cap = c->cap;
	info->vs = c->vs;
	info->page_size = 1u << c->page_shift;
	info->doorbell_stride = 4u << c->dstrd;
	info->max_queue_size = c->max_queue_size;
	info->max_io_queues = c->max_io_queues;
	info->max_xfer_size = c->max_xfer;
	info->num_ns = c->num_ns;
	for (i = 0; c->ns != NULL && i < c->num_ns; i++)
		info->num_active_ns += c->ns[i] != NULL && c->ns[i]->active;
	info->sgl_supported = VPIO_NVME_SGLS_SUPPORTED(c->cdata.sgls);
	info->shadow_doorbells = c->dbbuf_on;
	return vpio_struct_export(NVME_MOD, "vpio_nvme_ctrlr_get_info", out, out_size, &all, sizeof(all));
}

const struct vpio_nvme_ctrlr_data *vpio_nvme_ctrlr_get_data(const struct vpio_nvme_ctrlr *c)
{
	return &c->cdata;
}

struct vpio_pci_device *vpio_nvme_ctrlr_get_pci_device(const struct vpio_nvme_ctrlr *c)
{
	return c->dev;
}

int vpio_nvme_ctrlr_get_stats_sized(const struct vpio_nvme_ctrlr *c, struct vpio_nvme_ctrlr_stats *out,
				    size_t out_size)
{
	struct vpio_nvme_ctrlr_stats all = { 0 }, *st = &all;

	if (c == NULL) {
		VPIO_ERR(NVME_MOD, "vpio_nvme_ctrlr_get_stats: controller is NULL");
		return -EINVAL;
	}
	st->resets = atomic_load(&c->stat_resets);
	st->timeouts = atomic_load(&c->stat_timeouts);
	st->aborts_sent = atomic_load(&c->stat_aborts);
	st->admin_cmds = atomic_load(&c->stat_admin);
	st->failures = atomic_load(&c->stat_failures);
	return vpio_struct_export(NVME_MOD, "vpio_nvme_ctrlr_get_stats", out, out_size, &all, sizeof(all));
}

/* ======================================================================== */
/*
 * Probe: every NVMe controller (class 0x010802) bound to vfio-pci, offered
 * to the caller's probe callback; accepted ones are attached.  A controller
 * that fails to attach is logged (by attach) and skipped.
 */

struct probe_ctx {
	vpio_nvme_probe_cb probe_cb;
	vpio_nvme_attach_cb attach_cb;
	void *ctx;
	int attached;
};

static int probe_one(void *arg, const struct vpio_pci_info *info)
{
	struct probe_ctx *p = arg;
	struct vpio_nvme_ctrlr_opts opts;
	struct vpio_nvme_ctrlr *c;
	char name[VPIO_PCI_ADDR_STRLEN];

	if (info->class_code != VPIO_PCI_CLASS_NVME || strcmp(info->driver, "vfio-pci") != 0)
		return 0;
	vpio_nvme_ctrlr_opts_init(&opts);
	if (p->probe_cb != NULL && !p->probe_cb(p->ctx, info, &opts))
		return 0;
	vpio_pci_addr_fmt(name, sizeof(name), &info->addr);
	if (vpio_nvme_ctrlr_attach(name, &opts, &c) != 0)
		return 0;
	p->attached++;
	if (p->attach_cb != NULL)
		p->attach_cb(p->ctx, info, c);
	else
		vpio_nvme_ctrlr_detach(c); /* nobody to hand it to */
	return 0;
}

int vpio_nvme_probe(vpio_nvme_probe_cb probe_cb, vpio_nvme_attach_cb attach_cb, void *ctx)
{
	struct probe_ctx p = { probe_cb, attach_cb, ctx, 0 };
	int rc = vpio_pci_enumerate(probe_one, &p);

	return rc < 0 ? rc : p.attached;
}
