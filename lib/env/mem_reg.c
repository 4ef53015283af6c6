/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The registry of DMA-able memory.
 *
 * segs:     registered ranges, disjoint, each with a reference count
 *           (overlapping registrations split segments; neighbours with
 *           equal counts are merged);
 * mappings: DMA mapping units (va, iova, len); one per contiguous range
 *           that became registered in one call, so one registration of a
 *           large region is one IOMMU mapping;
 *           both kept in B+tree maps keyed by VA (addr_map.h), so that a
 *           call costs O(log n) in the number of regions plus the pieces
 *           it touches, never a walk of everything registered (a region
 *           that touches nothing registered, and the unregistration of a
 *           whole region registered once, take one lookup each);
 * targets:  IOMMU domains (VFIO containers) that map every mapping;
 * maps:     user memory maps notified of every change;
 * vtophys:  the VA -> IOVA map; iova_map: IOVA -> VA (emulated IOMMU).
 * Updates take g.lock; lookups are lock-free through the two maps.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "addr_map.h"
#include "env_internal.h"
#include "iova_alloc.h"

#define MAX_TARGETS 4

struct seg {
	uint64_t va; /* the key in g.segs */
	uint64_t len;
	uint32_t ref;
};

struct mapping {
	uint64_t va; /* the key in g.mappings */
	uint64_t iova;
	uint64_t len;
};

struct target {
	struct vpio_dma_target_ops ops;
	void *ctx;
	struct vpio_dma_target_desc desc;
};

static struct {
	pthread_mutex_t lock;
	struct vpio_addr_map segs;	/* struct seg */
	struct vpio_addr_map mappings;	/* struct mapping */
	uint64_t bytes;			/* in segs */
	uint64_t iova_allocated;	/* bytes of mappings with IOVA != VA */
	struct target targets[MAX_TARGETS];
	unsigned n_targets;
	bool have_alloc;	/* IOVA constraints known: use alloc */
	struct vpio_iova_alloc alloc;
	enum vpio_iova_mode mode;
	struct vpio_mem_map *vtophys;
	struct vpio_mem_map *iova_map;
	struct vpio_mem_map *maps; /* user maps */
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc;

/* Set while this thread holds g.lock: a memory map's notify callback runs
 * under it, and a registry call from there would wait for itself. */
static __thread bool t_locked;

static void reg_lock(void)
{
	pthread_mutex_lock(&g.lock);
	t_locked = true;
}

static void reg_unlock(void)
{
	t_locked = false;
	pthread_mutex_unlock(&g.lock);
}

/* -EDEADLK (and one line) when called from inside the registry, i.e. from
 * a memory map's notify callback. */
static int reentry_check(const char *what)
{
	if (!t_locked)
		return 0;
	VPIO_ERR(ENV_MOD, "%s called from a memory map's notify callback, which runs with the registry locked: do it outside the callback",
		 what);
	return -EDEADLK;
}

/* ------------------------------------------------------- map access */

static uint64_t seg_end(const struct seg *s)
{
	return s->va + s->len;
}

static struct seg *seg_next(const struct seg *s)
{
	return vpio_addr_map_next(&g.segs, s->va);
}

static struct mapping *mapping_next(const struct mapping *m)
{
	return vpio_addr_map_next(&g.mappings, m->va);
}

/* The segments with the largest start <= va and the smallest > va. */
static void seg_around(uint64_t va, struct seg **below, struct seg **above)
{
	void *lo, *hi;

	vpio_addr_map_around(&g.segs, va, &lo, &hi);
	*below = lo;
	*above = hi;
}

/* The segment that holds va, else the first one after va (NULL: none). */
static struct seg *seg_at_or_after(uint64_t va)
{
	struct seg *s = vpio_addr_map_floor(&g.segs, va);

	if (s != NULL && seg_end(s) > va)
		return s;
	return vpio_addr_map_ceil(&g.segs, va);
}

/* The same for mappings. */
static struct mapping *mapping_at_or_after(uint64_t va)
{
	struct mapping *m = vpio_addr_map_floor(&g.mappings, va);

	if (m != NULL && m->va + m->len > va)
		return m;
	return vpio_addr_map_ceil(&g.mappings, va);
}

static void *node_alloc(size_t size, const char *what)
{
	void *p = malloc(size);

	if (p == NULL)
		VPIO_ERR(ENV_MOD, "out of memory for the registry's %s", what);
	return p;
}

/* Room in map for n inserts (then they cannot fail); -ENOMEM and one line. */
static int reserve(struct vpio_addr_map *map, unsigned n)
{
	if (vpio_addr_map_reserve(map, n) == 0)
		return 0;
	VPIO_ERR(ENV_MOD, "out of memory for the registry's index of %zu regions", g.segs.n);
	return -ENOMEM;
}

/* Inserts into the maps cannot fail once reserve() made room for them:
 * the callers reserve before they change anything. */
static void seg_insert(struct seg *s)
{
	vpio_addr_map_insert(&g.segs, s->va, s);
	g.bytes += s->len;
}

static void seg_remove(struct seg *s)
{
	vpio_addr_map_remove(&g.segs, s->va);
	g.bytes -= s->len;
}

static void count_iova(const struct mapping *m, int sign)
{
	if (m->iova != m->va)
		g.iova_allocated += sign > 0 ? m->len : -m->len;
}

static void mapping_insert(struct mapping *m)
{
	vpio_addr_map_insert(&g.mappings, m->va, m);
	count_iova(m, 1);
}

static void mapping_remove(struct mapping *m)
{
	vpio_addr_map_remove(&g.mappings, m->va);
	count_iova(m, -1);
}

static void init_once(void)
{
	g.vtophys = vpio_mem_map_create(VPIO_VTOPHYS_ERROR, NULL, NULL);
	g.iova_map = vpio_mem_map_create(0, NULL, NULL);
	g_init_rc = g.vtophys && g.iova_map ? 0 : -ENOMEM;
	env_vtophys_publish(g.vtophys);
}

static int reg_init(void)
{
	pthread_once(&g_once, init_once);
	return g_init_rc;
}

/* ----------------------------------------------------------- lookups */

void *vpio_iova_to_vaddr(uint64_t iova, uint64_t len)
{
	uint64_t have = len, va;

	if (g.iova_map == NULL || len == 0)
		return NULL;
	va = vpio_mem_map_translate(g.iova_map, iova, &have);
	if (have < len)
		return NULL;
	return (void *)(uintptr_t)va;
}

enum vpio_iova_mode vpio_mem_iova_mode(void)
{
	return g.mode;
}

VPIO_ABI_SIZE(struct vpio_mem_stats, 40);
VPIO_ABI_FIELD(struct vpio_mem_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_mem_stats, regions, 8);
VPIO_ABI_FIELD(struct vpio_mem_stats, bytes, 16);
VPIO_ABI_FIELD(struct vpio_mem_stats, dma_mappings, 24);
VPIO_ABI_FIELD(struct vpio_mem_stats, iova_allocated, 32);

int vpio_mem_get_stats_sized(struct vpio_mem_stats *out, size_t out_size)
{
	struct vpio_mem_stats all = { 0 }, *st = &all;
	int rc = vpio_struct_export(ENV_MOD, "vpio_mem_get_stats", out, out_size, &all, sizeof(all));

	if (rc != 0)
		return rc;
	if (reentry_check("vpio_mem_get_stats()") != 0)
		return -EDEADLK; /* *out is all zero */
	reg_lock();
	st->regions = g.segs.n;
	st->bytes = g.bytes;
	st->dma_mappings = g.mappings.n;
	st->iova_allocated = g.iova_allocated;
	reg_unlock();
	return vpio_struct_export(ENV_MOD, "vpio_mem_get_stats", out, out_size, &all, sizeof(all));
}

/* ------------------------------------------------------ IOVA choice */

static bool in_ranges(const struct vpio_dma_target_desc *d, uint64_t iova, uint64_t len)
{
	if (d->n_ranges == 0)
		return true;
	for (uint32_t i = 0; i < d->n_ranges; i++) {
		if (iova >= d->ranges[i][0] && iova + len - 1 <= d->ranges[i][1])
			return true;
	}
	return false;
}

/* IOVA = VA where the allocator lets us have exactly that range, else an
 * allocated one (2 MiB aligned for 2 MiB aligned regions). */
static int choose_iova(uint64_t va, uint64_t len, uint64_t *iova)
{
	uint64_t align;
	int rc;

	if (!g.have_alloc) {
		*iova = va;
		return 0;
	}
	if (vpio_iova_alloc_fixed(&g.alloc, va, len) == 0) {
		*iova = va;
		return 0;
	}
	align = VPIO_IS_ALIGNED(va | len, VPIO_PAGE_SIZE_2M) ? VPIO_PAGE_SIZE_2M : VPIO_PAGE_SIZE_4K;
	rc = vpio_iova_alloc(&g.alloc, len, align, iova);
	if (rc != 0) {
		VPIO_ERR(ENV_MOD, "no IOVA space left for 0x%llx bytes (%llu MiB free in the IOMMU's valid ranges, largest hole %llu MiB)",
			 (unsigned long long)len, (unsigned long long)(vpio_iova_alloc_free_bytes(&g.alloc) >> 20),
			 (unsigned long long)(vpio_iova_alloc_largest_free(&g.alloc) >> 20));
		return -ENOSPC;
	}
	if (g.mode == VPIO_IOVA_VA)
		g.mode = VPIO_IOVA_ALLOC;
	return 0;
}

static void release_iova(uint64_t iova, uint64_t len)
{
	if (g.have_alloc)
		vpio_iova_free(&g.alloc, iova, len);
}

/* ---------------------------------------------- translations (maps) */

/* Fill vtophys and iova_map for a mapping.  In PA mode every page gets
 * its physical address, which the mapping's iova field does not describe. */
static int set_translations(const struct mapping *m)
{
	int rc;

	if (g.mode != VPIO_IOVA_PA) {
		rc = vpio_mem_map_set_translation(g.vtophys, m->va, m->len, m->iova);
		if (rc == 0)
			rc = vpio_mem_map_set_translation(g.iova_map, m->iova, m->len, m->va);
		return rc;
	}
	/* VFIO does not pin in no-IOMMU mode: keep the pages where they are. */
	if (mlock((void *)(uintptr_t)m->va, m->len) != 0)
		VPIO_WARN(ENV_MOD, "cannot mlock 0x%llx+0x%llx: the kernel may move it while devices use its physical address",
			  (unsigned long long)m->va, (unsigned long long)m->len);
	for (uint64_t off = 0; off < m->len; off += VPIO_PAGE_SIZE_4K) {
		uint64_t pa = vpio_pagemap_vtophys((void *)(uintptr_t)(m->va + off));

		if (pa == VPIO_VTOPHYS_ERROR) {
			VPIO_ERR(ENV_MOD, "no physical address for 0x%llx in /proc/self/pagemap (no-IOMMU mode needs root and resident pages)",
				 (unsigned long long)(m->va + off));
			return -EFAULT;
		}
		rc = vpio_mem_map_set_translation(g.vtophys, m->va + off, VPIO_PAGE_SIZE_4K, pa);
		if (rc == 0)
			rc = vpio_mem_map_set_translation(g.iova_map, pa, VPIO_PAGE_SIZE_4K, m->va + off);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void clear_translations(const struct mapping *m)
{
	if (g.mode == VPIO_IOVA_PA) {
		for (uint64_t off = 0; off < m->len; off += VPIO_PAGE_SIZE_4K) {
			uint64_t pa = vpio_mem_map_translate(g.vtophys, m->va + off, NULL);

			if (pa != VPIO_VTOPHYS_ERROR)
				vpio_mem_map_clear_translation(g.iova_map, pa & ~0xfffULL, VPIO_PAGE_SIZE_4K);
		}
	} else {
		vpio_mem_map_clear_translation(g.iova_map, m->iova, m->len);
	}
	vpio_mem_map_clear_translation(g.vtophys, m->va, m->len);
}

/* ------------------------------------------------ DMA in the targets */

static int target_map(struct target *t, const struct mapping *m)
{
	int rc;

	if (t->desc.noiommu)
		return 0;
	rc = t->ops.map(t->ctx, m->va, m->iova, m->len);
	if (rc == -ENOSPC) {
		VPIO_ERR(ENV_MOD, "%s refused a DMA mapping of 0x%llx bytes: its limit of DMA mappings is reached (%zu in use); raise it with 'modprobe vfio_iommu_type1 dma_entry_limit=N' or register fewer, larger regions",
			 t->desc.name, (unsigned long long)m->len, g.mappings.n);
	} else if (rc != 0) {
		VPIO_ERR(ENV_MOD, "%s: DMA map of va 0x%llx iova 0x%llx len 0x%llx failed: %s", t->desc.name,
			 (unsigned long long)m->va, (unsigned long long)m->iova, (unsigned long long)m->len,
			 strerror(-rc));
	}
	return rc;
}

static void target_unmap(struct target *t, const struct mapping *m)
{
	if (!t->desc.noiommu)
		t->ops.unmap(t->ctx, m->iova, m->len);
}

/* Make m live: every target maps it, then the translations. */
static int mapping_activate(const struct mapping *m)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < g.n_targets; i++) {
		rc = target_map(&g.targets[i], m);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = set_translations(m);
	if (rc != 0) {
		while (i-- > 0)
			target_unmap(&g.targets[i], m);
		clear_translations(m);
	}
	return rc;
}

static void mapping_deactivate(const struct mapping *m)
{
	clear_translations(m);
	for (unsigned i = 0; i < g.n_targets; i++)
		target_unmap(&g.targets[i], m);
}

/* -------------------------------------------------- user map notify */

static int notify_maps(enum vpio_mem_map_action action, uint64_t va, uint64_t len, struct vpio_mem_map *stop)
{
	for (struct vpio_mem_map *m = g.maps; m != NULL && m != stop; m = vpio_mem_map_next(m)) {
		int rc = vpio_mem_map_notify(m, action, (void *)(uintptr_t)va, len);

		if (rc != 0 && action == VPIO_MEM_MAP_REGISTER) {
			VPIO_ERR(ENV_MOD, "a memory map refused the registration of 0x%llx+0x%llx (%d)",
				 (unsigned long long)va, (unsigned long long)len, rc);
			notify_maps(VPIO_MEM_MAP_UNREGISTER, va, len, m);
			return rc;
		}
	}
	return 0;
}

/* ---------------------------------------------------------- segments */

/* Split the segment containing va (if any) so that a segment starts at va. */
static int seg_split_at(uint64_t va)
{
	struct seg *s = vpio_addr_map_floor(&g.segs, va), *tail;

	if (s == NULL || s->va == va || seg_end(s) <= va)
		return 0;
	tail = node_alloc(sizeof(*tail), "segments");
	if (tail == NULL)
		return -ENOMEM;
	tail->va = va;
	tail->len = seg_end(s) - va;
	tail->ref = s->ref;
	if (reserve(&g.segs, 1) != 0) {
		free(tail);
		return -ENOMEM;
	}
	s->len = va - s->va;
	vpio_addr_map_insert(&g.segs, va, tail);
	return 0;
}

/* Merge neighbouring segments with equal counts (keeps the tree small).
 * A call that changed [va, end) can only have made equal the counts on
 * either side of a boundary in [va, end], so only those are looked at. */
static void seg_coalesce(uint64_t va, uint64_t end)
{
	struct seg *s = vpio_addr_map_floor(&g.segs, va - 1);

	if (s == NULL)
		s = vpio_addr_map_first(&g.segs);
	while (s != NULL && s->va <= end) {
		struct seg *next = seg_next(s);

		if (next != NULL && next->va <= end && seg_end(s) == next->va && s->ref == next->ref) {
			vpio_addr_map_remove(&g.segs, next->va);
			s->len += next->len;
			free(next);
		} else {
			s = next;
		}
	}
}

/* Merge b into a when they touch and have equal counts; the one of them
 * that holds b's start afterwards (either may be NULL). */
static struct seg *seg_merge(struct seg *a, struct seg *b)
{
	if (a == NULL || b == NULL || seg_end(a) != b->va || a->ref != b->ref)
		return b;
	vpio_addr_map_remove(&g.segs, b->va);
	a->len += b->len;
	free(b);
	return a;
}

/* Map [va, va + len) in every target as one DMA mapping at a new IOVA. */
static int add_mapping(uint64_t va, uint64_t len)
{
	struct mapping *m = node_alloc(sizeof(*m), "DMA mappings");
	int rc;

	if (m == NULL)
		return -ENOMEM;
	m->va = va;
	m->len = len;
	rc = choose_iova(va, len, &m->iova);
	if (rc == 0) {
		rc = mapping_activate(m);
		if (rc != 0)
			release_iova(m->iova, len);
	}
	if (rc != 0) {
		free(m);
		return rc;
	}
	mapping_insert(m);
	return 0;
}

static void unmap_range(uint64_t va, uint64_t len);

/* Make [va, va+len) (not yet registered) live: mapping, maps, segment
 * (*out, when given). */
static int register_gap(uint64_t va, uint64_t len, struct seg **out)
{
	struct seg *s = node_alloc(sizeof(*s), "segments");
	int rc;

	if (s == NULL)
		return -ENOMEM;
	/* room for the two inserts, before anything changes */
	rc = reserve(&g.segs, 1);
	if (rc == 0)
		rc = reserve(&g.mappings, 1);
	if (rc == 0)
		rc = add_mapping(va, len);
	if (rc == 0) {
		rc = notify_maps(VPIO_MEM_MAP_REGISTER, va, len, NULL);
		if (rc != 0)
			unmap_range(va, len);
	}
	if (rc != 0) {
		free(s);
		return rc;
	}
	s->va = va;
	s->len = len;
	s->ref = 1;
	seg_insert(s);
	if (out != NULL)
		*out = s;
	return 0;
}

static void remove_mapped_range(uint64_t va, uint64_t len);

/* The process can access every page of [va, va + len): mincore() fails
 * with ENOMEM on any page that is not mapped. */
static int check_accessible(uint64_t va, uint64_t len)
{
	unsigned char vec[2048];
	const uint64_t chunk = sizeof(vec) * VPIO_PAGE_SIZE_4K;

	for (uint64_t off = 0; off < len; off += chunk) {
		uint64_t n = VPIO_MIN(chunk, len - off);

		if (mincore((void *)(uintptr_t)(va + off), n, vec) != 0 && errno == ENOMEM)
			return -EFAULT;
	}
	return 0;
}

/* Everything vpio_mem_register() refuses, checked before any change. */
static int check_register(void *vaddr, size_t len)
{
	uint64_t va = (uint64_t)(uintptr_t)vaddr, end = va + len;

	if (len == 0 || !VPIO_IS_ALIGNED(va | len, VPIO_PAGE_SIZE_4K) || end < va) {
		VPIO_ERR(ENV_MOD, "cannot register %p+0x%zx: address and length must be 4 KiB aligned and length > 0", vaddr, len);
		return -EINVAL;
	}
	if (end > VPIO_USER_VA_LIMIT) {
		VPIO_ERR(ENV_MOD, "cannot register %p+0x%zx: it ends beyond the 48-bit user address space", vaddr, len);
		return -EINVAL;
	}
	if (va == 0) {
		VPIO_ERR(ENV_MOD, "cannot register %p+0x%zx: page 0 is never DMA memory (a NULL buffer?)", vaddr, len);
		return -EFAULT;
	}
	if (check_accessible(va, len) != 0) {
		VPIO_ERR(ENV_MOD, "cannot register %p+0x%zx: not all of it is mapped in this process", vaddr, len);
		return -EFAULT;
	}
	return 0;
}

int vpio_mem_register(void *vaddr, size_t len)
{
	uint64_t va = (uint64_t)(uintptr_t)vaddr, end = va + len, cur;
	struct seg *below, *above, *s;
	int rc = check_register(vaddr, len);

	if (rc == 0)
		rc = reentry_check("vpio_mem_register()");
	if (rc == 0)
		rc = reg_init();
	if (rc != 0)
		return rc;
	reg_lock();
	seg_around(va, &below, &above);
	if ((below == NULL || seg_end(below) <= va) && (above == NULL || above->va >= end)) {
		/* none of it is registered yet (the common case): one gap, and
		 * only its two neighbours can merge with it */
		rc = register_gap(va, len, &s);
		if (rc == 0)
			seg_merge(seg_merge(below, s), above);
		reg_unlock();
		return rc;
	}
	rc = seg_split_at(va);
	if (rc == 0)
		rc = seg_split_at(end);
	/* Walk [va, end): bump covered segments, register the gaps. */
	for (cur = va; rc == 0 && cur < end;) {
		s = seg_at_or_after(cur);
		if (s != NULL && s->va <= cur) {
			s->ref++;
			cur = seg_end(s);
		} else {
			uint64_t gap_end = s != NULL ? VPIO_MIN(s->va, end) : end;

			rc = register_gap(cur, gap_end - cur, NULL);
			if (rc == 0)
				cur = gap_end;
		}
	}
	if (rc != 0 && cur > va) /* undo what this call did */
		remove_mapped_range(va, cur - va);
	seg_coalesce(va, end);
	reg_unlock();
	return rc;
}

/* m lost [va, end) and is out of the tree and unmapped: map the head and
 * the tail that stay registered again, at the same IOVAs (m's node is
 * reused for one of them). */
static void remap_rest(struct mapping *m, uint64_t va, uint64_t end)
{
	uint64_t m_va = m->va, m_end = m_va + m->len, iova = m->iova;
	const uint64_t keep[2][2] = { { m_va, va > m_va ? va - m_va : 0 }, { end, m_end > end ? m_end - end : 0 } };
	struct mapping *spare = m;

	for (int k = 0; k < 2; k++) {
		struct mapping *r;

		if (keep[k][1] == 0)
			continue;
		r = spare != NULL ? spare : node_alloc(sizeof(*r), "DMA mappings");
		spare = NULL;
		if (r != NULL) {
			r->iova = iova + (keep[k][0] - m_va);
			r->va = keep[k][0];
			r->len = keep[k][1];
			if (g.have_alloc)
				vpio_iova_alloc_fixed(&g.alloc, r->iova, r->len);
			if (reserve(&g.mappings, 1) == 0 && mapping_activate(r) == 0) {
				mapping_insert(r);
				continue;
			}
			release_iova(r->iova, r->len);
			free(r);
		}
		VPIO_ERR(ENV_MOD, "could not re-map 0x%llx+0x%llx after a partial unregistration; DMA to it will fail",
			 (unsigned long long)keep[k][0], (unsigned long long)keep[k][1]);
	}
	free(spare);
}

/* Drop DMA mappings that overlap [va, va+len) (now unregistered), and
 * re-map the parts of them that are still registered, at the same IOVAs. */
static void unmap_range(uint64_t va, uint64_t len)
{
	uint64_t end = va + len;
	struct mapping *m = mapping_at_or_after(va);

	while (m != NULL && m->va < end) {
		struct mapping *next = m->va + m->len < end ? mapping_next(m) : NULL;

		mapping_remove(m);
		mapping_deactivate(m);
		release_iova(m->iova, m->len);
		remap_rest(m, va, end);
		m = next;
	}
}

/* Decrement [va, va+len) (segments split at both ends); unmap what drops
 * to zero. */
static void remove_mapped_range(uint64_t va, uint64_t len)
{
	uint64_t end = va + len;

	for (struct seg *s = seg_at_or_after(va), *next; s != NULL && s->va < end; s = next) {
		uint64_t s_va = s->va, s_len = s->len;

		next = seg_next(s);
		if (--s->ref > 0)
			continue;
		seg_remove(s);
		free(s);
		notify_maps(VPIO_MEM_MAP_UNREGISTER, s_va, s_len, NULL);
		unmap_range(s_va, s_len);
	}
}

int vpio_mem_unregister(void *vaddr, size_t len)
{
	uint64_t va = (uint64_t)(uintptr_t)vaddr, end = va + len, cur = va;
	struct seg *s;
	int rc = 0;

	if (len == 0 || !VPIO_IS_ALIGNED(va | len, VPIO_PAGE_SIZE_4K) || end < va) {
		VPIO_ERR(ENV_MOD, "cannot unregister %p+0x%zx: address and length must be 4 KiB aligned and length > 0", vaddr, len);
		return -EINVAL;
	}
	rc = reentry_check("vpio_mem_unregister()");
	if (rc != 0)
		return rc;
	reg_lock();
	s = vpio_addr_map_floor(&g.segs, va);
	if (s != NULL && s->va == va && s->len == len && s->ref == 1) {
		/* exactly one segment, registered once (the common case): it
		 * goes, and its neighbours, not touching each other, stay */
		seg_remove(s);
		free(s);
		notify_maps(VPIO_MEM_MAP_UNREGISTER, va, len, NULL);
		unmap_range(va, len);
		reg_unlock();
		return 0;
	}
	/* All of it must be registered. */
	for (s = seg_at_or_after(va); cur < end; s = seg_next(s)) {
		if (s == NULL || s->va > cur) {
			VPIO_ERR(ENV_MOD, "cannot unregister %p+0x%zx: 0x%llx is not registered", vaddr, len,
				 (unsigned long long)cur);
			rc = -EINVAL;
			break;
		}
		cur = seg_end(s);
	}
	if (rc == 0)
		rc = seg_split_at(va);
	if (rc == 0)
		rc = seg_split_at(end);
	if (rc == 0)
		remove_mapped_range(va, len);
	seg_coalesce(va, end);
	reg_unlock();
	return rc;
}

/* ------------------------------------------------------- user maps */

/* Notify every registered run (adjacent segments merged) to map. */
static int replay(struct vpio_mem_map *map, enum vpio_mem_map_action action)
{
	for (struct seg *s = vpio_addr_map_first(&g.segs); s != NULL;) {
		uint64_t va = s->va, len = s->len;
		int rc;

		for (s = seg_next(s); s != NULL && s->va == va + len; s = seg_next(s))
			len += s->len;
		rc = vpio_mem_map_notify(map, action, (void *)(uintptr_t)va, len);
		if (rc != 0 && action == VPIO_MEM_MAP_REGISTER)
			return rc;
	}
	return 0;
}

struct vpio_mem_map *vpio_mem_map_alloc(uint64_t default_translation, const struct vpio_mem_map_ops *ops, void *ctx)
{
	struct vpio_mem_map *map;

	if (reentry_check("vpio_mem_map_alloc()") != 0 || reg_init() != 0)
		return NULL;
	map = vpio_mem_map_create(default_translation, ops, ctx);
	if (map == NULL)
		return NULL;
	reg_lock();
	if (replay(map, VPIO_MEM_MAP_REGISTER) != 0) {
		VPIO_ERR(ENV_MOD, "a new memory map refused the memory registered so far");
		replay(map, VPIO_MEM_MAP_UNREGISTER);
		reg_unlock();
		vpio_mem_map_destroy(map);
		return NULL;
	}
	vpio_mem_map_set_next(map, g.maps);
	g.maps = map;
	reg_unlock();
	return map;
}

void vpio_mem_map_free(struct vpio_mem_map **pmap)
{
	struct vpio_mem_map *map = pmap ? *pmap : NULL;

	if (map == NULL || reentry_check("vpio_mem_map_free()") != 0)
		return;
	reg_lock();
	if (g.maps == map) {
		g.maps = vpio_mem_map_next(map);
	} else {
		for (struct vpio_mem_map *cur = g.maps; cur != NULL; cur = vpio_mem_map_next(cur)) {
			if (vpio_mem_map_next(cur) == map) {
				vpio_mem_map_set_next(cur, vpio_mem_map_next(map));
				break;
			}
		}
	}
	replay(map, VPIO_MEM_MAP_UNREGISTER);
	reg_unlock();
	vpio_mem_map_destroy(map);
	*pmap = NULL;
}

/* ----------------------------------------------------- DMA targets */

static int alloc_from_desc(const struct vpio_dma_target_desc *d)
{
	if (d->n_ranges == 0)
		return 0;
	if (vpio_iova_alloc_init(&g.alloc, (const uint64_t(*)[2])d->ranges, d->n_ranges) != 0)
		return -EINVAL;
	g.have_alloc = true;
	return 0;
}

/* First target with IOVA constraints: give every mapping an IOVA that is
 * valid in it (nothing has been DMA-mapped yet, so this is safe). */
static int reassign_iovas(void)
{
	for (struct mapping *m = vpio_addr_map_first(&g.mappings); m != NULL; m = mapping_next(m)) {
		uint64_t iova;
		int rc;

		clear_translations(m);
		rc = choose_iova(m->va, m->len, &iova);
		if (rc != 0)
			return rc;
		count_iova(m, -1);
		m->iova = iova;
		count_iova(m, 1);
		rc = set_translations(m);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* IOVAs already chosen must be valid in a further target too. */
static int check_iovas(const struct vpio_dma_target_desc *desc)
{
	for (struct mapping *m = vpio_addr_map_first(&g.mappings); m != NULL; m = mapping_next(m)) {
		if (!in_ranges(desc, m->iova, m->len)) {
			VPIO_ERR(ENV_MOD, "%s cannot use IOVA 0x%llx chosen earlier; put all devices in one container",
				 desc->name, (unsigned long long)m->iova);
			return -EINVAL;
		}
	}
	return 0;
}

int vpio_mem_dma_target_add(const struct vpio_dma_target_ops *ops, void *ctx, const struct vpio_dma_target_desc *desc)
{
	struct mapping *m;
	struct target *t;
	int rc = reentry_check("adding a VFIO container");

	if (rc == 0)
		rc = reg_init();
	if (rc != 0)
		return rc;
	reg_lock();
	if (g.n_targets == MAX_TARGETS) {
		reg_unlock();
		VPIO_ERR(ENV_MOD, "too many DMA targets (at most %d VFIO containers)", MAX_TARGETS);
		return -ENOSPC;
	}
	if (g.n_targets == 0) {
		if (desc->noiommu) {
			VPIO_WARN(ENV_MOD, "VFIO no-IOMMU mode: devices get PHYSICAL addresses and can reach all memory; no isolation, use only on trusted hardware");
			for (m = vpio_addr_map_first(&g.mappings); m != NULL; m = mapping_next(m))
				clear_translations(m);
			g.mode = VPIO_IOVA_PA;
			for (m = vpio_addr_map_first(&g.mappings); m != NULL && rc == 0; m = mapping_next(m))
				rc = set_translations(m);
		} else if (!g.have_alloc) {
			rc = alloc_from_desc(desc);
			if (rc == 0)
				rc = reassign_iovas();
		} else {
			rc = check_iovas(desc);
		}
	} else {
		rc = check_iovas(desc);
	}
	t = &g.targets[g.n_targets];
	t->ops = *ops;
	t->ctx = ctx;
	t->desc = *desc;
	for (m = vpio_addr_map_first(&g.mappings); m != NULL && rc == 0; m = mapping_next(m)) {
		rc = target_map(t, m);
		if (rc != 0) {
			/* unmap what this target mapped before m */
			for (struct mapping *done = vpio_addr_map_first(&g.mappings); done != m; done = mapping_next(done))
				target_unmap(t, done);
		}
	}
	if (rc == 0)
		g.n_targets++;
	reg_unlock();
	return rc;
}

void vpio_mem_dma_target_remove(void *ctx)
{
	if (reentry_check("removing a VFIO container") != 0)
		return;
	reg_lock();
	for (unsigned i = 0; i < g.n_targets; i++) {
		if (g.targets[i].ctx != ctx)
			continue;
		for (struct mapping *m = vpio_addr_map_first(&g.mappings); m != NULL; m = mapping_next(m))
			target_unmap(&g.targets[i], m);
		memmove(&g.targets[i], &g.targets[i + 1], (g.n_targets - i - 1) * sizeof(g.targets[0]));
		g.n_targets--;
		break;
	}
	reg_unlock();
}
