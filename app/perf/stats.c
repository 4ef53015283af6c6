/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-perf: adding up the workers' numbers after the run. */
#include <string.h>

#include "perf.h"

double perf_us(const struct perf_run *r, uint64_t ticks)
{
	return (double)ticks * 1e6 / (double)r->hz;
}

static void add(const struct perf_run *r, const struct perf_worker *w, const struct perf_stats *st,
		struct perf_total *t)
{
	double secs = (double)(w->count_end - w->count_start) / (double)r->hz;
	uint64_t ios = st->m.reads + st->m.writes;

	t->reads += st->m.reads;
	t->writes += st->m.writes;
	t->bytes_read += st->m.bytes_read;
	t->bytes_written += st->m.bytes_written;
	t->errors += st->errors;
	t->verified += st->verified_blocks;
	t->unchecked += st->unchecked_blocks;
	t->mismatched += st->mismatched_blocks;
	t->unsigned_blocks += st->unsigned_blocks;
	t->other_seed += st->other_seed_blocks;
	if (secs > 0) {
		t->iops += (double)ios / secs;
		t->mib_s += (double)(st->m.bytes_read + st->m.bytes_written) / secs / (1024.0 * 1024.0);
	}
	if (secs > t->seconds)
		t->seconds = secs;
	perf_hist_merge(&t->lat, &st->m.lat);
}

void perf_total(const struct perf_run *r, int worker, int target, struct perf_total *t)
{
	memset(t, 0, sizeof(*t));
	perf_hist_reset(&t->lat);
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct perf_worker *w = &r->w[i];

		if (worker >= 0 && (unsigned)worker != i)
			continue;
		for (unsigned k = 0; k < r->n_targets; k++) {
			if ((target < 0 || (unsigned)target == k) && w->st[k] != NULL)
				add(r, w, w->st[k], t);
		}
	}
}

unsigned perf_samples(const struct perf_run *r)
{
	unsigned n = UINT32_MAX;

	for (unsigned i = 0; i < r->n_workers; i++) {
		if (r->w[i].n_samples < n)
			n = r->w[i].n_samples;
	}
	return r->n_workers ? n : 0;
}

void perf_sample_at(const struct perf_run *r, unsigned i, double *t, double *iops, double *mib_s, double *read_iops)
{
	double ios = 0, reads = 0, bytes = 0, secs = 0;

	for (unsigned k = 0; k < r->n_workers; k++) {
		const struct perf_sample *s = &r->w[k].samples[i];
		const struct perf_sample *p = i > 0 ? &r->w[k].samples[i - 1] : NULL;
		uint64_t from = p ? p->tick : r->t0;
		double dt = (double)(s->tick - from) / (double)r->hz;

		if (dt <= 0)
			continue;
		ios += (double)(s->reads + s->writes - (p ? p->reads + p->writes : 0)) / dt;
		reads += (double)(s->reads - (p ? p->reads : 0)) / dt;
		bytes += (double)(s->bytes - (p ? p->bytes : 0)) / dt;
		if (k == 0)
			secs = (double)(s->tick - r->t0) / (double)r->hz;
	}
	*t = secs;
	*iops = ios;
	*mib_s = bytes / (1024.0 * 1024.0);
	*read_iops = reads;
}

void perf_verify_target(const struct perf_run *r, unsigned k, struct perf_vtarget *v)
{
	const struct perf_opts *o = r->o;
	const struct perf_target *tg = &r->tg[k];

	memset(v, 0, sizeof(*v));
	perf_total(r, -1, (int)k, &v->t);
	v->range_blocks = tg->slots * tg->io_blocks;
	for (unsigned i = 0; i < r->n_workers; i++) {
		for (unsigned c = 0; c < r->w[i].n_ch; c++) {
			const struct perf_channel *ch = &r->w[i].ch[c];

			if (ch->tgt != tg || ch->left == UINT64_MAX)
				continue;
			v->one_pass = true;
			v->pass_blocks += (ch->range_len - ch->left) * tg->io_blocks;
		}
	}
	v->pass_failed = o->one_pass_given && v->pass_blocks < v->range_blocks;
	if (!o->verify_min_given)
		v->min_met = true;
	else if (o->verify_min_all)
		v->min_met = v->t.verified > 0 && v->t.unsigned_blocks == 0 && v->t.other_seed == 0 &&
			     (!v->one_pass || v->pass_blocks == v->range_blocks);
	else
		v->min_met = v->t.verified >= o->verify_min;
}

bool perf_failed(const struct perf_run *r)
{
	struct perf_vtarget v;

	for (unsigned k = 0; k < r->n_targets; k++) {
		perf_verify_target(r, k, &v);
		if (!v.min_met || v.pass_failed)
			return true;
	}
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct perf_worker *w = &r->w[i];

		if (!w->launched || w->lost_ios > 0 || w->mm.total > 0)
			return true;
		for (unsigned k = 0; k < r->n_targets; k++) {
			if (w->st[k] != NULL && (w->st[k]->errors > 0 || w->st[k]->mismatched_blocks > 0))
				return true;
		}
		for (unsigned c = 0; c < w->n_ch; c++) {
			if (w->ch[c].failed != 0)
				return true;
		}
	}
	return false;
}
