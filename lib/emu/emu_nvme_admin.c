/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands: queue creation/deletion, abort, asynchronous events,
 * doorbell buffer config, and dispatch to identify/features/log pages.
 */
#include <string.h>

#include "emu_internal.h"

#define CS(sc) EMU_SC(COMMAND_SPECIFIC, sc)
#define GEN(sc) EMU_SC(GENERIC, sc)

static bool queue_base_ok(const struct vpio_emu_nvme *c, uint64_t base)
{
	return base != 0 && (base & ((1ull << c->dma.page_bits) - 1)) == 0;
}

static uint16_t create_cq(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;
	uint32_t size = (cmd->cdw10 >> 16) + 1;

	if (qid == 0 || qid > c->ncq_alloc || c->cqs[qid].live)
		return CS(INVALID_QUEUE_IDENTIFIER);
	if (size < 2 || size > c->opts.qdepth)
		return CS(INVALID_QUEUE_SIZE);
	if (!(cmd->cdw11 & 1)) /* CAP.CQR: queues must be physically contiguous */
		return GEN(INVALID_FIELD);
	if (!queue_base_ok(c, cmd->dptr.prp.prp1))
		return GEN(INVALID_PRP_OFFSET);
	if (emu_cq_create(c, qid, cmd->dptr.prp.prp1, size) != 0)
		return GEN(DATA_TRANSFER_ERROR);
	return EMU_OK;
}

static uint16_t create_sq(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10, cqid = (uint16_t)(cmd->cdw11 >> 16);
	uint32_t size = (cmd->cdw10 >> 16) + 1;

	if (qid == 0 || qid > c->nsq_alloc || c->sqs[qid].live)
		return CS(INVALID_QUEUE_IDENTIFIER);
	if (cqid == 0 || cqid > c->opts.queues || !c->cqs[cqid].live)
		return CS(COMPLETION_QUEUE_INVALID);
	if (size < 2 || size > c->opts.qdepth)
		return CS(INVALID_QUEUE_SIZE);
	if (!(cmd->cdw11 & 1))
		return GEN(INVALID_FIELD);
	if (!queue_base_ok(c, cmd->dptr.prp.prp1))
		return GEN(INVALID_PRP_OFFSET);
	if (emu_sq_create(c, qid, cmd->dptr.prp.prp1, size, &c->cqs[cqid]) != 0)
		return GEN(DATA_TRANSFER_ERROR);
	return EMU_OK;
}

static uint16_t delete_sq(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;

	if (qid == 0 || qid > c->opts.queues || !c->sqs[qid].live)
		return CS(INVALID_QUEUE_IDENTIFIER);
	emu_sq_delete(c, &c->sqs[qid]);
	return EMU_OK;
}

static uint16_t delete_cq(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;

	if (qid == 0 || qid > c->opts.queues || !c->cqs[qid].live)
		return CS(INVALID_QUEUE_IDENTIFIER);
	if (c->cqs[qid].n_sqs > 0)
		return CS(INVALID_QUEUE_DELETION);
	emu_cq_delete(c, &c->cqs[qid]);
	return EMU_OK;
}

/* Abort: a completion that waits (delayed) is completed now as aborted; a
 * command still in its SQ is aborted when fetched.  cdw0 bit 0 = 1: not
 * found (it completed already, or never existed). */
static uint16_t abort_cmd(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	uint16_t sqid = (uint16_t)cmd->cdw10, cid = (uint16_t)(cmd->cdw10 >> 16);
	struct emu_sq *sq;

	*cdw0 = 1;
	if (sqid > c->opts.queues || !c->sqs[sqid].live)
		return EMU_OK;
	sq = &c->sqs[sqid];
	for (unsigned i = 0; i < c->n_pending; i++) {
		struct emu_pending *p = &c->pending[i];

		if (p->sqid == sqid && p->cid == cid && p->due_ns != 0) {
			p->status = GEN(ABORTED_BY_REQUEST);
			p->cdw0 = 0;
			p->due_ns = 0;
			*cdw0 = 0;
			return EMU_OK;
		}
	}
	if (sqid == 0) {
		for (unsigned i = 0; i < c->n_aer; i++) {
			if (c->aer_cids[i] == cid) {
				c->aer_cids[i] = c->aer_cids[--c->n_aer];
				emu_complete(c, sq, cid, GEN(ABORTED_BY_REQUEST), 0);
				*cdw0 = 0;
				return EMU_OK;
			}
		}
	}
	/* Still queued?  Look between the fetch position and the tail. */
	if (sq->n_aborts < EMU_MAX_ABORTS) {
		uint32_t t = emu_db_read(c, &sq->db);

		if (t < sq->size)
			sq->tail = t;
		for (uint32_t i = sq->head; i != sq->tail; i = i + 1 == sq->size ? 0 : i + 1) {
			if (sq->ring[i].cid == cid) {
				sq->aborts[sq->n_aborts++] = cid;
				*cdw0 = 0;
				break;
			}
		}
	}
	return EMU_OK;
}

static uint16_t async_event(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	if (c->n_aer >= EMU_MAX_AER)
		return CS(ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED);
	c->aer_cids[c->n_aer++] = cmd->cid;
	return EMU_DEFER; /* no event ever happens: it stays outstanding */
}

static uint16_t dbbuf_config(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint64_t shadow = cmd->dptr.prp.prp1, ei = cmd->dptr.prp.prp2;

	if (!c->opts.dbbuf)
		return GEN(INVALID_OPCODE);
	if (!queue_base_ok(c, shadow) || !queue_base_ok(c, ei) || (cmd->flags & VPIO_NVME_PSDT_MASK) != 0)
		return GEN(INVALID_FIELD);
	if (emu_dbbuf_config(c, shadow, ei) != 0)
		return GEN(DATA_TRANSFER_ERROR);
	return EMU_OK;
}

uint16_t emu_admin_cmd(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	*cdw0 = 0;
	if (cmd->flags & 0x3) /* fused operations are not supported */
		return GEN(INVALID_FIELD);
	switch (cmd->opc) {
	case VPIO_NVME_OPC_IDENTIFY:
		return emu_admin_identify(c, cmd);
	case VPIO_NVME_OPC_GET_LOG_PAGE:
		return emu_admin_get_log_page(c, cmd);
	case VPIO_NVME_OPC_SET_FEATURES:
		return emu_admin_set_features(c, cmd, cdw0);
	case VPIO_NVME_OPC_GET_FEATURES:
		return emu_admin_get_features(c, cmd, cdw0);
	case VPIO_NVME_OPC_CREATE_IO_CQ:
		return create_cq(c, cmd);
	case VPIO_NVME_OPC_CREATE_IO_SQ:
		return create_sq(c, cmd);
	case VPIO_NVME_OPC_DELETE_IO_SQ:
		return delete_sq(c, cmd);
	case VPIO_NVME_OPC_DELETE_IO_CQ:
		return delete_cq(c, cmd);
	case VPIO_NVME_OPC_ABORT:
		return abort_cmd(c, cmd, cdw0);
	case VPIO_NVME_OPC_ASYNC_EVENT_REQUEST:
		return async_event(c, cmd);
	case VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG:
		return dbbuf_config(c, cmd);
	default:
		return GEN(INVALID_OPCODE);
	}
}
