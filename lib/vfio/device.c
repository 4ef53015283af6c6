/* SPDX-License-Identifier: BSD-3-Clause */
/* VFIO devices: open by PCI address, regions, BAR mmap, config space,
 * enable, reset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio_internal.h"

int vpio_vfio_device_open(const char *name, int id, struct vpio_vfio_device **pdev)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vpio_vfio_container *c;
	struct vpio_vfio_device *dev;
	int rc;

	if (name == NULL || pdev == NULL || id < 0 || strlen(name) >= sizeof(dev->name)) {
		VPIO_ERR(VFIO_MOD, "vpio_vfio_device_open: needs a device name (\"0000:00:03.0\"), its IOMMU group (>= 0) and a place for the handle");
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		return -ENOMEM;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	rc = vpio_vfio_container_get(&c);
	if (rc != 0)
		goto err;
	rc = vpio_vfio_group_get(c, id, &dev->group);
	if (rc != 0)
		goto err;
	dev->fd = ioctl(dev->group->fd, VFIO_GROUP_GET_DEVICE_FD, dev->name);
	if (dev->fd < 0) {
		rc = -errno;
		VPIO_ERR(VFIO_MOD, "cannot get %s from IOMMU group %d: %s (is it bound to vfio-pci? run scripts/setup.sh)",
			 dev->name, id, strerror(errno));
		goto err_group;
	}
	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &di) != 0 || !(di.flags & VFIO_DEVICE_FLAGS_PCI)) {
		rc = -ENODEV;
		VPIO_ERR(VFIO_MOD, "%s is not a VFIO PCI device", dev->name);
		goto err_fd;
	}
	dev->flags = di.flags;
	dev->num_regions = di.num_regions;
	*pdev = dev;
	return 0;
err_fd:
	close(dev->fd);
err_group:
	vpio_vfio_group_put(c, dev->group);
err:
	free(dev);
	return rc;
}

void vpio_vfio_device_close(struct vpio_vfio_device *dev)
{
	struct vpio_vfio_container *c;

	if (dev == NULL)
		return;
	for (unsigned i = 0; i < VFIO_BAR_MAX; i++) {
		if (dev->bars[i].base != NULL)
			munmap(dev->bars[i].base, dev->bars[i].len);
	}
	close(dev->fd);
	if (vpio_vfio_container_get(&c) == 0)
		vpio_vfio_group_put(c, dev->group);
	free(dev);
}

static void parse_sparse(const void *buf, uint32_t argsz, const struct vfio_region_info *ri, struct vpio_vfio_region *r)
{
	uint32_t off = ri->cap_offset;

	while (off >= sizeof(*ri) && off + sizeof(struct vfio_info_cap_header) <= argsz) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)buf + off);

		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			const struct vfio_region_info_cap_sparse_mmap *s = (const void *)h;

			for (uint32_t i = 0; i < s->nr_areas && i < VPIO_ARRAY_SIZE(r->sparse); i++) {
				if (off + sizeof(*s) + (i + 1) * sizeof(s->areas[0]) > argsz)
					break;
				r->sparse[i].offset = s->areas[i].offset;
				r->sparse[i].size = s->areas[i].size;
				r->n_sparse = i + 1;
			}
		}
		if (h->next <= off)
			break;
		off = h->next;
	}
}

VPIO_ABI_SIZE(struct vpio_vfio_region, 160);
VPIO_ABI_FIELD(struct vpio_vfio_region, info_size, 0);
VPIO_ABI_FIELD(struct vpio_vfio_region, size, 8);
VPIO_ABI_FIELD(struct vpio_vfio_region, offset, 16);
VPIO_ABI_FIELD(struct vpio_vfio_region, flags, 24);
VPIO_ABI_FIELD(struct vpio_vfio_region, n_sparse, 28);
VPIO_ABI_FIELD(struct vpio_vfio_region, sparse, 32);

int vpio_vfio_device_region_sized(struct vpio_vfio_device *dev, unsigned index, struct vpio_vfio_region *out,
				  size_t out_size)
{
	struct vfio_region_info probe = { .argsz = sizeof(probe), .index = index };
	struct vfio_region_info *ri;
	struct vpio_vfio_region all, *r = &all;

	if (vpio_struct_out_check(VFIO_MOD, "vpio_vfio_device_region", out, out_size) != 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (index >= dev->num_regions || ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &probe) != 0) {
		VPIO_ERR(VFIO_MOD, "%s: no region %u", dev->name, index);
		return -EINVAL;
	}
	ri = calloc(1, probe.argsz);
	if (ri == NULL)
		return -ENOMEM;
	ri->argsz = probe.argsz;
	ri->index = index;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri) != 0) {
		free(ri);
		return -errno;
	}
	r->size = ri->size;
	r->offset = ri->offset;
	r->flags = ri->flags;
	if ((ri->flags & VFIO_REGION_INFO_FLAG_CAPS) && probe.argsz > sizeof(*ri))
		parse_sparse(ri, probe.argsz, ri, r);
	free(ri);
	return vpio_struct_export(VFIO_MOD, "vpio_vfio_device_region", out, out_size, &all, sizeof(all));
}

int vpio_vfio_device_map_bar(struct vpio_vfio_device *dev, unsigned bar, void **addr, uint64_t *len)
{
	struct vpio_vfio_region r;
	void *base;
	int rc;

	if (bar >= VFIO_BAR_MAX)
		return -EINVAL;
	if (dev->bars[bar].base != NULL)
		goto done;
	rc = vpio_vfio_device_region(dev, VFIO_PCI_BAR0_REGION_INDEX + bar, &r);
	if (rc != 0)
		return rc;
	if (r.size == 0)
		return -ENOENT;
	if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		VPIO_ERR(VFIO_MOD, "%s: BAR%u (%llu bytes) cannot be mmap'ed (an I/O port BAR?)", dev->name, bar,
			 (unsigned long long)r.size);
		return -ENOTSUP;
	}
	if (r.n_sparse == 0) {
		base = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, (off_t)r.offset);
	} else {
		/* Reserve the whole BAR, then map the mmap-able areas into it;
		 * the holes (e.g. the MSI-X table) stay inaccessible. */
		base = mmap(NULL, r.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (uint32_t i = 0; base != MAP_FAILED && i < r.n_sparse; i++) {
			void *p = mmap((char *)base + r.sparse[i].offset, r.sparse[i].size, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_FIXED, dev->fd, (off_t)(r.offset + r.sparse[i].offset));

			if (p == MAP_FAILED) {
				munmap(base, r.size);
				base = MAP_FAILED;
			}
		}
	}
	if (base == MAP_FAILED) {
		rc = -errno;
		VPIO_ERR(VFIO_MOD, "%s: cannot mmap BAR%u: %s", dev->name, bar, strerror(errno));
		return rc;
	}
	dev->bars[bar].base = base;
	dev->bars[bar].len = r.size;
done:
	*addr = dev->bars[bar].base;
	*len = dev->bars[bar].len;
	return 0;
}

static int cfg_io(struct vpio_vfio_device *dev, void *buf, size_t len, uint32_t off, bool write)
{
	struct vpio_vfio_region r;
	ssize_t n;
	int rc = vpio_vfio_device_region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &r);

	if (rc != 0)
		return rc;
	if (off + len > r.size) {
		VPIO_ERR(VFIO_MOD, "%s: config access at 0x%x+%zu is beyond its %llu bytes", dev->name, off, len,
			 (unsigned long long)r.size);
		return -EINVAL;
	}
	n = write ? pwrite(dev->fd, buf, len, (off_t)(r.offset + off)) : pread(dev->fd, buf, len, (off_t)(r.offset + off));
	if (n != (ssize_t)len) {
		VPIO_ERR(VFIO_MOD, "%s: config %s at 0x%x failed: %s", dev->name, write ? "write" : "read", off,
			 n < 0 ? strerror(errno) : "short");
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int vpio_vfio_device_cfg_read(struct vpio_vfio_device *dev, void *buf, size_t len, uint32_t off)
{
	return cfg_io(dev, buf, len, off, false);
}

int vpio_vfio_device_cfg_write(struct vpio_vfio_device *dev, const void *buf, size_t len, uint32_t off)
{
	return cfg_io(dev, (void *)(uintptr_t)buf, len, off, true);
}

int vpio_vfio_device_enable(struct vpio_vfio_device *dev)
{
	uint16_t cmd;
	int rc = vpio_vfio_device_cfg_read(dev, &cmd, sizeof(cmd), PCI_COMMAND);

	if (rc != 0)
		return rc;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return vpio_vfio_device_cfg_write(dev, &cmd, sizeof(cmd), PCI_COMMAND);
}

bool vpio_vfio_device_can_reset(const struct vpio_vfio_device *dev)
{
	return (dev->flags & VFIO_DEVICE_FLAGS_RESET) != 0;
}

int vpio_vfio_device_reset(struct vpio_vfio_device *dev)
{
	if (!vpio_vfio_device_can_reset(dev))
		return -ENOTSUP;
	if (ioctl(dev->fd, VFIO_DEVICE_RESET) != 0) {
		VPIO_ERR(VFIO_MOD, "%s: VFIO_DEVICE_RESET failed: %s", dev->name, strerror(errno));
		return -errno;
	}
	return 0;
}
