/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO: one container per process by default (every group joins it, so one
 * DMA map serves every device), groups, devices, regions, DMA map/unmap and
 * the facts of the IOMMU behind the container.
 *
 * Threads: the process-wide container, its list of groups and the IOMMU
 * facts are guarded by one lock in lib/vfio, so devices may be opened and
 * closed (here, and through vpio_pci_device_open/close,
 * vpio_nvme_ctrlr_attach/detach/probe, vpio_xdma_attach/detach and
 * vpio_blk_open/close of PCI addresses) from several threads at once.  DMA
 * mappings are made by vpio_mem_register() under the memory registry's
 * lock (taken after lib/vfio's, never before); no lock is taken on any
 * I/O path.  An open device's regions, BARs and config space may be used
 * from any thread.
 */
#ifndef VPIO_VFIO_H
#define VPIO_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPIO_VFIO_MAX_RANGES 16

struct vpio_iova_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct vpio_vfio_iommu_info {
	size_t info_size;	/* out: the bytes the library filled (doc/api.md) */
	bool noiommu;		/* VFIO no-IOMMU mode (no translation at all) */
	uint64_t pgsize_bitmap;	/* supported IOMMU page sizes */
	uint32_t n_ranges;	/* valid IOVA ranges (0 = not reported) */
	struct vpio_iova_range ranges[VPIO_VFIO_MAX_RANGES];
	bool has_dma_avail;	/* dma_avail is reported by the kernel */
	uint32_t dma_avail;	/* DMA mappings still allowed (dma_entry_limit) */
	bool cache_coherent;	/* VFIO_DMA_CC_IOMMU: the IOMMU enforces snooping
				 * (0 on QEMU's vIOMMUs; x86 DMA is coherent anyway) */
};

/* Root of the VFIO device nodes (default "/dev/vfio"; NULL restores it).
 * Thread: set it before other threads use vpio (a plain global). */
void vpio_vfio_set_dev_root(const char *root);

/* true when the container node exists and answers.  Thread: any. */
bool vpio_vfio_available(void);

struct vpio_vfio_container;
/* The process-wide container, opened on first use (it gets its IOMMU when
 * the first group joins it).  Thread: any (lib/vfio's lock). */
int vpio_vfio_container_get(struct vpio_vfio_container **c);
/* IOMMU facts into info_size bytes of *info (the caller's sizeof: nothing
 * past it is written; fields this library does not know read 0); -ENODEV
 * before the first group has joined, -EINVAL for NULL or a bad size.  Call
 * the macro.  Thread: any, once a device is open (the facts do not change
 * while a group is in the container). */
int vpio_vfio_container_info_sized(struct vpio_vfio_container *c, struct vpio_vfio_iommu_info *info,
				   size_t info_size);
#define vpio_vfio_container_info(c, info) vpio_vfio_container_info_sized((c), (info), sizeof(*(info)))
/* Map or unmap an IOVA range in the container's IOMMU (one ioctl; the
 * kernel serializes them).  vpio_mem_register() does this for every
 * registered region: call these only for mappings of your own.
 * Thread: any, not while the last device of the container is being closed. */
int vpio_vfio_dma_map(struct vpio_vfio_container *c, uint64_t vaddr, uint64_t iova, uint64_t len);
int vpio_vfio_dma_unmap(struct vpio_vfio_container *c, uint64_t iova, uint64_t len);

struct vpio_vfio_region {
	size_t info_size; /* out: the bytes the library filled (doc/api.md) */
	uint64_t size;
	uint64_t offset; /* in the device fd */
	uint32_t flags;	 /* VFIO_REGION_INFO_FLAG_* */
	uint32_t n_sparse;
	struct {
		uint64_t offset;
		uint64_t size;
	} sparse[8]; /* mmap-able parts when the region is sparse */
};

struct vpio_vfio_device;
/* Open a device bound to vfio-pci; its group joins the container.  name is
 * the device's canonical PCI address ("0000:00:03.0", as VFIO names it) and
 * iommu_group its IOMMU group number (the caller, lib/pci, reads both from
 * sysfs; lib/vfio does not look at PCI).  Close leaves the group; the
 * last one drops the container's IOMMU.
 * Thread: any: opening and closing devices (the container's group list)
 * is serialised by a lock in lib/vfio; DMA map/unmap take no lock. */
int vpio_vfio_device_open(const char *name, int iommu_group, struct vpio_vfio_device **dev);
void vpio_vfio_device_close(struct vpio_vfio_device *dev);
/* Region index of the device into info_size bytes of *r (as
 * vpio_vfio_container_info()).  Call the macro.  Thread: any. */
int vpio_vfio_device_region_sized(struct vpio_vfio_device *dev, unsigned index, struct vpio_vfio_region *r,
				  size_t info_size);
#define vpio_vfio_device_region(dev, index, r) vpio_vfio_device_region_sized((dev), (index), (r), sizeof(*(r)))
/* mmap a BAR (the whole BAR, or its largest mmap-able sparse area); later
 * calls return the same mapping.  Thread: any, but the first call for a
 * BAR must not race with another call for it (the cache has no lock). */
int vpio_vfio_device_map_bar(struct vpio_vfio_device *dev, unsigned bar, void **addr, uint64_t *len);
/* Config space (one pread/pwrite).  Thread: any. */
int vpio_vfio_device_cfg_read(struct vpio_vfio_device *dev, void *buf, size_t len, uint32_t off);
int vpio_vfio_device_cfg_write(struct vpio_vfio_device *dev, const void *buf, size_t len, uint32_t off);
/* Memory space + bus mastering on.  Thread: any (a read-modify-write of
 * the command register: not while another thread writes it). */
int vpio_vfio_device_enable(struct vpio_vfio_device *dev);
/* VFIO_DEVICE_RESET; -ENOTSUP when the device cannot be reset.
 * Thread: any, while no other thread uses the device's registers. */
int vpio_vfio_device_reset(struct vpio_vfio_device *dev);
bool vpio_vfio_device_can_reset(const struct vpio_vfio_device *dev);

#ifdef __cplusplus
}
#endif
#endif
