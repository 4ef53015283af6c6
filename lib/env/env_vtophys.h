/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VA -> IOVA lookup, inline, for drivers' I/O paths (lib/nvme): the
 * one header of lib/env that other libraries of libvpio may include
 * besides the public <vpio/env.h>.  It is the contract on the layout of a
 * memory map's tables (lib/env/mem_map.c walks them with the same inline
 * function):
 *   L1: 2^18 slots, one per GiB of the 48-bit user address space, NULL or
 *       an L2 table;  L2: 512 entries, one per 2 MiB page (an L2 table
 *       starts with them);  L3: 512 entries, one per 4 KiB page.
 * An entry is 0, TRANSLATION | ENV_ENT_VALID, or (L2 only) an L3 table |
 * ENV_ENT_TABLE.  Tables never change identity while the map lives (the
 * reclamation rule in mem_map.c), so a lock-free walk is always safe.
 */
#ifndef VPIO_ENV_VTOPHYS_H
#define VPIO_ENV_VTOPHYS_H

#include <stdint.h>

#include <vpio/env.h>

#define ENV_VA_BITS 48
#define ENV_L1_SHIFT 30
#define ENV_L2_SHIFT 21
#define ENV_L3_SHIFT 12
#define ENV_TBL_ENTRIES 512u
#define ENV_ENT_VALID 0x1ull
#define ENV_ENT_TABLE 0x2ull
#define ENV_ENT_FLAGS 0x3ull

#pragma GCC visibility push(hidden)

/* The L1 array of the vtophys map: set once by the registry at its first
 * use and never changed or freed after. */
extern const uint64_t *const *env_vtophys_l1;

#pragma GCC visibility pop

/* The entry of vaddr in the map whose L1 array is l1 (0 when unmapped),
 * and the size of the page it describes. */
static inline uint64_t env_map_walk(const uint64_t *const *l1, uint64_t vaddr, uint64_t *pgsize)
{
	const uint64_t *l2, *l3;
	uint64_t e;

	if (vaddr >> ENV_VA_BITS)
		return 0;
	l2 = __atomic_load_n(&l1[vaddr >> ENV_L1_SHIFT], __ATOMIC_ACQUIRE);
	if (l2 == NULL)
		return 0;
	e = __atomic_load_n(&l2[(vaddr >> ENV_L2_SHIFT) & (ENV_TBL_ENTRIES - 1u)], __ATOMIC_ACQUIRE);
	*pgsize = 1ull << ENV_L2_SHIFT;
	if (e & ENV_ENT_TABLE) {
		l3 = (const uint64_t *)(uintptr_t)(e & ~ENV_ENT_FLAGS);
		e = __atomic_load_n(&l3[(vaddr >> ENV_L3_SHIFT) & (ENV_TBL_ENTRIES - 1u)], __ATOMIC_ACQUIRE);
		*pgsize = 1ull << ENV_L3_SHIFT;
	}
	return e;
}

/* The IOVA of len bytes at vaddr when they lie in one mapped page, else
 * VPIO_VTOPHYS_ERROR (then ask vpio_vtophys(), which also follows runs
 * over several pages).  No call: for the fast paths of drivers. */
static inline uint64_t env_vtophys_try(const void *vaddr, uint64_t len)
{
	const uint64_t *const *l1 = __atomic_load_n(&env_vtophys_l1, __ATOMIC_ACQUIRE);
	uint64_t va = (uint64_t)(uintptr_t)vaddr, pg = 0, e;

	if (__builtin_expect(l1 != NULL, 1)) {
		e = env_map_walk(l1, va, &pg);
		if (__builtin_expect((e & ENV_ENT_VALID) && pg - (va & (pg - 1u)) >= len, 1))
			return (e & ~ENV_ENT_FLAGS) + (va & (pg - 1u));
	}
	return VPIO_VTOPHYS_ERROR;
}

/* vpio_vtophys() with the common case inline. */
static inline uint64_t env_vtophys_inline(const void *vaddr, uint64_t *len)
{
	uint64_t iova = env_vtophys_try(vaddr, *len);

	return iova != VPIO_VTOPHYS_ERROR ? iova : vpio_vtophys(vaddr, len);
}

#endif
