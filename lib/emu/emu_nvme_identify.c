/* SPDX-License-Identifier: BSD-3-Clause */
/* Identify: controller, namespace, active namespace list. */
#include <stdio.h>
#include <string.h>

#include "emu_internal.h"

#define GEN(sc) EMU_SC(GENERIC, sc)

#define EMU_VID 0x1b36
#define EMU_SSVID 0x1af4
#define EMU_FR "1.0"

/* Space-padded, not NUL-terminated (identify strings). */
static void pad_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', len);
	memcpy(dst, src, n < len ? n : len);
}

static void put_u128(uint8_t *dst, uint64_t v)
{
	memset(dst, 0, 16);
	memcpy(dst, &v, sizeof(v));
}

static void ctrlr_data(const struct vpio_emu_nvme *c, struct vpio_nvme_ctrlr_data *d)
{
	char sn[21];

	memset(d, 0, sizeof(*d));
	d->vid = EMU_VID;
	d->ssvid = EMU_SSVID;
	snprintf(sn, sizeof(sn), "VPIOEMU%08u", c->idx);
	pad_copy(d->sn, sizeof(d->sn), sn);
	pad_copy(d->mn, sizeof(d->mn), "vpio emulated NVMe");
	pad_copy(d->fr, sizeof(d->fr), EMU_FR);
	d->rab = 6;
	d->ieee[0] = 0x00;
	d->ieee[1] = 0x54;
	d->ieee[2] = 0x52;
	d->mdts = (uint8_t)c->opts.mdts;
	d->cntlid = (uint16_t)(c->idx + 1);
	d->ver = 0x00010400;
	d->rtd3r = 10000;
	d->rtd3e = 10000;
	d->cntrltype = 1; /* I/O controller */
	d->oacs = c->opts.dbbuf ? VPIO_NVME_OACS_DOORBELL_BUFFER_CONFIG : 0;
	d->acl = EMU_MAX_ABORTS - 1;
	d->aerl = EMU_MAX_AER - 1;
	d->frmw = 0x03;	  /* one slot, read-only */
	d->lpa = 0x04;	  /* extended data (offsets) for Get Log Page */
	d->elpe = EMU_ERRLOG_ENTRIES - 1;
	d->npss = 0;
	d->wctemp = 343;
	d->cctemp = 373;
	put_u128(d->tnvmcap, c->opts.size * c->opts.ns);
	d->sqes = 0x66;
	d->cqes = 0x44;
	d->maxcmd = (uint16_t)(c->opts.qdepth > 0xffff ? 0xffff : c->opts.qdepth);
	d->nn = c->opts.ns;
	d->oncs = VPIO_NVME_ONCS_COMPARE | VPIO_NVME_ONCS_DSM | VPIO_NVME_ONCS_WRITE_ZEROES | VPIO_NVME_ONCS_TIMESTAMP;
	d->vwc = VPIO_NVME_VWC_PRESENT | 0x6; /* flush with NSID FFFFFFFFh supported */
	if (c->opts.sgl)
		d->sgls = 0x1u | (1u << 16); /* SGLs (byte aligned), bit bucket */
	snprintf(d->subnqn, sizeof(d->subnqn), "nqn.2024-01.org.vpio:emu:nvme%u", c->idx);
	d->psd[0].mp = 2500; /* 25 W */
	d->psd[0].enlat = 10;
	d->psd[0].exlat = 10;
}

static void ns_data(const struct vpio_emu_nvme *c, const struct emu_nvme_ns *ns, struct vpio_nvme_ns_data *d)
{
	memset(d, 0, sizeof(*d));
	d->nsze = d->ncap = d->nuse = ns->nsze;
	d->nlbaf = 1; /* two formats: 512 and 4096 bytes */
	d->lbaf[0].lbads = 9;
	d->lbaf[0].rp = 2;
	d->lbaf[1].lbads = 12;
	d->lbaf[1].rp = 0;
	d->flbas = ns->lbads == 12 ? 1 : 0;
	d->dlfeat = 0x01 | 0x08; /* deallocated blocks read zeroes; WZ supports DEAC */
	put_u128(d->nvmcap, ns->nsze << ns->lbads);
	d->nguid[0] = 0x76; /* 'v' */
	d->nguid[1] = 0x70; /* 'p' */
	d->nguid[8] = (uint8_t)(c->idx >> 8);
	d->nguid[9] = (uint8_t)c->idx;
	d->nguid[15] = (uint8_t)ns->nsid;
	d->nguid[14] = (uint8_t)(ns->nsid >> 8);
	d->eui64[0] = 0x52;
	d->eui64[1] = 0x54;
	d->eui64[5] = (uint8_t)c->idx;
	d->eui64[7] = (uint8_t)ns->nsid;
	d->eui64[6] = (uint8_t)(ns->nsid >> 8);
}

uint16_t emu_admin_identify(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd)
{
	uint8_t cns = (uint8_t)cmd->cdw10;
	uint8_t *buf = c->bounce;
	const struct emu_nvme_ns *ns;

	memset(buf, 0, 4096);
	switch (cns) {
	case VPIO_NVME_CNS_CTRLR:
		ctrlr_data(c, (struct vpio_nvme_ctrlr_data *)buf);
		break;
	case VPIO_NVME_CNS_NS:
		ns = emu_ns_get(c, cmd->nsid);
		if (ns == NULL)
			return GEN(INVALID_NAMESPACE_OR_FORMAT);
		ns_data(c, ns, (struct vpio_nvme_ns_data *)buf);
		break;
	case VPIO_NVME_CNS_ACTIVE_NS_LIST: {
		uint32_t *list = (uint32_t *)buf, n = 0;

		if (cmd->nsid >= 0xfffffffeu)
			return GEN(INVALID_NAMESPACE_OR_FORMAT);
		for (uint32_t id = cmd->nsid + 1; id <= c->opts.ns && n < 1024; id++)
			list[n++] = id;
		break;
	}
	default:
		return GEN(INVALID_FIELD);
	}
	/* all 4 KiB, whatever the host meant to read: a real controller does */
	return emu_dma_to_host(&c->dma, cmd, buf, VPIO_NVME_IDENTIFY_DATA_SIZE);
}
