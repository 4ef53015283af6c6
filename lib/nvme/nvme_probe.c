/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Probe: every NVMe controller (class 0x010802) bound to vfio-pci, offered
 * to the caller's probe callback; accepted ones are attached.  A controller
 * that fails to attach is logged (by attach) and skipped.
 */
#include <string.h>

#include "nvme_internal.h"

struct probe_ctx {
	vpio_nvme_probe_cb probe_cb;
	vpio_nvme_attach_cb attach_cb;
	void *ctx;
	int attached;
};

static int probe_one(void *arg, const struct vpio_pci_info *info)
{
	struct probe_ctx *p = arg;
	struct vpio_nvme_ctrlr_opts opts;
	struct vpio_nvme_ctrlr *c;
	char name[VPIO_PCI_ADDR_STRLEN];

	if (info->class_code != VPIO_PCI_CLASS_NVME || strcmp(info->driver, "vfio-pci") != 0)
		return 0;
	vpio_nvme_ctrlr_opts_init(&opts);
	if (p->probe_cb != NULL && !p->probe_cb(p->ctx, info, &opts))
		return 0;
	vpio_pci_addr_fmt(name, sizeof(name), &info->addr);
	if (vpio_nvme_ctrlr_attach(name, &opts, &c) != 0)
		return 0;
	p->attached++;
	if (p->attach_cb != NULL)
		p->attach_cb(p->ctx, info, c);
	else
		vpio_nvme_ctrlr_detach(c); /* nobody to hand it to */
	return 0;
}

int vpio_nvme_probe(vpio_nvme_probe_cb probe_cb, vpio_nvme_attach_cb attach_cb, void *ctx)
{
	struct probe_ctx p = { probe_cb, attach_cb, ctx, 0 };
	int rc = vpio_pci_enumerate(probe_one, &p);

	return rc < 0 ? rc : p.attached;
}
