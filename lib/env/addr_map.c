/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * B+tree map (addr_map.h).
 *
 * Every node holds up to ORDER sorted keys and, except the root, at least
 * MIN_KEYS.  A leaf holds the values (and their weights); an inner node
 * with n keys has n + 1 children, child[i] holding keys in [key[i - 1],
 * key[i]) (a separator is a lower bound of its right subtree and above
 * everything on its left; it need not be a key in the map any more), and
 * cmax[i], the largest weight below child[i].  A search takes, at each
 * inner node, the child after the last separator <= the key it looks for.
 *
 * Insert: into the leaf; a full leaf splits in two halves and its new right
 * half's first key goes up as a separator; a full inner node splits around
 * its middle key, which goes up; a full root grows a new root.  Remove:
 * from the leaf; a node left below MIN_KEYS borrows an entry from a
 * sibling that can spare one, else merges with it, which takes a separator
 * out of the parent (and may repeat above); an empty inner root gives way
 * to its only child.  In a weighted map, where nodes are split, merged or
 * borrowed from, their parent's largest weights for them are computed
 * again on the spot; above that, along the path the change took.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr_map.h"
#include "util/util.h"

#define ORDER 32
#define MIN_KEYS (ORDER / 2)
#define MAX_DEPTH 24 /* 16^24 entries: more than memory can hold */
#define SPARE_KEEP 16 /* free nodes kept for later inserts */

struct vpio_addr_map_node {
	uint32_t n;
	bool leaf;
	uint64_t key[ORDER];
	union {
		struct { /* leaf */
			void *val[ORDER];
			uint64_t w[ORDER];
		};
		struct { /* inner */
			struct vpio_addr_map_node *child[ORDER + 1];
			uint64_t cmax[ORDER + 1];
		};
	};
	struct vpio_addr_map_node *prev, *next; /* leaves, in key order */
};

typedef struct vpio_addr_map_node node_t;

/* A descent: the inner nodes passed and the child taken in each. */
struct path {
	node_t *node[MAX_DEPTH];
	uint32_t idx[MAX_DEPTH];
	int depth;
};

/* ------------------------------------------------------------ nodes */

int vpio_addr_map_reserve(struct vpio_addr_map *m, unsigned inserts)
{
	/* an insert splits at most every level and adds one */
	unsigned want = inserts * (m->height + 2);

	while (m->n_spare < want) {
		node_t *x = aligned_alloc(64, VPIO_ALIGN_UP(sizeof(node_t), 64));

		if (x == NULL)
			return -ENOMEM;
		x->next = m->spare;
		m->spare = x;
		m->n_spare++;
	}
	return 0;
}

static node_t *take_spare(struct vpio_addr_map *m, bool leaf)
{
	node_t *x = m->spare;

	m->spare = x->next;
	m->n_spare--;
	memset(x, 0, sizeof(*x));
	x->leaf = leaf;
	return x;
}

static void give_back(struct vpio_addr_map *m, node_t *x)
{
	if (m->n_spare >= SPARE_KEEP) {
		free(x);
		return;
	}
	x->next = m->spare;
	m->spare = x;
	m->n_spare++;
}

void vpio_addr_map_fini(struct vpio_addr_map *m)
{
	node_t *stack[MAX_DEPTH * (ORDER + 1)];
	int top = 0;

	if (m->root != NULL)
		stack[top++] = m->root;
	while (top > 0) { /* depth first: at most MAX_DEPTH levels of ORDER + 1 */
		node_t *x = stack[--top];

		for (uint32_t i = 0; !x->leaf && i <= x->n; i++)
			stack[top++] = x->child[i];
		free(x);
	}
	while (m->spare != NULL) {
		node_t *x = m->spare;

		m->spare = x->next;
		free(x);
	}
	memset(m, 0, sizeof(*m));
}

/* ----------------------------------------------------------- weights */

static uint64_t node_max(const node_t *x)
{
	const uint64_t *w = x->leaf ? x->w : x->cmax;
	uint32_t n = x->leaf ? x->n : x->n + 1;
	uint64_t best = 0;

	for (uint32_t i = 0; i < n; i++)
		best = VPIO_MAX(best, w[i]);
	return best;
}

/* The largest weight of child i of x, computed again (weighted maps). */
static void reweigh(const struct vpio_addr_map *m, node_t *x, uint32_t i)
{
	if (m->weighted)
		x->cmax[i] = node_max(x->child[i]);
}

/* After a change below level `levels` of path p (whose nodes above kept
 * their shape): the largest weights along it, bottom up. */
static void refresh(const struct vpio_addr_map *m, const struct path *p, int levels)
{
	for (int d = levels - 1; d >= 0; d--)
		reweigh(m, p->node[d], p->idx[d]);
}

uint64_t vpio_addr_map_max_weight(const struct vpio_addr_map *m)
{
	return m->root != NULL ? node_max(m->root) : 0;
}

/* ---------------------------------------------------------- searches */

/* The number of keys <= key (upper bound). */
static uint32_t upper(const node_t *x, uint64_t key)
{
	uint32_t lo = 0, hi = x->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (x->key[mid] <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The leaf whose range holds key (NULL: empty map); p, when given, gets
 * the way there. */
static node_t *descend(const struct vpio_addr_map *m, uint64_t key, struct path *p)
{
	node_t *x = m->root;
	int d = 0;

	while (x != NULL && !x->leaf) {
		uint32_t i = upper(x, key);

		if (p != NULL) {
			p->node[d] = x;
			p->idx[d] = i;
		}
		d++;
		x = x->child[i];
	}
	if (p != NULL)
		p->depth = d;
	return x;
}

/* The value before position i of leaf x (in the previous leaf when i is
 * 0), and the one at position i (in the next leaf when i is past the
 * end); NULL at either end of the map. */
static void *val_before(const node_t *x, uint32_t i)
{
	if (i > 0)
		return x->val[i - 1];
	return x->prev != NULL ? x->prev->val[x->prev->n - 1] : NULL;
}

static void *val_from(const node_t *x, uint32_t i)
{
	if (i < x->n)
		return x->val[i];
	return x->next != NULL ? x->next->val[0] : NULL;
}

void *vpio_addr_map_floor(const struct vpio_addr_map *m, uint64_t key)
{
	const node_t *x = descend(m, key, NULL);

	return x != NULL ? val_before(x, upper(x, key)) : NULL;
}

void *vpio_addr_map_ceil(const struct vpio_addr_map *m, uint64_t key)
{
	const node_t *x = descend(m, key, NULL);
	uint32_t i;

	if (x == NULL)
		return NULL;
	i = upper(x, key);
	return i > 0 && x->key[i - 1] == key ? x->val[i - 1] : val_from(x, i);
}

void vpio_addr_map_around(const struct vpio_addr_map *m, uint64_t key, void **below, void **above)
{
	const node_t *x = descend(m, key, NULL);
	uint32_t i = x != NULL ? upper(x, key) : 0;

	*below = x != NULL ? val_before(x, i) : NULL;
	*above = x != NULL ? val_from(x, i) : NULL;
}

void *vpio_addr_map_next(const struct vpio_addr_map *m, uint64_t key)
{
	return key == UINT64_MAX ? NULL : vpio_addr_map_ceil(m, key + 1);
}

void *vpio_addr_map_prev(const struct vpio_addr_map *m, uint64_t key)
{
	return key == 0 ? NULL : vpio_addr_map_floor(m, key - 1);
}

void *vpio_addr_map_first(const struct vpio_addr_map *m)
{
	return vpio_addr_map_ceil(m, 0);
}

static void *fit_in(const node_t *x, uint64_t min_weight, bool (*ok)(void *val, void *ctx), void *ctx)
{
	for (uint32_t i = 0; x->leaf && i < x->n; i++) {
		if (x->w[i] >= min_weight && ok(x->val[i], ctx))
			return x->val[i];
	}
	for (uint32_t i = 0; !x->leaf && i <= x->n; i++) {
		void *v = x->cmax[i] >= min_weight ? fit_in(x->child[i], min_weight, ok, ctx) : NULL;

		if (v != NULL)
			return v;
	}
	return NULL;
}

void *vpio_addr_map_first_fit(const struct vpio_addr_map *m, uint64_t min_weight, bool (*ok)(void *val, void *ctx),
			      void *ctx)
{
	return m->root != NULL ? fit_in(m->root, min_weight, ok, ctx) : NULL;
}

/* ------------------------------------------------------------ insert */

/* Entry i of a node (key, and value and weight, or the child right of the
 * key and its weight) opens a gap at position i: shift right. */
static void open_gap(node_t *x, uint32_t i)
{
	memmove(&x->key[i + 1], &x->key[i], (x->n - i) * sizeof(x->key[0]));
	if (x->leaf) {
		memmove(&x->val[i + 1], &x->val[i], (x->n - i) * sizeof(x->val[0]));
		memmove(&x->w[i + 1], &x->w[i], (x->n - i) * sizeof(x->w[0]));
	} else {
		memmove(&x->child[i + 2], &x->child[i + 1], (x->n - i) * sizeof(x->child[0]));
		memmove(&x->cmax[i + 2], &x->cmax[i + 1], (x->n - i) * sizeof(x->cmax[0]));
	}
	x->n++;
}

/* Split full leaf x; key goes in at position pos.  Returns the new right
 * leaf (its first key is the separator). */
static node_t *split_leaf(struct vpio_addr_map *m, node_t *x, uint32_t pos, uint64_t key, void *val, uint64_t w)
{
	node_t *r = take_spare(m, true), *dst = x;

	r->n = ORDER - MIN_KEYS;
	memcpy(r->key, &x->key[MIN_KEYS], r->n * sizeof(r->key[0]));
	memcpy(r->val, &x->val[MIN_KEYS], r->n * sizeof(r->val[0]));
	memcpy(r->w, &x->w[MIN_KEYS], r->n * sizeof(r->w[0]));
	x->n = MIN_KEYS;
	r->prev = x;
	r->next = x->next;
	if (x->next != NULL)
		x->next->prev = r;
	x->next = r;
	if (pos > MIN_KEYS) {
		dst = r;
		pos -= MIN_KEYS;
	}
	open_gap(dst, pos);
	dst->key[pos] = key;
	dst->val[pos] = val;
	dst->w[pos] = w;
	return r;
}

/* Split full inner node x that must take separator sep with child c at
 * key position i.  Returns the new right node; *up gets the middle key. */
static node_t *split_inner(struct vpio_addr_map *m, node_t *x, uint32_t i, uint64_t sep, node_t *c, uint64_t *up)
{
	uint64_t k[ORDER + 1], cm[ORDER + 2];
	node_t *ch[ORDER + 2], *r = take_spare(m, false);

	memcpy(k, x->key, i * sizeof(k[0]));
	k[i] = sep;
	memcpy(&k[i + 1], &x->key[i], (ORDER - i) * sizeof(k[0]));
	memcpy(ch, x->child, (i + 1) * sizeof(ch[0]));
	ch[i + 1] = c;
	memcpy(&ch[i + 2], &x->child[i + 1], (ORDER - i) * sizeof(ch[0]));
	memcpy(cm, x->cmax, (i + 1) * sizeof(cm[0]));
	cm[i + 1] = 0; /* c's weight: the caller computes it */
	memcpy(&cm[i + 2], &x->cmax[i + 1], (ORDER - i) * sizeof(cm[0]));
	/* ORDER + 1 keys: MIN_KEYS stay, one goes up, the rest go right */
	x->n = MIN_KEYS;
	memcpy(x->key, k, MIN_KEYS * sizeof(k[0]));
	memcpy(x->child, ch, (MIN_KEYS + 1) * sizeof(ch[0]));
	memcpy(x->cmax, cm, (MIN_KEYS + 1) * sizeof(cm[0]));
	*up = k[MIN_KEYS];
	r->n = ORDER - MIN_KEYS;
	memcpy(r->key, &k[MIN_KEYS + 1], r->n * sizeof(k[0]));
	memcpy(r->child, &ch[MIN_KEYS + 1], (r->n + 1) * sizeof(ch[0]));
	memcpy(r->cmax, &cm[MIN_KEYS + 1], (r->n + 1) * sizeof(cm[0]));
	return r;
}

int vpio_addr_map_insert_weighted(struct vpio_addr_map *m, uint64_t key, void *val, uint64_t weight)
{
	struct path p;
	node_t *x, *c;
	uint32_t pos;
	uint64_t sep;
	int d;

	if (vpio_addr_map_reserve(m, 1) != 0)
		return -ENOMEM;
	if (m->root == NULL) {
		m->root = take_spare(m, true);
		m->height = 1;
	}
	x = descend(m, key, &p);
	pos = upper(x, key);
	m->n++;
	if (x->n < ORDER) {
		open_gap(x, pos);
		x->key[pos] = key;
		x->val[pos] = val;
		x->w[pos] = weight;
		refresh(m, &p, p.depth);
		return 0;
	}
	c = split_leaf(m, x, pos, key, val, weight);
	sep = c->key[0];
	for (d = p.depth; d > 0 && c != NULL;) { /* push (sep, c) into the parents */
		uint32_t i = p.idx[--d];

		x = p.node[d];
		if (x->n < ORDER) {
			open_gap(x, i);
			x->key[i] = sep;
			x->child[i + 1] = c;
			c = NULL;
		} else {
			c = split_inner(m, x, i, sep, c, &sep);
		}
		/* the child that split (i) and its new sibling (i + 1), now in
		 * x, in the two halves of a split x, or both in its right half */
		if (c == NULL || i + 1 <= x->n) {
			reweigh(m, x, i);
			reweigh(m, x, i + 1);
		} else if (i == x->n) {
			reweigh(m, x, i);
			reweigh(m, c, 0);
		} else {
			reweigh(m, c, i - x->n - 1);
			reweigh(m, c, i - x->n);
		}
	}
	if (c != NULL) { /* the root split: a new root */
		x = take_spare(m, false);
		x->n = 1;
		x->key[0] = sep;
		x->child[0] = m->root;
		x->child[1] = c;
		m->root = x;
		m->height++;
		reweigh(m, x, 0);
		reweigh(m, x, 1);
	}
	refresh(m, &p, d); /* the levels above the last split */
	return 0;
}

int vpio_addr_map_insert(struct vpio_addr_map *m, uint64_t key, void *val)
{
	return vpio_addr_map_insert_weighted(m, key, val, 0);
}

int vpio_addr_map_update(struct vpio_addr_map *m, uint64_t key, uint64_t new_key, uint64_t weight)
{
	struct path p;
	node_t *x = descend(m, key, &p);
	uint32_t pos = x != NULL ? upper(x, key) : 0;

	if (pos == 0 || x->key[pos - 1] != key)
		return -ENOENT;
	x->key[pos - 1] = new_key;
	x->w[pos - 1] = weight;
	/* separators keep bounding it: no other key lies between the two */
	for (int d = 0; d < p.depth; d++) {
		node_t *y = p.node[d];
		uint32_t i = p.idx[d];

		if (i > 0 && new_key < y->key[i - 1])
			y->key[i - 1] = new_key;
		if (i < y->n && new_key >= y->key[i])
			y->key[i] = new_key + 1;
	}
	refresh(m, &p, p.depth);
	return 0;
}

/* ------------------------------------------------------------ remove */

/* Close the gap of entry i (key, and value and weight, or the child right
 * of it and its weight). */
static void close_gap(node_t *x, uint32_t i)
{
	memmove(&x->key[i], &x->key[i + 1], (x->n - i - 1) * sizeof(x->key[0]));
	if (x->leaf) {
		memmove(&x->val[i], &x->val[i + 1], (x->n - i - 1) * sizeof(x->val[0]));
		memmove(&x->w[i], &x->w[i + 1], (x->n - i - 1) * sizeof(x->w[0]));
	} else {
		memmove(&x->child[i + 1], &x->child[i + 2], (x->n - i - 1) * sizeof(x->child[0]));
		memmove(&x->cmax[i + 1], &x->cmax[i + 2], (x->n - i - 1) * sizeof(x->cmax[0]));
	}
	x->n--;
}

/* c = p->child[i] takes the last entry of its left sibling l. */
static void borrow_left(node_t *p, uint32_t i, node_t *l, node_t *c)
{
	open_gap(c, 0); /* for an inner node this opens key 0 and child 1 */
	if (c->leaf) {
		c->key[0] = l->key[l->n - 1];
		c->val[0] = l->val[l->n - 1];
		c->w[0] = l->w[l->n - 1];
		p->key[i - 1] = c->key[0];
	} else {
		/* child 0 moves to 1: the borrowed child goes first */
		c->child[1] = c->child[0];
		c->cmax[1] = c->cmax[0];
		c->key[0] = p->key[i - 1];
		c->child[0] = l->child[l->n];
		c->cmax[0] = l->cmax[l->n];
		p->key[i - 1] = l->key[l->n - 1];
	}
	l->n--;
}

/* c = p->child[i] takes the first entry of its right sibling r. */
static void borrow_right(node_t *p, uint32_t i, node_t *c, node_t *r)
{
	if (c->leaf) {
		c->key[c->n] = r->key[0];
		c->val[c->n] = r->val[0];
		c->w[c->n] = r->w[0];
		close_gap(r, 0);
		p->key[i] = r->key[0];
	} else {
		c->key[c->n] = p->key[i];
		c->child[c->n + 1] = r->child[0];
		c->cmax[c->n + 1] = r->cmax[0];
		p->key[i] = r->key[0];
		/* drop r's key 0 and child 0 (close_gap drops child 1) */
		r->child[0] = r->child[1];
		r->cmax[0] = r->cmax[1];
		close_gap(r, 0);
	}
	c->n++;
}

/* b = p->child[k + 1] joins a = p->child[k]; p loses separator k. */
static void merge(struct vpio_addr_map *m, node_t *p, uint32_t k, node_t *a, node_t *b)
{
	if (a->leaf) {
		memcpy(&a->key[a->n], b->key, b->n * sizeof(b->key[0]));
		memcpy(&a->val[a->n], b->val, b->n * sizeof(b->val[0]));
		memcpy(&a->w[a->n], b->w, b->n * sizeof(b->w[0]));
		a->n += b->n;
		a->next = b->next;
		if (b->next != NULL)
			b->next->prev = a;
	} else {
		a->key[a->n] = p->key[k];
		memcpy(&a->key[a->n + 1], b->key, b->n * sizeof(b->key[0]));
		memcpy(&a->child[a->n + 1], b->child, (b->n + 1) * sizeof(b->child[0]));
		memcpy(&a->cmax[a->n + 1], b->cmax, (b->n + 1) * sizeof(b->cmax[0]));
		a->n += 1 + b->n;
	}
	close_gap(p, k);
	give_back(m, b);
}

void *vpio_addr_map_remove(struct vpio_addr_map *m, uint64_t key)
{
	struct path p;
	node_t *x = descend(m, key, &p);
	uint32_t pos;
	void *val;
	int d;

	pos = x != NULL ? upper(x, key) : 0;
	if (pos == 0 || x->key[pos - 1] != key)
		return NULL;
	val = x->val[pos - 1];
	close_gap(x, pos - 1);
	m->n--;
	for (d = p.depth; d > 0 && x->n < MIN_KEYS;) {
		node_t *up = p.node[--d];
		uint32_t i = p.idx[d];
		node_t *l = i > 0 ? up->child[i - 1] : NULL, *r = i < up->n ? up->child[i + 1] : NULL;

		/* and the weights of the two children that changed */
		if (l != NULL && l->n > MIN_KEYS) {
			borrow_left(up, i, l, x);
			reweigh(m, up, i - 1);
			reweigh(m, up, i);
		} else if (r != NULL && r->n > MIN_KEYS) {
			borrow_right(up, i, x, r);
			reweigh(m, up, i);
			reweigh(m, up, i + 1);
		} else if (l != NULL) {
			merge(m, up, i - 1, l, x);
			reweigh(m, up, i - 1);
		} else {
			merge(m, up, i, x, r);
			reweigh(m, up, i);
		}
		x = up;
	}
	refresh(m, &p, d); /* the levels above the last one fixed */
	x = m->root;
	if (x->n == 0) { /* an empty leaf root, or an inner root with one child */
		m->root = x->leaf ? NULL : x->child[0];
		m->height--;
		give_back(m, x);
	}
	return val;
}

/* ------------------------------------------------------------- check */

struct check_state {
	const struct vpio_addr_map *m;
	const node_t *last_leaf; /* the previous leaf in key order */
	size_t entries;
	uint64_t last_key;
	bool have_key;
	int bad;
};

/* Keys of x's subtree must lie in [lo, hi) (unbounded where no bound). */
static void check_node(const node_t *x, int depth, const uint64_t *lo, const uint64_t *hi, struct check_state *st)
{
	st->bad += x->n > ORDER || (x != st->m->root && x->n < MIN_KEYS) || x->leaf != (depth == (int)st->m->height - 1);
	for (uint32_t i = 0; i < x->n; i++) {
		st->bad += (lo != NULL && x->key[i] < *lo) || (hi != NULL && x->key[i] >= *hi);
		st->bad += i > 0 && x->key[i - 1] >= x->key[i];
	}
	if (x->leaf) {
		st->bad += x->prev != st->last_leaf || (st->last_leaf != NULL && st->last_leaf->next != x);
		for (uint32_t i = 0; i < x->n; i++) {
			st->bad += (st->have_key && x->key[i] <= st->last_key) || x->val[i] == NULL;
			st->last_key = x->key[i];
			st->have_key = true;
		}
		st->entries += x->n;
		st->last_leaf = x;
		return;
	}
	for (uint32_t i = 0; i <= x->n && st->bad == 0; i++) {
		st->bad += st->m->weighted && x->cmax[i] != node_max(x->child[i]);
		check_node(x->child[i], depth + 1, i > 0 ? &x->key[i - 1] : lo, i < x->n ? &x->key[i] : hi, st);
	}
}

int vpio_addr_map_check(const struct vpio_addr_map *m)
{
	struct check_state st = { m, NULL, 0, 0, false, 0 };

	if (m->root == NULL)
		return m->n == 0 && m->height == 0 ? 0 : -EINVAL;
	check_node(m->root, 0, NULL, NULL, &st);
	st.bad += st.entries != m->n || st.last_leaf->next != NULL || m->root->n == 0;
	return st.bad == 0 ? 0 : -EINVAL;
}
