/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: the I/O loop.  One worker per core; each keeps -q I/Os in
 * flight on each of its channels.  While running it allocates nothing,
 * takes no lock and makes no system call (io_uring targets excepted: the
 * ring's own submit): time is the TSC, a completion resubmits its context
 * from the callback, and everything it writes is its own.
 *
 * With one pass (--one-pass, --verify-only -w read) a channel stops
 * queuing once it has queued each slot of its share, and a worker whose
 * channels are all done (or failed) ends before -t.
 *
 * Latency is TSC ticks from the call that queued an I/O to the callback
 * that completed it: the callback reads the TSC once and the same value
 * stamps the I/O it submits next, so each I/O costs one TSC read.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <vpio/env.h>

#include "perf.h"
#include "rng.h"

static volatile sig_atomic_t g_stop;

void perf_engine_stop(void)
{
	g_stop = 1;
}

/* lib/blk channels */
static int blk_submit(struct perf_channel *ch, struct perf_io *io, uint64_t lba)
{
	if (io->is_read)
		return vpio_blk_read(ch->bch, io->buf, lba, ch->tgt->io_blocks, perf_io_done, io);
	return vpio_blk_write(ch->bch, io->buf, lba, ch->tgt->io_blocks, perf_io_done, io);
}

static int blk_poll(struct perf_channel *ch)
{
	return vpio_blk_poll(ch->bch, 0);
}

static uint32_t blk_outstanding(const struct perf_channel *ch)
{
	return vpio_blk_channel_get_outstanding(ch->bch);
}

static void blk_destroy(struct perf_channel *ch)
{
	vpio_blk_channel_destroy(ch->bch);
	ch->bch = NULL;
}

const struct perf_chan_ops perf_blk_ops = { blk_submit, blk_poll, blk_outstanding, blk_destroy };

static inline void relaxed_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* The next slot of the channel; with --verify one with no I/O in flight
 * (there is one: a channel owns more slots than its queue depth;
 * --verify-only marks no slot busy). */
static uint64_t pick_slot(struct perf_channel *ch)
{
	const uint32_t *vt = ch->tgt->vtable;
	uint64_t end = ch->range_start + ch->range_len, s;

	if (ch->w->random) {
		s = ch->range_start + perf_rng_below(&ch->w->rng, ch->range_len);
	} else {
		s = ch->seq_next;
		ch->seq_next = s + 1 == end ? ch->range_start : s + 1;
	}
	while (vt != NULL && (vt[s] & PERF_V_BUSY))
		s = s + 1 == end ? ch->range_start : s + 1;
	return s;
}

/* Choose what io does next and queue it.  0, or a negative errno after
 * which io is back on the idle list (-EAGAIN: retried after a poll). */
static int submit_io(struct perf_channel *ch, struct perf_io *io, uint64_t now)
{
	struct perf_worker *w = ch->w;
	struct perf_target *t = ch->tgt;
	uint32_t *vt = t->vtable;
	uint64_t lba;
	int rc;

	if (io->readback) { /* -w loopback: the slot just written, read back */
		io->is_read = true;
	} else {
		io->is_read = w->read_pct == 100 || (w->read_pct != 0 && perf_rng_below(&w->rng, 100) < w->read_pct);
		io->slot = pick_slot(ch);
	}
	lba = t->first_lba + io->slot * t->io_blocks;
	if (vt != NULL) {
		if (!io->is_read) {
			io->gen = perf_verify_next_gen(vt[io->slot]);
			perf_verify_fill(io->buf, t->info.block_size, t->io_blocks, lba, io->gen, w->seed);
		} else {
			perf_verify_poison(io->buf, t->info.block_size, t->io_blocks);
		}
		/* --verify-only reads may share a slot: it never writes;
		 * a loopback read back holds it still */
		if (!w->verify_only)
			vt[io->slot] |= PERF_V_BUSY;
	}
	if (ch->left != UINT64_MAX)
		ch->left--;
	io->submit_tick = now;
	rc = ch->ops->submit(ch, io, lba);
	if (rc == 0)
		return 0;
	if (vt != NULL)
		vt[io->slot] &= ~PERF_V_BUSY;
	if (ch->left != UINT64_MAX) { /* one pass: this slot again next time */
		ch->left++;
		ch->seq_next = io->slot;
	}
	ch->idle[ch->n_idle++] = io;
	if (rc != -EAGAIN) {
		if (ch->st->errors++ == 0)
			ch->st->first_error = rc;
		ch->failed = rc;
	}
	return rc;
}

/* --verify bookkeeping of a completed I/O. */
static void verify_done(struct perf_channel *ch, struct perf_io *io, int status)
{
	struct perf_target *t = ch->tgt;
	uint32_t *e = &t->vtable[io->slot];
	uint32_t gen = *e & PERF_V_GEN, bad;

	*e &= ~PERF_V_BUSY;
	if (!io->is_read) {
		*e = status == 0 ? io->gen : PERF_V_UNKNOWN;
		if (status == 0 && ch->w->loopback)
			*e |= PERF_V_BUSY; /* until its read back is queued */
		return;
	}
	if (status != 0 || (*e & PERF_V_REPORTED))
		return;
	if (gen == 0 || gen == PERF_V_UNKNOWN) {
		ch->st->unchecked_blocks += t->io_blocks;
		return;
	}
	ch->st->verified_blocks += t->io_blocks;
	bad = perf_verify_read(&ch->w->mm, io->buf, t->info.block_size, t->io_blocks,
			       t->first_lba + io->slot * t->io_blocks, gen, ch->w->seed, t->index);
	if (bad != 0) {
		ch->st->mismatched_blocks += bad;
		*e |= PERF_V_REPORTED;
	}
}

/* --verify-only: check a completed read against the run's seed. */
static void verify_only_done(struct perf_channel *ch, struct perf_io *io, int status)
{
	struct perf_target *t = ch->tgt;
	struct perf_stats *st = ch->st;
	uint32_t *e = &t->vtable[io->slot];
	struct perf_vo_counts c = { 0, 0, 0, 0 };

	if (status != 0 || (*e & PERF_V_REPORTED))
		return;
	perf_verify_only_read(&ch->w->mm, io->buf, t->info.block_size, t->io_blocks,
			      t->first_lba + io->slot * t->io_blocks, ch->w->seed, ch->w->verify_every, t->index, &c);
	st->verified_blocks += c.checked;
	st->unchecked_blocks += t->io_blocks - c.checked;
	st->unsigned_blocks += c.unsigned_blocks;
	st->other_seed_blocks += c.other_seed;
	if (c.bad != 0) {
		st->mismatched_blocks += c.bad;
		*e |= PERF_V_REPORTED;
	}
}

void perf_io_done(void *arg, int status)
{
	struct perf_io *io = arg;
	struct perf_channel *ch = io->ch;
	struct perf_worker *w = ch->w;
	struct perf_stats *st = ch->st;
	uint64_t now = vpio_get_ticks();
	uint32_t bytes = ch->tgt->io_blocks * ch->tgt->info.block_size;

	if (ch->tgt->vtable != NULL) {
		if (w->verify_only)
			verify_only_done(ch, io, status);
		else
			verify_done(ch, io, status);
	}
	if (status != 0) {
		if (st->errors++ == 0)
			st->first_error = status;
		ch->failed = ch->failed ? ch->failed : status;
	} else {
		if (io->is_read)
			relaxed_add(&w->done_reads, 1);
		else
			relaxed_add(&w->done_writes, 1);
		relaxed_add(&w->done_bytes, bytes);
		if (w->counting) {
			if (io->is_read) {
				st->m.reads++;
				st->m.bytes_read += bytes;
			} else {
				st->m.writes++;
				st->m.bytes_written += bytes;
			}
			perf_hist_add(&st->m.lat, now - io->submit_tick);
		}
	}
	io->readback = w->loopback && !io->is_read && status == 0 && !w->stopping && ch->failed == 0;
	if (w->stopping || ch->failed != 0 || ch->left == 0) {
		if (ch->tgt->vtable != NULL && w->loopback && !io->is_read)
			ch->tgt->vtable[io->slot] &= ~PERF_V_BUSY;
		ch->idle[ch->n_idle++] = io;
		return;
	}
	submit_io(ch, io, now);
}

/* Queue every idle context of the channel (until one does not go). */
static void submit_idle(struct perf_channel *ch, uint64_t now)
{
	while (ch->n_idle > 0 && ch->failed == 0 && ch->left > 0) {
		struct perf_io *io = ch->idle[--ch->n_idle];

		if (submit_io(ch, io, now) != 0)
			break;
	}
}

static void start_counting(struct perf_worker *w, uint64_t now)
{
	for (unsigned t = 0; t < w->run->n_targets; t++) {
		struct perf_stats *st = w->st[t];

		if (st == NULL)
			continue;
		st->m.reads = st->m.writes = st->m.bytes_read = st->m.bytes_written = 0;
		perf_hist_reset(&st->m.lat);
	}
	w->counting = true;
	w->count_start = now;
}

static void take_sample(struct perf_worker *w, uint64_t now)
{
	struct perf_sample *s;

	if (w->n_samples == w->cap_samples)
		return;
	s = &w->samples[w->n_samples];
	s->tick = now;
	s->reads = w->done_reads;
	s->writes = w->done_writes;
	s->bytes = w->done_bytes;
	__atomic_store_n(&w->n_samples, w->n_samples + 1, __ATOMIC_RELEASE);
}

/* Poll every live channel once; returns the completions seen. */
static int poll_all(struct perf_worker *w, uint64_t now)
{
	int got = 0;

	for (unsigned i = 0; i < w->n_ch; i++) {
		struct perf_channel *ch = &w->ch[i];
		int rc;

		if (ch->dead)
			continue;
		rc = ch->ops->poll(ch);
		if (rc > 0) {
			got += rc;
		} else if (rc < 0 && rc != -EAGAIN) {
			ch->dead = true;
			ch->failed = ch->failed ? ch->failed : rc;
			if (ch->st->first_error == 0)
				ch->st->first_error = rc;
		}
		if (ch->n_idle > 0 && !w->stopping)
			submit_idle(ch, now);
	}
	return got;
}

/* Every channel failed, or finished its one pass with nothing in flight. */
static bool all_done(const struct perf_worker *w)
{
	for (unsigned i = 0; i < w->n_ch; i++) {
		const struct perf_channel *ch = &w->ch[i];

		if (ch->failed == 0 && (ch->left != 0 || ch->n_idle < w->run->o->qd))
			return false;
	}
	return true;
}

static uint32_t outstanding(const struct perf_worker *w)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < w->n_ch; i++) {
		if (!w->ch[i].dead)
			n += w->ch[i].ops->outstanding(&w->ch[i]);
	}
	return n;
}

/* After the run: wait (bounded) for what is in flight, then destroy the
 * channels on this, their owner thread. */
static void drain(struct perf_worker *w)
{
	uint64_t deadline = vpio_get_ticks() + (uint64_t)PERF_DRAIN_SECONDS * w->run->hz;

	w->stopping = true;
	while (outstanding(w) > 0 && vpio_get_ticks() < deadline)
		poll_all(w, vpio_get_ticks());
	w->lost_ios = outstanding(w);
	for (unsigned i = 0; i < w->n_ch; i++)
		w->ch[i].ops->destroy(&w->ch[i]);
}

static int worker_main(void *arg)
{
	struct perf_worker *w = arg;
	struct perf_run *r = w->run;
	uint64_t now = vpio_get_ticks(), prev, next_sample = r->t0 + r->hz;
	char name[16];

	/* thread names mark the measured loop for test/func/nosyscall.sh */
	snprintf(name, sizeof(name), "perf-io-%u", w->core);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	if (now >= r->t_measure)
		start_counting(w, now);
	for (unsigned i = 0; i < w->n_ch; i++)
		submit_idle(&w->ch[i], now);
	for (;;) {
		int got = poll_all(w, now);

		prev = now;
		now = vpio_get_ticks();
		if (!w->counting)
			;
		else if (got > 0)
			w->busy_ticks += now - prev;
		else
			w->idle_ticks += now - prev;
		w->loops += w->counting;
		if (now >= next_sample) {
			take_sample(w, now);
			next_sample += r->hz;
		}
		if (!w->counting && now >= r->t_measure)
			start_counting(w, now);
		if (now >= r->t_end || g_stop || all_done(w))
			break;
	}
	if (!w->counting) /* stopped during the warm-up: an empty window */
		w->count_start = now;
	w->counting = false;
	w->count_end = now;
	snprintf(name, sizeof(name), "perf-end-%u", w->core);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	drain(w);
	return 0;
}

int perf_engine_run(struct perf_run *r)
{
	char main_name[16] = "";
	uint64_t warm = (uint64_t)(r->o->warmup * (double)r->hz);

	prctl(PR_GET_NAME, main_name, 0, 0, 0);
	r->t0 = vpio_get_ticks();
	r->t_measure = r->t0 + warm;
	r->t_end = r->t_measure + (uint64_t)(r->o->seconds * (double)r->hz);
	perf_progress_start(r);
	for (unsigned i = 1; i < r->n_workers; i++)
		r->w[i].launched = vpio_env_launch_on(r->w[i].core, worker_main, &r->w[i]) == 0;
	r->w[0].launched = true;
	worker_main(&r->w[0]);
	vpio_env_wait_workers();
	r->t_done = vpio_get_ticks();
	perf_progress_stop();
	prctl(PR_SET_NAME, main_name, 0, 0, 0);
	for (unsigned i = 1; i < r->n_workers; i++) {
		if (!r->w[i].launched)
			return PERF_EXIT_FAIL; /* its channels: perf_teardown() */
	}
	return PERF_EXIT_OK;
}
