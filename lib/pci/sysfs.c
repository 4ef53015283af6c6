/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI devices from sysfs: ROOT/bus/pci/devices/BDF/{vendor,device,...}. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pci_internal.h"

static char g_root[256] = "/sys";

void vpio_pci_set_sysfs_root(const char *root)
{
	snprintf(g_root, sizeof(g_root), "%s", root ? root : "/sys");
}

const char *vpio_pci_sysfs_root(void)
{
	return g_root;
}

static int read_attr(const char *dev, const char *attr, uint64_t *v)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", g_root, dev, attr);
	return vpio_read_u64_file(path, v);
}

/* basename of the symlink ROOT/bus/pci/devices/BDF/LINK, "" if none. */
static void read_link_name(const char *dev, const char *link, char *out, size_t len)
{
	char path[512], target[512];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", g_root, dev, link);
	n = readlink(path, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(out, len, "%s", basename(target));
	}
}

VPIO_ABI_SIZE(struct vpio_pci_info, 104);
VPIO_ABI_FIELD(struct vpio_pci_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_pci_info, vendor_id, 16);
VPIO_ABI_FIELD(struct vpio_pci_info, device_id, 18);
VPIO_ABI_FIELD(struct vpio_pci_info, subvendor_id, 20);
VPIO_ABI_FIELD(struct vpio_pci_info, subdevice_id, 22);
VPIO_ABI_FIELD(struct vpio_pci_info, class_code, 24);
VPIO_ABI_FIELD(struct vpio_pci_info, numa_node, 28);
VPIO_ABI_FIELD(struct vpio_pci_info, iommu_group, 32);
VPIO_ABI_FIELD(struct vpio_pci_info, driver, 36);

/* The whole struct (info_size = the library's sizeof). */
static int read_info(const struct vpio_pci_addr *addr, struct vpio_pci_info *info)
{
	char name[VPIO_PCI_ADDR_STRLEN], grp[64];
	uint64_t vendor, device, cls, v;
	int rc;

	memset(info, 0, sizeof(*info));
	info->info_size = sizeof(*info);
	vpio_pci_addr_fmt(name, sizeof(name), addr);
	rc = read_attr(name, "vendor", &vendor);
	if (rc == -ENOENT)
		return -ENODEV;
	if (rc == 0)
		rc = read_attr(name, "device", &device);
	if (rc == 0)
		rc = read_attr(name, "class", &cls);
	if (rc != 0) {
		VPIO_ERR(PCI_MOD, "cannot read %s/bus/pci/devices/%s: %s", g_root, name, strerror(-rc));
		return rc;
	}
	info->addr = *addr;
	info->vendor_id = (uint16_t)vendor;
	info->device_id = (uint16_t)device;
	info->class_code = (uint32_t)cls & 0xffffff;
	info->subvendor_id = read_attr(name, "subsystem_vendor", &v) == 0 ? (uint16_t)v : 0;
	info->subdevice_id = read_attr(name, "subsystem_device", &v) == 0 ? (uint16_t)v : 0;
	/* numa_node holds -1 when unknown: parse it as signed */
	{
		char path[512], buf[32];

		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/numa_node", g_root, name);
		info->numa_node = vpio_read_file(path, buf, sizeof(buf)) > 0 ? atoi(buf) : -1;
	}
	read_link_name(name, "iommu_group", grp, sizeof(grp));
	info->iommu_group = grp[0] ? atoi(grp) : -1;
	read_link_name(name, "driver", info->driver, sizeof(info->driver));
	return 0;
}

int vpio_pci_get_info_sized(const struct vpio_pci_addr *addr, struct vpio_pci_info *info, size_t info_size)
{
	struct vpio_pci_info all;
	int rc;

	if (addr == NULL) {
		VPIO_ERR(PCI_MOD, "vpio_pci_get_info: addr is NULL");
		return -EINVAL;
	}
	if (vpio_struct_out_check(PCI_MOD, "vpio_pci_get_info", info, info_size) != 0)
		return -EINVAL;
	rc = read_info(addr, &all);
	if (rc != 0)
		return rc;
	return vpio_struct_export(PCI_MOD, "vpio_pci_get_info", info, info_size, &all, sizeof(all));
}

static int by_addr(const void *a, const void *b)
{
	return vpio_pci_addr_cmp(a, b);
}

int vpio_pci_enumerate(vpio_pci_enum_cb cb, void *ctx)
{
	struct vpio_pci_addr *addrs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char path[300];
	int rc = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/bus/pci/devices", g_root);
	d = opendir(path);
	if (d == NULL) {
		VPIO_ERR(PCI_MOD, "cannot list PCI devices in %s: %s", path, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		struct vpio_pci_addr a;

		if (vpio_pci_addr_parse(de->d_name, &a) != 0)
			continue;
		if (n == cap) {
			void *p = realloc(addrs, (cap = cap ? cap * 2 : 64) * sizeof(*addrs));

			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			addrs = p;
		}
		addrs[n++] = a;
	}
	closedir(d);
	if (rc == 0 && n > 0)
		qsort(addrs, n, sizeof(*addrs), by_addr);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct vpio_pci_info info;

		if (read_info(&addrs[i], &info) == 0)
			rc = cb(ctx, &info);
	}
	free(addrs);
	return rc;
}

bool vpio_pci_match(const struct vpio_pci_match *m, const struct vpio_pci_info *info)
{
	if (m->vendor_id != VPIO_PCI_ANY_ID && m->vendor_id != info->vendor_id)
		return false;
	if (m->device_id != VPIO_PCI_ANY_ID && m->device_id != info->device_id)
		return false;
	if ((info->class_code & m->class_mask) != (m->class_code & m->class_mask))
		return false;
	return m->addr == NULL || vpio_pci_addr_cmp(m->addr, &info->addr) == 0;
}
