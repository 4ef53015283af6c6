/* SPDX-License-Identifier: BSD-3-Clause */
/* Device handles: open by name (VFIO or emulated), config, reset, close. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/emu.h>

#include "pci_internal.h"

int vpio_pci_device_open(const char *name, struct vpio_pci_device **dev)
{
	if (name == NULL || dev == NULL) {
		VPIO_ERR(PCI_MOD, "vpio_pci_device_open: no device name given");
		return -EINVAL;
	}
	if (vpio_pci_name_is_emulated(name))
		return vpio_emu_device_open(name, dev);
	return vpio_pci_vfio_open(name, dev);
}

void vpio_pci_device_close(struct vpio_pci_device *dev)
{
	if (dev != NULL)
		dev->ops->detach(dev);
}

int vpio_pci_device_reset(struct vpio_pci_device *dev)
{
	if (dev->ops->reset == NULL)
		return -ENOTSUP;
	return dev->ops->reset(dev);
}

int vpio_pci_cfg_read(struct vpio_pci_device *dev, void *buf, size_t len, uint32_t off)
{
	return dev->ops->cfg_read(dev, buf, len, off);
}

int vpio_pci_cfg_write(struct vpio_pci_device *dev, const void *buf, size_t len, uint32_t off)
{
	return dev->ops->cfg_write(dev, buf, len, off);
}
