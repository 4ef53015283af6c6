/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: the command line.  Everything that can be checked without a
 * device is checked here, before the environment starts; what depends on
 * a target (queue depth it can hold, its block size) is checked in
 * target.c, still before any I/O.  Numbers and sizes follow vpio's one
 * grammar (lib/util: decimal digits, binary units); a core mask is hex.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vpio/parse.h>

#include "options.h"

static const char *const g_workloads[] = {
	[PERF_READ] = "read",	      [PERF_WRITE] = "write", [PERF_RANDREAD] = "randread",
	[PERF_RANDWRITE] = "randwrite", [PERF_RW] = "rw",	      [PERF_RANDRW] = "randrw",
	[PERF_H2C] = "h2c",	      [PERF_C2H] = "c2h",     [PERF_LOOPBACK] = "loopback",
};

const char *perf_workload_name(enum perf_workload w)
{
	return g_workloads[w];
}

void perf_usage(FILE *f)
{
	fprintf(f,
		"usage: vpio-perf [-a ADDR]... [-q DEPTH] [-o SIZE] [-w WORKLOAD] [-M READ%%] [-t SECONDS]\n"
		"                 [-c COREMASK] [-P CHANNELS] [-L] [--warmup SECONDS] [--seed N]\n"
		"                 [--verify | --verify-only] [--verify-min N|all] [--range START:LENGTH]\n"
		"                 [--one-pass] [--io-api auto|blk|nvme-batch] [--json FILE]\n"
		"  -a ADDR         target (repeatable; spread over the cores): a PCI address bound to\n"
		"                  vfio-pci (0000:00:04.0 = every active namespace, 0000:00:04.0/ns2 = one),\n"
		"                  an emulated controller (emu:nvme, emu:nvme?null=1), or a kernel path\n"
		"                  through io_uring (uring:/dev/nvme0n1, uring:/path/to/file?iopoll=1).\n"
		"                  Default: the first NVMe controller bound to vfio-pci, else emu:nvme\n"
		"  -q DEPTH        I/Os in flight per channel (default 32)\n"
		"  -o SIZE         bytes per I/O, a multiple of the block size; K and M suffixes (default 4K)\n"
		"  -w WORKLOAD     read, write, randread, randwrite, rw, randrw (default randread);\n"
		"                  XDMA cards: h2c, c2h, loopback (write, then read back)\n"
		"  -M READ%%        share of reads in rw and randrw, 0..100 (default 50)\n"
		"  -t SECONDS      measured run time (default 5; fractions allowed)\n"
		"  -c COREMASK     hex mask of the cores that do I/O, one thread each (default 0x1)\n"
		"  -P CHANNELS     I/O channels (queue pairs, rings) per target per core (default 1)\n"
		"  -L              latency percentiles p50 p90 p99 p99.9 p99.99 in the table\n"
		"  --warmup SECS   run this long first, outside the numbers (default 0)\n"
		"  --seed N        seed of the random offsets and signatures, decimal (default: random, printed)\n"
		"  --verify        sign every block written, check every block read (a mismatch exits 1)\n"
		"  --verify-only   write nothing: read (-w read: the range once, -w randread: until -t) and\n"
		"                  check every block signed with --seed N by an earlier --verify run\n"
		"  --verify-min N  exit 1 unless each target had at least N blocks checked; 'all' (with\n"
		"                  --verify-only): every block read must carry the signature, -w read\n"
		"                  must read the whole range\n"
		"  --range START:LENGTH  bytes of each target the I/Os use (START: = to the end; default all)\n"
		"  --one-pass      -w read, -w write: each block of the range once, then stop (or at -t)\n"
		"  --io-api API    NVMe targets: nvme-batch (lib/nvme's batch calls, buffers translated\n"
		"                  once) or blk (lib/blk's per-request callbacks); auto (default): the\n"
		"                  faster, nvme-batch, where every I/O fits one command\n"
		"  --json FILE     write every number, per-second samples and the machine's facts\n"
		"  -h, --help      this text\n"
		"WARNING: write workloads overwrite the target's data.\n"
		"exit status: 0 done, 1 failure during the run (I/O error, verify mismatch, device lost),\n"
		"             2 bad input (nothing was written)\n"
		"examples:\n"
		"  vpio-perf                                      4 KiB random reads, QD 32, 5 s, default target\n"
		"  vpio-perf -a 0000:00:04.0 -q 128 -o 4K -w randread -t 10 -L\n"
		"  vpio-perf -a emu:nvme -w randrw -M 70 -q 32 -t 3 --verify --json out.json\n"
		"  vpio-perf -a uring:/dev/nvme0n1?iopoll=1 -w read -o 128K -q 16 -c 0x3\n"
		"  vpio-perf -a emu:nvme?null=1 -c 0x3 -P 2 -t 2\n"
		"  vpio-perf -a 0000:00:04.0 -w write -o 64K -q 4 -t 2 --range 16M:8M --verify --seed 7\n"
		"  vpio-perf -a uring:/dev/nvme0n1 -w read -o 64K -q 4 -t 60 --range 16M:8M --verify-only --seed 7 \\\n"
		"            --verify-min all      (what the run above wrote, read back through the kernel)\n");
}

int perf_bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vpio-perf: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -1;
}

static int parse_seconds(const char *flag, const char *s, double *out, bool zero_ok)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || (s[0] < '0' || s[0] > '9'))
		return perf_bad("%s '%s': give a number of seconds%s", flag, s, zero_ok ? " (0 or more)" : " above 0");
	if (v > PERF_MAX_SECONDS)
		return perf_bad("%s '%s': at most %.0f seconds (a year)", flag, s, PERF_MAX_SECONDS);
	if (v < 0 || (v == 0 && !zero_ok))
		return perf_bad("%s '%s': the time must be %s", flag, s, zero_ok ? "0 or more" : "above 0 (e.g. -t 5)");
	*out = v;
	return 0;
}

static int parse_u32(const char *flag, const char *s, uint32_t lo, uint32_t hi, const char *what, uint32_t *out)
{
	uint64_t v;

	if (vpio_parse_u64(s, hi, &v) != 0 || v < lo)
		return perf_bad("%s '%s': %s must be a whole number from %u to %u", flag, s, what, lo, hi);
	*out = (uint32_t)v;
	return 0;
}

/* Hex mask of cores that exist and this process may run on. */
static int parse_core_mask(const char *s, struct perf_opts *o)
{
	const char *hex = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	cpu_set_t allowed;
	uint64_t m;
	char *end;

	errno = 0;
	m = *hex ? strtoull(hex, &end, 16) : 0;
	if (*hex == '\0' || *end != '\0' || errno != 0 || hex[0] == '-' || hex[0] == '+' || m == 0)
		return perf_bad("-c '%s': give a non-zero hex core mask of cores 0-63 (e.g. 0x3 for cores 0 and 1)", s);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		CPU_ZERO(&allowed);
	o->n_cores = 0;
	for (unsigned c = 0; c < 64; c++) {
		if (!(m & (1ULL << c)))
			continue;
		if (ncpu > 0 && c >= (unsigned long)ncpu)
			return perf_bad("-c '%s': core %u does not exist; this machine has cores 0-%ld", s, c, ncpu - 1);
		if (!CPU_ISSET(c, &allowed))
			return perf_bad("-c '%s': core %u is offline or not allowed for this process (taskset, cgroup cpuset)", s,
				   c);
		o->n_cores++;
	}
	o->core_mask = m;
	snprintf(o->core_mask_str, sizeof(o->core_mask_str), "0x%llx", (unsigned long long)m);
	return 0;
}

static int parse_workload(const char *s, struct perf_opts *o)
{
	for (unsigned i = 0; i < sizeof(g_workloads) / sizeof(g_workloads[0]); i++) {
		if (strcmp(s, g_workloads[i]) == 0) {
			o->workload = (enum perf_workload)i;
			return 0;
		}
	}
	return perf_bad("-w '%s': the workload is one of read, write, randread, randwrite, rw, randrw "
			"(block targets) or h2c, c2h, loopback (XDMA cards)", s);
}

enum { OPT_WARMUP = 256, OPT_SEED, OPT_VERIFY, OPT_VERIFY_ONLY, OPT_VERIFY_MIN, OPT_RANGE, OPT_ONE_PASS, OPT_JSON, OPT_IO_API };

static const struct option g_long[] = {
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "verify-only", no_argument, NULL, OPT_VERIFY_ONLY },
	{ "verify-min", required_argument, NULL, OPT_VERIFY_MIN },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "one-pass", no_argument, NULL, OPT_ONE_PASS },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "io-api", required_argument, NULL, OPT_IO_API },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --range START:LENGTH, START: (to the end); sizes, multiples of 512. */
static int parse_range(const char *s, struct perf_opts *o)
{
	const char *colon = strchr(s, ':');
	char start[32];
	size_t n = colon ? (size_t)(colon - s) : 0;

	if (colon == NULL || n == 0 || n >= sizeof(start))
		return perf_bad("--range '%s': give START:LENGTH or START: in bytes, with K, M, G units (e.g. 16M:8M)", s);
	memcpy(start, s, n);
	start[n] = '\0';
	if (vpio_parse_size(start, &o->range_start) != 0)
		return perf_bad("--range '%s': START '%s' is not a size (e.g. 0, 512, 16M)", s, start);
	o->range_len = 0;
	if (colon[1] != '\0' && (vpio_parse_size(colon + 1, &o->range_len) != 0 || o->range_len == 0))
		return perf_bad("--range '%s': LENGTH '%s' is not a size above 0 (or leave it out: to the end)", s,
				colon + 1);
	if (o->range_start % 512 != 0 || o->range_len % 512 != 0)
		return perf_bad("--range '%s': START and LENGTH must be multiples of 512 bytes (a block)", s);
	if (o->range_len > UINT64_MAX - o->range_start)
		return perf_bad("--range '%s': START + LENGTH is beyond 2^64 bytes", s);
	o->range_given = true;
	return 0;
}

static int parse_verify_min(const char *s, struct perf_opts *o)
{
	o->verify_min_given = true;
	if (strcmp(s, "all") == 0) {
		o->verify_min_all = true;
		return 0;
	}
	if (vpio_parse_u64(s, UINT64_MAX, &o->verify_min) != 0 || o->verify_min == 0)
		return perf_bad("--verify-min '%s': give a number of blocks above 0, or 'all'", s);
	return 0;
}

static void defaults(struct perf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->qd = 32;
	o->io_size = 4096;
	o->workload = PERF_RANDREAD;
	o->read_pct = 50;
	o->seconds = 5;
	o->core_mask = 1;
	o->n_cores = 1;
	snprintf(o->core_mask_str, sizeof(o->core_mask_str), "0x1");
	o->channels = 1;
}

static int one_option(int c, const char *arg, struct perf_opts *o, bool *m_given)
{
	switch (c) {
	case 'a':
		if (o->n_addrs == PERF_MAX_ADDRS)
			return perf_bad("-a '%s': at most %d targets", arg, PERF_MAX_ADDRS);
		if (arg[0] == '\0')
			return perf_bad("-a '': give an address (0000:00:04.0, emu:nvme, uring:/dev/nvme0n1)");
		o->addrs[o->n_addrs++] = arg;
		return 0;
	case 'q': return parse_u32("-q", arg, 1, PERF_MAX_QD, "the queue depth", &o->qd);
	case 'o':
		if (vpio_parse_size(arg, &o->io_size) != 0 || o->io_size == 0)
			return perf_bad("-o '%s': give the I/O size in bytes, with K or M for KiB or MiB (e.g. 4K)", arg);
		if (o->io_size % 512 != 0)
			return perf_bad("-o '%s': the I/O size must be a multiple of 512 bytes (a block)", arg);
		if (o->io_size > (1ULL << 30))
			return perf_bad("-o '%s': at most 1G per I/O", arg);
		return 0;
	case 'w': return parse_workload(arg, o);
	case 'M':
		*m_given = true;
		return parse_u32("-M", arg, 0, 100, "the read percentage", &o->read_pct);
	case 't': return parse_seconds("-t", arg, &o->seconds, false);
	case 'c': return parse_core_mask(arg, o);
	case 'P': return parse_u32("-P", arg, 1, PERF_MAX_CHANNELS, "the channels per target per core", &o->channels);
	case 'L': o->latency = true; return 0;
	case OPT_WARMUP: return parse_seconds("--warmup", arg, &o->warmup, true);
	case OPT_SEED:
		if (vpio_parse_u64(arg, UINT64_MAX, &o->seed) != 0)
			return perf_bad("--seed '%s': give a whole number (decimal digits)", arg);
		o->seed_given = true;
		return 0;
	case OPT_VERIFY: o->verify = true; return 0;
	case OPT_VERIFY_ONLY: o->verify_only = true; return 0;
	case OPT_VERIFY_MIN: return parse_verify_min(arg, o);
	case OPT_RANGE: return parse_range(arg, o);
	case OPT_ONE_PASS: o->one_pass = o->one_pass_given = true; return 0;
	case OPT_IO_API:
		if (strcmp(arg, "auto") == 0)
			o->io_api = PERF_API_AUTO;
		else if (strcmp(arg, "blk") == 0)
			o->io_api = PERF_API_BLK;
		else if (strcmp(arg, "nvme-batch") == 0)
			o->io_api = PERF_API_NVME_BATCH;
		else
			return perf_bad("--io-api '%s': give auto, blk or nvme-batch", arg);
		return 0;
	case OPT_JSON:
		if (arg[0] == '\0')
			return perf_bad("--json '': give a file name");
		o->json = arg;
		return 0;
	default: return -1;
	}
}

/* How --verify, --verify-only, --verify-min and --seed go together. */
static int check_verify(const struct perf_opts *o)
{
	if (o->verify && o->verify_only)
		return perf_bad("--verify and --verify-only exclude each other: --verify signs and checks in one run, "
				"--verify-only checks what an earlier run wrote");
	if (o->verify_only && !o->seed_given)
		return perf_bad("--verify-only needs --seed N: the seed of the --verify run that wrote the blocks "
				"(its header prints it)");
	if (o->verify_only && o->workload != PERF_READ && o->workload != PERF_RANDREAD)
		return perf_bad("--verify-only -w %s: --verify-only never writes; use -w read or -w randread",
				perf_workload_name(o->workload));
	if (o->verify_min_given && !o->verify && !o->verify_only)
		return perf_bad("--verify-min: counts checked blocks; give --verify or --verify-only too");
	if (o->verify_min_all && !o->verify_only)
		return perf_bad("--verify-min all: only with --verify-only (a --verify run cannot expect blocks it has "
				"not written yet); give a number of blocks");
	return 0;
}

int perf_opts_parse(int argc, char **argv, struct perf_opts *o)
{
	bool m_given = false;
	int c;

	defaults(o);
	opterr = 0;
	optind = 1;
	for (;;) {
		c = getopt_long(argc, argv, ":a:q:o:w:M:t:c:P:Lh", g_long, NULL);
		if (c == -1)
			break;
		if (c == 'h') {
			perf_usage(stdout);
			return 1;
		}
		if (c == '?' && optopt > 0 && optopt < 256)
			return perf_bad("unknown option '-%c' (vpio-perf --help lists them)", optopt);
		if (c == '?' && optopt >= 256)
			return perf_bad("option '%s' takes no value", argv[optind - 1]);
		if (c == '?')
			return perf_bad("unknown option '%s' (vpio-perf --help lists them)", argv[optind - 1]);
		if (c == ':')
			return perf_bad("option '%s' needs a value (vpio-perf --help)", argv[optind - 1]);
		if (one_option(c, optarg, o, &m_given) != 0)
			return -1;
	}
	if (optind < argc)
		return perf_bad("unexpected argument '%s': targets are given with -a ADDR (vpio-perf --help)", argv[optind]);
	if (m_given && !perf_workload_mixed(o->workload))
		return perf_bad("-M %u: the read percentage applies to -w rw and -w randrw only, not -w %s", o->read_pct,
			   perf_workload_name(o->workload));
	if (check_verify(o) != 0)
		return -1;
	if (perf_workload_xdma(o->workload) && o->io_api != PERF_API_AUTO)
		return perf_bad("--io-api: for NVMe targets; -w %s runs on an XDMA card", perf_workload_name(o->workload));
	if (perf_workload_xdma(o->workload) && (o->verify_only || o->one_pass || o->range_given || o->channels != 1))
		return perf_bad("-w %s: --verify-only, --one-pass, --range and -P are for block targets; an XDMA run "
				"takes one channel pair per core (-c)", perf_workload_name(o->workload));
	if (o->verify && (o->workload == PERF_H2C || o->workload == PERF_C2H))
		return perf_bad("--verify -w %s: an XDMA run checks what it reads back with -w loopback only",
				perf_workload_name(o->workload));
	if (o->one_pass && o->workload != PERF_READ && o->workload != PERF_WRITE)
		return perf_bad("--one-pass: for the sequential workloads -w read and -w write, not -w %s",
				perf_workload_name(o->workload));
	if (o->verify_only && o->workload == PERF_READ)
		o->one_pass = true;
	if (o->range_given && o->range_len != 0 && o->range_len < o->io_size)
		return perf_bad("--range LENGTH %" PRIu64 ": smaller than one I/O (-o %" PRIu64 ")", o->range_len,
				o->io_size);
	if (o->workload == PERF_READ || o->workload == PERF_RANDREAD || o->workload == PERF_C2H)
		o->read_pct = 100;
	else if (o->workload == PERF_WRITE || o->workload == PERF_RANDWRITE || o->workload == PERF_H2C ||
		 o->workload == PERF_LOOPBACK) /* loopback: the engine reads each write back */
		o->read_pct = 0;
	return 0;
}
