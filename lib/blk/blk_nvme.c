/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe targets: attach the controller (once per process, shared by its
 * namespaces' targets), open one target per namespace, detach with the
 * last target.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_nvme.h"

static struct blk_nvme_ctrlr *g_ctrlrs; /* under blk_lock */

static int ctrlr_get(const struct blk_addr *a, struct blk_nvme_ctrlr **out)
{
	struct blk_nvme_ctrlr *c;
	int rc;

	for (c = g_ctrlrs; c != NULL; c = c->next) {
		if (strcmp(c->key, a->ctrlr_key) != 0)
			continue;
		if (*a->emu_opts != '\0' && strcmp(c->emu_opts, a->emu_opts) != 0) {
			VPIO_ERR(BLK_MOD, "%s is already open with options '%s'; give the same ones or none", c->key,
				c->emu_opts);
			return -EEXIST;
		}
		*out = c;
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		VPIO_ERR(BLK_MOD, "%s: out of memory", a->ctrlr_key);
		return -ENOMEM;
	}
	rc = vpio_nvme_ctrlr_attach(a->attach_name, NULL, &c->ctrlr); /* logs its own line */
	if (rc != 0) {
		free(c);
		return rc;
	}
	snprintf(c->key, sizeof(c->key), "%s", a->ctrlr_key);
	snprintf(c->emu_opts, sizeof(c->emu_opts), "%s", a->emu_opts);
	c->next = g_ctrlrs;
	g_ctrlrs = c;
	*out = c;
	return 0;
}

static void ctrlr_put(struct blk_nvme_ctrlr *c)
{
	if (c->refs > 0)
		return;
	for (struct blk_nvme_ctrlr **p = &g_ctrlrs; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	vpio_nvme_ctrlr_detach(c->ctrlr);
	free(c);
}

static void fill_info(struct blk_nvme_target *nt, const struct blk_addr *a)
{
	struct vpio_nvme_ctrlr_info ci;
	const struct vpio_nvme_ctrlr_data *cd = vpio_nvme_ctrlr_get_data(nt->c->ctrlr);
	struct vpio_blk_info *info = &nt->base.info;
	uint32_t bs = vpio_nvme_ns_get_sector_size(nt->ns);
	uint64_t per_cmd = vpio_nvme_ns_get_max_io_xfer_size(nt->ns) / bs * bs, max;

	vpio_nvme_ctrlr_get_info(nt->c->ctrlr, &ci);
	nt->max_queue_size = ci.max_queue_size;
	nt->max_parts = VPIO_MIN(BLK_NVME_MAX_PARTS, ci.max_queue_size - 1u);
	max = per_cmd * nt->max_parts;
	snprintf(nt->base.name, sizeof(nt->base.name), "%s/ns%u", nt->c->key, vpio_nvme_ns_get_id(nt->ns));
	info->info_size = sizeof(*info);
	info->name = nt->base.name;
	info->backend = "nvme";
	info->block_size = bs;
	info->num_blocks = vpio_nvme_ns_get_num_sectors(nt->ns);
	info->max_transfer_bytes = (uint32_t)VPIO_MIN(max, (uint64_t)UINT32_MAX / bs * bs);
	info->max_iovcnt = 1024; /* lib/nvme's limit */
	info->max_write_zeroes_blocks =
		cd->oncs & VPIO_NVME_ONCS_WRITE_ZEROES ? BLK_NVME_ZEROES_PER_CMD * nt->max_parts : 0;
	info->max_deallocate_blocks = cd->oncs & VPIO_NVME_ONCS_DSM ? UINT32_MAX : 0;
	info->max_queue_depth = VPIO_MIN(VPIO_BLK_MAX_QUEUE_DEPTH, ci.max_queue_size - 1u);
	info->buf_align = 4; /* dword: PRP and SGL data pointers */
	info->nsid = vpio_nvme_ns_get_id(nt->ns);
	info->emulated = a->kind == BLK_KIND_EMU;
	nt->base.iov_len_align = 1; /* lib/nvme checks vectors against PRP/SGL rules */
}

static int target_new(struct blk_nvme_ctrlr *c, uint32_t nsid, const struct blk_addr *a,
		      const struct vpio_blk_opts *opts, struct vpio_blk_target **out)
{
	struct blk_nvme_target *nt;
	struct vpio_nvme_ns *ns;
	int rc = vpio_nvme_ctrlr_get_ns(c->ctrlr, nsid, &ns); /* logs its own line */

	if (rc != 0)
		return rc;
	if (vpio_nvme_ns_get_md_size(ns) != 0) {
		VPIO_ERR(BLK_MOD, "%s/ns%u has %u bytes of metadata per block; vpio has no metadata buffers (pick another namespace)",
			c->key, nsid, vpio_nvme_ns_get_md_size(ns));
		return -ENOTSUP;
	}
	nt = calloc(1, sizeof(*nt));
	if (nt == NULL) {
		VPIO_ERR(BLK_MOD, "%s/ns%u: out of memory", c->key, nsid);
		return -ENOMEM;
	}
	nt->base.ops = &blk_nvme_ops;
	nt->c = c;
	nt->ns = ns;
	fill_info(nt, a);
	nt->base.default_depth = opts->queue_depth;
	c->refs++;
	*out = &nt->base;
	return 0;
}

static void target_free(struct vpio_blk_target *t)
{
	struct blk_nvme_target *nt = (struct blk_nvme_target *)t;
	struct blk_nvme_ctrlr *c = nt->c;

	free(nt);
	c->refs--;
	ctrlr_put(c);
}

static int count_ns(const struct blk_nvme_ctrlr *c)
{
	int n = 0;

	for (uint32_t id = vpio_nvme_ctrlr_first_active_ns(c->ctrlr); id != 0;
	     id = vpio_nvme_ctrlr_next_active_ns(c->ctrlr, id))
		n++;
	return n;
}

int blk_nvme_open(const struct blk_addr *a, const struct vpio_blk_opts *opts, struct vpio_blk_target **targets,
		  unsigned max_targets, unsigned *n_targets)
{
	struct blk_nvme_ctrlr *c;
	unsigned n = 0;
	int rc = ctrlr_get(a, &c), count;

	if (rc != 0)
		return rc;
	c->refs++; /* hold it while its targets are made */
	if (a->nsid != 0) {
		rc = target_new(c, a->nsid, a, opts, &targets[n]);
		n += rc == 0;
	} else if ((count = count_ns(c)) == 0 || (unsigned)count > max_targets) {
		if (count == 0)
			VPIO_ERR(BLK_MOD, "%s has no active namespace", c->key);
		else
			VPIO_ERR(BLK_MOD, "%s has %d active namespaces, room was given for %u", c->key, count, max_targets);
		rc = count == 0 ? -ENOENT : -ENOSPC;
	} else {
		for (uint32_t id = vpio_nvme_ctrlr_first_active_ns(c->ctrlr); id != 0 && rc == 0;
		     id = vpio_nvme_ctrlr_next_active_ns(c->ctrlr, id)) {
			rc = target_new(c, id, a, opts, &targets[n]);
			n += rc == 0;
		}
	}
	if (rc != 0) {
		while (n > 0)
			target_free(targets[--n]);
	}
	c->refs--;
	ctrlr_put(c);
	*n_targets = n;
	return rc;
}

void blk_nvme_close(struct vpio_blk_target *t)
{
	target_free(t);
}
