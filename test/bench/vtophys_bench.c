/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Micro-benchmark of the memory map: ns per vpio_vtophys() lookup (2 MiB
 * and 4 KiB entries, hits and misses) and per registration of a 2 MiB and
 * a 4 KiB region.  It prints numbers; it never fails on speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <vpio/env.h>

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

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000000;
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
	return 0;
}
