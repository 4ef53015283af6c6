/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Emulated devices: software controllers that stand behind an ordinary
 * PCI device handle, so that drivers, the quick start and the host tests
 * run on machines without the hardware or VFIO.
 *
 * A device is named "emu:KIND[N][?k=v&k=v]" (see doc/emu.md):
 *   emu:nvme, emu:nvme0, emu:nvme1?ns=2&lba=4096&size=64M
 * It lives in a process-wide registry by its canonical name ("emu:nvme0"):
 * closing the device handle keeps the controller and its data, so a later
 * open finds what was written.  Options apply when the device is created.
 *
 * Usually reached through vpio_pci_device_open(), which calls
 * vpio_emu_device_open() for "emu:" names.
 */
#ifndef VPIO_EMU_H
#define VPIO_EMU_H

#include <stdint.h>

#include <vpio/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Create or open an emulated device.  Fills a device handle (allocated
 * here, freed by its ops->detach) whose bar[0] is the register memory.
 *   -EINVAL  malformed name or options
 *   -ENODEV  unknown kind, or a device that was surprise-removed
 *   -EEXIST  the device exists with options that conflict with the given ones
 *   -EBUSY   the device is already open
 *   -ENOMEM / -errno of the backing file
 */
int vpio_emu_device_open(const char *name, struct vpio_pci_device **dev);

/* Drop a device and its data (a backing file is kept).  Options in name
 * are ignored.  -ENOENT when it does not exist, -EBUSY while it is open. */
int vpio_emu_destroy(const char *name);
/* Drop every device that is not open (also run at exit). */
void vpio_emu_destroy_all(void);

/* ------------------------------------------------------ emulated NVMe */

struct vpio_emu_nvme;

/* The emulated NVMe controller behind dev; NULL if dev is not one. */
struct vpio_emu_nvme *vpio_emu_nvme_get(struct vpio_pci_device *dev);

enum vpio_emu_nvme_fault {
	VPIO_EMU_NVME_FAULT_NONE,	/* cancel every pending one-shot fault */
	VPIO_EMU_NVME_FAULT_FATAL,	/* set CSTS.CFS, stop processing until reset (CC.EN 1->0->1) */
	VPIO_EMU_NVME_FAULT_DROP_CPL,	/* the next `param` I/O completions are never posted */
	VPIO_EMU_NVME_FAULT_BOGUS_CID,	/* the next I/O completion carries a cid that is not outstanding
					 * (param = the cid to use, or random if 0); the real command
					 * gets no completion */
	VPIO_EMU_NVME_FAULT_DUP_CPL,	/* the next I/O completion is posted twice */
	VPIO_EMU_NVME_FAULT_BAD_SQHD,	/* the next I/O completion carries an out-of-range sqhd */
	VPIO_EMU_NVME_FAULT_DELAY_CPL,	/* the next I/O completion is delayed by param microseconds */
	VPIO_EMU_NVME_FAULT_REMOVE,	/* surprise removal: every BAR byte reads 0xff from now on,
					 * nothing is processed; only vpio_emu_destroy() ends it */
	VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL, /* the next `param` admin completions are never posted
					 * (the commands are carried out) */
};

/* Arm a fault.  FATAL and REMOVE have taken effect when this returns.
 * -EINVAL for an unknown fault, -ENODEV after REMOVE. */
int vpio_emu_nvme_inject(struct vpio_emu_nvme *emu, enum vpio_emu_nvme_fault fault, uint64_t param);

struct vpio_emu_nvme_stats {
	uint64_t admin_cmds;	   /* admin commands fetched */
	uint64_t io_cmds;	   /* I/O commands fetched */
	uint64_t read_cmds;	   /* of which reads */
	uint64_t write_cmds;	   /* of which writes */
	uint64_t bytes_read;	   /* data moved to the host by successful reads */
	uint64_t bytes_written;	   /* data taken from the host by successful writes */
	uint64_t iommu_faults;	   /* DMA addresses that were not registered */
	uint64_t invalid_cmds;	   /* commands failed for invalid content */
	uint64_t mmio_doorbells;   /* doorbell register updates seen */
	uint64_t shadow_doorbells; /* shadow doorbell updates seen without an MMIO one */
};
void vpio_emu_nvme_get_stats(struct vpio_emu_nvme *emu, struct vpio_emu_nvme_stats *st);

#ifdef __cplusplus
}
#endif
#endif
