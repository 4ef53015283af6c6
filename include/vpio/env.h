/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio environment: DPDK EAL underneath (hugepage memory, lcores, mempools),
 * DMA-able memory, and the memory maps that translate virtual addresses to
 * IOVAs for devices.
 */
#ifndef VPIO_ENV_H
#define VPIO_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPIO_PAGE_SIZE_4K 0x1000ULL
#define VPIO_PAGE_SIZE_2M 0x200000ULL

/* ------------------------------------------------------------------ init */

struct vpio_env_opts {
	size_t opts_size;	/* sizeof(struct vpio_env_opts) the caller was
				 * built with: set by vpio_env_opts_init()
				 * (doc/api.md) */
	const char *name;	/* process name for EAL (default "vpio") */
	const char *core_mask;	/* hex core mask, e.g. "0x3" (default: "0x1") */
	size_t mem_size_mb;	/* DMA memory to reserve (default 256) */
	int log_level;		/* vpio log level, -1 = keep current */
	bool no_huge;		/* force anonymous memory instead of hugepages */
	bool quiet;		/* do not print the EAL banner lines */
};

/* Fill *opts with the defaults: opts_size bytes of it (the caller's
 * sizeof; fields this library does not know are zeroed), and set
 * opts_size.  -EINVAL for NULL or a size that is not a struct's.  Call the
 * macro; vpio_env_init() refuses opts whose opts_size is 0.
 * Thread: any. */
int vpio_env_opts_init_sized(struct vpio_env_opts *opts, size_t opts_size);
#define vpio_env_opts_init(opts) vpio_env_opts_init_sized((opts), sizeof(*(opts)))
/* Start DPDK EAL and the memory registry.  With no free hugepages falls back
 * to --no-huge and prints one warning line saying how to reserve them.
 * Once per process: DPDK's EAL cannot be started again after
 * vpio_env_fini(), so a second call (before or after fini) gives -EALREADY.
 * Thread: the main thread, before any other vpio call but the opts and
 * memory-map ones. */
int vpio_env_init(const struct vpio_env_opts *opts);
/* Stop EAL at the end of the process.  Thread: the main thread, after
 * every worker and device is gone. */
void vpio_env_fini(void);
/* true after a successful vpio_env_init().  Thread: any. */
bool vpio_env_is_init(void);
/* true when DMA memory comes from hugepages.  Thread: any. */
bool vpio_env_uses_hugepages(void);

/* ------------------------------------------------------------ DMA memory */

/* DMA memory from DPDK's heap: registered, pinned, translatable with
 * vpio_vtophys().  size > 0; align a power of two up to 1 GiB (0 = cache
 * line).  NULL and one log line on bad input or when out of memory.
 * vpio_dma_realloc() refuses size 0 (use vpio_dma_free()) and leaves the
 * buffer unchanged when it fails.  Thread: any (DPDK's heap has a lock);
 * a buffer is freed or reallocated once no other thread uses it. */
void *vpio_dma_malloc(size_t size, size_t align);
void *vpio_dma_zmalloc(size_t size, size_t align);
void *vpio_dma_realloc(void *buf, size_t size, size_t align);
void vpio_dma_free(void *buf);

/* ------------------------------------------------------------- mempools */

struct vpio_mempool;
#define VPIO_MEMPOOL_DEFAULT_CACHE (-1)
/* count elements of elt_size bytes (each 1 to 2^32 - 1; name 1 to 25
 * characters, unique); cache_size objects cached per lcore
 * (VPIO_MEMPOOL_DEFAULT_CACHE picks one).  Elements are DMA memory.
 * Thread: create/free: any (free once no thread uses the pool); get/put:
 * any, lock-free, with a cache per DPDK core (threads that are not DPDK
 * cores share the ring). */
struct vpio_mempool *vpio_mempool_create(const char *name, size_t count, size_t elt_size, int cache_size);
void vpio_mempool_free(struct vpio_mempool *mp);
void *vpio_mempool_get(struct vpio_mempool *mp);
void vpio_mempool_put(struct vpio_mempool *mp, void *ele);
/* All or nothing: 0 with n elements, or -ENOMEM with none taken.
 * Thread: any (as get/put). */
int vpio_mempool_get_bulk(struct vpio_mempool *mp, void **ele, size_t n);
void vpio_mempool_put_bulk(struct vpio_mempool *mp, void **ele, size_t n);
/* Elements currently available (a snapshot).  Thread: any. */
size_t vpio_mempool_count(const struct vpio_mempool *mp);

/* -------------------------------------------------------------- threads */

typedef int (*vpio_thread_fn)(void *arg);
/* Number of cores in the mask, and the index of the calling one.
 * Thread: any, after vpio_env_init(). */
unsigned vpio_env_core_count(void);
unsigned vpio_env_core_id(void);
/* The n-th core of the mask (n < vpio_env_core_count()).  Thread: any. */
unsigned vpio_env_core_nth(unsigned n);
/* Launch fn(arg) on every core of the mask except the calling (main) one.
 * Thread: the main thread (DPDK's main lcore) only, as the two below. */
int vpio_env_launch_workers(vpio_thread_fn fn, void *arg);
/* Launch fn(arg) on one worker core.  Thread: the main thread only. */
int vpio_env_launch_on(unsigned core, vpio_thread_fn fn, void *arg);
/* Wait for all workers; returns the first non-zero return value.
 * Thread: the main thread only. */
int vpio_env_wait_workers(void);

/* The CPU's time-stamp counter, and its ticks per second (calibrated once).
 * Thread: any. */
uint64_t vpio_get_ticks(void);
uint64_t vpio_get_ticks_hz(void);

/* ---------------------------------------------------- memory registration */

#define VPIO_VTOPHYS_ERROR UINT64_MAX

/* Register a 4 KiB-aligned region (hugepage or plain heap memory) for DMA:
 * it is DMA-mapped in every open VFIO container and notified to every
 * memory map.  Overlapping registrations are reference counted.  Refused
 * (nothing changes): length 0, misalignment, page 0, any page not mapped
 * in the process (-EFAULT), a range beyond the 48-bit user address space,
 * and a call from a memory map's notify callback (-EDEADLK).
 * Thread: any (register and unregister are serialized inside); not from a
 * notify callback. */
int vpio_mem_register(void *vaddr, size_t len);
int vpio_mem_unregister(void *vaddr, size_t len);
/* IOVA of vaddr, or VPIO_VTOPHYS_ERROR when it is not registered.  With
 * len != NULL, *len (in: bytes wanted) is cut to the bytes that are
 * contiguous in IOVA space from vaddr.  Thread: any, lock-free. */
uint64_t vpio_vtophys(const void *vaddr, uint64_t *len);
/* Reverse lookup, for emulated devices (an emulated IOMMU): the virtual
 * address of iova if [iova, iova + len) is entirely registered, else NULL.
 * Thread: any, lock-free. */
void *vpio_iova_to_vaddr(uint64_t iova, uint64_t len);

/* How IOVAs are chosen (see doc/env.md). */
enum vpio_iova_mode {
	VPIO_IOVA_VA = 0,	/* IOVA = VA (no IOMMU constraint, or VA fits) */
	VPIO_IOVA_ALLOC = 1,	/* IOVA = VA where it fits, else allocated */
	VPIO_IOVA_PA = 2,	/* VFIO no-IOMMU mode: physical addresses */
};
/* The mode chosen at vpio_env_init().  Thread: any. */
enum vpio_iova_mode vpio_mem_iova_mode(void);

/* Counters of the registry, for apps and tests. */
struct vpio_mem_stats {
	size_t stats_size;	/* out: the bytes the library filled (doc/api.md) */
	uint64_t regions;	/* distinct registered ranges */
	uint64_t bytes;		/* registered bytes */
	uint64_t dma_mappings;	/* DMA mappings in each container */
	uint64_t iova_allocated;/* bytes whose IOVA != VA */
};
/* Fill stats_size bytes of *st (nothing past it; fields this library does
 * not know read 0; st->stats_size says how many bytes it filled).  -EINVAL
 * for NULL or a bad size, -EDEADLK from a notify callback (st then all
 * zero).  Call the macro.  Thread: any; not from a notify callback. */
int vpio_mem_get_stats_sized(struct vpio_mem_stats *st, size_t stats_size);
#define vpio_mem_get_stats(st) vpio_mem_get_stats_sized((st), sizeof(*(st)))

/* ---------------------------------------------------------- memory maps */

/*
 * A memory map translates 4 KiB pages of virtual address space to 64-bit
 * values: address-like translations (IOVA, PA, a device address) where
 * vaddr + i maps to translation + i.  Lookups take a constant number of
 * table loads and no lock; updates are serialized by the map.
 */
struct vpio_mem_map;

enum vpio_mem_map_action {
	VPIO_MEM_MAP_REGISTER,
	VPIO_MEM_MAP_UNREGISTER,
};
struct vpio_mem_map_ops {
	/* Called for every registered region when the map is allocated, and on
	 * every later register/unregister.  A non-zero return on REGISTER
	 * fails the registration (or the map allocation).  It runs with the
	 * registry locked: calling vpio_mem_register/unregister,
	 * vpio_mem_map_alloc/free or vpio_mem_get_stats from it is refused
	 * with -EDEADLK (NULL, or nothing done, for the void calls) and a line;
	 * so is anything that grows DPDK's heap (vpio_dma_malloc may).  Use
	 * vpio_mem_map_set/clear_translation on the map passed in. */
	int (*notify)(void *ctx, struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr,
		      size_t len);
};

/* A map whose unmapped pages translate to default_translation; ops may be
 * NULL (nothing notified).  Thread: any, not from a notify callback (it
 * takes the registry's lock to replay the registered regions); free it
 * once no other thread looks it up. */
struct vpio_mem_map *vpio_mem_map_alloc(uint64_t default_translation, const struct vpio_mem_map_ops *ops,
					void *ctx);
void vpio_mem_map_free(struct vpio_mem_map **map);
/* vaddr and size must be 4 KiB aligned; translation too.  Thread: any
 * (updates of one map are serialized by its lock; lookups meanwhile see
 * each page either before or after). */
int vpio_mem_map_set_translation(struct vpio_mem_map *map, uint64_t vaddr, uint64_t size, uint64_t translation);
int vpio_mem_map_clear_translation(struct vpio_mem_map *map, uint64_t vaddr, uint64_t size);
/* Translation of vaddr (the default one when unmapped).  With size != NULL,
 * *size (in: bytes wanted) becomes the bytes from vaddr that are mapped and
 * contiguous in translation space (0 when unmapped).  Thread: any,
 * lock-free. */
uint64_t vpio_mem_map_translate(const struct vpio_mem_map *map, uint64_t vaddr, uint64_t *size);
/* Bytes of table memory the map holds.  Thread: any (a snapshot). */
size_t vpio_mem_map_footprint(const struct vpio_mem_map *map);

#ifdef __cplusplus
}
#endif
#endif
