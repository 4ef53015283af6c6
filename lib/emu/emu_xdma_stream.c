/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stream loopback of the emulated XDMA device: H2C stream engine n
 * writes into a byte FIFO that C2H stream engine n reads, packet ends
 * (tlast, the EOP of the H2C descriptor) kept as byte positions.  One
 * producer and one consumer thread, no lock: positions only grow, each is
 * published with a release store.  A packet's last byte goes in with its
 * end, which is published first, so the reader never sees the one without
 * the other (on hardware tlast comes with the last data beat).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu_xdma_internal.h"

int emu_xdma_fifo_init(struct emu_xdma_fifo *f)
{
	memset(f, 0, sizeof(*f));
	f->buf = malloc(EMU_XDMA_FIFO_BYTES);
	return f->buf != NULL ? 0 : -ENOMEM;
}

void emu_xdma_fifo_free(struct emu_xdma_fifo *f)
{
	free(f->buf);
	f->buf = NULL;
}

void emu_xdma_fifo_reset(struct emu_xdma_fifo *f)
{
	__atomic_store_n(&f->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->eop_head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->eop_tail, 0, __ATOMIC_RELEASE);
}

/* Copy len bytes between the ring at position pos and flat memory. */
static void ring_copy(struct emu_xdma_fifo *f, uint64_t pos, void *flat, uint64_t len, bool into_ring)
{
	uint64_t off = pos % EMU_XDMA_FIFO_BYTES, first = VPIO_MIN(len, EMU_XDMA_FIFO_BYTES - off);
	uint8_t *p = flat;

	if (into_ring) {
		memcpy(f->buf + off, p, first);
		memcpy(f->buf, p + first, len - first);
	} else {
		memcpy(p, f->buf + off, first);
		memcpy(p + first, f->buf, len - first);
	}
}

uint64_t emu_xdma_fifo_put(struct emu_xdma_fifo *f, const void *src, uint64_t len)
{
	uint64_t tail = f->tail, head = __atomic_load_n(&f->head, __ATOMIC_ACQUIRE);
	uint64_t n = VPIO_MIN(len, EMU_XDMA_FIFO_BYTES - (tail - head));

	if (n == 0)
		return 0;
	ring_copy(f, tail, (void *)(uintptr_t)src, n, true);
	__atomic_store_n(&f->tail, tail + n, __ATOMIC_RELEASE);
	return n;
}

bool emu_xdma_fifo_put_last(struct emu_xdma_fifo *f, const void *byte)
{
	uint64_t t = f->eop_tail, tail = f->tail;

	if (t - __atomic_load_n(&f->eop_head, __ATOMIC_ACQUIRE) == EMU_XDMA_FIFO_EOPS ||
	    tail - __atomic_load_n(&f->head, __ATOMIC_ACQUIRE) == EMU_XDMA_FIFO_BYTES)
		return false;
	/* the packet end first: a reader that sees the byte sees it too */
	f->eop[t % EMU_XDMA_FIFO_EOPS] = tail + 1;
	__atomic_store_n(&f->eop_tail, t + 1, __ATOMIC_RELEASE);
	f->buf[tail % EMU_XDMA_FIFO_BYTES] = *(const uint8_t *)byte;
	__atomic_store_n(&f->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

uint64_t emu_xdma_fifo_get(struct emu_xdma_fifo *f, void *dst, uint64_t len, bool *eop)
{
	/* tail before the packet ends (they are published the other way round) */
	uint64_t head = f->head, tail = __atomic_load_n(&f->tail, __ATOMIC_ACQUIRE);
	uint64_t eh = f->eop_head, et = __atomic_load_n(&f->eop_tail, __ATOMIC_ACQUIRE);
	uint64_t mark = eh != et ? f->eop[eh % EMU_XDMA_FIFO_EOPS] : UINT64_MAX;
	uint64_t n = VPIO_MIN(len, VPIO_MIN(mark, tail) - head);

	*eop = false;
	if (n > 0 && dst != NULL)
		ring_copy(f, head, dst, n, false);
	if (n > 0)
		__atomic_store_n(&f->head, head + n, __ATOMIC_RELEASE);
	if (head + n == mark) {
		*eop = true;
		__atomic_store_n(&f->eop_head, eh + 1, __ATOMIC_RELEASE);
	}
	return n;
}
