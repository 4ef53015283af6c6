/* SPDX-License-Identifier: BSD-3-Clause */
/* DMA memory from DPDK's heap (registered through the memory hooks). */
#include <errno.h>

#include <rte_malloc.h>

#include "env_internal.h"

#define MOD "env"

static bool dma_ready(size_t align)
{
	if (!vpio_env_is_init()) {
		VPIO_ERR(MOD, "DMA memory asked for before vpio_env_init()");
		return false;
	}
	if (align != 0 && !vpio_is_pow2(align)) {
		VPIO_ERR(MOD, "DMA alignment %zu is not a power of two", align);
		return false;
	}
	return true;
}

static void *dma_alloc(size_t size, size_t align, bool zero)
{
	void *p;

	if (!dma_ready(align))
		return NULL;
	p = zero ? rte_zmalloc(NULL, size, (unsigned)align) : rte_malloc(NULL, size, (unsigned)align);
	if (p == NULL)
		VPIO_ERR(MOD, "out of DMA memory: %zu bytes (raise vpio_env_opts.mem_size_mb or reserve more hugepages)", size);
	return p;
}

void *vpio_dma_malloc(size_t size, size_t align)
{
	return dma_alloc(size, align, false);
}

void *vpio_dma_zmalloc(size_t size, size_t align)
{
	return dma_alloc(size, align, true);
}

void *vpio_dma_realloc(void *buf, size_t size, size_t align)
{
	void *p;

	if (!dma_ready(align))
		return NULL;
	p = rte_realloc(buf, size, (unsigned)align);
	if (p == NULL)
		VPIO_ERR(MOD, "cannot grow DMA buffer %p to %zu bytes: out of DMA memory", buf, size);
	return p;
}

void vpio_dma_free(void *buf)
{
	rte_free(buf);
}
