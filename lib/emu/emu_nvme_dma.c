/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data pointers of NVMe commands (PRP entries and lists, SGL segments)
 * walked through the emulated IOMMU: every address is translated with
 * vpio_iova_to_vaddr(), so memory that is not registered with vpio fails
 * the command exactly as an IOMMU fault would on a real device.
 */
#include <string.h>

#include <vpio/env.h>

#include "emu_internal.h"

#define EMU_FAULT_LOG_LINES 5
/* Bound on SGL descriptors per command (loops through segments). */
#define EMU_SGL_MAX_DESC (1u << 20)
#define SGL_BATCH 16

static void dma_fault(const struct emu_dma *dma, uint64_t iova, uint64_t len, const char *what)
{
	if (dma->iommu_faults != NULL)
		emu_count(dma->iommu_faults, 1);
	if (dma->fault_logs == NULL || *dma->fault_logs == 0)
		return;
	(*dma->fault_logs)--;
	VPIO_ERR(EMU_MOD, "%s: IOMMU fault: %s at IOVA 0x%llx+0x%llx is not registered memory (vpio_mem_register/vpio_dma_malloc)%s",
		 dma->name ? dma->name : "emu", what, (unsigned long long)iova, (unsigned long long)len,
		 *dma->fault_logs == 0 ? "; further faults are only counted" : "");
}

void *emu_dma_map(const struct emu_dma *dma, uint64_t iova, uint64_t len, const char *what)
{
	void *p = vpio_iova_to_vaddr(iova, len);

	if (__builtin_expect(p == NULL, 0))
		dma_fault(dma, iova, len, what);
	return p;
}

/* Copy host memory at iova into buf, page by page if need be. */
static bool copy_in(const struct emu_dma *dma, uint64_t iova, void *buf, uint64_t len, const char *what)
{
	void *p = vpio_iova_to_vaddr(iova, len);

	if (p != NULL) {
		memcpy(buf, p, len);
		return true;
	}
	while (len > 0) {
		uint64_t n = VPIO_MIN(len, VPIO_PAGE_SIZE_4K - (iova & (VPIO_PAGE_SIZE_4K - 1)));

		p = emu_dma_map(dma, iova, n, what);
		if (p == NULL)
			return false;
		memcpy(buf, p, n);
		buf = (uint8_t *)buf + n;
		iova += n;
		len -= n;
	}
	return true;
}

/* ------------------------------------------------- piece emitter */

/* Collects translated pieces, merging the ones adjacent in virtual
 * memory, and hands them to fn. */
struct emit {
	const struct emu_dma *dma;
	emu_dma_fn fn;
	void *arg;
	uint8_t *pend;
	uint64_t pend_len;
	uint64_t pend_off;
	uint64_t off;
};

static uint16_t emit_flush(struct emit *e)
{
	uint16_t st = EMU_OK;

	if (e->pend_len > 0)
		st = e->fn(e->arg, e->pend, e->pend_len, e->pend_off);
	e->pend_len = 0;
	return st;
}

static uint16_t emit_host(struct emit *e, uint8_t *p, uint64_t len)
{
	uint16_t st;

	if (e->pend_len > 0 && e->pend + e->pend_len == p) {
		e->pend_len += len;
		e->off += len;
		return EMU_OK;
	}
	st = emit_flush(e);
	e->pend = p;
	e->pend_len = len;
	e->pend_off = e->off;
	e->off += len;
	return st;
}

static uint16_t emit_iova(struct emit *e, uint64_t iova, uint64_t len, const char *what)
{
	uint8_t *p = vpio_iova_to_vaddr(iova, len);

	if (__builtin_expect(p != NULL, 1))
		return emit_host(e, p, len);
	/* Contiguous in IOVA space, maybe not in virtual memory: by pages. */
	while (len > 0) {
		uint64_t n = VPIO_MIN(len, VPIO_PAGE_SIZE_4K - (iova & (VPIO_PAGE_SIZE_4K - 1)));
		uint16_t st;

		p = emu_dma_map(e->dma, iova, n, what);
		if (p == NULL)
			return EMU_SC(GENERIC, DATA_TRANSFER_ERROR);
		st = emit_host(e, p, n);
		if (st != EMU_OK)
			return st;
		iova += n;
		len -= n;
	}
	return EMU_OK;
}

/* A bit bucket: the data for this range is dropped (reads only). */
static uint16_t emit_skip(struct emit *e, uint64_t len)
{
	uint16_t st = emit_flush(e);

	e->off += len;
	return st;
}

/* ------------------------------------------------------------ PRP */

static uint16_t prp_walk(struct emit *e, uint64_t prp1, uint64_t prp2, uint64_t len)
{
	const uint64_t psz = 1ull << e->dma->page_bits, pmask = psz - 1;
	uint64_t n, list;
	uint16_t st;

	if (prp1 & 3)
		return EMU_SC(GENERIC, INVALID_PRP_OFFSET);
	n = VPIO_MIN(len, psz - (prp1 & pmask));
	st = emit_iova(e, prp1, n, "PRP1 data");
	if (st != EMU_OK)
		return st;
	len -= n;
	if (len == 0)
		return emit_flush(e);
	if (len <= psz) {
		if (prp2 & pmask)
			return EMU_SC(GENERIC, INVALID_PRP_OFFSET);
		st = emit_iova(e, prp2, len, "PRP2 data");
		return st != EMU_OK ? st : emit_flush(e);
	}
	/* PRP2 points to a list; the last entry of a full list page chains. */
	list = prp2;
	if (list & 7)
		return EMU_SC(GENERIC, INVALID_PRP_OFFSET);
	while (len > 0) {
		uint64_t slots = (psz - (list & pmask)) / 8, pages = (len + psz - 1) / psz;
		bool chain = pages > slots;
		uint64_t used = chain ? slots : pages;
		const emu_u64 *ent = emu_dma_map(e->dma, list, used * 8, "PRP list");

		if (ent == NULL)
			return EMU_SC(GENERIC, DATA_TRANSFER_ERROR);
		for (uint64_t i = 0; i < used - (chain ? 1 : 0); i++) {
			uint64_t a = ent[i];

			if (a & pmask)
				return EMU_SC(GENERIC, INVALID_PRP_OFFSET);
			n = VPIO_MIN(len, psz);
			st = emit_iova(e, a, n, "PRP list entry data");
			if (st != EMU_OK)
				return st;
			len -= n;
		}
		if (chain) {
			list = ent[used - 1];
			if (list & pmask)
				return EMU_SC(GENERIC, INVALID_PRP_OFFSET);
		}
	}
	return emit_flush(e);
}

/* ------------------------------------------------------------ SGL */

static uint16_t sgl_walk(struct emit *e, const struct vpio_nvme_sgl_desc *first, uint64_t len, bool to_host)
{
	struct vpio_nvme_sgl_desc d = *first, batch[SGL_BATCH];
	uint64_t left = len, seg_addr = 0;
	uint32_t seg_n = 0, seg_i = 0, total = 0;
	bool in_cmd = true, last_seg = false;
	uint16_t st;

	for (;;) {
		unsigned type = d.type >> 4, sub = d.type & 0xf;

		if (sub != 0)
			return EMU_SC(GENERIC, SGL_DESCRIPTOR_TYPE_INVALID);
		switch (type) {
		case VPIO_NVME_SGL_TYPE_DATA_BLOCK:
		case VPIO_NVME_SGL_TYPE_BIT_BUCKET:
			if (type == VPIO_NVME_SGL_TYPE_BIT_BUCKET && !to_host)
				return EMU_SC(GENERIC, SGL_DESCRIPTOR_TYPE_INVALID);
			if (d.length > left)
				return EMU_SC(GENERIC, DATA_SGL_LENGTH_INVALID);
			if (d.length > 0) {
				st = type == VPIO_NVME_SGL_TYPE_DATA_BLOCK ? emit_iova(e, d.address, d.length, "SGL data block")
									     : emit_skip(e, d.length);
				if (st != EMU_OK)
					return st;
			}
			left -= d.length;
			if (in_cmd)
				goto done;
			if (seg_i == seg_n) {
				if (!last_seg) /* a Segment must end with a segment descriptor */
					return EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR);
				goto done;
			}
			break;
		case VPIO_NVME_SGL_TYPE_SEGMENT:
		case VPIO_NVME_SGL_TYPE_LAST_SEGMENT:
			if (!in_cmd && (last_seg || seg_i != seg_n))
				return EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR);
			if (d.length == 0 || d.length % sizeof(d) != 0)
				return EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR);
			seg_addr = d.address;
			seg_n = d.length / sizeof(d);
			seg_i = 0;
			last_seg = type == VPIO_NVME_SGL_TYPE_LAST_SEGMENT;
			in_cmd = false;
			break;
		default:
			return EMU_SC(GENERIC, SGL_DESCRIPTOR_TYPE_INVALID);
		}
		if (++total > EMU_SGL_MAX_DESC)
			return EMU_SC(GENERIC, INVALID_NUM_SGL_DESCIRPTORS);
		if (seg_i % SGL_BATCH == 0) {
			uint32_t n = VPIO_MIN(seg_n - seg_i, SGL_BATCH);

			if (!copy_in(e->dma, seg_addr + (uint64_t)seg_i * sizeof(d), batch, n * sizeof(d), "SGL segment"))
				return EMU_SC(GENERIC, DATA_TRANSFER_ERROR);
		}
		d = batch[seg_i % SGL_BATCH];
		seg_i++;
	}
done:
	if (left > 0)
		return EMU_SC(GENERIC, DATA_SGL_LENGTH_INVALID);
	return emit_flush(e);
}

uint16_t emu_dma_walk(const struct emu_dma *dma, const struct vpio_nvme_cmd *cmd, uint64_t len, bool to_host,
		      emu_dma_fn fn, void *arg)
{
	struct emit e = { .dma = dma, .fn = fn, .arg = arg };

	if (len == 0)
		return EMU_OK;
	switch (cmd->flags & VPIO_NVME_PSDT_MASK) {
	case VPIO_NVME_PSDT_PRP:
		return prp_walk(&e, cmd->dptr.prp.prp1, cmd->dptr.prp.prp2, len);
	case VPIO_NVME_PSDT_SGL_MPTR_CONTIG:
	case VPIO_NVME_PSDT_SGL_MPTR_SGL:
		if (!dma->sgl)
			return EMU_SC(GENERIC, INVALID_FIELD);
		return sgl_walk(&e, &cmd->dptr.sgl1, len, to_host);
	default:
		return EMU_SC(GENERIC, INVALID_FIELD);
	}
}

/* --------------------------------------------- local buffer copies */

static uint16_t copy_to_host_fn(void *arg, void *host, uint64_t len, uint64_t off)
{
	memcpy(host, (const uint8_t *)arg + off, len);
	return EMU_OK;
}

static uint16_t copy_from_host_fn(void *arg, void *host, uint64_t len, uint64_t off)
{
	memcpy((uint8_t *)arg + off, host, len);
	return EMU_OK;
}

uint16_t emu_dma_to_host(const struct emu_dma *dma, const struct vpio_nvme_cmd *cmd, const void *buf, uint64_t len)
{
	return emu_dma_walk(dma, cmd, len, true, copy_to_host_fn, (void *)(uintptr_t)buf);
}

uint16_t emu_dma_from_host(const struct emu_dma *dma, const struct vpio_nvme_cmd *cmd, void *buf, uint64_t len)
{
	return emu_dma_walk(dma, cmd, len, false, copy_from_host_fn, buf);
}
