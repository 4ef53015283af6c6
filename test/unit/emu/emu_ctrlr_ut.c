/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated NVMe controller driven register by register (mini_nvme.c,
 * not lib/nvme): register state machine, admin and I/O commands, PRPs and
 * SGLs, error statuses, CQ-full, abort, shadow doorbells, faults, the
 * registry's persistence, log pages, and a null-mode throughput figure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vpio/env.h>

#include "common/vpio_test.h"
#include "mini_nvme.h"

#define GEN(sc) MINI_SC(GENERIC, sc)
#define CS(sc) MINI_SC(COMMAND_SPECIFIC, sc)
#define MEDIA(sc) MINI_SC(MEDIA_ERROR, sc)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_ms(unsigned ms)
{
	usleep(ms * 1000);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31 + (i >> 9));
}

static bool is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

static struct vpio_nvme_cmd mk(uint8_t opc, uint32_t nsid)
{
	struct vpio_nvme_cmd c;

	memset(&c, 0, sizeof(c));
	c.opc = opc;
	c.nsid = nsid;
	return c;
}

/* Open, enable (32-entry admin queue), optional I/O queue pair 1. */
static bool setup(struct mini *m, const char *name, uint32_t io_entries)
{
	if (mini_open(m, name) != 0)
		return false;
	if (!mini_enable(m, 32))
		return false;
	return io_entries == 0 || mini_create_qpair(m, 1, io_entries) == 0;
}

static void teardown(struct mini *m, const char *name)
{
	mini_close(m);
	CU_ASSERT_EQUAL(vpio_emu_destroy(name), 0);
}

static uint16_t flush_cmd(struct mini *m, uint16_t qid, bool ring)
{
	struct vpio_nvme_cmd c = mk(VPIO_NVME_OPC_FLUSH, 1);

	return mini_submit(m, qid, &c, false, !ring);
}

/* ------------------------------------------------ registers, enable */

static void test_registers(void)
{
	struct mini m;
	uint64_t cap;
	uint8_t cfg[64];
	struct vpio_emu_nvme_stats st;
	void *unreg = aligned_alloc(4096, 4096);

	CU_ASSERT_EQUAL_FATAL(mini_open(&m, "emu:nvme1?qdepth=256&dstrd=1&mdts=3"), 0);
	CU_ASSERT_STRING_EQUAL(m.dev->name, "emu:nvme1");
	CU_ASSERT_TRUE(m.dev->emulated);
	CU_ASSERT_EQUAL(m.dev->info.vendor_id, 0x1b36);
	CU_ASSERT_EQUAL(m.dev->info.device_id, 0x0010);
	CU_ASSERT_EQUAL(m.dev->info.class_code, VPIO_PCI_CLASS_NVME);
	CU_ASSERT(m.dev->bar[0].len >= 16384);
	CU_ASSERT_PTR_NOT_NULL(m.emu);
	/* config space */
	CU_ASSERT_EQUAL(m.dev->ops->cfg_read(m.dev, cfg, sizeof(cfg), 0), 0);
	CU_ASSERT_EQUAL(cfg[0] | cfg[1] << 8, 0x1b36);
	CU_ASSERT_EQUAL(cfg[9] | cfg[10] << 8 | cfg[11] << 16, VPIO_PCI_CLASS_NVME);
	CU_ASSERT_EQUAL(cfg[4] & 0x06, 0x06); /* memory space, bus master */
	CU_ASSERT_EQUAL(cfg[0x10] & 0x6, 0x4); /* 64-bit memory BAR */
	cfg[4] = 0x02;
	CU_ASSERT_EQUAL(m.dev->ops->cfg_write(m.dev, cfg + 4, 1, 4), 0);
	CU_ASSERT_EQUAL(m.dev->ops->cfg_read(m.dev, cfg, 2, 4), 0);
	CU_ASSERT_EQUAL(cfg[0], 0x02);
	/* BAR sizing: all ones reads back the size mask */
	memset(cfg, 0xff, 8);
	CU_ASSERT_EQUAL(m.dev->ops->cfg_write(m.dev, cfg, 8, 0x10), 0);
	CU_ASSERT_EQUAL(m.dev->ops->cfg_read(m.dev, cfg, 8, 0x10), 0);
	{
		uint64_t bar;

		memcpy(&bar, cfg, 8);
		CU_ASSERT_EQUAL(~(bar & ~0xfull) + 1, m.dev->bar[0].len);
	}
	cfg[4] = 0x06;
	CU_ASSERT_EQUAL(m.dev->ops->cfg_write(m.dev, cfg + 4, 1, 4), 0);
	CU_ASSERT_EQUAL(m.dev->ops->cfg_read(m.dev, cfg, 2, 4), 0);
	CU_ASSERT_EQUAL(cfg[0], 0x06);
	CU_ASSERT_EQUAL(m.dev->ops->cfg_read(m.dev, cfg, 8, 4093), -EINVAL);

	cap = mini_r64(&m, VPIO_NVME_REG_CAP);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_MQES(cap), 255);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_CQR(cap), 1);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_DSTRD(cap), 1);
	CU_ASSERT(VPIO_NVME_CAP_TO(cap) > 0);
	CU_ASSERT(VPIO_NVME_CAP_CSS(cap) & VPIO_NVME_CAP_CSS_NVM);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_MPSMIN(cap), 0);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_MPSMAX(cap), 4);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_VS), 0x00010400);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS), 0);

	/* enable, disable */
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS), 0);

	/* bad entry sizes: CFS, cleared by CC.EN = 0 */
	mini_w32(&m, VPIO_NVME_REG_CC, VPIO_NVME_CC_EN);
	CU_ASSERT_TRUE(mini_wait_csts(&m, VPIO_NVME_CSTS_CFS, VPIO_NVME_CSTS_CFS, 500));
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS), 0);

	/* admin queue in memory that is not registered: CFS and an IOMMU fault */
	vpio_emu_nvme_get_stats(m.emu, &st);
	mini_w32(&m, VPIO_NVME_REG_AQA, VPIO_NVME_AQA(8, 8));
	mini_w64(&m, VPIO_NVME_REG_ASQ, (uint64_t)(uintptr_t)unreg);
	mini_w64(&m, VPIO_NVME_REG_ACQ, (uint64_t)(uintptr_t)unreg);
	mini_w32(&m, VPIO_NVME_REG_CC, VPIO_NVME_CC_EN | 6u << 16 | 4u << 20);
	CU_ASSERT_TRUE(mini_wait_csts(&m, VPIO_NVME_CSTS_CFS, VPIO_NVME_CSTS_CFS, 500));
	{
		struct vpio_emu_nvme_stats st2;

		vpio_emu_nvme_get_stats(m.emu, &st2);
		CU_ASSERT(st2.iommu_faults > st.iommu_faults);
	}
	CU_ASSERT_TRUE(mini_disable(&m));
	/* MPS above MPSMAX */
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_TRUE(mini_disable(&m));
	mini_w32(&m, VPIO_NVME_REG_AQA, VPIO_NVME_AQA(8, 8));
	mini_w32(&m, VPIO_NVME_REG_CC, VPIO_NVME_CC_EN | 6u << 16 | 4u << 20 | 5u << VPIO_NVME_CC_MPS_SHIFT);
	CU_ASSERT_TRUE(mini_wait_csts(&m, VPIO_NVME_CSTS_CFS, VPIO_NVME_CSTS_CFS, 500));
	/* a corrected CC while EN stays 1 is a new attempt (it fails: no ASQ) */
	mini_w32(&m, VPIO_NVME_REG_CC, VPIO_NVME_CC_EN | 6u << 16 | 4u << 20);
	sleep_ms(5);
	CU_ASSERT(mini_r32(&m, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_CFS);
	CU_ASSERT_TRUE(mini_disable(&m));

	/* shutdown notification */
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	mini_w32(&m, VPIO_NVME_REG_CC, mini_r32(&m, VPIO_NVME_REG_CC) | VPIO_NVME_CC_SHN_NORMAL);
	CU_ASSERT_TRUE(mini_wait_csts(&m, VPIO_NVME_CSTS_SHST_MASK, VPIO_NVME_CSTS_SHST_COMPLETE, 500));
	CU_ASSERT_TRUE(mini_disable(&m));

	/* function-level reset from the device handle puts registers back */
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_EQUAL(m.dev->ops->reset(m.dev), 0);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CC), 0);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS), 0);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_AQA), 0);
	CU_ASSERT_EQUAL(mini_r64(&m, VPIO_NVME_REG_CAP), cap);
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	teardown(&m, "emu:nvme1");
	free(unreg);
}

static uint16_t create_q(struct mini *m, uint8_t opc, uint16_t qid, uint32_t entries, uint32_t cdw11, uint64_t base)
{
	struct vpio_nvme_cmd c = mk(opc, 0);

	c.cdw10 = qid | (entries - 1) << 16;
	c.cdw11 = cdw11;
	c.dptr.prp.prp1 = base;
	return mini_cmd(m, 0, &c, NULL);
}

/* mpsmin=1: CAP.MPSMIN = 1 (8 KiB pages); CC.MPS below it is refused at
 * enable (CFS), and so are admin queues aligned to 4 KiB but not to the
 * 8 KiB memory page; with both right the controller becomes ready, and
 * takes I/O queues on 8 KiB boundaries only. */
static void try_enable(struct mini *m, uint8_t *mem, uint64_t off, uint32_t mps, uint32_t want)
{
	mini_w32(m, VPIO_NVME_REG_AQA, VPIO_NVME_AQA(8, 8));
	mini_w64(m, VPIO_NVME_REG_ASQ, mini_iova(mem + off));
	mini_w64(m, VPIO_NVME_REG_ACQ, mini_iova(mem + off + 8192));
	mini_w32(m, VPIO_NVME_REG_CC,
		 VPIO_NVME_CC_EN | 6u << 16 | 4u << 20 | mps << VPIO_NVME_CC_MPS_SHIFT);
	CU_ASSERT_TRUE(mini_wait_csts(m, VPIO_NVME_CSTS_CFS | VPIO_NVME_CSTS_RDY, want, 500));
	CU_ASSERT_TRUE(mini_disable(m));
}

static void test_mpsmin(void)
{
	uint8_t *mem = mini_dma_alloc(8 * 4096);
	uint64_t off;
	struct mini m;

	CU_ASSERT_FATAL(mem != NULL);
	CU_ASSERT_FATAL(mini_open(&m, "emu:nvme19?size=1M&mpsmin=1") == 0);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_MPSMIN(mini_r64(&m, VPIO_NVME_REG_CAP)), 1);
	off = (8192 - (mini_iova(mem) & 8191)) & 8191; /* mem + off: 8 KiB aligned for the device */
	vpio_test_log_capture();
	try_enable(&m, mem, off, 0, VPIO_NVME_CSTS_CFS);
	CU_ASSERT(vpio_test_log_has("CC.MPS below CAP.MPSMIN"));
	try_enable(&m, mem, off + 4096, 1, VPIO_NVME_CSTS_CFS);
	CU_ASSERT(vpio_test_log_has("ASQ must be a non-zero address aligned to the memory page size"));
	vpio_test_log_release();
	try_enable(&m, mem, off, 1, VPIO_NVME_CSTS_RDY);
	/* enabled with 8 KiB pages: an I/O queue base 4 KiB into a page is
	 * refused, one on a page boundary taken */
	mini_w32(&m, VPIO_NVME_REG_AQA, VPIO_NVME_AQA(8, 8));
	mini_w64(&m, VPIO_NVME_REG_ASQ, mini_iova(mem + off));
	mini_w64(&m, VPIO_NVME_REG_ACQ, mini_iova(mem + off + 8192));
	mini_w32(&m, VPIO_NVME_REG_CC, VPIO_NVME_CC_EN | 6u << 16 | 4u << 20 | 1u << VPIO_NVME_CC_MPS_SHIFT);
	CU_ASSERT_FATAL(mini_wait_csts(&m, VPIO_NVME_CSTS_CFS | VPIO_NVME_CSTS_RDY, VPIO_NVME_CSTS_RDY, 500));
	m.sq[0].ring = mem + off;
	m.cq[0].ring = mem + off + 8192;
	m.sq[0].size = m.cq[0].size = 8;
	m.cq[0].phase = 1;
	m.sq[0].live = m.cq[0].live = true;
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 16, 1, mini_iova(mem + off + 20480)),
			GEN(INVALID_PRP_OFFSET));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 16, 1, mini_iova(mem + off + 16384)), 0);
	m.sq[0].ring = m.cq[0].ring = NULL; /* not mini's to free */
	m.sq[0].live = m.cq[0].live = false;
	mini_close(&m);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme19"), 0);
	mini_dma_free(mem, 8 * 4096);
}

/* ---------------------------------------------------------- identify */

static void test_identify(void)
{
	struct mini m;
	uint8_t *buf = mini_dma_alloc(4096);
	struct vpio_nvme_ctrlr_data *cd = (void *)buf;
	struct vpio_nvme_ns_data *nd = (void *)buf;
	uint32_t *list = (void *)buf;
	struct vpio_nvme_cmd c;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme2?ns=3&size=16M&lba=4096", 0));
	c = mk(VPIO_NVME_OPC_IDENTIFY, 0);
	c.cdw10 = VPIO_NVME_CNS_CTRLR;
	c.dptr.prp.prp1 = mini_iova(buf);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	CU_ASSERT_EQUAL(cd->vid, 0x1b36);
	CU_ASSERT_EQUAL(memcmp(cd->sn, "VPIOEMU00000002     ", 20), 0);
	CU_ASSERT_EQUAL(memcmp(cd->mn, "vpio emulated NVMe  ", 20), 0);
	CU_ASSERT_EQUAL(cd->nn, 3);
	CU_ASSERT_EQUAL(cd->mdts, 5);
	CU_ASSERT_EQUAL(cd->sqes, 0x66);
	CU_ASSERT_EQUAL(cd->cqes, 0x44);
	CU_ASSERT_EQUAL(cd->ver, 0x00010400);
	CU_ASSERT_EQUAL(cd->oncs, VPIO_NVME_ONCS_COMPARE | VPIO_NVME_ONCS_DSM | VPIO_NVME_ONCS_WRITE_ZEROES |
					  VPIO_NVME_ONCS_TIMESTAMP);
	CU_ASSERT(cd->oacs & VPIO_NVME_OACS_DOORBELL_BUFFER_CONFIG);
	CU_ASSERT(VPIO_NVME_SGLS_SUPPORTED(cd->sgls));
	CU_ASSERT(cd->vwc & VPIO_NVME_VWC_PRESENT);
	CU_ASSERT_EQUAL(cd->maxcmd, 1024);

	c = mk(VPIO_NVME_OPC_IDENTIFY, 2);
	c.cdw10 = VPIO_NVME_CNS_NS;
	c.dptr.prp.prp1 = mini_iova(buf);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	CU_ASSERT_EQUAL(nd->nsze, (16u << 20) / 4096);
	CU_ASSERT_EQUAL(nd->ncap, nd->nsze);
	CU_ASSERT_EQUAL(nd->lbaf[VPIO_NVME_FLBAS_INDEX(nd->flbas)].lbads, 12);
	CU_ASSERT_EQUAL(nd->nlbaf, 1);
	c.nsid = 4;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), GEN(INVALID_NAMESPACE_OR_FORMAT));
	c.nsid = 0;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), GEN(INVALID_NAMESPACE_OR_FORMAT));

	c = mk(VPIO_NVME_OPC_IDENTIFY, 1);
	c.cdw10 = VPIO_NVME_CNS_ACTIVE_NS_LIST;
	c.dptr.prp.prp1 = mini_iova(buf);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	CU_ASSERT_EQUAL(list[0], 2);
	CU_ASSERT_EQUAL(list[1], 3);
	CU_ASSERT_EQUAL(list[2], 0);
	c.cdw10 = 0x10;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), GEN(INVALID_FIELD));
	c = mk(0xc0, 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), GEN(INVALID_OPCODE));
	teardown(&m, "emu:nvme2");
	mini_dma_free(buf, 4096);
}

/* ---------------------------------------------------------- features */

static uint16_t feature(struct mini *m, uint8_t opc, uint32_t cdw10, uint32_t cdw11, uint32_t *cdw0)
{
	struct vpio_nvme_cmd c = mk(opc, 0);

	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	return mini_cmd(m, 0, &c, cdw0);
}

static void test_features(void)
{
	struct mini m;
	uint32_t v = 0;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme3", 0));
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 7u | 7u << 16);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 1 | 2 << 16, &v), 0);
	CU_ASSERT_EQUAL(v, 1u | 2u << 16);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 100 | 100 << 16, &v), 0);
	CU_ASSERT_EQUAL(v, 7u | 7u << 16); /* capped at what the controller has */
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 0xffff, &v),
			GEN(INVALID_FIELD));
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 1 | 1 << 16, &v), 0);
	/* queue 3 is beyond the 2 allocated */
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 3, 16), CS(INVALID_QUEUE_IDENTIFIER));
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 2, 16), 0);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 3 | 3 << 16, &v),
			GEN(COMMAND_SEQUENCE_ERROR));

	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, &v), 0);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE | 1 << 8, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 1); /* default */
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_ARBITRATION, 0x03020103, &v), 0);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_ARBITRATION, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 0x03020103);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_TEMPERATURE_THRESHOLD, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 343);
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, 0x7f, 0, &v), GEN(INVALID_FIELD));
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_ARBITRATION | 1u << 31, 0, &v),
			CS(FEATURE_ID_NOT_SAVEABLE));
	/* a controller reset brings the defaults back */
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_EQUAL(feature(&m, VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	teardown(&m, "emu:nvme3");
}

/* The data structures of Identify and of the features that have one are
 * moved whole, as a real controller does: whatever the host meant to read,
 * Identify writes 4096 bytes, LBA Range Type 4096, Timestamp 8. */
static bool untouched(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0xee)
			return false;
	}
	return true;
}

static uint16_t data_cmd(struct mini *m, uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, uint8_t *buf,
			 uint32_t *cdw0)
{
	struct vpio_nvme_cmd c = mk(opc, nsid);

	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	c.dptr.prp.prp1 = mini_iova(buf);
	c.dptr.prp.prp2 = mini_iova(buf + 4096);
	return mini_cmd(m, 0, &c, cdw0);
}

static void test_feature_data(void)
{
	struct mini m;
	uint8_t *buf = mini_dma_alloc(8192);
	struct vpio_nvme_lba_range_type *r = (void *)buf;
	uint32_t v = 0;
	uint64_t ms;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme30?size=16M", 0));
	memset(buf, 0xee, 8192);
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_IDENTIFY, 0, VPIO_NVME_CNS_CTRLR, 0, buf, NULL), 0);
	CU_ASSERT(is_zero(buf + 3072, 1024)); /* vendor specific: written, zero */
	CU_ASSERT(untouched(buf + 4096, 4096));
	/* LBA Range Type: 4 KiB, one range over the namespace by default */
	memset(buf, 0xee, 8192);
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_GET_FEATURES, 1, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 0, buf, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(r[0].nlb, (16u << 20) / 512 - 1);
	CU_ASSERT(is_zero(buf + 64, 4096 - 64));
	CU_ASSERT(untouched(buf + 4096, 4096));
	memset(buf, 0, 4096);
	r[0].type = 1;
	r[0].nlb = 99;
	r[1].type = 2;
	r[1].slba = 100;
	r[1].nlb = 9;
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_SET_FEATURES, 1, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 1, buf, NULL), 0);
	memset(buf, 0xee, 8192);
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_GET_FEATURES, 1, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 0, buf, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT(r[0].type == 1 && r[0].nlb == 99 && r[1].type == 2 && r[1].slba == 100 && r[1].nlb == 9);
	CU_ASSERT(untouched(buf + 4096, 4096));
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_GET_FEATURES, 2, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 0, buf, &v),
			GEN(INVALID_NAMESPACE_OR_FORMAT));
	/* Timestamp: 8 bytes; counts from the reset, then from what was set */
	memset(buf, 0xee, 8192);
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_GET_FEATURES, 0, VPIO_NVME_FEAT_TIMESTAMP, 0, buf, NULL), 0);
	CU_ASSERT_EQUAL(buf[6], 0); /* origin: since reset */
	CU_ASSERT(untouched(buf + 8, 8192 - 8));
	memset(buf, 0, 8);
	ms = 1700000000000ull;
	memcpy(buf, &ms, 6);
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_SET_FEATURES, 0, VPIO_NVME_FEAT_TIMESTAMP, 0, buf, NULL), 0);
	memset(buf, 0xee, 8192);
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_GET_FEATURES, 0, VPIO_NVME_FEAT_TIMESTAMP, 0, buf, NULL), 0);
	ms = 0;
	memcpy(&ms, buf, 6);
	CU_ASSERT(ms >= 1700000000000ull && ms < 1700000000000ull + 60000u);
	CU_ASSERT_EQUAL(buf[6], 1u << 1); /* origin: set by the host */
	CU_ASSERT(untouched(buf + 8, 8192 - 8));
	/* a controller reset brings the defaults back */
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_EQUAL(data_cmd(&m, VPIO_NVME_OPC_GET_FEATURES, 1, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 0, buf, &v), 0);
	CU_ASSERT(v == 0 && r[0].type == 0 && r[0].nlb == (16u << 20) / 512 - 1);
	teardown(&m, "emu:nvme30");
	mini_dma_free(buf, 8192);
}

/* ------------------------------------------------------ queue checks */

static void test_queue_checks(void)
{
	struct mini m;
	uint8_t *mem = mini_dma_alloc(64 * 4096);
	void *unreg = aligned_alloc(4096, 4096);
	uint64_t b = mini_iova(mem);
	struct vpio_nvme_cmd c;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme4?qdepth=64", 0));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 0, 16, 1, b), CS(INVALID_QUEUE_IDENTIFIER));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 9, 16, 1, b), CS(INVALID_QUEUE_IDENTIFIER));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 1, 1, b), CS(INVALID_QUEUE_SIZE));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 65, 1, b), CS(INVALID_QUEUE_SIZE));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 16, 0, b), GEN(INVALID_FIELD));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 16, 1, b + 64), GEN(INVALID_PRP_OFFSET));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 16, 1, (uint64_t)(uintptr_t)unreg),
			GEN(DATA_TRANSFER_ERROR));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_SQ, 1, 16, 1 | 1 << 16, b), CS(COMPLETION_QUEUE_INVALID));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 64, 1, b), 0);
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_CQ, 1, 16, 1, b + 4096), CS(INVALID_QUEUE_IDENTIFIER));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_SQ, 1, 16, 0 | 1 << 16, b + 8192), GEN(INVALID_FIELD));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_SQ, 0, 16, 1 | 1 << 16, b + 8192),
			CS(INVALID_QUEUE_IDENTIFIER));
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_SQ, 1, 16, 1 | 1 << 16, b + 8192), 0);
	CU_ASSERT_EQUAL(create_q(&m, VPIO_NVME_OPC_CREATE_IO_SQ, 1, 16, 1 | 1 << 16, b + 8192),
			CS(INVALID_QUEUE_IDENTIFIER));
	c = mk(VPIO_NVME_OPC_DELETE_IO_CQ, 0);
	c.cdw10 = 1;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), CS(INVALID_QUEUE_DELETION));
	c = mk(VPIO_NVME_OPC_DELETE_IO_SQ, 0);
	c.cdw10 = 5;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), CS(INVALID_QUEUE_IDENTIFIER));
	c.cdw10 = 0;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), CS(INVALID_QUEUE_IDENTIFIER));
	c.cdw10 = 1;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	c = mk(VPIO_NVME_OPC_DELETE_IO_CQ, 0);
	c.cdw10 = 1;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), CS(INVALID_QUEUE_IDENTIFIER));
	/* re-created queues start from zero again */
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 1, 16), 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 1 }, NULL), 0);
	teardown(&m, "emu:nvme4");
	mini_dma_free(mem, 64 * 4096);
	free(unreg);
}

/* ---------------------------------------------------------------- I/O */

static void test_io_prp(void)
{
	const size_t len = 256 * 1024;
	uint8_t *wbuf = mini_dma_alloc(len), *rbuf = mini_dma_alloc(len);
	struct vpio_emu_nvme_stats s0, s1;
	void *unreg = aligned_alloc(4096, 8192);
	struct vpio_nvme_cmd c;
	struct mini m;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme5?size=8M", 64));
	vpio_emu_nvme_get_stats(m.emu, &s0);
	fill(wbuf, len, 1);
	/* 33 blocks from an offset: PRP1 + list */
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, 100, 33, wbuf + 0x200, 512), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 100, 33, rbuf + 0x600, 512), 0);
	CU_ASSERT_EQUAL(memcmp(wbuf + 0x200, rbuf + 0x600, 33 * 512), 0);
	/* two pages: PRP2 as data pointer */
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 101, 8, rbuf + 0x800, 512), 0);
	CU_ASSERT_EQUAL(memcmp(wbuf + 0x400, rbuf + 0x800, 8 * 512), 0);
	/* the largest transfer (MDTS 5: 128 KiB), and one block more */
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, 1000, 256, wbuf, 512), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 1000, 256, rbuf, 512), 0);
	CU_ASSERT_EQUAL(memcmp(wbuf, rbuf, 128 * 1024), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 1000, 257, rbuf, 512), GEN(INVALID_FIELD));
	/* compare */
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_COMPARE, 1, 1000, 16, wbuf, 512), 0);
	wbuf[5000] ^= 0xff;
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_COMPARE, 1, 1000, 16, wbuf, 512), MEDIA(COMPARE_FAILURE));
	wbuf[5000] ^= 0xff;
	/* write zeroes, then deallocate: both read back zeroes */
	c = mk(VPIO_NVME_OPC_WRITE_ZEROES, 1);
	c.cdw10 = 1004;
	c.cdw12 = 3;
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 1000, 16, rbuf, 512), 0);
	CU_ASSERT_EQUAL(memcmp(rbuf, wbuf, 4 * 512), 0);
	CU_ASSERT_TRUE(is_zero(rbuf + 4 * 512, 4 * 512));
	CU_ASSERT_EQUAL(memcmp(rbuf + 8 * 512, wbuf + 8 * 512, 8 * 512), 0);
	{
		struct vpio_nvme_dsm_range *r = (void *)rbuf;

		memset(r, 0, 4096);
		r[0].starting_lba = 1000;
		r[0].length = 2;
		r[1].starting_lba = 1100;
		r[1].length = 156;
		c = mk(VPIO_NVME_OPC_DATASET_MANAGEMENT, 1);
		c.cdw10 = 1;
		c.cdw11 = VPIO_NVME_DSM_ATTR_DEALLOCATE;
		c.dptr.prp.prp1 = mini_iova(r);
		CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), 0);
		r[1].starting_lba = 16383;
		r[1].length = 2;
		CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(LBA_OUT_OF_RANGE));
	}
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 1000, 256, rbuf, 512), 0);
	CU_ASSERT_TRUE(is_zero(rbuf, 2 * 512));
	CU_ASSERT_EQUAL(memcmp(rbuf + 2 * 512, wbuf + 2 * 512, 2 * 512), 0);
	CU_ASSERT_TRUE(is_zero(rbuf + 100 * 512, 156 * 512));
	/* flush */
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 1 }, NULL), 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 0xffffffff }, NULL),
			0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 5 }, NULL),
			GEN(INVALID_NAMESPACE_OR_FORMAT));
	/* errors */
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 16383, 2, rbuf, 512), GEN(LBA_OUT_OF_RANGE));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 1ull << 40, 1, rbuf, 512), GEN(LBA_OUT_OF_RANGE));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 16383, 1, rbuf, 512), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 2, 0, 1, rbuf, 512), GEN(INVALID_NAMESPACE_OR_FORMAT));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 0, 0, 1, rbuf, 512), GEN(INVALID_NAMESPACE_OR_FORMAT));
	/* memory that is not registered (IOVA = VA here) */
	c = mk(VPIO_NVME_OPC_READ, 1);
	c.dptr.prp.prp1 = (uint64_t)(uintptr_t)unreg;
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(DATA_TRANSFER_ERROR));
	c = mk(VPIO_NVME_OPC_WRITE, 1);
	c.cdw12 = 15;
	c.dptr.prp.prp1 = mini_iova(wbuf);
	c.dptr.prp.prp2 = (uint64_t)(uintptr_t)unreg;
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(DATA_TRANSFER_ERROR));
	c = mk(VPIO_NVME_OPC_READ, 1);
	c.cdw12 = 15;
	c.dptr.prp.prp1 = mini_iova(rbuf);
	c.dptr.prp.prp2 = mini_iova(rbuf + 4096) + 8;
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(INVALID_PRP_OFFSET));
	c = mk(0x7e, 1);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(INVALID_OPCODE));
	c = mk(VPIO_NVME_OPC_FLUSH, 1);
	c.flags = 1; /* fused */
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(INVALID_FIELD));

	vpio_emu_nvme_get_stats(m.emu, &s1);
	CU_ASSERT_EQUAL(s1.write_cmds - s0.write_cmds, 3);
	CU_ASSERT_EQUAL(s1.bytes_written - s0.bytes_written, (33 + 256) * 512);
	CU_ASSERT(s1.read_cmds - s0.read_cmds >= 6);
	CU_ASSERT_EQUAL(s1.iommu_faults - s0.iommu_faults, 2);
	CU_ASSERT(s1.invalid_cmds - s0.invalid_cmds >= 10);
	CU_ASSERT(s1.io_cmds - s0.io_cmds >= 25);
	teardown(&m, "emu:nvme5");
	mini_dma_free(wbuf, len);
	mini_dma_free(rbuf, len);
	free(unreg);
}

static struct vpio_nvme_sgl_desc sgl(uint64_t addr, uint32_t len, unsigned type)
{
	struct vpio_nvme_sgl_desc d;

	memset(&d, 0, sizeof(d));
	d.address = addr;
	d.length = len;
	d.type = (uint8_t)(type << 4);
	return d;
}

static void test_io_sgl(void)
{
	uint8_t *buf = mini_dma_alloc(64 * 1024), *rbuf = mini_dma_alloc(16384);
	struct vpio_nvme_sgl_desc *seg = (void *)(buf + 60 * 1024);
	struct vpio_nvme_cmd c;
	struct mini m;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme6?size=1M", 16));
	fill(buf, 48 * 1024, 7);
	/* write 8 blocks from three scattered, odd-sized pieces */
	seg[0] = sgl(mini_iova(buf + 3), 1000, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	seg[1] = sgl(mini_iova(buf + 20000), 3000, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	seg[2] = sgl(mini_iova(buf + 40001), 96, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	c = mk(VPIO_NVME_OPC_WRITE, 1);
	c.flags = VPIO_NVME_PSDT_SGL_MPTR_CONTIG;
	c.cdw12 = 7;
	c.dptr.sgl1 = sgl(mini_iova(seg), 3 * 16, VPIO_NVME_SGL_TYPE_LAST_SEGMENT);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), 0);
	/* read back through one data block */
	c = mk(VPIO_NVME_OPC_READ, 1);
	c.flags = VPIO_NVME_PSDT_SGL_MPTR_CONTIG;
	c.cdw12 = 7;
	c.dptr.sgl1 = sgl(mini_iova(rbuf), 4096, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), 0);
	CU_ASSERT_EQUAL(memcmp(rbuf, buf + 3, 1000), 0);
	CU_ASSERT_EQUAL(memcmp(rbuf + 1000, buf + 20000, 3000), 0);
	CU_ASSERT_EQUAL(memcmp(rbuf + 4000, buf + 40001, 96), 0);
	/* read with a bit bucket for the first 1000 bytes */
	memset(rbuf, 0xee, 8192);
	seg[0] = sgl(0, 1000, VPIO_NVME_SGL_TYPE_BIT_BUCKET);
	seg[1] = sgl(mini_iova(rbuf), 3096, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	c.dptr.sgl1 = sgl(mini_iova(seg), 2 * 16, VPIO_NVME_SGL_TYPE_LAST_SEGMENT);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), 0);
	CU_ASSERT_EQUAL(memcmp(rbuf, buf + 20000, 3000), 0);
	CU_ASSERT_EQUAL(rbuf[3096], 0xee);
	/* an SGL shorter than the transfer */
	c.dptr.sgl1 = sgl(mini_iova(rbuf), 4095, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(DATA_SGL_LENGTH_INVALID));
	teardown(&m, "emu:nvme6");

	/* sgl=0: SGLs are refused */
	CU_ASSERT_FATAL(setup(&m, "emu:nvme6?sgl=0&size=1M", 16));
	c.dptr.sgl1 = sgl(mini_iova(rbuf), 4096, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(INVALID_FIELD));
	teardown(&m, "emu:nvme6");
	mini_dma_free(buf, 64 * 1024);
	mini_dma_free(rbuf, 16384);
}

static void test_multi_ns_4k(void)
{
	uint8_t *a = mini_dma_alloc(8192), *b = mini_dma_alloc(8192);
	struct mini m;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme7?ns=2&lba=4096&size=1M&mdts=0", 16));
	fill(a, 8192, 1);
	fill(b, 8192, 2);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, 255, 1, a, 4096), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 2, 255, 1, b, 4096), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 255, 1, b + 4096, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(a, b + 4096, 4096), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 2, 255, 1, a + 4096, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(b, a + 4096, 4096), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 2, 256, 1, a, 4096), GEN(LBA_OUT_OF_RANGE));
	/* mdts=0: no limit; 1 MiB in one command */
	{
		uint8_t *big = mini_dma_alloc(1 << 20);

		CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 2, 0, 256, big, 4096), 0);
		CU_ASSERT_EQUAL(memcmp(big + 255 * 4096, b, 4096), 0);
		mini_dma_free(big, 1 << 20);
	}
	teardown(&m, "emu:nvme7");
	mini_dma_free(a, 8192);
	mini_dma_free(b, 8192);
}

/* Two SQs sharing one CQ; several queue pairs. */
static void test_multi_queue(void)
{
	struct vpio_nvme_cmd c;
	struct vpio_nvme_cpl cpl;
	struct mini m;
	unsigned seen[3] = { 0 };

	CU_ASSERT_FATAL(setup(&m, "emu:nvme8?queues=4", 16));
	for (uint16_t q = 2; q <= 4; q++)
		CU_ASSERT_EQUAL(mini_create_qpair(&m, q, 32), 0);
	for (uint16_t q = 1; q <= 4; q++)
		CU_ASSERT_EQUAL(mini_cmd(&m, q, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 1 }, NULL), 0);
	/* SQ 5 does not exist (queues=4) */
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 5, 16), CS(INVALID_QUEUE_IDENTIFIER));
	/* SQ 2 -> delete, re-create posting to CQ 1 */
	c = mk(VPIO_NVME_OPC_DELETE_IO_SQ, 0);
	c.cdw10 = 2;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	c = mk(VPIO_NVME_OPC_CREATE_IO_SQ, 0);
	c.cdw10 = 2 | 31 << 16;
	c.cdw11 = 1 | 1 << 16;
	c.dptr.prp.prp1 = mini_iova(m.sq[2].ring);
	m.sq[2].tail = 0;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	for (int i = 0; i < 10; i++) {
		flush_cmd(&m, 1, true);
		flush_cmd(&m, 2, true);
	}
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_TRUE_FATAL(mini_poll(&m, 1, &cpl, 1000));
		CU_ASSERT(cpl.sqid == 1 || cpl.sqid == 2);
		CU_ASSERT_EQUAL(cpl.status & VPIO_NVME_STATUS_NO_PHASE_MASK, 0);
		seen[cpl.sqid]++;
	}
	CU_ASSERT_EQUAL(seen[1], 10);
	CU_ASSERT_EQUAL(seen[2], 10);
	teardown(&m, "emu:nvme8");
}

/* ---------------------------------------------- CQ full, abort, AER */

static void test_cq_full_and_abort(void)
{
	struct vpio_nvme_cpl cpl;
	struct vpio_nvme_cmd c;
	struct mini m;
	uint16_t cids[10];
	uint32_t cdw0 = 0;
	unsigned got = 0, aborted = 0;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme9", 0));
	CU_ASSERT_EQUAL(mini_create_queues(&m, 1, 16, 4), 0);
	for (int i = 0; i < 10; i++)
		cids[i] = flush_cmd(&m, 1, false);
	mini_ring_sq(&m, 1);
	sleep_ms(20);
	/* a CQ of 4 holds 3: the 4th slot must stay untouched */
	{
		const struct vpio_nvme_cpl *ring = m.cq[1].ring;

		CU_ASSERT_EQUAL(__atomic_load_n(&ring[2].status, __ATOMIC_ACQUIRE) & 1, 1);
		CU_ASSERT_EQUAL(__atomic_load_n(&ring[3].status, __ATOMIC_ACQUIRE) & 1, 0);
	}
	/* the 10th command is still queued: abort it */
	c = mk(VPIO_NVME_OPC_ABORT, 0);
	c.cdw10 = 1 | (uint32_t)cids[9] << 16;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0 & 1, 0);
	/* a cid nobody used: not found */
	c.cdw10 = 1 | 0xbeefu << 16;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0 & 1, 1);
	while (got < 10 && mini_poll(&m, 1, &cpl, 1000)) {
		got++;
		if ((cpl.status & VPIO_NVME_STATUS_NO_PHASE_MASK) == GEN(ABORTED_BY_REQUEST)) {
			aborted++;
			CU_ASSERT_EQUAL(cpl.cid, cids[9]);
		} else {
			CU_ASSERT_EQUAL(cpl.status & VPIO_NVME_STATUS_NO_PHASE_MASK, 0);
		}
		CU_ASSERT(cpl.sqhd < 16);
	}
	CU_ASSERT_EQUAL(got, 10);
	CU_ASSERT_EQUAL(aborted, 1);
	CU_ASSERT_FALSE(mini_poll(&m, 1, &cpl, 20));

	/* a delayed completion can be aborted */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DELAY_CPL, 2000000), 0);
	cids[0] = flush_cmd(&m, 1, true);
	sleep_ms(5);
	c.cdw10 = 1 | (uint32_t)cids[0] << 16;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0 & 1, 0);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, cids[0]);
	CU_ASSERT_EQUAL(cpl.status & VPIO_NVME_STATUS_NO_PHASE_MASK, GEN(ABORTED_BY_REQUEST));

	/* AERs stay outstanding (4 at most), and can be aborted */
	for (int i = 0; i < 4; i++) {
		c = mk(VPIO_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
		cids[i] = mini_submit(&m, 0, &c, false, false);
	}
	c = mk(VPIO_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), CS(ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
	c = mk(VPIO_NVME_OPC_ABORT, 0);
	c.cdw10 = 0 | (uint32_t)cids[2] << 16;
	mini_submit(&m, 0, &c, false, false);
	CU_ASSERT_TRUE(mini_poll(&m, 0, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, cids[2]);
	CU_ASSERT_EQUAL(cpl.status & VPIO_NVME_STATUS_NO_PHASE_MASK, GEN(ABORTED_BY_REQUEST));
	CU_ASSERT_TRUE(mini_poll(&m, 0, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, c.cid);
	CU_ASSERT_EQUAL(cpl.cdw0 & 1, 0);
	teardown(&m, "emu:nvme9");
}

/* ----------------------------------------------------------- faults */

static void test_faults(void)
{
	struct vpio_nvme_cpl cpl;
	struct mini m;
	uint16_t a, b, cc;
	uint64_t t0;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme10", 32));
	CU_ASSERT_PTR_NULL(vpio_emu_nvme_get(NULL));
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, (enum vpio_emu_nvme_fault)99, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(NULL, VPIO_EMU_NVME_FAULT_NONE, 0), -EINVAL);

	/* DROP 2: only the third completes */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DROP_CPL, 2), 0);
	flush_cmd(&m, 1, true);
	flush_cmd(&m, 1, true);
	a = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, a);
	CU_ASSERT_FALSE(mini_poll(&m, 1, &cpl, 20));
	/* admin completions are not affected */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DROP_CPL, 1), 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_GET_FEATURES, .cdw10 = 6 }, NULL),
			0);
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_NONE, 0), 0);
	a = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, a);
	/* DROP_ADMIN 1: the admin command is carried out, its completion lost;
	 * I/O completions are not affected, the next admin one is posted */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL, 1), 0);
	mini_submit(&m, 0, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_GET_FEATURES, .cdw10 = 6 }, false, false);
	CU_ASSERT_FALSE(mini_poll(&m, 0, &cpl, 30));
	a = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, a);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_GET_FEATURES, .cdw10 = 6 }, NULL),
			0);

	/* BOGUS_CID, given and random */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_BOGUS_CID, 0x4242), 0);
	flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, 0x4242);
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_BOGUS_CID, 0), 0);
	a = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_NOT_EQUAL(cpl.cid, a);
	CU_ASSERT_FALSE(mini_poll(&m, 1, &cpl, 20));
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_BOGUS_CID, 70000), -EINVAL);

	/* DUP */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DUP_CPL, 0), 0);
	a = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, a);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, a);
	CU_ASSERT_FALSE(mini_poll(&m, 1, &cpl, 20));

	/* BAD_SQHD */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_BAD_SQHD, 0), 0);
	flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT(cpl.sqhd >= 32);
	flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT(cpl.sqhd < 32);

	/* DELAY: the next one is overtaken */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DELAY_CPL, 50000), 0);
	t0 = now_us();
	a = flush_cmd(&m, 1, true);
	b = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, b);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, a);
	CU_ASSERT(now_us() - t0 >= 50000);

	/* FATAL: CFS at once, nothing processed, a reset recovers */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_FATAL, 0), 0);
	CU_ASSERT(mini_r32(&m, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_CFS);
	flush_cmd(&m, 1, true);
	CU_ASSERT_FALSE(mini_poll(&m, 1, &cpl, 30));
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_CFS, 0);
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 1, 32), 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 1 }, NULL), 0);

	/* REMOVE: all-ones, nothing works, only destroy ends it */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_REMOVE, 0), 0);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS), 0xffffffffu);
	CU_ASSERT_EQUAL(mini_r64(&m, VPIO_NVME_REG_CAP), UINT64_MAX);
	mini_w32(&m, VPIO_NVME_REG_CC, 0);
	mini_w32(&m, vpio_nvme_sq_tdbl_off(1, 0), 3);
	sleep_ms(10);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CC), 0xffffffffu);
	CU_ASSERT_EQUAL(mini_r32(&m, vpio_nvme_sq_tdbl_off(1, 0)), 0xffffffffu);
	{
		uint8_t cfg[4];

		CU_ASSERT_EQUAL(m.dev->ops->cfg_read(m.dev, cfg, 4, 0), 0);
		CU_ASSERT_EQUAL(cfg[0] & cfg[1] & cfg[2] & cfg[3], 0xff);
	}
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(m.emu, VPIO_EMU_NVME_FAULT_DROP_CPL, 1), -ENODEV);
	CU_ASSERT_EQUAL(m.dev->ops->reset(m.dev), -ENODEV);
	m.dev->ops->detach(m.dev);
	m.dev = NULL;
	mini_disable(&m); /* frees the queue memory */
	{
		struct vpio_pci_device *dev;

		CU_ASSERT_EQUAL(vpio_emu_device_open("emu:nvme10", &dev), -ENODEV);
	}
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme10"), 0);
	CU_ASSERT_FATAL(setup(&m, "emu:nvme10", 32));
	cc = flush_cmd(&m, 1, true);
	CU_ASSERT_TRUE(mini_poll(&m, 1, &cpl, 2000));
	CU_ASSERT_EQUAL(cpl.cid, cc);
	teardown(&m, "emu:nvme10");
}

/* Unregistering memory that a live queue uses is an IOMMU fault: the
 * controller goes fatal at once and never touches that memory again. */
static void test_unmap_fault(void)
{
	struct vpio_emu_nvme_stats s0, s1;
	uint8_t *other = mini_dma_alloc(4096);
	struct mini m;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme17", 16));
	vpio_emu_nvme_get_stats(m.emu, &s0);
	/* unrelated memory: nothing happens */
	mini_dma_free(other, 4096);
	CU_ASSERT_EQUAL(mini_r32(&m, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_CFS, 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 1 }, NULL), 0);
	/* the I/O CQ's memory: CFS when unregister returns */
	CU_ASSERT_EQUAL(vpio_mem_unregister(m.cq[1].ring, 4096), 0);
	CU_ASSERT(mini_r32(&m, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_CFS);
	vpio_emu_nvme_get_stats(m.emu, &s1);
	CU_ASSERT_EQUAL(s1.iommu_faults - s0.iommu_faults, 1);
	CU_ASSERT_EQUAL(vpio_mem_register(m.cq[1].ring, 4096), 0);
	/* a reset recovers */
	CU_ASSERT_TRUE(mini_disable(&m));
	CU_ASSERT_TRUE(mini_enable(&m, 16));
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 1, 16), 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 1, &(struct vpio_nvme_cmd){ .opc = VPIO_NVME_OPC_FLUSH, .nsid = 1 }, NULL), 0);
	/* a closed controller ignores unregistrations */
	mini_close(&m);
	other = mini_dma_alloc(4096);
	mini_dma_free(other, 4096);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme17"), 0);
}

/* --------------------------------------------------- shadow doorbells */

static void test_dbbuf(void)
{
	uint8_t *buf = mini_dma_alloc(4096);
	struct vpio_emu_nvme_stats s0, s1;
	struct vpio_nvme_cmd c;
	struct mini m;
	unsigned i;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme11?dbbuf=0", 0));
	c = mk(VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG, 0);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), GEN(INVALID_OPCODE));
	teardown(&m, "emu:nvme11");

	CU_ASSERT_FATAL(setup(&m, "emu:nvme11", 0));
	c = mk(VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG, 0);
	c.dptr.prp.prp1 = mini_iova(buf) + 8;
	c.dptr.prp.prp2 = mini_iova(buf);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), GEN(INVALID_FIELD));
	/* shadow doorbells for the admin queue too */
	CU_ASSERT_EQUAL(mini_dbbuf(&m, true), 0);
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 1, 64), 0);
	vpio_emu_nvme_get_stats(m.emu, &s0);
	for (i = 0; i < 1000; i++) {
		uint16_t st = mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, i, 1, buf, 512);

		if (st != 0) {
			CU_FAIL("write with shadow doorbells failed");
			break;
		}
	}
	vpio_emu_nvme_get_stats(m.emu, &s1);
	CU_ASSERT(s1.shadow_doorbells - s0.shadow_doorbells >= 1000);
	/* MMIO only when the event index asks: far fewer than commands */
	CU_ASSERT(s1.mmio_doorbells - s0.mmio_doorbells < 500);
	printf("\n    dbbuf: 1000 writes, %llu shadow and %llu MMIO doorbell updates seen\n",
	       (unsigned long long)(s1.shadow_doorbells - s0.shadow_doorbells),
	       (unsigned long long)(s1.mmio_doorbells - s0.mmio_doorbells));
	/* idle: the event indexes catch up with the queues */
	sleep_ms(20);
	CU_ASSERT_EQUAL(__atomic_load_n(&m.eventidx[2 * 1], __ATOMIC_ACQUIRE), m.sq[1].tail);
	CU_ASSERT_EQUAL(__atomic_load_n(&m.eventidx[0], __ATOMIC_ACQUIRE), m.sq[0].tail);
	/* admin commands still work through the shadow */
	c = mk(VPIO_NVME_OPC_GET_FEATURES, 0);
	c.cdw10 = VPIO_NVME_FEAT_NUMBER_OF_QUEUES;
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	/* queues re-created after config start at zero in the shadow too */
	CU_ASSERT_EQUAL(mini_delete_qpair(&m, 1), 0);
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 1, 16), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&m.shadow[2], __ATOMIC_ACQUIRE), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 0, 1, buf, 512), 0);
	teardown(&m, "emu:nvme11");

	/* admin queue on MMIO, I/O queues on shadow (as Linux does) */
	CU_ASSERT_FATAL(setup(&m, "emu:nvme11", 0));
	CU_ASSERT_EQUAL(mini_dbbuf(&m, false), 0);
	CU_ASSERT_EQUAL(mini_create_qpair(&m, 1, 16), 0);
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, i, 1, buf, 512), 0);
	teardown(&m, "emu:nvme11");
	mini_dma_free(buf, 4096);
}

/* The shadow doorbell and EventIdx buffers are one memory page each: with
 * a 512-byte doorbell stride the words of queues 0..3 are in the page,
 * queues 4..8 stay on MMIO, and nothing after the page is ever written. */
static void test_dbbuf_one_page(void)
{
	uint32_t *shadow = mini_dma_alloc(16384), *ei = mini_dma_alloc(16384);
	uint8_t *buf = mini_dma_alloc(4096);
	struct vpio_nvme_cmd c;
	struct mini m;
	unsigned i, q, bad = 0, ok = 0;

	/* registered well past the page, so that only the emulator's own
	 * bound keeps it inside */
	for (i = 1024; i < 4096; i++)
		shadow[i] = ei[i] = 0xa5a5a5a5u;
	CU_ASSERT_FATAL(setup(&m, "emu:nvme18?dstrd=7&queues=8", 0));
	/* configured by hand: mini keeps ringing MMIO for every queue */
	c = mk(VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG, 0);
	c.dptr.prp.prp1 = mini_iova(shadow);
	c.dptr.prp.prp2 = mini_iova(ei);
	CU_ASSERT_EQUAL(mini_cmd(&m, 0, &c, NULL), 0);
	for (q = 1; q <= 8; q++) {
		CU_ASSERT_EQUAL(mini_create_qpair(&m, (uint16_t)q, 16), 0);
		for (i = 0; i < 20; i++)
			ok += mini_rw(&m, (uint16_t)q, VPIO_NVME_OPC_READ, 1, i, 1, buf, 512) == 0;
	}
	CU_ASSERT_EQUAL(ok, 8 * 20);
	sleep_ms(20); /* idle: the event indexes in the page are published */
	CU_ASSERT_EQUAL(__atomic_load_n(&ei[2 * 3 * 128], __ATOMIC_ACQUIRE), m.sq[3].tail);
	for (i = 1024; i < 4096; i++)
		bad += shadow[i] != 0xa5a5a5a5u || ei[i] != 0xa5a5a5a5u;
	CU_ASSERT_EQUAL(bad, 0);
	teardown(&m, "emu:nvme18");
	mini_dma_free(shadow, 16384);
	mini_dma_free(ei, 16384);
	mini_dma_free(buf, 4096);
}

/* ------------------------------------------------ registry, storage */

static void test_persistence(void)
{
	uint8_t *w = mini_dma_alloc(4096), *r = mini_dma_alloc(4096);
	struct vpio_pci_device *dev2;
	char path[] = "/tmp/vpio-emu-ctrlr-XXXXXX";
	char name[128];
	struct mini m;
	int fd;

	fill(w, 4096, 9);
	CU_ASSERT_FATAL(setup(&m, "emu:nvme12?size=4M", 16));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, 7, 8, w, 512), 0);
	CU_ASSERT_EQUAL(vpio_emu_device_open("emu:nvme12", &dev2), -EBUSY);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme12"), -EBUSY);
	mini_close(&m);
	/* re-attach: the data is still there */
	CU_ASSERT_EQUAL(vpio_emu_device_open("emu:nvme12?size=8M", &dev2), -EEXIST);
	CU_ASSERT_FATAL(setup(&m, "emu:nvme12?size=4M", 16));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 7, 8, r, 512), 0);
	CU_ASSERT_EQUAL(memcmp(w, r, 4096), 0);
	mini_close(&m);
	CU_ASSERT_FATAL(setup(&m, "emu:nvme12", 16));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 7, 8, r, 512), 0);
	CU_ASSERT_EQUAL(memcmp(w, r, 4096), 0);
	teardown(&m, "emu:nvme12");
	/* destroyed: a new one starts empty */
	CU_ASSERT_FATAL(setup(&m, "emu:nvme12?size=4M", 16));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 7, 8, r, 512), 0);
	CU_ASSERT_TRUE(is_zero(r, 4096));
	teardown(&m, "emu:nvme12");

	/* a backing file survives destroy */
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	snprintf(name, sizeof(name), "emu:nvme13?size=1M&backing=%s", path);
	CU_ASSERT_FATAL(setup(&m, name, 16));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, 2047, 1, w, 512), 0);
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 2047, 1, r, 512), 0);
	CU_ASSERT_EQUAL(memcmp(w, r, 512), 0);
	teardown(&m, "emu:nvme13");
	memset(r, 0, 4096);
	CU_ASSERT_FATAL(setup(&m, name, 16));
	CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 2047, 1, r, 512), 0);
	CU_ASSERT_EQUAL(memcmp(w, r, 512), 0);
	teardown(&m, "emu:nvme13");
	unlink(path);
	CU_ASSERT_EQUAL(vpio_emu_device_open("emu:nvme14?backing=/nonexistent-dir/x.img", &dev2), -ENOENT);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme14"), -ENOENT);
	mini_dma_free(w, 4096);
	mini_dma_free(r, 4096);
}

/* --------------------------------------------------------- log pages */

static uint16_t get_log(struct mini *m, uint8_t lid, void *buf, uint32_t len, uint64_t off)
{
	struct vpio_nvme_cmd c = mk(VPIO_NVME_OPC_GET_LOG_PAGE, 0xffffffff);

	c.cdw10 = lid | (len / 4 - 1) << 16;
	c.cdw12 = (uint32_t)off;
	c.cdw13 = (uint32_t)(off >> 32);
	c.dptr.prp.prp1 = mini_iova(buf);
	return mini_cmd(m, 0, &c, NULL);
}

static void test_log_pages(void)
{
	uint8_t *buf = mini_dma_alloc(8192), *page = mini_dma_alloc(4096);
	struct vpio_nvme_health_log *h = (void *)page;
	struct vpio_nvme_error_log_entry *e = (void *)page;
	struct mini m;
	uint16_t cid;

	CU_ASSERT_FATAL(setup(&m, "emu:nvme15?size=64M", 16));
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_WRITE, 1, (uint64_t)i * 16, 16, buf, 512), 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(mini_rw(&m, 1, VPIO_NVME_OPC_READ, 1, 0, 1, buf, 512), 0);
	CU_ASSERT_EQUAL(get_log(&m, VPIO_NVME_LOG_HEALTH, page, 512, 0), 0);
	CU_ASSERT_EQUAL(h->host_write_commands[0], 5);
	CU_ASSERT_EQUAL(h->host_read_commands[0], 3);
	CU_ASSERT_EQUAL(h->data_units_written[0], 1); /* 40 KiB rounds up to 1 unit */
	CU_ASSERT_EQUAL(h->data_units_read[0], 1);
	CU_ASSERT_EQUAL(h->composite_temperature, 308);
	CU_ASSERT_EQUAL(h->available_spare, 100);
	CU_ASSERT(h->power_cycles[0] >= 1);
	CU_ASSERT_EQUAL(h->media_errors[0], 0);
	/* a failing command lands in the error log */
	{
		struct vpio_nvme_cmd c = mk(VPIO_NVME_OPC_READ, 1);

		c.cdw10 = 0x7fffffff;
		c.dptr.prp.prp1 = mini_iova(buf);
		CU_ASSERT_EQUAL(mini_cmd(&m, 1, &c, NULL), GEN(LBA_OUT_OF_RANGE));
		cid = c.cid;
	}
	CU_ASSERT_EQUAL(get_log(&m, VPIO_NVME_LOG_ERROR, page, 256, 0), 0);
	CU_ASSERT(e[0].error_count >= 1);
	CU_ASSERT_EQUAL(e[0].sqid, 1);
	CU_ASSERT_EQUAL(e[0].cid, cid);
	CU_ASSERT_EQUAL(e[0].status, GEN(LBA_OUT_OF_RANGE));
	CU_ASSERT_EQUAL(e[0].lba, 0x7fffffff);
	CU_ASSERT_EQUAL(get_log(&m, VPIO_NVME_LOG_HEALTH, page, 512, 0), 0);
	CU_ASSERT(h->num_error_info_log_entries[0] >= 1);
	/* firmware slot, offsets, unknown pages */
	CU_ASSERT_EQUAL(get_log(&m, VPIO_NVME_LOG_FIRMWARE_SLOT, page, 512, 0), 0);
	CU_ASSERT_EQUAL(page[0], 1);
	CU_ASSERT_EQUAL(memcmp(page + 8, "1.0", 3), 0);
	CU_ASSERT_EQUAL(get_log(&m, VPIO_NVME_LOG_HEALTH, page, 64, 32), 0);
	CU_ASSERT_EQUAL(((uint64_t *)page)[6], 5); /* host write commands at byte 80 */
	CU_ASSERT_EQUAL(get_log(&m, VPIO_NVME_LOG_HEALTH, page, 64, 512), GEN(INVALID_FIELD));
	CU_ASSERT_EQUAL(get_log(&m, 0x70, page, 64, 0), CS(INVALID_LOG_PAGE));
	teardown(&m, "emu:nvme15");
	mini_dma_free(buf, 8192);
	mini_dma_free(page, 4096);
}

/* ------------------------------------------------- null-mode speed */

/* Keeps `depth` reads in flight on one queue until 200000 have completed
 * and reports completions per second (the emulator's ceiling with this
 * minimal host; lib/nvme's own benchmark measures the driver).  Speed is
 * printed, never asserted: the count is what must be reached, within a
 * generous bound (60 s) so that a loaded machine does not fail it. */
static void test_null_throughput(void)
{
	const uint32_t qsize = 1024, depth = 256, batch = 32;
	uint8_t *buf = mini_dma_alloc(4096);
	struct mini m;
	struct mini_q *sq, *cq;
	uint64_t done = 0, t0, t1, inflight = 0;
	struct vpio_nvme_cmd c = mk(VPIO_NVME_OPC_READ, 1);

	CU_ASSERT_FATAL(setup(&m, "emu:nvme16?null=1&qdepth=1024", 0));
	CU_ASSERT_EQUAL_FATAL(mini_create_qpair(&m, 1, qsize), 0);
	sq = &m.sq[1];
	cq = &m.cq[1];
	c.dptr.prp.prp1 = mini_iova(buf);
	t0 = now_us();
	do {
		uint32_t n = 0;

		while (inflight + batch <= depth) {
			for (uint32_t i = 0; i < batch; i++)
				mini_submit(&m, 1, &c, false, true);
			inflight += batch;
			mini_ring_sq(&m, 1);
		}
		while (mini_cpl_ready(&m, 1)) {
			if (++cq->head == cq->size) {
				cq->head = 0;
				cq->phase ^= 1;
			}
			n++;
		}
		if (n > 0) {
			mini_w32(&m, vpio_nvme_cq_hdbl_off(1, m.dstrd), cq->head);
			inflight -= n;
			done += n;
		}
		t1 = now_us();
	} while (done < 200000 && t1 - t0 < 60000000);
	(void)sq;
	{
		struct vpio_emu_nvme_stats st;

		vpio_emu_nvme_get_stats(m.emu, &st);
		/* every completion seen was a command the controller ran */
		CU_ASSERT(st.io_cmds >= done);
		CU_ASSERT(st.io_cmds <= done + depth);
		CU_ASSERT_EQUAL(st.invalid_cmds, 0);
		printf("\n    io_cmds %llu done %llu", (unsigned long long)st.io_cmds, (unsigned long long)done);
	}
	printf("\n    null mode: %.2f M commands/s (queue depth %u, batches of %u, one host thread)\n",
	       (double)done / (double)(t1 - t0), depth, batch);
	CU_ASSERT(done >= 200000);
	teardown(&m, "emu:nvme16");
	mini_dma_free(buf, 4096);
}

static int register_tests(void)
{
	VPIO_SUITE("emu_ctrlr", NULL, NULL);
	VPIO_TEST(test_registers);
	VPIO_TEST(test_mpsmin);
	VPIO_TEST(test_identify);
	VPIO_TEST(test_features);
	VPIO_TEST(test_feature_data);
	VPIO_TEST(test_queue_checks);
	VPIO_TEST(test_io_prp);
	VPIO_TEST(test_io_sgl);
	VPIO_TEST(test_multi_ns_4k);
	VPIO_TEST(test_multi_queue);
	VPIO_TEST(test_cq_full_and_abort);
	VPIO_TEST(test_faults);
	VPIO_TEST(test_unmap_fault);
	VPIO_TEST(test_dbbuf);
	VPIO_TEST(test_dbbuf_one_page);
	VPIO_TEST(test_persistence);
	VPIO_TEST(test_log_pages);
	VPIO_TEST(test_null_throughput);
	return 0;
}

int main(void)
{
	return vpio_test_run_quiet(register_tests);
}
