/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: targets, channels and buffers - everything the run needs,
 * made and checked before the first I/O, so that bad input leaves every
 * device untouched.
 *
 * Targets are spread over the cores as spdk_nvme_perf does: with T targets
 * and C cores, pair i of max(T, C) gives target i % T to core i % C; every
 * pair gets -P channels.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/env.h>
#include <vpio/pci.h>

#include "perf.h"
#include "rng.h"

#define MIB (1024.0 * 1024.0)

struct first_ctx {
	char *buf;
	unsigned len;
};

static int first_bound(void *arg, const struct vpio_pci_info *info)
{
	struct first_ctx *f = arg;

	if (info->class_code != VPIO_PCI_CLASS_NVME || strcmp(info->driver, "vfio-pci") != 0)
		return 0;
	vpio_pci_addr_fmt(f->buf, f->len, &info->addr);
	return 1;
}

const char *perf_default_address(char *buf, unsigned len)
{
	struct first_ctx f = { buf, len };

	if (vpio_pci_enumerate(first_bound, &f) != 1)
		snprintf(buf, len, "emu:nvme");
	return buf;
}

static uint64_t stride_of(uint64_t io_size, uint32_t align)
{
	uint64_t a = align > 4096 ? align : 4096;

	return (io_size + a - 1) / a * a;
}

uint64_t perf_memory_mb(const struct perf_opts *o, unsigned n_targets)
{
	uint64_t pairs = n_targets > o->n_cores ? n_targets : o->n_cores;
	double per_ch = (double)o->qd * ((double)stride_of(o->io_size, 4096) + 4608.0) + 2 * MIB;

	return (uint64_t)((double)pairs * o->channels * per_ch / MIB) + 64;
}

/* Exit status for a target that could not be opened. */
static int open_status(int rc)
{
	return rc == -EIO || rc == -ETIMEDOUT || rc == -ENOMEM || rc == -EFAULT ? PERF_EXIT_FAIL : PERF_EXIT_BAD;
}

/* One line on stderr; PERF_EXIT_BAD. */
#define bad(...) (perf_bad(__VA_ARGS__), PERF_EXIT_BAD)

static int open_targets(struct perf_run *r)
{
	r->xdma = perf_xdma_is_card(r->o->addrs[0]);
	for (unsigned a = 0; a < r->o->n_addrs; a++) {
		if (perf_xdma_is_card(r->o->addrs[a]) != r->xdma)
			return bad("-a '%s' and -a '%s': an XDMA card and a block target cannot run together", r->o->addrs[0],
				   r->o->addrs[a]);
	}
	if (r->xdma && !perf_workload_xdma(r->o->workload))
		return bad("-w %s: -a '%s' is an XDMA card; it takes -w h2c, c2h or loopback",
			   perf_workload_name(r->o->workload), r->o->addrs[0]);
	if (!r->xdma && perf_workload_xdma(r->o->workload))
		return bad("-w %s: for XDMA cards (-a emu:xdma, a PCI device of vendor 0x10ee); -a '%s' is a block target",
			   perf_workload_name(r->o->workload), r->o->addrs[0]);
	for (unsigned a = 0; a < r->o->n_addrs && r->xdma; a++) {
		struct perf_target *t = &r->tg[r->n_targets];
		int rc;

		t->addr = r->o->addrs[a];
		t->index = r->n_targets++;
		rc = perf_xdma_open(t);
		if (rc != PERF_EXIT_OK)
			return rc;
	}
	for (unsigned a = 0; a < r->o->n_addrs && !r->xdma; a++) {
		struct vpio_blk_target *ts[PERF_MAX_TARGETS];
		unsigned n = 0;
		int rc = vpio_blk_open(r->o->addrs[a], NULL, ts, PERF_MAX_TARGETS - r->n_targets, &n);

		if (rc != 0) {
			fprintf(stderr, "vpio-perf: -a '%s': cannot open it (see the line above)\n", r->o->addrs[a]);
			return open_status(rc);
		}
		for (unsigned i = 0; i < n; i++) {
			struct perf_target *t = &r->tg[r->n_targets];

			t->t = ts[i];
			t->addr = r->o->addrs[a];
			t->index = r->n_targets++;
			rc = vpio_blk_get_info(t->t, &t->info);
			if (rc != 0) {
				fprintf(stderr, "vpio-perf: -a '%s': no target facts (see the line above)\n", t->addr);
				return PERF_EXIT_FAIL;
			}
		}
	}
	return PERF_EXIT_OK;
}

/* --range on one target (io_blocks known): its first LBA and slots. */
static int check_range(const struct perf_opts *o, struct perf_target *t)
{
	const struct vpio_blk_info *in = &t->info;
	uint64_t size = in->num_blocks * in->block_size, len;

	if (!o->range_given) {
		t->first_lba = 0;
		t->slots = in->num_blocks / t->io_blocks;
		if (t->slots == 0)
			return bad("-o %" PRIu64 ": larger than %s (%" PRIu64 " bytes)", o->io_size, in->name, size);
		return PERF_EXIT_OK;
	}
	if (o->range_start % in->block_size != 0)
		return bad("--range START %" PRIu64 ": not a multiple of the block size of %s (%u bytes)", o->range_start,
			   in->name, in->block_size);
	if (o->range_start >= size)
		return bad("--range START %" PRIu64 ": at or beyond the end of %s (%" PRIu64 " bytes)", o->range_start,
			   in->name, size);
	len = o->range_len ? o->range_len : size - o->range_start;
	if (len > size - o->range_start)
		return bad("--range %" PRIu64 ":%" PRIu64 ": beyond the end of %s (%" PRIu64 " bytes)", o->range_start,
			   o->range_len, in->name, size);
	t->first_lba = o->range_start / in->block_size;
	t->slots = len / o->io_size;
	if (t->slots == 0)
		return bad("-o %" PRIu64 ": larger than the range of %s (%" PRIu64 " bytes from byte %" PRIu64 ")",
			   o->io_size, in->name, len, o->range_start);
	return PERF_EXIT_OK;
}

/* What the options ask of one target, before anything is written. */
static int check_target(const struct perf_run *r, struct perf_target *t)
{
	const struct perf_opts *o = r->o;
	const struct vpio_blk_info *in = &t->info;
	uint64_t per_ch;
	int rc;

	if (in->read_only && o->read_pct < 100)
		return bad("-w %s writes, but %s is read-only", perf_workload_name(o->workload), in->name);
	if (o->io_size % in->block_size != 0)
		return bad("-o %" PRIu64 ": not a multiple of the block size of %s (%u bytes)", o->io_size, in->name,
			   in->block_size);
	if (o->io_size > in->max_transfer_bytes)
		return bad("-o %" PRIu64 ": %s takes at most %u bytes per I/O", o->io_size, in->name,
			   in->max_transfer_bytes);
	t->io_blocks = (uint32_t)(o->io_size / in->block_size);
	rc = check_range(o, t);
	if (rc != PERF_EXIT_OK)
		return rc;
	if ((o->verify_only || o->one_pass) && t->slots < t->n_channels)
		return bad("%s: %s has %" PRIu64 " slots of %" PRIu64
			   " bytes for %u channels; each needs one: lower -P or the cores, or widen --range",
			   o->one_pass ? "--one-pass" : "--verify-only", in->name, t->slots, o->io_size, t->n_channels);
	if (o->qd > in->max_queue_depth)
		return bad("-q %u: %s holds at most %u I/Os per channel", o->qd, in->name, in->max_queue_depth);
	per_ch = (uint64_t)o->qd * stride_of(o->io_size, in->buf_align);
	if (per_ch > VPIO_BLK_BUF_MAX)
		return bad("-q %u with -o %" PRIu64 " needs %.0f MiB of buffers per channel; at most %.0f MiB: lower -q or -o",
			   o->qd, o->io_size, (double)per_ch / MIB, (double)VPIO_BLK_BUF_MAX / MIB);
	if (o->verify || o->verify_only) {
		if (t->slots > PERF_VERIFY_MAX_SLOTS) {
			printf("vpio-perf: --verify%s on %s uses its first %llu I/O-sized slots (%.1f GiB), not all %" PRIu64
			       "\n", o->verify_only ? "-only" : "", in->name, PERF_VERIFY_MAX_SLOTS,
			       (double)PERF_VERIFY_MAX_SLOTS * (double)o->io_size / (MIB * 1024), t->slots);
			t->slots = PERF_VERIFY_MAX_SLOTS;
		}
		if (o->verify && t->slots / t->n_channels <= o->qd)
			return bad("--verify: %s has %" PRIu64 " slots of %" PRIu64
				   " bytes for %u channel%s; each needs more than -q %u: lower -q, -P or the cores",
				   in->name, t->slots, o->io_size, t->n_channels, t->n_channels == 1 ? "" : "s", o->qd);
	}
	return PERF_EXIT_OK;
}

/* Pair i of max(T, C): core i % C, target i % T. */
static void assign(struct perf_run *r, unsigned *per_worker)
{
	unsigned pairs = r->n_targets > r->n_workers ? r->n_targets : r->n_workers;

	memset(per_worker, 0, sizeof(unsigned) * r->n_workers);
	for (unsigned i = 0; i < pairs; i++) {
		per_worker[i % r->n_workers] += r->o->channels;
		r->tg[i % r->n_targets].n_channels += r->o->channels;
	}
}

static int alloc_workers(struct perf_run *r)
{
	unsigned cap = (unsigned)(r->o->warmup + r->o->seconds) + 3;

	r->n_workers = r->o->n_cores;
	r->w = calloc(r->n_workers, sizeof(*r->w));
	if (r->w == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < r->n_workers; i++) {
		struct perf_worker *w = &r->w[i];

		w->run = r;
		w->index = i;
		w->core = vpio_env_core_nth(i);
		w->read_pct = r->o->read_pct;
		w->random = perf_workload_random(r->o->workload);
		w->verify_only = r->o->verify_only;
		w->verify_every = r->o->verify_min_all;
		w->loopback = r->o->workload == PERF_LOOPBACK;
		w->seed = r->o->seed;
		w->rng = perf_rng_seed(r->o->seed, i);
		w->st = calloc(r->n_targets, sizeof(*w->st));
		w->samples = calloc(cap, sizeof(*w->samples));
		w->cap_samples = cap;
		w->mm.rec = calloc(PERF_MISMATCH_KEEP, sizeof(*w->mm.rec));
		w->mm.cap = PERF_MISMATCH_KEEP;
		if (w->st == NULL || w->samples == NULL || w->mm.rec == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* --io-api: NVMe targets use lib/nvme's batch calls (the faster path,
 * doc/perf.md) unless asked for lib/blk or an I/O does not fit them. */
static int use_nvme_batch(struct perf_run *r, struct perf_channel *ch)
{
	struct perf_target *t = ch->tgt;
	bool nvme = strcmp(t->info.backend, "nvme") == 0;
	int rc;

	if (r->o->io_api == PERF_API_BLK || !nvme) {
		if (r->o->io_api == PERF_API_NVME_BATCH)
			return bad("--io-api nvme-batch: %s is a %s target; the batch calls are for NVMe targets "
				   "(give --io-api auto or blk)", t->info.name, t->info.backend);
		t->io_api = "blk";
		return PERF_EXIT_OK;
	}
	rc = perf_nvme_batch_attach(ch, r->o->qd, r->o->io_size);
	if (rc == 0) {
		if (t->io_api == NULL)
			t->io_api = "nvme-batch";
		return PERF_EXIT_OK;
	}
	if (rc == -ENOTSUP && r->o->io_api == PERF_API_AUTO) {
		t->io_api = "blk";
		return PERF_EXIT_OK;
	}
	return rc == -ENOTSUP ? bad("--io-api nvme-batch: -o %llu is more than one command of %s or its buffers are "
				    "not contiguous for the device: give --io-api blk or a smaller -o",
				    (unsigned long long)r->o->io_size, t->info.name)
			      : bad("out of memory for the batch state of a channel of %s", t->info.name);
}

/* One channel of worker w on target t, the k-th of the target's. */
static int make_channel(struct perf_run *r, struct perf_worker *w, struct perf_target *t, unsigned k)
{
	struct perf_channel *ch = &w->ch[w->n_ch];
	uint64_t stride = stride_of(r->o->io_size, t->info.buf_align);
	uint32_t qd = r->o->qd;
	int rc;

	ch->w = w;
	ch->tgt = t;
	w->n_ch++; /* from here on perf_teardown() frees it */
	if (w->st[t->index] == NULL) {
		w->st[t->index] = calloc(1, sizeof(struct perf_stats));
		if (w->st[t->index] == NULL)
			return PERF_EXIT_FAIL;
		perf_hist_reset(&w->st[t->index]->m.lat);
	}
	ch->st = w->st[t->index];
	ch->ios = calloc(qd, sizeof(*ch->ios));
	ch->idle = calloc(qd, sizeof(*ch->idle));
	if (ch->ios == NULL || ch->idle == NULL)
		return bad("out of memory for %u I/O contexts", qd);
	ch->buf = vpio_blk_buf_alloc(qd * stride);
	if (ch->buf == NULL)
		return bad("cannot allocate %.1f MiB of I/O buffers for a channel of %s (see the line above): lower -q, -o, -P or the cores, or reserve more hugepages (HUGEMEM= scripts/setup.sh)",
			   (double)(qd * stride) / MIB, t->info.name);
	/* touch every page now, not during the run; a pattern, not zeroes */
	memset(ch->buf, 0xa5, qd * stride);
	for (uint32_t i = 0; i < qd; i++) {
		ch->ios[i].ch = ch;
		ch->ios[i].buf = ch->buf + i * stride;
		ch->idle[ch->n_idle++] = &ch->ios[qd - 1 - i];
	}
	if (r->o->verify || r->o->verify_only || r->o->one_pass) {
		ch->range_start = t->slots * k / t->n_channels;
		ch->range_len = t->slots * (k + 1) / t->n_channels - ch->range_start;
		ch->seq_next = ch->range_start;
	} else {
		ch->range_start = 0;
		ch->range_len = t->slots;
		ch->seq_next = t->slots * k / t->n_channels;
	}
	ch->left = r->o->one_pass ? ch->range_len : UINT64_MAX;
	if (t->xdev != NULL)
		return perf_xdma_channel_create(r, ch, k);
	ch->ops = &perf_blk_ops;
	rc = vpio_blk_channel_create(t->t, qd, &ch->bch);
	if (rc != 0) {
		fprintf(stderr, "vpio-perf: cannot create channel %u of %u on %s (see the line above)%s\n", k + 1,
			t->n_channels, t->info.name,
			rc == -EBUSY || rc == -ENOSPC ? ": it has fewer queues; lower -P or the cores" : "");
		return rc == -EBUSY || rc == -ENOSPC || rc == -EINVAL ? PERF_EXIT_BAD : PERF_EXIT_FAIL;
	}
	return use_nvme_batch(r, ch);
}

static int make_channels(struct perf_run *r, const unsigned *per_worker)
{
	unsigned pairs = r->n_targets > r->n_workers ? r->n_targets : r->n_workers;
	unsigned *next_k = calloc(r->n_targets, sizeof(unsigned));
	int rc = PERF_EXIT_OK;

	for (unsigned i = 0; i < r->n_workers && next_k != NULL; i++) {
		r->w[i].ch = calloc(per_worker[i], sizeof(struct perf_channel));
		if (r->w[i].ch == NULL)
			rc = PERF_EXIT_FAIL;
	}
	if (next_k == NULL || rc != PERF_EXIT_OK) {
		free(next_k);
		fprintf(stderr, "vpio-perf: out of memory for channels\n");
		return PERF_EXIT_FAIL;
	}
	for (unsigned i = 0; i < pairs && rc == PERF_EXIT_OK; i++) {
		struct perf_target *t = &r->tg[i % r->n_targets];

		for (unsigned p = 0; p < r->o->channels && rc == PERF_EXIT_OK; p++)
			rc = make_channel(r, &r->w[i % r->n_workers], t, next_k[t->index]++);
	}
	free(next_k);
	return rc;
}

int perf_setup(struct perf_run *r)
{
	unsigned *per_worker;
	int rc;

	r->tg = calloc(PERF_MAX_TARGETS, sizeof(*r->tg));
	if (r->tg == NULL)
		return bad("out of memory");
	rc = open_targets(r);
	if (rc != PERF_EXIT_OK)
		return rc;
	if (alloc_workers(r) != 0)
		return bad("out of memory for %u workers", r->o->n_cores);
	per_worker = calloc(r->n_workers, sizeof(unsigned));
	if (per_worker == NULL)
		return bad("out of memory");
	assign(r, per_worker);
	for (unsigned i = 0; i < r->n_targets && rc == PERF_EXIT_OK; i++) {
		if (r->tg[i].xdev != NULL)
			rc = perf_xdma_check(r, &r->tg[i]);
		if (rc == PERF_EXIT_OK)
			rc = check_target(r, &r->tg[i]);
	}
	for (unsigned i = 0; i < r->n_targets && rc == PERF_EXIT_OK && (r->o->verify || r->o->verify_only); i++) {
		r->tg[i].vtable = calloc(r->tg[i].slots, sizeof(uint32_t));
		if (r->tg[i].vtable == NULL)
			rc = bad("out of memory for the --verify table of %s (%" PRIu64 " slots)", r->tg[i].info.name,
				 r->tg[i].slots);
	}
	if (rc == PERF_EXIT_OK)
		rc = make_channels(r, per_worker);
	free(per_worker);
	return rc;
}

void perf_teardown(struct perf_run *r)
{
	for (unsigned i = 0; r->w != NULL && i < r->n_workers; i++) {
		struct perf_worker *w = &r->w[i];

		for (unsigned c = 0; c < w->n_ch; c++) {
			if (w->ch[c].ops != NULL)
				w->ch[c].ops->destroy(&w->ch[c]);
			vpio_blk_buf_free(w->ch[c].buf);
			free(w->ch[c].ios);
			free(w->ch[c].idle);
		}
		free(w->ch);
		for (unsigned t = 0; w->st != NULL && t < r->n_targets; t++)
			free(w->st[t]);
		free(w->st);
		free(w->samples);
		free(w->mm.rec);
	}
	free(r->w);
	r->w = NULL;
	for (unsigned i = 0; r->tg != NULL && i < r->n_targets; i++) {
		if (r->tg[i].xdev != NULL)
			vpio_xdma_detach(r->tg[i].xdev);
		else
			vpio_blk_close(r->tg[i].t);
		free(r->tg[i].vtable);
	}
	free(r->tg);
	r->tg = NULL;
	r->n_targets = 0;
}
