/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the XDMA driver.
 *
 * Layering (one job per file):
 *   xdma_discover.c  config BAR by block identifiers, user/bypass BARs by
 *                    position, engines from their identifier registers
 *                    (reads only: runs on fake BAR images in unit tests)
 *   xdma_desc.c      the descriptor ring: building a transfer's descriptors
 *                    (chunks, IOVA pieces), linking a chain (adjacent
 *                    blocks inside 4 KiB, STOP) (pure)
 *   xdma_status.c    Status decoding (pure)
 *   xdma_dev.c       attach/detach, info, user BAR access
 *   xdma_chan.c      channel open/close, engine init and stop
 *   xdma_submit.c    input checks and queueing of transfers
 *   xdma_poll.c      batches, completions, errors and timeouts
 *   xdma_sync.c      synchronous helpers
 */
#ifndef VPIO_XDMA_INTERNAL_H
#define VPIO_XDMA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vpio/env.h>
#include <vpio/log.h>
#include <vpio/pci.h>
#include <vpio/xdma.h>
#include <vpio/xdma_spec.h>

#include "util/util.h"

#pragma GCC visibility push(hidden)

/* Log with VPIO_ERR(XDMA_MOD, ...) etc. (util/util.h), as every library. */
#define XDMA_MOD "xdma"
#define xdma_likely(x) __builtin_expect(!!(x), 1)
#define xdma_unlikely(x) __builtin_expect(!!(x), 0)

#define XDMA_STOP_WAIT_MS 1000u /* for Status busy = 0 after Run is cleared */

/* ------------------------------------------------------------ discovery */

struct xdma_layout {
	int config_bar, user_bar, bypass_bar; /* -1 when absent/unknown */
	int n_present;			      /* BARs with a mapping */
	int config_pos;			      /* the config BAR among them */
	uint32_t n_h2c, n_c2h;
	struct vpio_xdma_engine_info h2c[VPIO_XDMA_MAX_CHANNELS];
	struct vpio_xdma_engine_info c2h[VPIO_XDMA_MAX_CHANNELS];
};

/* Find the config BAR (both block identifiers), derive the user and
 * bypass BARs from its position (*roles_known false when the position is
 * one the IP's layouts do not explain), and probe the engines.  Reads
 * registers only.  -ENODEV (logged) when no BAR holds the config block. */
int xdma_discover(struct vpio_pci_device *dev, struct xdma_layout *l, bool *roles_known);
/* The engine fields from an identifier and an alignments register. */
void xdma_engine_fill(struct vpio_xdma_engine_info *e, uint32_t id, uint32_t align_reg);

/* ------------------------------------------------------------ descriptors */

/* Virtual -> device address; *len (in: bytes wanted) is cut to the bytes
 * contiguous in device address space; UINT64_MAX when not translatable. */
typedef uint64_t (*xdma_xlate_fn)(void *ctx, const void *vaddr, uint64_t *len);
uint64_t xdma_xlate_vtophys(void *ctx, const void *vaddr, uint64_t *len);

/* The descriptor ring of a channel: size entries in 4 KiB pages (128
 * descriptors each); every slot's Nxt_adr names the following slot, the
 * last names slot 0.  C2H stream rings also have a result slot (32 bytes)
 * per descriptor. */
#define XDMA_DESC_PER_PAGE 128u
#define XDMA_RESULT_STRIDE 32u
struct xdma_ring {
	struct vpio_xdma_desc *desc;
	uint32_t size, mask;
	uint64_t *page_iova;	 /* size / 128 entries */
	uint8_t *results;	 /* C2H stream: size * 32 bytes, else NULL */
	uint64_t *res_page_iova; /* of the result pages */
	uint32_t head, tail;	 /* free-running: oldest used, next free */
};

static inline uint64_t xdma_ring_iova(const struct xdma_ring *r, uint32_t idx)
{
	idx &= r->mask;
	return r->page_iova[idx / XDMA_DESC_PER_PAGE] + (uint64_t)(idx % XDMA_DESC_PER_PAGE) * 32u;
}
static inline uint64_t xdma_result_iova(const struct xdma_ring *r, uint32_t idx)
{
	idx &= r->mask;
	return r->res_page_iova[idx / XDMA_DESC_PER_PAGE] + (uint64_t)(idx % XDMA_DESC_PER_PAGE) * XDMA_RESULT_STRIDE;
}
static inline const struct vpio_xdma_c2h_result *xdma_result(const struct xdma_ring *r, uint32_t idx)
{
	return (const struct vpio_xdma_c2h_result *)(const void *)(r->results + (size_t)(idx & r->mask) * XDMA_RESULT_STRIDE);
}
/* Point every slot's Nxt_adr at the following slot (once, at open). */
void xdma_ring_init_links(struct xdma_ring *r);

/* What building a transfer's descriptors needs from its channel. */
struct xdma_build {
	bool c2h, stream;
	uint32_t max_desc_len;
	uint32_t addr_bits;
	xdma_xlate_fn xlate;
	void *xlate_ctx;
	const char *name;	/* "emu:xdma0 H2C 0", for messages */
};

/*
 * Write the descriptors of a transfer of iov[0..iovcnt) at card (ignored
 * for streams) from ring slot r->tail on, without moving r->tail: one
 * descriptor per IOVA-contiguous piece of at most max_desc_len bytes,
 * control = magic | COMPLETED (| EOP on the last one of an H2C stream).
 * Returns the number of descriptors (> 0), or: -EFAULT (logged) for an
 * untranslatable page or an IOVA beyond addr_bits; -E2BIG (logged) for
 * more descriptors than the ring has; -EAGAIN (not logged) for more than
 * are free now.  Alignment is the caller's.
 */
int64_t xdma_build_xfer(const struct xdma_build *b, struct xdma_ring *r, uint64_t card, const struct iovec *iov,
			uint32_t iovcnt);
/* Make the n descriptors from slot first one chain: adjacent counts that
 * keep every block inside a 64-descriptor (2 KiB) group and the chain,
 * STOP on the last.  Returns the adjacent count of the first block (for
 * the SGDMA register). */
uint32_t xdma_link_chain(struct xdma_ring *r, uint32_t first, uint32_t n);

/* ------------------------------------------------------------ status */

/* The error bits of a direction. */
static inline uint32_t xdma_error_mask(bool c2h)
{
	return c2h ? VPIO_XDMA_ST_C2H_ERRORS : VPIO_XDMA_ST_H2C_ERRORS;
}

/* ------------------------------------------------------------ device */

struct vpio_xdma_dev {
	char name[64];
	struct vpio_pci_device *pci;
	struct xdma_layout l;
	uint8_t version;
	uint32_t max_payload, max_read_request, data_width;
	uint64_t card_base, card_size;
	pthread_mutex_t lock;	/* channel open/close */
	struct vpio_xdma_chan *open_chans[2][VPIO_XDMA_MAX_CHANNELS];
};

static inline uint32_t xdma_rd(const struct vpio_xdma_dev *d, uint32_t off)
{
	return vpio_pci_bar_read32(d->pci, (unsigned)d->l.config_bar, off);
}
static inline void xdma_wr(const struct vpio_xdma_dev *d, uint32_t off, uint32_t v)
{
	vpio_pci_bar_write32(d->pci, (unsigned)d->l.config_bar, off, v);
}


/* ------------------------------------------------------------ channels */

struct xdma_xfer {
	vpio_xdma_cb cb;
	void *arg;
	uint64_t len;
	uint32_t first;		/* ring slot (free-running) of its first descriptor */
	uint32_t ndesc;
	uint32_t chain_end;	/* done when the chain's count reaches this */
};

struct vpio_xdma_chan {
	/* hot: submit and poll */
	volatile uint32_t *wb;	/* the poll-mode writeback word */
	struct xdma_ring ring;
	struct xdma_xfer *xfers;
	uint32_t xmask;		/* max_transfers - 1 */
	uint32_t x_head;	/* oldest queued or in flight */
	uint32_t x_run;		/* first not on the engine */
	uint32_t x_tail;	/* next free slot */
	bool running;		/* a chain is on the engine */
	bool in_cb;
	bool broken;		/* the engine did not stop: nothing more */
	bool closing;
	uint32_t chain_n;	/* descriptors of the running chain */
	uint32_t count;		/* of them completed (from the writeback) */
	uint32_t last_wb;
	uint64_t progress_tick;	/* when count last moved (or the chain started) */
	uint64_t timeout_ticks;	/* 0 = never */
	uint64_t card_lo, card_hi; /* card memory range [lo, hi), hi 0 = unchecked */
	struct xdma_build build;
	uint32_t ctrl;		/* Control value that starts the engine */
	uint32_t base, sg;	/* channel and SGDMA block offsets */
	uint32_t desc_hi;	/* last written SGDMA descriptor high word */
	bool desc_hi_valid;

	/* cold */
	struct vpio_xdma_dev *dev;
	enum vpio_xdma_dir dir;
	unsigned index;
	struct vpio_xdma_engine_info eng;
	struct vpio_xdma_chan_opts opts;
	char label[96];		/* "emu:xdma0 H2C 0" */
	void *dma_mem;		/* ring + results + writeback, one allocation */
	uint64_t *iovas;	/* page IOVAs */
	struct vpio_xdma_chan_stats st;
};

/* xdma_chan.c */
/* Clear Run and wait for Status busy = 0 (ms); read and clear Status
 * (*status).  -ETIMEDOUT when busy stays. */
int xdma_engine_stop(struct vpio_xdma_chan *ch, uint32_t ms, uint32_t *status);

/* xdma_poll.c */
/* Start the queued transfers if the engine is idle. */
void xdma_kick(struct vpio_xdma_chan *ch);
/* End every transfer (queued and on the engine) with status, running
 * callbacks; the engine must be stopped. */
void xdma_cancel_all(struct vpio_xdma_chan *ch, int status);

#pragma GCC visibility pop

#endif
