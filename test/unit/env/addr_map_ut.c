/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the B+tree map (lib/env/addr_map.c): random inserts,
 * removals and (weighted) updates checked against a plain sorted array
 * (the reference model): the tree's shape and largest weights
 * (vpio_addr_map_check), and floor/ceil/next/prev/first/first-fit answers
 * after every step; then fills and drains in key order, which split and
 * merge at every level.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/test_rand.h"
#include "common/vpio_test.h"
#include "env/addr_map.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t key_of(const void *v);

static uint64_t rnd(void)
{
	return vpio_test_rand(&g_rng);
}

/* Values are pointers to items that start with their key, so an answer
 * can be read back as the key it belongs to. */
struct item {
	uint64_t key;
	uint64_t w;
};

struct model {
	uint64_t **k; /* sorted by *k[i]; each is a struct item */
	size_t n;
};

static bool not_div3(void *val, void *ctx)
{
	(void)ctx;
	return ((struct item *)val)->key % 3 != 0;
}

/* Weighted: first fit and the largest weight against the model. */
static int weights_ok(const struct vpio_addr_map *map, const struct model *m, uint64_t min_w)
{
	uint64_t want = UINT64_MAX, max = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct item *it = (const struct item *)m->k[i];

		max = it->w > max ? it->w : max;
		if (want == UINT64_MAX && it->w >= min_w && it->key % 3 != 0)
			want = it->key;
	}
	return key_of(vpio_addr_map_first_fit(map, min_w, not_div3, NULL)) == want &&
	       vpio_addr_map_max_weight(map) == max;
}

static size_t model_lower(const struct model *m, uint64_t key) /* first index with key >= key */
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (*m->k[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t key_of(const void *v)
{
	return v != NULL ? *(const uint64_t *)v : UINT64_MAX;
}

static int probe_ok(const struct vpio_addr_map *map, const struct model *m, uint64_t key)
{
	size_t i = model_lower(m, key);
	int hit = i < m->n && *m->k[i] == key;
	uint64_t ceil = i < m->n ? *m->k[i] : UINT64_MAX;
	uint64_t floor = hit ? key : (i > 0 ? *m->k[i - 1] : UINT64_MAX);
	uint64_t next = i + hit < m->n ? *m->k[i + hit] : UINT64_MAX;
	uint64_t prev = i > 0 ? *m->k[i - 1] : UINT64_MAX;

	void *below, *above;

	vpio_addr_map_around(map, key, &below, &above);
	return key_of(vpio_addr_map_ceil(map, key)) == ceil && key_of(vpio_addr_map_floor(map, key)) == floor &&
	       key_of(below) == floor && key_of(above) == next &&
	       key_of(vpio_addr_map_next(map, key)) == next && key_of(vpio_addr_map_prev(map, key)) == prev &&
	       key_of(vpio_addr_map_first(map)) == (m->n > 0 ? *m->k[0] : UINT64_MAX);
}

static void model_insert(struct model *m, uint64_t *kp)
{
	size_t i = model_lower(m, *kp);

	memmove(&m->k[i + 1], &m->k[i], (m->n - i) * sizeof(m->k[0]));
	m->k[i] = kp;
	m->n++;
}

static uint64_t *model_remove(struct model *m, size_t i)
{
	uint64_t *kp = m->k[i];

	memmove(&m->k[i], &m->k[i + 1], (m->n - i - 1) * sizeof(m->k[0]));
	m->n--;
	return kp;
}

static void run_random(unsigned ops, uint64_t key_space, unsigned check_every, bool weighted)
{
	struct vpio_addr_map map = { .weighted = weighted };
	struct model m = { calloc(ops, sizeof(uint64_t *)), 0 };
	unsigned bad_shape = 0, bad_probe = 0, bad_op = 0;
	unsigned max_height = 0;

	CU_ASSERT_FATAL(m.k != NULL);
	for (unsigned op = 0; op < ops; op++) {
		uint64_t key = rnd() % key_space;
		size_t i = model_lower(&m, key);

		if (i < m.n && *m.k[i] == key) { /* present: remove it */
			uint64_t *kp = model_remove(&m, i);

			bad_op += vpio_addr_map_remove(&map, key) != kp;
			free(kp);
		} else if (weighted && rnd() % 3 == 0 && m.n > 0) { /* new weight and key, in its gap */
			struct item *it = (struct item *)m.k[(i = rnd() % m.n)];
			uint64_t lo = i > 0 ? *m.k[i - 1] + 1 : 0, hi = i + 1 < m.n ? *m.k[i + 1] - 1 : key_space - 1;
			uint64_t nk = lo + rnd() % (hi - lo + 1);

			it->w = rnd() % 1000;
			bad_op += vpio_addr_map_update(&map, it->key, nk, it->w) != 0;
			it->key = nk;
		} else if (rnd() % 4 != 0 || m.n == 0) { /* insert (3 in 4) */
			struct item *it = malloc(sizeof(*it));

			CU_ASSERT_FATAL(it != NULL);
			it->key = key;
			it->w = rnd() % 1000;
			bad_op += vpio_addr_map_insert_weighted(&map, key, it, it->w) != 0;
			model_insert(&m, &it->key);
		} else { /* remove a random present key */
			uint64_t *kp = model_remove(&m, rnd() % m.n);

			bad_op += vpio_addr_map_remove(&map, *kp) != kp;
			free(kp);
		}
		max_height = map.height > max_height ? map.height : max_height;
		bad_op += map.n != m.n;
		for (int p = 0; p < 3; p++)
			bad_probe += !probe_ok(&map, &m, rnd() % (key_space + 2));
		bad_probe += m.n > 0 && !probe_ok(&map, &m, *m.k[rnd() % m.n]);
		if (weighted)
			bad_probe += !weights_ok(&map, &m, rnd() % 1100);
		if (op % check_every == 0)
			bad_shape += vpio_addr_map_check(&map) != 0;
	}
	CU_ASSERT_EQUAL(bad_op, 0);
	CU_ASSERT_EQUAL(bad_probe, 0);
	CU_ASSERT_EQUAL(bad_shape, 0);
	CU_ASSERT_EQUAL(vpio_addr_map_check(&map), 0);
	/* a removal of a key that is not there changes nothing */
	CU_ASSERT_PTR_NULL(vpio_addr_map_remove(&map, key_space + 5));
	CU_ASSERT_EQUAL(vpio_addr_map_update(&map, key_space + 5, key_space + 6, 1), -ENOENT);
	CU_ASSERT_EQUAL(map.n, m.n);
	if (key_space > 1000000)
		CU_ASSERT(max_height >= 3); /* the inner-node paths ran */
	while (m.n > 0) {
		uint64_t *kp = model_remove(&m, rnd() % m.n);

		CU_ASSERT_PTR_EQUAL(vpio_addr_map_remove(&map, *kp), kp);
		free(kp);
	}
	CU_ASSERT_PTR_NULL(map.root);
	CU_ASSERT_EQUAL(map.height, 0);
	CU_ASSERT_EQUAL(vpio_addr_map_check(&map), 0);
	CU_ASSERT_PTR_NULL(vpio_addr_map_first(&map));
	vpio_addr_map_fini(&map);
	free(m.k);
}

/* Small key space: many removals, an empty map now and then. */
static void test_random_small(void)
{
	run_random(20000, 100, 1, false);
	run_random(20000, 100, 1, true);
}

/* Large key space: a deep tree (height 3 to 4), full checks now and then. */
static void test_random_large(void)
{
	run_random(150000, 1ULL << 47, 997, false);
	run_random(60000, 1ULL << 47, 997, true);
}

static bool any(void *val, void *ctx)
{
	(void)val;
	(void)ctx;
	return true;
}

/* Fill and drain in key order, from either end: every split and merge
 * shape at every level.  Reserved inserts.  Weights grow with the key, so
 * a node that takes in its right neighbour takes in larger weights: the
 * largest weight (checked after every step) shows a missed update. */
static void test_ordered(void)
{
	enum { N = 40000 };
	uint64_t *keys = malloc(N * sizeof(*keys));
	struct vpio_addr_map map = { .weighted = true };
	int bad = 0;

	CU_ASSERT_FATAL(keys != NULL);
	for (int dir = 0; dir < 4; dir++) {
		for (unsigned i = 0; i < N; i++) {
			unsigned j = dir & 1 ? N - 1 - i : i;

			keys[j] = (uint64_t)j << 12;
			CU_ASSERT_EQUAL_FATAL(vpio_addr_map_reserve(&map, 3), 0);
			bad += vpio_addr_map_insert_weighted(&map, keys[j], &keys[j], j) != 0;
			bad += vpio_addr_map_max_weight(&map) != (dir & 1 ? N - 1 : j);
		}
		bad += vpio_addr_map_check(&map) != 0 || map.n != N || map.height < 3;
		bad += vpio_addr_map_floor(&map, (5ULL << 12) + 1) != &keys[5];
		bad += vpio_addr_map_ceil(&map, (5ULL << 12) + 1) != &keys[6];
		for (unsigned i = 0; i < N; i++) {
			unsigned j = dir & 2 ? N - 1 - i : i;

			bad += vpio_addr_map_remove(&map, keys[j]) != &keys[j];
			if (i + 1 < N) {
				bad += vpio_addr_map_max_weight(&map) != (dir & 2 ? j - 1 : N - 1);
				/* the first entry of weight >= j: the next one up */
				bad += vpio_addr_map_first_fit(&map, j, any, NULL) != (dir & 2 ? NULL : &keys[j + 1]);
			}
			if (i % 4001 == 0)
				bad += vpio_addr_map_check(&map) != 0;
		}
		bad += map.root != NULL || map.n != 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	vpio_addr_map_fini(&map);
	free(keys);
}

static int reg(void)
{
	VPIO_SUITE("addr_map", NULL, NULL);
	VPIO_TEST(test_random_small);
	VPIO_TEST(test_random_large);
	VPIO_TEST(test_ordered);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
