/* SPDX-License-Identifier: BSD-3-Clause */
/* IOVA allocator: free intervals in a weighted address map, first fit,
 * coalescing frees (iova_alloc.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "iova_alloc.h"
#include "util/util.h"

struct free_range {
	uint64_t start; /* the key */
	uint64_t end;	/* exclusive */
};

static uint64_t range_len(const struct free_range *r)
{
	return r->end - r->start;
}

/* r changed its start (within its gap) or its end: tell the map. */
static void range_moved(struct vpio_iova_alloc *a, struct free_range *r, uint64_t old_start)
{
	vpio_addr_map_update(&a->free, old_start, r->start, range_len(r));
}

/* Callers reserve room in the map first: the insert cannot fail. */
static int range_new(struct vpio_iova_alloc *a, uint64_t start, uint64_t end)
{
	struct free_range *r = malloc(sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	r->start = start;
	r->end = end;
	vpio_addr_map_insert_weighted(&a->free, start, r, end - start);
	return 0;
}

static void range_delete(struct vpio_iova_alloc *a, struct free_range *r)
{
	vpio_addr_map_remove(&a->free, r->start);
	free(r);
}

int vpio_iova_alloc_init(struct vpio_iova_alloc *a, const uint64_t (*ranges)[2], size_t n)
{
	memset(a, 0, sizeof(*a));
	a->free.weighted = true;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = VPIO_ALIGN_UP(VPIO_MAX(ranges[i][0], VPIO_IOVA_ALLOC_MIN), 0x1000ULL);
		uint64_t e = ranges[i][1] == UINT64_MAX ? UINT64_MAX - 0xfff : ranges[i][1] + 1;

		e = VPIO_ALIGN_DOWN(e, 0x1000ULL);
		if (ranges[i][1] < ranges[i][0] || s >= e)
			continue;
		/* VFIO reports ranges sorted and disjoint; free() keeps it so. */
		if (vpio_iova_free(a, s, e - s) != 0) {
			vpio_iova_alloc_fini(a);
			return -EINVAL;
		}
	}
	return 0;
}

void vpio_iova_alloc_fini(struct vpio_iova_alloc *a)
{
	struct free_range *r;

	while ((r = vpio_addr_map_first(&a->free)) != NULL)
		range_delete(a, r);
	vpio_addr_map_fini(&a->free);
	memset(a, 0, sizeof(*a));
}

/* Take [start, start + size) out of r, which holds it. */
static int take(struct vpio_iova_alloc *a, struct free_range *r, uint64_t start, uint64_t size)
{
	uint64_t end = start + size, r_start = r->start, r_end = r->end;

	if (start == r_start && end == r_end) {
		range_delete(a, r);
	} else if (start == r_start) {
		r->start = end; /* moves right, past no other start */
		range_moved(a, r, r_start);
	} else {
		if (end != r_end && (vpio_addr_map_reserve(&a->free, 1) != 0 || range_new(a, end, r_end) != 0))
			return -ENOMEM;
		r->end = start;
		range_moved(a, r, r_start);
	}
	a->free_bytes -= size;
	return 0;
}

struct fit {
	uint64_t size, align, at;
};

/* Where the request fits in free range val, if it does. */
static bool fits(void *val, void *ctx)
{
	const struct free_range *r = val;
	struct fit *f = ctx;
	uint64_t s = VPIO_ALIGN_UP(r->start, f->align);

	if (s < r->start || s >= r->end || r->end - s < f->size)
		return false;
	f->at = s;
	return true;
}

int vpio_iova_alloc(struct vpio_iova_alloc *a, uint64_t size, uint64_t align, uint64_t *iova)
{
	struct fit f = { size, align, 0 };
	struct free_range *r;

	if (size == 0 || !vpio_is_pow2(align) || !VPIO_IS_ALIGNED(size, 0x1000ULL))
		return -EINVAL;
	r = vpio_addr_map_first_fit(&a->free, size, fits, &f);
	if (r == NULL)
		return -ENOSPC;
	if (take(a, r, f.at, size) != 0)
		return -ENOMEM;
	*iova = f.at;
	return 0;
}

int vpio_iova_alloc_fixed(struct vpio_iova_alloc *a, uint64_t iova, uint64_t size)
{
	struct free_range *r;

	if (size == 0 || iova + size < iova)
		return -EINVAL;
	r = vpio_addr_map_floor(&a->free, iova);
	if (r == NULL || iova + size > r->end)
		return -EBUSY;
	return take(a, r, iova, size);
}

int vpio_iova_free(struct vpio_iova_alloc *a, uint64_t iova, uint64_t size)
{
	uint64_t end = iova + size;
	struct free_range *prev, *next;

	if (size == 0 || end < iova)
		return -EINVAL;
	prev = vpio_addr_map_floor(&a->free, iova);
	next = prev != NULL ? vpio_addr_map_next(&a->free, prev->start) : vpio_addr_map_first(&a->free);
	/* (partly) free already */
	if ((prev != NULL && prev->end > iova) || (next != NULL && next->start < end))
		return -EINVAL;
	if (prev != NULL && prev->end == iova) {
		prev->end = end;
		if (next != NULL && next->start == end) {
			prev->end = next->end;
			range_delete(a, next);
		}
		range_moved(a, prev, prev->start);
	} else if (next != NULL && next->start == end) {
		uint64_t old = next->start;

		next->start = iova; /* moves left, past no other start */
		range_moved(a, next, old);
	} else if (vpio_addr_map_reserve(&a->free, 1) != 0 || range_new(a, iova, end) != 0) {
		return -ENOMEM;
	}
	a->free_bytes += size;
	return 0;
}

uint64_t vpio_iova_alloc_free_bytes(const struct vpio_iova_alloc *a)
{
	return a->free_bytes;
}

uint64_t vpio_iova_alloc_largest_free(const struct vpio_iova_alloc *a)
{
	return vpio_addr_map_max_weight(&a->free);
}

size_t vpio_iova_alloc_fragments(const struct vpio_iova_alloc *a)
{
	return a->free.n;
}
