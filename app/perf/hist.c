/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-perf: the log-linear latency histogram (see hist.h). */
#include <math.h>
#include <string.h>

#include "hist.h"

void perf_hist_reset(struct perf_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
	if (src->count == 0)
		return;
	for (unsigned i = 0; i < PERF_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t perf_hist_bucket_low(unsigned i, uint64_t *width)
{
	unsigned shift;

	if (i < 2u * PERF_HIST_SUB) {
		*width = 1;
		return i;
	}
	shift = i / PERF_HIST_SUB - 1u;
	*width = 1ULL << shift;
	return (uint64_t)(i - shift * PERF_HIST_SUB) << shift;
}

uint64_t perf_hist_percentile(const struct perf_hist *h, double p)
{
	uint64_t rank, seen = 0, low, width, v;

	if (h->count == 0)
		return 0;
	if (!(p > 0.0))
		return h->min;
	if (p >= 100.0)
		return h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < PERF_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		low = perf_hist_bucket_low(i, &width);
		v = low + (width - 1) / 2;
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

double perf_hist_mean(const struct perf_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
