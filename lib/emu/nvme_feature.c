/* SPDX-License-Identifier: BSD-3-Clause */
/* Set/Get Features.  Number of Queues and the write cache mean something;
 * the other supported features are stored and returned. */
#include <string.h>

#include "emu_internal.h"

#define CS(sc) EMU_SC(COMMAND_SPECIFIC, sc)
#define GEN(sc) EMU_SC(GENERIC, sc)

#define FEAT_IV_CONFIG 0x09
#define FEAT_WRITE_ATOMICITY 0x0a
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
	case FEAT_IV_CONFIG:
	case FEAT_WRITE_ATOMICITY:
	case VPIO_NVME_FEAT_ASYNC_EVENT_CONFIG:
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
}

uint16_t emu_admin_get_features(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0)
{
	uint8_t fid = (uint8_t)cmd->cdw10;
	unsigned sel = (cmd->cdw10 >> 8) & 0x7;

	if (!feat_supported(fid))
		return GEN(INVALID_FIELD);
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
	default:
		c->feat[fid] = cmd->cdw11;
		break;
	}
	return EMU_OK;
}
