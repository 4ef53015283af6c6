/* SPDX-License-Identifier: BSD-3-Clause */
/* Cores of the mask (DPDK lcores) and time stamps. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "env_internal.h"


unsigned vpio_env_core_count(void)
{
	return vpio_env_is_init() ? rte_lcore_count() : 1;
}

unsigned vpio_env_core_id(void)
{
	unsigned id = rte_lcore_id();

	return id == LCORE_ID_ANY ? 0 : id;
}

unsigned vpio_env_core_nth(unsigned n)
{
	unsigned lcore, i = 0;

	RTE_LCORE_FOREACH(lcore) {
		if (i++ == n)
			return lcore;
	}
	return rte_get_main_lcore();
}

int vpio_env_launch_on(unsigned core, vpio_thread_fn fn, void *arg)
{
	int rc;

	if (!vpio_env_is_init() || core == rte_get_main_lcore() || !rte_lcore_is_enabled(core)) {
		VPIO_ERR(ENV_MOD, "cannot launch on core %u: it is not a worker core of the mask", core);
		return -EINVAL;
	}
	rc = rte_eal_remote_launch(fn, arg, core);
	if (rc != 0)
		VPIO_ERR(ENV_MOD, "cannot launch on core %u: it is busy", core);
	return rc;
}

int vpio_env_launch_workers(vpio_thread_fn fn, void *arg)
{
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		int rc = vpio_env_launch_on(lcore, fn, arg);

		if (rc != 0)
			return rc;
	}
	return 0;
}

int vpio_env_wait_workers(void)
{
	unsigned lcore;
	int first = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		int rc = rte_eal_wait_lcore(lcore);

		if (first == 0 && rc != 0)
			first = rc;
	}
	return first;
}

uint64_t vpio_get_ticks(void)
{
	return rte_get_tsc_cycles();
}

static uint64_t g_hz;

static void calibrate(void)
{
	struct timespec a, b, d = { 0, 20 * 1000 * 1000 };
	uint64_t t0, t1;

	if (vpio_env_is_init()) {
		g_hz = rte_get_tsc_hz();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = rte_get_tsc_cycles();
	nanosleep(&d, NULL);
	t1 = rte_get_tsc_cycles();
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	g_hz = (uint64_t)((double)(t1 - t0) * 1e9 /
			  ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)));
}

uint64_t vpio_get_ticks_hz(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, calibrate);
	return g_hz;
}
