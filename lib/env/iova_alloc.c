/* SPDX-License-Identifier: BSD-3-Clause */
/* IOVA allocator: sorted free intervals, first fit, coalescing frees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iova_alloc.h"
#include "util/util.h"

struct vpio_iova_free_range {
	uint64_t start;
	uint64_t end; /* exclusive */
};

static int ensure_cap(struct vpio_iova_alloc *a, size_t need)
{
	struct vpio_iova_free_range *p;
	size_t cap;

	if (need <= a->cap)
		return 0;
	cap = a->cap ? a->cap * 2 : 16;
	while (cap < need)
		cap *= 2;
	p = realloc(a->free, cap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	a->free = p;
	a->cap = cap;
	return 0;
}

static int insert_at(struct vpio_iova_alloc *a, size_t i, uint64_t start, uint64_t end)
{
	if (ensure_cap(a, a->n + 1) != 0)
		return -ENOMEM;
	memmove(&a->free[i + 1], &a->free[i], (a->n - i) * sizeof(a->free[0]));
	a->free[i].start = start;
	a->free[i].end = end;
	a->n++;
	return 0;
}

static void remove_at(struct vpio_iova_alloc *a, size_t i)
{
	memmove(&a->free[i], &a->free[i + 1], (a->n - i - 1) * sizeof(a->free[0]));
	a->n--;
}

int vpio_iova_alloc_init(struct vpio_iova_alloc *a, const uint64_t (*ranges)[2], size_t n)
{
	memset(a, 0, sizeof(*a));
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
	free(a->free);
	memset(a, 0, sizeof(*a));
}

static int take(struct vpio_iova_alloc *a, size_t i, uint64_t start, uint64_t size)
{
	struct vpio_iova_free_range r = a->free[i];
	uint64_t end = start + size;

	if (start == r.start && end == r.end) {
		remove_at(a, i);
	} else if (start == r.start) {
		a->free[i].start = end;
	} else if (end == r.end) {
		a->free[i].end = start;
	} else {
		if (insert_at(a, i + 1, end, r.end) != 0)
			return -ENOMEM;
		a->free[i].end = start;
	}
	return 0;
}

int vpio_iova_alloc(struct vpio_iova_alloc *a, uint64_t size, uint64_t align, uint64_t *iova)
{
	if (size == 0 || !vpio_is_pow2(align) || !VPIO_IS_ALIGNED(size, 0x1000ULL))
		return -EINVAL;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t s = VPIO_ALIGN_UP(a->free[i].start, align);

		if (s < a->free[i].start || s >= a->free[i].end || a->free[i].end - s < size)
			continue;
		if (take(a, i, s, size) != 0)
			return -ENOMEM;
		*iova = s;
		return 0;
	}
	return -ENOSPC;
}

int vpio_iova_alloc_fixed(struct vpio_iova_alloc *a, uint64_t iova, uint64_t size)
{
	if (size == 0 || iova + size < iova)
		return -EINVAL;
	for (size_t i = 0; i < a->n; i++) {
		if (iova >= a->free[i].start && iova + size <= a->free[i].end)
			return take(a, i, iova, size);
	}
	return -EBUSY;
}

int vpio_iova_free(struct vpio_iova_alloc *a, uint64_t iova, uint64_t size)
{
	uint64_t end = iova + size;
	size_t i = 0;

	if (size == 0 || end < iova)
		return -EINVAL;
	while (i < a->n && a->free[i].end <= iova)
		i++;
	/* free[i] is the first interval ending after iova: it must start at
	 * or after end, or the range is (partly) free already. */
	if (i < a->n && a->free[i].start < end)
		return -EINVAL;
	if (i > 0 && a->free[i - 1].end == iova) {
		a->free[i - 1].end = end;
		if (i < a->n && a->free[i].start == end) {
			a->free[i - 1].end = a->free[i].end;
			remove_at(a, i);
		}
		return 0;
	}
	if (i < a->n && a->free[i].start == end) {
		a->free[i].start = iova;
		return 0;
	}
	return insert_at(a, i, iova, end);
}

uint64_t vpio_iova_alloc_free_bytes(const struct vpio_iova_alloc *a)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < a->n; i++)
		sum += a->free[i].end - a->free[i].start;
	return sum;
}

uint64_t vpio_iova_alloc_largest_free(const struct vpio_iova_alloc *a)
{
	uint64_t best = 0;

	for (size_t i = 0; i < a->n; i++)
		best = VPIO_MAX(best, a->free[i].end - a->free[i].start);
	return best;
}

size_t vpio_iova_alloc_fragments(const struct vpio_iova_alloc *a)
{
	return a->n;
}
