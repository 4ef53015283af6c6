/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controller bring-up: registers, the enable/disable/shutdown sequences,
 * and what follows enable (identify, queues, namespaces).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvme_internal.h"

/* ======================================================================== */
/*
 * Controller registers and the enable/disable/shutdown sequences of the
 * NVMe base specification (3.5 "Controller Initialization", 3.6
 * "Shutdown").  64-bit registers are accessed as two 32-bit halves, low
 * first, which every controller accepts.  Waits are bounded by CAP.TO
 * (enable/disable) or RTD3E (shutdown).
 */

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

/* ======================================================================== */
/*
 * Bring-up (NVMe base specification 3.5.1): read CAP and VS, disable and
 * wait for CSTS.RDY = 0, program the admin queue, CC (NVM command set,
 * MPS = CAP.MPSMIN, IOSQES 6, IOCQES 4), enable and wait for CSTS.RDY = 1
 * within CAP.TO; then Identify Controller, Number of Queues, Doorbell
 * Buffer Config when offered, and the active namespaces.
 */

#define NVME_MAX_XFER_CAP (32u << 20) /* NLB limit with 512-byte blocks */

static int read_caps(struct vpio_nvme_ctrlr *c)
{
	const struct vpio_pci_bar *bar = &c->dev->bar[0];

	if (bar->addr == NULL || bar->len < 0x1000u + 8u) {
		VPIO_ERR(NVME_MOD, "%s: BAR0 is not mapped or too small (%llu bytes) for NVMe registers", c->name,
			 (unsigned long long)bar->len);
		return -ENODEV;
	}
	c->regs = (volatile uint8_t *)bar->addr;
	c->cap = nvme_reg_read64(c, VPIO_NVME_REG_CAP);
	c->vs = nvme_reg_read32(c, VPIO_NVME_REG_VS);
	if (c->cap == UINT64_MAX || c->vs == UINT32_MAX) {
		VPIO_ERR(NVME_MOD, "%s: registers read all ones: the device is not responding", c->name);
		return -ENODEV;
	}
	if ((VPIO_NVME_CAP_CSS(c->cap) & VPIO_NVME_CAP_CSS_NVM) == 0) {
		VPIO_ERR(NVME_MOD, "%s: controller does not support the NVM command set (CAP.CSS 0x%x)", c->name,
			 VPIO_NVME_CAP_CSS(c->cap));
		return -ENOTSUP;
	}
	c->dstrd = VPIO_NVME_CAP_DSTRD(c->cap);
	c->page_shift = 12u + VPIO_NVME_CAP_MPSMIN(c->cap);
	c->max_queue_size = VPIO_NVME_CAP_MQES(c->cap) + 1u;
	if (c->max_queue_size < 2) {
		VPIO_ERR(NVME_MOD, "%s: CAP.MQES is 0, an invalid value", c->name);
		return -EIO;
	}
	return 0;
}

static void compute_max_xfer(struct vpio_nvme_ctrlr *c)
{
	uint64_t max = (uint64_t)NVME_PRP_LIST_MAX << c->page_shift; /* one PRP list */

	if (max > NVME_MAX_XFER_CAP)
		max = NVME_MAX_XFER_CAP;
	if (c->cdata.mdts != 0 && c->cdata.mdts < 32 && ((uint64_t)1 << c->cdata.mdts << c->page_shift) < max)
		max = (uint64_t)1 << c->cdata.mdts << c->page_shift;
	if (c->opts.max_xfer_size != 0 && c->opts.max_xfer_size < max) {
		max = c->opts.max_xfer_size & ~((1ull << c->page_shift) - 1u);
		if (max == 0)
			max = 1ull << c->page_shift;
	}
	c->max_xfer = (uint32_t)max;
}

/* Doorbells that fit in BAR0 bound the queue ids we may use. */
static uint32_t doorbell_limit(const struct vpio_nvme_ctrlr *c)
{
	uint64_t room = (c->dev->bar[0].len - 0x1000u) / (8u << c->dstrd);

	return room > 1 ? (uint32_t)(room - 1u) : 0;
}

static int setup_queues(struct vpio_nvme_ctrlr *c)
{
	uint32_t granted = 0, limit = doorbell_limit(c);
	int rc = nvme_ctrlr_set_num_queues(c, c->opts.num_io_queues, &granted);

	if (rc != 0)
		return rc;
	if (granted > limit)
		granted = limit;
	if (c->qid_used == NULL) {
		c->max_io_queues = granted;
		c->qid_used = calloc(granted + 1u, 1);
		if (c->qid_used == NULL) {
			VPIO_ERR(NVME_MOD, "%s: out of memory", c->name);
			return -ENOMEM;
		}
	} else if (granted < c->max_io_queues) {
		VPIO_WARN(NVME_MOD, "%s: after reset the controller grants %u I/O queues, %u before", c->name, granted,
			  c->max_io_queues);
	}
	return 0;
}

int nvme_ctrlr_alloc_dbbuf(struct vpio_nvme_ctrlr *c)
{
	size_t page = (size_t)1 << c->page_shift;
	uint64_t len;
	int rc;

	if (c->dbbuf != NULL)
		return 0;
	c->dbbuf = vpio_dma_zmalloc(page, page);
	c->eventidx = vpio_dma_zmalloc(page, page);
	if (c->dbbuf == NULL || c->eventidx == NULL) {
		nvme_ctrlr_free_dbbuf(c);
		return -ENOMEM;
	}
	len = page;
	c->dbbuf_iova = vpio_vtophys(c->dbbuf, &len);
	rc = nvme_qmem_check(c->name, 0, "the shadow doorbell page", c->dbbuf_iova, len, page, page, c->page_shift);
	len = page;
	c->eventidx_iova = vpio_vtophys(c->eventidx, &len);
	if (rc == 0)
		rc = nvme_qmem_check(c->name, 0, "the EventIdx page", c->eventidx_iova, len, page, page, c->page_shift);
	if (rc != 0)
		nvme_ctrlr_free_dbbuf(c);
	return rc;
}

void nvme_ctrlr_free_dbbuf(struct vpio_nvme_ctrlr *c)
{
	vpio_dma_free(c->dbbuf);
	vpio_dma_free(c->eventidx);
	c->dbbuf = NULL;
	c->eventidx = NULL;
	c->dbbuf_on = false;
}

/* Shadow doorbells are an optimization: failing to set them up is not. */
static void setup_dbbuf(struct vpio_nvme_ctrlr *c)
{
	c->dbbuf_on = false;
	if (c->opts.no_shadow_doorbells || (c->cdata.oacs & VPIO_NVME_OACS_DOORBELL_BUFFER_CONFIG) == 0)
		return;
	if (nvme_ctrlr_alloc_dbbuf(c) != 0 || nvme_ctrlr_config_dbbuf(c) != 0) {
		VPIO_WARN(NVME_MOD, "%s: shadow doorbells not in use; MMIO doorbells only", c->name);
		return;
	}
	c->dbbuf_on = true;
}

/* Everything after CC.EN = 0 and admin queue set-up; also used by reset. */
static int bring_up(struct vpio_nvme_ctrlr *c)
{
	int rc = nvme_ctrlr_enable(c);

	if (rc != 0)
		return rc;
	c->adminq->state = NVME_QP_CONNECTED;
	rc = vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_CTRLR, 0, &c->cdata, sizeof(c->cdata));
	if (rc != 0)
		return rc;
	compute_max_xfer(c);
	rc = setup_queues(c);
	if (rc != 0)
		return rc;
	setup_dbbuf(c);
	return nvme_ctrlr_scan_ns(c);
}

int nvme_ctrlr_restart(struct vpio_nvme_ctrlr *c)
{
	nvme_qpair_reset_rings(c->adminq);
	return bring_up(c);
}

int nvme_ctrlr_start(struct vpio_nvme_ctrlr *c)
{
	int rc = read_caps(c);

	if (rc == 0)
		rc = nvme_ctrlr_disable(c);
	if (rc == 0)
		rc = nvme_admin_qpair_create(c);
	if (rc == 0)
		rc = bring_up(c);
	if (rc == 0)
		VPIO_INFO(NVME_MOD, "%s: NVMe %u.%u, %u I/O queues, max transfer %u bytes, %u namespace ids%s", c->name,
			  c->vs >> 16, (c->vs >> 8) & 0xffu, c->max_io_queues, c->max_xfer, c->num_ns,
			  c->dbbuf_on ? ", shadow doorbells" : "");
	return rc;
}
