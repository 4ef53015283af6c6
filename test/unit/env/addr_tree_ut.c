/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the address tree (lib/env/addr_tree.c): random inserts and
 * removals checked after every step against a plain sorted array (the
 * reference model): structure (order, parent links, heights, balance),
 * floor/ceil/first/last/next/prev answers, and an augmented subtree sum.
 */
#include <stdlib.h>

#include "common/vpio_test.h"
#include "env/addr_tree.h"

struct item {
	struct vpio_addr_node node;
	uint64_t sum; /* augmented: keys of the subtree added up */
};

#define ITEM(n) VPIO_ADDR_TREE_ENTRY((n), struct item, node)

static void sum_augment(struct vpio_addr_node *n)
{
	uint64_t s = n->key;

	for (int i = 0; i < 2; i++) {
		if (n->child[i] != NULL)
			s += ITEM(n->child[i])->sum;
	}
	ITEM(n)->sum = s;
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

/* The reference: keys in a sorted array. */
struct model {
	uint64_t *k;
	size_t n;
};

static size_t model_lower(const struct model *m, uint64_t key) /* first index with k >= key */
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->k[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t key_or_max(const struct vpio_addr_node *n)
{
	return n != NULL ? n->key : UINT64_MAX;
}

/* Every answer of the tree against the model, for one probe key. */
static int probe_ok(const struct vpio_addr_tree *t, const struct model *m, uint64_t key)
{
	size_t i = model_lower(m, key);
	uint64_t want_ceil = i < m->n ? m->k[i] : UINT64_MAX;
	uint64_t want_floor = i < m->n && m->k[i] == key ? key : (i > 0 ? m->k[i - 1] : UINT64_MAX);

	return key_or_max(vpio_addr_tree_ceil(t, key)) == want_ceil &&
	       key_or_max(vpio_addr_tree_floor(t, key)) == want_floor;
}

static int walk_ok(const struct vpio_addr_tree *t, const struct model *m)
{
	const struct vpio_addr_node *n = vpio_addr_tree_first(t);
	uint64_t total = 0;

	for (size_t i = 0; i < m->n; i++, n = vpio_addr_tree_next(n)) {
		if (n == NULL || n->key != m->k[i])
			return 0;
		total += n->key;
	}
	if (n != NULL)
		return 0;
	n = vpio_addr_tree_last(t);
	for (size_t i = m->n; i-- > 0; n = vpio_addr_tree_prev(n)) {
		if (n == NULL || n->key != m->k[i])
			return 0;
	}
	if (t->augment == NULL || t->root == NULL)
		return n == NULL;
	return n == NULL && ITEM(t->root)->sum == total;
}

static void run_random(unsigned ops, uint64_t key_space, unsigned check_every, int augment)
{
	struct vpio_addr_tree t = { .augment = augment ? sum_augment : NULL };
	struct model m = { calloc(ops, sizeof(uint64_t)), 0 };
	struct item **items = calloc(ops, sizeof(*items)); /* parallel to m.k */
	unsigned bad_struct = 0, bad_probe = 0, bad_walk = 0;
	int max_height = 0;

	CU_ASSERT_FATAL(m.k != NULL && items != NULL);
	for (unsigned op = 0; op < ops; op++) {
		uint64_t key = rnd() % key_space;
		size_t i = model_lower(&m, key);

		if (i < m.n && m.k[i] == key) { /* present: remove it */
			vpio_addr_tree_remove(&t, &items[i]->node);
			free(items[i]);
			memmove(&m.k[i], &m.k[i + 1], (m.n - i - 1) * sizeof(m.k[0]));
			memmove(&items[i], &items[i + 1], (m.n - i - 1) * sizeof(items[0]));
			m.n--;
		} else if (rnd() % 4 != 0 || m.n == 0) { /* insert (3 in 4) */
			struct item *it = calloc(1, sizeof(*it));

			CU_ASSERT_FATAL(it != NULL);
			it->node.key = key;
			vpio_addr_tree_insert(&t, &it->node);
			memmove(&m.k[i + 1], &m.k[i], (m.n - i) * sizeof(m.k[0]));
			memmove(&items[i + 1], &items[i], (m.n - i) * sizeof(items[0]));
			m.k[i] = key;
			items[i] = it;
			m.n++;
		} else { /* remove a random present key */
			i = rnd() % m.n;
			vpio_addr_tree_remove(&t, &items[i]->node);
			free(items[i]);
			memmove(&m.k[i], &m.k[i + 1], (m.n - i - 1) * sizeof(m.k[0]));
			memmove(&items[i], &items[i + 1], (m.n - i - 1) * sizeof(items[0]));
			m.n--;
		}
		if (t.root != NULL && t.root->height > max_height)
			max_height = t.root->height;
		bad_struct += t.n != m.n;
		for (int p = 0; p < 4; p++)
			bad_probe += !probe_ok(&t, &m, rnd() % (key_space + 2));
		bad_probe += m.n > 0 && !probe_ok(&t, &m, m.k[rnd() % m.n]);
		if (op % check_every == 0) { /* the O(n) checks */
			bad_struct += vpio_addr_tree_check(&t) != 0;
			bad_walk += !walk_ok(&t, &m);
		}
	}
	CU_ASSERT_EQUAL(bad_struct, 0);
	CU_ASSERT_EQUAL(bad_probe, 0);
	CU_ASSERT_EQUAL(bad_walk, 0);
	CU_ASSERT(walk_ok(&t, &m));
	/* AVL: height <= 1.44 log2(n + 2); 2^20 nodes never reach 30 */
	CU_ASSERT(max_height <= 30);
	while (m.n > 0) {
		vpio_addr_tree_remove(&t, &items[--m.n]->node);
		free(items[m.n]);
	}
	CU_ASSERT_PTR_NULL(t.root);
	CU_ASSERT_EQUAL(vpio_addr_tree_check(&t), 0);
	free(m.k);
	free(items);
}

/* Small key space: many collisions, removals, empty trees.  Without
 * augmented data a rebalancing walk stops early, with it it goes to the
 * root: both ways. */
static void test_random_small(void)
{
	run_random(20000, 64, 1, 0);
	run_random(20000, 64, 1, 1);
}

/* Large key space: deep trees, full checks now and then. */
static void test_random_large(void)
{
	run_random(100000, 1ULL << 47, 4999, 0);
	run_random(50000, 1ULL << 47, 4999, 1);
}

/* Sorted inserts (the registry's common case) stay balanced. */
static void test_sorted_inserts(void)
{
	enum { N = 1 << 16 };
	struct vpio_addr_tree t = { 0 };
	struct item *it = calloc(N, sizeof(*it));

	CU_ASSERT_FATAL(it != NULL);
	for (unsigned i = 0; i < N; i++) {
		it[i].node.key = (uint64_t)i << 12;
		vpio_addr_tree_insert(&t, &it[i].node);
	}
	CU_ASSERT_EQUAL(vpio_addr_tree_check(&t), 0);
	CU_ASSERT(t.root->height <= 17 + 1);
	/* remove from the front: the successor path of every shape */
	for (unsigned i = 0; i < N; i += 2)
		vpio_addr_tree_remove(&t, &it[i].node);
	CU_ASSERT_EQUAL(vpio_addr_tree_check(&t), 0);
	CU_ASSERT_EQUAL(t.n, N / 2);
	CU_ASSERT_EQUAL(vpio_addr_tree_floor(&t, 2ULL << 12)->key, 1ULL << 12);
	CU_ASSERT_EQUAL(vpio_addr_tree_ceil(&t, 2ULL << 12)->key, 3ULL << 12);
	CU_ASSERT_PTR_NULL(vpio_addr_tree_floor(&t, 0));
	CU_ASSERT_PTR_NULL(vpio_addr_tree_ceil(&t, (uint64_t)N << 12));
	free(it);
}

static int reg(void)
{
	VPIO_SUITE("addr_tree", NULL, NULL);
	VPIO_TEST(test_random_small);
	VPIO_TEST(test_random_large);
	VPIO_TEST(test_sorted_inserts);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
