/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every channel at once: a card with 4 H2C and 4 C2H channels, one thread
 * per channel pair, each writing and reading back its own quarter of card
 * memory with random transfers, no lock anywhere.
 */
#include <pthread.h>
#include <string.h>

#include "func_xdma.h"

#define THREADS 4u
#define ROUNDS 12u

struct worker {
	struct vpio_xdma_dev *d;
	unsigned idx;
	uint64_t seed;
	unsigned transfers, bad_data, errors;
};

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct vpio_xdma_chan *h = NULL, *c = NULL;
	struct fx_buf a, b;
	uint64_t quarter = (16u << 20) / THREADS;

	if (vpio_xdma_chan_open(w->d, VPIO_XDMA_H2C, w->idx, NULL, &h) != 0 ||
	    vpio_xdma_chan_open(w->d, VPIO_XDMA_C2H, w->idx, NULL, &c) != 0 || !fx_buf_alloc(&a, 65536, 0) ||
	    !fx_buf_alloc(&b, 65536, 0)) {
		w->errors++;
		return NULL;
	}
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t len = 1 + next(&w->seed) % 65536;
		uint64_t card = w->idx * quarter + next(&w->seed) % (quarter - len);

		fx_fill(a.p, len, next(&w->seed));
		if (vpio_xdma_h2c_sync(h, card, a.p, len) != 0 || vpio_xdma_c2h_sync(c, card, b.p, len, NULL) != 0)
			w->errors++;
		else if (memcmp(a.p, b.p, len) != 0)
			w->bad_data++;
		w->transfers += 2;
	}
	if (!fx_guard_ok(&a) || !fx_guard_ok(&b))
		w->errors++;
	fx_buf_free(&a);
	fx_buf_free(&b);
	vpio_xdma_chan_close(h);
	vpio_xdma_chan_close(c);
	return NULL;
}

static void test_all_channels(void)
{
	struct vpio_xdma_dev *d = fx_attach(FX_MM4);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct vpio_emu_xdma_stats st;

	CU_ASSERT_FATAL(d != NULL);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .d = d, .idx = i, .seed = fx_rand() | 1 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(w[i].errors, 0);
		CU_ASSERT_EQUAL(w[i].bad_data, 0);
		CU_ASSERT_EQUAL(w[i].transfers, 2 * ROUNDS);
	}
	/* every engine moved data */
	vpio_emu_xdma_get_stats(fx_emu(d), &st);
	CU_ASSERT_EQUAL(st.runs, 2 * THREADS * ROUNDS);
	CU_ASSERT_EQUAL(fx_host_errors(d), 0);
	CU_ASSERT_EQUAL(vpio_xdma_detach(d), 0);
}

CU_TestInfo fx_threads_tests[] = { FX_T(test_all_channels), CU_TEST_INFO_NULL };
