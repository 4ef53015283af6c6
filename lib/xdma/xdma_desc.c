/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The descriptor ring of an XDMA channel.  A transfer takes one 32-byte
 * descriptor per piece of its buffers that is contiguous in IOVA space,
 * cut at max_desc_len; every descriptor asks for a completion writeback
 * (COMPLETED), the last of an H2C stream transfer ends the packet (EOP).
 * A chain (the transfers of one batch) is linked when it is started: each
 * descriptor's Nxt_adj tells the engine how many descriptors after the
 * next one it may fetch with it, and a block never leaves its 64-slot
 * (2 KiB) group, so it never crosses a 4 KiB boundary, and never goes
 * past the chain's last descriptor, which has STOP.  Pure: translation is
 * a callback.
 */
#include <errno.h>

#include "xdma_internal.h"

uint64_t xdma_xlate_vtophys(void *ctx, const void *vaddr, uint64_t *len)
{
	(void)ctx;
	return vpio_vtophys(vaddr, len);
}

void xdma_ring_init_links(struct xdma_ring *r)
{
	for (uint32_t s = 0; s < r->size; s++) {
		uint64_t nxt = xdma_ring_iova(r, s + 1);

		r->desc[s].nxt_lo = (uint32_t)nxt;
		r->desc[s].nxt_hi = (uint32_t)(nxt >> 32);
	}
}

static void put_desc(const struct xdma_build *b, struct xdma_ring *r, uint32_t slot, uint64_t host, uint64_t card,
		     uint32_t len)
{
	struct vpio_xdma_desc *d = &r->desc[slot & r->mask];
	uint64_t src, dst;

	if (b->c2h) {
		src = b->stream ? xdma_result_iova(r, slot) : card;
		dst = host;
	} else {
		src = host;
		dst = b->stream ? 0 : card;
	}
	d->control = vpio_xdma_desc_control(0, VPIO_XDMA_DESC_COMPLETED);
	d->len = len;
	d->src_lo = (uint32_t)src;
	d->src_hi = (uint32_t)(src >> 32);
	d->dst_lo = (uint32_t)dst;
	d->dst_hi = (uint32_t)(dst >> 32);
}

/* The IOVA of the piece at p (*len cut to its contiguous bytes), checked
 * against the engine's address bits; UINT64_MAX (logged) when unusable. */
static uint64_t piece(const struct xdma_build *b, const uint8_t *p, uint64_t *len, const struct iovec *v)
{
	uint64_t want = *len, io = b->xlate(b->xlate_ctx, p, len);

	if (io == UINT64_MAX || *len == 0) {
		VPIO_ERR(XDMA_MOD, "%s: buffer %p+%zu: %p (%llu bytes on) is not registered for DMA; use vpio_dma_malloc() or vpio_mem_register()",
			 b->name, v->iov_base, v->iov_len, (const void *)p, (unsigned long long)want);
		return UINT64_MAX;
	}
	if (b->addr_bits < 64 && (io >= (1ull << b->addr_bits) || *len > (1ull << b->addr_bits) - io)) {
		VPIO_ERR(XDMA_MOD, "%s: buffer %p+%zu: IOVA 0x%llx+0x%llx is beyond the engine's %u address bits",
			 b->name, v->iov_base, v->iov_len, (unsigned long long)io, (unsigned long long)*len, b->addr_bits);
		return UINT64_MAX;
	}
	return io;
}

int64_t xdma_build_xfer(const struct xdma_build *b, struct xdma_ring *r, uint64_t card, const struct iovec *iov,
			uint32_t iovcnt)
{
	uint32_t room = r->size - (r->tail - r->head);
	uint64_t n = 0;

	for (uint32_t i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		uint64_t left = iov[i].iov_len;

		while (left > 0) {
			uint64_t len = left, io = piece(b, p, &len, &iov[i]);

			if (io == UINT64_MAX)
				return -EFAULT;
			left -= len;
			p += len;
			while (len > 0) {
				uint32_t dl = (uint32_t)VPIO_MIN(len, (uint64_t)b->max_desc_len);

				if (n < room)
					put_desc(b, r, r->tail + (uint32_t)n, io, card, dl);
				n++;
				io += dl;
				card += dl;
				len -= dl;
			}
		}
	}
	if (n > r->size) {
		VPIO_ERR(XDMA_MOD, "%s: the transfer needs %llu descriptors (IOVA-contiguous pieces of at most %u bytes), more than the ring's %u; split it or open the channel with a larger ring_size",
			 b->name, (unsigned long long)n, b->max_desc_len, r->size);
		return -E2BIG;
	}
	if (n > room)
		return -EAGAIN;
	if (!b->c2h && b->stream)
		r->desc[(r->tail + (uint32_t)n - 1) & r->mask].control |= VPIO_XDMA_DESC_EOP;
	return (int64_t)n;
}

/* Adjacent descriptors that may follow slot in one block: the rest of its
 * 64-slot group, at most the after descriptors the chain still has. */
static uint32_t block_adj(uint32_t slot, uint32_t after)
{
	uint32_t rest = VPIO_XDMA_DESC_ADJ_MAX - (slot & VPIO_XDMA_DESC_ADJ_MAX);

	return rest < after ? rest : after;
}

uint32_t xdma_link_chain(struct xdma_ring *r, uint32_t first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct vpio_xdma_desc *d = &r->desc[(first + i) & r->mask];
		uint32_t flags = d->control & (VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_EOP);

		if (i + 1 == n)
			d->control = vpio_xdma_desc_control(0, flags | VPIO_XDMA_DESC_STOP);
		else
			d->control = vpio_xdma_desc_control(block_adj(first + i + 1, n - i - 2), flags);
	}
	return block_adj(first, n - 1);
}
