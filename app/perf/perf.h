/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: the shared state.
 *
 *   main.c     the order of things and the exit status
 *   options.c  the command line (options.h)
 *   target.c   default target, opening and checking targets, channels,
 *              buffers: everything allocated before the run
 *   xdma.c     XDMA card targets (-w h2c, c2h, loopback): a channel pair
 *              per core through lib/xdma
 *   engine.c   the worker threads' I/O loop
 *   hist.c     latency histogram (hist.h)
 *   verify.c   block signatures (verify.h)
 *   stats.c    adding up workers' numbers; per-second samples
 *   report.c   progress line and the final table
 *   json.c     --json
 *   machine.c  machine facts for --json
 *
 * Threads: one worker per core of -c (the main core is one of them); each
 * owns its channels, their I/O contexts and its statistics, and shares
 * nothing writable with the others except relaxed progress counters.  A
 * plain thread prints the progress line when stdout is a terminal.
 */
#ifndef VPIO_PERF_H
#define VPIO_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vpio/blk.h>
#include <vpio/xdma.h>

#include "hist.h"
#include "options.h"
#include "verify.h"

enum { PERF_EXIT_OK = 0, PERF_EXIT_FAIL = 1, PERF_EXIT_BAD = 2 };

#define PERF_MAX_TARGETS 256
/* --verify keeps one 32-bit entry per I/O-sized slot; beyond this many
 * slots it uses the first ones (said so). */
#define PERF_VERIFY_MAX_SLOTS (1ULL << 26)
/* Mismatches kept in detail per worker (all are counted). */
#define PERF_MISMATCH_KEEP 64u
/* How long the end of a run waits for outstanding I/Os. */
#define PERF_DRAIN_SECONDS 10

struct perf_target {
	struct vpio_blk_target *t;
	struct vpio_blk_info info;
	const char *addr;	/* the -a it came from */
	unsigned index;
	uint32_t io_blocks;	/* blocks per I/O */
	uint64_t first_lba;	/* --range START in blocks (0: the target's start) */
	uint64_t slots;		/* I/O-sized units that are used, from first_lba */
	unsigned n_channels;	/* channels on it, all cores */
	uint32_t *vtable;	/* --verify, --verify-only: one entry per slot */
	const char *io_api;	/* "nvme-batch" or "blk": how its channels do I/O */
	struct vpio_xdma_dev *xdev; /* an XDMA card (xdma.c); t is then NULL and
				 * info describes card memory in 512-byte
				 * blocks, backend "xdma" */
	uint64_t xmem_base;	/* AXI address of card memory */
	char xname[64];
};

/* Numbers of one worker on one target.  `m` is reset when the warm-up
 * ends; the rest covers the whole run. */
struct perf_stats {
	struct {
		uint64_t reads, writes, bytes_read, bytes_written;
		struct perf_hist lat; /* ticks */
	} m;
	uint64_t errors;	  /* I/Os that failed (whole run) */
	int first_error;	  /* its errno (negative) */
	uint64_t verified_blocks; /* blocks read and checked */
	uint64_t unchecked_blocks;/* blocks read and not checked: this run never
				   * wrote them (--verify), no signature of
				   * this seed (--verify-only) */
	uint64_t unsigned_blocks; /* --verify-only: no signature */
	uint64_t other_seed_blocks; /* --verify-only: another seed's signature */
	uint64_t mismatched_blocks;
};

struct perf_channel;
struct perf_nvme_batch;

/* One I/O context: a queue slot with its buffer. */
struct perf_io {
	struct perf_channel *ch;
	uint8_t *buf;
	uint64_t slot;
	uint64_t submit_tick;
	uint32_t gen;		/* --verify: generation written */
	bool is_read;
	bool readback;		/* -w loopback: next, read this slot back */
};

struct perf_worker;

/* How a channel moves I/Os: lib/blk (engine.c) or an XDMA channel pair
 * (xdma.c).  submit queues one I/O of the target's io_blocks at lba with
 * perf_io_done() as its callback (0 or a negative errno, -EAGAIN: retry
 * after a poll); poll reaps (count or negative errno); outstanding counts
 * what is queued or in flight; destroy releases the channel (NULL-safe).
 * All on the channel's thread. */
struct perf_chan_ops {
	int (*submit)(struct perf_channel *ch, struct perf_io *io, uint64_t lba);
	int (*poll)(struct perf_channel *ch);
	uint32_t (*outstanding)(const struct perf_channel *ch);
	void (*destroy)(struct perf_channel *ch);
};

struct perf_channel {
	struct perf_worker *w;
	struct perf_target *tgt;
	struct perf_stats *st;	/* the worker's numbers for tgt */
	const struct perf_chan_ops *ops;
	struct vpio_blk_channel *bch;
	struct perf_nvme_batch *nb; /* NVMe batches (nvme_batch.c), or NULL */
	struct vpio_xdma_chan *xh2c, *xc2h; /* XDMA: this core's pair (NULL: not used) */
	struct perf_io *ios;	/* qd contexts */
	struct perf_io **idle;	/* contexts not in flight */
	uint32_t n_idle;
	uint8_t *buf;		/* vpio_blk_buf_alloc(): qd * stride bytes */
	uint64_t range_start, range_len; /* slots drawn from */
	uint64_t seq_next;
	uint64_t left;		/* one pass (--verify-only -w read): slots not yet
				 * submitted; else UINT64_MAX */
	int failed;		/* negative errno: no more submissions */
	bool dead;		/* polling it failed: not polled any more */
};

/* Cumulative counters at one second boundary (warm-up included). */
struct perf_sample {
	uint64_t tick;
	uint64_t reads, writes, bytes;
};

struct perf_run;

struct perf_worker {
	struct perf_run *run;
	unsigned index;		/* 0 = main core */
	unsigned core;
	bool launched;
	/* copies of the run's parameters, next to the state they steer */
	uint32_t read_pct;	/* 0..100 */
	bool random;
	bool verify_only;	/* --verify-only */
	bool verify_every;	/* --verify-min all: every block must be signed */
	bool loopback;		/* -w loopback: each write is read back */
	uint64_t seed;
	uint64_t rng;
	struct perf_channel *ch;
	unsigned n_ch;
	struct perf_stats **st;	/* [n_targets]; NULL where it has no channel */
	/* run state, this thread only */
	bool counting, stopping;
	uint64_t count_start, count_end; /* ticks of the measured window */
	uint64_t busy_ticks, idle_ticks, loops;
	uint64_t lost_ios;	/* still outstanding after the drain */
	struct perf_mismatch_log mm;
	/* whole-run counters; read by the progress thread (relaxed atomics) */
	uint64_t done_reads, done_writes, done_bytes;
	struct perf_sample *samples;
	unsigned n_samples, cap_samples;
};

struct perf_run {
	struct perf_opts *o;
	int argc;
	char **argv;		/* the command line as given */
	struct perf_target *tg;
	unsigned n_targets;
	struct perf_worker *w;
	unsigned n_workers;
	uint64_t hz;
	uint64_t t0, t_measure, t_end; /* ticks: start, end of warm-up, end */
	uint64_t t_done;	/* every worker finished */
	bool default_target;	/* no -a */
	bool xdma;		/* the targets are XDMA cards */
	int exit_status;
};

/* target.c */
/* Open and check every target, create channels and buffers.  Returns
 * PERF_EXIT_OK, or PERF_EXIT_BAD / PERF_EXIT_FAIL after one line (and
 * with everything that was set up released). */
int perf_setup(struct perf_run *r);
/* Release what perf_setup() made (channels already destroyed by workers
 * are skipped). */
void perf_teardown(struct perf_run *r);
/* The first NVMe controller bound to vfio-pci, else "emu:nvme". */
const char *perf_default_address(char *buf, unsigned len);
/* DMA memory the run needs, in MiB, for n targets (an estimate made
 * before the targets are open). */
uint64_t perf_memory_mb(const struct perf_opts *o, unsigned n_targets);

/* engine.c */
/* Run every worker (the main core's on this thread); returns when all are
 * done and their channels are destroyed. */
int perf_engine_run(struct perf_run *r);
/* Ask the workers to end early (signal-safe). */
void perf_engine_stop(void);
/* The completion of an I/O (arg: its struct perf_io); status 0 or a
 * negative errno.  The channel's thread. */
void perf_io_done(void *arg, int status);
extern const struct perf_chan_ops perf_blk_ops;

/* nvme_batch.c */
extern const struct perf_chan_ops perf_nvme_batch_ops;
/* Drive the NVMe qpair under ch->bch with batch calls (ch->ops set): 0,
 * -ENOTSUP when a context's buffer is not one IOVA run or the I/O is
 * larger than one command (the channel stays on lib/blk), -ENOMEM. */
int perf_nvme_batch_attach(struct perf_channel *ch, uint32_t qd, uint64_t io_bytes);

/* xdma.c */
/* true when addr names an XDMA card: "emu:xdma..." or a PCI device of
 * vendor 0x10ee. */
bool perf_xdma_is_card(const char *addr);
/* Attach the card of t->addr and describe it in t->info.  PERF_EXIT_*
 * after one line. */
int perf_xdma_open(struct perf_target *t);
/* What the options ask of the card (t->n_channels known). */
int perf_xdma_check(const struct perf_run *r, const struct perf_target *t);
/* Open channel pair k on ch (ch->tgt set). */
int perf_xdma_channel_create(const struct perf_run *r, struct perf_channel *ch, unsigned k);

/* stats.c */
struct perf_total {
	uint64_t reads, writes, bytes_read, bytes_written, errors;
	uint64_t verified, unchecked, mismatched, unsigned_blocks, other_seed;
	double seconds;		/* measured window (longest of the parts) */
	double iops, mib_s;	/* sum over the parts of each one's rate */
	struct perf_hist lat;
};
/* Sum of a worker's numbers on a target (target < 0: all its targets;
 * worker < 0: all workers on the target; both < 0: everything). */
void perf_total(const struct perf_run *r, int worker, int target, struct perf_total *t);
/* Number of per-second samples all workers have, and the run's sample i
 * summed over workers: seconds since start, IOPS and MiB/s in that
 * second. */
unsigned perf_samples(const struct perf_run *r);
void perf_sample_at(const struct perf_run *r, unsigned i, double *t, double *iops, double *mib_s, double *read_iops);
/* What verifying found on target k, for --verify-min and the reports. */
struct perf_vtarget {
	struct perf_total t;	/* target k, all workers */
	bool one_pass;		/* --verify-only -w read: its range read once */
	uint64_t range_blocks;	/* blocks in its slots */
	uint64_t pass_blocks;	/* one pass: blocks of the range read */
	bool min_met;		/* --verify-min met (true without it) */
	bool pass_failed;	/* --one-pass given and the pass not finished */
};
void perf_verify_target(const struct perf_run *r, unsigned k, struct perf_vtarget *v);
/* true when the run failed: I/O errors, stopped channels, lost I/Os,
 * verify mismatches, --verify-min not met, a --one-pass not finished, a
 * worker that did not start. */
bool perf_failed(const struct perf_run *r);
/* Ticks -> microseconds. */
double perf_us(const struct perf_run *r, uint64_t ticks);

/* report.c */
void perf_print_header(const struct perf_run *r);
void perf_print_table(const struct perf_run *r);
void perf_print_failures(const struct perf_run *r);
/* The progress thread: start (only when stdout is a terminal) and stop. */
void perf_progress_start(struct perf_run *r);
void perf_progress_stop(void);

/* json.c */
/* Open (create or truncate) the --json file before anything else runs;
 * NULL after one line.  *created: it did not exist before. */
FILE *perf_json_open(const char *path, bool *created);
/* Write the report; PERF_EXIT_OK or PERF_EXIT_FAIL after one line. */
int perf_json_write(const struct perf_run *r, FILE *f);

/* machine.c */
struct perf_machine {
	char cpu_model[128];
	unsigned cpus;
	char kernel[400];
	char hostname[128];
	bool vfio;
	bool hugepages;
	int iommu_groups;	/* -1 when not known */
	bool iommu_info;	/* the fields below are valid */
	bool noiommu;
	uint64_t pgsize_bitmap;
	uint32_t dma_avail;	/* UINT32_MAX when not reported */
	bool cache_coherent;
	const char *iova_mode;
};
void perf_machine(struct perf_machine *m, bool pci_target_open);

#endif
