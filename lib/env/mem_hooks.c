/* SPDX-License-Identifier: BSD-3-Clause */
/* Register DPDK's memory with the registry: a walk of the segments that
 * exist at init, then memory events as the heap grows and shrinks. */
#include <errno.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "env_internal.h"

#define CB_NAME "vpio-mem"

static int register_contig(const struct rte_memseg_list *msl, const struct rte_memseg *ms, size_t len, void *arg)
{
	int rc;

	(void)arg;
	if (msl->external)
		return 0;
	rc = vpio_mem_register(ms->addr, len);
	if (rc != 0)
		VPIO_ERR(ENV_MOD, "cannot register DPDK memory %p+0x%zx for DMA (%d)", ms->addr, len, rc);
	return rc;
}

static int unregister_contig(const struct rte_memseg_list *msl, const struct rte_memseg *ms, size_t len, void *arg)
{
	(void)arg;
	if (!msl->external)
		vpio_mem_unregister(ms->addr, len);
	return 0;
}

static void mem_event(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	(void)arg;
	if (type == RTE_MEM_EVENT_ALLOC)
		vpio_mem_register((void *)(uintptr_t)addr, len);
	else
		vpio_mem_unregister((void *)(uintptr_t)addr, len);
}

int vpio_env_mem_hooks_init(void)
{
	int rc = rte_memseg_contig_walk(register_contig, NULL);

	if (rc != 0)
		return rc < 0 ? rc : -EIO;
	/* Not supported in --no-huge mode (memory never changes there). */
	if (rte_mem_event_callback_register(CB_NAME, mem_event, NULL) != 0 && rte_errno != ENOTSUP) {
		VPIO_ERR(ENV_MOD, "cannot subscribe to DPDK memory events: %s", rte_strerror(rte_errno));
		rte_memseg_contig_walk(unregister_contig, NULL);
		return -EIO;
	}
	return 0;
}

void vpio_env_mem_hooks_fini(void)
{
	rte_mem_event_callback_unregister(CB_NAME, NULL);
	rte_memseg_contig_walk(unregister_contig, NULL);
}
