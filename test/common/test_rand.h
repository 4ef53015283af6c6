/* SPDX-License-Identifier: BSD-3-Clause */
/* A small deterministic pseudo-random generator for tests and benchmarks
 * (xorshift64): the same seed gives the same run. */
#ifndef VPIO_TEST_RAND_H
#define VPIO_TEST_RAND_H

#include <stdint.h>

/* *state: any non-zero seed. */
static inline uint64_t vpio_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif
