/* SPDX-License-Identifier: BSD-3-Clause */
/* Device handles: open by name (VFIO or emulated), config, reset, close. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci_backend.h"
#include "pci_internal.h"

#define MAX_BACKENDS 4

static const struct vpio_pci_backend *g_backends[MAX_BACKENDS];
static unsigned g_n_backends;

int vpio_pci_backend_register(const struct vpio_pci_backend *b)
{
	for (unsigned i = 0; i < g_n_backends; i++) {
		if (strcmp(g_backends[i]->prefix, b->prefix) == 0) {
			VPIO_ERR(PCI_MOD, "a device backend for '%s' names is already registered (%s)", b->prefix,
				 g_backends[i]->what);
			return -EEXIST;
		}
	}
	if (g_n_backends == MAX_BACKENDS) {
		VPIO_ERR(PCI_MOD, "cannot register %s: the table of %d device backends is full", b->what,
			 MAX_BACKENDS);
		return -ENOSPC;
	}
	g_backends[g_n_backends++] = b;
	return 0;
}

int vpio_pci_device_open(const char *name, struct vpio_pci_device **dev)
{
	if (name == NULL || dev == NULL) {
		VPIO_ERR(PCI_MOD, "vpio_pci_device_open: no device name given");
		return -EINVAL;
	}
	for (unsigned i = 0; i < g_n_backends; i++) {
		if (strncmp(name, g_backends[i]->prefix, strlen(g_backends[i]->prefix)) == 0)
			return g_backends[i]->open(name, dev);
	}
	if (vpio_pci_name_is_emulated(name)) {
		VPIO_ERR(PCI_MOD, "'%s': emulated devices are not linked into this program (lib/emu registers them; link libvpio.a with -Wl,--undefined=vpio_emu_device_open)",
			 name);
		return -ENODEV;
	}
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
