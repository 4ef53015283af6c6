/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf's pure parts: the latency histogram against sorted arrays,
 * block signatures, the random generator, the command line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vpio_test.h"
#include "../app/perf/hist.h"
#include "../app/perf/options.h"
#include "../app/perf/rng.h"
#include "../app/perf/verify.h"

/* ----------------------------------------------------------- histogram */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of a sorted array, as hist.h defines it. */
static uint64_t exact_pct(const uint64_t *v, size_t n, double p)
{
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)n);

	if (p >= 100.0)
		return v[n - 1];
	return v[(rank == 0 ? 1 : rank) - 1];
}

static const double g_pcts[] = { 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100 };

/* Every percentile within 1 % (in fact 1/256) of the exact one. */
static void check_against_sorted(uint64_t *v, size_t n)
{
	struct perf_hist *h = malloc(sizeof(*h));
	uint64_t sum = 0;

	CU_ASSERT_FATAL(h != NULL);
	perf_hist_reset(h);
	for (size_t i = 0; i < n; i++) {
		perf_hist_add(h, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	CU_ASSERT_EQUAL(h->count, n);
	CU_ASSERT_EQUAL(h->sum, sum);
	CU_ASSERT_EQUAL(h->min, v[0]);
	CU_ASSERT_EQUAL(h->max, v[n - 1]);
	for (size_t i = 0; i < sizeof(g_pcts) / sizeof(g_pcts[0]); i++) {
		double want = (double)exact_pct(v, n, g_pcts[i]);
		double got = (double)perf_hist_percentile(h, g_pcts[i]);

		CU_ASSERT(fabs(got - want) <= want / 256.0 + 0.5);
		if (fabs(got - want) > want / 100.0)
			printf("\n  p%g: histogram %.0f, exact %.0f\n", g_pcts[i], got, want);
	}
	free(h);
}

static void test_hist_empty(void)
{
	struct perf_hist h;

	perf_hist_reset(&h);
	CU_ASSERT_EQUAL(h.count, 0);
	CU_ASSERT_EQUAL(perf_hist_percentile(&h, 50), 0);
	CU_ASSERT_EQUAL(perf_hist_mean(&h), 0.0);
	CU_ASSERT_EQUAL(h.min, UINT64_MAX);
}

static void test_hist_small_values_exact(void)
{
	uint64_t v[255];

	for (unsigned i = 0; i < 255; i++)
		v[i] = 255 - i; /* 1..255: a bucket each */
	check_against_sorted(v, 255);
	{
		struct perf_hist h;

		perf_hist_reset(&h);
		for (unsigned i = 1; i <= 200; i++)
			perf_hist_add(&h, i);
		CU_ASSERT_EQUAL(perf_hist_percentile(&h, 50), 100);
		CU_ASSERT_EQUAL(perf_hist_percentile(&h, 99), 198);
		CU_ASSERT_EQUAL(perf_hist_percentile(&h, 100), 200);
		CU_ASSERT_EQUAL(perf_hist_percentile(&h, 0.0001), 1);
		CU_ASSERT_DOUBLE_EQUAL(perf_hist_mean(&h), 100.5, 1e-9);
	}
}

/* Buckets tile the 64-bit range: each value lies in its own bucket, which
 * is at most 1/128 of its low end wide. */
static void test_hist_buckets(void)
{
	uint64_t s = 7, width, low;
	unsigned last = 0;

	CU_ASSERT_EQUAL(perf_hist_index(UINT64_MAX), PERF_HIST_BUCKETS - 1);
	for (uint64_t v = 0; v < 100000; v++) {
		unsigned i = perf_hist_index(v);

		CU_ASSERT_FATAL(i == last || i == last + 1);
		last = i;
		low = perf_hist_bucket_low(i, &width);
		CU_ASSERT_FATAL(v >= low && v - low < width);
	}
	for (int k = 0; k < 200000; k++) {
		uint64_t v = perf_rng_next(&s) >> (perf_rng_next(&s) % 64);
		unsigned i = perf_hist_index(v);

		CU_ASSERT_FATAL(i < PERF_HIST_BUCKETS);
		low = perf_hist_bucket_low(i, &width);
		CU_ASSERT_FATAL(v >= low && v - low <= width - 1);
		CU_ASSERT_FATAL(low < 256 || width * 128 <= low);
	}
}

static void test_hist_random_distributions(void)
{
	size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v)), s = 12345;

	CU_ASSERT_FATAL(v != NULL);
	/* uniform over a wide range */
	for (size_t i = 0; i < n; i++)
		v[i] = perf_rng_below(&s, 10000000);
	check_against_sorted(v, n);
	/* exponential-ish latencies around 3000 ticks with a long tail */
	for (size_t i = 0; i < n; i++) {
		double u = ((double)perf_rng_next(&s) + 1.0) / 18446744073709551616.0;

		v[i] = 500 + (uint64_t)(-3000.0 * log(u));
	}
	check_against_sorted(v, n);
	/* log-uniform over 1 .. 2^50 */
	for (size_t i = 0; i < n; i++)
		v[i] = 1 + (perf_rng_next(&s) >> (14 + perf_rng_below(&s, 50)));
	check_against_sorted(v, n);
	/* few distinct values, some huge */
	for (size_t i = 0; i < n; i++)
		v[i] = (i % 3 == 0) ? 1000 : (i % 3 == 1) ? 1000000007ULL : UINT64_MAX - i;
	check_against_sorted(v, n);
	/* a small sample: the tail percentiles are the largest values */
	for (size_t i = 0; i < 7; i++)
		v[i] = 1000 * (i + 1) + 17;
	check_against_sorted(v, 7);
	free(v);
}

static void test_hist_merge(void)
{
	struct perf_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
	uint64_t s = 99;

	CU_ASSERT_FATAL(a && b && all);
	perf_hist_reset(a);
	perf_hist_reset(b);
	perf_hist_reset(all);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = perf_rng_below(&s, 1u << 20);

		perf_hist_add(i & 1 ? a : b, v);
		perf_hist_add(all, v);
	}
	perf_hist_merge(a, b);
	CU_ASSERT_EQUAL(memcmp(a, all, sizeof(*a)), 0);
	perf_hist_reset(b);
	perf_hist_merge(a, b); /* empty: nothing changes, min stays */
	CU_ASSERT_EQUAL(memcmp(a, all, sizeof(*a)), 0);
	free(a);
	free(b);
	free(all);
}

/* ---------------------------------------------------------- signatures */

static void test_verify_roundtrip(void)
{
	static const uint32_t sizes[] = { 512, 4096 };

	for (unsigned s = 0; s < 2; s++) {
		uint32_t bs = sizes[s];
		uint8_t *buf = malloc(4 * bs);
		struct perf_sig got;
		uint32_t off = 0;

		CU_ASSERT_FATAL(buf != NULL);
		perf_verify_fill(buf, bs, 4, 1000, 7, 42);
		for (uint32_t b = 0; b < 4; b++)
			CU_ASSERT(perf_verify_block(buf + b * bs, bs, 1000 + b, 7, 42, &got, &off));
		/* the wrong LBA, generation or seed */
		CU_ASSERT_FALSE(perf_verify_block(buf, bs, 1001, 7, 42, &got, &off));
		CU_ASSERT_EQUAL(got.lba, 1000);
		CU_ASSERT_EQUAL(off, 8);
		CU_ASSERT_FALSE(perf_verify_block(buf, bs, 1000, 6, 42, &got, &off));
		CU_ASSERT_EQUAL(got.gen, 7);
		CU_ASSERT_EQUAL(off, 16);
		CU_ASSERT_FALSE(perf_verify_block(buf, bs, 1000, 7, 43, &got, &off));
		CU_ASSERT_EQUAL(got.seed, 42);
		CU_ASSERT_EQUAL(off, 24);
		/* one flipped bit anywhere in the body */
		for (uint32_t byte = 32; byte < bs; byte += 97) {
			buf[bs + byte] ^= 0x10;
			CU_ASSERT_FALSE(perf_verify_block(buf + bs, bs, 1001, 7, 42, &got, &off));
			CU_ASSERT_EQUAL(off, byte / 8 * 8);
			CU_ASSERT_EQUAL(got.magic, PERF_SIG_MAGIC);
			buf[bs + byte] ^= 0x10;
		}
		/* a poisoned read buffer fails every block, whatever it held */
		perf_verify_fill(buf, bs, 4, 1000, 7, 42);
		perf_verify_poison(buf, bs, 4);
		for (uint32_t b = 0; b < 4; b++)
			CU_ASSERT_FALSE(perf_verify_block(buf + b * bs, bs, 1000 + b, 7, 42, &got, &off));
		/* zeroes: no signature */
		memset(buf, 0, bs);
		CU_ASSERT_FALSE(perf_verify_block(buf, bs, 1000, 7, 42, &got, &off));
		CU_ASSERT_NOT_EQUAL(got.magic, PERF_SIG_MAGIC);
		CU_ASSERT_EQUAL(off, 0);
		free(buf);
	}
}

static void test_verify_read_log(void)
{
	uint8_t *buf = malloc(8 * 512);
	struct perf_mismatch rec[3];
	struct perf_mismatch_log log = { rec, 3, 0, 0 };
	char line[256];

	CU_ASSERT_FATAL(buf != NULL);
	perf_verify_fill(buf, 512, 8, 80, 3, 5);
	CU_ASSERT_EQUAL(perf_verify_read(&log, buf, 512, 8, 80, 3, 5, 1), 0);
	CU_ASSERT_EQUAL(log.total, 0);
	/* a stale block (generation 2) and four zeroed ones */
	perf_verify_fill(buf + 512, 512, 1, 81, 2, 5);
	memset(buf + 4 * 512, 0, 4 * 512);
	CU_ASSERT_EQUAL(perf_verify_read(&log, buf, 512, 8, 80, 3, 5, 9), 5);
	CU_ASSERT_EQUAL(log.total, 5);
	CU_ASSERT_EQUAL(log.n, 3); /* the first three kept */
	CU_ASSERT_EQUAL(rec[0].lba, 81);
	CU_ASSERT_EQUAL(rec[0].expected.gen, 3);
	CU_ASSERT_EQUAL(rec[0].got.gen, 2);
	CU_ASSERT_EQUAL(rec[0].tag, 9);
	CU_ASSERT_EQUAL(rec[1].lba, 84);
	perf_mismatch_fmt(line, sizeof(line), &rec[0]);
	CU_ASSERT(strstr(line, "LBA 81: expected lba 81 gen 3 seed 5, got lba 81 gen 2 seed 5") != NULL);
	perf_mismatch_fmt(line, sizeof(line), &rec[1]);
	CU_ASSERT(strstr(line, "LBA 84: expected lba 84 gen 3 seed 5, got no vpio-perf signature") != NULL);
	free(buf);
}

static void expect_counts(const struct perf_vo_counts *c, uint64_t checked, uint64_t unsigned_blocks,
			  uint64_t other_seed, uint64_t bad)
{
	CU_ASSERT_EQUAL(c->checked, checked);
	CU_ASSERT_EQUAL(c->unsigned_blocks, unsigned_blocks);
	CU_ASSERT_EQUAL(c->other_seed, other_seed);
	CU_ASSERT_EQUAL(c->bad, bad);
}

/* --verify-only: blocks of an earlier run, classified and checked. */
static void test_verify_only_read(void)
{
	uint8_t *buf = malloc(9 * 512), *moved = malloc(512);
	struct perf_mismatch rec[8];
	struct perf_mismatch_log log = { rec, 8, 0, 0 };
	struct perf_vo_counts c = { 0, 0, 0, 0 };
	char line[256];

	CU_ASSERT_FATAL(buf != NULL && moved != NULL);
	/* 100..103 right; 104 zeroed; 105 another seed's; 106 holds the block
	 * written for LBA 200; 107 one byte flipped in its body; 108 right
	 * header but generation 0 (no run writes it) */
	perf_verify_fill(buf, 512, 9, 100, 5, 9);
	memset(buf + 4 * 512, 0, 512);
	perf_verify_fill(buf + 5 * 512, 512, 1, 105, 5, 10);
	perf_verify_fill(moved, 512, 1, 200, 5, 9);
	memcpy(buf + 6 * 512, moved, 512);
	buf[7 * 512 + 300] ^= 1;
	((uint64_t *)(buf + 8 * 512))[2] = 0;
	CU_ASSERT_EQUAL(perf_verify_only_read(&log, buf, 512, 4, 100, 9, false, 3, &c), 0);
	CU_ASSERT_EQUAL(c.checked, 4);
	CU_ASSERT_EQUAL(perf_verify_only_read(&log, buf, 512, 4, 100, 9, true, 3, &c), 0);
	CU_ASSERT_EQUAL(c.checked, 8);
	CU_ASSERT_EQUAL(c.bad, 0);
	CU_ASSERT_EQUAL(log.total, 0);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(perf_verify_only_read(&log, buf, 512, 9, 100, 9, false, 3, &c), 3);
	expect_counts(&c, 7, 1, 1, 3);
	CU_ASSERT_EQUAL_FATAL(log.n, 3);
	CU_ASSERT_EQUAL(rec[0].lba, 106);
	CU_ASSERT_EQUAL(rec[0].offset, 8);
	CU_ASSERT_EQUAL(rec[0].tag, 3);
	perf_mismatch_fmt(line, sizeof(line), &rec[0]);
	CU_ASSERT(strstr(line, "LBA 106: expected lba 106 gen 5 seed 9, got lba 200 gen 5 seed 9 (first difference at byte 8)") !=
		  NULL);
	CU_ASSERT_EQUAL(rec[1].lba, 107);
	CU_ASSERT_EQUAL(rec[1].offset, 296);
	CU_ASSERT_EQUAL(rec[2].lba, 108);
	CU_ASSERT_EQUAL(rec[2].offset, 16);
	perf_mismatch_fmt(line, sizeof(line), &rec[2]);
	CU_ASSERT(strstr(line, "LBA 108: expected lba 108 gen any seed 9, got lba 108 gen 0 seed 9") != NULL);
	/* every block must be signed: the zeroed and the foreign one too */
	memset(&c, 0, sizeof(c));
	log.n = 0;
	log.total = 0;
	CU_ASSERT_EQUAL(perf_verify_only_read(&log, buf, 512, 9, 100, 9, true, 3, &c), 5);
	expect_counts(&c, 7, 1, 1, 5);
	CU_ASSERT_EQUAL_FATAL(log.n, 5);
	CU_ASSERT_EQUAL(rec[0].lba, 104);
	CU_ASSERT_EQUAL(rec[0].offset, 0);
	perf_mismatch_fmt(line, sizeof(line), &rec[0]);
	CU_ASSERT(strstr(line, "LBA 104: expected lba 104 gen any seed 9, got no vpio-perf signature") != NULL);
	CU_ASSERT_EQUAL(rec[1].lba, 105);
	CU_ASSERT_EQUAL(rec[1].offset, 24);
	perf_mismatch_fmt(line, sizeof(line), &rec[1]);
	CU_ASSERT(strstr(line, "LBA 105: expected lba 105 gen any seed 9, got lba 105 gen 5 seed 10") != NULL);
	/* a poisoned read buffer holds no signature */
	perf_verify_fill(buf, 512, 4, 100, 5, 9);
	perf_verify_poison(buf, 512, 4);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(perf_verify_only_read(&log, buf, 512, 4, 100, 9, false, 3, &c), 0);
	expect_counts(&c, 0, 4, 0, 0);
	free(buf);
	free(moved);
}

static void test_verify_generations(void)
{
	CU_ASSERT_EQUAL(perf_verify_next_gen(0), 1);
	CU_ASSERT_EQUAL(perf_verify_next_gen(1 | PERF_V_BUSY | PERF_V_REPORTED), 2);
	CU_ASSERT_EQUAL(perf_verify_next_gen(PERF_V_UNKNOWN - 1), 1);
	CU_ASSERT_EQUAL(perf_verify_next_gen(PERF_V_UNKNOWN), 1);
}

/* ------------------------------------------------------------- the rng */

static void test_rng(void)
{
	uint64_t a = perf_rng_seed(1, 0), b = perf_rng_seed(1, 0), c = perf_rng_seed(1, 1), d = perf_rng_seed(2, 0);
	unsigned hist[10] = { 0 };

	CU_ASSERT_EQUAL(a, b);
	CU_ASSERT_NOT_EQUAL(a, c);
	CU_ASSERT_NOT_EQUAL(a, d);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL_FATAL(perf_rng_next(&a), perf_rng_next(&b));
	for (int i = 0; i < 100000; i++) {
		uint64_t v = perf_rng_below(&c, 10);

		CU_ASSERT_FATAL(v < 10);
		hist[v]++;
	}
	for (int i = 0; i < 10; i++)
		CU_ASSERT(hist[i] > 9500 && hist[i] < 10500);
	CU_ASSERT_EQUAL(perf_rng_below(&d, 1), 0);
}

/* ------------------------------------------------------ the command line */

static char g_err[4096];

/* Parse a NULL-terminated array of arguments; stderr goes to g_err. */
static int parse_list(struct perf_opts *o, const char *const *args)
{
	char *argv[32];
	int argc = 0, rc, saved = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
	FILE *tmp = tmpfile();
	size_t n;

	argv[argc++] = "vpio-perf";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	fflush(stderr);
	fflush(stdout);
	dup2(fileno(tmp), STDERR_FILENO);
	dup2(fileno(tmp), STDOUT_FILENO); /* --help */
	rc = perf_opts_parse(argc, argv, o);
	fflush(stderr);
	fflush(stdout);
	dup2(saved, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved);
	close(saved_out);
	rewind(tmp);
	n = fread(g_err, 1, sizeof(g_err) - 1, tmp);
	g_err[n] = '\0';
	fclose(tmp);
	return rc;
}

/* Parse a NULL-terminated list of arguments. */
static int parse(struct perf_opts *o, ...)
{
	const char *args[32];
	unsigned n = 0;
	va_list ap;

	va_start(ap, o);
	while (n < 31 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return parse_list(o, args);
}

/* The verify options' and --range's refusals: arguments, words of the line. */
static const struct {
	const char *args[8];
	const char *what;
} g_verify_bad[] = {
	{ { "--verify-only", "-w", "read" }, "--verify-only needs --seed N" },
	{ { "--verify-only", "--seed", "1", "-w", "write" }, "--verify-only -w write: " },
	{ { "--verify-only", "--seed", "1", "-w", "randwrite" }, "--verify-only -w randwrite: " },
	{ { "--verify-only", "--seed", "1", "-w", "rw" }, "--verify-only -w rw: " },
	{ { "--verify-only", "--seed", "1", "-w", "randrw", "-M", "100" }, "--verify-only -w randrw: " },
	{ { "--verify-only", "--verify", "--seed", "1" }, "exclude each other" },
	{ { "--verify-min", "5" }, "give --verify or --verify-only too" },
	{ { "--verify", "--verify-min", "all" }, "--verify-min all: only with --verify-only" },
	{ { "--verify", "--verify-min", "0" }, "--verify-min '0'" },
	{ { "--verify", "--verify-min", "lots" }, "--verify-min 'lots'" },
	{ { "--range", "16M" }, "--range '16M': give START:LENGTH" },
	{ { "--range", ":8M" }, "--range ':8M': give START:LENGTH" },
	{ { "--range", "x:8M" }, "START 'x' is not a size" },
	{ { "--range", "16M:0" }, "LENGTH '0' is not a size above 0" },
	{ { "--range", "16M:8Q" }, "LENGTH '8Q'" },
	{ { "--range", "100:8M" }, "multiples of 512" },
	{ { "--range", "0:4K", "-o", "64K" }, "smaller than one I/O" },
	{ { "--range", "18446744073709551104:1K" }, "beyond 2^64" },
	{ { "--one-pass" }, "--one-pass: for the sequential workloads" },
	{ { "--one-pass", "-w", "randrw" }, "not -w randrw" },
	/* the XDMA workloads */
	{ { "--verify", "-w", "h2c" }, "--verify -w h2c: an XDMA run checks what it reads back with -w loopback only" },
	{ { "--verify", "-w", "c2h" }, "--verify -w c2h: " },
	{ { "-w", "loopback", "-P", "2" }, "-w loopback: --verify-only, --one-pass, --range and -P are for block targets" },
	{ { "-w", "h2c", "--range", "0:1M" }, "-w h2c: --verify-only, --one-pass, --range and -P" },
	{ { "-w", "c2h", "--verify-only", "--seed", "1" }, "--verify-only -w c2h: " },
	{ { "-w", "h2c", "--one-pass" }, "-w h2c: --verify-only, --one-pass" },
	{ { "-w", "loopback", "-M", "50" }, "applies to -w rw and -w randrw only" },
};

/* Refused, with one line naming `what`. */
static void refused(int rc, const char *what)
{
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(strstr(g_err, what) != NULL);
	CU_ASSERT(strchr(g_err, '\n') == g_err + strlen(g_err) - 1);
	if (rc != -1 || strstr(g_err, what) == NULL)
		printf("\n  wanted '%s' in: %s\n", what, g_err);
}

/* The fields most runs set. */
struct want {
	uint32_t qd;
	uint64_t io_size;
	enum perf_workload workload;
	unsigned read_pct;
	double seconds;
	uint32_t channels;
};

static void expect(const struct perf_opts *o, const struct want *w)
{
	CU_ASSERT_EQUAL(o->qd, w->qd);
	CU_ASSERT_EQUAL(o->io_size, w->io_size);
	CU_ASSERT_EQUAL(o->workload, w->workload);
	CU_ASSERT_EQUAL(o->read_pct, w->read_pct);
	CU_ASSERT_EQUAL(o->seconds, w->seconds);
	CU_ASSERT_EQUAL(o->channels, w->channels);
}

static void test_opts_defaults(void)
{
	static const struct want w = { 32, 4096, PERF_RANDREAD, 100, 5.0, 1 };
	struct perf_opts o;

	CU_ASSERT_EQUAL(parse(&o, NULL), 0);
	expect(&o, &w);
	CU_ASSERT_EQUAL(o.n_addrs, 0);
	CU_ASSERT_EQUAL(o.core_mask, 1);
	CU_ASSERT_STRING_EQUAL(o.core_mask_str, "0x1");
	CU_ASSERT_FALSE(o.latency || o.verify || o.seed_given);
	CU_ASSERT_PTR_NULL(o.json);
}

static void test_opts_every_flag(void)
{
	static const struct want w = { 128, 65536, PERF_RANDRW, 70, 2.5, 3 };
	struct perf_opts o;

	CU_ASSERT_EQUAL(parse(&o, "-a", "emu:nvme", "-a", "uring:/tmp/x", "-q", "128", "-o", "64K", "-w", "randrw", "-M",
			      "70", "-t", "2.5", "-c", "0x1", "-P", "3", "-L", "--warmup", "1", "--seed", "42",
			      "--verify", "--json", "out.json", NULL),
			0);
	expect(&o, &w);
	CU_ASSERT_EQUAL(o.n_addrs, 2);
	CU_ASSERT_STRING_EQUAL(o.addrs[1], "uring:/tmp/x");
	CU_ASSERT(o.latency && o.verify && o.seed_given);
	CU_ASSERT_EQUAL(o.warmup, 1.0);
	CU_ASSERT_EQUAL(o.seed, 42);
	CU_ASSERT_STRING_EQUAL(o.json, "out.json");
	CU_ASSERT_EQUAL(parse(&o, "-w", "write", NULL), 0);
	CU_ASSERT_EQUAL(o.read_pct, 0);
	CU_ASSERT_EQUAL(parse(&o, "-w", "rw", NULL), 0);
	CU_ASSERT_EQUAL(o.read_pct, 50);
	CU_ASSERT_EQUAL(parse(&o, "-w", "read", "-o", "1M", NULL), 0);
	CU_ASSERT_EQUAL(o.io_size, 1 << 20);
	CU_ASSERT_EQUAL(parse(&o, "-o", "8KiB", NULL), 0);
	CU_ASSERT_EQUAL(o.io_size, 8192);
	CU_ASSERT_EQUAL(parse(&o, "-o", "4096", NULL), 0);
	CU_ASSERT_EQUAL(o.io_size, 4096);
	CU_ASSERT_EQUAL(parse(&o, "--warmup", "0", "--seed", "18446744073709551615", NULL), 0);
	CU_ASSERT_EQUAL(o.seed, UINT64_MAX);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		CU_ASSERT_EQUAL(parse(&o, "-c", "3", NULL), 0);
		CU_ASSERT_EQUAL(o.n_cores, 2);
		CU_ASSERT_STRING_EQUAL(o.core_mask_str, "0x3");
	}
	/* --verify-only: -w read implies one pass */
	CU_ASSERT_EQUAL(parse(&o, "--verify-only", "--seed", "7", "-w", "read", "--verify-min", "all", "--range",
			      "16M:8M", NULL),
			0);
	CU_ASSERT(o.verify_only && !o.verify && o.one_pass && o.verify_min_given && o.verify_min_all);
	CU_ASSERT(o.range_given && o.range_start == 16 << 20 && o.range_len == 8 << 20);
	CU_ASSERT_EQUAL(parse(&o, "--verify-only", "--seed", "7", "--verify-min", "100", "--range", "1M:", NULL), 0);
	CU_ASSERT(o.verify_only && !o.one_pass && o.workload == PERF_RANDREAD && !o.verify_min_all);
	CU_ASSERT_EQUAL(o.verify_min, 100);
	CU_ASSERT(o.range_start == 1 << 20 && o.range_len == 0);
	CU_ASSERT_EQUAL(parse(&o, "-w", "write", "--one-pass", "--verify", "--verify-min", "1", NULL), 0);
	CU_ASSERT(o.one_pass && o.verify && o.verify_min == 1);
	CU_ASSERT_EQUAL(parse(&o, "--help", NULL), 1);
	CU_ASSERT(strstr(g_err, "usage: vpio-perf") != NULL && strstr(g_err, "examples:") != NULL);
	CU_ASSERT_EQUAL(parse(&o, "-h", NULL), 1);
}

static void test_opts_bad(void)
{
	struct perf_opts o;
	char mask[32];

	refused(parse(&o, "-x", NULL), "unknown option '-x'");
	refused(parse(&o, "--bogus", NULL), "unknown option '--bogus'");
	refused(parse(&o, "--verify=1", NULL), "'--verify=1' takes no value");
	refused(parse(&o, "-q", NULL), "'-q' needs a value");
	refused(parse(&o, "stray", NULL), "unexpected argument 'stray'");
	refused(parse(&o, "-q", "0", NULL), "-q '0'");
	refused(parse(&o, "-q", "-1", NULL), "-q '-1'");
	refused(parse(&o, "-q", "65537", NULL), "from 1 to 65536");
	refused(parse(&o, "-q", "8x", NULL), "-q '8x'");
	refused(parse(&o, "-o", "0", NULL), "-o '0'");
	refused(parse(&o, "-o", "1000", NULL), "multiple of 512");
	refused(parse(&o, "-o", "4Q", NULL), "-o '4Q'");
	refused(parse(&o, "-o", "2G", NULL), "at most 1G");
	refused(parse(&o, "-o", "0x1000", NULL), "-o '0x1000'");
	refused(parse(&o, "-o", "4 K", NULL), "-o '4 K'");
	refused(parse(&o, "-o", "99999999999999999999", NULL), "-o '99999999999999999999'");
	refused(parse(&o, "-q", "032", NULL), "-q '032'");
	refused(parse(&o, "-w", "randomread", NULL), "-w 'randomread'");
	refused(parse(&o, "-w", "rw", "-M", "101", NULL), "-M '101'");
	refused(parse(&o, "-w", "rw", "-M", "-1", NULL), "-M '-1'");
	refused(parse(&o, "-w", "randread", "-M", "50", NULL), "applies to -w rw and -w randrw only");
	refused(parse(&o, "-t", "0", NULL), "-t '0'");
	refused(parse(&o, "-t", "-3", NULL), "-t '-3'");
	refused(parse(&o, "-t", "abc", NULL), "-t 'abc'");
	refused(parse(&o, "-t", "inf", NULL), "-t 'inf'");
	refused(parse(&o, "-t", "nan", NULL), "-t 'nan'");
	refused(parse(&o, "--warmup", "-1", NULL), "--warmup '-1'");
	refused(parse(&o, "-c", "0", NULL), "-c '0'");
	refused(parse(&o, "-c", "0xg", NULL), "-c '0xg'");
	refused(parse(&o, "-c", "0x", NULL), "-c '0x'");
	snprintf(mask, sizeof(mask), "0x%llx", 1ULL << sysconf(_SC_NPROCESSORS_CONF));
	refused(parse(&o, "-c", mask, NULL), "does not exist");
	refused(parse(&o, "-c", "0x10000000000000000", NULL), "cores 0-63");
	refused(parse(&o, "-P", "0", NULL), "-P '0'");
	refused(parse(&o, "--seed", "x", NULL), "--seed 'x'");
	refused(parse(&o, "--seed", "0x2a", NULL), "--seed '0x2a'");
	refused(parse(&o, "--json", "", NULL), "--json ''");
	refused(parse(&o, "-a", "", NULL), "-a ''");
	for (unsigned i = 0; i < sizeof(g_verify_bad) / sizeof(g_verify_bad[0]); i++)
		refused(parse_list(&o, g_verify_bad[i].args), g_verify_bad[i].what);
}

/* The XDMA workloads parse; h2c writes, c2h reads, loopback writes first. */
static void test_opts_xdma(void)
{
	static const struct {
		const char *w;
		enum perf_workload wl;
		unsigned read_pct;
	} c[] = { { "h2c", PERF_H2C, 0 }, { "c2h", PERF_C2H, 100 }, { "loopback", PERF_LOOPBACK, 0 } };
	struct perf_opts o;

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		CU_ASSERT_EQUAL(parse(&o, "-a", "emu:xdma", "-w", c[i].w, "-o", "1M", "-q", "4", NULL), 0);
		CU_ASSERT_EQUAL(o.workload, c[i].wl);
		CU_ASSERT_EQUAL(o.read_pct, c[i].read_pct);
		CU_ASSERT(perf_workload_xdma(o.workload) && !perf_workload_random(o.workload));
		CU_ASSERT_STRING_EQUAL(perf_workload_name(o.workload), c[i].w);
	}
	CU_ASSERT_EQUAL(parse(&o, "-w", "loopback", "--verify", NULL), 0);
	CU_ASSERT(o.verify);
	CU_ASSERT(!perf_workload_xdma(PERF_RANDRW));
	refused(parse(&o, "-w", "pingpong", NULL), "h2c, c2h, loopback (XDMA cards)");
}

static int register_tests(void)
{
	{
		VPIO_SUITE("perf_hist", NULL, NULL);
		VPIO_TEST(test_hist_empty);
		VPIO_TEST(test_hist_small_values_exact);
		VPIO_TEST(test_hist_buckets);
		VPIO_TEST(test_hist_random_distributions);
		VPIO_TEST(test_hist_merge);
	}
	{
		VPIO_SUITE("perf_verify", NULL, NULL);
		VPIO_TEST(test_verify_roundtrip);
		VPIO_TEST(test_verify_read_log);
		VPIO_TEST(test_verify_only_read);
		VPIO_TEST(test_verify_generations);
		VPIO_TEST(test_rng);
	}
	{
		VPIO_SUITE("perf_options", NULL, NULL);
		VPIO_TEST(test_opts_defaults);
		VPIO_TEST(test_opts_every_flag);
		VPIO_TEST(test_opts_bad);
		VPIO_TEST(test_opts_xdma);
	}
	return 0;
}

int main(void)
{
	return vpio_test_run(register_tests);
}
