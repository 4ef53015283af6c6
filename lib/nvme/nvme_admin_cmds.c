/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands: the bytes each one moves by the specification, the
 * public synchronous helpers and the ones the driver uses itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvme_internal.h"

/* ======================================================================== */
/*
 * How many bytes an admin command moves, by the specification.  A device
 * transfers its whole data structure (Identify: 4 KiB, LBA Range Type: 4
 * KiB, Timestamp: 8 bytes, a log page: NUMD dwords), whatever buffer the
 * host meant to give it, so data buffers are sized by this and never by
 * the caller's length alone.  Commands and features the driver does not
 * know (vendor specific ones) are NVME_XFER_UNKNOWN.
 */

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

/* ======================================================================== */
/*
 * Admin commands: the public synchronous helpers and the ones the driver
 * uses itself (queues, Number of Queues, Doorbell Buffer Config, Abort).
 */

static void cmd_init(struct vpio_nvme_cmd *cmd, uint8_t opc, uint32_t nsid)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = opc;
	cmd->nsid = nsid;
}

static int check_ctrlr(const struct vpio_nvme_ctrlr *c, const char *what)
{
	if (c != NULL)
		return 0;
	VPIO_ERR(NVME_MOD, "%s: controller is NULL", what);
	return -EINVAL;
}

/* Run an admin command; a failed status is logged and returned as -errno,
 * a successful one gives its completion dword 0. */
static int admin_sync_cdw0(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, size_t len,
			   const char *what, uint32_t *cdw0)
{
	char st[VPIO_NVME_STATUS_STRLEN];
	struct vpio_nvme_cpl cpl;
	int rc = nvme_admin_sync(c, cmd, buf, len, &cpl, what);

	if (rc != 0)
		return rc;
	if (vpio_nvme_cpl_is_error(&cpl)) {
		VPIO_ERR(NVME_MOD, "%s: %s failed: %s", c->name, what, vpio_nvme_status_fmt(st, sizeof(st), cpl.status));
		return vpio_nvme_status_to_errno(cpl.status);
	}
	if (cdw0 != NULL)
		*cdw0 = cpl.cdw0;
	return 0;
}

int vpio_nvme_ctrlr_identify(struct vpio_nvme_ctrlr *c, uint8_t cns, uint32_t nsid, void *buf, size_t len)
{
	struct vpio_nvme_cmd cmd;
	char what[48];

	if (check_ctrlr(c, "identify") != 0)
		return -EINVAL;
	if (buf == NULL || len == 0 || len > 4096) {
		VPIO_ERR(NVME_MOD, "%s: identify: buffer %p, %zu bytes (1..4096)", c->name, buf, len);
		return -EINVAL;
	}
	cmd_init(&cmd, VPIO_NVME_OPC_IDENTIFY, nsid);
	cmd.cdw10 = cns;
	snprintf(what, sizeof(what), "identify (CNS 0x%02x, nsid %u)", cns, nsid);
	return nvme_admin_sync(c, &cmd, buf, len, NULL, what);
}

int vpio_nvme_ctrlr_set_feature(struct vpio_nvme_ctrlr *c, uint8_t fid, uint32_t cdw11, uint32_t cdw12, void *buf,
				size_t len, uint32_t *cdw0)
{
	struct vpio_nvme_cmd cmd;
	char what[40];

	if (check_ctrlr(c, "set feature") != 0)
		return -EINVAL;
	cmd_init(&cmd, VPIO_NVME_OPC_SET_FEATURES, 0);
	cmd.cdw10 = fid;
	cmd.cdw11 = cdw11;
	cmd.cdw12 = cdw12;
	snprintf(what, sizeof(what), "set feature 0x%02x", fid);
	return admin_sync_cdw0(c, &cmd, buf, len, what, cdw0);
}

int vpio_nvme_ctrlr_get_feature(struct vpio_nvme_ctrlr *c, uint8_t fid, uint32_t cdw11, void *buf, size_t len,
				uint32_t *cdw0)
{
	struct vpio_nvme_cmd cmd;
	char what[40];

	if (check_ctrlr(c, "get feature") != 0)
		return -EINVAL;
	cmd_init(&cmd, VPIO_NVME_OPC_GET_FEATURES, 0);
	cmd.cdw10 = fid; /* SEL 0: current */
	cmd.cdw11 = cdw11;
	snprintf(what, sizeof(what), "get feature 0x%02x", fid);
	return admin_sync_cdw0(c, &cmd, buf, len, what, cdw0);
}

int vpio_nvme_ctrlr_get_log_page(struct vpio_nvme_ctrlr *c, uint8_t lid, uint32_t nsid, void *buf, size_t len,
				 uint64_t offset)
{
	struct vpio_nvme_cmd cmd;
	uint32_t numd;
	char what[40];

	if (check_ctrlr(c, "get log page") != 0)
		return -EINVAL;
	if (buf == NULL || len < 4 || len % 4 != 0 || (offset & 3u) != 0) {
		VPIO_ERR(NVME_MOD, "%s: get log page 0x%02x: buffer %p, %zu bytes at offset %llu (dword multiples needed)",
			 c->name, lid, buf, len, (unsigned long long)offset);
		return -EINVAL;
	}
	numd = (uint32_t)(len / 4u) - 1u;
	cmd_init(&cmd, VPIO_NVME_OPC_GET_LOG_PAGE, nsid);
	cmd.cdw10 = (numd & 0xffffu) << 16 | lid;
	cmd.cdw11 = numd >> 16;
	cmd.cdw12 = (uint32_t)offset;
	cmd.cdw13 = (uint32_t)(offset >> 32);
	snprintf(what, sizeof(what), "get log page 0x%02x", lid);
	return nvme_admin_sync(c, &cmd, buf, len, NULL, what);
}

int vpio_nvme_ctrlr_get_health_log(struct vpio_nvme_ctrlr *c, struct vpio_nvme_health_log *log)
{
	return vpio_nvme_ctrlr_get_log_page(c, VPIO_NVME_LOG_HEALTH, 0xffffffffu, log, sizeof(*log), 0);
}

int vpio_nvme_ctrlr_get_error_log(struct vpio_nvme_ctrlr *c, struct vpio_nvme_error_log_entry *entries, uint32_t n)
{
	uint32_t max;

	if (check_ctrlr(c, "get error log") != 0)
		return -EINVAL;
	max = c->cdata.elpe + 1u;
	if (n > max)
		n = max;
	if (n == 0 || entries == NULL) {
		VPIO_ERR(NVME_MOD, "%s: get error log: no room for entries", c->name);
		return -EINVAL;
	}
	return vpio_nvme_ctrlr_get_log_page(c, VPIO_NVME_LOG_ERROR, 0, entries, n * sizeof(*entries), 0);
}

int vpio_nvme_ctrlr_abort(struct vpio_nvme_ctrlr *c, uint16_t sqid, uint16_t cid, bool *aborted)
{
	struct vpio_nvme_cmd cmd;
	char what[48];
	uint32_t cdw0;
	int rc;

	if (check_ctrlr(c, "abort") != 0)
		return -EINVAL;
	cmd_init(&cmd, VPIO_NVME_OPC_ABORT, 0);
	cmd.cdw10 = VPIO_NVME_ABORT_CDW10(sqid, cid);
	snprintf(what, sizeof(what), "abort of cid 0x%x on SQ %u", cid, sqid);
	rc = admin_sync_cdw0(c, &cmd, NULL, 0, what, &cdw0);
	if (rc == 0 && aborted != NULL)
		*aborted = !VPIO_NVME_ABORT_NOT_ABORTED(cdw0);
	return rc;
}

int vpio_nvme_ctrlr_admin_passthru(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf,
				   size_t len, struct vpio_nvme_cpl *cpl)
{
	char what[40];

	if (check_ctrlr(c, "admin passthru") != 0)
		return -EINVAL;
	if (cmd == NULL) {
		VPIO_ERR(NVME_MOD, "%s: admin passthru: command is NULL", c->name);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "admin command 0x%02x", cmd->opc);
	return nvme_admin_sync(c, cmd, buf, len, cpl, what);
}

/* ----------------------------------------------------- used by the driver */

int nvme_ctrlr_set_num_queues(struct vpio_nvme_ctrlr *c, uint32_t want, uint32_t *granted)
{
	uint32_t cdw0 = 0, nsq, ncq;
	int rc;

	if (want == 0)
		want = 1;
	if (want > 65535u)
		want = 65535u;
	rc = vpio_nvme_ctrlr_set_feature(c, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, (want - 1u) << 16 | (want - 1u), 0,
					 NULL, 0, &cdw0);
	if (rc != 0)
		return rc;
	nsq = (cdw0 & 0xffffu) + 1u;
	ncq = (cdw0 >> 16) + 1u;
	*granted = nsq < ncq ? nsq : ncq;
	if (*granted > want)
		*granted = want;
	return 0;
}

int nvme_ctrlr_create_io_queues(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_cmd cmd;
	int rc;

	cmd_init(&cmd, VPIO_NVME_OPC_CREATE_IO_CQ, 0);
	cmd.dptr.prp.prp1 = qp->cq_iova;
	cmd.cdw10 = VPIO_NVME_CREATE_Q_CDW10(qp->qid, qp->num_entries);
	cmd.cdw11 = VPIO_NVME_CREATE_Q_PC; /* polled: no interrupts */
	rc = nvme_admin_sync(c, &cmd, NULL, 0, NULL, "create I/O completion queue");
	if (rc != 0)
		return rc;
	cmd_init(&cmd, VPIO_NVME_OPC_CREATE_IO_SQ, 0);
	cmd.dptr.prp.prp1 = qp->sq_iova;
	cmd.cdw10 = VPIO_NVME_CREATE_Q_CDW10(qp->qid, qp->num_entries);
	cmd.cdw11 = VPIO_NVME_CREATE_SQ_CQID(qp->qid) | VPIO_NVME_CREATE_Q_PC;
	rc = nvme_admin_sync(c, &cmd, NULL, 0, NULL, "create I/O submission queue");
	if (rc != 0) {
		cmd_init(&cmd, VPIO_NVME_OPC_DELETE_IO_CQ, 0);
		cmd.cdw10 = qp->qid;
		nvme_admin_sync(c, &cmd, NULL, 0, NULL, "delete I/O completion queue");
	}
	return rc;
}

int nvme_ctrlr_delete_io_queues(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair *qp)
{
	struct vpio_nvme_cmd cmd;
	int rc;

	cmd_init(&cmd, VPIO_NVME_OPC_DELETE_IO_SQ, 0);
	cmd.cdw10 = qp->qid;
	rc = nvme_admin_sync(c, &cmd, NULL, 0, NULL, "delete I/O submission queue");
	if (rc != 0)
		return rc;
	cmd_init(&cmd, VPIO_NVME_OPC_DELETE_IO_CQ, 0);
	cmd.cdw10 = qp->qid;
	return nvme_admin_sync(c, &cmd, NULL, 0, NULL, "delete I/O completion queue");
}

int nvme_ctrlr_config_dbbuf(struct vpio_nvme_ctrlr *c)
{
	struct vpio_nvme_cmd cmd;

	memset(c->dbbuf, 0, 1u << c->page_shift);
	memset(c->eventidx, 0, 1u << c->page_shift);
	cmd_init(&cmd, VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG, 0);
	cmd.dptr.prp.prp1 = c->dbbuf_iova;
	cmd.dptr.prp.prp2 = c->eventidx_iova;
	return nvme_admin_sync(c, &cmd, NULL, 0, NULL, "doorbell buffer config");
}

static void abort_done(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct vpio_nvme_ctrlr *c = arg;

	VPIO_INFO(NVME_MOD, "%s: abort %s", c->name,
		  vpio_nvme_cpl_is_error(cpl) ? "failed"
		  : VPIO_NVME_ABORT_NOT_ABORTED(cpl->cdw0) ? "found no command to abort" : "succeeded");
}

int nvme_ctrlr_abort_async(struct vpio_nvme_ctrlr *c, uint16_t sqid, uint16_t cid)
{
	struct vpio_nvme_cmd cmd;
	int rc;

	cmd_init(&cmd, VPIO_NVME_OPC_ABORT, 0);
	cmd.cdw10 = VPIO_NVME_ABORT_CDW10(sqid, cid);
	rc = nvme_admin_submit(c, &cmd, NULL, 0, abort_done, c);
	if (rc == 0)
		atomic_fetch_add(&c->stat_aborts, 1);
	return rc;
}
