/* SPDX-License-Identifier: BSD-3-Clause */
/* A minimal NVMe host for the emulator's tests (see mini_nvme.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vpio/env.h>

#include "mini_nvme.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *mini_dma_alloc(size_t len)
{
	void *p;

	len = (len + 4095) & ~(size_t)4095;
	p = aligned_alloc(4096, len);
	if (p == NULL)
		return NULL;
	memset(p, 0, len);
	if (vpio_mem_register(p, len) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void mini_dma_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	vpio_mem_unregister(p, (len + 4095) & ~(size_t)4095);
	free(p);
}

uint64_t mini_iova(const void *p)
{
	return vpio_vtophys(p, NULL);
}

uint32_t mini_r32(struct mini *m, uint32_t off)
{
	return __atomic_load_n((volatile uint32_t *)(m->bar + off), __ATOMIC_ACQUIRE);
}

uint64_t mini_r64(struct mini *m, uint32_t off)
{
	return __atomic_load_n((volatile uint64_t *)(m->bar + off), __ATOMIC_ACQUIRE);
}

void mini_w32(struct mini *m, uint32_t off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(m->bar + off), v, __ATOMIC_RELEASE);
}

void mini_w64(struct mini *m, uint32_t off, uint64_t v)
{
	__atomic_store_n((volatile uint64_t *)(m->bar + off), v, __ATOMIC_RELEASE);
}

int mini_open(struct mini *m, const char *name)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = vpio_emu_device_open(name, &m->dev);
	if (rc != 0)
		return rc;
	m->bar = m->dev->bar[0].addr;
	m->emu = vpio_emu_nvme_get(m->dev);
	m->dstrd = VPIO_NVME_CAP_DSTRD(mini_r64(m, VPIO_NVME_REG_CAP));
	m->next_cid = 1;
	return 0;
}

static void free_q(struct mini_q *q, size_t esz)
{
	if (q->ring != NULL)
		mini_dma_free(q->ring, q->size * esz);
	memset(q, 0, sizeof(*q));
}

static void free_queues(struct mini *m)
{
	for (int q = 0; q <= MINI_MAX_QUEUES; q++) {
		free_q(&m->sq[q], 64);
		free_q(&m->cq[q], 16);
	}
	mini_dma_free(m->shadow, 4096);
	mini_dma_free(m->eventidx, 4096);
	m->shadow = m->eventidx = NULL;
}

void mini_close(struct mini *m)
{
	if (m->dev == NULL)
		return;
	m->dev->ops->reset(m->dev);
	m->dev->ops->detach(m->dev);
	m->dev = NULL;
	free_queues(m);
}

bool mini_wait_csts(struct mini *m, uint32_t mask, uint32_t val, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	do {
		if ((mini_r32(m, VPIO_NVME_REG_CSTS) & mask) == val)
			return true;
	} while (now_ms() < end);
	return false;
}

bool mini_enable(struct mini *m, uint32_t entries)
{
	m->sq[0].ring = mini_dma_alloc(entries * 64);
	m->cq[0].ring = mini_dma_alloc(entries * 16);
	m->sq[0].size = m->cq[0].size = entries;
	m->cq[0].phase = 1;
	m->sq[0].live = m->cq[0].live = true;
	mini_w32(m, VPIO_NVME_REG_AQA, VPIO_NVME_AQA(entries, entries));
	mini_w64(m, VPIO_NVME_REG_ASQ, mini_iova(m->sq[0].ring));
	mini_w64(m, VPIO_NVME_REG_ACQ, mini_iova(m->cq[0].ring));
	mini_w32(m, VPIO_NVME_REG_CC,
		 VPIO_NVME_CC_EN | 6u << VPIO_NVME_CC_IOSQES_SHIFT | 4u << VPIO_NVME_CC_IOCQES_SHIFT);
	return mini_wait_csts(m, VPIO_NVME_CSTS_RDY | VPIO_NVME_CSTS_CFS, VPIO_NVME_CSTS_RDY, 2000);
}

bool mini_disable(struct mini *m)
{
	bool ok;

	/* wait for RDY (and a CFS from a failed enable) to clear: the
	 * emulator sees CC writes by polling */
	mini_w32(m, VPIO_NVME_REG_CC, 0);
	ok = mini_wait_csts(m, VPIO_NVME_CSTS_RDY | VPIO_NVME_CSTS_CFS, 0, 2000);
	free_queues(m);
	m->shadow_admin = false;
	return ok;
}

static uint32_t db_word(struct mini *m, uint16_t qid, bool cq)
{
	return (2u * qid + (cq ? 1 : 0)) * (1u << m->dstrd);
}

/* Shadow doorbell protocol: write the shadow, then ring MMIO only when the
 * controller's event index asks for it. */
static void ring(struct mini *m, uint16_t qid, bool cq, uint32_t val)
{
	uint32_t off = cq ? vpio_nvme_cq_hdbl_off(qid, m->dstrd) : vpio_nvme_sq_tdbl_off(qid, m->dstrd);

	if (m->shadow != NULL && (qid != 0 || m->shadow_admin)) {
		uint32_t i = db_word(m, qid, cq);
		uint16_t old = (uint16_t)__atomic_load_n(&m->shadow[i], __ATOMIC_RELAXED);

		/* seq_cst exchange: the shadow store is visible before the
		 * event index is read (a full barrier) */
		__atomic_exchange_n(&m->shadow[i], val, __ATOMIC_SEQ_CST);
		if (!vpio_nvme_dbbuf_need_event((uint16_t)__atomic_load_n(&m->eventidx[i], __ATOMIC_SEQ_CST),
						(uint16_t)val, old))
			return;
	}
	mini_w32(m, off, val);
}

uint16_t mini_submit(struct mini *m, uint16_t qid, struct vpio_nvme_cmd *cmd, bool keep_cid, bool no_ring)
{
	struct mini_q *q = &m->sq[qid];

	if (!keep_cid)
		cmd->cid = m->next_cid++;
	memcpy((uint8_t *)q->ring + (size_t)q->tail * 64, cmd, 64);
	q->tail = q->tail + 1 == q->size ? 0 : q->tail + 1;
	if (!no_ring)
		mini_ring_sq(m, qid);
	return cmd->cid;
}

void mini_ring_sq(struct mini *m, uint16_t qid)
{
	ring(m, qid, false, m->sq[qid].tail);
}

bool mini_cpl_ready(struct mini *m, uint16_t qid)
{
	struct mini_q *q = &m->cq[qid];
	const struct vpio_nvme_cpl *e = (const struct vpio_nvme_cpl *)q->ring + q->head;

	return (__atomic_load_n(&e->status, __ATOMIC_ACQUIRE) & 1) == q->phase;
}

bool mini_poll(struct mini *m, uint16_t qid, struct vpio_nvme_cpl *cpl, unsigned ms)
{
	struct mini_q *q = &m->cq[qid];
	uint64_t end = now_ms() + ms;

	while (!mini_cpl_ready(m, qid)) {
		if (now_ms() > end)
			return false;
	}
	memcpy(cpl, (const struct vpio_nvme_cpl *)q->ring + q->head, sizeof(*cpl));
	if (++q->head == q->size) {
		q->head = 0;
		q->phase ^= 1;
	}
	ring(m, qid, true, q->head);
	return true;
}

uint16_t mini_cmd(struct mini *m, uint16_t qid, struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	struct vpio_nvme_cpl cpl;
	uint16_t cid = mini_submit(m, qid, cmd, false, false);

	if (!mini_poll(m, qid, &cpl, 3000) || cpl.cid != cid)
		return MINI_TIMEOUT;
	if (cdw0 != NULL)
		*cdw0 = cpl.cdw0;
	return cpl.status & VPIO_NVME_STATUS_NO_PHASE_MASK;
}

uint16_t mini_create_qpair(struct mini *m, uint16_t qid, uint32_t entries)
{
	return mini_create_queues(m, qid, entries, entries);
}

uint16_t mini_create_queues(struct mini *m, uint16_t qid, uint32_t sq_entries, uint32_t cq_entries)
{
	struct vpio_nvme_cmd c;
	uint32_t entries = cq_entries;
	uint16_t st;

	m->cq[qid].ring = mini_dma_alloc(entries * 16);
	m->cq[qid].size = entries;
	m->cq[qid].phase = 1;
	m->cq[qid].qid = qid;
	memset(&c, 0, sizeof(c));
	c.opc = VPIO_NVME_OPC_CREATE_IO_CQ;
	c.dptr.prp.prp1 = mini_iova(m->cq[qid].ring);
	c.cdw10 = qid | (entries - 1) << 16;
	c.cdw11 = 1;
	st = mini_cmd(m, 0, &c, NULL);
	if (st != 0) {
		free_q(&m->cq[qid], 16);
		return st;
	}
	m->cq[qid].live = true;
	entries = sq_entries;
	m->sq[qid].ring = mini_dma_alloc(entries * 64);
	m->sq[qid].size = entries;
	m->sq[qid].qid = qid;
	memset(&c, 0, sizeof(c));
	c.opc = VPIO_NVME_OPC_CREATE_IO_SQ;
	c.dptr.prp.prp1 = mini_iova(m->sq[qid].ring);
	c.cdw10 = qid | (entries - 1) << 16;
	c.cdw11 = 1 | (uint32_t)qid << 16;
	st = mini_cmd(m, 0, &c, NULL);
	if (st != 0) {
		free_q(&m->sq[qid], 64);
		return st;
	}
	m->sq[qid].live = true;
	return 0;
}

uint16_t mini_delete_qpair(struct mini *m, uint16_t qid)
{
	struct vpio_nvme_cmd c;
	uint16_t st;

	memset(&c, 0, sizeof(c));
	c.opc = VPIO_NVME_OPC_DELETE_IO_SQ;
	c.cdw10 = qid;
	st = mini_cmd(m, 0, &c, NULL);
	if (st != 0)
		return st;
	free_q(&m->sq[qid], 64);
	c.opc = VPIO_NVME_OPC_DELETE_IO_CQ;
	st = mini_cmd(m, 0, &c, NULL);
	if (st != 0)
		return st;
	free_q(&m->cq[qid], 16);
	return 0;
}

uint16_t mini_rw(struct mini *m, uint16_t qid, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
		 void *buf, uint32_t lba_size)
{
	static uint64_t *list;
	uint64_t len = (uint64_t)nlb * lba_size, a = mini_iova(buf), first = 4096 - (a & 4095);
	struct vpio_nvme_cmd c;

	if (list == NULL)
		list = mini_dma_alloc(4096);
	memset(&c, 0, sizeof(c));
	c.opc = opc;
	c.nsid = nsid;
	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = nlb - 1;
	c.dptr.prp.prp1 = a;
	if (len > first) {
		uint64_t rest = len - first, next = (a & ~4095ull) + 4096;

		if (rest <= 4096) {
			c.dptr.prp.prp2 = next;
		} else {
			for (uint64_t i = 0; i * 4096 < rest && i < 512; i++)
				list[i] = next + i * 4096;
			c.dptr.prp.prp2 = mini_iova(list);
		}
	}
	return mini_cmd(m, qid, &c, NULL);
}

uint16_t mini_dbbuf(struct mini *m, bool admin)
{
	uint32_t *shadow = mini_dma_alloc(4096), *ei = mini_dma_alloc(4096);
	struct vpio_nvme_cmd c;
	uint16_t st;

	memset(&c, 0, sizeof(c));
	c.opc = VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG;
	c.dptr.prp.prp1 = mini_iova(shadow);
	c.dptr.prp.prp2 = mini_iova(ei);
	st = mini_cmd(m, 0, &c, NULL);
	if (st != 0) {
		mini_dma_free(shadow, 4096);
		mini_dma_free(ei, 4096);
		return st;
	}
	m->shadow = shadow;
	m->eventidx = ei;
	m->shadow_admin = admin;
	return 0;
}
