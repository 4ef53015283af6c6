/* SPDX-License-Identifier: BSD-3-Clause */
/* The io_uring backend of lib/blk: uring:PATH, a block device or a file. */
#ifndef VPIO_BLK_URING_H
#define VPIO_BLK_URING_H

#include <liburing.h>

#include "blk_internal.h"

#define BLK_URING_MAX_IOV 64u		  /* iovec elements per request (copied) */
#define BLK_URING_MAX_XFER (1u << 30)	  /* bytes per read/write (a fixed buffer's limit) */
#define BLK_URING_FILE_BS 4096u		  /* block size of a file without bs= */

struct blk_uring_target {
	struct vpio_blk_target base;
	int fd;
	bool is_bdev;
	bool iopoll, sqpoll;
	uint32_t sqpoll_idle_ms;
};

struct blk_uring_channel {
	struct vpio_blk_channel base;
	struct io_uring ring;	    /* reads and writes (and all, without iopoll) */
	struct io_uring aux;	    /* iopoll: flush, write zeroes, deallocate
				     * (an IOPOLL ring takes only reads/writes) */
	bool has_aux;
	bool getevents;		    /* iopoll without sqpoll: reaping polls the
				     * device through io_uring_enter() */
	bool no_zero_range;	    /* the filesystem refused ZERO_RANGE: punch
				     * holes for write zeroes */
	uint32_t ring_unsubmitted;  /* SQEs prepared, not yet taken by the kernel */
	uint32_t aux_unsubmitted;
	uint32_t ring_inflight;	    /* requests on `ring` not yet reaped */
	struct blk_buf_ring bufs;   /* `ring` in the fixed-buffer registry */
};

#define UCH(ch) ((struct blk_uring_channel *)(ch))
#define UTGT(t) ((struct blk_uring_target *)(t))

extern const struct blk_ops blk_uring_ops;

/* blk_uring_ch.c */
/* A ring with the target's file registered (fixed file 0). */
int blk_uring_ring_init(struct blk_uring_target *ut, struct io_uring *ring, uint32_t entries, bool iopoll,
			bool sqpoll);
int blk_uring_channel_create(struct vpio_blk_target *t, uint32_t depth, struct vpio_blk_channel **ch);
void blk_uring_channel_destroy(struct vpio_blk_channel *ch);
void blk_uring_close(struct vpio_blk_target *t);

/* blk_uring_io.c */
int blk_uring_poll(struct vpio_blk_channel *ch, uint32_t max);

#endif
