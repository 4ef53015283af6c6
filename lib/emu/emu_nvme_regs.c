/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The register state machine of the emulated NVMe controller: power-on
 * values, CC.EN (enable with its checks, disable), CC.SHN, CSTS.RDY after a
 * short delay (rdydelay, also for a disable when given), fatal errors and
 * function-level reset.  CC changes the specification leaves undefined or
 * forbids (EN cleared while RDY = 0 during an enable, EN set while RDY = 1,
 * CSS/MPS/AMS changed while EN = 1) are logged as host errors.  Runs on the
 * controller thread.
 */
#include <string.h>

#include "emu_internal.h"

#define EMU_TIMEOUT_500MS 10		/* CAP.TO: 5 s */

void emu_csts_update(struct vpio_emu_nvme *c, uint32_t clear, uint32_t set)
{
	emu_set_reg32(c, VPIO_NVME_REG_CSTS, (emu_reg32(c, VPIO_NVME_REG_CSTS) & ~clear) | set);
}

/* Power-on values of every register (the doorbells too). */
void emu_regs_init(struct vpio_emu_nvme *c)
{
	memset(c->bar, 0, c->bar_len);
	emu_store64(c->bar + VPIO_NVME_REG_CAP, c->cap);
	emu_set_reg32(c, VPIO_NVME_REG_VS, 0x00010400);
	c->cc = 0;
}

uint64_t emu_nvme_cap(const struct emu_nvme_opts *o)
{
	return (uint64_t)(o->qdepth - 1) | 1ull << 16 /* CQR */ | (uint64_t)EMU_TIMEOUT_500MS << 24 |
	       (uint64_t)o->dstrd << 32 | (uint64_t)VPIO_NVME_CAP_CSS_NVM << 37 | (uint64_t)o->mpsmin << 48 |
	       (uint64_t)EMU_NVME_MPSMAX << 52;
}

/* Stop everything: no host memory is touched after this returns.  CSTS
 * becomes 0, or only RDY stays until unready_due (a slow disable). */
static void ctrl_stop(struct vpio_emu_nvme *c, uint64_t unready_due)
{
	if (c->enabled && !c->shutdown_done)
		c->unsafe_shutdowns++;
	emu_queues_reset(c);
	emu_features_reset(c);
	c->enabled = c->ready = c->fatal = c->shutdown_done = false;
	c->ready_due_ns = 0;
	c->unready_due_ns = unready_due;
	c->dma.page_bits = 12;
	/* RDY goes low last (release): the driver may free queue memory then. */
	emu_set_reg32(c, VPIO_NVME_REG_CSTS, unready_due ? VPIO_NVME_CSTS_RDY : 0);
}

void emu_ctrl_disable(struct vpio_emu_nvme *c)
{
	ctrl_stop(c, 0);
}

/* CC fields that may change only while CC.EN = 0 */
#define EMU_CC_FIXED ((0x7u << VPIO_NVME_CC_CSS_SHIFT) | (0xfu << VPIO_NVME_CC_MPS_SHIFT) | (0x7u << VPIO_NVME_CC_AMS_SHIFT))

static void host_error(struct vpio_emu_nvme *c, const char *what)
{
	VPIO_ERR(EMU_MOD, "%s: host error: %s (NVMe base specification, CC)", c->name, what);
}

/* CC.EN 1 -> 0: the queues stop now; with rdydelay, CSTS.RDY follows
 * later. */
static void host_disable(struct vpio_emu_nvme *c)
{
	bool rdy = (emu_reg32(c, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_RDY) != 0;
	uint64_t delay = (c->opts.set & EMU_OPT_RDYDELAY) ? (uint64_t)c->opts.rdy_delay_us * 1000 : 0;

	if (c->enabled && !c->ready)
		host_error(c, "CC.EN cleared while CSTS.RDY = 0 during an enable: undefined results; wait for CSTS.RDY = 1 first");
	ctrl_stop(c, rdy && delay ? emu_now_ns() + delay : 0);
}

/* CSTS.RDY follows CC.EN once its time has come. */
static void rdy_follow(struct vpio_emu_nvme *c)
{
	uint64_t now = emu_now_ns();

	if (c->ready_due_ns != 0 && now >= c->ready_due_ns) {
		c->ready_due_ns = 0;
		c->ready = true;
		emu_csts_update(c, 0, VPIO_NVME_CSTS_RDY);
	}
	if (c->unready_due_ns != 0 && now >= c->unready_due_ns) {
		c->unready_due_ns = 0;
		emu_csts_update(c, VPIO_NVME_CSTS_RDY, 0);
	}
}

static bool enable_fail(struct vpio_emu_nvme *c, const char *why, unsigned long long v)
{
	VPIO_ERR(EMU_MOD, "%s: controller enable failed, CSTS.CFS set: %s (0x%llx)", c->name, why, v);
	emu_csts_update(c, 0, VPIO_NVME_CSTS_CFS);
	return false;
}

static bool ctrl_enable(struct vpio_emu_nvme *c, uint32_t cc)
{
	uint32_t aqa = emu_reg32(c, VPIO_NVME_REG_AQA), mps = (cc >> VPIO_NVME_CC_MPS_SHIFT) & 0xf;
	uint32_t asqs = (aqa & 0xfff) + 1, acqs = ((aqa >> 16) & 0xfff) + 1;
	uint64_t asq = emu_load64(c->bar + VPIO_NVME_REG_ASQ), acq = emu_load64(c->bar + VPIO_NVME_REG_ACQ);

	if (c->fatal)
		return enable_fail(c, "a fatal error is pending; clear CC.EN first", cc);
	if (((cc >> VPIO_NVME_CC_CSS_SHIFT) & 0x7) != 0)
		return enable_fail(c, "CC.CSS must select the NVM command set (0)", cc);
	if (mps > EMU_NVME_MPSMAX)
		return enable_fail(c, "CC.MPS above CAP.MPSMAX (4 = 64 KiB pages)", cc);
	if (mps < c->opts.mpsmin)
		return enable_fail(c, "CC.MPS below CAP.MPSMIN (the mpsmin= option)", cc);
	if (((cc >> VPIO_NVME_CC_AMS_SHIFT) & 0x7) != 0)
		return enable_fail(c, "CC.AMS must be round robin (0)", cc);
	if (((cc >> VPIO_NVME_CC_IOSQES_SHIFT) & 0xf) != 6 || ((cc >> VPIO_NVME_CC_IOCQES_SHIFT) & 0xf) != 4)
		return enable_fail(c, "CC.IOSQES must be 6 (64 B) and CC.IOCQES 4 (16 B)", cc);
	if ((aqa & 0xfff) == 0 || ((aqa >> 16) & 0xfff) == 0)
		return enable_fail(c, "AQA: admin queues need at least 2 entries", aqa);
	/* ASQB and ACQB are memory page aligned (CC.MPS) */
	if (asq == 0 || (asq & ((4096ull << mps) - 1)) != 0)
		return enable_fail(c, "ASQ must be a non-zero address aligned to the memory page size (CC.MPS)", asq);
	if (acq == 0 || (acq & ((4096ull << mps) - 1)) != 0)
		return enable_fail(c, "ACQ must be a non-zero address aligned to the memory page size (CC.MPS)", acq);
	c->dma.page_bits = 12 + mps;
	if (emu_cq_create(c, 0, acq, acqs) != 0)
		return enable_fail(c, "ACQ is not registered DMA memory", acq);
	if (emu_sq_create(c, 0, asq, asqs, &c->cqs[0]) != 0) {
		emu_queues_reset(c);
		return enable_fail(c, "ASQ is not registered DMA memory", asq);
	}
	c->enabled = true;
	c->ready_due_ns = emu_now_ns() + (uint64_t)c->opts.rdy_delay_us * 1000;
	return true;
}

static void ctrl_shutdown(struct vpio_emu_nvme *c)
{
	int rc = emu_store_flush(&c->store);

	if (rc != 0)
		VPIO_ERR(EMU_MOD, "%s: shutdown: flushing backing file '%s' failed: %s", c->name,
			 c->store.path, strerror(-rc));
	c->shutdown_done = true;
	emu_csts_update(c, VPIO_NVME_CSTS_SHST_MASK, VPIO_NVME_CSTS_SHST_COMPLETE);
}

/* React to CC writes; returns true when something changed. */
bool emu_regs_poll(struct vpio_emu_nvme *c)
{
	uint32_t cc = emu_reg32(c, VPIO_NVME_REG_CC), old = c->cc;

	if (__builtin_expect(cc == old, 1)) {
		if (__builtin_expect((c->ready_due_ns | c->unready_due_ns) != 0, 0))
			rdy_follow(c);
		return false;
	}
	c->cc = cc;
	if ((old ^ cc) & VPIO_NVME_CC_EN) {
		if (cc & VPIO_NVME_CC_EN) {
			if (c->unready_due_ns != 0) {
				host_error(c, "CC.EN set while CSTS.RDY = 1 after a disable: undefined results; wait for CSTS.RDY = 0 first");
				c->unready_due_ns = 0;
				emu_csts_update(c, VPIO_NVME_CSTS_RDY, 0);
			}
			ctrl_enable(c, cc);
		} else {
			host_disable(c);
		}
	} else if ((cc & VPIO_NVME_CC_EN) && !c->enabled && !c->fatal) {
		/* A failed enable, then CC rewritten: a 1->0->1 toggle that
		 * happened between two polls.  Try again from a reset. */
		emu_ctrl_disable(c);
		ctrl_enable(c, cc);
	} else if ((cc & VPIO_NVME_CC_EN) && ((old ^ cc) & EMU_CC_FIXED)) {
		host_error(c, "CC.CSS, CC.MPS or CC.AMS changed while CC.EN = 1: ignored; change them with CC.EN = 0");
	}
	if ((old ^ cc) & VPIO_NVME_CC_SHN_MASK) {
		if (cc & VPIO_NVME_CC_SHN_MASK)
			ctrl_shutdown(c);
		else
			emu_csts_update(c, VPIO_NVME_CSTS_SHST_MASK, 0);
	}
	return true;
}

/* Function-level reset: registers back to power-on values. */
void emu_ctrl_flr(struct vpio_emu_nvme *c)
{
	emu_ctrl_disable(c);
	emu_regs_init(c);
}

void emu_nvme_fatal(struct vpio_emu_nvme *c)
{
	c->fatal = true;
	emu_queues_reset(c);
	emu_csts_update(c, 0, VPIO_NVME_CSTS_CFS);
}
