/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How many bytes an admin command moves, by the specification.  A device
 * transfers its whole data structure (Identify: 4 KiB, LBA Range Type: 4
 * KiB, Timestamp: 8 bytes, a log page: NUMD dwords), whatever buffer the
 * host meant to give it, so data buffers are sized by this and never by
 * the caller's length alone.  Commands and features the driver does not
 * know (vendor specific ones) are NVME_XFER_UNKNOWN.
 */
#include <errno.h>
#include <stdio.h>

#include "nvme_internal.h"

/* 0-based dword count in the low 32 bits of cdw10 (Firmware Image
 * Download, Directive Send/Receive). */
static uint64_t numd_bytes(uint32_t numd0)
{
	return ((uint64_t)numd0 + 1u) * 4u;
}

uint64_t nvme_feature_xfer_len(uint8_t fid, bool set, uint32_t cdw11)
{
	switch (fid) {
	case 0x01: case 0x02: case 0x04: case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a:
	case 0x0b: case 0x0f: case 0x10: case 0x11: case 0x12: case 0x14: case 0x15: case 0x17: case 0x18:
	case 0x19: case 0x1a: case 0x80: case 0x82: case 0x83: case 0x84:
		return 0; /* the value is in cdw11 / completion dword 0 */
	case VPIO_NVME_FEAT_LBA_RANGE_TYPE:
		return VPIO_NVME_LBA_RANGE_TYPE_SIZE;
	case VPIO_NVME_FEAT_AUTONOMOUS_POWER_STATE:
		return 256; /* 32 entries of 8 bytes */
	case VPIO_NVME_FEAT_HOST_MEM_BUFFER:
		return set ? 0 : 4096; /* set: the descriptor list is in cdw12..15 */
	case VPIO_NVME_FEAT_TIMESTAMP:
		return VPIO_NVME_TIMESTAMP_SIZE;
	case VPIO_NVME_FEAT_PLM_CONFIG:
	case VPIO_NVME_FEAT_HOST_BEHAVIOR_SUPPORT:
		return 512;
	case 0x7d: case 0x7e: case 0x7f: /* host metadata */
		return 4096;
	case VPIO_NVME_FEAT_HOST_IDENTIFIER:
		return (cdw11 & 1u) ? 16 : 8; /* EXHID: 128-bit identifier */
	default:
		return NVME_XFER_UNKNOWN;
	}
}

uint64_t nvme_admin_xfer_len(const struct vpio_nvme_cmd *cmd)
{
	switch (cmd->opc) {
	case VPIO_NVME_OPC_IDENTIFY:
		return VPIO_NVME_IDENTIFY_DATA_SIZE;
	case VPIO_NVME_OPC_GET_LOG_PAGE: /* NUMDL in cdw10[31:16], NUMDU in cdw11[15:0] */
		return numd_bytes(cmd->cdw10 >> 16 | (cmd->cdw11 & 0xffffu) << 16);
	case VPIO_NVME_OPC_SET_FEATURES:
	case VPIO_NVME_OPC_GET_FEATURES:
		return nvme_feature_xfer_len((uint8_t)cmd->cdw10, cmd->opc == VPIO_NVME_OPC_SET_FEATURES, cmd->cdw11);
	case VPIO_NVME_OPC_FIRMWARE_IMAGE_DOWNLOAD:
	case VPIO_NVME_OPC_DIRECTIVE_SEND:
	case VPIO_NVME_OPC_DIRECTIVE_RECEIVE:
		return numd_bytes(cmd->cdw10);
	case VPIO_NVME_OPC_SECURITY_SEND:
	case VPIO_NVME_OPC_SECURITY_RECEIVE:
		return cmd->cdw11; /* transfer / allocation length in bytes */
	case VPIO_NVME_OPC_NS_MANAGEMENT:
		return (cmd->cdw10 & 0xfu) == 0 ? 4096 : 0; /* create: namespace data; delete: none */
	case VPIO_NVME_OPC_NS_ATTACHMENT:
		return 4096; /* controller list */
	case VPIO_NVME_OPC_DELETE_IO_SQ:
	case VPIO_NVME_OPC_DELETE_IO_CQ:
	case VPIO_NVME_OPC_ABORT:
	case VPIO_NVME_OPC_ASYNC_EVENT_REQUEST:
	case VPIO_NVME_OPC_FIRMWARE_COMMIT:
	case VPIO_NVME_OPC_FORMAT_NVM:
		return 0;
	default: /* queue creation and Doorbell Buffer Config carry their own
		  * addresses; vendor commands are unknown */
		return NVME_XFER_UNKNOWN;
	}
}

int nvme_admin_check_buf(const struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, uint64_t len)
{
	uint64_t need = nvme_admin_xfer_len(cmd);

	if (need == NVME_XFER_UNKNOWN || need <= len)
		return 0;
	if (len == 0 && (cmd->dptr.prp.prp1 != 0 || cmd->dptr.prp.prp2 != 0))
		return 0; /* the caller's own data pointer, not ours to check */
	VPIO_ERR(NVME_MOD, "%s: admin command 0x%02x (cdw10 0x%x) moves %llu bytes, but its buffer has %llu: the device "
		 "would go past its end; give it a buffer of %llu bytes", c->name, cmd->opc, cmd->cdw10,
		 (unsigned long long)need, (unsigned long long)len, (unsigned long long)need);
	return -EINVAL;
}
