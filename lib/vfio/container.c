/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process-wide VFIO container.  Every group joins it, so one set of
 * DMA mappings serves all devices.  It gets its IOMMU (Type1v2, or
 * no-IOMMU) when the first group joins; then it reads the IOMMU's facts and
 * becomes a DMA target of the env registry, which maps all memory into it.
 * The container pointer, its groups and its IOMMU state change under the
 * lib/vfio lock (vfio_internal.h); DMA map/unmap do not take it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "env/dma_target.h"
#include "vfio_internal.h"

static char g_dev_root[256] = "/dev/vfio";
static struct vpio_vfio_container *g_container;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void vpio_vfio_lock(void)
{
	pthread_mutex_lock(&g_lock);
}

void vpio_vfio_unlock(void)
{
	pthread_mutex_unlock(&g_lock);
}

void vpio_vfio_set_dev_root(const char *root)
{
	snprintf(g_dev_root, sizeof(g_dev_root), "%s", root ? root : "/dev/vfio");
}

const char *vpio_vfio_dev_root(void)
{
	return g_dev_root;
}

static int open_container(int *pfd)
{
	char path[300];
	int fd, ver;

	snprintf(path, sizeof(path), "%s/vfio", g_dev_root);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			VPIO_ERR(VFIO_MOD, "VFIO is not available: %s does not exist; load it with 'modprobe vfio-pci' (scripts/setup.sh does)", path);
		else if (err == EACCES || err == EPERM)
			VPIO_ERR(VFIO_MOD, "permission denied opening %s: run as root, or give your user access with 'sudo TARGET_USER=$USER scripts/setup.sh'", path);
		else
			VPIO_ERR(VFIO_MOD, "cannot open %s: %s", path, strerror(err));
		return err == ENOENT ? -ENODEV : -err;
	}
	ver = ioctl(fd, VFIO_GET_API_VERSION);
	if (ver != VFIO_API_VERSION) {
		VPIO_ERR(VFIO_MOD, "%s is not a VFIO container or speaks API version %d (vpio needs %d)", path, ver,
			 VFIO_API_VERSION);
		close(fd);
		return -EINVAL;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0 &&
	    ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) <= 0) {
		VPIO_ERR(VFIO_MOD, "the kernel's VFIO supports neither the Type1v2 IOMMU nor no-IOMMU mode; load vfio_iommu_type1");
		close(fd);
		return -ENOTSUP;
	}
	*pfd = fd;
	return 0;
}

bool vpio_vfio_available(void)
{
	char path[300];
	int fd, ver;

	snprintf(path, sizeof(path), "%s/vfio", g_dev_root);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	ver = ioctl(fd, VFIO_GET_API_VERSION);
	close(fd);
	return ver == VFIO_API_VERSION;
}

int vpio_vfio_container_get(struct vpio_vfio_container **pc)
{
	struct vpio_vfio_container *c;
	int rc, fd;

	vpio_vfio_lock();
	if (g_container != NULL) {
		*pc = g_container;
		vpio_vfio_unlock();
		return 0;
	}
	rc = open_container(&fd);
	if (rc != 0) {
		vpio_vfio_unlock();
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		vpio_vfio_unlock();
		close(fd);
		VPIO_ERR(VFIO_MOD, "out of memory for the VFIO container");
		return -ENOMEM;
	}
	c->fd = fd;
	g_container = c;
	*pc = c;
	vpio_vfio_unlock();
	return 0;
}

VPIO_ABI_SIZE(struct vpio_vfio_iommu_info, 304);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, noiommu, 8);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, pgsize_bitmap, 16);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, n_ranges, 24);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, ranges, 32);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, has_dma_avail, 288);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, dma_avail, 292);
VPIO_ABI_FIELD(struct vpio_vfio_iommu_info, cache_coherent, 296);

int vpio_vfio_container_info_sized(struct vpio_vfio_container *c, struct vpio_vfio_iommu_info *info,
				   size_t info_size)
{
	struct vpio_vfio_iommu_info copy;
	bool have;

	if (vpio_struct_out_check(VFIO_MOD, "vpio_vfio_container_info", info, info_size) != 0)
		return -EINVAL;
	vpio_vfio_lock();
	have = c != NULL && c->has_iommu;
	if (have)
		copy = c->info;
	vpio_vfio_unlock();
	if (!have) {
		VPIO_ERR(VFIO_MOD, "no IOMMU facts yet: open a device first (its group gives the container an IOMMU)");
		return -ENODEV;
	}
	return vpio_struct_export(VFIO_MOD, "vpio_vfio_container_info", info, info_size, &copy, sizeof(copy));
}

/* ------------------------------------------------------- IOMMU facts */

int vpio_vfio_parse_iommu_info(const void *buf, size_t len, struct vpio_vfio_iommu_info *info)
{
	const struct vfio_iommu_type1_info *ti = buf;
	uint32_t off;

	if (len < sizeof(*ti))
		return -EINVAL;
	if (ti->flags & VFIO_IOMMU_INFO_PGSIZES)
		info->pgsize_bitmap = ti->iova_pgsizes;
	if (!(ti->flags & VFIO_IOMMU_INFO_CAPS))
		return 0;
	for (off = ti->cap_offset; off != 0;) {
		const struct vfio_info_cap_header *h;

		if (off < sizeof(*ti) || off > len - sizeof(*h) || off % 4 != 0) {
			VPIO_ERR(VFIO_MOD, "malformed IOMMU capability chain (offset %u of %zu)", off, len);
			return -EINVAL;
		}
		h = (const void *)((const char *)buf + off);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			const struct vfio_iommu_type1_info_cap_iova_range *r = (const void *)h;
			uint32_t n = r->nr_iovas;

			if (off + sizeof(*r) + (uint64_t)n * sizeof(r->iova_ranges[0]) > len)
				return -EINVAL;
			if (n > VPIO_VFIO_MAX_RANGES) {
				VPIO_WARN(VFIO_MOD, "the IOMMU reports %u IOVA ranges; using the first %d", n,
					  VPIO_VFIO_MAX_RANGES);
				n = VPIO_VFIO_MAX_RANGES;
			}
			info->n_ranges = n;
			for (uint32_t i = 0; i < n; i++) {
				info->ranges[i].start = r->iova_ranges[i].start;
				info->ranges[i].end = r->iova_ranges[i].end;
			}
		} else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			const struct vfio_iommu_type1_info_dma_avail *d = (const void *)h;

			if (off + sizeof(*d) > len)
				return -EINVAL;
			info->has_dma_avail = true;
			info->dma_avail = d->avail;
		}
		if (h->next != 0 && h->next <= off) {
			VPIO_ERR(VFIO_MOD, "malformed IOMMU capability chain (loop at %u)", off);
			return -EINVAL;
		}
		off = h->next;
	}
	return 0;
}

static int query_iommu(struct vpio_vfio_container *c)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	void *buf;
	int rc;

	c->info.noiommu = c->noiommu;
	c->info.cache_coherent = ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU) > 0;
	if (c->noiommu)
		return 0;
	if (ioctl(c->fd, VFIO_IOMMU_GET_INFO, &probe) != 0) {
		VPIO_ERR(VFIO_MOD, "VFIO_IOMMU_GET_INFO failed: %s", strerror(errno));
		return -errno;
	}
	buf = calloc(1, probe.argsz);
	if (buf == NULL)
		return -ENOMEM;
	((struct vfio_iommu_type1_info *)buf)->argsz = probe.argsz;
	rc = ioctl(c->fd, VFIO_IOMMU_GET_INFO, buf) == 0 ? 0 : -errno;
	if (rc == 0)
		rc = vpio_vfio_parse_iommu_info(buf, probe.argsz, &c->info);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------- DMA */

void vpio_vfio_log_memlock_hint(uint64_t len)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		VPIO_ERR(VFIO_MOD, "cannot pin 0x%llx bytes: the locked-memory limit is %llu KiB ('ulimit -l'); raise it ('ulimit -l unlimited', or scripts/setup.sh with TARGET_USER=$USER)",
			 (unsigned long long)len, (unsigned long long)(rl.rlim_cur >> 10));
	else
		VPIO_ERR(VFIO_MOD, "cannot pin 0x%llx bytes for DMA: out of memory", (unsigned long long)len);
}

int vpio_vfio_dma_map(struct vpio_vfio_container *c, uint64_t vaddr, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = vaddr,
		.iova = iova,
		.size = len,
	};
	int err;

	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &m) == 0)
		return 0;
	err = errno;
	if (err == ENOMEM)
		vpio_vfio_log_memlock_hint(len);
	/* type1 says ENOSPC when dma_entry_limit is reached; the registry
	 * logs that one with the fix. */
	return -err;
}

int vpio_vfio_dma_unmap(struct vpio_vfio_container *c, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = len };

	if (ioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u) != 0) {
		VPIO_ERR(VFIO_MOD, "DMA unmap of iova 0x%llx+0x%llx failed: %s", (unsigned long long)iova,
			 (unsigned long long)len, strerror(errno));
		return -errno;
	}
	return 0;
}

static int target_map(void *ctx, uint64_t vaddr, uint64_t iova, uint64_t len)
{
	return vpio_vfio_dma_map(ctx, vaddr, iova, len);
}

static int target_unmap(void *ctx, uint64_t iova, uint64_t len)
{
	return vpio_vfio_dma_unmap(ctx, iova, len);
}

static const struct vpio_dma_target_ops g_target_ops = { .map = target_map, .unmap = target_unmap };

/* Called when the first group joined: set the IOMMU, learn its facts,
 * map all registered memory. */
int vpio_vfio_container_set_iommu(struct vpio_vfio_container *c, bool noiommu)
{
	struct vpio_dma_target_desc d = { .name = "VFIO container" };
	int type = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	int rc;

	if (ioctl(c->fd, VFIO_SET_IOMMU, type) != 0) {
		rc = -errno;
		if (rc == -EPERM && !noiommu)
			VPIO_ERR(VFIO_MOD, "VFIO_SET_IOMMU(Type1v2) refused: the IOMMU has no interrupt remapping (e.g. virtio-iommu); load vfio_iommu_type1 with allow_unsafe_interrupts=1 if you trust the device");
		else
			VPIO_ERR(VFIO_MOD, "VFIO_SET_IOMMU(%s) failed: %s", noiommu ? "no-IOMMU" : "Type1v2", strerror(errno));
		return rc;
	}
	c->has_iommu = true;
	c->noiommu = noiommu;
	memset(&c->info, 0, sizeof(c->info));
	rc = query_iommu(c);
	if (rc != 0)
		return rc;
	d.noiommu = noiommu;
	d.n_ranges = c->info.n_ranges;
	for (uint32_t i = 0; i < d.n_ranges; i++) {
		d.ranges[i][0] = c->info.ranges[i].start;
		d.ranges[i][1] = c->info.ranges[i].end;
	}
	d.has_dma_avail = c->info.has_dma_avail;
	d.dma_avail = c->info.dma_avail;
	rc = vpio_mem_dma_target_add(&g_target_ops, c, &d);
	if (rc == 0)
		c->dma_target = true;
	return rc;
}

/* The last group left: stop being a DMA target (mappings go with the IOMMU). */
void vpio_vfio_container_drop_iommu(struct vpio_vfio_container *c)
{
	if (c->dma_target)
		vpio_mem_dma_target_remove(c);
	c->dma_target = false;
	c->has_iommu = false;
}
