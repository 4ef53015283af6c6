/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVA allocator: hands out ranges of the IOMMU's valid IOVA space for
 * memory whose virtual address cannot be its IOVA (IOVA != VA), and keeps
 * track of the IOVAs = VAs that are taken.  The free intervals are kept in
 * a weighted address map (addr_map.h: keyed by start, weighed by length,
 * so every inner node knows the longest free interval below each child);
 * first fit from the lowest address; frees coalesce.  Taking or freeing a
 * given range is O(log n) in the number of free intervals; a first-fit
 * search skips every subtree without a long enough interval, so it is
 * O(log n) too unless many intervals are long enough but too misaligned to
 * hold the request.  Not thread safe: the registry serializes calls.
 */
#ifndef VPIO_IOVA_ALLOC_H
#define VPIO_IOVA_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "addr_map.h"

struct vpio_iova_alloc {
	struct vpio_addr_map free; /* free intervals, keyed by start */
	uint64_t free_bytes;
};

/* The lowest IOVA ever handed out: IOVA 0 and the first 2 MiB are kept
 * back so that no device ever sees a NULL-looking address. */
#define VPIO_IOVA_ALLOC_MIN 0x200000ULL

/* ranges: inclusive [start, end] pairs as VFIO reports them. */
int vpio_iova_alloc_init(struct vpio_iova_alloc *a, const uint64_t (*ranges)[2], size_t n);
void vpio_iova_alloc_fini(struct vpio_iova_alloc *a);
/* size and align: multiples of 4 KiB, align a power of two.  -ENOSPC when
 * no free interval fits. */
int vpio_iova_alloc(struct vpio_iova_alloc *a, uint64_t size, uint64_t align, uint64_t *iova);
/* Take exactly [iova, iova + size); -EBUSY if any of it is not free. */
int vpio_iova_alloc_fixed(struct vpio_iova_alloc *a, uint64_t iova, uint64_t size);
/* Give [iova, iova + size) back; -EINVAL if any of it is already free. */
int vpio_iova_free(struct vpio_iova_alloc *a, uint64_t iova, uint64_t size);
uint64_t vpio_iova_alloc_free_bytes(const struct vpio_iova_alloc *a);
uint64_t vpio_iova_alloc_largest_free(const struct vpio_iova_alloc *a);
size_t vpio_iova_alloc_fragments(const struct vpio_iova_alloc *a);

#endif
