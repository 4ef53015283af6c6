/* SPDX-License-Identifier: BSD-3-Clause */
/* Set/Get Features.  Number of Queues and the write cache mean something;
 * the other supported features are stored and returned.  Two have a data
 * structure, moved whole as a real controller does: LBA Range Type (4 KiB,
 * per namespace) and Timestamp (8 bytes). */
#include <stdlib.h>
#include <string.h>

#include "emu_internal.h"

#define CS(sc) EMU_SC(COMMAND_SPECIFIC, sc)
#define GEN(sc) EMU_SC(GENERIC, sc)

#define SEL_CURRENT 0
#define SEL_DEFAULT 1
#define SEL_SAVED 2
#define SEL_CAPABILITIES 3
#define CAP_CHANGEABLE (1u << 2)

static bool feat_supported(uint8_t fid)
{
	switch (fid) {
	case VPIO_NVME_FEAT_ARBITRATION:
	case VPIO_NVME_FEAT_POWER_MANAGEMENT:
	case VPIO_NVME_FEAT_TEMPERATURE_THRESHOLD:
	case VPIO_NVME_FEAT_ERROR_RECOVERY:
	case VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE:
	case VPIO_NVME_FEAT_NUMBER_OF_QUEUES:
	case VPIO_NVME_FEAT_INTERRUPT_COALESCING:
	case VPIO_NVME_FEAT_IV_CONFIG:
	case VPIO_NVME_FEAT_WRITE_ATOMICITY:
	case VPIO_NVME_FEAT_ASYNC_EVENT_CONFIG:
	case VPIO_NVME_FEAT_LBA_RANGE_TYPE:
	case VPIO_NVME_FEAT_TIMESTAMP:
		return true;
	default:
		return false;
	}
}

static uint32_t feat_default(const struct vpio_emu_nvme *c, uint8_t fid)
{
	switch (fid) {
	case VPIO_NVME_FEAT_TEMPERATURE_THRESHOLD:
		return 343; /* over-temperature threshold, kelvin (= WCTEMP) */
	case VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE:
		return 1;
	case VPIO_NVME_FEAT_NUMBER_OF_QUEUES:
		return (c->opts.queues - 1) | (c->opts.queues - 1) << 16;
	default:
		return 0;
	}
}

void emu_features_reset(struct vpio_emu_nvme *c)
{
	for (unsigned fid = 0; fid < VPIO_ARRAY_SIZE(c->feat); fid++)
		c->feat[fid] = feat_default(c, (uint8_t)fid);
	c->nsq_alloc = c->ncq_alloc = c->opts.queues;
	for (unsigned i = 0; i < EMU_NVME_MAX_NS; i++) {
		free(c->ns[i].lba_ranges);
		c->ns[i].lba_ranges = NULL;
		c->ns[i].lba_range_num = 0;
	}
	c->ts_ms = 0; /* counts from the reset until the host sets it */
	c->ts_ns = emu_now_ns();
	c->ts_host_set = false;
}

/* Timestamp: bytes 0..5 milliseconds, byte 6 bits 3:1 the origin (0: since
 * reset, 1: set by the host), bit 0 synch (0: kept counting). */
static uint16_t timestamp_get(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint64_t ms = c->ts_ms + (emu_now_ns() - c->ts_ns) / 1000000u;
	uint8_t ts[VPIO_NVME_TIMESTAMP_SIZE];

	for (unsigned i = 0; i < 6; i++)
		ts[i] = (uint8_t)(ms >> (8u * i));
	ts[6] = c->ts_host_set ? 1u << 1 : 0;
	ts[7] = 0;
	return emu_dma_to_host(&c->dma, cmd, ts, sizeof(ts));
}

static uint16_t timestamp_set(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint8_t ts[VPIO_NVME_TIMESTAMP_SIZE];
	uint16_t st = emu_dma_from_host(&c->dma, cmd, ts, sizeof(ts));

	if (st != EMU_OK)
		return st;
	c->ts_ms = 0;
	for (unsigned i = 0; i < 6; i++)
		c->ts_ms |= (uint64_t)ts[i] << (8u * i);
	c->ts_ns = emu_now_ns();
	c->ts_host_set = true;
	return EMU_OK;
}

/* LBA Range Type: the whole 4 KiB structure, NUM (0-based) in dword 0;
 * by default one general-purpose range over the namespace. */
static uint16_t lba_range_get(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	struct emu_nvme_ns *ns = emu_ns_get(c, cmd->nsid);
	struct vpio_nvme_lba_range_type *r = (struct vpio_nvme_lba_range_type *)c->bounce;

	if (ns == NULL)
		return GEN(INVALID_NAMESPACE_OR_FORMAT);
	memset(c->bounce, 0, VPIO_NVME_LBA_RANGE_TYPE_SIZE);
	if (ns->lba_ranges != NULL) {
		memcpy(c->bounce, ns->lba_ranges, VPIO_NVME_LBA_RANGE_TYPE_SIZE);
	} else {
		r->type = 0;	   /* general purpose */
		r->attributes = 1; /* may be overwritten */
		r->nlb = ns->nsze - 1u;
	}
	*cdw0 = ns->lba_range_num;
	return emu_dma_to_host(&c->dma, cmd, c->bounce, VPIO_NVME_LBA_RANGE_TYPE_SIZE);
}

static uint16_t lba_range_set(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	struct emu_nvme_ns *ns = emu_ns_get(c, cmd->nsid);
	uint16_t st;

	if (ns == NULL)
		return GEN(INVALID_NAMESPACE_OR_FORMAT);
	st = emu_dma_from_host(&c->dma, cmd, c->bounce, VPIO_NVME_LBA_RANGE_TYPE_SIZE);
	if (st != EMU_OK)
		return st;
	if (ns->lba_ranges == NULL && (ns->lba_ranges = malloc(VPIO_NVME_LBA_RANGE_TYPE_SIZE)) == NULL)
		return GEN(INTERNAL_DEVICE_ERROR);
	memcpy(ns->lba_ranges, c->bounce, VPIO_NVME_LBA_RANGE_TYPE_SIZE);
	ns->lba_range_num = (uint8_t)(cmd->cdw11 & 0x3fu);
	return EMU_OK;
}

uint16_t emu_admin_get_features(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	uint8_t fid = (uint8_t)cmd->cdw10;
	unsigned sel = (cmd->cdw10 >> 8) & 0x7;

	if (!feat_supported(fid))
		return GEN(INVALID_FIELD);
	if ((sel == SEL_CURRENT || sel == SEL_SAVED) && fid == VPIO_NVME_FEAT_TIMESTAMP)
		return timestamp_get(c, cmd);
	if ((sel == SEL_CURRENT || sel == SEL_SAVED) && fid == VPIO_NVME_FEAT_LBA_RANGE_TYPE)
		return lba_range_get(c, cmd, cdw0);
	switch (sel) {
	case SEL_CURRENT:
	case SEL_SAVED: /* nothing is saveable: saved = current */
		*cdw0 = c->feat[fid];
		break;
	case SEL_DEFAULT:
		*cdw0 = feat_default(c, fid);
		break;
	case SEL_CAPABILITIES:
		*cdw0 = CAP_CHANGEABLE;
		break;
	default:
		return GEN(INVALID_FIELD);
	}
	return EMU_OK;
}

static uint16_t set_num_queues(struct vpio_emu_nvme *c, uint32_t cdw11, uint32_t *cdw0)
{
	uint32_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16;

	if (nsqr == 0xffff || ncqr == 0xffff)
		return GEN(INVALID_FIELD);
	if (c->n_active > 0) /* only before I/O queues exist */
		return GEN(COMMAND_SEQUENCE_ERROR);
	for (uint32_t q = 1; q <= c->opts.queues; q++) {
		if (c->cqs[q].live)
			return GEN(COMMAND_SEQUENCE_ERROR);
	}
	c->nsq_alloc = VPIO_MIN(nsqr + 1, c->opts.queues);
	c->ncq_alloc = VPIO_MIN(ncqr + 1, c->opts.queues);
	c->feat[VPIO_NVME_FEAT_NUMBER_OF_QUEUES] = (c->nsq_alloc - 1) | (c->ncq_alloc - 1) << 16;
	*cdw0 = c->feat[VPIO_NVME_FEAT_NUMBER_OF_QUEUES];
	return EMU_OK;
}

uint16_t emu_admin_set_features(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	uint8_t fid = (uint8_t)cmd->cdw10;

	if (!feat_supported(fid))
		return GEN(INVALID_FIELD);
	if (cmd->cdw10 & (1u << 31)) /* SV */
		return CS(FEATURE_ID_NOT_SAVEABLE);
	switch (fid) {
	case VPIO_NVME_FEAT_NUMBER_OF_QUEUES:
		return set_num_queues(c, cmd->cdw11, cdw0);
	case VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE:
		c->feat[fid] = cmd->cdw11 & 1;
		break;
	case VPIO_NVME_FEAT_TEMPERATURE_THRESHOLD:
		c->feat[fid] = cmd->cdw11 & 0xffff;
		break;
	case VPIO_NVME_FEAT_TIMESTAMP:
		return timestamp_set(c, cmd);
	case VPIO_NVME_FEAT_LBA_RANGE_TYPE:
		return lba_range_set(c, cmd);
	default:
		c->feat[fid] = cmd->cdw11;
		break;
	}
	return EMU_OK;
}
