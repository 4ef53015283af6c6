/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Submission and completion queues of the emulated controller: doorbells
 * (MMIO or shadow), fetching commands, posting completions with phase
 * tags, CQ-full back-pressure and completions that wait (faults).
 */
#include <errno.h>
#include <string.h>

#include "emu_internal.h"

/* ------------------------------------------------------------ doorbells */

static uint32_t db_index(const struct vpio_emu_nvme *c, const uint8_t *mmio)
{
	return (uint32_t)((mmio - c->bar - VPIO_NVME_REG_DBS) / 4);
}

/* Point db at its shadow and EventIdx words.  Each buffer is one memory
 * page (CC.MPS): a doorbell whose offset lies beyond it has none and stays
 * on MMIO.  False then. */
static bool db_shadow_slot(const struct vpio_emu_nvme *c, struct emu_db *db)
{
	uint32_t i = db_index(c, db->mmio);

	db->shadow = db->eventidx = NULL;
	if ((uint64_t)(i + 1) * 4 > c->dbbuf_len)
		return false;
	db->shadow = &c->dbbuf_shadow[i];
	db->eventidx = &c->dbbuf_eventidx[i];
	return true;
}

/* Point db at its MMIO word (reset to 0: a new queue starts at 0) and,
 * with Doorbell Buffer Config active, at its shadow words. */
static void db_init(struct vpio_emu_nvme *c, struct emu_db *db, uint32_t off)
{
	memset(db, 0, sizeof(*db));
	db->mmio = c->bar + off;
	emu_store32(db->mmio, 0);
	if (c->dbbuf_on && db_shadow_slot(c, db)) {
		emu_store32(db->shadow, 0);
		emu_store32(db->eventidx, 0);
	}
}

uint32_t emu_db_read(struct vpio_emu_nvme *c, struct emu_db *db)
{
	uint32_t m = emu_load32(db->mmio);

	if (m != db->last_mmio) {
		db->last_mmio = m;
		emu_count(&c->stats.mmio_doorbells, 1);
	}
	if (db->shadow != NULL) {
		/* Read after the MMIO word: a driver writes the shadow first. */
		uint32_t s = emu_load32(db->shadow);

		if (s != db->last_shadow) {
			db->last_shadow = s;
			db->shadow_live = true;
			emu_count(&c->stats.shadow_doorbells, 1);
		}
		if (db->shadow_live)
			return db->last_shadow;
	}
	return db->last_mmio;
}

static void db_warn(struct vpio_emu_nvme *c, bool *logged, const char *what, uint16_t qid, uint32_t v, uint32_t size)
{
	if (*logged)
		return;
	*logged = true;
	VPIO_ERR(EMU_MOD, "%s: ignored an invalid %s doorbell value %u for queue %u (size %u); logged once per queue",
		 c->name, what, v, qid, size);
}

/* ----------------------------------------------------- queue lifetime */

int emu_cq_create(struct vpio_emu_nvme *c, uint16_t qid, uint64_t iova, uint32_t size)
{
	struct emu_cq *cq = &c->cqs[qid];
	void *ring = emu_dma_map(&c->dma, iova, (uint64_t)size * sizeof(struct vpio_nvme_cpl),
				 qid ? "completion queue" : "admin completion queue");

	if (ring == NULL)
		return -EFAULT;
	memset(cq, 0, sizeof(*cq));
	cq->qid = qid;
	cq->size = size;
	cq->phase = 1;
	cq->ring = ring;
	db_init(c, &cq->db, vpio_nvme_cq_hdbl_off(qid, c->opts.dstrd));
	cq->live = true;
	return 0;
}

int emu_sq_create(struct vpio_emu_nvme *c, uint16_t qid, uint64_t iova, uint32_t size, struct emu_cq *cq)
{
	struct emu_sq *sq = &c->sqs[qid];
	void *ring = emu_dma_map(&c->dma, iova, (uint64_t)size * sizeof(struct vpio_nvme_cmd),
				 qid ? "submission queue" : "admin submission queue");

	if (ring == NULL)
		return -EFAULT;
	memset(sq, 0, sizeof(*sq));
	sq->qid = qid;
	sq->size = size;
	sq->ring = ring;
	sq->cq = cq;
	db_init(c, &sq->db, vpio_nvme_sq_tdbl_off(qid, c->opts.dstrd));
	sq->live = true;
	cq->n_sqs++;
	if (qid != 0)
		c->active[c->n_active++] = sq;
	return 0;
}

static void pending_drop_sq(struct vpio_emu_nvme *c, uint16_t sqid)
{
	unsigned j = 0;

	for (unsigned i = 0; i < c->n_pending; i++) {
		if (c->pending[i].sqid != sqid)
			c->pending[j++] = c->pending[i];
	}
	c->n_pending = j;
}

void emu_sq_delete(struct vpio_emu_nvme *c, struct emu_sq *sq)
{
	for (unsigned i = 0; i < c->n_active; i++) {
		if (c->active[i] == sq) {
			c->active[i] = c->active[--c->n_active];
			break;
		}
	}
	pending_drop_sq(c, sq->qid);
	sq->cq->n_sqs--;
	emu_store32(sq->db.mmio, 0);
	sq->live = false;
}

void emu_cq_delete(struct vpio_emu_nvme *c, struct emu_cq *cq)
{
	(void)c;
	emu_store32(cq->db.mmio, 0);
	cq->live = false;
}

void emu_queues_reset(struct vpio_emu_nvme *c)
{
	for (uint32_t q = 0; q <= c->opts.queues; q++) {
		if (c->sqs[q].live)
			emu_sq_delete(c, &c->sqs[q]);
	}
	for (uint32_t q = 0; q <= c->opts.queues; q++) {
		if (c->cqs[q].live)
			emu_cq_delete(c, &c->cqs[q]);
	}
	c->n_active = 0;
	c->n_pending = 0;
	c->n_aer = 0;
	emu_dbbuf_reset(c);
}

/* --------------------------------------------------- shadow doorbells */

void emu_dbbuf_reset(struct vpio_emu_nvme *c)
{
	c->dbbuf_on = false;
	c->dbbuf_shadow = NULL;
	c->dbbuf_eventidx = NULL;
	c->dbbuf_len = 0;
	for (uint32_t q = 0; q <= c->opts.queues; q++) {
		c->sqs[q].db.shadow = c->sqs[q].db.eventidx = NULL;
		c->cqs[q].db.shadow = c->cqs[q].db.eventidx = NULL;
		c->sqs[q].db.shadow_live = c->cqs[q].db.shadow_live = false;
	}
}

static void db_attach_shadow(struct vpio_emu_nvme *c, struct emu_db *db, uint32_t cur)
{
	if (!db_shadow_slot(c, db))
		return;
	emu_store32(db->shadow, cur);
	emu_store32(db->eventidx, cur);
	db->last_shadow = cur;
	db->shadow_live = false;
}

/* Each buffer is one memory page (NVMe base specification, Doorbell Buffer
 * Config): never touched beyond it, whatever the queue count and stride. */
int emu_dbbuf_config(struct vpio_emu_nvme *c, uint64_t shadow_iova, uint64_t eventidx_iova)
{
	uint32_t len = 1u << c->dma.page_bits;
	emu_u32 *shadow = emu_dma_map(&c->dma, shadow_iova, len, "shadow doorbell buffer");
	emu_u32 *ei = shadow ? emu_dma_map(&c->dma, eventidx_iova, len, "event index buffer") : NULL;

	if (ei == NULL)
		return -EFAULT;
	c->dbbuf_shadow = shadow;
	c->dbbuf_eventidx = ei;
	c->dbbuf_len = len;
	c->dbbuf_on = true;
	/* Queues that exist continue from where they are. */
	for (uint32_t q = 0; q <= c->opts.queues; q++) {
		if (c->sqs[q].live)
			db_attach_shadow(c, &c->sqs[q].db, c->sqs[q].tail);
		if (c->cqs[q].live)
			db_attach_shadow(c, &c->cqs[q].db, c->cqs[q].head);
	}
	return 0;
}

void emu_dbbuf_publish(struct vpio_emu_nvme *c)
{
	if (!c->dbbuf_on)
		return;
	for (uint32_t q = 0; q <= c->opts.queues; q++) {
		if (c->sqs[q].live && c->sqs[q].db.eventidx != NULL)
			emu_store32(c->sqs[q].db.eventidx, c->sqs[q].tail);
		if (c->cqs[q].live && c->cqs[q].db.eventidx != NULL)
			emu_store32(c->cqs[q].db.eventidx, c->cqs[q].head);
	}
	/* No fence and re-read needed: the shadow words are polled anyway, so
	 * an update that races with this is seen on the next pass. */
}

/* ------------------------------------------------------- completions */

static inline uint32_t cq_used(const struct emu_cq *cq)
{
	return cq->tail >= cq->head ? cq->tail - cq->head : cq->size - cq->head + cq->tail;
}

/* true when cq has room for one more entry (re-reads the head doorbell
 * only when the cached head says it is full). */
static bool cq_room(struct vpio_emu_nvme *c, struct emu_cq *cq)
{
	uint32_t used = cq_used(cq), h;

	if (__builtin_expect(used < cq->size - 1, 1))
		return true;
	h = emu_db_read(c, &cq->db);
	if (h != cq->head) {
		/* the new head must lie in (head, tail] */
		uint32_t adv = h >= cq->head ? h - cq->head : cq->size - cq->head + h;

		if (h >= cq->size || adv > used)
			db_warn(c, &cq->bad_db_logged, "CQ head", cq->qid, h, cq->size);
		else
			cq->head = h;
	}
	if (cq_used(cq) < cq->size - 1)
		return true;
	if (cq->db.eventidx != NULL) /* ask the driver to ring when it moves the head */
		emu_store32(cq->db.eventidx, cq->head);
	return false;
}

static void cq_post(struct emu_cq *cq, uint16_t sqhd, uint16_t sqid, uint16_t cid, uint16_t status, uint32_t cdw0)
{
	struct vpio_nvme_cpl *e = &cq->ring[cq->tail];

	e->cdw0 = cdw0;
	e->cdw1 = 0;
	e->sqhd = sqhd;
	e->sqid = sqid;
	e->cid = cid;
	/* the status with the phase tag goes last (release): the driver may
	 * use the entry as soon as it sees the phase flip */
	__atomic_store_n(&e->status, (uint16_t)(status | cq->phase), __ATOMIC_RELEASE);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
}

static bool pending_add(struct vpio_emu_nvme *c, uint64_t due, uint16_t sqid, uint16_t cid, uint16_t status,
			uint32_t cdw0)
{
	struct emu_pending *p;

	if (c->n_pending == EMU_MAX_PENDING) {
		VPIO_ERR(EMU_MOD, "%s: more than %d completions wait; the completion of cid %u on SQ %u is lost",
			 c->name, EMU_MAX_PENDING, cid, sqid);
		return false;
	}
	p = &c->pending[c->n_pending++];
	p->due_ns = due;
	p->sqid = sqid;
	p->cid = cid;
	p->status = status;
	p->cdw0 = cdw0;
	return true;
}

/* Post now if the CQ has room, else wait in the pending list. */
static void post_or_wait(struct vpio_emu_nvme *c, struct emu_sq *sq, uint16_t sqhd, uint16_t cid, uint16_t status,
			 uint32_t cdw0)
{
	if (cq_room(c, sq->cq))
		cq_post(sq->cq, sqhd, sq->qid, cid, status, cdw0);
	else
		pending_add(c, 0, sq->qid, cid, status, cdw0);
}

/* A cid that no command in sq's ring or in the pending list carries. */
static uint16_t pick_bogus_cid(struct vpio_emu_nvme *c, const struct emu_sq *sq, uint16_t cid)
{
	static uint32_t seed = 0x9e3779b9u;

	for (int tries = 0; tries < 64; tries++) {
		bool used = false;
		uint16_t v;

		seed = seed * 1664525u + 1013904223u;
		v = (uint16_t)(seed >> 16);
		if (v == cid)
			continue;
		for (uint32_t i = 0; i < sq->size && !used; i++)
			used = sq->ring[i].cid == v;
		for (unsigned i = 0; i < c->n_pending && !used; i++)
			used = c->pending[i].cid == v;
		if (!used)
			return v;
	}
	return (uint16_t)~cid;
}

struct fault_plan {
	bool drop, dup, bad_sqhd;
	bool bogus;
	uint16_t bogus_cid;
	uint64_t delay_us;
};

static void take_faults(struct vpio_emu_nvme *c, struct fault_plan *f)
{
	uint32_t bits;

	pthread_mutex_lock(&c->lock);
	bits = __atomic_load_n(&c->fault_bits, __ATOMIC_ACQUIRE);
	if (bits & EMU_FAULT_DROP) {
		f->drop = true;
		if (--c->drop_left == 0)
			bits &= ~(uint32_t)EMU_FAULT_DROP;
		__atomic_store_n(&c->fault_bits, bits, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (bits & EMU_FAULT_BOGUS) {
		f->bogus = true;
		f->bogus_cid = c->bogus_cid;
	}
	f->dup = bits & EMU_FAULT_DUP;
	f->bad_sqhd = bits & EMU_FAULT_SQHD;
	if (bits & EMU_FAULT_DELAY)
		f->delay_us = c->delay_us;
	__atomic_store_n(&c->fault_bits, bits & EMU_FAULT_DROP_ADMIN, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
}

/* An admin completion to drop (DROP_ADMIN_CPL)? */
static bool take_admin_drop(struct vpio_emu_nvme *c)
{
	bool drop = false;

	pthread_mutex_lock(&c->lock);
	if (c->drop_admin_left > 0) {
		drop = true;
		if (--c->drop_admin_left == 0)
			__atomic_and_fetch(&c->fault_bits, ~(uint32_t)EMU_FAULT_DROP_ADMIN, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
	return drop;
}

static void complete_faulty(struct vpio_emu_nvme *c, struct emu_sq *sq, uint16_t cid, uint16_t status, uint32_t cdw0)
{
	struct fault_plan f = { 0 };
	uint16_t sqhd = (uint16_t)sq->head;

	take_faults(c, &f);
	if (f.drop)
		return;
	if (f.bogus)
		cid = f.bogus_cid ? f.bogus_cid : pick_bogus_cid(c, sq, cid);
	if (f.bad_sqhd)
		sqhd = (uint16_t)(sq->size + 1 <= 0xffff ? sq->size + 1 : 0xffff);
	if (f.delay_us > 0) {
		uint64_t due = emu_now_ns() + f.delay_us * 1000;

		if (!pending_add(c, due, sq->qid, cid, status, cdw0))
			post_or_wait(c, sq, sqhd, cid, status, cdw0);
		if (f.dup)
			pending_add(c, due, sq->qid, cid, status, cdw0);
		return;
	}
	post_or_wait(c, sq, sqhd, cid, status, cdw0);
	if (f.dup)
		post_or_wait(c, sq, sqhd, cid, status, cdw0);
}

void emu_complete(struct vpio_emu_nvme *c, struct emu_sq *sq, uint16_t cid, uint16_t status, uint32_t cdw0)
{
	uint32_t bits = __atomic_load_n(&c->fault_bits, __ATOMIC_RELAXED);

	if (__builtin_expect(bits != 0, 0)) {
		if (sq->qid != 0 && (bits & ~(uint32_t)EMU_FAULT_DROP_ADMIN) != 0) {
			complete_faulty(c, sq, cid, status, cdw0);
			return;
		}
		if (sq->qid == 0 && (bits & EMU_FAULT_DROP_ADMIN) != 0 && take_admin_drop(c))
			return;
	}
	post_or_wait(c, sq, (uint16_t)sq->head, cid, status, cdw0);
}

unsigned emu_pending_process(struct vpio_emu_nvme *c, uint64_t now)
{
	unsigned posted = 0, j = 0;

	for (unsigned i = 0; i < c->n_pending; i++) {
		struct emu_pending *p = &c->pending[i];
		struct emu_sq *sq = &c->sqs[p->sqid];

		if (!sq->live) /* its SQ went away: nothing to post to */
			continue;
		if (p->due_ns <= now && cq_room(c, sq->cq)) {
			cq_post(sq->cq, (uint16_t)sq->head, sq->qid, p->cid, p->status, p->cdw0);
			posted++;
			continue;
		}
		c->pending[j++] = *p;
	}
	c->n_pending = j;
	return posted;
}

/* ---------------------------------------------------------- fetching */

static bool take_abort(struct emu_sq *sq, uint16_t cid)
{
	for (unsigned i = 0; i < sq->n_aborts; i++) {
		if (sq->aborts[i] == cid) {
			sq->aborts[i] = sq->aborts[--sq->n_aborts];
			return true;
		}
	}
	return false;
}

unsigned emu_sq_process(struct vpio_emu_nvme *c, struct emu_sq *sq, unsigned budget)
{
	uint32_t t = emu_db_read(c, &sq->db);
	unsigned n = 0;

	if (t != sq->tail) {
		if (__builtin_expect(t >= sq->size, 0))
			db_warn(c, &sq->bad_db_logged, "SQ tail", sq->qid, t, sq->size);
		else
			sq->tail = t;
	}
	while (sq->head != sq->tail && n < budget) {
		struct vpio_nvme_cmd cmd;
		uint32_t cdw0 = 0;
		uint16_t st;

		if (!cq_room(c, sq->cq))
			break;
		memcpy(&cmd, &sq->ring[sq->head], sizeof(cmd));
		if (++sq->head == sq->size)
			sq->head = 0;
		n++;
		if (__builtin_expect(sq->n_aborts > 0, 0) && take_abort(sq, cmd.cid)) {
			emu_complete(c, sq, cmd.cid, EMU_SC(GENERIC, ABORTED_BY_REQUEST), 0);
			continue;
		}
		if (sq->qid == 0) {
			emu_count(&c->stats.admin_cmds, 1);
			st = emu_admin_cmd(c, &cmd, &cdw0);
			if (st == EMU_DEFER)
				continue;
		} else {
			emu_count(&c->stats.io_cmds, 1);
			st = emu_io_cmd(c, &cmd);
		}
		if (__builtin_expect(st != EMU_OK, 0)) {
			if (emu_status_is_invalid(st))
				emu_count(&c->stats.invalid_cmds, 1);
			emu_errlog_add(c, sq->qid, &cmd, st);
		}
		emu_complete(c, sq, cmd.cid, st, cdw0);
		/* an admin command may have made the controller stop */
		if (__builtin_expect(!sq->live || c->fatal, 0))
			break;
	}
	return n;
}
