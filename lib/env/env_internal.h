/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/env internals (the DMA-target contract with lib/vfio is dma_target.h). */
#ifndef VPIO_ENV_INTERNAL_H
#define VPIO_ENV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vpio/env.h>

#include "dma_target.h"
#include "util/util.h"

/* Log with VPIO_ERR(ENV_MOD, ...) etc. (util/util.h), as every library. */
#define ENV_MOD "env"

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
