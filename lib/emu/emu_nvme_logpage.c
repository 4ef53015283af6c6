/* SPDX-License-Identifier: BSD-3-Clause */
/* Get Log Page (error information, SMART / health, firmware slots) and
 * the error log kept for it. */
#include <string.h>

#include "emu_internal.h"

#define CS(sc) EMU_SC(COMMAND_SPECIFIC, sc)
#define GEN(sc) EMU_SC(GENERIC, sc)

#define LOG_MAX 4096 /* every page fits in 4 KiB */
#define KELVIN_35C 308

void emu_errlog_add(struct vpio_emu_nvme *c, uint16_t sqid, const struct vpio_nvme_cmd *cmd, uint16_t status)
{
	struct vpio_nvme_error_log_entry *e;
	uint32_t sc = VPIO_NVME_STATUS_SC(status), sct = VPIO_NVME_STATUS_SCT(status);

	if (sct == VPIO_NVME_SCT_GENERIC && sc == VPIO_NVME_SC_ABORTED_BY_REQUEST)
		return;
	e = &c->errlog[c->error_count % EMU_ERRLOG_ENTRIES];
	memset(e, 0, sizeof(*e));
	e->error_count = ++c->error_count;
	e->sqid = sqid;
	e->cid = cmd->cid;
	e->status = status & VPIO_NVME_STATUS_NO_PHASE_MASK;
	e->error_location = 0xffff;
	e->nsid = cmd->nsid;
	if (sqid != 0 && (cmd->opc == VPIO_NVME_OPC_READ || cmd->opc == VPIO_NVME_OPC_WRITE ||
			  cmd->opc == VPIO_NVME_OPC_COMPARE || cmd->opc == VPIO_NVME_OPC_WRITE_ZEROES))
		e->lba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32;
	if (sct == VPIO_NVME_SCT_MEDIA_ERROR)
		c->media_errors++;
}

/* Newest first; entries past error_count stay zero. */
static uint32_t error_page(const struct vpio_emu_nvme *c, uint8_t *buf)
{
	struct vpio_nvme_error_log_entry *out = (struct vpio_nvme_error_log_entry *)buf;
	uint64_t n = VPIO_MIN(c->error_count, (uint64_t)EMU_ERRLOG_ENTRIES);

	for (uint64_t i = 0; i < n; i++)
		out[i] = c->errlog[(c->error_count - 1 - i) % EMU_ERRLOG_ENTRIES];
	return EMU_ERRLOG_ENTRIES * sizeof(*out);
}

/* Thousands of 512-byte units, rounded up. */
static uint64_t data_units(uint64_t bytes)
{
	return (bytes / 512 + 999) / 1000;
}

static uint32_t health_page(const struct vpio_emu_nvme *c, uint8_t *buf)
{
	struct vpio_nvme_health_log h;
	uint64_t on_ns = emu_now_ns() - c->created_ns;

	memset(&h, 0, sizeof(h));
	h.composite_temperature = KELVIN_35C;
	h.available_spare = 100;
	h.available_spare_threshold = 10;
	h.data_units_read[0] = data_units(emu_read_count(&c->units_read));
	h.data_units_written[0] = data_units(emu_read_count(&c->units_written));
	h.host_read_commands[0] = emu_read_count(&c->host_read_cmds);
	h.host_write_commands[0] = emu_read_count(&c->host_write_cmds);
	h.controller_busy_time[0] = emu_read_count(&c->busy_ns) / 60000000000ull; /* minutes */
	h.power_cycles[0] = emu_read_count(&c->power_cycles);
	h.power_on_hours[0] = on_ns / 3600000000000ull;
	h.unsafe_shutdowns[0] = c->unsafe_shutdowns;
	h.media_errors[0] = c->media_errors;
	h.num_error_info_log_entries[0] = c->error_count;
	h.temp_sensor[0] = KELVIN_35C;
	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

static uint32_t firmware_page(uint8_t *buf)
{
	buf[0] = 0x01; /* active firmware: slot 1 */
	memcpy(buf + 8, "1.0     ", 8);
	return 512;
}

uint16_t emu_admin_get_log_page(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint8_t lid = (uint8_t)cmd->cdw10;
	uint64_t numd = ((cmd->cdw10 >> 16) | (uint64_t)(cmd->cdw11 & 0xffff) << 16) + 1;
	uint64_t len = numd * 4, off = cmd->cdw12 | (uint64_t)cmd->cdw13 << 32;
	uint64_t max = emu_max_xfer(c);
	uint8_t *buf = c->bounce;
	uint32_t page_len;

	memset(buf, 0, LOG_MAX);
	switch (lid) {
	case VPIO_NVME_LOG_ERROR:
		page_len = error_page(c, buf);
		break;
	case VPIO_NVME_LOG_HEALTH:
		page_len = health_page(c, buf);
		break;
	case VPIO_NVME_LOG_FIRMWARE_SLOT:
		page_len = firmware_page(buf);
		break;
	default:
		return CS(INVALID_LOG_PAGE);
	}
	if ((off & 3) || off >= page_len || (max != 0 && len > max) || off + len > EMU_BOUNCE_SIZE)
		return GEN(INVALID_FIELD);
	/* past the page: zeroes (the bounce buffer is zero up to len) */
	if (off + len > LOG_MAX)
		memset(buf + LOG_MAX, 0, off + len - LOG_MAX);
	return emu_dma_to_host(&c->dma, cmd, buf + off, len);
}
