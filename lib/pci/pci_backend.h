/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device handle backends other than VFIO: a library above lib/pci that
 * can stand behind a struct vpio_pci_device for some names (lib/emu, for
 * "emu:" names) registers an opener here, and vpio_pci_device_open() hands
 * it the names that start with its prefix.  This keeps lib/pci below the
 * emulator: pci knows no backend by name.
 *
 * Not public (not exported from libvpio.so).  A library that includes it
 * declares "deps pci" in its mk/ fragment.
 *
 * Threading: register from a constructor (before main, one thread); the
 * table is read without a lock afterwards.  A program linked with
 * libvpio.a must pull the backend's object in (configure's link rule does:
 * -Wl,--undefined=vpio_emu_device_open).
 */
#ifndef VPIO_PCI_BACKEND_H
#define VPIO_PCI_BACKEND_H

#include <vpio/pci.h>

struct vpio_pci_backend {
	const char *prefix;	/* names it opens, e.g. "emu:" */
	const char *what;	/* for messages, e.g. "the emulator (lib/emu)" */
	int (*open)(const char *name, struct vpio_pci_device **dev);
};

/* Register a backend (b must stay valid).  -EEXIST for a prefix already
 * taken, -ENOSPC when the table (4 entries) is full. */
int vpio_pci_backend_register(const struct vpio_pci_backend *b);

#endif
