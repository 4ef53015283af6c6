/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf: XDMA card targets (doc/perf.md "XDMA cards").
 *
 * A card is not a lib/blk target: it is attached with lib/xdma and its
 * memory-mapped card memory is described to the rest of vpio-perf as
 * 512-byte "blocks" (info.backend "xdma"), so slots, --verify signatures,
 * statistics and reports work as for a block target.  Core n of -c drives
 * channel pair n: H2C n for writes, C2H n for reads (-w h2c opens only the
 * H2C channel, -w c2h only the C2H one).  Each I/O slot of -o bytes is at
 * card address base + slot * -o; channels walk their share of the slots
 * in order.
 *
 * A PCI address is taken as a card when the device's vendor is 0x10ee
 * (AMD/Xilinx); "?mem=SIZE" after it gives the card memory size, which a
 * real card cannot report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/parse.h>
#include <vpio/pci.h>

#include "perf.h"

#define XBLOCK 512u		/* bytes per block of the slot arithmetic */

bool perf_xdma_is_card(const char *addr)
{
	struct vpio_pci_addr a;
	struct vpio_pci_info info;
	char s[64];

	if (strncmp(addr, "emu:xdma", 8) == 0)
		return true;
	snprintf(s, sizeof(s), "%.*s", (int)strcspn(addr, "?"), addr);
	return vpio_pci_addr_parse(s, &a) == 0 && vpio_pci_get_info(&a, &info) == 0 &&
	       info.vendor_id == VPIO_XDMA_VENDOR_ID;
}

/* "?mem=SIZE" of a PCI address: the card memory size; the name without it
 * in name.  0, or PERF_EXIT_BAD after one line. */
static int pci_mem_option(const char *addr, char *name, size_t len, uint64_t *mem)
{
	const char *q = strchr(addr, '?');

	*mem = 0;
	snprintf(name, len, "%.*s", (int)strcspn(addr, "?"), addr);
	if (q == NULL || strncmp(addr, "emu:", 4) == 0)
		return 0;
	if (strncmp(q, "?mem=", 5) != 0 || vpio_parse_size(q + 5, mem) != 0 || *mem == 0)
		return perf_bad("-a '%s': a card's option is ?mem=SIZE (its card memory, e.g. ?mem=4G)", addr), PERF_EXIT_BAD;
	return 0;
}

int perf_xdma_open(struct perf_target *t)
{
	struct vpio_xdma_opts xo;
	struct vpio_xdma_info xi;
	const char *name = t->addr;
	char pci[64];
	int rc;

	vpio_xdma_opts_init(&xo);
	if (pci_mem_option(t->addr, pci, sizeof(pci), &xo.card_mem_size) != 0)
		return PERF_EXIT_BAD;
	if (strncmp(t->addr, "emu:", 4) != 0)
		name = pci;
	rc = vpio_xdma_attach(name, &xo, &t->xdev);
	if (rc != 0) {
		t->xdev = NULL;
		fprintf(stderr, "vpio-perf: -a '%s': cannot attach the XDMA card (see the line above)\n", t->addr);
		return rc == -EIO || rc == -ENOMEM ? PERF_EXIT_FAIL : PERF_EXIT_BAD;
	}
	if (vpio_xdma_get_info(t->xdev, &xi) != 0) {
		fprintf(stderr, "vpio-perf: -a '%s': no card facts (see the line above)\n", t->addr);
		return PERF_EXIT_FAIL;
	}
	if (xi.card_mem_size < XBLOCK)
		return perf_bad("-a '%s': the card memory size is not known; give it: -a %s?mem=SIZE", t->addr, pci),
		       PERF_EXIT_BAD;
	snprintf(t->xname, sizeof(t->xname), "%s", xi.name);
	t->xmem_base = xi.card_mem_base;
	memset(&t->info, 0, sizeof(t->info));
	t->info.info_size = sizeof(t->info);
	t->info.name = t->xname;
	t->info.backend = "xdma";
	t->info.block_size = XBLOCK;
	t->info.num_blocks = xi.card_mem_size / XBLOCK;
	t->info.max_transfer_bytes = UINT32_MAX / XBLOCK * XBLOCK;
	t->info.max_iovcnt = VPIO_XDMA_MAX_IOV;
	t->info.max_queue_depth = VPIO_XDMA_MAX_RING / 2;
	t->info.buf_align = 4096;
	t->info.emulated = xi.emulated;
	return PERF_EXIT_OK;
}

/* The engine of direction dir that channel k would use, or NULL after
 * one line. */
static const struct vpio_xdma_engine_info *engine_of(const struct vpio_xdma_info *xi, const struct perf_target *t,
						     enum vpio_xdma_dir dir, unsigned n_ch)
{
	uint32_t have = dir == VPIO_XDMA_H2C ? xi->n_h2c : xi->n_c2h;
	const char *d = dir == VPIO_XDMA_H2C ? "H2C" : "C2H";

	if (n_ch > have) {
		perf_bad("-c: %u core%s need%s %u %s channel%s on %s, which has %u: use fewer cores, or a card with more "
			 "(emu:xdma?h2c=4&c2h=4)", n_ch, n_ch == 1 ? "" : "s", n_ch == 1 ? "s" : "", n_ch, d,
			 n_ch == 1 ? "" : "s", t->xname, have);
		return NULL;
	}
	for (unsigned k = 0; k < n_ch; k++) {
		const struct vpio_xdma_engine_info *e = dir == VPIO_XDMA_H2C ? &xi->h2c[k] : &xi->c2h[k];

		if (e->stream) {
			perf_bad("-a '%s': %s channel %u is an AXI4-Stream engine; vpio-perf drives memory-mapped card "
				 "memory (emu:xdma?stream=0)", t->addr, d, k);
			return NULL;
		}
	}
	return dir == VPIO_XDMA_H2C ? &xi->h2c[0] : &xi->c2h[0];
}

int perf_xdma_check(const struct perf_run *r, const struct perf_target *t)
{
	enum perf_workload wl = r->o->workload;
	struct vpio_xdma_info xi;
	uint64_t io = r->o->io_size;

	if (vpio_xdma_get_info(t->xdev, &xi) != 0)
		return PERF_EXIT_FAIL;
	for (int dir = VPIO_XDMA_H2C; dir <= VPIO_XDMA_C2H; dir++) {
		const struct vpio_xdma_engine_info *e;
		uint32_t g;

		if ((dir == VPIO_XDMA_H2C && wl == PERF_C2H) || (dir == VPIO_XDMA_C2H && wl == PERF_H2C))
			continue;
		e = engine_of(&xi, t, (enum vpio_xdma_dir)dir, t->n_channels);
		if (e == NULL)
			return PERF_EXIT_BAD;
		g = e->len_gran > e->addr_align ? e->len_gran : e->addr_align;
		g = g > XBLOCK ? g : XBLOCK;
		if (io % g != 0)
			return perf_bad("-o %" PRIu64 ": not a multiple of %u bytes (the 512-byte unit of vpio-perf and the "
					"granularity and alignment of %s)", io, g, t->xname), PERF_EXIT_BAD;
	}
	if (io > xi.card_mem_size)
		return perf_bad("-o %" PRIu64 ": larger than the card memory of %s (%" PRIu64 " bytes)", io, t->xname,
				xi.card_mem_size), PERF_EXIT_BAD;
	return PERF_EXIT_OK;
}

static void xdma_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	perf_io_done(arg, cpl->status);
}

static int xdma_submit(struct perf_channel *ch, struct perf_io *io, uint64_t lba)
{
	uint64_t card = ch->tgt->xmem_base + lba * XBLOCK;
	size_t len = (size_t)ch->tgt->io_blocks * XBLOCK;

	if (io->is_read)
		return vpio_xdma_c2h(ch->xc2h, card, io->buf, len, xdma_cb, io);
	return vpio_xdma_h2c(ch->xh2c, card, io->buf, len, xdma_cb, io);
}

static int xdma_poll(struct perf_channel *ch)
{
	int a = 0, b = 0;

	if (ch->xh2c != NULL)
		a = vpio_xdma_poll(ch->xh2c, 0);
	if (ch->xc2h != NULL && a >= 0)
		b = vpio_xdma_poll(ch->xc2h, 0);
	return a < 0 ? a : b < 0 ? b : a + b;
}

static uint32_t xdma_outstanding(const struct perf_channel *ch)
{
	struct vpio_xdma_chan_stats a, b;

	vpio_xdma_chan_get_stats(ch->xh2c, &a); /* all zero for NULL */
	vpio_xdma_chan_get_stats(ch->xc2h, &b);
	return a.queued + a.in_flight + b.queued + b.in_flight;
}

static void xdma_destroy(struct perf_channel *ch)
{
	if (ch->xh2c != NULL)
		vpio_xdma_chan_close(ch->xh2c);
	if (ch->xc2h != NULL)
		vpio_xdma_chan_close(ch->xc2h);
	ch->xh2c = ch->xc2h = NULL;
}

static const struct perf_chan_ops g_xdma_ops = { xdma_submit, xdma_poll, xdma_outstanding, xdma_destroy };

static uint32_t pow2_at_least(uint64_t v, uint32_t lo, uint32_t hi)
{
	uint32_t p = lo;

	while (p < v && p < hi)
		p <<= 1;
	return p;
}

int perf_xdma_channel_create(const struct perf_run *r, struct perf_channel *ch, unsigned k)
{
	enum perf_workload wl = r->o->workload;
	struct vpio_xdma_chan_opts co;
	int rc = 0;

	ch->ops = &g_xdma_ops;
	vpio_xdma_chan_opts_init(&co);
	/* every I/O in flight, each in at most one descriptor per 4 KiB page */
	co.max_transfers = pow2_at_least(r->o->qd, 1, VPIO_XDMA_MAX_RING);
	co.ring_size = pow2_at_least((uint64_t)r->o->qd * (r->o->io_size / 4096 + 2), VPIO_XDMA_MIN_RING,
				     VPIO_XDMA_MAX_RING);
	if (wl != PERF_C2H)
		rc = vpio_xdma_chan_open(ch->tgt->xdev, VPIO_XDMA_H2C, k, &co, &ch->xh2c);
	if (rc == 0 && wl != PERF_H2C)
		rc = vpio_xdma_chan_open(ch->tgt->xdev, VPIO_XDMA_C2H, k, &co, &ch->xc2h);
	if (rc != 0) {
		fprintf(stderr, "vpio-perf: cannot open channel pair %u of %s (see the line above)\n", k, ch->tgt->xname);
		return rc == -ENOENT || rc == -EINVAL ? PERF_EXIT_BAD : PERF_EXIT_FAIL;
	}
	return PERF_EXIT_OK;
}
