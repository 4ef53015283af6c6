/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Growable public structs (doc/api.md): an application built against an
 * older, shorter struct gets the defaults of the fields it does not know,
 * sizes that are not a struct's are refused with one line, and a getter
 * never writes past the size the caller was compiled with.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <vpio/blk.h>
#include <vpio/emu.h>
#include <vpio/env.h>
#include <vpio/nvme.h>
#include <vpio/xdma.h>

#include "common/vpio_test.h"
#include "util/util.h"

#define GUARD 0xa5
#define GUARD_LEN 64

/* A caller's struct of size bytes followed by guard bytes. */
struct guarded {
	unsigned char b[VPIO_STRUCT_SIZE_MAX + GUARD_LEN];
};

static void guard_fill(struct guarded *g)
{
	memset(g->b, GUARD, sizeof(g->b));
}

/* No byte at or past size was written. */
static int guard_ok(const struct guarded *g, size_t size)
{
	for (size_t i = size; i < size + GUARD_LEN; i++)
		if (g->b[i] != GUARD)
			return 0;
	return 1;
}

static int untouched(const struct guarded *g)
{
	return guard_ok(g, 0);
}

static size_t size_field(const struct guarded *g)
{
	size_t n;

	memcpy(&n, g->b, sizeof(n));
	return n;
}

/* ---------------------------------------------------------- the helpers */

/* The library's struct, version 2: new_a and new_b were added after
 * version 1 (opts_size, old). */
struct lib_opts {
	size_t opts_size;
	uint32_t old;
	uint32_t pad;
	uint64_t new_a;
	uint32_t new_b;
};
struct lib_opts_v1 {
	size_t opts_size;
	uint32_t old;
	uint32_t pad;
};
static const struct lib_opts g_def = { sizeof(struct lib_opts), 1, 0, 2, 3 };

static void test_opts_old_caller(void)
{
	struct guarded g;
	struct lib_opts full;
	struct lib_opts_v1 *v1 = (struct lib_opts_v1 *)g.b;

	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_opts_init_sized("t", "init", g.b, sizeof(*v1), &g_def, sizeof(g_def)), 0);
	CU_ASSERT(guard_ok(&g, sizeof(*v1)));
	CU_ASSERT_EQUAL(v1->opts_size, sizeof(*v1));
	CU_ASSERT_EQUAL(v1->old, 1);
	v1->old = 7;
	/* the library reads the caller's bytes only; the rest are defaults */
	full = g_def;
	CU_ASSERT_EQUAL(vpio_opts_import("t", "use", &full, sizeof(full), v1, "init it"), 0);
	CU_ASSERT_EQUAL(full.opts_size, sizeof(full));
	CU_ASSERT_EQUAL(full.old, 7);
	CU_ASSERT_EQUAL(full.new_a, 2);
	CU_ASSERT_EQUAL(full.new_b, 3);
	/* NULL: the defaults */
	full = g_def;
	CU_ASSERT_EQUAL(vpio_opts_import("t", "use", &full, sizeof(full), NULL, "init it"), 0);
	CU_ASSERT_EQUAL(full.new_a, 2);
}

/* A caller built against a newer, longer struct: what this library does not
 * know is zeroed by init and ignored by import. */
static void test_opts_new_caller(void)
{
	struct guarded g;
	struct lib_opts full = g_def;
	size_t size = sizeof(struct lib_opts) + 16;

	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_opts_init_sized("t", "init", g.b, size, &g_def, sizeof(g_def)), 0);
	CU_ASSERT(guard_ok(&g, size));
	CU_ASSERT_EQUAL(size_field(&g), size);
	for (size_t i = sizeof(struct lib_opts); i < size; i++)
		CU_ASSERT_EQUAL(g.b[i], 0);
	CU_ASSERT_EQUAL(vpio_opts_import("t", "use", &full, sizeof(full), g.b, "init it"), 0);
	CU_ASSERT_EQUAL(full.opts_size, sizeof(full));
	CU_ASSERT_EQUAL(full.new_b, 3);
}

static void test_bad_sizes(void)
{
	static const size_t bad[] = { 0, 1, 4, 7, 12, 20, VPIO_STRUCT_SIZE_MAX + 8, SIZE_MAX - 7 };
	struct guarded g;
	struct lib_opts full;

	vpio_test_log_capture();
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(bad); i++) {
		guard_fill(&g);
		CU_ASSERT_EQUAL(vpio_opts_init_sized("t", "init", g.b, bad[i], &g_def, sizeof(g_def)), -EINVAL);
		CU_ASSERT(untouched(&g));
		CU_ASSERT_EQUAL(vpio_struct_export("t", "get", g.b, bad[i], &g_def, sizeof(g_def)), -EINVAL);
		CU_ASSERT(untouched(&g));
		/* an opts struct the caller did not initialize: size field 0 or garbage */
		memcpy(g.b, &bad[i], sizeof(bad[i]));
		full = g_def;
		CU_ASSERT_EQUAL(vpio_opts_import("t", "use", &full, sizeof(full), g.b, "fill it with x_init()"), -EINVAL);
		CU_ASSERT_EQUAL(memcmp(&full, &g_def, sizeof(full)), 0);
	}
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 3 * VPIO_ARRAY_SIZE(bad));
	CU_ASSERT(vpio_test_log_has("t: use: opts size 0 is 0: fill it with x_init()"));
	CU_ASSERT(vpio_test_log_has("uninitialized?"));
	vpio_test_log_release();
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_opts_init_sized("t", "init", NULL, 16, &g_def, sizeof(g_def)), -EINVAL);
	CU_ASSERT_EQUAL(vpio_struct_export("t", "get", NULL, 16, &g_def, sizeof(g_def)), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
}

static void test_export_short(void)
{
	struct guarded g;
	const struct lib_opts full = { 0, 0x11111111, 0x22222222, 0x3333333333333333ull, 0x44444444 };

	/* an older caller: only its bytes, and its size field says so */
	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_struct_export("t", "get", g.b, 16, &full, sizeof(full)), 0);
	CU_ASSERT(guard_ok(&g, 16));
	CU_ASSERT_EQUAL(size_field(&g), 16);
	CU_ASSERT_EQUAL(((struct lib_opts_v1 *)g.b)->old, 0x11111111);
	/* a newer caller: zeroes past what this library knows */
	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_struct_export("t", "get", g.b, sizeof(full) + 8, &full, sizeof(full)), 0);
	CU_ASSERT(guard_ok(&g, sizeof(full) + 8));
	CU_ASSERT_EQUAL(size_field(&g), sizeof(full));
	CU_ASSERT_EQUAL(((struct lib_opts *)g.b)->new_b, 0x44444444);
	for (size_t i = sizeof(full); i < sizeof(full) + 8; i++)
		CU_ASSERT_EQUAL(g.b[i], 0);
}

/* ------------------------------------------------- the public calls */

/* An opts init of the public API given an old size: its bytes only, the
 * defaults in them, opts_size set; 0 refused and nothing written. */
#define CHECK_OPTS_INIT(init_sized, type, old_end, field, want)                               \
	do {                                                                                   \
		struct guarded g_;                                                             \
		size_t old_ = VPIO_ALIGN_UP(old_end, sizeof(size_t));                          \
		guard_fill(&g_);                                                               \
		CU_ASSERT_EQUAL(init_sized((type *)g_.b, old_), 0);                            \
		CU_ASSERT(guard_ok(&g_, old_));                                                \
		CU_ASSERT_EQUAL(size_field(&g_), old_);                                        \
		CU_ASSERT_EQUAL(((type *)g_.b)->field, want);                                  \
		guard_fill(&g_);                                                               \
		CU_ASSERT_EQUAL(init_sized((type *)g_.b, sizeof(type)), 0);                    \
		CU_ASSERT(guard_ok(&g_, sizeof(type)));                                        \
		guard_fill(&g_);                                                               \
		CU_ASSERT_EQUAL(init_sized((type *)g_.b, 0), -EINVAL);                         \
		CU_ASSERT(untouched(&g_));                                                     \
	} while (0)

static void test_public_opts(void)
{
	vpio_test_log_capture();
	CHECK_OPTS_INIT(vpio_nvme_ctrlr_opts_init_sized, struct vpio_nvme_ctrlr_opts,
			VPIO_FIELD_END(struct vpio_nvme_ctrlr_opts, admin_queue_size), admin_queue_size, 32);
	CHECK_OPTS_INIT(vpio_nvme_qpair_opts_init_sized, struct vpio_nvme_qpair_opts,
			VPIO_FIELD_END(struct vpio_nvme_qpair_opts, queue_size), queue_size, 256);
	CHECK_OPTS_INIT(vpio_env_opts_init_sized, struct vpio_env_opts, VPIO_FIELD_END(struct vpio_env_opts, name),
			name[0], 'v');
	CHECK_OPTS_INIT(vpio_blk_opts_init_sized, struct vpio_blk_opts, VPIO_FIELD_END(struct vpio_blk_opts, queue_depth),
			queue_depth, 128);
	CHECK_OPTS_INIT(vpio_xdma_opts_init_sized, struct vpio_xdma_opts,
			VPIO_FIELD_END(struct vpio_xdma_opts, card_mem_base), card_mem_base, 0);
	CHECK_OPTS_INIT(vpio_xdma_chan_opts_init_sized, struct vpio_xdma_chan_opts,
			VPIO_FIELD_END(struct vpio_xdma_chan_opts, ring_size), ring_size, 4096);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 6);
	CU_ASSERT(vpio_test_log_has("vpio_nvme_qpair_opts_init: opts size 0 is 0"));
	vpio_test_log_release();
	/* the macros pass the caller's sizeof */
	{
		struct vpio_nvme_qpair_opts o;

		memset(&o, 0xff, sizeof(o));
		CU_ASSERT_EQUAL(vpio_nvme_qpair_opts_init(&o), 0);
		CU_ASSERT_EQUAL(o.opts_size, sizeof(o));
		CU_ASSERT_EQUAL(o.timeout_ms, 30000);
		CU_ASSERT(o.check_thread);
	}
}

/* Getters that need no device: short sizes, guards, refusals. */
static void test_public_getters(void)
{
	struct guarded g;
	size_t short_size = VPIO_FIELD_END(struct vpio_xdma_chan_stats, bytes);

	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_xdma_chan_get_stats_sized(NULL, (struct vpio_xdma_chan_stats *)g.b, short_size), 0);
	CU_ASSERT(guard_ok(&g, short_size));
	CU_ASSERT_EQUAL(size_field(&g), short_size);
	CU_ASSERT_EQUAL(((struct vpio_xdma_chan_stats *)g.b)->bytes, 0);

	short_size = VPIO_FIELD_END(struct vpio_emu_xdma_stats, runs);
	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_emu_xdma_get_stats_sized(NULL, (struct vpio_emu_xdma_stats *)g.b, short_size), 0);
	CU_ASSERT(guard_ok(&g, short_size));

	short_size = VPIO_FIELD_END(struct vpio_mem_stats, regions);
	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_mem_get_stats_sized((struct vpio_mem_stats *)g.b, short_size), 0);
	CU_ASSERT(guard_ok(&g, short_size));
	CU_ASSERT_EQUAL(size_field(&g), short_size);

	vpio_test_log_capture();
	guard_fill(&g);
	CU_ASSERT_EQUAL(vpio_mem_get_stats_sized((struct vpio_mem_stats *)g.b, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_xdma_chan_get_stats_sized(NULL, (struct vpio_xdma_chan_stats *)g.b, 4), -EINVAL);
	CU_ASSERT(untouched(&g));
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_info(NULL, (struct vpio_nvme_ctrlr_info *)g.b), -EINVAL);
	CU_ASSERT(untouched(&g));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 3);
	vpio_test_log_release();
}

static int register_tests(void)
{
	VPIO_SUITE("util_sized", NULL, NULL);
	VPIO_TEST(test_opts_old_caller);
	VPIO_TEST(test_opts_new_caller);
	VPIO_TEST(test_bad_sizes);
	VPIO_TEST(test_export_short);
	VPIO_TEST(test_public_opts);
	VPIO_TEST(test_public_getters);
	return 0;
}

int main(void)
{
	return vpio_test_run(register_tests);
}
