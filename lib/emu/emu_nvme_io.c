/* SPDX-License-Identifier: BSD-3-Clause */
/* NVM I/O commands: read, write, compare, write zeroes, dataset
 * management (deallocate) and flush. */
#include <string.h>

#include "emu_internal.h"

#define GEN(sc) EMU_SC(GENERIC, sc)
#define MEDIA(sc) EMU_SC(MEDIA_ERROR, sc)
#define NSID_ALL 0xffffffffu

struct emu_nvme_ns *emu_ns_get(struct vpio_emu_nvme *c, uint32_t nsid)
{
	if (nsid == 0 || nsid > c->opts.ns)
		return NULL;
	return &c->ns[nsid - 1];
}

uint64_t emu_max_xfer(const struct vpio_emu_nvme *c)
{
	return c->opts.mdts ? (4096ull << c->opts.mpsmin << c->opts.mdts) : 0; /* MDTS: in CAP.MPSMIN pages */
}

struct io_ctx {
	struct vpio_emu_nvme *c;
	uint64_t base; /* byte offset of the first block in the store */
};

static void log_store_error(struct vpio_emu_nvme *c, const char *what, int rc)
{
	if (c->fault_logs == 0)
		return;
	c->fault_logs--;
	VPIO_ERR(EMU_MOD, "%s: %s of backing file '%s' failed: %s; the command fails with a media error",
		 c->name, what, c->store.path, strerror(-rc));
}

static uint16_t read_fn(void *arg, void *host, uint64_t len, uint64_t off)
{
	struct io_ctx *x = arg;
	int rc = emu_store_read(&x->c->store, host, len, x->base + off);

	if (rc == 0)
		return EMU_OK;
	log_store_error(x->c, "read", rc);
	return MEDIA(UNRECOVERED_READ_ERROR);
}

static uint16_t write_fn(void *arg, void *host, uint64_t len, uint64_t off)
{
	struct io_ctx *x = arg;
	int rc = emu_store_write(&x->c->store, host, len, x->base + off);

	if (rc == 0)
		return EMU_OK;
	log_store_error(x->c, "write", rc);
	return MEDIA(WRITE_FAULTS);
}

static uint16_t compare_fn(void *arg, void *host, uint64_t len, uint64_t off)
{
	struct io_ctx *x = arg;
	int rc = emu_store_compare(&x->c->store, host, len, x->base + off);

	if (rc == 0)
		return EMU_OK;
	if (rc > 0)
		return MEDIA(COMPARE_FAILURE);
	log_store_error(x->c, "read", rc);
	return MEDIA(UNRECOVERED_READ_ERROR);
}

/* Namespace and LBA range of a read/write/compare/write zeroes. */
static uint16_t lba_range(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, struct emu_nvme_ns **pns,
			  uint64_t *slba, uint64_t *nlb)
{
	struct emu_nvme_ns *ns = emu_ns_get(c, cmd->nsid);

	if (ns == NULL)
		return GEN(INVALID_NAMESPACE_OR_FORMAT);
	*slba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32;
	*nlb = (cmd->cdw12 & 0xffff) + 1ull;
	if (*slba >= ns->nsze || *nlb > ns->nsze - *slba)
		return GEN(LBA_OUT_OF_RANGE);
	*pns = ns;
	return EMU_OK;
}

static uint16_t rw(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	struct emu_nvme_ns *ns;
	struct io_ctx x = { .c = c };
	uint64_t slba, nlb, len, max;
	uint16_t st;
	emu_dma_fn fn;
	bool to_host = cmd->opc != VPIO_NVME_OPC_WRITE;

	st = lba_range(c, cmd, &ns, &slba, &nlb);
	if (st != EMU_OK)
		return st;
	len = nlb << ns->lbads;
	max = emu_max_xfer(c);
	if (max != 0 && len > max)
		return GEN(INVALID_FIELD);
	switch (cmd->opc) {
	case VPIO_NVME_OPC_READ:
		emu_count(&c->stats.read_cmds, 1);
		emu_count(&c->host_read_cmds, 1);
		fn = read_fn;
		break;
	case VPIO_NVME_OPC_WRITE:
		emu_count(&c->stats.write_cmds, 1);
		emu_count(&c->host_write_cmds, 1);
		fn = write_fn;
		break;
	default: /* compare: data comes from the host */
		emu_count(&c->host_read_cmds, 1);
		fn = compare_fn;
		to_host = false;
		break;
	}
	if (c->opts.null_io) {
		st = EMU_OK;
	} else {
		x.base = ns->base + (slba << ns->lbads);
		st = emu_dma_walk(&c->dma, cmd, len, to_host, fn, &x);
	}
	if (st != EMU_OK)
		return st;
	if (cmd->opc == VPIO_NVME_OPC_WRITE) {
		emu_count(&c->stats.bytes_written, len);
		emu_count(&c->units_written, len);
	} else {
		if (cmd->opc == VPIO_NVME_OPC_READ)
			emu_count(&c->stats.bytes_read, len);
		emu_count(&c->units_read, len);
	}
	return EMU_OK;
}

static uint16_t zero_range(struct vpio_emu_nvme *c, const struct emu_nvme_ns *ns, uint64_t slba, uint64_t nlb)
{
	int rc = emu_store_zero(&c->store, ns->base + (slba << ns->lbads), nlb << ns->lbads);

	if (rc == 0)
		return EMU_OK;
	log_store_error(c, "zeroing", rc);
	return MEDIA(WRITE_FAULTS);
}

static uint16_t write_zeroes(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	struct emu_nvme_ns *ns;
	uint64_t slba, nlb;
	uint16_t st = lba_range(c, cmd, &ns, &slba, &nlb);

	if (st != EMU_OK)
		return st;
	emu_count(&c->host_write_cmds, 1);
	return zero_range(c, ns, slba, nlb);
}

static uint16_t dsm(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	struct emu_nvme_ns *ns = emu_ns_get(c, cmd->nsid);
	uint32_t nr = (cmd->cdw10 & 0xff) + 1;
	struct vpio_nvme_dsm_range *r = (struct vpio_nvme_dsm_range *)c->bounce;
	uint16_t st;

	if (ns == NULL)
		return GEN(INVALID_NAMESPACE_OR_FORMAT);
	st = emu_dma_from_host(&c->dma, cmd, r, nr * sizeof(*r));
	if (st != EMU_OK || !(cmd->cdw11 & VPIO_NVME_DSM_ATTR_DEALLOCATE))
		return st;
	for (uint32_t i = 0; i < nr; i++) {
		if (r[i].starting_lba >= ns->nsze || r[i].length > ns->nsze - r[i].starting_lba)
			return GEN(LBA_OUT_OF_RANGE);
	}
	for (uint32_t i = 0; i < nr && st == EMU_OK; i++) {
		if (r[i].length > 0 && !c->opts.null_io)
			st = zero_range(c, ns, r[i].starting_lba, r[i].length);
	}
	return st;
}

static uint16_t flush(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	int rc;

	if (cmd->nsid != NSID_ALL && emu_ns_get(c, cmd->nsid) == NULL)
		return GEN(INVALID_NAMESPACE_OR_FORMAT);
	rc = emu_store_flush(&c->store);
	if (rc == 0)
		return EMU_OK;
	log_store_error(c, "flush", rc);
	return MEDIA(WRITE_FAULTS);
}

uint16_t emu_io_cmd(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	if (__builtin_expect(cmd->flags & 0x3, 0)) /* fused operations are not supported */
		return GEN(INVALID_FIELD);
	switch (cmd->opc) {
	case VPIO_NVME_OPC_READ:
	case VPIO_NVME_OPC_WRITE:
	case VPIO_NVME_OPC_COMPARE:
		return rw(c, cmd);
	case VPIO_NVME_OPC_WRITE_ZEROES:
		return write_zeroes(c, cmd);
	case VPIO_NVME_OPC_DATASET_MANAGEMENT:
		return dsm(c, cmd);
	case VPIO_NVME_OPC_FLUSH:
		return flush(c, cmd);
	default:
		return GEN(INVALID_OPCODE);
	}
}
