/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DMA-target contract between lib/env and lib/vfio, and nothing else.
 *
 * A DMA target is an IOMMU domain that must see every registration of the
 * env registry (lib/env/mem_reg.c): today the process-wide VFIO container.
 * lib/vfio adds one when its container gets an IOMMU and removes it when the
 * last group leaves; the registry then maps every registered range into it
 * (and unmaps on unregistration) through the ops below.
 *
 * Not public: an application has no IOMMU domain of its own to add, and the
 * contract may change with lib/vfio.  Libraries that include it declare
 * "deps env" in their mk/ fragment (configure checks that).
 *
 * Threading: add and remove take the registry's lock; ops->map and
 * ops->unmap are called with that lock held, from the thread that
 * registers or unregisters memory (never from an I/O path).
 */
#ifndef VPIO_ENV_DMA_TARGET_H
#define VPIO_ENV_DMA_TARGET_H

#include <stdbool.h>
#include <stdint.h>

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
/* Forget the target (its mappings go with its IOMMU). */
void vpio_mem_dma_target_remove(void *ctx);

#endif
