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

static int reg(void)
{
	return fx_register_device() || fx_register_data() || fx_register_stream() || fx_register_threads() ||
	       fx_register_bad_input() || fx_register_faults();
}

int main(int argc, char **argv)
{
	struct vpio_env_opts eo;
	uint64_t seed = 0x5eed;
	int c, rc;

	while ((c = getopt(argc, argv, "s:h")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: func_xdma [-s SEED]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	printf("func_xdma: seed 0x%llx (-s to repeat)\n", (unsigned long long)seed);
	fx_seed(seed);
	vpio_env_opts_init(&eo);
	eo.name = "func_xdma";
	eo.mem_size_mb = 128;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0) {
		fprintf(stderr, "func_xdma: vpio_env_init failed\n");
		return 1;
	}
	rc = vpio_test_run_quiet(reg);
	vpio_env_fini();
	return rc;
}
