/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf --json: every number of the run (doc/perf.md describes the
 * schema).  A small emitter: keys in order, strings escaped, non-finite
 * numbers as null.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vpio/version.h>

#include "perf.h"

#define JW_DEPTH 16

struct jw {
	FILE *f;
	int depth;
	bool first[JW_DEPTH];
};

static void jw_str_raw(struct jw *j, const char *s)
{
	fputc('"', j->f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(j->f, "\\%c", c);
		else if (c < 0x20)
			fprintf(j->f, "\\u%04x", c);
		else
			fputc(c, j->f);
	}
	fputc('"', j->f);
}

/* Comma, newline, indentation and the key (NULL inside arrays). */
static void jw_key(struct jw *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	fprintf(j->f, "\n%*s", 2 * j->depth, "");
	if (key != NULL) {
		jw_str_raw(j, key);
		fputs(": ", j->f);
	}
}

static void jw_open(struct jw *j, const char *key, char c)
{
	if (j->depth >= 0)
		jw_key(j, key);
	fputc(c, j->f);
	j->first[++j->depth] = true;
}

static void jw_close(struct jw *j, char c)
{
	bool empty = j->first[j->depth--];

	if (!empty)
		fprintf(j->f, "\n%*s", 2 * (j->depth + 1), "");
	fputc(c, j->f);
}

static void jw_str(struct jw *j, const char *key, const char *v)
{
	jw_key(j, key);
	jw_str_raw(j, v != NULL ? v : "");
}

static void jw_u64(struct jw *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

static void jw_dbl(struct jw *j, const char *key, double v)
{
	jw_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.3f", v);
	else
		fputs("null", j->f);
}

static void jw_bool(struct jw *j, const char *key, bool v)
{
	jw_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

static void jw_null(struct jw *j, const char *key)
{
	jw_key(j, key);
	fputs("null", j->f);
}

/* --verify-min: null, a number or "all" */
static void jw_min(struct jw *j, const char *key, const struct perf_opts *o)
{
	if (!o->verify_min_given)
		jw_null(j, key);
	else if (o->verify_min_all)
		jw_str(j, key, "all");
	else
		jw_u64(j, key, o->verify_min);
}

/* ------------------------------------------------------------ sections */

static void machine(struct jw *j, const struct perf_run *r)
{
	struct perf_machine m;
	bool pci = false;

	for (unsigned i = 0; i < r->n_targets; i++)
		pci |= (strcmp(r->tg[i].info.backend, "nvme") == 0 || r->tg[i].xdev != NULL) && !r->tg[i].info.emulated;
	perf_machine(&m, pci);
	jw_open(j, "machine", '{');
	jw_str(j, "cpu_model", m.cpu_model);
	jw_u64(j, "cpus_online", m.cpus);
	jw_str(j, "kernel", m.kernel);
	jw_str(j, "hostname", m.hostname);
	jw_u64(j, "tsc_hz", r->hz);
	jw_bool(j, "hugepages", m.hugepages);
	jw_open(j, "iommu", '{');
	jw_bool(j, "vfio", m.vfio);
	if (m.iommu_groups >= 0)
		jw_u64(j, "iommu_groups", (uint64_t)m.iommu_groups);
	jw_str(j, "iova_mode", m.iova_mode);
	if (m.iommu_info) {
		jw_str(j, "mode", m.noiommu ? "no-IOMMU" : "Type1v2");
		jw_u64(j, "page_sizes", m.pgsize_bitmap);
		if (m.dma_avail != UINT32_MAX)
			jw_u64(j, "dma_mappings_available", m.dma_avail);
		jw_bool(j, "cache_coherent", m.cache_coherent);
	} else {
		jw_str(j, "mode", m.vfio ? "no VFIO device in this run" : "no VFIO on this machine");
	}
	jw_close(j, '}');
	jw_close(j, '}');
}

static void config(struct jw *j, const struct perf_run *r)
{
	const struct perf_opts *o = r->o;

	jw_open(j, "config", '{');
	jw_str(j, "workload", perf_workload_name(o->workload));
	jw_u64(j, "read_percent", o->read_pct);
	jw_u64(j, "queue_depth", o->qd);
	jw_u64(j, "io_size", o->io_size);
	jw_dbl(j, "seconds", o->seconds);
	jw_dbl(j, "warmup_seconds", o->warmup);
	jw_str(j, "core_mask", o->core_mask_str);
	jw_open(j, "cores", '[');
	for (unsigned i = 0; i < r->n_workers; i++)
		jw_u64(j, NULL, r->w[i].core);
	jw_close(j, ']');
	jw_u64(j, "channels_per_target_per_core", o->channels);
	jw_bool(j, "latency_percentiles", o->latency);
	jw_u64(j, "seed", o->seed);
	jw_bool(j, "verify", o->verify);
	jw_bool(j, "verify_only", o->verify_only);
	jw_bool(j, "one_pass", o->one_pass);
	jw_min(j, "verify_min", o);
	if (o->range_given) {
		jw_open(j, "range", '{');
		jw_u64(j, "offset", o->range_start);
		jw_u64(j, "length", o->range_len);
		jw_close(j, '}');
	} else {
		jw_null(j, "range");
	}
	jw_bool(j, "default_target", r->default_target);
	jw_close(j, '}');
}

static void targets(struct jw *j, const struct perf_run *r)
{
	struct perf_vtarget v;

	jw_open(j, "targets", '[');
	for (unsigned i = 0; i < r->n_targets; i++) {
		const struct vpio_blk_info *in = &r->tg[i].info;

		perf_verify_target(r, i, &v);
		jw_open(j, NULL, '{');
		jw_str(j, "name", in->name);
		jw_str(j, "address", r->tg[i].addr);
		jw_str(j, "backend", in->backend);
		jw_str(j, "io_api", r->tg[i].io_api != NULL ? r->tg[i].io_api : "none");
		jw_u64(j, "block_size", in->block_size);
		jw_u64(j, "num_blocks", in->num_blocks);
		jw_u64(j, "max_transfer_bytes", in->max_transfer_bytes);
		jw_u64(j, "max_queue_depth", in->max_queue_depth);
		jw_u64(j, "nsid", in->nsid);
		jw_bool(j, "emulated", in->emulated);
		jw_bool(j, "iopoll", in->iopoll);
		jw_bool(j, "sqpoll", in->sqpoll);
		jw_u64(j, "channels", r->tg[i].n_channels);
		jw_u64(j, "slots_used", r->tg[i].slots);
		jw_u64(j, "first_lba", r->tg[i].first_lba);
		jw_u64(j, "range_blocks", v.range_blocks);
		if (v.one_pass)
			jw_u64(j, "pass_blocks", v.pass_blocks);
		else
			jw_null(j, "pass_blocks");
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static const double g_pcts[] = { 50, 90, 99, 99.9, 99.99 };
static const char *const g_pct_keys[] = { "p50", "p90", "p99", "p99.9", "p99.99" };
/* the points of latency_curve_us, for scripts/perf-plot.py */
static const double g_curve[] = { 1,  5,  10, 20, 30,	40,    50,    60,    70,     75,     80,
				  85, 90, 95, 98, 99, 99.5, 99.8, 99.9, 99.95, 99.99, 99.995, 99.999, 100 };

/* The fields of one perf_total. */
static void result(struct jw *j, const struct perf_run *r, const struct perf_total *t)
{
	jw_u64(j, "ios", t->reads + t->writes);
	jw_u64(j, "reads", t->reads);
	jw_u64(j, "writes", t->writes);
	jw_u64(j, "bytes_read", t->bytes_read);
	jw_u64(j, "bytes_written", t->bytes_written);
	jw_dbl(j, "seconds", t->seconds);
	jw_dbl(j, "iops", t->iops);
	jw_dbl(j, "mib_s", t->mib_s);
	if (r->xdma) { /* XDMA runs: also GiB/s; ios are transfers */
		jw_dbl(j, "gib_s", t->mib_s / 1024.0);
		jw_dbl(j, "transfers_s", t->iops);
	}
	jw_u64(j, "errors", t->errors);
	jw_open(j, "latency_us", '{');
	jw_dbl(j, "avg", perf_us(r, (uint64_t)perf_hist_mean(&t->lat)));
	jw_dbl(j, "min", t->lat.count ? perf_us(r, t->lat.min) : 0.0);
	jw_dbl(j, "max", perf_us(r, t->lat.max));
	for (unsigned i = 0; i < sizeof(g_pcts) / sizeof(g_pcts[0]); i++)
		jw_dbl(j, g_pct_keys[i], perf_us(r, perf_hist_percentile(&t->lat, g_pcts[i])));
	jw_close(j, '}');
	jw_open(j, "latency_curve_us", '[');
	for (unsigned i = 0; i < sizeof(g_curve) / sizeof(g_curve[0]) && t->lat.count > 0; i++) {
		jw_open(j, NULL, '[');
		jw_dbl(j, NULL, g_curve[i]);
		jw_dbl(j, NULL, perf_us(r, perf_hist_percentile(&t->lat, g_curve[i])));
		jw_close(j, ']');
	}
	jw_close(j, ']');
}

static void core_result(struct jw *j, const struct perf_run *r, const struct perf_worker *w)
{
	struct perf_total t;
	uint64_t ios;

	perf_total(r, (int)w->index, -1, &t);
	ios = t.reads + t.writes;
	jw_open(j, NULL, '{');
	jw_u64(j, "core", w->core);
	result(j, r, &t);
	jw_u64(j, "busy_ticks", w->busy_ticks);
	jw_u64(j, "idle_ticks", w->idle_ticks);
	jw_u64(j, "loops", w->loops);
	jw_dbl(j, "busy_ticks_per_io", ios ? (double)w->busy_ticks / (double)ios : 0.0);
	jw_dbl(j, "ticks_per_io", ios ? (double)(w->busy_ticks + w->idle_ticks) / (double)ios : 0.0);
	jw_close(j, '}');
}

static void results(struct jw *j, const struct perf_run *r)
{
	struct perf_total t;

	jw_open(j, "results", '{');
	perf_total(r, -1, -1, &t);
	jw_open(j, "total", '{');
	result(j, r, &t);
	jw_close(j, '}');
	jw_open(j, "targets", '[');
	for (unsigned i = 0; i < r->n_targets; i++) {
		perf_total(r, -1, (int)i, &t);
		jw_open(j, NULL, '{');
		jw_str(j, "target", r->tg[i].info.name);
		result(j, r, &t);
		jw_close(j, '}');
	}
	jw_close(j, ']');
	jw_open(j, "cores", '[');
	for (unsigned i = 0; i < r->n_workers; i++)
		core_result(j, r, &r->w[i]);
	jw_close(j, ']');
	jw_open(j, "target_cores", '[');
	for (unsigned i = 0; i < r->n_workers; i++) {
		for (unsigned k = 0; k < r->n_targets; k++) {
			if (r->w[i].st[k] == NULL)
				continue;
			perf_total(r, (int)i, (int)k, &t);
			jw_open(j, NULL, '{');
			jw_str(j, "target", r->tg[k].info.name);
			jw_u64(j, "core", r->w[i].core);
			result(j, r, &t);
			jw_close(j, '}');
		}
	}
	jw_close(j, ']');
	jw_close(j, '}');
}

static void samples(struct jw *j, const struct perf_run *r)
{
	unsigned n = perf_samples(r);

	jw_open(j, "samples", '[');
	for (unsigned i = 0; i < n; i++) {
		double t, iops, mib, reads;

		perf_sample_at(r, i, &t, &iops, &mib, &reads);
		jw_open(j, NULL, '{');
		jw_dbl(j, "t", t);
		jw_bool(j, "warmup", r->w[0].samples[i].tick <= r->t_measure && r->o->warmup > 0);
		jw_dbl(j, "iops", iops);
		jw_dbl(j, "read_iops", reads);
		jw_dbl(j, "write_iops", iops - reads);
		jw_dbl(j, "mib_s", mib);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void sig(struct jw *j, const char *key, const struct perf_sig *s)
{
	jw_open(j, key, '{');
	jw_bool(j, "signature", s->magic == PERF_SIG_MAGIC);
	jw_u64(j, "lba", s->lba);
	jw_u64(j, "gen", s->gen);
	jw_u64(j, "seed", s->seed);
	jw_close(j, '}');
}

/* verify.targets[] and verify.min_met */
static void verify_targets(struct jw *j, const struct perf_run *r)
{
	struct perf_vtarget v;
	bool met = true;

	jw_open(j, "targets", '[');
	for (unsigned k = 0; k < r->n_targets; k++) {
		perf_verify_target(r, k, &v);
		met &= v.min_met;
		jw_open(j, NULL, '{');
		jw_str(j, "target", r->tg[k].info.name);
		jw_u64(j, "blocks_checked", v.t.verified);
		jw_u64(j, "blocks_not_checked", v.t.unchecked);
		jw_u64(j, "blocks_unsigned", v.t.unsigned_blocks);
		jw_u64(j, "blocks_other_seed", v.t.other_seed);
		jw_u64(j, "mismatches", v.t.mismatched);
		jw_bool(j, "min_met", v.min_met);
		jw_close(j, '}');
	}
	jw_close(j, ']');
	jw_bool(j, "min_met", met);
}

static void verify(struct jw *j, const struct perf_run *r)
{
	struct perf_total t;

	perf_total(r, -1, -1, &t);
	jw_open(j, "verify", '{');
	jw_bool(j, "enabled", r->o->verify || r->o->verify_only);
	jw_str(j, "mode", r->o->verify_only ? "verify_only" : r->o->verify ? "in_run" : "off");
	jw_u64(j, "blocks_checked", t.verified);
	jw_u64(j, "blocks_not_written_in_run", t.unchecked);
	jw_u64(j, "blocks_unsigned", t.unsigned_blocks);
	jw_u64(j, "blocks_other_seed", t.other_seed);
	jw_u64(j, "mismatches", t.mismatched);
	jw_min(j, "min", r->o);
	verify_targets(j, r);
	jw_open(j, "mismatch_list", '[');
	for (unsigned i = 0; i < r->n_workers; i++) {
		for (unsigned m = 0; m < r->w[i].mm.n; m++) {
			const struct perf_mismatch *x = &r->w[i].mm.rec[m];

			jw_open(j, NULL, '{');
			jw_str(j, "target", r->tg[x->tag].info.name);
			jw_u64(j, "lba", x->lba);
			if (r->tg[x->tag].xdev != NULL) /* XDMA: the byte offset in card memory */
				jw_u64(j, "card_offset", x->lba * r->tg[x->tag].info.block_size);
			sig(j, "expected", &x->expected);
			sig(j, "got", &x->got);
			jw_u64(j, "first_bad_byte", x->offset);
			jw_close(j, '}');
		}
	}
	jw_close(j, ']');
	jw_close(j, '}');
}

static void failures(struct jw *j, const struct perf_run *r)
{
	uint64_t errors = 0, dead = 0, lost = 0;

	for (unsigned i = 0; i < r->n_workers; i++) {
		for (unsigned k = 0; k < r->n_targets; k++)
			errors += r->w[i].st[k] ? r->w[i].st[k]->errors : 0;
		for (unsigned c = 0; c < r->w[i].n_ch; c++)
			dead += r->w[i].ch[c].dead;
		lost += r->w[i].lost_ios;
	}
	jw_open(j, "failures", '{');
	jw_u64(j, "io_errors", errors);
	jw_u64(j, "channels_stopped", dead);
	jw_u64(j, "ios_lost", lost);
	jw_close(j, '}');
}

FILE *perf_json_open(const char *path, bool *created)
{
	FILE *f;

	*created = access(path, F_OK) != 0;
	f = fopen(path, "w");
	if (f == NULL)
		fprintf(stderr, "vpio-perf: --json '%s': cannot write it: %s\n", path, strerror(errno));
	return f;
}

int perf_json_write(const struct perf_run *r, FILE *f)
{
	struct jw j = { f, -1, { false } };

	jw_open(&j, NULL, '{');
	jw_str(&j, "schema", "vpio-perf/1.2");
	jw_str(&j, "vpio_version", VPIO_VERSION);
	jw_open(&j, "command_line", '[');
	for (int i = 0; i < r->argc; i++)
		jw_str(&j, NULL, r->argv[i]);
	jw_close(&j, ']');
	jw_u64(&j, "exit_status", (uint64_t)r->exit_status);
	machine(&j, r);
	config(&j, r);
	targets(&j, r);
	results(&j, r);
	samples(&j, r);
	verify(&j, r);
	failures(&j, r);
	jw_close(&j, '}');
	fputc('\n', f);
	if (fflush(f) != 0 || ferror(f)) {
		fprintf(stderr, "vpio-perf: --json: writing the report failed: %s\n", strerror(errno));
		return PERF_EXIT_FAIL;
	}
	return PERF_EXIT_OK;
}
