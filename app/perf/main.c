/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: the benchmark (doc/perf.md).
 *
 * Order: options -> --json file -> DMA memory estimate -> environment ->
 * targets, checks, channels, buffers (target.c) -> run (engine.c) ->
 * table, failures, JSON.  Everything that can be wrong with the input is
 * found before the first I/O: such runs exit 2 with one line and write
 * nothing to any device.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <vpio/env.h>

#include "perf.h"

static void on_signal(int sig)
{
	(void)sig;
	perf_engine_stop();
}

static uint64_t random_seed(void)
{
	uint64_t s;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s >> 1; /* fits a signed 64-bit JSON reader too */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid()) >> 1;
}

/* MiB of DMA memory this machine can give: free 2 MiB hugepages, else
 * half of the available memory. */
static uint64_t dma_limit_mb(bool *huge)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	unsigned long long v = 0;
	char line[128];

	*huge = false;
	if (f != NULL) {
		if (fscanf(f, "%llu", &v) == 1 && v > 0)
			*huge = true;
		fclose(f);
		if (*huge)
			return v * 2;
	}
	f = fopen("/proc/meminfo", "r");
	v = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			break;
	}
	if (f != NULL)
		fclose(f);
	return v ? v / 1024 / 2 : UINT64_MAX;
}

static int start_env(const struct perf_opts *o, unsigned n_addrs)
{
	struct vpio_env_opts eo;
	uint64_t need = perf_memory_mb(o, n_addrs), limit;
	bool huge;

	limit = dma_limit_mb(&huge);
	if (need > limit) {
		fprintf(stderr,
			"vpio-perf: the run needs about %llu MiB of DMA memory (-q x -o x channels), more than the %llu MiB %s; lower -q, -o, -P or the cores\n",
			(unsigned long long)need, (unsigned long long)limit,
			huge ? "of free hugepages (HUGEMEM= scripts/setup.sh reserves more)" : "it may use (half the available memory)");
		return PERF_EXIT_BAD;
	}
	vpio_env_opts_init(&eo);
	eo.name = "vpio-perf";
	eo.core_mask = o->core_mask_str;
	eo.mem_size_mb = need;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0) {
		fprintf(stderr, "vpio-perf: the environment did not start (see the line above)\n");
		return PERF_EXIT_FAIL;
	}
	return PERF_EXIT_OK;
}

int main(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	struct perf_opts o;
	struct perf_run r;
	char def[64];
	FILE *json = NULL;
	bool json_created = false;
	int rc;

	if (args == NULL)
		return PERF_EXIT_FAIL;
	memcpy(args, argv, (size_t)argc * sizeof(char *)); /* getopt permutes argv */
	memset(&r, 0, sizeof(r));
	r.o = &o;
	r.argc = argc;
	r.argv = args;
	rc = perf_opts_parse(argc, argv, &o);
	if (rc != 0) {
		free(args);
		return rc > 0 ? PERF_EXIT_OK : PERF_EXIT_BAD;
	}
	if (!o.seed_given)
		o.seed = random_seed();
	if (o.json != NULL && (json = perf_json_open(o.json, &json_created)) == NULL) {
		free(args);
		return PERF_EXIT_BAD;
	}
	rc = start_env(&o, o.n_addrs ? o.n_addrs : 1);
	if (rc == PERF_EXIT_OK) {
		if (o.n_addrs == 0) {
			o.addrs[o.n_addrs++] = perf_default_address(def, sizeof(def));
			r.default_target = true;
		}
		r.hz = vpio_get_ticks_hz();
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		rc = perf_setup(&r);
	}
	if (rc == PERF_EXIT_OK) {
		perf_print_header(&r);
		rc = perf_engine_run(&r);
		perf_print_table(&r);
		perf_print_failures(&r);
		r.exit_status = rc != PERF_EXIT_OK || perf_failed(&r) ? PERF_EXIT_FAIL : PERF_EXIT_OK;
		if (json != NULL && perf_json_write(&r, json) != PERF_EXIT_OK)
			r.exit_status = PERF_EXIT_FAIL;
		rc = r.exit_status;
	} else if (json != NULL && json_created) {
		unlink(o.json); /* no run, no report */
	}
	if (json != NULL)
		fclose(json);
	perf_teardown(&r);
	if (vpio_env_is_init())
		vpio_env_fini();
	free(args);
	return rc;
}
