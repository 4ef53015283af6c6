/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated NVMe controller object: creation (state, BAR, storage,
 * thread, unregistration watch), stop and free.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu_internal.h"

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
		VPIO_ERR(EMU_MOD, "%s: out of memory for the controller state (%u queues, BAR of %llu KiB)",
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
	for (unsigned i = 0; i < EMU_NVME_MAX_NS; i++)
		free(c->ns[i].lba_ranges);
}

int emu_nvme_create(const char *canon, unsigned idx, const struct emu_nvme_opts *o, struct vpio_emu_nvme **out)
{
	struct vpio_emu_nvme *c = calloc(1, sizeof(*c));
	enum emu_store_kind kind;
	int rc;

	if (c == NULL) {
		VPIO_ERR(EMU_MOD, "%s: out of memory for the controller", canon);
		return -ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "%s", canon);
	c->idx = idx;
	c->opts = *o;
	c->cap = emu_nvme_cap(o);
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
	emu_regs_init(c);
	emu_nvme_cfg_init(c);
	emu_features_reset(c);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	rc = -pthread_create(&c->thread, NULL, emu_nvme_thread, c);
	if (rc != 0) {
		VPIO_ERR(EMU_MOD, "%s: cannot start the controller thread: %s", canon, strerror(-rc));
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
