/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-perf: command line options and their checks (no device needed). */
#ifndef VPIO_PERF_OPTIONS_H
#define VPIO_PERF_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PERF_MAX_ADDRS 64
#define PERF_MAX_CORES 64	  /* core ids 0..63 (a 64-bit mask) */
#define PERF_MAX_QD 65536u
#define PERF_MAX_CHANNELS 64u	  /* -P */
#define PERF_MAX_SECONDS 31536000.0 /* a year */

enum perf_workload {
	PERF_READ,
	PERF_WRITE,
	PERF_RANDREAD,
	PERF_RANDWRITE,
	PERF_RW,
	PERF_RANDRW,
	PERF_H2C,	/* XDMA cards only (app/perf/xdma.c) */
	PERF_C2H,
	PERF_LOOPBACK,
};

enum perf_io_api {
	PERF_API_AUTO = 0,	/* NVMe targets: nvme-batch where it applies */
	PERF_API_BLK,		/* lib/blk requests with callbacks */
	PERF_API_NVME_BATCH,	/* lib/nvme batch calls (NVMe targets only) */
};

struct perf_opts {
	const char *addrs[PERF_MAX_ADDRS]; /* -a, in order */
	unsigned n_addrs;
	uint32_t qd;		/* -q */
	uint64_t io_size;	/* -o, bytes */
	enum perf_workload workload; /* -w */
	unsigned read_pct;	/* -M: reads in 100 I/Os (100 read, 0 write) */
	double seconds;		/* -t */
	double warmup;		/* --warmup */
	uint64_t core_mask;	/* -c */
	char core_mask_str[24];	/* "0x3", as EAL takes it */
	unsigned n_cores;
	uint32_t channels;	/* -P */
	bool latency;		/* -L */
	uint64_t seed;		/* --seed, else drawn at random */
	bool seed_given;
	bool verify;		/* --verify */
	bool verify_only;	/* --verify-only: read and check an earlier run's blocks */
	bool verify_min_given;	/* --verify-min */
	bool verify_min_all;	/* --verify-min all */
	uint64_t verify_min;	/* --verify-min N: blocks checked per target */
	bool one_pass;		/* --one-pass, or implied by --verify-only -w read */
	bool one_pass_given;	/* --one-pass: an unfinished pass is a failure */
	enum perf_io_api io_api; /* --io-api */
	bool range_given;	/* --range START:LENGTH (bytes of each target) */
	uint64_t range_start;
	uint64_t range_len;	/* 0: to the end of the target */
	const char *json;	/* --json FILE */
};

/* Parse and check argv.  Returns 0 to run, 1 when --help was printed (exit
 * 0), or -1 after printing one line on stderr naming the bad input and
 * the fix (exit 2).  Checks everything that needs no device: numbers and
 * their ranges, the workload, cores that exist and may be used, -M only
 * for mixes, the --verify-only rules (a seed, reads only), --verify-min
 * only with a verify mode, --range's grammar.  May permute argv (getopt).
 * Threading: any thread, one call at a time (getopt's globals). */
int perf_opts_parse(int argc, char **argv, struct perf_opts *o);
/* "vpio-perf: " and one line on stderr naming the input and the fix; -1. */
int perf_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The help text. */
void perf_usage(FILE *f);

const char *perf_workload_name(enum perf_workload w);
/* true for workloads that draw random offsets / that mix reads and writes */
static inline bool perf_workload_random(enum perf_workload w)
{
	return w == PERF_RANDREAD || w == PERF_RANDWRITE || w == PERF_RANDRW;
}
/* true for the XDMA workloads h2c, c2h, loopback */
static inline bool perf_workload_xdma(enum perf_workload w)
{
	return w == PERF_H2C || w == PERF_C2H || w == PERF_LOOPBACK;
}
static inline bool perf_workload_mixed(enum perf_workload w)
{
	return w == PERF_RW || w == PERF_RANDRW;
}

#endif
