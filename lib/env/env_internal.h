/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/env internals, and the interface lib/vfio uses to join the registry. */
#ifndef VPIO_ENV_INTERNAL_H
#define VPIO_ENV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vpio/env.h>

#include "util/util.h"

/* ----------------------------------------------------- memory maps */

/* Memory maps cover the 48-bit user address space (4-level paging). */
#define VPIO_USER_VA_BITS 48
#define VPIO_USER_VA_LIMIT (1ULL << VPIO_USER_VA_BITS)

struct vpio_mem_map *vpio_mem_map_create(uint64_t default_translation, const struct vpio_mem_map_ops *ops,
					 void *ctx);
void vpio_mem_map_destroy(struct vpio_mem_map *map);
int vpio_mem_map_notify(struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr, size_t len);
struct vpio_mem_map *vpio_mem_map_next(struct vpio_mem_map *map);
void vpio_mem_map_set_next(struct vpio_mem_map *map, struct vpio_mem_map *next);
size_t vpio_mem_map_l3_tables(const struct vpio_mem_map *map);

/* -------------------------------------------------- DMA targets */

/* A DMA target is an IOMMU domain that must see every registration: a
 * VFIO container.  lib/vfio adds one when its container gets an IOMMU. */
struct vpio_dma_target_ops {
	int (*map)(void *ctx, uint64_t vaddr, uint64_t iova, uint64_t len);
	int (*unmap)(void *ctx, uint64_t iova, uint64_t len);
};

#define VPIO_DMA_TARGET_MAX_RANGES 16
struct vpio_dma_target_desc {
	const char *name;	/* for messages, e.g. "VFIO container" */
	bool noiommu;		/* no translation: IOVA = physical address */
	uint32_t n_ranges;	/* 0: any IOVA is valid */
	uint64_t ranges[VPIO_DMA_TARGET_MAX_RANGES][2]; /* inclusive */
	bool has_dma_avail;
	uint32_t dma_avail;	/* mappings the target still accepts */
};

/* Map every registration into the new target (re-choosing IOVAs of
 * existing ones if this is the first target and they do not fit). */
int vpio_mem_dma_target_add(const struct vpio_dma_target_ops *ops, void *ctx,
			    const struct vpio_dma_target_desc *desc);
void vpio_mem_dma_target_remove(void *ctx);

/* ------------------------------------------------------- pagemap */

/* Physical address of vaddr from /proc/self/pagemap; VPIO_VTOPHYS_ERROR
 * when the page is not present or the PFN is hidden (not root). */
uint64_t vpio_pagemap_vtophys(const void *vaddr);
/* The VA -> IOVA map vpio_vtophys() reads (mem_map.c), set once by the
 * registry (mem_reg.c). */
extern struct vpio_mem_map *env_vtophys_map;
/* Set it, and the L1 array env_vtophys.h's inline lookup walks. */
void env_vtophys_publish(struct vpio_mem_map *map);
/* Same, from an already-open pagemap fd (for tests). */
uint64_t vpio_pagemap_vtophys_fd(int fd, const void *vaddr);

/* ----------------------------------------------------------- env */

/* Register/unregister DPDK's hugepage memory (init walk + events). */
int vpio_env_mem_hooks_init(void);
void vpio_env_mem_hooks_fini(void);

#endif
