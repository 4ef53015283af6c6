/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Emulated devices: software controllers that stand behind an ordinary
 * PCI device handle, so that drivers, the quick start and the host tests
 * run on machines without the hardware or VFIO.
 *
 * A device is named "emu:KIND[N][?k=v&k=v]" (see doc/emu.md):
 *   emu:nvme, emu:nvme0, emu:nvme1?ns=2&lba=4096&size=64M,
 *   emu:xdma, emu:xdma1?h2c=4&c2h=4&mem=256M
 * It lives in a process-wide registry by its canonical name ("emu:nvme0"):
 * closing the device handle keeps the controller and its data, so a later
 * open finds what was written.  Options apply when the device is created.
 *
 * Usually reached through vpio_pci_device_open(), which calls
 * vpio_emu_device_open() for "emu:" names.
 */
#ifndef VPIO_EMU_H
#define VPIO_EMU_H

#include <stdbool.h>
#include <stddef.h>
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
 * Thread: any (the registry of emulated devices has a lock).
 */
int vpio_emu_device_open(const char *name, struct vpio_pci_device **dev);

/* Drop a device and its data (a backing file is kept).  Options in name
 * are ignored.  -ENOENT when it does not exist, -EBUSY while it is open.
 * Thread: any (the registry's lock); the device handle must be closed. */
int vpio_emu_destroy(const char *name);
/* Drop every device that is not open (also run at exit).  Thread: any
 * (the registry's lock); no thread may still use a pointer from
 * vpio_emu_nvme_get()/vpio_emu_xdma_get() of a closed device. */
void vpio_emu_destroy_all(void);

/* ------------------------------------------------------ emulated NVMe */

struct vpio_emu_nvme;

/* The emulated NVMe controller behind dev; NULL if dev is not one.
 * Thread: any. */
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
 * -EINVAL for an unknown fault, -ENODEV after REMOVE.  Thread: any (the
 * controller's lock). */
int vpio_emu_nvme_inject(struct vpio_emu_nvme *emu, enum vpio_emu_nvme_fault fault, uint64_t param);

struct vpio_emu_nvme_stats {
	size_t stats_size;	   /* out: the bytes the library filled (doc/api.md) */
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
/* stats_size bytes of *st (the caller's sizeof: nothing past it is
 * written; fields this library does not know read 0).  -EINVAL for NULL or
 * a bad size.  Call the macro.  Thread: any (each counter is read
 * atomically; together they are a snapshot, not one instant). */
int vpio_emu_nvme_get_stats_sized(struct vpio_emu_nvme *emu, struct vpio_emu_nvme_stats *st, size_t stats_size);
#define vpio_emu_nvme_get_stats(emu, st) vpio_emu_nvme_get_stats_sized((emu), (st), sizeof(*(st)))

/* ------------------------------------------------------ emulated XDMA */

/*
 * "emu:xdma[N][?h2c=N&c2h=N&mem=SIZE&stream=0|1&bars=LIST&...]": an
 * AMD/Xilinx XDMA card (doc/emu.md): its DMA config BAR register by
 * register, card memory for memory-mapped engines or a loopback (H2C
 * stream n feeds C2H stream n) for stream engines, and one engine thread
 * per channel that walks descriptor lists through the emulated IOMMU.
 */
struct vpio_emu_xdma;

/* The emulated XDMA device behind dev; NULL if dev is not one.
 * Thread: any. */
struct vpio_emu_xdma *vpio_emu_xdma_get(struct vpio_pci_device *dev);

enum vpio_emu_xdma_fault {
	VPIO_EMU_XDMA_FAULT_NONE,	/* cancel the engine's pending faults */
	VPIO_EMU_XDMA_FAULT_DROP_WB,	/* the next `param` poll-mode writebacks (0 counts as 1)
					 * are not written */
	VPIO_EMU_XDMA_FAULT_CORRUPT_WB,	/* the next writeback word is `param` instead of the count
					 * (0: the count with the reserved bits 30:24 set) */
	VPIO_EMU_XDMA_FAULT_DMA,	/* the next descriptor's data access fails: H2C read error
					 * (unsupported request), C2H read error (slave error) */
	VPIO_EMU_XDMA_FAULT_STUCK,	/* the engine stops making progress (Status busy) before
					 * its next descriptor, or at the start of its next run,
					 * until Run is cleared */
	VPIO_EMU_XDMA_FAULT_DESC,	/* the next descriptor fetch fails: descriptor error
					 * (unsupported request) and magic stopped */
	VPIO_EMU_XDMA_FAULT_MAGIC,	/* the next descriptor fetched has a bad magic */
};

/* Arm a fault on engine (c2h, channel).  One-shot faults apply to the
 * engine's next descriptors.  -EINVAL for an unknown fault or an engine
 * the device does not have.  Thread: any. */
int vpio_emu_xdma_inject(struct vpio_emu_xdma *emu, bool c2h, unsigned channel, enum vpio_emu_xdma_fault fault,
			 uint64_t param);

struct vpio_emu_xdma_info {
	size_t info_size;	/* out: the bytes the library filled (doc/api.md) */
	uint32_t h2c, c2h;	/* channels per direction */
	bool stream;		/* stream engines (else memory-mapped) */
	uint64_t mem_size;	/* card memory bytes (AXI addresses 0..mem_size-1) */
	void *mem;		/* the card memory itself (tests look at it) */
	int cfg_bar, user_bar, bypass_bar; /* BAR indexes, -1 when absent */
};
/* info_size bytes of *info, as vpio_emu_nvme_get_stats().  Call the
 * macro.  Thread: any. */
int vpio_emu_xdma_get_info_sized(struct vpio_emu_xdma *emu, struct vpio_emu_xdma_info *info, size_t info_size);
#define vpio_emu_xdma_get_info(emu, info) vpio_emu_xdma_get_info_sized((emu), (info), sizeof(*(info)))

struct vpio_emu_xdma_stats {
	size_t stats_size;	/* out: the bytes the library filled (doc/api.md) */
	uint64_t runs;		/* rising edges of Run */
	uint64_t descriptors;	/* descriptors completed */
	uint64_t bytes_h2c;	/* bytes moved host -> card (or stream) */
	uint64_t bytes_c2h;	/* bytes moved card (or stream) -> host */
	uint64_t writebacks;	/* poll-mode writeback words written */
	uint64_t engine_errors;	/* engines stopped by an error */
	uint64_t iommu_faults;	/* host addresses that were not registered */
	uint64_t host_errors;	/* host errors (see vpio_emu_xdma_last_host_error) */
	uint64_t interrupts;	/* interrupts the card would have raised: a Status
				 * bit set that the engine's interrupt mask and the
				 * IRQ block's channel enable let through */
};
/* stats_size bytes of *st, as vpio_emu_nvme_get_stats(); all zero for a
 * NULL emu.  Call the macro.  Thread: any. */
int vpio_emu_xdma_get_stats_sized(struct vpio_emu_xdma *emu, struct vpio_emu_xdma_stats *st, size_t stats_size);
#define vpio_emu_xdma_get_stats(emu, st) vpio_emu_xdma_get_stats_sized((emu), (st), sizeof(*(st)))

/* The last host error: something the driver did that hardware would
 * misbehave on silently (e.g. Run set while the engine is busy, a
 * writeback address that is not registered).  Copies it into buf and
 * returns the number of host errors so far (0: buf is ""; 0 for NULL).
 * Thread: any. */
uint64_t vpio_emu_xdma_last_host_error(struct vpio_emu_xdma *emu, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
