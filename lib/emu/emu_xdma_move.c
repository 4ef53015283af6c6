/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data of one descriptor of the emulated XDMA device.  Host addresses
 * go through the emulated IOMMU (vpio_iova_to_vaddr(), page by page when
 * a range is contiguous in IOVA space but not in virtual memory); card
 * addresses index card memory.  What hardware reports, and how:
 *   H2C host read not registered      read error, unsupported request
 *   H2C card write outside memory     write error, decode error
 *   C2H card read outside memory      read error, decode error
 *   C2H host write not registered     none (a posted write): dropped
 *   host and card misaligned to each other (memory-mapped), or a stream
 *   host address not aligned          align mismatch
 * Every host-side case is also a host error (counted, logged).
 */
#include <string.h>

#include "emu_xdma_internal.h"

#define RD_ERR(kind) (1u << (VPIO_XDMA_ST_READ_ERROR_SHIFT + (kind)))
#define WR_ERR(kind) (1u << (VPIO_XDMA_ST_WRITE_ERROR_SHIFT + (kind)))
#define PAGE 4096ull

/* Host memory at [iova, iova + len): the longest translatable piece from
 * iova (*n bytes), NULL when its first page is not registered or lies
 * beyond the engine's address bits. */
static void *host_piece(struct emu_xdma_engine *e, uint64_t iova, uint64_t len, uint64_t *n)
{
	uint32_t bits = e->x->opts.addrbits;
	void *p;

	if (bits < 64 && (iova >= (1ull << bits) || len > (1ull << bits) - iova))
		return NULL;
	p = vpio_iova_to_vaddr(iova, len);
	if (p != NULL) {
		*n = len;
		return p;
	}
	*n = VPIO_MIN(len, PAGE - iova % PAGE);
	return vpio_iova_to_vaddr(iova, *n);
}

static void host_fault(struct emu_xdma_engine *e, uint64_t iova, uint64_t len, const char *what)
{
	struct vpio_emu_xdma *x = e->x;

	emu_xdma_stat(&x->stats.iommu_faults, 1);
	emu_xdma_host_error(x, "%s %s: %s at 0x%llx+0x%llx is not registered or beyond %u address bits (IOMMU fault)",
			    x->name, e->label, what, (unsigned long long)iova, (unsigned long long)len, x->opts.addrbits);
}

/* Copy between host memory and buf; false (after host_fault) when a page
 * is not registered. */
static bool host_copy(struct emu_xdma_engine *e, uint64_t iova, uint8_t *buf, uint64_t len, bool to_host,
		      const char *what)
{
	while (len > 0) {
		uint64_t n;
		uint8_t *p = host_piece(e, iova, len, &n);

		if (p == NULL) {
			host_fault(e, iova, len, what);
			return false;
		}
		if (to_host)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		iova += n;
		buf += n;
		len -= n;
	}
	return true;
}

static bool card_range_ok(const struct vpio_emu_xdma *x, uint64_t addr, uint64_t len)
{
	return addr < x->opts.mem && len <= x->opts.mem - addr;
}

static uint32_t misaligned(struct emu_xdma_engine *e, uint64_t a, uint64_t b, const char *what)
{
	struct vpio_emu_xdma *x = e->x;

	if (((a ^ b) & (x->opts.align - 1)) == 0)
		return 0;
	emu_xdma_host_error(x, "%s %s: %s 0x%llx and 0x%llx differ modulo the engine's %u-byte alignment", x->name, e->label,
			    what, (unsigned long long)a, (unsigned long long)b, x->opts.align);
	return VPIO_XDMA_ST_ALIGN_MISMATCH;
}

static uint32_t move_mm(struct emu_xdma_engine *e, uint64_t src, uint64_t dst, uint64_t len)
{
	struct vpio_emu_xdma *x = e->x;
	uint64_t card = e->c2h ? src : dst, host = e->c2h ? dst : src;
	uint32_t err = misaligned(e, host, card, "host and card addresses");

	if (err != 0)
		return err;
	if (!card_range_ok(x, card, len)) {
		emu_xdma_host_error(x, "%s %s: card range 0x%llx+0x%llx is beyond the %llu bytes of card memory", x->name,
				    e->label, (unsigned long long)card, (unsigned long long)len,
				    (unsigned long long)x->opts.mem);
		return e->c2h ? RD_ERR(VPIO_XDMA_AXI_DECERR) : WR_ERR(VPIO_XDMA_AXI_DECERR);
	}
	if (!e->c2h) {
		if (!host_copy(e, src, x->mem.mem + dst, len, false, "H2C source"))
			return RD_ERR(VPIO_XDMA_PCIE_UR);
		emu_xdma_stat(&x->stats.bytes_h2c, len);
		return 0;
	}
	/* corrupt=N: card memory goes bad under the N-th read (test aid) */
	if (__builtin_expect(x->opts.corrupt != 0, 0) &&
	    __atomic_add_fetch(&x->c2h_mm_descs, 1, __ATOMIC_RELAXED) == x->opts.corrupt)
		x->mem.mem[src] ^= 0xff;
	/* a C2H write to an unregistered page is posted: no status, dropped */
	if (host_copy(e, dst, x->mem.mem + src, len, true, "C2H destination (write dropped)"))
		emu_xdma_stat(&x->stats.bytes_c2h, len);
	return 0;
}

/* H2C stream: the descriptor's bytes into the FIFO, then the packet end
 * when it has EOP.  EMU_XDMA_AGAIN while the FIFO is full. */
static uint32_t stream_h2c(struct emu_xdma_engine *e, const struct vpio_xdma_desc *d, uint64_t src, uint64_t len)
{
	struct emu_xdma_fifo *f = &e->x->fifo[e->ch];

	if (e->stream_done == 0) {
		uint32_t err = misaligned(e, src, 0, "stream host address (vs. 0)");

		if (err != 0)
			return err;
	}
	while (e->stream_done < len) {
		uint64_t n, put;
		uint8_t *p = host_piece(e, src + e->stream_done, len - e->stream_done, &n);
		bool last = (d->control & VPIO_XDMA_DESC_EOP) && e->stream_done + n == len;

		if (p == NULL) {
			host_fault(e, src + e->stream_done, len - e->stream_done, "H2C stream source");
			return RD_ERR(VPIO_XDMA_PCIE_UR);
		}
		if (last && n == 1) { /* the packet's last byte, with its end */
			if (!emu_xdma_fifo_put_last(f, p))
				return EMU_XDMA_AGAIN;
			put = 1;
		} else {
			put = emu_xdma_fifo_put(f, p, last ? n - 1 : n);
		}
		e->stream_done += put;
		emu_xdma_stat(&e->x->stats.bytes_h2c, put);
		if (put < (last && n > 1 ? n - 1 : n))
			return EMU_XDMA_AGAIN;
	}
	e->stream_done = 0;
	return 0;
}

/* C2H stream: fill the descriptor's buffer until it is full or a packet
 * ends, then write the result (length, EOP) to its source address. */
static uint32_t stream_c2h(struct emu_xdma_engine *e, uint64_t res, uint64_t dst, uint64_t len)
{
	struct vpio_emu_xdma *x = e->x;
	struct emu_xdma_fifo *f = &x->fifo[e->ch];
	struct vpio_xdma_c2h_result r;
	bool eop = false;

	if (e->stream_done == 0) {
		uint32_t err = misaligned(e, dst, 0, "stream host address (vs. 0)");

		if (err != 0)
			return err;
	}
	while (e->stream_done < len && !eop) {
		uint64_t n, got;
		void *p = host_piece(e, dst + e->stream_done, len - e->stream_done, &n);

		if (p == NULL) { /* posted writes: the data goes nowhere */
			n = len - e->stream_done;
			host_fault(e, dst + e->stream_done, n, "C2H stream destination (write dropped)");
		}
		got = emu_xdma_fifo_get(f, p, n, &eop);
		e->stream_done += got;
		emu_xdma_stat(&x->stats.bytes_c2h, got);
		if (got < n && !eop)
			return EMU_XDMA_AGAIN;
	}
	r.status = (VPIO_XDMA_RESULT_MAGIC << 16) | (eop ? VPIO_XDMA_RESULT_EOP : 0);
	r.len = (uint32_t)e->stream_done;
	e->stream_done = 0;
	if (!(emu_xdma_get(x, e->base + VPIO_XDMA_CH_CONTROL) & VPIO_XDMA_CTRL_NO_ST_WB))
		host_copy(e, res, (uint8_t *)&r, sizeof(r), true, "C2H stream result (write dropped)");
	return 0;
}

uint32_t emu_xdma_move(struct emu_xdma_engine *e, const struct vpio_xdma_desc *d)
{
	uint64_t len = d->len & VPIO_XDMA_DESC_LEN_MASK;
	uint64_t src = (uint64_t)d->src_hi << 32 | d->src_lo, dst = (uint64_t)d->dst_hi << 32 | d->dst_lo;

	if (e->stream_done == 0 && emu_xdma_take_fault(e, EMU_XF(DMA)))
		return e->c2h ? RD_ERR(VPIO_XDMA_AXI_SLVERR) : RD_ERR(VPIO_XDMA_PCIE_UR);
	if (!e->stream)
		return move_mm(e, src, dst, len);
	return e->c2h ? stream_c2h(e, src, dst, len) : stream_h2c(e, d, src, len);
}
