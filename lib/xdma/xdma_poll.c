/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Batches and completions.  When the engine is idle, the queued transfers
 * become one chain (their descriptors linked, STOP on the last) and the
 * engine is started: the writeback word zeroed, the first descriptor and
 * its adjacent count written to the SGDMA registers, Control written with
 * Run.  The engine writes the count of completed descriptors into the
 * writeback word after each one (all have COMPLETED); a transfer is done
 * when the count reaches its last descriptor.  When the chain is done Run
 * is cleared, and the next batch can start.  That is the whole transfer
 * path: register writes only, no register read, no system call.
 *
 * An error bit in the writeback word, a word that cannot be (reserved bits
 * set, a count beyond the chain or going back), or no progress for the
 * timeout stops the engine (clear Run, wait for Status busy = 0, read and
 * clear Status): the transfer it was on ends with -EIO or -ETIMEDOUT,
 * those behind it on the engine with -ECANCELED, one line says why, and
 * the next batch starts afresh (the rising edge of Run clears Status and
 * the count).
 *
 * C2H stream: a transfer of one descriptor ends where its result says
 * (length, EOP); one of several descriptors runs alone in its chain, and
 * when a packet ends before its last descriptor the engine is stopped
 * there (its other descriptors would take the next packet).
 */
#include <errno.h>
#include <stdio.h>

#include "xdma_internal.h"

static inline uint64_t now(void)
{
	return vpio_get_ticks();
}

/* Take the oldest transfer off the channel and run its callback. */
static void complete_head(struct vpio_xdma_chan *ch, int status, uint64_t len, bool eop)
{
	struct xdma_xfer x = ch->xfers[ch->x_head & ch->xmask];
	struct vpio_xdma_cpl cpl = { status, status == 0 ? len : 0, eop };

	ch->x_head++;
	ch->ring.head = x.first + x.ndesc;
	if (status == 0) {
		ch->st.transfers++;
		ch->st.bytes += len;
	} else {
		ch->st.failed++;
	}
	if (x.cb != NULL) {
		ch->in_cb = true;
		x.cb(x.arg, &cpl);
		ch->in_cb = false;
	}
}

void xdma_kick(struct vpio_xdma_chan *ch)
{
	bool c2h_stream = ch->build.c2h && ch->build.stream;
	uint32_t x = ch->x_run, n = 0, first, adj;
	uint64_t iova;

	if (ch->running || x == ch->x_tail || ch->x_head != x || ch->broken)
		return;
	first = ch->xfers[x & ch->xmask].first;
	while (x != ch->x_tail) {
		struct xdma_xfer *t = &ch->xfers[x & ch->xmask];

		if (c2h_stream && t->ndesc > 1 && n > 0)
			break; /* it runs alone, in the next chain */
		n += t->ndesc;
		t->chain_end = n;
		x++;
		if (c2h_stream && t->ndesc > 1)
			break;
	}
	adj = xdma_link_chain(&ch->ring, first, n);
	iova = xdma_ring_iova(&ch->ring, first);
	__atomic_store_n(ch->wb, 0, __ATOMIC_RELAXED);
	xdma_wr(ch->dev, ch->sg + VPIO_XDMA_SG_DESC_LO, (uint32_t)iova);
	if (!ch->desc_hi_valid || ch->desc_hi != (uint32_t)(iova >> 32)) {
		ch->desc_hi = (uint32_t)(iova >> 32);
		ch->desc_hi_valid = true;
		xdma_wr(ch->dev, ch->sg + VPIO_XDMA_SG_DESC_HI, ch->desc_hi);
	}
	xdma_wr(ch->dev, ch->sg + VPIO_XDMA_SG_DESC_ADJ, adj);
	xdma_wr(ch->dev, ch->base + VPIO_XDMA_CH_CONTROL, ch->ctrl);
	ch->running = true;
	ch->chain_n = n;
	ch->count = 0;
	ch->last_wb = 0;
	ch->x_run = x;
	ch->progress_tick = now();
	ch->st.batches++;
	ch->st.descriptors += n;
}

/* The oldest C2H stream transfer's result: bytes up to the first packet
 * end among its first done descriptors; *eop_at its index (or ndesc). */
static uint64_t stream_result(const struct vpio_xdma_chan *ch, const struct xdma_xfer *x, uint32_t done,
			      uint32_t *eop_at)
{
	uint64_t len = 0;

	*eop_at = x->ndesc;
	for (uint32_t i = 0; i < done && i < x->ndesc; i++) {
		const struct vpio_xdma_c2h_result *r = xdma_result(&ch->ring, x->first + i);
		uint32_t max = ch->ring.desc[(x->first + i) & ch->ring.mask].len;

		len += r->len < max ? r->len : max;
		if (r->status & VPIO_XDMA_RESULT_EOP) {
			*eop_at = i;
			break;
		}
	}
	return len;
}

/* A packet ended before the last descriptor of a (lone) C2H stream
 * transfer: stop the engine there; what it took into the rest of the
 * buffer belongs to the next packet and is dropped. */
static void early_eop(struct vpio_xdma_chan *ch, const struct xdma_xfer *x, uint32_t eop_at)
{
	uint32_t st, done;
	uint64_t dropped = 0;
	int rc = xdma_engine_stop(ch, XDMA_STOP_WAIT_MS, &st);

	done = __atomic_load_n(ch->wb, __ATOMIC_ACQUIRE) & VPIO_XDMA_WB_COUNT_MASK;
	for (uint32_t i = eop_at + 1; i < done && i < x->ndesc; i++)
		dropped += xdma_result(&ch->ring, x->first + i)->len;
	ch->st.early_eop++;
	ch->st.stream_dropped += dropped;
	if (rc != 0) {
		ch->broken = true;
		VPIO_ERR(XDMA_MOD, "%s: the engine stays busy after a stream packet ended early and Run was cleared; channel broken (reset the card)",
			 ch->label);
	} else if (dropped > 0) {
		VPIO_WARN(XDMA_MOD, "%s: a packet ended in descriptor %u of %u; %llu bytes of the next packet that followed it into the same transfer were dropped (post C2H stream buffers the size of the packets)",
			  ch->label, eop_at + 1, x->ndesc, (unsigned long long)dropped);
	}
}

/* Complete the transfers that count covers, up to max; returns how many. */
static uint32_t reap(struct vpio_xdma_chan *ch, uint32_t count, uint32_t max)
{
	bool c2h_stream = ch->build.c2h && ch->build.stream;
	uint32_t n = 0;

	while (ch->x_head != ch->x_run && n < max) {
		const struct xdma_xfer *x = &ch->xfers[ch->x_head & ch->xmask];
		uint32_t start = x->chain_end - x->ndesc, eop_at;
		uint64_t len;

		if (!c2h_stream) {
			if (x->chain_end > count)
				break;
			complete_head(ch, 0, x->len, false);
		} else {
			if (count <= start)
				break;
			len = stream_result(ch, x, count - start, &eop_at);
			if (eop_at == x->ndesc && x->chain_end > count)
				break; /* neither full nor a packet end yet */
			if (eop_at + 1 < x->ndesc && ch->running)
				early_eop(ch, x, eop_at);
			complete_head(ch, 0, len, eop_at < x->ndesc);
		}
		n++;
	}
	return n;
}

/* Stop the engine for an error and end the chain's transfers from the
 * first one good does not cover. */
static uint32_t chain_fail(struct vpio_xdma_chan *ch, int err, const char *why, uint32_t good)
{
	uint32_t st = 0, hw, n, failing, behind;
	char sbuf[192];
	int rc = xdma_engine_stop(ch, XDMA_STOP_WAIT_MS, &st);

	hw = xdma_rd(ch->dev, ch->base + VPIO_XDMA_CH_COMPLETED);
	if (err == -ETIMEDOUT) {
		/* the engine is stopped and its Status read (which no earlier
		 * writeback can pass): a writeback that came late is final */
		uint32_t w = __atomic_load_n(ch->wb, __ATOMIC_ACQUIRE), c = w & VPIO_XDMA_WB_COUNT_MASK;

		if (!(w & VPIO_XDMA_WB_RESERVED) && c <= ch->chain_n && c > good)
			good = c;
	}
	n = reap(ch, good, UINT32_MAX);
	failing = ch->x_run - ch->x_head;
	behind = failing ? failing - 1 : 0;
	if (err == -ETIMEDOUT)
		ch->st.timeouts++;
	else
		ch->st.engine_errors++;
	if (rc != 0)
		ch->broken = true;
	VPIO_ERR(XDMA_MOD, "%s: %s; Status 0x%08x (%s), %u of %u descriptors done; %u transfer(s) failed (%s)%s%s", ch->label, why,
		 st, vpio_xdma_status_str(st, ch->dir, sbuf, sizeof(sbuf)), hw, ch->chain_n, failing ? 1u : 0u,
		 err == -ETIMEDOUT ? "-ETIMEDOUT" : "-EIO", behind ? ", the ones behind it -ECANCELED" : "",
		 rc != 0 ? "; the engine did not stop: channel broken, reset the card" : "; engine stopped, the channel goes on");
	for (uint32_t i = 0; i < failing; i++, n++)
		complete_head(ch, i == 0 ? err : -ECANCELED, 0, false);
	return n;
}

/* Look at the writeback word: progress, completion, errors, timeout. */
static uint32_t check_engine(struct vpio_xdma_chan *ch, uint32_t max)
{
	uint32_t w = __atomic_load_n(ch->wb, __ATOMIC_ACQUIRE), c = w & VPIO_XDMA_WB_COUNT_MASK, n;
	char why[96];

	if (w != ch->last_wb) {
		if (xdma_unlikely((w & VPIO_XDMA_WB_RESERVED) || c > ch->chain_n || c < ch->count)) {
			snprintf(why, sizeof(why), "corrupt writeback word 0x%08x (chain of %u, %u seen done)", w, ch->chain_n,
				 ch->count);
			return chain_fail(ch, -EIO, why, ch->count);
		}
		if (xdma_unlikely(w & VPIO_XDMA_WB_ERR)) {
			snprintf(why, sizeof(why), "the engine reported an error (writeback 0x%08x)", w);
			return chain_fail(ch, -EIO, why, c);
		}
		ch->last_wb = w;
		ch->count = c;
		ch->progress_tick = now();
	} else if (ch->timeout_ticks != 0 && ch->count < ch->chain_n && now() - ch->progress_tick > ch->timeout_ticks) {
		snprintf(why, sizeof(why), "no progress for %u ms (stuck engine, or a lost writeback)", ch->opts.timeout_ms);
		return chain_fail(ch, -ETIMEDOUT, why, ch->count);
	}
	n = reap(ch, ch->count, max);
	if (ch->running && ch->count == ch->chain_n && ch->x_head == ch->x_run) {
		xdma_wr(ch->dev, ch->base + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
		ch->running = false;
	}
	return n;
}

int vpio_xdma_poll(struct vpio_xdma_chan *ch, uint32_t max)
{
	uint32_t n = 0;

	if (xdma_unlikely(ch == NULL)) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_poll: no channel (NULL)");
		return -EINVAL;
	}
	if (xdma_unlikely(ch->in_cb)) {
		VPIO_ERR(XDMA_MOD, "%s: vpio_xdma_poll() from one of its own callbacks; poll after it returns", ch->label);
		return -EBUSY;
	}
	if (xdma_unlikely(ch->broken)) {
		VPIO_ERR(XDMA_MOD, "%s: the channel is broken (its engine did not stop after an error); reset the card and open it again",
			 ch->label);
		return -EIO;
	}
	ch->st.polls++;
	if (max == 0)
		max = UINT32_MAX;
	if (ch->running || ch->x_head != ch->x_run) /* transfers of the last chain may wait for max */
		n = ch->running ? check_engine(ch, max) : reap(ch, ch->count, max);
	xdma_kick(ch);
	return (int)n;
}

int vpio_xdma_flush(struct vpio_xdma_chan *ch)
{
	if (ch == NULL || ch->in_cb) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_flush: %s", ch == NULL ? "no channel (NULL)" : "from a callback of the channel");
		return ch == NULL ? -EINVAL : -EBUSY;
	}
	xdma_kick(ch);
	return 0;
}

void xdma_cancel_all(struct vpio_xdma_chan *ch, int status)
{
	ch->running = false;
	ch->x_run = ch->x_tail;
	while (ch->x_head != ch->x_tail)
		complete_head(ch, status, 0, false);
}
