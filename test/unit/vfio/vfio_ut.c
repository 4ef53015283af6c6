/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/vfio paths that run without VFIO: missing or bogus device nodes, a
 * device without an IOMMU group, the IOMMU capability chain parser, the
 * locked-memory hint, and the container's group list used from several
 * threads (with the kernel side of joining faked). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <vpio/pci.h>

#include "common/vpio_test.h"
#include "vfio/vfio_internal.h"

static char g_dir[256];

static int suite_init(void)
{
	char path[512];

	snprintf(g_dir, sizeof(g_dir), "/tmp/vpio-fakevfio.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	/* a fake sysfs: one device bound to vfio-pci but without an IOMMU group */
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:05.0", g_dir);
	if (system("true") != 0)
		return -1;
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && echo 0x1b36 > %s/vendor && echo 0x0010 > %s/device && echo 0x010802 > %s/class && ln -s ../../../bus/pci/drivers/vfio-pci %s/driver && mkdir -p %s/dev",
		 path, path, path, path, path, g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int suite_fini(void)
{
	char cmd[400];

	vpio_vfio_set_dev_root(NULL);
	vpio_pci_set_sysfs_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_no_vfio_node(void)
{
	struct vpio_vfio_container *c;
	char path[300];

	snprintf(path, sizeof(path), "%s/dev", g_dir);
	vpio_vfio_set_dev_root(path);
	CU_ASSERT(!vpio_vfio_available());
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_vfio_container_get(&c), -ENODEV);
	CU_ASSERT(vpio_test_log_has("modprobe vfio-pci"));
	vpio_test_log_release();
}

static void test_bogus_container_node(void)
{
	struct vpio_vfio_container *c;
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/dev/vfio", g_dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT(!vpio_vfio_available());
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_vfio_container_get(&c), -EINVAL);
	CU_ASSERT(vpio_test_log_has("is not a VFIO container"));
	vpio_test_log_release();
	unlink(path);
}

static void test_no_iommu_group(void)
{
	struct vpio_pci_device *dev = NULL;
	char path[300];

	snprintf(path, sizeof(path), "%s/sys", g_dir);
	vpio_pci_set_sysfs_root(path);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_pci_device_open("0000:00:05.0", &dev), -ENODEV);
	CU_ASSERT(vpio_test_log_has("has no IOMMU group"));
	CU_ASSERT(vpio_test_log_has("NOIOMMU=yes"));
	vpio_test_log_release();
	CU_ASSERT_PTR_NULL(dev);
}

static void test_info_before_group(void)
{
	struct vpio_vfio_iommu_info info;

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_vfio_container_info(NULL, &info), -ENODEV);
	CU_ASSERT(vpio_test_log_has("open a device first"));
	vpio_test_log_release();
}

/* A VFIO_IOMMU_GET_INFO answer with an IOVA-range and a DMA-avail cap. */
static size_t build_info(unsigned char *buf, size_t len)
{
	struct vfio_iommu_type1_info *ti = (void *)buf;
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vfio_iommu_type1_info_dma_avail *d;
	size_t off = sizeof(*ti);

	memset(buf, 0, len);
	ti->argsz = (uint32_t)len;
	ti->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	ti->iova_pgsizes = 0x40201000ULL;
	off = (off + 7) & ~7UL;
	ti->cap_offset = (uint32_t)off;
	r = (void *)(buf + off);
	r->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	r->nr_iovas = 2;
	r->iova_ranges[0].start = 0;
	r->iova_ranges[0].end = 0xfedfffff;
	r->iova_ranges[1].start = 0xfef00000;
	r->iova_ranges[1].end = (1ULL << 39) - 1;
	off += sizeof(*r) + 2 * sizeof(r->iova_ranges[0]);
	r->header.next = (uint32_t)off;
	d = (void *)(buf + off);
	d->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	d->avail = 65535;
	off += sizeof(*d);
	return off;
}

static void test_parse_iommu_info(void)
{
	unsigned char buf[256];
	struct vpio_vfio_iommu_info info;
	size_t len = build_info(buf, sizeof(buf));
	struct vfio_iommu_type1_info *ti = (void *)buf;

	memset(&info, 0, sizeof(info));
	CU_ASSERT_EQUAL(vpio_vfio_parse_iommu_info(buf, len, &info), 0);
	CU_ASSERT_EQUAL(info.pgsize_bitmap, 0x40201000ULL);
	CU_ASSERT_EQUAL(info.n_ranges, 2);
	CU_ASSERT_EQUAL(info.ranges[1].start, 0xfef00000ULL);
	CU_ASSERT_EQUAL(info.ranges[1].end, (1ULL << 39) - 1);
	CU_ASSERT(info.has_dma_avail);
	CU_ASSERT_EQUAL(info.dma_avail, 65535);
	/* a chain that loops back, or points outside the buffer, is refused */
	vpio_test_log_capture();
	build_info(buf, sizeof(buf));
	((struct vfio_info_cap_header *)(buf + ti->cap_offset))->next = ti->cap_offset;
	CU_ASSERT_EQUAL(vpio_vfio_parse_iommu_info(buf, len, &info), -EINVAL);
	build_info(buf, sizeof(buf));
	ti->cap_offset = 250;
	CU_ASSERT_EQUAL(vpio_vfio_parse_iommu_info(buf, len, &info), -EINVAL);
	build_info(buf, sizeof(buf));
	((struct vfio_iommu_type1_info_cap_iova_range *)(buf + ti->cap_offset))->nr_iovas = 1000;
	CU_ASSERT_EQUAL(vpio_vfio_parse_iommu_info(buf, len, &info), -EINVAL);
	CU_ASSERT_EQUAL(vpio_vfio_parse_iommu_info(buf, 4, &info), -EINVAL);
	vpio_test_log_release();
}

static void test_memlock_hint(void)
{
	struct rlimit old, low = { 64 * 1024, 64 * 1024 };

	getrlimit(RLIMIT_MEMLOCK, &old);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_MEMLOCK, &low) == 0);
	vpio_test_log_capture();
	vpio_vfio_log_memlock_hint(1 << 20);
	CU_ASSERT(vpio_test_log_has("ulimit -l"));
	CU_ASSERT(vpio_test_log_has("64 KiB"));
	vpio_test_log_release();
	setrlimit(RLIMIT_MEMLOCK, &old);
}

/* ------------------------------------------- group list, many threads */

#define GL_IDS 3
#define GL_THREADS 8
#define GL_ROUNDS 3000

static struct vpio_vfio_container g_gl_c;
static int g_gl_joined[GL_IDS];	/* 1 while the fake kernel holds group id */
static int g_gl_in_kernel;	/* groups joined in the fake kernel */
static unsigned g_gl_joins, g_gl_leaves, g_gl_errors;

static int fake_join(struct vpio_vfio_container *c, int id, int *fd, bool *noiommu)
{
	(void)c;
	/* a group joins once while it is in the list; a second join means
	 * two threads missed each other in the list */
	if (__atomic_exchange_n(&g_gl_joined[id], 1, __ATOMIC_SEQ_CST) != 0)
		__atomic_add_fetch(&g_gl_errors, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&g_gl_in_kernel, 1, __ATOMIC_SEQ_CST);
	sched_yield(); /* the kernel takes its time: widen the window */
	__atomic_add_fetch(&g_gl_joins, 1, __ATOMIC_SEQ_CST);
	*fd = 100 + id;
	*noiommu = false;
	return 0;
}

static void fake_leave(struct vpio_vfio_container *c, int fd, bool last)
{
	int id = fd - 100;
	int left = __atomic_sub_fetch(&g_gl_in_kernel, 1, __ATOMIC_SEQ_CST);

	(void)c;
	if (id < 0 || id >= GL_IDS || __atomic_exchange_n(&g_gl_joined[id], 0, __ATOMIC_SEQ_CST) != 1)
		__atomic_add_fetch(&g_gl_errors, 1, __ATOMIC_SEQ_CST); /* left twice, or never joined */
	if (last != (left == 0))
		__atomic_add_fetch(&g_gl_errors, 1, __ATOMIC_SEQ_CST); /* "last" must mean the last */
	sched_yield();
	__atomic_add_fetch(&g_gl_leaves, 1, __ATOMIC_SEQ_CST);
}

static void *group_worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < GL_ROUNDS; i++) {
		struct vpio_vfio_group *g;
		int id = (int)((i + t) % GL_IDS);

		if (vpio_vfio_group_get(&g_gl_c, id, &g) != 0 || g->id != id || g->fd != 100 + id) {
			__atomic_add_fetch(&g_gl_errors, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (i % 7 == 0)
			sched_yield();
		vpio_vfio_group_put(&g_gl_c, g);
	}
	return NULL;
}

static void test_group_list_threads(void)
{
	static const struct vpio_vfio_group_kernel_ops fake = { .join = fake_join, .leave = fake_leave };
	const struct vpio_vfio_group_kernel_ops *saved = vpio_vfio_group_kops;
	pthread_t th[GL_THREADS];

	vpio_vfio_group_kops = &fake;
	for (unsigned t = 0; t < GL_THREADS; t++)
		CU_ASSERT_FATAL(pthread_create(&th[t], NULL, group_worker, (void *)(uintptr_t)t) == 0);
	for (unsigned t = 0; t < GL_THREADS; t++)
		pthread_join(th[t], NULL);
	vpio_vfio_group_kops = saved;
	CU_ASSERT_EQUAL(g_gl_errors, 0);
	CU_ASSERT_PTR_NULL(g_gl_c.groups); /* every reference dropped: every group left */
	CU_ASSERT_EQUAL(g_gl_joins, g_gl_leaves);
	CU_ASSERT(g_gl_joins > 0);
	CU_ASSERT_EQUAL(g_gl_in_kernel, 0);
}

static int reg(void)
{
	VPIO_SUITE("vfio", suite_init, suite_fini);
	VPIO_TEST(test_no_vfio_node);
	VPIO_TEST(test_bogus_container_node);
	VPIO_TEST(test_no_iommu_group);
	VPIO_TEST(test_info_before_group);
	VPIO_TEST(test_parse_iommu_info);
	VPIO_TEST(test_memlock_hint);
	VPIO_TEST(test_group_list_threads);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
