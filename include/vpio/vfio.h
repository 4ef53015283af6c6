/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO: one container per process by default (every group joins it, so one
 * DMA map serves every device), groups, devices, regions, DMA map/unmap and
 * the facts of the IOMMU behind the container.
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
	bool noiommu;		/* VFIO no-IOMMU mode (no translation at all) */
	uint64_t pgsize_bitmap;	/* supported IOMMU page sizes */
	uint32_t n_ranges;	/* valid IOVA ranges (0 = not reported) */
	struct vpio_iova_range ranges[VPIO_VFIO_MAX_RANGES];
	bool has_dma_avail;	/* dma_avail is reported by the kernel */
	uint32_t dma_avail;	/* DMA mappings still allowed (dma_entry_limit) */
	bool cache_coherent;	/* VFIO_DMA_CC_IOMMU: the IOMMU enforces snooping
				 * (0 on QEMU's vIOMMUs; x86 DMA is coherent anyway) */
};

/* Root of the VFIO device nodes (default "/dev/vfio"; NULL restores it). */
void vpio_vfio_set_dev_root(const char *root);

/* true when the container node exists and answers. */
bool vpio_vfio_available(void);

struct vpio_vfio_container;
/* The process-wide container, opened on first use (it gets its IOMMU when
 * the first group joins it). */
int vpio_vfio_container_get(struct vpio_vfio_container **c);
/* IOMMU facts; -ENODEV before the first group has joined. */
int vpio_vfio_container_info(struct vpio_vfio_container *c, struct vpio_vfio_iommu_info *info);
int vpio_vfio_dma_map(struct vpio_vfio_container *c, uint64_t vaddr, uint64_t iova, uint64_t len);
int vpio_vfio_dma_unmap(struct vpio_vfio_container *c, uint64_t iova, uint64_t len);

struct vpio_vfio_region {
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
 * sysfs; lib/vfio does not look at PCI).  Any thread: opening and closing
 * devices (the container's group list) is serialised by a lock in lib/vfio;
 * DMA map/unmap take no lock. */
int vpio_vfio_device_open(const char *name, int iommu_group, struct vpio_vfio_device **dev);
void vpio_vfio_device_close(struct vpio_vfio_device *dev);
int vpio_vfio_device_region(struct vpio_vfio_device *dev, unsigned index, struct vpio_vfio_region *r);
/* mmap a BAR (the whole BAR, or its largest mmap-able sparse area). */
int vpio_vfio_device_map_bar(struct vpio_vfio_device *dev, unsigned bar, void **addr, uint64_t *len);
int vpio_vfio_device_cfg_read(struct vpio_vfio_device *dev, void *buf, size_t len, uint32_t off);
int vpio_vfio_device_cfg_write(struct vpio_vfio_device *dev, const void *buf, size_t len, uint32_t off);
/* Memory space + bus mastering on. */
int vpio_vfio_device_enable(struct vpio_vfio_device *dev);
/* VFIO_DEVICE_RESET; -ENOTSUP when the device cannot be reset. */
int vpio_vfio_device_reset(struct vpio_vfio_device *dev);
bool vpio_vfio_device_can_reset(const struct vpio_vfio_device *dev);

#ifdef __cplusplus
}
#endif
#endif
