/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * XDMA channels: opening one allocates its descriptor ring (and, for a
 * C2H stream, a 32-byte result slot per descriptor) and its writeback
 * word in DMA memory, and sets the engine up for polling: stopped, Status
 * cleared, non-incremental mode off, every interrupt masked, descriptor
 * fetch not halted, credit mode off, the writeback address programmed.
 * The Control value that starts it has pollmode_wb_enable and every error
 * logging bit of its direction.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdma_internal.h"

#define COMMON (VPIO_XDMA_TGT_SGDMA_COMMON << VPIO_XDMA_TARGET_SHIFT)
#define DEF_RING 4096u
#define DEF_XFERS 256u
#define DEF_TIMEOUT_MS 1000u

VPIO_ABI_SIZE(struct vpio_xdma_chan_opts, 24);
VPIO_ABI_FIELD(struct vpio_xdma_chan_opts, opts_size, 0);
VPIO_ABI_FIELD(struct vpio_xdma_chan_opts, ring_size, 8);
VPIO_ABI_FIELD(struct vpio_xdma_chan_opts, max_transfers, 12);
VPIO_ABI_FIELD(struct vpio_xdma_chan_opts, timeout_ms, 16);
VPIO_ABI_FIELD(struct vpio_xdma_chan_opts, max_desc_len, 20);
VPIO_ABI_SIZE(struct vpio_xdma_chan_info, 56);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, dir, 8);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, index, 12);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, ring_size, 40);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, max_transfers, 44);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, timeout_ms, 48);
VPIO_ABI_FIELD(struct vpio_xdma_chan_info, max_desc_len, 52);
VPIO_ABI_SIZE(struct vpio_xdma_chan_stats, 96);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, transfers, 8);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, bytes, 16);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, failed, 24);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, batches, 32);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, descriptors, 40);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, engine_errors, 48);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, timeouts, 56);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, early_eop, 64);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, stream_dropped, 72);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, polls, 80);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, queued, 88);
VPIO_ABI_FIELD(struct vpio_xdma_chan_stats, in_flight, 92);

static const struct vpio_xdma_chan_opts g_chan_opts_default = {
	.opts_size = sizeof(struct vpio_xdma_chan_opts),
	.ring_size = DEF_RING,
	.max_transfers = DEF_XFERS,
	.timeout_ms = DEF_TIMEOUT_MS,
	.max_desc_len = VPIO_XDMA_DESC_LEN_MAX,
};

int vpio_xdma_chan_opts_init_sized(struct vpio_xdma_chan_opts *opts, size_t opts_size)
{
	return vpio_opts_init_sized(XDMA_MOD, "vpio_xdma_chan_opts_init", opts, opts_size, &g_chan_opts_default,
				    sizeof(g_chan_opts_default));
}

static bool pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int check_opts(const char *label, const struct vpio_xdma_chan_opts *o)
{
	const char *bad = NULL;

	if (!pow2_in(o->ring_size, VPIO_XDMA_MIN_RING, VPIO_XDMA_MAX_RING))
		bad = "ring_size must be a power of two from 128 to 65536";
	else if (!pow2_in(o->max_transfers, 1, 65536))
		bad = "max_transfers must be a power of two from 1 to 65536";
	else if (o->max_desc_len < 4096 || o->max_desc_len > VPIO_XDMA_DESC_LEN_MAX || o->max_desc_len % 4096)
		bad = "max_desc_len must be a multiple of 4096 from 4096 to 0x0ffff000";
	if (bad == NULL)
		return 0;
	VPIO_ERR(XDMA_MOD, "%s: cannot open: %s (ring_size %u, max_transfers %u, max_desc_len %u)", label, bad, o->ring_size,
		 o->max_transfers, o->max_desc_len);
	return -EINVAL;
}

int xdma_engine_stop(struct vpio_xdma_chan *ch, uint32_t ms, uint32_t *status)
{
	struct vpio_xdma_dev *d = ch->dev;
	uint64_t end = vpio_get_ticks() + vpio_get_ticks_hz() / 1000 * ms;
	int rc = 0;

	xdma_wr(d, ch->base + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
	while (xdma_rd(d, ch->base + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) {
		if (vpio_get_ticks() > end) {
			rc = -ETIMEDOUT;
			break;
		}
		sched_yield();
	}
	*status = xdma_rd(d, ch->base + VPIO_XDMA_CH_STATUS_RC); /* and clear it */
	ch->running = false;
	return rc;
}

/* DMA memory: the ring's pages, the result pages, the writeback word. */
static int alloc_dma(struct vpio_xdma_chan *ch)
{
	uint32_t pages = ch->opts.ring_size / XDMA_DESC_PER_PAGE, res_pages = ch->eng.stream && ch->dir == VPIO_XDMA_C2H ? pages : 0;
	size_t bytes = (size_t)(pages + res_pages + 1) * 4096;
	uint8_t *m = vpio_dma_zmalloc(bytes, 4096);

	ch->iovas = calloc((size_t)pages + res_pages + 1, sizeof(uint64_t));
	ch->xfers = calloc(ch->opts.max_transfers, sizeof(*ch->xfers));
	if (m == NULL || ch->iovas == NULL || ch->xfers == NULL) {
		VPIO_ERR(XDMA_MOD, "%s: out of memory for the ring (%zu bytes of DMA memory) or the transfer slots", ch->label, bytes);
		vpio_dma_free(m);
		return -ENOMEM;
	}
	ch->dma_mem = m;
	for (uint32_t p = 0; p <= pages + res_pages; p++) {
		ch->iovas[p] = vpio_vtophys(m + (size_t)p * 4096, NULL);
		if (ch->iovas[p] == VPIO_VTOPHYS_ERROR ||
		    (ch->eng.addr_bits < 64 && ch->iovas[p] + 4096 > (1ull << ch->eng.addr_bits))) {
			VPIO_ERR(XDMA_MOD, "%s: DMA memory at IOVA 0x%llx is not translatable or beyond the engine's %u address bits",
				 ch->label, (unsigned long long)ch->iovas[p], ch->eng.addr_bits);
			return -EFAULT;
		}
	}
	ch->ring.desc = (struct vpio_xdma_desc *)(void *)m;
	ch->ring.size = ch->opts.ring_size;
	ch->ring.mask = ch->opts.ring_size - 1;
	ch->ring.page_iova = ch->iovas;
	if (res_pages > 0) {
		ch->ring.results = m + (size_t)pages * 4096;
		ch->ring.res_page_iova = ch->iovas + pages;
	}
	ch->wb = (volatile uint32_t *)(void *)(m + (size_t)(pages + res_pages) * 4096);
	xdma_ring_init_links(&ch->ring);
	return 0;
}

static void free_chan(struct vpio_xdma_chan *ch)
{
	vpio_dma_free(ch->dma_mem);
	free(ch->iovas);
	free(ch->xfers);
	free(ch);
}

/* Stop the engine and set it up for polling (see the top of this file). */
static int engine_init(struct vpio_xdma_chan *ch)
{
	struct vpio_xdma_dev *d = ch->dev;
	uint64_t wb = ch->iovas[ch->opts.ring_size / XDMA_DESC_PER_PAGE * (ch->ring.results ? 2 : 1)];
	uint32_t st, bit = VPIO_XDMA_COMMON_BIT(ch->dir == VPIO_XDMA_C2H, ch->index);

	if (xdma_engine_stop(ch, XDMA_STOP_WAIT_MS, &st) != 0) {
		VPIO_ERR(XDMA_MOD, "%s: cannot open: the engine stays busy %u ms after Run was cleared (is another driver using it? reset the card)",
			 ch->label, XDMA_STOP_WAIT_MS);
		return -EBUSY;
	}
	xdma_wr(d, ch->base + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_NON_INC);
	xdma_wr(d, ch->base + VPIO_XDMA_CH_IRQ_MASK, 0);
	xdma_wr(d, ch->base + VPIO_XDMA_CH_WB_LO, (uint32_t)wb);
	xdma_wr(d, ch->base + VPIO_XDMA_CH_WB_HI, (uint32_t)(wb >> 32));
	xdma_wr(d, COMMON + VPIO_XDMA_COMMON_HALT_W1C, bit);
	xdma_wr(d, COMMON + VPIO_XDMA_COMMON_CREDIT_W1C, bit);
	ch->ctrl = VPIO_XDMA_CTRL_RUN | VPIO_XDMA_CTRL_POLLMODE_WB | VPIO_XDMA_CTRL_IE_DESC_COMPLETED |
		   VPIO_XDMA_CTRL_IE_ALIGN_MISMATCH | VPIO_XDMA_CTRL_IE_MAGIC_STOPPED | VPIO_XDMA_CTRL_IE_READ_ERROR |
		   VPIO_XDMA_CTRL_IE_DESC_ERROR;
	if (ch->dir == VPIO_XDMA_H2C)
		ch->ctrl |= VPIO_XDMA_CTRL_IE_WRITE_ERROR;
	if (ch->eng.stream)
		ch->ctrl |= VPIO_XDMA_CTRL_IE_INVALID_LENGTH;
	return 0;
}

static void setup(struct vpio_xdma_chan *ch, struct vpio_xdma_dev *d, enum vpio_xdma_dir dir, unsigned index)
{
	ch->dev = d;
	ch->dir = dir;
	ch->index = index;
	ch->eng = dir == VPIO_XDMA_C2H ? d->l.c2h[index] : d->l.h2c[index];
	ch->base = VPIO_XDMA_BLOCK(dir, index);
	ch->sg = ch->base + VPIO_XDMA_SGDMA_OFFSET;
	ch->xmask = ch->opts.max_transfers - 1;
	snprintf(ch->label, sizeof(ch->label), "%s %s %u", d->name, dir == VPIO_XDMA_C2H ? "C2H" : "H2C", index);
	ch->build = (struct xdma_build){ .c2h = dir == VPIO_XDMA_C2H,
					 .stream = ch->eng.stream,
					 .max_desc_len = ch->opts.max_desc_len,
					 .addr_bits = ch->eng.addr_bits,
					 .xlate = xdma_xlate_vtophys,
					 .name = ch->label };
	ch->card_lo = d->card_base;
	ch->card_hi = d->card_size ? d->card_base + d->card_size : 0;
	ch->timeout_ticks = vpio_get_ticks_hz() / 1000 * ch->opts.timeout_ms;
}

int vpio_xdma_chan_open(struct vpio_xdma_dev *d, enum vpio_xdma_dir dir, unsigned index,
			const struct vpio_xdma_chan_opts *opts, struct vpio_xdma_chan **chp)
{
	struct vpio_xdma_chan *ch;
	uint32_t have;
	int rc;

	if (d == NULL || chp == NULL || (dir != VPIO_XDMA_H2C && dir != VPIO_XDMA_C2H)) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_chan_open: %s", d == NULL ? "no card (NULL)" : chp == NULL ? "no place for the handle (chan is NULL)"
							   : "dir must be VPIO_XDMA_H2C or VPIO_XDMA_C2H");
		return -EINVAL;
	}
	*chp = NULL;
	have = dir == VPIO_XDMA_C2H ? d->l.n_c2h : d->l.n_h2c;
	if (index >= have) {
		VPIO_ERR(XDMA_MOD, "%s: no %s channel %u: the card has %u (identifier registers of channels 0..%u)", d->name,
			 dir == VPIO_XDMA_C2H ? "C2H" : "H2C", index, have, VPIO_XDMA_MAX_CHANNELS - 1);
		return -ENOENT;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		VPIO_ERR(XDMA_MOD, "%s: out of memory for a channel", d->name);
		return -ENOMEM;
	}
	ch->opts = g_chan_opts_default;
	rc = vpio_opts_import(XDMA_MOD, d->name, &ch->opts, sizeof(ch->opts), opts,
			      "fill the options with vpio_xdma_chan_opts_init(&opts)");
	setup(ch, d, dir, index);
	if (rc == 0)
		rc = check_opts(ch->label, &ch->opts);
	pthread_mutex_lock(&d->lock);
	if (rc == 0 && d->open_chans[dir][index] != NULL) {
		VPIO_ERR(XDMA_MOD, "%s: already open (one handle per channel; close it first)", ch->label);
		rc = -EBUSY;
	}
	if (rc == 0)
		rc = alloc_dma(ch);
	if (rc == 0)
		rc = engine_init(ch);
	if (rc == 0)
		d->open_chans[dir][index] = ch;
	pthread_mutex_unlock(&d->lock);
	if (rc != 0) {
		free_chan(ch);
		return rc;
	}
	*chp = ch;
	return 0;
}

int vpio_xdma_chan_close(struct vpio_xdma_chan *ch)
{
	struct vpio_xdma_dev *d;
	uint32_t st;

	if (ch == NULL)
		return 0;
	if (ch->in_cb) {
		VPIO_ERR(XDMA_MOD, "%s: vpio_xdma_chan_close() from one of its callbacks; close it after vpio_xdma_poll() returns",
			 ch->label);
		return -EBUSY;
	}
	d = ch->dev;
	if (xdma_engine_stop(ch, XDMA_STOP_WAIT_MS, &st) != 0)
		VPIO_ERR(XDMA_MOD, "%s: the engine stays busy after Run was cleared; its memory is kept (reset the card)", ch->label);
	else
		vpio_dma_free(ch->dma_mem);
	ch->dma_mem = NULL;
	ch->closing = true;
	xdma_cancel_all(ch, -ECANCELED);
	pthread_mutex_lock(&d->lock);
	d->open_chans[ch->dir][ch->index] = NULL;
	pthread_mutex_unlock(&d->lock);
	free_chan(ch);
	return 0;
}

int vpio_xdma_chan_set_timeout(struct vpio_xdma_chan *ch, uint32_t timeout_ms)
{
	if (ch == NULL) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_chan_set_timeout: no channel (NULL)");
		return -EINVAL;
	}
	ch->opts.timeout_ms = timeout_ms;
	ch->timeout_ticks = vpio_get_ticks_hz() / 1000 * timeout_ms;
	return 0;
}

int vpio_xdma_chan_get_info_sized(const struct vpio_xdma_chan *ch, struct vpio_xdma_chan_info *info,
				  size_t info_size)
{
	struct vpio_xdma_chan_info i = { 0 };

	if (ch == NULL) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_chan_get_info: the channel is NULL");
		return -EINVAL;
	}
	i.dir = ch->dir;
	i.index = ch->index;
	i.engine = ch->eng;
	i.ring_size = ch->opts.ring_size;
	i.max_transfers = ch->opts.max_transfers;
	i.timeout_ms = ch->opts.timeout_ms;
	i.max_desc_len = ch->opts.max_desc_len;
	return vpio_struct_export(XDMA_MOD, "vpio_xdma_chan_get_info", info, info_size, &i, sizeof(i));
}

int vpio_xdma_chan_get_stats_sized(const struct vpio_xdma_chan *ch, struct vpio_xdma_chan_stats *st,
				   size_t stats_size)
{
	struct vpio_xdma_chan_stats all = { 0 };

	if (ch != NULL) {
		all = ch->st;
		all.queued = ch->x_tail - ch->x_run;
		all.in_flight = ch->x_run - ch->x_head;
	}
	return vpio_struct_export(XDMA_MOD, "vpio_xdma_chan_get_stats", st, stats_size, &all, sizeof(all));
}
