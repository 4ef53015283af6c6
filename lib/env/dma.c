/* SPDX-License-Identifier: BSD-3-Clause */
/* DMA memory from DPDK's heap (registered through the memory hooks). */
#include <errno.h>
#include <limits.h>

#include <rte_malloc.h>

#include "env_internal.h"


/* The largest alignment DPDK's heap honours (it takes an unsigned int):
 * 1 GiB, the largest page size. */
#define DMA_ALIGN_MAX (1ULL << 30)

static bool dma_ready(size_t size, size_t align, const char *what)
{
	if (!vpio_env_is_init()) {
		VPIO_ERR(ENV_MOD, "%s: DMA memory asked for before vpio_env_init()", what);
		return false;
	}
	if (size == 0) {
		VPIO_ERR(ENV_MOD, "%s: size 0 (ask for at least one byte)", what);
		return false;
	}
	if (align != 0 && (!vpio_is_pow2(align) || align > DMA_ALIGN_MAX)) {
		VPIO_ERR(ENV_MOD, "%s: alignment %zu must be a power of two up to 1 GiB", what, align);
		return false;
	}
	return true;
}

static void *dma_alloc(size_t size, size_t align, bool zero)
{
	void *p;

	if (!dma_ready(size, align, zero ? "vpio_dma_zmalloc" : "vpio_dma_malloc"))
		return NULL;
	p = zero ? rte_zmalloc(NULL, size, (unsigned)align) : rte_malloc(NULL, size, (unsigned)align);
	if (p == NULL)
		VPIO_ERR(ENV_MOD, "out of DMA memory: %zu bytes (raise vpio_env_opts.mem_size_mb or reserve more hugepages)", size);
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

	if (!dma_ready(size, align, "vpio_dma_realloc")) /* size 0: use vpio_dma_free() */
		return NULL;
	p = rte_realloc(buf, size, (unsigned)align);
	if (p == NULL)
		VPIO_ERR(ENV_MOD, "cannot resize DMA buffer %p to %zu bytes: out of DMA memory (the buffer is unchanged)", buf,
			 size);
	return p;
}

void vpio_dma_free(void *buf)
{
	rte_free(buf);
}
