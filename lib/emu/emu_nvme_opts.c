/* SPDX-License-Identifier: BSD-3-Clause */
/* Options of an emulated NVMe controller: "ns=2&lba=4096&size=64M...". */
#include <errno.h>
#include <string.h>

#include "emu_internal.h"

#define ACCEPTED "ns, lba, size, null, backing, mdts, queues, qdepth, sgl, dbbuf, dstrd, rdydelay, mpsmin"
#define EMU_RDY_DELAY_US 500u		/* CC.EN=1 -> CSTS.RDY=1 by default */
#define EMU_RDY_DELAY_MAX_US 4000000u	/* below CAP.TO (5 s) */

void emu_nvme_opts_default(struct emu_nvme_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ns = 1;
	o->lba = 512;
	o->size = 1ull << 30;
	o->mdts = 5;
	o->queues = 8;
	o->qdepth = 1024;
	o->sgl = true;
	o->dbbuf = true;
	o->dstrd = 0;
	o->rdy_delay_us = EMU_RDY_DELAY_US;
}

uint64_t emu_nvme_bar_size(const struct emu_nvme_opts *o)
{
	uint64_t dbs = (uint64_t)(o->queues + 1) * 2 * (4ull << o->dstrd);
	uint64_t len = VPIO_ALIGN_UP(VPIO_NVME_REG_DBS + dbs, VPIO_PAGE_SIZE_4K);

	return len < 16384 ? 16384 : len;
}

/* A decimal in [min, max] (lib/util's grammar: no sign, no leading zero). */
static int parse_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t x;

	if (vpio_parse_u64(v, max, &x) != 0 || x < min)
		return -EINVAL;
	*out = x;
	return 0;
}

struct opt_desc {
	const char *key;
	uint32_t bit;
	uint64_t min, max; /* for plain numbers */
	const char *accepted;
};

static const struct opt_desc g_opts[] = {
	{ "ns", EMU_OPT_NS, 1, EMU_NVME_MAX_NS, "1..256 (number of namespaces)" },
	{ "lba", EMU_OPT_LBA, 0, 0, "512 or 4096 (block size in bytes)" },
	{ "size", EMU_OPT_SIZE, 0, 0, "bytes per namespace, a multiple of the block size: decimal with an optional unit B, K/KiB, M/MiB, G/GiB, T/TiB (4096, 64K, 1GiB)" },
	{ "null", EMU_OPT_NULL, 0, 1, "0 or 1" },
	{ "backing", EMU_OPT_BACKING, 0, 0, "a file path (no '&')" },
	{ "mdts", EMU_OPT_MDTS, 0, EMU_NVME_MAX_MDTS, "0..16 (2^N minimum memory pages (4 KiB << mpsmin), 0 = unlimited)" },
	{ "queues", EMU_OPT_QUEUES, 1, EMU_NVME_MAX_QUEUES, "1..1024 (I/O queue pairs)" },
	{ "qdepth", EMU_OPT_QDEPTH, 2, 65536, "2..65536 (entries per queue, CAP.MQES + 1)" },
	{ "sgl", EMU_OPT_SGL, 0, 1, "0 or 1" },
	{ "dbbuf", EMU_OPT_DBBUF, 0, 1, "0 or 1" },
	{ "dstrd", EMU_OPT_DSTRD, 0, 15, "0..15 (doorbell stride 4 << N bytes)" },
	{ "rdydelay", EMU_OPT_RDYDELAY, 0, EMU_RDY_DELAY_MAX_US,
	  "0..4000000 (microseconds from a CC.EN change to CSTS.RDY following it)" },
	{ "mpsmin", EMU_OPT_MPSMIN, 0, EMU_NVME_MPSMAX,
	  "0..4 (CAP.MPSMIN: the smallest memory page is 4 KiB << N, 1 = 8 KiB; at most CAP.MPSMAX = 4, 64 KiB)" },
};

static const struct opt_desc *find_opt(const char *key, size_t len)
{
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(g_opts); i++) {
		if (strlen(g_opts[i].key) == len && strncmp(g_opts[i].key, key, len) == 0)
			return &g_opts[i];
	}
	return NULL;
}

static int set_opt(struct emu_nvme_opts *o, const struct opt_desc *d, const char *v)
{
	uint64_t x = 0;

	switch (d->bit) {
	case EMU_OPT_LBA:
		if (parse_uint(v, 512, 4096, &x) != 0 || (x != 512 && x != 4096))
			return -EINVAL;
		o->lba = (uint32_t)x;
		return 0;
	case EMU_OPT_SIZE:
		if (vpio_parse_size(v, &x) != 0 || x == 0)
			return -EINVAL;
		o->size = x;
		return 0;
	case EMU_OPT_BACKING:
		if (*v == '\0' || strlen(v) >= sizeof(o->backing))
			return -EINVAL;
		strcpy(o->backing, v);
		return 0;
	default:
		break;
	}
	if (parse_uint(v, d->min, d->max, &x) != 0)
		return -EINVAL;
	switch (d->bit) {
	case EMU_OPT_NS: o->ns = (uint32_t)x; break;
	case EMU_OPT_NULL: o->null_io = x != 0; break;
	case EMU_OPT_MDTS: o->mdts = (uint32_t)x; break;
	case EMU_OPT_QUEUES: o->queues = (uint32_t)x; break;
	case EMU_OPT_QDEPTH: o->qdepth = (uint32_t)x; break;
	case EMU_OPT_SGL: o->sgl = x != 0; break;
	case EMU_OPT_DBBUF: o->dbbuf = x != 0; break;
	case EMU_OPT_DSTRD: o->dstrd = (uint32_t)x; break;
	case EMU_OPT_RDYDELAY: o->rdy_delay_us = (uint32_t)x; break;
	case EMU_OPT_MPSMIN: o->mpsmin = (uint32_t)x; break;
	default: return -EINVAL;
	}
	return 0;
}

/* Checks across options, once all are known. */
static int check_opts(const char *name, const struct emu_nvme_opts *o)
{
	if (o->null_io && o->backing[0] != '\0') {
		VPIO_ERR(EMU_MOD, "%s: options 'null=1' and 'backing=' exclude each other (null moves no data)", name);
		return -EINVAL;
	}
	if (o->size < o->lba || o->size % o->lba != 0) {
		VPIO_ERR(EMU_MOD, "%s: option 'size=%llu' must be a non-zero multiple of the block size %u",
			 name, (unsigned long long)o->size, o->lba);
		return -EINVAL;
	}
	if (o->size > UINT64_MAX / o->ns) {
		VPIO_ERR(EMU_MOD, "%s: %u namespaces of %llu bytes do not fit in 64 bits", name, o->ns,
			 (unsigned long long)o->size);
		return -EINVAL;
	}
	if (emu_nvme_bar_size(o) > EMU_NVME_MAX_BAR) {
		VPIO_ERR(EMU_MOD, "%s: options 'queues=%u' and 'dstrd=%u' need a BAR of %llu MiB, more than the %u MiB allowed; lower one of them",
			 name, o->queues, o->dstrd, (unsigned long long)(emu_nvme_bar_size(o) >> 20),
			 EMU_NVME_MAX_BAR >> 20);
		return -EINVAL;
	}
	return 0;
}

int emu_nvme_opts_parse(const char *name, const char *str, struct emu_nvme_opts *o)
{
	char buf[EMU_BACKING_LEN + 64];
	const char *p = str;

	emu_nvme_opts_default(o);
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const struct opt_desc *d;

		eq = memchr(p, '=', len);
		if (eq == NULL) {
			VPIO_ERR(EMU_MOD, "%s: malformed option '%.*s' (expected key=value; keys: %s)", name,
				 (int)len, p, ACCEPTED);
			return -EINVAL;
		}
		d = find_opt(p, (size_t)(eq - p));
		if (d == NULL) {
			VPIO_ERR(EMU_MOD, "%s: unknown option '%.*s' (options: %s)", name, (int)(eq - p), p,
				 ACCEPTED);
			return -EINVAL;
		}
		if (o->set & d->bit) {
			VPIO_ERR(EMU_MOD, "%s: option '%s' is given twice", name, d->key);
			return -EINVAL;
		}
		if (len >= sizeof(buf) || (size_t)(eq - p) + 1 > len) {
			VPIO_ERR(EMU_MOD, "%s: option '%s' has a value that is too long", name, d->key);
			return -EINVAL;
		}
		memcpy(buf, eq + 1, len - (size_t)(eq - p) - 1);
		buf[len - (size_t)(eq - p) - 1] = '\0';
		if (set_opt(o, d, buf) != 0) {
			VPIO_ERR(EMU_MOD, "%s: invalid value '%s' for option '%s' (accepted: %s)", name, buf,
				 d->key, d->accepted);
			return -EINVAL;
		}
		o->set |= d->bit;
		p = amp ? amp + 1 : NULL;
	}
	return check_opts(name, o);
}

const char *emu_nvme_opts_conflict(const struct emu_nvme_opts *have, const struct emu_nvme_opts *want)
{
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(g_opts); i++) {
		uint32_t bit = g_opts[i].bit;
		bool same;

		if (!(want->set & bit))
			continue;
		switch (bit) {
		case EMU_OPT_NS: same = have->ns == want->ns; break;
		case EMU_OPT_LBA: same = have->lba == want->lba; break;
		case EMU_OPT_SIZE: same = have->size == want->size; break;
		case EMU_OPT_NULL: same = have->null_io == want->null_io; break;
		case EMU_OPT_BACKING: same = strcmp(have->backing, want->backing) == 0; break;
		case EMU_OPT_MDTS: same = have->mdts == want->mdts; break;
		case EMU_OPT_QUEUES: same = have->queues == want->queues; break;
		case EMU_OPT_QDEPTH: same = have->qdepth == want->qdepth; break;
		case EMU_OPT_SGL: same = have->sgl == want->sgl; break;
		case EMU_OPT_DBBUF: same = have->dbbuf == want->dbbuf; break;
		case EMU_OPT_DSTRD: same = have->dstrd == want->dstrd; break;
		case EMU_OPT_RDYDELAY: same = have->rdy_delay_us == want->rdy_delay_us; break;
		case EMU_OPT_MPSMIN: same = have->mpsmin == want->mpsmin; break;
		default: same = true; break;
		}
		if (!same)
			return g_opts[i].key;
	}
	return NULL;
}
