/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespaces: the active namespace list (Identify CNS 02h, or every id up
 * to NN before NVMe 1.1), Identify Namespace for each, and the getters.
 * Namespace objects are never freed before the controller object, so a
 * handle stays valid across resets (it may become inactive).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"

#define NVME_NN_MAX (1u << 20) /* namespace ids we track */

int nvme_ns_refresh(struct vpio_nvme_ns *ns)
{
	struct vpio_nvme_ctrlr *c = ns->ctrlr;
	const struct vpio_nvme_lbaf *f;
	int rc;

	rc = vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_NS, ns->id, &ns->data, sizeof(ns->data));
	if (rc != 0)
		return rc;
	nvme_ns_set_active(ns, false);
	if (ns->data.nsze == 0)
		return 0;
	f = &ns->data.lbaf[VPIO_NVME_FLBAS_INDEX(ns->data.flbas)];
	if (f->lbads < 9 || f->lbads > 16 || (1u << f->lbads) > c->max_xfer) {
		VPIO_WARN(NVME_MOD, "%s: namespace %u has an unusable block size 2^%u; ignored", c->name, ns->id, f->lbads);
		return 0;
	}
	ns->block_shift = f->lbads;
	ns->block_size = 1u << f->lbads;
	ns->md_size = f->ms;
	ns->md_extended = (ns->data.flbas & 0x10u) != 0;
	ns->num_blocks = ns->data.nsze;
	nvme_ns_set_active(ns, true);
	return 0;
}

static struct vpio_nvme_ns *ns_get_or_new(struct vpio_nvme_ctrlr *c, uint32_t nsid)
{
	struct vpio_nvme_ns *ns = c->ns[nsid - 1u];

	if (ns != NULL)
		return ns;
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL)
		return NULL;
	ns->ctrlr = c;
	ns->id = nsid;
	c->ns[nsid - 1u] = ns;
	return ns;
}

static int ns_array(struct vpio_nvme_ctrlr *c)
{
	uint32_t nn = c->cdata.nn < NVME_NN_MAX ? c->cdata.nn : NVME_NN_MAX;
	struct vpio_nvme_ns **a;

	if (nn <= c->num_ns && c->ns != NULL)
		return 0;
	a = realloc(c->ns, (size_t)(nn ? nn : 1u) * sizeof(*a));
	if (a == NULL) {
		VPIO_ERR(NVME_MOD, "%s: out of memory for %u namespaces", c->name, nn);
		return -ENOMEM;
	}
	memset(a + c->num_ns, 0, (size_t)(nn - c->num_ns) * sizeof(*a));
	c->ns = a;
	c->num_ns = nn;
	return 0;
}

static int ns_activate(struct vpio_nvme_ctrlr *c, uint32_t nsid)
{
	struct vpio_nvme_ns *ns;

	if (nsid == 0 || nsid > c->num_ns)
		return 0; /* a bogus list entry: skip it */
	ns = ns_get_or_new(c, nsid);
	if (ns == NULL) {
		VPIO_ERR(NVME_MOD, "%s: out of memory for namespace %u", c->name, nsid);
		return -ENOMEM;
	}
	return nvme_ns_refresh(ns);
}

/* Identify CNS 02h: up to 1024 active ids greater than start, ascending. */
static int scan_list(struct vpio_nvme_ctrlr *c)
{
	uint32_t list[1024], start = 0, i;
	int rc;

	do {
		rc = vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_ACTIVE_NS_LIST, start, list, sizeof(list));
		if (rc != 0)
			return rc;
		for (i = 0; i < 1024 && list[i] != 0; i++) {
			if (list[i] <= start)
				return 0; /* not ascending: stop rather than loop */
			rc = ns_activate(c, list[i]);
			if (rc != 0)
				return rc;
			start = list[i];
		}
	} while (i == 1024);
	return 0;
}

int nvme_ctrlr_scan_ns(struct vpio_nvme_ctrlr *c)
{
	uint32_t i;
	int rc = ns_array(c);

	if (rc != 0)
		return rc;
	for (i = 0; i < c->num_ns; i++) {
		if (c->ns[i] != NULL)
			nvme_ns_set_active(c->ns[i], false);
	}
	if (c->vs >= 0x10100u)
		return scan_list(c);
	for (i = 1; i <= c->num_ns; i++) {
		rc = ns_activate(c, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void nvme_ctrlr_free_ns(struct vpio_nvme_ctrlr *c)
{
	uint32_t i;

	for (i = 0; c->ns != NULL && i < c->num_ns; i++)
		free(c->ns[i]);
	free(c->ns);
	c->ns = NULL;
	c->num_ns = 0;
}

uint32_t vpio_nvme_ctrlr_next_active_ns(const struct vpio_nvme_ctrlr *c, uint32_t prev_nsid)
{
	uint32_t i;

	for (i = prev_nsid; c->ns != NULL && i < c->num_ns; i++) {
		if (c->ns[i] != NULL && c->ns[i]->active)
			return i + 1u;
	}
	return 0;
}

uint32_t vpio_nvme_ctrlr_first_active_ns(const struct vpio_nvme_ctrlr *c)
{
	return vpio_nvme_ctrlr_next_active_ns(c, 0);
}

int vpio_nvme_ctrlr_get_ns(struct vpio_nvme_ctrlr *c, uint32_t nsid, struct vpio_nvme_ns **ns)
{
	if (c == NULL || ns == NULL) {
		VPIO_ERR(NVME_MOD, "get_ns: controller or result pointer is NULL");
		return -EINVAL;
	}
	if (nsid == 0 || nsid > c->num_ns) {
		VPIO_ERR(NVME_MOD, "%s: namespace id %u is invalid (the controller has ids 1..%u)", c->name, nsid, c->num_ns);
		return -EINVAL;
	}
	if (c->ns[nsid - 1u] == NULL || !c->ns[nsid - 1u]->active) {
		VPIO_ERR(NVME_MOD, "%s: namespace %u is not active", c->name, nsid);
		return -ENOENT;
	}
	*ns = c->ns[nsid - 1u];
	return 0;
}

uint32_t vpio_nvme_ns_get_id(const struct vpio_nvme_ns *ns)
{
	return ns->id;
}

uint32_t vpio_nvme_ns_get_sector_size(const struct vpio_nvme_ns *ns)
{
	return ns->block_size;
}

uint64_t vpio_nvme_ns_get_num_sectors(const struct vpio_nvme_ns *ns)
{
	return ns->num_blocks;
}

uint64_t vpio_nvme_ns_get_size(const struct vpio_nvme_ns *ns)
{
	return ns->num_blocks << ns->block_shift;
}

uint32_t vpio_nvme_ns_get_md_size(const struct vpio_nvme_ns *ns)
{
	return ns->md_size;
}

uint32_t vpio_nvme_ns_get_max_io_xfer_size(const struct vpio_nvme_ns *ns)
{
	return ns->ctrlr->max_xfer;
}

const struct vpio_nvme_ns_data *vpio_nvme_ns_get_data(const struct vpio_nvme_ns *ns)
{
	return &ns->data;
}

struct vpio_nvme_ctrlr *vpio_nvme_ns_get_ctrlr(const struct vpio_nvme_ns *ns)
{
	return ns->ctrlr;
}
