/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio_mempool: a thin layer over rte_mempool (ring driver, per-lcore cache). */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "env_internal.h"


struct vpio_mempool *vpio_mempool_create(const char *name, size_t count, size_t elt_size, int cache_size)
{
	struct rte_mempool *mp;
	unsigned cache;

	if (name == NULL || name[0] == '\0' || strlen(name) >= RTE_MEMPOOL_NAMESIZE) {
		VPIO_ERR(ENV_MOD, "mempool name %s%s%s: give a name of 1 to %d characters", name ? "'" : "",
			 name ? name : "NULL", name ? "'" : "", (int)RTE_MEMPOOL_NAMESIZE - 1);
		return NULL;
	}
	if (!vpio_env_is_init()) {
		VPIO_ERR(ENV_MOD, "mempool '%s' asked for before vpio_env_init()", name);
		return NULL;
	}
	if (count == 0 || elt_size == 0 || count > UINT32_MAX || elt_size > UINT32_MAX) {
		VPIO_ERR(ENV_MOD, "mempool '%s': %zu elements of %zu bytes: count and element size must be 1 to %u", name,
			 count, elt_size, UINT32_MAX);
		return NULL;
	}
	if (cache_size == VPIO_MEMPOOL_DEFAULT_CACHE) {
		/* DPDK wants cache * 1.5 <= count; keep most elements shareable. */
		cache = (unsigned)VPIO_MIN((size_t)RTE_MEMPOOL_CACHE_MAX_SIZE, count / (2 * rte_lcore_count()));
	} else if (cache_size < 0 || cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE) {
		VPIO_ERR(ENV_MOD, "mempool '%s': cache size %d is out of range 0..%d", name, cache_size,
			 RTE_MEMPOOL_CACHE_MAX_SIZE);
		return NULL;
	} else {
		cache = (unsigned)cache_size;
	}
	mp = rte_mempool_create(name, (unsigned)count, (unsigned)elt_size, cache, 0, NULL, NULL, NULL, NULL,
				SOCKET_ID_ANY, 0);
	if (mp == NULL)
		VPIO_ERR(ENV_MOD, "cannot create mempool '%s' (%zu x %zu bytes, cache %u): %s", name, count, elt_size,
			 cache, rte_strerror(rte_errno));
	return (struct vpio_mempool *)mp;
}

void vpio_mempool_free(struct vpio_mempool *mp)
{
	rte_mempool_free((struct rte_mempool *)mp);
}

void *vpio_mempool_get(struct vpio_mempool *mp)
{
	void *ele;

	if (rte_mempool_get((struct rte_mempool *)mp, &ele) != 0)
		return NULL;
	return ele;
}

void vpio_mempool_put(struct vpio_mempool *mp, void *ele)
{
	rte_mempool_put((struct rte_mempool *)mp, ele);
}

int vpio_mempool_get_bulk(struct vpio_mempool *mp, void **ele, size_t n)
{
	return rte_mempool_get_bulk((struct rte_mempool *)mp, ele, (unsigned)n) == 0 ? 0 : -ENOMEM;
}

void vpio_mempool_put_bulk(struct vpio_mempool *mp, void **ele, size_t n)
{
	rte_mempool_put_bulk((struct rte_mempool *)mp, ele, (unsigned)n);
}

size_t vpio_mempool_count(const struct vpio_mempool *mp)
{
	return rte_mempool_avail_count((const struct rte_mempool *)mp);
}
