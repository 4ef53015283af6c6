/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DMA config BAR of the emulated XDMA device, register by register.
 * Every access comes through the device handle's BAR accessors and is
 * carried out here, on the accessing thread, with atomics on the register
 * words: read-write, write-1-to-set, write-1-to-clear, RW1C Status and its
 * clear-on-read twin, credits that add up, and the rising edge of Run
 * (Status bits 23:1 and the completed count cleared, the first descriptor
 * latched, the engine thread told).  Accesses that hardware would not
 * define (unaligned, outside the BAR, a write to a read-only register)
 * are host errors.
 */
#include <string.h>

#include "emu_xdma_internal.h"

#define XDMA_VERSION 6u	     /* 2017.1 and later */
#define XDMA_SYSID 0xff01u
#define XDMA_MSIX_VECTORS 32u

static uint32_t block_id(uint32_t target, uint32_t ch, bool stream)
{
	return VPIO_XDMA_ID_BLOCK(target) | (stream ? VPIO_XDMA_ID_STREAM : 0) | (ch << 8) | XDMA_VERSION;
}

void emu_xdma_regs_init(struct vpio_emu_xdma *x)
{
	const struct emu_xdma_opts *o = &x->opts;
	uint32_t align = (o->align << 16) | (o->gran << 8) | o->addrbits;

	memset(x->regs, 0, VPIO_XDMA_CONFIG_BAR_SIZE);
	for (uint32_t d = 0; d < 2; d++) {
		for (uint32_t ch = 0; ch < VPIO_XDMA_MAX_CHANNELS; ch++) {
			uint32_t base = VPIO_XDMA_BLOCK(d, ch);

			if (!emu_xdma_present(x, d == 1, ch))
				continue;
			emu_xdma_set(x, base + VPIO_XDMA_CH_ID, block_id(d, ch, o->stream));
			emu_xdma_set(x, base + VPIO_XDMA_CH_ALIGNMENTS, align);
			emu_xdma_set(x, base + VPIO_XDMA_SGDMA_OFFSET + VPIO_XDMA_SG_ID, block_id(d + 4, ch, o->stream));
		}
	}
	emu_xdma_set(x, VPIO_XDMA_BLOCK(VPIO_XDMA_TGT_IRQ, 0), block_id(VPIO_XDMA_TGT_IRQ, 0, false));
	emu_xdma_set(x, VPIO_XDMA_BLOCK(VPIO_XDMA_TGT_CONFIG, 0), block_id(VPIO_XDMA_TGT_CONFIG, 0, false));
	emu_xdma_set(x, VPIO_XDMA_BLOCK(VPIO_XDMA_TGT_SGDMA_COMMON, 0), block_id(VPIO_XDMA_TGT_SGDMA_COMMON, 0, false));
	/* config block: MPS 256, MRRS 512, 256-bit data path */
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_MPS, 1);
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_MRRS, 2);
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_SYSID, XDMA_SYSID);
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_DATA_WIDTH, 2);
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_PCIE_CTRL, 1);
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_AXI_MPS, 1);
	emu_xdma_set(x, 0x3000 + VPIO_XDMA_CFG_AXI_MRRS, 2);
	for (uint32_t v = 0; v < XDMA_MSIX_VECTORS; v++)
		emu_xdma_set(x, 0x8000 + v * 16 + 12, 1); /* masked */
}

/* ------------------------------------------------------------ helpers */

enum op { OP_SET, OP_W1S, OP_W1C };

/* Apply op to the word at off; returns the old value, *nv the new one. */
static uint32_t apply(struct vpio_emu_xdma *x, uint32_t off, enum op op, uint32_t v, uint32_t mask, uint32_t *nv)
{
	uint32_t *r = emu_xdma_reg(x, off), old = __atomic_load_n(r, __ATOMIC_SEQ_CST), n;

	do {
		n = op == OP_SET ? v : op == OP_W1S ? old | v : old & ~v;
		n &= mask;
	} while (!__atomic_compare_exchange_n(r, &old, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	if (nv != NULL)
		*nv = n;
	return old;
}

static const char *target_name(uint32_t t)
{
	static const char *const n[] = { "H2C channel", "C2H channel", "IRQ block", "config block", "H2C SGDMA",
					 "C2H SGDMA", "SGDMA common", "target 7", "MSI-X" };

	return t < VPIO_ARRAY_SIZE(n) ? n[t] : "an undefined target";
}

static void read_only(struct vpio_emu_xdma *x, uint32_t off, uint32_t val)
{
	emu_xdma_host_error(x, "%s: write of 0x%08x to read-only register 0x%04x (%s)", x->name, val, off,
			    target_name(off >> VPIO_XDMA_TARGET_SHIFT));
}

/* ------------------------------------------------------------ engines */

static void run_rise(struct emu_xdma_engine *e)
{
	struct vpio_emu_xdma *x = e->x;
	uint32_t sg = e->base + VPIO_XDMA_SGDMA_OFFSET;
	uint64_t desc = emu_xdma_get(x, sg + VPIO_XDMA_SG_DESC_LO) | (uint64_t)emu_xdma_get(x, sg + VPIO_XDMA_SG_DESC_HI) << 32;

	/* finishing first (go_idle() clears busy before it): an engine
	 * still busy with the final writeback of its run is done */
	if (!__atomic_load_n(&e->finishing, __ATOMIC_SEQ_CST) &&
	    (emu_xdma_get(x, e->base + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY))
		emu_xdma_host_error(x, "%s %s: Run set while the engine is still busy (clear Run and wait for Status busy = 0 first)",
				    x->name, e->label);
	__atomic_store_n(&e->start_desc, desc, __ATOMIC_RELAXED);
	__atomic_store_n(&e->start_adj, emu_xdma_get(x, sg + VPIO_XDMA_SG_DESC_ADJ) & VPIO_XDMA_DESC_ADJ_MAX,
			 __ATOMIC_RELAXED);
	emu_xdma_set(x, e->base + VPIO_XDMA_CH_COMPLETED, 0);
	__atomic_fetch_and(emu_xdma_reg(x, e->base + VPIO_XDMA_CH_STATUS), ~VPIO_XDMA_ST_CLEARABLE, __ATOMIC_SEQ_CST);
	emu_xdma_stat(&x->stats.runs, 1);
	__atomic_fetch_add(&e->start_seq, 1, __ATOMIC_RELEASE);
}

static void control(struct emu_xdma_engine *e, enum op op, uint32_t v)
{
	uint32_t nv, old = apply(e->x, e->base + VPIO_XDMA_CH_CONTROL, op, v, VPIO_XDMA_CTRL_MASK, &nv);

	if (!(old & VPIO_XDMA_CTRL_RUN) && (nv & VPIO_XDMA_CTRL_RUN))
		run_rise(e);
}

static uint32_t chan_read(struct vpio_emu_xdma *x, struct emu_xdma_engine *e, uint32_t r)
{
	switch (r) {
	case VPIO_XDMA_CH_CONTROL_W1S:
	case VPIO_XDMA_CH_CONTROL_W1C:
		return emu_xdma_get(x, e->base + VPIO_XDMA_CH_CONTROL);
	case VPIO_XDMA_CH_STATUS_RC:
		return __atomic_fetch_and(emu_xdma_reg(x, e->base + VPIO_XDMA_CH_STATUS), ~VPIO_XDMA_ST_CLEARABLE,
					  __ATOMIC_SEQ_CST);
	case VPIO_XDMA_CH_IRQ_MASK_W1S:
	case VPIO_XDMA_CH_IRQ_MASK_W1C:
		return emu_xdma_get(x, e->base + VPIO_XDMA_CH_IRQ_MASK);
	default:
		return emu_xdma_get(x, e->base + r);
	}
}

static void chan_write(struct vpio_emu_xdma *x, struct emu_xdma_engine *e, uint32_t r, uint32_t v)
{
	uint32_t off = e->base + r;

	switch (r) {
	case VPIO_XDMA_CH_CONTROL: control(e, OP_SET, v); break;
	case VPIO_XDMA_CH_CONTROL_W1S: control(e, OP_W1S, v); break;
	case VPIO_XDMA_CH_CONTROL_W1C: control(e, OP_W1C, v); break;
	case VPIO_XDMA_CH_STATUS: /* RW1C, busy is read-only */
		__atomic_fetch_and(emu_xdma_reg(x, off), ~(v & VPIO_XDMA_ST_CLEARABLE), __ATOMIC_SEQ_CST);
		break;
	case VPIO_XDMA_CH_WB_LO:
	case VPIO_XDMA_CH_WB_HI:
		emu_xdma_set(x, off, v);
		break;
	case VPIO_XDMA_CH_IRQ_MASK: apply(x, off, OP_SET, v, 0x00fffe7fu, NULL); break;
	case VPIO_XDMA_CH_IRQ_MASK_W1S: apply(x, e->base + VPIO_XDMA_CH_IRQ_MASK, OP_W1S, v, 0x00fffe7fu, NULL); break;
	case VPIO_XDMA_CH_IRQ_MASK_W1C: apply(x, e->base + VPIO_XDMA_CH_IRQ_MASK, OP_W1C, v, 0x00fffe7fu, NULL); break;
	case VPIO_XDMA_CH_PERF_CTRL: emu_xdma_set(x, off, v & 0x7); break;
	default:
		read_only(x, off, v);
		break;
	}
}

static void sgdma_write(struct vpio_emu_xdma *x, struct emu_xdma_engine *e, uint32_t r, uint32_t v)
{
	uint32_t off = e->base + VPIO_XDMA_SGDMA_OFFSET + r;

	switch (r) {
	case VPIO_XDMA_SG_DESC_LO:
	case VPIO_XDMA_SG_DESC_HI:
		emu_xdma_set(x, off, v);
		break;
	case VPIO_XDMA_SG_DESC_ADJ:
		if (v > VPIO_XDMA_DESC_ADJ_MAX)
			emu_xdma_host_error(x, "%s %s: first descriptor adjacent count %u is above 63 (a 6-bit field)", x->name,
					    e->label, v);
		emu_xdma_set(x, off, v & VPIO_XDMA_DESC_ADJ_MAX);
		break;
	case VPIO_XDMA_SG_CREDITS: /* writes add */
		__atomic_fetch_add(emu_xdma_reg(x, off), v & 0x3ffu, __ATOMIC_SEQ_CST);
		break;
	default:
		read_only(x, off, v);
		break;
	}
}

/* A register with W1S at +4 and W1C at +8 (IRQ enables, halt, credit mode). */
static bool triple(struct vpio_emu_xdma *x, uint32_t blk, uint32_t r, const uint32_t *bases, size_t n, uint32_t v,
		   bool write, uint32_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (r < bases[i] || r > bases[i] + 8)
			continue;
		if (!write)
			*out = emu_xdma_get(x, blk + bases[i]);
		else
			apply(x, blk + bases[i], (enum op)((r - bases[i]) / 4), v, UINT32_MAX, NULL);
		return true;
	}
	return false;
}

static const uint32_t g_irq_triples[] = { VPIO_XDMA_IRQ_USER_EN, VPIO_XDMA_IRQ_CHAN_EN };
static const uint32_t g_common_triples[] = { VPIO_XDMA_COMMON_HALT, VPIO_XDMA_COMMON_CREDIT };

/* ------------------------------------------------------------ dispatch */

static struct emu_xdma_engine *engine_at(struct vpio_emu_xdma *x, uint32_t target, uint32_t ch)
{
	bool c2h = target == VPIO_XDMA_TGT_C2H || target == VPIO_XDMA_TGT_C2H_SGDMA;

	if (ch >= VPIO_XDMA_MAX_CHANNELS || !emu_xdma_present(x, c2h, ch))
		return NULL;
	return emu_xdma_eng(x, c2h, ch);
}

static bool bad_access(struct vpio_emu_xdma *x, uint32_t off, const char *what)
{
	if (off % 4 == 0 && off <= VPIO_XDMA_CONFIG_BAR_SIZE - 4)
		return false;
	emu_xdma_host_error(x, "%s: %s at config BAR offset 0x%x (32-bit accesses at 4-byte aligned offsets below 0x%x only)",
			    x->name, what, off, VPIO_XDMA_CONFIG_BAR_SIZE);
	return true;
}

uint32_t emu_xdma_reg_read(struct vpio_emu_xdma *x, uint32_t off)
{
	uint32_t t = off >> VPIO_XDMA_TARGET_SHIFT, ch = (off >> VPIO_XDMA_CHANNEL_SHIFT) & 0xf, r = off & 0xff;
	struct emu_xdma_engine *e;
	uint32_t v = 0;

	if (bad_access(x, off, "read"))
		return UINT32_MAX;
	switch (t) {
	case VPIO_XDMA_TGT_H2C:
	case VPIO_XDMA_TGT_C2H:
		e = engine_at(x, t, ch);
		return e != NULL ? chan_read(x, e, r) : 0;
	case VPIO_XDMA_TGT_IRQ:
		if (ch == 0 && triple(x, off & ~0xffu, r, g_irq_triples, VPIO_ARRAY_SIZE(g_irq_triples), 0, false, &v))
			return v;
		break;
	case VPIO_XDMA_TGT_SGDMA_COMMON:
		if (ch == 0 && triple(x, off & ~0xffu, r, g_common_triples, VPIO_ARRAY_SIZE(g_common_triples), 0, false, &v))
			return v;
		break;
	default:
		break;
	}
	return emu_xdma_get(x, off);
}

static void write_block(struct vpio_emu_xdma *x, uint32_t off, uint32_t v)
{
	uint32_t t = off >> VPIO_XDMA_TARGET_SHIFT, ch = (off >> VPIO_XDMA_CHANNEL_SHIFT) & 0xf, r = off & 0xff;

	switch (t) {
	case VPIO_XDMA_TGT_IRQ:
		if (ch == 0 && triple(x, off & ~0xffu, r, g_irq_triples, VPIO_ARRAY_SIZE(g_irq_triples), v, true, NULL))
			return;
		if (ch == 0 && r >= 0x80 && r <= 0xa4) { /* MSI vector numbers */
			emu_xdma_set(x, off, v & 0x1f1f1f1fu);
			return;
		}
		break;
	case VPIO_XDMA_TGT_CONFIG:
		if (ch == 0 && (r == VPIO_XDMA_CFG_PCIE_CTRL || r == VPIO_XDMA_CFG_WR_FLUSH_TIMEOUT)) {
			emu_xdma_set(x, off, v);
			return;
		}
		break;
	case VPIO_XDMA_TGT_SGDMA_COMMON:
		if (ch == 0 && triple(x, off & ~0xffu, r, g_common_triples, VPIO_ARRAY_SIZE(g_common_triples), v, true, NULL))
			return;
		break;
	case VPIO_XDMA_TGT_MSIX:
		emu_xdma_set(x, off, v);
		return;
	default:
		break;
	}
	read_only(x, off, v);
}

void emu_xdma_reg_write(struct vpio_emu_xdma *x, uint32_t off, uint32_t v)
{
	uint32_t t = off >> VPIO_XDMA_TARGET_SHIFT, ch = (off >> VPIO_XDMA_CHANNEL_SHIFT) & 0xf, r = off & 0xff;
	struct emu_xdma_engine *e;

	if (bad_access(x, off, "write"))
		return;
	if (t <= VPIO_XDMA_TGT_C2H || t == VPIO_XDMA_TGT_H2C_SGDMA || t == VPIO_XDMA_TGT_C2H_SGDMA) {
		e = engine_at(x, t, ch);
		if (e == NULL)
			emu_xdma_host_error(x, "%s: write of 0x%08x to 0x%04x: %s %u is not present", x->name, v, off,
					    target_name(t), ch);
		else if (t <= VPIO_XDMA_TGT_C2H)
			chan_write(x, e, r, v);
		else
			sgdma_write(x, e, r, v);
		return;
	}
	write_block(x, off, v);
}
