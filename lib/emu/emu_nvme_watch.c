/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated IOMMU's unmap side.  Queue rings and shadow doorbell buffers
 * are translated once, when they are set up; a memory map tells us when
 * host memory is unregistered.  Each unregistration is a request that the
 * controller thread handles between two commands, so when
 * vpio_mem_unregister() returns the controller no longer touches that
 * memory: a queue that used it is a fatal error (CSTS.CFS, queues dropped),
 * as an IOMMU fault would be on a real device.
 */
#include <errno.h>

#include "emu_internal.h"

static int watch_notify(void *ctx, struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr,
			size_t len)
{
	struct vpio_emu_nvme *c = ctx;

	(void)map;
	if (action != VPIO_MEM_MAP_UNREGISTER || __atomic_load_n(&c->watch_closing, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&c->thread_started, __ATOMIC_ACQUIRE))
		return 0;
	emu_nvme_request_range(c, EMU_REQ_UNMAP, (uint64_t)(uintptr_t)vaddr, len);
	return 0;
}

static const struct vpio_mem_map_ops g_watch_ops = { .notify = watch_notify };

int emu_watch_start(struct vpio_emu_nvme *c)
{
	c->watch = vpio_mem_map_alloc(0, &g_watch_ops, c);
	if (c->watch == NULL) {
		VPIO_ERR(EMU_MOD, "%s: cannot watch memory unregistrations (memory map allocation failed)",
			 c->name);
		return -ENOMEM;
	}
	return 0;
}

void emu_watch_stop(struct vpio_emu_nvme *c)
{
	/* freeing the map replays every region as unregistered: ignore it */
	__atomic_store_n(&c->watch_closing, true, __ATOMIC_RELEASE);
	vpio_mem_map_free(&c->watch);
}

static bool overlaps(const void *p, uint64_t plen, uint64_t va, uint64_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)p;

	return p != NULL && a < va + len && va < a + plen;
}

/* Controller thread: does [va, va+len) hold memory a live queue uses? */
void emu_watch_check(struct vpio_emu_nvme *c, uint64_t va, uint64_t len)
{
	uint64_t dblen = c->dbbuf_len;
	const char *what = NULL;
	uint32_t qid = 0;

	for (uint32_t q = 0; q <= c->opts.queues && what == NULL; q++) {
		qid = q;
		if (c->sqs[q].live && overlaps(c->sqs[q].ring, (uint64_t)c->sqs[q].size * 64, va, len))
			what = "submission queue";
		else if (c->cqs[q].live && overlaps(c->cqs[q].ring, (uint64_t)c->cqs[q].size * 16, va, len))
			what = "completion queue";
	}
	if (what == NULL && c->dbbuf_on &&
	    (overlaps(c->dbbuf_shadow, dblen, va, len) || overlaps(c->dbbuf_eventidx, dblen, va, len)))
		what = "shadow doorbell buffer";
	if (what == NULL)
		return;
	VPIO_ERR(EMU_MOD, "%s: IOMMU fault: memory of %s %u (0x%llx+0x%llx) was unregistered while the queue is live; controller fatal (CSTS.CFS), reset it",
		 c->name, what, qid, (unsigned long long)va, (unsigned long long)len);
	emu_count(&c->stats.iommu_faults, 1);
	emu_nvme_fatal(c);
}
