/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An ordered set of nodes keyed by a 64-bit address: an AVL tree with
 * parent links, intrusive (the node lives inside the caller's struct, found
 * back with VPIO_ADDR_TREE_ENTRY), so a node never moves and a pointer to
 * it stays valid while other nodes come and go.  Insert, remove and the
 * searches are O(log n); next/prev are O(1) amortized over a walk.
 *
 * Keys are unique.  The registry keeps disjoint ranges in it, keyed by
 * their start: vpio_addr_tree_floor(t, a) is then the only range that can
 * contain a.
 *
 * An optional augment callback lets the owner keep a summary of each
 * subtree in its struct (e.g. the largest free interval below a node): it
 * is called on a node whenever its children changed, children first, up to
 * the root.
 *
 * Not thread safe: the owner serializes calls.
 */
#ifndef VPIO_ADDR_TREE_H
#define VPIO_ADDR_TREE_H

#include <stddef.h>
#include <stdint.h>

struct vpio_addr_node {
	struct vpio_addr_node *child[2]; /* [0] smaller keys, [1] larger */
	struct vpio_addr_node *parent;
	uint64_t key;
	int height; /* of the subtree; a leaf is 1 */
};

struct vpio_addr_tree {
	struct vpio_addr_node *root;
	size_t n;
	void (*augment)(struct vpio_addr_node *n); /* NULL: none */
};

#define VPIO_ADDR_TREE_ENTRY(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* node->key must be set and not in the tree yet. */
void vpio_addr_tree_insert(struct vpio_addr_tree *t, struct vpio_addr_node *node);
void vpio_addr_tree_remove(struct vpio_addr_tree *t, struct vpio_addr_node *node);

/* The node with the largest key <= key, or NULL. */
struct vpio_addr_node *vpio_addr_tree_floor(const struct vpio_addr_tree *t, uint64_t key);
/* The node with the smallest key >= key, or NULL. */
struct vpio_addr_node *vpio_addr_tree_ceil(const struct vpio_addr_tree *t, uint64_t key);
struct vpio_addr_node *vpio_addr_tree_first(const struct vpio_addr_tree *t);
struct vpio_addr_node *vpio_addr_tree_last(const struct vpio_addr_tree *t);
struct vpio_addr_node *vpio_addr_tree_next(const struct vpio_addr_node *node);
struct vpio_addr_node *vpio_addr_tree_prev(const struct vpio_addr_node *node);

/* For tests: 0 when keys are in order, parent links, heights and balance
 * are right and n is the node count; else -EINVAL. */
int vpio_addr_tree_check(const struct vpio_addr_tree *t);

#endif
