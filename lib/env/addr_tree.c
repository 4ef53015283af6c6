/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AVL tree keyed by address (addr_tree.h).  Every change walks from the
 * lowest changed node up, fixing heights and rotating where the two
 * subtrees of a node differ in height by 2.  The walk stops at the first
 * subtree whose height did not change (usually after a level or two: the
 * nodes above, and their other children, are not even read), or, when the
 * owner keeps augmented data, goes to the root: O(log n) either way.
 */
#include <errno.h>

#include "addr_tree.h"

static int height(const struct vpio_addr_node *n)
{
	return n != NULL ? n->height : 0;
}

static void update(const struct vpio_addr_tree *t, struct vpio_addr_node *n)
{
	int l = height(n->child[0]), r = height(n->child[1]);

	n->height = 1 + (l > r ? l : r);
	if (t->augment != NULL)
		t->augment(n);
}

/* Put `to` where `from` hangs (under from's parent, or as the root). */
static void replace_child(struct vpio_addr_tree *t, struct vpio_addr_node *from, struct vpio_addr_node *to)
{
	struct vpio_addr_node *p = from->parent;

	if (p == NULL)
		t->root = to;
	else
		p->child[p->child[1] == from] = to;
	if (to != NULL)
		to->parent = p;
}

/* Rotate x down towards side dir (0: left rotation, its right child rises;
 * 1: right rotation).  Returns the node now at x's place. */
static struct vpio_addr_node *rotate(struct vpio_addr_tree *t, struct vpio_addr_node *x, int dir)
{
	struct vpio_addr_node *y = x->child[!dir], *mid = y->child[dir];

	replace_child(t, x, y);
	x->child[!dir] = mid;
	if (mid != NULL)
		mid->parent = x;
	y->child[dir] = x;
	x->parent = y;
	update(t, x);
	update(t, y);
	return y;
}

static void rebalance(struct vpio_addr_tree *t, struct vpio_addr_node *n)
{
	while (n != NULL) {
		int bal = height(n->child[1]) - height(n->child[0]), old = n->height;

		if (bal > 1 || bal < -1) {
			int heavy = bal > 1; /* the taller side */
			struct vpio_addr_node *c = n->child[heavy];

			/* the taller grandchild on the inside: rotate it out first */
			if (height(c->child[!heavy]) > height(c->child[heavy]))
				rotate(t, c, heavy);
			n = rotate(t, n, !heavy);
		} else {
			update(t, n);
		}
		/* A subtree as tall as before changes nothing above it (unless
		 * the owner keeps augmented data, which every ancestor needs). */
		if (n->height == old && t->augment == NULL)
			break;
		n = n->parent;
	}
}

void vpio_addr_tree_insert(struct vpio_addr_tree *t, struct vpio_addr_node *node)
{
	struct vpio_addr_node *p = NULL, **link = &t->root;

	while (*link != NULL) {
		p = *link;
		link = &p->child[node->key > p->key];
	}
	node->child[0] = node->child[1] = NULL;
	node->parent = p;
	node->height = 1;
	*link = node;
	t->n++;
	if (t->augment != NULL)
		t->augment(node);
	rebalance(t, p);
}

void vpio_addr_tree_remove(struct vpio_addr_tree *t, struct vpio_addr_node *node)
{
	struct vpio_addr_node *fix;

	if (node->child[0] != NULL && node->child[1] != NULL) {
		/* the successor (no smaller child) takes node's place */
		struct vpio_addr_node *s = node->child[1];

		while (s->child[0] != NULL)
			s = s->child[0];
		if (s->parent == node) {
			fix = s;
		} else {
			fix = s->parent;
			fix->child[0] = s->child[1];
			if (s->child[1] != NULL)
				s->child[1]->parent = fix;
			s->child[1] = node->child[1];
			s->child[1]->parent = s;
		}
		s->child[0] = node->child[0];
		s->child[0]->parent = s;
		replace_child(t, node, s);
		s->height = node->height;
	} else {
		fix = node->parent;
		replace_child(t, node, node->child[node->child[0] == NULL]);
	}
	t->n--;
	rebalance(t, fix);
}

struct vpio_addr_node *vpio_addr_tree_floor(const struct vpio_addr_tree *t, uint64_t key)
{
	struct vpio_addr_node *n = t->root, *best = NULL;

	while (n != NULL) {
		if (n->key <= key) {
			best = n;
			n = n->child[1];
		} else {
			n = n->child[0];
		}
	}
	return best;
}

struct vpio_addr_node *vpio_addr_tree_ceil(const struct vpio_addr_tree *t, uint64_t key)
{
	struct vpio_addr_node *n = t->root, *best = NULL;

	while (n != NULL) {
		if (n->key >= key) {
			best = n;
			n = n->child[0];
		} else {
			n = n->child[1];
		}
	}
	return best;
}

/* The outermost node of n's subtree on side dir. */
static struct vpio_addr_node *extreme(struct vpio_addr_node *n, int dir)
{
	if (n != NULL) {
		while (n->child[dir] != NULL)
			n = n->child[dir];
	}
	return n;
}

struct vpio_addr_node *vpio_addr_tree_first(const struct vpio_addr_tree *t)
{
	return extreme(t->root, 0);
}

struct vpio_addr_node *vpio_addr_tree_last(const struct vpio_addr_tree *t)
{
	return extreme(t->root, 1);
}

/* The in-order neighbour of n on side dir (1: next, 0: previous). */
static struct vpio_addr_node *step(const struct vpio_addr_node *n, int dir)
{
	if (n->child[dir] != NULL)
		return extreme(n->child[dir], !dir);
	while (n->parent != NULL && n->parent->child[dir] == n)
		n = n->parent;
	return n->parent;
}

struct vpio_addr_node *vpio_addr_tree_next(const struct vpio_addr_node *node)
{
	return step(node, 1);
}

struct vpio_addr_node *vpio_addr_tree_prev(const struct vpio_addr_node *node)
{
	return step(node, 0);
}

/* Checks n's subtree (keys in (lo, hi) unless unbounded); its node count,
 * or -1. */
static long check_subtree(const struct vpio_addr_node *n, const struct vpio_addr_node *parent, const uint64_t *lo,
			  const uint64_t *hi)
{
	long l, r;
	int hl, hr;

	if (n == NULL)
		return 0;
	if (n->parent != parent || (lo != NULL && n->key <= *lo) || (hi != NULL && n->key >= *hi))
		return -1;
	l = check_subtree(n->child[0], n, lo, &n->key);
	r = check_subtree(n->child[1], n, &n->key, hi);
	hl = height(n->child[0]);
	hr = height(n->child[1]);
	if (l < 0 || r < 0 || n->height != 1 + (hl > hr ? hl : hr) || hl - hr > 1 || hr - hl > 1)
		return -1;
	return l + r + 1;
}

int vpio_addr_tree_check(const struct vpio_addr_tree *t)
{
	long n = check_subtree(t->root, NULL, NULL, NULL);

	return n >= 0 && (size_t)n == t->n ? 0 : -EINVAL;
}
