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
/*
 * The lib/vfio lock: the process-wide container pointer, its group list,
 * group reference counts and the container's IOMMU state (set on the first
 * join, dropped on the last leave) change only under it, so devices may be
 * opened and closed from several threads.  Admin side only: DMA map/unmap
 * and device accesses (regions, config space, reset) do not take it.
 * Lock order: this lock, then lib/env's registry lock (the first join makes
 * the container a DMA target); the registry never calls back into a path
 * that takes it.
 */
void vpio_vfio_lock(void);
void vpio_vfio_unlock(void);

/* Join group group_id to the container, or take another reference on it
 * when it already joined.  Any thread (takes the lib/vfio lock). */
int vpio_vfio_group_get(struct vpio_vfio_container *c, int group_id, struct vpio_vfio_group **group);
/* Drop a reference; the last one leaves the container (and the last group
 * takes the container's IOMMU with it).  Any thread. */
void vpio_vfio_group_put(struct vpio_vfio_container *c, struct vpio_vfio_group *group);

/* The kernel side of a group joining and leaving, called with the lib/vfio
 * lock held: join opens group id, checks it and sets its container (and,
 * for the first group, the container's IOMMU), giving its fd; leave undoes
 * that (last: the container's last group).  Unit tests point
 * vpio_vfio_group_kops at fakes to run the list logic without VFIO. */
struct vpio_vfio_group_kernel_ops {
	int (*join)(struct vpio_vfio_container *c, int id, int *fd, bool *noiommu);
	void (*leave)(struct vpio_vfio_container *c, int fd, bool last);
};
extern const struct vpio_vfio_group_kernel_ops *vpio_vfio_group_kops;
/* Parse VFIO_IOMMU_GET_INFO's capability chain (buf of len bytes). */
int vpio_vfio_parse_iommu_info(const void *buf, size_t len, struct vpio_vfio_iommu_info *info);
/* First group joined: set the IOMMU, read its facts, become a DMA target. */
int vpio_vfio_container_set_iommu(struct vpio_vfio_container *c, bool noiommu);
/* Last group left. */
void vpio_vfio_container_drop_iommu(struct vpio_vfio_container *c);
/* One line that says how to raise the locked-memory limit. */
void vpio_vfio_log_memlock_hint(uint64_t len);

#endif
