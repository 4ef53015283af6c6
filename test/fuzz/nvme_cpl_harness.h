/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Drive the NVMe completion path with arbitrary completion-queue contents
 * on a qpair in plain memory and check its invariants (aborts on a
 * violation).  Used by the libFuzzer target fuzz_nvme_cpl and by the unit
 * test unit_nvme_cpl_random.
 */
#ifndef NVME_CPL_HARNESS_H
#define NVME_CPL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Run one input; returns 0 (violations abort). */
int nvme_cpl_fuzz_one(const uint8_t *data, size_t size);

#endif
