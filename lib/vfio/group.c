/* SPDX-License-Identifier: BSD-3-Clause */
/* VFIO groups: open a group by number (the caller found it), check it is
 * viable, join it to the container; the container's list of groups, under
 * the lib/vfio lock (vpio_vfio_lock()). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio_internal.h"

/* Log the other members of a group and their drivers (why it is not
 * viable).  The kernel's view of IOMMU groups, not PCI's: always /sys. */
static void log_group_members(int id)
{
	char path[512], line[1024] = "", drv[512];
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", id);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && used < sizeof(line) - 80) {
		char link[1024];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s/driver", path, de->d_name);
		n = readlink(link, drv, sizeof(drv) - 1);
		drv[n > 0 ? n : 0] = '\0';
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s (%s)", used ? ", " : "", de->d_name,
					 n > 0 ? basename(drv) : "no driver");
	}
	closedir(d);
	VPIO_ERR(VFIO_MOD, "IOMMU group %d is not viable: every device in it must be bound to vfio-pci or to no driver; members: %s (bind them with scripts/setup.sh)",
		 id, line);
}

static int open_group_fd(int id, bool *noiommu)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/%d", vpio_vfio_dev_root(), id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "%s/noiommu-%d", vpio_vfio_dev_root(), id);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			*noiommu = true;
	}
	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		VPIO_ERR(VFIO_MOD, "%s/%d does not exist: the device of IOMMU group %d is not bound to vfio-pci (run scripts/setup.sh)",
			 vpio_vfio_dev_root(), id, id);
		return -ENODEV;
	}
	if (errno == EBUSY) {
		VPIO_ERR(VFIO_MOD, "IOMMU group %d is in use by another process (another vpio or DPDK/SPDK program?)", id);
		return -EBUSY;
	}
	if (errno == EACCES || errno == EPERM) {
		VPIO_ERR(VFIO_MOD, "permission denied opening %s/%d: run as root or 'sudo TARGET_USER=$USER scripts/setup.sh'",
			 vpio_vfio_dev_root(), id);
		return -EACCES;
	}
	VPIO_ERR(VFIO_MOD, "cannot open VFIO group %d: %s", id, strerror(errno));
	return -errno;
}

/* The kernel side of joining group id to the container: open, check,
 * VFIO_GROUP_SET_CONTAINER, and for the first group the IOMMU. */
static int kernel_join(struct vpio_vfio_container *c, int id, int *pfd, bool *pnoiommu)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	bool noiommu = false;
	int fd, rc;

	fd = open_group_fd(id, &noiommu);
	if (fd < 0)
		return fd;
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) != 0) {
		VPIO_ERR(VFIO_MOD, "VFIO_GROUP_GET_STATUS on group %d failed: %s (is it a VFIO group node?)", id,
			 strerror(errno));
		close(fd);
		return -EINVAL;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_group_members(id);
		close(fd);
		return -EPERM;
	}
	if (c->has_iommu && noiommu != c->noiommu) {
		VPIO_ERR(VFIO_MOD, "group %d is %s but the container already holds %s groups; they cannot be mixed", id,
			 noiommu ? "no-IOMMU" : "IOMMU-backed", c->noiommu ? "no-IOMMU" : "IOMMU-backed");
		close(fd);
		return -EINVAL;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c->fd) != 0) {
		rc = -errno;
		if (errno == EPERM)
			VPIO_ERR(VFIO_MOD, "the kernel refused IOMMU group %d: no interrupt remapping (with virtio-iommu load vfio_iommu_type1 with allow_unsafe_interrupts=1)", id);
		else
			VPIO_ERR(VFIO_MOD, "cannot add group %d to the container: %s", id, strerror(errno));
		close(fd);
		return rc;
	}
	if (!c->has_iommu) {
		rc = vpio_vfio_container_set_iommu(c, noiommu);
		if (rc != 0) {
			ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
			close(fd);
			c->has_iommu = false;
			return rc;
		}
	}
	*pfd = fd;
	*pnoiommu = noiommu;
	return 0;
}

/* The kernel side of leaving: the last group unmaps while the container
 * still has its IOMMU. */
static void kernel_leave(struct vpio_vfio_container *c, int fd, bool last)
{
	if (last)
		vpio_vfio_container_drop_iommu(c);
	ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
	close(fd);
}

static const struct vpio_vfio_group_kernel_ops g_kernel_ops = { .join = kernel_join, .leave = kernel_leave };
const struct vpio_vfio_group_kernel_ops *vpio_vfio_group_kops = &g_kernel_ops;

int vpio_vfio_group_get(struct vpio_vfio_container *c, int id, struct vpio_vfio_group **pg)
{
	struct vpio_vfio_group *g;
	bool noiommu = false;
	int fd, rc;

	vpio_vfio_lock();
	for (g = c->groups; g != NULL; g = g->next) {
		if (g->id == id) {
			g->refs++;
			*pg = g;
			vpio_vfio_unlock();
			return 0;
		}
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		vpio_vfio_unlock();
		VPIO_ERR(VFIO_MOD, "out of memory for IOMMU group %d", id);
		return -ENOMEM;
	}
	rc = vpio_vfio_group_kops->join(c, id, &fd, &noiommu);
	if (rc != 0) {
		vpio_vfio_unlock();
		free(g);
		return rc;
	}
	g->fd = fd;
	g->id = id;
	g->noiommu = noiommu;
	g->refs = 1;
	g->next = c->groups;
	c->groups = g;
	*pg = g;
	vpio_vfio_unlock();
	return 0;
}

void vpio_vfio_group_put(struct vpio_vfio_container *c, struct vpio_vfio_group *g)
{
	struct vpio_vfio_group **pp;

	vpio_vfio_lock();
	if (--g->refs > 0) {
		vpio_vfio_unlock();
		return;
	}
	for (pp = &c->groups; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	vpio_vfio_group_kops->leave(c, g->fd, c->groups == NULL);
	vpio_vfio_unlock();
	free(g);
}
