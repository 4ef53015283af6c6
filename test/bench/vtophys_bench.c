/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Micro-benchmark of the memory map and the registry: ns per vpio_vtophys()
 * lookup (2 MiB and 4 KiB entries, hits and misses), per registration of a
 * 2 MiB and a 4 KiB region, and how registration scales: µs per
 * registration and unregistration of a 4 KiB region, and lookups per
 * second, with 1 k, 10 k, 100 k and 1 M regions registered: without an
 * IOMMU, then with a stand-in IOMMU target (lib/env's internal DMA-target
 * interface, mapping nothing: the registry's work without the VFIO
 * ioctl).  It prints numbers; it fails only when a registration does.
 *
 * usage: vtophys_bench [LOOKUPS [MAX_REGIONS]]  (defaults 20000000, 1000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <vpio/env.h>

#include "common/test_rand.h"
#include "env/env_internal.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A 2 MiB aligned area of `pages` 2 MiB pages from anonymous memory. */
static char *area_2m(size_t pages)
{
	size_t len = (pages + 1) << 21;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return (char *)(((uintptr_t)p + (1 << 21) - 1) & ~(uintptr_t)((1 << 21) - 1));
}

static volatile uint64_t g_sink;

static double bench_lookup(const char *base, size_t span, size_t stride, long iters)
{
	double t0 = now_ns();
	uint64_t acc = 0;
	size_t off = 0;

	for (long i = 0; i < iters; i++) {
		acc += vpio_vtophys(base + off, NULL);
		off += stride;
		if (off >= span)
			off -= span;
	}
	g_sink = acc;
	return (now_ns() - t0) / (double)iters;
}

static uint64_t g_rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	return vpio_test_rand(&g_rng);
}

/* 0..n-1, in random order when shuffle is set. */
static uint32_t *order_of(size_t n, int shuffle)
{
	uint32_t *p = malloc(n * sizeof(*p));

	if (p == NULL) {
		perror("malloc");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (uint32_t)i;
	for (size_t i = n; shuffle && i > 1; i--) {
		size_t j = rnd() % i;
		uint32_t t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

/* Register (or unregister) 4 KiB region idx[i] of area for every i: the
 * regions are every other 4 KiB page, so none is adjacent to another and
 * each stays a region of its own.  Returns ns per call. */
static double churn(char *area, const uint32_t *idx, size_t n, int reg)
{
	double t0 = now_ns();

	for (size_t i = 0; i < n; i++) {
		char *p = area + (size_t)idx[i] * 8192;
		int rc = reg ? vpio_mem_register(p, 4096) : vpio_mem_unregister(p, 4096);

		if (rc != 0) {
			fprintf(stderr, "vtophys_bench: %s of region %zu of %zu failed (%d)\n",
				reg ? "registration" : "unregistration", i, n, rc);
			exit(1);
		}
	}
	return (now_ns() - t0) / (double)n;
}

/* With n regions registered: the cost of registering and unregistering
 * PROBE more (in an area of their own), lookups per second at random
 * registered regions, and the average over the whole fill and drain. */
static void scale_row(size_t n, long lookups, int shuffle)
{
	enum { PROBE = 1000 };
	char *area = mmap(NULL, n * 8192 + 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	char *probe = area_2m(PROBE * 8192 / (1 << 21) + 1);
	uint32_t *order = order_of(n, shuffle), *porder = order_of(PROBE, shuffle);
	double fill, drain, reg, unreg, t0, lps;
	struct vpio_mem_stats st;
	uint64_t acc = 0;

	if (area == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	fill = churn(area, order, n, 1);
	vpio_mem_get_stats(&st);
	if (st.regions < n) {
		fprintf(stderr, "vtophys_bench: %zu regions registered, but the registry counts %llu\n", n,
			(unsigned long long)st.regions);
		exit(1);
	}
	reg = churn(probe, porder, PROBE, 1);
	unreg = churn(probe, porder, PROBE, 0);
	t0 = now_ns();
	for (long i = 0; i < lookups; i++)
		acc += vpio_vtophys(area + (rnd() % n) * 8192 + 64, NULL);
	lps = (double)lookups / ((now_ns() - t0) / 1e9);
	g_sink = acc;
	free(order);
	order = order_of(n, shuffle);
	drain = churn(area, order, n, 0);
	printf("  %9zu  %9.2f  %9.2f  %9.2f / %-9.2f  %7.1f M/s\n", n, reg / 1e3, unreg / 1e3, fill / 1e3, drain / 1e3,
	       lps / 1e6);
	free(order);
	free(porder);
	munmap(area, n * 8192 + 8192);
}

static int standin_map(void *ctx, uint64_t vaddr, uint64_t iova, uint64_t len)
{
	(void)ctx;
	(void)vaddr;
	(void)iova;
	(void)len;
	return 0;
}

static int standin_unmap(void *ctx, uint64_t iova, uint64_t len)
{
	(void)ctx;
	(void)iova;
	(void)len;
	return 0;
}

/* Every registration calls mincore() once: what one call costs here. */
static double mincore_ns(void)
{
	char *p = area_2m(1);
	unsigned char v[1];
	double t0 = now_ns();

	for (int i = 0; i < 10000; i++)
		mincore(p + (i & 511) * 4096, 4096, v);
	return (now_ns() - t0) / 10000;
}

static void scale_table(const char *what, size_t max_regions, long lookups, int shuffle)
{
	printf("registration scaling: separate 4 KiB regions, %s\n", what);
	printf("  %9s  %9s  %9s  %21s  %11s\n", "regions", "reg µs", "unreg µs", "fill / drain µs avg", "lookups");
	for (size_t n = 1000; n <= max_regions; n *= 10)
		scale_row(n, lookups, shuffle);
}

int main(int argc, char **argv)
{
	static const struct vpio_dma_target_ops standin = { .map = standin_map, .unmap = standin_unmap };
	struct vpio_dma_target_desc desc = { .name = "stand-in IOMMU", .n_ranges = 1,
					     .ranges = { { 0, VPIO_USER_VA_LIMIT - 1 } } };
	long iters = argc > 1 ? atol(argv[1]) : 20000000;
	size_t max_regions = argc > 2 ? (size_t)atol(argv[2]) : 1000000;
	enum { PAGES = 64, REGS = 256 };
	char *huge = area_2m(PAGES), *small = area_2m(1) + 4096, *regs = area_2m(REGS);
	double t0, reg2m, unreg2m, reg4k, unreg4k;
	uint64_t len;

	if (vpio_mem_register(huge, (size_t)PAGES << 21) != 0 || vpio_mem_register(small, 64 * 4096) != 0) {
		fprintf(stderr, "vtophys_bench: registration failed\n");
		return 1;
	}
	printf("vtophys_bench: %ld lookups each\n", iters);
	printf("  lookup, 2 MiB entries (128 MiB region)  : %6.2f ns\n", bench_lookup(huge, (size_t)PAGES << 21, 4096 * 7 + 64, iters));
	printf("  lookup, 4 KiB entries (256 KiB region)  : %6.2f ns\n", bench_lookup(small, 64 * 4096, 4096 + 64, iters));
	printf("  lookup, unregistered address            : %6.2f ns\n", bench_lookup(small + (1 << 21), 4096, 64, iters));
	len = 1 << 20;
	t0 = now_ns();
	for (long i = 0; i < iters / 10; i++) {
		len = 1 << 20;
		g_sink += vpio_vtophys(huge + ((size_t)(i & 31) << 21) + 4096, &len);
	}
	printf("  lookup with contiguous length (1 MiB)   : %6.2f ns\n", (now_ns() - t0) / (double)(iters / 10));

	t0 = now_ns();
	for (int i = 0; i < REGS; i++)
		vpio_mem_register(regs + ((size_t)i << 21), 1 << 21);
	reg2m = (now_ns() - t0) / REGS;
	t0 = now_ns();
	for (int i = 0; i < REGS; i++)
		vpio_mem_unregister(regs + ((size_t)i << 21), 1 << 21);
	unreg2m = (now_ns() - t0) / REGS;
	t0 = now_ns();
	for (int i = 0; i < REGS; i++)
		vpio_mem_register(regs + (size_t)i * 8192, 4096);
	reg4k = (now_ns() - t0) / REGS;
	t0 = now_ns();
	for (int i = 0; i < REGS; i++)
		vpio_mem_unregister(regs + (size_t)i * 8192, 4096);
	unreg4k = (now_ns() - t0) / REGS;
	printf("  register / unregister 2 MiB region      : %8.0f / %8.0f ns (%d regions, no IOMMU)\n", reg2m, unreg2m, REGS);
	printf("  register / unregister 4 KiB region      : %8.0f / %8.0f ns (%d regions, no IOMMU)\n", reg4k, unreg4k, REGS);
	vpio_mem_unregister(huge, (size_t)PAGES << 21);
	vpio_mem_unregister(small, 64 * 4096);

	printf("one mincore() call, made by every registration: %.2f µs\n", mincore_ns() / 1e3);
	scale_table("in address order, no IOMMU", max_regions, iters / 4, 0);
	scale_table("random order, no IOMMU", max_regions, iters / 4, 1);
	/* from here on every registration also takes its IOVA (= VA, 48 bits)
	 * from the IOVA allocator and is "mapped" in the stand-in target */
	if (vpio_mem_dma_target_add(&standin, NULL, &desc) != 0) {
		fprintf(stderr, "vtophys_bench: cannot add the stand-in IOMMU target\n");
		return 1;
	}
	scale_table("random order, stand-in IOMMU (IOVA = VA from the allocator, no ioctl)", max_regions, iters / 4, 1);
	vpio_mem_dma_target_remove(NULL);
	return 0;
}
