/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_nvme [-a ADDR]... [-s SEED]
 *
 * Functional tests of the NVMe driver.  Without -a: emulated controllers
 * (512- and 4096-byte blocks, a small one with MDTS 8 KiB, 2 I/O queue
 * pairs of 8 entries and 4096-byte blocks, one with 8 KiB memory pages
 * (CAP.MPSMIN = 1), no SGLs, no shadow doorbells, fault injection).  With -a: the given controllers (PCI addresses bound to
 * vfio-pci, or emu: names); their data is overwritten; the emulator-only
 * suites (fault injection) are left out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "func_nvme.h"

const char *g_fn_targets[FN_MAX_TARGETS];
unsigned g_fn_ntargets;
bool g_fn_real;

static int reg(void)
{
	if (fn_register_bringup() || fn_register_data() || fn_register_queues() || fn_register_bad_input())
		return -1;
	if (!g_fn_real)
		return fn_register_faults() || fn_register_recovery();
	printf("func_nvme: -a given: the fault-injection suite and the tests of emulator options and counters are "
	       "left out\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct vpio_env_opts eo;
	uint64_t seed = 0x5eed;
	int c, rc;

	while ((c = getopt(argc, argv, "a:s:h")) != -1) {
		switch (c) {
		case 'a':
			if (g_fn_ntargets == FN_MAX_TARGETS) {
				fprintf(stderr, "func_nvme: at most %d -a\n", FN_MAX_TARGETS);
				return 2;
			}
			g_fn_targets[g_fn_ntargets++] = optarg;
			g_fn_real = true;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: func_nvme [-a ADDR]... [-s SEED]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (g_fn_ntargets == 0) {
		g_fn_targets[g_fn_ntargets++] = FN_EMU_512;
		g_fn_targets[g_fn_ntargets++] = FN_EMU_4K;
		g_fn_targets[g_fn_ntargets++] = FN_EMU_SMALL;
		g_fn_targets[g_fn_ntargets++] = FN_EMU_MPS8K;
	}
	printf("func_nvme: seed 0x%llx (-s to repeat)\n", (unsigned long long)seed);
	fn_seed(seed);
	vpio_env_opts_init(&eo);
	eo.name = "func_nvme";
	eo.mem_size_mb = 128;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0) {
		fprintf(stderr, "func_nvme: vpio_env_init failed\n");
		return 1;
	}
	rc = vpio_test_run(reg);
	vpio_env_fini();
	return rc;
}
