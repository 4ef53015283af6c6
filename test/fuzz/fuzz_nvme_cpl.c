/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: arbitrary completion-queue contents against the NVMe
 * completion path (see nvme_cpl_harness.c for the input format and the
 * invariants).  Build: ninja -C build fuzz; run: build/fuzz/fuzz_nvme_cpl
 * (test/func/fuzz_cpl.sh runs a fixed number of iterations).
 */
#include <stddef.h>
#include <stdint.h>

#include "nvme_cpl_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return nvme_cpl_fuzz_one(data, size);
}
