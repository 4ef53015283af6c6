/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pci against a fake sysfs tree built in a temp dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vpio/pci.h>

#include "common/vpio_test.h"

static char g_root[256];

static void put(const char *dev, const char *attr, const char *val)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", g_root, dev, attr);
	f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%s\n", val);
		fclose(f);
	}
}

static void mkdev(const char *dev, const char *vendor, const char *device, const char *cls, const char *driver,
		  int group, const char *numa)
{
	char path[512], target[512];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", g_root, dev);
	mkdir(path, 0755);
	put(dev, "vendor", vendor);
	put(dev, "device", device);
	put(dev, "class", cls);
	put(dev, "subsystem_vendor", "0x1af4");
	put(dev, "subsystem_device", "0x1100");
	if (numa != NULL)
		put(dev, "numa_node", numa);
	if (driver != NULL) {
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", g_root, dev);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		symlink(target, path);
	}
	if (group >= 0) {
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", g_root, dev);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
		symlink(target, path);
	}
}

static int suite_init(void)
{
	char path[300];

	snprintf(g_root, sizeof(g_root), "/tmp/vpio-fakesys.XXXXXX");
	if (mkdtemp(g_root) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/bus", g_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/pci", g_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", g_root);
	mkdir(path, 0755);
	/* listed out of order on purpose */
	mkdev("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 7, "0");
	mkdev("0000:00:03.0", "0x1b36", "0x0010", "0x010802", "nvme", 5, "-1");
	mkdev("0000:00:02.0", "0x10ee", "0x9038", "0x058000", NULL, -1, NULL);
	mkdev("0001:3a:00.1", "0x8086", "0x1572", "0x020000", "i40e", 12, "1");
	snprintf(path, sizeof(path), "%s/bus/pci/devices/not-a-device", g_root);
	mkdir(path, 0755);
	vpio_pci_set_sysfs_root(g_root);
	return 0;
}

static int suite_fini(void)
{
	char cmd[400];

	vpio_pci_set_sysfs_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_addr_parse(void)
{
	struct vpio_pci_addr a;
	char buf[VPIO_PCI_ADDR_STRLEN];

	CU_ASSERT_EQUAL(vpio_pci_addr_parse("0000:00:03.0", &a), 0);
	CU_ASSERT_EQUAL(a.bus, 0);
	CU_ASSERT_EQUAL(a.dev, 3);
	CU_ASSERT_EQUAL(vpio_pci_addr_parse("3a:1f.7", &a), 0);
	CU_ASSERT_EQUAL(a.domain, 0);
	CU_ASSERT_EQUAL(a.bus, 0x3a);
	CU_ASSERT_EQUAL(a.dev, 0x1f);
	CU_ASSERT_EQUAL(a.func, 7);
	vpio_pci_addr_fmt(buf, sizeof(buf), &a);
	CU_ASSERT_STRING_EQUAL(buf, "0000:3a:1f.7");
	CU_ASSERT_EQUAL(vpio_pci_addr_parse("0000:00:20.0", &a), -EINVAL); /* device > 31 */
	CU_ASSERT_EQUAL(vpio_pci_addr_parse("0000:00:03.8", &a), -EINVAL); /* function > 7 */
	CU_ASSERT_EQUAL(vpio_pci_addr_parse("0000:00:03.0x", &a), -EINVAL);
	CU_ASSERT_EQUAL(vpio_pci_addr_parse("emu:nvme", &a), -EINVAL);
	CU_ASSERT_EQUAL(vpio_pci_addr_parse("", &a), -EINVAL);
	CU_ASSERT_EQUAL(vpio_pci_addr_parse(NULL, &a), -EINVAL);
	CU_ASSERT(vpio_pci_name_is_emulated("emu:nvme0"));
	CU_ASSERT(!vpio_pci_name_is_emulated("0000:00:03.0"));
}

static void test_get_info(void)
{
	struct vpio_pci_addr a;
	struct vpio_pci_info info;

	vpio_pci_addr_parse("0000:00:04.0", &a);
	CU_ASSERT_EQUAL(vpio_pci_get_info(&a, &info), 0);
	CU_ASSERT_EQUAL(info.vendor_id, 0x1b36);
	CU_ASSERT_EQUAL(info.device_id, 0x0010);
	CU_ASSERT_EQUAL(info.class_code, VPIO_PCI_CLASS_NVME);
	CU_ASSERT_EQUAL(info.subvendor_id, 0x1af4);
	CU_ASSERT_EQUAL(info.iommu_group, 7);
	CU_ASSERT_EQUAL(info.numa_node, 0);
	CU_ASSERT_STRING_EQUAL(info.driver, "vfio-pci");
	vpio_pci_addr_parse("0000:00:03.0", &a);
	CU_ASSERT_EQUAL(vpio_pci_get_info(&a, &info), 0);
	CU_ASSERT_EQUAL(info.numa_node, -1);
	CU_ASSERT_STRING_EQUAL(info.driver, "nvme");
	vpio_pci_addr_parse("0000:00:02.0", &a);
	CU_ASSERT_EQUAL(vpio_pci_get_info(&a, &info), 0);
	CU_ASSERT_EQUAL(info.iommu_group, -1);
	CU_ASSERT_EQUAL(info.numa_node, -1);
	CU_ASSERT_STRING_EQUAL(info.driver, "");
	vpio_pci_addr_parse("0000:00:09.0", &a);
	CU_ASSERT_EQUAL(vpio_pci_get_info(&a, &info), -ENODEV);
}

struct collect {
	int n;
	char names[8][VPIO_PCI_ADDR_STRLEN];
	int stop_after;
};

static int collect_cb(void *ctx, const struct vpio_pci_info *info)
{
	struct collect *c = ctx;

	vpio_pci_addr_fmt(c->names[c->n], sizeof(c->names[0]), &info->addr);
	c->n++;
	return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

static void test_enumerate_sorted(void)
{
	struct collect c = { 0 };

	CU_ASSERT_EQUAL(vpio_pci_enumerate(collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 4);
	CU_ASSERT_STRING_EQUAL(c.names[0], "0000:00:02.0");
	CU_ASSERT_STRING_EQUAL(c.names[1], "0000:00:03.0");
	CU_ASSERT_STRING_EQUAL(c.names[2], "0000:00:04.0");
	CU_ASSERT_STRING_EQUAL(c.names[3], "0001:3a:00.1");
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	CU_ASSERT_EQUAL(vpio_pci_enumerate(collect_cb, &c), 42);
	CU_ASSERT_EQUAL(c.n, 2);
}

static int match_cb(void *ctx, const struct vpio_pci_info *info)
{
	const struct vpio_pci_match *m = ((const struct vpio_pci_match **)ctx)[0];
	int *count = ((int **)ctx)[1];

	if (vpio_pci_match(m, info))
		(*count)++;
	return 0;
}

static void test_match(void)
{
	struct vpio_pci_addr a;
	struct vpio_pci_match nvme = { VPIO_PCI_ANY_ID, VPIO_PCI_ANY_ID, VPIO_PCI_CLASS_NVME, 0xffffff, NULL };
	struct vpio_pci_match xil = { 0x10ee, VPIO_PCI_ANY_ID, 0, 0, NULL };
	struct vpio_pci_match one = { VPIO_PCI_ANY_ID, VPIO_PCI_ANY_ID, 0, 0, &a };
	struct vpio_pci_match storage = { VPIO_PCI_ANY_ID, VPIO_PCI_ANY_ID, 0x010000, 0xff0000, NULL };
	int count = 0;
	void *ctx[2] = { &nvme, &count };

	vpio_pci_enumerate(match_cb, ctx);
	CU_ASSERT_EQUAL(count, 2);
	count = 0;
	ctx[0] = &xil;
	vpio_pci_enumerate(match_cb, ctx);
	CU_ASSERT_EQUAL(count, 1);
	count = 0;
	ctx[0] = &storage;
	vpio_pci_enumerate(match_cb, ctx);
	CU_ASSERT_EQUAL(count, 2);
	count = 0;
	vpio_pci_addr_parse("0001:3a:00.1", &a);
	ctx[0] = &one;
	vpio_pci_enumerate(match_cb, ctx);
	CU_ASSERT_EQUAL(count, 1);
}

static void test_open_errors(void)
{
	struct vpio_pci_device *dev = NULL;

	vpio_test_log_capture();
	/* bound to the kernel's nvme driver: name the fix */
	CU_ASSERT_EQUAL(vpio_pci_device_open("0000:00:03.0", &dev), -EBUSY);
	CU_ASSERT(vpio_test_log_has("bound to nvme, not vfio-pci"));
	CU_ASSERT(vpio_test_log_has("scripts/setup.sh"));
	CU_ASSERT_EQUAL(vpio_pci_device_open("0000:00:02.0", &dev), -EBUSY);
	CU_ASSERT(vpio_test_log_has("not bound to any driver"));
	CU_ASSERT_EQUAL(vpio_pci_device_open("0000:00:09.0", &dev), -ENODEV);
	CU_ASSERT(vpio_test_log_has("no PCI device 0000:00:09.0"));
	CU_ASSERT_EQUAL(vpio_pci_device_open("nvme0", &dev), -EINVAL);
	CU_ASSERT(vpio_test_log_has("neither a PCI address"));
	CU_ASSERT_EQUAL(vpio_pci_device_open(NULL, &dev), -EINVAL);
	vpio_test_log_release();
	CU_ASSERT_PTR_NULL(dev);
}

static int reg(void)
{
	VPIO_SUITE("pci_sysfs", suite_init, suite_fini);
	VPIO_TEST(test_addr_parse);
	VPIO_TEST(test_get_info);
	VPIO_TEST(test_enumerate_sorted);
	VPIO_TEST(test_match);
	VPIO_TEST(test_open_errors);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
