/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal NVMe host for testing the emulated controller register by
 * register, without lib/nvme: queues in registered memory, MMIO or shadow
 * doorbells, synchronous commands.
 */
#ifndef MINI_NVME_H
#define MINI_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include <vpio/emu.h>
#include <vpio/nvme_spec.h>
#include <vpio/pci.h>

#define MINI_MAX_QUEUES 8

struct mini_q {
	void *ring;
	uint32_t size;
	uint32_t head;	/* CQ: next entry to look at */
	uint32_t tail;	/* SQ: next free slot */
	uint16_t phase;
	uint16_t qid;
	bool live;
};

struct mini {
	struct vpio_pci_device *dev;
	struct vpio_emu_nvme *emu;
	volatile uint8_t *bar;
	uint32_t dstrd;
	struct mini_q sq[MINI_MAX_QUEUES + 1];
	struct mini_q cq[MINI_MAX_QUEUES + 1];
	uint16_t next_cid;
	/* shadow doorbells (NULL until mini_dbbuf()) */
	uint32_t *shadow;
	uint32_t *eventidx;
	bool shadow_admin;	/* also for the admin queue */
};

/* Registered, zeroed, 4 KiB aligned memory. */
void *mini_dma_alloc(size_t len);
void mini_dma_free(void *p, size_t len);
uint64_t mini_iova(const void *p);

uint32_t mini_r32(struct mini *m, uint32_t off);
uint64_t mini_r64(struct mini *m, uint32_t off);
void mini_w32(struct mini *m, uint32_t off, uint32_t v);
void mini_w64(struct mini *m, uint32_t off, uint64_t v);

/* Open the device, reset it; returns 0 or the open's error. */
int mini_open(struct mini *m, const char *name);
void mini_close(struct mini *m);
/* Wait until (CSTS & mask) == val, up to ms; true on success. */
bool mini_wait_csts(struct mini *m, uint32_t mask, uint32_t val, unsigned ms);
/* Set up the admin queue (entries each) and enable; true when ready. */
bool mini_enable(struct mini *m, uint32_t entries);
/* CC.EN = 0 and wait for RDY = 0; frees every queue. */
bool mini_disable(struct mini *m);

/* Put cmd (cid assigned unless keep_cid) on SQ qid; ring unless no_ring. */
uint16_t mini_submit(struct mini *m, uint16_t qid, struct vpio_nvme_cmd *cmd, bool keep_cid, bool no_ring);
void mini_ring_sq(struct mini *m, uint16_t qid);
/* Next completion of CQ qid within ms (false on timeout); frees the entry. */
bool mini_poll(struct mini *m, uint16_t qid, struct vpio_nvme_cpl *cpl, unsigned ms);
/* Peek: is a new completion there? */
bool mini_cpl_ready(struct mini *m, uint16_t qid);
/* Submit and wait: returns the status (without phase), 0xffff on timeout. */
uint16_t mini_cmd(struct mini *m, uint16_t qid, struct vpio_nvme_cmd *cmd, uint32_t *cdw0);

/* I/O queue pair qid (SQ and CQ of entries each). */
uint16_t mini_create_qpair(struct mini *m, uint16_t qid, uint32_t entries);
uint16_t mini_create_queues(struct mini *m, uint16_t qid, uint32_t sq_entries, uint32_t cq_entries);
uint16_t mini_delete_qpair(struct mini *m, uint16_t qid);

/* Read/write nlb blocks at slba with PRPs built for buf (registered). */
uint16_t mini_rw(struct mini *m, uint16_t qid, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
		 void *buf, uint32_t lba_size);
/* Doorbell Buffer Config; admin: use shadow doorbells for the admin queue too. */
uint16_t mini_dbbuf(struct mini *m, bool admin);

#define MINI_TIMEOUT 0xffffu
#define MINI_SC(sct, sc) VPIO_NVME_STATUS(VPIO_NVME_SCT_##sct, VPIO_NVME_SC_##sc)

#endif
