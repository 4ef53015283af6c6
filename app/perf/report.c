/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-perf: what the terminal shows - the run's header, a progress line
 * every second (on a terminal only), the final table, the failures. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vpio/env.h>

#include "perf.h"

static const double g_pcts[] = { 50, 90, 99, 99.9, 99.99 };
static const char *const g_pct_names[] = { "p50", "p90", "p99", "p99.9", "p99.99" };

/* MiB below a GiB, else GiB */
static const char *human(char *out, size_t len, double bytes)
{
	if (bytes < (double)(1u << 30))
		snprintf(out, len, "%.2f MiB", bytes / (1 << 20));
	else
		snprintf(out, len, "%.2f GiB", bytes / (1 << 30));
	return out;
}

void perf_print_header(const struct perf_run *r)
{
	char size[32];

	const struct perf_opts *o = r->o;

	printf("vpio-perf: %s", perf_workload_name(o->workload));
	if (perf_workload_mixed(o->workload))
		printf(" (%u%% reads)", o->read_pct);
	if (r->xdma)
		printf(", %" PRIu64 "-byte transfers, queue depth %u, one channel pair per core, %u core%s (%s), %g s",
		       o->io_size, o->qd, o->n_cores, o->n_cores == 1 ? "" : "s", o->core_mask_str, o->seconds);
	else
		printf(", %" PRIu64 "-byte I/Os, queue depth %u, %u channel%s per target per core, %u core%s (%s), %g s",
		       o->io_size, o->qd, o->channels, o->channels == 1 ? "" : "s", o->n_cores,
		       o->n_cores == 1 ? "" : "s", o->core_mask_str, o->seconds);
	if (o->warmup > 0)
		printf(" after %g s of warm-up", o->warmup);
	printf(", seed %" PRIu64 "%s%s\n", o->seed,
	       o->verify_only ? ", verify-only (nothing is written)" : o->verify ? ", verifying" : "",
	       o->one_pass ? ", one pass" : "");
	for (unsigned i = 0; i < r->n_targets; i++) {
		const struct perf_target *t = &r->tg[i];

		printf("  %s%s: %s, %" PRIu64 " blocks of %u bytes (%s), cores", t->info.name,
		       r->default_target ? " (default target)" : "", t->info.backend, t->info.num_blocks,
		       t->info.block_size, human(size, sizeof(size), (double)t->info.num_blocks * t->info.block_size));
		for (unsigned k = 0; k < r->n_workers; k++) {
			if (r->w[k].st[i] != NULL)
				printf(" %u", r->w[k].core);
		}
		if (o->range_given)
			printf(", LBAs %" PRIu64 "-%" PRIu64 " (--range)", t->first_lba,
			       t->first_lba + t->slots * t->io_blocks - 1);
		if (t->io_api != NULL && t->xdev == NULL)
			printf(", I/O through %s", strcmp(t->io_api, "nvme-batch") == 0 ? "lib/nvme batches" : "lib/blk");
		printf("\n");
	}
	fflush(stdout);
}

static void row(const struct perf_run *r, const char *name, int width, const struct perf_total *t)
{
	printf("%-*s %12.1f %10.2f", width, name, t->iops, t->mib_s);
	if (r->xdma)
		printf(" %8.3f", t->mib_s / 1024.0);
	printf(" %9.2f %9.2f %9.2f", perf_us(r, (uint64_t)perf_hist_mean(&t->lat)),
	       t->lat.count ? perf_us(r, t->lat.min) : 0.0, perf_us(r, t->lat.max));
	if (r->o->latency) {
		for (unsigned i = 0; i < sizeof(g_pcts) / sizeof(g_pcts[0]); i++)
			printf(" %9.2f", perf_us(r, perf_hist_percentile(&t->lat, g_pcts[i])));
	}
	printf("\n");
}

/* "all" or the number of --verify-min */
static const char *min_str(const struct perf_opts *o, char *out, size_t len)
{
	if (o->verify_min_all)
		snprintf(out, len, "all");
	else
		snprintf(out, len, "%" PRIu64, o->verify_min);
	return out;
}

/* --verify-only: the total line, and one per target with a pass or a
 * minimum to show. */
static void print_verify_only(const struct perf_run *r)
{
	struct perf_vtarget v;
	struct perf_total t;
	char min[24];

	perf_total(r, -1, -1, &t);
	printf("verify-only: %" PRIu64 " blocks checked (signed with seed %" PRIu64 "), %" PRIu64
	       " without a signature, %" PRIu64 " signed with another seed%s, %" PRIu64 " mismatched\n",
	       t.verified, r->o->seed, t.unsigned_blocks, t.other_seed,
	       r->o->verify_min_all ? " (both mismatches: --verify-min all)" : " (both not checked)", t.mismatched);
	for (unsigned k = 0; k < r->n_targets; k++) {
		perf_verify_target(r, k, &v);
		printf("  %s: %" PRIu64 " checked, %" PRIu64 " without a signature, %" PRIu64 " another seed's, %" PRIu64
		       " mismatched", r->tg[k].info.name, v.t.verified, v.t.unsigned_blocks, v.t.other_seed,
		       v.t.mismatched);
		if (r->o->verify_min_given)
			printf(", --verify-min %s %s", min_str(r->o, min, sizeof(min)), v.min_met ? "met" : "NOT met");
		printf("\n");
	}
}

void perf_print_table(const struct perf_run *r)
{
	struct perf_total t;
	char name[96];
	int width = 12;

	for (unsigned i = 0; i < r->n_targets; i++) {
		int n = (int)strlen(r->tg[i].info.name);

		width = n > width ? n : width;
	}
	printf("\n%-*s %12s %10s", width, "", r->xdma ? "transfers/s" : "IOPS", "MiB/s");
	if (r->xdma)
		printf(" %8s", "GiB/s");
	printf(" %9s %9s %9s", "avg us", "min us", "max us");
	if (r->o->latency) {
		for (unsigned i = 0; i < sizeof(g_pcts) / sizeof(g_pcts[0]); i++)
			printf(" %6s us", g_pct_names[i]);
	}
	printf("\n");
	for (unsigned i = 0; i < r->n_targets; i++) {
		perf_total(r, -1, (int)i, &t);
		row(r, r->tg[i].info.name, width, &t);
	}
	for (unsigned i = 0; i < r->n_workers; i++) {
		snprintf(name, sizeof(name), "core %u", r->w[i].core);
		perf_total(r, (int)i, -1, &t);
		row(r, name, width, &t);
	}
	perf_total(r, -1, -1, &t);
	row(r, "Total", width, &t);
	if (r->o->verify)
		printf("verify: %" PRIu64 " blocks read and checked, %" PRIu64
		       " read that this run had not written (not checked), %" PRIu64 " mismatched\n",
		       t.verified, t.unchecked, t.mismatched);
	if (r->o->verify_only)
		print_verify_only(r);
	for (unsigned k = 0; k < r->n_targets && r->o->one_pass; k++) {
		struct perf_vtarget v;

		perf_verify_target(r, k, &v);
		printf("one pass: %s: %" PRIu64 " of the range's %" PRIu64 " blocks %s%s\n", r->tg[k].info.name,
		       v.pass_blocks, v.range_blocks, r->o->workload == PERF_READ ? "read" : "written",
		       v.pass_blocks == v.range_blocks ? "" : " (-t ended the pass first)");
	}
}

/* A line on stderr when target k's --one-pass did not finish, one when it
 * fell short of --verify-min. */
static void print_min_failure(const struct perf_run *r, unsigned k)
{
	const struct perf_opts *o = r->o;
	struct perf_vtarget v;
	char min[24];

	perf_verify_target(r, k, &v);
	if (v.pass_failed)
		fprintf(stderr, "vpio-perf: %s: --one-pass not finished: %" PRIu64 " of the range's %" PRIu64
			" blocks %s when the run ended (raise -t)\n", r->tg[k].info.name, v.pass_blocks, v.range_blocks,
			o->workload == PERF_READ ? "read" : "written");
	if (v.min_met)
		return;
	fprintf(stderr, "vpio-perf: %s: --verify-min %s not met: %" PRIu64 " blocks checked", r->tg[k].info.name,
		min_str(o, min, sizeof(min)), v.t.verified);
	if (o->verify_only)
		fprintf(stderr, ", %" PRIu64 " without a signature, %" PRIu64 " signed with another seed than %" PRIu64,
			v.t.unsigned_blocks, v.t.other_seed, o->seed);
	if (v.one_pass && v.pass_blocks < v.range_blocks)
		fprintf(stderr, ", %" PRIu64 " of the range's %" PRIu64 " blocks read before -t ended (raise -t)",
			v.pass_blocks, v.range_blocks);
	fprintf(stderr, "\n");
}

/* Every failure of the run, one line each, on stderr. */
void perf_print_failures(const struct perf_run *r)
{
	char line[512];

	fflush(stdout); /* the table first */
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct perf_worker *w = &r->w[i];

		for (unsigned k = 0; k < r->n_targets; k++) {
			const struct perf_stats *st = w->st[k];

			if (st != NULL && st->errors > 0)
				fprintf(stderr, "vpio-perf: %s, core %u: %" PRIu64 " I/O error%s (the first: %s)\n",
					r->tg[k].info.name, w->core, st->errors, st->errors == 1 ? "" : "s",
					strerror(-st->first_error));
		}
		for (unsigned c = 0; c < w->n_ch; c++) {
			if (w->ch[c].dead)
				fprintf(stderr, "vpio-perf: %s, core %u: a channel stopped answering (%s)\n",
					w->ch[c].tgt->info.name, w->core, strerror(-w->ch[c].failed));
		}
		if (w->lost_ios > 0)
			fprintf(stderr, "vpio-perf: core %u: %" PRIu64 " I/Os still outstanding %d s after the end: the device stopped completing them\n",
				w->core, w->lost_ios, PERF_DRAIN_SECONDS);
		for (unsigned m = 0; m < w->mm.n; m++) {
			const struct perf_target *t = &r->tg[w->mm.rec[m].tag];

			perf_mismatch_fmt(line, sizeof(line), &w->mm.rec[m]);
			if (t->xdev != NULL) /* say where in card memory */
				fprintf(stderr, "vpio-perf: verify mismatch on %s at card offset 0x%" PRIx64 ": %s\n",
					t->info.name, w->mm.rec[m].lba * t->info.block_size, line);
			else
				fprintf(stderr, "vpio-perf: verify mismatch on %s: %s\n", t->info.name, line);
		}
		if (w->mm.total > w->mm.n)
			fprintf(stderr, "vpio-perf: core %u: %" PRIu64 " more verify mismatches (the first %u are listed)\n",
				w->core, w->mm.total - w->mm.n, w->mm.n);
		if (!w->launched)
			fprintf(stderr, "vpio-perf: core %u: the worker could not be started\n", w->core);
	}
	for (unsigned k = 0; k < r->n_targets; k++)
		print_min_failure(r, k);
}

/* ---------------------------------------------------------- progress */

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, stop;
} g_progress = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Sleep until `until` (CLOCK_MONOTONIC) or a stop; true when stopped. */
static bool progress_wait(const struct timespec *until)
{
	bool stop;

	pthread_mutex_lock(&g_progress.lock);
	while (!g_progress.stop && pthread_cond_timedwait(&g_progress.cond, &g_progress.lock, until) != ETIMEDOUT)
		;
	stop = g_progress.stop;
	pthread_mutex_unlock(&g_progress.lock);
	return stop;
}

static void *progress_main(void *arg)
{
	struct perf_run *r = arg;
	struct timespec next;
	uint64_t last_ios = 0, last_bytes = 0, last_tick = r->t0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		uint64_t ios = 0, bytes = 0, now;
		double dt;

		next.tv_sec++;
		if (progress_wait(&next))
			break;
		for (unsigned i = 0; i < r->n_workers; i++) {
			ios += __atomic_load_n(&r->w[i].done_reads, __ATOMIC_RELAXED) +
			       __atomic_load_n(&r->w[i].done_writes, __ATOMIC_RELAXED);
			bytes += __atomic_load_n(&r->w[i].done_bytes, __ATOMIC_RELAXED);
		}
		now = vpio_get_ticks();
		dt = (double)(now - last_tick) / (double)r->hz;
		printf("\r[%6.1f s%s] %12.0f %s %10.2f MiB/s ", (double)(now - r->t0) / (double)r->hz,
		       now < r->t_measure ? " warm-up" : "", (double)(ios - last_ios) / dt,
		       r->xdma ? "transfers/s" : "IOPS", (double)(bytes - last_bytes) / dt / (1024.0 * 1024.0));
		if (r->xdma)
			printf("%8.3f GiB/s ", (double)(bytes - last_bytes) / dt / (1024.0 * 1024.0 * 1024.0));
		fflush(stdout);
		last_ios = ios;
		last_bytes = bytes;
		last_tick = now;
	}
	return NULL;
}

void perf_progress_start(struct perf_run *r)
{
	pthread_condattr_t ca;

	if (!isatty(STDOUT_FILENO))
		return;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_progress.cond, &ca);
	pthread_condattr_destroy(&ca);
	g_progress.stop = false;
	g_progress.running = pthread_create(&g_progress.thread, NULL, progress_main, r) == 0;
}

void perf_progress_stop(void)
{
	if (!g_progress.running)
		return;
	pthread_mutex_lock(&g_progress.lock);
	g_progress.stop = true;
	pthread_cond_signal(&g_progress.cond);
	pthread_mutex_unlock(&g_progress.lock);
	pthread_join(g_progress.thread, NULL);
	pthread_cond_destroy(&g_progress.cond);
	g_progress.running = false;
	printf("\r%70s\r", "");
	fflush(stdout);
}
