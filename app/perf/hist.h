/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: a log-linear latency histogram (HDR style).
 *
 * Values below 256 have a bucket each; above, every power of two is cut
 * into 128 equal buckets, so a bucket is at most 1/128 of its lowest value
 * wide and the value reported for it (its midpoint) is within 1/256
 * (0.4 %) of any value that fell into it.  The whole 64-bit range fits in
 * PERF_HIST_BUCKETS counters; a histogram is one fixed-size object, and
 * adding a value is a few instructions with no allocation.
 *
 * Units are whatever the caller records (vpio-perf records TSC ticks).
 * Not thread-safe: one histogram per thread, merged afterwards.
 */
#ifndef VPIO_PERF_HIST_H
#define VPIO_PERF_HIST_H

#include <stdint.h>

#define PERF_HIST_SUB_BITS 7u
#define PERF_HIST_SUB (1u << PERF_HIST_SUB_BITS) /* buckets per power of two */
#define PERF_HIST_BUCKETS ((64u - PERF_HIST_SUB_BITS + 1u) * PERF_HIST_SUB)

struct perf_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min; /* UINT64_MAX while empty */
	uint64_t max;
	uint64_t bucket[PERF_HIST_BUCKETS];
};

/* The bucket of v. */
static inline unsigned perf_hist_index(uint64_t v)
{
	unsigned shift;

	if (v < 2u * PERF_HIST_SUB)
		return (unsigned)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - PERF_HIST_SUB_BITS;
	return shift * PERF_HIST_SUB + (unsigned)(v >> shift);
}

static inline void perf_hist_add(struct perf_hist *h, uint64_t v)
{
	h->bucket[perf_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Empty the histogram. */
void perf_hist_reset(struct perf_hist *h);
/* dst += src. */
void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src);
/* Lowest value of bucket i and its width. */
uint64_t perf_hist_bucket_low(unsigned i, uint64_t *width);
/* The value at percentile p (0 < p <= 100) by nearest rank: the
 * ceil(p/100 * count)-th smallest, within 0.4 %; 0 when empty. */
uint64_t perf_hist_percentile(const struct perf_hist *h, double p);
/* Mean, 0 when empty. */
double perf_hist_mean(const struct perf_hist *h);

#endif
