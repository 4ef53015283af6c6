/* SPDX-License-Identifier: BSD-3-Clause */
/* A device handle backed by VFIO: checks the binding in sysfs first so the
 * error names the fix, then maps every memory BAR. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/vfio.h>

#include "pci_internal.h"

static int vfio_cfg_read(struct vpio_pci_device *dev, void *buf, size_t len, uint32_t off)
{
	return vpio_vfio_device_cfg_read(dev->priv, buf, len, off);
}

static int vfio_cfg_write(struct vpio_pci_device *dev, const void *buf, size_t len, uint32_t off)
{
	return vpio_vfio_device_cfg_write(dev->priv, buf, len, off);
}

static int vfio_reset(struct vpio_pci_device *dev)
{
	return vpio_vfio_device_reset(dev->priv);
}

static void vfio_detach(struct vpio_pci_device *dev)
{
	struct vpio_vfio_device *vdev = dev->priv;

	if (vpio_vfio_device_can_reset(vdev))
		vpio_vfio_device_reset(vdev);
	vpio_vfio_device_close(vdev);
	free(dev);
}

static const struct vpio_pci_device_ops g_vfio_ops = {
	.cfg_read = vfio_cfg_read,
	.cfg_write = vfio_cfg_write,
	.reset = vfio_reset,
	.detach = vfio_detach,
};

/* The binding must be vfio-pci and the device must have an IOMMU group;
 * say what to do otherwise. */
static int check_binding(const char *name, const struct vpio_pci_addr *addr, struct vpio_pci_info *info)
{
	int rc = vpio_pci_get_info(addr, info);

	if (rc == -ENODEV) {
		VPIO_ERR(PCI_MOD, "no PCI device %s (see 'lspci -D' or 'scripts/setup.sh status'); emulated devices are named like emu:nvme",
			 name);
		return -ENODEV;
	}
	if (rc != 0)
		return rc;
	if (strcmp(info->driver, "vfio-pci") != 0) {
		if (info->driver[0] == '\0')
			VPIO_ERR(PCI_MOD, "%s is not bound to any driver; bind it to vfio-pci with 'sudo scripts/setup.sh'", name);
		else
			VPIO_ERR(PCI_MOD, "%s is bound to %s, not vfio-pci; bind it with 'sudo scripts/setup.sh' (PCI_ALLOWED=%s)",
				 name, info->driver, name);
		return -EBUSY;
	}
	if (info->iommu_group < 0) {
		VPIO_ERR(PCI_MOD, "%s has no IOMMU group: the IOMMU is off (enable it in firmware and with intel_iommu=on or amd_iommu=on), or run 'NOIOMMU=yes scripts/setup.sh' for VFIO's unsafe no-IOMMU mode",
			 name);
		return -ENODEV;
	}
	return 0;
}

int vpio_pci_vfio_open(const char *name, struct vpio_pci_device **pdev)
{
	struct vpio_pci_device *dev;
	struct vpio_vfio_device *vdev;
	struct vpio_pci_addr addr;
	int rc;

	if (vpio_pci_addr_parse(name, &addr) != 0) {
		VPIO_ERR(PCI_MOD, "'%s' is neither a PCI address (0000:00:03.0) nor an emulated device (emu:nvme)", name);
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		return -ENOMEM;
	rc = check_binding(name, &addr, &dev->info);
	vpio_pci_addr_fmt(dev->name, sizeof(dev->name), &addr);
	/* lib/vfio gets the canonical name and the group; it does not read PCI */
	if (rc == 0)
		rc = vpio_vfio_device_open(dev->name, dev->info.iommu_group, &vdev);
	if (rc != 0) {
		free(dev);
		return rc;
	}
	dev->ops = &g_vfio_ops;
	dev->priv = vdev;
	for (unsigned i = 0; i < VPIO_PCI_BAR_MAX; i++) {
		void *p;
		uint64_t len;

		if (vpio_vfio_device_map_bar(vdev, i, &p, &len) == 0) {
			dev->bar[i].addr = p;
			dev->bar[i].len = len;
		}
	}
	/* Reset to a known state (when the device can), then memory space
	 * and bus mastering on. */
	if (vpio_vfio_device_can_reset(vdev))
		vpio_vfio_device_reset(vdev);
	rc = vpio_vfio_device_enable(vdev);
	if (rc != 0) {
		vfio_detach(dev);
		return rc;
	}
	*pdev = dev;
	return 0;
}
