/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/blk internals: targets and channels as the backends see them.
 *
 * The generic layer (blk_target.c, blk_channel.c, blk_io.c) checks every
 * argument, owns each channel's pool of request contexts and runs the
 * callbacks; a backend (blk_nvme.c, blk_uring*.c) turns a checked request
 * into a device command and reports each completion with blk_req_done().
 */
#ifndef VPIO_BLK_INTERNAL_H
#define VPIO_BLK_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vpio/blk.h>

#include "util/util.h"

/* Log with VPIO_ERR(BLK_MOD, ...) etc. (util/util.h), as every library. */
#define BLK_MOD "blk"

#define blk_likely(x) __builtin_expect(!!(x), 1)
#define blk_unlikely(x) __builtin_expect(!!(x), 0)

#define BLK_DEFAULT_QUEUE_DEPTH 128u
#define BLK_NAME_MAX 4200 /* "uring:" + PATH_MAX + options */

/* ------------------------------------------------------------- addresses */

enum blk_kind {
	BLK_KIND_PCI,
	BLK_KIND_EMU,
	BLK_KIND_URING,
};

/* A parsed address (blk_addr.c). */
struct blk_addr {
	enum blk_kind kind;
	uint32_t nsid;		  /* PCI/emu: /nsN, 0 = every active namespace */
	char ctrlr_key[64];	  /* PCI/emu: canonical controller, "0000:00:04.0", "emu:nvme0" */
	char attach_name[512];	  /* PCI/emu: what lib/nvme attaches (emu options kept) */
	const char *emu_opts;	  /* emu: the options after '?' inside attach_name, "" if none */
	char path[PATH_MAX];	  /* uring: the file or device */
	int iopoll, sqpoll;	  /* uring: -1 not given, else 0/1 */
	uint32_t bs;		  /* uring: 0 not given, else 512/4096 */
};

/* Parse address into *a; -EINVAL after one line naming what is wrong. */
int blk_addr_parse(const char *address, struct blk_addr *a);

/* --------------------------------------------------------------- targets */

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_WRITE_ZEROES,
	BLK_OP_DEALLOCATE,
};

struct blk_req;

/* What a backend provides.  The generic layer has checked every argument
 * (range, sizes, alignment, read-only) before calling submit_rw/submit_misc;
 * they return 0, -EAGAIN (not logged) or another negative errno (logged by
 * whoever found it). */
struct blk_ops {
	const char *name;
	int (*channel_create)(struct vpio_blk_target *t, uint32_t depth, struct vpio_blk_channel **ch);
	/* Called when nothing is outstanding any more (or, NVMe, to end what
	 * is: the backend completes those requests itself). */
	void (*channel_destroy)(struct vpio_blk_channel *ch);
	int (*submit_rw)(struct vpio_blk_channel *ch, struct blk_req *req, const struct iovec *iov, int iovcnt,
			 uint64_t lba, uint32_t nblocks);
	int (*submit_misc)(struct vpio_blk_channel *ch, struct blk_req *req, uint64_t lba, uint32_t nblocks);
	int (*submit)(struct vpio_blk_channel *ch);
	int (*poll)(struct vpio_blk_channel *ch, uint32_t max);
	/* Fill counters the backend keeps itself (may be NULL). */
	void (*stats)(const struct vpio_blk_channel *ch, struct vpio_blk_channel_stats *st);
	void (*close)(struct vpio_blk_target *t);
	/* The NVMe objects under a channel (NULL: not an NVMe backend). */
	void (*get_nvme)(struct vpio_blk_channel *ch, struct vpio_nvme_ns **ns, struct vpio_nvme_qpair **qp);
};

struct vpio_blk_target {
	const struct blk_ops *ops;
	struct vpio_blk_info info; /* filled by the backend at open */
	char name[BLK_NAME_MAX];   /* info.name points here */
	uint32_t default_depth;	   /* opts.queue_depth, resolved */
	uint32_t iov_len_align;	   /* every iovec length a multiple of this */
	uint32_t channels;	   /* live channels (under blk_lock) */
};

extern pthread_mutex_t blk_lock; /* open/close, channel create/destroy */

/* Copy the caller's opts (opts_size bytes of them) over the defaults and
 * check them; -EINVAL after one line naming address. */
int blk_opts_resolve(const char *address, const struct vpio_blk_opts *in, struct vpio_blk_opts *out);

/* Backends: open the targets of a parsed address. */
int blk_nvme_open(const struct blk_addr *a, const struct vpio_blk_opts *opts, struct vpio_blk_target **targets,
		  unsigned max_targets, unsigned *n_targets);
int blk_uring_open(const struct blk_addr *a, const struct vpio_blk_opts *opts, struct vpio_blk_target **target);

/* -------------------------------------------------------------- channels */

/* A request context: preallocated, one per queue slot of a channel. */
struct blk_req {
	struct blk_req *next_free;
	vpio_blk_cb cb;
	void *arg;
	struct vpio_blk_channel *ch;
	uint32_t len;	/* bytes expected (read/write), for short transfers */
	uint8_t op;	/* enum blk_op */
	uint8_t retried; /* uring write zeroes: fell back to punch hole */
	uint16_t iovcnt; /* uring vectored: elements in iov */
	struct iovec *iov; /* uring: this request's copy of the vector */
	uint64_t lba;	/* uring write zeroes retry */
	uint32_t nblocks;
};

struct vpio_blk_channel {
	struct vpio_blk_target *t;
	const struct blk_ops *ops;
	struct blk_req *reqs;	   /* depth of them */
	struct blk_req *free_list;
	uint32_t depth;
	uint32_t outstanding;
	uint32_t in_callback;	   /* > 0 while one of its callbacks runs */
	struct vpio_blk_channel_stats st;
};

/* Set up the generic part of a channel (allocates the request pool, with
 * iov_per_req iovec slots per request when non-zero). */
int blk_channel_init(struct vpio_blk_channel *ch, struct vpio_blk_target *t, uint32_t depth, uint32_t iov_per_req);
void blk_channel_fini(struct vpio_blk_channel *ch);

/* Report a request's end: the context goes back to the pool, then the
 * callback runs (so it may submit again). */
static inline void blk_req_done(struct vpio_blk_channel *ch, struct blk_req *req, int status)
{
	vpio_blk_cb cb = req->cb;
	void *arg = req->arg;

	req->next_free = ch->free_list;
	ch->free_list = req;
	ch->outstanding--;
	ch->st.completed++;
	if (blk_unlikely(status != 0))
		ch->st.errors++;
	ch->in_callback++;
	cb(arg, status);
	ch->in_callback--;
}

/* --------------------------------------------------------------- buffers */

struct io_uring;

/* A ring that wants every blk buffer as a fixed buffer (blk_buf.c). */
struct blk_buf_ring {
	struct io_uring *ring;
	struct blk_buf_ring *next;
};
/* Register a sparse table of VPIO_BLK_BUF_SLOTS and every live buffer with
 * ring; it then follows allocations and frees until removed. */
int blk_buf_ring_add(struct blk_buf_ring *r);
void blk_buf_ring_remove(struct blk_buf_ring *r);
/* Fixed-buffer slot holding [p, p + len) whole, or -1.  No lock. */
int blk_buf_slot(const void *p, size_t len);

#endif
