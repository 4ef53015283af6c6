/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pci internals. */
#ifndef VPIO_PCI_INTERNAL_H
#define VPIO_PCI_INTERNAL_H

#include <vpio/pci.h>

#include "util/util.h"

#define PCI_MOD "pci"

/* The device behind a VFIO-backed handle. */
struct vpio_vfio_device;
int vpio_pci_vfio_open(const char *name, struct vpio_pci_device **dev);

#endif
