/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-identify: list the NVMe controllers vpio can use, or show one.
 *
 *   vpio-identify                 list NVMe controllers (bound to vfio-pci
 *                                 or not) and say how to bind them
 *   vpio-identify -a ADDR [...]   controller, namespaces and SMART/health of
 *                                 ADDR: "0000:00:03.0" (bound to vfio-pci)
 *                                 or "emu:nvme" (an emulated controller)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/env.h>
#include <vpio/log.h>
#include <vpio/nvme.h>
#include <vpio/pci.h>

#include "identify.h"

#define MAX_ADDRS 16

struct list_ctx {
	unsigned vfio, other;
};

static int list_cb(void *arg, const struct vpio_pci_info *info)
{
	struct list_ctx *l = arg;
	char name[VPIO_PCI_ADDR_STRLEN];
	int usable = strcmp(info->driver, "vfio-pci") == 0;

	if (info->class_code != VPIO_PCI_CLASS_NVME)
		return 0;
	vpio_pci_addr_fmt(name, sizeof(name), &info->addr);
	printf("  %s  %04x:%04x  numa %d  iommu group %d  driver %s: %s%s\n", name, info->vendor_id,
	       info->device_id, info->numa_node, info->iommu_group, info->driver[0] ? info->driver : "(none)",
	       usable ? "usable, vpio-identify -a " : "not usable by vpio until bound to vfio-pci",
	       usable ? name : "");
	if (usable)
		l->vfio++;
	else
		l->other++;
	return 0;
}

static int list_controllers(void)
{
	struct list_ctx l = { 0, 0 };
	int rc;

	printf("NVMe controllers (PCI class 0x010802):\n");
	rc = vpio_pci_enumerate(list_cb, &l);
	if (rc < 0) {
		fprintf(stderr, "vpio-identify: cannot list PCI devices (%d); is %s/bus/pci there?\n", rc,
			vpio_pci_sysfs_root());
		return 1;
	}
	if (l.vfio + l.other == 0)
		printf("  none found\n");
	if (l.vfio == 0) {
		printf("No NVMe controller is bound to vfio-pci.  To hand controllers to vpio (as root):\n"
		       "  sudo scripts/setup.sh config     (sudo scripts/setup.sh reset gives them back)\n"
		       "Without hardware, use the emulated controller: vpio-identify -a emu:nvme\n");
	}
	return 0;
}

static int show(const char *addr)
{
	struct vpio_nvme_ctrlr *ctrlr;
	struct vpio_nvme_ns *ns;
	uint32_t nsid;
	int rc;

	rc = vpio_nvme_ctrlr_attach(addr, NULL, &ctrlr);
	if (rc != 0) {
		fprintf(stderr, "vpio-identify: cannot attach %s (see the line above)\n", addr);
		return 1;
	}
	identify_print_ctrlr(ctrlr);
	for (nsid = vpio_nvme_ctrlr_first_active_ns(ctrlr); nsid != 0;
	     nsid = vpio_nvme_ctrlr_next_active_ns(ctrlr, nsid)) {
		if (vpio_nvme_ctrlr_get_ns(ctrlr, nsid, &ns) == 0)
			identify_print_ns(ns);
	}
	rc = identify_print_health(ctrlr);
	vpio_nvme_ctrlr_detach(ctrlr);
	return rc == 0 ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vpio-identify [-a ADDR]...\n"
		   "  no -a     list NVMe controllers and whether vpio can use them\n"
		   "  -a ADDR   show a controller: a PCI address bound to vfio-pci (0000:00:03.0)\n"
		   "            or an emulated one (emu:nvme, emu:nvme0?ns=2&lba=4096)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *addrs[MAX_ADDRS];
	struct vpio_env_opts eo;
	int c, n = 0, rc = 0;

	while ((c = getopt_long(argc, argv, "a:h", longopts, NULL)) != -1) {
		if (c == 'a' && n == MAX_ADDRS) {
			fprintf(stderr, "vpio-identify: more than %d -a addresses; give at most %d per run\n", MAX_ADDRS,
				MAX_ADDRS);
			return 2;
		} else if (c == 'a') {
			addrs[n++] = optarg;
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vpio-identify: unexpected argument '%s' (addresses go after -a)\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (n == 0)
		return list_controllers();
	vpio_env_opts_init(&eo);
	eo.name = "vpio-identify";
	eo.mem_size_mb = 64;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0) {
		fprintf(stderr, "vpio-identify: cannot initialize the environment (DMA memory; see the line above)\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (i > 0)
			printf("\n");
		rc |= show(addrs[i]);
	}
	vpio_env_fini();
	return rc;
}
