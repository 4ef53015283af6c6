/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/vfio internals. */
#ifndef VPIO_VFIO_INTERNAL_H
#define VPIO_VFIO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <vpio/vfio.h>

#include "util/util.h"

#define VFIO_MOD "vfio"

struct vpio_vfio_group {
	int fd;
	int id;
	bool noiommu;
	unsigned refs;
	struct vpio_vfio_group *next;
};

struct vpio_vfio_container {
	int fd;
	bool has_iommu;		/* a group joined and VFIO_SET_IOMMU succeeded */
	bool noiommu;
	bool dma_target;	/* registered with the env registry */
	struct vpio_vfio_group *groups;
	struct vpio_vfio_iommu_info info;
};

/* BARs of a PCI function (VFIO_PCI_BAR0..5_REGION_INDEX). */
#define VFIO_BAR_MAX 6

struct vpio_vfio_device {
	int fd;
	char name[32];		/* "dddd:bb:dd.f", as given by the caller */
	struct vpio_vfio_group *group;
	uint32_t flags;		/* VFIO_DEVICE_FLAGS_* */
	uint32_t num_regions;
	struct {
		void *base;	/* reserved VA of the whole BAR */
		uint64_t len;
	} bars[VFIO_BAR_MAX];
};

const char *vpio_vfio_dev_root(void);
/* Join the group of a device to the container (opening both as needed). */
int vpio_vfio_group_get(struct vpio_vfio_container *c, int group_id, struct vpio_vfio_group **group);
void vpio_vfio_group_put(struct vpio_vfio_container *c, struct vpio_vfio_group *group);
/* Parse VFIO_IOMMU_GET_INFO's capability chain (buf of len bytes). */
int vpio_vfio_parse_iommu_info(const void *buf, size_t len, struct vpio_vfio_iommu_info *info);
/* First group joined: set the IOMMU, read its facts, become a DMA target. */
int vpio_vfio_container_set_iommu(struct vpio_vfio_container *c, bool noiommu);
/* Last group left. */
void vpio_vfio_container_drop_iommu(struct vpio_vfio_container *c);
/* One line that says how to raise the locked-memory limit. */
void vpio_vfio_log_memlock_hint(uint64_t len);

#endif
