/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_xdma [-s SEED]
 *
 * Functional tests of the XDMA driver against emulated cards: discovery
 * and BAR layouts, memory-mapped and stream loopback with verification
 * over random sizes, offsets and vectors, guard bytes around every buffer
 * handed to the device, registered heap memory, every channel at once on
 * several threads, every bad input, every injected fault.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "func_xdma.h"

static CU_SuiteInfo g_suites[] = {
	{ "xdma_device", NULL, NULL, NULL, NULL, fx_device_tests },	{ "xdma_data", NULL, NULL, NULL, NULL, fx_data_tests },
	{ "xdma_stream", NULL, NULL, NULL, NULL, fx_stream_tests },	{ "xdma_threads", NULL, NULL, NULL, NULL, fx_threads_tests },
	{ "xdma_bad_input", NULL, NULL, NULL, NULL, fx_bad_input_tests }, { "xdma_faults", NULL, NULL, NULL, NULL, fx_faults_tests },
	CU_SUITE_INFO_NULL,
};

static int reg(void)
{
	return CU_register_suites(g_suites) == CUE_SUCCESS ? 0 : -1;
}

/* -s SEED, or exit(2) with the usage. */
static uint64_t seed_arg(int argc, char **argv)
{
	uint64_t seed = 0x5eed;
	int c;

	while ((c = getopt(argc, argv, "s:h")) != -1) {
		if (c != 's') {
			fprintf(c == 'h' ? stdout : stderr, "usage: func_xdma [-s SEED]\n");
			exit(c == 'h' ? 0 : 2);
		}
		seed = strtoull(optarg, NULL, 0);
	}
	return seed;
}

int main(int argc, char **argv)
{
	struct vpio_env_opts eo;
	uint64_t seed = seed_arg(argc, argv);
	int rc = 1;

	vpio_env_opts_init(&eo);
	eo.name = "func_xdma";
	eo.mem_size_mb = 128;
	eo.quiet = true;
	printf("func_xdma: seed 0x%llx (-s to repeat)\n", (unsigned long long)seed);
	fx_seed(seed);
	if (vpio_env_init(&eo) == 0) {
		rc = vpio_test_run_quiet(reg);
		vpio_env_fini();
	} else {
		fprintf(stderr, "func_xdma: vpio_env_init failed (see the line above)\n");
	}
	return rc;
}
