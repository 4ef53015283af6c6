/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The registry of DMA-able memory.
 *
 * segs:     registered ranges, sorted and disjoint, each with a reference
 *           count (overlapping registrations split segments);
 * mappings: DMA mapping units (va, iova, len); one per contiguous range
 *           that became registered in one call, so one registration of a
 *           large region is one IOMMU mapping;
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

#include "env_internal.h"
#include "iova_alloc.h"

#define MAX_TARGETS 4
#define MOD "env"

struct seg {
	uint64_t va;
	uint64_t len;
	uint32_t ref;
};

struct mapping {
	uint64_t va;
	uint64_t iova;
	uint64_t len;
};

struct target {
	struct vpio_dma_target_ops ops;
	void *ctx;
	struct vpio_dma_target_desc desc;
};

struct vec {
	void *p;
	size_t n;
	size_t cap;
};

static struct {
	pthread_mutex_t lock;
	struct vec segs;     /* struct seg */
	struct vec mappings; /* struct mapping */
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
	VPIO_ERR(MOD, "%s called from a memory map's notify callback, which runs with the registry locked: do it outside the callback",
		 what);
	return -EDEADLK;
}

/* ---------------------------------------------------- small vectors */

static void *vec_at(struct vec *v, size_t i, size_t esz)
{
	return (char *)v->p + i * esz;
}

static int vec_insert(struct vec *v, size_t i, const void *e, size_t esz)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		void *p = realloc(v->p, cap * esz);

		if (p == NULL)
			return -ENOMEM;
		v->p = p;
		v->cap = cap;
	}
	memmove(vec_at(v, i + 1, esz), vec_at(v, i, esz), (v->n - i) * esz);
	memcpy(vec_at(v, i, esz), e, esz);
	v->n++;
	return 0;
}

static void vec_remove(struct vec *v, size_t i, size_t esz)
{
	memmove(vec_at(v, i, esz), vec_at(v, i + 1, esz), (v->n - i - 1) * esz);
	v->n--;
}

#define SEG(i) ((struct seg *)vec_at(&g.segs, (i), sizeof(struct seg)))
#define MAPPING(i) ((struct mapping *)vec_at(&g.mappings, (i), sizeof(struct mapping)))

static void init_once(void)
{
	g.vtophys = vpio_mem_map_create(VPIO_VTOPHYS_ERROR, NULL, NULL);
	g.iova_map = vpio_mem_map_create(0, NULL, NULL);
	g_init_rc = g.vtophys && g.iova_map ? 0 : -ENOMEM;
}

static int reg_init(void)
{
	pthread_once(&g_once, init_once);
	return g_init_rc;
}

/* ----------------------------------------------------------- lookups */

uint64_t vpio_vtophys(const void *vaddr, uint64_t *len)
{
	if (g.vtophys == NULL) {
		if (len != NULL)
			*len = 0;
		return VPIO_VTOPHYS_ERROR;
	}
	return vpio_mem_map_translate(g.vtophys, (uint64_t)(uintptr_t)vaddr, len);
}

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

void vpio_mem_get_stats(struct vpio_mem_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (reentry_check("vpio_mem_get_stats()") != 0)
		return;
	reg_lock();
	st->regions = g.segs.n;
	for (size_t i = 0; i < g.segs.n; i++)
		st->bytes += SEG(i)->len;
	st->dma_mappings = g.mappings.n;
	for (size_t i = 0; i < g.mappings.n; i++) {
		if (MAPPING(i)->iova != MAPPING(i)->va)
			st->iova_allocated += MAPPING(i)->len;
	}
	reg_unlock();
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
		VPIO_ERR(MOD, "no IOVA space left for 0x%llx bytes (%llu MiB free in the IOMMU's valid ranges, largest hole %llu MiB)",
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
		VPIO_WARN(MOD, "cannot mlock 0x%llx+0x%llx: the kernel may move it while devices use its physical address",
			  (unsigned long long)m->va, (unsigned long long)m->len);
	for (uint64_t off = 0; off < m->len; off += VPIO_PAGE_SIZE_4K) {
		uint64_t pa = vpio_pagemap_vtophys((void *)(uintptr_t)(m->va + off));

		if (pa == VPIO_VTOPHYS_ERROR) {
			VPIO_ERR(MOD, "no physical address for 0x%llx in /proc/self/pagemap (no-IOMMU mode needs root and resident pages)",
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
		VPIO_ERR(MOD, "%s refused a DMA mapping of 0x%llx bytes: its limit of DMA mappings is reached (%zu in use); raise it with 'modprobe vfio_iommu_type1 dma_entry_limit=N' or register fewer, larger regions",
			 t->desc.name, (unsigned long long)m->len, g.mappings.n);
	} else if (rc != 0) {
		VPIO_ERR(MOD, "%s: DMA map of va 0x%llx iova 0x%llx len 0x%llx failed: %s", t->desc.name,
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
			VPIO_ERR(MOD, "a memory map refused the registration of 0x%llx+0x%llx (%d)",
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
	for (size_t i = 0; i < g.segs.n; i++) {
		struct seg *s = SEG(i);

		if (va > s->va && va < s->va + s->len) {
			struct seg tail = { va, s->va + s->len - va, s->ref };

			s->len = va - s->va;
			return vec_insert(&g.segs, i + 1, &tail, sizeof(tail));
		}
		if (s->va >= va)
			break;
	}
	return 0;
}

/* Merge neighbouring segments with equal counts (keeps the list short). */
static void seg_coalesce(void)
{
	for (size_t i = 1; i < g.segs.n;) {
		struct seg *a = SEG(i - 1), *b = SEG(i);

		if (a->va + a->len == b->va && a->ref == b->ref) {
			a->len += b->len;
			vec_remove(&g.segs, i, sizeof(struct seg));
		} else {
			i++;
		}
	}
}

static size_t seg_first_at_or_after(uint64_t va)
{
	size_t i = 0;

	while (i < g.segs.n && SEG(i)->va + SEG(i)->len <= va)
		i++;
	return i;
}

static int add_mapping(uint64_t va, uint64_t len)
{
	struct mapping m = { .va = va, .len = len };
	size_t i = 0;
	int rc;

	rc = choose_iova(va, len, &m.iova);
	if (rc != 0)
		return rc;
	rc = mapping_activate(&m);
	if (rc == 0) {
		while (i < g.mappings.n && MAPPING(i)->va < va)
			i++;
		rc = vec_insert(&g.mappings, i, &m, sizeof(m));
		if (rc != 0)
			mapping_deactivate(&m);
	}
	if (rc != 0)
		release_iova(m.iova, len);
	return rc;
}

static void unmap_range(uint64_t va, uint64_t len);

/* Make [va, va+len) (not yet registered) live: mapping, maps, segment. */
static int register_gap(uint64_t va, uint64_t len, size_t seg_pos)
{
	struct seg s = { va, len, 1 };
	int rc = add_mapping(va, len);

	if (rc != 0)
		return rc;
	rc = notify_maps(VPIO_MEM_MAP_REGISTER, va, len, NULL);
	if (rc == 0) {
		rc = vec_insert(&g.segs, seg_pos, &s, sizeof(s));
		if (rc != 0)
			notify_maps(VPIO_MEM_MAP_UNREGISTER, va, len, NULL);
	}
	if (rc != 0)
		unmap_range(va, len);
	return rc;
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
		VPIO_ERR(MOD, "cannot register %p+0x%zx: address and length must be 4 KiB aligned and length > 0", vaddr, len);
		return -EINVAL;
	}
	if (end > VPIO_USER_VA_LIMIT) {
		VPIO_ERR(MOD, "cannot register %p+0x%zx: it ends beyond the 48-bit user address space", vaddr, len);
		return -EINVAL;
	}
	if (va == 0) {
		VPIO_ERR(MOD, "cannot register %p+0x%zx: page 0 is never DMA memory (a NULL buffer?)", vaddr, len);
		return -EFAULT;
	}
	if (check_accessible(va, len) != 0) {
		VPIO_ERR(MOD, "cannot register %p+0x%zx: not all of it is mapped in this process", vaddr, len);
		return -EFAULT;
	}
	return 0;
}

int vpio_mem_register(void *vaddr, size_t len)
{
	uint64_t va = (uint64_t)(uintptr_t)vaddr, end = va + len, cur;
	int rc = check_register(vaddr, len);

	if (rc == 0)
		rc = reentry_check("vpio_mem_register()");
	if (rc == 0)
		rc = reg_init();
	if (rc != 0)
		return rc;
	reg_lock();
	rc = seg_split_at(va);
	if (rc == 0)
		rc = seg_split_at(end);
	/* Walk [va, end): bump covered segments, register the gaps. */
	for (cur = va; rc == 0 && cur < end;) {
		size_t i = seg_first_at_or_after(cur);

		if (i < g.segs.n && SEG(i)->va <= cur) {
			SEG(i)->ref++;
			cur = SEG(i)->va + SEG(i)->len;
		} else {
			uint64_t gap_end = i < g.segs.n ? VPIO_MIN(SEG(i)->va, end) : end;

			rc = register_gap(cur, gap_end - cur, i);
			if (rc == 0)
				cur = gap_end;
		}
	}
	if (rc != 0 && cur > va) /* undo what this call did */
		remove_mapped_range(va, cur - va);
	seg_coalesce();
	reg_unlock();
	return rc;
}

/* Drop DMA mappings that overlap [va, va+len) (now unregistered), and
 * re-map the parts of them that are still registered, at the same IOVAs. */
static void unmap_range(uint64_t va, uint64_t len)
{
	uint64_t end = va + len;

	for (size_t i = 0; i < g.mappings.n;) {
		struct mapping m = *MAPPING(i);
		uint64_t m_end = m.va + m.len;

		if (m_end <= va || m.va >= end) {
			i++;
			continue;
		}
		vec_remove(&g.mappings, i, sizeof(m));
		mapping_deactivate(&m);
		release_iova(m.iova, m.len);
		/* keep the head and the tail that remain registered */
		struct mapping keep[2] = { { m.va, m.iova, va > m.va ? va - m.va : 0 },
					   { end, m.iova + (end - m.va), m_end > end ? m_end - end : 0 } };
		for (int k = 0; k < 2; k++) {
			if (keep[k].len == 0)
				continue;
			if (g.have_alloc)
				vpio_iova_alloc_fixed(&g.alloc, keep[k].iova, keep[k].len);
			if (mapping_activate(&keep[k]) != 0 ||
			    vec_insert(&g.mappings, i++, &keep[k], sizeof(keep[k])) != 0)
				VPIO_ERR(MOD, "could not re-map 0x%llx+0x%llx after a partial unregistration; DMA to it will fail",
					 (unsigned long long)keep[k].va, (unsigned long long)keep[k].len);
		}
	}
}

/* Decrement [va, va+len) (segments split at both ends); unmap what drops
 * to zero. */
static void remove_mapped_range(uint64_t va, uint64_t len)
{
	uint64_t end = va + len;

	for (size_t i = seg_first_at_or_after(va); i < g.segs.n && SEG(i)->va < end;) {
		struct seg s = *SEG(i);

		if (--SEG(i)->ref > 0) {
			i++;
			continue;
		}
		vec_remove(&g.segs, i, sizeof(s));
		notify_maps(VPIO_MEM_MAP_UNREGISTER, s.va, s.len, NULL);
		unmap_range(s.va, s.len);
	}
}

int vpio_mem_unregister(void *vaddr, size_t len)
{
	uint64_t va = (uint64_t)(uintptr_t)vaddr, end = va + len, cur = va;
	int rc = 0;

	if (len == 0 || !VPIO_IS_ALIGNED(va | len, VPIO_PAGE_SIZE_4K) || end < va) {
		VPIO_ERR(MOD, "cannot unregister %p+0x%zx: address and length must be 4 KiB aligned and length > 0", vaddr, len);
		return -EINVAL;
	}
	rc = reentry_check("vpio_mem_unregister()");
	if (rc != 0)
		return rc;
	reg_lock();
	/* All of it must be registered. */
	for (size_t i = seg_first_at_or_after(va); cur < end; i++) {
		if (i >= g.segs.n || SEG(i)->va > cur) {
			VPIO_ERR(MOD, "cannot unregister %p+0x%zx: 0x%llx is not registered", vaddr, len,
				 (unsigned long long)cur);
			rc = -EINVAL;
			break;
		}
		cur = SEG(i)->va + SEG(i)->len;
	}
	if (rc == 0)
		rc = seg_split_at(va);
	if (rc == 0)
		rc = seg_split_at(end);
	if (rc == 0)
		remove_mapped_range(va, len);
	seg_coalesce();
	reg_unlock();
	return rc;
}

/* ------------------------------------------------------- user maps */

/* Notify every registered run (adjacent segments merged) to map. */
static int replay(struct vpio_mem_map *map, enum vpio_mem_map_action action)
{
	for (size_t i = 0; i < g.segs.n;) {
		uint64_t va = SEG(i)->va, len = SEG(i)->len;
		int rc;

		for (i++; i < g.segs.n && SEG(i)->va == va + len; i++)
			len += SEG(i)->len;
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
		VPIO_ERR(MOD, "a new memory map refused the memory registered so far");
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
	for (size_t i = 0; i < g.mappings.n; i++) {
		struct mapping *m = MAPPING(i);
		uint64_t iova;
		int rc;

		clear_translations(m);
		rc = choose_iova(m->va, m->len, &iova);
		if (rc != 0)
			return rc;
		m->iova = iova;
		rc = set_translations(m);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* IOVAs already chosen must be valid in a further target too. */
static int check_iovas(const struct vpio_dma_target_desc *desc)
{
	for (size_t i = 0; i < g.mappings.n; i++) {
		if (!in_ranges(desc, MAPPING(i)->iova, MAPPING(i)->len)) {
			VPIO_ERR(MOD, "%s cannot use IOVA 0x%llx chosen earlier; put all devices in one container",
				 desc->name, (unsigned long long)MAPPING(i)->iova);
			return -EINVAL;
		}
	}
	return 0;
}

int vpio_mem_dma_target_add(const struct vpio_dma_target_ops *ops, void *ctx, const struct vpio_dma_target_desc *desc)
{
	struct target *t;
	size_t i;
	int rc = reentry_check("adding a VFIO container");

	if (rc == 0)
		rc = reg_init();
	if (rc != 0)
		return rc;
	reg_lock();
	if (g.n_targets == MAX_TARGETS) {
		reg_unlock();
		VPIO_ERR(MOD, "too many DMA targets (at most %d VFIO containers)", MAX_TARGETS);
		return -ENOSPC;
	}
	if (g.n_targets == 0) {
		if (desc->noiommu) {
			VPIO_WARN(MOD, "VFIO no-IOMMU mode: devices get PHYSICAL addresses and can reach all memory; no isolation, use only on trusted hardware");
			for (i = 0; i < g.mappings.n; i++)
				clear_translations(MAPPING(i));
			g.mode = VPIO_IOVA_PA;
			for (i = 0; i < g.mappings.n; i++) {
				rc = rc ? rc : set_translations(MAPPING(i));
			}
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
	for (i = 0; i < g.mappings.n && rc == 0; i++) {
		rc = target_map(t, MAPPING(i));
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		while (i-- > 0)
			target_unmap(t, MAPPING(i));
	} else {
		g.n_targets++;
	}
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
		for (size_t j = 0; j < g.mappings.n; j++)
			target_unmap(&g.targets[i], MAPPING(j));
		memmove(&g.targets[i], &g.targets[i + 1], (g.n_targets - i - 1) * sizeof(g.targets[0]));
		g.n_targets--;
		break;
	}
	reg_unlock();
}
