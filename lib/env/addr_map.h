/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An ordered map from 64-bit addresses to pointers: a B+tree of 32 keys
 * per node, the leaves linked in key order.  The registry keeps its
 * segments and DMA mappings in two of these (mem_reg.c).
 *
 * Why a B+tree: a million registered regions means a million entries, far
 * more than the caches hold, and a lookup in a binary tree then misses the
 * cache (and the TLB) on nearly every one of its ~20 levels.  Here a lookup
 * reads 4 or 5 nodes, the upper ones shared by all lookups and so usually
 * cached.  Insert, remove and the searches are O(log n).
 *
 * Values are the caller's pointers (not NULL) and never move; keys are
 * unique.  A weighted map also keeps a weight per entry and, in every
 * inner node, the largest weight below each child, so that
 * vpio_addr_map_first_fit() skips whole subtrees (the IOVA allocator's
 * free intervals, weighed by their length).  An insert may need new nodes: vpio_addr_map_reserve() sets them
 * aside beforehand, so that a caller can make sure that the inserts it is
 * about to do cannot fail.  A remove never allocates.
 *
 * Not thread safe: the owner serializes calls.
 */
#ifndef VPIO_ADDR_MAP_H
#define VPIO_ADDR_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vpio_addr_map_node;

struct vpio_addr_map {
	struct vpio_addr_map_node *root;
	size_t n;		  /* entries */
	unsigned height;	  /* levels; 0 when empty */
	struct vpio_addr_map_node *spare; /* nodes set aside for inserts */
	unsigned n_spare;
	bool weighted;		  /* set before the first insert */
};

/* Set aside what `inserts` inserts can need; -ENOMEM when memory runs
 * out (nothing is logged: the caller says what failed).  Nodes set aside
 * are kept for later inserts. */
int vpio_addr_map_reserve(struct vpio_addr_map *m, unsigned inserts);
/* Add key -> val (key not in the map).  -ENOMEM, map unchanged, when it
 * needs memory that was not reserved and there is none. */
int vpio_addr_map_insert(struct vpio_addr_map *m, uint64_t key, void *val);
/* The same with a weight (weighted maps). */
int vpio_addr_map_insert_weighted(struct vpio_addr_map *m, uint64_t key, void *val, uint64_t weight);
/* Give the entry of key a new key and weight.  No other key may lie
 * between the two keys: the entry keeps its place in key order.
 * -ENOENT when key is not in the map. */
int vpio_addr_map_update(struct vpio_addr_map *m, uint64_t key, uint64_t new_key, uint64_t weight);
/* Remove key; its value, or NULL when it was not in the map. */
void *vpio_addr_map_remove(struct vpio_addr_map *m, uint64_t key);

/* The value of the largest key <= key (floor) or the smallest >= key
 * (ceil); NULL when there is none. */
void *vpio_addr_map_floor(const struct vpio_addr_map *m, uint64_t key);
void *vpio_addr_map_ceil(const struct vpio_addr_map *m, uint64_t key);
/* Both at once: *below gets the value of the largest key <= key, *above
 * that of the smallest key > key (NULL where there is none). */
void vpio_addr_map_around(const struct vpio_addr_map *m, uint64_t key, void **below, void **above);
/* The value of the next larger / smaller key than key. */
void *vpio_addr_map_next(const struct vpio_addr_map *m, uint64_t key);
void *vpio_addr_map_prev(const struct vpio_addr_map *m, uint64_t key);
void *vpio_addr_map_first(const struct vpio_addr_map *m);
/* Weighted maps: the value of the smallest key whose weight is at least
 * min_weight and that ok(value, ctx) accepts; NULL when there is none.
 * Subtrees without such a weight are skipped. */
void *vpio_addr_map_first_fit(const struct vpio_addr_map *m, uint64_t min_weight, bool (*ok)(void *val, void *ctx),
			      void *ctx);
/* Weighted maps: the largest weight (0 when empty). */
uint64_t vpio_addr_map_max_weight(const struct vpio_addr_map *m);

/* Free the nodes (not the values). */
void vpio_addr_map_fini(struct vpio_addr_map *m);

/* For tests: 0 when the tree is well formed (keys in order within and
 * between nodes, node fill, all leaves at one depth, leaf links, counts,
 * the largest weights of inner nodes); else -EINVAL. */
int vpio_addr_map_check(const struct vpio_addr_map *m);

#endif
