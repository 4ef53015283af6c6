/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: the per-thread random number generator (splitmix64: a 64-bit
 * counter stepped by the golden ratio, then mixed).  One per worker
 * thread, seeded from --seed and the thread's index, so a run with the
 * same seed, cores and targets draws the same offsets.
 */
#ifndef VPIO_PERF_RNG_H
#define VPIO_PERF_RNG_H

#include <stdint.h>

static inline uint64_t perf_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t perf_rng_next(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return perf_mix64(*state);
}

/* Uniform in [0, n) (n > 0), by the high half of a 128-bit product. */
static inline uint64_t perf_rng_below(uint64_t *state, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)perf_rng_next(state) * n) >> 64);
}

/* The state of thread `index` for a run seeded with `seed`. */
static inline uint64_t perf_rng_seed(uint64_t seed, unsigned index)
{
	return perf_mix64(seed ^ perf_mix64(0x7670696f70657266ULL + index));
}

#endif
