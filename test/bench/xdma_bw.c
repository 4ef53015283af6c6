/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdma_bw: bandwidth of the XDMA driver against the emulated card (or a
 * real one with -a), for 4 KiB, 64 KiB and 1 MiB transfers: H2C, C2H and
 * loopback (write a region, read it back), as GiB/s and transfers/s, next
 * to this machine's memcpy bandwidth measured in the same run with the
 * same sizes and the same memory (host buffers to a card-sized region and
 * back), on the CPUs the emulator's engine threads run on.  An emulated
 * card moves every byte with one memcpy on its engine threads, so memcpy is
 * its physical limit and the ratio is the driver's and emulator's
 * efficiency.  Each figure takes 5 rounds of a memcpy measurement followed
 * by the workload's: GiB/s and transfers/s are the best round's, memcpy
 * GiB/s the best memcpy; two ratios: best to best, and the median of the
 * rounds' own ratios (the machine is shared: another program on the
 * engines' core halves a round).  Prints a markdown table; never fails on
 * speed.
 *
 * Loopback: each of DEPTH loops writes a region and reads it back; half of
 * them start with the read, so that a batch of writes and a batch of reads
 * are on the two engines at once.
 *
 *   xdma_bw [-a ADDR] [-t SECONDS] [-q DEPTH] [-s SIZE] [-w h2c|c2h|loopback] [-v]
 *     -t  seconds per figure, split over its 5 runs (default 1)
 *     -q  transfers in flight per channel (default 32, and 4 for 1 MiB)
 *     -s  one transfer size only (4K, 64K or 1M)
 *     -w  one workload only
 *     -v  verify loopback data (slower)
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vpio/env.h>
#include <vpio/xdma.h>

#define CARD_SPAN (64ull << 20) /* card bytes the transfers rotate over */
#define MAX_Q 64u
#define RUNS 5
#define MAXD(a, b) ((a) > (b) ? (a) : (b))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct bench {
	struct vpio_xdma_chan *h, *c;
	uint8_t *host;	     /* MAX_Q slots of size bytes each (and the readback) */
	uint8_t *back;
	size_t size;
	unsigned q;
	uint64_t span;	     /* card bytes used */
	uint64_t moved, transfers, errors, bad;
	uint64_t next_card;
	bool verify;
};

struct slot {
	struct bench *b;
	unsigned i;
	uint64_t card;
	int stage;	/* loopback: 0 writing, 1 reading */
	bool unchecked;	/* loopback: a first read of a region not written yet */
};

static struct slot g_slots[MAX_Q];

static uint64_t next_card(struct bench *b)
{
	uint64_t c = b->next_card;

	b->next_card = (c + b->size) % (b->span - b->span % b->size);
	return c;
}

static void done_one(struct bench *b, const struct vpio_xdma_cpl *cpl)
{
	b->errors += cpl->status != 0;
	b->moved += cpl->len;
	b->transfers++;
}

static void h2c_cb(void *arg, const struct vpio_xdma_cpl *cpl);
static void c2h_cb(void *arg, const struct vpio_xdma_cpl *cpl);
static void loop_cb(void *arg, const struct vpio_xdma_cpl *cpl);

static int start(struct slot *s, int kind)
{
	struct bench *b = s->b;
	uint8_t *buf = b->host + (size_t)s->i * b->size;

	switch (kind) {
	case 0: return vpio_xdma_h2c(b->h, next_card(b), buf, b->size, h2c_cb, s);
	case 1: return vpio_xdma_c2h(b->c, next_card(b), buf, b->size, c2h_cb, s);
	default:
		s->card = next_card(b);
		s->stage = 0;
		return vpio_xdma_h2c(b->h, s->card, buf, b->size, loop_cb, s);
	}
}

static bool g_stop;

static void h2c_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct slot *s = arg;

	done_one(s->b, cpl);
	if (!g_stop && start(s, 0) != 0)
		s->b->errors++;
}

static void c2h_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct slot *s = arg;

	done_one(s->b, cpl);
	if (!g_stop && start(s, 1) != 0)
		s->b->errors++;
}

static void loop_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct slot *s = arg;
	struct bench *b = s->b;
	uint8_t *buf = b->host + (size_t)s->i * b->size, *back = b->back + (size_t)s->i * b->size;

	done_one(b, cpl);
	if (s->stage == 0) { /* written: read it back */
		s->stage = 1;
		if (vpio_xdma_c2h(b->c, s->card, b->verify ? back : buf, b->size, loop_cb, s) != 0)
			b->errors++;
		return;
	}
	if (b->verify && !s->unchecked && memcmp(buf, back, b->size) != 0)
		b->bad++;
	s->unchecked = false;
	if (!g_stop && start(s, 2) != 0)
		b->errors++;
}

/* Run workload kind for secs; returns bytes/s, *tps transfers/s. */
static double run(struct bench *b, int kind, double secs, double *tps)
{
	double t0, t1;
	unsigned busy;

	b->moved = b->transfers = 0;
	g_stop = false;
	for (unsigned i = 0; i < b->q; i++) {
		struct slot *s = &g_slots[i];
		int rc;

		*s = (struct slot){ b, i, 0, 0, false };
		if (kind == 2 && i % 2 == 1) {
			/* half the loops begin with the read: then writes and
			 * reads overlap, one batch on each engine */
			s->card = next_card(b);
			s->stage = 1;
			s->unchecked = true;
			rc = vpio_xdma_c2h(b->c, s->card, b->back + (size_t)i * b->size, b->size, loop_cb, s);
		} else {
			rc = start(s, kind);
		}
		b->errors += rc != 0;
	}
	t0 = now_s();
	do {
		if (vpio_xdma_poll(b->h, 0) < 0 || vpio_xdma_poll(b->c, 0) < 0)
			b->errors++;
		t1 = now_s();
	} while (t1 - t0 < secs);
	g_stop = true;
	*tps = (double)b->transfers / (t1 - t0);
	{
		double bps = (double)b->moved / (t1 - t0);
		struct vpio_xdma_chan_stats sh, sc;

		do { /* drain (not counted) */
			vpio_xdma_poll(b->h, 0);
			vpio_xdma_poll(b->c, 0);
			vpio_xdma_chan_get_stats(b->h, &sh);
			vpio_xdma_chan_get_stats(b->c, &sc);
			busy = sh.queued + sh.in_flight + sc.queued + sc.in_flight;
		} while (busy > 0);
		return bps;
	}
}

struct mc_arg {
	struct bench *b;
	uint8_t *card;
	double secs, bps;
};

/* memcpy of size bytes between host slots and a card-sized region, both
 * ways, as the emulator does. */
static void *memcpy_loop(void *arg)
{
	struct mc_arg *a = arg;
	struct bench *b = a->b;
	double t0 = now_s(), t1;
	uint64_t bytes = 0, off = 0;
	unsigned i = 0;

	do {
		for (int k = 0; k < 16; k++) {
			uint8_t *h = b->host + (size_t)i * b->size;

			if (k & 1)
				memcpy(h, a->card + off, b->size);
			else
				memcpy(a->card + off, h, b->size);
			bytes += b->size;
			off = (off + b->size) % (b->span - b->span % b->size);
			i = (i + 1) % b->q;
		}
		t1 = now_s();
	} while (t1 - t0 < a->secs);
	a->bps = (double)bytes / (t1 - t0);
	return NULL;
}

/* memcpy bandwidth (bytes/s) on a thread placed as the emulator places
 * its engine threads: on the CPUs the application's lcores leave free. */
static double memcpy_bw(struct bench *b, uint8_t *card, double secs)
{
	struct mc_arg a = { b, card, secs, 0 };
	cpu_set_t set;
	pthread_t t;

	CPU_ZERO(&set);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		CPU_SET((int)c, &set);
	for (unsigned i = 0; i < vpio_env_core_count() && CPU_COUNT(&set) > 1; i++)
		CPU_CLR(vpio_env_core_nth(i), &set);
	if (pthread_create(&t, NULL, memcpy_loop, &a) != 0) {
		memcpy_loop(&a);
		return a.bps;
	}
	pthread_setaffinity_np(t, sizeof(set), &set);
	pthread_join(t, NULL);
	return a.bps;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: xdma_bw [-a ADDR] [-t SECONDS] [-q DEPTH] [-s 4K|64K|1M] [-w h2c|c2h|loopback] [-v]\n");
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 65536, 1u << 20 };
	static const char *const kinds[] = { "H2C", "C2H", "loopback" };
	const char *addr = "emu:xdma?mem=64M";
	struct vpio_xdma_chan_opts co;
	struct vpio_xdma_info info;
	struct vpio_env_opts eo;
	struct vpio_xdma_dev *d;
	struct bench b = { 0 };
	double secs = 1, ratio_1m = 0;
	unsigned q_opt = 0;
	const char *only_size = NULL, *only_kind = NULL;
	uint8_t *card;
	int opt;

	while ((opt = getopt(argc, argv, "a:t:q:s:w:vh")) != -1) {
		switch (opt) {
		case 's': only_size = optarg; break;
		case 'w': only_kind = optarg; break;
		case 'a': addr = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'q': q_opt = (unsigned)atoi(optarg); break;
		case 'v': b.verify = true; break;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (secs <= 0 || secs > 60 || q_opt > MAX_Q) {
		fprintf(stderr, "xdma_bw: -t takes 0 < SECONDS <= 60, -q 1..%u\n", MAX_Q);
		return 2;
	}
	vpio_env_opts_init(&eo);
	eo.name = "xdma_bw";
	eo.mem_size_mb = 256;
	eo.quiet = true;
	vpio_xdma_chan_opts_init(&co);
	co.timeout_ms = 10000;
	if (vpio_env_init(&eo) != 0 || vpio_xdma_attach(addr, NULL, &d) != 0 || vpio_xdma_get_info(d, &info) != 0 ||
	    vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 0, &co, &b.h) != 0 ||
	    vpio_xdma_chan_open(d, VPIO_XDMA_C2H, 0, &co, &b.c) != 0) {
		fprintf(stderr, "xdma_bw: cannot set up %s (see the line above)\n", addr);
		return 1;
	}
	if (info.h2c[0].stream || info.c2h[0].stream) {
		fprintf(stderr, "xdma_bw: %s has stream engines; this benchmark needs memory-mapped ones\n", addr);
		return 1;
	}
	b.span = info.card_mem_size && info.card_mem_size < CARD_SPAN ? info.card_mem_size : CARD_SPAN;
	b.host = vpio_dma_zmalloc(MAX_Q << 20, 4096);
	b.back = vpio_dma_zmalloc(MAX_Q << 20, 4096);
	card = malloc(b.span);
	if (b.host == NULL || b.back == NULL || card == NULL) {
		fprintf(stderr, "xdma_bw: out of memory\n");
		return 1;
	}
	memset(card, 1, b.span);
	memset(b.host, 2, MAX_Q << 20);
	/* warm up: touch all of the card region once */
	b.size = 1u << 20;
	b.q = 4;
	for (uint64_t off = 0; off + b.size <= b.span; off += b.size)
		vpio_xdma_h2c_sync(b.h, off, b.host, b.size);
	printf("xdma_bw: %s, %d rounds of %.2f s, card region %llu MiB\n\n", addr, RUNS, 1.5 * secs / RUNS,
	       (unsigned long long)(b.span >> 20));
	printf("| transfer | workload | depth | GiB/s | transfers/s | memcpy GiB/s | ratio (best/best) | ratio (median) |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		static const char *const size_names[] = { "4K", "64K", "1M" };
		double mc;

		if (only_size != NULL && strcmp(only_size, size_names[s]) != 0)
			continue;
		b.size = sizes[s];
		b.q = q_opt ? q_opt : sizes[s] >= (1u << 20) ? 4 : 32;
		b.next_card = 0;
		for (int k = 0; k < 3; k++) {
			static const char *const kind_names[] = { "h2c", "c2h", "loopback" };
			double tps = 0, bps = 0, ratio[RUNS];

			if (only_kind != NULL && strcmp(only_kind, kind_names[k]) != 0)
				continue;
			mc = 0;
			for (int r = 0; r < RUNS; r++) { /* memcpy and the workload back to back */
				double m = memcpy_bw(&b, card, secs / RUNS / 2), t, v = run(&b, k, secs / RUNS, &t);

				ratio[r] = v / m;
				mc = MAXD(mc, m);
				if (v > bps) {
					bps = v;
					tps = t;
				}
			}
			qsort(ratio, RUNS, sizeof(ratio[0]), cmp_double);
			printf("| %zu KiB | %s | %u | %.2f | %.0f | %.2f | %.0f%% | %.0f%% |\n", sizes[s] >> 10, kinds[k], b.q,
			       bps / (1u << 30), tps, mc / (1u << 30), 100.0 * bps / mc, 100.0 * ratio[RUNS / 2]);
			if (s == 2 && k == 2)
				ratio_1m = ratio[RUNS / 2];
		}
	}
	printf("\n1 MiB loopback: %.0f%% of memcpy bandwidth (median of rounds; target: at least 80%%)", 100.0 * ratio_1m);
	printf("; errors %llu%s\n", (unsigned long long)b.errors,
	       b.verify ? (b.bad ? ", DATA MISMATCH" : ", data verified") : "");
	vpio_xdma_chan_close(b.h);
	vpio_xdma_chan_close(b.c);
	vpio_xdma_detach(d);
	vpio_dma_free(b.host);
	vpio_dma_free(b.back);
	free(card);
	vpio_env_fini();
	return b.errors || b.bad ? 1 : 0;
}
