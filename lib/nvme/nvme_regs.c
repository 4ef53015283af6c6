/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controller registers and the enable/disable/shutdown sequences of the
 * NVMe base specification (3.5 "Controller Initialization", 3.6
 * "Shutdown").  64-bit registers are accessed as two 32-bit halves, low
 * first, which every controller accepts.  Waits are bounded by CAP.TO
 * (enable/disable) or RTD3E (shutdown).
 */
#include <errno.h>
#include <time.h>

#include "nvme_internal.h"

#define NVME_SHUTDOWN_MS_MIN 1000u
#define NVME_SHUTDOWN_MS_MAX 20000u

uint32_t nvme_reg_read32(const struct vpio_nvme_ctrlr *c, uint32_t off)
{
	return *(volatile const uint32_t *)(c->regs + off);
}

uint64_t nvme_reg_read64(const struct vpio_nvme_ctrlr *c, uint32_t off)
{
	uint64_t lo = nvme_reg_read32(c, off);

	return lo | (uint64_t)nvme_reg_read32(c, off + 4u) << 32;
}

void nvme_reg_write32(struct vpio_nvme_ctrlr *c, uint32_t off, uint32_t val)
{
	nvme_wmb();
	*(volatile uint32_t *)(c->regs + off) = val;
}

void nvme_reg_write64(struct vpio_nvme_ctrlr *c, uint32_t off, uint64_t val)
{
	nvme_reg_write32(c, off, (uint32_t)val);
	nvme_reg_write32(c, off + 4u, (uint32_t)(val >> 32));
}

volatile uint32_t *nvme_doorbell(struct vpio_nvme_ctrlr *c, uint16_t qid, bool cq)
{
	uint32_t off = cq ? vpio_nvme_cq_hdbl_off(qid, c->dstrd) : vpio_nvme_sq_tdbl_off(qid, c->dstrd);

	return (volatile uint32_t *)(c->regs + off);
}

void nvme_delay_us(uint32_t us)
{
	struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000L };

	nanosleep(&ts, NULL);
}

uint64_t nvme_ms_to_ticks(const struct vpio_nvme_ctrlr *c, uint64_t ms)
{
	return c->ticks_hz / 1000u * ms;
}

int nvme_ctrlr_check_csts(struct vpio_nvme_ctrlr *c)
{
	uint32_t csts = nvme_reg_read32(c, VPIO_NVME_REG_CSTS);

	if (csts == UINT32_MAX)
		return -ENODEV;
	if (csts & VPIO_NVME_CSTS_CFS)
		return -ENXIO;
	return 0;
}

/* Poll CSTS until (CSTS & mask) == want (0) or a bit of stop is set (1);
 * -ENODEV when it reads all ones, -ETIMEDOUT after ms.  Not logged. */
static int poll_csts(struct vpio_nvme_ctrlr *c, uint32_t mask, uint32_t want, uint32_t stop, uint64_t ms,
		     uint32_t *csts)
{
	uint64_t deadline = vpio_get_ticks() + nvme_ms_to_ticks(c, ms);
	uint32_t spins = 0;

	for (;;) {
		*csts = nvme_reg_read32(c, VPIO_NVME_REG_CSTS);
		if (*csts == UINT32_MAX)
			return -ENODEV;
		if ((*csts & mask) == want)
			return 0;
		if (*csts & stop)
			return 1;
		if (vpio_get_ticks() > deadline)
			return -ETIMEDOUT;
		if (++spins > 100)
			nvme_delay_us(spins < 1000 ? 10u : 1000u);
	}
}

/* Wait until (CSTS & mask) == want; fail early on all ones, and on CFS when
 * fail_cfs. */
static int wait_csts(struct vpio_nvme_ctrlr *c, uint32_t mask, uint32_t want, uint64_t ms, bool fail_cfs,
		     const char *what)
{
	uint32_t csts;
	int rc = poll_csts(c, mask, want, fail_cfs ? VPIO_NVME_CSTS_CFS : 0, ms, &csts);

	if (rc == -ENODEV) {
		VPIO_ERR(NVME_MOD, "%s: registers read all ones while %s: the device is gone", c->name, what);
	} else if (rc == 1) {
		VPIO_ERR(NVME_MOD, "%s: controller fatal status (CSTS 0x%x) while %s", c->name, csts, what);
		rc = -EIO;
	} else if (rc == -ETIMEDOUT) {
		VPIO_ERR(NVME_MOD, "%s: timed out after %llu ms %s (CSTS 0x%x)", c->name, (unsigned long long)ms, what, csts);
	}
	return rc;
}

static uint64_t cap_timeout_ms(const struct vpio_nvme_ctrlr *c)
{
	uint32_t to = VPIO_NVME_CAP_TO(c->cap);

	return (to ? to : 1u) * 500ull;
}

/* Clearing CC.EN while CSTS.RDY is still 0 after setting it has undefined
 * results (NVMe base specification, CC.EN): an enable in progress is let
 * finish first (RDY = 1 or CFS), within CAP.TO; after that, EN is cleared
 * anyway, the only way left to stop the controller. */
int nvme_ctrlr_disable(struct vpio_nvme_ctrlr *c)
{
	uint32_t cc = nvme_reg_read32(c, VPIO_NVME_REG_CC), csts;
	int rc;

	if (cc == UINT32_MAX) {
		VPIO_ERR(NVME_MOD, "%s: registers read all ones: the device is gone", c->name);
		return -ENODEV;
	}
	if (cc & VPIO_NVME_CC_EN) {
		rc = poll_csts(c, VPIO_NVME_CSTS_RDY, VPIO_NVME_CSTS_RDY, VPIO_NVME_CSTS_CFS, cap_timeout_ms(c), &csts);
		if (rc == -ENODEV) {
			VPIO_ERR(NVME_MOD, "%s: registers read all ones while waiting for an enable to finish: the device is gone",
				 c->name);
			return rc;
		}
		if (rc == -ETIMEDOUT)
			VPIO_WARN(NVME_MOD, "%s: CSTS.RDY still 0 %llu ms after CC.EN = 1 (CSTS 0x%x); disabling anyway", c->name,
				  (unsigned long long)cap_timeout_ms(c), csts);
		nvme_reg_write32(c, VPIO_NVME_REG_CC, cc & ~VPIO_NVME_CC_EN);
	}
	return wait_csts(c, VPIO_NVME_CSTS_RDY, 0, cap_timeout_ms(c), false, "waiting for CSTS.RDY = 0 (disable)");
}

int nvme_ctrlr_enable(struct vpio_nvme_ctrlr *c)
{
	const struct vpio_nvme_qpair *aq = c->adminq;
	uint32_t cc;

	nvme_reg_write32(c, VPIO_NVME_REG_AQA, VPIO_NVME_AQA(aq->num_entries, aq->num_entries));
	nvme_reg_write64(c, VPIO_NVME_REG_ASQ, aq->sq_iova);
	nvme_reg_write64(c, VPIO_NVME_REG_ACQ, aq->cq_iova);
	cc = VPIO_NVME_CC_EN | (0u << VPIO_NVME_CC_CSS_SHIFT) | ((c->page_shift - 12u) << VPIO_NVME_CC_MPS_SHIFT) |
	     (0u << VPIO_NVME_CC_AMS_SHIFT) | (6u << VPIO_NVME_CC_IOSQES_SHIFT) | (4u << VPIO_NVME_CC_IOCQES_SHIFT);
	nvme_reg_write32(c, VPIO_NVME_REG_CC, cc);
	return wait_csts(c, VPIO_NVME_CSTS_RDY, VPIO_NVME_CSTS_RDY, cap_timeout_ms(c), true,
			 "waiting for CSTS.RDY = 1 (enable)");
}

int nvme_ctrlr_shutdown(struct vpio_nvme_ctrlr *c)
{
	uint64_t ms = c->cdata.rtd3e / 1000u;
	uint32_t cc = nvme_reg_read32(c, VPIO_NVME_REG_CC);

	if (cc == UINT32_MAX)
		return -ENODEV; /* gone: nothing to shut down */
	if (ms < NVME_SHUTDOWN_MS_MIN)
		ms = NVME_SHUTDOWN_MS_MIN;
	if (ms > NVME_SHUTDOWN_MS_MAX)
		ms = NVME_SHUTDOWN_MS_MAX;
	cc = (cc & ~VPIO_NVME_CC_SHN_MASK) | VPIO_NVME_CC_SHN_NORMAL;
	nvme_reg_write32(c, VPIO_NVME_REG_CC, cc);
	return wait_csts(c, VPIO_NVME_CSTS_SHST_MASK, VPIO_NVME_CSTS_SHST_COMPLETE, ms, false,
			 "waiting for the shutdown to complete (CSTS.SHST)");
}
