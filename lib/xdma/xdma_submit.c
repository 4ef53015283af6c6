/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queueing a transfer: every check that can be made now is made before
 * anything changes (direction, lengths, the engine's alignment and
 * granularity, card memory range, registered memory, ring room), then the
 * descriptors are written into free ring slots and the transfer takes a
 * slot.  The engine sees nothing until the next batch starts
 * (xdma_poll.c).  No allocation, lock or system call.
 */
#include <errno.h>

#include "xdma_internal.h"

static const char *dir_name(enum vpio_xdma_dir dir)
{
	return dir == VPIO_XDMA_C2H ? "C2H" : "H2C";
}

static int check_chan(const struct vpio_xdma_chan *ch, enum vpio_xdma_dir dir)
{
	if (xdma_unlikely(ch == NULL)) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_%s: no channel (NULL)", dir == VPIO_XDMA_C2H ? "c2h" : "h2c");
		return -EINVAL;
	}
	if (xdma_unlikely(ch->broken || ch->closing)) {
		VPIO_ERR(XDMA_MOD, "%s: %s", ch->label, ch->broken ? "the channel is broken: its engine did not stop after an error; reset the card and open it again"
							: "the channel is being closed");
		return ch->broken ? -EIO : -ESHUTDOWN;
	}
	if (xdma_unlikely(dir != ch->dir)) {
		VPIO_ERR(XDMA_MOD, "%s: an %s transfer on an %s channel; open an %s channel for it", ch->label, dir_name(dir),
			 dir_name(ch->dir), dir_name(dir));
		return -EINVAL;
	}
	return 0;
}

/* One element: not empty, aligned as the engine needs. */
static int check_elem(const struct vpio_xdma_chan *ch, const struct iovec *v, uint32_t i, uint64_t card)
{
	uint64_t a = (uint64_t)(uintptr_t)v->iov_base, al = ch->eng.addr_align, g = ch->eng.len_gran;
	const char *bad = NULL;

	if (v->iov_base == NULL || v->iov_len == 0)
		bad = v->iov_base == NULL ? "a NULL buffer" : "length 0";
	else if (a % g != 0 || v->iov_len % g != 0)
		bad = "a start or length that is not a multiple of the engine's length granularity";
	else if (ch->eng.stream && a % al != 0)
		bad = "a start that is not a multiple of the engine's address alignment";
	else if (!ch->eng.stream && a % al != card % al)
		bad = "a start that differs from its card address modulo the engine's address alignment";
	if (xdma_likely(bad == NULL))
		return 0;
	VPIO_ERR(XDMA_MOD, "%s: buffer %u (%p+%zu, card 0x%llx) has %s (alignment %u, granularity %u bytes)", ch->label, i,
		 v->iov_base, v->iov_len, (unsigned long long)card, bad, ch->eng.addr_align, ch->eng.len_gran);
	return -EINVAL;
}

static int check_card(const struct vpio_xdma_chan *ch, uint64_t card, uint64_t total)
{
	if (ch->eng.stream) {
		if (xdma_likely(card == 0))
			return 0;
		VPIO_ERR(XDMA_MOD, "%s: card address 0x%llx on a stream channel; pass 0 (a stream has no addresses)", ch->label,
			 (unsigned long long)card);
		return -EINVAL;
	}
	if (xdma_likely(card >= ch->card_lo && card + total >= card &&
			(ch->card_hi == 0 || (card < ch->card_hi && total <= ch->card_hi - card))))
		return 0;
	if (ch->card_hi != 0)
		VPIO_ERR(XDMA_MOD, "%s: card range 0x%llx+0x%llx is outside card memory [0x%llx, 0x%llx)", ch->label,
			 (unsigned long long)card, (unsigned long long)total, (unsigned long long)ch->card_lo,
			 (unsigned long long)ch->card_hi);
	else
		VPIO_ERR(XDMA_MOD, "%s: card range 0x%llx+0x%llx wraps around or starts below card memory 0x%llx", ch->label,
			 (unsigned long long)card, (unsigned long long)total, (unsigned long long)ch->card_lo);
	return -ERANGE;
}

static int submit(struct vpio_xdma_chan *ch, enum vpio_xdma_dir dir, uint64_t card, const struct iovec *iov,
		  int iovcnt, vpio_xdma_cb cb, void *arg)
{
	struct xdma_xfer *x;
	uint64_t total = 0;
	int64_t n;
	int rc = check_chan(ch, dir);

	if (xdma_unlikely(rc != 0))
		return rc;
	if (xdma_unlikely(iov == NULL || iovcnt < 1 || (unsigned)iovcnt > VPIO_XDMA_MAX_IOV)) {
		VPIO_ERR(XDMA_MOD, "%s: iovcnt %d (1..%u elements, iov not NULL)", ch->label, iovcnt, VPIO_XDMA_MAX_IOV);
		return -EINVAL;
	}
	for (int i = 0; i < iovcnt; i++) {
		rc = check_elem(ch, &iov[i], (uint32_t)i, card + total);
		if (xdma_unlikely(rc != 0))
			return rc;
		total += iov[i].iov_len;
	}
	rc = check_card(ch, card, total);
	if (xdma_unlikely(rc != 0))
		return rc;
	if (xdma_unlikely(ch->x_tail - ch->x_head > ch->xmask))
		return -EAGAIN;
	n = xdma_build_xfer(&ch->build, &ch->ring, card, iov, (uint32_t)iovcnt);
	if (xdma_unlikely(n < 0))
		return (int)n;
	x = &ch->xfers[ch->x_tail & ch->xmask];
	x->cb = cb;
	x->arg = arg;
	x->len = total;
	x->first = ch->ring.tail;
	x->ndesc = (uint32_t)n;
	ch->ring.tail += (uint32_t)n;
	ch->x_tail++;
	return 0;
}

int vpio_xdma_h2c(struct vpio_xdma_chan *ch, uint64_t card_addr, const void *buf, size_t len, vpio_xdma_cb cb,
		  void *arg)
{
	struct iovec v = { (void *)(uintptr_t)buf, len };

	return submit(ch, VPIO_XDMA_H2C, card_addr, &v, 1, cb, arg);
}

int vpio_xdma_c2h(struct vpio_xdma_chan *ch, uint64_t card_addr, void *buf, size_t len, vpio_xdma_cb cb, void *arg)
{
	struct iovec v = { buf, len };

	return submit(ch, VPIO_XDMA_C2H, card_addr, &v, 1, cb, arg);
}

int vpio_xdma_h2cv(struct vpio_xdma_chan *ch, uint64_t card_addr, const struct iovec *iov, int iovcnt,
		   vpio_xdma_cb cb, void *arg)
{
	return submit(ch, VPIO_XDMA_H2C, card_addr, iov, iovcnt, cb, arg);
}

int vpio_xdma_c2hv(struct vpio_xdma_chan *ch, uint64_t card_addr, const struct iovec *iov, int iovcnt,
		   vpio_xdma_cb cb, void *arg)
{
	return submit(ch, VPIO_XDMA_C2H, card_addr, iov, iovcnt, cb, arg);
}
