/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory maps: virtual address -> 64-bit translation, per 4 KiB page.
 *
 * Three levels over the 48-bit virtual address space:
 *   L1: 2^18 slots, one per GiB, each NULL or a pointer to an L2 table;
 *   L2: 512 entries, one per 2 MiB page;
 *   L3: 512 entries, one per 4 KiB page, only where a 2 MiB page is mapped
 *       in pieces (plain heap memory, unaligned registrations).
 * An L2/L3 entry is 0 (unmapped), TRANSLATION | ENT_VALID (the translation
 * of the first byte of the page), or, in L2 only, L3_POINTER | ENT_TABLE.
 * A lookup is at most three dependent loads and takes no lock: tables are
 * published with release stores after they are filled.
 *
 * Reclamation rule: no table ever changes identity while the map lives.
 * L2 tables are kept until the map is destroyed, and each L3 table belongs
 * to one 2 MiB page for the map's life (l2tbl.l3[]): when that page
 * collapses to a single L2 entry the table stays attached to it, and when
 * the page is split again the same table is refilled entry by entry with
 * the page's current translations (never zeroed first).  A reader that
 * loaded an L3 pointer before a collapse therefore reads entries of the
 * same 4 KiB pages it asked for: the current translation or one that was
 * valid a moment ago, never another page's and never a transient 0 for a
 * page that stays mapped.  The cost is at most one 4 KiB table per 2 MiB
 * page that was ever mapped in pieces.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "env_internal.h"
#include "env_vtophys.h"

/* LeakSanitizer does not scan mmap'ed memory: tell it the top tables hold
 * pointers, or every L2 table looks leaked. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_ROOT(p, n) __lsan_register_root_region((p), (n))
#define LSAN_UNROOT(p, n) __lsan_unregister_root_region((p), (n))
#else
#define LSAN_ROOT(p, n) ((void)0)
#define LSAN_UNROOT(p, n) ((void)0)
#endif

/* the layout is the contract of env_vtophys.h */
#define VA_BITS ENV_VA_BITS
#define L1_SHIFT ENV_L1_SHIFT
#define L2_SHIFT ENV_L2_SHIFT
#define L3_SHIFT ENV_L3_SHIFT
#define L1_SLOTS (1ULL << (VA_BITS - L1_SHIFT))
#define TBL_ENTRIES ((int)ENV_TBL_ENTRIES)
#define PAGE_2M (1ULL << L2_SHIFT)
#define PAGE_4K (1ULL << L3_SHIFT)

#define ENT_VALID ENV_ENT_VALID
#define ENT_TABLE ENV_ENT_TABLE
#define ENT_FLAGS ENV_ENT_FLAGS

_Static_assert(VPIO_USER_VA_BITS == ENV_VA_BITS, "one user address width");

struct tbl {
	uint64_t e[TBL_ENTRIES];
};

/* An L2 table: the entries readers load, and beside them (read only by
 * the writer) the L3 table owned by each 2 MiB page, if it ever had one. */
struct l2tbl {
	uint64_t e[TBL_ENTRIES];
	struct tbl *l3[TBL_ENTRIES];
};

_Static_assert(__builtin_offsetof(struct l2tbl, e) == 0, "an L2 table starts with its entries (env_vtophys.h)");

struct vpio_mem_map {
	uint64_t default_translation;
	struct l2tbl **l1; /* L1_SLOTS pointers, mmap'ed: untouched pages cost nothing */
	pthread_mutex_t lock;
	struct vpio_mem_map_ops ops;
	void *ctx;
	size_t n_l2;
	size_t n_l3;	  /* L3 tables allocated (kept for the map's life) */
	size_t n_l3_used; /* of which published in an L2 entry */
	struct vpio_mem_map *next; /* in the registry's list */
};

static inline uint64_t load_ent(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_ent(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline struct tbl *ent_tbl(uint64_t e)
{
	return (struct tbl *)(uintptr_t)(e & ~ENT_FLAGS);
}

struct vpio_mem_map *vpio_mem_map_create(uint64_t default_translation, const struct vpio_mem_map_ops *ops, void *ctx)
{
	struct vpio_mem_map *map = calloc(1, sizeof(*map));

	if (map == NULL) {
		VPIO_ERR("env", "cannot allocate a memory map: out of memory");
		return NULL;
	}
	map->l1 = mmap(NULL, L1_SLOTS * sizeof(struct l2tbl *), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map->l1 == MAP_FAILED) {
		VPIO_ERR("env", "cannot reserve %llu KiB for a memory map's top table: %s",
			 (unsigned long long)(L1_SLOTS * sizeof(void *) >> 10), strerror(errno));
		free(map);
		return NULL;
	}
	LSAN_ROOT(map->l1, L1_SLOTS * sizeof(struct l2tbl *));
	map->default_translation = default_translation;
	if (ops != NULL)
		map->ops = *ops;
	map->ctx = ctx;
	pthread_mutex_init(&map->lock, NULL);
	return map;
}

void vpio_mem_map_destroy(struct vpio_mem_map *map)
{
	for (uint64_t i = 0; i < L1_SLOTS; i++) {
		struct l2tbl *l2 = map->l1[i];

		if (l2 == NULL)
			continue;
		for (int j = 0; j < TBL_ENTRIES; j++)
			free(l2->l3[j]);
		free(l2);
	}
	LSAN_UNROOT(map->l1, L1_SLOTS * sizeof(struct l2tbl *));
	munmap(map->l1, L1_SLOTS * sizeof(struct l2tbl *));
	pthread_mutex_destroy(&map->lock);
	free(map);
}

struct vpio_mem_map *vpio_mem_map_next(struct vpio_mem_map *map)
{
	return map->next;
}

void vpio_mem_map_set_next(struct vpio_mem_map *map, struct vpio_mem_map *next)
{
	map->next = next;
}

int vpio_mem_map_notify(struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr, size_t len)
{
	if (map->ops.notify == NULL)
		return 0;
	return map->ops.notify(map->ctx, map, action, vaddr, len);
}

/* ---------------------------------------------------------- updates */

/* The L2 table of vaddr, created when create is set (kept for the map's
 * life). */
static struct l2tbl *l2_get(struct vpio_mem_map *map, uint64_t vaddr, bool create)
{
	struct l2tbl **pl2 = &map->l1[vaddr >> L1_SHIFT];
	struct l2tbl *l2 = *pl2;

	if (l2 == NULL && create) {
		l2 = aligned_alloc(sizeof(struct tbl), sizeof(*l2));
		if (l2 == NULL)
			return NULL;
		memset(l2, 0, sizeof(*l2));
		__atomic_store_n(pl2, l2, __ATOMIC_RELEASE);
		map->n_l2++;
	}
	return l2;
}

/* The L3 table of 2 MiB page idx of l2, filled with what its L2 entry
 * slot_val describes now (unmapped or one 2 MiB translation), not yet
 * published.  The page's own table is reused when it had one: it is
 * overwritten entry by entry, so a reader still holding it from before a
 * collapse sees old or new values of the same pages, never a 0 between. */
static struct tbl *l3_for_split(struct vpio_mem_map *map, struct l2tbl *l2, unsigned idx, uint64_t slot_val)
{
	struct tbl *t = l2->l3[idx];
	uint64_t base = slot_val & ~ENT_FLAGS;

	if (t == NULL) {
		t = aligned_alloc(sizeof(*t), sizeof(*t));
		if (t == NULL)
			return NULL;
		memset(t, 0, sizeof(*t));
		l2->l3[idx] = t;
		map->n_l3++;
	}
	for (int i = 0; i < TBL_ENTRIES; i++)
		store_ent(&t->e[i], (slot_val & ENT_VALID) ? (base + (uint64_t)i * PAGE_4K) | ENT_VALID : 0);
	return t;
}

/* If an L3 table is all unmapped or one contiguous 2 MiB run, the single
 * L2 entry that replaces it; else 1 (keep the table). */
static uint64_t l3_collapse(const struct tbl *t)
{
	uint64_t first = t->e[0];

	for (int i = 1; i < TBL_ENTRIES; i++) {
		uint64_t want = first == 0 ? 0 : first + (uint64_t)i * PAGE_4K;

		if (t->e[i] != want)
			return 1;
	}
	return first;
}

/* Set (val != 0: translation of vaddr | ENT_VALID) or clear (val == 0)
 * [vaddr, vaddr + n) inside one 2 MiB page. */
static int update_2m_page(struct vpio_mem_map *map, uint64_t vaddr, uint64_t n, uint64_t val)
{
	struct l2tbl *l2 = l2_get(map, vaddr, val != 0);
	unsigned idx = (unsigned)(vaddr >> L2_SHIFT) & (TBL_ENTRIES - 1);
	uint64_t *slot, cur, collapsed;
	struct tbl *t;
	bool fresh = false;

	if (l2 == NULL)
		return val != 0 ? -ENOMEM : 0;
	slot = &l2->e[idx];
	cur = *slot;
	if (n == PAGE_2M) {
		store_ent(slot, val);
		if (cur & ENT_TABLE)
			map->n_l3_used--;
		return 0;
	}
	if (cur & ENT_TABLE) {
		t = ent_tbl(cur);
	} else {
		if (cur == 0 && val == 0)
			return 0;
		t = l3_for_split(map, l2, idx, cur);
		if (t == NULL)
			return -ENOMEM;
		fresh = true;
	}
	for (uint64_t off = 0; off < n; off += PAGE_4K) {
		uint64_t *e = &t->e[((vaddr + off) >> L3_SHIFT) & (TBL_ENTRIES - 1)];

		store_ent(e, val == 0 ? 0 : val + off);
	}
	collapsed = l3_collapse(t);
	if (collapsed != 1) {
		store_ent(slot, collapsed);
		if (!fresh)
			map->n_l3_used--;
	} else if (fresh) {
		store_ent(slot, (uint64_t)(uintptr_t)t | ENT_TABLE);
		map->n_l3_used++;
	}
	return 0;
}

static int check_range(const char *what, uint64_t vaddr, uint64_t size, uint64_t translation)
{
	if (size == 0 || !VPIO_IS_ALIGNED(vaddr | size | translation, PAGE_4K)) {
		VPIO_ERR("env", "%s: vaddr 0x%llx, size 0x%llx and translation 0x%llx must be 4 KiB aligned and size > 0",
			 what, (unsigned long long)vaddr, (unsigned long long)size, (unsigned long long)translation);
		return -EINVAL;
	}
	if (vaddr >= (1ULL << VA_BITS) || size > (1ULL << VA_BITS) - vaddr) {
		VPIO_ERR("env", "%s: range 0x%llx+0x%llx is beyond the %d-bit virtual address space", what,
			 (unsigned long long)vaddr, (unsigned long long)size, VA_BITS);
		return -EINVAL;
	}
	return 0;
}

static int update_range(struct vpio_mem_map *map, uint64_t vaddr, uint64_t size, uint64_t translation, bool set)
{
	uint64_t cur = vaddr, end = vaddr + size;
	int rc = 0;

	pthread_mutex_lock(&map->lock);
	while (cur < end && rc == 0) {
		uint64_t page_end = VPIO_ALIGN_DOWN(cur, PAGE_2M) + PAGE_2M;
		uint64_t n = VPIO_MIN(page_end, end) - cur;
		uint64_t val = set ? (translation + (cur - vaddr)) | ENT_VALID : 0;

		rc = update_2m_page(map, cur, n, val);
		cur += n;
	}
	pthread_mutex_unlock(&map->lock);
	if (rc != 0)
		VPIO_ERR("env", "memory map update of 0x%llx+0x%llx failed: out of memory", (unsigned long long)vaddr,
			 (unsigned long long)size);
	return rc;
}

int vpio_mem_map_set_translation(struct vpio_mem_map *map, uint64_t vaddr, uint64_t size, uint64_t translation)
{
	int rc = check_range("set_translation", vaddr, size, translation);

	return rc != 0 ? rc : update_range(map, vaddr, size, translation, true);
}

int vpio_mem_map_clear_translation(struct vpio_mem_map *map, uint64_t vaddr, uint64_t size)
{
	int rc = check_range("clear_translation", vaddr, size, 0);

	return rc != 0 ? rc : update_range(map, vaddr, size, 0, false);
}

/* ---------------------------------------------------------- lookups */

/* The entry covering vaddr (0 when unmapped) and the size of its page. */
static inline uint64_t lookup(const struct vpio_mem_map *map, uint64_t vaddr, uint64_t *pgsize)
{
	return env_map_walk((const uint64_t *const *)map->l1, vaddr, pgsize);
}

static inline __attribute__((always_inline)) uint64_t translate(const struct vpio_mem_map *map, uint64_t vaddr,
								 uint64_t *size)
{
	uint64_t pg = 0, e = lookup(map, vaddr, &pg), tr, have, want;

	if (!(e & ENT_VALID)) {
		if (size != NULL)
			*size = 0;
		return map->default_translation;
	}
	tr = (e & ~ENT_FLAGS) + (vaddr & (pg - 1));
	if (size == NULL)
		return tr;
	want = *size;
	have = pg - (vaddr & (pg - 1));
	while (have < want) {
		uint64_t next = lookup(map, vaddr + have, &pg);

		if (!(next & ENT_VALID) || (next & ~ENT_FLAGS) != tr + have)
			break;
		have += pg;
	}
	*size = VPIO_MIN(have, want);
	return tr;
}

uint64_t vpio_mem_map_translate(const struct vpio_mem_map *map, uint64_t vaddr, uint64_t *size)
{
	return translate(map, vaddr, size);
}

/* Here rather than in mem_reg.c, so that the I/O path's translation is one
 * call with the lookup inlined. */
struct vpio_mem_map *env_vtophys_map;
const uint64_t *const *env_vtophys_l1;

void env_vtophys_publish(struct vpio_mem_map *map)
{
	env_vtophys_map = map;
	__atomic_store_n(&env_vtophys_l1, map != NULL ? (const uint64_t *const *)map->l1 : NULL, __ATOMIC_RELEASE);
}

uint64_t vpio_vtophys(const void *vaddr, uint64_t *len)
{
	const struct vpio_mem_map *map = env_vtophys_map;

	if (__builtin_expect(map == NULL, 0)) {
		if (len != NULL)
			*len = 0;
		return VPIO_VTOPHYS_ERROR;
	}
	return translate(map, (uint64_t)(uintptr_t)vaddr, len);
}

size_t vpio_mem_map_footprint(const struct vpio_mem_map *map)
{
	return sizeof(*map) + map->n_l2 * sizeof(struct l2tbl) + map->n_l3 * sizeof(struct tbl);
}

size_t vpio_mem_map_l3_tables(const struct vpio_mem_map *map)
{
	return map->n_l3_used;
}
